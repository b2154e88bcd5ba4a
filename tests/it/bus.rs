//! The bus through a real NATS JetStream: redeliveries, re-sends, lost receipts, out-of-order
//! arrivals and poison messages, each ending in exactly the database rows it should.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use async_nats::jetstream::message::PublishMessage;
use chrono::{DateTime, Utc};
use liandong_bus::{
    Apply, Bus, Consumer, ConsumerSpec, HandlerError, NewEvent, Outbox, ReceiptHandler, Relay,
    Route, Source,
};
use liandong_config::clock::{SharedClock, SystemClock};
use liandong_proto::events::v1::{Envelope, ReferralDispatched, ReferralReturned};
use liandong_proto::time::to_ts;
use liandong_store::{Db, Tx};
use liandong_store::{with_db, with_tx};
use liandong_tests::{Backend, TestEnv, eventually, on_each_backend, unique};
use liandong_topology::AnyEvent;
use prost::Message;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

on_each_backend!(
    an_event_redelivered_after_a_withheld_ack_has_one_effect,
    an_event_republished_under_a_new_msg_id_is_caught_by_the_inbox,
    a_lost_receipt_leads_to_a_resend_and_still_one_effect,
    events_that_arrive_out_of_order_are_applied_in_sequence,
    a_message_that_cannot_be_decoded_goes_to_the_dead_letter_stream,
    a_transient_failure_at_the_last_delivery_is_tried_again_before_it_is_dead_lettered,
    each_receiver_answers_and_an_observer_never_does,
);

const TOWN: &str = "330782101";
const WAIT: Duration = Duration::from_secs(20);

/// Records every event the receiver applies, numbered in the order applied.
struct RecordEffect;

impl Apply for RecordEffect {
    fn route(&self, _env: &Envelope) -> Result<Route, HandlerError> {
        Ok(Route::Apply { ordered: true })
    }

    async fn apply(
        &self,
        tx: &mut Tx,
        env: &Envelope,
        _now: DateTime<Utc>,
    ) -> Result<(), HandlerError> {
        with_tx!(tx, |c| sqlx::query(
            "INSERT INTO effects (event_id, aggregate_id, seq, n) \
             SELECT $1, $2, $3, COUNT(*) + 1 FROM effects"
        )
        .bind(&env.event_id)
        .bind(&env.aggregate_id)
        .bind(env.aggregate_seq as i64)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(())
    }
}

/// [`RecordEffect`], failing transiently (a database that is not there, say) the first
/// `failures` times it is asked to apply an event of each aggregate.
#[derive(Clone)]
struct Flaky {
    failures: std::collections::HashMap<&'static str, u32>,
    tried: Arc<std::sync::Mutex<std::collections::HashMap<String, u32>>>,
}

impl Apply for Flaky {
    fn route(&self, env: &Envelope) -> Result<Route, HandlerError> {
        RecordEffect.route(env)
    }

    async fn apply(
        &self,
        tx: &mut Tx,
        env: &Envelope,
        now: DateTime<Utc>,
    ) -> Result<(), HandlerError> {
        let tried = {
            let mut tried = self.tried.lock().unwrap();
            let n = tried.entry(env.aggregate_id.clone()).or_default();
            *n += 1;
            *n
        };
        let fails = self
            .failures
            .get(env.aggregate_id.as_str())
            .copied()
            .unwrap_or(0);
        if tried <= fails {
            return Err(HandlerError::Retry(format!(
                "attempt {tried} of {} fails",
                env.aggregate_id
            )));
        }
        RecordEffect.apply(tx, env, now).await
    }
}

/// One applied event, as the receiver's `effects` table has it.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
struct Effect {
    event_id: String,
    aggregate_id: String,
    seq: i64,
    n: i64,
}

/// A sending service ("brigade") and a receiving one ("county"), each with its own database,
/// bus connection, outbox and relay; the receiver consumes the sender's stream in order.
struct Link {
    env: TestEnv,
    bus: Bus,
    clock: SharedClock,
    sender_db: Db,
    sender_outbox: Outbox,
    sender_bus: Bus,
    receiver_db: Db,
    consumer: Consumer,
    stop: CancellationToken,
    tasks: JoinSet<()>,
}

impl Link {
    async fn start(backend: Backend) -> anyhow::Result<Link> {
        Link::start_with(TestEnv::new(backend), RecordEffect).await
    }

