//! The access log: every read of a case file or personal data is logged by the service that
//! holds it (who, when, what), and only the town's judicial office reads the town's log, over
//! gRPC and through the gateway.

use std::time::Duration;

use liandong_proto::access::v1::{
    AccessEntry, ListAccessLogRequest, access_log_service_client::AccessLogServiceClient,
};
use liandong_proto::brigade::v1 as brigade;
use liandong_proto::county::v1 as county;
use liandong_tests::http::request;
use liandong_tests::hub::{As, TestHub};
use liandong_tests::people::Report;
use liandong_tests::{Backend, eventually, on_each_backend};
use tonic::Code;
use tonic::transport::Channel;

const T1: &str = "330782101";
const T2: &str = "330782102";

fn client(addr: std::net::SocketAddr) -> AccessLogServiceClient<Channel> {
    AccessLogServiceClient::new(
        tonic::transport::Endpoint::from_shared(format!("http://{addr}"))
            .unwrap()
            .connect_lazy(),
    )
}

async fn log(
    addr: std::net::SocketAddr,
    who: &As,
    town: &str,
    resource_id: &str,
) -> Result<Vec<AccessEntry>, tonic::Status> {
    client(addr)
        .list_access_log(who.req(ListAccessLogRequest {
            town: town.into(),
            resource_id: resource_id.into(),
            page_size: 0,
        }))
        .await
        .map(|r| r.into_inner().entries)
}

