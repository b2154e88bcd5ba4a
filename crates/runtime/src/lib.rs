//! A service's running parts: its database, its bus connection, its outbox and relay, its
//! consumers, and their orderly shutdown.
#![forbid(unsafe_code)]

use std::future::Future;
use std::path::Path;
use std::sync::Arc;

use liandong_domain::calendar::{Calendar, Overlaid, YearCalendar};
use liandong_domain::catalogue::Catalogue;
use liandong_domain::procedure::ProcedureRules;
use liandong_domain::time_limits::TimeLimits;
use liandong_domain::towns::Towns;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use liandong_bus::{
    Apply, Bus, Consumer, ConsumerSpec, Handler, Outbox, ReceiptHandler, Relay, Source, Typed,
};
use liandong_config::Config;
use liandong_config::clock::SharedClock;
use liandong_store::{Db, Migrations};
use liandong_topology::{ConsumerDecl, Inbound, Service};

/// Reads the catalogue named in the configuration, or the shipped default.
pub fn load_catalogue(cfg: &Config) -> anyhow::Result<Catalogue> {
    match &cfg.catalogue {
        Some(path) => {
            let text = std::fs::read_to_string(path).map_err(|e| {
                anyhow::anyhow!("cannot read the catalogue {}: {e}", path.display())
            })?;
            Ok(Catalogue::from_toml_str(
                &text,
                &path.display().to_string(),
            )?)
        }
        None => Ok(Catalogue::default_catalogue()),
    }
}

/// Reads the town registry named in the configuration, or the shipped one; a broken file stops
/// the process at start, naming the file, the town and the field.
pub fn load_towns(cfg: &Config) -> anyhow::Result<Towns> {
    match &cfg.towns {
        Some(path) => {
            let text = std::fs::read_to_string(path).map_err(|e| {
                anyhow::anyhow!("cannot read the town registry {}: {e}", path.display())
            })?;
            Ok(Towns::from_toml_str(&text, &path.display().to_string())?)
        }
        None => Ok(Towns::shipped()),
    }
}

/// Reads the time-limits policy named in the configuration, or the shipped default.
pub fn load_time_limits(cfg: &Config) -> anyhow::Result<TimeLimits> {
    match &cfg.time_limits {
        Some(path) => {
            let text = std::fs::read_to_string(path).map_err(|e| {
                anyhow::anyhow!("cannot read the time limits {}: {e}", path.display())
            })?;
            Ok(TimeLimits::from_toml_str(
                &text,
                &path.display().to_string(),
            )?)
        }
        None => Ok(TimeLimits::shipped()),
    }
}

/// Reads the procedural standards named in the configuration, or the shipped ones.
pub fn load_procedure(cfg: &Config) -> anyhow::Result<ProcedureRules> {
    match &cfg.procedure {
        Some(path) => {
            let text = std::fs::read_to_string(path).map_err(|e| {
                anyhow::anyhow!(
                    "cannot read the procedural standards {}: {e}",
                    path.display()
                )
            })?;
            Ok(ProcedureRules::from_toml_str(
                &text,
                &path.display().to_string(),
            )?)
        }
        None => Ok(ProcedureRules::shipped()),
    }
}

/// Where operators add calendar years: the configured folder, else `<data_dir>/calendar`.
pub fn calendar_dir(cfg: &Config) -> std::path::PathBuf {
    cfg.calendar_dir
        .clone()
        .unwrap_or_else(|| cfg.data_dir.join("calendar"))
}

/// The shipped calendar years plus every `<year>.toml` in the calendar folder. One rule says
/// which file wins when a year is both shipped and in the operator's folder: the operator's
/// (a correction), logged here at every load; two operator files for one year refuse to load.
pub fn load_calendar(cfg: &Config) -> anyhow::Result<Calendar> {
    let mut cal = Calendar::shipped();
    for said in cal.overlay(read_calendar_dir(&calendar_dir(cfg))?)? {
        match said {
            Overlaid::Added { year, file } => {
                tracing::info!(
                    year,
                    file,
                    "Calendar year loaded from the operator's folder."
                )
            }
            Overlaid::Replaced {
                year,
                file,
                shipped,
            } => tracing::warn!(
                year,
                file,
                shipped,
                "The operator's calendar file replaces the shipped schedule of this year (the operator's file wins)."
            ),
            Overlaid::SameAsShipped { year, file } => tracing::info!(
                year,
                file,
                "The operator's calendar file has the shipped schedule of this year; it is used."
            ),
        }
    }
    Ok(cal)
}

