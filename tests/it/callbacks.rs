//! Call-backs (回访): a publicly reported case, once concluded, has its reporter's satisfaction
//! recorded; an unsatisfied answer reopens it; the board keeps the town's tally.

use std::time::Duration;

use chrono::Datelike;
use liandong_proto::board::v1 as board;
use liandong_proto::brigade::v1 as brigade;
use liandong_proto::events::v1 as ev;
use liandong_tests::hub::{As, TestHub};
use liandong_tests::people::Report;
use liandong_tests::{Backend, eventually, on_each_backend};
use tonic::Code;
use tonic_types::StatusExt;

const T1: &str = "330782101";
const WAIT: Duration = Duration::from_secs(30);

fn report(source: brigade::CaseSource) -> brigade::ReportCaseRequest {
    Report::new(
        T1,
        &["CXGH-001"],
        "群众举报邻居未取得乡村建设规划许可证建房",
    )
    .from_source(source)
    .in_village("东山村", "东山村3组")
    .request()
}

/// Reports an in-scope case from `source`, assigns it and concludes it with education.
async fn concluded_case(hub: &TestHub, source: brigade::CaseSource) -> String {
    let mut b = hub.brigade.clone();
    let case = b
        .report_case(As::brigade_officer(T1).req(report(source)))
        .await
        .expect("the report is taken")
        .into_inner()
        .case
        .expect("a case");
    conclude(hub, &case.case_id).await;
    case.case_id
}

async fn conclude(hub: &TestHub, case_id: &str) {
    let mut b = hub.brigade.clone();
    b.assign_case(As::brigade_captain(T1).req(brigade::AssignCaseRequest {
        case_id: case_id.into(),
        officers: vec!["wang.wu".into(), "li.si".into()],
    }))
    .await
    .expect("the captain assigns");
    let done = b
        .conclude_case(As::brigade_officer(T1).req(brigade::ConcludeCaseRequest {
            case_id: case_id.into(),
            outcome: Some(ev::Outcome {
                kind: "education".into(),
                summary: "教育后当事人自行整改".into(),
                ..Default::default()
            }),
            ..Default::default()
        }))
        .await
        .expect("the officer concludes")
        .into_inner()
        .case
        .expect("the case");
    assert_eq!(done.status, "concluded");
}

fn call(
    case_id: &str,
    satisfaction: &str,
    note: &str,
    reopen: bool,
) -> brigade::RecordCallbackRequest {
    brigade::RecordCallbackRequest {
        case_id: case_id.into(),
        satisfaction: satisfaction.into(),
        note: note.into(),
        called_back_by: "陈回访".into(),
        called_at: Some(liandong_proto::time::to_ts(chrono::Utc::now())),
        reopen,
    }
}

fn fields(s: tonic::Status) -> Vec<String> {
    assert_eq!(s.code(), Code::InvalidArgument, "{s:?}");
    s.get_details_bad_request()
        .expect("field violations")
        .field_violations
        .into_iter()
        .map(|v| v.field)
        .collect()
}

async fn history(hub: &TestHub, case_id: &str) -> (String, Vec<String>) {
    let got = hub
        .brigade
        .clone()
        .get_case(As::brigade_officer(T1).req(brigade::GetCaseRequest {
            case_id: case_id.into(),
        }))
        .await
        .expect("the case is readable")
        .into_inner();
    (
        got.case.expect("the case").status,
        got.history.into_iter().map(|h| h.kind).collect(),
    )
}

