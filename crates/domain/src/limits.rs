//! Input limits and a validator that collects every field violation of a request at once.

use std::fmt::Display;

use serde::{Deserialize, Serialize};

/// How large the inputs the hub accepts may be. Operators may tighten or loosen them in the
/// configuration; a field left out there keeps its default.
#[derive(Deserialize, Serialize, Clone, Debug, PartialEq, Eq)]
#[serde(default)]
pub struct Limits {
    /// Names, villages and other short labels.
    pub short_text_chars: usize,
    pub location_chars: usize,
    pub description_chars: usize,
    pub reason_chars: usize,
    pub matters_per_case: usize,
    pub evidence_refs_per_case: usize,
    pub evidence_ref_chars: usize,
    pub officers_per_action: usize,
    pub departments_per_decision: usize,
    pub attendees_per_meeting: usize,
    pub page_size_max: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            short_text_chars: 100,
            location_chars: 200,
            description_chars: 4000,
            reason_chars: 1000,
            matters_per_case: 10,
            evidence_refs_per_case: 50,
            evidence_ref_chars: 512,
            officers_per_action: 20,
            departments_per_decision: 10,
            attendees_per_meeting: 50,
            page_size_max: 200,
        }
    }
}

/// One thing wrong with one field of a request; `field` is the API's snake_case path, e.g.
/// `matters[2]`, so clients can point at it (it maps onto google.rpc.BadRequest).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldViolation {
    pub field: String,
    pub description: String,
}

/// Collects violations instead of stopping at the first, so a user fixes a form in one pass.
#[derive(Debug, Default)]
pub struct Validator {
    violations: Vec<FieldViolation>,
}

impl Validator {
    pub fn new() -> Self {
        Self::default()
    }

    /// Records a violation of `field`.
    pub fn violation(&mut self, field: impl Into<String>, description: impl Into<String>) {
        self.violations.push(FieldViolation {
            field: field.into(),
            description: description.into(),
        });
    }

    /// The value must contain something other than whitespace.
    pub fn required(&mut self, field: impl Into<String>, value: &str) {
        if value.trim().is_empty() {
            self.violation(field, "is required");
        }
    }

    /// The value must have at most `max` characters; counted in Unicode scalar values, not
    /// bytes, since a Chinese character is three bytes of UTF-8 but one character to the user.
    pub fn max_chars(&mut self, field: impl Into<String>, value: &str, max: usize) {
        let n = value.chars().count();
        if n > max {
            self.violation(field, format!("must be at most {max} characters (got {n})"));
        }
    }

    /// A text field: required if `required`, and at most `max` characters. A missing required
    /// value is reported once, not also as a length problem.
    pub fn text(&mut self, field: impl Into<String>, value: &str, max: usize, required: bool) {
        let field = field.into();
        if required && value.trim().is_empty() {
            self.violation(field, "is required");
        } else {
            self.max_chars(field, value, max);
        }
    }

    /// A list must have at most `max` items.
    pub fn max_items(&mut self, field: impl Into<String>, len: usize, max: usize) {
        if len > max {
            self.violation(field, format!("must have at most {max} items (got {len})"));
        }
    }

    pub fn non_negative(&mut self, field: impl Into<String>, value: i64) {
        if value < 0 {
            self.violation(field, format!("must not be negative (got {value})"));
        }
    }

    /// Keeps the value of a parse (e.g. `TownCode::parse`), or records its error's message.
    pub fn check<T, E: Display>(&mut self, field: impl Into<String>, r: Result<T, E>) -> Option<T> {
        match r {
            Ok(v) => Some(v),
            Err(e) => {
                self.violation(field, e.to_string());
                None
            }
        }
    }

