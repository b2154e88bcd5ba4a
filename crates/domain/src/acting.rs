//! The body in whose name an act is done (实施主体), and the letters of entrustment (委托书)
//! that let a town act for a county department.
//!
//! 行政处罚法 (2021) 第二十条: a department may entrust, in writing and within its own powers, an
//! organisation to impose penalties; the letter states the matters, powers and term and is
//! published; the department supervises and answers for the result, and the entrusted
//! organisation acts within the entrustment **in the department's name** (第二十条第三款 as
//! quoted in https://m.e-book.qq.com/read/1044618216/63: "受委托组织在委托范围内，以委托行政机关
//! 名义实施行政处罚；不得再委托其他组织或者个人实施行政处罚"; the article's parts — basis, written
//! form, publication, liability — as summarised in https://www.aisixiang.com/data/172668.html).
//! Delegated powers (赋权, 第二十四条) and the town's statutory powers are exercised in the town's
//! own name. So one rule, [`acting_body`], names the body for every document, number, legal
//! review and disclosure of a case, and refuses an act outside the letter's matters or term.

use std::collections::BTreeSet;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use toml::{Table, Value};

use crate::catalogue::{Catalogue, Department, Matter, TownPower};
use crate::data_file::{Ctx, DataFileError};
use crate::disclosure::BodyKind;
use crate::documents::DocKind;
use crate::ids::{DepartmentCode, MatterCode, TownCode};
use crate::outcome::OutcomeKind;
use crate::towns::Towns;

/// A letter of entrustment (行政处罚委托书) as the catalogue keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entrustment {
    /// The letter's own number, e.g. `县环委〔2026〕1号`.
    pub number: String,
    /// The entrusting department, in whose name the town acts.
    pub department: DepartmentCode,
    /// The town entrusted (its government, whose brigade does the work).
    pub town: TownCode,
    /// The matters entrusted; each is `entrusted` for the town in the catalogue.
    pub matters: Vec<MatterCode>,
    /// What the town may decide under it (the outcome kinds); anything else stays with the
    /// department.
    pub powers: Vec<OutcomeKind>,
    /// The term, both days included.
    pub from: NaiveDate,
    pub until: NaiveDate,
    /// Where and when it was published (第二十条第二款: the letter is made public).
    pub published: String,
}

impl Entrustment {
    /// Whether the letter is in force on `day` (its term includes both ends).
    pub fn in_force_on(&self, day: NaiveDate) -> bool {
        self.from <= day && day <= self.until
    }

    pub fn covers(&self, matter: &MatterCode) -> bool {
        self.matters.contains(matter)
    }
}

/// The body in whose name an act on a case is done.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActingBody {
    pub kind: BodyKind,
    /// The town's code or the department's.
    pub code: String,
    /// Its name as documents print it: 赤岸镇人民政府, or the department's name.
    pub name: String,
    pub name_en: String,
    /// The letter the town acts under, for an entrusting department.
    pub entrustment: Option<Entrustment>,
    /// What document numbers start with: 赤岸综执 for a town, 县环（赤岸）委 for a department's
    /// matters entrusted to 赤岸镇 (a series of its own, so the department's own numbers and
    /// another town's are never shared).
    series: String,
    /// The key the numbers are counted under (one sequence per key and year).
    counter: String,
}

impl ActingBody {
    /// A document number: `赤岸综执罚决字〔2026〕第12号`, `县环（赤岸）委罚决字〔2026〕第3号`.
    pub fn number(&self, kind: DocKind, year: i32, n: u32) -> String {
        format!("{}{}字〔{year}〕第{n}号", self.series, kind.prefix())
    }

    /// The sequence numbers are taken from: the town government's name for the town (as
    /// numbered before entrustment was known), the department's name and the town for an
    /// entrusting department.
    pub fn counter_key(&self) -> &str {
        &self.counter
    }

    /// The line a document issued in a department's name carries about who acted for it:
    /// `受委托实施：赤岸镇人民政府（委托书 县环委〔2026〕1号）`; empty for the town's own.
    pub fn entrusted_line(&self, towns: &Towns) -> String {
        match &self.entrustment {
            Some(e) => format!(
                "受委托实施：{}（委托书 {}）",
                towns.government_or_code(e.town.as_str()),
                e.number
            ),
            None => String::new(),
        }
    }

