//! Signed identities: every caller presents a JWT (RFC 7519) signed with Ed25519 (`EdDSA`,
//! RFC 8037) naming the officer (`sub`), the role, and the town or department the role belongs
//! to, with an expiry. Services and the gateway verify it themselves with the public keys of a
//! JWK Set file (RFC 7517); the private key stays with the operator's `liandong` commands.
//!
//! A token is the compact JWS `base64url(header).base64url(claims).base64url(signature)`, the
//! header `{"alg":"EdDSA","typ":"JWT","kid":…}`. The key id is the key's JWK thumbprint
//! (RFC 7638), so a key names itself. Rotating keys keeps the old public key in the set with a
//! `retire_at` instant (an extra JWK member, which other readers ignore): until then tokens
//! signed with it are accepted, after it refused. The verifier re-reads the file when it
//! changes, so a rotation needs no restart.
//!
//! What a verified caller may do is not decided here: the token gives the [`Actor`], and
//! `liandong_domain::auth::permits` decides.

use std::path::{Path, PathBuf};
use std::sync::{Mutex, RwLock};
use std::time::{Duration, Instant, SystemTime};

use anyhow::Context;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use chrono::{DateTime, Utc};
use ed25519_dalek::pkcs8::{DecodePrivateKey, EncodePrivateKey, spki::der::pem::LineEnding};
use ed25519_dalek::{Signature, Signer, VerifyingKey};
use liandong_domain::auth::{Actor, Role};
use liandong_domain::ids::{DepartmentCode, OfficerId, TownCode};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use liandong_config::Config;

/// The longest token accepted; anything longer is refused before it is decoded.
pub const MAX_TOKEN_LEN: usize = 4096;

/// How often at most the verifier looks at the key file for changes.
const RELOAD_EVERY: Duration = Duration::from_secs(1);

/// The claims of a Liandong token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Claims {
    pub iss: String,
    /// The officer.
    pub sub: String,
    pub role: String,
    /// The town (9-digit division code) a town role belongs to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub town: Option<String>,
    /// The county department a department role belongs to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub department: Option<String>,
    /// Issued at, seconds since the epoch.
    pub iat: i64,
    /// Expires at, seconds since the epoch.
    pub exp: i64,
    /// A unique id, so two tokens for the same officer can be told apart in logs.
    pub jti: String,
}

#[derive(Debug, Serialize, Deserialize)]
struct Header {
    alg: String,
    #[serde(default)]
    typ: Option<String>,
    #[serde(default)]
    kid: Option<String>,
}

/// Why a token was refused. Every one of these is `Unauthenticated` (HTTP 401).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("no token: send `authorization: Bearer <token>`")]
    Missing,
    #[error("the authorization is not `Bearer <token>`")]
    NotBearer,
    #[error("the token is malformed: {0}")]
    Malformed(String),
    #[error("the token's algorithm {0:?} is not accepted (only EdDSA)")]
    Algorithm(String),
    #[error("the token's key {0:?} is not a key of this hub")]
    UnknownKey(String),
    #[error("the token's key {kid:?} was retired at {at}")]
    KeyRetired { kid: String, at: DateTime<Utc> },
    #[error("the token's signature does not verify")]
    BadSignature,
    #[error("the token expired at {0}")]
    Expired(DateTime<Utc>),
    #[error("the token is issued in the future ({0})")]
    NotYetValid(DateTime<Utc>),
    #[error("the token's issuer {0:?} is not this hub's")]
    Issuer(String),
    #[error("the token names no valid caller: {0}")]
    Caller(String),
}

fn secs_to_time(s: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(s, 0).unwrap_or_default()
}

