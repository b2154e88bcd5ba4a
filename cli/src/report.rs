//! `liandong report annual`: a town's yearly enforcement report (年度行政执法情况报告), in the
//! manner of section 三 of a town's annual law-enforcement report, as Markdown and HTML.
//!
//! Where the figures come from, each from the service that keeps them, over its gRPC API (no
//! service's database is opened: each service owns its own):
//! - the read model (`DashboardService.GetDashboard` for the town and the Beijing calendar
//!   year): decisions and their outcomes, fines, confiscations, cases per month, and each
//!   department's referrals and response times, the same figures the dashboard shows;
//! - the brigade (`ListCases`): every case of the town, by path and where it stands;
//! - the board (`GetActivityFigures`, `GetSatisfactionFigures`): patrols and persuasion
//!   turnouts, and the reporters' answers to call-backs (回访), when the board serves them;
//! - the disclosure service (`ListDisclosures`): the town's disclosures and their timeliness.
//!
//! The report acts as the town's joint-meeting chair, who may read all of these, with a token
//! signed by the hub's key like every other client's; each read is in the services' access logs.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::Context;
use chrono::{DateTime, Datelike, FixedOffset, Utc};
use liandong_config::Config;
use liandong_domain::auth::{Actor, Role};
use liandong_domain::catalogue::Catalogue;
use liandong_domain::ids::OfficerId;
use liandong_grpc::identity::Issuer;
use liandong_proto::board::v1::{self as board, board_service_client::BoardServiceClient};
use liandong_proto::brigade::v1::{self as brigade, brigade_service_client::BrigadeServiceClient};
use liandong_proto::disclosure::v1::{
    self as disclosure, disclosure_service_client::DisclosureServiceClient,
};
use liandong_proto::events::v1 as ev;
use liandong_proto::readmodel::v1::{
    self as readmodel, dashboard_service_client::DashboardServiceClient,
};
use liandong_proto::time::from_ts;
use maud::{DOCTYPE, PreEscaped, html};
use tonic::Request;
use tonic::transport::Channel;

/// The three paths in the report's words.
const PATHS: [(&str, &str); 3] = [
    ("in_scope", "职权范围内（大队自办）"),
    ("joint", "联合执法（联席会议审定、派驻机构受委托决定）"),
    ("out_of_scope", "职权范围外（通报、移送县直部门）"),
];

/// A path's cases: how many were reported, how many are finished.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PathRow {
    pub reported: u32,
    /// Concluded or closed.
    pub finished: u32,
    pub revoked: u32,
}

/// One step's response time at a department.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StepRow {
    pub step: String,
    pub count: u32,
    pub median_secs: Option<i64>,
    pub p90_secs: Option<i64>,
    pub on_time: u32,
    pub timed: u32,
}

/// A department's referrals and response times.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DepartmentRow {
    pub code: String,
    pub name: String,
    pub referrals: u32,
    pub tasks: u32,
    pub returned: u32,
    pub open: u32,
    pub overdue: u32,
    pub on_time: u32,
    pub timed: u32,
    pub steps: Vec<StepRow>,
}

/// The town's disclosures of the year and their timeliness.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DisclosureRow {
    pub decisions: u32,
    pub published_on_time: u32,
    pub published_late: u32,
    pub pending: u32,
    pub pending_overdue: u32,
    pub withheld: u32,
    pub withdrawn: u32,
}

/// Patrols and persuasion turnouts of the year.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ActivityRow {
    pub patrols: u32,
    pub persuasions: u32,
    pub persons_persuaded: u32,
}

/// The reporters' answers to call-backs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SatisfactionRow {
    pub satisfied: u32,
    pub basically_satisfied: u32,
    pub unsatisfied: u32,
    pub reopened: u32,
}

