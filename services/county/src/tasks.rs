//! A department's joint-case tasks and handed-over case files: listing them, the lead's
//! entrusted decision (受委托依法依规作出决定), and a cooperating department's completion.

use liandong_bus::{Change, NewEvent};
use liandong_domain::auth::{Action, Actor, Resource, permits, permits_department_wide};
use liandong_domain::ids::{DepartmentCode, TownCode, TownScopedId};
use liandong_domain::limits::{FieldViolation, Validator};
use liandong_domain::outcome::check_outcome;
use liandong_domain::state::{TaskAction, TaskStatus};
use liandong_grpc::{ApiError, actor_to_event_certified, page_size};
use liandong_proto::county::v1 as pb;
use liandong_proto::events::v1 as ev;
use liandong_store::typed::{Nullable, Proto};
use liandong_topology::{AnyEvent, EventKind};

use crate::context::Api;
use crate::convert::{decided_event, handover_to_pb, outcome_input, task_to_pb};
use crate::task_store::{self, TaskRow};

/// The event a task action emits.
enum Emit {
    // Boxed: the largest by far, and it carries the case's facts for disclosure.
    Decided(Box<ev::EntrustedDecisionRecorded>),
    Completed(ev::TaskCompleted),
    /// A major decision, submitted to the department's legal office instead.
    ReviewRequested(Box<ev::Outcome>),
}

impl Emit {
    /// The task action the event stands for.
    fn action(&self) -> TaskAction {
        match self {
            Emit::Decided(_) => TaskAction::RecordDecision,
            Emit::Completed(_) => TaskAction::Complete,
            Emit::ReviewRequested(_) => TaskAction::SubmitForReview,
        }
    }
}

/// Checks a decision request: the task id, and the decision under `decision.*`. Nothing is
/// loaded or stored before it passes.
pub fn check_decision(
    task_id: &str,
    decision: &ev::Outcome,
    summary_max: usize,
    items_max: usize,
) -> Result<(), Vec<FieldViolation>> {
    let mut v = Validator::new();
    v.check("task_id", TownScopedId::parse(task_id));
    check_outcome(
        &mut v,
        "decision",
        &outcome_input(decision),
        summary_max,
        items_max,
    );
    v.finish()
}

/// Checks a completion request: the task id, and a summary that is required and within
/// `max` characters.
pub fn check_completion(
    task_id: &str,
    summary: &str,
    max: usize,
) -> Result<(), Vec<FieldViolation>> {
    let mut v = Validator::new();
    v.check("task_id", TownScopedId::parse(task_id));
    v.text("summary", summary, max, true);
    v.finish()
}

impl Api {
    pub(crate) async fn list_tasks_for(
        &self,
        actor: &Actor,
        r: pb::ListTasksRequest,
    ) -> Result<Vec<pb::Task>, ApiError> {
        let mut v = Validator::new();
        let department = v.check("department", DepartmentCode::parse(&r.department));
        let status = if r.status.is_empty() {
            None
        } else {
            v.check("status", TaskStatus::parse(&r.status))
        };
        v.finish().map_err(ApiError::Invalid)?;
        let department = department.expect("checked");
        permits_department_wide(actor, Action::ReadInbox, &department)?;
        let limit = page_size(r.page_size, 50, self.limits.page_size_max);
        let rows = task_store::tasks(&self.db, department.as_str(), status, limit).await?;
        // Each task listed carries its joint case's file: a read of it.
        for row in &rows {
            self.log_read_of(
                actor,
                "ListTasks",
                "task",
                &row.task_id,
                &row.town,
                &row.department,
            )
            .await?;
        }
        Ok(rows.iter().map(task_to_pb).collect())
    }

    pub(crate) async fn list_handovers_for(
        &self,
        actor: &Actor,
        r: pb::ListHandoversRequest,
    ) -> Result<Vec<pb::Handover>, ApiError> {
        let mut v = Validator::new();
        let department = v.check("department", DepartmentCode::parse(&r.department));
        if !r.case_id.is_empty() {
            v.check("case_id", TownScopedId::parse(&r.case_id));
        }
        v.finish().map_err(ApiError::Invalid)?;
        let department = department.expect("checked");
        permits_department_wide(actor, Action::ReadInbox, &department)?;
        let limit = page_size(r.page_size, 50, self.limits.page_size_max);
        let case_id = (!r.case_id.is_empty()).then_some(r.case_id.as_str());
        let rows = task_store::handovers(&self.db, department.as_str(), case_id, limit).await?;
        // A handover is a case file (its record's head, its evidence): each listed is a read.
        for row in &rows {
            self.log_read_of(
                actor,
                "ListHandovers",
                "handover",
                &row.handover_id,
                &row.town,
                &row.department,
            )
            .await?;
        }
        Ok(rows.iter().map(handover_to_pb).collect())
    }

