//! One model of an enforcement decision, whoever makes it: the town on a case it handles, a
//! department on a referral, or a joint case's lead department under entrustment on its task.
//! Which proposals need the legal review first (failing closed), how a review's answer is read,
//! and what the record says of it. The state machines of the case, referral and task (in
//! `crate::state`) say where each stands; this module says what a decision does to them.

use crate::catalogue::{Catalogue, DecisionFacts};
use crate::ids::MatterCode;
use crate::state::named_enum;

named_enum! {
    /// What a decision is made on.
    pub enum Subject: "decision subject" {
        /// The town's decision on a case its brigade handles (in its own or a delegated power).
        Case => "case",
        /// A county department's decision on a referral it accepted.
        Referral => "referral",
        /// A joint case's lead department's decision under entrustment, on its task.
        Task => "task",
    }
}

/// A decision whose major-ness cannot be judged: its case names a matter the catalogue does
/// not know (under its code now or any earlier one). It is refused, never taken as "not major".
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MajorError {
    #[error("the case names no matter, so whether the decision is major cannot be judged")]
    NoMatters,
    #[error("matter {0:?} is not a valid matter code")]
    BadMatter(String),
    #[error(
        "matter {0} is not in the catalogue (nor an earlier code of one), so whether the decision is major cannot be judged"
    )]
    UnknownMatter(String),
}

/// Whether a decision on a case about `matters` must pass the legal review before it takes
/// effect (重大执法决定法制审核): major under any one of its matters' criteria. Fails closed: a
/// matter that does not parse or that the catalogue does not know is an error, never "not
/// major"; a matter renamed by a newer catalogue is found under its earlier code.
pub fn requires_review(
    catalogue: &Catalogue,
    matters: &[String],
    d: &DecisionFacts,
) -> Result<bool, MajorError> {
    if matters.is_empty() {
        return Err(MajorError::NoMatters);
    }
    let mut major = false;
    for m in matters {
        let code = MatterCode::parse(m).map_err(|_| MajorError::BadMatter(m.clone()))?;
        let matter = catalogue
            .matter(&code)
            .ok_or_else(|| MajorError::UnknownMatter(m.clone()))?;
        major |= matter.major.is_major(d);
    }
    Ok(major)
}

/// What the legal review answered on a round.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Approved,
    /// Returned for correction: a corrected proposal is the next round.
    Returned,
    /// A crime is suspected: the case goes to the public security organs (行刑衔接).
    CrimeFound,
}

/// The line the record keeps for a review's answer on round `round` of a decision on
/// `subject`, `amendment` if it reviewed an amendment of the decision in force; `findings` is
/// what failed, one clause per check.
pub fn answer_detail(
    subject: Subject,
    verdict: Verdict,
    round: u32,
    amendment: bool,
    findings: &str,
) -> String {
    match (verdict, amendment) {
        (Verdict::Approved, false) => format!("法制审核通过（第{round}轮），决定生效"),
        (Verdict::Approved, true) => format!("法制审核通过（第{round}轮），变更后的决定生效"),
        (Verdict::Returned, false) => format!("法制审核退回补正（第{round}轮）：{findings}"),
        (Verdict::Returned, true) => {
            format!("法制审核退回（第{round}轮），原决定继续有效：{findings}")
        }
        (Verdict::CrimeFound, true) => format!(
            "法制审核认为涉嫌犯罪（第{round}轮），变更不生效，由本部门依法移送公安机关：{findings}"
        ),
        (Verdict::CrimeFound, false) => match subject {
            // The town refers the case to public security itself.
            Subject::Case => {
                format!("法制审核认为涉嫌犯罪（第{round}轮），移送公安机关（行刑衔接）：{findings}")
            }
            // A department returns the referral; the joint meeting sends it on.
            Subject::Referral => format!(
                "法制审核认为涉嫌犯罪（第{round}轮），退回移送，提请联席会议移送公安机关：{findings}"
            ),
            // The joint meeting, not the lead, transfers a joint case.
            Subject::Task => format!(
                "法制审核认为涉嫌犯罪（第{round}轮），决定未生效，待联席会议移送公安机关：{findings}"
            ),
        },
    }
}

