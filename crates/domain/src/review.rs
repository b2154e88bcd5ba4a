//! Legal review of major decisions (重大执法决定法制审核): which decisions are major, the six
//! checks and the crime check, and how the reviewer's answers decide the review.

use crate::catalogue::{DecisionFacts, Fen};
use crate::state::named_enum;

/// A review is due this many working days after the request (the seed's practice).
pub const REVIEW_WORKING_DAYS: u32 = 7;
/// An extension adds this many working days, once.
pub const EXTENSION_WORKING_DAYS: u32 = 3;

named_enum! {
    /// What the reviewer checks, in the order the seed lists them, and then whether the facts
    /// suggest a crime, so the case must go to the public security organs (行刑衔接).
    pub enum ReviewCheck: "review check" {
        LawfulBody => "lawful_body",
        /// Answered from the certificate registry, never typed in by the reviewer.
        QualifiedOfficers => "qualified_officers",
        FactsClear => "facts_clear",
        EvidenceSufficient => "evidence_sufficient",
        LawApplied => "law_applied",
        DocumentsComplete => "documents_complete",
        /// `passed` means no sign of a crime; `passed = false` means a crime is suspected.
        CrimeSuspected => "crime_suspected",
    }
}

named_enum! {
    /// Where a review stands. A returned decision, corrected and resubmitted, is pending again
    /// in a new round; approved and transferred are final.
    pub enum ReviewStatus: "review status" {
        Pending => "pending",
        Approved => "approved",
        Returned => "returned",
        Transferred => "transferred",
    }
}

named_enum! {
    /// What the reviewer decides.
    pub enum ReviewDecision: "review decision" {
        Approve => "approve",
        Return => "return",
    }
}

/// One answer of the reviewer: a check, whether it passed, and the note that says why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReviewAnswer {
    pub check: ReviewCheck,
    pub passed: bool,
    pub note: String,
}

/// Why the answers cannot decide a review.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReviewError {
    #[error("the review is {0}: only a pending review can be answered")]
    NotPending(ReviewStatus),
    #[error("answer every check exactly once; missing: {missing}; repeated: {repeated}")]
    Incomplete { missing: String, repeated: String },
    #[error("a decision cannot be approved while {0} did not pass")]
    FailedChecks(String),
    #[error("a returned decision must fail at least one check")]
    NothingToCorrect,
}

/// Whether every check is answered exactly once.
pub fn is_complete(answers: &[ReviewAnswer]) -> bool {
    completeness(answers).is_ok()
}

fn completeness(answers: &[ReviewAnswer]) -> Result<(), ReviewError> {
    let count = |c: ReviewCheck| answers.iter().filter(|a| a.check == c).count();
    let names = |pred: &dyn Fn(usize) -> bool| {
        let v: Vec<&str> = ReviewCheck::ALL
            .iter()
            .filter(|c| pred(count(**c)))
            .map(|c| c.as_str())
            .collect();
        if v.is_empty() {
            "none".to_owned()
        } else {
            v.join(", ")
        }
    };
    let missing = names(&|n| n == 0);
    let repeated = names(&|n| n > 1);
    if missing == "none" && repeated == "none" {
        Ok(())
    } else {
        Err(ReviewError::Incomplete { missing, repeated })
    }
}

impl ReviewStatus {
    /// The status a pending review takes on the reviewer's answers: a suspected crime
    /// transfers the case whatever the decision; approval needs all six checks passed; a
    /// return needs at least one failed, so the officers know what to correct.
    pub fn answer(
        self,
        answers: &[ReviewAnswer],
        decision: ReviewDecision,
    ) -> Result<ReviewStatus, ReviewError> {
        if self != ReviewStatus::Pending {
            return Err(ReviewError::NotPending(self));
        }
        outcome(answers, decision)
    }

    /// A returned decision comes back, corrected, for another round.
    pub fn resubmit(self) -> Result<ReviewStatus, ReviewError> {
        match self {
            ReviewStatus::Returned => Ok(ReviewStatus::Pending),
            s => Err(ReviewError::NotPending(s)),
        }
    }
}

/// What complete answers and the reviewer's decision come to (see [`ReviewStatus::answer`]).
pub fn outcome(
    answers: &[ReviewAnswer],
    decision: ReviewDecision,
) -> Result<ReviewStatus, ReviewError> {
    completeness(answers)?;
    if answers
        .iter()
        .any(|a| a.check == ReviewCheck::CrimeSuspected && !a.passed)
    {
        return Ok(ReviewStatus::Transferred);
    }
    let failed: Vec<&str> = answers
        .iter()
        .filter(|a| !a.passed)
        .map(|a| a.check.as_str())
        .collect();
    match decision {
        ReviewDecision::Approve if failed.is_empty() => Ok(ReviewStatus::Approved),
        ReviewDecision::Approve => Err(ReviewError::FailedChecks(failed.join(", "))),
        ReviewDecision::Return if failed.is_empty() => Err(ReviewError::NothingToCorrect),
        ReviewDecision::Return => Ok(ReviewStatus::Returned),
    }
}

