//! The procedure of an administrative penalty (行政处罚程序) as the Administrative Penalty Law
//! orders it, checked before a decision is made: who handles the case, what the party must be
//! told and heard on, when a hearing is due, and which cases the heads decide together.
//!
//! - At least two enforcement officers handle a case (行政处罚法 第四十二条).
//! - Ordinary procedure (普通程序): before a penalty, the party is told the intended decision, its
//!   facts, reasons and basis and their rights (事先告知, 第四十四条); their statement and defence
//!   are heard and answered, and the penalty is never made heavier because of them (第四十五条);
//!   without that, no decision is made (第六十二条). For the decisions of 第六十三条 (a larger fine
//!   or confiscation, as the county's `procedure.toml` sets it; a demolition) the party may ask for
//!   a hearing within five working days of the notice (第六十四条, 第八十五条), and one asked for is
//!   held before the decision. Complex or serious cases are decided by the heads' collective
//!   discussion (集体讨论, 第五十七条); a major decision's legal review (法制审核, 第五十八条) comes
//!   before it (the review's approval waits for the discussion).
//! - Simple procedure (简易程序, 第五十一条): a warning, or a fine of at most 200 yuan on a citizen or
//!   3,000 yuan on an organisation, decided on the spot, the party told and heard there.
//!
//! Sources: see `deploy/data/procedure.toml`.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use toml::{Table, Value};

use crate::calendar::Calendar;
use crate::data_file::{Ctx, DataFileError, syntax_error};
use crate::ids::DepartmentCode;
use crate::masking::PartyKind;
use crate::outcome::OutcomeKind;
use crate::state::named_enum;

named_enum! {
    /// Which procedure a penalty is decided under.
    pub enum Procedure: "procedure" {
        /// 简易程序 (当场处罚), 第五十一条、第五十二条.
        Simple => "simple",
        /// 普通程序, 第五十四条 onwards.
        Ordinary => "ordinary",
    }
}

named_enum! {
    /// A step of the procedure the brigade records on a case.
    pub enum StepKind: "procedure step" {
        /// 行政处罚事先告知 (第四十四条): the intended decision and the party's rights.
        Notice => "notice",
        /// The party's statement and defence (陈述、申辩), recorded with the body's answer.
        Statement => "statement",
        /// The party waived their statement and defence, or let the period in the notice pass.
        StatementWaived => "statement_waived",
        /// The party asked for a hearing (第六十四条).
        HearingRequested => "hearing_requested",
        /// The hearing was held, with its record (听证笔录, 第六十五条).
        HearingHeld => "hearing_held",
        /// The party waived the hearing.
        HearingWaived => "hearing_waived",
        /// The heads' collective discussion (集体讨论, 第五十七条).
        CollectiveDiscussion => "collective_discussion",
    }
}

/// What a decision, or a notified intended decision, imposes, as the procedure compares them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Penalty {
    pub kind: OutcomeKind,
    pub fine_fen: i64,
    /// Items or gains are confiscated with it.
    pub confiscates: bool,
    /// The value of what is confiscated, where the decision states it (0 otherwise).
    pub confiscated_value_fen: i64,
}

impl Penalty {
    /// The penalty an outcome imposes; none for education, an order to correct or no violation
    /// (not penalties, 第九条, 第二十八条), which need no notice.
    pub fn of(
        kind: OutcomeKind,
        fine_fen: i64,
        confiscates: bool,
        value_fen: i64,
    ) -> Option<Penalty> {
        let confiscates = confiscates || kind == OutcomeKind::Confiscation;
        (kind.is_penalty() || confiscates || fine_fen > 0).then_some(Penalty {
            kind,
            fine_fen,
            confiscates,
            confiscated_value_fen: value_fen,
        })
    }

    fn rank(kind: OutcomeKind) -> u8 {
        match kind {
            OutcomeKind::Warning => 1,
            OutcomeKind::Fine => 2,
            OutcomeKind::Confiscation => 3,
            OutcomeKind::Demolition => 4,
            _ => 0,
        }
    }

