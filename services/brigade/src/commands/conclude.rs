//! The brigade concludes a case in scope with its decision; a major decision goes to the town
//! judicial office first (法制审核).

use liandong_domain::auth::{Action, Actor};
use liandong_domain::calendar::Calendar;
use liandong_domain::disclosure::BodyKind;
use liandong_domain::ids::DepartmentCode;
use liandong_domain::limits::Validator;
use liandong_domain::outcome::{check_decision_date, check_outcome};
use liandong_domain::procedure::{Procedure, Refusal};
use liandong_domain::state::CaseAction;
use liandong_grpc::{ApiError, actor_to_event_certified};
use liandong_proto::brigade::v1 as pb;

use crate::context::Api;
use crate::legal_review;
use crate::record::Who;

impl Api {
    pub(crate) async fn conclude(
        &self,
        actor: &Actor,
        r: pb::ConcludeCaseRequest,
    ) -> Result<pb::Case, ApiError> {
        let mut outcome = r.outcome.unwrap_or_default();
        let mut v = Validator::new();
        let input = liandong_grpc::outcome_input(&outcome);
        check_outcome(
            &mut v,
            "outcome",
            &input,
            self.limits.description_chars,
            self.limits.evidence_refs_per_case,
        );
        let procedure = match r.procedure.trim() {
            "" => Some(Procedure::Ordinary),
            p => v.check("procedure", Procedure::parse(p)),
        };
        v.finish().map_err(ApiError::Invalid)?;
        let procedure = procedure.expect("checked");
        let mut a = self
            .open_case(actor, Action::ConcludeCase, &r.case_id)
            .await?;
        let (now, status) = (a.now, a.row.status);
        // The decision's own date, as the body dated it: not in the future, nor before the
        // case was found; the disclosure's clock runs from it.
        let mut v = Validator::new();
        check_decision_date(
            &mut v,
            "outcome.decided_on",
            &outcome.decided_on,
            Calendar::local_date(now),
            Calendar::local_date(a.row.found_at),
        );
        v.finish().map_err(ApiError::Invalid)?;
        // The law in force at the act, or the newer, lighter one (行政处罚法 Art. 37); refused
        // when only an article that could not be confirmed would apply.
        crate::law::apply(&self.catalogue, &a.row, now, &mut outcome)?;
        // Decided in the town's name or the entrusting department's, within its letter.
        let body = a.body(self, Some(&outcome.kind))?;
        let certificate_no = a.certificate(actor, Action::ConcludeCase).await?;
        let event_actor = actor_to_event_certified(actor, &certificate_no);
        let major = legal_review::requires_review(&self.catalogue, &a.row, &outcome)
            .map_err(|e| ApiError::FailedPrecondition(e.to_string()))?;
        if major && !outcome.decided_on.trim().is_empty() {
            return Err(ApiError::field(
                "outcome.decided_on",
                "a major decision is made after its legal review: it is dated the day it takes effect",
            ));
        }
        // The procedure the law orders, before the decision (or its legal review): officers,
        // notice, statement and defence, hearing, and a complex case's collective discussion.
        if major && procedure == Procedure::Simple {
            return Err(crate::procedure::refused(Refusal::NotSimple(
                "a major decision goes to its legal review".into(),
            )));
        }
        let department = (body.kind == BodyKind::Department)
            .then(|| DepartmentCode::parse(&body.code).ok())
            .flatten();
        self.check_procedure(
            &mut a.tx,
            &a.row,
            &outcome,
            procedure,
            major,
            now,
            department.as_ref(),
        )
        .await?;
        let next = if major {
            // A major decision does not take effect yet: it waits for the judicial office.
            let next = status.next(CaseAction::SubmitForReview)?;
            legal_review::submit(
                &mut a.tx,
                &self.outbox,
                &self.catalogue,
                &self.towns,
                now,
                &a.row,
                &outcome,
                event_actor,
                None,
            )
            .await?;
            next
        } else {
            let next = status.next(CaseAction::Conclude)?;
            let who = Who::certified(actor, certificate_no);
            legal_review::conclude(
                &mut a.tx,
                &self.outbox,
                &self.catalogue,
                &self.towns,
                now,
                &a.row,
                &outcome,
                Some(event_actor),
                &who,
                None,
                procedure,
            )
            .await?;
            next
        };
        self.finish(a, Some(next)).await
    }
}
