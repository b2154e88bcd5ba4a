//! The state machines of cases, referrals, joint cases, competence disputes and handovers.

use std::fmt;

/// A string that names none of an enum's values (a state, action or role read from a database
/// or request).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {kind} {value:?}")]
pub struct UnknownValue {
    pub kind: &'static str,
    pub value: String,
}

/// An enum whose values are stored and sent as fixed snake_case names, so renaming a variant
/// in Rust can never silently change what is in a database.
macro_rules! named_enum {
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident : $kind:literal {
            $( $(#[$vmeta:meta])* $variant:ident => $text:literal ),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, ::serde::Serialize, ::serde::Deserialize)]
        #[serde(into = "&'static str", try_from = "String")]
        $vis enum $name {
            $( $(#[$vmeta])* $variant ),+
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text),+
                }
            }

            pub fn parse(s: &str) -> Result<Self, $crate::state::UnknownValue> {
                match s {
                    $($text => Ok($name::$variant),)+
                    _ => Err($crate::state::UnknownValue {
                        kind: $kind,
                        value: s.chars().take(64).collect(),
                    }),
                }
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl ::std::str::FromStr for $name {
            type Err = $crate::state::UnknownValue;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Self::parse(s)
            }
        }

        impl From<$name> for &'static str {
            fn from(v: $name) -> &'static str {
                v.as_str()
            }
        }

        impl TryFrom<String> for $name {
            type Error = $crate::state::UnknownValue;
            fn try_from(s: String) -> Result<Self, Self::Error> {
                Self::parse(&s)
            }
        }
    };
}
pub(crate) use named_enum;

/// A transition the machine does not allow; services answer it with FailedPrecondition.
/// `from` and `action` are the stored snake_case names.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a {} that is {from} cannot {}", .machine.replace('_', " "), phrase(.machine, .action))]
pub struct TransitionError {
    pub machine: &'static str,
    pub from: String,
    pub action: String,
}

/// The verb phrase of an action for messages, e.g. "be signed for".
fn phrase(machine: &str, action: &str) -> String {
    let p = match machine {
        CASE => CaseAction::parse(action).map(CaseAction::phrase),
        REFERRAL => ReferralAction::parse(action).map(ReferralAction::phrase),
        JOINT => JointAction::parse(action).map(JointAction::phrase),
        DISPUTE => DisputeAction::parse(action).map(DisputeAction::phrase),
        HANDOVER => HandoverAction::parse(action).map(HandoverAction::phrase),
        TASK => TaskAction::parse(action).map(TaskAction::phrase),
        _ => return format!("take the action {action}"),
    };
    p.map(str::to_owned)
        .unwrap_or_else(|_| format!("take the action {action}"))
}

const CASE: &str = "case";
const REFERRAL: &str = "referral";
const JOINT: &str = "joint_case";
const DISPUTE: &str = "competence_dispute";
const HANDOVER: &str = "handover";

fn refuse(
    machine: &'static str,
    from: impl fmt::Display,
    action: impl fmt::Display,
) -> TransitionError {
    TransitionError {
        machine,
        from: from.to_string(),
        action: action.to_string(),
    }
}

// ---- Case, at the brigade -------------------------------------------------------------------

named_enum! {
    /// Where a case stands at the brigade. In scope: Open → Assigned → Concluded. Out of scope:
    /// Referred → Closed when the county department's result arrives. Joint: AwaitingBoard →
    /// Joint → Closed once executed.
    pub enum CaseStatus: "case status" {
        Open => "open",
        Assigned => "assigned",
        Referred => "referred",
        AwaitingBoard => "awaiting_board",
        /// A major decision proposed, waiting for the legal review (法制审核) before it takes effect.
        AwaitingReview => "awaiting_review",
        Joint => "joint",
        Concluded => "concluded",
        Closed => "closed",
        /// The decision was revoked by the body that made it (撤销); its disclosure is withdrawn.
        Revoked => "revoked",
        /// A concluded case whose decision is to be amended (变更) into a major one: the
        /// decision in force stands while the amendment waits for the legal review.
        AmendmentInReview => "amendment_in_review",
        /// A major decision the legal review approved, waiting for the heads' collective
        /// discussion (集体讨论, 行政处罚法 第五十七条) that decides it.
        AwaitingDiscussion => "awaiting_discussion",
    }
}

named_enum! {
    pub enum CaseAction: "case action" {
        Assign => "assign",
        RecordAction => "record_action",
        Conclude => "conclude",
        Refer => "refer",
        SubmitToBoard => "submit_to_board",
        BoardApprovedJoint => "board_approved_joint",
        BoardReclassifiedInScope => "board_reclassified_in_scope",
        BoardReclassifiedOutOfScope => "board_reclassified_out_of_scope",
        BoardSentBack => "board_sent_back",
        ResultReceived => "result_received",
        JointExecuted => "joint_executed",
        Reopen => "reopen",
        SubmitForReview => "submit_for_review",
        ReviewApproved => "review_approved",
        ReviewReturned => "review_returned",
        CrimeTransferred => "crime_transferred",
        /// The deciding body amends its decision (变更); the case stays concluded.
        AmendDecision => "amend_decision",
        /// The deciding body revokes its decision (撤销).
        RevokeDecision => "revoke_decision",
        /// The deciding body proposes to amend its decision into a major one, which takes
        /// effect only once the legal review approves it.
        SubmitAmendmentForReview => "submit_amendment_for_review",
        /// The legal review approved a major decision the heads have not yet discussed.
        AwaitDiscussion => "await_discussion",
        /// The heads' collective discussion decides the approved decision.
        Discuss => "discuss",
    }
}

impl CaseAction {
    fn phrase(self) -> &'static str {
        match self {
            CaseAction::Assign => "be assigned",
            CaseAction::RecordAction => "have an action recorded",
            CaseAction::Conclude => "be concluded",
            CaseAction::Refer => "be referred",
            CaseAction::SubmitToBoard => "be submitted to the joint meeting",
            CaseAction::BoardApprovedJoint => "be approved as a joint case",
            CaseAction::BoardReclassifiedInScope => "be reclassified as in scope",
            CaseAction::BoardReclassifiedOutOfScope => "be reclassified as out of scope",
            CaseAction::BoardSentBack => "be sent back by the joint meeting",
            CaseAction::ResultReceived => "receive a referral result",
            CaseAction::JointExecuted => "be marked jointly executed",
            CaseAction::Reopen => "be reopened",
            CaseAction::SubmitForReview => "be submitted for legal review",
            CaseAction::ReviewApproved => "be concluded on the legal review's approval",
            CaseAction::ReviewReturned => "be returned on review",
            CaseAction::CrimeTransferred => "be transferred to the public security organs",
            CaseAction::AmendDecision => "have its decision amended",
            CaseAction::RevokeDecision => "have its decision revoked",
            CaseAction::SubmitAmendmentForReview => {
                "have an amendment of its decision submitted for legal review"
            }
            CaseAction::AwaitDiscussion => "wait for the heads' collective discussion",
            CaseAction::Discuss => "be decided by the heads' collective discussion",
        }
    }
}

