//! The brigade's keeping of each case's hash-chained record: who took a step, appending entries, the heads other agencies hold, verifying.

use chrono::{DateTime, Utc};
use liandong_domain::auth::Actor;
use liandong_domain::record::{
    self, EntryContent, EventSignature, KnownHead, StoredEntry, Verification,
};
use liandong_plumbing::signing::{self, KeyRegistry};
use liandong_plumbing::store::{Backend, Db, Tx};
use liandong_plumbing::{with_db, with_tx};
use liandong_proto::events::v1 as ev;
use prost::Message;

use crate::store::CaseRef;

/// Who took a step, as the record names them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Who {
    pub officer: String,
    pub role: String,
    /// `brigade:<town>`, `board:<town>`, `county:<dept>`, `judicial:<town>`.
    pub agency: String,
    pub certificate_no: String,
}

/// The officer name of the brigade's own automatic steps.
pub const SYSTEM: &str = "system";

fn agency_of(role: &str, town: &str, department: &str) -> String {
    let kind = match role {
        "brigade_officer" | "brigade_captain" => "brigade",
        "board_chair" | "board_member" => "board",
        "judicial_reviewer" => "judicial",
        "county_dispatcher" | "county_investigator" | "department_legal_officer" => "county",
        _ if !department.is_empty() => "county",
        _ => "town",
    };
    let home = if kind == "county" { department } else { town };
    format!("{kind}:{home}")
}

impl Who {
    /// The caller of an API request.
    pub fn of(actor: &Actor) -> Who {
        let town = actor.town.as_ref().map(ToString::to_string);
        let department = actor.department.as_ref().map(ToString::to_string);
        Who {
            officer: actor.officer.to_string(),
            role: actor.role.as_str().to_owned(),
            agency: agency_of(
                actor.role.as_str(),
                town.as_deref().unwrap_or_default(),
                department.as_deref().unwrap_or_default(),
            ),
            certificate_no: String::new(),
        }
    }

    /// The remote actor of another agency's event; the event's source and town or department
    /// name the agency when the actor does not.
    pub fn of_event(env: &ev::Envelope) -> Who {
        match &env.actor {
            Some(a) => {
                let town = if a.town.is_empty() {
                    &env.town
                } else {
                    &a.town
                };
                let department = if a.department.is_empty() {
                    &env.department
                } else {
                    &a.department
                };
                let agency = match env.source.as_str() {
                    "county" => format!("county:{department}"),
                    "board" => format!("board:{town}"),
                    _ => agency_of(&a.role, town, department),
                };
                Who {
                    officer: a.officer_id.clone(),
                    role: a.role.clone(),
                    agency,
                    certificate_no: a.certificate_no.clone(),
                }
            }
            None => Who {
                officer: SYSTEM.into(),
                role: SYSTEM.into(),
                agency: match env.source.as_str() {
                    "county" => format!("county:{}", env.department),
                    other => format!("{other}:{}", env.town),
                },
                certificate_no: String::new(),
            },
        }
    }

    /// The brigade itself, for the steps it takes on its own (a handover after an acceptance).
    pub fn system(town: &str) -> Who {
        Who {
            officer: SYSTEM.into(),
            role: SYSTEM.into(),
            agency: format!("brigade:{town}"),
            certificate_no: String::new(),
        }
    }

    /// How a history names them: `officer (role@home)`, or `system`.
    pub fn label(&self) -> String {
        if self.officer == SYSTEM {
            return SYSTEM.into();
        }
        let home = self.agency.split_once(':').map_or("", |(_, h)| h);
        format!("{} ({}@{home})", self.officer, self.role)
    }
}

/// One stored entry, as read back.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct RecordRow {
    pub case_id: String,
    pub seq: i64,
    pub at: DateTime<Utc>,
    pub kind: String,
    pub agency: String,
    pub officer: String,
    pub role: String,
    pub certificate_no: String,
    pub detail: String,
    pub evidence_digests: String,
    pub event_id: Option<String>,
    pub prev_hash: String,
    pub hash: String,
    /// The signature of the event behind the entry (see `EventSignature`), when it has one.
    pub signed_by: Option<String>,
    pub signature_key_id: Option<String>,
    pub signature: Option<String>,
    pub event_digest: Option<String>,
    /// The event itself, protobuf, with its signature fields empty.
    pub signed_event: Option<Vec<u8>>,
}

