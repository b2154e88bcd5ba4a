//! The read model's rows as the dashboard reads them, each decoded with
//! `liandong_store::typed::decode`: a column that no longer reads as its type is an error naming
//! the table, the row and the column, never a figure quietly counted as something else. The
//! rows are written by `consume`, from events only.

use chrono::{DateTime, Utc};
use liandong_domain::callback::Satisfaction;
use liandong_domain::disclosure::{BodyKind, DisclosureStatus};
use liandong_domain::figures::WorkKind;
use liandong_domain::outcome::OutcomeKind;
use liandong_domain::time_limits::ObligationKind;
use liandong_domain::triage::Path;
use liandong_store::typed::{Json, Nullable, decode_all};
use liandong_store::{Db, with_db};

/// A referral or a joint-case task, with when each step was taken.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ItemRow {
    pub item_id: String,
    #[sqlx(try_from = "String")]
    pub kind: WorkKind,
    #[sqlx(try_from = "String")]
    pub path: Path,
    pub case_id: String,
    pub town: String,
    pub department: String,
    pub dispatched_at: Option<DateTime<Utc>>,
    pub signed_for_at: Option<DateTime<Utc>>,
    pub accepted_at: Option<DateTime<Utc>>,
    pub returned_at: Option<DateTime<Utc>>,
    pub concluded_at: Option<DateTime<Utc>>,
    pub withdrawn_at: Option<DateTime<Utc>>,
    /// The chair named another department for a returned referral: the return was right.
    pub return_upheld_at: Option<DateTime<Utc>>,
    /// The chair sent a returned referral back to this same department.
    pub sent_back_at: Option<DateTime<Utc>>,
}

/// A case as first seen on any path.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct CaseRow {
    pub case_id: String,
    pub town: String,
    #[sqlx(try_from = "String")]
    pub path: Path,
    pub department: String,
    /// The matter codes of the case.
    #[sqlx(try_from = "String")]
    pub matters: Json<Vec<String>>,
    pub seen_at: DateTime<Utc>,
}

/// A decision in force (one replaced by a change is not read).
/// A confiscated item as `rm_decisions.confiscated` holds it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(untagged)]
pub enum StoredItem {
    WithUnit(String, i64, String),
    /// Stored before decisions carried units.
    Bare(String, i64),
}

impl StoredItem {
    /// Kind, count and unit (empty when none was recorded).
    pub fn parts(&self) -> (&str, i64, &str) {
        match self {
            StoredItem::WithUnit(kind, count, unit) => (kind, *count, unit),
            StoredItem::Bare(kind, count) => (kind, *count, ""),
        }
    }
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct DecisionRow {
    pub event_id: String,
    pub town: String,
    pub department: String,
    #[sqlx(try_from = "String")]
    pub kind: OutcomeKind,
    pub fine_fen: i64,
    /// The confiscated items as `[kind, count, unit]` (`[kind, count]` before units).
    #[sqlx(try_from = "String")]
    pub confiscated: Json<Vec<StoredItem>>,
    pub confiscated_value_fen: i64,
    pub decided_at: DateTime<Utc>,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct EscalationRow {
    pub town: String,
    pub department: String,
    pub raised_at: DateTime<Utc>,
}

/// An extension granted; what it is for is none until `extension_requested` arrives.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ExtensionRow {
    pub request_id: String,
    #[sqlx(try_from = "Option<String>")]
    pub kind: Nullable<ObligationKind>,
    pub case_id: String,
    pub referral_id: Option<String>,
    pub department: String,
    pub new_deadline: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct CallbackRow {
    pub callback_id: String,
    pub town: String,
    #[sqlx(try_from = "String")]
    pub satisfaction: Satisfaction,
    pub reopened: bool,
    pub called_at: DateTime<Utc>,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ReviewRow {
    pub town: String,
    pub department: String,
    pub requested_at: Option<DateTime<Utc>>,
    pub answered_at: Option<DateTime<Utc>>,
}

/// A disclosure's newest state against its due date.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct DisclosureRow {
    pub disclosure_id: String,
    pub town: String,
    #[sqlx(try_from = "String")]
    pub body_kind: BodyKind,
    pub body_code: String,
    #[sqlx(try_from = "String")]
    pub status: DisclosureStatus,
    pub decided_at: DateTime<Utc>,
    pub due_at: DateTime<Utc>,
    pub published_at: Option<DateTime<Utc>>,
    pub withdrawn_at: Option<DateTime<Utc>>,
    pub withdrawal_due_at: Option<DateTime<Utc>>,
}

/// Every row the dashboard's figures are computed from.
#[derive(Debug, Clone, Default)]
pub struct Rows {
    pub items: Vec<ItemRow>,
    pub cases: Vec<CaseRow>,
    pub decisions: Vec<DecisionRow>,
    pub reviews: Vec<ReviewRow>,
    pub escalations: Vec<EscalationRow>,
    pub extensions: Vec<ExtensionRow>,
    pub disclosures: Vec<DisclosureRow>,
    pub callbacks: Vec<CallbackRow>,
}

/// Reads `sql` from `table`, each row decoded as `T` and named by `key` when it cannot be.
macro_rules! read {
    ($db:expr, $table:literal, $key:literal, $sql:expr) => {
        with_db!($db, |p| {
            let rows = sqlx::query($sql).fetch_all(p).await?;
            decode_all(&rows, $table, $key)
        })
    };
}

/// Reads every row of the figures.
pub async fn rows(db: &Db) -> Result<Rows, sqlx::Error> {
    Ok(Rows {
        items: read!(
            db,
            "rm_items",
            "item_id",
            "SELECT item_id, kind, path, case_id, town, department, dispatched_at, signed_for_at, \
             accepted_at, returned_at, concluded_at, withdrawn_at, return_upheld_at, sent_back_at \
             FROM rm_items ORDER BY item_id"
        )?,
        cases: read!(
            db,
            "rm_cases",
            "case_id",
            "SELECT case_id, town, path, department, matters, seen_at FROM rm_cases"
        )?,
        decisions: read!(
            db,
            "rm_decisions",
            "event_id",
            "SELECT event_id, town, department, kind, fine_fen, confiscated, \
             confiscated_value_fen, decided_at FROM rm_decisions WHERE replaced = FALSE"
        )?,
        reviews: read!(
            db,
            "rm_reviews",
            "review_id, round",
            "SELECT review_id, round, town, department, requested_at, answered_at FROM rm_reviews"
        )?,
        escalations: read!(
            db,
            "rm_escalations",
            "obligation_id, level",
            "SELECT obligation_id, level, town, department, raised_at FROM rm_escalations"
        )?,
        extensions: read!(
            db,
            "rm_extensions",
            "request_id",
            "SELECT request_id, kind, case_id, referral_id, department, new_deadline \
             FROM rm_extensions WHERE new_deadline IS NOT NULL"
        )?,
        disclosures: read!(
            db,
            "rm_disclosures",
            "disclosure_id",
            "SELECT disclosure_id, town, body_kind, body_code, status, decided_at, due_at, \
             published_at, withdrawn_at, withdrawal_due_at FROM rm_disclosures \
             ORDER BY body_kind, body_code"
        )?,
        callbacks: read!(
            db,
            "rm_callbacks",
            "callback_id",
            "SELECT callback_id, town, satisfaction, reopened, called_at FROM rm_callbacks"
        )?,
    })
}
