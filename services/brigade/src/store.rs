//! The brigade's tables: cases, their history (the hash-chained record), referrals sent, and result copies.

use chrono::{DateTime, NaiveDate, Utc};
use liandong_domain::calendar::Calendar;
use liandong_domain::state::CaseStatus;
use liandong_domain::triage::{CaseSource, Path};
use liandong_proto::events::v1 as ev;
use liandong_store::typed::{Json, Nullable, Proto, decode, decode_all};
use liandong_store::{Db, Tx};
use liandong_store::{with_db, with_tx};

pub use crate::record::CaseRef;
use crate::record::{self, NewEntry, RecordRow, Who};

/// A case as stored.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct CaseRow {
    pub case_id: String,
    pub town: String,
    #[sqlx(try_from = "String")]
    pub source: CaseSource,
    /// The matter codes of the case.
    #[sqlx(try_from = "String")]
    pub matters: Json<Vec<String>>,
    pub village: String,
    pub location: String,
    pub description: String,
    pub found_at: DateTime<Utc>,
    /// The date of the act as reported; `None` when the report did not state it.
    pub act_date: Option<NaiveDate>,
    /// The act was still going on when found.
    pub act_ongoing: bool,
    pub reported_by: String,
    #[sqlx(try_from = "String")]
    pub evidence_refs: Json<Vec<String>>,
    pub complex: bool,
    /// The path it is on (after any override or reclassification).
    #[sqlx(try_from = "String")]
    pub path: Path,
    pub rule: i64,
    /// The matters that decided the path.
    #[sqlx(try_from = "String")]
    pub deciding: Json<Vec<String>>,
    /// The departments concerned.
    #[sqlx(try_from = "String")]
    pub departments: Json<Vec<String>>,
    pub department: Option<String>,
    /// The path the triage computed.
    #[sqlx(try_from = "String")]
    pub computed_path: Path,
    pub override_reason: Option<String>,
    #[sqlx(try_from = "String")]
    pub status: CaseStatus,
    pub catalogue_version: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// One step of a case's history, as GetCase shows it.
#[derive(Debug, Clone)]
pub struct HistoryRow {
    pub at: DateTime<Utc>,
    pub kind: String,
    pub actor: String,
    pub detail: String,
}

impl From<RecordRow> for HistoryRow {
    fn from(r: RecordRow) -> Self {
        HistoryRow {
            at: r.at,
            actor: r.who().label(),
            kind: r.kind,
            detail: r.detail,
        }
    }
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
         catalogue_version, created_at, updated_at, act_date, act_ongoing) \
         VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$17,$18,$19,$20,$21,$22,$23,$24)"
    )
    .bind(&c.case_id)
    .bind(&c.town)
    .bind(c.source.as_str())
    .bind(c.matters.text())
    .bind(&c.village)
    .bind(&c.location)
    .bind(&c.description)
    .bind(c.found_at)
    .bind(&c.reported_by)
    .bind(c.evidence_refs.text())
    .bind(c.complex)
    .bind(c.path.as_str())
    .bind(c.rule)
    .bind(c.deciding.text())
    .bind(c.departments.text())
    .bind(&c.department)
    .bind(c.computed_path.as_str())
    .bind(&c.override_reason)
    .bind(c.status.as_str())
    .bind(&c.catalogue_version)
    .bind(c.created_at)
    .bind(c.updated_at)
    .bind(c.act_date)
    .bind(c.act_ongoing)
    .execute(conn)
    .await
    .map(|_| ())
    })
}

pub async fn set_status(
    tx: &mut Tx,
    case_id: &str,
    status: CaseStatus,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    with_tx!(tx, |conn| sqlx::query(
        "UPDATE cases SET status = $1, updated_at = $2 WHERE case_id = $3"
    )
    .bind(status.as_str())
    .bind(now)
    .bind(case_id)
    .execute(conn)
    .await
    .map(|_| ()))?;
    // The 90 days run from the first opening and stop with the decision, in this transaction.
    crate::clocks::on_status(tx, case_id, status, now).await
}

pub async fn case_in_tx(tx: &mut Tx, case_id: &str) -> Result<Option<CaseRow>, sqlx::Error> {
    with_tx!(tx, |conn| {
        let row = sqlx::query("SELECT * FROM cases WHERE case_id = $1")
            .bind(case_id)
            .fetch_optional(conn)
            .await?;
        row.as_ref()
            .map(|r| decode(r, "cases", "case_id"))
            .transpose()
    })
}

