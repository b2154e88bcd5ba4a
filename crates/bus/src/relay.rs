//! The relay: publishes outbox rows to JetStream with the event id as `Nats-Msg-Id`, awaits
//! every ack, and re-sends events whose receipt has not come back in time.

use std::time::Duration;

use async_nats::jetstream::message::PublishMessage;
use chrono::{DateTime, Utc};
use futures::future::join_all;
use tokio_util::sync::CancellationToken;

use super::{Bus, Outbox};
use liandong_config::clock::SharedClock;
use liandong_store::{Backend, Db, Tx};
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
    /// On PostgreSQL the rows are locked `FOR UPDATE SKIP LOCKED`, so replicas share the work
    /// without publishing a row twice at once; SQLite serves one process, with one relay.
    pub async fn publish_pending(&self) -> Result<usize, super::BusError> {
        let limit = self.bus.cfg.relay_batch;
        let lock = if self.db.backend() == Backend::Postgres {
            " FOR UPDATE SKIP LOCKED"
        } else {
            ""
        };
        let sql = format!(
            "SELECT id, subject, event_type, payload, publish_count, traceparent FROM outbox WHERE published_at IS NULL ORDER BY created_at, id LIMIT $1{lock}"
        );
        let (tx, rows) = self.select(&sql, None, limit).await?;
        self.publish_and_mark(tx, rows).await
    }

    /// Publishes again, under the same `Nats-Msg-Id`, every event still without a receipt
    /// when its next attempt is due (`resend_after_ms` after the first publish, doubling with
    /// each re-send). The duplicate window is shorter than
    /// that, so the broker accepts the re-send; the receiver's inbox makes it harmless.
    pub async fn resend_unreceipted(&self) -> Result<usize, super::BusError> {
        let cutoff: DateTime<Utc> = self.clock.now();
        let lock = if self.db.backend() == Backend::Postgres {
            " FOR UPDATE SKIP LOCKED"
        } else {
            ""
        };
        let sql = format!(
            "SELECT id, subject, event_type, payload, publish_count, traceparent FROM outbox WHERE wants_receipt AND receipt_at IS NULL \
             AND published_at IS NOT NULL AND COALESCE(next_attempt_at, published_at) < $1 ORDER BY published_at LIMIT $2{lock}"
        );
        let (tx, rows) = self
            .select(&sql, Some(cutoff), self.bus.cfg.relay_batch)
            .await?;
        if !rows.is_empty() {
            tracing::info!(
                count = rows.len(),
                "Re-sending events whose receipts have not arrived."
            );
        }
        self.publish_and_mark(tx, rows).await
    }

    /// Selects rows to publish. On PostgreSQL inside a transaction that keeps them locked
    /// until they are marked; on SQLite outside one, since a read transaction that later writes
    /// fails when another writer committed in between, and one relay serves the file anyway.
    async fn select(
        &self,
        sql: &str,
        cutoff: Option<DateTime<Utc>>,
        limit: i64,
    ) -> Result<(Option<Tx>, Vec<Row>), super::BusError> {
        match &self.db {
            Db::Postgres(_) => {
                let mut tx = self.db.begin().await?;
                let rows = with_tx!(&mut tx, |c| {
                    let q = sqlx::query_as(sql);
                    let q = match cutoff {
                        Some(t) => q.bind(t),
                        None => q,
                    };
                    q.bind(limit).fetch_all(c).await
                })?;
                Ok((Some(tx), rows))
            }
            Db::Sqlite(_) => {
                let rows = with_db!(&self.db, |p| {
                    let q = sqlx::query_as(sql);
                    let q = match cutoff {
                        Some(t) => q.bind(t),
                        None => q,
                    };
                    q.bind(limit).fetch_all(p).await
                })?;
                Ok((None, rows))
            }
        }
    }

    async fn publish_and_mark(
        &self,
        tx: Option<Tx>,
        rows: Vec<Row>,
    ) -> Result<usize, super::BusError> {
        if rows.is_empty() {
            if let Some(tx) = tx {
                tx.rollback().await?;
            }
            return Ok(0);
        }
        let mut tx = match tx {
            Some(tx) => tx,
            None => self.db.begin().await?,
        };
        let n = self.publish_rows(&mut tx, &rows).await?;
        tx.commit().await?;
        Ok(n)
    }

    /// Sends every row, then awaits every ack; marks the acknowledged ones published.
    async fn publish_rows(&self, tx: &mut Tx, rows: &[Row]) -> Result<usize, super::BusError> {
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
        let acks = join_all(pending.into_iter().map(|p| async move {
            match p {
                Ok(f) => f.await.map_err(|e| e.to_string()),
                Err(e) => Err(e.to_string()),
            }
        }))
        .await;
        let now = self.clock.now();
        let mut published = 0;
        for (row, ack) in rows.iter().zip(acks) {
            match ack {
                Ok(_) => {
                    with_tx!(&mut *tx, |c| {
                        sqlx::query(
                        "UPDATE outbox SET published_at = $1, publish_count = publish_count + 1, last_error = NULL, \
                         next_attempt_at = $2 WHERE id = $3"
                    )
                    .bind(now)
                    .bind(now + resend_delay(self.bus.cfg.resend_after_ms, row.publish_count + 1))
                    .bind(&row.id)
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
                    with_tx!(&mut *tx, |c| sqlx::query(
                        "UPDATE outbox SET last_error = $1 WHERE id = $2"
                    )
                    .bind(&e)
                    .bind(&row.id)
                    .execute(c)
                    .await
                    .map(|r| r.rows_affected()))?;
                }
            }
        }
        Ok(published)
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
