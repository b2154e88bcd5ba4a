//! The review service's tables: reviews, their rounds, and the copy of the certificate
//! registries. Rows are decoded with `liandong_store::typed::decode`: a column that no longer
//! reads as its type is an error naming the table, the row and the column.

use chrono::{DateTime, Utc};
use liandong_domain::certificates::CertificateStatus;
use liandong_domain::ids::OfficerId;
use liandong_domain::review::{ReviewCheck, ReviewDecision, ReviewStatus};
use liandong_proto::events::v1 as ev;
use liandong_store::typed::{Json, Nullable, Proto, decode, decode_all};
use liandong_store::{Db, Tx};
use liandong_store::{with_db, with_tx};
use serde::{Deserialize, Serialize};

pub const REVIEWS: &str = "reviews";
pub const ROUNDS: &str = "review_rounds";
pub const CERTIFICATES: &str = "certificates";

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ReviewRow {
    pub review_id: String,
    pub town: String,
    /// The department whose decision it is; empty for the town's.
    pub department: String,
    pub case_id: String,
    pub decided_in_name_of: String,
    #[sqlx(try_from = "String")]
    pub status: ReviewStatus,
    pub round: i64,
    pub requested_at: DateTime<Utc>,
    pub due_at: DateTime<Utc>,
    pub due_last_day: String,
    pub extended: bool,
    pub extension_reason: String,
    pub extended_at: Option<DateTime<Utc>>,
    pub updated_at: DateTime<Utc>,
    /// The department whose legal office reviews a town's decision made in its name (an
    /// entrusted matter); empty when the decider's own office reviews.
    pub reviewing_department: String,
}

impl ReviewRow {
    /// The office that reviews: a department's legal office (its code), or the town's judicial
    /// office (empty).
    pub fn office(&self) -> &str {
        if self.reviewing_department.is_empty() {
            &self.department
        } else {
            &self.reviewing_department
        }
    }
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct RoundRow {
    pub review_id: String,
    pub round: i64,
    /// The request as it came, with the decision's materials.
    #[sqlx(try_from = "Vec<u8>")]
    pub materials: Proto<ev::ReviewRequested>,
    pub requested_at: DateTime<Utc>,
    pub due_at: DateTime<Utc>,
    /// The reviewer's answers; none while the round is pending.
    #[sqlx(try_from = "String")]
    pub answers: Json<Vec<StoredAnswer>>,
    /// What the reviewer decided; none ('') while the round is pending.
    #[sqlx(try_from = "String")]
    pub decision: Nullable<ReviewDecision>,
    #[sqlx(try_from = "String")]
    pub status: ReviewStatus,
    pub note: String,
    pub decided_by: String,
    pub decided_at: Option<DateTime<Utc>>,
}

/// An answer as a round keeps it (JSON in `review_rounds.answers`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredAnswer {
    pub check: ReviewCheck,
    pub passed: bool,
    pub note: String,
}

/// A certificate as the agency's registry last announced it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct CertRow {
    /// A town code (the brigade's registry) or a department code (a department's).
    pub agency: String,
    #[sqlx(try_from = "String")]
    pub officer: OfficerId,
    pub certificate_no: String,
    pub issuing_authority: String,
    #[sqlx(try_from = "String")]
    pub valid_from: Day,
    #[sqlx(try_from = "String")]
    pub valid_until: Day,
    #[sqlx(try_from = "String")]
    pub status: CertificateStatus,
    pub updated_at: DateTime<Utc>,
}

pub use liandong_store::typed::Day;

const REVIEW_COLUMNS: &str = "review_id, town, department, case_id, decided_in_name_of, status, \
     round, requested_at, due_at, due_last_day, extended, extension_reason, extended_at, updated_at, \
     reviewing_department";

pub async fn review_in_tx(tx: &mut Tx, review_id: &str) -> Result<Option<ReviewRow>, sqlx::Error> {
    let sql = format!("SELECT {REVIEW_COLUMNS} FROM reviews WHERE review_id = $1");
    with_tx!(tx, |c| sqlx::query(&sql)
        .bind(review_id)
        .fetch_optional(&mut *c)
        .await?
        .map(|r| decode(&r, REVIEWS, "review_id"))
        .transpose())
}

