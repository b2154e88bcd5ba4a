//! Signed events end to end: an event forged in another agency's name, or unsigned, published
//! straight to JetStream is refused, dead-lettered and counted, while genuine events flow; the
//! full-process record keeps the signature of every other agency's event behind an entry, it
//! verifies later against the key registry, and an altered stored signature is caught.

use std::time::Duration;

use liandong_bus::signing::{KeyRegistry, Signer};
use liandong_bus::{Source, Subjects};
use liandong_domain::record::{EntryContent, EventSignature, GENESIS, entry_hash};
use liandong_proto::brigade::v1 as brigade;
use liandong_proto::county::v1 as county;
use liandong_proto::events::v1 as ev;
use liandong_proto::time::to_ts;
use liandong_store::Db;
use liandong_store::with_db;
use liandong_tests::hub::{As, TestHub};
use liandong_tests::people::Report;
use liandong_tests::{Backend, eventually, on_each_backend};
use liandong_topology::{EventKind, names};
use prost::Message;

on_each_backend!(a_records_event_signatures_verify_and_an_altered_one_is_caught);

const TOWN: &str = "330782101";
const DEPARTMENT: &str = "forestry";
const WAIT: Duration = Duration::from_secs(30);

fn report(description: &str) -> brigade::ReportCaseRequest {
    Report::new(TOWN, &["LY-001"], description).request()
}

fn to_hex(bytes: impl AsRef<[u8]>) -> String {
    bytes.as_ref().iter().map(|b| format!("{b:02x}")).collect()
}

fn from_hex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex"))
        .collect()
}

/// A service's development key, as the hub generated it on first start.
fn key_of(hub: &TestHub, service: &str) -> Signer {
    let path = hub.env.cfg.event_keys_dir().join(format!("{service}.pem"));
    Signer::load(service, &path).expect("the service's key")
}

/// A referral in the brigade's name, as its outbox would write it (unsigned).
fn referral(referral_id: &str) -> ev::Envelope {
    ev::Envelope {
        event_id: uuid::Uuid::now_v7().to_string(),
        event_type: EventKind::BrigadeReferralDispatched.event_type().into(),
        schema_version: 1,
        town: TOWN.into(),
        department: DEPARTMENT.into(),
        aggregate_id: referral_id.into(),
        aggregate_seq: 1,
        occurred_at: Some(to_ts(chrono::Utc::now())),
        actor: Some(ev::Actor {
            officer_id: "wang.wu".into(),
            role: "brigade_officer".into(),
            town: TOWN.into(),
            ..Default::default()
        }),
        source: Source::Brigade.as_str().into(),
        payload: ev::ReferralDispatched {
            referral_id: referral_id.into(),
            facts: Some(ev::CaseFacts {
                case_id: format!("{TOWN}-forged-case"),
                town: TOWN.into(),
                matters: vec!["LY-001".into()],
                description: "伪造的移送".into(),
                ..Default::default()
            }),
            department: DEPARTMENT.into(),
            dispatch_no: 1,
            reason: "triage".into(),
        }
        .encode_to_vec(),
        receivers: vec!["county".into()],
        ..Default::default()
    }
}

/// The sum of a metric's series on a service's `/metrics` whose labels contain `labels`.
async fn metric(addr: std::net::SocketAddr, name: &str, labels: &str) -> f64 {
    let reply = liandong_tests::http::request(addr, "GET", "/metrics", &[], None)
        .await
        .expect("/metrics answers");
    assert_eq!(reply.status, 200);
    reply
        .body
        .lines()
        .filter(|l| l.starts_with(name) && l.contains(labels))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum::<f64>()
        + 0.0
}

async fn county_inbox(hub: &TestHub) -> Vec<county::Referral> {
    hub.county
        .clone()
        .list_inbox(As::dispatcher(DEPARTMENT).req(county::ListInboxRequest {
            department: DEPARTMENT.into(),
            status: String::new(),
            town: String::new(),
            page_size: 0,
        }))
        .await
        .expect("the inbox is listed")
        .into_inner()
        .referrals
}