    /// `town:<code>` or `department:<code>`, as the figures name a deciding body.
    pub fn key(&self) -> String {
        format!("{}:{}", self.kind.as_str(), self.code)
    }

    /// The outcome kinds this body may decide here: everything for the town's own powers, the
    /// letter's powers for an entrusting department.
    pub fn permits(&self, outcome: OutcomeKind) -> bool {
        self.entrustment
            .as_ref()
            .is_none_or(|e| e.powers.contains(&outcome))
    }
}

/// Why no body may act on a case's matters in a town, said so an officer can act on it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ActingRefused {
    #[error("matter {0} is not in the catalogue")]
    UnknownMatter(String),
    #[error("town {0} is not in the town registry")]
    UnknownTown(String),
    #[error(
        "matter {matter} is not the town's to handle here (its power in town {town} is {power}); the case goes to the competent department"
    )]
    NotTheTowns {
        matter: String,
        town: String,
        power: &'static str,
    },
    #[error(
        "matters {first} and {second} are decided in different names ({first_body} and {second_body}): decide them as separate cases"
    )]
    DifferentNames {
        first: String,
        first_body: String,
        second: String,
        second_body: String,
    },
    #[error(
        "no letter of entrustment (委托书) of {department} covers matter {matter} in town {town}: the town cannot act on it in the department's name (行政处罚法 第二十条)"
    )]
    NoEntrustment {
        department: String,
        matter: String,
        town: String,
    },
    #[error(
        "the letter of entrustment {number} runs from {from} to {until}; on {on} the town cannot act on it in the department's name (行政处罚法 第二十条)"
    )]
    OutsideTerm {
        number: String,
        from: NaiveDate,
        until: NaiveDate,
        on: NaiveDate,
    },
    #[error(
        "the letter of entrustment {number} entrusts {powers} only, not {outcome}: that decision stays with {department}"
    )]
    PowerNotEntrusted {
        number: String,
        powers: String,
        outcome: &'static str,
        department: String,
    },
}

/// The body in whose name the town acts on `matters` on `day`: the town government for its
/// statutory and delegated powers; for entrusted matters, the entrusting department, under a
/// letter in force on `day` that covers every one of them. Refuses matters decided in two names,
/// a matter that is not the town's, and an entrusted matter without a letter in force.
pub fn acting_body(
    catalogue: &Catalogue,
    towns: &Towns,
    town: &TownCode,
    matters: &[MatterCode],
    day: NaiveDate,
) -> Result<ActingBody, ActingRefused> {
    resolve(catalogue, towns, town, matters, day, true)
}

/// The body in whose name the acts on `matters` were done, as [`acting_body`] names it but
/// without refusing a day outside the letter's term: for a step that follows an act already
/// checked (a decision concluded when its legal review approves it).
pub fn named_body(
    catalogue: &Catalogue,
    towns: &Towns,
    town: &TownCode,
    matters: &[MatterCode],
    day: NaiveDate,
) -> Result<ActingBody, ActingRefused> {
    resolve(catalogue, towns, town, matters, day, false)
}

/// The town government, in whose name the brigade acts on the town's own and delegated powers
/// and refers what is not the town's (a transfer letter is always the town's).
pub fn town_body(towns: &Towns, town: &TownCode) -> Result<ActingBody, ActingRefused> {
    let t = towns
        .town(town)
        .ok_or_else(|| ActingRefused::UnknownTown(town.to_string()))?;
    Ok(ActingBody {
        kind: BodyKind::Town,
        code: town.to_string(),
        name: t.government().to_owned(),
        name_en: t.government_en(),
        entrustment: None,
        series: format!("{}综执", t.short_name()),
        counter: t.government().to_owned(),
    })
}

