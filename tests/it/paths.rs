//! The three paths end to end, through the services' gRPC APIs only, with every service a
//! real process on real NATS JetStream and a real database.

use std::time::Duration;

use liandong_proto::board::v1 as board;
use liandong_proto::brigade::v1 as brigade;
use liandong_proto::county::v1 as county;
use liandong_proto::disclosure::v1 as disclosure;
use liandong_proto::events::v1 as ev;
use liandong_proto::review::v1 as review;
use liandong_tests::hub::{As, TestHub};
use liandong_tests::people::{Report, fine};
use liandong_tests::{Backend, eventually};
use liandong_topology::names;
use tonic::Code;
use tonic_types::StatusExt;

const T1: &str = "330782101";
const T2: &str = "330782102";
const WAIT: Duration = Duration::from_secs(30);

async fn an_out_of_scope_case_reaches_the_department_and_its_result_closes_the_case(
    backend: Backend,
) {
    let hub = TestHub::start(backend).await;
    let reported = hub
        .brigade_officer(T1)
        .report(Report::new(T1, &["LY-001"], "发现有人在后山滥伐林木约20株"))
        .await
        .expect("the report is taken");
    let triage = reported.triage.clone().expect("triaged");
    assert_eq!(triage.path, ev::Path::OutOfScope as i32);
    assert_eq!(triage.rule, 5);
    assert_eq!(triage.department, "forestry");
    assert_eq!(reported.status, "referred");

    // It reaches the forestry bureau's inbox with no hand in between.
    let referral = hub
        .dispatcher("forestry")
        .referral_of(&reported.case_id)
        .await;
    assert_eq!(referral.status, "dispatched");
    assert_eq!(referral.facts.as_ref().unwrap().matters, vec!["LY-001"]);

    let forestry = hub.dispatcher("forestry");
    forestry.sign_for(&referral).await.expect("signed for");
    forestry.accept(&referral).await.expect("accepted");
    forestry
        .assign(&referral, &["lin.yuan"])
        .await
        .expect("assigned");
    let concluded = hub
        .investigator("forestry")
        .conclude(&referral, fine(300_000, "责令补种并处罚款"))
        .await
        .expect("concluded");
    assert_eq!(concluded.status, "concluded");

    // The result flows back and closes the brigade's case, which keeps its history.
    let closed = eventually("the brigade's case to close", WAIT, || async {
        let got = hub
            .brigade_officer(T1)
            .case(&reported.case_id)
            .await
            .expect("the case is readable");
        (got.case.as_ref().unwrap().status == "closed").then_some(got)
    })
    .await;
    let kinds: Vec<&str> = closed.history.iter().map(|h| h.kind.as_str()).collect();
    for k in [
        "reported",
        "triaged",
        "referred",
        names::REFERRAL_SIGNED_FOR,
        names::REFERRAL_ACCEPTED,
        names::REFERRAL_ASSIGNED,
        "result_received",
    ] {
        assert!(kinds.contains(&k), "history {kinds:?} lacks {k}");
    }
    // Each service exposes its bus metrics to Prometheus on its own port.
    let metrics =
        liandong_tests::http::request(hub.env.cfg.brigade_addr, "GET", "/metrics", &[], None)
            .await
            .unwrap();
    assert_eq!(metrics.status, 200);
    assert!(
        metrics.body.contains(
            r#"liandong_messages_consumed_total{consumer="brigade-from-county",outcome="applied"}"#
        ),
        "{}",
        metrics.body
    );
    assert!(
        metrics.body.contains("liandong_events_published_total"),
        "{}",
        metrics.body
    );
    hub.stop().await;
}

#[tokio::test]
async fn an_out_of_scope_case_closes_on_the_departments_result_on_sqlite() {
    an_out_of_scope_case_reaches_the_department_and_its_result_closes_the_case(Backend::Sqlite)
        .await;
}

#[tokio::test]
async fn an_out_of_scope_case_closes_on_the_departments_result_on_postgres() {
    an_out_of_scope_case_reaches_the_department_and_its_result_closes_the_case(Backend::Postgres)
        .await;
}

