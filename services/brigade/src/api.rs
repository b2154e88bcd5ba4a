//! The brigade's gRPC API: parse the request, ask the domain, persist with the outbox, answer.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use liandong_bus::{Change, NewEvent};
use liandong_domain::auth::{Action, Actor, Resource, permits};
use liandong_domain::calendar::Calendar;
use liandong_domain::ids::{DepartmentCode, MatterCode, RequestId, TownCode, TownScopedId};
use liandong_domain::limits::{Limits, Validator};
use liandong_domain::state::{CaseAction, CaseStatus};
use liandong_domain::towns::Towns;
use liandong_domain::triage::{CaseSource, Path, Triage, TriageError, triage};
use liandong_grpc::{ApiError, actor, actor_to_event, page_size};
use liandong_proto::brigade::v1::{self as pb, brigade_service_server::BrigadeService};
use liandong_proto::events::v1 as ev;
use liandong_proto::time::{from_ts, to_ts};
use liandong_store::typed::Json;
use liandong_topology::AnyEvent;
use tonic::{Request, Response, Status};
use uuid::Uuid;

use crate::context::Api;
use crate::convert::{case_to_pb, history_to_pb, path_from_pb, source_from_pb};
use crate::flow::{self, Cause};
use crate::record::Who;
use crate::store::{self, CaseRef, CaseRow};

/// How far in the future a report's "time found" may lie, for clocks that are a little off.
const FOUND_AT_SLACK_MINUTES: i64 = 10;

/// A report, parsed and checked.
struct Report {
    town: TownCode,
    request_id: Option<RequestId>,
    source: CaseSource,
    matters: Vec<MatterCode>,
    found_at: DateTime<Utc>,
    act_date: Option<NaiveDate>,
    triage_override: Option<(Path, Option<DepartmentCode>, String)>,
}

fn parse_report(
    r: &pb::ReportCaseRequest,
    limits: &Limits,
    towns: &Towns,
    now: DateTime<Utc>,
) -> Result<Report, ApiError> {
    let mut v = Validator::new();
    // A town of the county's registry: a well-formed code of no town is refused too.
    let town = v.check("town", towns.parse_known(&r.town));
    let request_id = if r.request_id.is_empty() {
        None
    } else {
        v.check("request_id", RequestId::parse(&r.request_id))
    };
    let source = pb::CaseSource::try_from(r.source)
        .ok()
        .and_then(source_from_pb);
    if source.is_none() {
        v.violation("source", "must name where the report came from (patrol, public_report, hotline_12345, grid_centre, cctv)");
    }
    if r.matters.is_empty() {
        v.violation("matters", "name at least one matter of the catalogue");
    }
    v.max_items("matters", r.matters.len(), limits.matters_per_case);
    let matters: Vec<MatterCode> = r
        .matters
        .iter()
        .enumerate()
        .filter_map(|(i, m)| v.check(format!("matters[{i}]"), MatterCode::parse(m)))
        .collect();
    v.text("village", &r.village, limits.short_text_chars, true);
    v.text("location", &r.location, limits.location_chars, false);
    v.text(
        "description",
        &r.description,
        limits.description_chars,
        true,
    );
    let found_at = from_ts(r.found_at.as_ref());
    match found_at {
        None => v.violation("found_at", "is required"),
        Some(t) if t > now + Duration::minutes(FOUND_AT_SLACK_MINUTES) => {
            v.violation("found_at", "lies in the future")
        }
        Some(_) => {}
    }
    let act_date = if r.act_date.trim().is_empty() {
        None
    } else {
        match NaiveDate::parse_from_str(r.act_date.trim(), "%Y-%m-%d") {
            Err(_) => {
                v.violation("act_date", "must be a date, YYYY-MM-DD");
                None
            }
            Ok(d) if d > Calendar::local_date(now) => {
                v.violation("act_date", "lies in the future");
                None
            }
            Ok(d) => {
                if let Some(found) = found_at
                    && d > Calendar::local_date(found)
                {
                    v.violation(
                        "act_date",
                        format!(
                            "{d} is after found_at ({}): an act cannot follow its discovery",
                            Calendar::local_date(found)
                        ),
                    );
                }
                Some(d)
            }
        }
    };
    v.max_items(
        "evidence_refs",
        r.evidence_refs.len(),
        limits.evidence_refs_per_case,
    );
    for (i, e) in r.evidence_refs.iter().enumerate() {
        v.text(
            format!("evidence_refs[{i}]"),
            e,
            limits.evidence_ref_chars,
            true,
        );
    }
    let triage_override = r.triage_override.as_ref().and_then(|o| {
        // An unknown path number is as good as none: refused below, naming the field.
        let path = ev::Path::try_from(o.path).ok().and_then(path_from_pb);
        if path.is_none() {
            v.violation(
                "triage_override.path",
                "must name the path (in_scope, joint or out_of_scope)",
            );
        }
        v.text(
            "triage_override.reason",
            &o.reason,
            limits.reason_chars,
            true,
        );
        let department = if o.department.is_empty() {
            None
        } else {
            v.check(
                "triage_override.department",
                DepartmentCode::parse(&o.department),
            )
        };
        path.map(|p| (p, department, o.reason.trim().to_owned()))
    });
    v.finish().map_err(ApiError::Invalid)?;
    Ok(Report {
        town: town.expect("checked"),
        request_id,
        source: source.expect("checked"),
        matters,
        found_at: found_at.expect("checked"),
        act_date,
        triage_override,
    })
}

