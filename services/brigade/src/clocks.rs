//! The brigade's own clock: a case it filed (立案) as its own is decided within the period of
//! 行政处罚法 第六十条, or of the rule of the case's competent department where one says
//! otherwise (`[penalty_decision]` in the time limits, `liandong_domain::penalty_period`),
//! counted from filing, with the periods the rule does not count and the extensions its head
//! approved (recorded on the case: `RecordExcludedPeriod`, `RecordPeriodExtension`). Started
//! at filing and stopped with the case's status in the same transaction; a watcher computes the
//! deadline with the calendar and reports each threshold once, as `brigade.obligation_overdue`
//! (and `brigade.obligation_met` for a late decision), which the board puts on the chair's
//! supervision list. Deadlines computed beyond the loaded calendar years are recomputed at start.
//!
//! **Filing.** The brigade has no separate filing act (立案审批) yet: a case is filed when it
//! becomes the brigade's own, i.e. when it is reported and triaged in scope (its `created_at`),
//! or when the joint meeting reclassifies it in scope (that event's time); a case the brigade
//! takes up otherwise (sent back by the joint meeting, then assigned) is filed at its first
//! assignment.

use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};
use liandong_bus::{Change, NewEvent, Outbox};
use liandong_config::clock::SharedClock;
use liandong_domain::calendar::{Calendar, Deadline};
use liandong_domain::catalogue::Catalogue;
use liandong_domain::ids::{DepartmentCode, MatterCode};
use liandong_domain::penalty_period::{ExcludedPeriod, ExclusionKind, Extension, judge};
use liandong_domain::state::CaseStatus;
use liandong_domain::time_limits::{
    ClockCheck, ObligationKind, PenaltyRule, TimeLimits, check_clock,
};
use liandong_proto::brigade::v1 as pb;
use liandong_proto::events::v1 as ev;
use liandong_proto::time::to_ts;
use liandong_store::{Backend, Db, Tx};
use liandong_store::{with_db, with_tx};
use liandong_topology::AnyEvent;
use tokio_util::sync::CancellationToken;

/// The obligation id of a case's decision period.
pub fn obligation_id(case_id: &str) -> String {
    format!("{case_id}:penalty_decision")
}

/// The department whose penalty rule a case follows: the competent department (from the
/// catalogue) of its first deciding matter, else of its first matter.
pub fn rule_department(
    catalogue: &Catalogue,
    deciding: &[String],
    matters: &[String],
) -> Option<String> {
    deciding
        .iter()
        .chain(matters)
        .filter_map(|m| MatterCode::parse(m).ok())
        .find_map(|m| catalogue.matter(&m).map(|m| m.department.to_string()))
}

/// Files a case as the brigade's own at `filed_at`: its decision period starts. A case filed
/// already keeps its first filing.
pub async fn file(
    tx: &mut Tx,
    case_id: &str,
    town: &str,
    department: Option<&str>,
    filed_at: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    with_tx!(tx, |c| {
        sqlx::query(
            "INSERT INTO penalty_clocks (case_id, town, started_at, deadline, second_threshold, limit_text, level, \
             next_check_at, met_at, closed_by, department, provisional) \
             VALUES ($1,$2,$3,NULL,NULL,'',0,$3,NULL,NULL,$4,FALSE) ON CONFLICT (case_id) DO NOTHING",
        )
        .bind(case_id)
        .bind(town)
        .bind(filed_at)
        .bind(department)
        .execute(c)
        .await
        .map(|_| ())
    })
}

