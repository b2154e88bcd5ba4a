//! The hub's topology, declared once in `topology.toml` and generated from it at build time:
//! the services, every event with its payload, source, address and receivers, the durable
//! consumers with the typed events each takes, and the subject scheme they all use.
#![forbid(unsafe_code)]

use std::fmt;

use liandong_proto::events::v1 as ev;

mod subjects;
pub mod users;

pub use subjects::{NO_DEPARTMENT, Subjects};

include!(concat!(env!("OUT_DIR"), "/topology.rs"));

/// How an event's subject ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Address {
    /// With `_`: the event concerns the town as a whole.
    Town,
    /// With the department it is addressed to, or comes from.
    Department,
    /// With one or the other.
    Either,
}

/// Which of an event's addresses a consumer takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Takes {
    /// Only those addressed to a town (`_`).
    Town,
    /// Only those addressed to a department.
    Department,
    Both,
}

/// One event a consumer takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Taken {
    pub kind: EventKind,
    pub takes: Takes,
    /// Applied in its aggregate's sequence: the consumer takes every event of that aggregate
    /// from its source (a consumer that missed some would wait for numbers that never come).
    pub ordered: bool,
}

/// A durable consumer: the events one service takes from one source.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConsumerDecl {
    pub service: Service,
    pub source: Source,
    /// `<service>-from-<source>`.
    pub durable: &'static str,
    /// It takes every event of the source (an observer of everything).
    pub everything: bool,
    pub takes: &'static [Taken],
}

impl ConsumerDecl {
    /// What the consumer does with an event of `kind` addressed to `department` (`None` or
    /// empty: the town): `None` when it is not the consumer's.
    pub fn taken(&self, kind: EventKind, department: Option<&str>) -> Option<&Taken> {
        let to_department = department.is_some_and(|d| !d.is_empty());
        self.takes.iter().find(|t| {
            t.kind == kind
                && match t.takes {
                    Takes::Both => true,
                    Takes::Town => !to_department,
                    Takes::Department => to_department,
                }
        })
    }

    /// The subject filters of the consumer: the source's whole wildcard for an observer of
    /// everything, else one filter per event it takes (`…<event>.*._` for the town-addressed
    /// events it takes only as such, `…<event>.*.*` otherwise; a consumer still checks the
    /// address of what arrives, see [`ConsumerDecl::taken`]).
    pub fn filters(&self, subjects: &Subjects) -> Vec<String> {
        if self.everything {
            return vec![subjects.source_wildcard(self.source)];
        }
        self.takes
            .iter()
            .map(|t| {
                let department = match t.takes {
                    Takes::Town => NO_DEPARTMENT,
                    Takes::Department | Takes::Both => "*",
                };
                subjects.filter(self.source, t.kind.name(), department)
            })
            .collect()
    }

    /// Every consumer of `service`.
    pub fn of(service: Service) -> impl Iterator<Item = &'static ConsumerDecl> {
        CONSUMERS.iter().filter(move |c| c.service == service)
    }
}

/// An event's marker type (generated in [`events`]): its kind and its payload's type.
pub trait Event {
    type Payload: prost::Message + Default;
    const KIND: EventKind;
}

/// The typed events a consumer takes (generated in [`inbound`]).
pub trait Inbound: Sized + Send + 'static {
    const CONSUMER: &'static ConsumerDecl;
    /// Decodes `payload` as `kind`'s; `None` when the consumer does not take that kind.
    fn decode(kind: EventKind, payload: &[u8]) -> Result<Option<Self>, prost::DecodeError>;
    fn kind(&self) -> EventKind;
}

impl EventKind {
    /// Whether any service must answer it with a receipt, at either address.
    pub fn wants_receipt(self) -> bool {
        !self.receivers(false).is_empty() || !self.receivers(true).is_empty()
    }
}

impl fmt::Display for Service {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Display for EventKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.event_type())
    }
}

