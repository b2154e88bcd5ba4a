//! What the brigade does with the county's events: each step of its referrals goes into the
//! case's history, and a department's result closes the case and is kept as a copy (抄告).

use std::sync::Arc;

use chrono::{DateTime, Utc};
use liandong_bus::{Handler, HandlerError, Outbox};
use liandong_domain::catalogue::Catalogue;
use liandong_domain::state::CaseAction;
use liandong_domain::triage::Path;
use liandong_proto::events::v1 as ev;
use liandong_store::Tx;
use liandong_store::typed::{Json, Nullable, Proto};
use liandong_topology::inbound::brigade::{FromBoard, FromCounty};
use liandong_topology::names;

use crate::flow::{self, Cause};
use crate::record::{self, Who};
use crate::store::{self, CaseRow, ResultCopy};

async fn load_case(tx: &mut Tx, case_id: &str) -> Result<CaseRow, HandlerError> {
    store::case_in_tx(tx, case_id)
        .await?
        .ok_or_else(|| HandlerError::Reject(format!("no case {case_id} at this brigade")))
}

async fn decision_recorded(
    tx: &mut Tx,
    env: &ev::Envelope,
    e: ev::EntrustedDecisionRecorded,
    who: &Who,
    now: DateTime<Utc>,
) -> Result<(), HandlerError> {
    let case = load_case(tx, &e.case_id).await?;
    let Some(mut joint) = store::joint_in_tx(tx, &e.case_id).await? else {
        return Err(HandlerError::Reject(format!(
            "case {} is not an approved joint case",
            e.case_id
        )));
    };
    let decision = e.decision.ok_or_else(|| {
        HandlerError::Reject(format!(
            "the entrusted decision on case {} is missing",
            e.case_id
        ))
    })?;
    joint.decision = Nullable(Some(Proto(decision.clone())));
    joint.decided_in_name_of = Some(e.decided_in_name_of.clone());
    joint.updated_at = now;
    store::upsert_joint(tx, &joint).await?;
    let detail = format!(
        "牵头部门 {} 派驻机构受委托作出决定（以 {} 名义）：{}（{}）；待大队协同执行",
        e.department, e.decided_in_name_of, decision.kind, decision.summary
    );
    let here = case.here();
    store::add_history(tx, here, now, "entrusted_decision", who, &detail, Some(env)).await?;
    Ok(())
}

/// The lead changed its entrusted decision (变更 / 撤销): the joint case carries the amended
/// decision, or none after a revocation (nothing is left to execute), and the case's record
/// keeps the change with the lead's signed event.
async fn entrusted_decision_changed(
    tx: &mut Tx,
    env: &ev::Envelope,
    e: ev::DecisionChanged,
    who: &Who,
    now: DateTime<Utc>,
) -> Result<(), HandlerError> {
    let change = liandong_domain::decision_change::DecisionChange::parse(&e.change)
        .map_err(|err| HandlerError::Reject(format!("{}: {err}", env.event_type)))?;
    let case = load_case(tx, &e.case_id).await?;
    let Some(mut joint) = store::joint_in_tx(tx, &e.case_id).await? else {
        return Err(HandlerError::Reject(format!(
            "case {} is not an approved joint case",
            e.case_id
        )));
    };
    joint.decision = Nullable(e.outcome.clone().map(Proto));
    joint.updated_at = now;
    store::upsert_joint(tx, &joint).await?;
    let detail = match &e.outcome {
        Some(o) => format!(
            "牵头部门 {} 变更其受委托作出的决定：{}（{}）；理由：{}",
            env.department, o.kind, o.summary, e.reason
        ),
        None => format!(
            "牵头部门 {} 撤销其受委托作出的决定；理由：{}",
            env.department, e.reason
        ),
    };
    store::add_history(
        tx,
        case.here(),
        now,
        change.record_kind(),
        who,
        &detail,
        Some(env),
    )
    .await?;
    Ok(())
}

async fn task_completed(
    tx: &mut Tx,
    env: &ev::Envelope,
    e: ev::TaskCompleted,
    who: &Who,
    now: DateTime<Utc>,
) -> Result<(), HandlerError> {
    let case = load_case(tx, &e.case_id).await?;
    if let Some(mut joint) = store::joint_in_tx(tx, &e.case_id).await? {
        if !joint.completed_by.contains(&e.department) {
            joint.completed_by.push(e.department.clone());
        }
        joint.updated_at = now;
        store::upsert_joint(tx, &joint).await?;
    }
    let detail = format!("配合部门 {} 完成任务：{}", e.department, e.summary);
    let here = case.here();
    store::add_history(
        tx,
        here,
        now,
        names::TASK_COMPLETED,
        who,
        &detail,
        Some(env),
    )
    .await?;
    Ok(())
}

