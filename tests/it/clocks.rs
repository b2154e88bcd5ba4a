//! Durable clocks on referrals (办理时限): escalation once per threshold, across restarts and
//! replicas; stopped by the step that meets them; not reset by a return; holidays skipped; an
//! extension moves the deadline. Time is driven through the services' offset clock file
//! (`clock_offset_file`), never by sleeping.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use chrono::{DateTime, Utc};
use liandong_config::clock::OffsetFileClock;
use liandong_proto::board::v1 as board;
use liandong_proto::brigade::v1 as brigade;
use liandong_proto::county::v1 as county;
use liandong_proto::events::v1 as ev;
use liandong_proto::time::{from_ts, to_ts};
use liandong_store::Db;
use liandong_store::with_db;
use liandong_tests::hub::{As, Mode, TestHub, liandong_bin, wait_ready};
use liandong_tests::people::Report;
use liandong_tests::{Backend, TestEnv, eventually, free_port};
use prost::Message;
use tonic::Code;
use tonic_types::StatusExt;

const T1: &str = "330782101";
const WAIT: Duration = Duration::from_secs(30);

fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s)
        .expect("an RFC 3339 instant")
        .with_timezone(&Utc)
}

/// A hub whose every service reads its time from one offset file, set to `now` at start, and
/// looks at its clocks every 100 ms.
async fn hub_at(backend: Backend, now: &str) -> (TestHub, PathBuf) {
    hub_at_as(backend, now, Mode::InProcess).await
}

/// [`hub_at`], with the services run as `mode` says.
async fn hub_at_as(backend: Backend, now: &str, mode: Mode) -> (TestHub, PathBuf) {
    let mut env = TestEnv::new(backend);
    std::fs::create_dir_all(&env.cfg.data_dir).expect("data dir");
    let file = env.cfg.data_dir.join("clock-offset-ms");
    OffsetFileClock::set_file(&file, at(now)).expect("clock file");
    env.cfg.clock_offset_file = Some(file.clone());
    env.cfg.clock_check_ms = 100;
    let hub = match mode {
        Mode::InProcess => TestHub::start_with(env).await,
        Mode::Processes => TestHub::start_processes(env).await,
    };
    (hub, file)
}

/// Moves every process's clock to `now`.
fn set_time(file: &Path, now: &str) {
    OffsetFileClock::set_file(file, at(now)).expect("clock file");
}

/// Reports an out-of-scope case (illegal logging: the forestry bureau's), found an hour before
/// `now`; the brigade refers it at once.
async fn refer_to_forestry(hub: &TestHub, now: &str, what: &str) -> String {
    report(hub, now, &["LY-001"], what).await
}

async fn report(hub: &TestHub, now: &str, matters: &[&str], what: &str) -> String {
    let found = at(now) - chrono::Duration::hours(1);
    hub.brigade_officer(T1)
        .report(
            Report::new(T1, matters, what)
                .in_village("东山村", "东山村后山")
                .found_at(to_ts(found)),
        )
        .await
        .expect("the report is taken")
        .case_id
}

async fn obligations(hub: &TestHub, department: &'static str) -> Vec<county::Obligation> {
    hub.county
        .clone()
        .list_obligations(
            As::dispatcher(department).req(county::ListObligationsRequest {
                department: department.into(),
                open_only: false,
                overdue_only: false,
                page_size: 0,
            }),
        )
        .await
        .expect("the department's clocks")
        .into_inner()
        .obligations
}

async fn obligation(
    hub: &TestHub,
    department: &'static str,
    case_id: &str,
    kind: &str,
) -> county::Obligation {
    obligations(hub, department)
        .await
        .into_iter()
        .find(|o| o.case_id == case_id && o.kind == kind)
        .unwrap_or_else(|| panic!("no {kind} clock for case {case_id}"))
}

async fn supervision(hub: &TestHub) -> board::ListSupervisionResponse {
    hub.board
        .clone()
        .list_supervision(As::board_chair(T1).req(board::ListSupervisionRequest {
            town: T1.into(),
            include_resolved: true,
        }))
        .await
        .expect("the supervision list")
        .into_inner()
}

