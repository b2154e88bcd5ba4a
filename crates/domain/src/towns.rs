//! The registry of the county's towns (乡镇、街道) and their villages (村、社区): deploy data,
//! loaded from TOML and checked field by field, that names every body and place the hub shows.

use std::collections::BTreeSet;
use std::fmt;

use toml::{Table, Value};

use crate::data_file::{Ctx, DataFileError, entry_ctx, syntax_error};
use crate::ids::{CountyCode, IdError, TownCode, VillageCode};

/// Why a town registry refuses to load; names the file, the entry and the field.
pub type TownsError = DataFileError;

/// What kind of township-level division a town is. The kind is also written in its code: the
/// three digits after the county's are 001-099 for a 街道, 100-199 for a 镇, 200-399 for a 乡
/// (GB/T 10114 and the statistics bureau's coding rules).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum TownKind {
    /// 镇, governed by its people's government.
    Town,
    /// 乡, governed by its people's government.
    Township,
    /// 街道, run by the subdistrict office (街道办事处), an agency of the county's government.
    Subdistrict,
}

impl TownKind {
    pub const ALL: [TownKind; 3] = [TownKind::Town, TownKind::Township, TownKind::Subdistrict];

    /// The kind as the data file and the town's own name write it.
    pub fn as_str(self) -> &'static str {
        match self {
            TownKind::Town => "镇",
            TownKind::Township => "乡",
            TownKind::Subdistrict => "街道",
        }
    }

    pub fn name_en(self) -> &'static str {
        match self {
            TownKind::Town => "Town",
            TownKind::Township => "Township",
            TownKind::Subdistrict => "Subdistrict",
        }
    }

    /// The kind a town code's last three digits are reserved for; `None` past 399 (政企合一
    /// units and the like, which the hub does not serve).
    fn numbered_as(code: &TownCode) -> Option<TownKind> {
        let n: u32 = code.as_str()[6..].parse().ok()?;
        match n {
            1..=99 => Some(TownKind::Subdistrict),
            100..=199 => Some(TownKind::Town),
            200..=399 => Some(TownKind::Township),
            _ => None,
        }
    }

    fn parse(s: &str) -> Option<TownKind> {
        TownKind::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

impl fmt::Display for TownKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The county whose towns the hub serves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct County {
    code: CountyCode,
    name: String,
    name_en: String,
    government: String,
}

impl County {
    pub fn code(&self) -> &CountyCode {
        &self.code
    }
    /// E.g. `义乌市`.
    pub fn name(&self) -> &str {
        &self.name
    }
    pub fn name_en(&self) -> &str {
        &self.name_en
    }
    /// The county's people's government, e.g. `义乌市人民政府`.
    pub fn government(&self) -> &str {
        &self.government
    }
}

/// A village (村) or community (社区, 居委会) of a town.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Village {
    code: VillageCode,
    name: String,
}

impl Village {
    pub fn code(&self) -> &VillageCode {
        &self.code
    }
    /// E.g. `柏峰村`, `水岸社区`.
    pub fn name(&self) -> &str {
        &self.name
    }
}

/// A town (镇), township (乡) or subdistrict (街道) of the county.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Town {
    code: TownCode,
    name: String,
    name_en: String,
    kind: TownKind,
    government: String,
    villages: Vec<Village>,
}

impl Town {
    pub fn code(&self) -> &TownCode {
        &self.code
    }
    /// The town's name with its kind, e.g. `赤岸镇`, `稠城街道`.
    pub fn name(&self) -> &str {
        &self.name
    }
    /// The name in English, e.g. `Chi'an Town`, `Choucheng Subdistrict`.
    pub fn name_en(&self) -> String {
        format!("{} {}", self.name_en, self.kind.name_en())
    }
    pub fn kind(&self) -> TownKind {
        self.kind
    }
    /// The name without its kind, as document numbers abbreviate it: `赤岸`, `稠城`.
    pub fn short_name(&self) -> &str {
        self.name
            .strip_suffix(self.kind.as_str())
            .expect("a town's name ends in its kind, checked at load")
    }
    /// The body that acts and signs in the town's name, e.g. `赤岸镇人民政府`, `稠城街道办事处`.
    pub fn government(&self) -> &str {
        &self.government
    }
    /// The same body in English.
    pub fn government_en(&self) -> String {
        match self.kind {
            TownKind::Subdistrict => format!("{} Office", self.name_en()),
            TownKind::Town | TownKind::Township => {
                format!("People's Government of {}", self.name_en())
            }
        }
    }
    /// Its villages and communities, in the file's order; empty where none are registered.
    pub fn villages(&self) -> &[Village] {
        &self.villages
    }
    pub fn village(&self, code: &VillageCode) -> Option<&Village> {
        self.villages.iter().find(|v| &v.code == code)
    }
    pub fn village_named(&self, name: &str) -> Option<&Village> {
        self.villages.iter().find(|v| v.name == name)
    }
}

