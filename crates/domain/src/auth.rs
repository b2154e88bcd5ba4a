//! Who may do what: roles, actors, actions, and the single `permits` check.

use crate::ids::{DepartmentCode, OfficerId, TownCode};
use crate::state::named_enum;

named_enum! {
    /// What a person does in the hub; each role belongs to a town or to a county department.
    pub enum Role: "role" {
        BrigadeOfficer => "brigade_officer",
        BrigadeCaptain => "brigade_captain",
        BoardChair => "board_chair",
        BoardMember => "board_member",
        CountyDispatcher => "county_dispatcher",
        CountyInvestigator => "county_investigator",
        JudicialReviewer => "judicial_reviewer",
        DepartmentLegalOfficer => "department_legal_officer",
        Viewer => "viewer",
    }
}

named_enum! {
    /// Something an actor asks to do; the services check each request against one of these.
    pub enum Action: "action" {
        ReportCase => "report_case",
        ReadCase => "read_case",
        AssignCase => "assign_case",
        RecordCaseAction => "record_case_action",
        ConcludeCase => "conclude_case",
        OverrideTriage => "override_triage",
        SubmitToBoard => "submit_to_board",
        ReadAgenda => "read_agenda",
        RecordOpinion => "record_opinion",
        ApproveJoint => "approve_joint",
        ReclassifyJoint => "reclassify_joint",
        SendBackJoint => "send_back_joint",
        SettleDispute => "settle_dispute",
        RecordMeeting => "record_meeting",
        ReadInbox => "read_inbox",
        SignForReferral => "sign_for_referral",
        AcceptReferral => "accept_referral",
        ReturnReferral => "return_referral",
        AssignReferral => "assign_referral",
        ConcludeReferral => "conclude_referral",
        RecordEntrustedDecision => "record_entrusted_decision",
        CompleteTask => "complete_task",
        RecordExecution => "record_execution",
        ReviewDecision => "review_decision",
        ReadDashboard => "read_dashboard",
        RegisterOfficer => "register_officer",
        UploadEvidence => "upload_evidence",
        PublishDisclosure => "publish_disclosure",
        WithdrawDisclosure => "withdraw_disclosure",
        /// Amend or revoke a decision in force, in the name of the body that made it.
        ChangeDecision => "change_decision",
        /// Verify a case's record, read its documents and export its dossier.
        ReadRecord => "read_record",
        /// Read the log of who read the town's case files and personal data.
        ReadAccessLog => "read_access_log",
        /// Ask the joint meeting's chair for more time on an obligation (延期).
        RequestExtension => "request_extension",
        /// Grant or refuse an extension.
        DecideExtension => "decide_extension",
        /// Record a patrol or a traffic-persuasion turnout (not cases).
        RecordPatrol => "record_patrol",
        /// Record a reporter's satisfaction with a concluded case (回访), and reopen it when
        /// they are not satisfied.
        RecordCallback => "record_callback",
        /// Record an extension of a case's decision period approved by the head its rule names
        /// (the brigade's captain records it).
        ExtendDecisionPeriod => "extend_decision_period",
        /// Record the heads' collective discussion of a case (集体讨论, 行政处罚法 第五十七条).
        DiscussCase => "discuss_case",
    }
}

/// Where a role's authority lies.
enum Reach {
    /// Brigade, joint meeting and judicial office: one town, whatever department is involved.
    Town,
    /// County departments: their own department's inbox, in every town of the county.
    Department,
}

impl Role {
    fn reach(self) -> Option<Reach> {
        match self {
            Role::BrigadeOfficer
            | Role::BrigadeCaptain
            | Role::BoardChair
            | Role::BoardMember
            | Role::JudicialReviewer => Some(Reach::Town),
            Role::CountyDispatcher | Role::CountyInvestigator | Role::DepartmentLegalOfficer => {
                Some(Reach::Department)
            }
            // A viewer may be a town's, a department's, or the county's.
            Role::Viewer => None,
        }
    }

    /// Whether the role may ever take `action`, wherever the resource lies.
    pub fn may(self, action: Action) -> bool {
        use Action as A;
        match self {
            // Officers conclude in-scope cases themselves; assigning and overriding triage are
            // the captain's. The brigade co-executes joint cases, so it records executions.
            Role::BrigadeOfficer => matches!(
                action,
                A::ReportCase
                    | A::ReadCase
                    | A::RecordCaseAction
                    | A::ConcludeCase
                    | A::SubmitToBoard
                    | A::RecordExecution
                    | A::UploadEvidence
                    | A::ReadRecord
                    | A::RecordPatrol
                    | A::RecordCallback
            ),
            // The captain also keeps the town's certificate registry and publishes the town's
            // decisions (谁执法谁公示).
            Role::BrigadeCaptain => {
                Role::BrigadeOfficer.may(action)
                    || matches!(
                        action,
                        A::AssignCase
                            | A::DiscussCase
                            | A::OverrideTriage
                            | A::RegisterOfficer
                            | A::PublishDisclosure
                            | A::WithdrawDisclosure
                            | A::ChangeDecision
                            | A::ExtendDecisionPeriod
                    )
            }
            Role::BoardMember => matches!(
                action,
                A::ReadAgenda | A::RecordOpinion | A::ReadCase | A::ReadRecord
            ),
            Role::BoardChair => {
                Role::BoardMember.may(action)
                    || matches!(
                        action,
                        A::ApproveJoint
                            | A::ReclassifyJoint
                            | A::SendBackJoint
                            | A::SettleDispute
                            | A::RecordMeeting
                            | A::ReadDashboard
                            | A::DecideExtension
                    )
            }
            Role::CountyDispatcher => matches!(
                action,
                A::ReadInbox
                    | A::SignForReferral
                    | A::AcceptReferral
                    | A::ReturnReferral
                    | A::AssignReferral
                    | A::ConcludeReferral
                    | A::RecordEntrustedDecision
                    | A::CompleteTask
                    | A::UploadEvidence
                    | A::RegisterOfficer
                    | A::PublishDisclosure
                    | A::WithdrawDisclosure
                    | A::ChangeDecision
                    | A::ReadRecord
                    | A::RequestExtension
            ),
            // Investigators work what the dispatcher gave them; routing it is not theirs.
            Role::CountyInvestigator => matches!(
                action,
                A::ReadInbox
                    | A::CompleteTask
                    | A::ConcludeReferral
                    | A::RecordEntrustedDecision
                    | A::UploadEvidence
                    | A::ReadRecord
            ),
            // A department's own legal office reviews the department's major decisions, and
            // may verify the record of a case its department took part in.
            Role::DepartmentLegalOfficer => matches!(action, A::ReviewDecision | A::ReadRecord),
            // The town's judicial office also oversees who read the town's case files.
            Role::JudicialReviewer => matches!(
                action,
                A::ReviewDecision | A::ReadCase | A::ReadRecord | A::ReadAccessLog
            ),
            Role::Viewer => matches!(action, A::ReadDashboard | A::ReadCase | A::ReadRecord),
        }
    }
}

/// An actor whose role and scope do not fit together.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a {role} {problem}")]
pub struct AuthError {
    pub role: Role,
    pub problem: &'static str,
}

/// A person acting in a role, with the town or department the role belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    pub officer: OfficerId,
    pub role: Role,
    pub town: Option<TownCode>,
    pub department: Option<DepartmentCode>,
}

