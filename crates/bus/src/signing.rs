//! Signed events: each service's Ed25519 key, the registry of every agency's public keys, the
//! canonical bytes an envelope's signature covers, signing and verifying.
//!
//! Every envelope a service publishes (events and receipts alike) carries in `signature` the
//! Ed25519 signature, by the sending service's key, of [`signed_bytes`], and in
//! `signature_key_id` the id under which the key registry lists that key. A receiver verifies
//! it before anything else: the key must be registered to the envelope's `source`, the
//! signature must verify, and the subject it arrived on must name that source and event type.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use ed25519_dalek::pkcs8::spki::der::pem::LineEnding;
use ed25519_dalek::pkcs8::{DecodePrivateKey, DecodePublicKey, EncodePrivateKey, EncodePublicKey};
use ed25519_dalek::{Signature, Signer as _, SigningKey, VerifyingKey};
use liandong_proto::events::v1::Envelope;
use prost::Message;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use liandong_config::Config;

/// The first line of the bytes an envelope's signature covers. A later encoding gets a new
/// tag, so a signature can never be checked under the wrong rules.
pub const ENCODING: &str = "liandong-envelope/v1";

fn field(out: &mut Vec<u8>, name: &str, value: &[u8]) {
    out.extend_from_slice(name.as_bytes());
    out.push(b'=');
    out.extend_from_slice(value.len().to_string().as_bytes());
    out.push(b':');
    out.extend_from_slice(value);
    out.push(b'\n');
}

/// The bytes an envelope's signature covers (version [`ENCODING`]): the envelope with its
/// signature fields empty, in a canonical form rather than its protobuf encoding, which is not
/// canonical across encoders (field order, packed or not, unknown fields).
///
/// The tag line, then every field except `signature` (14) and `signature_key_id` (15) in field
/// number order, each as `<name>=<byte length>:<bytes>\n`: `event_id`, `event_type`,
/// `schema_version` (decimal), `town`, `department`, `aggregate_id`, `aggregate_seq`
/// (decimal), `occurred_at` (`<seconds>.<nanos, 9 digits>`, or `occurred_at=-\n` when
/// absent), the actor (`actor=-\n` when absent, else `actor=5\n` and its `officer_id`,
/// `role`, `town`, `department`, `certificate_no`), `causation_id`, `catalogue_version`,
/// `source`, `payload` (its bytes as they are), then `receivers=<count>\n` and one
/// `receiver=<len>:<bytes>\n` per receiver in order. Every value is preceded by its length,
/// so no value can borrow bytes from its neighbour and two different envelopes never encode
/// alike. A new envelope field means a new [`ENCODING`].
pub fn signed_bytes(env: &Envelope) -> Vec<u8> {
    let mut out = Vec::with_capacity(256 + env.payload.len());
    out.extend_from_slice(ENCODING.as_bytes());
    out.push(b'\n');
    field(&mut out, "event_id", env.event_id.as_bytes());
    field(&mut out, "event_type", env.event_type.as_bytes());
    field(
        &mut out,
        "schema_version",
        env.schema_version.to_string().as_bytes(),
    );
    field(&mut out, "town", env.town.as_bytes());
    field(&mut out, "department", env.department.as_bytes());
    field(&mut out, "aggregate_id", env.aggregate_id.as_bytes());
    field(
        &mut out,
        "aggregate_seq",
        env.aggregate_seq.to_string().as_bytes(),
    );
    match &env.occurred_at {
        Some(t) => field(
            &mut out,
            "occurred_at",
            format!("{}.{:09}", t.seconds, t.nanos).as_bytes(),
        ),
        None => out.extend_from_slice(b"occurred_at=-\n"),
    }
    match &env.actor {
        Some(a) => {
            out.extend_from_slice(b"actor=5\n");
            field(&mut out, "officer_id", a.officer_id.as_bytes());
            field(&mut out, "role", a.role.as_bytes());
            field(&mut out, "town", a.town.as_bytes());
            field(&mut out, "department", a.department.as_bytes());
            field(&mut out, "certificate_no", a.certificate_no.as_bytes());
        }
        None => out.extend_from_slice(b"actor=-\n"),
    }
    field(&mut out, "causation_id", env.causation_id.as_bytes());
    field(
        &mut out,
        "catalogue_version",
        env.catalogue_version.as_bytes(),
    );
    field(&mut out, "source", env.source.as_bytes());
    field(&mut out, "payload", &env.payload);
    out.extend_from_slice(format!("receivers={}\n", env.receivers.len()).as_bytes());
    for r in &env.receivers {
        field(&mut out, "receiver", r.as_bytes());
    }
    out
}

