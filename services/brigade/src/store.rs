//! The brigade's tables: cases, their history, referrals sent, and result copies.

use chrono::{DateTime, Utc};
use liandong_plumbing::store::{Db, Tx};
use liandong_plumbing::{with_db, with_tx};
use uuid::Uuid;

/// A case as stored.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct CaseRow {
    pub case_id: String,
    pub town: String,
    pub source: String,
    pub matters: String,
    pub village: String,
    pub location: String,
    pub description: String,
    pub found_at: DateTime<Utc>,
    pub reported_by: String,
    pub evidence_refs: String,
    pub complex: bool,
    pub path: String,
    pub rule: i64,
    pub deciding: String,
    pub departments: String,
    pub department: Option<String>,
    pub computed_path: String,
    pub override_reason: Option<String>,
    pub status: String,
    pub catalogue_version: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct HistoryRow {
    pub at: DateTime<Utc>,
    pub kind: String,
    pub actor: String,
    pub detail: String,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ReferralSentRow {
    pub referral_id: String,
    pub case_id: String,
    pub town: String,
    pub department: String,
}

pub async fn insert_case(tx: &mut Tx, c: &CaseRow) -> Result<(), sqlx::Error> {
    with_tx!(tx, |conn| {
        sqlx::query(
        "INSERT INTO cases (case_id, town, source, matters, village, location, description, found_at, reported_by, \
         evidence_refs, complex, path, rule, deciding, departments, department, computed_path, override_reason, status, \
         catalogue_version, created_at, updated_at) \
         VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$17,$18,$19,$20,$21,$22)"
    )
    .bind(&c.case_id)
    .bind(&c.town)
    .bind(&c.source)
    .bind(&c.matters)
    .bind(&c.village)
    .bind(&c.location)
    .bind(&c.description)
    .bind(c.found_at)
    .bind(&c.reported_by)
    .bind(&c.evidence_refs)
    .bind(c.complex)
    .bind(&c.path)
    .bind(c.rule)
    .bind(&c.deciding)
    .bind(&c.departments)
    .bind(&c.department)
    .bind(&c.computed_path)
    .bind(&c.override_reason)
    .bind(&c.status)
    .bind(&c.catalogue_version)
    .bind(c.created_at)
    .bind(c.updated_at)
    .execute(conn)
    .await
    .map(|_| ())
    })
}

pub async fn set_status(
    tx: &mut Tx,
    case_id: &str,
    status: &str,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    with_tx!(tx, |conn| sqlx::query(
        "UPDATE cases SET status = $1, updated_at = $2 WHERE case_id = $3"
    )
    .bind(status)
    .bind(now)
    .bind(case_id)
    .execute(conn)
    .await
    .map(|_| ()))
}

pub async fn case_in_tx(tx: &mut Tx, case_id: &str) -> Result<Option<CaseRow>, sqlx::Error> {
    with_tx!(tx, |conn| sqlx::query_as(
        "SELECT * FROM cases WHERE case_id = $1"
    )
    .bind(case_id)
    .fetch_optional(conn)
    .await)
}

pub async fn case(db: &Db, case_id: &str) -> Result<Option<CaseRow>, sqlx::Error> {
    with_db!(db, |p| sqlx::query_as(
        "SELECT * FROM cases WHERE case_id = $1"
    )
    .bind(case_id)
    .fetch_optional(p)
    .await)
}

pub async fn list_cases(
    db: &Db,
    town: &str,
    status: Option<&str>,
    limit: i64,
) -> Result<Vec<CaseRow>, sqlx::Error> {
    with_db!(db, |p| {
        sqlx::query_as(
        "SELECT * FROM cases WHERE town = $1 AND ($2 IS NULL OR status = $2) ORDER BY created_at DESC, case_id DESC LIMIT $3"
    )
    .bind(town)
    .bind(status)
    .bind(limit)
    .fetch_all(p)
    .await
    })
}

pub async fn history(db: &Db, case_id: &str) -> Result<Vec<HistoryRow>, sqlx::Error> {
    with_db!(db, |p| sqlx::query_as(
        "SELECT at, kind, actor, detail FROM case_history WHERE case_id = $1 ORDER BY at, entry_id"
    )
    .bind(case_id)
    .fetch_all(p)
    .await)
}

/// Which case a history entry belongs to.
#[derive(Debug, Clone, Copy)]
pub struct CaseRef<'a> {
    pub case_id: &'a str,
    pub town: &'a str,
}

