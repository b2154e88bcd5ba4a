//! The county's tables: referrals in departments' inboxes, and their history.

use chrono::{DateTime, Utc};
use liandong_domain::state::ReferralStatus;
use liandong_store::typed::{decode, decode_all};
use liandong_store::{Db, Tx};
use liandong_store::{with_db, with_tx};
use uuid::Uuid;

pub use crate::rows::ReferralRow;

/// Stores a referral that arrived; a second copy of the same referral changes nothing.
pub async fn insert(tx: &mut Tx, r: &ReferralRow) -> Result<bool, sqlx::Error> {
    with_tx!(tx, |c| {
        sqlx::query(
        "INSERT INTO referrals (referral_id, town, case_id, department, status, dispatch_no, facts, dispatched_at, received_at, \
         signed_for_at, accepted_at, concluded_at, staff, return_reason, outcome, updated_at, reason) \
         VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,NULL,NULL,NULL,$10,NULL,NULL,$11,$12) ON CONFLICT (referral_id) DO NOTHING"
    )
    .bind(&r.referral_id)
    .bind(&r.town)
    .bind(&r.case_id)
    .bind(&r.department)
    .bind(r.status.as_str())
    .bind(r.dispatch_no)
    .bind(r.facts.bytes())
    .bind(r.dispatched_at)
    .bind(r.received_at)
    .bind(r.staff.text())
    .bind(r.updated_at)
    .bind(&r.reason)
    .execute(c)
    .await
    .map(|r| r.rows_affected() == 1)
    })
}

/// The referrals table, as its rows are named when one cannot be read.
const TABLE: &str = "referrals";
const KEY: &str = "referral_id";

pub async fn get(db: &Db, referral_id: &str) -> Result<Option<ReferralRow>, sqlx::Error> {
    with_db!(db, |p| {
        let row = sqlx::query("SELECT * FROM referrals WHERE referral_id = $1")
            .bind(referral_id)
            .fetch_optional(p)
            .await?;
        row.as_ref().map(|r| decode(r, TABLE, KEY)).transpose()
    })
}

pub async fn get_in_tx(tx: &mut Tx, referral_id: &str) -> Result<Option<ReferralRow>, sqlx::Error> {
    with_tx!(tx, |c| {
        let row = sqlx::query("SELECT * FROM referrals WHERE referral_id = $1")
            .bind(referral_id)
            .fetch_optional(c)
            .await?;
        row.as_ref().map(|r| decode(r, TABLE, KEY)).transpose()
    })
}

pub async fn inbox(
    db: &Db,
    department: &str,
    status: Option<ReferralStatus>,
    town: Option<&str>,
    limit: i64,
) -> Result<Vec<ReferralRow>, sqlx::Error> {
    with_db!(db, |p| {
        let rows = sqlx::query(
        "SELECT * FROM referrals WHERE department = $1 AND ($2 IS NULL OR status = $2) AND ($3 IS NULL OR town = $3) \
         ORDER BY dispatched_at DESC, referral_id DESC LIMIT $4"
    )
    .bind(department)
    .bind(status.map(ReferralStatus::as_str))
    .bind(town)
    .bind(limit)
    .fetch_all(p)
    .await?;
        decode_all(&rows, TABLE, KEY)
    })
}

/// The latest referral of `case_id` to `department`, if the case was ever referred there.
pub async fn latest_referral_of_case(
    tx: &mut Tx,
    case_id: &str,
    department: &str,
) -> Result<Option<String>, sqlx::Error> {
    with_tx!(tx, |c| sqlx::query_scalar(
        "SELECT referral_id FROM referrals WHERE case_id = $1 AND department = $2 \
         ORDER BY dispatched_at DESC, referral_id DESC LIMIT 1"
    )
    .bind(case_id)
    .bind(department)
    .fetch_optional(c)
    .await)
}

/// Writes a referral's changed state back, stopping the clocks the new state meets.
pub async fn update(tx: &mut Tx, r: &ReferralRow) -> Result<(), sqlx::Error> {
    with_tx!(tx, |c| {
        sqlx::query(
        "UPDATE referrals SET status = $1, signed_for_at = $2, accepted_at = $3, concluded_at = $4, staff = $5, \
         return_reason = $6, outcome = $7, updated_at = $8 WHERE referral_id = $9"
    )
    .bind(r.status.as_str())
    .bind(r.signed_for_at)
    .bind(r.accepted_at)
    .bind(r.concluded_at)
    .bind(r.staff.text())
    .bind(&r.return_reason)
    .bind(r.outcome.bytes())
    .bind(r.updated_at)
    .bind(&r.referral_id)
    .execute(c)
    .await
    .map(|_| ())
    })?;
    // Whatever step changed it, the clocks it meets stop in the same transaction.
    crate::clocks::stop_met(tx, r).await
}

pub async fn add_history(
    tx: &mut Tx,
    referral_id: &str,
    at: DateTime<Utc>,
    kind: &str,
    actor: &str,
    detail: &str,
) -> Result<(), sqlx::Error> {
    with_tx!(tx, |c| {
        sqlx::query(
        "INSERT INTO referral_history (entry_id, referral_id, at, kind, actor, detail) VALUES ($1,$2,$3,$4,$5,$6)"
    )
    .bind(Uuid::now_v7().to_string())
    .bind(referral_id)
    .bind(at)
    .bind(kind)
    .bind(actor)
    .bind(detail)
    .execute(c)
    .await
    .map(|_| ())
    })
}