/// Waits until the chair's list shows the case's `kind` clock at `level`.
async fn on_the_list(
    hub: &TestHub,
    case_id: &str,
    kind: &str,
    level: u32,
) -> board::SupervisionEntry {
    eventually(
        &format!("{kind} of {case_id} at level {level} on the chair's list"),
        WAIT,
        || async {
            supervision(hub)
                .await
                .entries
                .into_iter()
                .find(|e| e.case_id == case_id && e.kind == kind && e.level == level)
        },
    )
    .await
}

/// Every `obligation_overdue` `service` ever wrote to its outbox, oldest first.
async fn overdue_payloads(hub: &TestHub, service: &'static str) -> Vec<ev::ObligationOverdue> {
    // The service's own database, as it is: the running service has migrated it.
    let cfg = &hub.env.cfg;
    let db = Db::open(cfg.database_url.as_deref(), &cfg.data_dir, service, 2)
        .await
        .unwrap_or_else(|e| panic!("the {service}'s database: {e:#}"));
    let rows: Vec<Vec<u8>> = with_db!(&db, |p| {
        sqlx::query_scalar(
        "SELECT payload FROM outbox WHERE event_type LIKE '%obligation_overdue' ORDER BY created_at"
    )
    .fetch_all(p)
    .await
    })
    .expect("the outbox");
    db.close().await;
    rows.iter()
        .map(|b| {
            let env = ev::Envelope::decode(b.as_slice()).expect("an envelope");
            ev::ObligationOverdue::decode(env.payload.as_slice()).expect("a payload")
        })
        .collect()
}

/// Every `obligation_overdue` the county ever wrote to its outbox: (obligation, level).
async fn overdue_events(hub: &TestHub) -> Vec<(String, u32)> {
    overdue_payloads(hub, "county")
        .await
        .into_iter()
        .map(|e| (e.obligation_id, e.level))
        .collect()
}

fn count(events: &[(String, u32)], obligation_id: &str, level: u32) -> usize {
    events
        .iter()
        .filter(|(o, l)| o == obligation_id && *l == level)
        .count()
}

// Monday 2 March 2026, an ordinary week: a referral dispatched at 09:00 must be signed for by
// 24:00 on Tuesday 3rd (1 working day); the second threshold is 5 working days later, 24:00 on
// Tuesday 10th.
const DISPATCH: &str = "2026-03-02T09:00:00+08:00";
const SIGN_FOR_DUE: &str = "2026-03-04T00:00:00+08:00";
const PAST_FIRST: &str = "2026-03-04T00:30:00+08:00";
const PAST_SECOND: &str = "2026-03-11T00:30:00+08:00";

async fn a_referral_not_signed_for_is_escalated_once_per_threshold(backend: Backend) {
    let (hub, clock) = hub_at(backend, DISPATCH).await;
    let case_id = refer_to_forestry(&hub, DISPATCH, "后山滥伐林木约20株").await;
    let referral = hub
        .dispatcher("forestry")
        .referral_in("dispatched", &case_id)
        .await;
    let sign_for = obligation(&hub, "forestry", &case_id, "sign_for").await;
    // The clock runs from the dispatch, to 24:00 of the next working day.
    assert_eq!(
        from_ts(sign_for.started_at.as_ref()),
        from_ts(referral.dispatched_at.as_ref())
    );
    assert_eq!(from_ts(sign_for.deadline.as_ref()), Some(at(SIGN_FOR_DUE)));
    assert_eq!(sign_for.level, 0);

    set_time(&clock, PAST_FIRST);
    let entry = on_the_list(&hub, &case_id, "sign_for", 1).await;
    assert_eq!(entry.department, "forestry");
    assert_eq!(entry.reason, "overdue");
    // The department sees the reminder on its own clocks.
    let reminded = obligation(&hub, "forestry", &case_id, "sign_for").await;
    assert_eq!(reminded.level, 1);

    set_time(&clock, PAST_SECOND);
    on_the_list(&hub, &case_id, "sign_for", 2).await;
    // Accepting or returning was due by 24:00 on the 4th: it ran out too, once.
    on_the_list(&hub, &case_id, "accept_or_return", 1).await;
    let events = overdue_events(&hub).await;
    assert_eq!(count(&events, &sign_for.obligation_id, 1), 1, "{events:?}");
    assert_eq!(count(&events, &sign_for.obligation_id, 2), 1, "{events:?}");
    let accept = obligation(&hub, "forestry", &case_id, "accept_or_return").await;
    assert_eq!(count(&events, &accept.obligation_id, 1), 1, "{events:?}");
    assert_eq!(count(&events, &accept.obligation_id, 2), 0, "{events:?}");

    // Signed for at last: the clock stops and the chair's entry is resolved.
    hub.county
        .clone()
        .sign_for_referral(
            As::dispatcher("forestry").req(county::SignForReferralRequest {
                referral_id: referral.referral_id.clone(),
            }),
        )
        .await
        .expect("signed for late");
    let stopped = obligation(&hub, "forestry", &case_id, "sign_for").await;
    assert_eq!(stopped.closed_by, "signed_for");
    assert!(stopped.met_at.is_some());
    eventually("the entry to be resolved", WAIT, || async {
        supervision(&hub)
            .await
            .entries
            .into_iter()
            .find(|e| e.obligation_id == sign_for.obligation_id && e.resolved_at.is_some())
    })
    .await;
    hub.stop().await;
}

