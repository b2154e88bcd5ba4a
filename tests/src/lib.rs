//! Shared helpers of the integration tests: an isolated environment per test, and polling.

pub mod auth;
pub mod fault;
pub mod http;
pub mod hub;
pub mod people;
pub mod services;
pub mod up;

use std::future::Future;
use std::net::TcpListener;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use futures::StreamExt;
use liandong_config::{BusConfig, Config};
use liandong_store::{Db, Migrations};
use sqlx::{Connection, PgConnection};

/// The PostgreSQL server the tests use; each test makes its own databases on it.
const PG_SERVER: &str = "postgres://postgres@127.0.0.1:5432";

/// Generates one `#[tokio::test]` per backend for each scenario `async fn(Backend)`, in the
/// modules `on_postgres` and `on_sqlite`, so a test reads `store::on_sqlite::<scenario>`.
#[macro_export]
macro_rules! on_each_backend {
    ($($scenario:ident),+ $(,)?) => {
        mod on_postgres {
            $(
                #[tokio::test]
                async fn $scenario() {
                    super::$scenario($crate::Backend::Postgres).await
                }
            )+
        }
        mod on_sqlite {
            $(
                #[tokio::test]
                async fn $scenario() {
                    super::$scenario($crate::Backend::Sqlite).await
                }
            )+
        }
    };
}

/// `prefix` followed by a short random suffix (lowercase hex), unique per call.
pub fn unique(prefix: &str) -> String {
    // The tail of a UUIDv7 is random; its head is the clock.
    let id = uuid::Uuid::now_v7().simple().to_string();
    format!("{prefix}{}", &id[id.len() - 12..])
}

/// Which store a test's services run on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Postgres,
    Sqlite,
}

impl std::fmt::Display for Backend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Backend::Postgres => "PostgreSQL",
            Backend::Sqlite => "SQLite",
        })
    }
}

/// One test's private world: its own subject root, stream prefix, databases and data folder,
/// so parallel runs and leftovers of earlier runs never meet.
#[derive(Debug)]
pub struct TestEnv {
    pub cfg: Config,
    /// The database name the services' databases are prefixed with (`ldt_<unique>`), on
    /// PostgreSQL.
    pub pg_base: Option<String>,
    _dir: tempfile::TempDir,
    cleaned: AtomicBool,
}

impl TestEnv {
    pub fn new(backend: Backend) -> TestEnv {
        let id = unique("");
        let dir = tempfile::Builder::new()
            .prefix("liandong-test-")
            .tempdir()
            .expect("a temporary directory");
        let pg_base = (backend == Backend::Postgres).then(|| format!("ldt_{id}"));
        let mut cfg = Config {
            database_url: pg_base.as_ref().map(|db| format!("{PG_SERVER}/{db}")),
            // Tests run several hubs of six services at once against one server of 100
            // connections: each service keeps to a few.
            database_max_connections: 2,
            data_dir: dir.path().join("data"),
            nats_url: std::env::var("LIANDONG_TEST_NATS_URL")
                .ok()
                .filter(|u| !u.is_empty())
                .unwrap_or_else(|| "nats://127.0.0.1:4222".into()),
            subject_root: format!("t{id}"),
            stream_prefix: format!("T{}_", id.to_ascii_uppercase()),
            brigade_addr: free_addr(),
            board_addr: free_addr(),
            county_addr: free_addr(),
            review_addr: free_addr(),
            disclosure_addr: free_addr(),
            readmodel_addr: free_addr(),
            gateway_addr: free_addr(),
            supervisor_addr: free_addr(),
            bus: BusConfig {
                ack_wait_ms: 1000,
                max_deliver: 5,
                out_of_order_delay_ms: 100,
                resend_after_ms: 1500,
                duplicate_window_ms: 500,
                relay_poll_ms: 100,
                // The rows of a relay killed holding a claim are taken over after 15 s, not a
                // minute; a batch still gets 5 s to be acknowledged.
                relay_claim_ms: 15_000,
                inbox_retention_days: 30,
                ..BusConfig::default()
            },
            ..Config::default()
        };
        // Every process of the environment verifies the tests' tokens with this key set.
        auth::install(&mut cfg, &dir.path().join("identity"));
        TestEnv {
            cfg,
            pg_base,
            _dir: dir,
            cleaned: AtomicBool::new(false),
        }
    }

    pub fn backend(&self) -> Backend {
        if self.pg_base.is_some() {
            Backend::Postgres
        } else {
            Backend::Sqlite
        }
    }

    /// Opens `service`'s database in this environment and applies the bus's and `migrations`.
    pub async fn open_db(&self, service: &str, migrations: &[&Migrations]) -> anyhow::Result<Db> {
        let db = Db::open(
            self.cfg.database_url.as_deref(),
            &self.cfg.data_dir,
            service,
            4,
        )
        .await?;
        db.migrate(migrations).await?;
        Ok(db)
    }

    /// Deletes this environment's streams and PostgreSQL databases, best-effort. Close the
    /// pools first; the databases are dropped `WITH (FORCE)` all the same.
    pub async fn cleanup(&self) {
        self.cleaned.store(true, Ordering::SeqCst);
        remove(
            self.cfg.nats_url.clone(),
            self.cfg.stream_prefix.clone(),
            self.pg_base.clone(),
        )
        .await;
    }