/// The whole registry at one version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Towns {
    version: String,
    county: County,
    towns: Vec<Town>,
}

const SHIPPED_FILE: &str = "deploy/data/towns.toml";
const SHIPPED: &str = include_str!("../../../deploy/data/towns.toml");

impl Towns {
    /// Parses and checks a registry; `file` only names the source in errors.
    pub fn from_toml_str(src: &str, file: &str) -> Result<Towns, TownsError> {
        let table: Table = toml::from_str(src).map_err(|e| syntax_error(file, src, &e))?;
        let top = Ctx { file, entry: None };
        top.check_keys(&table, &["version", "county", "town"], "")?;
        let version = top.name(&table, "version")?;
        let county = match top.opt_table(&table, "county")? {
            Some(county) => parse_county(file, county)?,
            None => return Err(top.err("county", "is required")),
        };
        let entries = top.array_of_tables(&table, "town")?;
        if entries.is_empty() {
            return Err(top.err("town", "must list at least one town ([[town]])"));
        }
        let mut towns: Vec<Town> = Vec::with_capacity(entries.len());
        for (i, value) in entries.iter().enumerate() {
            let town = parse_town(file, i, value, &county)?;
            let ctx = Ctx::entry(file, "town", Some(town.code.as_str()), i);
            if towns.iter().any(|t| t.code == town.code) {
                return Err(ctx.err("code", format!("duplicate town code \"{}\"", town.code)));
            }
            if towns.iter().any(|t| t.name == town.name) {
                return Err(ctx.err("name", format!("duplicate town name \"{}\"", town.name)));
            }
            towns.push(town);
        }
        Ok(Towns {
            version,
            county,
            towns,
        })
    }

    /// The registry shipped in `deploy/data/towns.toml`; a test proves it loads.
    pub fn shipped() -> Towns {
        match Towns::from_toml_str(SHIPPED, SHIPPED_FILE) {
            Ok(t) => t,
            Err(e) => panic!("the shipped town registry is broken: {e}"),
        }
    }

    pub fn version(&self) -> &str {
        &self.version
    }

    pub fn county(&self) -> &County {
        &self.county
    }

    /// Every town, in the file's order.
    pub fn towns(&self) -> &[Town] {
        &self.towns
    }

    pub fn town(&self, code: &TownCode) -> Option<&Town> {
        self.towns.iter().find(|t| &t.code == code)
    }

    /// The town a code names, or why a request naming it is refused: a code that is not a town
    /// of this county is as wrong as a malformed one.
    pub fn require(&self, code: &TownCode) -> Result<&Town, TownRefused> {
        self.town(code).ok_or_else(|| TownRefused::Unknown {
            code: code.clone(),
            county: self.county.name.clone(),
        })
    }

    /// Parses a town code from a request and requires the town in the registry, for the
    /// requests that name a town to open something new in it or to filter by it.
    pub fn parse_known(&self, s: &str) -> Result<TownCode, TownRefused> {
        let code = TownCode::parse(s)?;
        self.require(&code)?;
        Ok(code)
    }

    /// The body that acts in the town's name, for display: a code the registry does not hold
    /// (a row written before the town left the registry) is shown as a code, and says so.
    pub fn government_or_code(&self, code: &str) -> String {
        self.by_str(code)
            .map(|t| t.government.clone())
            .unwrap_or_else(|| unregistered(code))
    }

    pub fn government_en_or_code(&self, code: &str) -> String {
        self.by_str(code)
            .map(Town::government_en)
            .unwrap_or_else(|| unregistered_en(code))
    }

