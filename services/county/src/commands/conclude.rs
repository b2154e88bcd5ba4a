//! A department concludes a referral (办结) with its decision; a major decision goes to the
//! department's legal office first (法制审核) and takes effect once approved.

use liandong_domain::auth::{Action, Actor};
use liandong_domain::calendar::Calendar;
use liandong_domain::limits::Validator;
use liandong_domain::outcome::{check_decision_date, check_outcome};
use liandong_domain::state::ReferralAction;
use liandong_grpc::ApiError;
use liandong_proto::county::v1 as pb;
use liandong_proto::events::v1 as ev;
use liandong_store::typed::{Nullable, Proto};
use liandong_topology::AnyEvent;

use crate::context::Api;
use crate::convert::outcome_input;
use crate::referral::{Emit, Step, parse_referral_id};
use crate::store;

impl Api {
    pub(crate) async fn conclude(
        &self,
        actor: &Actor,
        r: pb::ConcludeReferralRequest,
    ) -> Result<pb::Referral, ApiError> {
        let mut outcome = r.outcome.unwrap_or_default();
        let mut v = Validator::new();
        check_outcome(
            &mut v,
            "outcome",
            &outcome_input(&outcome),
            self.limits.description_chars,
            self.limits.evidence_refs_per_case,
        );
        v.finish().map_err(ApiError::Invalid)?;
        // A major decision (by the catalogue of the case's matters) takes effect only once the
        // department's legal office approves it: the referral waits for the review instead.
        parse_referral_id(&r.referral_id)?;
        let current = store::get(&self.db, &r.referral_id)
            .await?
            .ok_or_else(|| ApiError::NotFound(format!("no referral {}", r.referral_id)))?;
        let facts = (*current.facts).clone();
        // The decision's own date, as the department dated it: not in the future, nor before
        // the referral was dispatched; the disclosure's clock runs from it.
        let mut v = Validator::new();
        check_decision_date(
            &mut v,
            "outcome.decided_on",
            &outcome.decided_on,
            Calendar::local_date(self.clock.now()),
            Calendar::local_date(current.dispatched_at),
        );
        v.finish().map_err(ApiError::Invalid)?;
        // The law in force at the act, or the newer, lighter one (行政处罚法 Art. 37).
        crate::law::apply(
            &self.catalogue,
            &facts,
            self.clock.now(),
            &mut outcome,
            "outcome",
        )?;
        let major = crate::review_request::requires_review(&self.catalogue, &facts, &outcome)
            .map_err(|e| ApiError::FailedPrecondition(e.to_string()))?;
        if major && !outcome.decided_on.trim().is_empty() {
            return Err(ApiError::field(
                "outcome.decided_on",
                "a major decision is made after its legal review: it is dated the day it takes effect",
            ));
        }
        if major {
            let name =
                crate::review_request::decided_in_name_of(&self.catalogue, &current.department);
            let step = Step {
                action: ReferralAction::SubmitForReview,
                permission: Action::ConcludeReferral,
                history: crate::review_request::submitted_detail(&name, &outcome),
            };
            return self
                .act(actor, &r.referral_id, step, |_, _| {
                    Emit::ReviewRequested(Box::new(outcome.clone()))
                })
                .await;
        }
        let step = Step {
            action: ReferralAction::Conclude,
            permission: Action::ConcludeReferral,
            history: format!("办结：{}（{}）", outcome.kind, outcome.summary),
        };
        self.act(actor, &r.referral_id, step, |row, now| {
            // The decision takes effect now, dated as the department dated it or today.
            let outcome = liandong_grpc::dated(&outcome, now);
            row.concluded_at = Some(now);
            row.outcome = Nullable(Some(Proto(outcome.clone())));
            // What the case was about, for the department's public disclosure.
            let facts = row.facts.0.clone();
            Emit::step(AnyEvent::CountyReferralConcluded(ev::ReferralConcluded {
                referral_id: row.referral_id.clone(),
                case_id: row.case_id.clone(),
                outcome: Some(outcome.clone()),
                matters: facts.matters,
                town: row.town.clone(),
                description: facts.description,
                // Stamped as the step is emitted.
                held_record: None,
            }))
        })
        .await
    }
}