/// Stops the clock when the case is decided or leaves the brigade's hands; a case sent back to
/// `assigned` by the legal review keeps the clock of its filing.
pub async fn on_status(
    tx: &mut Tx,
    case_id: &str,
    status: CaseStatus,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    match status {
        s @ (CaseStatus::Concluded
        | CaseStatus::Closed
        | CaseStatus::Referred
        | CaseStatus::Joint
        | CaseStatus::AwaitingBoard
        | CaseStatus::Revoked) => with_tx!(tx, |c| sqlx::query(
            "UPDATE penalty_clocks SET met_at = $1, closed_by = $2, \
             next_check_at = CASE WHEN level > 0 THEN $1 ELSE NULL END \
             WHERE case_id = $3 AND met_at IS NULL"
        )
        .bind(now)
        .bind(s.as_str())
        .bind(case_id)
        .execute(c)
        .await
        .map(|_| ())),
        _ => Ok(()),
    }
}

#[derive(Debug, Clone, sqlx::FromRow)]
struct ClockRow {
    case_id: String,
    town: String,
    started_at: DateTime<Utc>,
    deadline: Option<DateTime<Utc>>,
    second_threshold: Option<DateTime<Utc>>,
    limit_text: String,
    level: i64,
    next_check_at: Option<DateTime<Utc>>,
    met_at: Option<DateTime<Utc>>,
    closed_by: Option<String>,
    department: Option<String>,
    provisional: bool,
}

const CLOCK_COLUMNS: &str = "case_id, town, started_at, deadline, second_threshold, limit_text, level, \
     next_check_at, met_at, closed_by, department, provisional";

const EXCLUDED_SQL: &str = "SELECT entry_id, kind, start_on, end_on, reason, recorded_by, recorded_at \
     FROM penalty_excluded_periods WHERE case_id = $1 ORDER BY start_on";
const EXTENSIONS_SQL: &str = "SELECT entry_id, days, approver, reason, recorded_by, recorded_at \
     FROM penalty_extensions WHERE case_id = $1 ORDER BY recorded_at, entry_id";

/// A recorded excluded period, as stored.
#[derive(Debug, Clone, sqlx::FromRow)]
struct ExcludedRow {
    entry_id: String,
    kind: String,
    start_on: String,
    end_on: String,
    reason: String,
    recorded_by: String,
    recorded_at: DateTime<Utc>,
}

/// A recorded extension, as stored.
#[derive(Debug, Clone, sqlx::FromRow)]
struct ExtensionRow {
    entry_id: String,
    days: i64,
    approver: String,
    reason: String,
    recorded_by: String,
    recorded_at: DateTime<Utc>,
}

/// A stored value that no longer reads: an error naming the table, the row and the column.
fn bad(table: &str, row: &str, column: &str, value: &str) -> sqlx::Error {
    sqlx::Error::Decode(
        format!("{table} row {row}: column {column}: {value:?} does not read").into(),
    )
}

impl ExcludedRow {
    fn period(&self) -> Result<ExcludedPeriod, sqlx::Error> {
        let t = "penalty_excluded_periods";
        let date = |col: &str, v: &str| {
            NaiveDate::parse_from_str(v, "%Y-%m-%d").map_err(|_| bad(t, &self.entry_id, col, v))
        };
        Ok(ExcludedPeriod {
            kind: ExclusionKind::parse(&self.kind)
                .map_err(|_| bad(t, &self.entry_id, "kind", &self.kind))?,
            start: date("start_on", &self.start_on)?,
            end: date("end_on", &self.end_on)?,
            reason: self.reason.clone(),
        })
    }
}

impl ExtensionRow {
    fn extension(&self) -> Result<Extension, sqlx::Error> {
        Ok(Extension {
            days: u32::try_from(self.days).map_err(|_| {
                bad(
                    "penalty_extensions",
                    &self.entry_id,
                    "days",
                    &self.days.to_string(),
                )
            })?,
            approver: self.approver.clone(),
            reason: self.reason.clone(),
        })
    }
}

/// A case's clock with what was recorded on it.
pub(crate) struct CaseClock {
    row: ClockRow,
    excluded: Vec<ExcludedRow>,
    extensions: Vec<ExtensionRow>,
}

