//! One HTTP request to one unary RPC: the JSON request assembled from body, path and query,
//! the caller's signed token forwarded as metadata, the reply rendered as JSON or Markdown.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use axum::http::HeaderMap;
use axum::http::uri::PathAndQuery;
use liandong_grpc::AUTHORIZATION;
use prost_types::field_descriptor_proto::Type;
use serde_json::{Map, Value};
use tonic::Code;
use tonic::metadata::MetadataValue;
use tonic::transport::Channel;

use crate::descriptors::{Field, Kind, MessageInfo};
use crate::error::GatewayError;

/// How long a call may take before the caller gets 504.
pub const CALL_TIMEOUT: Duration = Duration::from_secs(30);

/// The headers that name the caller, forwarded unchanged: the services verify the token again
/// and decide what they allow, and the gateway adds no authority of its own.
pub const IDENTITY_HEADERS: [&str; 1] = [AUTHORIZATION];

/// The query parameter that picks an alternative representation of the response.
pub const FORMAT_PARAM: &str = "format";

/// A route's call, monomorphised for its request and response types.
pub type Invoke = fn(
    Channel,
    String,
    Value,
    HeaderMap,
) -> Pin<Box<dyn Future<Output = Result<Value, GatewayError>> + Send>>;

/// Deserialises `json` into `Req` (proto3 JSON), calls `grpc_path` on `channel` with the
/// caller's identity, and returns the response as proto3 JSON.
pub fn invoke<Req, Resp>(
    channel: Channel,
    grpc_path: String,
    json: Value,
    headers: HeaderMap,
) -> Pin<Box<dyn Future<Output = Result<Value, GatewayError>> + Send>>
where
    Req: prost::Message + Default + serde::de::DeserializeOwned + Send + Sync + 'static,
    Resp: prost::Message + Default + serde::Serialize + Send + Sync + 'static,
{
    Box::pin(async move {
        let message: Req = parse_message(json)?;
        let mut request = tonic::Request::new(message);
        forward_identity(&headers, request.metadata_mut())?;
        forward_trace(&headers, request.metadata_mut());
        let path = PathAndQuery::try_from(grpc_path)
            .map_err(|e| GatewayError::new(Code::Internal, format!("bad RPC path: {e}")))?;
        let call = async {
            let mut grpc = tonic::client::Grpc::new(channel);
            grpc.ready().await.map_err(|e| {
                tonic::Status::unavailable(format!("the service is not ready: {e}"))
            })?;
            grpc.unary(
                request,
                path,
                tonic_prost::ProstCodec::<Req, Resp>::default(),
            )
            .await
        };
        let response = tokio::time::timeout(CALL_TIMEOUT, call)
            .await
            .map_err(|_| {
                GatewayError::new(
                    Code::DeadlineExceeded,
                    format!(
                        "the service did not answer within {} s",
                        CALL_TIMEOUT.as_secs()
                    ),
                )
            })??;
        serde_json::to_value(response.get_ref()).map_err(|e| {
            GatewayError::new(Code::Internal, format!("cannot render the response: {e}"))
        })
    })
}

/// Deserialises a proto3 JSON value, naming the field serde stopped at.
pub fn parse_message<T: serde::de::DeserializeOwned>(json: Value) -> Result<T, GatewayError> {
    serde_path_to_error::deserialize(json).map_err(|e| {
        let field = e.path().to_string();
        let description = e.into_inner().to_string();
        // An unknown field named "" (`{"": 1}`) leaves no path to name: found by the fuzz
        // target gateway_json, which found the violation naming the field "".
        if field == "." || field.is_empty() {
            GatewayError::invalid(format!("invalid request: {description}"))
        } else {
            GatewayError::invalid_field(field, description)
        }
    })
}

fn forward_identity(
    headers: &HeaderMap,
    metadata: &mut tonic::metadata::MetadataMap,
) -> Result<(), GatewayError> {
    for key in IDENTITY_HEADERS {
        if let Some(value) = headers.get(key) {
            let value = MetadataValue::try_from(value.as_bytes()).map_err(|_| {
                GatewayError::new(
                    Code::Unauthenticated,
                    format!("the {key} header is not a valid metadata value"),
                )
            })?;
            metadata.insert(key, value);
        }
    }
    Ok(())
}