#[tokio::test]
async fn forged_and_unsigned_events_are_refused_dead_lettered_and_counted_on_postgres() {
    let hub = TestHub::start_processes(liandong_tests::TestEnv::new(Backend::Postgres)).await;
    let cfg = &hub.env.cfg;
    let js = async_nats::jetstream::new(
        async_nats::connect(&cfg.nats_url)
            .await
            .expect("NATS answers"),
    );
    let subject = Subjects::new(&cfg.subject_root).event(
        Source::Brigade,
        names::REFERRAL_DISPATCHED,
        TOWN,
        Some(DEPARTMENT),
    );
    let refused = "liandong_bad_signatures_total";
    let wrong_before = metric(cfg.county_addr, refused, "reason=\"wrong_agency\"").await;
    let unsigned_before = metric(cfg.county_addr, refused, "reason=\"unsigned\"").await;
    let dead_before = metric(cfg.county_addr, "liandong_dead_letters_total", "").await;

    // A referral in the brigade's name on the brigade's subject, signed with the county's own
    // key (one the registry lists, but for the county); and one not signed at all.
    let county_key = key_of(&hub, "county");
    let mut forged = referral(&format!("{TOWN}-{}", uuid::Uuid::now_v7()));
    county_key.sign(&mut forged);
    let unsigned = referral(&format!("{TOWN}-{}", uuid::Uuid::now_v7()));
    for env in [&forged, &unsigned] {
        let msg = async_nats::jetstream::message::PublishMessage::build()
            .payload(env.encode_to_vec().into())
            .message_id(&env.event_id);
        js.send_publish(subject.clone(), msg)
            .await
            .unwrap()
            .await
            .expect("the broker stores it");
    }

    // A genuine referral, reported through the brigade, still reaches the forestry bureau.
    let case = hub
        .brigade
        .clone()
        .report_case(As::brigade_officer(TOWN).req(report("后山滥伐林木约20株")))
        .await
        .expect("the report is taken")
        .into_inner()
        .case
        .expect("a case");
    eventually("the genuine referral in forestry's inbox", WAIT, || async {
        let inbox = county_inbox(&hub).await;
        inbox
            .iter()
            .any(|r| r.facts.as_ref().is_some_and(|f| f.case_id == case.case_id))
            .then_some(())
    })
    .await;

    let dlq = js
        .get_stream(format!("{}DLQ", cfg.stream_prefix))
        .await
        .unwrap();
    // The county refuses both, and so does every other consumer of the brigade's stream (the
    // read model, which observes it; the services whose durables read it for other events):
    // every dead letter names its consumer; the county's two are read below.
    let errors = eventually(
        "both forgeries dead-lettered by the county",
        WAIT,
        || async {
            let info = dlq.get_info().await?;
            let mut errors = Vec::new();
            for seq in info.state.first_sequence..=info.state.last_sequence {
                let m = dlq.get_raw_message(seq).await?;
                let header = |k: &str| {
                    m.headers
                        .get(k)
                        .map(|v| v.as_str().to_owned())
                        .unwrap_or_default()
                };
                assert_eq!(header("Liandong-Original-Subject"), subject);
                let consumer = header("Liandong-Consumer");
                // Every consumer of the brigade's stream checks the signature before it looks
                // at the event's kind, so each may refuse them.
                assert!(consumer.contains("-from-brigade"), "{consumer}");
                if consumer.starts_with("county-from-brigade") {
                    let kept = ev::Envelope::decode(m.payload.as_ref())
                        .expect("the dead letter is the envelope");
                    errors.push((kept.event_id, header("Liandong-Error")));
                }
            }
            anyhow::Ok((errors.len() >= 2).then_some(errors))
        },
    )
    .await;
    let wrong_after = metric(cfg.county_addr, refused, "reason=\"wrong_agency\"").await;
    let unsigned_after = metric(cfg.county_addr, refused, "reason=\"unsigned\"").await;
    let dead_after = metric(cfg.county_addr, "liandong_dead_letters_total", "").await;
    println!(
        "forged in the brigade's name with key {} and unsigned: dead letters {errors:?}; \
         {refused} wrong_agency {wrong_before} -> {wrong_after}, unsigned {unsigned_before} -> \
         {unsigned_after}; dead letters {dead_before} -> {dead_after}",
        county_key.key_id()
    );
    let error_of = |id: &str| {
        errors
            .iter()
            .find(|(e, _)| e == id)
            .map(|(_, why)| why.clone())
            .unwrap_or_else(|| panic!("{id} was not dead-lettered: {errors:?}"))
    };
    let forged_error = error_of(&forged.event_id);
    assert!(
        forged_error.contains("comes from \"brigade\"")
            && forged_error.contains("county's key")
            && forged_error.contains(county_key.key_id()),
        "{forged_error}"
    );
    assert!(
        error_of(&unsigned.event_id).contains("not signed"),
        "{errors:?}"
    );
    assert!(wrong_after >= wrong_before + 1.0);
    assert!(unsigned_after >= unsigned_before + 1.0);
    assert!(dead_after >= dead_before + 2.0);

    // Neither was applied: the county's inbox table never saw them, nor its referrals.
    let db = hub
        .env
        .open_db("county", liandong_county::MIGRATIONS)
        .await
        .unwrap();
    for id in [&forged.event_id, &unsigned.event_id] {
        let n: i64 = with_db!(&db, |p| sqlx::query_scalar(
            "SELECT COUNT(*) FROM inbox WHERE event_id = $1"
        )
        .bind(id)
        .fetch_one(p)
        .await)
        .unwrap();
        assert_eq!(n, 0, "the refused event {id} was applied");
    }
    let inbox = county_inbox(&hub).await;
    assert!(
        !inbox
            .iter()
            .any(|r| r.referral_id == forged.aggregate_id || r.referral_id == unsigned.aggregate_id),
        "a refused referral is in forestry's inbox"
    );
    db.close().await;
    hub.stop().await;
}

