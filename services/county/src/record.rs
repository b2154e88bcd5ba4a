//! The record of each case file a department holds (执法全过程记录, kept by the agency that holds
//! the file): the chain a handover carried, checked against the head it named and kept, then
//! continued with the department's own steps on the case.

use chrono::{DateTime, Utc};
use liandong_bus::signing::KeyRegistry;
use liandong_domain::record::{self, KnownHead, Verification};
use liandong_proto::events::v1 as ev;
use liandong_record::{self as keep, NewEntry, RecordRow, Who};
use liandong_store::typed::{Json, decode, decode_all};
use liandong_store::{Backend, Db, Tx};
use liandong_store::{with_db, with_tx};

use crate::task_store::HandoverRow;

/// The agency the brigade's head is held from, as the record names it.
fn brigade_of(town: &str) -> String {
    format!("brigade:{town}")
}

/// Checks the chain a handover carries: every entry whole and chained, the entries numbered
/// 1..n with n the length the handover names, the last one's hash the head it names, and every
/// kept event signature valid. One line per fault found (the first of the chain), empty when
/// the chain is whole.
pub fn check_handed(e: &ev::CaseHandedOver, town: &str, keys: &KeyRegistry) -> Vec<String> {
    let rows: Result<Vec<RecordRow>, String> = e
        .record
        .iter()
        .map(|r| RecordRow::from_event(&e.case_id, r))
        .collect();
    let rows = match rows {
        Ok(rows) => rows,
        Err(why) => return vec![format!("record: {why}")],
    };
    let mut reasons = Vec::new();
    if rows.len() as u64 != e.record_length {
        reasons.push(format!(
            "record: {} entries carried, but the handover names a record of {}",
            rows.len(),
            e.record_length
        ));
    }
    let Some(head) = record::parse_hash(&e.record_head) else {
        reasons.push(format!(
            "record: the head {:?} is not a SHA-256 hash",
            e.record_head
        ));
        return reasons;
    };
    let named = KnownHead {
        agency: brigade_of(town),
        seq: e.record_length,
        hash: head,
    };
    let v = keep::verify_rows(&rows, &[named], keys);
    if let Some((seq, why)) = v.first_bad {
        reasons.push(format!("record: entry {seq}: {why}"));
    }
    reasons
}

/// Keeps the chain of a handover that passed its checks: the department's copy of the record.
pub async fn keep_handed(
    tx: &mut Tx,
    h: &HandoverRow,
    entries: &[ev::RecordEntry],
) -> Result<(), sqlx::Error> {
    for entry in entries {
        // The chain passed its checks, each entry with its time, before it is kept.
        let row = RecordRow::from_event(&h.case_id, entry)
            .map_err(|why| sqlx::Error::Decode(why.into()))?;
        insert(tx, h, &row).await?;
    }
    Ok(())
}

async fn insert(tx: &mut Tx, h: &HandoverRow, r: &RecordRow) -> Result<(), sqlx::Error> {
    with_tx!(tx, |conn| {
        sqlx::query(
            "INSERT INTO held_record (handover_id, case_id, department, town, seq, at, kind, agency, officer, role, \
             certificate_no, detail, evidence_digests, event_id, prev_hash, hash, signed_by, signature_key_id, \
             signature, event_digest, signed_event) \
             VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$17,$18,$19,$20,$21)",
        )
        .bind(&h.handover_id)
        .bind(&h.case_id)
        .bind(&h.department)
        .bind(&h.town)
        .bind(r.seq)
        .bind(r.at)
        .bind(&r.kind)
        .bind(&r.agency)
        .bind(&r.officer)
        .bind(&r.role)
        .bind(&r.certificate_no)
        .bind(&r.detail)
        .bind(r.evidence_digests.text())
        .bind(&r.event_id)
        .bind(&r.prev_hash)
        .bind(&r.hash)
        .bind(&r.signed_by)
        .bind(&r.signature_key_id)
        .bind(&r.signature)
        .bind(&r.event_digest)
        .bind(r.signed_event.as_deref())
        .execute(conn)
        .await
        .map(|_| ())
    })
}

/// The newest handover of a case to a department that was received (not refused).
const HELD_SQL: &str = "SELECT * FROM handovers WHERE case_id = $1 AND department = $2 \
     AND status = 'received' ORDER BY received_at DESC, handover_id DESC LIMIT 1";

