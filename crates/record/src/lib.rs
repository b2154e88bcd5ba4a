//! Keeping a case's hash-chained record, whichever agency keeps it: who took a step, the
//! stored row and its content, a new entry prepared for its table, the entry as a handover
//! carries it, and the check of an event signature an entry keeps. The hashing and the
//! verification rules are the domain's (`liandong_domain::record`); each service writes and
//! reads its own table with these.
#![forbid(unsafe_code)]

use chrono::{DateTime, Utc};
use liandong_domain::auth::Actor;
use liandong_domain::record::{
    self, EntryContent, EventSignature, KnownHead, StoredEntry, Verification,
};
use liandong_proto::events::v1 as ev;
use liandong_store::typed::Json;
use prost::Message;

use liandong_bus::signing::{self, KeyRegistry};

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

    /// The caller of an API request acting under its enforcement certificate `certificate_no`.
    pub fn certified(actor: &Actor, certificate_no: impl Into<String>) -> Who {
        Who {
            certificate_no: certificate_no.into(),
            ..Who::of(actor)
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

    /// An event's actor acting for `agency` (`brigade:<town>`, `county:<dept>`): the proposer
    /// of a decision a review answer brings into effect, say.
    pub fn acting_for(a: &ev::Actor, agency: String) -> Who {
        Who {
            officer: a.officer_id.clone(),
            role: a.role.clone(),
            agency,
            certificate_no: a.certificate_no.clone(),
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
    #[sqlx(try_from = "String")]
    pub evidence_digests: Json<Vec<String>>,
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
            evidence_digests: self.evidence_digests.0.clone(),
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

/// A new entry made ready for its table: the content as hashed, the hash it is chained to, its
/// own hash, and the event kept beside it when the event was signed.
pub struct Prepared {
    pub content: EntryContent,
    pub prev_hash: String,
    pub hash: String,
    pub signed_event: Option<Vec<u8>>,
}

impl Prepared {
    /// The signature columns: signed by, key id, signature (hex), event digest.
    pub fn signature_columns(&self) -> [Option<&str>; 4] {
        let s = self.content.signature.as_ref();
        [
            s.map(|s| s.signed_by.as_str()),
            s.map(|s| s.key_id.as_str()),
            s.map(|s| s.signature.as_str()),
            s.map(|s| s.event_digest.as_str()),
        ]
    }

    pub fn evidence_digests_json(&self) -> String {
        serde_json::to_string(&self.content.evidence_digests).expect("strings serialise")
    }
}

/// Prepares entry `last.seq + 1` of `case_id`'s record (entry 1 after [`record::GENESIS`] when
/// `last` is `None`): `last` is the number and stored hash of the record's last entry.
pub fn prepare(
    case_id: &str,
    last: Option<(i64, String)>,
    e: NewEntry<'_>,
) -> Result<Prepared, sqlx::Error> {
    let (seq, prev) = match last {
        Some((seq, hash)) => (
            seq as u64 + 1,
            record::parse_hash(&hash).ok_or_else(|| {
                sqlx::Error::Decode(format!("case {case_id} has an unreadable hash").into())
            })?,
        ),
        None => (1, record::GENESIS),
    };
    let content = EntryContent {
        case_id: case_id.to_owned(),
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
    let hash = hex::encode(record::entry_hash(&prev, &content));
    Ok(Prepared {
        content,
        prev_hash: hex::encode(prev),
        hash,
        signed_event,
    })
}

impl RecordRow {
    /// The entry whole, as a handover carries it: everything its hash covers, the hashes, and
    /// the signed event kept beside it, so that the receiver can keep and verify the chain.
    pub fn to_event(&self) -> ev::RecordEntry {
        ev::RecordEntry {
            at: Some(liandong_proto::time::to_ts(self.at)),
            kind: self.kind.clone(),
            actor: self.who().label(),
            detail: self.detail.clone(),
            seq: self.seq as u64,
            agency: self.agency.clone(),
            officer: self.officer.clone(),
            role: self.role.clone(),
            certificate_no: self.certificate_no.clone(),
            evidence_digests: self.evidence_digests.0.clone(),
            event_id: self.event_id.clone(),
            prev_hash: self.prev_hash.clone(),
            hash: self.hash.clone(),
            signed_by: self.signed_by.clone(),
            signature_key_id: self.signature_key_id.clone(),
            signature: self.signature.clone(),
            event_digest: self.event_digest.clone(),
            signed_event: self.signed_event.clone(),
        }
    }

    /// The row an entry carried by a handover stands for; `case_id` is the handover's. An entry
    /// without its time cannot stand in a record.
    pub fn from_event(case_id: &str, e: &ev::RecordEntry) -> Result<RecordRow, String> {
        let at = liandong_proto::time::from_ts(e.at.as_ref())
            .ok_or_else(|| format!("record entry {} has no time", e.seq))?;
        Ok(RecordRow {
            case_id: case_id.to_owned(),
            seq: e.seq as i64,
            at,
            kind: e.kind.clone(),
            agency: e.agency.clone(),
            officer: e.officer.clone(),
            role: e.role.clone(),
            certificate_no: e.certificate_no.clone(),
            detail: e.detail.clone(),
            evidence_digests: Json(e.evidence_digests.clone()),
            event_id: e.event_id.clone(),
            prev_hash: e.prev_hash.clone(),
            hash: e.hash.clone(),
            signed_by: e.signed_by.clone(),
            signature_key_id: e.signature_key_id.clone(),
            signature: e.signature.clone(),
            event_digest: e.event_digest.clone(),
            signed_event: e.signed_event.clone(),
        })
    }
}

/// Verifies stored rows (in `seq` order) against themselves, the heads others hold and, for
/// every entry another agency's event brought, that event's signature against the registry.
pub fn verify_rows(rows: &[RecordRow], heads: &[KnownHead], keys: &KeyRegistry) -> Verification {
    let stored: Vec<StoredEntry> = rows.iter().map(RecordRow::stored).collect();
    record::verify_signed(&stored, heads, |e, sig| {
        let row = rows
            .iter()
            .find(|r| r.seq as u64 == e.content.seq)
            .ok_or("the entry's row is gone")?;
        check_signature(row, sig, keys)
    })
}

/// A head as stored (hex); one that cannot be read disagrees with every record, the safe side.
pub fn known_head(agency: String, seq: i64, head: &str) -> KnownHead {
    KnownHead {
        agency,
        seq: seq as u64,
        hash: record::parse_hash(head).unwrap_or_default(),
    }
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