/// The record's line on the date of the act.
fn act_line(row: &CaseRow) -> String {
    let ongoing = if row.act_ongoing {
        "，发现时仍在持续"
    } else {
        ""
    };
    match row.act_date {
        Some(d) => format!("违法行为发生日期：{d}{ongoing}"),
        None => format!(
            "违法行为发生日期未载明，以发现之日（{}）计{ongoing}",
            row.act_day()
        ),
    }
}

fn triage_error(e: TriageError) -> ApiError {
    let field = match e.field() {
        "override_reason" => "triage_override.reason",
        "override_department" => "triage_override.department",
        other => other,
    };
    ApiError::field(field, e.to_string())
}

fn triage_detail(t: &Triage) -> String {
    let path = match t.path {
        Path::InScope => "属于职权范围内，由镇综合行政执法大队办理",
        Path::Joint => "情况复杂、需多部门联动，提交联席会议审定",
        Path::OutOfScope => "不属于职权范围内，移送县直主管部门",
    };
    let mut s = format!(
        "三路分流：{path}（规则{} {}；依据事项 {}）",
        t.rule.number(),
        t.rule.as_str(),
        t.deciding
            .iter()
            .map(|m| m.as_str())
            .collect::<Vec<_>>()
            .join("、")
    );
    if let Some(o) = &t.overridden {
        s.push_str(&format!(
            "；执法人员改判，原为 {}，理由：{}",
            o.from.as_str(),
            o.reason
        ));
    }
    s
}

