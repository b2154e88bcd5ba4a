//! The legal review of a department's major decisions on referrals (重大执法决定法制审核):
//! a major decision waits in `awaiting_review` while the department's own legal office
//! (`department_legal_officer`) reviews it in the review service, and the answer concludes
//! the referral, sends it back to its staff for correction, or — a suspected crime — returns
//! it to the brigade (not competent to decide a crime, but not "not competent" for the
//! matter: the joint meeting sees the return as a dispute and sends it to public security).
//!
//! The lead department's major decision under entrustment on a joint-case task waits the same
//! way, in `task_reviews`: the approval decides the task (and tells the brigade and board),
//! a return opens it again for a corrected decision (the next round). A suspected crime is
//! noted in the task's summary and the task is opened again too: the joint meeting, not the
//! department, transfers a case to public security, so the lead is left to record what it
//! does decide once the meeting has dealt with the crime.

use chrono::{DateTime, Utc};
use liandong_bus::{Handler, HandlerError, Outbox};
use liandong_decision::Answered;
use liandong_domain::decision::{Subject, Verdict};
use liandong_domain::decision_change::DecisionChange;
use liandong_domain::state::{ReferralAction, TaskAction};
use liandong_grpc::event_actor_label;
use liandong_proto::events::v1 as ev;
use liandong_record::{NewEntry, Who};
use liandong_store::Tx;
use liandong_store::typed::{Nullable, Proto};
use liandong_topology::inbound::county::FromReview;
use liandong_topology::{AnyEvent, EventKind};

use crate::store::{self};
use crate::task_store::{self};

use crate::referral::emit_step;
use crate::review_request::CRIME_REASON;

/// Applies the review service's answers on the departments' decisions (`review.*` events
/// addressed to a department; those addressed to none are the towns').
#[derive(Debug, Clone)]
pub struct ReviewEvents {
    pub outbox: Outbox,
}

#[deny(clippy::wildcard_enum_match_arm)]
impl Handler<FromReview> for ReviewEvents {
    async fn handle(
        &self,
        tx: &mut Tx,
        env: &ev::Envelope,
        event: FromReview,
        now: DateTime<Utc>,
    ) -> Result<(), HandlerError> {
        // Only the answers addressed to a department come here (the towns' are skipped by the
        // consumer, as the topology declares).
        let (verdict, kind, e) = match event {
            FromReview::ReviewApproved(e) => {
                (Verdict::Approved, EventKind::ReviewReviewApproved, e)
            }
            FromReview::ReviewReturned(e) => {
                (Verdict::Returned, EventKind::ReviewReviewReturned, e)
            }
            FromReview::CrimeTransferFound(e) => {
                (Verdict::CrimeFound, EventKind::ReviewCrimeTransferFound, e)
            }
        };
        let Some(review) = liandong_decision::review_by_id(tx, &e.review_id).await? else {
            return Err(HandlerError::Reject(format!(
                "no review {} at the county",
                e.review_id
            )));
        };
        let subject = review.subject;
        let Some(answered) = liandong_decision::answer(tx, review, &e, verdict, now).await? else {
            return Ok(());
        };
        match subject {
            Subject::Referral => self.referral_answer(tx, env, answered, kind, now).await,
            Subject::Task => self.task_answer(tx, env, answered, kind, now).await,
            Subject::Case => Err(HandlerError::Reject(format!(
                "review {} is of a town's case, not a department's decision",
                e.review_id
            ))),
        }
    }
}

