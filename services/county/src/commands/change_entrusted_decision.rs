//! The lead department amends or revokes its entrusted decision in force on a joint-case task;
//! an amendment into a major decision goes to its legal office first.

use liandong_decision::Amendment;
use liandong_domain::auth::{Action, Actor};
use liandong_domain::decision_change::DecisionChange;
use liandong_domain::state::TaskAction;
use liandong_grpc::{ApiError, actor_to_event_certified};
use liandong_proto::county::v1 as pb;
use liandong_topology::EventKind;

use crate::context::Api;
use crate::decision::{Decided, apply_task_change};

impl Api {
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
        let mut a = self
            .open_task(actor, &r.task_id, Action::ChangeDecision)
            .await?;
        let now = a.now;
        let status = a.row.status;
        let role = a.row.role;
        // Refused early when there is nothing to change; the status a direct change leaves.
        let next = status.next(
            role,
            match change {
                DecisionChange::Amend => TaskAction::AmendDecision,
                DecisionChange::Revoke => TaskAction::RevokeDecision,
            },
        )?;
        let in_force =
            liandong_decision::in_force(&mut a.tx, crate::review_request::on_task(&a.row.task_id))
                .await?
                .ok_or_else(|| {
                    ApiError::FailedPrecondition(format!(
                        "task {} has no decision in force to change",
                        a.row.task_id
                    ))
                })?;
        let superseded = in_force.event_id.clone();
        let facts = (*a.row.facts).clone();
        let amended = liandong_decision::amended(change, r.outcome, Some(&in_force));
        let reason = r.reason.trim();
        let proposer = actor_to_event_certified(actor, &a.certificate_no);
        let who = a.who(actor);
        if let Some(o) = self.major(&facts, amended.as_ref())? {
            // Amended into a major decision: the decision in force stands until the lead's
            // legal office approves the amendment.
            a.row.status = status.next(role, TaskAction::SubmitAmendmentForReview)?;
            a.row.updated_at = now;
            a.save().await?;
            let amendment = Amendment {
                reason: reason.to_owned(),
                superseded_event_id: superseded.clone(),
            };
            let round = crate::review_request::submit_task(
                &mut a.tx,
                &self.outbox,
                &self.catalogue,
                now,
                &a.row,
                o,
                proposer,
                Some(amendment),
            )
            .await?;
            let detail = format!(
                "受委托作出的决定变更为重大执法决定，提请法制审核（第{round}轮，变更理由：{reason}）：{}（{}）",
                o.kind, o.summary
            );
            a.keep(
                actor,
                EventKind::CountyReviewRequested.name(),
                &detail,
                None,
            )
            .await?;
            return a.finish().await;
        }
        apply_task_change(
            &mut a.tx,
            &self.outbox,
            now,
            &mut a.row,
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
        let task = a.finish().await?;
        tracing::info!(task_id = %task.task_id, change = change.as_str(), "A lead changed its entrusted decision.");
        Ok(task)
    }
}