    /// Whether this penalty is heavier than `notified` in any respect: a heavier kind, a higher
    /// fine, a confiscation not notified, or one of greater value.
    pub fn heavier_than(&self, notified: &Penalty) -> bool {
        Self::rank(self.kind) > Self::rank(notified.kind)
            || self.fine_fen > notified.fine_fen
            || (self.confiscates && !notified.confiscates)
            || self.confiscated_value_fen > notified.confiscated_value_fen
    }

    /// In words, for a refusal: `fine 5000.00 yuan`, `warning`.
    pub fn describe(&self) -> String {
        let mut s = self.kind.as_str().to_owned();
        if self.fine_fen > 0 {
            s.push_str(&format!(
                " {}.{:02} yuan",
                self.fine_fen / 100,
                self.fine_fen % 100
            ));
        }
        if self.confiscates {
            s.push_str(" with confiscation");
        }
        s
    }
}

/// One recorded step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    pub kind: StepKind,
    pub at: DateTime<Utc>,
    /// For a notice: the intended penalty.
    pub intended: Option<Penalty>,
}

/// The amounts above which a fine or a confiscation gives the right to a hearing (较大数额).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct HearingStandard {
    pub fine_person_fen: i64,
    pub fine_organisation_fen: i64,
    pub confiscation_person_fen: i64,
    pub confiscation_organisation_fen: i64,
    /// A demolition order gives the right to a hearing.
    pub demolition: bool,
}

impl HearingStandard {
    /// Whether `p` on a party of `party`'s kind gives the right to ask for a hearing (第六十三条).
    pub fn due(&self, p: &Penalty, party: PartyKind) -> bool {
        let (fine, confiscation) = match party {
            PartyKind::Person => (self.fine_person_fen, self.confiscation_person_fen),
            PartyKind::Organisation => (
                self.fine_organisation_fen,
                self.confiscation_organisation_fen,
            ),
        };
        (p.fine_fen > 0 && p.fine_fen >= fine)
            || (p.confiscated_value_fen > 0 && p.confiscated_value_fen >= confiscation)
            || (self.demolition && p.kind == OutcomeKind::Demolition)
    }
}

/// The county's procedural standards (`deploy/data/procedure.toml`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProcedureRules {
    pub version: String,
    pub hearing: HearingStandard,
    pub departments: BTreeMap<DepartmentCode, HearingStandard>,
}

const SHIPPED: &str = include_str!("../../../deploy/data/procedure.toml");
const SHIPPED_FILE: &str = "deploy/data/procedure.toml";

impl ProcedureRules {
    pub fn shipped() -> ProcedureRules {
        match ProcedureRules::from_toml_str(SHIPPED, SHIPPED_FILE) {
            Ok(r) => r,
            Err(e) => panic!("the shipped procedure file is broken: {e}"),
        }
    }

    /// The hearing standard of the body that decides: a department's own where it has one, else
    /// the county's.
    pub fn hearing_for(&self, department: Option<&DepartmentCode>) -> &HearingStandard {
        department
            .and_then(|d| self.departments.get(d))
            .unwrap_or(&self.hearing)
    }

    /// Parses and checks the file; `file` only names it in errors.
    pub fn from_toml_str(src: &str, file: &str) -> Result<ProcedureRules, DataFileError> {
        let table: Table = toml::from_str(src).map_err(|e| syntax_error(file, src, &e))?;
        let top = Ctx { file, entry: None };
        top.check_keys(&table, &["version", "hearing", "department"], "")?;
        let version = top.name(&table, "version")?;
        let Some(h) = top.opt_table(&table, "hearing")? else {
            return Err(top.err("hearing", "is required"));
        };
        let hearing = standard(&top, h, "hearing.", None)?;
        let mut departments = BTreeMap::new();
        for (i, v) in top
            .array_of_tables(&table, "department")?
            .iter()
            .enumerate()
        {
            let t = v.as_table().expect("checked to be a table");
            let code = t.get("code").and_then(Value::as_str);
            let ctx = Ctx::entry(file, "department", code, i);
            let code = DepartmentCode::parse(ctx.req_str(t, "code", "code")?)
                .map_err(|e| ctx.err("code", e.to_string()))?;
            let s = standard(&ctx, t, "", Some(&hearing))?;
            if departments.insert(code.clone(), s).is_some() {
                return Err(ctx.err("code", format!("duplicate department \"{code}\"")));
            }
        }
        Ok(ProcedureRules {
            version,
            hearing,
            departments,
        })
    }
}

