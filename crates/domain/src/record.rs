//! The full-process record (执法全过程记录): entries, their canonical encoding, the hash chain and its verification.
//!
//! Every step of a case becomes an entry. Entry `n`'s hash is
//! `SHA-256(hash(n-1) ‖ canonical(content(n)))`, with [`GENESIS`] before entry 1, so changing,
//! removing or reordering any entry changes every hash after it. The agency that holds the case
//! file keeps the chain; the heads it hands to other agencies (in handovers and their receipts)
//! let a verifier catch a record that was cut short or rewritten from some point on.

use chrono::{DateTime, SecondsFormat, Utc};
use serde::Serialize;
use sha2::{Digest, Sha256};

/// A SHA-256 hash.
pub type Hash = [u8; 32];

/// The hash "before" the first entry.
pub const GENESIS: Hash = [0; 32];

/// The first line of every canonical encoding. A later encoding gets a new tag, so an entry
/// can never be read under the wrong rules.
pub const ENCODING: &str = "liandong-record/v1";

/// What one entry of a case's record says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EntryContent {
    pub case_id: String,
    /// The entry's position in the case's record, from 1.
    pub seq: u64,
    /// When the step happened; only microseconds count (what the databases keep).
    pub at: DateTime<Utc>,
    /// What kind of step: `reported`, `triaged`, `referred`, `document`, ...
    pub kind: String,
    /// The agency that took the step: `brigade:<town>`, `county:<dept>`, `board:<town>`.
    pub agency: String,
    pub officer: String,
    pub role: String,
    /// The enforcement certificate the officer used, if the step needed one.
    pub certificate_no: String,
    pub detail: String,
    /// Hex SHA-256 digests of the evidence and documents the step involved.
    pub evidence_digests: Vec<String>,
    /// The event that carried the step between agencies, if any.
    pub event_id: Option<String>,
    /// The signature of that event by the agency that sent it, if it was signed.
    pub signature: Option<EventSignature>,
}

/// The signature of the event behind an entry that another agency's event brought: the
/// evidence that the agency sent it. The holder keeps the event itself beside the entry, so the
/// signature can be verified again at any time against the key registry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EventSignature {
    /// The service that signed the event (its source): `county`, `board`, `review`, ...
    pub signed_by: String,
    /// The id of the signing key in the key registry.
    pub key_id: String,
    /// The Ed25519 signature, hex.
    pub signature: String,
    /// The hex SHA-256 of the bytes that were signed (`liandong-envelope/v1`).
    pub event_digest: String,
}

fn field(out: &mut Vec<u8>, name: &str, value: &[u8]) {
    out.extend_from_slice(name.as_bytes());
    out.push(b'=');
    out.extend_from_slice(value.len().to_string().as_bytes());
    out.push(b':');
    out.extend_from_slice(value);
    out.push(b'\n');
}

/// The timestamp as the encoding writes it: RFC 3339, UTC, exactly six fraction digits.
pub fn encode_at(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Micros, true)
}

/// The canonical encoding of an entry (version [`ENCODING`]).
///
/// The tag line, then every field in this fixed order as `<name>=<byte length>:<bytes>\n`:
/// `case_id`, `seq` (decimal), `at` ([`encode_at`]), `kind`, `agency`, `officer`, `role`,
/// `certificate_no`, `detail`, then `evidence_digests=<count>\n` followed by one
/// `evidence_digest=<len>:<bytes>\n` per digest in order, then `event_id=<len>:<bytes>\n`, or
/// `event_id=-\n` when there is none. An entry with an event signature then adds `signed_by`,
/// `signature_key_id`, `signature` and `event_digest` the same way; one without adds nothing,
/// so entries written before events were signed keep their hashes. Every value is preceded by
/// its length, so no value can borrow bytes from its neighbour and two different entries never
/// encode alike.
pub fn canonical(c: &EntryContent) -> Vec<u8> {
    let mut out = Vec::with_capacity(256 + c.detail.len());
    out.extend_from_slice(ENCODING.as_bytes());
    out.push(b'\n');
    field(&mut out, "case_id", c.case_id.as_bytes());
    field(&mut out, "seq", c.seq.to_string().as_bytes());
    field(&mut out, "at", encode_at(c.at).as_bytes());
    field(&mut out, "kind", c.kind.as_bytes());
    field(&mut out, "agency", c.agency.as_bytes());
    field(&mut out, "officer", c.officer.as_bytes());
    field(&mut out, "role", c.role.as_bytes());
    field(&mut out, "certificate_no", c.certificate_no.as_bytes());
    field(&mut out, "detail", c.detail.as_bytes());
    out.extend_from_slice(format!("evidence_digests={}\n", c.evidence_digests.len()).as_bytes());
    for d in &c.evidence_digests {
        field(&mut out, "evidence_digest", d.as_bytes());
    }
    match &c.event_id {
        Some(id) => field(&mut out, "event_id", id.as_bytes()),
        None => out.extend_from_slice(b"event_id=-\n"),
    }
    if let Some(s) = &c.signature {
        field(&mut out, "signed_by", s.signed_by.as_bytes());
        field(&mut out, "signature_key_id", s.key_id.as_bytes());
        field(&mut out, "signature", s.signature.as_bytes());
        field(&mut out, "event_digest", s.event_digest.as_bytes());
    }
    out
}