async fn a_referral_signed_for_in_time_raises_nothing(backend: Backend) {
    let (hub, clock) = hub_at(backend, DISPATCH).await;
    let handled = refer_to_forestry(&hub, DISPATCH, "后山滥伐林木约20株").await;
    let ignored = refer_to_forestry(&hub, DISPATCH, "河边滥伐杨树5株").await;
    let referral = hub
        .dispatcher("forestry")
        .referral_in("dispatched", &handled)
        .await;
    hub.dispatcher("forestry")
        .referral_in("dispatched", &ignored)
        .await;
    let dispatcher = As::dispatcher("forestry");
    let mut c = hub.county.clone();
    c.sign_for_referral(dispatcher.req(county::SignForReferralRequest {
        referral_id: referral.referral_id.clone(),
    }))
    .await
    .expect("signed for");
    c.accept_referral(dispatcher.req(county::AcceptReferralRequest {
        referral_id: referral.referral_id.clone(),
    }))
    .await
    .expect("accepted");

    // Past both thresholds of both: the ignored one is escalated twice, which shows the
    // watcher has looked at every clock; the handled one raised nothing.
    set_time(&clock, PAST_SECOND);
    on_the_list(&hub, &ignored, "sign_for", 2).await;
    let list = supervision(&hub).await;
    assert!(
        list.entries.iter().all(|e| e.case_id != handled),
        "{:?}",
        list.entries
    );
    let events = overdue_events(&hub).await;
    for kind in ["sign_for", "accept_or_return"] {
        let o = obligation(&hub, "forestry", &handled, kind).await;
        assert_eq!(o.level, 0, "{o:?}");
        assert!(o.met_at.is_some(), "{o:?}");
        assert_eq!(count(&events, &o.obligation_id, 1), 0, "{events:?}");
    }
    hub.stop().await;
}

