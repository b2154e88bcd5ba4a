//! The public pages, open to anyone without signing in: the disclosure page (行政执法公示) in
//! server-rendered HTML, in Simplified Chinese or English, with its stylesheet and script.
//!
//! The stack the dashboards and workbenches will reuse: HTML built here from the services'
//! gRPC answers with [`maud`] templates, which escape every value they are given, one small
//! stylesheet, a little vanilla JavaScript that only enhances (a file of its own, as the
//! Content-Security-Policy allows no inline script), and `?lang=en` for English. No build step.

use std::collections::HashMap;
use std::sync::Arc;

use axum::Router;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use chrono::{DateTime, FixedOffset, Utc};
use liandong_config::Config;
use liandong_config::clock::SharedClock;
use liandong_domain::calendar::Calendar;
use liandong_domain::catalogue::Catalogue;
use liandong_domain::towns::Towns;
use liandong_proto::disclosure::v1::public_disclosure_service_client::PublicDisclosureServiceClient;
use liandong_proto::disclosure::v1::{self as pb};
use liandong_proto::review::v1::ListCertifiedOfficersRequest;
use liandong_proto::review::v1::public_registry_service_client::PublicRegistryServiceClient;
use maud::{Markup, PreEscaped, html};
use tonic::transport::Channel;

use crate::call::CALL_TIMEOUT;

const CSS: &str = include_str!("../assets/site.css");
const JS: &str = include_str!("../assets/site.js");

/// How many disclosures the page shows; the JSON feed pages through the rest.
const PAGE_SIZE: u32 = 50;

/// The language of a page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    Zh,
    En,
}

impl Lang {
    /// `?lang=en` picks English; anything else, or nothing, Simplified Chinese.
    pub(crate) fn from_query(q: &HashMap<String, String>) -> Lang {
        match q.get("lang").map(String::as_str) {
            Some("en") => Lang::En,
            _ => Lang::Zh,
        }
    }

    pub(crate) fn tag(self) -> &'static str {
        match self {
            Lang::Zh => "zh-CN",
            Lang::En => "en",
        }
    }

    /// The text in this language.
    pub(crate) fn t<'a>(self, zh: &'a str, en: &'a str) -> &'a str {
        match self {
            Lang::Zh => zh,
            Lang::En => en,
        }
    }
}

struct Public {
    catalogue: Catalogue,
    towns: Towns,
    client: PublicDisclosureServiceClient<Channel>,
    registry: PublicRegistryServiceClient<Channel>,
    clock: SharedClock,
}

/// The public routes: `/` (the disclosure page), `/enforcement` (the page before enforcement,
/// 事前公开) and the static files. The JSON feeds are in the route table
/// (`/public/disclosures.json`, `/public/officers.json`), so they are in the OpenAPI document too.
pub fn router(cfg: &Config, disclosure: Channel, review: Channel) -> anyhow::Result<Router> {
    let state = Arc::new(Public {
        catalogue: liandong_runtime::load_catalogue(cfg)?,
        towns: liandong_runtime::load_towns(cfg)?,
        client: PublicDisclosureServiceClient::new(disclosure),
        registry: PublicRegistryServiceClient::new(review),
        clock: liandong_config::clock::from_config(cfg),
    });
    Ok(Router::new()
        .route("/", get(page))
        .route("/enforcement", get(enforcement_page))
        .route(
            "/static/site.css",
            get(|| async { static_file("text/css; charset=utf-8", CSS) }),
        )
        .route(
            "/static/site.js",
            get(|| async { static_file("text/javascript; charset=utf-8", JS) }),
        )
        .with_state(state))
}

fn static_file(content_type: &'static str, body: &'static str) -> Response {
    (
        [
            (CONTENT_TYPE, content_type),
            (CACHE_CONTROL, "public, max-age=300"),
        ],
        body,
    )
        .into_response()
}

