//! A department signs for a referral (签收).

use liandong_domain::auth::{Action, Actor};
use liandong_domain::state::ReferralAction;
use liandong_grpc::ApiError;
use liandong_proto::county::v1 as pb;
use liandong_proto::events::v1 as ev;
use liandong_topology::AnyEvent;

use crate::context::Api;
use crate::referral::{Emit, Step};

impl Api {
    pub(crate) async fn sign_for(
        &self,
        actor: &Actor,
        r: pb::SignForReferralRequest,
    ) -> Result<pb::Referral, ApiError> {
        let step = Step {
            action: ReferralAction::SignFor,
            permission: Action::SignForReferral,
            history: "签收移送".into(),
        };
        self.act(actor, &r.referral_id, step, |row, now| {
            row.signed_for_at = Some(now);
            Emit::step(AnyEvent::CountyReferralSignedFor(ev::ReferralSignedFor {
                referral_id: row.referral_id.clone(),
                case_id: row.case_id.clone(),
            }))
        })
        .await
    }
}
