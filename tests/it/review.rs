//! Legal review of major decisions (重大执法决定法制审核), end to end: a major decision waits
//! for the town judicial office, goes through a return-and-resubmit round, and takes effect
//! on approval; a suspected crime becomes a transfer to the public security organs.

use std::time::Duration;

use liandong_domain::calendar::Calendar;
use liandong_proto::board::v1 as board;
use liandong_proto::brigade::v1 as brigade;
use liandong_proto::county::v1 as county;
use liandong_proto::events::v1 as ev;
use liandong_proto::review::v1 as review;
use liandong_proto::time::{from_ts, to_ts};
use liandong_tests::hub::{As, TestHub, certificate_no};
use liandong_tests::people::Report;
use liandong_tests::{Backend, eventually};
use liandong_topology::names;
use tonic::Code;
use tonic_types::StatusExt;

const T1: &str = "330782101";
const WAIT: Duration = Duration::from_secs(30);

fn fine(fen: i64) -> ev::Outcome {
    ev::Outcome {
        kind: "fine".into(),
        fine_fen: fen,
        summary: "占道经营，处罚款".into(),
        ..Default::default()
    }
}

/// An in-scope case (CSGL-001: fines of 10,000 yuan or more are major), assigned to wang.wu.
async fn assigned_case(hub: &TestHub, description: &str) -> String {
    let case = hub
        .brigade_officer(T1)
        .report(Report::new(T1, &["CSGL-001"], description).in_village("西湖村", "集镇街道"))
        .await
        .expect("reported");
    hub.captain(T1)
        .assign(&case.case_id, &["wang.wu", "li.si"])
        .await
        .expect("assigned");
    case.case_id
}

async fn conclude(hub: &TestHub, case_id: &str, outcome: ev::Outcome) -> brigade::Case {
    hub.brigade_officer(T1)
        .conclude(case_id, outcome)
        .await
        .expect("concluding is accepted")
}

/// Round `round` of the case's review at the town's judicial office, pending.
async fn pending_review(hub: &TestHub, case_id: &str, round: u32) -> review::Review {
    hub.pending_review(
        As::judicial_reviewer(T1),
        review::ListReviewsRequest {
            town: T1.into(),
            ..Default::default()
        },
        case_id,
        Some(round),
    )
    .await
}

async fn case_status(hub: &TestHub, case_id: &str, status: &str) -> brigade::GetCaseResponse {
    hub.brigade_officer(T1).case_when(case_id, status).await
}

/// The town's judicial office answers the review.
async fn answer(
    hub: &TestHub,
    review_id: &str,
    failing: &[&str],
    decision: &str,
) -> Result<review::Review, tonic::Status> {
    hub.answer_review(As::judicial_reviewer(T1), review_id, failing, decision)
        .await
}

