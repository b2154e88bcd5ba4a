//! What the county does with others' events: referrals land in the addressed department's
//! inbox and withdrawn ones leave it, handed-over case files are kept, and the joint
//! meeting's tasks reach their departments.

use chrono::{DateTime, Utc};
use liandong_bus::{Handler, HandlerError, NewEvent, Outbox};
use liandong_domain::state::{ReferralAction, ReferralStatus};
use liandong_evidence::{EvidenceError, EvidenceStore, is_digest_ref};
use liandong_grpc::event_actor_label;
use liandong_proto::events::v1 as ev;
use liandong_proto::time::from_ts;
use liandong_record::{NewEntry, SYSTEM, Who};
use liandong_store::Tx;
use liandong_store::typed::{Json, Nullable, Proto};
use liandong_store::with_tx;
use liandong_topology::AnyEvent;
use liandong_topology::inbound::county::{FromBoard, FromBrigade};
use liandong_topology::names;

use crate::convert::{handover_row, task_row};
use crate::store::{self, ReferralRow};
use crate::task_store;

/// Applies `brigade.referral_dispatched`, `brigade.referral_withdrawn` and
/// `brigade.case_handed_over`; other brigade events are not the county's and change nothing.
#[derive(Debug, Clone)]
pub struct BrigadeEvents {
    pub outbox: Outbox,
    /// The store the brigade uploads evidence to, for checking handed-over evidence.
    pub evidence: EvidenceStore,
    /// The time limits, for the clocks a referral starts.
    pub clocks: crate::clocks::Clocks,
    /// The key registry, for the event signatures a handed-over record keeps.
    pub keys: liandong_bus::signing::KeyRegistry,
}

#[deny(clippy::wildcard_enum_match_arm)]
impl Handler<FromBrigade> for BrigadeEvents {
    async fn handle(
        &self,
        tx: &mut Tx,
        env: &ev::Envelope,
        event: FromBrigade,
        now: DateTime<Utc>,
    ) -> Result<(), HandlerError> {
        let who = event_actor_label(env.actor.as_ref());
        match event {
            FromBrigade::ReferralDispatched(e) => {
                let facts = e.facts.ok_or_else(|| {
                    HandlerError::Reject("a referral without the case's facts".into())
                })?;
                let row = ReferralRow {
                    referral_id: e.referral_id.clone(),
                    town: env.town.clone(),
                    case_id: facts.case_id.clone(),
                    department: e.department.clone(),
                    status: ReferralStatus::Dispatched,
                    dispatch_no: i64::from(e.dispatch_no),
                    facts: Proto(facts.clone()),
                    dispatched_at: from_ts(env.occurred_at.as_ref()).unwrap_or(now),
                    received_at: now,
                    signed_for_at: None,
                    accepted_at: None,
                    concluded_at: None,
                    staff: Json(Vec::new()),
                    return_reason: None,
                    outcome: Nullable(None),
                    updated_at: now,
                    reason: e.reason.clone(),
                };
                if store::insert(tx, &row).await? {
                    // The clocks start at dispatch, not at sign-for.
                    self.clocks.start(tx, &row, &facts.matters, now).await?;
                    let detail = format!(
                        "收到 {} 的移送（第{}次派发，{}）",
                        env.town, e.dispatch_no, e.reason
                    );
                    store::add_history(tx, &e.referral_id, now, "received", &who, &detail).await?;
                }
                Ok(())
            }
            FromBrigade::ReferralWithdrawn(e) => {
                let Some(mut row) = store::get_in_tx(tx, &e.referral_id).await? else {
                    return Err(HandlerError::Reject(format!(
                        "no referral {} to withdraw",
                        e.referral_id
                    )));
                };
                let status = row.status;
                match status.next(ReferralAction::Withdraw) {
                    Ok(next) => {
                        row.status = next;
                        row.updated_at = now;
                        store::update(tx, &row).await?;
                        let detail = format!("移送撤回：{}", e.reason);
                        store::add_history(tx, &e.referral_id, now, "withdrawn", &who, &detail)
                            .await?;
                        // The brigade's step, with its signed event, in the record of a file
                        // the department holds.
                        crate::record::enter_event(
                            tx,
                            &row.case_id,
                            &row.department,
                            now,
                            names::REFERRAL_WITHDRAWN,
                            &detail,
                            env,
                        )
                        .await?;
                    }
                    Err(err) => {
                        tracing::info!(referral_id = %e.referral_id, error = %err, "A withdrawal found the referral already closed.")
                    }
                }
                Ok(())
            }
            FromBrigade::CaseHandedOver(e) => {
                let mut reasons = evidence_failures(&self.evidence, &e.evidence_refs).await?;
                reasons.extend(crate::record::check_handed(&e, &env.town, &self.keys));
                handed_over(&self.outbox, tx, env, e, &who, now, reasons).await
            }
        }
    }
}

