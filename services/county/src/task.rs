//! Acting on a joint-case task, the one path every command on a task takes: open it (begin the
//! change, load, authorise, the certificate the act needs), the domain's transition, the row
//! stored, the step emitted (or a major decision submitted for review), kept in the record of
//! the case file held, committed. And the department's lists of its tasks and handed-over files.

use chrono::{DateTime, Utc};
use liandong_bus::{Change, NewEvent, Outbox};
use liandong_domain::auth::{Action, Actor, Resource, permits, permits_department_wide};
use liandong_domain::ids::{DepartmentCode, TownCode, TownScopedId};
use liandong_domain::limits::{FieldViolation, Validator};
use liandong_domain::outcome::check_outcome;
use liandong_domain::state::{TaskAction, TaskStatus};
use liandong_grpc::{ApiError, actor_to_event_certified, page_size};
use liandong_proto::county::v1 as pb;
use liandong_proto::events::v1 as ev;
use liandong_record::{NewEntry, Who};
use liandong_store::Tx;
use liandong_topology::{AnyEvent, EventKind};

use crate::context::Api;
use crate::convert::{handover_to_pb, outcome_input, task_to_pb};
use crate::task_store::{self, TaskRow};
/// The event a task action emits.
pub(crate) enum Emit {
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

/// A task loaded for a step: the change it is taken in, the row as it stood, and the
/// enforcement certificate the actor acts under (empty where the step needs none).
pub(crate) struct Acting<'a> {
    pub tx: Change<'a>,
    pub row: TaskRow,
    pub certificate_no: String,
    pub now: DateTime<Utc>,
}

impl Acting<'_> {
    /// Who acted, as the record keeps it: the actor and the certificate used.
    pub fn who(&self, actor: &Actor) -> Who {
        Who::certified(actor, self.certificate_no.clone())
    }

    /// Keeps the step in the record of the case file handed over to the department (a
    /// cooperating department holds no file, and enters nothing).
    pub async fn keep(
        &mut self,
        actor: &Actor,
        kind: &str,
        detail: &str,
        event: Option<&ev::Envelope>,
    ) -> Result<(), ApiError> {
        let who = self.who(actor);
        crate::record::enter(
            &mut self.tx,
            &self.row.case_id,
            &self.row.department,
            NewEntry {
                at: self.now,
                kind,
                who: &who,
                detail,
                evidence_digests: Vec::new(),
                event,
            },
        )
        .await?;
        Ok(())
    }

    /// Stores the row as it now stands.
    pub async fn save(&mut self) -> Result<(), ApiError> {
        task_store::update_task(&mut self.tx, &self.row).await?;
        Ok(())
    }

    /// Commits the change and answers with the task as stored.
    pub async fn finish(self) -> Result<pb::Task, ApiError> {
        self.tx.commit().await?;
        Ok(task_to_pb(&self.row))
    }
}

