//! What a process is given: its configuration (a TOML file with environment overrides) and
//! its clock.
#![forbid(unsafe_code)]

pub mod clock;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use liandong_domain::limits::Limits;
use serde::{Deserialize, Serialize};

/// The bus's timings; every one is a deliberate choice, explained in ARCHITECTURE.md.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct BusConfig {
    /// How long the broker waits for an ack before redelivering.
    pub ack_wait_ms: u64,
    /// Deliveries before a message is given up on (and, later, dead-lettered).
    pub max_deliver: i64,
    /// The delay of a negative ack when an event arrives before its predecessor.
    pub out_of_order_delay_ms: u64,
    /// How long a sender waits for a receipt before publishing the same event again.
    pub resend_after_ms: u64,
    /// JetStream's duplicate window. Shorter than `resend_after_ms`, so a re-send is not
    /// swallowed by the broker's deduplication and reaches a receiver whose copy was lost.
    pub duplicate_window_ms: u64,
    /// How often the relay looks for unpublished outbox rows when nothing woke it.
    pub relay_poll_ms: u64,
    /// Rows the relay publishes per transaction.
    pub relay_batch: i64,
    /// How long a relay's claim on the rows it publishes lasts: the rows of a relay that died
    /// holding a claim wait this long before another publishes them (on PostgreSQL; SQLite
    /// releases them when its one process starts again). A batch gets a third of it to be sent
    /// and acknowledged, so one relay publishes a row at a time. At least 3 s.
    pub relay_claim_ms: u64,
    /// How long inbox rows are kept; far longer than any re-send horizon.
    pub inbox_retention_days: i64,
    /// Stream replicas: 1 on a single node, 3 on a cluster.
    pub replicas: usize,
    /// The streams and durable consumers are made by an operator as NATS's `admin` user
    /// (`liandong nats provision`); each service then only binds to them, which is all its
    /// NATS user may do (`liandong nats users`). Unset: each service makes what it needs,
    /// as on a single town's box without NATS users.
    pub provisioned: bool,
}

impl Default for BusConfig {
    fn default() -> Self {
        Self {
            ack_wait_ms: 30_000,
            max_deliver: 10,
            out_of_order_delay_ms: 500,
            resend_after_ms: 300_000,
            duplicate_window_ms: 120_000,
            relay_poll_ms: 1_000,
            relay_batch: 100,
            relay_claim_ms: 60_000,
            inbox_retention_days: 30,
            replicas: 1,
            provisioned: false,
        }
    }
}

/// The gateway's limits on what one client may send: request rates per client address (a
/// token bucket each; a rate of 0 is no limit) and body sizes. The evidence upload route takes
/// bodies up to `evidence_max_bytes` (base64 in JSON, so a third larger) instead of `body_bytes`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct HttpLimits {
    /// The public pages, feed and API description, open to anyone: requests per second.
    pub public_per_second: u32,
    /// ... and how many may come at once.
    pub public_burst: u32,
    /// The API (`/v1/...`), for signed-in callers.
    pub api_per_second: u32,
    pub api_burst: u32,
    /// The most client addresses remembered at once; past it, the idle ones are forgotten.
    pub max_clients: usize,
    /// Reverse proxies whose `X-Forwarded-For` names the client; other peers are the client.
    pub trusted_proxies: Vec<std::net::IpAddr>,
    /// The largest request body of every route but the evidence upload, in bytes.
    pub body_bytes: usize,
}

impl Default for HttpLimits {
    fn default() -> Self {
        Self {
            public_per_second: 10,
            public_burst: 60,
            api_per_second: 100,
            api_burst: 400,
            max_clients: 100_000,
            trusted_proxies: Vec::new(),
            body_bytes: 256 * 1024,
        }
    }
}

/// How one service proves who it is to NATS, whose server configuration (`deploy/nats/`) gives
/// each service user its own publish and subscribe permissions. Set one way: `user` with
/// `password` (or `password_file`), or `nkey_seed_file`, or `creds_file`.
#[derive(Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct NatsAuth {
    pub user: Option<String>,
    /// Never logged. Prefer `password_file`, which keeps it out of the configuration file.
    pub password: Option<String>,
    /// A file whose content (trailing whitespace removed) is the password.
    pub password_file: Option<PathBuf>,
    /// A file holding the user's nkey seed (`SU…`), for a server that lists users by nkey.
    pub nkey_seed_file: Option<PathBuf>,
    /// A `.creds` file (user JWT and nkey seed), for a server in operator mode.
    pub creds_file: Option<PathBuf>,
}

