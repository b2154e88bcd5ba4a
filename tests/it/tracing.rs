//! One case's journey is one trace: the caller's trace context enters each service with its
//! gRPC calls, leaves with every event in the NATS message's `traceparent` header, and each
//! consumer's span continues it. The services export their spans over OTLP/gRPC to a small
//! collector run by this test; the test reads the headers from the stored messages and the
//! parents from the exported spans. Also the metrics each service exposes about its calls.

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use liandong_proto::board::v1 as board;
use liandong_proto::brigade::v1 as brigade;
use liandong_proto::county::v1 as county;
use liandong_tests::hub::{As, TestHub};
use liandong_tests::{Backend, TestEnv, eventually};
use opentelemetry_proto::tonic::collector::trace::v1::trace_service_server::{
    TraceService, TraceServiceServer,
};
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use opentelemetry_proto::tonic::common::v1::any_value::Value;
use tonic::{Request, Response, Status};

const T1: &str = "330782101";
const WAIT: Duration = Duration::from_secs(30);

/// One exported span, as the collector received it.
#[derive(Debug, Clone)]
struct Exported {
    service: String,
    name: String,
    trace_id: String,
    span_id: String,
    parent_span_id: String,
}

/// An OTLP/gRPC trace collector keeping every span it is sent.
#[derive(Clone, Default)]
struct Collector {
    spans: Arc<Mutex<Vec<Exported>>>,
}

