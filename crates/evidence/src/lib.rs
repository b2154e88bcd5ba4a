//! Evidence (photos, video, audio, documents) stored content-addressed by SHA-256, in local files or an S3-compatible store.
#![forbid(unsafe_code)]

use std::sync::Arc;

pub use bytes::Bytes;
use object_store::aws::AmazonS3Builder;
use object_store::local::LocalFileSystem;
use object_store::path::Path;
use object_store::{Attribute, Attributes, ObjectStore, ObjectStoreExt, PutOptions, PutPayload};
use sha2::{Digest, Sha256};

use liandong_config::Config;

/// The prefix every evidence reference that names stored content carries.
pub const DIGEST_PREFIX: &str = "sha256:";

#[derive(Debug, thiserror::Error)]
pub enum EvidenceError {
    #[error("no evidence {0} in the store")]
    Missing(String),
    #[error("evidence {expected} is stored with content hashing to {actual}")]
    Mismatch { expected: String, actual: String },
    #[error("{0:?} is not an evidence digest (sha256:<64 hex digits>)")]
    BadDigest(String),
    #[error("evidence of {size} bytes is over the limit of {max} bytes")]
    TooLarge { size: u64, max: u64 },
    #[error("evidence store: {0}")]
    Store(#[from] object_store::Error),
    #[error("evidence store configuration: {0}")]
    Config(String),
}

/// `sha256:<hex>` of `bytes`.
pub fn digest_of(bytes: &[u8]) -> String {
    format!("{DIGEST_PREFIX}{}", hex::encode(Sha256::digest(bytes)))
}

/// The hex part of a well-formed `sha256:<64 lowercase hex>` digest; `None` for anything else.
pub fn parse_digest(digest: &str) -> Option<&str> {
    let hex = digest.strip_prefix(DIGEST_PREFIX)?;
    (hex.len() == 64 && hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))).then_some(hex)
}

/// Whether an evidence reference claims to name stored content. References without the
/// prefix are free text (a paper file's number, say) and are never looked up.
pub fn is_digest_ref(r: &str) -> bool {
    r.starts_with(DIGEST_PREFIX)
}

/// Where S3-compatible evidence lives and how to reach it.
#[derive(Debug, Clone)]
pub struct S3Settings {
    pub bucket: String,
    pub endpoint: Option<String>,
    pub region: Option<String>,
    pub access_key_id: Option<String>,
    pub secret_access_key: Option<String>,
    pub allow_http: bool,
}

/// The evidence store: content at `sha256/<hex>`, so equal content is stored once and a
/// reference names exactly one content.
#[derive(Debug, Clone)]
pub struct EvidenceStore {
    inner: Arc<dyn ObjectStore>,
    max_bytes: u64,
    /// Whether the store keeps a content type beside the bytes (local files do not).
    keeps_content_type: bool,
}

impl EvidenceStore {
    pub fn new(inner: Arc<dyn ObjectStore>, max_bytes: u64) -> Self {
        Self {
            inner,
            max_bytes,
            keeps_content_type: false,
        }
    }

    /// Files under `dir`, created if missing.
    pub fn local(dir: &std::path::Path, max_bytes: u64) -> Result<Self, EvidenceError> {
        std::fs::create_dir_all(dir)
            .map_err(|e| EvidenceError::Config(format!("{}: {e}", dir.display())))?;
        Ok(Self::new(
            Arc::new(LocalFileSystem::new_with_prefix(dir)?),
            max_bytes,
        ))
    }

    /// An S3-compatible bucket.
    pub fn s3(s: &S3Settings, max_bytes: u64) -> Result<Self, EvidenceError> {
        // reqwest is built without a TLS provider of its own (aws-lc would have to be built);
        // ring is installed as the process's provider. A second install fails harmlessly.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let mut b = AmazonS3Builder::new()
            .with_bucket_name(&s.bucket)
            .with_allow_http(s.allow_http)
            .with_region(s.region.as_deref().unwrap_or("us-east-1"));
        if let Some(endpoint) = &s.endpoint {
            b = b.with_endpoint(endpoint);
        }
        if let Some(k) = &s.access_key_id {
            b = b.with_access_key_id(k);
        }
        if let Some(k) = &s.secret_access_key {
            b = b.with_secret_access_key(k);
        }
        Ok(Self {
            keeps_content_type: true,
            ..Self::new(Arc::new(b.build()?), max_bytes)
        })
    }

    /// The store the configuration names: `evidence_store_url = "s3://bucket"` with the
    /// endpoint and region beside it and the keys from `AWS_ACCESS_KEY_ID` and
    /// `AWS_SECRET_ACCESS_KEY`; unset, files under `<data_dir>/evidence`.
    pub fn from_config(cfg: &Config) -> Result<Self, EvidenceError> {
        match cfg.evidence_store_url.as_deref().filter(|u| !u.is_empty()) {
            None => Self::local(&cfg.data_dir.join("evidence"), cfg.evidence_max_bytes),
            Some(url) => {
                let bucket = url
                    .strip_prefix("s3://")
                    .map(|b| b.trim_end_matches('/'))
                    .filter(|b| !b.is_empty() && !b.contains('/'))
                    .ok_or_else(|| {
                        EvidenceError::Config(format!(
                            "evidence_store_url {url:?} is not s3://<bucket>"
                        ))
                    })?;
                let env = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
                Self::s3(
                    &S3Settings {
                        bucket: bucket.to_owned(),
                        endpoint: cfg.evidence_s3_endpoint.clone(),
                        region: cfg.evidence_s3_region.clone(),
                        access_key_id: env("AWS_ACCESS_KEY_ID"),
                        secret_access_key: env("AWS_SECRET_ACCESS_KEY"),
                        allow_http: cfg.evidence_s3_allow_http,
                    },
                    cfg.evidence_max_bytes,
                )
            }
        }
    }

