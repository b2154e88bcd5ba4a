//! The read model: the dashboard's figures, kept from the event streams alone. It observes
//! every source's stream (it is no event's receiver, answers no receipts and publishes
//! nothing) and serves `DashboardService` to the gateway.
#![forbid(unsafe_code)]

mod api;
mod consume;
// Public so that the integration tests read rows through the same functions the service does.
pub mod store;

use std::future::Future;
use std::net::SocketAddr;

use liandong_config::Config;
use liandong_config::clock::SharedClock;
use liandong_proto::readmodel::v1::dashboard_service_server::DashboardServiceServer;
use liandong_runtime::Runtime;
use liandong_store::Migrations;
use liandong_topology::{Service, inbound::readmodel as inbound};

static PG: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");
static SQLITE: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");

/// The service's own tables, on each backend.
const OWN: Migrations = Migrations {
    postgres: &PG,
    sqlite: &SQLITE,
};

/// Every table of the service's database: the bus's, its feature crates' and its own, applied
/// as one history in the order of their versions.
pub const MIGRATIONS: &[&Migrations] = &[&liandong_bus::MIGRATIONS, &OWN];

/// The gRPC name readiness is reported under.
pub const SERVICE_NAME: &str = "liandong.readmodel.v1.DashboardService";

/// The name it connects, stores and dead-letters under.
pub const NAME: &str = "readmodel";

/// The read model, built and bound, ready to run.
pub struct Application {
    rt: Runtime,
    listener: tokio::net::TcpListener,
}

impl Application {
    /// Opens the store, connects the bus, starts one consumer per observed stream, and binds
    /// the gRPC port.
    pub async fn build(cfg: Config, clock: SharedClock) -> anyhow::Result<Application> {
        let addr = cfg.readmodel_addr;
        let mut rt = Runtime::start(cfg, Service::Readmodel, MIGRATIONS, clock).await?;
        // One durable per stream with the source's whole wildcard: every event type reaches
        // a handler that matches each one, and skips what changes no figure. No order is kept:
        // the handlers' writes do not depend on it.
        rt.consume::<inbound::FromBrigade, _>(consume::Figures);
        rt.consume::<inbound::FromBoard, _>(consume::Figures);
        rt.consume::<inbound::FromCounty, _>(consume::Figures);
        rt.consume::<inbound::FromReview, _>(consume::Figures);
        rt.consume::<inbound::FromDisclosure, _>(consume::Figures);
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
        let service = DashboardServiceServer::with_interceptor(api, self.rt.authenticate());
        let routes = tonic::service::Routes::new(service);
        self.rt
            .serve(self.listener, SERVICE_NAME, routes, shutdown)
            .await
    }
}