/// Every figure of one town's year.
#[derive(Debug, Clone, PartialEq)]
pub struct AnnualReport {
    pub town: String,
    pub town_name: String,
    pub year: i32,
    pub as_of: DateTime<Utc>,
    pub paths: BTreeMap<String, PathRow>,
    pub cases_by_month: Vec<(String, i64)>,
    pub decisions: u32,
    pub education_only: u32,
    pub penalties: u32,
    pub other_outcomes: u32,
    pub fines_fen: i64,
    /// Kind, count and unit (empty where the decision gave none).
    pub confiscated: Vec<(String, i64, String)>,
    pub confiscated_value_fen: i64,
    pub departments: Vec<DepartmentRow>,
    pub reviews_answered: u32,
    pub review_median_secs: Option<i64>,
    pub disclosure: DisclosureRow,
    /// `None` when the board keeps no such figures.
    pub activities: Option<ActivityRow>,
    pub satisfaction: Option<SatisfactionRow>,
}

impl AnnualReport {
    pub fn cases(&self) -> u32 {
        self.paths.values().map(|p| p.reported).sum()
    }
}

/// The Beijing calendar year of an instant.
fn beijing_year(at: DateTime<Utc>) -> i32 {
    at.with_timezone(&FixedOffset::east_opt(8 * 3600).expect("UTC+8"))
        .year()
}