/// Checks every `sha256:` reference of a handover against the evidence store: one line per
/// reference that is missing or whose stored bytes no longer hash to it. References without
/// the prefix are free text and pass. A store that cannot be reached is no verdict on the
/// evidence, so the event is retried rather than refused.
async fn evidence_failures(
    store: &EvidenceStore,
    refs: &[String],
) -> Result<Vec<String>, HandlerError> {
    let mut reasons = Vec::new();
    for r in refs.iter().filter(|r| is_digest_ref(r)) {
        match store.verify(r).await {
            Ok(()) => {}
            Err(EvidenceError::Missing(_) | EvidenceError::BadDigest(_)) => {
                reasons.push(format!("{r}: missing"));
            }
            Err(EvidenceError::Mismatch { actual, .. }) => {
                reasons.push(format!("{r}: mismatch (stored content is {actual})"));
            }
            Err(e) => return Err(HandlerError::Retry(e.to_string())),
        }
    }
    Ok(reasons)
}

/// Keeps a handed-over case file and the head of the record it came with, notes it on the
/// referral, and acknowledges the head with `county.case_handover_received`, so that the
/// brigade holds proof of what the department holds. When evidence it cites failed its check
/// (`reasons`), the file is kept as refused, with the reasons, and answered with
/// `county.case_handover_refused` instead: the department never acknowledges a file whose
/// evidence is not what the brigade's record says it is.
async fn handed_over(
    outbox: &Outbox,
    tx: &mut Tx,
    env: &ev::Envelope,
    e: ev::CaseHandedOver,
    who: &str,
    now: DateTime<Utc>,
    reasons: Vec<String>,
) -> Result<(), HandlerError> {
    let row = handover_row(env, &e, now).map_err(HandlerError::Reject)?;
    if !task_store::insert_handover(tx, &row).await? {
        // A copy of a handover already kept: its acknowledgement went out with the first.
        return Ok(());
    }
    task_store::set_handover_head(tx, &row.handover_id, &e.record_head, e.record_length).await?;
    // The department reads the handover next to the referral it belongs to.
    let referral = store::latest_referral_of_case(tx, &row.case_id, &row.department).await?;
    if !reasons.is_empty() {
        return refused(
            outbox,
            tx,
            env,
            &row,
            referral.as_deref(),
            who,
            now,
            reasons,
        )
        .await;
    }
    let detail = format!(
        "收到案卷移交，{} 条记录、{} 份证据，记录链头 {}",
        e.record.len(),
        e.evidence_refs.len(),
        e.record_head
    );
    if let Some(referral_id) = referral {
        store::add_history(tx, &referral_id, now, "handed_over", who, &detail).await?;
    }
    // The department keeps the record from here on: the chain as handed over (it verified
    // against the head the handover names), then its receipt of the file as its first step.
    crate::record::keep_handed(tx, &row, &e.record).await?;
    crate::record::enter(
        tx,
        &row.case_id,
        &row.department,
        NewEntry {
            at: now,
            kind: "handover_received",
            who: &Who {
                officer: SYSTEM.into(),
                role: SYSTEM.into(),
                agency: format!("county:{}", row.department),
                certificate_no: String::new(),
            },
            detail: &detail,
            evidence_digests: e
                .evidence_refs
                .iter()
                .filter(|r| is_digest_ref(r))
                .map(|r| liandong_domain::record::evidence_digest(r))
                .collect(),
            event: Some(env),
        },
    )
    .await?;
    outbox
        .emit(
            tx,
            now,
            NewEvent {
                town: &row.town,
                department: Some(&row.department),
                aggregate_id: &row.handover_id,
                actor: None,
                causation_id: Some(&env.event_id),
            },
            AnyEvent::CountyCaseHandoverReceived(ev::CaseHandoverReceived {
                handover_id: row.handover_id.clone(),
                case_id: row.case_id.clone(),
                record_head: e.record_head.clone(),
                record_length: e.record_length,
                department: row.department.clone(),
            }),
        )
        .await?;
    Ok(())
}

