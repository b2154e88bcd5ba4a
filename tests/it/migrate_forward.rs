//! A database made by the last landed main before the reorganisation (commit d56aa9a), migrated
//! by this code: each service's database as d56aa9a's own binary left it after
//! `liandong up --demo` (`tests/fixtures/d56aa9a/`, dumped as text) is loaded into a fresh
//! database, opened with the service's migrations of today, and checked: the migrator accepts
//! the old history (its versions and checksums), the cases, referrals, tasks and handovers are
//! intact, every case's full-process record still verifies (signatures by the old keys), the
//! county's old reviews and decisions are in `decision_reviews` / `decisions_in_force`, and the
//! new services started on the migrated databases read a case and a referral through their APIs.

use std::path::PathBuf;

use liandong_bus::signing::KeyRegistry;
use liandong_proto::brigade::v1 as brigade;
use liandong_proto::county::v1 as county;
use liandong_record::RecordRow;
use liandong_store::{Db, Migrations, with_db};
use liandong_tests::hub::{As, DEPARTMENTS, TestHub};
use liandong_tests::{Backend, TestEnv, on_each_backend};
use sqlx::{ConnectOptions, Connection};

/// Each service's database and the migrations it takes today.
const SERVICES: [(&str, &[&Migrations]); 6] = [
    ("brigade", liandong_brigade::MIGRATIONS),
    ("county", liandong_county::MIGRATIONS),
    ("board", liandong_board::MIGRATIONS),
    ("review", liandong_review::MIGRATIONS),
    ("disclosure", liandong_disclosure::MIGRATIONS),
    ("readmodel", liandong_readmodel::MIGRATIONS),
];

fn fixtures(backend: Backend) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/d56aa9a")
        .join(match backend {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        })
}

/// Loads d56aa9a's dump of `service` into the environment's fresh database of that service,
/// on a connection of its own (the dumps set connection state: foreign keys off, an empty
/// search path), without migrating it.
async fn load(env: &TestEnv, service: &str) {
    let dump = std::fs::read_to_string(fixtures(env.backend()).join(format!("{service}.sql")))
        .expect("the fixture is there");
    match env.backend() {
        Backend::Sqlite => {
            std::fs::create_dir_all(&env.cfg.data_dir).expect("data dir");
            let mut conn = sqlx::sqlite::SqliteConnectOptions::new()
                .filename(env.cfg.data_dir.join(format!("{service}.sqlite")))
                .create_if_missing(true)
                .connect()
                .await
                .expect("a fresh SQLite file");
            sqlx::raw_sql(&dump)
                .execute(&mut conn)
                .await
                .unwrap_or_else(|e| panic!("loading d56aa9a's {service} on SQLite: {e}"));
            conn.close().await.expect("closed");
        }
        Backend::Postgres => {
            let url = env.cfg.database_url.as_deref().expect("a PostgreSQL env");
            // Db::open creates the service's database, empty.
            Db::open(Some(url), &env.cfg.data_dir, service, 1)
                .await
                .expect("a fresh PostgreSQL database")
                .close()
                .await;
            // psql's meta-commands (\restrict, \unrestrict) are not SQL.
            let sql: String = dump
                .lines()
                .filter(|l| !l.starts_with('\\'))
                .map(|l| format!("{l}\n"))
                .collect();
            let mut conn = sqlx::PgConnection::connect(&format!("{url}_{service}"))
                .await
                .expect("the service's database");
            sqlx::raw_sql(&sql)
                .execute(&mut conn)
                .await
                .unwrap_or_else(|e| panic!("loading d56aa9a's {service} on PostgreSQL: {e}"));
            conn.close().await.expect("closed");
        }
    }
}

/// Opens the loaded database of `service` without migrating it.
async fn open(env: &TestEnv, service: &str) -> Db {
    Db::open(
        env.cfg.database_url.as_deref(),
        &env.cfg.data_dir,
        service,
        2,
    )
    .await
    .expect("the service's database opens")
}

