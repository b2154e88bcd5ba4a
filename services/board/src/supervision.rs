//! The chair's supervision list (督办): cases whose clocks ran out (from the county's
//! `obligation_overdue`), cases returned as often as the cap allows, the departments' extension
//! requests and the chair's answers; and the town's patrol and persuasion figures.

use std::sync::Arc;

use chrono::{DateTime, Datelike, Utc};
use liandong_bus::{Change, HandlerError, NewEvent, Outbox};
use liandong_config::clock::SharedClock;
use liandong_domain::agenda::ItemKind;
use liandong_domain::auth::{Action, Actor, Resource, permits};
use liandong_domain::calendar::{Calendar, Deadline};
use liandong_domain::ids::{DepartmentCode, TownCode};
use liandong_domain::limits::Validator;
use liandong_domain::time_limits::{
    ExtensionStatus, ObligationKind, SupervisionReason, TimeLimits,
};
use liandong_grpc::{ApiError, actor_to_event};
use liandong_proto::board::v1 as pb;
use liandong_proto::events::v1 as ev;
use liandong_proto::time::{from_ts, to_ts};
use liandong_store::typed::{Nullable, decode, decode_all};
use liandong_store::{Db, Tx};
use liandong_store::{with_db, with_tx};
use liandong_topology::AnyEvent;

pub const ENTRIES: &str = "supervision";
pub const REQUESTS: &str = "extension_requests";

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct EntryRow {
    pub entry_id: String,
    pub town: String,
    pub case_id: String,
    pub department: String,
    pub referral_id: String,
    #[sqlx(try_from = "String")]
    pub reason: SupervisionReason,
    pub obligation_id: String,
    /// The obligation whose clock ran out; none ('') for a case returned up to the cap.
    #[sqlx(try_from = "String")]
    pub kind: Nullable<ObligationKind>,
    #[sqlx(try_from = "i64")]
    pub level: u32,
    pub deadline: Option<DateTime<Utc>>,
    pub raised_at: DateTime<Utc>,
    pub resolved_at: Option<DateTime<Utc>>,
    /// How often the case was returned, for a return-cap entry.
    #[sqlx(try_from = "i64")]
    pub returns: u32,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct RequestRow {
    pub request_id: String,
    pub town: String,
    pub obligation_id: String,
    #[sqlx(try_from = "String")]
    pub kind: ObligationKind,
    pub case_id: String,
    pub referral_id: String,
    pub department: String,
    #[sqlx(try_from = "i64")]
    pub working_days: u32,
    pub reason: String,
    pub current_deadline: DateTime<Utc>,
    #[sqlx(try_from = "String")]
    pub status: ExtensionStatus,
    pub new_deadline: Option<DateTime<Utc>>,
    pub note: Option<String>,
    pub requested_at: DateTime<Utc>,
    pub decided_at: Option<DateTime<Utc>>,
}

fn entry_to_pb(e: &EntryRow) -> pb::SupervisionEntry {
    pb::SupervisionEntry {
        entry_id: e.entry_id.clone(),
        town: e.town.clone(),
        case_id: e.case_id.clone(),
        department: e.department.clone(),
        referral_id: e.referral_id.clone(),
        reason: e.reason.as_str().into(),
        obligation_id: e.obligation_id.clone(),
        kind: e.kind.map_or("", ObligationKind::as_str).into(),
        level: e.level,
        deadline: e.deadline.map(to_ts),
        raised_at: Some(to_ts(e.raised_at)),
        resolved_at: e.resolved_at.map(to_ts),
        returns: e.returns,
    }
}

fn request_to_pb(r: &RequestRow) -> pb::ExtensionRequest {
    pb::ExtensionRequest {
        request_id: r.request_id.clone(),
        town: r.town.clone(),
        obligation_id: r.obligation_id.clone(),
        kind: r.kind.as_str().into(),
        case_id: r.case_id.clone(),
        referral_id: r.referral_id.clone(),
        department: r.department.clone(),
        working_days: r.working_days,
        reason: r.reason.clone(),
        current_deadline: Some(to_ts(r.current_deadline)),
        status: r.status.as_str().into(),
        new_deadline: r.new_deadline.map(to_ts),
        note: r.note.clone().unwrap_or_default(),
        requested_at: Some(to_ts(r.requested_at)),
        decided_at: r.decided_at.map(to_ts),
    }
}

/// Puts a case on the list, or raises its entry to `level`; the entry of an obligation is one
/// row, whatever the number of thresholds it passed.
async fn raise(tx: &mut Tx, e: &EntryRow) -> Result<(), sqlx::Error> {
    with_tx!(tx, |c| {
        sqlx::query(
        "INSERT INTO supervision (entry_id, town, case_id, department, referral_id, reason, obligation_id, kind, level, \
         deadline, raised_at, resolved_at, returns) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,NULL,$12) \
         ON CONFLICT (entry_id) DO UPDATE SET level = CASE WHEN supervision.level > excluded.level \
         THEN supervision.level ELSE excluded.level END, deadline = excluded.deadline, returns = excluded.returns"
    )
    .bind(&e.entry_id)
    .bind(&e.town)
    .bind(&e.case_id)
    .bind(&e.department)
    .bind(&e.referral_id)
    .bind(e.reason.as_str())
    .bind(&e.obligation_id)
    .bind(e.kind.map_or("", ObligationKind::as_str))
    .bind(i64::from(e.level))
    .bind(e.deadline)
    .bind(e.raised_at)
    .bind(i64::from(e.returns))
    .execute(c)
    .await
    .map(|_| ())
    })
}

/// An obligation that ran past a threshold, for the chair's list.
pub struct Overdue<'a> {
    pub obligation_id: &'a str,
    pub town: &'a str,
    pub case_id: &'a str,
    pub department: &'a str,
    pub referral_id: &'a str,
    pub kind: ObligationKind,
    pub level: u32,
    pub deadline: Option<DateTime<Utc>>,
}

