//! Consumers: each event applied once, in one transaction with its inbox row, acknowledged only
//! after commit; receipts answered; poison messages moved to the dead-letter stream.

use std::future::Future;
use std::marker::PhantomData;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use async_nats::jetstream::{self, AckKind, consumer::pull};
use chrono::{DateTime, Utc};
use futures::StreamExt;
use liandong_proto::events::v1::{Envelope, Receipt};
use liandong_topology::{EventKind, Inbound};
use prost::Message;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use super::{Bus, Change, Outbox, decode_payload};
use liandong_config::clock::SharedClock;
use liandong_store::with_tx;
use liandong_store::{Db, Tx};

/// Messages a consumer holds at a time (see `Consumer::run`).
const PULL_BATCH: usize = 16;

/// How often a transient failure at a message's last delivery is tried again in place (after
/// 0.5, 1 and 2 s) before the message is dead-lettered.
const LAST_DELIVERY_RETRIES: u32 = 3;

/// Why a handler did not apply an event.
#[derive(Debug, thiserror::Error)]
pub enum HandlerError {
    /// Try again later (the database was unreachable, say); the message is redelivered.
    #[error("transient: {0}")]
    Retry(String),
    /// The event can never be applied; it goes to the dead-letter stream with this reason.
    #[error("rejected: {0}")]
    Reject(String),
    #[error("database: {0}")]
    Db(#[from] sqlx::Error),
}

impl From<super::BusError> for HandlerError {
    fn from(e: super::BusError) -> Self {
        match e {
            super::BusError::Decode(m) => HandlerError::Reject(m),
            super::BusError::Db(e) => HandlerError::Db(e),
            other => HandlerError::Retry(other.to_string()),
        }
    }
}

/// Applies the events one service takes from one source (`liandong_topology::inbound`), each
/// decoded as its declared payload, inside the consumer's transaction. `E` is an enum
/// with one variant per event the topology routes to this service: a handler matches it
/// without a wildcard arm (each `impl Handler` denies `clippy::wildcard_enum_match_arm`, and
/// clippy runs with `-D warnings`), so an event newly routed here does not compile until it is
/// handled.
pub trait Handler<E: Inbound>: Send + Sync + 'static {
    fn handle<'a>(
        &'a self,
        tx: &'a mut Tx,
        env: &'a Envelope,
        event: E,
        now: DateTime<Utc>,
    ) -> impl Future<Output = Result<(), HandlerError>> + Send + 'a;
}

/// What a consumer does with one envelope, by its type and address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    /// Not this consumer's (outside its filters, or an address it does not take): acked,
    /// nothing applied, nothing answered.
    Skip,
    /// Applied once; `ordered`: in its aggregate's sequence.
    Apply { ordered: bool },
}

/// The untyped side of a consumer: how it routes an envelope and applies it. Typed handlers
/// get it through [`Typed`]; receipts have their own.
pub trait Apply: Send + Sync + 'static {
    fn route(&self, env: &Envelope) -> Result<Route, HandlerError>;
    fn apply<'a>(
        &'a self,
        tx: &'a mut Tx,
        env: &'a Envelope,
        now: DateTime<Utc>,
    ) -> impl Future<Output = Result<(), HandlerError>> + Send + 'a;
}

/// A typed [`Handler`] as an [`Apply`]: routes by the topology's consumer declaration and
/// decodes each payload as declared, naming the event when it cannot.
#[derive(Debug)]
pub struct Typed<E, H> {
    handler: H,
    event: PhantomData<fn() -> E>,
}

impl<E, H> Typed<E, H> {
    pub fn new(handler: H) -> Self {
        Typed {
            handler,
            event: PhantomData,
        }
    }
}

impl<E, H: Clone> Clone for Typed<E, H> {
    fn clone(&self) -> Self {
        Typed::new(self.handler.clone())
    }
}

impl<E: Inbound, H: Handler<E>> Apply for Typed<E, H> {
    fn route(&self, env: &Envelope) -> Result<Route, HandlerError> {
        let kind = EventKind::from_event_type(&env.event_type).ok_or_else(|| {
            HandlerError::Reject(format!(
                "event {}: unknown event type {:?}",
                env.event_id, env.event_type
            ))
        })?;
        let department = Some(env.department.as_str());
        Ok(match E::CONSUMER.taken(kind, department) {
            Some(t) => Route::Apply { ordered: t.ordered },
            None => Route::Skip,
        })
    }

