//! `TestHub`: every service against real NATS and a real database, run inside the test
//! process or as real `liandong serve` processes (`services`), with typed gRPC clients and
//! the actors that call them.

use std::path::PathBuf;
use std::time::Duration;

use liandong_proto::board::v1::board_service_client::BoardServiceClient;
use liandong_proto::brigade::v1::brigade_service_client::BrigadeServiceClient;
use liandong_proto::county::v1::county_service_client::CountyServiceClient;
use liandong_proto::disclosure::v1::disclosure_service_client::DisclosureServiceClient;
use liandong_proto::readmodel::v1::dashboard_service_client::DashboardServiceClient;
use liandong_proto::review::v1::review_service_client::ReviewServiceClient;
use tonic::Request;
use tonic::transport::Channel;

pub use crate::services::Mode;
use crate::services::Services;
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
    services: Services,
    config_file: PathBuf,
    pub brigade: BrigadeServiceClient<Channel>,
    pub board: BoardServiceClient<Channel>,
    pub county: CountyServiceClient<Channel>,
    pub disclosure: DisclosureServiceClient<Channel>,
    pub review: ReviewServiceClient<Channel>,
    pub readmodel: DashboardServiceClient<Channel>,
}

/// Every service of a hub, in the order they start.
pub const SERVICES: [&str; 7] = [
    "brigade",
    "board",
    "county",
    "disclosure",
    "review",
    "readmodel",
    "gateway",
];

impl TestHub {
    /// Starts every service inside the test process and waits until each reports SERVING.
    pub async fn start(backend: Backend) -> TestHub {
        TestHub::start_with(TestEnv::new(backend)).await
    }

    /// Starts the services inside the test process on an environment the caller prepared:
    /// its own NATS servers (`cfg.nats_url`, comma-separated for a cluster), its own
    /// PostgreSQL, other bus settings.
    pub async fn start_with(env: TestEnv) -> TestHub {
        TestHub::start_as(env, Mode::InProcess).await
    }

    /// Starts every service as its own `liandong serve` process: for tests of what only a
    /// process has (a kill -9, its own metrics and telemetry, its own NATS credentials).
    pub async fn start_processes(env: TestEnv) -> TestHub {
        TestHub::start_as(env, Mode::Processes).await
    }

    async fn start_as(env: TestEnv, mode: Mode) -> TestHub {
        let config_file = env.cfg.data_dir.join("liandong.toml");
        std::fs::create_dir_all(&env.cfg.data_dir).expect("data dir");
        std::fs::write(
            &config_file,
            toml::to_string(&env.cfg).expect("config serialises"),
        )
        .expect("config file");
        // If a service never gets ready, dropping them shows what each said.
        let mut services = Services::new(
            mode,
            config_file.clone(),
            env.cfg.data_dir.clone(),
            env.cfg.subject_root.clone(),
        );
        for service in SERVICES {
            services.start(service);
        }
        let addr = |a: std::net::SocketAddr| format!("http://{a}");
        let brigade = BrigadeServiceClient::new(wait_ready(&addr(env.cfg.brigade_addr)).await);
        let board = BoardServiceClient::new(wait_ready(&addr(env.cfg.board_addr)).await);
        let county = CountyServiceClient::new(wait_ready(&addr(env.cfg.county_addr)).await);
        let disclosure =
            DisclosureServiceClient::new(wait_ready(&addr(env.cfg.disclosure_addr)).await);
        let review = ReviewServiceClient::new(wait_ready(&addr(env.cfg.review_addr)).await);
        let readmodel =
            DashboardServiceClient::new(wait_ready(&addr(env.cfg.readmodel_addr)).await);
        wait_gateway(env.cfg.gateway_addr).await;
        let hub = TestHub {
            env,
            services,
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

    /// How this hub's services run.
    pub fn mode(&self) -> Mode {
        self.services.mode()
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
        register_town_officers(&self.brigade).await;
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

    /// Stops every service cleanly, waits for them, and removes the test's streams and
    /// databases.
    pub async fn stop(mut self) {
        // Closing the clients' connections lets each service drain at once.
        let closed = tonic::transport::Endpoint::from_static("http://127.0.0.1:1").connect_lazy();
        self.review = ReviewServiceClient::new(closed.clone());
        self.brigade = BrigadeServiceClient::new(closed.clone());
        self.board = BoardServiceClient::new(closed.clone());
        self.county = CountyServiceClient::new(closed.clone());
        self.readmodel = DashboardServiceClient::new(closed.clone());
        self.disclosure = DisclosureServiceClient::new(closed);
        self.services.stop_all().await;
        self.env.cleanup().await;
    }

    /// The configuration file the services were started with (and are restarted with).
    pub fn config_file(&self) -> &std::path::Path {
        &self.config_file
    }

    /// Restarts one service cleanly (a fresh build from the configuration file as it is now)
    /// and waits until it is ready.
    pub async fn restart(&mut self, service: &'static str) {
        self.services.stop(service).await;
        self.respawn(service).await;
    }

    /// Kills one service with SIGKILL, as a crash or the OOM killer would: no draining, no
    /// flushing, whatever was in flight is cut off. Only a hub of processes
    /// ([`TestHub::start_processes`]) can do this.
    pub fn kill9(&mut self, service: &str) {
        self.services.kill9(service);
    }

    /// Starts a service that was stopped or killed again, and waits until it is ready.
    pub async fn respawn(&mut self, service: &'static str) {
        self.services.start_again(service);
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
            "readmodel" => {
                self.readmodel =
                    DashboardServiceClient::new(wait_ready(&url(self.env.cfg.readmodel_addr)).await)
            }
            "gateway" => wait_gateway(self.env.cfg.gateway_addr).await,
            other => panic!("no service {other}"),
        }
    }
}

/// Registers the certificates of the town officers the tests act as: `wang.wu` and `li.si`
/// in both test towns, valid 2026-01-01 to 2030-12-31.
pub async fn register_town_officers(brigade: &BrigadeServiceClient<Channel>) {
    for town in TOWNS {
        for officer in [As::brigade_officer(town), As::brigade_captain(town)] {
            brigade
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
}

/// Waits until the gateway answers `/healthz`.
async fn wait_gateway(gateway: std::net::SocketAddr) {
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