#[tonic::async_trait]
impl TraceService for Collector {
    async fn export(
        &self,
        request: Request<ExportTraceServiceRequest>,
    ) -> Result<Response<ExportTraceServiceResponse>, Status> {
        let mut kept = self.spans.lock().expect("spans");
        for rs in request.into_inner().resource_spans {
            let service = rs
                .resource
                .iter()
                .flat_map(|r| &r.attributes)
                .find(|a| a.key == "service.name")
                .and_then(|a| a.value.as_ref()?.value.as_ref())
                .map(|v| match v {
                    Value::StringValue(s) => s.clone(),
                    other => format!("{other:?}"),
                })
                .unwrap_or_default();
            for ss in rs.scope_spans {
                for span in ss.spans {
                    kept.push(Exported {
                        service: service.clone(),
                        name: span.name,
                        trace_id: hex(&span.trace_id),
                        span_id: hex(&span.span_id),
                        parent_span_id: hex(&span.parent_span_id),
                    });
                }
            }
        }
        Ok(Response::new(ExportTraceServiceResponse {
            partial_success: None,
        }))
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

impl Collector {
    /// Serves OTLP/gRPC on a loopback port until the test process ends.
    async fn start() -> (Collector, SocketAddr) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a port for the collector");
        let addr = listener.local_addr().expect("its address");
        let collector = Collector::default();
        let service = TraceServiceServer::new(collector.clone());
        tokio::spawn(
            tonic::transport::Server::builder()
                .add_service(service)
                .serve_with_incoming(tokio_stream::wrappers::TcpListenerStream::new(listener)),
        );
        (collector, addr)
    }

    fn spans(&self) -> Vec<Exported> {
        self.spans.lock().expect("spans").clone()
    }

    /// Waits until the span `span_id` of `service` has been exported and lies within the span
    /// `ancestor` (itself or a descendant), and returns it: a handler's own spans sit under
    /// its call's span, and the event names the one that emitted it.
    async fn within(&self, service: &str, span_id: &str, ancestor: &Exported) -> Exported {
        eventually(
            &format!("the span {span_id} of {service} within {}", ancestor.name),
            WAIT,
            || async {
                let spans = self.spans();
                let found = spans
                    .iter()
                    .find(|s| s.span_id == span_id && s.service == service)?
                    .clone();
                let mut at = found.clone();
                loop {
                    if at.span_id == ancestor.span_id {
                        return Some(found);
                    }
                    at = spans
                        .iter()
                        .find(|s| s.span_id == at.parent_span_id)?
                        .clone();
                }
            },
        )
        .await
    }

    /// Waits for the span of `service` named `name` in `trace_id`.
    async fn span(&self, trace_id: &str, service: &str, name: &str) -> Exported {
        eventually(
            &format!("the span {name:?} of {service} in trace {trace_id}"),
            WAIT,
            || async {
                self.spans()
                    .into_iter()
                    .find(|s| s.trace_id == trace_id && s.service == service && s.name == name)
            },
        )
        .await
    }
}

/// A W3C `traceparent`: version, trace id, parent span id, flags.
#[derive(Debug, Clone, PartialEq, Eq)]
struct TraceParent {
    trace_id: String,
    span_id: String,
}

impl TraceParent {
    fn parse(s: &str) -> TraceParent {
        let parts: Vec<&str> = s.split('-').collect();
        assert_eq!(parts.len(), 4, "a traceparent has four parts: {s}");
        assert_eq!(parts[0], "00", "version 00: {s}");
        assert_eq!(parts[3], "01", "sampled: {s}");
        TraceParent {
            trace_id: parts[1].to_owned(),
            span_id: parts[2].to_owned(),
        }
    }
}

/// The caller's request with its trace context, as an instrumented client sends it.
fn traced<T>(actor: &As, msg: T, traceparent: &str) -> Request<T> {
    let mut r = actor.req(msg);
    r.metadata_mut()
        .insert("traceparent", traceparent.parse().expect("ascii"));
    r
}

/// The `traceparent` header of the last message stored on `subject` in `stream`.
async fn stored_traceparent(env: &TestEnv, stream: &str, subject: &str) -> TraceParent {
    let client = async_nats::connect(&env.cfg.nats_url)
        .await
        .expect("NATS answers");
    let js = async_nats::jetstream::new(client);
    let stream_name = format!("{}{stream}", env.cfg.stream_prefix);
    let stream = js
        .get_stream(&stream_name)
        .await
        .expect("the stream exists");
    let msg = eventually(&format!("a message on {subject}"), WAIT, || async {
        stream.get_last_raw_message_by_subject(subject).await.ok()
    })
    .await;
    let header = msg
        .headers
        .get("traceparent")
        .unwrap_or_else(|| panic!("the message on {subject} has no traceparent: {msg:?}"));
    TraceParent::parse(header.as_str())
}

async fn metrics_of(addr: SocketAddr) -> String {
    liandong_tests::http::request(addr, "GET", "/metrics", &[], None)
        .await
        .expect("/metrics answers")
        .body
}

#[tokio::test]
async fn one_cases_journey_through_brigade_county_and_board_is_one_trace() {
    let (collector, collector_addr) = Collector::start().await;
    let mut env = TestEnv::new(Backend::Sqlite);
    env.cfg.otlp_endpoint = Some(format!("http://{collector_addr}"));
    let root = env.cfg.subject_root.clone();
    let hub = TestHub::start_processes(env).await;

    // The caller (a workbench, say) opens the trace and carries it on each call about the case.
    let trace_id = uuid::Uuid::now_v7().simple().to_string();
    // The random tail of a UUIDv7.
    let caller_span = &uuid::Uuid::now_v7().simple().to_string()[16..];
    let traceparent = format!("00-{trace_id}-{caller_span}-01");

    // A case outside the town's scope: the brigade refers it to public security.
    let mut report = brigade::ReportCaseRequest {
        town: T1.into(),
        source: brigade::CaseSource::Patrol as i32,
        matters: vec!["JT-001".into()],
        village: "东山村".into(),
        location: "东山村村道".into(),
        description: "货车长期违停村道".into(),
        found_at: Some(prost_types::Timestamp {
            seconds: 1_780_000_000,
            nanos: 0,
        }),
        evidence_refs: vec!["photo-001.jpg".into()],
        ..Default::default()
    };
    report.complex = false;
    let case = hub
        .brigade
        .clone()
        .report_case(traced(&As::brigade_officer(T1), report, &traceparent))
        .await
        .expect("the report is taken")
        .into_inner()
        .case
        .expect("a case");
    let referral = eventually("the referral in public security's inbox", WAIT, || async {
        hub.county
            .clone()
            .list_inbox(
                As::dispatcher("public_security").req(county::ListInboxRequest {
                    department: "public_security".into(),
                    ..Default::default()
                }),
            )
            .await
            .ok()?
            .into_inner()
            .referrals
            .into_iter()
            .find(|r| r.facts.as_ref().is_some_and(|f| f.case_id == case.case_id))
    })
    .await;
    // Public security returns it: the brigade records that, the joint meeting gets a dispute.
    hub.county
        .clone()
        .return_referral(traced(
            &As::dispatcher("public_security"),
            county::ReturnReferralRequest {
                referral_id: referral.referral_id.clone(),
                reason: "村道归交通运输部门管理".into(),
                not_competent: true,
            },
            &traceparent,
        ))
        .await
        .expect("the return is taken");
    let dispute = eventually("the dispute on the town's agenda", WAIT, || async {
        hub.board
            .clone()
            .list_agenda(As::board_member(T1).req(board::ListAgendaRequest {
                town: T1.into(),
                include_decided: false,
                ..Default::default()
            }))
            .await
            .ok()?
            .into_inner()
            .items
            .into_iter()
            .find(|i| {
                i.kind == "competence_dispute"
                    && i.facts.as_ref().is_some_and(|f| f.case_id == case.case_id)
            })
    })
    .await;
    hub.board
        .clone()
        .settle_dispute(traced(
            &As::board_chair(T1),
            board::SettleDisputeRequest {
                item_id: dispute.item_id.clone(),
                department: "transport".into(),
                reason: "农村公路由交通运输部门管理".into(),
                meeting_id: String::new(),
            },
            &traceparent,
        ))
        .await
        .expect("the chair settles it");

    // The brigade's call continues the caller's trace, and its event carries the call's span.
    let report_span = collector
        .span(
            &trace_id,
            "liandong-brigade",
            "/liandong.brigade.v1.BrigadeService/ReportCase",
        )
        .await;
    assert_eq!(report_span.parent_span_id, caller_span);
    let dispatched = stored_traceparent(
        &hub.env,
        "BRIGADE",
        &format!("{root}.v1.brigade.referral_dispatched.{T1}.public_security"),
    )
    .await;
    assert_eq!(dispatched.trace_id, trace_id);
    collector
        .within("liandong-brigade", &dispatched.span_id, &report_span)
        .await;
    // The county's consumer continues it from the header.
    let county_consumed = collector
        .span(
            &trace_id,
            "liandong-county",
            "consume brigade.referral_dispatched",
        )
        .await;
    assert_eq!(county_consumed.parent_span_id, dispatched.span_id);

    // The county's return, and the brigade and the board each consume it in the same trace.
    let return_span = collector
        .span(
            &trace_id,
            "liandong-county",
            "/liandong.county.v1.CountyService/ReturnReferral",
        )
        .await;
    let returned = stored_traceparent(
        &hub.env,
        "COUNTY",
        &format!("{root}.v1.county.referral_returned.{T1}.public_security"),
    )
    .await;
    assert_eq!(returned.trace_id, trace_id);
    collector
        .within("liandong-county", &returned.span_id, &return_span)
        .await;
    for service in ["liandong-board", "liandong-brigade"] {
        let consumed = collector
            .span(&trace_id, service, "consume county.referral_returned")
            .await;
        assert_eq!(consumed.parent_span_id, returned.span_id, "{service}");
    }

    // The chair's decision goes back to the brigade, which refers the case to transport: the
    // new referral reaches the county still in the one trace.
    let settled = stored_traceparent(
        &hub.env,
        "BOARD",
        &format!("{root}.v1.board.dispute_settled.{T1}._"),
    )
    .await;
    assert_eq!(settled.trace_id, trace_id);
    let settle_span = collector
        .span(
            &trace_id,
            "liandong-board",
            "/liandong.board.v1.BoardService/SettleDispute",
        )
        .await;
    collector
        .within("liandong-board", &settled.span_id, &settle_span)
        .await;
    let brigade_applies = collector
        .span(
            &trace_id,
            "liandong-brigade",
            "consume board.dispute_settled",
        )
        .await;
    assert_eq!(brigade_applies.parent_span_id, settled.span_id);
    let redispatched = stored_traceparent(
        &hub.env,
        "BRIGADE",
        &format!("{root}.v1.brigade.referral_dispatched.{T1}.transport"),
    )
    .await;
    assert_eq!(redispatched.trace_id, trace_id);
    collector
        .within("liandong-brigade", &redispatched.span_id, &brigade_applies)
        .await;
    let transport_receives =
        eventually("the county consuming the second referral", WAIT, || async {
            collector.spans().into_iter().find(|s| {
                s.trace_id == trace_id
                    && s.service == "liandong-county"
                    && s.name == "consume brigade.referral_dispatched"
                    && s.parent_span_id == redispatched.span_id
            })
        })
        .await;
    assert_eq!(transport_receives.trace_id, trace_id);

    let services: BTreeSet<String> = collector
        .spans()
        .into_iter()
        .filter(|s| s.trace_id == trace_id)
        .map(|s| s.service)
        .collect();
    for s in ["liandong-brigade", "liandong-board", "liandong-county"] {
        assert!(services.contains(s), "{s} is missing from {services:?}");
    }

    // A client of the HTTP gateway carries its trace the same way: the gateway passes the
    // header on, and the brigade's call continues it.
    let http_span = &uuid::Uuid::now_v7().simple().to_string()[16..];
    let http_traceparent = format!("00-{trace_id}-{http_span}-01");
    let token = As::brigade_officer(T1).bearer();
    let listed = liandong_tests::http::request(
        hub.env.cfg.gateway_addr,
        "GET",
        &format!("/v1/towns/{T1}/cases"),
        &[
            ("authorization", token.as_str()),
            ("traceparent", http_traceparent.as_str()),
        ],
        None,
    )
    .await
    .expect("the gateway answers");
    assert_eq!(listed.status, 200, "{}", listed.body);
    let list_span = collector
        .span(
            &trace_id,
            "liandong-brigade",
            "/liandong.brigade.v1.BrigadeService/ListCases",
        )
        .await;
    assert_eq!(list_span.parent_span_id, http_span);

    // Each service counts and times its calls per method, and its consumed events per type.
    let cfg = &hub.env.cfg;
    let brigade_metrics = metrics_of(cfg.brigade_addr).await;
    assert!(
        brigade_metrics.contains(
            "liandong_grpc_requests_total{method=\"/liandong.brigade.v1.BrigadeService/ReportCase\",code=\"Ok\"} 1"
        ),
        "{brigade_metrics}"
    );
    assert!(
        brigade_metrics.contains(
            "liandong_grpc_request_duration_seconds_count{method=\"/liandong.brigade.v1.BrigadeService/ReportCase\"} 1"
        ),
        "{brigade_metrics}"
    );
    let board_metrics = metrics_of(cfg.board_addr).await;
    assert!(
        board_metrics.contains(
            "liandong_events_consumed_total{event_type=\"county.referral_returned\",outcome=\"applied\"} 1"
        ),
        "{board_metrics}"
    );
    let county_metrics = metrics_of(cfg.county_addr).await;
    assert!(
        county_metrics.contains("liandong_receipts_awaited{receiver=\"brigade\"}"),
        "{county_metrics}"
    );
    hub.stop().await;
}

#[tokio::test]
async fn a_refused_call_is_counted_with_its_status_code() {
    let hub = TestHub::start_processes(liandong_tests::TestEnv::new(Backend::Sqlite)).await;
    let refused = hub
        .brigade
        .clone()
        .report_case(As::brigade_officer(T1).req(brigade::ReportCaseRequest {
            town: T1.into(),
            ..Default::default()
        }))
        .await
        .expect_err("an empty report is refused");
    assert_eq!(refused.code(), tonic::Code::InvalidArgument);
    let text = metrics_of(hub.env.cfg.brigade_addr).await;
    assert!(
        text.contains(
            "liandong_grpc_requests_total{method=\"/liandong.brigade.v1.BrigadeService/ReportCase\",code=\"InvalidArgument\"} 1"
        ),
        "{text}"
    );
    hub.stop().await;
}