/// The entries of the record a handover started, in order, as `RecordRow`s.
const ENTRIES_SQL: &str = "SELECT case_id, seq, at, kind, agency, officer, role, certificate_no, \
     detail, evidence_digests, event_id, prev_hash, hash, signed_by, signature_key_id, signature, \
     event_digest, signed_event FROM held_record WHERE handover_id = $1 ORDER BY seq";

/// The handover whose file the department holds for a case: the newest one it received (not
/// refused).
pub async fn held_in_tx(
    tx: &mut Tx,
    case_id: &str,
    department: &str,
) -> Result<Option<HandoverRow>, sqlx::Error> {
    with_tx!(tx, |conn| {
        let row = sqlx::query(HELD_SQL)
            .bind(case_id)
            .bind(department)
            .fetch_optional(conn)
            .await?;
        row.as_ref()
            .map(|r| decode(r, "handovers", "handover_id"))
            .transpose()
    })
}

/// [`held_in_tx`], outside a transaction.
pub async fn held(
    db: &Db,
    case_id: &str,
    department: &str,
) -> Result<Option<HandoverRow>, sqlx::Error> {
    with_db!(db, |p| {
        let row = sqlx::query(HELD_SQL)
            .bind(case_id)
            .bind(department)
            .fetch_optional(p)
            .await?;
        row.as_ref()
            .map(|r| decode(r, "handovers", "handover_id"))
            .transpose()
    })
}

/// Another agency's step on a file the department holds, `env` signed by it, entered in the
/// held record (nothing when the department holds no file of the case).
pub async fn enter_event(
    tx: &mut Tx,
    case_id: &str,
    department: &str,
    at: DateTime<Utc>,
    kind: &str,
    detail: &str,
    env: &ev::Envelope,
) -> Result<Option<(u64, String)>, sqlx::Error> {
    let who = Who::of_event(env);
    let entry = NewEntry {
        at,
        kind,
        who: &who,
        detail,
        evidence_digests: Vec::new(),
        event: Some(env),
    };
    enter(tx, case_id, department, entry).await
}

/// Enters a step of the department's in the record of the case file it holds, within `tx`; a
/// case it holds no file of (referred, never handed over) has no record here, and nothing is
/// entered. On PostgreSQL the handover row is locked first, so that concurrent appends queue
/// up; the primary key stops any that still race. Returns the new entry's number and hash.
pub async fn enter(
    tx: &mut Tx,
    case_id: &str,
    department: &str,
    e: NewEntry<'_>,
) -> Result<Option<(u64, String)>, sqlx::Error> {
    let Some(h) = held_in_tx(tx, case_id, department).await? else {
        return Ok(None);
    };
    if tx.backend() == Backend::Postgres {
        with_tx!(tx, |conn| sqlx::query(
            "SELECT handover_id FROM handovers WHERE handover_id = $1 FOR UPDATE"
        )
        .bind(&h.handover_id)
        .fetch_optional(conn)
        .await
        .map(|_| ()))?;
    }
    let last: Option<(i64, String)> = with_tx!(tx, |conn| sqlx::query_as(
        "SELECT seq, hash FROM held_record WHERE handover_id = $1 ORDER BY seq DESC LIMIT 1"
    )
    .bind(&h.handover_id)
    .fetch_optional(conn)
    .await)?;
    let p = keep::prepare(case_id, last, e)?;
    let [signed_by, signature_key_id, signature, event_digest] = p.signature_columns();
    let row = RecordRow {
        case_id: p.content.case_id.clone(),
        seq: p.content.seq as i64,
        at: p.content.at,
        kind: p.content.kind.clone(),
        agency: p.content.agency.clone(),
        officer: p.content.officer.clone(),
        role: p.content.role.clone(),
        certificate_no: p.content.certificate_no.clone(),
        detail: p.content.detail.clone(),
        evidence_digests: Json(p.content.evidence_digests.clone()),
        event_id: p.content.event_id.clone(),
        prev_hash: p.prev_hash.clone(),
        hash: p.hash.clone(),
        signed_by: signed_by.map(str::to_owned),
        signature_key_id: signature_key_id.map(str::to_owned),
        signature: signature.map(str::to_owned),
        event_digest: event_digest.map(str::to_owned),
        signed_event: p.signed_event.clone(),
    };
    insert(tx, &h, &row).await?;
    Ok(Some((p.content.seq, p.hash)))
}