    /// The streams and PostgreSQL databases of this environment that still exist; empty after
    /// `cleanup`.
    pub async fn leftovers(&self) -> anyhow::Result<Vec<String>> {
        let client = async_nats::connect(&self.cfg.nats_url).await?;
        let js = async_nats::jetstream::new(client);
        let mut found: Vec<String> = js
            .stream_names()
            .filter_map(|n| async move { n.ok() })
            .filter(|n| std::future::ready(n.starts_with(&self.cfg.stream_prefix)))
            .map(|n| format!("stream {n}"))
            .collect()
            .await;
        if let Some(base) = &self.pg_base {
            let mut conn = PgConnection::connect(&format!("{PG_SERVER}/postgres")).await?;
            let names: Vec<String> = sqlx::query_scalar("SELECT datname::text FROM pg_database")
                .fetch_all(&mut conn)
                .await?;
            let ours = format!("{base}_");
            found.extend(
                names
                    .into_iter()
                    .filter(|n| n.starts_with(&ours))
                    .map(|n| format!("database {n}")),
            );
            conn.close().await?;
        }
        Ok(found)
    }
}

/// A test that panicked never reached `cleanup`; clean up on a thread of its own, since a
/// destructor cannot await.
impl Drop for TestEnv {
    fn drop(&mut self) {
        if self.cleaned.swap(true, Ordering::SeqCst) {
            return;
        }
        // For a post-mortem: LIANDONG_TEST_KEEP=1 leaves a failed test's streams and databases.
        if std::env::var_os("LIANDONG_TEST_KEEP").is_some() {
            eprintln!(
                "keeping streams {}* and databases {:?}",
                self.cfg.stream_prefix, self.pg_base
            );
            return;
        }
        let (url, prefix, pg) = (
            self.cfg.nats_url.clone(),
            self.cfg.stream_prefix.clone(),
            self.pg_base.clone(),
        );
        let cleaner = std::thread::spawn(move || {
            if let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            {
                rt.block_on(remove(url, prefix, pg));
            }
        });
        let _ = cleaner.join();
    }
}

async fn remove(nats_url: String, stream_prefix: String, pg_base: Option<String>) {
    let streams = async {
        let Ok(client) = async_nats::connect(&nats_url).await else {
            return;
        };
        let js = async_nats::jetstream::new(client);
        let names: Vec<String> = js
            .stream_names()
            .filter_map(|n| async move { n.ok() })
            .filter(|n| std::future::ready(n.starts_with(&stream_prefix)))
            .collect()
            .await;
        for name in names {
            let _ = js.delete_stream(&name).await;
        }
    };
    let databases = async {
        let Some(base) = pg_base else { return };
        let Ok(mut conn) = PgConnection::connect(&format!("{PG_SERVER}/postgres")).await else {
            return;
        };
        let names: Vec<String> = sqlx::query_scalar("SELECT datname::text FROM pg_database")
            .fetch_all(&mut conn)
            .await
            .unwrap_or_else(|e| {
                eprintln!("cannot list the test databases to drop: {e}");
                Vec::new()
            });
        let ours = format!("{base}_");
        for name in names.into_iter().filter(|n| n.starts_with(&ours)) {
            let sql = format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)");
            let _ = sqlx::query(&sql).execute(&mut conn).await;
        }
        let _ = conn.close().await;
    };
    let _ = tokio::time::timeout(Duration::from_secs(10), async {
        tokio::join!(streams, databases)
    })
    .await;
}

/// A loopback address with a port that was free a moment ago.
fn free_addr() -> std::net::SocketAddr {
    ([127, 0, 0, 1], free_port()).into()
}

/// A loopback port no other test of this process has been given. Ports come from below the
/// kernel's ephemeral range (32768–60999), so the outgoing connections the tests make cannot
/// take a port between the moment it is chosen and the moment a service binds it; and each
/// port is handed out once, so two hubs starting side by side never share one.
pub fn free_port() -> u16 {
    static GIVEN: std::sync::Mutex<std::collections::BTreeSet<u16>> =
        std::sync::Mutex::new(std::collections::BTreeSet::new());
    let mut given = GIVEN.lock().expect("port registry");
    let seed = uuid::Uuid::now_v7().as_u128() as u64 ^ u64::from(std::process::id());
    for i in 0..20_000u64 {
        let port = 20_000 + ((seed.wrapping_add(i.wrapping_mul(7_919))) % 12_000) as u16;
        if given.contains(&port) {
            continue;
        }
        if TcpListener::bind(("127.0.0.1", port)).is_ok() {
            given.insert(port);
            return port;
        }
    }
    panic!("no free loopback port between 20000 and 32000");
}

/// What an `eventually` probe answers: `Option<T>`, or `anyhow::Result<Option<T>>` for a probe
/// that can fail (an error counts as "not yet", and is shown if the wait times out).
pub trait Probe {
    type Value;
    fn into_result(self) -> anyhow::Result<Option<Self::Value>>;
}

impl<T> Probe for Option<T> {
    type Value = T;
    fn into_result(self) -> anyhow::Result<Option<T>> {
        Ok(self)
    }
}

impl<T> Probe for anyhow::Result<Option<T>> {
    type Value = T;
    fn into_result(self) -> anyhow::Result<Option<T>> {
        self
    }
}

/// Polls `f` every 50 ms until it answers `Some`, and returns that; panics with `what` (and
/// the last error, if any) when `timeout` passes first.
pub async fn eventually<F, Fut>(
    what: &str,
    timeout: Duration,
    mut f: F,
) -> <Fut::Output as Probe>::Value
where
    F: FnMut() -> Fut,
    Fut: Future,
    Fut::Output: Probe,
{
    let deadline = tokio::time::Instant::now() + timeout;
    let mut last_error = None;
    loop {
        match f().await.into_result() {
            Ok(Some(v)) => return v,
            Ok(None) => {}
            Err(e) => last_error = Some(e),
        }
        if tokio::time::Instant::now() >= deadline {
            match last_error {
                Some(e) => {
                    panic!("timed out after {timeout:?} waiting until {what}; last error: {e:#}")
                }
                None => panic!("timed out after {timeout:?} waiting until {what}"),
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
