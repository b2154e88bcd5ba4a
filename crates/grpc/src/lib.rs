//! gRPC edges shared by every service: the one error-to-status mapping, the actor verified
//! from the caller's signed token, and health and reflection.
#![forbid(unsafe_code)]

pub mod identity;
pub mod tls;

use std::sync::Arc;
use std::time::Duration;

use liandong_domain::auth::Actor;
use liandong_domain::limits::FieldViolation;
use tokio_util::sync::CancellationToken;
use tonic::{Code, Request, Status};
use tonic_health::ServingStatus;
use tonic_health::server::HealthReporter;
use tonic_types::{ErrorDetails, StatusExt};

use crate::identity::Verifier;
use liandong_bus::Bus;
use liandong_store::Db;

/// What a handler can fail with; every service maps it to a status here and nowhere else.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("invalid request: {}", describe(.0))]
    Invalid(Vec<FieldViolation>),
    #[error("{0}")]
    FailedPrecondition(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    PermissionDenied(String),
    #[error("{0}")]
    Unauthenticated(String),
    #[error("internal error")]
    Internal(#[source] anyhow::Error),
}

fn describe(v: &[FieldViolation]) -> String {
    v.iter()
        .map(|f| format!("{}: {}", f.field, f.description))
        .collect::<Vec<_>>()
        .join("; ")
}

impl ApiError {
    /// One invalid field.
    pub fn field(field: impl Into<String>, description: impl Into<String>) -> Self {
        ApiError::Invalid(vec![FieldViolation {
            field: field.into(),
            description: description.into(),
        }])
    }
}

impl From<sqlx::Error> for ApiError {
    fn from(e: sqlx::Error) -> Self {
        ApiError::Internal(e.into())
    }
}

impl From<liandong_bus::BusError> for ApiError {
    fn from(e: liandong_bus::BusError) -> Self {
        ApiError::Internal(e.into())
    }
}

impl From<liandong_domain::state::TransitionError> for ApiError {
    fn from(e: liandong_domain::state::TransitionError) -> Self {
        ApiError::FailedPrecondition(e.to_string())
    }
}

impl From<liandong_domain::auth::Denied> for ApiError {
    fn from(e: liandong_domain::auth::Denied) -> Self {
        ApiError::PermissionDenied(e.reason)
    }
}

/// The most violations an `InvalidArgument` answer lists, and the most bytes of one
/// violation's description and of any answer's message. An answer may echo what the caller
/// sent, and gRPC carries it in headers (the message percent-encoded, the details in base64),
/// which a peer refuses past 16 KiB: schemathesis found fifty 300-character department codes
/// turning a 400 into the gateway's "h2 protocol error" 500.
pub const MAX_VIOLATIONS_SHOWN: usize = 10;
pub const MAX_DESCRIPTION_BYTES: usize = 256;
pub const MAX_MESSAGE_BYTES: usize = 1024;

/// `s` cut to at most `max` bytes at a character boundary, marked with `…` when cut.
fn bounded(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_owned();
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &s[..end])
}

impl From<ApiError> for Status {
    fn from(e: ApiError) -> Status {
        match e {
            ApiError::Invalid(violations) => {
                let more = violations.len().saturating_sub(MAX_VIOLATIONS_SHOWN);
                let shown: Vec<FieldViolation> = violations
                    .into_iter()
                    .take(MAX_VIOLATIONS_SHOWN)
                    .map(|v| FieldViolation {
                        field: bounded(&v.field, MAX_DESCRIPTION_BYTES),
                        description: bounded(&v.description, MAX_DESCRIPTION_BYTES),
                    })
                    .collect();
                let mut message = format!("invalid request: {}", describe(&shown));
                if more > 0 {
                    message.push_str(&format!(" (and {more} more)"));
                }
                let mut details = ErrorDetails::new();
                for v in shown {
                    details.add_bad_request_violation(v.field, v.description);
                }
                Status::with_error_details(
                    Code::InvalidArgument,
                    bounded(&message, MAX_MESSAGE_BYTES),
                    details,
                )
            }
            ApiError::FailedPrecondition(m) => {
                Status::failed_precondition(bounded(&m, MAX_MESSAGE_BYTES))
            }
            ApiError::NotFound(m) => Status::not_found(bounded(&m, MAX_MESSAGE_BYTES)),
            ApiError::PermissionDenied(m) => {
                Status::permission_denied(bounded(&m, MAX_MESSAGE_BYTES))
            }
            ApiError::Unauthenticated(m) => Status::unauthenticated(bounded(&m, MAX_MESSAGE_BYTES)),
            ApiError::Internal(e) if is_transient(&e) => {
                // Busy or unreachable storage, or the broker: nothing is wrong with the call,
                // and the same call a moment later may well succeed.
                tracing::warn!(error = ?e, "A request failed for a passing reason; the caller may retry.");
                let mut details = ErrorDetails::new();
                details.set_retry_info(Some(RETRY_AFTER));
                Status::with_error_details(
                    Code::Unavailable,
                    "temporarily unavailable (storage or broker busy or unreachable); retry shortly",
                    details,
                )
            }
            ApiError::Internal(e) => {
                // The cause is logged with its chain; the caller learns only that it failed.
                tracing::error!(error = ?e, "A request failed with an internal error.");
                Status::internal("internal error")
            }
        }
    }
}

