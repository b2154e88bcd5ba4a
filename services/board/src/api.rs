//! The board's gRPC API: a town's agenda, members' opinions, the chair's decisions, meetings
//! and their minutes.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use liandong_bus::{Change, NewEvent, Outbox};
use liandong_config::clock::SharedClock;
use liandong_domain::agenda::{ChairDecision, ItemKind, ItemStatus};
use liandong_domain::auth::{Action, Actor, Resource, permits};
use liandong_domain::catalogue::Catalogue;
use liandong_domain::ids::{DepartmentCode, TownCode, TownScopedId};
use liandong_domain::limits::{Limits, Validator};
use liandong_domain::state::{DisputeAction, DisputeStatus, JointAction, JointStatus, TaskRole};
use liandong_domain::towns::Towns;
use liandong_grpc::{ApiError, actor, actor_to_event, page_size};
use liandong_proto::board::v1::{self as pb, board_service_server::BoardService};
use liandong_proto::events::v1 as ev;
use liandong_runtime::Runtime;
use liandong_store::typed::{Json, Nullable};
use liandong_store::{Db, Tx};
use liandong_topology::AnyEvent;
use tonic::{Request, Response, Status};
use uuid::Uuid;

use crate::convert::{self, item_to_pb, meeting_to_pb};
use crate::minutes;
use crate::store::{self, ItemRow, MeetingRow, OpinionRow};

pub struct Api {
    db: Db,
    outbox: Outbox,
    clock: SharedClock,
    limits: Limits,
    catalogue: Arc<Catalogue>,
    towns: Arc<Towns>,
    supervision: crate::supervision::Supervision,
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
            supervision: crate::supervision::Supervision {
                db: rt.db.clone(),
                outbox: rt.outbox.clone(),
                clock: rt.clock.clone(),
                calendar: rt.calendar.clone(),
                note_chars: rt.cfg.limits.reason_chars,
            },
        }
    }
}

/// The town an item or meeting belongs to, as `permits` wants it. A stored town that does not
/// parse is a broken row, not the caller's mistake.
fn resource(town: &str) -> Result<Resource, ApiError> {
    Ok(Resource {
        town: TownCode::parse(town).map_err(|e| ApiError::Internal(e.into()))?,
        department: None,
    })
}

/// A stored status of the other kind's machine is a broken row, not the caller's mistake.
fn mismatched(item: &ItemRow) -> ApiError {
    ApiError::Internal(anyhow::anyhow!(
        "agenda item {} is a {} with the status {}",
        item.item_id,
        item.kind,
        item.status
    ))
}

fn joint_status(item: &ItemRow) -> Result<JointStatus, ApiError> {
    match item.status {
        ItemStatus::Joint(s) if item.kind == ItemKind::JointCase => Ok(s),
        _ => Err(mismatched(item)),
    }
}

fn dispute_status(item: &ItemRow) -> Result<DisputeStatus, ApiError> {
    match item.status {
        ItemStatus::Dispute(s) if item.kind == ItemKind::CompetenceDispute => Ok(s),
        _ => Err(mismatched(item)),
    }
}

/// Refuses a chair's ruling on the wrong kind of item: a dispute cannot be approved, a joint
/// case cannot be settled.
fn require_kind(item: &ItemRow, want: ItemKind, what: &str) -> Result<(), ApiError> {
    if item.kind == want {
        Ok(())
    } else {
        let is = match want {
            ItemKind::JointCase => "a competence dispute, not a joint case",
            ItemKind::CompetenceDispute => "a joint case, not a competence dispute",
        };
        Err(ApiError::FailedPrecondition(format!(
            "item {} is {is}: it cannot be {what}",
            item.item_id
        )))
    }
}

/// The recorded ruling common to every decision.
struct Ruling<'a> {
    decision: ChairDecision,
    reason: &'a str,
    meeting_id: Option<&'a TownScopedId>,
}

