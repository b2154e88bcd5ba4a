//! Submitting a department's major decision to its legal office (重大执法决定法制审核): on a
//! referral, or a joint case's lead department's entrusted decision on its task; through the
//! one decision model (`liandong_decision`), with the department's materials.

use chrono::{DateTime, Utc};
use liandong_bus::Outbox;
use liandong_decision::{Amendment, Materials, On, Proposal};
use liandong_domain::catalogue::Catalogue;
use liandong_domain::decision::{MajorError, Subject};
use liandong_proto::events::v1 as ev;
use liandong_proto::time::to_ts;
use liandong_store::Tx;
use liandong_store::with_tx;
use liandong_topology::EventKind;

use crate::store::ReferralRow;
use crate::task_store::TaskRow;

/// The reason a referral goes back to the brigade when the legal review suspects a crime.
pub const CRIME_REASON: &str = "涉嫌犯罪，移送公安机关";

/// Whether `outcome` on a case with `facts` must pass the department's legal review first, by
/// the catalogue of the case's matters; a matter the catalogue does not know refuses it.
pub fn requires_review(
    catalogue: &Catalogue,
    facts: &ev::CaseFacts,
    outcome: &ev::Outcome,
) -> Result<bool, MajorError> {
    liandong_decision::requires_review(catalogue, &facts.matters, outcome)
}

/// The body in whose name a department decides: its catalogue name, else its code.
pub fn decided_in_name_of(catalogue: &Catalogue, department: &str) -> String {
    catalogue
        .departments
        .iter()
        .find(|d| d.code.as_str() == department)
        .map_or_else(|| department.to_owned(), |d| d.name.clone())
}

/// A department's decision on a referral.
pub fn on_referral(referral_id: &str) -> On<'_> {
    On {
        subject: Subject::Referral,
        id: referral_id,
    }
}

/// A lead department's entrusted decision on a joint-case task.
pub fn on_task(task_id: &str) -> On<'_> {
    On {
        subject: Subject::Task,
        id: task_id,
    }
}

/// The referral's history so far, as the review's record.
async fn record_of(tx: &mut Tx, referral_id: &str) -> Result<Vec<ev::RecordEntry>, sqlx::Error> {
    let rows: Vec<(DateTime<Utc>, String, String, String)> = with_tx!(tx, |c| sqlx::query_as(
        "SELECT at, actor, kind, detail FROM referral_history WHERE referral_id = $1 \
         ORDER BY at, entry_id"
    )
    .bind(referral_id)
    .fetch_all(&mut *c)
    .await)?;
    Ok(rows
        .into_iter()
        .map(|(at, actor, kind, detail)| ev::RecordEntry {
            at: Some(to_ts(at)),
            actor,
            kind,
            detail,
            ..Default::default()
        })
        .collect())
}

/// Submits the proposed major decision on a referral for review, with its materials (facts,
/// proposed outcome, the deciding officers and their certificates, the evidence and the record
/// of the file held, or the referral's history). The caller has moved the referral to
/// `awaiting_review`, or, with `amendment`, to `amendment_in_review`. Returns the round.
#[allow(clippy::too_many_arguments)]
pub async fn submit(
    tx: &mut Tx,
    outbox: &Outbox,
    catalogue: &Catalogue,
    now: DateTime<Utc>,
    row: &ReferralRow,
    outcome: &ev::Outcome,
    proposer: ev::Actor,
    amendment: Option<Amendment>,
) -> Result<u32, sqlx::Error> {
    // The deciding officers: the staff assigned to the referral and the one who proposes.
    let mut officers: Vec<String> = row.staff.0.clone();
    if !officers.contains(&proposer.officer_id) {
        officers.push(proposer.officer_id.clone());
    }
    let mut deciding = Vec::with_capacity(officers.len());
    for o in &officers {
        // An officer without a certificate is shown as such: the legal office's check of
        // qualified officers fails on it.
        let certificate_no = crate::registry::cert_in_tx(tx, &row.department, o)
            .await?
            .map_or_else(String::new, |c| c.certificate_no);
        deciding.push(ev::DecidingOfficer {
            officer: o.clone(),
            role: if *o == proposer.officer_id {
                proposer.role.clone()
            } else {
                "county_investigator".into()
            },
            certificate_no,
        });
    }
    let facts = (*row.facts).clone();
    let record = match crate::record::held_in_tx(tx, &row.case_id, &row.department).await? {
        Some(h) => crate::record::entries_in_tx(tx, &h.handover_id)
            .await?
            .iter()
            .map(liandong_record::RecordRow::to_event)
            .collect(),
        None => record_of(tx, &row.referral_id).await?,
    };
    let materials = Materials {
        decided_in_name_of: decided_in_name_of(catalogue, &row.department),
        documents: facts.evidence_refs.clone(),
        facts: Some(facts),
        officers: deciding,
        record,
        reviewing_department: String::new(),
    };
    let submitted = liandong_decision::submit(
        tx,
        outbox,
        now,
        Proposal {
            on: on_referral(&row.referral_id),
            town: &row.town,
            department: Some(&row.department),
            case_id: &row.case_id,
            outcome,
            proposer,
            amendment,
            materials,
        },
    )
    .await?;
    Ok(submitted.round)
}

/// Submits the lead's proposed major decision on a joint-case task for review, with the case's
/// facts, the proposed decision, the proposing officer and their certificate, and the joint
/// meeting's instructions as the record. The caller has moved the task to `awaiting_review`
/// (with `amendment`, to `amendment_in_review`). Returns the round.
#[allow(clippy::too_many_arguments)]
pub async fn submit_task(
    tx: &mut Tx,
    outbox: &Outbox,
    catalogue: &Catalogue,
    now: DateTime<Utc>,
    row: &TaskRow,
    decision: &ev::Outcome,
    proposer: ev::Actor,
    amendment: Option<Amendment>,
) -> Result<u32, sqlx::Error> {
    let facts = (*row.facts).clone();
    let materials = Materials {
        decided_in_name_of: decided_in_name_of(catalogue, &row.department),
        documents: facts.evidence_refs.clone(),
        facts: Some(facts),
        officers: vec![ev::DecidingOfficer {
            officer: proposer.officer_id.clone(),
            role: proposer.role.clone(),
            certificate_no: proposer.certificate_no.clone(),
        }],
        record: vec![ev::RecordEntry {
            at: Some(to_ts(row.assigned_at)),
            actor: "board".into(),
            kind: EventKind::BoardTaskAssigned.name().into(),
            detail: format!("联席会议交办（牵头）：{}", row.instructions),
            ..Default::default()
        }],
        reviewing_department: String::new(),
    };
    let submitted = liandong_decision::submit(
        tx,
        outbox,
        now,
        Proposal {
            on: on_task(&row.task_id),
            town: &row.town,
            department: Some(&row.department),
            case_id: &row.case_id,
            outcome: decision,
            proposer,
            amendment,
            materials,
        },
    )
    .await?;
    Ok(submitted.round)
}

/// The history line of a submission.
pub fn submitted_detail(department_name: &str, outcome: &ev::Outcome) -> String {
    format!(
        "重大执法决定提请法制审核（以{department_name}名义）：{}（{}）；审核期限 {} 个工作日",
        outcome.kind,
        outcome.summary,
        liandong_domain::review::REVIEW_WORKING_DAYS
    )
}