async fn texts(db: &Db, sql: &str) -> Vec<String> {
    with_db!(db, |p| sqlx::query_scalar::<_, String>(sql)
        .fetch_all(p)
        .await)
    .unwrap_or_else(|e| panic!("{sql}: {e}"))
}

async fn count(db: &Db, table: &str) -> i64 {
    let sql = format!("SELECT COUNT(*) FROM {table}");
    with_db!(db, |p| sqlx::query_scalar::<_, i64>(&sql)
        .fetch_one(p)
        .await)
    .unwrap_or_else(|e| panic!("{sql}: {e}"))
}

async fn pairs(db: &Db, sql: &str) -> Vec<(String, String)> {
    with_db!(db, |p| sqlx::query_as::<_, (String, String)>(sql)
        .fetch_all(p)
        .await)
    .unwrap_or_else(|e| panic!("{sql}: {e}"))
}

async fn versions(db: &Db) -> Vec<i64> {
    with_db!(db, |p| sqlx::query_scalar::<_, i64>(
        "SELECT version FROM _sqlx_migrations WHERE success ORDER BY version"
    )
    .fetch_all(p)
    .await)
    .expect("the applied migrations")
}

/// Key fields of the tables the migration must leave alone, as one text per row.
const KEPT: &[(&str, &str)] = &[
    (
        "brigade",
        "SELECT case_id || '|' || town || '|' || status || '|' || path FROM cases ORDER BY case_id",
    ),
    (
        "brigade",
        "SELECT case_id || '|' || CAST(seq AS TEXT) || '|' || kind || '|' || hash FROM case_record ORDER BY case_id, seq",
    ),
    (
        "brigade",
        "SELECT referral_id || '|' || case_id || '|' || department FROM referrals_sent ORDER BY referral_id",
    ),
    (
        "brigade",
        "SELECT handover_id || '|' || case_id FROM handovers_sent ORDER BY handover_id",
    ),
    (
        "county",
        "SELECT referral_id || '|' || case_id || '|' || department || '|' || status FROM referrals ORDER BY referral_id",
    ),
    (
        "county",
        "SELECT task_id || '|' || case_id || '|' || role || '|' || status || '|' || department FROM tasks ORDER BY task_id",
    ),
    (
        "county",
        "SELECT handover_id || '|' || case_id || '|' || department || '|' || status || '|' || record_head FROM handovers ORDER BY handover_id",
    ),
    (
        "county",
        "SELECT referral_id || '|' || kind FROM referral_history ORDER BY entry_id",
    ),
    (
        "board",
        "SELECT item_id || '|' || status FROM agenda_items ORDER BY item_id",
    ),
    (
        "review",
        "SELECT review_id || '|' || status FROM reviews ORDER BY review_id",
    ),
    (
        "disclosure",
        "SELECT disclosure_id FROM disclosures ORDER BY disclosure_id",
    ),
    ("readmodel", "SELECT case_id FROM rm_cases ORDER BY case_id"),
    (
        "readmodel",
        "SELECT event_id FROM rm_decisions ORDER BY event_id",
    ),
];

/// What d56aa9a's county kept of its decisions, read before migrating.
struct OldCounty {
    /// (task, review id, status) of `task_reviews`; (referral, review id, status) of
    /// `referral_reviews`.
    task_reviews: Vec<(String, String)>,
    referral_reviews: Vec<(String, String)>,
    /// (referral, event) of `referral_decisions`; (task, event) of `tasks.decision_event_id`.
    referral_decisions: Vec<(String, String)>,
    task_decisions: Vec<(String, String)>,
}