/// Marks a handover refused with its reasons, notes it on the referral, and answers with
/// `county.case_handover_refused`, which the brigade enters in the case's record.
#[allow(clippy::too_many_arguments)]
async fn refused(
    outbox: &Outbox,
    tx: &mut Tx,
    env: &ev::Envelope,
    row: &task_store::HandoverRow,
    referral: Option<&str>,
    who: &str,
    now: DateTime<Utc>,
    reasons: Vec<String>,
) -> Result<(), HandlerError> {
    let json = serde_json::to_string(&reasons).expect("strings serialise");
    with_tx!(tx, |c| sqlx::query(
        "UPDATE handovers SET status = 'refused', refusal_reasons = $1 WHERE handover_id = $2"
    )
    .bind(&json)
    .bind(&row.handover_id)
    .execute(c)
    .await
    .map(|_| ()))?;
    if let Some(referral_id) = referral {
        let detail = format!("拒收案卷移交（证据校验未通过）：{}", reasons.join("；"));
        store::add_history(tx, referral_id, now, "handover_refused", who, &detail).await?;
    }
    tracing::warn!(handover_id = %row.handover_id, reasons = ?reasons, "A handover was refused: its evidence failed the check.");
    outbox
        .emit(
            tx,
            now,
            NewEvent {
                town: &row.town,
                department: Some(&row.department),
                aggregate_id: &row.handover_id,
                actor: None,
                causation_id: Some(&env.event_id),
            },
            AnyEvent::CountyCaseHandoverRefused(ev::CaseHandoverRefused {
                handover_id: row.handover_id.clone(),
                case_id: row.case_id.clone(),
                department: row.department.clone(),
                reasons,
            }),
        )
        .await?;
    Ok(())
}

/// Applies what the joint meeting sends the departments: a joint case's task lands, open,
/// with its department; the chair's answer to an extension request moves a clock's deadline
/// or closes the request.
#[derive(Debug, Clone)]
pub struct BoardEvents {
    pub clocks: crate::clocks::Clocks,
}

#[deny(clippy::wildcard_enum_match_arm)]
impl Handler<FromBoard> for BoardEvents {
    async fn handle(
        &self,
        tx: &mut Tx,
        env: &ev::Envelope,
        event: FromBoard,
        now: DateTime<Utc>,
    ) -> Result<(), HandlerError> {
        match event {
            FromBoard::TaskAssigned(e) => {
                let row = task_row(env, &e, now).map_err(HandlerError::Reject)?;
                if task_store::insert_task(tx, &row).await? {
                    tracing::info!(task_id = %row.task_id, department = %row.department, role = %row.role, "A joint-case task arrived.");
                }
                Ok(())
            }
            FromBoard::ExtensionGranted(e) => self.clocks.answered(tx, e, true, now).await,
            FromBoard::ExtensionRefused(e) => self.clocks.answered(tx, e, false, now).await,
        }
    }
}