/// Gathers the year's figures from the running services named in `cfg`.
pub async fn gather(cfg: &Config, town: &str, year: i32) -> anyhow::Result<AnnualReport> {
    // The report is of a town of the registry, named as the registry names it.
    let towns = liandong_runtime::load_towns(cfg)?;
    let town_code = towns.parse_known(town).context("--town")?;
    let town_name = towns.name_or_code(town);
    if !(2000..=2100).contains(&year) {
        anyhow::bail!("--year: a year from 2000 to 2100, not {year}");
    }
    let chair = Actor::new(
        OfficerId::parse("annual.report").expect("a valid officer id"),
        Role::BoardChair,
        Some(town_code),
        None,
    )
    .expect("a chair belongs to a town");
    // The most a list call returns (the hub's configured page size); a full page means the
    // report would miss some.
    let page = cfg.limits.page_size_max;
    let issuer = Issuer::from_config(cfg)?;
    let bearer = issuer.bearer(&chair);

    let mut dashboard = DashboardServiceClient::new(channel(cfg.readmodel_addr).await?);
    let figures = dashboard
        .get_dashboard(signed(
            &bearer,
            readmodel::GetDashboardRequest {
                town: town.into(),
                department: String::new(),
                from: format!("{year}-01-01"),
                to: format!("{year}-12-31"),
            },
        )?)
        .await
        .context("the read model's figures")?
        .into_inner();

    let mut brigade_client = BrigadeServiceClient::new(channel(cfg.brigade_addr).await?);
    let cases = brigade_client
        .list_cases(signed(
            &bearer,
            brigade::ListCasesRequest {
                town: town.into(),
                status: String::new(),
                page_size: page,
            },
        )?)
        .await
        .context("the brigade's cases")?
        .into_inner()
        .cases;
    if cases.len() >= page as usize {
        anyhow::bail!(
            "the town has {page} cases or more and ListCases returns at most {page}: the report would miss some"
        );
    }
    let mut paths: BTreeMap<String, PathRow> = PATHS
        .iter()
        .map(|(p, _)| ((*p).to_owned(), PathRow::default()))
        .collect();
    for case in &cases {
        let Some(at) = from_ts(case.created_at.as_ref()) else {
            continue;
        };
        if beijing_year(at) != year {
            continue;
        }
        let path = match case.triage.as_ref().map(|t| t.path()) {
            Some(ev::Path::InScope) => "in_scope",
            Some(ev::Path::Joint) => "joint",
            Some(ev::Path::OutOfScope) => "out_of_scope",
            _ => continue,
        };
        let row = paths.entry(path.into()).or_default();
        row.reported += 1;
        match case.status.as_str() {
            "concluded" | "closed" => row.finished += 1,
            "revoked" => row.revoked += 1,
            _ => {}
        }
    }

    let mut board_client = BoardServiceClient::new(channel(cfg.board_addr).await?);
    let activities = match board_client
        .get_activity_figures(signed(
            &bearer,
            board::GetActivityFiguresRequest {
                town: town.into(),
                year,
            },
        )?)
        .await
    {
        Ok(r) => {
            let r = r.into_inner();
            Some(ActivityRow {
                patrols: r.patrols,
                persuasions: r.persuasions,
                persons_persuaded: r.persons_persuaded,
            })
        }
        Err(s) if s.code() == tonic::Code::Unimplemented => None,
        Err(s) => return Err(s).context("the board's activity figures"),
    };
    let satisfaction = match board_client
        .get_satisfaction_figures(signed(
            &bearer,
            board::GetSatisfactionFiguresRequest {
                town: town.into(),
                year,
            },
        )?)
        .await
    {
        Ok(r) => {
            let r = r.into_inner();
            Some(SatisfactionRow {
                satisfied: r.satisfied,
                basically_satisfied: r.basically_satisfied,
                unsatisfied: r.unsatisfied,
                reopened: r.reopened,
            })
        }
        Err(s) if s.code() == tonic::Code::Unimplemented => None,
        Err(s) => return Err(s).context("the board's call-back figures"),
    };

    let mut disclosure_client = DisclosureServiceClient::new(channel(cfg.disclosure_addr).await?);
    let disclosures = disclosure_client
        .list_disclosures(signed(
            &bearer,
            disclosure::ListDisclosuresRequest {
                town: town.into(),
                page_size: page,
                ..Default::default()
            },
        )?)
        .await
        .context("the town's disclosures")?
        .into_inner()
        .disclosures;
    if disclosures.len() >= page as usize {
        anyhow::bail!(
            "the town has {page} disclosures or more and ListDisclosures returns at most {page}: the report would miss some"
        );
    }
    let mut d = DisclosureRow::default();
    for x in disclosures
        .iter()
        .filter(|x| from_ts(x.created_at.as_ref()).is_some_and(|at| beijing_year(at) == year))
    {
        d.decisions += 1;
        match x.status.as_str() {
            "published" if x.published_late => d.published_late += 1,
            "published" => d.published_on_time += 1,
            "pending" if x.overdue => {
                d.pending += 1;
                d.pending_overdue += 1;
            }
            "pending" => d.pending += 1,
            "withheld" => d.withheld += 1,
            "withdrawn" => d.withdrawn += 1,
            _ => {}
        }
    }

    let catalogue = liandong_runtime::load_catalogue(cfg)?;
    let departments = department_rows(&catalogue, &figures.departments);
    let outcomes = figures.outcomes.unwrap_or_default();
    let review = figures.review.unwrap_or_default();
    Ok(AnnualReport {
        town: town.into(),
        town_name,
        year,
        as_of: from_ts(figures.as_of.as_ref()).unwrap_or_else(Utc::now),
        paths,
        cases_by_month: figures
            .cases_by_month
            .iter()
            .map(|c| (c.key.clone(), c.count))
            .collect(),
        decisions: outcomes.decisions,
        education_only: outcomes.education_only,
        penalties: outcomes.penalties,
        other_outcomes: outcomes.other,
        fines_fen: outcomes.fines_fen,
        confiscated: outcomes
            .confiscated
            .iter()
            .map(|c| (c.key.clone(), c.count, c.unit.clone()))
            .collect(),
        confiscated_value_fen: outcomes.confiscated_value_fen,
        departments,
        reviews_answered: review.answered,
        review_median_secs: review.median_secs,
        disclosure: d,
        activities,
        satisfaction,
    })
}

fn department_rows(
    catalogue: &Catalogue,
    figures: &[readmodel::DepartmentFigures],
) -> Vec<DepartmentRow> {
    figures
        .iter()
        .filter(|f| f.referrals + f.tasks > 0)
        .map(|f| DepartmentRow {
            code: f.department.clone(),
            name: catalogue
                .departments
                .iter()
                .find(|d| d.code.as_str() == f.department)
                .map_or_else(|| f.department.clone(), |d| d.name.clone()),
            referrals: f.referrals,
            tasks: f.tasks,
            returned: f.returned,
            open: f.open,
            overdue: f.overdue,
            on_time: f.on_time,
            timed: f.timed,
            steps: f
                .steps
                .iter()
                .map(|s| StepRow {
                    step: s.step.clone(),
                    count: s.count,
                    median_secs: s.median_secs,
                    p90_secs: s.p90_secs,
                    on_time: s.on_time,
                    timed: s.timed,
                })
                .collect(),
        })
        .collect()
}