/// Applies the joint meeting's decisions (`board.*` events addressed to no department).
#[derive(Debug, Clone)]
pub struct BoardEvents {
    pub outbox: Outbox,
    pub catalogue: Arc<Catalogue>,
    pub towns: Arc<liandong_domain::towns::Towns>,
}

#[deny(clippy::wildcard_enum_match_arm)]
impl Handler<FromBoard> for BoardEvents {
    async fn handle(
        &self,
        tx: &mut Tx,
        env: &ev::Envelope,
        event: FromBoard,
        now: DateTime<Utc>,
    ) -> Result<(), HandlerError> {
        let who = Who::of_event(env);
        let system = Who::system(&env.town);
        let cause = Cause {
            actor: None,
            who: &system,
            causation_id: Some(&env.event_id),
        };
        match event {
            FromBoard::JointApproved(e) => {
                let case = load_case(tx, &e.case_id).await?;
                let next = case
                    .status
                    .next(CaseAction::BoardApprovedJoint)
                    .map_err(|e| HandlerError::Reject(e.to_string()))?;
                store::set_status(tx, &case.case_id, next, now).await?;
                store::upsert_joint(
                    tx,
                    &store::JointRow {
                        case_id: case.case_id.clone(),
                        town: case.town.clone(),
                        item_id: e.item_id.clone(),
                        lead_department: e.lead_department.clone(),
                        cooperating: Json(e.cooperating_departments.clone()),
                        decision: Nullable(None),
                        decided_in_name_of: None,
                        completed_by: Json(Vec::new()),
                        executed_at: None,
                        updated_at: now,
                    },
                )
                .await?;
                let detail = format!(
                    "联席会议审定：联合处置，牵头部门 {}，配合部门 {}",
                    e.lead_department,
                    if e.cooperating_departments.is_empty() {
                        "无".to_string()
                    } else {
                        e.cooperating_departments.join("、")
                    }
                );
                let here = case.here();
                store::add_history(tx, here, now, "board_approved", &who, &detail, Some(env))
                    .await?;
                // The lead takes the case: its file goes to the lead department.
                flow::hand_over(
                    tx,
                    &self.outbox,
                    now,
                    &case,
                    &e.lead_department,
                    "joint_lead",
                    &cause,
                )
                .await?;
                Ok(())
            }
            FromBoard::JointReclassified(e) => {
                let case = load_case(tx, &e.case_id).await?;
                let here = case.here();
                let status = case.status;
                if e.path == ev::Path::OutOfScope as i32 {
                    let next = status
                        .next(CaseAction::BoardReclassifiedOutOfScope)
                        .map_err(|e| HandlerError::Reject(e.to_string()))?;
                    store::set_status(tx, &case.case_id, next, now).await?;
                    store::set_path(tx, &case.case_id, Path::OutOfScope, Some(&e.department))
                        .await?;
                    let detail = format!(
                        "联席会议改判：不属于职权范围，移送 {}；理由：{}",
                        e.department, e.reason
                    );
                    store::add_history(
                        tx,
                        here,
                        now,
                        "board_reclassified",
                        &who,
                        &detail,
                        Some(env),
                    )
                    .await?;
                    flow::refer(
                        tx,
                        &self.outbox,
                        &self.catalogue,
                        &self.towns,
                        now,
                        &case,
                        &e.department,
                        "board_reclassified",
                        &cause,
                    )
                    .await?;
                } else {
                    let next = status
                        .next(CaseAction::BoardReclassifiedInScope)
                        .map_err(|e| HandlerError::Reject(e.to_string()))?;
                    store::set_status(tx, &case.case_id, next, now).await?;
                    store::set_path(tx, &case.case_id, Path::InScope, None).await?;
                    // Reclassified in scope: filed as the brigade's own now (clocks.rs).
                    let department = crate::clocks::rule_department(
                        &self.catalogue,
                        &case.deciding.0,
                        &case.matters.0,
                    );
                    crate::clocks::file(tx, &case.case_id, &case.town, department.as_deref(), now)
                        .await?;
                    let detail =
                        format!("联席会议改判：属于职权范围，由大队办理；理由：{}", e.reason);
                    store::add_history(
                        tx,
                        here,
                        now,
                        "board_reclassified",
                        &who,
                        &detail,
                        Some(env),
                    )
                    .await?;
                }
                Ok(())
            }
            FromBoard::JointSentBack(e) => {
                let case = load_case(tx, &e.case_id).await?;
                let next = case
                    .status
                    .next(CaseAction::BoardSentBack)
                    .map_err(|e| HandlerError::Reject(e.to_string()))?;
                store::set_status(tx, &case.case_id, next, now).await?;
                let here = case.here();
                let detail = format!("联席会议退回补充材料：{}", e.reason);
                store::add_history(tx, here, now, "board_sent_back", &who, &detail, Some(env))
                    .await?;
                Ok(())
            }
            FromBoard::DisputeSettled(e) => {
                let case = load_case(tx, &e.case_id).await?;
                store::set_referral_status(tx, &e.referral_id, "reassigned", now).await?;
                let here = case.here();
                let detail = format!(
                    "联席会议协调职权争议：由 {} 改为 {} 办理；理由：{}",
                    e.from_department, e.to_department, e.reason
                );
                store::add_history(
                    tx,
                    here,
                    now,
                    names::DISPUTE_SETTLED,
                    &who,
                    &detail,
                    Some(env),
                )
                .await?;
                flow::refer(
                    tx,
                    &self.outbox,
                    &self.catalogue,
                    &self.towns,
                    now,
                    &case,
                    &e.to_department,
                    "board_reassigned",
                    &cause,
                )
                .await?;
                Ok(())
            }
        }
    }
}

