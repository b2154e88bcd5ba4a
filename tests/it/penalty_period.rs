//! Time limits counted as the law counts them: a penalty case's decision period runs from
//! filing under its competent department's rule, with excluded periods and approved
//! extensions, judged on its last lawful day; and a calendar year loaded at run time moves
//! every provisional deadline in every service that has them. Time is driven through the
//! services' offset clock file, never by sleeping.

use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::{DateTime, Utc};
use liandong_config::clock::OffsetFileClock;
use liandong_proto::board::v1 as board;
use liandong_proto::brigade::v1 as brigade;
use liandong_proto::county::v1 as county;
use liandong_proto::disclosure::v1 as disclosure;
use liandong_proto::events::v1 as ev;
use liandong_proto::review::v1 as review;
use liandong_proto::time::{from_ts, to_ts};
use liandong_store::{Db, with_db};
use liandong_tests::http::request;
use liandong_tests::hub::{As, TestHub};
use liandong_tests::people::{Report, fine};
use liandong_tests::{Backend, TestEnv, eventually};
use serde_json::json;
use tonic::Code;
use tonic_types::StatusExt;

const T1: &str = "330782101";
const WAIT: Duration = Duration::from_secs(30);

fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s)
        .expect("an RFC 3339 instant")
        .with_timezone(&Utc)
}

fn set_time(file: &Path, now: &str) {
    OffsetFileClock::set_file(file, at(now)).expect("clock file");
}

/// A hub whose services read their time from one offset file set to `now`, look at their
/// clocks every 100 ms, and use `catalogue` (the shipped one when `None`).
async fn hub_at(backend: Backend, now: &str, catalogue: Option<String>) -> (TestHub, PathBuf) {
    let mut env = TestEnv::new(backend);
    std::fs::create_dir_all(&env.cfg.data_dir).expect("data dir");
    let file = env.cfg.data_dir.join("clock-offset-ms");
    set_time(&file, now);
    env.cfg.clock_offset_file = Some(file.clone());
    env.cfg.clock_check_ms = 100;
    if let Some(text) = catalogue {
        let path = env.cfg.data_dir.join("catalogue-test.toml");
        std::fs::write(&path, text).expect("the test catalogue");
        env.cfg.catalogue = Some(path);
    }
    (TestHub::start_with(env).await, file)
}

/// The shipped catalogue with food licensing (SC-001, the market regulation bureau's) delegated
/// to the towns: a county that delegated it, so that the brigade files such a case as its own
/// and the market regulation rule of the time limits applies.
fn catalogue_with_market_delegated() -> String {
    let shipped = include_str!("../../deploy/data/catalogue.toml");
    let at = shipped
        .find("code = \"SC-001\"")
        .expect("the shipped catalogue has SC-001");
    let (head, tail) = shipped.split_at(at);
    let delegated = tail.replacen("town_power = \"none\"", "town_power = \"delegated\"", 1);
    assert_ne!(
        delegated, tail,
        "SC-001 is not the town's in the shipped catalogue"
    );
    format!("{head}{delegated}")
}

async fn report(hub: &TestHub, now: &str, matters: &[&str], what: &str) -> brigade::Case {
    hub.brigade_officer(T1)
        .report(
            Report::new(T1, matters, what)
                .in_village("东山村", "东山村集镇")
                .found_at(to_ts(at(now) - chrono::Duration::hours(1))),
        )
        .await
        .expect("the report is taken")
}

async fn period(hub: &TestHub, case_id: &str) -> brigade::PenaltyPeriod {
    hub.brigade_officer(T1)
        .case(case_id)
        .await
        .expect("the case")
        .case
        .expect("a case")
        .penalty_period
        .expect("a case filed as the brigade's own has a decision period")
}

fn violated_fields(s: &tonic::Status) -> Vec<String> {
    s.get_details_bad_request()
        .map(|b| b.field_violations.into_iter().map(|v| v.field).collect())
        .unwrap_or_default()
}

