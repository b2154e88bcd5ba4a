//! The county's gRPC surface: each call takes the actor from the request and hands the
//! request to its command (`commands`, one file each) or answers its read here.

use liandong_domain::auth::{Action, permits_department_wide};
use liandong_domain::ids::{DepartmentCode, TownCode, TownScopedId};
use liandong_domain::limits::Validator;
use liandong_domain::state::ReferralStatus;
use liandong_grpc::{ApiError, actor, page_size};
use liandong_proto::county::v1::{self as pb, county_service_server::CountyService};
use tonic::{Request, Response, Status};

use crate::context::Api;
use crate::convert::referral_to_pb as to_pb;
use crate::referral::parse_referral_id;
use crate::store;

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
        let referral = self.sign_for(&actor, req.into_inner()).await?;
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
        let referral = self.accept(&actor, req.into_inner()).await?;
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
        let referral = self.return_referral(&actor, req.into_inner()).await?;
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
        let referral = self.assign(&actor, req.into_inner()).await?;
        Ok(Response::new(pb::AssignReferralResponse {
            referral: Some(referral),
        }))
    }

    #[tracing::instrument(skip_all, fields(referral_id = %req.get_ref().referral_id), err(level = "info"))]
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

    #[tracing::instrument(skip_all, fields(referral_id = %req.get_ref().referral_id), err(level = "info"))]
    async fn conclude_referral(
        &self,
        req: Request<pb::ConcludeReferralRequest>,
    ) -> Result<Response<pb::ConcludeReferralResponse>, Status> {
        let actor = actor(&req)?;
        let referral = self.conclude(&actor, req.into_inner()).await?;
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
        let (request_id, obligation) = self.request_extension(&actor, req.into_inner()).await?;
        Ok(Response::new(pb::RequestExtensionResponse {
            request_id,
            obligation: Some(obligation),
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
