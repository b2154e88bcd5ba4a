//! Changing a decision in force (变更 / 撤销): what a request must say, and what the public is
//! told when the decision's disclosure is withdrawn because of it.
//!
//! The body that made a decision may amend or revoke it (on its own review, or after an
//! administrative reconsideration or a court judgment). A disclosed decision that is changed or
//! revoked has its disclosure withdrawn within 3 working days, with the reason made public
//! (行政处罚法 第四十八条, "3 days" being working days by 第八十五条); an amended decision is
//! disclosed anew. See `crate::disclosure` for the deadlines.

use crate::limits::Validator;
use crate::outcome::{OutcomeInput, check_outcome};
use crate::state::named_enum;

named_enum! {
    /// How a decision is changed.
    pub enum DecisionChange: "decision change" {
        /// Replaced by an amended decision, which is disclosed in its place.
        Amend => "amend",
        /// Revoked: no decision remains.
        Revoke => "revoke",
    }
}

impl DecisionChange {
    /// The words that open the public reason of the withdrawal.
    pub fn public_words(self) -> &'static str {
        match self {
            DecisionChange::Amend => "原决定已依法变更",
            DecisionChange::Revoke => "原决定已依法撤销",
        }
    }

    /// The kind of the record entry that keeps the change.
    pub fn record_kind(self) -> &'static str {
        match self {
            DecisionChange::Amend => "decision_amended",
            DecisionChange::Revoke => "decision_revoked",
        }
    }
}

/// Whether a new submission for the legal review is the next round of the `previous` review
/// (`Some((was an amendment, its status))`) rather than a review of its own: a first decision's
/// review goes on round by round; an amendment's is a review of its own, unless it resubmits an
/// amendment returned for correction.
pub fn continues_review(previous: Option<(bool, &str)>, amending: bool) -> bool {
    match previous {
        None => false,
        Some((was_amendment, status)) => {
            if amending {
                was_amendment && status == "returned"
            } else {
                !was_amendment
            }
        }
    }
}

/// A change as a request states it, before it is checked.
#[derive(Debug, Clone, Default)]
pub struct ChangeInput<'a> {
    pub change: &'a str,
    pub reason: &'a str,
    /// The amended decision; only an amendment has one.
    pub outcome: Option<OutcomeInput<'a>>,
}

/// Checks a change, naming each bad field: a known change, a reason (it is shown to the
/// public, so it is required), and the amended decision exactly when the decision is amended.
pub fn check_change(
    v: &mut Validator,
    c: &ChangeInput<'_>,
    reason_max: usize,
    summary_max: usize,
    items_max: usize,
) -> Option<DecisionChange> {
    let change = v.check("change", DecisionChange::parse(c.change));
    v.text("reason", c.reason, reason_max, true);
    match (change, &c.outcome) {
        (Some(DecisionChange::Amend), None) => {
            v.violation("outcome", "an amendment states the amended decision")
        }
        (Some(DecisionChange::Revoke), Some(_)) => {
            v.violation("outcome", "a revocation leaves no decision; state none")
        }
        (_, Some(o)) => check_outcome(v, "outcome", o, summary_max, items_max),
        _ => {}
    }
    change
}

/// The reason shown to the public when a disclosure is withdrawn because of `change`.
pub fn public_reason(change: DecisionChange, reason: &str) -> String {
    format!("{}：{}", change.public_words(), reason.trim())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(c: ChangeInput<'_>) -> Vec<String> {
        let mut v = Validator::new();
        check_change(&mut v, &c, 500, 4000, 20);
        match v.finish() {
            Ok(()) => vec![],
            Err(violations) => violations.into_iter().map(|f| f.field).collect(),
        }
    }

    fn fine() -> OutcomeInput<'static> {
        OutcomeInput {
            kind: "fine",
            fine_fen: 50_000,
            summary: "罚款五百元",
            ..Default::default()
        }
    }

    #[test]
    fn a_change_names_each_bad_field() {
        #[rustfmt::skip]
        let rows: [(ChangeInput<'static>, &[&str]); 7] = [
            (ChangeInput { change: "revoke", reason: "经行政复议撤销", outcome: None }, &[]),
            (ChangeInput { change: "amend", reason: "复议变更罚款数额", outcome: Some(fine()) }, &[]),
            (ChangeInput { change: "revoke", reason: "  ", outcome: None }, &["reason"]),
            (ChangeInput { change: "amend", reason: "变更", outcome: None }, &["outcome"]),
            (ChangeInput { change: "revoke", reason: "撤销", outcome: Some(fine()) }, &["outcome"]),
            (ChangeInput { change: "cancel", reason: "", outcome: None }, &["change", "reason"]),
            (
                ChangeInput {
                    change: "amend",
                    reason: "变更",
                    outcome: Some(OutcomeInput { kind: "fine", fine_fen: 0, ..fine() }),
                },
                &["outcome.fine_fen"],
            ),
        ];
        for (input, want) in rows {
            let desc = format!("{input:?}");
            assert_eq!(fields(input), want, "{desc}");
        }
    }

    #[test]
    fn the_public_reason_says_what_happened() {
        assert_eq!(
            public_reason(DecisionChange::Revoke, " 经行政复议，原处罚决定被撤销 "),
            "原决定已依法撤销：经行政复议，原处罚决定被撤销"
        );
        assert!(public_reason(DecisionChange::Amend, "x").starts_with("原决定已依法变更"));
    }

    #[test]
    fn an_amendment_is_a_review_of_its_own_unless_it_resubmits_a_returned_one() {
        // A first decision: round after round of the same review.
        assert!(!continues_review(None, false));
        assert!(continues_review(Some((false, "returned")), false));
        // An amendment after the first decision's review: a new review.
        assert!(!continues_review(Some((false, "approved")), true));
        // A corrected amendment after a return: the next round; after an approval, a new one.
        assert!(continues_review(Some((true, "returned")), true));
        assert!(!continues_review(Some((true, "approved")), true));
        // A first decision again after an amendment's review (a reopened case): a new review.
        assert!(!continues_review(Some((true, "approved")), false));
    }
}