/// The key id of a public key: its JWK thumbprint (RFC 7638), SHA-256, base64url.
pub fn key_id(key: &VerifyingKey) -> String {
    let x = B64.encode(key.as_bytes());
    // The required members in lexicographic order, no whitespace.
    let canonical = format!(r#"{{"crv":"Ed25519","kty":"OKP","x":"{x}"}}"#);
    B64.encode(Sha256::digest(canonical.as_bytes()))
}

/// A private key that signs tokens, with its key id.
pub struct SigningKey {
    key: ed25519_dalek::SigningKey,
    kid: String,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKey")
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

impl SigningKey {
    /// A fresh key from the operating system's random source.
    pub fn generate() -> anyhow::Result<SigningKey> {
        let mut seed = [0u8; 32];
        getrandom::getrandom(&mut seed).context("no random bytes from the operating system")?;
        Ok(SigningKey::from_dalek(
            ed25519_dalek::SigningKey::from_bytes(&seed),
        ))
    }

    fn from_dalek(key: ed25519_dalek::SigningKey) -> SigningKey {
        let kid = key_id(&key.verifying_key());
        SigningKey { key, kid }
    }

    /// Reads a PKCS#8 PEM private key (`openssl genpkey -algorithm ed25519` writes one).
    pub fn from_pem(pem: &str) -> anyhow::Result<SigningKey> {
        let key = ed25519_dalek::SigningKey::from_pkcs8_pem(pem)
            .map_err(|e| anyhow::anyhow!("not an Ed25519 PKCS#8 private key: {e}"))?;
        Ok(SigningKey::from_dalek(key))
    }

    pub fn load(path: &Path) -> anyhow::Result<SigningKey> {
        let pem = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read the signing key {}", path.display()))?;
        SigningKey::from_pem(&pem).with_context(|| path.display().to_string())
    }

    /// The key as PKCS#8 PEM.
    pub fn to_pem(&self) -> anyhow::Result<String> {
        Ok(self
            .key
            .to_pkcs8_pem(LineEnding::LF)
            .map_err(|e| anyhow::anyhow!("cannot encode the key: {e}"))?
            .to_string())
    }

    /// Writes the key readable by its owner only.
    pub fn save(&self, path: &Path) -> anyhow::Result<()> {
        write_atomically(path, self.to_pem()?.as_bytes(), 0o600)
    }

    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// The public half as a JWK.
    pub fn public_jwk(&self) -> Jwk {
        Jwk::new(&self.key.verifying_key())
    }

    /// Signs `claims` into a compact JWS.
    pub fn sign(&self, claims: &Claims) -> String {
        let header = Header {
            alg: "EdDSA".into(),
            typ: Some("JWT".into()),
            kid: Some(self.kid.clone()),
        };
        let input = format!("{}.{}", b64_json(&header), b64_json(claims));
        let signature = self.key.sign(input.as_bytes());
        format!("{input}.{}", B64.encode(signature.to_bytes()))
    }

    /// A token for `actor`, valid from `now` for `ttl`.
    pub fn issue(&self, issuer: &str, actor: &Actor, now: SystemTime, ttl: Duration) -> String {
        self.sign(&claims_for(issuer, actor, now, ttl))
    }
}

/// Issues tokens with the hub's current signing key: the operator's `liandong token issue`
/// and the demo, which act for the people who would sign in.
#[derive(Debug)]
pub struct Issuer {
    key: SigningKey,
    issuer: String,
    ttl: Duration,
}

impl Issuer {
    /// The issuer of `cfg`: its signing key file, issuer name and token lifetime.
    pub fn from_config(cfg: &Config) -> anyhow::Result<Issuer> {
        let path = cfg.signing_key_file();
        let key = SigningKey::load(&path).context(
            "issuing tokens needs the hub's signing key: run `liandong keys init`, or set \
             [identity] signing_key_file",
        )?;
        Ok(Issuer::new(
            key,
            &cfg.identity.issuer,
            Duration::from_secs(cfg.identity.token_ttl_secs),
        ))
    }

    pub fn new(key: SigningKey, issuer: &str, ttl: Duration) -> Issuer {
        Issuer {
            key,
            issuer: issuer.to_owned(),
            ttl,
        }
    }

    /// The same key and issuer, with tokens valid for `ttl`.
    pub fn with_ttl(self, ttl: Duration) -> Issuer {
        Issuer { ttl, ..self }
    }

    pub fn key(&self) -> &SigningKey {
        &self.key
    }

    /// A token for `actor`, valid from now.
    pub fn token(&self, actor: &Actor) -> String {
        self.key
            .issue(&self.issuer, actor, SystemTime::now(), self.ttl)
    }

    /// `Bearer <token>` for `actor`, as the `authorization` metadata or header carries it.
    pub fn bearer(&self, actor: &Actor) -> String {
        format!("Bearer {}", self.token(actor))
    }
}

/// The claims of a token for `actor`, valid from `now` for `ttl`.
pub fn claims_for(issuer: &str, actor: &Actor, now: SystemTime, ttl: Duration) -> Claims {
    let iat = unix(now);
    Claims {
        iss: issuer.to_owned(),
        sub: actor.officer.to_string(),
        role: actor.role.as_str().to_owned(),
        town: actor.town.as_ref().map(ToString::to_string),
        department: actor.department.as_ref().map(ToString::to_string),
        iat,
        exp: iat.saturating_add(i64::try_from(ttl.as_secs()).unwrap_or(i64::MAX)),
        jti: uuid::Uuid::now_v7().to_string(),
    }
}

fn unix(t: SystemTime) -> i64 {
    match t.duration_since(SystemTime::UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
        Err(e) => -i64::try_from(e.duration().as_secs()).unwrap_or(i64::MAX),
    }
}

fn b64_json<T: Serialize>(v: &T) -> String {
    B64.encode(serde_json::to_vec(v).expect("plain structs serialise"))
}

/// An Ed25519 public key as a JWK (RFC 8037), with the instant it stops being accepted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Jwk {
    pub kty: String,
    pub crv: String,
    pub x: String,
    pub kid: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alg: Option<String>,
    #[serde(default, rename = "use", skip_serializing_if = "Option::is_none")]
    pub use_: Option<String>,
    /// Set when the key was rotated out: tokens signed with it are refused from then on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retire_at: Option<DateTime<Utc>>,
}

impl Jwk {
    pub fn new(key: &VerifyingKey) -> Jwk {
        Jwk {
            kty: "OKP".into(),
            crv: "Ed25519".into(),
            x: B64.encode(key.as_bytes()),
            kid: key_id(key),
            alg: Some("EdDSA".into()),
            use_: Some("sig".into()),
            retire_at: None,
        }
    }

    fn verifying_key(&self) -> anyhow::Result<VerifyingKey> {
        anyhow::ensure!(
            self.kty == "OKP" && self.crv == "Ed25519",
            "key {:?} is not an Ed25519 key (kty {:?}, crv {:?})",
            self.kid,
            self.kty,
            self.crv
        );
        let bytes: [u8; 32] = B64
            .decode(&self.x)
            .ok()
            .and_then(|b| b.try_into().ok())
            .ok_or_else(|| anyhow::anyhow!("key {:?}: x is not 32 base64url bytes", self.kid))?;
        VerifyingKey::from_bytes(&bytes)
            .map_err(|e| anyhow::anyhow!("key {:?} is not a valid public key: {e}", self.kid))
    }
}

/// The public keys of a hub: a JWK Set.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeySet {
    pub keys: Vec<Jwk>,
}

