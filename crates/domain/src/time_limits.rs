//! Time limits as policy data (办理时限): the versioned TOML of how long each party has for each
//! obligation, per department and matter class, and the deadlines they give on the calendar.

use std::fmt;

use chrono::{DateTime, Datelike, Duration, NaiveTime, TimeZone, Utc};
use toml::{Table, Value};

use crate::calendar::{Calendar, Deadline};
use crate::ids::DepartmentCode;

crate::state::named_enum! {
    /// An obligation a clock watches.
    pub enum ObligationKind: "obligation kind" {
        /// A department signs for a referral (签收), from its dispatch.
        SignFor => "sign_for",
        /// A department accepts or returns a referral (受理或退回), from its dispatch.
        AcceptOrReturn => "accept_or_return",
        /// A department concludes what it was referred (办结), from its first dispatch of the case.
        Conclude => "conclude",
        /// The case as a whole is concluded by some department, from its first dispatch.
        CaseConclude => "case_conclude",
        /// The joint meeting decides a joint case, from its submission.
        JointDecision => "joint_decision",
        /// A penalty case is decided within 90 days of its opening (行政处罚法 第六十条).
        PenaltyDecision => "penalty_decision",
    }
}

crate::state::named_enum! {
    /// Why a case is on the chair's supervision list (督办).
    pub enum SupervisionReason: "supervision reason" {
        /// An obligation's clock ran past a threshold.
        Overdue => "overdue",
        /// The case was returned as often as the cap allows.
        ReturnCap => "return_cap",
    }
}

crate::state::named_enum! {
    /// Where a department's request for more time (延期) stands with the chair.
    pub enum ExtensionStatus: "extension request status" {
        Pending => "pending",
        Granted => "granted",
        Refused => "refused",
    }
}

crate::state::named_enum! {
    /// How the department and board limits count.
    pub enum Unit: "time unit" {
        WorkingDays => "working_days",
        OfficeHours => "office_hours",
    }
}

/// Every limit, in the policy's unit unless its comment says otherwise.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub sign_for: u32,
    pub accept_or_return: u32,
    pub conclude: u32,
    pub joint_decision: u32,
    /// Working days (the review service's own).
    pub legal_review: u32,
    /// Working days.
    pub legal_review_extension: u32,
    /// Working days (the disclosure service's own).
    pub disclose_penalty: u32,
    /// Working days.
    pub disclose_other: u32,
    /// Natural days.
    pub penalty_decision_days: u32,
    pub escalate_after: u32,
    /// Working days.
    pub max_extension: u32,
    pub max_returns_per_case: u32,
}

const LIMIT_FIELDS: &[&str] = &[
    "sign_for",
    "accept_or_return",
    "conclude",
    "joint_decision",
    "legal_review",
    "legal_review_extension",
    "disclose_penalty",
    "disclose_other",
    "penalty_decision_days",
    "escalate_after",
    "max_extension",
    "max_returns_per_case",
];

impl Limits {
    fn slot(&mut self, field: &str) -> &mut u32 {
        match field {
            "sign_for" => &mut self.sign_for,
            "accept_or_return" => &mut self.accept_or_return,
            "conclude" => &mut self.conclude,
            "joint_decision" => &mut self.joint_decision,
            "legal_review" => &mut self.legal_review,
            "legal_review_extension" => &mut self.legal_review_extension,
            "disclose_penalty" => &mut self.disclose_penalty,
            "disclose_other" => &mut self.disclose_other,
            "penalty_decision_days" => &mut self.penalty_decision_days,
            "escalate_after" => &mut self.escalate_after,
            "max_extension" => &mut self.max_extension,
            _ => &mut self.max_returns_per_case,
        }
    }