    async fn apply(
        &self,
        tx: &mut Tx,
        env: &Envelope,
        now: DateTime<Utc>,
    ) -> Result<(), HandlerError> {
        let kind = EventKind::from_event_type(&env.event_type).ok_or_else(|| {
            HandlerError::Reject(format!("unknown event type {:?}", env.event_type))
        })?;
        let event = E::decode(kind, &env.payload)
            .map_err(|e| {
                HandlerError::Reject(format!(
                    "payload of {} {} is not a {}: {e}",
                    env.event_type,
                    env.event_id,
                    kind.payload()
                ))
            })?
            .ok_or_else(|| {
                HandlerError::Reject(format!(
                    "{} {} is not an event this consumer takes",
                    env.event_type, env.event_id
                ))
            })?;
        self.handler.handle(tx, env, event, now).await
    }
}

/// Which durable consumer on which stream, filtered to which subjects.
#[derive(Debug, Clone)]
pub struct ConsumerSpec {
    pub durable: String,
    pub stream: String,
    pub filter_subjects: Vec<String>,
}

/// What happened to one delivered message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Applied {
    Done,
    Duplicate,
    /// An earlier event of the same aggregate has not been applied yet.
    Wait {
        expected: u64,
    },
}

/// Counters a consumer keeps; read by tests and, later, exported as metrics.
#[derive(Debug, Default)]
pub struct ConsumerStats {
    pub applied: AtomicU64,
    pub duplicates: AtomicU64,
    pub out_of_order: AtomicU64,
    pub dead_lettered: AtomicU64,
    /// Fault injection for tests: the next this-many acknowledgements are withheld after
    /// commit, as if they were lost on the way, so the broker redelivers.
    pub withhold_acks: AtomicU64,
}

/// A durable pull consumer bound to a service's database.
#[derive(Clone, Debug)]
pub struct Consumer {
    db: Db,
    bus: Bus,
    outbox: Outbox,
    clock: SharedClock,
    spec: ConsumerSpec,
    pub stats: Arc<ConsumerStats>,
}

impl Consumer {
    pub fn new(db: Db, bus: Bus, outbox: Outbox, clock: SharedClock, spec: ConsumerSpec) -> Self {
        Self {
            db,
            bus,
            outbox,
            clock,
            spec,
            stats: Arc::default(),
        }
    }

    /// Whether this service is one of the event's receivers, and so answers it with a
    /// receipt. A service that reads an event addressed to others (for its record, say) does
    /// not: its receipt would tell the sender that the real receiver has the event.
    fn answers(&self, env: &Envelope) -> bool {
        let me = self.outbox.name();
        env.receivers.iter().any(|r| r == me)
    }

    /// Binds the durable consumer: where the hub is provisioned, the one an operator made;
    /// otherwise creates it when missing or updates it to the configured settings (idempotent,
    /// and safe from several replicas, which then share its messages).
    pub async fn ensure(
        &self,
    ) -> Result<jetstream::consumer::Consumer<pull::Config>, super::BusError> {
        if self.bus.cfg.provisioned {
            let stream = self
                .bus
                .js
                .get_stream(&self.spec.stream)
                .await
                .map_err(|e| {
                    super::BusError::JetStream(format!("stream {}: {e}", self.spec.stream))
                })?;
            return stream.get_consumer(&self.spec.durable).await.map_err(|e| {
                super::BusError::JetStream(format!(
                    "consumer {} is not provisioned (run `liandong nats provision`): {e}",
                    self.spec.durable
                ))
            });
        }
        create_durable(&self.bus, &self.spec).await
    }