impl KeySet {
    pub fn load(path: &Path) -> anyhow::Result<KeySet> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read the public keys {}", path.display()))?;
        let set: KeySet = serde_json::from_str(&text)
            .with_context(|| format!("{} is not a JWK Set", path.display()))?;
        for k in &set.keys {
            k.verifying_key()
                .with_context(|| path.display().to_string())?;
        }
        Ok(set)
    }

    pub fn save(&self, path: &Path) -> anyhow::Result<()> {
        let mut text = serde_json::to_string_pretty(self)?;
        text.push('\n');
        write_atomically(path, text.as_bytes(), 0o644)
    }

    /// Puts `new` in, retires every key not yet retired at `now + overlap`, and drops keys
    /// retired before `now`.
    pub fn rotate(&mut self, new: Jwk, now: DateTime<Utc>, overlap: Duration) {
        let retire = now + chrono::Duration::from_std(overlap).unwrap_or(chrono::Duration::MAX);
        self.keys.retain(|k| k.retire_at.is_none_or(|at| at > now));
        for k in &mut self.keys {
            if k.retire_at.is_none() && k.kid != new.kid {
                k.retire_at = Some(retire);
            }
        }
        self.keys.retain(|k| k.kid != new.kid);
        self.keys.push(new);
    }
}