impl CaseClock {
    /// The clock of `case_id`, if the case was filed, in the transaction.
    pub(crate) async fn load(tx: &mut Tx, case_id: &str) -> Result<Option<CaseClock>, sqlx::Error> {
        let sql = format!("SELECT {CLOCK_COLUMNS} FROM penalty_clocks WHERE case_id = $1");
        let row: Option<ClockRow> = with_tx!(tx, |c| sqlx::query_as(&sql)
            .bind(case_id)
            .fetch_optional(c)
            .await)?;
        let Some(row) = row else { return Ok(None) };
        let excluded: Vec<ExcludedRow> = with_tx!(tx, |c| sqlx::query_as(EXCLUDED_SQL)
            .bind(case_id)
            .fetch_all(c)
            .await)?;
        let extensions: Vec<ExtensionRow> = with_tx!(tx, |c| sqlx::query_as(EXTENSIONS_SQL)
            .bind(case_id)
            .fetch_all(c)
            .await)?;
        Ok(Some(CaseClock {
            row,
            excluded,
            extensions,
        }))
    }

    /// The clock of `case_id` for a read, outside any transaction (no write lock is taken).
    async fn read(db: &Db, case_id: &str) -> Result<Option<CaseClock>, sqlx::Error> {
        let sql = format!("SELECT {CLOCK_COLUMNS} FROM penalty_clocks WHERE case_id = $1");
        let row: Option<ClockRow> = with_db!(db, |p| sqlx::query_as(&sql)
            .bind(case_id)
            .fetch_optional(p)
            .await)?;
        let Some(row) = row else { return Ok(None) };
        let excluded: Vec<ExcludedRow> = with_db!(db, |p| sqlx::query_as(EXCLUDED_SQL)
            .bind(case_id)
            .fetch_all(p)
            .await)?;
        let extensions: Vec<ExtensionRow> = with_db!(db, |p| sqlx::query_as(EXTENSIONS_SQL)
            .bind(case_id)
            .fetch_all(p)
            .await)?;
        Ok(Some(CaseClock {
            row,
            excluded,
            extensions,
        }))
    }

