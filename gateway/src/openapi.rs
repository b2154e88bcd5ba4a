//! The OpenAPI 3.0 document, generated from the route table and the compiled descriptors,
//! with schemas that follow the proto3 JSON mapping the gateway speaks.

use std::collections::{BTreeMap, BTreeSet};

use prost_types::field_descriptor_proto::Type;
use serde_json::{Map, Value, json};

use crate::call::{FORMAT_PARAM, IDENTITY_HEADERS, query_field};
use crate::descriptors::{Descriptors, Field, Kind};
use crate::error::CODE_NAMES;
use crate::routes::Route;

const TIMESTAMP: &str = "google.protobuf.Timestamp";

/// The error responses every call may answer with, and when.
const ERRORS: [(&str, &str); 10] = [
    (
        "400",
        "The request is malformed or a field is invalid (invalid_argument).",
    ),
    (
        "401",
        "The caller is not named, or not validly (unauthenticated).",
    ),
    ("403", "The caller may not do this (permission_denied)."),
    ("404", "What the path names does not exist (not_found)."),
    (
        "409",
        "The state does not allow it (failed_precondition, already_exists, aborted).",
    ),
    ("413", "The body is larger than the gateway accepts."),
    (
        "429",
        "Too many requests from this address; Retry-After says in how many seconds to try again (resource_exhausted).",
    ),
    ("500", "The service failed (internal, unknown)."),
    ("503", "The service is unavailable."),
    ("504", "The service did not answer in time."),
];

/// Builds the document; every schema it refers to is in `components`.
pub fn document(routes: &[Route], d: &Descriptors) -> Value {
    let mut paths: BTreeMap<&str, Map<String, Value>> = BTreeMap::new();
    let mut roots = BTreeSet::new();
    for route in routes {
        roots.insert(route.request.clone());
        roots.insert(route.response.clone());
        paths
            .entry(route.path)
            .or_default()
            .insert(route.method.as_str().to_lowercase(), operation(route, d));
    }
    let mut paths: Map<String, Value> = paths
        .into_iter()
        .map(|(p, ops)| (p.to_owned(), Value::Object(ops)))
        .collect();
    paths.insert(
        "/healthz".into(),
        json!({"get": {
            "operationId": "Healthz",
            "tags": ["gateway"],
            "summary": "The gateway is up (it does not ask the services).",
            "responses": {"200": {"description": "Up.", "content": {"text/plain": {"schema": {"type": "string"}}}}}
        }}),
    );
    paths.insert(
        "/openapi.json".into(),
        json!({"get": {
            "operationId": "OpenApi",
            "tags": ["gateway"],
            "summary": "This document.",
            "responses": {"200": {"description": "The OpenAPI document.", "content": {"application/json": {"schema": {"type": "object"}}}}}
        }}),
    );

    let mut schemas = Map::new();
    for (name, schema) in reachable_schemas(&roots, d) {
        schemas.insert(name, schema);
    }
    schemas.insert(
        "Error".into(),
        json!({
            "type": "object",
            "description": "Every error: the gRPC code's name, a sentence, and the invalid fields if any.",
            "required": ["code", "message"],
            "properties": {
                "code": {"type": "string", "enum": CODE_NAMES},
                "message": {"type": "string"},
                "field_violations": {"type": "array", "items": {"$ref": "#/components/schemas/FieldViolation"}}
            }
        }),
    );
    schemas.insert(
        "FieldViolation".into(),
        json!({
            "type": "object",
            "required": ["field", "description"],
            "properties": {
                "field": {"type": "string", "description": "The field's path, e.g. `triageOverride.department`."},
                "description": {"type": "string"}
            }
        }),
    );

    let mut parameters = Map::new();
    for header in IDENTITY_HEADERS {
        parameters.insert(
            header_component(header),
            json!({
                "name": header,
                "in": "header",
                "required": false,
                "description": "Names the caller; forwarded to the service, which decides what it allows.",
                "schema": {"type": "string"}
            }),
        );
    }

    let mut responses = Map::new();
    for (status, description) in ERRORS {
        responses.insert(
            error_component(status),
            json!({
                "description": description,
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
            }),
        );
    }

    json!({
        "openapi": "3.0.3",
        "info": {
            "title": "Liandong HTTP/JSON gateway",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "JSON over HTTP in front of the brigade, board and county gRPC services. Bodies and responses are the gRPC messages in the proto3 JSON mapping: camelCase names (proto names accepted on input), 64-bit integers as strings, enums by value name, timestamps in RFC 3339, fields with default values omitted."
        },
        "tags": [
            {"name": "brigade", "description": "The town's comprehensive enforcement brigade."},
            {"name": "county", "description": "The county departments and their inboxes."},
            {"name": "board", "description": "The town's joint-meeting board."},
            {"name": "gateway", "description": "The gateway itself."}
        ],
        "paths": paths,
        "components": {"schemas": schemas, "parameters": parameters, "responses": responses}
    })
}

