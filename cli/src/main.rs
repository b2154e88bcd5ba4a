//! The `liandong` binary: runs any service as its own process, and carries the operator's commands.

mod demo;
mod identity;
mod nats;
mod report;

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use anyhow::Context;
use clap::{Parser, Subcommand, ValueEnum};
use liandong_config::Config;
use liandong_domain::calendar::YearCalendar;
use liandong_domain::catalogue::Catalogue;
use liandong_domain::towns::Towns;
use liandong_runtime::shutdown_signal;

#[derive(Parser)]
#[command(
    name = "liandong",
    version,
    about = "联动 Liandong: the township enforcement coordination hub"
)]
struct Cli {
    /// A configuration file (TOML); environment variables override it.
    #[arg(long, global = true, env = "LIANDONG_CONFIG")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
enum Service {
    Brigade,
    Board,
    County,
    /// Public disclosure of enforcement decisions.
    Disclosure,
    /// The legal review of major decisions.
    Review,
    /// The read model: the dashboard's figures from the event streams.
    Readmodel,
    /// The HTTP/JSON gateway in front of the other three.
    Gateway,
}

impl Service {
    const ALL: [Service; 7] = [
        Service::Brigade,
        Service::Board,
        Service::County,
        Service::Disclosure,
        Service::Review,
        Service::Readmodel,
        Service::Gateway,
    ];

    fn name(self) -> &'static str {
        match self {
            Service::Brigade => "brigade",
            Service::Board => "board",
            Service::County => "county",
            Service::Disclosure => "disclosure",
            Service::Review => "review",
            Service::Readmodel => "readmodel",
            Service::Gateway => "gateway",
        }
    }
}

#[derive(Subcommand)]
enum Command {
    /// Runs one service in this process until SIGTERM or Ctrl-C.
    Serve { service: Service },
    /// Runs every service, each as its own child process, until Ctrl-C.
    Up {
        /// Replays the demo once the services are ready.
        #[arg(long)]
        demo: bool,
    },
    /// Replays the demo cases against running services.
    Demo,
    /// The catalogue of enforcement matters.
    Catalogue {
        #[command(subcommand)]
        command: CatalogueCommand,
    },
    /// The registry of the county's towns and villages.
    Towns {
        #[command(subcommand)]
        command: TownsCommand,
    },
    /// The working-day calendar.
    Calendar {
        #[command(subcommand)]
        command: CalendarCommand,
    },
    /// The hub's signing keys: make, rotate, list.
    Keys {
        #[command(subcommand)]
        command: identity::KeysCommand,
    },
    /// Signed tokens naming a caller.
    Token {
        #[command(subcommand)]
        command: identity::TokenCommand,
    },
    /// The hub's NATS users and permissions, and provisioning its streams and consumers.
    Nats {
        #[command(subcommand)]
        command: nats::NatsCommand,
    },
    /// Prints the table of every event (subject, aggregate, receivers, meaning) as declared
    /// in the topology, in Markdown.
    Topology,
    /// Reports built from the running services' records.
    Report {
        #[command(subcommand)]
        command: ReportCommand,
    },
}

#[derive(Subcommand)]
enum ReportCommand {
    /// A town's yearly enforcement report (年度行政执法情况报告) as Markdown and HTML.
    Annual {
        /// The town's 9-digit administrative division code.
        #[arg(long)]
        town: String,
        /// The Beijing calendar year.
        #[arg(long)]
        year: i32,
        /// Where the two files go; the current folder by default.
        #[arg(long, default_value = ".")]
        out: PathBuf,
    },
}

#[derive(Subcommand)]
enum CatalogueCommand {
    /// Checks a catalogue file and summarises it; exits non-zero naming file, entry and field.
    Check { file: PathBuf },
}

#[derive(Subcommand)]
enum TownsCommand {
    /// Checks a town registry file and summarises it; exits non-zero naming file, town and
    /// field.
    Check { file: PathBuf },
}

