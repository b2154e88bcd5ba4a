//! The heads' collective discussion of a case (集体讨论, 行政处罚法 第五十七条), recorded by the
//! captain with who took part and what they decided, and its record (重大案件集体讨论记录). A
//! complex case's penalty is decided after it; a major decision its legal review approved
//! (`awaiting_discussion`) is decided by it: the case is concluded with the approved decision.

use liandong_domain::auth::{Action, Actor};
use liandong_domain::decision::Subject;
use liandong_domain::documents::DocKind;
use liandong_domain::limits::Validator;
use liandong_domain::procedure::{Procedure, StepKind};
use liandong_domain::record::evidence_digest;
use liandong_domain::state::{CaseAction, CaseStatus};
use liandong_grpc::ApiError;
use liandong_proto::brigade::v1 as pb;

use crate::context::Api;
use crate::documents;
use crate::legal_review;
use crate::procedure;
use crate::record::{self, NewEntry, Who};

impl Api {
    pub(crate) async fn discuss(
        &self,
        actor: &Actor,
        r: pb::RecordCaseActionRequest,
    ) -> Result<pb::Case, ApiError> {
        let mut v = Validator::new();
        v.text("note", &r.note, self.limits.description_chars, true);
        if r.note.trim().is_empty() {
            v.violation("note", "state what the heads decided");
        }
        if r.participants.len() < 2 {
            v.violation(
                "participants",
                "a collective discussion names the heads who took part (at least two)",
            );
        }
        v.max_items(
            "participants",
            r.participants.len(),
            self.limits.officers_per_action,
        );
        for (i, p) in r.participants.iter().enumerate() {
            v.text(
                format!("participants[{i}]"),
                p,
                self.limits.reason_chars,
                true,
            );
            if p.trim().is_empty() {
                v.violation(format!("participants[{i}]"), "must not be empty");
            }
        }
        if r.intended.is_some() {
            v.violation("intended", "only a prior notice states an intended penalty");
        }
        if !r.answer.is_empty() {
            v.violation("answer", "only a statement and defence is answered");
        }
        v.finish().map_err(ApiError::Invalid)?;
        let mut a = self
            .open_case(actor, Action::DiscussCase, &r.case_id)
            .await?;
        let (now, status) = (a.now, a.row.status);
        a.body(self, None)?;
        let next = match status {
            CaseStatus::AwaitingDiscussion => status.next(CaseAction::Discuss)?,
            _ => status.next(CaseAction::RecordAction)?,
        };
        let participants: Vec<String> =
            r.participants.iter().map(|p| p.trim().to_owned()).collect();
        let who = Who::of(actor);
        procedure::insert(
            &mut a.tx,
            &a.row.case_id,
            StepKind::CollectiveDiscussion,
            now,
            actor.officer.as_str(),
            None,
        )
        .await?;
        record::append(
            &mut a.tx,
            a.row.here(),
            NewEntry {
                at: now,
                kind: StepKind::CollectiveDiscussion.as_str(),
                who: &who,
                detail: &format!(
                    "负责人集体讨论（参加：{}）：{}",
                    participants.join("、"),
                    r.note.trim()
                ),
                evidence_digests: r.evidence_refs.iter().map(|e| evidence_digest(e)).collect(),
                event: None,
            },
        )
        .await?;
        documents::on_step(
            &mut a.tx,
            now,
            &self.catalogue,
            &self.towns,
            &a.row,
            DocKind::DiscussionRecord,
            None,
            r.note.trim(),
            &participants,
            false,
            &who,
        )
        .await?;
        if status == CaseStatus::AwaitingDiscussion {
            // The decision its legal review approved, as proposed.
            let review = liandong_decision::review_of(
                &mut a.tx,
                liandong_decision::On {
                    subject: Subject::Case,
                    id: &a.row.case_id,
                },
            )
            .await?
            .ok_or_else(|| {
                ApiError::FailedPrecondition(format!(
                    "case {} has no approved decision to discuss",
                    a.row.case_id
                ))
            })?;
            let proposer = review.proposer.0.clone();
            let by = Who::acting_for(&proposer, format!("brigade:{}", a.row.town));
            legal_review::conclude(
                &mut a.tx,
                &self.outbox,
                &self.catalogue,
                &self.towns,
                now,
                &a.row,
                &review.proposed.0,
                Some(proposer.clone()),
                &by,
                None,
                Procedure::Ordinary,
            )
            .await?;
        }
        self.finish(a, Some(next)).await
    }
}