    /// Consumes until `stop` is cancelled. A message being applied is finished first; anything
    /// not acknowledged is redelivered to another replica or after restart.
    pub async fn run<A: Apply>(self, handler: A, stop: CancellationToken) {
        loop {
            let consumer = match self.ensure().await {
                Ok(c) => c,
                Err(e) => {
                    tracing::warn!(error = %e, durable = %self.spec.durable, "Cannot bind the consumer; retrying.");
                    tokio::select! {
                        _ = stop.cancelled() => return,
                        _ = tokio::time::sleep(Duration::from_secs(1)) => continue,
                    }
                }
            };
            // A few at a time: pulled messages wait unacknowledged in the client's buffer, and
            // one still queued after `ack_wait` is redelivered while its first copy waits: with
            // the default batch (200) a backlog turned into a storm of duplicates, receipts
            // and re-sends. Sixteen in hand are applied well within any ack wait.
            let pulled = consumer
                .stream()
                .max_messages_per_batch(PULL_BATCH)
                .heartbeat(Duration::from_secs(15))
                .messages()
                .await;
            let mut messages = match pulled {
                Ok(m) => m,
                Err(e) => {
                    tracing::warn!(error = %e, durable = %self.spec.durable, "Cannot pull messages; retrying.");
                    tokio::select! {
                        _ = stop.cancelled() => return,
                        _ = tokio::time::sleep(Duration::from_secs(1)) => continue,
                    }
                }
            };
            loop {
                let next = tokio::select! {
                    _ = stop.cancelled() => return,
                    m = messages.next() => m,
                };
                match next {
                    Some(Ok(msg)) => self.process(&handler, msg).await,
                    Some(Err(e)) => {
                        tracing::warn!(error = %e, durable = %self.spec.durable, "Pulling failed; binding again.");
                        break;
                    }
                    None => break,
                }
            }
            tokio::select! {
                _ = stop.cancelled() => return,
                _ = tokio::time::sleep(Duration::from_millis(200)) => {}
            }
        }
    }

