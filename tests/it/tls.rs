//! gRPC over TLS when `grpc_tls` is configured: a CA and a service certificate made here
//! (rcgen); the disclosure service answers a client that trusts the CA and refuses a plaintext
//! client and a client trusting another CA; `/metrics` still answers HTTP/1.1 over TLS; the
//! gateway reaches the service over TLS.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use liandong_config::clock::SystemClock;
use liandong_config::{Config, GrpcTls};
use liandong_proto::disclosure::v1::ListPublicRequest;
use liandong_proto::disclosure::v1::public_disclosure_service_client::PublicDisclosureServiceClient;
use liandong_tests::http::request;
use liandong_tests::{Backend, TestEnv, eventually};
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tonic::transport::Endpoint;

/// A CA (its certificate as PEM, and the issuer that signs with it).
fn make_ca(name: &str) -> (String, Issuer<'static, KeyPair>) {
    let key = KeyPair::generate().expect("a CA key");
    let mut params = CertificateParams::new(Vec::<String>::new()).expect("CA parameters");
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.distinguished_name.push(DnType::CommonName, name);
    let cert = params.self_signed(&key).expect("a self-signed CA");
    (cert.pem(), Issuer::new(params, key))
}

/// Writes a CA, and a certificate for `localhost` and 127.0.0.1 signed by it, into `dir`;
/// returns the TLS settings naming them.
fn make_pki(dir: &Path) -> GrpcTls {
    let (ca_pem, ca) = make_ca("Liandong test CA");
    let key = KeyPair::generate().expect("a service key");
    let mut params = CertificateParams::new(vec!["localhost".to_owned(), "127.0.0.1".to_owned()])
        .expect("service parameters");
    params
        .distinguished_name
        .push(DnType::CommonName, "liandong-disclosure");
    let cert = params.signed_by(&key, &ca).expect("a service certificate");
    let (cert_file, key_file, ca_file) = (
        dir.join("disclosure.pem"),
        dir.join("disclosure.key"),
        dir.join("ca.pem"),
    );
    std::fs::write(&cert_file, cert.pem()).expect("certificate file");
    std::fs::write(&key_file, key.serialize_pem()).expect("key file");
    std::fs::write(&ca_file, ca_pem).expect("CA file");
    GrpcTls {
        cert_file: Some(cert_file),
        key_file: Some(key_file),
        ca_file: Some(ca_file),
        server_name: None,
    }
}

async fn list_public(endpoint: Endpoint) -> anyhow::Result<usize> {
    let channel = endpoint
        .connect_timeout(Duration::from_secs(5))
        .timeout(Duration::from_secs(5))
        .connect()
        .await?;
    let answer = PublicDisclosureServiceClient::new(channel)
        .list_public(ListPublicRequest::default())
        .await?;
    Ok(answer.into_inner().disclosures.len())
}