    /// A link in `env` whose receiver applies events with `handler`.
    async fn start_with<H: Apply>(env: TestEnv, handler: H) -> anyhow::Result<Link> {
        let clock: SharedClock = Arc::new(SystemClock);
        let stop = CancellationToken::new();
        let mut tasks = JoinSet::new();

        let sender_db = env.open_db("brigade", liandong_brigade::MIGRATIONS).await?;
        let sender_bus = Bus::connect(&env.cfg, "brigade").await?;
        let sender_outbox = Outbox::new(Source::Brigade, sender_bus.subjects.clone(), "test");
        let relay = Relay::new(
            sender_db.clone(),
            sender_bus.clone(),
            sender_outbox.clone(),
            clock.clone(),
        );
        tasks.spawn(relay.run(stop.clone()));

        let receiver_db = env.open_db("county", liandong_county::MIGRATIONS).await?;
        with_db!(&receiver_db, |p| sqlx::query(
            "CREATE TABLE effects (event_id TEXT NOT NULL, aggregate_id TEXT NOT NULL, \
             seq BIGINT NOT NULL, n BIGINT NOT NULL)"
        )
        .execute(p)
        .await
        .map(|r| r.rows_affected()))?;
        let bus = Bus::connect(&env.cfg, "county").await?;
        let receiver_outbox = Outbox::new(Source::County, bus.subjects.clone(), "test");
        let relay = Relay::new(
            receiver_db.clone(),
            bus.clone(),
            receiver_outbox.clone(),
            clock.clone(),
        );
        tasks.spawn(relay.run(stop.clone()));
        let spec = ConsumerSpec {
            durable: "county-from-brigade".into(),
            stream: bus.stream_name("brigade"),
            filter_subjects: vec![bus.subjects.source_wildcard(Source::Brigade)],
        };
        let consumer = Consumer::new(
            receiver_db.clone(),
            bus.clone(),
            receiver_outbox,
            clock.clone(),
            spec,
        );
        tasks.spawn(consumer.clone().run(handler, stop.clone()));

        Ok(Link {
            env,
            bus,
            clock,
            sender_db,
            sender_outbox,
            sender_bus,
            receiver_db,
            consumer,
            stop,
            tasks,
        })
    }

    /// Starts the sender's consumer of receipts addressed to it.
    fn start_receipts(&mut self) {
        let spec = ConsumerSpec {
            durable: "brigade-receipts".into(),
            stream: self.sender_bus.stream_name("receipts"),
            filter_subjects: vec![self.sender_bus.subjects.receipts_for(Source::Brigade)],
        };
        let consumer = Consumer::new(
            self.sender_db.clone(),
            self.sender_bus.clone(),
            self.sender_outbox.clone(),
            self.clock.clone(),
            spec,
        );
        self.tasks
            .spawn(consumer.run(ReceiptHandler, self.stop.clone()));
    }

    /// Emits one event through the sender's outbox, as a handler would: a referral to the
    /// forestry bureau, whose receiver (`bus::routes`) is the county service.
    async fn emit(&self, aggregate: &str) -> anyhow::Result<Envelope> {
        let mut tx = self.sender_db.begin().await?;
        let ev = NewEvent {
            town: TOWN,
            department: Some("forestry"),
            aggregate_id: aggregate,
            ..NewEvent::default()
        };
        let env = self
            .sender_outbox
            .emit(
                &mut tx,
                self.clock.now(),
                ev,
                AnyEvent::BrigadeReferralDispatched(payload(aggregate)),
            )
            .await?;
        tx.commit().await?;
        self.sender_outbox.wake();
        Ok(env)
    }

    /// Publishes raw bytes straight to JetStream, past the outbox.
    async fn publish_raw(
        &self,
        subject: String,
        bytes: Vec<u8>,
        msg_id: &str,
    ) -> anyhow::Result<bool> {
        let msg = PublishMessage::build()
            .payload(bytes.into())
            .message_id(msg_id);
        let ack = self.bus.js.send_publish(subject, msg).await?.await?;
        Ok(ack.duplicate)
    }

