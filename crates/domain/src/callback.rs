//! Call-backs (回访): once a case the public reported (a public report or the 12345 hotline)
//! is concluded, the brigade asks the reporter whether they are satisfied. An unsatisfied
//! answer may reopen the case, which is then handled again.

use chrono::{DateTime, Utc};

use crate::limits::Validator;
use crate::state::{CaseAction, CaseStatus, TransitionError, named_enum};

named_enum! {
    /// The reporter's answer.
    pub enum Satisfaction: "satisfaction" {
        Satisfied => "satisfied",
        BasicallySatisfied => "basically_satisfied",
        Unsatisfied => "unsatisfied",
    }
}

impl Satisfaction {
    /// The answer as the reporter gives it and the annual report prints it.
    pub fn label_zh(self) -> &'static str {
        match self {
            Satisfaction::Satisfied => "满意",
            Satisfaction::BasicallySatisfied => "基本满意",
            Satisfaction::Unsatisfied => "不满意",
        }
    }

    /// Satisfied or basically satisfied: what a satisfaction rate counts.
    pub fn counts_as_satisfied(self) -> bool {
        !matches!(self, Satisfaction::Unsatisfied)
    }
}

/// The case sources whose reporter is a member of the public, who is called back.
pub const PUBLIC_SOURCES: [&str; 2] = ["public_report", "hotline_12345"];

/// What a request for a call-back says, before it is checked.
#[derive(Debug, Clone)]
pub struct CallbackInput<'a> {
    pub satisfaction: &'a str,
    pub note: &'a str,
    /// Who made the call (the staff member's name or id).
    pub called_back_by: &'a str,
    pub called_at: Option<DateTime<Utc>>,
    /// Reopen the case; only with an unsatisfied answer.
    pub reopen: bool,
}

/// A checked call-back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Callback {
    pub satisfaction: Satisfaction,
    pub note: String,
    pub called_back_by: String,
    pub called_at: DateTime<Utc>,
    pub reopen: bool,
}

/// Checks a call-back's fields, naming each that is wrong: a known answer, who called back,
/// when (not in the future), a note saying why when unsatisfied, and reopening only on an
/// unsatisfied answer.
pub fn check_callback(
    v: &mut Validator,
    input: &CallbackInput<'_>,
    now: DateTime<Utc>,
    note_chars: usize,
    name_chars: usize,
) -> Option<Callback> {
    let satisfaction = if input.satisfaction.trim().is_empty() {
        v.violation(
            "satisfaction",
            "say whether the reporter is satisfied, basically_satisfied or unsatisfied",
        );
        None
    } else {
        v.check(
            "satisfaction",
            Satisfaction::parse(input.satisfaction.trim()),
        )
    };
    v.text(
        "called_back_by",
        input.called_back_by.trim(),
        name_chars,
        true,
    );
    let unsatisfied = satisfaction == Some(Satisfaction::Unsatisfied);
    v.text("note", input.note.trim(), note_chars, unsatisfied);
    if input.reopen && satisfaction.is_some_and(Satisfaction::counts_as_satisfied) {
        v.violation("reopen", "only an unsatisfied answer can reopen the case");
    }
    let called_at = match input.called_at {
        None => {
            v.violation("called_at", "say when the reporter was called");
            None
        }
        Some(t) if t > now + chrono::Duration::minutes(5) => {
            v.violation("called_at", "a call-back cannot lie in the future");
            None
        }
        Some(t) => Some(t),
    };
    Some(Callback {
        satisfaction: satisfaction?,
        note: input.note.trim().to_owned(),
        called_back_by: input.called_back_by.trim().to_owned(),
        called_at: called_at?,
        reopen: input.reopen,
    })
}

/// Why a case cannot be called back now.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CallbackRefused {
    #[error(
        "case source {0} has no reporter to call back: only public reports and 12345 hotline cases are"
    )]
    NotPublic(String),
    #[error(
        "a case that is {0} is not finished: call the reporter back once it is concluded or closed"
    )]
    NotFinished(CaseStatus),
    #[error(
        "the reporter was already called back about this conclusion; a new call-back follows only a reopened case's next conclusion"
    )]
    AlreadyCalledBack,
    #[error(
        "called_at: the call is dated before the case was finished ({0}); a call-back follows the conclusion"
    )]
    BeforeFinished(DateTime<Utc>),
    #[error(transparent)]
    Transition(#[from] TransitionError),
}