fn read_calendar_dir(dir: &Path) -> anyhow::Result<Vec<YearCalendar>> {
    let mut years = Vec::new();
    if !dir.exists() {
        return Ok(years);
    }
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.extension().is_some_and(|e| e == "toml") {
            let text = std::fs::read_to_string(&path)?;
            years.push(YearCalendar::from_toml_str(
                &text,
                &path.display().to_string(),
            )?);
        }
    }
    Ok(years)
}

/// How long requests in flight may take to finish once a service is told to stop.
const SHUTDOWN_GRACE: std::time::Duration = std::time::Duration::from_secs(5);

/// Everything a service holds while it runs.
pub struct Runtime {
    pub cfg: Config,
    /// The service's name (`brigade`, …, `readmodel`).
    pub name: &'static str,
    pub service: Service,
    /// What it publishes under; `None` for an observer, which publishes nothing.
    pub source: Option<Source>,
    pub db: Db,
    pub bus: Bus,
    pub outbox: Outbox,
    pub clock: SharedClock,
    pub catalogue: Arc<Catalogue>,
    /// The county's towns and villages, which name every body and place.
    pub towns: Arc<Towns>,
    pub calendar: Arc<Calendar>,
    /// The time limits (办理时限) the service's clocks are computed with.
    pub time_limits: Arc<TimeLimits>,
    /// The procedural standards a decision is checked against (`liandong_domain::procedure`).
    pub procedure: Arc<ProcedureRules>,
    /// Verifies callers' signed tokens with the hub's public keys.
    pub identity: Arc<liandong_grpc::identity::Verifier>,
    /// Cancelled when the service stops; consumers and the relay watch it.
    pub stop: CancellationToken,
    tasks: JoinSet<()>,
    consumers: Vec<Consumer>,
    /// The declared consumers started so far.
    started: Vec<&'static str>,
}

impl Runtime {
    /// Opens the database (migrated), connects to NATS (streams ensured), and starts the relay
    /// and the receipt consumer.
    ///
    /// A service that only reads others' events (the read model) gets no relay and no
    /// receipts: it publishes nothing and is no event's receiver (`liandong_topology`).
    pub async fn start(
        cfg: Config,
        service: Service,
        migrations: &[&Migrations],
        clock: SharedClock,
    ) -> anyhow::Result<Runtime> {
        let name = service.as_str();
        let source = service.source();
        let catalogue = Arc::new(load_catalogue(&cfg)?);
        let towns = Arc::new(load_towns(&cfg)?);
        let calendar = Arc::new(load_calendar(&cfg)?);
        let time_limits = Arc::new(load_time_limits(&cfg)?);
        let procedure = Arc::new(load_procedure(&cfg)?);
        let identity = Arc::new(liandong_grpc::identity::Verifier::from_config(&cfg)?);
        let db = Db::open(
            cfg.database_url.as_deref(),
            &cfg.data_dir,
            name,
            cfg.database_max_connections.max(1),
        )
        .await?;
        db.migrate(migrations).await?;
        let bus = Bus::connect(&cfg, name).await?;
        let outbox = match source {
            Some(source) => Outbox::new(source, bus.subjects.clone(), &catalogue.version),
            None => Outbox::observer(name, bus.subjects.clone()),
        };
        let mut rt = Runtime {
            cfg,
            name,
            service,
            source,
            db,
            bus,
            outbox,
            clock,
            catalogue,
            towns,
            calendar,
            time_limits,
            procedure,
            identity,
            stop: CancellationToken::new(),
            tasks: JoinSet::new(),
            consumers: Vec::new(),
            started: Vec::new(),
        };
        if let Some(source) = source {
            let relay = Relay::new(
                rt.db.clone(),
                rt.bus.clone(),
                rt.outbox.clone(),
                rt.clock.clone(),
            );
            rt.tasks.spawn(relay.run(rt.stop.clone()));
            let receipts = receipts_spec(&rt.bus, source);
            rt.start_consumer(receipts, ReceiptHandler);
        }
        rt.spawn(prune_inbox(
            rt.db.clone(),
            rt.clock.clone(),
            rt.cfg.bus.inbox_retention_days,
            rt.stop.clone(),
        ));
        Ok(rt)
    }