/// The hash of an entry chained to the hash of the entry before it.
pub fn entry_hash(prev: &Hash, content: &EntryContent) -> Hash {
    let mut h = Sha256::new();
    h.update(prev);
    h.update(canonical(content));
    h.finalize().into()
}

/// The hex SHA-256 of some bytes: a document's or a piece of evidence's digest.
pub fn digest_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// The digest recorded for an evidence reference: the digest it names itself
/// (`sha256:<64 hex>`), else the SHA-256 of the reference text, until an evidence store holds
/// the files themselves.
pub fn evidence_digest(reference: &str) -> String {
    match reference.strip_prefix("sha256:") {
        Some(d) if d.len() == 64 && d.bytes().all(|b| b.is_ascii_hexdigit()) => {
            d.to_ascii_lowercase()
        }
        _ => digest_hex(reference.as_bytes()),
    }
}

/// Parses a hex hash as stored.
pub fn parse_hash(s: &str) -> Option<Hash> {
    let bytes = hex::decode(s).ok()?;
    bytes.try_into().ok()
}

/// An entry as the holder stored it: its content, the hash it was chained to, and its hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredEntry {
    pub content: EntryContent,
    pub prev_hash: Hash,
    pub hash: Hash,
}

/// A head of the chain another agency received and holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KnownHead {
    pub agency: String,
    /// The length of the record when the head was handed over.
    pub seq: u64,
    pub hash: Hash,
}

/// Why a record fails to verify, at the first entry found wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Broken {
    /// The entry's content no longer gives its stored hash: it was changed in place.
    ContentChanged,
    /// The entry was changed and its own hash recomputed; the next entry, still chained to
    /// its old hash, gives it away.
    Rehashed,
    /// The entry is chained to a hash that is not its predecessor's, and does not match its
    /// own content either.
    BrokenLink,
    /// An entry is missing or out of place: the one found has this number.
    Gap { found: u64 },
    /// Another agency holds a head at this position, but the record ends before it.
    Truncated { agency: String, length: u64 },
    /// Another agency holds a different hash for this position: the record was rewritten.
    HeadMismatch { agency: String },
    /// The signature of the event behind the entry does not verify: the event kept, or its
    /// signature, was altered, or the key is not the sending agency's.
    Signature { reason: String },
}

impl std::fmt::Display for Broken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Broken::ContentChanged => f.write_str("the entry's content does not match its hash"),
            Broken::Rehashed => f.write_str(
                "the entry was changed and re-hashed: the next entry is chained to its old hash",
            ),
            Broken::BrokenLink => {
                f.write_str("the entry is not chained to the hash of the entry before it")
            }
            Broken::Gap { found } => write!(f, "the entry is missing; the next one is {found}"),
            Broken::Truncated { agency, length } => write!(
                f,
                "truncated: {agency} holds a head at this entry, but the record ends at {length}"
            ),
            Broken::HeadMismatch { agency } => {
                write!(f, "the entry's hash differs from the head {agency} holds")
            }
            Broken::Signature { reason } => {
                write!(
                    f,
                    "the signature of the event behind the entry fails: {reason}"
                )
            }
        }
    }
}

