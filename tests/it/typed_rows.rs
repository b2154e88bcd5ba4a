//! Typed rows: each typed column of the brigade's, the county's, the board's, the review's, the
//! disclosure's and the read model's tables, of the full-process record, the certificate
//! registry, the decision model and the access log, corrupted in turn, reads back as an error
//! that names the table, the row's key and the column — never as a default.

use chrono::{DateTime, TimeZone, Utc};
use liandong_board::store::{ItemRow, MeetingRow};
use liandong_brigade as brigade;
use liandong_county as county;
use liandong_domain::catalogue::DisclosureClass;
use liandong_domain::certificates::CertificateStatus;
use liandong_domain::decision::Subject;
use liandong_domain::disclosure::{BodyKind, DisclosureStatus};
use liandong_domain::ids::OfficerId;
use liandong_domain::masking::PartyKind;
use liandong_domain::outcome::OutcomeKind;
use liandong_domain::review::ReviewStatus;
use liandong_domain::state::JointStatus;
use liandong_proto::events::v1 as ev;
use liandong_store::typed::{CorruptRow, Json, Nullable, Proto};
use liandong_store::{Db, with_db};
use liandong_tests::{Backend, TestEnv, on_each_backend, unique};
use liandong_topology::EventKind;

on_each_backend!(
    a_corrupt_board_column_is_an_error_naming_its_row,
    a_corrupt_review_column_is_an_error_naming_its_row,
    a_corrupt_disclosure_column_is_an_error_naming_its_row,
    a_corrupt_read_model_column_is_an_error_naming_its_row,
    a_corrupt_access_log_column_is_an_error_naming_its_row,
    a_corrupt_brigade_column_is_an_error_naming_its_row,
    a_corrupt_county_column_is_an_error_naming_its_row,
    a_corrupt_record_column_is_an_error_naming_its_row,
    a_corrupt_registry_column_is_an_error_naming_its_row,
    a_corrupt_decision_column_is_an_error_naming_its_row,
);

/// Bytes that are no protobuf message: field 1 announces five bytes and two follow.
const NOT_A_MESSAGE: &[u8] = b"\x0a\x05ab";
const NOT_JSON: &str = "[\"forestry\"";
const TOWN: &str = "330782101";
const OFFICER: &str = "li.si";
const YEAR: i64 = 2025;

async fn a_corrupt_board_column_is_an_error_naming_its_row(backend: Backend) {
    let env = TestEnv::new(backend);
    let db = env
        .open_db("board", liandong_board::MIGRATIONS)
        .await
        .expect("the board's database migrates");
    let cases = [
        (Row::AgendaItem, "kind", text("folder")),
        (Row::AgendaItem, "status", text("adjourned")),
        (Row::AgendaItem, "facts", Bad::Bytes(NOT_A_MESSAGE)),
        (Row::AgendaItem, "departments", text(NOT_JSON)),
        (Row::AgendaItem, "decision", text("postponed")),
        (Row::AgendaItem, "cooperating_departments", text(NOT_JSON)),
        (Row::AgendaItem, "reclassified_path", text("sideways")),
        (Row::AgendaItem, "completed_by", text("{}")),
        (
            Row::AgendaItem,
            "entrusted_decision",
            Bad::Bytes(NOT_A_MESSAGE),
        ),
        (Row::Meeting, "attendees", text(NOT_JSON)),
        (Row::Meeting, "item_ids", text("null")),
        (Row::Supervision, "reason", text("late")),
        (Row::Supervision, "kind", text("nap")),
        (Row::ExtensionRequest, "kind", text("nap")),
        (Row::ExtensionRequest, "status", text("maybe")),
        (Row::SatisfactionTally, "satisfaction", text("delighted")),
    ];
    for (row, column, bad) in cases {
        check(&db, row, column, bad).await;
    }
    db.close().await;
    env.cleanup().await;
}

