//! What a change of a department's decision in force (变更 / 撤销) does once it takes effect,
//! shared by the commands that change a decision directly (`commands::change_decision`,
//! `commands::change_entrusted_decision`) and the legal office's approval of an amendment
//! (`review_answer`): the row's status and decision, the history, the announcement
//! (`county.decision_changed`, so that the disclosure service withdraws the decision's
//! disclosure, 行政处罚法 第四十八条, 第八十五条, and the brigade keeps the change in the case's
//! record), and the decision now in force. And the checks of a change request.

use chrono::{DateTime, Utc};
use liandong_bus::{NewEvent, Outbox};
use liandong_domain::decision_change::{ChangeInput, DecisionChange, check_change};
use liandong_domain::limits::Validator;
use liandong_domain::state::{ReferralStatus, TaskStatus};
use liandong_grpc::{ApiError, event_actor_label};
use liandong_proto::events::v1 as ev;
use liandong_record::{NewEntry, Who};
use liandong_store::Tx;
use liandong_store::typed::{Nullable, Proto};
use liandong_topology::AnyEvent;

use crate::context::Api;
use crate::store;
use crate::task_store::{self, TaskRow};

/// A change of a department's decision in force (变更 or 撤销), as it takes effect.
pub struct Decided<'a> {
    pub change: DecisionChange,
    pub reason: &'a str,
    /// The event of the decision in force, which the change replaces.
    pub superseded_event_id: &'a str,
    /// The new decision, for an amendment.
    pub amended: Option<&'a ev::Outcome>,
}

/// What a decision change is about: the referral or task (its event's aggregate) and the case
/// file the department holds.
struct Changed<'a> {
    /// The event that announces it: `decision_changed` or `entrusted_decision_changed`.
    event: fn(ev::DecisionChanged) -> AnyEvent,
    /// A joint case's agenda item (a task's change); empty for a referral's.
    item_id: &'a str,
    town: &'a str,
    department: &'a str,
    aggregate_id: &'a str,
    case_id: &'a str,
    facts: &'a ev::CaseFacts,
}

/// Announces a change that took effect (`decision_changed` on a referral,
/// `entrusted_decision_changed` on a task) with the head of the record the department holds,
/// and enters it in that record with `detail`; returns the event.
#[allow(clippy::too_many_arguments)]
async fn announce_change(
    tx: &mut Tx,
    outbox: &Outbox,
    now: DateTime<Utc>,
    on: Changed<'_>,
    d: &Decided<'_>,
    detail: &str,
    actor: ev::Actor,
    who: &Who,
    causation_id: Option<&str>,
) -> Result<ev::Envelope, sqlx::Error> {
    let facts = on.facts.clone();
    let held = crate::record::head_in_tx(tx, on.case_id, on.department).await?;
    let env = outbox
        .emit(
            tx,
            now,
            NewEvent {
                town: on.town,
                department: Some(on.department),
                aggregate_id: on.aggregate_id,
                actor: Some(actor),
                causation_id,
            },
            (on.event)(ev::DecisionChanged {
                case_id: on.case_id.into(),
                change: d.change.as_str().into(),
                reason: d.reason.into(),
                superseded_event_id: d.superseded_event_id.into(),
                outcome: d.amended.cloned(),
                matters: facts.matters,
                description: facts.description,
                held_record: held.as_ref().map(|h| h.head.clone()),
                item_id: on.item_id.into(),
            }),
        )
        .await?;
    crate::record::note_sent(tx, &env.event_id, held.as_ref()).await?;
    crate::record::enter(
        tx,
        on.case_id,
        on.department,
        NewEntry {
            at: now,
            kind: d.change.record_kind(),
            who,
            detail,
            evidence_digests: Vec::new(),
            event: Some(&env),
        },
    )
    .await?;
    Ok(env)
}

