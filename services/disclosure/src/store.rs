//! The disclosure service's table: one row per decision, holding only masked content. Rows are
//! decoded with `liandong_store::typed::decode`: a column that no longer reads as its type is
//! an error naming the table, the row and the column.

use chrono::{DateTime, Utc};
use liandong_domain::catalogue::DisclosureClass;
use liandong_domain::disclosure::{BodyKind, DisclosureStatus};
use liandong_domain::masking::PartyKind;
use liandong_domain::outcome::OutcomeKind;
use liandong_store::typed::{Json, decode, decode_all};
use liandong_store::{Db, Tx};
use liandong_store::{with_db, with_tx};

pub const DISCLOSURES: &str = "disclosures";

/// A confiscated item as `disclosures.confiscated` holds it.
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

/// A disclosure as stored. Every text in it was masked before it was written.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct DisclosureRow {
    pub disclosure_id: String,
    pub town: String,
    pub case_id: String,
    pub source_event_id: String,
    pub source_event_type: String,
    #[sqlx(try_from = "String")]
    pub body_kind: BodyKind,
    /// The town's code or the department's.
    pub body_code: String,
    #[sqlx(try_from = "String")]
    pub class: DisclosureClass,
    #[sqlx(try_from = "String")]
    pub status: DisclosureStatus,
    #[sqlx(try_from = "String")]
    pub outcome: OutcomeKind,
    pub fine_fen: i64,
    /// The confiscated items as `[kind, count, unit]` (`[kind, count]` before 0101).
    #[sqlx(try_from = "String")]
    pub confiscated: Json<Vec<StoredItem>>,
    /// The articles the decision applied, as "《law》article".
    #[sqlx(try_from = "String")]
    pub applied_basis: Json<Vec<String>>,
    /// The orders that went with the decision, masked.
    #[sqlx(try_from = "String")]
    pub orders: Json<Vec<String>>,
    pub summary: String,
    pub description: String,
    #[sqlx(try_from = "String")]
    pub party_kind: PartyKind,
    pub party_name: String,
    pub party_address: String,
    /// The matter codes the decision names.
    #[sqlx(try_from = "String")]
    pub matters: Json<Vec<String>>,
    pub decided_at: DateTime<Utc>,
    pub due_at: DateTime<Utc>,
    pub due_provisional: bool,
    pub withheld_reason: Option<String>,
    pub published_at: Option<DateTime<Utc>>,
    pub published_by: Option<String>,
    pub withdrawn_at: Option<DateTime<Utc>>,
    pub withdrawn_by: Option<String>,
    pub withdrawal_reason: Option<String>,
    pub decision_changed_at: Option<DateTime<Utc>>,
    pub withdrawal_due_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// Stores a new disclosure; one already made from the same event changes nothing.
pub async fn insert(tx: &mut Tx, d: &DisclosureRow) -> Result<bool, sqlx::Error> {
    with_tx!(tx, |c| {
        sqlx::query(
            "INSERT INTO disclosures (disclosure_id, town, case_id, source_event_id, source_event_type, body_kind, \
             body_code, class, status, outcome, fine_fen, confiscated, summary, description, party_kind, party_name, \
             party_address, matters, decided_at, due_at, due_provisional, withheld_reason, created_at, updated_at, \
             applied_basis, orders) \
             VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$17,$18,$19,$20,$21,$22,$23,$24,$25,$26) \
             ON CONFLICT (source_event_id) DO NOTHING",
        )
        .bind(&d.disclosure_id)
        .bind(&d.town)
        .bind(&d.case_id)
        .bind(&d.source_event_id)
        .bind(&d.source_event_type)
        .bind(d.body_kind.as_str())
        .bind(&d.body_code)
        .bind(d.class.as_str())
        .bind(d.status.as_str())
        .bind(d.outcome.as_str())
        .bind(d.fine_fen)
        .bind(d.confiscated.text())
        .bind(&d.summary)
        .bind(&d.description)
        .bind(d.party_kind.as_str())
        .bind(&d.party_name)
        .bind(&d.party_address)
        .bind(d.matters.text())
        .bind(d.decided_at)
        .bind(d.due_at)
        .bind(d.due_provisional)
        .bind(&d.withheld_reason)
        .bind(d.created_at)
        .bind(d.updated_at)
        .bind(d.applied_basis.text())
        .bind(d.orders.text())
        .execute(c)
        .await
        .map(|r| r.rows_affected() == 1)
    })
}

pub async fn get_in_tx(tx: &mut Tx, id: &str) -> Result<Option<DisclosureRow>, sqlx::Error> {
    with_tx!(tx, |c| sqlx::query(
        "SELECT * FROM disclosures WHERE disclosure_id = $1"
    )
    .bind(id)
    .fetch_optional(c)
    .await?
    .map(|r| decode(&r, DISCLOSURES, "disclosure_id"))
    .transpose())
}

