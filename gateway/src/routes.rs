//! The route table: every HTTP route with the RPC it calls. It alone drives both the router
//! and the OpenAPI document, so the two cannot drift apart.

use axum::http::Method;
use liandong_proto::json::{
    access::v1 as access, board::v1 as board, brigade::v1 as brigade, county::v1 as county,
    disclosure::v1 as disclosure, review::v1 as review,
};
use prost::Name;

use crate::call::{Invoke, invoke};
use crate::descriptors::{Descriptors, Kind};

/// The service a route calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Backend {
    Brigade,
    Board,
    County,
    /// The deciding bodies' disclosures.
    Disclosure,
    /// The public disclosures, read without signing in.
    PublicDisclosure,
    /// The legal review of major decisions.
    Review,
    /// The certified officers, read without signing in (事前公开), from the review service.
    PublicRegistry,
    /// The access log (who read which case file) each data-holding service keeps.
    AccessLog(AccessLogOf),
}

/// The services that keep an access log.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AccessLogOf {
    Brigade,
    Board,
    County,
    Review,
}

impl Backend {
    /// How operators and the OpenAPI tags name it.
    pub fn name(self) -> &'static str {
        match self {
            Backend::Brigade => "brigade",
            Backend::Board => "board",
            Backend::County => "county",
            Backend::Disclosure | Backend::PublicDisclosure => "disclosure",
            Backend::Review | Backend::PublicRegistry | Backend::AccessLog(AccessLogOf::Review) => {
                "review"
            }
            Backend::AccessLog(AccessLogOf::Brigade) => "brigade",
            Backend::AccessLog(AccessLogOf::Board) => "board",
            Backend::AccessLog(AccessLogOf::County) => "county",
        }
    }

    /// Whether anyone may call it without signing in: the public disclosures and registry.
    pub fn is_public(self) -> bool {
        matches!(self, Backend::PublicDisclosure | Backend::PublicRegistry)
    }

    /// The gRPC service's full name.
    pub fn service(self) -> &'static str {
        match self {
            Backend::Brigade => "liandong.brigade.v1.BrigadeService",
            Backend::Board => "liandong.board.v1.BoardService",
            Backend::County => "liandong.county.v1.CountyService",
            Backend::Disclosure => "liandong.disclosure.v1.DisclosureService",
            Backend::PublicDisclosure => "liandong.disclosure.v1.PublicDisclosureService",
            Backend::Review => "liandong.review.v1.ReviewService",
            Backend::PublicRegistry => "liandong.review.v1.PublicRegistryService",
            Backend::AccessLog(_) => "liandong.access.v1.AccessLogService",
        }
    }
}

/// One HTTP route and the unary RPC behind it.
pub struct Route {
    pub method: Method,
    /// The axum path, which is also the OpenAPI path: `/v1/cases/{case_id}`. Each parameter is
    /// named after the request field it fills.
    pub path: &'static str,
    pub backend: Backend,
    pub rpc: &'static str,
    /// Full proto names of the request and response messages, from the Rust types.
    pub request: String,
    pub response: String,
    /// With `?format=markdown`, the route answers with this string field of the response as
    /// `text/markdown` instead of the JSON message.
    pub markdown_field: Option<&'static str>,
    /// The route answers with a document the service rendered: the response's string fields
    /// `(content type, body)`, the body sent as is under that content type.
    pub document_fields: Option<(&'static str, &'static str)>,
    /// The route takes a file in its body: its limit is the evidence limit, not the usual.
    pub uploads: bool,
    pub(crate) invoke: Invoke,
    /// Parses the request as `invoke` does and renders it back, without calling anything.
    pub(crate) reparse: crate::input::Reparse,
}

impl Route {
    fn new<Req, Resp>(
        method: Method,
        path: &'static str,
        backend: Backend,
        rpc: &'static str,
    ) -> Route
    where
        Req: prost::Message
            + Name
            + Default
            + serde::de::DeserializeOwned
            + serde::Serialize
            + Send
            + Sync
            + 'static,
        Resp: prost::Message + Name + Default + serde::Serialize + Send + Sync + 'static,
    {
        Route {
            method,
            path,
            backend,
            rpc,
            request: Req::full_name(),
            response: Resp::full_name(),
            markdown_field: None,
            document_fields: None,
            uploads: false,
            invoke: invoke::<Req, Resp>,
            reparse: crate::input::reparse::<Req>,
        }
    }

    fn markdown(mut self, field: &'static str) -> Route {
        self.markdown_field = Some(field);
        self
    }