    /// The town's name, for display, with the same rule as [`Towns::government_or_code`].
    pub fn name_or_code(&self, code: &str) -> String {
        self.by_str(code)
            .map(|t| t.name.clone())
            .unwrap_or_else(|| unregistered(code))
    }

    pub fn name_en_or_code(&self, code: &str) -> String {
        self.by_str(code)
            .map(Town::name_en)
            .unwrap_or_else(|| unregistered_en(code))
    }

    fn by_str(&self, code: &str) -> Option<&Town> {
        self.towns.iter().find(|t| t.code.as_str() == code)
    }
}

fn unregistered(code: &str) -> String {
    format!("{code}（不在乡镇名录中）")
}

fn unregistered_en(code: &str) -> String {
    format!("{code} (not in the town registry)")
}

/// Why a town code in a request is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TownRefused {
    #[error(transparent)]
    Malformed(#[from] IdError),
    /// Well formed, but not a town of the county.
    #[error("{code} is not a town of {county} in the town registry")]
    Unknown { code: TownCode, county: String },
}

fn parse_county(file: &str, t: &Table) -> Result<County, TownsError> {
    let ctx = Ctx {
        file,
        entry: Some("county".into()),
    };
    ctx.check_keys(t, &["code", "name", "name_en", "government"], "")?;
    let code = CountyCode::parse(ctx.req_str(t, "code", "code")?)
        .map_err(|e| ctx.err("code", e.to_string()))?;
    Ok(County {
        code,
        name: ctx.name(t, "name")?,
        name_en: ctx.name(t, "name_en")?,
        government: ctx.name(t, "government")?,
    })
}

fn parse_town(
    file: &str,
    index: usize,
    value: &Value,
    county: &County,
) -> Result<Town, TownsError> {
    let (ctx, t) = entry_ctx(file, "town", index, value);
    ctx.check_keys(
        t,
        &["code", "name", "name_en", "kind", "government", "villages"],
        "",
    )?;
    let code = TownCode::parse(ctx.req_str(t, "code", "code")?)
        .map_err(|e| ctx.err("code", e.to_string()))?;
    if !code.as_str().starts_with(county.code.as_str()) {
        return Err(ctx.err(
            "code",
            format!(
                "must start with the county's code {} ({})",
                county.code, county.name
            ),
        ));
    }

    let kind = ctx.req_str(t, "kind", "kind")?;
    let kind = TownKind::parse(kind).ok_or_else(|| {
        ctx.err(
            "kind",
            format!("unknown value {kind:?}, expected one of: 镇, 乡, 街道"),
        )
    })?;
    if TownKind::numbered_as(&code) != Some(kind) {
        let numbered =
            TownKind::numbered_as(&code).map_or("no kind the hub serves", |k| k.as_str());
        return Err(ctx.err(
            "kind",
            format!(
                "is {kind} but the code {code} is numbered as {numbered} \
                 (001-099 街道, 100-199 镇, 200-399 乡)"
            ),
        ));
    }

    let name = ctx.name(t, "name")?;
    if !name.ends_with(kind.as_str()) || name.chars().count() <= kind.as_str().chars().count() {
        return Err(ctx.err(
            "name",
            format!("must be the town's name ending in its kind ({kind}), found {name:?}"),
        ));
    }
    let name_en = ctx.name(t, "name_en")?;
    let government = ctx.name(t, "government")?;
    if !government.contains(&name) {
        return Err(ctx.err(
            "government",
            format!("must name the town ({name}), found {government:?}"),
        ));
    }
    let villages = parse_villages(&ctx, t, &code)?;
    Ok(Town {
        code,
        name,
        name_en,
        kind,
        government,
        villages,
    })
}