async fn a_return_does_not_reset_the_case_clock_and_a_new_department_runs_from_its_own_dispatch(
    backend: Backend,
) {
    let (hub, clock) = hub_at(backend, DISPATCH).await;
    // A lorry parked on a village road for weeks: public security's, by the catalogue.
    let case_id = report(&hub, DISPATCH, &["JT-001"], "货车长期违停村道").await;
    let first = hub
        .dispatcher("public_security")
        .referral_in("dispatched", &case_id)
        .await;
    let case_clock = obligation(&hub, "public_security", &case_id, "case_conclude").await;
    assert_eq!(
        from_ts(case_clock.started_at.as_ref()),
        from_ts(first.dispatched_at.as_ref())
    );

    // The next day public security returns it; the chair sends it to transport.
    let next_day = "2026-03-03T10:00:00+08:00";
    set_time(&clock, next_day);
    hub.county
        .clone()
        .return_referral(
            As::dispatcher("public_security").req(county::ReturnReferralRequest {
                referral_id: first.referral_id.clone(),
                reason: "村道归交通运输部门管理".into(),
                not_competent: true,
            }),
        )
        .await
        .expect("returned");
    let dispute = eventually("the dispute on the agenda", WAIT, || async {
        hub.board
            .clone()
            .list_agenda(As::board_chair(T1).req(board::ListAgendaRequest {
                town: T1.into(),
                ..Default::default()
            }))
            .await
            .ok()?
            .into_inner()
            .items
            .into_iter()
            .find(|i| {
                i.facts.as_ref().is_some_and(|f| f.case_id == case_id)
                    && i.kind == "competence_dispute"
            })
    })
    .await;
    hub.board
        .clone()
        .settle_dispute(As::board_chair(T1).req(board::SettleDisputeRequest {
            item_id: dispute.item_id.clone(),
            department: "transport".into(),
            reason: "农村公路由交通运输部门管理".into(),
            meeting_id: String::new(),
        }))
        .await
        .expect("settled");
    let second = hub
        .dispatcher("transport")
        .referral_in("dispatched", &case_id)
        .await;

    // The returning department's own conclusion clock stopped with its return.
    let returned = obligation(&hub, "public_security", &case_id, "conclude").await;
    assert_eq!(returned.closed_by, "returned");
    // The case's clock still runs from the first dispatch, to the same deadline.
    let case_now = obligation(&hub, "transport", &case_id, "case_conclude").await;
    assert_eq!(case_now.obligation_id, case_clock.obligation_id);
    assert_eq!(case_now.started_at, case_clock.started_at);
    assert_eq!(case_now.deadline, case_clock.deadline);
    assert!(case_now.met_at.is_none());
    // The new department's own clocks run from its own dispatch.
    for kind in ["sign_for", "conclude"] {
        let own = obligation(&hub, "transport", &case_id, kind).await;
        assert_eq!(
            from_ts(own.started_at.as_ref()),
            from_ts(second.dispatched_at.as_ref()),
            "{kind}"
        );
    }
    let own_conclude = obligation(&hub, "transport", &case_id, "conclude").await;
    assert!(from_ts(own_conclude.deadline.as_ref()) > from_ts(case_now.deadline.as_ref()));

    // 15 working days from Monday 2 March end at 24:00 on Monday 23rd: the case's clock runs
    // out then, although transport's own has a day left.
    assert_eq!(
        from_ts(case_now.deadline.as_ref()),
        Some(at("2026-03-24T00:00:00+08:00"))
    );
    set_time(&clock, "2026-03-24T00:30:00+08:00");
    let entry = on_the_list(&hub, &case_id, "case_conclude", 1).await;
    assert_eq!(entry.obligation_id, case_clock.obligation_id);
    let own_conclude = obligation(&hub, "transport", &case_id, "conclude").await;
    assert_eq!(own_conclude.level, 0);
    hub.stop().await;
}

async fn deadlines_skip_the_national_day_holiday_week(backend: Backend) {
    // Wednesday 30 September 2026; 1–7 October are holidays, Saturday 10th is worked.
    let dispatch = "2026-09-30T10:00:00+08:00";
    let (hub, clock) = hub_at(backend, dispatch).await;
    let case_id = refer_to_forestry(&hub, dispatch, "后山滥伐林木约20株").await;
    hub.dispatcher("forestry")
        .referral_in("dispatched", &case_id)
        .await;
    let sign_for = obligation(&hub, "forestry", &case_id, "sign_for").await;
    assert_eq!(
        from_ts(sign_for.deadline.as_ref()),
        Some(at("2026-10-09T00:00:00+08:00")),
        "1 working day after 30 September is Thursday 8 October"
    );
    let accept = obligation(&hub, "forestry", &case_id, "accept_or_return").await;
    assert_eq!(
        from_ts(accept.deadline.as_ref()),
        Some(at("2026-10-10T00:00:00+08:00"))
    );
    // Five working days after the 8th: 9, 10 (a make-up Saturday), 12, 13 and 14.
    assert_eq!(
        from_ts(sign_for.second_threshold.as_ref()),
        Some(at("2026-10-15T00:00:00+08:00"))
    );
    // Late in the holiday week nothing is due yet; on the morning of the 9th it is.
    set_time(&clock, "2026-10-09T08:00:00+08:00");
    on_the_list(&hub, &case_id, "sign_for", 1).await;
    hub.stop().await;
}

