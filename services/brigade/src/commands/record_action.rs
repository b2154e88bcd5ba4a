//! An officer records a step taken on a case (执法全过程记录), under a certificate.

use liandong_domain::auth::{Action, Actor};
use liandong_domain::limits::Validator;
use liandong_domain::record::evidence_digest;
use liandong_domain::state::CaseAction;
use liandong_grpc::ApiError;
use liandong_proto::brigade::v1 as pb;

use crate::case::ACTION_KINDS;
use crate::context::Api;
use crate::documents;
use crate::record::{self, NewEntry, Who};
use crate::store;

impl Api {
    pub(crate) async fn record_action(
        &self,
        actor: &Actor,
        r: pb::RecordCaseActionRequest,
    ) -> Result<pb::Case, ApiError> {
        let mut v = Validator::new();
        if !ACTION_KINDS.contains(&r.kind.as_str()) {
            v.violation(
                "kind",
                format!("must be one of {}", ACTION_KINDS.join(", ")),
            );
        }
        v.text("note", &r.note, self.limits.description_chars, true);
        v.max_items(
            "evidence_refs",
            r.evidence_refs.len(),
            self.limits.evidence_refs_per_case,
        );
        for (i, e) in r.evidence_refs.iter().enumerate() {
            v.text(
                format!("evidence_refs[{i}]"),
                e,
                self.limits.evidence_ref_chars,
                true,
            );
        }
        v.finish().map_err(ApiError::Invalid)?;
        let mut a = self
            .open_case(actor, Action::RecordCaseAction, &r.case_id)
            .await?;
        let (now, status) = (a.now, a.row.status);
        a.body(self, None)?;
        // 持证上岗: the record keeps the certificate each step was taken under.
        let certificate_no = a.certificate(actor, Action::RecordCaseAction).await?;
        let by = Who::certified(actor, certificate_no);
        let next = status.next(CaseAction::RecordAction)?;
        let mut detail = r.note.trim().to_owned();
        if !r.evidence_refs.is_empty() {
            detail.push_str(&format!("（证据：{}）", r.evidence_refs.join("、")));
        }
        let here = a.row.here();
        record::append(
            &mut a.tx,
            here,
            NewEntry {
                at: now,
                kind: &r.kind,
                who: &by,
                detail: &detail,
                evidence_digests: r.evidence_refs.iter().map(|e| evidence_digest(e)).collect(),
                event: None,
            },
        )
        .await?;
        if r.kind == "notice" {
            documents::on_notice(
                &mut a.tx,
                now,
                &self.catalogue,
                &self.towns,
                &a.row,
                r.note.trim(),
                &Who::of(actor),
            )
            .await?;
        }
        store::set_status(&mut a.tx, &a.row.case_id, next, now).await?;
        self.finish(a, None).await
    }
}
