//! The law in force at the time of the act (行政处罚法 Arts. 36 and 37) and decisions that
//! combine a fine, a confiscation and orders, through gRPC and the gateway: a case whose act
//! predates a change of a matter's law is decided under the old version, or the new one when
//! it is lighter; a decision that would cite an unconfirmed article is refused; an act
//! discovered more than two years later is refused at filing.

use liandong_proto::brigade::v1 as brigade;
use liandong_proto::events::v1 as ev;
use liandong_tests::hub::{As, TestHub};
use liandong_tests::people::Report;
use liandong_tests::{Backend, TestEnv, on_each_backend};
use serde_json::json;
use tonic::Code;
use tonic_types::StatusExt;

const T1: &str = "330782101";
/// The lakeside town the fisheries authority entrusted with YZ-001.
const T2: &str = "330782102";

/// The shipped catalogue and two test matters of the town's own whose law changed on
/// 2026-07-01: one made lighter, one made heavier (fictitious laws, for this test only).
fn catalogue_with_changes() -> String {
    let shipped = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../deploy/data/catalogue.toml"
    ))
    .expect("the shipped catalogue");
    let extra = r#"
[[matter]]
code = "TEST-LIGHTER"
name = "测试：修改后处罚较轻的事项"
name_en = "Test: a matter whose law was made lighter"
department = "urban_management"
town_power = "delegated"
disclosure = "penalty_or_licensing"
[[matter.version]]
in_force_until = 2026-06-30
max_fine_fen = 500000
legal_basis = [{ law = "测试条例（旧）", article = "第十条" }]
[[matter.version]]
in_force_from = 2026-07-01
max_fine_fen = 100000
legal_basis = [{ law = "测试条例（新）", article = "第八条" }]

[[matter]]
code = "TEST-HEAVIER"
name = "测试：修改后处罚较重的事项"
name_en = "Test: a matter whose law was made heavier"
department = "urban_management"
town_power = "delegated"
disclosure = "penalty_or_licensing"
[[matter.version]]
in_force_until = 2026-06-30
max_fine_fen = 100000
legal_basis = [{ law = "测试条例（旧）", article = "第十一条" }]
[[matter.version]]
in_force_from = 2026-07-01
max_fine_fen = 500000
legal_basis = [{ law = "测试条例（新）", article = "第九条" }]
"#;
    format!("{shipped}\n{extra}")
}

async fn hub_with_changes(backend: Backend) -> TestHub {
    let mut env = TestEnv::new(backend);
    let path = env.cfg.data_dir.join("catalogue-with-changes.toml");
    std::fs::create_dir_all(&env.cfg.data_dir).expect("the data dir");
    std::fs::write(&path, catalogue_with_changes()).expect("the catalogue is written");
    env.cfg.catalogue = Some(path);
    TestHub::start_with(env).await
}

/// 2026-08-01T00:00:00Z: found after the test matters' change of 2026-07-01, and after
/// the 渔业法 revision's 2026-05-01.
fn found_in_august() -> prost_types::Timestamp {
    prost_types::Timestamp {
        seconds: 1_785_542_400,
        nanos: 0,
    }
}

/// Reports an in-scope case of `matter` in `town`, its act on `act_date`, and assigns it.
async fn assigned(hub: &TestHub, town: &'static str, matter: &str, act_date: &str) -> String {
    let case = hub
        .brigade_officer(town)
        .report(
            Report::new(town, &[matter], "巡查发现违法行为")
                .found_at(found_in_august())
                .act_on(act_date),
        )
        .await
        .expect("the report is taken");
    assert_eq!(case.act_date, act_date);
    hub.captain(town)
        .assign(&case.case_id, &["wang.wu", "li.si"])
        .await
        .expect("the captain assigns");
    case.case_id
}

async fn decision_document(hub: &TestHub, town: &'static str, case_id: &str) -> String {
    hub.brigade
        .clone()
        .list_documents(
            As::brigade_officer(town).req(brigade::ListDocumentsRequest {
                case_id: case_id.into(),
            }),
        )
        .await
        .expect("the documents are listed")
        .into_inner()
        .documents
        .into_iter()
        .find(|d| d.kind == "penalty_decision")
        .expect("a penalty decision")
        .body
}

fn fine(yuan: i64) -> ev::Outcome {
    ev::Outcome {
        kind: "fine".into(),
        fine_fen: yuan * 100,
        summary: "处以罚款".into(),
        ..Default::default()
    }
}