    /// The interceptor that verifies each caller's signed token.
    pub fn authenticate(&self) -> liandong_grpc::Authenticate {
        liandong_grpc::Authenticate::new(self.identity.clone())
    }

    /// Starts the consumer the topology declares for the events `E`
    /// (`liandong_topology::inbound`): the durable `<service>-from-<source>` with one filter
    /// per event the service takes. It runs until the service stops, and answers with a
    /// receipt only the events that name this service among their receivers.
    pub fn consume<E: Inbound, H: Handler<E>>(&mut self, handler: H) {
        let decl = E::CONSUMER;
        assert_eq!(
            decl.service, self.service,
            "the {} service started the {}'s consumer {}",
            self.service, decl.service, decl.durable
        );
        self.started.push(decl.durable);
        let spec = declared_spec(&self.bus, decl);
        self.start_consumer(spec, Typed::<E, H>::new(handler));
    }

    fn start_consumer<A: Apply>(&mut self, spec: ConsumerSpec, apply: A) {
        let consumer = Consumer::new(
            self.db.clone(),
            self.bus.clone(),
            self.outbox.clone(),
            self.clock.clone(),
            spec,
        );
        self.consumers.push(consumer.clone());
        self.tasks.spawn(consumer.run(apply, self.stop.clone()));
    }

    /// Fails when the service has not started every consumer the topology declares for it: an
    /// event routed to it would wait in its stream for ever.
    fn check_consumers(&self) -> anyhow::Result<()> {
        let missing: Vec<&str> = ConsumerDecl::of(self.service)
            .map(|d| d.durable)
            .filter(|d| !self.started.contains(d))
            .collect();
        anyhow::ensure!(
            missing.is_empty(),
            "the {} service did not start the consumers the topology declares for it: {}",
            self.service,
            missing.join(", ")
        );
        Ok(())
    }

    /// The consumers started so far, for their statistics.
    pub fn consumers(&self) -> &[Consumer] {
        &self.consumers
    }

    /// Spawns a task that ends when the service stops.
    pub fn spawn<F: Future<Output = ()> + Send + 'static>(&mut self, f: F) {
        self.tasks.spawn(f);
    }

    /// Stops consumers (each finishes the message in hand), lets the relay flush the outbox,
    /// and closes the database.
    ///
    /// Each step is bounded: with NATS unreachable a final publish or flush would wait for a
    /// reconnection that may never come, and a service asked to stop must stop. What is cut
    /// short is safe: unpublished rows stay in the outbox and unacknowledged messages are
    /// redelivered.
    pub async fn shutdown(mut self) {
        use std::time::Duration;
        self.stop.cancel();
        let joined = tokio::time::timeout(Duration::from_secs(10), async {
            while self.tasks.join_next().await.is_some() {}
        })
        .await;
        if joined.is_err() {
            tracing::warn!(service = %self.name, "Some tasks did not stop within 10 s; they are aborted (their work is redelivered or re-sent).");
            self.tasks.abort_all();
            while self.tasks.join_next().await.is_some() {}
        }
        match tokio::time::timeout(Duration::from_secs(3), self.bus.client.flush()).await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => tracing::warn!(error = %e, "NATS could not be flushed at shutdown."),
            Err(_) => tracing::warn!("NATS could not be flushed within 3 s at shutdown."),
        }
        if tokio::time::timeout(Duration::from_secs(5), self.db.close())
            .await
            .is_err()
        {
            tracing::warn!("The database pool did not close within 5 s.");
        }
        tracing::info!(service = %self.name, "Stopped.");
    }
}

/// The durable of a declared consumer on this server: filtered to the events it takes, or on
/// a NATS server before 2.10, which ignores several filters on one consumer, to the source's
/// whole stream (the consumer then skips the events it does not take, which are never of an
/// aggregate it applies in order: `liandong_topology` orders only aggregates taken whole).
pub fn declared_spec(bus: &Bus, decl: &ConsumerDecl) -> ConsumerSpec {
    let filters = decl.filters(&bus.subjects);
    let filter_subjects = if filters.len() <= 1 || bus.takes_several_filters() {
        filters
    } else {
        vec![bus.subjects.source_wildcard(decl.source)]
    };
    ConsumerSpec {
        durable: decl.durable.to_owned(),
        stream: bus.stream_name(decl.source.as_str()),
        filter_subjects,
    }
}

