//! What the review service does with others' events: a review request opens a review (or its
//! next round), and every registry change updates the copy the qualification check reads.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use liandong_bus::{Handler, HandlerError};
use liandong_domain::calendar::Calendar;
use liandong_domain::review::{REVIEW_WORKING_DAYS, ReviewStatus};
use liandong_proto::events::v1 as ev;
use liandong_proto::time::from_ts;
use liandong_store::Tx;
use liandong_topology::inbound::review::{FromBrigade, FromCounty};
use prost::Message;

use crate::store::{self, CertRow, ReviewRow, RoundRow};

/// Applies review requests and certificate changes, from the brigades and the departments.
#[derive(Debug, Clone)]
pub struct Events {
    pub calendar: Arc<Calendar>,
}

#[deny(clippy::wildcard_enum_match_arm)]
impl Handler<FromBrigade> for Events {
    async fn handle(
        &self,
        tx: &mut Tx,
        env: &ev::Envelope,
        event: FromBrigade,
        now: DateTime<Utc>,
    ) -> Result<(), HandlerError> {
        match event {
            FromBrigade::OfficerCertificateChanged(e) => certificate_changed(tx, e, now).await,
            FromBrigade::ReviewRequested(e) => self.requested(tx, env, e, now).await,
        }
    }
}

#[deny(clippy::wildcard_enum_match_arm)]
impl Handler<FromCounty> for Events {
    async fn handle(
        &self,
        tx: &mut Tx,
        env: &ev::Envelope,
        event: FromCounty,
        now: DateTime<Utc>,
    ) -> Result<(), HandlerError> {
        match event {
            FromCounty::OfficerCertificateChanged(e) => certificate_changed(tx, e, now).await,
            FromCounty::ReviewRequested(e) => self.requested(tx, env, e, now).await,
        }
    }
}

/// Keeps the copy of an agency's registry that the qualification check reads.
async fn certificate_changed(
    tx: &mut Tx,
    e: ev::OfficerCertificateChanged,
    now: DateTime<Utc>,
) -> Result<(), HandlerError> {
    let c = e.certificate.unwrap_or_default();
    store::upsert_certificate(
        tx,
        &CertRow {
            agency: e.agency,
            officer: c.officer,
            certificate_no: c.certificate_no,
            issuing_authority: c.issuing_authority,
            valid_from: c.valid_from,
            valid_until: c.valid_until,
            status: c.status,
            updated_at: now,
        },
    )
    .await?;
    Ok(())
}

impl Events {
    /// Opens the review, or its next round after a return. The time limit runs from the
    /// request: 7 working days by the domain calendar.
    async fn requested(
        &self,
        tx: &mut Tx,
        env: &ev::Envelope,
        e: ev::ReviewRequested,
        now: DateTime<Utc>,
    ) -> Result<(), HandlerError> {
        let requested_at = from_ts(env.occurred_at.as_ref()).unwrap_or(now);
        let due = self
            .calendar
            .add_working_days(requested_at, REVIEW_WORKING_DAYS);
        liandong_runtime::note_deadline(&due, "legal review time limit");
        let round = i64::from(e.round);
        let existing = store::review_in_tx(tx, &e.review_id).await?;
        let status = match &existing {
            None => ReviewStatus::Pending,
            // Rounds arrive in order; one already here is a replay.
            Some(r) if r.round >= round => return Ok(()),
            Some(r) => ReviewStatus::parse(&r.status)
                .map_err(|err| HandlerError::Reject(err.to_string()))?
                .resubmit()
                .map_err(|err| {
                    HandlerError::Reject(format!(
                        "round {round} of review {} cannot open: {err}",
                        e.review_id
                    ))
                })?,
        };
        store::upsert_review(
            tx,
            &ReviewRow {
                review_id: e.review_id.clone(),
                town: env.town.clone(),
                department: e.department.clone(),
                case_id: e.case_id.clone(),
                decided_in_name_of: e.decided_in_name_of.clone(),
                status: status.as_str().into(),
                round,
                requested_at,
                due_at: due.due,
                due_last_day: due.last_day.to_string(),
                // Each round is a request of its own, with its own time limit.
                extended: false,
                extension_reason: String::new(),
                extended_at: None,
                updated_at: now,
            },
        )
        .await?;
        store::upsert_round(
            tx,
            &RoundRow {
                review_id: e.review_id.clone(),
                round,
                materials: e.encode_to_vec(),
                requested_at,
                due_at: due.due,
                answers: "[]".into(),
                decision: String::new(),
                status: ReviewStatus::Pending.as_str().into(),
                note: String::new(),
                decided_by: String::new(),
                decided_at: None,
            },
        )
        .await?;
        tracing::info!(review_id = %e.review_id, round, due = %due.last_day, "A decision came for legal review.");
        Ok(())
    }
}
