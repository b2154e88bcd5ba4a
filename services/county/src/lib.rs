//! The county service (县直行政执法机关): every department's inbox of referrals, its
//! joint-case tasks and handed-over case files, and what each department does with them.
#![forbid(unsafe_code)]

mod api;
pub mod clocks;
mod commands;
mod consume;
mod context;
mod convert;
mod decision;
mod law;
pub mod record;
mod referral;
mod registry;
mod review_answer;
mod review_request;
mod rows;
pub mod store;
mod task;
pub mod task_store;

use std::future::Future;
use std::net::SocketAddr;

use liandong_config::Config;
use liandong_config::clock::SharedClock;
use liandong_proto::county::v1::county_service_server::CountyServiceServer;
use liandong_runtime::Runtime;
use liandong_store::Migrations;
use liandong_topology::{Service, inbound::county as inbound};

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
    &liandong_decision::MIGRATIONS,
    &OWN,
];

/// The gRPC name readiness is reported under.
pub const SERVICE_NAME: &str = "liandong.county.v1.CountyService";

/// The county service, built and bound, ready to run.
pub struct Application {
    rt: Runtime,
    listener: tokio::net::TcpListener,
}

impl Application {
    /// Opens the store, connects the bus, starts the consumers, and binds the gRPC port.
    pub async fn build(cfg: Config, clock: SharedClock) -> anyhow::Result<Application> {
        let addr = cfg.county_addr;
        let mut rt = Runtime::start(cfg, Service::County, MIGRATIONS, clock).await?;
        // Referrals and handovers addressed to any department, from every town's brigade; a
        // department running its own instance would filter on its own code instead of `*`.
        // Ordered: the consumer receives every event of the aggregates it handles (a referral
        // id's dispatches and withdrawals, a handover id's one event).
        // NATS before 2.10 ignores `filter_subjects` and delivers the whole stream; the
        // handlers then skip the event types that are not the county's.
        let clocks = clocks::Clocks {
            policy: rt.time_limits.clone(),
            calendar: rt.calendar.clone(),
        };
        // Deadlines computed beyond the calendar years then loaded are recomputed with the
        // calendar loaded now (a year added since moves them).
        clocks.recompute_provisional(&rt.db, &rt.outbox).await?;
        // Referrals and handovers addressed to any department, from every town's brigade.
        rt.consume::<inbound::FromBrigade, _>(consume::BrigadeEvents {
            outbox: rt.outbox.clone(),
            evidence: liandong_evidence::EvidenceStore::from_config(&rt.cfg)?,
            clocks: clocks.clone(),
            keys: rt.bus.keyring.registry.clone(),
        });
        // The joint meeting's tasks for any department, and the chair's answers to extension
        // requests.
        rt.consume::<inbound::FromBoard, _>(consume::BoardEvents {
            clocks: clocks.clone(),
        });
        // The departments' clocks: every process watches, the database decides who reports.
        rt.spawn(clocks::watch(
            rt.db.clone(),
            rt.outbox.clone(),
            rt.clock.clone(),
            std::time::Duration::from_millis(rt.cfg.clock_check_ms.max(10)),
            rt.stop.clone(),
        ));
        // The legal review's answers on the departments' decisions, each review's in its order.
        rt.consume::<inbound::FromReview, _>(review_answer::ReviewEvents {
            outbox: rt.outbox.clone(),
        });
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
        let api = context::Api::new(&self.rt);
        let svc = CountyServiceServer::with_interceptor(api, self.rt.authenticate());
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
