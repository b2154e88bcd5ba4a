//! The full-process record, documents and dossier end to end on PostgreSQL: a multi-agency case's chain verifies, tampering and truncation are caught at the right entry, document numbers run on, and a concluded case exports its dossier.

use std::time::Duration;

use chrono::{DateTime, Utc};
use liandong_domain::record::{EntryContent, entry_hash, parse_hash};
use liandong_proto::brigade::v1 as brigade;
use liandong_proto::county::v1 as county;
use liandong_proto::events::v1 as ev;
use liandong_tests::hub::{As, TestHub};
use liandong_tests::people::Report;
use liandong_tests::{Backend, eventually};
use liandong_topology::names;
use sqlx::{Connection, PgConnection, Row};
use tonic::Code;

const T1: &str = "330782101";
const T2: &str = "330782102";
const WAIT: Duration = Duration::from_secs(30);

fn report(town: &str, matters: &[&str], description: &str) -> brigade::ReportCaseRequest {
    Report::new(town, matters, description).request()
}

fn hex(h: &[u8; 32]) -> String {
    h.iter().map(|b| format!("{b:02x}")).collect()
}

async fn reported(hub: &TestHub, r: brigade::ReportCaseRequest) -> brigade::Case {
    let town: &'static str = if r.town == T1 { T1 } else { T2 };
    hub.brigade
        .clone()
        .report_case(As::brigade_officer(town).req(r))
        .await
        .expect("the report is taken")
        .into_inner()
        .case
        .expect("a case")
}

async fn verify(hub: &TestHub, case_id: &str) -> brigade::VerifyRecordResponse {
    hub.brigade
        .clone()
        .verify_record(As::brigade_officer(T1).req(brigade::VerifyRecordRequest {
            case_id: case_id.into(),
        }))
        .await
        .expect("the record can be verified")
        .into_inner()
}

async fn documents(hub: &TestHub, town: &'static str, case_id: &str) -> Vec<brigade::Document> {
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
}

/// The brigade's own PostgreSQL database, to tamper with as an intruder would.
async fn brigade_db(hub: &TestHub) -> PgConnection {
    let url = format!(
        "{}_brigade",
        hub.env.cfg.database_url.as_deref().expect("on PostgreSQL")
    );
    PgConnection::connect(&url)
        .await
        .expect("the brigade's database")
}

/// Drives an out-of-scope case through the forestry bureau until the brigade's case closes:
/// referral, sign-for, acceptance (which hands the file over), assignment, result.
async fn a_closed_forestry_case(hub: &TestHub) -> String {
    let case = reported(hub, report(T1, &["LY-001"], "发现有人在后山滥伐林木约20株")).await;
    assert_eq!(case.status, "referred");
    let dispatcher = As::dispatcher("forestry");
    let mut c = hub.county.clone();
    let referral = hub.dispatcher("forestry").referral_of(&case.case_id).await;
    let id = referral.referral_id;
    c.sign_for_referral(dispatcher.req(county::SignForReferralRequest {
        referral_id: id.clone(),
    }))
    .await
    .expect("signed for");
    c.accept_referral(dispatcher.req(county::AcceptReferralRequest {
        referral_id: id.clone(),
    }))
    .await
    .expect("accepted");
    // The acceptance hands the file over; forestry works on it once the file has arrived.
    eventually("the file handed over to forestry", WAIT, || {
        let mut c = c.clone();
        let case_id = case.case_id.clone();
        async move {
            let handovers = c
                .list_handovers(
                    As::dispatcher("forestry").req(county::ListHandoversRequest {
                        department: "forestry".into(),
                        case_id,
                        page_size: 0,
                    }),
                )
                .await
                .ok()?
                .into_inner()
                .handovers;
            handovers
                .iter()
                .any(|h| h.status == "received")
                .then_some(())
        }
    })
    .await;
    c.assign_referral(dispatcher.req(county::AssignReferralRequest {
        referral_id: id.clone(),
        staff: vec!["lin.yuan".into()],
    }))
    .await
    .expect("assigned");
    // Concluding needs the investigator's enforcement certificate (持证上岗).
    c.register_officer(dispatcher.req(county::RegisterOfficerRequest {
        department: "forestry".into(),
        officer: As::investigator("forestry").officer.into(),
        certificate_no: "ZJ-LY-0002".into(),
        issuing_authority: "浙江省人民政府".into(),
        valid_from: "2020-01-01".into(),
        valid_until: "2099-12-31".into(),
    }))
    .await
    .expect("the investigator's certificate is registered");
    c.conclude_referral(
        As::investigator("forestry").req(county::ConcludeReferralRequest {
            referral_id: id,
            outcome: Some(ev::Outcome {
                kind: "fine".into(),
                fine_fen: 300_000,
                summary: "责令补种并处罚款".into(),
                ..Default::default()
            }),
        }),
    )
    .await
    .expect("concluded");
    let case_id = case.case_id;
    eventually(
        "the case closed, with the county's acknowledged head",
        WAIT,
        || {
            let mut b = hub.brigade.clone();
            let case_id = case_id.clone();
            async move {
                let got = b
                    .get_case(As::brigade_officer(T1).req(brigade::GetCaseRequest {
                        case_id: case_id.clone(),
                    }))
                    .await
                    .ok()?
                    .into_inner();
                let closed = got.case.as_ref()?.status == "closed";
                let acknowledged = got.history.iter().any(|h| h.kind == "handover_received");
                (closed && acknowledged).then_some(())
            }
        },
    )
    .await;
    case_id
}