async fn page(
    State(public): State<Arc<Public>>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let lang = Lang::from_query(&query);
    let request = pb::ListPublicRequest {
        town: query.get("town").cloned().unwrap_or_default(),
        page_size: PAGE_SIZE,
        page_token: String::new(),
    };
    let mut client = public.client.clone();
    let answer = tokio::time::timeout(CALL_TIMEOUT, client.list_public(request)).await;
    let (status, disclosures) = match answer {
        Ok(Ok(r)) => (StatusCode::OK, Some(r.into_inner().disclosures)),
        Ok(Err(e)) if e.code() == tonic::Code::InvalidArgument => {
            (StatusCode::BAD_REQUEST, Some(Vec::new()))
        }
        Ok(Err(e)) => {
            tracing::warn!(code = ?e.code(), message = %e.message(), "The disclosure service did not answer the public page.");
            (StatusCode::SERVICE_UNAVAILABLE, None)
        }
        Err(_) => (StatusCode::SERVICE_UNAVAILABLE, None),
    };
    let town = query.get("town").map(String::as_str).unwrap_or_default();
    let html = render(
        lang,
        disclosures.as_deref(),
        &public.catalogue,
        &public.towns,
        town,
    );
    (status, html).into_response()
}

/// The page before enforcement (事前公开) of the town `?town=` names (the registry's first when
/// none): 400 for a town not of the county, 503 when the registry cannot be read (the page
/// still shows everything else).
async fn enforcement_page(
    State(public): State<Arc<Public>>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let lang = Lang::from_query(&query);
    let code = query.get("town").map(String::as_str).unwrap_or_default();
    let (mut status, town) = match crate::ex_ante::chosen_town(&public.towns, code) {
        Ok(t) => (StatusCode::OK, t),
        Err(first) => (StatusCode::BAD_REQUEST, first),
    };
    let mut client = public.registry.clone();
    let request = ListCertifiedOfficersRequest::default();
    let officers = match tokio::time::timeout(CALL_TIMEOUT, client.list_certified_officers(request))
        .await
    {
        Ok(Ok(r)) => Some(r.into_inner().officers),
        Ok(Err(e)) => {
            tracing::warn!(code = ?e.code(), message = %e.message(), "The review service did not answer the page before enforcement.");
            None
        }
        Err(_) => None,
    };
    if officers.is_none() && status == StatusCode::OK {
        status = StatusCode::SERVICE_UNAVAILABLE;
    }
    let today = Calendar::local_date(public.clock.now());
    let html = crate::ex_ante::render(
        lang,
        officers.as_deref(),
        &public.catalogue,
        &public.towns,
        town,
        today,
    );
    (status, html).into_response()
}

/// The local date in China of a timestamp, as `YYYY-MM-DD` and as people read it.
fn date(ts: Option<&prost_types::Timestamp>, lang: Lang) -> Option<(String, String)> {
    let ts = ts?;
    let at = DateTime::<Utc>::from_timestamp(ts.seconds, 0)?;
    let local = at
        .with_timezone(&FixedOffset::east_opt(8 * 3600)?)
        .date_naive();
    let shown = match lang {
        Lang::Zh => local.format("%Y年%-m月%-d日").to_string(),
        Lang::En => local.format("%-d %B %Y").to_string(),
    };
    Some((local.format("%Y-%m-%d").to_string(), shown))
}

fn time_element(ts: Option<&prost_types::Timestamp>, lang: Lang) -> Markup {
    html! {
        @match date(ts, lang) {
            Some((iso, shown)) => time datetime=(iso) { (shown) },
            None => "—",
        }
    }
}

/// An outcome as the public reads it. Education without penalty is an outcome of its own.
pub fn outcome_label(kind: &str, lang: Lang) -> &str {
    match kind {
        "education" => lang.t("教育劝导（不予处罚）", "Education, no penalty"),
        "warning" => lang.t("警告", "Warning"),
        "fine" => lang.t("罚款", "Fine"),
        "confiscation" => lang.t("没收", "Confiscation"),
        "order_to_correct" => lang.t("责令改正", "Order to correct"),
        "demolition" => lang.t("拆除", "Demolition"),
        "no_violation" => lang.t("经查无违法行为", "No violation found"),
        other => other,
    }
}

