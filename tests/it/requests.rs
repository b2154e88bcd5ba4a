//! Repeating a request is safe: a report repeated under its request id (after a crash cut
//! off the first answer, say) makes one case, not two.

use liandong_proto::brigade::v1 as brigade;
use liandong_tests::hub::{As, TestHub};
use liandong_tests::people::Report;
use liandong_tests::{Backend, on_each_backend};
use tonic::Code;
use tonic_types::StatusExt;

const TOWN: &str = "330782101";

on_each_backend!(a_report_repeated_under_its_request_id_makes_one_case);

fn report(request_id: &str, description: &str) -> brigade::ReportCaseRequest {
    Report::new(TOWN, &["LY-001"], description)
        .under_request_id(request_id)
        .request()
}

async fn cases(hub: &TestHub) -> Vec<brigade::Case> {
    hub.brigade
        .clone()
        .list_cases(As::brigade_officer(TOWN).req(brigade::ListCasesRequest {
            town: TOWN.into(),
            ..Default::default()
        }))
        .await
        .expect("the cases list")
        .into_inner()
        .cases
}

async fn a_report_repeated_under_its_request_id_makes_one_case(backend: Backend) {
    let hub = TestHub::start(backend).await;
    let mut b = hub.brigade.clone();
    let officer = As::brigade_officer(TOWN);
    let id = "0b4e7c1a-5d2f-4e8b-9c3a-7f1e2d3c4b5a";

    let first = b
        .report_case(officer.req(report(id, "后山滥伐林木")))
        .await
        .expect("the report is taken")
        .into_inner()
        .case
        .unwrap();
    // The same request again, twice at once, as a client whose answer was cut off would.
    let (mut b1, mut b2) = (b.clone(), b.clone());
    let (again, at_once) = tokio::join!(
        b1.report_case(officer.req(report(id, "后山滥伐林木"))),
        b2.report_case(officer.req(report(id, "后山滥伐林木")))
    );
    let again = again
        .expect("the repeat is answered")
        .into_inner()
        .case
        .unwrap();
    let at_once = at_once
        .expect("the repeat is answered")
        .into_inner()
        .case
        .unwrap();
    // Another request id is another report; no id at all is always a new one.
    let other = b
        .report_case(officer.req(report("second-report-0001", "山脚另一处滥伐")))
        .await
        .unwrap()
        .into_inner()
        .case
        .unwrap();
    let bad = b
        .report_case(officer.req(report("bad id!", "请求号不合规")))
        .await
        .expect_err("a malformed request id is refused");
    let violations: Vec<String> = bad
        .get_details_bad_request()
        .expect("field violations")
        .field_violations
        .into_iter()
        .map(|v| v.field)
        .collect();

    let listed = cases(&hub).await;
    println!(
        "[{backend}] one request sent three times made case {}; another request made {}; {} case(s) stored",
        first.case_id,
        other.case_id,
        listed.len()
    );
    assert_eq!(again.case_id, first.case_id);
    assert_eq!(at_once.case_id, first.case_id);
    assert_ne!(other.case_id, first.case_id);
    assert_eq!(bad.code(), Code::InvalidArgument);
    assert_eq!(violations, ["request_id"]);
    assert_eq!(
        listed.len(),
        2,
        "two distinct reports, two cases: {listed:?}"
    );
    hub.stop().await;
}
