//! `TestHub`: every service as a real `liandong serve` process against real NATS and a real
//! database, with typed gRPC clients and the actors that call them.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use liandong_proto::board::v1::board_service_client::BoardServiceClient;
use liandong_proto::brigade::v1::brigade_service_client::BrigadeServiceClient;
use liandong_proto::county::v1::county_service_client::CountyServiceClient;
use liandong_proto::disclosure::v1::disclosure_service_client::DisclosureServiceClient;
use liandong_proto::readmodel::v1::dashboard_service_client::DashboardServiceClient;
use liandong_proto::review::v1::review_service_client::ReviewServiceClient;
use tonic::Request;
use tonic::transport::Channel;

use crate::{Backend, TestEnv, eventually};

/// Who calls: the actor the signed token of each request names.
#[derive(Debug, Clone)]
pub struct As {
    pub officer: &'static str,
    pub role: &'static str,
    pub town: Option<&'static str>,
    pub department: Option<&'static str>,
}

impl As {
    pub fn brigade_officer(town: &'static str) -> As {
        As {
            officer: "wang.wu",
            role: "brigade_officer",
            town: Some(town),
            department: None,
        }
    }
    pub fn brigade_captain(town: &'static str) -> As {
        As {
            officer: "li.si",
            role: "brigade_captain",
            town: Some(town),
            department: None,
        }
    }
    pub fn board_chair(town: &'static str) -> As {
        As {
            officer: "zhao.zhuxi",
            role: "board_chair",
            town: Some(town),
            department: None,
        }
    }
    pub fn board_member(town: &'static str) -> As {
        As {
            officer: "qian.weiyuan",
            role: "board_member",
            town: Some(town),
            department: None,
        }
    }
    pub fn dispatcher(department: &'static str) -> As {
        As {
            officer: "sun.diaodu",
            role: "county_dispatcher",
            town: None,
            department: Some(department),
        }
    }
    pub fn judicial_reviewer(town: &'static str) -> As {
        As {
            officer: "zheng.sifa",
            role: "judicial_reviewer",
            town: Some(town),
            department: None,
        }
    }
    /// The department's own legal office, which reviews its major decisions.
    pub fn legal_officer(department: &'static str) -> As {
        As {
            officer: "wu.fazhi",
            role: "department_legal_officer",
            town: None,
            department: Some(department),
        }
    }
    pub fn investigator(department: &'static str) -> As {
        As {
            officer: "zhou.diaocha",
            role: "county_investigator",
            town: None,
            department: Some(department),
        }
    }

    /// A viewer of a town, of a department, or of the whole county (neither).
    pub fn viewer(town: Option<&'static str>, department: Option<&'static str>) -> As {
        As {
            officer: "feng.chakan",
            role: "viewer",
            town,
            department,
        }
    }

    /// The actor as the domain knows it.
    pub fn actor(&self) -> liandong_domain::auth::Actor {
        liandong_domain::auth::Actor::new(
            self.officer.parse().expect("an officer id"),
            liandong_domain::auth::Role::parse(self.role).expect("a role"),
            self.town.map(|t| t.parse().expect("a town code")),
            self.department
                .map(|d| d.parse().expect("a department code")),
        )
        .expect("the actor fits its role")
    }

    /// `Bearer <token>`: this actor's token, signed with the tests' key.
    pub fn bearer(&self) -> String {
        crate::auth::ISSUER.bearer(&self.actor())
    }

    /// `msg` as a request made by this actor, with its signed token.
    pub fn req<T>(&self, msg: T) -> Request<T> {
        let mut r = Request::new(msg);
        r.metadata_mut().insert(
            "authorization",
            self.bearer().parse().expect("a token is ASCII"),
        );
        r
    }
}

/// The `liandong` binary beside the test executable (`target/<profile>/liandong`).
pub fn liandong_bin() -> PathBuf {
    let exe = std::env::current_exe().expect("test executable path");
    let dir = exe
        .parent()
        .and_then(|d| d.parent())
        .expect("target/<profile>/deps/..");
    let bin = dir.join("liandong");
    assert!(
        bin.exists(),
        "{} is missing: run `cargo build -p liandong` first (tests/run.sh does)",
        bin.display()
    );
    bin
}

