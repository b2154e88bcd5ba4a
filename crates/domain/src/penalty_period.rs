//! The period to decide a penalty case (行政处罚法 第六十条): 90 natural days from filing (立案)
//! "unless a law, regulation or rule provides otherwise" (法律、法规、规章另有规定的，从其规定).
//! The departmental rules that do provide otherwise are data (`[penalty_decision]` in the
//! time-limits file), each with its citation: how many days, which periods are not counted
//! (excluded periods: suspension, hearing, public notice, testing, appraisal …), and how many
//! days of extension the department's head may approve. The deadline is the filing date plus
//! the period, plus every excluded day, plus every approved extension; a last day that is a
//! holiday or rest day moves to the next working day (民法典 第二百零三条).

use chrono::{DateTime, NaiveDate, Utc};
use toml::{Table, Value};

use crate::calendar::{Calendar, Deadline};
use crate::ids::DepartmentCode;

crate::state::named_enum! {
    /// A kind of period that a departmental rule does not count toward the decision period.
    pub enum ExclusionKind: "excluded period kind" {
        /// The case suspended (中止).
        Suspension => "suspension",
        /// A hearing (听证).
        Hearing => "hearing",
        /// A public notice, e.g. service by announcement (公告).
        PublicNotice => "public_notice",
        /// Testing (检测).
        Testing => "testing",
        /// Inspection (检验).
        Inspection => "inspection",
        /// Quarantine inspection (检疫).
        Quarantine => "quarantine",
        /// Appraisal (鉴定).
        Appraisal => "appraisal",
        /// Identification by the right holder (权利人辨认或者鉴别).
        Identification => "identification",
        /// An order to refund overcharged prices (责令退还多收价款).
        RefundOrder => "refund_order",
    }
}

/// How long one department (or, without one, the law itself) gives to decide a penalty case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PenaltyRule {
    /// `None` for the default: 行政处罚法 第六十条 alone.
    pub department: Option<DepartmentCode>,
    /// Natural days from filing.
    pub days: u32,
    /// The kinds of periods the rule does not count.
    pub excluded: Vec<ExclusionKind>,
    /// The most days of extension that may be approved over the case's life (0: none).
    pub max_extension_days: u32,
    /// Who approves an extension under the rule (e.g. the department's head).
    pub extension_approver: String,
    /// The law or rule and article the period comes from.
    pub citation: String,
    /// Where the citation was checked.
    pub source: String,
}

/// A period not counted, both dates included (local dates in China).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExcludedPeriod {
    pub kind: ExclusionKind,
    pub start: NaiveDate,
    pub end: NaiveDate,
    pub reason: String,
}

impl ExcludedPeriod {
    /// The days it adds to the period: every day from start to end.
    pub fn days(&self) -> u32 {
        u32::try_from((self.end - self.start).num_days() + 1).unwrap_or(0)
    }
}

/// An extension approved under the rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Extension {
    pub days: u32,
    pub approver: String,
    pub reason: String,
}

/// Whether a decision came within the period.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Judgement {
    /// Decided before 24:00 of the last lawful day.
    OnTime,
    /// Decided after it.
    Late,
}

impl Judgement {
    pub fn as_str(self) -> &'static str {
        match self {
            Judgement::OnTime => "on_time",
            Judgement::Late => "late",
        }
    }
}

/// A refused excluded period or extension: the field at fault and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub field: &'static str,
    pub message: String,
}

fn refuse(field: &'static str, message: impl Into<String>) -> Refusal {
    Refusal {
        field,
        message: message.into(),
    }
}

impl PenaltyRule {
    /// What the rule is called in messages (its citation is on the case's period).
    fn name(&self) -> String {
        match &self.department {
            Some(d) => format!("{d}'s penalty-decision rule"),
            None => "the default penalty-decision rule (行政处罚法 第六十条 alone)".to_owned(),
        }
    }

    /// The deadline of a case filed at `filed_at` with these excluded periods and extensions.
    pub fn deadline(
        &self,
        cal: &Calendar,
        filed_at: DateTime<Utc>,
        excluded: &[ExcludedPeriod],
        extensions: &[Extension],
    ) -> Deadline {
        let total = u64::from(self.days)
            + excluded.iter().map(|e| u64::from(e.days())).sum::<u64>()
            + extensions.iter().map(|e| u64::from(e.days)).sum::<u64>();
        cal.add_days(filed_at, u32::try_from(total).unwrap_or(u32::MAX))
    }