async fn old_county(db: &Db) -> OldCounty {
    OldCounty {
        task_reviews: pairs(
            db,
            "SELECT task_id, review_id || '|' || status || '|' || CAST(round AS TEXT) FROM task_reviews ORDER BY task_id",
        )
        .await,
        referral_reviews: pairs(
            db,
            "SELECT referral_id, review_id || '|' || status || '|' || CAST(round AS TEXT) FROM referral_reviews ORDER BY referral_id",
        )
        .await,
        referral_decisions: pairs(
            db,
            "SELECT d.referral_id, d.event_id FROM referral_decisions d \
             JOIN referrals r ON r.referral_id = d.referral_id \
             WHERE r.status <> 'revoked' ORDER BY d.referral_id",
        )
        .await,
        task_decisions: pairs(
            db,
            "SELECT task_id, decision_event_id FROM tasks \
             WHERE decision_event_id IS NOT NULL AND status <> 'revoked' ORDER BY task_id",
        )
        .await,
    }
}

async fn migrate_forward(backend: Backend) {
    let env = TestEnv::new(backend);
    let mut before = Vec::new();
    let mut old_versions = Vec::new();
    let mut county_before = None;
    let mut brigade_decisions_before = Vec::new();
    for (service, _) in SERVICES {
        load(&env, service).await;
        let db = open(&env, service).await;
        old_versions.push(versions(&db).await);
        for (_, sql) in KEPT.iter().filter(|(s, _)| *s == service) {
            before.push(texts(&db, sql).await);
        }
        if service == "county" {
            county_before = Some(old_county(&db).await);
        }
        if service == "brigade" {
            // The decision in force of each concluded case, as d56aa9a's record holds it.
            brigade_decisions_before = pairs(
                &db,
                "SELECT r.case_id, r.event_id FROM case_record r \
                 JOIN case_outcomes o ON o.case_id = r.case_id \
                 WHERE r.kind IN ('concluded', 'decision_amended') AND r.event_id IS NOT NULL \
                   AND r.seq = (SELECT MAX(x.seq) FROM case_record x WHERE x.case_id = r.case_id \
                     AND x.kind IN ('concluded', 'decision_amended', 'decision_revoked')) \
                 ORDER BY r.case_id",
            )
            .await;
        }
        db.close().await;
    }
    let county_before = county_before.expect("the county was loaded");
    // What the demo made, so that the checks below check something.
    assert!(
        old_versions
            .iter()
            .all(|v| !v.is_empty() && !v.contains(&300)),
        "d56aa9a's databases carry its history, without the decision model: {old_versions:?}"
    );
    assert!(
        !county_before.task_reviews.is_empty(),
        "the demo's joint case had its lead's major decision reviewed"
    );
    assert!(!county_before.referral_decisions.is_empty());
    assert!(!county_before.task_decisions.is_empty());
    assert!(!brigade_decisions_before.is_empty());

    // Migrated by today's code: the old history is accepted and carried forward.
    let mut after = Vec::new();
    let mut dbs = Vec::new();
    for (i, (service, migrations)) in SERVICES.into_iter().enumerate() {
        let db = open(&env, service).await;
        db.migrate(migrations).await.unwrap_or_else(|e| {
            panic!("today's migrations refuse d56aa9a's {service} database on {backend}: {e}")
        });
        // Migrating again changes nothing and is no error.
        db.migrate(migrations)
            .await
            .unwrap_or_else(|e| panic!("migrating {service} a second time: {e}"));
        let now = versions(&db).await;
        for v in &old_versions[i] {
            assert!(now.contains(v), "{service} lost migration {v}: {now:?}");
        }
        if matches!(service, "brigade" | "county") {
            assert!(
                now.contains(&300),
                "{service} has the decision model: {now:?}"
            );
        }
        for (_, sql) in KEPT.iter().filter(|(s, _)| *s == service) {
            after.push(texts(&db, sql).await);
        }
        dbs.push((service, db));
    }
    for (((service, sql), b), a) in KEPT.iter().zip(&before).zip(&after) {
        assert_eq!(b, a, "{service}: {sql} changed by the migration");
    }
    let counts = |table: &'static str| {
        KEPT.iter()
            .zip(&after)
            .find(|((_, sql), _)| sql.contains(&format!("FROM {table} ")))
            .map(|(_, rows)| rows.len())
            .expect("a kept table")
    };
    assert!(counts("cases") >= 8, "the demo's cases");
    assert!(counts("referrals") >= 5, "the demo's referrals");
    assert!(counts("tasks") >= 2, "the demo's joint tasks");
    assert!(counts("handovers") >= 5, "the demo's handovers");

    let db = |name: &str| {
        &dbs.iter()
            .find(|(s, _)| *s == name)
            .expect("a service's database")
            .1
    };

    // The county's reviews and decisions are in the one decision model, and the old tables gone.
    let county_db = db("county");
    let reviews = |subject: &str| {
        format!(
            "SELECT subject_id, review_id || '|' || status || '|' || CAST(round AS TEXT) \
             FROM decision_reviews WHERE subject = '{subject}' ORDER BY subject_id"
        )
    };
    let in_force = |subject: &str| {
        format!(
            "SELECT subject_id, event_id FROM decisions_in_force WHERE subject = '{subject}' \
             ORDER BY subject_id"
        )
    };
    assert_eq!(
        pairs(county_db, &reviews("task")).await,
        county_before.task_reviews
    );
    assert_eq!(
        pairs(county_db, &reviews("referral")).await,
        county_before.referral_reviews
    );
    assert_eq!(
        pairs(county_db, &in_force("referral")).await,
        county_before.referral_decisions
    );
    assert_eq!(
        pairs(county_db, &in_force("task")).await,
        county_before.task_decisions
    );
    // The decision kept in force is the one the referral and task carried.
    let same_outcome: i64 = with_db!(county_db, |p| sqlx::query_scalar(
        "SELECT COUNT(*) FROM decisions_in_force d \
         LEFT JOIN referrals r ON d.subject = 'referral' AND r.referral_id = d.subject_id \
         LEFT JOIN tasks t ON d.subject = 'task' AND t.task_id = d.subject_id \
         WHERE d.outcome = COALESCE(r.outcome, t.decision)"
    )
    .fetch_one(p)
    .await)
    .expect("decisions in force");
    assert_eq!(
        same_outcome,
        count(county_db, "decisions_in_force").await,
        "every decision in force carries its referral's or task's decision"
    );
    let brigade_db = db("brigade");
    for (service, gone) in [
        ("county", "referral_reviews"),
        ("county", "task_reviews"),
        ("county", "referral_decisions"),
        ("brigade", "case_reviews"),
    ] {
        let sql = format!("SELECT COUNT(*) FROM {gone}");
        let r = with_db!(db(service), |p| sqlx::query_scalar::<_, i64>(&sql)
            .fetch_one(p)
            .await);
        assert!(r.is_err(), "{gone} is gone from the {service}'s database");
    }
    assert_eq!(
        pairs(brigade_db, &in_force("case")).await,
        brigade_decisions_before
    );

    // Every case's full-process record still verifies, the signatures of others' events
    // against d56aa9a's public keys.
    let keys = KeyRegistry::load(&fixtures(backend).join("event-keys.toml"))
        .expect("d56aa9a's key registry");
    let case_ids = texts(brigade_db, "SELECT case_id FROM cases ORDER BY case_id").await;
    let mut signatures = 0;
    for case_id in &case_ids {
        let rows: Vec<RecordRow> = with_db!(brigade_db, |p| sqlx::query_as(
            "SELECT * FROM case_record WHERE case_id = $1 ORDER BY seq"
        )
        .bind(case_id)
        .fetch_all(p)
        .await)
        .expect("the record");
        let heads: Vec<_> = with_db!(brigade_db, |p| sqlx::query_as::<_, (String, i64, String)>(
            "SELECT agency, seq, head FROM record_heads WHERE case_id = $1 ORDER BY seq, agency"
        )
        .bind(case_id)
        .fetch_all(p)
        .await)
        .expect("the heads others hold")
        .into_iter()
        .map(|(agency, seq, head)| liandong_record::known_head(agency, seq, &head))
        .collect();
        let v = liandong_record::verify_rows(&rows, &heads, &keys);
        assert!(v.ok, "the record of {case_id} verifies: {:?}", v.first_bad);
        assert_eq!(v.length as usize, rows.len());
        signatures += v.signatures_checked;
    }
    assert!(
        signatures > 0,
        "entries brought by others' events were checked"
    );

    for (_, db) in &dbs {
        db.close().await;
    }
    drop(dbs);

    // Today's services start on the migrated databases and read them through their APIs.
    let keys_dir = env.cfg.event_keys_dir();
    std::fs::create_dir_all(&keys_dir).expect("keys dir");
    std::fs::copy(
        fixtures(backend).join("event-keys.toml"),
        keys_dir.join("registry.toml"),
    )
    .expect("d56aa9a's public keys kept in the registry");
    let hub = TestHub::start_with(env).await;
    let case_id = &brigade_decisions_before[0].0;
    let town: &'static str = if case_id.starts_with("330782102") {
        "330782102"
    } else {
        "330782101"
    };
    let got = hub
        .brigade
        .clone()
        .get_case(As::brigade_officer(town).req(brigade::GetCaseRequest {
            case_id: case_id.clone(),
        }))
        .await
        .expect("the migrated case is readable")
        .into_inner();
    let case = got.case.expect("the case");
    assert_eq!(&case.case_id, case_id);
    assert_eq!(case.status, "concluded");
    let v = hub
        .brigade
        .clone()
        .verify_record(As::brigade_officer(town).req(brigade::VerifyRecordRequest {
            case_id: case_id.clone(),
        }))
        .await
        .expect("the record can be verified")
        .into_inner();
    assert!(v.ok, "the migrated record verifies through the API: {v:?}");
    let (referral_id, _) = &county_before.referral_decisions[0];
    let department = DEPARTMENTS
        .into_iter()
        .find(|d| {
            after.iter().flatten().any(|row| {
                row.starts_with(&format!("{referral_id}|")) && row.contains(&format!("|{d}|"))
            })
        })
        .expect("the referral's department is one of the catalogue's");
    let r = hub
        .county
        .clone()
        .get_referral(As::dispatcher(department).req(county::GetReferralRequest {
            referral_id: referral_id.clone(),
        }))
        .await
        .expect("the migrated referral is readable")
        .into_inner()
        .referral
        .expect("the referral");
    assert_eq!(&r.referral_id, referral_id);
    assert_eq!(r.status, "concluded");
    hub.stop().await;
}

