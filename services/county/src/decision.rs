//! A department changes its decision in force on a referral (变更 / 撤销): recorded in the
//! referral's history, announced as `county.decision_changed`, so that the disclosure service
//! withdraws the decision's disclosure (行政处罚法 第四十八条, 第八十五条) and the brigade keeps
//! the change in the case's record.

use chrono::{DateTime, Utc};
use liandong_bus::{Change, NewEvent, Outbox};
use liandong_decision::Amendment;
use liandong_domain::auth::{Action, Actor, Resource, permits};
use liandong_domain::decision_change::{ChangeInput, DecisionChange, check_change};
use liandong_domain::ids::{DepartmentCode, TownCode};
use liandong_domain::limits::Validator;
use liandong_domain::state::{ReferralAction, ReferralStatus, TaskAction, TaskStatus};
use liandong_grpc::{ApiError, actor_label, actor_to_event_certified, event_actor_label};
use liandong_proto::county::v1 as pb;
use liandong_proto::events::v1 as ev;
use liandong_record::{NewEntry, Who};
use liandong_store::Tx;
use liandong_store::typed::{Nullable, Proto};
use liandong_topology::{AnyEvent, EventKind};

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
    fn major<'o>(
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
    fn checked_change(
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

    /// Amends or revokes the lead's entrusted decision in force on a joint-case task; an
    /// amendment into a major decision goes to the lead's legal office first.
    pub(crate) async fn change_entrusted_decision(
        &self,
        actor: &Actor,
        r: pb::ChangeEntrustedDecisionRequest,
    ) -> Result<pb::Task, ApiError> {
        let change = self.checked_change(
            ("task_id", &r.task_id),
            &r.change,
            &r.reason,
            r.outcome.as_ref(),
        )?;
        let now: DateTime<Utc> = self.clock.now();
        let mut tx = Change::begin(&self.db, &self.outbox).await?;
        let mut row = task_store::get_task_in_tx(&mut tx, &r.task_id)
            .await?
            .ok_or_else(|| ApiError::NotFound(format!("no task {}", r.task_id)))?;
        let resource = Resource {
            town: TownCode::parse(&row.town).map_err(|e| ApiError::Internal(e.into()))?,
            department: Some(
                DepartmentCode::parse(&row.department).map_err(|e| ApiError::Internal(e.into()))?,
            ),
        };
        permits(actor, Action::ChangeDecision, &resource)?;
        let certificate_no = crate::registry::require_certificate(
            &mut tx,
            actor,
            Action::ChangeDecision,
            &row.department,
            now,
        )
        .await?;
        let status = row.status;
        let role = row.role;
        // Refused early when there is nothing to change; the status a direct change leaves.
        let next = status.next(
            role,
            match change {
                DecisionChange::Amend => TaskAction::AmendDecision,
                DecisionChange::Revoke => TaskAction::RevokeDecision,
            },
        )?;
        let in_force =
            liandong_decision::in_force(&mut tx, crate::review_request::on_task(&row.task_id))
                .await?
                .ok_or_else(|| {
                    ApiError::FailedPrecondition(format!(
                        "task {} has no decision in force to change",
                        row.task_id
                    ))
                })?;
        let superseded = in_force.event_id.clone();
        let facts = (*row.facts).clone();
        let amended = liandong_decision::amended(change, r.outcome, Some(&in_force));
        let reason = r.reason.trim();
        let proposer = actor_to_event_certified(actor, &certificate_no);
        let who = Who::certified(actor, certificate_no.clone());
        if let Some(o) = self.major(&facts, amended.as_ref())? {
            // Amended into a major decision: the decision in force stands until the lead's
            // legal office approves the amendment.
            row.status = status.next(role, TaskAction::SubmitAmendmentForReview)?;
            row.updated_at = now;
            task_store::update_task(&mut tx, &row).await?;
            let amendment = Amendment {
                reason: reason.to_owned(),
                superseded_event_id: superseded.clone(),
            };
            let round = crate::review_request::submit_task(
                &mut tx,
                &self.outbox,
                &self.catalogue,
                now,
                &row,
                o,
                proposer,
                Some(amendment),
            )
            .await?;
            crate::record::enter(
                &mut tx,
                &row.case_id,
                &row.department,
                NewEntry {
                    at: now,
                    kind: EventKind::CountyReviewRequested.name(),
                    who: &who,
                    detail: &format!(
                        "受委托作出的决定变更为重大执法决定，提请法制审核（第{round}轮，变更理由：{reason}）：{}（{}）",
                        o.kind, o.summary
                    ),
                    evidence_digests: Vec::new(),
                    event: None,
                },
            )
            .await?;
            tx.commit().await?;
            return Ok(crate::convert::task_to_pb(&row));
        }
        apply_task_change(
            &mut tx,
            &self.outbox,
            now,
            &mut row,
            Decided {
                change,
                reason,
                superseded_event_id: &superseded,
                amended: amended.as_ref(),
            },
            next,
            proposer,
            &who,
            None,
        )
        .await?;
        tx.commit().await?;
        tracing::info!(task_id = %row.task_id, change = change.as_str(), "A lead changed its entrusted decision.");
        Ok(crate::convert::task_to_pb(&row))
    }

    /// Amends or revokes the department's decision in force on a referral.
    pub(crate) async fn change_decision(
        &self,
        actor: &Actor,
        r: pb::ChangeReferralDecisionRequest,
    ) -> Result<pb::Referral, ApiError> {
        let change = self.checked_change(
            ("referral_id", &r.referral_id),
            &r.change,
            &r.reason,
            r.outcome.as_ref(),
        )?;
        let now: DateTime<Utc> = self.clock.now();
        let mut tx = Change::begin(&self.db, &self.outbox).await?;
        let mut row = store::get_in_tx(&mut tx, &r.referral_id)
            .await?
            .ok_or_else(|| ApiError::NotFound(format!("no referral {}", r.referral_id)))?;
        self.check(actor, Action::ChangeDecision, &row)?;
        let certificate_no = crate::registry::require_certificate(
            &mut tx,
            actor,
            Action::ChangeDecision,
            &row.department,
            now,
        )
        .await?;
        let status = row.status;
        // Refused early when there is nothing to change; the status a direct change leaves.
        let next = status.next(match change {
            DecisionChange::Amend => ReferralAction::AmendDecision,
            DecisionChange::Revoke => ReferralAction::RevokeDecision,
        })?;
        let in_force = liandong_decision::in_force(
            &mut tx,
            crate::review_request::on_referral(&row.referral_id),
        )
        .await?
        .ok_or_else(|| {
            ApiError::FailedPrecondition(format!(
                "referral {} has no decision in force to change",
                row.referral_id
            ))
        })?;
        let superseded = in_force.event_id.clone();
        let facts = (*row.facts).clone();
        let amended = liandong_decision::amended(change, r.outcome, Some(&in_force));
        let reason = r.reason.trim();
        let proposer = actor_to_event_certified(actor, &certificate_no);
        let who = Who::certified(actor, certificate_no.clone());
        if let Some(o) = self.major(&facts, amended.as_ref())? {
            // Amended into a major decision: the decision in force stands until the legal
            // office approves the amendment (法制审核), which then takes effect as below.
            row.status = status.next(ReferralAction::SubmitAmendmentForReview)?;
            row.updated_at = now;
            store::update(&mut tx, &row).await?;
            let amendment = Amendment {
                reason: reason.to_owned(),
                superseded_event_id: superseded.clone(),
            };
            let round = crate::review_request::submit(
                &mut tx,
                &self.outbox,
                &self.catalogue,
                now,
                &row,
                o,
                proposer,
                Some(amendment),
            )
            .await?;
            let detail = format!(
                "决定变更为重大执法决定，提请法制审核（第{round}轮，变更理由：{reason}）：{}（{}）",
                o.kind, o.summary
            );
            store::add_history(
                &mut tx,
                &row.referral_id,
                now,
                EventKind::CountyReviewRequested.name(),
                &actor_label(actor),
                &crate::convert::certified(&detail, &certificate_no),
            )
            .await?;
            crate::record::enter(
                &mut tx,
                &row.case_id,
                &row.department,
                NewEntry {
                    at: now,
                    kind: EventKind::CountyReviewRequested.name(),
                    who: &who,
                    detail: &detail,
                    evidence_digests: Vec::new(),
                    event: None,
                },
            )
            .await?;
            tx.commit().await?;
            tracing::info!(referral_id = %row.referral_id, "An amendment into a major decision awaits the legal office.");
            return Ok(crate::convert::referral_to_pb(&row));
        }
        apply_change(
            &mut tx,
            &self.outbox,
            now,
            &mut row,
            Decided {
                change,
                reason,
                superseded_event_id: &superseded,
                amended: amended.as_ref(),
            },
            next,
            proposer,
            &who,
            None,
        )
        .await?;
        tx.commit().await?;
        tracing::info!(referral_id = %row.referral_id, change = change.as_str(), "A department changed its decision.");
        Ok(crate::convert::referral_to_pb(&row))
    }
}