    pub(crate) async fn record_decision(
        &self,
        actor: &Actor,
        r: pb::RecordEntrustedDecisionRequest,
    ) -> Result<pb::Task, ApiError> {
        let decision = r.decision.unwrap_or_default();
        check_decision(
            &r.task_id,
            &decision,
            self.limits.description_chars,
            self.limits.evidence_refs_per_case,
        )
        .map_err(ApiError::Invalid)?;
        let catalogue = &self.catalogue;
        self.act_on_task(actor, &r.task_id, Action::RecordEntrustedDecision, |row| {
            // A major decision (by the catalogue of the case's matters) takes effect only once
            // the department's legal office approves it: the task waits for the review, and
            // the decision is stored with the review until then.
            let facts = (*row.facts).clone();
            let major = crate::review_request::requires_review(catalogue, &facts, &decision)
                .map_err(|e| ApiError::FailedPrecondition(e.to_string()))?;
            if major {
                return Ok(Emit::ReviewRequested(Box::new(decision.clone())));
            }
            row.decision = Nullable(Some(Proto(decision.clone())));
            Ok(Emit::Decided(Box::new(decided_event(row, &decision)?)))
        })
        .await
    }

    pub(crate) async fn complete(
        &self,
        actor: &Actor,
        r: pb::CompleteTaskRequest,
    ) -> Result<pb::Task, ApiError> {
        check_completion(&r.task_id, &r.summary, self.limits.description_chars)
            .map_err(ApiError::Invalid)?;
        let summary = r.summary.trim().to_owned();
        self.act_on_task(actor, &r.task_id, Action::CompleteTask, |row| {
            row.summary = Some(summary.clone());
            Ok(Emit::Completed(ev::TaskCompleted {
                task_id: row.task_id.clone(),
                item_id: row.item_id.clone(),
                case_id: row.case_id.clone(),
                department: row.department.clone(),
                summary: summary.clone(),
                held_record: None,
            }))
        })
        .await
    }