#[tokio::test]
async fn a_multi_agency_record_verifies_and_tampering_and_truncation_are_caught_on_postgres() {
    let hub = TestHub::start(Backend::Postgres).await;
    let case_id = a_closed_forestry_case(&hub).await;

    // The whole record, kept by the brigade and fed by the county's steps, verifies against
    // itself and against the head the forestry bureau acknowledged.
    let v = verify(&hub, &case_id).await;
    assert!(v.ok, "{v:?}");
    assert_eq!(v.known_heads_checked, 1);
    assert!(v.length >= 10, "{v:?}");
    let mut db = brigade_db(&hub).await;
    let agencies: Vec<String> =
        sqlx::query_scalar("SELECT agency FROM case_record WHERE case_id = $1 ORDER BY seq")
            .bind(&case_id)
            .fetch_all(&mut db)
            .await
            .unwrap();
    assert!(agencies.contains(&format!("brigade:{T1}")), "{agencies:?}");
    assert!(
        agencies.contains(&"county:forestry".to_string()),
        "{agencies:?}"
    );
    let certificates: Vec<(String, String)> = sqlx::query_as(
        "SELECT kind, certificate_no FROM case_record WHERE case_id = $1 AND certificate_no <> ''",
    )
    .bind(&case_id)
    .fetch_all(&mut db)
    .await
    .unwrap();
    // The department's result names the certificate its investigator acted under.
    assert!(
        certificates.contains(&("result_received".into(), "ZJ-LY-0002".into())),
        "{certificates:?}"
    );

    // An intruder changes the triage entry and recomputes its own hash: only the chain, by the
    // next entry's link to the old hash, gives it away — at that entry.
    let row = sqlx::query("SELECT * FROM case_record WHERE case_id = $1 AND seq = 2")
        .bind(&case_id)
        .fetch_one(&mut db)
        .await
        .unwrap();
    let original_detail: String = row.get("detail");
    let original_hash: String = row.get("hash");
    let prev = parse_hash(&row.get::<String, _>("prev_hash")).unwrap();
    let altered = EntryContent {
        case_id: case_id.clone(),
        seq: 2,
        at: row.get::<DateTime<Utc>, _>("at"),
        kind: row.get("kind"),
        agency: row.get("agency"),
        officer: row.get("officer"),
        role: row.get("role"),
        certificate_no: row.get("certificate_no"),
        detail: "三路分流：属于职权范围内，由镇综合行政执法大队办理".into(),
        evidence_digests: serde_json::from_str(&row.get::<String, _>("evidence_digests")).unwrap(),
        event_id: row.get("event_id"),
        // The triage is the brigade's own step: no other agency's signature.
        signature: None,
    };
    let rehashed = hex(&entry_hash(&prev, &altered));
    sqlx::query("UPDATE case_record SET detail = $1, hash = $2 WHERE case_id = $3 AND seq = 2")
        .bind(&altered.detail)
        .bind(&rehashed)
        .bind(&case_id)
        .execute(&mut db)
        .await
        .unwrap();
    let v = verify(&hub, &case_id).await;
    assert!(!v.ok);
    assert_eq!(v.first_bad_seq, 2, "{v:?}");
    assert!(v.reason.contains("re-hashed"), "{v:?}");

    // Put back, the record verifies again.
    sqlx::query("UPDATE case_record SET detail = $1, hash = $2 WHERE case_id = $3 AND seq = 2")
        .bind(&original_detail)
        .bind(&original_hash)
        .bind(&case_id)
        .execute(&mut db)
        .await
        .unwrap();
    assert!(verify(&hub, &case_id).await.ok);

    // The last entries deleted, back past the head the forestry bureau holds: the chain that
    // is left is whole, but the held head shows the record was cut at its first missing entry.
    let (held_seq, held_head): (i64, String) = sqlx::query_as(
        "SELECT seq, head FROM record_heads WHERE case_id = $1 AND agency = 'county:forestry'",
    )
    .bind(&case_id)
    .fetch_one(&mut db)
    .await
    .unwrap();
    let at_held: String =
        sqlx::query_scalar("SELECT hash FROM case_record WHERE case_id = $1 AND seq = $2")
            .bind(&case_id)
            .bind(held_seq)
            .fetch_one(&mut db)
            .await
            .unwrap();
    assert_eq!(at_held, held_head, "the county holds the brigade's head");
    sqlx::query("DELETE FROM case_record WHERE case_id = $1 AND seq >= $2")
        .bind(&case_id)
        .bind(held_seq - 1)
        .execute(&mut db)
        .await
        .unwrap();
    let v = verify(&hub, &case_id).await;
    assert!(!v.ok);
    assert_eq!(v.length, held_seq as u64 - 2);
    assert_eq!(v.first_bad_seq, held_seq as u64 - 1, "{v:?}");
    assert!(v.reason.contains("truncated"), "{v:?}");
    assert!(v.reason.contains("county:forestry"), "{v:?}");
    db.close().await.unwrap();
    hub.stop().await;
}

