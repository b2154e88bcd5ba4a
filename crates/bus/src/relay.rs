//! The relay: publishes outbox rows to JetStream with the event id as `Nats-Msg-Id`, awaits
//! every ack, and re-sends events whose receipt has not come back in time.
//!
//! No network I/O happens inside a database transaction: a batch is claimed in one short
//! statement (`claimed_by`, `claimed_until`), published, and marked in one short transaction.
//! A relay that dies between the steps leaves a claim that lapses; the row is then published
//! again, which JetStream's `Nats-Msg-Id` and the receivers' inboxes make harmless.

use std::time::Duration;

use async_nats::jetstream::message::PublishMessage;
use chrono::{DateTime, Utc};
use futures::future::join_all;
use tokio_util::sync::CancellationToken;

use super::{Bus, Outbox};
use liandong_config::clock::SharedClock;
use liandong_store::{Backend, Db};
use liandong_store::{with_db, with_tx};

#[derive(sqlx::FromRow)]
struct Row {
    id: String,
    subject: String,
    event_type: String,
    payload: Vec<u8>,
    publish_count: i64,
    /// The emitting span's trace context, sent as the `traceparent` header.
    traceparent: Option<String>,
    created_at: DateTime<Utc>,
    published_at: Option<DateTime<Utc>>,
    /// The token of the claim this batch holds.
    claimed_by: String,
}

/// How long a relay's claim on rows lasts (`bus.relay_claim_ms`, a minute by default): far
/// longer than publishing a batch may take ([`publish_bound`]), so a row is published by one
/// relay at a time, and short enough that the rows of a relay that died are soon taken over.
fn claim_lease(relay_claim_ms: u64) -> chrono::Duration {
    chrono::Duration::milliseconds(relay_claim_ms.max(3_000) as i64)
}

/// How long a claimed batch may take to be sent and acknowledged before its rows are
/// released for the next round: a third of the claim's lease.
fn publish_bound(relay_claim_ms: u64) -> Duration {
    Duration::from_millis(relay_claim_ms.max(3_000) / 3)
}

/// How long after its `n`-th publish (from 1) an unanswered event is published again: the
/// re-send interval doubled for each earlier re-send, at most 64 times. A receiver that fell
/// behind then catches up instead of drowning in re-sends, each of which it must answer.
pub fn resend_delay(resend_after_ms: u64, n: i64) -> chrono::Duration {
    let doublings = (n.max(1) - 1).min(6) as u32;
    chrono::Duration::milliseconds((resend_after_ms.saturating_mul(1 << doublings)) as i64)
}

/// Publishes one service's outbox.
#[derive(Clone, Debug)]
pub struct Relay {
    db: Db,
    bus: Bus,
    outbox: Outbox,
    clock: SharedClock,
}

impl Relay {
    pub fn new(db: Db, bus: Bus, outbox: Outbox, clock: SharedClock) -> Self {
        Self {
            db,
            bus,
            outbox,
            clock,
        }
    }

    /// Runs until `stop` is cancelled, then flushes what is left once more.
    pub async fn run(self, stop: CancellationToken) {
        let wake = self.outbox.waker();
        let poll = Duration::from_millis(self.bus.cfg.relay_poll_ms);
        match self.release_stale_claims().await {
            Ok(0) => {}
            Ok(n) => tracing::info!(
                rows = n,
                "Released the outbox claims a previous process left; their rows are published again."
            ),
            Err(e) => {
                tracing::warn!(error = %e, "Could not release stale outbox claims; they lapse on their own.")
            }
        }
        loop {
            match self.publish_pending().await {
                Ok(n) if n as i64 >= self.bus.cfg.relay_batch => continue,
                Ok(_) => {}
                Err(e) => {
                    tracing::warn!(error = %e, "The relay could not publish; it will try again.")
                }
            }
            if let Err(e) = self.resend_unreceipted().await {
                tracing::warn!(error = %e, "The relay could not re-send unreceipted events; it will try again.");
            }
            if let Ok((unpublished, unreceipted)) = self.backlog().await {
                let m = liandong_telemetry::metrics::metrics();
                m.outbox_unpublished.set(unpublished);
                m.outbox_unreceipted.set(unreceipted);
            }
            if let Ok(awaited) = self.receipts_awaited().await {
                liandong_telemetry::metrics::metrics().set_receipts_awaited(&awaited);
            }
            tokio::select! {
                _ = stop.cancelled() => break,
                _ = wake.notified() => {}
                _ = tokio::time::sleep(poll) => {}
            }
        }
        if let Err(e) = self.publish_pending().await {
            tracing::warn!(error = %e, "The outbox could not be flushed at shutdown; rows stay for the next start.");
        }
    }