    async fn process<A: Apply>(&self, handler: &A, msg: jetstream::Message) {
        let m = liandong_telemetry::metrics::metrics();
        let name = self.spec.durable.as_str();
        if let Ok(info) = msg.info() {
            m.consumer_pending
                .get_or_create(&liandong_telemetry::metrics::ConsumerName {
                    consumer: name.to_owned(),
                })
                .set(info.pending as i64);
        }
        // A message outside the filters (a server that ignored them) is not ours: applying it
        // would also answer a receipt on behalf of its real receiver.
        if !self
            .spec
            .filter_subjects
            .iter()
            .any(|f| subject_matches(f, &msg.subject))
        {
            m.consumed(name, "skipped");
            tracing::debug!(subject = %msg.subject, durable = %self.spec.durable, "Skipping a message outside the consumer's filters.");
            ack(&msg, AckKind::Ack).await;
            return;
        }
        let delivered = msg.info().map(|i| i.delivered).unwrap_or(1);
        let last_try = delivered >= self.bus.cfg.max_deliver;
        let env = match Envelope::decode(msg.payload.clone()) {
            Ok(env) => env,
            Err(e) => {
                return self
                    .dead_letter(&msg, None, &format!("cannot decode the envelope: {e}"))
                    .await;
            }
        };
        // Nothing is applied, nor answered, that its claimed sender did not sign: refused on the
        // first delivery, since no redelivery can mend a signature.
        if let Err(e) =
            self.bus
                .keyring
                .verify_delivery(self.bus.subjects.root(), &msg.subject, &env)
        {
            // A key this process has not seen yet may be a service's new key that the
            // registry file holds but this process has not re-read (services that start
            // together register their keys one after another): ask again a little later, and
            // refuse it only at the last delivery.
            if e.kind() == "unknown_key" && !last_try {
                m.consumed(name, "unknown_key_retry");
                tracing::warn!(error = %e, event_id = %env.event_id, "An event is signed with a key not yet known; it will be checked again.");
                ack(&msg, AckKind::Nak(Some(Duration::from_millis(1_500)))).await;
                return;
            }
            // A known source or "unknown": a forger does not choose the metric's labels.
            let claimed = super::Source::parse(&env.source).map_or("unknown", |s| s.as_str());
            m.bad_signature(name, claimed, e.kind());
            return self
                .dead_letter(&msg, Some(&env), &format!("refused: {e}"))
                .await;
        }
        let ordered = match handler.route(&env) {
            Ok(Route::Apply { ordered }) => ordered,
            Ok(Route::Skip) => {
                // An event type or address this consumer does not take (the county reads the
                // review's answers to towns too, since a filter cannot leave them out).
                m.consumed(name, "skipped");
                ack(&msg, AckKind::Ack).await;
                return;
            }
            Err(e) => {
                return self.dead_letter(&msg, Some(&env), &e.to_string()).await;
            }
        };
        let span = tracing::info_span!("event", otel.name = %format!("consume {}", env.event_type), otel.kind = "consumer", event_id = %env.event_id, event_type = %env.event_type, delivered);
        // The span continues the emitter's trace, named by the message's header.
        let traceparent = msg
            .headers
            .as_ref()
            .and_then(|h| h.get(liandong_telemetry::TRACEPARENT));
        liandong_telemetry::continue_trace(&span, traceparent.map(|v| v.as_str()));
        let mut result = self
            .apply(handler, &env, ordered)
            .instrument(span.clone())
            .await;
        // The server delivers it no more, and its count of deliveries includes the copies it
        // redelivered while an earlier one waited in the pull buffer past the ack wait: under
        // a backlog the last delivery may be the first real attempt. A transient failure is
        // tried again here, the message kept in progress, before it is given up on.
        let mut retries = 0;
        while last_try
            && retries < LAST_DELIVERY_RETRIES
            && matches!(result, Err(HandlerError::Retry(_) | HandlerError::Db(_)))
        {
            retries += 1;
            if let Err(e) = &result {
                m.consumed(name, "retry");
                let _g = span.enter();
                tracing::warn!(error = %e, retries, "Applying an event failed at its last delivery; trying again here.");
            }
            ack(&msg, AckKind::Progress).await;
            tokio::time::sleep(Duration::from_millis(500 << (retries - 1))).await;
            result = self
                .apply(handler, &env, ordered)
                .instrument(span.clone())
                .await;
        }
        if let Ok(a @ (Applied::Done | Applied::Duplicate)) = &result {
            m.event_consumed(&env.event_type, *a == Applied::Done);
        }
        let _g = span.enter();
        match result {
            Ok(Applied::Done) => {
                self.stats.applied.fetch_add(1, Ordering::Relaxed);
                m.consumed(name, "applied");
                let withhold = self
                    .stats
                    .withhold_acks
                    .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| n.checked_sub(1))
                    .is_ok();
                if withhold {
                    tracing::info!("Withholding this acknowledgement (fault injection).");
                } else {
                    ack(&msg, AckKind::Ack).await;
                }
            }
            Ok(Applied::Duplicate) => {
                self.stats.duplicates.fetch_add(1, Ordering::Relaxed);
                m.consumed(name, "duplicate");
                tracing::debug!("A duplicate was suppressed by the inbox.");
                ack(&msg, AckKind::Ack).await;
            }
            Ok(Applied::Wait { expected }) => {
                self.stats.out_of_order.fetch_add(1, Ordering::Relaxed);
                m.consumed(name, "out_of_order");
                if last_try && self.answers(&env) {
                    // Its sender holds it open until this service answers, and re-sends it
                    // after its predecessor (re-sends go out in publishing order): the
                    // broker lost the predecessor, not this one's sender. Dropping this copy
                    // is safe; a dead letter would be an alarm about nothing.
                    m.consumed(name, "left_to_resend");
                    tracing::info!(expected, aggregate = %env.aggregate_id, "An event still waits for its predecessor; its sender will re-send both.");
                    ack(&msg, AckKind::Term).await;
                } else if last_try {
                    let why = format!(
                        "event {} of {} never arrived before it",
                        expected, env.aggregate_id
                    );
                    self.dead_letter(&msg, Some(&env), &why).await;
                } else {
                    let delay = Duration::from_millis(self.bus.cfg.out_of_order_delay_ms);
                    ack(&msg, AckKind::Nak(Some(delay))).await;
                }
            }
            Err(HandlerError::Reject(why)) => self.dead_letter(&msg, Some(&env), &why).await,
            Err(e) => {
                if last_try {
                    self.dead_letter(&msg, Some(&env), &e.to_string()).await;
                } else {
                    m.consumed(name, "retry");
                    tracing::warn!(error = %e, "Applying an event failed; it will be redelivered.");
                    // Back off with the number of deliveries, up to ten seconds.
                    let delay = Duration::from_millis((200 * delivered as u64).min(10_000));
                    ack(&msg, AckKind::Nak(Some(delay))).await;
                }
            }
        }
    }

    /// Applies `env` once: the inbox row, the cursor, the handler's writes and the receipt
    /// commit together or not at all.
    async fn apply<A: Apply>(
        &self,
        handler: &A,
        env: &Envelope,
        ordered: bool,
    ) -> Result<Applied, HandlerError> {
        let now = self.clock.now();
        let mut tx = Change::begin(&self.db, &self.outbox).await?;
        let inserted = with_tx!(tx.tx(), |c| {
            sqlx::query(
            "INSERT INTO inbox (event_id, source, event_type, town, aggregate_id, aggregate_seq, received_at, duplicates) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, 0) ON CONFLICT (event_id) DO NOTHING"
        )
        .bind(&env.event_id)
        .bind(&env.source)
        .bind(&env.event_type)
        .bind(&env.town)
        .bind(&env.aggregate_id)
        .bind(env.aggregate_seq as i64)
        .bind(now)
        .execute(c)
        .await
        .map(|r| r.rows_affected())
        })?;
        if inserted == 0 {
            with_tx!(tx.tx(), |c| sqlx::query(
                "UPDATE inbox SET duplicates = duplicates + 1 WHERE event_id = $1"
            )
            .bind(&env.event_id)
            .execute(c)
            .await
            .map(|r| r.rows_affected()))?;
            // The sender may have lost our first receipt: answer again.
            if self.answers(env) {
                self.outbox.emit_receipt(&mut tx, now, env, true).await?;
            }
            tx.commit().await?;
            return Ok(Applied::Duplicate);
        }
        if ordered && env.aggregate_seq > 0 {
            let last: Option<i64> = with_tx!(tx.tx(), |c| sqlx::query_scalar(
                "SELECT last_seq FROM inbox_cursor WHERE source = $1 AND aggregate_id = $2"
            )
            .bind(&env.source)
            .bind(&env.aggregate_id)
            .fetch_optional(c)
            .await)?;
            let last = last.unwrap_or(0) as u64;
            if env.aggregate_seq > last + 1 {
                tx.rollback().await?;
                return Ok(Applied::Wait { expected: last + 1 });
            }
            with_tx!(tx.tx(), |c| sqlx::query(
                "INSERT INTO inbox_cursor (source, aggregate_id, last_seq) VALUES ($1, $2, $3) \
                 ON CONFLICT (source, aggregate_id) DO UPDATE SET last_seq = excluded.last_seq"
            )
            .bind(&env.source)
            .bind(&env.aggregate_id)
            .bind(env.aggregate_seq as i64)
            .execute(c)
            .await
            .map(|r| r.rows_affected()))?;
        }
        handler.apply(&mut tx, env, now).await?;
        if self.answers(env) {
            self.outbox.emit_receipt(&mut tx, now, env, false).await?;
        }
        tx.commit().await?;
        Ok(Applied::Done)
    }

    /// Moves a message the consumer gives up on to the dead-letter stream, with the error, and
    /// terminates it so the messages behind it keep flowing.
    async fn dead_letter(&self, msg: &jetstream::Message, env: Option<&Envelope>, why: &str) {
        self.stats.dead_lettered.fetch_add(1, Ordering::Relaxed);
        let m = liandong_telemetry::metrics::metrics();
        m.consumed(&self.spec.durable, "dead_letter");
        m.dead_letters
            .get_or_create(&liandong_telemetry::metrics::ConsumerName {
                consumer: self.spec.durable.clone(),
            })
            .inc();
        tracing::error!(
            durable = %self.spec.durable,
            subject = %msg.subject,
            event_id = env.map(|e| e.event_id.as_str()).unwrap_or(""),
            error = why,
            "A message was moved to the dead-letter stream."
        );
        let mut headers = async_nats::HeaderMap::new();
        headers.insert(
            "Liandong-Error",
            why.chars().take(1000).collect::<String>().as_str(),
        );
        headers.insert("Liandong-Original-Subject", msg.subject.as_str());
        headers.insert("Liandong-Consumer", self.spec.durable.as_str());
        let subject = self.bus.subjects.dlq(self.outbox.name(), &self.spec.stream);
        let published = match self
            .bus
            .js
            .publish_with_headers(subject, headers, msg.payload.clone())
            .await
        {
            Ok(ack) => ack.await.is_ok(),
            Err(_) => false,
        };
        if published {
            ack(msg, AckKind::Term).await;
        } else {
            // Without a dead letter stored, keep the message: it is redelivered later.
            ack(msg, AckKind::Nak(Some(Duration::from_secs(5)))).await;
        }
    }
}