async fn an_extension_moves_the_deadline(backend: Backend) {
    let (hub, _clock) = hub_at(backend, DISPATCH).await;
    let case_id = refer_to_forestry(&hub, DISPATCH, "后山滥伐林木约20株").await;
    hub.dispatcher("forestry")
        .referral_in("dispatched", &case_id)
        .await;
    let conclude = obligation(&hub, "forestry", &case_id, "conclude").await;
    assert_eq!(
        from_ts(conclude.deadline.as_ref()),
        Some(at("2026-03-24T00:00:00+08:00"))
    );
    let dispatcher = As::dispatcher("forestry");

    // Bad requests name their field and change nothing.
    let refused = hub
        .county
        .clone()
        .request_extension(dispatcher.req(county::RequestExtensionRequest {
            obligation_id: conclude.obligation_id.clone(),
            working_days: 0,
            reason: " ".into(),
        }))
        .await
        .expect_err("no days and no reason");
    assert_eq!(refused.code(), Code::InvalidArgument);
    let fields: Vec<String> = refused
        .get_details_bad_request()
        .expect("field violations")
        .field_violations
        .into_iter()
        .map(|f| f.field)
        .collect();
    assert_eq!(fields, vec!["reason", "working_days"]);
    let refused = hub
        .county
        .clone()
        .request_extension(
            As::dispatcher("transport").req(county::RequestExtensionRequest {
                obligation_id: conclude.obligation_id.clone(),
                working_days: 5,
                reason: "需要林地权属鉴定".into(),
            }),
        )
        .await
        .expect_err("another department's clock");
    assert_eq!(refused.code(), Code::PermissionDenied);

    let asked = hub
        .county
        .clone()
        .request_extension(dispatcher.req(county::RequestExtensionRequest {
            obligation_id: conclude.obligation_id.clone(),
            working_days: 5,
            reason: "需要林地权属鉴定".into(),
        }))
        .await
        .expect("asked")
        .into_inner();
    assert_eq!(
        asked.obligation.as_ref().unwrap().pending_extension,
        asked.request_id
    );
    let request = eventually("the request on the chair's list", WAIT, || async {
        supervision(&hub)
            .await
            .extension_requests
            .into_iter()
            .find(|r| r.request_id == asked.request_id)
    })
    .await;
    assert_eq!(request.status, "pending");
    assert_eq!(request.reason, "需要林地权属鉴定");
    // Only the chair answers.
    let refused = hub
        .board
        .clone()
        .decide_extension(As::board_member(T1).req(board::DecideExtensionRequest {
            request_id: request.request_id.clone(),
            grant: true,
            note: String::new(),
        }))
        .await
        .expect_err("a member cannot grant");
    assert_eq!(refused.code(), Code::PermissionDenied);
    let decided = hub
        .board
        .clone()
        .decide_extension(As::board_chair(T1).req(board::DecideExtensionRequest {
            request_id: request.request_id.clone(),
            grant: true,
            note: "同意延期".into(),
        }))
        .await
        .expect("granted")
        .into_inner()
        .request
        .unwrap();
    // Five working days after Monday 23rd: 24, 25, 26, 27 and Monday 30th.
    let moved = Some(at("2026-03-31T00:00:00+08:00"));
    assert_eq!(from_ts(decided.new_deadline.as_ref()), moved);
    let extended = eventually("the deadline to move", WAIT, || async {
        let o = obligation(&hub, "forestry", &case_id, "conclude").await;
        (o.extended_days == 5).then_some(o)
    })
    .await;
    assert_eq!(from_ts(extended.deadline.as_ref()), moved);
    assert_eq!(extended.original_deadline, conclude.deadline);
    assert!(extended.pending_extension.is_empty());
    assert!(from_ts(extended.second_threshold.as_ref()) > moved);

    // A second request is refused with a reason; the deadline stays where the grant put it.
    let again = hub
        .county
        .clone()
        .request_extension(dispatcher.req(county::RequestExtensionRequest {
            obligation_id: conclude.obligation_id.clone(),
            working_days: 10,
            reason: "鉴定仍未完成".into(),
        }))
        .await
        .expect("asked again")
        .into_inner();
    let no_note = hub
        .board
        .clone()
        .decide_extension(As::board_chair(T1).req(board::DecideExtensionRequest {
            request_id: again.request_id.clone(),
            grant: false,
            note: String::new(),
        }))
        .await
        .expect_err("a refusal says why");
    assert_eq!(no_note.code(), Code::InvalidArgument);
    eventually("the second request on the chair's list", WAIT, || async {
        supervision(&hub)
            .await
            .extension_requests
            .into_iter()
            .find(|r| r.request_id == again.request_id)
    })
    .await;
    hub.board
        .clone()
        .decide_extension(As::board_chair(T1).req(board::DecideExtensionRequest {
            request_id: again.request_id.clone(),
            grant: false,
            note: "应在期限内完成".into(),
        }))
        .await
        .expect("refused");
    let after = eventually("the refusal to reach the department", WAIT, || async {
        let o = obligation(&hub, "forestry", &case_id, "conclude").await;
        o.pending_extension.is_empty().then_some(o)
    })
    .await;
    assert_eq!(from_ts(after.deadline.as_ref()), moved);
    assert_eq!(after.extended_days, 5);
    hub.stop().await;
}

