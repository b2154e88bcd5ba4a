//! The sqlx store: PostgreSQL when `DATABASE_URL` names a server, else an embedded SQLite file.
//!
//! One code path serves both backends: runtime queries (never `sqlx::Any`, which lacks chrono
//! and uuid) written once inside [`with_tx!`]/[`with_db!`], which compile the body once per
//! backend. Placeholders are `$1, $2, …`, which both backends accept.
#![forbid(unsafe_code)]

pub mod typed;

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use sqlx::migrate::Migrator;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{ConnectOptions, Connection, PgPool, Postgres, Sqlite, SqlitePool};

/// Which backend a store runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Postgres,
    Sqlite,
}

/// A connection pool on one backend.
#[derive(Debug, Clone)]
pub enum Db {
    Postgres(PgPool),
    Sqlite(SqlitePool),
}

/// An open transaction on one backend; store functions take it so that state and outbox rows
/// commit together.
#[derive(Debug)]
pub enum Tx {
    Postgres(sqlx::Transaction<'static, Postgres>),
    Sqlite(sqlx::Transaction<'static, Sqlite>),
}

/// Runs `$body` with `$conn` bound to the transaction's connection, compiled for each backend.
#[macro_export]
macro_rules! with_tx {
    ($tx:expr, |$conn:ident| $body:expr) => {
        match $tx {
            $crate::Tx::Postgres(t) => {
                let $conn = &mut **t;
                $body
            }
            $crate::Tx::Sqlite(t) => {
                let $conn = &mut **t;
                $body
            }
        }
    };
}

/// Runs `$body` with `$pool` bound to the backend's pool, compiled for each backend.
#[macro_export]
macro_rules! with_db {
    ($db:expr, |$pool:ident| $body:expr) => {
        match $db {
            $crate::Db::Postgres(p) => {
                let $pool = p;
                $body
            }
            $crate::Db::Sqlite(p) => {
                let $pool = p;
                $body
            }
        }
    };
}

/// One crate's migrations, a folder per backend. Every crate that owns tables has one set; the
/// sets of one database are applied as one history ordered by version ([`Db::migrate`]), so
/// versions are unique across them: the bus's below 100, the services' first ones from 100,
/// and from 300 on each new migration takes the next free number whichever crate owns it.
pub struct Migrations {
    pub postgres: &'static Migrator,
    pub sqlite: &'static Migrator,
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Sqlx(#[from] sqlx::Error),
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("cannot create the data directory {path}: {source}")]
    DataDir {
        path: String,
        source: std::io::Error,
    },
}

impl Db {
    /// Opens the service's own database: on the PostgreSQL server that `database_url` names,
    /// the database `<name>_<service>` (created when missing); else `<data_dir>/<service>.sqlite`.
    pub async fn open(
        database_url: Option<&str>,
        data_dir: &Path,
        service: &str,
        max_connections: u32,
    ) -> Result<Db, StoreError> {
        match database_url {
            Some(url) if url.starts_with("postgres") => {
                let base = PgConnectOptions::from_str(url)?;
                let root = base.get_database().unwrap_or("liandong").to_owned();
                let name = format!("{root}_{service}");
                create_pg_database(&base, &name).await?;
                let opts = base
                    .database(&name)
                    .log_statements(tracing::log::LevelFilter::Trace);
                let pool = PgPoolOptions::new()
                    .max_connections(max_connections)
                    .acquire_timeout(Duration::from_secs(10))
                    .connect_with(opts)
                    .await?;
                Ok(Db::Postgres(pool))
            }
            Some(url) if url.starts_with("sqlite:") => {
                Self::open_sqlite(SqliteConnectOptions::from_str(url)?).await
            }
            _ => {
                std::fs::create_dir_all(data_dir).map_err(|source| StoreError::DataDir {
                    path: data_dir.display().to_string(),
                    source,
                })?;
                let file = data_dir.join(format!("{service}.sqlite"));
                Self::open_sqlite(SqliteConnectOptions::new().filename(file)).await
            }
        }
    }

    async fn open_sqlite(opts: SqliteConnectOptions) -> Result<Db, StoreError> {
        let opts = opts
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .busy_timeout(Duration::from_secs(10))
            .foreign_keys(true)
            .log_statements(tracing::log::LevelFilter::Trace);
        // SQLite has one writer at a time; a handful of connections serve concurrent reads.
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(opts)
            .await?;
        Ok(Db::Sqlite(pool))
    }

    pub fn backend(&self) -> Backend {
        match self {
            Db::Postgres(_) => Backend::Postgres,
            Db::Sqlite(_) => Backend::Sqlite,
        }
    }

    /// Applies the migrations of every set a service's database takes (the bus's, its feature
    /// crates', its own) as one history, in the order of their versions, so that a migration
    /// may build on any earlier one whichever crate owns it. A version two sets both carry must
    /// be the same migration.
    pub async fn migrate(&self, sets: &[&Migrations]) -> Result<(), StoreError> {
        let (m, exists) = match self {
            Db::Postgres(_) => (
                merged(sets.iter().map(|m| m.postgres))?,
                "SELECT to_regclass('_sqlx_migrations') IS NOT NULL",
            ),
            Db::Sqlite(_) => (
                merged(sets.iter().map(|m| m.sqlite))?,
                "SELECT EXISTS (SELECT 1 FROM sqlite_master \
                 WHERE type = 'table' AND name = '_sqlx_migrations')",
            ),
        };
        let exists: bool = with_db!(self, |p| sqlx::query_scalar(exists).fetch_one(p).await)?;
        if exists {
            // A migration renumbered since the database was made is recorded under its new
            // version, not run again.
            let applied: Vec<(i64, String, Vec<u8>)> = with_db!(self, |p| sqlx::query_as(
                "SELECT version, description, checksum FROM _sqlx_migrations",
            )
            .fetch_all(p)
            .await)?;
            for (from, to) in renumbered(&m, &applied) {
                with_db!(self, |p| sqlx::query(RENUMBER)
                    .bind(to)
                    .bind(from)
                    .execute(p)
                    .await
                    .map(drop))?;
            }
        }
        with_db!(self, |p| m.run(p).await)?;
        Ok(())
    }

    /// Begins a transaction, whatever becomes of the caller.
    ///
    /// The begin runs in a task of its own: sqlx's is not cancellation-safe. On SQLite, a
    /// `begin_with` dropped between its `BEGIN` and its check that the connection is in a
    /// transaction (a gRPC call cancelled because its client went away: the gateway killed
    /// mid-load did it) returns the connection to the pool inside a transaction that nobody can
    /// end, and every later begin on that connection fails with "attempted to call begin_with
    /// at non-zero transaction depth" until the process restarts. In a task the begin always
    /// finishes; a transaction whose caller has gone is dropped there, and rolled back.
    pub async fn begin(&self) -> Result<Tx, sqlx::Error> {
        let db = self.clone();
        tokio::spawn(async move { db.begin_here().await })
            .await
            .map_err(|e| sqlx::Error::Protocol(format!("beginning a transaction: {e}")))?
    }

    async fn begin_here(&self) -> Result<Tx, sqlx::Error> {
        Ok(match self {
            Db::Postgres(p) => Tx::Postgres(p.begin().await?),
            // IMMEDIATE takes the write lock at once (waiting up to the busy timeout). A deferred
            // transaction that reads first and then writes fails at once with "database is
            // locked" whenever another connection (the relay, a consumer) committed in between,
            // and busy_timeout cannot help it; nearly every transaction here writes.
            Db::Sqlite(p) => Tx::Sqlite(p.begin_with("BEGIN IMMEDIATE").await?),
        })
    }

    /// Answers whether the database can be reached now (for readiness).
    pub async fn ping(&self) -> bool {
        // PostgreSQL types a bare `1` as INT4, which does not decode as i64.
        let r: Result<i64, sqlx::Error> =
            with_db!(self, |pool| sqlx::query_scalar("SELECT CAST(1 AS BIGINT)")
                .fetch_one(pool)
                .await);
        r.is_ok()
    }

    pub async fn close(&self) {
        with_db!(self, |pool| pool.close().await)
    }
}

/// Two migrators share one `_sqlx_migrations` table, so each ignores the other's versions.
/// One migrator of every set's migrations, ordered by version; the database's table of applied
/// migrations is shared, and versions it lists that no set carries (a migration since retired
/// into a feature crate under the same version) are no error.
fn merged(sets: impl Iterator<Item = &'static Migrator>) -> Result<Migrator, StoreError> {
    let mut all: Vec<sqlx::migrate::Migration> = Vec::new();
    for set in sets {
        for m in set.iter() {
            match all.iter().find(|x| x.version == m.version) {
                Some(x) if x.checksum == m.checksum => {}
                Some(x) => {
                    return Err(StoreError::Migrate(sqlx::migrate::MigrateError::Execute(
                        sqlx::Error::Configuration(
                            format!(
                                "migration {} is claimed by two sets: {:?} and {:?}",
                                m.version, x.description, m.description
                            )
                            .into(),
                        ),
                    )));
                }
                None => all.push(m.clone()),
            }
        }
    }
    all.sort_by_key(|m| m.version);
    Ok(Migrator {
        migrations: std::borrow::Cow::Owned(all),
        ignore_missing: true,
        locking: true,
        no_tx: false,
    })
}

/// Moves an applied migration to the version it carries now; a replica that moved it first
/// leaves nothing to move.
const RENUMBER: &str = "UPDATE _sqlx_migrations SET version = $1 WHERE version = $2 \
     AND NOT EXISTS (SELECT 1 FROM _sqlx_migrations WHERE version = $1)";

/// The applied migrations that were renumbered since they ran, as (applied version, version
/// now): an applied version no set carries any more, whose description and checksum (the
/// same SQL) are those of exactly one known migration not applied under its own version. The
/// decision carry-overs ran as brigade 170 and county 240 before they became 310 and 320
/// (after the decision model's 300); without this a database of that time would run them
/// again, on tables they had dropped.
fn renumbered(m: &Migrator, applied: &[(i64, String, Vec<u8>)]) -> Vec<(i64, i64)> {
    let known = |v: i64| m.iter().any(|k| k.version == v);
    let is_applied = |v: i64| applied.iter().any(|(a, _, _)| *a == v);
    applied
        .iter()
        .filter(|(v, _, _)| !known(*v))
        .filter_map(|(v, description, checksum)| {
            let mut same = m.iter().filter(|k| {
                !k.migration_type.is_down_migration()
                    && k.description == *description
                    && *k.checksum == **checksum
                    && !is_applied(k.version)
            });
            match (same.next(), same.next()) {
                (Some(k), None) => Some((*v, k.version)),
                _ => None,
            }
        })
        .collect()
}

async fn create_pg_database(base: &PgConnectOptions, name: &str) -> Result<(), sqlx::Error> {
    let mut conn = base.clone().database("postgres").connect().await?;
    let exists: bool =
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)")
            .bind(name)
            .fetch_one(&mut conn)
            .await?;
    if !exists {
        // The name comes from configuration, not from requests; quote it all the same.
        let sql = format!("CREATE DATABASE \"{}\"", name.replace('"', "\"\""));
        if let Err(e) = sqlx::query(&sql).execute(&mut conn).await {
            // Another replica may have created it a moment ago (duplicate_database).
            let dup = e
                .as_database_error()
                .and_then(|d| d.code())
                .is_some_and(|c| c == "42P04");
            if !dup {
                return Err(e);
            }
        }
    }
    conn.close().await
}

impl Tx {
    pub async fn commit(self) -> Result<(), sqlx::Error> {
        match self {
            Tx::Postgres(t) => t.commit().await,
            Tx::Sqlite(t) => t.commit().await,
        }
    }
    pub async fn rollback(self) -> Result<(), sqlx::Error> {
        match self {
            Tx::Postgres(t) => t.rollback().await,
            Tx::Sqlite(t) => t.rollback().await,
        }
    }
    pub fn backend(&self) -> Backend {
        match self {
            Tx::Postgres(_) => Backend::Postgres,
            Tx::Sqlite(_) => Backend::Sqlite,
        }
    }
}

/// Whether an error is a unique-key violation (both backends).
pub fn is_unique_violation(e: &sqlx::Error) -> bool {
    e.as_database_error()
        .is_some_and(|d| d.is_unique_violation())
}
