//! The catalogue of enforcement matters (权责清单): versioned data, loaded from TOML and checked field by field.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use toml::{Table, Value};

use crate::data_file::{Ctx, entry_ctx, syntax_error};
use crate::ids::{DepartmentCode, MatterCode, TownCode};

/// Money in integer fen (分), so that sums and thresholds never meet floating point.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Fen(pub i64);

impl Fen {
    /// `yuan` whole yuan.
    pub const fn yuan(yuan: i64) -> Fen {
        Fen(yuan * 100)
    }
}

impl fmt::Display for Fen {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.0 < 0 { "-" } else { "" };
        let abs = self.0.unsigned_abs();
        write!(f, "{sign}¥{}.{:02}", abs / 100, abs % 100)
    }
}

/// Whether, and how, a town holds the power to act on a matter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TownPower {
    /// The law gives the power to the town government itself (e.g. 城乡规划法 Art. 65).
    ByLaw,
    /// The province has delegated (赋权) the county department's power to the town.
    Delegated,
    /// The county department has entrusted (委托) the town to act in its name.
    Entrusted,
    /// The power stays with the county department.
    None,
}

impl TownPower {
    pub const ALL: [TownPower; 4] = [
        TownPower::ByLaw,
        TownPower::Delegated,
        TownPower::Entrusted,
        TownPower::None,
    ];

    /// Whether the town's brigade may handle the matter itself.
    pub fn is_within_town(&self) -> bool {
        !matches!(self, TownPower::None)
    }

    pub fn as_str(&self) -> &'static str {
        match self {
            TownPower::ByLaw => "by_law",
            TownPower::Delegated => "delegated",
            TownPower::Entrusted => "entrusted",
            TownPower::None => "none",
        }
    }
}

/// Which disclosure deadline (行政执法公示) applies to a decision on the matter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DisclosureClass {
    /// Administrative penalty or licensing decisions: 7 working days.
    PenaltyOrLicensing,
    /// Any other enforcement information: 20 working days.
    OtherEnforcement,
}

impl DisclosureClass {
    pub const ALL: [DisclosureClass; 2] = [
        DisclosureClass::PenaltyOrLicensing,
        DisclosureClass::OtherEnforcement,
    ];

    /// Working days after the decision within which it must be published.
    pub fn working_days(&self) -> u32 {
        match self {
            DisclosureClass::PenaltyOrLicensing => 7,
            DisclosureClass::OtherEnforcement => 20,
        }
    }

    pub fn as_str(&self) -> &'static str {
        match self {
            DisclosureClass::PenaltyOrLicensing => "penalty_or_licensing",
            DisclosureClass::OtherEnforcement => "other_enforcement",
        }
    }

    pub fn parse(s: &str) -> Result<DisclosureClass, crate::state::UnknownValue> {
        DisclosureClass::ALL
            .into_iter()
            .find(|c| c.as_str() == s)
            .ok_or_else(|| crate::state::UnknownValue {
                kind: "disclosure class",
                value: s.chars().take(64).collect(),
            })
    }
}

impl TryFrom<String> for DisclosureClass {
    type Error = crate::state::UnknownValue;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        DisclosureClass::parse(&s)
    }
}

/// One article of law a matter rests on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LegalBasis {
    /// The law or regulation, e.g. `中华人民共和国城乡规划法`.
    pub law: String,
    /// The article, e.g. `第六十五条`.
    pub article: String,
    /// A short quote or paraphrase of what the article says.
    pub text: Option<String>,
}

/// One version of a matter's law: the articles it rests on and its penalty terms, in force
/// from one date to another (行政处罚法 Art. 37 applies the version in force at the act, or a
/// newer, lighter one).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MatterVersion {
    /// The first day in force; `None` only for a first version in force before any act the
    /// hub handles (its start date was not checked).
    pub in_force_from: Option<NaiveDate>,
    /// The last day in force; `None` while in force.
    pub in_force_until: Option<NaiveDate>,
    pub legal_basis: Vec<LegalBasis>,
    /// The highest fine the version allows, where the catalogue states it: a newer version
    /// with a lower one is lighter (Art. 37).
    pub max_fine: Option<Fen>,
    /// Whether the act is an offence under this version (`false`: no longer one).
    pub offence: bool,
    /// Why the version's article could not be confirmed: a decision under it is refused
    /// rather than citing an article nobody checked.
    pub unconfirmed: Option<String>,
}

impl MatterVersion {
    /// Whether the version is in force on `d`.
    pub fn in_force_on(&self, d: NaiveDate) -> bool {
        self.in_force_from.is_none_or(|f| f <= d) && self.in_force_until.is_none_or(|u| d <= u)
    }