async fn a_case_the_brigade_opened_is_decided_within_ninety_days(backend: Backend) {
    let (hub, clock) = hub_at(backend, DISPATCH).await;
    // Building without a rural construction permit: the town's own power, handled in scope.
    let late = report(
        &hub,
        DISPATCH,
        &["CXGH-001"],
        "未取得乡村建设规划许可证建房",
    )
    .await;
    let decided = report(&hub, DISPATCH, &["CXGH-001"], "未按许可证规定建房").await;
    let mut b = hub.brigade.clone();
    for case_id in [&late, &decided] {
        b.assign_case(As::brigade_captain(T1).req(brigade::AssignCaseRequest {
            case_id: case_id.clone(),
            officers: vec!["wang.wu".into(), "li.si".into()],
        }))
        .await
        .expect("opened");
    }
    b.conclude_case(As::brigade_officer(T1).req(brigade::ConcludeCaseRequest {
        case_id: decided.clone(),
        outcome: Some(ev::Outcome {
            kind: "education".into(),
            summary: "初次轻微违法，教育后当事人自行整改".into(),
            ..Default::default()
        }),
        ..Default::default()
    }))
    .await
    .expect("decided in time");
    // Opened on 2 March: day 90 is Sunday 31 May, so the last day moves to Monday 1 June.
    set_time(&clock, "2026-06-02T00:30:00+08:00");
    let entry = on_the_list(&hub, &late, "penalty_decision", 1).await;
    assert_eq!(
        from_ts(entry.deadline.as_ref()),
        Some(at("2026-06-02T00:00:00+08:00"))
    );
    let list = supervision(&hub).await;
    assert!(
        list.entries.iter().all(|e| e.case_id != decided),
        "{:?}",
        list.entries
    );
    hub.stop().await;
}

liandong_tests::on_each_backend!(
    a_referral_not_signed_for_is_escalated_once_per_threshold,
    a_referral_signed_for_in_time_raises_nothing,
    a_return_does_not_reset_the_case_clock_and_a_new_department_runs_from_its_own_dispatch,
    deadlines_skip_the_national_day_holiday_week,
    an_extension_moves_the_deadline,
    a_case_the_brigade_opened_is_decided_within_ninety_days,
);

/// The county stops before the deadline and starts after it: the clock, in the database, runs
/// out all the same, once; a restart after that reports nothing twice.
#[tokio::test]
async fn a_clock_that_runs_out_while_the_service_is_down_fires_once_after_restart() {
    // The county is killed with SIGKILL: its services run as processes.
    let (mut hub, clock) = hub_at_as(Backend::Sqlite, DISPATCH, Mode::Processes).await;
    let case_id = refer_to_forestry(&hub, DISPATCH, "后山滥伐林木约20株").await;
    hub.dispatcher("forestry")
        .referral_in("dispatched", &case_id)
        .await;
    let sign_for = obligation(&hub, "forestry", &case_id, "sign_for").await;
    hub.kill9("county");
    set_time(&clock, PAST_FIRST);
    hub.respawn("county").await;
    on_the_list(&hub, &case_id, "sign_for", 1).await;
    hub.restart("county").await;
    set_time(&clock, PAST_SECOND);
    on_the_list(&hub, &case_id, "sign_for", 2).await;
    let events = overdue_events(&hub).await;
    assert_eq!(count(&events, &sign_for.obligation_id, 1), 1, "{events:?}");
    assert_eq!(count(&events, &sign_for.obligation_id, 2), 1, "{events:?}");
    hub.stop().await;
}

