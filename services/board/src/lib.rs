//! The board service (镇行政执法联席会议): each town's agenda of joint cases and competence
//! disputes.
#![forbid(unsafe_code)]

mod api;
mod clocks;
mod consume;
mod convert;
mod minutes;
mod satisfaction;
mod store;
mod supervision;

use std::future::Future;
use std::net::SocketAddr;

use liandong_bus::{ConsumerSpec, Source};
use liandong_config::Config;
use liandong_config::clock::SharedClock;
use liandong_proto::board::v1::board_service_server::BoardServiceServer;
use liandong_runtime::Runtime;
use liandong_store::Migrations;

static PG: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");
static SQLITE: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");

/// The service's own tables, on each backend.
const OWN: Migrations = Migrations {
    postgres: &PG,
    sqlite: &SQLITE,
};

/// Every table of the service's database: the bus's, its own, and its feature crates'.
pub const MIGRATIONS: &[&Migrations] = &[
    &liandong_bus::MIGRATIONS,
    &OWN,
    &liandong_access_log::MIGRATIONS,
];

/// The gRPC name readiness is reported under.
pub const SERVICE_NAME: &str = "liandong.board.v1.BoardService";

/// The board service, built and bound, ready to run.
pub struct Application {
    rt: Runtime,
    listener: tokio::net::TcpListener,
}

impl Application {
    /// Opens the store, connects the bus, starts the consumers, and binds the gRPC port.
    pub async fn build(cfg: Config, clock: SharedClock) -> anyhow::Result<Application> {
        let addr = cfg.board_addr;
        let mut rt = Runtime::start(cfg, Source::Board, &MIGRATIONS, clock).await?;
        let subjects = rt.bus.subjects.clone();
        // Joint cases the brigades submit, and their execution. Both are events of the case's
        // `joint:<case id>` aggregate, and the board takes every event of it, so it can apply
        // them in their sequence.
        let brigade = ConsumerSpec {
            durable: "board-from-brigade".into(),
            stream: rt.bus.stream_name("brigade"),
            filter_subjects: vec![
                subjects.filter(Source::Brigade, "joint_submitted", "*"),
                subjects.filter(Source::Brigade, "joint_executed", "*"),
            ],
            ordered: true,
        };
        rt.consume(brigade, consume::BrigadeEvents);
        // Returned referrals become competence disputes; the lead's decision and completed
        // tasks follow approved joint cases. The board sees only some events of a referral or
        // task, so it is not held to their sequence.
        let county = ConsumerSpec {
            durable: "board-from-county".into(),
            stream: rt.bus.stream_name("county"),
            filter_subjects: vec![
                subjects.filter(Source::County, "referral_returned", "*"),
                subjects.filter(Source::County, "entrusted_decision_recorded", "*"),
                subjects.filter(Source::County, "task_completed", "*"),
                subjects.filter(Source::County, "entrusted_decision_changed", "*"),
            ],
            ordered: false,
        };
        rt.consume(
            county,
            consume::CountyEvents {
                max_returns_per_case: rt.time_limits.defaults.max_returns_per_case,
            },
        );
        // The departments' clocks that ran out or were met late, and their extension requests
        // (督办, 延期): each event stands alone, so in any order.
        let clocks = ConsumerSpec {
            durable: "board-clocks".into(),
            stream: rt.bus.stream_name("county"),
            filter_subjects: vec![
                rt.bus
                    .subjects
                    .filter(Source::County, "obligation_overdue", "*"),
                rt.bus
                    .subjects
                    .filter(Source::County, "obligation_met", "*"),
                rt.bus
                    .subjects
                    .filter(Source::County, "extension_requested", "*"),
            ],
            ordered: false,
        };
        rt.consume(clocks, supervision::ClockEvents);
        // Patrols and persuasion turnouts, counted for the year's figures.
        let activities = ConsumerSpec {
            durable: "board-activities".into(),
            stream: rt.bus.stream_name("brigade"),
            filter_subjects: vec![
                rt.bus
                    .subjects
                    .filter(Source::Brigade, "patrol_recorded", "*"),
                rt.bus
                    .subjects
                    .filter(Source::Brigade, "persuasion_recorded", "*"),
            ],
            ordered: false,
        };
        rt.consume(activities, supervision::ActivityEvents);
        // The brigade's own clocks (the 90 days of its cases) for the supervision list.
        let brigade_clocks = ConsumerSpec {
            durable: "board-brigade-clocks".into(),
            stream: rt.bus.stream_name("brigade"),
            filter_subjects: vec![
                rt.bus
                    .subjects
                    .filter(Source::Brigade, "obligation_overdue", "*"),
                rt.bus
                    .subjects
                    .filter(Source::Brigade, "obligation_met", "*"),
            ],
            ordered: false,
        };
        rt.consume(brigade_clocks, supervision::ClockEvents);
        // Call-backs (回访), tallied by year and answer.
        let callbacks = ConsumerSpec {
            durable: "board-callbacks".into(),
            stream: rt.bus.stream_name("brigade"),
            filter_subjects: vec![rt.bus.subjects.filter(
                Source::Brigade,
                "callback_recorded",
                "*",
            )],
            ordered: false,
        };
        rt.consume(callbacks, satisfaction::CallbackEvents);
        // The meeting's own clock on the joint cases it has to decide.
        let watcher = clocks::Watcher {
            db: rt.db.clone(),
            outbox: rt.outbox.clone(),
            clock: rt.clock.clone(),
            policy: rt.time_limits.clone(),
            calendar: rt.calendar.clone(),
        };
        let every = std::time::Duration::from_millis(rt.cfg.clock_check_ms.max(10));
        rt.spawn(watcher.run(every, rt.stop.clone()));
        let listener = tokio::net::TcpListener::bind(addr).await?;
        Ok(Application { rt, listener })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .expect("a bound listener has an address")
    }

    /// Serves until `shutdown` resolves, then stops cleanly.
    pub async fn run_until_stopped(self, shutdown: impl Future<Output = ()>) -> anyhow::Result<()> {
        let api = api::Api::new(&self.rt);
        let svc = BoardServiceServer::with_interceptor(api, self.rt.authenticate());
        // Who read the case files and personal data this service holds, for the judicial office.
        let routes = tonic::service::Routes::new(svc).add_service(liandong_access_log::service(
            self.rt.db.clone(),
            self.rt.authenticate(),
        ));
        self.rt
            .serve(self.listener, SERVICE_NAME, routes, shutdown)
            .await
    }
}
