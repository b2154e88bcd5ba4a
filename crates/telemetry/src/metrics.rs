//! Prometheus metrics of a service process: what its bus did and what waits, served as text
//! at `/metrics` on the service's own port.

use std::sync::{Mutex, OnceLock};

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

/// Labels of what a consumer did with a message.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ConsumerLabels {
    pub consumer: String,
    /// `applied`, `duplicate`, `out_of_order`, `retry`, `dead_letter`, `skipped`.
    pub outcome: String,
}

/// Labels of an envelope refused for its signature.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct BadSignature {
    pub consumer: String,
    /// The service the envelope claims to come from.
    pub source: String,
    /// `unsigned`, `unknown_key`, `wrong_agency`, `invalid`, `wrong_subject`.
    pub reason: String,
}

/// Labels naming a consumer.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ConsumerName {
    pub consumer: String,
}

/// Labels naming an event type.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct EventType {
    pub event_type: String,
}

/// Labels of an event type consumed, and whether it was new or a duplicate.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ConsumedEvent {
    pub event_type: String,
    /// `applied` or `duplicate`.
    pub outcome: String,
}

/// Labels naming a service that owes receipts.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct Receiver {
    pub receiver: String,
}

/// Labels naming a service `liandong up` supervises.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ServiceName {
    pub service: String,
}

/// Labels of a gRPC call: the full method path and the status code's name.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct GrpcCall {
    pub method: String,
    pub code: String,
}

/// Labels naming a gRPC method.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct GrpcMethod {
    pub method: String,
}

/// Latencies of gRPC calls per method, 1 ms to about 16 s.
#[derive(Debug, Clone)]
pub struct GrpcLatency(pub Family<GrpcMethod, Histogram, fn() -> Histogram>);

impl Default for GrpcLatency {
    fn default() -> Self {
        GrpcLatency(Family::new_with_constructor(|| {
            Histogram::new(exponential_buckets(0.001, 2.0, 15))
        }))
    }
}

/// Every metric of the process. Handles are cheap clones sharing one value.
#[derive(Debug, Default)]
pub struct Metrics {
    /// Events published by the relay, by type (first publishes and re-sends).
    pub published: Family<EventType, Counter>,
    /// Events published again because their receipt had not come back.
    pub resent: Family<EventType, Counter>,
    /// Messages consumed, by consumer and what came of them.
    pub consumed: Family<ConsumerLabels, Counter>,
    /// Messages given up on and moved to the dead-letter stream: the alert metric.
    pub dead_letters: Family<ConsumerName, Counter>,
    /// Envelopes refused because their signature is missing, unknown, another agency's or
    /// wrong (each also dead-lettered): an alert metric, since it means a forgery or a
    /// misconfigured key.
    pub bad_signatures: Family<BadSignature, Counter>,
    /// Outbox rows not yet published.
    pub outbox_unpublished: Gauge,
    /// Published events still waiting for their receipt.
    pub outbox_unreceipted: Gauge,
    /// Messages a consumer's server says are waiting for it.
    pub consumer_pending: Family<ConsumerName, Gauge>,
    /// Deadlines computed beyond the loaded calendar years (weekends only): an operator must
    /// load the year's calendar.
    pub provisional_deadlines: Counter,
    /// Events consumed, by type and whether new or duplicate.
    pub events_consumed: Family<ConsumedEvent, Counter>,
    /// Published events each receiver has not answered yet.
    pub receipts_awaited: Family<Receiver, Gauge>,
    /// gRPC calls served, by method and status code.
    pub grpc_requests: Family<GrpcCall, Counter>,
    /// How long gRPC calls took until their response began, by method.
    pub grpc_latency: GrpcLatency,
    /// `liandong up`: times a service that exited was started again, by service.
    pub service_restarts: Family<ServiceName, Counter>,
    /// `liandong up`: 1 for a service given up on after crashing repeatedly (an alert metric).
    pub service_given_up: Family<ServiceName, Gauge>,
    registry: Mutex<Option<Registry>>,
}

static METRICS: OnceLock<Metrics> = OnceLock::new();

/// The process's metrics, registered on first use.
pub fn metrics() -> &'static Metrics {
    METRICS.get_or_init(|| {
        let m = Metrics::default();
        let mut r = Registry::with_prefix("liandong");
        r.register(
            "events_published",
            "Events published by the relay",
            m.published.clone(),
        );
        r.register(
            "events_resent",
            "Events published again for want of a receipt",
            m.resent.clone(),
        );
        r.register(
            "messages_consumed",
            "Messages consumed, by consumer and outcome",
            m.consumed.clone(),
        );
        r.register(
            "dead_letters",
            "Messages moved to the dead-letter stream; any increase needs an operator",
            m.dead_letters.clone(),
        );
        r.register(
            "bad_signatures",
            "Envelopes refused for a missing or wrong signature; any increase needs an operator",
            m.bad_signatures.clone(),
        );
        r.register(
            "outbox_unpublished",
            "Outbox rows not yet published",
            m.outbox_unpublished.clone(),
        );
        r.register(
            "outbox_unreceipted",
            "Published events still waiting for the receiver's receipt",
            m.outbox_unreceipted.clone(),
        );
        r.register(
            "consumer_pending",
            "Messages waiting for a consumer (consumer lag)",
            m.consumer_pending.clone(),
        );
        r.register(
            "provisional_deadlines",
            "Deadlines computed beyond the loaded calendar years; load the next year's calendar",
            m.provisional_deadlines.clone(),
        );
        r.register(
            "events_consumed",
            "Events consumed, by event type and outcome (applied or duplicate)",
            m.events_consumed.clone(),
        );
        r.register(
            "receipts_awaited",
            "Published events whose receiver has not answered, by receiver",
            m.receipts_awaited.clone(),
        );
        r.register(
            "grpc_requests",
            "gRPC calls served, by method and status code",
            m.grpc_requests.clone(),
        );
        r.register(
            "grpc_request_duration_seconds",
            "Time until a gRPC call's response began, by method",
            m.grpc_latency.0.clone(),
        );
        r.register(
            "service_restarts",
            "Times liandong up started a service again after it exited, by service",
            m.service_restarts.clone(),
        );
        r.register(
            "service_given_up",
            "1 for a service liandong up gave up on after it kept crashing; needs an operator",
            m.service_given_up.clone(),
        );
        *m.registry.lock().expect("metrics registry") = Some(r);
        m
    })
}

