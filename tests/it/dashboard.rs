//! The dashboard's figures against a scenario whose expected figures are computed by hand, and
//! the dashboard page in a real headless browser (chromium through chromedriver) after the
//! demo, updating without a reload.
//!
//! Deterministic timings: the brigade, the county and the read model run in this process on one
//! `ManualClock`, set before each step, so every event's `occurred_at` is the instant the
//! scenario says; the figures are computed from those instants alone (never from arrival
//! times), and "now" for ages and overdue is the same clock.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use liandong_config::Config;
use liandong_config::clock::{ManualClock, SharedClock};
use liandong_proto::brigade::v1::brigade_service_client::BrigadeServiceClient;
use liandong_proto::brigade::v1::{self as brigade};
use liandong_proto::county::v1::county_service_client::CountyServiceClient;
use liandong_proto::county::v1::{self as county};
use liandong_proto::disclosure::v1::disclosure_service_client::DisclosureServiceClient;
use liandong_proto::disclosure::v1::{self as disclosure};
use liandong_proto::events::v1 as ev;
use liandong_proto::readmodel::v1::dashboard_service_client::DashboardServiceClient;
use liandong_proto::readmodel::v1::{self as pb};
use liandong_tests::hub::{As, DEPARTMENTS, ISSUER, TOWNS, certificate_no};
use liandong_tests::people::Report;
use liandong_tests::{Backend, TestEnv, eventually};
use tokio_util::sync::CancellationToken;
use tonic::transport::Channel;

const T1: &str = "330782101";
const WAIT: Duration = Duration::from_secs(120);

/// A China time on 2026-03-dd.
fn march(day: u32, hour: u32, minute: u32) -> DateTime<Utc> {
    chrono::FixedOffset::east_opt(8 * 3600)
        .unwrap()
        .with_ymd_and_hms(2026, 3, day, hour, minute, 0)
        .unwrap()
        .with_timezone(&Utc)
}

/// The brigade, the county, the disclosure service and the read model in this process, on one
/// manual clock.
struct Hub {
    clock: ManualClock,
    brigade: BrigadeServiceClient<Channel>,
    county: CountyServiceClient<Channel>,
    disclosure: DisclosureServiceClient<Channel>,
    readmodel: DashboardServiceClient<Channel>,
    stop: CancellationToken,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

async fn channel(addr: std::net::SocketAddr) -> Channel {
    eventually("the service to answer", WAIT, || async move {
        tonic::transport::Endpoint::from_shared(format!("http://{addr}"))
            .ok()?
            .connect()
            .await
            .ok()
    })
    .await
}

impl Hub {
    async fn start(cfg: &Config, at: DateTime<Utc>) -> Hub {
        let clock = ManualClock::new(at);
        let shared: SharedClock = Arc::new(clock.clone());
        let stop = CancellationToken::new();
        let mut tasks = Vec::new();
        let brigade = liandong_brigade::Application::build(cfg.clone(), shared.clone())
            .await
            .expect("the brigade starts");
        let county = liandong_county::Application::build(cfg.clone(), shared.clone())
            .await
            .expect("the county starts");
        let disclosure = liandong_disclosure::Application::build(cfg.clone(), shared.clone())
            .await
            .expect("the disclosure service starts");
        let readmodel = liandong_readmodel::Application::build(cfg.clone(), shared.clone())
            .await
            .expect("the read model starts");
        let (b, c, d, r) = (
            brigade.local_addr(),
            county.local_addr(),
            disclosure.local_addr(),
            readmodel.local_addr(),
        );
        for run in [
            Box::pin(brigade.run_until_stopped(stop.clone().cancelled_owned()))
                as std::pin::Pin<Box<dyn std::future::Future<Output = anyhow::Result<()>> + Send>>,
            Box::pin(county.run_until_stopped(stop.clone().cancelled_owned())),
            Box::pin(disclosure.run_until_stopped(stop.clone().cancelled_owned())),
            Box::pin(readmodel.run_until_stopped(stop.clone().cancelled_owned())),
        ] {
            tasks.push(tokio::spawn(async move {
                run.await.expect("the service runs");
            }));
        }
        let hub = Hub {
            clock,
            brigade: BrigadeServiceClient::new(channel(b).await),
            county: CountyServiceClient::new(channel(c).await),
            disclosure: DisclosureServiceClient::new(channel(d).await),
            readmodel: DashboardServiceClient::new(channel(r).await),
            stop,
            tasks,
        };
        hub.register_officers().await;
        hub
    }

