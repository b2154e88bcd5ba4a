//! The access log: every read of a case file or of personal data, with who read it, when and
//! what, kept in the `access_log` table of the service that holds the data (migration 0140 of
//! the brigade, the county, the board and the review service). A handler calls [`record`]
//! after the read is allowed and before it answers: a read that cannot be logged fails and
//! returns nothing. The town's judicial office reads the log through `AccessLogService`
//! ([`AccessLogApi`]), which each of those services serves beside its own API.
#![forbid(unsafe_code)]

use chrono::{DateTime, Utc};
use liandong_domain::auth::{Action, Actor, Resource, Role, permits};
use liandong_domain::ids::TownCode;
use liandong_proto::access::v1 as pb;
use tonic::{Request, Response, Status};

use liandong_grpc::{ApiError, actor, page_size};
use liandong_store::typed::decode_all;
use liandong_store::{Db, Migrations};

static PG: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");
static SQLITE: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");

/// The `access_log` table, in the database of every service that logs reads (version 140).
pub const MIGRATIONS: Migrations = Migrations {
    postgres: &PG,
    sqlite: &SQLITE,
};
use liandong_store::with_db;

/// What was read.
#[derive(Debug, Clone, Copy)]
pub struct Read<'a> {
    /// The call that read it (`GetCase`).
    pub rpc: &'a str,
    /// `case`, `record`, `documents`, `dossier`, `referral`, `inbox`, `review`, ...
    pub kind: &'a str,
    /// The resource's id, or for a list the scope listed.
    pub id: &'a str,
    /// The town the resource belongs to.
    pub town: &'a str,
    /// The department it is addressed to, if any.
    pub department: Option<&'a str>,
}

/// Logs that `actor` read `what` at `at`, as `service`.
pub async fn record(
    db: &Db,
    service: &str,
    at: DateTime<Utc>,
    actor: &Actor,
    what: Read<'_>,
) -> Result<(), ApiError> {
    let id = uuid::Uuid::now_v7().to_string();
    let agency = agency(actor);
    let department = what.department.unwrap_or("");
    with_db!(db, |pool| sqlx::query(
        "INSERT INTO access_log (id, at, officer, role, agency, service, rpc, resource_kind, \
         resource_id, town, department) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"
    )
    .bind(&id)
    .bind(at)
    .bind(actor.officer.as_str())
    .bind(actor.role.as_str())
    .bind(&agency)
    .bind(service)
    .bind(what.rpc)
    .bind(what.kind)
    .bind(what.id)
    .bind(what.town)
    .bind(department)
    .execute(pool)
    .await
    .map(|_| ()))
    .map_err(|e| ApiError::Internal(anyhow::Error::new(e).context("cannot log a read")))?;
    Ok(())
}

/// The agency the reader works for: their town or their department. A county-wide viewer has
/// neither, and is logged with no agency (its role says who it is).
fn agency(actor: &Actor) -> String {
    actor
        .town
        .as_ref()
        .map(ToString::to_string)
        .or_else(|| actor.department.as_ref().map(ToString::to_string))
        .unwrap_or_default()
}

/// The table's name, as a row that cannot be read is named.
pub const TABLE: &str = "access_log";

/// One logged read. The resource kind and the calling service are what the services say they
/// are (free labels such as `case` or `agenda_item`), not a set the log closes.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Row {
    pub id: String,
    pub at: DateTime<Utc>,
    pub officer: String,
    #[sqlx(try_from = "String")]
    pub role: Role,
    pub agency: String,
    pub service: String,
    pub rpc: String,
    pub resource_kind: String,
    pub resource_id: String,
    pub town: String,
    pub department: String,
}

/// The town's log as stored, newest first; only the reads of `resource_id` when it is not
/// empty. A row that cannot be read is an error naming it.
pub async fn rows(
    db: &Db,
    town: &str,
    resource_id: &str,
    limit: i64,
) -> Result<Vec<Row>, sqlx::Error> {
    with_db!(db, |pool| {
        let rows = sqlx::query(
            "SELECT id, at, officer, role, agency, service, rpc, resource_kind, resource_id, \
             town, department FROM access_log WHERE town = $1 AND ($2 = '' OR resource_id = $2) \
             ORDER BY at DESC, id DESC LIMIT $3",
        )
        .bind(town)
        .bind(resource_id)
        .bind(limit)
        .fetch_all(pool)
        .await?;
        decode_all(&rows, TABLE, "id")
    })
}

/// The town's log, newest first; only the reads of `resource_id` when it is not empty.
pub async fn list(
    db: &Db,
    town: &str,
    resource_id: &str,
    limit: i64,
) -> Result<Vec<pb::AccessEntry>, ApiError> {
    Ok(rows(db, town, resource_id, limit)
        .await?
        .into_iter()
        .map(|r| pb::AccessEntry {
            at: Some(liandong_proto::time::to_ts(r.at)),
            officer: r.officer,
            role: r.role.as_str().into(),
            agency: r.agency,
            service: r.service,
            rpc: r.rpc,
            resource_kind: r.resource_kind,
            resource_id: r.resource_id,
            town: r.town,
            department: r.department,
        })
        .collect())
}

/// `AccessLogService` over one service's log.
#[derive(Debug, Clone)]
pub struct AccessLogApi {
    db: Db,
}

impl AccessLogApi {
    pub fn new(db: Db) -> AccessLogApi {
        AccessLogApi { db }
    }
}

#[tonic::async_trait]
impl pb::access_log_service_server::AccessLogService for AccessLogApi {
    async fn list_access_log(
        &self,
        req: Request<pb::ListAccessLogRequest>,
    ) -> Result<Response<pb::ListAccessLogResponse>, Status> {
        let actor = actor(&req)?;
        let r = req.into_inner();
        let town = TownCode::parse(&r.town).map_err(|e| ApiError::field("town", e.to_string()))?;
        permits(
            &actor,
            Action::ReadAccessLog,
            &Resource {
                town: town.clone(),
                department: None,
            },
        )
        .map_err(ApiError::from)?;
        let entries = list(
            &self.db,
            town.as_str(),
            &r.resource_id,
            page_size(r.page_size, 100, 500),
        )
        .await?;
        Ok(Response::new(pb::ListAccessLogResponse { entries }))
    }
}

/// `AccessLogService` over the service's log in `db`, behind the token check like the
/// service's own API.
pub fn service(
    db: Db,
    authenticate: liandong_grpc::Authenticate,
) -> tonic::service::interceptor::InterceptedService<
    pb::access_log_service_server::AccessLogServiceServer<AccessLogApi>,
    liandong_grpc::Authenticate,
> {
    pb::access_log_service_server::AccessLogServiceServer::with_interceptor(
        AccessLogApi::new(db),
        authenticate,
    )
}