    /// The limit of an obligation, in its own unit.
    pub fn of(&self, kind: ObligationKind) -> u32 {
        match kind {
            ObligationKind::SignFor => self.sign_for,
            ObligationKind::AcceptOrReturn => self.accept_or_return,
            ObligationKind::Conclude | ObligationKind::CaseConclude => self.conclude,
            ObligationKind::JointDecision => self.joint_decision,
            ObligationKind::PenaltyDecision => self.penalty_decision_days,
        }
    }
}

/// A rule narrowing the defaults to a department, a matter class, or both.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    pub department: Option<DepartmentCode>,
    /// The letters before the dash of a matter code (`TD` for `TD-001`).
    pub matter_class: Option<String>,
    /// The limits the rule names; the others come from the less specific rules.
    overrides: Vec<(&'static str, u32)>,
}

/// Office hours on a working day, for a county that counts hours.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OfficeHours {
    pub open: NaiveTime,
    pub close: NaiveTime,
}

/// The loaded policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimeLimits {
    pub version: String,
    pub unit: Unit,
    pub office_hours: Option<OfficeHours>,
    pub defaults: Limits,
    pub rules: Vec<Rule>,
}

/// Why a time-limits file refuses to load; names the file, the entry and the field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimeLimitsError {
    pub file: String,
    pub entry: Option<String>,
    pub field: Option<String>,
    pub message: String,
}

impl fmt::Display for TimeLimitsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: ", self.file)?;
        if let Some(entry) = &self.entry {
            write!(f, "{entry}: ")?;
        }
        if let Some(field) = &self.field {
            write!(f, "field {field:?}: ")?;
        }
        f.write_str(&self.message)
    }
}

impl std::error::Error for TimeLimitsError {}

const SHIPPED_FILE: &str = "deploy/data/time_limits.toml";
const SHIPPED: &str = include_str!("../../../deploy/data/time_limits.toml");

/// No limit is longer than ten years of days.
const MAX_LIMIT: i64 = 3660;

struct Ctx<'a> {
    file: &'a str,
    entry: Option<String>,
}

impl Ctx<'_> {
    fn err(&self, field: &str, message: impl Into<String>) -> TimeLimitsError {
        TimeLimitsError {
            file: self.file.to_owned(),
            entry: self.entry.clone(),
            field: (!field.is_empty()).then(|| field.to_owned()),
            message: message.into(),
        }
    }

    fn check_keys(&self, t: &Table, allowed: &[&str]) -> Result<(), TimeLimitsError> {
        for key in t.keys() {
            if !allowed.contains(&key.as_str()) {
                return Err(self.err(
                    key,
                    format!("unknown field; expected one of {}", allowed.join(", ")),
                ));
            }
        }
        Ok(())
    }

    fn limit(&self, t: &Table, field: &str) -> Result<Option<u32>, TimeLimitsError> {
        match t.get(field) {
            None => Ok(None),
            Some(Value::Integer(n)) if (0..=MAX_LIMIT).contains(n) => {
                Ok(Some(u32::try_from(*n).expect("in range")))
            }
            Some(Value::Integer(n)) => Err(self.err(
                field,
                format!("{n} is out of range: a limit is 0 to {MAX_LIMIT}"),
            )),
            Some(other) => Err(self.err(
                field,
                format!("must be a whole number, not a {}", other.type_str()),
            )),
        }
    }

    fn string<'t>(&self, t: &'t Table, field: &str) -> Result<Option<&'t str>, TimeLimitsError> {
        match t.get(field) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.as_str())),
            Some(other) => Err(self.err(
                field,
                format!("must be a string, not a {}", other.type_str()),
            )),
        }
    }

    fn time(&self, t: &Table, field: &str) -> Result<NaiveTime, TimeLimitsError> {
        let s = self
            .string(t, field)?
            .ok_or_else(|| self.err(field, "is required"))?;
        NaiveTime::parse_from_str(s, "%H:%M")
            .map_err(|_| self.err(field, format!("{s:?} is not a time of day like \"08:30\"")))
    }
}