impl Api {
    async fn report(&self, actor: &Actor, r: pb::ReportCaseRequest) -> Result<pb::Case, ApiError> {
        let now = self.clock.now();
        let report = parse_report(&r, &self.limits, &self.towns, now)?;
        crate::evidence::check_refs(&self.evidence, &r.evidence_refs).await?;
        let resource = Resource {
            town: report.town.clone(),
            department: None,
        };
        permits(actor, Action::ReportCase, &resource)?;
        if let Some(request_id) = &report.request_id
            && let Some(case) = self
                .reported_before(actor, &report.town, request_id)
                .await?
        {
            return Ok(case);
        }
        let mut t = triage(&self.catalogue, &report.town, &report.matters, r.complex)
            .map_err(triage_error)?;
        // 行政处罚法 Art. 36: an act undiscovered for two years (five where it touches life,
        // health or financial security) may no longer be penalised, so it is not filed.
        let act_day = report
            .act_date
            .unwrap_or_else(|| Calendar::local_date(report.found_at));
        let matters: Vec<_> = report
            .matters
            .iter()
            .filter_map(|m| self.catalogue.matter(m))
            .collect();
        liandong_domain::law_in_force::check_limitation(
            &matters,
            act_day,
            r.act_ongoing,
            Calendar::local_date(report.found_at),
        )
        .map_err(|e| ApiError::field("act_date", e.to_string()))?;
        let computed = t.path;
        if let Some((path, department, reason)) = report.triage_override {
            permits(actor, Action::OverrideTriage, &resource)?;
            t = t
                .override_to(path, department, &reason, &self.catalogue)
                .map_err(triage_error)?;
        }
        let case_id = TownScopedId::new(report.town.clone(), Uuid::now_v7()).to_string();
        let mut status = CaseStatus::Open;
        status = match t.path {
            Path::InScope => status,
            Path::OutOfScope => status.next(CaseAction::Refer)?,
            Path::Joint => status.next(CaseAction::SubmitToBoard)?,
        };
        let row = CaseRow {
            case_id: case_id.clone(),
            town: report.town.to_string(),
            source: report.source,
            matters: Json(report.matters.iter().map(ToString::to_string).collect()),
            village: r.village.trim().into(),
            location: r.location.trim().into(),
            description: r.description.trim().into(),
            found_at: report.found_at,
            act_date: report.act_date,
            act_ongoing: r.act_ongoing,
            reported_by: actor.officer.to_string(),
            evidence_refs: Json(r.evidence_refs.clone()),
            complex: r.complex,
            path: t.path,
            rule: i64::from(t.rule.number()),
            deciding: Json(t.deciding.iter().map(ToString::to_string).collect()),
            departments: Json(t.departments.iter().map(ToString::to_string).collect()),
            department: t.department.as_ref().map(ToString::to_string),
            computed_path: computed,
            override_reason: t.overridden.as_ref().map(|o| o.reason.clone()),
            status,
            catalogue_version: self.catalogue.version.clone(),
            created_at: now,
            updated_at: now,
        };
        let who = Who::of(actor);
        let town = row.town.clone();
        let here = CaseRef {
            case_id: &case_id,
            town: &town,
        };
        let mut tx = Change::begin(&self.db, &self.outbox).await?;
        if let Some(request_id) = &report.request_id {
            let claimed = store::claim_request(
                &mut tx,
                &row.town,
                &row.reported_by,
                request_id.as_str(),
                &case_id,
                now,
            )
            .await?;
            if !claimed {
                // The same request, repeated while the first was still being made.
                tx.rollback().await?;
                return self
                    .reported_before(actor, &report.town, request_id)
                    .await?
                    .ok_or_else(|| {
                        ApiError::Internal(anyhow::anyhow!("a claimed request id has no case"))
                    });
            }
        }
        store::insert_case(&mut tx, &row).await?;
        if row.path == Path::InScope {
            // Filed as the brigade's own: its decision period starts now (clocks.rs).
            let department =
                crate::clocks::rule_department(&self.catalogue, &row.deciding.0, &row.matters.0);
            crate::clocks::file(&mut tx, &case_id, &row.town, department.as_deref(), now).await?;
        }
        store::add_history(
            &mut tx,
            here,
            now,
            "reported",
            &who,
            &format!("案件登记：{}；{}", row.description, act_line(&row)),
            None,
        )
        .await?;
        store::add_history(
            &mut tx,
            here,
            now,
            "triaged",
            &who,
            &triage_detail(&t),
            None,
        )
        .await?;
        let cause = Cause {
            actor: Some(actor_to_event(actor)),
            who: &who,
            causation_id: None,
        };
        // Every case, whatever its path, is announced for the figures when it is reported.
        let reported = ev::CaseReported {
            case_id: case_id.clone(),
            town: town.clone(),
            matters: report.matters.iter().map(ToString::to_string).collect(),
            path: crate::convert::path_to_pb(t.path) as i32,
            department: t
                .department
                .as_ref()
                .map(ToString::to_string)
                .unwrap_or_default(),
            found_at: Some(to_ts(report.found_at)),
            source: row.source.as_str().into(),
        };
        self.outbox
            .emit(
                &mut tx,
                now,
                NewEvent {
                    town: &town,
                    department: None,
                    aggregate_id: &case_id,
                    actor: Some(actor_to_event(actor)),
                    causation_id: None,
                },
                AnyEvent::BrigadeCaseReported(reported),
            )
            .await?;
        match t.path {
            Path::InScope => {}
            Path::OutOfScope => {
                let department = t
                    .department
                    .as_ref()
                    .expect("an out-of-scope triage names its department");
                flow::refer(
                    &mut tx,
                    &self.outbox,
                    &self.catalogue,
                    &self.towns,
                    now,
                    &row,
                    department.as_str(),
                    "triage",
                    &cause,
                )
                .await?;
            }
            Path::Joint => flow::submit_joint(&mut tx, &self.outbox, now, &row, &cause).await?,
        }
        tx.commit().await?;
        tracing::info!(case_id = %case_id, path = t.path.as_str(), rule = t.rule.number(), "A case was reported and triaged.");
        Ok(case_to_pb(&row))
    }

