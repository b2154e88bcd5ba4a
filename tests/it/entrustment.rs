//! Decisions in the right name (行政处罚法 第二十条): a matter a county department entrusted to
//! the town is decided, documented, numbered, reviewed by the department's legal office and
//! disclosed in the department's name, under a letter of entrustment in force; a delegated
//! matter in the town government's name; an act after the letter's term, or a decision the
//! letter does not entrust, is refused naming the letter. All through the gateway.

use std::net::SocketAddr;
use std::time::Duration;

use liandong_tests::http::{call_as as call, ok_as as ok};
use liandong_tests::hub::{As, TestHub, review_answers};
use liandong_tests::{Backend, TestEnv, eventually, on_each_backend};
use serde_json::{Value, json};

const T1: &str = "330782101";
const T2: &str = "330782102";
const WAIT: Duration = Duration::from_secs(60);

/// Reports an in-scope case on `matter` in `town` and assigns two officers; its id.
async fn report_and_assign(gw: SocketAddr, town: &'static str, matter: &str) -> String {
    let village = if town == T1 { "东山村" } else { "吴村村" };
    let case = ok(
        gw,
        "POST",
        "/v1/cases",
        &As::brigade_officer(town),
        Some(json!({
            "town": town,
            "source": "CASE_SOURCE_PATROL",
            "matters": [matter],
            "village": village,
            "location": "村口",
            "description": "巡查发现违法行为",
            "foundAt": "2026-05-28T08:30:00Z",
            // Before the 渔业法 revision of 2026-05-01, whose articles the catalogue could not
            // confirm (an act after it is refused a decision).
            "actDate": "2026-04-20",
        })),
    )
    .await["case"]
        .clone();
    assert_eq!(case["triage"]["path"], "PATH_IN_SCOPE", "{case}");
    let id = case["caseId"].as_str().unwrap().to_owned();
    ok(
        gw,
        "POST",
        &format!("/v1/cases/{id}/assign"),
        &As::brigade_captain(town),
        Some(json!({"officers": ["wang.wu", "li.si"]})),
    )
    .await;
    id
}

fn conclude_body(kind: &str, fine_fen: i64) -> Value {
    let confiscated = if kind == "confiscation" {
        json!([{"kind": "焚烧工具", "count": 1, "unit": "件"}])
    } else {
        json!([])
    };
    json!({"outcome": {
        "kind": kind,
        "fineFen": fine_fen.to_string(),
        "confiscated": confiscated,
        "summary": "依法处理",
        "party": {"kind": "person", "name": "张某"},
    }})
}

/// The steps the law orders before a penalty (行政处罚法 第四十四条、第四十五条、第六十四条):
/// the prior notice of `body`'s outcome, and the party's waiver of statement, defence and
/// hearing.
async fn hear(gw: SocketAddr, town: &'static str, case_id: &str, body: &Value) {
    let officer = As::brigade_officer(town);
    for step in [
        json!({"kind": "notice", "note": "送达行政处罚事先告知书", "intended": body["outcome"]}),
        json!({"kind": "statement_waived", "note": "当事人书面放弃陈述申辩"}),
        json!({"kind": "hearing_waived", "note": "当事人书面放弃听证"}),
    ] {
        ok(
            gw,
            "POST",
            &format!("/v1/cases/{case_id}/actions"),
            &officer,
            Some(step),
        )
        .await;
    }
}

/// The heads' collective discussion (第五十七条) that decides an approved major decision, once
/// the brigade has the review's approval.
async fn discuss(gw: SocketAddr, town: &'static str, case_id: &str) {
    eventually("the approval at the brigade", WAIT, || async {
        let case = ok(
            gw,
            "GET",
            &format!("/v1/cases/{case_id}"),
            &As::brigade_officer(town),
            None,
        )
        .await;
        (case["case"]["status"] == "awaiting_discussion").then_some(())
    })
    .await;
    let r = ok(
        gw,
        "POST",
        &format!("/v1/cases/{case_id}/actions"),
        &As::brigade_captain(town),
        Some(json!({
            "kind": "collective_discussion",
            "note": "经负责人集体讨论，同意法制审核意见，作出处罚决定",
            "participants": ["镇长", "分管副镇长", "综合行政执法队队长"],
        })),
    )
    .await;
    assert_eq!(r["case"]["status"], "concluded", "{r}");
}