    /// The certificates of the officers acting below (持证上岗).
    async fn register_officers(&self) {
        for town in TOWNS {
            for officer in [As::brigade_officer(town), As::brigade_captain(town)] {
                self.brigade
                    .clone()
                    .register_officer(As::brigade_captain(town).req(
                        brigade::RegisterOfficerRequest {
                            town: town.into(),
                            officer: officer.officer.into(),
                            certificate_no: certificate_no(town, officer.officer),
                            issuing_authority: ISSUER.into(),
                            valid_from: "2026-01-01".into(),
                            valid_until: "2030-12-31".into(),
                        },
                    ))
                    .await
                    .expect("a town officer is registered");
            }
        }
        for department in DEPARTMENTS {
            for officer in [As::dispatcher(department), As::investigator(department)] {
                self.county
                    .clone()
                    .register_officer(As::dispatcher(department).req(
                        county::RegisterOfficerRequest {
                            department: department.into(),
                            officer: officer.officer.into(),
                            certificate_no: certificate_no(department, officer.officer),
                            issuing_authority: ISSUER.into(),
                            valid_from: "2026-01-01".into(),
                            valid_until: "2030-12-31".into(),
                        },
                    ))
                    .await
                    .expect("a department officer is registered");
            }
        }
    }

    async fn stop(self) {
        self.stop.cancel();
        for t in self.tasks {
            let _ = t.await;
        }
    }

    /// Reports a case of `matter` found at `at`, reported at `at`; returns it as triaged.
    async fn report(&self, at: DateTime<Utc>, matter: &str) -> brigade::Case {
        self.clock.set(at);
        self.brigade
            .clone()
            .report_case(
                As::brigade_officer(T1).req(
                    Report::new(T1, &[matter], &format!("巡查发现 {matter}"))
                        .in_village("东山村", "东山村河边")
                        .found_at(liandong_proto::time::to_ts(at))
                        .request(),
                ),
            )
            .await
            .expect("the report is taken")
            .into_inner()
            .case
            .expect("a case")
    }

    /// Reports an out-of-scope case at `at`; returns the referral the department received.
    async fn refer(&self, at: DateTime<Utc>, matter: &str, department: &'static str) -> String {
        let case = self.report(at, matter).await;
        assert_eq!(case.status, "referred", "{matter} goes out of scope");
        let county = self.county.clone();
        eventually(
            &format!("the referral of {} at {department}", case.case_id),
            WAIT,
            || {
                let mut county = county.clone();
                let case_id = case.case_id.clone();
                async move {
                    county
                        .list_inbox(As::dispatcher(department).req(county::ListInboxRequest {
                            department: department.into(),
                            status: String::new(),
                            town: String::new(),
                            page_size: 0,
                        }))
                        .await
                        .ok()?
                        .into_inner()
                        .referrals
                        .into_iter()
                        .find(|r| r.facts.as_ref().is_some_and(|f| f.case_id == case_id))
                        .map(|r| r.referral_id)
                }
            },
        )
        .await
    }

    /// Reports at `at` a case the town handles itself; returns its id.
    async fn report_in_scope(&self, at: DateTime<Utc>, matter: &str) -> String {
        let case = self.report(at, matter).await;
        assert_eq!(case.status, "open", "{matter} stays with the town");
        case.case_id
    }

    async fn sign_for(&self, at: DateTime<Utc>, department: &'static str, id: &str) {
        self.clock.set(at);
        self.county
            .clone()
            .sign_for_referral(
                As::dispatcher(department).req(county::SignForReferralRequest {
                    referral_id: id.into(),
                }),
            )
            .await
            .expect("signed for");
    }

    async fn accept(&self, at: DateTime<Utc>, department: &'static str, id: &str) {
        self.clock.set(at);
        self.county
            .clone()
            .accept_referral(
                As::dispatcher(department).req(county::AcceptReferralRequest {
                    referral_id: id.into(),
                }),
            )
            .await
            .expect("accepted");
    }

