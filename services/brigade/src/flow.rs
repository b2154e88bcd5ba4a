//! The brigade's outgoing moves, shared by its API and its consumers: referring a case to a
//! department, submitting it to the joint meeting, handing its file over.

use chrono::{DateTime, Utc};
use liandong_bus::{NewEvent, Outbox};
use liandong_domain::catalogue::Catalogue;
use liandong_domain::documents::DocKind;
use liandong_domain::ids::{TownCode, TownScopedId};
use liandong_domain::towns::Towns;
use liandong_proto::events::v1 as ev;
use liandong_store::Tx;
use liandong_topology::AnyEvent;
use uuid::Uuid;

use crate::convert::facts;
use crate::documents::{self, Issue};
use crate::record::{self, Who};
use crate::store::{self, CaseRow};

/// The aggregate of a case's events for the joint meeting, apart from the case's own, so the
/// board's ordered consumer receives every one of them.
pub fn joint_aggregate(case_id: &str) -> String {
    format!("joint:{case_id}")
}

/// Who made the move, and which event caused it.
pub struct Cause<'a> {
    pub actor: Option<ev::Actor>,
    pub who: &'a Who,
    pub causation_id: Option<&'a str>,
}

fn town_of(case: &CaseRow) -> Result<TownCode, sqlx::Error> {
    TownCode::parse(&case.town).map_err(|e| sqlx::Error::Decode(e.into()))
}

/// Refers `case` to `department`: a referral row, a `referral_dispatched` event that waits
/// for the department's receipt, a history line, and the transfer letter (案件移送函). Returns
/// the referral id.
#[allow(clippy::too_many_arguments)]
pub async fn refer(
    tx: &mut Tx,
    outbox: &Outbox,
    catalogue: &Catalogue,
    towns: &Towns,
    now: DateTime<Utc>,
    case: &CaseRow,
    department: &str,
    reason: &str,
    cause: &Cause<'_>,
) -> Result<String, sqlx::Error> {
    let dispatch_no = store::last_dispatch_no(tx, &case.case_id).await? + 1;
    let referral_id = TownScopedId::new(town_of(case)?, Uuid::now_v7()).to_string();
    store::insert_referral(
        tx,
        &referral_id,
        &case.case_id,
        &case.town,
        department,
        dispatch_no,
        now,
    )
    .await?;
    let payload = ev::ReferralDispatched {
        referral_id: referral_id.clone(),
        facts: Some(facts(case)),
        department: department.to_owned(),
        dispatch_no: dispatch_no as u32,
        reason: reason.to_owned(),
    };
    let env = outbox
        .emit(
            tx,
            now,
            NewEvent {
                town: &case.town,
                department: Some(department),
                aggregate_id: &referral_id,
                actor: cause.actor.clone(),
                causation_id: cause.causation_id,
            },
            AnyEvent::BrigadeReferralDispatched(payload),
        )
        .await?;
    let detail = format!("移送（通报）{department}，第{dispatch_no}次派发，移送编号 {referral_id}");
    let here = case.here();
    store::add_history(tx, here, now, "referred", cause.who, &detail, Some(&env)).await?;
    documents::issue(
        tx,
        now,
        catalogue,
        towns,
        case,
        Issue {
            kind: DocKind::TransferLetter,
            who: cause.who,
            to_department: department,
            decision: "",
            party: "",
            officers: &[],
            facts: None,
            hearing_due: false,
        },
    )
    .await?;
    Ok(referral_id)
}

/// Submits `case` to its town's joint meeting.
pub async fn submit_joint(
    tx: &mut Tx,
    outbox: &Outbox,
    now: DateTime<Utc>,
    case: &CaseRow,
    cause: &Cause<'_>,
) -> Result<(), sqlx::Error> {
    let payload = ev::JointSubmitted {
        facts: Some(facts(case)),
        departments: case.departments.0.clone(),
    };
    let env = outbox
        .emit(
            tx,
            now,
            NewEvent {
                town: &case.town,
                department: None,
                aggregate_id: &joint_aggregate(&case.case_id),
                actor: cause.actor.clone(),
                causation_id: cause.causation_id,
            },
            AnyEvent::BrigadeJointSubmitted(payload),
        )
        .await?;
    let here = case.here();
    store::add_history(
        tx,
        here,
        now,
        "submitted_to_board",
        cause.who,
        "提交镇行政执法联席会议审定",
        Some(&env),
    )
    .await
}

/// Hands the case file — its record so far, the record's head, and its evidence references —
/// over to `department` (移交), as an event with its own receipt. The department acknowledges
/// the head with `county.case_handover_received`, which the brigade keeps as a known head.
pub async fn hand_over(
    tx: &mut Tx,
    outbox: &Outbox,
    now: DateTime<Utc>,
    case: &CaseRow,
    department: &str,
    reason: &str,
    cause: &Cause<'_>,
) -> Result<(), sqlx::Error> {
    let entries = record::entries_in_tx(tx, &case.case_id).await?;
    // The head as it stands before the handover's own entry: what the department will hold.
    let (record_length, record_head) = entries
        .last()
        .map_or((0, hex::encode(liandong_domain::record::GENESIS)), |e| {
            (e.seq as u64, e.hash.clone())
        });
    let record: Vec<ev::RecordEntry> = entries.into_iter().map(|e| e.to_event()).collect();
    let handover_id = TownScopedId::new(town_of(case)?, Uuid::now_v7()).to_string();
    let payload = ev::CaseHandedOver {
        handover_id: handover_id.clone(),
        case_id: case.case_id.clone(),
        to_department: department.to_owned(),
        reason: reason.to_owned(),
        record: record.clone(),
        evidence_refs: case.evidence_refs.0.clone(),
        facts: Some(facts(case)),
        record_head,
        record_length,
    };
    let env = outbox
        .emit(
            tx,
            now,
            NewEvent {
                town: &case.town,
                department: Some(department),
                aggregate_id: &handover_id,
                actor: cause.actor.clone(),
                causation_id: cause.causation_id,
            },
            AnyEvent::BrigadeCaseHandedOver(payload.clone()),
        )
        .await?;
    let here = case.here();
    store::insert_handover(
        tx,
        &handover_id,
        here,
        department,
        reason,
        record.len() as i64,
        now,
    )
    .await?;
    let detail = format!(
        "案卷移交 {department}：{} 条记录、{} 份证据",
        record.len(),
        payload.evidence_refs.len()
    );
    store::add_history(tx, here, now, "handed_over", cause.who, &detail, Some(&env)).await
}