/// The case an earlier report under `request_id` by `officer` of `town` made, if any.
pub async fn reported_under(
    db: &Db,
    town: &str,
    officer: &str,
    request_id: &str,
) -> Result<Option<String>, sqlx::Error> {
    with_db!(db, |p| sqlx::query_scalar(
        "SELECT case_id FROM report_requests WHERE town = $1 AND officer = $2 AND request_id = $3"
    )
    .bind(town)
    .bind(officer)
    .bind(request_id)
    .fetch_optional(p)
    .await)
}

/// Claims `request_id` for the case being reported, in its transaction; false when another
/// report under the same id got there first (the caller then answers with that one's case).
pub async fn claim_request(
    tx: &mut Tx,
    town: &str,
    officer: &str,
    request_id: &str,
    case_id: &str,
    now: DateTime<Utc>,
) -> Result<bool, sqlx::Error> {
    let n = with_tx!(tx, |c| sqlx::query(
        "INSERT INTO report_requests (town, officer, request_id, case_id, created_at) \
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (town, officer, request_id) DO NOTHING"
    )
    .bind(town)
    .bind(officer)
    .bind(request_id)
    .bind(case_id)
    .bind(now)
    .execute(c)
    .await
    .map(|r| r.rows_affected()))?;
    Ok(n == 1)
}

pub async fn case(db: &Db, case_id: &str) -> Result<Option<CaseRow>, sqlx::Error> {
    with_db!(db, |p| {
        let row = sqlx::query("SELECT * FROM cases WHERE case_id = $1")
            .bind(case_id)
            .fetch_optional(p)
            .await?;
        row.as_ref()
            .map(|r| decode(r, "cases", "case_id"))
            .transpose()
    })
}

pub async fn list_cases(
    db: &Db,
    town: &str,
    status: Option<CaseStatus>,
    limit: i64,
) -> Result<Vec<CaseRow>, sqlx::Error> {
    with_db!(db, |p| {
        let rows = sqlx::query(
        "SELECT * FROM cases WHERE town = $1 AND ($2 IS NULL OR status = $2) ORDER BY created_at DESC, case_id DESC LIMIT $3"
    )
    .bind(town)
    .bind(status.map(CaseStatus::as_str))
    .bind(limit)
    .fetch_all(p)
    .await?;
        decode_all(&rows, "cases", "case_id")
    })
}

/// A case's history as GetCase shows it: its record, in order.
pub async fn history(db: &Db, case_id: &str) -> Result<Vec<HistoryRow>, sqlx::Error> {
    Ok(record::entries(db, case_id)
        .await?
        .into_iter()
        .map(HistoryRow::from)
        .collect())
}

impl CaseRow {
    /// The date of the act the law is applied at: as reported, or else the day it was found
    /// (Beijing time).
    pub fn act_day(&self) -> NaiveDate {
        self.act_date
            .unwrap_or_else(|| Calendar::local_date(self.found_at))
    }

    /// This case, as a history entry names it.
    pub fn here(&self) -> CaseRef<'_> {
        CaseRef {
            case_id: &self.case_id,
            town: &self.town,
        }
    }
}

impl ReferralSentRow {
    /// The referral's case, as a history entry names it.
    pub fn here(&self) -> CaseRef<'_> {
        CaseRef {
            case_id: &self.case_id,
            town: &self.town,
        }
    }
}

