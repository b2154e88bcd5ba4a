//! A cooperating department completes its task on a joint case (配合完成), with a summary.

use liandong_domain::auth::{Action, Actor};
use liandong_grpc::ApiError;
use liandong_proto::county::v1 as pb;
use liandong_proto::events::v1 as ev;

use crate::context::Api;
use crate::task::{Emit, check_completion};

impl Api {
    pub(crate) async fn complete(
        &self,
        actor: &Actor,
        r: pb::CompleteTaskRequest,
    ) -> Result<pb::Task, ApiError> {
        check_completion(&r.task_id, &r.summary, self.limits.description_chars)
            .map_err(ApiError::Invalid)?;
        let summary = r.summary.trim().to_owned();
        self.act_on_task(actor, &r.task_id, Action::CompleteTask, |row| {
            row.summary = Some(summary.clone());
            Ok(Emit::Completed(ev::TaskCompleted {
                task_id: row.task_id.clone(),
                item_id: row.item_id.clone(),
                case_id: row.case_id.clone(),
                department: row.department.clone(),
                summary: summary.clone(),
                held_record: None,
            }))
        })
        .await
    }
}
