//! Handling a case after triage: assigning officers, recording steps, concluding in-scope
//! cases, executing joint decisions, and reading the results departments sent back.

use liandong_bus::{Change, NewEvent};
use liandong_domain::auth::{Action, Actor, Resource, permits};
use liandong_domain::decision_change::{ChangeInput, DecisionChange, check_change};
use liandong_domain::ids::{OfficerId, TownScopedId};
use liandong_domain::limits::Validator;
use liandong_domain::outcome::{OutcomeInput, check_outcome};
use liandong_domain::record::evidence_digest;
use liandong_domain::state::{CaseAction, CaseStatus};
use liandong_grpc::{ApiError, actor_label, actor_to_event_certified};
use liandong_proto::brigade::v1 as pb;
use liandong_proto::events::v1 as ev;
use liandong_proto::time::to_ts;
use liandong_store::Tx;
use liandong_topology::AnyEvent;

use crate::context::Api;
use crate::convert::case_to_pb;
use crate::convert::json;
use crate::documents;
use crate::flow::joint_aggregate;
use crate::legal_review;
use crate::record::{self, NewEntry, Who};
use crate::registry;
use crate::store::{self, CaseRow};

/// The kinds of step an officer records on a case (执法全过程记录).
pub const ACTION_KINDS: [&str; 6] = [
    "inspection",
    "evidence",
    "notice",
    "interview",
    "execution_step",
    "other",
];

impl Api {
    /// Loads a case inside `tx` and checks that `actor` may take `action` on it.
    async fn load_for(
        &self,
        tx: &mut Tx,
        actor: &Actor,
        action: Action,
        case_id: &str,
    ) -> Result<(CaseRow, CaseStatus), ApiError> {
        let id =
            TownScopedId::parse(case_id).map_err(|e| ApiError::field("case_id", e.to_string()))?;
        let row = store::case_in_tx(tx, case_id)
            .await?
            .ok_or_else(|| ApiError::NotFound(format!("no case {case_id}")))?;
        permits(
            actor,
            action,
            &Resource {
                town: id.town().clone(),
                department: None,
            },
        )?;
        let status = row.status;
        Ok((row, status))
    }

