//! The gRPC APIs: the deciding bodies list, publish and withdraw their disclosures; anyone
//! reads the public ones.

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use liandong_bus::{Change, Outbox};
use liandong_config::clock::SharedClock;
use liandong_domain::auth::{Action, Actor, permits, permits_department_wide};
use liandong_domain::calendar::Calendar;
use liandong_domain::catalogue::Catalogue;
use liandong_domain::disclosure::{
    self, BodyKind, DisclosureAction, DisclosureStatus, permits_disclosure,
};
use liandong_domain::ids::{DepartmentCode, TownCode};
use liandong_domain::limits::{Limits, Validator};
use liandong_domain::masking::mask_text;
use liandong_domain::towns::Towns;
use liandong_grpc::{ApiError, actor, actor_label, page_size};
use liandong_proto::disclosure::v1::{
    self as pb, disclosure_service_server::DisclosureService,
    public_disclosure_service_server::PublicDisclosureService,
};
use liandong_proto::time::from_ts;
use liandong_runtime::Runtime;
use liandong_store::Db;
use tonic::{Request, Response, Status};

use crate::convert::{to_pb, to_public};
use crate::store::{self, DisclosureRow};

/// Disclosure ids are `<town>-<uuid>`; anything much longer is not one.
const ID_CHARS: usize = 128;

/// How far ahead of the clock a stated change of the decision may be: clients' clocks drift.
const CLOCK_SKEW_MINUTES: i64 = 10;

#[derive(Clone)]
pub struct Api {
    db: Db,
    outbox: Outbox,
    clock: SharedClock,
    limits: Limits,
    catalogue: Arc<Catalogue>,
    towns: Arc<Towns>,
    calendar: Arc<Calendar>,
    retention_days: u32,
}

impl Api {
    pub fn new(rt: &Runtime) -> Self {
        Self {
            db: rt.db.clone(),
            outbox: rt.outbox.clone(),
            clock: rt.clock.clone(),
            limits: rt.cfg.limits.clone(),
            catalogue: rt.catalogue.clone(),
            towns: rt.towns.clone(),
            calendar: rt.calendar.clone(),
            retention_days: rt.cfg.disclosure_retention_days,
        }
    }

    async fn list(
        &self,
        actor: &Actor,
        r: pb::ListDisclosuresRequest,
    ) -> Result<Vec<pb::Disclosure>, ApiError> {
        let mut v = Validator::new();
        let status = (!r.status.is_empty())
            .then(|| v.check("status", DisclosureStatus::parse(&r.status)))
            .flatten();
        let (kind, code) = match (r.town.is_empty(), r.department.is_empty()) {
            (false, true) => {
                let town = v.check("town", TownCode::parse(&r.town));
                v.finish().map_err(ApiError::Invalid)?;
                let town = town.expect("checked");
                permits(
                    actor,
                    Action::ReadCase,
                    &liandong_domain::auth::Resource {
                        town: town.clone(),
                        department: None,
                    },
                )?;
                (BodyKind::Town, town.to_string())
            }
            (true, false) => {
                let department = v.check("department", DepartmentCode::parse(&r.department));
                v.finish().map_err(ApiError::Invalid)?;
                let department = department.expect("checked");
                permits_department_wide(actor, Action::ReadInbox, &department)?;
                (BodyKind::Department, department.to_string())
            }
            _ => {
                return Err(ApiError::field(
                    "town",
                    "name exactly one body: a town or a department",
                ));
            }
        };
        let limit = page_size(r.page_size, 50, self.limits.page_size_max);
        let rows = store::by_body(&self.db, kind, &code, status, limit).await?;
        let now = self.clock.now();
        Ok(rows
            .iter()
            .map(|row| to_pb(&self.catalogue, &self.towns, row, now))
            .filter(|d| !r.overdue_only || d.overdue)
            .collect())
    }

    /// Loads a disclosure in a transaction, checks that the deciding body's `actor` may take
    /// `action`, applies `change`, and stores it if nobody changed it meanwhile.
    async fn act(
        &self,
        actor: &Actor,
        id: &str,
        action: DisclosureAction,
        change: impl FnOnce(&mut DisclosureRow, DateTime<Utc>),
    ) -> Result<pb::Disclosure, ApiError> {
        let mut v = Validator::new();
        v.text("disclosure_id", id, ID_CHARS, true);
        v.finish().map_err(ApiError::Invalid)?;
        let now = self.clock.now();
        let mut tx = Change::begin(&self.db, &self.outbox).await?;
        let mut row = store::get_in_tx(&mut tx, id)
            .await?
            .ok_or_else(|| ApiError::NotFound(format!("no disclosure {id}")))?;
        let town = TownCode::parse(&row.town).map_err(|e| ApiError::Internal(e.into()))?;
        let kind = row.body_kind;
        let department = match kind {
            BodyKind::Department => Some(
                DepartmentCode::parse(&row.body_code).map_err(|e| ApiError::Internal(e.into()))?,
            ),
            BodyKind::Town => None,
        };
        let permission = match action {
            DisclosureAction::Publish => Action::PublishDisclosure,
            DisclosureAction::Withdraw => Action::WithdrawDisclosure,
        };
        permits_disclosure(actor, permission, &town, kind, department.as_ref())?;
        let from = row.status;
        row.status = from.next(action)?;
        row.updated_at = now;
        change(&mut row, now);
        if !store::update(&mut tx, &row, from).await? {
            return Err(ApiError::FailedPrecondition(format!(
                "disclosure {id} changed while this request was handled; read it again"
            )));
        }
        crate::events::status_changed(&mut tx, &self.outbox, now, &row, None).await?;
        tx.commit().await?;
        Ok(to_pb(&self.catalogue, &self.towns, &row, now))
    }
}