/// A food-licence case filed on Monday 2 March 2026 under the market regulation rule,
/// suspended for an appraisal from 10 to 19 March (10 days not counted) and extended by the
/// 30 days the bureau's head may approve: 90 + 10 + 30 days from 2 March end on Friday 10 July
/// 2026. Decided at 16:00 that day, case A is on time; decided at 09:00 on 11 July, case B is
/// late. Half of it goes through the gateway, half through gRPC.
async fn a_suspended_and_extended_case_is_judged_on_its_last_lawful_day(backend: Backend) {
    let filed = "2026-03-02T09:00:00+08:00";
    let (hub, clock) = hub_at(backend, filed, Some(catalogue_with_market_delegated())).await;
    let gw = hub.env.cfg.gateway_addr;
    let officer = As::brigade_officer(T1).bearer();
    let captain = As::brigade_captain(T1).bearer();
    let officer: &[(&str, &str)] = &[("authorization", &officer)];
    let captain: &[(&str, &str)] = &[("authorization", &captain)];

    let a = report(&hub, filed, &["SC-001"], "无证经营熟食店").await;
    let b = report(&hub, filed, &["SC-001"], "无证经营小作坊").await;
    assert_eq!(
        a.triage.as_ref().unwrap().path,
        ev::Path::InScope as i32,
        "delegated to the town: the brigade's own"
    );
    for case in [&a, &b] {
        hub.captain(T1)
            .assign(&case.case_id, &["wang.wu", "li.si"])
            .await
            .expect("assigned");
    }
    // Counted from filing (the report triaged in scope), under the market regulation rule.
    let p = period(&hub, &a.case_id).await;
    // The offset clock runs on from the moment set: filed within the minute.
    let filed_at = from_ts(p.filed_at.as_ref()).expect("filed");
    assert!(
        at(filed) <= filed_at && filed_at < at(filed) + chrono::Duration::minutes(1),
        "{filed_at}"
    );
    assert_eq!(p.rule_department, "market_regulation");
    assert_eq!((p.days, p.max_extension_days), (90, 30));
    assert!(
        p.citation.contains("市场监督管理行政处罚程序规定"),
        "{}",
        p.citation
    );
    // Day 90 is Sunday 31 May: the last day moves to Monday 1 June.
    assert_eq!(p.last_day, "2026-06-01");
    assert_eq!(p.judgement, "running");

    // The appraisal ended on 19 March; it is recorded on the 20th.
    set_time(&clock, "2026-03-20T10:00:00+08:00");
    let appraisal = json!({
        "kind": "appraisal", "start": "2026-03-10", "end": "2026-03-19",
        "reason": "送检样品鉴定"
    });
    let moved = request(
        gw,
        "POST",
        &format!("/v1/cases/{}/excluded-periods", a.case_id),
        officer,
        Some(&appraisal.to_string()),
    )
    .await
    .unwrap();
    assert_eq!(moved.status, 200, "{}", moved.body);
    let moved = moved.json();
    assert_eq!(moved["period"]["lastDay"], "2026-06-10");
    assert_eq!(moved["period"]["excludedPeriods"][0]["days"], 10);
    let mut grpc = hub.brigade.clone();
    let p = grpc
        .record_excluded_period(
            As::brigade_officer(T1).req(brigade::RecordExcludedPeriodRequest {
                case_id: b.case_id.clone(),
                kind: "appraisal".into(),
                start: "2026-03-10".into(),
                end: "2026-03-19".into(),
                reason: "送检样品鉴定".into(),
            }),
        )
        .await
        .expect("the appraisal is not counted")
        .into_inner()
        .period
        .unwrap();
    assert_eq!(p.last_day, "2026-06-10");
    // The same days twice, or a period not yet ended: refused, naming the field.
    let again = grpc
        .record_excluded_period(
            As::brigade_officer(T1).req(brigade::RecordExcludedPeriodRequest {
                case_id: b.case_id.clone(),
                kind: "hearing".into(),
                start: "2026-03-19".into(),
                end: "2026-03-20".into(),
                reason: "听证".into(),
            }),
        )
        .await
        .unwrap_err();
    assert_eq!(again.code(), Code::InvalidArgument);
    assert_eq!(violated_fields(&again), ["start"]);

    // The extension: 31 days is beyond the rule, an officer may not record one, the captain
    // records the 30 days the bureau's head approved.
    let extension = |days: u32| brigade::RecordPeriodExtensionRequest {
        case_id: a.case_id.clone(),
        days,
        approver: "县市场监督管理局局长".into(),
        reason: "案情复杂，需补充调查".into(),
    };
    let too_long = grpc
        .record_period_extension(As::brigade_captain(T1).req(extension(31)))
        .await
        .unwrap_err();
    assert_eq!(too_long.code(), Code::InvalidArgument);
    assert_eq!(violated_fields(&too_long), ["days"]);
    assert!(
        too_long.message().contains("at most 30"),
        "{}",
        too_long.message()
    );
    let by_officer = grpc
        .record_period_extension(As::brigade_officer(T1).req(extension(30)))
        .await
        .unwrap_err();
    assert_eq!(by_officer.code(), Code::PermissionDenied);
    let p = grpc
        .record_period_extension(As::brigade_captain(T1).req(extension(30)))
        .await
        .expect("the head's 30 days")
        .into_inner()
        .period
        .unwrap();
    assert_eq!(p.last_day, "2026-07-10");
    assert_eq!(
        from_ts(p.due.as_ref()),
        Some(at("2026-07-11T00:00:00+08:00"))
    );
    let ext_b = request(
        gw,
        "POST",
        &format!("/v1/cases/{}/period-extensions", b.case_id),
        captain,
        Some(
            &json!({"days": 30, "approver": "县市场监督管理局局长", "reason": "案情复杂，需补充调查"})
                .to_string(),
        ),
    )
    .await
    .unwrap();
    assert_eq!(ext_b.status, 200, "{}", ext_b.body);
    assert_eq!(ext_b.json()["period"]["lastDay"], "2026-07-10");
    // Nothing more may be approved: the 30 days are used.
    let more = request(
        gw,
        "POST",
        &format!("/v1/cases/{}/period-extensions", b.case_id),
        captain,
        Some(&json!({"days": 1, "approver": "局长", "reason": "再延"}).to_string()),
    )
    .await
    .unwrap();
    assert_eq!(more.status, 400, "{}", more.body);
    assert_eq!(more.json()["field_violations"][0]["field"], "days");

    // Case A decided on its last lawful day, case B the day after.
    set_time(&clock, "2026-07-10T16:00:00+08:00");
    hub.brigade_officer(T1)
        .conclude(&a.case_id, fine(100_000, "无证经营，罚款一千元"))
        .await
        .expect("A decided");
    set_time(&clock, "2026-07-11T09:00:00+08:00");
    hub.brigade_officer(T1)
        .conclude(&b.case_id, fine(100_000, "无证经营，罚款一千元"))
        .await
        .expect("B decided");
    let p = period(&hub, &a.case_id).await;
    assert_eq!(p.judgement, "on_time");
    assert_eq!(p.last_day, "2026-07-10");
    assert_eq!(
        from_ts(p.decided_at.as_ref()).map(|t| t.date_naive().to_string()),
        Some("2026-07-10".into())
    );
    let read = request(
        gw,
        "GET",
        &format!("/v1/cases/{}", b.case_id),
        officer,
        None,
    )
    .await
    .unwrap();
    assert_eq!(read.status, 200, "{}", read.body);
    let read = read.json();
    assert_eq!(read["case"]["penaltyPeriod"]["judgement"], "late");
    assert_eq!(read["case"]["penaltyPeriod"]["lastDay"], "2026-07-10");
    assert_eq!(read["case"]["penaltyPeriod"]["extensions"][0]["days"], 30);
    // Both steps are in the full-process record.
    let kinds: Vec<&str> = read["history"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|h| h["kind"].as_str())
        .collect();
    assert!(kinds.contains(&"excluded_period"), "{kinds:?}");
    assert!(kinds.contains(&"period_extension"), "{kinds:?}");
    hub.stop().await;
}

