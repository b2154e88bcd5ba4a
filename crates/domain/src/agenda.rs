//! The joint meeting's agenda (联席会议议题): what kind an item is, where it stands, and what the
//! chair decided on it.

use std::fmt;

use crate::state::{DisputeStatus, JointStatus, UnknownValue, named_enum};

named_enum! {
    /// What an agenda item is.
    pub enum ItemKind: "agenda item kind" {
        /// A complex case the brigade submitted (情况复杂、职能交叉、需多部门联动).
        JointCase => "joint_case",
        /// A referral a department returned as not its own: which department is competent.
        CompetenceDispute => "competence_dispute",
    }
}

named_enum! {
    /// The chair's decision on an item (审定结果).
    pub enum ChairDecision: "chair's decision" {
        /// A joint case approved, with its lead and cooperating departments.
        Approved => "approved",
        /// A joint case reclassified in scope or out of scope.
        Reclassified => "reclassified",
        /// A joint case sent back to the brigade.
        SentBack => "sent_back",
        /// A competence dispute settled by naming the competent department.
        Settled => "settled",
    }
}

/// Where an agenda item stands: its joint case's status or its dispute's. The two machines'
/// stored names are disjoint, so one column holds either and the name alone says which.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ItemStatus {
    Joint(JointStatus),
    Dispute(DisputeStatus),
}

impl ItemStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ItemStatus::Joint(s) => s.as_str(),
            ItemStatus::Dispute(s) => s.as_str(),
        }
    }

    pub fn parse(s: &str) -> Result<ItemStatus, UnknownValue> {
        JointStatus::parse(s)
            .map(ItemStatus::Joint)
            .or_else(|_| DisputeStatus::parse(s).map(ItemStatus::Dispute))
            .map_err(|_| UnknownValue {
                kind: "agenda item status",
                value: s.chars().take(64).collect(),
            })
    }

    /// The kind of item whose machine the status belongs to.
    pub fn kind(self) -> ItemKind {
        match self {
            ItemStatus::Joint(_) => ItemKind::JointCase,
            ItemStatus::Dispute(_) => ItemKind::CompetenceDispute,
        }
    }
}

impl fmt::Display for ItemStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl TryFrom<String> for ItemStatus {
    type Error = UnknownValue;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

impl From<JointStatus> for ItemStatus {
    fn from(s: JointStatus) -> Self {
        ItemStatus::Joint(s)
    }
}

impl From<DisputeStatus> for ItemStatus {
    fn from(s: DisputeStatus) -> Self {
        ItemStatus::Dispute(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_stored_name_is_both_a_joint_case_status_and_a_dispute_status() {
        for j in JointStatus::ALL {
            assert!(DisputeStatus::parse(j.as_str()).is_err(), "{j}");
        }
    }

    #[test]
    fn every_status_reads_back_as_itself_and_its_kind() {
        let all = JointStatus::ALL
            .iter()
            .map(|s| (ItemStatus::from(*s), ItemKind::JointCase))
            .chain(
                DisputeStatus::ALL
                    .iter()
                    .map(|s| (ItemStatus::from(*s), ItemKind::CompetenceDispute)),
            );
        for (status, kind) in all {
            assert_eq!(ItemStatus::parse(status.as_str()), Ok(status));
            assert_eq!(status.kind(), kind);
        }
        let bad = ItemStatus::parse("adjourned").unwrap_err();
        assert_eq!(bad.to_string(), r#"unknown agenda item status "adjourned""#);
    }
}