/// Changes the decision in force on a referral: the row's status and outcome,
/// `county.decision_changed` (the disclosure service withdraws the replaced decision's
/// disclosure, the brigade keeps the change), the decision it now carries, the history and the
/// record of the file held. Shared by a change the dispatcher makes directly and an amendment
/// the legal office approved.
#[allow(clippy::too_many_arguments)]
pub async fn apply_change(
    tx: &mut Tx,
    outbox: &Outbox,
    now: DateTime<Utc>,
    row: &mut store::ReferralRow,
    d: Decided<'_>,
    next: ReferralStatus,
    actor: ev::Actor,
    who: &Who,
    causation_id: Option<&str>,
) -> Result<(), sqlx::Error> {
    // The amended decision takes effect now, dated as its body dated it or today (作出之日).
    let amended = d.amended.map(|o| liandong_grpc::dated(o, now));
    let d = Decided {
        amended: amended.as_ref(),
        ..d
    };
    row.status = next;
    row.updated_at = now;
    if let Some(o) = d.amended {
        row.outcome = Nullable(Some(Proto(o.clone())));
    }
    store::update(tx, row).await?;
    let label = event_actor_label(Some(&actor));
    let reason = d.reason;
    let detail = match d.amended {
        Some(o) => format!("变更决定：{}（{}）；理由：{reason}", o.kind, o.summary),
        None => format!("撤销决定；理由：{reason}"),
    };
    let on = Changed {
        event: AnyEvent::CountyDecisionChanged,
        item_id: "",
        town: &row.town,
        department: &row.department,
        aggregate_id: &row.referral_id,
        case_id: &row.case_id,
        facts: &row.facts,
    };
    let env = announce_change(tx, outbox, now, on, &d, &detail, actor, who, causation_id).await?;
    liandong_decision::set_in_force(
        tx,
        crate::review_request::on_referral(&row.referral_id),
        d.amended.map(|o| (&env, o)),
        now,
    )
    .await?;
    store::add_history(
        tx,
        &row.referral_id,
        now,
        d.change.record_kind(),
        &label,
        &crate::convert::certified(&detail, &who.certificate_no),
    )
    .await?;
    Ok(())
}

/// Changes a lead's entrusted decision in force on a joint-case task: the task's status and
/// decision, `county.entrusted_decision_changed` (the disclosure service withdraws the
/// replaced decision's disclosure, the brigade keeps the change with the joint case), the
/// decision it now carries, and the record of the file held. Shared by a change the dispatcher
/// makes directly and an amendment the legal office approved.
#[allow(clippy::too_many_arguments)]
pub async fn apply_task_change(
    tx: &mut Tx,
    outbox: &Outbox,
    now: DateTime<Utc>,
    row: &mut TaskRow,
    d: Decided<'_>,
    next: TaskStatus,
    actor: ev::Actor,
    who: &Who,
    causation_id: Option<&str>,
) -> Result<(), sqlx::Error> {
    // The amended decision takes effect now, dated as its body dated it or today (作出之日).
    let amended = d.amended.map(|o| liandong_grpc::dated(o, now));
    let d = Decided {
        amended: amended.as_ref(),
        ..d
    };
    row.status = next;
    row.updated_at = now;
    if let Some(o) = d.amended {
        row.decision = Nullable(Some(Proto(o.clone())));
    }
    let reason = d.reason;
    let detail = match d.amended {
        Some(o) => format!(
            "变更受委托作出的决定：{}（{}）；理由：{reason}",
            o.kind, o.summary
        ),
        None => format!("撤销受委托作出的决定；理由：{reason}"),
    };
    row.summary = Some(detail.clone());
    task_store::update_task(tx, row).await?;
    let on = Changed {
        event: AnyEvent::CountyEntrustedDecisionChanged,
        item_id: &row.item_id,
        town: &row.town,
        department: &row.department,
        aggregate_id: &row.task_id,
        case_id: &row.case_id,
        facts: &row.facts,
    };
    let env = announce_change(tx, outbox, now, on, &d, &detail, actor, who, causation_id).await?;
    liandong_decision::set_in_force(
        tx,
        crate::review_request::on_task(&row.task_id),
        d.amended.map(|o| (&env, o)),
        now,
    )
    .await?;
    Ok(())
}

impl Api {
    /// The amended decision when it must pass the legal review first; an amendment of a case
    /// whose matters the catalogue does not know is refused, naming the matter.
    pub(crate) fn major<'o>(
        &self,
        facts: &ev::CaseFacts,
        amended: Option<&'o ev::Outcome>,
    ) -> Result<Option<&'o ev::Outcome>, ApiError> {
        let Some(o) = amended else {
            return Ok(None);
        };
        let major = crate::review_request::requires_review(&self.catalogue, facts, o)
            .map_err(|e| ApiError::FailedPrecondition(e.to_string()))?;
        Ok(major.then_some(o))
    }

    /// Checks a change request: the id of what it changes (`id`: field and value), the change,
    /// its reason and, for an amendment, the amended decision. Nothing is loaded before it passes.
    pub(crate) fn checked_change(
        &self,
        id: (&str, &str),
        change: &str,
        reason: &str,
        outcome: Option<&ev::Outcome>,
    ) -> Result<DecisionChange, ApiError> {
        let input = ChangeInput {
            change,
            reason,
            outcome: outcome.map(crate::convert::outcome_input),
        };
        let mut v = Validator::new();
        if let Err(e) = liandong_domain::ids::TownScopedId::parse(id.1) {
            v.violation(id.0, e.to_string());
        }
        let change = check_change(
            &mut v,
            &input,
            self.limits.reason_chars,
            self.limits.description_chars,
            self.limits.evidence_refs_per_case,
        );
        v.finish().map_err(ApiError::Invalid)?;
        Ok(change.expect("checked"))
    }
}
