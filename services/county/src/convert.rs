//! Conversions between the county's rows, the events it receives and its API's messages.

use chrono::{DateTime, Utc};
use liandong_domain::ids::DepartmentCode;
use liandong_domain::state::{HandoverStatus, TaskRole, TaskStatus};
use liandong_proto::county::v1 as pb;
use liandong_proto::events::v1 as ev;
use liandong_proto::time::{from_ts, to_ts};
use liandong_store::typed::{Json, Nullable, Proto};

use crate::store::ReferralRow;
use crate::task_store::{HandoverRow, TaskRow};

/// A history line with the enforcement certificate the step was taken under, if it needed one.
pub(crate) fn certified(detail: &str, certificate_no: &str) -> String {
    if certificate_no.is_empty() {
        detail.to_owned()
    } else {
        format!("{detail}（执法证号 {certificate_no}）")
    }
}

/// A referral as the API shows it.
pub fn referral_to_pb(r: &ReferralRow) -> pb::Referral {
    pb::Referral {
        referral_id: r.referral_id.clone(),
        department: r.department.clone(),
        status: r.status.as_str().into(),
        facts: Some(r.facts.0.clone()),
        dispatch_no: r.dispatch_no as u32,
        dispatched_at: Some(to_ts(r.dispatched_at)),
        received_at: Some(to_ts(r.received_at)),
        signed_for_at: r.signed_for_at.map(to_ts),
        accepted_at: r.accepted_at.map(to_ts),
        concluded_at: r.concluded_at.map(to_ts),
        staff: r.staff.0.clone(),
        return_reason: r.return_reason.clone().unwrap_or_default(),
        outcome: r.outcome.0.clone().map(|p| p.0),
        reason: r.reason.clone(),
    }
}

/// The event of the lead's decision taking effect on `row`: the brigade executes it and the
/// board follows it. The stationed agency decides, but in the name of the county department
/// that entrusted it: the department is the body answerable for the decision.
pub fn decided_event(
    row: &TaskRow,
    decision: &ev::Outcome,
) -> Result<ev::EntrustedDecisionRecorded, sqlx::Error> {
    // What the case was about, for the department's public disclosure.
    let facts = (*row.facts).clone();
    Ok(ev::EntrustedDecisionRecorded {
        task_id: row.task_id.clone(),
        item_id: row.item_id.clone(),
        case_id: row.case_id.clone(),
        department: row.department.clone(),
        decision: Some(decision.clone()),
        decided_in_name_of: row.department.clone(),
        matters: facts.matters,
        description: facts.description,
        held_record: None,
    })
}

pub use liandong_grpc::outcome_input;

pub fn task_to_pb(t: &TaskRow) -> pb::Task {
    pb::Task {
        task_id: t.task_id.clone(),
        item_id: t.item_id.clone(),
        case_id: t.case_id.clone(),
        town: t.town.clone(),
        department: t.department.clone(),
        role: t.role.as_str().into(),
        status: t.status.as_str().into(),
        facts: Some(t.facts.0.clone()),
        instructions: t.instructions.clone(),
        lead_department: t.lead_department.clone(),
        decision: t.decision.0.clone().map(|p| p.0),
        summary: t.summary.clone().unwrap_or_default(),
        assigned_at: Some(to_ts(t.assigned_at)),
        done_at: t.done_at.map(to_ts),
    }
}

pub fn handover_to_pb(h: &HandoverRow) -> pb::Handover {
    pb::Handover {
        handover_id: h.handover_id.clone(),
        case_id: h.case_id.clone(),
        town: h.town.clone(),
        department: h.department.clone(),
        reason: h.reason.clone(),
        record: h.record.record.clone(),
        evidence_refs: h.evidence_refs.0.clone(),
        received_at: Some(to_ts(h.received_at)),
        status: h.status.as_str().into(),
        refusal_reasons: h.refusal_reasons.0.clone(),
    }
}

/// When the event happened at its source; an envelope without its time is refused.
pub fn occurred_at(env: &ev::Envelope) -> Result<DateTime<Utc>, String> {
    from_ts(env.occurred_at.as_ref())
        .ok_or_else(|| format!("{} {} has no time", env.event_type, env.event_id))
}