/// The entries of the record a handover started, in order.
pub async fn entries(db: &Db, handover_id: &str) -> Result<Vec<RecordRow>, sqlx::Error> {
    with_db!(db, |p| {
        let rows = sqlx::query(ENTRIES_SQL)
            .bind(handover_id)
            .fetch_all(p)
            .await?;
        decode_all(&rows, "held_record", "case_id")
    })
}

/// The head of the record a department keeps of a case file, to stamp on an event about to
/// announce a step: the handover that started the record, and its length and last hash.
#[derive(Debug, Clone)]
pub struct HeldHead {
    pub handover_id: String,
    pub head: ev::RecordHead,
}

/// The head of the department's record of `case_id` as it stands, or `None` when it holds no
/// file of it.
pub async fn head_in_tx(
    tx: &mut Tx,
    case_id: &str,
    department: &str,
) -> Result<Option<HeldHead>, sqlx::Error> {
    let Some(h) = held_in_tx(tx, case_id, department).await? else {
        return Ok(None);
    };
    let last: Option<(i64, String)> = with_tx!(tx, |conn| sqlx::query_as(
        "SELECT seq, hash FROM held_record WHERE handover_id = $1 ORDER BY seq DESC LIMIT 1"
    )
    .bind(&h.handover_id)
    .fetch_optional(conn)
    .await)?;
    Ok(last.map(|(seq, hash)| HeldHead {
        handover_id: h.handover_id,
        head: ev::RecordHead {
            length: seq as u64,
            head: hash,
        },
    }))
}

/// Notes that the event `event_id` carried `held`, so that its receivers' receipts show they
/// hold that head.
pub async fn note_sent(
    tx: &mut Tx,
    event_id: &str,
    held: Option<&HeldHead>,
) -> Result<(), sqlx::Error> {
    let Some(h) = held else {
        return Ok(());
    };
    with_tx!(tx, |conn| sqlx::query(
        "INSERT INTO held_heads_sent (event_id, handover_id, seq, head) VALUES ($1,$2,$3,$4) \
         ON CONFLICT (event_id) DO NOTHING"
    )
    .bind(event_id)
    .bind(&h.handover_id)
    .bind(h.head.length as i64)
    .bind(&h.head.head)
    .execute(conn)
    .await
    .map(|_| ()))
}

/// The heads of the record a handover started that the brigade holds: those the department's
/// events carried whose receipt came back from the brigade, which keeps each event (signed)
/// in its own record of the case (`brigade:<town>`). Other receivers (the disclosure service,
/// the board) keep no record, and their receipts prove nothing of the kind.
pub async fn acknowledged_heads(db: &Db, h: &HandoverRow) -> Result<Vec<KnownHead>, sqlx::Error> {
    let rows: Vec<(String, i64, String)> = with_db!(db, |p| sqlx::query_as(
        "SELECT r.receiver, s.seq, s.head FROM held_heads_sent s \
         JOIN outbox_receiver r ON r.event_id = s.event_id AND r.receipt_at IS NOT NULL \
         AND r.receiver = 'brigade' WHERE s.handover_id = $1 ORDER BY s.seq"
    )
    .bind(&h.handover_id)
    .fetch_all(p)
    .await)?;
    Ok(rows
        .into_iter()
        .map(|(receiver, seq, head)| keep::known_head(format!("{receiver}:{}", h.town), seq, &head))
        .collect())
}

/// [`entries`], inside `tx`.
pub async fn entries_in_tx(tx: &mut Tx, handover_id: &str) -> Result<Vec<RecordRow>, sqlx::Error> {
    with_tx!(tx, |conn| {
        let rows = sqlx::query(ENTRIES_SQL)
            .bind(handover_id)
            .fetch_all(conn)
            .await?;
        decode_all(&rows, "held_record", "case_id")
    })
}

