//! A department amends and then revokes its decision on a referral: its disclosure is withdrawn
//! with the public reason, the amendment is disclosed anew, an amendment into a major decision
//! waits for the department's legal office (returned once, then approved), and the case's
//! record at the brigade keeps every change.

use std::time::Duration;

use liandong_proto::brigade::v1 as brigade;
use liandong_proto::county::v1 as county;
use liandong_proto::disclosure::v1 as disclosure;
use liandong_proto::events::v1 as ev;
use liandong_proto::readmodel::v1 as readmodel;
use liandong_proto::review::v1 as review;
use liandong_tests::hub::{As, TestHub};
use liandong_tests::people::Report;
use liandong_tests::{Backend, eventually, on_each_backend};
use tonic::Code;
use tonic_types::StatusExt;

const T1: &str = "330782101";
const WAIT: Duration = Duration::from_secs(30);

on_each_backend!(a_departments_changed_decision_has_its_disclosure_withdrawn);

fn fine(fen: i64, summary: &str) -> ev::Outcome {
    ev::Outcome {
        kind: "fine".into(),
        fine_fen: fen,
        summary: summary.into(),
        party: Some(ev::Party {
            kind: "organisation".into(),
            name: "义乌市东山木业有限公司".into(),
            ..Default::default()
        }),
        ..Default::default()
    }
}

/// Round `round` of forestry's legal office's review of `case_id`, pending.
async fn pending_review(hub: &TestHub, case_id: &str, round: u32) -> review::Review {
    hub.pending_review(
        As::legal_officer("forestry"),
        review::ListReviewsRequest {
            department: "forestry".into(),
            ..Default::default()
        },
        case_id,
        Some(round),
    )
    .await
}

/// Forestry's decision figures on the dashboard, once `ready` holds for them.
async fn dashboard_outcomes(
    hub: &TestHub,
    ready: impl Fn(&readmodel::Outcomes) -> bool,
) -> readmodel::Outcomes {
    eventually("the dashboard's decision figures", WAIT, || async {
        let o = hub
            .readmodel
            .clone()
            .get_dashboard(As::viewer(None, None).req(readmodel::GetDashboardRequest {
                department: "forestry".into(),
                ..Default::default()
            }))
            .await
            .ok()?
            .into_inner()
            .outcomes?;
        ready(&o).then_some(o)
    })
    .await
}

/// The referral, once `ready` holds for it.
async fn referral_when(
    hub: &TestHub,
    id: &str,
    ready: impl Fn(&county::Referral) -> bool,
) -> county::Referral {
    eventually("the referral", WAIT, || async {
        let r = hub
            .county
            .clone()
            .get_referral(As::dispatcher("forestry").req(county::GetReferralRequest {
                referral_id: id.into(),
            }))
            .await
            .ok()?
            .into_inner()
            .referral?;
        ready(&r).then_some(r)
    })
    .await
}

async fn answer(hub: &TestHub, review_id: &str, decision: &str, failing: &[&str]) {
    hub.answer_review(As::legal_officer("forestry"), review_id, failing, decision)
        .await
        .expect("the legal office answers");
}

