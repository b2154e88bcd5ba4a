//! The HTTP/JSON gateway in front of real services: proto3 JSON in and out, errors as HTTP
//! statuses with the same field violations, the OpenAPI document, and the demo seen through it.

use std::process::Command;
use std::time::Duration;

use liandong_tests::http::request;
use liandong_tests::hub::{As, TestHub, liandong_bin};
use liandong_tests::{Backend, eventually};
use serde_json::{Value, json};

const T1: &str = "330782101";
const T2: &str = "330782102";

fn report(matters: Value) -> String {
    json!({
        "town": T1,
        "source": "CASE_SOURCE_PUBLIC_REPORT",
        "matters": matters,
        "village": "东山村",
        "location": "后山",
        "description": "群众举报后山有人砍树",
        "foundAt": "2026-05-28T08:30:00Z",
        "evidenceRefs": ["photo-9.jpg"]
    })
    .to_string()
}

#[tokio::test]
async fn the_gateway_carries_a_referral_in_json_and_maps_errors_to_http() {
    let hub = TestHub::start(Backend::Sqlite).await;
    let gw = hub.env.cfg.gateway_addr;
    // Each caller's signed token, as `authorization: Bearer …`.
    let (officer, forestry) = (
        As::brigade_officer(T1).bearer(),
        As::dispatcher("forestry").bearer(),
    );
    let officer: &[(&str, &str)] = &[("authorization", &officer)];
    let forestry: &[(&str, &str)] = &[("authorization", &forestry)];

    let created = request(
        gw,
        "POST",
        "/v1/cases",
        officer,
        Some(&report(json!(["LY-001"]))),
    )
    .await
    .unwrap();
    assert_eq!(created.status, 200, "{}", created.body);
    let case = created.json()["case"].clone();
    assert_eq!(case["triage"]["path"], "PATH_OUT_OF_SCOPE");
    assert_eq!(case["triage"]["department"], "forestry");
    let case_id = case["caseId"].as_str().unwrap().to_owned();

    let read = request(gw, "GET", &format!("/v1/cases/{case_id}"), officer, None)
        .await
        .unwrap();
    assert_eq!(read.status, 200);
    let kinds: Vec<String> = read.json()["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["kind"].as_str().unwrap().to_owned())
        .collect();
    assert!(kinds.contains(&"referred".to_owned()), "{kinds:?}");

    // The department's inbox, through the gateway, with no hand in between.
    let referral = eventually(
        "the referral in forestry's inbox",
        Duration::from_secs(30),
        || async {
            let inbox = request(
                gw,
                "GET",
                &format!("/v1/departments/forestry/inbox?town={T1}"),
                forestry,
                None,
            )
            .await
            .ok()?;
            inbox.json()["referrals"]
                .as_array()?
                .iter()
                .find(|r| r["facts"]["caseId"] == case_id.as_str())
                .cloned()
        },
    )
    .await;
    let rid = referral["referralId"].as_str().unwrap();

    // A wrong state is 409, and a right one answers with the new state.
    let early = request(
        gw,
        "POST",
        &format!("/v1/referrals/{rid}/conclude"),
        forestry,
        Some(r#"{"outcome": {"kind": "education"}}"#),
    )
    .await
    .unwrap();
    assert_eq!(early.status, 409, "{}", early.body);
    let signed = request(
        gw,
        "POST",
        &format!("/v1/referrals/{rid}/sign-for"),
        forestry,
        Some("{}"),
    )
    .await
    .unwrap();
    assert_eq!(signed.status, 200, "{}", signed.body);
    assert_eq!(signed.json()["referral"]["status"], "signed_for");

    // Invalid input: 400 naming the field, from the service's own field violations.
    let bad = request(
        gw,
        "POST",
        "/v1/cases",
        officer,
        Some(&report(json!(["XX-999"]))),
    )
    .await
    .unwrap();
    assert_eq!(bad.status, 400, "{}", bad.body);
    let v = bad.json();
    assert_eq!(v["code"], "invalid_argument");
    assert_eq!(v["field_violations"][0]["field"], "matters");
    // Input the answer would echo by the kilobyte (fifty long, odd department codes, found by
    // schemathesis) is still a 400 naming the field, not a 500 from oversized gRPC headers.
    let odd = "ä\u{5e513}\u{12}".repeat(100);
    let huge = json!({"leadDepartment": "forestry", "cooperatingDepartments": vec![odd; 50]});
    let echoed = request(
        gw,
        "POST",
        &format!("/v1/agenda/{T1}-01900000-0000-7000-8000-000000000000/approve"),
        &[("authorization", &As::board_chair(T1).bearer())],
        Some(&huge.to_string()),
    )
    .await
    .unwrap();
    assert_eq!(echoed.status, 400, "{}", echoed.body);
    assert_eq!(
        echoed.json()["field_violations"][0]["field"],
        "cooperating_departments"
    );
    // Malformed JSON never reaches the service.
    let malformed = request(gw, "POST", "/v1/cases", officer, Some("{\"town\": "))
        .await
        .unwrap();
    assert_eq!(malformed.status, 400, "{}", malformed.body);
    // No caller, another town's caller, a case that does not exist.
    let anonymous = request(gw, "GET", &format!("/v1/cases/{case_id}"), &[], None)
        .await
        .unwrap();
    assert_eq!(anonymous.status, 401, "{}", anonymous.body);
    let other_town = As::brigade_officer(T2).bearer();
    let foreign = request(
        gw,
        "GET",
        &format!("/v1/cases/{case_id}"),
        &[("authorization", &other_town)],
        None,
    )
    .await
    .unwrap();
    assert_eq!(foreign.status, 403, "{}", foreign.body);
    let missing = request(
        gw,
        "GET",
        &format!("/v1/cases/{T1}-01900000-0000-7000-8000-000000000000"),
        officer,
        None,
    )
    .await
    .unwrap();
    assert_eq!(missing.status, 404, "{}", missing.body);

    // Nothing from the refused requests was stored.
    let listed = request(gw, "GET", &format!("/v1/towns/{T1}/cases"), officer, None)
        .await
        .unwrap();
    assert_eq!(listed.json()["cases"].as_array().unwrap().len(), 1);

    let openapi = request(gw, "GET", "/openapi.json", &[], None)
        .await
        .unwrap();
    assert_eq!(openapi.status, 200);
    let doc = openapi.json();
    assert!(doc["paths"]["/v1/cases"]["post"].is_object());
    assert!(doc["paths"]["/v1/departments/{department}/inbox"]["get"].is_object());
    assert!(doc["paths"]["/v1/towns/{town}/agenda"]["get"].is_object());
    hub.stop().await;
}

#[tokio::test]
async fn the_demo_runs_through_every_path_and_its_cases_appear_through_the_gateway() {
    let hub = TestHub::start(Backend::Sqlite).await;
    let out = Command::new(liandong_bin())
        .arg("--config")
        .arg(hub.config_file())
        .arg("demo")
        .env("RUST_LOG", "warn")
        .output()
        .expect("the demo runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "demo failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    println!("{stdout}");
    let gw = hub.env.cfg.gateway_addr;
    let cases = |town: &'static str| async move {
        let who = As::viewer(Some(town), None).bearer();
        let r = request(
            gw,
            "GET",
            &format!("/v1/towns/{town}/cases?page_size=100"),
            &[("authorization", &who)],
            None,
        )
        .await
        .unwrap();
        assert_eq!(r.status, 200, "{}", r.body);
        r.json()["cases"].as_array().unwrap().clone()
    };
    let a = cases(T1).await;
    let b = cases(T2).await;
    let status = |list: &[Value], s: &str| list.iter().filter(|c| c["status"] == s).count();
    assert_eq!(a.len(), 5, "{a:?}");
    assert_eq!(b.len(), 3, "{b:?}");
    // Every path ran: concluded in scope, closed by a department's result or joint execution,
    // and one joint case still waits for its town's joint meeting.
    assert_eq!(status(&a, "concluded") + status(&b, "concluded"), 2);
    assert_eq!(status(&a, "closed"), 4);
    assert_eq!(status(&b, "closed"), 1);
    assert_eq!(status(&b, "awaiting_board"), 1);
    hub.stop().await;
}
