//! The brigade assigns officers to a case (指派执法人员), and the documents that start.

use liandong_domain::auth::{Action, Actor};
use liandong_domain::ids::OfficerId;
use liandong_domain::limits::Validator;
use liandong_domain::state::CaseAction;
use liandong_grpc::{ApiError, actor_label};
use liandong_proto::brigade::v1 as pb;

use crate::context::Api;
use crate::convert::json;
use crate::documents;
use crate::record::Who;
use crate::registry;
use crate::store;

impl Api {
    pub(crate) async fn assign(
        &self,
        actor: &Actor,
        r: pb::AssignCaseRequest,
    ) -> Result<pb::Case, ApiError> {
        let mut v = Validator::new();
        // At least two enforcement officers handle a case (行政处罚法 第四十二条).
        if r.officers.len() < 2 {
            v.violation(
                "officers",
                "name at least two enforcement officers (行政处罚法 第四十二条)",
            );
        }
        v.max_items(
            "officers",
            r.officers.len(),
            self.limits.officers_per_action,
        );
        let officers: Vec<String> = r
            .officers
            .iter()
            .enumerate()
            .filter_map(|(i, o)| v.check(format!("officers[{i}]"), OfficerId::parse(o)))
            .map(|o| o.to_string())
            .collect();
        v.finish().map_err(ApiError::Invalid)?;
        let mut a = self
            .open_case(actor, Action::AssignCase, &r.case_id)
            .await?;
        let (now, status) = (a.now, a.row.status);
        let next = status.next(CaseAction::Assign)?;
        // Filing (立案) is the first act in the body's name: refused outside its letter.
        a.body(self, None)?;
        // Each holds a valid enforcement certificate (持证上岗), checked in the town's registry.
        registry::require_certified(&mut a.tx, &a.row.town, &officers, now).await?;
        let who = actor_label(actor);
        let here = a.row.here();
        store::upsert_assignment(&mut a.tx, here, &json(&officers), &who, now).await?;
        store::set_status(&mut a.tx, &a.row.case_id, next, now).await?;
        // A case taken up without having been filed in scope (sent back by the joint meeting)
        // is filed at its first assignment; a filed one keeps its filing (clocks.rs).
        let department =
            crate::clocks::rule_department(&self.catalogue, &a.row.deciding.0, &a.row.matters.0);
        crate::clocks::file(
            &mut a.tx,
            &a.row.case_id,
            &a.row.town,
            department.as_deref(),
            now,
        )
        .await?;
        store::add_history(
            &mut a.tx,
            here,
            now,
            "assigned",
            &Who::of(actor),
            &format!("指派执法人员：{}", officers.join("、")),
            None,
        )
        .await?;
        documents::on_assign(
            &mut a.tx,
            now,
            &self.catalogue,
            &self.towns,
            &a.row,
            &officers,
            &Who::of(actor),
        )
        .await?;
        self.finish(a, Some(next)).await
    }
}
