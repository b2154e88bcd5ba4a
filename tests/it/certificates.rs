//! Certified officers only (持证上岗), end to end: an officer whose certificate expired, was
//! suspended after a failed assessment or revoked is refused, and the record keeps the
//! certificate each enforcement action used.

use liandong_proto::brigade::v1 as brigade;
use liandong_proto::county::v1 as county;
use liandong_proto::events::v1 as ev;
use liandong_tests::Backend;
use liandong_tests::hub::{As, ISSUER, TestHub, certificate_no};
use liandong_tests::people::Report;
use tonic::Code;

const T1: &str = "330782101";

fn brigade_officer(officer: &'static str) -> As {
    As {
        officer,
        ..As::brigade_officer(T1)
    }
}

fn register(
    officer: &str,
    number: &str,
    from: &str,
    until: &str,
) -> brigade::RegisterOfficerRequest {
    brigade::RegisterOfficerRequest {
        town: T1.into(),
        officer: officer.into(),
        certificate_no: number.into(),
        issuing_authority: ISSUER.into(),
        valid_from: from.into(),
        valid_until: until.into(),
    }
}

fn education() -> ev::Outcome {
    ev::Outcome {
        kind: "education".into(),
        summary: "初次违法、情节轻微，教育劝导".into(),
        ..Default::default()
    }
}

async fn in_scope_case(hub: &TestHub) -> String {
    let mut b = hub.brigade.clone();
    let case = hub
        .brigade_officer(T1)
        .report(
            Report::new(T1, &["CSGL-001"], "占道搭建摊棚")
                .in_village("西湖村", "集镇街道")
                .with_evidence(vec![]),
        )
        .await
        .expect("anyone in the brigade may report, certificate or not");
    b.assign_case(As::brigade_captain(T1).req(brigade::AssignCaseRequest {
        case_id: case.case_id.clone(),
        officers: vec!["wang.wu".into(), "li.si".into()],
    }))
    .await
    .expect("assigned");
    case.case_id
}

async fn conclude_as(
    hub: &TestHub,
    who: &As,
    case_id: &str,
) -> Result<brigade::Case, tonic::Status> {
    hub.brigade
        .clone()
        .conclude_case(who.req(brigade::ConcludeCaseRequest {
            case_id: case_id.into(),
            outcome: Some(education()),
            ..Default::default()
        }))
        .await
        .map(|r| r.into_inner().case.expect("a case"))
}