/// The facts of a proposed decision the major-decision criteria look at, from an outcome's
/// parts (the outcome itself is a wire type the domain does not know).
pub fn decision_facts(
    kind: &str,
    fine_fen: i64,
    licence_revoked: bool,
    confiscated_value_fen: i64,
) -> DecisionFacts {
    DecisionFacts {
        fine: (fine_fen > 0).then_some(Fen(fine_fen)),
        licence_revoked,
        demolition: kind == "demolition",
        confiscated_value: (confiscated_value_fen > 0).then_some(Fen(confiscated_value_fen)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalogue::Catalogue;

    fn answers(failing: &[ReviewCheck]) -> Vec<ReviewAnswer> {
        ReviewCheck::ALL
            .iter()
            .map(|c| ReviewAnswer {
                check: *c,
                passed: !failing.contains(c),
                note: "已审查".into(),
            })
            .collect()
    }

    #[test]
    fn the_answers_decide_the_review() {
        use ReviewCheck as C;
        use ReviewDecision as D;
        use ReviewStatus as S;
        #[rustfmt::skip]
        let rows: [(&[ReviewCheck], ReviewDecision, Result<ReviewStatus, &str>); 7] = [
            (&[], D::Approve, Ok(S::Approved)),
            (&[C::EvidenceSufficient], D::Return, Ok(S::Returned)),
            (&[C::EvidenceSufficient, C::DocumentsComplete], D::Approve, Err("a decision cannot be approved while evidence_sufficient, documents_complete did not pass")),
            (&[], D::Return, Err("a returned decision must fail at least one check")),
            (&[C::CrimeSuspected], D::Return, Ok(S::Transferred)),
            (&[C::CrimeSuspected], D::Approve, Ok(S::Transferred)),
            (&[C::QualifiedOfficers], D::Approve, Err("a decision cannot be approved while qualified_officers did not pass")),
        ];
        for (failing, decision, want) in rows {
            let got = S::Pending
                .answer(&answers(failing), decision)
                .map_err(|e| e.to_string());
            assert_eq!(got, want.map_err(str::to_owned), "{failing:?} {decision}");
        }
    }

    #[test]
    fn every_check_is_answered_exactly_once() {
        let mut a = answers(&[]);
        assert!(is_complete(&a));
        a.remove(0);
        a.push(a[0].clone());
        assert!(!is_complete(&a));
        assert_eq!(
            outcome(&a, ReviewDecision::Approve)
                .unwrap_err()
                .to_string(),
            "answer every check exactly once; missing: lawful_body; repeated: qualified_officers"
        );
    }

    #[test]
    fn only_pending_reviews_are_answered_and_only_returned_ones_resubmitted() {
        use ReviewStatus as S;
        for s in S::ALL {
            let answered = s.answer(&answers(&[]), ReviewDecision::Approve);
            assert_eq!(answered.is_ok(), *s == S::Pending, "{s}");
            assert_eq!(s.resubmit().ok(), (*s == S::Returned).then_some(S::Pending));
        }
    }

    #[test]
    fn a_decision_is_major_under_any_of_its_matters() {
        let c = Catalogue::default_catalogue();
        let m = |codes: &[&str]| -> Vec<String> { codes.iter().map(|c| (*c).to_owned()).collect() };
        #[rustfmt::skip]
        let rows = [
            // CSGL-001: a fine of 10,000 yuan or more, or a demolition.
            (m(&["CSGL-001"]), decision_facts("fine", 1_000_000, false, 0), true),
            (m(&["CSGL-001"]), decision_facts("fine", 999_999, false, 0), false),
            (m(&["CSGL-001"]), decision_facts("demolition", 0, false, 0), true),
            (m(&["CSGL-001"]), decision_facts("education", 0, false, 0), false),
            // CXGH-001 has no fine threshold, but YZ-001 beside it does.
            (m(&["CXGH-001"]), decision_facts("fine", 5_000_000, false, 0), false),
            (m(&["CXGH-001", "YZ-001"]), decision_facts("fine", 5_000_000, false, 0), true),
            (m(&["YZ-001"]), decision_facts("warning", 0, true, 0), true),
            (m(&["YZ-001"]), decision_facts("confiscation", 0, false, 5_000_000), true),
        ];
        for (matters, facts, want) in rows {
            assert_eq!(
                crate::decision::requires_review(&c, &matters, &facts),
                Ok(want),
                "{matters:?} {facts:?}"
            );
        }
    }
}