/// The result of verifying a case's record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verification {
    pub ok: bool,
    pub length: u64,
    /// The hash of the last entry ([`GENESIS`] for an empty record).
    pub head: Hash,
    /// The first entry found wrong, and why.
    pub first_bad: Option<(u64, Broken)>,
    /// How many heads held by other agencies were compared.
    pub known_heads_checked: usize,
    /// How many signatures of events behind entries were verified.
    pub signatures_checked: usize,
}

fn check_chain(entries: &[StoredEntry]) -> Option<(u64, Broken)> {
    let mut prev = GENESIS;
    for (i, e) in entries.iter().enumerate() {
        let expected = i as u64 + 1;
        if e.content.seq != expected {
            return Some((
                expected,
                Broken::Gap {
                    found: e.content.seq,
                },
            ));
        }
        if e.prev_hash != prev {
            // This entry is chained to something other than its predecessor's stored hash. If
            // it still matches the hash it was chained to, it is intact and its predecessor was
            // changed and re-hashed afterwards; else this entry itself was tampered with.
            if i > 0 && entry_hash(&e.prev_hash, &e.content) == e.hash {
                return Some((expected - 1, Broken::Rehashed));
            }
            return Some((expected, Broken::BrokenLink));
        }
        if entry_hash(&prev, &e.content) != e.hash {
            return Some((expected, Broken::ContentChanged));
        }
        prev = e.hash;
    }
    None
}

/// Verifies a case's record (its entries in `seq` order) against itself and against the heads
/// other agencies hold. The first wrong entry is reported: a chain fault at its entry, a
/// truncation at the first missing entry, a rewritten record at the head that disagrees.
pub fn verify(entries: &[StoredEntry], known_heads: &[KnownHead]) -> Verification {
    let length = entries.len() as u64;
    let head = entries.last().map_or(GENESIS, |e| e.hash);
    let mut faults: Vec<(u64, Broken)> = check_chain(entries).into_iter().collect();
    for k in known_heads {
        if k.seq == 0 {
            continue;
        }
        match entries.get(k.seq as usize - 1) {
            None => faults.push((
                length + 1,
                Broken::Truncated {
                    agency: k.agency.clone(),
                    length,
                },
            )),
            Some(e) if e.hash != k.hash => faults.push((
                k.seq,
                Broken::HeadMismatch {
                    agency: k.agency.clone(),
                },
            )),
            Some(_) => {}
        }
    }
    let first_bad = faults.into_iter().min_by_key(|(seq, _)| *seq);
    Verification {
        ok: first_bad.is_none(),
        length,
        head,
        first_bad,
        known_heads_checked: known_heads.len(),
        signatures_checked: 0,
    }
}

/// [`verify`], and also every event signature the entries keep, by `check` (which knows the
/// keys and the events kept; the domain knows neither). A signature that fails is reported at
/// its entry, like a fault of the chain.
pub fn verify_signed(
    entries: &[StoredEntry],
    known_heads: &[KnownHead],
    check: impl Fn(&StoredEntry, &EventSignature) -> Result<(), String>,
) -> Verification {
    let mut v = verify(entries, known_heads);
    for e in entries {
        let Some(sig) = &e.content.signature else {
            continue;
        };
        v.signatures_checked += 1;
        if let Err(reason) = check(e, sig) {
            let seq = e.content.seq;
            if v.first_bad.as_ref().is_none_or(|(bad, _)| seq < *bad) {
                v.first_bad = Some((seq, Broken::Signature { reason }));
            }
        }
    }
    v.ok = v.first_bad.is_none();
    v
}