/// One stored record entry with what its hash covers.
#[derive(Debug, Clone, sqlx::FromRow)]
struct Row {
    seq: i64,
    at: chrono::DateTime<chrono::Utc>,
    kind: String,
    agency: String,
    officer: String,
    role: String,
    certificate_no: String,
    detail: String,
    evidence_digests: String,
    event_id: Option<String>,
    signed_by: Option<String>,
    signature_key_id: Option<String>,
    signature: Option<String>,
    event_digest: Option<String>,
    signed_event: Option<Vec<u8>>,
}

impl Row {
    fn content(&self, case_id: &str) -> EntryContent {
        EntryContent {
            case_id: case_id.into(),
            seq: self.seq as u64,
            at: self.at,
            kind: self.kind.clone(),
            agency: self.agency.clone(),
            officer: self.officer.clone(),
            role: self.role.clone(),
            certificate_no: self.certificate_no.clone(),
            detail: self.detail.clone(),
            evidence_digests: serde_json::from_str(&self.evidence_digests).unwrap(),
            event_id: self.event_id.clone(),
            signature: self.signed_by.as_ref().map(|by| EventSignature {
                signed_by: by.clone(),
                key_id: self.signature_key_id.clone().unwrap_or_default(),
                signature: self.signature.clone().unwrap_or_default(),
                event_digest: self.event_digest.clone().unwrap_or_default(),
            }),
        }
    }
}

async fn rows(db: &Db, case_id: &str) -> Vec<Row> {
    with_db!(db, |p| sqlx::query_as(
        "SELECT seq, at, kind, agency, officer, role, certificate_no, detail, evidence_digests, \
         event_id, signed_by, signature_key_id, signature, event_digest, signed_event \
         FROM case_record WHERE case_id = $1 ORDER BY seq"
    )
    .bind(case_id)
    .fetch_all(p)
    .await)
    .unwrap()
}

async fn set_signature(db: &Db, case_id: &str, seq: i64, signature: &str) {
    with_db!(db, |p| sqlx::query(
        "UPDATE case_record SET signature = $1 WHERE case_id = $2 AND seq = $3"
    )
    .bind(signature)
    .bind(case_id)
    .bind(seq)
    .execute(p)
    .await
    .map(|r| r.rows_affected()))
    .unwrap();
}

/// Rewrites every hash of the record from what its rows now say, as an insider covering
/// their tracks would: the chain is whole again.
async fn rechain(db: &Db, case_id: &str) {
    let mut prev = GENESIS;
    for row in rows(db, case_id).await {
        let hash = entry_hash(&prev, &row.content(case_id));
        with_db!(db, |p| sqlx::query(
            "UPDATE case_record SET prev_hash = $1, hash = $2 WHERE case_id = $3 AND seq = $4"
        )
        .bind(to_hex(prev))
        .bind(to_hex(hash))
        .bind(case_id)
        .bind(row.seq)
        .execute(p)
        .await
        .map(|r| r.rows_affected()))
        .unwrap();
        prev = hash;
    }
}

async fn verify(hub: &TestHub, case_id: &str) -> brigade::VerifyRecordResponse {
    hub.brigade
        .clone()
        .verify_record(As::brigade_officer(TOWN).req(brigade::VerifyRecordRequest {
            case_id: case_id.into(),
        }))
        .await
        .expect("the record can be verified")
        .into_inner()
}

