//! The read model: the dashboard's figures, kept from the event streams alone. It observes
//! every source's stream (it is no event's receiver, answers no receipts and publishes
//! nothing) and serves `DashboardService` to the gateway.
#![forbid(unsafe_code)]

mod api;
mod consume;

use std::future::Future;
use std::net::SocketAddr;

use liandong_bus::{ConsumerSpec, Source};
use liandong_config::Config;
use liandong_config::clock::SharedClock;
use liandong_proto::readmodel::v1::dashboard_service_server::DashboardServiceServer;
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
pub const MIGRATIONS: &[&Migrations] = &[&liandong_bus::MIGRATIONS, &OWN];

/// The gRPC name readiness is reported under.
pub const SERVICE_NAME: &str = "liandong.readmodel.v1.DashboardService";

/// The name it connects, stores and dead-letters under.
pub const NAME: &str = "readmodel";

/// The streams it reads: every source that publishes facts the figures count.
const OBSERVED: [Source; 5] = [
    Source::Brigade,
    Source::Board,
    Source::County,
    Source::Review,
    Source::Disclosure,
];

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
        let mut rt = Runtime::start_observer(cfg, NAME, &MIGRATIONS, clock).await?;
        // One durable per stream with the source's whole wildcard: every event type, present
        // and future, reaches the handler, which skips what changes no figure. No order is
        // kept: the handler's writes do not depend on it.
        for source in OBSERVED {
            let spec = ConsumerSpec {
                durable: format!("{NAME}-from-{source}"),
                stream: rt.bus.stream_name(source.as_str()),
                filter_subjects: vec![rt.bus.subjects.source_wildcard(source)],
                ordered: false,
            };
            rt.consume(spec, consume::Figures);
        }
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
