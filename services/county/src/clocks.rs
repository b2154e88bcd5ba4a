//! The departments' durable clocks (办理时限): one row per obligation, started at a referral's
//! dispatch, stopped in the transaction of the step that meets it, and a watcher that reports
//! each threshold that passes once, across restarts and replicas.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use liandong_bus::{Change, HandlerError, NewEvent, Outbox};
use liandong_config::clock::SharedClock;
use liandong_domain::calendar::{Calendar, Deadline};
use liandong_domain::ids::DepartmentCode;
use liandong_domain::state::ReferralStatus;
use liandong_domain::time_limits::{
    ClockCheck, ExtensionStatus, ObligationKind, TimeLimits, check_clock,
};
use liandong_proto::county::v1 as pb;
use liandong_proto::events::v1 as ev;
use liandong_proto::time::{from_ts, to_ts};
use liandong_store::typed::{decode, decode_all};
use liandong_store::{Backend, Db, Tx};
use liandong_store::{with_db, with_tx};
use liandong_topology::AnyEvent;
use tokio_util::sync::CancellationToken;

use crate::rows::ReferralRow;

/// The policy and the calendar the county's deadlines are computed with.
#[derive(Debug, Clone)]
pub struct Clocks {
    pub policy: Arc<TimeLimits>,
    pub calendar: Arc<Calendar>,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ObligationRow {
    pub obligation_id: String,
    pub town: String,
    #[sqlx(try_from = "String")]
    pub kind: ObligationKind,
    pub case_id: String,
    pub referral_id: String,
    pub department: String,
    pub started_at: DateTime<Utc>,
    pub deadline: DateTime<Utc>,
    pub original_deadline: DateTime<Utc>,
    pub second_threshold: DateTime<Utc>,
    pub escalate_after: i64,
    pub limit_text: String,
    pub provisional: bool,
    pub level: i64,
    pub next_check_at: Option<DateTime<Utc>>,
    pub met_at: Option<DateTime<Utc>>,
    pub closed_by: Option<String>,
    pub extended_days: i64,
    pub pending_extension: Option<String>,
    pub created_at: DateTime<Utc>,
}

/// The id of an obligation: a referral's own steps by referral, a department's conclusion by
/// case and department, the case's conclusion by case. Re-dispatching a case to a department
/// finds the same conclusion clock, so neither a return nor a reassignment resets it.
pub fn obligation_id(kind: ObligationKind, row: &ReferralRow) -> String {
    match kind {
        ObligationKind::Conclude => format!("{}:conclude:{}", row.case_id, row.department),
        ObligationKind::CaseConclude => format!("{}:case_conclude", row.case_id),
        _ => format!("{}:{}", row.referral_id, kind.as_str()),
    }
}

impl Clocks {
    /// Starts the clocks of a referral that arrived: its own sign-for and accept-or-return
    /// clocks from its dispatch, the department's conclusion clock and the case's from their
    /// first dispatch (kept if they exist; reopened if a return had stopped the department's).
    pub async fn start(
        &self,
        tx: &mut Tx,
        row: &ReferralRow,
        matters: &[String],
        now: DateTime<Utc>,
    ) -> Result<(), sqlx::Error> {
        let department = DepartmentCode::parse(&row.department).ok();
        let own = self.policy.for_case(department.as_ref(), matters);
        // The case's clock belongs to no department: the matters' limits alone.
        let case = self.policy.for_case(None, matters);
        for kind in [
            ObligationKind::SignFor,
            ObligationKind::AcceptOrReturn,
            ObligationKind::Conclude,
            ObligationKind::CaseConclude,
        ] {
            let limits = if kind == ObligationKind::CaseConclude {
                case
            } else {
                own
            };
            let start = row.dispatched_at;
            let deadline = self.policy.deadline(&self.calendar, kind, &limits, start);
            let second = self
                .policy
                .second_threshold(&self.calendar, &limits, &deadline);
            liandong_runtime::note_deadline(&deadline, kind.as_str());
            let o = ObligationRow {
                obligation_id: obligation_id(kind, row),
                town: row.town.clone(),
                kind,
                case_id: row.case_id.clone(),
                referral_id: match kind {
                    ObligationKind::SignFor | ObligationKind::AcceptOrReturn => {
                        row.referral_id.clone()
                    }
                    _ => String::new(),
                },
                department: if kind == ObligationKind::CaseConclude {
                    String::new()
                } else {
                    row.department.clone()
                },
                started_at: start,
                deadline: deadline.due,
                original_deadline: deadline.due,
                second_threshold: second.due,
                escalate_after: i64::from(limits.escalate_after),
                limit_text: format!("{} {}", limits.of(kind), self.policy.unit),
                provisional: deadline.provisional,
                level: 0,
                next_check_at: Some(deadline.due),
                met_at: None,
                closed_by: None,
                extended_days: 0,
                pending_extension: None,
                created_at: now,
            };
            insert_or_reopen(tx, &o).await?;
        }
        Ok(())
    }