    /// How the version's dates read: `2013-12-28 至 2026-04-30`.
    pub fn span(&self) -> String {
        let from = self
            .in_force_from
            .map_or_else(|| "（起始日未载）".to_owned(), |d| d.to_string());
        let until = self
            .in_force_until
            .map_or_else(|| "今".to_owned(), |d| d.to_string());
        format!("{from} 至 {until}")
    }
}

/// What makes a decision on the matter "major" (重大执法决定), and so subject to legal review.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MajorCriteria {
    pub fine_at_or_above: Option<Fen>,
    pub licence_revocation: bool,
    pub demolition: bool,
    pub confiscation_value_at_or_above: Option<Fen>,
}

/// The facts of a proposed decision that the major-decision criteria look at.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DecisionFacts {
    pub fine: Option<Fen>,
    pub licence_revoked: bool,
    pub demolition: bool,
    pub confiscated_value: Option<Fen>,
}

impl MajorCriteria {
    /// Whether the decision must pass the judicial office's legal review before it is made.
    pub fn is_major(&self, d: &DecisionFacts) -> bool {
        let at_or_above = |threshold: Option<Fen>, value: Option<Fen>| matches!((threshold, value), (Some(t), Some(v)) if v >= t);
        at_or_above(self.fine_at_or_above, d.fine)
            || (self.licence_revocation && d.licence_revoked)
            || (self.demolition && d.demolition)
            || at_or_above(self.confiscation_value_at_or_above, d.confiscated_value)
    }
}

/// A county department that holds enforcement powers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Department {
    pub code: DepartmentCode,
    pub name: String,
    pub name_en: String,
    /// Its short name in the numbers of documents issued in its name (县环 in
    /// 县环（赤岸）委罚决字〔2026〕第3号); required of a department that entrusts its powers.
    pub abbrev: Option<String>,
}

/// One kind of violation in the catalogue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Matter {
    pub code: MatterCode,
    pub name: String,
    pub name_en: String,
    /// The versions of its law, oldest first, each in force from the day after the one
    /// before it ends: no overlap and no gap.
    pub versions: Vec<MatterVersion>,
    /// The act touches life, health or financial security (行政处罚法 Art. 36): five years,
    /// not two, before an undiscovered act may no longer be penalised.
    pub life_health_or_finance: bool,
    /// The competent county department.
    pub department: DepartmentCode,
    /// The town's power unless `town_powers` says otherwise for a town.
    pub town_power: TownPower,
    /// Per-town overrides: delegation lists differ from town to town.
    pub town_powers: BTreeMap<TownCode, TownPower>,
    /// The matter always needs several departments, whatever the town's powers.
    pub always_joint: bool,
    pub major: MajorCriteria,
    pub disclosure: DisclosureClass,
    /// An administrative adjudication (行政裁决) matter, shown on the public adjudication list.
    pub adjudication: bool,
    /// The codes this matter had in earlier versions of the catalogue (a matter renamed by a
    /// new version): a case recorded under an earlier code is still this matter.
    pub formerly: Vec<MatterCode>,
}

impl Matter {
    /// The power `town` holds over this matter.
    pub fn power_in(&self, town: &TownCode) -> TownPower {
        self.town_powers
            .get(town)
            .copied()
            .unwrap_or(self.town_power)
    }

    /// The version in force on `d`, if any.
    pub fn version_on(&self, d: NaiveDate) -> Option<&MatterVersion> {
        self.versions.iter().find(|v| v.in_force_on(d))
    }

    /// The newest version (what the public pages show as the matter's legal basis).
    pub fn latest(&self) -> &MatterVersion {
        self.versions
            .last()
            .expect("a parsed matter has at least one version")
    }

    /// Years after the act within which it must be discovered to be penalised (Art. 36).
    pub fn limitation_years(&self) -> u32 {
        if self.life_health_or_finance { 5 } else { 2 }
    }
}

/// A whole catalogue at one version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Catalogue {
    pub version: String,
    pub departments: Vec<Department>,
    pub matters: Vec<Matter>,
    /// The letters of entrustment (委托书) behind the `entrusted` powers
    /// (`liandong_domain::acting`).
    pub entrustments: Vec<crate::acting::Entrustment>,
}

pub use crate::data_file::DataFileError as CatalogueError;

const SHIPPED_FILE: &str = "deploy/data/catalogue.toml";
const SHIPPED: &str = include_str!("../../../deploy/data/catalogue.toml");