/// The password is never printed.
impl std::fmt::Debug for NatsAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NatsAuth")
            .field("user", &self.user)
            .field("password", &self.password.as_ref().map(|_| "***"))
            .field("password_file", &self.password_file)
            .field("nkey_seed_file", &self.nkey_seed_file)
            .field("creds_file", &self.creds_file)
            .finish()
    }
}

impl NatsAuth {
    /// Whether nothing is set (an anonymous connection).
    pub fn is_empty(&self) -> bool {
        *self == NatsAuth::default()
    }
}

/// The dashboard (`services/readmodel`): how many cases of a path a department needs in the
/// period to be ranked, so one fast case does not top the list. Deadlines come from the
/// time-limits policy (`time_limits`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct DashboardConfig {
    pub ranking_min_cases: u32,
}

impl Default for DashboardConfig {
    fn default() -> Self {
        Self {
            ranking_min_cases: 3,
        }
    }
}

/// TLS for gRPC between the gateway (and other clients) and the services, with rustls. When
/// configured, a service serves gRPC (and `/metrics`) over TLS only and the gateway dials the
/// services over TLS, trusting `ca_file` alone.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct GrpcTls {
    /// The service's certificate chain, PEM; its names (DNS or IP) must cover the host
    /// clients dial, or `server_name`. Needed by every service.
    pub cert_file: Option<PathBuf>,
    /// The certificate's private key, PEM (PKCS#8, PKCS#1 or SEC1).
    pub key_file: Option<PathBuf>,
    /// The CA certificate(s), PEM, that clients verify the services' certificates against.
    /// Needed by the gateway.
    pub ca_file: Option<PathBuf>,
    /// The name clients check the certificate for; unset, the host of the address dialled.
    pub server_name: Option<String>,
}

/// Signed identities: where the public keys that verify callers' tokens are, and (for the
/// operator's commands only) the private key that signs them. See `liandong_grpc::identity`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct IdentityConfig {
    /// The public keys, a JWK Set (RFC 7517) of Ed25519 keys; every service and the gateway
    /// read it. Unset: `<data_dir>/identity/jwks.json`.
    pub jwks_file: Option<PathBuf>,
    /// The current private key (PKCS#8 PEM); only `liandong token issue`, `liandong keys` and
    /// `liandong demo` read it, never a service. Unset: `<data_dir>/identity/signing-key.pem`.
    pub signing_key_file: Option<PathBuf>,
    /// The `iss` every token must carry.
    pub issuer: String,
    /// How long an issued token is valid, in seconds (a working day).
    pub token_ttl_secs: u64,
    /// How long a key replaced by `liandong keys rotate` is still accepted, in seconds.
    pub rotation_overlap_secs: u64,
    /// Clock skew tolerated on `exp` and `iat`, in seconds.
    pub leeway_secs: u64,
}

impl Default for IdentityConfig {
    fn default() -> Self {
        Self {
            jwks_file: None,
            signing_key_file: None,
            issuer: "liandong".into(),
            token_ttl_secs: 8 * 3600,
            rotation_overlap_secs: 24 * 3600,
            leeway_secs: 60,
        }
    }
}

impl Config {
    /// The JWK Set file the services verify tokens with.
    pub fn jwks_file(&self) -> PathBuf {
        self.identity
            .jwks_file
            .clone()
            .unwrap_or_else(|| self.data_dir.join("identity").join("jwks.json"))
    }

    /// The private key file tokens are signed with.
    pub fn signing_key_file(&self) -> PathBuf {
        self.identity
            .signing_key_file
            .clone()
            .unwrap_or_else(|| self.data_dir.join("identity").join("signing-key.pem"))
    }
}