/// The record line of a proposal submitted for the legal review, in the name of `body`.
pub fn submitted_detail(
    round: u32,
    body: &str,
    kind: &str,
    summary: &str,
    amendment_reason: Option<&str>,
) -> String {
    let what = match amendment_reason {
        None => "重大执法决定提请法制审核".to_owned(),
        Some(reason) => format!("决定变更为重大执法决定，提请法制审核（变更理由：{reason}）"),
    };
    format!(
        "{what}（第{round}轮，以{body}名义）：{kind}（{summary}）；审核期限 {} 个工作日",
        crate::review::REVIEW_WORKING_DAYS
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::review::decision_facts;

    fn matters(codes: &[&str]) -> Vec<String> {
        codes.iter().map(|c| (*c).to_owned()).collect()
    }

    #[test]
    fn whether_a_decision_needs_the_legal_review_fails_closed() {
        let c = Catalogue::default_catalogue();
        let fine = |fen| decision_facts("fine", fen, false, 0);
        #[rustfmt::skip]
        let rows: [(Vec<String>, DecisionFacts, Result<bool, &str>); 6] = [
            (matters(&["CSGL-001"]), fine(1_000_000), Ok(true)),
            (matters(&["CSGL-001"]), fine(999_999), Ok(false)),
            (matters(&["CXGH-001", "YZ-001"]), fine(5_000_000), Ok(true)),
            (matters(&["XX-404"]), fine(1), Err("matter XX-404 is not in the catalogue (nor an earlier code of one), so whether the decision is major cannot be judged")),
            (matters(&["not a code"]), fine(1), Err("matter \"not a code\" is not a valid matter code")),
            (matters(&[]), fine(1), Err("the case names no matter, so whether the decision is major cannot be judged")),
        ];
        for (m, d, want) in rows {
            let got = requires_review(&c, &m, &d).map_err(|e| e.to_string());
            assert_eq!(got, want.map_err(str::to_owned), "{m:?} {d:?}");
        }
    }

    #[test]
    fn a_matter_renamed_by_a_newer_catalogue_is_still_judged_by_its_criteria() {
        let shipped = include_str!("../../../deploy/data/catalogue.toml");
        let renamed = shipped
            .replacen("version = \"2026.2\"", "version = \"2027.1\"", 1)
            .replacen(
                "code = \"CSGL-001\"",
                "code = \"CSGL-101\"\nformerly = [\"CSGL-001\"]",
                1,
            );
        assert_ne!(renamed, shipped, "the shipped catalogue has CSGL-001");
        let c = Catalogue::from_toml_str(&renamed, "catalogue-2027.toml").expect("it loads");
        let demolition = decision_facts("demolition", 0, false, 0);
        assert_eq!(
            requires_review(&c, &matters(&["CSGL-001"]), &demolition),
            Ok(true)
        );
        assert_eq!(
            requires_review(&c, &matters(&["CSGL-101"]), &demolition),
            Ok(true)
        );
    }

    #[test]
    fn the_record_says_what_the_review_answered() {
        use Subject::*;
        use Verdict::*;
        #[rustfmt::skip]
        let rows = [
            (Case, Approved, false, "法制审核通过（第2轮），决定生效"),
            (Referral, Approved, true, "法制审核通过（第2轮），变更后的决定生效"),
            (Task, Returned, false, "法制审核退回补正（第2轮）：证据不足"),
            (Case, Returned, true, "法制审核退回（第2轮），原决定继续有效：证据不足"),
            (Case, CrimeFound, false, "法制审核认为涉嫌犯罪（第2轮），移送公安机关（行刑衔接）：证据不足"),
            (Referral, CrimeFound, false, "法制审核认为涉嫌犯罪（第2轮），退回移送，提请联席会议移送公安机关：证据不足"),
            (Task, CrimeFound, false, "法制审核认为涉嫌犯罪（第2轮），决定未生效，待联席会议移送公安机关：证据不足"),
            (Task, CrimeFound, true, "法制审核认为涉嫌犯罪（第2轮），变更不生效，由本部门依法移送公安机关：证据不足"),
        ];
        for (subject, verdict, amendment, want) in rows {
            assert_eq!(
                answer_detail(subject, verdict, 2, amendment, "证据不足"),
                want
            );
        }
    }
}