    fn uploads(mut self) -> Route {
        self.uploads = true;
        self
    }

    fn document(mut self, content_type: &'static str, body: &'static str) -> Route {
        self.document_fields = Some((content_type, body));
        self
    }

    /// The gRPC path, `/package.Service/Method`.
    pub fn grpc_path(&self) -> String {
        format!("/{}/{}", self.backend.service(), self.rpc)
    }

    /// Whether the request message comes in the body (else from the query string).
    pub fn has_body(&self) -> bool {
        self.method != Method::GET
    }

    /// The path parameters, in order.
    pub fn path_params(&self) -> impl Iterator<Item = &'static str> {
        self.path
            .split('/')
            .filter_map(|s| s.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
    }

    /// Checks the route against the compiled descriptors: the RPC exists with these message
    /// types, and every path parameter is a string field of the request.
    pub fn check(&self, d: &Descriptors) -> Result<(), String> {
        let grpc = self.grpc_path();
        let method = d
            .methods
            .get(&grpc)
            .ok_or_else(|| format!("{} {}: no RPC {grpc}", self.method, self.path))?;
        if method.input != self.request || method.output != self.response {
            return Err(format!(
                "{} {}: {grpc} takes {} and returns {}, the route says {} and {}",
                self.method, self.path, method.input, method.output, self.request, self.response
            ));
        }
        let request = &d.messages[&self.request];
        for p in self.path_params() {
            match request.fields.iter().find(|f| f.name == p) {
                Some(f)
                    if f.kind
                        == Kind::Scalar(prost_types::field_descriptor_proto::Type::String)
                        && !f.repeated => {}
                _ => {
                    return Err(format!(
                        "{} {}: {{{p}}} is not a string field of {}",
                        self.method, self.path, self.request
                    ));
                }
            }
        }
        let strings = self
            .markdown_field
            .into_iter()
            .chain(self.document_fields.into_iter().flat_map(|(a, b)| [a, b]));
        for field in strings {
            let response = &d.messages[&self.response];
            if !response.fields.iter().any(|f| {
                f.name == field
                    && f.kind == Kind::Scalar(prost_types::field_descriptor_proto::Type::String)
            }) {
                return Err(format!(
                    "{} {}: {} has no string field {field}",
                    self.method, self.path, self.response
                ));
            }
        }
        Ok(())
    }
}