/// Passes on the client's W3C trace context (`traceparent`), so the service's span continues
/// the client's trace; a value that is not valid metadata is left out, never an error.
fn forward_trace(headers: &HeaderMap, metadata: &mut tonic::metadata::MetadataMap) {
    let key = liandong_telemetry::TRACEPARENT;
    if let Some(value) = headers
        .get(key)
        .and_then(|v| MetadataValue::try_from(v.as_bytes()).ok())
    {
        metadata.insert(key, value);
    }
}

/// Which representation the caller asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Json,
    Markdown,
}

/// The request message as proto3 JSON: the body (an object, or nothing), then the path
/// parameters, then the query parameters. Path parameters win over the same field in the
/// body, so a URL always names what it acts on.
pub fn assemble(
    message: &MessageInfo,
    body: Option<&[u8]>,
    path: &[(String, String)],
    query: &[(String, String)],
    allow_markdown: bool,
) -> Result<(Value, Format), GatewayError> {
    let mut object = match body {
        Some(bytes) if !bytes.iter().all(u8::is_ascii_whitespace) => {
            match serde_json::from_slice::<Value>(bytes) {
                Ok(Value::Object(o)) => o,
                Ok(_) => return Err(GatewayError::invalid("the body must be a JSON object")),
                Err(e) => {
                    return Err(GatewayError::invalid(format!(
                        "the body is not valid JSON: {e}"
                    )));
                }
            }
        }
        _ => Map::new(),
    };
    for (name, value) in path {
        let field = message.field(name).ok_or_else(|| {
            GatewayError::new(
                Code::Internal,
                format!("no field for path parameter {name}"),
            )
        })?;
        set(&mut object, field, Value::String(value.clone()));
    }
    let mut format = Format::Json;
    let mut queried: Vec<(&Field, Vec<&str>)> = Vec::new();
    for (name, value) in query {
        if name.is_empty() {
            // `?=x`: nothing to name in a field violation.
            return Err(GatewayError::invalid(
                "a query parameter has no name (\"=value\" without one before it)",
            ));
        }
        if name == FORMAT_PARAM && allow_markdown {
            format = match value.as_str() {
                "json" => Format::Json,
                "markdown" => Format::Markdown,
                _ => {
                    return Err(GatewayError::invalid_field(
                        FORMAT_PARAM,
                        "expected \"json\" or \"markdown\"",
                    ));
                }
            };
            continue;
        }
        let field = message
            .field(name)
            .filter(|f| query_field(f) && !path.iter().any(|(p, _)| p == &f.name))
            .ok_or_else(|| {
                GatewayError::invalid_field(name.clone(), "not a query parameter of this route")
            })?;
        match queried.iter_mut().find(|(f, _)| f.name == field.name) {
            Some((_, values)) => values.push(value),
            None => queried.push((field, vec![value])),
        }
    }
    for (field, values) in queried {
        let value = if field.repeated {
            Value::Array(
                values
                    .iter()
                    .map(|v| query_value(field, v))
                    .collect::<Result<_, _>>()?,
            )
        } else if let [one] = values.as_slice() {
            query_value(field, one)?
        } else {
            return Err(GatewayError::invalid_field(
                field.name.clone(),
                "given more than once",
            ));
        };
        set(&mut object, field, value);
    }
    Ok((Value::Object(object), format))
}

/// Whether a field can come from the query string: scalars and enums, repeated or not.
pub fn query_field(field: &Field) -> bool {
    !matches!(field.kind, Kind::Message(_))
}

/// Replaces the field under either of its names, so pbjson never sees it twice.
fn set(object: &mut Map<String, Value>, field: &Field, value: Value) {
    object.remove(&field.json_name);
    object.remove(&field.name);
    object.insert(field.name.clone(), value);
}

