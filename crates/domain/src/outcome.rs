//! How a case ends: the outcome kinds (education first, then penalties) and their checks.

use chrono::NaiveDate;
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

/// An item confiscated, as a request states it: what, how many, in which unit (匹, 个, 张 …).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ItemInput<'a> {
    pub kind: &'a str,
    pub count: i64,
    pub unit: &'a str,
}

/// An outcome as a request states it, before it is checked. One decision may combine a fine,
/// a confiscation and orders (渔业法 cases routinely do: 没收渔具, 罚款, 责令改正).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OutcomeInput<'a> {
    pub kind: &'a str,
    pub fine_fen: i64,
    pub confiscated: Vec<ItemInput<'a>>,
    pub orders: Vec<&'a str>,
    pub summary: &'a str,
    /// The decision's own date (作出之日) as its body states it, `YYYY-MM-DD`; empty: the day
    /// it takes effect in the hub.
    pub decided_on: &'a str,
}

/// The longest unit of a confiscated item's count, and of one order, in characters.
const UNIT_CHARS: usize = 8;
const ORDER_CHARS: usize = 200;

/// Checks an outcome under `prefix` (e.g. `outcome`): a known kind; a fine (a positive amount)
/// and confiscated items (each with a positive count and its unit) where the kind says so, or
/// combined with each other or a demolition; orders with any outcome but "no violation".
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
    // A fine and confiscated items go with the penalties that take something from the party
    // (罚款, 没收, 拆除): one decision may combine them. A warning is a warning alone.
    let penalty = matches!(
        kind,
        Some(OutcomeKind::Fine | OutcomeKind::Confiscation | OutcomeKind::Demolition)
    );
    match kind {
        _ if o.fine_fen < 0 => v.violation(format!("{prefix}.fine_fen"), "must not be negative"),
        Some(OutcomeKind::Fine) if o.fine_fen == 0 => v.violation(
            format!("{prefix}.fine_fen"),
            "a fine needs a positive amount in fen",
        ),
        Some(_) if !penalty && o.fine_fen != 0 => v.violation(
            format!("{prefix}.fine_fen"),
            "a fine goes only with a fine, a confiscation or a demolition",
        ),
        _ => {}
    }
    match kind {
        Some(OutcomeKind::Confiscation) if o.confiscated.is_empty() => v.violation(
            format!("{prefix}.confiscated"),
            "a confiscation names the items taken",
        ),
        Some(_) if !penalty && !o.confiscated.is_empty() => v.violation(
            format!("{prefix}.confiscated"),
            "items are confiscated only with a fine, a confiscation or a demolition",
        ),
        _ => {}
    }
    v.max_items(
        format!("{prefix}.confiscated"),
        o.confiscated.len(),
        items_max,
    );
    for (i, item) in o.confiscated.iter().enumerate() {
        v.text(
            format!("{prefix}.confiscated[{i}].kind"),
            item.kind,
            100,
            true,
        );
        if item.count <= 0 {
            v.violation(
                format!("{prefix}.confiscated[{i}].count"),
                "must be at least 1",
            );
        }
        v.text(
            format!("{prefix}.confiscated[{i}].unit"),
            item.unit,
            UNIT_CHARS,
            true,
        );
    }
    if kind == Some(OutcomeKind::NoViolation) && !o.orders.is_empty() {
        v.violation(
            format!("{prefix}.orders"),
            "no violation was found: nothing to order",
        );
    }
    v.max_items(format!("{prefix}.orders"), o.orders.len(), items_max);
    for (i, order) in o.orders.iter().enumerate() {
        v.text(format!("{prefix}.orders[{i}]"), order, ORDER_CHARS, true);
    }
    v.text(format!("{prefix}.summary"), o.summary, summary_max, false);
    if !o.decided_on.trim().is_empty() && decision_date(o.decided_on).is_none() {
        v.violation(format!("{prefix}.decided_on"), "must be a date, YYYY-MM-DD");
    }
}

/// The date a decision states (作出之日), if it states one that reads as `YYYY-MM-DD`.
pub fn decision_date(raw: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(raw.trim(), "%Y-%m-%d").ok()
}

/// Checks the date a decision states, as its body records it on `today` (a local date) in a
/// case that began on `earliest`: a decision is not dated in the future, nor before its case
/// began. An empty date passes (the decision is dated the day it takes effect in the hub).
pub fn check_decision_date(
    v: &mut Validator,
    field: &str,
    raw: &str,
    today: NaiveDate,
    earliest: NaiveDate,
) -> Option<NaiveDate> {
    if raw.trim().is_empty() {
        return None;
    }
    match decision_date(raw) {
        None => {
            v.violation(field, "must be a date, YYYY-MM-DD");
            None
        }
        Some(d) if d > today => {
            v.violation(field, format!("{d} lies in the future (today is {today})"));
            None
        }
        Some(d) if d < earliest => {
            v.violation(
                field,
                format!("{d} is before the case began ({earliest}): a decision follows its case"),
            );
            None
        }
        Some(d) => Some(d),
    }
}