fn write_atomically(path: &Path, bytes: &[u8], mode: u32) -> anyhow::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let dir = path.parent().filter(|p| !p.as_os_str().is_empty());
    if let Some(dir) = dir {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    let tmp = path.with_extension(format!("tmp{}", std::process::id()));
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(mode)
        .open(&tmp)
        .with_context(|| format!("cannot write {}", tmp.display()))?;
    f.write_all(bytes)?;
    f.sync_all()?;
    std::fs::rename(&tmp, path).with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
}

/// A key id, its public key, and when it stops being accepted.
type KnownKey = (String, VerifyingKey, Option<DateTime<Utc>>);

struct Loaded {
    keys: Vec<KnownKey>,
    stamp: Option<FileStamp>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct FileStamp {
    modified: Option<SystemTime>,
    len: u64,
    inode: u64,
}

fn stamp(path: &Path) -> Option<FileStamp> {
    use std::os::unix::fs::MetadataExt;
    let m = std::fs::metadata(path).ok()?;
    Some(FileStamp {
        modified: m.modified().ok(),
        len: m.len(),
        inode: m.ino(),
    })
}

/// Verifies tokens with a hub's public keys, re-reading the key file when it changes.
pub struct Verifier {
    path: Option<PathBuf>,
    issuer: String,
    leeway: i64,
    loaded: RwLock<Loaded>,
    checked: Mutex<Instant>,
}

impl std::fmt::Debug for Verifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Verifier")
            .field("path", &self.path)
            .field("issuer", &self.issuer)
            .finish_non_exhaustive()
    }
}

impl Verifier {
    /// The verifier of `cfg`'s key file. Fails, naming the file, when it is missing, is not a
    /// JWK Set, or holds no key: a service never starts without a way to check its callers.
    pub fn from_config(cfg: &Config) -> anyhow::Result<Verifier> {
        let path = cfg.jwks_file();
        let set = KeySet::load(&path).context(
            "the hub's public keys are needed to verify callers: run `liandong keys init`, or \
             set [identity] jwks_file",
        )?;
        anyhow::ensure!(
            !set.keys.is_empty(),
            "{} holds no key: run `liandong keys init`",
            path.display()
        );
        let mut v = Verifier::from_keys(&set, &cfg.identity.issuer, cfg.identity.leeway_secs)?;
        v.loaded.get_mut().expect("fresh lock").stamp = stamp(&path);
        v.path = Some(path);
        Ok(v)
    }

    /// A verifier of a fixed set of keys (no file behind it).
    pub fn from_keys(set: &KeySet, issuer: &str, leeway_secs: u64) -> anyhow::Result<Verifier> {
        Ok(Verifier {
            path: None,
            issuer: issuer.to_owned(),
            leeway: i64::try_from(leeway_secs).unwrap_or(i64::MAX),
            loaded: RwLock::new(Loaded {
                keys: parse_keys(set)?,
                stamp: None,
            }),
            checked: Mutex::new(Instant::now()),
        })
    }

    /// Re-reads the key file if it changed since it was read, at most once per second.
    fn refresh(&self) {
        let Some(path) = &self.path else { return };
        {
            let mut checked = self.checked.lock().expect("lock");
            if checked.elapsed() < RELOAD_EVERY {
                return;
            }
            *checked = Instant::now();
        }
        let now = stamp(path);
        if now == self.loaded.read().expect("lock").stamp {
            return;
        }
        match KeySet::load(path).and_then(|set| parse_keys(&set)) {
            Ok(keys) => {
                tracing::info!(file = %path.display(), keys = keys.len(), "Reloaded the hub's public keys.");
                *self.loaded.write().expect("lock") = Loaded { keys, stamp: now };
            }
            Err(e) => tracing::warn!(
                error = format!("{e:#}"),
                "The hub's public keys changed but do not load; keeping the previous ones."
            ),
        }
    }