    async fn conclude(
        &self,
        at: DateTime<Utc>,
        department: &'static str,
        id: &str,
        outcome: ev::Outcome,
    ) {
        self.clock.set(at);
        let mut c = self.county.clone();
        c.assign_referral(
            As::dispatcher(department).req(county::AssignReferralRequest {
                referral_id: id.into(),
                staff: vec!["lin.yuan".into()],
            }),
        )
        .await
        .expect("assigned");
        c.conclude_referral(
            As::investigator(department).req(county::ConcludeReferralRequest {
                referral_id: id.into(),
                outcome: Some(outcome),
            }),
        )
        .await
        .expect("concluded");
    }

    /// Publishes, at `at`, the department's disclosure of the class given (once it arrived).
    async fn publish(&self, at: DateTime<Utc>, department: &'static str, class: &str) {
        let who = As::dispatcher(department);
        let id = eventually(
            &format!("{department}'s {class} disclosure"),
            WAIT,
            || async {
                self.disclosure
                    .clone()
                    .list_disclosures(who.req(disclosure::ListDisclosuresRequest {
                        department: department.into(),
                        ..Default::default()
                    }))
                    .await
                    .ok()?
                    .into_inner()
                    .disclosures
                    .into_iter()
                    .find(|d| d.class == class)
                    .map(|d| d.disclosure_id)
            },
        )
        .await;
        self.clock.set(at);
        self.disclosure
            .clone()
            .publish_disclosure(who.req(disclosure::PublishDisclosureRequest { disclosure_id: id }))
            .await
            .expect("published");
    }

    async fn figures(&self, who: &As, r: pb::GetDashboardRequest) -> pb::GetDashboardResponse {
        self.readmodel
            .clone()
            .get_dashboard(who.req(r))
            .await
            .expect("the dashboard is readable")
            .into_inner()
    }
}

/// A step's figures: name, count, median, p90, on time, timed.
type StepRow<'a> = (&'a str, u32, Option<i64>, Option<i64>, u32, u32);

fn steps(d: &pb::DepartmentFigures) -> Vec<StepRow<'_>> {
    d.steps
        .iter()
        .map(|s| {
            (
                s.step.as_str(),
                s.count,
                s.median_secs,
                s.p90_secs,
                s.on_time,
                s.timed,
            )
        })
        .collect()
}

const H: i64 = 3600;
const D: i64 = 24 * H;