fn parse_villages(ctx: &Ctx<'_>, t: &Table, town: &TownCode) -> Result<Vec<Village>, TownsError> {
    let items = match t.get("villages") {
        None => return Ok(Vec::new()),
        Some(Value::Array(items)) => items,
        Some(v) => {
            return Err(ctx.err(
                "villages",
                format!("must be an array of tables, found {}", v.type_str()),
            ));
        }
    };
    let mut villages: Vec<Village> = Vec::with_capacity(items.len());
    let (mut codes, mut names) = (BTreeSet::new(), BTreeSet::new());
    for (i, item) in items.iter().enumerate() {
        let field = |key: &str| format!("villages[{i}].{key}");
        let Value::Table(v) = item else {
            return Err(ctx.err(&format!("villages[{i}]"), "must be a table"));
        };
        ctx.check_keys(v, &["code", "name"], &format!("villages[{i}]."))?;
        let code = VillageCode::parse(ctx.req_str(v, "code", &field("code"))?)
            .map_err(|e| ctx.err(&field("code"), e.to_string()))?;
        if !code.as_str().starts_with(town.as_str()) {
            return Err(ctx.err(
                &field("code"),
                format!("{code} must start with its town's code {town}"),
            ));
        }
        let name = ctx.req_str(v, "name", &field("name"))?.trim().to_owned();
        if name.is_empty() {
            return Err(ctx.err(&field("name"), "must not be empty"));
        }
        if !codes.insert(code.clone()) {
            return Err(ctx.err(&field("code"), format!("duplicate village code \"{code}\"")));
        }
        if !names.insert(name.clone()) {
            return Err(ctx.err(&field("name"), format!("duplicate village name \"{name}\"")));
        }
        villages.push(Village { code, name });
    }
    Ok(villages)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn town(s: &str) -> TownCode {
        TownCode::parse(s).unwrap()
    }

    #[test]
    fn the_shipped_registry_names_the_towns_the_tests_use() {
        let towns = Towns::shipped();
        assert_eq!(towns.county().code().as_str(), "330782");
        assert_eq!(towns.county().name(), "义乌市");
        assert_eq!(towns.county().government(), "义乌市人民政府");
        assert_eq!(towns.towns().len(), 14);

        let chian = towns.town(&town("330782101")).expect("赤岸镇");
        assert_eq!(chian.name(), "赤岸镇");
        assert_eq!(chian.kind(), TownKind::Town);
        assert_eq!(chian.government(), "赤岸镇人民政府");
        assert_eq!(chian.government_en(), "People's Government of Chi'an Town");
        assert_eq!(chian.short_name(), "赤岸");
        assert_eq!(
            chian
                .village(&VillageCode::parse("330782101202").unwrap())
                .map(Village::name),
            Some("柏峰村")
        );

        let yiting = towns.town(&town("330782102")).expect("义亭镇");
        assert_eq!(yiting.government(), "义亭镇人民政府");
        assert_eq!(
            yiting.village_named("吴村村").map(|v| v.code().as_str()),
            Some("330782102213")
        );

        let choucheng = towns.town(&town("330782001")).expect("稠城街道");
        assert_eq!(choucheng.kind(), TownKind::Subdistrict);
        assert_eq!(choucheng.government(), "稠城街道办事处");
        assert_eq!(choucheng.government_en(), "Choucheng Subdistrict Office");
        assert!(choucheng.villages().is_empty());
    }

    #[test]
    fn a_code_outside_the_registry_is_refused_or_shown_as_a_code() {
        let towns = Towns::shipped();
        let err = towns.require(&town("330782103")).unwrap_err();
        assert_eq!(
            err.to_string(),
            "330782103 is not a town of 义乌市 in the town registry"
        );
        assert!(towns.require(&town("330782106")).is_ok());
        assert_eq!(towns.parse_known("330782102"), Ok(town("330782102")));
        assert_eq!(
            towns.parse_known("3307821").unwrap_err().to_string(),
            "invalid town code \"3307821\": must be the town's 9-digit administrative division code"
        );
        assert!(matches!(
            towns.parse_known("330782199"),
            Err(TownRefused::Unknown { .. })
        ));
        assert_eq!(towns.government_or_code("330782101"), "赤岸镇人民政府");
        assert_eq!(towns.name_or_code("330782102"), "义亭镇");
        assert_eq!(towns.name_en_or_code("330782102"), "Yiting Town");
        assert_eq!(
            towns.government_or_code("330782199"),
            "330782199（不在乡镇名录中）"
        );
        assert_eq!(
            towns.government_en_or_code("330782199"),
            "330782199 (not in the town registry)"
        );
    }

    const GOOD: &str = r#"
version = "t1"

[county]
code = "330782"
name = "义乌市"
name_en = "Yiwu"
government = "义乌市人民政府"

[[town]]
code = "330782101"
name = "赤岸镇"
name_en = "Chi'an"
kind = "镇"
government = "赤岸镇人民政府"
villages = [
  { code = "330782101202", name = "柏峰村" },
  { code = "330782101203", name = "后山村" },
]

[[town]]
code = "330782001"
name = "稠城街道"
name_en = "Choucheng"
kind = "街道"
government = "稠城街道办事处"
"#;

    fn load(src: &str) -> Result<Towns, String> {
        Towns::from_toml_str(src, "deploy/data/towns.toml").map_err(|e| e.to_string())
    }

    #[test]
    fn a_small_registry_loads() {
        let towns = load(GOOD).unwrap();
        assert_eq!(towns.version(), "t1");
        assert_eq!(towns.towns().len(), 2);
        let chian = towns.town(&town("330782101")).unwrap();
        assert_eq!(chian.villages().len(), 2);
        assert_eq!(chian.name_en(), "Chi'an Town");
        assert_eq!(towns.county().name_en(), "Yiwu");
    }

    /// Each broken registry refuses to load with exactly this message: one row per refusal, the
    /// text replaced in GOOD and what the error says.
    #[test]
    fn broken_registries_name_file_entry_and_field() {
        fn check(what: &str, from: &str, to: &str, expected: &str) {
            assert!(GOOD.contains(from), "{what}: the fixture lacks {from}");
            let src = GOOD.replacen(from, to, 1);
            assert_eq!(load(&src).unwrap_err(), expected, "{what}");
        }
        const F: &str = "deploy/data/towns.toml";
        let rows: &[(&str, &str, &str, String)] = &[
            (
                "a town code of the wrong length",
                r#"code = "330782101""#,
                r#"code = "33078210""#,
                format!(
                    r#"{F}: town "33078210": field "code": invalid town code "33078210": must be the town's 9-digit administrative division code"#
                ),
            ),
            (
                "a town of another county",
                r#"code = "330782101""#,
                r#"code = "330781101""#,
                format!(
                    r#"{F}: town "330781101": field "code": must start with the county's code 330782 (义乌市)"#
                ),
            ),
            (
                "a county code of the wrong length",
                r#"code = "330782"
name = "义乌市""#,
                r#"code = "3307820"
name = "义乌市""#,
                format!(
                    r#"{F}: county: field "code": invalid county code "3307820": must be the county's 6-digit administrative division code"#
                ),
            ),
            (
                "an unknown kind",
                r#"kind = "镇""#,
                r#"kind = "村""#,
                format!(
                    r#"{F}: town "330782101": field "kind": unknown value "村", expected one of: 镇, 乡, 街道"#
                ),
            ),
            (
                "a kind its code does not carry",
                r#"kind = "街道""#,
                r#"kind = "镇""#,
                format!(
                    r#"{F}: town "330782001": field "kind": is 镇 but the code 330782001 is numbered as 街道 (001-099 街道, 100-199 镇, 200-399 乡)"#
                ),
            ),
            (
                "an empty town name",
                r#"name = "赤岸镇""#,
                r#"name = " ""#,
                format!(r#"{F}: town "330782101": field "name": must not be empty"#),
            ),
            (
                "a name without its kind",
                r#"name = "赤岸镇""#,
                r#"name = "赤岸""#,
                format!(
                    r#"{F}: town "330782101": field "name": must be the town's name ending in its kind (镇), found "赤岸""#
                ),
            ),
            (
                "a government that names another town",
                r#"government = "赤岸镇人民政府""#,
                r#"government = "佛堂镇人民政府""#,
                format!(
                    r#"{F}: town "330782101": field "government": must name the town (赤岸镇), found "佛堂镇人民政府""#
                ),
            ),
            (
                "a town without a government",
                "government = \"赤岸镇人民政府\"\n",
                "",
                format!(r#"{F}: town "330782101": field "government": is required"#),
            ),
            (
                "a duplicate town code",
                "code = \"330782001\"\nname = \"稠城街道\"\nname_en = \"Choucheng\"\nkind = \"街道\"\ngovernment = \"稠城街道办事处\"",
                "code = \"330782101\"\nname = \"佛堂镇\"\nname_en = \"Fotang\"\nkind = \"镇\"\ngovernment = \"佛堂镇人民政府\"",
                format!(r#"{F}: town "330782101": field "code": duplicate town code "330782101""#),
            ),
            (
                "a duplicate town name",
                "code = \"330782001\"\nname = \"稠城街道\"\nname_en = \"Choucheng\"\nkind = \"街道\"\ngovernment = \"稠城街道办事处\"",
                "code = \"330782100\"\nname = \"赤岸镇\"\nname_en = \"Fotang\"\nkind = \"镇\"\ngovernment = \"赤岸镇人民政府\"",
                format!(r#"{F}: town "330782100": field "name": duplicate town name "赤岸镇""#),
            ),
            (
                "a village code of the wrong length",
                r#"code = "330782101203""#,
                r#"code = "33078210120""#,
                format!(
                    r#"{F}: town "330782101": field "villages[1].code": invalid village code "33078210120": must be the village's 12-digit division code"#
                ),
            ),
            (
                "a village of another town",
                r#"code = "330782101203""#,
                r#"code = "330782102203""#,
                format!(
                    r#"{F}: town "330782101": field "villages[1].code": 330782102203 must start with its town's code 330782101"#
                ),
            ),
            (
                "a duplicate village code",
                r#"code = "330782101203""#,
                r#"code = "330782101202""#,
                format!(
                    r#"{F}: town "330782101": field "villages[1].code": duplicate village code "330782101202""#
                ),
            ),
            (
                "a duplicate village name",
                r#"name = "后山村""#,
                r#"name = "柏峰村""#,
                format!(
                    r#"{F}: town "330782101": field "villages[1].name": duplicate village name "柏峰村""#
                ),
            ),
            (
                "an empty village name",
                r#"name = "后山村""#,
                r#"name = """#,
                format!(r#"{F}: town "330782101": field "villages[1].name": must not be empty"#),
            ),
            (
                "an unknown field in a village",
                r#"{ code = "330782101202", name = "柏峰村" }"#,
                r#"{ code = "330782101202", name = "柏峰村", head = "x" }"#,
                format!(
                    r#"{F}: town "330782101": field "villages[0].head": unknown field, expected one of: code, name"#
                ),
            ),
            (
                "an unknown field in a town",
                "kind = \"街道\"\n",
                "kind = \"街道\"\nmayor = \"x\"\n",
                format!(
                    r#"{F}: town "330782001": field "mayor": unknown field, expected one of: code, name, name_en, kind, government, villages"#
                ),
            ),
            (
                "the county under another key",
                "[county]\n",
                "[province]\n",
                format!(
                    r#"{F}: field "province": unknown field, expected one of: version, county, town"#
                ),
            ),
            (
                "no version",
                "version = \"t1\"\n",
                "",
                format!(r#"{F}: field "version": is required"#),
            ),
        ];
        for (what, from, to, expected) in rows {
            check(what, from, to, expected);
        }
    }

    #[test]
    fn a_registry_without_towns_or_county_is_refused() {
        let county_only = &GOOD[..GOOD.find("[[town]]").unwrap()];
        assert_eq!(
            load(county_only).unwrap_err(),
            r#"deploy/data/towns.toml: field "town": must list at least one town ([[town]])"#
        );
        let no_county = GOOD.replacen(
            &GOOD[GOOD.find("[county]").unwrap()..GOOD.find("[[town]]").unwrap()],
            "",
            1,
        );
        assert_eq!(
            load(&no_county).unwrap_err(),
            r#"deploy/data/towns.toml: field "county": is required"#
        );
    }

    #[test]
    fn a_syntax_error_names_the_line() {
        let broken = GOOD.replacen(r#"name_en = "Yiwu""#, r#"name_en = "Yiwu"#, 1);
        let err = Towns::from_toml_str(&broken, "x.toml").unwrap_err();
        let line = broken.lines().position(|l| l.contains("\"Yiwu")).unwrap() + 1;
        assert!(
            err.to_string()
                .starts_with(&format!("x.toml: TOML error at line {line}, column ")),
            "{err}"
        );
    }
}
