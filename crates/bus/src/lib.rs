//! The NATS JetStream bus: subjects and streams, the transactional outbox and its relay,
//! consumers with an inbox, receipts and re-sends, and the dead-letter stream.
#![forbid(unsafe_code)]

pub mod signing;

mod change;
mod consumer;
mod outbox;
mod relay;

pub use change::Change;
pub use consumer::{
    Apply, Consumer, ConsumerSpec, Handler, HandlerError, ReceiptHandler, Route, Typed,
    create_durable,
};
pub use liandong_topology::{Source, Subjects};
pub use outbox::{NewEvent, Outbox, decode_payload};
pub use relay::Relay;

use std::time::Duration;

use async_nats::jetstream::{self, stream};

use crate::signing::Keyring;
use liandong_config::{BusConfig, Config, NatsAuth, redact_url};
use liandong_store::Migrations;

static PG: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");
static SQLITE: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");

/// The bus's tables (outbox, inbox, cursors) in every service's database: versions below 100.
pub const MIGRATIONS: Migrations = Migrations {
    postgres: &PG,
    sqlite: &SQLITE,
};

#[derive(Debug, thiserror::Error)]
pub enum BusError {
    #[error("cannot connect to NATS at {url}: {message}")]
    Connect { url: String, message: String },
    #[error("JetStream: {0}")]
    JetStream(String),
    #[error("database: {0}")]
    Db(#[from] sqlx::Error),
    #[error("cannot decode an event: {0}")]
    Decode(String),
    #[error("event signing keys: {0}")]
    Keys(String),
}

/// Applies a service's NATS credentials (deploy/nats/ gives each service user its own
/// permissions): a `.creds` file, an nkey seed, or a user and password. None: anonymous.
async fn with_credentials(
    options: async_nats::ConnectOptions,
    auth: Option<&NatsAuth>,
) -> Result<async_nats::ConnectOptions, String> {
    let Some(auth) = auth else {
        return Ok(options);
    };
    let read = |path: &std::path::Path, what: &str| {
        std::fs::read_to_string(path)
            .map(|s| s.trim_end().to_owned())
            .map_err(|e| format!("cannot read the NATS {what} file {}: {e}", path.display()))
    };
    match auth {
        NatsAuth {
            creds_file: Some(path),
            user: None,
            password: None,
            password_file: None,
            nkey_seed_file: None,
        } => options.credentials_file(path).await.map_err(|e| {
            format!(
                "cannot use the NATS credentials file {}: {e}",
                path.display()
            )
        }),
        NatsAuth {
            nkey_seed_file: Some(path),
            user: None,
            password: None,
            password_file: None,
            creds_file: None,
        } => Ok(options.nkey(read(path, "nkey seed")?)),
        NatsAuth {
            user: Some(user),
            password,
            password_file,
            nkey_seed_file: None,
            creds_file: None,
        } => {
            let password = match (password, password_file) {
                (Some(p), None) => p.clone(),
                (None, Some(path)) => read(path, "password")?,
                _ => {
                    return Err(format!(
                        "NATS user {user}: give exactly one of password and password_file"
                    ));
                }
            };
            Ok(options.user_and_password(user.clone(), password))
        }
        _ => Err(
            "NATS credentials: give one of creds_file, nkey_seed_file, or user with a password"
                .into(),
        ),
    }
}

/// A connection to NATS with the hub's naming applied.
#[derive(Clone, Debug)]
pub struct Bus {
    pub client: async_nats::Client,
    pub js: jetstream::Context,
    pub subjects: Subjects,
    pub stream_prefix: String,
    pub cfg: BusConfig,
    /// The process's event signing key (none for a reader alone) and the key registry: the
    /// relay signs what it publishes, consumers verify what they receive.
    pub keyring: Keyring,
}

impl Bus {
    /// Connects to NATS (retrying in the background on later disconnects) and makes sure every
    /// stream of the hub exists.
    pub async fn connect(cfg: &Config, name: &str) -> Result<Bus, BusError> {
        let keyring = Keyring::open(cfg, name).map_err(|e| BusError::Keys(e.to_string()))?;
        let urls: Vec<async_nats::ServerAddr> = cfg
            .nats_url
            .split(',')
            .map(|u| u.trim().parse())
            .collect::<Result<_, _>>()
            .map_err(|e: std::io::Error| BusError::Connect {
                url: cfg.nats_url.clone(),
                message: e.to_string(),
            })?;
        let options = async_nats::ConnectOptions::new()
            .name(format!("liandong-{name}"))
            // Replies (JetStream API answers, pulled messages, publish acks) come to inboxes
            // under the service's own prefix, so the server can let each service user read
            // only its own (`_INBOX.<service>.>` in deploy/nats/).
            .custom_inbox_prefix(format!("_INBOX.{name}"))
            .retry_on_initial_connect()
            .connection_timeout(Duration::from_secs(5));
        let options = with_credentials(options, cfg.nats_auth_for(name))
            .await
            .map_err(|message| BusError::Connect {
                url: redact_url(&cfg.nats_url),
                message,
            })?;
        let client = options.connect(urls).await.map_err(|e| BusError::Connect {
            url: redact_url(&cfg.nats_url),
            message: e.to_string(),
        })?;
        let js = jetstream::new(client.clone());
        let bus = Bus {
            client,
            js,
            subjects: Subjects::new(&cfg.subject_root),
            stream_prefix: cfg.stream_prefix.clone(),
            cfg: cfg.bus.clone(),
            keyring,
        };
        if bus.cfg.provisioned {
            bus.await_streams().await?;
        } else {
            bus.ensure_streams().await?;
        }
        Ok(bus)
    }