/// Appends a step to a case's record (see [`record::append`]), with no evidence attached.
pub async fn add_history(
    tx: &mut Tx,
    case: CaseRef<'_>,
    at: DateTime<Utc>,
    kind: &str,
    who: &Who,
    detail: &str,
    event: Option<&liandong_proto::events::v1::Envelope>,
) -> Result<(), sqlx::Error> {
    record::append(
        tx,
        case,
        NewEntry {
            at,
            kind,
            who,
            detail,
            evidence_digests: Vec::new(),
            event,
        },
    )
    .await
    .map(|_| ())
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

pub async fn upsert_assignment(
    tx: &mut Tx,
    case: CaseRef<'_>,
    officers: &str,
    by: &str,
    at: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    with_tx!(tx, |conn| {
        sqlx::query(
        "INSERT INTO case_assignments (case_id, town, officers, assigned_by, assigned_at) VALUES ($1,$2,$3,$4,$5) \
         ON CONFLICT (case_id) DO UPDATE SET officers = excluded.officers, assigned_by = excluded.assigned_by, \
         assigned_at = excluded.assigned_at"
    )
    .bind(case.case_id)
    .bind(case.town)
    .bind(officers)
    .bind(by)
    .bind(at)
    .execute(conn)
    .await
    .map(|_| ())
    })
}

/// The officers assigned to a case, as stored.
#[derive(sqlx::FromRow)]
struct AssignmentRow {
    #[sqlx(try_from = "String")]
    officers: Json<Vec<String>>,
}

const ASSIGNMENT_SQL: &str = "SELECT case_id, officers FROM case_assignments WHERE case_id = $1";

/// The officers assigned to a case (none before it is assigned).
pub async fn officers(db: &Db, case_id: &str) -> Result<Vec<String>, sqlx::Error> {
    with_db!(db, |p| {
        let row = sqlx::query(ASSIGNMENT_SQL)
            .bind(case_id)
            .fetch_optional(p)
            .await?;
        let row = row
            .as_ref()
            .map(|r| decode::<_, AssignmentRow>(r, "case_assignments", "case_id"))
            .transpose()?;
        Ok(row.map(|a| a.officers.0).unwrap_or_default())
    })
}

/// [`officers`], inside `tx`.
pub async fn officers_in_tx(tx: &mut Tx, case_id: &str) -> Result<Vec<String>, sqlx::Error> {
    with_tx!(tx, |c| {
        let row = sqlx::query(ASSIGNMENT_SQL)
            .bind(case_id)
            .fetch_optional(c)
            .await?;
        let row = row
            .as_ref()
            .map(|r| decode::<_, AssignmentRow>(r, "case_assignments", "case_id"))
            .transpose()?;
        Ok(row.map(|a| a.officers.0).unwrap_or_default())
    })
}

pub async fn insert_outcome(
    tx: &mut Tx,
    case: CaseRef<'_>,
    outcome: &[u8],
    kind: &str,
    fine_fen: i64,
    by: &str,
    at: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    with_tx!(tx, |conn| {
        sqlx::query(
        "INSERT INTO case_outcomes (case_id, town, outcome, outcome_kind, fine_fen, concluded_by, concluded_at) \
         VALUES ($1,$2,$3,$4,$5,$6,$7) ON CONFLICT (case_id) DO UPDATE SET outcome = excluded.outcome, \
         outcome_kind = excluded.outcome_kind, fine_fen = excluded.fine_fen, concluded_by = excluded.concluded_by, \
         concluded_at = excluded.concluded_at"
    )
    .bind(case.case_id)
    .bind(case.town)
    .bind(outcome)
    .bind(kind)
    .bind(fine_fen)
    .bind(by)
    .bind(at)
    .execute(conn)
    .await
    .map(|_| ())
    })
}

/// A concluded case's decision, as stored.
#[derive(sqlx::FromRow)]
struct OutcomeRow {
    #[sqlx(try_from = "Vec<u8>")]
    outcome: Proto<ev::Outcome>,
}

/// The decision a case was concluded with, if it was.
pub async fn outcome(db: &Db, case_id: &str) -> Result<Option<ev::Outcome>, sqlx::Error> {
    with_db!(db, |p| {
        let row = sqlx::query("SELECT case_id, outcome FROM case_outcomes WHERE case_id = $1")
            .bind(case_id)
            .fetch_optional(p)
            .await?;
        row.as_ref()
            .map(|r| decode::<_, OutcomeRow>(r, "case_outcomes", "case_id").map(|o| o.outcome.0))
            .transpose()
    })
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct JointRow {
    pub case_id: String,
    pub town: String,
    pub item_id: String,
    pub lead_department: String,
    #[sqlx(try_from = "String")]
    pub cooperating: Json<Vec<String>>,
    /// The lead's decision under entrustment, once recorded (none again after a revocation).
    #[sqlx(try_from = "Option<Vec<u8>>")]
    pub decision: Nullable<Proto<ev::Outcome>>,
    pub decided_in_name_of: Option<String>,
    /// The cooperating departments that completed their tasks.
    #[sqlx(try_from = "String")]
    pub completed_by: Json<Vec<String>>,
    pub executed_at: Option<DateTime<Utc>>,
    pub updated_at: DateTime<Utc>,
}

pub async fn upsert_joint(tx: &mut Tx, j: &JointRow) -> Result<(), sqlx::Error> {
    with_tx!(tx, |conn| {
        sqlx::query(
        "INSERT INTO joint_cases (case_id, town, item_id, lead_department, cooperating, decision, decided_in_name_of, \
         completed_by, executed_at, updated_at) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10) \
         ON CONFLICT (case_id) DO UPDATE SET item_id = excluded.item_id, lead_department = excluded.lead_department, \
         cooperating = excluded.cooperating, decision = excluded.decision, decided_in_name_of = excluded.decided_in_name_of, \
         completed_by = excluded.completed_by, executed_at = excluded.executed_at, updated_at = excluded.updated_at"
    )
    .bind(&j.case_id)
    .bind(&j.town)
    .bind(&j.item_id)
    .bind(&j.lead_department)
    .bind(j.cooperating.text())
    .bind(j.decision.bytes())
    .bind(&j.decided_in_name_of)
    .bind(j.completed_by.text())
    .bind(j.executed_at)
    .bind(j.updated_at)
    .execute(conn)
    .await
    .map(|_| ())
    })
}

pub async fn joint_in_tx(tx: &mut Tx, case_id: &str) -> Result<Option<JointRow>, sqlx::Error> {
    with_tx!(tx, |conn| {
        let row = sqlx::query("SELECT * FROM joint_cases WHERE case_id = $1")
            .bind(case_id)
            .fetch_optional(conn)
            .await?;
        row.as_ref()
            .map(|r| decode(r, "joint_cases", "case_id"))
            .transpose()
    })
}

pub async fn joint(db: &Db, case_id: &str) -> Result<Option<JointRow>, sqlx::Error> {
    with_db!(db, |p| {
        let row = sqlx::query("SELECT * FROM joint_cases WHERE case_id = $1")
            .bind(case_id)
            .fetch_optional(p)
            .await?;
        row.as_ref()
            .map(|r| decode(r, "joint_cases", "case_id"))
            .transpose()
    })
}

pub async fn insert_handover(
    tx: &mut Tx,
    handover_id: &str,
    case: CaseRef<'_>,
    department: &str,
    reason: &str,
    entries: i64,
    at: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    with_tx!(tx, |conn| {
        sqlx::query(
        "INSERT INTO handovers_sent (handover_id, case_id, town, department, reason, entries, sent_at) VALUES ($1,$2,$3,$4,$5,$6,$7)"
    )
    .bind(handover_id)
    .bind(case.case_id)
    .bind(case.town)
    .bind(department)
    .bind(reason)
    .bind(entries)
    .bind(at)
    .execute(conn)
    .await
    .map(|_| ())
    })
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ResultRow {
    pub referral_id: String,
    pub case_id: String,
    pub department: String,
    pub outcome_kind: String,
    pub fine_fen: i64,
    /// Items confiscated: kind and count.
    #[sqlx(try_from = "String")]
    pub confiscated: Json<Vec<(String, i64)>>,
    pub summary: String,
    pub concluded_by: String,
    pub received_at: DateTime<Utc>,
}

pub async fn results(db: &Db, town: &str, limit: i64) -> Result<Vec<ResultRow>, sqlx::Error> {
    with_db!(db, |p| {
        let rows = sqlx::query(
        "SELECT referral_id, case_id, department, outcome_kind, fine_fen, confiscated, summary, concluded_by, received_at \
         FROM result_copies WHERE town = $1 ORDER BY received_at DESC, referral_id DESC LIMIT $2"
    )
    .bind(town)
    .bind(limit)
    .fetch_all(p)
    .await?;
        decode_all(&rows, "result_copies", "referral_id")
    })
}

/// The highest dispatch number of a case's referrals so far.
pub async fn last_dispatch_no(tx: &mut Tx, case_id: &str) -> Result<i64, sqlx::Error> {
    let n: Option<i64> = with_tx!(tx, |conn| sqlx::query_scalar(
        "SELECT MAX(dispatch_no) FROM referrals_sent WHERE case_id = $1"
    )
    .bind(case_id)
    .fetch_one(conn)
    .await)?;
    Ok(n.unwrap_or(0))
}

/// The case's current path, after the joint meeting reclassified it.
pub async fn set_path(
    tx: &mut Tx,
    case_id: &str,
    path: Path,
    department: Option<&str>,
) -> Result<(), sqlx::Error> {
    with_tx!(tx, |conn| sqlx::query(
        "UPDATE cases SET path = $1, department = $2 WHERE case_id = $3"
    )
    .bind(path.as_str())
    .bind(department)
    .bind(case_id)
    .execute(conn)
    .await
    .map(|_| ()))
}

/// The departments a case was sent to: by referral, by handover, or as the lead or a
/// cooperating department of its joint case. Their staff may verify its record.
pub async fn involved_departments(db: &Db, case_id: &str) -> Result<Vec<String>, sqlx::Error> {
    let mut departments: Vec<String> = with_db!(db, |p| sqlx::query_scalar(
        "SELECT department FROM referrals_sent WHERE case_id = $1 \
         UNION SELECT department FROM handovers_sent WHERE case_id = $1"
    )
    .bind(case_id)
    .fetch_all(p)
    .await)?;
    if let Some(joint) = joint(db, case_id).await? {
        departments.push(joint.lead_department);
        departments.extend(joint.cooperating.0);
    }
    departments.sort();
    departments.dedup();
    Ok(departments)
}