    /// The rule the case follows.
    pub(crate) fn rule<'p>(&self, policy: &'p TimeLimits) -> &'p PenaltyRule {
        let department = self
            .row
            .department
            .as_deref()
            .and_then(|d| DepartmentCode::parse(d).ok());
        policy.penalty_rule(department.as_ref())
    }

    pub(crate) fn filed_at(&self) -> DateTime<Utc> {
        self.row.started_at
    }

    /// Whether the case was decided or left the brigade's hands.
    pub(crate) fn stopped(&self) -> bool {
        self.row.met_at.is_some()
    }

    pub(crate) fn excluded(&self) -> Result<Vec<ExcludedPeriod>, sqlx::Error> {
        self.excluded.iter().map(ExcludedRow::period).collect()
    }

    pub(crate) fn extensions(&self) -> Result<Vec<Extension>, sqlx::Error> {
        self.extensions
            .iter()
            .map(ExtensionRow::extension)
            .collect()
    }

    /// The limit as events name it: the rule's days, and what was added to them.
    fn limit_text(&self, policy: &TimeLimits) -> Result<String, sqlx::Error> {
        let excluded: u32 = self.excluded()?.iter().map(ExcludedPeriod::days).sum();
        let extended: u32 = self.extensions()?.iter().map(|e| e.days).sum();
        let days = self.rule(policy).days;
        Ok(match (excluded, extended) {
            (0, 0) => format!("{days} days"),
            _ => format!("{days} days + {excluded} excluded + {extended} extended"),
        })
    }

    /// The deadline: filing + the rule's days + every excluded day + every extension.
    fn deadline(&self, policy: &TimeLimits, cal: &Calendar) -> Result<Deadline, sqlx::Error> {
        Ok(self.rule(policy).deadline(
            cal,
            self.row.started_at,
            &self.excluded()?,
            &self.extensions()?,
        ))
    }

    /// Computes the deadline and the second threshold again and saves them with when to look
    /// next: at the deadline before level 1, at the second threshold before level 2.
    pub(crate) async fn reschedule(
        &mut self,
        tx: &mut Tx,
        policy: &TimeLimits,
        cal: &Calendar,
    ) -> Result<Deadline, sqlx::Error> {
        let d = self.deadline(policy, cal)?;
        liandong_runtime::note_deadline(&d, "penalty_decision");
        let limits = policy.for_case(None, &[]);
        let s = policy.second_threshold(cal, &limits, &d);
        let limit_text = self.limit_text(policy)?;
        let o = &mut self.row;
        o.deadline = Some(d.due);
        o.second_threshold = Some(s.due);
        o.provisional = d.provisional || s.provisional;
        o.limit_text = limit_text;
        if o.met_at.is_none() {
            o.next_check_at = match o.level {
                0 => Some(d.due),
                1 => Some(s.due),
                _ => None,
            };
        }
        save(tx, o).await?;
        Ok(d)
    }

    /// The period as the API shows it, judged at `now`.
    pub(crate) fn to_pb(
        &self,
        policy: &TimeLimits,
        cal: &Calendar,
        now: DateTime<Utc>,
    ) -> Result<pb::PenaltyPeriod, sqlx::Error> {
        let rule = self.rule(policy);
        let d = self.deadline(policy, cal)?;
        let o = &self.row;
        let judgement = match (o.met_at, o.closed_by.as_deref()) {
            (Some(at), Some("concluded")) => judge(&d, at).as_str(),
            (Some(_), _) => "stopped",
            (None, _) if now >= d.due => "overdue",
            (None, _) => "running",
        };
        Ok(pb::PenaltyPeriod {
            filed_at: Some(to_ts(o.started_at)),
            rule_department: rule
                .department
                .as_ref()
                .map(ToString::to_string)
                .unwrap_or_default(),
            days: rule.days,
            citation: rule.citation.clone(),
            excluded_periods: self
                .excluded
                .iter()
                .map(|e| {
                    let p = e.period()?;
                    Ok(pb::ExcludedPeriod {
                        kind: e.kind.clone(),
                        start: e.start_on.clone(),
                        end: e.end_on.clone(),
                        reason: e.reason.clone(),
                        recorded_by: e.recorded_by.clone(),
                        recorded_at: Some(to_ts(e.recorded_at)),
                        days: p.days(),
                    })
                })
                .collect::<Result<_, sqlx::Error>>()?,
            extensions: self
                .extensions
                .iter()
                .map(|e| {
                    Ok(pb::PeriodExtension {
                        days: e.extension()?.days,
                        approver: e.approver.clone(),
                        reason: e.reason.clone(),
                        recorded_by: e.recorded_by.clone(),
                        recorded_at: Some(to_ts(e.recorded_at)),
                    })
                })
                .collect::<Result<_, sqlx::Error>>()?,
            max_extension_days: rule.max_extension_days,
            last_day: d.last_day.to_string(),
            due: Some(to_ts(d.due)),
            provisional: d.provisional,
            decided_at: o.met_at.map(to_ts),
            judgement: judgement.into(),
        })
    }
}

/// Records an excluded period on a case's clock (checked by the caller against the rule).
pub(crate) async fn insert_excluded(
    tx: &mut Tx,
    case_id: &str,
    town: &str,
    p: &ExcludedPeriod,
    recorded_by: &str,
    at: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    with_tx!(tx, |c| {
        sqlx::query(
        "INSERT INTO penalty_excluded_periods (entry_id, case_id, town, kind, start_on, end_on, reason, \
         recorded_by, recorded_at) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9)"
    )
    .bind(uuid::Uuid::now_v7().to_string())
    .bind(case_id)
    .bind(town)
    .bind(p.kind.as_str())
    .bind(p.start.to_string())
    .bind(p.end.to_string())
    .bind(&p.reason)
    .bind(recorded_by)
    .bind(at)
    .execute(c)
    .await
    .map(|_| ())
    })
}