impl CaseStatus {
    pub fn next(self, a: CaseAction) -> Result<CaseStatus, TransitionError> {
        use CaseAction as A;
        use CaseStatus as S;
        Ok(match (self, a) {
            // The captain may assign or reassign until the case leaves the brigade's hands.
            (S::Open | S::Assigned, A::Assign) => S::Assigned,
            // Full-process recording: the brigade records its steps while it handles the case
            // itself or co-executes a joint one.
            (S::Assigned, A::RecordAction) => S::Assigned,
            (S::Joint, A::RecordAction) => S::Joint,
            (S::Assigned, A::Conclude) => S::Concluded,
            // A major decision takes effect only once the legal reviewer approves it; returned,
            // the officers correct it and conclude again (a new round); a suspected crime sends
            // the case to the public security organs instead (行刑衔接).
            (S::Assigned, A::SubmitForReview) => S::AwaitingReview,
            (S::AwaitingReview, A::ReviewApproved) => S::Concluded,
            // A complex or serious case is decided by the heads' collective discussion (集体讨论,
            // 第五十七条), which follows the legal review (第五十八条).
            (S::AwaitingReview, A::AwaitDiscussion) => S::AwaitingDiscussion,
            (S::AwaitingDiscussion, A::Discuss) => S::Concluded,
            (S::AwaitingReview, A::ReviewReturned) => S::Assigned,
            (S::AwaitingReview, A::CrimeTransferred) => S::Referred,
            // Triage may be corrected after an officer has looked at the case.
            (S::Open | S::Assigned, A::Refer) => S::Referred,
            (S::Open | S::Assigned, A::SubmitToBoard) => S::AwaitingBoard,
            (S::AwaitingBoard, A::BoardApprovedJoint) => S::Joint,
            (S::AwaitingBoard, A::BoardReclassifiedInScope) => S::Open,
            (S::AwaitingBoard, A::BoardReclassifiedOutOfScope) => S::Referred,
            // Sent back for more information; the brigade adds it and submits again.
            (S::AwaitingBoard, A::BoardSentBack) => S::Open,
            (S::Referred, A::ResultReceived) => S::Closed,
            (S::Joint, A::JointExecuted) => S::Closed,
            // After an unsatisfied call-back (回访) the case is handled again.
            (S::Concluded | S::Closed | S::Revoked, A::Reopen) => S::Open,
            // Only a decision in force is changed: a concluded case's, and once revoked there
            // is none left to change.
            (S::Concluded, A::AmendDecision) => S::Concluded,
            (S::Concluded, A::RevokeDecision) => S::Revoked,
            // An amendment into a major decision waits for the legal review, the decision in
            // force standing meanwhile: approved, it takes effect; returned, the decision in
            // force stays (and a corrected amendment is the review's next round); a suspected
            // crime sends the case to the public security organs, as for any decision.
            (S::Concluded, A::SubmitAmendmentForReview) => S::AmendmentInReview,
            (S::AmendmentInReview, A::ReviewApproved | A::ReviewReturned) => S::Concluded,
            (S::AmendmentInReview, A::CrimeTransferred) => S::Referred,
            (s, a) => return Err(refuse(CASE, s, a)),
        })
    }
}

// ---- Referral, at the county department ----------------------------------------------------

named_enum! {
    /// Where a referral (移送) stands at the county department it is addressed to.
    pub enum ReferralStatus: "referral status" {
        Dispatched => "dispatched",
        SignedFor => "signed_for",
        Accepted => "accepted",
        Assigned => "assigned",
        /// A major decision waits for the department's legal office (法制审核).
        AwaitingReview => "awaiting_review",
        Concluded => "concluded",
        Returned => "returned",
        Withdrawn => "withdrawn",
        /// The department revoked its decision (撤销); nothing remains in force.
        Revoked => "revoked",
        /// The department's decision is to be amended into a major one: the decision in force
        /// stands while the amendment waits for the legal office.
        AmendmentInReview => "amendment_in_review",
    }
}

named_enum! {
    pub enum ReferralAction: "referral action" {
        SignFor => "sign_for",
        Accept => "accept",
        Return => "return",
        Assign => "assign",
        Conclude => "conclude",
        Withdraw => "withdraw",
        SubmitForReview => "submit_for_review",
        ReviewApproved => "review_approved",
        ReviewReturned => "review_returned",
        CrimeFound => "crime_found",
        /// The department amends its decision in force (变更).
        AmendDecision => "amend_decision",
        /// The department revokes its decision in force (撤销).
        RevokeDecision => "revoke_decision",
        /// The department proposes to amend its decision into a major one, which takes effect
        /// only once its legal office approves.
        SubmitAmendmentForReview => "submit_amendment_for_review",
    }
}

impl ReferralAction {
    fn phrase(self) -> &'static str {
        match self {
            ReferralAction::SignFor => "be signed for",
            ReferralAction::Accept => "be accepted",
            ReferralAction::Return => "be returned",
            ReferralAction::Assign => "be assigned",
            ReferralAction::Conclude => "be concluded",
            ReferralAction::Withdraw => "be withdrawn",
            ReferralAction::SubmitForReview => "be submitted for review",
            ReferralAction::ReviewApproved => "be approved on review",
            ReferralAction::ReviewReturned => "be returned on review",
            ReferralAction::CrimeFound => "be found a crime on review",
            ReferralAction::AmendDecision => "have its decision amended",
            ReferralAction::RevokeDecision => "have its decision revoked",
            ReferralAction::SubmitAmendmentForReview => {
                "have an amendment of its decision submitted for review"
            }
        }
    }
}

impl ReferralStatus {
    pub fn next(self, a: ReferralAction) -> Result<ReferralStatus, TransitionError> {
        use ReferralAction as A;
        use ReferralStatus as S;
        Ok(match (self, a) {
            (S::Dispatched, A::SignFor) => S::SignedFor,
            // Accepting implies signing for, so a department need not do both.
            (S::Dispatched | S::SignedFor, A::Accept) => S::Accepted,
            // Once accepted the department owns it: it can no longer bounce it back.
            (S::Dispatched | S::SignedFor, A::Return) => S::Returned,
            (S::Accepted | S::Assigned, A::Assign) => S::Assigned,
            (S::Accepted | S::Assigned, A::Conclude) => S::Concluded,
            // A major decision takes effect only once the department's legal office approves.
            (S::Accepted | S::Assigned, A::SubmitForReview) => S::AwaitingReview,
            (S::AwaitingReview, A::ReviewApproved) => S::Concluded,
            (S::AwaitingReview, A::ReviewReturned) => S::Assigned,
            // A suspected crime is not the department's to decide: the referral goes back to
            // the brigade, and the joint meeting sends it on to the public security organs.
            (S::AwaitingReview, A::CrimeFound) => S::Returned,
            // Only a decision in force can be changed: an amendment stays concluded, a
            // revocation leaves nothing; a revoked decision cannot be changed again.
            (S::Concluded, A::AmendDecision) => S::Concluded,
            (S::Concluded, A::RevokeDecision) => S::Revoked,
            // An amendment into a major decision waits for the legal office, the decision in
            // force standing: approved, it takes effect; returned, the decision in force stays;
            // a suspected crime leaves it too, the finding kept for the department, which holds
            // the case file, to transfer (the brigade's case is closed by then).
            (S::Concluded, A::SubmitAmendmentForReview) => S::AmendmentInReview,
            (S::AmendmentInReview, A::ReviewApproved | A::ReviewReturned | A::CrimeFound) => {
                S::Concluded
            }
            // The chair reassigned it to another department.
            (s, A::Withdraw) if s.is_open() => S::Withdrawn,
            (s, a) => return Err(refuse(REFERRAL, s, a)),
        })
    }

