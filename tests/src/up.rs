//! `liandong up` as an operator runs it: one supervising process whose children are the
//! services, started from a configuration file in the test's own directory.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use liandong_proto::brigade::v1::brigade_service_client::BrigadeServiceClient;
use liandong_proto::county::v1::county_service_client::CountyServiceClient;
use tonic::transport::Channel;

use crate::TestEnv;
use crate::eventually;
use crate::hub::{SERVICES, liandong_bin, register_town_officers, wait_ready};

/// A running `liandong up`; killed (with its children) when dropped.
pub struct Up {
    child: Option<Child>,
    log: PathBuf,
}

impl Up {
    /// Writes `env`'s configuration to `<data_dir>/liandong.toml` and runs `liandong up` on it,
    /// its output (and its services') in `<data_dir>/up.log`.
    pub fn start(env: &TestEnv) -> Up {
        std::fs::create_dir_all(&env.cfg.data_dir).expect("data dir");
        let config = env.cfg.data_dir.join("liandong.toml");
        std::fs::write(
            &config,
            toml::to_string(&env.cfg).expect("config serialises"),
        )
        .expect("config file");
        let log = env.cfg.data_dir.join("up.log");
        let out = std::fs::File::create(&log).expect("log file");
        let child = Command::new(liandong_bin())
            .arg("--config")
            .arg(&config)
            .arg("up")
            .env(
                "RUST_LOG",
                std::env::var("LIANDONG_TEST_LOG").unwrap_or_else(|_| "info,sqlx=warn".into()),
            )
            .env("NO_COLOR", "1")
            .env_remove("DATABASE_URL")
            .env_remove("NATS_URL")
            .stdin(Stdio::null())
            .stdout(out.try_clone().expect("log handle"))
            .stderr(out)
            .spawn()
            .expect("liandong up starts");
        Up {
            child: Some(child),
            log,
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.as_ref().expect("running").id()
    }

    /// What `liandong up` and its services have written so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log)
            .unwrap_or_else(|e| format!("(cannot read {}: {e})", self.log.display()))
    }

    /// The pid of the running `liandong serve <service>` child, if there is one now.
    pub fn service_pid(&self, service: &str) -> Option<u32> {
        let parent = self.pid().to_string();
        for entry in std::fs::read_dir("/proc").ok()?.flatten() {
            let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
                continue;
            };
            let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
                continue;
            };
            // `pid (comm) state ppid …`: the fields after the command's closing parenthesis.
            let Some((_, rest)) = stat.rsplit_once(')') else {
                continue;
            };
            let mut fields = rest.split_whitespace();
            let (state, ppid) = (fields.next(), fields.next());
            if ppid != Some(parent.as_str()) || state == Some("Z") {
                continue;
            }
            // A process that has just gone has no command line left: not the service.
            let Ok(cmdline) = std::fs::read(entry.path().join("cmdline")) else {
                continue;
            };
            let args: Vec<&[u8]> = cmdline.split(|b| *b == 0).collect();
            if args
                .windows(2)
                .any(|w| w[0] == b"serve" && w[1] == service.as_bytes())
            {
                return Some(pid);
            }
        }
        None
    }

    /// SIGKILL to the service's process, like a crash; answers the pid killed.
    pub fn kill9(&self, service: &str) -> u32 {
        let pid = self
            .service_pid(service)
            .unwrap_or_else(|| panic!("{service} runs under liandong up"));
        let status = Command::new("kill")
            .arg("-KILL")
            .arg(pid.to_string())
            .status()
            .expect("kill runs");
        assert!(status.success(), "kill -9 {pid} ({service})");
        pid
    }

    /// Ctrl-C's signal to `liandong up`, then waits for it (a minute at most) and answers
    /// whether it exited by itself.
    pub fn interrupt(&mut self) -> bool {
        let Some(mut child) = self.child.take() else {
            return true;
        };
        let _ = Command::new("kill")
            .arg("-INT")
            .arg(child.id().to_string())
            .status();
        for _ in 0..1200 {
            if let Ok(Some(_)) = child.try_wait() {
                return true;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = child.kill();
        let _ = child.wait();
        false
    }
}

impl Drop for Up {
    fn drop(&mut self) {
        if std::thread::panicking() {
            let text = self.log();
            let tail: Vec<&str> = text.lines().rev().take(60).collect();
            eprintln!("----- last lines of liandong up -----");
            for line in tail.into_iter().rev() {
                eprintln!("{line}");
            }
        }
        if self.child.is_some() {
            self.interrupt();
        }
    }
}

/// Whether the gRPC service at `addr` answers its health check SERVING now.
pub async fn serving(addr: std::net::SocketAddr) -> bool {
    let Ok(endpoint) = tonic::transport::Endpoint::from_shared(format!("http://{addr}")) else {
        return false;
    };
    let Ok(Ok(channel)) = tokio::time::timeout(Duration::from_secs(5), endpoint.connect()).await
    else {
        return false;
    };
    let mut health = tonic_health::pb::health_client::HealthClient::new(channel);
    let check = health.check(tonic_health::pb::HealthCheckRequest {
        service: String::new(),
    });
    match tokio::time::timeout(Duration::from_secs(5), check).await {
        Ok(Ok(r)) => {
            r.into_inner().status
                == tonic_health::pb::health_check_response::ServingStatus::Serving as i32
        }
        _ => false,
    }
}

/// Whether the gateway at `addr` answers `/healthz` with 200 now.
pub async fn gateway_serving(addr: std::net::SocketAddr) -> bool {
    matches!(
        tokio::time::timeout(
            Duration::from_secs(5),
            crate::http::request(addr, "GET", "/healthz", &[], None)
        )
        .await,
        Ok(Ok(r)) if r.status == 200
    )
}

/// Whether `service` of `env` answers as ready now.
pub async fn ready(env: &TestEnv, service: &str) -> bool {
    let c = &env.cfg;
    match service {
        "brigade" => serving(c.brigade_addr).await,
        "board" => serving(c.board_addr).await,
        "county" => serving(c.county_addr).await,
        "disclosure" => serving(c.disclosure_addr).await,
        "review" => serving(c.review_addr).await,
        "readmodel" => serving(c.readmodel_addr).await,
        "gateway" => gateway_serving(c.gateway_addr).await,
        other => panic!("no service {other}"),
    }
}

/// The brigade's and county's clients once every service but `except` is ready, with the
/// standard officers registered (as `TestHub::start` does).
pub async fn clients_when_ready(
    env: &TestEnv,
    except: &[&str],
) -> (BrigadeServiceClient<Channel>, CountyServiceClient<Channel>) {
    for service in SERVICES.iter().filter(|s| !except.contains(s)) {
        eventually(
            &format!("{service} to be ready under liandong up"),
            Duration::from_secs(90),
            || async move { ready(env, service).await.then_some(()) },
        )
        .await;
    }
    let brigade =
        BrigadeServiceClient::new(wait_ready(&format!("http://{}", env.cfg.brigade_addr)).await);
    let county =
        CountyServiceClient::new(wait_ready(&format!("http://{}", env.cfg.county_addr)).await);
    register_town_officers(&brigade).await;
    (brigade, county)
}
