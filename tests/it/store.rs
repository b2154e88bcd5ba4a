//! The store and the transactional outbox on PostgreSQL and SQLite alike.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, TimeZone, Utc};
use liandong_bus::{NewEvent, Outbox, Source, Subjects};
use liandong_config::clock::micros;
use liandong_proto::events::v1::{Envelope, ReferralDispatched};
use liandong_proto::time::from_ts;
use liandong_store::with_db;
use liandong_store::{Db, Tx};
use liandong_tests::{Backend, TestEnv, on_each_backend};
use liandong_topology::AnyEvent;
use prost::Message;

on_each_backend!(
    the_outbox_numbers_each_aggregate_from_one,
    a_rolled_back_transaction_leaves_no_event_and_no_gap,
    timestamps_round_trip_to_the_microsecond,
    a_begin_cancelled_at_any_point_leaves_every_connection_usable,
);

const TOWN: &str = "330782101";

/// One outbox row as stored.
#[derive(Debug, sqlx::FromRow)]
struct OutboxRow {
    id: String,
    subject: String,
    payload: Vec<u8>,
    created_at: DateTime<Utc>,
    published_at: Option<DateTime<Utc>>,
    publish_count: i64,
}

async fn outbox_rows(db: &Db) -> Vec<OutboxRow> {
    let sql = "SELECT id, subject, payload, created_at, published_at, publish_count FROM outbox ORDER BY id";
    let rows: Result<Vec<OutboxRow>, sqlx::Error> =
        with_db!(db, |p| sqlx::query_as(sql).fetch_all(p).await);
    rows.expect("outbox rows")
}

async fn open(backend: Backend) -> (TestEnv, Db, Outbox) {
    let env = TestEnv::new(backend);
    let db = env
        .open_db("brigade", liandong_brigade::MIGRATIONS)
        .await
        .expect("the brigade database opens and migrates");
    let outbox = Outbox::new(
        Source::Brigade,
        Subjects::new(&env.cfg.subject_root),
        "test-catalogue",
    );
    (env, db, outbox)
}

async fn emit(outbox: &Outbox, tx: &mut Tx, now: DateTime<Utc>, aggregate: &str) -> Envelope {
    let ev = NewEvent {
        town: TOWN,
        department: Some("forestry"),
        aggregate_id: aggregate,
        ..NewEvent::default()
    };
    let payload = ReferralDispatched {
        referral_id: aggregate.into(),
        department: "forestry".into(),
        ..ReferralDispatched::default()
    };
    outbox
        .emit(tx, now, ev, AnyEvent::BrigadeReferralDispatched(payload))
        .await
        .expect("the event is written")
}

async fn finish(env: TestEnv, db: Db) {
    db.close().await;
    env.cleanup().await;
}

async fn the_outbox_numbers_each_aggregate_from_one(backend: Backend) {
    let (env, db, outbox) = open(backend).await;
    let now = micros(Utc::now());

    let mut tx = db.begin().await.unwrap();
    let mut emitted = Vec::new();
    for aggregate in ["A", "A", "A", "B"] {
        emitted.push(emit(&outbox, &mut tx, now, aggregate).await);
    }
    tx.commit().await.unwrap();

    assert!(db.ping().await, "the database answers a ping");
    let rows = outbox_rows(&db).await;
    assert_eq!(rows.len(), 4, "one outbox row per event");
    let mut seqs: BTreeMap<String, Vec<u64>> = BTreeMap::new();
    for row in &rows {
        let env_in_row =
            Envelope::decode(row.payload.as_slice()).expect("the payload is an envelope");
        assert_eq!(row.id, env_in_row.event_id, "the row's id is the event id");
        let id = uuid::Uuid::parse_str(&row.id).expect("the id is a UUID");
        assert_eq!(
            id.get_version(),
            Some(uuid::Version::SortRand),
            "the id is a UUIDv7"
        );
        assert_eq!(
            row.published_at, None,
            "nothing is published before the relay runs"
        );
        assert_eq!(row.publish_count, 0);
        assert_eq!(
            row.subject,
            format!(
                "{}.v1.brigade.referral_dispatched.{TOWN}.forestry",
                env.cfg.subject_root
            )
        );
        let returned = emitted
            .iter()
            .find(|e| e.event_id == row.id)
            .expect("every row is an event emit returned");
        assert_eq!(
            &env_in_row, returned,
            "the stored envelope is the one emit returned"
        );
        seqs.entry(env_in_row.aggregate_id.clone())
            .or_default()
            .push(env_in_row.aggregate_seq);
    }
    for s in seqs.values_mut() {
        s.sort_unstable();
    }
    println!("[{backend}] emitted A, A, A, B in one transaction; found sequences {seqs:?}");
    assert_eq!(seqs["A"], vec![1, 2, 3]);
    assert_eq!(seqs["B"], vec![1]);
    finish(env, db).await;
}