    /// Still awaiting something from the department; returned, withdrawn and concluded
    /// referrals are final for that department.
    pub fn is_open(self) -> bool {
        matches!(
            self,
            ReferralStatus::Dispatched
                | ReferralStatus::SignedFor
                | ReferralStatus::Accepted
                | ReferralStatus::Assigned
                | ReferralStatus::AwaitingReview
        )
    }
}

// ---- Joint case, at the board -------------------------------------------------------------

named_enum! {
    /// Where a joint case stands at the joint meeting. Reclassified and SentBack are final for
    /// this agenda item: the case goes back to the brigade, and a resubmission is a new item.
    pub enum JointStatus: "joint case status" {
        OnAgenda => "on_agenda",
        Approved => "approved",
        Decided => "decided",
        Executed => "executed",
        Closed => "closed",
        Reclassified => "reclassified",
        SentBack => "sent_back",
    }
}

named_enum! {
    pub enum JointAction: "joint case action" {
        RecordOpinion => "record_opinion",
        Approve => "approve",
        Reclassify => "reclassify",
        SendBack => "send_back",
        RecordDecision => "record_decision",
        RecordExecution => "record_execution",
        Close => "close",
    }
}

impl JointAction {
    fn phrase(self) -> &'static str {
        match self {
            JointAction::RecordOpinion => "have an opinion recorded",
            JointAction::Approve => "be approved",
            JointAction::Reclassify => "be reclassified",
            JointAction::SendBack => "be sent back",
            JointAction::RecordDecision => "have a decision recorded",
            JointAction::RecordExecution => "have an execution recorded",
            JointAction::Close => "be closed",
        }
    }
}

impl JointStatus {
    pub fn next(self, a: JointAction) -> Result<JointStatus, TransitionError> {
        use JointAction as A;
        use JointStatus as S;
        Ok(match (self, a) {
            // Members give opinions only before the chair rules.
            (S::OnAgenda, A::RecordOpinion) => S::OnAgenda,
            (S::OnAgenda, A::Approve) => S::Approved,
            (S::OnAgenda, A::Reclassify) => S::Reclassified,
            (S::OnAgenda, A::SendBack) => S::SentBack,
            // Several departments may each decide under entrustment, and execution may take
            // several steps, so both repeat until the next stage begins.
            (S::Approved | S::Decided, A::RecordDecision) => S::Decided,
            (S::Decided | S::Executed, A::RecordExecution) => S::Executed,
            (S::Executed, A::Close) => S::Closed,
            (s, a) => return Err(refuse(JOINT, s, a)),
        })
    }
}

// ---- Competence dispute, at the board -----------------------------------------------------

named_enum! {
    /// A dispute over which department is competent, settled by the joint meeting's chair.
    pub enum DisputeStatus: "dispute status" {
        Open => "open",
        Settled => "settled",
    }
}

named_enum! {
    pub enum DisputeAction: "dispute action" {
        Settle => "settle",
    }
}

impl DisputeAction {
    fn phrase(self) -> &'static str {
        match self {
            DisputeAction::Settle => "be settled",
        }
    }
}

impl DisputeStatus {
    pub fn next(self, a: DisputeAction) -> Result<DisputeStatus, TransitionError> {
        match (self, a) {
            (DisputeStatus::Open, DisputeAction::Settle) => Ok(DisputeStatus::Settled),
            (s, a) => Err(refuse(DISPUTE, s, a)),
        }
    }
}

// ---- Handover of a case file or evidence --------------------------------------------------

named_enum! {
    /// A handover (移交) of a case file or evidence between the brigade and a department.
    pub enum HandoverStatus: "handover status" {
        Sent => "sent",
        Received => "received",
        Refused => "refused",
    }
}

named_enum! {
    pub enum HandoverAction: "handover action" {
        Receive => "receive",
        Refuse => "refuse",
    }
}

impl HandoverAction {
    fn phrase(self) -> &'static str {
        match self {
            HandoverAction::Receive => "be received",
            HandoverAction::Refuse => "be refused",
        }
    }
}

impl HandoverStatus {
    pub fn next(self, a: HandoverAction) -> Result<HandoverStatus, TransitionError> {
        match (self, a) {
            (HandoverStatus::Sent, HandoverAction::Receive) => Ok(HandoverStatus::Received),
            (HandoverStatus::Sent, HandoverAction::Refuse) => Ok(HandoverStatus::Refused),
            (s, a) => Err(refuse(HANDOVER, s, a)),
        }
    }
}

// ---- Joint-case task, at a county department ---------------------------------------------

const TASK: &str = "task";

named_enum! {
    /// A department's part in an approved joint case: the lead decides under entrustment,
    /// the cooperating ones assist.
    pub enum TaskRole: "task role" {
        Lead => "lead",
        Cooperating => "cooperating",
    }
}

named_enum! {
    /// Where a joint-case task stands.
    pub enum TaskStatus: "task status" {
        Open => "open",
        AwaitingReview => "awaiting_review",
        Decided => "decided",
        Completed => "completed",
        /// The lead's entrusted decision is to be amended into a major one: the decision in
        /// force stands while the amendment waits for the lead's legal office.
        AmendmentInReview => "amendment_in_review",
        /// The lead revoked its entrusted decision (撤销); nothing remains in force.
        Revoked => "revoked",
    }
}

named_enum! {
    pub enum TaskAction: "task action" {
        RecordDecision => "record_decision",
        Complete => "complete",
        SubmitForReview => "submit_for_review",
        ReviewApproved => "review_approved",
        ReviewReturned => "review_returned",
        /// The lead amends its entrusted decision in force (变更).
        AmendDecision => "amend_decision",
        /// The lead revokes its entrusted decision in force (撤销).
        RevokeDecision => "revoke_decision",
        /// The lead proposes to amend its decision into a major one, for its legal office.
        SubmitAmendmentForReview => "submit_amendment_for_review",
    }
}

impl TaskAction {
    fn phrase(self) -> &'static str {
        match self {
            TaskAction::RecordDecision => "have a decision recorded",
            TaskAction::Complete => "be completed",
            TaskAction::SubmitForReview => "be submitted for review",
            TaskAction::ReviewApproved => "be approved on review",
            TaskAction::ReviewReturned => "be returned on review",
            TaskAction::AmendDecision => "have its decision amended",
            TaskAction::RevokeDecision => "have its decision revoked",
            TaskAction::SubmitAmendmentForReview => {
                "have an amendment of its decision submitted for review"
            }
        }
    }
}