async fn officers_without_a_valid_certificate_are_refused(backend: Backend) {
    let hub = TestHub::start(backend).await;
    let mut b = hub.brigade.clone();
    let captain = As::brigade_captain(T1);
    // One whose certificate ran out, one who failed the yearly assessment.
    b.register_officer(captain.req(register(
        "ma.liu",
        "ZJ-EXPIRED-1",
        "2024-01-01",
        "2025-12-31",
    )))
    .await
    .expect("registered");
    b.register_officer(captain.req(register(
        "niu.qi",
        "ZJ-SUSPENDED-1",
        "2026-01-01",
        "2030-12-31",
    )))
    .await
    .expect("registered");
    let suspended = b
        .record_assessment(captain.req(brigade::RecordAssessmentRequest {
            town: T1.into(),
            officer: "niu.qi".into(),
            passed: false,
            note: "年度执法考核不合格".into(),
        }))
        .await
        .expect("assessed")
        .into_inner()
        .officer
        .unwrap();
    assert_eq!(suspended.certificate.as_ref().unwrap().status, "suspended");
    assert_eq!(suspended.assessments.len(), 1);
    // An officer may not keep the registry.
    let err = b
        .register_officer(As::brigade_officer(T1).req(register(
            "x.y",
            "N1",
            "2026-01-01",
            "2030-12-31",
        )))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::PermissionDenied, "{err:?}");

    let case_id = in_scope_case(&hub).await;
    for (who, reason) in [
        (
            "ma.liu",
            "certificate ZJ-EXPIRED-1 of ma.liu expired on 2025-12-31",
        ),
        (
            "niu.qi",
            "certificate ZJ-SUSPENDED-1 of niu.qi is suspended after a failed assessment",
        ),
        ("zhu.ba", "officer zhu.ba has no enforcement certificate"),
    ] {
        let err = conclude_as(&hub, &brigade_officer(who), &case_id)
            .await
            .unwrap_err();
        assert_eq!(err.code(), Code::PermissionDenied, "{who}: {err:?}");
        assert_eq!(err.message(), reason);
        let err = b
            .record_case_action(brigade_officer(who).req(brigade::RecordCaseActionRequest {
                case_id: case_id.clone(),
                kind: "inspection".into(),
                note: "现场检查".into(),
                evidence_refs: vec![],
                ..Default::default()
            }))
            .await
            .unwrap_err();
        assert_eq!(err.code(), Code::PermissionDenied, "{who}: {err:?}");
    }

    // A valid certificate: concluded, and the record names the certificate used.
    let concluded = conclude_as(&hub, &As::brigade_officer(T1), &case_id)
        .await
        .expect("a certified officer concludes");
    assert_eq!(concluded.status, "concluded");
    let number = certificate_no(T1, "wang.wu");
    let history = b
        .get_case(As::brigade_officer(T1).req(brigade::GetCaseRequest {
            case_id: case_id.clone(),
        }))
        .await
        .unwrap()
        .into_inner()
        .history;
    let entry = history
        .iter()
        .find(|h| h.kind == "concluded")
        .expect("a conclusion in the record");
    assert!(entry.detail.contains(&number), "{entry:?}");

    // The registry lists every officer with status and assessments.
    let officers = b
        .list_officers(
            As::brigade_officer(T1).req(brigade::ListOfficersRequest { town: T1.into() }),
        )
        .await
        .unwrap()
        .into_inner()
        .officers;
    let status = |o: &str| {
        officers
            .iter()
            .filter_map(|r| r.certificate.as_ref())
            .find(|c| c.officer == o)
            .map(|c| c.status.clone())
    };
    assert_eq!(status("niu.qi").as_deref(), Some("suspended"));
    assert_eq!(status("wang.wu").as_deref(), Some("active"));

    // A department's officer whose certificate was revoked may not conclude a referral.
    let mut c = hub.county.clone();
    c.revoke_certificate(
        As::dispatcher("forestry").req(county::RevokeCertificateRequest {
            department: "forestry".into(),
            officer: "zhou.diaocha".into(),
            reason: "调离执法岗位".into(),
        }),
    )
    .await
    .expect("revoked");
    let reported = hub
        .brigade_officer(T1)
        .report(
            Report::new(T1, &["LY-001"], "滥伐林木")
                .in_village("东山村", "后山")
                .with_evidence(vec![]),
        )
        .await
        .unwrap();
    let referral = hub
        .dispatcher("forestry")
        .referral_of(&reported.case_id)
        .await;
    c.accept_referral(
        As::dispatcher("forestry").req(county::AcceptReferralRequest {
            referral_id: referral.referral_id.clone(),
        }),
    )
    .await
    .expect("accepting needs no certificate");
    let err = c
        .conclude_referral(
            As::investigator("forestry").req(county::ConcludeReferralRequest {
                referral_id: referral.referral_id.clone(),
                outcome: Some(education()),
            }),
        )
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::PermissionDenied, "{err:?}");
    assert_eq!(
        err.message(),
        format!(
            "certificate {} of zhou.diaocha is revoked",
            certificate_no("forestry", "zhou.diaocha")
        )
    );
    c.conclude_referral(
        As::dispatcher("forestry").req(county::ConcludeReferralRequest {
            referral_id: referral.referral_id.clone(),
            outcome: Some(education()),
        }),
    )
    .await
    .expect("the certified dispatcher concludes");
    hub.stop().await;
}

liandong_tests::on_each_backend!(officers_without_a_valid_certificate_are_refused);