fn class_label(class: &str, lang: Lang) -> &'static str {
    match class {
        "penalty_or_licensing" => lang.t(
            "行政处罚、行政许可（决定作出之日起7个工作日内公示）",
            "Penalty or licensing (disclosed within 7 working days of the decision)",
        ),
        _ => lang.t(
            "其他行政执法信息（20个工作日内公示）",
            "Other enforcement information (disclosed within 20 working days)",
        ),
    }
}

pub(crate) fn yuan(fen: i64) -> String {
    format!("{}.{:02}", fen / 100, (fen % 100).abs())
}

fn body_name(b: Option<&pb::Body>, lang: Lang) -> String {
    b.map(|b| match lang {
        Lang::Zh => b.name.clone(),
        Lang::En => b.name_en.clone(),
    })
    .unwrap_or_default()
}

/// A term and its value in a disclosure's list of facts.
fn row(term: &str, value: Markup) -> Markup {
    html! { dt { (term) } dd { (value) } }
}

fn render_disclosure(d: &pb::PublicDisclosure, lang: Lang) -> Markup {
    let decision = d.decision.clone().unwrap_or_default();
    let party = decision.party.clone().unwrap_or_default();
    let body = body_name(d.body.as_ref(), lang);
    let outcome = outcome_label(&decision.outcome, lang);
    let heading = format!("d-{}", d.disclosure_id);
    let party_text = html! {
        (party.name)
        @if !party.address.is_empty() { "（" (party.address) "）" }
    };
    let result = html! {
        span class="outcome" { (outcome) }
        @if decision.fine_fen > 0 {
            @match lang {
                Lang::Zh => { "，人民币" (yuan(decision.fine_fen)) "元" }
                Lang::En => { ", CNY " (yuan(decision.fine_fen)) }
            }
        }
        @for item in &decision.confiscated { "；" (item.kind) " × " (item.count) (item.unit) }
        @for order in &decision.orders { "；" (order) }
        @if !decision.summary.is_empty() { br; (decision.summary) }
    };
    let matters = html! {
        ul {
            @for m in &decision.matters {
                @let name = match lang {
                    Lang::Zh => &m.name,
                    Lang::En => &m.name_en,
                };
                li {
                    (if name.is_empty() { &m.code } else { name })
                    @if decision.applied_basis.is_empty() && !m.legal_basis.is_empty() {
                        (lang.t("；依据：", "; legal basis: ")) (m.legal_basis.join("、"))
                    }
                }
            }
            @if !decision.applied_basis.is_empty() {
                li { (lang.t("依据：", "Legal basis: ")) (decision.applied_basis.join("、")) }
            }
        }
    };
    html! {
        li {
            article class="disclosure" data-status=(d.status) aria-labelledby=(heading) {
                h3 id=(heading) { (body) " · " span class="outcome" { (outcome) } }
                @if d.status == "withdrawn" {
                    p class="notice" role="note" {
                        strong { (lang.t("已撤回", "Withdrawn")) }
                        "（" (time_element(d.withdrawn_at.as_ref(), lang)) "）"
                        (lang.t("撤回理由：", "Reason: ")) (d.withdrawal_reason)
                    }
                }
                dl class="facts" {
                    (row(lang.t("执法主体", "Deciding body"), html! { (body) }))
                    (row(lang.t("当事人", "Party"), party_text))
                    @if !decision.description.is_empty() {
                        (row(lang.t("案件事由", "Case"), html! { (decision.description) }))
                    }
                    (row(lang.t("处理结果", "Decision"), result))
                    @if !decision.matters.is_empty() {
                        (row(lang.t("执法事项与依据", "Matters and legal basis"), matters))
                    }
                    (row(lang.t("公示类别", "Class"), html! { (class_label(&d.class, lang)) }))
                    (row(lang.t("决定日期", "Decided on"), time_element(decision.decided_at.as_ref(), lang)))
                    (row(lang.t("公示日期", "Published on"), time_element(d.published_at.as_ref(), lang)))
                }
            }
        }
    }
}