#[derive(Subcommand)]
enum CalendarCommand {
    /// Checks a year's calendar (`<year>.toml`) and adds it to the calendar folder.
    Add {
        file: PathBuf,
        /// The calendar folder; defaults to the configured one, else `<data_dir>/calendar`.
        #[arg(long)]
        dir: Option<PathBuf>,
    },
    /// Lists the years the services will load.
    List,
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let cfg = Config::load(cli.config.as_deref())?;
    // A served process sets up its own telemetry, with its name and exporter.
    let _telemetry = match cli.command {
        Command::Serve { .. } => None,
        _ => Some(liandong_telemetry::init(cfg.log_json, "cli", None)?),
    };
    match cli.command {
        Command::Serve { service } => serve_process(service, cfg),
        Command::Up { demo } => {
            // A first start on one machine: the services need public keys to verify callers.
            identity::ensure_dev_keys(&cfg)?;
            // Each service's event signing key and the key registry, made before any starts.
            let sources: Vec<&str> = liandong_bus::Source::ALL
                .iter()
                .map(|s| s.as_str())
                .collect();
            liandong_bus::signing::provision(&cfg, &sources)?;
            runtime()?.block_on(up(&cfg, cli.config.as_deref(), demo))
        }
        Command::Demo => runtime()?.block_on(demo::run(&cfg)),
        Command::Keys { command } => identity::keys(&cfg, command),
        Command::Nats { command } => match command {
            nats::NatsCommand::Users { root, prefix } => nats::users(&cfg, root, prefix),
            nats::NatsCommand::Provision => runtime()?.block_on(nats::provision(&cfg)),
        },
        Command::Topology => {
            print!("{}", liandong_topology::subject_table());
            Ok(())
        }
        Command::Token { command } => identity::token(&cfg, command),
        Command::Report {
            command: ReportCommand::Annual { town, year, out },
        } => {
            let (md, page) = runtime()?.block_on(report::annual(&cfg, &town, year, &out))?;
            println!("{}\n{}", md.display(), page.display());
            Ok(())
        }
        Command::Catalogue {
            command: CatalogueCommand::Check { file },
        } => check_catalogue(&file),
        Command::Towns {
            command: TownsCommand::Check { file },
        } => check_towns(&file),
        Command::Calendar { command } => match command {
            CalendarCommand::Add { file, dir } => add_year(&cfg, &file, dir),
            CalendarCommand::List => {
                let cal = liandong_runtime::load_calendar(&cfg)?;
                for y in cal.loaded_years() {
                    println!("{y}");
                }
                Ok(())
            }
        },
    }
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?)
}

/// Runs one service with its telemetry: spans exported when configured, the last of them
/// flushed after the service stopped.
fn serve_process(service: Service, cfg: Config) -> anyhow::Result<()> {
    let rt = runtime()?;
    // The OTLP exporter's channel lives on the runtime.
    let telemetry = rt.block_on(async {
        liandong_telemetry::init(cfg.log_json, service.name(), cfg.otlp_endpoint.as_deref())
    })?;
    let served = rt.block_on(serve(service, cfg));
    // Flushing blocks until the last spans are sent, which the runtime's tasks carry.
    // `spawn_blocking` needs the runtime's context, so it is called inside `block_on`.
    rt.block_on(async { tokio::task::spawn_blocking(move || telemetry.shutdown()).await })?;
    served
}