async fn an_act_before_a_change_is_decided_under_the_law_then_in_force_unless_the_new_is_lighter(
    backend: Backend,
) {
    let hub = hub_with_changes(backend).await;
    let officer = hub.brigade_officer(T1);

    // Made heavier on 2026-07-01, act in June: the old article.
    let heavier = assigned(&hub, T1, "TEST-HEAVIER", "2026-06-15").await;
    officer
        .conclude(&heavier, fine(500))
        .await
        .expect("decided");
    let doc = decision_document(&hub, T1, &heavier).await;
    assert!(doc.contains("《测试条例（旧）》第十一条"), "{doc}");
    assert!(!doc.contains("第九条"), "{doc}");
    let history = officer.case(&heavier).await.unwrap().history;
    let concluded = history.iter().find(|h| h.kind == "concluded").unwrap();
    assert!(
        concluded.detail.contains("新的规定处罚并不较轻"),
        "{}",
        concluded.detail
    );

    // Made lighter on 2026-07-01, act in June: the new article (Art. 37).
    let lighter = assigned(&hub, T1, "TEST-LIGHTER", "2026-06-15").await;
    officer
        .conclude(&lighter, fine(500))
        .await
        .expect("decided");
    let doc = decision_document(&hub, T1, &lighter).await;
    assert!(doc.contains("《测试条例（新）》第八条"), "{doc}");
    assert!(!doc.contains("第十条"), "{doc}");
    let case = officer.case(&lighter).await.unwrap();
    let concluded = case.history.iter().find(|h| h.kind == "concluded").unwrap();
    assert!(
        concluded.detail.contains("新的规定处罚较轻，适用新的规定"),
        "{}",
        concluded.detail
    );
    // The decision carries the articles it applied.
    let outcome = case.case.unwrap().outcome.unwrap();
    assert_eq!(outcome.applied_basis, vec!["《测试条例（新）》第八条"]);

    // An act after the change: the new article, unchanged since.
    let after = assigned(&hub, T1, "TEST-HEAVIER", "2026-07-20").await;
    officer.conclude(&after, fine(2000)).await.expect("decided");
    let doc = decision_document(&hub, T1, &after).await;
    assert!(doc.contains("《测试条例（新）》第九条"), "{doc}");
    hub.stop().await;
}

