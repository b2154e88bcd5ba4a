//! Each event is declared once, in `crates/topology/topology.toml`: no code spells an event's
//! name as a string literal (it names `EventKind`, `AnyEvent` or `liandong_topology::names`),
//! and every consumer matches its typed events without a wildcard arm. And the shape of every
//! service's code: no service's modules import each other in a circle, and no service changes
//! state except through `liandong_bus::Change`.

use std::collections::{BTreeMap, BTreeSet};
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

/// A crate's modules by path (`src/a.rs` and `src/a/mod.rs` are `a`, `src/a/b.rs` is `a::b`),
/// each with its file; `lib.rs` and `main.rs` are the crate's root, ``.
fn modules(src: &Path) -> Vec<(String, PathBuf)> {
    let mut files = Vec::new();
    rust_files(src, &mut files);
    files
        .into_iter()
        .map(|f| {
            let rel = f.strip_prefix(src).expect("under src").with_extension("");
            let mut parts: Vec<String> = rel
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect();
            if parts.last().is_some_and(|p| p == "mod") || parts == ["lib"] || parts == ["main"] {
                parts.pop();
            }
            (parts.join("::"), f)
        })
        .collect()
}

/// The `crate::` paths a file's code names (comment lines aside), `crate::{a, b::c}` as each.
fn crate_paths(text: &str) -> Vec<String> {
    let code: String = text
        .lines()
        .filter(|l| !l.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n");
    let path = |s: &str| -> String {
        s.trim()
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == ':')
            .collect()
    };
    let mut out = Vec::new();
    let mut rest = code.as_str();
    while let Some(at) = rest.find("crate::") {
        let after = &rest[at + "crate::".len()..];
        if let Some(group) = after.strip_prefix('{') {
            // A group: its items at the top level, each a path of its own.
            let (mut depth, mut item, mut end) = (0, String::new(), group.len());
            for (i, c) in group.char_indices() {
                match c {
                    '{' => depth += 1,
                    '}' if depth == 0 => {
                        end = i;
                        break;
                    }
                    '}' => depth -= 1,
                    ',' if depth == 0 => {
                        out.push(path(&item));
                        item.clear();
                        continue;
                    }
                    _ => {}
                }
                item.push(c);
            }
            out.push(path(&item));
            rest = &group[end..];
        } else {
            out.push(path(after));
            rest = after;
        }
    }
    out.retain(|p| !p.is_empty());
    out
}

/// The module each `crate::` path of `text` names: the longest of `known` it starts with.
fn imported(text: &str, known: &[String]) -> BTreeSet<String> {
    crate_paths(text)
        .iter()
        .filter_map(|p| {
            let parts: Vec<&str> = p.split("::").filter(|s| !s.is_empty()).collect();
            (1..=parts.len())
                .rev()
                .map(|n| parts[..n].join("::"))
                .find(|m| known.contains(m))
        })
        .collect()
}

/// A circle in `graph` (module → the modules it imports), as the modules along it.
fn a_circle(graph: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(
        m: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        done: &mut BTreeSet<String>,
        path: &mut Vec<String>,
    ) -> Option<Vec<String>> {
        if let Some(at) = path.iter().position(|p| p == m) {
            let mut circle = path[at..].to_vec();
            circle.push(m.to_owned());
            return Some(circle);
        }
        if done.contains(m) {
            return None;
        }
        path.push(m.to_owned());
        for next in graph.get(m).into_iter().flatten() {
            if let Some(c) = visit(next, graph, done, path) {
                return Some(c);
            }
        }
        path.pop();
        done.insert(m.to_owned());
        None
    }
    let mut done = BTreeSet::new();
    graph
        .keys()
        .find_map(|m| visit(m, graph, &mut done, &mut Vec::new()))
}

#[test]
fn no_service_s_modules_import_each_other_in_a_circle() {
    let mut services: Vec<PathBuf> = std::fs::read_dir(root().join("services"))
        .expect("the services")
        .flatten()
        .map(|e| e.path().join("src"))
        .filter(|p| p.is_dir())
        .collect();
    services.sort();
    let mut circles = Vec::new();
    for src in &services {
        let modules = modules(src);
        let known: Vec<String> = modules.iter().map(|(m, _)| m.clone()).collect();
        let mut graph = BTreeMap::new();
        for (m, file) in &modules {
            let text = std::fs::read_to_string(file).expect("a source file reads");
            let mut uses = imported(&text, &known);
            uses.remove(m);
            uses.remove("");
            graph.insert(m.clone(), uses);
        }
        if let Some(c) = a_circle(&graph) {
            circles.push(format!("{}: {}", src.display(), c.join(" → ")));
        }
    }
    assert!(
        circles.is_empty(),
        "a service's modules import each other in a circle (move what they share down into a \
         module that imports neither):\n{}",
        circles.join("\n")
    );
    assert!(services.len() >= 6, "{services:?}");
    // The scan sees what it looks for.
    assert_eq!(
        crate_paths("use crate::{a, b::{C, D}};\n// crate::x\nlet y = crate::c::f();"),
        ["a", "b::", "c::f"]
    );
    let graph = BTreeMap::from([
        ("a".to_owned(), BTreeSet::from(["b".to_owned()])),
        ("b".to_owned(), BTreeSet::from(["c".to_owned()])),
        ("c".to_owned(), BTreeSet::from(["a".to_owned()])),
    ]);
    assert_eq!(a_circle(&graph).unwrap(), ["a", "b", "c", "a"]);
}

#[test]
fn no_service_changes_state_outside_the_one_shape() {
    let mut files = Vec::new();
    rust_files(&root().join("services"), &mut files);
    rust_files(&root().join("crates/registry"), &mut files);
    let mut found = Vec::new();
    for file in &files {
        let text = std::fs::read_to_string(file).expect("a source file reads");
        // A test module sets up its rows as it likes.
        let code = text.split("#[cfg(test)]").next().unwrap_or_default();
        for (n, line) in code.lines().enumerate() {
            if line.contains(".begin().await") || line.contains(".wake()") {
                found.push(format!("{}:{}: {}", file.display(), n + 1, line.trim()));
            }
        }
    }
    assert!(
        found.is_empty(),
        "a transaction begun or the relay woken by hand (change state through \
         liandong_bus::Change, whose commit wakes the relay):\n{}",
        found.join("\n")
    );
}
