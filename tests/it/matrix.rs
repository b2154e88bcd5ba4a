//! The authorisation matrix: every role against every action of every service, called both
//! directly over gRPC and through the gateway, with the expected answer of each cell written
//! out below by hand (not derived from `liandong_domain::auth`, the rules under test).
//!
//! One hub, real resources of town T1 and the forestry department (a case in the brigade's
//! hands, a case referred to forestry, a joint case on T1's agenda whose task went to
//! forestry, a major decision under review, a pending disclosure), and each actor in its own
//! town or department. A cell is `Y` when the call gets past authorisation (whatever it then
//! answers: done, a wrong state, a missing field) and `-` when it is refused with
//! `PermissionDenied` (HTTP 403). No cell may answer `Unauthenticated`: every caller carries a
//! valid token. A second pass calls every allowed cell as the same role of another town or
//! department, which must be refused.

use std::collections::{BTreeSet, HashMap};
use std::time::Duration;

use liandong_proto::access::v1::access_log_service_client::AccessLogServiceClient;
use liandong_proto::board::v1 as board;
use liandong_proto::brigade::v1 as brigade;
use liandong_proto::county::v1 as county;
use liandong_proto::events::v1 as ev;
use liandong_proto::readmodel::v1 as readmodel;
use liandong_proto::review::v1 as review;
use liandong_tests::http::request;
use liandong_tests::hub::{As, TestHub};
use liandong_tests::people::Report;
use liandong_tests::{Backend, eventually};
use prost::Message;
use serde_json::Value;
use tonic::Code;

const T1: &str = "330782101";
const T2: &str = "330782102";
const WAIT: Duration = Duration::from_secs(30);

/// The columns, in order.
const COLUMNS: &str = "BO BC CH BM CD CI JR LO VT VD VC";

/// The actors of the columns: T1's brigade officer, captain, joint-meeting chair and member;
/// forestry's dispatcher and investigator; T1's judicial reviewer; forestry's legal officer;
/// a viewer of T1, of forestry, and of the whole county.
fn actors() -> [As; 11] {
    [
        As::brigade_officer(T1),
        As::brigade_captain(T1),
        As::board_chair(T1),
        As::board_member(T1),
        As::dispatcher("forestry"),
        As::investigator("forestry"),
        As::judicial_reviewer(T1),
        As::legal_officer("forestry"),
        As::viewer(Some(T1), None),
        As::viewer(None, Some("forestry")),
        As::viewer(None, None),
    ]
}

/// The same roles elsewhere: T2 for town roles, public_security for department roles. The
/// county-wide viewer has no elsewhere.
fn foreigners() -> [Option<As>; 11] {
    [
        Some(As::brigade_officer(T2)),
        Some(As::brigade_captain(T2)),
        Some(As::board_chair(T2)),
        Some(As::board_member(T2)),
        Some(As::dispatcher("public_security")),
        Some(As::investigator("public_security")),
        Some(As::judicial_reviewer(T2)),
        Some(As::legal_officer("public_security")),
        Some(As::viewer(Some(T2), None)),
        Some(As::viewer(None, Some("public_security"))),
        None,
    ]
}

/// One action: the gRPC service and method, the request (proto3 JSON; `{name}` stands for a
/// resource id), the gateway route (method and path; empty for an RPC the gateway does not
/// route), and the expected answer per column of [`COLUMNS`].
struct Row {
    service: &'static str,
    rpc: &'static str,
    body: &'static str,
    http: (&'static str, &'static str),
    expect: &'static str,
}

const fn row(
    service: &'static str,
    rpc: &'static str,
    body: &'static str,
    http: (&'static str, &'static str),
    expect: &'static str,
) -> Row {
    Row {
        service,
        rpc,
        body,
        http,
        expect,
    }
}