    /// Publishes one batch of unpublished rows, oldest first; returns how many.
    ///
    /// The rows are claimed first ([`Relay::claim`]), so replicas on PostgreSQL share the work
    /// without publishing a row twice at once; SQLite serves one process, with one relay.
    pub async fn publish_pending(&self) -> Result<usize, super::BusError> {
        let mut rows = self
            .claim("published_at IS NULL", "ORDER BY created_at, id")
            .await?;
        rows.sort_by(|a, b| (a.created_at, &a.id).cmp(&(b.created_at, &b.id)));
        self.publish_and_mark(rows).await
    }

    /// Publishes again, under the same `Nats-Msg-Id`, every event still without a receipt
    /// when its next attempt is due (`resend_after_ms` after the first publish, doubling with
    /// each re-send). The duplicate window is shorter than
    /// that, so the broker accepts the re-send; the receiver's inbox makes it harmless.
    pub async fn resend_unreceipted(&self) -> Result<usize, super::BusError> {
        let mut rows = self
            .claim(
                "wants_receipt AND receipt_at IS NULL AND published_at IS NOT NULL \
                 AND COALESCE(next_attempt_at, published_at) < $3",
                "ORDER BY published_at",
            )
            .await?;
        rows.sort_by(|a, b| (a.published_at, &a.id).cmp(&(b.published_at, &b.id)));
        if !rows.is_empty() {
            tracing::info!(
                count = rows.len(),
                "Re-sending events whose receipts have not arrived."
            );
        }
        self.publish_and_mark(rows).await
    }

    /// Claims up to `relay_batch` rows matching `due` (which may use `$3`, now) that no live
    /// claim holds, in one statement and no longer transaction: nothing is held while they are
    /// published. The claim lasts [`claim_lease`]; a relay that dies holding it leaves rows that
    /// another relay takes once it has lapsed (and on SQLite, the next start at once).
    async fn claim(&self, due: &str, order: &str) -> Result<Vec<Row>, super::BusError> {
        let now: DateTime<Utc> = self.clock.now();
        let token = uuid::Uuid::now_v7().to_string();
        // On PostgreSQL two relays choosing at once skip each other's rows; SQLite has one
        // writer at a time, so the statement is atomic there anyway.
        let lock = if self.db.backend() == Backend::Postgres {
            " FOR UPDATE SKIP LOCKED"
        } else {
            ""
        };
        let sql = format!(
            "UPDATE outbox SET claimed_by = $1, claimed_until = $2 WHERE id IN \
             (SELECT id FROM outbox WHERE {due} AND (claimed_until IS NULL OR claimed_until < $3) \
             {order} LIMIT $4{lock}) \
             RETURNING id, subject, event_type, payload, publish_count, traceparent, created_at, \
             published_at, claimed_by"
        );
        let rows: Vec<Row> = with_db!(&self.db, |p| sqlx::query_as(&sql)
            .bind(&token)
            .bind(now + claim_lease(self.bus.cfg.relay_claim_ms))
            .bind(now)
            .bind(self.bus.cfg.relay_batch)
            .fetch_all(p)
            .await)?;
        Ok(rows)
    }

    /// Releases every claim: on SQLite, where one process owns the file and runs one relay,
    /// a claim found at start was left by a process that died, and its rows need not wait
    /// for it to lapse.
    async fn release_stale_claims(&self) -> Result<u64, sqlx::Error> {
        if self.db.backend() != Backend::Sqlite {
            return Ok(0);
        }
        with_db!(&self.db, |p| sqlx::query(
            "UPDATE outbox SET claimed_by = NULL, claimed_until = NULL WHERE claimed_by IS NOT NULL"
        )
        .execute(p)
        .await
        .map(|r| r.rows_affected()))
    }

