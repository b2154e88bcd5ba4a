//! The one mapping from a failed call (a gRPC status, or a request the gateway refused) to an
//! HTTP response with a JSON error body.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use tonic::Code;
use tonic_types::StatusExt;

/// One invalid field, as `google.rpc.BadRequest` names it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldViolation {
    pub field: String,
    pub description: String,
}

/// An error as the caller sees it: HTTP status, gRPC code name, message and field violations.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GatewayError {
    pub status: StatusCode,
    pub code: Code,
    pub message: String,
    pub field_violations: Vec<FieldViolation>,
    /// For UNAVAILABLE: how long the service asked the caller to wait (its
    /// `google.rpc.RetryInfo`), sent as `Retry-After`.
    pub retry_after: Option<std::time::Duration>,
}

/// The `Retry-After` of an UNAVAILABLE answer whose service named no delay, in seconds.
pub const DEFAULT_RETRY_AFTER_SECS: u64 = 1;

/// The JSON body of every error.
#[derive(Serialize)]
struct ErrorBody<'a> {
    code: &'static str,
    message: &'a str,
    #[serde(skip_serializing_if = "<[FieldViolation]>::is_empty")]
    field_violations: &'a [FieldViolation],
}

impl GatewayError {
    /// An error the gateway itself answers with, without calling a service.
    pub fn new(code: Code, message: impl Into<String>) -> Self {
        GatewayError {
            status: http_status(code),
            code,
            message: message.into(),
            field_violations: Vec::new(),
            retry_after: None,
        }
    }

    /// A request refused because of one field.
    pub fn invalid_field(field: impl Into<String>, description: impl Into<String>) -> Self {
        let field = field.into();
        let description = description.into();
        GatewayError {
            message: format!("invalid request: {field}: {description}"),
            field_violations: vec![FieldViolation { field, description }],
            ..GatewayError::new(Code::InvalidArgument, "")
        }
    }

    /// A request refused for a reason no single field carries.
    pub fn invalid(message: impl Into<String>) -> Self {
        GatewayError::new(Code::InvalidArgument, message)
    }

    /// Overrides the HTTP status where HTTP has a closer one than the gRPC code's (413, 405).
    pub fn with_status(mut self, status: StatusCode) -> Self {
        self.status = status;
        self
    }
}

impl From<tonic::Status> for GatewayError {
    fn from(status: tonic::Status) -> Self {
        let field_violations = status
            .get_details_bad_request()
            .map(|b| {
                b.field_violations
                    .into_iter()
                    .map(|v| FieldViolation {
                        field: v.field,
                        description: v.description,
                    })
                    .collect()
            })
            .unwrap_or_default();
        let retry_after = status.get_details_retry_info().and_then(|r| r.retry_delay);
        GatewayError {
            status: http_status(status.code()),
            code: status.code(),
            message: status.message().to_owned(),
            field_violations,
            retry_after,
        }
    }
}

impl IntoResponse for GatewayError {
    fn into_response(self) -> Response {
        let body = ErrorBody {
            code: code_name(self.code),
            message: &self.message,
            field_violations: &self.field_violations,
        };
        let mut response = (self.status, Json(body)).into_response();
        // A caller told 503 learns when to try again: the delay the service asked for,
        // rounded up to whole seconds, or a second.
        if self.status == StatusCode::SERVICE_UNAVAILABLE {
            let secs = self
                .retry_after
                .map(|d| d.as_secs() + u64::from(d.subsec_nanos() > 0))
                .unwrap_or(DEFAULT_RETRY_AFTER_SECS)
                .max(1);
            response
                .headers_mut()
                .insert(axum::http::header::RETRY_AFTER, secs.into());
        }
        response
    }
}

/// The HTTP status for a gRPC code.
pub fn http_status(code: Code) -> StatusCode {
    match code {
        Code::Ok => StatusCode::OK,
        Code::InvalidArgument | Code::OutOfRange => StatusCode::BAD_REQUEST,
        Code::Unauthenticated => StatusCode::UNAUTHORIZED,
        Code::PermissionDenied => StatusCode::FORBIDDEN,
        Code::NotFound => StatusCode::NOT_FOUND,
        Code::FailedPrecondition | Code::AlreadyExists | Code::Aborted => StatusCode::CONFLICT,
        Code::ResourceExhausted => StatusCode::TOO_MANY_REQUESTS,
        Code::Unimplemented => StatusCode::NOT_IMPLEMENTED,
        Code::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        Code::DeadlineExceeded => StatusCode::GATEWAY_TIMEOUT,
        Code::Cancelled | Code::Unknown | Code::Internal | Code::DataLoss => {
            StatusCode::INTERNAL_SERVER_ERROR
        }
    }
}