/// Creates the durable consumer of `spec`, or updates an existing one to the configured
/// settings (ack wait, deliveries, filters).
pub async fn create_durable(
    bus: &Bus,
    spec: &ConsumerSpec,
) -> Result<jetstream::consumer::Consumer<pull::Config>, super::BusError> {
    let stream = bus
        .js
        .get_stream(&spec.stream)
        .await
        .map_err(|e| super::BusError::JetStream(format!("stream {}: {e}", spec.stream)))?;
    // One filter goes in `filter_subject`, which every server version honours; a NATS
    // server before 2.10 silently ignores `filter_subjects`, so there each filter gets a
    // consumer of its own (`Runtime::consume`).
    let (filter_subject, filter_subjects) = match spec.filter_subjects.as_slice() {
        [one] => (one.clone(), Vec::new()),
        many => (String::new(), many.to_vec()),
    };
    let config = pull::Config {
        durable_name: Some(spec.durable.clone()),
        filter_subject,
        filter_subjects,
        ack_policy: jetstream::consumer::AckPolicy::Explicit,
        ack_wait: Duration::from_millis(bus.cfg.ack_wait_ms),
        max_deliver: bus.cfg.max_deliver,
        ..Default::default()
    };
    match stream.create_consumer(config).await {
        Ok(c) => Ok(c),
        Err(e) => stream
            .get_consumer(&spec.durable)
            .await
            .map_err(|_| super::BusError::JetStream(format!("consumer {}: {e}", spec.durable))),
    }
}