fn operation(route: &Route, d: &Descriptors) -> Value {
    let method = &d.methods[&route.grpc_path()];
    let request = &d.messages[&route.request];
    let mut parameters = Vec::new();
    for name in route.path_params() {
        let mut p =
            json!({"name": name, "in": "path", "required": true, "schema": {"type": "string"}});
        if let Some(f) = request.field(name).filter(|f| !f.comment.is_empty()) {
            p["description"] = Value::String(f.comment.clone());
        }
        parameters.push(p);
    }
    if !route.has_body() {
        for field in request
            .fields
            .iter()
            .filter(|f| query_field(f) && !route.path_params().any(|p| p == f.name))
        {
            let mut p = json!({
                "name": field.name,
                "in": "query",
                "required": false,
                "schema": field_schema(field),
            });
            if !field.comment.is_empty() {
                p["description"] = Value::String(field.comment.clone());
            }
            if field.repeated {
                p["explode"] = Value::Bool(true);
            }
            parameters.push(p);
        }
    }
    if route.markdown_field.is_some() {
        parameters.push(json!({
            "name": FORMAT_PARAM,
            "in": "query",
            "required": false,
            "description": "`markdown` answers with the Markdown text alone, as text/markdown.",
            "schema": {"type": "string", "enum": ["json", "markdown"], "default": "json"}
        }));
    }
    for header in IDENTITY_HEADERS {
        parameters
            .push(json!({"$ref": format!("#/components/parameters/{}", header_component(header))}));
    }

    let mut content = json!({"application/json": {"schema": schema_ref(&route.response)}});
    if route.markdown_field.is_some() {
        content["text/markdown"] = json!({"schema": {"type": "string"}});
    }
    if route.document_fields.is_some() {
        // The service renders the document; the gateway sends its body as is.
        content = json!({
            "application/json": {"schema": {"type": "object"}},
            "text/html": {"schema": {"type": "string"}}
        });
    }
    let mut responses =
        json!({"200": {"description": "The response message.", "content": content}});
    for (status, _) in ERRORS {
        if status == "413" && !route.has_body() {
            continue;
        }
        responses[status] =
            json!({"$ref": format!("#/components/responses/{}", error_component(status))});
    }

    let mut op = json!({
        "operationId": route.rpc,
        "tags": [route.backend.name()],
        "summary": method.comment.lines().next().unwrap_or_default(),
        "description": format!("Calls `{}`.", route.grpc_path()),
        "parameters": parameters,
        "responses": responses,
    });
    if route.has_body() {
        op["requestBody"] = json!({
            "required": false,
            "description": "The request message; fields named in the path are taken from the path.",
            "content": {"application/json": {"schema": schema_ref(&route.request)}}
        });
    }
    op
}