async fn serve(service: Service, cfg: Config) -> anyhow::Result<()> {
    tracing::info!(
        service = service.name(),
        database = %cfg.database_url.as_deref().map(liandong_config::redact_url).unwrap_or_else(|| format!("sqlite in {}", cfg.data_dir.display())),
        nats = %cfg.nats_url,
        "Starting."
    );
    let clock = liandong_config::clock::from_config(&cfg);
    match service {
        Service::Brigade => {
            liandong_brigade::Application::build(cfg, clock)
                .await?
                .run_until_stopped(shutdown_signal())
                .await
        }
        Service::Board => {
            liandong_board::Application::build(cfg, clock)
                .await?
                .run_until_stopped(shutdown_signal())
                .await
        }
        Service::County => {
            liandong_county::Application::build(cfg, clock)
                .await?
                .run_until_stopped(shutdown_signal())
                .await
        }
        Service::Disclosure => {
            liandong_disclosure::Application::build(cfg, clock)
                .await?
                .run_until_stopped(shutdown_signal())
                .await
        }
        Service::Review => {
            liandong_review::Application::build(cfg, clock)
                .await?
                .run_until_stopped(shutdown_signal())
                .await
        }
        Service::Readmodel => {
            liandong_readmodel::Application::build(cfg, clock)
                .await?
                .run_until_stopped(shutdown_signal())
                .await
        }
        Service::Gateway => {
            liandong_gateway::Application::build(cfg)
                .await?
                .run_until_stopped(shutdown_signal())
                .await
        }
    }
}

/// The first pause before a service that exited is started again; it doubles with each exit
/// in a row, up to [`MAX_RESTART_DELAY`].
const FIRST_RESTART_DELAY: Duration = Duration::from_secs(1);
const MAX_RESTART_DELAY: Duration = Duration::from_secs(30);
/// A service that exits this many times within [`EXIT_WINDOW`] keeps crashing: it is
/// reported and left down rather than started for ever.
const GIVE_UP_AFTER_EXITS: usize = 5;
const EXIT_WINDOW: Duration = Duration::from_secs(300);
/// A service that ran this long before it exited was serving: its next pause starts again
/// from [`FIRST_RESTART_DELAY`].
const RAN_WELL: Duration = Duration::from_secs(60);
/// How long a service may take to stop after SIGTERM before it is killed.
const STOP_GRACE: Duration = Duration::from_secs(20);

/// Starts `liandong serve <service>` for every service and supervises them: a service that
/// exits is started again after a pause that doubles from 1 s to 30 s while the others keep
/// serving; one that exits [`GIVE_UP_AFTER_EXITS`] times within [`EXIT_WINDOW`] is reported
/// and left down. On Ctrl-C each is sent SIGTERM and waited for.
async fn up(cfg: &Config, config: Option<&Path>, demo: bool) -> anyhow::Result<()> {
    let demo = demo.then_some(cfg);
    let exe = std::env::current_exe()?;
    let stop = tokio_util::sync::CancellationToken::new();
    // The supervisor's own figures (restarts, services given up on), for Prometheus.
    let listener = tokio::net::TcpListener::bind(cfg.supervisor_addr)
        .await
        .with_context(|| format!("cannot listen on {} (supervisor_addr)", cfg.supervisor_addr))?;
    tracing::info!(addr = %cfg.supervisor_addr, "The supervisor serves /metrics.");
    let metrics = tokio::spawn({
        let stop = stop.clone();
        async move {
            axum::serve(listener, liandong_telemetry::metrics::router())
                .with_graceful_shutdown(stop.cancelled_owned())
                .await
        }
    });
    let supervisors =
        futures::future::join_all(Service::ALL.map(|s| supervise(s, &exe, config, stop.clone())));
    let demo = async {
        if let Some(cfg) = demo {
            match demo::run(cfg).await {
                Ok(()) => print_where_to_look(cfg),
                Err(e) => tracing::error!(error = ?e, "The demo failed."),
            }
        }
        std::future::pending::<()>().await
    };
    let stopping = async {
        tokio::select! {
            _ = shutdown_signal() => tracing::info!("Stopping every service."),
            _ = demo => {}
        }
        stop.cancel();
    };
    let (outcomes, ()) = tokio::join!(supervisors, stopping);
    let failed: Vec<&str> = outcomes
        .iter()
        .zip(Service::ALL)
        .filter(|(gave_up, _)| **gave_up)
        .map(|(_, s)| s.name())
        .collect();
    if !failed.is_empty() {
        tracing::error!(services = ?failed, "These services were given up on after crashing repeatedly.");
    }
    let _ = metrics.await;
    Ok(())
}