/// `msg` with the report's signed token.
fn signed<T>(bearer: &str, msg: T) -> anyhow::Result<Request<T>> {
    let mut r = Request::new(msg);
    r.metadata_mut().insert("authorization", bearer.parse()?);
    Ok(r)
}

async fn channel(addr: std::net::SocketAddr) -> anyhow::Result<Channel> {
    tonic::transport::Endpoint::from_shared(format!("http://{addr}"))?
        .connect()
        .await
        .with_context(|| format!("no service answers at {addr}"))
}

/// Money in fen as yuan: `800000` → `8000`, `12345` → `123.45`.
pub fn yuan(fen: i64) -> String {
    if fen % 100 == 0 {
        format!("{}", fen / 100)
    } else {
        format!("{}.{:02}", fen / 100, (fen % 100).abs())
    }
}

/// A duration the way a report gives it: minutes, hours or days.
pub fn duration_zh(secs: Option<i64>) -> String {
    match secs {
        None => "—".into(),
        Some(s) if s < 60 => format!("{} 秒", s.max(0)),
        Some(s) if s < 3600 => format!("{} 分钟", (s + 59) / 60),
        Some(s) if s < 48 * 3600 => format!("{:.1} 小时", s as f64 / 3600.0),
        Some(s) => format!("{:.1} 天", s as f64 / 86400.0),
    }
}

fn rate(part: u32, whole: u32) -> String {
    if whole == 0 {
        "—".into()
    } else {
        format!("{:.1}%", f64::from(part) * 100.0 / f64::from(whole))
    }
}

fn step_zh(step: &str) -> &str {
    match step {
        "sign_for" => "签收",
        "accept" => "受理",
        "conclude" => "办结",
        other => other,
    }
}

/// One block of the report: a heading, sentences, and tables.
enum Block {
    Heading(u8, String),
    Para(String),
    Table(Vec<String>, Vec<Vec<String>>),
}