    /// The deadline after an extension, and the second threshold that follows from it.
    fn extended(&self, row: &ObligationRow, new_deadline: DateTime<Utc>) -> DateTime<Utc> {
        let limits = liandong_domain::time_limits::Limits {
            escalate_after: u32::try_from(row.escalate_after).unwrap_or(5),
            ..self.policy.defaults
        };
        let d = Deadline {
            due: new_deadline,
            last_day: Calendar::local_date(new_deadline - chrono::Duration::seconds(1)),
            provisional: row.provisional,
        };
        self.policy
            .second_threshold(&self.calendar, &limits, &d)
            .due
    }
}

async fn insert_or_reopen(tx: &mut Tx, o: &ObligationRow) -> Result<(), sqlx::Error> {
    // A department's conclusion clock that a return stopped runs again, from where it was, when
    // the case comes back to it; one met by a conclusion stays met.
    with_tx!(tx, |c| {
        sqlx::query(
        "INSERT INTO obligations (obligation_id, town, kind, case_id, referral_id, department, started_at, deadline, \
         original_deadline, second_threshold, escalate_after, limit_text, provisional, level, next_check_at, met_at, \
         closed_by, extended_days, pending_extension, created_at) \
         VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,0,$14,NULL,NULL,0,NULL,$15) \
         ON CONFLICT (obligation_id) DO UPDATE SET met_at = NULL, closed_by = NULL, \
         next_check_at = CASE WHEN obligations.level = 0 THEN obligations.deadline \
                              WHEN obligations.level = 1 THEN obligations.second_threshold ELSE NULL END \
         WHERE obligations.closed_by = 'returned'"
    )
    .bind(&o.obligation_id)
    .bind(&o.town)
    .bind(o.kind.as_str())
    .bind(&o.case_id)
    .bind(&o.referral_id)
    .bind(&o.department)
    .bind(o.started_at)
    .bind(o.deadline)
    .bind(o.original_deadline)
    .bind(o.second_threshold)
    .bind(o.escalate_after)
    .bind(&o.limit_text)
    .bind(o.provisional)
    .bind(o.next_check_at)
    .bind(o.created_at)
    .execute(c)
    .await
    .map(|_| ())
    })?;
    Ok(())
}

/// Stops the clocks a referral's new state meets, in the transaction that changed it. A clock
/// that had run out is left due at once, so the watcher tells the board it was met at last.
pub async fn stop_met(tx: &mut Tx, row: &ReferralRow) -> Result<(), sqlx::Error> {
    let status = Some(row.status);
    let now = row.updated_at;
    let mut stops: Vec<(String, &str)> = Vec::new();
    let sign = obligation_id(ObligationKind::SignFor, row);
    let accept = obligation_id(ObligationKind::AcceptOrReturn, row);
    let conclude = obligation_id(ObligationKind::Conclude, row);
    let case = obligation_id(ObligationKind::CaseConclude, row);
    if row.signed_for_at.is_some() {
        stops.push((sign.clone(), "signed_for"));
    }
    match status {
        Some(
            ReferralStatus::Accepted | ReferralStatus::Assigned | ReferralStatus::AwaitingReview,
        ) => stops.push((accept, "accepted")),
        Some(ReferralStatus::Concluded) => {
            stops.push((sign, "concluded"));
            stops.push((accept, "concluded"));
            stops.push((conclude, "concluded"));
            stops.push((case, "concluded"));
        }
        Some(ReferralStatus::Returned) => {
            stops.push((sign, "returned"));
            stops.push((accept, "returned"));
            stops.push((conclude, "returned"));
        }
        Some(ReferralStatus::Withdrawn) => {
            stops.push((sign, "withdrawn"));
            stops.push((accept, "withdrawn"));
            stops.push((conclude, "withdrawn"));
            let others: i64 = with_tx!(tx, |c| sqlx::query_scalar(
                "SELECT COUNT(*) FROM referrals WHERE case_id = $1 AND referral_id <> $2 \
                 AND status NOT IN ('withdrawn', 'returned', 'concluded')"
            )
            .bind(&row.case_id)
            .bind(&row.referral_id)
            .fetch_one(c)
            .await)?;
            if others == 0 {
                stops.push((case, "withdrawn"));
            }
        }
        _ => {}
    }
    for (id, by) in stops {
        with_tx!(tx, |c| sqlx::query(
            "UPDATE obligations SET met_at = $1, closed_by = $2, pending_extension = NULL, \
             next_check_at = CASE WHEN level > 0 THEN $1 ELSE NULL END \
             WHERE obligation_id = $3 AND met_at IS NULL"
        )
        .bind(now)
        .bind(by)
        .bind(&id)
        .execute(c)
        .await
        .map(|_| ()))?;
    }
    Ok(())
}

/// How many times the case was returned, by any department.
pub async fn returns_of_case(tx: &mut Tx, case_id: &str) -> Result<i64, sqlx::Error> {
    with_tx!(tx, |c| sqlx::query_scalar(
        "SELECT COUNT(*) FROM referrals WHERE case_id = $1 AND status = 'returned'"
    )
    .bind(case_id)
    .fetch_one(c)
    .await)
}

pub async fn get_in_tx(tx: &mut Tx, id: &str) -> Result<Option<ObligationRow>, sqlx::Error> {
    let sql = match tx {
        Tx::Postgres(_) => "SELECT * FROM obligations WHERE obligation_id = $1 FOR UPDATE",
        Tx::Sqlite(_) => "SELECT * FROM obligations WHERE obligation_id = $1",
    };
    with_tx!(tx, |c| {
        let row = sqlx::query(sql).bind(id).fetch_optional(c).await?;
        row.as_ref()
            .map(|r| decode(r, "obligations", "obligation_id"))
            .transpose()
    })
}

/// A department's clocks, with the clocks of the cases it was sent (their first dispatch on).
pub async fn list(
    db: &Db,
    department: &str,
    open_only: bool,
    overdue_only: bool,
    limit: i64,
) -> Result<Vec<ObligationRow>, sqlx::Error> {
    with_db!(db, |p| {
        let rows = sqlx::query(
        "SELECT * FROM obligations WHERE (department = $1 OR (department = '' AND case_id IN \
         (SELECT case_id FROM referrals WHERE department = $1))) AND ($2 = FALSE OR met_at IS NULL) \
         AND ($3 = FALSE OR level > 0) ORDER BY deadline, obligation_id LIMIT $4"
    )
    .bind(department)
    .bind(open_only)
    .bind(overdue_only)
    .bind(limit)
    .fetch_all(p)
    .await?;
        decode_all(&rows, "obligations", "obligation_id")
    })
}

pub fn to_pb(o: &ObligationRow) -> pb::Obligation {
    pb::Obligation {
        obligation_id: o.obligation_id.clone(),
        town: o.town.clone(),
        kind: o.kind.as_str().into(),
        case_id: o.case_id.clone(),
        referral_id: o.referral_id.clone(),
        department: o.department.clone(),
        started_at: Some(to_ts(o.started_at)),
        deadline: Some(to_ts(o.deadline)),
        original_deadline: Some(to_ts(o.original_deadline)),
        second_threshold: Some(to_ts(o.second_threshold)),
        level: u32::try_from(o.level).unwrap_or(0),
        met_at: o.met_at.map(to_ts),
        extended_days: u32::try_from(o.extended_days).unwrap_or(0),
        limit: o.limit_text.clone(),
        provisional: o.provisional,
        pending_extension: o.pending_extension.clone().unwrap_or_default(),
        closed_by: o.closed_by.clone().unwrap_or_default(),
    }
}

/// Records a department's request for more time and tells the board.
pub async fn request_extension(
    tx: &mut Tx,
    outbox: &Outbox,
    o: &ObligationRow,
    working_days: u32,
    reason: &str,
    actor: liandong_proto::events::v1::Actor,
    now: DateTime<Utc>,
) -> Result<String, sqlx::Error> {
    let request_id = format!("{}-{}", o.town, uuid::Uuid::now_v7());
    let requested_by = actor.officer_id.clone();
    with_tx!(tx, |c| {
        sqlx::query(
        "INSERT INTO extension_requests (request_id, obligation_id, working_days, reason, requested_by, requested_at, status) \
         VALUES ($1,$2,$3,$4,$5,$6,'pending')"
    )
    .bind(&request_id)
    .bind(&o.obligation_id)
    .bind(i64::from(working_days))
    .bind(reason)
    .bind(&requested_by)
    .bind(now)
    .execute(c)
    .await
    .map(|_| ())
    })?;
    with_tx!(tx, |c| sqlx::query(
        "UPDATE obligations SET pending_extension = $1 WHERE obligation_id = $2"
    )
    .bind(&request_id)
    .bind(&o.obligation_id)
    .execute(c)
    .await
    .map(|_| ()))?;
    let payload = ev::ExtensionRequested {
        request_id: request_id.clone(),
        obligation_id: o.obligation_id.clone(),
        kind: o.kind.as_str().into(),
        case_id: o.case_id.clone(),
        referral_id: o.referral_id.clone(),
        department: o.department.clone(),
        working_days,
        reason: reason.to_owned(),
        current_deadline: Some(to_ts(o.deadline)),
    };
    outbox
        .emit(
            tx,
            now,
            NewEvent {
                town: &o.town,
                department: Some(&o.department),
                aggregate_id: &request_id,
                actor: Some(actor),
                causation_id: None,
            },
            AnyEvent::CountyExtensionRequested(payload),
        )
        .await?;
    Ok(request_id)
}

/// An extension request's status, as stored.
#[derive(sqlx::FromRow)]
struct ExtensionStatusRow {
    #[sqlx(try_from = "String")]
    status: ExtensionStatus,
}

/// Where the extension request `request_id` stands, if there is one; a status that does not
/// read is an error naming the request.
pub async fn extension_status(
    tx: &mut Tx,
    request_id: &str,
) -> Result<Option<ExtensionStatus>, sqlx::Error> {
    with_tx!(tx, |c| {
        let row =
            sqlx::query("SELECT request_id, status FROM extension_requests WHERE request_id = $1")
                .bind(request_id)
                .fetch_optional(c)
                .await?;
        row.as_ref()
            .map(|r| {
                decode::<_, ExtensionStatusRow>(r, "extension_requests", "request_id")
                    .map(|x| x.status)
            })
            .transpose()
    })
}

impl Clocks {
    /// Applies the chair's answer to an extension request: a grant moves the deadline (and the
    /// second threshold after it), a refusal only closes the request.
    pub async fn answered(
        &self,
        tx: &mut Tx,
        e: ev::ExtensionDecided,
        granted: bool,
        now: DateTime<Utc>,
    ) -> Result<(), HandlerError> {
        let Some(mut o) = get_in_tx(tx, &e.obligation_id).await? else {
            return Err(HandlerError::Reject(format!(
                "no obligation {} for extension request {}",
                e.obligation_id, e.request_id
            )));
        };
        match extension_status(tx, &e.request_id).await? {
            None => {
                return Err(HandlerError::Reject(format!(
                    "no extension request {}",
                    e.request_id
                )));
            }
            // Answered already: a second answer under another event id changes nothing.
            Some(ExtensionStatus::Granted | ExtensionStatus::Refused) => return Ok(()),
            Some(ExtensionStatus::Pending) => {}
        }
        with_tx!(tx, |c| {
            sqlx::query(
            "UPDATE extension_requests SET status = $1, decided_at = $2, note = $3 WHERE request_id = $4"
        )
        .bind(if granted { "granted" } else { "refused" })
        .bind(now)
        .bind(&e.note)
        .bind(&e.request_id)
        .execute(c)
        .await
        .map(|_| ())
        })?;
        if o.pending_extension.as_deref() == Some(e.request_id.as_str()) {
            o.pending_extension = None;
        }
        if granted {
            let new_deadline = from_ts(e.new_deadline.as_ref()).ok_or_else(|| {
                HandlerError::Reject("a granted extension without its new deadline".into())
            })?;
            o.deadline = new_deadline;
            o.second_threshold = self.extended(&o, new_deadline);
            o.extended_days += i64::from(e.working_days);
            if o.met_at.is_none() {
                o.next_check_at = match o.level {
                    0 => Some(o.deadline),
                    1 => Some(o.second_threshold),
                    _ => None,
                };
            }
        }
        with_tx!(tx, |c| {
            sqlx::query(
            "UPDATE obligations SET deadline = $1, second_threshold = $2, extended_days = $3, next_check_at = $4, \
             pending_extension = $5 WHERE obligation_id = $6"
        )
        .bind(o.deadline)
        .bind(o.second_threshold)
        .bind(o.extended_days)
        .bind(o.next_check_at)
        .bind(&o.pending_extension)
        .bind(&o.obligation_id)
        .execute(c)
        .await
        .map(|_| ())
        })?;
        Ok(())
    }
}

impl Clocks {
    /// Recomputes, at start, every running clock whose deadline was computed beyond the
    /// calendar years then loaded: a year loaded since moves it. The limit is the one it was
    /// started with (the department's and the case's matters', from a referral of the case),
    /// counted again from its start, and every granted extension is counted again after it.
    /// Says how many were recomputed.
    pub async fn recompute_provisional(
        &self,
        db: &Db,
        outbox: &Outbox,
    ) -> Result<usize, sqlx::Error> {
        let ids: Vec<String> = with_db!(db, |p| sqlx::query_scalar(
            "SELECT obligation_id FROM obligations WHERE provisional AND met_at IS NULL"
        )
        .fetch_all(p)
        .await)?;
        let mut n = 0;
        for id in &ids {
            let mut tx = Change::begin(db, outbox).await?;
            let Some(mut o) = get_in_tx(tx.tx(), id).await? else {
                tx.rollback().await?;
                continue;
            };
            // The referral it belongs to, else the latest of the case (to the department).
            let referral_id: Option<String> = if o.referral_id.is_empty() {
                with_tx!(tx.tx(), |c| sqlx::query_scalar(
                    "SELECT referral_id FROM referrals WHERE case_id = $1 \
                     AND ($2 = '' OR department = $2) ORDER BY dispatched_at DESC LIMIT 1"
                )
                .bind(&o.case_id)
                .bind(&o.department)
                .fetch_optional(c)
                .await)?
            } else {
                Some(o.referral_id.clone())
            };
            let referral: Option<ReferralRow> = match referral_id {
                Some(r) => with_tx!(tx.tx(), |c| {
                    let row = sqlx::query("SELECT * FROM referrals WHERE referral_id = $1")
                        .bind(&r)
                        .fetch_optional(c)
                        .await?;
                    row.as_ref()
                        .map(|row| decode(row, "referrals", "referral_id"))
                        .transpose()
                })?,
                None => None,
            };
            let Some(referral) = referral else {
                tracing::warn!(obligation_id = %o.obligation_id, "A provisional clock has no referral to read its limits from; left as it is.");
                tx.rollback().await?;
                continue;
            };
            let matters = &referral.facts.0.matters;
            let limits = if o.kind == ObligationKind::CaseConclude {
                self.policy.for_case(None, matters)
            } else {
                self.policy
                    .for_case(DepartmentCode::parse(&o.department).ok().as_ref(), matters)
            };
            let original = self
                .policy
                .deadline(&self.calendar, o.kind, &limits, o.started_at);
            let deadline = match u32::try_from(o.extended_days) {
                Ok(days) if days > 0 => TimeLimits::extend(&self.calendar, &original, days),
                _ => original,
            };
            let second = self
                .policy
                .second_threshold(&self.calendar, &limits, &deadline);
            liandong_runtime::note_deadline(&deadline, o.kind.as_str());
            o.original_deadline = original.due;
            o.deadline = deadline.due;
            o.second_threshold = second.due;
            o.provisional = deadline.provisional || second.provisional;
            o.next_check_at = match o.level {
                0 => Some(o.deadline),
                1 => Some(o.second_threshold),
                _ => None,
            };
            with_tx!(tx.tx(), |c| {
                sqlx::query(
                "UPDATE obligations SET deadline = $1, original_deadline = $2, second_threshold = $3, \
                 provisional = $4, next_check_at = $5 WHERE obligation_id = $6 AND met_at IS NULL"
            )
            .bind(o.deadline)
            .bind(o.original_deadline)
            .bind(o.second_threshold)
            .bind(o.provisional)
            .bind(o.next_check_at)
            .bind(&o.obligation_id)
            .execute(c)
            .await
            .map(drop)
            })?;
            tx.commit().await?;
            tracing::info!(obligation_id = %o.obligation_id, last_day = %deadline.last_day, provisional = o.provisional, "A provisional deadline was recomputed with the calendar now loaded.");
            n += 1;
        }
        Ok(n)
    }
}

/// Looks every `every` for clocks with something to report, until the service stops.
pub async fn watch(
    db: Db,
    outbox: Outbox,
    clock: SharedClock,
    every: std::time::Duration,
    stop: CancellationToken,
) {
    liandong_runtime::watch_clocks("department", every, stop, || {
        check_once(&db, &outbox, &clock)
    })
    .await
}

/// Reports, in one transaction, up to a batch of clocks whose next check is due: a threshold
/// passed (level 1 at the deadline, level 2 at the second threshold) or a late obligation met.
/// On PostgreSQL the rows are taken `FOR UPDATE SKIP LOCKED`, so replicas never report the same
/// one; the row's new level is written with its event, so a threshold is reported once.
pub async fn check_once(
    db: &Db,
    outbox: &Outbox,
    clock: &SharedClock,
) -> Result<usize, sqlx::Error> {
    let now = clock.now();
    let lock = if db.backend() == Backend::Postgres {
        " FOR UPDATE SKIP LOCKED"
    } else {
        ""
    };
    let sql = format!(
        "SELECT * FROM obligations WHERE next_check_at IS NOT NULL AND next_check_at <= $1 \
         ORDER BY next_check_at, obligation_id LIMIT 100{lock}"
    );
    let mut tx = Change::begin(db, outbox).await?;
    let rows: Vec<ObligationRow> = with_tx!(tx.tx(), |c| {
        let rows = sqlx::query(&sql).bind(now).fetch_all(c).await?;
        decode_all(&rows, "obligations", "obligation_id")
    })?;
    let n = rows.len();
    for mut o in rows {
        let check = check_clock(o.level, o.deadline, o.second_threshold, o.met_at, now);
        let event = match check {
            ClockCheck::Met { met_at } => {
                o.next_check_at = None;
                Event::Met(ev::ObligationMet {
                    obligation_id: o.obligation_id.clone(),
                    kind: o.kind.as_str().into(),
                    case_id: o.case_id.clone(),
                    referral_id: o.referral_id.clone(),
                    department: o.department.clone(),
                    met_at: Some(to_ts(met_at)),
                    deadline: Some(to_ts(o.deadline)),
                })
            }
            // Not yet, or moved by an extension since it was scheduled: look again then.
            ClockCheck::NotYet { next_check_at } => {
                o.next_check_at = next_check_at;
                save_check(&mut tx, &o).await?;
                continue;
            }
            ClockCheck::Overdue {
                level,
                threshold,
                next_check_at,
            } => {
                o.level = level;
                o.next_check_at = next_check_at;
                tracing::info!(obligation_id = %o.obligation_id, level = o.level, "An obligation ran out.");
                Event::Overdue(ev::ObligationOverdue {
                    obligation_id: o.obligation_id.clone(),
                    kind: o.kind.as_str().into(),
                    case_id: o.case_id.clone(),
                    referral_id: o.referral_id.clone(),
                    department: o.department.clone(),
                    level: u32::try_from(o.level).unwrap_or(2),
                    started_at: Some(to_ts(o.started_at)),
                    deadline: Some(to_ts(o.deadline)),
                    threshold: Some(to_ts(threshold)),
                    limit: o.limit_text.clone(),
                })
            }
        };
        save_check(&mut tx, &o).await?;
        // The case's clock belongs to no department; its events go to the town (`_`).
        let department = (!o.department.is_empty()).then_some(o.department.as_str());
        let new = || NewEvent {
            town: &o.town,
            department,
            aggregate_id: &o.obligation_id,
            actor: None,
            causation_id: None,
        };
        match &event {
            Event::Overdue(p) => {
                outbox
                    .emit(
                        &mut tx,
                        now,
                        new(),
                        AnyEvent::CountyObligationOverdue(p.clone()),
                    )
                    .await?
            }
            Event::Met(p) => {
                outbox
                    .emit(
                        &mut tx,
                        now,
                        new(),
                        AnyEvent::CountyObligationMet(p.clone()),
                    )
                    .await?
            }
        };
    }
    tx.commit().await?;
    Ok(n)
}

enum Event {
    Overdue(ev::ObligationOverdue),
    Met(ev::ObligationMet),
}

async fn save_check(tx: &mut Tx, o: &ObligationRow) -> Result<(), sqlx::Error> {
    with_tx!(tx, |c| sqlx::query(
        "UPDATE obligations SET level = $1, next_check_at = $2 WHERE obligation_id = $3"
    )
    .bind(o.level)
    .bind(o.next_check_at)
    .bind(&o.obligation_id)
    .execute(c)
    .await
    .map(|_| ()))?;
    Ok(())
}
