//! What the review service does with others' events: a review request opens a review (or its
//! next round), and every registry change updates the copy the qualification check reads.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use liandong_bus::{Handler, HandlerError};
use liandong_domain::calendar::Calendar;
use liandong_domain::certificates::CertificateStatus;
use liandong_domain::ids::OfficerId;
use liandong_domain::review::{REVIEW_WORKING_DAYS, ReviewStatus};
use liandong_proto::events::v1 as ev;
use liandong_proto::time::from_ts;
use liandong_store::Tx;
use liandong_store::typed::{Json, Nullable, Proto};
use liandong_topology::inbound::review::{FromBrigade, FromCounty};

use crate::store::{self, CertRow, Day, ReviewRow, RoundRow};

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
            FromBrigade::OfficerCertificateChanged(e) => certificate_changed(tx, env, e, now).await,
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
            FromCounty::OfficerCertificateChanged(e) => certificate_changed(tx, env, e, now).await,
            FromCounty::ReviewRequested(e) => self.requested(tx, env, e, now).await,
        }
    }
}

/// Keeps the copy of an agency's registry that the qualification check reads. A certificate
/// that does not read is refused, naming the event and the field: stored, it would make every
/// later qualification check of the officer fail with a broken row.
async fn certificate_changed(
    tx: &mut Tx,
    env: &ev::Envelope,
    e: ev::OfficerCertificateChanged,
    now: DateTime<Utc>,
) -> Result<(), HandlerError> {
    let bad = |field: &str, err: &dyn std::fmt::Display| {
        HandlerError::Reject(format!(
            "{} {}: certificate.{field}: {err}",
            env.event_type, env.event_id
        ))
    };
    let c = e
        .certificate
        .ok_or_else(|| bad("", &"the event carries no certificate"))?;
    let row = CertRow {
        agency: e.agency,
        officer: OfficerId::parse(&c.officer).map_err(|e| bad("officer", &e))?,
        certificate_no: c.certificate_no,
        issuing_authority: c.issuing_authority,
        valid_from: Day::parse(&c.valid_from).map_err(|e| bad("valid_from", &e))?,
        valid_until: Day::parse(&c.valid_until).map_err(|e| bad("valid_until", &e))?,
        status: CertificateStatus::parse(&c.status).map_err(|e| bad("status", &e))?,
        updated_at: now,
    };
    store::upsert_certificate(tx, &row).await?;
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
            Some(r) => r.status.resubmit().map_err(|err| {
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
                status,
                round,
                requested_at,
                due_at: due.due,
                due_last_day: due.last_day.to_string(),
                // Each round is a request of its own, with its own time limit.
                extended: false,
                extension_reason: String::new(),
                extended_at: None,
                updated_at: now,
                reviewing_department: e.reviewing_department.clone(),
            },
        )
        .await?;
        store::upsert_round(
            tx,
            &RoundRow {
                review_id: e.review_id.clone(),
                round,
                materials: Proto(e.clone()),
                requested_at,
                due_at: due.due,
                answers: Json(Vec::new()),
                decision: Nullable(None),
                status: ReviewStatus::Pending,
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