/// Every route of the gateway.
// One line per route reads as a table; rustfmt would spread each over five.
#[rustfmt::skip]
pub fn table() -> Vec<Route> {
    use Backend::{AccessLog, Board, Brigade, County, Disclosure, PublicDisclosure, PublicRegistry, Review};
    const GET: Method = Method::GET;
    const POST: Method = Method::POST;
    vec![
        // The brigade: reports, triage and in-scope cases.
        Route::new::<brigade::ReportCaseRequest, brigade::ReportCaseResponse>(POST, "/v1/cases", Brigade, "ReportCase"),
        Route::new::<brigade::GetCaseRequest, brigade::GetCaseResponse>(GET, "/v1/cases/{case_id}", Brigade, "GetCase"),
        Route::new::<brigade::ListCasesRequest, brigade::ListCasesResponse>(GET, "/v1/towns/{town}/cases", Brigade, "ListCases"),
        Route::new::<brigade::AssignCaseRequest, brigade::AssignCaseResponse>(POST, "/v1/cases/{case_id}/assign", Brigade, "AssignCase"),
        Route::new::<brigade::RecordCaseActionRequest, brigade::RecordCaseActionResponse>(POST, "/v1/cases/{case_id}/actions", Brigade, "RecordCaseAction"),
        Route::new::<brigade::ConcludeCaseRequest, brigade::ConcludeCaseResponse>(POST, "/v1/cases/{case_id}/conclude", Brigade, "ConcludeCase"),
        Route::new::<brigade::ChangeDecisionRequest, brigade::ChangeDecisionResponse>(POST, "/v1/cases/{case_id}/decision-change", Brigade, "ChangeDecision"),
        Route::new::<brigade::RecordJointExecutionRequest, brigade::RecordJointExecutionResponse>(POST, "/v1/cases/{case_id}/joint-execution", Brigade, "RecordJointExecution"),
        Route::new::<brigade::ListResultsRequest, brigade::ListResultsResponse>(GET, "/v1/towns/{town}/results", Brigade, "ListResults"),
        Route::new::<brigade::VerifyRecordRequest, brigade::VerifyRecordResponse>(GET, "/v1/cases/{case_id}/record/verification", Brigade, "VerifyRecord"),
        Route::new::<brigade::ListDocumentsRequest, brigade::ListDocumentsResponse>(GET, "/v1/cases/{case_id}/documents", Brigade, "ListDocuments"),
        Route::new::<brigade::ExportDossierRequest, brigade::ExportDossierResponse>(GET, "/v1/cases/{case_id}/dossier", Brigade, "ExportDossier").document("content_type", "body"),
        Route::new::<brigade::UploadEvidenceRequest, brigade::UploadEvidenceResponse>(POST, "/v1/evidence", Brigade, "UploadEvidence").uploads(),
        // Call-backs (回访) of cases the public reported.
        Route::new::<brigade::RecordCallbackRequest, brigade::RecordCallbackResponse>(POST, "/v1/cases/{case_id}/callbacks", Brigade, "RecordCallback"),
        Route::new::<brigade::ListCallbacksRequest, brigade::ListCallbacksResponse>(GET, "/v1/towns/{town}/callbacks", Brigade, "ListCallbacks"),
        Route::new::<brigade::RecordExcludedPeriodRequest, brigade::RecordExcludedPeriodResponse>(POST, "/v1/cases/{case_id}/excluded-periods", Brigade, "RecordExcludedPeriod"),
        Route::new::<brigade::RecordPeriodExtensionRequest, brigade::RecordPeriodExtensionResponse>(POST, "/v1/cases/{case_id}/period-extensions", Brigade, "RecordPeriodExtension"),
        // The town's certificate registry (持证上岗).
        Route::new::<brigade::RegisterOfficerRequest, brigade::RegisterOfficerResponse>(POST, "/v1/towns/{town}/officers", Brigade, "RegisterOfficer"),
        Route::new::<brigade::ListOfficersRequest, brigade::ListOfficersResponse>(GET, "/v1/towns/{town}/officers", Brigade, "ListOfficers"),
        // Patrols and traffic-persuasion turnouts (not cases).
        Route::new::<brigade::RecordPatrolRequest, brigade::RecordPatrolResponse>(POST, "/v1/towns/{town}/patrols", Brigade, "RecordPatrol"),
        Route::new::<brigade::RecordPersuasionRequest, brigade::RecordPersuasionResponse>(POST, "/v1/towns/{town}/persuasions", Brigade, "RecordPersuasion"),
        Route::new::<brigade::ListActivitiesRequest, brigade::ListActivitiesResponse>(GET, "/v1/towns/{town}/activities", Brigade, "ListActivities"),
        Route::new::<brigade::RecordAssessmentRequest, brigade::RecordAssessmentResponse>(POST, "/v1/towns/{town}/officers/{officer}/assessments", Brigade, "RecordAssessment"),
        Route::new::<brigade::RevokeCertificateRequest, brigade::RevokeCertificateResponse>(POST, "/v1/towns/{town}/officers/{officer}/revoke", Brigade, "RevokeCertificate"),
        // The county departments: referrals, joint-case tasks and handovers.
        Route::new::<county::ListInboxRequest, county::ListInboxResponse>(GET, "/v1/departments/{department}/inbox", County, "ListInbox"),
        Route::new::<county::GetReferralRequest, county::GetReferralResponse>(GET, "/v1/referrals/{referral_id}", County, "GetReferral"),
        Route::new::<county::SignForReferralRequest, county::SignForReferralResponse>(POST, "/v1/referrals/{referral_id}/sign-for", County, "SignForReferral"),
        Route::new::<county::AcceptReferralRequest, county::AcceptReferralResponse>(POST, "/v1/referrals/{referral_id}/accept", County, "AcceptReferral"),
        Route::new::<county::ReturnReferralRequest, county::ReturnReferralResponse>(POST, "/v1/referrals/{referral_id}/return", County, "ReturnReferral"),
        Route::new::<county::AssignReferralRequest, county::AssignReferralResponse>(POST, "/v1/referrals/{referral_id}/assign", County, "AssignReferral"),
        Route::new::<county::ConcludeReferralRequest, county::ConcludeReferralResponse>(POST, "/v1/referrals/{referral_id}/conclude", County, "ConcludeReferral"),
        Route::new::<county::ChangeReferralDecisionRequest, county::ChangeReferralDecisionResponse>(POST, "/v1/referrals/{referral_id}/decision-change", County, "ChangeReferralDecision"),
        Route::new::<county::ListTasksRequest, county::ListTasksResponse>(GET, "/v1/departments/{department}/tasks", County, "ListTasks"),
        Route::new::<county::RecordEntrustedDecisionRequest, county::RecordEntrustedDecisionResponse>(POST, "/v1/tasks/{task_id}/decision", County, "RecordEntrustedDecision"),
        Route::new::<county::CompleteTaskRequest, county::CompleteTaskResponse>(POST, "/v1/tasks/{task_id}/complete", County, "CompleteTask"),
        Route::new::<county::ListHandoversRequest, county::ListHandoversResponse>(GET, "/v1/departments/{department}/handovers", County, "ListHandovers"),
        Route::new::<county::GetCaseRecordRequest, county::GetCaseRecordResponse>(GET, "/v1/departments/{department}/cases/{case_id}/record", County, "GetCaseRecord"),
        Route::new::<county::ChangeEntrustedDecisionRequest, county::ChangeEntrustedDecisionResponse>(POST, "/v1/tasks/{task_id}/decision-change", County, "ChangeEntrustedDecision"),
        // A department's clocks (办理时限) and its requests for more time (延期).
        Route::new::<county::ListObligationsRequest, county::ListObligationsResponse>(GET, "/v1/departments/{department}/obligations", County, "ListObligations"),
        Route::new::<county::RequestExtensionRequest, county::RequestExtensionResponse>(POST, "/v1/obligations/{obligation_id}/extension", County, "RequestExtension"),
        // A department's certificate registry.
        Route::new::<county::RegisterOfficerRequest, county::RegisterOfficerResponse>(POST, "/v1/departments/{department}/officers", County, "RegisterOfficer"),
        Route::new::<county::ListOfficersRequest, county::ListOfficersResponse>(GET, "/v1/departments/{department}/officers", County, "ListOfficers"),
        Route::new::<county::RecordAssessmentRequest, county::RecordAssessmentResponse>(POST, "/v1/departments/{department}/officers/{officer}/assessments", County, "RecordAssessment"),
        Route::new::<county::RevokeCertificateRequest, county::RevokeCertificateResponse>(POST, "/v1/departments/{department}/officers/{officer}/revoke", County, "RevokeCertificate"),
        // The joint-meeting board: its agenda, decisions and meetings.
        Route::new::<board::ListAgendaRequest, board::ListAgendaResponse>(GET, "/v1/towns/{town}/agenda", Board, "ListAgenda"),
        Route::new::<board::GetItemRequest, board::GetItemResponse>(GET, "/v1/agenda/{item_id}", Board, "GetItem"),
        Route::new::<board::RecordOpinionRequest, board::RecordOpinionResponse>(POST, "/v1/agenda/{item_id}/opinions", Board, "RecordOpinion"),
        Route::new::<board::ApproveJointRequest, board::ApproveJointResponse>(POST, "/v1/agenda/{item_id}/approve", Board, "ApproveJoint"),
        Route::new::<board::ReclassifyJointRequest, board::ReclassifyJointResponse>(POST, "/v1/agenda/{item_id}/reclassify", Board, "ReclassifyJoint"),
        Route::new::<board::SendBackJointRequest, board::SendBackJointResponse>(POST, "/v1/agenda/{item_id}/send-back", Board, "SendBackJoint"),
        Route::new::<board::SettleDisputeRequest, board::SettleDisputeResponse>(POST, "/v1/agenda/{item_id}/settle", Board, "SettleDispute"),
        Route::new::<board::RecordMeetingRequest, board::RecordMeetingResponse>(POST, "/v1/towns/{town}/meetings", Board, "RecordMeeting"),
        Route::new::<board::ExportMinutesRequest, board::ExportMinutesResponse>(GET, "/v1/meetings/{meeting_id}/minutes", Board, "ExportMinutes").markdown("markdown"),
        // The chair's supervision list (督办), answers to extension requests, the year's patrol figures.
        Route::new::<board::ListSupervisionRequest, board::ListSupervisionResponse>(GET, "/v1/towns/{town}/supervision", Board, "ListSupervision"),
        Route::new::<board::DecideExtensionRequest, board::DecideExtensionResponse>(POST, "/v1/extension-requests/{request_id}/decide", Board, "DecideExtension"),
        Route::new::<board::GetActivityFiguresRequest, board::GetActivityFiguresResponse>(GET, "/v1/towns/{town}/activity-figures", Board, "GetActivityFigures"),
        Route::new::<board::GetSatisfactionFiguresRequest, board::GetSatisfactionFiguresResponse>(GET, "/v1/towns/{town}/satisfaction-figures", Board, "GetSatisfactionFigures"),
        // Public disclosure (行政执法公示): the deciding bodies' lists and acts, and the public feed.
        Route::new::<disclosure::ListDisclosuresRequest, disclosure::ListDisclosuresResponse>(GET, "/v1/towns/{town}/disclosures", Disclosure, "ListDisclosures"),
        Route::new::<disclosure::ListDisclosuresRequest, disclosure::ListDisclosuresResponse>(GET, "/v1/departments/{department}/disclosures", Disclosure, "ListDisclosures"),
        Route::new::<disclosure::PublishDisclosureRequest, disclosure::PublishDisclosureResponse>(POST, "/v1/disclosures/{disclosure_id}/publish", Disclosure, "PublishDisclosure"),
        Route::new::<disclosure::WithdrawDisclosureRequest, disclosure::WithdrawDisclosureResponse>(POST, "/v1/disclosures/{disclosure_id}/withdraw", Disclosure, "WithdrawDisclosure"),
        Route::new::<disclosure::ListPublicRequest, disclosure::ListPublicResponse>(GET, "/public/disclosures.json", PublicDisclosure, "ListPublic"),
        // The legal review of major decisions: the reviewers' worklists and answers.
        Route::new::<review::ListReviewsRequest, review::ListReviewsResponse>(GET, "/v1/towns/{town}/reviews", Review, "ListReviews"),
        Route::new::<review::ListReviewsRequest, review::ListReviewsResponse>(GET, "/v1/departments/{department}/reviews", Review, "ListReviews"),
        Route::new::<review::GetReviewRequest, review::GetReviewResponse>(GET, "/v1/reviews/{review_id}", Review, "GetReview"),
        Route::new::<review::AnswerReviewRequest, review::AnswerReviewResponse>(POST, "/v1/reviews/{review_id}/answer", Review, "AnswerReview"),
        Route::new::<review::ExtendReviewRequest, review::ExtendReviewResponse>(POST, "/v1/reviews/{review_id}/extension", Review, "ExtendReview"),
        // The certified officers (事前公开, 持证上岗), read without signing in.
        Route::new::<review::ListCertifiedOfficersRequest, review::ListCertifiedOfficersResponse>(GET, "/public/officers.json", PublicRegistry, "ListCertifiedOfficers"),
        // Who read the town's case files and personal data, in each service that holds them:
        // for the town's judicial office only.
        Route::new::<access::ListAccessLogRequest, access::ListAccessLogResponse>(GET, "/v1/towns/{town}/access-log/brigade", AccessLog(AccessLogOf::Brigade), "ListAccessLog"),
        Route::new::<access::ListAccessLogRequest, access::ListAccessLogResponse>(GET, "/v1/towns/{town}/access-log/county", AccessLog(AccessLogOf::County), "ListAccessLog"),
        Route::new::<access::ListAccessLogRequest, access::ListAccessLogResponse>(GET, "/v1/towns/{town}/access-log/board", AccessLog(AccessLogOf::Board), "ListAccessLog"),
        Route::new::<access::ListAccessLogRequest, access::ListAccessLogResponse>(GET, "/v1/towns/{town}/access-log/review", AccessLog(AccessLogOf::Review), "ListAccessLog"),
    ]
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    #[test]
    fn every_route_matches_its_rpc() {
        let d = Descriptors::decode(liandong_proto::FILE_DESCRIPTOR_SET).unwrap();
        for route in table() {
            route.check(&d).unwrap();
        }
    }

    #[test]
    fn every_rpc_of_every_service_has_a_route() {
        let d = Descriptors::decode(liandong_proto::FILE_DESCRIPTOR_SET).unwrap();
        let routed: HashSet<String> = table().iter().map(Route::grpc_path).collect();
        let services = [
            Backend::Brigade,
            Backend::Board,
            Backend::County,
            Backend::Disclosure,
            Backend::PublicDisclosure,
            Backend::Review,
            Backend::PublicRegistry,
        ]
        .map(Backend::service);
        for path in d.methods.keys() {
            if services.iter().any(|s| path.starts_with(&format!("/{s}/"))) {
                assert!(routed.contains(path), "{path} has no HTTP route");
            }
        }
    }

    #[test]
    fn no_two_routes_share_a_method_and_path() {
        let mut seen = HashSet::new();
        for r in table() {
            assert!(
                seen.insert((r.method.clone(), r.path)),
                "{} {}",
                r.method,
                r.path
            );
        }
    }

    #[test]
    fn path_parameters_are_read_from_the_path() {
        let r = table().into_iter().find(|r| r.rpc == "ListInbox").unwrap();
        assert_eq!(r.path_params().collect::<Vec<_>>(), ["department"]);
        assert!(!r.has_body());
    }
}