/// A hearing standard; with `base`, only the amounts named change.
fn standard(
    ctx: &Ctx<'_>,
    t: &Table,
    prefix: &str,
    base: Option<&HearingStandard>,
) -> Result<HearingStandard, DataFileError> {
    let mut allowed = vec![
        "fine_person_fen",
        "fine_organisation_fen",
        "confiscation_person_fen",
        "confiscation_organisation_fen",
        "demolition",
    ];
    if base.is_some() {
        allowed.push("code");
    }
    ctx.check_keys(t, &allowed, prefix)?;
    let fen = |key: &str, fallback: Option<i64>| -> Result<i64, DataFileError> {
        let field = format!("{prefix}{key}");
        match (t.get(key), fallback) {
            (Some(Value::Integer(n)), _) if *n > 0 => Ok(*n),
            (Some(v), _) => Err(ctx.err(
                &field,
                format!("must be a positive whole number of fen, found {v}"),
            )),
            (None, Some(f)) => Ok(f),
            (None, None) => Err(ctx.err(&field, "is required")),
        }
    };
    Ok(HearingStandard {
        fine_person_fen: fen("fine_person_fen", base.map(|b| b.fine_person_fen))?,
        fine_organisation_fen: fen(
            "fine_organisation_fen",
            base.map(|b| b.fine_organisation_fen),
        )?,
        confiscation_person_fen: fen(
            "confiscation_person_fen",
            base.map(|b| b.confiscation_person_fen),
        )?,
        confiscation_organisation_fen: fen(
            "confiscation_organisation_fen",
            base.map(|b| b.confiscation_organisation_fen),
        )?,
        demolition: match t.get("demolition") {
            None => base.is_none_or(|b| b.demolition),
            Some(Value::Boolean(b)) => *b,
            Some(v) => {
                return Err(ctx.err(
                    &format!("{prefix}demolition"),
                    format!("must be true or false, found {}", v.type_str()),
                ));
            }
        },
    })
}

/// Why a decision cannot be made yet, naming the missing step and the article that requires it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error(
        "at least two enforcement officers handle a case (行政处罚法 第四十二条); this one has {0}"
    )]
    TooFewOfficers(usize),
    #[error(
        "missing step: prior notice (行政处罚事先告知, 第四十四条) of the intended penalty and the party's rights has not been given"
    )]
    NoNotice,
    #[error(
        "the decision ({decided}) is heavier than the penalty notified ({notified}): give a new prior notice (第四十四条); a penalty is never made heavier because of the party's statement and defence (第四十五条)"
    )]
    HeavierThanNotified { notified: String, decided: String },
    #[error(
        "missing step: the party's statement and defence (陈述申辩) have not been heard and answered, nor waived, since the notice (第四十五条; without them no decision is made, 第六十二条)"
    )]
    NoStatement,
    #[error(
        "missing step: the hearing window — the party may ask for a hearing until {ends} (five working days from the notice, 第六十四条): decide after that day, or record the party's waiver"
    )]
    HearingWindowOpen { ends: NaiveDate },
    #[error(
        "missing step: the hearing the party asked for (第六十三条、第六十四条) has not been held and recorded"
    )]
    HearingNotHeld,
    #[error(
        "missing step: collective discussion by the heads (集体讨论, 第五十七条), which a complex or serious case is decided by"
    )]
    NoCollectiveDiscussion,
    #[error(
        "the simple procedure (第五十一条) is for a warning, or a fine of at most 200 yuan on a citizen or 3,000 yuan on an organisation, where the facts are clear: {0}"
    )]
    NotSimple(String),
}

impl Refusal {
    /// The missing step (or field) a refusal names, for the error's field.
    pub fn step(&self) -> &'static str {
        match self {
            Refusal::TooFewOfficers(_) => "officers",
            Refusal::NoNotice | Refusal::HeavierThanNotified { .. } => "notice",
            Refusal::NoStatement => "statement",
            Refusal::HearingWindowOpen { .. } | Refusal::HearingNotHeld => "hearing",
            Refusal::NoCollectiveDiscussion => "collective_discussion",
            Refusal::NotSimple(_) => "procedure",
        }
    }
}

