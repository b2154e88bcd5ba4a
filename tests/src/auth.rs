//! The tests' signed identities: one Ed25519 key per test process signs every actor's token,
//! and every `TestEnv` writes its public key (and the private key, for `liandong demo` and
//! `liandong token issue`) where its configuration points.

use std::sync::LazyLock;
use std::time::Duration;

use liandong_config::Config;
use liandong_grpc::identity::{Issuer, KeySet, SigningKey};

/// The key the tests' tokens are signed with, made once per test process.
static KEY_PEM: LazyLock<String> = LazyLock::new(|| {
    SigningKey::generate()
        .and_then(|k| k.to_pem())
        .expect("a test key")
});

/// The tests' issuer: tokens valid for an hour.
pub static ISSUER: LazyLock<Issuer> =
    LazyLock::new(|| Issuer::new(test_key(), "liandong", Duration::from_secs(3600)));

/// The tests' signing key (a fresh copy of it).
pub fn test_key() -> SigningKey {
    SigningKey::from_pem(&KEY_PEM).expect("the test key reads back")
}

/// Writes the tests' public key set and private key under `dir` and points `cfg` at them.
pub fn install(cfg: &mut Config, dir: &std::path::Path) {
    let jwks = dir.join("jwks.json");
    let private = dir.join("signing-key.pem");
    KeySet {
        keys: vec![test_key().public_jwk()],
    }
    .save(&jwks)
    .expect("the test key set is written");
    test_key().save(&private).expect("the test key is written");
    cfg.identity.jwks_file = Some(jwks);
    cfg.identity.signing_key_file = Some(private);
}