/// The decision in words, as documents and the dossier print it: the fine, the items
/// confiscated with their counts and units, and the orders (罚款人民币5000.00元；没收地笼网12个；责令改正).
pub fn describe(fine_fen: i64, confiscated: &[(String, i64, String)], orders: &[String]) -> String {
    let mut parts = Vec::new();
    if fine_fen > 0 {
        parts.push(format!(
            "罚款人民币{}.{:02}元",
            fine_fen / 100,
            fine_fen % 100
        ));
    }
    if !confiscated.is_empty() {
        let items: Vec<String> = confiscated
            .iter()
            .map(|(kind, count, unit)| format!("{kind}{count}{unit}"))
            .collect();
        parts.push(format!("没收{}", items.join("、")));
    }
    parts.extend(orders.iter().cloned());
    parts.join("；")
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
    fn a_decision_date_is_a_date_neither_future_nor_before_its_case() {
        assert_eq!(
            check(OutcomeInput {
                kind: "warning",
                decided_on: "2026-02-30",
                ..Default::default()
            }),
            vec!["outcome.decided_on"]
        );
        assert!(
            check(OutcomeInput {
                kind: "warning",
                decided_on: "2026-02-27",
                ..Default::default()
            })
            .is_empty()
        );
        let day = |s| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        let (today, began) = (day("2026-03-10"), day("2026-03-02"));
        let date = |raw| {
            let mut v = Validator::new();
            let d = check_decision_date(&mut v, "outcome.decided_on", raw, today, began);
            (d, v.finish().err().map(|e| e[0].field.clone()))
        };
        assert_eq!(date(""), (None, None));
        assert_eq!(date("2026-03-05"), (Some(day("2026-03-05")), None));
        assert_eq!(date("2026-03-10"), (Some(today), None));
        for bad in ["2026-03-11", "2026-03-01", "5 March"] {
            assert_eq!(
                date(bad),
                (None, Some("outcome.decided_on".to_owned())),
                "{bad}"
            );
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
                confiscated: vec![ItemInput {
                    kind: "地笼",
                    count: 0,
                    unit: "个"
                }],
                ..Default::default()
            }),
            vec!["outcome.confiscated[0].count"]
        );
        assert_eq!(
            check(OutcomeInput {
                kind: "confiscation",
                confiscated: vec![ItemInput {
                    kind: "地笼",
                    count: 3,
                    unit: ""
                }],
                ..Default::default()
            }),
            vec!["outcome.confiscated[0].unit"]
        );
        assert!(!OutcomeKind::Education.is_penalty());
        assert!(OutcomeKind::Fine.is_penalty());
    }

    #[test]
    fn one_decision_combines_a_fine_a_confiscation_and_orders() {
        let nets = ItemInput {
            kind: "地笼网",
            count: 12,
            unit: "个",
        };
        let combined = OutcomeInput {
            kind: "confiscation",
            fine_fen: 500_000,
            confiscated: vec![nets],
            orders: vec!["责令立即停止违法捕捞"],
            summary: "没收禁用渔具并处罚款",
            decided_on: "",
        };
        assert!(check(combined.clone()).is_empty());
        assert!(
            check(OutcomeInput {
                kind: "fine",
                ..combined.clone()
            })
            .is_empty()
        );
        // Education may order a correction, never fine or confiscate; a warning stands alone.
        for kind in ["education", "warning"] {
            assert_eq!(
                check(OutcomeInput {
                    kind,
                    ..combined.clone()
                }),
                vec!["outcome.fine_fen", "outcome.confiscated"]
            );
        }
        assert_eq!(
            check(OutcomeInput {
                kind: "no_violation",
                fine_fen: 0,
                confiscated: vec![],
                ..combined.clone()
            }),
            vec!["outcome.orders"]
        );
        assert_eq!(
            check(OutcomeInput {
                orders: vec![" "],
                fine_fen: -1,
                ..combined
            }),
            vec!["outcome.fine_fen", "outcome.orders[0]"]
        );
        assert_eq!(
            describe(
                500_000,
                &[
                    ("地笼网".into(), 12, "个".into()),
                    ("刺网".into(), 3, "张".into())
                ],
                &["责令改正".into()]
            ),
            "罚款人民币5000.00元；没收地笼网12个、刺网3张；责令改正"
        );
    }
}