impl Catalogue {
    /// Parses and checks a catalogue; `file` only names the source in errors.
    pub fn from_toml_str(src: &str, file: &str) -> Result<Catalogue, CatalogueError> {
        let table: Table = toml::from_str(src).map_err(|e| syntax_error(file, src, &e))?;
        let top = Ctx { file, entry: None };
        top.check_keys(
            &table,
            &["version", "department", "matter", "entrustment"],
            "",
        )?;
        let version = top.req_str(&table, "version", "version")?.trim().to_owned();
        if version.is_empty() {
            return Err(top.err("version", "must not be empty"));
        }

        let mut departments = Vec::new();
        let mut seen = BTreeSet::new();
        for (i, value) in top
            .array_of_tables(&table, "department")?
            .iter()
            .enumerate()
        {
            let dept = parse_department(file, i, value)?;
            if !seen.insert(dept.code.clone()) {
                let ctx = Ctx::entry(file, "department", Some(dept.code.as_str()), i);
                return Err(ctx.err(
                    "code",
                    format!("duplicate department code \"{}\"", dept.code),
                ));
            }
            departments.push(dept);
        }

        let mut matters = Vec::new();
        let mut seen = BTreeSet::new();
        for (i, value) in top.array_of_tables(&table, "matter")?.iter().enumerate() {
            let matter = parse_matter(file, i, value, &departments)?;
            if !seen.insert(matter.code.clone()) {
                let ctx = Ctx::entry(file, "matter", Some(matter.code.as_str()), i);
                return Err(ctx.err("code", format!("duplicate matter code \"{}\"", matter.code)));
            }
            matters.push(matter);
        }
        // An earlier code names one matter only, and never a matter of this version.
        let mut former = BTreeSet::new();
        for (i, m) in matters.iter().enumerate() {
            for (j, code) in m.formerly.iter().enumerate() {
                if seen.contains(code) || !former.insert(code.clone()) {
                    let ctx = Ctx::entry(file, "matter", Some(m.code.as_str()), i);
                    return Err(ctx.err(
                        &format!("formerly[{j}]"),
                        format!("\"{code}\" is already a matter code of this catalogue"),
                    ));
                }
            }
        }

        let entrustments = crate::acting::parse_entrustments(file, &table, &departments, &matters)?;
        Ok(Catalogue {
            version,
            departments,
            matters,
            entrustments,
        })
    }

    /// The matter `code` names: its code in this version, or an earlier code of a renamed one.
    pub fn matter(&self, code: &MatterCode) -> Option<&Matter> {
        self.matters
            .iter()
            .find(|m| &m.code == code)
            .or_else(|| self.matters.iter().find(|m| m.formerly.contains(code)))
    }

    pub fn department(&self, code: &DepartmentCode) -> Option<&Department> {
        self.departments.iter().find(|d| &d.code == code)
    }

    /// The administrative adjudication list (行政裁决事项清单) the public pages show.
    pub fn adjudication_matters(&self) -> impl Iterator<Item = &Matter> {
        self.matters.iter().filter(|m| m.adjudication)
    }

    /// The catalogue shipped in `deploy/data/catalogue.toml`; a test proves it loads.
    pub fn default_catalogue() -> Catalogue {
        match Catalogue::from_toml_str(SHIPPED, SHIPPED_FILE) {
            Ok(c) => c,
            Err(e) => panic!("the shipped catalogue is broken: {e}"),
        }
    }
}

/// An optional amount of money in whole fen, never negative.
fn opt_fen(
    ctx: &Ctx<'_>,
    table: &Table,
    key: &str,
    field: &str,
) -> Result<Option<Fen>, CatalogueError> {
    match table.get(key) {
        None => Ok(None),
        Some(Value::Integer(n)) if *n < 0 => {
            Err(ctx.err(field, format!("must not be negative, found {n}")))
        }
        Some(Value::Integer(n)) => Ok(Some(Fen(*n))),
        Some(v) => Err(ctx.err(
            field,
            format!("must be a whole number of fen, found {}", v.type_str()),
        )),
    }
}

fn parse_department(file: &str, index: usize, value: &Value) -> Result<Department, CatalogueError> {
    let (ctx, t) = entry_ctx(file, "department", index, value);
    ctx.check_keys(t, &["code", "name", "name_en", "abbrev"], "")?;
    let code = ctx.req_str(t, "code", "code")?;
    let code = DepartmentCode::parse(code).map_err(|e| ctx.err("code", e.to_string()))?;
    let abbrev = match ctx.opt_str(t, "abbrev", "abbrev")?.map(str::trim) {
        Some("") => return Err(ctx.err("abbrev", "must not be empty")),
        other => other.map(str::to_owned),
    };
    Ok(Department {
        code,
        name: ctx.name(t, "name")?,
        name_en: ctx.name(t, "name_en")?,
        abbrev,
    })
}

