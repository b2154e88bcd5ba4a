//! A department asks the chair to extend the time limit of one of its obligations (延期);
//! the chair's answer comes back to `clocks`.

use liandong_bus::Change;
use liandong_domain::auth::{Action, Actor, Resource, permits};
use liandong_domain::ids::{DepartmentCode, TownCode};
use liandong_domain::limits::Validator;
use liandong_grpc::ApiError;
use liandong_proto::county::v1 as pb;

use crate::context::Api;

impl Api {
    /// Answers with the request's id and the obligation as it now stands.
    pub(crate) async fn request_extension(
        &self,
        actor: &Actor,
        r: pb::RequestExtensionRequest,
    ) -> Result<(String, pb::Obligation), ApiError> {
        let mut v = Validator::new();
        if r.obligation_id.trim().is_empty() {
            v.violation("obligation_id", "name the obligation");
        }
        v.text("reason", &r.reason, self.limits.reason_chars, true);
        let now = self.clock.now();
        let mut tx = Change::begin(&self.db, &self.outbox).await?;
        let o = match r.obligation_id.trim() {
            "" => None,
            id => crate::clocks::get_in_tx(&mut tx, id).await?,
        };
        // The longest extension at once is the department's (its rule's, else the default).
        let max_extension = match o
            .as_ref()
            .and_then(|o| DepartmentCode::parse(&o.department).ok())
        {
            Some(d) => self.time_limits.for_case(Some(&d), &[]).max_extension,
            None => self.time_limits.defaults.max_extension,
        };
        if let Err(e) = liandong_domain::time_limits::check_extension(r.working_days, max_extension)
        {
            v.violation("working_days", e);
        }
        v.finish().map_err(ApiError::Invalid)?;
        let o =
            o.ok_or_else(|| ApiError::NotFound(format!("no obligation {}", r.obligation_id)))?;
        let department = DepartmentCode::parse(&o.department).map_err(|_| {
            ApiError::FailedPrecondition(
                "the case's own clock belongs to no department; ask on the department's clock"
                    .into(),
            )
        })?;
        let town = TownCode::parse(&o.town).map_err(|e| ApiError::Internal(e.into()))?;
        permits(
            actor,
            Action::RequestExtension,
            &Resource {
                town,
                department: Some(department),
            },
        )?;
        if o.met_at.is_some() {
            return Err(ApiError::FailedPrecondition(format!(
                "obligation {} is already met",
                o.obligation_id
            )));
        }
        if let Some(p) = &o.pending_extension {
            return Err(ApiError::FailedPrecondition(format!(
                "extension request {p} is still waiting for the chair"
            )));
        }
        let request_id = crate::clocks::request_extension(
            &mut tx,
            &self.outbox,
            &o,
            r.working_days,
            r.reason.trim(),
            liandong_grpc::actor_to_event(actor),
            now,
        )
        .await?;
        let o = crate::clocks::get_in_tx(&mut tx, &r.obligation_id)
            .await?
            .expect("read in this transaction");
        tx.commit().await?;
        Ok((request_id, crate::clocks::to_pb(&o)))
    }
}
