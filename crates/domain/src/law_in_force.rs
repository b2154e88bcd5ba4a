//! Which law applies to an act (行政处罚法 Art. 37), and whether it may still be penalised
//! (Art. 36).
//!
//! Art. 37 (2021 text, checked at http://mmkq.com.cn/index.php/2024/08/21/xingzheng18 and
//! http://zhb.org.cn/gjhb/gjhb_3/2022-03-30/14038.html): "实施行政处罚，适用违法行为发生时的
//! 法律、法规、规章的规定。但是，作出行政处罚决定时，法律、法规、规章已被修改或者废止，且新的
//! 规定处罚较轻或者不认为是违法的，适用新的规定。"
//! Art. 36 (same pages): "违法行为在二年内未被发现的，不再给予行政处罚；涉及公民生命健康安全、
//! 金融安全且有危害后果的，上述期限延长至五年。法律另有规定的除外。前款规定的期限，从违法行为
//! 发生之日起计算；违法行为有连续或者继续状态的，从行为终了之日起计算。"

use chrono::{Months, NaiveDate};

use crate::catalogue::{Catalogue, LegalBasis, Matter, MatterVersion};
use crate::ids::MatterCode;

/// Why the chosen version applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Choice {
    /// The version in force at the act, unchanged since.
    Unchanged,
    /// The version in force at the act; the one in force at the decision is not lighter.
    AtAct,
    /// The version in force at the act, because the newer one's article could not be
    /// confirmed, so whether it is lighter cannot be told.
    AtActNewerUnconfirmed,
    /// The newer version: its highest fine is lower.
    Lighter,
    /// The newer version: the act is no longer an offence.
    NoLongerOffence,
}

/// The version of a matter's law that a decision applies, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Applicable<'a> {
    pub matter: &'a Matter,
    pub version: &'a MatterVersion,
    pub choice: Choice,
}

impl Applicable<'_> {
    /// The record's line: which version, and why (行政处罚法第三十七条).
    pub fn note(&self) -> String {
        let why = match self.choice {
            Choice::Unchanged => "违法行为发生后未修改",
            Choice::AtAct => {
                "适用违法行为发生时的规定，新的规定处罚并不较轻（行政处罚法第三十七条）"
            }
            Choice::AtActNewerUnconfirmed => {
                "适用违法行为发生时的规定；新的规定条文未经核实，无从比较轻重（行政处罚法第三十七条）"
            }
            Choice::Lighter => "新的规定处罚较轻，适用新的规定（行政处罚法第三十七条）",
            Choice::NoLongerOffence => "新的规定不认为是违法，适用新的规定（行政处罚法第三十七条）",
        };
        format!(
            "{}：适用 {} 施行的规定，{why}",
            self.matter.code,
            self.version.span()
        )
    }
}

/// Why no version can be applied.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LawError {
    #[error("the catalogue has no version of matter {matter} in force on {date}")]
    NoVersion { matter: String, date: NaiveDate },
    #[error(
        "matter {matter}: the article in force since {from} could not be confirmed ({note}); a decision on an act of {act} would cite it, so none is made until the catalogue names it"
    )]
    Unconfirmed {
        matter: String,
        from: String,
        act: NaiveDate,
        note: String,
    },
}

/// The version of `matter` that a decision made on `decided` applies to an act of `act`
/// (Art. 37): the one in force at the act, or the one in force at the decision when it is
/// lighter (a lower highest fine) or no longer makes the act an offence. A version whose
/// article could not be confirmed is never applied.
pub fn applicable(
    matter: &Matter,
    act: NaiveDate,
    decided: NaiveDate,
) -> Result<Applicable<'_>, LawError> {
    let no_version = |date| LawError::NoVersion {
        matter: matter.code.to_string(),
        date,
    };
    let at_act = matter.version_on(act).ok_or_else(|| no_version(act))?;
    let at_decision = matter
        .version_on(decided)
        .ok_or_else(|| no_version(decided))?;
    let (version, choice) = if std::ptr::eq(at_act, at_decision) {
        (at_act, Choice::Unchanged)
    } else if at_decision.unconfirmed.is_some() {
        (at_act, Choice::AtActNewerUnconfirmed)
    } else if at_act.offence && !at_decision.offence {
        (at_decision, Choice::NoLongerOffence)
    } else if matches!((at_act.max_fine, at_decision.max_fine), (Some(old), Some(new)) if new < old)
    {
        (at_decision, Choice::Lighter)
    } else {
        (at_act, Choice::AtAct)
    };
    if let Some(note) = &version.unconfirmed {
        return Err(LawError::Unconfirmed {
            matter: matter.code.to_string(),
            from: version
                .in_force_from
                .map_or_else(|| "its start".to_owned(), |d| d.to_string()),
            act,
            note: note.clone(),
        });
    }
    Ok(Applicable {
        matter,
        version,
        choice,
    })
}