/// Applies `county.*` events about referrals the brigade sent and joint cases it executes.
#[derive(Debug, Clone)]
pub struct CountyEvents {
    pub outbox: Outbox,
}

#[deny(clippy::wildcard_enum_match_arm)]
impl Handler<FromCounty> for CountyEvents {
    async fn handle(
        &self,
        tx: &mut Tx,
        env: &ev::Envelope,
        event: FromCounty,
        now: DateTime<Utc>,
    ) -> Result<(), HandlerError> {
        let who = Who::of_event(env);
        let (referral_id, kind, detail, status) = match event {
            FromCounty::ReferralSignedFor(e) => (
                e.referral_id,
                names::REFERRAL_SIGNED_FOR,
                format!("{} 签收", env.department),
                "signed_for",
            ),
            FromCounty::ReferralAccepted(e) => (
                e.referral_id,
                names::REFERRAL_ACCEPTED,
                format!("{} 受理", env.department),
                "accepted",
            ),
            FromCounty::EntrustedDecisionRecorded(e) => {
                return decision_recorded(tx, env, e, &who, now).await;
            }
            FromCounty::TaskCompleted(e) => {
                return task_completed(tx, env, e, &who, now).await;
            }
            FromCounty::EntrustedDecisionChanged(e) => {
                return entrusted_decision_changed(tx, env, e, &who, now).await;
            }
            FromCounty::ReferralAssigned(e) => {
                let staff = e.staff.join("、");
                (
                    e.referral_id,
                    names::REFERRAL_ASSIGNED,
                    format!("{} 安排人员调查处理：{staff}", env.department),
                    "assigned",
                )
            }
            FromCounty::ReferralReturned(e) => {
                let what = if e.not_competent {
                    "以非本部门职权退回"
                } else {
                    "退回"
                };
                let detail = format!(
                    "{} {what}，理由：{}；提请联席会议协调",
                    env.department, e.reason
                );
                (e.referral_id, names::REFERRAL_RETURNED, detail, "returned")
            }
            FromCounty::CaseHandoverReceived(e) => {
                return handover_received(tx, env, e, &who, now).await;
            }
            FromCounty::CaseHandoverRefused(e) => {
                return crate::evidence::handover_refused(tx, env, e, &who, now).await;
            }
            FromCounty::ReferralConcluded(e) => {
                return conclude(tx, env, e, &who, now).await;
            }
            FromCounty::DecisionChanged(e) => {
                let change = liandong_domain::decision_change::DecisionChange::parse(&e.change)
                    .map_err(|err| HandlerError::Reject(format!("{}: {err}", env.event_type)))?;
                let (detail, status) = match &e.outcome {
                    Some(o) => (
                        format!(
                            "{} 变更其决定：{}（{}）；理由：{}",
                            env.department, o.kind, o.summary, e.reason
                        ),
                        "concluded",
                    ),
                    None => (
                        format!("{} 撤销其决定；理由：{}", env.department, e.reason),
                        "revoked",
                    ),
                };
                (
                    env.aggregate_id.clone(),
                    change.record_kind(),
                    detail,
                    status,
                )
            }
        };
        let Some(r) = store::referral(tx, &referral_id).await? else {
            return Err(HandlerError::Reject(format!(
                "no referral {referral_id} was sent by this brigade"
            )));
        };
        store::set_referral_status(tx, &referral_id, status, now).await?;
        store::add_history(tx, r.here(), now, kind, &who, &detail, Some(env)).await?;
        if status == "accepted" {
            // The department took the case: its file follows it (移交), recorded after the
            // acceptance so the record reads in the order things happened.
            let case = load_case(tx, &r.case_id).await?;
            let cause = Cause {
                actor: None,
                who: &Who::system(&env.town),
                causation_id: Some(&env.event_id),
            };
            flow::hand_over(
                tx,
                &self.outbox,
                now,
                &case,
                &env.department,
                names::REFERRAL_ACCEPTED,
                &cause,
            )
            .await?;
        }
        Ok(())
    }
}

