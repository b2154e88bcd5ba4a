//! Each event is declared once, in `crates/topology/topology.toml`: no code spells an event's
//! name as a string literal (it names `EventKind`, `AnyEvent` or `liandong_topology::names`),
//! and every consumer matches its typed events without a wildcard arm.

use std::path::{Path, PathBuf};

use liandong_topology::EventKind;

/// The repository root (this crate lives in `<root>/tests`).
fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Every `.rs` file under `dir`, skipping build output.
fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name();
        if name == "target" || name.to_string_lossy().starts_with('.') {
            continue;
        }
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The string literals of a line (between double quotes, escapes aside).
fn literals(line: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = line;
    while let Some(start) = rest.find('"') {
        let after = &rest[start + 1..];
        let Some(end) = after.find('"') else { break };
        out.push(&after[..end]);
        rest = &after[end + 1..];
    }
    out
}

/// Whether `s` names an event: `<name>` or `<source>.<name>` of a declared event.
fn names_an_event(s: &str) -> bool {
    EventKind::ALL
        .iter()
        .any(|k| s == k.name() || s == k.event_type())
}

#[test]
fn no_code_spells_an_event_name_outside_its_declaration() {
    let mut files = Vec::new();
    for dir in ["crates", "services", "gateway", "cli", "tests", "fuzz"] {
        rust_files(&root().join(dir), &mut files);
    }
    let mut found = Vec::new();
    for file in &files {
        let rel = file.strip_prefix(root()).unwrap_or(file);
        // The declaration itself; and the domain, whose state machines name their own
        // transitions once (a few share words with events, but name transitions, not events).
        if rel.starts_with("crates/topology")
            || rel.starts_with("crates/domain")
            || rel.ends_with("it/declarations.rs")
        {
            continue;
        }
        let text = std::fs::read_to_string(file).expect("a source file reads");
        for (n, line) in text.lines().enumerate() {
            for lit in literals(line) {
                if names_an_event(lit) {
                    found.push(format!("{}:{}: \"{lit}\"", rel.display(), n + 1));
                }
            }
        }
    }
    assert!(
        found.is_empty(),
        "event names spelt as literals (use EventKind, AnyEvent or liandong_topology::names):\n{}",
        found.join("\n")
    );
    // The scan sees what it looks for.
    assert!(names_an_event("referral_dispatched"));
    assert!(names_an_event("county.referral_accepted"));
    assert!(!names_an_event("reported"));
    assert_eq!(literals(r#"a("x", "y")"#), ["x", "y"]);
}

#[test]
fn every_consumer_denies_a_wildcard_arm() {
    let mut files = Vec::new();
    rust_files(&root().join("services"), &mut files);
    let mut open = Vec::new();
    let mut consumers = 0;
    for file in &files {
        let text = std::fs::read_to_string(file).expect("a source file reads");
        let lines: Vec<&str> = text.lines().collect();
        for (n, line) in lines.iter().enumerate() {
            if line.starts_with("impl Handler<") {
                consumers += 1;
                let guarded =
                    n > 0 && lines[n - 1].trim() == "#[deny(clippy::wildcard_enum_match_arm)]";
                if !guarded {
                    open.push(format!("{}:{}", file.display(), n + 1));
                }
            }
        }
    }
    assert!(
        open.is_empty(),
        "consumers without #[deny(clippy::wildcard_enum_match_arm)]:\n{}",
        open.join("\n")
    );
    // Every service that consumes has its handlers; at least one per declared consumer.
    assert!(
        consumers >= liandong_topology::CONSUMERS.len(),
        "{consumers} handlers for {} declared consumers",
        liandong_topology::CONSUMERS.len()
    );
}
