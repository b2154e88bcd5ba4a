//! The brigade's keeping of each case's hash-chained record: appending entries, the heads other agencies hold, verifying.

use chrono::{DateTime, Utc};
use liandong_bus::signing::KeyRegistry;
use liandong_domain::record::{KnownHead, Verification};
use liandong_record::{self as keep};
pub use liandong_record::{NewEntry, RecordRow, SYSTEM, Who};
use liandong_store::typed::decode_all;
use liandong_store::{Backend, Db, Tx};
use liandong_store::{with_db, with_tx};

/// Which case a history entry belongs to.
#[derive(Debug, Clone, Copy)]
pub struct CaseRef<'a> {
    pub case_id: &'a str,
    pub town: &'a str,
}

/// Appends the next entry of a case's record within `tx`: its number and hash follow from the
/// last entry. On PostgreSQL the case row is locked first, so that concurrent appends to one
/// case queue up instead of racing; the primary key `(case_id, seq)` stops any that still do.
/// Returns the new entry's number and hash.
#[tracing::instrument(skip_all, fields(case_id = %case.case_id, kind = e.kind), err)]
pub async fn append(
    tx: &mut Tx,
    case: CaseRef<'_>,
    e: NewEntry<'_>,
) -> Result<(u64, String), sqlx::Error> {
    if tx.backend() == Backend::Postgres {
        with_tx!(tx, |conn| sqlx::query(
            "SELECT case_id FROM cases WHERE case_id = $1 FOR UPDATE"
        )
        .bind(case.case_id)
        .fetch_optional(conn)
        .await
        .map(|_| ()))?;
    }
    let last: Option<(i64, String)> = with_tx!(tx, |conn| sqlx::query_as(
        "SELECT seq, hash FROM case_record WHERE case_id = $1 ORDER BY seq DESC LIMIT 1"
    )
    .bind(case.case_id)
    .fetch_optional(conn)
    .await)?;
    let p = keep::prepare(case.case_id, last, e)?;
    let seq = p.content.seq;
    let [signed_by, key_id, signature, event_digest] = p.signature_columns();
    with_tx!(tx, |conn| {
        sqlx::query(
            "INSERT INTO case_record (case_id, seq, town, at, kind, agency, officer, role, certificate_no, detail, \
             evidence_digests, event_id, prev_hash, hash, signed_by, signature_key_id, signature, event_digest, signed_event) \
             VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$17,$18,$19)",
        )
        .bind(&p.content.case_id)
        .bind(seq as i64)
        .bind(case.town)
        .bind(p.content.at)
        .bind(&p.content.kind)
        .bind(&p.content.agency)
        .bind(&p.content.officer)
        .bind(&p.content.role)
        .bind(&p.content.certificate_no)
        .bind(&p.content.detail)
        .bind(p.evidence_digests_json())
        .bind(&p.content.event_id)
        .bind(&p.prev_hash)
        .bind(&p.hash)
        .bind(signed_by)
        .bind(key_id)
        .bind(signature)
        .bind(event_digest)
        .bind(p.signed_event.as_deref())
        .execute(conn)
        .await
        .map(|_| ())
    })?;
    Ok((seq, p.hash))
}

/// A case's record in order, read inside `tx`.
pub async fn entries_in_tx(tx: &mut Tx, case_id: &str) -> Result<Vec<RecordRow>, sqlx::Error> {
    with_tx!(tx, |conn| {
        let rows = sqlx::query("SELECT * FROM case_record WHERE case_id = $1 ORDER BY seq")
            .bind(case_id)
            .fetch_all(conn)
            .await?;
        decode_all(&rows, "case_record", "case_id")
    })
}

/// A case's record in order.
pub async fn entries(db: &Db, case_id: &str) -> Result<Vec<RecordRow>, sqlx::Error> {
    with_db!(db, |p| {
        let rows = sqlx::query("SELECT * FROM case_record WHERE case_id = $1 ORDER BY seq")
            .bind(case_id)
            .fetch_all(p)
            .await?;
        decode_all(&rows, "case_record", "case_id")
    })
}

/// Keeps a head another agency acknowledged; the same acknowledgement twice changes nothing.
pub async fn insert_known_head(
    tx: &mut Tx,
    case_id: &str,
    agency: &str,
    seq: u64,
    head: &str,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    with_tx!(tx, |conn| {
        sqlx::query(
        "INSERT INTO record_heads (case_id, agency, seq, head, received_at) VALUES ($1,$2,$3,$4,$5) \
         ON CONFLICT (case_id, agency, seq) DO NOTHING"
    )
    .bind(case_id)
    .bind(agency)
    .bind(seq as i64)
    .bind(head)
    .bind(now)
    .execute(conn)
    .await
    .map(|_| ())
    })
}

/// The heads other agencies hold of a case's record.
pub async fn known_heads(db: &Db, case_id: &str) -> Result<Vec<KnownHead>, sqlx::Error> {
    let rows: Vec<(String, i64, String)> = with_db!(db, |p| sqlx::query_as(
        "SELECT agency, seq, head FROM record_heads WHERE case_id = $1 ORDER BY seq, agency"
    )
    .bind(case_id)
    .fetch_all(p)
    .await)?;
    Ok(rows
        .into_iter()
        .map(|(agency, seq, head)| keep::known_head(agency, seq, &head))
        .collect())
}

/// Verifies a case's record against itself, the heads others hold and, for every entry
/// another agency's event brought, that event's signature against the key registry.
pub async fn verify(
    db: &Db,
    case_id: &str,
    keys: &KeyRegistry,
) -> Result<Verification, sqlx::Error> {
    let rows = entries(db, case_id).await?;
    let heads = known_heads(db, case_id).await?;
    Ok(keep::verify_rows(&rows, &heads, keys))
}
