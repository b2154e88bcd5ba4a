//! Evidence at the brigade: uploads into the content-addressed store, the check of a report's digest references, and a department's refusal of a handover whose evidence failed.

use chrono::{DateTime, Utc};
use liandong_bus::{Change, HandlerError};
use liandong_domain::auth::{Action, Actor, Resource, permits};
use liandong_domain::ids::{TownCode, TownScopedId};
use liandong_evidence::Bytes;
use liandong_evidence::{EvidenceError, EvidenceStore, is_digest_ref, parse_digest};
use liandong_grpc::ApiError;
use liandong_proto::brigade::v1 as pb;
use liandong_proto::events::v1 as ev;
use liandong_store::Tx;

use crate::context::Api;
use crate::record::{self, NewEntry, Who};
use crate::store;

/// The longest filename kept with an upload, in characters.
const FILENAME_CHARS: usize = 200;

/// Photos, video, audio, PDF and plain text: what evidence at a scene is. Anything else (an
/// executable, an archive) is refused rather than stored unseen.
fn content_type_allowed(ct: &str) -> bool {
    let ct = ct.split(';').next().unwrap_or("").trim();
    ["image/", "video/", "audio/"]
        .iter()
        .any(|p| ct.len() > p.len() && ct.starts_with(p))
        || matches!(ct, "application/pdf" | "text/plain")
}

fn store_error(e: EvidenceError) -> ApiError {
    match e {
        EvidenceError::TooLarge { .. } => ApiError::field("content", e.to_string()),
        other => ApiError::Internal(other.into()),
    }
}

/// Checks that every `sha256:` reference of a report names stored evidence. References
/// without the prefix stay allowed: free text (a paper file's number, a photo's name on an
/// officer's camera) from before evidence was uploaded, which nothing can check.
pub async fn check_refs(store: &EvidenceStore, refs: &[String]) -> Result<(), ApiError> {
    let mut missing = Vec::new();
    for (i, r) in refs.iter().enumerate() {
        if !is_digest_ref(r) {
            continue;
        }
        let field = format!("evidence_refs[{i}]");
        if parse_digest(r).is_none() {
            missing.push(tonic_field(
                field,
                "is not sha256:<64 lowercase hex digits>",
            ));
        } else if !store.exists(r).await.map_err(store_error)? {
            missing.push(tonic_field(field, "no such evidence"));
        }
    }
    if missing.is_empty() {
        Ok(())
    } else {
        Err(ApiError::Invalid(missing))
    }
}

fn tonic_field(field: String, description: &str) -> liandong_domain::limits::FieldViolation {
    liandong_domain::limits::FieldViolation {
        field,
        description: description.into(),
    }
}

impl Api {
    /// Stores an upload and, when it names a case, enters it in the case's record with its
    /// digest.
    pub(crate) async fn upload_evidence(
        &self,
        actor: &Actor,
        r: pb::UploadEvidenceRequest,
    ) -> Result<pb::UploadEvidenceResponse, ApiError> {
        let mut bad = Vec::new();
        let town = if r.case_id.is_empty() {
            TownCode::parse(&r.town)
                .map_err(|e| bad.push(tonic_field("town".into(), &e.to_string())))
                .ok()
        } else {
            TownScopedId::parse(&r.case_id)
                .map_err(|e| bad.push(tonic_field("case_id".into(), &e.to_string())))
                .ok()
                .map(|id| id.town().clone())
        };
        let filename = r.filename.trim();
        if filename.is_empty() || filename.chars().count() > FILENAME_CHARS {
            bad.push(tonic_field(
                "filename".into(),
                &format!("is required, at most {FILENAME_CHARS} characters"),
            ));
        }
        if !content_type_allowed(&r.content_type) {
            bad.push(tonic_field(
                "content_type".into(),
                "must be image/*, video/*, audio/*, application/pdf or text/plain",
            ));
        }
        if r.content.is_empty() {
            bad.push(tonic_field("content".into(), "is empty"));
        } else if r.content.len() as u64 > self.evidence.max_bytes() {
            bad.push(tonic_field(
                "content".into(),
                &format!("is over the limit of {} bytes", self.evidence.max_bytes()),
            ));
        }
        if !bad.is_empty() {
            return Err(ApiError::Invalid(bad));
        }
        let town = town.expect("checked");
        permits(
            actor,
            Action::UploadEvidence,
            &Resource {
                town: town.clone(),
                department: None,
            },
        )?;
        let case = if r.case_id.is_empty() {
            None
        } else {
            Some(
                store::case(&self.db, &r.case_id)
                    .await?
                    .ok_or_else(|| ApiError::NotFound(format!("no case {}", r.case_id)))?,
            )
        };
        let size = r.content.len() as u64;
        let content_type = r.content_type.trim().to_owned();
        // The content is stored before the record names it: a record entry never cites bytes
        // that are not there, and an upload whose entry failed is just stored twice later.
        let digest = self
            .evidence
            .put(Bytes::from(r.content), &content_type)
            .await
            .map_err(store_error)?;
        if let Some(case) = case {
            let now = self.clock.now();
            let who = Who::of(actor);
            let detail = format!("上传证据 {filename}（{content_type}，{size} 字节）{digest}");
            let mut tx = Change::begin(&self.db, &self.outbox).await?;
            record::append(
                &mut tx,
                case.here(),
                NewEntry {
                    at: now,
                    kind: "evidence",
                    who: &who,
                    detail: &detail,
                    evidence_digests: vec![
                        parse_digest(&digest).expect("a fresh digest").to_owned(),
                    ],
                    event: None,
                },
            )
            .await?;
            tx.commit().await?;
        }
        tracing::info!(%digest, size, "Evidence was uploaded.");
        Ok(pb::UploadEvidenceResponse { digest, size })
    }
}

/// Applies `county.case_handover_refused`: the department refused a handed-over file because
/// evidence it cites is missing or altered; the refusal and its reasons enter the record.
pub async fn handover_refused(
    tx: &mut Tx,
    env: &ev::Envelope,
    e: ev::CaseHandoverRefused,
    who: &Who,
    now: DateTime<Utc>,
) -> Result<(), HandlerError> {
    let case = store::case_in_tx(tx, &e.case_id)
        .await?
        .ok_or_else(|| HandlerError::Reject(format!("no case {} at this brigade", e.case_id)))?;
    let detail = format!(
        "{} 拒收案卷移交（移交编号 {}），证据校验未通过：{}",
        e.department,
        e.handover_id,
        e.reasons.join("；")
    );
    // The failed digests are named in the entry itself, so the record shows which evidence.
    let digests = e
        .reasons
        .iter()
        .filter_map(|r| r.split(':').nth(1).map(str::to_owned))
        .collect();
    record::append(
        tx,
        case.here(),
        NewEntry {
            at: now,
            kind: "handover_refused",
            who,
            detail: &detail,
            evidence_digests: digests,
            event: Some(env),
        },
    )
    .await?;
    tracing::warn!(case_id = %case.case_id, handover_id = %e.handover_id, "A department refused a handover: its evidence failed the check.");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_types_are_allowed_by_family() {
        for ok in [
            "image/jpeg",
            "video/mp4",
            "audio/amr",
            "application/pdf",
            "text/plain; charset=utf-8",
        ] {
            assert!(content_type_allowed(ok), "{ok}");
        }
        for no in [
            "",
            "image/",
            "application/zip",
            "application/x-msdownload",
            "text/html",
        ] {
            assert!(!content_type_allowed(no), "{no}");
        }
    }
}
