//! The running gateway: the router built from the route table, its listener, and its
//! orderly shutdown.

use std::future::{Future, IntoFuture};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, PathRejection, QueryRejection};
use axum::extract::{DefaultBodyLimit, Path, Query};
use axum::http::header::CONTENT_TYPE;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodFilter, get, on};
use liandong_config::Config;
use liandong_grpc::AUTHORIZATION;
use liandong_grpc::identity::Verifier;
use serde_json::Value;
use tonic::Code;
use tonic::transport::Channel;

use crate::call::{Format, assemble};
use crate::descriptors::{Descriptors, MessageInfo};
use crate::error::GatewayError;
use crate::limit::RateLimits;
use crate::routes::{AccessLogOf, Backend, Route};

/// How long requests in flight may take to finish once the gateway is told to stop.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// How long the gateway waits for a TCP connection to a service before answering 503.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);

/// The gateway, bound to its port and ready to serve.
pub struct Application {
    listener: tokio::net::TcpListener,
    router: Router,
}

impl Application {
    /// Binds `cfg.gateway_addr` (port 0 picks a free one) and builds the router. The services
    /// need not be up: their connections are made on first use, and calls fail with 503
    /// until they answer.
    pub async fn build(cfg: Config) -> anyhow::Result<Application> {
        let router = router(&cfg)?;
        let listener = tokio::net::TcpListener::bind(cfg.gateway_addr)
            .await
            .with_context(|| format!("cannot listen on {}", cfg.gateway_addr))?;
        Ok(Application { listener, router })
    }

    /// The address actually bound.
    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .expect("a bound listener has an address")
    }

    /// Serves until `shutdown` resolves, then stops taking connections and gives requests in
    /// flight a few seconds to finish.
    pub async fn run_until_stopped(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let addr = self.local_addr();
        tracing::info!(%addr, "Serving HTTP/JSON.");
        let (stopping_tx, mut stopping) = tokio::sync::watch::channel(false);
        let signal = async move {
            shutdown.await;
            tracing::info!("Stopping: no new requests; finishing those in flight.");
            let _ = stopping_tx.send(true);
        };
        // The peer's address is the client the rate limits count.
        let service = self
            .router
            .into_make_service_with_connect_info::<SocketAddr>();
        let server = axum::serve(self.listener, service)
            .with_graceful_shutdown(signal)
            .into_future();
        // A client holding a connection open would hold a graceful shutdown open for ever.
        tokio::select! {
            r = server => r.context("the HTTP server failed")?,
            _ = async {
                let _ = stopping.wait_for(|s| *s).await;
                tokio::time::sleep(SHUTDOWN_GRACE).await;
            } => tracing::warn!("Requests were still open after the grace period; stopping anyway."),
        }
        tracing::info!("Stopped cleanly.");
        Ok(())
    }
}