/// A decision about to be made, with what the procedure looks at.
#[derive(Debug, Clone)]
pub struct Decision<'a> {
    pub procedure: Procedure,
    /// The penalty it imposes; none for an outcome that is not a penalty.
    pub penalty: Option<Penalty>,
    pub party: PartyKind,
    /// The officers handling the case.
    pub officers: usize,
    pub complex: bool,
    /// A major decision (its legal review comes first, then the collective discussion).
    pub major: bool,
    pub steps: &'a [Step],
    pub now: DateTime<Utc>,
    pub calendar: &'a Calendar,
    pub hearing: &'a HearingStandard,
}

/// The most on-the-spot fine: 200 yuan on a citizen, 3,000 on an organisation (第五十一条).
pub const SIMPLE_FINE_PERSON_FEN: i64 = 20_000;
pub const SIMPLE_FINE_ORGANISATION_FEN: i64 = 300_000;

/// The collective discussion this decision needs: an ordinary-procedure penalty on a complex
/// case or a major decision (第五十七条).
pub fn needs_discussion(d: &Decision<'_>) -> bool {
    d.procedure == Procedure::Ordinary && d.penalty.is_some() && (d.complex || d.major)
}

/// Whether the heads' collective discussion is recorded.
pub fn discussed(steps: &[Step]) -> bool {
    steps
        .iter()
        .any(|s| s.kind == StepKind::CollectiveDiscussion)
}