impl TaskStatus {
    /// Only the lead records the entrusted decision; only a cooperating department completes
    /// its task; each once. A major decision waits for the department's legal office: the
    /// approval decides the task, a return (or a suspected crime) opens it again.
    pub fn next(self, role: TaskRole, a: TaskAction) -> Result<TaskStatus, TransitionError> {
        match (self, role, a) {
            (TaskStatus::Open, TaskRole::Lead, TaskAction::RecordDecision) => {
                Ok(TaskStatus::Decided)
            }
            (TaskStatus::Open, TaskRole::Lead, TaskAction::SubmitForReview) => {
                Ok(TaskStatus::AwaitingReview)
            }
            (TaskStatus::AwaitingReview, TaskRole::Lead, TaskAction::ReviewApproved) => {
                Ok(TaskStatus::Decided)
            }
            (TaskStatus::AwaitingReview, TaskRole::Lead, TaskAction::ReviewReturned) => {
                Ok(TaskStatus::Open)
            }
            (TaskStatus::Open, TaskRole::Cooperating, TaskAction::Complete) => {
                Ok(TaskStatus::Completed)
            }
            // The lead may change its decision in force like any deciding body: an amendment
            // stays decided, a revocation leaves nothing; an amendment into a major decision
            // waits for the legal office, the decision in force standing whatever the answer
            // but an approval.
            (TaskStatus::Decided, TaskRole::Lead, TaskAction::AmendDecision) => {
                Ok(TaskStatus::Decided)
            }
            (TaskStatus::Decided, TaskRole::Lead, TaskAction::RevokeDecision) => {
                Ok(TaskStatus::Revoked)
            }
            (TaskStatus::Decided, TaskRole::Lead, TaskAction::SubmitAmendmentForReview) => {
                Ok(TaskStatus::AmendmentInReview)
            }
            (
                TaskStatus::AmendmentInReview,
                TaskRole::Lead,
                TaskAction::ReviewApproved | TaskAction::ReviewReturned,
            ) => Ok(TaskStatus::Decided),
            // The role is part of the state the refusal names: "a task that is open for a
            // cooperating department cannot have a decision recorded".
            (s, role, a) => Err(refuse(
                TASK,
                format!("{s} for a {} department", role.as_str()),
                a,
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{TaskAction as TA, TaskRole as TR, TaskStatus as TS};

    #[test]
    fn tasks_are_decided_by_the_lead_and_completed_by_the_others() {
        assert_eq!(
            TS::Open.next(TR::Lead, TA::RecordDecision).unwrap(),
            TS::Decided
        );
        assert_eq!(
            TS::Open.next(TR::Cooperating, TA::Complete).unwrap(),
            TS::Completed
        );
        assert!(TS::Open.next(TR::Cooperating, TA::RecordDecision).is_err());
        assert!(TS::Open.next(TR::Lead, TA::Complete).is_err());
        assert!(TS::Decided.next(TR::Lead, TA::RecordDecision).is_err());
        assert!(TS::Completed.next(TR::Cooperating, TA::Complete).is_err());
        // The lead changes its decision in force; a cooperating department has none.
        assert_eq!(
            TS::Decided.next(TR::Lead, TA::AmendDecision).unwrap(),
            TS::Decided
        );
        assert_eq!(
            TS::Decided.next(TR::Lead, TA::RevokeDecision).unwrap(),
            TS::Revoked
        );
        assert!(TS::Revoked.next(TR::Lead, TA::RevokeDecision).is_err());
        assert!(
            TS::Completed
                .next(TR::Cooperating, TA::AmendDecision)
                .is_err()
        );
        assert_eq!(
            TS::Decided
                .next(TR::Lead, TA::SubmitAmendmentForReview)
                .unwrap(),
            TS::AmendmentInReview
        );
        for answer in [TA::ReviewApproved, TA::ReviewReturned] {
            assert_eq!(
                TS::AmendmentInReview.next(TR::Lead, answer).unwrap(),
                TS::Decided
            );
        }
        // A major decision: submitted, then approved or returned.
        assert_eq!(
            TS::Open.next(TR::Lead, TA::SubmitForReview).unwrap(),
            TS::AwaitingReview
        );
        assert_eq!(
            TS::AwaitingReview
                .next(TR::Lead, TA::ReviewApproved)
                .unwrap(),
            TS::Decided
        );
        assert_eq!(
            TS::AwaitingReview
                .next(TR::Lead, TA::ReviewReturned)
                .unwrap(),
            TS::Open
        );
        assert!(TS::Open.next(TR::Cooperating, TA::SubmitForReview).is_err());
        assert!(
            TS::AwaitingReview
                .next(TR::Lead, TA::RecordDecision)
                .is_err()
        );
        assert!(
            TS::AwaitingReview
                .next(TR::Lead, TA::SubmitForReview)
                .is_err()
        );
        assert!(TS::Open.next(TR::Lead, TA::ReviewApproved).is_err());
        assert!(TS::Decided.next(TR::Lead, TA::ReviewReturned).is_err());
        assert_eq!(
            TS::AwaitingReview
                .next(TR::Lead, TA::RecordDecision)
                .unwrap_err()
                .to_string(),
            "a task that is awaiting_review for a lead department cannot have a decision recorded"
        );
        assert_eq!(
            TS::Open
                .next(TR::Cooperating, TA::RecordDecision)
                .unwrap_err()
                .to_string(),
            "a task that is open for a cooperating department cannot have a decision recorded"
        );
    }

    use super::*;

    /// Checks that the table covers every (state, action) pair exactly once and that `next`
    /// gives the listed result (None = refused).
    fn check<S, A>(
        table: &[(S, A, Option<S>)],
        all_s: &[S],
        all_a: &[A],
        next: impl Fn(S, A) -> Result<S, TransitionError>,
    ) where
        S: Copy + PartialEq + fmt::Debug,
        A: Copy + PartialEq + fmt::Debug,
    {
        assert_eq!(
            table.len(),
            all_s.len() * all_a.len(),
            "table must list every pair"
        );
        for s in all_s {
            for a in all_a {
                assert_eq!(
                    table
                        .iter()
                        .filter(|(ts, ta, _)| ts == s && ta == a)
                        .count(),
                    1,
                    "({s:?}, {a:?}) must appear once"
                );
            }
        }
        for (s, a, want) in table {
            assert_eq!(next(*s, *a).ok(), *want, "({s:?}, {a:?})");
        }
    }

    #[test]
    fn case_table() {
        use CaseAction as A;
        use CaseStatus as S;
        #[rustfmt::skip]
        let table = [
            (S::Open, A::Assign, Some(S::Assigned)),
            (S::Open, A::RecordAction, None),
            (S::Open, A::Conclude, None),
            (S::Open, A::Refer, Some(S::Referred)),
            (S::Open, A::SubmitToBoard, Some(S::AwaitingBoard)),
            (S::Open, A::BoardApprovedJoint, None),
            (S::Open, A::BoardReclassifiedInScope, None),
            (S::Open, A::BoardReclassifiedOutOfScope, None),
            (S::Open, A::BoardSentBack, None),
            (S::Open, A::ResultReceived, None),
            (S::Open, A::JointExecuted, None),
            (S::Open, A::Reopen, None),
            (S::Open, A::SubmitForReview, None),
            (S::Open, A::ReviewApproved, None),
            (S::Open, A::ReviewReturned, None),
            (S::Open, A::CrimeTransferred, None),
            (S::Open, A::AmendDecision, None),
            (S::Open, A::RevokeDecision, None),
            (S::Assigned, A::Assign, Some(S::Assigned)),
            (S::Assigned, A::RecordAction, Some(S::Assigned)),
            (S::Assigned, A::Conclude, Some(S::Concluded)),
            (S::Assigned, A::Refer, Some(S::Referred)),
            (S::Assigned, A::SubmitToBoard, Some(S::AwaitingBoard)),
            (S::Assigned, A::BoardApprovedJoint, None),
            (S::Assigned, A::BoardReclassifiedInScope, None),
            (S::Assigned, A::BoardReclassifiedOutOfScope, None),
            (S::Assigned, A::BoardSentBack, None),
            (S::Assigned, A::ResultReceived, None),
            (S::Assigned, A::JointExecuted, None),
            (S::Assigned, A::Reopen, None),
            (S::Assigned, A::SubmitForReview, Some(S::AwaitingReview)),
            (S::Assigned, A::ReviewApproved, None),
            (S::Assigned, A::ReviewReturned, None),
            (S::Assigned, A::CrimeTransferred, None),
            (S::Assigned, A::AmendDecision, None),
            (S::Assigned, A::RevokeDecision, None),
            (S::Referred, A::Assign, None),
            (S::Referred, A::RecordAction, None),
            (S::Referred, A::Conclude, None),
            (S::Referred, A::Refer, None),
            (S::Referred, A::SubmitToBoard, None),
            (S::Referred, A::BoardApprovedJoint, None),
            (S::Referred, A::BoardReclassifiedInScope, None),
            (S::Referred, A::BoardReclassifiedOutOfScope, None),
            (S::Referred, A::BoardSentBack, None),
            (S::Referred, A::ResultReceived, Some(S::Closed)),
            (S::Referred, A::JointExecuted, None),
            (S::Referred, A::Reopen, None),
            (S::Referred, A::SubmitForReview, None),
            (S::Referred, A::ReviewApproved, None),
            (S::Referred, A::ReviewReturned, None),
            (S::Referred, A::CrimeTransferred, None),
            (S::Referred, A::AmendDecision, None),
            (S::Referred, A::RevokeDecision, None),
            (S::AwaitingBoard, A::Assign, None),
            (S::AwaitingBoard, A::RecordAction, None),
            (S::AwaitingBoard, A::Conclude, None),
            (S::AwaitingBoard, A::Refer, None),
            (S::AwaitingBoard, A::SubmitToBoard, None),
            (S::AwaitingBoard, A::BoardApprovedJoint, Some(S::Joint)),
            (S::AwaitingBoard, A::BoardReclassifiedInScope, Some(S::Open)),
            (S::AwaitingBoard, A::BoardReclassifiedOutOfScope, Some(S::Referred)),
            (S::AwaitingBoard, A::BoardSentBack, Some(S::Open)),
            (S::AwaitingBoard, A::ResultReceived, None),
            (S::AwaitingBoard, A::JointExecuted, None),
            (S::AwaitingBoard, A::Reopen, None),
            (S::AwaitingBoard, A::SubmitForReview, None),
            (S::AwaitingBoard, A::ReviewApproved, None),
            (S::AwaitingBoard, A::ReviewReturned, None),
            (S::AwaitingBoard, A::CrimeTransferred, None),
            (S::AwaitingBoard, A::AmendDecision, None),
            (S::AwaitingBoard, A::RevokeDecision, None),
            (S::AwaitingReview, A::Assign, None),
            (S::AwaitingReview, A::RecordAction, None),
            (S::AwaitingReview, A::Conclude, None),
            (S::AwaitingReview, A::Refer, None),
            (S::AwaitingReview, A::SubmitToBoard, None),
            (S::AwaitingReview, A::BoardApprovedJoint, None),
            (S::AwaitingReview, A::BoardReclassifiedInScope, None),
            (S::AwaitingReview, A::BoardReclassifiedOutOfScope, None),
            (S::AwaitingReview, A::BoardSentBack, None),
            (S::AwaitingReview, A::ResultReceived, None),
            (S::AwaitingReview, A::JointExecuted, None),
            (S::AwaitingReview, A::Reopen, None),
            (S::AwaitingReview, A::SubmitForReview, None),
            (S::AwaitingReview, A::ReviewApproved, Some(S::Concluded)),
            (S::AwaitingReview, A::ReviewReturned, Some(S::Assigned)),
            (S::AwaitingReview, A::CrimeTransferred, Some(S::Referred)),
            (S::AwaitingReview, A::AmendDecision, None),
            (S::AwaitingReview, A::RevokeDecision, None),
            (S::Joint, A::Assign, None),
            (S::Joint, A::RecordAction, Some(S::Joint)),
            (S::Joint, A::Conclude, None),
            (S::Joint, A::Refer, None),
            (S::Joint, A::SubmitToBoard, None),
            (S::Joint, A::BoardApprovedJoint, None),
            (S::Joint, A::BoardReclassifiedInScope, None),
            (S::Joint, A::BoardReclassifiedOutOfScope, None),
            (S::Joint, A::BoardSentBack, None),
            (S::Joint, A::ResultReceived, None),
            (S::Joint, A::JointExecuted, Some(S::Closed)),
            (S::Joint, A::Reopen, None),
            (S::Joint, A::SubmitForReview, None),
            (S::Joint, A::ReviewApproved, None),
            (S::Joint, A::ReviewReturned, None),
            (S::Joint, A::CrimeTransferred, None),
            (S::Joint, A::AmendDecision, None),
            (S::Joint, A::RevokeDecision, None),
            (S::Concluded, A::Assign, None),
            (S::Concluded, A::RecordAction, None),
            (S::Concluded, A::Conclude, None),
            (S::Concluded, A::Refer, None),
            (S::Concluded, A::SubmitToBoard, None),
            (S::Concluded, A::BoardApprovedJoint, None),
            (S::Concluded, A::BoardReclassifiedInScope, None),
            (S::Concluded, A::BoardReclassifiedOutOfScope, None),
            (S::Concluded, A::BoardSentBack, None),
            (S::Concluded, A::ResultReceived, None),
            (S::Concluded, A::JointExecuted, None),
            (S::Concluded, A::Reopen, Some(S::Open)),
            (S::Concluded, A::SubmitForReview, None),
            (S::Concluded, A::ReviewApproved, None),
            (S::Concluded, A::ReviewReturned, None),
            (S::Concluded, A::CrimeTransferred, None),
            (S::Concluded, A::AmendDecision, Some(S::Concluded)),
            (S::Concluded, A::RevokeDecision, Some(S::Revoked)),
            (S::Closed, A::Assign, None),
            (S::Closed, A::RecordAction, None),
            (S::Closed, A::Conclude, None),
            (S::Closed, A::Refer, None),
            (S::Closed, A::SubmitToBoard, None),
            (S::Closed, A::BoardApprovedJoint, None),
            (S::Closed, A::BoardReclassifiedInScope, None),
            (S::Closed, A::BoardReclassifiedOutOfScope, None),
            (S::Closed, A::BoardSentBack, None),
            (S::Closed, A::ResultReceived, None),
            (S::Closed, A::JointExecuted, None),
            (S::Closed, A::Reopen, Some(S::Open)),
            (S::Closed, A::SubmitForReview, None),
            (S::Closed, A::ReviewApproved, None),
            (S::Closed, A::ReviewReturned, None),
            (S::Closed, A::CrimeTransferred, None),
            (S::Closed, A::AmendDecision, None),
            (S::Closed, A::RevokeDecision, None),
            (S::Revoked, A::Assign, None),
            (S::Revoked, A::RecordAction, None),
            (S::Revoked, A::Conclude, None),
            (S::Revoked, A::Refer, None),
            (S::Revoked, A::SubmitToBoard, None),
            (S::Revoked, A::BoardApprovedJoint, None),
            (S::Revoked, A::BoardReclassifiedInScope, None),
            (S::Revoked, A::BoardReclassifiedOutOfScope, None),
            (S::Revoked, A::BoardSentBack, None),
            (S::Revoked, A::ResultReceived, None),
            (S::Revoked, A::JointExecuted, None),
            (S::Revoked, A::Reopen, Some(S::Open)),
            (S::Revoked, A::SubmitForReview, None),
            (S::Revoked, A::ReviewApproved, None),
            (S::Revoked, A::ReviewReturned, None),
            (S::Revoked, A::CrimeTransferred, None),
            (S::Revoked, A::AmendDecision, None),
            (S::Revoked, A::RevokeDecision, None),
            (S::Open, A::SubmitAmendmentForReview, None),
            (S::Assigned, A::SubmitAmendmentForReview, None),
            (S::Referred, A::SubmitAmendmentForReview, None),
            (S::AwaitingBoard, A::SubmitAmendmentForReview, None),
            (S::AwaitingReview, A::SubmitAmendmentForReview, None),
            (S::Joint, A::SubmitAmendmentForReview, None),
            (S::Concluded, A::SubmitAmendmentForReview, Some(S::AmendmentInReview)),
            (S::Closed, A::SubmitAmendmentForReview, None),
            (S::Revoked, A::SubmitAmendmentForReview, None),
            (S::AmendmentInReview, A::Assign, None),
            (S::AmendmentInReview, A::RecordAction, None),
            (S::AmendmentInReview, A::Conclude, None),
            (S::AmendmentInReview, A::Refer, None),
            (S::AmendmentInReview, A::SubmitToBoard, None),
            (S::AmendmentInReview, A::BoardApprovedJoint, None),
            (S::AmendmentInReview, A::BoardReclassifiedInScope, None),
            (S::AmendmentInReview, A::BoardReclassifiedOutOfScope, None),
            (S::AmendmentInReview, A::BoardSentBack, None),
            (S::AmendmentInReview, A::ResultReceived, None),
            (S::AmendmentInReview, A::JointExecuted, None),
            (S::AmendmentInReview, A::Reopen, None),
            (S::AmendmentInReview, A::SubmitForReview, None),
            (S::AmendmentInReview, A::ReviewApproved, Some(S::Concluded)),
            (S::AmendmentInReview, A::ReviewReturned, Some(S::Concluded)),
            (S::AmendmentInReview, A::CrimeTransferred, Some(S::Referred)),
            (S::AmendmentInReview, A::AmendDecision, None),
            (S::AmendmentInReview, A::RevokeDecision, None),
            (S::AmendmentInReview, A::SubmitAmendmentForReview, None),
            (S::Open, A::AwaitDiscussion, None),
            (S::Open, A::Discuss, None),
            (S::Assigned, A::AwaitDiscussion, None),
            (S::Assigned, A::Discuss, None),
            (S::Referred, A::AwaitDiscussion, None),
            (S::Referred, A::Discuss, None),
            (S::AwaitingBoard, A::AwaitDiscussion, None),
            (S::AwaitingBoard, A::Discuss, None),
            (S::AwaitingReview, A::AwaitDiscussion, Some(S::AwaitingDiscussion)),
            (S::AwaitingReview, A::Discuss, None),
            (S::Joint, A::AwaitDiscussion, None),
            (S::Joint, A::Discuss, None),
            (S::Concluded, A::AwaitDiscussion, None),
            (S::Concluded, A::Discuss, None),
            (S::Closed, A::AwaitDiscussion, None),
            (S::Closed, A::Discuss, None),
            (S::Revoked, A::AwaitDiscussion, None),
            (S::Revoked, A::Discuss, None),
            (S::AmendmentInReview, A::AwaitDiscussion, None),
            (S::AmendmentInReview, A::Discuss, None),
            (S::AwaitingDiscussion, A::Assign, None),
            (S::AwaitingDiscussion, A::RecordAction, None),
            (S::AwaitingDiscussion, A::Conclude, None),
            (S::AwaitingDiscussion, A::Refer, None),
            (S::AwaitingDiscussion, A::SubmitToBoard, None),
            (S::AwaitingDiscussion, A::BoardApprovedJoint, None),
            (S::AwaitingDiscussion, A::BoardReclassifiedInScope, None),
            (S::AwaitingDiscussion, A::BoardReclassifiedOutOfScope, None),
            (S::AwaitingDiscussion, A::BoardSentBack, None),
            (S::AwaitingDiscussion, A::ResultReceived, None),
            (S::AwaitingDiscussion, A::JointExecuted, None),
            (S::AwaitingDiscussion, A::Reopen, None),
            (S::AwaitingDiscussion, A::SubmitForReview, None),
            (S::AwaitingDiscussion, A::ReviewApproved, None),
            (S::AwaitingDiscussion, A::ReviewReturned, None),
            (S::AwaitingDiscussion, A::CrimeTransferred, None),
            (S::AwaitingDiscussion, A::AmendDecision, None),
            (S::AwaitingDiscussion, A::RevokeDecision, None),
            (S::AwaitingDiscussion, A::SubmitAmendmentForReview, None),
            (S::AwaitingDiscussion, A::AwaitDiscussion, None),
            (S::AwaitingDiscussion, A::Discuss, Some(S::Concluded)),
        ];
        check(&table, S::ALL, A::ALL, S::next);
    }

    #[test]
    fn referral_table() {
        use ReferralAction as A;
        use ReferralStatus as S;
        #[rustfmt::skip]
        let table = [
            (S::Dispatched, A::SignFor, Some(S::SignedFor)),
            (S::Dispatched, A::Accept, Some(S::Accepted)),
            (S::Dispatched, A::Return, Some(S::Returned)),
            (S::Dispatched, A::Assign, None),
            (S::Dispatched, A::Conclude, None),
            (S::Dispatched, A::Withdraw, Some(S::Withdrawn)),
            (S::Dispatched, A::SubmitForReview, None),
            (S::Dispatched, A::ReviewApproved, None),
            (S::Dispatched, A::ReviewReturned, None),
            (S::Dispatched, A::CrimeFound, None),
            (S::Dispatched, A::AmendDecision, None),
            (S::Dispatched, A::RevokeDecision, None),
            (S::SignedFor, A::SignFor, None),
            (S::SignedFor, A::Accept, Some(S::Accepted)),
            (S::SignedFor, A::Return, Some(S::Returned)),
            (S::SignedFor, A::Assign, None),
            (S::SignedFor, A::Conclude, None),
            (S::SignedFor, A::Withdraw, Some(S::Withdrawn)),
            (S::SignedFor, A::SubmitForReview, None),
            (S::SignedFor, A::ReviewApproved, None),
            (S::SignedFor, A::ReviewReturned, None),
            (S::SignedFor, A::CrimeFound, None),
            (S::SignedFor, A::AmendDecision, None),
            (S::SignedFor, A::RevokeDecision, None),
            (S::Accepted, A::SignFor, None),
            (S::Accepted, A::Accept, None),
            (S::Accepted, A::Return, None),
            (S::Accepted, A::Assign, Some(S::Assigned)),
            (S::Accepted, A::Conclude, Some(S::Concluded)),
            (S::Accepted, A::Withdraw, Some(S::Withdrawn)),
            (S::Accepted, A::SubmitForReview, Some(S::AwaitingReview)),
            (S::Accepted, A::ReviewApproved, None),
            (S::Accepted, A::ReviewReturned, None),
            (S::Accepted, A::CrimeFound, None),
            (S::Accepted, A::AmendDecision, None),
            (S::Accepted, A::RevokeDecision, None),
            (S::Assigned, A::SignFor, None),
            (S::Assigned, A::Accept, None),
            (S::Assigned, A::Return, None),
            (S::Assigned, A::Assign, Some(S::Assigned)),
            (S::Assigned, A::Conclude, Some(S::Concluded)),
            (S::Assigned, A::Withdraw, Some(S::Withdrawn)),
            (S::Assigned, A::SubmitForReview, Some(S::AwaitingReview)),
            (S::Assigned, A::ReviewApproved, None),
            (S::Assigned, A::ReviewReturned, None),
            (S::Assigned, A::CrimeFound, None),
            (S::Assigned, A::AmendDecision, None),
            (S::Assigned, A::RevokeDecision, None),
            (S::AwaitingReview, A::SignFor, None),
            (S::AwaitingReview, A::Accept, None),
            (S::AwaitingReview, A::Return, None),
            (S::AwaitingReview, A::Assign, None),
            (S::AwaitingReview, A::Conclude, None),
            (S::AwaitingReview, A::Withdraw, Some(S::Withdrawn)),
            (S::AwaitingReview, A::SubmitForReview, None),
            (S::AwaitingReview, A::ReviewApproved, Some(S::Concluded)),
            (S::AwaitingReview, A::ReviewReturned, Some(S::Assigned)),
            (S::AwaitingReview, A::CrimeFound, Some(S::Returned)),
            (S::AwaitingReview, A::AmendDecision, None),
            (S::AwaitingReview, A::RevokeDecision, None),
            (S::Concluded, A::SignFor, None),
            (S::Concluded, A::Accept, None),
            (S::Concluded, A::Return, None),
            (S::Concluded, A::Assign, None),
            (S::Concluded, A::Conclude, None),
            (S::Concluded, A::Withdraw, None),
            (S::Concluded, A::SubmitForReview, None),
            (S::Concluded, A::ReviewApproved, None),
            (S::Concluded, A::ReviewReturned, None),
            (S::Concluded, A::CrimeFound, None),
            (S::Concluded, A::AmendDecision, Some(S::Concluded)),
            (S::Concluded, A::RevokeDecision, Some(S::Revoked)),
            (S::Returned, A::SignFor, None),
            (S::Returned, A::Accept, None),
            (S::Returned, A::Return, None),
            (S::Returned, A::Assign, None),
            (S::Returned, A::Conclude, None),
            (S::Returned, A::Withdraw, None),
            (S::Returned, A::SubmitForReview, None),
            (S::Returned, A::ReviewApproved, None),
            (S::Returned, A::ReviewReturned, None),
            (S::Returned, A::CrimeFound, None),
            (S::Returned, A::AmendDecision, None),
            (S::Returned, A::RevokeDecision, None),
            (S::Withdrawn, A::SignFor, None),
            (S::Withdrawn, A::Accept, None),
            (S::Withdrawn, A::Return, None),
            (S::Withdrawn, A::Assign, None),
            (S::Withdrawn, A::Conclude, None),
            (S::Withdrawn, A::Withdraw, None),
            (S::Withdrawn, A::SubmitForReview, None),
            (S::Withdrawn, A::ReviewApproved, None),
            (S::Withdrawn, A::ReviewReturned, None),
            (S::Withdrawn, A::CrimeFound, None),
            (S::Withdrawn, A::AmendDecision, None),
            (S::Withdrawn, A::RevokeDecision, None),
            (S::Revoked, A::SignFor, None),
            (S::Revoked, A::Accept, None),
            (S::Revoked, A::Return, None),
            (S::Revoked, A::Assign, None),
            (S::Revoked, A::Conclude, None),
            (S::Revoked, A::Withdraw, None),
            (S::Revoked, A::SubmitForReview, None),
            (S::Revoked, A::ReviewApproved, None),
            (S::Revoked, A::ReviewReturned, None),
            (S::Revoked, A::CrimeFound, None),
            (S::Revoked, A::AmendDecision, None),
            (S::Revoked, A::RevokeDecision, None),
            (S::Dispatched, A::SubmitAmendmentForReview, None),
            (S::SignedFor, A::SubmitAmendmentForReview, None),
            (S::Accepted, A::SubmitAmendmentForReview, None),
            (S::Assigned, A::SubmitAmendmentForReview, None),
            (S::AwaitingReview, A::SubmitAmendmentForReview, None),
            (S::Concluded, A::SubmitAmendmentForReview, Some(S::AmendmentInReview)),
            (S::Returned, A::SubmitAmendmentForReview, None),
            (S::Withdrawn, A::SubmitAmendmentForReview, None),
            (S::Revoked, A::SubmitAmendmentForReview, None),
            (S::AmendmentInReview, A::SignFor, None),
            (S::AmendmentInReview, A::Accept, None),
            (S::AmendmentInReview, A::Return, None),
            (S::AmendmentInReview, A::Assign, None),
            (S::AmendmentInReview, A::Conclude, None),
            (S::AmendmentInReview, A::Withdraw, None),
            (S::AmendmentInReview, A::SubmitForReview, None),
            (S::AmendmentInReview, A::ReviewApproved, Some(S::Concluded)),
            (S::AmendmentInReview, A::ReviewReturned, Some(S::Concluded)),
            (S::AmendmentInReview, A::CrimeFound, Some(S::Concluded)),
            (S::AmendmentInReview, A::AmendDecision, None),
            (S::AmendmentInReview, A::RevokeDecision, None),
            (S::AmendmentInReview, A::SubmitAmendmentForReview, None),
        ];
        check(&table, S::ALL, A::ALL, S::next);

        let open: Vec<S> = S::ALL.iter().copied().filter(|s| s.is_open()).collect();
        assert_eq!(
            open,
            vec![
                S::Dispatched,
                S::SignedFor,
                S::Accepted,
                S::Assigned,
                S::AwaitingReview
            ]
        );
    }

    #[test]
    fn joint_table() {
        use JointAction as A;
        use JointStatus as S;
        #[rustfmt::skip]
        let table = [
            (S::OnAgenda, A::RecordOpinion, Some(S::OnAgenda)),
            (S::OnAgenda, A::Approve, Some(S::Approved)),
            (S::OnAgenda, A::Reclassify, Some(S::Reclassified)),
            (S::OnAgenda, A::SendBack, Some(S::SentBack)),
            (S::OnAgenda, A::RecordDecision, None),
            (S::OnAgenda, A::RecordExecution, None),
            (S::OnAgenda, A::Close, None),
            (S::Approved, A::RecordOpinion, None),
            (S::Approved, A::Approve, None),
            (S::Approved, A::Reclassify, None),
            (S::Approved, A::SendBack, None),
            (S::Approved, A::RecordDecision, Some(S::Decided)),
            (S::Approved, A::RecordExecution, None),
            (S::Approved, A::Close, None),
            (S::Decided, A::RecordOpinion, None),
            (S::Decided, A::Approve, None),
            (S::Decided, A::Reclassify, None),
            (S::Decided, A::SendBack, None),
            (S::Decided, A::RecordDecision, Some(S::Decided)),
            (S::Decided, A::RecordExecution, Some(S::Executed)),
            (S::Decided, A::Close, None),
            (S::Executed, A::RecordOpinion, None),
            (S::Executed, A::Approve, None),
            (S::Executed, A::Reclassify, None),
            (S::Executed, A::SendBack, None),
            (S::Executed, A::RecordDecision, None),
            (S::Executed, A::RecordExecution, Some(S::Executed)),
            (S::Executed, A::Close, Some(S::Closed)),
            (S::Closed, A::RecordOpinion, None),
            (S::Closed, A::Approve, None),
            (S::Closed, A::Reclassify, None),
            (S::Closed, A::SendBack, None),
            (S::Closed, A::RecordDecision, None),
            (S::Closed, A::RecordExecution, None),
            (S::Closed, A::Close, None),
            (S::Reclassified, A::RecordOpinion, None),
            (S::Reclassified, A::Approve, None),
            (S::Reclassified, A::Reclassify, None),
            (S::Reclassified, A::SendBack, None),
            (S::Reclassified, A::RecordDecision, None),
            (S::Reclassified, A::RecordExecution, None),
            (S::Reclassified, A::Close, None),
            (S::SentBack, A::RecordOpinion, None),
            (S::SentBack, A::Approve, None),
            (S::SentBack, A::Reclassify, None),
            (S::SentBack, A::SendBack, None),
            (S::SentBack, A::RecordDecision, None),
            (S::SentBack, A::RecordExecution, None),
            (S::SentBack, A::Close, None),
        ];
        check(&table, S::ALL, A::ALL, S::next);
    }

    #[test]
    fn dispute_and_handover_tables() {
        #[rustfmt::skip]
        let disputes = [
            (DisputeStatus::Open, DisputeAction::Settle, Some(DisputeStatus::Settled)),
            (DisputeStatus::Settled, DisputeAction::Settle, None),
        ];
        check(
            &disputes,
            DisputeStatus::ALL,
            DisputeAction::ALL,
            DisputeStatus::next,
        );

        #[rustfmt::skip]
        let handovers = [
            (HandoverStatus::Sent, HandoverAction::Receive, Some(HandoverStatus::Received)),
            (HandoverStatus::Sent, HandoverAction::Refuse, Some(HandoverStatus::Refused)),
            (HandoverStatus::Received, HandoverAction::Receive, None),
            (HandoverStatus::Received, HandoverAction::Refuse, None),
            (HandoverStatus::Refused, HandoverAction::Receive, None),
            (HandoverStatus::Refused, HandoverAction::Refuse, None),
        ];
        check(
            &handovers,
            HandoverStatus::ALL,
            HandoverAction::ALL,
            HandoverStatus::next,
        );
    }

    #[test]
    fn refusals_explain_themselves() {
        let e = ReferralStatus::SignedFor
            .next(ReferralAction::SignFor)
            .unwrap_err();
        assert_eq!(
            e,
            TransitionError {
                machine: "referral",
                from: "signed_for".into(),
                action: "sign_for".into()
            }
        );
        assert_eq!(
            e.to_string(),
            "a referral that is signed_for cannot be signed for"
        );
        assert_eq!(
            CaseStatus::Referred
                .next(CaseAction::Conclude)
                .unwrap_err()
                .to_string(),
            "a case that is referred cannot be concluded"
        );
        assert_eq!(
            JointStatus::Approved
                .next(JointAction::RecordOpinion)
                .unwrap_err()
                .to_string(),
            "a joint case that is approved cannot have an opinion recorded"
        );
        assert_eq!(
            DisputeStatus::Settled
                .next(DisputeAction::Settle)
                .unwrap_err()
                .to_string(),
            "a competence dispute that is settled cannot be settled"
        );
        assert_eq!(
            HandoverStatus::Refused
                .next(HandoverAction::Receive)
                .unwrap_err()
                .to_string(),
            "a handover that is refused cannot be received"
        );
    }

    #[test]
    fn names_round_trip_and_unknown_names_are_refused() {
        #[rustfmt::skip]
        let names = [
            (CaseStatus::AwaitingBoard.as_str(), "awaiting_board"),
            (CaseAction::BoardReclassifiedOutOfScope.as_str(), "board_reclassified_out_of_scope"),
            (ReferralStatus::SignedFor.as_str(), "signed_for"),
            (ReferralAction::SignFor.as_str(), "sign_for"),
            (JointStatus::OnAgenda.as_str(), "on_agenda"),
            (JointAction::RecordExecution.as_str(), "record_execution"),
            (DisputeStatus::Settled.as_str(), "settled"),
            (HandoverStatus::Refused.as_str(), "refused"),
        ];
        for (got, want) in names {
            assert_eq!(got, want);
        }
        for s in CaseStatus::ALL {
            assert_eq!(CaseStatus::parse(s.as_str()), Ok(*s));
        }
        for s in ReferralStatus::ALL {
            assert_eq!(ReferralStatus::parse(s.as_str()), Ok(*s));
        }
        for s in JointStatus::ALL {
            assert_eq!(JointStatus::parse(s.as_str()), Ok(*s));
        }
        for s in DisputeStatus::ALL {
            assert_eq!(DisputeStatus::parse(s.as_str()), Ok(*s));
        }
        for s in HandoverStatus::ALL {
            assert_eq!(HandoverStatus::parse(s.as_str()), Ok(*s));
        }
        assert_eq!(
            CaseStatus::parse("Open").unwrap_err().to_string(),
            "unknown case status \"Open\""
        );
    }
}