/// Every message and enum reachable from `roots`, as component schemas.
fn reachable_schemas(roots: &BTreeSet<String>, d: &Descriptors) -> BTreeMap<String, Value> {
    let mut out = BTreeMap::new();
    let mut todo: Vec<String> = roots.iter().cloned().collect();
    while let Some(name) = todo.pop() {
        if out.contains_key(&name) || name == TIMESTAMP {
            continue;
        }
        if let Some(e) = d.enums.get(&name) {
            let mut schema = json!({"type": "string", "enum": e.values});
            describe(&mut schema, &e.comment);
            out.insert(name, schema);
            continue;
        }
        let Some(m) = d.messages.get(&name) else {
            // A well-known type other than Timestamp: any JSON, as its mapping varies.
            out.insert(name, json!({}));
            continue;
        };
        let mut properties = Map::new();
        for f in &m.fields {
            if let Kind::Message(t) | Kind::Enum(t) = &f.kind {
                match d.messages.get(t).filter(|m| m.map_entry) {
                    // A map's entry type is inlined, but its value type still needs a schema.
                    Some(entry) => todo.extend(entry.fields.iter().filter_map(type_name)),
                    None => todo.push(t.clone()),
                }
            }
            let mut schema = match map_value(f, d) {
                Some(value) => json!({"type": "object", "additionalProperties": value}),
                None => field_schema(f),
            };
            describe(&mut schema, &f.comment);
            properties.insert(f.json_name.clone(), schema);
        }
        let mut schema = json!({"type": "object", "properties": properties});
        describe(&mut schema, &m.comment);
        out.insert(name, schema);
    }
    out
}

fn type_name(f: &Field) -> Option<String> {
    match &f.kind {
        Kind::Message(t) | Kind::Enum(t) => Some(t.clone()),
        Kind::Scalar(_) => None,
    }
}

/// For a `map<K, V>` field, the schema of V (JSON object keys are always strings).
fn map_value(f: &Field, d: &Descriptors) -> Option<Value> {
    let Kind::Message(t) = &f.kind else {
        return None;
    };
    let entry = d.messages.get(t).filter(|m| m.map_entry)?;
    let value = entry.fields.iter().find(|f| f.name == "value")?;
    Some(single_schema(&value.kind))
}

/// A field's schema: its type's, in an array when repeated.
fn field_schema(f: &Field) -> Value {
    let one = single_schema(&f.kind);
    if f.repeated {
        json!({"type": "array", "items": one})
    } else {
        one
    }
}

/// The proto3 JSON mapping of one value of a type.
fn single_schema(kind: &Kind) -> Value {
    match kind {
        Kind::Message(t) if t == TIMESTAMP => json!({"type": "string", "format": "date-time"}),
        Kind::Message(t) | Kind::Enum(t) => schema_ref(t),
        Kind::Scalar(t) => match t {
            Type::Double => json!({"type": "number", "format": "double"}),
            Type::Float => json!({"type": "number", "format": "float"}),
            // 64-bit integers are strings in proto3 JSON: JavaScript numbers cannot hold them.
            Type::Int64 | Type::Sint64 | Type::Sfixed64 => {
                json!({"type": "string", "format": "int64"})
            }
            Type::Uint64 | Type::Fixed64 => json!({"type": "string", "format": "uint64"}),
            Type::Int32 | Type::Sint32 | Type::Sfixed32 => {
                json!({"type": "integer", "format": "int32"})
            }
            Type::Uint32 | Type::Fixed32 => {
                json!({"type": "integer", "format": "int64", "minimum": 0, "maximum": u32::MAX})
            }
            Type::Bool => json!({"type": "boolean"}),
            Type::String => json!({"type": "string"}),
            Type::Bytes => json!({"type": "string", "format": "byte"}),
            // Enums, messages and groups carry a type name and are handled above.
            Type::Enum | Type::Message | Type::Group => json!({}),
        },
    }
}

fn schema_ref(name: &str) -> Value {
    json!({"$ref": format!("#/components/schemas/{name}")})
}

fn describe(schema: &mut Value, comment: &str) {
    // OpenAPI 3.0 ignores siblings of $ref, so a referenced field keeps no description.
    if !comment.is_empty() && schema.get("$ref").is_none() {
        schema["description"] = Value::String(comment.to_owned());
    }
}

fn header_component(header: &str) -> String {
    header.trim_start_matches("x-").replace('-', "_")
}

