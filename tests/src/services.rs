//! The services of a test hub, run one of two ways:
//!
//! - **in the test process** (the default): each service's `Application` is built and run on
//!   a runtime of the hub's own, exactly as `liandong serve <service>` builds and runs it,
//!   with its real gRPC port, its own database and the shared NATS server. Starting seven
//!   services costs no process and no second copy of the code, and a restart is a clean stop
//!   and a fresh build from the configuration file.
//! - **as real processes** (`liandong serve <service>`): for what only a process has, a kill
//!   with SIGKILL, its own metrics registry and its own telemetry exporter. The fault suite,
//!   the tracing and metrics tests and the NATS permission tests run this way.
//!
//! Either way every service writes its log into the hub's data folder, and a failing test
//! shows the tail of each.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use liandong_config::Config;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

/// How a hub's services run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// On a runtime inside the test process.
    InProcess,
    /// Each as its own `liandong serve` process.
    Processes,
}

/// One running service.
enum Running {
    Process(Child),
    Task {
        stop: CancellationToken,
        done: tokio::task::JoinHandle<()>,
    },
}

/// The services of one hub, and the runtime the in-process ones run on.
pub(crate) struct Services {
    mode: Mode,
    config_file: PathBuf,
    data_dir: PathBuf,
    /// What the kept logs are named by (the hub's subject root).
    label: String,
    running: Vec<(&'static str, Running)>,
    /// The in-process services' runtime; `None` with processes.
    runtime: Option<tokio::runtime::Runtime>,
}

/// How long a service stopped gracefully may take before it is stopped regardless.
const STOP_WAIT: Duration = Duration::from_secs(10);

impl Services {
    pub(crate) fn new(
        mode: Mode,
        config_file: PathBuf,
        data_dir: PathBuf,
        label: String,
    ) -> Services {
        let runtime = (mode == Mode::InProcess).then(|| hub_runtime(&data_dir.join("hub.log")));
        Services {
            mode,
            config_file,
            data_dir,
            label,
            running: Vec::new(),
            runtime,
        }
    }

    pub(crate) fn mode(&self) -> Mode {
        self.mode
    }

    /// Starts `service` (it reads the configuration file as it is now).
    pub(crate) fn start(&mut self, service: &'static str) {
        let running = self.launch(service, false);
        self.running.push((service, running));
    }

    fn launch(&self, service: &'static str, append_log: bool) -> Running {
        match &self.runtime {
            None => Running::Process(spawn(
                &self.config_file,
                &self.data_dir,
                service,
                append_log,
            )),
            Some(rt) => {
                let stop = CancellationToken::new();
                let cfg = load_config(&self.config_file);
                let shutdown = stop.clone().cancelled_owned();
                let done = rt.spawn(async move {
                    // Made on the hub's thread, where its log is the default: every line of
                    // the service names it.
                    let span = tracing::info_span!("service", name = service);
                    async {
                        if let Err(e) = serve(service, cfg, shutdown).await {
                            tracing::error!(
                                error = format!("{e:#}"),
                                "The service stopped with an error."
                            );
                        }
                    }
                    .instrument(span)
                    .await
                });
                Running::Task { stop, done }
            }
        }
    }

    fn find(&mut self, service: &str) -> &mut Running {
        &mut self
            .running
            .iter_mut()
            .find(|(s, _)| *s == service)
            .unwrap_or_else(|| panic!("{service} is not a service of this hub"))
            .1
    }

    /// Stops `service` cleanly (SIGTERM, or its shutdown signal in process) and waits for it.
    pub(crate) async fn stop(&mut self, service: &str) {
        stop_one(self.find(service)).await;
    }

    /// Starts `service` again after [`Services::stop`] or [`Services::kill9`], keeping its log.
    pub(crate) fn start_again(&mut self, service: &'static str) {
        let running = self.launch(service, true);
        *self.find(service) = running;
    }