/// Reads one value from a service's own database, as it is.
async fn db_deadline(
    hub: &TestHub,
    service: &str,
    sql: &str,
    key: &str,
) -> (Option<DateTime<Utc>>, bool) {
    let cfg = &hub.env.cfg;
    let db = Db::open(cfg.database_url.as_deref(), &cfg.data_dir, service, 2)
        .await
        .unwrap_or_else(|e| panic!("the {service}'s database: {e:#}"));
    let row: Option<(Option<DateTime<Utc>>, bool)> = with_db!(&db, |p| sqlx::query_as(sql)
        .bind(key)
        .fetch_optional(p)
        .await)
    .expect("the clock row");
    db.close().await;
    row.unwrap_or((None, false))
}

async fn penalty_clock(hub: &TestHub, case_id: &str) -> (Option<DateTime<Utc>>, bool) {
    db_deadline(
        hub,
        "brigade",
        "SELECT deadline, provisional FROM penalty_clocks WHERE case_id = $1",
        case_id,
    )
    .await
}

async fn joint_clock(hub: &TestHub, case_id: &str) -> (Option<DateTime<Utc>>, bool) {
    db_deadline(
        hub,
        "board",
        "SELECT deadline, provisional FROM joint_clocks WHERE case_id = $1",
        case_id,
    )
    .await
}