async fn reads_are_logged_and_only_the_judicial_office_reads_the_log(backend: Backend) {
    let hub = TestHub::start(backend).await;
    let cfg = hub.env.cfg.clone();
    let officer = As::brigade_officer(T1);
    let reviewer = As::judicial_reviewer(T1);
    let case = hub
        .brigade
        .clone()
        .report_case(
            officer.req(
                Report::new(T1, &["LY-001"], "张三砍伐林木")
                    .in_village("东山村", "后山")
                    .with_evidence(vec![])
                    .request(),
            ),
        )
        .await
        .unwrap()
        .into_inner()
        .case
        .unwrap();
    let id = case.case_id.clone();
    // Reporting is no read: nothing is logged yet.
    assert!(
        log(cfg.brigade_addr, &reviewer, T1, &id)
            .await
            .unwrap()
            .is_empty()
    );

    // The officer reads the case; the captain its documents; the chair the case through the
    // gateway; forestry's dispatcher reads the referral.
    hub.brigade
        .clone()
        .get_case(officer.req(brigade::GetCaseRequest {
            case_id: id.clone(),
        }))
        .await
        .unwrap();
    hub.brigade
        .clone()
        .list_documents(As::brigade_captain(T1).req(brigade::ListDocumentsRequest {
            case_id: id.clone(),
        }))
        .await
        .unwrap();
    let r = request(
        cfg.gateway_addr,
        "GET",
        &format!("/v1/cases/{id}"),
        &[("authorization", &As::board_chair(T1).bearer())],
        None,
    )
    .await
    .unwrap();
    assert_eq!(r.status, 200, "{}", r.body);
    let referral = eventually(
        "the referral in forestry's inbox",
        Duration::from_secs(30),
        || async {
            hub.county
                .clone()
                .list_inbox(As::dispatcher("forestry").req(county::ListInboxRequest {
                    department: "forestry".into(),
                    ..Default::default()
                }))
                .await
                .ok()?
                .into_inner()
                .referrals
                .into_iter()
                .find(|r| r.facts.as_ref().is_some_and(|f| f.case_id == id))
        },
    )
    .await;
    hub.county
        .clone()
        .get_referral(As::dispatcher("forestry").req(county::GetReferralRequest {
            referral_id: referral.referral_id.clone(),
        }))
        .await
        .unwrap();
    // A refused read is no read.
    hub.brigade
        .clone()
        .get_case(As::brigade_officer(T2).req(brigade::GetCaseRequest {
            case_id: id.clone(),
        }))
        .await
        .unwrap_err();

    let entries = log(cfg.brigade_addr, &reviewer, T1, &id).await.unwrap();
    let seen: Vec<(&str, &str, &str, &str, &str)> = entries
        .iter()
        .map(|e| {
            (
                e.officer.as_str(),
                e.role.as_str(),
                e.agency.as_str(),
                e.rpc.as_str(),
                e.resource_kind.as_str(),
            )
        })
        .collect();
    // Newest first.
    assert_eq!(
        seen,
        [
            ("zhao.zhuxi", "board_chair", T1, "GetCase", "case"),
            ("li.si", "brigade_captain", T1, "ListDocuments", "documents"),
            ("wang.wu", "brigade_officer", T1, "GetCase", "case"),
        ]
    );
    for e in &entries {
        assert_eq!((e.service.as_str(), e.town.as_str()), ("brigade", T1));
        assert_eq!(e.resource_id, id);
        assert!(e.at.is_some());
    }
    let county_log = log(cfg.county_addr, &reviewer, T1, &referral.referral_id)
        .await
        .unwrap();
    let reads: Vec<(&str, &str, &str)> = county_log
        .iter()
        .map(|e| (e.officer.as_str(), e.rpc.as_str(), e.department.as_str()))
        .collect();
    // The inbox listings that found the referral, then the read of it.
    assert_eq!(
        reads.first(),
        Some(&("sun.diaodu", "GetReferral", "forestry"))
    );
    assert!(
        reads[1..]
            .iter()
            .all(|r| *r == ("sun.diaodu", "ListInbox", "forestry"))
    );
    assert!(reads.len() >= 2, "{reads:?}");

    // Lists that carry case files are reads too: forestry takes the referral, the case file
    // is handed over, and listing the handovers logs a read of each; the town's results
    // list logs a read of the town's results.
    let dispatcher = As::dispatcher("forestry");
    hub.county
        .clone()
        .accept_referral(dispatcher.req(county::AcceptReferralRequest {
            referral_id: referral.referral_id.clone(),
        }))
        .await
        .unwrap();
    let handover = eventually(
        "the handover of the case file",
        Duration::from_secs(30),
        || async {
            hub.county
                .clone()
                .list_handovers(dispatcher.req(county::ListHandoversRequest {
                    department: "forestry".into(),
                    case_id: id.clone(),
                    ..Default::default()
                }))
                .await
                .ok()?
                .into_inner()
                .handovers
                .into_iter()
                .next()
        },
    )
    .await;
    let handover_reads = log(cfg.county_addr, &reviewer, T1, &handover.handover_id)
        .await
        .unwrap();
    assert!(!handover_reads.is_empty());
    for e in &handover_reads {
        assert_eq!(
            (
                e.officer.as_str(),
                e.rpc.as_str(),
                e.resource_kind.as_str(),
                e.department.as_str()
            ),
            ("sun.diaodu", "ListHandovers", "handover", "forestry")
        );
    }
    hub.brigade
        .clone()
        .list_results(officer.req(brigade::ListResultsRequest {
            town: T1.into(),
            ..Default::default()
        }))
        .await
        .unwrap();
    let town_reads = log(cfg.brigade_addr, &reviewer, T1, T1).await.unwrap();
    assert_eq!(
        town_reads
            .first()
            .map(|e| (e.officer.as_str(), e.rpc.as_str(), e.resource_kind.as_str())),
        Some(("wang.wu", "ListResults", "result_list"))
    );

    // Through the gateway, the whole town's log.
    let r = request(
        cfg.gateway_addr,
        "GET",
        &format!("/v1/towns/{T1}/access-log/brigade?page_size=2"),
        &[("authorization", &reviewer.bearer())],
        None,
    )
    .await
    .unwrap();
    assert_eq!(r.status, 200, "{}", r.body);
    let page = r.json()["entries"].as_array().unwrap().clone();
    assert_eq!(page.len(), 2);
    // Newest first: the officer's list of results above.
    assert_eq!(page[0]["officer"], "wang.wu");
    assert_eq!(page[0]["rpc"], "ListResults");

    // Nobody else reads it: not the captain, not another town's judicial office, not a
    // department, not a viewer.
    for who in [
        As::brigade_captain(T1),
        As::judicial_reviewer(T2),
        As::dispatcher("forestry"),
        As::viewer(None, None),
    ] {
        let err = log(cfg.brigade_addr, &who, T1, "").await.unwrap_err();
        assert_eq!(err.code(), Code::PermissionDenied, "{who:?}: {err:?}");
        let r = request(
            cfg.gateway_addr,
            "GET",
            &format!("/v1/towns/{T1}/access-log/county"),
            &[("authorization", &who.bearer())],
            None,
        )
        .await
        .unwrap();
        assert_eq!(r.status, 403, "{who:?}: {}", r.body);
    }
    let err = log(cfg.brigade_addr, &reviewer, "nowhere", "")
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument);
    hub.stop().await;
}

on_each_backend!(reads_are_logged_and_only_the_judicial_office_reads_the_log);