fn error_component(status: &str) -> String {
    format!("Error{status}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::routes::table;

    fn doc() -> Value {
        let d = Descriptors::decode(liandong_proto::FILE_DESCRIPTOR_SET).unwrap();
        document(&table(), &d)
    }

    /// Every `$ref` in `v`.
    fn refs(v: &Value, out: &mut Vec<String>) {
        match v {
            Value::Object(o) => {
                for (k, v) in o {
                    match (k.as_str(), v) {
                        ("$ref", Value::String(r)) => out.push(r.clone()),
                        _ => refs(v, out),
                    }
                }
            }
            Value::Array(a) => a.iter().for_each(|v| refs(v, out)),
            _ => {}
        }
    }

    #[test]
    fn every_route_is_in_the_document() {
        let doc = doc();
        for route in table() {
            let op = &doc["paths"][route.path][route.method.as_str().to_lowercase()];
            assert_eq!(
                op["operationId"], route.rpc,
                "{} {}",
                route.method, route.path
            );
            // A document route answers with the rendered document, not the message.
            if route.document_fields.is_none() {
                assert_eq!(
                    op["responses"]["200"]["content"]["application/json"]["schema"]["$ref"],
                    format!("#/components/schemas/{}", route.response)
                );
            }
            if route.has_body() {
                assert_eq!(
                    op["requestBody"]["content"]["application/json"]["schema"]["$ref"],
                    format!("#/components/schemas/{}", route.request)
                );
            }
            for p in route.path_params() {
                let params = op["parameters"].as_array().unwrap();
                assert!(
                    params.iter().any(|q| q["name"] == p && q["in"] == "path"),
                    "{p}"
                );
            }
            for status in ["400", "401", "403", "404", "409", "503"] {
                assert!(
                    op["responses"][status].is_object(),
                    "{} {status}",
                    route.path
                );
            }
        }
        assert!(doc["paths"]["/healthz"]["get"].is_object());
    }

    #[test]
    fn every_reference_resolves() {
        let doc = doc();
        let mut all = Vec::new();
        refs(&doc, &mut all);
        assert!(!all.is_empty());
        for r in all {
            let pointer = r.strip_prefix('#').expect("a local reference");
            assert!(doc.pointer(pointer).is_some(), "{r} is not defined");
        }
    }

    #[test]
    fn schemas_follow_the_proto3_json_mapping() {
        let doc = doc();
        let schemas = &doc["components"]["schemas"];
        let case = &schemas["liandong.brigade.v1.Case"]["properties"];
        assert_eq!(
            case["foundAt"],
            json!({"type": "string", "format": "date-time"})
        );
        assert_eq!(case["matters"]["type"], "array");
        assert_eq!(
            case["source"]["$ref"],
            "#/components/schemas/liandong.brigade.v1.CaseSource"
        );
        assert_eq!(
            case["triage"]["$ref"],
            "#/components/schemas/liandong.brigade.v1.TriageResult"
        );
        let outcome = &schemas["liandong.events.v1.Outcome"]["properties"];
        assert_eq!(
            outcome["fineFen"],
            json!({"type": "string", "format": "int64"})
        );
        let path = &schemas["liandong.events.v1.Path"];
        assert_eq!(path["type"], "string");
        assert!(
            path["enum"]
                .as_array()
                .unwrap()
                .contains(&json!("PATH_OUT_OF_SCOPE"))
        );
        assert_eq!(
            schemas["liandong.brigade.v1.TriageResult"]["properties"]["overridden"]["type"],
            "boolean"
        );
        // Reachable only: the event envelope is not part of the HTTP API.
        assert!(schemas.get("liandong.events.v1.Envelope").is_none());
    }

    #[test]
    fn list_routes_take_their_filters_from_the_query() {
        let doc = doc();
        let params = doc["paths"]["/v1/towns/{town}/agenda"]["get"]["parameters"]
            .as_array()
            .unwrap()
            .clone();
        let query: Vec<_> = params
            .iter()
            .filter(|p| p["in"] == "query")
            .map(|p| p["name"].as_str().unwrap().to_owned())
            .collect();
        assert!(query.contains(&"include_decided".to_owned()));
        assert!(query.contains(&"page_size".to_owned()));
        assert!(!query.contains(&"town".to_owned()));
        let minutes = &doc["paths"]["/v1/meetings/{meeting_id}/minutes"]["get"];
        assert!(minutes["responses"]["200"]["content"]["text/markdown"].is_object());
    }
}
