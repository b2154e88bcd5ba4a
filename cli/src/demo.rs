//! `liandong demo`: replays a short demo of the seed's kinds of cases through all three paths
//! in two towns, acting only through the services' gRPC APIs, as the people who use them would.

use std::future::Future;
use std::sync::OnceLock;
use std::time::Duration;

use anyhow::{Context, bail};
use liandong_config::Config;
use liandong_domain::auth::{Actor, Role};
use liandong_domain::ids::{DepartmentCode, OfficerId, TownCode};
use liandong_grpc::identity::Issuer;
use liandong_proto::board::v1::{self as board, board_service_client::BoardServiceClient};
use liandong_proto::brigade::v1::{self as brigade, brigade_service_client::BrigadeServiceClient};
use liandong_proto::county::v1::{self as county, county_service_client::CountyServiceClient};
use liandong_proto::disclosure::v1::{
    self as disclosure, disclosure_service_client::DisclosureServiceClient,
};
use liandong_proto::events::v1 as ev;
use liandong_proto::review::v1::{self as review, review_service_client::ReviewServiceClient};
use tonic::Request;
use tonic::transport::Channel;

/// The demo's two towns: 赤岸镇 and 义亭镇 of 义乌市, as the shipped registry
/// (`deploy/data/towns.toml`) names them.
pub const TOWN_A: &str = "330782101";
pub const TOWN_B: &str = "330782102";
/// A village of each, from the same registry.
const VILLAGE_A: &str = "柏峰村";
const VILLAGE_B: &str = "吴村村";

struct Who {
    officer: &'static str,
    role: &'static str,
    town: Option<&'static str>,
    department: Option<&'static str>,
}

/// Signs the demo's people's tokens with the hub's signing key, as its sign-in would.
static ISSUER: OnceLock<Issuer> = OnceLock::new();

impl Who {
    fn req<T>(&self, msg: T) -> Request<T> {
        signed(msg, self.officer, self.role, self.town, self.department)
    }
}

/// `msg` as a request of `officer` in `role` of a town or a department, with its signed token.
fn signed<T>(
    msg: T,
    officer: &str,
    role: &str,
    town: Option<&str>,
    department: Option<&str>,
) -> Request<T> {
    let actor = Actor::new(
        OfficerId::parse(officer).expect("the demo's officers are valid"),
        Role::parse(role).expect("the demo's roles are valid"),
        town.map(|t| TownCode::parse(t).expect("the demo's towns are valid")),
        department
            .map(|d| DepartmentCode::parse(d).expect("the catalogue's departments are valid")),
    )
    .expect("the demo's people fit their roles");
    let issuer = ISSUER.get().expect("run() loads the signing key first");
    let mut r = Request::new(msg);
    r.metadata_mut().insert(
        "authorization",
        issuer.bearer(&actor).parse().expect("a token is ASCII"),
    );
    r
}

fn officer(town: &'static str) -> Who {
    Who {
        officer: "wang.wu",
        role: "brigade_officer",
        town: Some(town),
        department: None,
    }
}
fn captain(town: &'static str) -> Who {
    Who {
        officer: "li.si",
        role: "brigade_captain",
        town: Some(town),
        department: None,
    }
}
fn chair(town: &'static str) -> Who {
    Who {
        officer: "zhao.zhuxi",
        role: "board_chair",
        town: Some(town),
        department: None,
    }
}
fn member(town: &'static str) -> Who {
    Who {
        officer: "qian.weiyuan",
        role: "board_member",
        town: Some(town),
        department: None,
    }
}
fn dispatcher(department: &'static str) -> Who {
    Who {
        officer: "sun.diaodu",
        role: "county_dispatcher",
        town: None,
        department: Some(department),
    }
}

fn legal_officer(department: &'static str) -> Who {
    Who {
        officer: "wu.fazhi",
        role: "department_legal_officer",
        town: None,
        department: Some(department),
    }
}

struct Clients {
    brigade: BrigadeServiceClient<Channel>,
    board: BoardServiceClient<Channel>,
    county: CountyServiceClient<Channel>,
    review: ReviewServiceClient<Channel>,
    disclosure: DisclosureServiceClient<Channel>,
}