impl Api {
    fn known(&self) -> impl Fn(&DepartmentCode) -> bool + '_ {
        |code| self.catalogue.department(code).is_some()
    }

    /// A department as people read it: its catalogue name, else its code.
    fn department_name(&self, code: &str) -> String {
        DepartmentCode::parse(code)
            .ok()
            .and_then(|c| self.catalogue.department(&c).map(|d| d.name.clone()))
            .unwrap_or_else(|| code.to_owned())
    }

    /// Loads an item inside `tx` and checks that `actor` may take `action` on it.
    async fn load(
        &self,
        tx: &mut Tx,
        actor: &Actor,
        item_id: &str,
        action: Action,
    ) -> Result<ItemRow, ApiError> {
        let item = store::get_in_tx(tx, item_id)
            .await?
            .ok_or_else(|| ApiError::NotFound(format!("no agenda item {item_id}")))?;
        permits(actor, action, &resource(&item.town)?)?;
        Ok(item)
    }

    /// A meeting named in a decision must have been recorded for the item's town.
    async fn check_meeting(
        &self,
        tx: &mut Tx,
        meeting_id: Option<&TownScopedId>,
        town: &str,
    ) -> Result<(), ApiError> {
        let Some(id) = meeting_id else {
            return Ok(());
        };
        match store::get_meeting_in_tx(tx, &id.to_string()).await? {
            Some(m) if m.town == town => Ok(()),
            Some(m) => Err(ApiError::field(
                "meeting_id",
                format!("meeting {id} is of town {}, not {town}", m.town),
            )),
            None => Err(ApiError::field(
                "meeting_id",
                format!("no meeting {id} has been recorded"),
            )),
        }
    }

    /// Records the chair's ruling on `item`, which moves to status `to`.
    fn rule(
        &self,
        item: &mut ItemRow,
        actor: &Actor,
        to: ItemStatus,
        r: Ruling<'_>,
        now: DateTime<Utc>,
    ) {
        item.status = to;
        item.decision = Nullable(Some(r.decision));
        item.decision_reason = Some(r.reason.to_owned()).filter(|s| !s.is_empty());
        item.decided_at = Some(now);
        item.decided_by = Some(actor.officer.to_string());
        item.meeting_id = r.meeting_id.map(ToString::to_string);
        item.updated_at = now;
    }

    /// Stores the item if nobody changed its status since it was read.
    async fn save(&self, tx: &mut Tx, item: &ItemRow, from: ItemStatus) -> Result<(), ApiError> {
        if store::update(tx, item, from).await? {
            // A ruling meets the meeting's time limit (a joint case's clock; others have none).
            if let Some(at) = item.decided_at {
                crate::clocks::stop(tx, &item.item_id, at).await?;
            }
            Ok(())
        } else {
            Err(ApiError::FailedPrecondition(format!(
                "item {} changed while this request was handled; read it again",
                item.item_id
            )))
        }
    }

    /// Puts one of the board's events into the outbox. Every board event is a ruling the
    /// brigade or a department must act on, so each is re-sent until its receipt arrives.
    #[allow(clippy::too_many_arguments)]
    async fn emit(
        &self,
        tx: &mut Tx,
        now: DateTime<Utc>,
        actor: &Actor,
        town: &str,
        department: Option<&str>,
        aggregate_id: &str,
        causation_id: Option<&str>,
        event: AnyEvent,
    ) -> Result<ev::Envelope, ApiError> {
        let e = NewEvent {
            town,
            department,
            aggregate_id,
            actor: Some(actor_to_event(actor)),
            causation_id,
        };
        Ok(self.outbox.emit(tx, now, e, event).await?)
    }

    /// Commits and answers with the item as stored, opinions included.
    async fn finish(&self, mut tx: Change<'_>, item: &ItemRow) -> Result<pb::AgendaItem, ApiError> {
        let opinions = store::opinions_in_tx(&mut tx, &item.item_id).await?;
        tx.commit().await?;
        Ok(item_to_pb(item, &opinions))
    }
}