impl TimeLimits {
    /// Parses and checks a policy; `file` only names the source in errors.
    pub fn from_toml_str(src: &str, file: &str) -> Result<TimeLimits, TimeLimitsError> {
        let top = Ctx { file, entry: None };
        let table: Table = toml::from_str(src).map_err(|e| {
            let line = e
                .span()
                .map(|s| src[..s.start.min(src.len())].matches('\n').count() + 1);
            top.err(
                "",
                match line {
                    Some(l) => format!("TOML error at line {l}: {}", e.message().trim()),
                    None => format!("TOML error: {}", e.message().trim()),
                },
            )
        })?;
        top.check_keys(
            &table,
            &["version", "unit", "office_hours", "defaults", "rule"],
        )?;
        let version = top
            .string(&table, "version")?
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .ok_or_else(|| top.err("version", "is required and must not be empty"))?
            .to_owned();
        let unit = match top.string(&table, "unit")? {
            None => Unit::WorkingDays,
            Some(u) => Unit::parse(u).map_err(|_| {
                top.err(
                    "unit",
                    format!("{u:?} is not a unit: use \"working_days\" or \"office_hours\""),
                )
            })?,
        };
        let office_hours = match table.get("office_hours") {
            None => None,
            Some(Value::Table(t)) => {
                let ctx = Ctx {
                    file,
                    entry: Some("office_hours".into()),
                };
                ctx.check_keys(t, &["open", "close"])?;
                let (open, close) = (ctx.time(t, "open")?, ctx.time(t, "close")?);
                if open >= close {
                    return Err(ctx.err("close", "must be after open"));
                }
                Some(OfficeHours { open, close })
            }
            Some(_) => return Err(top.err("office_hours", "must be a table")),
        };
        if unit == Unit::OfficeHours && office_hours.is_none() {
            return Err(top.err("office_hours", "is required when unit = \"office_hours\""));
        }
        let defaults_table = match table.get("defaults") {
            Some(Value::Table(t)) => t,
            Some(_) => return Err(top.err("defaults", "must be a table")),
            None => return Err(top.err("defaults", "is required")),
        };
        let ctx = Ctx {
            file,
            entry: Some("defaults".into()),
        };
        ctx.check_keys(defaults_table, LIMIT_FIELDS)?;
        let mut defaults = Limits {
            sign_for: 0,
            accept_or_return: 0,
            conclude: 0,
            joint_decision: 0,
            legal_review: 0,
            legal_review_extension: 0,
            disclose_penalty: 0,
            disclose_other: 0,
            penalty_decision_days: 0,
            escalate_after: 0,
            max_extension: 0,
            max_returns_per_case: 0,
        };
        for field in LIMIT_FIELDS {
            let v = ctx
                .limit(defaults_table, field)?
                .ok_or_else(|| ctx.err(field, "is required in [defaults]"))?;
            *defaults.slot(field) = v;
        }
        for field in ["sign_for", "accept_or_return", "conclude", "escalate_after"] {
            if *defaults.slot(field) == 0 {
                return Err(ctx.err(field, "must be at least 1"));
            }
        }

        let rules_value = table.get("rule");
        let rule_tables: Vec<&Table> = match rules_value {
            None => Vec::new(),
            Some(Value::Array(a)) => a
                .iter()
                .enumerate()
                .map(|(i, v)| {
                    v.as_table().ok_or_else(|| {
                        Ctx {
                            file,
                            entry: Some(format!("rule #{}", i + 1)),
                        }
                        .err("", "must be a table ([[rule]])")
                    })
                })
                .collect::<Result<_, _>>()?,
            Some(_) => return Err(top.err("rule", "must be an array of tables ([[rule]])")),
        };
        let mut rules: Vec<Rule> = Vec::new();
        for (i, t) in rule_tables.into_iter().enumerate() {
            let ctx = Ctx {
                file,
                entry: Some(format!("rule #{}", i + 1)),
            };
            let mut allowed = vec!["department", "matter_class"];
            allowed.extend(LIMIT_FIELDS.iter().filter(|f| is_per_rule(f)));
            ctx.check_keys(t, &allowed)?;
            let department = match ctx.string(t, "department")? {
                None => None,
                Some(d) => Some(
                    DepartmentCode::parse(d).map_err(|e| ctx.err("department", e.to_string()))?,
                ),
            };
            let matter_class = match ctx.string(t, "matter_class")? {
                None => None,
                Some(c)
                    if !c.is_empty()
                        && c.len() <= 16
                        && c.chars().all(|ch| ch.is_ascii_uppercase()) =>
                {
                    Some(c.to_owned())
                }
                Some(c) => {
                    return Err(ctx.err(
                        "matter_class",
                        format!("{c:?} is not a matter class: the capital letters before the dash of a matter code, like \"TD\""),
                    ));
                }
            };
            if department.is_none() && matter_class.is_none() {
                return Err(ctx.err(
                    "department",
                    "a rule names a department, a matter class, or both",
                ));
            }
            let mut overrides = Vec::new();
            for field in LIMIT_FIELDS.iter().filter(|f| is_per_rule(f)) {
                if let Some(v) = ctx.limit(t, field)? {
                    if v == 0 {
                        return Err(ctx.err(field, "must be at least 1"));
                    }
                    overrides.push((*field, v));
                }
            }
            if overrides.is_empty() {
                return Err(ctx.err("", "names no limit"));
            }
            if let Some(j) = rules
                .iter()
                .position(|r| r.department == department && r.matter_class == matter_class)
            {
                return Err(ctx.err(
                    if department.is_some() {
                        "department"
                    } else {
                        "matter_class"
                    },
                    format!("the same department and matter class as rule #{}", j + 1),
                ));
            }
            rules.push(Rule {
                department,
                matter_class,
                overrides,
            });
        }
        Ok(TimeLimits {
            version,
            unit,
            office_hours,
            defaults,
            rules,
        })
    }