fn resolve(
    catalogue: &Catalogue,
    towns: &Towns,
    town: &TownCode,
    matters: &[MatterCode],
    day: NaiveDate,
    strict: bool,
) -> Result<ActingBody, ActingRefused> {
    let own = town_body(towns, town)?;
    let t = towns
        .town(town)
        .ok_or_else(|| ActingRefused::UnknownTown(town.to_string()))?;
    // Which name each matter is decided in: None for the town's own.
    let mut named: Option<(&Matter, Option<&Department>)> = None;
    for code in matters {
        let m = catalogue
            .matter(code)
            .ok_or_else(|| ActingRefused::UnknownMatter(code.to_string()))?;
        let power = m.power_in(town);
        let dept = match power {
            TownPower::ByLaw | TownPower::Delegated => None,
            TownPower::Entrusted => Some(catalogue.department(&m.department).ok_or_else(|| {
                ActingRefused::UnknownMatter(format!("{code} (department {})", m.department))
            })?),
            TownPower::None => {
                return Err(ActingRefused::NotTheTowns {
                    matter: code.to_string(),
                    town: town.to_string(),
                    power: power.as_str(),
                });
            }
        };
        match &named {
            None => named = Some((m, dept)),
            Some((first, first_dept)) if first_dept.map(|d| &d.code) != dept.map(|d| &d.code) => {
                let name = |d: Option<&Department>| {
                    d.map_or_else(|| t.government().to_owned(), |d| d.name.clone())
                };
                return Err(ActingRefused::DifferentNames {
                    first: first.code.to_string(),
                    first_body: name(*first_dept),
                    second: code.to_string(),
                    second_body: name(dept),
                });
            }
            Some(_) => {}
        }
    }
    let Some((_, Some(dept))) = named else {
        return Ok(own);
    };
    let letter = letter_for(catalogue, &dept.code, town, matters, day, strict)?;
    Ok(ActingBody {
        kind: BodyKind::Department,
        code: dept.code.to_string(),
        name: dept.name.clone(),
        name_en: dept.name_en.clone(),
        series: format!(
            "{}（{}）委",
            dept.abbrev.as_deref().unwrap_or(dept.name.as_str()),
            t.short_name()
        ),
        counter: format!("{}/{}", dept.name, town),
        entrustment: Some(letter.clone()),
    })
}

/// The letter of `department` to `town` in force on `day` covering every one of `matters`.
fn letter_for<'c>(
    catalogue: &'c Catalogue,
    department: &DepartmentCode,
    town: &TownCode,
    matters: &[MatterCode],
    day: NaiveDate,
    strict: bool,
) -> Result<&'c Entrustment, ActingRefused> {
    let resolved: Vec<MatterCode> = matters
        .iter()
        .filter_map(|c| catalogue.matter(c).map(|m| m.code.clone()))
        .collect();
    let covering: Vec<&Entrustment> = catalogue
        .entrustments
        .iter()
        .filter(|e| &e.department == department && &e.town == town)
        .filter(|e| resolved.iter().all(|m| e.covers(m)))
        .collect();
    if let Some(letter) = covering.iter().find(|e| e.in_force_on(day)) {
        return Ok(letter);
    }
    // The nearest letter in time says what term the act fell outside of.
    match covering.iter().min_by_key(|e| {
        (e.from - day)
            .num_days()
            .abs()
            .min((e.until - day).num_days().abs())
    }) {
        Some(e) if !strict => Ok(e),
        Some(e) => Err(ActingRefused::OutsideTerm {
            number: e.number.clone(),
            from: e.from,
            until: e.until,
            on: day,
        }),
        None => Err(ActingRefused::NoEntrustment {
            department: department.to_string(),
            matter: resolved
                .iter()
                .find(|m| {
                    !catalogue
                        .entrustments
                        .iter()
                        .any(|e| &e.department == department && &e.town == town && e.covers(m))
                })
                .or(resolved.first())
                .map(ToString::to_string)
                .unwrap_or_default(),
            town: town.to_string(),
        }),
    }
}

/// Refuses a decision of `outcome` that `body`'s letter does not entrust.
pub fn check_power(body: &ActingBody, outcome: OutcomeKind) -> Result<(), ActingRefused> {
    match &body.entrustment {
        Some(e) if !body.permits(outcome) => Err(ActingRefused::PowerNotEntrusted {
            number: e.number.clone(),
            powers: e
                .powers
                .iter()
                .map(|p| p.as_str())
                .collect::<Vec<_>>()
                .join(", "),
            outcome: outcome.as_str(),
            department: body.name.clone(),
        }),
        _ => Ok(()),
    }
}