/// How long a caller told UNAVAILABLE is asked to wait before it tries again
/// (`google.rpc.RetryInfo`; the gateway's `Retry-After`).
pub const RETRY_AFTER: Duration = Duration::from_secs(1);

/// Whether an error is a passing condition of the storage or the broker, which the caller
/// should retry (UNAVAILABLE) rather than a fault (INTERNAL): SQLite busy or locked, a pool
/// whose connections are all taken or that cannot reach its server, PostgreSQL's connection
/// errors, shutdowns, serialization failures, deadlocks and lock timeouts, NATS unreachable.
/// Looks through the whole chain of causes, so a handler's context does not hide it.
pub fn is_transient(e: &anyhow::Error) -> bool {
    e.chain().any(|cause| {
        if let Some(e) = cause.downcast_ref::<sqlx::Error>() {
            return is_transient_sqlx(e);
        }
        if let Some(e) = cause.downcast_ref::<liandong_bus::BusError>() {
            return match e {
                liandong_bus::BusError::Connect { .. } | liandong_bus::BusError::JetStream(_) => {
                    true
                }
                liandong_bus::BusError::Db(e) => is_transient_sqlx(e),
                liandong_bus::BusError::Decode(_) | liandong_bus::BusError::Keys(_) => false,
            };
        }
        false
    })
}

/// [`is_transient`] for one database error.
pub fn is_transient_sqlx(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_) => true,
        sqlx::Error::Database(d) => {
            let code = d.code().map(|c| c.into_owned()).unwrap_or_default();
            if d.try_downcast_ref::<sqlx::sqlite::SqliteError>().is_some() {
                // SQLITE_BUSY (5) and SQLITE_LOCKED (6), with their extended codes.
                return code.parse::<i64>().is_ok_and(|c| matches!(c & 0xff, 5 | 6));
            }
            // SQLSTATE: connection exceptions, insufficient resources (too many
            // connections), operator intervention (shutting down, cannot connect now),
            // serialization failure, deadlock, lock not available.
            code.starts_with("08")
                || code.starts_with("53")
                || code.starts_with("57P")
                || matches!(code.as_str(), "40001" | "40P01" | "55P03")
        }
        _ => false,
    }
}

/// The metadata key (and HTTP header) carrying the caller's signed token: `Bearer <JWT>`.
pub const AUTHORIZATION: &str = "authorization";

/// A tonic interceptor that verifies the caller's signed token (`crate::identity`) and puts
/// the [`Actor`] it names into the request's extensions. No token, a malformed, forged,
/// expired or retired one: `Unauthenticated`. What the actor may do is decided later, by
/// `liandong_domain::auth::permits` in the handler.
#[derive(Debug, Clone)]
pub struct Authenticate(Arc<Verifier>);

impl Authenticate {
    pub fn new(verifier: Arc<Verifier>) -> Authenticate {
        Authenticate(verifier)
    }
}

impl tonic::service::Interceptor for Authenticate {
    fn call(&mut self, mut req: Request<()>) -> Result<Request<()>, Status> {
        let value =
            match req.metadata().get(AUTHORIZATION) {
                None => None,
                Some(v) => Some(v.to_str().map_err(|_| {
                    Status::unauthenticated("the authorization metadata is not ASCII")
                })?),
            };
        let actor = self.0.verify_bearer(value).map_err(|e| {
            tracing::info!(reason = %e, "Refused a caller.");
            Status::unauthenticated(e.to_string())
        })?;
        req.extensions_mut().insert(actor);
        Ok(req)
    }
}

