//! The county's gRPC API: a department's inbox and what it does with each referral; the
//! joint-case tasks and handovers are handled in `tasks`.

use chrono::{DateTime, Utc};
use liandong_bus::{Change, NewEvent};
use liandong_domain::auth::{Action, Actor, Resource, permits, permits_department_wide};
use liandong_domain::ids::{DepartmentCode, OfficerId, TownCode, TownScopedId};
use liandong_domain::limits::Validator;
use liandong_domain::outcome::check_outcome;
use liandong_domain::state::{ReferralAction, ReferralStatus};
use liandong_grpc::{ApiError, actor, actor_label, actor_to_event_certified, page_size};
use liandong_proto::county::v1::{self as pb, county_service_server::CountyService};
use liandong_proto::events::v1 as ev;
use liandong_record::{NewEntry, Who};
use liandong_store::Tx;
use liandong_store::typed::{Json, Nullable, Proto};
use liandong_topology::{AnyEvent, EventKind};
use tonic::{Request, Response, Status};

use crate::context::Api;
use crate::convert::{certified, outcome_input, referral_to_pb as to_pb};
use crate::store::{self, ReferralRow};

/// What a referral action tells others.
enum Emit {
    /// A step of the referral, for the brigade (and others the topology names).
    Step(Box<AnyEvent>),
    /// A major decision proposed for the department's legal review: `review_requested`.
    ReviewRequested(Box<ev::Outcome>),
}

impl Emit {
    fn step(event: AnyEvent) -> Emit {
        Emit::Step(Box::new(event))
    }

    /// The record's kind of the step: the event's name.
    fn record_kind(&self) -> &'static str {
        match self {
            Emit::Step(e) => e.kind().name(),
            Emit::ReviewRequested(_) => EventKind::CountyReviewRequested.name(),
        }
    }
}

/// One referral action: the domain transition, the row's new fields, and what to tell others.
struct Step {
    action: ReferralAction,
    permission: Action,
    history: String,
}

fn parse_referral_id(id: &str) -> Result<TownScopedId, ApiError> {
    TownScopedId::parse(id).map_err(|e| ApiError::field("referral_id", e.to_string()))
}