/// Whether a case may be called back, and the status it has afterwards: a call-back follows
/// a conclusion (the brigade's own, or the closing of a referred or joint case), once per
/// conclusion, and is made after it (`finished_at`, when the case reached its status).
/// `last_reopened` is whether the previous call-back reopened the case (`None`: none yet).
/// Reopening takes the case back to `open`.
pub fn after_callback(
    source: &str,
    status: CaseStatus,
    finished_at: DateTime<Utc>,
    last_reopened: Option<bool>,
    callback: &Callback,
) -> Result<CaseStatus, CallbackRefused> {
    if !PUBLIC_SOURCES.contains(&source) {
        return Err(CallbackRefused::NotPublic(source.to_owned()));
    }
    if !matches!(status, CaseStatus::Concluded | CaseStatus::Closed) {
        return Err(CallbackRefused::NotFinished(status));
    }
    if last_reopened == Some(false) {
        return Err(CallbackRefused::AlreadyCalledBack);
    }
    if callback.called_at < finished_at {
        return Err(CallbackRefused::BeforeFinished(finished_at));
    }
    if callback.reopen {
        Ok(status.next(CaseAction::Reopen)?)
    } else {
        Ok(status)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        s.parse().expect("a time")
    }

    fn input<'a>(satisfaction: &'a str, note: &'a str, reopen: bool) -> CallbackInput<'a> {
        CallbackInput {
            satisfaction,
            note,
            called_back_by: "陈回访",
            called_at: Some(at("2026-03-02T02:00:00Z")),
            reopen,
        }
    }

    fn fields(input: &CallbackInput<'_>) -> Vec<String> {
        let mut v = Validator::new();
        check_callback(&mut v, input, at("2026-03-02T03:00:00Z"), 500, 64);
        match v.finish() {
            Ok(()) => Vec::new(),
            Err(violations) => violations.into_iter().map(|f| f.field).collect(),
        }
    }

    #[test]
    fn bad_call_backs_name_their_fields() {
        let cases: Vec<(CallbackInput<'_>, Vec<&str>)> = vec![
            (input("satisfied", "", false), vec![]),
            (input("basically_satisfied", "希望加快", false), vec![]),
            (input("unsatisfied", "仍有违停", true), vec![]),
            (input("unsatisfied", "仍有违停", false), vec![]),
            (input("", "", false), vec!["satisfaction"]),
            (input("happy", "", false), vec!["satisfaction"]),
            (input("unsatisfied", "", false), vec!["note"]),
            (input("satisfied", "", true), vec!["reopen"]),
            (input("basically_satisfied", "", true), vec!["reopen"]),
            (
                CallbackInput {
                    called_back_by: " ",
                    called_at: None,
                    ..input("satisfied", "", false)
                },
                vec!["called_back_by", "called_at"],
            ),
            (
                CallbackInput {
                    called_at: Some(at("2026-03-03T00:00:00Z")),
                    ..input("satisfied", "", false)
                },
                vec!["called_at"],
            ),
        ];
        for (i, expected) in cases {
            assert_eq!(fields(&i), expected, "{i:?}");
        }
    }

    fn checked(satisfaction: &str, reopen: bool) -> Callback {
        let mut v = Validator::new();
        let c = check_callback(
            &mut v,
            &input(satisfaction, "原因", reopen),
            at("2026-03-02T03:00:00Z"),
            500,
            64,
        );
        v.finish().expect("valid");
        c.expect("checked")
    }

    #[test]
    fn who_may_be_called_back_and_what_follows() {
        use CaseStatus as S;
        let unsatisfied_reopen = checked("unsatisfied", true);
        let unsatisfied = checked("unsatisfied", false);
        let satisfied = checked("satisfied", false);
        // Source, status, the last call-back's reopening, the call-back, and what follows.
        type Row<'a> = (
            &'a str,
            S,
            Option<bool>,
            &'a Callback,
            Result<S, CallbackRefused>,
        );
        let rows: Vec<Row<'_>> = vec![
            (
                "public_report",
                S::Concluded,
                None,
                &satisfied,
                Ok(S::Concluded),
            ),
            ("hotline_12345", S::Closed, None, &satisfied, Ok(S::Closed)),
            (
                "public_report",
                S::Concluded,
                None,
                &unsatisfied,
                Ok(S::Concluded),
            ),
            (
                "public_report",
                S::Concluded,
                None,
                &unsatisfied_reopen,
                Ok(S::Open),
            ),
            (
                "hotline_12345",
                S::Closed,
                None,
                &unsatisfied_reopen,
                Ok(S::Open),
            ),
            // Called back after the reopened case's next conclusion.
            (
                "public_report",
                S::Concluded,
                Some(true),
                &satisfied,
                Ok(S::Concluded),
            ),
            (
                "public_report",
                S::Concluded,
                Some(false),
                &satisfied,
                Err(CallbackRefused::AlreadyCalledBack),
            ),
            (
                "patrol",
                S::Concluded,
                None,
                &satisfied,
                Err(CallbackRefused::NotPublic("patrol".into())),
            ),
            (
                "public_report",
                S::Assigned,
                None,
                &satisfied,
                Err(CallbackRefused::NotFinished(S::Assigned)),
            ),
            (
                "public_report",
                S::Revoked,
                None,
                &satisfied,
                Err(CallbackRefused::NotFinished(S::Revoked)),
            ),
        ];
        // Each call above was made at 02:00, after the case was finished at 01:00.
        let finished = at("2026-03-02T01:00:00Z");
        for (source, status, last, cb, expected) in rows {
            assert_eq!(
                after_callback(source, status, finished, last, cb),
                expected,
                "{source} {status} {last:?} {cb:?}"
            );
        }
    }

    #[test]
    fn a_call_dated_before_the_conclusion_is_refused() {
        let finished = at("2026-03-02T02:30:00Z");
        assert_eq!(
            after_callback(
                "public_report",
                CaseStatus::Concluded,
                finished,
                None,
                &checked("satisfied", false)
            ),
            Err(CallbackRefused::BeforeFinished(finished))
        );
    }

    #[test]
    fn answers_read_in_chinese() {
        assert_eq!(
            Satisfaction::ALL
                .iter()
                .map(|s| s.label_zh())
                .collect::<Vec<_>>(),
            ["满意", "基本满意", "不满意"]
        );
    }
}