/// The law a decision on a case applies: its articles (each once), the record's note on each
/// matter's choice, and the matters the act is no longer an offence under.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AppliedLaw {
    pub basis: Vec<LegalBasis>,
    pub notes: Vec<String>,
    pub no_longer_offence: Vec<String>,
}

impl AppliedLaw {
    /// The articles as a decision's `applied_basis` lists them: 《law》article.
    pub fn cited(&self) -> Vec<String> {
        self.basis
            .iter()
            .map(|b| format!("《{}》{}", b.law, b.article))
            .collect()
    }
}

/// The catalogue's matters of `codes` (codes it does not know are left out), each once.
pub fn matters_of<'c>(catalogue: &'c Catalogue, codes: &[String]) -> Vec<&'c Matter> {
    let mut out: Vec<&Matter> = Vec::new();
    for code in codes {
        if let Some(m) = MatterCode::parse(code)
            .ok()
            .and_then(|c| catalogue.matter(&c))
            && !out.iter().any(|o| o.code == m.code)
        {
            out.push(m);
        }
    }
    out
}

fn push_unique(basis: &mut Vec<LegalBasis>, more: &[LegalBasis]) {
    for b in more {
        if !basis.contains(b) {
            basis.push(b.clone());
        }
    }
}

/// The law a decision made on `decided` applies to an act of `act` under `matters`: each
/// matter's `applicable` version; refused (naming why) when one has none that may be applied.
pub fn applied(
    matters: &[&Matter],
    act: NaiveDate,
    decided: NaiveDate,
) -> Result<AppliedLaw, LawError> {
    let mut out = AppliedLaw::default();
    for m in matters {
        let a = applicable(m, act, decided)?;
        push_unique(&mut out.basis, &a.version.legal_basis);
        out.notes.push(a.note());
        if !a.version.offence {
            out.no_longer_offence.push(m.code.to_string());
        }
    }
    Ok(out)
}

/// What a document other than a decision (a filing form, a transfer letter) cites on `on`:
/// the law that applies, and for a matter where none may be applied, only what its version at
/// the act confirms, with a note of what is left out and why. Never an unchecked article.
pub fn for_document(
    matters: &[&Matter],
    act: NaiveDate,
    on: NaiveDate,
) -> (Vec<LegalBasis>, String) {
    let mut basis = Vec::new();
    let mut notes = Vec::new();
    for m in matters {
        match applicable(m, act, on) {
            Ok(a) => push_unique(&mut basis, &a.version.legal_basis),
            Err(e) => {
                if let Some(v) = m.version_on(act) {
                    push_unique(&mut basis, &v.legal_basis);
                }
                notes.push(match e {
                    LawError::Unconfirmed { note, .. } => format!("{}：{note}，未予引用", m.code),
                    LawError::NoVersion { date, .. } => {
                        format!("{}：事项目录未载 {date} 施行的规定", m.code)
                    }
                });
            }
        }
    }
    (basis, notes.join("；"))
}

/// Why an act may no longer be penalised.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "the act of {act} was discovered on {found}, more than {years} years later: no administrative penalty may be given for it (行政处罚法第三十六条)"
)]
pub struct Limited {
    pub act: NaiveDate,
    pub found: NaiveDate,
    pub years: u32,
}