    /// The caller an `authorization` value (`Bearer <token>`) names, at `now`.
    pub fn verify_bearer(&self, authorization: Option<&str>) -> Result<Actor, TokenError> {
        let value = authorization.ok_or(TokenError::Missing)?.trim();
        let token = value
            .strip_prefix("Bearer ")
            .or_else(|| value.strip_prefix("bearer "))
            .ok_or(TokenError::NotBearer)?;
        self.verify(token.trim(), SystemTime::now())
    }

    /// The caller `token` names, checked at `now`: algorithm, key, signature, issuer, times.
    pub fn verify(&self, token: &str, now: SystemTime) -> Result<Actor, TokenError> {
        if token.len() > MAX_TOKEN_LEN {
            return Err(TokenError::Malformed(format!(
                "longer than {MAX_TOKEN_LEN} bytes"
            )));
        }
        let mut parts = token.split('.');
        let (Some(h), Some(c), Some(s), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(TokenError::Malformed(
                "not three dot-separated parts".into(),
            ));
        };
        let decode = |part: &str, what: &str| {
            B64.decode(part)
                .map_err(|e| TokenError::Malformed(format!("the {what} is not base64url: {e}")))
        };
        let header: Header = serde_json::from_slice(&decode(h, "header")?)
            .map_err(|e| TokenError::Malformed(format!("the header: {e}")))?;
        if header.alg != "EdDSA" {
            return Err(TokenError::Algorithm(header.alg));
        }
        let kid = header
            .kid
            .ok_or_else(|| TokenError::Malformed("the header names no key (kid)".into()))?;
        let signature: [u8; 64] = decode(s, "signature")?
            .try_into()
            .map_err(|_| TokenError::Malformed("the signature is not 64 bytes".into()))?;
        let signature = Signature::from_bytes(&signature);
        self.refresh();
        let now_utc: DateTime<Utc> = now.into();
        {
            let loaded = self.loaded.read().expect("lock");
            let (_, key, retire_at) = loaded
                .keys
                .iter()
                .find(|(k, _, _)| *k == kid)
                .ok_or_else(|| TokenError::UnknownKey(kid.clone()))?;
            if let Some(at) = retire_at
                && *at <= now_utc
            {
                return Err(TokenError::KeyRetired { kid, at: *at });
            }
            let input = &token[..h.len() + 1 + c.len()];
            key.verify_strict(input.as_bytes(), &signature)
                .map_err(|_| TokenError::BadSignature)?;
        }
        let claims: Claims = serde_json::from_slice(&decode(c, "claims")?)
            .map_err(|e| TokenError::Malformed(format!("the claims: {e}")))?;
        if claims.iss != self.issuer {
            return Err(TokenError::Issuer(claims.iss));
        }
        let now = unix(now);
        if now >= claims.exp.saturating_add(self.leeway) {
            return Err(TokenError::Expired(secs_to_time(claims.exp)));
        }
        if claims.iat > now.saturating_add(self.leeway) {
            return Err(TokenError::NotYetValid(secs_to_time(claims.iat)));
        }
        actor_of(&claims)
    }
}

fn parse_keys(set: &KeySet) -> anyhow::Result<Vec<KnownKey>> {
    set.keys
        .iter()
        .map(|k| Ok((k.kid.clone(), k.verifying_key()?, k.retire_at)))
        .collect()
}

/// The actor the claims name, parsed as every other input is.
pub fn actor_of(claims: &Claims) -> Result<Actor, TokenError> {
    let bad = |e: &dyn std::fmt::Display| TokenError::Caller(e.to_string());
    let officer = OfficerId::parse(&claims.sub).map_err(|e| bad(&e))?;
    let role = Role::parse(&claims.role).map_err(|e| bad(&e))?;
    let town = claims
        .town
        .as_deref()
        .map(TownCode::parse)
        .transpose()
        .map_err(|e| bad(&e))?;
    let department = claims
        .department
        .as_deref()
        .map(DepartmentCode::parse)
        .transpose()
        .map_err(|e| bad(&e))?;
    Actor::new(officer, role, town, department).map_err(|e| bad(&e))
}

