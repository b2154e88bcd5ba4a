//! The gateway's JSON input: a request to any route, its body (or, on a GET route, its query
//! string) arbitrary, parsed as the gateway parses it before calling a service. Bad input
//! must be refused as the caller's fault (400, `invalid_argument`) and name the field when it
//! names one, never panic nor answer as a server error; accepted input must render back to
//! JSON that parses to the same message.
//!
//! Input: the first byte picks the route; the rest is the body of a route that takes one, or
//! else `name=value&...` query parameters.
#![no_main]

use std::sync::LazyLock;

use liandong_gateway::input::Input;
use libfuzzer_sys::fuzz_target;
use tonic::Code;

static INPUT: LazyLock<Input> = LazyLock::new(Input::new);

fuzz_target!(|data: &[u8]| {
    let input = &*INPUT;
    let Some((&pick, rest)) = data.split_first() else {
        return;
    };
    let index = usize::from(pick) % input.routes().len();
    let route = &input.routes()[index];
    let path: Vec<String> = route
        .path_params()
        .map(|_| "330782101".to_owned())
        .collect();
    let (query, body) = if route.has_body() {
        (Vec::new(), rest)
    } else {
        let text = String::from_utf8_lossy(rest);
        let query = text
            .split('&')
            .filter(|p| !p.is_empty())
            .map(|p| match p.split_once('=') {
                Some((n, v)) => (n.to_owned(), v.to_owned()),
                None => (p.to_owned(), String::new()),
            })
            .collect();
        (query, &[][..])
    };
    match input.parse(index, &path, &query, body) {
        Ok(json) => {
            let again = input.parse_again(index, json.clone()).unwrap_or_else(|e| {
                panic!("{} rendered {json} that does not parse: {e:?}", route.path)
            });
            assert_eq!(again, json, "{}", route.path);
        }
        Err(e) => {
            assert_eq!(e.code, Code::InvalidArgument, "{}: {e:?}", route.path);
            assert_eq!(e.status.as_u16(), 400);
            for v in &e.field_violations {
                assert!(!v.field.is_empty(), "{}: {e:?}", route.path);
            }
        }
    }
});