async fn conclude_clock(hub: &TestHub, case_id: &str) -> county::Obligation {
    eventually("forestry's conclusion clock", WAIT, || async {
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
            .find(|o| o.case_id == case_id && o.kind == "conclude")
    })
    .await
}

async fn review_of(hub: &TestHub, case_id: &str) -> review::Review {
    hub.pending_review(
        As::judicial_reviewer(T1),
        review::ListReviewsRequest {
            town: T1.into(),
            ..Default::default()
        },
        case_id,
        None,
    )
    .await
}

async fn disclosure_of(hub: &TestHub, case_id: &str) -> disclosure::Disclosure {
    eventually("the case's disclosure", WAIT, || async {
        hub.disclosure
            .clone()
            .list_disclosures(
                As::brigade_captain(T1).req(disclosure::ListDisclosuresRequest {
                    town: T1.into(),
                    ..Default::default()
                }),
            )
            .await
            .ok()?
            .into_inner()
            .disclosures
            .into_iter()
            .find(|d| d.case_id == case_id)
    })
    .await
}

/// Deadlines in 2027 while only 2025 and 2026 are loaded are provisional (weekends alone). The
/// 2027 fixture (元旦 1–3 January, 春节 6–14 February) is put in the hub's calendar folder at run
/// time and every service restarted: each recomputes its provisional deadlines.
///
/// - brigade: a case filed on Tuesday 10 November 2026 has 90 days to Monday 8 February 2027;
///   in the 春节 of the fixture, it moves to Monday 15 February.
/// - county, board, review, disclosure: from Monday 28 December 2026, 15, 10, 7 and 7 working
///   days end on 18 January, 11 January, 6 January and 6 January 2027 by weekends alone; with
///   1 January a holiday, each a working day later.
async fn a_2027_calendar_loaded_at_run_time_moves_every_provisional_deadline(backend: Backend) {
    let (mut hub, clock) = hub_at(backend, "2026-11-10T09:00:00+08:00", None).await;
    let penalty = report(&hub, "2026-11-10T09:00:00+08:00", &["CXGH-001"], "未批先建").await;
    let t0 = "2026-12-28T09:00:00+08:00";
    set_time(&clock, t0);
    let referred = report(&hub, t0, &["LY-001"], "后山滥伐林木约20株").await;
    let joint = report(&hub, t0, &["TD-001"], "非法占用基本农田建房").await;
    let reviewed = report(&hub, t0, &["CSGL-001"], "占道经营，情节严重").await;
    let disclosed = report(&hub, t0, &["CSGL-001"], "占道经营").await;
    for case in [&reviewed, &disclosed] {
        hub.captain(T1)
            .assign(&case.case_id, &["wang.wu", "li.si"])
            .await
            .expect("assigned");
    }
    hub.brigade_officer(T1)
        .conclude(
            &reviewed.case_id,
            fine(1_500_000, "占道经营，罚款一万五千元"),
        )
        .await
        .expect("a major decision waits for the legal review");
    hub.brigade_officer(T1)
        .conclude(&disclosed.case_id, fine(50_000, "占道经营，罚款五百元"))
        .await
        .expect("decided");

    let due = |s: &str| Some(at(s));
    // Before: each provisional, by weekends alone.
    let before = eventually("the brigade's clock scheduled", WAIT, || async {
        let c = penalty_clock(&hub, &penalty.case_id).await;
        c.0.is_some().then_some(c)
    })
    .await;
    assert_eq!(before, (due("2027-02-09T00:00:00+08:00"), true));
    let p = period(&hub, &penalty.case_id).await;
    assert_eq!((p.last_day.as_str(), p.provisional), ("2027-02-08", true));
    let o = conclude_clock(&hub, &referred.case_id).await;
    assert_eq!(
        from_ts(o.deadline.as_ref()),
        due("2027-01-19T00:00:00+08:00")
    );
    assert!(o.provisional);
    let before = eventually("the board's clock scheduled", WAIT, || async {
        let c = joint_clock(&hub, &joint.case_id).await;
        c.0.is_some().then_some(c)
    })
    .await;
    assert_eq!(before, (due("2027-01-12T00:00:00+08:00"), true));
    let r = review_of(&hub, &reviewed.case_id).await;
    assert_eq!(from_ts(r.due_at.as_ref()), due("2027-01-07T00:00:00+08:00"));
    let d = disclosure_of(&hub, &disclosed.case_id).await;
    assert_eq!(from_ts(d.due_at.as_ref()), due("2027-01-07T00:00:00+08:00"));
    assert!(d.due_provisional);

    // The year is loaded at run time: into the calendar folder, and each service restarted.
    let folder = hub.env.cfg.data_dir.join("calendar");
    std::fs::create_dir_all(&folder).expect("the calendar folder");
    std::fs::write(
        folder.join("2027.toml"),
        include_str!("../fixtures/calendar/2027.toml"),
    )
    .expect("the 2027 fixture");
    for service in ["brigade", "county", "board", "review", "disclosure"] {
        hub.restart(service).await;
    }

    assert_eq!(
        penalty_clock(&hub, &penalty.case_id).await,
        (due("2027-02-16T00:00:00+08:00"), false)
    );
    let p = period(&hub, &penalty.case_id).await;
    assert_eq!((p.last_day.as_str(), p.provisional), ("2027-02-15", false));
    let o = conclude_clock(&hub, &referred.case_id).await;
    assert_eq!(
        from_ts(o.deadline.as_ref()),
        due("2027-01-20T00:00:00+08:00")
    );
    assert!(!o.provisional);
    assert_eq!(
        joint_clock(&hub, &joint.case_id).await,
        (due("2027-01-13T00:00:00+08:00"), false)
    );
    let r = review_of(&hub, &reviewed.case_id).await;
    assert_eq!(from_ts(r.due_at.as_ref()), due("2027-01-08T00:00:00+08:00"));
    assert_eq!(r.due_last_day, "2027-01-07");
    let d = disclosure_of(&hub, &disclosed.case_id).await;
    assert_eq!(from_ts(d.due_at.as_ref()), due("2027-01-08T00:00:00+08:00"));
    assert!(!d.due_provisional);
    // The joint meeting's list is untouched: nothing ran out.
    let list = hub
        .board
        .clone()
        .list_supervision(As::board_chair(T1).req(board::ListSupervisionRequest {
            town: T1.into(),
            include_resolved: true,
        }))
        .await
        .expect("the supervision list")
        .into_inner();
    assert!(list.entries.is_empty(), "{:?}", list.entries);
    hub.stop().await;
}

liandong_tests::on_each_backend!(
    a_suspended_and_extended_case_is_judged_on_its_last_lawful_day,
    a_2027_calendar_loaded_at_run_time_moves_every_provisional_deadline,
);
