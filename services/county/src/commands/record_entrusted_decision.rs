//! The lead department records the decision it makes on a joint-case task in the town
//! government's name (受委托依法依规作出决定); a major decision goes to its legal office first.

use liandong_domain::auth::{Action, Actor};
use liandong_domain::calendar::Calendar;
use liandong_domain::limits::Validator;
use liandong_domain::outcome::check_decision_date;
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
                if !decision.decided_on.trim().is_empty() {
                    return Err(ApiError::field(
                        "decision.decided_on",
                        "a major decision is made after its legal review: it is dated the day it takes effect",
                    ));
                }
                return Ok(Emit::ReviewRequested(Box::new(decision.clone())));
            }
            // The decision's own date, as the lead dated it: not in the future, nor before the
            // task was assigned; the disclosure's clock runs from it.
            let mut v = Validator::new();
            check_decision_date(
                &mut v,
                "decision.decided_on",
                &decision.decided_on,
                Calendar::local_date(now),
                Calendar::local_date(row.assigned_at),
            );
            v.finish().map_err(ApiError::Invalid)?;
            let decision = liandong_grpc::dated(&decision, now);
            row.decision = Nullable(Some(Proto(decision.clone())));
            Ok(Emit::Decided(Box::new(decided_event(row, &decision)?)))
        })
        .await
    }
}