async fn a_major_decision_waits_for_review_and_goes_through_a_return_round(backend: Backend) {
    let hub = TestHub::start(backend).await;
    let case_id = assigned_case(&hub, "占道搭建摊棚，经责令改正拒不改正").await;

    // A fine of 15,000 yuan is major under CSGL-001: the case waits, nothing is concluded.
    let waiting = conclude(&hub, &case_id, fine(1_500_000)).await;
    assert_eq!(waiting.status, "awaiting_review");
    assert!(waiting.outcome.is_none(), "{waiting:?}");

    // The judicial office sees it, due 7 working days after the request, with the officer's
    // qualification read from the registry.
    let r1 = pending_review(&hub, &case_id, 1).await;
    let requested_at = from_ts(r1.requested_at.as_ref()).expect("a request time");
    let due = Calendar::shipped().add_working_days(requested_at, 7);
    assert_eq!(r1.due_at, Some(to_ts(due.due)));
    assert_eq!(r1.due_last_day, due.last_day.to_string());
    // The body the town decides in, named by the town registry (the brigade's request names it
    // by its code).
    assert_eq!(r1.decided_in_name_of, "赤岸镇人民政府");
    let materials = r1.materials.as_ref().expect("materials");
    assert_eq!(materials.proposed.as_ref().unwrap().fine_fen, 1_500_000);
    assert_eq!(r1.qualification.len(), 2, "{:?}", r1.qualification);
    assert!(r1.qualification[0].qualified, "{:?}", r1.qualification);
    assert_eq!(
        r1.qualification[0].certificate_no,
        certificate_no(T1, "wang.wu")
    );

    // Only the town's judicial office reviews it.
    let err = hub
        .review
        .clone()
        .get_review(As::brigade_captain(T1).req(review::GetReviewRequest {
            review_id: r1.review_id.clone(),
        }))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::PermissionDenied, "{err:?}");

    // The time limit is extended once, by 3 working days.
    let extended = hub
        .review
        .clone()
        .extend_review(As::judicial_reviewer(T1).req(review::ExtendReviewRequest {
            review_id: r1.review_id.clone(),
            reason: "需补充调取监控录像".into(),
        }))
        .await
        .expect("extended")
        .into_inner()
        .review
        .unwrap();
    let due = Calendar::shipped().add_working_days(requested_at, 10);
    assert_eq!(extended.due_at, Some(to_ts(due.due)));
    assert!(extended.extended);
    let err = hub
        .review
        .clone()
        .extend_review(As::judicial_reviewer(T1).req(review::ExtendReviewRequest {
            review_id: r1.review_id.clone(),
            reason: "再次延期".into(),
        }))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::FailedPrecondition, "{err:?}");

    // A decision with a failed check cannot be approved.
    let err = answer(&hub, &r1.review_id, &["evidence_sufficient"], "approve")
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument, "{err:?}");
    let fields: Vec<String> = err
        .get_details_bad_request()
        .map(|b| b.field_violations.into_iter().map(|v| v.field).collect())
        .unwrap_or_default();
    assert_eq!(fields, ["decision"]);

    // Round 1: returned for correction; the case goes back to its officers.
    let returned = answer(&hub, &r1.review_id, &["evidence_sufficient"], "return")
        .await
        .expect("returned");
    assert_eq!(returned.status, "returned");
    let back = case_status(&hub, &case_id, "assigned").await;
    assert!(
        back.history
            .iter()
            .any(|h| h.kind == names::REVIEW_RETURNED),
        "{:?}",
        back.history
    );

    // Round 2: corrected and concluded again; approved; the decision takes effect.
    let waiting = conclude(&hub, &case_id, fine(1_200_000)).await;
    assert_eq!(waiting.status, "awaiting_review");
    let r2 = pending_review(&hub, &case_id, 2).await;
    assert_eq!(r2.review_id, r1.review_id, "the same review, a new round");
    let approved = answer(&hub, &r2.review_id, &[], "approve")
        .await
        .expect("approved");
    assert_eq!(approved.status, "approved");
    let rounds: Vec<(u32, &str)> = approved
        .rounds
        .iter()
        .map(|r| (r.round, r.status.as_str()))
        .collect();
    assert_eq!(rounds, [(1, "returned"), (2, "approved")]);
    let failed: Vec<&str> = approved.rounds[0]
        .answers
        .iter()
        .filter(|a| !a.passed)
        .map(|a| a.check.as_str())
        .collect();
    assert_eq!(
        failed,
        ["evidence_sufficient"],
        "round 1 is kept as answered"
    );
    assert_eq!(approved.rounds[1].answers.len(), 7);

    // Approved, the heads' collective discussion decides it (第五十七条).
    case_status(&hub, &case_id, "awaiting_discussion").await;
    hub.captain(T1)
        .discuss(&case_id)
        .await
        .expect("the heads discuss it");
    let done = case_status(&hub, &case_id, "concluded").await;
    let outcome = done.case.unwrap().outcome.expect("the approved decision");
    assert_eq!(outcome.fine_fen, 1_200_000);
    let kinds: Vec<&str> = done.history.iter().map(|h| h.kind.as_str()).collect();
    for k in [
        names::REVIEW_REQUESTED,
        names::REVIEW_RETURNED,
        names::REVIEW_APPROVED,
        "concluded",
    ] {
        assert!(kinds.contains(&k), "{k} missing from {kinds:?}");
    }
    hub.stop().await;
}