/// The durable through which `source` reads the receipts its receivers answer.
pub fn receipts_spec(bus: &Bus, source: Source) -> ConsumerSpec {
    ConsumerSpec {
        durable: format!("{source}-receipts"),
        stream: bus.stream_name("receipts"),
        filter_subjects: vec![bus.subjects.receipts_for(source)],
    }
}

/// Makes every stream of the hub and every durable consumer the topology declares, with the
/// configured settings, as the operator's administrative NATS user (`liandong nats provision`);
/// safe to run again after a change. Returns the durables it made or updated.
pub async fn provision(bus: &Bus) -> anyhow::Result<Vec<String>> {
    bus.ensure_streams().await?;
    let mut specs: Vec<ConsumerSpec> = liandong_topology::CONSUMERS
        .iter()
        .map(|decl| declared_spec(bus, decl))
        .collect();
    specs.extend(Source::ALL.into_iter().map(|s| receipts_spec(bus, s)));
    let mut made = Vec::new();
    for spec in specs {
        liandong_bus::create_durable(bus, &spec).await?;
        made.push(format!("{} on {}", spec.durable, spec.stream));
    }
    Ok(made)
}

/// Runs a service's clock watcher until `stop`: `check` handles one batch of due clocks in one
/// state change (a `liandong_bus::Change`, which wakes the relay for the events it wrote) and says
/// how many it took; batches follow each other until one finds nothing, then the watcher looks again after `every`. A
/// failure is logged as `what` could not be checked, and tried again at the next look.
pub async fn watch_clocks<F, Fut>(
    what: &'static str,
    every: std::time::Duration,
    stop: CancellationToken,
    mut check: F,
) where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<usize, sqlx::Error>>,
{
    loop {
        while !stop.is_cancelled() {
            match check().await {
                Ok(n) if n > 0 => {}
                Ok(_) => break,
                Err(e) => {
                    tracing::warn!(error = %e, clocks = what, "The clocks could not be checked; trying again later.");
                    break;
                }
            }
        }
        tokio::select! {
            _ = stop.cancelled() => return,
            _ = tokio::time::sleep(every) => {}
        }
    }
}

/// Deletes inbox rows older than the retention, once an hour. The retention is far longer
/// than any re-send horizon, so an event re-sent late still finds its row and stays single.
async fn prune_inbox(db: Db, clock: SharedClock, retention_days: i64, stop: CancellationToken) {
    loop {
        let cutoff = clock.now() - chrono::Duration::days(retention_days);
        let r: Result<u64, sqlx::Error> = liandong_store::with_db!(&db, |p| sqlx::query(
            "DELETE FROM inbox WHERE received_at < $1"
        )
        .bind(cutoff)
        .execute(p)
        .await
        .map(|r| r.rows_affected()));
        match r {
            Ok(0) => {}
            Ok(n) => tracing::info!(rows = n, "Pruned old inbox rows."),
            Err(e) => tracing::warn!(error = %e, "Could not prune the inbox."),
        }
        tokio::select! {
            _ = stop.cancelled() => return,
            _ = tokio::time::sleep(std::time::Duration::from_secs(3600)) => {}
        }
    }
}

/// Raises the operator alert for a deadline computed beyond the loaded calendar years: it
/// stands, judged by weekends alone, until the year is loaded (`liandong calendar add`) and
/// the service restarts, which recomputes it. No action is ever refused for it.
pub fn note_deadline(deadline: &liandong_domain::calendar::Deadline, what: &str) {
    if deadline.provisional {
        liandong_telemetry::metrics::metrics()
            .provisional_deadlines
            .inc();
        tracing::warn!(
            what,
            last_day = %deadline.last_day,
            "A deadline lies beyond the loaded calendar years and was computed from weekends alone; load that year's calendar."
        );
    }
}

/// Resolves on SIGTERM or Ctrl-C.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {}
        _ = term => {}
    }
}