#[tonic::async_trait]
impl BoardService for Api {
    #[tracing::instrument(skip_all, fields(town = %req.get_ref().town), err(level = "info"))]
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
        let mut rows = store::open_items(&self.db, town.as_str(), limit)
            .await
            .map_err(ApiError::from)?;
        // What awaits the meeting comes first; the page is filled with the latest rulings.
        let room = limit - rows.len() as i64;
        if r.include_decided && room > 0 {
            rows.extend(
                store::decided_items(&self.db, town.as_str(), room)
                    .await
                    .map_err(ApiError::from)?,
            );
        }
        // Each item listed carries its joint case's file: a read of it.
        for item in &rows {
            let read = liandong_access_log::Read {
                rpc: "ListAgenda",
                kind: "agenda_item",
                id: &item.item_id,
                town: &item.town,
                department: None,
            };
            liandong_access_log::record(&self.db, "board", self.clock.now(), &actor, read).await?;
        }
        // Opinions are GetItem's: a page of items does not load every item's discussion.
        Ok(Response::new(pb::ListAgendaResponse {
            items: rows.iter().map(|i| item_to_pb(i, &[])).collect(),
        }))
    }

    #[tracing::instrument(skip_all, fields(item_id = %req.get_ref().item_id), err(level = "info"))]
    async fn get_item(
        &self,
        req: Request<pb::GetItemRequest>,
    ) -> Result<Response<pb::GetItemResponse>, Status> {
        let actor = actor(&req)?;
        let mut v = Validator::new();
        let id = convert::item_id(&mut v, &req.get_ref().item_id);
        v.finish().map_err(ApiError::Invalid)?;
        let item = store::get(&self.db, &id)
            .await
            .map_err(ApiError::from)?
            .ok_or_else(|| ApiError::NotFound(format!("no agenda item {id}")))?;
        permits(&actor, Action::ReadAgenda, &resource(&item.town)?).map_err(ApiError::from)?;
        // An agenda item carries the joint case's file: the read is logged.
        let read = liandong_access_log::Read {
            rpc: "GetItem",
            kind: "agenda_item",
            id: &id,
            town: &item.town,
            department: None,
        };
        liandong_access_log::record(&self.db, "board", self.clock.now(), &actor, read).await?;
        let opinions = store::opinions(&self.db, &id)
            .await
            .map_err(ApiError::from)?;
        Ok(Response::new(pb::GetItemResponse {
            item: Some(item_to_pb(&item, &opinions)),
        }))
    }

    #[tracing::instrument(skip_all, fields(item_id = %req.get_ref().item_id), err(level = "info"))]
    async fn record_opinion(
        &self,
        req: Request<pb::RecordOpinionRequest>,
    ) -> Result<Response<pb::RecordOpinionResponse>, Status> {
        let actor = actor(&req)?;
        let o = convert::parse_opinion(req.get_ref(), &self.limits).map_err(ApiError::Invalid)?;
        let now = self.clock.now();
        let mut tx = Change::begin(&self.db, &self.outbox)
            .await
            .map_err(ApiError::from)?;
        let item = self
            .load(&mut tx, &actor, &o.item_id, Action::RecordOpinion)
            .await?;
        match item.kind {
            ItemKind::JointCase => {
                joint_status(&item)?
                    .next(JointAction::RecordOpinion)
                    .map_err(ApiError::from)?;
            }
            // The dispute machine has no opinion step; members may speak while it is open.
            ItemKind::CompetenceDispute => {
                if dispute_status(&item)? != DisputeStatus::Open {
                    return Err(ApiError::FailedPrecondition(format!(
                        "the competence dispute {} is {}: opinions are recorded only while it is open",
                        item.item_id, item.status
                    ))
                    .into());
                }
            }
        }
        let town = resource(&item.town)?.town;
        let opinion = OpinionRow {
            opinion_id: TownScopedId::new(town, Uuid::now_v7()).to_string(),
            item_id: item.item_id.clone(),
            town: item.town.clone(),
            member: actor.officer.to_string(),
            opinion: o.opinion,
            at: now,
        };
        store::insert_opinion(&mut tx, &opinion)
            .await
            .map_err(ApiError::from)?;
        let item = self.finish(tx, &item).await?;
        Ok(Response::new(pb::RecordOpinionResponse {
            item: Some(item),
        }))
    }

    #[tracing::instrument(skip_all, fields(item_id = %req.get_ref().item_id), err(level = "info"))]
    async fn approve_joint(
        &self,
        req: Request<pb::ApproveJointRequest>,
    ) -> Result<Response<pb::ApproveJointResponse>, Status> {
        let actor = actor(&req)?;
        let known = self.known();
        let a = convert::parse_approval(req.get_ref(), &self.limits, &known)
            .map_err(ApiError::Invalid)?;
        let now = self.clock.now();
        let mut tx = Change::begin(&self.db, &self.outbox)
            .await
            .map_err(ApiError::from)?;
        let mut item = self
            .load(&mut tx, &actor, &a.item_id, Action::ApproveJoint)
            .await?;
        require_kind(&item, ItemKind::JointCase, "approved")?;
        let from = joint_status(&item)?;
        let to = from.next(JointAction::Approve).map_err(ApiError::from)?;
        self.check_meeting(&mut tx, a.meeting_id.as_ref(), &item.town)
            .await?;
        let cooperating: Vec<String> = a.cooperating.iter().map(ToString::to_string).collect();
        self.rule(
            &mut item,
            &actor,
            to.into(),
            Ruling {
                decision: ChairDecision::Approved,
                reason: &a.instructions,
                meeting_id: a.meeting_id.as_ref(),
            },
            now,
        );
        item.lead_department = Some(a.lead.to_string());
        item.cooperating_departments = Nullable(Some(Json(cooperating.clone())));
        item.completed_by = Nullable(Some(Json(Vec::new())));
        self.save(&mut tx, &item, from.into()).await?;

        let approved = ev::JointApproved {
            item_id: item.item_id.clone(),
            case_id: item.case_id.clone(),
            lead_department: a.lead.to_string(),
            cooperating_departments: cooperating,
            instructions: a.instructions.clone(),
            meeting_id: a.meeting_id.map(|m| m.to_string()).unwrap_or_default(),
        };
        let env = self
            .emit(
                &mut tx,
                now,
                &actor,
                &item.town,
                None,
                &item.item_id,
                None,
                AnyEvent::BoardJointApproved(approved),
            )
            .await?;
        let facts = Some(item.facts.0.clone());
        let town = resource(&item.town)?.town;
        let roles = std::iter::once((&a.lead, TaskRole::Lead))
            .chain(a.cooperating.iter().map(|d| (d, TaskRole::Cooperating)));
        for (department, role) in roles {
            let task_id = TownScopedId::new(town.clone(), Uuid::now_v7()).to_string();
            let task = ev::TaskAssigned {
                task_id: task_id.clone(),
                item_id: item.item_id.clone(),
                case_id: item.case_id.clone(),
                department: department.to_string(),
                role: role.as_str().into(),
                facts: facts.clone(),
                instructions: a.instructions.clone(),
                lead_department: a.lead.to_string(),
            };
            // Each task is its own aggregate at its department, caused by the approval.
            self.emit(
                &mut tx,
                now,
                &actor,
                &item.town,
                Some(department.as_str()),
                &task_id,
                Some(&env.event_id),
                AnyEvent::BoardTaskAssigned(task),
            )
            .await?;
        }
        let item = self.finish(tx, &item).await?;
        Ok(Response::new(pb::ApproveJointResponse { item: Some(item) }))
    }

    #[tracing::instrument(skip_all, fields(item_id = %req.get_ref().item_id), err(level = "info"))]
    async fn reclassify_joint(
        &self,
        req: Request<pb::ReclassifyJointRequest>,
    ) -> Result<Response<pb::ReclassifyJointResponse>, Status> {
        let actor = actor(&req)?;
        let known = self.known();
        let r = convert::parse_reclassification(req.get_ref(), &self.limits, &known)
            .map_err(ApiError::Invalid)?;
        let now = self.clock.now();
        let mut tx = Change::begin(&self.db, &self.outbox)
            .await
            .map_err(ApiError::from)?;
        let mut item = self
            .load(&mut tx, &actor, &r.item_id, Action::ReclassifyJoint)
            .await?;
        require_kind(&item, ItemKind::JointCase, "reclassified")?;
        let from = joint_status(&item)?;
        let to = from.next(JointAction::Reclassify).map_err(ApiError::from)?;
        self.check_meeting(&mut tx, r.meeting_id.as_ref(), &item.town)
            .await?;
        self.rule(
            &mut item,
            &actor,
            to.into(),
            Ruling {
                decision: ChairDecision::Reclassified,
                reason: &r.reason,
                meeting_id: r.meeting_id.as_ref(),
            },
            now,
        );
        item.reclassified_path = Nullable(Some(r.to.triage_path()));
        item.decided_department = r.to.department().map(ToString::to_string);
        self.save(&mut tx, &item, from.into()).await?;
        let payload = ev::JointReclassified {
            item_id: item.item_id.clone(),
            case_id: item.case_id.clone(),
            path: r.to.path() as i32,
            department: item.decided_department.clone().unwrap_or_default(),
            reason: r.reason.clone(),
        };
        self.emit(
            &mut tx,
            now,
            &actor,
            &item.town,
            None,
            &item.item_id,
            None,
            AnyEvent::BoardJointReclassified(payload),
        )
        .await?;
        let item = self.finish(tx, &item).await?;
        Ok(Response::new(pb::ReclassifyJointResponse {
            item: Some(item),
        }))
    }

    #[tracing::instrument(skip_all, fields(item_id = %req.get_ref().item_id), err(level = "info"))]
    async fn send_back_joint(
        &self,
        req: Request<pb::SendBackJointRequest>,
    ) -> Result<Response<pb::SendBackJointResponse>, Status> {
        let actor = actor(&req)?;
        let s = convert::parse_send_back(req.get_ref(), &self.limits).map_err(ApiError::Invalid)?;
        let now = self.clock.now();
        let mut tx = Change::begin(&self.db, &self.outbox)
            .await
            .map_err(ApiError::from)?;
        let mut item = self
            .load(&mut tx, &actor, &s.item_id, Action::SendBackJoint)
            .await?;
        require_kind(&item, ItemKind::JointCase, "sent back")?;
        let from = joint_status(&item)?;
        let to = from.next(JointAction::SendBack).map_err(ApiError::from)?;
        self.check_meeting(&mut tx, s.meeting_id.as_ref(), &item.town)
            .await?;
        self.rule(
            &mut item,
            &actor,
            to.into(),
            Ruling {
                decision: ChairDecision::SentBack,
                reason: &s.reason,
                meeting_id: s.meeting_id.as_ref(),
            },
            now,
        );
        self.save(&mut tx, &item, from.into()).await?;
        let payload = ev::JointSentBack {
            item_id: item.item_id.clone(),
            case_id: item.case_id.clone(),
            reason: s.reason.clone(),
        };
        self.emit(
            &mut tx,
            now,
            &actor,
            &item.town,
            None,
            &item.item_id,
            None,
            AnyEvent::BoardJointSentBack(payload),
        )
        .await?;
        let item = self.finish(tx, &item).await?;
        Ok(Response::new(pb::SendBackJointResponse {
            item: Some(item),
        }))
    }

    #[tracing::instrument(skip_all, fields(item_id = %req.get_ref().item_id), err(level = "info"))]
    async fn settle_dispute(
        &self,
        req: Request<pb::SettleDisputeRequest>,
    ) -> Result<Response<pb::SettleDisputeResponse>, Status> {
        let actor = actor(&req)?;
        let known = self.known();
        let s = convert::parse_settlement(req.get_ref(), &self.limits, &known)
            .map_err(ApiError::Invalid)?;
        let now = self.clock.now();
        let mut tx = Change::begin(&self.db, &self.outbox)
            .await
            .map_err(ApiError::from)?;
        let mut item = self
            .load(&mut tx, &actor, &s.item_id, Action::SettleDispute)
            .await?;
        require_kind(&item, ItemKind::CompetenceDispute, "settled")?;
        let from = dispute_status(&item)?;
        let to = from.next(DisputeAction::Settle).map_err(ApiError::from)?;
        self.check_meeting(&mut tx, s.meeting_id.as_ref(), &item.town)
            .await?;
        self.rule(
            &mut item,
            &actor,
            to.into(),
            Ruling {
                decision: ChairDecision::Settled,
                reason: &s.reason,
                meeting_id: s.meeting_id.as_ref(),
            },
            now,
        );
        item.decided_department = Some(s.department.to_string());
        self.save(&mut tx, &item, from.into()).await?;
        let payload = ev::DisputeSettled {
            item_id: item.item_id.clone(),
            case_id: item.case_id.clone(),
            referral_id: item.referral_id.clone().unwrap_or_default(),
            from_department: item.returned_by.clone().unwrap_or_default(),
            to_department: s.department.to_string(),
            reason: s.reason.clone(),
        };
        self.emit(
            &mut tx,
            now,
            &actor,
            &item.town,
            None,
            &item.item_id,
            None,
            AnyEvent::BoardDisputeSettled(payload),
        )
        .await?;
        let item = self.finish(tx, &item).await?;
        Ok(Response::new(pb::SettleDisputeResponse {
            item: Some(item),
        }))
    }

    #[tracing::instrument(skip_all, fields(town = %req.get_ref().town), err(level = "info"))]
    async fn list_supervision(
        &self,
        req: Request<pb::ListSupervisionRequest>,
    ) -> Result<Response<pb::ListSupervisionResponse>, Status> {
        let actor = actor(&req)?;
        Ok(Response::new(
            self.supervision.list(&actor, req.into_inner()).await?,
        ))
    }

    #[tracing::instrument(skip_all, fields(request_id = %req.get_ref().request_id), err(level = "info"))]
    async fn decide_extension(
        &self,
        req: Request<pb::DecideExtensionRequest>,
    ) -> Result<Response<pb::DecideExtensionResponse>, Status> {
        let actor = actor(&req)?;
        Ok(Response::new(
            self.supervision.decide(&actor, req.into_inner()).await?,
        ))
    }

    #[tracing::instrument(skip_all, fields(town = %req.get_ref().town), err(level = "info"))]
    async fn get_activity_figures(
        &self,
        req: Request<pb::GetActivityFiguresRequest>,
    ) -> Result<Response<pb::GetActivityFiguresResponse>, Status> {
        let actor = actor(&req)?;
        Ok(Response::new(
            self.supervision.figures(&actor, req.into_inner()).await?,
        ))
    }

    #[tracing::instrument(skip_all, fields(town = %req.get_ref().town), err(level = "info"))]
    async fn get_satisfaction_figures(
        &self,
        req: Request<pb::GetSatisfactionFiguresRequest>,
    ) -> Result<Response<pb::GetSatisfactionFiguresResponse>, Status> {
        let actor = actor(&req)?;
        Ok(Response::new(
            crate::satisfaction::figures(&self.db, &actor, req.into_inner()).await?,
        ))
    }

    #[tracing::instrument(skip_all, fields(town = %req.get_ref().town), err(level = "info"))]
    async fn record_meeting(
        &self,
        req: Request<pb::RecordMeetingRequest>,
    ) -> Result<Response<pb::RecordMeetingResponse>, Status> {
        let actor = actor(&req)?;
        let now = self.clock.now();
        let m =
            convert::parse_meeting(req.get_ref(), &self.limits, now).map_err(ApiError::Invalid)?;
        permits(
            &actor,
            Action::RecordMeeting,
            &Resource {
                town: m.town.clone(),
                department: None,
            },
        )
        .map_err(ApiError::from)?;
        let mut tx = Change::begin(&self.db, &self.outbox)
            .await
            .map_err(ApiError::from)?;
        // Every item discussed must be on this town's agenda; all wrong ones are named at once.
        let mut v = Validator::new();
        for (i, id) in m.item_ids.iter().enumerate() {
            match store::get_in_tx(&mut tx, id)
                .await
                .map_err(ApiError::from)?
            {
                Some(item) if item.town == m.town.as_str() => {}
                Some(_) | None => v.violation(
                    format!("item_ids[{i}]"),
                    format!("no agenda item {id} in town {}", m.town),
                ),
            }
        }
        v.finish().map_err(ApiError::Invalid)?;
        let row = MeetingRow {
            meeting_id: TownScopedId::new(m.town.clone(), Uuid::now_v7()).to_string(),
            town: m.town.to_string(),
            held_at: m.held_at,
            attendees: Json(m.attendees),
            item_ids: Json(m.item_ids),
            notes: m.notes,
            recorded_by: actor.officer.to_string(),
            created_at: now,
        };
        store::insert_meeting(&mut tx, &row)
            .await
            .map_err(ApiError::from)?;
        tx.commit().await.map_err(ApiError::from)?;
        Ok(Response::new(pb::RecordMeetingResponse {
            meeting: Some(meeting_to_pb(&row)),
        }))
    }

    #[tracing::instrument(skip_all, fields(meeting_id = %req.get_ref().meeting_id), err(level = "info"))]
    async fn export_minutes(
        &self,
        req: Request<pb::ExportMinutesRequest>,
    ) -> Result<Response<pb::ExportMinutesResponse>, Status> {
        let actor = actor(&req)?;
        let id = req.get_ref().meeting_id.trim().to_owned();
        TownScopedId::parse(&id).map_err(|e| ApiError::field("meeting_id", e.to_string()))?;
        let meeting = store::get_meeting(&self.db, &id)
            .await
            .map_err(ApiError::from)?
            .ok_or_else(|| ApiError::NotFound(format!("no meeting {id}")))?;
        permits(&actor, Action::ReadAgenda, &resource(&meeting.town)?).map_err(ApiError::from)?;
        let mut items = Vec::new();
        for item_id in meeting.item_ids.iter() {
            // Items are never deleted, so one missing means a broken row: say so, not skip it.
            let item = store::get(&self.db, item_id)
                .await
                .map_err(ApiError::from)?
                .ok_or_else(|| {
                    ApiError::Internal(anyhow::anyhow!(
                        "meeting {id} names item {item_id}, which is not stored"
                    ))
                })?;
            let opinions = store::opinions(&self.db, item_id)
                .await
                .map_err(ApiError::from)?;
            items.push((item, opinions));
        }
        let town = TownCode::parse(&meeting.town)
            .ok()
            .and_then(|t| self.towns.town(&t));
        let markdown = minutes::render(&meeting, town, &items, &|code| self.department_name(code));
        Ok(Response::new(pb::ExportMinutesResponse {
            meeting: Some(meeting_to_pb(&meeting)),
            markdown,
        }))
    }
}