    /// The policy shipped in `deploy/data/time_limits.toml`.
    pub fn shipped() -> TimeLimits {
        TimeLimits::from_toml_str(SHIPPED, SHIPPED_FILE).expect("the shipped time limits are valid")
    }

    /// The limits for a department's work on a case about `matters` (matter codes). The most
    /// specific rule wins: department and class, then department, then class, then defaults.
    /// Among several matters, the shortest limit of each kind holds.
    pub fn for_case(&self, department: Option<&DepartmentCode>, matters: &[String]) -> Limits {
        let classes: Vec<&str> = matters
            .iter()
            .map(|m| m.split('-').next().unwrap_or(m))
            .collect();
        let per_class = |class: Option<&str>| {
            let mut l = self.defaults;
            let mut apply =
                |dept: Option<&DepartmentCode>, class: Option<&str>| {
                    if let Some(r) = self.rules.iter().find(|r| {
                        r.department.as_ref() == dept && r.matter_class.as_deref() == class
                    }) {
                        for (f, v) in &r.overrides {
                            *l.slot(f) = *v;
                        }
                    }
                };
            // Least specific first, so the more specific ones overwrite.
            if class.is_some() {
                apply(None, class);
            }
            if department.is_some() {
                apply(department, None);
                if class.is_some() {
                    apply(department, class);
                }
            }
            l
        };
        if classes.is_empty() {
            return per_class(None);
        }
        let mut all = classes.into_iter().map(|c| per_class(Some(c)));
        let mut out = all.next().expect("not empty");
        for l in all {
            for f in LIMIT_FIELDS {
                let v = *l.clone().slot(f);
                let slot = out.slot(f);
                *slot = (*slot).min(v);
            }
        }
        out
    }