    /// Publishes claimed rows outside any transaction, then marks them in one short one.
    async fn publish_and_mark(&self, rows: Vec<Row>) -> Result<usize, super::BusError> {
        if rows.is_empty() {
            return Ok(0);
        }
        let bound = publish_bound(self.bus.cfg.relay_claim_ms);
        let acks = match tokio::time::timeout(bound, self.publish_rows(&rows)).await {
            Ok(acks) => acks?,
            Err(_) => rows
                .iter()
                .map(|_| Err(format!("not acknowledged within {} ms", bound.as_millis())))
                .collect(),
        };
        let now = self.clock.now();
        let mut tx = self.db.begin().await?;
        let mut published = 0;
        for (row, ack) in rows.iter().zip(acks) {
            match ack {
                Ok(()) => {
                    // A claim that lapsed meanwhile and was taken by another relay stays its.
                    with_tx!(&mut tx, |c| {
                        sqlx::query(
                            "UPDATE outbox SET published_at = $1, publish_count = publish_count + 1, last_error = NULL, \
                             next_attempt_at = $2, \
                             claimed_until = CASE WHEN claimed_by = $4 THEN NULL ELSE claimed_until END, \
                             claimed_by = CASE WHEN claimed_by = $4 THEN NULL ELSE claimed_by END \
                             WHERE id = $3",
                        )
                        .bind(now)
                        .bind(now + resend_delay(self.bus.cfg.resend_after_ms, row.publish_count + 1))
                        .bind(&row.id)
                        .bind(&row.claimed_by)
                        .execute(c)
                        .await
                        .map(|r| r.rows_affected())
                    })?;
                    published += 1;
                    liandong_telemetry::metrics::metrics()
                        .published
                        .get_or_create(&liandong_telemetry::metrics::EventType {
                            event_type: row.event_type.clone(),
                        })
                        .inc();
                }
                Err(e) => {
                    tracing::warn!(event_id = %row.id, error = %e, "A publish was not acknowledged; the row stays for the next round.");
                    with_tx!(&mut tx, |c| {
                        sqlx::query(
                        "UPDATE outbox SET last_error = $1, claimed_by = NULL, claimed_until = NULL \
                         WHERE id = $2 AND claimed_by = $3"
                    )
                    .bind(&e)
                    .bind(&row.id)
                    .bind(&row.claimed_by)
                    .execute(c)
                    .await
                    .map(|r| r.rows_affected())
                    })?;
                }
            }
        }
        tx.commit().await?;
        Ok(published)
    }

    /// Sends every row, then awaits every ack; answers each row's ack or why it failed.
    async fn publish_rows(&self, rows: &[Row]) -> Result<Vec<Result<(), String>>, super::BusError> {
        let mut pending = Vec::with_capacity(rows.len());
        // Sending all before awaiting any ack keeps a batch to about one round trip.
        for row in rows {
            // Signed as it leaves (crate::signing): every envelope, receipts too, carries the
            // service's signature, and a re-send the key in use when it goes out.
            let signed = self
                .bus
                .keyring
                .sign_encoded(&row.payload)
                .map_err(|e| super::BusError::Keys(format!("event {}: {e}", row.id)))?;
            let mut msg = PublishMessage::build()
                .payload(signed.into())
                .message_id(&row.id);
            // Trace context rides in a header, outside the (signed) envelope.
            if let Some(tp) = &row.traceparent {
                msg = msg.header(liandong_telemetry::TRACEPARENT, tp.as_str());
            }
            let fut = self.bus.js.send_publish(row.subject.clone(), msg).await;
            pending.push(fut);
        }
        Ok(join_all(pending.into_iter().map(|p| async move {
            match p {
                Ok(f) => f.await.map(drop).map_err(|e| e.to_string()),
                Err(e) => Err(e.to_string()),
            }
        }))
        .await)
    }

    /// How many published events each receiver has yet to answer.
    pub async fn receipts_awaited(&self) -> Result<Vec<(String, i64)>, sqlx::Error> {
        with_db!(&self.db, |p| sqlx::query_as(
            "SELECT r.receiver, COUNT(*) FROM outbox_receiver r JOIN outbox o ON o.id = r.event_id \
             WHERE r.receipt_at IS NULL AND o.published_at IS NOT NULL GROUP BY r.receiver"
        )
        .fetch_all(p)
        .await)
    }

    /// How many rows wait to be published, and how many wait for a receipt.
    pub async fn backlog(&self) -> Result<(i64, i64), sqlx::Error> {
        with_db!(&self.db, |p| {
            let unpublished: i64 =
                sqlx::query_scalar("SELECT COUNT(*) FROM outbox WHERE published_at IS NULL")
                    .fetch_one(p)
                    .await?;
            let unreceipted: i64 = sqlx::query_scalar(
                "SELECT COUNT(*) FROM outbox WHERE wants_receipt AND receipt_at IS NULL",
            )
            .fetch_one(p)
            .await?;
            Ok((unpublished, unreceipted))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::resend_delay;

    #[test]
    fn re_sends_back_off_by_doubling_up_to_sixty_four_times() {
        let ms = |n| resend_delay(1_000, n).num_milliseconds();
        assert_eq!(
            [ms(1), ms(2), ms(3), ms(7), ms(8), ms(50)],
            [1_000, 2_000, 4_000, 64_000, 64_000, 64_000]
        );
    }
}