    /// The case an earlier report under `request_id` by this officer made, as it is now.
    async fn reported_before(
        &self,
        actor: &Actor,
        town: &TownCode,
        request_id: &RequestId,
    ) -> Result<Option<pb::Case>, ApiError> {
        let Some(case_id) = store::reported_under(
            &self.db,
            town.as_str(),
            actor.officer.as_str(),
            request_id.as_str(),
        )
        .await?
        else {
            return Ok(None);
        };
        let row = store::case(&self.db, &case_id).await?.ok_or_else(|| {
            ApiError::Internal(anyhow::anyhow!("request {request_id} names no case"))
        })?;
        tracing::info!(case_id = %case_id, request_id = %request_id, "A repeated report was answered with its first case.");
        Ok(Some(case_to_pb(&row)))
    }

    async fn load_for_read(&self, actor: &Actor, case_id: &str) -> Result<CaseRow, ApiError> {
        let id =
            TownScopedId::parse(case_id).map_err(|e| ApiError::field("case_id", e.to_string()))?;
        let row = store::case(&self.db, case_id)
            .await?
            .ok_or_else(|| ApiError::NotFound(format!("no case {case_id}")))?;
        permits(
            actor,
            Action::ReadCase,
            &Resource {
                town: id.town().clone(),
                department: None,
            },
        )?;
        Ok(row)
    }
}

#[tonic::async_trait]
impl BrigadeService for Api {
    #[tracing::instrument(skip_all, err(level = "info"))]
    async fn report_case(
        &self,
        req: Request<pb::ReportCaseRequest>,
    ) -> Result<Response<pb::ReportCaseResponse>, Status> {
        let actor = actor(&req)?;
        let case = self.report(&actor, req.into_inner()).await?;
        Ok(Response::new(pb::ReportCaseResponse { case: Some(case) }))
    }

    #[tracing::instrument(skip_all, fields(case_id = %req.get_ref().case_id), err(level = "info"))]
    async fn get_case(
        &self,
        req: Request<pb::GetCaseRequest>,
    ) -> Result<Response<pb::GetCaseResponse>, Status> {
        let actor = actor(&req)?;
        let case_id = req.into_inner().case_id;
        let row = self.load_for_read(&actor, &case_id).await?;
        self.log_read(&actor, "GetCase", "case", &case_id, &row.town)
            .await?;
        let history = store::history(&self.db, &case_id)
            .await
            .map_err(ApiError::from)?;
        Ok(Response::new(pb::GetCaseResponse {
            case: Some(self.full(row).await?),
            history: history.iter().map(history_to_pb).collect(),
        }))
    }

    #[tracing::instrument(skip_all, err(level = "info"))]
    async fn list_cases(
        &self,
        req: Request<pb::ListCasesRequest>,
    ) -> Result<Response<pb::ListCasesResponse>, Status> {
        let actor = actor(&req)?;
        let r = req.into_inner();
        let town = TownCode::parse(&r.town).map_err(|e| ApiError::field("town", e.to_string()))?;
        let status = if r.status.is_empty() {
            None
        } else {
            Some(
                CaseStatus::parse(&r.status)
                    .map_err(|e| ApiError::field("status", e.to_string()))?,
            )
        };
        permits(
            &actor,
            Action::ReadCase,
            &Resource {
                town: town.clone(),
                department: None,
            },
        )
        .map_err(ApiError::from)?;
        let limit = page_size(r.page_size, 50, self.limits.page_size_max);
        let rows = store::list_cases(&self.db, town.as_str(), status, limit)
            .await
            .map_err(ApiError::from)?;
        self.log_read(
            &actor,
            "ListCases",
            "case_list",
            town.as_str(),
            town.as_str(),
        )
        .await?;
        Ok(Response::new(pb::ListCasesResponse {
            cases: rows.iter().map(case_to_pb).collect(),
        }))
    }

    #[tracing::instrument(skip_all, fields(case_id = %req.get_ref().case_id), err(level = "info"))]
    async fn assign_case(
        &self,
        req: Request<pb::AssignCaseRequest>,
    ) -> Result<Response<pb::AssignCaseResponse>, Status> {
        let actor = actor(&req)?;
        let case = self.assign(&actor, req.into_inner()).await?;
        Ok(Response::new(pb::AssignCaseResponse { case: Some(case) }))
    }

