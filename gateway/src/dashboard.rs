//! The dashboard (统计看板) for the joint meeting's chair and the county leadership: figures from
//! the read model, rendered on the server in Simplified Chinese (or `?lang=en` English) with
//! inline SVG charts, filtered by period, town and department, and kept current without a
//! reload by server-sent events (`/dashboard/events`), which carry the re-rendered figures.
//!
//! The caller is the one the signed token names: the `Authorization` header, or for a browser
//! (which cannot add headers to a page or an `EventSource`) the `liandong_token` cookie. The
//! gateway forwards it; the read model verifies it and decides what the caller may read.

use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::Arc;

use axum::Router;
use axum::extract::{Query, State};
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE, COOKIE};
use axum::http::{HeaderMap, StatusCode};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use futures::{Stream, StreamExt};
use liandong_config::Config;
use liandong_domain::catalogue::Catalogue;
use liandong_domain::ids::{DepartmentCode, MatterCode};
use liandong_domain::towns::Towns;
use liandong_grpc::AUTHORIZATION;
use liandong_proto::readmodel::v1::dashboard_service_client::DashboardServiceClient;
use liandong_proto::readmodel::v1::{self as pb};
use maud::{DOCTYPE, Markup, html};
use tonic::transport::Channel;

use crate::call::CALL_TIMEOUT;
use crate::public::{Lang, outcome_label, yuan};

const JS: &str = include_str!("../assets/dashboard.js");

/// The cookie a browser carries its signed token in.
pub const TOKEN_COOKIE: &str = "liandong_token";

struct Dashboard {
    catalogue: Catalogue,
    towns: Towns,
    client: DashboardServiceClient<Channel>,
}

/// `/dashboard`, `/dashboard/events` and the page's script.
pub fn router(cfg: &Config, channel: Channel) -> anyhow::Result<Router> {
    let state = Arc::new(Dashboard {
        catalogue: liandong_runtime::load_catalogue(cfg)?,
        towns: liandong_runtime::load_towns(cfg)?,
        client: DashboardServiceClient::new(channel),
    });
    Ok(Router::new()
        .route("/dashboard", get(page))
        .route("/dashboard/events", get(events))
        .route(
            "/static/dashboard.js",
            get(|| async {
                (
                    [
                        (CONTENT_TYPE, "text/javascript; charset=utf-8"),
                        (CACHE_CONTROL, "public, max-age=300"),
                    ],
                    JS,
                )
            }),
        )
        .with_state(state))
}

/// The caller's token: the `Authorization` header, else the cookie, as `Bearer <token>`.
fn bearer(headers: &HeaderMap) -> Option<String> {
    if let Some(v) = headers.get(AUTHORIZATION).and_then(|v| v.to_str().ok()) {
        return Some(v.to_owned());
    }
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == TOKEN_COOKIE)
        .map(|(_, v)| format!("Bearer {v}"))
}

fn request<T>(msg: T, token: Option<&str>) -> tonic::Request<T> {
    let mut r = tonic::Request::new(msg);
    if let Some(t) = token.and_then(|t| t.parse().ok()) {
        r.metadata_mut().insert(AUTHORIZATION, t);
    }
    r
}

fn filters(q: &HashMap<String, String>) -> pb::GetDashboardRequest {
    let get = |k: &str| q.get(k).map(|v| v.trim().to_owned()).unwrap_or_default();
    pb::GetDashboardRequest {
        town: get("town"),
        department: get("department"),
        from: get("from"),
        to: get("to"),
    }
}

async fn fetch(
    d: &Dashboard,
    f: &pb::GetDashboardRequest,
    token: Option<&str>,
) -> Result<pb::GetDashboardResponse, tonic::Status> {
    let mut client = d.client.clone();
    match tokio::time::timeout(
        CALL_TIMEOUT,
        client.get_dashboard(request(f.clone(), token)),
    )
    .await
    {
        Ok(r) => r.map(|r| r.into_inner()),
        Err(_) => Err(tonic::Status::deadline_exceeded(
            "the read model did not answer",
        )),
    }
}

async fn page(
    State(d): State<Arc<Dashboard>>,
    Query(q): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    let lang = Lang::from_query(&q);
    let f = filters(&q);
    let token = bearer(&headers);
    let (status, body) = match fetch(&d, &f, token.as_deref()).await {
        Ok(figures) => (
            StatusCode::OK,
            figures_html(lang, &figures, &d.catalogue, &d.towns),
        ),
        Err(e) => {
            let status = match e.code() {
                tonic::Code::Unauthenticated => StatusCode::UNAUTHORIZED,
                tonic::Code::PermissionDenied => StatusCode::FORBIDDEN,
                tonic::Code::InvalidArgument => StatusCode::BAD_REQUEST,
                _ => StatusCode::SERVICE_UNAVAILABLE,
            };
            if status == StatusCode::SERVICE_UNAVAILABLE {
                tracing::warn!(code = ?e.code(), message = %e.message(), "The read model did not answer the dashboard.");
            }
            let msg = match status {
                StatusCode::UNAUTHORIZED => lang.t("请先登录。", "Please sign in."),
                StatusCode::FORBIDDEN => {
                    lang.t("您无权查看这些统计。", "You may not read these figures.")
                }
                StatusCode::BAD_REQUEST => lang.t("筛选条件有误：", "The filters are wrong: "),
                _ => lang.t(
                    "统计暂时无法读取，请稍后再试。",
                    "The figures cannot be read at the moment; please try again later.",
                ),
            };
            let detail = (status == StatusCode::BAD_REQUEST).then(|| e.message());
            (
                status,
                html! { p class="notice" role="alert" { (msg) @if let Some(d) = detail { (d) } } },
            )
        }
    };
    (status, render(lang, &f, body, &q, &d.catalogue, &d.towns)).into_response()
}