    /// The deadline of `kind` started at `start` under `limits`.
    pub fn deadline(
        &self,
        cal: &Calendar,
        kind: ObligationKind,
        limits: &Limits,
        start: DateTime<Utc>,
    ) -> Deadline {
        let n = limits.of(kind);
        match kind {
            ObligationKind::PenaltyDecision => cal.add_days(start, n),
            _ => self.add_units(cal, start, n),
        }
    }

    /// The second threshold: `escalate_after` units after the first deadline.
    pub fn second_threshold(&self, cal: &Calendar, limits: &Limits, first: &Deadline) -> Deadline {
        match self.unit {
            // Counted from the deadline's last day, which is not counted.
            Unit::WorkingDays => {
                cal.add_working_days(just_before(first.due), limits.escalate_after)
            }
            Unit::OfficeHours => self.add_units(cal, first.due, limits.escalate_after),
        }
    }

    /// A deadline moved by an extension of `working_days`: 24:00 of the n-th working day after
    /// the current deadline's last day.
    pub fn extend(cal: &Calendar, current: &Deadline, working_days: u32) -> Deadline {
        let d = cal.add_working_days(just_before(current.due), working_days);
        Deadline {
            provisional: d.provisional || current.provisional,
            ..d
        }
    }

    fn add_units(&self, cal: &Calendar, start: DateTime<Utc>, n: u32) -> Deadline {
        match (self.unit, self.office_hours) {
            (Unit::OfficeHours, Some(h)) => add_office_hours(cal, h, start, n),
            _ => cal.add_working_days(start, n),
        }
    }
}

/// What one look at a running clock finds. A clock has two thresholds: its deadline and, a
/// further `escalate_after` units on, the second; it reports each once as it passes (level 1,
/// then 2, for the chair's supervision list), and an obligation met, late or not, once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClockCheck {
    /// The obligation was met at `met_at`: report it, and the clock stops.
    Met { met_at: DateTime<Utc> },
    /// No threshold has passed since the last look (or an extension moved it): look again at
    /// `next_check_at`, or never once both have been reported.
    NotYet {
        next_check_at: Option<DateTime<Utc>>,
    },
    /// `threshold` passed: the clock goes to `level` (1 at the deadline, 2 at the second
    /// threshold), reports it, and is looked at again at `next_check_at` (the second threshold
    /// after the first, never after the second).
    Overdue {
        level: i64,
        threshold: DateTime<Utc>,
        next_check_at: Option<DateTime<Utc>>,
    },
}

/// A look at a clock at `level` (0: nothing reported yet) with `deadline` and `second`
/// threshold at `now`, its obligation met at `met_at` or not yet: the one rule the brigade's, the board's and
/// the departments' clocks follow.
pub fn check_clock(
    level: i64,
    deadline: DateTime<Utc>,
    second: DateTime<Utc>,
    met_at: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> ClockCheck {
    if let Some(met_at) = met_at {
        return ClockCheck::Met { met_at };
    }
    let threshold = if level == 0 { deadline } else { second };
    if threshold > now || level >= 2 {
        return ClockCheck::NotYet {
            next_check_at: (level < 2).then_some(threshold),
        };
    }
    let level = level + 1;
    ClockCheck::Overdue {
        level,
        threshold,
        next_check_at: (level == 1).then_some(second),
    }
}

/// When a clock just scheduled is first looked at: at its deadline, or never when its
/// obligation was met before the clock was scheduled (the look reports the met obligation).
pub fn first_check(
    deadline: DateTime<Utc>,
    met_at: Option<DateTime<Utc>>,
) -> Option<DateTime<Utc>> {
    met_at.is_none().then_some(deadline)
}

/// A return refused because the case was already returned as often as the cap allows: the
/// chair's settlement stands, and the case is on the chair's supervision list.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "case {case_id} was already returned {returns} times, the cap; the joint meeting's settlement stands and the case is on the chair's supervision list"
)]
pub struct ReturnCapReached {
    pub case_id: String,
    pub returns: u32,
}