/// Polls `f` every 100 ms for up to 30 s.
async fn until<T, F, Fut>(what: &str, mut f: F) -> anyhow::Result<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = anyhow::Result<Option<T>>>,
{
    for _ in 0..300 {
        if let Some(v) = f().await? {
            return Ok(v);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    bail!("timed out waiting for {what}")
}

async fn channel(addr: std::net::SocketAddr) -> anyhow::Result<Channel> {
    let endpoint = tonic::transport::Endpoint::from_shared(format!("http://{addr}"))?;
    until(&format!("the service at {addr}"), || {
        let endpoint = endpoint.clone();
        async move {
            let Ok(ch) = endpoint.connect().await else {
                return Ok(None);
            };
            let mut health = tonic_health::pb::health_client::HealthClient::new(ch.clone());
            let serving = health
                .check(tonic_health::pb::HealthCheckRequest {
                    service: String::new(),
                })
                .await
                .map(|r| {
                    r.into_inner().status
                        == tonic_health::pb::health_check_response::ServingStatus::Serving as i32
                })
                .unwrap_or(false);
            Ok(serving.then_some(ch))
        }
    })
    .await
}

fn report(
    town: &str,
    source: brigade::CaseSource,
    matters: &[&str],
    village: &str,
    description: &str,
) -> brigade::ReportCaseRequest {
    brigade::ReportCaseRequest {
        town: town.into(),
        source: source as i32,
        matters: matters.iter().map(|m| m.to_string()).collect(),
        village: village.into(),
        location: format!("{village}村委会附近"),
        description: description.into(),
        found_at: Some(now()),
        evidence_refs: vec![format!("{village}-现场照片-01.jpg")],
        complex: false,
        triage_override: None,
        request_id: String::new(),
        act_date: act_day(matters),
        act_ongoing: false,
    }
}

/// The day the demo's act happened: the day it is found, unless the law of one of its matters
/// in force that day could not be confirmed (the catalogue marks the version so, and no
/// decision may cite it): then the last day of the confirmed version before it, so that the
/// demo's department can decide the case under the law then in force (行政处罚法 Art. 37).
fn act_day(matters: &[&str]) -> String {
    use liandong_config::clock::Clock;
    let today =
        liandong_domain::calendar::Calendar::local_date(liandong_config::clock::SystemClock.now());
    let catalogue = liandong_domain::catalogue::Catalogue::default_catalogue();
    let mut day = today;
    for code in matters {
        let Some(m) = liandong_domain::ids::MatterCode::parse(code)
            .ok()
            .and_then(|c| catalogue.matter(&c).cloned())
        else {
            continue;
        };
        if m.version_on(day).is_some_and(|v| v.unconfirmed.is_some())
            && let Some(until) = m
                .versions
                .iter()
                .rev()
                .filter(|v| v.unconfirmed.is_none())
                .find_map(|v| v.in_force_until)
                .filter(|u| *u < day)
        {
            day = until;
        }
    }
    day.to_string()
}

fn now() -> prost_types::Timestamp {
    use liandong_config::clock::Clock;
    liandong_proto::time::to_ts(liandong_config::clock::SystemClock.now())
}

impl Clients {
    async fn report(
        &mut self,
        who: &Who,
        r: brigade::ReportCaseRequest,
    ) -> anyhow::Result<brigade::Case> {
        let case = self
            .brigade
            .report_case(who.req(r))
            .await?
            .into_inner()
            .case
            .context("a case")?;
        println!(
            "  登记 {} [{}] → {}（规则{}）",
            case.case_id,
            case.matters.join(","),
            case.status,
            case.triage.as_ref().map(|t| t.rule).unwrap_or_default()
        );
        Ok(case)
    }

    async fn referral_of(
        &mut self,
        department: &'static str,
        case_id: &str,
    ) -> anyhow::Result<county::Referral> {
        let county = self.county.clone();
        until(
            &format!("the referral of {case_id} at {department}"),
            || {
                let mut county = county.clone();
                async move {
                    let inbox = county
                        .list_inbox(dispatcher(department).req(county::ListInboxRequest {
                            department: department.into(),
                            status: String::new(),
                            town: String::new(),
                            page_size: 200,
                        }))
                        .await?
                        .into_inner()
                        .referrals;
                    Ok(inbox.into_iter().find(|r| {
                        r.status != "returned"
                            && r.facts.as_ref().is_some_and(|f| f.case_id == case_id)
                    }))
                }
            },
        )
        .await
    }

    async fn agenda_item(
        &mut self,
        town: &'static str,
        case_id: &str,
        kind: &str,
    ) -> anyhow::Result<board::AgendaItem> {
        let board = self.board.clone();
        until(&format!("{case_id} on {town}'s agenda"), || {
            let mut board = board.clone();
            async move {
                let items = board
                    .list_agenda(member(town).req(board::ListAgendaRequest {
                        town: town.into(),
                        page_size: 200,
                        include_decided: false,
                    }))
                    .await?
                    .into_inner()
                    .items;
                Ok(items.into_iter().find(|i| {
                    i.kind == kind && i.facts.as_ref().is_some_and(|f| f.case_id == case_id)
                }))
            }
        })
        .await
    }

    /// The legal office of `department` approves the pending review of `case_id`, answering
    /// every check as met.
    async fn approve_review(
        &mut self,
        who: Who,
        department: &'static str,
        case_id: &str,
    ) -> anyhow::Result<()> {
        let client = self.review.clone();
        let pending = until(&format!("the legal review of {case_id}"), || {
            let mut client = client.clone();
            let req = who.req(review::ListReviewsRequest {
                department: department.into(),
                status: "pending".into(),
                ..Default::default()
            });
            async move {
                let reviews = client.list_reviews(req).await?.into_inner().reviews;
                // The review service learns certificates from the registries' events; until it
                // knows the deciding officers it cannot approve, so wait for that too.
                Ok(reviews.into_iter().find(|r| {
                    r.case_id == case_id
                        && !r.qualification.is_empty()
                        && r.qualification.iter().all(|q| q.qualified)
                }))
            }
        })
        .await?;
        let checks = [
            "lawful_body",
            "facts_clear",
            "evidence_sufficient",
            "law_applied",
            "documents_complete",
            "crime_suspected",
        ];
        self.review
            .answer_review(
                who.req(review::AnswerReviewRequest {
                    review_id: pending.review_id,
                    answers: checks
                        .iter()
                        .map(|c| ev::ReviewAnswer {
                            check: (*c).into(),
                            passed: true,
                            note: "符合要求".into(),
                        })
                        .collect(),
                    decision: "approve".into(),
                    note: String::new(),
                }),
            )
            .await?;
        Ok(())
    }

    /// A department handles a referral from sign-for to its result.
    async fn handle_referral(
        &mut self,
        department: &'static str,
        case_id: &str,
        outcome: ev::Outcome,
    ) -> anyhow::Result<()> {
        let r = self.referral_of(department, case_id).await?;
        let d = dispatcher(department);
        let id = r.referral_id.clone();
        self.county
            .sign_for_referral(d.req(county::SignForReferralRequest {
                referral_id: id.clone(),
            }))
            .await?;
        self.county
            .accept_referral(d.req(county::AcceptReferralRequest {
                referral_id: id.clone(),
            }))
            .await?;
        self.county
            .assign_referral(d.req(county::AssignReferralRequest {
                referral_id: id.clone(),
                staff: vec!["zhou.diaocha".into()],
            }))
            .await?;
        self.county
            .conclude_referral(d.req(county::ConcludeReferralRequest {
                referral_id: id.clone(),
                outcome: Some(outcome),
            }))
            .await?;
        println!("  {department} 签收、受理、安排人员、办结 {id}");
        Ok(())
    }

    async fn wait_status(
        &mut self,
        town: &'static str,
        case_id: &str,
        status: &str,
    ) -> anyhow::Result<()> {
        let brigade = self.brigade.clone();
        until(&format!("{case_id} to be {status}"), || {
            let mut brigade = brigade.clone();
            async move {
                let case = brigade
                    .get_case(officer(town).req(brigade::GetCaseRequest {
                        case_id: case_id.into(),
                    }))
                    .await?
                    .into_inner()
                    .case
                    .context("a case")?;
                Ok((case.status == status).then_some(()))
            }
        })
        .await?;
        println!("  {case_id} → {status}");
        Ok(())
    }
}

fn outcome(
    kind: &str,
    fine_fen: i64,
    confiscated: &[(&str, i64, &str)],
    summary: &str,
) -> ev::Outcome {
    ev::Outcome {
        kind: kind.into(),
        fine_fen,
        confiscated: confiscated
            .iter()
            .map(|(k, n, unit)| ev::ConfiscatedItem {
                kind: (*k).into(),
                count: *n,
                unit: (*unit).into(),
            })
            .collect(),
        summary: summary.into(),
        ..Default::default()
    }
}

/// Registers the demo's officers' enforcement certificates (持证上岗), since every
/// enforcement action is refused without one: the brigade's in both towns, the dispatcher in
/// every department of the catalogue.
async fn register_officers(c: &mut Clients, cfg: &Config) -> anyhow::Result<()> {
    let certificate = |agency: &str, officer: &str| format!("ZJ-{agency}-{officer}");
    for town in [TOWN_A, TOWN_B] {
        for who in [officer(town), captain(town)] {
            c.brigade
                .register_officer(captain(town).req(brigade::RegisterOfficerRequest {
                    town: town.into(),
                    officer: who.officer.into(),
                    certificate_no: certificate(town, who.officer),
                    issuing_authority: "浙江省人民政府".into(),
                    valid_from: "2026-01-01".into(),
                    valid_until: "2030-12-31".into(),
                }))
                .await?;
        }
    }
    let catalogue = liandong_runtime::load_catalogue(cfg)?;
    for d in &catalogue.departments {
        // The dispatcher of each department keeps its own registry.
        let req = signed(
            county::RegisterOfficerRequest {
                department: d.code.to_string(),
                officer: "sun.diaodu".into(),
                certificate_no: certificate(d.code.as_str(), "sun.diaodu"),
                issuing_authority: "浙江省人民政府".into(),
                valid_from: "2026-01-01".into(),
                valid_until: "2030-12-31".into(),
            },
            "sun.diaodu",
            "county_dispatcher",
            None,
            Some(d.code.as_str()),
        );
        c.county.register_officer(req).await?;
    }
    println!("持证上岗：演示执法人员的执法证已登记");
    Ok(())
}

/// Runs the demo against the services named in `cfg`.
pub async fn run(cfg: &Config) -> anyhow::Result<()> {
    if ISSUER.get().is_none() {
        let _ = ISSUER.set(Issuer::from_config(cfg)?);
    }
    let mut c = Clients {
        brigade: BrigadeServiceClient::new(channel(cfg.brigade_addr).await?),
        board: BoardServiceClient::new(channel(cfg.board_addr).await?),
        county: CountyServiceClient::new(channel(cfg.county_addr).await?),
        review: ReviewServiceClient::new(channel(cfg.review_addr).await?),
        disclosure: DisclosureServiceClient::new(channel(cfg.disclosure_addr).await?),
    };
    register_officers(&mut c, cfg).await?;
    use brigade::CaseSource as S;

    println!("一、职权范围内（大队自办）");
    let a = c
        .report(
            &officer(TOWN_A),
            report(
                TOWN_A,
                S::Patrol,
                &["CXGH-001"],
                VILLAGE_A,
                "村民未取得乡村建设规划许可证擅自建房",
            ),
        )
        .await?;
    c.brigade
        .assign_case(captain(TOWN_A).req(brigade::AssignCaseRequest {
            case_id: a.case_id.clone(),
            officers: vec!["wang.wu".into(), "li.si".into()],
        }))
        .await?;
    c.brigade
        .record_case_action(officer(TOWN_A).req(brigade::RecordCaseActionRequest {
            case_id: a.case_id.clone(),
            kind: "inspection".into(),
            note: "现场检查，拍照取证，询问当事人".into(),
            evidence_refs: vec![format!("{VILLAGE_A}-询问笔录.pdf")],
            ..Default::default()
        }))
        .await?;
    c.brigade
        .conclude_case(officer(TOWN_A).req(brigade::ConcludeCaseRequest {
            case_id: a.case_id.clone(),
            outcome: Some(outcome(
                "order_to_correct",
                0,
                &[],
                "责令停止建设、限期改正（城乡规划法第六十五条）",
            )),
            ..Default::default()
        }))
        .await?;
    println!("  {} → concluded（责令改正）", a.case_id);
    let b = c
        .report(
            &officer(TOWN_B),
            report(
                TOWN_B,
                S::Hotline12345,
                &["CSGL-001"],
                VILLAGE_B,
                "集镇街道两侧占道搭建摊棚",
            ),
        )
        .await?;
    c.brigade
        .assign_case(captain(TOWN_B).req(brigade::AssignCaseRequest {
            case_id: b.case_id.clone(),
            officers: vec!["wang.wu".into(), "li.si".into()],
        }))
        .await?;
    c.brigade
        .conclude_case(officer(TOWN_B).req(brigade::ConcludeCaseRequest {
            case_id: b.case_id.clone(),
            outcome: Some(outcome(
                "education",
                0,
                &[],
                "初次违法、情节轻微，教育劝导后当场自行拆除",
            )),
            ..Default::default()
        }))
        .await?;
    println!("  {} → concluded（教育为主，不予处罚）", b.case_id);

    println!("二、不属于职权范围（移送县直部门）");
    let d = c
        .report(
            &officer(TOWN_A),
            report(
                TOWN_A,
                S::GridCentre,
                &["LY-001"],
                VILLAGE_A,
                "后山滥伐林木约20株",
            ),
        )
        .await?;
    c.handle_referral(
        "forestry",
        &d.case_id,
        outcome("fine", 300_000, &[], "责令补种并处罚款3000元"),
    )
    .await?;
    c.wait_status(TOWN_A, &d.case_id, "closed").await?;
    let e = c
        .report(
            &officer(TOWN_A),
            report(
                TOWN_A,
                S::Patrol,
                &["YZ-001"],
                VILLAGE_A,
                "水库使用地笼网等禁用渔具捕捞",
            ),
        )
        .await?;
    c.handle_referral(
        "agriculture_rural",
        &e.case_id,
        outcome(
            "confiscation",
            0,
            &[("地笼", 35, "个"), ("渔网", 12, "匹")],
            "没收禁用渔具",
        ),
    )
    .await?;
    c.wait_status(TOWN_A, &e.case_id, "closed").await?;
    let p = c
        .report(
            &officer(TOWN_B),
            report(
                TOWN_B,
                S::GridCentre,
                &["HJ-001"],
                VILLAGE_B,
                "砖厂烟囱冒黑烟，疑似超标排放",
            ),
        )
        .await?;
    c.handle_referral(
        "ecology_environment",
        &p.case_id,
        outcome(
            "fine",
            5_000_000,
            &[],
            "超标排放大气污染物，责令改正并处罚款5万元",
        ),
    )
    .await?;
    c.wait_status(TOWN_B, &p.case_id, "closed").await?;
    // A returned referral: the chair settles the competence dispute, the new department handles it.
    let f = c
        .report(
            &officer(TOWN_A),
            report(
                TOWN_A,
                S::Cctv,
                &["JT-001"],
                VILLAGE_A,
                "天网监控发现货车长期违停村道",
            ),
        )
        .await?;
    let r = c.referral_of("public_security", &f.case_id).await?;
    c.county
        .return_referral(
            dispatcher("public_security").req(county::ReturnReferralRequest {
                referral_id: r.referral_id.clone(),
                reason: "村道不属于公安交警管辖范围".into(),
                not_competent: true,
            }),
        )
        .await?;
    println!("  public_security 退回 {}", r.referral_id);
    let dispute = c
        .agenda_item(TOWN_A, &f.case_id, "competence_dispute")
        .await?;
    c.board
        .settle_dispute(chair(TOWN_A).req(board::SettleDisputeRequest {
            item_id: dispute.item_id.clone(),
            department: "transport".into(),
            reason: "村道属农村公路，由交通运输部门管理".into(),
            meeting_id: String::new(),
        }))
        .await?;
    println!("  联席会议主任协调：改由 transport 办理");
    c.handle_referral(
        "transport",
        &f.case_id,
        outcome("warning", 0, &[], "警告并责令驶离"),
    )
    .await?;
    c.wait_status(TOWN_A, &f.case_id, "closed").await?;

    println!("三、联合处置（联席会议审定）");
    let g = c
        .report(
            &officer(TOWN_A),
            report(
                TOWN_A,
                S::PublicReport,
                &["TD-001"],
                VILLAGE_A,
                "群众举报：非法占用基本农田建设厂房",
            ),
        )
        .await?;
    let item = c.agenda_item(TOWN_A, &g.case_id, "joint_case").await?;
    c.board
        .record_opinion(member(TOWN_A).req(board::RecordOpinionRequest {
            item_id: item.item_id.clone(),
            opinion: "建议由自然资源部门牵头，农业农村部门配合复耕".into(),
        }))
        .await?;
    let meeting = c
        .board
        .record_meeting(chair(TOWN_A).req(board::RecordMeetingRequest {
            town: TOWN_A.into(),
            held_at: Some(now()),
            attendees: vec!["zhao.zhuxi".into(), "qian.weiyuan".into(), "li.si".into()],
            item_ids: vec![item.item_id.clone()],
            notes: "2026年第4次联席会议".into(),
        }))
        .await?
        .into_inner()
        .meeting
        .context("a meeting")?;
    c.board
        .approve_joint(chair(TOWN_A).req(board::ApproveJointRequest {
            item_id: item.item_id.clone(),
            lead_department: "natural_resources".into(),
            cooperating_departments: vec!["agriculture_rural".into()],
            instructions:
                "自然资源部门派驻机构受委托作出处理决定，农业农村部门配合复耕，大队协同执法".into(),
            meeting_id: meeting.meeting_id.clone(),
        }))
        .await?;
    println!("  联席会议审定：natural_resources 牵头，agriculture_rural 配合");
    let county_client = c.county.clone();
    let tasks = |department: &'static str| {
        let county = county_client.clone();
        let case_id = g.case_id.clone();
        async move {
            until(&format!("{department}'s task"), || {
                let mut county = county.clone();
                let case_id = case_id.clone();
                async move {
                    let tasks = county
                        .list_tasks(dispatcher(department).req(county::ListTasksRequest {
                            department: department.into(),
                            status: String::new(),
                            page_size: 200,
                        }))
                        .await?
                        .into_inner()
                        .tasks;
                    Ok(tasks.into_iter().find(|t| t.case_id == case_id))
                }
            })
            .await
        }
    };
    let lead = tasks("natural_resources").await?;
    c.county
        .record_entrusted_decision(dispatcher("natural_resources").req(
            county::RecordEntrustedDecisionRequest {
                task_id: lead.task_id.clone(),
                decision: Some(outcome(
                    "demolition",
                    0,
                    &[],
                    "责令退还非法占用的土地，限期拆除新建建筑物",
                )),
            },
        ))
        .await?;
    // A demolition is a major decision: the lead department's legal office reviews it first
    // (重大执法决定法制审核) and approves.
    c.approve_review(
        legal_officer("natural_resources"),
        "natural_resources",
        &g.case_id,
    )
    .await?;
    println!("  natural_resources 法制审核通过：责令退还土地、限期拆除");
    let coop = tasks("agriculture_rural").await?;
    c.county
        .complete_task(
            dispatcher("agriculture_rural").req(county::CompleteTaskRequest {
                task_id: coop.task_id.clone(),
                summary: "制定复耕方案并指导实施".into(),
            }),
        )
        .await?;
    let brigade = c.brigade.clone();
    until("the lead's decision at the brigade", || {
        let mut brigade = brigade.clone();
        let case_id = g.case_id.clone();
        async move {
            let case = brigade
                .get_case(officer(TOWN_A).req(brigade::GetCaseRequest { case_id }))
                .await?
                .into_inner()
                .case
                .context("a case")?;
            Ok(case.joint.and_then(|j| j.decision).map(|_| ()))
        }
    })
    .await?;
    c.brigade
        .record_joint_execution(officer(TOWN_A).req(brigade::RecordJointExecutionRequest {
            case_id: g.case_id.clone(),
            summary: "协同拆除违法建筑，土地已退还".into(),
        }))
        .await?;
    println!("  {} → closed（决定已执行）", g.case_id);
    // The reporters of public reports are called back (回访) once their cases are finished.
    println!("四、群众回访");
    for (town, case_id, satisfaction, note) in [
        (
            TOWN_A,
            &g.case_id,
            "basically_satisfied",
            "希望拆除后尽快复耕",
        ),
        (TOWN_B, &b.case_id, "satisfied", ""),
    ] {
        c.brigade
            .record_callback(officer(town).req(brigade::RecordCallbackRequest {
                case_id: case_id.clone(),
                satisfaction: satisfaction.into(),
                note: note.into(),
                called_back_by: "chen.huifang".into(),
                called_at: Some(now()),
                reopen: false,
            }))
            .await?;
        println!("  {case_id} 回访：{satisfaction}");
    }
    let h = c
        .report(
            &officer(TOWN_B),
            report(
                TOWN_B,
                S::Patrol,
                &["SL-002"],
                VILLAGE_B,
                "河道内夜间非法采砂",
            ),
        )
        .await?;
    c.agenda_item(TOWN_B, &h.case_id, "joint_case").await?;
    println!("  {} 待 {} 联席会议审定", h.case_id, TOWN_B);
    c.publish_disclosures().await?;
    Ok(())
}

/// The departments of the default catalogue, each of which publishes its own decisions.
const DEPARTMENTS: [&str; 9] = [
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

impl Clients {
    /// Every disclosure of one body (a town, or a department) with who publishes it.
    async fn disclosures_of(
        &mut self,
        town: Option<&'static str>,
        department: Option<&'static str>,
    ) -> anyhow::Result<(Who, Vec<disclosure::Disclosure>)> {
        let who = match (town, department) {
            (Some(t), _) => captain(t),
            (None, Some(d)) => dispatcher(d),
            (None, None) => bail!("a body is a town or a department"),
        };
        let list = self
            .disclosure
            .list_disclosures(who.req(disclosure::ListDisclosuresRequest {
                town: town.unwrap_or_default().into(),
                department: department.unwrap_or_default().into(),
                ..Default::default()
            }))
            .await?
            .into_inner()
            .disclosures;
        Ok((who, list))
    }

    /// Each deciding body publishes its pending disclosures (谁执法谁公示), so the public page
    /// shows the demo's decisions. Disclosures arrive as events, so this first waits until their
    /// number stops growing.
    async fn publish_disclosures(&mut self) -> anyhow::Result<()> {
        let bodies: Vec<(Option<&'static str>, Option<&'static str>)> = [TOWN_A, TOWN_B]
            .into_iter()
            .map(|t| (Some(t), None))
            .chain(DEPARTMENTS.into_iter().map(|d| (None, Some(d))))
            .collect();
        let mut seen = 0;
        let mut steady = 0;
        // Two seconds without a new one, within thirty.
        for _ in 0..150 {
            if steady >= 10 {
                break;
            }
            let mut count = 0;
            for (town, department) in &bodies {
                count += self.disclosures_of(*town, *department).await?.1.len();
            }
            if count > 0 && count == seen {
                steady += 1;
            } else {
                steady = 0;
                seen = count;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        if seen == 0 {
            bail!("no decision of the demo became a disclosure");
        }
        let mut published = 0;
        for (town, department) in bodies {
            let (who, list) = self.disclosures_of(town, department).await?;
            for d in list.iter().filter(|d| d.status == "pending") {
                self.disclosure
                    .publish_disclosure(who.req(disclosure::PublishDisclosureRequest {
                        disclosure_id: d.disclosure_id.clone(),
                    }))
                    .await?;
                published += 1;
            }
        }
        println!(
            "  公示：{published} 项执法决定已由作出决定的机关公开（{seen} 项中，未成年人案件不公开）"
        );
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use liandong_domain::towns::Towns;

    #[test]
    fn the_demo_reports_in_villages_of_the_registry() {
        let towns = Towns::shipped();
        for (town, village) in [(TOWN_A, VILLAGE_A), (TOWN_B, VILLAGE_B)] {
            let town = towns
                .town(&TownCode::parse(town).unwrap())
                .expect("a town of the registry");
            assert!(
                town.village_named(village).is_some(),
                "{village} is not a village of {}",
                town.name()
            );
        }
    }
}