async fn the_figures_match_a_hand_computed_scenario(backend: Backend) {
    let mut env = TestEnv::new(backend);
    // The county's clocks look for run-out obligations once at start and then hourly: none
    // fires while the scenario jumps the clock, so the figures below are computed from the
    // policy's deadlines alone (escalations are read from events; none is raised here).
    env.cfg.clock_check_ms = 3_600_000;
    // Monday 2 March 2026, 09:00 in the township.
    let hub = Hub::start(&env.cfg, march(2, 9, 0)).await;

    // Three referrals to forestry (A1–A3) and one to water resources (B1), each step at a set
    // time; the clock only moves forward.
    let a1 = hub.refer(march(2, 9, 0), "LY-001", "forestry").await;
    let a2 = hub.refer(march(2, 9, 30), "LY-001", "forestry").await;
    let b1 = hub
        .refer(march(2, 10, 0), "SL-001", "water_resources")
        .await;
    hub.sign_for(march(2, 10, 0), "forestry", &a1).await; // A1 +1 h
    hub.sign_for(march(2, 11, 30), "forestry", &a2).await; // A2 +2 h
    hub.accept(march(2, 12, 0), "forestry", &a1).await; // A1 +3 h
    hub.sign_for(march(2, 14, 0), "water_resources", &b1).await; // B1 +4 h
    hub.accept(march(3, 9, 30), "forestry", &a2).await; // A2 +24 h
    let a3 = hub.refer(march(3, 10, 0), "LY-001", "forestry").await; // Tuesday
    let fine = ev::Outcome {
        kind: "fine".into(),
        fine_fen: 300_000,
        summary: "责令补种并处罚款".into(),
        ..Default::default()
    };
    hub.conclude(march(4, 9, 0), "forestry", &a1, fine).await; // A1 +48 h
    hub.accept(march(4, 10, 0), "water_resources", &b1).await; // B1 +48 h
    hub.sign_for(march(5, 10, 0), "forestry", &a3).await; // A3 +48 h: late
    // A case the town handles itself (C1), still open: counted from its report.
    hub.report_in_scope(march(5, 11, 0), "CSGL-001").await;
    let education = ev::Outcome {
        kind: "education".into(),
        summary: "初次违法且危害后果轻微，予以批评教育".into(),
        ..Default::default()
    };
    hub.conclude(march(6, 9, 30), "forestry", &a2, education)
        .await; // A2 +96 h
    // Forestry publishes A1's fine (a penalty: due in 7 working days) on Tuesday 10th.
    hub.publish(march(10, 10, 0), "forestry", "penalty_or_licensing")
        .await;
    // Read on Wednesday 25 March, 12:00.
    hub.clock.set(march(25, 12, 0));

    let chair = As::board_chair(T1);
    let all = eventually("the read model to apply every event", WAIT, || async {
        let f = hub
            .figures(&chair, pb::GetDashboardRequest::default())
            .await;
        // 4 dispatches, 3 + 1 sign-fors, 2 + 1 accepts, 2 conclusions (and 2 assignments,
        // which change no figure): the two decisions are the last to arrive.
        (f.outcomes.as_ref().is_some_and(|o| o.decisions == 2)
            && f.departments.iter().map(|d| d.steps[0].count).sum::<u32>() == 4
            && f.departments.iter().map(|d| d.steps[1].count).sum::<u32>() == 3
            && f.disclosure
                .as_ref()
                .is_some_and(|d| d.due == 2 && d.published_on_time == 1)
            && f.cases_by_path.iter().map(|c| c.count).sum::<i64>() == 5)
            .then_some(f)
    })
    .await;
    assert_eq!(all.town, T1, "the chair reads the own town");

    // The shipped time-limits policy for forestry and water (no rule of their own): from
    // dispatch, sign for in 1 working day, accept or return in 2, conclude in 15.
    // Forestry:
    //   A1 (Mon 2nd 09:00): sign 1 h, accept 3 h, conclude 48 h: all on time.
    //   A2 (Mon 2nd 09:30): sign 2 h, accept 24 h, conclude 96 h (due Mon 23rd): all on time.
    //   A3 (Tue 3rd 10:00): sign 48 h (due Wed 4th 24:00): late; accept due Thu 5th and
    //   conclude due Tue 24th, neither done by Wed 25th: both overdue. 6 of 9 on time.
    //   sign [1 h, 2 h, 48 h]: median rank ⌈1.5⌉ = 2 → 2 h, p90 rank ⌈2.7⌉ = 3 → 48 h.
    //   accept [3 h, 24 h]: median rank 1 → 3 h, p90 rank 2 → 24 h.
    //   conclude [48 h, 96 h]: median 48 h, p90 96 h.
    // Water resources:
    //   B1 (Mon 2nd 10:00): sign 4 h, accept 48 h (due Wed 4th 24:00): on time; conclude due
    //   Mon 23rd: overdue. 2 of 3 on time.
    let forestry = all
        .departments
        .iter()
        .find(|d| d.department == "forestry")
        .expect("forestry's figures");
    assert_eq!(
        steps(forestry),
        [
            ("sign_for", 3, Some(2 * H), Some(2 * D), 2, 3),
            ("accept", 2, Some(3 * H), Some(D), 2, 3),
            ("conclude", 2, Some(2 * D), Some(4 * D), 2, 3),
        ]
    );
    let limits: Vec<u32> = forestry.steps.iter().map(|s| s.target_days).collect();
    assert_eq!(limits, [1, 2, 15]);
    assert_eq!(
        (forestry.referrals, forestry.on_time, forestry.timed),
        (3, 6, 9)
    );
    assert_eq!((forestry.open, forestry.overdue), (1, 1));
    let water = all
        .departments
        .iter()
        .find(|d| d.department == "water_resources")
        .expect("water's figures");
    assert_eq!(
        steps(water),
        [
            ("sign_for", 1, Some(4 * H), Some(4 * H), 1, 1),
            ("accept", 1, Some(2 * D), Some(2 * D), 1, 1),
            ("conclude", 0, None, None, 0, 1),
        ]
    );
    assert_eq!(
        (water.on_time, water.timed, water.open, water.overdue),
        (2, 3, 1, 1)
    );
    assert_eq!(all.departments.len(), 2);
    assert_eq!((all.on_time, all.timed), (8, 12));

    // Open, oldest first: B1 since Mon 2nd 10:00 (23 d 2 h), waiting to conclude; A3 since
    // Tue 3rd 10:00 (22 d 2 h), waiting to be accepted.
    let open: Vec<(&str, &str, i64, bool)> = all
        .open
        .iter()
        .map(|o| {
            (
                o.department.as_str(),
                o.waiting_for.as_str(),
                o.age_secs,
                o.overdue,
            )
        })
        .collect();
    assert_eq!(
        open,
        [
            ("water_resources", "conclude", 23 * D + 2 * H, true),
            ("forestry", "accept", 22 * D + 2 * H, true),
        ]
    );
    assert_eq!(all.open[0].id, b1);
    assert_eq!(all.open[1].id, a3);

    // The ranking needs 3 cases in the period: forestry (66.7 %, median 48 h) is ranked,
    // water resources with one case is not.
    let ranking = &all.rankings[0];
    assert_eq!(ranking.path, "out_of_scope");
    assert_eq!(ranking.min_cases, 3);
    let ranked: Vec<(u32, &str, u32, u32, Option<i64>)> = ranking
        .ranked
        .iter()
        .map(|r| {
            (
                r.position,
                r.department.as_str(),
                r.cases,
                r.on_time_permille,
                r.median_conclude_secs,
            )
        })
        .collect();
    assert_eq!(ranked, [(1, "forestry", 3, 667, Some(2 * D))]);
    assert_eq!(ranking.too_few, ["water_resources"]);

    // Cases: five, all in March: C1 in scope (CSGL-001, open, counted from its report), four
    // out of scope (three LY-001, one SL-001).
    let counts = |c: &[pb::Count]| -> Vec<(String, i64)> {
        c.iter().map(|c| (c.key.clone(), c.count)).collect()
    };
    assert_eq!(
        counts(&all.cases_by_path),
        [("in_scope".into(), 1), ("out_of_scope".into(), 4)]
    );
    assert_eq!(counts(&all.cases_by_month), [("2026-03".into(), 5)]);
    assert_eq!(
        counts(&all.cases_by_matter),
        [
            ("CSGL-001".into(), 1),
            ("LY-001".into(), 3),
            ("SL-001".into(), 1)
        ]
    );
    // Outcomes: one fine of 3,000 yuan, one education without penalty.
    let o = all.outcomes.clone().unwrap();
    assert_eq!(
        (
            o.decisions,
            o.education_only,
            o.penalties,
            o.other,
            o.fines_fen
        ),
        (2, 1, 1, 0, 300_000)
    );
    assert_eq!(
        counts(&o.by_kind),
        [("education".into(), 1), ("fine".into(), 1)]
    );
    assert_eq!(all.escalations, 0);
    let sat = all.satisfaction.unwrap();
    assert_eq!(sat.satisfied + sat.basically_satisfied + sat.unsatisfied, 0);
    let review = all.review.unwrap();
    assert_eq!((review.answered, review.pending), (0, 0));
    // Disclosure: A1's fine (decided Wed 4th, a penalty: 7 working days, due Fri 13th 24:00)
    // published Tue 10th: on time. A2's education (decided Fri 6th, other enforcement: 20
    // working days, due Fri 3 April 24:00) not published, not yet due on the 25th.
    let dis = all.disclosure.clone().unwrap();
    assert_eq!(
        (
            dis.due,
            dis.published_on_time,
            dis.published_late,
            dis.overdue,
            dis.pending,
            dis.withdrawn
        ),
        (2, 1, 0, 0, 1, 0)
    );
    let bodies: Vec<(&str, u32, u32, u32)> = dis
        .bodies
        .iter()
        .map(|b| (b.body.as_str(), b.due, b.published_on_time, b.pending))
        .collect();
    assert_eq!(bodies, [("department:forestry", 2, 1, 1)]);

    // Filters: the water department alone; the period from Tuesday 3rd (only A3 dispatched).
    let water_only = hub
        .figures(
            &chair,
            pb::GetDashboardRequest {
                department: "water_resources".into(),
                ..Default::default()
            },
        )
        .await;
    assert_eq!(water_only.departments.len(), 1);
    assert_eq!((water_only.on_time, water_only.timed), (2, 3));
    assert_eq!(
        counts(&water_only.cases_by_path),
        [("out_of_scope".into(), 1)]
    );
    let from_tuesday = hub
        .figures(
            &chair,
            pb::GetDashboardRequest {
                from: "2026-03-03".into(),
                to: "2026-03-31".into(),
                ..Default::default()
            },
        )
        .await;
    assert_eq!((from_tuesday.on_time, from_tuesday.timed), (0, 3));
    assert_eq!(from_tuesday.open.len(), 1);
    assert_eq!(from_tuesday.rankings[0].too_few, ["forestry"]);

    // Bad filters are refused naming the field; another town's chair is refused.
    let bad = hub
        .readmodel
        .clone()
        .get_dashboard(chair.req(pb::GetDashboardRequest {
            from: "2026-13-01".into(),
            department: "no such".into(),
            ..Default::default()
        }))
        .await
        .unwrap_err();
    assert_eq!(bad.code(), tonic::Code::InvalidArgument);
    assert!(bad.message().contains("from"), "{}", bad.message());
    assert!(bad.message().contains("department"), "{}", bad.message());
    let no_such_town = hub
        .readmodel
        .clone()
        .get_dashboard(chair.req(pb::GetDashboardRequest {
            town: "330782199".into(),
            ..Default::default()
        }))
        .await
        .unwrap_err();
    assert_eq!(no_such_town.code(), tonic::Code::InvalidArgument);
    assert!(
        no_such_town
            .message()
            .contains("330782199 is not a town of 义乌市"),
        "{}",
        no_such_town.message()
    );
    let other = hub
        .readmodel
        .clone()
        .get_dashboard(As::board_chair(TOWNS[1]).req(pb::GetDashboardRequest {
            town: T1.into(),
            ..Default::default()
        }))
        .await
        .unwrap_err();
    assert_eq!(other.code(), tonic::Code::PermissionDenied);

    // Tuesday 7 April: A2's disclosure, still unpublished, is past its due date (3 April).
    hub.clock.set(
        chrono::FixedOffset::east_opt(8 * 3600)
            .unwrap()
            .with_ymd_and_hms(2026, 4, 7, 9, 0, 0)
            .unwrap()
            .with_timezone(&Utc),
    );
    let april = hub
        .figures(&chair, pb::GetDashboardRequest::default())
        .await
        .disclosure
        .unwrap();
    assert_eq!(
        (
            april.due,
            april.published_on_time,
            april.overdue,
            april.pending
        ),
        (2, 1, 1, 0)
    );

    hub.stop().await;
    env.cleanup().await;
}

