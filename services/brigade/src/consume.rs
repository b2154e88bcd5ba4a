//! What the brigade does with the county's events: each step of its referrals goes into the
//! case's history, and a department's result closes the case and is kept as a copy (抄告).

use chrono::{DateTime, Utc};
use liandong_domain::state::CaseAction;
use liandong_domain::state::CaseStatus;
use liandong_plumbing::bus::{Handler, HandlerError, decode_payload};
use liandong_plumbing::grpc::event_actor_label;
use liandong_plumbing::store::Tx;
use liandong_proto::events::v1 as ev;

use crate::store::{self, CaseRef, ResultCopy};

/// Applies `county.*` events about referrals the brigade sent.
#[derive(Debug, Clone, Copy)]
pub struct CountyEvents;

impl Handler for CountyEvents {
    async fn handle(
        &self,
        tx: &mut Tx,
        env: &ev::Envelope,
        now: DateTime<Utc>,
    ) -> Result<(), HandlerError> {
        let who = event_actor_label(env.actor.as_ref());
        let (referral_id, kind, detail, status) = match env.event_type.as_str() {
            "county.referral_signed_for" => {
                let e: ev::ReferralSignedFor = decode_payload(env)?;
                (
                    e.referral_id,
                    "referral_signed_for",
                    format!("{} 签收", env.department),
                    "signed_for",
                )
            }
            "county.referral_accepted" => {
                let e: ev::ReferralAccepted = decode_payload(env)?;
                (
                    e.referral_id,
                    "referral_accepted",
                    format!("{} 受理", env.department),
                    "accepted",
                )
            }
            "county.referral_assigned" => {
                let e: ev::ReferralAssigned = decode_payload(env)?;
                let staff = e.staff.join("、");
                (
                    e.referral_id,
                    "referral_assigned",
                    format!("{} 安排人员调查处理：{staff}", env.department),
                    "assigned",
                )
            }
            "county.referral_returned" => {
                let e: ev::ReferralReturned = decode_payload(env)?;
                let what = if e.not_competent {
                    "以非本部门职权退回"
                } else {
                    "退回"
                };
                let detail = format!(
                    "{} {what}，理由：{}；提请联席会议协调",
                    env.department, e.reason
                );
                (e.referral_id, "referral_returned", detail, "returned")
            }
            "county.referral_concluded" => {
                let e: ev::ReferralConcluded = decode_payload(env)?;
                return conclude(tx, env, e, &who, now).await;
            }
            other => {
                tracing::debug!(
                    event_type = other,
                    "The brigade does not act on this county event."
                );
                return Ok(());
            }
        };
        let Some(r) = store::referral(tx, &referral_id).await? else {
            return Err(HandlerError::Reject(format!(
                "no referral {referral_id} was sent by this brigade"
            )));
        };
        store::set_referral_status(tx, &referral_id, status, now).await?;
        store::add_history(
            tx,
            CaseRef {
                case_id: &r.case_id,
                town: &r.town,
            },
            now,
            kind,
            &who,
            &detail,
            Some(&env.event_id),
        )
        .await?;
        Ok(())
    }
}

async fn conclude(
    tx: &mut Tx,
    env: &ev::Envelope,
    e: ev::ReferralConcluded,
    who: &str,
    now: DateTime<Utc>,
) -> Result<(), HandlerError> {
    let Some(r) = store::referral(tx, &e.referral_id).await? else {
        return Err(HandlerError::Reject(format!(
            "no referral {} was sent by this brigade",
            e.referral_id
        )));
    };
    let outcome = e.outcome.unwrap_or_default();
    let confiscated: Vec<(String, i64)> = outcome
        .confiscated
        .iter()
        .map(|c| (c.kind.clone(), c.count))
        .collect();
    store::insert_result_copy(
        tx,
        &ResultCopy {
            referral_id: &r.referral_id,
            case_id: &r.case_id,
            town: &r.town,
            department: &r.department,
            outcome_kind: &outcome.kind,
            fine_fen: outcome.fine_fen,
            confiscated: serde_json::to_string(&confiscated).expect("pairs serialise"),
            summary: &outcome.summary,
            concluded_by: who,
        },
        now,
    )
    .await?;
    store::set_referral_status(tx, &r.referral_id, "concluded", now).await?;
    let case = store::case_in_tx(tx, &r.case_id)
        .await?
        .ok_or_else(|| HandlerError::Reject(format!("no case {}", r.case_id)))?;
    let status =
        CaseStatus::parse(&case.status).map_err(|e| HandlerError::Reject(e.to_string()))?;
    match status.next(CaseAction::ResultReceived) {
        Ok(next) => store::set_status(tx, &r.case_id, next.as_str(), now).await?,
        // The result is kept all the same; the case had already moved on (reopened, say).
        Err(err) => {
            tracing::warn!(case_id = %r.case_id, error = %err, "A result arrived for a case that is not awaiting one.")
        }
    }
    let detail = format!(
        "{} 办结并反馈结果：{}（{}）",
        r.department, outcome.kind, outcome.summary
    );
    store::add_history(
        tx,
        CaseRef {
            case_id: &r.case_id,
            town: &r.town,
        },
        now,
        "result_received",
        who,
        &detail,
        Some(&env.event_id),
    )
    .await?;
    Ok(())
}