    /// `env` signed with the sender's key, as its relay would sign it.
    fn signed(&self, mut env: Envelope) -> Envelope {
        self.sender_bus
            .keyring
            .signer
            .as_ref()
            .expect("the brigade has a signing key")
            .sign(&mut env);
        env
    }

    async fn effects(&self) -> anyhow::Result<Vec<Effect>> {
        let sql = "SELECT event_id, aggregate_id, seq, n FROM effects ORDER BY n";
        Ok(with_db!(&self.receiver_db, |p| sqlx::query_as(sql)
            .fetch_all(p)
            .await)?)
    }

    /// The receiver's inbox count of duplicates of `event_id`, if it has the event.
    async fn inbox_duplicates(&self, event_id: &str) -> anyhow::Result<Option<i64>> {
        let sql = "SELECT duplicates FROM inbox WHERE event_id = $1";
        Ok(with_db!(&self.receiver_db, |p| sqlx::query_scalar(sql)
            .bind(event_id)
            .fetch_optional(p)
            .await)?)
    }

    async fn wait_for_effects(&self, count: usize) -> Vec<Effect> {
        eventually(&format!("{count} effect(s) are recorded"), WAIT, || async {
            let effects = self.effects().await?;
            Ok((effects.len() >= count).then_some(effects))
        })
        .await
    }

