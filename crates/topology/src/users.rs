//! The NATS users of one hub, generated from the topology (`liandong nats users`): each service
//! may publish only its own events, the receipts it owes and its dead letters, and may read
//! only through its own durable consumers. Streams and consumers are made beforehand by an
//! operator as `admin` (`liandong nats provision`), so no service user administers anything.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::{ConsumerDecl, Service, Source, Subjects};

/// The stream of `what` (a source, `receipts` or `dlq`) under a hub's stream prefix.
pub fn stream_name(prefix: &str, what: &str) -> String {
    format!("{prefix}{}", what.to_ascii_uppercase())
}

/// What one service's user may do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    pub service: Service,
    pub publish: Vec<String>,
    pub subscribe: Vec<String>,
}

/// Binding to a provisioned durable, pulling from it and acknowledging what it delivers.
fn read_through(allow: &mut Vec<String>, stream: &str, durable: &str) {
    allow.push(format!("$JS.API.CONSUMER.INFO.{stream}.{durable}"));
    allow.push(format!("$JS.API.CONSUMER.MSG.NEXT.{stream}.{durable}"));
    allow.push(format!("$JS.ACK.{stream}.{durable}.>"));
}

/// Every service's policy for a hub under `root` (its subject root) and `prefix` (its stream
/// prefix).
pub fn policies(root: &str, prefix: &str) -> Vec<Policy> {
    let subjects = Subjects::new(root);
    Service::ALL
        .into_iter()
        .map(|service| {
            let mut publish = Vec::new();
            if let Some(source) = service.source() {
                publish.push(subjects.source_wildcard(source));
            }
            // Receipts go back to the senders of what it receives.
            let mut senders: Vec<Source> = ConsumerDecl::of(service)
                .filter(|c| {
                    c.takes.iter().any(|t| {
                        t.kind.receivers(false).contains(&service)
                            || t.kind.receivers(true).contains(&service)
                    })
                })
                .map(|c| c.source)
                .collect();
            senders.dedup();
            for sender in senders {
                publish.push(subjects.receipts_for(sender));
            }
            publish.push(format!("{root}.v1.dlq.{service}.>"));
            let name = service.as_str();
            // What a bound stream or consumer answers: settings and counts, never messages.
            for s in Source::ALL {
                publish.push(format!(
                    "$JS.API.STREAM.INFO.{}",
                    stream_name(prefix, s.as_str())
                ));
            }
            for s in ["receipts", "dlq"] {
                publish.push(format!("$JS.API.STREAM.INFO.{}", stream_name(prefix, s)));
            }
            for c in ConsumerDecl::of(service) {
                let stream = stream_name(prefix, c.source.as_str());
                read_through(&mut publish, &stream, c.durable);
            }
            if let Some(source) = service.source() {
                read_through(
                    &mut publish,
                    &stream_name(prefix, "receipts"),
                    &format!("{source}-receipts"),
                );
            }
            Policy {
                service,
                publish,
                // Replies (publish acks, pulled messages, API answers) come to its own inboxes
                // only (`Bus::connect` sets the prefix), so it cannot read what another pulls.
                subscribe: vec![format!("_INBOX.{name}.>")],
            }
        })
        .collect()
}

/// Why the users could not be written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UsersError(pub String);

impl std::fmt::Display for UsersError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for UsersError {}

fn token(what: &str, s: &str) -> Result<(), UsersError> {
    let ok = !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if ok {
        Ok(())
    } else {
        Err(UsersError(format!(
            "the {what} must be letters, digits, _ or -: {s:?}"
        )))
    }
}