#[tokio::test]
async fn in_scope_joint_and_returned_cases_go_where_they_belong_in_two_towns() {
    let hub = TestHub::start(Backend::Sqlite).await;
    let mut b = hub.brigade.clone();

    // In scope: rural construction without a permit is the town's own power (城乡规划法 第六十五条).
    let in_scope = hub
        .brigade_officer(T1)
        .report(Report::new(
            T1,
            &["CXGH-001"],
            "村民未取得乡村建设规划许可证建房",
        ))
        .await
        .unwrap();
    assert_eq!(
        in_scope.triage.as_ref().unwrap().path,
        ev::Path::InScope as i32
    );
    assert_eq!(in_scope.status, "open");

    // Joint: illegal land occupation always needs joint handling; it lands on T1's agenda.
    let joint = hub
        .brigade_officer(T1)
        .report(Report::new(T1, &["TD-001"], "非法占用耕地建厂房"))
        .await
        .unwrap();
    assert_eq!(joint.triage.as_ref().unwrap().path, ev::Path::Joint as i32);
    assert_eq!(joint.status, "awaiting_board");
    let agenda = |town: &'static str| {
        let mut board = hub.board.clone();
        async move {
            board
                .list_agenda(As::board_member(town).req(board::ListAgendaRequest {
                    town: town.into(),
                    page_size: 0,
                    include_decided: false,
                }))
                .await
                .unwrap()
                .into_inner()
                .items
        }
    };
    let item = eventually("the joint case on T1's agenda", WAIT, || async {
        agenda(T1)
            .await
            .into_iter()
            .find(|i| i.facts.as_ref().is_some_and(|f| f.case_id == joint.case_id))
    })
    .await;
    assert_eq!(item.kind, "joint_case");

    // One department's inbox receives referrals from both towns.
    let from_t1 = hub
        .brigade_officer(T1)
        .report(Report::new(T1, &["JT-001"], "机动车违规停放堵塞村道"))
        .await
        .unwrap();
    let from_t2 = hub
        .brigade_officer(T2)
        .report(Report::new(T2, &["JT-001"], "货车违停集镇路口"))
        .await
        .unwrap();
    let r1 = hub
        .dispatcher("public_security")
        .referral_of(&from_t1.case_id)
        .await;
    let r2 = hub
        .dispatcher("public_security")
        .referral_of(&from_t2.case_id)
        .await;
    assert_ne!(r1.referral_id, r2.referral_id);

    // Each brigade sees only its own town.
    let err = b
        .get_case(As::brigade_officer(T2).req(brigade::GetCaseRequest {
            case_id: from_t1.case_id.clone(),
        }))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::PermissionDenied, "{err:?}");
    let t2_cases = b
        .list_cases(As::brigade_officer(T2).req(brigade::ListCasesRequest {
            town: T2.into(),
            status: String::new(),
            page_size: 0,
        }))
        .await
        .unwrap()
        .into_inner()
        .cases;
    assert!(t2_cases.iter().all(|c| c.town == T2) && t2_cases.len() == 1);
    assert!(
        agenda(T2).await.is_empty(),
        "T2's board sees none of T1's items"
    );

    // A return lands on T1's board as a competence dispute.
    hub.county
        .clone()
        .return_referral(
            As::dispatcher("public_security").req(county::ReturnReferralRequest {
                referral_id: r1.referral_id.clone(),
                reason: "村道停车属交通运输部门管理".into(),
                not_competent: true,
            }),
        )
        .await
        .unwrap();
    let dispute = eventually("the dispute on T1's agenda", WAIT, || async {
        agenda(T1)
            .await
            .into_iter()
            .find(|i| i.kind == "competence_dispute")
    })
    .await;
    assert_eq!(dispute.referral_id, r1.referral_id);
    assert_eq!(dispute.returned_by, "public_security");
    hub.stop().await;
}