/// Event signing (`liandong_bus::signing`): each service signs what it publishes with its own
/// Ed25519 key and verifies what it receives against the registry of every agency's public
/// keys. Paths left unset are derived from `keys_dir`, and a key or registry at a derived path
/// is made when missing (a development key, generated on first start, registering itself); a
/// path configured on its own is only ever read.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct EventSigning {
    /// Where derived keys (`<service>.pem`) and the registry (`registry.toml`) live; unset,
    /// `<data_dir>/event-keys`. `deploy/up.sh` uses `deploy/keys`.
    pub keys_dir: Option<PathBuf>,
    /// The registry of public keys (TOML, `[[key]]` with `id`, `source`, `public_key` PEM).
    pub registry_file: Option<PathBuf>,
    /// Each service's private key (PKCS#8 PEM) by service name (`[event_signing.key_files]`).
    pub key_files: BTreeMap<String, PathBuf>,
    /// This process's key from `LIANDONG_EVENT_KEY_FILE`; it takes the place of `key_files`.
    #[serde(skip)]
    pub key_file_env: Option<PathBuf>,
}

/// What every service is configured with.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// PostgreSQL server URL; each service uses its own database `<name>_<service>` on it.
    /// Unset: an embedded SQLite file per service in `data_dir`.
    pub database_url: Option<String>,
    /// The most connections one service holds to its PostgreSQL database (10). Every replica
    /// of every service holds up to this many: keep their sum under the server's
    /// `max_connections` (100 by default).
    pub database_max_connections: u32,
    pub data_dir: PathBuf,
    pub nats_url: String,
    /// Each service's NATS credentials by service name (`[nats_auth.county]`); a service
    /// without an entry connects anonymously. See deploy/nats/.
    pub nats_auth: BTreeMap<String, NatsAuth>,
    /// Credentials from the environment (`LIANDONG_NATS_{USER,PASSWORD,PASSWORD_FILE,NKEY_SEED_FILE,CREDS_FILE}`)
    /// for the one process that reads it; they take the place of `nats_auth`'s entry.
    #[serde(skip)]
    pub nats_auth_env: Option<NatsAuth>,
    /// TLS for gRPC; unset, plaintext (on loopback).
    pub grpc_tls: Option<GrpcTls>,
    /// Event signing keys and the key registry.
    pub event_signing: EventSigning,
    /// Signed identities: the keys that verify (and, for operators, sign) callers' tokens.
    pub identity: IdentityConfig,
    /// The first token of every subject; tests give each run its own.
    pub subject_root: String,
    /// The prefix of every stream name; tests give each run its own.
    pub stream_prefix: String,
    pub brigade_addr: SocketAddr,
    pub board_addr: SocketAddr,
    pub county_addr: SocketAddr,
    /// The legal review of major decisions.
    pub review_addr: SocketAddr,
    /// Public disclosure of enforcement decisions.
    pub disclosure_addr: SocketAddr,
    /// The read model, which keeps the dashboard's figures from the event streams.
    pub readmodel_addr: SocketAddr,
    /// The dashboard's ranking minimum.
    pub dashboard: DashboardConfig,
    /// The HTTP/JSON gateway.
    pub gateway_addr: SocketAddr,
    /// Where `liandong up` serves its own `/metrics` (restarts, services given up on).
    pub supervisor_addr: SocketAddr,
    /// The catalogue file; unset: the shipped default catalogue.
    pub catalogue: Option<PathBuf>,
    /// The registry of the county's towns and villages; unset: the shipped
    /// `deploy/data/towns.toml` (义乌市).
    pub towns: Option<PathBuf>,
    /// Extra calendar years (`<year>.toml`), beside the shipped ones.
    pub calendar_dir: Option<PathBuf>,
    pub log_json: bool,
    /// Where spans are exported over OTLP/gRPC (`http://127.0.0.1:4317`); unset, none are
    /// exported (trace context still travels with requests and events).
    pub otlp_endpoint: Option<String>,
    /// How long a published disclosure stays on the public pages, in days (five years).
    pub disclosure_retention_days: u32,
    pub limits: Limits,
    pub bus: BusConfig,
    /// Where evidence is stored: `s3://<bucket>`; unset, files under `<data_dir>/evidence`.
    /// Services that share evidence (the brigade uploads, the county checks handovers) must
    /// name the same store. S3 keys come from `AWS_ACCESS_KEY_ID`/`AWS_SECRET_ACCESS_KEY`.
    pub evidence_store_url: Option<String>,
    /// An S3-compatible endpoint (MinIO, moto); unset, AWS itself.
    pub evidence_s3_endpoint: Option<String>,
    pub evidence_s3_region: Option<String>,
    /// Plain HTTP to the endpoint, for a store on the same host or in tests.
    pub evidence_s3_allow_http: bool,
    /// The largest evidence file accepted, in bytes.
    pub evidence_max_bytes: u64,
    /// The time-limits policy (办理时限); unset: the shipped `deploy/data/time_limits.toml`.
    pub time_limits: Option<PathBuf>,
    /// The procedural standards (the hearing's 较大数额 …); unset: the shipped
    /// `deploy/data/procedure.toml`.
    pub procedure: Option<PathBuf>,
    /// How often a service looks for clocks that ran out, in milliseconds.
    pub clock_check_ms: u64,
    /// For tests and drills only: a file holding a signed number of milliseconds added to the
    /// wall clock, read at every reading, so a test can move every process's time at once.
    pub clock_offset_file: Option<PathBuf>,
    /// The gateway's rate and body-size limits.
    pub http_limits: HttpLimits,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            database_url: None,
            database_max_connections: 10,
            data_dir: PathBuf::from("data"),
            nats_url: "nats://127.0.0.1:4222".into(),
            nats_auth: BTreeMap::new(),
            nats_auth_env: None,
            grpc_tls: None,
            event_signing: EventSigning::default(),
            identity: IdentityConfig::default(),
            subject_root: "liandong".into(),
            stream_prefix: "LIANDONG_".into(),
            // Callers prove who they are with signed tokens, so a service may listen beyond
            // loopback; the defaults stay on loopback for a single machine.
            brigade_addr: ([127, 0, 0, 1], 50061).into(),
            board_addr: ([127, 0, 0, 1], 50062).into(),
            county_addr: ([127, 0, 0, 1], 50063).into(),
            review_addr: ([127, 0, 0, 1], 50064).into(),
            disclosure_addr: ([127, 0, 0, 1], 50065).into(),
            readmodel_addr: ([127, 0, 0, 1], 50066).into(),
            dashboard: DashboardConfig::default(),
            gateway_addr: ([127, 0, 0, 1], 8080).into(),
            supervisor_addr: ([127, 0, 0, 1], 50060).into(),
            catalogue: None,
            towns: None,
            calendar_dir: None,
            log_json: false,
            otlp_endpoint: None,
            disclosure_retention_days: 1826,
            limits: Limits::default(),
            bus: BusConfig::default(),
            evidence_store_url: None,
            evidence_s3_endpoint: None,
            evidence_s3_region: None,
            evidence_s3_allow_http: false,
            evidence_max_bytes: 50 * 1024 * 1024,
            time_limits: None,
            procedure: None,
            clock_check_ms: 60_000,
            clock_offset_file: None,
            http_limits: HttpLimits::default(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read configuration file {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("configuration file {path}: {source}")]
    Parse {
        path: String,
        source: Box<toml::de::Error>,
    },
    #[error("environment variable {var}: {message}")]
    Env { var: &'static str, message: String },
}

impl Config {
    /// Reads `file` when given (else the defaults), then applies the environment overrides:
    /// `DATABASE_URL`, `NATS_URL`, `LIANDONG_DATA_DIR`, `LIANDONG_SUBJECT_ROOT`,
    /// `LIANDONG_STREAM_PREFIX`, `LIANDONG_{BRIGADE,BOARD,COUNTY,REVIEW,DISCLOSURE,GATEWAY}_ADDR`, `LIANDONG_CATALOGUE`,
    /// `LIANDONG_TOWNS`,
    /// `LIANDONG_CALENDAR_DIR`, `LIANDONG_LOG_JSON`, `LIANDONG_JWKS_FILE`,
    /// `LIANDONG_SIGNING_KEY_FILE`, `LIANDONG_OTLP_ENDPOINT` (or
    /// `OTEL_EXPORTER_OTLP_ENDPOINT`),
    /// `LIANDONG_NATS_{USER,PASSWORD,PASSWORD_FILE,NKEY_SEED_FILE,CREDS_FILE}` (this process's
    /// NATS credentials), `LIANDONG_GRPC_TLS_{CERT,KEY,CA,SERVER_NAME}` and
    /// `LIANDONG_EVENT_{KEYS_DIR,KEY_REGISTRY,KEY_FILE}` (event signing; the key file is this
    /// process's).
    pub fn load(file: Option<&Path>) -> Result<Config, ConfigError> {
        let mut cfg = match file {
            Some(path) => {
                let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
                    path: path.display().to_string(),
                    source,
                })?;
                toml::from_str(&text).map_err(|source| ConfigError::Parse {
                    path: path.display().to_string(),
                    source: Box::new(source),
                })?
            }
            None => Config::default(),
        };
        cfg.apply_env(|k| std::env::var(k).ok())?;
        Ok(cfg)
    }

    /// Applies overrides from `get` (the environment, or a map in tests).
    pub fn apply_env(&mut self, get: impl Fn(&str) -> Option<String>) -> Result<(), ConfigError> {
        if let Some(v) = get("DATABASE_URL").filter(|v| !v.is_empty()) {
            self.database_url = Some(v);
        }
        if let Some(v) = get("NATS_URL").filter(|v| !v.is_empty()) {
            self.nats_url = v;
        }
        if let Some(v) = get("LIANDONG_DATA_DIR") {
            self.data_dir = v.into();
        }
        if let Some(v) = get("LIANDONG_SUBJECT_ROOT") {
            self.subject_root = v;
        }
        if let Some(v) = get("LIANDONG_STREAM_PREFIX") {
            self.stream_prefix = v;
        }
        if let Some(v) = get("LIANDONG_CATALOGUE") {
            self.catalogue = Some(v.into());
        }
        if let Some(v) = get("LIANDONG_TOWNS").filter(|v| !v.is_empty()) {
            self.towns = Some(v.into());
        }
        if let Some(v) = get("LIANDONG_TIME_LIMITS") {
            self.time_limits = Some(v.into());
        }
        if let Some(v) = get("LIANDONG_PROCEDURE").filter(|v| !v.is_empty()) {
            self.procedure = Some(v.into());
        }
        if let Some(v) = get("LIANDONG_CALENDAR_DIR") {
            self.calendar_dir = Some(v.into());
        }
        if let Some(v) = get("LIANDONG_JWKS_FILE").filter(|v| !v.is_empty()) {
            self.identity.jwks_file = Some(v.into());
        }
        if let Some(v) = get("LIANDONG_SIGNING_KEY_FILE").filter(|v| !v.is_empty()) {
            self.identity.signing_key_file = Some(v.into());
        }
        if let Some(v) = get("LIANDONG_LOG_JSON") {
            self.log_json = matches!(v.as_str(), "1" | "true" | "yes");
        }
        if let Some(v) =
            get("LIANDONG_OTLP_ENDPOINT").or_else(|| get("OTEL_EXPORTER_OTLP_ENDPOINT"))
        {
            self.otlp_endpoint = Some(v).filter(|v| !v.is_empty());
        }
        let nonempty = |name: &str| get(name).filter(|v| !v.is_empty());
        if let Some(v) = nonempty("LIANDONG_EVENT_KEYS_DIR") {
            self.event_signing.keys_dir = Some(v.into());
        }
        if let Some(v) = nonempty("LIANDONG_EVENT_KEY_REGISTRY") {
            self.event_signing.registry_file = Some(v.into());
        }
        if let Some(v) = nonempty("LIANDONG_EVENT_KEY_FILE") {
            self.event_signing.key_file_env = Some(v.into());
        }
        let from_env = NatsAuth {
            user: nonempty("LIANDONG_NATS_USER"),
            password: nonempty("LIANDONG_NATS_PASSWORD"),
            password_file: nonempty("LIANDONG_NATS_PASSWORD_FILE").map(Into::into),
            nkey_seed_file: nonempty("LIANDONG_NATS_NKEY_SEED_FILE").map(Into::into),
            creds_file: nonempty("LIANDONG_NATS_CREDS_FILE").map(Into::into),
        };
        if !from_env.is_empty() {
            self.nats_auth_env = Some(from_env);
        }
        let (cert, key, ca, server_name) = (
            nonempty("LIANDONG_GRPC_TLS_CERT"),
            nonempty("LIANDONG_GRPC_TLS_KEY"),
            nonempty("LIANDONG_GRPC_TLS_CA"),
            nonempty("LIANDONG_GRPC_TLS_SERVER_NAME"),
        );
        if cert.is_some() || key.is_some() || ca.is_some() || server_name.is_some() {
            let tls = self.grpc_tls.get_or_insert_with(GrpcTls::default);
            tls.cert_file = cert.map(Into::into).or(tls.cert_file.take());
            tls.key_file = key.map(Into::into).or(tls.key_file.take());
            tls.ca_file = ca.map(Into::into).or(tls.ca_file.take());
            tls.server_name = server_name.or(tls.server_name.take());
        }
        for (var, slot) in [
            ("LIANDONG_BRIGADE_ADDR", &mut self.brigade_addr),
            ("LIANDONG_BOARD_ADDR", &mut self.board_addr),
            ("LIANDONG_COUNTY_ADDR", &mut self.county_addr),
            ("LIANDONG_REVIEW_ADDR", &mut self.review_addr),
            ("LIANDONG_DISCLOSURE_ADDR", &mut self.disclosure_addr),
            ("LIANDONG_READMODEL_ADDR", &mut self.readmodel_addr),
            ("LIANDONG_GATEWAY_ADDR", &mut self.gateway_addr),
            ("LIANDONG_SUPERVISOR_ADDR", &mut self.supervisor_addr),
        ] {
            if let Some(v) = get(var) {
                *slot = v.parse().map_err(|e| ConfigError::Env {
                    var,
                    message: format!("{v:?} is not a socket address: {e}"),
                })?;
            }
        }
        Ok(())
    }
}