/// The gateway's router for `cfg`, without a listener (tests can drive it directly). Must be
/// called inside a Tokio runtime, which the lazy gRPC channels start their workers on.
pub fn router(cfg: &Config) -> anyhow::Result<Router> {
    let descriptors = Descriptors::decode(liandong_proto::FILE_DESCRIPTOR_SET)
        .context("the compiled descriptor set does not decode")?;
    let routes = crate::routes::table();
    // The gateway verifies every caller's token itself (and the service again): a caller
    // without a valid one gets 401 before anything is parsed or called.
    let verifier = Arc::new(Verifier::from_config(cfg)?);
    for route in &routes {
        route.check(&descriptors).map_err(anyhow::Error::msg)?;
    }
    let openapi = Bytes::from(serde_json::to_vec(&crate::openapi::document(
        &routes,
        &descriptors,
    ))?);
    let channels = [
        (Backend::Brigade, channel(cfg, cfg.brigade_addr)?),
        (Backend::Board, channel(cfg, cfg.board_addr)?),
        (Backend::County, channel(cfg, cfg.county_addr)?),
        (Backend::Disclosure, channel(cfg, cfg.disclosure_addr)?),
        (
            Backend::PublicDisclosure,
            channel(cfg, cfg.disclosure_addr)?,
        ),
        (Backend::Review, channel(cfg, cfg.review_addr)?),
        (Backend::PublicRegistry, channel(cfg, cfg.review_addr)?),
        (
            Backend::AccessLog(AccessLogOf::Brigade),
            channel(cfg, cfg.brigade_addr)?,
        ),
        (
            Backend::AccessLog(AccessLogOf::Board),
            channel(cfg, cfg.board_addr)?,
        ),
        (
            Backend::AccessLog(AccessLogOf::County),
            channel(cfg, cfg.county_addr)?,
        ),
        (
            Backend::AccessLog(AccessLogOf::Review),
            channel(cfg, cfg.review_addr)?,
        ),
    ];
    // The public pages, without login; they call the disclosure service and the public
    // registry of the review service themselves.
    let public = crate::public::router(
        cfg,
        channel(cfg, cfg.disclosure_addr)?,
        channel(cfg, cfg.review_addr)?,
    )?;
    // The dashboard reads the read model with the caller's token, from a header or a cookie.
    let dashboard = crate::dashboard::router(cfg, channel(cfg, cfg.readmodel_addr)?)?;

    let mut router = Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route(
            "/openapi.json",
            get(move || {
                let openapi = openapi.clone();
                async move { ([(CONTENT_TYPE, "application/json")], openapi) }
            }),
        );
    for route in routes {
        let filter = MethodFilter::try_from(route.method.clone())
            .map_err(|e| anyhow::anyhow!("{} {}: {e}", route.method, route.path))?;
        let channel = channels
            .iter()
            .find(|(b, _)| *b == route.backend)
            .map(|(_, c)| c.clone())
            .expect("every backend has a channel");
        let path = route.path;
        // Bodies get 413 past the route's limit, before anything is parsed.
        let body_limit = if route.uploads {
            evidence_body_limit(cfg)
        } else {
            cfg.http_limits.body_bytes
        };
        let endpoint = Arc::new(RouteEndpoint {
            body_limit,
            request: descriptors.messages[&route.request].clone(),
            markdown_json_name: route.markdown_field.and_then(|f| {
                descriptors.messages[&route.response]
                    .field(f)
                    .map(|f| f.json_name.clone())
            }),
            document_json_names: route.document_fields.and_then(|(t, b)| {
                let response = &descriptors.messages[&route.response];
                Some((
                    response.field(t)?.json_name.clone(),
                    response.field(b)?.json_name.clone(),
                ))
            }),
            verifier: (!route.backend.is_public()).then(|| verifier.clone()),
            route,
            channel,
        });
        router = router.route(
            path,
            on(filter, move |path, query, headers, body| {
                endpoint.clone().handle(path, query, headers, body)
            })
            .layer(DefaultBodyLimit::max(body_limit)),
        );
    }
    Ok(router
        .merge(public)
        .merge(dashboard)
        .fallback(|method: Method, uri: Uri| async move {
            GatewayError::new(
                Code::NotFound,
                format!("no route for {method} {}", uri.path()),
            )
        })
        .method_not_allowed_fallback(|method: Method, uri: Uri| async move {
            GatewayError::new(
                Code::Unimplemented,
                format!("{} does not answer {method}", uri.path()),
            )
            .with_status(StatusCode::METHOD_NOT_ALLOWED)
        })
        .layer(DefaultBodyLimit::max(cfg.http_limits.body_bytes))
        .layer(axum::middleware::from_fn_with_state(
            Arc::new(RateLimits::new(&cfg.http_limits)),
            crate::limit::limit,
        ))
        // Outermost, so that every answer carries them, a 429 or a 404 included.
        .layer(axum::middleware::from_fn(crate::headers::security_headers)))
}

/// The body limit of the evidence upload: the largest evidence file in base64 (four bytes
/// for every three), with room for the other fields.
pub fn evidence_body_limit(cfg: &Config) -> usize {
    usize::try_from(cfg.evidence_max_bytes)
        .unwrap_or(usize::MAX)
        .div_ceil(3)
        .saturating_mul(4)
        .saturating_add(cfg.http_limits.body_bytes)
}

/// A lazy channel to the service at `addr`, over TLS when `grpc_tls` is configured.
fn channel(cfg: &Config, addr: SocketAddr) -> anyhow::Result<Channel> {
    Ok(liandong_grpc::tls::endpoint(cfg, addr)?
        .connect_timeout(CONNECT_TIMEOUT)
        .tcp_nodelay(true)
        .connect_lazy())
}