pub async fn review(db: &Db, review_id: &str) -> Result<Option<ReviewRow>, sqlx::Error> {
    let sql = format!("SELECT {REVIEW_COLUMNS} FROM reviews WHERE review_id = $1");
    with_db!(db, |p| sqlx::query(&sql)
        .bind(review_id)
        .fetch_optional(p)
        .await?
        .map(|r| decode(&r, REVIEWS, "review_id"))
        .transpose())
}

/// Reviews an office takes: a town's judicial office (`department` empty) or a department's
/// legal office in any town (its own decisions and those made in its name), newest first.
pub async fn list(
    db: &Db,
    town: Option<&str>,
    department: &str,
    status: Option<ReviewStatus>,
    limit: i64,
) -> Result<Vec<ReviewRow>, sqlx::Error> {
    let sql = format!(
        "SELECT {REVIEW_COLUMNS} FROM reviews \
         WHERE COALESCE(NULLIF(reviewing_department, ''), department) = $1 \
         AND ($2 IS NULL OR town = $2) AND ($3 IS NULL OR status = $3) \
         ORDER BY requested_at DESC LIMIT $4"
    );
    with_db!(db, |p| {
        let rows = sqlx::query(&sql)
            .bind(department)
            .bind(town)
            .bind(status.map(ReviewStatus::as_str))
            .bind(limit)
            .fetch_all(p)
            .await?;
        decode_all(&rows, REVIEWS, "review_id")
    })
}

pub async fn upsert_review(tx: &mut Tx, r: &ReviewRow) -> Result<(), sqlx::Error> {
    with_tx!(tx, |c| sqlx::query(
        "INSERT INTO reviews (review_id, town, department, case_id, decided_in_name_of, status, \
         round, requested_at, due_at, due_last_day, extended, extension_reason, extended_at, \
         updated_at, reviewing_department) \
         VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15) \
         ON CONFLICT (review_id) DO UPDATE SET decided_in_name_of = excluded.decided_in_name_of, \
         status = excluded.status, round = excluded.round, requested_at = excluded.requested_at, \
         due_at = excluded.due_at, due_last_day = excluded.due_last_day, \
         extended = excluded.extended, extension_reason = excluded.extension_reason, \
         extended_at = excluded.extended_at, updated_at = excluded.updated_at, \
         reviewing_department = excluded.reviewing_department"
    )
    .bind(&r.review_id)
    .bind(&r.town)
    .bind(&r.department)
    .bind(&r.case_id)
    .bind(&r.decided_in_name_of)
    .bind(r.status.as_str())
    .bind(r.round)
    .bind(r.requested_at)
    .bind(r.due_at)
    .bind(&r.due_last_day)
    .bind(r.extended)
    .bind(&r.extension_reason)
    .bind(r.extended_at)
    .bind(r.updated_at)
    .bind(&r.reviewing_department)
    .execute(&mut *c)
    .await
    .map(|_| ()))
}

pub async fn upsert_round(tx: &mut Tx, r: &RoundRow) -> Result<(), sqlx::Error> {
    with_tx!(tx, |c| {
        sqlx::query(
        "INSERT INTO review_rounds (review_id, round, materials, requested_at, due_at, answers, \
         decision, status, note, decided_by, decided_at) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11) \
         ON CONFLICT (review_id, round) DO UPDATE SET due_at = excluded.due_at, \
         answers = excluded.answers, decision = excluded.decision, status = excluded.status, \
         note = excluded.note, decided_by = excluded.decided_by, decided_at = excluded.decided_at"
    )
    .bind(&r.review_id)
    .bind(r.round)
    .bind(r.materials.bytes())
    .bind(r.requested_at)
    .bind(r.due_at)
    .bind(r.answers.text())
    .bind(r.decision.map_or("", ReviewDecision::as_str))
    .bind(r.status.as_str())
    .bind(&r.note)
    .bind(&r.decided_by)
    .bind(r.decided_at)
    .execute(&mut *c)
    .await
    .map(|_| ())
    })
}

const ROUND_COLUMNS: &str = "review_id, round, materials, requested_at, due_at, answers, \
     decision, status, note, decided_by, decided_at";

