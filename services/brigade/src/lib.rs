//! The brigade service (镇综合行政执法大队): takes reports, triages them, handles in-scope
//! cases, refers out-of-scope ones, submits joint ones, and keeps copies of every result.
#![forbid(unsafe_code)]

pub mod activities;
mod api;
pub mod callback;
mod case;
mod clocks;
mod commands;
mod consume;
mod context;
mod convert;
pub mod documents;
mod dossier;
mod evidence;
mod flow;
mod law;
mod legal_review;
mod procedure;
mod record;
mod registry;
pub mod store;

use std::future::Future;
use std::net::SocketAddr;

use liandong_config::Config;
use liandong_config::clock::SharedClock;
use liandong_proto::brigade::v1::brigade_service_server::BrigadeServiceServer;
use liandong_runtime::Runtime;
use liandong_store::Migrations;
use liandong_topology::{Service, inbound::brigade as inbound};

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
pub const SERVICE_NAME: &str = "liandong.brigade.v1.BrigadeService";

/// The brigade service, built and bound, ready to run.
pub struct Application {
    rt: Runtime,
    listener: tokio::net::TcpListener,
}

impl Application {
    /// Opens the store, connects the bus, starts the consumers, and binds the gRPC port.
    pub async fn build(cfg: Config, clock: SharedClock) -> anyhow::Result<Application> {
        let addr = cfg.brigade_addr;
        // A bad evidence store configuration stops the service here rather than at a call.
        liandong_evidence::EvidenceStore::from_config(&cfg)?;
        let mut rt = Runtime::start(cfg, Service::Brigade, MIGRATIONS, clock).await?;
        // What the departments say about the brigade's referrals, handovers and joint-case
        // tasks, each referral's, task's and handover's in its order.
        rt.consume::<inbound::FromCounty, _>(consume::CountyEvents {
            outbox: rt.outbox.clone(),
        });
        // The joint meeting's decisions for the brigade, each item's in its order.
        rt.consume::<inbound::FromBoard, _>(consume::BoardEvents {
            outbox: rt.outbox.clone(),
            catalogue: rt.catalogue.clone(),
            towns: rt.towns.clone(),
        });
        // The legal review's answers on the towns' decisions, each review's in its order.
        rt.consume::<inbound::FromReview, _>(legal_review::ReviewEvents {
            outbox: rt.outbox.clone(),
            catalogue: rt.catalogue.clone(),
            towns: rt.towns.clone(),
        });
        // The 90 days of the cases the brigade opened (行政处罚法 第六十条).
        // Decision periods computed beyond the calendar years then loaded are recomputed with
        // the calendar loaded now (a year added since moves them).
        clocks::recompute_provisional(&rt.db, &rt.outbox, &rt.time_limits, &rt.calendar).await?;
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
        let api = context::Api::new(&self.rt);
        // An evidence upload carries the whole file: tonic's default of 4 MiB would refuse
        // files the evidence limit allows.
        let max_message = usize::try_from(self.rt.cfg.evidence_max_bytes)
            .unwrap_or(usize::MAX)
            .saturating_add(64 * 1024);
        let svc = tonic::service::interceptor::InterceptedService::new(
            BrigadeServiceServer::new(api).max_decoding_message_size(max_message),
            self.rt.authenticate(),
        );
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