#[tonic::async_trait]
impl DisclosureService for Api {
    #[tracing::instrument(skip_all, fields(town = %req.get_ref().town, department = %req.get_ref().department), err(level = "info"))]
    async fn list_disclosures(
        &self,
        req: Request<pb::ListDisclosuresRequest>,
    ) -> Result<Response<pb::ListDisclosuresResponse>, Status> {
        let actor = actor(&req)?;
        let disclosures = self.list(&actor, req.into_inner()).await?;
        Ok(Response::new(pb::ListDisclosuresResponse { disclosures }))
    }

    #[tracing::instrument(skip_all, fields(disclosure_id = %req.get_ref().disclosure_id), err(level = "info"))]
    async fn publish_disclosure(
        &self,
        req: Request<pb::PublishDisclosureRequest>,
    ) -> Result<Response<pb::PublishDisclosureResponse>, Status> {
        let actor = actor(&req)?;
        let r = req.into_inner();
        let who = actor_label(&actor);
        let disclosure = self
            .act(
                &actor,
                &r.disclosure_id,
                DisclosureAction::Publish,
                |row, now| {
                    row.published_at = Some(now);
                    row.published_by = Some(who);
                },
            )
            .await?;
        tracing::info!(late = disclosure.published_late, "Published a disclosure.");
        Ok(Response::new(pb::PublishDisclosureResponse {
            disclosure: Some(disclosure),
        }))
    }

    #[tracing::instrument(skip_all, fields(disclosure_id = %req.get_ref().disclosure_id), err(level = "info"))]
    async fn withdraw_disclosure(
        &self,
        req: Request<pb::WithdrawDisclosureRequest>,
    ) -> Result<Response<pb::WithdrawDisclosureResponse>, Status> {
        let actor = actor(&req)?;
        let r = req.into_inner();
        let now = self.clock.now();
        let mut v = Validator::new();
        v.text("reason", &r.reason, self.limits.reason_chars, true);
        let changed_at = match r.decision_changed_at.as_ref() {
            None => now,
            Some(ts) => match from_ts(Some(ts)) {
                Some(at) if at <= now + Duration::minutes(CLOCK_SKEW_MINUTES) => at,
                Some(_) => {
                    v.violation("decision_changed_at", "must not be in the future");
                    now
                }
                None => {
                    v.violation("decision_changed_at", "is not a valid time");
                    now
                }
            },
        };
        v.finish().map_err(ApiError::Invalid)?;
        let due = disclosure::withdrawal_due(&self.calendar, changed_at);
        let who = actor_label(&actor);
        // The reason is shown to the public, so it is masked like every other text.
        let reason = mask_text(r.reason.trim(), &[]);
        let disclosure = self
            .act(
                &actor,
                &r.disclosure_id,
                DisclosureAction::Withdraw,
                |row, now| {
                    row.withdrawn_at = Some(now);
                    row.withdrawn_by = Some(who);
                    row.withdrawal_reason = Some(reason);
                    row.decision_changed_at = Some(changed_at);
                    row.withdrawal_due_at = Some(due.due);
                },
            )
            .await?;
        tracing::info!(late = disclosure.withdrawn_late, "Withdrew a disclosure.");
        Ok(Response::new(pb::WithdrawDisclosureResponse {
            disclosure: Some(disclosure),
        }))
    }
}

#[tonic::async_trait]
impl PublicDisclosureService for Api {
    #[tracing::instrument(skip_all, err(level = "info"))]
    async fn list_public(
        &self,
        req: Request<pb::ListPublicRequest>,
    ) -> Result<Response<pb::ListPublicResponse>, Status> {
        let r = req.into_inner();
        let mut v = Validator::new();
        // The public may filter by any town of the county, and by no other.
        let town = (!r.town.is_empty())
            .then(|| v.check("town", self.towns.parse_known(&r.town)))
            .flatten();
        let offset: i64 = if r.page_token.is_empty() {
            0
        } else {
            v.check("page_token", r.page_token.parse::<u32>())
                .map(i64::from)
                .unwrap_or(0)
        };
        v.finish().map_err(ApiError::Invalid)?;
        let limit = page_size(r.page_size, 50, self.limits.page_size_max);
        let now = self.clock.now();
        // Those published longer ago than the retention have expired and left the pages.
        let cutoff = now - Duration::days(i64::from(self.retention_days));
        let town = town.map(|t| t.to_string());
        let rows = store::public(&self.db, town.as_deref(), cutoff, offset, limit + 1)
            .await
            .map_err(ApiError::from)?;
        let more = rows.len() as i64 > limit;
        let disclosures = rows
            .iter()
            .take(limit as usize)
            .map(|row| to_public(&self.catalogue, &self.towns, row, self.retention_days))
            .collect();
        Ok(Response::new(pb::ListPublicResponse {
            disclosures,
            next_page_token: if more {
                (offset + limit).to_string()
            } else {
                String::new()
            },
        }))
    }
}