/// Puts `o` on the chair's list (or raises its entry to the new level), as the county's and
/// the brigade's `obligation_overdue` do; the board's own clock calls it directly.
pub async fn raise_overdue(
    tx: &mut Tx,
    o: &Overdue<'_>,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    raise(
        tx,
        &EntryRow {
            entry_id: o.obligation_id.to_owned(),
            town: o.town.to_owned(),
            case_id: o.case_id.to_owned(),
            department: o.department.to_owned(),
            referral_id: o.referral_id.to_owned(),
            reason: SupervisionReason::Overdue,
            obligation_id: o.obligation_id.to_owned(),
            kind: Nullable(Some(o.kind)),
            level: o.level,
            deadline: o.deadline,
            raised_at: now,
            resolved_at: None,
            returns: 0,
        },
    )
    .await
}

/// Resolves the entry of an obligation that was met at last.
pub async fn resolve(
    tx: &mut Tx,
    obligation_id: &str,
    met: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    with_tx!(tx, |c| {
        sqlx::query(
            "UPDATE supervision SET resolved_at = $1 WHERE entry_id = $2 AND resolved_at IS NULL",
        )
        .bind(met)
        .bind(obligation_id)
        .execute(c)
        .await
        .map(|_| ())
    })
}

/// A returned referral was made a dispute: when it is the case's `cap`-th return, the case goes
/// on the chair's supervision list too, and the county takes no further return of it.
pub async fn note_return(
    tx: &mut Tx,
    town: &str,
    case_id: &str,
    department: &str,
    referral_id: &str,
    cap: u32,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    let returns: i64 = with_tx!(tx, |c| sqlx::query_scalar(
        "SELECT COUNT(*) FROM agenda_items WHERE case_id = $1 AND kind = $2"
    )
    .bind(case_id)
    .bind(ItemKind::CompetenceDispute.as_str())
    .fetch_one(c)
    .await)?;
    // A count beyond u32 is past any cap.
    let returns = u32::try_from(returns).unwrap_or(u32::MAX);
    if liandong_domain::time_limits::return_reaches_cap(returns, cap) {
        raise(
            tx,
            &EntryRow {
                entry_id: format!("{case_id}:return_cap"),
                town: town.to_owned(),
                case_id: case_id.to_owned(),
                department: department.to_owned(),
                referral_id: referral_id.to_owned(),
                reason: SupervisionReason::ReturnCap,
                obligation_id: String::new(),
                kind: Nullable(None),
                level: 1,
                deadline: None,
                raised_at: now,
                resolved_at: None,
                returns,
            },
        )
        .await?;
    }
    Ok(())
}

