//! The joint meeting's own clock (办理时限): a joint case on the agenda is decided within the
//! policy's `joint_decision` limit from its submission. Started with the agenda item and
//! stopped by the chair's ruling, each in the same transaction; a watcher computes the deadline
//! with the calendar, puts a case that ran out on the chair's supervision list (督办) once per
//! threshold, resolves the entry when it is decided at last, and announces both
//! (`board.obligation_overdue`, `board.obligation_met`) for the figures.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use liandong_bus::{Change, NewEvent, Outbox};
use liandong_config::clock::SharedClock;
use liandong_domain::calendar::Calendar;
use liandong_domain::time_limits::{
    ClockCheck, ObligationKind, TimeLimits, check_clock, first_check,
};
use liandong_proto::events::v1 as ev;
use liandong_proto::time::to_ts;
use liandong_store::with_tx;
use liandong_store::{Backend, Db, Tx};
use liandong_topology::AnyEvent;
use tokio_util::sync::CancellationToken;

/// The obligation id of an agenda item's decision.
pub fn obligation_id(item_id: &str) -> String {
    format!("{item_id}:joint_decision")
}

/// Starts the clock of a joint case put on the agenda, submitted at `submitted_at`.
pub async fn start(
    tx: &mut Tx,
    item_id: &str,
    town: &str,
    case_id: &str,
    submitted_at: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    with_tx!(tx, |c| {
        sqlx::query(
        "INSERT INTO joint_clocks (item_id, town, case_id, started_at, deadline, second_threshold, limit_text, \
         level, next_check_at, met_at) VALUES ($1,$2,$3,$4,NULL,NULL,'',0,$4,NULL) ON CONFLICT (item_id) DO NOTHING"
    )
    .bind(item_id)
    .bind(town)
    .bind(case_id)
    .bind(submitted_at)
    .execute(c)
    .await
    .map(|_| ())
    })
}

/// Stops the clock of `item_id` (the chair ruled on it at `at`); a clock that had run out is
/// looked at once more, to resolve its supervision entry and announce it was met.
pub async fn stop(tx: &mut Tx, item_id: &str, at: DateTime<Utc>) -> Result<(), sqlx::Error> {
    with_tx!(tx, |c| {
        sqlx::query(
        "UPDATE joint_clocks SET met_at = $1, next_check_at = CASE WHEN level > 0 THEN $1 ELSE NULL END \
         WHERE item_id = $2 AND met_at IS NULL"
    )
    .bind(at)
    .bind(item_id)
    .execute(c)
    .await
    .map(|_| ())
    })
}

#[derive(Debug, Clone, sqlx::FromRow)]
struct ClockRow {
    item_id: String,
    town: String,
    case_id: String,
    started_at: DateTime<Utc>,
    deadline: Option<DateTime<Utc>>,
    second_threshold: Option<DateTime<Utc>>,
    limit_text: String,
    level: i64,
    next_check_at: Option<DateTime<Utc>>,
    met_at: Option<DateTime<Utc>>,
    provisional: bool,
}

const CLOCK_COLUMNS: &str = "item_id, town, case_id, started_at, deadline, second_threshold, limit_text, \
     level, next_check_at, met_at, provisional";