impl Config {
    /// Where derived event keys and the default key registry live.
    pub fn event_keys_dir(&self) -> PathBuf {
        self.event_signing
            .keys_dir
            .clone()
            .unwrap_or_else(|| self.data_dir.join("event-keys"))
    }

    /// The NATS credentials of `service`: the environment's, else its `nats_auth` entry.
    pub fn nats_auth_for(&self, service: &str) -> Option<&NatsAuth> {
        self.nats_auth_env
            .as_ref()
            .or_else(|| self.nats_auth.get(service))
            .filter(|a| !a.is_empty())
    }
}

/// A password in a URL is never printed.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let creds = &url[s + 3..at];
            match creds.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..s + 3], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn environment_overrides_the_file() {
        let mut cfg = Config::default();
        cfg.apply_env(|k| match k {
            "NATS_URL" => Some("nats://10.0.0.1:4222".into()),
            "LIANDONG_BRIGADE_ADDR" => Some("127.0.0.1:1".into()),
            "LIANDONG_TOWNS" => Some("/etc/liandong/towns.toml".into()),
            _ => None,
        })
        .unwrap();
        assert_eq!(cfg.nats_url, "nats://10.0.0.1:4222");
        assert_eq!(cfg.brigade_addr.port(), 1);
        assert_eq!(
            cfg.towns.as_deref(),
            Some(Path::new("/etc/liandong/towns.toml"))
        );
        let err = cfg
            .apply_env(|k| (k == "LIANDONG_COUNTY_ADDR").then(|| "nowhere".into()))
            .unwrap_err();
        assert!(
            err.to_string()
                .starts_with("environment variable LIANDONG_COUNTY_ADDR")
        );
    }

    #[test]
    fn nats_credentials_come_per_service_and_the_environment_wins() {
        let mut cfg: Config = toml::from_str(
            r#"
            [nats_auth.county]
            user = "county"
            password_file = "/run/secrets/county"
            [grpc_tls]
            ca_file = "/etc/liandong/ca.pem"
            "#,
        )
        .unwrap();
        let county = cfg.nats_auth_for("county").unwrap();
        assert_eq!(county.user.as_deref(), Some("county"));
        assert_eq!(cfg.nats_auth_for("brigade"), None);
        cfg.apply_env(|k| match k {
            "LIANDONG_NATS_CREDS_FILE" => Some("/etc/liandong/brigade.creds".into()),
            "LIANDONG_GRPC_TLS_CERT" => Some("/etc/liandong/brigade.pem".into()),
            _ => None,
        })
        .unwrap();
        let env = cfg.nats_auth_for("county").unwrap();
        assert_eq!(env.user, None);
        assert_eq!(
            env.creds_file.as_deref(),
            Some(Path::new("/etc/liandong/brigade.creds"))
        );
        let tls = cfg.grpc_tls.unwrap();
        assert_eq!(
            tls.ca_file.as_deref(),
            Some(Path::new("/etc/liandong/ca.pem"))
        );
        assert_eq!(
            tls.cert_file.as_deref(),
            Some(Path::new("/etc/liandong/brigade.pem"))
        );
    }

    #[test]
    fn passwords_are_redacted() {
        assert_eq!(
            redact_url("postgres://u:secret@h/db"),
            "postgres://u:***@h/db"
        );
        assert_eq!(redact_url("postgres://h/db"), "postgres://h/db");
    }
}