/// The disclosure made from the decision event `event_id`, read inside `tx`.
pub async fn by_source_in_tx(
    tx: &mut Tx,
    event_id: &str,
) -> Result<Option<DisclosureRow>, sqlx::Error> {
    with_tx!(tx, |c| sqlx::query(
        "SELECT * FROM disclosures WHERE source_event_id = $1"
    )
    .bind(event_id)
    .fetch_optional(c)
    .await?
    .map(|r| decode(&r, DISCLOSURES, "disclosure_id"))
    .transpose())
}

/// Writes publication and withdrawal, but only if the status is still `expected`: two officers
/// acting at once cannot both win.
pub async fn update(
    tx: &mut Tx,
    d: &DisclosureRow,
    expected: DisclosureStatus,
) -> Result<bool, sqlx::Error> {
    with_tx!(tx, |c| {
        sqlx::query(
            "UPDATE disclosures SET status = $2, published_at = $3, published_by = $4, withdrawn_at = $5, \
             withdrawn_by = $6, withdrawal_reason = $7, decision_changed_at = $8, withdrawal_due_at = $9, \
             updated_at = $10 WHERE disclosure_id = $1 AND status = $11",
        )
        .bind(&d.disclosure_id)
        .bind(d.status.as_str())
        .bind(d.published_at)
        .bind(&d.published_by)
        .bind(d.withdrawn_at)
        .bind(&d.withdrawn_by)
        .bind(&d.withdrawal_reason)
        .bind(d.decision_changed_at)
        .bind(d.withdrawal_due_at)
        .bind(d.updated_at)
        .bind(expected.as_str())
        .execute(c)
        .await
        .map(|r| r.rows_affected() == 1)
    })
}

/// One body's disclosures, newest first, optionally of one status.
pub async fn by_body(
    db: &Db,
    body_kind: BodyKind,
    body_code: &str,
    status: Option<DisclosureStatus>,
    limit: i64,
) -> Result<Vec<DisclosureRow>, sqlx::Error> {
    with_db!(db, |p| {
        let rows = sqlx::query(
            "SELECT * FROM disclosures WHERE body_kind = $1 AND body_code = $2 \
             AND ($3 IS NULL OR status = $3) ORDER BY created_at DESC, disclosure_id DESC LIMIT $4",
        )
        .bind(body_kind.as_str())
        .bind(body_code)
        .bind(status.map(DisclosureStatus::as_str))
        .bind(limit)
        .fetch_all(p)
        .await?;
        decode_all(&rows, DISCLOSURES, "disclosure_id")
    })
}

/// What the public sees: published or withdrawn after publication, published after
/// `published_after` (the retention's start), newest first.
pub async fn public(
    db: &Db,
    town: Option<&str>,
    published_after: DateTime<Utc>,
    offset: i64,
    limit: i64,
) -> Result<Vec<DisclosureRow>, sqlx::Error> {
    with_db!(db, |p| {
        let rows = sqlx::query(
            "SELECT * FROM disclosures WHERE status IN ($5, $6) AND published_at IS NOT NULL \
             AND published_at > $1 AND ($2 IS NULL OR town = $2) \
             ORDER BY published_at DESC, disclosure_id DESC LIMIT $3 OFFSET $4",
        )
        .bind(published_after)
        .bind(town)
        .bind(limit)
        .bind(offset)
        .bind(DisclosureStatus::Published.as_str())
        .bind(DisclosureStatus::Withdrawn.as_str())
        .fetch_all(p)
        .await?;
        decode_all(&rows, DISCLOSURES, "disclosure_id")
    })
}

/// A disclosure whose due date was computed beyond the loaded calendar years.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ProvisionalRow {
    pub disclosure_id: String,
    pub decided_at: DateTime<Utc>,
    #[sqlx(try_from = "String")]
    pub class: DisclosureClass,
}

/// Disclosures whose due date was computed beyond the loaded calendar years.
pub async fn provisional(db: &Db) -> Result<Vec<ProvisionalRow>, sqlx::Error> {
    with_db!(db, |p| {
        let rows = sqlx::query(
            "SELECT disclosure_id, decided_at, class FROM disclosures WHERE due_provisional \
             ORDER BY disclosure_id",
        )
        .fetch_all(p)
        .await?;
        decode_all(&rows, DISCLOSURES, "disclosure_id")
    })
}

/// Stores a recomputed due date.
pub async fn set_due(
    tx: &mut Tx,
    id: &str,
    due_at: DateTime<Utc>,
    provisional: bool,
) -> Result<(), sqlx::Error> {
    with_tx!(tx, |p| sqlx::query(
        "UPDATE disclosures SET due_at = $1, due_provisional = $2 WHERE disclosure_id = $3"
    )
    .bind(due_at)
    .bind(provisional)
    .bind(id)
    .execute(p)
    .await
    .map(|_| ()))
}
