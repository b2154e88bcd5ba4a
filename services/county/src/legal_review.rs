//! The legal review of a department's major decisions on referrals (重大执法决定法制审核):
//! a major decision waits in `awaiting_review` while the department's own legal office
//! (`department_legal_officer`) reviews it in the review service, and the answer concludes
//! the referral, sends it back to its staff for correction, or — a suspected crime — returns
//! it to the brigade (not competent to decide a crime, but not "not competent" for the
//! matter: the joint meeting sees the return as a dispute and sends it to public security).
//!
//! The lead department's major decision under entrustment on a joint-case task waits the same
//! way, in `task_reviews`: the approval decides the task (and tells the brigade and board),
//! a return opens it again for a corrected decision (the next round). A suspected crime is
//! noted in the task's summary and the task is opened again too: the joint meeting, not the
//! department, transfers a case to public security, so the lead is left to record what it
//! does decide once the meeting has dealt with the crime.

use chrono::{DateTime, Utc};
use liandong_bus::{Handler, HandlerError, NewEvent, Outbox};
use liandong_domain::catalogue::Catalogue;
use liandong_domain::decision_change::{Amendment, DecisionChange, continues_review};
use liandong_domain::ids::{MatterCode, TownCode, TownScopedId};
use liandong_domain::review::{REVIEW_WORKING_DAYS, decision_facts, decision_is_major};
use liandong_domain::state::{ReferralAction, ReferralStatus, TaskAction, TaskRole, TaskStatus};
use liandong_grpc::event_actor_label;
use liandong_proto::events::v1 as ev;
use liandong_proto::time::to_ts;
use liandong_record::{NewEntry, Who};
use liandong_store::Tx;
use liandong_store::with_tx;
use liandong_topology::inbound::county::FromReview;
use liandong_topology::{AnyEvent, EventKind};
use prost::Message;
use uuid::Uuid;

use crate::store::{self, ReferralRow};
use crate::task_store::{self, TaskRow};

/// The reason a referral goes back to the brigade when the legal review suspects a crime.
pub const CRIME_REASON: &str = "涉嫌犯罪，移送公安机关";

/// Whether `outcome` on a referral with `facts` is a major decision by the catalogue of the
/// case's matters.
pub fn is_major(catalogue: &Catalogue, facts: &ev::CaseFacts, outcome: &ev::Outcome) -> bool {
    let matters: Vec<MatterCode> = facts
        .matters
        .iter()
        .filter_map(|m| MatterCode::parse(m).ok())
        .collect();
    let d = decision_facts(
        &outcome.kind,
        outcome.fine_fen,
        outcome.licence_revoked,
        outcome.confiscated_value_fen,
    );
    decision_is_major(catalogue, &matters, &d)
}

/// The body in whose name a department decides: its catalogue name, else its code.
pub fn decided_in_name_of(catalogue: &Catalogue, department: &str) -> String {
    catalogue
        .departments
        .iter()
        .find(|d| d.code.as_str() == department)
        .map_or_else(|| department.to_owned(), |d| d.name.clone())
}

/// The review of a referral as the county keeps it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ReferralReviewRow {
    pub referral_id: String,
    pub review_id: String,
    pub round: i64,
    pub status: String,
    pub proposed: Vec<u8>,
    pub proposer: Vec<u8>,
    pub submitted_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// For the review of an amendment: why the decision in force is changed, and its event.
    pub change_reason: Option<String>,
    pub superseded_event_id: Option<String>,
}

async fn review_of(
    tx: &mut Tx,
    referral_id: &str,
) -> Result<Option<ReferralReviewRow>, sqlx::Error> {
    with_tx!(tx, |c| sqlx::query_as::<_, ReferralReviewRow>(
        "SELECT referral_id, review_id, round, status, proposed, proposer, submitted_at, \
         updated_at, change_reason, superseded_event_id FROM referral_reviews \
         WHERE referral_id = $1"
    )
    .bind(referral_id)
    .fetch_optional(&mut *c)
    .await)
}

