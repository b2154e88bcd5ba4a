//! A department accepts a referral (受理); accepting without signing first signs for it too.

use liandong_domain::auth::{Action, Actor};
use liandong_domain::state::ReferralAction;
use liandong_grpc::ApiError;
use liandong_proto::county::v1 as pb;
use liandong_proto::events::v1 as ev;
use liandong_topology::AnyEvent;

use crate::context::Api;
use crate::referral::{Emit, Step};

impl Api {
    pub(crate) async fn accept(
        &self,
        actor: &Actor,
        r: pb::AcceptReferralRequest,
    ) -> Result<pb::Referral, ApiError> {
        let step = Step {
            action: ReferralAction::Accept,
            permission: Action::AcceptReferral,
            history: "受理移送".into(),
        };
        self.act(actor, &r.referral_id, step, |row, now| {
            // Accepting without signing first signs for it too.
            row.signed_for_at.get_or_insert(now);
            row.accepted_at = Some(now);
            Emit::step(AnyEvent::CountyReferralAccepted(ev::ReferralAccepted {
                referral_id: row.referral_id.clone(),
                case_id: row.case_id.clone(),
            }))
        })
        .await
    }
}
