//! Time limits as policy data (办理时限): the versioned TOML of how long each party has for each
//! obligation, per department and matter class, and the deadlines they give on the calendar.

use std::fmt;

use chrono::{DateTime, Datelike, Duration, NaiveTime, TimeZone, Utc};
use toml::{Table, Value};

use crate::calendar::{Calendar, Deadline};
use crate::ids::DepartmentCode;
pub use crate::penalty_period::PenaltyRule;

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
    /// Natural days: the default rule's (`[penalty_decision] days`), not a `[defaults]` key;
    /// a department's own rule is [`TimeLimits::penalty_rule`].
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
    /// The period to decide a penalty case where no department's rule says otherwise
    /// (行政处罚法 第六十条).
    pub penalty_default: PenaltyRule,
    /// The departments' own penalty-decision rules (法律、法规、规章另有规定的，从其规定).
    pub penalty_rules: Vec<PenaltyRule>,
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

/// Settings this file once listed that nothing read: refused, saying where the limit lives.
const NOT_HERE: &[(&str, &str)] = &[
    (
        "legal_review",
        "the legal review's 7 working days are the review service's (liandong_domain::review)",
    ),
    (
        "legal_review_extension",
        "the legal review's extension of 3 working days is the review service's (liandong_domain::review)",
    ),
    (
        "disclose_penalty",
        "disclosure periods are the disclosure service's (liandong_domain::disclosure)",
    ),
    (
        "disclose_other",
        "disclosure periods are the disclosure service's (liandong_domain::disclosure)",
    ),
    (
        "penalty_decision_days",
        "the penalty-decision period is [penalty_decision] days, with per-department rules",
    ),
];

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
            &[
                "version",
                "unit",
                "office_hours",
                "defaults",
                "rule",
                "penalty_decision",
            ],
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
        for (key, why) in NOT_HERE {
            if defaults_table.contains_key(*key) {
                return Err(ctx.err(key, format!("is not a setting of this file: {why}")));
            }
        }
        ctx.check_keys(defaults_table, LIMIT_FIELDS)?;
        let (penalty_default, penalty_rules) = match table.get("penalty_decision") {
            Some(Value::Table(t)) => {
                crate::penalty_period::parse(t).map_err(|(entry, field, message)| {
                    TimeLimitsError {
                        file: file.to_owned(),
                        entry: Some(entry),
                        field: (!field.is_empty()).then_some(field),
                        message,
                    }
                })?
            }
            Some(_) => return Err(top.err("penalty_decision", "must be a table")),
            None => return Err(top.err("penalty_decision", "is required")),
        };
        let mut defaults = Limits {
            sign_for: 0,
            accept_or_return: 0,
            conclude: 0,
            joint_decision: 0,
            penalty_decision_days: penalty_default.days,
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
            penalty_default,
            penalty_rules,
        })
    }

    /// The penalty-decision rule of `department` (the competent department of the case's
    /// matter), or the default (行政处罚法 第六十条) when it has none.
    pub fn penalty_rule(&self, department: Option<&DepartmentCode>) -> &PenaltyRule {
        department
            .and_then(|d| {
                self.penalty_rules
                    .iter()
                    .find(|r| r.department.as_ref() == Some(d))
            })
            .unwrap_or(&self.penalty_default)
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

    const MINIMAL: &str = "version = \"x\"\n[defaults]\nsign_for = 1\naccept_or_return = 2\nconclude = 15\njoint_decision = 10\nescalate_after = 5\nmax_extension = 10\nmax_returns_per_case = 2\n[penalty_decision]\ndays = 90\ncitation = \"行政处罚法 第六十条\"\nsource = \"https://example.invalid/law\"\n";

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
    fn every_setting_is_read_or_refused_naming_it() {
        // Settings nothing read are refused, saying where the limit lives.
        for key in [
            "legal_review",
            "legal_review_extension",
            "disclose_penalty",
            "disclose_other",
            "penalty_decision_days",
        ] {
            let e = err(&MINIMAL.replace("sign_for = 1", &format!("sign_for = 1\n{key} = 7")));
            assert_eq!(
                (e.entry.as_deref(), e.field.as_deref()),
                (Some("defaults"), Some(key))
            );
            assert!(e.to_string().contains("not a setting of this file"), "{e}");
        }
        let e = err(&MINIMAL.replace("days = 90", "days = 90\nextended = 3"));
        assert_eq!(
            (e.entry.as_deref(), e.field.as_deref()),
            (Some("penalty_decision"), Some("extended"))
        );
        let e = err(&format!(
            "{MINIMAL}[[penalty_decision.rule]]\ndepartment = \"forestry\"\ndays = 90\ncitation = \"c\"\nsource = \"s\"\nexcluded = [\"lunch\"]\n"
        ));
        assert_eq!(
            (e.entry.as_deref(), e.field.as_deref()),
            (Some("penalty_decision.rule #1"), Some("excluded[0]"))
        );
        let e = err(&format!(
            "{MINIMAL}[[penalty_decision.rule]]\ndepartment = \"forestry\"\ndays = 90\ncitation = \"c\"\nsource = \"s\"\nmax_extension_days = 30\n"
        ));
        assert_eq!(e.field.as_deref(), Some("extension_approver"));
        let e = err(&MINIMAL.replace("[penalty_decision]\ndays = 90\n", "[penalty_decision]\n"));
        assert_eq!(e.field.as_deref(), Some("days"));
        let e = err(&MINIMAL.replace("citation = \"行政处罚法 第六十条\"\n", ""));
        assert_eq!(e.field.as_deref(), Some("citation"));
        let e = err(MINIMAL.split("[penalty_decision]").next().unwrap());
        assert_eq!(e.field.as_deref(), Some("penalty_decision"));
    }

    /// A market-regulation case filed on Monday 2 March 2026, suspended for an appraisal from
    /// 10 to 19 March (10 days not counted) and extended by 30 days with the head's approval:
    /// 90 + 10 + 30 = 130 days from 2 March is Friday 10 July 2026, a working day. A decision
    /// at 16:00 that day is on time; one at 09:00 on Saturday 11 July is late.
    #[test]
    fn a_suspended_and_extended_case_is_judged_on_its_last_lawful_day() {
        use crate::penalty_period::{ExcludedPeriod, ExclusionKind, Extension, Judgement, judge};
        let p = TimeLimits::shipped();
        let cal = Calendar::shipped();
        let date = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        let market = DepartmentCode::parse("market_regulation").unwrap();
        let rule = p.penalty_rule(Some(&market));
        assert_eq!((rule.days, rule.max_extension_days), (90, 30));
        let filed = at("2026-03-02T09:00:00+08:00");
        let appraisal = ExcludedPeriod {
            kind: ExclusionKind::Appraisal,
            start: date("2026-03-10"),
            end: date("2026-03-19"),
            reason: "产品质量鉴定".into(),
        };
        rule.check_excluded(date("2026-03-02"), date("2026-03-20"), &[], &appraisal)
            .expect("an appraisal is excluded under the market-regulation rule");
        let extension = Extension {
            days: 30,
            approver: "县市场监督管理局局长".into(),
            reason: "案情复杂".into(),
        };
        rule.check_extension(&[], &extension)
            .expect("30 days is what the rule allows");
        // Without anything: 90 days from 2 March is Sunday 31 May, moved to Monday 1 June.
        assert_eq!(
            rule.deadline(&cal, filed, &[], &[]).last_day,
            date("2026-06-01")
        );
        let d = rule.deadline(
            &cal,
            filed,
            std::slice::from_ref(&appraisal),
            std::slice::from_ref(&extension),
        );
        assert_eq!(d.last_day, date("2026-07-10"));
        assert_eq!(d.due, at("2026-07-11T00:00:00+08:00"));
        assert!(!d.provisional);
        assert_eq!(
            judge(&d, at("2026-07-10T16:00:00+08:00")),
            Judgement::OnTime
        );
        assert_eq!(
            judge(&d, at("2026-07-10T23:59:59+08:00")),
            Judgement::OnTime
        );
        assert_eq!(judge(&d, at("2026-07-11T09:00:00+08:00")), Judgement::Late);

        // One more day is beyond the rule, naming the field.
        let more = Extension {
            days: 1,
            ..extension.clone()
        };
        let refused = rule
            .check_extension(std::slice::from_ref(&extension), &more)
            .unwrap_err();
        assert_eq!(refused.field, "days");
        assert!(
            refused.message.contains("at most 30"),
            "{}",
            refused.message
        );
        // The default rule (the law alone) allows no extension and excludes nothing.
        let default = p.penalty_rule(Some(&DepartmentCode::parse("natural_resources").unwrap()));
        assert_eq!(default, &p.penalty_default);
        let refused = default.check_extension(&[], &extension).unwrap_err();
        assert_eq!(refused.field, "days");
        assert!(
            refused.message.contains("allows no extension"),
            "{}",
            refused.message
        );
        let refused = default
            .check_excluded(date("2026-03-02"), date("2026-03-20"), &[], &appraisal)
            .unwrap_err();
        assert_eq!(refused.field, "kind");
        // Overlapping, before filing, not yet ended, or without an approver: refused.
        let overlap = ExcludedPeriod {
            kind: ExclusionKind::Hearing,
            start: date("2026-03-19"),
            end: date("2026-03-20"),
            reason: "听证".into(),
        };
        assert_eq!(
            rule.check_excluded(
                date("2026-03-02"),
                date("2026-03-20"),
                std::slice::from_ref(&appraisal),
                &overlap
            )
            .unwrap_err()
            .field,
            "start"
        );
        let early = ExcludedPeriod {
            start: date("2026-03-01"),
            ..overlap.clone()
        };
        assert_eq!(
            rule.check_excluded(date("2026-03-02"), date("2026-03-20"), &[], &early)
                .unwrap_err()
                .field,
            "start"
        );
        assert_eq!(
            rule.check_excluded(date("2026-03-02"), date("2026-03-19"), &[], &overlap)
                .unwrap_err()
                .field,
            "end"
        );
        let nobody = Extension {
            approver: " ".into(),
            ..extension
        };
        assert_eq!(
            rule.check_extension(&[], &nobody).unwrap_err().field,
            "approver"
        );
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
