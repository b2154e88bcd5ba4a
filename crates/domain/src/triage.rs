//! The three-path triage (三路分流): in scope, joint, or out of scope, decided from the catalogue.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use crate::catalogue::{Catalogue, Matter};
use crate::ids::{DepartmentCode, MatterCode, TownCode};
use crate::state::UnknownValue;

/// Where a case goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Path {
    /// 属于职权范围内: the brigade handles it itself.
    InScope,
    /// 情况复杂、职能交叉: the joint meeting reviews it; the stationed agency decides.
    Joint,
    /// 不属于职权范围内: referred to the competent county department.
    OutOfScope,
}

impl Path {
    pub fn as_str(&self) -> &'static str {
        match self {
            Path::InScope => "in_scope",
            Path::Joint => "joint",
            Path::OutOfScope => "out_of_scope",
        }
    }

    pub fn parse(s: &str) -> Result<Path, UnknownValue> {
        [Path::InScope, Path::Joint, Path::OutOfScope]
            .into_iter()
            .find(|p| p.as_str() == s)
            .ok_or_else(|| UnknownValue {
                kind: "path",
                value: s.chars().take(64).collect(),
            })
    }
}

impl TryFrom<String> for Path {
    type Error = UnknownValue;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Path::parse(&s)
    }
}

/// The rule that decided the path; rules are tried in this order and the first match wins.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TriageRule {
    /// 1: a matter is always joint, or the officer marked the case complex.
    AlwaysJointOrComplex,
    /// 2: some matters are within the town's powers and some are not.
    MixedPowers,
    /// 3: all matters are outside the town's powers and belong to two or more departments.
    SeveralDepartments,
    /// 4: all matters are within the town's powers.
    AllWithinTown,
    /// 5: all matters are outside the town's powers and belong to one department.
    OneDepartment,
}

impl TriageRule {
    pub fn number(&self) -> u8 {
        match self {
            TriageRule::AlwaysJointOrComplex => 1,
            TriageRule::MixedPowers => 2,
            TriageRule::SeveralDepartments => 3,
            TriageRule::AllWithinTown => 4,
            TriageRule::OneDepartment => 5,
        }
    }

    pub fn as_str(&self) -> &'static str {
        match self {
            TriageRule::AlwaysJointOrComplex => "always_joint_or_complex",
            TriageRule::MixedPowers => "mixed_powers",
            TriageRule::SeveralDepartments => "several_departments",
            TriageRule::AllWithinTown => "all_within_town",
            TriageRule::OneDepartment => "one_department",
        }
    }
}

/// What the rules decided before a person overrode it, and why they did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TriageOverride {
    pub from: Path,
    pub from_rule: TriageRule,
    pub reason: String,
}

/// The outcome of triage for one case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Triage {
    pub path: Path,
    /// The rule that decided the original path (kept after an override).
    pub rule: TriageRule,
    /// The matters that made the rule fire, sorted.
    pub deciding: Vec<MatterCode>,
    /// The competent departments of all the case's matters, sorted, without duplicates.
    pub departments: Vec<DepartmentCode>,
    /// The department the case is referred to; `Some` only for [`Path::OutOfScope`].
    pub department: Option<DepartmentCode>,
    pub overridden: Option<TriageOverride>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TriageError {
    #[error("name at least one matter of the catalogue")]
    NoMatter,
    #[error("matter \"{0}\" is not in the catalogue")]
    UnknownMatter(MatterCode),
    #[error("matter \"{0}\" is listed twice")]
    DuplicateMatter(MatterCode),
    #[error("overriding the triage needs a reason")]
    ReasonRequired,
    #[error("referring a case out of scope needs the department it goes to")]
    DepartmentRequired,
    #[error("department \"{0}\" is not in the catalogue")]
    UnknownDepartment(DepartmentCode),
    #[error("only an out-of-scope case is referred to a department")]
    DepartmentNotAllowed,
}

impl TriageError {
    /// The form field the error belongs to.
    pub fn field(&self) -> &'static str {
        match self {
            TriageError::NoMatter
            | TriageError::UnknownMatter(_)
            | TriageError::DuplicateMatter(_) => "matters",
            TriageError::ReasonRequired => "override_reason",
            TriageError::DepartmentRequired
            | TriageError::UnknownDepartment(_)
            | TriageError::DepartmentNotAllowed => "override_department",
        }
    }
}