/// Records an approved extension on a case's clock (checked by the caller against the rule).
pub(crate) async fn insert_extension(
    tx: &mut Tx,
    case_id: &str,
    town: &str,
    e: &Extension,
    recorded_by: &str,
    at: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    with_tx!(tx, |c| {
        sqlx::query(
        "INSERT INTO penalty_extensions (entry_id, case_id, town, days, approver, reason, recorded_by, \
         recorded_at) VALUES ($1,$2,$3,$4,$5,$6,$7,$8)"
    )
    .bind(uuid::Uuid::now_v7().to_string())
    .bind(case_id)
    .bind(town)
    .bind(i64::from(e.days))
    .bind(&e.approver)
    .bind(&e.reason)
    .bind(recorded_by)
    .bind(at)
    .execute(c)
    .await
    .map(|_| ())
    })
}

/// The period of `case_id` as the API shows it, or `None` for a case never filed.
pub(crate) async fn period(
    db: &Db,
    policy: &TimeLimits,
    cal: &Calendar,
    case_id: &str,
    now: DateTime<Utc>,
) -> Result<Option<pb::PenaltyPeriod>, sqlx::Error> {
    let clock = CaseClock::read(db, case_id).await?;
    clock.map(|c| c.to_pb(policy, cal, now)).transpose()
}

/// Recomputes, at start, every running clock whose deadline was computed beyond the calendar
/// years then loaded: a year loaded since moves it. Says how many were recomputed.
pub async fn recompute_provisional(
    db: &Db,
    outbox: &Outbox,
    policy: &TimeLimits,
    cal: &Calendar,
) -> Result<usize, sqlx::Error> {
    let ids: Vec<String> = with_db!(db, |p| {
        sqlx::query_scalar(
        "SELECT case_id FROM penalty_clocks WHERE provisional AND met_at IS NULL AND deadline IS NOT NULL"
    )
    .fetch_all(p)
    .await
    })?;
    for case_id in &ids {
        let mut tx = Change::begin(db, outbox).await?;
        if let Some(mut clock) = CaseClock::load(tx.tx(), case_id).await?
            && clock.row.met_at.is_none()
        {
            let d = clock.reschedule(tx.tx(), policy, cal).await?;
            tracing::info!(case_id, last_day = %d.last_day, provisional = d.provisional, "A provisional decision period was recomputed with the calendar now loaded.");
        }
        tx.commit().await?;
    }
    Ok(ids.len())
}

#[derive(Debug, Clone)]
pub struct Watcher {
    pub db: Db,
    pub outbox: Outbox,
    pub clock: SharedClock,
    pub policy: Arc<TimeLimits>,
    pub calendar: Arc<Calendar>,
}

impl Watcher {
    /// Looks every `every` for clocks with something to do, until the service stops.
    pub async fn run(self, every: std::time::Duration, stop: CancellationToken) {
        liandong_runtime::watch_clocks("case", every, stop, || self.check_once()).await
    }