impl Metrics {
    /// Counts a consumer's outcome.
    pub fn consumed(&self, consumer: &str, outcome: &str) {
        self.consumed
            .get_or_create(&ConsumerLabels {
                consumer: consumer.to_owned(),
                outcome: outcome.to_owned(),
            })
            .inc();
    }

    /// Counts an event consumed: applied, or suppressed as a duplicate.
    pub fn event_consumed(&self, event_type: &str, applied: bool) {
        self.events_consumed
            .get_or_create(&ConsumedEvent {
                event_type: event_type.to_owned(),
                outcome: if applied { "applied" } else { "duplicate" }.to_owned(),
            })
            .inc();
    }

    /// Sets the receipts each service owes; every service not named owes none.
    pub fn set_receipts_awaited(&self, awaited: &[(String, i64)]) {
        for source in liandong_topology::Source::ALL {
            let n = awaited
                .iter()
                .find(|(r, _)| r == source.as_str())
                .map_or(0, |(_, n)| *n);
            self.receipts_awaited
                .get_or_create(&Receiver {
                    receiver: source.as_str().to_owned(),
                })
                .set(n);
        }
    }

    /// Counts a gRPC call of `method` answered with `code` after `seconds`.
    pub fn grpc_call(&self, method: &str, code: &str, seconds: f64) {
        self.grpc_requests
            .get_or_create(&GrpcCall {
                method: method.to_owned(),
                code: code.to_owned(),
            })
            .inc();
        self.grpc_latency
            .0
            .get_or_create(&GrpcMethod {
                method: method.to_owned(),
            })
            .observe(seconds);
    }

    /// Counts an envelope refused for its signature.
    pub fn bad_signature(&self, consumer: &str, source: &str, reason: &str) {
        self.bad_signatures
            .get_or_create(&BadSignature {
                consumer: consumer.to_owned(),
                source: source.to_owned(),
                reason: reason.to_owned(),
            })
            .inc();
    }

    /// The Prometheus text exposition of every metric.
    pub fn encode(&self) -> String {
        let mut out = String::new();
        if let Some(r) = self.registry.lock().expect("metrics registry").as_ref() {
            // Writing to a String cannot fail.
            let _ = prometheus_client::encoding::text::encode(&mut out, r);
        }
        out
    }
}

/// Axum middleware around a service's gRPC routes: one span per call (continuing the caller's
/// trace from its `traceparent` metadata, so the events it emits carry the same trace) and
/// the call counted and timed by method and status code. Other paths (`/metrics`) pass through.
pub async fn observe_grpc(
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use tracing::Instrument;
    let is_grpc = req
        .headers()
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/grpc"));
    if !is_grpc {
        return next.run(req).await;
    }
    let method = req.uri().path().to_owned();
    let span = tracing::info_span!("grpc", otel.name = %method, otel.kind = "server", rpc.method = %method);
    crate::continue_trace(
        &span,
        req.headers()
            .get(crate::TRACEPARENT)
            .and_then(|v| v.to_str().ok()),
    );
    let started = std::time::Instant::now();
    let response = next.run(req).instrument(span).await;
    // An error is answered trailers-only, with the status among the headers; a success's
    // status follows in the trailers.
    let code = response
        .headers()
        .get("grpc-status")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<i32>().ok())
        .map_or(tonic::Code::Ok, tonic::Code::from);
    metrics().grpc_call(
        &method,
        &format!("{code:?}"),
        started.elapsed().as_secs_f64(),
    );
    response
}

/// An axum router serving `/metrics`, to sit beside the gRPC routes on the same port.
pub fn router() -> axum::Router {
    axum::Router::new().route(
        "/metrics",
        axum::routing::get(|| async {
            (
                [(
                    axum::http::header::CONTENT_TYPE,
                    "application/openmetrics-text; version=1.0.0; charset=utf-8",
                )],
                metrics().encode(),
            )
        }),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_alert_metric_is_exposed() {
        metrics()
            .dead_letters
            .get_or_create(&ConsumerName {
                consumer: "x".into(),
            })
            .inc();
        metrics().consumed("x", "applied");
        let text = metrics().encode();
        assert!(
            text.contains("liandong_dead_letters_total{consumer=\"x\"} 1"),
            "{text}"
        );
        assert!(
            text.contains("liandong_messages_consumed_total{consumer=\"x\",outcome=\"applied\"} 1"),
            "{text}"
        );
    }
}
