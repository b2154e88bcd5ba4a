//! The public page before enforcement (事前公开, `GET /enforcement`): for one town, which bodies
//! enforce which matters there and on what basis (the catalogue), the officers who hold a valid
//! enforcement certificate with its number and issuing body (the review service's public copy of
//! the registries), the letters of entrustment, the procedure, and how to seek a remedy.
//! Server-rendered like the disclosure page, in Simplified Chinese or English (`?lang=en`).

use chrono::NaiveDate;
use liandong_domain::catalogue::{Catalogue, Matter, MatterVersion, TownPower};
use liandong_domain::documents::REMEDIES;
use liandong_domain::ids::TownCode;
use liandong_domain::towns::{Town, Towns};
use liandong_proto::review::v1 as pb;
use maud::{Markup, html};

use crate::public::{Lang, render_entrustments};

/// Who enforces `m` in `town`, by the town's power over it, in the page's language.
fn enforcer(cat: &Catalogue, towns: &Towns, town: &Town, m: &Matter, lang: Lang) -> String {
    let government = match lang {
        Lang::Zh => towns.government_or_code(town.code().as_str()),
        Lang::En => towns.government_en_or_code(town.code().as_str()),
    };
    let department = cat
        .department(&m.department)
        .map(|d| match lang {
            Lang::Zh => d.name.clone(),
            Lang::En => d.name_en.clone(),
        })
        .unwrap_or_else(|| m.department.to_string());
    match m.power_in(town.code()) {
        TownPower::ByLaw | TownPower::Delegated => government,
        TownPower::Entrusted => match lang {
            Lang::Zh => format!("{government}（受{department}委托，以{department}名义）"),
            Lang::En => format!("{government} (entrusted by {department}, in its name)"),
        },
        TownPower::None => department,
    }
}

fn power_label(p: TownPower, lang: Lang) -> &'static str {
    match p {
        TownPower::ByLaw => lang.t("法定职权", "By law"),
        TownPower::Delegated => lang.t("赋权乡镇", "Delegated to the town"),
        TownPower::Entrusted => lang.t("委托实施", "Entrusted"),
        TownPower::None => lang.t("县级部门实施", "County department"),
    }
}

/// The version of a matter's law in force on `today`, or its latest.
fn in_force(m: &Matter, today: NaiveDate) -> &MatterVersion {
    m.version_on(today).unwrap_or_else(|| m.latest())
}

