//! How a case ends: the outcome kinds (education first, then penalties) and their checks.

use serde::{Deserialize, Serialize};

use crate::limits::Validator;

/// What handling a case came to. "Education, no penalty" (教育为主、处罚为辅) is an outcome in
/// its own right, counted as such, not a missing penalty.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OutcomeKind {
    /// A minor first violation without serious consequences: educated, not penalised.
    Education,
    Warning,
    Fine,
    Confiscation,
    OrderToCorrect,
    Demolition,
    /// Investigated; no violation found.
    NoViolation,
}

impl OutcomeKind {
    pub const ALL: [OutcomeKind; 7] = [
        OutcomeKind::Education,
        OutcomeKind::Warning,
        OutcomeKind::Fine,
        OutcomeKind::Confiscation,
        OutcomeKind::OrderToCorrect,
        OutcomeKind::Demolition,
        OutcomeKind::NoViolation,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            OutcomeKind::Education => "education",
            OutcomeKind::Warning => "warning",
            OutcomeKind::Fine => "fine",
            OutcomeKind::Confiscation => "confiscation",
            OutcomeKind::OrderToCorrect => "order_to_correct",
            OutcomeKind::Demolition => "demolition",
            OutcomeKind::NoViolation => "no_violation",
        }
    }

    pub fn parse(s: &str) -> Option<OutcomeKind> {
        OutcomeKind::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// Whether the outcome is an administrative penalty (行政处罚).
    pub fn is_penalty(self) -> bool {
        matches!(
            self,
            OutcomeKind::Warning
                | OutcomeKind::Fine
                | OutcomeKind::Confiscation
                | OutcomeKind::Demolition
        )
    }
}

/// A stored outcome kind: one the hub does not know is an error naming it.
impl TryFrom<String> for OutcomeKind {
    type Error = crate::state::UnknownValue;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        OutcomeKind::parse(&s).ok_or_else(|| crate::state::UnknownValue {
            kind: "outcome kind",
            value: s.chars().take(64).collect(),
        })
    }
}

/// An outcome as a request states it, before it is checked.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OutcomeInput<'a> {
    pub kind: &'a str,
    pub fine_fen: i64,
    pub confiscated: Vec<(&'a str, i64)>,
    pub summary: &'a str,
}

/// Checks an outcome under `prefix` (e.g. `outcome`): a known kind, a positive fine exactly
/// when the kind is a fine, confiscated items with positive counts exactly for a confiscation.
pub fn check_outcome(
    v: &mut Validator,
    prefix: &str,
    o: &OutcomeInput<'_>,
    summary_max: usize,
    items_max: usize,
) {
    let kind = OutcomeKind::parse(o.kind);
    if kind.is_none() {
        let known: Vec<&str> = OutcomeKind::ALL.iter().map(|k| k.as_str()).collect();
        v.violation(
            format!("{prefix}.kind"),
            format!("must be one of {}", known.join(", ")),
        );
    }
    match kind {
        Some(OutcomeKind::Fine) if o.fine_fen <= 0 => v.violation(
            format!("{prefix}.fine_fen"),
            "a fine needs a positive amount in fen",
        ),
        Some(k) if k != OutcomeKind::Fine && o.fine_fen != 0 => {
            v.violation(format!("{prefix}.fine_fen"), "only a fine has an amount")
        }
        _ => {}
    }
    match kind {
        Some(OutcomeKind::Confiscation) if o.confiscated.is_empty() => v.violation(
            format!("{prefix}.confiscated"),
            "a confiscation names the items taken",
        ),
        Some(k) if k != OutcomeKind::Confiscation && !o.confiscated.is_empty() => v.violation(
            format!("{prefix}.confiscated"),
            "only a confiscation lists items",
        ),
        _ => {}
    }
    v.max_items(
        format!("{prefix}.confiscated"),
        o.confiscated.len(),
        items_max,
    );
    for (i, (item, count)) in o.confiscated.iter().enumerate() {
        v.text(format!("{prefix}.confiscated[{i}].kind"), item, 100, true);
        if *count <= 0 {
            v.violation(
                format!("{prefix}.confiscated[{i}].count"),
                "must be at least 1",
            );
        }
    }
    v.text(format!("{prefix}.summary"), o.summary, summary_max, false);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(o: OutcomeInput<'_>) -> Vec<String> {
        let mut v = Validator::new();
        check_outcome(&mut v, "outcome", &o, 100, 5);
        match v.finish() {
            Ok(()) => vec![],
            Err(e) => e.into_iter().map(|f| f.field).collect(),
        }
    }

    #[test]
    fn outcomes_are_checked_by_kind() {
        let ok = |kind| OutcomeInput {
            kind,
            ..Default::default()
        };
        assert!(check(ok("education")).is_empty());
        assert_eq!(check(ok("jail")), vec!["outcome.kind"]);
        assert_eq!(check(ok("fine")), vec!["outcome.fine_fen"]);
        assert!(
            check(OutcomeInput {
                kind: "fine",
                fine_fen: 200_000,
                ..Default::default()
            })
            .is_empty()
        );
        assert_eq!(check(ok("confiscation")), vec!["outcome.confiscated"]);
        assert_eq!(
            check(OutcomeInput {
                kind: "confiscation",
                confiscated: vec![("地笼", 0)],
                ..Default::default()
            }),
            vec!["outcome.confiscated[0].count"]
        );
        assert!(!OutcomeKind::Education.is_penalty());
        assert!(OutcomeKind::Fine.is_penalty());
    }
}