/// Chains `contents` from [`GENESIS`], as a holder appending them one by one would.
pub fn chain(contents: Vec<EntryContent>) -> Vec<StoredEntry> {
    let mut prev = GENESIS;
    contents
        .into_iter()
        .map(|content| {
            let hash = entry_hash(&prev, &content);
            let e = StoredEntry {
                content,
                prev_hash: prev,
                hash,
            };
            prev = hash;
            e
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().to_utc()
    }

    fn entry(seq: u64, kind: &str, detail: &str) -> EntryContent {
        EntryContent {
            case_id: "330782101-0190f0c0-0000-7000-8000-000000000001".into(),
            seq,
            at: at("2026-03-02T09:00:00.123456+08:00") + chrono::Duration::minutes(seq as i64),
            kind: kind.into(),
            agency: "brigade:330782101".into(),
            officer: "zhang.wei".into(),
            role: "brigade_officer".into(),
            certificate_no: "ZJ-0001".into(),
            detail: detail.into(),
            evidence_digests: vec![evidence_digest("photo-001.jpg")],
            event_id: None,
            signature: None,
        }
    }

    fn record(n: u64) -> Vec<StoredEntry> {
        chain(
            (1..=n)
                .map(|i| entry(i, "step", &format!("第{i}步")))
                .collect(),
        )
    }

    #[test]
    fn the_encoding_is_pinned() {
        let e = entry(1, "reported", "案件登记：滥伐林木");
        let expected = "liandong-record/v1\n\
            case_id=46:330782101-0190f0c0-0000-7000-8000-000000000001\n\
            seq=1:1\n\
            at=27:2026-03-02T01:01:00.123456Z\n\
            kind=8:reported\n\
            agency=17:brigade:330782101\n\
            officer=9:zhang.wei\n\
            role=15:brigade_officer\n\
            certificate_no=7:ZJ-0001\n\
            detail=27:案件登记：滥伐林木\n\
            evidence_digests=1\n\
            evidence_digest=64:aa3ada108b05a103d2cee9256fe3502442f9eff53ae1b83f85da60567c484987\n\
            event_id=-\n";
        assert_eq!(String::from_utf8(canonical(&e)).unwrap(), expected);
        // Checked independently (Python's hashlib over 32 zero bytes and the text above). A
        // change to this literal means every stored record stops verifying: bump ENCODING.
        assert_eq!(
            hex::encode(entry_hash(&GENESIS, &e)),
            "ea4a58a39ac2081726db3c7cda61eb77e7a62f57567135bf4f41555342aab7e6",
        );
    }

    #[test]
    fn lengths_keep_neighbouring_fields_apart() {
        let mut a = entry(1, "ab", "c");
        let mut b = entry(1, "a", "bc");
        assert_ne!(canonical(&a), canonical(&b));
        a.event_id = Some(String::new());
        b.event_id = None;
        assert_ne!(canonical(&a), canonical(&b));
        a.evidence_digests = vec!["x".into(), "y".into()];
        b.evidence_digests = vec!["xy".into()];
        assert_ne!(canonical(&a), canonical(&b));
    }

    #[test]
    fn a_whole_record_verifies() {
        let r = record(5);
        let v = verify(&r, &[]);
        assert!(v.ok, "{v:?}");
        assert_eq!(v.length, 5);
        assert_eq!(v.head, r[4].hash);
        assert_eq!(verify(&[], &[]).head, GENESIS);
    }

    #[test]
    fn an_entry_changed_in_place_is_caught_at_that_entry() {
        let mut r = record(5);
        r[2].content.detail = "改过的".into();
        assert_eq!(verify(&r, &[]).first_bad, Some((3, Broken::ContentChanged)));
    }

    #[test]
    fn an_entry_changed_and_rehashed_is_caught_at_that_entry_not_the_next() {
        let mut r = record(5);
        r[2].content.detail = "改过的".into();
        r[2].hash = entry_hash(&r[2].prev_hash, &r[2].content);
        assert_eq!(verify(&r, &[]).first_bad, Some((3, Broken::Rehashed)));
        // The last entry has no successor to give it away; only a head held elsewhere does.
        let mut r = record(5);
        r[4].content.detail = "改过的".into();
        r[4].hash = entry_hash(&r[4].prev_hash, &r[4].content);
        assert!(verify(&r, &[]).ok);
        let held = KnownHead {
            agency: "county:forestry".into(),
            seq: 5,
            hash: record(5)[4].hash,
        };
        assert_eq!(
            verify(&r, &[held]).first_bad,
            Some((
                5,
                Broken::HeadMismatch {
                    agency: "county:forestry".into()
                }
            ))
        );
    }

    #[test]
    fn an_entry_whose_link_was_rewritten_is_caught_at_that_entry() {
        // The next entry's content is changed and its link re-pointed, but not re-hashed.
        let mut r = record(5);
        r[3].content.detail = "改过的".into();
        r[3].prev_hash = [7; 32];
        assert_eq!(verify(&r, &[]).first_bad, Some((4, Broken::BrokenLink)));
    }

    #[test]
    fn a_missing_entry_is_a_gap() {
        let mut r = record(5);
        r.remove(1);
        assert_eq!(
            verify(&r, &[]).first_bad,
            Some((2, Broken::Gap { found: 3 }))
        );
    }

    #[test]
    fn a_truncated_record_is_caught_against_a_head_held_elsewhere() {
        let full = record(6);
        let held = KnownHead {
            agency: "county:forestry".into(),
            seq: 4,
            hash: full[3].hash,
        };
        // Cut after the held head: nobody can tell.
        assert!(verify(&full[..4], std::slice::from_ref(&held)).ok);
        // Cut before it: the first missing entry is reported.
        let v = verify(&full[..2], std::slice::from_ref(&held));
        assert!(!v.ok);
        assert_eq!(
            v.first_bad,
            Some((
                3,
                Broken::Truncated {
                    agency: "county:forestry".into(),
                    length: 2
                }
            ))
        );
        assert_eq!(v.known_heads_checked, 1);
    }

    #[test]
    fn a_record_rewritten_from_some_entry_on_disagrees_with_the_held_head() {
        let full = record(5);
        let held = KnownHead {
            agency: "county:forestry".into(),
            seq: 4,
            hash: full[3].hash,
        };
        let mut contents: Vec<EntryContent> = full.iter().map(|e| e.content.clone()).collect();
        contents[1].detail = "重写".into();
        let rewritten = chain(contents);
        assert!(verify(&rewritten, &[]).ok);
        assert_eq!(
            verify(&rewritten, &[held]).first_bad.map(|(s, _)| s),
            Some(4)
        );
    }

    #[test]
    fn a_signature_is_chained_and_checked_at_its_entry() {
        let signed = |mut e: EntryContent| {
            e.event_id = Some("0190f0c0-0000-7000-8000-0000000000e1".into());
            e.signature = Some(EventSignature {
                signed_by: "county".into(),
                key_id: "county-1".into(),
                signature: "ab".repeat(64),
                event_digest: "cd".repeat(32),
            });
            e
        };
        let with = signed(entry(2, "result_received", "办结"));
        let plain = EntryContent {
            signature: None,
            ..with.clone()
        };
        // The unsigned encoding is a strict prefix: old entries keep their hashes.
        let (a, b) = (canonical(&plain), canonical(&with));
        assert!(b.starts_with(&a) && b.len() > a.len());
        let tail = String::from_utf8(b[a.len()..].to_vec()).unwrap();
        assert!(
            tail.starts_with("signed_by=6:county\nsignature_key_id=8:county-1\nsignature=128:"),
            "{tail}"
        );
        let r = chain(vec![
            entry(1, "reported", "登记"),
            with,
            entry(3, "closed", "结案"),
        ]);
        let v = verify_signed(&r, &[], |_, _| Ok(()));
        assert!(v.ok, "{v:?}");
        assert_eq!(v.signatures_checked, 1);
        let v = verify_signed(&r, &[], |_, s| {
            (s.signed_by == "brigade")
                .then_some(())
                .ok_or("another agency's key".to_owned())
        });
        assert_eq!(
            v.first_bad,
            Some((
                2,
                Broken::Signature {
                    reason: "another agency's key".into()
                }
            ))
        );
        // A signature changed in the stored entry breaks its hash too.
        let mut tampered = r.clone();
        if let Some(s) = tampered[1].content.signature.as_mut() {
            s.signature = "00".repeat(64);
        }
        assert_eq!(
            verify_signed(&tampered, &[], |_, _| Ok(())).first_bad,
            Some((2, Broken::ContentChanged))
        );
    }

    #[test]
    fn evidence_digests_name_themselves_or_hash_the_reference() {
        let d = "A".repeat(64);
        assert_eq!(evidence_digest(&format!("sha256:{d}")), "a".repeat(64));
        assert_eq!(evidence_digest("photo.jpg").len(), 64);
        assert_eq!(parse_hash(&hex::encode([3u8; 32])), Some([3u8; 32]));
        assert_eq!(parse_hash("abc"), None);
    }
}