    /// Stops every task, waits for them, closes the databases and removes the environment;
    /// returns what the removal missed.
    async fn stop(mut self) -> Vec<String> {
        self.stop.cancel();
        while let Some(done) = self.tasks.join_next().await {
            done.expect("a bus task ended without panicking");
        }
        self.sender_db.close().await;
        self.receiver_db.close().await;
        self.env.cleanup().await;
        self.env
            .leftovers()
            .await
            .expect("the leftovers of the test can be listed")
    }
}

fn payload(aggregate: &str) -> ReferralDispatched {
    ReferralDispatched {
        referral_id: aggregate.into(),
        department: "forestry".into(),
        ..ReferralDispatched::default()
    }
}

/// An envelope built by hand, as the brigade's outbox would have built it (unsigned).
fn envelope(aggregate: &str, seq: u64) -> Envelope {
    Envelope {
        event_id: uuid::Uuid::now_v7().to_string(),
        event_type: "brigade.x".into(),
        schema_version: 1,
        town: TOWN.into(),
        aggregate_id: aggregate.into(),
        aggregate_seq: seq,
        occurred_at: Some(to_ts(Utc::now())),
        source: Source::Brigade.as_str().into(),
        payload: payload(aggregate).encode_to_vec(),
        ..Envelope::default()
    }
}

#[tokio::test]
async fn a_stopped_link_leaves_no_stream_and_no_database_behind() {
    let link = Link::start(Backend::Postgres)
        .await
        .expect("the link starts");
    let prefix = link.env.cfg.stream_prefix.clone();
    let before = link.env.leftovers().await.unwrap();
    let after = link.stop().await;
    println!(
        "created {} stream(s) and database(s) under {prefix}; {} left after cleanup",
        before.len(),
        after.len()
    );
    // One stream per source, receipts and dead letters; the link's two databases.
    assert_eq!(
        before.len(),
        Source::ALL.len() + 2 + 2,
        "every stream and two databases: {before:?}"
    );
    assert!(after.is_empty(), "left behind: {after:?}");
}

async fn an_event_redelivered_after_a_withheld_ack_has_one_effect(backend: Backend) {
    let link = Link::start(backend).await.expect("the link starts");
    link.consumer.stats.withhold_acks.store(1, Ordering::SeqCst);

    let sent = link.emit(&unique("case-")).await.unwrap();
    let stats = link.consumer.stats.clone();
    eventually(
        "the broker redelivers the unacknowledged event",
        WAIT,
        || async { (stats.duplicates.load(Ordering::SeqCst) >= 1).then_some(()) },
    )
    .await;

    let effects = link.effects().await.unwrap();
    let duplicates = link.inbox_duplicates(&sent.event_id).await.unwrap();
    println!(
        "[{backend}] withheld one ack of one event; found {} effect(s), inbox duplicates {duplicates:?}",
        effects.len()
    );
    assert_eq!(effects.len(), 1, "one effect: {effects:?}");
    assert_eq!(effects[0].event_id, sent.event_id);
    assert_eq!(duplicates, Some(1));
    link.stop().await;
}

async fn an_event_republished_under_a_new_msg_id_is_caught_by_the_inbox(backend: Backend) {
    let link = Link::start(backend).await.expect("the link starts");
    let sent = link.emit(&unique("case-")).await.unwrap();
    link.wait_for_effects(1).await;

    let sql = "SELECT subject, payload FROM outbox WHERE id = $1";
    let (subject, bytes): (String, Vec<u8>) = with_db!(&link.sender_db, |p| sqlx::query_as(sql)
        .bind(&sent.event_id)
        .fetch_one(p)
        .await)
    .unwrap();
    // Signed as the relay signs what it publishes: the copy is the sender's own.
    let bytes = link.sender_bus.keyring.sign_encoded(&bytes).unwrap();
    let new_msg_id = uuid::Uuid::now_v7().to_string();
    let broker_saw_duplicate = link.publish_raw(subject, bytes, &new_msg_id).await.unwrap();
    assert!(
        !broker_saw_duplicate,
        "under a new Nats-Msg-Id the broker stores the copy"
    );

    eventually("the inbox counts the copy as a duplicate", WAIT, || async {
        let d = link.inbox_duplicates(&sent.event_id).await?;
        Ok((d == Some(1)).then_some(()))
    })
    .await;
    let effects = link.effects().await.unwrap();
    println!(
        "[{backend}] republished one event under a new msg id; found {} effect(s), inbox duplicates 1",
        effects.len()
    );
    assert_eq!(effects.len(), 1, "still one effect: {effects:?}");
    link.stop().await;
}

async fn a_lost_receipt_leads_to_a_resend_and_still_one_effect(backend: Backend) {
    let mut link = Link::start(backend).await.expect("the link starts");
    let sent = link.emit(&unique("case-")).await.unwrap();

    eventually("the receiver publishes its receipt", WAIT, || async {
        let sql =
            "SELECT COUNT(*) FROM outbox WHERE event_type = 'receipt' AND published_at IS NOT NULL";
        let n: i64 = with_db!(&link.receiver_db, |p| sqlx::query_scalar(sql)
            .fetch_one(p)
            .await)?;
        Ok((n >= 1).then_some(()))
    })
    .await;
    let receipts = link.bus.stream_name("receipts");
    let purged = link
        .bus
        .js
        .get_stream(&receipts)
        .await
        .unwrap()
        .purge()
        .await
        .unwrap();
    link.start_receipts();

    let sql = "SELECT publish_count FROM outbox WHERE id = $1 AND receipt_at IS NOT NULL";
    let publish_count: i64 = eventually("the sender records a receipt", WAIT, || async {
        Ok(with_db!(&link.sender_db, |p| sqlx::query_scalar(sql)
            .bind(&sent.event_id)
            .fetch_optional(p)
            .await)?)
    })
    .await;
    let effects = link.effects().await.unwrap();
    let duplicates = link.inbox_duplicates(&sent.event_id).await.unwrap();
    println!(
        "[{backend}] purged {} receipt(s); the event was published {publish_count} time(s), \
         {} effect(s), receiver inbox duplicates {duplicates:?}",
        purged.purged,
        effects.len()
    );
    assert!(
        purged.purged >= 1,
        "the receipt was in the stream and is lost"
    );
    assert!(publish_count >= 2, "the sender re-sent the event");
    assert_eq!(effects.len(), 1, "one effect: {effects:?}");
    assert!(
        duplicates >= Some(1),
        "the receiver's inbox caught the re-send"
    );
    link.stop().await;
}

async fn events_that_arrive_out_of_order_are_applied_in_sequence(backend: Backend) {
    let link = Link::start(backend).await.expect("the link starts");
    let aggregate = unique("case-");
    let first = link.signed(envelope(&aggregate, 1));
    let second = link.signed(envelope(&aggregate, 2));
    let subject = link.bus.subjects.event(Source::Brigade, "x", TOWN, None);
    for e in [&second, &first] {
        let dup = link
            .publish_raw(subject.clone(), e.encode_to_vec(), &e.event_id)
            .await
            .unwrap();
        assert!(!dup);
    }

    let effects = link.wait_for_effects(2).await;
    let out_of_order = link.consumer.stats.out_of_order.load(Ordering::SeqCst);
    println!(
        "[{backend}] published seq 2 then seq 1; applied seqs {:?}, held back {out_of_order} time(s)",
        effects.iter().map(|e| e.seq).collect::<Vec<_>>()
    );
    let applied: Vec<(&str, i64, i64)> = effects
        .iter()
        .map(|e| (e.event_id.as_str(), e.seq, e.n))
        .collect();
    assert_eq!(
        applied,
        vec![
            (first.event_id.as_str(), 1, 1),
            (second.event_id.as_str(), 2, 2)
        ]
    );
    assert!(effects.iter().all(|e| e.aggregate_id == aggregate));
    assert!(out_of_order >= 1, "the early event was held back");
    link.stop().await;
}

async fn a_message_that_cannot_be_decoded_goes_to_the_dead_letter_stream(backend: Backend) {
    let link = Link::start(backend).await.expect("the link starts");
    // A varint tag whose wire type is 7, which protobuf does not have.
    let garbage = b"\xff\xff\xff garbage".to_vec();
    assert!(
        Envelope::decode(garbage.as_slice()).is_err(),
        "the garbage is undecodable"
    );
    let subject = link.bus.subjects.event(Source::Brigade, "x", TOWN, None);
    link.publish_raw(subject.clone(), garbage, &unique("garbage-"))
        .await
        .unwrap();
    let valid = link.signed(envelope(&unique("case-"), 1));
    link.publish_raw(subject, valid.encode_to_vec(), &valid.event_id)
        .await
        .unwrap();

    let effects = link.wait_for_effects(1).await;
    let dlq = link.bus.stream_name("dlq");
    let stream = link.bus.js.get_stream(&dlq).await.unwrap();
    let info = eventually("the dead letter is stored", WAIT, || async {
        let info = stream.get_info().await?;
        Ok((info.state.messages >= 1).then_some(info))
    })
    .await;
    let dead = stream
        .get_raw_message(info.state.first_sequence)
        .await
        .unwrap();
    let error = dead
        .headers
        .get("Liandong-Error")
        .map(|v| v.as_str().to_owned())
        .unwrap_or_default();
    let dead_lettered = link.consumer.stats.dead_lettered.load(Ordering::SeqCst);
    println!(
        "[{backend}] published garbage then a valid event; {} effect(s), {dead_lettered} dead-lettered, \
         {} in the DLQ with error {error:?}",
        effects.len(),
        info.state.messages
    );
    assert_eq!(effects.len(), 1);
    assert_eq!(effects[0].event_id, valid.event_id);
    assert_eq!(dead_lettered, 1);
    assert_eq!(info.state.messages, 1);
    assert!(
        error.contains("decode"),
        "the error names the decoding: {error:?}"
    );
    link.stop().await;
}

/// Applies nothing: a service whose effects are not what the test looks at.
#[derive(Clone)]
struct Nothing;

impl Apply for Nothing {
    fn route(&self, _env: &Envelope) -> Result<Route, HandlerError> {
        Ok(Route::Apply { ordered: false })
    }