pub async fn round_in_tx(
    tx: &mut Tx,
    review_id: &str,
    round: i64,
) -> Result<Option<RoundRow>, sqlx::Error> {
    let sql =
        format!("SELECT {ROUND_COLUMNS} FROM review_rounds WHERE review_id = $1 AND round = $2");
    with_tx!(tx, |c| sqlx::query(&sql)
        .bind(review_id)
        .bind(round)
        .fetch_optional(&mut *c)
        .await?
        .map(|r| decode(&r, ROUNDS, "review_id, round"))
        .transpose())
}

pub async fn rounds(db: &Db, review_id: &str) -> Result<Vec<RoundRow>, sqlx::Error> {
    let sql =
        format!("SELECT {ROUND_COLUMNS} FROM review_rounds WHERE review_id = $1 ORDER BY round");
    with_db!(db, |p| {
        let rows = sqlx::query(&sql).bind(review_id).fetch_all(p).await?;
        decode_all(&rows, ROUNDS, "review_id, round")
    })
}

pub async fn upsert_certificate(tx: &mut Tx, r: &CertRow) -> Result<(), sqlx::Error> {
    with_tx!(tx, |c| {
        sqlx::query(
        "INSERT INTO certificates (agency, officer, certificate_no, issuing_authority, valid_from, \
         valid_until, status, updated_at) VALUES ($1,$2,$3,$4,$5,$6,$7,$8) \
         ON CONFLICT (agency, officer) DO UPDATE SET certificate_no = excluded.certificate_no, \
         issuing_authority = excluded.issuing_authority, valid_from = excluded.valid_from, \
         valid_until = excluded.valid_until, status = excluded.status, updated_at = excluded.updated_at"
    )
    .bind(&r.agency)
    .bind(r.officer.as_str())
    .bind(&r.certificate_no)
    .bind(&r.issuing_authority)
    .bind(r.valid_from.0.to_string())
    .bind(r.valid_until.0.to_string())
    .bind(r.status.as_str())
    .bind(r.updated_at)
    .execute(&mut *c)
    .await
    .map(|_| ())
    })
}

pub async fn certificate(
    db: &Db,
    agency: &str,
    officer: &str,
) -> Result<Option<CertRow>, sqlx::Error> {
    with_db!(db, |p| sqlx::query(
        "SELECT agency, officer, certificate_no, issuing_authority, valid_from, valid_until, \
         status, updated_at FROM certificates WHERE agency = $1 AND officer = $2"
    )
    .bind(agency)
    .bind(officer)
    .fetch_optional(p)
    .await?
    .map(|r| decode(&r, CERTIFICATES, "agency, officer"))
    .transpose())
}

/// Every certificate of the copies of the registries, or of one agency's, by agency and officer.
pub async fn certificates(db: &Db, agency: Option<&str>) -> Result<Vec<CertRow>, sqlx::Error> {
    with_db!(db, |p| {
        let rows = sqlx::query(
            "SELECT agency, officer, certificate_no, issuing_authority, valid_from, valid_until, \
             status, updated_at FROM certificates WHERE ($1 = '' OR agency = $1) \
             ORDER BY agency, officer",
        )
        .bind(agency.unwrap_or_default())
        .fetch_all(p)
        .await?;
        decode_all(&rows, CERTIFICATES, "agency, officer")
    })
}

/// Pending reviews, for recomputing their due dates with the calendar loaded at start.
pub async fn pending(db: &Db) -> Result<Vec<(String, DateTime<Utc>, bool)>, sqlx::Error> {
    with_db!(db, |p| sqlx::query_as(
        "SELECT review_id, requested_at, extended FROM reviews WHERE status = $1"
    )
    .bind(ReviewStatus::Pending.as_str())
    .fetch_all(p)
    .await)
}

/// Stores a recomputed due date.
pub async fn set_due(
    db: &Db,
    review_id: &str,
    due_at: DateTime<Utc>,
    last_day: &str,
) -> Result<(), sqlx::Error> {
    with_db!(db, |p| sqlx::query(
        "UPDATE reviews SET due_at = $1, due_last_day = $2 WHERE review_id = $3"
    )
    .bind(due_at)
    .bind(last_day)
    .bind(review_id)
    .execute(p)
    .await
    .map(|_| ()))
}