async fn upsert_review(tx: &mut Tx, r: &ReferralReviewRow) -> Result<(), sqlx::Error> {
    with_tx!(tx, |c| sqlx::query(
        "INSERT INTO referral_reviews (referral_id, review_id, round, status, proposed, \
         proposer, submitted_at, updated_at, change_reason, superseded_event_id) \
         VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10) \
         ON CONFLICT (referral_id) DO UPDATE SET review_id = excluded.review_id, \
         round = excluded.round, status = excluded.status, proposed = excluded.proposed, \
         proposer = excluded.proposer, submitted_at = excluded.submitted_at, \
         updated_at = excluded.updated_at, change_reason = excluded.change_reason, \
         superseded_event_id = excluded.superseded_event_id"
    )
    .bind(&r.referral_id)
    .bind(&r.review_id)
    .bind(r.round)
    .bind(&r.status)
    .bind(&r.proposed)
    .bind(&r.proposer)
    .bind(r.submitted_at)
    .bind(r.updated_at)
    .bind(&r.change_reason)
    .bind(&r.superseded_event_id)
    .execute(&mut *c)
    .await
    .map(|_| ()))
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

/// Submits the proposed major decision for review: the next round of the referral's review,
/// with its materials (facts, proposed outcome, the deciding officers and their certificates,
/// the evidence and the record so far). The caller has moved the referral to
/// `awaiting_review`, or, with `change` (an amendment of the decision in force into a major
/// one), to `amendment_in_review`. Returns the round.
#[allow(clippy::too_many_arguments)]
pub async fn submit(
    tx: &mut Tx,
    outbox: &Outbox,
    catalogue: &Catalogue,
    now: DateTime<Utc>,
    row: &ReferralRow,
    outcome: &ev::Outcome,
    proposer: ev::Actor,
    change: Option<&Amendment<'_>>,
) -> Result<u32, sqlx::Error> {
    let previous = review_of(tx, &row.referral_id).await?.filter(|p| {
        continues_review(
            Some((p.change_reason.is_some(), p.status.as_str())),
            change.is_some(),
        )
    });
    let town = TownCode::parse(&row.town).map_err(|e| sqlx::Error::Decode(e.into()))?;
    let review_id = previous.as_ref().map_or_else(
        || TownScopedId::new(town, Uuid::now_v7()).to_string(),
        |p| p.review_id.clone(),
    );
    let round = previous.as_ref().map_or(1, |p| p.round + 1);
    // The deciding officers: the staff assigned to the referral and the one who proposes.
    let mut officers: Vec<String> = serde_json::from_str(&row.staff).unwrap_or_default();
    if !officers.contains(&proposer.officer_id) {
        officers.push(proposer.officer_id.clone());
    }
    let mut deciding = Vec::with_capacity(officers.len());
    for o in &officers {
        let certificate_no = crate::registry::cert_in_tx(tx, &row.department, o)
            .await?
            .map(|c| c.certificate_no)
            .unwrap_or_default();
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
    let facts = ev::CaseFacts::decode(row.facts.as_slice()).unwrap_or_default();
    let name = decided_in_name_of(catalogue, &row.department);
    let payload = ev::ReviewRequested {
        review_id: review_id.clone(),
        case_id: row.case_id.clone(),
        round: round as u32,
        decided_in_name_of: name.clone(),
        documents: facts.evidence_refs.clone(),
        facts: Some(facts),
        proposed: Some(outcome.clone()),
        officers: deciding,
        // The record of the file the department holds, or, when it holds none, the
        // referral's history.
        record: match crate::record::held_in_tx(tx, &row.case_id, &row.department).await? {
            Some(h) => crate::record::entries_in_tx(tx, &h.handover_id)
                .await?
                .iter()
                .map(liandong_record::RecordRow::to_event)
                .collect(),
            None => record_of(tx, &row.referral_id).await?,
        },
        decided_at: Some(to_ts(now)),
        department: row.department.clone(),
        change_reason: change.map(|c| c.reason.to_owned()).unwrap_or_default(),
        superseded_event_id: change
            .map(|c| c.superseded_event_id.to_owned())
            .unwrap_or_default(),
    };
    // The review service must have it: re-sent until its receipt comes back.
    outbox
        .emit(
            tx,
            now,
            NewEvent {
                town: &row.town,
                department: Some(&row.department),
                aggregate_id: &format!("review:{}", row.referral_id),
                actor: Some(proposer.clone()),
                causation_id: None,
            },
            AnyEvent::CountyReviewRequested(payload),
        )
        .await?;
    upsert_review(
        tx,
        &ReferralReviewRow {
            referral_id: row.referral_id.clone(),
            review_id,
            round,
            status: "pending".into(),
            proposed: outcome.encode_to_vec(),
            proposer: proposer.encode_to_vec(),
            submitted_at: now,
            updated_at: now,
            change_reason: change.map(|c| c.reason.to_owned()),
            superseded_event_id: change.map(|c| c.superseded_event_id.to_owned()),
        },
    )
    .await?;
    Ok(round as u32)
}

/// The review of a joint-case task's decision as the county keeps it: the same columns as a
/// referral's, keyed by the task.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct TaskReviewRow {
    pub task_id: String,
    pub review_id: String,
    pub round: i64,
    pub status: String,
    pub proposed: Vec<u8>,
    pub proposer: Vec<u8>,
    pub submitted_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// For the review of an amendment: why the decision in force is changed, and its event.
    pub change_reason: Option<String>,
    pub superseded_event_id: Option<String>,
}

const TASK_REVIEW_COLUMNS: &str = "task_id, review_id, round, status, proposed, proposer, \
     submitted_at, updated_at, change_reason, superseded_event_id";

async fn task_review_of(tx: &mut Tx, task_id: &str) -> Result<Option<TaskReviewRow>, sqlx::Error> {
    let sql = format!("SELECT {TASK_REVIEW_COLUMNS} FROM task_reviews WHERE task_id = $1");
    with_tx!(tx, |c| sqlx::query_as::<_, TaskReviewRow>(&sql)
        .bind(task_id)
        .fetch_optional(&mut *c)
        .await)
}

async fn task_review_by_id(
    tx: &mut Tx,
    review_id: &str,
) -> Result<Option<TaskReviewRow>, sqlx::Error> {
    let sql = format!("SELECT {TASK_REVIEW_COLUMNS} FROM task_reviews WHERE review_id = $1");
    with_tx!(tx, |c| sqlx::query_as::<_, TaskReviewRow>(&sql)
        .bind(review_id)
        .fetch_optional(&mut *c)
        .await)
}

async fn upsert_task_review(tx: &mut Tx, r: &TaskReviewRow) -> Result<(), sqlx::Error> {
    with_tx!(tx, |c| sqlx::query(
        "INSERT INTO task_reviews (task_id, review_id, round, status, proposed, proposer, \
         submitted_at, updated_at, change_reason, superseded_event_id) \
         VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10) \
         ON CONFLICT (task_id) DO UPDATE SET review_id = excluded.review_id, \
         round = excluded.round, status = excluded.status, proposed = excluded.proposed, \
         proposer = excluded.proposer, submitted_at = excluded.submitted_at, \
         updated_at = excluded.updated_at, change_reason = excluded.change_reason, \
         superseded_event_id = excluded.superseded_event_id"
    )
    .bind(&r.task_id)
    .bind(&r.review_id)
    .bind(r.round)
    .bind(&r.status)
    .bind(&r.proposed)
    .bind(&r.proposer)
    .bind(r.submitted_at)
    .bind(r.updated_at)
    .bind(&r.change_reason)
    .bind(&r.superseded_event_id)
    .execute(&mut *c)
    .await
    .map(|_| ()))
}

/// Submits the lead's proposed major decision on a joint-case task for review: the next round
/// of the task's review (its own review id, unique to the task), with the case's facts, the
/// proposed decision, the proposing officer and their certificate, and the joint meeting's
/// instructions as the record. The caller has moved the task to `awaiting_review` (with
/// `change`, an amendment of the decision in force, to `amendment_in_review`). Returns
/// the round.
#[allow(clippy::too_many_arguments)]
pub async fn submit_task(
    tx: &mut Tx,
    outbox: &Outbox,
    catalogue: &Catalogue,
    now: DateTime<Utc>,
    row: &TaskRow,
    decision: &ev::Outcome,
    proposer: ev::Actor,
    change: Option<&Amendment<'_>>,
) -> Result<u32, sqlx::Error> {
    let previous = task_review_of(tx, &row.task_id).await?.filter(|p| {
        continues_review(
            Some((p.change_reason.is_some(), p.status.as_str())),
            change.is_some(),
        )
    });
    let town = TownCode::parse(&row.town).map_err(|e| sqlx::Error::Decode(e.into()))?;
    let review_id = previous.as_ref().map_or_else(
        || TownScopedId::new(town, Uuid::now_v7()).to_string(),
        |p| p.review_id.clone(),
    );
    let round = previous.as_ref().map_or(1, |p| p.round + 1);
    let facts = ev::CaseFacts::decode(row.facts.as_slice()).unwrap_or_default();
    let payload = ev::ReviewRequested {
        review_id: review_id.clone(),
        case_id: row.case_id.clone(),
        round: round as u32,
        decided_in_name_of: decided_in_name_of(catalogue, &row.department),
        documents: facts.evidence_refs.clone(),
        facts: Some(facts),
        proposed: Some(decision.clone()),
        officers: vec![ev::DecidingOfficer {
            officer: proposer.officer_id.clone(),
            role: proposer.role.clone(),
            certificate_no: proposer.certificate_no.clone(),
        }],
        record: vec![ev::RecordEntry {
            at: Some(to_ts(row.assigned_at)),
            actor: "board".into(),
            kind: "task_assigned".into(),
            detail: format!("联席会议交办（牵头）：{}", row.instructions),
            ..Default::default()
        }],
        decided_at: Some(to_ts(now)),
        department: row.department.clone(),
        change_reason: change.map(|c| c.reason.to_owned()).unwrap_or_default(),
        superseded_event_id: change
            .map(|c| c.superseded_event_id.to_owned())
            .unwrap_or_default(),
    };
    // The review service must have it: re-sent until its receipt comes back.
    outbox
        .emit(
            tx,
            now,
            NewEvent {
                town: &row.town,
                department: Some(&row.department),
                aggregate_id: &format!("review:{}", row.task_id),
                actor: Some(proposer.clone()),
                causation_id: None,
            },
            AnyEvent::CountyReviewRequested(payload),
        )
        .await?;
    upsert_task_review(
        tx,
        &TaskReviewRow {
            task_id: row.task_id.clone(),
            review_id,
            round,
            status: "pending".into(),
            proposed: decision.encode_to_vec(),
            proposer: proposer.encode_to_vec(),
            submitted_at: now,
            updated_at: now,
            change_reason: change.map(|c| c.reason.to_owned()),
            superseded_event_id: change.map(|c| c.superseded_event_id.to_owned()),
        },
    )
    .await?;
    Ok(round as u32)
}

/// The history line of a submission.
pub fn submitted_detail(department_name: &str, outcome: &ev::Outcome) -> String {
    format!(
        "重大执法决定提请法制审核（以{department_name}名义）：{}（{}）；审核期限 {REVIEW_WORKING_DAYS} 个工作日",
        outcome.kind, outcome.summary
    )
}

/// What the review found, in one line per failed check.
fn findings(e: &ev::ReviewDecided) -> String {
    let mut parts: Vec<String> = e
        .answers
        .iter()
        .filter(|a| !a.passed)
        .map(|a| format!("{}：{}", a.check, a.note))
        .collect();
    if !e.note.is_empty() {
        parts.push(e.note.clone());
    }
    parts.join("；")
}

/// Applies the review service's answers on the departments' decisions (`review.*` events
/// addressed to a department; those addressed to none are the towns').
#[derive(Debug, Clone)]
pub struct ReviewEvents {
    pub outbox: Outbox,
}

impl Handler<FromReview> for ReviewEvents {
    async fn handle(
        &self,
        tx: &mut Tx,
        env: &ev::Envelope,
        event: FromReview,
        now: DateTime<Utc>,
    ) -> Result<(), HandlerError> {
        // Only the answers addressed to a department come here (the towns' are skipped by the
        // consumer, as the topology declares).
        let (action, kind, e) = match event {
            FromReview::ReviewApproved(e) => (
                ReferralAction::ReviewApproved,
                EventKind::ReviewReviewApproved,
                e,
            ),
            FromReview::ReviewReturned(e) => (
                ReferralAction::ReviewReturned,
                EventKind::ReviewReviewReturned,
                e,
            ),
            FromReview::CrimeTransferFound(e) => (
                ReferralAction::CrimeFound,
                EventKind::ReviewCrimeTransferFound,
                e,
            ),
        };
        let kind = kind.name();
        // A review of a joint-case task's decision is known by its id; any other is a
        // referral's.
        if let Some(review) = task_review_by_id(tx, &e.review_id).await? {
            return self.task_answer(tx, env, &e, review, action, now).await;
        }
        let Some(referral_id) =
            store::latest_referral_of_case(tx, &e.case_id, &env.department).await?
        else {
            return Err(HandlerError::Reject(format!(
                "no referral of case {} at {}",
                e.case_id, env.department
            )));
        };
        let Some(mut review) = review_of(tx, &referral_id).await? else {
            return Err(HandlerError::Reject(format!(
                "no review of referral {referral_id}"
            )));
        };
        if review.review_id != e.review_id || review.round != i64::from(e.round) {
            tracing::warn!(%referral_id, round = e.round, "A review answer for a round no longer pending; ignored.");
            return Ok(());
        }
        let mut row = store::get_in_tx(tx, &referral_id)
            .await?
            .ok_or_else(|| HandlerError::Reject(format!("no referral {referral_id}")))?;
        let status = ReferralStatus::parse(&row.status)
            .map_err(|err| HandlerError::Reject(err.to_string()))?;
        let next = match status.next(action) {
            Ok(n) => n,
            // Withdrawn by the chair while under review: the answer has nothing to act on.
            Err(err) => {
                tracing::warn!(%referral_id, %err, "A review answer for a referral no longer awaiting it; ignored.");
                return Ok(());
            }
        };
        review.status = e.status.clone();
        review.updated_at = now;
        upsert_review(tx, &review).await?;
        let reviewer = event_actor_label(env.actor.as_ref());
        let round = e.round;
        let amendment = review.change_reason.clone();
        let detail = match (action, amendment.is_some()) {
            (ReferralAction::ReviewApproved, false) => {
                format!("法制审核通过（第{round}轮），决定生效")
            }
            (ReferralAction::ReviewApproved, true) => {
                format!("法制审核通过（第{round}轮），变更后的决定生效")
            }
            (ReferralAction::ReviewReturned, false) => {
                format!("法制审核退回补正（第{round}轮）：{}", findings(&e))
            }
            (ReferralAction::ReviewReturned, true) => format!(
                "法制审核退回（第{round}轮），原决定继续有效：{}",
                findings(&e)
            ),
            (_, false) => format!(
                "法制审核认为涉嫌犯罪（第{round}轮），退回移送，提请联席会议移送公安机关：{}",
                findings(&e)
            ),
            (_, true) => format!(
                "法制审核认为涉嫌犯罪（第{round}轮），变更不生效，由本部门依法移送公安机关：{}",
                findings(&e)
            ),
        };
        store::add_history(tx, &referral_id, now, kind, &reviewer, &detail).await?;
        // The legal office's answer, with its signed event, in the record of the file held.
        crate::record::enter_event(tx, &row.case_id, &row.department, now, kind, &detail, env)
            .await?;
        row.status = next.as_str().into();
        row.updated_at = now;
        let proposer = ev::Actor::decode(review.proposer.as_slice())
            .map_err(|err| HandlerError::Reject(err.to_string()))?;
        if let Some(reason) = amendment {
            // An amendment: approved, it takes effect as a direct change does; otherwise the
            // decision in force stays.
            if action == ReferralAction::ReviewApproved {
                let outcome = ev::Outcome::decode(review.proposed.as_slice())
                    .map_err(|err| HandlerError::Reject(err.to_string()))?;
                let superseded = review.superseded_event_id.clone().unwrap_or_default();
                let who = Who::acting_for(&proposer, format!("county:{}", row.department));
                crate::decision::apply_change(
                    tx,
                    &self.outbox,
                    now,
                    &mut row,
                    crate::decision::Decided {
                        change: DecisionChange::Amend,
                        reason: &reason,
                        superseded_event_id: &superseded,
                        amended: Some(&outcome),
                    },
                    next,
                    proposer,
                    &who,
                    Some(&env.event_id),
                )
                .await?;
            } else {
                store::update(tx, &row).await?;
            }
            return Ok(());
        }
        let facts = ev::CaseFacts::decode(row.facts.as_slice()).unwrap_or_default();
        let ev_out = || NewEvent {
            town: &row.town,
            department: Some(&row.department),
            aggregate_id: &row.referral_id,
            actor: Some(proposer.clone()),
            causation_id: Some(&env.event_id),
        };
        match action {
            ReferralAction::ReviewApproved => {
                let outcome = ev::Outcome::decode(review.proposed.as_slice())
                    .map_err(|err| HandlerError::Reject(err.to_string()))?;
                row.concluded_at = Some(now);
                row.outcome = Some(review.proposed.clone());
                let held = crate::record::head_in_tx(tx, &row.case_id, &row.department).await?;
                let payload = ev::ReferralConcluded {
                    referral_id: row.referral_id.clone(),
                    case_id: row.case_id.clone(),
                    outcome: Some(outcome.clone()),
                    matters: facts.matters.clone(),
                    town: row.town.clone(),
                    description: facts.description.clone(),
                    held_record: held.as_ref().map(|h| h.head.clone()),
                };
                let concluded_env = self
                    .outbox
                    .emit(
                        tx,
                        now,
                        ev_out(),
                        AnyEvent::CountyReferralConcluded(payload),
                    )
                    .await?;
                crate::record::note_sent(tx, &concluded_env.event_id, held.as_ref()).await?;
                crate::decision::set_decision_event(tx, &referral_id, &concluded_env.event_id)
                    .await?;
                let concluded = crate::api::certified(
                    &format!("办结：{}（{}）", outcome.kind, outcome.summary),
                    &proposer.certificate_no,
                );
                store::add_history(
                    tx,
                    &referral_id,
                    now,
                    ReferralAction::Conclude.as_str(),
                    &event_actor_label(Some(&proposer)),
                    &concluded,
                )
                .await?;
                crate::record::enter(
                    tx,
                    &row.case_id,
                    &row.department,
                    NewEntry {
                        at: now,
                        kind: "referral_concluded",
                        who: &Who::acting_for(&proposer, format!("county:{}", row.department)),
                        detail: &format!("办结：{}（{}）", outcome.kind, outcome.summary),
                        evidence_digests: Vec::new(),
                        event: Some(&concluded_env),
                    },
                )
                .await?;
            }
            ReferralAction::CrimeFound => {
                row.return_reason = Some(CRIME_REASON.into());
                let payload = ev::ReferralReturned {
                    referral_id: row.referral_id.clone(),
                    case_id: row.case_id.clone(),
                    reason: CRIME_REASON.into(),
                    not_competent: false,
                };
                self.outbox
                    .emit(tx, now, ev_out(), AnyEvent::CountyReferralReturned(payload))
                    .await?;
            }
            _ => {}
        }
        store::update(tx, &row).await?;
        Ok(())
    }
}

impl ReviewEvents {
    /// Applies the answer on a joint-case task's decision: approved, the task is decided with
    /// the stored decision and the brigade and board are told as for any decision; returned,
    /// or a suspected crime, the task is open again with the finding in its summary.
    async fn task_answer(
        &self,
        tx: &mut Tx,
        env: &ev::Envelope,
        e: &ev::ReviewDecided,
        mut review: TaskReviewRow,
        action: ReferralAction,
        now: DateTime<Utc>,
    ) -> Result<(), HandlerError> {
        let task_id = review.task_id.clone();
        if review.round != i64::from(e.round) {
            tracing::warn!(%task_id, round = e.round, "A review answer for a round no longer pending; ignored.");
            return Ok(());
        }
        let mut row = task_store::get_task_in_tx(tx, &task_id)
            .await?
            .ok_or_else(|| HandlerError::Reject(format!("no task {task_id}")))?;
        let status =
            TaskStatus::parse(&row.status).map_err(|err| HandlerError::Reject(err.to_string()))?;
        let role =
            TaskRole::parse(&row.role).map_err(|err| HandlerError::Reject(err.to_string()))?;
        let task_action = match action {
            ReferralAction::ReviewApproved => TaskAction::ReviewApproved,
            _ => TaskAction::ReviewReturned,
        };
        let next = match status.next(role, task_action) {
            Ok(n) => n,
            // A replay of an answer already applied.
            Err(err) => {
                tracing::warn!(%task_id, %err, "A review answer for a task no longer awaiting it; ignored.");
                return Ok(());
            }
        };
        review.status = e.status.clone();
        review.updated_at = now;
        upsert_task_review(tx, &review).await?;
        let round = e.round;
        if let Some(reason) = review.change_reason.clone() {
            return self
                .task_amendment_answer(tx, env, e, &review, &reason, action, next, row, now)
                .await;
        }
        row.status = next.as_str().into();
        row.updated_at = now;
        // The legal office's answer, with its signed event, in the record of the file held.
        let (kind, answer) = match action {
            ReferralAction::ReviewApproved => {
                ("review_approved", format!("法制审核通过（第{round}轮）"))
            }
            ReferralAction::ReviewReturned => (
                "review_returned",
                format!("法制审核退回补正（第{round}轮）：{}", findings(e)),
            ),
            _ => (
                "crime_transfer_found",
                format!("法制审核认为涉嫌犯罪（第{round}轮）：{}", findings(e)),
            ),
        };
        crate::record::enter_event(tx, &row.case_id, &row.department, now, kind, &answer, env)
            .await?;
        match action {
            ReferralAction::ReviewApproved => {
                let decision = ev::Outcome::decode(review.proposed.as_slice())
                    .map_err(|err| HandlerError::Reject(err.to_string()))?;
                let proposer = ev::Actor::decode(review.proposer.as_slice())
                    .map_err(|err| HandlerError::Reject(err.to_string()))?;
                row.decision = Some(review.proposed.clone());
                row.done_at = Some(now);
                row.summary = Some(format!("法制审核通过（第{round}轮），决定生效"));
                let held = crate::record::head_in_tx(tx, &row.case_id, &row.department).await?;
                let mut payload = crate::tasks::decided_event(&row, &decision);
                payload.held_record = held.as_ref().map(|h| h.head.clone());
                let who = Who::acting_for(&proposer, format!("county:{}", row.department));
                // Brigade and board both wait on it, as on a decision recorded directly.
                let decided = self
                    .outbox
                    .emit(
                        tx,
                        now,
                        NewEvent {
                            town: &row.town,
                            department: Some(&row.department),
                            aggregate_id: &row.task_id,
                            actor: Some(proposer),
                            causation_id: Some(&env.event_id),
                        },
                        AnyEvent::CountyEntrustedDecisionRecorded(payload),
                    )
                    .await?;
                crate::record::note_sent(tx, &decided.event_id, held.as_ref()).await?;
                task_store::set_decision_event(tx, &row.task_id, &decided.event_id).await?;
                crate::record::enter(
                    tx,
                    &row.case_id,
                    &row.department,
                    NewEntry {
                        at: now,
                        kind: "entrusted_decision_recorded",
                        who: &who,
                        detail: &format!(
                            "受委托作出决定：{}（{}）",
                            decision.kind, decision.summary
                        ),
                        evidence_digests: Vec::new(),
                        event: Some(&decided),
                    },
                )
                .await?;
            }
            ReferralAction::ReviewReturned => {
                row.summary = Some(format!("法制审核退回补正（第{round}轮）：{}", findings(e)));
            }
            _ => {
                row.summary = Some(format!(
                    "法制审核认为涉嫌犯罪（第{round}轮），决定未生效，待联席会议移送公安机关：{}",
                    findings(e)
                ));
            }
        }
        task_store::update_task(tx, &row).await?;
        Ok(())
    }

    /// Applies the answer on an amendment of a lead's entrusted decision: approved, it takes
    /// effect as a direct change does; returned, or a suspected crime, the decision in force
    /// stays, the finding in the record.
    #[allow(clippy::too_many_arguments)]
    async fn task_amendment_answer(
        &self,
        tx: &mut Tx,
        env: &ev::Envelope,
        e: &ev::ReviewDecided,
        review: &TaskReviewRow,
        reason: &str,
        action: ReferralAction,
        next: TaskStatus,
        mut row: TaskRow,
        now: DateTime<Utc>,
    ) -> Result<(), HandlerError> {
        let round = e.round;
        let answer = match action {
            ReferralAction::ReviewApproved => {
                format!("法制审核通过（第{round}轮），变更后的决定生效")
            }
            ReferralAction::ReviewReturned => {
                format!(
                    "法制审核退回（第{round}轮），原决定继续有效：{}",
                    findings(e)
                )
            }
            _ => format!(
                "法制审核认为涉嫌犯罪（第{round}轮），变更不生效，由本部门依法移送公安机关：{}",
                findings(e)
            ),
        };
        let kind = match action {
            ReferralAction::ReviewApproved => "review_approved",
            ReferralAction::ReviewReturned => "review_returned",
            _ => "crime_transfer_found",
        };
        crate::record::enter_event(tx, &row.case_id, &row.department, now, kind, &answer, env)
            .await?;
        if action != ReferralAction::ReviewApproved {
            row.status = next.as_str().into();
            row.summary = Some(answer);
            row.updated_at = now;
            task_store::update_task(tx, &row).await?;
            return Ok(());
        }
        let outcome = ev::Outcome::decode(review.proposed.as_slice())
            .map_err(|err| HandlerError::Reject(err.to_string()))?;
        let proposer = ev::Actor::decode(review.proposer.as_slice())
            .map_err(|err| HandlerError::Reject(err.to_string()))?;
        let who = Who::acting_for(&proposer, format!("county:{}", row.department));
        let superseded = review.superseded_event_id.clone().unwrap_or_default();
        crate::decision::apply_task_change(
            tx,
            &self.outbox,
            now,
            &mut row,
            crate::decision::Decided {
                change: DecisionChange::Amend,
                reason,
                superseded_event_id: &superseded,
                amended: Some(&outcome),
            },
            next,
            proposer,
            &who,
            Some(&env.event_id),
        )
        .await?;
        Ok(())
    }
}