/// Appends a step to a case's history.
pub async fn add_history(
    tx: &mut Tx,
    case: CaseRef<'_>,
    at: DateTime<Utc>,
    kind: &str,
    actor: &str,
    detail: &str,
    event_id: Option<&str>,
) -> Result<(), sqlx::Error> {
    with_tx!(tx, |conn| {
        sqlx::query(
        "INSERT INTO case_history (entry_id, case_id, town, at, kind, actor, detail, event_id) VALUES ($1,$2,$3,$4,$5,$6,$7,$8)"
    )
    .bind(Uuid::now_v7().to_string())
    .bind(case.case_id)
    .bind(case.town)
    .bind(at)
    .bind(kind)
    .bind(actor)
    .bind(detail)
    .bind(event_id)
    .execute(conn)
    .await
    .map(|_| ())
    })
}

pub async fn insert_referral(
    tx: &mut Tx,
    referral_id: &str,
    case_id: &str,
    town: &str,
    department: &str,
    dispatch_no: i64,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    with_tx!(tx, |conn| {
        sqlx::query(
        "INSERT INTO referrals_sent (referral_id, case_id, town, department, dispatch_no, status, dispatched_at, updated_at) \
         VALUES ($1,$2,$3,$4,$5,'dispatched',$6,$6)"
    )
    .bind(referral_id)
    .bind(case_id)
    .bind(town)
    .bind(department)
    .bind(dispatch_no)
    .bind(now)
    .execute(conn)
    .await
    .map(|_| ())
    })
}

pub async fn referral(
    tx: &mut Tx,
    referral_id: &str,
) -> Result<Option<ReferralSentRow>, sqlx::Error> {
    with_tx!(tx, |conn| sqlx::query_as(
        "SELECT referral_id, case_id, town, department FROM referrals_sent WHERE referral_id = $1"
    )
    .bind(referral_id)
    .fetch_optional(conn)
    .await)
}

pub async fn set_referral_status(
    tx: &mut Tx,
    referral_id: &str,
    status: &str,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    with_tx!(tx, |conn| sqlx::query(
        "UPDATE referrals_sent SET status = $1, updated_at = $2 WHERE referral_id = $3"
    )
    .bind(status)
    .bind(now)
    .bind(referral_id)
    .execute(conn)
    .await
    .map(|_| ()))
}

/// The brigade's copy of a department's result (抄告).
pub struct ResultCopy<'a> {
    pub referral_id: &'a str,
    pub case_id: &'a str,
    pub town: &'a str,
    pub department: &'a str,
    pub outcome_kind: &'a str,
    pub fine_fen: i64,
    pub confiscated: String,
    pub summary: &'a str,
    pub concluded_by: &'a str,
}

pub async fn insert_result_copy(
    tx: &mut Tx,
    r: &ResultCopy<'_>,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    with_tx!(tx, |conn| {
        sqlx::query(
        "INSERT INTO result_copies (referral_id, case_id, town, department, outcome_kind, fine_fen, confiscated, summary, concluded_by, received_at) \
         VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10)"
    )
    .bind(r.referral_id)
    .bind(r.case_id)
    .bind(r.town)
    .bind(r.department)
    .bind(r.outcome_kind)
    .bind(r.fine_fen)
    .bind(&r.confiscated)
    .bind(r.summary)
    .bind(r.concluded_by)
    .bind(now)
    .execute(conn)
    .await
    .map(|_| ())
    })
}