/// The towns the tests' officers work in.
pub const TOWNS: [&str; 2] = ["330782101", "330782102"];

/// The departments of the default catalogue, where the tests' county officers work.
pub const DEPARTMENTS: [&str; 9] = [
    "natural_resources",
    "agriculture_rural",
    "urban_management",
    "public_security",
    "forestry",
    "ecology_environment",
    "water_resources",
    "market_regulation",
    "transport",
];

/// Who issues the test officers' certificates.
pub const ISSUER: &str = "浙江省人民政府";

/// A reviewer's answers to the legal review's checks (all but "qualified officers", which the
/// review service reads from its registry copy), passed unless listed in `failing`.
pub fn review_answers(failing: &[&str]) -> Vec<liandong_proto::events::v1::ReviewAnswer> {
    [
        "lawful_body",
        "facts_clear",
        "evidence_sufficient",
        "law_applied",
        "documents_complete",
        "crime_suspected",
    ]
    .iter()
    .map(|c| liandong_proto::events::v1::ReviewAnswer {
        check: (*c).into(),
        passed: !failing.contains(c),
        note: if failing.contains(c) {
            format!("{c} 不符合要求")
        } else {
            "符合要求".into()
        },
    })
    .collect()
}

/// Whether the review service's copy of the registries knows every deciding officer of `r`
/// as certified.
pub fn registry_caught_up(r: &liandong_proto::review::v1::Review) -> bool {
    !r.qualification.is_empty() && r.qualification.iter().all(|q| q.qualified)
}

/// How long a legal review may take to reach the reviewer's list.
const REVIEW_WAIT: Duration = Duration::from_secs(60);

/// The certificate number of a standard test officer in an agency's registry.
pub fn certificate_no(agency: &str, officer: &str) -> String {
    format!("ZJ-{agency}-{officer}")
}

pub struct TestHub {
    pub env: TestEnv,
    children: Vec<(&'static str, Child)>,
    config_file: PathBuf,
    pub brigade: BrigadeServiceClient<Channel>,
    pub board: BoardServiceClient<Channel>,
    pub county: CountyServiceClient<Channel>,
    pub disclosure: DisclosureServiceClient<Channel>,
    pub review: ReviewServiceClient<Channel>,
    pub readmodel: DashboardServiceClient<Channel>,
}

impl TestHub {
    /// Starts brigade, board and county as processes and waits until each reports SERVING.
    pub async fn start(backend: Backend) -> TestHub {
        TestHub::start_with(TestEnv::new(backend)).await
    }

    /// Starts the services on an environment the caller prepared: its own NATS servers
    /// (`cfg.nats_url`, comma-separated for a cluster), its own PostgreSQL, other bus settings.
    pub async fn start_with(env: TestEnv) -> TestHub {
        let config_file = env.cfg.data_dir.join("liandong.toml");
        std::fs::create_dir_all(&env.cfg.data_dir).expect("data dir");
        std::fs::write(
            &config_file,
            toml::to_string(&env.cfg).expect("config serialises"),
        )
        .expect("config file");
        let mut children = Vec::new();
        for service in [
            "brigade",
            "board",
            "county",
            "disclosure",
            "review",
            "readmodel",
            "gateway",
        ] {
            children.push((service, spawn(&config_file, service, &env)));
        }
        // Until the hub owns them, a guard kills the processes if a service never gets ready,
        // and shows what each said.
        let mut guard = StartGuard {
            children,
            data_dir: env.cfg.data_dir.clone(),
        };
        let addr = |a: std::net::SocketAddr| format!("http://{a}");
        let brigade = BrigadeServiceClient::new(wait_ready(&addr(env.cfg.brigade_addr)).await);
        let board = BoardServiceClient::new(wait_ready(&addr(env.cfg.board_addr)).await);
        let county = CountyServiceClient::new(wait_ready(&addr(env.cfg.county_addr)).await);
        let disclosure =
            DisclosureServiceClient::new(wait_ready(&addr(env.cfg.disclosure_addr)).await);
        let review = ReviewServiceClient::new(wait_ready(&addr(env.cfg.review_addr)).await);
        let readmodel =
            DashboardServiceClient::new(wait_ready(&addr(env.cfg.readmodel_addr)).await);
        let gateway = env.cfg.gateway_addr;
        eventually(
            "the gateway to answer",
            Duration::from_secs(60),
            || async move {
                let r = crate::http::request(gateway, "GET", "/healthz", &[], None)
                    .await
                    .ok()?;
                (r.status == 200).then_some(())
            },
        )
        .await;
        let children = std::mem::take(&mut guard.children);
        let hub = TestHub {
            env,
            children,
            config_file,
            brigade,
            board,
            county,
            disclosure,
            review,
            readmodel,
        };
        hub.register_standard_officers().await;
        hub
    }