/// Forestry's disclosures of `case_id`, once `ready` holds for them.
async fn disclosures_when(
    hub: &TestHub,
    case_id: &str,
    what: &str,
    ready: impl Fn(&[disclosure::Disclosure]) -> bool,
) -> Vec<disclosure::Disclosure> {
    eventually(what, WAIT, || {
        let mut s = hub.disclosure.clone();
        let ready = &ready;
        async move {
            let all: Vec<_> = s
                .list_disclosures(As::dispatcher("forestry").req(
                    disclosure::ListDisclosuresRequest {
                        department: "forestry".into(),
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
        }
    })
    .await
}

async fn a_departments_changed_decision_has_its_disclosure_withdrawn(backend: Backend) {
    let hub = TestHub::start(backend).await;
    let case = hub
        .brigade_officer(T1)
        .report(
            Report::new(T1, &["LY-001"], "发现有人在后山滥伐林木")
                .in_village("东山村", "后山林区")
                .with_evidence(vec![]),
        )
        .await
        .expect("the report is taken");
    let mut c = hub.county.clone();
    let dispatcher = As::dispatcher("forestry");
    let referral = hub.dispatcher("forestry").referral_of(&case.case_id).await;
    let id = referral.referral_id.clone();
    let change = |change: &str, reason: &str, outcome: Option<ev::Outcome>| {
        county::ChangeReferralDecisionRequest {
            referral_id: id.clone(),
            change: change.into(),
            reason: reason.into(),
            outcome,
        }
    };
    // Nothing to change before a decision exists.
    let early = c
        .change_referral_decision(dispatcher.req(change("revoke", "复议撤销", None)))
        .await
        .expect_err("no decision yet");
    assert_eq!(early.code(), Code::FailedPrecondition, "{early:?}");
    c.accept_referral(dispatcher.req(county::AcceptReferralRequest {
        referral_id: id.clone(),
    }))
    .await
    .unwrap();
    c.conclude_referral(
        As::investigator("forestry").req(county::ConcludeReferralRequest {
            referral_id: id.clone(),
            outcome: Some(fine(300_000, "责令补种并处罚款3000元")),
        }),
    )
    .await
    .unwrap();
    let first = disclosures_when(&hub, &case.case_id, "the decision's disclosure", |d| {
        d.len() == 1
    })
    .await
    .remove(0);

    // Bad input names its fields and changes nothing; an investigator may not change it.
    let bad = c
        .change_referral_decision(dispatcher.req(change("amend", "  ", None)))
        .await
        .expect_err("no reason, no amended decision");
    let mut fields: Vec<String> = bad
        .get_details_bad_request()
        .expect("field violations")
        .field_violations
        .into_iter()
        .map(|v| v.field)
        .collect();
    fields.sort();
    assert_eq!(fields, ["outcome", "reason"]);
    let refused = c
        .change_referral_decision(As::investigator("forestry").req(change(
            "revoke",
            "复议撤销",
            None,
        )))
        .await
        .expect_err("an investigator does not change decisions");
    assert_eq!(refused.code(), Code::PermissionDenied);

    // Amended: the first disclosure is withdrawn with the reason, the amendment disclosed.
    let amended = c
        .change_referral_decision(dispatcher.req(change(
            "amend",
            "经行政复议，罚款数额调整",
            Some(fine(200_000, "责令补种并处罚款2000元")),
        )))
        .await
        .expect("the decision is amended")
        .into_inner()
        .referral
        .unwrap();
    assert_eq!(amended.status, "concluded");
    let after_amend = disclosures_when(&hub, &case.case_id, "the amendment disclosed", |d| {
        d.len() == 2
            && d.iter()
                .any(|x| x.disclosure_id == first.disclosure_id && x.status == "withdrawn")
    })
    .await;
    let old = after_amend
        .iter()
        .find(|x| x.disclosure_id == first.disclosure_id)
        .unwrap();
    assert_eq!(
        old.withdrawal_reason,
        "原决定已依法变更：经行政复议，罚款数额调整"
    );
    assert!(old.withdrawal_due_at.is_some());
    let new = after_amend
        .iter()
        .find(|x| x.disclosure_id != first.disclosure_id)
        .unwrap();
    assert_eq!(new.status, "pending");
    assert_eq!(
        new.decision.as_ref().map(|d| d.fine_fen),
        Some(200_000),
        "{new:?}"
    );

    // Amended into a major decision (a fine of 15,000 yuan; LY-001's threshold is 10,000): it
    // waits for forestry's legal office, the 2,000 yuan fine standing; returned, it stays so.
    let waiting = c
        .change_referral_decision(dispatcher.req(change(
            "amend",
            "复查发现滥伐株数较多",
            Some(fine(1_500_000, "责令补种并处罚款15000元")),
        )))
        .await
        .expect("the amendment is submitted")
        .into_inner()
        .referral
        .unwrap();
    assert_eq!(waiting.status, "amendment_in_review");
    assert_eq!(waiting.outcome.as_ref().unwrap().fine_fen, 200_000);
    let r1 = pending_review(&hub, &case.case_id, 1).await;
    assert_eq!(
        r1.materials.as_ref().unwrap().change_reason,
        "复查发现滥伐株数较多"
    );
    answer(&hub, &r1.review_id, "return", &["facts_clear"]).await;
    let back = referral_when(&hub, &id, |r| r.status == "concluded").await;
    assert_eq!(back.outcome.as_ref().unwrap().fine_fen, 200_000);
    // Corrected, the next round of the same review; approved, the amendment takes effect and
    // is disclosed in place of the 2,000 yuan fine.
    c.change_referral_decision(dispatcher.req(change(
        "amend",
        "复查发现滥伐株数较多",
        Some(fine(1_200_000, "责令补种并处罚款12000元")),
    )))
    .await
    .expect("the corrected amendment is submitted");
    let r2 = pending_review(&hub, &case.case_id, 2).await;
    assert_eq!(r2.review_id, r1.review_id);
    answer(&hub, &r2.review_id, "approve", &[]).await;
    let in_force = referral_when(&hub, &id, |r| {
        r.outcome.as_ref().is_some_and(|o| o.fine_fen == 1_200_000)
    })
    .await;
    assert_eq!(in_force.status, "concluded");
    // The dashboard counts the decision in force only: the replaced ones no longer count.
    dashboard_outcomes(&hub, |o| o.decisions == 1 && o.fines_fen == 1_200_000).await;
    disclosures_when(&hub, &case.case_id, "the major amendment disclosed", |d| {
        d.len() == 3
            && d.iter().any(|x| {
                x.status == "pending"
                    && x.decision.as_ref().is_some_and(|d| d.fine_fen == 1_200_000)
            })
            && d.iter().filter(|x| x.status == "withdrawn").count() == 2
    })
    .await;

    // Revoked: the amendment's disclosure is withdrawn too; the referral is revoked for good.
    let revoked = c
        .change_referral_decision(dispatcher.req(change("revoke", "法院判决撤销", None)))
        .await
        .expect("the decision is revoked")
        .into_inner()
        .referral
        .unwrap();
    assert_eq!(revoked.status, "revoked");
    disclosures_when(&hub, &case.case_id, "every disclosure withdrawn", |d| {
        d.len() == 3 && d.iter().all(|x| x.status == "withdrawn")
    })
    .await;
    dashboard_outcomes(&hub, |o| o.decisions == 0 && o.fines_fen == 0).await;
    let again = c
        .change_referral_decision(dispatcher.req(change("revoke", "再次撤销", None)))
        .await
        .expect_err("nothing left to revoke");
    assert_eq!(again.code(), Code::FailedPrecondition);

    // The brigade's record of the case keeps both changes, and still verifies.
    let record = eventually("the changes in the case's record", WAIT, || {
        let mut b = hub.brigade.clone();
        let case_id = case.case_id.clone();
        async move {
            let r = b
                .get_case(As::brigade_officer(T1).req(brigade::GetCaseRequest { case_id }))
                .await
                .ok()?
                .into_inner();
            let kinds: Vec<String> = r.history.iter().map(|h| h.kind.clone()).collect();
            (kinds.iter().any(|k| k == "decision_amended")
                && kinds.iter().any(|k| k == "decision_revoked"))
            .then_some(kinds)
        }
    })
    .await;
    let verified = hub
        .brigade
        .clone()
        .verify_record(As::brigade_captain(T1).req(brigade::VerifyRecordRequest {
            case_id: case.case_id.clone(),
        }))
        .await
        .expect("the record verifies")
        .into_inner();
    println!(
        "[{backend}] forestry amended then revoked its decision; record kinds {record:?}; \
         verified {}",
        verified.ok
    );
    assert!(verified.ok, "{verified:?}");
    hub.stop().await;
}