impl Actor {
    /// Checks that the scope fits the role: town roles have a town and no department, county
    /// roles a department and no town (they serve every town), a viewer at most one of them.
    pub fn new(
        officer: OfficerId,
        role: Role,
        town: Option<TownCode>,
        department: Option<DepartmentCode>,
    ) -> Result<Actor, AuthError> {
        let problem = match (role.reach(), &town, &department) {
            (Some(Reach::Town), None, _) => Some("must belong to a town"),
            (Some(Reach::Town), Some(_), Some(_)) => Some("must not belong to a department"),
            (Some(Reach::Department), _, None) => Some("must belong to a department"),
            (Some(Reach::Department), Some(_), Some(_)) => Some("must not belong to a town"),
            (None, Some(_), Some(_)) => Some("may belong to a town or a department, not both"),
            _ => None,
        };
        match problem {
            Some(problem) => Err(AuthError { role, problem }),
            None => Ok(Actor {
                officer,
                role,
                town,
                department,
            }),
        }
    }
}

/// What an action is taken on: the town it belongs to and, for referrals and tasks, the
/// department it is addressed to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resource {
    pub town: TownCode,
    pub department: Option<DepartmentCode>,
}

/// Why an action is refused, as a sentence naming the role and action or scope.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{reason}")]
pub struct Denied {
    pub reason: String,
}

fn deny(reason: String) -> Result<(), Denied> {
    Err(Denied { reason })
}

/// Whether `actor` may take `action` on `resource`. The role must allow the action, and the
/// resource must lie in the actor's scope: town roles act only in their town, county roles only
/// on what is addressed to their department (in any town), a viewer within its town or
/// department, or county-wide if it has neither.
pub fn permits(actor: &Actor, action: Action, resource: &Resource) -> Result<(), Denied> {
    let role = actor.role;
    if !role.may(action) {
        return deny(format!("a {role} may not {action}"));
    }
    let check_town = |town: &Option<TownCode>| match town {
        Some(t) if *t == resource.town => Ok(()),
        Some(t) => deny(format!(
            "a {role} of town {t} may not act in town {}",
            resource.town
        )),
        None => deny(format!(
            "a {role} without a town may not act in town {}",
            resource.town
        )),
    };
    let check_department =
        |department: &Option<DepartmentCode>| match (department, &resource.department) {
            (Some(d), Some(r)) if d == r => Ok(()),
            (Some(d), Some(r)) => deny(format!(
                "a {role} of {d} may not act on what is addressed to {r}"
            )),
            (Some(d), None) => deny(format!(
                "a {role} of {d} may not act on what is not addressed to a department"
            )),
            (None, _) => deny(format!(
                "a {role} without a department may not act on a department's behalf"
            )),
        };
    match role.reach() {
        Some(Reach::Town) => check_town(&actor.town),
        Some(Reach::Department) => check_department(&actor.department),
        None => match (&actor.town, &actor.department) {
            (Some(_), _) => check_town(&actor.town),
            (None, Some(_)) => check_department(&actor.department),
            (None, None) => Ok(()),
        },
    }
}

/// Whether `actor` may take `action` on everything addressed to `department` in every town
/// (a department's whole inbox): only that department's own staff, or a county-wide viewer.
pub fn permits_department_wide(
    actor: &Actor,
    action: Action,
    department: &DepartmentCode,
) -> Result<(), Denied> {
    let role = actor.role;
    if !role.may(action) {
        return deny(format!("a {role} may not {action}"));
    }
    match (&actor.town, &actor.department) {
        (None, Some(d)) if d == department => Ok(()),
        (None, None) if role == Role::Viewer => Ok(()),
        (None, Some(d)) => deny(format!(
            "a {role} of {d} may not act on what is addressed to {department}"
        )),
        _ => deny(format!(
            "a {role} of a town may not act on all that is addressed to {department}"
        )),
    }
}