    async fn apply(
        &self,
        _tx: &mut Tx,
        _env: &Envelope,
        _now: DateTime<Utc>,
    ) -> Result<(), HandlerError> {
        Ok(())
    }
}

/// One service with its own database, bus connection, outbox and relay.
struct Service {
    db: Db,
    bus: Bus,
    outbox: Outbox,
    clock: SharedClock,
    stop: CancellationToken,
}

impl Service {
    async fn start(
        env: &TestEnv,
        source: Source,
        migrations: &[&liandong_store::Migrations],
        clock: &SharedClock,
        stop: &CancellationToken,
        tasks: &mut JoinSet<()>,
    ) -> anyhow::Result<Service> {
        let db = env.open_db(source.as_str(), migrations).await?;
        let bus = Bus::connect(&env.cfg, source.as_str()).await?;
        let outbox = Outbox::new(source, bus.subjects.clone(), "test");
        let relay = Relay::new(db.clone(), bus.clone(), outbox.clone(), clock.clone());
        tasks.spawn(relay.run(stop.clone()));
        Ok(Service {
            db,
            bus,
            outbox,
            clock: clock.clone(),
            stop: stop.clone(),
        })
    }

    /// Starts a consumer of `stream` under `durable`, applying `handler`.
    fn consume<H: Apply + Clone>(
        &self,
        durable: &str,
        filter: String,
        stream: &str,
        handler: H,
        tasks: &mut JoinSet<()>,
    ) {
        let spec = ConsumerSpec {
            durable: durable.into(),
            stream: self.bus.stream_name(stream),
            filter_subjects: vec![filter],
        };
        let consumer = Consumer::new(
            self.db.clone(),
            self.bus.clone(),
            self.outbox.clone(),
            self.clock.clone(),
            spec,
        );
        tasks.spawn(consumer.run(handler, self.stop.clone()));
    }