/// A clock ran out: the county's on its departments, or the brigade's on its own cases (the 90
/// days of 行政处罚法 第六十条). It goes on the chair's supervision list (督办).
pub(crate) async fn overdue(
    tx: &mut Tx,
    env: &ev::Envelope,
    e: ev::ObligationOverdue,
    now: DateTime<Utc>,
) -> Result<(), HandlerError> {
    let kind = obligation_kind(env, &e.kind)?;
    raise_overdue(
        tx,
        &Overdue {
            obligation_id: &e.obligation_id,
            town: &env.town,
            case_id: &e.case_id,
            department: &e.department,
            referral_id: &e.referral_id,
            kind,
            level: e.level,
            deadline: from_ts(e.deadline.as_ref()),
        },
        now,
    )
    .await?;
    Ok(())
}

/// The obligation an event names; one the hub does not know is refused, naming the event.
fn obligation_kind(env: &ev::Envelope, kind: &str) -> Result<ObligationKind, HandlerError> {
    ObligationKind::parse(kind)
        .map_err(|e| HandlerError::Reject(format!("{} {}: {e}", env.event_type, env.event_id)))
}

/// A clock that had run out was met at last: its entries on the list are resolved.
pub(crate) async fn met(
    tx: &mut Tx,
    e: ev::ObligationMet,
    now: DateTime<Utc>,
) -> Result<(), HandlerError> {
    let met = from_ts(e.met_at.as_ref()).unwrap_or(now);
    resolve(tx, &e.obligation_id, met).await?;
    Ok(())
}

/// A department asks the chair for more time (延期): a pending request on the list.
pub(crate) async fn extension_requested(
    tx: &mut Tx,
    env: &ev::Envelope,
    e: ev::ExtensionRequested,
    now: DateTime<Utc>,
) -> Result<(), HandlerError> {
    let current = from_ts(e.current_deadline.as_ref())
        .ok_or_else(|| HandlerError::Reject("an extension request without its deadline".into()))?;
    let kind = obligation_kind(env, &e.kind)?;
    with_tx!(tx, |c| {
        sqlx::query(
        "INSERT INTO extension_requests (request_id, town, obligation_id, kind, case_id, referral_id, department, \
         working_days, reason, current_deadline, status, new_deadline, note, requested_at, decided_at) \
         VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$12,NULL,NULL,$11,NULL) ON CONFLICT (request_id) DO NOTHING"
    )
    .bind(&e.request_id)
    .bind(&env.town)
    .bind(&e.obligation_id)
    .bind(kind.as_str())
    .bind(&e.case_id)
    .bind(&e.referral_id)
    .bind(&e.department)
    .bind(i64::from(e.working_days))
    .bind(&e.reason)
    .bind(current)
    .bind(from_ts(env.occurred_at.as_ref()).unwrap_or(now))
    .bind(ExtensionStatus::Pending.as_str())
    .execute(c)
    .await
    .map(|_| ())
    })?;
    Ok(())
}

/// Counts a patrol or a persuasion turnout per town and Beijing year.
pub(crate) async fn count_activity(
    tx: &mut Tx,
    env: &ev::Envelope,
    at: DateTime<Utc>,
    patrols: i64,
    persuasions: i64,
    persons: i64,
) -> Result<(), HandlerError> {
    let year = i64::from(Calendar::local_date(at).year());
    with_tx!(tx, |c| {
        sqlx::query(
        "INSERT INTO activity_figures (town, year, patrols, persuasions, persons_persuaded) VALUES ($1,$2,$3,$4,$5) \
         ON CONFLICT (town, year) DO UPDATE SET patrols = activity_figures.patrols + excluded.patrols, \
         persuasions = activity_figures.persuasions + excluded.persuasions, \
         persons_persuaded = activity_figures.persons_persuaded + excluded.persons_persuaded"
    )
    .bind(&env.town)
    .bind(year)
    .bind(patrols)
    .bind(persuasions)
    .bind(persons)
    .execute(c)
    .await
    .map(|_| ())
    })?;
    Ok(())
}