impl Api {
    /// Loads the referral, checks who may act, applies the transition and `change`, stores,
    /// emits, and commits — all or nothing.
    async fn act(
        &self,
        actor: &Actor,
        referral_id: &str,
        step: Step,
        change: impl FnOnce(&mut ReferralRow, DateTime<Utc>) -> Emit,
    ) -> Result<pb::Referral, ApiError> {
        parse_referral_id(referral_id)?;
        let now = self.clock.now();
        let mut tx = Change::begin(&self.db, &self.outbox).await?;
        let mut row = store::get_in_tx(&mut tx, referral_id)
            .await?
            .ok_or_else(|| ApiError::NotFound(format!("no referral {referral_id}")))?;
        self.check(actor, step.permission, &row)?;
        // 持证上岗: concluding is an enforcement act; the record keeps the certificate used.
        let certificate_no = crate::registry::require_certificate(
            &mut tx,
            actor,
            step.permission,
            &row.department,
            now,
        )
        .await?;
        let status = row.status;
        let next = status.next(step.action)?;
        if step.action == ReferralAction::Return {
            // Returns per case are capped: past the cap the chair's settlement stands.
            let returns = crate::clocks::returns_of_case(&mut tx, &row.case_id).await?;
            liandong_domain::time_limits::check_return(
                &row.case_id,
                u32::try_from(returns).unwrap_or(u32::MAX),
                self.time_limits.defaults.max_returns_per_case,
            )
            .map_err(|e| ApiError::FailedPrecondition(e.to_string()))?;
        }
        row.status = next;
        row.updated_at = now;
        let emit = change(&mut row, now);
        store::update(&mut tx, &row).await?;
        let kind = emit.record_kind();
        let env = self
            .emit(&mut tx, actor, &certificate_no, &row, now, emit)
            .await?;
        let history = certified(&step.history, &certificate_no);
        store::add_history(
            &mut tx,
            referral_id,
            now,
            step.action.as_str(),
            &actor_label(actor),
            &history,
        )
        .await?;
        // The department's own step, in the record of the case file it holds (if it holds it).
        crate::record::enter(
            &mut tx,
            &row.case_id,
            &row.department,
            NewEntry {
                at: now,
                kind,
                who: &Who::certified(actor, certificate_no.clone()),
                detail: &step.history,
                evidence_digests: Vec::new(),
                event: env.as_ref(),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(to_pb(&row))
    }

    async fn emit(
        &self,
        tx: &mut Tx,
        actor: &Actor,
        certificate_no: &str,
        row: &ReferralRow,
        now: DateTime<Utc>,
        emit: Emit,
    ) -> Result<Option<ev::Envelope>, ApiError> {
        if let Emit::ReviewRequested(outcome) = &emit {
            crate::review_request::submit(
                tx,
                &self.outbox,
                &self.catalogue,
                now,
                row,
                outcome,
                actor_to_event_certified(actor, certificate_no),
                None,
            )
            .await?;
            return Ok(None);
        }
        // Every step of a referral goes back to the brigade, which applies them in order: a
        // step lost by the broker would hold back the ones behind it, so each waits for its
        // receipt and is re-sent until it arrives.
        let Emit::Step(event) = emit else {
            unreachable!("a review request is submitted above")
        };
        let mut event = *event;
        let ev = NewEvent {
            town: &row.town,
            department: Some(&row.department),
            aggregate_id: &row.referral_id,
            actor: Some(actor_to_event_certified(actor, certificate_no)),
            causation_id: None,
        };
        // A step on a case file the department holds carries the head of its record as it
        // stood, which the brigade, keeping the event, holds once its receipt comes back.
        let held = crate::record::head_in_tx(tx, &row.case_id, &row.department).await?;
        let stamped = match &mut event {
            AnyEvent::CountyReferralAssigned(p) => {
                p.held_record = held.as_ref().map(|h| h.head.clone());
                held.as_ref()
            }
            AnyEvent::CountyReferralConcluded(p) => {
                p.held_record = held.as_ref().map(|h| h.head.clone());
                held.as_ref()
            }
            _ => None,
        };
        let decided = match &event {
            AnyEvent::CountyReferralConcluded(p) => p.outcome.clone(),
            _ => None,
        };
        let env = self.outbox.emit(tx, now, ev, event).await?;
        // The decision in force, which a later change names.
        if let Some(outcome) = &decided {
            liandong_decision::set_in_force(
                tx,
                crate::review_request::on_referral(&row.referral_id),
                Some((&env, outcome)),
                now,
            )
            .await?;
        }
        crate::record::note_sent(tx, &env.event_id, stamped).await?;
        Ok(Some(env))
    }
}

#[tonic::async_trait]
impl CountyService for Api {
    #[tracing::instrument(skip_all, err(level = "info"))]
    async fn list_inbox(
        &self,
        req: Request<pb::ListInboxRequest>,
    ) -> Result<Response<pb::ListInboxResponse>, Status> {
        let actor = actor(&req)?;
        let r = req.into_inner();
        let mut v = Validator::new();
        let department = v.check("department", DepartmentCode::parse(&r.department));
        let status = if r.status.is_empty() {
            None
        } else {
            v.check("status", ReferralStatus::parse(&r.status))
        };
        let town = if r.town.is_empty() {
            None
        } else {
            v.check("town", TownCode::parse(&r.town))
        };
        v.finish().map_err(ApiError::Invalid)?;
        let department = department.expect("checked");
        permits_department_wide(&actor, Action::ReadInbox, &department).map_err(ApiError::from)?;
        let limit = page_size(r.page_size, 50, self.limits.page_size_max);
        let rows = store::inbox(
            &self.db,
            department.as_str(),
            status,
            town.as_ref().map(TownCode::as_str),
            limit,
        )
        .await
        .map_err(ApiError::from)?;
        // Each referral listed is a read of its case file.
        for row in &rows {
            self.log_read(
                &actor,
                "ListInbox",
                &row.referral_id,
                &row.town,
                &row.department,
            )
            .await?;
        }
        Ok(Response::new(pb::ListInboxResponse {
            referrals: rows.iter().map(to_pb).collect(),
        }))
    }

    #[tracing::instrument(skip_all, fields(referral_id = %req.get_ref().referral_id), err(level = "info"))]
    async fn get_referral(
        &self,
        req: Request<pb::GetReferralRequest>,
    ) -> Result<Response<pb::GetReferralResponse>, Status> {
        let actor = actor(&req)?;
        let id = req.into_inner().referral_id;
        parse_referral_id(&id)?;
        let row = store::get(&self.db, &id)
            .await
            .map_err(ApiError::from)?
            .ok_or_else(|| ApiError::NotFound(format!("no referral {id}")))?;
        self.check(&actor, Action::ReadInbox, &row)?;
        self.log_read(&actor, "GetReferral", &id, &row.town, &row.department)
            .await?;
        Ok(Response::new(pb::GetReferralResponse {
            referral: Some(to_pb(&row)),
        }))
    }

    #[tracing::instrument(skip_all, fields(referral_id = %req.get_ref().referral_id), err(level = "info"))]
    async fn sign_for_referral(
        &self,
        req: Request<pb::SignForReferralRequest>,
    ) -> Result<Response<pb::SignForReferralResponse>, Status> {
        let actor = actor(&req)?;
        let id = req.into_inner().referral_id;
        let step = Step {
            action: ReferralAction::SignFor,
            permission: Action::SignForReferral,
            history: "签收移送".into(),
        };
        let referral = self
            .act(&actor, &id, step, |row, now| {
                row.signed_for_at = Some(now);
                Emit::step(AnyEvent::CountyReferralSignedFor(ev::ReferralSignedFor {
                    referral_id: row.referral_id.clone(),
                    case_id: row.case_id.clone(),
                }))
            })
            .await?;
        Ok(Response::new(pb::SignForReferralResponse {
            referral: Some(referral),
        }))
    }

    #[tracing::instrument(skip_all, fields(referral_id = %req.get_ref().referral_id), err(level = "info"))]
    async fn accept_referral(
        &self,
        req: Request<pb::AcceptReferralRequest>,
    ) -> Result<Response<pb::AcceptReferralResponse>, Status> {
        let actor = actor(&req)?;
        let id = req.into_inner().referral_id;
        let step = Step {
            action: ReferralAction::Accept,
            permission: Action::AcceptReferral,
            history: "受理移送".into(),
        };
        let referral = self
            .act(&actor, &id, step, |row, now| {
                // Accepting without signing first signs for it too.
                row.signed_for_at.get_or_insert(now);
                row.accepted_at = Some(now);
                Emit::step(AnyEvent::CountyReferralAccepted(ev::ReferralAccepted {
                    referral_id: row.referral_id.clone(),
                    case_id: row.case_id.clone(),
                }))
            })
            .await?;
        Ok(Response::new(pb::AcceptReferralResponse {
            referral: Some(referral),
        }))
    }

    #[tracing::instrument(skip_all, fields(referral_id = %req.get_ref().referral_id), err(level = "info"))]
    async fn return_referral(
        &self,
        req: Request<pb::ReturnReferralRequest>,
    ) -> Result<Response<pb::ReturnReferralResponse>, Status> {
        let actor = actor(&req)?;
        let r = req.into_inner();
        let mut v = Validator::new();
        v.text("reason", &r.reason, self.limits.reason_chars, true);
        v.finish().map_err(ApiError::Invalid)?;
        let reason = r.reason.trim().to_owned();
        let step = Step {
            action: ReferralAction::Return,
            permission: Action::ReturnReferral,
            history: format!("退回移送：{reason}"),
        };
        let referral = self
            .act(&actor, &r.referral_id, step, |row, _| {
                row.return_reason = Some(reason.clone());
                Emit::step(AnyEvent::CountyReferralReturned(ev::ReferralReturned {
                    referral_id: row.referral_id.clone(),
                    case_id: row.case_id.clone(),
                    reason: reason.clone(),
                    not_competent: r.not_competent,
                }))
            })
            .await?;
        Ok(Response::new(pb::ReturnReferralResponse {
            referral: Some(referral),
        }))
    }

    #[tracing::instrument(skip_all, fields(referral_id = %req.get_ref().referral_id), err(level = "info"))]
    async fn assign_referral(
        &self,
        req: Request<pb::AssignReferralRequest>,
    ) -> Result<Response<pb::AssignReferralResponse>, Status> {
        let actor = actor(&req)?;
        let r = req.into_inner();
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
        let referral = self
            .act(&actor, &r.referral_id, step, |row, _| {
                row.staff = Json(staff.clone());
                Emit::step(AnyEvent::CountyReferralAssigned(ev::ReferralAssigned {
                    referral_id: row.referral_id.clone(),
                    case_id: row.case_id.clone(),
                    staff: staff.clone(),
                    // Stamped as the step is emitted.
                    held_record: None,
                }))
            })
            .await?;
        Ok(Response::new(pb::AssignReferralResponse {
            referral: Some(referral),
        }))
    }

    #[tracing::instrument(skip_all, fields(referral_id = %req.get_ref().referral_id), err(level = "info"))]
    #[tracing::instrument(skip_all, fields(referral_id = %req.get_ref().referral_id))]
    async fn change_referral_decision(
        &self,
        req: Request<pb::ChangeReferralDecisionRequest>,
    ) -> Result<Response<pb::ChangeReferralDecisionResponse>, Status> {
        let actor = actor(&req)?;
        let referral = self.change_decision(&actor, req.into_inner()).await?;
        Ok(Response::new(pb::ChangeReferralDecisionResponse {
            referral: Some(referral),
        }))
    }

    async fn conclude_referral(
        &self,
        req: Request<pb::ConcludeReferralRequest>,
    ) -> Result<Response<pb::ConcludeReferralResponse>, Status> {
        let actor = actor(&req)?;
        let r = req.into_inner();
        let outcome = r.outcome.unwrap_or_default();
        let mut v = Validator::new();
        check_outcome(
            &mut v,
            "outcome",
            &outcome_input(&outcome),
            self.limits.description_chars,
            self.limits.evidence_refs_per_case,
        );
        v.finish().map_err(ApiError::Invalid)?;
        // A major decision (by the catalogue of the case's matters) takes effect only once the
        // department's legal office approves it: the referral waits for the review instead.
        parse_referral_id(&r.referral_id)?;
        let current = store::get(&self.db, &r.referral_id)
            .await
            .map_err(ApiError::from)?
            .ok_or_else(|| ApiError::NotFound(format!("no referral {}", r.referral_id)))?;
        let facts = (*current.facts).clone();
        let major = crate::review_request::requires_review(&self.catalogue, &facts, &outcome)
            .map_err(|e| ApiError::FailedPrecondition(e.to_string()))?;
        if major {
            let name =
                crate::review_request::decided_in_name_of(&self.catalogue, &current.department);
            let step = Step {
                action: ReferralAction::SubmitForReview,
                permission: Action::ConcludeReferral,
                history: crate::review_request::submitted_detail(&name, &outcome),
            };
            let referral = self
                .act(&actor, &r.referral_id, step, |_, _| {
                    Emit::ReviewRequested(Box::new(outcome.clone()))
                })
                .await?;
            return Ok(Response::new(pb::ConcludeReferralResponse {
                referral: Some(referral),
            }));
        }
        let step = Step {
            action: ReferralAction::Conclude,
            permission: Action::ConcludeReferral,
            history: format!("办结：{}（{}）", outcome.kind, outcome.summary),
        };
        let referral = self
            .act(&actor, &r.referral_id, step, |row, now| {
                row.concluded_at = Some(now);
                row.outcome = Nullable(Some(Proto(outcome.clone())));
                // What the case was about, for the department's public disclosure.
                let facts = row.facts.0.clone();
                Emit::step(AnyEvent::CountyReferralConcluded(ev::ReferralConcluded {
                    referral_id: row.referral_id.clone(),
                    case_id: row.case_id.clone(),
                    outcome: Some(outcome.clone()),
                    matters: facts.matters,
                    town: row.town.clone(),
                    description: facts.description,
                    // Stamped as the step is emitted.
                    held_record: None,
                }))
            })
            .await?;
        Ok(Response::new(pb::ConcludeReferralResponse {
            referral: Some(referral),
        }))
    }

    #[tracing::instrument(skip_all, fields(department = %req.get_ref().department), err(level = "info"))]
    async fn list_obligations(
        &self,
        req: Request<pb::ListObligationsRequest>,
    ) -> Result<Response<pb::ListObligationsResponse>, Status> {
        let actor = actor(&req)?;
        let r = req.into_inner();
        let mut v = Validator::new();
        let department = v.check("department", DepartmentCode::parse(&r.department));
        v.finish().map_err(ApiError::Invalid)?;
        let department = department.expect("checked");
        permits_department_wide(&actor, Action::ReadInbox, &department).map_err(ApiError::from)?;
        let limit = page_size(r.page_size, 100, self.limits.page_size_max);
        let rows = crate::clocks::list(
            &self.db,
            department.as_str(),
            r.open_only,
            r.overdue_only,
            limit,
        )
        .await
        .map_err(ApiError::from)?;
        Ok(Response::new(pb::ListObligationsResponse {
            obligations: rows.iter().map(crate::clocks::to_pb).collect(),
        }))
    }

    #[tracing::instrument(skip_all, fields(obligation_id = %req.get_ref().obligation_id), err(level = "info"))]
    async fn request_extension(
        &self,
        req: Request<pb::RequestExtensionRequest>,
    ) -> Result<Response<pb::RequestExtensionResponse>, Status> {
        let actor = actor(&req)?;
        let r = req.into_inner();
        let mut v = Validator::new();
        if r.obligation_id.trim().is_empty() {
            v.violation("obligation_id", "name the obligation");
        }
        v.text("reason", &r.reason, self.limits.reason_chars, true);
        if let Err(e) = liandong_domain::time_limits::check_extension(
            r.working_days,
            self.time_limits.defaults.max_extension,
        ) {
            v.violation("working_days", e);
        }
        v.finish().map_err(ApiError::Invalid)?;
        let now = self.clock.now();
        let mut tx = Change::begin(&self.db, &self.outbox)
            .await
            .map_err(ApiError::from)?;
        let o = crate::clocks::get_in_tx(&mut tx, &r.obligation_id)
            .await
            .map_err(ApiError::from)?
            .ok_or_else(|| ApiError::NotFound(format!("no obligation {}", r.obligation_id)))?;
        let department = DepartmentCode::parse(&o.department).map_err(|_| {
            ApiError::FailedPrecondition(
                "the case's own clock belongs to no department; ask on the department's clock"
                    .into(),
            )
        })?;
        let town = TownCode::parse(&o.town).map_err(|e| ApiError::Internal(e.into()))?;
        permits(
            &actor,
            Action::RequestExtension,
            &Resource {
                town,
                department: Some(department),
            },
        )
        .map_err(ApiError::from)?;
        if o.met_at.is_some() {
            return Err(ApiError::FailedPrecondition(format!(
                "obligation {} is already met",
                o.obligation_id
            ))
            .into());
        }
        if let Some(p) = &o.pending_extension {
            return Err(ApiError::FailedPrecondition(format!(
                "extension request {p} is still waiting for the chair"
            ))
            .into());
        }
        let request_id = crate::clocks::request_extension(
            &mut tx,
            &self.outbox,
            &o,
            r.working_days,
            r.reason.trim(),
            liandong_grpc::actor_to_event(&actor),
            now,
        )
        .await
        .map_err(ApiError::from)?;
        let o = crate::clocks::get_in_tx(&mut tx, &r.obligation_id)
            .await
            .map_err(ApiError::from)?
            .expect("read in this transaction");
        tx.commit().await.map_err(ApiError::from)?;
        Ok(Response::new(pb::RequestExtensionResponse {
            request_id,
            obligation: Some(crate::clocks::to_pb(&o)),
        }))
    }

    #[tracing::instrument(skip_all, fields(department = %req.get_ref().department), err(level = "info"))]
    async fn list_tasks(
        &self,
        req: Request<pb::ListTasksRequest>,
    ) -> Result<Response<pb::ListTasksResponse>, Status> {
        let actor = actor(&req)?;
        let tasks = self.list_tasks_for(&actor, req.into_inner()).await?;
        Ok(Response::new(pb::ListTasksResponse { tasks }))
    }

    #[tracing::instrument(skip_all, fields(task_id = %req.get_ref().task_id), err(level = "info"))]
    async fn record_entrusted_decision(
        &self,
        req: Request<pb::RecordEntrustedDecisionRequest>,
    ) -> Result<Response<pb::RecordEntrustedDecisionResponse>, Status> {
        let actor = actor(&req)?;
        let task = self.record_decision(&actor, req.into_inner()).await?;
        Ok(Response::new(pb::RecordEntrustedDecisionResponse {
            task: Some(task),
        }))
    }

    #[tracing::instrument(skip_all, fields(task_id = %req.get_ref().task_id), err(level = "info"))]
    async fn complete_task(
        &self,
        req: Request<pb::CompleteTaskRequest>,
    ) -> Result<Response<pb::CompleteTaskResponse>, Status> {
        let actor = actor(&req)?;
        let task = self.complete(&actor, req.into_inner()).await?;
        Ok(Response::new(pb::CompleteTaskResponse { task: Some(task) }))
    }

    #[tracing::instrument(skip_all, fields(department = %req.get_ref().department), err(level = "info"))]
    async fn list_handovers(
        &self,
        req: Request<pb::ListHandoversRequest>,
    ) -> Result<Response<pb::ListHandoversResponse>, Status> {
        let actor = actor(&req)?;
        let handovers = self.list_handovers_for(&actor, req.into_inner()).await?;
        Ok(Response::new(pb::ListHandoversResponse { handovers }))
    }

    #[tracing::instrument(skip_all, fields(task_id = %req.get_ref().task_id), err(level = "info"))]
    async fn change_entrusted_decision(
        &self,
        req: Request<pb::ChangeEntrustedDecisionRequest>,
    ) -> Result<Response<pb::ChangeEntrustedDecisionResponse>, Status> {
        let actor = actor(&req)?;
        let task = self
            .change_entrusted_decision(&actor, req.into_inner())
            .await?;
        Ok(Response::new(pb::ChangeEntrustedDecisionResponse {
            task: Some(task),
        }))
    }

    #[tracing::instrument(skip_all, err(level = "info"))]
    async fn get_case_record(
        &self,
        req: Request<pb::GetCaseRecordRequest>,
    ) -> Result<Response<pb::GetCaseRecordResponse>, Status> {
        let actor = actor(&req)?;
        let r = req.into_inner();
        let mut v = Validator::new();
        let department = v.check("department", DepartmentCode::parse(&r.department));
        v.check("case_id", TownScopedId::parse(&r.case_id));
        v.finish().map_err(ApiError::Invalid)?;
        let department = department.expect("checked");
        permits_department_wide(&actor, Action::ReadRecord, &department).map_err(ApiError::from)?;
        let Some(h) = crate::record::held(&self.db, &r.case_id, department.as_str())
            .await
            .map_err(ApiError::from)?
        else {
            return Err(ApiError::NotFound(format!(
                "{department} holds no case file of {}",
                r.case_id
            ))
            .into());
        };
        // The record is the case file: reading it is logged like the file.
        self.log_read_of(
            &actor,
            "GetCaseRecord",
            "handover",
            &h.handover_id,
            &h.town,
            &h.department,
        )
        .await?;
        let rows = crate::record::entries(&self.db, &h.handover_id)
            .await
            .map_err(ApiError::from)?;
        let acknowledged = crate::record::acknowledged_heads(&self.db, &h)
            .await
            .map_err(ApiError::from)?;
        let v = crate::record::verify(&h, &rows, acknowledged, &self.keys);
        let (first_bad_seq, reason) = v
            .first_bad
            .as_ref()
            .map_or((0, String::new()), |(seq, why)| (*seq, why.to_string()));
        Ok(Response::new(pb::GetCaseRecordResponse {
            handover_id: h.handover_id.clone(),
            entries: rows.iter().map(|r| r.to_event()).collect(),
            ok: v.ok,
            length: v.length,
            head: hex::encode(v.head),
            first_bad_seq,
            reason,
            known_heads_checked: v.known_heads_checked as u32,
            signatures_checked: v.signatures_checked as u32,
        }))
    }

    #[tracing::instrument(skip_all, fields(department = %req.get_ref().department, officer = %req.get_ref().officer), err(level = "info"))]
    async fn register_officer(
        &self,
        req: Request<pb::RegisterOfficerRequest>,
    ) -> Result<Response<pb::RegisterOfficerResponse>, Status> {
        let actor = actor(&req)?;
        let r = req.into_inner();
        let registration = crate::registry::Registration {
            officer: &r.officer,
            certificate_no: &r.certificate_no,
            issuing_authority: &r.issuing_authority,
            valid_from: &r.valid_from,
            valid_until: &r.valid_until,
        };
        let officer = self
            .registry()
            .register_certificate(&actor, &r.department, registration)
            .await?;
        Ok(Response::new(pb::RegisterOfficerResponse {
            officer: Some(officer),
        }))
    }

    #[tracing::instrument(skip_all, fields(department = %req.get_ref().department, officer = %req.get_ref().officer), err(level = "info"))]
    async fn record_assessment(
        &self,
        req: Request<pb::RecordAssessmentRequest>,
    ) -> Result<Response<pb::RecordAssessmentResponse>, Status> {
        let actor = actor(&req)?;
        let r = req.into_inner();
        let officer = self
            .registry()
            .assess_officer(&actor, &r.department, &r.officer, r.passed, &r.note)
            .await?;
        Ok(Response::new(pb::RecordAssessmentResponse {
            officer: Some(officer),
        }))
    }

    #[tracing::instrument(skip_all, fields(department = %req.get_ref().department, officer = %req.get_ref().officer), err(level = "info"))]
    async fn revoke_certificate(
        &self,
        req: Request<pb::RevokeCertificateRequest>,
    ) -> Result<Response<pb::RevokeCertificateResponse>, Status> {
        let actor = actor(&req)?;
        let r = req.into_inner();
        let officer = self
            .registry()
            .revoke(&actor, &r.department, &r.officer, &r.reason)
            .await?;
        Ok(Response::new(pb::RevokeCertificateResponse {
            officer: Some(officer),
        }))
    }

    #[tracing::instrument(skip_all, fields(department = %req.get_ref().department), err(level = "info"))]
    async fn list_officers(
        &self,
        req: Request<pb::ListOfficersRequest>,
    ) -> Result<Response<pb::ListOfficersResponse>, Status> {
        let actor = actor(&req)?;
        let officers = self
            .registry()
            .officers_of(&actor, &req.get_ref().department)
            .await?;
        Ok(Response::new(pb::ListOfficersResponse { officers }))
    }
}