async fn a_rolled_back_transaction_leaves_no_event_and_no_gap(backend: Backend) {
    let (env, db, outbox) = open(backend).await;
    let now = micros(Utc::now());
    let mut tx = db.begin().await.unwrap();
    let first = emit(&outbox, &mut tx, now, "A").await;
    tx.commit().await.unwrap();

    let mut tx = db.begin().await.unwrap();
    let rolled_back = emit(&outbox, &mut tx, now, "A").await;
    tx.rollback().await.unwrap();

    let after_rollback = outbox_rows(&db).await;
    let mut tx = db.begin().await.unwrap();
    let next = emit(&outbox, &mut tx, now, "A").await;
    tx.commit().await.unwrap();

    println!(
        "[{backend}] committed seq {}, rolled back seq {}, then committed seq {}; {} row(s) after the rollback",
        first.aggregate_seq,
        rolled_back.aggregate_seq,
        next.aggregate_seq,
        after_rollback.len()
    );
    assert_eq!(after_rollback.len(), 1, "the rolled-back event left no row");
    assert!(after_rollback.iter().all(|r| r.id != rolled_back.event_id));
    assert_eq!(first.aggregate_seq, 1);
    assert_eq!(
        next.aggregate_seq, 2,
        "the rollback did not consume a number"
    );
    assert_eq!(outbox_rows(&db).await.len(), 2);
    finish(env, db).await;
}

async fn timestamps_round_trip_to_the_microsecond(backend: Backend) {
    let (env, db, outbox) = open(backend).await;
    let raw =
        Utc.with_ymd_and_hms(2024, 3, 5, 6, 7, 8).unwrap() + Duration::nanoseconds(123_456_789);
    let now = micros(raw);
    assert_eq!(
        now.timestamp_subsec_nanos(),
        123_456_000,
        "micros truncates"
    );

    let mut tx = db.begin().await.unwrap();
    let sent = emit(&outbox, &mut tx, now, "A").await;
    tx.commit().await.unwrap();

    let rows = outbox_rows(&db).await;
    let row = rows
        .iter()
        .find(|r| r.id == sent.event_id)
        .expect("the row");
    let stored = Envelope::decode(row.payload.as_slice()).unwrap();
    println!(
        "[{backend}] wrote {now:?}; read back created_at {:?}, occurred_at {:?}",
        row.created_at,
        from_ts(stored.occurred_at.as_ref())
    );
    assert_eq!(row.created_at, now, "the column keeps every microsecond");
    assert_eq!(
        from_ts(stored.occurred_at.as_ref()),
        Some(now),
        "so does the envelope"
    );
    finish(env, db).await;
}

/// A caller that goes away while its transaction begins (a gRPC call whose client
/// disconnected) must not leave a pooled connection stuck inside a transaction: the gateway
/// killed mid-load once did, and every later begin on that connection of the brigade failed.
/// Begins are cancelled after every delay from 0 to 3 ms in 20 µs steps, a few at once so
/// that some wait for the write lock; then each of many begins must succeed, whichever
/// connection the pool hands out, and commit a write.
async fn a_begin_cancelled_at_any_point_leaves_every_connection_usable(backend: Backend) {
    let (env, db, outbox) = open(backend).await;
    let mut cancelled = 0;
    for step in 0..150u64 {
        let delay = std::time::Duration::from_micros(step * 20);
        let attempts = (0..3).map(|_| {
            let db = db.clone();
            async move { tokio::time::timeout(delay, db.begin()).await.is_err() }
        });
        cancelled += futures::future::join_all(attempts)
            .await
            .into_iter()
            .filter(|c| *c)
            .count();
    }
    let now = micros(Utc::now());
    let mut failures = Vec::new();
    for n in 0..40 {
        match db.begin().await {
            Ok(mut tx) => {
                emit(&outbox, &mut tx, now, &format!("after-{n}")).await;
                if let Err(e) = tx.commit().await {
                    failures.push(format!("commit {n}: {e}"));
                }
            }
            Err(e) => failures.push(format!("begin {n}: {e}")),
        }
    }
    println!("[{backend}] {cancelled} begins cancelled; then 40 begins: {failures:?}");
    assert!(
        cancelled > 0,
        "no begin was cancelled: the test proves nothing"
    );
    assert!(failures.is_empty(), "after cancelled begins: {failures:?}");
    assert_eq!(
        outbox_rows(&db).await.len(),
        40,
        "every later write committed"
    );
    finish(env, db).await;
}
