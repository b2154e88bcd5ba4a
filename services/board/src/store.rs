//! The board's tables: agenda items per town.

use chrono::{DateTime, Utc};
use liandong_plumbing::store::{Db, Tx};
use liandong_plumbing::{with_db, with_tx};

#[derive(Debug, Clone, sqlx::FromRow)]
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
