//! What the county does with others' events: referrals land in the addressed department's
//! inbox and withdrawn ones leave it, handed-over case files are kept, and the joint
//! meeting's tasks reach their departments.

use chrono::{DateTime, Utc};
use liandong_domain::state::{ReferralAction, ReferralStatus};
use liandong_plumbing::bus::{Handler, HandlerError, decode_payload};
use liandong_plumbing::grpc::event_actor_label;
use liandong_plumbing::store::Tx;
use liandong_plumbing::time::from_ts;
use liandong_proto::events::v1 as ev;
use prost::Message;

use crate::convert::{handover_row, task_row};
use crate::store::{self, ReferralRow};
use crate::task_store;

/// Applies `brigade.referral_dispatched`, `brigade.referral_withdrawn` and
/// `brigade.case_handed_over`; other brigade events are not the county's and change nothing.
#[derive(Debug, Clone, Copy)]
pub struct BrigadeEvents;

impl Handler for BrigadeEvents {
    async fn handle(
        &self,
        tx: &mut Tx,
        env: &ev::Envelope,
        now: DateTime<Utc>,
    ) -> Result<(), HandlerError> {
        let who = event_actor_label(env.actor.as_ref());
        match env.event_type.as_str() {
            "brigade.referral_dispatched" => {
                let e: ev::ReferralDispatched = decode_payload(env)?;
                let facts = e.facts.ok_or_else(|| {
                    HandlerError::Reject("a referral without the case's facts".into())
                })?;
                let row = ReferralRow {
                    referral_id: e.referral_id.clone(),
                    town: env.town.clone(),
                    case_id: facts.case_id.clone(),
                    department: e.department.clone(),
                    status: ReferralStatus::Dispatched.as_str().into(),
                    dispatch_no: i64::from(e.dispatch_no),
                    facts: facts.encode_to_vec(),
                    dispatched_at: from_ts(env.occurred_at.as_ref()).unwrap_or(now),
                    received_at: now,
                    signed_for_at: None,
                    accepted_at: None,
                    concluded_at: None,
                    staff: "[]".into(),
                    return_reason: None,
                    outcome: None,
                    updated_at: now,
                };
                if store::insert(tx, &row).await? {
                    let detail = format!(
                        "收到 {} 的移送（第{}次派发，{}）",
                        env.town, e.dispatch_no, e.reason
                    );
                    store::add_history(tx, &e.referral_id, now, "received", &who, &detail).await?;
                }
                Ok(())
            }
            "brigade.referral_withdrawn" => {
                let e: ev::ReferralWithdrawn = decode_payload(env)?;
                let Some(mut row) = store::get_in_tx(tx, &e.referral_id).await? else {
                    return Err(HandlerError::Reject(format!(
                        "no referral {} to withdraw",
                        e.referral_id
                    )));
                };
                let status = ReferralStatus::parse(&row.status)
                    .map_err(|e| HandlerError::Reject(e.to_string()))?;
                match status.next(ReferralAction::Withdraw) {
                    Ok(next) => {
                        row.status = next.as_str().into();
                        row.updated_at = now;
                        store::update(tx, &row).await?;
                        store::add_history(
                            tx,
                            &e.referral_id,
                            now,
                            "withdrawn",
                            &who,
                            &format!("移送撤回：{}", e.reason),
                        )
                        .await?;
                    }
                    Err(err) => {
                        tracing::info!(referral_id = %e.referral_id, error = %err, "A withdrawal found the referral already closed.")
                    }
                }
                Ok(())
            }
            "brigade.case_handed_over" => {
                let e: ev::CaseHandedOver = decode_payload(env)?;
                let row = handover_row(env, &e, now).map_err(HandlerError::Reject)?;
                if task_store::insert_handover(tx, &row).await? {
                    // The department reads the handover next to the referral it belongs to.
                    let referral =
                        store::latest_referral_of_case(tx, &row.case_id, &row.department).await?;
                    if let Some(referral_id) = referral {
                        let detail = format!(
                            "收到案卷移交，{} 条记录、{} 份证据",
                            e.record.len(),
                            e.evidence_refs.len()
                        );
                        store::add_history(tx, &referral_id, now, "handed_over", &who, &detail)
                            .await?;
                    }
                }
                Ok(())
            }
            _ => Ok(()),
        }
    }
}

/// Applies `board.task_assigned`: a joint case's task lands, open, with its department.
#[derive(Debug, Clone, Copy)]
pub struct BoardEvents;

impl Handler for BoardEvents {
    async fn handle(
        &self,
        tx: &mut Tx,
        env: &ev::Envelope,
        now: DateTime<Utc>,
    ) -> Result<(), HandlerError> {
        if env.event_type != "board.task_assigned" {
            return Ok(());
        }
        let e: ev::TaskAssigned = decode_payload(env)?;
        let row = task_row(env, &e, now).map_err(HandlerError::Reject)?;
        if task_store::insert_task(tx, &row).await? {
            tracing::info!(task_id = %row.task_id, department = %row.department, role = %row.role, "A joint-case task arrived.");
        }
        Ok(())
    }
}
