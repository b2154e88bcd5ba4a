//! Availability: a busy database answers UNAVAILABLE with a retry hint (gRPC) and 503 with
//! `Retry-After` (the gateway), never INTERNAL; the call succeeds once the database is free.
//! The broker outage and the supervised crashes under `liandong up` load the machine and start
//! their own brokers, so they live in `fault.rs` (the fault phase, one at a time).

use std::str::FromStr;
use std::time::Duration;

use liandong_tests::fault::{self, TOWN};
use liandong_tests::hub::{As, TestHub};
use liandong_tests::{Backend, eventually};
use sqlx::Connection;
use sqlx::sqlite::SqliteConnectOptions;
use tonic::Code;
use tonic_types::StatusExt;

/// A report as the town's app sends it through the gateway.
fn report_json(request_id: &str) -> String {
    serde_json::json!({
        "town": TOWN,
        "source": "CASE_SOURCE_PATROL",
        "matters": [fault::MATTER],
        "village": "东山村",
        "location": "东山村后山林区",
        "description": "可用性测试：数据库被占用时的上报",
        "foundAt": "2026-05-28T08:30:00Z",
        "requestId": request_id,
    })
    .to_string()
}

/// The brigade's SQLite file held by a write transaction of the test's own past the busy
/// timeout (10 s): a report over gRPC answers UNAVAILABLE with `google.rpc.RetryInfo`, the
/// same through the gateway answers 503 with `Retry-After`; released, both succeed.
/// About 25 s (the hub's start and one busy timeout).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_held_busy_answers_unavailable_and_503_with_retry_after() {
    let hub = TestHub::start(Backend::Sqlite).await;
    let file = hub.env.cfg.data_dir.join("brigade.sqlite");
    let mut holder = sqlx::SqliteConnection::connect_with(
        &SqliteConnectOptions::from_str(&format!("sqlite://{}", file.display()))
            .expect("a SQLite URL"),
    )
    .await
    .expect("the test opens the brigade's database");
    // The one write lock, held until the test lets go.
    sqlx::query("BEGIN IMMEDIATE")
        .execute(&mut holder)
        .await
        .expect("the test takes the write lock");

    let officer = As::brigade_officer(TOWN);
    let grpc = {
        let mut brigade = hub.brigade.clone();
        let request = liandong_proto::brigade::v1::ReportCaseRequest {
            request_id: "busy-grpc".into(),
            ..fault::out_of_scope_report(1)
        };
        let req = officer.req(request);
        async move { brigade.report_case(req).await }
    };
    let bearer = officer.bearer();
    let gateway_addr = hub.env.cfg.gateway_addr;
    let body = report_json("busy-gateway");
    let http = async {
        liandong_tests::http::request(
            gateway_addr,
            "POST",
            "/v1/cases",
            &[("authorization", bearer.as_str())],
            Some(&body),
        )
        .await
    };
    let (grpc, http) = tokio::join!(grpc, http);

    let status = grpc.expect_err("a report against a locked database fails");
    assert_eq!(status.code(), Code::Unavailable, "{status:?}");
    let retry = status
        .get_details_retry_info()
        .and_then(|r| r.retry_delay)
        .expect("UNAVAILABLE carries a retry delay");
    assert!(retry > Duration::ZERO);
    let http = http.expect("the gateway answers");
    assert_eq!(http.status, 503, "{}", http.body);
    assert_eq!(http.json()["code"], "unavailable", "{}", http.body);
    let after: u64 = http
        .retry_after
        .as_deref()
        .expect("a 503 carries Retry-After")
        .parse()
        .expect("Retry-After in seconds");
    assert!(after >= 1);

    sqlx::query("ROLLBACK")
        .execute(&mut holder)
        .await
        .expect("the test lets go");
    holder.close().await.expect("closes");

    // The database free again, the same calls (same request ids) succeed, as a caller
    // following the hint would find.
    let brigade = hub.brigade.clone();
    eventually(
        "the report to succeed once the database is free",
        Duration::from_secs(60),
        || {
            let mut brigade = brigade.clone();
            let req = officer.req(liandong_proto::brigade::v1::ReportCaseRequest {
                request_id: "busy-grpc".into(),
                ..fault::out_of_scope_report(1)
            });
            async move { brigade.report_case(req).await.ok().map(|_| ()) }
        },
    )
    .await;
    let reply = eventually(
        "the report through the gateway to succeed",
        Duration::from_secs(60),
        || {
            let (bearer, body) = (bearer.clone(), body.clone());
            async move {
                let r = liandong_tests::http::request(
                    gateway_addr,
                    "POST",
                    "/v1/cases",
                    &[("authorization", bearer.as_str())],
                    Some(&body),
                )
                .await
                .ok()?;
                (r.status == 200).then_some(r)
            }
        },
    )
    .await;
    assert!(reply.retry_after.is_none());
    hub.stop().await;
}