/// The row of an assigned task, or why the event can never be applied.
pub fn task_row(
    env: &ev::Envelope,
    e: &ev::TaskAssigned,
    now: DateTime<Utc>,
) -> Result<TaskRow, String> {
    if e.task_id.is_empty() {
        return Err("a task without an id".into());
    }
    DepartmentCode::parse(&e.department).map_err(|err| {
        format!(
            "task {} for department {:?}: {err}",
            e.task_id, e.department
        )
    })?;
    let role = TaskRole::parse(&e.role).map_err(|err| format!("task {}: {err}", e.task_id))?;
    let facts = e
        .facts
        .as_ref()
        .ok_or_else(|| format!("task {} without the case's facts", e.task_id))?;
    let case_id = if e.case_id.is_empty() {
        facts.case_id.clone()
    } else {
        e.case_id.clone()
    };
    Ok(TaskRow {
        task_id: e.task_id.clone(),
        item_id: e.item_id.clone(),
        case_id,
        town: env.town.clone(),
        department: e.department.clone(),
        role,
        status: TaskStatus::Open,
        facts: Proto(facts.clone()),
        instructions: e.instructions.clone(),
        lead_department: e.lead_department.clone(),
        decision: Nullable(None),
        summary: None,
        assigned_at: occurred_at(env)?,
        done_at: None,
        updated_at: now,
    })
}

/// The row of a handed-over case file, or why the event can never be applied.
pub fn handover_row(
    env: &ev::Envelope,
    e: &ev::CaseHandedOver,
    now: DateTime<Utc>,
) -> Result<HandoverRow, String> {
    if e.handover_id.is_empty() {
        return Err("a handover without an id".into());
    }
    DepartmentCode::parse(&e.to_department).map_err(|err| {
        format!(
            "handover {} to department {:?}: {err}",
            e.handover_id, e.to_department
        )
    })?;
    Ok(HandoverRow {
        handover_id: e.handover_id.clone(),
        case_id: e.case_id.clone(),
        town: env.town.clone(),
        department: e.to_department.clone(),
        reason: e.reason.clone(),
        // The record whole, as a `CaseHandedOver` holding only it.
        record: Proto(ev::CaseHandedOver {
            record: e.record.clone(),
            ..Default::default()
        }),
        evidence_refs: Json(e.evidence_refs.clone()),
        received_at: now,
        // Stored as received; the evidence check may refuse it in the same transaction.
        status: HandoverStatus::Received,
        refusal_reasons: Json(Vec::new()),
        record_head: e.record_head.clone(),
        record_length: e.record_length as i64,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env() -> ev::Envelope {
        ev::Envelope {
            town: "320100001".into(),
            occurred_at: Some(to_ts(Utc::now())),
            ..Default::default()
        }
    }

    fn assigned(role: &str) -> ev::TaskAssigned {
        ev::TaskAssigned {
            task_id: "320100001-0190a0b0-0000-7000-8000-000000000001".into(),
            item_id: "item".into(),
            case_id: String::new(),
            department: "natural_resources".into(),
            role: role.into(),
            facts: Some(ev::CaseFacts {
                case_id: "320100001-case".into(),
                ..Default::default()
            }),
            instructions: "查处违法占地".into(),
            lead_department: "natural_resources".into(),
        }
    }

    #[test]
    fn an_assigned_task_is_stored_open_with_the_case_of_its_facts() {
        let now = Utc::now();
        let env = env();
        let row = task_row(&env, &assigned("lead"), now).expect("valid");
        assert_eq!(row.status, TaskStatus::Open);
        assert_eq!(row.role, TaskRole::Lead);
        assert_eq!(row.case_id, "320100001-case");
        assert_eq!(row.town, "320100001");
        // Assigned when the joint meeting assigned it, not when the event arrived.
        assert_eq!(Some(row.assigned_at), from_ts(env.occurred_at.as_ref()));
        let back = task_to_pb(&row);
        assert_eq!(back.facts.expect("facts").case_id, "320100001-case");
        assert!(back.decision.is_none() && back.done_at.is_none());
    }

    #[test]
    fn a_task_with_an_unknown_role_or_without_facts_is_refused() {
        let now = Utc::now();
        assert!(task_row(&env(), &assigned("observer"), now).is_err());
        let mut e = assigned("cooperating");
        e.facts = None;
        assert!(task_row(&env(), &e, now).is_err());
        let mut e = assigned("cooperating");
        e.department = String::new();
        assert!(task_row(&env(), &e, now).is_err());
    }

    #[test]
    fn a_handover_keeps_its_record_and_evidence() {
        let e = ev::CaseHandedOver {
            handover_id: "h1".into(),
            case_id: "c1".into(),
            to_department: "natural_resources".into(),
            reason: liandong_topology::names::REFERRAL_ACCEPTED.into(),
            record: vec![
                ev::RecordEntry {
                    kind: "created".into(),
                    detail: "立案".into(),
                    ..Default::default()
                },
                ev::RecordEntry {
                    kind: "referred".into(),
                    detail: "移送".into(),
                    ..Default::default()
                },
            ],
            evidence_refs: vec!["ev://photo/1".into()],
            facts: None,
            ..Default::default()
        };
        let row = handover_row(&env(), &e, Utc::now()).expect("valid");
        let back = handover_to_pb(&row);
        assert_eq!(back.record, e.record);
        assert_eq!(back.evidence_refs, e.evidence_refs);
        assert_eq!(back.department, "natural_resources");
    }
}