/// A second county process on the same PostgreSQL database: both watch the clocks, and each
/// threshold of each referral is reported once.
#[tokio::test]
async fn two_county_replicas_report_each_threshold_once() {
    let (hub, clock) = hub_at(Backend::Postgres, DISPATCH).await;
    let second_addr = format!("127.0.0.1:{}", free_port());
    let log = std::fs::File::create(hub.env.cfg.data_dir.join("county-2.log")).expect("log");
    let mut replica: Child = Command::new(liandong_bin())
        .arg("--config")
        .arg(hub.config_file())
        .arg("serve")
        .arg("county")
        .env("LIANDONG_COUNTY_ADDR", &second_addr)
        .env("RUST_LOG", "info,sqlx=warn")
        .env_remove("DATABASE_URL")
        .env_remove("NATS_URL")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .expect("a second county process");
    wait_ready(&format!("http://{second_addr}")).await;

    let mut cases = Vec::new();
    for n in 0..6 {
        cases.push(refer_to_forestry(&hub, DISPATCH, &format!("滥伐林木第{n}处")).await);
    }
    for case_id in &cases {
        hub.dispatcher("forestry")
            .referral_in("dispatched", case_id)
            .await;
    }
    set_time(&clock, PAST_FIRST);
    for case_id in &cases {
        on_the_list(&hub, case_id, "sign_for", 1).await;
    }
    set_time(&clock, PAST_SECOND);
    for case_id in &cases {
        on_the_list(&hub, case_id, "sign_for", 2).await;
        on_the_list(&hub, case_id, "accept_or_return", 1).await;
    }
    let events = overdue_events(&hub).await;
    for case_id in &cases {
        let sign_for = obligation(&hub, "forestry", case_id, "sign_for").await;
        assert_eq!(count(&events, &sign_for.obligation_id, 1), 1, "{events:?}");
        assert_eq!(count(&events, &sign_for.obligation_id, 2), 1, "{events:?}");
    }
    assert!(
        replica.try_wait().expect("the replica's state").is_none(),
        "the second county process is still running"
    );
    let _ = Command::new("kill")
        .arg("-TERM")
        .arg(replica.id().to_string())
        .status();
    let _ = replica.wait();
    hub.stop().await;
}

/// Returns are capped: the return that reaches the cap (2) puts the case on the chair's list,
/// and a further return is refused.
#[tokio::test]
async fn returns_past_the_cap_go_to_the_chair() {
    let (hub, _clock) = hub_at(Backend::Sqlite, DISPATCH).await;
    let case_id = report(&hub, DISPATCH, &["JT-001"], "货车长期违停村道").await;
    let mut department: &'static str = "public_security";
    for (n, next) in [(1, "transport"), (2, "public_security")] {
        let r = hub
            .dispatcher(department)
            .referral_in("dispatched", &case_id)
            .await;
        hub.county
            .clone()
            .return_referral(
                As::dispatcher(department).req(county::ReturnReferralRequest {
                    referral_id: r.referral_id.clone(),
                    reason: format!("第{n}次退回：不属本部门职责"),
                    not_competent: true,
                }),
            )
            .await
            .expect("returned");
        let dispute = eventually("the dispute on the agenda", WAIT, || async {
            hub.board
                .clone()
                .list_agenda(As::board_chair(T1).req(board::ListAgendaRequest {
                    town: T1.into(),
                    ..Default::default()
                }))
                .await
                .ok()?
                .into_inner()
                .items
                .into_iter()
                .find(|i| {
                    i.facts.as_ref().is_some_and(|f| f.case_id == case_id)
                        && i.kind == "competence_dispute"
                        && i.referral_id == r.referral_id
                })
        })
        .await;
        hub.board
            .clone()
            .settle_dispute(As::board_chair(T1).req(board::SettleDisputeRequest {
                item_id: dispute.item_id.clone(),
                department: next.into(),
                reason: "由联席会议指定".into(),
                meeting_id: String::new(),
            }))
            .await
            .expect("settled");
        department = next;
    }
    let entry = eventually("the case on the list for its returns", WAIT, || async {
        supervision(&hub)
            .await
            .entries
            .into_iter()
            .find(|e| e.case_id == case_id && e.reason == "return_cap")
    })
    .await;
    assert_eq!(entry.returns, 2);
    let third = hub
        .dispatcher("public_security")
        .referral_in("dispatched", &case_id)
        .await;
    let refused = hub
        .county
        .clone()
        .return_referral(
            As::dispatcher("public_security").req(county::ReturnReferralRequest {
                referral_id: third.referral_id.clone(),
                reason: "仍不属本部门职责".into(),
                not_competent: true,
            }),
        )
        .await
        .expect_err("past the cap");
    assert_eq!(refused.code(), Code::FailedPrecondition);
    assert!(refused.message().contains("cap"), "{}", refused.message());
    let still = hub
        .county
        .clone()
        .get_referral(
            As::dispatcher("public_security").req(county::GetReferralRequest {
                referral_id: third.referral_id.clone(),
            }),
        )
        .await
        .unwrap()
        .into_inner()
        .referral
        .unwrap();
    assert_eq!(still.status, "dispatched");
    hub.stop().await;
}

