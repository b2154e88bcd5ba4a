//! The rest of the three systems end to end: a decision amended or revoked by the town has its
//! disclosure withdrawn with the reason (and an amended one disclosed), a department verifies
//! the record of a case it took part in and no other, a refused handover is listed as refused,
//! and the demo leaves its decisions published.

use std::process::Command;
use std::time::Duration;

use liandong_domain::calendar::Calendar;
use liandong_proto::brigade::v1 as brigade;
use liandong_proto::county::v1 as county;
use liandong_proto::disclosure::v1 as disclosure;
use liandong_proto::events::v1 as ev;
use liandong_proto::time::from_ts;
use liandong_tests::http::request;
use liandong_tests::hub::{As, TestHub, liandong_bin};
use liandong_tests::people::Report;
use liandong_tests::{Backend, eventually};
use tonic::Code;
use tonic_types::StatusExt;

use crate::disclosure::{T1, certify, conclude_in_scope, person, publish, town_disclosure_of};

const WAIT: Duration = Duration::from_secs(30);

fn fields(s: tonic::Status) -> Vec<String> {
    assert_eq!(s.code(), Code::InvalidArgument, "{s:?}");
    s.get_details_bad_request()
        .expect("field violations")
        .field_violations
        .into_iter()
        .map(|v| v.field)
        .collect()
}

/// The town disclosure `id` once `ready` holds for it.
async fn disclosure_when(
    hub: &TestHub,
    what: &str,
    ready: impl Fn(&disclosure::Disclosure) -> bool,
) -> disclosure::Disclosure {
    eventually(what, WAIT, || {
        let mut d = hub.disclosure.clone();
        let ready = &ready;
        async move {
            d.list_disclosures(
                As::brigade_captain(T1).req(disclosure::ListDisclosuresRequest {
                    town: T1.into(),
                    ..Default::default()
                }),
            )
            .await
            .ok()?
            .into_inner()
            .disclosures
            .into_iter()
            .find(|x| ready(x))
        }
    })
    .await
}

/// The captain's certificate: changing a decision is an enforcement act (持证上岗).
async fn certify_captain(hub: &TestHub) {
    hub.brigade
        .clone()
        .register_officer(
            As::brigade_captain(T1).req(brigade::RegisterOfficerRequest {
                town: T1.into(),
                officer: "li.si".into(),
                certificate_no: "ZJ-330782-0002".into(),
                issuing_authority: "浙江省人民政府".into(),
                valid_from: "2020-01-01".into(),
                valid_until: "2099-12-31".into(),
            }),
        )
        .await
        .expect("the captain is registered");
}