/// Reads the catalogue's `[[entrustment]]` letters, checked against its departments and
/// matters: each names a known department with a document abbreviation, matters of that
/// department that the catalogue marks `entrusted` for the town, known outcome kinds as powers,
/// a term that does not end before it starts, and where it was published; numbers are unique,
/// and two letters of one department never cover one matter in one town on the same day.
pub(crate) fn parse_entrustments(
    file: &str,
    table: &Table,
    departments: &[Department],
    matters: &[Matter],
) -> Result<Vec<Entrustment>, DataFileError> {
    let top = Ctx { file, entry: None };
    let mut out: Vec<Entrustment> = Vec::new();
    let mut numbers = BTreeSet::new();
    for (i, value) in top
        .array_of_tables(table, "entrustment")?
        .iter()
        .enumerate()
    {
        let t = value.as_table().expect("checked to be a table");
        let number = t
            .get("number")
            .and_then(Value::as_str)
            .filter(|n| !n.trim().is_empty());
        let ctx = Ctx::entry(file, "entrustment", number, i);
        ctx.check_keys(
            t,
            &[
                "number",
                "department",
                "town",
                "matters",
                "powers",
                "from",
                "until",
                "published",
            ],
            "",
        )?;
        let number = ctx.name(t, "number")?;
        if !numbers.insert(number.clone()) {
            return Err(ctx.err("number", format!("duplicate letter number \"{number}\"")));
        }
        let department = DepartmentCode::parse(ctx.req_str(t, "department", "department")?)
            .map_err(|e| ctx.err("department", e.to_string()))?;
        let Some(dept) = departments.iter().find(|d| d.code == department) else {
            return Err(ctx.err("department", format!("unknown department \"{department}\"")));
        };
        if dept.abbrev.is_none() {
            return Err(ctx.err(
                "department",
                format!(
                    "department \"{department}\" entrusts its powers, so it needs an `abbrev` for the numbers of the documents issued in its name"
                ),
            ));
        }
        let town = TownCode::parse(ctx.req_str(t, "town", "town")?)
            .map_err(|e| ctx.err("town", e.to_string()))?;
        let codes = string_list(&ctx, t, "matters")?;
        let mut entrusted = Vec::with_capacity(codes.len());
        for (j, code) in codes.iter().enumerate() {
            let field = format!("matters[{j}]");
            let code = MatterCode::parse(code).map_err(|e| ctx.err(&field, e.to_string()))?;
            let Some(m) = matters.iter().find(|m| m.code == code) else {
                return Err(ctx.err(&field, format!("unknown matter \"{code}\"")));
            };
            if m.department != department {
                return Err(ctx.err(
                    &field,
                    format!(
                        "matter \"{code}\" belongs to \"{}\", not to the entrusting department",
                        m.department
                    ),
                ));
            }
            if m.power_in(&town) != TownPower::Entrusted {
                return Err(ctx.err(
                    &field,
                    format!(
                        "matter \"{code}\" is \"{}\" for town {town} in this catalogue, not \"entrusted\"",
                        m.power_in(&town).as_str()
                    ),
                ));
            }
            entrusted.push(code);
        }
        let mut powers = Vec::new();
        for (j, p) in string_list(&ctx, t, "powers")?.iter().enumerate() {
            let kind = OutcomeKind::parse(p).ok_or_else(|| {
                let all: Vec<&str> = OutcomeKind::ALL.iter().map(|k| k.as_str()).collect();
                ctx.err(
                    &format!("powers[{j}]"),
                    format!("unknown outcome {p:?}, expected one of: {}", all.join(", ")),
                )
            })?;
            powers.push(kind);
        }
        let from = date(&ctx, t, "from")?;
        let until = date(&ctx, t, "until")?;
        if until < from {
            return Err(ctx.err(
                "until",
                format!("{until} is before the term's start {from}"),
            ));
        }
        let published = ctx.name(t, "published")?;
        let letter = Entrustment {
            number,
            department,
            town,
            matters: entrusted,
            powers,
            from,
            until,
            published,
        };
        if let Some(other) = out.iter().find(|o| {
            o.department == letter.department
                && o.town == letter.town
                && o.from <= letter.until
                && letter.from <= o.until
                && o.matters.iter().any(|m| letter.covers(m))
        }) {
            return Err(ctx.err(
                "from",
                format!(
                    "its term overlaps letter \"{}\" ({} to {}) on the same matter and town",
                    other.number, other.from, other.until
                ),
            ));
        }
        out.push(letter);
    }
    Ok(out)
}