fn parse_enum<T: Copy>(
    ctx: &Ctx<'_>,
    field: &str,
    raw: &str,
    all: &[T],
    as_str: fn(&T) -> &'static str,
) -> Result<T, CatalogueError> {
    all.iter()
        .copied()
        .find(|v| as_str(v) == raw)
        .ok_or_else(|| {
            let expected: Vec<&str> = all.iter().map(as_str).collect();
            ctx.err(
                field,
                format!(
                    "unknown value {raw:?}, expected one of: {}",
                    expected.join(", ")
                ),
            )
        })
}

fn parse_matter(
    file: &str,
    index: usize,
    value: &Value,
    departments: &[Department],
) -> Result<Matter, CatalogueError> {
    let (ctx, t) = entry_ctx(file, "matter", index, value);
    ctx.check_keys(
        t,
        &[
            "code",
            "name",
            "name_en",
            "department",
            "town_power",
            "town_powers",
            "always_joint",
            "disclosure",
            "adjudication",
            "legal_basis",
            "version",
            "life_health_or_finance",
            "major",
            "formerly",
        ],
        "",
    )?;
    let code = MatterCode::parse(ctx.req_str(t, "code", "code")?)
        .map_err(|e| ctx.err("code", e.to_string()))?;
    let name = ctx.name(t, "name")?;
    let name_en = ctx.name(t, "name_en")?;

    let department = ctx.req_str(t, "department", "department")?;
    let department =
        DepartmentCode::parse(department).map_err(|e| ctx.err("department", e.to_string()))?;
    if !departments.iter().any(|d| d.code == department) {
        return Err(ctx.err("department", format!("unknown department \"{department}\"")));
    }

    let town_power = ctx.req_str(t, "town_power", "town_power")?;
    let town_power = parse_enum(
        &ctx,
        "town_power",
        town_power,
        &TownPower::ALL,
        TownPower::as_str,
    )?;

    let mut town_powers = BTreeMap::new();
    if let Some(overrides) = ctx.opt_table(t, "town_powers")? {
        for (town, power) in overrides {
            let field = format!("town_powers.{town:?}");
            let town = TownCode::parse(town).map_err(|e| ctx.err(&field, e.to_string()))?;
            let Value::String(power) = power else {
                return Err(ctx.err(
                    &field,
                    format!("must be a string, found {}", power.type_str()),
                ));
            };
            let power = parse_enum(&ctx, &field, power, &TownPower::ALL, TownPower::as_str)?;
            town_powers.insert(town, power);
        }
    }

    let disclosure = ctx.req_str(t, "disclosure", "disclosure")?;
    let disclosure = parse_enum(
        &ctx,
        "disclosure",
        disclosure,
        &DisclosureClass::ALL,
        DisclosureClass::as_str,
    )?;

    let versions = parse_versions(&ctx, t)?;

    let major = match ctx.opt_table(t, "major")? {
        None => MajorCriteria::default(),
        Some(m) => {
            ctx.check_keys(
                m,
                &[
                    "fine_at_or_above_fen",
                    "licence_revocation",
                    "demolition",
                    "confiscation_value_at_or_above_fen",
                ],
                "major.",
            )?;
            MajorCriteria {
                fine_at_or_above: opt_fen(
                    &ctx,
                    m,
                    "fine_at_or_above_fen",
                    "major.fine_at_or_above_fen",
                )?,
                licence_revocation: ctx.opt_bool(
                    m,
                    "licence_revocation",
                    "major.licence_revocation",
                )?,
                demolition: ctx.opt_bool(m, "demolition", "major.demolition")?,
                confiscation_value_at_or_above: opt_fen(
                    &ctx,
                    m,
                    "confiscation_value_at_or_above_fen",
                    "major.confiscation_value_at_or_above_fen",
                )?,
            }
        }
    };

    Ok(Matter {
        code,
        name,
        name_en,
        versions,
        life_health_or_finance: ctx.opt_bool(
            t,
            "life_health_or_finance",
            "life_health_or_finance",
        )?,
        department,
        town_power,
        town_powers,
        always_joint: ctx.opt_bool(t, "always_joint", "always_joint")?,
        major,
        disclosure,
        adjudication: ctx.opt_bool(t, "adjudication", "adjudication")?,
        formerly: parse_formerly(&ctx, t)?,
    })
}