/// A route with what serving it needs.
struct RouteEndpoint {
    route: Route,
    /// The largest body the route takes, in bytes.
    body_limit: usize,
    request: MessageInfo,
    /// The JSON name of the route's Markdown field, if it has one.
    markdown_json_name: Option<String>,
    /// The JSON names of a document route's content-type and body fields.
    document_json_names: Option<(String, String)>,
    channel: Channel,
    /// Verifies the caller's token; `None` for the public routes, which need none.
    verifier: Option<Arc<Verifier>>,
}

impl RouteEndpoint {
    async fn handle(
        self: Arc<Self>,
        path: Result<Path<Vec<(String, String)>>, PathRejection>,
        query: Result<Query<Vec<(String, String)>>, QueryRejection>,
        headers: HeaderMap,
        body: Result<Bytes, BytesRejection>,
    ) -> Response {
        let started = Instant::now();
        let response = match self.answer(path, query, headers, body).await {
            Ok(r) => r,
            Err(e) => {
                if e.status.is_server_error() {
                    tracing::warn!(rpc = self.route.rpc, code = ?e.code, message = %e.message, "A call failed.");
                }
                e.into_response()
            }
        };
        tracing::info!(
            method = %self.route.method,
            route = self.route.path,
            rpc = self.route.rpc,
            status = response.status().as_u16(),
            elapsed_ms = started.elapsed().as_millis() as u64,
            "Answered a request."
        );
        response
    }

    async fn answer(
        &self,
        path: Result<Path<Vec<(String, String)>>, PathRejection>,
        query: Result<Query<Vec<(String, String)>>, QueryRejection>,
        headers: HeaderMap,
        body: Result<Bytes, BytesRejection>,
    ) -> Result<Response, GatewayError> {
        let route = &self.route;
        if let Some(verifier) = &self.verifier {
            let authorization = match headers.get(AUTHORIZATION) {
                None => None,
                Some(v) => Some(v.to_str().map_err(|_| {
                    GatewayError::new(
                        Code::Unauthenticated,
                        "the authorization header is not ASCII",
                    )
                })?),
            };
            verifier
                .verify_bearer(authorization)
                .map_err(|e| GatewayError::new(Code::Unauthenticated, e.to_string()))?;
        }
        let Path(path) = path.map_err(|e| GatewayError::invalid(e.body_text()))?;
        let Query(query) = query.map_err(|e| GatewayError::invalid(e.body_text()))?;
        let body = body.map_err(|e| {
            if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                GatewayError::new(
                    Code::ResourceExhausted,
                    format!("the body is larger than {} bytes", self.body_limit),
                )
                .with_status(StatusCode::PAYLOAD_TOO_LARGE)
            } else {
                GatewayError::invalid(e.body_text())
            }
        })?;
        if route.has_body()
            && let Some((name, _)) = query.first()
        {
            return Err(GatewayError::invalid_field(
                name.clone(),
                "this route takes its fields in the JSON body, not the query string",
            ));
        }
        let (json, format) = assemble(
            &self.request,
            route.has_body().then_some(&body[..]),
            &path,
            &query,
            self.markdown_json_name.is_some(),
        )?;
        let reply = (route.invoke)(self.channel.clone(), route.grpc_path(), json, headers)
            .await
            .map_err(|mut e| {
                if e.code == Code::Unavailable {
                    e.message = format!(
                        "the {} service is unavailable: {}",
                        route.backend.name(),
                        e.message
                    );
                }
                e
            })?;
        if let Some((content_type, body)) = &self.document_json_names {
            let text = |f: &str| reply.get(f).and_then(Value::as_str).unwrap_or_default();
            let content_type = HeaderValue::from_str(text(content_type))
                .unwrap_or(HeaderValue::from_static("text/plain; charset=utf-8"));
            return Ok(([(CONTENT_TYPE, content_type)], text(body).to_owned()).into_response());
        }
        Ok(match (format, &self.markdown_json_name) {
            (Format::Markdown, Some(field)) => {
                let text = reply.get(field).and_then(Value::as_str).unwrap_or_default();
                (
                    [(CONTENT_TYPE, "text/markdown; charset=utf-8")],
                    text.to_owned(),
                )
                    .into_response()
            }
            _ => axum::Json(reply).into_response(),
        })
    }
}