/// A query string value as the JSON pbjson expects for the field: booleans as booleans,
/// everything else as a string (proto3 JSON accepts numbers quoted).
fn query_value(field: &Field, raw: &str) -> Result<Value, GatewayError> {
    match field.kind {
        Kind::Scalar(Type::Bool) => match raw {
            "true" | "1" => Ok(Value::Bool(true)),
            "false" | "0" => Ok(Value::Bool(false)),
            _ => Err(GatewayError::invalid_field(
                field.name.clone(),
                "expected true or false",
            )),
        },
        _ => Ok(Value::String(raw.to_owned())),
    }
}

#[cfg(test)]
mod tests {
    use liandong_proto::json::board::v1 as board;
    use liandong_proto::json::brigade::v1 as brigade;
    use serde_json::json;

    use super::*;
    use crate::descriptors::Descriptors;

    fn message(name: &str) -> MessageInfo {
        let d = Descriptors::decode(liandong_proto::FILE_DESCRIPTOR_SET).unwrap();
        d.messages[name].clone()
    }

    fn pairs(p: &[(&str, &str)]) -> Vec<(String, String)> {
        p.iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn query_parameters_fill_typed_fields() {
        let m = message("liandong.board.v1.ListAgendaRequest");
        let (json, format) = assemble(
            &m,
            None,
            &pairs(&[("town", "330122101")]),
            &pairs(&[("include_decided", "true"), ("pageSize", "20")]),
            false,
        )
        .unwrap();
        assert_eq!(format, Format::Json);
        let req: board::ListAgendaRequest = parse_message(json).unwrap();
        assert_eq!(req.town, "330122101");
        assert!(req.include_decided);
        assert_eq!(req.page_size, 20);
    }

    #[test]
    fn the_path_wins_over_the_body() {
        let m = message("liandong.brigade.v1.AssignCaseRequest");
        let body = br#"{"caseId": "elsewhere", "officers": ["o1", "o2"]}"#;
        let (json, _) =
            assemble(&m, Some(body), &pairs(&[("case_id", "c-1")]), &[], false).unwrap();
        let req: brigade::AssignCaseRequest = parse_message(json).unwrap();
        assert_eq!(req.case_id, "c-1");
        assert_eq!(req.officers, ["o1", "o2"]);
    }

    #[test]
    fn proto_names_and_camel_case_are_both_accepted() {
        let camel: brigade::ReportCaseRequest = parse_message(json!({
            "town": "330122101",
            "source": "CASE_SOURCE_PATROL",
            "foundAt": "2026-03-01T08:30:00+08:00",
            "evidenceRefs": ["photo-1"]
        }))
        .unwrap();
        let snake: brigade::ReportCaseRequest = parse_message(json!({
            "town": "330122101",
            "source": "CASE_SOURCE_PATROL",
            "found_at": "2026-03-01T00:30:00Z",
            "evidence_refs": ["photo-1"]
        }))
        .unwrap();
        assert_eq!(camel, snake);
        assert_eq!(camel.found_at.unwrap().seconds, 1_772_325_000);
    }

    #[test]
    fn responses_use_the_canonical_mapping() {
        let resp = brigade::ReportCaseResponse {
            case: Some(brigade::Case {
                case_id: "c-1".into(),
                found_at: Some(pbjson_types::Timestamp {
                    seconds: 1_772_325_000,
                    nanos: 0,
                }),
                source: brigade::CaseSource::Hotline12345 as i32,
                ..Default::default()
            }),
        };
        let json = serde_json::to_value(&resp).unwrap();
        assert_eq!(
            json,
            json!({"case": {
                "caseId": "c-1",
                "source": "CASE_SOURCE_HOTLINE_12345",
                "foundAt": "2026-03-01T00:30:00+00:00"
            }})
        );
    }

    #[test]
    fn a_wrong_type_names_the_field() {
        let err = parse_message::<brigade::ReportCaseRequest>(json!({
            "triageOverride": {"path": 7.5}
        }))
        .unwrap_err();
        assert_eq!(err.code, Code::InvalidArgument);
        assert_eq!(err.field_violations[0].field, "triageOverride.path");
    }

    #[test]
    fn malformed_json_is_refused_before_any_call() {
        let m = message("liandong.brigade.v1.ReportCaseRequest");
        let err = assemble(&m, Some(b"{\"town\": "), &[], &[], false).unwrap_err();
        assert_eq!(err.code, Code::InvalidArgument);
        assert!(
            err.message.starts_with("the body is not valid JSON"),
            "{}",
            err.message
        );
        let err = assemble(&m, Some(b"[1]"), &[], &[], false).unwrap_err();
        assert_eq!(err.message, "the body must be a JSON object");
    }

    #[test]
    fn unknown_fields_are_refused() {
        let err = parse_message::<brigade::GetCaseRequest>(json!({"caseID": "x"})).unwrap_err();
        assert!(err.message.contains("unknown field"), "{}", err.message);
    }

    #[test]
    fn a_field_without_a_name_is_refused_without_naming_one() {
        let err = parse_message::<brigade::AssignCaseRequest>(json!({"": ["x"]})).unwrap_err();
        assert_eq!(err.code, Code::InvalidArgument);
        assert!(err.field_violations.is_empty());
        assert!(err.message.contains("unknown field ``"), "{}", err.message);
    }

    #[test]
    fn unknown_and_repeated_query_parameters_are_refused() {
        let m = message("liandong.brigade.v1.ListCasesRequest");
        let town = pairs(&[("town", "330122101")]);
        let err = assemble(&m, None, &town, &pairs(&[("colour", "red")]), false).unwrap_err();
        assert_eq!(err.field_violations[0].field, "colour");
        // The path already names the town.
        let err = assemble(&m, None, &town, &pairs(&[("town", "1")]), false).unwrap_err();
        assert_eq!(err.field_violations[0].field, "town");
        let twice = pairs(&[("status", "open"), ("status", "closed")]);
        let err = assemble(&m, None, &town, &twice, false).unwrap_err();
        assert_eq!(err.field_violations[0].description, "given more than once");
    }

    #[test]
    fn a_query_parameter_without_a_name_is_refused_without_naming_a_field() {
        // Found by the fuzz target gateway_json: the violation named the field "".
        let m = message("liandong.brigade.v1.ListCasesRequest");
        let town = pairs(&[("town", "330122101")]);
        let err = assemble(&m, None, &town, &pairs(&[("", "x")]), false).unwrap_err();
        assert_eq!(err.code, Code::InvalidArgument);
        assert!(err.field_violations.is_empty());
        assert!(err.message.contains("no name"), "{}", err.message);
    }

    #[test]
    fn markdown_is_asked_for_with_format() {
        let m = message("liandong.board.v1.ExportMinutesRequest");
        let id = pairs(&[("meeting_id", "m-1")]);
        let (_, format) = assemble(&m, None, &id, &pairs(&[("format", "markdown")]), true).unwrap();
        assert_eq!(format, Format::Markdown);
        let err = assemble(&m, None, &id, &pairs(&[("format", "pdf")]), true).unwrap_err();
        assert_eq!(err.field_violations[0].field, "format");
        // Elsewhere `format` is just an unknown parameter.
        assert!(assemble(&m, None, &id, &pairs(&[("format", "markdown")]), false).is_err());
    }

    #[test]
    fn the_token_becomes_metadata_and_nothing_else() {
        let mut headers = HeaderMap::new();
        headers.insert("authorization", "Bearer a.b.c".parse().unwrap());
        headers.insert("x-liandong-role", "board_chair".parse().unwrap());
        headers.insert("x-other", "not forwarded".parse().unwrap());
        let mut md = tonic::metadata::MetadataMap::new();
        forward_identity(&headers, &mut md).unwrap();
        assert_eq!(md.get(AUTHORIZATION).unwrap(), "Bearer a.b.c");
        assert!(md.get("x-other").is_none());
        assert!(md.get("x-liandong-role").is_none());
    }
}
