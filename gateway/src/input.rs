//! The gateway's reading of a request on its own, without a network or a service: the body,
//! path and query assembled and parsed into the route's request message exactly as a call
//! does before it is sent. The fuzz target `gateway_json` drives it (tests/fuzz/).

use serde_json::Value;

use crate::call::{assemble, parse_message};
use crate::descriptors::Descriptors;
use crate::error::GatewayError;
use crate::routes::Route;

/// A route's parse: the proto3 JSON into its request message, rendered back as JSON.
pub(crate) type Reparse = fn(Value) -> Result<Value, GatewayError>;

/// Parses `json` as `Req` (what `invoke` sends) and renders the message back.
pub(crate) fn reparse<Req>(json: Value) -> Result<Value, GatewayError>
where
    Req: serde::de::DeserializeOwned + serde::Serialize,
{
    let message: Req = parse_message(json)?;
    serde_json::to_value(&message).map_err(|e| {
        GatewayError::new(
            tonic::Code::Internal,
            format!("cannot render the request: {e}"),
        )
    })
}

/// Every route with the descriptors that assemble its requests.
pub struct Input {
    descriptors: Descriptors,
    routes: Vec<Route>,
}

impl Default for Input {
    fn default() -> Self {
        Input::new()
    }
}

impl Input {
    pub fn new() -> Input {
        Input {
            descriptors: Descriptors::decode(liandong_proto::FILE_DESCRIPTOR_SET)
                .expect("the compiled descriptor set decodes"),
            routes: crate::routes::table(),
        }
    }

    pub fn routes(&self) -> &[Route] {
        &self.routes
    }

    /// What route `route` makes of a request: the request message as proto3 JSON, or the
    /// error the caller gets. Path parameters are given in the route's order; the body counts
    /// only on routes that take one, as in a call.
    pub fn parse(
        &self,
        route: usize,
        path: &[String],
        query: &[(String, String)],
        body: &[u8],
    ) -> Result<Value, GatewayError> {
        let route = &self.routes[route];
        let message = &self.descriptors.messages[&route.request];
        let path: Vec<(String, String)> = route
            .path_params()
            .zip(path)
            .map(|(n, v)| (n.to_owned(), v.clone()))
            .collect();
        if route.has_body()
            && let Some((name, _)) = query.first()
        {
            return Err(GatewayError::invalid_field(
                name.clone(),
                "this route takes its fields in the JSON body, not the query string",
            ));
        }
        let (json, _) = assemble(
            message,
            route.has_body().then_some(body),
            &path,
            query,
            route.markdown_field.is_some(),
        )?;
        (route.reparse)(json)
    }

    /// Parses the JSON of a request message again, as a second call would.
    pub fn parse_again(&self, route: usize, json: Value) -> Result<Value, GatewayError> {
        (self.routes[route].reparse)(json)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;
    use tonic::Code;

    use super::*;

    fn index(input: &Input, path: &str) -> usize {
        input.routes().iter().position(|r| r.path == path).unwrap()
    }

    #[test]
    fn a_request_parses_and_renders_back_the_same() {
        let input = Input::new();
        let report = index(&input, "/v1/cases");
        let body = br#"{"town": "330122101", "source": "CASE_SOURCE_PATROL", "found_at": "2026-03-01T00:30:00Z", "evidence_refs": ["photo-1"]}"#;
        let json = input.parse(report, &[], &[], body).unwrap();
        assert_eq!(json["town"], "330122101");
        assert_eq!(json["evidenceRefs"], json!(["photo-1"]));
        assert_eq!(input.parse_again(report, json.clone()).unwrap(), json);
    }

    #[test]
    fn path_and_query_fill_the_message() {
        let input = Input::new();
        let list = index(&input, "/v1/towns/{town}/cases");
        let json = input
            .parse(
                list,
                &["330122101".into()],
                &[("pageSize".into(), "20".into())],
                b"ignored: a GET has no body",
            )
            .unwrap();
        assert_eq!(json["town"], "330122101");
        assert_eq!(json["pageSize"], 20);
    }

    #[test]
    fn bad_input_is_refused_naming_the_field() {
        let input = Input::new();
        let report = index(&input, "/v1/cases");
        let err = input
            .parse(report, &[], &[], br#"{"source": "CASE_SOURCE_NONSENSE"}"#)
            .unwrap_err();
        assert_eq!(err.code, Code::InvalidArgument);
        assert_eq!(err.field_violations[0].field, "source");
        let err = input
            .parse(report, &[], &[], br#"{"foundAt": "yesterday"}"#)
            .unwrap_err();
        assert_eq!(err.field_violations[0].field, "foundAt");
    }
}