/// Verifies the department's record of a case file against itself, the head the brigade
/// handed over with it, the heads its events carried that came back acknowledged
/// (`acknowledged`), and every kept event signature.
pub fn verify(
    h: &HandoverRow,
    rows: &[RecordRow],
    acknowledged: Vec<KnownHead>,
    keys: &KeyRegistry,
) -> Verification {
    let mut heads = vec![keep::known_head(
        brigade_of(&h.town),
        h.record_length,
        &h.record_head,
    )];
    heads.extend(acknowledged);
    keep::verify_rows(rows, &heads, keys)
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};
    use liandong_domain::record::{EntryContent, StoredEntry, chain, entry_hash};

    use super::*;

    const TOWN: &str = "330782101";

    fn content(seq: u64) -> EntryContent {
        EntryContent {
            case_id: "330782101-c1".into(),
            seq,
            at: Utc
                .with_ymd_and_hms(2026, 5, 1, 8, 0, seq as u32)
                .single()
                .expect("a time"),
            kind: "step".into(),
            agency: format!("brigade:{TOWN}"),
            officer: "wang.wu".into(),
            role: "brigade_officer".into(),
            certificate_no: String::new(),
            detail: format!("第{seq}步"),
            evidence_digests: vec![record::digest_hex(b"photo")],
            event_id: None,
            signature: None,
        }
    }

    fn entry(e: &StoredEntry) -> ev::RecordEntry {
        RecordRow {
            case_id: e.content.case_id.clone(),
            seq: e.content.seq as i64,
            at: e.content.at,
            kind: e.content.kind.clone(),
            agency: e.content.agency.clone(),
            officer: e.content.officer.clone(),
            role: e.content.role.clone(),
            certificate_no: e.content.certificate_no.clone(),
            detail: e.content.detail.clone(),
            evidence_digests: Json(e.content.evidence_digests.clone()),
            event_id: None,
            prev_hash: hex::encode(e.prev_hash),
            hash: hex::encode(e.hash),
            signed_by: None,
            signature_key_id: None,
            signature: None,
            event_digest: None,
            signed_event: None,
        }
        .to_event()
    }

    /// A handover of a five-entry chain, naming its true head.
    fn handover() -> ev::CaseHandedOver {
        let stored = chain((1..=5).map(content).collect());
        ev::CaseHandedOver {
            handover_id: "330782101-h1".into(),
            case_id: "330782101-c1".into(),
            to_department: "forestry".into(),
            reason: liandong_topology::names::REFERRAL_ACCEPTED.into(),
            record: stored.iter().map(entry).collect(),
            record_head: hex::encode(stored[4].hash),
            record_length: 5,
            ..Default::default()
        }
    }

    fn keys() -> KeyRegistry {
        KeyRegistry::of(&[]).expect("an empty registry")
    }

    #[test]
    fn a_whole_chain_that_ends_at_the_named_head_passes() {
        let e = handover();
        assert_eq!(check_handed(&e, TOWN, &keys()), Vec::<String>::new());
        // Every field survives the trip through the event: the chain recomputes from it.
        let rows: Vec<RecordRow> = e
            .record
            .iter()
            .map(|r| RecordRow::from_event(&e.case_id, r))
            .collect::<Result<_, _>>()
            .expect("every entry has its time");
        assert_eq!(rows[2].stored().content, content(3));
    }

    #[test]
    fn an_entry_changed_and_rehashed_is_refused_at_that_entry() {
        let mut e = handover();
        let mut altered = content(3);
        altered.detail = "改写的第3步".into();
        let prev = record::parse_hash(&e.record[2].prev_hash).unwrap();
        e.record[2].detail = altered.detail.clone();
        e.record[2].hash = hex::encode(entry_hash(&prev, &altered));
        let reasons = check_handed(&e, TOWN, &keys());
        assert_eq!(reasons.len(), 1, "{reasons:?}");
        assert!(reasons[0].starts_with("record: entry 3:"), "{reasons:?}");
    }

    #[test]
    fn a_record_cut_short_of_the_named_head_is_refused() {
        let mut e = handover();
        e.record.truncate(3);
        let reasons = check_handed(&e, TOWN, &keys());
        assert!(
            reasons[0].contains("3 entries carried, but the handover names a record of 5"),
            "{reasons:?}"
        );
        assert!(
            reasons[1].starts_with("record: entry 4: truncated: brigade:330782101"),
            "{reasons:?}"
        );
    }

    #[test]
    fn a_head_that_is_not_the_chain_s_last_hash_is_refused() {
        let mut e = handover();
        e.record_head = hex::encode([7u8; 32]);
        let reasons = check_handed(&e, TOWN, &keys());
        assert_eq!(
            reasons,
            vec![
                "record: entry 5: the entry's hash differs from the head brigade:330782101 holds"
                    .to_string()
            ]
        );
        e.record_head = "not a hash".into();
        assert!(check_handed(&e, TOWN, &keys())[0].contains("is not a SHA-256 hash"));
    }
}