/// Whether an act of `act` discovered on `found` may still be penalised under the matters
/// (Art. 36): within two years, five where a matter touches life, health or financial
/// security; an act still going on when found (连续或者继续状态) counts from its end, so it
/// always may.
pub fn check_limitation(
    matters: &[&Matter],
    act: NaiveDate,
    ongoing: bool,
    found: NaiveDate,
) -> Result<(), Limited> {
    if ongoing {
        return Ok(());
    }
    let years = matters
        .iter()
        .map(|m| m.limitation_years())
        .max()
        .unwrap_or(2);
    let last_day = act
        .checked_add_months(Months::new(12 * years))
        .unwrap_or(NaiveDate::MAX);
    if found > last_day {
        return Err(Limited { act, found, years });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    const CATALOGUE: &str = r#"
version = "t"

[[department]]
code = "agriculture_rural"
name = "县农业农村局"
name_en = "Agriculture"

[[matter]]
code = "HEAVIER"
name = "加重"
name_en = "Made heavier"
department = "agriculture_rural"
town_power = "delegated"
disclosure = "penalty_or_licensing"
[[matter.version]]
in_force_until = 2025-12-31
max_fine_fen = 100000
legal_basis = [{ law = "旧法", article = "第一条" }]
[[matter.version]]
in_force_from = 2026-01-01
max_fine_fen = 500000
legal_basis = [{ law = "新法", article = "第九条" }]

[[matter]]
code = "LIGHTER"
name = "减轻"
name_en = "Made lighter"
department = "agriculture_rural"
town_power = "delegated"
disclosure = "penalty_or_licensing"
life_health_or_finance = true
[[matter.version]]
in_force_from = 2020-01-01
in_force_until = 2025-12-31
max_fine_fen = 500000
legal_basis = [{ law = "旧法", article = "第二条" }]
[[matter.version]]
in_force_from = 2026-01-01
max_fine_fen = 100000
legal_basis = [{ law = "新法", article = "第十条" }]

[[matter]]
code = "REPEALED"
name = "不再处罚"
name_en = "No longer an offence"
department = "agriculture_rural"
town_power = "delegated"
disclosure = "penalty_or_licensing"
[[matter.version]]
in_force_until = 2025-12-31
legal_basis = [{ law = "旧法", article = "第三条" }]
[[matter.version]]
in_force_from = 2026-01-01
offence = false
legal_basis = [{ law = "新法", article = "第十一条" }]

[[matter]]
code = "UNCHECKED"
name = "未核实"
name_en = "New article unconfirmed"
department = "agriculture_rural"
town_power = "delegated"
disclosure = "penalty_or_licensing"
[[matter.version]]
in_force_until = 2026-04-30
max_fine_fen = 5000000
legal_basis = [{ law = "旧法", article = "第四条" }]
[[matter.version]]
in_force_from = 2026-05-01
unconfirmed = "修订后的条文未能核实"
"#;

    fn catalogue() -> Catalogue {
        Catalogue::from_toml_str(CATALOGUE, "t.toml").unwrap()
    }

    fn article(
        c: &Catalogue,
        code: &str,
        act: &str,
        decided: &str,
    ) -> Result<(String, Choice), String> {
        let m = c.matter(&MatterCode::parse(code).unwrap()).unwrap();
        applicable(m, d(act), d(decided))
            .map(|a| (a.version.legal_basis[0].article.clone(), a.choice))
            .map_err(|e| e.to_string())
    }

    #[test]
    fn the_law_at_the_act_applies_unless_the_new_one_is_lighter() {
        let c = catalogue();
        // Unchanged since the act.
        assert_eq!(
            article(&c, "HEAVIER", "2026-02-01", "2026-03-01"),
            Ok(("第九条".into(), Choice::Unchanged))
        );
        // Made heavier since the act: the old law.
        assert_eq!(
            article(&c, "HEAVIER", "2025-06-01", "2026-03-01"),
            Ok(("第一条".into(), Choice::AtAct))
        );
        // Made lighter since the act: the new law.
        assert_eq!(
            article(&c, "LIGHTER", "2025-06-01", "2026-03-01"),
            Ok(("第十条".into(), Choice::Lighter))
        );
        // No longer an offence: the new law.
        assert_eq!(
            article(&c, "REPEALED", "2025-06-01", "2026-03-01"),
            Ok(("第十一条".into(), Choice::NoLongerOffence))
        );
        // Decided before the change: the law at the act, unchanged.
        assert_eq!(
            article(&c, "LIGHTER", "2025-06-01", "2025-12-31"),
            Ok(("第二条".into(), Choice::Unchanged))
        );
        // Before the first version's start.
        assert_eq!(
            article(&c, "LIGHTER", "2019-12-31", "2026-03-01"),
            Err("the catalogue has no version of matter LIGHTER in force on 2019-12-31".into())
        );
    }

    #[test]
    fn an_unconfirmed_article_is_never_applied() {
        let c = catalogue();
        // An act before the revision: the old article, and the record says why.
        let m = c.matter(&MatterCode::parse("UNCHECKED").unwrap()).unwrap();
        let a = applicable(m, d("2026-03-01"), d("2026-06-01")).unwrap();
        assert_eq!(a.choice, Choice::AtActNewerUnconfirmed);
        assert_eq!(a.version.legal_basis[0].article, "第四条");
        assert!(a.note().contains("未经核实"), "{}", a.note());
        // An act after it: refused, saying why.
        assert_eq!(
            article(&c, "UNCHECKED", "2026-05-01", "2026-06-01"),
            Err("matter UNCHECKED: the article in force since 2026-05-01 could not be confirmed (修订后的条文未能核实); a decision on an act of 2026-05-01 would cite it, so none is made until the catalogue names it".into())
        );
    }

    #[test]
    fn the_shipped_fisheries_and_poppy_entries() {
        let c = Catalogue::default_catalogue();
        let yz = c.matter(&MatterCode::parse("YZ-001").unwrap()).unwrap();
        let before = applicable(yz, d("2026-03-01"), d("2026-12-01")).unwrap();
        assert_eq!(before.choice, Choice::AtActNewerUnconfirmed);
        assert!(before.version.legal_basis[1].law.contains("2013年修正"));
        assert_eq!(
            before.version.max_fine,
            Some(crate::catalogue::Fen::yuan(50_000))
        );
        let after = applicable(yz, d("2026-05-01"), d("2026-12-01")).unwrap_err();
        assert!(matches!(after, LawError::Unconfirmed { .. }), "{after}");
        let ga = c.matter(&MatterCode::parse("GA-001").unwrap()).unwrap();
        let old = applicable(ga, d("2025-10-01"), d("2026-02-01")).unwrap();
        assert!(old.version.legal_basis.iter().any(
            |b| b.law == "中华人民共和国治安管理处罚法" && b.article.starts_with("第七十一条")
        ));
        assert!(applicable(ga, d("2026-01-01"), d("2026-02-01")).is_err());
        let sc = c.matter(&MatterCode::parse("SC-001").unwrap()).unwrap();
        assert_eq!(sc.limitation_years(), 5);
    }

    #[test]
    fn a_case_s_law_and_what_documents_cite() {
        let c = catalogue();
        let codes: Vec<String> = ["LIGHTER", "HEAVIER", "LIGHTER", "NOPE"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let ms = matters_of(&c, &codes);
        assert_eq!(ms.len(), 2, "each known matter once");
        let law = applied(&ms, d("2025-06-01"), d("2026-03-01")).unwrap();
        assert_eq!(law.cited(), vec!["《新法》第十条", "《旧法》第一条"]);
        assert_eq!(law.notes.len(), 2);
        assert!(law.no_longer_offence.is_empty());
        let repealed = matters_of(&c, &["REPEALED".to_owned()]);
        let law = applied(&repealed, d("2025-06-01"), d("2026-03-01")).unwrap();
        assert_eq!(law.no_longer_offence, vec!["REPEALED"]);
        let unchecked = matters_of(&c, &["UNCHECKED".to_owned(), "HEAVIER".to_owned()]);
        assert!(applied(&unchecked, d("2026-05-02"), d("2026-06-01")).is_err());
        let (basis, note) = for_document(&unchecked, d("2026-05-02"), d("2026-06-01"));
        assert_eq!(basis.len(), 1, "only the confirmed article: {basis:?}");
        assert_eq!(basis[0].article, "第九条");
        assert_eq!(note, "UNCHECKED：修订后的条文未能核实，未予引用");
    }

    #[test]
    fn two_years_or_five_from_the_act() {
        let c = catalogue();
        let two = c.matter(&MatterCode::parse("HEAVIER").unwrap()).unwrap();
        let five = c.matter(&MatterCode::parse("LIGHTER").unwrap()).unwrap();
        assert_eq!(two.limitation_years(), 2);
        assert_eq!(five.limitation_years(), 5);
        let act = d("2024-03-01");
        assert_eq!(
            check_limitation(&[two], act, false, d("2026-03-01")),
            Ok(())
        );
        assert_eq!(
            check_limitation(&[two], act, false, d("2026-03-02")),
            Err(Limited {
                act,
                found: d("2026-03-02"),
                years: 2
            })
        );
        // Still going on when found: counted from its end.
        assert_eq!(check_limitation(&[two], act, true, d("2026-03-02")), Ok(()));
        // A matter touching life, health or financial security: five years.
        assert_eq!(
            check_limitation(&[two, five], act, false, d("2029-03-01")),
            Ok(())
        );
        assert!(check_limitation(&[five], act, false, d("2029-03-02")).is_err());
    }

    #[test]
    fn versions_must_neither_overlap_nor_leave_gaps() {
        let load = |src: String| {
            Catalogue::from_toml_str(&src, "t.toml")
                .map(|_| ())
                .map_err(|e| e.to_string())
        };
        let overlap = CATALOGUE.replacen(
            "in_force_from = 2026-01-01",
            "in_force_from = 2025-12-01",
            1,
        );
        assert_eq!(
            load(overlap),
            Err(r#"t.toml: matter "HEAVIER": field "version[1].in_force_from": 2025-12-01 overlaps version[0], in force until 2025-12-31"#.into())
        );
        let gap = CATALOGUE.replacen(
            "in_force_from = 2026-01-01",
            "in_force_from = 2026-01-05",
            1,
        );
        assert_eq!(
            load(gap),
            Err(r#"t.toml: matter "HEAVIER": field "version[1].in_force_from": 2026-01-05 leaves a gap after version[0], in force until 2025-12-31: expected 2026-01-01"#.into())
        );
        let open = CATALOGUE.replacen("in_force_until = 2025-12-31\n", "", 1);
        assert_eq!(
            load(open),
            Err(r#"t.toml: matter "HEAVIER": field "version[0].in_force_until": is required: version[1] is in force from 2026-01-01"#.into())
        );
        let no_start = CATALOGUE.replacen("in_force_from = 2026-01-01\n", "", 1);
        assert_eq!(
            load(no_start),
            Err(r#"t.toml: matter "HEAVIER": field "version[1].in_force_from": is required for every version but the first"#.into())
        );
        let backwards = CATALOGUE.replacen(
            "in_force_from = 2020-01-01\nin_force_until = 2025-12-31",
            "in_force_from = 2020-01-01\nin_force_until = 2019-01-01",
            1,
        );
        assert_eq!(
            load(backwards),
            Err(r#"t.toml: matter "LIGHTER": field "version[0].in_force_until": 2019-01-01 is before in_force_from 2020-01-01"#.into())
        );
        let both = CATALOGUE.replacen(
            "disclosure = \"penalty_or_licensing\"\n[[matter.version]]",
            "disclosure = \"penalty_or_licensing\"\nlegal_basis = [{ law = \"L\", article = \"第一条\" }]\n[[matter.version]]",
            1,
        );
        assert_eq!(
            load(both),
            Err(r#"t.toml: matter "HEAVIER": field "legal_basis": give the legal basis in each [[matter.version]], not both"#.into())
        );
        let cut = CATALOGUE.replacen(
            r#"{ law = "旧法", article = "第一条" }"#,
            r#"{ law = "旧法", article = "第一条", text = "由县级以上人民政府责令改正" }"#,
            1,
        );
        assert_eq!(
            load(cut),
            Err(r#"t.toml: matter "HEAVIER": field "version[0].legal_basis[0].text": a quotation ends where a sentence ends (。), or marks where it was cut with ……"#.into())
        );
        let bad_date = CATALOGUE.replacen(
            "in_force_from = 2026-01-01",
            "in_force_from = \"2026-13-01\"",
            1,
        );
        assert_eq!(
            load(bad_date),
            Err(r#"t.toml: matter "HEAVIER": field "version[1].in_force_from": must be a date (YYYY-MM-DD), found "2026-13-01""#.into())
        );
        let empty_confirmed = CATALOGUE.replacen(
            "legal_basis = [{ law = \"新法\", article = \"第九条\" }]",
            "",
            1,
        );
        assert_eq!(
            load(empty_confirmed),
            Err(r#"t.toml: matter "HEAVIER": field "version[1].legal_basis": is required"#.into())
        );
    }
}