/// `GET /metrics` over TLS offering only HTTP/1.1, as a scraper without HTTP/2 would.
async fn metrics_over_tls(addr: SocketAddr, ca_file: &Path) -> anyhow::Result<String> {
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_file_iter(ca_file)? {
        roots.add(cert?)?;
    }
    let mut config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()?
    .with_root_certificates(roots)
    .with_no_client_auth();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    let tcp = tokio::net::TcpStream::connect(addr).await?;
    let mut tls = tokio_rustls::TlsConnector::from(Arc::new(config))
        .connect(ServerName::try_from("localhost")?.to_owned(), tcp)
        .await?;
    tls.write_all(b"GET /metrics HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        .await?;
    let mut raw = Vec::new();
    // A server may close without TLS close_notify; what arrived before counts.
    let _ = tls.read_to_end(&mut raw).await;
    Ok(String::from_utf8_lossy(&raw).into_owned())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_service_with_tls_answers_only_over_tls_and_the_gateway_reaches_it() {
    let env = TestEnv::new(Backend::Sqlite);
    std::fs::create_dir_all(&env.cfg.data_dir).expect("data dir");
    let tls = make_pki(&env.cfg.data_dir);
    let cfg = Config {
        grpc_tls: Some(tls.clone()),
        ..env.cfg.clone()
    };

    let app = liandong_disclosure::Application::build(cfg.clone(), Arc::new(SystemClock))
        .await
        .expect("the disclosure service starts");
    let addr = app.local_addr();
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let service = tokio::spawn(app.run_until_stopped(async {
        let _ = stop_rx.await;
    }));

    // A client trusting the CA, checking the certificate for 127.0.0.1: answered.
    let tls_endpoint = liandong_grpc::tls::endpoint(&cfg, addr).expect("a TLS endpoint");
    assert!(tls_endpoint.uri().to_string().starts_with("https://"));
    let listed = eventually(
        "the service to answer over TLS",
        Duration::from_secs(30),
        || {
            let e = tls_endpoint.clone();
            async move { list_public(e).await.map(Some) }
        },
    )
    .await;
    assert_eq!(listed, 0, "a fresh service has no disclosures");
    // Checking for a name in the certificate instead of the address works as well.
    let by_name = Config {
        grpc_tls: Some(GrpcTls {
            server_name: Some("localhost".into()),
            ..tls.clone()
        }),
        ..cfg.clone()
    };
    list_public(liandong_grpc::tls::endpoint(&by_name, addr).unwrap())
        .await
        .expect("answered for the name localhost");

    // A plaintext client: refused.
    let plain = list_public(Endpoint::from_shared(format!("http://{addr}")).unwrap()).await;
    assert!(plain.is_err(), "a plaintext call was answered: {plain:?}");

    // A client that trusts another CA: refused, since it cannot verify the service.
    let other = tempfile::tempdir().expect("a temporary directory");
    let other_ca = other.path().join("other-ca.pem");
    std::fs::write(&other_ca, make_ca("Another CA").0).expect("CA file");
    let untrusting = Config {
        grpc_tls: Some(GrpcTls {
            ca_file: Some(other_ca),
            ..tls.clone()
        }),
        ..cfg.clone()
    };
    let refused = list_public(liandong_grpc::tls::endpoint(&untrusting, addr).unwrap()).await;
    assert!(
        refused.is_err(),
        "a client trusting another CA was answered: {refused:?}"
    );

    // Prometheus's /metrics, on the same port, over TLS with HTTP/1.1.
    let scraped = metrics_over_tls(addr, tls.ca_file.as_ref().unwrap())
        .await
        .expect("/metrics over TLS");
    assert!(
        scraped.starts_with("HTTP/1.1 200"),
        "unexpected answer: {}",
        scraped.lines().next().unwrap_or_default()
    );
    assert!(
        scraped.contains("liandong_outbox_unpublished"),
        "no Liandong metrics in: {scraped}"
    );

    // The gateway, configured with the CA, reaches the service over TLS: the public feed is
    // the disclosure service's ListPublic.
    let gateway = liandong_gateway::Application::build(cfg.clone())
        .await
        .expect("the gateway starts");
    let gateway_addr = gateway.local_addr();
    let (gw_stop_tx, gw_stop_rx) = tokio::sync::oneshot::channel::<()>();
    let gateway_task = tokio::spawn(gateway.run_until_stopped(async {
        let _ = gw_stop_rx.await;
    }));
    let feed = request(gateway_addr, "GET", "/public/disclosures.json", &[], None)
        .await
        .expect("the gateway answers");
    assert_eq!(feed.status, 200, "{}", feed.body);
    assert!(feed.json().is_object(), "{}", feed.body);
    // A gateway without the TLS settings cannot reach the service: 503, never the data.
    let plain_gateway = liandong_gateway::Application::build(Config {
        grpc_tls: None,
        gateway_addr: ([127, 0, 0, 1], 0).into(),
        ..cfg.clone()
    })
    .await
    .expect("a plaintext gateway starts");
    let plain_addr = plain_gateway.local_addr();
    let (plain_stop_tx, plain_stop_rx) = tokio::sync::oneshot::channel::<()>();
    let plain_task = tokio::spawn(plain_gateway.run_until_stopped(async {
        let _ = plain_stop_rx.await;
    }));
    let failed = request(plain_addr, "GET", "/public/disclosures.json", &[], None)
        .await
        .expect("the plaintext gateway answers");
    assert!(
        failed.status >= 500,
        "a plaintext gateway got through: {} {}",
        failed.status,
        failed.body
    );

    for tx in [gw_stop_tx, plain_stop_tx] {
        let _ = tx.send(());
    }
    gateway_task
        .await
        .unwrap()
        .expect("the gateway stops cleanly");
    plain_task.await.unwrap().expect("the plain gateway stops");
    let _ = stop_tx.send(());
    service.await.unwrap().expect("the service stops cleanly");
    env.cleanup().await;
}