/// The earlier codes of a renamed matter: a list of matter codes, none of them its own.
fn parse_formerly(ctx: &Ctx<'_>, t: &Table) -> Result<Vec<MatterCode>, CatalogueError> {
    let items = match t.get("formerly") {
        None => return Ok(Vec::new()),
        Some(Value::Array(items)) => items,
        Some(v) => {
            return Err(ctx.err(
                "formerly",
                format!("must be an array of matter codes, found {}", v.type_str()),
            ));
        }
    };
    let mut out = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let field = format!("formerly[{i}]");
        let Value::String(code) = item else {
            return Err(ctx.err(&field, "must be a matter code"));
        };
        out.push(MatterCode::parse(code).map_err(|e| ctx.err(&field, e.to_string()))?);
    }
    Ok(out)
}

/// A date of force: a TOML date (`2026-05-01`) or a string of one.
fn opt_date(
    ctx: &Ctx<'_>,
    table: &Table,
    key: &str,
    field: &str,
) -> Result<Option<NaiveDate>, CatalogueError> {
    let raw = match table.get(key) {
        None => return Ok(None),
        Some(Value::Datetime(d)) if d.date.is_some() && d.time.is_none() => d.to_string(),
        Some(Value::String(s)) => s.trim().to_owned(),
        Some(v) => {
            return Err(ctx.err(
                field,
                format!("must be a date (YYYY-MM-DD), found {}", v.type_str()),
            ));
        }
    };
    NaiveDate::parse_from_str(&raw, "%Y-%m-%d")
        .map(Some)
        .map_err(|_| ctx.err(field, format!("must be a date (YYYY-MM-DD), found {raw:?}")))
}

/// The versions of a matter's law: either `legal_basis` alone (one version, in force
/// throughout) or `[[matter.version]]` entries, oldest first, that neither overlap nor leave
/// a gap.
fn parse_versions(ctx: &Ctx<'_>, t: &Table) -> Result<Vec<MatterVersion>, CatalogueError> {
    let items = match (t.get("legal_basis"), t.get("version")) {
        (Some(_), Some(_)) => {
            return Err(ctx.err(
                "legal_basis",
                "give the legal basis in each [[matter.version]], not both",
            ));
        }
        (None, None) => return Err(ctx.err("legal_basis", "is required")),
        (Some(_), None) => {
            return Ok(vec![MatterVersion {
                in_force_from: None,
                in_force_until: None,
                legal_basis: parse_legal_basis(ctx, t, "", false)?,
                max_fine: None,
                offence: true,
                unconfirmed: None,
            }]);
        }
        (None, Some(Value::Array(items))) if !items.is_empty() => items,
        (None, Some(_)) => {
            return Err(ctx.err("version", "must be a non-empty array of tables"));
        }
    };
    let mut out: Vec<MatterVersion> = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let prefix = format!("version[{i}].");
        let Value::Table(v) = item else {
            return Err(ctx.err(&format!("version[{i}]"), "must be a table"));
        };
        ctx.check_keys(
            v,
            &[
                "in_force_from",
                "in_force_until",
                "legal_basis",
                "max_fine_fen",
                "offence",
                "unconfirmed",
            ],
            &prefix,
        )?;
        let from_field = format!("{prefix}in_force_from");
        let until_field = format!("{prefix}in_force_until");
        let from = opt_date(ctx, v, "in_force_from", &from_field)?;
        let until = opt_date(ctx, v, "in_force_until", &until_field)?;
        if from.is_none() && i > 0 {
            return Err(ctx.err(&from_field, "is required for every version but the first"));
        }
        if let (Some(f), Some(u)) = (from, until)
            && u < f
        {
            return Err(ctx.err(&until_field, format!("{u} is before in_force_from {f}")));
        }
        if let Some(prev) = out.last() {
            let from = from.expect("checked above");
            let Some(prev_until) = prev.in_force_until else {
                return Err(ctx.err(
                    &format!("version[{}].in_force_until", i - 1),
                    format!("is required: version[{i}] is in force from {from}"),
                ));
            };
            let expected = prev_until
                .succ_opt()
                .expect("a date before the end of time");
            if from < expected {
                return Err(ctx.err(
                    &from_field,
                    format!(
                        "{from} overlaps version[{}], in force until {prev_until}",
                        i - 1
                    ),
                ));
            }
            if from > expected {
                return Err(ctx.err(
                    &from_field,
                    format!(
                        "{from} leaves a gap after version[{}], in force until {prev_until}: expected {expected}",
                        i - 1
                    ),
                ));
            }
        }
        let unconfirmed = ctx
            .opt_str(v, "unconfirmed", &format!("{prefix}unconfirmed"))?
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned);
        let legal_basis = parse_legal_basis(ctx, v, &prefix, unconfirmed.is_some())?;
        let offence = match v.get("offence") {
            None => true,
            Some(_) => ctx.opt_bool(v, "offence", &format!("{prefix}offence"))?,
        };
        out.push(MatterVersion {
            in_force_from: from,
            in_force_until: until,
            legal_basis,
            max_fine: opt_fen(ctx, v, "max_fine_fen", &format!("{prefix}max_fine_fen"))?,
            offence,
            unconfirmed,
        });
    }
    Ok(out)
}