impl Api {
    /// Acting on a task, the part every command on it shares: begins the change, loads the
    /// task in it, checks that `actor` may take `permission` on the task's department, and
    /// asks for the enforcement certificate the action needs (持证上岗).
    pub(crate) async fn open_task(
        &self,
        actor: &Actor,
        task_id: &str,
        permission: Action,
    ) -> Result<Acting<'_>, ApiError> {
        let now = self.clock.now();
        let mut tx = Change::begin(&self.db, &self.outbox).await?;
        let row = task_store::get_task_in_tx(&mut tx, task_id)
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
        Ok(Acting {
            tx,
            row,
            certificate_no,
            now,
        })
    }

    /// A step on a task: opens it, applies `change`, checks whether the task's role and state
    /// allow the action its event stands for, stores, emits (or submits a major decision for
    /// review), keeps the step in the record, and commits — all or nothing.
    pub(crate) async fn act_on_task(
        &self,
        actor: &Actor,
        task_id: &str,
        permission: Action,
        change: impl FnOnce(&mut TaskRow) -> Result<Emit, ApiError>,
    ) -> Result<pb::Task, ApiError> {
        let mut a = self.open_task(actor, task_id, permission).await?;
        let now = a.now;
        let status = a.row.status;
        let role = a.row.role;
        let emit = change(&mut a.row)?;
        let next = status.next(role, emit.action())?;
        a.row.status = next;
        if next != TaskStatus::AwaitingReview {
            a.row.done_at = Some(now);
        }
        a.row.updated_at = now;
        a.save().await?;
        if let Emit::ReviewRequested(decision) = &emit {
            crate::review_request::submit_task(
                &mut a.tx,
                &self.outbox,
                &self.catalogue,
                now,
                &a.row,
                decision,
                actor_to_event_certified(actor, &a.certificate_no),
                None,
            )
            .await?;
            let detail = format!(
                "重大执法决定提请法制审核：{}（{}）",
                decision.kind, decision.summary
            );
            a.keep(
                actor,
                EventKind::CountyReviewRequested.name(),
                &detail,
                None,
            )
            .await?;
            return a.finish().await;
        }
        let (event, detail) = match emit {
            Emit::Decided(p) => {
                let detail = p.decision.as_ref().map_or_else(String::new, |d| {
                    format!("受委托作出决定：{}（{}）", d.kind, d.summary)
                });
                (AnyEvent::CountyEntrustedDecisionRecorded(*p), detail)
            }
            Emit::Completed(p) => {
                let detail = format!("任务完成：{}", p.summary);
                (AnyEvent::CountyTaskCompleted(p), detail)
            }
            Emit::ReviewRequested(_) => unreachable!("submitted for review above"),
        };
        let kind = event.kind().name();
        let actor_event = actor_to_event_certified(actor, &a.certificate_no);
        let env = emit_step(
            &mut a.tx,
            &self.outbox,
            now,
            &a.row,
            actor_event,
            None,
            event,
        )
        .await?;
        // The lead's step, in the record of the case file handed over to it.
        a.keep(actor, kind, &detail, Some(&env)).await?;
        a.finish().await
    }

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
}

/// Emits a step of a task, the same whether the department took it or the legal office's
/// answer did (`causation_id`): stamped with the head of the record of the case file the lead
/// holds, and, for a decision, the decision put in force. Brigade and board both wait on these:
/// the task stays open at the sender until a receipt comes back.
pub(crate) async fn emit_step(
    tx: &mut Tx,
    outbox: &Outbox,
    now: DateTime<Utc>,
    row: &TaskRow,
    actor: ev::Actor,
    causation_id: Option<&str>,
    mut event: AnyEvent,
) -> Result<ev::Envelope, sqlx::Error> {
    let ev = NewEvent {
        town: &row.town,
        department: Some(&row.department),
        aggregate_id: &row.task_id,
        actor: Some(actor),
        causation_id,
    };
    // The lead's step carries the head of its record of the file it holds, which the
    // brigade, keeping the event, holds once its receipt comes back.
    let held = crate::record::head_in_tx(tx, &row.case_id, &row.department).await?;
    let decided = match &mut event {
        AnyEvent::CountyEntrustedDecisionRecorded(p) => {
            p.held_record = held.as_ref().map(|h| h.head.clone());
            p.decision.clone()
        }
        AnyEvent::CountyTaskCompleted(p) => {
            p.held_record = held.as_ref().map(|h| h.head.clone());
            None
        }
        _ => None,
    };
    let env = outbox.emit(tx, now, ev, event).await?;
    crate::record::note_sent(tx, &env.event_id, held.as_ref()).await?;
    if let Some(decision) = &decided {
        // The decision in force, which a later change names.
        liandong_decision::set_in_force(
            tx,
            crate::review_request::on_task(&row.task_id),
            Some((&env, decision)),
            now,
        )
        .await?;
    }
    Ok(env)
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