    pub fn max_bytes(&self) -> u64 {
        self.max_bytes
    }

    fn path(hex: &str) -> Path {
        Path::from(format!("sha256/{hex}"))
    }

    /// Stores `bytes` and returns their digest. Storing the same content again rewrites the
    /// same bytes at the same path, so an upload retried after a lost answer is harmless.
    pub async fn put(&self, bytes: Bytes, content_type: &str) -> Result<String, EvidenceError> {
        let size = bytes.len() as u64;
        if size > self.max_bytes {
            return Err(EvidenceError::TooLarge {
                size,
                max: self.max_bytes,
            });
        }
        let digest = digest_of(&bytes);
        let hex = &digest[DIGEST_PREFIX.len()..];
        let mut attributes = Attributes::new();
        if self.keeps_content_type && !content_type.is_empty() {
            attributes.insert(Attribute::ContentType, content_type.to_owned().into());
        }
        let opts = PutOptions {
            attributes,
            ..PutOptions::default()
        };
        self.inner
            .put_opts(&Self::path(hex), PutPayload::from_bytes(bytes), opts)
            .await?;
        Ok(digest)
    }

    /// The stored bytes of `digest`, as stored: `verify` is what checks them.
    pub async fn get(&self, digest: &str) -> Result<Bytes, EvidenceError> {
        let hex = parse_digest(digest).ok_or_else(|| EvidenceError::BadDigest(digest.into()))?;
        match self.inner.get(&Self::path(hex)).await {
            Ok(r) => Ok(r.bytes().await?),
            Err(object_store::Error::NotFound { .. }) => Err(EvidenceError::Missing(digest.into())),
            Err(e) => Err(e.into()),
        }
    }

    /// Whether the content stored under `digest` still hashes to it.
    pub async fn verify(&self, digest: &str) -> Result<(), EvidenceError> {
        let bytes = self.get(digest).await?;
        let actual = digest_of(&bytes);
        if actual == digest {
            Ok(())
        } else {
            Err(EvidenceError::Mismatch {
                expected: digest.into(),
                actual,
            })
        }
    }

    /// Whether `digest` is stored at all, without reading it.
    pub async fn exists(&self, digest: &str) -> Result<bool, EvidenceError> {
        let hex = parse_digest(digest).ok_or_else(|| EvidenceError::BadDigest(digest.into()))?;
        match self.inner.head(&Self::path(hex)).await {
            Ok(_) => Ok(true),
            Err(object_store::Error::NotFound { .. }) => Ok(false),
            Err(e) => Err(e.into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digests_are_prefixed_lowercase_hex() {
        let d = digest_of(b"abc");
        assert_eq!(
            d,
            "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert!(parse_digest(&d).is_some());
        assert!(parse_digest(&d.to_uppercase()).is_none());
        assert!(parse_digest("sha256:abc").is_none());
        assert!(parse_digest("照片1").is_none());
        assert!(is_digest_ref("sha256:zz") && !is_digest_ref("照片1"));
    }

    #[tokio::test]
    async fn local_round_trip_limit_and_tampering() {
        let dir = tempfile::tempdir().unwrap();
        let store = EvidenceStore::local(dir.path(), 8).unwrap();
        let d = store
            .put(Bytes::from_static(b"photo"), "image/jpeg")
            .await
            .unwrap();
        assert_eq!(d, digest_of(b"photo"));
        // Idempotent: the same content again is the same digest.
        assert_eq!(
            store
                .put(Bytes::from_static(b"photo"), "image/jpeg")
                .await
                .unwrap(),
            d
        );
        assert_eq!(store.get(&d).await.unwrap(), Bytes::from_static(b"photo"));
        store.verify(&d).await.unwrap();
        assert!(store.exists(&d).await.unwrap());
        assert!(matches!(
            store
                .put(Bytes::from_static(b"too large"), "text/plain")
                .await,
            Err(EvidenceError::TooLarge { size: 9, max: 8 })
        ));
        let other = digest_of(b"never stored");
        assert!(matches!(
            store.verify(&other).await,
            Err(EvidenceError::Missing(_))
        ));
        assert!(!store.exists(&other).await.unwrap());
        let hex = parse_digest(&d).unwrap();
        std::fs::write(dir.path().join("sha256").join(hex), b"edited").unwrap();
        match store.verify(&d).await {
            Err(EvidenceError::Mismatch { expected, actual }) => {
                assert_eq!(expected, d);
                assert_eq!(actual, digest_of(b"edited"));
            }
            other => panic!("expected a mismatch, got {other:?}"),
        }
    }
}