impl Runtime {
    /// Serves `routes` (with gRPC health and reflection added) on `listener` until `shutdown`
    /// resolves; then stops taking requests, lets in-flight work finish, and shuts down.
    pub async fn serve(
        mut self,
        listener: tokio::net::TcpListener,
        service_name: &'static str,
        routes: tonic::service::Routes,
        shutdown: impl Future<Output = ()>,
    ) -> anyhow::Result<()> {
        self.check_consumers()?;
        // A broken TLS configuration stops the service before it serves anything.
        let acceptor = match &self.cfg.grpc_tls {
            Some(tls) => Some(liandong_grpc::tls::acceptor(tls)?),
            None => None,
        };
        let (reporter, health, reflection) = liandong_grpc::health_and_reflection();
        self.spawn(liandong_grpc::report_readiness(
            reporter,
            service_name,
            self.db.clone(),
            self.bus.clone(),
            self.stop.clone(),
        ));
        // `/metrics` over HTTP/1.1 on the same port, beside gRPC, for Prometheus.
        let router = routes
            .add_service(health)
            .add_service(reflection)
            .into_axum_router()
            .layer(axum::middleware::from_fn(
                liandong_telemetry::metrics::observe_grpc,
            ))
            .merge(liandong_telemetry::metrics::router());
        let routes = tonic::service::Routes::from(router);
        let addr = listener.local_addr()?;
        tracing::info!(service = %self.name, %addr, "Serving gRPC.");
        let stopping = CancellationToken::new();
        let signal = {
            let stopping = stopping.clone();
            async move {
                shutdown.await;
                tracing::info!("Stopping: no new requests; finishing those in flight.");
                stopping.cancel();
            }
        };
        let builder = tonic::transport::Server::builder()
            .accept_http1(true)
            .add_routes(routes);
        // With `grpc_tls`, every connection is TLS (a plaintext client is refused at the
        // handshake); the acceptor offers HTTP/1.1 beside HTTP/2, so `/metrics` stays open to
        // scrapers over TLS.
        let server = match acceptor {
            Some(acceptor) => {
                tracing::info!(service = %self.name, "gRPC over TLS.");
                futures::future::Either::Left(builder.serve_with_incoming_shutdown(
                    liandong_grpc::tls::incoming(listener, acceptor),
                    signal,
                ))
            }
            None => futures::future::Either::Right(builder.serve_with_incoming_shutdown(
                tokio_stream::wrappers::TcpListenerStream::new(listener),
                signal,
            )),
        };
        // Idle client connections would hold a graceful shutdown open for ever: give requests
        // in flight a few seconds, then stop regardless.
        let served = tokio::select! {
            r = server => r.map_err(anyhow::Error::from),
            _ = async {
                stopping.cancelled().await;
                tokio::time::sleep(SHUTDOWN_GRACE).await;
            } => {
                tracing::warn!("Requests were still open after the grace period; stopping anyway.");
                Ok(())
            }
        };
        self.shutdown().await;
        served
    }
}

#[cfg(test)]
mod tests {
    use liandong_domain::calendar::DayKind;

    use super::*;

    /// An operator's corrected file of a shipped year is used, not silently ignored; two
    /// operator files of one year refuse to load.
    #[test]
    fn the_operators_calendar_file_wins_over_the_shipped_year() {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos();
        let dir =
            std::env::temp_dir().join(format!("liandong-calendar-{}-{nanos}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let shipped = include_str!("../../../deploy/data/calendar/2026.toml");
        let corrected = shipped.replacen(
            "holidays = [\n",
            "holidays = [\n    { name = \"更正\", from = 2026-12-31, to = 2026-12-31 },\n",
            1,
        );
        assert_ne!(corrected, shipped);
        std::fs::write(dir.join("2026.toml"), &corrected).unwrap();
        let cfg = Config {
            calendar_dir: Some(dir.clone()),
            ..Config::default()
        };
        let day = chrono::NaiveDate::from_ymd_opt(2026, 12, 31).unwrap();
        assert_eq!(
            Calendar::shipped().is_working_day(day),
            DayKind::Working,
            "a Thursday in the shipped schedule"
        );
        let cal = load_calendar(&cfg).expect("the corrected year loads");
        assert_eq!(cal.is_working_day(day), DayKind::Rest);
        std::fs::write(dir.join("2026-again.toml"), shipped).unwrap();
        let e = load_calendar(&cfg).unwrap_err();
        assert!(e.to_string().contains("already loaded"), "{e}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