/// The hex SHA-256 of [`signed_bytes`]: what a record entry names the event by.
pub fn event_digest(env: &Envelope) -> String {
    hex::encode(Sha256::digest(signed_bytes(env)))
}

/// The envelope with its signature fields emptied: what a record keeps beside the signature.
pub fn unsigned(env: &Envelope) -> Envelope {
    Envelope {
        signature: Vec::new(),
        signature_key_id: String::new(),
        ..env.clone()
    }
}

/// The id a key is registered under unless the registry says otherwise:
/// `<source>-<the first 16 hex digits of the SHA-256 of the public key>`.
pub fn key_id_for(source: &str, key: &VerifyingKey) -> String {
    let digest = hex::encode(Sha256::digest(key.as_bytes()));
    format!("{source}-{}", &digest[..16])
}

/// Why an envelope's signature is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("the event is not signed")]
    Unsigned,
    #[error("the signing key {key_id:?} is not in the key registry")]
    UnknownKey { key_id: String },
    #[error(
        "the event says it comes from {claimed:?}, but it is signed with {owner}'s key {key_id:?}"
    )]
    WrongAgency {
        key_id: String,
        owner: String,
        claimed: String,
    },
    #[error("the signature does not verify with {owner}'s key {key_id:?}")]
    Invalid { key_id: String, owner: String },
    #[error("the subject {subject} is not where {sender:?} publishes {event_type:?}")]
    WrongSubject {
        subject: String,
        sender: String,
        event_type: String,
    },
}

impl SignatureError {
    /// A short name for the metric's `reason` label.
    pub fn kind(&self) -> &'static str {
        match self {
            SignatureError::Unsigned => "unsigned",
            SignatureError::UnknownKey { .. } => "unknown_key",
            SignatureError::WrongAgency { .. } => "wrong_agency",
            SignatureError::Invalid { .. } => "invalid",
            SignatureError::WrongSubject { .. } => "wrong_subject",
        }
    }
}

/// Why keys cannot be loaded, generated or registered.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("{path}: {message}")]
    File { path: String, message: String },
    #[error("key registry {origin}: {message}")]
    Registry { origin: String, message: String },
    #[error("no random bytes from the operating system: {0}")]
    Random(String),
}

fn file_error(path: &Path, message: impl std::fmt::Display) -> KeyError {
    KeyError::File {
        path: path.display().to_string(),
        message: message.to_string(),
    }
}

/// A service's signing key and the id the registry knows it by. The private key is never
/// printed.
#[derive(Clone)]
pub struct Signer {
    source: String,
    key_id: String,
    key: Arc<SigningKey>,
}

impl std::fmt::Debug for Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Signer")
            .field("source", &self.source)
            .field("key_id", &self.key_id)
            .finish_non_exhaustive()
    }
}

impl Signer {
    /// `source`'s key under its derived id ([`key_id_for`]).
    pub fn new(source: &str, key: SigningKey) -> Signer {
        let key_id = key_id_for(source, &key.verifying_key());
        Signer {
            source: source.to_owned(),
            key_id,
            key: Arc::new(key),
        }
    }

    /// A fresh key from the operating system's randomness.
    pub fn generate(source: &str) -> Result<Signer, KeyError> {
        let mut seed = [0u8; 32];
        getrandom::getrandom(&mut seed).map_err(|e| KeyError::Random(e.to_string()))?;
        Ok(Signer::new(source, SigningKey::from_bytes(&seed)))
    }