/// The articles under `prefix` (`""` or `version[i].`); an unconfirmed version may name none.
fn parse_legal_basis(
    ctx: &Ctx<'_>,
    t: &Table,
    prefix: &str,
    may_be_empty: bool,
) -> Result<Vec<LegalBasis>, CatalogueError> {
    let field = format!("{prefix}legal_basis");
    let items = match t.get("legal_basis") {
        None if may_be_empty => return Ok(Vec::new()),
        None => return Err(ctx.err(&field, "is required")),
        Some(Value::Array(items)) => items,
        Some(v) => {
            return Err(ctx.err(
                &field,
                format!("must be an array of tables, found {}", v.type_str()),
            ));
        }
    };
    if items.is_empty() && !may_be_empty {
        return Err(ctx.err(&field, "must name at least one article of law"));
    }
    let mut out = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let prefix = format!("{field}[{i}].");
        let Value::Table(b) = item else {
            return Err(ctx.err(&format!("{field}[{i}]"), "must be a table"));
        };
        ctx.check_keys(b, &["law", "article", "text"], &prefix)?;
        let required = |key: &str| -> Result<String, CatalogueError> {
            let field = format!("{prefix}{key}");
            let v = ctx.req_str(b, key, &field)?.trim();
            if v.is_empty() {
                return Err(ctx.err(&field, "must not be empty"));
            }
            Ok(v.to_owned())
        };
        let law = required("law")?;
        let article = required("article")?;
        let text = ctx
            .opt_str(b, "text", &format!("{prefix}text"))?
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned);
        if let Some(text) = &text
            && !(text.ends_with('。') || text.ends_with("……"))
        {
            return Err(ctx.err(
                &format!("{prefix}text"),
                "a quotation ends where a sentence ends (。), or marks where it was cut with ……",
            ));
        }
        out.push(LegalBasis { law, article, text });
    }
    Ok(out)
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

    #[test]
    fn the_shipped_catalogue_loads() {
        let c = Catalogue::default_catalogue();
        assert!(c.matters.len() >= 15, "{} matters", c.matters.len());
        assert!(
            c.departments.len() >= 8,
            "{} departments",
            c.departments.len()
        );
        let rural = c
            .matter(&matter("CXGH-001"))
            .expect("rural construction matter");
        assert_eq!(rural.town_power, TownPower::ByLaw);
        assert!(
            rural
                .latest()
                .legal_basis
                .iter()
                .any(|b| b.article == "第六十五条")
        );
        assert!(rural.major.is_major(&DecisionFacts {
            demolition: true,
            ..Default::default()
        }));
        assert!(c.matters.iter().any(|m| m.always_joint));
        assert!(c.matters.iter().any(|m| !m.town_powers.is_empty()));
        assert!(c.adjudication_matters().count() >= 2);
        for power in TownPower::ALL {
            assert!(
                c.matters.iter().any(|m| m.town_power == power),
                "no matter with default power {power:?}"
            );
        }
        // Every matter's competent department is one the catalogue lists.
        for m in &c.matters {
            assert!(c.department(&m.department).is_some());
        }
    }

    #[test]
    fn per_town_override_wins_over_default() {
        let c = Catalogue::default_catalogue();
        let m = c
            .matters
            .iter()
            .find(|m| !m.town_powers.is_empty())
            .unwrap();
        let (t, p) = m.town_powers.iter().next().unwrap();
        assert_eq!(m.power_in(t), *p);
        assert_eq!(m.power_in(&town("999999999")), m.town_power);
    }

    #[test]
    fn fen_displays_as_yuan() {
        assert_eq!(Fen(200_000).to_string(), "¥2000.00");
        assert_eq!(Fen(5).to_string(), "¥0.05");
        assert_eq!(Fen(-150).to_string(), "-¥1.50");
        assert_eq!(Fen::yuan(3), Fen(300));
    }

    #[test]
    fn disclosure_deadlines() {
        assert_eq!(DisclosureClass::PenaltyOrLicensing.working_days(), 7);
        assert_eq!(DisclosureClass::OtherEnforcement.working_days(), 20);
    }

    #[test]
    fn major_criteria() {
        let c = MajorCriteria {
            fine_at_or_above: Some(Fen::yuan(10_000)),
            licence_revocation: true,
            demolition: false,
            confiscation_value_at_or_above: Some(Fen::yuan(5_000)),
        };
        let major = |d: DecisionFacts| c.is_major(&d);
        assert!(!major(DecisionFacts::default()));
        assert!(!major(DecisionFacts {
            fine: Some(Fen::yuan(9_999)),
            ..Default::default()
        }));
        assert!(major(DecisionFacts {
            fine: Some(Fen::yuan(10_000)),
            ..Default::default()
        }));
        assert!(major(DecisionFacts {
            licence_revoked: true,
            ..Default::default()
        }));
        assert!(!major(DecisionFacts {
            demolition: true,
            ..Default::default()
        }));
        assert!(major(DecisionFacts {
            confiscated_value: Some(Fen::yuan(5_000)),
            ..Default::default()
        }));
    }

    #[test]
    fn serde_names() {
        assert_eq!(toml_value(&TownPower::ByLaw), "by_law");
        assert_eq!(
            toml_value(&DisclosureClass::PenaltyOrLicensing),
            "penalty_or_licensing"
        );
        fn toml_value<T: Serialize>(v: &T) -> String {
            #[derive(Serialize)]
            struct W<'a, T> {
                v: &'a T,
            }
            let s = toml::to_string(&W { v }).unwrap();
            s.trim()
                .trim_start_matches("v = ")
                .trim_matches('"')
                .to_owned()
        }
    }

    const GOOD: &str = r#"
