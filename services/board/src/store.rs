//! The board's tables: agenda items per town, members' opinions, and recorded meetings.

use chrono::{DateTime, Utc};
use liandong_store::{Db, Tx};
use liandong_store::{with_db, with_tx};

/// An agenda item: a joint case or a competence dispute, with the chair's decision and, for an
/// approved joint case, its progress.
#[derive(Debug, Clone, Default, sqlx::FromRow)]
pub struct ItemRow {
    pub item_id: String,
    pub town: String,
    pub kind: String,
    pub status: String,
    pub case_id: String,
    pub facts: Vec<u8>,
    pub departments: String,
    pub referral_id: Option<String>,
    pub returned_by: Option<String>,
    pub return_reason: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub decision: Option<String>,
    pub lead_department: Option<String>,
    /// JSON list of department codes.
    pub cooperating_departments: Option<String>,
    pub decided_department: Option<String>,
    /// `in_scope` or `out_of_scope` for a reclassified item.
    pub reclassified_path: Option<String>,
    pub decision_reason: Option<String>,
    pub decided_at: Option<DateTime<Utc>>,
    pub decided_by: Option<String>,
    pub meeting_id: Option<String>,
    /// JSON list of the cooperating departments that completed their tasks.
    pub completed_by: Option<String>,
    /// The lead's entrusted decision, an encoded `liandong.events.v1.Outcome`.
    pub entrusted_decision: Option<Vec<u8>>,
    pub executed_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct OpinionRow {
    pub opinion_id: String,
    pub item_id: String,
    pub town: String,
    pub member: String,
    pub opinion: String,
    pub at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct MeetingRow {
    pub meeting_id: String,
    pub town: String,
    pub held_at: DateTime<Utc>,
    /// JSON list of attendees (officer ids or names).
    pub attendees: String,
    /// JSON list of agenda item ids.
    pub item_ids: String,
    pub notes: String,
    pub recorded_by: String,
    pub created_at: DateTime<Utc>,
}

/// Puts an item on the agenda; the same item arriving twice changes nothing.
pub async fn insert(tx: &mut Tx, i: &ItemRow) -> Result<bool, sqlx::Error> {
    with_tx!(tx, |c| {
        sqlx::query(
        "INSERT INTO agenda_items (item_id, town, kind, status, case_id, facts, departments, referral_id, returned_by, \
         return_reason, created_at, updated_at) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12) ON CONFLICT (item_id) DO NOTHING"
    )
    .bind(&i.item_id)
    .bind(&i.town)
    .bind(&i.kind)
    .bind(&i.status)
    .bind(&i.case_id)
    .bind(&i.facts)
    .bind(&i.departments)
    .bind(&i.referral_id)
    .bind(&i.returned_by)
    .bind(&i.return_reason)
    .bind(i.created_at)
    .bind(i.updated_at)
    .execute(c)
    .await
    .map(|r| r.rows_affected() == 1)
    })
}

/// Writes an item's decision and progress, but only if its status is still `expected`: two
/// chairs ruling at once cannot both win, on either backend, without row locks.
pub async fn update(tx: &mut Tx, i: &ItemRow, expected: &str) -> Result<bool, sqlx::Error> {
    with_tx!(tx, |c| {
        sqlx::query(
            "UPDATE agenda_items SET status = $2, updated_at = $3, decision = $4, lead_department = $5, \
             cooperating_departments = $6, decided_department = $7, reclassified_path = $8, decision_reason = $9, \
             decided_at = $10, decided_by = $11, meeting_id = $12, completed_by = $13, entrusted_decision = $14, \
             executed_at = $15 WHERE item_id = $1 AND status = $16",
        )
        .bind(&i.item_id)
        .bind(&i.status)
        .bind(i.updated_at)
        .bind(&i.decision)
        .bind(&i.lead_department)
        .bind(&i.cooperating_departments)
        .bind(&i.decided_department)
        .bind(&i.reclassified_path)
        .bind(&i.decision_reason)
        .bind(i.decided_at)
        .bind(&i.decided_by)
        .bind(&i.meeting_id)
        .bind(&i.completed_by)
        .bind(&i.entrusted_decision)
        .bind(i.executed_at)
        .bind(expected)
        .execute(c)
        .await
        .map(|r| r.rows_affected() == 1)
    })
}

pub async fn get(db: &Db, item_id: &str) -> Result<Option<ItemRow>, sqlx::Error> {
    with_db!(db, |p| sqlx::query_as(
        "SELECT * FROM agenda_items WHERE item_id = $1"
    )
    .bind(item_id)
    .fetch_optional(p)
    .await)
}

pub async fn get_in_tx(tx: &mut Tx, item_id: &str) -> Result<Option<ItemRow>, sqlx::Error> {
    with_tx!(tx, |c| sqlx::query_as(
        "SELECT * FROM agenda_items WHERE item_id = $1"
    )
    .bind(item_id)
    .fetch_optional(c)
    .await)
}

/// The joint-case item of `case_id` in `town` that the chair approved and that is not yet closed.
pub async fn approved_item_of_case(
    tx: &mut Tx,
    town: &str,
    case_id: &str,
) -> Result<Option<ItemRow>, sqlx::Error> {
    with_tx!(tx, |c| {
        sqlx::query_as(
        "SELECT * FROM agenda_items WHERE town = $1 AND case_id = $2 AND kind = 'joint_case' \
         AND status IN ('approved', 'decided', 'executed') ORDER BY created_at DESC, item_id LIMIT 1"
    )
    .bind(town)
    .bind(case_id)
    .fetch_optional(c)
    .await
    })
}

/// Items awaiting the meeting, oldest first.
pub async fn open_items(db: &Db, town: &str, limit: i64) -> Result<Vec<ItemRow>, sqlx::Error> {
    with_db!(db, |p| {
        sqlx::query_as(
        "SELECT * FROM agenda_items WHERE town = $1 AND status IN ('on_agenda', 'open') ORDER BY created_at, item_id LIMIT $2"
    )
    .bind(town)
    .bind(limit)
    .fetch_all(p)
    .await
    })
}

/// Items already ruled on, newest first.
pub async fn decided_items(db: &Db, town: &str, limit: i64) -> Result<Vec<ItemRow>, sqlx::Error> {
    with_db!(db, |p| {
        sqlx::query_as(
            "SELECT * FROM agenda_items WHERE town = $1 AND status NOT IN ('on_agenda', 'open') \
         ORDER BY created_at DESC, item_id DESC LIMIT $2",
        )
        .bind(town)
        .bind(limit)
        .fetch_all(p)
        .await
    })
}

pub async fn insert_opinion(tx: &mut Tx, o: &OpinionRow) -> Result<(), sqlx::Error> {
    with_tx!(tx, |c| {
        sqlx::query(
        "INSERT INTO opinions (opinion_id, item_id, town, member, opinion, at) VALUES ($1,$2,$3,$4,$5,$6)"
    )
    .bind(&o.opinion_id)
    .bind(&o.item_id)
    .bind(&o.town)
    .bind(&o.member)
    .bind(&o.opinion)
    .bind(o.at)
    .execute(c)
    .await
    .map(|_| ())
    })
}

/// An item's opinions in the order they were given.
pub async fn opinions(db: &Db, item_id: &str) -> Result<Vec<OpinionRow>, sqlx::Error> {
    with_db!(db, |p| sqlx::query_as(
        "SELECT * FROM opinions WHERE item_id = $1 ORDER BY at, opinion_id"
    )
    .bind(item_id)
    .fetch_all(p)
    .await)
}

pub async fn opinions_in_tx(tx: &mut Tx, item_id: &str) -> Result<Vec<OpinionRow>, sqlx::Error> {
    with_tx!(tx, |c| sqlx::query_as(
        "SELECT * FROM opinions WHERE item_id = $1 ORDER BY at, opinion_id"
    )
    .bind(item_id)
    .fetch_all(c)
    .await)
}

pub async fn insert_meeting(tx: &mut Tx, m: &MeetingRow) -> Result<(), sqlx::Error> {
    with_tx!(tx, |c| {
        sqlx::query(
        "INSERT INTO meetings (meeting_id, town, held_at, attendees, item_ids, notes, recorded_by, created_at) \
         VALUES ($1,$2,$3,$4,$5,$6,$7,$8)"
    )
    .bind(&m.meeting_id)
    .bind(&m.town)
    .bind(m.held_at)
    .bind(&m.attendees)
    .bind(&m.item_ids)
    .bind(&m.notes)
    .bind(&m.recorded_by)
    .bind(m.created_at)
    .execute(c)
    .await
    .map(|_| ())
    })
}

pub async fn get_meeting(db: &Db, meeting_id: &str) -> Result<Option<MeetingRow>, sqlx::Error> {
    with_db!(db, |p| sqlx::query_as(
        "SELECT * FROM meetings WHERE meeting_id = $1"
    )
    .bind(meeting_id)
    .fetch_optional(p)
    .await)
}

pub async fn get_meeting_in_tx(
    tx: &mut Tx,
    meeting_id: &str,
) -> Result<Option<MeetingRow>, sqlx::Error> {
    with_tx!(tx, |c| sqlx::query_as(
        "SELECT * FROM meetings WHERE meeting_id = $1"
    )
    .bind(meeting_id)
    .fetch_optional(c)
    .await)
}