/// Whether a department may return a case already returned `returns_so_far` times (by any
/// department) under a cap of `cap` returns per case.
pub fn check_return(case_id: &str, returns_so_far: u32, cap: u32) -> Result<(), ReturnCapReached> {
    if returns_so_far >= cap {
        return Err(ReturnCapReached {
            case_id: case_id.to_owned(),
            returns: returns_so_far,
        });
    }
    Ok(())
}

/// Whether the return that made `returns` returns of a case reached the cap, so the case goes
/// onto the chair's supervision list.
pub fn return_reaches_cap(returns: u32, cap: u32) -> bool {
    returns >= cap
}

/// Checks an extension request: at least one working day, at most `max_extension`.
pub fn check_extension(working_days: u32, max_extension: u32) -> Result<(), String> {
    if working_days == 0 {
        return Err("ask for at least one working day".into());
    }
    if working_days > max_extension {
        return Err(format!(
            "at most {max_extension} working days may be granted at once"
        ));
    }
    Ok(())
}

/// Whether a limit may differ per department or matter class (the legal ones may not).
fn is_per_rule(field: &str) -> bool {
    matches!(
        field,
        "sign_for"
            | "accept_or_return"
            | "conclude"
            | "joint_decision"
            | "escalate_after"
            | "max_extension"
    )
}

fn just_before(due: DateTime<Utc>) -> DateTime<Utc> {
    due - Duration::seconds(1)
}

/// `n` office hours from `start`, counted only inside office hours on working days (China time).
fn add_office_hours(cal: &Calendar, h: OfficeHours, start: DateTime<Utc>, n: u32) -> Deadline {
    let tz = chrono::FixedOffset::east_opt(8 * 3600).expect("UTC+8");
    let mut left = Duration::hours(i64::from(n.min(100_000)));
    let local = start.with_timezone(&tz);
    let mut day = local.date_naive();
    let mut from = local.time();
    let mut provisional = false;
    loop {
        let kind = cal.is_working_day(day);
        provisional |= kind.is_provisional();
        if kind.is_working() {
            let begin = from.max(h.open);
            if begin < h.close {
                let available = h.close - begin;
                if available >= left {
                    let end = day.and_time(begin) + left;
                    let due = tz
                        .from_local_datetime(&end)
                        .single()
                        .map(|t| t.with_timezone(&Utc))
                        .unwrap_or(DateTime::<Utc>::MAX_UTC);
                    return Deadline {
                        due,
                        last_day: end.date(),
                        provisional,
                    };
                }
                left -= available;
            }
        }
        match day.succ_opt() {
            Some(next) if next.year() < 9999 => day = next,
            _ => {
                return Deadline {
                    due: DateTime::<Utc>::MAX_UTC,
                    last_day: day,
                    provisional: true,
                };
            }
        }
        from = NaiveTime::MIN;
    }
}

#[cfg(test)]
mod tests {
    use chrono::NaiveDate;

    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn err(src: &str) -> TimeLimitsError {
        TimeLimits::from_toml_str(src, "t.toml").unwrap_err()
    }

    const MINIMAL: &str = "version = \"x\"\n[defaults]\nsign_for = 1\naccept_or_return = 2\nconclude = 15\njoint_decision = 10\nlegal_review = 7\nlegal_review_extension = 3\ndisclose_penalty = 7\ndisclose_other = 20\npenalty_decision_days = 90\nescalate_after = 5\nmax_extension = 10\nmax_returns_per_case = 2\n";

    #[test]
    fn the_shipped_policy_loads_with_the_usual_limits() {
        let p = TimeLimits::shipped();
        assert_eq!(p.unit, Unit::WorkingDays);
        let l = p.for_case(None, &[]);
        assert_eq!((l.sign_for, l.accept_or_return, l.conclude), (1, 2, 15));
        assert_eq!(l.penalty_decision_days, 90);
        assert_eq!(l.max_returns_per_case, 2);
    }

