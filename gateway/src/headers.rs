//! The security headers every response of the gateway carries, set in one layer rather than
//! by each handler: a Content-Security-Policy that allows only the gateway's own scripts,
//! stylesheets and connections (no inline script at all, and one inline stylesheet, the
//! dossier's, by its hash), forbids framing, `<base>`, plugins and forms to other sites;
//! `X-Frame-Options: DENY` for browsers that predate `frame-ancestors`; and
//! `X-Content-Type-Options: nosniff`, so that no JSON, text or upload is sniffed into a page
//! or a script.

use std::sync::LazyLock;

use axum::extract::Request;
use axum::http::HeaderValue;
use axum::http::header::{CONTENT_SECURITY_POLICY, X_CONTENT_TYPE_OPTIONS, X_FRAME_OPTIONS};
use axum::middleware::Next;
use axum::response::Response;
use base64::Engine as _;
use sha2::{Digest, Sha256};

/// The policy: everything from the gateway itself, the dossier's inline stylesheet by its
/// SHA-256 hash, and nothing framed, based, plugged in or posted elsewhere.
pub static CONTENT_SECURITY_POLICY_VALUE: LazyLock<String> = LazyLock::new(|| {
    let style = base64::engine::general_purpose::STANDARD
        .encode(Sha256::digest(liandong_domain::dossier::STYLE.as_bytes()));
    format!(
        "default-src 'self'; style-src 'self' 'sha256-{style}'; frame-ancestors 'none'; \
         base-uri 'none'; form-action 'self'; object-src 'none'"
    )
});

static POLICY: LazyLock<HeaderValue> = LazyLock::new(|| {
    HeaderValue::from_str(&CONTENT_SECURITY_POLICY_VALUE).expect("the policy is ASCII")
});

/// The layer: runs the request, then sets the headers on whatever answered (a page, JSON, a
/// static file, an error, a rate limit's 429).
pub async fn security_headers(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    headers.insert(CONTENT_SECURITY_POLICY, POLICY.clone());
    headers.insert(X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    response
}