    /// Reads a PKCS#8 PEM private key (`openssl genpkey -algorithm ed25519` writes one).
    pub fn load(source: &str, path: &Path) -> Result<Signer, KeyError> {
        let pem = std::fs::read_to_string(path).map_err(|e| file_error(path, e))?;
        let key = SigningKey::from_pkcs8_pem(&pem)
            .map_err(|e| file_error(path, format!("not an Ed25519 PKCS#8 PEM key: {e}")))?;
        Ok(Signer::new(source, key))
    }

    /// The private key as PKCS#8 PEM.
    pub fn to_pem(&self) -> String {
        self.key
            .to_pkcs8_pem(LineEnding::LF)
            .map(|pem| pem.to_string())
            .expect("an Ed25519 key always encodes")
    }

    pub fn source(&self) -> &str {
        &self.source
    }

    pub fn key_id(&self) -> &str {
        &self.key_id
    }

    pub fn public_key(&self) -> VerifyingKey {
        self.key.verifying_key()
    }

    /// Signs `env` in place: its key id, then the signature of [`signed_bytes`].
    pub fn sign(&self, env: &mut Envelope) {
        env.signature_key_id = self.key_id.clone();
        env.signature = self.key.sign(&signed_bytes(env)).to_bytes().to_vec();
    }

    /// The registry entry that lists this key.
    pub fn registry_entry(&self) -> RegistryEntry {
        RegistryEntry {
            id: self.key_id.clone(),
            source: self.source.clone(),
            public_key: self
                .public_key()
                .to_public_key_pem(LineEnding::LF)
                .expect("an Ed25519 key always encodes"),
        }
    }
}

/// One public key of the registry file.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RegistryEntry {
    /// The id envelopes name the key by (`signature_key_id`).
    pub id: String,
    /// The service whose events it signs: `brigade`, `board`, `county`, `review`, `disclosure`.
    pub source: String,
    /// The public key, SubjectPublicKeyInfo PEM (`openssl pkey -pubout` writes one).
    pub public_key: String,
}

/// The registry file: `[[key]]` tables.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
struct RegistryFile {
    #[serde(default, rename = "key")]
    keys: Vec<RegistryEntry>,
}

#[derive(Debug, Clone)]
struct Known {
    source: String,
    key: VerifyingKey,
}

fn parse_registry(text: &str, origin: &str) -> Result<HashMap<String, Known>, KeyError> {
    let err = |message: String| KeyError::Registry {
        origin: origin.to_owned(),
        message,
    };
    let file: RegistryFile = toml::from_str(text).map_err(|e| err(e.to_string()))?;
    let mut keys = HashMap::new();
    for (i, e) in file.keys.iter().enumerate() {
        let at = format!("key[{i}] (id {:?})", e.id);
        if e.id.trim().is_empty() {
            return Err(err(format!("{at}: id is empty")));
        }
        if crate::Source::parse(&e.source).is_none() {
            return Err(err(format!(
                "{at}: source {:?} is not a service that publishes events",
                e.source
            )));
        }
        let key = VerifyingKey::from_public_key_pem(e.public_key.trim()).map_err(|x| {
            err(format!(
                "{at}: public_key is not an Ed25519 public key in PEM: {x}"
            ))
        })?;
        let known = Known {
            source: e.source.clone(),
            key,
        };
        if keys.insert(e.id.clone(), known).is_some() {
            return Err(err(format!("{at}: the id is listed twice")));
        }
    }
    Ok(keys)
}

/// How often, at most, an unknown key id makes the registry file be read again.
const RELOAD_AT_MOST_EVERY: Duration = Duration::from_secs(1);

/// Every agency's public keys by key id. Read from a file, and read again (at most once a
/// second) when an envelope names a key it does not know, so a key added to the file (a
/// rotation, a service started later) is taken up without a restart.
#[derive(Debug, Clone)]
pub struct KeyRegistry {
    file: Option<PathBuf>,
    keys: Arc<RwLock<HashMap<String, Known>>>,
    last_read: Arc<Mutex<Instant>>,
}