impl RecordRow {
    pub fn content(&self) -> EntryContent {
        EntryContent {
            case_id: self.case_id.clone(),
            seq: self.seq as u64,
            at: self.at,
            kind: self.kind.clone(),
            agency: self.agency.clone(),
            officer: self.officer.clone(),
            role: self.role.clone(),
            certificate_no: self.certificate_no.clone(),
            detail: self.detail.clone(),
            evidence_digests: serde_json::from_str(&self.evidence_digests).unwrap_or_default(),
            event_id: self.event_id.clone(),
            signature: self.event_signature(),
        }
    }

    /// The event signature the entry keeps. A row with any of its columns set has one; a
    /// missing column reads as empty, which never verifies.
    fn event_signature(&self) -> Option<EventSignature> {
        if self.signed_by.is_none()
            && self.signature_key_id.is_none()
            && self.signature.is_none()
            && self.event_digest.is_none()
        {
            return None;
        }
        Some(EventSignature {
            signed_by: self.signed_by.clone().unwrap_or_default(),
            key_id: self.signature_key_id.clone().unwrap_or_default(),
            signature: self.signature.clone().unwrap_or_default(),
            event_digest: self.event_digest.clone().unwrap_or_default(),
        })
    }

    /// The entry as the domain verifies it; an unreadable stored hash reads as zeros, which
    /// never verifies.
    pub fn stored(&self) -> StoredEntry {
        StoredEntry {
            content: self.content(),
            prev_hash: record::parse_hash(&self.prev_hash).unwrap_or_default(),
            hash: record::parse_hash(&self.hash).unwrap_or_default(),
        }
    }

    pub fn who(&self) -> Who {
        Who {
            officer: self.officer.clone(),
            role: self.role.clone(),
            agency: self.agency.clone(),
            certificate_no: self.certificate_no.clone(),
        }
    }
}

/// What a new entry says.
pub struct NewEntry<'a> {
    pub at: DateTime<Utc>,
    pub kind: &'a str,
    pub who: &'a Who,
    pub detail: &'a str,
    pub evidence_digests: Vec<String>,
    /// The event that brought the step, if another agency's event did: its id, and its
    /// signature with the event itself, are kept with the entry.
    pub event: Option<&'a ev::Envelope>,
}

/// The timestamp as the databases keep it (microseconds), so that what is hashed is what is
/// read back.
fn micros(at: DateTime<Utc>) -> DateTime<Utc> {
    DateTime::from_timestamp_micros(at.timestamp_micros()).unwrap_or(at)
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
    let (seq, prev) = match last {
        Some((seq, hash)) => (
            seq as u64 + 1,
            record::parse_hash(&hash).ok_or_else(|| {
                sqlx::Error::Decode(format!("case {} has an unreadable hash", case.case_id).into())
            })?,
        ),
        None => (1, record::GENESIS),
    };
    let content = EntryContent {
        case_id: case.case_id.to_owned(),
        seq,
        at: micros(e.at),
        kind: e.kind.to_owned(),
        agency: e.who.agency.clone(),
        officer: e.who.officer.clone(),
        role: e.who.role.clone(),
        certificate_no: e.who.certificate_no.clone(),
        detail: e.detail.to_owned(),
        evidence_digests: e.evidence_digests,
        event_id: e.event.map(|env| env.event_id.clone()),
        signature: e
            .event
            .filter(|env| !env.signature.is_empty())
            .map(|env| EventSignature {
                signed_by: env.source.clone(),
                key_id: env.signature_key_id.clone(),
                signature: hex::encode(&env.signature),
                event_digest: signing::event_digest(env),
            }),
    };
    let signed_event = content
        .signature
        .as_ref()
        .and(e.event)
        .map(|env| signing::unsigned(env).encode_to_vec());
    let sig = content.signature.as_ref();
    let hash = hex::encode(record::entry_hash(&prev, &content));
    with_tx!(tx, |conn| {
        sqlx::query(
            "INSERT INTO case_record (case_id, seq, town, at, kind, agency, officer, role, certificate_no, detail, \
             evidence_digests, event_id, prev_hash, hash, signed_by, signature_key_id, signature, event_digest, signed_event) \
             VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$17,$18,$19)",
        )
        .bind(&content.case_id)
        .bind(seq as i64)
        .bind(case.town)
        .bind(content.at)
        .bind(&content.kind)
        .bind(&content.agency)
        .bind(&content.officer)
        .bind(&content.role)
        .bind(&content.certificate_no)
        .bind(&content.detail)
        .bind(serde_json::to_string(&content.evidence_digests).expect("strings serialise"))
        .bind(&content.event_id)
        .bind(hex::encode(prev))
        .bind(&hash)
        .bind(sig.map(|s| s.signed_by.as_str()))
        .bind(sig.map(|s| s.key_id.as_str()))
        .bind(sig.map(|s| s.signature.as_str()))
        .bind(sig.map(|s| s.event_digest.as_str()))
        .bind(signed_event.as_deref())
        .execute(conn)
        .await
        .map(|_| ())
    })?;
    Ok((seq, hash))
}