liandong_tests::on_each_backend!(the_figures_match_a_hand_computed_scenario);

/// The county's clocks raise escalations (`obligation_overdue`) as the clock passes each
/// deadline and second threshold; the dashboard counts the events it received, per department.
#[tokio::test]
async fn escalations_are_counted_from_the_clocks_events() {
    let mut env = TestEnv::new(Backend::Sqlite);
    // The county looks for run-out obligations ten times a second.
    env.cfg.clock_check_ms = 100;
    let hub = Hub::start(&env.cfg, march(2, 10, 0)).await;
    // Dispatched Monday 2 March 10:00 to water resources and then left alone. Policy (no rule
    // for water or SL): sign for by Tue 3rd 24:00, accept or return by Wed 4th 24:00, each
    // escalated again 5 working days after its deadline (sign: Tue 10th 24:00; accept: Wed
    // 11th 24:00); conclude by Mon 23rd.
    let b = hub
        .refer(march(2, 10, 0), "SL-001", "water_resources")
        .await;
    let chair = As::board_chair(T1);
    let escalations = |at_least: u32| {
        let hub = &hub;
        let chair = chair.clone();
        async move {
            eventually(&format!("{at_least} escalations"), WAIT, || async {
                let f = hub
                    .figures(&chair, pb::GetDashboardRequest::default())
                    .await;
                (f.escalations >= at_least).then_some(f)
            })
            .await
        }
    };

    // Wednesday 4th noon: only the sign-for deadline has passed.
    hub.clock.set(march(4, 12, 0));
    let f = escalations(1).await;
    assert_eq!(f.escalations, 1);
    let water = &f.departments[0];
    assert_eq!(
        (water.department.as_str(), water.escalations),
        ("water_resources", 1)
    );
    assert_eq!((water.on_time, water.timed, water.overdue), (0, 1, 1));

    // Wednesday 11th noon: the sign-for's second threshold and the accept deadline have
    // passed (not the accept's second threshold, nor any conclusion).
    hub.clock.set(march(11, 12, 0));
    let f = escalations(3).await;
    // A little longer: no fourth comes.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let f2 = hub
        .figures(&chair, pb::GetDashboardRequest::default())
        .await;
    assert_eq!((f.escalations, f2.escalations), (3, 3));
    let water = &f2.departments[0];
    assert_eq!(water.escalations, 3);
    assert_eq!(
        (water.on_time, water.timed, water.open, water.overdue),
        (0, 2, 1, 1)
    );
    assert_eq!(f2.open[0].id, b);
    assert_eq!(f2.open[0].waiting_for, "sign_for");

    hub.stop().await;
    env.cleanup().await;
}

