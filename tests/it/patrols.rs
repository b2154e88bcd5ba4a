//! Patrols and traffic-persuasion turnouts through the gateway: recorded by the brigade, refused
//! naming the field when wrong, listed, and counted by the board for the year's figures.

use std::time::Duration;

use liandong_tests::http::request;
use liandong_tests::hub::{As, TestHub};
use liandong_tests::{Backend, eventually};
use serde_json::{Value, json};

const T1: &str = "330782101";
const WAIT: Duration = Duration::from_secs(30);

async fn patrols_and_persuasion_are_recorded_listed_and_counted(backend: Backend) {
    let hub = TestHub::start(backend).await;
    let gw = hub.env.cfg.gateway_addr;
    let officer = As::brigade_officer(T1).bearer();
    let officer: &[(&str, &str)] = &[("authorization", &officer)];
    let chair = As::board_chair(T1).bearer();
    let chair: &[(&str, &str)] = &[("authorization", &chair)];
    let post = |path: String, body: Value| async move {
        request(gw, "POST", &path, officer, Some(&body.to_string()))
            .await
            .unwrap()
    };

    let patrol = post(
        format!("/v1/towns/{T1}/patrols"),
        json!({
            "officers": ["wang.wu", "li.si"],
            "startedAt": "2026-05-28T00:30:00Z",
            "endedAt": "2026-05-28T03:00:00Z",
            "area": "东山村、西岭村沿河道路",
            "findings": "河道边发现地笼3个，已现场清理"
        }),
    )
    .await;
    assert_eq!(patrol.status, 200, "{}", patrol.body);
    let p = &patrol.json()["patrol"];
    assert_eq!(p["town"], T1);
    assert_eq!(p["officers"], json!(["wang.wu", "li.si"]));
    for (kind, persons) in [("no_helmet", 12), ("overloading", 3)] {
        let turnout = post(
            format!("/v1/towns/{T1}/persuasions"),
            json!({
                "officers": ["wang.wu"],
                "at": "2026-05-28T07:00:00Z",
                "location": "东山村口",
                "kind": kind,
                "persons": persons
            }),
        )
        .await;
        assert_eq!(turnout.status, 200, "{}", turnout.body);
    }

    // Wrong input is refused naming each field, and nothing is recorded.
    let bad = post(
        format!("/v1/towns/{T1}/patrols"),
        json!({
            "officers": [],
            "startedAt": "2026-05-28T05:00:00Z",
            "endedAt": "2026-05-28T03:00:00Z",
            "area": ""
        }),
    )
    .await;
    assert_eq!(bad.status, 400, "{}", bad.body);
    let fields: Vec<String> = bad.json()["field_violations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["field"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(fields, vec!["officers", "ended_at", "area"]);
    let bad = post(
        format!("/v1/towns/{T1}/persuasions"),
        json!({
            "officers": ["wang.wu"],
            "at": "2026-05-28T07:00:00Z",
            "location": "东山村口",
            "kind": "speeding_fine",
            "persons": 0
        }),
    )
    .await;
    assert_eq!(bad.status, 400, "{}", bad.body);
    let fields: Vec<String> = bad.json()["field_violations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["field"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(fields, vec!["persons", "kind"]);
    // Only the town's enforcement officers record them.
    let dispatcher = As::dispatcher("forestry").bearer();
    let refused = request(
        gw,
        "POST",
        &format!("/v1/towns/{T1}/patrols"),
        &[("authorization", &dispatcher)],
        Some(
            &json!({
                "officers": ["wang.wu"],
                "startedAt": "2026-05-28T00:30:00Z",
                "endedAt": "2026-05-28T03:00:00Z",
                "area": "东山村"
            })
            .to_string(),
        ),
    )
    .await
    .unwrap();
    assert_eq!(refused.status, 403, "{}", refused.body);

    let listed = request(
        gw,
        "GET",
        &format!("/v1/towns/{T1}/activities"),
        officer,
        None,
    )
    .await
    .unwrap();
    assert_eq!(listed.status, 200, "{}", listed.body);
    let listed = listed.json();
    assert_eq!(listed["patrols"].as_array().unwrap().len(), 1);
    assert_eq!(listed["persuasions"].as_array().unwrap().len(), 2);

    // The board counts them from the events, for the year in Beijing.
    let figures = eventually("the board to count them", WAIT, || async {
        let r = request(
            gw,
            "GET",
            &format!("/v1/towns/{T1}/activity-figures?year=2026"),
            chair,
            None,
        )
        .await
        .ok()?;
        let v = r.json();
        (r.status == 200 && v["persuasions"] == 2 && v["patrols"] == 1).then_some(v)
    })
    .await;
    assert_eq!(figures["personsPersuaded"], 15);
    hub.stop().await;
}

liandong_tests::on_each_backend!(patrols_and_persuasion_are_recorded_listed_and_counted);