/// The subject table of ARCHITECTURE.md, rendered from the declaration.
pub fn subject_table() -> String {
    let mut out = String::from(
        "| subject `<root>.v1.…` | aggregate | receivers | meaning |\n|---|---|---|---|\n",
    );
    let names = |v: &[Service]| v.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ");
    for k in EventKind::ALL {
        let (subject, receivers) = match k.address() {
            Address::Town => (
                format!("{}.<town>._", k.event_type()),
                names(k.receivers(false)),
            ),
            Address::Department => (
                format!("{}.<town>.<dept>", k.event_type()),
                names(k.receivers(true)),
            ),
            Address::Either => {
                let (t, d) = (k.receivers(false), k.receivers(true));
                let r = if t == d {
                    names(t)
                } else {
                    format!("{} (`_`), {} (`<dept>`)", names(t), names(d))
                };
                (format!("{}.<town>.<dept or _>", k.event_type()), r)
            }
        };
        let receivers = if receivers.is_empty() {
            "— (observers only)".to_owned()
        } else {
            receivers
        };
        out.push_str(&format!(
            "| `{subject}` | {} | {receivers} | {} |\n",
            k.aggregate(),
            k.meaning()
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn review_answers_go_back_to_whoever_asked() {
        let k = EventKind::ReviewReviewApproved;
        assert_eq!(k.receivers(false), &[Service::Brigade]);
        assert_eq!(k.receivers(true), &[Service::County]);
        assert_eq!(
            EventKind::from_event_type("review.review_approved"),
            Some(k)
        );
        assert_eq!(EventKind::from_event_type("brigade.no_such_event"), None);
    }

    #[test]
    fn a_consumer_takes_only_its_address_of_an_event() {
        let county = ConsumerDecl::of(Service::County)
            .find(|c| c.source == Source::Review)
            .expect("the county reads the review's answers");
        assert!(
            county
                .taken(EventKind::ReviewReviewApproved, Some("forestry"))
                .is_some()
        );
        assert!(
            county
                .taken(EventKind::ReviewReviewApproved, None)
                .is_none()
        );
        let brigade = ConsumerDecl::of(Service::Brigade)
            .find(|c| c.source == Source::Review)
            .expect("the brigade reads the review's answers");
        assert_eq!(
            brigade.filters(&Subjects::new("t")),
            [
                "t.v1.review.review_approved.*._",
                "t.v1.review.review_returned.*._",
                "t.v1.review.crime_transfer_found.*._"
            ]
        );
    }

    #[test]
    fn ordered_where_every_event_of_the_aggregate_is_taken() {
        let takes = |svc, src, kind| {
            let c = ConsumerDecl::of(svc)
                .find(|c| c.source == src)
                .expect("a consumer");
            c.takes
                .iter()
                .find(|t| t.kind == kind)
                .expect("taken")
                .ordered
        };
        // The brigade takes every step of a referral: in order.
        assert!(takes(
            Service::Brigade,
            Source::County,
            EventKind::CountyReferralAccepted
        ));
        // The board takes a call-back but not the other events of its case: as it comes.
        assert!(!takes(
            Service::Board,
            Source::Brigade,
            EventKind::BrigadeCallbackRecorded
        ));
        // The read model applies everything as it comes, by its own choice.
        assert!(!takes(
            Service::Readmodel,
            Source::County,
            EventKind::CountyReferralAccepted
        ));
    }

    #[test]
    fn only_an_event_for_observers_goes_without_a_receiver() {
        let observed_only: Vec<_> = EventKind::ALL
            .into_iter()
            .filter(|k| !k.wants_receipt())
            .map(|k| k.event_type())
            .collect();
        assert_eq!(
            observed_only,
            [
                "brigade.case_reported",
                "board.obligation_overdue",
                "board.obligation_met",
                "disclosure.disclosure_status_changed"
            ]
        );
    }

    #[test]
    fn architecture_md_carries_the_subject_table_as_declared() {
        let doc = include_str!("../../../ARCHITECTURE.md");
        let table = subject_table();
        assert!(
            doc.contains(&table),
            "ARCHITECTURE.md's subject table differs from crates/topology/topology.toml; put this in its place:\n\n{table}"
        );
    }
}
