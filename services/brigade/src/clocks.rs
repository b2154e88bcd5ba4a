//! The brigade's own clock: a case it opened (assigned, 立案) is decided within 90 days
//! (行政处罚法 第六十条). Started and stopped with the case's status in the same transaction; a
//! watcher computes the deadline with the calendar and reports each threshold once, as
//! `brigade.obligation_overdue` (and `brigade.obligation_met` for a late decision), which the
//! board puts on the chair's supervision list.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use liandong_bus::{Change, NewEvent, Outbox};
use liandong_config::clock::SharedClock;
use liandong_domain::calendar::Calendar;
use liandong_domain::state::CaseStatus;
use liandong_domain::time_limits::{
    ClockCheck, ObligationKind, TimeLimits, check_clock, first_check,
};
use liandong_proto::events::v1 as ev;
use liandong_proto::time::to_ts;
use liandong_store::with_tx;
use liandong_store::{Backend, Db, Tx};
use liandong_topology::AnyEvent;
use tokio_util::sync::CancellationToken;

/// The obligation id of a case's 90 days.
pub fn obligation_id(case_id: &str) -> String {
    format!("{case_id}:penalty_decision")
}

/// Starts the clock when a case is first assigned (opened) and stops it when the case is
/// decided or leaves the brigade's hands; a case sent back to `assigned` by the legal review
/// keeps the clock of its first opening.
pub async fn on_status(
    tx: &mut Tx,
    case_id: &str,
    status: CaseStatus,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    match status {
        CaseStatus::Assigned => {
            let town = case_id.split('-').next().unwrap_or_default();
            with_tx!(tx, |c| {
                sqlx::query(
                "INSERT INTO penalty_clocks (case_id, town, started_at, deadline, second_threshold, limit_text, level, \
                 next_check_at, met_at, closed_by) VALUES ($1,$2,$3,NULL,NULL,'',0,$3,NULL,NULL) \
                 ON CONFLICT (case_id) DO NOTHING"
            )
            .bind(case_id)
            .bind(town)
            .bind(now)
            .execute(c)
            .await
            .map(|_| ())
            })
        }
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
}

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
            "SELECT case_id, town, started_at, deadline, second_threshold, limit_text, level, next_check_at, met_at \
             FROM penalty_clocks WHERE next_check_at IS NOT NULL AND next_check_at <= $1 \
             ORDER BY next_check_at, case_id LIMIT 100{lock}"
        );
        let mut tx = Change::begin(&self.db, &self.outbox).await?;
        let rows: Vec<ClockRow> = with_tx!(tx.tx(), |c| sqlx::query_as(&sql)
            .bind(now)
            .fetch_all(c)
            .await)?;
        let n = rows.len();
        let limits = self.policy.for_case(None, &[]);
        for mut o in rows {
            let id = obligation_id(&o.case_id);
            let (Some(deadline), Some(second)) = (o.deadline, o.second_threshold) else {
                // Newly opened: the deadline on the calendar, 90 natural days.
                let d = self.policy.deadline(
                    &self.calendar,
                    ObligationKind::PenaltyDecision,
                    &limits,
                    o.started_at,
                );
                liandong_runtime::note_deadline(&d, "penalty_decision");
                let s = self.policy.second_threshold(&self.calendar, &limits, &d);
                o.deadline = Some(d.due);
                o.second_threshold = Some(s.due);
                o.limit_text = format!("{} days", limits.penalty_decision_days);
                o.next_check_at = first_check(d.due, o.met_at);
                save(&mut tx, &o).await?;
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
         next_check_at = $5 WHERE case_id = $6"
    )
    .bind(o.deadline)
    .bind(o.second_threshold)
    .bind(&o.limit_text)
    .bind(o.level)
    .bind(o.next_check_at)
    .bind(&o.case_id)
    .execute(c)
    .await
    .map(|_| ())
    })
}