async fn a_suspected_crime_is_transferred_to_public_security(backend: Backend) {
    let hub = TestHub::start(backend).await;
    let case_id = assigned_case(&hub, "暴力抗拒执法，占道经营").await;
    let waiting = conclude(&hub, &case_id, fine(2_000_000)).await;
    assert_eq!(waiting.status, "awaiting_review");
    let r = pending_review(&hub, &case_id, 1).await;

    let transferred = answer(&hub, &r.review_id, &["crime_suspected"], "return")
        .await
        .expect("answered");
    assert_eq!(transferred.status, "transferred");

    // The case is referred to the public security organs, as a crime transfer.
    case_status(&hub, &case_id, "referred").await;
    let referral = hub
        .dispatcher("public_security")
        .referral_of(&case_id)
        .await;
    assert_eq!(referral.reason, "crime_transfer");
    assert_eq!(referral.status, "dispatched");
    hub.stop().await;
}

/// A department's major decision waits for its own legal office, exactly as the town's do
/// for the judicial office: LY-001 fines of 10,000 yuan or more are major.
async fn a_departments_major_decision_waits_for_its_legal_office(backend: Backend) {
    let hub = TestHub::start(backend).await;
    let case = hub
        .brigade_officer(T1)
        .report(Report::new(T1, &["LY-001"], "发现有人在后山滥伐林木约80株"))
        .await
        .expect("reported");
    assert_eq!(case.status, "referred");
    let case_id = case.case_id;
    let referral = hub.dispatcher("forestry").referral_of(&case_id).await;
    let id = referral.referral_id.clone();
    let mut c = hub.county.clone();
    c.accept_referral(
        As::dispatcher("forestry").req(county::AcceptReferralRequest {
            referral_id: id.clone(),
        }),
    )
    .await
    .expect("accepted");
    c.assign_referral(
        As::dispatcher("forestry").req(county::AssignReferralRequest {
            referral_id: id.clone(),
            staff: vec!["zhou.diaocha".into()],
        }),
    )
    .await
    .expect("assigned");
    let conclude_referral = |fen: i64| {
        let mut c = hub.county.clone();
        let id = id.clone();
        async move {
            c.conclude_referral(
                As::investigator("forestry").req(county::ConcludeReferralRequest {
                    referral_id: id,
                    outcome: Some(ev::Outcome {
                        kind: "fine".into(),
                        fine_fen: fen,
                        summary: "责令补种并处罚款".into(),
                        ..Default::default()
                    }),
                }),
            )
            .await
            .expect("concluding is accepted")
            .into_inner()
            .referral
            .expect("a referral")
        }
    };
    let referral_status = |status: &'static str| {
        let c = hub.county.clone();
        let id = id.clone();
        async move {
            eventually(&format!("referral {id} to be {status}"), WAIT, || {
                let mut c = c.clone();
                let id = id.clone();
                async move {
                    let r = c
                        .get_referral(
                            As::dispatcher("forestry")
                                .req(county::GetReferralRequest { referral_id: id }),
                        )
                        .await
                        .ok()?
                        .into_inner()
                        .referral?;
                    (r.status == status).then_some(r)
                }
            })
            .await
        }
    };
    let pending = |round: u32| {
        let (hub, case_id) = (&hub, case_id.clone());
        async move {
            hub.pending_review(
                As::legal_officer("forestry"),
                review::ListReviewsRequest {
                    department: "forestry".into(),
                    ..Default::default()
                },
                &case_id,
                Some(round),
            )
            .await
        }
    };
    let answer = |review_id: String, failing: &'static [&'static str], decision: &'static str| {
        let hub = &hub;
        async move {
            hub.answer_review(As::legal_officer("forestry"), &review_id, failing, decision)
                .await
        }
    };

    // A fine of 12,000 yuan is major under LY-001: the referral waits, nothing concluded.
    let waiting = conclude_referral(1_200_000).await;
    assert_eq!(waiting.status, "awaiting_review");
    assert!(waiting.outcome.is_none(), "{waiting:?}");
    let r1 = pending(1).await;
    assert_eq!(r1.department, "forestry");
    assert_eq!(
        r1.materials
            .as_ref()
            .unwrap()
            .proposed
            .as_ref()
            .unwrap()
            .fine_fen,
        1_200_000
    );
    assert!(
        r1.qualification.iter().all(|q| q.qualified),
        "{:?}",
        r1.qualification
    );
    // Neither the town's judicial office nor another department's legal office reviews it.
    for who in [As::judicial_reviewer(T1), As::legal_officer("transport")] {
        let err = hub
            .review
            .clone()
            .get_review(who.req(review::GetReviewRequest {
                review_id: r1.review_id.clone(),
            }))
            .await
            .unwrap_err();
        assert_eq!(err.code(), Code::PermissionDenied, "{err:?}");
    }

    // Round 1: returned for correction; the referral goes back to its staff.
    let returned = answer(r1.review_id.clone(), &["evidence_sufficient"], "return")
        .await
        .expect("returned");
    assert_eq!(returned.status, "returned");
    referral_status("assigned").await;

    // Round 2: concluded again, approved; the decision takes effect and closes the case.
    let waiting = conclude_referral(1_500_000).await;
    assert_eq!(waiting.status, "awaiting_review");
    let r2 = pending(2).await;
    assert_eq!(r2.review_id, r1.review_id, "the same review, a new round");
    let approved = answer(r2.review_id.clone(), &[], "approve")
        .await
        .expect("approved");
    assert_eq!(approved.status, "approved");
    let concluded = referral_status("concluded").await;
    assert_eq!(concluded.outcome.expect("the outcome").fine_fen, 1_500_000);
    let closed = case_status(&hub, &case_id, "closed").await;
    let kinds: Vec<&str> = closed.history.iter().map(|h| h.kind.as_str()).collect();
    assert!(kinds.contains(&"result_received"), "{kinds:?}");
    hub.stop().await;
}