/// Server-sent events: `figures`, the re-rendered figures, whenever the read model applied an
/// event (and once at the start), for the same filters and caller as the page.
async fn events(
    State(d): State<Arc<Dashboard>>,
    Query(q): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    let lang = Lang::from_query(&q);
    let f = filters(&q);
    let token = bearer(&headers);
    let mut client = d.client.clone();
    let watch = match client
        .watch_dashboard(request(pb::WatchDashboardRequest {}, token.as_deref()))
        .await
    {
        Ok(s) => s.into_inner(),
        Err(e) => {
            let status = match e.code() {
                tonic::Code::Unauthenticated => StatusCode::UNAUTHORIZED,
                tonic::Code::PermissionDenied => StatusCode::FORBIDDEN,
                _ => StatusCode::SERVICE_UNAVAILABLE,
            };
            return (status, e.message().to_owned()).into_response();
        }
    };
    let stream = figures_stream(d, f, token, lang, watch);
    Sse::new(stream)
        .keep_alive(KeepAlive::default())
        .into_response()
}

fn figures_stream(
    d: Arc<Dashboard>,
    f: pb::GetDashboardRequest,
    token: Option<String>,
    lang: Lang,
    watch: tonic::Streaming<pb::WatchDashboardResponse>,
) -> impl Stream<Item = Result<Event, Infallible>> {
    // The page's stream ends at the watch's first error: the browser's EventSource then
    // reconnects and starts a new watch, which reads the figures afresh.
    watch
        .scan((), |(), m| {
            futures::future::ready(
                m.map_err(|e| tracing::info!(error = %e, "The dashboard's watch ended."))
                    .ok(),
            )
        })
        .then(move |m| {
            let d = d.clone();
            let f = f.clone();
            let token = token.clone();
            async move {
                let version = m.version;
                let event = match fetch(&d, &f, token.as_deref()).await {
                    Ok(figures) => Event::default()
                        .event("figures")
                        .id(version.to_string())
                        .data(
                            figures_html(lang, &figures, &d.catalogue, &d.towns)
                                .into_string()
                                .replace('\n', " "),
                        ),
                    Err(e) => Event::default()
                        .event("failed")
                        .data(e.message().replace('\n', " ")),
                };
                Ok(event)
            }
        })
}

fn department_name(cat: &Catalogue, code: &str, lang: Lang) -> String {
    DepartmentCode::parse(code)
        .ok()
        .and_then(|c| cat.department(&c))
        .map(|d| match lang {
            Lang::Zh => d.name.clone(),
            Lang::En => d.name_en.clone(),
        })
        .unwrap_or_else(|| code.to_owned())
}

fn matter_name(cat: &Catalogue, code: &str, lang: Lang) -> String {
    MatterCode::parse(code)
        .ok()
        .and_then(|c| cat.matter(&c))
        .map(|m| match lang {
            // The code first, so a name cut to fit a chart keeps it.
            Lang::Zh => format!("{code} {}", m.name),
            Lang::En => format!("{code} {}", m.name_en),
        })
        .unwrap_or_else(|| code.to_owned())
}

fn path_name(path: &str, lang: Lang) -> &str {
    match path {
        "in_scope" => lang.t("镇街自办", "In scope (town)"),
        "joint" => lang.t("联合执法", "Joint"),
        "out_of_scope" => lang.t("移送部门", "Referred out"),
        other => other,
    }
}

fn step_name(step: &str, lang: Lang) -> &str {
    match step {
        "sign_for" => lang.t("签收", "Sign for"),
        "accept" => lang.t("受理", "Accept"),
        "conclude" => lang.t("办结", "Conclude"),
        other => other,
    }
}

/// A duration as people read it: days and hours, or hours and minutes.
fn duration(secs: i64, lang: Lang) -> String {
    let (d, h, m) = (secs / 86_400, secs % 86_400 / 3600, secs % 3600 / 60);
    match lang {
        Lang::Zh if d > 0 => format!("{d}天{h}小时"),
        Lang::Zh if h > 0 => format!("{h}小时{m}分"),
        Lang::Zh if m > 0 => format!("{m}分"),
        Lang::Zh => format!("{}秒", secs.max(0)),
        Lang::En if d > 0 => format!("{d} d {h} h"),
        Lang::En if h > 0 => format!("{h} h {m} min"),
        Lang::En if m > 0 => format!("{m} min"),
        Lang::En => format!("{} s", secs.max(0)),
    }
}