/// The outcome of [`ensure_keys`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ensured {
    /// Both files were there.
    Existing,
    /// A key pair was made: its key id.
    Generated(String),
}

/// Makes a key pair when neither the key file nor the public keys exist (a first start); a
/// half-present pair is an error rather than something to paper over.
pub fn ensure_keys(cfg: &Config) -> anyhow::Result<Ensured> {
    let (jwks, private) = (cfg.jwks_file(), cfg.signing_key_file());
    match (jwks.exists(), private.exists()) {
        (true, _) => Ok(Ensured::Existing),
        (false, false) => {
            let key = SigningKey::generate()?;
            key.save(&private)?;
            KeySet {
                keys: vec![key.public_jwk()],
            }
            .save(&jwks)?;
            Ok(Ensured::Generated(key.kid().to_owned()))
        }
        (false, true) => anyhow::bail!(
            "{} exists but the public keys {} do not: restore them or run `liandong keys rotate`",
            private.display(),
            jwks.display()
        ),
    }
}

/// Replaces the signing key with a fresh one; the old public keys stay accepted for
/// `overlap`. Returns the new key id.
pub fn rotate(cfg: &Config, overlap: Duration) -> anyhow::Result<String> {
    let jwks = cfg.jwks_file();
    let mut set = if jwks.exists() {
        KeySet::load(&jwks)?
    } else {
        KeySet::default()
    };
    let key = SigningKey::generate()?;
    set.rotate(key.public_jwk(), Utc::now(), overlap);
    // The new public key is published before the new private key signs anything.
    set.save(&jwks)?;
    key.save(&cfg.signing_key_file())?;
    Ok(key.kid().to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn actor(role: Role, town: Option<&str>, dept: Option<&str>) -> Actor {
        Actor::new(
            OfficerId::parse("wang.wu").unwrap(),
            role,
            town.map(|t| TownCode::parse(t).unwrap()),
            dept.map(|d| DepartmentCode::parse(d).unwrap()),
        )
        .unwrap()
    }

    fn verifier(keys: &[&SigningKey]) -> Verifier {
        let set = KeySet {
            keys: keys.iter().map(|k| k.public_jwk()).collect(),
        };
        Verifier::from_keys(&set, "liandong", 60).unwrap()
    }

    const HOUR: Duration = Duration::from_secs(3600);

    #[test]
    fn a_signed_token_names_its_actor() {
        let key = SigningKey::generate().unwrap();
        let who = actor(Role::CountyDispatcher, None, Some("forestry"));
        let now = SystemTime::now();
        let token = key.issue("liandong", &who, now, HOUR);
        assert_eq!(verifier(&[&key]).verify(&token, now), Ok(who));
        let header: serde_json::Value =
            serde_json::from_slice(&B64.decode(token.split('.').next().unwrap()).unwrap()).unwrap();
        assert_eq!(header["alg"], "EdDSA");
        assert_eq!(header["kid"], key.kid());
    }

    #[test]
    fn forged_expired_and_tampered_tokens_are_refused() {
        let key = SigningKey::generate().unwrap();
        let other = SigningKey::generate().unwrap();
        let v = verifier(&[&key]);
        let who = actor(Role::BrigadeOfficer, Some("330782101"), None);
        let now = SystemTime::now();
        // Signed by another key under this key's id.
        let forged = SigningKey {
            key: other.key.clone(),
            kid: key.kid.clone(),
        }
        .issue("liandong", &who, now, HOUR);
        assert_eq!(v.verify(&forged, now), Err(TokenError::BadSignature));
        let unknown = other.issue("liandong", &who, now, HOUR);
        assert!(matches!(
            v.verify(&unknown, now),
            Err(TokenError::UnknownKey(_))
        ));
        let old = key.issue("liandong", &who, now - 2 * HOUR, HOUR);
        assert!(matches!(v.verify(&old, now), Err(TokenError::Expired(_))));
        // Another town written into a genuine token's claims.
        let token = key.issue("liandong", &who, now, HOUR);
        let parts: Vec<&str> = token.split('.').collect();
        let claims = String::from_utf8(B64.decode(parts[1]).unwrap())
            .unwrap()
            .replace("330782101", "330782102");
        let tampered = format!("{}.{}.{}", parts[0], B64.encode(claims), parts[2]);
        assert_eq!(v.verify(&tampered, now), Err(TokenError::BadSignature));
        // alg "none" with no signature.
        let none = format!(
            "{}.{}.",
            B64.encode(r#"{"alg":"none","kid":"x"}"#),
            parts[1]
        );
        assert_eq!(
            v.verify(&none, now),
            Err(TokenError::Algorithm("none".into()))
        );
        assert!(matches!(
            v.verify("abc", now),
            Err(TokenError::Malformed(_))
        ));
        let foreign_issuer = key.issue("elsewhere", &who, now, HOUR);
        assert_eq!(
            v.verify(&foreign_issuer, now),
            Err(TokenError::Issuer("elsewhere".into()))
        );
    }

    #[test]
    fn a_rotated_key_is_accepted_until_its_overlap_ends() {
        let old = SigningKey::generate().unwrap();
        let new = SigningKey::generate().unwrap();
        let t0 = Utc::now();
        let mut set = KeySet {
            keys: vec![old.public_jwk()],
        };
        set.rotate(new.public_jwk(), t0, HOUR);
        assert_eq!(set.keys.len(), 2);
        let v = Verifier::from_keys(&set, "liandong", 0).unwrap();
        let who = actor(Role::Viewer, None, None);
        let at = |t: DateTime<Utc>| SystemTime::from(t);
        let old_token = old.issue("liandong", &who, at(t0), 4 * HOUR);
        let new_token = new.issue("liandong", &who, at(t0), 4 * HOUR);
        let within = t0 + chrono::Duration::minutes(59);
        let after = t0 + chrono::Duration::minutes(61);
        assert!(v.verify(&old_token, at(within)).is_ok());
        assert!(v.verify(&new_token, at(within)).is_ok());
        assert!(matches!(
            v.verify(&old_token, at(after)),
            Err(TokenError::KeyRetired { .. })
        ));
        assert!(v.verify(&new_token, at(after)).is_ok());
        // The next rotation drops the retired key.
        let third = SigningKey::generate().unwrap();
        set.rotate(third.public_jwk(), after, HOUR);
        let kids: Vec<&str> = set.keys.iter().map(|k| k.kid.as_str()).collect();
        assert_eq!(kids, [new.kid(), third.kid()]);
    }

    #[test]
    fn keys_round_trip_through_pem_and_jwks() {
        let key = SigningKey::generate().unwrap();
        let again = SigningKey::from_pem(&key.to_pem().unwrap()).unwrap();
        assert_eq!(again.kid(), key.kid());
        let set = KeySet {
            keys: vec![key.public_jwk()],
        };
        let text = serde_json::to_string(&set).unwrap();
        assert!(text.contains(r#""use":"sig""#), "{text}");
        assert_eq!(serde_json::from_str::<KeySet>(&text).unwrap(), set);
        // RFC 8037 A.3: the thumbprint of the RFC's example key.
        let x = B64
            .decode("11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo")
            .unwrap();
        let example = VerifyingKey::from_bytes(&x.try_into().unwrap()).unwrap();
        assert_eq!(
            key_id(&example),
            "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"
        );
    }

    #[test]
    fn a_caller_that_does_not_fit_its_role_is_refused() {
        let key = SigningKey::generate().unwrap();
        let now = SystemTime::now();
        let mut claims = claims_for(
            "liandong",
            &actor(Role::BrigadeOfficer, Some("330782101"), None),
            now,
            HOUR,
        );
        claims.town = None;
        let token = key.sign(&claims);
        assert_eq!(
            verifier(&[&key]).verify(&token, now),
            Err(TokenError::Caller(
                "a brigade_officer must belong to a town".into()
            ))
        );
    }
}