async fn conclude(
    tx: &mut Tx,
    env: &ev::Envelope,
    e: ev::ReferralConcluded,
    who: &Who,
    now: DateTime<Utc>,
) -> Result<(), HandlerError> {
    let Some(r) = store::referral(tx, &e.referral_id).await? else {
        return Err(HandlerError::Reject(format!(
            "no referral {} was sent by this brigade",
            e.referral_id
        )));
    };
    let outcome = e.outcome.unwrap_or_default();
    let confiscated: Vec<(String, i64)> = outcome
        .confiscated
        .iter()
        .map(|c| (c.kind.clone(), c.count))
        .collect();
    store::insert_result_copy(
        tx,
        &ResultCopy {
            referral_id: &r.referral_id,
            case_id: &r.case_id,
            town: &r.town,
            department: &r.department,
            outcome_kind: &outcome.kind,
            fine_fen: outcome.fine_fen,
            confiscated: serde_json::to_string(&confiscated).expect("pairs serialise"),
            summary: &outcome.summary,
            concluded_by: &who.label(),
        },
        now,
    )
    .await?;
    store::set_referral_status(tx, &r.referral_id, "concluded", now).await?;
    let case = store::case_in_tx(tx, &r.case_id)
        .await?
        .ok_or_else(|| HandlerError::Reject(format!("no case {}", r.case_id)))?;
    let status = case.status;
    match status.next(CaseAction::ResultReceived) {
        Ok(next) => store::set_status(tx, &r.case_id, next, now).await?,
        // The result is kept all the same; the case had already moved on (reopened, say).
        Err(err) => {
            tracing::warn!(case_id = %r.case_id, error = %err, "A result arrived for a case that is not awaiting one.")
        }
    }
    let detail = format!(
        "{} 办结并反馈结果：{}（{}）",
        r.department, outcome.kind, outcome.summary
    );
    store::add_history(
        tx,
        r.here(),
        now,
        "result_received",
        who,
        &detail,
        Some(env),
    )
    .await?;
    Ok(())
}

/// A department holds the record's head it received with a handover: the brigade keeps it as
/// a known head, so a later truncation or rewrite of the record is caught, and records the
/// acknowledgement itself.
async fn handover_received(
    tx: &mut Tx,
    env: &ev::Envelope,
    e: ev::CaseHandoverReceived,
    who: &Who,
    now: DateTime<Utc>,
) -> Result<(), HandlerError> {
    let case = load_case(tx, &e.case_id).await?;
    if e.record_length > 0 && liandong_domain::record::parse_hash(&e.record_head).is_none() {
        return Err(HandlerError::Reject(format!(
            "handover {} acknowledged with an unreadable head {:?}",
            e.handover_id, e.record_head
        )));
    }
    let agency = format!("county:{}", e.department);
    record::insert_known_head(
        tx,
        &case.case_id,
        &agency,
        e.record_length,
        &e.record_head,
        now,
    )
    .await?;
    let detail = format!(
        "{} 确认收到案卷移交（移交编号 {}），持有记录链前 {} 条，链头 {}",
        e.department, e.handover_id, e.record_length, e.record_head
    );
    store::add_history(
        tx,
        case.here(),
        now,
        "handover_received",
        who,
        &detail,
        Some(env),
    )
    .await?;
    Ok(())
}
