//! The disclosure service (行政执法公示): every decision becomes a masked disclosure, due in 7 or
//! 20 working days, published or withdrawn by the body that decided, and read by anyone.
#![forbid(unsafe_code)]

mod api;
mod consume;
mod convert;
mod events;
// Public so that the integration tests read rows through the same functions the service does.
pub mod store;

use liandong_bus::Change;
use std::future::Future;
use std::net::SocketAddr;

use liandong_config::Config;
use liandong_config::clock::SharedClock;
use liandong_proto::disclosure::v1::disclosure_service_server::DisclosureServiceServer;
use liandong_proto::disclosure::v1::public_disclosure_service_server::PublicDisclosureServiceServer;
use liandong_runtime::Runtime;
use liandong_store::Migrations;
use liandong_topology::{Service, inbound::disclosure as inbound};

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
pub const SERVICE_NAME: &str = "liandong.disclosure.v1.DisclosureService";

/// The disclosure service, built and bound, ready to run.
pub struct Application {
    rt: Runtime,
    listener: tokio::net::TcpListener,
}

impl Application {
    /// Opens the store, connects the bus, starts the consumers, and binds the gRPC port.
    pub async fn build(cfg: Config, clock: SharedClock) -> anyhow::Result<Application> {
        let addr = cfg.disclosure_addr;
        let mut rt = Runtime::start(cfg, Service::Disclosure, MIGRATIONS, clock).await?;
        recompute_provisional(&rt).await?;
        let handler = consume::Decisions {
            catalogue: rt.catalogue.clone(),
            calendar: rt.calendar.clone(),
            outbox: rt.outbox.clone(),
        };
        // Decisions reach the disclosure service as one of their receivers, so a decision the
        // broker loses is re-sent until it is here. Each event stands alone, so no order is
        // kept.
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
        let officers =
            DisclosureServiceServer::with_interceptor(api.clone(), self.rt.authenticate());
        // The public service has no interceptor: reading published disclosures needs no caller.
        let public = PublicDisclosureServiceServer::new(api);
        let routes = tonic::service::Routes::new(officers).add_service(public);
        self.rt
            .serve(self.listener, SERVICE_NAME, routes, shutdown)
            .await
    }
}

/// Due dates computed beyond the loaded calendar years are recomputed at every start, so a
/// year loaded with `liandong calendar add` takes effect at the next restart.
async fn recompute_provisional(rt: &Runtime) -> anyhow::Result<()> {
    for store::ProvisionalRow {
        disclosure_id: id,
        decided_at,
        class,
    } in store::provisional(&rt.db).await?
    {
        let due = liandong_domain::disclosure::publication_due(&rt.calendar, decided_at, class);
        liandong_runtime::note_deadline(&due, "disclosure due date");
        // The new due date and its event commit together.
        let now = rt.clock.now();
        let mut tx = Change::begin(&rt.db, &rt.outbox).await?;
        store::set_due(&mut tx, &id, due.due, due.provisional).await?;
        if let Some(row) = store::get_in_tx(&mut tx, &id).await? {
            events::status_changed(&mut tx, &rt.outbox, now, &row, None).await?;
        }
        tx.commit().await?;
    }
    Ok(())
}
