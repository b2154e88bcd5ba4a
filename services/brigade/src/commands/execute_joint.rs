//! The brigade records that a joint case's decision was executed (协同执法到位).

use liandong_bus::NewEvent;
use liandong_domain::auth::{Action, Actor};
use liandong_domain::limits::Validator;
use liandong_domain::state::CaseAction;
use liandong_grpc::{ApiError, actor_to_event_certified};
use liandong_proto::brigade::v1 as pb;
use liandong_proto::events::v1 as ev;
use liandong_topology::AnyEvent;

use crate::context::Api;
use crate::flow::joint_aggregate;
use crate::legal_review;
use crate::record::Who;
use crate::store;

impl Api {
    pub(crate) async fn execute_joint(
        &self,
        actor: &Actor,
        r: pb::RecordJointExecutionRequest,
    ) -> Result<pb::Case, ApiError> {
        let mut v = Validator::new();
        v.text("summary", &r.summary, self.limits.description_chars, true);
        v.finish().map_err(ApiError::Invalid)?;
        let mut a = self
            .open_case(actor, Action::RecordExecution, &r.case_id)
            .await?;
        let (now, status) = (a.now, a.row.status);
        let certificate_no = a.certificate(actor, Action::RecordExecution).await?;
        let next = status.next(CaseAction::JointExecuted)?;
        let mut joint = store::joint_in_tx(&mut a.tx, &a.row.case_id)
            .await?
            .ok_or_else(|| {
                ApiError::FailedPrecondition("the joint meeting has not approved this case".into())
            })?;
        if joint.decision.is_none() {
            return Err(ApiError::FailedPrecondition(format!(
                "the lead department {} has not yet recorded its decision",
                joint.lead_department
            )));
        }
        joint.executed_at = Some(now);
        joint.updated_at = now;
        store::upsert_joint(&mut a.tx, &joint).await?;
        store::set_status(&mut a.tx, &a.row.case_id, next, now).await?;
        let env = self
            .outbox
            .emit(
                &mut a.tx,
                now,
                NewEvent {
                    town: &a.row.town,
                    department: None,
                    aggregate_id: &joint_aggregate(&a.row.case_id),
                    actor: Some(actor_to_event_certified(actor, &certificate_no)),
                    causation_id: None,
                },
                AnyEvent::BrigadeJointExecuted(ev::JointExecuted {
                    case_id: a.row.case_id.clone(),
                    item_id: joint.item_id.clone(),
                    summary: r.summary.trim().into(),
                }),
            )
            .await?;
        let here = a.row.here();
        let detail = legal_review::certified(
            &format!("协同执法到位：{}", r.summary.trim()),
            &certificate_no,
        );
        let by = Who::certified(actor, certificate_no);
        store::add_history(
            &mut a.tx,
            here,
            now,
            liandong_topology::names::JOINT_EXECUTED,
            &by,
            &detail,
            Some(&env),
        )
        .await?;
        self.finish(a, Some(next)).await
    }
}