#[tokio::test]
async fn document_numbers_run_on_per_body_and_year_and_a_concluded_case_exports_its_dossier_on_postgres()
 {
    let hub = TestHub::start(Backend::Postgres).await;
    let mut b = hub.brigade.clone();

    // Three referrals from T1 and one from T2: each gets a transfer letter.
    let mut t1_cases = Vec::new();
    for d in ["滥伐林木约20株", "滥伐林木约5株", "滥伐杉木约8株"] {
        t1_cases.push(reported(&hub, report(T1, &["LY-001"], d)).await.case_id);
    }
    let t2_case = reported(&hub, report(T2, &["LY-001"], "滥伐林木约3株"))
        .await
        .case_id;

    // A demo-like in-scope case: filed at assignment, inspected, noticed, and fined.
    let case = reported(
        &hub,
        report(T1, &["CXGH-001"], "村民未取得乡村建设规划许可证建房"),
    )
    .await;
    let id = case.case_id.clone();
    b.assign_case(As::brigade_captain(T1).req(brigade::AssignCaseRequest {
        case_id: id.clone(),
        officers: vec!["wang.wu".into(), "li.si".into()],
    }))
    .await
    .unwrap();
    b.record_case_action(
        As::brigade_officer(T1).req(brigade::RecordCaseActionRequest {
            case_id: id.clone(),
            kind: "inspection".into(),
            note: "现场检查并拍照".into(),
            evidence_refs: vec!["photo-002.jpg".into()],
            ..Default::default()
        }),
    )
    .await
    .unwrap();
    let early = b
        .export_dossier(As::brigade_officer(T1).req(brigade::ExportDossierRequest {
            case_id: id.clone(),
            format: "json".into(),
        }))
        .await
        .unwrap_err();
    assert_eq!(
        early.code(),
        Code::FailedPrecondition,
        "an open case has no dossier"
    );
    let fined = ev::Outcome {
        kind: "fine".into(),
        fine_fen: 50_000,
        summary: "拟处罚款人民币500元".into(),
        ..Default::default()
    };
    b.record_case_action(
        As::brigade_officer(T1).req(brigade::RecordCaseActionRequest {
            case_id: id.clone(),
            kind: "notice".into(),
            note: "送达行政处罚事先告知书".into(),
            intended: Some(fined),
            ..Default::default()
        }),
    )
    .await
    .unwrap();
    b.record_case_action(
        As::brigade_officer(T1).req(brigade::RecordCaseActionRequest {
            case_id: id.clone(),
            kind: "statement".into(),
            note: "当事人称建房系自住，请求从轻处罚".into(),
            answer: "经复核，当事人所述不影响违法事实认定，罚款已在法定幅度内从轻".into(),
            ..Default::default()
        }),
    )
    .await
    .unwrap();
    b.conclude_case(As::brigade_officer(T1).req(brigade::ConcludeCaseRequest {
        case_id: id.clone(),
        outcome: Some(ev::Outcome {
            kind: "fine".into(),
            fine_fen: 50_000,
            summary: "责令停止建设并处罚款".into(),
            party: Some(ev::Party {
                kind: "person".into(),
                name: "王某某".into(),
                ..Default::default()
            }),
            ..Default::default()
        }),
        ..Default::default()
    }))
    .await
    .unwrap();

    // Numbers: one run per issuing body and year, unique and consecutive whatever the kind.
    let mut t1_docs = Vec::new();
    for c in t1_cases.iter().chain([&id]) {
        t1_docs.extend(documents(&hub, T1, c).await);
    }
    let kinds: Vec<String> = documents(&hub, T1, &id)
        .await
        .into_iter()
        .map(|d| d.kind)
        .collect();
    assert_eq!(
        kinds,
        [
            "case_filing",
            "notice_before_penalty",
            "statement_record",
            "penalty_decision"
        ]
    );
    let mut numbers: Vec<u32> = t1_docs.iter().map(|d| d.number_seq).collect();
    numbers.sort();
    assert_eq!(numbers, (1..=t1_docs.len() as u32).collect::<Vec<_>>());
    let mut nos: Vec<&str> = t1_docs.iter().map(|d| d.doc_no.as_str()).collect();
    nos.sort();
    nos.dedup();
    assert_eq!(nos.len(), t1_docs.len(), "document numbers are unique");
    assert!(t1_docs.iter().all(|d| d.issuing_body == "赤岸镇人民政府"));
    assert!(
        t1_docs
            .iter()
            .any(|d| d.doc_no.starts_with("赤岸综执移字〔") && d.doc_no.ends_with("第1号")),
        "{nos:?}"
    );
    let t2_docs = documents(&hub, T2, &t2_case).await;
    assert_eq!(t2_docs.len(), 1);
    assert_eq!(t2_docs[0].number_seq, 1, "another town numbers on its own");
    assert_eq!(t2_docs[0].kind_name, "案件移送函");

    // The dossier as JSON: the record, the documents, the evidence list, the verification.
    let json = b
        .export_dossier(As::brigade_officer(T1).req(brigade::ExportDossierRequest {
            case_id: id.clone(),
            format: "json".into(),
        }))
        .await
        .unwrap()
        .into_inner();
    assert!(json.content_type.starts_with("application/json"));
    let dossier: serde_json::Value = serde_json::from_str(&json.body).unwrap();
    assert_eq!(dossier["format"], "liandong-dossier/v1");
    assert_eq!(dossier["case"]["case_id"], id.as_str());
    let record = dossier["record"].as_array().unwrap();
    let docs = dossier["documents"].as_array().unwrap();
    assert_eq!(docs.len(), 4, "filing, notice, statement record, decision");
    assert!(
        docs.iter().any(|d| d["kind_name"] == "行政处罚决定书"
            && d["body"].as_str().unwrap().contains("王某某"))
    );
    // Every document is in the record with its digest.
    for d in docs {
        assert!(
            record
                .iter()
                .any(|e| e["kind"] == "document" && e["evidence_digests"][0] == d["digest"])
        );
    }
    let evidence = dossier["evidence"].as_array().unwrap();
    assert!(evidence.iter().any(|e| e["reference"] == "photo-001.jpg"));
    assert_eq!(evidence.len(), 2, "{evidence:?}");
    assert_eq!(dossier["verification"]["ok"], true);
    assert_eq!(
        dossier["verification"]["length"].as_u64().unwrap(),
        record.len() as u64
    );

    // The dossier as HTML: a timeline in Chinese, through the gateway as text/html.
    let path = format!("/v1/cases/{id}/dossier?format=html");
    let reply = liandong_tests::http::request(
        hub.env.cfg.gateway_addr,
        "GET",
        &path,
        &[("authorization", &As::brigade_officer(T1).bearer())],
        None,
    )
    .await
    .unwrap();
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert!(
        reply.content_type.starts_with("text/html"),
        "{}",
        reply.content_type
    );
    for needle in [
        "执法全过程记录",
        "案件登记",
        "指派执法人员",
        "行政处罚决定书",
        "赤岸综执罚决字〔",
        "证据清单",
        "校验通过",
    ] {
        assert!(reply.body.contains(needle), "the dossier lacks {needle}");
    }
    // Its one inline stylesheet is the one the gateway's Content-Security-Policy allows by its
    // hash (the gateway's unit tests check the header); it has no script.
    assert!(
        reply.body.contains(&format!(
            "<style>{}</style>",
            liandong_domain::dossier::STYLE
        )),
        "{}",
        reply.body
    );
    assert!(!reply.body.contains("<script"), "{}", reply.body);
    let file = hub
        .env
        .cfg
        .data_dir
        .parent()
        .expect("the data folder is in the test's folder")
        .join("dossier.html");
    std::fs::write(&file, &reply.body).unwrap();
    println!("The dossier's HTML is at {}", file.display());
    hub.stop().await;
}

