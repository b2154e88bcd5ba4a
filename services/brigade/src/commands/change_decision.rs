//! The brigade amends or revokes a concluded case's decision in the town government's name;
//! an amendment into a major decision goes to the legal review first.

use liandong_domain::auth::{Action, Actor};
use liandong_domain::decision_change::{ChangeInput, DecisionChange, check_change};
use liandong_domain::ids::TownScopedId;
use liandong_domain::limits::Validator;
use liandong_domain::state::CaseAction;
use liandong_grpc::{ApiError, actor_to_event_certified};
use liandong_proto::brigade::v1 as pb;

use crate::context::Api;
use crate::legal_review;
use crate::record::Who;

impl Api {
    /// Amends or revokes a concluded case's decision in the town government's name. The change
    /// is kept in the record, a new decision document is issued for an amendment, and
    /// `brigade.decision_changed` names the event of the decision it replaces, so that the
    /// disclosure service withdraws that decision's disclosure (and discloses the amended one).
    pub(crate) async fn change_decision(
        &self,
        actor: &Actor,
        r: pb::ChangeDecisionRequest,
    ) -> Result<pb::Case, ApiError> {
        let input = ChangeInput {
            change: &r.change,
            reason: &r.reason,
            outcome: r.outcome.as_ref().map(liandong_grpc::outcome_input),
        };
        let mut v = Validator::new();
        if let Err(e) = TownScopedId::parse(&r.case_id) {
            v.violation("case_id", e.to_string());
        }
        let change = check_change(
            &mut v,
            &input,
            self.limits.reason_chars,
            self.limits.description_chars,
            self.limits.evidence_refs_per_case,
        );
        v.finish().map_err(ApiError::Invalid)?;
        let change = change.expect("checked");
        let reason = r.reason.trim();
        let mut a = self
            .open_case(actor, Action::ChangeDecision, &r.case_id)
            .await?;
        let (now, status) = (a.now, a.row.status);
        // Refused early, before the certificate is asked for, when there is nothing to change.
        let next = status.next(match change {
            DecisionChange::Amend => CaseAction::AmendDecision,
            DecisionChange::Revoke => CaseAction::RevokeDecision,
        })?;
        a.body(self, r.outcome.as_ref().map(|o| o.kind.as_str()))?;
        let certificate_no = a.certificate(actor, Action::ChangeDecision).await?;
        let in_force = liandong_decision::in_force(
            &mut a.tx,
            liandong_decision::On {
                subject: liandong_domain::decision::Subject::Case,
                id: &a.row.case_id,
            },
        )
        .await?
        .ok_or_else(|| {
            ApiError::FailedPrecondition(format!(
                "case {} has no decision in force to change",
                a.row.case_id
            ))
        })?;
        let superseded = in_force.event_id.clone();
        let by = Who::certified(actor, certificate_no.clone());
        // The party stays the same unless the amendment names it.
        let mut amended = liandong_decision::amended(change, r.outcome, Some(&in_force));
        if let Some(o) = amended.as_mut() {
            // An amendment applies the law as a first decision would (行政处罚法 Art. 37).
            crate::law::apply(&self.catalogue, &a.row, now, o)?;
        }
        let proposer = actor_to_event_certified(actor, &certificate_no);
        let major = match &amended {
            Some(o) => legal_review::requires_review(&self.catalogue, &a.row, o)
                .map_err(|e| ApiError::FailedPrecondition(e.to_string()))?,
            None => false,
        };
        if let Some(o) = amended.as_ref().filter(|_| major) {
            // Amended into a major decision: the decision in force stands until the legal
            // review approves the amendment (法制审核), which then takes effect as below.
            let next = status.next(CaseAction::SubmitAmendmentForReview)?;
            let change = liandong_decision::Amendment {
                reason: reason.to_owned(),
                superseded_event_id: superseded.clone(),
            };
            legal_review::submit(
                &mut a.tx,
                &self.outbox,
                &self.catalogue,
                &self.towns,
                now,
                &a.row,
                o,
                proposer,
                Some(change),
            )
            .await?;
            let case = self.finish(a, Some(next)).await?;
            tracing::info!(case_id = %case.case_id, superseded = %superseded, "An amendment into a major decision awaits the legal review.");
            return Ok(case);
        }
        legal_review::change_decision(
            &mut a.tx,
            &self.outbox,
            &self.catalogue,
            &self.towns,
            now,
            &a.row,
            legal_review::Decided {
                change,
                reason,
                superseded_event_id: &superseded,
                amended: amended.as_ref(),
                next,
            },
            Some(proposer),
            &by,
            None,
        )
        .await?;
        let case = self.finish(a, Some(next)).await?;
        tracing::info!(case_id = %case.case_id, change = change.as_str(), superseded = %superseded, "A decision was changed.");
        Ok(case)
    }
}