/// The snake_case name of a gRPC code, as error bodies carry it.
pub fn code_name(code: Code) -> &'static str {
    match code {
        Code::Ok => "ok",
        Code::Cancelled => "cancelled",
        Code::Unknown => "unknown",
        Code::InvalidArgument => "invalid_argument",
        Code::DeadlineExceeded => "deadline_exceeded",
        Code::NotFound => "not_found",
        Code::AlreadyExists => "already_exists",
        Code::PermissionDenied => "permission_denied",
        Code::ResourceExhausted => "resource_exhausted",
        Code::FailedPrecondition => "failed_precondition",
        Code::Aborted => "aborted",
        Code::OutOfRange => "out_of_range",
        Code::Unimplemented => "unimplemented",
        Code::Internal => "internal",
        Code::Unavailable => "unavailable",
        Code::DataLoss => "data_loss",
        Code::Unauthenticated => "unauthenticated",
    }
}

/// Every code name an error body may carry, for the OpenAPI document.
pub const CODE_NAMES: [&str; 17] = [
    "ok",
    "cancelled",
    "unknown",
    "invalid_argument",
    "deadline_exceeded",
    "not_found",
    "already_exists",
    "permission_denied",
    "resource_exhausted",
    "failed_precondition",
    "aborted",
    "out_of_range",
    "unimplemented",
    "internal",
    "unavailable",
    "data_loss",
    "unauthenticated",
];

#[cfg(test)]
mod tests {
    use super::*;
    use tonic_types::ErrorDetails;

    fn check(code: Code, expected: StatusCode) {
        assert_eq!(http_status(code), expected, "{code:?}");
    }

    #[test]
    fn grpc_codes_map_to_http_statuses() {
        check(Code::InvalidArgument, StatusCode::BAD_REQUEST);
        check(Code::Unauthenticated, StatusCode::UNAUTHORIZED);
        check(Code::PermissionDenied, StatusCode::FORBIDDEN);
        check(Code::NotFound, StatusCode::NOT_FOUND);
        check(Code::FailedPrecondition, StatusCode::CONFLICT);
        check(Code::AlreadyExists, StatusCode::CONFLICT);
        check(Code::Aborted, StatusCode::CONFLICT);
        check(Code::Unavailable, StatusCode::SERVICE_UNAVAILABLE);
        check(Code::DeadlineExceeded, StatusCode::GATEWAY_TIMEOUT);
        check(Code::Internal, StatusCode::INTERNAL_SERVER_ERROR);
        check(Code::Unknown, StatusCode::INTERNAL_SERVER_ERROR);
        check(Code::DataLoss, StatusCode::INTERNAL_SERVER_ERROR);
    }

    #[test]
    fn unavailable_answers_503_with_the_retry_after_the_service_asked_for() {
        let mut details = ErrorDetails::new();
        details.set_retry_info(Some(std::time::Duration::from_millis(2_500)));
        let status = tonic::Status::with_error_details(Code::Unavailable, "busy", details);
        let response = GatewayError::from(status).into_response();
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(response.headers()["retry-after"], "3");
        // Without a delay named: a second.
        let response = GatewayError::from(tonic::Status::unavailable("down")).into_response();
        assert_eq!(response.headers()["retry-after"], "1");
        // Other errors carry none.
        let response = GatewayError::from(tonic::Status::internal("x")).into_response();
        assert!(response.headers().get("retry-after").is_none());
    }

    #[test]
    fn every_code_has_a_listed_name() {
        for i in 0..=16 {
            assert!(CODE_NAMES.contains(&code_name(Code::from_i32(i))));
        }
    }

    #[test]
    fn field_violations_come_from_the_bad_request_details() {
        let mut details = ErrorDetails::new();
        details.add_bad_request_violation("town", "must be a 9-digit division code");
        let status = tonic::Status::with_error_details(
            Code::InvalidArgument,
            "invalid request: town: must be a 9-digit division code",
            details,
        );
        let e = GatewayError::from(status);
        assert_eq!(e.status, StatusCode::BAD_REQUEST);
        assert_eq!(
            e.field_violations,
            vec![FieldViolation {
                field: "town".into(),
                description: "must be a 9-digit division code".into()
            }]
        );
    }

    #[tokio::test]
    async fn the_body_names_the_code_message_and_fields() {
        let e = GatewayError::invalid_field("pageSize", "expected a number");
        let response = e.into_response();
        assert_eq!(response.status(), StatusCode::BAD_REQUEST);
        let bytes = axum::body::to_bytes(response.into_body(), 4096)
            .await
            .unwrap();
        let body: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(body["code"], "invalid_argument");
        assert_eq!(body["field_violations"][0]["field"], "pageSize");
        assert_eq!(
            body["message"],
            "invalid request: pageSize: expected a number"
        );
    }

    #[test]
    fn a_status_without_details_has_no_violations() {
        let e = GatewayError::from(tonic::Status::failed_precondition("already concluded"));
        assert_eq!(e.status, StatusCode::CONFLICT);
        assert_eq!(e.message, "already concluded");
        assert!(e.field_violations.is_empty());
    }
}
