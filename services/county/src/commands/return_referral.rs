//! A department returns a referral (退回), with its reason; returns per case are capped.

use liandong_domain::auth::{Action, Actor};
use liandong_domain::limits::Validator;
use liandong_domain::state::ReferralAction;
use liandong_grpc::ApiError;
use liandong_proto::county::v1 as pb;
use liandong_proto::events::v1 as ev;
use liandong_topology::AnyEvent;

use crate::context::Api;
use crate::referral::{Emit, Step};

impl Api {
    pub(crate) async fn return_referral(
        &self,
        actor: &Actor,
        r: pb::ReturnReferralRequest,
    ) -> Result<pb::Referral, ApiError> {
        let mut v = Validator::new();
        v.text("reason", &r.reason, self.limits.reason_chars, true);
        v.finish().map_err(ApiError::Invalid)?;
        let reason = r.reason.trim().to_owned();
        let step = Step {
            action: ReferralAction::Return,
            permission: Action::ReturnReferral,
            history: format!("退回移送：{reason}"),
        };
        self.act(actor, &r.referral_id, step, |row, _| {
            row.return_reason = Some(reason.clone());
            Emit::step(AnyEvent::CountyReferralReturned(ev::ReferralReturned {
                referral_id: row.referral_id.clone(),
                case_id: row.case_id.clone(),
                reason: reason.clone(),
                not_competent: r.not_competent,
            }))
        })
        .await
    }
}