/// Runs one service until `stop`, starting it again whenever it exits; answers whether it was
/// given up on.
async fn supervise(
    service: Service,
    exe: &Path,
    config: Option<&Path>,
    stop: tokio_util::sync::CancellationToken,
) -> bool {
    let name = service.name();
    let mut exits: std::collections::VecDeque<tokio::time::Instant> = Default::default();
    let mut delay = FIRST_RESTART_DELAY;
    loop {
        let mut cmd = tokio::process::Command::new(exe);
        if let Some(c) = config {
            cmd.arg("--config").arg(c);
        }
        cmd.arg("serve")
            .arg(name)
            .stdin(Stdio::null())
            .kill_on_drop(true);
        let started = tokio::time::Instant::now();
        let mut child = match cmd.spawn() {
            Ok(child) => child,
            Err(e) => {
                tracing::error!(service = name, error = %e, "Cannot start the service; giving up on it.");
                return true;
            }
        };
        tracing::info!(service = name, pid = child.id(), "Started.");
        let status = tokio::select! {
            _ = stop.cancelled() => {
                stop_child(name, &mut child).await;
                return false;
            }
            status = child.wait() => status,
        };
        let now = tokio::time::Instant::now();
        exits.push_back(now);
        while exits
            .front()
            .is_some_and(|t| now.duration_since(*t) > EXIT_WINDOW)
        {
            exits.pop_front();
        }
        if exits.len() >= GIVE_UP_AFTER_EXITS {
            liandong_telemetry::metrics::metrics()
                .service_given_up
                .get_or_create(&liandong_telemetry::metrics::ServiceName {
                    service: name.to_owned(),
                })
                .set(1);
            tracing::error!(
                service = name,
                ?status,
                exits = exits.len(),
                window_secs = EXIT_WINDOW.as_secs(),
                "GIVING UP on the {name} service: it exited {} times within {} s; it is left down \
                 while the others keep serving. Fix it, then restart `liandong up`.",
                exits.len(),
                EXIT_WINDOW.as_secs()
            );
            return true;
        }
        if now.duration_since(started) >= RAN_WELL {
            delay = FIRST_RESTART_DELAY;
        }
        liandong_telemetry::metrics::metrics()
            .service_restarts
            .get_or_create(&liandong_telemetry::metrics::ServiceName {
                service: name.to_owned(),
            })
            .inc();
        tracing::error!(
            service = name,
            ?status,
            restart_in_ms = delay.as_millis() as u64,
            "A service exited; starting it again while the others keep serving."
        );
        tokio::select! {
            _ = stop.cancelled() => return false,
            _ = tokio::time::sleep(delay) => {}
        }
        delay = (delay * 2).min(MAX_RESTART_DELAY);
    }
}

/// SIGTERM, so the service finishes in-flight work and flushes its outbox; killed after
/// [`STOP_GRACE`].
async fn stop_child(name: &str, child: &mut tokio::process::Child) {
    if let Some(pid) = child.id() {
        let _ = tokio::process::Command::new("kill")
            .arg("-TERM")
            .arg(pid.to_string())
            .status()
            .await;
    }
    match tokio::time::timeout(STOP_GRACE, child.wait()).await {
        Ok(status) => tracing::info!(service = name, ?status, "Stopped."),
        Err(_) => {
            tracing::warn!(
                service = name,
                "Did not stop in {} s; killing it.",
                STOP_GRACE.as_secs()
            );
            let _ = child.kill().await;
        }
    }
}