/// A database of the main between the decision model and the renumbering (a34bcb5..47f61dd)
/// ran the decision carry-overs as brigade 170 and county 240, the same SQL as today's 310 and
/// 320: today's code recognises them under their new versions instead of running them again
/// on the tables they dropped.
async fn renumbered_carry_overs_are_not_run_again(backend: Backend) {
    let env = TestEnv::new(backend);
    for (service, migrations, now, then) in [
        ("brigade", liandong_brigade::MIGRATIONS, 310_i64, 170_i64),
        ("county", liandong_county::MIGRATIONS, 320, 240),
    ] {
        load(&env, service).await;
        let db = open(&env, service).await;
        db.migrate(migrations).await.expect("migrated forward");
        // As the interim main recorded it.
        with_db!(&db, |p| sqlx::query(
            "UPDATE _sqlx_migrations SET version = $1 WHERE version = $2"
        )
        .bind(then)
        .bind(now)
        .execute(p)
        .await
        .map(|_| ()))
        .expect("renumbered back");
        db.migrate(migrations).await.unwrap_or_else(|e| {
            panic!("today's migrations refuse the interim {service} database on {backend}: {e}")
        });
        let v = versions(&db).await;
        assert!(v.contains(&now) && !v.contains(&then), "{service}: {v:?}");
        assert!(count(&db, "decisions_in_force").await > 0);
        db.close().await;
    }
    env.cleanup().await;
}

on_each_backend!(migrate_forward, renumbered_carry_overs_are_not_run_again);