/// nats-server's `authorization` block for a hub: a user per service and `admin`, each with
/// the password (or bcrypt hash) `passwords` gives it under its name.
pub fn authorization(
    root: &str,
    prefix: &str,
    passwords: &BTreeMap<String, String>,
) -> Result<String, UsersError> {
    token("subject root", root)?;
    token("stream prefix", prefix)?;
    let password = |user: &str| {
        let p = passwords
            .get(user)
            .ok_or_else(|| UsersError(format!("no password for the NATS user {user}")))?;
        if p.is_empty() || p.contains(['"', '\\', '\n']) {
            return Err(UsersError(format!(
                "the password of {user} must be non-empty, without \" \\ or a line break"
            )));
        }
        Ok(p.clone())
    };
    let mut out = format!(
        "# Generated by `liandong nats users` from crates/topology/topology.toml for subject root {root} and stream prefix {prefix}.\n\
         authorization {{\n  users = [\n"
    );
    for p in policies(root, prefix) {
        let name = p.service.as_str();
        writeln!(out, "    {{").unwrap();
        writeln!(out, "      user: {name}").unwrap();
        writeln!(out, "      password: \"{}\"", password(name)?).unwrap();
        writeln!(out, "      permissions: {{").unwrap();
        writeln!(out, "        publish: {{").unwrap();
        writeln!(out, "          allow: [").unwrap();
        for s in &p.publish {
            writeln!(out, "            \"{s}\"").unwrap();
        }
        writeln!(out, "          ]").unwrap();
        writeln!(out, "        }}").unwrap();
        writeln!(out, "        subscribe: {{").unwrap();
        writeln!(
            out,
            "          allow: [{}]",
            p.subscribe
                .iter()
                .map(|s| format!("\"{s}\""))
                .collect::<Vec<_>>()
                .join(", ")
        )
        .unwrap();
        writeln!(out, "        }}").unwrap();
        writeln!(out, "      }}").unwrap();
        writeln!(out, "    }}").unwrap();
    }
    writeln!(out, "    {{").unwrap();
    writeln!(out, "      user: admin").unwrap();
    writeln!(out, "      password: \"{}\"", password("admin")?).unwrap();
    writeln!(out, "    }}").unwrap();
    writeln!(out, "  ]").unwrap();
    writeln!(out, "}}").unwrap();
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(service: Service) -> Policy {
        policies("t", "P_")
            .into_iter()
            .find(|p| p.service == service)
            .expect("every service has a policy")
    }

    #[test]
    fn a_service_publishes_only_its_own_events_its_receipts_and_its_dead_letters() {
        let county = policy(Service::County);
        let subjects: Vec<&str> = county
            .publish
            .iter()
            .filter(|s| !s.starts_with('$'))
            .map(String::as_str)
            .collect();
        assert_eq!(
            subjects,
            [
                "t.v1.county.>",
                "t.v1.receipt.board.*",
                "t.v1.receipt.brigade.*",
                "t.v1.receipt.review.*",
                "t.v1.dlq.county.>"
            ]
        );
        // It administers nothing: no stream or consumer is created, updated or deleted.
        assert!(county.publish.iter().all(|s| !s.contains(".CREATE.")
            && !s.contains(".UPDATE.")
            && !s.contains(".DELETE.")
            && !s.contains(".PURGE.")));
        assert_eq!(county.subscribe, ["_INBOX.county.>"]);
    }

    #[test]
    fn the_read_model_reads_everything_and_publishes_nothing_but_dead_letters() {
        let readmodel = policy(Service::Readmodel);
        let subjects: Vec<&str> = readmodel
            .publish
            .iter()
            .filter(|s| !s.starts_with('$'))
            .map(String::as_str)
            .collect();
        assert_eq!(subjects, ["t.v1.dlq.readmodel.>"]);
        assert!(
            readmodel
                .publish
                .contains(&"$JS.API.CONSUMER.MSG.NEXT.P_COUNTY.readmodel-from-county".to_owned())
        );
    }

    #[test]
    fn a_user_needs_a_password_without_quotes() {
        let mut passwords: BTreeMap<String, String> = Service::ALL
            .iter()
            .map(|s| (s.as_str().to_owned(), "secret".to_owned()))
            .collect();
        assert!(
            authorization("t", "P_", &passwords).is_err(),
            "admin has none"
        );
        passwords.insert("admin".into(), "a\"b".into());
        assert!(authorization("t", "P_", &passwords).is_err());
        passwords.insert("admin".into(), "root".into());
        let block = authorization("t", "P_", &passwords).expect("a block");
        assert!(block.contains("user: admin"));
        assert!(authorization("t.x", "P_", &passwords).is_err());
    }
}