async fn a_fisheries_case_combines_fine_confiscation_and_orders_under_the_2013_text(
    backend: Backend,
) {
    let hub = TestHub::start(backend).await;
    let officer = hub.brigade_officer(T2);
    let combined = ev::Outcome {
        kind: "confiscation".into(),
        fine_fen: 300_000,
        confiscated: vec![
            ev::ConfiscatedItem {
                kind: "地笼网".into(),
                count: 12,
                unit: "个".into(),
            },
            ev::ConfiscatedItem {
                kind: "刺网".into(),
                count: 3,
                unit: "张".into(),
            },
        ],
        orders: vec!["责令立即停止使用禁用渔具捕捞".into()],
        summary: "使用禁用渔具捕捞".into(),
        ..Default::default()
    };

    // An act before the revision of 2026-05-01: decided under the 2013 text, whose article
    // the catalogue confirms; the revised one could not be confirmed, which the record says.
    let before = assigned(&hub, T2, "YZ-001", "2026-04-10").await;
    officer
        .conclude(&before, combined.clone())
        .await
        .expect("a fine, a confiscation and an order in one decision");
    let doc = decision_document(&hub, T2, &before).await;
    for needle in [
        "《中华人民共和国渔业法（2013年修正）》第三十八条第一款",
        "罚款人民币3000.00元；没收地笼网12个、刺网3张；责令立即停止使用禁用渔具捕捞",
    ] {
        assert!(doc.contains(needle), "{needle} missing from\n{doc}");
    }
    let history = officer.case(&before).await.unwrap().history;
    let concluded = history.iter().find(|h| h.kind == "concluded").unwrap();
    assert!(
        concluded.detail.contains("未经核实"),
        "{}",
        concluded.detail
    );
    // The disclosure shows the articles applied, the items in their units and the order. The
    // town decided in the fisheries department's name, under its letter of entrustment
    // (行政处罚法 第二十条), so the department discloses it.
    let disclosed = liandong_tests::eventually(
        "the decision's disclosure",
        std::time::Duration::from_secs(30),
        || async {
            hub.disclosure
                .clone()
                .list_disclosures(As::dispatcher("agriculture_rural").req(
                    liandong_proto::disclosure::v1::ListDisclosuresRequest {
                        department: "agriculture_rural".into(),
                        ..Default::default()
                    },
                ))
                .await
                .ok()?
                .into_inner()
                .disclosures
                .into_iter()
                .find(|d| d.case_id == before)
        },
    )
    .await;
    let decision = disclosed.decision.expect("the decision");
    assert_eq!(
        decision.applied_basis,
        vec![
            "《中华人民共和国渔业法（2013年修正）》第三十条",
            "《中华人民共和国渔业法（2013年修正）》第三十八条第一款"
        ]
    );
    let items: Vec<(String, i64, String)> = decision
        .confiscated
        .iter()
        .map(|i| (i.kind.clone(), i.count, i.unit.clone()))
        .collect();
    assert_eq!(
        items,
        vec![
            ("地笼网".to_owned(), 12, "个".to_owned()),
            ("刺网".to_owned(), 3, "张".to_owned())
        ]
    );
    assert_eq!(decision.orders, vec!["责令立即停止使用禁用渔具捕捞"]);

    // The dossier carries the act's date and the decision as decided.
    let dossier = hub
        .brigade
        .clone()
        .export_dossier(As::brigade_officer(T2).req(brigade::ExportDossierRequest {
            case_id: before.clone(),
            format: "json".into(),
        }))
        .await
        .expect("the concluded case's dossier")
        .into_inner();
    let dossier: serde_json::Value = serde_json::from_str(&dossier.body).unwrap();
    assert_eq!(dossier["case"]["act_date"], "2026-04-10");
    assert!(
        dossier["documents"].as_array().unwrap().iter().any(|d| {
            let body = d["body"].as_str().unwrap();
            body.contains("没收地笼网12个、刺网3张") && body.contains("第三十八条第一款")
        }),
        "{dossier}"
    );

    // An act after it: refused, saying why, and nothing changes.
    let after = assigned(&hub, T2, "YZ-001", "2026-05-10").await;
    let refused = officer
        .conclude(&after, combined.clone())
        .await
        .expect_err("no decision cites an unconfirmed article");
    assert_eq!(refused.code(), Code::FailedPrecondition, "{refused:?}");
    assert!(
        refused.message().contains("could not be confirmed"),
        "{}",
        refused.message()
    );
    assert_eq!(
        officer.case(&after).await.unwrap().case.unwrap().status,
        "assigned"
    );

    // A unit is required for each item, named by field.
    let mut no_unit = combined;
    no_unit.confiscated[1].unit = String::new();
    let bad = officer
        .conclude_only(&before, no_unit)
        .await
        .expect_err("an item without its unit");
    assert_eq!(bad.code(), Code::InvalidArgument);
    let fields: Vec<String> = bad
        .get_details_bad_request()
        .expect("field violations")
        .field_violations
        .into_iter()
        .map(|v| v.field)
        .collect();
    assert_eq!(fields, vec!["outcome.confiscated[1].unit"]);
    hub.stop().await;
}

async fn an_act_undiscovered_for_two_years_is_refused_at_filing(backend: Backend) {
    let hub = TestHub::start(backend).await;
    let officer = hub.brigade_officer(T1);
    // Found 2026-08-01; an act of 2024-07-30 is more than two years before.
    let late = Report::new(T1, &["CXGH-001"], "巡查发现多年前的违法建设")
        .found_at(found_in_august())
        .act_on("2024-07-30");
    let refused = officer
        .report(late.clone())
        .await
        .expect_err("beyond Art. 36's two years");
    assert_eq!(refused.code(), Code::InvalidArgument);
    let v = refused
        .get_details_bad_request()
        .expect("field violations")
        .field_violations;
    assert_eq!(v[0].field, "act_date");
    assert!(
        v[0].description.contains("第三十六条"),
        "{}",
        v[0].description
    );
    // Nothing was filed.
    let cases = hub
        .brigade
        .clone()
        .list_cases(As::brigade_officer(T1).req(brigade::ListCasesRequest {
            town: T1.into(),
            ..Default::default()
        }))
        .await
        .unwrap()
        .into_inner()
        .cases;
    assert!(cases.is_empty(), "{cases:?}");
    // Within two years, or still going on when found: filed.
    officer
        .report(late.clone().ongoing())
        .await
        .expect("a continuing act counts from its end");
    let within = officer
        .report(
            Report::new(T1, &["CXGH-001"], "巡查发现违法建设")
                .found_at(found_in_august())
                .act_on("2024-08-01"),
        )
        .await
        .expect("two years to the day");
    let case = officer.case(&within.case_id).await.unwrap();
    assert!(
        case.history[0]
            .detail
            .contains("违法行为发生日期：2024-08-01"),
        "{}",
        case.history[0].detail
    );
    // Food safety touches life and health: five years.
    officer
        .report(
            Report::new(T1, &["SC-001"], "无证生产食品")
                .found_at(found_in_august())
                .act_on("2022-01-05"),
        )
        .await
        .expect("within five years");
    // An act after its discovery is refused, naming the field.
    let backwards = officer
        .report(
            Report::new(T1, &["CXGH-001"], "巡查发现违法建设")
                .found_at(found_in_august())
                .act_on("2026-08-02"),
        )
        .await
        .expect_err("the act follows its discovery");
    let v = backwards
        .get_details_bad_request()
        .unwrap()
        .field_violations;
    assert_eq!(v[0].field, "act_date");
    hub.stop().await;
}