impl ReviewEvents {
    /// Applies the answer on a referral's decision: approved, the referral is concluded (an
    /// amendment takes effect as a direct change does); returned, it goes back to its staff
    /// (an amendment's return leaves the decision in force); a suspected crime returns the
    /// referral to the brigade for the joint meeting to send to public security.
    async fn referral_answer(
        &self,
        tx: &mut Tx,
        env: &ev::Envelope,
        answered: Answered,
        kind: EventKind,
        now: DateTime<Utc>,
    ) -> Result<(), HandlerError> {
        let referral_id = answered.review.subject_id.clone();
        let mut row = store::get_in_tx(tx, &referral_id)
            .await?
            .ok_or_else(|| HandlerError::Reject(format!("no referral {referral_id}")))?;
        let action = match answered.verdict {
            Verdict::Approved => ReferralAction::ReviewApproved,
            Verdict::Returned => ReferralAction::ReviewReturned,
            Verdict::CrimeFound => ReferralAction::CrimeFound,
        };
        let status = row.status;
        let next = match status.next(action) {
            Ok(n) => n,
            // Withdrawn by the chair while under review: the answer has nothing to act on.
            Err(err) => {
                tracing::warn!(%referral_id, %err, "A review answer for a referral no longer awaiting it; ignored.");
                return Ok(());
            }
        };
        let reviewer = event_actor_label(env.actor.as_ref());
        let kind = kind.name();
        store::add_history(tx, &referral_id, now, kind, &reviewer, &answered.detail).await?;
        // The legal office's answer, with its signed event, in the record of the file held.
        crate::record::enter_event(
            tx,
            &row.case_id,
            &row.department,
            now,
            kind,
            &answered.detail,
            env,
        )
        .await?;
        row.status = next;
        row.updated_at = now;
        let proposer = answered.proposer().clone();
        if let Some(amendment) = answered.review.amendment() {
            // An amendment: approved, it takes effect as a direct change does; otherwise the
            // decision in force stays.
            if answered.verdict == Verdict::Approved {
                let who = Who::acting_for(&proposer, format!("county:{}", row.department));
                crate::decision::apply_change(
                    tx,
                    &self.outbox,
                    now,
                    &mut row,
                    crate::decision::Decided {
                        change: DecisionChange::Amend,
                        reason: &amendment.reason,
                        superseded_event_id: &amendment.superseded_event_id,
                        amended: Some(answered.proposed()),
                    },
                    next,
                    proposer,
                    &who,
                    Some(&env.event_id),
                )
                .await?;
            } else {
                store::update(tx, &row).await?;
            }
            return Ok(());
        }
        // The step the answer takes is emitted as the department's own steps are.
        let by = Some(&*env.event_id);
        match answered.verdict {
            Verdict::Approved => {
                let facts = (*row.facts).clone();
                // Dated the day it takes effect (作出之日).
                let outcome = liandong_grpc::dated(answered.proposed(), now);
                row.concluded_at = Some(now);
                row.outcome = Nullable(Some(Proto(outcome.clone())));
                let payload = ev::ReferralConcluded {
                    referral_id: row.referral_id.clone(),
                    case_id: row.case_id.clone(),
                    outcome: Some(outcome.clone()),
                    matters: facts.matters,
                    town: row.town.clone(),
                    description: facts.description,
                    // Stamped as the step is emitted.
                    held_record: None,
                };
                let event = AnyEvent::CountyReferralConcluded(payload);
                let concluded_env =
                    emit_step(tx, &self.outbox, now, &row, proposer.clone(), by, event).await?;
                let concluded = crate::convert::certified(
                    &format!("办结：{}（{}）", outcome.kind, outcome.summary),
                    &proposer.certificate_no,
                );
                store::add_history(
                    tx,
                    &referral_id,
                    now,
                    ReferralAction::Conclude.as_str(),
                    &event_actor_label(Some(&proposer)),
                    &concluded,
                )
                .await?;
                crate::record::enter(
                    tx,
                    &row.case_id,
                    &row.department,
                    NewEntry {
                        at: now,
                        kind: EventKind::CountyReferralConcluded.name(),
                        who: &Who::acting_for(&proposer, format!("county:{}", row.department)),
                        detail: &format!("办结：{}（{}）", outcome.kind, outcome.summary),
                        evidence_digests: Vec::new(),
                        event: Some(&concluded_env),
                    },
                )
                .await?;
            }
            Verdict::CrimeFound => {
                row.return_reason = Some(CRIME_REASON.into());
                let payload = ev::ReferralReturned {
                    referral_id: row.referral_id.clone(),
                    case_id: row.case_id.clone(),
                    reason: CRIME_REASON.into(),
                    not_competent: false,
                };
                let event = AnyEvent::CountyReferralReturned(payload);
                emit_step(tx, &self.outbox, now, &row, proposer.clone(), by, event).await?;
            }
            Verdict::Returned => {}
        }
        store::update(tx, &row).await?;
        Ok(())
    }