    /// `who` answers the legal review `review_id` with [`review_answers`]`(failing)` and
    /// `decision` (`approve`, `return`, `transfer`).
    pub async fn answer_review(
        &self,
        who: As,
        review_id: &str,
        failing: &[&str],
        decision: &str,
    ) -> Result<liandong_proto::review::v1::Review, tonic::Status> {
        self.review
            .clone()
            .answer_review(who.req(liandong_proto::review::v1::AnswerReviewRequest {
                review_id: review_id.into(),
                answers: review_answers(failing),
                decision: decision.into(),
                note: String::new(),
            }))
            .await
            .map(|r| r.into_inner().review.expect("a review"))
    }

    /// The pending legal review of `case_id` (of round `round`, or of any round) that `who`
    /// lists with `list` (its status set to pending), once the review service's copy of the
    /// registries knows every deciding officer: that copy arrives by events of its own and may
    /// lag the request, and approval needs it (every officer of these tests is certified).
    pub async fn pending_review(
        &self,
        who: As,
        list: liandong_proto::review::v1::ListReviewsRequest,
        case_id: &str,
        round: Option<u32>,
    ) -> liandong_proto::review::v1::Review {
        let what = match round {
            Some(n) => format!("round {n} of the legal review of {case_id}, pending"),
            None => format!("the legal review of {case_id}, pending"),
        };
        let list = liandong_proto::review::v1::ListReviewsRequest {
            status: "pending".into(),
            ..list
        };
        eventually(&what, REVIEW_WAIT, || async {
            self.review
                .clone()
                .list_reviews(who.req(list.clone()))
                .await
                .ok()?
                .into_inner()
                .reviews
                .into_iter()
                .find(|r| r.case_id == case_id && round.is_none_or(|n| r.round == n))
                .filter(registry_caught_up)
        })
        .await
    }

    /// Registers the certificates of the officers the tests act as (持证上岗): `wang.wu` and
    /// `li.si` in both test towns, `sun.diaodu` and `zhou.diaocha` in every department of the
    /// default catalogue, valid 2026-01-01 to 2030-12-31.
    pub async fn register_standard_officers(&self) {
        for town in TOWNS {
            for officer in [As::brigade_officer(town), As::brigade_captain(town)] {
                self.brigade
                    .clone()
                    .register_officer(As::brigade_captain(town).req(
                        liandong_proto::brigade::v1::RegisterOfficerRequest {
                            town: town.into(),
                            officer: officer.officer.into(),
                            certificate_no: certificate_no(town, officer.officer),
                            issuing_authority: ISSUER.into(),
                            valid_from: "2026-01-01".into(),
                            valid_until: "2030-12-31".into(),
                        },
                    ))
                    .await
                    .expect("a town officer is registered");
            }
        }
        let catalogue: Vec<String> = liandong_domain::catalogue::Catalogue::default_catalogue()
            .departments
            .iter()
            .map(|d| d.code.to_string())
            .collect();
        assert_eq!(
            catalogue, DEPARTMENTS,
            "DEPARTMENTS follows the default catalogue"
        );
        for department in DEPARTMENTS {
            for officer in [As::dispatcher(department), As::investigator(department)] {
                self.county
                    .clone()
                    .register_officer(As::dispatcher(department).req(
                        liandong_proto::county::v1::RegisterOfficerRequest {
                            department: department.into(),
                            officer: officer.officer.into(),
                            certificate_no: certificate_no(department, officer.officer),
                            issuing_authority: ISSUER.into(),
                            valid_from: "2026-01-01".into(),
                            valid_until: "2030-12-31".into(),
                        },
                    ))
                    .await
                    .expect("a department officer is registered");
            }
        }
    }