#[cfg(test)]
mod tests {
    use axum::body::Body;
    use axum::http::Request;
    use tower::ServiceExt;

    use super::*;

    /// The key the tests' tokens are signed with, and the JWK Set file naming it.
    static KEYS: std::sync::LazyLock<(liandong_grpc::identity::SigningKey, std::path::PathBuf)> =
        std::sync::LazyLock::new(|| {
            let key = liandong_grpc::identity::SigningKey::generate().unwrap();
            let file = std::env::temp_dir().join(format!(
                "liandong-gateway-test-{}-{}.json",
                std::process::id(),
                key.kid()
            ));
            liandong_grpc::identity::KeySet {
                keys: vec![key.public_jwk()],
            }
            .save(&file)
            .unwrap();
            (key, file)
        });

    /// `Bearer <token>` of a town's brigade officer, signed with the tests' key.
    fn bearer() -> String {
        let actor = liandong_domain::auth::Actor::new(
            "wang.wu".parse().unwrap(),
            liandong_domain::auth::Role::BrigadeOfficer,
            Some("330122101".parse().unwrap()),
            None,
        )
        .unwrap();
        let token = KEYS.0.issue(
            "liandong",
            &actor,
            std::time::SystemTime::now(),
            Duration::from_secs(600),
        );
        format!("Bearer {token}")
    }

    /// A configuration whose services are all down: a port that was free a moment ago.
    fn config_without_services() -> Config {
        let free = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = free.local_addr().unwrap();
        drop(free);
        let mut cfg = Config {
            brigade_addr: addr,
            board_addr: addr,
            county_addr: addr,
            disclosure_addr: addr,
            gateway_addr: ([127, 0, 0, 1], 0).into(),
            ..Config::default()
        };
        cfg.identity.jwks_file = Some(KEYS.1.clone());
        cfg
    }

    async fn send(router: Router, req: Request<Body>) -> (StatusCode, Value) {
        let response = router.oneshot(req).await.unwrap();
        let status = response.status();
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap();
        (
            status,
            serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        )
    }

    fn post(uri: &str, body: impl Into<Body>) -> Request<Body> {
        Request::post(uri)
            .header(CONTENT_TYPE, "application/json")
            .header(AUTHORIZATION, bearer())
            .body(body.into())
            .unwrap()
    }

    /// Every page, file and answer the gateway serves carries the policy, nosniff and the
    /// framing ban: the pages (in both languages, signed in or not, with the services down),
    /// their scripts and stylesheet, the JSON feeds, an API answer, a 404 and a 405.
    #[tokio::test]
    async fn every_page_and_answer_carries_the_security_headers() {
        use axum::http::header::{
            CONTENT_SECURITY_POLICY, X_CONTENT_TYPE_OPTIONS, X_FRAME_OPTIONS,
        };
        let router = router(&config_without_services()).unwrap();
        let pages = [
            "/",
            "/?lang=en",
            "/?town=330782101",
            "/dashboard",
            "/dashboard?lang=en",
        ];
        let others = [
            "/static/site.css",
            "/static/site.js",
            "/static/dashboard.js",
            "/healthz",
            "/openapi.json",
            "/public/disclosures.json",
            "/v1/cases/330122101-x/dossier?format=html",
            "/no/such/route",
        ];
        for (uri, signed_in) in pages
            .iter()
            .chain(&others)
            .flat_map(|u| [(*u, false), (*u, true)])
        {
            let mut req = Request::get(uri);
            if signed_in {
                req = req.header(AUTHORIZATION, bearer());
            }
            let response = router
                .clone()
                .oneshot(req.body(Body::empty()).unwrap())
                .await
                .unwrap();
            let h = response.headers();
            let header = |name| h.get(name).and_then(|v| v.to_str().ok()).unwrap_or("");
            if pages.contains(&uri) {
                assert!(
                    header(CONTENT_TYPE).starts_with("text/html"),
                    "{uri}: {h:?}"
                );
            }
            let csp = header(CONTENT_SECURITY_POLICY);
            for directive in [
                "default-src 'self'",
                "frame-ancestors 'none'",
                "base-uri 'none'",
                "form-action 'self'",
                "object-src 'none'",
            ] {
                assert!(csp.contains(directive), "{uri}: {csp}");
            }
            assert!(!csp.contains("unsafe"), "{uri}: {csp}");
            assert!(
                !csp.contains("script-src"),
                "scripts only from 'self': {csp}"
            );
            assert_eq!(header(X_CONTENT_TYPE_OPTIONS), "nosniff", "{uri}");
            assert_eq!(header(X_FRAME_OPTIONS), "DENY", "{uri}");
        }
        let post = router
            .oneshot(Request::post("/").body(Body::empty()).unwrap())
            .await
            .unwrap();
        assert_eq!(post.status(), StatusCode::METHOD_NOT_ALLOWED);
        assert_eq!(post.headers()[X_CONTENT_TYPE_OPTIONS], "nosniff");
    }