fn render_powers(
    cat: &Catalogue,
    towns: &Towns,
    town: &Town,
    today: NaiveDate,
    lang: Lang,
) -> Markup {
    html! {
        section aria-labelledby="powers-h" {
            h2 id="powers-h" { (lang.t("执法主体与职责", "Enforcing bodies and their powers")) }
            table {
                caption {
                    (lang.t(
                        "本乡镇（街道）的行政执法事项、实施主体及其依据（按现行有效的法律条文）。",
                        "The enforcement matters of this town, the body that enforces each, and its legal basis (the articles in force today).",
                    ))
                }
                thead {
                    tr {
                        th scope="col" { (lang.t("事项", "Matter")) }
                        th scope="col" { (lang.t("实施主体", "Enforcing body")) }
                        th scope="col" { (lang.t("职权来源", "Source of the power")) }
                        th scope="col" { (lang.t("依据", "Legal basis")) }
                    }
                }
                tbody {
                    @for m in &cat.matters {
                        @let version = in_force(m, today);
                        @let basis: Vec<String> = version
                            .legal_basis
                            .iter()
                            .map(|b| format!("《{}》{}", b.law, b.article))
                            .collect();
                        tr {
                            th scope="row" {
                                (match lang { Lang::Zh => &m.name, Lang::En => &m.name_en })
                                " (" (m.code.as_str()) ")"
                            }
                            td { (enforcer(cat, towns, town, m, lang)) }
                            td { (power_label(m.power_in(town.code()), lang)) }
                            td {
                                @if basis.is_empty() || version.unconfirmed.is_some() {
                                    (lang.t("依据条文尚待核实", "article not yet confirmed"))
                                } @else {
                                    (basis.join("、"))
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// The certified officers of the town's brigade and of the county departments. `None`: the
/// registry could not be read.
fn render_officers(
    officers: Option<&[pb::CertifiedOfficer]>,
    cat: &Catalogue,
    towns: &Towns,
    town: &Town,
    lang: Lang,
) -> Markup {
    let agency_name = |agency: &str| -> String {
        if agency == town.code().as_str() {
            return match lang {
                Lang::Zh => towns.government_or_code(agency),
                Lang::En => towns.government_en_or_code(agency),
            };
        }
        cat.departments
            .iter()
            .find(|d| d.code.as_str() == agency)
            .map(|d| match lang {
                Lang::Zh => d.name.clone(),
                Lang::En => d.name_en.clone(),
            })
            .unwrap_or_else(|| agency.to_owned())
    };
    html! {
        section aria-labelledby="officers-h" {
            h2 id="officers-h" { (lang.t("持证执法人员", "Certified enforcement officers")) }
            @match officers {
                None => p class="notice" role="alert" {
                    (lang.t(
                        "暂时无法读取执法人员名单，请稍后再试。",
                        "The list of officers cannot be read at the moment; please try again later.",
                    ))
                },
                Some(list) => {
                    @let shown: Vec<&pb::CertifiedOfficer> = list
                        .iter()
                        // The town's own brigade, and the county departments (which enforce
                        // in every town); not other towns' brigades.
                        .filter(|o| o.agency == town.code().as_str() || TownCode::parse(&o.agency).is_err())
                        .collect();
                    @if shown.is_empty() {
                        p { (lang.t("暂无持证执法人员信息。", "No certified officer is registered yet.")) }
                    } @else {
                        table {
                            caption {
                                (lang.t(
                                    "行政执法人员持有效执法证件上岗（持证上岗），执法时应当主动出示。",
                                    "Enforcement officers act only with a valid certificate, which they show when they act.",
                                ))
                            }
                            thead {
                                tr {
                                    th scope="col" { (lang.t("所属执法主体", "Body")) }
                                    th scope="col" { (lang.t("执法人员", "Officer")) }
                                    th scope="col" { (lang.t("执法证号", "Certificate No.")) }
                                    th scope="col" { (lang.t("发证机关", "Issued by")) }
                                    th scope="col" { (lang.t("有效期", "Valid")) }
                                }
                            }
                            tbody {
                                @for o in shown {
                                    tr {
                                        td { (agency_name(&o.agency)) }
                                        th scope="row" { (o.officer) }
                                        td { (o.certificate_no) }
                                        td { (o.issuing_authority) }
                                        td {
                                            time datetime=(o.valid_from) { (o.valid_from) }
                                            " – "
                                            time datetime=(o.valid_until) { (o.valid_until) }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// The procedure, as 行政处罚法 orders it (the checks of `liandong_domain::procedure`).
fn render_procedure(lang: Lang) -> Markup {
    let steps: [(&str, &str); 7] = [
        (
            "立案、调查取证：执法人员不少于两人，并出示执法证件（《中华人民共和国行政处罚法》第四十二条）。",
            "Filing and investigation: by at least two enforcement officers, who show their certificates (Administrative Penalty Law, Art. 42).",
        ),
        (
            "事先告知：作出行政处罚决定前，告知拟作出的处罚内容及事实、理由、依据，以及陈述、申辩、要求听证等权利（第四十四条）。",
            "Prior notice: before a penalty, the party is told the intended penalty, its facts, reasons and basis, and their rights to state their case, defend themselves and ask for a hearing (Art. 44).",
        ),
        (
            "陈述申辩：充分听取当事人的意见，不因当事人陈述、申辩而给予更重的处罚（第四十五条）。",
            "Statement and defence: the party is heard in full, and never penalised more heavily for it (Art. 45).",
        ),
        (
            "听证：较大数额罚款、没收较大数额财物等决定，当事人可在告知后五个工作日内要求听证（第六十三条、第六十四条）。",
            "Hearing: for a large fine, a confiscation of large value and the like, the party may ask for a hearing within five working days of the notice (Arts. 63 and 64).",
        ),
        (
            "法制审核、集体讨论：重大执法决定经法制审核（第五十八条）；情节复杂或者重大违法行为由负责人集体讨论决定（第五十七条）。",
            "Legal review and collective discussion: a major decision is reviewed by the legal office (Art. 58); complex or serious cases are decided by the heads together (Art. 57).",
        ),
        (
            "简易程序：违法事实确凿并有法定依据，对公民处二百元以下、对法人或者其他组织处三千元以下罚款或者警告的，可以当场作出决定（第五十一条）。",
            "Simple procedure: a warning, or a fine of up to 200 yuan on a citizen or 3,000 yuan on an organisation, may be decided on the spot when the facts are clear (Art. 51).",
        ),
        (
            "决定公示：行政处罚决定自作出之日起7个工作日内公示，其他执法信息20个工作日内公示；决定被变更或撤销的，3个工作日内撤回并说明理由（第四十八条、第八十五条）。",
            "Disclosure: penalty decisions are published within 7 working days of the decision, other enforcement information within 20; a changed or revoked decision is withdrawn within 3 working days, with the reason (Arts. 48 and 85).",
        ),
    ];
    html! {
        section aria-labelledby="procedure-h" {
            h2 id="procedure-h" { (lang.t("执法程序", "Procedure")) }
            ol class="laws" {
                @for (zh, en) in steps { li { (lang.t(zh, en)) } }
            }
        }
    }
}

fn render_remedies(lang: Lang) -> Markup {
    html! {
        section aria-labelledby="remedies-h" {
            h2 id="remedies-h" { (lang.t("救济途径", "Remedies")) }
            p {
                (lang.t(
                    "当事人对行政执法决定不服的，可以依法：",
                    "A party who disagrees with an enforcement decision may, as the law provides:",
                ))
            }
            ul class="laws" {
                @for r in REMEDIES {
                    li {
                        @match lang {
                            Lang::Zh => { "依照" (r.law) "，" (r.limit) "；" },
                            Lang::En => { (r.limit_en) " (" (r.law_en) ");" },
                        }
                    }
                }
            }
        }
    }
}

/// The town filter of the page: a plain GET form, so it works without JavaScript.
fn render_town_choice(towns: &Towns, selected: &Town, lang: Lang) -> Markup {
    html! {
        form class="filters" method="get" action="/enforcement" {
            label {
                (lang.t("乡镇（街道）", "Town")) " "
                select name="town" {
                    @for t in towns.towns() {
                        @let code = t.code().as_str();
                        option value=(code) selected[t.code() == selected.code()] {
                            @match lang {
                                Lang::Zh => (t.name()),
                                Lang::En => (t.name_en()),
                            }
                        }
                    }
                }
            }
            @if lang == Lang::En { input type="hidden" name="lang" value="en"; }
            button type="submit" { (lang.t("查看", "Show")) }
        }
    }
}

/// The town a request names, or the registry's first; `Err` for a code that is not one of the
/// county's towns (the page answers 400 and shows the first).
pub fn chosen_town<'t>(towns: &'t Towns, code: &str) -> Result<&'t Town, &'t Town> {
    let first = towns.towns().first().expect("the registry has a town");
    if code.is_empty() {
        return Ok(first);
    }
    TownCode::parse(code)
        .ok()
        .and_then(|c| towns.town(&c))
        .ok_or(first)
}

/// The whole page for `town`. `officers` is `None` when the registry did not answer: the page
/// still renders everything else, and says so.
pub fn render(
    lang: Lang,
    officers: Option<&[pb::CertifiedOfficer]>,
    cat: &Catalogue,
    towns: &Towns,
    town: &Town,
    today: NaiveDate,
) -> Markup {
    let title = lang.t("行政执法事前公开", "Before Enforcement: Who, What and How");
    let code = town.code().as_str();
    let (switch_href, switch_lang, switch_text) = match lang {
        Lang::Zh => (format!("/enforcement?town={code}&lang=en"), "en", "English"),
        Lang::En => (format!("/enforcement?town={code}"), "zh-CN", "简体中文"),
    };
    let disclosures = match lang {
        Lang::Zh => "/",
        Lang::En => "/?lang=en",
    };
    let government = match lang {
        Lang::Zh => towns.government_or_code(code),
        Lang::En => towns.government_en_or_code(code),
    };
    let lead = lang.t(
        "执法前公开：谁在本乡镇执法、执什么法、依据什么、由谁执法、怎样执法，以及不服决定如何救济。",
        "Made public before any enforcement: who enforces what in this town, on which basis, by which certified officers, by what procedure, and how to seek a remedy.",
    );
    let body = html! {
        (render_town_choice(towns, town, lang))
        p { (government) }
        (render_powers(cat, towns, town, today, lang))
        (render_officers(officers, cat, towns, town, lang))
        (render_entrustments(cat, towns, lang))
        (render_procedure(lang))
        (render_remedies(lang))
    };
    crate::public::shell(
        crate::public::Shell {
            lang,
            title,
            lead,
            switch: (&switch_href, switch_lang, switch_text),
            feed: "/public/officers.json",
            links: html! {
                a href=(disclosures) { (lang.t("执法决定公示", "Enforcement decisions")) }
                " · "
            },
            script: false,
        },
        body,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn officer(agency: &str, name: &str, no: &str) -> pb::CertifiedOfficer {
        pb::CertifiedOfficer {
            agency: agency.into(),
            officer: name.into(),
            certificate_no: no.into(),
            issuing_authority: "浙江省人民政府".into(),
            valid_from: "2020-01-01".into(),
            valid_until: "2099-12-31".into(),
        }
    }

    #[test]
    fn the_page_shows_a_towns_enforcers_officers_entrustments_procedure_and_remedies() {
        let cat = Catalogue::default_catalogue();
        let towns = Towns::shipped();
        let town = chosen_town(&towns, "330782102").unwrap();
        let officers = [
            officer("330782102", "wang.wu", "ZJ-330782-0001"),
            officer("330782101", "elsewhere", "ZJ-OTHER-9"),
            officer("forestry", "zhou.diaocha", "ZJ-LY-0002"),
        ];
        let day = NaiveDate::from_ymd_opt(2026, 6, 1).unwrap();
        let zh = render(Lang::Zh, Some(&officers), &cat, &towns, town, day).into_string();
        assert!(zh.contains("<h1>行政执法事前公开</h1>"), "{zh}");
        assert!(zh.contains("义亭镇人民政府"), "{zh}");
        assert!(
            zh.contains("ZJ-330782-0001") && zh.contains("ZJ-LY-0002"),
            "{zh}"
        );
        assert!(!zh.contains("ZJ-OTHER-9"), "another town's brigade: {zh}");
        assert!(zh.contains("浙江省人民政府"), "{zh}");
        assert!(zh.contains("行政处罚委托书"), "{zh}");
        assert!(zh.contains("第四十四条"), "{zh}");
        assert!(zh.contains("《中华人民共和国行政复议法》第二十条"), "{zh}");
        assert!(zh.contains("六个月内"), "{zh}");
        assert!(zh.contains("委托实施") || zh.contains("赋权乡镇"), "{zh}");
        let en = render(Lang::En, Some(&officers), &cat, &towns, town, day).into_string();
        assert!(en.contains("Certified enforcement officers"), "{en}");
        assert!(en.contains("within sixty days"), "{en}");
        assert!(
            en.contains("Administrative Litigation Law, Art. 46"),
            "{en}"
        );
        assert!(en.contains("<html lang=\"en\">"), "{en}");
    }

    #[test]
    fn the_page_renders_when_the_registry_is_down_and_refuses_an_unknown_town() {
        let cat = Catalogue::default_catalogue();
        let towns = Towns::shipped();
        assert!(chosen_town(&towns, "999999999").is_err());
        assert!(chosen_town(&towns, "x").is_err());
        let first = chosen_town(&towns, "").unwrap();
        let day = NaiveDate::from_ymd_opt(2026, 6, 1).unwrap();
        let html = render(Lang::En, None, &cat, &towns, first, day).into_string();
        assert!(html.contains("cannot be read"), "{html}");
        assert!(html.contains("Remedies"), "{html}");
    }
}