/// Dashboard fairness: a department that returns every referral at once ranks below one that
/// concludes its referrals late. A return is never an answer on time: not upheld by the chair,
/// it counts as a missed acceptance; the department's return rate is shown beside its rate;
/// times are given in working days beside wall-clock.
#[tokio::test]
async fn a_department_that_bounces_every_referral_ranks_below_one_that_concludes_late() {
    let mut env = TestEnv::new(Backend::Sqlite);
    env.cfg.clock_check_ms = 3_600_000;
    let hub = Hub::start(&env.cfg, march(2, 9, 0)).await;
    // Water resources: three referrals signed for and accepted the same morning, concluded
    // on Wednesday 25th, after their deadline (Mon 23rd 24:00).
    let mut water = Vec::new();
    for minute in [0, 10, 20] {
        water.push(
            hub.refer(march(2, 9, minute), "SL-001", "water_resources")
                .await,
        );
    }
    // Forestry: three referrals, each signed for and returned within the hour.
    let mut forestry = Vec::new();
    for minute in [30, 40, 50] {
        forestry.push(hub.refer(march(2, 9, minute), "LY-001", "forestry").await);
    }
    for id in &water {
        hub.sign_for(march(2, 10, 0), "water_resources", id).await;
        hub.accept(march(2, 11, 0), "water_resources", id).await;
    }
    for id in &forestry {
        hub.sign_for(march(2, 10, 0), "forestry", id).await;
        hub.clock.set(march(2, 10, 30));
        hub.county
            .clone()
            .return_referral(
                As::dispatcher("forestry").req(county::ReturnReferralRequest {
                    referral_id: id.clone(),
                    reason: "不属于本部门职责".into(),
                    not_competent: true,
                }),
            )
            .await
            .expect("returned");
    }
    let education = ev::Outcome {
        kind: "education".into(),
        summary: "初次违法且危害后果轻微，予以批评教育".into(),
        ..Default::default()
    };
    for id in &water {
        hub.conclude(march(25, 10, 0), "water_resources", id, education.clone())
            .await;
    }
    hub.clock.set(march(26, 12, 0));

    let chair = As::board_chair(T1);
    let all = eventually("the read model to apply every event", WAIT, || async {
        let f = hub
            .figures(&chair, pb::GetDashboardRequest::default())
            .await;
        let dept = |code: &str| f.departments.iter().find(|d| d.department == code).cloned();
        let (w, fo) = (dept("water_resources")?, dept("forestry")?);
        (w.steps[2].count == 3 && fo.returned == 3).then_some(f)
    })
    .await;
    let dept = |code: &str| {
        all.departments
            .iter()
            .find(|d| d.department == code)
            .unwrap()
    };
    // Water: signed for 3/3, accepted 3/3, concluded 0/3 on time: 6 of 9.
    let w = dept("water_resources");
    assert_eq!((w.on_time, w.timed, w.returned), (6, 9, 0));
    // Concluded Wed 25th 10:00 from Mon 2nd 09:00–09:20: 23 days wall-clock, 17 working days
    // (3–6, 9–13, 16–20, 23–25 March).
    let conclude = &w.steps[2];
    assert_eq!(conclude.step, "conclude");
    assert_eq!(conclude.median_working_days, Some(17));
    assert_eq!(conclude.p90_working_days, Some(17));
    assert!(conclude.median_secs.unwrap() > 23 * D);
    assert_eq!(
        w.steps[0].median_working_days,
        Some(0),
        "signed for the same day"
    );
    // Forestry: signed for 3/3 on time, but its three returns are no answers: 3 of 6.
    let f = dept("forestry");
    assert_eq!((f.on_time, f.timed), (3, 6));
    assert_eq!(
        (
            f.referrals,
            f.returned,
            f.returns_upheld,
            f.returns_sent_back
        ),
        (3, 3, 0, 0)
    );
    let accept = &f.steps[1];
    assert_eq!(
        (
            accept.step.as_str(),
            accept.on_time,
            accept.timed,
            accept.count
        ),
        ("accept", 0, 3, 0)
    );
    // The ranking: water (66.7 %, nothing returned) above forestry (50.0 %, all returned).
    let ranking = &all.rankings[0];
    assert_eq!(ranking.path, "out_of_scope");
    let ranked: Vec<(u32, &str, u32, u32, u32)> = ranking
        .ranked
        .iter()
        .map(|r| {
            (
                r.position,
                r.department.as_str(),
                r.on_time_permille,
                r.returned,
                r.return_permille,
            )
        })
        .collect();
    assert_eq!(
        ranked,
        [
            (1, "water_resources", 667, 0, 0),
            (2, "forestry", 500, 3, 1000)
        ]
    );
    assert!(ranking.no_data.is_empty());
    hub.stop().await;
    env.cleanup().await;
}