    /// The one inline stylesheet the policy allows is the dossier's, by its hash.
    #[test]
    fn the_policy_allows_the_dossier_stylesheet_by_its_hash() {
        use base64::Engine as _;
        use sha2::Digest as _;
        let hash = base64::engine::general_purpose::STANDARD
            .encode(sha2::Sha256::digest(liandong_domain::dossier::STYLE));
        let policy = crate::headers::CONTENT_SECURITY_POLICY_VALUE.as_str();
        assert!(
            policy.contains(&format!("style-src 'self' 'sha256-{hash}'")),
            "{policy}"
        );
    }

    #[tokio::test]
    async fn a_service_that_is_down_gives_503() {
        let router = router(&config_without_services()).unwrap();
        let (status, body) = send(
            router,
            Request::get("/v1/cases/330122101-x")
                .header(AUTHORIZATION, bearer())
                .body(Body::empty())
                .unwrap(),
        )
        .await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(body["code"], "unavailable");
        assert!(
            body["message"]
                .as_str()
                .unwrap()
                .starts_with("the brigade service is unavailable"),
            "{body}"
        );
    }

    #[tokio::test]
    async fn a_caller_without_a_valid_token_gets_401_without_a_call() {
        let router = router(&config_without_services()).unwrap();
        let forged = {
            let other = liandong_grpc::identity::SigningKey::generate().unwrap();
            let actor = liandong_domain::auth::Actor::new(
                "wang.wu".parse().unwrap(),
                liandong_domain::auth::Role::BrigadeCaptain,
                Some("330122101".parse().unwrap()),
                None,
            )
            .unwrap();
            let token = other.issue(
                "liandong",
                &actor,
                std::time::SystemTime::now(),
                Duration::from_secs(600),
            );
            format!("Bearer {token}")
        };
        for authorization in [None, Some("Basic d2FuZzp3dQ=="), Some(forged.as_str())] {
            let mut req = Request::get("/v1/cases/330122101-x");
            if let Some(a) = authorization {
                req = req.header(AUTHORIZATION, a);
            }
            // Had the gateway called the (absent) service, this would be 503.
            let (status, body) = send(router.clone(), req.body(Body::empty()).unwrap()).await;
            assert_eq!(
                status,
                StatusCode::UNAUTHORIZED,
                "{authorization:?}: {body}"
            );
            assert_eq!(body["code"], "unauthenticated");
        }
        // The public feed needs none.
        let (status, _) = send(
            router,
            Request::get("/public/disclosures.json")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    }

    #[tokio::test]
    async fn a_malformed_body_gives_400_without_a_call() {
        let router = router(&config_without_services()).unwrap();
        // Had the gateway called the (absent) service, this would be 503.
        let (status, body) = send(router.clone(), post("/v1/cases", "{\"town\": ")).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(body["code"], "invalid_argument");
        let (status, body) = send(router, post("/v1/cases", r#"{"complex": "very"}"#)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(body["field_violations"][0]["field"], "complex");
    }

    #[tokio::test]
    async fn a_body_over_the_limit_gives_413() {
        let cfg = config_without_services();
        let router = router(&cfg).unwrap();
        let big = format!(
            r#"{{"description": "{}"}}"#,
            "x".repeat(cfg.http_limits.body_bytes)
        );
        let (status, body) = send(router, post("/v1/cases", big)).await;
        assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
        assert_eq!(body["code"], "resource_exhausted");
        assert_eq!(
            body["message"],
            format!(
                "the body is larger than {} bytes",
                cfg.http_limits.body_bytes
            )
        );
    }

    #[tokio::test]
    async fn the_evidence_upload_takes_a_file_other_routes_refuse() {
        let cfg = Config {
            evidence_max_bytes: 3 * 1024 * 1024,
            ..config_without_services()
        };
        let router = router(&cfg).unwrap();
        // A 3 MB file in base64 is 4 MB of JSON: over the usual limit, within the upload's.
        let file = "QUJD".repeat(1024 * 1024);
        let upload = format!(r#"{{"town": "330122101", "content": "{file}"}}"#);
        let (status, _) = send(router.clone(), post("/v1/cases", upload.clone())).await;
        assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
        // The upload is read whole (it then fails for want of a caller or of the service).
        let (status, body) = send(router.clone(), post("/v1/evidence", upload)).await;
        assert_ne!(status, StatusCode::PAYLOAD_TOO_LARGE, "{body}");
        assert!(
            status.is_client_error() || status.is_server_error(),
            "{status}"
        );
        let over = format!(
            r#"{{"content": "{}"}}"#,
            "A".repeat(evidence_body_limit(&cfg))
        );
        let (status, body) = send(router, post("/v1/evidence", over)).await;
        assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
        assert_eq!(
            body["message"],
            format!(
                "the body is larger than {} bytes",
                evidence_body_limit(&cfg)
            )
        );
    }

    #[tokio::test]
    async fn too_many_requests_from_one_client_get_429_with_retry_after() {
        let mut cfg = config_without_services();
        cfg.http_limits.public_per_second = 1;
        cfg.http_limits.public_burst = 2;
        cfg.http_limits.api_per_second = 1;
        cfg.http_limits.api_burst = 3;
        let router = router(&cfg).unwrap();
        let get = |uri: &str| {
            Request::get(uri)
                .header(AUTHORIZATION, bearer())
                .body(Body::empty())
                .unwrap()
        };
        for _ in 0..2 {
            let (status, _) = send(router.clone(), get("/healthz")).await;
            assert_eq!(status, StatusCode::OK);
        }
        let response = router
            .clone()
            .oneshot(get("/public/disclosures.json"))
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(response.headers()[axum::http::header::RETRY_AFTER], "1");
        let bytes = axum::body::to_bytes(response.into_body(), 4096)
            .await
            .unwrap();
        let body: Value = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(body["code"], "resource_exhausted");
        // The page answers in words, in Chinese first.
        let response = router.clone().oneshot(get("/")).await.unwrap();
        assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
        let bytes = axum::body::to_bytes(response.into_body(), 4096)
            .await
            .unwrap();
        assert!(String::from_utf8_lossy(&bytes).starts_with("请求过于频繁"));
        // The API has its own budget: three calls get past the limit (to be refused further in
        // for want of a caller or of the service).
        for _ in 0..3 {
            let (status, _) = send(router.clone(), get("/v1/cases/330122101-x")).await;
            assert_ne!(status, StatusCode::TOO_MANY_REQUESTS);
        }
        let (status, body) = send(router, get("/v1/cases/330122101-x")).await;
        assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(body["code"], "resource_exhausted");
    }

    #[tokio::test]
    async fn unknown_routes_and_methods_answer_in_json() {
        let router = router(&config_without_services()).unwrap();
        let (status, body) = send(
            router.clone(),
            Request::get("/v1/nowhere").body(Body::empty()).unwrap(),
        )
        .await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        assert_eq!(body["code"], "not_found");
        let (status, _) = send(
            router,
            Request::delete("/v1/cases").body(Body::empty()).unwrap(),
        )
        .await;
        assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
    }

    #[tokio::test]
    async fn the_document_and_health_are_served() {
        let router = router(&config_without_services()).unwrap();
        let (status, doc) = send(
            router.clone(),
            Request::get("/openapi.json").body(Body::empty()).unwrap(),
        )
        .await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(doc["openapi"], "3.0.3");
        let response = router
            .oneshot(Request::get("/healthz").body(Body::empty()).unwrap())
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
    }

    #[tokio::test]
    async fn the_application_binds_a_free_port_and_stops_on_request() {
        let app = Application::build(config_without_services()).await.unwrap();
        let addr = app.local_addr();
        assert_ne!(addr.port(), 0);
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let server = tokio::spawn(app.run_until_stopped(async move {
            let _ = stopped.await;
        }));
        let _ = stop.send(());
        server.await.unwrap().unwrap();
    }
}
