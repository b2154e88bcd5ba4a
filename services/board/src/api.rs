//! The board's gRPC API: a town's agenda.

use liandong_domain::auth::{Action, Resource, permits};
use liandong_domain::ids::TownCode;
use liandong_domain::limits::Limits;
use liandong_plumbing::grpc::{ApiError, actor, page_size};
use liandong_plumbing::runtime::Runtime;
use liandong_plumbing::store::Db;
use liandong_plumbing::time::to_ts;
use liandong_proto::board::v1::{self as pb, board_service_server::BoardService};
use liandong_proto::events::v1 as ev;
use prost::Message;
use tonic::{Request, Response, Status};

use crate::store::{self, ItemRow};

pub struct Api {
    db: Db,
    limits: Limits,
}

impl Api {
    pub fn new(rt: &Runtime) -> Self {
        Self {
            db: rt.db.clone(),
            limits: rt.cfg.limits.clone(),
        }
    }
}

fn to_pb(i: &ItemRow) -> pb::AgendaItem {
    pb::AgendaItem {
        item_id: i.item_id.clone(),
        town: i.town.clone(),
        kind: i.kind.clone(),
        status: i.status.clone(),
        facts: ev::CaseFacts::decode(i.facts.as_slice()).ok(),
        departments: serde_json::from_str(&i.departments).unwrap_or_default(),
        referral_id: i.referral_id.clone().unwrap_or_default(),
        returned_by: i.returned_by.clone().unwrap_or_default(),
        return_reason: i.return_reason.clone().unwrap_or_default(),
        created_at: Some(to_ts(i.created_at)),
    }
}

#[tonic::async_trait]
impl BoardService for Api {
    #[tracing::instrument(skip_all, err)]
    async fn list_agenda(
        &self,
        req: Request<pb::ListAgendaRequest>,
    ) -> Result<Response<pb::ListAgendaResponse>, Status> {
        let actor = actor(&req)?;
        let r = req.into_inner();
        let town = TownCode::parse(&r.town).map_err(|e| ApiError::field("town", e.to_string()))?;
        permits(
            &actor,
            Action::ReadAgenda,
            &Resource {
                town: town.clone(),
                department: None,
            },
        )
        .map_err(ApiError::from)?;
        let limit = page_size(r.page_size, 50, self.limits.page_size_max);
        let rows = store::open_items(&self.db, town.as_str(), limit)
            .await
            .map_err(ApiError::from)?;
        Ok(Response::new(pb::ListAgendaResponse {
            items: rows.iter().map(to_pb).collect(),
        }))
    }
}
