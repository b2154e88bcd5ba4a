//! The transactional outbox: events leave a service only as rows written in the same
//! transaction as the state they describe; the relay publishes them afterwards.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use liandong_proto::events::v1::{Actor, Envelope, Receipt};
use liandong_topology::{Address, AnyEvent};
use prost::Message;
use tokio::sync::Notify;
use uuid::Uuid;

use super::{BusError, Source, Subjects};
use liandong_proto::time::to_ts;
use liandong_store::Tx;
use liandong_store::with_tx;

/// The schema version of every payload this build writes.
pub const SCHEMA_VERSION: u32 = 1;

/// Where an event goes and what it is about; the outbox fills in the rest of the envelope.
#[derive(Debug, Clone, Default)]
pub struct NewEvent<'a> {
    pub town: &'a str,
    /// The department the event is addressed to or comes from, if any.
    pub department: Option<&'a str>,
    /// The aggregate it is about. All events of one aggregate go to the same consumers, so
    /// that a consumer can apply them in their sequence.
    pub aggregate_id: &'a str,
    pub actor: Option<Actor>,
    pub causation_id: Option<&'a str>,
}

/// A service's outbox: where its handlers put events, inside their transactions.
#[derive(Debug, Clone)]
pub struct Outbox {
    /// `None` for an observer (the read model): it reads events and publishes none.
    source: Option<Source>,
    name: &'static str,
    subjects: Subjects,
    catalogue_version: Arc<str>,
    wake: Arc<Notify>,
}

impl Outbox {
    pub fn new(source: Source, subjects: Subjects, catalogue_version: &str) -> Self {
        Self {
            source: Some(source),
            name: source.as_str(),
            subjects,
            catalogue_version: catalogue_version.into(),
            wake: Arc::new(Notify::new()),
        }
    }

    /// The outbox of a service that only observes: it has no stream and no route, so any
    /// event or receipt it tried to write would be refused.
    pub fn observer(name: &'static str, subjects: Subjects) -> Self {
        Self {
            source: None,
            name,
            subjects,
            catalogue_version: "".into(),
            wake: Arc::new(Notify::new()),
        }
    }

    pub fn source(&self) -> Option<Source> {
        self.source
    }