    /// Stops every service with SIGTERM, waits for them, and removes the test's streams and databases.
    pub async fn stop(mut self) {
        // Closing the clients' connections lets each service drain at once.
        let closed = tonic::transport::Endpoint::from_static("http://127.0.0.1:1").connect_lazy();
        self.review = ReviewServiceClient::new(closed.clone());
        self.brigade = BrigadeServiceClient::new(closed.clone());
        self.board = BoardServiceClient::new(closed.clone());
        self.county = CountyServiceClient::new(closed.clone());
        self.readmodel = DashboardServiceClient::new(closed.clone());
        self.disclosure = DisclosureServiceClient::new(closed);
        // All at once: each takes up to its grace period to drain.
        for (_, child) in &mut self.children {
            let _ = Command::new("kill")
                .arg("-TERM")
                .arg(child.id().to_string())
                .status();
        }
        for (_, child) in &mut self.children {
            terminate(child);
        }
        self.keep_logs();
        self.children.clear();
        self.env.cleanup().await;
    }

    /// With `LIANDONG_TEST_KEEP_LOGS=<dir>`, copies every service's log there as
    /// `<subject root>-<service>.log`, passed or failed: a rare failure is read against a
    /// passing run's.
    fn keep_logs(&self) {
        let Ok(dir) = std::env::var("LIANDONG_TEST_KEEP_LOGS") else {
            return;
        };
        for (service, _) in &self.children {
            let log = self.env.cfg.data_dir.join(format!("{service}.log"));
            let _ = std::fs::copy(
                &log,
                format!("{dir}/{}-{service}.log", self.env.cfg.subject_root),
            );
        }
    }

    /// The configuration file the services were started with.
    pub fn config_file(&self) -> &std::path::Path {
        &self.config_file
    }

    /// Restarts one service (SIGTERM, then a fresh process) and waits until it is ready.
    pub async fn restart(&mut self, service: &str) {
        let (_, child) = self
            .children
            .iter_mut()
            .find(|(s, _)| *s == service)
            .expect("a known service");
        terminate(child);
        *child = spawn(&self.config_file, service, &self.env);
        let addr = match service {
            "brigade" => self.env.cfg.brigade_addr,
            "board" => self.env.cfg.board_addr,
            "disclosure" => self.env.cfg.disclosure_addr,
            "review" => self.env.cfg.review_addr,
            "readmodel" => self.env.cfg.readmodel_addr,
            "gateway" => return,
            _ => self.env.cfg.county_addr,
        };
        wait_ready(&format!("http://{addr}")).await;
    }

    /// Kills one service with SIGKILL, as a crash or the OOM killer would: no draining, no
    /// flushing, whatever was in flight is cut off.
    pub fn kill9(&mut self, service: &str) {
        let (_, child) = self
            .children
            .iter_mut()
            .find(|(s, _)| *s == service)
            .expect("a known service");
        let _ = child.kill();
        let _ = child.wait();
    }