/// The supervision half of the board's API.
pub struct Supervision {
    pub db: Db,
    pub outbox: Outbox,
    pub clock: SharedClock,
    pub calendar: Arc<Calendar>,
    pub note_chars: usize,
}

fn town_resource(town: &str) -> Result<Resource, ApiError> {
    Ok(Resource {
        town: TownCode::parse(town).map_err(|e| ApiError::Internal(e.into()))?,
        department: None,
    })
}

impl Supervision {
    pub async fn list(
        &self,
        actor: &Actor,
        r: pb::ListSupervisionRequest,
    ) -> Result<pb::ListSupervisionResponse, ApiError> {
        let mut v = Validator::new();
        let town = v.check("town", TownCode::parse(&r.town));
        v.finish().map_err(ApiError::Invalid)?;
        let town = town.expect("checked");
        permits(
            actor,
            Action::ReadAgenda,
            &Resource {
                town: town.clone(),
                department: None,
            },
        )?;
        let entries = entries(&self.db, town.as_str(), r.include_resolved).await?;
        let requests = requests(&self.db, town.as_str()).await?;
        Ok(pb::ListSupervisionResponse {
            entries: entries.iter().map(entry_to_pb).collect(),
            extension_requests: requests.iter().map(request_to_pb).collect(),
        })
    }

    pub async fn decide(
        &self,
        actor: &Actor,
        r: pb::DecideExtensionRequest,
    ) -> Result<pb::DecideExtensionResponse, ApiError> {
        let mut v = Validator::new();
        if r.request_id.trim().is_empty() {
            v.violation("request_id", "name the extension request");
        }
        // A refusal must say why; a grant may.
        v.text("note", &r.note, self.note_chars, !r.grant);
        v.finish().map_err(ApiError::Invalid)?;
        let now = self.clock.now();
        let mut tx = Change::begin(&self.db, &self.outbox).await?;
        let mut row = request_in_tx(&mut tx, &r.request_id)
            .await?
            .ok_or_else(|| ApiError::NotFound(format!("no extension request {}", r.request_id)))?;
        permits(actor, Action::DecideExtension, &town_resource(&row.town)?)?;
        if row.status != ExtensionStatus::Pending {
            return Err(ApiError::FailedPrecondition(format!(
                "extension request {} was already {}",
                row.request_id, row.status
            )));
        }
        let days = row.working_days;
        row.status = if r.grant {
            ExtensionStatus::Granted
        } else {
            ExtensionStatus::Refused
        };
        row.decided_at = Some(now);
        row.note = Some(r.note.trim().to_owned());
        if r.grant {
            let current = Deadline {
                due: row.current_deadline,
                last_day: Calendar::local_date(row.current_deadline - chrono::Duration::seconds(1)),
                provisional: false,
            };
            let moved = TimeLimits::extend(&self.calendar, &current, days);
            liandong_runtime::note_deadline(&moved, "extension");
            row.new_deadline = Some(moved.due);
        }
        with_tx!(tx.tx(), |c| {
            sqlx::query(
            "UPDATE extension_requests SET status = $1, decided_at = $2, note = $3, new_deadline = $4 WHERE request_id = $5"
        )
        .bind(row.status.as_str())
        .bind(row.decided_at)
        .bind(&row.note)
        .bind(row.new_deadline)
        .bind(&row.request_id)
        .execute(c)
        .await
        .map(|_| ())
        })?;
        let payload = ev::ExtensionDecided {
            request_id: row.request_id.clone(),
            obligation_id: row.obligation_id.clone(),
            case_id: row.case_id.clone(),
            department: row.department.clone(),
            working_days: days,
            new_deadline: row.new_deadline.map(to_ts),
            note: row.note.clone().unwrap_or_default(),
        };
        let department =
            DepartmentCode::parse(&row.department).map_err(|e| ApiError::Internal(e.into()))?;
        self.outbox
            .emit(
                &mut tx,
                now,
                NewEvent {
                    town: &row.town,
                    department: Some(department.as_str()),
                    aggregate_id: &row.request_id,
                    actor: Some(actor_to_event(actor)),
                    causation_id: None,
                },
                if r.grant {
                    AnyEvent::BoardExtensionGranted(payload)
                } else {
                    AnyEvent::BoardExtensionRefused(payload)
                },
            )
            .await?;
        tx.commit().await?;
        Ok(pb::DecideExtensionResponse {
            request: Some(request_to_pb(&row)),
        })
    }