fn codes<'a>(matters: impl IntoIterator<Item = &'a &'a Matter>) -> Vec<MatterCode> {
    matters.into_iter().map(|m| m.code.clone()).collect()
}

/// Triage a case of `matters` found in `town`; `complex` is the officer's own judgement that
/// the case needs the joint meeting.
pub fn triage(
    catalogue: &Catalogue,
    town: &TownCode,
    matters: &[MatterCode],
    complex: bool,
) -> Result<Triage, TriageError> {
    if matters.is_empty() {
        return Err(TriageError::NoMatter);
    }
    let mut seen = BTreeSet::new();
    let mut found = Vec::with_capacity(matters.len());
    for code in matters {
        if !seen.insert(code) {
            return Err(TriageError::DuplicateMatter(code.clone()));
        }
        found.push(
            catalogue
                .matter(code)
                .ok_or_else(|| TriageError::UnknownMatter(code.clone()))?,
        );
    }
    // Sorting makes the outcome independent of the order the officer ticked the matters in.
    found.sort_by(|a, b| a.code.cmp(&b.code));

    let departments: Vec<DepartmentCode> = found
        .iter()
        .map(|m| m.department.clone())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let decided = |path, rule, deciding, department| Triage {
        path,
        rule,
        deciding,
        departments: departments.clone(),
        department,
        overridden: None,
    };

    let always: Vec<&Matter> = found.iter().copied().filter(|m| m.always_joint).collect();
    if !always.is_empty() {
        return Ok(decided(
            Path::Joint,
            TriageRule::AlwaysJointOrComplex,
            codes(&always),
            None,
        ));
    }
    if complex {
        return Ok(decided(
            Path::Joint,
            TriageRule::AlwaysJointOrComplex,
            codes(&found),
            None,
        ));
    }

    let within = found
        .iter()
        .filter(|m| m.power_in(town).is_within_town())
        .count();
    let all = codes(&found);
    Ok(if within == found.len() {
        decided(Path::InScope, TriageRule::AllWithinTown, all, None)
    } else if within > 0 {
        decided(Path::Joint, TriageRule::MixedPowers, all, None)
    } else if departments.len() >= 2 {
        decided(Path::Joint, TriageRule::SeveralDepartments, all, None)
    } else {
        let department = departments.first().cloned();
        decided(Path::OutOfScope, TriageRule::OneDepartment, all, department)
    })
}

