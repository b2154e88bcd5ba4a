//! The review service (重大执法决定法制审核): major decisions wait here for their legal
//! reviewer — the town judicial office, or a department's own legal office.
#![forbid(unsafe_code)]

mod api;
mod consume;
// Public so that the integration tests read rows through the same functions the service does.
pub mod store;

use std::future::Future;
use std::net::SocketAddr;

use liandong_config::Config;
use liandong_config::clock::SharedClock;
use liandong_proto::review::v1::public_registry_service_server::PublicRegistryServiceServer;
use liandong_proto::review::v1::review_service_server::ReviewServiceServer;
use liandong_runtime::Runtime;
use liandong_store::Migrations;
use liandong_topology::{Service, inbound::review as inbound};

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
pub const SERVICE_NAME: &str = "liandong.review.v1.ReviewService";

/// The review service, built and bound, ready to run.
pub struct Application {
    rt: Runtime,
    listener: tokio::net::TcpListener,
}

impl Application {
    /// Opens the store, connects the bus, starts the consumers, and binds the gRPC port.
    pub async fn build(cfg: Config, clock: SharedClock) -> anyhow::Result<Application> {
        let addr = cfg.review_addr;
        let mut rt = Runtime::start(cfg, Service::Review, MIGRATIONS, clock).await?;
        recompute_due_dates(&rt).await?;
        // The brigades' and the departments' review requests and their registries' changes.
        let handler = consume::Events {
            calendar: rt.calendar.clone(),
        };
        rt.consume::<inbound::FromBrigade, _>(handler.clone());
        rt.consume::<inbound::FromCounty, _>(handler);
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
        let svc = ReviewServiceServer::with_interceptor(api, self.rt.authenticate());
        // Who read the case files and personal data this service holds, for the judicial office.
        // The public list of certified officers (事前公开) has no interceptor: it needs no caller.
        let public = PublicRegistryServiceServer::new(api::Api::new(&self.rt));
        let routes = tonic::service::Routes::new(svc)
            .add_service(liandong_access_log::service(
                self.rt.db.clone(),
                self.rt.authenticate(),
            ))
            .add_service(public);
        self.rt
            .serve(self.listener, SERVICE_NAME, routes, shutdown)
            .await
    }
}

/// Every pending review's time limit is recomputed at start with the calendar then loaded,
/// so a year added with `liandong calendar add` replaces a provisional deadline.
async fn recompute_due_dates(rt: &Runtime) -> anyhow::Result<()> {
    use liandong_domain::review::{EXTENSION_WORKING_DAYS, REVIEW_WORKING_DAYS};
    for (id, requested_at, extended) in store::pending(&rt.db).await? {
        let days = REVIEW_WORKING_DAYS + if extended { EXTENSION_WORKING_DAYS } else { 0 };
        let due = rt.calendar.add_working_days(requested_at, days);
        liandong_runtime::note_deadline(&due, "legal review time limit");
        store::set_due(&rt.db, &id, due.due, &due.last_day.to_string()).await?;
    }
    Ok(())
}