fn opt_duration(secs: Option<i64>, lang: Lang) -> String {
    secs.map(|s| duration(s, lang))
        .unwrap_or_else(|| "—".into())
}

fn percent(hits: u32, total: u32) -> String {
    if total == 0 {
        return "—".into();
    }
    let permille = (u64::from(hits) * 2000 + u64::from(total)) / (2 * u64::from(total));
    format!("{}.{}%", permille / 10, permille % 10)
}

/// An on-time rate, or "no data" when no step was timed (never 0 %).
fn on_time_rate(hits: u32, total: u32, lang: Lang) -> String {
    if total == 0 {
        return lang.t("暂无数据", "no data").into();
    }
    percent(hits, total)
}

/// A time in working days, the unit of the limits.
fn opt_working_days(days: Option<i64>, lang: Lang) -> String {
    match days {
        Some(d) => format!("{d}{}", lang.t("个工作日", " wd")),
        None => "—".into(),
    }
}

/// A horizontal bar chart in inline SVG: one bar per row, its value written beside it.
fn bars(id: &str, title: &str, rows: &[(String, i64, String)]) -> Markup {
    let max = rows.iter().map(|r| r.1).max().unwrap_or(0).max(1);
    let (row_h, label_w, bar_w) = (26, 190, 300);
    let height = rows.len().max(1) * row_h + 8;
    html! {
        figure class="chart" id=(id) {
            figcaption { (title) }
            svg role="img" aria-label=(title) viewBox={ "0 0 " (label_w + bar_w + 120) " " (height) }
                width="100%" height=(height) {
                @if rows.is_empty() { text x="0" y="18" class="muted" { "—" } }
                @for (i, (label, value, shown)) in rows.iter().enumerate() {
                    @let y = i * row_h + 4;
                    // A long name is cut to fit beside its bar; the whole name is the label's title.
                    @let cut: String = if label.chars().count() > 13 {
                        label.chars().take(12).chain(std::iter::once('…')).collect()
                    } else {
                        label.clone()
                    };
                    @let w = ((*value as f64 / max as f64 * bar_w as f64).round() as i64).max(1);
                    text x=(label_w - 8) y=(y + 16) text-anchor="end" { title { (label) } (cut) }
                    rect x=(label_w) y=(y) width=(w) height=(row_h - 8) rx="3" {}
                    text x=(label_w as i64 + w + 6) y=(y + 16) { (shown) }
                }
            }
        }
    }
}

/// A deciding body of the disclosure figures (`town:<code>` or `department:<code>`) as people
/// read it: the town's government from the registry, the department's name from the catalogue.
fn body_name(cat: &Catalogue, towns: &Towns, body: &str, lang: Lang) -> String {
    match body.split_once(':') {
        Some(("department", code)) => department_name(cat, code, lang),
        Some((_, code)) => match lang {
            Lang::Zh => towns.government_or_code(code),
            Lang::En => towns.government_en_or_code(code),
        },
        None => body.to_owned(),
    }
}