    /// The service's name, as in its subjects, receipts and dead letters.
    pub fn name(&self) -> &'static str {
        self.name
    }

    pub fn subjects(&self) -> &Subjects {
        &self.subjects
    }

    /// Writes `event` into the outbox within `tx`, numbering it within its aggregate and naming
    /// its receivers as `liandong_topology` declares them, and returns its envelope. Nothing
    /// is published until `tx` commits and the relay runs. An event of another source, or
    /// addressed otherwise than declared, is refused, and the caller's transaction with it.
    pub async fn emit(
        &self,
        tx: &mut Tx,
        now: DateTime<Utc>,
        ev: NewEvent<'_>,
        event: AnyEvent,
    ) -> Result<Envelope, sqlx::Error> {
        let kind = event.kind();
        let refuse = |why: String| sqlx::Error::Protocol(format!("cannot emit {kind}: {why}"));
        let source = self
            .source
            .ok_or_else(|| refuse(format!("the {} service publishes no events", self.name)))?;
        if kind.source() != source {
            return Err(refuse(format!("it is not an event of {source}")));
        }
        let to_department = ev.department.is_some_and(|d| !d.is_empty());
        match (kind.address(), to_department) {
            (Address::Town, true) => {
                return Err(refuse("it is addressed to the town (`_`)".into()));
            }
            (Address::Department, false) => {
                return Err(refuse("it is addressed to a department".into()));
            }
            _ => {}
        }
        let receivers = kind.receivers(to_department);
        let seq = next_seq(tx, &format!("{}:{}", source, ev.aggregate_id)).await?;
        let env = Envelope {
            event_id: Uuid::now_v7().to_string(),
            event_type: kind.event_type().to_owned(),
            schema_version: SCHEMA_VERSION,
            town: ev.town.to_owned(),
            department: ev.department.unwrap_or_default().to_owned(),
            aggregate_id: ev.aggregate_id.to_owned(),
            aggregate_seq: seq,
            occurred_at: Some(to_ts(now)),
            actor: ev.actor,
            causation_id: ev.causation_id.unwrap_or_default().to_owned(),
            catalogue_version: self.catalogue_version.to_string(),
            source: source.as_str().to_owned(),
            payload: event.encode_payload(),
            signature: Vec::new(),
            signature_key_id: String::new(),
            receivers: receivers.iter().map(|r| r.as_str().to_owned()).collect(),
        };
        let subject = self
            .subjects
            .event(source, kind.name(), ev.town, ev.department);
        insert(tx, &subject, &env, now).await?;
        for receiver in receivers {
            with_tx!(tx, |c| {
                sqlx::query(
                    "INSERT INTO outbox_receiver (event_id, receiver, receipt_at) VALUES ($1, $2, NULL)",
                )
                .bind(&env.event_id)
                .bind(receiver.as_str())
                .execute(c)
                .await
                .map(|r| r.rows_affected())
            })?;
        }
        Ok(env)
    }

    /// Writes a receipt for `received` back to its sender, within the receiver's transaction.
    pub async fn emit_receipt(
        &self,
        tx: &mut Tx,
        now: DateTime<Utc>,
        received: &Envelope,
        duplicate: bool,
    ) -> Result<(), BusError> {
        let source = self.source.ok_or_else(|| {
            BusError::JetStream(format!("the {} service answers no receipts", self.name))
        })?;
        let to = Source::parse(&received.source)
            .ok_or_else(|| BusError::Decode(format!("unknown source {:?}", received.source)))?;
        let receipt = Receipt {
            received_event_id: received.event_id.clone(),
            receiver: source.as_str().to_owned(),
            received_at: Some(to_ts(now)),
            duplicate,
        };
        let env = Envelope {
            event_id: Uuid::now_v7().to_string(),
            event_type: "receipt".into(),
            schema_version: SCHEMA_VERSION,
            town: received.town.clone(),
            department: received.department.clone(),
            aggregate_id: received.event_id.clone(),
            // Receipts are not ordered: each stands alone.
            aggregate_seq: 0,
            occurred_at: Some(to_ts(now)),
            actor: None,
            causation_id: received.event_id.clone(),
            catalogue_version: self.catalogue_version.to_string(),
            source: source.as_str().to_owned(),
            payload: receipt.encode_to_vec(),
            signature: Vec::new(),
            signature_key_id: String::new(),
            receivers: Vec::new(),
        };
        let subject = self.subjects.receipt(to, &received.town);
        insert(tx, &subject, &env, now).await?;
        Ok(())
    }

    /// Tells the relay that rows are waiting; call it after the transaction commits.
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    pub(crate) fn waker(&self) -> Arc<Notify> {
        self.wake.clone()
    }
}

async fn insert(
    tx: &mut Tx,
    subject: &str,
    env: &Envelope,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    let bytes = env.encode_to_vec();
    // The span emitting the event: its consumer's span continues the same trace.
    let traceparent = liandong_telemetry::current_traceparent();
    with_tx!(tx, |c| {
        sqlx::query(
        "INSERT INTO outbox (id, subject, event_type, town, payload, wants_receipt, created_at, published_at, publish_count, receipt_at, last_error, traceparent) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, NULL, 0, NULL, NULL, $8)"
    )
    .bind(&env.event_id)
    .bind(subject)
    .bind(&env.event_type)
    .bind(&env.town)
    .bind(&bytes)
    .bind(!env.receivers.is_empty())
    .bind(now)
    .bind(&traceparent)
    .execute(c)
    .await
    .map(|r| r.rows_affected())
    })?;
    Ok(())
}

/// The next sequence number of an aggregate at this source, from 1.
async fn next_seq(tx: &mut Tx, aggregate: &str) -> Result<u64, sqlx::Error> {
    let seq: i64 = with_tx!(tx, |c| sqlx::query_scalar(
        "INSERT INTO outbox_seq (aggregate_id, seq) VALUES ($1, 1) \
         ON CONFLICT (aggregate_id) DO UPDATE SET seq = outbox_seq.seq + 1 RETURNING seq"
    )
    .bind(aggregate)
    .fetch_one(c)
    .await)?;
    Ok(seq as u64)
}

/// Decodes an envelope's payload as `M`, naming the event on failure.
pub fn decode_payload<M: Message + Default>(env: &Envelope) -> Result<M, BusError> {
    M::decode(env.payload.as_slice()).map_err(|e| {
        BusError::Decode(format!(
            "payload of {} {}: {e}",
            env.event_type, env.event_id
        ))
    })
}