    /// Kills `service` with SIGKILL: only a process can be killed like that.
    pub(crate) fn kill9(&mut self, service: &str) {
        assert_eq!(
            self.mode,
            Mode::Processes,
            "kill -9 needs the services as processes: start the hub with TestHub::start_processes"
        );
        if let Running::Process(child) = self.find(service) {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Stops every service at once and waits for each.
    pub(crate) async fn stop_all(&mut self) {
        // SIGTERM to every process first: each takes up to its grace period to drain.
        for (_, running) in &mut self.running {
            match running {
                Running::Process(child) => {
                    let _ = Command::new("kill")
                        .arg("-TERM")
                        .arg(child.id().to_string())
                        .status();
                }
                Running::Task { stop, .. } => stop.cancel(),
            }
        }
        for (_, running) in &mut self.running {
            stop_one(running).await;
        }
        self.keep_logs();
        self.running.clear();
        if let Some(rt) = self.runtime.take() {
            rt.shutdown_background();
        }
    }

    /// The log files of the running services.
    fn logs(&self) -> Vec<(String, PathBuf)> {
        match self.mode {
            Mode::InProcess => vec![("hub".into(), self.data_dir.join("hub.log"))],
            Mode::Processes => self
                .running
                .iter()
                .map(|(s, _)| ((*s).to_owned(), self.data_dir.join(format!("{s}.log"))))
                .collect(),
        }
    }

    /// With `LIANDONG_TEST_KEEP_LOGS=<dir>`, copies every log there as `<subject root>-<name>.log`,
    /// passed or failed: a rare failure is read against a passing run's.
    fn keep_logs(&self) {
        let Ok(dir) = std::env::var("LIANDONG_TEST_KEEP_LOGS") else {
            return;
        };
        for (name, log) in self.logs() {
            let _ = std::fs::copy(&log, format!("{dir}/{}-{name}.log", self.label));
        }
    }
}

impl Drop for Services {
    fn drop(&mut self) {
        self.keep_logs();
        // A failing test shows what the services said, since their data folder goes with it.
        if std::thread::panicking() {
            for (name, log) in self.logs() {
                let text = std::fs::read_to_string(&log)
                    .unwrap_or_else(|e| format!("(cannot read {}: {e})", log.display()));
                // Backtrace frames (indented) say less than the error above them.
                let tail: Vec<&str> = text
                    .lines()
                    .filter(|l| !l.starts_with(' '))
                    .rev()
                    .take(60)
                    .collect();
                eprintln!("----- last lines of {name}.log -----");
                for line in tail.into_iter().rev() {
                    eprintln!("{line}");
                }
            }
        }
        for (_, running) in &mut self.running {
            if let Running::Process(child) = running {
                let _ = child.kill();
                let _ = child.wait();
            }
        }
        // Dropping a runtime inside another one's task is refused; this one is let go.
        if let Some(rt) = self.runtime.take() {
            rt.shutdown_background();
        }
    }
}

async fn stop_one(running: &mut Running) {
    match running {
        Running::Process(child) => terminate(child).await,
        Running::Task { stop, done } => {
            stop.cancel();
            if tokio::time::timeout(STOP_WAIT, &mut *done).await.is_err() {
                done.abort();
                let _ = (&mut *done).await;
            }
        }
    }
}

/// The configuration a `liandong serve` process would read from `file`, without the
/// database and NATS addresses of the test process's environment (a process is started
/// without them, too).
fn load_config(file: &Path) -> Config {
    let text = std::fs::read_to_string(file).expect("the hub's configuration file");
    let mut cfg: Config = toml::from_str(&text).expect("the hub's configuration parses");
    cfg.apply_env(|k| {
        if k == "DATABASE_URL" || k == "NATS_URL" {
            None
        } else {
            std::env::var(k).ok()
        }
    })
    .expect("the environment's overrides apply");
    cfg
}

/// Builds and runs one service as `liandong serve <service>` does, until `shutdown`.
async fn serve(
    service: &str,
    cfg: Config,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let clock = liandong_config::clock::from_config(&cfg);
    match service {
        "brigade" => {
            liandong_brigade::Application::build(cfg, clock)
                .await?
                .run_until_stopped(shutdown)
                .await
        }
        "board" => {
            liandong_board::Application::build(cfg, clock)
                .await?
                .run_until_stopped(shutdown)
                .await
        }
        "county" => {
            liandong_county::Application::build(cfg, clock)
                .await?
                .run_until_stopped(shutdown)
                .await
        }
        "disclosure" => {
            liandong_disclosure::Application::build(cfg, clock)
                .await?
                .run_until_stopped(shutdown)
                .await
        }
        "review" => {
            liandong_review::Application::build(cfg, clock)
                .await?
                .run_until_stopped(shutdown)
                .await
        }
        "readmodel" => {
            liandong_readmodel::Application::build(cfg, clock)
                .await?
                .run_until_stopped(shutdown)
                .await
        }
        "gateway" => {
            liandong_gateway::Application::build(cfg)
                .await?
                .run_until_stopped(shutdown)
                .await
        }
        other => anyhow::bail!("no service {other}"),
    }
}

/// The runtime a hub's in-process services run on: every thread of it logs to `log`, with
/// the filter a service process would have (`LIANDONG_TEST_LOG`, or `info,sqlx=warn`).
fn hub_runtime(log: &Path) -> tokio::runtime::Runtime {
    if let Some(dir) = log.parent() {
        std::fs::create_dir_all(dir).expect("the hub's data folder");
    }
    let file = Arc::new(Mutex::new(
        std::fs::File::create(log).expect("the hub's log file"),
    ));
    let filter = std::env::var("LIANDONG_TEST_LOG").unwrap_or_else(|_| "info,sqlx=warn".into());
    let dispatch = tracing::Dispatch::new(
        tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::new(filter))
            .with_ansi(false)
            .with_writer(LogFile(file))
            .finish(),
    );
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("hub")
        .enable_all()
        .on_thread_start(move || {
            // The thread's default for as long as it lives: the guard is never dropped.
            std::mem::forget(tracing::dispatcher::set_default(&dispatch));
        })
        .build()
        .expect("the hub's runtime")
}

/// The hub's log file, shared by the runtime's threads.
#[derive(Clone)]
struct LogFile(Arc<Mutex<std::fs::File>>);

impl std::io::Write for LogFile {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).write(buf)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).flush()
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for LogFile {
    type Writer = LogFile;
    fn make_writer(&'a self) -> LogFile {
        self.clone()
    }
}

fn spawn(config: &Path, data_dir: &Path, service: &str, append: bool) -> Child {
    let path = data_dir.join(format!("{service}.log"));
    let log = if append {
        // Its log so far is kept: the new process appends after it.
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
    } else {
        std::fs::File::create(&path)
    }
    .expect("log file");
    Command::new(crate::hub::liandong_bin())
        .arg("--config")
        .arg(config)
        .arg("serve")
        .arg(service)
        .env(
            "RUST_LOG",
            std::env::var("LIANDONG_TEST_LOG").unwrap_or_else(|_| "info,sqlx=warn".into()),
        )
        .env_remove("DATABASE_URL")
        .env_remove("NATS_URL")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .expect("the liandong binary starts")
}

/// SIGTERM, then up to 10 s to exit, then SIGKILL.
async fn terminate(child: &mut Child) {
    let _ = Command::new("kill")
        .arg("-TERM")
        .arg(child.id().to_string())
        .status();
    for _ in 0..200 {
        if let Ok(Some(_)) = child.try_wait() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let _ = child.kill();
    let _ = child.wait();
}