/// The figures: everything that changes with the events, replaced in place by the SSE script.
pub fn figures_html(
    lang: Lang,
    r: &pb::GetDashboardResponse,
    cat: &Catalogue,
    towns: &Towns,
) -> Markup {
    let outcomes = r.outcomes.clone().unwrap_or_default();
    let review = r.review.unwrap_or_default();
    let open_overdue = r.open.iter().filter(|o| o.overdue).count();
    let conclude: Vec<(String, i64, String)> = r
        .departments
        .iter()
        .filter_map(|d| {
            let s = d.steps.iter().find(|s| s.step == "conclude")?;
            let m = s.median_secs?;
            Some((
                department_name(cat, &d.department, lang),
                m,
                duration(m, lang),
            ))
        })
        .collect();
    let rows =
        |counts: &[pb::Count], name: &dyn Fn(&str) -> String| -> Vec<(String, i64, String)> {
            counts
                .iter()
                .map(|c| (name(&c.key), c.count, c.count.to_string()))
                .collect()
        };
    let kinds: Vec<(String, i64, String)> = outcomes
        .by_kind
        .iter()
        .map(|c| {
            (
                outcome_label(&c.key, lang).to_owned(),
                c.count,
                c.count.to_string(),
            )
        })
        .collect();
    let dis = r.disclosure.clone().unwrap_or_default();
    let sat = r.satisfaction.unwrap_or_default();
    let answers = sat.satisfied + sat.basically_satisfied + sat.unsatisfied;
    html! {
        // The headline numbers.
        section class="tiles" aria-label=(lang.t("概览", "Overview")) {
            div class="tile" {
                span class="label" { (lang.t("按时办理率", "On-time rate")) }
                span class="value" id="on-time" { (on_time_rate(r.on_time, r.timed, lang)) }
            }
            div class="tile" {
                span class="label" { (lang.t("在办件", "Open")) }
                span class="value" id="open-count" { (r.open.len()) }
            }
            div class="tile warn" {
                span class="label" { (lang.t("已超期", "Overdue")) }
                span class="value" id="overdue-count" { (open_overdue) }
            }
            div class="tile" {
                span class="label" { (lang.t("罚款合计", "Fines")) }
                span class="value" id="fines" { (yuan(outcomes.fines_fen)) " " (lang.t("元", "yuan")) }
            }
            div class="tile" {
                span class="label" { (lang.t("作出决定", "Decisions")) }
                span class="value" id="decisions" { (outcomes.decisions) }
            }
            div class="tile warn" {
                span class="label" { (lang.t("超期督办", "Escalations")) }
                span class="value" id="escalations" { (r.escalations) }
            }
        }

        // Response times per department.
        section aria-labelledby="h-times" {
            h2 id="h-times" { (lang.t("各部门响应时间", "Response times per department")) }
            p class="lead" {
                (lang.t(
                    "自派发时起算至各环节完成：中位数与第90百分位数（最近秩法），日历时间与工作日并列；按时率以工作日时限计。退回不算按时答复：未经联席会议主持人认可的退回，计为未按时受理。",
                    "From dispatch to each step: median and 90th percentile (nearest rank), in wall-clock time and in working days; on time against working-day targets. A return is never an on-time answer: unless the joint meeting's chair upheld it, it counts as a missed acceptance.",
                ))
            }
            table class="figures" id="response-times" {
                thead {
                    tr {
                        th scope="col" { (lang.t("部门", "Department")) }
                        @for step in ["sign_for", "accept", "conclude"] {
                            th scope="col" { (step_name(step, lang)) (lang.t("（中位/P90）", " (median / p90)")) }
                        }
                        th scope="col" { (lang.t("按时率", "On time")) }
                        th scope="col" { (lang.t("退回（退回率）", "Returned (rate)")) }
                        th scope="col" { (lang.t("在办", "Open")) }
                        th scope="col" { (lang.t("超期", "Overdue")) }
                        th scope="col" { (lang.t("督办", "Escalated")) }
                        th scope="col" { (lang.t("延期", "Extended")) }
                    }
                }
                tbody {
                    @for d in &r.departments {
                        tr data-department=(d.department) {
                            th scope="row" { (department_name(cat, &d.department, lang)) }
                            @for s in &d.steps {
                                td {
                                    (opt_duration(s.median_secs, lang)) " / " (opt_duration(s.p90_secs, lang))
                                    br;
                                    span class="working-days" {
                                        (opt_working_days(s.median_working_days, lang)) " / " (opt_working_days(s.p90_working_days, lang))
                                    }
                                    span class="muted" { " (" (s.count) (lang.t("件", "")) ")" }
                                }
                            }
                            td class="on-time" { (on_time_rate(d.on_time, d.timed, lang)) }
                            td class="returns" {
                                (d.returned) " (" (percent(d.returned, d.referrals)) ")"
                                @if d.returns_sent_back > 0 {
                                    br;
                                    span class="muted" {
                                        (lang.t("主持人退回原部门 ", "sent back by the chair: ")) (d.returns_sent_back)
                                    }
                                }
                                @if d.returns_upheld > 0 {
                                    br;
                                    span class="muted" {
                                        (lang.t("主持人认可 ", "upheld by the chair: ")) (d.returns_upheld)
                                    }
                                }
                            }
                            td { (d.open) }
                            td { (d.overdue) }
                            td { (d.escalations) }
                            td { (d.extensions) }
                        }
                    }
                }
            }
            (bars("chart-conclude", lang.t("办结用时中位数", "Median time to conclude"), &conclude))
        }

        // The ranking, per path.
        section aria-labelledby="h-rank" {
            h2 id="h-rank" { (lang.t("部门排名", "Ranking of departments")) }
            @for p in &r.rankings {
                h3 { (path_name(&p.path, lang)) }
                p class="lead" {
                    @match lang {
                        Lang::Zh => { "期内至少" (p.min_cases) "件方参与排名；按时率优先（退回不算按时答复），其次退回率，再次办结用时中位数。" }
                        Lang::En => {
                            "Only departments with at least " (p.min_cases)
                            " cases in the period; on-time rate first (a return is never an on-time answer), then the return rate, then median time to conclude."
                        }
                    }
                }
                ol class="ranking" data-path=(p.path) {
                    @for k in &p.ranked {
                        li {
                            (department_name(cat, &k.department, lang)) " — "
                            (lang.t("按时率", "on time")) " "
                            (k.on_time_permille / 10) "." (k.on_time_permille % 10) "%，"
                            (k.cases) " " (lang.t("件", "cases")) "，"
                            (lang.t("退回率", "returned")) " "
                            (k.return_permille / 10) "." (k.return_permille % 10) "%，"
                            (lang.t("办结中位", "median to conclude")) " "
                            (opt_duration(k.median_conclude_secs, lang))
                        }
                    }
                }
                @if !p.too_few.is_empty() {
                    @let names: Vec<String> = p
                        .too_few
                        .iter()
                        .map(|d| department_name(cat, d, lang))
                        .collect();
                    p class="muted" {
                        (lang.t("件数不足、未排名：", "Too few cases to rank: "))
                        (names.join(lang.t("、", ", ")))
                    }
                }
                @if !p.no_data.is_empty() {
                    @let names: Vec<String> = p
                        .no_data
                        .iter()
                        .map(|d| department_name(cat, d, lang))
                        .collect();
                    p class="muted no-data" {
                        (lang.t("尚无计时环节（暂无数据）、未排名：", "No step timed yet (no data), not ranked: "))
                        (names.join(lang.t("、", ", ")))
                    }
                }
            }
        }

        // Open and overdue.
        section aria-labelledby="h-open" {
            h2 id="h-open" { (lang.t("在办与超期件", "Open and overdue")) }
            table class="figures" id="open-items" {
                thead {
                    tr {
                        th scope="col" { (lang.t("案件", "Case")) }
                        th scope="col" { (lang.t("部门", "Department")) }
                        th scope="col" { (lang.t("待办环节", "Waiting for")) }
                        th scope="col" { (lang.t("已历时", "Age")) }
                        th scope="col" { (lang.t("状态", "State")) }
                    }
                }
                tbody {
                    @for o in &r.open {
                        tr class=(if o.overdue { "overdue" } else { "open" }) {
                            td { (o.case_id) }
                            td { (department_name(cat, &o.department, lang)) }
                            td { (step_name(&o.waiting_for, lang)) }
                            td { (duration(o.age_secs, lang)) }
                            td {
                                @if o.overdue {
                                    (lang.t("已超期", "Overdue"))
                                } @else {
                                    (lang.t("期限内", "Within time"))
                                }
                            }
                        }
                    }
                }
            }
        }

        // Cases per path, matter and month.
        section aria-labelledby="h-cases" {
            h2 id="h-cases" { (lang.t("案件分布", "Cases")) }
            div class="charts" {
                (bars(
                    "chart-paths",
                    lang.t("按路径", "By path"),
                    &rows(&r.cases_by_path, &|k| path_name(k, lang).to_owned()),
                ))
                (bars("chart-months", lang.t("按月份", "By month"), &rows(&r.cases_by_month, &|k| k.to_owned())))
                (bars(
                    "chart-matters",
                    lang.t("按事项", "By matter"),
                    &rows(&r.cases_by_matter, &|k| matter_name(cat, k, lang)),
                ))
            }
        }

        // Outcomes, fines, confiscations.
        section aria-labelledby="h-outcomes" {
            h2 id="h-outcomes" { (lang.t("处理结果", "Outcomes")) }
            p id="outcome-split" {
                (lang.t("仅教育不处罚", "Education only")) " " strong { (outcomes.education_only) } "　"
                (lang.t("行政处罚", "Penalties")) " " strong { (outcomes.penalties) } "　"
                (lang.t("其他", "Other")) " " strong { (outcomes.other) }
            }
            (bars("chart-outcomes", lang.t("按结果", "By outcome"), &kinds))
            p {
                (lang.t("罚款", "Fines")) " "
                strong { (yuan(outcomes.fines_fen)) " " (lang.t("元", "yuan")) }
                "；" (lang.t("没收物品", "Confiscated")) " "
                @if outcomes.confiscated.is_empty() { "—" }
                @for (i, c) in outcomes.confiscated.iter().enumerate() {
                    @if i > 0 { (lang.t("、", ", ")) }
                    (c.key) " × " (c.count) (c.unit)
                }
                "（" (lang.t("价值", "worth")) " " (yuan(outcomes.confiscated_value_fen)) " " (lang.t("元", "yuan")) "）"
            }
        }

        // Legal review.
        section aria-labelledby="h-review" {
            h2 id="h-review" { (lang.t("法制审核用时", "Legal review turnaround")) }
            p id="review" {
                (lang.t("已答复", "Answered")) " " (review.answered) "，"
                (lang.t("待答复", "pending")) " " (review.pending) "；"
                (lang.t("中位数", "median")) " " (opt_duration(review.median_secs, lang)) "，P90 "
                (opt_duration(review.p90_secs, lang))
            }
        }

        // Disclosure timeliness: of the decisions whose due date has come, published in time.
        section aria-labelledby="h-disclosure" {
            h2 id="h-disclosure" { (lang.t("公示及时率", "Disclosure timeliness")) }
            p class="lead" {
                (lang.t(
                    "行政处罚、行政许可决定自作出之日起7个工作日内公示，其他执法决定20个工作日内；决定变更、撤销的，3个工作日内撤回。",
                    "Penalty and licensing decisions are disclosed within 7 working days, other decisions within 20; a changed or revoked decision is withdrawn within 3.",
                ))
            }
            p id="disclosure" {
                (lang.t("及时率", "On time")) " "
                strong { (percent(dis.published_on_time, dis.published_on_time + dis.published_late + dis.overdue)) }
                "：" (lang.t("按时公示", "published on time")) " " (dis.published_on_time)
                "，" (lang.t("逾期公示", "published late")) " " (dis.published_late)
                "，" (lang.t("逾期未公示", "overdue")) " " (dis.overdue)
                "，" (lang.t("未到期", "not yet due")) " " (dis.pending)
                "；" (lang.t("撤回", "withdrawn")) " " (dis.withdrawn)
                "（" (lang.t("按时撤回", "in time")) " " (dis.withdrawn_on_time) "）"
            }
            table class="figures" id="disclosure-bodies" {
                thead {
                    tr {
                        th scope="col" { (lang.t("公示主体", "Disclosing body")) }
                        th scope="col" { (lang.t("应公示", "Due")) }
                        th scope="col" { (lang.t("按时", "On time")) }
                        th scope="col" { (lang.t("逾期公示", "Late")) }
                        th scope="col" { (lang.t("逾期未公示", "Overdue")) }
                        th scope="col" { (lang.t("未到期", "Not yet due")) }
                        th scope="col" { (lang.t("及时率", "Rate")) }
                    }
                }
                tbody {
                    @for b in &dis.bodies {
                        tr data-body=(b.body) {
                            th scope="row" { (body_name(cat, towns, &b.body, lang)) }
                            td { (b.due) }
                            td { (b.published_on_time) }
                            td { (b.published_late) }
                            td { (b.overdue) }
                            td { (b.pending) }
                            td { (percent(b.published_on_time, b.published_on_time + b.published_late + b.overdue)) }
                        }
                    }
                }
            }
        }

        // Satisfaction from the call-backs.
        section aria-labelledby="h-satisfaction" {
            h2 id="h-satisfaction" { (lang.t("回访满意度", "Satisfaction (call-backs)")) }
            p id="satisfaction" {
                (lang.t("满意及基本满意", "Satisfied or basically satisfied")) " "
                (percent(sat.satisfied + sat.basically_satisfied, answers)) "，"
                (lang.t("回访", "calls")) " " (answers) "（" (lang.t("件", "answers")) "），"
                (lang.t("不满意重办", "reopened when unsatisfied")) " " (sat.reopened)
            }
            (bars(
                "chart-satisfaction",
                lang.t("回访结果", "Answers"),
                &[
                    (
                        lang.t("满意", "Satisfied").to_owned(),
                        i64::from(sat.satisfied),
                        sat.satisfied.to_string(),
                    ),
                    (
                        lang.t("基本满意", "Basically satisfied").to_owned(),
                        i64::from(sat.basically_satisfied),
                        sat.basically_satisfied.to_string(),
                    ),
                    (
                        lang.t("不满意", "Unsatisfied").to_owned(),
                        i64::from(sat.unsatisfied),
                        sat.unsatisfied.to_string(),
                    ),
                ],
            ))
        }
    }
}