impl Triage {
    /// A person overrides the rules' path; the reason is required, and so is a known department
    /// exactly when the new path is out of scope. The first decided path is kept in `overridden`.
    pub fn override_to(
        self,
        path: Path,
        department: Option<DepartmentCode>,
        reason: &str,
        catalogue: &Catalogue,
    ) -> Result<Triage, TriageError> {
        let reason = reason.trim();
        if reason.is_empty() {
            return Err(TriageError::ReasonRequired);
        }
        let department = match (path, department) {
            (Path::OutOfScope, None) => return Err(TriageError::DepartmentRequired),
            (Path::OutOfScope, Some(d)) if catalogue.department(&d).is_none() => {
                return Err(TriageError::UnknownDepartment(d));
            }
            (Path::OutOfScope, Some(d)) => Some(d),
            (_, Some(_)) => return Err(TriageError::DepartmentNotAllowed),
            (_, None) => None,
        };
        // Overriding twice still records what the rules decided, not the first override.
        let from = self.overridden.as_ref().map_or(self.path, |o| o.from);
        Ok(Triage {
            path,
            department,
            overridden: Some(TriageOverride {
                from,
                from_rule: self.rule,
                reason: reason.to_owned(),
            }),
            ..self
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// A small catalogue covering every combination the rules look at:
    /// in-town matters of two departments, outside matters of one and of two departments,
    /// an always-joint matter, and a per-town override.
    const SMALL: &str = r#"
version = "test"

[[department]]
code = "natural_resources"
name = "县自然资源和规划局"
name_en = "Natural Resources"

[[department]]
code = "urban_management"
name = "县综合行政执法局"
name_en = "Urban Management"

[[department]]
code = "forestry"
name = "县林业局"
name_en = "Forestry"

[[department]]
code = "public_security"
name = "县公安局"
name_en = "Public Security"

[[matter]]
code = "IN-NR"
name = "在镇内·自然资源"
name_en = "in town, natural resources"
department = "natural_resources"
town_power = "by_law"
disclosure = "penalty_or_licensing"
legal_basis = [{ law = "L", article = "第一条" }]

[[matter]]
code = "IN-UM"
name = "在镇内·城管"
name_en = "in town, urban management"
department = "urban_management"
town_power = "delegated"
disclosure = "penalty_or_licensing"
legal_basis = [{ law = "L", article = "第二条" }]

[[matter]]
code = "IN-UM2"
name = "在镇内·城管·委托"
name_en = "in town, urban management, entrusted"
department = "urban_management"
town_power = "entrusted"
disclosure = "other_enforcement"
legal_basis = [{ law = "L", article = "第三条" }]

[[matter]]
code = "OUT-FO"
name = "镇外·林业"
name_en = "outside, forestry"
department = "forestry"
town_power = "none"
disclosure = "penalty_or_licensing"
legal_basis = [{ law = "L", article = "第四条" }]

[[matter]]
code = "OUT-FO2"
name = "镇外·林业二"
name_en = "outside, forestry, second"
department = "forestry"
town_power = "none"
disclosure = "penalty_or_licensing"
legal_basis = [{ law = "L", article = "第五条" }]

[[matter]]
code = "OUT-PS"
name = "镇外·公安"
name_en = "outside, public security"
department = "public_security"
town_power = "none"
disclosure = "penalty_or_licensing"
legal_basis = [{ law = "L", article = "第六条" }]

[[matter]]
code = "JOINT-NR"
name = "总是联合"
name_en = "always joint"
department = "natural_resources"
town_power = "none"
always_joint = true
disclosure = "penalty_or_licensing"
legal_basis = [{ law = "L", article = "第七条" }]

[[matter]]
code = "VAR-FO"
name = "因镇而异·林业"
name_en = "varies by town, forestry"
department = "forestry"
town_power = "none"
disclosure = "penalty_or_licensing"
legal_basis = [{ law = "L", article = "第八条" }]

[matter.town_powers]
"330782102" = "delegated"
"#;

    const TOWN_A: &str = "330782101";
    const TOWN_B: &str = "330782102";

    fn cat() -> Catalogue {
        Catalogue::from_toml_str(SMALL, "small.toml").unwrap()
    }

    fn mc(s: &str) -> MatterCode {
        MatterCode::parse(s).unwrap()
    }

    fn dc(s: &str) -> DepartmentCode {
        DepartmentCode::parse(s).unwrap()
    }

    fn tc(s: &str) -> TownCode {
        TownCode::parse(s).unwrap()
    }

    /// `expected` is `path/rule-number[/department] deciding,codes` or an error's Display.
    fn check(c: &Catalogue, town: &str, matters: &[&str], complex: bool, expected: &str) {
        let codes: Vec<MatterCode> = matters
            .iter()
            .map(|s| MatterCode::parse(s).unwrap())
            .collect();
        let got = match triage(c, &tc(town), &codes, complex) {
            Ok(t) => {
                let mut head = format!("{}/{}", t.path.as_str(), t.rule.number());
                if let Some(d) = &t.department {
                    head = format!("{head}/{d}");
                }
                let deciding: Vec<&str> = t.deciding.iter().map(MatterCode::as_str).collect();
                format!("{head} {}", deciding.join(","))
            }
            Err(e) => format!("error({}): {e}", e.field()),
        };
        assert_eq!(
            got, expected,
            "town {town}, matters {matters:?}, complex {complex}"
        );
    }

    #[test]
    fn triage_table() {
        let c = cat();
        #[rustfmt::skip]
        let rows: &[(&str, &[&str], bool, &str)] = &[
            // Rule 1: always-joint matter, alone, with a single department.
            (TOWN_A, &["JOINT-NR"], false, "joint/1 JOINT-NR"),
            // Rule 1 beats rule 4: an always-joint matter among in-town matters decides alone.
            (TOWN_A, &["IN-NR", "JOINT-NR", "IN-UM"], false, "joint/1 JOINT-NR"),
            // Rule 1 by the officer's flag even though everything is within the town.
            (TOWN_A, &["IN-NR"], true, "joint/1 IN-NR"),
            (TOWN_A, &["IN-UM", "IN-NR"], true, "joint/1 IN-NR,IN-UM"),
            // Flag and always-joint together: the always-joint matters decide.
            (TOWN_A, &["OUT-FO", "JOINT-NR"], true, "joint/1 JOINT-NR"),
            // Flag on a one-department out-of-scope case: joint, not referred.
            (TOWN_A, &["OUT-FO"], true, "joint/1 OUT-FO"),
            // Rule 2: mixed, even where the outside ones share one department.
            (TOWN_A, &["IN-NR", "OUT-FO"], false, "joint/2 IN-NR,OUT-FO"),
            (TOWN_A, &["IN-UM", "OUT-FO", "OUT-FO2"], false, "joint/2 IN-UM,OUT-FO,OUT-FO2"),
            // Rule 2: mixed where in and out belong to the same department.
            (TOWN_B, &["VAR-FO", "OUT-FO"], false, "joint/2 OUT-FO,VAR-FO"),
            // Rule 3: all outside, two departments.
            (TOWN_A, &["OUT-FO", "OUT-PS"], false, "joint/3 OUT-FO,OUT-PS"),
            // Rule 4: all within, one department, and several departments.
            (TOWN_A, &["IN-NR"], false, "in_scope/4 IN-NR"),
            (TOWN_A, &["IN-UM", "IN-UM2"], false, "in_scope/4 IN-UM,IN-UM2"),
            (TOWN_A, &["IN-UM2", "IN-NR", "IN-UM"], false, "in_scope/4 IN-NR,IN-UM,IN-UM2"),
            // Rule 5: all outside, one department.
            (TOWN_A, &["OUT-PS"], false, "out_of_scope/5/public_security OUT-PS"),
            (TOWN_A, &["OUT-FO2", "OUT-FO"], false, "out_of_scope/5/forestry OUT-FO,OUT-FO2"),
            // The same matter in two towns: the override makes it in scope in town B only.
            (TOWN_A, &["VAR-FO"], false, "out_of_scope/5/forestry VAR-FO"),
            (TOWN_B, &["VAR-FO"], false, "in_scope/4 VAR-FO"),
            (TOWN_A, &["VAR-FO", "IN-NR"], false, "joint/2 IN-NR,VAR-FO"),
            (TOWN_B, &["VAR-FO", "IN-NR"], false, "in_scope/4 IN-NR,VAR-FO"),
            // Errors.
            (TOWN_A, &[], false, "error(matters): name at least one matter of the catalogue"),
            (TOWN_A, &[], true, "error(matters): name at least one matter of the catalogue"),
            (TOWN_A, &["IN-NR", "IN-NR"], false, "error(matters): matter \"IN-NR\" is listed twice"),
            (TOWN_A, &["IN-NR", "NOPE-1"], false, "error(matters): matter \"NOPE-1\" is not in the catalogue"),
        ];
        for (town, matters, complex, expected) in rows {
            check(&c, town, matters, *complex, expected);
        }
    }

    #[test]
    fn departments_are_sorted_and_deduplicated() {
        let c = cat();
        let t = triage(
            &c,
            &tc(TOWN_A),
            &[mc("OUT-PS"), mc("OUT-FO"), mc("OUT-FO2"), mc("IN-NR")],
            false,
        )
        .unwrap();
        assert_eq!(
            t.departments,
            vec![
                dc("forestry"),
                dc("natural_resources"),
                dc("public_security")
            ]
        );
        assert_eq!(t.department, None);
        assert_eq!(t.overridden, None);
    }

    #[test]
    fn override_rules() {
        let c = cat();
        let t = triage(&c, &tc(TOWN_A), &[mc("OUT-FO")], false).unwrap();
        assert_eq!(t.path, Path::OutOfScope);

        let err = |r: Result<Triage, TriageError>| r.unwrap_err();
        assert_eq!(
            err(t.clone().override_to(Path::Joint, None, "  ", &c)),
            TriageError::ReasonRequired
        );
        assert_eq!(
            err(t
                .clone()
                .override_to(Path::OutOfScope, None, "other bureau", &c)),
            TriageError::DepartmentRequired
        );
        assert_eq!(
            err(t
                .clone()
                .override_to(Path::OutOfScope, Some(dc("health")), "r", &c)),
            TriageError::UnknownDepartment(dc("health"))
        );
        assert_eq!(
            err(t
                .clone()
                .override_to(Path::InScope, Some(dc("forestry")), "r", &c)),
            TriageError::DepartmentNotAllowed
        );
        assert_eq!(TriageError::ReasonRequired.field(), "override_reason");
        assert_eq!(
            TriageError::DepartmentNotAllowed.field(),
            "override_department"
        );

        let joint = t
            .clone()
            .override_to(Path::Joint, None, "  两部门均需到场  ", &c)
            .unwrap();
        assert_eq!(joint.path, Path::Joint);
        assert_eq!(joint.department, None);
        assert_eq!(joint.rule, TriageRule::OneDepartment);
        assert_eq!(joint.deciding, t.deciding);
        assert_eq!(
            joint.overridden,
            Some(TriageOverride {
                from: Path::OutOfScope,
                from_rule: TriageRule::OneDepartment,
                reason: "两部门均需到场".into(),
            })
        );

        // A second override still remembers what the rules decided.
        let referred = joint
            .override_to(Path::OutOfScope, Some(dc("public_security")), "涉毒", &c)
            .unwrap();
        assert_eq!(referred.department, Some(dc("public_security")));
        let o = referred.overridden.unwrap();
        assert_eq!(
            (o.from, o.from_rule, o.reason.as_str()),
            (Path::OutOfScope, TriageRule::OneDepartment, "涉毒")
        );
    }

    #[test]
    fn names_and_numbers() {
        let rules = [
            TriageRule::AlwaysJointOrComplex,
            TriageRule::MixedPowers,
            TriageRule::SeveralDepartments,
            TriageRule::AllWithinTown,
            TriageRule::OneDepartment,
        ];
        let numbers: Vec<u8> = rules.iter().map(TriageRule::number).collect();
        assert_eq!(numbers, vec![1, 2, 3, 4, 5]);
        assert_eq!(Path::OutOfScope.as_str(), "out_of_scope");
        assert_eq!(TriageRule::MixedPowers.as_str(), "mixed_powers");
    }

    #[test]
    fn the_shipped_catalogue_triages_the_seed_cases() {
        let c = Catalogue::default_catalogue();
        let town = tc("330782101");
        let rural = triage(&c, &town, &[mc("CXGH-001")], false).unwrap();
        assert_eq!(
            (rural.path, rural.rule),
            (Path::InScope, TriageRule::AllWithinTown)
        );
        let parking = triage(&c, &town, &[mc("JT-001")], false).unwrap();
        assert_eq!(parking.path, Path::OutOfScope);
        assert_eq!(parking.department, Some(dc("public_security")));
    }

    fn case() -> impl Strategy<Value = (String, Vec<MatterCode>, bool)> {
        let all: Vec<MatterCode> = cat().matters.iter().map(|m| m.code.clone()).collect();
        let n = all.len();
        (
            prop::sample::select(vec![TOWN_A.to_owned(), TOWN_B.to_owned()]),
            prop::sample::subsequence(all, 1..=n).prop_shuffle(),
            any::<bool>(),
        )
    }

    proptest! {
        #[test]
        fn triage_properties((town, matters, complex) in case()) {
            let c = cat();
            let town = tc(&town);
            let t = triage(&c, &town, &matters, complex);
            // Total on known, distinct matters.
            prop_assert!(t.is_ok(), "{t:?}");
            let t = t.unwrap();
            // Deterministic, and independent of the order of matters.
            prop_assert_eq!(&triage(&c, &town, &matters, complex).unwrap(), &t);
            let mut sorted = matters.clone();
            sorted.sort();
            let mut reversed = sorted.clone();
            reversed.reverse();
            prop_assert_eq!(&triage(&c, &town, &sorted, complex).unwrap(), &t);
            prop_assert_eq!(&triage(&c, &town, &reversed, complex).unwrap(), &t);

            let found: Vec<&Matter> = matters.iter().map(|m| c.matter(m).unwrap()).collect();
            let any_always = found.iter().any(|m| m.always_joint);
            let all_within = found.iter().all(|m| m.power_in(&town).is_within_town());

            if complex || any_always {
                prop_assert_eq!(t.rule, TriageRule::AlwaysJointOrComplex);
                prop_assert_eq!(t.path, Path::Joint);
            }
            prop_assert_eq!(t.path == Path::InScope, all_within && !any_always && !complex);
            prop_assert_eq!(t.department.is_some(), t.path == Path::OutOfScope);
            if let Some(d) = &t.department {
                prop_assert!(found.iter().all(|m| &m.department == d));
                prop_assert_eq!(&t.departments, &vec![d.clone()]);
            }
            // Deciding matters are sorted, distinct, and among the case's matters.
            prop_assert!(!t.deciding.is_empty());
            prop_assert!(t.deciding.windows(2).all(|w| w[0] < w[1]));
            prop_assert!(t.deciding.iter().all(|d| matters.contains(d)));
            prop_assert!(t.departments.windows(2).all(|w| w[0] < w[1]));
        }
    }
}