/// The county's own PostgreSQL database, to tamper with as an intruder would.
async fn county_db(hub: &TestHub) -> PgConnection {
    let url = format!(
        "{}_county",
        hub.env.cfg.database_url.as_deref().expect("on PostgreSQL")
    );
    PgConnection::connect(&url)
        .await
        .expect("the county's database")
}

async fn held_record(
    hub: &TestHub,
    who: As,
    case_id: &str,
) -> Result<county::GetCaseRecordResponse, tonic::Status> {
    hub.county
        .clone()
        .get_case_record(who.req(county::GetCaseRecordRequest {
            department: "forestry".into(),
            case_id: case_id.into(),
        }))
        .await
        .map(tonic::Response::into_inner)
}

#[tokio::test]
async fn the_department_holding_the_file_keeps_the_record_and_its_copy_is_verified_on_postgres() {
    let hub = TestHub::start(Backend::Postgres).await;
    let case_id = a_closed_forestry_case(&hub).await;

    // Forestry holds the file since its acceptance: its record starts with the chain the
    // brigade handed over, entry for entry, and goes on with forestry's own steps.
    // The heads it holds: the one the handover named, and those its assignment and its
    // conclusion carried to the brigade, whose receipts show the brigade holds them.
    let r = eventually(
        "the brigade's receipts for forestry's steps",
        WAIT,
        || async {
            let r = held_record(&hub, As::dispatcher("forestry"), &case_id)
                .await
                .expect("forestry's staff read the record of the file it holds");
            (r.known_heads_checked == 3).then_some(r)
        },
    )
    .await;
    assert!(r.ok, "{r:?}");
    assert!(
        r.signatures_checked >= 1,
        "the sign-for in the chain keeps forestry's signature: {r:?}"
    );
    let mut brigade = brigade_db(&hub).await;
    let (handed_length, handed_head): (i64, String) = sqlx::query_as(
        "SELECT seq, head FROM record_heads WHERE case_id = $1 AND agency = 'county:forestry'",
    )
    .bind(&case_id)
    .fetch_one(&mut brigade)
    .await
    .unwrap();
    let brigade_hashes: Vec<String> = sqlx::query_scalar(
        "SELECT hash FROM case_record WHERE case_id = $1 AND seq <= $2 ORDER BY seq",
    )
    .bind(&case_id)
    .bind(handed_length)
    .fetch_all(&mut brigade)
    .await
    .unwrap();
    brigade.close().await.unwrap();
    let held: Vec<&str> = r.entries.iter().map(|e| e.hash.as_str()).collect();
    assert_eq!(
        held[..handed_length as usize],
        brigade_hashes
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>()[..],
        "the department's copy is the brigade's chain up to the handover"
    );
    assert_eq!(held[handed_length as usize - 1], handed_head);
    let after: Vec<(&str, &str, &str)> = r.entries[handed_length as usize..]
        .iter()
        .map(|e| {
            (
                e.kind.as_str(),
                e.agency.as_str(),
                e.certificate_no.as_str(),
            )
        })
        .collect();
    assert_eq!(after[0], ("handover_received", "county:forestry", ""));
    assert!(
        after.contains(&(names::REFERRAL_ASSIGNED, "county:forestry", "")),
        "{after:?}"
    );
    assert!(
        after.contains(&(names::REFERRAL_CONCLUDED, "county:forestry", "ZJ-LY-0002")),
        "the conclusion names the certificate it was taken under: {after:?}"
    );
    assert_eq!(r.length, r.entries.len() as u64);
    assert_eq!(r.head, r.entries.last().unwrap().hash);

    // Anyone authorised: forestry's legal office too; another department is refused.
    assert!(
        held_record(&hub, As::legal_officer("forestry"), &case_id)
            .await
            .is_ok()
    );
    let denied = held_record(&hub, As::dispatcher("public_security"), &case_id)
        .await
        .expect_err("another department's staff");
    assert_eq!(denied.code(), Code::PermissionDenied);
    let missing = held_record(
        &hub,
        As::dispatcher("forestry"),
        &format!("{T1}-0190a0b0-0000-7000-8000-000000000009"),
    )
    .await
    .expect_err("a case forestry holds no file of");
    assert_eq!(missing.code(), Code::NotFound);

    // An entry of forestry's own steps changed and re-hashed in forestry's database: the next
    // entry's link gives it away, at that entry.
    let mut db = county_db(&hub).await;
    let seq = handed_length + 2;
    let row = sqlx::query("SELECT * FROM held_record WHERE case_id = $1 AND seq = $2")
        .bind(&case_id)
        .bind(seq)
        .fetch_one(&mut db)
        .await
        .unwrap();
    let prev = parse_hash(&row.get::<String, _>("prev_hash")).unwrap();
    let (original_detail, original_hash): (String, String) = (row.get("detail"), row.get("hash"));
    let altered = EntryContent {
        case_id: case_id.clone(),
        seq: seq as u64,
        at: row.get::<DateTime<Utc>, _>("at"),
        kind: row.get("kind"),
        agency: row.get("agency"),
        officer: row.get("officer"),
        role: row.get("role"),
        certificate_no: row.get("certificate_no"),
        detail: "改写的一步".into(),
        evidence_digests: serde_json::from_str(&row.get::<String, _>("evidence_digests")).unwrap(),
        event_id: row.get("event_id"),
        signature: None,
    };
    assert!(
        row.get::<Option<String>, _>("signed_by").is_none(),
        "forestry's own step keeps no other agency's signature"
    );
    sqlx::query("UPDATE held_record SET detail = $1, hash = $2 WHERE case_id = $3 AND seq = $4")
        .bind(&altered.detail)
        .bind(hex(&entry_hash(&prev, &altered)))
        .bind(&case_id)
        .bind(seq)
        .execute(&mut db)
        .await
        .unwrap();
    let v = held_record(&hub, As::dispatcher("forestry"), &case_id)
        .await
        .unwrap();
    assert!(!v.ok);
    assert_eq!(v.first_bad_seq, seq as u64, "{v:?}");
    assert!(v.reason.contains("re-hashed"), "{v:?}");
    sqlx::query("UPDATE held_record SET detail = $1, hash = $2 WHERE case_id = $3 AND seq = $4")
        .bind(&original_detail)
        .bind(&original_hash)
        .bind(&case_id)
        .bind(seq)
        .execute(&mut db)
        .await
        .unwrap();
    assert!(
        held_record(&hub, As::dispatcher("forestry"), &case_id)
            .await
            .unwrap()
            .ok
    );

    // Forestry's own last steps cut off: the head the handover named says nothing of them,
    // but the conclusion's event carried the record as it stood before it, and the brigade's
    // receipt for that event shows the brigade holds that head: the cut is caught there.
    sqlx::query("DELETE FROM held_record WHERE case_id = $1 AND seq >= $2")
        .bind(&case_id)
        .bind(handed_length + 2)
        .execute(&mut db)
        .await
        .unwrap();
    let v = held_record(&hub, As::dispatcher("forestry"), &case_id)
        .await
        .unwrap();
    assert!(!v.ok);
    assert_eq!(v.first_bad_seq, handed_length as u64 + 2, "{v:?}");
    assert!(
        v.reason.contains(&format!("truncated: brigade:{T1}")),
        "{v:?}"
    );

    // Cut back past the head the brigade handed over: the rest of the chain is whole, but the
    // handover's head shows where the record was cut.
    sqlx::query("DELETE FROM held_record WHERE case_id = $1 AND seq >= $2")
        .bind(&case_id)
        .bind(handed_length)
        .execute(&mut db)
        .await
        .unwrap();
    let v = held_record(&hub, As::dispatcher("forestry"), &case_id)
        .await
        .unwrap();
    assert!(!v.ok);
    assert_eq!(v.length, handed_length as u64 - 1);
    assert_eq!(v.first_bad_seq, handed_length as u64, "{v:?}");
    assert!(v.reason.contains("truncated"), "{v:?}");
    assert!(v.reason.contains(&format!("brigade:{T1}")), "{v:?}");
    db.close().await.unwrap();
    hub.stop().await;
}