/// The report's content, shared by both renderings.
fn blocks(r: &AnnualReport) -> Vec<Block> {
    use Block::{Heading, Para, Table};
    let mut b = Vec::new();
    b.push(Heading(
        1,
        format!("{}{}年度行政执法情况报告", r.town_name, r.year),
    ));
    b.push(Para(format!(
        "行政区划代码 {}。统计期间 {}年1月1日至12月31日（北京时间）；数据截至 {}，取自联动平台各服务的记录。",
        r.town,
        r.year,
        r.as_of
            .with_timezone(&FixedOffset::east_opt(8 * 3600).expect("UTC+8"))
            .format("%Y年%m月%d日 %H:%M")
    )));
    b.push(Heading(2, "三、行政执法情况".into()));
    b.push(Heading(3, "（一）基本情况".into()));
    let finished: u32 = r.paths.values().map(|p| p.finished).sum();
    b.push(Para(format!(
        "全年受理各类违法违规线索并立案 {} 件，已办结 {} 件，办结率 {}。",
        r.cases(),
        finished,
        rate(finished, r.cases())
    )));
    b.push(Heading(3, "（二）主要做法及成效".into()));
    b.push(Heading(4, "一是分类处置，联动协作".into()));
    b.push(Para(
        "按三类路径处置：职权范围内的由镇综合行政执法大队及时处置；情况复杂、职能交叉的由镇行政执法联席会议审定、县直部门派驻机构受委托依法作出决定；职权范围外的及时通报、移送县直相关职能部门。"
            .into(),
    ));
    b.push(Table(
        vec![
            "处置路径".into(),
            "案件数".into(),
            "已办结".into(),
            "撤销".into(),
            "在办".into(),
        ],
        PATHS
            .iter()
            .map(|(key, name)| {
                let p = r.paths.get(*key).cloned().unwrap_or_default();
                vec![
                    (*name).to_owned(),
                    p.reported.to_string(),
                    p.finished.to_string(),
                    p.revoked.to_string(),
                    (p.reported - p.finished - p.revoked).to_string(),
                ]
            })
            .collect(),
    ));
    if !r.cases_by_month.is_empty() {
        b.push(Table(
            vec!["月份".into(), "案件数".into()],
            r.cases_by_month
                .iter()
                .map(|(m, n)| vec![m.clone(), n.to_string()])
                .collect(),
        ));
    }
    b.push(Heading(4, "二是刚柔并济，教育为主、处罚为辅".into()));
    let mut s = format!(
        "全年作出执法决定 {} 件，其中说服教育、不予处罚 {} 件，行政处罚 {} 件，其他（责令改正等）{} 件；处罚金额 {} 元",
        r.decisions,
        r.education_only,
        r.penalties,
        r.other_outcomes,
        yuan(r.fines_fen)
    );
    if r.confiscated.is_empty() {
        s.push('。');
    } else {
        let items: Vec<String> = r
            .confiscated
            .iter()
            .map(|(k, n, unit)| {
                let unit = if unit.is_empty() { "件" } else { unit };
                format!("{k} {n} {unit}")
            })
            .collect();
        let _ = write!(s, "；收缴{}", items.join("、"));
        if r.confiscated_value_fen > 0 {
            let _ = write!(s, "，价值 {} 元", yuan(r.confiscated_value_fen));
        }
        s.push('。');
    }
    b.push(Para(s));
    match &r.activities {
        Some(a) => b.push(Para(format!(
            "日常巡查 {} 次；交通劝导出勤 {} 次，劝导 {} 人次。",
            a.patrols, a.persuasions, a.persons_persuaded
        ))),
        None => b.push(Para("巡查与交通劝导：本平台尚未记录。".into())),
    }
    b.push(Para(format!(
        "重大执法决定法制审核 {} 件，审核用时中位数 {}。",
        r.reviews_answered,
        duration_zh(r.review_median_secs)
    )));
    b.push(Heading(4, "三是限时办结，部门响应".into()));
    if r.departments.is_empty() {
        b.push(Para("本年度无通报、移送县直部门的案件。".into()));
    } else {
        let total_on_time: u32 = r.departments.iter().map(|d| d.on_time).sum();
        let total_timed: u32 = r.departments.iter().map(|d| d.timed).sum();
        b.push(Para(format!(
            "通报、移送及联合执法任务涉及县直部门 {} 个，按时响应率 {}（自移送之日起按工作日计）。",
            r.departments.len(),
            rate(total_on_time, total_timed)
        )));
        let mut rows = Vec::new();
        for d in &r.departments {
            let step = |name: &str| d.steps.iter().find(|s| s.step == name);
            let med = |name: &str| duration_zh(step(name).and_then(|s| s.median_secs));
            let p90 = |name: &str| duration_zh(step(name).and_then(|s| s.p90_secs));
            rows.push(vec![
                d.name.clone(),
                d.referrals.to_string(),
                d.tasks.to_string(),
                d.returned.to_string(),
                format!("{} / {}", med("sign_for"), p90("sign_for")),
                format!("{} / {}", med("accept"), p90("accept")),
                format!("{} / {}", med("conclude"), p90("conclude")),
                rate(d.on_time, d.timed),
                format!("{}（超期 {}）", d.open, d.overdue),
            ]);
        }
        b.push(Table(
            vec![
                "部门".into(),
                "移送".into(),
                "联合任务".into(),
                "退回".into(),
                format!("{}（中位数 / 90%）", step_zh("sign_for")),
                format!("{}（中位数 / 90%）", step_zh("accept")),
                format!("{}（中位数 / 90%）", step_zh("conclude")),
                "按时率".into(),
                "未办结".into(),
            ],
            rows,
        ));
    }
    b.push(Heading(4, "四是阳光执法，依法公示".into()));
    let d = &r.disclosure;
    let published = d.published_on_time + d.published_late;
    b.push(Para(format!(
        "按照“谁执法谁公示”原则，镇政府作出的执法决定 {} 件应予公示：已按时公示 {} 件，逾期公示 {} 件，待公示 {} 件（其中已逾期 {} 件），涉未成年人不予公示 {} 件，决定变更撤销后撤回 {} 件；按时公示率 {}。",
        d.decisions,
        d.published_on_time,
        d.published_late,
        d.pending,
        d.pending_overdue,
        d.withheld,
        d.withdrawn,
        rate(d.published_on_time, published + d.pending_overdue)
    )));
    b.push(Heading(4, "五是群众回访".into()));
    match &r.satisfaction {
        Some(s) => {
            let answered = s.satisfied + s.basically_satisfied + s.unsatisfied;
            b.push(Para(format!(
                "对群众举报、12345热线转办的案件办结后回访 {} 次：满意 {} 次，基本满意 {} 次，不满意 {} 次，满意率（含基本满意）{}；因不满意重新办理 {} 件。",
                answered,
                s.satisfied,
                s.basically_satisfied,
                s.unsatisfied,
                rate(s.satisfied + s.basically_satisfied, answered),
                s.reopened
            )));
        }
        None => b.push(Para("群众回访：本平台尚未记录。".into())),
    }
    b
}

