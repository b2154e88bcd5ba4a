//! Logging and traces: structured logs to stderr (JSON when asked; `RUST_LOG` filters), and
//! OpenTelemetry spans whose W3C trace context travels in gRPC metadata and NATS headers,
//! exported over OTLP/gRPC when an endpoint is configured.
#![forbid(unsafe_code)]

pub mod metrics;

use std::collections::HashMap;

use opentelemetry::propagation::TextMapPropagator;
use opentelemetry::trace::{TraceContextExt, TracerProvider as _};
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::SdkTracerProvider;
use tracing_opentelemetry::OpenTelemetrySpanExt;
use tracing_subscriber::EnvFilter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

/// The W3C header that carries a trace context, in gRPC metadata and NATS headers alike.
pub const TRACEPARENT: &str = "traceparent";

/// Keeps the tracer provider alive; [`Telemetry::shutdown`] exports what is still buffered.
#[derive(Debug)]
pub struct Telemetry {
    provider: Option<SdkTracerProvider>,
}

impl Telemetry {
    /// Flushes and stops the span exporter. It blocks while the last spans are sent, so call
    /// it outside the async runtime's worker threads (`spawn_blocking`) or after it ends.
    pub fn shutdown(self) {
        if let Some(p) = self.provider
            && let Err(e) = p.shutdown()
        {
            eprintln!("The span exporter did not shut down cleanly: {e}");
        }
    }
}

/// Installs the global subscriber once (later calls, in tests, change nothing) for the process
/// named `service`: logs, JSON when `json`; spans with trace ids, so that the trace context
/// travels with every request and event; and, with `otlp_endpoint`
/// (`http://host:4317`), every span exported over OTLP/gRPC with `service.name`
/// `liandong-<service>`. The OTLP exporter needs a Tokio runtime to exist: call this inside one.
pub fn init(json: bool, service: &str, otlp_endpoint: Option<&str>) -> anyhow::Result<Telemetry> {
    opentelemetry::global::set_text_map_propagator(TraceContextPropagator::new());
    let resource = opentelemetry_sdk::Resource::builder()
        .with_service_name(format!("liandong-{service}"))
        .build();
    let mut builder = SdkTracerProvider::builder().with_resource(resource);
    if let Some(endpoint) = otlp_endpoint {
        use opentelemetry_otlp::WithExportConfig;
        let exporter = opentelemetry_otlp::SpanExporter::builder()
            .with_tonic()
            .with_endpoint(endpoint)
            .build()
            .map_err(|e| anyhow::anyhow!("the OTLP exporter for {endpoint}: {e}"))?;
        builder = builder.with_batch_exporter(exporter);
    }
    let provider = builder.build();
    let otel = tracing_opentelemetry::layer().with_tracer(provider.tracer("liandong"));
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,async_nats=warn"));
    let fmt = tracing_subscriber::fmt::layer().with_writer(std::io::stderr);
    let installed = if json {
        tracing_subscriber::registry()
            .with(filter)
            .with(otel)
            .with(fmt.json().flatten_event(true))
            .try_init()
    } else {
        tracing_subscriber::registry()
            .with(filter)
            .with(otel)
            .with(fmt)
            .try_init()
    };
    Ok(Telemetry {
        provider: installed.is_ok().then_some(provider),
    })
}

/// The `traceparent` of the current span, if a trace is active.
pub fn current_traceparent() -> Option<String> {
    let cx = tracing::Span::current().context();
    if !cx.span().span_context().is_valid() {
        return None;
    }
    let mut carrier = HashMap::new();
    TraceContextPropagator::new().inject_context(&cx, &mut carrier);
    carrier.remove(TRACEPARENT)
}

/// Makes `span` continue the trace that `traceparent` names; a missing or malformed one leaves
/// the span a root of its own trace.
pub fn continue_trace(span: &tracing::Span, traceparent: Option<&str>) {
    let Some(tp) = traceparent else { return };
    let carrier = HashMap::from([(TRACEPARENT.to_owned(), tp.to_owned())]);
    let cx = TraceContextPropagator::new().extract(&carrier);
    if cx.span().span_context().is_valid() {
        // Fails only for a span already started elsewhere, which these are not.
        let _ = span.set_parent(cx);
    }
}