/// NATS subject matching: `*` matches one token, `>` the rest (one or more tokens).
pub fn subject_matches(filter: &str, subject: &str) -> bool {
    let mut f = filter.split('.');
    let mut s = subject.split('.');
    loop {
        match (f.next(), s.next()) {
            (Some(">"), Some(_)) => return true,
            (Some("*"), Some(_)) => {}
            (Some(a), Some(b)) if a == b => {}
            (None, None) => return true,
            _ => return false,
        }
    }
}

async fn ack(msg: &jetstream::Message, kind: AckKind) {
    if let Err(e) = msg.ack_with(kind).await {
        // A lost ack means a redelivery, which the inbox absorbs.
        tracing::warn!(error = %e, "An acknowledgement could not be sent.");
    }
}

/// Marks a receiver's answer when its receipt comes back, and the sender's outbox row
/// received once every receiver of the event has answered.
#[derive(Debug, Clone, Copy, Default)]
pub struct ReceiptHandler;

impl Apply for ReceiptHandler {
    fn route(&self, _env: &Envelope) -> Result<Route, HandlerError> {
        // Receipts stand alone: each is applied once, in no order.
        Ok(Route::Apply { ordered: false })
    }

    async fn apply(
        &self,
        tx: &mut Tx,
        env: &Envelope,
        now: DateTime<Utc>,
    ) -> Result<(), HandlerError> {
        let receipt: Receipt = decode_payload(env)?;
        // The receipt's envelope names the service that sent it; that, not the payload, says
        // who answered.
        let marked = with_tx!(tx, |c| {
            sqlx::query(
            "UPDATE outbox_receiver SET receipt_at = $1 WHERE event_id = $2 AND receiver = $3 AND receipt_at IS NULL"
        )
        .bind(now)
        .bind(&receipt.received_event_id)
        .bind(&env.source)
        .execute(c)
        .await
        .map(|r| r.rows_affected())
        })?;
        if marked == 0 {
            // A repeated receipt, or one from a service that is not a receiver: nothing to do.
            return Ok(());
        }
        with_tx!(tx, |c| sqlx::query(
            "UPDATE outbox SET receipt_at = $1 WHERE id = $2 AND receipt_at IS NULL AND NOT EXISTS \
             (SELECT 1 FROM outbox_receiver r WHERE r.event_id = $2 AND r.receipt_at IS NULL)"
        )
        .bind(now)
        .bind(&receipt.received_event_id)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::subject_matches;
    use super::*;

    /// A handler no corrupt event may reach: it fails the test if one does.
    #[derive(Debug, Clone, Copy)]
    struct Unreachable;

    impl<E: Inbound> Handler<E> for Unreachable {
        async fn handle(
            &self,
            _tx: &mut Tx,
            env: &Envelope,
            event: E,
            _now: DateTime<Utc>,
        ) -> Result<(), HandlerError> {
            panic!(
                "a corrupt payload of {} reached its handler as {:?}",
                env.event_type,
                event.kind()
            )
        }
    }

    /// Feeds the consumer `E` a corrupt payload of every kind it takes (bytes with wire type 7,
    /// which protobuf does not have; and a field whose length runs past the end) and checks each
    /// is refused naming the event type, the event and the payload it is not; returns how many
    /// kinds it took.
    async fn each_corrupt_payload_is_refused<E: Inbound>(db: &Db) -> usize {
        let typed = Typed::<E, Unreachable>::new(Unreachable);
        let mut kinds = 0;
        for kind in EventKind::ALL {
            // An empty payload decodes (every field at its default), so it tells which kinds the
            // consumer takes at all.
            if E::decode(kind, &[])
                .expect("an empty payload decodes")
                .is_none()
            {
                continue;
            }
            kinds += 1;
            for (n, corrupt) in [b"\xff\xff\xff".to_vec(), vec![0x0a, 0x7f, b'x']]
                .into_iter()
                .enumerate()
            {
                let env = Envelope {
                    event_id: format!("corrupt-{n}-{}", kind.event_type()),
                    event_type: kind.event_type().into(),
                    town: "330782101".into(),
                    payload: corrupt,
                    ..Default::default()
                };
                let mut tx = db.begin().await.expect("a transaction");
                let got = typed.apply(&mut tx, &env, Utc::now()).await;
                drop(tx);
                let Err(HandlerError::Reject(why)) = got else {
                    panic!(
                        "{}: a corrupt payload for {} is not refused: {got:?}",
                        E::CONSUMER.durable,
                        kind.event_type()
                    );
                };
                for named in [kind.event_type(), env.event_id.as_str(), kind.payload()] {
                    assert!(why.contains(named), "{why:?} does not name {named}");
                }
            }
        }
        kinds
    }

    #[tokio::test]
    async fn every_consumer_refuses_a_corrupt_payload_of_every_event_it_takes_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(None, dir.path(), "corrupt", 1).await.unwrap();
        let mut checked = 0;
        let mut consumers = 0;
        macro_rules! check {
            ($t:ty) => {
                checked += each_corrupt_payload_is_refused::<$t>(&db).await;
                consumers += 1;
            };
        }
        liandong_topology::for_each_inbound!(check);
        // Every declared consumer, and every kind each of them takes.
        assert_eq!(consumers, liandong_topology::CONSUMERS.len());
        let declared: usize = liandong_topology::CONSUMERS
            .iter()
            .map(|c| {
                EventKind::ALL
                    .iter()
                    .filter(|k| c.takes.iter().any(|t| t.kind == **k))
                    .count()
            })
            .sum();
        assert_eq!(checked, declared);
        assert!(checked >= EventKind::ALL.len(), "{checked} kinds checked");
        db.close().await;
    }

    #[test]
    fn any_event_refuses_a_corrupt_payload_of_every_kind() {
        for kind in EventKind::ALL {
            let err = liandong_topology::AnyEvent::decode(kind, b"\xff\xff\xff")
                .expect_err("a corrupt payload is refused");
            assert!(!err.to_string().is_empty(), "{kind:?}");
            let empty = liandong_topology::AnyEvent::decode(kind, &[]).expect("empty decodes");
            assert_eq!(empty.kind(), kind);
        }
    }

    #[test]
    fn subjects_match_like_nats() {
        assert!(subject_matches("a.*.c", "a.b.c"));
        assert!(!subject_matches("a.*.c", "a.b.d"));
        assert!(subject_matches("a.>", "a.b.c"));
        assert!(!subject_matches("a.>", "a"));
        assert!(!subject_matches("a.b", "a.b.c"));
        assert!(subject_matches(
            "t.v1.brigade.*.*.forestry",
            "t.v1.brigade.referral_dispatched.330782101.forestry"
        ));
    }
}