    /// Checks a new excluded period against the rule, the filing date, today and the periods
    /// already recorded (which it may not overlap).
    pub fn check_excluded(
        &self,
        filed_on: NaiveDate,
        today: NaiveDate,
        recorded: &[ExcludedPeriod],
        new: &ExcludedPeriod,
    ) -> Result<(), Refusal> {
        if !self.excluded.contains(&new.kind) {
            return Err(refuse(
                "kind",
                if self.excluded.is_empty() {
                    format!(
                        "{} excludes no period from the {} days",
                        self.name(),
                        self.days
                    )
                } else {
                    format!(
                        "{} does not exclude {} periods; it excludes {}",
                        self.name(),
                        new.kind.as_str(),
                        self.excluded
                            .iter()
                            .map(|k| k.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    )
                },
            ));
        }
        if new.start < filed_on {
            return Err(refuse(
                "start",
                format!("{} is before the case was filed on {filed_on}", new.start),
            ));
        }
        if new.end < new.start {
            return Err(refuse(
                "end",
                format!("{} is before the start, {}", new.end, new.start),
            ));
        }
        if new.end > today {
            return Err(refuse(
                "end",
                format!(
                    "{} is after today ({today}): a period is recorded once it has ended",
                    new.end
                ),
            ));
        }
        if let Some(o) = recorded
            .iter()
            .find(|o| o.start <= new.end && new.start <= o.end)
        {
            return Err(refuse(
                "start",
                format!(
                    "{} to {} overlaps the {} period recorded from {} to {}",
                    new.start,
                    new.end,
                    o.kind.as_str(),
                    o.start,
                    o.end
                ),
            ));
        }
        Ok(())
    }

    /// Checks a new extension of `days` against the rule and those already approved.
    pub fn check_extension(&self, approved: &[Extension], new: &Extension) -> Result<(), Refusal> {
        if self.max_extension_days == 0 {
            return Err(refuse(
                "days",
                format!("{} allows no extension", self.name()),
            ));
        }
        if new.days == 0 {
            return Err(refuse("days", "extend by at least one day"));
        }
        let so_far: u32 = approved.iter().map(|e| e.days).sum();
        if so_far.saturating_add(new.days) > self.max_extension_days {
            return Err(refuse(
                "days",
                format!(
                    "{} allows at most {} days of extension in all; {so_far} already approved, {} asked",
                    self.name(),
                    self.max_extension_days,
                    new.days
                ),
            ));
        }
        if new.approver.trim().is_empty() {
            return Err(refuse(
                "approver",
                format!(
                    "name who approved the extension ({})",
                    self.extension_approver
                ),
            ));
        }
        if new.reason.trim().is_empty() {
            return Err(refuse("reason", "give the reason for the extension"));
        }
        Ok(())
    }
}

/// A decision at `decided_at` judged against the deadline: on time up to 24:00 of the last day.
pub fn judge(deadline: &Deadline, decided_at: DateTime<Utc>) -> Judgement {
    if decided_at < deadline.due {
        Judgement::OnTime
    } else {
        Judgement::Late
    }
}

/// Why `[penalty_decision]` refuses to load: the entry, the field and the message.
pub(crate) type ParseError = (String, String, String);

fn perr(entry: &str, field: &str, message: impl Into<String>) -> ParseError {
    (entry.to_owned(), field.to_owned(), message.into())
}

const RULE_FIELDS: &[&str] = &[
    "days",
    "excluded",
    "max_extension_days",
    "extension_approver",
    "citation",
    "source",
];

fn parse_rule(
    t: &Table,
    entry: &str,
    department: Option<DepartmentCode>,
) -> Result<PenaltyRule, ParseError> {
    let string = |field: &str, required: bool| -> Result<String, ParseError> {
        match t.get(field) {
            None if required => Err(perr(entry, field, "is required")),
            None => Ok(String::new()),
            Some(Value::String(s)) if required && s.trim().is_empty() => {
                Err(perr(entry, field, "must not be empty"))
            }
            Some(Value::String(s)) => Ok(s.trim().to_owned()),
            Some(other) => Err(perr(
                entry,
                field,
                format!("must be a string, not a {}", other.type_str()),
            )),
        }
    };
    let number = |field: &str| -> Result<Option<u32>, ParseError> {
        match t.get(field) {
            None => Ok(None),
            Some(Value::Integer(n)) if (0..=3660).contains(n) => {
                Ok(Some(u32::try_from(*n).expect("in range")))
            }
            Some(Value::Integer(n)) => Err(perr(
                entry,
                field,
                format!("{n} is out of range: 0 to 3660 days"),
            )),
            Some(other) => Err(perr(
                entry,
                field,
                format!("must be a whole number, not a {}", other.type_str()),
            )),
        }
    };
    let days = number("days")?.ok_or_else(|| perr(entry, "days", "is required"))?;
    if days == 0 {
        return Err(perr(entry, "days", "must be at least 1"));
    }
    let excluded = match t.get("excluded") {
        None => Vec::new(),
        Some(Value::Array(a)) => {
            let mut kinds = Vec::new();
            for (i, v) in a.iter().enumerate() {
                let field = format!("excluded[{i}]");
                let s = v
                    .as_str()
                    .ok_or_else(|| perr(entry, &field, "must be a string"))?;
                let kind = ExclusionKind::parse(s).map_err(|_| {
                    perr(
                        entry,
                        &field,
                        format!(
                            "{s:?} is not a kind of excluded period: one of {}",
                            ExclusionKind::ALL
                                .iter()
                                .map(|k| k.as_str())
                                .collect::<Vec<_>>()
                                .join(", ")
                        ),
                    )
                })?;
                if kinds.contains(&kind) {
                    return Err(perr(entry, &field, format!("{s:?} is listed twice")));
                }
                kinds.push(kind);
            }
            kinds
        }
        Some(other) => {
            return Err(perr(
                entry,
                "excluded",
                format!("must be a list of strings, not a {}", other.type_str()),
            ));
        }
    };
    let max_extension_days = number("max_extension_days")?.unwrap_or(0);
    let extension_approver = string("extension_approver", false)?;
    if max_extension_days > 0 && extension_approver.is_empty() {
        return Err(perr(
            entry,
            "extension_approver",
            "is required when max_extension_days is above 0: who approves an extension",
        ));
    }
    if max_extension_days == 0 && !extension_approver.is_empty() {
        return Err(perr(
            entry,
            "extension_approver",
            "names an approver, but max_extension_days allows no extension",
        ));
    }
    Ok(PenaltyRule {
        department,
        days,
        excluded,
        max_extension_days,
        extension_approver,
        citation: string("citation", true)?,
        source: string("source", true)?,
    })
}

/// The default rule and the departments' rules, from the `[penalty_decision]` table.
pub(crate) fn parse(t: &Table) -> Result<(PenaltyRule, Vec<PenaltyRule>), ParseError> {
    let mut allowed = RULE_FIELDS.to_vec();
    allowed.push("rule");
    check_keys(t, "penalty_decision", &allowed)?;
    let default = parse_rule(t, "penalty_decision", None)?;
    let mut rules: Vec<PenaltyRule> = Vec::new();
    match t.get("rule") {
        None => {}
        Some(Value::Array(a)) => {
            for (i, v) in a.iter().enumerate() {
                let entry = format!("penalty_decision.rule #{}", i + 1);
                let rt = v.as_table().ok_or_else(|| {
                    perr(&entry, "", "must be a table ([[penalty_decision.rule]])")
                })?;
                let mut allowed = RULE_FIELDS.to_vec();
                allowed.push("department");
                check_keys(rt, &entry, &allowed)?;
                let department = match rt.get("department") {
                    Some(Value::String(d)) => DepartmentCode::parse(d)
                        .map_err(|e| perr(&entry, "department", e.to_string()))?,
                    Some(_) => return Err(perr(&entry, "department", "must be a string")),
                    None => return Err(perr(&entry, "department", "is required")),
                };
                if let Some(j) = rules
                    .iter()
                    .position(|r| r.department.as_ref() == Some(&department))
                {
                    return Err(perr(
                        &entry,
                        "department",
                        format!("{department} already has rule #{}", j + 1),
                    ));
                }
                rules.push(parse_rule(rt, &entry, Some(department))?);
            }
        }
        Some(_) => {
            return Err(perr(
                "penalty_decision",
                "rule",
                "must be an array of tables ([[penalty_decision.rule]])",
            ));
        }
    }
    Ok((default, rules))
}

fn check_keys(t: &Table, entry: &str, allowed: &[&str]) -> Result<(), ParseError> {
    for key in t.keys() {
        if !allowed.contains(&key.as_str()) {
            return Err(perr(
                entry,
                key,
                format!("unknown field; expected one of {}", allowed.join(", ")),
            ));
        }
    }
    Ok(())
}