/// Whether `actor` may take `action` (reading or verifying the record, documents and dossier)
/// on a case of `town` that the departments `involved` took part in (a referral, a handover or
/// a joint-case task addressed to them). Town roles read their own town's cases; a department's
/// staff, and a department's viewer, only the cases their department was involved in, in any
/// town; a county-wide viewer every case.
pub fn permits_case_record(
    actor: &Actor,
    action: Action,
    town: &TownCode,
    involved: &[DepartmentCode],
) -> Result<(), Denied> {
    let department = match (&actor.town, &actor.department) {
        (None, Some(d)) => d,
        // Town roles and the county-wide viewer: the ordinary town-scoped rule.
        _ => {
            return permits(
                actor,
                action,
                &Resource {
                    town: town.clone(),
                    department: None,
                },
            );
        }
    };
    if !involved.contains(department) {
        let role = actor.role;
        if !role.may(action) {
            return deny(format!("a {role} may not {action}"));
        }
        return deny(format!(
            "a {role} of {department} may not {action} of a case {department} was not involved in \
             (no referral, handover or joint-case task to it)"
        ));
    }
    permits(
        actor,
        action,
        &Resource {
            town: town.clone(),
            department: Some(department.clone()),
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_department_reads_its_whole_inbox() {
        let d1 = DepartmentCode::parse("forestry").unwrap();
        let d2 = DepartmentCode::parse("public_security").unwrap();
        let t1 = TownCode::parse("330782101").unwrap();
        let officer = OfficerId::parse("x").unwrap();
        let dispatcher = Actor::new(
            officer.clone(),
            Role::CountyDispatcher,
            None,
            Some(d1.clone()),
        )
        .unwrap();
        let captain = Actor::new(officer.clone(), Role::BrigadeCaptain, Some(t1), None).unwrap();
        let viewer = Actor::new(officer, Role::Viewer, None, None).unwrap();
        assert!(permits_department_wide(&dispatcher, Action::ReadInbox, &d1).is_ok());
        assert_eq!(
            permits_department_wide(&dispatcher, Action::ReadInbox, &d2)
                .unwrap_err()
                .reason,
            "a county_dispatcher of forestry may not act on what is addressed to public_security"
        );
        assert!(permits_department_wide(&captain, Action::ReadInbox, &d1).is_err());
        assert!(permits_department_wide(&viewer, Action::ReadInbox, &d1).is_err());
        assert!(permits_department_wide(&viewer, Action::ReadCase, &d1).is_ok());
    }

    const T1: &str = "330782101";
    const T2: &str = "330782102";
    const D1: &str = "forestry";
    const D2: &str = "public_security";

    /// Where the resource lies relative to the actor, whose town is T1 (town roles and the
    /// viewer) or whose department is D1 (county roles).
    #[derive(Debug, Clone, Copy)]
    enum Scope {
        /// Town T1, addressed to D1.
        Own,
        /// Town T2, addressed to D1.
        OtherTown,
        /// Town T1, addressed to D2.
        OtherDepartment,
        /// Town T1, addressed to no department (a case of the brigade).
        NoDepartment,
    }

    fn resource(scope: Scope) -> Resource {
        let (town, dept) = match scope {
            Scope::Own => (T1, Some(D1)),
            Scope::OtherTown => (T2, Some(D1)),
            Scope::OtherDepartment => (T1, Some(D2)),
            Scope::NoDepartment => (T1, None),
        };
        Resource {
            town: TownCode::parse(town).unwrap(),
            department: dept.map(|d| DepartmentCode::parse(d).unwrap()),
        }
    }

    fn actor(role: Role) -> Actor {
        let town = Some(TownCode::parse(T1).unwrap());
        let dept = Some(DepartmentCode::parse(D1).unwrap());
        let (town, dept) = match role {
            Role::CountyDispatcher | Role::CountyInvestigator | Role::DepartmentLegalOfficer => {
                (None, dept)
            }
            _ => (town, None),
        };
        Actor::new(OfficerId::parse("zhang.san").unwrap(), role, town, dept).unwrap()
    }

    use Action as A;
    use Role as R;
    use Scope as S;

    #[rustfmt::skip]
    const ROWS: &[(Role, Action, Scope, bool)] = &[
        // the actions of the three systems, every role, own resource
        (R::BrigadeOfficer, A::RegisterOfficer, S::Own, false),
        (R::BrigadeOfficer, A::UploadEvidence, S::Own, true),
        (R::BrigadeOfficer, A::PublishDisclosure, S::Own, false),
        (R::BrigadeOfficer, A::WithdrawDisclosure, S::Own, false),
        (R::BrigadeCaptain, A::RegisterOfficer, S::Own, true),
        (R::BrigadeCaptain, A::UploadEvidence, S::Own, true),
        (R::BrigadeCaptain, A::PublishDisclosure, S::Own, true),
        (R::BrigadeCaptain, A::WithdrawDisclosure, S::Own, true),
        (R::BrigadeCaptain, A::PublishDisclosure, S::OtherTown, false),
        (R::BoardChair, A::RegisterOfficer, S::Own, false),
        (R::BoardChair, A::UploadEvidence, S::Own, false),
        (R::BoardChair, A::PublishDisclosure, S::Own, false),
        (R::BoardChair, A::WithdrawDisclosure, S::Own, false),
        (R::BoardMember, A::RegisterOfficer, S::Own, false),
        (R::BoardMember, A::UploadEvidence, S::Own, false),
        (R::BoardMember, A::PublishDisclosure, S::Own, false),
        (R::BoardMember, A::WithdrawDisclosure, S::Own, false),
        (R::CountyDispatcher, A::RegisterOfficer, S::Own, true),
        (R::CountyDispatcher, A::UploadEvidence, S::Own, true),
        (R::CountyDispatcher, A::PublishDisclosure, S::Own, true),
        (R::CountyDispatcher, A::WithdrawDisclosure, S::Own, true),
        (R::CountyDispatcher, A::PublishDisclosure, S::OtherDepartment, false),
        (R::CountyInvestigator, A::RegisterOfficer, S::Own, false),
        (R::CountyInvestigator, A::UploadEvidence, S::Own, true),
        (R::CountyInvestigator, A::PublishDisclosure, S::Own, false),
        (R::CountyInvestigator, A::WithdrawDisclosure, S::Own, false),
        (R::JudicialReviewer, A::RegisterOfficer, S::Own, false),
        (R::JudicialReviewer, A::UploadEvidence, S::Own, false),
        (R::JudicialReviewer, A::PublishDisclosure, S::Own, false),
        (R::JudicialReviewer, A::WithdrawDisclosure, S::Own, false),
        (R::Viewer, A::RegisterOfficer, S::Own, false),
        (R::Viewer, A::UploadEvidence, S::Own, false),
        (R::Viewer, A::PublishDisclosure, S::Own, false),
        (R::Viewer, A::WithdrawDisclosure, S::Own, false),
        // changing a decision (the deciding body) and reading a case's record, every role
        (R::BrigadeOfficer, A::ChangeDecision, S::Own, false),
        (R::BrigadeOfficer, A::ReadRecord, S::Own, true),
        (R::BrigadeCaptain, A::ChangeDecision, S::Own, true),
        (R::BrigadeCaptain, A::ReadRecord, S::Own, true),
        (R::BoardChair, A::ChangeDecision, S::Own, false),
        (R::BoardChair, A::ReadRecord, S::Own, true),
        (R::BoardMember, A::ChangeDecision, S::Own, false),
        (R::BoardMember, A::ReadRecord, S::Own, true),
        (R::CountyDispatcher, A::ChangeDecision, S::Own, true),
        (R::CountyDispatcher, A::ReadRecord, S::Own, true),
        (R::CountyInvestigator, A::ChangeDecision, S::Own, false),
        (R::CountyInvestigator, A::ReadRecord, S::Own, true),
        (R::JudicialReviewer, A::ChangeDecision, S::Own, false),
        (R::JudicialReviewer, A::ReadRecord, S::Own, true),
        (R::DepartmentLegalOfficer, A::ChangeDecision, S::Own, false),
        (R::DepartmentLegalOfficer, A::ReadRecord, S::Own, true),
        (R::Viewer, A::ChangeDecision, S::Own, false),
        (R::Viewer, A::ReadRecord, S::Own, true),
        // The access log: the town's judicial office alone, in its own town.
        (R::BrigadeOfficer, A::ReadAccessLog, S::Own, false),
        (R::BrigadeCaptain, A::ReadAccessLog, S::Own, false),
        (R::BoardChair, A::ReadAccessLog, S::Own, false),
        (R::BoardMember, A::ReadAccessLog, S::Own, false),
        (R::CountyDispatcher, A::ReadAccessLog, S::Own, false),
        (R::CountyInvestigator, A::ReadAccessLog, S::Own, false),
        (R::JudicialReviewer, A::ReadAccessLog, S::Own, true),
        (R::JudicialReviewer, A::ReadAccessLog, S::OtherTown, false),
        (R::DepartmentLegalOfficer, A::ReadAccessLog, S::Own, false),
        (R::Viewer, A::ReadAccessLog, S::Own, false),
        // Clocks and patrols: a dispatcher asks for more time, the chair answers, the brigade records patrols.
        (R::BrigadeOfficer, A::RequestExtension, S::Own, false),
        (R::BrigadeCaptain, A::RequestExtension, S::Own, false),
        (R::BoardChair, A::RequestExtension, S::Own, false),
        (R::BoardMember, A::RequestExtension, S::Own, false),
        (R::JudicialReviewer, A::RequestExtension, S::Own, false),
        (R::CountyDispatcher, A::RequestExtension, S::Own, true),
        (R::CountyInvestigator, A::RequestExtension, S::Own, false),
        (R::DepartmentLegalOfficer, A::RequestExtension, S::Own, false),
        (R::Viewer, A::RequestExtension, S::Own, false),
        (R::BrigadeOfficer, A::DecideExtension, S::Own, false),
        (R::BrigadeCaptain, A::DecideExtension, S::Own, false),
        (R::BoardChair, A::DecideExtension, S::Own, true),
        (R::BoardMember, A::DecideExtension, S::Own, false),
        (R::JudicialReviewer, A::DecideExtension, S::Own, false),
        (R::CountyDispatcher, A::DecideExtension, S::Own, false),
        (R::CountyInvestigator, A::DecideExtension, S::Own, false),
        (R::DepartmentLegalOfficer, A::DecideExtension, S::Own, false),
        (R::Viewer, A::DecideExtension, S::Own, false),
        (R::BrigadeOfficer, A::RecordPatrol, S::Own, true),
        (R::BrigadeCaptain, A::RecordPatrol, S::Own, true),
        (R::BoardChair, A::RecordPatrol, S::Own, false),
        (R::BoardMember, A::RecordPatrol, S::Own, false),
        (R::JudicialReviewer, A::RecordPatrol, S::Own, false),
        (R::CountyDispatcher, A::RecordPatrol, S::Own, false),
        (R::CountyInvestigator, A::RecordPatrol, S::Own, false),
        (R::DepartmentLegalOfficer, A::RecordPatrol, S::Own, false),
        (R::Viewer, A::RecordPatrol, S::Own, false),
        // call-backs (回访): the town's brigade calls the public reporter back
        (R::BrigadeOfficer, A::RecordCallback, S::Own, true),
        (R::BrigadeCaptain, A::RecordCallback, S::Own, true),
        (R::BrigadeOfficer, A::RecordCallback, S::OtherTown, false),
        (R::BoardChair, A::RecordCallback, S::Own, false),
        (R::BoardMember, A::RecordCallback, S::Own, false),
        (R::JudicialReviewer, A::RecordCallback, S::Own, false),
        (R::CountyDispatcher, A::RecordCallback, S::Own, false),
        (R::CountyInvestigator, A::RecordCallback, S::Own, false),
        (R::DepartmentLegalOfficer, A::RecordCallback, S::Own, false),
        (R::Viewer, A::RecordCallback, S::Own, false),
        (R::BrigadeCaptain, A::ExtendDecisionPeriod, S::Own, true),
        (R::BrigadeCaptain, A::ExtendDecisionPeriod, S::OtherTown, false),
        (R::BrigadeOfficer, A::ExtendDecisionPeriod, S::Own, false),
        (R::BoardChair, A::ExtendDecisionPeriod, S::Own, false),
        (R::BoardMember, A::ExtendDecisionPeriod, S::Own, false),
        (R::JudicialReviewer, A::ExtendDecisionPeriod, S::Own, false),
        (R::CountyDispatcher, A::ExtendDecisionPeriod, S::Own, false),
        (R::CountyInvestigator, A::ExtendDecisionPeriod, S::Own, false),
        (R::DepartmentLegalOfficer, A::ExtendDecisionPeriod, S::Own, false),
        (R::Viewer, A::ExtendDecisionPeriod, S::Own, false),
        // the heads' collective discussion (集体讨论): the captain, for the town's heads
        (R::BrigadeCaptain, A::DiscussCase, S::Own, true),
        (R::BrigadeCaptain, A::DiscussCase, S::OtherTown, false),
        (R::BrigadeOfficer, A::DiscussCase, S::Own, false),
        (R::BoardChair, A::DiscussCase, S::Own, false),
        (R::BoardMember, A::DiscussCase, S::Own, false),
        (R::JudicialReviewer, A::DiscussCase, S::Own, false),
        (R::CountyDispatcher, A::DiscussCase, S::Own, false),
        (R::CountyInvestigator, A::DiscussCase, S::Own, false),
        (R::DepartmentLegalOfficer, A::DiscussCase, S::Own, false),
        (R::Viewer, A::DiscussCase, S::Own, false),
        (R::BrigadeCaptain, A::ChangeDecision, S::OtherTown, false),
        (R::CountyDispatcher, A::ChangeDecision, S::OtherDepartment, false),
        // department_legal_officer: reviews its own department's major decisions, nothing else
        (R::DepartmentLegalOfficer, A::ReviewDecision, S::Own, true),
        (R::DepartmentLegalOfficer, A::ReviewDecision, S::OtherTown, true),
        (R::DepartmentLegalOfficer, A::ReviewDecision, S::OtherDepartment, false),
        (R::DepartmentLegalOfficer, A::ReviewDecision, S::NoDepartment, false),
        (R::DepartmentLegalOfficer, A::ReportCase, S::Own, false),
        (R::DepartmentLegalOfficer, A::ReadCase, S::Own, false),
        (R::DepartmentLegalOfficer, A::AssignCase, S::Own, false),
        (R::DepartmentLegalOfficer, A::RecordCaseAction, S::Own, false),
        (R::DepartmentLegalOfficer, A::ConcludeCase, S::Own, false),
        (R::DepartmentLegalOfficer, A::OverrideTriage, S::Own, false),
        (R::DepartmentLegalOfficer, A::SubmitToBoard, S::Own, false),
        (R::DepartmentLegalOfficer, A::ReadAgenda, S::Own, false),
        (R::DepartmentLegalOfficer, A::RecordOpinion, S::Own, false),
        (R::DepartmentLegalOfficer, A::ApproveJoint, S::Own, false),
        (R::DepartmentLegalOfficer, A::ReclassifyJoint, S::Own, false),
        (R::DepartmentLegalOfficer, A::SendBackJoint, S::Own, false),
        (R::DepartmentLegalOfficer, A::SettleDispute, S::Own, false),
        (R::DepartmentLegalOfficer, A::RecordMeeting, S::Own, false),
        (R::DepartmentLegalOfficer, A::ReadInbox, S::Own, false),
        (R::DepartmentLegalOfficer, A::SignForReferral, S::Own, false),
        (R::DepartmentLegalOfficer, A::AcceptReferral, S::Own, false),
        (R::DepartmentLegalOfficer, A::ReturnReferral, S::Own, false),
        (R::DepartmentLegalOfficer, A::AssignReferral, S::Own, false),
        (R::DepartmentLegalOfficer, A::ConcludeReferral, S::Own, false),
        (R::DepartmentLegalOfficer, A::RecordEntrustedDecision, S::Own, false),
        (R::DepartmentLegalOfficer, A::CompleteTask, S::Own, false),
        (R::DepartmentLegalOfficer, A::RecordExecution, S::Own, false),
        (R::DepartmentLegalOfficer, A::ReadDashboard, S::Own, false),
        (R::DepartmentLegalOfficer, A::RegisterOfficer, S::Own, false),
        (R::DepartmentLegalOfficer, A::UploadEvidence, S::Own, false),
        (R::DepartmentLegalOfficer, A::PublishDisclosure, S::Own, false),
        (R::DepartmentLegalOfficer, A::WithdrawDisclosure, S::Own, false),
        // brigade_officer, own town
        (R::BrigadeOfficer, A::ReportCase, S::Own, true),
        (R::BrigadeOfficer, A::ReadCase, S::Own, true),
        (R::BrigadeOfficer, A::AssignCase, S::Own, false),
        (R::BrigadeOfficer, A::RecordCaseAction, S::Own, true),
        (R::BrigadeOfficer, A::ConcludeCase, S::Own, true),
        (R::BrigadeOfficer, A::OverrideTriage, S::Own, false),
        (R::BrigadeOfficer, A::SubmitToBoard, S::Own, true),
        (R::BrigadeOfficer, A::ReadAgenda, S::Own, false),
        (R::BrigadeOfficer, A::RecordOpinion, S::Own, false),
        (R::BrigadeOfficer, A::ApproveJoint, S::Own, false),
        (R::BrigadeOfficer, A::ReclassifyJoint, S::Own, false),
        (R::BrigadeOfficer, A::SendBackJoint, S::Own, false),
        (R::BrigadeOfficer, A::SettleDispute, S::Own, false),
        (R::BrigadeOfficer, A::RecordMeeting, S::Own, false),
        (R::BrigadeOfficer, A::ReadInbox, S::Own, false),
        (R::BrigadeOfficer, A::SignForReferral, S::Own, false),
        (R::BrigadeOfficer, A::AcceptReferral, S::Own, false),
        (R::BrigadeOfficer, A::ReturnReferral, S::Own, false),
        (R::BrigadeOfficer, A::AssignReferral, S::Own, false),
        (R::BrigadeOfficer, A::ConcludeReferral, S::Own, false),
        (R::BrigadeOfficer, A::RecordEntrustedDecision, S::Own, false),
        (R::BrigadeOfficer, A::CompleteTask, S::Own, false),
        (R::BrigadeOfficer, A::RecordExecution, S::Own, true),
        (R::BrigadeOfficer, A::ReviewDecision, S::Own, false),
        (R::BrigadeOfficer, A::ReadDashboard, S::Own, false),
        // brigade_officer, other town / other department / no department
        (R::BrigadeOfficer, A::ReportCase, S::OtherTown, false),
        (R::BrigadeOfficer, A::ReportCase, S::OtherDepartment, true),
        (R::BrigadeOfficer, A::ReportCase, S::NoDepartment, true),
        (R::BrigadeOfficer, A::ReadCase, S::OtherTown, false),
        (R::BrigadeOfficer, A::ReadCase, S::OtherDepartment, true),
        (R::BrigadeOfficer, A::ReadCase, S::NoDepartment, true),
        (R::BrigadeOfficer, A::RecordCaseAction, S::OtherTown, false),
        (R::BrigadeOfficer, A::RecordCaseAction, S::OtherDepartment, true),
        (R::BrigadeOfficer, A::RecordCaseAction, S::NoDepartment, true),
        (R::BrigadeOfficer, A::ConcludeCase, S::OtherTown, false),
        (R::BrigadeOfficer, A::ConcludeCase, S::OtherDepartment, true),
        (R::BrigadeOfficer, A::ConcludeCase, S::NoDepartment, true),
        (R::BrigadeOfficer, A::SubmitToBoard, S::OtherTown, false),
        (R::BrigadeOfficer, A::SubmitToBoard, S::OtherDepartment, true),
        (R::BrigadeOfficer, A::SubmitToBoard, S::NoDepartment, true),
        (R::BrigadeOfficer, A::RecordExecution, S::OtherTown, false),
        (R::BrigadeOfficer, A::RecordExecution, S::OtherDepartment, true),
        (R::BrigadeOfficer, A::RecordExecution, S::NoDepartment, true),
        (R::BrigadeOfficer, A::AssignCase, S::OtherTown, false),
        // brigade_captain, own resource
        (R::BrigadeCaptain, A::ReportCase, S::Own, true),
        (R::BrigadeCaptain, A::ReadCase, S::Own, true),
        (R::BrigadeCaptain, A::AssignCase, S::Own, true),
        (R::BrigadeCaptain, A::RecordCaseAction, S::Own, true),
        (R::BrigadeCaptain, A::ConcludeCase, S::Own, true),
        (R::BrigadeCaptain, A::OverrideTriage, S::Own, true),
        (R::BrigadeCaptain, A::SubmitToBoard, S::Own, true),
        (R::BrigadeCaptain, A::ReadAgenda, S::Own, false),
        (R::BrigadeCaptain, A::RecordOpinion, S::Own, false),
        (R::BrigadeCaptain, A::ApproveJoint, S::Own, false),
        (R::BrigadeCaptain, A::ReclassifyJoint, S::Own, false),
        (R::BrigadeCaptain, A::SendBackJoint, S::Own, false),
        (R::BrigadeCaptain, A::SettleDispute, S::Own, false),
        (R::BrigadeCaptain, A::RecordMeeting, S::Own, false),
        (R::BrigadeCaptain, A::ReadInbox, S::Own, false),
        (R::BrigadeCaptain, A::SignForReferral, S::Own, false),
        (R::BrigadeCaptain, A::AcceptReferral, S::Own, false),
        (R::BrigadeCaptain, A::ReturnReferral, S::Own, false),
        (R::BrigadeCaptain, A::AssignReferral, S::Own, false),
        (R::BrigadeCaptain, A::ConcludeReferral, S::Own, false),
        (R::BrigadeCaptain, A::RecordEntrustedDecision, S::Own, false),
        (R::BrigadeCaptain, A::CompleteTask, S::Own, false),
        (R::BrigadeCaptain, A::RecordExecution, S::Own, true),
        (R::BrigadeCaptain, A::ReviewDecision, S::Own, false),
        (R::BrigadeCaptain, A::ReadDashboard, S::Own, false),
        // brigade_captain, other town / other department / no department
        (R::BrigadeCaptain, A::ReportCase, S::OtherTown, false),
        (R::BrigadeCaptain, A::ReportCase, S::OtherDepartment, true),
        (R::BrigadeCaptain, A::ReportCase, S::NoDepartment, true),
        (R::BrigadeCaptain, A::ReadCase, S::OtherTown, false),
        (R::BrigadeCaptain, A::ReadCase, S::OtherDepartment, true),
        (R::BrigadeCaptain, A::ReadCase, S::NoDepartment, true),
        (R::BrigadeCaptain, A::AssignCase, S::OtherTown, false),
        (R::BrigadeCaptain, A::AssignCase, S::OtherDepartment, true),
        (R::BrigadeCaptain, A::AssignCase, S::NoDepartment, true),
        (R::BrigadeCaptain, A::RecordCaseAction, S::OtherTown, false),
        (R::BrigadeCaptain, A::RecordCaseAction, S::OtherDepartment, true),
        (R::BrigadeCaptain, A::RecordCaseAction, S::NoDepartment, true),
        (R::BrigadeCaptain, A::ConcludeCase, S::OtherTown, false),
        (R::BrigadeCaptain, A::ConcludeCase, S::OtherDepartment, true),
        (R::BrigadeCaptain, A::ConcludeCase, S::NoDepartment, true),
        (R::BrigadeCaptain, A::OverrideTriage, S::OtherTown, false),
        (R::BrigadeCaptain, A::OverrideTriage, S::OtherDepartment, true),
        (R::BrigadeCaptain, A::OverrideTriage, S::NoDepartment, true),
        (R::BrigadeCaptain, A::SubmitToBoard, S::OtherTown, false),
        (R::BrigadeCaptain, A::SubmitToBoard, S::OtherDepartment, true),
        (R::BrigadeCaptain, A::SubmitToBoard, S::NoDepartment, true),
        (R::BrigadeCaptain, A::RecordExecution, S::OtherTown, false),
        (R::BrigadeCaptain, A::RecordExecution, S::OtherDepartment, true),
        (R::BrigadeCaptain, A::RecordExecution, S::NoDepartment, true),
        (R::BrigadeCaptain, A::ReadAgenda, S::OtherTown, false),
        // board_chair, own resource
        (R::BoardChair, A::ReportCase, S::Own, false),
        (R::BoardChair, A::ReadCase, S::Own, true),
        (R::BoardChair, A::AssignCase, S::Own, false),
        (R::BoardChair, A::RecordCaseAction, S::Own, false),
        (R::BoardChair, A::ConcludeCase, S::Own, false),
        (R::BoardChair, A::OverrideTriage, S::Own, false),
        (R::BoardChair, A::SubmitToBoard, S::Own, false),
        (R::BoardChair, A::ReadAgenda, S::Own, true),
        (R::BoardChair, A::RecordOpinion, S::Own, true),
        (R::BoardChair, A::ApproveJoint, S::Own, true),
        (R::BoardChair, A::ReclassifyJoint, S::Own, true),
        (R::BoardChair, A::SendBackJoint, S::Own, true),
        (R::BoardChair, A::SettleDispute, S::Own, true),
        (R::BoardChair, A::RecordMeeting, S::Own, true),
        (R::BoardChair, A::ReadInbox, S::Own, false),
        (R::BoardChair, A::SignForReferral, S::Own, false),
        (R::BoardChair, A::AcceptReferral, S::Own, false),
        (R::BoardChair, A::ReturnReferral, S::Own, false),
        (R::BoardChair, A::AssignReferral, S::Own, false),
        (R::BoardChair, A::ConcludeReferral, S::Own, false),
        (R::BoardChair, A::RecordEntrustedDecision, S::Own, false),
        (R::BoardChair, A::CompleteTask, S::Own, false),
        (R::BoardChair, A::RecordExecution, S::Own, false),
        (R::BoardChair, A::ReviewDecision, S::Own, false),
        (R::BoardChair, A::ReadDashboard, S::Own, true),
        // board_chair, other town / other department / no department
        (R::BoardChair, A::ReadCase, S::OtherTown, false),
        (R::BoardChair, A::ReadCase, S::OtherDepartment, true),
        (R::BoardChair, A::ReadCase, S::NoDepartment, true),
        (R::BoardChair, A::ReadAgenda, S::OtherTown, false),
        (R::BoardChair, A::ReadAgenda, S::OtherDepartment, true),
        (R::BoardChair, A::ReadAgenda, S::NoDepartment, true),
        (R::BoardChair, A::RecordOpinion, S::OtherTown, false),
        (R::BoardChair, A::RecordOpinion, S::OtherDepartment, true),
        (R::BoardChair, A::RecordOpinion, S::NoDepartment, true),
        (R::BoardChair, A::ApproveJoint, S::OtherTown, false),
        (R::BoardChair, A::ApproveJoint, S::OtherDepartment, true),
        (R::BoardChair, A::ApproveJoint, S::NoDepartment, true),
        (R::BoardChair, A::ReclassifyJoint, S::OtherTown, false),
        (R::BoardChair, A::ReclassifyJoint, S::OtherDepartment, true),
        (R::BoardChair, A::ReclassifyJoint, S::NoDepartment, true),
        (R::BoardChair, A::SendBackJoint, S::OtherTown, false),
        (R::BoardChair, A::SendBackJoint, S::OtherDepartment, true),
        (R::BoardChair, A::SendBackJoint, S::NoDepartment, true),
        (R::BoardChair, A::SettleDispute, S::OtherTown, false),
        (R::BoardChair, A::SettleDispute, S::OtherDepartment, true),
        (R::BoardChair, A::SettleDispute, S::NoDepartment, true),
        (R::BoardChair, A::RecordMeeting, S::OtherTown, false),
        (R::BoardChair, A::RecordMeeting, S::OtherDepartment, true),
        (R::BoardChair, A::RecordMeeting, S::NoDepartment, true),
        (R::BoardChair, A::ReadDashboard, S::OtherTown, false),
        (R::BoardChair, A::ReadDashboard, S::OtherDepartment, true),
        (R::BoardChair, A::ReadDashboard, S::NoDepartment, true),
        (R::BoardChair, A::ReportCase, S::OtherTown, false),
        // board_member, own resource
        (R::BoardMember, A::ReportCase, S::Own, false),
        (R::BoardMember, A::ReadCase, S::Own, true),
        (R::BoardMember, A::AssignCase, S::Own, false),
        (R::BoardMember, A::RecordCaseAction, S::Own, false),
        (R::BoardMember, A::ConcludeCase, S::Own, false),
        (R::BoardMember, A::OverrideTriage, S::Own, false),
        (R::BoardMember, A::SubmitToBoard, S::Own, false),
        (R::BoardMember, A::ReadAgenda, S::Own, true),
        (R::BoardMember, A::RecordOpinion, S::Own, true),
        (R::BoardMember, A::ApproveJoint, S::Own, false),
        (R::BoardMember, A::ReclassifyJoint, S::Own, false),
        (R::BoardMember, A::SendBackJoint, S::Own, false),
        (R::BoardMember, A::SettleDispute, S::Own, false),
        (R::BoardMember, A::RecordMeeting, S::Own, false),
        (R::BoardMember, A::ReadInbox, S::Own, false),
        (R::BoardMember, A::SignForReferral, S::Own, false),
        (R::BoardMember, A::AcceptReferral, S::Own, false),
        (R::BoardMember, A::ReturnReferral, S::Own, false),
        (R::BoardMember, A::AssignReferral, S::Own, false),
        (R::BoardMember, A::ConcludeReferral, S::Own, false),
        (R::BoardMember, A::RecordEntrustedDecision, S::Own, false),
        (R::BoardMember, A::CompleteTask, S::Own, false),
        (R::BoardMember, A::RecordExecution, S::Own, false),
        (R::BoardMember, A::ReviewDecision, S::Own, false),
        (R::BoardMember, A::ReadDashboard, S::Own, false),
        // board_member, other town / other department / no department
        (R::BoardMember, A::ReadCase, S::OtherTown, false),
        (R::BoardMember, A::ReadCase, S::OtherDepartment, true),
        (R::BoardMember, A::ReadCase, S::NoDepartment, true),
        (R::BoardMember, A::ReadAgenda, S::OtherTown, false),
        (R::BoardMember, A::ReadAgenda, S::OtherDepartment, true),
        (R::BoardMember, A::ReadAgenda, S::NoDepartment, true),
        (R::BoardMember, A::RecordOpinion, S::OtherTown, false),
        (R::BoardMember, A::RecordOpinion, S::OtherDepartment, true),
        (R::BoardMember, A::RecordOpinion, S::NoDepartment, true),
        (R::BoardMember, A::ReportCase, S::OtherTown, false),
        // county_dispatcher, own resource
        (R::CountyDispatcher, A::ReportCase, S::Own, false),
        (R::CountyDispatcher, A::ReadCase, S::Own, false),
        (R::CountyDispatcher, A::AssignCase, S::Own, false),
        (R::CountyDispatcher, A::RecordCaseAction, S::Own, false),
        (R::CountyDispatcher, A::ConcludeCase, S::Own, false),
        (R::CountyDispatcher, A::OverrideTriage, S::Own, false),
        (R::CountyDispatcher, A::SubmitToBoard, S::Own, false),
        (R::CountyDispatcher, A::ReadAgenda, S::Own, false),
        (R::CountyDispatcher, A::RecordOpinion, S::Own, false),
        (R::CountyDispatcher, A::ApproveJoint, S::Own, false),
        (R::CountyDispatcher, A::ReclassifyJoint, S::Own, false),
        (R::CountyDispatcher, A::SendBackJoint, S::Own, false),
        (R::CountyDispatcher, A::SettleDispute, S::Own, false),
        (R::CountyDispatcher, A::RecordMeeting, S::Own, false),
        (R::CountyDispatcher, A::ReadInbox, S::Own, true),
        (R::CountyDispatcher, A::SignForReferral, S::Own, true),
        (R::CountyDispatcher, A::AcceptReferral, S::Own, true),
        (R::CountyDispatcher, A::ReturnReferral, S::Own, true),
        (R::CountyDispatcher, A::AssignReferral, S::Own, true),
        (R::CountyDispatcher, A::ConcludeReferral, S::Own, true),
        (R::CountyDispatcher, A::RecordEntrustedDecision, S::Own, true),
        (R::CountyDispatcher, A::CompleteTask, S::Own, true),
        (R::CountyDispatcher, A::RecordExecution, S::Own, false),
        (R::CountyDispatcher, A::ReviewDecision, S::Own, false),
        (R::CountyDispatcher, A::ReadDashboard, S::Own, false),
        // county_dispatcher, other town / other department / no department
        (R::CountyDispatcher, A::ReadInbox, S::OtherTown, true),
        (R::CountyDispatcher, A::ReadInbox, S::OtherDepartment, false),
        (R::CountyDispatcher, A::ReadInbox, S::NoDepartment, false),
        (R::CountyDispatcher, A::SignForReferral, S::OtherTown, true),
        (R::CountyDispatcher, A::SignForReferral, S::OtherDepartment, false),
        (R::CountyDispatcher, A::SignForReferral, S::NoDepartment, false),
        (R::CountyDispatcher, A::AcceptReferral, S::OtherTown, true),
        (R::CountyDispatcher, A::AcceptReferral, S::OtherDepartment, false),
        (R::CountyDispatcher, A::AcceptReferral, S::NoDepartment, false),
        (R::CountyDispatcher, A::ReturnReferral, S::OtherTown, true),
        (R::CountyDispatcher, A::ReturnReferral, S::OtherDepartment, false),
        (R::CountyDispatcher, A::ReturnReferral, S::NoDepartment, false),
        (R::CountyDispatcher, A::AssignReferral, S::OtherTown, true),
        (R::CountyDispatcher, A::AssignReferral, S::OtherDepartment, false),
        (R::CountyDispatcher, A::AssignReferral, S::NoDepartment, false),
        (R::CountyDispatcher, A::ConcludeReferral, S::OtherTown, true),
        (R::CountyDispatcher, A::ConcludeReferral, S::OtherDepartment, false),
        (R::CountyDispatcher, A::ConcludeReferral, S::NoDepartment, false),
        (R::CountyDispatcher, A::RecordEntrustedDecision, S::OtherTown, true),
        (R::CountyDispatcher, A::RecordEntrustedDecision, S::OtherDepartment, false),
        (R::CountyDispatcher, A::RecordEntrustedDecision, S::NoDepartment, false),
        (R::CountyDispatcher, A::CompleteTask, S::OtherTown, true),
        (R::CountyDispatcher, A::CompleteTask, S::OtherDepartment, false),
        (R::CountyDispatcher, A::CompleteTask, S::NoDepartment, false),
        (R::CountyDispatcher, A::ReportCase, S::OtherTown, false),
        // county_investigator, own resource
        (R::CountyInvestigator, A::ReportCase, S::Own, false),
        (R::CountyInvestigator, A::ReadCase, S::Own, false),
        (R::CountyInvestigator, A::AssignCase, S::Own, false),
        (R::CountyInvestigator, A::RecordCaseAction, S::Own, false),
        (R::CountyInvestigator, A::ConcludeCase, S::Own, false),
        (R::CountyInvestigator, A::OverrideTriage, S::Own, false),
        (R::CountyInvestigator, A::SubmitToBoard, S::Own, false),
        (R::CountyInvestigator, A::ReadAgenda, S::Own, false),
        (R::CountyInvestigator, A::RecordOpinion, S::Own, false),
        (R::CountyInvestigator, A::ApproveJoint, S::Own, false),
        (R::CountyInvestigator, A::ReclassifyJoint, S::Own, false),
        (R::CountyInvestigator, A::SendBackJoint, S::Own, false),
        (R::CountyInvestigator, A::SettleDispute, S::Own, false),
        (R::CountyInvestigator, A::RecordMeeting, S::Own, false),
        (R::CountyInvestigator, A::ReadInbox, S::Own, true),
        (R::CountyInvestigator, A::SignForReferral, S::Own, false),
        (R::CountyInvestigator, A::AcceptReferral, S::Own, false),
        (R::CountyInvestigator, A::ReturnReferral, S::Own, false),
        (R::CountyInvestigator, A::AssignReferral, S::Own, false),
        (R::CountyInvestigator, A::ConcludeReferral, S::Own, true),
        (R::CountyInvestigator, A::RecordEntrustedDecision, S::Own, true),
        (R::CountyInvestigator, A::CompleteTask, S::Own, true),
        (R::CountyInvestigator, A::RecordExecution, S::Own, false),
        (R::CountyInvestigator, A::ReviewDecision, S::Own, false),
        (R::CountyInvestigator, A::ReadDashboard, S::Own, false),
        // county_investigator, other town / other department / no department
        (R::CountyInvestigator, A::ReadInbox, S::OtherTown, true),
        (R::CountyInvestigator, A::ReadInbox, S::OtherDepartment, false),
        (R::CountyInvestigator, A::ReadInbox, S::NoDepartment, false),
        (R::CountyInvestigator, A::ConcludeReferral, S::OtherTown, true),
        (R::CountyInvestigator, A::ConcludeReferral, S::OtherDepartment, false),
        (R::CountyInvestigator, A::ConcludeReferral, S::NoDepartment, false),
        (R::CountyInvestigator, A::RecordEntrustedDecision, S::OtherTown, true),
        (R::CountyInvestigator, A::RecordEntrustedDecision, S::OtherDepartment, false),
        (R::CountyInvestigator, A::RecordEntrustedDecision, S::NoDepartment, false),
        (R::CountyInvestigator, A::CompleteTask, S::OtherTown, true),
        (R::CountyInvestigator, A::CompleteTask, S::OtherDepartment, false),
        (R::CountyInvestigator, A::CompleteTask, S::NoDepartment, false),
        (R::CountyInvestigator, A::ReportCase, S::OtherTown, false),
        // judicial_reviewer, own resource
        (R::JudicialReviewer, A::ReportCase, S::Own, false),
        (R::JudicialReviewer, A::ReadCase, S::Own, true),
        (R::JudicialReviewer, A::AssignCase, S::Own, false),
        (R::JudicialReviewer, A::RecordCaseAction, S::Own, false),
        (R::JudicialReviewer, A::ConcludeCase, S::Own, false),
        (R::JudicialReviewer, A::OverrideTriage, S::Own, false),
        (R::JudicialReviewer, A::SubmitToBoard, S::Own, false),
        (R::JudicialReviewer, A::ReadAgenda, S::Own, false),
        (R::JudicialReviewer, A::RecordOpinion, S::Own, false),
        (R::JudicialReviewer, A::ApproveJoint, S::Own, false),
        (R::JudicialReviewer, A::ReclassifyJoint, S::Own, false),
        (R::JudicialReviewer, A::SendBackJoint, S::Own, false),
        (R::JudicialReviewer, A::SettleDispute, S::Own, false),
        (R::JudicialReviewer, A::RecordMeeting, S::Own, false),
        (R::JudicialReviewer, A::ReadInbox, S::Own, false),
        (R::JudicialReviewer, A::SignForReferral, S::Own, false),
        (R::JudicialReviewer, A::AcceptReferral, S::Own, false),
        (R::JudicialReviewer, A::ReturnReferral, S::Own, false),
        (R::JudicialReviewer, A::AssignReferral, S::Own, false),
        (R::JudicialReviewer, A::ConcludeReferral, S::Own, false),
        (R::JudicialReviewer, A::RecordEntrustedDecision, S::Own, false),
        (R::JudicialReviewer, A::CompleteTask, S::Own, false),
        (R::JudicialReviewer, A::RecordExecution, S::Own, false),
        (R::JudicialReviewer, A::ReviewDecision, S::Own, true),
        (R::JudicialReviewer, A::ReadDashboard, S::Own, false),
        // judicial_reviewer, other town / other department / no department
        (R::JudicialReviewer, A::ReadCase, S::OtherTown, false),
        (R::JudicialReviewer, A::ReadCase, S::OtherDepartment, true),
        (R::JudicialReviewer, A::ReadCase, S::NoDepartment, true),
        (R::JudicialReviewer, A::ReviewDecision, S::OtherTown, false),
        (R::JudicialReviewer, A::ReviewDecision, S::OtherDepartment, true),
        (R::JudicialReviewer, A::ReviewDecision, S::NoDepartment, true),
        (R::JudicialReviewer, A::ReportCase, S::OtherTown, false),
        // viewer (of town 330782101), own resource
        (R::Viewer, A::ReportCase, S::Own, false),
        (R::Viewer, A::ReadCase, S::Own, true),
        (R::Viewer, A::AssignCase, S::Own, false),
        (R::Viewer, A::RecordCaseAction, S::Own, false),
        (R::Viewer, A::ConcludeCase, S::Own, false),
        (R::Viewer, A::OverrideTriage, S::Own, false),
        (R::Viewer, A::SubmitToBoard, S::Own, false),
        (R::Viewer, A::ReadAgenda, S::Own, false),
        (R::Viewer, A::RecordOpinion, S::Own, false),
        (R::Viewer, A::ApproveJoint, S::Own, false),
        (R::Viewer, A::ReclassifyJoint, S::Own, false),
        (R::Viewer, A::SendBackJoint, S::Own, false),
        (R::Viewer, A::SettleDispute, S::Own, false),
        (R::Viewer, A::RecordMeeting, S::Own, false),
        (R::Viewer, A::ReadInbox, S::Own, false),
        (R::Viewer, A::SignForReferral, S::Own, false),
        (R::Viewer, A::AcceptReferral, S::Own, false),
        (R::Viewer, A::ReturnReferral, S::Own, false),
        (R::Viewer, A::AssignReferral, S::Own, false),
        (R::Viewer, A::ConcludeReferral, S::Own, false),
        (R::Viewer, A::RecordEntrustedDecision, S::Own, false),
        (R::Viewer, A::CompleteTask, S::Own, false),
        (R::Viewer, A::RecordExecution, S::Own, false),
        (R::Viewer, A::ReviewDecision, S::Own, false),
        (R::Viewer, A::ReadDashboard, S::Own, true),
        // viewer (of town 330782101), other town / other department / no department
        (R::Viewer, A::ReadCase, S::OtherTown, false),
        (R::Viewer, A::ReadCase, S::OtherDepartment, true),
        (R::Viewer, A::ReadCase, S::NoDepartment, true),
        (R::Viewer, A::ReadDashboard, S::OtherTown, false),
        (R::Viewer, A::ReadDashboard, S::OtherDepartment, true),
        (R::Viewer, A::ReadDashboard, S::NoDepartment, true),
        (R::Viewer, A::ReportCase, S::OtherTown, false),
    ];

    #[test]
    fn the_permission_table() {
        for &(role, action, scope, allowed) in ROWS {
            let got = permits(&actor(role), action, &resource(scope));
            assert_eq!(got.is_ok(), allowed, "{role} {action} {scope:?}: {got:?}");
        }
    }

    #[test]
    fn the_table_covers_every_role_and_action_on_its_own_resource() {
        for role in Role::ALL {
            for action in Action::ALL {
                assert!(
                    ROWS.iter()
                        .any(|(r, a, s, _)| r == role && a == action && matches!(s, Scope::Own)),
                    "missing row for {role} {action} own"
                );
            }
        }
    }

    fn viewer(town: Option<&str>, dept: Option<&str>) -> Actor {
        Actor::new(
            OfficerId::parse("li.si").unwrap(),
            Role::Viewer,
            town.map(|t| TownCode::parse(t).unwrap()),
            dept.map(|d| DepartmentCode::parse(d).unwrap()),
        )
        .unwrap()
    }

    #[test]
    fn county_wide_and_department_viewers() {
        #[rustfmt::skip]
        let rows = [
            // county-wide viewer: any town, any department
            (viewer(None, None), A::ReadDashboard, S::Own, true),
            (viewer(None, None), A::ReadCase, S::OtherTown, true),
            (viewer(None, None), A::ReadCase, S::OtherDepartment, true),
            (viewer(None, None), A::ReadCase, S::NoDepartment, true),
            (viewer(None, None), A::ConcludeCase, S::Own, false),
            // a department's viewer: what is addressed to its department, in any town
            (viewer(None, Some(D1)), A::ReadCase, S::Own, true),
            (viewer(None, Some(D1)), A::ReadDashboard, S::OtherTown, true),
            (viewer(None, Some(D1)), A::ReadCase, S::OtherDepartment, false),
            (viewer(None, Some(D1)), A::ReadCase, S::NoDepartment, false),
            (viewer(None, Some(D1)), A::ReadInbox, S::Own, false),
        ];
        for (actor, action, scope, allowed) in rows {
            let got = permits(&actor, action, &resource(scope));
            assert_eq!(
                got.is_ok(),
                allowed,
                "{actor:?} {action} {scope:?}: {got:?}"
            );
        }
    }

    #[test]
    fn a_department_reads_the_record_only_of_cases_it_took_part_in() {
        let t1 = TownCode::parse(T1).unwrap();
        let d1 = DepartmentCode::parse(D1).unwrap();
        let d2 = DepartmentCode::parse(D2).unwrap();
        let check = |actor: &Actor, involved: &[DepartmentCode]| {
            permits_case_record(actor, A::ReadRecord, &t1, involved)
        };
        for role in [
            R::CountyDispatcher,
            R::CountyInvestigator,
            R::DepartmentLegalOfficer,
        ] {
            assert!(
                check(&actor(role), &[d2.clone(), d1.clone()]).is_ok(),
                "{role}"
            );
            let denied = check(&actor(role), std::slice::from_ref(&d2)).unwrap_err();
            assert!(
                denied.reason.contains("was not involved"),
                "{}",
                denied.reason
            );
            assert!(check(&actor(role), &[]).is_err(), "{role}");
        }
        // Town roles read their own town's cases whoever was involved, and no other town's.
        assert!(check(&actor(R::BrigadeCaptain), &[]).is_ok());
        assert!(check(&actor(R::JudicialReviewer), &[]).is_ok());
        let t2 = TownCode::parse(T2).unwrap();
        assert!(permits_case_record(&actor(R::BrigadeCaptain), A::ReadRecord, &t2, &[]).is_err());
        // A department's viewer like its staff; the county-wide viewer everywhere.
        assert!(check(&viewer(None, Some(D1)), std::slice::from_ref(&d1)).is_ok());
        assert!(check(&viewer(None, Some(D1)), std::slice::from_ref(&d2)).is_err());
        assert!(check(&viewer(None, None), &[]).is_ok());
        // Involvement does not widen what the role may do at all.
        assert_eq!(
            permits_case_record(&actor(R::CountyInvestigator), A::ChangeDecision, &t1, &[d1])
                .unwrap_err()
                .reason,
            "a county_investigator may not change_decision"
        );
    }

    #[test]
    fn denials_name_the_role_and_the_action_or_scope() {
        let deny = |role, action, scope| {
            permits(&actor(role), action, &resource(scope))
                .unwrap_err()
                .to_string()
        };
        assert_eq!(
            deny(R::BoardMember, A::ApproveJoint, S::Own),
            "a board_member may not approve_joint"
        );
        assert_eq!(
            deny(R::BrigadeCaptain, A::AssignCase, S::OtherTown),
            "a brigade_captain of town 330782101 may not act in town 330782102"
        );
        assert_eq!(
            deny(R::CountyDispatcher, A::SignForReferral, S::OtherDepartment),
            "a county_dispatcher of forestry may not act on what is addressed to public_security"
        );
        assert_eq!(
            deny(R::CountyInvestigator, A::CompleteTask, S::NoDepartment),
            "a county_investigator of forestry may not act on what is not addressed to a department"
        );
    }

    #[test]
    fn actors_must_fit_their_role() {
        let id = || OfficerId::parse("wang.wu").unwrap();
        let town = || Some(TownCode::parse(T1).unwrap());
        let dept = || Some(DepartmentCode::parse(D1).unwrap());
        #[rustfmt::skip]
        let rows: [(Role, bool, bool, Option<&str>); 12] = [
            (R::BrigadeOfficer, true, false, None),
            (R::BrigadeOfficer, false, false, Some("a brigade_officer must belong to a town")),
            (R::BoardChair, true, true, Some("a board_chair must not belong to a department")),
            (R::JudicialReviewer, false, true, Some("a judicial_reviewer must belong to a town")),
            (R::CountyDispatcher, false, true, None),
            (R::CountyDispatcher, true, false, Some("a county_dispatcher must belong to a department")),
            (R::CountyInvestigator, true, true, Some("a county_investigator must not belong to a town")),
            (R::CountyInvestigator, false, false, Some("a county_investigator must belong to a department")),
            (R::Viewer, false, false, None),
            (R::Viewer, true, false, None),
            (R::Viewer, false, true, None),
            (R::Viewer, true, true, Some("a viewer may belong to a town or a department, not both")),
        ];
        for (role, has_town, has_dept, want) in rows {
            let got = Actor::new(
                id(),
                role,
                if has_town { town() } else { None },
                if has_dept { dept() } else { None },
            );
            assert_eq!(
                got.err().map(|e| e.to_string()).as_deref(),
                want,
                "{role} {has_town} {has_dept}"
            );
        }
    }

    #[test]
    fn names_round_trip() {
        for r in Role::ALL {
            assert_eq!(Role::parse(r.as_str()), Ok(*r));
        }
        for a in Action::ALL {
            assert_eq!(Action::parse(a.as_str()), Ok(*a));
        }
        assert_eq!(Role::BrigadeCaptain.as_str(), "brigade_captain");
        assert_eq!(Action::SignForReferral.as_str(), "sign_for_referral");
        assert!(Role::parse("admin").is_err());
    }
}
