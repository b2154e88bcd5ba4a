//! The subject scheme, written once: `<root>.v1.<source>.<event>.<town>[.<department>]`.

use crate::Source;

/// Builds every subject of the hub under one root (`liandong` in production; a unique root
/// per test run, so runs never see each other's messages).
#[derive(Debug, Clone)]
pub struct Subjects {
    root: String,
}

/// The token standing for "no department" at the end of a subject, so every subject of an
/// event type has the same number of tokens and `*` filters work.
pub const NO_DEPARTMENT: &str = "_";

impl Subjects {
    pub fn new(root: &str) -> Self {
        Self {
            root: root.to_owned(),
        }
    }

    pub fn root(&self) -> &str {
        &self.root
    }

    /// `<root>.v1.<source>.<event>.<town>.<department or _>`
    pub fn event(
        &self,
        source: Source,
        event: &str,
        town: &str,
        department: Option<&str>,
    ) -> String {
        format!(
            "{}.v1.{}.{}.{}.{}",
            self.root,
            source,
            event,
            town,
            department.unwrap_or(NO_DEPARTMENT)
        )
    }

    /// Everything one source publishes: its stream's subjects.
    pub fn source_wildcard(&self, source: Source) -> String {
        format!("{}.v1.{}.>", self.root, source)
    }

    /// A filter: events of `source` of type `event` (or `*`) for any town, addressed to `department` (or `*`).
    pub fn filter(&self, source: Source, event: &str, department: &str) -> String {
        format!("{}.v1.{}.{}.*.{}", self.root, source, event, department)
    }

    /// `<root>.v1.receipt.<to service>.<town>`: receipts back to the service that sent the event.
    pub fn receipt(&self, to: Source, town: &str) -> String {
        format!("{}.v1.receipt.{}.{}", self.root, to, town)
    }

    pub fn receipts_for(&self, to: Source) -> String {
        format!("{}.v1.receipt.{}.*", self.root, to)
    }

    pub fn receipt_wildcard(&self) -> String {
        format!("{}.v1.receipt.>", self.root)
    }

    /// `<root>.v1.dlq.<consumer service>.<stream>`: messages a consumer gave up on.
    pub fn dlq(&self, service: &str, stream: &str) -> String {
        format!("{}.v1.dlq.{}.{}", self.root, service, stream)
    }

    pub fn dlq_wildcard(&self) -> String {
        format!("{}.v1.dlq.>", self.root)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subjects_follow_the_scheme() {
        let s = Subjects::new("liandong");
        assert_eq!(
            s.event(
                Source::Brigade,
                "referral_dispatched",
                "330782101",
                Some("forestry")
            ),
            "liandong.v1.brigade.referral_dispatched.330782101.forestry"
        );
        assert_eq!(
            s.event(Source::Brigade, "joint_submitted", "330782101", None),
            "liandong.v1.brigade.joint_submitted.330782101._"
        );
        assert_eq!(
            s.filter(Source::Brigade, "*", "forestry"),
            "liandong.v1.brigade.*.*.forestry"
        );
        assert_eq!(
            s.receipt(Source::Brigade, "330782101"),
            "liandong.v1.receipt.brigade.330782101"
        );
    }
}