/// A non-empty array of non-empty strings.
fn string_list(ctx: &Ctx<'_>, t: &Table, key: &str) -> Result<Vec<String>, DataFileError> {
    let Some(value) = t.get(key) else {
        return Err(ctx.err(key, "is required"));
    };
    let Value::Array(items) = value else {
        return Err(ctx.err(
            key,
            format!("must be an array of strings, found {}", value.type_str()),
        ));
    };
    if items.is_empty() {
        return Err(ctx.err(key, "must not be empty"));
    }
    items
        .iter()
        .enumerate()
        .map(|(j, v)| match v.as_str().map(str::trim) {
            Some(s) if !s.is_empty() => Ok(s.to_owned()),
            _ => Err(ctx.err(&format!("{key}[{j}]"), "must be a non-empty string")),
        })
        .collect()
}

/// A TOML local date (`from = 2026-01-01`).
fn date(ctx: &Ctx<'_>, t: &Table, key: &str) -> Result<NaiveDate, DataFileError> {
    match t.get(key) {
        None => Err(ctx.err(key, "is required")),
        Some(Value::Datetime(dt)) if dt.time.is_none() && dt.offset.is_none() => dt
            .date
            .and_then(|d| {
                NaiveDate::from_ymd_opt(i32::from(d.year), u32::from(d.month), u32::from(d.day))
            })
            .ok_or_else(|| ctx.err(key, "is not a calendar date")),
        Some(v) => Err(ctx.err(
            key,
            format!(
                "must be a date written as 2026-01-01 (no quotes, no time), found {}",
                v.type_str()
            ),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn town(s: &str) -> TownCode {
        TownCode::parse(s).unwrap()
    }
    fn matter(s: &str) -> MatterCode {
        MatterCode::parse(s).unwrap()
    }
    fn day(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    const CHIAN: &str = "330782101";

    #[test]
    fn the_towns_own_and_delegated_powers_act_in_the_towns_name() {
        let cat = Catalogue::default_catalogue();
        let towns = Towns::shipped();
        let body = acting_body(
            &cat,
            &towns,
            &town(CHIAN),
            &[matter("CXGH-001")],
            day("2026-06-01"),
        )
        .unwrap();
        assert_eq!(body.kind, BodyKind::Town);
        assert_eq!(body.name, "赤岸镇人民政府");
        assert_eq!(
            body.number(DocKind::PenaltyDecision, 2026, 12),
            "赤岸综执罚决字〔2026〕第12号"
        );
        assert_eq!(body.counter_key(), "赤岸镇人民政府");
        assert!(body.permits(OutcomeKind::Demolition));
    }

    #[test]
    fn an_entrusted_matter_acts_in_the_departments_name_under_its_letter() {
        let cat = Catalogue::default_catalogue();
        let towns = Towns::shipped();
        let body = acting_body(
            &cat,
            &towns,
            &town(CHIAN),
            &[matter("HJ-002")],
            day("2026-06-01"),
        )
        .unwrap();
        assert_eq!(body.kind, BodyKind::Department);
        assert_eq!(body.code, "ecology_environment");
        assert_eq!(body.name, "市生态环境局县分局");
        let letter = body.entrustment.as_ref().expect("under a letter");
        assert_eq!(letter.town, town(CHIAN));
        assert_eq!(
            body.number(DocKind::PenaltyDecision, 2026, 3),
            "县环（赤岸）委罚决字〔2026〕第3号"
        );
        assert!(body.permits(OutcomeKind::Fine));
        assert!(check_power(&body, OutcomeKind::Demolition).is_err());
    }

    #[test]
    fn outside_the_term_or_without_a_letter_the_town_cannot_act() {
        let cat = Catalogue::default_catalogue();
        let towns = Towns::shipped();
        let letter = cat
            .entrustments
            .iter()
            .find(|e| e.town == town(CHIAN) && e.covers(&matter("HJ-002")))
            .unwrap()
            .clone();
        let after = letter.until.succ_opt().unwrap();
        match acting_body(&cat, &towns, &town(CHIAN), &[matter("HJ-002")], after) {
            Err(ActingRefused::OutsideTerm { number, on, .. }) => {
                assert_eq!(number, letter.number);
                assert_eq!(on, after);
            }
            other => panic!("{other:?}"),
        }
        // Named (for a step after a checked act), the letter still names the body.
        let named = named_body(&cat, &towns, &town(CHIAN), &[matter("HJ-002")], after).unwrap();
        assert_eq!(named.code, "ecology_environment");
        // On its last day it still holds.
        assert!(
            acting_body(
                &cat,
                &towns,
                &town(CHIAN),
                &[matter("HJ-002")],
                letter.until
            )
            .is_ok()
        );
        // A town the catalogue marks entrusted but no letter covers (HJ-002 is entrusted to every
        // town by default; the shipped letters cover two).
        match acting_body(
            &cat,
            &towns,
            &town("330782104"),
            &[matter("HJ-002")],
            day("2026-06-01"),
        ) {
            Err(ActingRefused::NoEntrustment { town, .. }) => assert_eq!(town, "330782104"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn matters_in_two_names_are_refused() {
        let cat = Catalogue::default_catalogue();
        let towns = Towns::shipped();
        let err = acting_body(
            &cat,
            &towns,
            &town(CHIAN),
            &[matter("CXGH-001"), matter("HJ-002")],
            day("2026-06-01"),
        )
        .unwrap_err();
        assert!(matches!(err, ActingRefused::DifferentNames { .. }), "{err}");
        assert!(err.to_string().contains("赤岸镇人民政府"), "{err}");
    }

    fn load(letters: &str) -> Result<Catalogue, String> {
        let src = format!(
            r#"
version = "t"
[[department]]
code = "ecology_environment"
name = "市生态环境局县分局"
name_en = "Ecology"
abbrev = "县环"
[[department]]
code = "forestry"
name = "县林业局"
name_en = "Forestry"
[[matter]]
code = "HJ-002"
name = "露天焚烧"
name_en = "Burning"
department = "ecology_environment"
town_power = "entrusted"
disclosure = "penalty_or_licensing"
legal_basis = [{{ law = "法", article = "第一条" }}]
[[matter]]
code = "LY-001"
name = "滥伐"
name_en = "Felling"
department = "forestry"
town_power = "entrusted"
disclosure = "penalty_or_licensing"
legal_basis = [{{ law = "法", article = "第一条" }}]
{letters}
"#
        );
        Catalogue::from_toml_str(&src, "c.toml").map_err(|e| e.to_string())
    }

    const LETTER: &str = r#"
[[entrustment]]
number = "县环委〔2026〕1号"
department = "ecology_environment"
town = "330782101"
matters = ["HJ-002"]
powers = ["warning", "fine"]
from = 2026-01-01
until = 2026-12-31
published = "县政府门户网站 2026-01-05"
"#;

    #[test]
    fn letters_load_and_broken_ones_name_the_letter_and_field() {
        let cat = load(LETTER).unwrap();
        assert_eq!(cat.entrustments.len(), 1);
        let cases = [
            (LETTER.replace("2026-12-31", "2025-12-31"), "until"),
            (LETTER.replace("\"HJ-002\"", "\"LY-001\""), "matters[0]"),
            (LETTER.replace("\"HJ-002\"", "\"XX-999\""), "matters[0]"),
            (LETTER.replace("\"fine\"", "\"jail\""), "powers[1]"),
            (
                LETTER.replace("ecology_environment", "forestry"),
                "department",
            ),
            (
                LETTER.replace("from = 2026-01-01", "from = \"2026\""),
                "from",
            ),
            (
                LETTER.replace("published = \"县政府门户网站 2026-01-05\"", ""),
                "published",
            ),
            (format!("{LETTER}\nseal = 1"), "seal"),
            (
                format!(
                    "{LETTER}{}",
                    LETTER
                        .replace("1号", "2号")
                        .replace("2026-01-01", "2026-06-01")
                ),
                "from",
            ),
            (format!("{LETTER}{LETTER}"), "number"),
        ];
        for (src, field) in cases {
            let err = load(&src).unwrap_err();
            assert!(err.contains("entrustment"), "{err}");
            assert!(err.contains(field), "{field}: {err}");
        }
        // A renewal that starts the day after the first ends is fine.
        let renewal = LETTER
            .replace("1号", "2号")
            .replace("2026-01-01", "2027-01-01")
            .replace("2026-12-31", "2027-12-31");
        assert_eq!(
            load(&format!("{LETTER}{renewal}"))
                .unwrap()
                .entrustments
                .len(),
            2
        );
    }
}