#[tokio::test]
async fn a_changed_decision_has_its_disclosure_withdrawn_with_the_reason_and_the_amendment_disclosed()
 {
    let hub = TestHub::start(Backend::Postgres).await;
    certify(&hub).await;
    certify_captain(&hub).await;
    let captain = As::brigade_captain(T1);
    let mut b = hub.brigade.clone();
    let case_id = conclude_in_scope(
        &hub,
        "村民赵六在自家院内搭建彩钢棚",
        ev::Outcome {
            kind: "warning".into(),
            summary: "对赵六给予警告，责令限期拆除".into(),
            party: Some(person("赵六", false)),
            ..Default::default()
        },
    )
    .await;
    let first = town_disclosure_of(&hub, &case_id).await;
    publish(&hub, &captain, &first.disclosure_id)
        .await
        .expect("the warning is published");

    // Bad input names its field and changes nothing; only the captain changes the decision.
    let change =
        |change: &str, reason: &str, outcome: Option<ev::Outcome>| brigade::ChangeDecisionRequest {
            case_id: case_id.clone(),
            change: change.into(),
            reason: reason.into(),
            outcome,
        };
    let err = b
        .change_decision(captain.req(change("revoke", "  ", None)))
        .await
        .unwrap_err();
    assert_eq!(fields(err), ["reason"]);
    let err = b
        .change_decision(captain.req(change("amend", "复议变更", None)))
        .await
        .unwrap_err();
    assert_eq!(fields(err), ["outcome"]);
    let err = b
        .change_decision(As::brigade_officer(T1).req(change("revoke", "撤销", None)))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::PermissionDenied, "{err:?}");
    let unchanged = town_disclosure_of(&hub, &case_id).await;
    assert_eq!(unchanged.status, "published");

    // Amended on reconsideration: the warning's disclosure is withdrawn with the reason, due
    // within 3 working days of the change, and the amended decision awaits publication.
    let case = b
        .change_decision(captain.req(change(
            "amend",
            "经行政复议，变更为批评教育（赵六电话13712345678）",
            Some(ev::Outcome {
                kind: "education".into(),
                summary: "初次轻微违法，批评教育后已自行拆除".into(),
                ..Default::default()
            }),
        )))
        .await
        .expect("the captain amends the decision")
        .into_inner()
        .case
        .unwrap();
    assert_eq!(case.status, "concluded");
    assert_eq!(case.outcome.as_ref().unwrap().kind, "education");
    let withdrawn = disclosure_when(&hub, "the warning withdrawn", |d| {
        d.disclosure_id == first.disclosure_id && d.status == "withdrawn"
    })
    .await;
    assert!(
        withdrawn
            .withdrawal_reason
            .starts_with("原决定已依法变更：经行政复议"),
        "{}",
        withdrawn.withdrawal_reason
    );
    assert!(!withdrawn.withdrawal_reason.contains("13712345678"));
    assert!(!withdrawn.withdrawn_late);
    let changed = from_ts(withdrawn.decision_changed_at.as_ref()).unwrap();
    assert_eq!(
        from_ts(withdrawn.withdrawal_due_at.as_ref()).unwrap(),
        Calendar::shipped().add_working_days(changed, 3).due
    );
    let amended = disclosure_when(&hub, "the amended decision's disclosure", |d| {
        d.case_id == case_id && d.status == "pending"
    })
    .await;
    let decision = amended.decision.as_ref().unwrap();
    assert_eq!(decision.outcome, "education");
    // The party of the original decision, masked as always.
    assert_eq!(decision.party.as_ref().unwrap().name, "赵某");
    assert_eq!(amended.class, "other_enforcement");
    publish(&hub, &captain, &amended.disclosure_id)
        .await
        .expect("the amendment is published");

    // Revoked by a court: the amendment's disclosure is withdrawn in turn; nothing is left to
    // change.
    let case = b
        .change_decision(captain.req(change("revoke", "经行政诉讼判决撤销", None)))
        .await
        .expect("the captain revokes the decision")
        .into_inner()
        .case
        .unwrap();
    assert_eq!(case.status, "revoked");
    let revoked = disclosure_when(&hub, "the amendment withdrawn", |d| {
        d.disclosure_id == amended.disclosure_id && d.status == "withdrawn"
    })
    .await;
    assert_eq!(
        revoked.withdrawal_reason,
        "原决定已依法撤销：经行政诉讼判决撤销"
    );
    let err = b
        .change_decision(captain.req(change("revoke", "再次撤销", None)))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::FailedPrecondition, "{err:?}");

    // Both changes are in the case's record, which still verifies.
    let history = b
        .get_case(captain.req(brigade::GetCaseRequest {
            case_id: case_id.clone(),
        }))
        .await
        .unwrap()
        .into_inner()
        .history;
    let kinds: Vec<&str> = history.iter().map(|h| h.kind.as_str()).collect();
    assert!(kinds.contains(&"decision_amended"), "{kinds:?}");
    assert!(kinds.contains(&"decision_revoked"), "{kinds:?}");
    let verified = b
        .verify_record(captain.req(brigade::VerifyRecordRequest {
            case_id: case_id.clone(),
        }))
        .await
        .unwrap()
        .into_inner();
    assert!(verified.ok, "{verified:?}");

    // The public sees both withdrawals with their reasons.
    let feed = request(
        hub.env.cfg.gateway_addr,
        "GET",
        "/public/disclosures.json",
        &[],
        None,
    )
    .await
    .unwrap();
    assert_eq!(feed.status, 200, "{}", feed.body);
    assert!(feed.body.contains("原决定已依法变更"), "{}", feed.body);
    assert!(feed.body.contains("经行政诉讼判决撤销"), "{}", feed.body);
    hub.stop().await;
}

/// Reports an out-of-scope case citing `refs` (forestry's), and has forestry accept it, which
/// hands the case file over.
async fn referred_to_forestry_and_accepted(hub: &TestHub, refs: Vec<String>) -> String {
    let case = hub
        .brigade_officer(T1)
        .report(
            Report::new(T1, &["LY-001"], "发现有人在后山滥伐林木")
                .in_village("东山村", "后山林区")
                .with_evidence(refs),
        )
        .await
        .expect("the report is taken");
    assert_eq!(case.status, "referred");
    let case_id = case.case_id;
    let referral = hub.dispatcher("forestry").referral_of(&case_id).await;
    hub.county
        .clone()
        .accept_referral(
            As::dispatcher("forestry").req(county::AcceptReferralRequest {
                referral_id: referral.referral_id,
            }),
        )
        .await
        .expect("accepted");
    case_id
}