    pub async fn figures(
        &self,
        actor: &Actor,
        r: pb::GetActivityFiguresRequest,
    ) -> Result<pb::GetActivityFiguresResponse, ApiError> {
        let mut v = Validator::new();
        let town = v.check("town", TownCode::parse(&r.town));
        if !(2000..=2100).contains(&r.year) {
            v.violation("year", "a year from 2000 to 2100");
        }
        v.finish().map_err(ApiError::Invalid)?;
        let town = town.expect("checked");
        permits(
            actor,
            Action::ReadAgenda,
            &Resource {
                town: town.clone(),
                department: None,
            },
        )?;
        let row: Option<(i64, i64, i64)> = with_db!(&self.db, |p| {
            sqlx::query_as(
            "SELECT patrols, persuasions, persons_persuaded FROM activity_figures WHERE town = $1 AND year = $2"
        )
        .bind(town.as_str())
        .bind(i64::from(r.year))
        .fetch_optional(p)
        .await
        })?;
        let (patrols, persuasions, persons) = row.unwrap_or_default();
        let n = |x: i64| u32::try_from(x).unwrap_or(u32::MAX);
        Ok(pb::GetActivityFiguresResponse {
            town: town.to_string(),
            year: r.year,
            patrols: n(patrols),
            persuasions: n(persuasions),
            persons_persuaded: n(persons),
        })
    }
}

/// A town's supervision list, the highest level first; only the open entries unless
/// `include_resolved`.
pub async fn entries(
    db: &Db,
    town: &str,
    include_resolved: bool,
) -> Result<Vec<EntryRow>, sqlx::Error> {
    with_db!(db, |p| {
        let rows = sqlx::query(
            "SELECT * FROM supervision WHERE town = $1 AND ($2 OR resolved_at IS NULL) \
             ORDER BY level DESC, raised_at, entry_id LIMIT 500",
        )
        .bind(town)
        .bind(include_resolved)
        .fetch_all(p)
        .await?;
        decode_all(&rows, ENTRIES, "entry_id")
    })
}

/// A town's extension requests, newest first.
pub async fn requests(db: &Db, town: &str) -> Result<Vec<RequestRow>, sqlx::Error> {
    with_db!(db, |p| {
        let rows = sqlx::query(
            "SELECT * FROM extension_requests WHERE town = $1 \
             ORDER BY requested_at DESC, request_id LIMIT 500",
        )
        .bind(town)
        .fetch_all(p)
        .await?;
        decode_all(&rows, REQUESTS, "request_id")
    })
}

/// One extension request, locked for the chair's answer on PostgreSQL (SQLite's transactions
/// take the write lock when they begin).
pub async fn request_in_tx(
    tx: &mut Tx,
    request_id: &str,
) -> Result<Option<RequestRow>, sqlx::Error> {
    let sql = match tx {
        Tx::Postgres(_) => "SELECT * FROM extension_requests WHERE request_id = $1 FOR UPDATE",
        Tx::Sqlite(_) => "SELECT * FROM extension_requests WHERE request_id = $1",
    };
    with_tx!(tx, |c| sqlx::query(sql)
        .bind(request_id)
        .fetch_optional(c)
        .await?
        .map(|r| decode(&r, REQUESTS, "request_id"))
        .transpose())
}
