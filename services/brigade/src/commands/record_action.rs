//! An officer records a step taken on a case (执法全过程记录), under a certificate: a step of
//! the investigation, or a step of the procedure (`liandong_domain::procedure`) with its
//! document — the prior notice of the intended penalty, the party's statement and defence with
//! the answer, the hearing asked for, held or waived. The heads' collective discussion is the
//! captain's (`discuss`).

use liandong_domain::auth::{Action, Actor};
use liandong_domain::documents::DocKind;
use liandong_domain::limits::Validator;
use liandong_domain::procedure::StepKind;
use liandong_domain::record::evidence_digest;
use liandong_domain::state::CaseAction;
use liandong_grpc::ApiError;
use liandong_proto::brigade::v1 as pb;

use crate::case::ACTION_KINDS;
use crate::context::Api;
use crate::documents;
use crate::procedure;
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
        let step = StepKind::parse(&r.kind).ok();
        if step == Some(StepKind::CollectiveDiscussion) {
            v.finish().map_err(ApiError::Invalid)?;
            return self.discuss(actor, r).await;
        }
        // What each step of the procedure must state.
        let intended = match (step, &r.intended) {
            (Some(StepKind::Notice), None) => {
                v.violation("intended", "a prior notice states the intended penalty");
                None
            }
            (Some(StepKind::Notice), Some(o)) => match procedure::penalty_of(o, "intended") {
                Ok(Some(p)) => Some(p),
                Ok(None) => {
                    v.violation(
                        "intended.kind",
                        "a prior notice is of a penalty (warning, fine, confiscation, demolition)",
                    );
                    None
                }
                Err(ApiError::Invalid(violations)) => {
                    for fv in violations {
                        v.violation(fv.field, fv.description);
                    }
                    None
                }
                Err(e) => return Err(e),
            },
            (_, Some(_)) => {
                v.violation("intended", "only a prior notice states an intended penalty");
                None
            }
            (_, None) => None,
        };
        if step == Some(StepKind::Statement) {
            v.text("answer", &r.answer, self.limits.description_chars, true);
            if r.answer.trim().is_empty() {
                v.violation(
                    "answer",
                    "the body answers the statement and defence (adopted or not, and why)",
                );
            }
        } else if !r.answer.is_empty() {
            v.violation("answer", "only a statement and defence is answered");
        }
        if !r.participants.is_empty() {
            v.violation(
                "participants",
                "only a collective discussion has participants",
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
        if let Some(step) = step {
            procedure::insert(
                &mut a.tx,
                &a.row.case_id,
                step,
                now,
                actor.officer.as_str(),
                intended,
            )
            .await?;
            let who = Who::of(actor);
            let issue = |kind, facts: Option<&str>, decision: String, hearing_due| {
                (kind, facts.map(str::to_owned), decision, hearing_due)
            };
            let doc = match step {
                StepKind::Notice => {
                    let p = intended.expect("checked: a notice states its penalty");
                    let body = a.body(self, None)?;
                    let department = (body.kind
                        == liandong_domain::disclosure::BodyKind::Department)
                        .then(|| liandong_domain::ids::DepartmentCode::parse(&body.code).ok())
                        .flatten();
                    let party = r
                        .intended
                        .as_ref()
                        .map(procedure::party_of)
                        .unwrap_or(liandong_domain::masking::PartyKind::Person);
                    let o = r.intended.as_ref().expect("checked");
                    let words = documents::decision_words(o);
                    let due = self
                        .procedure
                        .hearing_for(department.as_ref())
                        .due(&p, party);
                    Some(issue(DocKind::NoticeBeforePenalty, None, words, due))
                }
                StepKind::Statement => Some(issue(
                    DocKind::StatementRecord,
                    Some(r.note.trim()),
                    r.answer.trim().to_owned(),
                    false,
                )),
                StepKind::HearingHeld => Some(issue(
                    DocKind::HearingRecord,
                    Some(r.note.trim()),
                    String::new(),
                    false,
                )),
                _ => None,
            };
            if let Some((kind, facts, decision, hearing_due)) = doc {
                documents::on_step(
                    &mut a.tx,
                    now,
                    &self.catalogue,
                    &self.towns,
                    &a.row,
                    kind,
                    facts.as_deref(),
                    &decision,
                    &[],
                    hearing_due,
                    &who,
                )
                .await?;
            }
        }
        store::set_status(&mut a.tx, &a.row.case_id, next, now).await?;
        self.finish(a, None).await
    }
}