/// The chair's ruling on a return reaches the figures: a return sent back to the same
/// department counts against it (a missed acceptance, shown as sent back); an upheld one is
/// excused (not timed).
#[tokio::test]
async fn a_return_the_chair_sends_back_counts_against_the_department_an_upheld_one_does_not() {
    use liandong_proto::board::v1 as board;
    let hub = liandong_tests::hub::TestHub::start(Backend::Sqlite).await;
    let mut settled = Vec::new();
    for (description, to) in [
        ("货车长期违停村口", "public_security"),
        ("货车长期违停村道", "transport"),
    ] {
        let case = hub
            .brigade_officer(T1)
            .report(Report::new(T1, &["JT-001"], description))
            .await
            .unwrap();
        let first = hub
            .dispatcher("public_security")
            .referral_of(&case.case_id)
            .await;
        hub.county
            .clone()
            .return_referral(
                As::dispatcher("public_security").req(county::ReturnReferralRequest {
                    referral_id: first.referral_id.clone(),
                    reason: "不属于本部门职责".into(),
                    not_competent: true,
                }),
            )
            .await
            .unwrap();
        let dispute =
            crate::paths::agenda_item(&hub, T1, &case.case_id, "competence_dispute").await;
        hub.board
            .clone()
            .settle_dispute(As::board_chair(T1).req(board::SettleDisputeRequest {
                item_id: dispute.item_id.clone(),
                department: to.into(),
                reason: "经协调".into(),
                meeting_id: String::new(),
            }))
            .await
            .unwrap();
        settled.push(first.referral_id);
    }
    let chair = As::board_chair(T1);
    let f = eventually("both rulings in the figures", WAIT, || async {
        let f = hub
            .readmodel
            .clone()
            .get_dashboard(chair.req(pb::GetDashboardRequest::default()))
            .await
            .ok()?
            .into_inner();
        let ps = f
            .departments
            .iter()
            .find(|d| d.department == "public_security")?
            .clone();
        (ps.returns_sent_back == 1 && ps.returns_upheld == 1).then_some(ps)
    })
    .await;
    // Two referrals returned and the one sent back re-dispatched to it: three received.
    assert_eq!((f.referrals, f.returned), (3, 2));
    // The sent-back return is a missed acceptance; the upheld one is not timed; the new
    // referral is still open and not yet due.
    let accept = f.steps.iter().find(|s| s.step == "accept").unwrap();
    assert_eq!((accept.on_time, accept.timed), (0, 1));
    assert_eq!((f.on_time, f.timed), (0, 1));
    hub.stop().await;
}