/// A case's record in order, read inside `tx`.
pub async fn entries_in_tx(tx: &mut Tx, case_id: &str) -> Result<Vec<RecordRow>, sqlx::Error> {
    with_tx!(tx, |conn| sqlx::query_as(
        "SELECT * FROM case_record WHERE case_id = $1 ORDER BY seq"
    )
    .bind(case_id)
    .fetch_all(conn)
    .await)
}

/// A case's record in order.
pub async fn entries(db: &Db, case_id: &str) -> Result<Vec<RecordRow>, sqlx::Error> {
    with_db!(db, |p| sqlx::query_as(
        "SELECT * FROM case_record WHERE case_id = $1 ORDER BY seq"
    )
    .bind(case_id)
    .fetch_all(p)
    .await)
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
        .map(|(agency, seq, head)| KnownHead {
            agency,
            seq: seq as u64,
            // A head that cannot be read disagrees with every record, which is the safe side.
            hash: record::parse_hash(&head).unwrap_or_default(),
        })
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
    let stored: Vec<StoredEntry> = rows.iter().map(RecordRow::stored).collect();
    let heads = known_heads(db, case_id).await?;
    Ok(record::verify_signed(&stored, &heads, |e, sig| {
        let row = rows
            .iter()
            .find(|r| r.seq as u64 == e.content.seq)
            .ok_or("the entry's row is gone")?;
        check_signature(row, sig, keys)
    }))
}

/// Shows that the event kept with an entry is the one its signature covers, and that the
/// signature is the sending agency's: the event decodes, is the entry's event, matches the
/// digest the entry's hash holds, comes from the agency that signed, and its signature
/// verifies with a key the registry lists for that agency.
pub fn check_signature(
    row: &RecordRow,
    sig: &EventSignature,
    keys: &KeyRegistry,
) -> Result<(), String> {
    let bytes = row
        .signed_event
        .as_deref()
        .ok_or("the signed event is not kept")?;
    let env = ev::Envelope::decode(bytes)
        .map_err(|e| format!("the signed event kept cannot be decoded: {e}"))?;
    if row.event_id.as_deref() != Some(env.event_id.as_str()) {
        return Err(format!(
            "the event kept is {}, not the entry's event",
            env.event_id
        ));
    }
    if env.source != sig.signed_by {
        return Err(format!(
            "the event kept comes from {:?}, not {:?}",
            env.source, sig.signed_by
        ));
    }
    if signing::event_digest(&env) != sig.event_digest {
        return Err("the event kept is not the one that was signed".into());
    }
    let signature =
        hex::decode(&sig.signature).map_err(|_| "the signature is not hex".to_owned())?;
    keys.verify_signature(&env, &sig.key_id, &signature)
        .map_err(|e| e.to_string())
}