/// The lead department's decision under entrustment on a joint case: a demolition (always
/// major, TD-001) waits for the lead's own legal office, and only its approval lets the
/// brigade see the decision.
async fn a_lead_departments_major_entrusted_decision_waits_for_its_legal_office(backend: Backend) {
    let hub = TestHub::start(backend).await;
    let case = hub
        .brigade_officer(T1)
        .report(
            Report::new(T1, &["TD-001"], "非法占用基本农田建设厂房")
                .in_village("东山村", "东山村基本农田"),
        )
        .await
        .expect("reported");
    assert_eq!(case.status, "awaiting_board");
    let case_id = case.case_id;
    let item = eventually("the joint case on the agenda", WAIT, || async {
        hub.board
            .clone()
            .list_agenda(As::board_member(T1).req(board::ListAgendaRequest {
                town: T1.into(),
                page_size: 0,
                include_decided: false,
            }))
            .await
            .ok()?
            .into_inner()
            .items
            .into_iter()
            .find(|i| {
                i.kind == "joint_case" && i.facts.as_ref().is_some_and(|f| f.case_id == case_id)
            })
    })
    .await;
    let mut board = hub.board.clone();
    let meeting = board
        .record_meeting(As::board_chair(T1).req(board::RecordMeetingRequest {
            town: T1.into(),
            held_at: Some(prost_types::Timestamp {
                seconds: 1_780_000_000,
                nanos: 0,
            }),
            attendees: vec!["zhao.zhuxi".into()],
            item_ids: vec![item.item_id.clone()],
            notes: "联席会议".into(),
        }))
        .await
        .expect("a meeting")
        .into_inner()
        .meeting
        .expect("a meeting");
    board
        .approve_joint(As::board_chair(T1).req(board::ApproveJointRequest {
            item_id: item.item_id.clone(),
            lead_department: "natural_resources".into(),
            cooperating_departments: vec![],
            instructions: "自然资源部门牵头依法处理".into(),
            meeting_id: meeting.meeting_id,
        }))
        .await
        .expect("approved");
    let task = |status: &'static str| {
        let county = hub.county.clone();
        let case_id = case_id.clone();
        async move {
            eventually(&format!("the lead's task to be {status}"), WAIT, || {
                let mut county = county.clone();
                let case_id = case_id.clone();
                async move {
                    county
                        .list_tasks(As::dispatcher("natural_resources").req(
                            county::ListTasksRequest {
                                department: "natural_resources".into(),
                                status: status.into(),
                                page_size: 0,
                            },
                        ))
                        .await
                        .ok()?
                        .into_inner()
                        .tasks
                        .into_iter()
                        .find(|t| t.case_id == case_id)
                }
            })
            .await
        }
    };
    let lead = task("open").await;
    assert_eq!(lead.role, "lead");

    // A demolition is major: the task waits, nothing decided, the brigade sees nothing.
    let waiting = hub
        .county
        .clone()
        .record_entrusted_decision(As::dispatcher("natural_resources").req(
            county::RecordEntrustedDecisionRequest {
                task_id: lead.task_id.clone(),
                decision: Some(ev::Outcome {
                    kind: "demolition".into(),
                    summary: "限期拆除，退还土地".into(),
                    ..Default::default()
                }),
            },
        ))
        .await
        .expect("deciding is accepted")
        .into_inner()
        .task
        .expect("a task");
    assert_eq!(waiting.status, "awaiting_review");
    assert!(waiting.decision.is_none(), "{waiting:?}");
    // No second decision while the first is under review.
    let err = hub
        .county
        .clone()
        .record_entrusted_decision(As::dispatcher("natural_resources").req(
            county::RecordEntrustedDecisionRequest {
                task_id: lead.task_id.clone(),
                decision: Some(ev::Outcome {
                    kind: "demolition".into(),
                    summary: "限期拆除".into(),
                    ..Default::default()
                }),
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::FailedPrecondition, "{err:?}");
    let pending = hub
        .pending_review(
            As::legal_officer("natural_resources"),
            review::ListReviewsRequest {
                department: "natural_resources".into(),
                ..Default::default()
            },
            &case_id,
            Some(1),
        )
        .await;
    assert_eq!(pending.department, "natural_resources");
    assert_eq!(
        pending
            .materials
            .as_ref()
            .and_then(|m| m.proposed.as_ref())
            .map(|o| o.kind.as_str()),
        Some("demolition")
    );
    // Another department's legal office does not review it.
    let err = hub
        .review
        .clone()
        .get_review(As::legal_officer("forestry").req(review::GetReviewRequest {
            review_id: pending.review_id.clone(),
        }))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::PermissionDenied, "{err:?}");
    let got = hub
        .brigade
        .clone()
        .get_case(As::brigade_officer(T1).req(brigade::GetCaseRequest {
            case_id: case_id.clone(),
        }))
        .await
        .expect("the case")
        .into_inner();
    assert!(
        got.case
            .and_then(|c| c.joint)
            .is_none_or(|j| j.decision.is_none()),
        "nothing decided before the review"
    );

    // The legal office approves: the task is decided and the brigade sees the decision.
    let approved = hub
        .answer_review(
            As::legal_officer("natural_resources"),
            &pending.review_id,
            &[],
            "approve",
        )
        .await
        .expect("approved");
    assert_eq!(approved.status, "approved");
    let decided = task("decided").await;
    assert_eq!(decided.decision.expect("the decision").kind, "demolition");
    let joint = eventually("the lead's decision at the brigade", WAIT, || async {
        let got = hub
            .brigade
            .clone()
            .get_case(As::brigade_officer(T1).req(brigade::GetCaseRequest {
                case_id: case_id.clone(),
            }))
            .await
            .ok()?
            .into_inner();
        let joint = got.case?.joint?;
        joint.decision.is_some().then_some(joint)
    })
    .await;
    assert_eq!(joint.decision.expect("a decision").kind, "demolition");
    assert_eq!(joint.decided_in_name_of, "natural_resources");
    hub.stop().await;
}