impl KeyRegistry {
    /// Reads the registry file.
    pub fn load(path: &Path) -> Result<KeyRegistry, KeyError> {
        let text = std::fs::read_to_string(path).map_err(|e| file_error(path, e))?;
        let keys = parse_registry(&text, &path.display().to_string())?;
        Ok(KeyRegistry {
            file: Some(path.to_owned()),
            keys: Arc::new(RwLock::new(keys)),
            last_read: Arc::new(Mutex::new(Instant::now())),
        })
    }

    /// A registry of the given entries alone, never read from a file.
    pub fn of(entries: &[RegistryEntry]) -> Result<KeyRegistry, KeyError> {
        let text = toml::to_string(&RegistryFile {
            keys: entries.to_vec(),
        })
        .map_err(|e| KeyError::Registry {
            origin: "entries".into(),
            message: e.to_string(),
        })?;
        Ok(KeyRegistry {
            file: None,
            keys: Arc::new(RwLock::new(parse_registry(&text, "entries")?)),
            last_read: Arc::new(Mutex::new(Instant::now())),
        })
    }

    fn lookup(&self, key_id: &str) -> Option<Known> {
        self.keys
            .read()
            .expect("key registry lock")
            .get(key_id)
            .cloned()
    }

    /// The key registered under `key_id`, reading the file again when it is unknown.
    fn find(&self, key_id: &str) -> Option<Known> {
        if let Some(k) = self.lookup(key_id) {
            return Some(k);
        }
        let path = self.file.as_ref()?;
        {
            let mut last = self.last_read.lock().expect("key registry lock");
            if last.elapsed() < RELOAD_AT_MOST_EVERY {
                return None;
            }
            *last = Instant::now();
        }
        let reread = std::fs::read_to_string(path)
            .map_err(|e| file_error(path, e))
            .and_then(|text| parse_registry(&text, &path.display().to_string()));
        match reread {
            Ok(keys) => *self.keys.write().expect("key registry lock") = keys,
            Err(e) => {
                tracing::warn!(error = %e, "The key registry could not be read again; keeping the keys read before.")
            }
        }
        self.lookup(key_id)
    }

    /// The service a key is registered to.
    pub fn owner(&self, key_id: &str) -> Option<String> {
        self.find(key_id).map(|k| k.source)
    }

    /// Checks that `signature` is `source`'s, by the key `key_id`, over [`signed_bytes`] of
    /// `env` (whose own signature fields are ignored): what a receiver checks on arrival and
    /// a record's verification checks again later.
    pub fn verify_signature(
        &self,
        env: &Envelope,
        key_id: &str,
        signature: &[u8],
    ) -> Result<(), SignatureError> {
        if key_id.is_empty() || signature.is_empty() {
            return Err(SignatureError::Unsigned);
        }
        let known = self
            .find(key_id)
            .ok_or_else(|| SignatureError::UnknownKey {
                key_id: key_id.to_owned(),
            })?;
        if known.source != env.source {
            return Err(SignatureError::WrongAgency {
                key_id: key_id.to_owned(),
                owner: known.source,
                claimed: env.source.clone(),
            });
        }
        let invalid = || SignatureError::Invalid {
            key_id: key_id.to_owned(),
            owner: known.source.clone(),
        };
        let signature = Signature::from_slice(signature).map_err(|_| invalid())?;
        known
            .key
            .verify_strict(&signed_bytes(env), &signature)
            .map_err(|_| invalid())
    }

    /// Checks an envelope's own signature.
    pub fn verify(&self, env: &Envelope) -> Result<(), SignatureError> {
        self.verify_signature(env, &env.signature_key_id, &env.signature)
    }
}

/// Checks that a message's subject is where the envelope's source publishes its type:
/// `<root>.v1.<source>.<event>.…` for an event, `<root>.v1.receipt.…` for a receipt. A signed
/// envelope replayed onto another subject is refused with it.
pub fn check_subject(root: &str, subject: &str, env: &Envelope) -> Result<(), SignatureError> {
    let wrong = || SignatureError::WrongSubject {
        subject: subject.to_owned(),
        sender: env.source.clone(),
        event_type: env.event_type.clone(),
    };
    let rest = subject
        .strip_prefix(root)
        .and_then(|s| s.strip_prefix(".v1."))
        .ok_or_else(wrong)?;
    let mut tokens = rest.split('.');
    let fits = match (tokens.next(), tokens.next()) {
        (Some("receipt"), Some(_)) => env.event_type == "receipt",
        (Some(source), Some(event)) => {
            source == env.source && env.event_type == format!("{source}.{event}")
        }
        _ => false,
    };
    if fits { Ok(()) } else { Err(wrong()) }
}