#[rustfmt::skip]
const TABLE: &[Row] = &[
    //                                                                                                                         BO BC CH BM CD CI JR LO VT VD VC
    row("BrigadeService", "ReportCase", r#"{"town": "330782101", "source": "CASE_SOURCE_PATROL", "matters": ["CSGL-001"], "village": "西湖村", "location": "集镇街道", "description": "占道经营", "foundAt": "2026-05-28T08:30:00Z"}"#,
        ("POST", "/v1/cases"),                                                                                              "Y  Y  -  -  -  -  -  -  -  -  -"),
    row("BrigadeService", "GetCase", r#"{"caseId": "{case_in}"}"#, ("GET", "/v1/cases/{case_in}"),                         "Y  Y  Y  Y  -  -  Y  -  Y  -  Y"),
    row("BrigadeService", "ListCases", r#"{"town": "330782101"}"#, ("GET", "/v1/towns/330782101/cases"),                   "Y  Y  Y  Y  -  -  Y  -  Y  -  Y"),
    row("BrigadeService", "AssignCase", r#"{"caseId": "{case_in}", "officers": ["wang.wu", "li.si"]}"#, ("POST", "/v1/cases/{case_in}/assign"),
                                                                                                                             "-  Y  -  -  -  -  -  -  -  -  -"),
    row("BrigadeService", "RecordCaseAction", r#"{"caseId": "{case_in}", "kind": "inspection", "note": "现场检查"}"#, ("POST", "/v1/cases/{case_in}/actions"),
                                                                                                                             "Y  Y  -  -  -  -  -  -  -  -  -"),
    row("BrigadeService", "ConcludeCase", r#"{"caseId": "{case_done}", "outcome": {"kind": "education", "summary": "批评教育"}}"#, ("POST", "/v1/cases/{case_done}/conclude"),      "Y  Y  -  -  -  -  -  -  -  -  -"),
    row("BrigadeService", "RecordJointExecution", r#"{"caseId": "{case_joint}", "summary": "已执行"}"#, ("POST", "/v1/cases/{case_joint}/joint-execution"),
                                                                                                                             "Y  Y  -  -  -  -  -  -  -  -  -"),
    row("BrigadeService", "ListResults", r#"{"town": "330782101"}"#, ("GET", "/v1/towns/330782101/results"),               "Y  Y  Y  Y  -  -  Y  -  Y  -  Y"),
    // The record of a case no department took part in: the town's roles and the county viewer.
    row("BrigadeService", "VerifyRecord", r#"{"caseId": "{case_in}"}"#, ("GET", "/v1/cases/{case_in}/record/verification"),
                                                                                                                             "Y  Y  Y  Y  -  -  Y  -  Y  -  Y"),
    // The documents of a case referred to forestry: forestry's staff and viewer too.
    row("BrigadeService", "ListDocuments", r#"{"caseId": "{case_out}"}"#, ("GET", "/v1/cases/{case_out}/documents"),       "Y  Y  Y  Y  Y  Y  Y  Y  Y  Y  Y"),
    row("BrigadeService", "ExportDossier", r#"{"caseId": "{case_in}"}"#, ("GET", "/v1/cases/{case_in}/dossier"),           "Y  Y  Y  Y  -  -  Y  -  Y  -  Y"),
    row("BrigadeService", "UploadEvidence", r#"{"caseId": "{case_in}", "town": "330782101", "filename": "a.txt", "contentType": "text/plain", "content": "5rWL6K+V"}"#,
        ("POST", "/v1/evidence"),                                                                                           "Y  Y  -  -  -  -  -  -  -  -  -"),
    row("BrigadeService", "RegisterOfficer", r#"{"town": "330782101", "officer": "matrix.x", "certificateNo": "ZJ-M-1", "issuingAuthority": "浙江省人民政府", "validFrom": "2026-01-01", "validUntil": "2030-12-31"}"#,
        ("POST", "/v1/towns/330782101/officers"),                                                                           "-  Y  -  -  -  -  -  -  -  -  -"),
    row("BrigadeService", "ListOfficers", r#"{"town": "330782101"}"#, ("GET", "/v1/towns/330782101/officers"),             "Y  Y  Y  Y  -  -  Y  -  Y  -  Y"),
    row("BrigadeService", "RecordAssessment", r#"{"town": "330782101", "officer": "matrix.x", "passed": true, "note": "考核合格"}"#,
        ("POST", "/v1/towns/330782101/officers/matrix.x/assessments"),                                                      "-  Y  -  -  -  -  -  -  -  -  -"),
    row("BrigadeService", "RevokeCertificate", r#"{"town": "330782101", "officer": "matrix.y", "reason": "调离"}"#,
        ("POST", "/v1/towns/330782101/officers/matrix.y/revoke"),                                                           "-  Y  -  -  -  -  -  -  -  -  -"),
    row("BrigadeService", "ChangeDecision", r#"{"caseId": "{case_in}", "change": "revoke", "reason": "事实不清"}"#,
        ("POST", "/v1/cases/{case_in}/decision-change"),
                                                                                                                             "-  Y  -  -  -  -  -  -  -  -  -"),
    // Patrols, persuasion turnouts and call-backs: the brigade's; their lists like the cases.
    row("BrigadeService", "RecordPatrol", r#"{"town": "330782101", "officers": ["wang.wu"], "startedAt": "2026-05-28T08:00:00Z", "endedAt": "2026-05-28T10:00:00Z", "area": "集镇", "findings": "无"}"#,
        ("POST", "/v1/towns/330782101/patrols"),                                                                            "Y  Y  -  -  -  -  -  -  -  -  -"),
    row("BrigadeService", "RecordPersuasion", r#"{"town": "330782101", "officers": ["wang.wu"], "at": "2026-05-28T08:00:00Z", "location": "路口", "kind": "no_helmet", "persons": 3, "note": "劝导"}"#,
        ("POST", "/v1/towns/330782101/persuasions"),                                                                        "Y  Y  -  -  -  -  -  -  -  -  -"),
    row("BrigadeService", "ListActivities", r#"{"town": "330782101"}"#, ("GET", "/v1/towns/330782101/activities"),         "Y  Y  Y  Y  -  -  Y  -  Y  -  Y"),
    row("BrigadeService", "RecordCallback", r#"{"caseId": "{case_done}", "satisfaction": "satisfied", "note": "回访", "calledBackBy": "wang.wu", "calledAt": "2026-05-28T08:00:00Z"}"#,
        ("POST", "/v1/cases/{case_done}/callbacks"),                                                                        "Y  Y  -  -  -  -  -  -  -  -  -"),
    row("BrigadeService", "ListCallbacks", r#"{"town": "330782101"}"#, ("GET", "/v1/towns/330782101/callbacks"),           "Y  Y  Y  Y  -  -  Y  -  Y  -  Y"),
    // A case's decision period: an officer records what is not counted, the captain an extension
    // approved by the head (refused for this case's rule, which allows neither: past authorisation).
    row("BrigadeService", "RecordExcludedPeriod", r#"{"caseId": "{case_in}", "kind": "appraisal", "start": "2026-01-05", "end": "2026-01-06", "reason": "鉴定"}"#,
        ("POST", "/v1/cases/{case_in}/excluded-periods"),                                                                   "Y  Y  -  -  -  -  -  -  -  -  -"),
    row("BrigadeService", "RecordPeriodExtension", r#"{"caseId": "{case_in}", "days": 30, "approver": "镇长", "reason": "案情复杂"}"#,
        ("POST", "/v1/cases/{case_in}/period-extensions"),                                                                  "-  Y  -  -  -  -  -  -  -  -  -"),
    // A department's inbox and what is addressed to it.
    row("CountyService", "ListInbox", r#"{"department": "forestry"}"#, ("GET", "/v1/departments/forestry/inbox"),          "-  -  -  -  Y  Y  -  -  -  -  -"),
    row("CountyService", "GetReferral", r#"{"referralId": "{referral}"}"#, ("GET", "/v1/referrals/{referral}"),            "-  -  -  -  Y  Y  -  -  -  -  -"),
    row("CountyService", "SignForReferral", r#"{"referralId": "{referral}"}"#, ("POST", "/v1/referrals/{referral}/sign-for"),
                                                                                                                             "-  -  -  -  Y  -  -  -  -  -  -"),
    row("CountyService", "AcceptReferral", r#"{"referralId": "{referral}"}"#, ("POST", "/v1/referrals/{referral}/accept"), "-  -  -  -  Y  -  -  -  -  -  -"),
    row("CountyService", "ReturnReferral", r#"{"referralId": "{referral}", "reason": "不属本部门职责", "notCompetent": true}"#, ("POST", "/v1/referrals/{referral}/return"),
                                                                                                                             "-  -  -  -  Y  -  -  -  -  -  -"),
    row("CountyService", "AssignReferral", r#"{"referralId": "{referral}", "staff": ["zhou.diaocha"]}"#, ("POST", "/v1/referrals/{referral}/assign"),
                                                                                                                             "-  -  -  -  Y  -  -  -  -  -  -"),
    row("CountyService", "ConcludeReferral", r#"{"referralId": "{referral}", "outcome": {"kind": "education", "summary": "批评教育"}}"#, ("POST", "/v1/referrals/{referral}/conclude"),
                                                                                                                             "-  -  -  -  Y  Y  -  -  -  -  -"),
    row("CountyService", "ListTasks", r#"{"department": "forestry"}"#, ("GET", "/v1/departments/forestry/tasks"),          "-  -  -  -  Y  Y  -  -  -  -  -"),
    row("CountyService", "RecordEntrustedDecision", r#"{"taskId": "{task}", "decision": {"kind": "education", "summary": "批评教育"}}"#, ("POST", "/v1/tasks/{task}/decision"),      "-  -  -  -  Y  Y  -  -  -  -  -"),
    row("CountyService", "CompleteTask", r#"{"taskId": "{task}", "summary": "已配合"}"#, ("POST", "/v1/tasks/{task}/complete"),
                                                                                                                             "-  -  -  -  Y  Y  -  -  -  -  -"),
    row("CountyService", "ListHandovers", r#"{"department": "forestry"}"#, ("GET", "/v1/departments/forestry/handovers"),  "-  -  -  -  Y  Y  -  -  -  -  -"),
    // The record of a case file forestry holds (or not yet: past authorisation either way):
    // forestry's staff, its legal officer, its viewer and the county viewer.
    row("CountyService", "GetCaseRecord", r#"{"department": "forestry", "caseId": "{case_out}"}"#, ("GET", "/v1/departments/forestry/cases/{case_out}/record"),
                                                                                                                             "-  -  -  -  Y  Y  -  Y  -  Y  Y"),
    row("CountyService", "RegisterOfficer", r#"{"department": "forestry", "officer": "matrix.x", "certificateNo": "ZJ-M-2", "issuingAuthority": "浙江省人民政府", "validFrom": "2026-01-01", "validUntil": "2030-12-31"}"#,
        ("POST", "/v1/departments/forestry/officers"),                                                                      "-  -  -  -  Y  -  -  -  -  -  -"),
    row("CountyService", "ListOfficers", r#"{"department": "forestry"}"#, ("GET", "/v1/departments/forestry/officers"),    "-  -  -  -  Y  Y  -  -  -  -  -"),
    row("CountyService", "RecordAssessment", r#"{"department": "forestry", "officer": "matrix.x", "passed": true, "note": "考核合格"}"#,
        ("POST", "/v1/departments/forestry/officers/matrix.x/assessments"),                                                 "-  -  -  -  Y  -  -  -  -  -  -"),
    row("CountyService", "RevokeCertificate", r#"{"department": "forestry", "officer": "matrix.y", "reason": "调离"}"#,
        ("POST", "/v1/departments/forestry/officers/matrix.y/revoke"),                                                      "-  -  -  -  Y  -  -  -  -  -  -"),
    row("CountyService", "ChangeEntrustedDecision", r#"{"taskId": "{task}", "change": "revoke", "reason": "事实不清"}"#,
        ("POST", "/v1/tasks/{task}/decision-change"),
                                                                                                                             "-  -  -  -  Y  -  -  -  -  -  -"),
    row("CountyService", "ChangeReferralDecision", r#"{"referralId": "{referral}", "change": "revoke", "reason": "事实不清"}"#,
        ("POST", "/v1/referrals/{referral}/decision-change"),
                                                                                                                             "-  -  -  -  Y  -  -  -  -  -  -"),
    row("CountyService", "ListObligations", r#"{"department": "forestry"}"#, ("GET", "/v1/departments/forestry/obligations"),
                                                                                                                             "-  -  -  -  Y  Y  -  -  -  -  -"),
    row("CountyService", "RequestExtension", r#"{"obligationId": "{obligation}", "workingDays": 5, "reason": "鉴定未完成"}"#, ("POST", "/v1/obligations/{obligation}/extension"),
                                                                                                                             "-  -  -  -  Y  -  -  -  -  -  -"),
    // The town's joint meeting.
    row("BoardService", "ListAgenda", r#"{"town": "330782101"}"#, ("GET", "/v1/towns/330782101/agenda"),                  "-  -  Y  Y  -  -  -  -  -  -  -"),
    row("BoardService", "GetItem", r#"{"itemId": "{item}"}"#, ("GET", "/v1/agenda/{item}"),                                "-  -  Y  Y  -  -  -  -  -  -  -"),
    row("BoardService", "RecordOpinion", r#"{"itemId": "{item}", "opinion": "同意"}"#, ("POST", "/v1/agenda/{item}/opinions"),
                                                                                                                             "-  -  Y  Y  -  -  -  -  -  -  -"),
    row("BoardService", "ApproveJoint", r#"{"itemId": "{item}", "leadDepartment": "forestry", "meetingId": "{meeting}"}"#, ("POST", "/v1/agenda/{item}/approve"),
                                                                                                                             "-  -  Y  -  -  -  -  -  -  -  -"),
    row("BoardService", "ReclassifyJoint", r#"{"itemId": "{item}", "path": "PATH_IN_SCOPE", "reason": "属综合执法事项", "meetingId": "{meeting}"}"#, ("POST", "/v1/agenda/{item}/reclassify"),
                                                                                                                             "-  -  Y  -  -  -  -  -  -  -  -"),
    row("BoardService", "SendBackJoint", r#"{"itemId": "{item}", "reason": "补充材料", "meetingId": "{meeting}"}"#, ("POST", "/v1/agenda/{item}/send-back"),
                                                                                                                             "-  -  Y  -  -  -  -  -  -  -  -"),
    row("BoardService", "SettleDispute", r#"{"itemId": "{item}", "department": "forestry", "reason": "林地", "meetingId": "{meeting}"}"#, ("POST", "/v1/agenda/{item}/settle"),
                                                                                                                             "-  -  Y  -  -  -  -  -  -  -  -"),
    row("BoardService", "RecordMeeting", r#"{"town": "330782101", "heldAt": "2026-05-28T08:30:00Z", "attendees": ["zhao.zhuxi"], "notes": "矩阵"}"#, ("POST", "/v1/towns/330782101/meetings"),
                                                                                                                             "-  -  Y  -  -  -  -  -  -  -  -"),
    row("BoardService", "ExportMinutes", r#"{"meetingId": "{meeting}"}"#, ("GET", "/v1/meetings/{meeting}/minutes"),       "-  -  Y  Y  -  -  -  -  -  -  -"),
    row("BoardService", "ListSupervision", r#"{"town": "330782101"}"#, ("GET", "/v1/towns/330782101/supervision"),         "-  -  Y  Y  -  -  -  -  -  -  -"),
    row("BoardService", "DecideExtension", r#"{"requestId": "{extension}", "grant": true, "note": "同意"}"#, ("POST", "/v1/extension-requests/{extension}/decide"),
                                                                                                                             "-  -  Y  -  -  -  -  -  -  -  -"),
    row("BoardService", "GetActivityFigures", r#"{"town": "330782101", "year": 2026}"#, ("GET", "/v1/towns/330782101/activity-figures?year=2026"),
                                                                                                                             "-  -  Y  Y  -  -  -  -  -  -  -"),
    row("BoardService", "GetSatisfactionFigures", r#"{"town": "330782101", "year": 2026}"#, ("GET", "/v1/towns/330782101/satisfaction-figures?year=2026"),
                                                                                                                             "-  -  Y  Y  -  -  -  -  -  -  -"),
    // Disclosure: the deciding body (the town, by its captain) publishes and withdraws.
    row("DisclosureService", "ListDisclosures", r#"{"town": "330782101"}"#, ("GET", "/v1/towns/330782101/disclosures"),   "Y  Y  Y  Y  -  -  Y  -  Y  -  Y"),
    row("DisclosureService", "PublishDisclosure", r#"{"disclosureId": "{disclosure}"}"#, ("POST", "/v1/disclosures/{disclosure}/publish"),
                                                                                                                             "-  Y  -  -  -  -  -  -  -  -  -"),
    row("DisclosureService", "WithdrawDisclosure", r#"{"disclosureId": "{disclosure}", "reason": "原决定已撤销", "decisionChangedAt": "2026-05-28T08:30:00Z"}"#, ("POST", "/v1/disclosures/{disclosure}/withdraw"),
                                                                                                                             "-  Y  -  -  -  -  -  -  -  -  -"),
    row("PublicDisclosureService", "ListPublic", r#"{}"#, ("GET", "/public/disclosures.json"),                             "Y  Y  Y  Y  Y  Y  Y  Y  Y  Y  Y"),
    row("PublicRegistryService", "ListCertifiedOfficers", r#"{}"#, ("GET", "/public/officers.json"),                      "Y  Y  Y  Y  Y  Y  Y  Y  Y  Y  Y"),
    // The town's judicial office reviews the town's major decisions.
    row("ReviewService", "ListReviews", r#"{"town": "330782101"}"#, ("GET", "/v1/towns/330782101/reviews"),               "-  -  -  -  -  -  Y  -  -  -  -"),
    row("ReviewService", "GetReview", r#"{"reviewId": "{review}"}"#, ("GET", "/v1/reviews/{review}"),                      "-  -  -  -  -  -  Y  -  -  -  -"),
    row("ReviewService", "AnswerReview", r#"{"reviewId": "{review}", "decision": "approve"}"#, ("POST", "/v1/reviews/{review}/answer"),
                                                                                                                             "-  -  -  -  -  -  Y  -  -  -  -"),
    row("ReviewService", "ExtendReview", r#"{"reviewId": "{review}", "reason": "案情复杂"}"#, ("POST", "/v1/reviews/{review}/extension"),
                                                                                                                             "-  -  -  -  -  -  Y  -  -  -  -"),
    // The dashboard (the read model): the town's chair, its viewer and the county-wide viewer.
    row("DashboardService", "GetDashboard", r#"{"town": "330782101"}"#, ("GET", "/dashboard?town=330782101"),               "-  -  Y  -  -  -  -  -  Y  -  Y"),
    // The watch names no town (it says only that the figures changed); a town's reader is
    // held to its own town, a department's staff and viewer get nothing.
    row("DashboardService", "WatchDashboard", r#"{}"#, ("", ""),                                                           "-  -  Y  -  -  -  -  -  Y  -  Y"),
    // Who read the town's case files: its judicial office alone, in every service that keeps a log.
    row("AccessLogService@brigade", "ListAccessLog", r#"{"town": "330782101"}"#, ("GET", "/v1/towns/330782101/access-log/brigade"),
                                                                                                                             "-  -  -  -  -  -  Y  -  -  -  -"),
    row("AccessLogService@county", "ListAccessLog", r#"{"town": "330782101"}"#, ("GET", "/v1/towns/330782101/access-log/county"),
                                                                                                                             "-  -  -  -  -  -  Y  -  -  -  -"),
    row("AccessLogService@board", "ListAccessLog", r#"{"town": "330782101"}"#, ("GET", "/v1/towns/330782101/access-log/board"),
                                                                                                                             "-  -  -  -  -  -  Y  -  -  -  -"),
    row("AccessLogService@review", "ListAccessLog", r#"{"town": "330782101"}"#, ("GET", "/v1/towns/330782101/access-log/review"),
                                                                                                                             "-  -  -  -  -  -  Y  -  -  -  -"),
];

/// The ids the table's `{name}`s stand for.
struct Ids(HashMap<&'static str, String>);

impl Ids {
    fn fill(&self, s: &str) -> String {
        let mut out = s.to_owned();
        for (k, v) in &self.0 {
            out = out.replace(&format!("{{{k}}}"), v);
        }
        out
    }
}

/// Did the call get past authorisation?
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Answer {
    Allowed,
    Denied,
}

fn expected(row: &Row) -> Vec<Answer> {
    let cells: Vec<Answer> = row
        .expect
        .split_whitespace()
        .map(|c| match c {
            "Y" => Answer::Allowed,
            "-" => Answer::Denied,
            other => panic!("{}: cell {other:?}", row.rpc),
        })
        .collect();
    assert_eq!(cells.len(), 11, "{}.{}: 11 cells", row.service, row.rpc);
    cells
}

/// `json` (proto3 JSON) as the prost message `$pkg::$msg`, through its pbjson twin.
macro_rules! message {
    ($pkg:ident :: $msg:ident, $json:expr) => {{
        let twin: liandong_proto::json::$pkg::v1::$msg =
            serde_json::from_value($json).expect(concat!(stringify!($msg), " from JSON"));
        liandong_proto::$pkg::v1::$msg::decode(twin.encode_to_vec().as_slice())
            .expect("one wire format")
    }};
}

macro_rules! unary {
    ($client:expr, $method:ident, $who:expr, $pkg:ident :: $msg:ident, $json:expr) => {
        $client
            .$method($who.req(message!($pkg::$msg, $json)))
            .await
            .map(|_| ())
    };
}

async fn grpc(hub: &TestHub, row: &Row, who: &As, json: Value) -> Result<(), tonic::Status> {
    let mut b = hub.brigade.clone();
    let mut c = hub.county.clone();
    let mut d = hub.disclosure.clone();
    let mut r = hub.review.clone();
    let mut o = hub.board.clone();
    let log = |addr: std::net::SocketAddr| {
        AccessLogServiceClient::new(
            tonic::transport::Endpoint::from_shared(format!("http://{addr}"))
                .expect("an address")
                .connect_lazy(),
        )
    };
    let cfg = &hub.env.cfg;
    match (row.service, row.rpc) {
        ("BrigadeService", "ReportCase") => {
            unary!(b, report_case, who, brigade::ReportCaseRequest, json)
        }
        ("BrigadeService", "GetCase") => unary!(b, get_case, who, brigade::GetCaseRequest, json),
        ("BrigadeService", "ListCases") => {
            unary!(b, list_cases, who, brigade::ListCasesRequest, json)
        }
        ("BrigadeService", "AssignCase") => {
            unary!(b, assign_case, who, brigade::AssignCaseRequest, json)
        }
        ("BrigadeService", "RecordCaseAction") => unary!(
            b,
            record_case_action,
            who,
            brigade::RecordCaseActionRequest,
            json
        ),
        ("BrigadeService", "ConcludeCase") => {
            unary!(b, conclude_case, who, brigade::ConcludeCaseRequest, json)
        }
        ("BrigadeService", "RecordJointExecution") => unary!(
            b,
            record_joint_execution,
            who,
            brigade::RecordJointExecutionRequest,
            json
        ),
        ("BrigadeService", "ListResults") => {
            unary!(b, list_results, who, brigade::ListResultsRequest, json)
        }
        ("BrigadeService", "VerifyRecord") => {
            unary!(b, verify_record, who, brigade::VerifyRecordRequest, json)
        }
        ("BrigadeService", "ListDocuments") => {
            unary!(b, list_documents, who, brigade::ListDocumentsRequest, json)
        }
        ("BrigadeService", "ExportDossier") => {
            unary!(b, export_dossier, who, brigade::ExportDossierRequest, json)
        }
        ("BrigadeService", "UploadEvidence") => unary!(
            b,
            upload_evidence,
            who,
            brigade::UploadEvidenceRequest,
            json
        ),
        ("BrigadeService", "RegisterOfficer") => unary!(
            b,
            register_officer,
            who,
            brigade::RegisterOfficerRequest,
            json
        ),
        ("BrigadeService", "ListOfficers") => {
            unary!(b, list_officers, who, brigade::ListOfficersRequest, json)
        }
        ("BrigadeService", "RecordAssessment") => unary!(
            b,
            record_assessment,
            who,
            brigade::RecordAssessmentRequest,
            json
        ),
        ("BrigadeService", "RevokeCertificate") => unary!(
            b,
            revoke_certificate,
            who,
            brigade::RevokeCertificateRequest,
            json
        ),
        ("BrigadeService", "ChangeDecision") => unary!(
            b,
            change_decision,
            who,
            brigade::ChangeDecisionRequest,
            json
        ),
        ("BrigadeService", "RecordPatrol") => {
            unary!(b, record_patrol, who, brigade::RecordPatrolRequest, json)
        }
        ("BrigadeService", "RecordPersuasion") => unary!(
            b,
            record_persuasion,
            who,
            brigade::RecordPersuasionRequest,
            json
        ),
        ("BrigadeService", "ListActivities") => unary!(
            b,
            list_activities,
            who,
            brigade::ListActivitiesRequest,
            json
        ),
        ("BrigadeService", "RecordCallback") => unary!(
            b,
            record_callback,
            who,
            brigade::RecordCallbackRequest,
            json
        ),
        ("BrigadeService", "ListCallbacks") => {
            unary!(b, list_callbacks, who, brigade::ListCallbacksRequest, json)
        }
        ("BrigadeService", "RecordExcludedPeriod") => unary!(
            b,
            record_excluded_period,
            who,
            brigade::RecordExcludedPeriodRequest,
            json
        ),
        ("BrigadeService", "RecordPeriodExtension") => unary!(
            b,
            record_period_extension,
            who,
            brigade::RecordPeriodExtensionRequest,
            json
        ),
        ("CountyService", "ChangeReferralDecision") => unary!(
            c,
            change_referral_decision,
            who,
            county::ChangeReferralDecisionRequest,
            json
        ),
        ("CountyService", "ListObligations") => unary!(
            c,
            list_obligations,
            who,
            county::ListObligationsRequest,
            json
        ),
        ("CountyService", "RequestExtension") => unary!(
            c,
            request_extension,
            who,
            county::RequestExtensionRequest,
            json
        ),
        ("BoardService", "ListSupervision") => unary!(
            o,
            list_supervision,
            who,
            board::ListSupervisionRequest,
            json
        ),
        ("BoardService", "DecideExtension") => unary!(
            o,
            decide_extension,
            who,
            board::DecideExtensionRequest,
            json
        ),
        ("BoardService", "GetActivityFigures") => unary!(
            o,
            get_activity_figures,
            who,
            board::GetActivityFiguresRequest,
            json
        ),
        ("BoardService", "GetSatisfactionFigures") => unary!(
            o,
            get_satisfaction_figures,
            who,
            board::GetSatisfactionFiguresRequest,
            json
        ),
        ("CountyService", "ListInbox") => {
            unary!(c, list_inbox, who, county::ListInboxRequest, json)
        }
        ("CountyService", "GetReferral") => {
            unary!(c, get_referral, who, county::GetReferralRequest, json)
        }
        ("CountyService", "SignForReferral") => unary!(
            c,
            sign_for_referral,
            who,
            county::SignForReferralRequest,
            json
        ),
        ("CountyService", "AcceptReferral") => {
            unary!(c, accept_referral, who, county::AcceptReferralRequest, json)
        }
        ("CountyService", "ReturnReferral") => {
            unary!(c, return_referral, who, county::ReturnReferralRequest, json)
        }
        ("CountyService", "AssignReferral") => {
            unary!(c, assign_referral, who, county::AssignReferralRequest, json)
        }
        ("CountyService", "ConcludeReferral") => unary!(
            c,
            conclude_referral,
            who,
            county::ConcludeReferralRequest,
            json
        ),
        ("CountyService", "ListTasks") => {
            unary!(c, list_tasks, who, county::ListTasksRequest, json)
        }
        ("CountyService", "RecordEntrustedDecision") => unary!(
            c,
            record_entrusted_decision,
            who,
            county::RecordEntrustedDecisionRequest,
            json
        ),
        ("CountyService", "CompleteTask") => {
            unary!(c, complete_task, who, county::CompleteTaskRequest, json)
        }
        ("CountyService", "ListHandovers") => {
            unary!(c, list_handovers, who, county::ListHandoversRequest, json)
        }
        ("CountyService", "ChangeEntrustedDecision") => unary!(
            c,
            change_entrusted_decision,
            who,
            county::ChangeEntrustedDecisionRequest,
            json
        ),
        ("CountyService", "GetCaseRecord") => {
            unary!(c, get_case_record, who, county::GetCaseRecordRequest, json)
        }
        ("CountyService", "RegisterOfficer") => unary!(
            c,
            register_officer,
            who,
            county::RegisterOfficerRequest,
            json
        ),
        ("CountyService", "ListOfficers") => {
            unary!(c, list_officers, who, county::ListOfficersRequest, json)
        }
        ("CountyService", "RecordAssessment") => unary!(
            c,
            record_assessment,
            who,
            county::RecordAssessmentRequest,
            json
        ),
        ("CountyService", "RevokeCertificate") => unary!(
            c,
            revoke_certificate,
            who,
            county::RevokeCertificateRequest,
            json
        ),
        ("BoardService", "ListAgenda") => {
            unary!(o, list_agenda, who, board::ListAgendaRequest, json)
        }
        ("BoardService", "GetItem") => unary!(o, get_item, who, board::GetItemRequest, json),
        ("BoardService", "RecordOpinion") => {
            unary!(o, record_opinion, who, board::RecordOpinionRequest, json)
        }
        ("BoardService", "ApproveJoint") => {
            unary!(o, approve_joint, who, board::ApproveJointRequest, json)
        }
        ("BoardService", "ReclassifyJoint") => unary!(
            o,
            reclassify_joint,
            who,
            board::ReclassifyJointRequest,
            json
        ),
        ("BoardService", "SendBackJoint") => {
            unary!(o, send_back_joint, who, board::SendBackJointRequest, json)
        }
        ("BoardService", "SettleDispute") => {
            unary!(o, settle_dispute, who, board::SettleDisputeRequest, json)
        }
        ("BoardService", "RecordMeeting") => {
            unary!(o, record_meeting, who, board::RecordMeetingRequest, json)
        }
        ("BoardService", "ExportMinutes") => {
            unary!(o, export_minutes, who, board::ExportMinutesRequest, json)
        }
        ("DisclosureService", "ListDisclosures") => unary!(
            d,
            list_disclosures,
            who,
            disclosure::ListDisclosuresRequest,
            json
        ),
        ("DisclosureService", "PublishDisclosure") => unary!(
            d,
            publish_disclosure,
            who,
            disclosure::PublishDisclosureRequest,
            json
        ),
        ("DisclosureService", "WithdrawDisclosure") => unary!(
            d,
            withdraw_disclosure,
            who,
            disclosure::WithdrawDisclosureRequest,
            json
        ),
        ("PublicDisclosureService", "ListPublic") => {
            let mut p = liandong_proto::disclosure::v1::public_disclosure_service_client::PublicDisclosureServiceClient::new(
                tonic::transport::Endpoint::from_shared(format!("http://{}", cfg.disclosure_addr))
                    .expect("an address")
                    .connect_lazy(),
            );
            unary!(p, list_public, who, disclosure::ListPublicRequest, json)
        }
        ("PublicRegistryService", "ListCertifiedOfficers") => {
            let mut p = review::public_registry_service_client::PublicRegistryServiceClient::new(
                tonic::transport::Endpoint::from_shared(format!("http://{}", cfg.review_addr))
                    .expect("an address")
                    .connect_lazy(),
            );
            unary!(
                p,
                list_certified_officers,
                who,
                review::ListCertifiedOfficersRequest,
                json
            )
        }
        ("ReviewService", "ListReviews") => {
            unary!(r, list_reviews, who, review::ListReviewsRequest, json)
        }
        ("ReviewService", "GetReview") => {
            unary!(r, get_review, who, review::GetReviewRequest, json)
        }
        ("ReviewService", "AnswerReview") => {
            unary!(r, answer_review, who, review::AnswerReviewRequest, json)
        }
        ("ReviewService", "ExtendReview") => {
            unary!(r, extend_review, who, review::ExtendReviewRequest, json)
        }
        ("AccessLogService@brigade", _) => unary!(
            log(cfg.brigade_addr),
            list_access_log,
            who,
            access::ListAccessLogRequest,
            json
        ),
        ("AccessLogService@county", _) => unary!(
            log(cfg.county_addr),
            list_access_log,
            who,
            access::ListAccessLogRequest,
            json
        ),
        ("AccessLogService@board", _) => unary!(
            log(cfg.board_addr),
            list_access_log,
            who,
            access::ListAccessLogRequest,
            json
        ),
        ("AccessLogService@review", _) => unary!(
            log(cfg.review_addr),
            list_access_log,
            who,
            access::ListAccessLogRequest,
            json
        ),
        ("DashboardService", "GetDashboard") => {
            let town = json["town"].as_str().unwrap_or_default().to_owned();
            hub.readmodel
                .clone()
                .get_dashboard(who.req(readmodel::GetDashboardRequest {
                    town,
                    ..Default::default()
                }))
                .await
                .map(|_| ())
        }
        ("DashboardService", "WatchDashboard") => hub
            .readmodel
            .clone()
            .watch_dashboard(who.req(readmodel::WatchDashboardRequest {}))
            .await
            .map(|_| ()),
        (s, m) => panic!("no call for {s}.{m}"),
    }
}

fn grpc_answer(got: &Result<(), tonic::Status>) -> Result<Answer, String> {
    match got {
        Ok(()) => Ok(Answer::Allowed),
        Err(s) if s.code() == Code::PermissionDenied => Ok(Answer::Denied),
        Err(s)
            if s.code() == Code::Unauthenticated
                || s.code() == Code::Unavailable
                || s.code() == Code::Internal =>
        {
            Err(format!("{:?}: {}", s.code(), s.message()))
        }
        Err(_) => Ok(Answer::Allowed),
    }
}

fn http_answer(status: u16, body: &str) -> Result<Answer, String> {
    match status {
        403 => Ok(Answer::Denied),
        401 | 500.. => Err(format!("{status}: {body}")),
        _ => Ok(Answer::Allowed),
    }
}

/// Every method of the services the hub serves is in the table, and every gateway route.
#[test]
fn the_table_covers_every_rpc_and_every_route() {
    let fds = prost_types::FileDescriptorSet::decode(liandong_proto::FILE_DESCRIPTOR_SET)
        .expect("the descriptor set decodes");
    let covered: BTreeSet<(String, String)> = TABLE
        .iter()
        .map(|r| {
            let service = r.service.split('@').next().unwrap().to_owned();
            (service, r.rpc.to_owned())
        })
        .collect();
    let mut missing = Vec::new();
    for file in &fds.file {
        for service in &file.service {
            let name = service.name();
            for method in &service.method {
                if !covered.contains(&(name.to_owned(), method.name().to_owned())) {
                    missing.push(format!("{name}.{}", method.name()));
                }
            }
        }
    }
    assert!(missing.is_empty(), "not in the matrix: {missing:?}");
    let mut unrouted = Vec::new();
    for route in liandong_gateway::routes::table() {
        // Each RPC is tried through one of its routes; a second route of the same RPC (a
        // department's list beside a town's) is the same check.
        let rpc_covered = TABLE.iter().any(|r| {
            r.rpc == route.rpc
                && r.service.split('@').next() == route.backend.service().rsplit('.').next()
        });
        if !rpc_covered {
            unrouted.push(format!("{} {}", route.method, route.path));
        }
    }
    assert!(
        unrouted.is_empty(),
        "routes whose RPC is not in the matrix: {unrouted:?}"
    );
    for row in TABLE {
        expected(row);
    }
}

#[tokio::test]
async fn every_role_against_every_action_over_grpc_and_the_gateway() {
    let hub = TestHub::start(Backend::Sqlite).await;
    let ids = setup(&hub).await;
    let actors = actors();
    let names: Vec<&str> = COLUMNS.split_whitespace().collect();
    let gw = hub.env.cfg.gateway_addr;
    let mut wrong = Vec::new();
    let mut calls = 0;
    for row in TABLE {
        let expect = expected(row);
        let json: Value = serde_json::from_str(&ids.fill(row.body))
            .unwrap_or_else(|e| panic!("{}.{}: {e}", row.service, row.rpc));
        let path = ids.fill(row.http.1);
        for (i, who) in actors.iter().enumerate() {
            let got = grpc(&hub, row, who, json.clone()).await;
            calls += 1;
            match grpc_answer(&got) {
                Ok(a) if a == expect[i] => {}
                other => wrong.push(format!(
                    "gRPC {}.{} as {}: expected {:?}, got {other:?} ({:?})",
                    row.service,
                    row.rpc,
                    names[i],
                    expect[i],
                    got.err().map(|s| s.message().to_owned())
                )),
            }
            if row.http.0.is_empty() {
                continue;
            }
            let bearer = who.bearer();
            let body = (row.http.0 != "GET").then(|| json.to_string());
            let reply = request(
                gw,
                row.http.0,
                &path,
                &[("authorization", &bearer)],
                body.as_deref(),
            )
            .await
            .expect("the gateway answers");
            calls += 1;
            match http_answer(reply.status, &reply.body) {
                Ok(a) if a == expect[i] => {}
                other => wrong.push(format!(
                    "HTTP {} {path} as {}: expected {:?}, got {other:?}: {}",
                    row.http.0, names[i], expect[i], reply.body
                )),
            }
        }
    }
    // Every allowed cell, as the same role of another town or department: refused.
    for row in TABLE
        .iter()
        // The public feeds are everyone's; the watch names no town, so another town's chair
        // watching is held to that town (GetDashboard's row checks the town).
        .filter(|r| {
            !matches!(
                r.service,
                "PublicDisclosureService" | "PublicRegistryService"
            ) && r.rpc != "WatchDashboard"
        })
    {
        let expect = expected(row);
        let json: Value = serde_json::from_str(&ids.fill(row.body)).unwrap();
        for (i, who) in foreigners().iter().enumerate() {
            let Some(who) = who else { continue };
            if expect[i] != Answer::Allowed {
                continue;
            }
            let got = grpc(&hub, row, who, json.clone()).await;
            calls += 1;
            if grpc_answer(&got) != Ok(Answer::Denied) {
                wrong.push(format!(
                    "gRPC {}.{} as {} of elsewhere ({:?} {:?}): expected Denied, got {:?}",
                    row.service,
                    row.rpc,
                    names[i],
                    who.town,
                    who.department,
                    got.err().map(|s| (s.code(), s.message().to_owned()))
                ));
            }
        }
    }
    println!("{calls} calls");
    assert!(
        wrong.is_empty(),
        "{} cells differ:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
    hub.stop().await;
}

fn report(matters: &[&str], description: &str) -> brigade::ReportCaseRequest {
    Report::new(T1, matters, description).request()
}

/// The resources the table acts on, all of T1 and forestry.
async fn setup(hub: &TestHub) -> Ids {
    let officer = As::brigade_officer(T1);
    let captain = As::brigade_captain(T1);
    let chair = As::board_chair(T1);
    let mut b = hub.brigade.clone();
    let mut report_one = async |matters: &[&str], what: &str| {
        b.report_case(officer.req(report(matters, what)))
            .await
            .expect("reported")
            .into_inner()
            .case
            .expect("a case")
            .case_id
    };
    // In the brigade's hands, assigned to wang.wu.
    let case_in = report_one(&["CSGL-001"], "占道经营").await;
    // Concluded, so it has a decision to disclose; and a major one, held for review.
    let case_done = report_one(&["CSGL-001"], "占道经营，已改正").await;
    let case_major = report_one(&["CSGL-001"], "占道经营，情节严重").await;
    // Referred to forestry, and on the joint meeting's agenda.
    let case_out = report_one(&["LY-001"], "砍伐林木").await;
    let case_joint = report_one(&["TD-001"], "非法占用基本农田").await;
    let mut b = hub.brigade.clone();
    for case_id in [&case_in, &case_done, &case_major] {
        b.assign_case(captain.req(brigade::AssignCaseRequest {
            case_id: case_id.clone(),
            officers: vec!["wang.wu".into(), "li.si".into()],
        }))
        .await
        .expect("assigned");
    }
    let conclude = |case_id: &str, outcome: ev::Outcome| brigade::ConcludeCaseRequest {
        case_id: case_id.into(),
        outcome: Some(outcome),
        ..Default::default()
    };
    b.conclude_case(officer.req(conclude(
        &case_done,
        ev::Outcome {
            kind: "education".into(),
            summary: "批评教育".into(),
            ..Default::default()
        },
    )))
    .await
    .expect("concluded");
    let major = ev::Outcome {
        kind: "fine".into(),
        fine_fen: 2_000_000,
        summary: "占道经营，处罚款".into(),
        ..Default::default()
    };
    liandong_tests::people::hear_before_deciding(&hub.brigade, &officer, &case_major, &major)
        .await
        .expect("notified and heard");
    b.conclude_case(officer.req(conclude(&case_major, major)))
        .await
        .expect("held for review");

    let referral = eventually("the referral in forestry's inbox", WAIT, || async {
        hub.county
            .clone()
            .list_inbox(As::dispatcher("forestry").req(county::ListInboxRequest {
                department: "forestry".into(),
                ..Default::default()
            }))
            .await
            .ok()?
            .into_inner()
            .referrals
            .into_iter()
            .find(|r| r.facts.as_ref().is_some_and(|f| f.case_id == case_out))
    })
    .await
    .referral_id;
    let item = eventually("the joint case on the agenda", WAIT, || async {
        hub.board
            .clone()
            .list_agenda(As::board_member(T1).req(board::ListAgendaRequest {
                town: T1.into(),
                ..Default::default()
            }))
            .await
            .ok()?
            .into_inner()
            .items
            .into_iter()
            .find(|i| i.facts.as_ref().is_some_and(|f| f.case_id == case_joint))
    })
    .await
    .item_id;
    let mut o = hub.board.clone();
    let meeting = o
        .record_meeting(chair.req(board::RecordMeetingRequest {
            town: T1.into(),
            held_at: Some(prost_types::Timestamp {
                seconds: 1_780_000_000,
                nanos: 0,
            }),
            attendees: vec!["zhao.zhuxi".into()],
            item_ids: vec![item.clone()],
            notes: "联席会议".into(),
        }))
        .await
        .expect("a meeting")
        .into_inner()
        .meeting
        .expect("a meeting")
        .meeting_id;
    o.approve_joint(chair.req(board::ApproveJointRequest {
        item_id: item.clone(),
        lead_department: "forestry".into(),
        cooperating_departments: vec![],
        instructions: "林业部门牵头".into(),
        meeting_id: meeting.clone(),
    }))
    .await
    .expect("approved");
    let task = eventually("forestry's task", WAIT, || async {
        hub.county
            .clone()
            .list_tasks(As::dispatcher("forestry").req(county::ListTasksRequest {
                department: "forestry".into(),
                ..Default::default()
            }))
            .await
            .ok()?
            .into_inner()
            .tasks
            .into_iter()
            .find(|t| t.case_id == case_joint)
    })
    .await
    .task_id;
    let review_id = eventually("the review of the major decision", WAIT, || async {
        hub.review
            .clone()
            .list_reviews(As::judicial_reviewer(T1).req(review::ListReviewsRequest {
                town: T1.into(),
                ..Default::default()
            }))
            .await
            .ok()?
            .into_inner()
            .reviews
            .into_iter()
            .find(|r| r.case_id == case_major)
    })
    .await
    .review_id;
    let disclosure_id = eventually("the decision's disclosure", WAIT, || async {
        hub.disclosure
            .clone()
            .list_disclosures(As::brigade_captain(T1).req(
                liandong_proto::disclosure::v1::ListDisclosuresRequest {
                    town: T1.into(),
                    ..Default::default()
                },
            ))
            .await
            .ok()?
            .into_inner()
            .disclosures
            .into_iter()
            .find(|d| d.case_id == case_done)
    })
    .await
    .disclosure_id;
    // A deadline of the referral, and the dispatcher's request for more time on it, which
    // waits for the chair.
    let obligation = eventually("an obligation of the referral", WAIT, || async {
        hub.county
            .clone()
            .list_obligations(
                As::dispatcher("forestry").req(county::ListObligationsRequest {
                    department: "forestry".into(),
                    ..Default::default()
                }),
            )
            .await
            .ok()?
            .into_inner()
            .obligations
            .into_iter()
            .find(|o| o.referral_id == referral)
    })
    .await
    .obligation_id;
    let extension = hub
        .county
        .clone()
        .request_extension(
            As::dispatcher("forestry").req(county::RequestExtensionRequest {
                obligation_id: obligation.clone(),
                working_days: 5,
                reason: "鉴定未完成".into(),
            }),
        )
        .await
        .expect("an extension is asked for")
        .into_inner()
        .request_id;
    eventually("the extension request before the chair", WAIT, || async {
        hub.board
            .clone()
            .list_supervision(chair.req(board::ListSupervisionRequest {
                town: T1.into(),
                include_resolved: true,
            }))
            .await
            .ok()?
            .into_inner()
            .extension_requests
            .into_iter()
            .find(|r| r.request_id == extension)
    })
    .await;
    Ids(HashMap::from([
        ("obligation", obligation),
        ("extension", extension),
        ("case_in", case_in),
        ("case_done", case_done),
        ("case_out", case_out),
        ("case_joint", case_joint),
        ("referral", referral),
        ("item", item),
        ("meeting", meeting),
        ("task", task),
        ("review", review_id),
        ("disclosure", disclosure_id),
    ]))
}