/// The report as Markdown.
pub fn markdown(r: &AnnualReport) -> String {
    let mut out = String::new();
    for block in blocks(r) {
        match block {
            Block::Heading(level, text) => {
                let _ = writeln!(out, "{} {text}\n", "#".repeat(usize::from(level)));
            }
            Block::Para(text) => {
                let _ = writeln!(out, "{text}\n");
            }
            Block::Table(head, rows) => {
                let cell = |s: &str| s.replace('|', "\\|");
                let _ = writeln!(
                    out,
                    "| {} |",
                    head.iter().map(|h| cell(h)).collect::<Vec<_>>().join(" | ")
                );
                let _ = writeln!(out, "|{}", " --- |".repeat(head.len()));
                for row in rows {
                    let _ = writeln!(
                        out,
                        "| {} |",
                        row.iter().map(|c| cell(c)).collect::<Vec<_>>().join(" | ")
                    );
                }
                out.push('\n');
            }
        }
    }
    out
}

/// The report page's stylesheet: the page is one self-contained file, so it is inline.
const STYLE: &str = "body{font-family:\"Noto Sans CJK SC\",\"Source Han Sans SC\",sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;line-height:1.7;color:#222}\
h1{text-align:center;font-size:1.6rem}h2{font-size:1.25rem;margin-top:1.6rem}h3{font-size:1.1rem}h4{font-size:1rem}\
table{border-collapse:collapse;margin:0.8rem 0;width:100%}th,td{border:1px solid #999;padding:0.3rem 0.5rem;text-align:left}th{background:#f0f0f0}\
@media print{body{margin:0}}";

/// The report as one self-contained HTML page (Simplified Chinese, printable): a maud
/// template, so the text from the records is escaped by default.
pub fn html(r: &AnnualReport) -> String {
    let title = format!("{}{}年度行政执法情况报告", r.town_name, r.year);
    // Line breaks between the blocks keep the page readable as text.
    html! {
        (DOCTYPE) "\n"
        html lang="zh-CN" {
            "\n"
            head {
                "\n" meta charset="utf-8"; "\n"
                title { (title) } "\n"
                style { (PreEscaped(STYLE)) } "\n"
            }
            "\n"
            body {
                "\n"
                @for block in blocks(r) {
                    @match block {
                        Block::Heading(level, text) => {
                            @match level {
                                1 => h1 { (text) },
                                2 => h2 { (text) },
                                3 => h3 { (text) },
                                _ => h4 { (text) },
                            }
                            "\n"
                        }
                        Block::Para(text) => { p { (text) } "\n" }
                        Block::Table(head, rows) => {
                            table {
                                "\n"
                                thead { tr { @for h in &head { th { (h) } } } }
                                "\n"
                                tbody {
                                    "\n"
                                    @for row in &rows {
                                        tr { @for c in row { td { (c) } } }
                                        "\n"
                                    }
                                }
                                "\n"
                            }
                            "\n"
                        }
                    }
                }
            }
            "\n"
        }
        "\n"
    }
    .into_string()
}