    /// Handles, in one transaction, up to a batch of due clocks: schedules new ones, reports a
    /// passed threshold or a late decision. Rows are taken `FOR UPDATE SKIP LOCKED` on
    /// PostgreSQL, so replicas never report one twice.
    pub async fn check_once(&self) -> Result<usize, sqlx::Error> {
        let now = self.clock.now();
        let lock = if self.db.backend() == Backend::Postgres {
            " FOR UPDATE SKIP LOCKED"
        } else {
            ""
        };
        let sql = format!(
            "SELECT {CLOCK_COLUMNS} \
             FROM penalty_clocks WHERE next_check_at IS NOT NULL AND next_check_at <= $1 \
             ORDER BY next_check_at, case_id LIMIT 100{lock}"
        );
        let mut tx = Change::begin(&self.db, &self.outbox).await?;
        let rows: Vec<ClockRow> = with_tx!(tx.tx(), |c| sqlx::query_as(&sql)
            .bind(now)
            .fetch_all(c)
            .await)?;
        let n = rows.len();
        for mut o in rows {
            let id = obligation_id(&o.case_id);
            let (Some(deadline), Some(second)) = (o.deadline, o.second_threshold) else {
                // Newly filed: the deadline on the calendar, under the case's rule.
                let mut clock = CaseClock::load(tx.tx(), &o.case_id)
                    .await?
                    .ok_or_else(|| sqlx::Error::RowNotFound)?;
                clock
                    .reschedule(tx.tx(), &self.policy, &self.calendar)
                    .await?;
                if clock.row.met_at.is_some() {
                    // Decided before the clock was scheduled: nothing to report.
                    clock.row.next_check_at = None;
                    save(tx.tx(), &clock.row).await?;
                }
                continue;
            };
            let event = match check_clock(o.level, deadline, second, o.met_at, now) {
                ClockCheck::Met { met_at } => {
                    o.next_check_at = None;
                    Event::Met(ev::ObligationMet {
                        obligation_id: id.clone(),
                        kind: ObligationKind::PenaltyDecision.as_str().into(),
                        case_id: o.case_id.clone(),
                        referral_id: String::new(),
                        department: String::new(),
                        met_at: Some(to_ts(met_at)),
                        deadline: Some(to_ts(deadline)),
                    })
                }
                ClockCheck::NotYet { next_check_at } => {
                    o.next_check_at = next_check_at;
                    save(&mut tx, &o).await?;
                    continue;
                }
                ClockCheck::Overdue {
                    level,
                    threshold,
                    next_check_at,
                } => {
                    o.level = level;
                    o.next_check_at = next_check_at;
                    tracing::info!(case_id = %o.case_id, level = o.level, "A case ran past its 90 days.");
                    Event::Overdue(ev::ObligationOverdue {
                        obligation_id: id.clone(),
                        kind: ObligationKind::PenaltyDecision.as_str().into(),
                        case_id: o.case_id.clone(),
                        referral_id: String::new(),
                        department: String::new(),
                        level: u32::try_from(o.level).unwrap_or(2),
                        started_at: Some(to_ts(o.started_at)),
                        deadline: Some(to_ts(deadline)),
                        threshold: Some(to_ts(threshold)),
                        limit: o.limit_text.clone(),
                    })
                }
            };
            save(&mut tx, &o).await?;
            let new = || NewEvent {
                town: &o.town,
                department: None,
                aggregate_id: &id,
                actor: None,
                causation_id: None,
            };
            match &event {
                Event::Overdue(p) => {
                    self.outbox
                        .emit(
                            &mut tx,
                            now,
                            new(),
                            AnyEvent::BrigadeObligationOverdue(p.clone()),
                        )
                        .await?
                }
                Event::Met(p) => {
                    self.outbox
                        .emit(
                            &mut tx,
                            now,
                            new(),
                            AnyEvent::BrigadeObligationMet(p.clone()),
                        )
                        .await?
                }
            };
        }
        tx.commit().await?;
        Ok(n)
    }
}

enum Event {
    Overdue(ev::ObligationOverdue),
    Met(ev::ObligationMet),
}

async fn save(tx: &mut Tx, o: &ClockRow) -> Result<(), sqlx::Error> {
    with_tx!(tx, |c| {
        sqlx::query(
        "UPDATE penalty_clocks SET deadline = $1, second_threshold = $2, limit_text = $3, level = $4, \
         next_check_at = $5, provisional = $6 WHERE case_id = $7"
    )
    .bind(o.deadline)
    .bind(o.second_threshold)
    .bind(&o.limit_text)
    .bind(o.level)
    .bind(o.next_check_at)
    .bind(o.provisional)
    .bind(&o.case_id)
    .execute(c)
    .await
    .map(|_| ())
    })
}
