//! A department assigns staff to investigate a referral (安排人员调查处理).

use liandong_domain::auth::{Action, Actor};
use liandong_domain::ids::OfficerId;
use liandong_domain::limits::Validator;
use liandong_domain::state::ReferralAction;
use liandong_grpc::ApiError;
use liandong_proto::county::v1 as pb;
use liandong_proto::events::v1 as ev;
use liandong_store::typed::Json;
use liandong_topology::AnyEvent;

use crate::context::Api;
use crate::referral::{Emit, Step};

impl Api {
    pub(crate) async fn assign(
        &self,
        actor: &Actor,
        r: pb::AssignReferralRequest,
    ) -> Result<pb::Referral, ApiError> {
        let mut v = Validator::new();
        if r.staff.is_empty() {
            v.violation("staff", "name at least one member of staff");
        }
        v.max_items("staff", r.staff.len(), self.limits.officers_per_action);
        let staff: Vec<String> = r
            .staff
            .iter()
            .enumerate()
            .filter_map(|(i, s)| v.check(format!("staff[{i}]"), OfficerId::parse(s)))
            .map(|s| s.to_string())
            .collect();
        v.finish().map_err(ApiError::Invalid)?;
        let step = Step {
            action: ReferralAction::Assign,
            permission: Action::AssignReferral,
            history: format!("安排人员调查处理：{}", staff.join("、")),
        };
        self.act(actor, &r.referral_id, step, |row, _| {
            row.staff = Json(staff.clone());
            Emit::step(AnyEvent::CountyReferralAssigned(ev::ReferralAssigned {
                referral_id: row.referral_id.clone(),
                case_id: row.case_id.clone(),
                staff: staff.clone(),
                // Stamped as the step is emitted.
                held_record: None,
            }))
        })
        .await
    }
}