/// What a service holds to sign what it publishes and verify what it receives. A process
/// that publishes nothing (an observer, an operator's tool) holds the registry alone.
#[derive(Debug, Clone)]
pub struct Keyring {
    pub signer: Option<Signer>,
    pub registry: KeyRegistry,
}

impl Keyring {
    /// `signer`'s public key must be in `registry`, registered to its source; the signer
    /// takes the id the registry lists it under.
    pub fn new(signer: Option<Signer>, registry: KeyRegistry) -> Result<Keyring, KeyError> {
        let Some(signer) = signer else {
            return Ok(Keyring {
                signer: None,
                registry,
            });
        };
        // The registry names the key: an operator may list it under any id.
        let listed_as = registry
            .keys
            .read()
            .expect("key registry lock")
            .iter()
            .find(|(_, k)| k.source == signer.source() && k.key == signer.public_key())
            .map(|(id, _)| id.clone());
        match listed_as {
            Some(key_id) => Ok(Keyring {
                signer: Some(Signer { key_id, ..signer }),
                registry,
            }),
            None => Err(KeyError::Registry {
                origin: registry
                    .file
                    .as_ref()
                    .map_or("entries".into(), |p| p.display().to_string()),
                message: format!(
                    "it does not list {}'s signing key; add\n{}",
                    signer.source(),
                    toml::to_string(&RegistryFile {
                        keys: vec![signer.registry_entry()]
                    })
                    .expect("a registry entry serialises as TOML")
                ),
            }),
        }
    }

    /// The keyring of the process `name` under `cfg` (see [`liandong_config::EventSigning`]):
    /// for a service that publishes events (`bus::Source`), its private key; for any, the
    /// registry. A key or registry whose path is derived from `keys_dir` is made when missing:
    /// a development key generated on first start, and added to the registry. A path
    /// configured on its own is only ever read.
    pub fn open(cfg: &Config, name: &str) -> Result<Keyring, KeyError> {
        let s = &cfg.event_signing;
        let dir = cfg.event_keys_dir();
        let signer = match crate::Source::parse(name) {
            None => None,
            Some(_) => Some(
                match s
                    .key_file_env
                    .clone()
                    .or_else(|| s.key_files.get(name).cloned())
                {
                    Some(path) => Signer::load(name, &path)?,
                    None => load_or_generate(name, &dir.join(format!("{name}.pem")))?,
                },
            ),
        };
        let registry = match &s.registry_file {
            Some(path) => KeyRegistry::load(path)?,
            None => {
                let path = dir.join("registry.toml");
                match &signer {
                    Some(signer) => {
                        register(&path, signer)?;
                        KeyRegistry::load(&path)?
                    }
                    // A reader alone starting before any service: the keys are read when
                    // the first envelope names one.
                    None if !path.exists() => KeyRegistry {
                        file: Some(path),
                        keys: Arc::default(),
                        last_read: Arc::new(Mutex::new(
                            Instant::now()
                                .checked_sub(RELOAD_AT_MOST_EVERY)
                                .unwrap_or_else(Instant::now),
                        )),
                    },
                    None => KeyRegistry::load(&path)?,
                }
            }
        };
        Keyring::new(signer, registry)
    }

    /// Signs an encoded envelope as it leaves: decoded, signed by this service's key, encoded
    /// again. Ed25519 is deterministic, so a re-send under the same key is the same message.
    pub fn sign_encoded(&self, bytes: &[u8]) -> Result<Vec<u8>, String> {
        let signer = self
            .signer
            .as_ref()
            .ok_or("this process has no signing key: it publishes no events")?;
        let mut env = Envelope::decode(bytes).map_err(|e| format!("cannot decode: {e}"))?;
        signer.sign(&mut env);
        Ok(env.encode_to_vec())
    }

