//! The board's tables: agenda items per town, members' opinions, and recorded meetings.
//!
//! Rows are read as raw rows and decoded with `liandong_store::typed::decode`, so a column that
//! no longer reads as its type is an error naming the table, the row and the column.

use chrono::{DateTime, Utc};
use liandong_domain::agenda::{ChairDecision, ItemKind, ItemStatus};
use liandong_domain::state::{DisputeStatus, JointStatus};
use liandong_domain::triage::Path;
use liandong_proto::events::v1 as ev;
use liandong_store::typed::{Json, Nullable, Proto, decode, decode_all};
use liandong_store::{Db, Tx};
use liandong_store::{with_db, with_tx};

pub const ITEMS: &str = "agenda_items";
pub const MEETINGS: &str = "meetings";

/// An agenda item: a joint case or a competence dispute, with the chair's decision and, for an
/// approved joint case, its progress.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct ItemRow {
    pub item_id: String,
    pub town: String,
    #[sqlx(try_from = "String")]
    pub kind: ItemKind,
    #[sqlx(try_from = "String")]
    pub status: ItemStatus,
    pub case_id: String,
    #[sqlx(try_from = "Vec<u8>")]
    pub facts: Proto<ev::CaseFacts>,
    /// The department codes the brigade named.
    #[sqlx(try_from = "String")]
    pub departments: Json<Vec<String>>,
    pub referral_id: Option<String>,
    pub returned_by: Option<String>,
    pub return_reason: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    #[sqlx(try_from = "Option<String>")]
    pub decision: Nullable<ChairDecision>,
    pub lead_department: Option<String>,
    /// Department codes, once the chair approved a joint case.
    #[sqlx(try_from = "Option<String>")]
    pub cooperating_departments: Nullable<Json<Vec<String>>>,
    pub decided_department: Option<String>,
    /// Where the chair reclassified a joint case to: in scope or out of scope.
    #[sqlx(try_from = "Option<String>")]
    pub reclassified_path: Nullable<Path>,
    pub decision_reason: Option<String>,
    pub decided_at: Option<DateTime<Utc>>,
    pub decided_by: Option<String>,
    pub meeting_id: Option<String>,
    /// The cooperating departments that completed their tasks.
    #[sqlx(try_from = "Option<String>")]
    pub completed_by: Nullable<Json<Vec<String>>>,
    /// The lead's entrusted decision.
    #[sqlx(try_from = "Option<Vec<u8>>")]
    pub entrusted_decision: Nullable<Proto<ev::Outcome>>,
    pub executed_at: Option<DateTime<Utc>>,
}

impl ItemRow {
    /// An item just put on the agenda, in the first status of its machine: nothing decided.
    pub fn on_agenda(
        item_id: String,
        town: String,
        status: ItemStatus,
        facts: ev::CaseFacts,
        departments: Vec<String>,
        now: DateTime<Utc>,
    ) -> ItemRow {
        ItemRow {
            item_id,
            town,
            kind: status.kind(),
            status,
            case_id: facts.case_id.clone(),
            facts: Proto(facts),
            departments: Json(departments),
            referral_id: None,
            returned_by: None,
            return_reason: None,
            created_at: now,
            updated_at: now,
            decision: Nullable(None),
            lead_department: None,
            cooperating_departments: Nullable(None),
            decided_department: None,
            reclassified_path: Nullable(None),
            decision_reason: None,
            decided_at: None,
            decided_by: None,
            meeting_id: None,
            completed_by: Nullable(None),
            entrusted_decision: Nullable(None),
            executed_at: None,
        }
    }

    /// The cooperating departments the chair named; none before an approval.
    pub fn cooperating(&self) -> &[String] {
        self.cooperating_departments
            .as_ref()
            .map_or(&[], |d| d.as_slice())
    }