/// The actor the interceptor put on a request.
pub fn actor<T>(req: &Request<T>) -> Result<Actor, ApiError> {
    req.extensions()
        .get::<Actor>()
        .cloned()
        .ok_or_else(|| ApiError::Unauthenticated("no caller on the request".into()))
}

/// Health and reflection services for a service whose gRPC name is `service_name`.
pub fn health_and_reflection() -> (
    HealthReporter,
    tonic_health::pb::health_server::HealthServer<impl tonic_health::pb::health_server::Health>,
    tonic_reflection::server::v1::ServerReflectionServer<
        impl tonic_reflection::server::v1::ServerReflection,
    >,
) {
    let (reporter, health) = tonic_health::server::health_reporter();
    let reflection = tonic_reflection::server::Builder::configure()
        .register_encoded_file_descriptor_set(liandong_proto::FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
        .build_v1()
        .expect("the compiled descriptor sets are valid");
    (reporter, health, reflection)
}

/// Keeps readiness true while the database and NATS answer, for `""` and `service_name`.
pub async fn report_readiness(
    reporter: HealthReporter,
    service_name: &'static str,
    db: Db,
    bus: Bus,
    stop: CancellationToken,
) {
    let mut last = None;
    loop {
        let ready = bus.connected() && db.ping().await;
        if last != Some(ready) {
            let status = if ready {
                ServingStatus::Serving
            } else {
                ServingStatus::NotServing
            };
            reporter.set_service_status("", status).await;
            reporter.set_service_status(service_name, status).await;
            if !ready {
                tracing::warn!("Not ready: the database or NATS does not answer.");
            }
            last = Some(ready);
        }
        tokio::select! {
            _ = stop.cancelled() => {
                reporter.set_service_status("", ServingStatus::NotServing).await;
                reporter.set_service_status(service_name, ServingStatus::NotServing).await;
                return;
            }
            _ = tokio::time::sleep(Duration::from_secs(1)) => {}
        }
    }
}

/// The actor as events carry it.
pub fn actor_to_event(a: &Actor) -> liandong_proto::events::v1::Actor {
    liandong_proto::events::v1::Actor {
        officer_id: a.officer.to_string(),
        role: a.role.as_str().to_owned(),
        town: a.town.as_ref().map(ToString::to_string).unwrap_or_default(),
        department: a
            .department
            .as_ref()
            .map(ToString::to_string)
            .unwrap_or_default(),
        certificate_no: String::new(),
    }
}

/// The actor as events carry it, with the enforcement certificate the action was taken under
/// (持证上岗: the record keeps which certificate each enforcement action used).
pub fn actor_to_event_certified(
    a: &Actor,
    certificate_no: &str,
) -> liandong_proto::events::v1::Actor {
    liandong_proto::events::v1::Actor {
        certificate_no: certificate_no.to_owned(),
        ..actor_to_event(a)
    }
}

/// How an actor is named in a history: `officer (role@town-or-department)`.
pub fn actor_label(a: &Actor) -> String {
    let home = a
        .town
        .as_ref()
        .map(ToString::to_string)
        .or_else(|| a.department.as_ref().map(ToString::to_string))
        .unwrap_or_else(|| "county".into());
    format!("{} ({}@{home})", a.officer, a.role.as_str())
}

/// How an event's actor is named in a history.
pub fn event_actor_label(a: Option<&liandong_proto::events::v1::Actor>) -> String {
    match a {
        Some(a) => {
            let home = if a.town.is_empty() {
                &a.department
            } else {
                &a.town
            };
            format!("{} ({}@{home})", a.officer_id, a.role)
        }
        None => "system".into(),
    }
}

/// A page size within `1..=max`, `default` when unset.
pub fn page_size(requested: u32, default: u32, max: u32) -> i64 {
    i64::from(if requested == 0 {
        default
    } else {
        requested.min(max)
    })
}

/// The decision `o` as it takes effect at `now`: dated (作出之日) as its body dated it, or
/// else with `now`'s day in China. The disclosure's clock runs from that date.
pub fn dated(
    o: &liandong_proto::events::v1::Outcome,
    now: chrono::DateTime<chrono::Utc>,
) -> liandong_proto::events::v1::Outcome {
    let mut o = o.clone();
    if liandong_domain::outcome::decision_date(&o.decided_on).is_none() {
        o.decided_on = liandong_domain::calendar::Calendar::local_date(now).to_string();
    }
    o
}

/// An outcome as the domain checks it (`liandong_domain::outcome::check_outcome`).
pub fn outcome_input(
    o: &liandong_proto::events::v1::Outcome,
) -> liandong_domain::outcome::OutcomeInput<'_> {
    liandong_domain::outcome::OutcomeInput {
        kind: &o.kind,
        fine_fen: o.fine_fen,
        confiscated: o
            .confiscated
            .iter()
            .map(|c| liandong_domain::outcome::ItemInput {
                kind: &c.kind,
                count: c.count,
                unit: &c.unit,
            })
            .collect(),
        orders: o.orders.iter().map(String::as_str).collect(),
        summary: &o.summary,
        decided_on: &o.decided_on,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header_bytes(status: &Status) -> usize {
        status
            .clone()
            .into_http::<()>()
            .headers()
            .iter()
            .map(|(k, v)| k.as_str().len() + v.len())
            .sum()
    }

    #[test]
    fn an_invalid_answer_echoing_huge_input_stays_small_and_still_names_the_field() {
        let echoed = "ä\u{5e513}\u{12}".repeat(100);
        let violations: Vec<FieldViolation> = (0..50)
            .map(|i| FieldViolation {
                field: format!("cooperating_departments[{i}]"),
                description: format!("invalid department code {echoed:?}"),
            })
            .collect();
        let status = Status::from(ApiError::Invalid(violations));
        assert_eq!(status.code(), Code::InvalidArgument);
        assert!(
            status.message().starts_with(
                "invalid request: cooperating_departments[0]: invalid department code"
            )
        );
        assert!(status.message().ends_with('…'), "{}", status.message());
        assert!(status.message().len() <= MAX_MESSAGE_BYTES + '…'.len_utf8());
        let details = status.get_error_details();
        let listed = details
            .bad_request()
            .expect("violations")
            .field_violations
            .len();
        assert_eq!(listed, MAX_VIOLATIONS_SHOWN);
        // Far below the 16 KiB a peer accepts in headers.
        assert!(
            header_bytes(&status) < 8 * 1024,
            "{}",
            header_bytes(&status)
        );
    }

    #[test]
    fn a_short_invalid_answer_is_whole_and_counts_what_it_leaves_out() {
        let violations: Vec<FieldViolation> = (0..12)
            .map(|i| FieldViolation {
                field: format!("f{i}"),
                description: "is required".into(),
            })
            .collect();
        let status = Status::from(ApiError::Invalid(violations));
        assert!(
            status.message().ends_with("f9: is required (and 2 more)"),
            "{}",
            status.message()
        );
        let long = ApiError::NotFound(format!("no agenda item {}", "x".repeat(5000)));
        assert!(Status::from(long).message().len() < 1100);
    }

    #[test]
    fn passing_storage_and_broker_errors_answer_unavailable_with_a_retry_hint() {
        let busy = ApiError::from(sqlx::Error::PoolTimedOut);
        let status = Status::from(busy);
        assert_eq!(status.code(), Code::Unavailable);
        assert_eq!(
            status.get_details_retry_info().and_then(|r| r.retry_delay),
            Some(RETRY_AFTER)
        );
        // Behind a handler's context too.
        let wrapped = ApiError::Internal(
            anyhow::Error::new(sqlx::Error::PoolTimedOut).context("cannot report the case"),
        );
        assert_eq!(Status::from(wrapped).code(), Code::Unavailable);
        let broker = ApiError::from(liandong_bus::BusError::JetStream("timed out".into()));
        assert_eq!(Status::from(broker).code(), Code::Unavailable);
        // A fault is still a fault.
        let fault = ApiError::from(sqlx::Error::RowNotFound);
        assert_eq!(Status::from(fault).code(), Code::Internal);
        let keys = ApiError::from(liandong_bus::BusError::Keys("no key".into()));
        assert_eq!(Status::from(keys).code(), Code::Internal);
    }
}