    #[test]
    fn the_most_specific_rule_wins_and_the_shortest_limit_among_matters() {
        let p = TimeLimits::shipped();
        let nr = DepartmentCode::parse("natural_resources").unwrap();
        let ps = DepartmentCode::parse("public_security").unwrap();
        assert_eq!(p.for_case(Some(&nr), &["TD-001".into()]).conclude, 22);
        assert_eq!(p.for_case(Some(&nr), &["CXGH-001".into()]).conclude, 15);
        assert_eq!(p.for_case(Some(&ps), &["GA-001".into()]).conclude, 22);
        assert_eq!(
            p.for_case(Some(&nr), &["TD-001".into(), "CXGH-001".into()])
                .conclude,
            15
        );
        assert_eq!(p.for_case(Some(&nr), &["TD-001".into()]).sign_for, 1);
    }

    #[test]
    fn a_broken_policy_names_the_entry_and_the_field() {
        let e = err(&MINIMAL.replace("sign_for = 1", "sign_fo = 1"));
        assert_eq!(e.entry.as_deref(), Some("defaults"));
        assert_eq!(e.field.as_deref(), Some("sign_fo"));
        let e = err(&MINIMAL.replace("conclude = 15", "conclude = \"15\""));
        assert_eq!(e.field.as_deref(), Some("conclude"));
        let e = err(&MINIMAL.replace("conclude = 15\n", ""));
        assert_eq!(e.field.as_deref(), Some("conclude"));
        assert!(e.to_string().contains("required"), "{e}");
        let e = err(&format!(
            "{MINIMAL}[[rule]]\ndepartment = \"Bad Dept\"\nconclude = 3\n"
        ));
        assert_eq!(
            (e.entry.as_deref(), e.field.as_deref()),
            (Some("rule #1"), Some("department"))
        );
        let e = err(&format!(
            "{MINIMAL}[[rule]]\nmatter_class = \"td\"\nconclude = 3\n"
        ));
        assert_eq!(e.field.as_deref(), Some("matter_class"));
        let e = err(&format!(
            "{MINIMAL}[[rule]]\ndepartment = \"forestry\"\nlegal_review = 3\n"
        ));
        assert_eq!(e.field.as_deref(), Some("legal_review"));
        let e = err(&format!(
            "{MINIMAL}[[rule]]\ndepartment = \"forestry\"\nconclude = 3\n[[rule]]\ndepartment = \"forestry\"\nsign_for = 2\n"
        ));
        assert_eq!(
            (e.entry.as_deref(), e.field.as_deref()),
            (Some("rule #2"), Some("department"))
        );
        let e = err(&MINIMAL.replace(
            "version = \"x\"",
            "version = \"x\"\nunit = \"office_hours\"",
        ));
        assert_eq!(e.field.as_deref(), Some("office_hours"));
        let e = err(&MINIMAL.replace("sign_for = 1", "sign_for = 0"));
        assert_eq!(e.field.as_deref(), Some("sign_for"));
    }

    #[test]
    fn returns_are_capped_per_case() {
        assert!(check_return("c", 0, 2).is_ok());
        assert!(check_return("c", 1, 2).is_ok());
        assert_eq!(check_return("c", 2, 2).unwrap_err().returns, 2);
        assert!(!return_reaches_cap(1, 2));
        assert!(return_reaches_cap(2, 2));
        assert!(check_extension(0, 10).is_err());
        assert!(check_extension(10, 10).is_ok());
        assert!(check_extension(11, 10).is_err());
    }