/// Every `obligation_overdue` the board wrote to its outbox for `obligation_id`: the levels.
async fn board_overdue_levels(hub: &TestHub, obligation_id: &str) -> Vec<u32> {
    overdue_payloads(hub, "board")
        .await
        .into_iter()
        .filter(|e| e.obligation_id == obligation_id)
        .map(|e| e.level)
        .collect()
}

/// The joint meeting's own clock: a joint case submitted on Monday 2 March at 09:00 is to be
/// decided within 10 working days (`joint_decision`), by 24:00 on Monday 16th; the second
/// threshold is 5 working days later, 24:00 on Monday 23rd. Not decided, it goes on the chair's
/// supervision list once per threshold, and off it when the chair rules.
#[tokio::test]
async fn a_joint_case_not_decided_in_time_goes_on_the_chairs_list_until_it_is_ruled() {
    let (hub, clock) = hub_at(Backend::Sqlite, DISPATCH).await;
    let case_id = report(&hub, DISPATCH, &["TD-001"], "非法占用基本农田建房").await;
    let item = eventually("the joint case on the agenda", WAIT, || async {
        hub.board
            .clone()
            .list_agenda(As::board_chair(T1).req(board::ListAgendaRequest {
                town: T1.into(),
                ..Default::default()
            }))
            .await
            .ok()?
            .into_inner()
            .items
            .into_iter()
            .find(|i| {
                i.kind == "joint_case" && i.facts.as_ref().is_some_and(|f| f.case_id == case_id)
            })
    })
    .await;
    let obligation = format!("{}:joint_decision", item.item_id);

    set_time(&clock, "2026-03-17T00:30:00+08:00");
    let first = on_the_list(&hub, &case_id, "joint_decision", 1).await;
    assert_eq!(first.obligation_id, obligation);
    assert_eq!(first.deadline, Some(to_ts(at("2026-03-17T00:00:00+08:00"))));
    assert!(first.resolved_at.is_none());
    set_time(&clock, "2026-03-24T00:30:00+08:00");
    let second = on_the_list(&hub, &case_id, "joint_decision", 2).await;
    assert_eq!(
        second.entry_id, first.entry_id,
        "one entry, raised to level 2"
    );
    // Once per threshold, however often the watcher looked.
    let levels = eventually("both thresholds announced", WAIT, || async {
        let levels = board_overdue_levels(&hub, &obligation).await;
        (levels.len() >= 2).then_some(levels)
    })
    .await;
    assert_eq!(levels, [1, 2]);

    // The chair rules at last: the entry is resolved at the ruling.
    hub.board
        .clone()
        .approve_joint(As::board_chair(T1).req(board::ApproveJointRequest {
            item_id: item.item_id.clone(),
            lead_department: "natural_resources".into(),
            ..Default::default()
        }))
        .await
        .expect("approved");
    let resolved = eventually("the entry resolved", WAIT, || async {
        supervision(&hub)
            .await
            .entries
            .into_iter()
            .find(|e| e.obligation_id == obligation && e.resolved_at.is_some())
    })
    .await;
    assert_eq!(resolved.level, 2);
    assert_eq!(board_overdue_levels(&hub, &obligation).await, [1, 2]);
    hub.stop().await;
}