    /// The cooperating departments that completed their tasks; none before the first.
    pub fn completed(&self) -> &[String] {
        self.completed_by.as_ref().map_or(&[], |d| d.as_slice())
    }
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
    /// Attendees (officer ids or names).
    #[sqlx(try_from = "String")]
    pub attendees: Json<Vec<String>>,
    /// Agenda item ids.
    #[sqlx(try_from = "String")]
    pub item_ids: Json<Vec<String>>,
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
    .bind(i.kind.as_str())
    .bind(i.status.as_str())
    .bind(&i.case_id)
    .bind(i.facts.bytes())
    .bind(i.departments.text())
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
pub async fn update(tx: &mut Tx, i: &ItemRow, expected: ItemStatus) -> Result<bool, sqlx::Error> {
    with_tx!(tx, |c| {
        sqlx::query(
            "UPDATE agenda_items SET status = $2, updated_at = $3, decision = $4, lead_department = $5, \
             cooperating_departments = $6, decided_department = $7, reclassified_path = $8, decision_reason = $9, \
             decided_at = $10, decided_by = $11, meeting_id = $12, completed_by = $13, entrusted_decision = $14, \
             executed_at = $15 WHERE item_id = $1 AND status = $16",
        )
        .bind(&i.item_id)
        .bind(i.status.as_str())
        .bind(i.updated_at)
        .bind(i.decision.map(ChairDecision::as_str))
        .bind(&i.lead_department)
        .bind(i.cooperating_departments.text())
        .bind(&i.decided_department)
        .bind(i.reclassified_path.map(|p| p.as_str()))
        .bind(&i.decision_reason)
        .bind(i.decided_at)
        .bind(&i.decided_by)
        .bind(&i.meeting_id)
        .bind(i.completed_by.text())
        .bind(i.entrusted_decision.bytes())
        .bind(i.executed_at)
        .bind(expected.as_str())
        .execute(c)
        .await
        .map(|r| r.rows_affected() == 1)
    })
}

pub async fn get(db: &Db, item_id: &str) -> Result<Option<ItemRow>, sqlx::Error> {
    with_db!(db, |p| sqlx::query(
        "SELECT * FROM agenda_items WHERE item_id = $1"
    )
    .bind(item_id)
    .fetch_optional(p)
    .await?
    .map(|r| decode(&r, ITEMS, "item_id"))
    .transpose())
}

pub async fn get_in_tx(tx: &mut Tx, item_id: &str) -> Result<Option<ItemRow>, sqlx::Error> {
    with_tx!(tx, |c| sqlx::query(
        "SELECT * FROM agenda_items WHERE item_id = $1"
    )
    .bind(item_id)
    .fetch_optional(c)
    .await?
    .map(|r| decode(&r, ITEMS, "item_id"))
    .transpose())
}

/// The joint-case item of `case_id` in `town` that the chair approved and that is not yet closed.
pub async fn approved_item_of_case(
    tx: &mut Tx,
    town: &str,
    case_id: &str,
) -> Result<Option<ItemRow>, sqlx::Error> {
    with_tx!(tx, |c| {
        sqlx::query(
            "SELECT * FROM agenda_items WHERE town = $1 AND case_id = $2 AND kind = $3 \
             AND status IN ($4, $5, $6) ORDER BY created_at DESC, item_id LIMIT 1",
        )
        .bind(town)
        .bind(case_id)
        .bind(ItemKind::JointCase.as_str())
        .bind(JointStatus::Approved.as_str())
        .bind(JointStatus::Decided.as_str())
        .bind(JointStatus::Executed.as_str())
        .fetch_optional(c)
        .await?
        .map(|r| decode(&r, ITEMS, "item_id"))
        .transpose()
    })
}

/// Items awaiting the meeting, oldest first.
pub async fn open_items(db: &Db, town: &str, limit: i64) -> Result<Vec<ItemRow>, sqlx::Error> {
    with_db!(db, |p| {
        let rows = sqlx::query(
            "SELECT * FROM agenda_items WHERE town = $1 AND status IN ($3, $4) \
             ORDER BY created_at, item_id LIMIT $2",
        )
        .bind(town)
        .bind(limit)
        .bind(JointStatus::OnAgenda.as_str())
        .bind(DisputeStatus::Open.as_str())
        .fetch_all(p)
        .await?;
        decode_all(&rows, ITEMS, "item_id")
    })
}

/// Items already ruled on, newest first.
pub async fn decided_items(db: &Db, town: &str, limit: i64) -> Result<Vec<ItemRow>, sqlx::Error> {
    with_db!(db, |p| {
        let rows = sqlx::query(
            "SELECT * FROM agenda_items WHERE town = $1 AND status NOT IN ($3, $4) \
             ORDER BY created_at DESC, item_id DESC LIMIT $2",
        )
        .bind(town)
        .bind(limit)
        .bind(JointStatus::OnAgenda.as_str())
        .bind(DisputeStatus::Open.as_str())
        .fetch_all(p)
        .await?;
        decode_all(&rows, ITEMS, "item_id")
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
    .bind(m.attendees.text())
    .bind(m.item_ids.text())
    .bind(&m.notes)
    .bind(&m.recorded_by)
    .bind(m.created_at)
    .execute(c)
    .await
    .map(|_| ())
    })
}

pub async fn get_meeting(db: &Db, meeting_id: &str) -> Result<Option<MeetingRow>, sqlx::Error> {
    with_db!(db, |p| sqlx::query(
        "SELECT * FROM meetings WHERE meeting_id = $1"
    )
    .bind(meeting_id)
    .fetch_optional(p)
    .await?
    .map(|r| decode(&r, MEETINGS, "meeting_id"))
    .transpose())
}

pub async fn get_meeting_in_tx(
    tx: &mut Tx,
    meeting_id: &str,
) -> Result<Option<MeetingRow>, sqlx::Error> {
    with_tx!(tx, |c| sqlx::query(
        "SELECT * FROM meetings WHERE meeting_id = $1"
    )
    .bind(meeting_id)
    .fetch_optional(c)
    .await?
    .map(|r| decode(&r, MEETINGS, "meeting_id"))
    .transpose())
}