#[tokio::test]
async fn bad_input_is_refused_naming_the_field_and_nothing_is_stored() {
    let hub = TestHub::start(Backend::Sqlite).await;
    let mut b = hub.brigade.clone();
    let officer = As::brigade_officer(T1);
    let fields = |s: tonic::Status| -> Vec<String> {
        assert_eq!(s.code(), Code::InvalidArgument, "{s:?}");
        s.get_details_bad_request()
            .expect("field violations")
            .field_violations
            .into_iter()
            .map(|v| v.field)
            .collect()
    };

    let unknown = b
        .report_case(officer.req(Report::new(T1, &["XX-999"], "未知事项").request()))
        .await
        .unwrap_err();
    assert_eq!(fields(unknown), vec!["matters"]);
    let mut missing = Report::new(T1, &["LY-001"], "缺少村名").request();
    missing.village = String::new();
    assert_eq!(
        fields(b.report_case(officer.req(missing)).await.unwrap_err()),
        vec!["village"]
    );
    let too_long = Report::new(T1, &["LY-001"], &"很".repeat(4001)).request();
    assert_eq!(
        fields(b.report_case(officer.req(too_long)).await.unwrap_err()),
        vec!["description"]
    );

    // A role that may not report is refused.
    let err = b
        .report_case(
            As::board_member(T1)
                .req(Report::new(T1, &["LY-001"], "联席会议成员不能登记案件").request()),
        )
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::PermissionDenied);
    // No caller at all.
    let err = b
        .report_case(tonic::Request::new(
            Report::new(T1, &["LY-001"], "无身份").request(),
        ))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::Unauthenticated);

    let listed = b
        .list_cases(officer.req(brigade::ListCasesRequest {
            town: T1.into(),
            status: String::new(),
            page_size: 0,
        }))
        .await
        .unwrap()
        .into_inner()
        .cases;
    assert!(listed.is_empty(), "nothing was stored: {listed:?}");

    // An action on a referral in the wrong state, and one by another department.
    let case = hub
        .brigade_officer(T1)
        .report(Report::new(T1, &["LY-001"], "滥伐林木"))
        .await
        .unwrap();
    let r = hub.dispatcher("forestry").referral_of(&case.case_id).await;
    let mut c = hub.county.clone();
    let err = c
        .conclude_referral(
            As::dispatcher("forestry").req(county::ConcludeReferralRequest {
                referral_id: r.referral_id.clone(),
                outcome: Some(ev::Outcome {
                    kind: "education".into(),
                    ..Default::default()
                }),
            }),
        )
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::FailedPrecondition, "{err:?}");
    let err = c
        .sign_for_referral(
            As::dispatcher("public_security").req(county::SignForReferralRequest {
                referral_id: r.referral_id.clone(),
            }),
        )
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::PermissionDenied, "{err:?}");
    let err = c
        .assign_referral(
            As::dispatcher("forestry").req(county::AssignReferralRequest {
                referral_id: r.referral_id.clone(),
                staff: vec!["no spaces allowed".into()],
            }),
        )
        .await
        .unwrap_err();
    assert_eq!(fields(err), vec!["staff[0]"]);
    let still = c
        .get_referral(As::dispatcher("forestry").req(county::GetReferralRequest {
            referral_id: r.referral_id.clone(),
        }))
        .await
        .unwrap()
        .into_inner()
        .referral
        .unwrap();
    assert_eq!(
        still.status, "dispatched",
        "refused actions changed nothing"
    );
    assert!(still.staff.is_empty());
    hub.stop().await;
}

pub(crate) async fn agenda_item(
    hub: &TestHub,
    town: &'static str,
    case_id: &str,
    kind: &str,
) -> board::AgendaItem {
    eventually(
        &format!("{case_id} as a {kind} on {town}'s agenda"),
        WAIT,
        || async {
            hub.board
                .clone()
                .list_agenda(As::board_member(town).req(board::ListAgendaRequest {
                    town: town.into(),
                    page_size: 0,
                    include_decided: false,
                }))
                .await
                .unwrap()
                .into_inner()
                .items
                .into_iter()
                .find(|i| i.kind == kind && i.facts.as_ref().is_some_and(|f| f.case_id == case_id))
        },
    )
    .await
}

async fn task_of(hub: &TestHub, department: &'static str, case_id: &str) -> county::Task {
    eventually(
        &format!("{department}'s task for {case_id}"),
        WAIT,
        || async {
            hub.county
                .clone()
                .list_tasks(As::dispatcher(department).req(county::ListTasksRequest {
                    department: department.into(),
                    status: String::new(),
                    page_size: 0,
                }))
                .await
                .unwrap()
                .into_inner()
                .tasks
                .into_iter()
                .find(|t| t.case_id == case_id)
        },
    )
    .await
}