/// The captain amends a concluded case's decision into a major one (变更): the decision in
/// force stands while the amendment waits for the judicial office; returned, nothing changes;
/// corrected and approved in the next round, the amended decision takes effect.
#[tokio::test]
async fn an_amendment_into_a_major_decision_waits_for_review_and_the_decision_in_force_stands() {
    let hub = TestHub::start(Backend::Sqlite).await;
    let case_id = assigned_case(&hub, "占道经营，首次查处").await;
    let first = conclude(&hub, &case_id, fine(500_000)).await;
    assert_eq!(first.status, "concluded", "5,000 yuan is not major");
    let captain = As::brigade_captain(T1);
    let amend = |fen: i64| brigade::ChangeDecisionRequest {
        case_id: case_id.clone(),
        change: "amend".into(),
        reason: "复查发现违法经营额较大".into(),
        outcome: Some(fine(fen)),
    };
    let mut b = hub.brigade.clone();

    // Round 1: submitted, the fine of 5,000 yuan still in force; returned, it stays so.
    let waiting = b
        .change_decision(captain.req(amend(1_500_000)))
        .await
        .expect("the amendment is submitted")
        .into_inner()
        .case
        .unwrap();
    assert_eq!(waiting.status, "amendment_in_review");
    assert_eq!(waiting.outcome.as_ref().unwrap().fine_fen, 500_000);
    let err = b
        .change_decision(captain.req(brigade::ChangeDecisionRequest {
            case_id: case_id.clone(),
            change: "revoke".into(),
            reason: "撤销".into(),
            outcome: None,
        }))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::FailedPrecondition, "{err:?}");
    let r1 = pending_review(&hub, &case_id, 1).await;
    let materials = r1.materials.as_ref().unwrap();
    assert_eq!(materials.change_reason, "复查发现违法经营额较大");
    assert!(!materials.superseded_event_id.is_empty());
    assert_eq!(materials.proposed.as_ref().unwrap().fine_fen, 1_500_000);
    answer(&hub, &r1.review_id, &["facts_clear"], "return")
        .await
        .expect("returned");
    let back = case_status(&hub, &case_id, "concluded").await;
    assert_eq!(back.case.unwrap().outcome.unwrap().fine_fen, 500_000);

    // Round 2 of the same review: corrected and approved; the amendment takes effect.
    b.change_decision(captain.req(amend(1_200_000)))
        .await
        .expect("the corrected amendment is submitted");
    let r2 = pending_review(&hub, &case_id, 2).await;
    assert_eq!(r2.review_id, r1.review_id, "the same review, a new round");
    answer(&hub, &r2.review_id, &[], "approve")
        .await
        .expect("approved");
    let done = eventually("the amended decision in force", WAIT, || async {
        let got = case_status(&hub, &case_id, "concluded").await;
        (got.case.as_ref()?.outcome.as_ref()?.fine_fen == 1_200_000).then_some(got)
    })
    .await;
    let kinds: Vec<&str> = done.history.iter().map(|h| h.kind.as_str()).collect();
    let from = kinds.iter().rposition(|k| *k == "concluded").unwrap();
    assert_eq!(
        kinds[from + 1..],
        [
            "document",
            names::REVIEW_REQUESTED,
            names::REVIEW_RETURNED,
            names::REVIEW_REQUESTED,
            names::REVIEW_APPROVED,
            "decision_amended",
            "document"
        ],
        "{kinds:?}"
    );
    let verified = b
        .verify_record(captain.req(brigade::VerifyRecordRequest {
            case_id: case_id.clone(),
        }))
        .await
        .unwrap()
        .into_inner();
    assert!(verified.ok, "{verified:?}");
    hub.stop().await;
}