    /// The name of a stream, with this hub's prefix.
    pub fn stream_name(&self, what: &str) -> String {
        liandong_topology::users::stream_name(&self.stream_prefix, what)
    }

    /// Every stream of the hub: one per source, the receipts and the dead letters.
    fn stream_names(&self) -> Vec<String> {
        Source::ALL
            .iter()
            .map(|s| self.stream_name(s.as_str()))
            .chain(["receipts", "dlq"].map(|s| self.stream_name(s)))
            .collect()
    }

    /// Waits until an operator has provisioned every stream of the hub (about a minute, then
    /// fails naming the first missing one): a provisioned service makes none itself.
    async fn await_streams(&self) -> Result<(), BusError> {
        for name in self.stream_names() {
            let mut last = String::new();
            let mut found = false;
            for attempt in 0..12u32 {
                if attempt > 0 {
                    tokio::time::sleep(Duration::from_millis(500 * u64::from(attempt.min(10))))
                        .await;
                }
                match self.js.get_stream(&name).await {
                    Ok(_) => {
                        found = true;
                        break;
                    }
                    Err(e) => last = e.to_string(),
                }
                tracing::info!(stream = %name, error = %last, "Waiting for a provisioned stream.");
            }
            if !found {
                return Err(BusError::JetStream(format!(
                    "stream {name} is not provisioned (run `liandong nats provision`): {last}"
                )));
            }
        }
        Ok(())
    }

    /// Creates the streams, or updates them to the configured settings; safe on every start
    /// and from several replicas at once.
    pub async fn ensure_streams(&self) -> Result<(), BusError> {
        let mut specs: Vec<(String, Vec<String>, Duration)> = Source::ALL
            .iter()
            .map(|s| {
                (
                    self.stream_name(s.as_str()),
                    vec![self.subjects.source_wildcard(*s)],
                    Duration::ZERO,
                )
            })
            .collect();
        specs.push((
            self.stream_name("receipts"),
            vec![self.subjects.receipt_wildcard()],
            Duration::ZERO,
        ));
        // Dead letters are kept for 30 days for an operator to look at and replay.
        specs.push((
            self.stream_name("dlq"),
            vec![self.subjects.dlq_wildcard()],
            Duration::from_secs(30 * 24 * 3600),
        ));
        for (name, subjects, max_age) in specs {
            let config = stream::Config {
                name: name.clone(),
                subjects,
                storage: stream::StorageType::File,
                num_replicas: self.cfg.replicas,
                duplicate_window: Duration::from_millis(self.cfg.duplicate_window_ms),
                max_age,
                ..Default::default()
            };
            self.ensure_stream(config).await?;
        }
        Ok(())
    }

    /// Creates one stream, or updates it when its settings differ. On a cluster that has just
    /// formed, or while every service starts at once, the meta leader answers slowly and a
    /// request can time out: each is tried again with a growing pause for about a minute.
    async fn ensure_stream(&self, config: stream::Config) -> Result<(), BusError> {
        let name = config.name.clone();
        let mut last = String::new();
        for attempt in 0..12u32 {
            if attempt > 0 {
                tokio::time::sleep(Duration::from_millis(500 * u64::from(attempt.min(10)))).await;
            }
            match self.js.get_stream(&name).await {
                Ok(mut existing) => {
                    let current = match existing.info().await {
                        Ok(info) => info.config.clone(),
                        Err(e) => {
                            last = format!("stream {name}: {e}");
                            continue;
                        }
                    };
                    let same = current.subjects == config.subjects
                        && current.storage == config.storage
                        && current.num_replicas == config.num_replicas
                        && current.duplicate_window == config.duplicate_window
                        && current.max_age == config.max_age;
                    if same {
                        return Ok(());
                    }
                    match self.js.update_stream(&config).await {
                        Ok(_) => return Ok(()),
                        Err(e) => last = format!("update stream {name}: {e}"),
                    }
                }
                Err(_) => match self.js.create_stream(config.clone()).await {
                    Ok(_) => return Ok(()),
                    // Another service starting at the same moment may have created it: the
                    // next round finds it.
                    Err(e) => last = format!("create stream {name}: {e}"),
                },
            }
            tracing::info!(stream = %name, error = %last, "Ensuring a stream failed; trying again.");
        }
        Err(BusError::JetStream(last))
    }

    /// Whether the server applies several filters on one consumer (NATS 2.10 and later); an
    /// older one ignores them, so each filter then needs a durable of its own.
    pub fn takes_several_filters(&self) -> bool {
        let version = self.client.server_info().version;
        let mut parts = version.split('.').map(|p| p.parse::<u32>().unwrap_or(0));
        let (major, minor) = (parts.next().unwrap_or(0), parts.next().unwrap_or(0));
        (major, minor) >= (2, 10)
    }

    /// Answers whether NATS is connected now (for readiness).
    pub fn connected(&self) -> bool {
        self.client.connection_state() == async_nats::connection::State::Connected
    }
}