    /// Loads the task, checks who may act, applies `change`, checks whether the task's role
    /// and state allow the action its event stands for, stores, emits, and commits — all or
    /// nothing.
    async fn act_on_task(
        &self,
        actor: &Actor,
        task_id: &str,
        permission: Action,
        change: impl FnOnce(&mut TaskRow) -> Result<Emit, ApiError>,
    ) -> Result<pb::Task, ApiError> {
        let now = self.clock.now();
        let mut tx = Change::begin(&self.db, &self.outbox).await?;
        let mut row = task_store::get_task_in_tx(&mut tx, task_id)
            .await?
            .ok_or_else(|| ApiError::NotFound(format!("no task {task_id}")))?;
        let town = TownCode::parse(&row.town).map_err(|e| ApiError::Internal(e.into()))?;
        let department =
            DepartmentCode::parse(&row.department).map_err(|e| ApiError::Internal(e.into()))?;
        permits(
            actor,
            permission,
            &Resource {
                town,
                department: Some(department),
            },
        )?;
        let certificate_no =
            crate::registry::require_certificate(&mut tx, actor, permission, &row.department, now)
                .await?;
        let status = row.status;
        let role = row.role;
        let mut emit = change(&mut row)?;
        let next = status.next(role, emit.action())?;
        row.status = next;
        if next != TaskStatus::AwaitingReview {
            row.done_at = Some(now);
        }
        row.updated_at = now;
        task_store::update_task(&mut tx, &row).await?;
        if let Emit::ReviewRequested(decision) = &emit {
            crate::review_request::submit_task(
                &mut tx,
                &self.outbox,
                &self.catalogue,
                now,
                &row,
                decision,
                actor_to_event_certified(actor, &certificate_no),
                None,
            )
            .await?;
            crate::record::enter(
                &mut tx,
                &row.case_id,
                &row.department,
                liandong_record::NewEntry {
                    at: now,
                    kind: EventKind::CountyReviewRequested.name(),
                    who: &liandong_record::Who::certified(actor, certificate_no.clone()),
                    detail: &format!(
                        "重大执法决定提请法制审核：{}（{}）",
                        decision.kind, decision.summary
                    ),
                    evidence_digests: Vec::new(),
                    event: None,
                },
            )
            .await?;
            tx.commit().await?;
            return Ok(task_to_pb(&row));
        }
        // Brigade and board both wait on these: the task stays open at the sender until a
        // receipt comes back.
        let ev = NewEvent {
            town: &row.town,
            department: Some(&row.department),
            aggregate_id: &row.task_id,
            actor: Some(actor_to_event_certified(actor, &certificate_no)),
            causation_id: None,
        };
        // The lead's step carries the head of its record of the file it holds, which the
        // brigade, keeping the event, holds once its receipt comes back.
        let held = crate::record::head_in_tx(&mut tx, &row.case_id, &row.department).await?;
        match &mut emit {
            Emit::Decided(p) => p.held_record = held.as_ref().map(|h| h.head.clone()),
            Emit::Completed(p) => p.held_record = held.as_ref().map(|h| h.head.clone()),
            Emit::ReviewRequested(_) => {}
        }
        let (event, detail) = match &emit {
            Emit::Decided(p) => (
                AnyEvent::CountyEntrustedDecisionRecorded(p.as_ref().clone()),
                p.decision.as_ref().map_or_else(String::new, |d| {
                    format!("受委托作出决定：{}（{}）", d.kind, d.summary)
                }),
            ),
            Emit::Completed(p) => (
                AnyEvent::CountyTaskCompleted(p.clone()),
                format!("任务完成：{}", p.summary),
            ),
            Emit::ReviewRequested(_) => unreachable!("submitted for review above"),
        };
        let kind = event.kind().name();
        let env = self.outbox.emit(&mut tx, now, ev, event).await?;
        crate::record::note_sent(&mut tx, &env.event_id, held.as_ref()).await?;
        if let Emit::Decided(p) = &emit
            && let Some(decision) = &p.decision
        {
            // The decision in force, which a later change names.
            liandong_decision::set_in_force(
                &mut tx,
                crate::review_request::on_task(&row.task_id),
                Some((&env, decision)),
                now,
            )
            .await?;
        }
        // The lead's step, in the record of the case file handed over to it (a cooperating
        // department holds no file, and enters nothing).
        crate::record::enter(
            &mut tx,
            &row.case_id,
            &row.department,
            liandong_record::NewEntry {
                at: now,
                kind,
                who: &liandong_record::Who::certified(actor, certificate_no.clone()),
                detail: &detail,
                evidence_digests: Vec::new(),
                event: Some(&env),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(task_to_pb(&row))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TASK: &str = "320100001-0190a0b0-0000-7000-8000-000000000001";

    fn fields(r: Result<(), Vec<FieldViolation>>) -> Vec<String> {
        r.err()
            .unwrap_or_default()
            .into_iter()
            .map(|f| f.field)
            .collect()
    }

    fn outcome(kind: &str, fine_fen: i64) -> ev::Outcome {
        ev::Outcome {
            kind: kind.into(),
            fine_fen,
            confiscated: vec![],
            summary: "责令限期拆除".into(),
            ..Default::default()
        }
    }

    #[test]
    fn a_decision_is_checked_under_the_decision_prefix() {
        let check = |o: ev::Outcome, expected: &[&str]| {
            assert_eq!(
                fields(check_decision(TASK, &o, 2000, 50)),
                expected,
                "{o:?}"
            );
        };
        check(outcome("order_to_correct", 0), &[]);
        check(outcome("fine", 800_000), &[]);
        check(outcome("fine", 0), &["decision.fine_fen"]);
        check(outcome("", 0), &["decision.kind"]);
        check(ev::Outcome::default(), &["decision.kind"]);
        check(outcome("warning", 100), &["decision.fine_fen"]);
        assert_eq!(
            fields(check_decision("t-1", &outcome("", 0), 2000, 50)),
            ["task_id", "decision.kind"]
        );
    }

    #[test]
    fn a_completion_needs_a_summary_within_the_limit() {
        assert!(check_completion(TASK, "已配合完成现场勘验", 20).is_ok());
        assert!(check_completion(TASK, &"长".repeat(20), 20).is_ok());
        assert_eq!(fields(check_completion(TASK, "", 20)), ["summary"]);
        assert_eq!(fields(check_completion(TASK, "   ", 20)), ["summary"]);
        assert_eq!(
            fields(check_completion(TASK, &"长".repeat(21), 20)),
            ["summary"]
        );
        assert_eq!(fields(check_completion("", "", 20)), ["task_id", "summary"]);
    }
}