/// A referred case: the department decides under the law in force at the act too.
async fn a_department_decides_under_the_law_at_the_act(backend: Backend) {
    let hub = TestHub::start(backend).await;
    // YZ-001 is not the town's power in 赤岸镇: referred to the fisheries authority.
    let referred = |act_date: &'static str| {
        let hub = &hub;
        async move {
            let case = hub
                .brigade_officer(T1)
                .report(
                    Report::new(T1, &["YZ-001"], "巡查发现有人使用地笼网捕捞")
                        .found_at(found_in_august())
                        .act_on(act_date),
                )
                .await
                .expect("the report is taken");
            let fisheries = hub.dispatcher("agriculture_rural");
            let referral = fisheries.referral_of(&case.case_id).await;
            assert_eq!(referral.facts.as_ref().unwrap().act_date, act_date);
            fisheries.sign_for(&referral).await.expect("signed for");
            fisheries.accept(&referral).await.expect("accepted");
            fisheries
                .assign(&referral, &["zhou.diaocha"])
                .await
                .expect("assigned");
            referral
        }
    };
    let decision = ev::Outcome {
        kind: "confiscation".into(),
        fine_fen: 200_000,
        confiscated: vec![ev::ConfiscatedItem {
            kind: "地笼网".into(),
            count: 35,
            unit: "个".into(),
        }],
        orders: vec!["责令停止违法捕捞".into()],
        summary: "没收禁用渔具并处罚款".into(),
        ..Default::default()
    };
    let before = referred("2026-04-10").await;
    let concluded = hub
        .investigator("agriculture_rural")
        .conclude(&before, decision.clone())
        .await
        .expect("decided under the 2013 text");
    assert_eq!(
        concluded.outcome.unwrap().applied_basis,
        vec![
            "《中华人民共和国渔业法（2013年修正）》第三十条",
            "《中华人民共和国渔业法（2013年修正）》第三十八条第一款"
        ]
    );
    let after = referred("2026-05-10").await;
    let refused = hub
        .investigator("agriculture_rural")
        .conclude(&after, decision)
        .await
        .expect_err("no decision cites an unconfirmed article");
    assert_eq!(refused.code(), Code::FailedPrecondition, "{refused:?}");
    assert!(
        refused.message().contains("could not be confirmed"),
        "{}",
        refused.message()
    );
    hub.stop().await;
}

on_each_backend!(
    a_department_decides_under_the_law_at_the_act,
    an_act_before_a_change_is_decided_under_the_law_then_in_force_unless_the_new_is_lighter,
    a_fisheries_case_combines_fine_confiscation_and_orders_under_the_2013_text,
    an_act_undiscovered_for_two_years_is_refused_at_filing,
);

#[tokio::test]
async fn the_gateway_takes_the_act_date_and_refuses_a_late_discovery() {
    let hub = TestHub::start(Backend::Sqlite).await;
    let gw = hub.env.cfg.gateway_addr;
    let token = As::brigade_officer(T1).bearer();
    let officer: &[(&str, &str)] = &[("authorization", &token)];
    let report = |act_date: &str| {
        json!({
            "town": T1,
            "source": "CASE_SOURCE_PATROL",
            "matters": ["CXGH-001"],
            "village": "东山村",
            "location": "3组",
            "description": "巡查发现违法建设",
            "foundAt": "2026-08-01T00:00:00Z",
            "actDate": act_date,
        })
        .to_string()
    };
    let late = liandong_tests::http::request(
        gw,
        "POST",
        "/v1/cases",
        officer,
        Some(&report("2024-01-01")),
    )
    .await
    .unwrap();
    assert_eq!(late.status, 400, "{}", late.body);
    assert_eq!(late.json()["field_violations"][0]["field"], "act_date");
    let taken = liandong_tests::http::request(
        gw,
        "POST",
        "/v1/cases",
        officer,
        Some(&report("2026-06-15")),
    )
    .await
    .unwrap();
    assert_eq!(taken.status, 200, "{}", taken.body);
    assert_eq!(taken.json()["case"]["actDate"], "2026-06-15");
    hub.stop().await;
}