async fn a_records_event_signatures_verify_and_an_altered_one_is_caught(backend: Backend) {
    let hub = TestHub::start_processes(liandong_tests::TestEnv::new(backend)).await;
    let case = hub
        .brigade
        .clone()
        .report_case(As::brigade_officer(TOWN).req(report("后山滥伐林木约30株")))
        .await
        .expect("the report is taken")
        .into_inner()
        .case
        .expect("a case");
    let referral = eventually("the referral in forestry's inbox", WAIT, || async {
        county_inbox(&hub)
            .await
            .into_iter()
            .find(|r| r.facts.as_ref().is_some_and(|f| f.case_id == case.case_id))
    })
    .await;
    hub.county
        .clone()
        .sign_for_referral(
            As::dispatcher(DEPARTMENT).req(county::SignForReferralRequest {
                referral_id: referral.referral_id.clone(),
            }),
        )
        .await
        .expect("signed for");
    let db = hub
        .env
        .open_db("brigade", liandong_brigade::MIGRATIONS)
        .await
        .unwrap();
    let signed_for = eventually("the sign-for in the brigade's record", WAIT, || async {
        rows(&db, &case.case_id)
            .await
            .into_iter()
            .find(|r| r.kind == names::REFERRAL_SIGNED_FOR)
    })
    .await;

    // The entry keeps the county's signature, and the record verifies with it.
    let county_key = key_of(&hub, "county");
    assert_eq!(signed_for.signed_by.as_deref(), Some("county"));
    assert_eq!(
        signed_for.signature_key_id.as_deref(),
        Some(county_key.key_id())
    );
    let v = verify(&hub, &case.case_id).await;
    assert!(v.ok, "{v:?}");
    assert!(v.signatures_checked >= 1, "{v:?}");

    // Anyone holding the registry can show the sign-for came from the county, from what the
    // record keeps alone.
    let registry = KeyRegistry::load(&hub.env.cfg.event_keys_dir().join("registry.toml")).unwrap();
    let event = ev::Envelope::decode(signed_for.signed_event.as_deref().unwrap()).unwrap();
    let signature = from_hex(signed_for.signature.as_deref().unwrap());
    assert_eq!(
        event.event_type,
        EventKind::CountyReferralSignedFor.event_type()
    );
    assert_eq!(
        signed_for.event_id.as_deref(),
        Some(event.event_id.as_str())
    );
    assert_eq!(
        registry.verify_signature(&event, county_key.key_id(), &signature),
        Ok(())
    );
    assert_eq!(
        registry.owner(county_key.key_id()).as_deref(),
        Some("county")
    );

    // The stored signature altered: the chain catches it at its entry.
    let original = signed_for.signature.clone().unwrap();
    let mut altered = signature.clone();
    altered[0] ^= 1;
    set_signature(&db, &case.case_id, signed_for.seq, &to_hex(&altered)).await;
    let changed = verify(&hub, &case.case_id).await;

    // Altered and the whole chain re-hashed to match: the chain is whole, the signature is not.
    rechain(&db, &case.case_id).await;
    let rehashed = verify(&hub, &case.case_id).await;

    // A signature of the same event by another agency's key, chain re-hashed: caught too.
    let mut by_brigade = event.clone();
    key_of(&hub, "brigade").sign(&mut by_brigade);
    set_signature(
        &db,
        &case.case_id,
        signed_for.seq,
        &to_hex(&by_brigade.signature),
    )
    .await;
    rechain(&db, &case.case_id).await;
    let other_key = verify(&hub, &case.case_id).await;

    set_signature(&db, &case.case_id, signed_for.seq, &original).await;
    rechain(&db, &case.case_id).await;
    let restored = verify(&hub, &case.case_id).await;
    println!(
        "[{backend}] entry {} ({}) signed by county key {}: verified {} signature(s); altered: \
         {:?} at {}; altered and re-hashed: {:?} at {}; another key's signature: {:?}; restored ok {}",
        signed_for.seq,
        signed_for.kind,
        county_key.key_id(),
        v.signatures_checked,
        changed.reason,
        changed.first_bad_seq,
        rehashed.reason,
        rehashed.first_bad_seq,
        other_key.reason,
        restored.ok
    );
    let seq = signed_for.seq as u64;
    assert!(!changed.ok);
    assert_eq!(changed.first_bad_seq, seq, "{changed:?}");
    assert!(
        rehashed.reason.contains("signature") && rehashed.reason.contains("does not verify"),
        "{rehashed:?}"
    );
    assert_eq!(rehashed.first_bad_seq, seq, "{rehashed:?}");
    assert!(!other_key.ok);
    assert_eq!(other_key.first_bad_seq, seq, "{other_key:?}");
    assert!(restored.ok, "{restored:?}");
    db.close().await;
    hub.stop().await;
}