async fn a_corrupt_review_column_is_an_error_naming_its_row(backend: Backend) {
    let env = TestEnv::new(backend);
    let db = env
        .open_db("review", liandong_review::MIGRATIONS)
        .await
        .expect("the review's database migrates");
    let cases = [
        (Row::Review, "status", text("pondering")),
        (Row::ReviewRound, "materials", Bad::Bytes(NOT_A_MESSAGE)),
        (Row::ReviewRound, "answers", text(NOT_JSON)),
        (
            Row::ReviewRound,
            "answers",
            text(r#"[{"check":"vibes","passed":true,"note":""}]"#),
        ),
        (Row::ReviewRound, "decision", text("maybe")),
        (Row::ReviewRound, "status", text("pondering")),
        (
            Row::Certificate { officer: OFFICER },
            "valid_from",
            text("2025-02-30"),
        ),
        (
            Row::Certificate { officer: OFFICER },
            "valid_until",
            text("soon"),
        ),
        (
            Row::Certificate { officer: OFFICER },
            "status",
            text("lapsed"),
        ),
        // An officer id that no longer parses is found by looking that very text up.
        (
            Row::Certificate { officer: "li si" },
            "officer",
            text("li si"),
        ),
    ];
    for (row, column, bad) in cases {
        check(&db, row, column, bad).await;
    }
    db.close().await;
    env.cleanup().await;
}

async fn a_corrupt_disclosure_column_is_an_error_naming_its_row(backend: Backend) {
    let env = TestEnv::new(backend);
    let db = env
        .open_db("disclosure", liandong_disclosure::MIGRATIONS)
        .await
        .expect("the disclosure's database migrates");
    let cases = [
        (Row::Disclosure, "body_kind", text("village")),
        (Row::Disclosure, "class", text("secret")),
        (Row::Disclosure, "status", text("leaked")),
        (Row::Disclosure, "outcome", text("scolding")),
        (Row::Disclosure, "confiscated", text(r#"[["sand"]]"#)),
        (Row::Disclosure, "party_kind", text("robot")),
        (Row::Disclosure, "matters", text(NOT_JSON)),
        (Row::ProvisionalDisclosure, "class", text("secret")),
    ];
    for (row, column, bad) in cases {
        check(&db, row, column, bad).await;
    }
    db.close().await;
    env.cleanup().await;
}

async fn a_corrupt_read_model_column_is_an_error_naming_its_row(backend: Backend) {
    let env = TestEnv::new(backend);
    let db = env
        .open_db("readmodel", liandong_readmodel::MIGRATIONS)
        .await
        .expect("the read model's database migrates");
    let cases = [
        (Row::RmItem, "kind", text("chore")),
        (Row::RmItem, "path", text("sideways")),
        (Row::RmCase, "path", text("sideways")),
        (Row::RmCase, "matters", text(NOT_JSON)),
        (Row::RmDecision, "kind", text("scolding")),
        (Row::RmDecision, "confiscated", text(r#"{"sand":1}"#)),
        (Row::RmExtension, "kind", text("nap")),
        (Row::RmCallback, "satisfaction", text("delighted")),
        (Row::RmDisclosure, "body_kind", text("village")),
        (Row::RmDisclosure, "status", text("leaked")),
    ];
    for (row, column, bad) in cases {
        check(&db, row, column, bad).await;
    }
    db.close().await;
    env.cleanup().await;
}

async fn a_corrupt_access_log_column_is_an_error_naming_its_row(backend: Backend) {
    let env = TestEnv::new(backend);
    // The access log lives in the database of each service that logs reads: the board's here.
    let db = env
        .open_db("board", liandong_board::MIGRATIONS)
        .await
        .expect("the board's database migrates");
    check(&db, Row::AccessLog, "role", text("janitor")).await;
    db.close().await;
    env.cleanup().await;
}

async fn a_corrupt_brigade_column_is_an_error_naming_its_row(backend: Backend) {
    let env = TestEnv::new(backend);
    let db = env
        .open_db("brigade", liandong_brigade::MIGRATIONS)
        .await
        .expect("the brigade's database migrates");
    let cases = [
        (Row::Case, "source", text("rumour")),
        (Row::Case, "matters", text(NOT_JSON)),
        (Row::Case, "evidence_refs", text("null")),
        (Row::Case, "path", text("sideways")),
        (Row::Case, "deciding", text(NOT_JSON)),
        (Row::Case, "departments", text("{}")),
        (Row::Case, "computed_path", text("sideways")),
        (Row::Case, "status", text("lost")),
        (Row::JointCase, "cooperating", text(NOT_JSON)),
        (Row::JointCase, "decision", Bad::Bytes(NOT_A_MESSAGE)),
        (Row::JointCase, "completed_by", text("{}")),
        (Row::ResultCopy, "confiscated", text(r#"[["sand"]]"#)),
        (Row::Assignment, "officers", text(NOT_JSON)),
        (Row::CaseOutcome, "outcome", Bad::Bytes(NOT_A_MESSAGE)),
        (Row::Patrol, "officers", text(NOT_JSON)),
        (Row::Patrol, "case_ids", text("null")),
        (Row::Persuasion, "officers", text("{}")),
        (Row::Persuasion, "kind", text("lecture")),
        (Row::Document, "kind", text("memo")),
        (Row::Callback, "source", text("rumour")),
        (Row::Callback, "path", text("sideways")),
        (Row::Callback, "satisfaction", text("delighted")),
    ];
    for (row, column, bad) in cases {
        check(&db, row, column, bad).await;
    }
    db.close().await;
    env.cleanup().await;
}

async fn a_corrupt_county_column_is_an_error_naming_its_row(backend: Backend) {
    let env = TestEnv::new(backend);
    let db = env
        .open_db("county", liandong_county::MIGRATIONS)
        .await
        .expect("the county's database migrates");
    let cases = [
        (Row::Referral, "status", text("lost")),
        (Row::Referral, "facts", Bad::Bytes(NOT_A_MESSAGE)),
        (Row::Referral, "staff", text(NOT_JSON)),
        (Row::Referral, "outcome", Bad::Bytes(NOT_A_MESSAGE)),
        (Row::Task, "role", text("helper")),
        (Row::Task, "status", text("lost")),
        (Row::Task, "facts", Bad::Bytes(NOT_A_MESSAGE)),
        (Row::Task, "decision", Bad::Bytes(NOT_A_MESSAGE)),
        (Row::Handover, "record", Bad::Bytes(NOT_A_MESSAGE)),
        (Row::Handover, "evidence_refs", text(NOT_JSON)),
        (Row::Handover, "status", text("lost")),
        (Row::Handover, "refusal_reasons", text("{}")),
        (Row::Obligation, "kind", text("nap")),
        (Row::CountyExtensionRequest, "status", text("maybe")),
    ];
    for (row, column, bad) in cases {
        check(&db, row, column, bad).await;
    }
    db.close().await;
    env.cleanup().await;
}

async fn a_corrupt_record_column_is_an_error_naming_its_row(backend: Backend) {
    let env = TestEnv::new(backend);
    // The brigade keeps each case's record; a department keeps the record a handover started.
    let brigade = env
        .open_db("brigade", liandong_brigade::MIGRATIONS)
        .await
        .expect("the brigade's database migrates");
    check(
        &brigade,
        Row::CaseRecord,
        "evidence_digests",
        text(NOT_JSON),
    )
    .await;
    brigade.close().await;
    let county = env
        .open_db("county", liandong_county::MIGRATIONS)
        .await
        .expect("the county's database migrates");
    check(&county, Row::HeldRecord, "evidence_digests", text("{}")).await;
    county.close().await;
    env.cleanup().await;
}

async fn a_corrupt_registry_column_is_an_error_naming_its_row(backend: Backend) {
    let env = TestEnv::new(backend);
    // A town's registry is kept by its brigade, a department's by the county service.
    for (service, migrations) in [
        ("brigade", liandong_brigade::MIGRATIONS),
        ("county", liandong_county::MIGRATIONS),
    ] {
        let db = env
            .open_db(service, migrations)
            .await
            .unwrap_or_else(|e| panic!("the {service}'s database migrates: {e}"));
        let cert = Row::OfficerCertificate { officer: OFFICER };
        let cases = [
            (cert, "valid_from", text("2025-02-30")),
            (cert, "valid_until", text("soon")),
            (cert, "status", text("lapsed")),
            // An officer id that no longer parses is found by looking that very text up.
            (
                Row::OfficerCertificate { officer: "li si" },
                "officer",
                text("li si"),
            ),
        ];
        for (row, column, bad) in cases {
            check(&db, row, column, bad).await;
        }
        db.close().await;
    }
    env.cleanup().await;
}

async fn a_corrupt_decision_column_is_an_error_naming_its_row(backend: Backend) {
    let env = TestEnv::new(backend);
    // The decision model's tables are in the brigade's database and in the county's.
    for (service, migrations) in [
        ("brigade", liandong_brigade::MIGRATIONS),
        ("county", liandong_county::MIGRATIONS),
    ] {
        let db = env
            .open_db(service, migrations)
            .await
            .unwrap_or_else(|e| panic!("the {service}'s database migrates: {e}"));
        let cases = [
            (Row::DecisionReview, "subject", text("appeal")),
            (Row::DecisionReview, "status", text("pondering")),
            (Row::DecisionReview, "proposed", Bad::Bytes(NOT_A_MESSAGE)),
            (Row::DecisionReview, "proposer", Bad::Bytes(NOT_A_MESSAGE)),
            (Row::DecisionInForce, "outcome", Bad::Bytes(NOT_A_MESSAGE)),
        ];
        for (row, column, bad) in cases {
            check(&db, row, column, bad).await;
        }
        db.close().await;
    }
    env.cleanup().await;
}

/// What a corrupted column is set to.
#[derive(Debug, Clone, Copy)]
enum Bad {
    Text(&'static str),
    Bytes(&'static [u8]),
}

fn text(s: &'static str) -> Bad {
    Bad::Text(s)
}

/// A row of one table: how a valid one is written, how the service reads it, and how the
/// error must name it.
#[derive(Debug, Clone, Copy)]
enum Row {
    AgendaItem,
    Meeting,
    Supervision,
    ExtensionRequest,
    SatisfactionTally,
    Review,
    ReviewRound,
    /// Looked up, once corrupted, by this officer id.
    Certificate {
        officer: &'static str,
    },
    Disclosure,
    ProvisionalDisclosure,
    RmItem,
    RmCase,
    RmDecision,
    RmExtension,
    RmCallback,
    RmDisclosure,
    AccessLog,
    Case,
    JointCase,
    ResultCopy,
    Assignment,
    CaseOutcome,
    Patrol,
    Persuasion,
    Document,
    Callback,
    CaseRecord,
    Referral,
    Task,
    Handover,
    Obligation,
    CountyExtensionRequest,
    HeldRecord,
    /// Looked up, once corrupted, by this officer id.
    OfficerCertificate {
        officer: &'static str,
    },
    DecisionReview,
    DecisionInForce,
}

/// Writes a valid row keyed `id` into `db`, checks that the service reads it, sets `column` to
/// `bad`, and checks that the service's read is an error naming the table, the row's key and
/// the column. The row is deleted afterwards, so the next case reads only its own.
async fn check(db: &Db, row: Row, column: &'static str, bad: Bad) {
    let id = unique("typed-");
    row.insert(db, &id).await;
    row.read(db, &id, false)
        .await
        .unwrap_or_else(|e| panic!("a valid {} row reads: {e}", row.table()));
    let value = match bad {
        Bad::Text(s) => Arg::Text(s.into()),
        Bad::Bytes(b) => Arg::Bytes(b.to_vec()),
    };
    let sql = format!(
        "UPDATE {} SET {column} = $1 WHERE {} = $2",
        row.table(),
        row.id_column()
    );
    exec(db, &sql, &[value, Arg::Text(id.clone())]).await;

    let err = row
        .read(db, &id, true)
        .await
        .expect_err("a corrupt column is an error, not a default");
    let named = corrupt_row(&err);
    let key = row.key(&id, bad);
    assert_eq!(
        (named.table, named.key.as_str(), read_column(named)),
        (row.table(), key.as_str(), column),
        "{err}"
    );
    let message = err.to_string();
    for part in [row.table(), key.as_str(), column] {
        assert!(message.contains(part), "{message:?} names {part:?}");
    }
    // What the column holds stands where sqlx 0.8 loses the conversion's reason.
    let held = match bad {
        Bad::Text(s) => format!("{s:?}"),
        Bad::Bytes(b) => format!("{} bytes", b.len()),
    };
    assert!(message.contains(&held), "{message:?} shows {held}");
    println!("{message}");
    for (table, id_column) in row.cleanup() {
        let sql = format!("DELETE FROM {table} WHERE {id_column} = $1");
        exec(db, &sql, &[Arg::Text(id.clone())]).await;
    }
}

fn corrupt_row(err: &sqlx::Error) -> &CorruptRow {
    match err {
        sqlx::Error::Decode(e) => e
            .downcast_ref::<CorruptRow>()
            .unwrap_or_else(|| panic!("the decode error names its row: {err}")),
        other => panic!("a decode error, not {other}"),
    }
}

fn read_column(row: &CorruptRow) -> &str {
    match &row.source {
        sqlx::Error::ColumnDecode { index, .. } => index,
        other => panic!("a column that does not decode, not {other}"),
    }
}

fn at() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 3, 4, 2, 0, 0).unwrap()
}

impl Row {
    fn table(self) -> &'static str {
        match self {
            Row::AgendaItem => "agenda_items",
            Row::Meeting => "meetings",
            Row::Supervision => "supervision",
            Row::ExtensionRequest => "extension_requests",
            Row::SatisfactionTally => "satisfaction_tally",
            Row::Review => "reviews",
            Row::ReviewRound => "review_rounds",
            Row::Certificate { .. } => "certificates",
            Row::Disclosure | Row::ProvisionalDisclosure => "disclosures",
            Row::RmItem => "rm_items",
            Row::RmCase => "rm_cases",
            Row::RmDecision => "rm_decisions",
            Row::RmExtension => "rm_extensions",
            Row::RmCallback => "rm_callbacks",
            Row::RmDisclosure => "rm_disclosures",
            Row::AccessLog => "access_log",
            Row::Case => "cases",
            Row::JointCase => "joint_cases",
            Row::ResultCopy => "result_copies",
            Row::Assignment => "case_assignments",
            Row::CaseOutcome => "case_outcomes",
            Row::Patrol => "patrols",
            Row::Persuasion => "persuasions",
            Row::Document => "documents",
            Row::Callback => "case_callbacks",
            Row::CaseRecord => "case_record",
            Row::Referral => "referrals",
            Row::Task => "tasks",
            Row::Handover => "handovers",
            Row::Obligation => "obligations",
            Row::CountyExtensionRequest => "extension_requests",
            Row::HeldRecord => "held_record",
            Row::OfficerCertificate { .. } => "officer_certificates",
            Row::DecisionReview => "decision_reviews",
            Row::DecisionInForce => "decisions_in_force",
        }
    }

    /// The column that holds the test's id, which the UPDATE and DELETE select on.
    fn id_column(self) -> &'static str {
        match self {
            Row::AgendaItem => "item_id",
            Row::Meeting => "meeting_id",
            Row::Supervision => "entry_id",
            Row::ExtensionRequest | Row::RmExtension => "request_id",
            Row::SatisfactionTally => "town",
            Row::Review | Row::ReviewRound => "review_id",
            Row::Certificate { .. } => "agency",
            Row::Disclosure | Row::ProvisionalDisclosure | Row::RmDisclosure => "disclosure_id",
            Row::RmItem => "item_id",
            Row::RmCase => "case_id",
            Row::RmDecision => "event_id",
            Row::RmCallback => "callback_id",
            Row::AccessLog => "id",
            Row::Case | Row::JointCase | Row::Assignment | Row::CaseOutcome | Row::CaseRecord => {
                "case_id"
            }
            Row::ResultCopy | Row::Referral => "referral_id",
            Row::Patrol => "patrol_id",
            Row::Persuasion => "persuasion_id",
            Row::Document => "doc_id",
            Row::Callback => "callback_id",
            Row::Task => "task_id",
            Row::Handover | Row::HeldRecord => "handover_id",
            Row::Obligation => "obligation_id",
            Row::CountyExtensionRequest => "request_id",
            Row::OfficerCertificate { .. } => "agency",
            Row::DecisionReview | Row::DecisionInForce => "subject_id",
        }
    }

    /// The row's key as the error must give it.
    fn key(self, id: &str, bad: Bad) -> String {
        match (self, bad) {
            (Row::ReviewRound, _) => format!("{id}, 1"),
            (Row::Certificate { officer } | Row::OfficerCertificate { officer }, _) => {
                format!("{id}, {officer}")
            }
            (Row::SatisfactionTally, Bad::Text(answer)) => format!("{id}, {YEAR}, {answer}"),
            _ => id.to_owned(),
        }
    }

    /// The tables to delete the row from, dependent rows first, each with the column that
    /// holds the test's id.
    fn cleanup(self) -> Vec<(&'static str, &'static str)> {
        let own = (self.table(), self.id_column());
        match self {
            Row::Review | Row::ReviewRound => {
                vec![("review_rounds", "review_id"), ("reviews", "review_id")]
            }
            // The brigade's rows of a case refer to it: the case keyed by the test's id too.
            Row::JointCase
            | Row::ResultCopy
            | Row::Assignment
            | Row::CaseOutcome
            | Row::Document
            | Row::CaseRecord => vec![own, ("cases", "case_id")],
            Row::HeldRecord => vec![own, ("handovers", "handover_id")],
            Row::CountyExtensionRequest => vec![own, ("obligations", "obligation_id")],
            _ => vec![own],
        }
    }

    async fn insert(self, db: &Db, id: &str) {
        let id_arg = || Arg::Text(id.to_owned());
        match self {
            Row::AgendaItem => {
                let facts = ev::CaseFacts {
                    case_id: format!("{TOWN}-case"),
                    town: TOWN.into(),
                    matters: vec!["CXGH-001".into()],
                    ..Default::default()
                };
                let item = ItemRow::on_agenda(
                    id.into(),
                    TOWN.into(),
                    JointStatus::OnAgenda.into(),
                    facts,
                    vec!["forestry".into()],
                    at(),
                );
                let mut tx = db.begin().await.unwrap();
                liandong_board::store::insert(&mut tx, &item).await.unwrap();
                tx.commit().await.unwrap();
            }
            Row::Meeting => {
                let meeting = MeetingRow {
                    meeting_id: id.into(),
                    town: TOWN.into(),
                    held_at: at(),
                    attendees: Json(vec!["chair.li".into()]),
                    item_ids: Json(vec![]),
                    notes: String::new(),
                    recorded_by: "chair.li".into(),
                    created_at: at(),
                };
                let mut tx = db.begin().await.unwrap();
                liandong_board::store::insert_meeting(&mut tx, &meeting)
                    .await
                    .unwrap();
                tx.commit().await.unwrap();
            }
            Row::Supervision => {
                exec(
                    db,
                    "INSERT INTO supervision (entry_id, town, case_id, department, referral_id, \
                     reason, obligation_id, kind, level, deadline, raised_at, resolved_at, returns) \
                     VALUES ($1, $1, 'c', 'forestry', 'r', 'overdue', $1, 'sign_for', 1, NULL, $2, \
                     NULL, 0)",
                    &[id_arg(), Arg::Time(at())],
                )
                .await
            }
            Row::ExtensionRequest => {
                exec(
                    db,
                    "INSERT INTO extension_requests (request_id, town, obligation_id, kind, case_id, \
                     referral_id, department, working_days, reason, current_deadline, status, \
                     new_deadline, note, requested_at, decided_at) VALUES ($1, $1, 'o', 'conclude', \
                     'c', 'r', 'forestry', 5, '补充鉴定', $2, 'pending', NULL, NULL, $2, NULL)",
                    &[id_arg(), Arg::Time(at())],
                )
                .await
            }
            Row::SatisfactionTally => {
                exec(
                    db,
                    "INSERT INTO satisfaction_tally (town, year, satisfaction, callbacks, reopened) \
                     VALUES ($1, $2, 'satisfied', 1, 0)",
                    &[id_arg(), Arg::Int(YEAR)],
                )
                .await
            }
            Row::Review => insert_review(db, id, false).await,
            Row::ReviewRound => insert_review(db, id, true).await,
            Row::Certificate { .. } => {
                let cert = liandong_review::store::CertRow {
                    agency: id.into(),
                    officer: OfficerId::parse(OFFICER).unwrap(),
                    certificate_no: "330700-0001".into(),
                    issuing_authority: "县司法局".into(),
                    valid_from: liandong_review::store::Day::parse("2024-01-01").unwrap(),
                    valid_until: liandong_review::store::Day::parse("2028-12-31").unwrap(),
                    status: CertificateStatus::Active,
                    updated_at: at(),
                };
                let mut tx = db.begin().await.unwrap();
                liandong_review::store::upsert_certificate(&mut tx, &cert)
                    .await
                    .unwrap();
                tx.commit().await.unwrap();
            }
            Row::Disclosure | Row::ProvisionalDisclosure => {
                let row = liandong_disclosure::store::DisclosureRow {
                    disclosure_id: id.into(),
                    town: TOWN.into(),
                    case_id: format!("{TOWN}-case"),
                    source_event_id: id.into(),
                    source_event_type: EventKind::BrigadeCaseConcluded.event_type().into(),
                    body_kind: BodyKind::Town,
                    body_code: TOWN.into(),
                    class: DisclosureClass::PenaltyOrLicensing,
                    status: DisclosureStatus::Pending,
                    outcome: OutcomeKind::Fine,
                    fine_fen: 200_000,
                    confiscated: Json(vec![]),
                    applied_basis: Json(vec![]),
                    orders: Json(vec![]),
                    summary: "罚款二千元".into(),
                    description: "张*未经许可建房".into(),
                    party_kind: PartyKind::Person,
                    party_name: "张*".into(),
                    party_address: "某村".into(),
                    matters: Json(vec!["CXGH-001".into()]),
                    decided_at: at(),
                    due_at: at(),
                    due_provisional: matches!(self, Row::ProvisionalDisclosure),
                    withheld_reason: None,
                    published_at: None,
                    published_by: None,
                    withdrawn_at: None,
                    withdrawn_by: None,
                    withdrawal_reason: None,
                    decision_changed_at: None,
                    withdrawal_due_at: None,
                    created_at: at(),
                    updated_at: at(),
                };
                let mut tx = db.begin().await.unwrap();
                liandong_disclosure::store::insert(&mut tx, &row)
                    .await
                    .unwrap();
                tx.commit().await.unwrap();
            }
            Row::RmItem => {
                exec(
                    db,
                    "INSERT INTO rm_items (item_id, kind, path, case_id, town, department, \
                     dispatched_at) VALUES ($1, 'referral', 'out_of_scope', 'c', '330782101', \
                     'forestry', $2)",
                    &[id_arg(), Arg::Time(at())],
                )
                .await
            }
            Row::RmCase => {
                exec(
                    db,
                    "INSERT INTO rm_cases (case_id, town, path, department, matters, seen_at) \
                     VALUES ($1, '330782101', 'joint', '', '[\"CXGH-001\"]', $2)",
                    &[id_arg(), Arg::Time(at())],
                )
                .await
            }
            Row::RmDecision => {
                exec(
                    db,
                    "INSERT INTO rm_decisions (event_id, case_id, town, department, kind, fine_fen, \
                     confiscated, confiscated_value_fen, decided_at, replaced) VALUES ($1, 'c', \
                     '330782101', '', 'fine', 200000, '[]', 0, $2, FALSE)",
                    &[id_arg(), Arg::Time(at())],
                )
                .await
            }
            Row::RmExtension => {
                exec(
                    db,
                    "INSERT INTO rm_extensions (request_id, obligation_id, kind, case_id, \
                     referral_id, department, new_deadline) VALUES ($1, 'o', 'conclude', 'c', NULL, \
                     'forestry', $2)",
                    &[id_arg(), Arg::Time(at())],
                )
                .await
            }
            Row::RmCallback => {
                exec(
                    db,
                    "INSERT INTO rm_callbacks (callback_id, town, case_id, satisfaction, reopened, \
                     called_at) VALUES ($1, '330782101', 'c', 'satisfied', FALSE, $2)",
                    &[id_arg(), Arg::Time(at())],
                )
                .await
            }
            Row::RmDisclosure => {
                exec(
                    db,
                    "INSERT INTO rm_disclosures (disclosure_id, seq, town, case_id, body_kind, \
                     body_code, class, status, decided_at, due_at, published_at, withdrawn_at, \
                     withdrawal_due_at) VALUES ($1, 1, '330782101', 'c', 'town', '330782101', \
                     'penalty_or_licensing', 'pending', $2, $2, NULL, NULL, NULL)",
                    &[id_arg(), Arg::Time(at())],
                )
                .await
            }
            Row::Case => insert_case(db, id).await,
            Row::JointCase => {
                insert_case(db, id).await;
                exec(
                    db,
                    "INSERT INTO joint_cases (case_id, town, item_id, lead_department, cooperating, \
                     decision, decided_in_name_of, completed_by, executed_at, updated_at) VALUES \
                     ($1, '330782101', 'i', 'forestry', '[\"water\"]', NULL, NULL, '[]', NULL, $2)",
                    &[id_arg(), Arg::Time(at())],
                )
                .await
            }
            Row::ResultCopy => {
                insert_case(db, id).await;
                exec(
                    db,
                    "INSERT INTO result_copies (referral_id, case_id, town, department, \
                     outcome_kind, fine_fen, confiscated, summary, concluded_by, received_at) \
                     VALUES ($1, $1, '330782101', 'forestry', 'fine', 200000, '[[\"sand\", 1]]', \
                     '罚款二千元', 'wang.wu', $2)",
                    &[id_arg(), Arg::Time(at())],
                )
                .await
            }
            Row::Assignment => {
                insert_case(db, id).await;
                exec(
                    db,
                    "INSERT INTO case_assignments (case_id, town, officers, assigned_by, \
                     assigned_at) VALUES ($1, '330782101', '[\"li.si\"]', 'captain', $2)",
                    &[id_arg(), Arg::Time(at())],
                )
                .await
            }
            Row::CaseOutcome => {
                insert_case(db, id).await;
                exec(
                    db,
                    "INSERT INTO case_outcomes (case_id, town, outcome, outcome_kind, fine_fen, \
                     concluded_by, concluded_at) VALUES ($1, '330782101', $3, 'fine', 200000, \
                     'li.si', $2)",
                    &[id_arg(), Arg::Time(at()), Arg::Bytes(a_message())],
                )
                .await
            }
            Row::Patrol => {
                exec(
                    db,
                    "INSERT INTO patrols (patrol_id, town, officers, started_at, ended_at, area, \
                     findings, case_ids, recorded_by, recorded_at) VALUES ($1, '330782101', \
                     '[\"li.si\"]', $2, $2, '村口', '', '[]', 'li.si', $2)",
                    &[id_arg(), Arg::Time(at())],
                )
                .await
            }
            Row::Persuasion => {
                exec(
                    db,
                    "INSERT INTO persuasions (persuasion_id, town, officers, at, location, kind, \
                     persons, note, recorded_by, recorded_at) VALUES ($1, '330782101', \
                     '[\"li.si\"]', $2, '路口', 'no_helmet', 3, '', 'li.si', $2)",
                    &[id_arg(), Arg::Time(at())],
                )
                .await
            }
            Row::Document => {
                insert_case(db, id).await;
                exec(
                    db,
                    "INSERT INTO documents (doc_id, case_id, town, issuing_body, kind, year, \
                     number_seq, doc_no, body, digest, created_at) VALUES ($1, $1, '330782101', \
                     $1, 'case_filing', 2025, 1, $1, '立案审批表', '00', $2)",
                    &[id_arg(), Arg::Time(at())],
                )
                .await
            }
            Row::Callback => {
                exec(
                    db,
                    "INSERT INTO case_callbacks (callback_id, case_id, town, source, path, \
                     satisfaction, note, called_back_by, called_at, reopened, recorded_by, \
                     recorded_at) VALUES ($1, 'c', '330782101', 'public_report', 'in_scope', \
                     'satisfied', '', 'li.si', $2, FALSE, 'li.si', $2)",
                    &[id_arg(), Arg::Time(at())],
                )
                .await
            }
            Row::CaseRecord => {
                insert_case(db, id).await;
                exec(
                    db,
                    "INSERT INTO case_record (case_id, seq, town, at, kind, agency, officer, role, \
                     certificate_no, detail, evidence_digests, event_id, prev_hash, hash) VALUES \
                     ($1, 1, '330782101', $2, 'reported', 'brigade:330782101', 'li.si', \
                     'brigade_officer', '', '上报', '[]', NULL, '', '00')",
                    &[id_arg(), Arg::Time(at())],
                )
                .await
            }
            Row::Referral => {
                exec(
                    db,
                    "INSERT INTO referrals (referral_id, town, case_id, department, status, \
                     dispatch_no, facts, dispatched_at, received_at, signed_for_at, accepted_at, \
                     concluded_at, staff, return_reason, outcome, updated_at, reason) VALUES ($1, \
                     '330782101', 'c', 'forestry', 'dispatched', 1, $3, $2, $2, NULL, NULL, NULL, \
                     '[]', NULL, NULL, $2, '')",
                    &[id_arg(), Arg::Time(at()), Arg::Bytes(a_message())],
                )
                .await
            }
            Row::Task => {
                exec(
                    db,
                    "INSERT INTO tasks (task_id, item_id, case_id, town, department, role, status, \
                     facts, instructions, lead_department, decision, summary, assigned_at, done_at, \
                     updated_at) VALUES ($1, 'i', 'c', '330782101', 'forestry', 'lead', 'open', $3, \
                     '', 'forestry', NULL, NULL, $2, NULL, $2)",
                    &[id_arg(), Arg::Time(at()), Arg::Bytes(a_message())],
                )
                .await
            }
            Row::Handover => insert_handover(db, id).await,
            Row::HeldRecord => {
                insert_handover(db, id).await;
                exec(
                    db,
                    "INSERT INTO held_record (handover_id, case_id, department, town, seq, at, kind, \
                     agency, officer, role, certificate_no, detail, evidence_digests, event_id, \
                     prev_hash, hash) VALUES ($1, $1, 'forestry', '330782101', 1, $2, 'reported', \
                     'brigade:330782101', 'li.si', 'brigade_officer', '', '上报', '[]', NULL, '', \
                     '00')",
                    &[id_arg(), Arg::Time(at())],
                )
                .await
            }
            Row::Obligation => insert_obligation(db, id).await,
            Row::CountyExtensionRequest => {
                insert_obligation(db, id).await;
                exec(
                    db,
                    "INSERT INTO extension_requests (request_id, obligation_id, working_days, \
                     reason, requested_by, requested_at, status, decided_at, note) VALUES ($1, $1, \
                     5, '补充鉴定', 'zhao.liu', $2, 'pending', NULL, NULL)",
                    &[id_arg(), Arg::Time(at())],
                )
                .await
            }
            Row::OfficerCertificate { .. } => {
                exec(
                    db,
                    "INSERT INTO officer_certificates (agency, officer, certificate_no, \
                     issuing_authority, valid_from, valid_until, status, status_note, \
                     registered_by, updated_at) VALUES ($1, 'li.si', '330700-0001', '县司法局', \
                     '2024-01-01', '2028-12-31', 'active', '', 'captain', $2)",
                    &[id_arg(), Arg::Time(at())],
                )
                .await
            }
            Row::DecisionReview => {
                exec(
                    db,
                    "INSERT INTO decision_reviews (subject, subject_id, review_id, town, round, \
                     status, proposed, proposer, submitted_at, updated_at, change_reason, \
                     superseded_event_id) VALUES ('case', $1, $1, '330782101', 1, 'pending', $3, \
                     $3, $2, $2, NULL, NULL)",
                    &[id_arg(), Arg::Time(at()), Arg::Bytes(a_message())],
                )
                .await
            }
            Row::DecisionInForce => {
                exec(
                    db,
                    "INSERT INTO decisions_in_force (subject, subject_id, event_id, outcome, \
                     decided_at) VALUES ('case', $1, $1, $3, $2)",
                    &[id_arg(), Arg::Time(at()), Arg::Bytes(a_message())],
                )
                .await
            }
            Row::AccessLog => {
                exec(
                    db,
                    "INSERT INTO access_log (id, at, officer, role, agency, service, rpc, \
                     resource_kind, resource_id, town, department) VALUES ($1, $2, 'li.si', \
                     'judicial_reviewer', '330782101', 'board', 'GetItem', 'agenda_item', 'x', $1, \
                     '')",
                    &[id_arg(), Arg::Time(at())],
                )
                .await
            }
        }
    }

    /// Reads the row through the service's own store function, before or `after` its column
    /// was corrupted.
    async fn read(self, db: &Db, id: &str, after: bool) -> Result<(), sqlx::Error> {
        let found = match self {
            Row::AgendaItem => liandong_board::store::get(db, id).await?.is_some(),
            Row::Meeting => liandong_board::store::get_meeting(db, id).await?.is_some(),
            Row::Supervision => !liandong_board::supervision::entries(db, id, true)
                .await?
                .is_empty(),
            Row::ExtensionRequest => !liandong_board::supervision::requests(db, id)
                .await?
                .is_empty(),
            Row::SatisfactionTally => !liandong_board::satisfaction::tally(db, id, YEAR as i32)
                .await?
                .is_empty(),
            Row::Review => liandong_review::store::review(db, id).await?.is_some(),
            Row::ReviewRound => !liandong_review::store::rounds(db, id).await?.is_empty(),
            Row::Certificate { officer } => {
                let officer = if after { officer } else { OFFICER };
                liandong_review::store::certificate(db, id, officer)
                    .await?
                    .is_some()
            }
            Row::Disclosure => {
                let mut tx = db.begin().await?;
                let row = liandong_disclosure::store::get_in_tx(&mut tx, id).await;
                tx.rollback().await?;
                row?.is_some()
            }
            Row::ProvisionalDisclosure => liandong_disclosure::store::provisional(db)
                .await?
                .iter()
                .any(|r| r.disclosure_id == id),
            Row::RmItem => !liandong_readmodel::store::rows(db).await?.items.is_empty(),
            Row::RmCase => !liandong_readmodel::store::rows(db).await?.cases.is_empty(),
            Row::RmDecision => !liandong_readmodel::store::rows(db)
                .await?
                .decisions
                .is_empty(),
            Row::RmExtension => !liandong_readmodel::store::rows(db)
                .await?
                .extensions
                .is_empty(),
            Row::RmCallback => !liandong_readmodel::store::rows(db)
                .await?
                .callbacks
                .is_empty(),
            Row::RmDisclosure => !liandong_readmodel::store::rows(db)
                .await?
                .disclosures
                .is_empty(),
            Row::AccessLog => !liandong_access_log::rows(db, id, "", 10).await?.is_empty(),
            Row::Case => brigade::store::case(db, id).await?.is_some(),
            Row::JointCase => brigade::store::joint(db, id).await?.is_some(),
            Row::ResultCopy => !brigade::store::results(db, TOWN, 10).await?.is_empty(),
            Row::Assignment => !brigade::store::officers(db, id).await?.is_empty(),
            Row::CaseOutcome => brigade::store::outcome(db, id).await?.is_some(),
            Row::Patrol => !brigade::activities::list(db, TOWN, None, None, 10)
                .await?
                .0
                .is_empty(),
            Row::Persuasion => !brigade::activities::list(db, TOWN, None, None, 10)
                .await?
                .1
                .is_empty(),
            Row::Document => !brigade::documents::of_case(db, id).await?.is_empty(),
            Row::Callback => {
                let (from, to) = (
                    at() - chrono::Duration::days(1),
                    at() + chrono::Duration::days(1),
                );
                !brigade::callback::list(db, TOWN, from, to)
                    .await?
                    .is_empty()
            }
            Row::CaseRecord => !brigade::store::history(db, id).await?.is_empty(),
            Row::Referral => county::store::get(db, id).await?.is_some(),
            Row::Task => {
                let mut tx = db.begin().await?;
                let row = county::task_store::get_task_in_tx(&mut tx, id).await;
                tx.rollback().await?;
                row?.is_some()
            }
            Row::Handover => !county::task_store::handovers(db, "forestry", Some(id), 10)
                .await?
                .is_empty(),
            Row::HeldRecord => !county::record::entries(db, id).await?.is_empty(),
            Row::Obligation => {
                let mut tx = db.begin().await?;
                let row = county::clocks::get_in_tx(&mut tx, id).await;
                tx.rollback().await?;
                row?.is_some()
            }
            Row::CountyExtensionRequest => {
                let mut tx = db.begin().await?;
                let row = county::clocks::extension_status(&mut tx, id).await;
                tx.rollback().await?;
                row?.is_some()
            }
            Row::OfficerCertificate { officer } => {
                let officer = if after { officer } else { OFFICER };
                let mut tx = db.begin().await?;
                let row = liandong_registry::cert_in_tx(&mut tx, id, officer).await;
                tx.rollback().await?;
                row?.is_some()
            }
            Row::DecisionReview => {
                let mut tx = db.begin().await?;
                let row = liandong_decision::review_by_id(&mut tx, id).await;
                tx.rollback().await?;
                row?.is_some()
            }
            Row::DecisionInForce => {
                let on = liandong_decision::On {
                    subject: Subject::Case,
                    id,
                };
                let mut tx = db.begin().await?;
                let row = liandong_decision::in_force(&mut tx, on).await;
                tx.rollback().await?;
                row?.is_some()
            }
        };
        assert!(found, "the {} row {id} is read back", self.table());
        Ok(())
    }
}

/// An open in-scope case of the brigade keyed `id`.
async fn insert_case(db: &Db, id: &str) {
    exec(
        db,
        "INSERT INTO cases (case_id, town, source, matters, village, location, description, \
         found_at, reported_by, evidence_refs, complex, path, rule, deciding, departments, \
         department, computed_path, override_reason, status, catalogue_version, created_at, \
         updated_at) VALUES ($1, '330782101', 'patrol', '[\"CXGH-001\"]', '某村', '村口', \
         '未经许可建房', $2, 'li.si', '[]', FALSE, 'in_scope', 1, '[\"CXGH-001\"]', '[]', NULL, \
         'in_scope', NULL, 'open', '2025.1', $2, $2)",
        &[Arg::Text(id.to_owned()), Arg::Time(at())],
    )
    .await
}

/// A case file handed over to a department, received, keyed `id`.
async fn insert_handover(db: &Db, id: &str) {
    exec(
        db,
        "INSERT INTO handovers (handover_id, case_id, town, department, reason, record, \
         evidence_refs, received_at, record_head, record_length, status, refusal_reasons) VALUES \
         ($1, $1, '330782101', 'forestry', '移交', $3, '[]', $2, '', 0, 'received', '[]')",
        &[
            Arg::Text(id.to_owned()),
            Arg::Time(at()),
            Arg::Bytes(a_message()),
        ],
    )
    .await
}

/// A department's open clock keyed `id`.
async fn insert_obligation(db: &Db, id: &str) {
    exec(
        db,
        "INSERT INTO obligations (obligation_id, town, kind, case_id, referral_id, department, \
         started_at, deadline, original_deadline, second_threshold, escalate_after, limit_text, \
         provisional, level, next_check_at, met_at, closed_by, extended_days, pending_extension, \
         created_at) VALUES ($1, '330782101', 'sign_for', 'c', 'r', 'forestry', $2, $2, $2, $2, \
         0, '', FALSE, 0, NULL, NULL, NULL, 0, NULL, $2)",
        &[Arg::Text(id.to_owned()), Arg::Time(at())],
    )
    .await
}

/// A protobuf message that reads (the empty encoding is every message's default).
fn a_message() -> Vec<u8> {
    Vec::new()
}

/// A pending review keyed `id`, and with `round` its first round.
async fn insert_review(db: &Db, id: &str, round: bool) {
    use liandong_review::store::{ReviewRow, RoundRow};
    let review = ReviewRow {
        review_id: id.into(),
        town: TOWN.into(),
        department: String::new(),
        case_id: format!("{TOWN}-case"),
        decided_in_name_of: "镇人民政府".into(),
        status: ReviewStatus::Pending,
        round: 1,
        requested_at: at(),
        due_at: at(),
        due_last_day: "2025-03-13".into(),
        extended: false,
        extension_reason: String::new(),
        extended_at: None,
        updated_at: at(),
        reviewing_department: String::new(),
    };
    let mut tx = db.begin().await.unwrap();
    liandong_review::store::upsert_review(&mut tx, &review)
        .await
        .unwrap();
    if round {
        let round = RoundRow {
            review_id: id.into(),
            round: 1,
            materials: Proto(ev::ReviewRequested {
                review_id: id.into(),
                round: 1,
                ..Default::default()
            }),
            requested_at: at(),
            due_at: at(),
            answers: Json(vec![]),
            decision: Nullable(None),
            status: ReviewStatus::Pending,
            note: String::new(),
            decided_by: String::new(),
            decided_at: None,
        };
        liandong_review::store::upsert_round(&mut tx, &round)
            .await
            .unwrap();
    }
    tx.commit().await.unwrap();
}

/// A value bound to a statement of the test's own.
enum Arg {
    Text(String),
    Bytes(Vec<u8>),
    Int(i64),
    Time(DateTime<Utc>),
}

/// Runs one statement of the test's own (a valid row, a corruption, a clean-up).
async fn exec(db: &Db, sql: &str, args: &[Arg]) {
    with_db!(db, |p| {
        let mut q = sqlx::query(sql);
        for a in args {
            q = match a {
                Arg::Text(s) => q.bind(s.clone()),
                Arg::Bytes(b) => q.bind(b.clone()),
                Arg::Int(n) => q.bind(*n),
                Arg::Time(t) => q.bind(*t),
            };
        }
        q.execute(p).await.unwrap_or_else(|e| panic!("{sql}: {e}"));
    });
}