#[tokio::test]
async fn a_department_verifies_the_record_of_a_case_it_took_part_in_and_sees_a_refused_handover() {
    let hub = TestHub::start(Backend::Sqlite).await;
    let mut b = hub.brigade.clone();
    let photo = b"\xff\xd8\xff\xe0 a photo of felled trees".to_vec();
    let uploaded = b
        .upload_evidence(As::brigade_officer(T1).req(brigade::UploadEvidenceRequest {
            town: T1.into(),
            filename: "现场照片1.jpg".into(),
            content_type: "image/jpeg".into(),
            content: photo,
            ..Default::default()
        }))
        .await
        .expect("the photo is stored")
        .into_inner();
    // The stored photo is altered, so the handover citing it is refused.
    let hex = uploaded.digest.strip_prefix("sha256:").unwrap();
    let path = hub
        .env
        .cfg
        .data_dir
        .join("evidence")
        .join("sha256")
        .join(hex);
    std::fs::write(&path, b"a different photo").expect("the stored photo is overwritten");
    let case_id = referred_to_forestry_and_accepted(&hub, vec![uploaded.digest.clone()]).await;

    // Forestry lists the handover as refused, with the reason.
    let handover = eventually("the refused handover at forestry", WAIT, || {
        let mut c = hub.county.clone();
        let case_id = case_id.clone();
        async move {
            c.list_handovers(
                As::dispatcher("forestry").req(county::ListHandoversRequest {
                    department: "forestry".into(),
                    case_id,
                    page_size: 0,
                }),
            )
            .await
            .ok()?
            .into_inner()
            .handovers
            .into_iter()
            .find(|h| h.status == "refused")
        }
    })
    .await;
    assert_eq!(handover.refusal_reasons.len(), 1, "{handover:?}");
    assert!(
        handover.refusal_reasons[0].contains(&uploaded.digest)
            && handover.refusal_reasons[0].contains("mismatch"),
        "{:?}",
        handover.refusal_reasons
    );

    // Forestry's staff verify the record of the case referred to them; a department that had
    // nothing to do with it may not, nor read its documents.
    for who in [
        As::dispatcher("forestry"),
        As::investigator("forestry"),
        As::legal_officer("forestry"),
    ] {
        let v = b
            .verify_record(who.req(brigade::VerifyRecordRequest {
                case_id: case_id.clone(),
            }))
            .await
            .unwrap_or_else(|e| panic!("{} may verify: {e:?}", who.role))
            .into_inner();
        assert!(v.ok, "{v:?}");
        assert!(v.length > 0);
    }
    let err = b
        .verify_record(
            As::dispatcher("public_security").req(brigade::VerifyRecordRequest {
                case_id: case_id.clone(),
            }),
        )
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::PermissionDenied, "{err:?}");
    assert!(
        err.message().contains("was not involved"),
        "{}",
        err.message()
    );
    let err = b
        .list_documents(
            As::dispatcher("public_security").req(brigade::ListDocumentsRequest {
                case_id: case_id.clone(),
            }),
        )
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::PermissionDenied, "{err:?}");
    let docs = b
        .list_documents(
            As::dispatcher("forestry").req(brigade::ListDocumentsRequest {
                case_id: case_id.clone(),
            }),
        )
        .await
        .expect("forestry reads the case's documents")
        .into_inner()
        .documents;
    assert!(docs.iter().any(|d| d.kind == "transfer_letter"), "{docs:?}");
    hub.stop().await;
}

#[tokio::test]
async fn the_demo_leaves_its_decisions_published_on_the_public_page() {
    let hub = TestHub::start(Backend::Sqlite).await;
    let out = Command::new(liandong_bin())
        .arg("--config")
        .arg(hub.config_file())
        .arg("demo")
        .env("RUST_LOG", "warn")
        .output()
        .expect("the demo runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "demo failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("公示："), "{stdout}");
    let feed = request(
        hub.env.cfg.gateway_addr,
        "GET",
        "/public/disclosures.json",
        &[],
        None,
    )
    .await
    .unwrap();
    assert_eq!(feed.status, 200, "{}", feed.body);
    let json = feed.json();
    let items = json["disclosures"].as_array().unwrap();
    assert!(!items.is_empty(), "{}", feed.body);
    assert!(
        items.iter().all(|d| d["status"] == "published"),
        "{}",
        feed.body
    );
    // The town's own decision and a department's are both there (谁执法谁公示).
    let kinds: Vec<&str> = items
        .iter()
        .filter_map(|d| d["body"]["kind"].as_str())
        .collect();
    assert!(kinds.contains(&"town"), "{kinds:?}");
    assert!(kinds.contains(&"department"), "{kinds:?}");
    hub.stop().await;
}