    /// Starts a fresh process of a service that was killed, and waits until it is ready.
    pub async fn respawn(&mut self, service: &str) {
        let (_, child) = self
            .children
            .iter_mut()
            .find(|(s, _)| *s == service)
            .expect("a known service");
        // Its log so far is kept: the new process appends after it.
        *child = spawn_appending(&self.config_file, service, &self.env);
        let url = |a: std::net::SocketAddr| format!("http://{a}");
        // Fresh channels, so the next call does not wait for the old one to notice the crash.
        match service {
            "brigade" => {
                self.brigade =
                    BrigadeServiceClient::new(wait_ready(&url(self.env.cfg.brigade_addr)).await)
            }
            "board" => {
                self.board =
                    BoardServiceClient::new(wait_ready(&url(self.env.cfg.board_addr)).await)
            }
            "county" => {
                self.county =
                    CountyServiceClient::new(wait_ready(&url(self.env.cfg.county_addr)).await)
            }
            "disclosure" => {
                self.disclosure = DisclosureServiceClient::new(
                    wait_ready(&url(self.env.cfg.disclosure_addr)).await,
                )
            }
            "review" => {
                self.review =
                    ReviewServiceClient::new(wait_ready(&url(self.env.cfg.review_addr)).await)
            }
            "gateway" => {
                let gateway = self.env.cfg.gateway_addr;
                eventually(
                    "the gateway to answer again",
                    Duration::from_secs(60),
                    || async move {
                        let r = crate::http::request(gateway, "GET", "/healthz", &[], None)
                            .await
                            .ok()?;
                        (r.status == 200).then_some(())
                    },
                )
                .await;
            }
            _ => {}
        }
    }
}

impl Drop for TestHub {
    fn drop(&mut self) {
        self.keep_logs();
        // A failing test shows what the services said, since their data folder goes with it.
        if std::thread::panicking() {
            for (service, _) in &self.children {
                let log = self.env.cfg.data_dir.join(format!("{service}.log"));
                let text = std::fs::read_to_string(&log)
                    .unwrap_or_else(|e| format!("(cannot read {}: {e})", log.display()));
                let tail: Vec<&str> = text.lines().rev().take(40).collect();
                eprintln!("----- last lines of {service}.log -----");
                for line in tail.into_iter().rev() {
                    eprintln!("{line}");
                }
            }
        }
        for (_, child) in &mut self.children {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn spawn(config: &PathBuf, service: &str, env: &TestEnv) -> Child {
    let log =
        std::fs::File::create(env.cfg.data_dir.join(format!("{service}.log"))).expect("log file");
    spawn_logging_to(config, service, log)
}

fn spawn_appending(config: &PathBuf, service: &str, env: &TestEnv) -> Child {
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(env.cfg.data_dir.join(format!("{service}.log")))
        .expect("log file");
    spawn_logging_to(config, service, log)
}

fn spawn_logging_to(config: &PathBuf, service: &str, log: std::fs::File) -> Child {
    Command::new(liandong_bin())
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

fn terminate(child: &mut Child) {
    let _ = Command::new("kill")
        .arg("-TERM")
        .arg(child.id().to_string())
        .status();
    for _ in 0..200 {
        if let Ok(Some(_)) = child.try_wait() {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = child.kill();
    let _ = child.wait();
}

/// Connects to `addr` and polls gRPC health until it answers SERVING.
pub async fn wait_ready(addr: &str) -> Channel {
    let endpoint = tonic::transport::Endpoint::from_shared(addr.to_owned()).expect("an address");
    eventually(
        &format!("{addr} to be ready"),
        Duration::from_secs(60),
        || {
            let endpoint = endpoint.clone();
            async move {
                let channel = endpoint.connect().await.ok()?;
                let mut health =
                    tonic_health::pb::health_client::HealthClient::new(channel.clone());
                let status = health
                    .check(tonic_health::pb::HealthCheckRequest {
                        service: String::new(),
                    })
                    .await
                    .ok()?
                    .into_inner()
                    .status;
                (status == tonic_health::pb::health_check_response::ServingStatus::Serving as i32)
                    .then_some(channel)
            }
        },
    )
    .await
}

/// Owns the service processes while a hub starts.
struct StartGuard {
    children: Vec<(&'static str, Child)>,
    data_dir: PathBuf,
}

impl Drop for StartGuard {
    fn drop(&mut self) {
        for (service, child) in &mut self.children {
            let _ = child.kill();
            let _ = child.wait();
            let log = self.data_dir.join(format!("{service}.log"));
            let text = std::fs::read_to_string(&log)
                .unwrap_or_else(|e| format!("(cannot read {}: {e})", log.display()));
            // Backtrace frames (indented) say less than the error above them.
            let tail: Vec<&str> = text
                .lines()
                .filter(|l| !l.starts_with(' '))
                .rev()
                .take(20)
                .collect();
            eprintln!("----- {service} did not get ready; last lines of its log -----");
            for line in tail.into_iter().rev() {
                eprintln!("{line}");
            }
        }
    }
}