    /// Checks a delivered envelope: signed by its source's registered key, and on a subject
    /// of its source and type.
    pub fn verify_delivery(
        &self,
        root: &str,
        subject: &str,
        env: &Envelope,
    ) -> Result<(), SignatureError> {
        self.registry.verify(env)?;
        check_subject(root, subject, env)
    }
}

/// Makes the keys of `services` that `cfg` leaves to be generated, and registers them: what
/// `liandong up` does before starting the services, so none of them races another to the
/// registry file.
pub fn provision(cfg: &Config, services: &[&str]) -> Result<(), KeyError> {
    for s in services {
        Keyring::open(cfg, s)?;
    }
    Ok(())
}

fn load_or_generate(source: &str, path: &Path) -> Result<Signer, KeyError> {
    if path.exists() {
        return Signer::load(source, path);
    }
    let signer = Signer::generate(source)?;
    match write_new(path, signer.to_pem().as_bytes(), 0o600) {
        Ok(()) => {
            tracing::info!(source, key_id = signer.key_id(), path = %path.display(), "Generated a development signing key for events.");
            Ok(signer)
        }
        // Another process of the same service made it first: use that one.
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Signer::load(source, path),
        Err(e) => Err(file_error(path, e)),
    }
}

fn write_new(path: &Path, bytes: &[u8], mode: u32) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    if let Some(dir) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(mode)
        .open(path)?;
    f.write_all(bytes)?;
    f.sync_all()
}

/// Held while a process rewrites the registry file; removed on drop. Writers hold it for a
/// few milliseconds, so one older than [`STALE_LOCK`] was left by a process that died.
struct LockFile(PathBuf);

const STALE_LOCK: Duration = Duration::from_secs(10);

impl LockFile {
    fn acquire(path: PathBuf) -> Result<LockFile, KeyError> {
        let started = Instant::now();
        loop {
            match write_new(&path, std::process::id().to_string().as_bytes(), 0o600) {
                Ok(()) => return Ok(LockFile(path)),
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                    let old = std::fs::metadata(&path)
                        .and_then(|m| m.modified())
                        .ok()
                        .and_then(|t| t.elapsed().ok())
                        .is_some_and(|age| age > STALE_LOCK);
                    if old || started.elapsed() > 2 * STALE_LOCK {
                        let _ = std::fs::remove_file(&path);
                    }
                    std::thread::sleep(Duration::from_millis(20));
                }
                Err(e) => return Err(file_error(&path, e)),
            }
        }
    }
}