/// Every document of `case_id`, once `n` exist.
async fn documents(gw: SocketAddr, town: &'static str, case_id: &str, n: usize) -> Vec<Value> {
    eventually(
        &format!("{n} documents of {case_id}"),
        WAIT,
        || async move {
            let docs = ok(
                gw,
                "GET",
                &format!("/v1/cases/{case_id}/documents"),
                &As::brigade_officer(town),
                None,
            )
            .await["documents"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            (docs.len() >= n).then_some(docs)
        },
    )
    .await
}

/// The disclosure of `case_id` in `path`'s list, read by `who`.
async fn disclosure(gw: SocketAddr, path: &str, who: &As, case_id: &str) -> Value {
    eventually(&format!("the disclosure of {case_id}"), WAIT, || async {
        ok(gw, "GET", path, who, None).await["disclosures"]
            .as_array()?
            .iter()
            .find(|d| d["caseId"] == case_id)
            .cloned()
    })
    .await
}

/// The pending review of `case_id` that `who` lists at `path`, once the review service knows
/// every deciding officer as certified.
async fn pending_review(gw: SocketAddr, path: &str, who: &As, case_id: &str) -> Value {
    eventually(&format!("the review of {case_id}"), WAIT, || async {
        ok(gw, "GET", path, who, None).await["reviews"]
            .as_array()?
            .iter()
            .find(|r| {
                r["caseId"] == case_id
                    && r["status"] == "pending"
                    && r["qualification"]
                        .as_array()
                        .is_some_and(|q| !q.is_empty() && q.iter().all(|o| o["qualified"] == true))
            })
            .cloned()
    })
    .await
}

fn answer(decision: &str) -> Value {
    let answers: Vec<Value> = review_answers(&[])
        .into_iter()
        .map(|a| json!({"check": a.check, "passed": a.passed, "note": a.note}))
        .collect();
    json!({"answers": answers, "decision": decision})
}

/// 义亭镇 fines a fisher under the fisheries department's letter (YZ-001, 县农委〔2026〕1号): the
/// fine is major, so the department's legal office reviews it (the town's judicial office
/// cannot); approved, the decision, its documents, their numbers, the dossier and the
/// disclosure all carry the department's name, and the department discloses it.
async fn an_entrusted_matter_is_decided_reviewed_and_disclosed_in_the_department_s_name(
    backend: Backend,
) {
    let hub = TestHub::start(backend).await;
    let gw = hub.env.cfg.gateway_addr;
    const DEPT: &str = "县农业农村局（渔政）";
    let case_id = report_and_assign(gw, T2, "YZ-001").await;
    // 20,000 yuan: at or above the matter's 10,000-yuan threshold, a major decision.
    let decision = conclude_body("fine", 2_000_000);
    hear(gw, T2, &case_id, &decision).await;
    let r = ok(
        gw,
        "POST",
        &format!("/v1/cases/{case_id}/conclude"),
        &As::brigade_officer(T2),
        Some(decision),
    )
    .await;
    assert_eq!(r["case"]["status"], "awaiting_review", "{r}");

    // The department's legal office has it, in the department's name; the town's does not.
    let legal = As::legal_officer("agriculture_rural");
    let review = pending_review(
        gw,
        "/v1/departments/agriculture_rural/reviews",
        &legal,
        &case_id,
    )
    .await;
    assert_eq!(review["decidedInNameOf"], DEPT, "{review}");
    assert_eq!(
        review["materials"]["reviewingDepartment"], "agriculture_rural",
        "{review}"
    );
    let town_list = ok(
        gw,
        "GET",
        &format!("/v1/towns/{T2}/reviews"),
        &As::judicial_reviewer(T2),
        None,
    )
    .await;
    assert!(
        !town_list.to_string().contains(&case_id),
        "the town's judicial office does not review a decision in the department's name: {town_list}"
    );
    let review_id = review["reviewId"].as_str().unwrap();
    let refused = call(
        gw,
        "POST",
        &format!("/v1/reviews/{review_id}/answer"),
        &As::judicial_reviewer(T2),
        Some(answer("approve")),
    )
    .await;
    assert_eq!(refused.status, 403, "{}", refused.body);
    ok(
        gw,
        "POST",
        &format!("/v1/reviews/{review_id}/answer"),
        &legal,
        Some(answer("approve")),
    )
    .await;
    discuss(gw, T2, &case_id).await;

    // Concluded on the approval: the filing and the decision, both in the department's name,
    // numbered in the department's series for this town.
    let docs = documents(gw, T2, &case_id, 2).await;
    for d in &docs {
        assert_eq!(d["issuingBody"], DEPT, "{d}");
        let no = d["docNo"].as_str().unwrap();
        assert!(no.starts_with("县农（义亭）委"), "{no}");
        let body = d["body"].as_str().unwrap();
        assert!(body.starts_with(&format!("# {DEPT}\n")), "{body}");
        assert!(
            body.contains("受委托实施：义亭镇人民政府（委托书 县农委〔2026〕1号）"),
            "{body}"
        );
    }
    assert!(
        docs.iter().any(|d| d["kind"] == "penalty_decision"),
        "{docs:?}"
    );
    let dossier = ok(
        gw,
        "GET",
        &format!("/v1/cases/{case_id}/dossier"),
        &As::brigade_officer(T2),
        None,
    )
    .await;
    assert!(dossier.to_string().contains(DEPT), "{dossier}");

    // The department discloses it, as the deciding body.
    let d = disclosure(
        gw,
        "/v1/departments/agriculture_rural/disclosures",
        &As::dispatcher("agriculture_rural"),
        &case_id,
    )
    .await;
    assert_eq!(d["body"]["kind"], "department", "{d}");
    assert_eq!(d["body"]["code"], "agriculture_rural", "{d}");
    assert_eq!(d["body"]["name"], DEPT, "{d}");
    hub.stop().await;
}

/// 赤岸镇 decides a delegated matter (NY-001, a demolition, so major): the town's judicial office
/// reviews it, and the decision, documents and disclosure carry the town government's name — its
/// name from the registry, never its code.
async fn a_delegated_matter_is_decided_in_the_town_government_s_name(backend: Backend) {
    let hub = TestHub::start(backend).await;
    let gw = hub.env.cfg.gateway_addr;
    const TOWN: &str = "赤岸镇人民政府";
    let case_id = report_and_assign(gw, T1, "NY-001").await;
    let decision = conclude_body("demolition", 0);
    hear(gw, T1, &case_id, &decision).await;
    ok(
        gw,
        "POST",
        &format!("/v1/cases/{case_id}/conclude"),
        &As::brigade_officer(T1),
        Some(decision),
    )
    .await;
    let judicial = As::judicial_reviewer(T1);
    let review = pending_review(gw, &format!("/v1/towns/{T1}/reviews"), &judicial, &case_id).await;
    assert_eq!(review["decidedInNameOf"], TOWN, "{review}");
    assert_eq!(
        review["materials"]["reviewingDepartment"]
            .as_str()
            .unwrap_or(""),
        "",
        "{review}"
    );
    let review_id = review["reviewId"].as_str().unwrap();
    ok(
        gw,
        "POST",
        &format!("/v1/reviews/{review_id}/answer"),
        &judicial,
        Some(answer("approve")),
    )
    .await;
    discuss(gw, T1, &case_id).await;
    let docs = documents(gw, T1, &case_id, 2).await;
    for d in &docs {
        assert_eq!(d["issuingBody"], TOWN, "{d}");
        assert!(d["docNo"].as_str().unwrap().starts_with("赤岸综执"), "{d}");
        assert!(!d["body"].as_str().unwrap().contains("受委托"), "{d}");
    }
    let d = disclosure(
        gw,
        &format!("/v1/towns/{T1}/disclosures"),
        &As::brigade_captain(T1),
        &case_id,
    )
    .await;
    assert_eq!(d["body"]["kind"], "town", "{d}");
    assert_eq!(d["body"]["name"], TOWN, "{d}");
    assert_ne!(d["body"]["name"], T1);
    hub.stop().await;
}

on_each_backend!(
    an_entrusted_matter_is_decided_reviewed_and_disclosed_in_the_department_s_name,
    a_delegated_matter_is_decided_in_the_town_government_s_name,
);

/// A decision the letter does not entrust (a confiscation under 县环委〔2026〕1号, which entrusts
/// warnings, fines and orders) is refused naming the letter; and once the letter's term is over
/// (the county loads a catalogue where it ended on 2025-12-31), the town can no longer decide a
/// case it filed under it: 409, naming the letter and its term, and nothing changes.
#[tokio::test]
async fn a_decision_outside_the_letter_s_powers_or_after_its_term_is_refused() {
    let env = TestEnv::new(Backend::Sqlite);
    let shipped = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../deploy/data/catalogue.toml"),
    )
    .expect("the shipped catalogue");
    let catalogue = env.cfg.data_dir.join("catalogue.toml");
    std::fs::create_dir_all(&env.cfg.data_dir).unwrap();
    std::fs::write(&catalogue, &shipped).unwrap();
    let mut env = env;
    env.cfg.catalogue = Some(catalogue.clone());
    let mut hub = TestHub::start_with(env).await;
    let gw = hub.env.cfg.gateway_addr;
    let officer = As::brigade_officer(T1);
    let case_id = report_and_assign(gw, T1, "HJ-002").await;

    let refused = call(
        gw,
        "POST",
        &format!("/v1/cases/{case_id}/conclude"),
        &officer,
        Some(conclude_body("confiscation", 0)),
    )
    .await;
    assert_eq!(refused.status, 409, "{}", refused.body);
    assert!(
        refused.body.contains("县环委〔2026〕1号"),
        "{}",
        refused.body
    );
    assert!(refused.body.contains("confiscation"), "{}", refused.body);

    // The letter's term ended before today.
    let letter = "number = \"县环委〔2026〕1号\"";
    let at = shipped.find(letter).expect("the letter is shipped");
    let (head, tail) = shipped.split_at(at);
    let tail = tail
        .replacen("from = 2026-01-01", "from = 2024-01-01", 1)
        .replacen("until = 2027-12-31", "until = 2025-12-31", 1);
    std::fs::write(&catalogue, format!("{head}{tail}")).unwrap();
    hub.restart("brigade").await;

    let refused = call(
        gw,
        "POST",
        &format!("/v1/cases/{case_id}/conclude"),
        &officer,
        Some(conclude_body("fine", 100_000)),
    )
    .await;
    assert_eq!(refused.status, 409, "{}", refused.body);
    assert!(
        refused.body.contains("县环委〔2026〕1号"),
        "{}",
        refused.body
    );
    assert!(refused.body.contains("2025-12-31"), "{}", refused.body);
    let case = ok(gw, "GET", &format!("/v1/cases/{case_id}"), &officer, None).await;
    assert_eq!(case["case"]["status"], "assigned", "{case}");
    assert!(case["case"]["outcome"].is_null(), "{case}");
    // Nor can a new case be filed under it.
    let other = ok(
        gw,
        "POST",
        "/v1/cases",
        &officer,
        Some(json!({
            "town": T1,
            "source": "CASE_SOURCE_PATROL",
            "matters": ["HJ-002"],
            "village": "东山村",
            "location": "田间",
            "description": "巡查发现露天焚烧秸秆",
            "foundAt": "2026-05-28T08:30:00Z",
        })),
    )
    .await;
    let other_id = other["case"]["caseId"].as_str().unwrap();
    let refused = call(
        gw,
        "POST",
        &format!("/v1/cases/{other_id}/assign"),
        &As::brigade_captain(T1),
        Some(json!({"officers": ["wang.wu", "li.si"]})),
    )
    .await;
    assert_eq!(refused.status, 409, "{}", refused.body);
    assert!(
        refused.body.contains("县环委〔2026〕1号"),
        "{}",
        refused.body
    );
    hub.stop().await;
}
