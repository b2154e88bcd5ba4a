//! The board service (镇行政执法联席会议): each town's agenda of joint cases and competence
//! disputes.
#![forbid(unsafe_code)]

mod api;
mod clocks;
mod consume;
mod convert;
mod minutes;
// The modules that read and write the board's tables are public so that the integration tests
// read rows through the same functions the service does.
pub mod satisfaction;
pub mod store;
pub mod supervision;

use std::future::Future;
use std::net::SocketAddr;

use liandong_config::Config;
use liandong_config::clock::SharedClock;
use liandong_proto::board::v1::board_service_server::BoardServiceServer;
use liandong_runtime::Runtime;
use liandong_store::Migrations;
use liandong_topology::{Service, inbound::board as inbound};

static PG: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");
static SQLITE: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");

/// The service's own tables, on each backend.
const OWN: Migrations = Migrations {
    postgres: &PG,
    sqlite: &SQLITE,
};

/// Every table of the service's database: the bus's, its feature crates' and its own, applied
/// as one history in the order of their versions.
pub const MIGRATIONS: &[&Migrations] = &[
    &liandong_bus::MIGRATIONS,
    &liandong_access_log::MIGRATIONS,
    &OWN,
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
        let mut rt = Runtime::start(cfg, Service::Board, MIGRATIONS, clock).await?;
        // Joint cases, returned referrals (competence disputes), the leads' decisions and the
        // tasks done, the clocks that ran out and the extension requests, patrols, persuasion
        // turnouts and call-backs.
        let events = consume::Events {
            max_returns_per_case: rt.time_limits.defaults.max_returns_per_case,
        };
        rt.consume::<inbound::FromBrigade, _>(events);
        rt.consume::<inbound::FromCounty, _>(events);
        // Deadlines computed beyond the calendar years then loaded are recomputed with the
        // calendar loaded now (a year added since moves them).
        clocks::recompute_provisional(&rt.db, &rt.outbox, &rt.time_limits, &rt.calendar).await?;
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