/// The whole page around the figures.
fn render(
    lang: Lang,
    f: &pb::GetDashboardRequest,
    figures: Markup,
    q: &HashMap<String, String>,
    cat: &Catalogue,
    towns: &Towns,
) -> Markup {
    let other = match lang {
        Lang::Zh => ("en", "English"),
        Lang::En => ("zh-CN", "中文"),
    };
    let mut switch: Vec<(String, String)> = q
        .iter()
        .filter(|(k, _)| k.as_str() != "lang")
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    if lang == Lang::Zh {
        switch.push(("lang".into(), "en".into()));
    }
    switch.sort();
    let switch_q: Vec<String> = switch.iter().map(|(k, v)| format!("{k}={v}")).collect();
    html! {
        (DOCTYPE)
        html lang=(lang.tag()) {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (lang.t("执法统计看板", "Enforcement dashboard")) }
                link rel="stylesheet" href="/static/site.css";
                script src="/static/dashboard.js" defer {}
            }
            body {
                header class="site" {
                    strong { (lang.t("联动 · 综合行政执法协同平台", "Liandong enforcement hub")) }
                    a href={ "/dashboard?" (switch_q.join("&")) } hreflang=(other.0) lang=(other.0) { (other.1) }
                }
                main id="main" {
                    h1 { (lang.t("执法统计看板", "Enforcement dashboard")) }
                    // The filters: a plain GET form, so they work without JavaScript.
                    form class="filters" method="get" action="/dashboard" {
                        label { (lang.t("起", "From")) " " input type="date" name="from" value=(f.from); }
                        label { (lang.t("止", "To")) " " input type="date" name="to" value=(f.to); }
                        label {
                            (lang.t("镇街", "Town")) " "
                            select name="town" {
                                option value="" { (lang.t("全部", "All")) }
                                // The towns by name, as the registry lists them; the read model
                                // refuses any other code.
                                @for t in towns.towns() {
                                    @let code = t.code().as_str();
                                    option value=(code) selected[code == f.town] {
                                        @match lang {
                                            Lang::Zh => (t.name()),
                                            Lang::En => (t.name_en()),
                                        }
                                    }
                                }
                            }
                        }
                        label {
                            (lang.t("部门", "Department")) " "
                            select name="department" {
                                option value="" { (lang.t("全部", "All")) }
                                @for d in &cat.departments {
                                    @let code = d.code.to_string();
                                    option value=(code) selected[code == f.department] {
                                        (match lang {
                                            Lang::Zh => &d.name,
                                            Lang::En => &d.name_en,
                                        })
                                    }
                                }
                            }
                        }
                        @if lang == Lang::En { input type="hidden" name="lang" value="en"; }
                        button type="submit" { (lang.t("筛选", "Filter")) }
                    }
                    p class="lead" id="live" role="status" data-live=(lang.t("已实时更新", "Updated live")) {}
                    div id="figures" { (figures) }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> pb::GetDashboardResponse {
        pb::GetDashboardResponse {
            departments: vec![pb::DepartmentFigures {
                department: "forestry".into(),
                referrals: 2,
                steps: vec![pb::StepTimes {
                    step: "conclude".into(),
                    count: 2,
                    median_secs: Some(2 * 86_400 + 3600),
                    p90_secs: Some(3 * 86_400),
                    ..Default::default()
                }],
                on_time: 3,
                timed: 4,
                ..Default::default()
            }],
            on_time: 3,
            timed: 4,
            cases_by_path: vec![pb::Count {
                key: "out_of_scope".into(),
                count: 2,
                unit: String::new(),
            }],
            outcomes: Some(pb::Outcomes {
                fines_fen: 123_450,
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    #[test]
    fn the_figures_read_in_chinese_and_english() {
        let cat = Catalogue::default_catalogue();
        let towns = Towns::shipped();
        let zh = figures_html(Lang::Zh, &sample(), &cat, &towns).into_string();
        assert!(zh.contains("75.0%"), "{zh}");
        assert!(zh.contains("2天1小时 / 3天0小时"), "{zh}");
        assert!(zh.contains("1234.50 元"), "{zh}");
        assert!(zh.contains("移送部门"), "{zh}");
        assert!(zh.contains("<svg"), "{zh}");
        let en = figures_html(Lang::En, &sample(), &cat, &towns).into_string();
        assert!(en.contains("Response times per department"), "{en}");
        assert!(en.contains("2 d 1 h / 3 d 0 h"), "{en}");
    }

    #[test]
    fn no_timed_step_reads_no_data_and_returns_read_as_returns() {
        let cat = Catalogue::default_catalogue();
        let towns = Towns::shipped();
        let mut r = sample();
        r.departments.push(pb::DepartmentFigures {
            department: "water_resources".into(),
            referrals: 4,
            returned: 3,
            returns_sent_back: 1,
            steps: vec![pb::StepTimes {
                step: "accept".into(),
                count: 1,
                median_secs: Some(3600),
                p90_secs: Some(3600),
                median_working_days: Some(0),
                p90_working_days: Some(2),
                ..Default::default()
            }],
            ..Default::default()
        });
        r.rankings.push(pb::PathRanking {
            path: "out_of_scope".into(),
            min_cases: 3,
            ranked: vec![pb::Ranked {
                position: 1,
                department: "forestry".into(),
                cases: 4,
                on_time_permille: 667,
                returned: 1,
                return_permille: 250,
                ..Default::default()
            }],
            no_data: vec!["water_resources".into()],
            ..Default::default()
        });
        let zh = figures_html(Lang::Zh, &r, &cat, &towns).into_string();
        assert!(zh.contains("<td class=\"on-time\">暂无数据</td>"), "{zh}");
        assert!(!zh.contains("<td class=\"on-time\">0.0%</td>"), "{zh}");
        assert!(zh.contains("3 (75.0%)"), "the return rate: {zh}");
        assert!(zh.contains("主持人退回原部门 1"), "{zh}");
        assert!(zh.contains("0个工作日 / 2个工作日"), "{zh}");
        assert!(zh.contains("退回率 25.0%"), "{zh}");
        assert!(zh.contains("尚无计时环节（暂无数据）"), "{zh}");
        let en = figures_html(Lang::En, &r, &cat, &towns).into_string();
        assert!(en.contains("<td class=\"on-time\">no data</td>"), "{en}");
        assert!(en.contains("0 wd / 2 wd"), "{en}");
        assert!(en.contains("No step timed yet (no data)"), "{en}");
    }

    #[test]
    fn durations_read_as_people_say_them() {
        assert_eq!(duration(42, Lang::Zh), "42秒");
        assert_eq!(duration(5 * 60, Lang::Zh), "5分");
        assert_eq!(duration(3 * 3600 + 60, Lang::Zh), "3小时1分");
        assert_eq!(duration(86_400 + 7200, Lang::Zh), "1天2小时");
        assert_eq!(duration(42, Lang::En), "42 s");
        assert_eq!(percent(2, 3), "66.7%");
        assert_eq!(percent(0, 0), "—");
    }

    #[test]
    fn text_in_the_page_is_escaped() {
        let mut r = sample();
        r.open.push(pb::OpenItem {
            case_id: "<script>".into(),
            department: "forestry".into(),
            waiting_for: "sign_for".into(),
            ..Default::default()
        });
        let html = figures_html(
            Lang::Zh,
            &r,
            &Catalogue::default_catalogue(),
            &Towns::shipped(),
        )
        .into_string();
        assert!(!html.contains("<script>"));
        assert!(html.contains("&lt;script&gt;"));
    }

    /// Hostile text in the labels the read model hands back (a department, a matter, a month, a
    /// confiscated item, a deciding body, a case) and in the filters the caller typed comes out
    /// as text, in elements, attributes and the charts' SVG alike.
    #[test]
    fn hostile_labels_and_filters_come_out_escaped() {
        const HOSTILE: &str = "<script>alert(1)</script>\"'><img src=x onerror=alert(2)>&amp;";
        const ESCAPED: &str = "&lt;script&gt;alert(1)&lt;/script&gt;&quot;'&gt;&lt;img src=x onerror=alert(2)&gt;&amp;amp;";
        let (cat, towns) = (Catalogue::default_catalogue(), Towns::shipped());
        let count = |key: &str| pb::Count {
            key: key.into(),
            count: 1,
            unit: key.into(),
        };
        let mut r = sample();
        r.departments[0].department = HOSTILE.into();
        r.cases_by_month = vec![count(HOSTILE)];
        r.cases_by_matter = vec![count(HOSTILE)];
        r.cases_by_path = vec![count(HOSTILE)];
        r.outcomes.as_mut().unwrap().confiscated = vec![count(HOSTILE)];
        r.outcomes.as_mut().unwrap().by_kind = vec![count(HOSTILE)];
        r.open.push(pb::OpenItem {
            case_id: HOSTILE.into(),
            department: HOSTILE.into(),
            waiting_for: HOSTILE.into(),
            ..Default::default()
        });
        r.disclosure = Some(pb::DisclosureTimeliness {
            bodies: vec![pb::BodyDisclosure {
                body: HOSTILE.into(),
                ..Default::default()
            }],
            ..Default::default()
        });
        let f = pb::GetDashboardRequest {
            from: HOSTILE.into(),
            to: HOSTILE.into(),
            ..Default::default()
        };
        let q: HashMap<String, String> = [("from".to_owned(), HOSTILE.to_owned())].into();
        for lang in [Lang::Zh, Lang::En] {
            let figures = figures_html(lang, &r, &cat, &towns);
            let page = render(lang, &f, figures, &q, &cat, &towns).into_string();
            assert!(!page.contains("<script>alert"), "{page}");
            assert!(!page.contains("<img"), "{page}");
            assert!(!page.contains("\"'>"), "{page}");
            assert!(
                page.contains(&format!("data-department=\"{ESCAPED}\"")),
                "{page}"
            );
            assert!(page.contains(&format!("data-body=\"{ESCAPED}\"")), "{page}");
            assert!(page.contains(&format!("<td>{ESCAPED}</td>")), "{page}");
            assert!(
                page.contains(&format!("<title>{ESCAPED}</title>")),
                "{page}"
            );
            assert!(
                page.contains(&format!("name=\"from\" value=\"{ESCAPED}\"")),
                "{page}"
            );
            assert!(
                page.contains(&format!("/dashboard?from={ESCAPED}")),
                "{page}"
            );
            // The only script is the page's own file.
            assert_eq!(page.matches("<script").count(), 1, "{page}");
        }
    }

    #[test]
    fn towns_are_named_in_the_disclosure_table_and_the_filter() {
        let (cat, towns) = (Catalogue::default_catalogue(), Towns::shipped());
        let mut r = sample();
        r.disclosure = Some(pb::DisclosureTimeliness {
            bodies: ["town:330782101", "town:330782199", "department:forestry"]
                .into_iter()
                .map(|body| pb::BodyDisclosure {
                    body: body.into(),
                    ..Default::default()
                })
                .collect(),
            ..Default::default()
        });
        let zh = figures_html(Lang::Zh, &r, &cat, &towns).into_string();
        assert!(zh.contains("<th scope=\"row\">赤岸镇人民政府</th>"), "{zh}");
        assert!(
            zh.contains("<th scope=\"row\">330782199（不在乡镇名录中）</th>"),
            "{zh}"
        );
        assert!(zh.contains("<th scope=\"row\">县林业局</th>"), "{zh}");
        let en = figures_html(Lang::En, &r, &cat, &towns).into_string();
        assert!(en.contains("People's Government of Chi'an Town"), "{en}");

        let f = pb::GetDashboardRequest {
            town: "330782102".into(),
            ..Default::default()
        };
        let page = render(Lang::Zh, &f, html! {}, &HashMap::new(), &cat, &towns).into_string();
        assert!(
            page.contains("<option value=\"330782102\" selected>义亭镇</option>"),
            "{page}"
        );
        assert!(page.contains("<option value=\"330782001\">稠城街道</option>"));
        assert!(
            !page.contains("name=\"town\" inputmode"),
            "no free-text town box"
        );
    }

    #[test]
    fn the_token_comes_from_the_header_or_the_cookie() {
        let mut h = HeaderMap::new();
        h.insert(COOKIE, "a=b; liandong_token=x.y.z".parse().unwrap());
        assert_eq!(bearer(&h).as_deref(), Some("Bearer x.y.z"));
        h.insert(AUTHORIZATION, "Bearer h.h.h".parse().unwrap());
        assert_eq!(bearer(&h).as_deref(), Some("Bearer h.h.h"));
        assert_eq!(bearer(&HeaderMap::new()), None);
    }
}
