//! A department amends or revokes its decision in force on a referral (变更 / 撤销); an
//! amendment into a major decision goes to its legal office first (法制审核).

use liandong_decision::Amendment;
use liandong_domain::auth::{Action, Actor};
use liandong_domain::decision_change::DecisionChange;
use liandong_domain::state::ReferralAction;
use liandong_grpc::{ApiError, actor_to_event_certified};
use liandong_proto::county::v1 as pb;
use liandong_topology::EventKind;

use crate::context::Api;
use crate::decision::{Decided, apply_change};

impl Api {
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
        let mut a = self
            .open_referral(actor, &r.referral_id, Action::ChangeDecision)
            .await?;
        let now = a.now;
        let status = a.row.status;
        // Refused early when there is nothing to change; the status a direct change leaves.
        let next = status.next(match change {
            DecisionChange::Amend => ReferralAction::AmendDecision,
            DecisionChange::Revoke => ReferralAction::RevokeDecision,
        })?;
        let in_force = liandong_decision::in_force(
            &mut a.tx,
            crate::review_request::on_referral(&a.row.referral_id),
        )
        .await?
        .ok_or_else(|| {
            ApiError::FailedPrecondition(format!(
                "referral {} has no decision in force to change",
                a.row.referral_id
            ))
        })?;
        let superseded = in_force.event_id.clone();
        let facts = (*a.row.facts).clone();
        let amended = liandong_decision::amended(change, r.outcome, Some(&in_force));
        let reason = r.reason.trim();
        let proposer = actor_to_event_certified(actor, &a.certificate_no);
        let who = a.who(actor);
        if let Some(o) = self.major(&facts, amended.as_ref())? {
            // Amended into a major decision: the decision in force stands until the legal
            // office approves the amendment (法制审核), which then takes effect as below.
            a.row.status = status.next(ReferralAction::SubmitAmendmentForReview)?;
            a.row.updated_at = now;
            a.save().await?;
            let amendment = Amendment {
                reason: reason.to_owned(),
                superseded_event_id: superseded.clone(),
            };
            let round = crate::review_request::submit(
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
                "决定变更为重大执法决定，提请法制审核（第{round}轮，变更理由：{reason}）：{}（{}）",
                o.kind, o.summary
            );
            let kind = EventKind::CountyReviewRequested.name();
            a.keep(actor, kind, kind, &detail, None).await?;
            let referral = a.finish().await?;
            tracing::info!(referral_id = %referral.referral_id, "An amendment into a major decision awaits the legal office.");
            return Ok(referral);
        }
        apply_change(
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
        let referral = a.finish().await?;
        tracing::info!(referral_id = %referral.referral_id, change = change.as_str(), "A department changed its decision.");
        Ok(referral)
    }
}