    #[tracing::instrument(skip_all, fields(case_id = %req.get_ref().case_id), err(level = "info"))]
    async fn record_case_action(
        &self,
        req: Request<pb::RecordCaseActionRequest>,
    ) -> Result<Response<pb::RecordCaseActionResponse>, Status> {
        let actor = actor(&req)?;
        let case = self.record_action(&actor, req.into_inner()).await?;
        Ok(Response::new(pb::RecordCaseActionResponse {
            case: Some(case),
        }))
    }

    #[tracing::instrument(skip_all, fields(case_id = %req.get_ref().case_id), err(level = "info"))]
    async fn conclude_case(
        &self,
        req: Request<pb::ConcludeCaseRequest>,
    ) -> Result<Response<pb::ConcludeCaseResponse>, Status> {
        let actor = actor(&req)?;
        let case = self.conclude(&actor, req.into_inner()).await?;
        Ok(Response::new(pb::ConcludeCaseResponse { case: Some(case) }))
    }

    #[tracing::instrument(skip_all, fields(case_id = %req.get_ref().case_id), err(level = "info"))]
    async fn record_joint_execution(
        &self,
        req: Request<pb::RecordJointExecutionRequest>,
    ) -> Result<Response<pb::RecordJointExecutionResponse>, Status> {
        let actor = actor(&req)?;
        let case = self.execute_joint(&actor, req.into_inner()).await?;
        Ok(Response::new(pb::RecordJointExecutionResponse {
            case: Some(case),
        }))
    }

    #[tracing::instrument(skip_all, err(level = "info"))]
    async fn list_results(
        &self,
        req: Request<pb::ListResultsRequest>,
    ) -> Result<Response<pb::ListResultsResponse>, Status> {
        let actor = actor(&req)?;
        let town = req.get_ref().town.clone();
        let results = self.results(&actor, req.into_inner()).await?;
        // The departments' results are the case files' outcomes: the read is logged.
        self.log_read(&actor, "ListResults", "result_list", &town, &town)
            .await?;
        Ok(Response::new(pb::ListResultsResponse { results }))
    }

    #[tracing::instrument(skip_all, fields(case_id = %req.get_ref().case_id), err(level = "info"))]
    async fn verify_record(
        &self,
        req: Request<pb::VerifyRecordRequest>,
    ) -> Result<Response<pb::VerifyRecordResponse>, Status> {
        let actor = actor(&req)?;
        let case_id = &req.get_ref().case_id;
        let v = self.verify_record(&actor, case_id).await?;
        self.log_case_read(&actor, "VerifyRecord", "record", case_id)
            .await?;
        Ok(Response::new(v))
    }

    #[tracing::instrument(skip_all, fields(case_id = %req.get_ref().case_id), err(level = "info"))]
    async fn list_documents(
        &self,
        req: Request<pb::ListDocumentsRequest>,
    ) -> Result<Response<pb::ListDocumentsResponse>, Status> {
        let actor = actor(&req)?;
        let case_id = &req.get_ref().case_id;
        let documents = self.list_documents(&actor, case_id).await?;
        self.log_case_read(&actor, "ListDocuments", "documents", case_id)
            .await?;
        Ok(Response::new(pb::ListDocumentsResponse { documents }))
    }

    #[tracing::instrument(skip_all, fields(case_id = %req.get_ref().case_id), err(level = "info"))]
    async fn export_dossier(
        &self,
        req: Request<pb::ExportDossierRequest>,
    ) -> Result<Response<pb::ExportDossierResponse>, Status> {
        let actor = actor(&req)?;
        let case_id = req.get_ref().case_id.clone();
        let dossier = self.export_dossier(&actor, req.into_inner()).await?;
        self.log_case_read(&actor, "ExportDossier", "dossier", &case_id)
            .await?;
        Ok(Response::new(dossier))
    }

    #[tracing::instrument(skip_all, fields(case_id = %req.get_ref().case_id), err(level = "info"))]
    async fn upload_evidence(
        &self,
        req: Request<pb::UploadEvidenceRequest>,
    ) -> Result<Response<pb::UploadEvidenceResponse>, Status> {
        let actor = actor(&req)?;
        let uploaded = self.upload_evidence(&actor, req.into_inner()).await?;
        Ok(Response::new(uploaded))
    }