async fn an_unsatisfied_reporter_reopens_the_case_and_the_board_tallies_the_answers(
    backend: Backend,
) {
    let hub = TestHub::start(backend).await;
    let mut b = hub.brigade.clone();
    let officer = As::brigade_officer(T1);

    // Only a finished case is called back.
    let open = b
        .report_case(officer.req(report(brigade::CaseSource::Hotline12345)))
        .await
        .unwrap()
        .into_inner()
        .case
        .unwrap();
    let refused = b
        .record_callback(officer.req(call(&open.case_id, "satisfied", "", false)))
        .await
        .expect_err("an open case is not called back");
    assert_eq!(refused.code(), Code::FailedPrecondition, "{refused:?}");

    // Only a case the public reported.
    let patrol = concluded_case(&hub, brigade::CaseSource::Patrol).await;
    let refused = b
        .record_callback(officer.req(call(&patrol, "satisfied", "", false)))
        .await
        .expect_err("a patrol's case has no reporter");
    assert_eq!(refused.code(), Code::FailedPrecondition);
    assert!(
        refused.message().contains("patrol"),
        "{}",
        refused.message()
    );

    let case_id = concluded_case(&hub, brigade::CaseSource::PublicReport).await;
    // Bad answers name their fields and change nothing.
    let bad = b
        .record_callback(officer.req(brigade::RecordCallbackRequest {
            called_back_by: String::new(),
            called_at: None,
            ..call(&case_id, "happy", "", false)
        }))
        .await
        .expect_err("refused");
    assert_eq!(fields(bad), ["satisfaction", "called_back_by", "called_at"]);
    let bad = b
        .record_callback(officer.req(call(&case_id, "unsatisfied", "", true)))
        .await
        .expect_err("refused");
    assert_eq!(fields(bad), ["note"]);
    let bad = b
        .record_callback(officer.req(call(&case_id, "satisfied", "", true)))
        .await
        .expect_err("refused");
    assert_eq!(fields(bad), ["reopen"]);
    // Another town's board member may not record one.
    let refused = b
        .record_callback(As::board_member(T1).req(call(&case_id, "satisfied", "", false)))
        .await
        .expect_err("not the board's to record");
    assert_eq!(refused.code(), Code::PermissionDenied);
    let (status, kinds) = history(&hub, &case_id).await;
    assert_eq!(status, "concluded");
    assert!(!kinds.iter().any(|k| k == "callback"), "{kinds:?}");

    // A call dated before the conclusion is refused.
    let early = b
        .record_callback(officer.req(brigade::RecordCallbackRequest {
            called_at: Some(prost_types::Timestamp {
                seconds: 1_780_000_000,
                nanos: 0,
            }),
            ..call(&case_id, "satisfied", "", false)
        }))
        .await
        .expect_err("dated before the conclusion");
    assert_eq!(early.code(), Code::FailedPrecondition);
    assert!(early.message().contains("called_at"), "{}", early.message());
    // Unsatisfied: the case is handled again, and the record says why.
    let answered = b
        .record_callback(officer.req(call(&case_id, "unsatisfied", "房屋仍在继续加建", true)))
        .await
        .expect("recorded")
        .into_inner();
    let cb = answered.callback.expect("the call-back");
    assert!(cb.reopened);
    assert_eq!(cb.source, "public_report");
    assert_eq!(answered.case.expect("the case").status, "open");
    let (status, kinds) = history(&hub, &case_id).await;
    assert_eq!(status, "open");
    assert_eq!(kinds[kinds.len() - 2..], ["callback", "reopened"]);
    let refused = b
        .record_callback(officer.req(call(&case_id, "satisfied", "", false)))
        .await
        .expect_err("the reopened case is not finished");
    assert_eq!(refused.code(), Code::FailedPrecondition);

    // Handled again and concluded: the reporter is called back once more, and only once.
    conclude(&hub, &case_id).await;
    let answered = b
        .record_callback(officer.req(call(&case_id, "satisfied", "", false)))
        .await
        .expect("recorded")
        .into_inner();
    assert!(!answered.callback.unwrap().reopened);
    assert_eq!(answered.case.unwrap().status, "concluded");
    let refused = b
        .record_callback(officer.req(call(&case_id, "basically_satisfied", "", false)))
        .await
        .expect_err("this conclusion was called back already");
    assert_eq!(refused.code(), Code::FailedPrecondition);

    let listed = b
        .list_callbacks(officer.req(brigade::ListCallbacksRequest {
            town: T1.into(),
            ..Default::default()
        }))
        .await
        .unwrap()
        .into_inner()
        .callbacks;
    let answers: Vec<(&str, bool)> = listed
        .iter()
        .map(|c| (c.satisfaction.as_str(), c.reopened))
        .collect();
    assert_eq!(answers, [("satisfied", false), ("unsatisfied", true)]);

    // The board counts each answer once, in the year of the call.
    let year = chrono::Utc::now().year();
    let figures = eventually("the board's tally", WAIT, || async {
        let f = hub
            .board
            .clone()
            .get_satisfaction_figures(As::board_chair(T1).req(
                board::GetSatisfactionFiguresRequest {
                    town: T1.into(),
                    year,
                },
            ))
            .await
            .ok()?
            .into_inner();
        (f.satisfied + f.unsatisfied == 2).then_some(f)
    })
    .await;
    assert_eq!(
        (
            figures.satisfied,
            figures.basically_satisfied,
            figures.unsatisfied,
            figures.reopened
        ),
        (1, 0, 1, 1)
    );
    hub.stop().await;
}

on_each_backend!(an_unsatisfied_reporter_reopens_the_case_and_the_board_tallies_the_answers);

#[tokio::test]
async fn the_gateway_takes_a_call_back_and_names_a_bad_field() {
    let hub = TestHub::start(Backend::Sqlite).await;
    let case_id = concluded_case(&hub, brigade::CaseSource::Hotline12345).await;
    let gw = hub.env.cfg.gateway_addr;
    let token = As::brigade_officer(T1).bearer();
    let headers = [("authorization", token.as_str())];
    let path = format!("/v1/cases/{case_id}/callbacks");
    // The call is made now, after the conclusion.
    let now = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
    let bad = liandong_tests::http::request(
        gw,
        "POST",
        &path,
        &headers,
        Some(&format!(
            r#"{{"satisfaction":"happy","calledBackBy":"陈回访","calledAt":"{now}"}}"#
        )),
    )
    .await
    .unwrap();
    assert_eq!(bad.status, 400, "{}", bad.body);
    assert!(bad.body.contains("satisfaction"), "{}", bad.body);
    let ok = liandong_tests::http::request(
        gw,
        "POST",
        &path,
        &headers,
        Some(&format!(
            r#"{{"satisfaction":"basically_satisfied","note":"希望处理再快一些","calledBackBy":"陈回访","calledAt":"{now}"}}"#
        )),
    )
    .await
    .unwrap();
    assert_eq!(ok.status, 200, "{}", ok.body);
    assert_eq!(ok.json()["callback"]["satisfaction"], "basically_satisfied");
    assert_eq!(ok.json()["case"]["status"], "concluded");
    hub.stop().await;
}