    /// Applies the answer on a joint-case task's decision: approved, the task is decided with
    /// the proposed decision and the brigade and board are told as for any decision (an
    /// amendment takes effect as a direct change does); returned, or a suspected crime, the
    /// task is open again with the finding in its summary (an amendment's leaves the decision
    /// in force).
    async fn task_answer(
        &self,
        tx: &mut Tx,
        env: &ev::Envelope,
        answered: Answered,
        kind: EventKind,
        now: DateTime<Utc>,
    ) -> Result<(), HandlerError> {
        let task_id = answered.review.subject_id.clone();
        let mut row = task_store::get_task_in_tx(tx, &task_id)
            .await?
            .ok_or_else(|| HandlerError::Reject(format!("no task {task_id}")))?;
        let status = row.status;
        let role = row.role;
        let task_action = match answered.verdict {
            Verdict::Approved => TaskAction::ReviewApproved,
            Verdict::Returned | Verdict::CrimeFound => TaskAction::ReviewReturned,
        };
        let next = match status.next(role, task_action) {
            Ok(n) => n,
            // A replay of an answer already applied.
            Err(err) => {
                tracing::warn!(%task_id, %err, "A review answer for a task no longer awaiting it; ignored.");
                return Ok(());
            }
        };
        // The legal office's answer, with its signed event, in the record of the file held.
        crate::record::enter_event(
            tx,
            &row.case_id,
            &row.department,
            now,
            kind.name(),
            &answered.detail,
            env,
        )
        .await?;
        let proposer = answered.proposer().clone();
        let who = Who::acting_for(&proposer, format!("county:{}", row.department));
        if answered.verdict != Verdict::Approved {
            row.status = next;
            row.summary = Some(answered.detail.clone());
            row.updated_at = now;
            task_store::update_task(tx, &row).await?;
            return Ok(());
        }
        if let Some(amendment) = answered.review.amendment() {
            return crate::decision::apply_task_change(
                tx,
                &self.outbox,
                now,
                &mut row,
                crate::decision::Decided {
                    change: DecisionChange::Amend,
                    reason: &amendment.reason,
                    superseded_event_id: &amendment.superseded_event_id,
                    amended: Some(answered.proposed()),
                },
                next,
                proposer,
                &who,
                Some(&env.event_id),
            )
            .await
            .map_err(HandlerError::from);
        }
        // Dated the day it takes effect (作出之日).
        let decision = liandong_grpc::dated(answered.proposed(), now);
        row.status = next;
        row.updated_at = now;
        row.decision = Nullable(Some(Proto(decision.clone())));
        row.done_at = Some(now);
        row.summary = Some(answered.detail.clone());
        // Emitted, stamped and put in force as a decision recorded directly.
        let payload = crate::convert::decided_event(&row, &decision)?;
        let event = AnyEvent::CountyEntrustedDecisionRecorded(payload);
        let by = Some(&*env.event_id);
        let decided =
            crate::task::emit_step(tx, &self.outbox, now, &row, proposer, by, event).await?;
        crate::record::enter(
            tx,
            &row.case_id,
            &row.department,
            NewEntry {
                at: now,
                kind: EventKind::CountyEntrustedDecisionRecorded.name(),
                who: &who,
                detail: &format!("受委托作出决定：{}（{}）", decision.kind, decision.summary),
                evidence_digests: Vec::new(),
                event: Some(&decided),
            },
        )
        .await?;
        task_store::update_task(tx, &row).await?;
        Ok(())
    }
}