liandong_tests::on_each_backend!(
    a_major_decision_waits_for_review_and_goes_through_a_return_round,
    a_suspected_crime_is_transferred_to_public_security,
    a_departments_major_decision_waits_for_its_legal_office,
    a_lead_departments_major_entrusted_decision_waits_for_its_legal_office,
);

/// A new version of the catalogue renames the matter a case was reported under (CSGL-001
/// becomes CSGL-101, `formerly = ["CSGL-001"]`). The brigade, restarted on it, still judges the
/// case's decision by the matter's criteria: a fine of 15,000 yuan waits for the judicial office,
/// and one of 5,000 yuan under the new code does not.
#[tokio::test]
async fn a_major_decision_whose_matter_was_renamed_in_a_new_catalogue_still_waits_for_review() {
    let mut hub = TestHub::start(Backend::Sqlite).await;
    let case_id = assigned_case(&hub, "占道经营，目录改版前立案").await;

    let shipped = include_str!("../../deploy/data/catalogue.toml");
    let renamed = shipped
        .replacen("version = \"2026.2\"", "version = \"2027.1\"", 1)
        .replacen(
            "code = \"CSGL-001\"",
            "code = \"CSGL-101\"\nformerly = [\"CSGL-001\"]",
            1,
        );
    assert_ne!(
        renamed, shipped,
        "the shipped catalogue has CSGL-001 in version 2026.2"
    );
    let path = hub.env.cfg.data_dir.join("catalogue-2027.toml");
    std::fs::write(&path, renamed).expect("the new catalogue is written");
    let mut cfg = hub.env.cfg.clone();
    cfg.catalogue = Some(path);
    std::fs::write(
        hub.config_file(),
        toml::to_string(&cfg).expect("the configuration serialises"),
    )
    .expect("the configuration is rewritten");
    for service in ["brigade", "review"] {
        hub.restart(service).await;
    }

    // The case still names CSGL-001; its fine of 15,000 yuan is major under CSGL-101.
    let got = eventually("the restarted brigade to answer", WAIT, || async {
        hub.brigade_officer(T1).case(&case_id).await.ok()
    })
    .await;
    assert_eq!(got.case.as_ref().unwrap().matters, ["CSGL-001"]);
    let waiting = conclude(&hub, &case_id, fine(1_500_000)).await;
    assert_eq!(
        waiting.status, "awaiting_review",
        "a renamed matter is judged by its criteria, never as not major"
    );
    let r1 = pending_review(&hub, &case_id, 1).await;
    assert_eq!(
        r1.materials
            .as_ref()
            .unwrap()
            .proposed
            .as_ref()
            .unwrap()
            .fine_fen,
        1_500_000
    );

    // A case reported under the new code is judged by the same criteria.
    let new_case = hub
        .brigade_officer(T1)
        .report(Report::new(T1, &["CSGL-101"], "占道经营，目录改版后立案"))
        .await
        .expect("reported under the new code");
    hub.captain(T1)
        .assign(&new_case.case_id, &["wang.wu", "li.si"])
        .await
        .expect("assigned");
    let minor = conclude(&hub, &new_case.case_id, fine(500_000)).await;
    assert_eq!(minor.status, "concluded", "5,000 yuan is not major");
    hub.stop().await;
}