fn render_adjudication(cat: &Catalogue, lang: Lang) -> Markup {
    html! {
        section aria-labelledby="adjudication-h" {
            h2 id="adjudication-h" { (lang.t("行政裁决事项清单", "Administrative adjudication matters")) }
            table {
                caption {
                    (lang.t(
                        "自然资源权属争议、补偿等纠纷，可依法申请行政裁决。",
                        "Disputes over natural-resource ownership, compensation and the like may be brought for administrative adjudication.",
                    ))
                }
                thead {
                    tr {
                        th scope="col" { (lang.t("编号", "Code")) }
                        th scope="col" { (lang.t("事项", "Matter")) }
                        th scope="col" { (lang.t("主管部门", "Competent department")) }
                        th scope="col" { (lang.t("依据", "Legal basis")) }
                    }
                }
                tbody {
                    @for m in cat.adjudication_matters() {
                        @let department = cat
                            .department(&m.department)
                            .map(|d| match lang {
                                Lang::Zh => d.name.clone(),
                                Lang::En => d.name_en.clone(),
                            })
                            .unwrap_or_else(|| m.department.to_string());
                        @let basis: Vec<String> = m
                            .latest()
                            .legal_basis
                            .iter()
                            .map(|b| format!("{} {}", b.law, b.article))
                            .collect();
                        tr {
                            td { (m.code.as_str()) }
                            th scope="row" {
                                (match lang {
                                    Lang::Zh => &m.name,
                                    Lang::En => &m.name_en,
                                })
                            }
                            td { (department) }
                            td { (basis.join("、")) }
                        }
                    }
                }
            }
        }
    }
}

