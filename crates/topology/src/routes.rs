//! Who receives which event: the one table of the hub's cross-service events.
//!
//! A *receiver* acts on an event and answers it with a receipt; its sender keeps the event
//! open and re-sends it until every receiver has answered. A service may also read events it
//! is not a receiver of (the brigade reads every county event for the case record, the county
//! reads every review answer and skips the brigade's): it never answers those, so a receipt
//! always comes from the service the event was meant for.
//!
//! The outbox writes an event's receivers into its envelope from this table and refuses an
//! event that is not in it, so a new event cannot leave a service without saying who must get it.

use crate::Source::{self, Board, Brigade, County, Disclosure, Review};

/// Which events of a type a route covers, by their address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Addressed {
    /// Every event of the type.
    Any,
    /// Events for the town as a whole (no department in the subject).
    Town,
    /// Events addressed to, or coming from, a department.
    Department,
}

/// One row of the table.
#[derive(Debug, Clone, Copy)]
pub struct Route {
    pub source: Source,
    pub event: &'static str,
    pub addressed: Addressed,
    pub receivers: &'static [Source],
}

const fn route(
    source: Source,
    event: &'static str,
    addressed: Addressed,
    receivers: &'static [Source],
) -> Route {
    Route {
        source,
        event,
        addressed,
        receivers,
    }
}

use Addressed::{Any, Department, Town};

/// Every event a service may emit, and the services that must receive it.
pub const ROUTES: &[Route] = &[
    // The town's brigade.
    route(Brigade, "referral_dispatched", Any, &[County]),
    route(Brigade, "referral_withdrawn", Any, &[County]),
    route(Brigade, "case_handed_over", Any, &[County]),
    route(Brigade, "joint_submitted", Any, &[Board]),
    route(Brigade, "joint_executed", Any, &[Board]),
    route(Brigade, "review_requested", Any, &[Review]),
    // Every case from its report, for observers (the read model); no receiver.
    route(Brigade, "case_reported", Any, &[]),
    route(Brigade, "case_concluded", Any, &[Disclosure]),
    route(Brigade, "decision_changed", Any, &[Disclosure]),
    route(Brigade, "officer_certificate_changed", Any, &[Review]),
    // Work that is not a case; the board keeps the town's yearly figures.
    route(Brigade, "patrol_recorded", Any, &[Board]),
    route(Brigade, "persuasion_recorded", Any, &[Board]),
    // The 90 days of a case the brigade opened, for the chair's supervision list (督办).
    route(Brigade, "obligation_overdue", Any, &[Board]),
    route(Brigade, "obligation_met", Any, &[Board]),
    // A reporter's satisfaction (回访); the board keeps the town's tally.
    route(Brigade, "callback_recorded", Any, &[Board]),
    // The joint-meeting board.
    route(Board, "joint_approved", Any, &[Brigade]),
    route(Board, "joint_reclassified", Any, &[Brigade]),
    route(Board, "joint_sent_back", Any, &[Brigade]),
    route(Board, "dispute_settled", Any, &[Brigade]),
    route(Board, "task_assigned", Any, &[County]),
    // The meeting's own clock on the joint cases it decides: it puts them on its own
    // supervision list; observers (the read model) count them. No receiver.
    route(Board, "obligation_overdue", Any, &[]),
    route(Board, "obligation_met", Any, &[]),
    route(Board, "extension_granted", Any, &[County]),
    route(Board, "extension_refused", Any, &[County]),
    // The county departments.
    route(County, "referral_signed_for", Any, &[Brigade]),
    route(County, "referral_accepted", Any, &[Brigade]),
    route(County, "referral_assigned", Any, &[Brigade]),
    route(County, "referral_returned", Any, &[Brigade, Board]),
    route(County, "referral_concluded", Any, &[Brigade, Disclosure]),
    route(
        County,
        "entrusted_decision_recorded",
        Any,
        &[Brigade, Board, Disclosure],
    ),
    route(County, "task_completed", Any, &[Brigade, Board]),
    route(County, "case_handover_received", Any, &[Brigade]),
    route(County, "case_handover_refused", Any, &[Brigade]),
    route(County, "review_requested", Any, &[Review]),
    // A department's decision on a referral amended or revoked: its disclosure is withdrawn,
    // and the case's record keeps the change.
    route(County, "decision_changed", Any, &[Brigade, Disclosure]),
    // A lead's change of its entrusted decision: the brigade keeps it with the joint case, the
    // board with its agenda item, the disclosure service withdraws the replaced decision's
    // disclosure.
    route(
        County,
        "entrusted_decision_changed",
        Any,
        &[Brigade, Board, Disclosure],
    ),
    route(County, "officer_certificate_changed", Any, &[Review]),
    // The departments' clocks: the chair's supervision list (督办) and extensions (延期).
    route(County, "obligation_overdue", Any, &[Board]),
    route(County, "obligation_met", Any, &[Board]),
    route(County, "extension_requested", Any, &[Board]),
    // The disclosure service: how each disclosure stands against its due date. Observers
    // (the read model) read it; no service must act on it, so it wants no receipt.
    route(Disclosure, "disclosure_status_changed", Any, &[]),
    // The legal review answers whoever asked: the town's brigade or a department.
    route(Review, "review_approved", Town, &[Brigade]),
    route(Review, "review_approved", Department, &[County]),
    route(Review, "review_returned", Town, &[Brigade]),
    route(Review, "review_returned", Department, &[County]),
    route(Review, "crime_transfer_found", Town, &[Brigade]),
    route(Review, "crime_transfer_found", Department, &[County]),
];

/// The receivers of `source`'s event `event` addressed as `department` says, or `None` when
/// the table has no route for it.
pub fn receivers(
    source: Source,
    event: &str,
    department: Option<&str>,
) -> Option<&'static [Source]> {
    let addressed = match department {
        Some(d) if !d.is_empty() => Department,
        _ => Town,
    };
    ROUTES
        .iter()
        .find(|r| {
            r.source == source
                && r.event == event
                && (r.addressed == Any || r.addressed == addressed)
        })
        .map(|r| r.receivers)
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    #[test]
    fn review_answers_go_back_to_whoever_asked() {
        assert_eq!(
            receivers(Review, "review_approved", None),
            Some(&[Brigade][..])
        );
        assert_eq!(
            receivers(Review, "review_approved", Some("forestry")),
            Some(&[County][..])
        );
        assert_eq!(receivers(Brigade, "no_such_event", None), None);
    }

    #[test]
    fn every_route_is_unique_and_names_other_services() {
        let mut seen = HashSet::new();
        for r in ROUTES {
            let scopes: &[Addressed] = match r.addressed {
                Any => &[Town, Department],
                Town => &[Town],
                Department => &[Department],
            };
            for s in scopes {
                assert!(
                    seen.insert((r.source, r.event, *s)),
                    "{}.{} is routed twice",
                    r.source,
                    r.event
                );
            }
            // Only an event written for observers (the read model) goes without a receiver.
            let observed_only = [
                (Disclosure, "disclosure_status_changed"),
                (Brigade, "case_reported"),
                (Board, "obligation_overdue"),
                (Board, "obligation_met"),
            ];
            assert!(
                !r.receivers.is_empty() || observed_only.contains(&(r.source, r.event)),
                "{}.{} has no receiver",
                r.source,
                r.event
            );
            assert!(
                !r.receivers.contains(&r.source),
                "{}.{} is sent to its own source",
                r.source,
                r.event
            );
        }
    }
}
