//! gRPC over TLS (rustls with ring) when `grpc_tls` is configured: the services' side, which
//! also keeps `/metrics` on HTTP/1.1, and the clients' side (the gateway's channels).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use futures::Stream;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::TlsAcceptor;
use tokio_rustls::server::TlsStream;
use tonic::transport::{Certificate, ClientTlsConfig, Endpoint};

use liandong_config::{Config, GrpcTls};

/// How long a client may take over its TLS handshake before the connection is dropped.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// The server side: the service's certificate and key from `tls`, offering HTTP/2 (gRPC) and
/// HTTP/1.1 (`/metrics` for a scraper that does not speak HTTP/2) by ALPN.
pub fn acceptor(tls: &GrpcTls) -> anyhow::Result<TlsAcceptor> {
    let cert_file = tls
        .cert_file
        .as_ref()
        .context("grpc_tls: a service needs cert_file (LIANDONG_GRPC_TLS_CERT)")?;
    let key_file = tls
        .key_file
        .as_ref()
        .context("grpc_tls: a service needs key_file (LIANDONG_GRPC_TLS_KEY)")?;
    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(cert_file)
        .and_then(|certs| certs.collect())
        .with_context(|| {
            format!(
                "grpc_tls: cannot read certificates from {}",
                cert_file.display()
            )
        })?;
    anyhow::ensure!(
        !chain.is_empty(),
        "grpc_tls: no certificate in {}",
        cert_file.display()
    );
    let key = PrivateKeyDer::from_pem_file(key_file).with_context(|| {
        format!(
            "grpc_tls: cannot read a private key from {}",
            key_file.display()
        )
    })?;
    let mut config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()?
    .with_no_client_auth()
    .with_single_cert(chain, key)
    .with_context(|| {
        format!(
            "grpc_tls: the key in {} does not fit the certificate in {}",
            key_file.display(),
            cert_file.display()
        )
    })?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(TlsAcceptor::from(Arc::new(config)))
}

/// The connections of `listener` after their TLS handshakes, for tonic's
/// `serve_with_incoming_shutdown`. Each handshake runs on its own task, so a slow or broken
/// client delays no one; a failed one (a plaintext client, an untrusting one) is dropped and
/// logged at debug level. Accepting stops when the server drops the stream.
pub fn incoming(
    listener: TcpListener,
    acceptor: TlsAcceptor,
) -> impl Stream<Item = std::io::Result<TlsStream<TcpStream>>> {
    let (tx, rx) = tokio::sync::mpsc::channel(64);
    tokio::spawn(async move {
        loop {
            let (tcp, peer) = tokio::select! {
                _ = tx.closed() => return,
                accepted = listener.accept() => match accepted {
                    Ok(a) => a,
                    Err(e) => {
                        // Out of file descriptors, say: pause rather than spin.
                        tracing::warn!(error = %e, "Cannot accept a connection.");
                        tokio::time::sleep(Duration::from_millis(100)).await;
                        continue;
                    }
                },
            };
            let _ = tcp.set_nodelay(true);
            let (acceptor, tx) = (acceptor.clone(), tx.clone());
            tokio::spawn(async move {
                match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(tcp)).await {
                    Ok(Ok(tls)) => {
                        let _ = tx.send(Ok(tls)).await;
                    }
                    Ok(Err(e)) => tracing::debug!(%peer, error = %e, "TLS handshake refused."),
                    Err(_) => tracing::debug!(%peer, "TLS handshake timed out."),
                }
            });
        }
    });
    futures::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|next| (next, rx))
    })
}

/// A gRPC endpoint for the service at `addr`: `https` trusting only `grpc_tls.ca_file` when
/// TLS is configured (the name checked is `server_name`, else the address's IP), plain
/// `http` otherwise.
pub fn endpoint(cfg: &Config, addr: SocketAddr) -> anyhow::Result<Endpoint> {
    let Some(tls) = &cfg.grpc_tls else {
        return Ok(Endpoint::from_shared(format!("http://{addr}"))?);
    };
    let ca_file = tls
        .ca_file
        .as_ref()
        .context("grpc_tls: a client needs ca_file (LIANDONG_GRPC_TLS_CA)")?;
    let ca = std::fs::read(ca_file)
        .with_context(|| format!("grpc_tls: cannot read {}", ca_file.display()))?;
    let mut client = ClientTlsConfig::new().ca_certificate(Certificate::from_pem(ca));
    if let Some(name) = &tls.server_name {
        client = client.domain_name(name.clone());
    }
    Ok(Endpoint::from_shared(format!("https://{addr}"))?.tls_config(client)?)
}
