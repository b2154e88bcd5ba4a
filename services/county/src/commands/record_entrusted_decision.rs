//! The lead department records the decision it makes on a joint-case task in the town
//! government's name (受委托依法依规作出决定); a major decision goes to its legal office first.

use liandong_domain::auth::{Action, Actor};
use liandong_grpc::ApiError;
use liandong_proto::county::v1 as pb;
use liandong_store::typed::{Nullable, Proto};

use crate::context::Api;
use crate::convert::decided_event;
use crate::task::{Emit, check_decision};

impl Api {
    pub(crate) async fn record_decision(
        &self,
        actor: &Actor,
        r: pb::RecordEntrustedDecisionRequest,
    ) -> Result<pb::Task, ApiError> {
        let decision = r.decision.unwrap_or_default();
        check_decision(
            &r.task_id,
            &decision,
            self.limits.description_chars,
            self.limits.evidence_refs_per_case,
        )
        .map_err(ApiError::Invalid)?;
        let catalogue = &self.catalogue;
        let now = self.clock.now();
        self.act_on_task(actor, &r.task_id, Action::RecordEntrustedDecision, |row| {
            // A major decision (by the catalogue of the case's matters) takes effect only once
            // the department's legal office approves it: the task waits for the review, and
            // the decision is stored with the review until then.
            let facts = (*row.facts).clone();
            // The law in force at the act, or the newer, lighter one (行政处罚法 Art. 37).
            let mut decision = decision.clone();
            crate::law::apply(catalogue, &facts, now, &mut decision, "decision")?;
            let major = crate::review_request::requires_review(catalogue, &facts, &decision)
                .map_err(|e| ApiError::FailedPrecondition(e.to_string()))?;
            if major {
                return Ok(Emit::ReviewRequested(Box::new(decision.clone())));
            }
            row.decision = Nullable(Some(Proto(decision.clone())));
            Ok(Emit::Decided(Box::new(decided_event(row, &decision)?)))
        })
        .await
    }
}