#[tokio::test]
async fn a_joint_case_is_approved_decided_executed_and_closed() {
    let hub = TestHub::start(Backend::Postgres).await;
    let mut b = hub.brigade.clone();
    let case = hub
        .brigade_officer(T1)
        .report(Report::new(T1, &["TD-001"], "非法占用基本农田建设厂房"))
        .await
        .unwrap();
    assert_eq!(case.status, "awaiting_board");
    let item = agenda_item(&hub, T1, &case.case_id, "joint_case").await;

    // Members give their opinions; the chair records the meeting and approves.
    let member = hub.board_member(T1);
    member
        .opine(&item.item_id, "建议自然资源部门牵头")
        .await
        .unwrap();
    let err = member
        .approve_joint(&item.item_id, "natural_resources", &[], "", "")
        .await
        .unwrap_err();
    assert_eq!(
        err.code(),
        Code::PermissionDenied,
        "only the chair approves"
    );
    let chair = hub.board_chair(T1);
    let meeting = chair
        .record_meeting(&[&item.item_id], "第4次联席会议")
        .await
        .unwrap();
    let approved = chair
        .approve_joint(
            &item.item_id,
            "natural_resources",
            &["agriculture_rural"],
            "自然资源部门牵头，农业农村部门配合复耕",
            &meeting.meeting_id,
        )
        .await
        .unwrap();
    assert_eq!(approved.lead_department, "natural_resources");

    // The lead gets its decision task and the case file; the cooperating department its task.
    let lead = task_of(&hub, "natural_resources", &case.case_id).await;
    assert_eq!(lead.role, "lead");
    let coop = task_of(&hub, "agriculture_rural", &case.case_id).await;
    assert_eq!(coop.role, "cooperating");
    let handovers = eventually("the case file handed over to the lead", WAIT, || async {
        let h = hub
            .county
            .clone()
            .list_handovers(
                As::dispatcher("natural_resources").req(county::ListHandoversRequest {
                    department: "natural_resources".into(),
                    case_id: case.case_id.clone(),
                    page_size: 0,
                }),
            )
            .await
            .unwrap()
            .into_inner()
            .handovers;
        (!h.is_empty()).then_some(h)
    })
    .await;
    assert!(
        handovers[0]
            .record
            .iter()
            .any(|e| e.kind == "board_approved")
    );
    assert_eq!(handovers[0].evidence_refs, vec!["photo-001.jpg"]);

    // The brigade cannot execute before the lead has decided.
    let err = b
        .record_joint_execution(
            As::brigade_officer(T1).req(brigade::RecordJointExecutionRequest {
                case_id: case.case_id.clone(),
                summary: "协同执行".into(),
            }),
        )
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::FailedPrecondition, "{err:?}");

    let mut c = hub.county.clone();
    let err = c
        .record_entrusted_decision(As::dispatcher("agriculture_rural").req(
            county::RecordEntrustedDecisionRequest {
                task_id: coop.task_id.clone(),
                decision: Some(ev::Outcome {
                    kind: "demolition".into(),
                    ..Default::default()
                }),
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(
        err.code(),
        Code::FailedPrecondition,
        "only the lead decides: {err:?}"
    );
    c.record_entrusted_decision(As::dispatcher("natural_resources").req(
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
    .unwrap();
    // A demolition is a major decision: it waits for the lead's legal office, which approves.
    let pending = hub
        .pending_review(
            As::legal_officer("natural_resources"),
            review::ListReviewsRequest {
                department: "natural_resources".into(),
                ..Default::default()
            },
            &case.case_id,
            None,
        )
        .await;
    hub.answer_review(
        As::legal_officer("natural_resources"),
        &pending.review_id,
        &[],
        "approve",
    )
    .await
    .unwrap();
    c.complete_task(
        As::dispatcher("agriculture_rural").req(county::CompleteTaskRequest {
            task_id: coop.task_id.clone(),
            summary: "复耕方案已制定".into(),
        }),
    )
    .await
    .unwrap();

    let decided = eventually("the lead's decision at the brigade", WAIT, || async {
        let got = hub
            .brigade_officer(T1)
            .case(&case.case_id)
            .await
            .expect("the case is readable");
        let joint = got.case?.joint?;
        (joint.decision.is_some() && joint.completed_by == vec!["agriculture_rural"])
            .then_some(joint)
    })
    .await;
    assert_eq!(decided.decided_in_name_of, "natural_resources");
    // The lead holds the case file and keeps its record: the chain handed over, then its own
    // steps, the legal office's signed answer among them; it verifies. The cooperating
    // department holds no file.
    let record = hub
        .county
        .clone()
        .get_case_record(
            As::dispatcher("natural_resources").req(county::GetCaseRecordRequest {
                department: "natural_resources".into(),
                case_id: case.case_id.clone(),
            }),
        )
        .await
        .unwrap()
        .into_inner();
    assert!(record.ok, "{record:?}");
    let kinds: Vec<&str> = record.entries.iter().map(|e| e.kind.as_str()).collect();
    let from = kinds
        .iter()
        .position(|k| *k == "handover_received")
        .unwrap();
    assert_eq!(
        kinds[from..],
        [
            "handover_received",
            names::REVIEW_REQUESTED,
            names::REVIEW_APPROVED,
            names::ENTRUSTED_DECISION_RECORDED
        ],
        "{kinds:?}"
    );
    assert_eq!(
        record.entries[from + 2].signed_by.as_deref(),
        Some("review")
    );
    let none = hub
        .county
        .clone()
        .get_case_record(
            As::dispatcher("agriculture_rural").req(county::GetCaseRecordRequest {
                department: "agriculture_rural".into(),
                case_id: case.case_id.clone(),
            }),
        )
        .await
        .unwrap_err();
    assert_eq!(none.code(), Code::NotFound);
    let executed = b
        .record_joint_execution(
            As::brigade_officer(T1).req(brigade::RecordJointExecutionRequest {
                case_id: case.case_id.clone(),
                summary: "协同拆除完毕".into(),
            }),
        )
        .await
        .unwrap()
        .into_inner()
        .case
        .unwrap();
    assert_eq!(executed.status, "closed");

    // The board closes its item once the execution is reported; the minutes tell the story.
    eventually("the board's item to close", WAIT, || async {
        let got = hub
            .board
            .clone()
            .get_item(As::board_member(T1).req(board::GetItemRequest {
                item_id: item.item_id.clone(),
            }))
            .await
            .unwrap()
            .into_inner()
            .item
            .unwrap();
        (got.status == "closed").then_some(())
    })
    .await;
    let minutes = hub
        .board
        .clone()
        .export_minutes(As::board_member(T1).req(board::ExportMinutesRequest {
            meeting_id: meeting.meeting_id.clone(),
        }))
        .await
        .unwrap()
        .into_inner()
        .markdown;
    assert!(
        minutes.contains("联席会议纪要") && minutes.contains("县自然资源和规划局"),
        "{minutes}"
    );
    assert!(minutes.contains("建议自然资源部门牵头"), "{minutes}");

    // Later, on reconsideration, the lead changes its entrusted decision like any deciding
    // body (变更 / 撤销): amended to a warning at once; amended back into a demolition (major)
    // only once its legal office approves; then revoked. The brigade follows each, and the
    // lead's disclosure of each replaced decision is withdrawn.
    let lead_disclosures = |ready: fn(&[disclosure::Disclosure]) -> bool| {
        let hub = &hub;
        let case_id = case.case_id.clone();
        async move {
            eventually("the lead's disclosures", WAIT, || async {
                let all: Vec<disclosure::Disclosure> = hub
                    .disclosure
                    .clone()
                    .list_disclosures(As::dispatcher("natural_resources").req(
                        disclosure::ListDisclosuresRequest {
                            department: "natural_resources".into(),
                            ..Default::default()
                        },
                    ))
                    .await
                    .ok()?
                    .into_inner()
                    .disclosures
                    .into_iter()
                    .filter(|d| d.case_id == case_id)
                    .collect();
                ready(&all).then_some(all)
            })
            .await
        }
    };
    // The brigade's joint case and the board's agenda item both carry the decision in force.
    let joint_decision = |kind: Option<&'static str>| {
        let hub = &hub;
        let (case_id, item_id) = (case.case_id.clone(), item.item_id.clone());
        async move {
            eventually("the joint case's decision at the brigade", WAIT, || async {
                let joint = hub
                    .brigade_officer(T1)
                    .case(&case_id)
                    .await
                    .expect("the case is readable")
                    .case?
                    .joint?;
                (joint.decision.as_ref().map(|d| d.kind.as_str()) == kind).then_some(())
            })
            .await;
            eventually("the decision on the board's agenda item", WAIT, || async {
                let got = hub
                    .board
                    .clone()
                    .get_item(As::board_member(T1).req(board::GetItemRequest {
                        item_id: item_id.clone(),
                    }))
                    .await
                    .ok()?
                    .into_inner()
                    .item?;
                let decided = got.entrusted_decision.as_ref().map(|d| d.kind.as_str());
                (decided == kind && got.status == "closed").then_some(())
            })
            .await
        }
    };
    let dispatcher = As::dispatcher("natural_resources");
    let change =
        |change: &str, outcome: Option<ev::Outcome>| county::ChangeEntrustedDecisionRequest {
            task_id: lead.task_id.clone(),
            change: change.into(),
            reason: "经行政复议".into(),
            outcome,
        };
    let refused = c
        .change_entrusted_decision(As::dispatcher("agriculture_rural").req(
            county::ChangeEntrustedDecisionRequest {
                task_id: coop.task_id.clone(),
                ..change("revoke", None)
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(
        refused.code(),
        Code::FailedPrecondition,
        "a cooperating department decided nothing: {refused:?}"
    );
    let amended = c
        .change_entrusted_decision(dispatcher.req(change(
            "amend",
            Some(ev::Outcome {
                kind: "warning".into(),
                summary: "警告，责令限期退还土地".into(),
                ..Default::default()
            }),
        )))
        .await
        .expect("the lead amends its decision")
        .into_inner()
        .task
        .unwrap();
    assert_eq!(amended.status, "decided");
    joint_decision(Some("warning")).await;
    lead_disclosures(|d| {
        d.iter().any(|x| x.status == "withdrawn")
            && d.iter().any(|x| {
                x.status == "pending" && x.decision.as_ref().is_some_and(|o| o.outcome == "warning")
            })
    })
    .await;
    let waiting = c
        .change_entrusted_decision(dispatcher.req(change(
            "amend",
            Some(ev::Outcome {
                kind: "demolition".into(),
                summary: "复议维持拆除".into(),
                ..Default::default()
            }),
        )))
        .await
        .expect("the major amendment is submitted")
        .into_inner()
        .task
        .unwrap();
    assert_eq!(waiting.status, "amendment_in_review");
    let review = hub
        .pending_review(
            As::legal_officer("natural_resources"),
            review::ListReviewsRequest {
                department: "natural_resources".into(),
                ..Default::default()
            },
            &case.case_id,
            None,
        )
        .await;
    assert_eq!(
        review.materials.as_ref().unwrap().change_reason,
        "经行政复议"
    );
    hub.answer_review(
        As::legal_officer("natural_resources"),
        &review.review_id,
        &[],
        "approve",
    )
    .await
    .unwrap();
    joint_decision(Some("demolition")).await;
    let revoked = c
        .change_entrusted_decision(dispatcher.req(change("revoke", None)))
        .await
        .expect("the lead revokes its decision")
        .into_inner()
        .task
        .unwrap();
    assert_eq!(revoked.status, "revoked");
    joint_decision(None).await;
    lead_disclosures(|d| d.len() == 3 && d.iter().all(|x| x.status == "withdrawn")).await;
    let record = eventually("the lead's record with every change", WAIT, || async {
        let r = hub
            .county
            .clone()
            .get_case_record(dispatcher.req(county::GetCaseRecordRequest {
                department: "natural_resources".into(),
                case_id: case.case_id.clone(),
            }))
            .await
            .ok()?
            .into_inner();
        (r.entries.last()?.kind == "decision_revoked").then_some(r)
    })
    .await;
    assert!(record.ok, "{record:?}");
    let kinds: Vec<&str> = record.entries.iter().map(|e| e.kind.as_str()).collect();
    let from = kinds
        .iter()
        .position(|k| *k == names::ENTRUSTED_DECISION_RECORDED)
        .unwrap();
    assert_eq!(
        kinds[from + 1..],
        [
            "decision_amended",
            names::REVIEW_REQUESTED,
            names::REVIEW_APPROVED,
            "decision_amended",
            "decision_revoked"
        ],
        "{kinds:?}"
    );
    hub.stop().await;
}

#[tokio::test]
async fn a_returned_referral_is_reassigned_by_the_chair_and_the_new_department_receives_it() {
    let hub = TestHub::start(Backend::Sqlite).await;
    let case = hub
        .brigade_officer(T1)
        .report(Report::new(T1, &["JT-001"], "货车长期违停村道"))
        .await
        .unwrap();
    let first = hub
        .dispatcher("public_security")
        .referral_of(&case.case_id)
        .await;
    hub.county
        .clone()
        .return_referral(
            As::dispatcher("public_security").req(county::ReturnReferralRequest {
                referral_id: first.referral_id.clone(),
                reason: "村道归交通运输部门管理".into(),
                not_competent: true,
            }),
        )
        .await
        .unwrap();
    let dispute = agenda_item(&hub, T1, &case.case_id, "competence_dispute").await;
    hub.board
        .clone()
        .settle_dispute(As::board_chair(T1).req(board::SettleDisputeRequest {
            item_id: dispute.item_id.clone(),
            department: "transport".into(),
            reason: "农村公路由交通运输部门管理".into(),
            meeting_id: String::new(),
        }))
        .await
        .unwrap();
    let second = hub.dispatcher("transport").referral_of(&case.case_id).await;
    assert_eq!(second.dispatch_no, 2);
    assert_ne!(second.referral_id, first.referral_id);
    // The first department no longer holds it open.
    let open_at_first: Vec<_> = hub
        .dispatcher("public_security")
        .inbox("")
        .await
        .expect("the inbox is readable")
        .into_iter()
        .filter(|r| r.facts.as_ref().is_some_and(|f| f.case_id == case.case_id))
        .filter(|r| !matches!(r.status.as_str(), "returned" | "withdrawn"))
        .collect();
    assert!(open_at_first.is_empty(), "{open_at_first:?}");
    let got = hub
        .brigade_officer(T1)
        .case(&case.case_id)
        .await
        .expect("the case is readable");
    assert!(got.history.iter().any(|h| h.kind == names::DISPUTE_SETTLED));
    hub.stop().await;
}

#[tokio::test]
async fn an_in_scope_case_is_assigned_handled_and_concluded_by_the_brigade() {
    let hub = TestHub::start(Backend::Sqlite).await;
    let mut b = hub.brigade.clone();
    let case = hub
        .brigade_officer(T1)
        .report(Report::new(
            T1,
            &["CXGH-001"],
            "未取得乡村建设规划许可证建房",
        ))
        .await
        .unwrap();
    let err = b
        .assign_case(As::brigade_officer(T1).req(brigade::AssignCaseRequest {
            case_id: case.case_id.clone(),
            officers: vec!["wang.wu".into(), "li.si".into()],
        }))
        .await
        .unwrap_err();
    assert_eq!(
        err.code(),
        Code::PermissionDenied,
        "only the captain assigns"
    );
    b.assign_case(As::brigade_captain(T1).req(brigade::AssignCaseRequest {
        case_id: case.case_id.clone(),
        officers: vec!["wang.wu".into(), "li.si".into()],
    }))
    .await
    .unwrap();
    b.record_case_action(
        As::brigade_officer(T1).req(brigade::RecordCaseActionRequest {
            case_id: case.case_id.clone(),
            kind: "inspection".into(),
            note: "现场检查并拍照".into(),
            evidence_refs: vec!["photo-002.jpg".into()],
            ..Default::default()
        }),
    )
    .await
    .unwrap();
    let done = b
        .conclude_case(As::brigade_officer(T1).req(brigade::ConcludeCaseRequest {
            case_id: case.case_id.clone(),
            outcome: Some(ev::Outcome {
                kind: "education".into(),
                summary: "初次轻微违法，教育后当事人自行整改".into(),
                ..Default::default()
            }),
            ..Default::default()
        }))
        .await
        .unwrap()
        .into_inner()
        .case
        .unwrap();
    assert_eq!(done.status, "concluded");
    assert_eq!(done.officers, vec!["wang.wu", "li.si"]);
    assert_eq!(done.outcome.unwrap().kind, "education");
    let got = hub
        .brigade_officer(T1)
        .case(&case.case_id)
        .await
        .expect("the case is readable");
    let kinds: Vec<&str> = got.history.iter().map(|h| h.kind.as_str()).collect();
    assert_eq!(
        kinds,
        // Filing (立案) and the no-penalty decision are documents in the record.
        vec![
            "reported",
            "triaged",
            "assigned",
            "document",
            "inspection",
            "concluded",
            "document"
        ]
    );
    hub.stop().await;
}