    #[tracing::instrument(skip_all, fields(case_id = %req.get_ref().case_id), err(level = "info"))]
    async fn change_decision(
        &self,
        req: Request<pb::ChangeDecisionRequest>,
    ) -> Result<Response<pb::ChangeDecisionResponse>, Status> {
        let actor = actor(&req)?;
        let case = self.change_decision(&actor, req.into_inner()).await?;
        Ok(Response::new(pb::ChangeDecisionResponse {
            case: Some(case),
        }))
    }

    #[tracing::instrument(skip_all, fields(case_id = %req.get_ref().case_id), err(level = "info"))]
    async fn record_callback(
        &self,
        req: Request<pb::RecordCallbackRequest>,
    ) -> Result<Response<pb::RecordCallbackResponse>, Status> {
        let actor = actor(&req)?;
        let (callback, case) = self.record_callback(&actor, req.into_inner()).await?;
        Ok(Response::new(pb::RecordCallbackResponse {
            callback: Some(callback),
            case: Some(case),
        }))
    }

    #[tracing::instrument(skip_all, fields(town = %req.get_ref().town), err(level = "info"))]
    async fn list_callbacks(
        &self,
        req: Request<pb::ListCallbacksRequest>,
    ) -> Result<Response<pb::ListCallbacksResponse>, Status> {
        let actor = actor(&req)?;
        let town = req.get_ref().town.clone();
        let callbacks = self.list_callbacks(&actor, req.into_inner()).await?;
        // Reporters' answers about their cases: the read is logged.
        self.log_read(&actor, "ListCallbacks", "callback_list", &town, &town)
            .await?;
        Ok(Response::new(pb::ListCallbacksResponse { callbacks }))
    }

    #[tracing::instrument(skip_all, fields(case_id = %req.get_ref().case_id), err(level = "info"))]
    async fn record_excluded_period(
        &self,
        req: Request<pb::RecordExcludedPeriodRequest>,
    ) -> Result<Response<pb::RecordExcludedPeriodResponse>, Status> {
        let actor = actor(&req)?;
        let period = self
            .record_excluded_period(&actor, req.into_inner())
            .await?;
        Ok(Response::new(pb::RecordExcludedPeriodResponse {
            period: Some(period),
        }))
    }

    #[tracing::instrument(skip_all, fields(case_id = %req.get_ref().case_id), err(level = "info"))]
    async fn record_period_extension(
        &self,
        req: Request<pb::RecordPeriodExtensionRequest>,
    ) -> Result<Response<pb::RecordPeriodExtensionResponse>, Status> {
        let actor = actor(&req)?;
        let period = self
            .record_period_extension(&actor, req.into_inner())
            .await?;
        Ok(Response::new(pb::RecordPeriodExtensionResponse {
            period: Some(period),
        }))
    }