impl Drop for LockFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// Adds `signer`'s public key to the registry file at `path` (made when missing) unless it is
/// listed already; several services starting at once take turns by a lock file.
fn register(path: &Path, signer: &Signer) -> Result<(), KeyError> {
    let entry = signer.registry_entry();
    let listed = |text: &str| -> Result<bool, KeyError> {
        let keys = parse_registry(text, &path.display().to_string())?;
        Ok(keys
            .values()
            .any(|k| k.source == entry.source && k.key == signer.public_key()))
    };
    if let Ok(text) = std::fs::read_to_string(path)
        && listed(&text)?
    {
        return Ok(());
    }
    let _lock = LockFile::acquire(path.with_extension("toml.lock"))?;
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => return Err(file_error(path, e)),
    };
    if listed(&text)? {
        return Ok(());
    }
    let mut file: RegistryFile = toml::from_str(&text).map_err(|e| KeyError::Registry {
        origin: path.display().to_string(),
        message: e.to_string(),
    })?;
    if file.keys.iter().any(|k| k.id == entry.id) {
        return Err(KeyError::Registry {
            origin: path.display().to_string(),
            message: format!(
                "the id {:?} names another key; remove it or configure this service's key",
                entry.id
            ),
        });
    }
    file.keys.push(entry);
    let mut out = String::from(
        "# The public keys that verify the events of each service (liandong_bus::signing).\n\
         # Development keys add themselves here on first start; list production keys by hand.\n\n",
    );
    out.push_str(&toml::to_string(&file).map_err(|e| KeyError::Registry {
        origin: path.display().to_string(),
        message: e.to_string(),
    })?);
    let tmp = path.with_extension(format!("toml.tmp{}", std::process::id()));
    let _ = std::fs::remove_file(&tmp);
    write_new(&tmp, out.as_bytes(), 0o644).map_err(|e| file_error(&tmp, e))?;
    std::fs::rename(&tmp, path).map_err(|e| file_error(path, e))?;
    tracing::info!(source = signer.source(), key_id = signer.key_id(), path = %path.display(), "Registered the service's public key.");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use liandong_proto::events::v1::Actor;

    fn signer(source: &str, seed: u8) -> Signer {
        Signer::new(source, SigningKey::from_bytes(&[seed; 32]))
    }

    fn envelope() -> Envelope {
        Envelope {
            event_id: "0190f0c0-0000-7000-8000-000000000001".into(),
            event_type: liandong_topology::EventKind::BrigadeReferralDispatched
                .event_type()
                .into(),
            schema_version: 1,
            town: "330782101".into(),
            department: "forestry".into(),
            aggregate_id: "330782101-r1".into(),
            aggregate_seq: 2,
            occurred_at: Some(prost_types::Timestamp {
                seconds: 1_772_413_260,
                nanos: 123_456_000,
            }),
            actor: Some(Actor {
                officer_id: "wang.wu".into(),
                role: "brigade_officer".into(),
                town: "330782101".into(),
                department: String::new(),
                certificate_no: "ZJ-1".into(),
            }),
            causation_id: String::new(),
            catalogue_version: "2026.1".into(),
            source: "brigade".into(),
            payload: vec![1, 2, 3],
            signature: Vec::new(),
            signature_key_id: String::new(),
            receivers: vec!["county".into()],
        }
    }

    #[test]
    fn the_signed_bytes_are_pinned() {
        let expected = "liandong-envelope/v1\n\
            event_id=36:0190f0c0-0000-7000-8000-000000000001\n\
            event_type=27:brigade.referral_dispatched\n\
            schema_version=1:1\n\
            town=9:330782101\n\
            department=8:forestry\n\
            aggregate_id=12:330782101-r1\n\
            aggregate_seq=1:2\n\
            occurred_at=20:1772413260.123456000\n\
            actor=5\n\
            officer_id=7:wang.wu\n\
            role=15:brigade_officer\n\
            town=9:330782101\n\
            department=0:\n\
            certificate_no=4:ZJ-1\n\
            causation_id=0:\n\
            catalogue_version=6:2026.1\n\
            source=7:brigade\n\
            payload=3:\x01\x02\x03\n\
            receivers=1\n\
            receiver=6:county\n";
        assert_eq!(
            String::from_utf8(signed_bytes(&envelope())).unwrap(),
            expected
        );
        // The signature fields are not covered: filling them changes nothing.
        let mut signed = envelope();
        signer("brigade", 1).sign(&mut signed);
        assert_eq!(signed_bytes(&signed), signed_bytes(&envelope()));
    }

    #[test]
    fn lengths_and_markers_keep_fields_apart() {
        let mut a = envelope();
        let mut b = envelope();
        a.town = "33078210".into();
        a.department = "1forestry".into();
        assert_ne!(signed_bytes(&a), signed_bytes(&b));
        a = envelope();
        a.actor = None;
        b.actor = Some(Actor::default());
        assert_ne!(signed_bytes(&a), signed_bytes(&b));
        a = envelope();
        b = envelope();
        a.receivers = vec!["countyboard".into()];
        b.receivers = vec!["county".into(), "board".into()];
        assert_ne!(signed_bytes(&a), signed_bytes(&b));
    }

    #[test]
    fn a_signed_envelope_verifies_and_every_forgery_is_refused() {
        let brigade = signer("brigade", 1);
        let county = signer("county", 2);
        let registry =
            KeyRegistry::of(&[brigade.registry_entry(), county.registry_entry()]).unwrap();
        let mut env = envelope();
        brigade.sign(&mut env);
        assert_eq!(registry.verify(&env), Ok(()));

        assert_eq!(registry.verify(&envelope()), Err(SignatureError::Unsigned));

        let mut forged = envelope();
        county.sign(&mut forged);
        assert!(matches!(
            registry.verify(&forged),
            Err(SignatureError::WrongAgency { ref owner, ref claimed, .. }) if owner == "county" && claimed == "brigade"
        ));

        let mut altered = env.clone();
        altered.payload = vec![9];
        assert!(matches!(
            registry.verify(&altered),
            Err(SignatureError::Invalid { .. })
        ));

        let mut relabelled = env.clone();
        relabelled.signature_key_id = county.key_id().into();
        assert!(matches!(
            registry.verify(&relabelled),
            Err(SignatureError::WrongAgency { .. })
        ));

        let stranger = signer("brigade", 3);
        let mut unknown = envelope();
        stranger.sign(&mut unknown);
        assert!(matches!(
            registry.verify(&unknown),
            Err(SignatureError::UnknownKey { .. })
        ));
    }

    #[test]
    fn the_subject_must_name_the_source_and_type() {
        let env = envelope();
        let ok = "t.v1.brigade.referral_dispatched.330782101.forestry";
        assert_eq!(check_subject("t", ok, &env), Ok(()));
        for wrong in [
            "t.v1.county.referral_dispatched.330782101.forestry",
            "t.v1.brigade.referral_withdrawn.330782101.forestry",
            "t.v1.receipt.county.330782101",
            "u.v1.brigade.referral_dispatched.330782101.forestry",
        ] {
            assert!(check_subject("t", wrong, &env).is_err(), "{wrong}");
        }
        let receipt = Envelope {
            event_type: "receipt".into(),
            source: "county".into(),
            ..Envelope::default()
        };
        assert_eq!(
            check_subject("t", "t.v1.receipt.brigade.330782101", &receipt),
            Ok(())
        );
    }

    #[test]
    fn development_keys_are_generated_once_and_register_themselves() {
        let dir = tempfile::tempdir().unwrap();
        let cfg = Config {
            data_dir: dir.path().to_owned(),
            ..Config::default()
        };
        let brigade = Keyring::open(&cfg, "brigade").unwrap();
        let county = Keyring::open(&cfg, "county").unwrap();
        let again = Keyring::open(&cfg, "brigade").unwrap();
        assert_eq!(
            again.signer.as_ref().unwrap().key_id(),
            brigade.signer.as_ref().unwrap().key_id()
        );
        // The brigade's registry, read before the county registered, learns its key on demand.
        std::thread::sleep(RELOAD_AT_MOST_EVERY);
        let mut env = envelope();
        env.source = "county".into();
        county.signer.as_ref().unwrap().sign(&mut env);
        assert_eq!(brigade.registry.verify(&env), Ok(()));
        // A reader that publishes nothing holds no key.
        assert!(Keyring::open(&cfg, "admin").unwrap().signer.is_none());
        let text = std::fs::read_to_string(dir.path().join("event-keys/registry.toml")).unwrap();
        assert_eq!(text.matches("[[key]]").count(), 2, "{text}");
        let mode = std::fs::metadata(dir.path().join("event-keys/brigade.pem"))
            .map(|m| std::os::unix::fs::PermissionsExt::mode(&m.permissions()) & 0o777)
            .unwrap();
        assert_eq!(mode, 0o600);
    }

    #[test]
    fn a_configured_registry_must_list_the_services_key() {
        let dir = tempfile::tempdir().unwrap();
        let registry = dir.path().join("registry.toml");
        std::fs::write(&registry, "").unwrap();
        let mut cfg = Config {
            data_dir: dir.path().to_owned(),
            ..Config::default()
        };
        cfg.event_signing.registry_file = Some(registry.clone());
        let err = Keyring::open(&cfg, "county").unwrap_err().to_string();
        assert!(err.contains("does not list county's signing key"), "{err}");
        assert!(
            !std::fs::read_to_string(&registry)
                .unwrap()
                .contains("[[key]]")
        );
        std::fs::write(
            &registry,
            "[[key]]\nid = \"x\"\nsource = \"police\"\npublic_key = \"\"\n",
        )
        .unwrap();
        let err = KeyRegistry::load(&registry).unwrap_err().to_string();
        assert!(err.contains("source \"police\""), "{err}");
    }
}