    /// `Ok` if nothing was recorded, else every violation in the order found.
    pub fn finish(self) -> Result<(), Vec<FieldViolation>> {
        if self.violations.is_empty() {
            Ok(())
        } else {
            Err(self.violations)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::TownCode;

    fn v(field: &str, description: &str) -> FieldViolation {
        FieldViolation {
            field: field.into(),
            description: description.into(),
        }
    }

    #[test]
    fn defaults_and_partial_configuration() {
        let d = Limits::default();
        assert_eq!(d.short_text_chars, 100);
        assert_eq!(d.location_chars, 200);
        assert_eq!(d.description_chars, 4000);
        assert_eq!(d.reason_chars, 1000);
        assert_eq!(d.matters_per_case, 10);
        assert_eq!(d.evidence_refs_per_case, 50);
        assert_eq!(d.evidence_ref_chars, 512);
        assert_eq!(d.officers_per_action, 20);
        assert_eq!(d.departments_per_decision, 10);
        assert_eq!(d.attendees_per_meeting, 50);
        assert_eq!(d.page_size_max, 200);

        let l: Limits = toml::from_str("description_chars = 8000\n").unwrap();
        assert_eq!(l.description_chars, 8000);
        assert_eq!(l.reason_chars, 1000);
    }

    #[test]
    fn nothing_wrong_is_ok() {
        let mut val = Validator::new();
        val.required("description", "违法建房");
        val.max_chars("village", "", 100);
        val.text("location", "", 200, false);
        val.max_items("matters", 10, 10);
        val.non_negative("fine_yuan", 0);
        assert_eq!(
            val.check("town", TownCode::parse("330782101"))
                .unwrap()
                .as_str(),
            "330782101"
        );
        assert_eq!(val.finish(), Ok(()));
    }

    #[test]
    fn required_refuses_blank() {
        let mut val = Validator::new();
        val.required("description", "");
        val.required("reason", " \t\n");
        val.required("village", "x");
        assert_eq!(
            val.finish(),
            Err(vec![
                v("description", "is required"),
                v("reason", "is required")
            ])
        );
    }

    #[test]
    fn max_chars_counts_characters_not_bytes() {
        let mut val = Validator::new();
        let han = "违".repeat(4000); // 12,000 bytes
        val.max_chars("description", &han, 4000);
        val.max_chars("description", &format!("{han}法"), 4000);
        assert_eq!(
            val.finish(),
            Err(vec![v(
                "description",
                "must be at most 4000 characters (got 4001)"
            )])
        );
    }

    #[test]
    fn text_reports_one_problem_per_field() {
        let mut val = Validator::new();
        val.text("name", "", 100, true);
        val.text("village", "", 100, false);
        val.text("location", &"a".repeat(201), 200, true);
        val.text("reason", &"b".repeat(1001), 1000, false);
        assert_eq!(
            val.finish(),
            Err(vec![
                v("name", "is required"),
                v("location", "must be at most 200 characters (got 201)"),
                v("reason", "must be at most 1000 characters (got 1001)"),
            ])
        );
    }

    #[test]
    fn max_items_and_non_negative() {
        let mut val = Validator::new();
        val.max_items("matters", 11, 10);
        val.max_items("evidence_refs", 50, 50);
        val.non_negative("fine_yuan", -1);
        val.non_negative("turnouts", 3);
        assert_eq!(
            val.finish(),
            Err(vec![
                v("matters", "must have at most 10 items (got 11)"),
                v("fine_yuan", "must not be negative (got -1)"),
            ])
        );
    }

    #[test]
    fn check_records_the_error_message_and_violation_records_anything() {
        let mut val = Validator::new();
        assert!(
            val.check("matters[2]", crate::ids::MatterCode::parse("cx"))
                .is_none()
        );
        val.violation("evidence_refs[0]", "must be a stored object reference");
        assert_eq!(
            val.finish(),
            Err(vec![
                v(
                    "matters[2]",
                    "invalid matter code \"cx\": must be 2 to 32 characters of A-Z, 0-9 and -"
                ),
                v("evidence_refs[0]", "must be a stored object reference"),
            ])
        );
    }
}