version = "t1"

[[department]]
code = "forestry"
name = "县林业局"
name_en = "County Forestry Bureau"

[[matter]]
code = "LY-001"
name = "滥伐林木"
name_en = "Illegal logging"
department = "forestry"
town_power = "none"
disclosure = "penalty_or_licensing"
legal_basis = [{ law = "中华人民共和国森林法", article = "第七十六条" }]

[matter.major]
fine_at_or_above_fen = 1000000

[matter.town_powers]
"330782102" = "delegated"
"#;

    fn load(src: &str) -> Result<Catalogue, String> {
        Catalogue::from_toml_str(src, "deploy/data/catalogue.toml").map_err(|e| e.to_string())
    }

    #[test]
    fn a_small_catalogue_loads() {
        let c = load(GOOD).unwrap();
        assert_eq!(c.version, "t1");
        let m = c.matter(&matter("LY-001")).unwrap();
        assert_eq!(m.power_in(&town("330782102")), TownPower::Delegated);
        assert_eq!(m.power_in(&town("330782101")), TownPower::None);
        assert_eq!(m.major.fine_at_or_above, Some(Fen(1_000_000)));
        assert!(!m.always_joint && !m.adjudication);
    }

    /// Each broken catalogue refuses to load with exactly this message.
    #[test]
    fn broken_catalogues_name_file_entry_and_field() {
        // (what, text in GOOD, replacement, expected message)
        let cases: &[(&str, &str, &str, &str)] = &[
            (
                "unknown department",
                r#"department = "forestry""#,
                r#"department = "forrestry""#,
                r#"deploy/data/catalogue.toml: matter "LY-001": field "department": unknown department "forrestry""#,
            ),
            (
                "unknown town power",
                r#"town_power = "none""#,
                r#"town_power = "sometimes""#,
                r#"deploy/data/catalogue.toml: matter "LY-001": field "town_power": unknown value "sometimes", expected one of: by_law, delegated, entrusted, none"#,
            ),
            (
                "negative money",
                "fine_at_or_above_fen = 1000000",
                "fine_at_or_above_fen = -5",
                r#"deploy/data/catalogue.toml: matter "LY-001": field "major.fine_at_or_above_fen": must not be negative, found -5"#,
            ),
            (
                "money of the wrong type",
                "fine_at_or_above_fen = 1000000",
                "fine_at_or_above_fen = 10000.5",
                r#"deploy/data/catalogue.toml: matter "LY-001": field "major.fine_at_or_above_fen": must be a whole number of fen, found float"#,
            ),
            (
                "empty legal basis",
                r#"legal_basis = [{ law = "中华人民共和国森林法", article = "第七十六条" }]"#,
                "legal_basis = []",
                r#"deploy/data/catalogue.toml: matter "LY-001": field "legal_basis": must name at least one article of law"#,
            ),
            (
                "legal basis without an article",
                r#"article = "第七十六条""#,
                r#"article = """#,
                r#"deploy/data/catalogue.toml: matter "LY-001": field "legal_basis[0].article": must not be empty"#,
            ),
            (
                "bad town code in override",
                r#""330782102" = "delegated""#,
                r#""3307" = "delegated""#,
                r#"deploy/data/catalogue.toml: matter "LY-001": field "town_powers.\"3307\"": invalid town code "3307": must be the town's 9-digit administrative division code"#,
            ),
            (
                "empty name",
                r#"name = "滥伐林木""#,
                r#"name = "  ""#,
                r#"deploy/data/catalogue.toml: matter "LY-001": field "name": must not be empty"#,
            ),
            (
                "invalid matter code",
                r#"code = "LY-001""#,
                r#"code = "ly_001""#,
                r#"deploy/data/catalogue.toml: matter "ly_001": field "code": invalid matter code "ly_001": must be 2 to 32 characters of A-Z, 0-9 and -"#,
            ),
            (
                "invalid department code",
                r#"code = "forestry""#,
                r#"code = "Forestry""#,
                r#"deploy/data/catalogue.toml: department "Forestry": field "code": invalid department code "Forestry": must be 2 to 32 characters of a-z, 0-9 and _, starting with a letter"#,
            ),
            (
                "unknown field",
                "disclosure =",
                "alwayz_joint = true\ndisclosure =",
                r#"deploy/data/catalogue.toml: matter "LY-001": field "alwayz_joint": unknown field, expected one of: code, name, name_en, department, town_power, town_powers, always_joint, disclosure, adjudication, legal_basis, version, life_health_or_finance, major, formerly"#,
            ),
        ];
        for (what, from, to, expected) in cases {
            assert!(GOOD.contains(from), "{what}: fixture lacks {from}");
            let src = GOOD.replacen(from, to, 1);
            assert_eq!(load(&src).unwrap_err(), *expected, "{what}");
        }
    }

    #[test]
    fn duplicate_codes_are_refused() {
        let dup_dept = GOOD.replacen(
            "[[matter]]",
            "[[department]]\ncode = \"forestry\"\nname = \"又一个\"\nname_en = \"Again\"\n\n[[matter]]",
            1,
        );
        assert_eq!(
            load(&dup_dept).unwrap_err(),
            r#"deploy/data/catalogue.toml: department "forestry": field "code": duplicate department code "forestry""#
        );
        let second = &GOOD[GOOD.find("[[matter]]").unwrap()..];
        let dup_matter = format!("{GOOD}\n{second}");
        assert_eq!(
            load(&dup_matter).unwrap_err(),
            r#"deploy/data/catalogue.toml: matter "LY-001": field "code": duplicate matter code "LY-001""#
        );
    }

    #[test]
    fn missing_version_and_syntax_errors() {
        let no_version = GOOD.replacen("version = \"t1\"", "", 1);
        assert_eq!(
            load(&no_version).unwrap_err(),
            r#"deploy/data/catalogue.toml: field "version": is required"#
        );
        let broken = GOOD.replacen(
            "name_en = \"Illegal logging\"",
            "name_en = \"Illegal logging",
            1,
        );
        let err = Catalogue::from_toml_str(&broken, "x.toml").unwrap_err();
        assert_eq!(err.file, "x.toml");
        assert_eq!((err.entry.as_deref(), err.field.as_deref()), (None, None));
        let line = broken
            .lines()
            .position(|l| l.contains("Illegal logging"))
            .unwrap()
            + 1;
        assert!(
            err.to_string()
                .starts_with(&format!("x.toml: TOML error at line {line}, column ")),
            "{err}"
        );
    }

    #[test]
    fn unknown_disclosure_and_missing_required_field() {
        let bad = GOOD.replacen("penalty_or_licensing", "later", 1);
        assert_eq!(
            load(&bad).unwrap_err(),
            r#"deploy/data/catalogue.toml: matter "LY-001": field "disclosure": unknown value "later", expected one of: penalty_or_licensing, other_enforcement"#
        );
        let no_dept = GOOD.replacen("department = \"forestry\"\n", "", 1);
        assert_eq!(
            load(&no_dept).unwrap_err(),
            r#"deploy/data/catalogue.toml: matter "LY-001": field "department": is required"#
        );
        let no_code = GOOD.replacen("code = \"LY-001\"\n", "", 1);
        assert_eq!(
            load(&no_code).unwrap_err(),
            r#"deploy/data/catalogue.toml: matter #1: field "code": is required"#
        );
    }
}