    #[tracing::instrument(skip_all, fields(town = %req.get_ref().town, officer = %req.get_ref().officer), err(level = "info"))]
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
            .register_certificate(&actor, &r.town, registration)
            .await?;
        Ok(Response::new(pb::RegisterOfficerResponse {
            officer: Some(officer),
        }))
    }

    #[tracing::instrument(skip_all, fields(town = %req.get_ref().town, officer = %req.get_ref().officer), err(level = "info"))]
    async fn record_assessment(
        &self,
        req: Request<pb::RecordAssessmentRequest>,
    ) -> Result<Response<pb::RecordAssessmentResponse>, Status> {
        let actor = actor(&req)?;
        let r = req.into_inner();
        let officer = self
            .registry()
            .assess_officer(&actor, &r.town, &r.officer, r.passed, &r.note)
            .await?;
        Ok(Response::new(pb::RecordAssessmentResponse {
            officer: Some(officer),
        }))
    }

    #[tracing::instrument(skip_all, fields(town = %req.get_ref().town, officer = %req.get_ref().officer), err(level = "info"))]
    async fn revoke_certificate(
        &self,
        req: Request<pb::RevokeCertificateRequest>,
    ) -> Result<Response<pb::RevokeCertificateResponse>, Status> {
        let actor = actor(&req)?;
        let r = req.into_inner();
        let officer = self
            .registry()
            .revoke(&actor, &r.town, &r.officer, &r.reason)
            .await?;
        Ok(Response::new(pb::RevokeCertificateResponse {
            officer: Some(officer),
        }))
    }

    #[tracing::instrument(skip_all, fields(town = %req.get_ref().town), err(level = "info"))]
    async fn record_patrol(
        &self,
        req: Request<pb::RecordPatrolRequest>,
    ) -> Result<Response<pb::RecordPatrolResponse>, Status> {
        let actor = actor(&req)?;
        let patrol = self.record_patrol_for(&actor, req.into_inner()).await?;
        Ok(Response::new(pb::RecordPatrolResponse {
            patrol: Some(patrol),
        }))
    }

    #[tracing::instrument(skip_all, fields(town = %req.get_ref().town), err(level = "info"))]
    async fn record_persuasion(
        &self,
        req: Request<pb::RecordPersuasionRequest>,
    ) -> Result<Response<pb::RecordPersuasionResponse>, Status> {
        let actor = actor(&req)?;
        let persuasion = self.record_persuasion_for(&actor, req.into_inner()).await?;
        Ok(Response::new(pb::RecordPersuasionResponse {
            persuasion: Some(persuasion),
        }))
    }

    #[tracing::instrument(skip_all, fields(town = %req.get_ref().town), err(level = "info"))]
    async fn list_activities(
        &self,
        req: Request<pb::ListActivitiesRequest>,
    ) -> Result<Response<pb::ListActivitiesResponse>, Status> {
        let actor = actor(&req)?;
        Ok(Response::new(
            self.list_activities_for(&actor, req.into_inner()).await?,
        ))
    }

    #[tracing::instrument(skip_all, fields(town = %req.get_ref().town), err(level = "info"))]
    async fn list_officers(
        &self,
        req: Request<pb::ListOfficersRequest>,
    ) -> Result<Response<pb::ListOfficersResponse>, Status> {
        let actor = actor(&req)?;
        let officers = self
            .registry()
            .officers_of(&actor, &req.get_ref().town)
            .await?;
        Ok(Response::new(pb::ListOfficersResponse { officers }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use liandong_proto::time::to_ts;

    fn now() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-03-02T09:00:00+08:00")
            .unwrap()
            .to_utc()
    }

    fn request() -> pb::ReportCaseRequest {
        pb::ReportCaseRequest {
            town: "330782101".into(),
            source: pb::CaseSource::Patrol as i32,
            matters: vec!["LY-001".into()],
            village: "东山村".into(),
            location: "东山村后山".into(),
            description: "发现有人砍伐林木".into(),
            found_at: Some(to_ts(now())),
            evidence_refs: vec![],
            complex: false,
            triage_override: None,
            request_id: String::new(),
            act_date: String::new(),
            act_ongoing: false,
        }
    }

    fn fields(r: pb::ReportCaseRequest) -> Vec<String> {
        match parse_report(&r, &Limits::default(), &Towns::shipped(), now()) {
            Ok(_) => vec![],
            Err(ApiError::Invalid(v)) => v.into_iter().map(|f| f.field).collect(),
            Err(e) => panic!("unexpected {e}"),
        }
    }

    #[test]
    fn a_good_report_parses() {
        assert!(fields(request()).is_empty());
    }

    #[test]
    fn the_act_date_is_a_date_not_in_the_future_nor_after_discovery() {
        let mut r = request();
        r.act_date = "2026-02-30".into();
        assert_eq!(fields(r.clone()), vec!["act_date"]);
        let today = Calendar::local_date(now());
        r.act_date = today.succ_opt().unwrap().to_string();
        assert_eq!(fields(r.clone()), vec!["act_date"]);
        r.found_at = Some(to_ts(now() - Duration::days(3)));
        r.act_date = today.pred_opt().unwrap().to_string();
        assert_eq!(fields(r.clone()), vec!["act_date"]);
        r.act_date = (today - Duration::days(400)).to_string();
        assert!(fields(r).is_empty());
    }

    #[test]
    fn every_bad_field_is_named() {
        let mut r = request();
        r.town = "33".into();
        r.source = 0;
        r.matters = vec!["bad code".into()];
        r.village = " ".into();
        r.description = "x".repeat(4001);
        r.found_at = Some(to_ts(now() + Duration::hours(1)));
        r.triage_override = Some(pb::TriageOverride {
            path: 0,
            department: "Bad".into(),
            reason: String::new(),
        });
        assert_eq!(
            fields(r),
            vec![
                "town",
                "source",
                "matters[0]",
                "village",
                "description",
                "found_at",
                "triage_override.path",
                "triage_override.reason",
                "triage_override.department"
            ]
        );
    }
}