/// The policy and calendar the watcher computes deadlines with.
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
        liandong_runtime::watch_clocks("joint meeting", every, stop, || self.check_once()).await
    }

    /// Handles, in one transaction, up to a batch of due clocks. Rows are taken `FOR UPDATE
    /// SKIP LOCKED` on PostgreSQL, so replicas never report one twice.
    pub async fn check_once(&self) -> Result<usize, sqlx::Error> {
        let now = self.clock.now();
        let lock = if self.db.backend() == Backend::Postgres {
            " FOR UPDATE SKIP LOCKED"
        } else {
            ""
        };
        let sql = format!(
            "SELECT {CLOCK_COLUMNS} \
             FROM joint_clocks WHERE next_check_at IS NOT NULL AND next_check_at <= $1 \
             ORDER BY next_check_at, item_id LIMIT 100{lock}"
        );
        let mut tx = Change::begin(&self.db, &self.outbox).await?;
        let rows: Vec<ClockRow> = with_tx!(tx.tx(), |c| sqlx::query_as(&sql)
            .bind(now)
            .fetch_all(c)
            .await)?;
        let n = rows.len();
        let kind = ObligationKind::JointDecision;
        for mut o in rows {
            let id = obligation_id(&o.item_id);
            let (Some(deadline), Some(second)) = (o.deadline, o.second_threshold) else {
                // Newly started: the deadline on the calendar.
                schedule(&self.policy, &self.calendar, &mut o);
                o.next_check_at = o.deadline.and_then(|d| first_check(d, o.met_at));
                save(&mut tx, &o).await?;
                continue;
            };
            let new = || NewEvent {
                town: &o.town,
                department: None,
                aggregate_id: &id,
                actor: None,
                causation_id: None,
            };
            let (level, threshold, next_check_at) =
                match check_clock(o.level, deadline, second, o.met_at, now) {
                    ClockCheck::Met { met_at } => {
                        o.next_check_at = None;
                        save(&mut tx, &o).await?;
                        crate::supervision::resolve(&mut tx, &id, met_at).await?;
                        let met = ev::ObligationMet {
                            obligation_id: id.clone(),
                            kind: kind.as_str().into(),
                            case_id: o.case_id.clone(),
                            referral_id: String::new(),
                            department: String::new(),
                            met_at: Some(to_ts(met_at)),
                            deadline: Some(to_ts(deadline)),
                        };
                        self.outbox
                            .emit(&mut tx, now, new(), AnyEvent::BoardObligationMet(met))
                            .await?;
                        continue;
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
                    } => (level, threshold, next_check_at),
                };
            o.level = level;
            // `check_clock` reports the first or the second threshold passed.
            let overdue_level = u32::try_from(level).expect("a threshold level is 1 or 2");
            o.next_check_at = next_check_at;
            save(&mut tx, &o).await?;
            tracing::info!(item_id = %o.item_id, level = o.level, "A joint case ran past the meeting's time limit.");
            crate::supervision::raise_overdue(
                &mut tx,
                &crate::supervision::Overdue {
                    obligation_id: &id,
                    town: &o.town,
                    case_id: &o.case_id,
                    department: "",
                    referral_id: "",
                    kind,
                    level: overdue_level,
                    deadline: Some(deadline),
                },
                now,
            )
            .await?;
            let overdue = ev::ObligationOverdue {
                obligation_id: id.clone(),
                kind: kind.as_str().into(),
                case_id: o.case_id.clone(),
                referral_id: String::new(),
                department: String::new(),
                level: overdue_level,
                started_at: Some(to_ts(o.started_at)),
                deadline: Some(to_ts(deadline)),
                threshold: Some(to_ts(threshold)),
                limit: o.limit_text.clone(),
            };
            self.outbox
                .emit(
                    &mut tx,
                    now,
                    new(),
                    AnyEvent::BoardObligationOverdue(overdue),
                )
                .await?;
        }
        tx.commit().await?;
        Ok(n)
    }
}

/// Computes a clock's deadline and second threshold on the calendar, from its submission.
fn schedule(policy: &TimeLimits, cal: &Calendar, o: &mut ClockRow) {
    let kind = ObligationKind::JointDecision;
    let limits = policy.for_case(None, &[]);
    let d = policy.deadline(cal, kind, &limits, o.started_at);
    liandong_runtime::note_deadline(&d, "joint_decision");
    let s = policy.second_threshold(cal, &limits, &d);
    o.deadline = Some(d.due);
    o.second_threshold = Some(s.due);
    o.provisional = d.provisional || s.provisional;
    o.limit_text = format!("{} {}", limits.of(kind), policy.unit.as_str());
}

/// Recomputes, at start, every running clock whose deadline was computed beyond the calendar
/// years then loaded: a year loaded since moves it. Says how many were recomputed.
pub async fn recompute_provisional(
    db: &Db,
    outbox: &Outbox,
    policy: &TimeLimits,
    cal: &Calendar,
) -> Result<usize, sqlx::Error> {
    let sql = format!(
        "SELECT {CLOCK_COLUMNS} FROM joint_clocks \
         WHERE provisional AND met_at IS NULL AND deadline IS NOT NULL"
    );
    let rows: Vec<ClockRow> =
        liandong_store::with_db!(db, |p| sqlx::query_as(&sql).fetch_all(p).await)?;
    for mut o in rows.iter().cloned() {
        schedule(policy, cal, &mut o);
        o.next_check_at = match o.level {
            0 => o.deadline,
            1 => o.second_threshold,
            _ => None,
        };
        let mut tx = Change::begin(db, outbox).await?;
        // Only while it still runs: a ruling since the read keeps its own schedule.
        with_tx!(tx.tx(), |c| sqlx::query(
            "UPDATE joint_clocks SET deadline = $1, second_threshold = $2, limit_text = $3, \
             next_check_at = $4, provisional = $5 WHERE item_id = $6 AND met_at IS NULL"
        )
        .bind(o.deadline)
        .bind(o.second_threshold)
        .bind(&o.limit_text)
        .bind(o.next_check_at)
        .bind(o.provisional)
        .bind(&o.item_id)
        .execute(c)
        .await
        .map(drop))?;
        tx.commit().await?;
        tracing::info!(item_id = %o.item_id, deadline = ?o.deadline, provisional = o.provisional, "A provisional joint-meeting deadline was recomputed with the calendar now loaded.");
    }
    Ok(rows.len())
}

async fn save(tx: &mut Tx, o: &ClockRow) -> Result<(), sqlx::Error> {
    with_tx!(tx, |c| {
        sqlx::query(
        "UPDATE joint_clocks SET deadline = $1, second_threshold = $2, limit_text = $3, level = $4, \
         next_check_at = $5, provisional = $6 WHERE item_id = $7"
    )
    .bind(o.deadline)
    .bind(o.second_threshold)
    .bind(&o.limit_text)
    .bind(o.level)
    .bind(o.next_check_at)
    .bind(o.provisional)
    .bind(&o.item_id)
    .execute(c)
    .await
    .map(|_| ())
    })
}