    pub(crate) async fn assign(
        &self,
        actor: &Actor,
        r: pb::AssignCaseRequest,
    ) -> Result<pb::Case, ApiError> {
        let mut v = Validator::new();
        if r.officers.is_empty() {
            v.violation("officers", "name at least one officer");
        }
        v.max_items(
            "officers",
            r.officers.len(),
            self.limits.officers_per_action,
        );
        let officers: Vec<String> = r
            .officers
            .iter()
            .enumerate()
            .filter_map(|(i, o)| v.check(format!("officers[{i}]"), OfficerId::parse(o)))
            .map(|o| o.to_string())
            .collect();
        v.finish().map_err(ApiError::Invalid)?;
        let now = self.clock.now();
        let mut tx = Change::begin(&self.db, &self.outbox).await?;
        let (mut row, status) = self
            .load_for(&mut tx, actor, Action::AssignCase, &r.case_id)
            .await?;
        let next = status.next(CaseAction::Assign)?;
        let who = actor_label(actor);
        let here = row.here();
        store::upsert_assignment(&mut tx, here, &json(&officers), &who, now).await?;
        store::set_status(&mut tx, &row.case_id, next, now).await?;
        store::add_history(
            &mut tx,
            here,
            now,
            "assigned",
            &Who::of(actor),
            &format!("指派执法人员：{}", officers.join("、")),
            None,
        )
        .await?;
        documents::on_assign(
            &mut tx,
            now,
            &self.catalogue,
            &self.towns,
            &row,
            &officers,
            &Who::of(actor),
        )
        .await?;
        tx.commit().await?;
        row.status = next;
        row.updated_at = now;
        self.full(row).await
    }

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
        let now = self.clock.now();
        let mut tx = Change::begin(&self.db, &self.outbox).await?;
        let (mut row, status) = self
            .load_for(&mut tx, actor, Action::RecordCaseAction, &r.case_id)
            .await?;
        // 持证上岗: the record keeps the certificate each step was taken under.
        let certificate_no =
            registry::require_certificate(&mut tx, actor, Action::RecordCaseAction, &row.town, now)
                .await?;
        let by = Who::certified(actor, certificate_no);
        let next = status.next(CaseAction::RecordAction)?;
        let mut detail = r.note.trim().to_owned();
        if !r.evidence_refs.is_empty() {
            detail.push_str(&format!("（证据：{}）", r.evidence_refs.join("、")));
        }
        let here = row.here();
        record::append(
            &mut tx,
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
                &mut tx,
                now,
                &self.catalogue,
                &self.towns,
                &row,
                r.note.trim(),
                &Who::of(actor),
            )
            .await?;
        }
        store::set_status(&mut tx, &row.case_id, next, now).await?;
        tx.commit().await?;
        row.updated_at = now;
        self.full(row).await
    }

    pub(crate) async fn conclude(
        &self,
        actor: &Actor,
        r: pb::ConcludeCaseRequest,
    ) -> Result<pb::Case, ApiError> {
        let outcome = r.outcome.unwrap_or_default();
        let mut v = Validator::new();
        let input = OutcomeInput {
            kind: &outcome.kind,
            fine_fen: outcome.fine_fen,
            confiscated: outcome
                .confiscated
                .iter()
                .map(|c| (c.kind.as_str(), c.count))
                .collect(),
            summary: &outcome.summary,
        };
        check_outcome(
            &mut v,
            "outcome",
            &input,
            self.limits.description_chars,
            self.limits.evidence_refs_per_case,
        );
        v.finish().map_err(ApiError::Invalid)?;
        let now = self.clock.now();
        let mut tx = Change::begin(&self.db, &self.outbox).await?;
        let (mut row, status) = self
            .load_for(&mut tx, actor, Action::ConcludeCase, &r.case_id)
            .await?;
        let certificate_no =
            registry::require_certificate(&mut tx, actor, Action::ConcludeCase, &row.town, now)
                .await?;
        let event_actor = actor_to_event_certified(actor, &certificate_no);
        let major = legal_review::requires_review(&self.catalogue, &row, &outcome)
            .map_err(|e| ApiError::FailedPrecondition(e.to_string()))?;
        let next = if major {
            // A major decision does not take effect yet: it waits for the judicial office.
            let next = status.next(CaseAction::SubmitForReview)?;
            legal_review::submit(
                &mut tx,
                &self.outbox,
                &self.towns,
                now,
                &row,
                &outcome,
                event_actor,
                None,
            )
            .await?;
            next
        } else {
            let next = status.next(CaseAction::Conclude)?;
            let who = Who::certified(actor, certificate_no);
            legal_review::conclude(
                &mut tx,
                &self.outbox,
                &self.catalogue,
                &self.towns,
                now,
                &row,
                &outcome,
                Some(event_actor),
                &who,
                None,
            )
            .await?;
            next
        };
        tx.commit().await?;
        row.status = next;
        row.updated_at = now;
        self.full(row).await
    }

    pub(crate) async fn execute_joint(
        &self,
        actor: &Actor,
        r: pb::RecordJointExecutionRequest,
    ) -> Result<pb::Case, ApiError> {
        let mut v = Validator::new();
        v.text("summary", &r.summary, self.limits.description_chars, true);
        v.finish().map_err(ApiError::Invalid)?;
        let now = self.clock.now();
        let mut tx = Change::begin(&self.db, &self.outbox).await?;
        let (mut row, status) = self
            .load_for(&mut tx, actor, Action::RecordExecution, &r.case_id)
            .await?;
        let certificate_no =
            registry::require_certificate(&mut tx, actor, Action::RecordExecution, &row.town, now)
                .await?;
        let next = status.next(CaseAction::JointExecuted)?;
        let mut joint = store::joint_in_tx(&mut tx, &row.case_id)
            .await?
            .ok_or_else(|| {
                ApiError::FailedPrecondition("the joint meeting has not approved this case".into())
            })?;
        if joint.decision.is_none() {
            return Err(ApiError::FailedPrecondition(format!(
                "the lead department {} has not yet recorded its decision",
                joint.lead_department
            )));
        }
        joint.executed_at = Some(now);
        joint.updated_at = now;
        store::upsert_joint(&mut tx, &joint).await?;
        store::set_status(&mut tx, &row.case_id, next, now).await?;
        let env = self
            .outbox
            .emit(
                &mut tx,
                now,
                NewEvent {
                    town: &row.town,
                    department: None,
                    aggregate_id: &joint_aggregate(&row.case_id),
                    actor: Some(actor_to_event_certified(actor, &certificate_no)),
                    causation_id: None,
                },
                AnyEvent::BrigadeJointExecuted(ev::JointExecuted {
                    case_id: row.case_id.clone(),
                    item_id: joint.item_id.clone(),
                    summary: r.summary.trim().into(),
                }),
            )
            .await?;
        let here = row.here();
        let detail = legal_review::certified(
            &format!("协同执法到位：{}", r.summary.trim()),
            &certificate_no,
        );
        let by = Who::certified(actor, certificate_no);
        store::add_history(
            &mut tx,
            here,
            now,
            liandong_topology::names::JOINT_EXECUTED,
            &by,
            &detail,
            Some(&env),
        )
        .await?;
        tx.commit().await?;
        row.status = next;
        row.updated_at = now;
        self.full(row).await
    }

    /// Amends or revokes a concluded case's decision in the town government's name. The change
    /// is kept in the record, a new decision document is issued for an amendment, and
    /// `brigade.decision_changed` names the event of the decision it replaces, so that the
    /// disclosure service withdraws that decision's disclosure (and discloses the amended one).
    pub(crate) async fn change_decision(
        &self,
        actor: &Actor,
        r: pb::ChangeDecisionRequest,
    ) -> Result<pb::Case, ApiError> {
        let input = ChangeInput {
            change: &r.change,
            reason: &r.reason,
            outcome: r.outcome.as_ref().map(|o| OutcomeInput {
                kind: &o.kind,
                fine_fen: o.fine_fen,
                confiscated: o
                    .confiscated
                    .iter()
                    .map(|c| (c.kind.as_str(), c.count))
                    .collect(),
                summary: &o.summary,
            }),
        };
        let mut v = Validator::new();
        if let Err(e) = TownScopedId::parse(&r.case_id) {
            v.violation("case_id", e.to_string());
        }
        let change = check_change(
            &mut v,
            &input,
            self.limits.reason_chars,
            self.limits.description_chars,
            self.limits.evidence_refs_per_case,
        );
        v.finish().map_err(ApiError::Invalid)?;
        let change = change.expect("checked");
        let reason = r.reason.trim();
        let now = self.clock.now();
        let mut tx = Change::begin(&self.db, &self.outbox).await?;
        let (mut row, status) = self
            .load_for(&mut tx, actor, Action::ChangeDecision, &r.case_id)
            .await?;
        // Refused early, before the certificate is asked for, when there is nothing to change.
        let next = status.next(match change {
            DecisionChange::Amend => CaseAction::AmendDecision,
            DecisionChange::Revoke => CaseAction::RevokeDecision,
        })?;
        let certificate_no =
            registry::require_certificate(&mut tx, actor, Action::ChangeDecision, &row.town, now)
                .await?;
        let in_force = liandong_decision::in_force(
            &mut tx,
            liandong_decision::On {
                subject: liandong_domain::decision::Subject::Case,
                id: &row.case_id,
            },
        )
        .await?
        .ok_or_else(|| {
            ApiError::FailedPrecondition(format!(
                "case {} has no decision in force to change",
                row.case_id
            ))
        })?;
        let superseded = in_force.event_id.clone();
        let by = Who::certified(actor, certificate_no.clone());
        // The party stays the same unless the amendment names it.
        let amended = liandong_decision::amended(change, r.outcome, Some(&in_force));
        let proposer = actor_to_event_certified(actor, &certificate_no);
        let major = match &amended {
            Some(o) => legal_review::requires_review(&self.catalogue, &row, o)
                .map_err(|e| ApiError::FailedPrecondition(e.to_string()))?,
            None => false,
        };
        if let Some(o) = amended.as_ref().filter(|_| major) {
            // Amended into a major decision: the decision in force stands until the legal
            // review approves the amendment (法制审核), which then takes effect as below.
            let next = status.next(CaseAction::SubmitAmendmentForReview)?;
            let change = liandong_decision::Amendment {
                reason: reason.to_owned(),
                superseded_event_id: superseded.clone(),
            };
            legal_review::submit(
                &mut tx,
                &self.outbox,
                &self.towns,
                now,
                &row,
                o,
                proposer,
                Some(change),
            )
            .await?;
            tx.commit().await?;
            tracing::info!(case_id = %row.case_id, superseded = %superseded, "An amendment into a major decision awaits the legal review.");
            row.status = next;
            row.updated_at = now;
            return self.full(row).await;
        }
        legal_review::change_decision(
            &mut tx,
            &self.outbox,
            &self.catalogue,
            &self.towns,
            now,
            &row,
            legal_review::Decided {
                change,
                reason,
                superseded_event_id: &superseded,
                amended: amended.as_ref(),
                next,
            },
            Some(proposer),
            &by,
            None,
        )
        .await?;
        tx.commit().await?;
        tracing::info!(case_id = %row.case_id, change = change.as_str(), superseded = %superseded, "A decision was changed.");
        row.status = next;
        row.updated_at = now;
        self.full(row).await
    }

    /// A case with what was recorded about its handling.
    pub(crate) async fn full(&self, row: CaseRow) -> Result<pb::Case, ApiError> {
        let mut case = case_to_pb(&row);
        case.officers = store::officers(&self.db, &row.case_id).await?;
        case.outcome = store::outcome(&self.db, &row.case_id).await?;
        if let Some(j) = store::joint(&self.db, &row.case_id).await? {
            case.joint = Some(pb::JointInfo {
                item_id: j.item_id,
                lead_department: j.lead_department,
                cooperating_departments: j.cooperating.0.clone(),
                decision: j.decision.0.clone().map(|p| p.0),
                decided_in_name_of: j.decided_in_name_of.unwrap_or_default(),
                completed_by: j.completed_by.0.clone(),
                executed_at: j.executed_at.map(to_ts),
            });
        }
        Ok(case)
    }

    pub(crate) async fn results(
        &self,
        actor: &Actor,
        r: pb::ListResultsRequest,
    ) -> Result<Vec<pb::ResultCopy>, ApiError> {
        let town = liandong_domain::ids::TownCode::parse(&r.town)
            .map_err(|e| ApiError::field("town", e.to_string()))?;
        permits(
            actor,
            Action::ReadCase,
            &Resource {
                town: town.clone(),
                department: None,
            },
        )?;
        let limit = liandong_grpc::page_size(r.page_size, 50, self.limits.page_size_max);
        let rows = store::results(&self.db, town.as_str(), limit).await?;
        Ok(rows
            .into_iter()
            .map(|r| {
                let confiscated = r.confiscated.0;
                pb::ResultCopy {
                    referral_id: r.referral_id,
                    case_id: r.case_id,
                    department: r.department,
                    outcome: Some(ev::Outcome {
                        kind: r.outcome_kind,
                        fine_fen: r.fine_fen,
                        confiscated: confiscated
                            .into_iter()
                            .map(|(kind, count)| ev::ConfiscatedItem { kind, count })
                            .collect(),
                        summary: r.summary,
                        ..Default::default()
                    }),
                    concluded_by: r.concluded_by,
                    received_at: Some(to_ts(r.received_at)),
                }
            })
            .collect())
    }
}
