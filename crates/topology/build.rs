//! Generates the hub's topology from `topology.toml`: the services, every event kind with its
//! payload and receivers, a marker type per event, each consumer's typed enum and the table of
//! consumers. A declaration that does not hold together stops the build here, naming the event.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::PathBuf;

use serde::Deserialize;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    service: Vec<ServiceDecl>,
    event: Vec<EventDecl>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ServiceDecl {
    name: String,
    publishes: bool,
    #[serde(default)]
    observes: Option<String>,
    #[serde(default = "yes")]
    ordered: bool,
}

fn yes() -> bool {
    true
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EventDecl {
    source: String,
    name: String,
    payload: String,
    aggregate: String,
    address: String,
    receivers: Receivers,
    meaning: String,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum Receivers {
    Same(Vec<String>),
    ByAddress {
        town: Vec<String>,
        department: Vec<String>,
    },
}

impl Receivers {
    fn town(&self) -> &[String] {
        match self {
            Receivers::Same(v) => v,
            Receivers::ByAddress { town, .. } => town,
        }
    }
    fn department(&self) -> &[String] {
        match self {
            Receivers::Same(v) => v,
            Receivers::ByAddress { department, .. } => department,
        }
    }
}

fn pascal(s: &str) -> String {
    s.split('_')
        .map(|w| {
            let mut c = w.chars();
            match c.next() {
                Some(f) => f.to_uppercase().chain(c).collect::<String>(),
                None => String::new(),
            }
        })
        .collect()
}

fn fail(msg: String) -> ! {
    panic!("crates/topology/topology.toml: {msg}");
}

/// What a consumer takes of one event: for a town, for a department, or both.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Takes {
    Town,
    Department,
    Both,
}

fn main() {
    let root = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("manifest dir"));
    let path = root.join("topology.toml");
    println!("cargo:rerun-if-changed=topology.toml");
    let text = std::fs::read_to_string(&path).expect("topology.toml is readable");
    let file: File = toml::from_str(&text).unwrap_or_else(|e| fail(e.to_string()));

    let services: Vec<&ServiceDecl> = file.service.iter().collect();
    let names: BTreeSet<&str> = services.iter().map(|s| s.name.as_str()).collect();
    if names.len() != services.len() {
        fail("a service is declared twice".into());
    }
    let publishing: Vec<&ServiceDecl> = services.iter().copied().filter(|s| s.publishes).collect();
    for s in &services {
        match s.observes.as_deref() {
            None | Some("everything") => {}
            Some(other) => fail(format!(
                "service {}: observes must be \"everything\" or absent, not {other:?}",
                s.name
            )),
        }
    }
    let mut seen = BTreeSet::new();
    for e in &file.event {
        let id = format!("{}.{}", e.source, e.name);
        if !seen.insert(id.clone()) {
            fail(format!("{id} is declared twice"));
        }
        if !publishing.iter().any(|s| s.name == e.source) {
            fail(format!("{id}: its source is not a publishing service"));
        }
        if !e.name.chars().all(|c| c.is_ascii_lowercase() || c == '_') {
            fail(format!("{id}: a name is lower-case words joined by _"));
        }
        if !e.payload.chars().all(|c| c.is_ascii_alphanumeric())
            || !e.payload.starts_with(|c: char| c.is_ascii_uppercase())
        {
            fail(format!(
                "{id}: the payload is a message name of liandong.events.v1"
            ));
        }
        if !["town", "department", "either"].contains(&e.address.as_str()) {
            fail(format!(
                "{id}: address is town, department or either, not {:?}",
                e.address
            ));
        }
        if matches!(e.receivers, Receivers::ByAddress { .. }) && e.address != "either" {
            fail(format!(
                "{id}: receivers differ by address only for an event addressed either way"
            ));
        }
        for r in e.receivers.town().iter().chain(e.receivers.department()) {
            if !names.contains(r.as_str()) {
                fail(format!("{id}: receiver {r} is not a service"));
            }
            if *r == e.source {
                fail(format!("{id}: an event is not sent to its own source"));
            }
            if services
                .iter()
                .any(|s| s.name == *r && s.observes.is_some())
            {
                fail(format!(
                    "{id}: {r} observes everything and answers nothing: it cannot be a receiver"
                ));
            }
        }
    }

    // Each consumer: a service reading one source, with what it takes of each event.
    let mut consumers: BTreeMap<(String, String), Vec<(usize, Takes)>> = BTreeMap::new();
    for s in &services {
        for src in &publishing {
            if src.name == s.name {
                continue;
            }
            let mut takes = Vec::new();
            for (i, e) in file.event.iter().enumerate() {
                if e.source != src.name {
                    continue;
                }
                let t = if s.observes.is_some() {
                    Some(Takes::Both)
                } else {
                    let town = e.address != "department" && e.receivers.town().contains(&s.name);
                    let dept = e.address != "town" && e.receivers.department().contains(&s.name);
                    match (town, dept) {
                        (true, true) => Some(Takes::Both),
                        (true, false) => Some(Takes::Town),
                        (false, true) => Some(Takes::Department),
                        (false, false) => None,
                    }
                };
                if let Some(t) = t {
                    takes.push((i, t));
                }
            }
            if !takes.is_empty() {
                consumers.insert((s.name.clone(), src.name.clone()), takes);
            }
        }
    }

    let mut out = String::new();
    let w = &mut out;
    writeln!(
        w,
        "// Generated by crates/topology/build.rs from topology.toml. Do not edit."
    )
    .unwrap();
    writeln!(w).unwrap();

    // Services.
    writeln!(w, "/// Every service of the hub.").unwrap();
    writeln!(
        w,
        "#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]"
    )
    .unwrap();
    writeln!(w, "pub enum Service {{").unwrap();
    for s in &services {
        writeln!(w, "    {},", pascal(&s.name)).unwrap();
    }
    writeln!(w, "}}\n").unwrap();
    writeln!(w, "impl Service {{").unwrap();
    writeln!(
        w,
        "    pub const ALL: [Service; {}] = [{}];",
        services.len(),
        services
            .iter()
            .map(|s| format!("Service::{}", pascal(&s.name)))
            .collect::<Vec<_>>()
            .join(", ")
    )
    .unwrap();
    writeln!(
        w,
        "    /// The service's name, as in its subjects, durables and NATS user."
    )
    .unwrap();
    writeln!(
        w,
        "    pub const fn as_str(self) -> &'static str {{ match self {{"
    )
    .unwrap();
    for s in &services {
        writeln!(w, "        Service::{} => {:?},", pascal(&s.name), s.name).unwrap();
    }
    writeln!(w, "    }} }}").unwrap();
    writeln!(w, "    pub fn parse(s: &str) -> Option<Service> {{ Service::ALL.into_iter().find(|x| x.as_str() == s) }}").unwrap();
    writeln!(
        w,
        "    /// The source it publishes as, if it publishes at all."
    )
    .unwrap();
    writeln!(
        w,
        "    pub const fn source(self) -> Option<Source> {{ match self {{"
    )
    .unwrap();
    for s in &services {
        if s.publishes {
            writeln!(
                w,
                "        Service::{0} => Some(Source::{0}),",
                pascal(&s.name)
            )
            .unwrap();
        } else {
            writeln!(w, "        Service::{} => None,", pascal(&s.name)).unwrap();
        }
    }
    writeln!(w, "    }} }}").unwrap();
    writeln!(
        w,
        "    /// Whether it reads every event of every stream without answering (the read model)."
    )
    .unwrap();
    writeln!(
        w,
        "    pub const fn observes_everything(self) -> bool {{ match self {{"
    )
    .unwrap();
    for s in &services {
        writeln!(
            w,
            "        Service::{} => {},",
            pascal(&s.name),
            s.observes.is_some()
        )
        .unwrap();
    }
    writeln!(w, "    }} }}").unwrap();
    writeln!(w, "    /// Whether it applies each aggregate's events in their sequence where it reads them all.").unwrap();
    writeln!(w, "    pub const fn ordered(self) -> bool {{ match self {{").unwrap();
    for s in &services {
        writeln!(w, "        Service::{} => {},", pascal(&s.name), s.ordered).unwrap();
    }
    writeln!(w, "    }} }}").unwrap();
    writeln!(w, "}}\n").unwrap();

    // Sources.
    writeln!(
        w,
        "/// The services that publish events; each has its own stream."
    )
    .unwrap();
    writeln!(
        w,
        "#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]"
    )
    .unwrap();
    writeln!(w, "pub enum Source {{").unwrap();
    for s in &publishing {
        writeln!(w, "    {},", pascal(&s.name)).unwrap();
    }
    writeln!(w, "}}\n").unwrap();
    writeln!(w, "impl Source {{").unwrap();
    writeln!(
        w,
        "    pub const ALL: [Source; {}] = [{}];",
        publishing.len(),
        publishing
            .iter()
            .map(|s| format!("Source::{}", pascal(&s.name)))
            .collect::<Vec<_>>()
            .join(", ")
    )
    .unwrap();
    writeln!(
        w,
        "    pub const fn as_str(self) -> &'static str {{ match self {{"
    )
    .unwrap();
    for s in &publishing {
        writeln!(w, "        Source::{} => {:?},", pascal(&s.name), s.name).unwrap();
    }
    writeln!(w, "    }} }}").unwrap();
    writeln!(w, "    pub fn parse(s: &str) -> Option<Source> {{ Source::ALL.into_iter().find(|x| x.as_str() == s) }}").unwrap();
    writeln!(w, "    /// The service that publishes as this source.").unwrap();
    writeln!(
        w,
        "    pub const fn service(self) -> Service {{ match self {{"
    )
    .unwrap();
    for s in &publishing {
        writeln!(w, "        Source::{0} => Service::{0},", pascal(&s.name)).unwrap();
    }
    writeln!(w, "    }} }}").unwrap();
    writeln!(w, "}}\n").unwrap();

    // Event kinds.
    let variant = |e: &EventDecl| format!("{}{}", pascal(&e.source), pascal(&e.name));
    writeln!(w, "/// Every event of the hub.").unwrap();
    writeln!(
        w,
        "#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]"
    )
    .unwrap();
    writeln!(w, "pub enum EventKind {{").unwrap();
    for e in &file.event {
        writeln!(
            w,
            "    /// `{}.{}`: {}",
            e.source,
            e.name,
            e.meaning.replace('\n', " ")
        )
        .unwrap();
        writeln!(w, "    {},", variant(e)).unwrap();
    }
    writeln!(w, "}}\n").unwrap();
    writeln!(w, "impl EventKind {{").unwrap();
    writeln!(
        w,
        "    pub const ALL: [EventKind; {}] = [{}];",
        file.event.len(),
        file.event
            .iter()
            .map(|e| format!("EventKind::{}", variant(e)))
            .collect::<Vec<_>>()
            .join(", ")
    )
    .unwrap();
    let arm = |w: &mut String, f: &dyn Fn(&EventDecl) -> String| {
        for e in &file.event {
            writeln!(w, "        EventKind::{} => {},", variant(e), f(e)).unwrap();
        }
    };
    writeln!(w, "    /// The service that emits it.").unwrap();
    writeln!(
        w,
        "    pub const fn source(self) -> Source {{ match self {{"
    )
    .unwrap();
    arm(w, &|e| format!("Source::{}", pascal(&e.source)));
    writeln!(w, "    }} }}").unwrap();
    writeln!(w, "    /// Its name within its source, as in its subject.").unwrap();
    writeln!(
        w,
        "    pub const fn name(self) -> &'static str {{ match self {{"
    )
    .unwrap();
    arm(w, &|e| format!("{:?}", e.name));
    writeln!(w, "    }} }}").unwrap();
    writeln!(
        w,
        "    /// `<source>.<name>`, as the envelope's `event_type` carries it."
    )
    .unwrap();
    writeln!(
        w,
        "    pub const fn event_type(self) -> &'static str {{ match self {{"
    )
    .unwrap();
    arm(w, &|e| format!("{:?}", format!("{}.{}", e.source, e.name)));
    writeln!(w, "    }} }}").unwrap();
    writeln!(w, "    /// Its payload's full protobuf name.").unwrap();
    writeln!(
        w,
        "    pub const fn payload(self) -> &'static str {{ match self {{"
    )
    .unwrap();
    arm(w, &|e| {
        format!("{:?}", format!("liandong.events.v1.{}", e.payload))
    });
    writeln!(w, "    }} }}").unwrap();
    writeln!(
        w,
        "    /// What its aggregate id names; one aggregate's events are numbered in sequence."
    )
    .unwrap();
    writeln!(
        w,
        "    pub const fn aggregate(self) -> &'static str {{ match self {{"
    )
    .unwrap();
    arm(w, &|e| format!("{:?}", e.aggregate));
    writeln!(w, "    }} }}").unwrap();
    writeln!(
        w,
        "    /// How its subject ends: with `_`, with a department, or either."
    )
    .unwrap();
    writeln!(
        w,
        "    pub const fn address(self) -> Address {{ match self {{"
    )
    .unwrap();
    arm(w, &|e| match e.address.as_str() {
        "town" => "Address::Town".into(),
        "department" => "Address::Department".into(),
        _ => "Address::Either".into(),
    });
    writeln!(w, "    }} }}").unwrap();
    let list = |v: &[String]| {
        format!(
            "&[{}]",
            v.iter()
                .map(|r| format!("Service::{}", pascal(r)))
                .collect::<Vec<_>>()
                .join(", ")
        )
    };
    writeln!(w, "    /// The services that must receive it, addressed to a town (`false`) or to a department.").unwrap();
    writeln!(w, "    pub const fn receivers(self, to_department: bool) -> &'static [Service] {{ match (self, to_department) {{").unwrap();
    for e in &file.event {
        writeln!(
            w,
            "        (EventKind::{}, false) => {},",
            variant(e),
            list(e.receivers.town())
        )
        .unwrap();
        writeln!(
            w,
            "        (EventKind::{}, true) => {},",
            variant(e),
            list(e.receivers.department())
        )
        .unwrap();
    }
    writeln!(w, "    }} }}").unwrap();
    writeln!(w, "    /// One line on what it means.").unwrap();
    writeln!(
        w,
        "    pub const fn meaning(self) -> &'static str {{ match self {{"
    )
    .unwrap();
    arm(w, &|e| format!("{:?}", e.meaning));
    writeln!(w, "    }} }}").unwrap();
    writeln!(w, "    /// The kind an envelope's `event_type` names.").unwrap();
    writeln!(
        w,
        "    pub fn from_event_type(s: &str) -> Option<EventKind> {{ match s {{"
    )
    .unwrap();
    for e in &file.event {
        writeln!(
            w,
            "        {:?} => Some(EventKind::{}),",
            format!("{}.{}", e.source, e.name),
            variant(e)
        )
        .unwrap();
    }
    writeln!(w, "        _ => None,").unwrap();
    writeln!(w, "    }} }}").unwrap();
    writeln!(w, "}}\n").unwrap();

    // The names, as constants a `match` can use.
    writeln!(
        w,
        "/// Every event name, as a constant (a record entry or history line that records an event"
    )
    .unwrap();
    writeln!(
        w,
        "/// is kinded by its name; `match` arms can name these)."
    )
    .unwrap();
    writeln!(w, "pub mod names {{").unwrap();
    let mut seen_names = BTreeSet::new();
    for e in &file.event {
        if seen_names.insert(e.name.clone()) {
            writeln!(
                w,
                "    pub const {}: &str = {:?};",
                e.name.to_ascii_uppercase(),
                e.name
            )
            .unwrap();
        }
    }
    writeln!(w, "}}\n").unwrap();

    // Decoded payloads of every kind.
    writeln!(w, "/// Any event with its decoded payload.").unwrap();
    writeln!(w, "#[derive(Debug, Clone, PartialEq)]").unwrap();
    writeln!(w, "#[allow(clippy::large_enum_variant)]").unwrap();
    writeln!(w, "pub enum AnyEvent {{").unwrap();
    for e in &file.event {
        writeln!(w, "    {}(ev::{}),", variant(e), e.payload).unwrap();
    }
    writeln!(w, "}}\n").unwrap();
    writeln!(w, "impl AnyEvent {{").unwrap();
    writeln!(w, "    /// Decodes `payload` as the payload of `kind`.").unwrap();
    writeln!(w, "    pub fn decode(kind: EventKind, payload: &[u8]) -> Result<AnyEvent, prost::DecodeError> {{ Ok(match kind {{").unwrap();
    for e in &file.event {
        writeln!(
            w,
            "        EventKind::{0} => AnyEvent::{0}(prost::Message::decode(payload)?),",
            variant(e)
        )
        .unwrap();
    }
    writeln!(w, "    }}) }}").unwrap();
    writeln!(w, "    pub fn kind(&self) -> EventKind {{ match self {{").unwrap();
    for e in &file.event {
        writeln!(w, "        AnyEvent::{0}(_) => EventKind::{0},", variant(e)).unwrap();
    }
    writeln!(w, "    }} }}").unwrap();
    writeln!(w, "    /// The payload's protobuf encoding.").unwrap();
    writeln!(
        w,
        "    pub fn encode_payload(&self) -> Vec<u8> {{ match self {{"
    )
    .unwrap();
    for e in &file.event {
        writeln!(
            w,
            "        AnyEvent::{0}(p) => prost::Message::encode_to_vec(p),",
            variant(e)
        )
        .unwrap();
    }
    writeln!(w, "    }} }}").unwrap();
    writeln!(w, "}}\n").unwrap();

    // A marker type per event, tying the kind to its payload at compile time.
    writeln!(
        w,
        "/// A marker type per event: `outbox.emit::<events::county::ReferralAccepted>(…)` takes"
    )
    .unwrap();
    writeln!(w, "/// that event's payload type and no other.").unwrap();
    writeln!(w, "pub mod events {{").unwrap();
    for src in &publishing {
        writeln!(w, "    /// The events of the {} service.", src.name).unwrap();
        writeln!(w, "    pub mod {} {{", src.name).unwrap();
        for e in file.event.iter().filter(|e| e.source == src.name) {
            writeln!(w, "        /// `{}.{}`: {}", e.source, e.name, e.meaning).unwrap();
            writeln!(w, "        #[derive(Debug, Clone, Copy)]").unwrap();
            writeln!(w, "        pub struct {};", pascal(&e.name)).unwrap();
            writeln!(w, "        impl crate::Event for {} {{ type Payload = liandong_proto::events::v1::{}; const KIND: crate::EventKind = crate::EventKind::{}; }}",
                pascal(&e.name), e.payload, variant(e)).unwrap();
        }
        writeln!(w, "    }}").unwrap();
    }
    writeln!(w, "}}\n").unwrap();

    // Consumers.
    let aggregate_complete = |src: &str, aggregate: &str, takes: &[(usize, Takes)]| {
        file.event
            .iter()
            .enumerate()
            .filter(|(_, e)| e.source == src && e.aggregate == aggregate)
            .all(|(i, _)| takes.iter().any(|(j, _)| *j == i))
    };
    writeln!(
        w,
        "/// Every durable consumer of the hub: one per service and source it reads."
    )
    .unwrap();
    writeln!(
        w,
        "pub const CONSUMERS: [ConsumerDecl; {}] = [",
        consumers.len()
    )
    .unwrap();
    let mut index = BTreeMap::new();
    for (n, ((svc, src), takes)) in consumers.iter().enumerate() {
        index.insert((svc.clone(), src.clone()), n);
        let service = services.iter().find(|s| s.name == *svc).expect("declared");
        let everything = service.observes.is_some();
        writeln!(w, "    ConsumerDecl {{").unwrap();
        writeln!(w, "        service: Service::{},", pascal(svc)).unwrap();
        writeln!(w, "        source: Source::{},", pascal(src)).unwrap();
        writeln!(w, "        durable: {:?},", format!("{svc}-from-{src}")).unwrap();
        writeln!(w, "        everything: {everything},").unwrap();
        writeln!(w, "        takes: &[").unwrap();
        for (i, t) in takes {
            let e = &file.event[*i];
            let ordered = service.ordered && aggregate_complete(src, &e.aggregate, takes);
            let t = match t {
                Takes::Town => "Takes::Town",
                Takes::Department => "Takes::Department",
                Takes::Both => "Takes::Both",
            };
            writeln!(
                w,
                "            Taken {{ kind: EventKind::{}, takes: {t}, ordered: {ordered} }},",
                variant(e)
            )
            .unwrap();
        }
        writeln!(w, "        ],").unwrap();
        writeln!(w, "    }},").unwrap();
    }
    writeln!(w, "];\n").unwrap();

    writeln!(
        w,
        "/// The typed events each consumer takes: one enum per service and source, matched"
    )
    .unwrap();
    writeln!(
        w,
        "/// without a wildcard arm, so an event newly routed to a service does not compile until"
    )
    .unwrap();
    writeln!(w, "/// that service handles it.").unwrap();
    writeln!(w, "pub mod inbound {{").unwrap();
    let by_service: BTreeMap<&str, Vec<(&str, usize)>> =
        consumers.keys().fold(BTreeMap::new(), |mut m, (svc, src)| {
            m.entry(svc.as_str())
                .or_default()
                .push((src.as_str(), index[&(svc.clone(), src.clone())]));
            m
        });
    for (svc, srcs) in &by_service {
        writeln!(w, "    /// What the {svc} service consumes.").unwrap();
        writeln!(w, "    pub mod {svc} {{").unwrap();
        for (src, n) in srcs {
            let takes = &consumers[&(svc.to_string(), src.to_string())];
            let name = format!("From{}", pascal(src));
            writeln!(
                w,
                "        /// The events the {svc} service takes from the {src} service."
            )
            .unwrap();
            writeln!(w, "        #[derive(Debug, Clone, PartialEq)]").unwrap();
            // Each decoded event is moved once into its handler; boxing would cost an allocation
            // per event and a dereference in every arm.
            writeln!(w, "        #[allow(clippy::large_enum_variant)]").unwrap();
            writeln!(w, "        pub enum {name} {{").unwrap();
            for (i, _) in takes {
                let e = &file.event[*i];
                writeln!(w, "            /// `{}.{}`", e.source, e.name).unwrap();
                writeln!(
                    w,
                    "            {}(liandong_proto::events::v1::{}),",
                    pascal(&e.name),
                    e.payload
                )
                .unwrap();
            }
            writeln!(w, "        }}").unwrap();
            writeln!(w, "        impl crate::Inbound for {name} {{").unwrap();
            writeln!(
                w,
                "            const CONSUMER: &'static crate::ConsumerDecl = &crate::CONSUMERS[{n}];"
            )
            .unwrap();
            writeln!(w, "            fn decode(kind: crate::EventKind, payload: &[u8]) -> Result<Option<Self>, prost::DecodeError> {{ Ok(Some(match kind {{").unwrap();
            for (i, _) in takes {
                let e = &file.event[*i];
                writeln!(w, "                crate::EventKind::{} => {name}::{}(prost::Message::decode(payload)?),", variant(e), pascal(&e.name)).unwrap();
            }
            writeln!(w, "                _ => return Ok(None),").unwrap();
            writeln!(w, "            }})) }}").unwrap();
            writeln!(
                w,
                "            fn kind(&self) -> crate::EventKind {{ match self {{"
            )
            .unwrap();
            for (i, _) in takes {
                let e = &file.event[*i];
                writeln!(
                    w,
                    "                {name}::{}(_) => crate::EventKind::{},",
                    pascal(&e.name),
                    variant(e)
                )
                .unwrap();
            }
            writeln!(w, "            }} }}").unwrap();
            writeln!(w, "        }}").unwrap();
        }
        writeln!(w, "    }}").unwrap();
    }
    writeln!(w, "}}\n").unwrap();

    // Every inbound enum, for code that must treat each consumer alike (the test that feeds
    // each of them a corrupt payload of every kind it takes).
    writeln!(
        w,
        "/// Calls `$m!(type)` for every inbound enum of [`inbound`], one per declared consumer."
    )
    .unwrap();
    writeln!(w, "#[macro_export]").unwrap();
    writeln!(w, "macro_rules! for_each_inbound {{ ($m:ident) => {{").unwrap();
    for (svc, srcs) in &by_service {
        for (src, _) in srcs {
            writeln!(w, "    $m!($crate::inbound::{svc}::From{});", pascal(src)).unwrap();
        }
    }
    writeln!(w, "}} }}").unwrap();

    let target = PathBuf::from(std::env::var("OUT_DIR").expect("OUT_DIR")).join("topology.rs");
    std::fs::write(target, &out).expect("writes the generated topology");
}