/// The letters of entrustment (行政处罚委托书) the catalogue keeps: which department entrusted
/// which town with which matters and powers, for what term, and where it was published
/// (行政处罚法 第二十条 requires them to be made public). Decisions under them are the
/// department's, and are disclosed in its name.
pub(crate) fn render_entrustments(cat: &Catalogue, towns: &Towns, lang: Lang) -> Markup {
    html! {
        section aria-labelledby="entrustment-h" {
            h2 id="entrustment-h" { (lang.t("行政处罚委托书", "Letters of entrustment")) }
            @if cat.entrustments.is_empty() {
                p { (lang.t("本县未委托乡镇实施行政处罚。", "No department has entrusted a town with penalties.")) }
            } @else {
                table {
                    caption {
                        (lang.t(
                            "受委托的乡镇在委托范围内、以委托部门的名义实施行政处罚，委托部门负责监督并承担法律责任（《中华人民共和国行政处罚法》第二十条）。",
                            "An entrusted town acts within the entrustment in the entrusting department's name; the department supervises it and answers for the result (Administrative Penalty Law, Art. 20).",
                        ))
                    }
                    thead {
                        tr {
                            th scope="col" { (lang.t("委托书编号", "Letter")) }
                            th scope="col" { (lang.t("委托部门", "Entrusting department")) }
                            th scope="col" { (lang.t("受委托乡镇", "Entrusted town")) }
                            th scope="col" { (lang.t("委托事项", "Matters")) }
                            th scope="col" { (lang.t("委托权限", "Powers")) }
                            th scope="col" { (lang.t("委托期限", "Term")) }
                            th scope="col" { (lang.t("公布", "Published")) }
                        }
                    }
                    tbody {
                        @for e in &cat.entrustments {
                            @let department = cat
                                .department(&e.department)
                                .map(|d| match lang {
                                    Lang::Zh => d.name.clone(),
                                    Lang::En => d.name_en.clone(),
                                })
                                .unwrap_or_else(|| e.department.to_string());
                            @let town = match lang {
                                Lang::Zh => towns.government_or_code(e.town.as_str()),
                                Lang::En => towns.government_en_or_code(e.town.as_str()),
                            };
                            @let matters: Vec<String> = e
                                .matters
                                .iter()
                                .map(|code| {
                                    cat.matter(code).map_or_else(
                                        || code.to_string(),
                                        |m| match lang {
                                            Lang::Zh => format!("{}（{}）", m.name, code),
                                            Lang::En => format!("{} ({})", m.name_en, code),
                                        },
                                    )
                                })
                                .collect();
                            @let powers: Vec<&str> =
                                e.powers.iter().map(|p| outcome_label(p.as_str(), lang)).collect();
                            tr {
                                th scope="row" { (e.number) }
                                td { (department) }
                                td { (town) }
                                td { (matters.join(lang.t("；", "; "))) }
                                td { (powers.join(lang.t("、", ", "))) }
                                td {
                                    time datetime=(e.from.to_string()) { (e.from.to_string()) }
                                    " – "
                                    time datetime=(e.until.to_string()) { (e.until.to_string()) }
                                }
                                td { (e.published) }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// The legal grounds of the page, cited so that readers can check them.
fn render_laws(lang: Lang) -> Markup {
    let laws: [(&str, &str); 5] = [
        (
            "《中华人民共和国行政处罚法》第四十八条：具有一定社会影响的行政处罚决定应当依法公开；公开的行政处罚决定被依法变更、撤销、确认违法或者确认无效的，行政机关应当在三日内撤回行政处罚决定信息并公开说明理由。",
            "Administrative Penalty Law, Art. 48: penalty decisions with a certain social impact are made public; if a published decision is changed, revoked, or found unlawful or void, it is withdrawn within three days with the reason stated.",
        ),
        (
            "《中华人民共和国行政处罚法》第八十五条：本法中“二日”“三日”“五日”“七日”的规定是指工作日，不含法定节假日。",
            "Administrative Penalty Law, Art. 85: the periods of two, three, five and seven days in the law are working days, public holidays excluded.",
        ),
        (
            "《国务院办公厅关于全面推行行政执法公示制度执法全过程记录制度重大执法决定法制审核制度的指导意见》（国办发〔2018〕118号）：行政许可、行政处罚的执法决定信息自决定作出之日起7个工作日内公开；谁执法谁公示。",
            "State Council General Office guideline on the three enforcement systems (Guo Ban Fa [2018] No. 118): licensing and penalty decisions are disclosed within 7 working days of the decision, by the body that decided.",
        ),
        (
            "《中华人民共和国政府信息公开条例》第二十六条：属于主动公开范围的政府信息，应当自形成或者变更之日起20个工作日内及时公开。",
            "Regulations on Open Government Information, Art. 26: information to be published proactively is published within 20 working days of being made or changed.",
        ),
        (
            "个人信息保护：自然人的住址、联系方式、身份证号码、银行账号等已隐去，姓名仅保留姓氏；涉及未成年人的决定不予公开。",
            "Personal data: a person's address, contact details, ID-card and bank numbers are removed and only the surname is shown; decisions involving minors are not published.",
        ),
    ];
    html! {
        section aria-labelledby="laws-h" {
            h2 id="laws-h" { (lang.t("公示依据", "Legal basis of this page")) }
            ul class="laws" {
                @for (zh, en) in laws { li { (lang.t(zh, en)) } }
            }
        }
    }
}

/// The town filter: a plain GET form listing the registry's towns by name, so it works without
/// JavaScript; `selected` is the code the page is filtered by, if any.
fn render_town_filter(towns: &Towns, selected: &str, lang: Lang) -> Markup {
    let all = match lang {
        Lang::Zh => format!("{}全部乡镇", towns.county().name()),
        Lang::En => format!("All towns of {}", towns.county().name_en()),
    };
    html! {
        form class="filters" method="get" action="/" {
            label {
                (lang.t("乡镇（街道）", "Town")) " "
                select name="town" {
                    option value="" { (all) }
                    @for t in towns.towns() {
                        @let code = t.code().as_str();
                        option value=(code) selected[code == selected] {
                            @match lang {
                                Lang::Zh => (t.name()),
                                Lang::En => (t.name_en()),
                            }
                        }
                    }
                }
            }
            @if lang == Lang::En { input type="hidden" name="lang" value="en"; }
            button type="submit" { (lang.t("筛选", "Filter")) }
        }
    }
}

/// What every public page shares: the document, the skip link, the header with the brand and
/// the language switch (`switch`: the other language's address, tag and name), the `main`
/// (its title as `h1`, then `lead`, then `body`), and the footer naming the page's JSON `feed`.
pub(crate) struct Shell<'a> {
    pub lang: Lang,
    pub title: &'a str,
    pub lead: &'a str,
    pub switch: (&'a str, &'a str, &'a str),
    pub feed: &'a str,
    /// Links in the footer before the feed.
    pub links: Markup,
    /// Whether the page loads the small filter script.
    pub script: bool,
}

pub(crate) fn shell(s: Shell<'_>, body: Markup) -> Markup {
    let lang = s.lang;
    let (switch_href, switch_lang, switch_text) = s.switch;
    html! {
        (PreEscaped("<!doctype html>"))
        html lang=(lang.tag()) {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (s.title) " · " (lang.t("联动", "Liandong")) }
                link rel="stylesheet" href="/static/site.css";
                link rel="alternate" type="application/json" href=(s.feed);
                link rel="alternate" hreflang=(switch_lang) href=(switch_href);
            }
            body {
                a class="skip" href="#main" { (lang.t("跳到正文", "Skip to content")) }
                header class="site" {
                    p class="brand" {
                        (lang.t("联动 · 乡镇综合行政执法协同平台", "Liandong · township enforcement hub"))
                    }
                    nav aria-label=(lang.t("语言", "Language")) {
                        a href=(switch_href) hreflang=(switch_lang) lang=(switch_lang) { (switch_text) }
                    }
                }
                main id="main" {
                    h1 { (s.title) }
                    p class="lead" { (s.lead) }
                    (body)
                }
                footer class="site" {
                    p {
                        (s.links)
                        (lang.t("数据接口（JSON）：", "Data feed (JSON):")) " "
                        a href=(s.feed) { (s.feed) }
                    }
                }
                @if s.script {
                    script src="/static/site.js" defer {}
                }
            }
        }
    }
}

/// The whole page. `disclosures` is `None` when the disclosure service did not answer: the
/// page still renders, with the adjudication list, and says so. `town` is the code the page is
/// filtered by, empty for the whole county.
pub fn render(
    lang: Lang,
    disclosures: Option<&[pb::PublicDisclosure]>,
    cat: &Catalogue,
    towns: &Towns,
    town: &str,
) -> Markup {
    let title = lang.t("行政执法公示", "Administrative Enforcement Disclosure");
    let switch = match lang {
        Lang::Zh => ("/?lang=en", "en", "English"),
        Lang::En => ("/", "zh-CN", "简体中文"),
    };
    let lead = lang.t(
        "谁执法谁公示：行政处罚、行政许可决定自作出之日起7个工作日内公示，其他执法信息20个工作日内公示；决定被变更或撤销的，3个工作日内撤回并说明理由。",
        "Whoever enforces, discloses: penalty and licensing decisions are published within 7 working days of the decision, other enforcement information within 20; a changed or revoked decision is withdrawn within 3 working days, with the reason.",
    );
    let body = html! {
        section aria-labelledby="decisions-h" {
            h2 id="decisions-h" { (lang.t("执法决定公示", "Enforcement decisions")) }
            div id="filter-slot"
                data-label=(lang.t("筛选：", "Filter:"))
                data-count=(lang.t("显示 {n} 条", "{n} shown")) {}
            (render_town_filter(towns, town, lang))
            @match disclosures {
                None => {
                    p class="notice" role="alert" {
                        (lang.t(
                            "暂时无法读取公示信息，请稍后再试。",
                            "The disclosures cannot be read at the moment; please try again later.",
                        ))
                    }
                }
                Some([]) => p { (lang.t("暂无公示信息。", "Nothing is disclosed yet.")) },
                Some(list) => {
                    ol class="disclosures" id="disclosure-list" {
                        @for d in list { (render_disclosure(d, lang)) }
                    }
                }
            }
        }
        (render_adjudication(cat, lang))
        (render_entrustments(cat, towns, lang))
        (render_laws(lang))
    };
    shell(
        Shell {
            lang,
            title,
            lead,
            switch,
            feed: "/public/disclosures.json",
            links: html! {},
            script: true,
        },
        body,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(status: &str) -> pb::PublicDisclosure {
        pb::PublicDisclosure {
            disclosure_id: "330782101-x".into(),
            town: "330782101".into(),
            body: Some(pb::Body {
                kind: "town".into(),
                code: "330782101".into(),
                name: "赤岸镇人民政府".into(),
                name_en: "People's Government of Chi'an Town".into(),
            }),
            status: status.into(),
            decision: Some(pb::DisclosedDecision {
                outcome: "education".into(),
                summary: "<script>alert(1)</script>".into(),
                party: Some(pb::MaskedParty {
                    kind: "person".into(),
                    name: "张某".into(),
                    address: "佛堂镇东山村".into(),
                }),
                ..Default::default()
            }),
            withdrawal_reason: "复议撤销".into(),
            published_at: Some(prost_types::Timestamp {
                seconds: 1_780_000_000,
                nanos: 0,
            }),
            ..Default::default()
        }
    }

    #[test]
    fn the_page_escapes_text_and_shows_education_as_an_outcome() {
        let cat = Catalogue::default_catalogue();
        let towns = Towns::shipped();
        let html = render(Lang::Zh, Some(&[sample("published")]), &cat, &towns, "").into_string();
        assert!(html.contains("<html lang=\"zh-CN\">"));
        assert!(html.contains("教育劝导（不予处罚）"));
        assert!(html.contains("张某（佛堂镇东山村）"));
        assert!(!html.contains("<script>alert"));
        assert!(html.contains("&lt;script&gt;"));
        assert!(html.contains("行政裁决事项清单"));
    }

    /// Hostile text in every field a decision publishes, and in the disclosure's id (which
    /// the page puts in attributes), comes out as text.
    #[test]
    fn hostile_text_in_a_published_decision_comes_out_escaped() {
        const HOSTILE: &str = "<script>alert(1)</script>\"'><img src=x onerror=alert(2)>&amp;";
        const ESCAPED: &str = "&lt;script&gt;alert(1)&lt;/script&gt;&quot;'&gt;&lt;img src=x onerror=alert(2)&gt;&amp;amp;";
        let mut d = sample("withdrawn");
        d.disclosure_id = HOSTILE.into();
        d.status = HOSTILE.into();
        d.withdrawal_reason = HOSTILE.into();
        d.body.as_mut().unwrap().name = HOSTILE.into();
        let decision = d.decision.as_mut().unwrap();
        decision.outcome = HOSTILE.into();
        decision.summary = HOSTILE.into();
        decision.description = HOSTILE.into();
        decision.party = Some(pb::MaskedParty {
            kind: "person".into(),
            name: HOSTILE.into(),
            address: HOSTILE.into(),
        });
        decision.confiscated = vec![pb::DisclosedItem {
            kind: HOSTILE.into(),
            count: 1,
            unit: HOSTILE.into(),
        }];
        decision.orders = vec![HOSTILE.into()];
        decision.applied_basis = vec![HOSTILE.into()];
        decision.matters = vec![pb::DisclosedMatter {
            code: "SL-001".into(),
            name: HOSTILE.into(),
            legal_basis: vec![HOSTILE.into()],
            ..Default::default()
        }];
        let (cat, towns) = (Catalogue::default_catalogue(), Towns::shipped());
        let html = render(Lang::Zh, Some(&[d]), &cat, &towns, HOSTILE).into_string();
        assert!(!html.contains("<script>alert"), "{html}");
        assert!(!html.contains("<img"), "{html}");
        assert!(!html.contains("\"'>"), "{html}");
        assert!(html.contains(&format!("id=\"d-{ESCAPED}\"")), "{html}");
        assert!(
            html.contains(&format!("data-status=\"{ESCAPED}\"")),
            "{html}"
        );
        assert!(
            html.contains(&format!("<dd>{ESCAPED}（{ESCAPED}）</dd>")),
            "{html}"
        );
        // Every field: the reason, the body (twice), the outcome (twice), the party's name and
        // address, the case, the summary, the confiscated item and its unit, the order, the
        // matter, and the articles the decision applied (shown instead of the matter's basis).
        assert_eq!(html.matches(ESCAPED).count(), 2 + 14, "{html}");
        // The only scripts are the page's own file.
        assert_eq!(html.matches("<script").count(), 1, "{html}");
    }

    #[test]
    fn a_withdrawn_disclosure_shows_its_reason_in_both_languages() {
        let cat = Catalogue::default_catalogue();
        let towns = Towns::shipped();
        let zh = render(Lang::Zh, Some(&[sample("withdrawn")]), &cat, &towns, "").into_string();
        assert!(zh.contains("已撤回") && zh.contains("复议撤销"));
        let en = render(Lang::En, Some(&[sample("withdrawn")]), &cat, &towns, "").into_string();
        assert!(en.contains("<html lang=\"en\">"));
        assert!(en.contains("Withdrawn") && en.contains("Education, no penalty"));
        assert!(en.contains("href=\"/\" hreflang=\"zh-CN\""));
    }

    #[test]
    fn the_page_names_the_deciding_town_and_offers_the_towns_by_name() {
        let cat = Catalogue::default_catalogue();
        let towns = Towns::shipped();
        let zh = render(
            Lang::Zh,
            Some(&[sample("published")]),
            &cat,
            &towns,
            "330782102",
        )
        .into_string();
        assert!(
            zh.contains("<h3 id=\"d-330782101-x\">赤岸镇人民政府 · "),
            "{zh}"
        );
        assert!(zh.contains("<dd>赤岸镇人民政府</dd>"), "{zh}");
        assert!(!zh.contains("（330782101）"), "{zh}");
        assert!(
            zh.contains("<option value=\"\">义乌市全部乡镇</option>"),
            "{zh}"
        );
        assert!(
            zh.contains("<option value=\"330782101\">赤岸镇</option>"),
            "{zh}"
        );
        assert!(
            zh.contains("<option value=\"330782102\" selected>义亭镇</option>"),
            "{zh}"
        );
        let en = render(Lang::En, Some(&[sample("published")]), &cat, &towns, "").into_string();
        assert!(en.contains("People's Government of Chi'an Town"), "{en}");
        assert!(en.contains("<option value=\"330782001\">Choucheng Subdistrict</option>"));
    }

    #[test]
    fn the_page_renders_when_the_service_is_down() {
        let cat = Catalogue::default_catalogue();
        let towns = Towns::shipped();
        let html = render(Lang::En, None, &cat, &towns, "").into_string();
        assert!(html.contains("cannot be read"));
        assert!(html.contains("Administrative adjudication matters"));
    }

    #[test]
    fn the_page_publishes_the_letters_of_entrustment() {
        let cat = Catalogue::default_catalogue();
        let towns = Towns::shipped();
        let zh = render(Lang::Zh, Some(&[]), &cat, &towns, "").into_string();
        assert!(
            zh.contains("<h2 id=\"entrustment-h\">行政处罚委托书</h2>"),
            "{zh}"
        );
        assert!(
            zh.contains("<th scope=\"row\">县农委〔2026〕1号</th>"),
            "{zh}"
        );
        assert!(zh.contains("<td>义亭镇人民政府</td>"), "{zh}");
        assert!(zh.contains("（YZ-001）"), "{zh}");
        assert!(zh.contains("<time datetime=\"2028-02-29\">"), "{zh}");
        let en = render(Lang::En, Some(&[]), &cat, &towns, "").into_string();
        assert!(en.contains("Letters of entrustment"), "{en}");
        assert!(en.contains("Fine"), "{en}");
    }
}