    async fn count(&self, sql: &str, id: &str) -> anyhow::Result<i64> {
        Ok(with_db!(&self.db, |p| sqlx::query_scalar(sql)
            .bind(id)
            .fetch_one(p)
            .await)?)
    }
}

/// A return from a department goes to the brigade and to the board (`bus::routes`); the
/// review service, which reads it too, is no receiver. The sender's row stays open, and the
/// event is re-sent, until both receivers have answered; the observer never answers.
async fn each_receiver_answers_and_an_observer_never_does(backend: Backend) {
    let env = TestEnv::new(backend);
    let clock: SharedClock = Arc::new(SystemClock);
    let stop = CancellationToken::new();
    let mut tasks = JoinSet::new();
    let county = Service::start(
        &env,
        Source::County,
        liandong_county::MIGRATIONS,
        &clock,
        &stop,
        &mut tasks,
    )
    .await
    .unwrap();
    let brigade = Service::start(
        &env,
        Source::Brigade,
        liandong_brigade::MIGRATIONS,
        &clock,
        &stop,
        &mut tasks,
    )
    .await
    .unwrap();
    let board = Service::start(
        &env,
        Source::Board,
        liandong_board::MIGRATIONS,
        &clock,
        &stop,
        &mut tasks,
    )
    .await
    .unwrap();
    let review = Service::start(
        &env,
        Source::Review,
        liandong_review::MIGRATIONS,
        &clock,
        &stop,
        &mut tasks,
    )
    .await
    .unwrap();
    let county_events = county.bus.subjects.source_wildcard(Source::County);
    county.consume(
        "county-receipts",
        county.bus.subjects.receipts_for(Source::County),
        "receipts",
        ReceiptHandler,
        &mut tasks,
    );
    brigade.consume(
        "brigade-from-county",
        county_events.clone(),
        "county",
        Nothing,
        &mut tasks,
    );
    review.consume(
        "review-from-county",
        county_events.clone(),
        "county",
        Nothing,
        &mut tasks,
    );

    let aggregate = unique("referral-");
    let mut tx = county.db.begin().await.unwrap();
    let sent = county
        .outbox
        .emit(
            &mut tx,
            clock.now(),
            NewEvent {
                town: TOWN,
                department: Some("forestry"),
                aggregate_id: &aggregate,
                ..NewEvent::default()
            },
            AnyEvent::CountyReferralReturned(ReferralReturned {
                referral_id: aggregate.clone(),
                ..ReferralReturned::default()
            }),
        )
        .await
        .unwrap();
    tx.commit().await.unwrap();
    county.outbox.wake();
    assert_eq!(sent.receivers, ["brigade", "board"]);

    let answered =
        "SELECT COUNT(*) FROM outbox_receiver WHERE event_id = $1 AND receipt_at IS NOT NULL";
    eventually("the brigade's receipt is in", WAIT, || async {
        Ok((county.count(answered, &sent.event_id).await? == 1).then_some(()))
    })
    .await;
    // The review service has read the event by now or soon; it must never answer it.
    eventually("the review service has read the event", WAIT, || async {
        Ok((review
            .count(
                "SELECT COUNT(*) FROM inbox WHERE event_id = $1",
                &sent.event_id,
            )
            .await?
            == 1)
            .then_some(()))
    })
    .await;
    let closed = "SELECT COUNT(*) FROM outbox WHERE id = $1 AND receipt_at IS NOT NULL";
    assert_eq!(
        county.count(closed, &sent.event_id).await.unwrap(),
        0,
        "one receiver has not answered yet"
    );

    // Still open, so the relay re-sends it (the brigade's inbox absorbs the copy).
    eventually(
        "the event is re-sent while the board has not answered",
        WAIT,
        || async {
            let n = county
                .count(
                    "SELECT publish_count FROM outbox WHERE id = $1",
                    &sent.event_id,
                )
                .await?;
            Ok((n >= 2).then_some(()))
        },
    )
    .await;
    board.consume(
        "board-from-county",
        county_events,
        "county",
        Nothing,
        &mut tasks,
    );
    eventually(
        "the event is closed once the board has answered too",
        WAIT,
        || async { Ok((county.count(closed, &sent.event_id).await? == 1).then_some(())) },
    )
    .await;
    let published = county
        .count(
            "SELECT publish_count FROM outbox WHERE id = $1",
            &sent.event_id,
        )
        .await
        .unwrap();
    let review_receipts = review
        .count(
            "SELECT COUNT(*) FROM outbox WHERE event_type = 'receipt' AND id <> $1",
            &sent.event_id,
        )
        .await
        .unwrap();
    let by_receiver: Vec<(String, bool)> = with_db!(&county.db, |p| sqlx::query_as(
        "SELECT receiver, receipt_at IS NOT NULL FROM outbox_receiver WHERE event_id = $1 ORDER BY receiver"
    )
    .bind(&sent.event_id)
    .fetch_all(p)
    .await)
    .unwrap();
    println!(
        "[{backend}] one return to two receivers and one observer: published {published} time(s), \
         receipts by receiver {by_receiver:?}, receipts sent by the observer {review_receipts}"
    );
    assert_eq!(
        by_receiver,
        [("board".to_owned(), true), ("brigade".to_owned(), true)]
    );
    assert!(
        published >= 2,
        "the event was re-sent while the board had not answered"
    );
    assert_eq!(review_receipts, 0, "the observer never answers");

    stop.cancel();
    while let Some(done) = tasks.join_next().await {
        done.expect("a bus task ended without panicking");
    }
    for s in [county, brigade, board, review] {
        s.db.close().await;
    }
    env.cleanup().await;
}

/// The last delivery is not the last try: the server's count of deliveries includes copies it
/// redelivered while an earlier one still waited in the consumer's buffer, so a transient
/// failure there is tried again in place before the message is dead-lettered. One event fails
/// at each of its five deliveries and once more, then applies; one never stops failing and
/// goes to the dead-letter stream after its retries.
async fn a_transient_failure_at_the_last_delivery_is_tried_again_before_it_is_dead_lettered(
    backend: Backend,
) {
    let mut env = TestEnv::new(backend);
    // No receipt comes back (the link's sender reads none): no re-sent copy may muddle the
    // count of tries.
    env.cfg.bus.resend_after_ms = 600_000;
    let max_deliver = env.cfg.bus.max_deliver as u32;
    let flaky = Flaky {
        failures: [("late", max_deliver + 1), ("broken", u32::MAX)].into(),
        tried: Arc::default(),
    };
    let tried = flaky.tried.clone();
    let link = Link::start_with(env, flaky).await.expect("the link starts");
    let late = link.emit("late").await.unwrap();
    let broken = link.emit("broken").await.unwrap();
    let effects = link.wait_for_effects(1).await;
    let dead = eventually("the broken event is dead-lettered", WAIT, || async {
        let n = link.consumer.stats.dead_lettered.load(Ordering::SeqCst);
        (n >= 1).then_some(n)
    })
    .await;
    let tries = tried.lock().unwrap().clone();
    println!(
        "[{backend}] max_deliver {max_deliver}; tries {tries:?}; {} effect(s); {dead} dead-lettered",
        effects.len()
    );
    assert_eq!(effects.len(), 1, "{effects:?}");
    assert_eq!(effects[0].event_id, late.event_id, "the late event applied");
    assert_eq!(tries["late"], max_deliver + 2, "applied at its seventh try");
    assert_eq!(dead, 1, "only the broken event is dead-lettered");
    assert_eq!(
        tries["broken"],
        max_deliver + 3,
        "the broken event: every delivery and three retries in place"
    );
    assert_eq!(link.inbox_duplicates(&broken.event_id).await.unwrap(), None);
    let left = link.stop().await;
    assert!(left.is_empty(), "left behind: {left:?}");
}