fn print_where_to_look(cfg: &Config) {
    let gw = cfg.gateway_addr;
    let town = demo::TOWN_A;
    println!();
    println!("演示数据已载入 (the demo's cases are in). Where to look:");
    println!("  public page        http://{gw}/   (行政执法公示; ?lang=en for English)");
    println!("  HTTP/JSON gateway  http://{gw}   (OpenAPI: http://{gw}/openapi.json)");
    println!("  public disclosures http://{gw}/   (English: http://{gw}/?lang=en)");
    println!(
        "  dashboard          http://{gw}/dashboard   (统计看板, the chair's and county's; ?lang=en)"
    );
    println!(
        "  a token            T=$(liandong token issue --officer demo --role viewer --town {town})"
    );
    println!(
        "  a town's cases     curl -H \"authorization: Bearer $T\" http://{gw}/v1/towns/{town}/cases"
    );
    println!(
        "  a department inbox curl -H \"authorization: Bearer $(liandong token issue --officer demo --role county_dispatcher --department forestry)\" http://{gw}/v1/departments/forestry/inbox"
    );
    println!(
        "  a town's agenda    curl -H \"authorization: Bearer $(liandong token issue --officer demo --role board_member --town {})\" 'http://{gw}/v1/towns/{}/agenda?include_decided=true'",
        demo::TOWN_B,
        demo::TOWN_B
    );
    println!(
        "  gRPC (reflection)  brigade {}, board {}, county {}",
        cfg.brigade_addr, cfg.board_addr, cfg.county_addr
    );
    println!("  data               {}", cfg.data_dir.display());
    println!("Ctrl-C stops everything.");
}

fn check_catalogue(file: &Path) -> anyhow::Result<()> {
    let text =
        std::fs::read_to_string(file).with_context(|| format!("cannot read {}", file.display()))?;
    let cat = Catalogue::from_toml_str(&text, &file.display().to_string())?;
    println!(
        "{}: version {}, {} departments, {} matters ({} in the adjudication list)",
        file.display(),
        cat.version,
        cat.departments.len(),
        cat.matters.len(),
        cat.adjudication_matters().count()
    );
    Ok(())
}

fn check_towns(file: &Path) -> anyhow::Result<()> {
    let text =
        std::fs::read_to_string(file).with_context(|| format!("cannot read {}", file.display()))?;
    let towns = Towns::from_toml_str(&text, &file.display().to_string())?;
    let county = towns.county();
    let villages: usize = towns.towns().iter().map(|t| t.villages().len()).sum();
    let with_villages = towns
        .towns()
        .iter()
        .filter(|t| !t.villages().is_empty())
        .count();
    println!(
        "{}: version {}, {} ({}), {} towns, {villages} villages in {with_villages} of them",
        file.display(),
        towns.version(),
        county.name(),
        county.code(),
        towns.towns().len(),
    );
    Ok(())
}

fn add_year(cfg: &Config, file: &Path, dir: Option<PathBuf>) -> anyhow::Result<()> {
    let text =
        std::fs::read_to_string(file).with_context(|| format!("cannot read {}", file.display()))?;
    let year = YearCalendar::from_toml_str(&text, &file.display().to_string())?;
    let dir = dir.unwrap_or_else(|| liandong_runtime::calendar_dir(cfg));
    // The operator's file of a year wins over a shipped one (a correction); the folder's
    // files must still load together (two files of one year refuse to load), or the previous
    // state is put back.
    let target = dir.join(format!("{}.toml", year.year()));
    let replaces_shipped = liandong_domain::calendar::Calendar::shipped()
        .loaded_years()
        .contains(&year.year());
    let previous = std::fs::read_to_string(&target).ok();
    let replaces_file = previous.is_some();
    std::fs::create_dir_all(&dir)?;
    std::fs::write(&target, text)?;
    let mut check = cfg.clone();
    check.calendar_dir = Some(dir.clone());
    if let Err(e) = liandong_runtime::load_calendar(&check) {
        match previous {
            Some(p) => std::fs::write(&target, p)?,
            None => std::fs::remove_file(&target)?,
        }
        return Err(e.context(format!("{} was not added", year.year())));
    }
    let what = match (replaces_file, replaces_shipped) {
        (true, _) => "replacing the file there",
        (false, true) => "replacing the shipped schedule of that year (the operator's file wins)",
        (false, false) => "a year not shipped",
    };
    println!(
        "Added {} to {}, {what}; services load it at their next start and recompute provisional deadlines.",
        year.year(),
        target.display()
    );
    Ok(())
}