/// Whether the decision may be made (for a major one: proposed for its legal review) now, or
/// the first missing step. The collective discussion of a major decision is not asked here:
/// it follows the legal review ([`needs_discussion`], [`discussed`]).
pub fn check(d: &Decision<'_>) -> Result<(), Refusal> {
    if d.officers < 2 {
        return Err(Refusal::TooFewOfficers(d.officers));
    }
    let Some(penalty) = d.penalty else {
        return Ok(());
    };
    let heard = |since: Option<DateTime<Utc>>| {
        d.steps.iter().any(|s| {
            matches!(s.kind, StepKind::Statement | StepKind::StatementWaived)
                && since.is_none_or(|t| s.at >= t)
        })
    };
    if d.procedure == Procedure::Simple {
        let limit = match d.party {
            PartyKind::Person => SIMPLE_FINE_PERSON_FEN,
            PartyKind::Organisation => SIMPLE_FINE_ORGANISATION_FEN,
        };
        let why = if !matches!(penalty.kind, OutcomeKind::Warning | OutcomeKind::Fine) {
            Some(format!("a {} is neither", penalty.kind.as_str()))
        } else if penalty.confiscates {
            Some("it confiscates".to_owned())
        } else if penalty.fine_fen > limit {
            Some(format!("a fine of {}", penalty.describe()))
        } else if d.complex {
            Some("the case is complex".to_owned())
        } else {
            None
        };
        if let Some(why) = why {
            return Err(Refusal::NotSimple(why));
        }
        // Told and heard on the spot (第四十四条、第四十五条 apply to every procedure).
        return if heard(None) {
            Ok(())
        } else {
            Err(Refusal::NoStatement)
        };
    }
    let Some(notice) = d
        .steps
        .iter()
        .filter(|s| s.kind == StepKind::Notice)
        .max_by_key(|s| s.at)
    else {
        return Err(Refusal::NoNotice);
    };
    if let Some(notified) = notice.intended
        && penalty.heavier_than(&notified)
    {
        return Err(Refusal::HeavierThanNotified {
            notified: notified.describe(),
            decided: penalty.describe(),
        });
    }
    if !heard(Some(notice.at)) {
        return Err(Refusal::NoStatement);
    }
    // The hearing is due on what was notified (the party's right is decided by the notice).
    let notified = notice.intended.unwrap_or(penalty);
    if d.hearing.due(&notified, d.party) || d.hearing.due(&penalty, d.party) {
        let after = |kind: StepKind| {
            d.steps
                .iter()
                .filter(|s| s.kind == kind && s.at >= notice.at)
                .map(|s| s.at)
                .max()
        };
        match (
            after(StepKind::HearingRequested),
            after(StepKind::HearingHeld),
            after(StepKind::HearingWaived),
        ) {
            (Some(asked), held, _) if held.is_none_or(|h| h < asked) => {
                return Err(Refusal::HearingNotHeld);
            }
            (Some(_), _, _) | (None, _, Some(_)) => {}
            (None, _, None) => {
                let ends = d.calendar.add_working_days(notice.at, 5).last_day;
                if Calendar::local_date(d.now) <= ends {
                    return Err(Refusal::HearingWindowOpen { ends });
                }
            }
        }
    }
    if d.complex && !d.major && !discussed(d.steps) {
        return Err(Refusal::NoCollectiveDiscussion);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().to_utc()
    }

    fn fine(fen: i64) -> Penalty {
        Penalty::of(OutcomeKind::Fine, fen, false, 0).unwrap()
    }

    fn step(kind: StepKind, when: &str) -> Step {
        Step {
            kind,
            at: at(when),
            intended: None,
        }
    }

    fn notice(when: &str, p: Penalty) -> Step {
        Step {
            kind: StepKind::Notice,
            at: at(when),
            intended: Some(p),
        }
    }

    fn decide<'a>(
        steps: &'a [Step],
        penalty: Penalty,
        now: &str,
        cal: &'a Calendar,
        rules: &'a ProcedureRules,
    ) -> Result<(), Refusal> {
        check(&Decision {
            procedure: Procedure::Ordinary,
            penalty: Some(penalty),
            party: PartyKind::Person,
            officers: 2,
            complex: false,
            major: false,
            steps,
            now: at(now),
            calendar: cal,
            hearing: &rules.hearing,
        })
    }

    #[test]
    fn a_fine_waits_for_notice_defence_and_the_hearing_window() {
        let cal = Calendar::shipped();
        let rules = ProcedureRules::shipped();
        // 5,000 yuan on a citizen: at or above the shipped 1,000-yuan standard, a hearing is due.
        let p = fine(500_000);
        assert_eq!(
            decide(&[], p, "2026-05-20T02:00:00Z", &cal, &rules),
            Err(Refusal::NoNotice)
        );
        // Notified on Wednesday 2026-05-06 (Beijing), after the Labour Day holiday.
        let mut steps = vec![notice("2026-05-06T02:00:00Z", p)];
        assert_eq!(
            decide(&steps, p, "2026-05-20T02:00:00Z", &cal, &rules),
            Err(Refusal::NoStatement)
        );
        steps.push(step(StepKind::Statement, "2026-05-07T02:00:00Z"));
        // Five working days: 05-07, 05-08, 05-09 (a make-up working Saturday), 05-11, 05-12.
        assert_eq!(
            decide(&steps, p, "2026-05-12T09:00:00Z", &cal, &rules),
            Err(Refusal::HearingWindowOpen {
                ends: NaiveDate::from_ymd_opt(2026, 5, 12).unwrap()
            })
        );
        assert_eq!(
            decide(&steps, p, "2026-05-12T16:30:00Z", &cal, &rules),
            Ok(()),
            "00:30 on 05-13 in Beijing: the window is over"
        );
        // A heavier fine than notified needs a new notice.
        let err = decide(&steps, fine(600_000), "2026-05-20T02:00:00Z", &cal, &rules).unwrap_err();
        assert!(matches!(err, Refusal::HeavierThanNotified { .. }), "{err}");
        assert_eq!(err.step(), "notice");
        // A hearing asked for must be held.
        steps.push(step(StepKind::HearingRequested, "2026-05-08T02:00:00Z"));
        assert_eq!(
            decide(&steps, p, "2026-05-20T02:00:00Z", &cal, &rules),
            Err(Refusal::HearingNotHeld)
        );
        steps.push(step(StepKind::HearingHeld, "2026-05-15T02:00:00Z"));
        assert_eq!(
            decide(&steps, p, "2026-05-20T02:00:00Z", &cal, &rules),
            Ok(())
        );
    }

    #[test]
    fn a_small_fine_needs_no_hearing_window_and_a_waiver_ends_it() {
        let cal = Calendar::shipped();
        let rules = ProcedureRules::shipped();
        let small = fine(50_000);
        let steps = [
            notice("2026-05-06T02:00:00Z", small),
            step(StepKind::StatementWaived, "2026-05-06T03:00:00Z"),
        ];
        assert_eq!(
            decide(&steps, small, "2026-05-06T04:00:00Z", &cal, &rules),
            Ok(())
        );
        let big = fine(500_000);
        let steps = [
            notice("2026-05-06T02:00:00Z", big),
            step(StepKind::StatementWaived, "2026-05-06T03:00:00Z"),
            step(StepKind::HearingWaived, "2026-05-06T03:00:00Z"),
        ];
        assert_eq!(
            decide(&steps, big, "2026-05-06T04:00:00Z", &cal, &rules),
            Ok(())
        );
        // A statement from before the latest notice does not answer it.
        let steps = [
            step(StepKind::StatementWaived, "2026-05-01T03:00:00Z"),
            notice("2026-05-06T02:00:00Z", small),
        ];
        assert_eq!(
            decide(&steps, small, "2026-05-20T04:00:00Z", &cal, &rules),
            Err(Refusal::NoStatement)
        );
    }

    #[test]
    fn officers_discussion_and_the_simple_procedure() {
        let cal = Calendar::shipped();
        let rules = ProcedureRules::shipped();
        let warning = Penalty::of(OutcomeKind::Warning, 0, false, 0).unwrap();
        let heard = [step(StepKind::Statement, "2026-05-06T02:00:00Z")];
        let mut d = Decision {
            procedure: Procedure::Simple,
            penalty: Some(warning),
            party: PartyKind::Person,
            officers: 1,
            complex: false,
            major: false,
            steps: &heard,
            now: at("2026-05-06T03:00:00Z"),
            calendar: &cal,
            hearing: &rules.hearing,
        };
        assert_eq!(check(&d), Err(Refusal::TooFewOfficers(1)));
        d.officers = 2;
        assert_eq!(check(&d), Ok(()));
        d.penalty = Some(fine(20_000));
        assert_eq!(check(&d), Ok(()), "200 yuan on a citizen is on the spot");
        d.penalty = Some(fine(20_001));
        assert_eq!(check(&d).unwrap_err().step(), "procedure");
        d.party = PartyKind::Organisation;
        assert_eq!(check(&d), Ok(()), "up to 3,000 yuan on an organisation");
        d.steps = &[];
        assert_eq!(check(&d), Err(Refusal::NoStatement));
        // Ordinary, complex: the heads discuss it.
        let steps = [
            notice("2026-05-06T02:00:00Z", warning),
            step(StepKind::StatementWaived, "2026-05-06T03:00:00Z"),
        ];
        d.procedure = Procedure::Ordinary;
        d.penalty = Some(warning);
        d.complex = true;
        d.steps = &steps;
        assert_eq!(check(&d), Err(Refusal::NoCollectiveDiscussion));
        assert!(needs_discussion(&d));
        // A major one goes to its legal review first; the discussion follows.
        d.major = true;
        assert_eq!(check(&d), Ok(()));
        assert!(needs_discussion(&d) && !discussed(d.steps));
        // Education is no penalty: no notice needed, but still two officers.
        d.penalty = None;
        d.complex = false;
        d.steps = &[];
        assert_eq!(check(&d), Ok(()));
    }

    #[test]
    fn the_shipped_standards_load_and_broken_ones_name_the_field() {
        let rules = ProcedureRules::shipped();
        let ps = DepartmentCode::parse("public_security").unwrap();
        assert_eq!(rules.hearing_for(Some(&ps)).fine_person_fen, 200_000);
        assert_eq!(rules.hearing_for(None).fine_person_fen, 100_000);
        let demolition = Penalty::of(OutcomeKind::Demolition, 0, false, 0).unwrap();
        assert!(rules.hearing.due(&demolition, PartyKind::Person));
        for (src, field) in [
            ("version = \"x\"\n", "hearing"),
            (
                "version = \"x\"\n[hearing]\nfine_person_fen = 1\n",
                "hearing.fine_organisation_fen",
            ),
            (
                &SHIPPED.replace("fine_person_fen = 100000", "fine_person_fen = -1"),
                "hearing.fine_person_fen",
            ),
            (&format!("{SHIPPED}\nextra = 1\n"), "extra"),
        ] {
            let err = ProcedureRules::from_toml_str(src, "p.toml")
                .unwrap_err()
                .to_string();
            assert!(err.contains(field), "{field}: {err}");
        }
    }
}