    #[test]
    fn deadlines_skip_the_national_day_week() {
        let p = TimeLimits::shipped();
        let cal = Calendar::shipped();
        let l = p.for_case(None, &[]);
        // Dispatched on Wednesday 2026-09-30; Oct 1–7 are holidays, Oct 10 (Sat) is worked.
        let start = at("2026-09-30T10:00:00+08:00");
        let d = p.deadline(&cal, ObligationKind::SignFor, &l, start);
        assert_eq!(d.last_day, NaiveDate::from_ymd_opt(2026, 10, 8).unwrap());
        let d = p.deadline(&cal, ObligationKind::AcceptOrReturn, &l, start);
        assert_eq!(d.last_day, NaiveDate::from_ymd_opt(2026, 10, 9).unwrap());
        let second = p.second_threshold(&cal, &l, &d);
        // Oct 10 (make-up Saturday), 12, 13, 14, 15.
        assert_eq!(
            second.last_day,
            NaiveDate::from_ymd_opt(2026, 10, 15).unwrap()
        );
        let e = TimeLimits::extend(&cal, &d, 3);
        assert_eq!(e.last_day, NaiveDate::from_ymd_opt(2026, 10, 13).unwrap());
    }

    #[test]
    fn a_penalty_case_is_decided_within_ninety_days() {
        let p = TimeLimits::shipped();
        let cal = Calendar::shipped();
        let l = p.for_case(None, &[]);
        // Opened 2026-03-01: day 90 is 2026-05-30, a Saturday; the next working day is Jun 1.
        let d = p.deadline(
            &cal,
            ObligationKind::PenaltyDecision,
            &l,
            at("2026-03-01T09:00:00+08:00"),
        );
        assert_eq!(d.last_day, NaiveDate::from_ymd_opt(2026, 6, 1).unwrap());
    }

    #[test]
    fn office_hours_count_only_open_time_on_working_days() {
        let src = MINIMAL.replace("version = \"x\"", "version = \"x\"\nunit = \"office_hours\"\n[office_hours]\nopen = \"08:30\"\nclose = \"17:30\"")
            .replace("sign_for = 1", "sign_for = 4");
        let p = TimeLimits::from_toml_str(&src, "t.toml").unwrap();
        let cal = Calendar::shipped();
        let l = p.for_case(None, &[]);
        // Friday 2026-09-25 is a holiday (Mid-Autumn); dispatched Thursday 16:00: 1.5 hours
        // that day, then the next working day is Monday 28th: 2.5 hours from 08:30.
        let d = p.deadline(
            &cal,
            ObligationKind::SignFor,
            &l,
            at("2026-09-24T16:00:00+08:00"),
        );
        assert_eq!(d.due, at("2026-09-28T11:00:00+08:00"));
    }

    #[test]
    fn a_clock_reports_each_threshold_once_then_stops() {
        let t = |h: i64| Utc.with_ymd_and_hms(2026, 3, 2, 0, 0, 0).unwrap() + Duration::hours(h);
        let (deadline, second) = (t(10), t(20));
        assert_eq!(
            check_clock(0, deadline, second, None, t(9)),
            ClockCheck::NotYet {
                next_check_at: Some(deadline)
            }
        );
        assert_eq!(
            check_clock(0, deadline, second, None, t(10)),
            ClockCheck::Overdue {
                level: 1,
                threshold: deadline,
                next_check_at: Some(second)
            }
        );
        // Looked at early (an extension moved the second threshold): wait for it.
        assert_eq!(
            check_clock(1, deadline, second, None, t(15)),
            ClockCheck::NotYet {
                next_check_at: Some(second)
            }
        );
        assert_eq!(
            check_clock(1, deadline, second, None, t(25)),
            ClockCheck::Overdue {
                level: 2,
                threshold: second,
                next_check_at: None
            }
        );
        assert_eq!(
            check_clock(2, deadline, second, None, t(99)),
            ClockCheck::NotYet {
                next_check_at: None
            }
        );
        // A met obligation is reported whatever the level.
        for level in 0..=2 {
            assert_eq!(
                check_clock(level, deadline, second, Some(t(4)), t(5)),
                ClockCheck::Met { met_at: t(4) }
            );
        }
        assert_eq!(first_check(deadline, None), Some(deadline));
        assert_eq!(first_check(deadline, Some(t(4))), None);
    }
}