/// Gathers the figures and writes `<town>-<year>-annual-report.{md,html}` into `out`.
pub async fn annual(
    cfg: &Config,
    town: &str,
    year: i32,
    out: &Path,
) -> anyhow::Result<(PathBuf, PathBuf)> {
    let report = gather(cfg, town, year).await?;
    std::fs::create_dir_all(out).with_context(|| format!("cannot create {}", out.display()))?;
    let stem = format!("{town}-{year}-annual-report");
    let md = out.join(format!("{stem}.md"));
    let page = out.join(format!("{stem}.html"));
    std::fs::write(&md, markdown(&report))
        .with_context(|| format!("cannot write {}", md.display()))?;
    std::fs::write(&page, html(&report))
        .with_context(|| format!("cannot write {}", page.display()))?;
    Ok((md, page))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_and_durations_read_as_a_report_gives_them() {
        assert_eq!(yuan(800_000), "8000");
        assert_eq!(yuan(12_345), "123.45");
        assert_eq!(duration_zh(None), "—");
        assert_eq!(duration_zh(Some(0)), "0 秒");
        assert_eq!(duration_zh(Some(59)), "59 秒");
        assert_eq!(duration_zh(Some(90)), "2 分钟");
        assert_eq!(duration_zh(Some(5 * 3600)), "5.0 小时");
        assert_eq!(duration_zh(Some(3 * 86400)), "3.0 天");
        assert_eq!(rate(1, 3), "33.3%");
        assert_eq!(rate(0, 0), "—");
    }

    /// A report with hostile text wherever a name comes from the records or the registry.
    fn hostile() -> AnnualReport {
        let at = DateTime::<Utc>::from_timestamp(1_780_000_000, 0).unwrap();
        AnnualReport {
            town: HOSTILE.into(),
            town_name: HOSTILE.into(),
            year: 2026,
            as_of: at,
            paths: BTreeMap::new(),
            cases_by_month: vec![(HOSTILE.into(), 1)],
            decisions: 1,
            education_only: 0,
            penalties: 1,
            other_outcomes: 0,
            fines_fen: 100,
            confiscated: vec![(HOSTILE.into(), 2, HOSTILE.into())],
            confiscated_value_fen: 0,
            departments: vec![DepartmentRow {
                code: HOSTILE.into(),
                name: HOSTILE.into(),
                steps: vec![StepRow {
                    step: HOSTILE.into(),
                    count: 1,
                    median_secs: Some(60),
                    p90_secs: None,
                    on_time: 1,
                    timed: 1,
                }],
                referrals: 1,
                tasks: 0,
                returned: 0,
                open: 0,
                overdue: 0,
                on_time: 1,
                timed: 1,
            }],
            reviews_answered: 0,
            review_median_secs: None,
            disclosure: DisclosureRow::default(),
            activities: None,
            satisfaction: None,
        }
    }

    const HOSTILE: &str = "<script>alert(1)</script>\"'><img src=x onerror=alert(2)>&amp;";
    const ESCAPED: &str = "&lt;script&gt;alert(1)&lt;/script&gt;&quot;'&gt;&lt;img src=x onerror=alert(2)&gt;&amp;amp;";

    #[test]
    fn text_from_the_records_is_escaped_in_the_page() {
        let page = html(&hostile());
        assert!(!page.contains("<script"), "{page}");
        assert!(!page.contains("<img"), "{page}");
        assert!(!page.contains("\"'>"), "{page}");
        assert!(
            page.contains(&format!("<title>{ESCAPED}2026年度行政执法情况报告</title>")),
            "{page}"
        );
        assert!(
            page.contains(&format!("<h1>{ESCAPED}2026年度行政执法情况报告</h1>")),
            "{page}"
        );
        assert!(page.contains(&format!("<td>{ESCAPED}</td>")), "{page}");
        assert!(
            page.starts_with("<!DOCTYPE html>\n<html lang=\"zh-CN\">"),
            "{page}"
        );
        assert!(page.contains(&format!("<style>{STYLE}</style>")), "{page}");
        // The Markdown keeps the text as it is: it is not HTML.
        assert!(markdown(&hostile()).contains(HOSTILE));
    }
}
