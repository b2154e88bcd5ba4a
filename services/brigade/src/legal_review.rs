//! The legal review of the brigade's major decisions (重大执法决定法制审核): a major decision
//! waits in `awaiting_review` while the town judicial office reviews it, and the review
//! service's answer concludes the case, returns it for correction, or transfers it to the
//! public security organs (行刑衔接).

use chrono::{DateTime, Utc};
use liandong_bus::{Handler, HandlerError, NewEvent, Outbox};
use liandong_domain::catalogue::Catalogue;
use liandong_domain::decision_change::{Amendment, DecisionChange, continues_review};
use liandong_domain::ids::{MatterCode, TownCode, TownScopedId};
use liandong_domain::review::{REVIEW_WORKING_DAYS, decision_facts, decision_is_major};
use liandong_domain::state::{CaseAction, CaseStatus};
use liandong_proto::events::v1 as ev;
use liandong_proto::time::to_ts;
use liandong_store::Tx;
use liandong_store::with_tx;
use liandong_topology::inbound::brigade::FromReview;
use liandong_topology::{AnyEvent, EventKind};
use prost::Message;
use uuid::Uuid;

use crate::convert::{facts, json_list};
use crate::documents;
use crate::flow::{self, Cause};
use crate::record::{self, Who};
use crate::registry;
use crate::store::{self, CaseRow};

/// The department a suspected crime goes to, and the reason its referral carries.
pub const CRIME_DEPARTMENT: &str = "public_security";
pub const CRIME_REASON: &str = "crime_transfer";

/// The body in whose name a town's decisions are made (the town government; the brigade
/// exercises the town's powers).
pub fn decided_in_name_of(town: &str) -> String {
    format!("{town} 人民政府")
}

/// Whether `outcome` on `case` is a major decision by the catalogue of the case's matters.
pub fn is_major(catalogue: &Catalogue, case: &CaseRow, outcome: &ev::Outcome) -> bool {
    let matters: Vec<MatterCode> = json_list(&case.matters)
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

/// A line of the record with the certificate it was taken under.
pub fn certified(detail: &str, certificate_no: &str) -> String {
    if certificate_no.is_empty() {
        detail.to_owned()
    } else {
        format!("{detail}（执法证号 {certificate_no}）")
    }
}

/// Concludes `case` with `outcome`: the outcome row, the status, the `case_concluded` event,
/// the record entry and the decision document. Shared by a direct conclusion and an approved
/// review, so both leave the same trace.
#[allow(clippy::too_many_arguments)]
pub async fn conclude(
    tx: &mut Tx,
    outbox: &Outbox,
    catalogue: &Catalogue,
    now: DateTime<Utc>,
    row: &CaseRow,
    outcome: &ev::Outcome,
    actor: Option<ev::Actor>,
    who: &Who,
    causation_id: Option<&str>,
) -> Result<(), sqlx::Error> {
    let here = row.here();
    store::insert_outcome(
        tx,
        here,
        &outcome.encode_to_vec(),
        &outcome.kind,
        outcome.fine_fen,
        &who.label(),
        now,
    )
    .await?;
    store::set_status(tx, &row.case_id, CaseStatus::Concluded.as_str(), now).await?;
    let env = outbox
        .emit(
            tx,
            now,
            NewEvent {
                town: &row.town,
                department: None,
                aggregate_id: &row.case_id,
                actor,
                causation_id,
            },
            AnyEvent::BrigadeCaseConcluded(ev::CaseConcluded {
                case_id: row.case_id.clone(),
                outcome: Some(outcome.clone()),
                // What the case was about, for the town's public disclosure.
                matters: json_list(&row.matters),
                town: row.town.clone(),
                description: row.description.clone(),
            }),
        )
        .await?;
    let detail = certified(
        &format!("办结：{}（{}）", outcome.kind, outcome.summary),
        &who.certificate_no,
    );
    store::add_history(tx, here, now, "concluded", who, &detail, Some(&env)).await?;
    documents::on_conclude(tx, now, catalogue, row, outcome, who).await
}

/// A change of a decision already in force (变更 or 撤销), as it takes effect.
pub struct Decided<'a> {
    pub change: DecisionChange,
    pub reason: &'a str,
    /// The event of the decision in force, which the change replaces.
    pub superseded_event_id: &'a str,
    /// The new decision, for an amendment.
    pub amended: Option<&'a ev::Outcome>,
    /// The case's status after the change.
    pub next: CaseStatus,
}

/// Changes the decision in force: an amendment's outcome row, `brigade.decision_changed`
/// (which has the disclosure service withdraw the replaced decision's disclosure), the record
/// entry, for an amendment its decision document, and the status. Shared by a change the
/// captain makes directly and an amendment the legal review approved.
#[allow(clippy::too_many_arguments)]
pub async fn change_decision(
    tx: &mut Tx,
    outbox: &Outbox,
    catalogue: &Catalogue,
    now: DateTime<Utc>,
    row: &CaseRow,
    d: Decided<'_>,
    actor: Option<ev::Actor>,
    by: &Who,
    causation_id: Option<&str>,
) -> Result<(), sqlx::Error> {
    if let Some(o) = d.amended {
        store::insert_outcome(
            tx,
            row.here(),
            &o.encode_to_vec(),
            &o.kind,
            o.fine_fen,
            &by.label(),
            now,
        )
        .await?;
    }
    let env = outbox
        .emit(
            tx,
            now,
            NewEvent {
                town: &row.town,
                department: None,
                aggregate_id: &row.case_id,
                actor,
                causation_id,
            },
            AnyEvent::BrigadeDecisionChanged(ev::DecisionChanged {
                case_id: row.case_id.clone(),
                change: d.change.as_str().into(),
                reason: d.reason.into(),
                superseded_event_id: d.superseded_event_id.into(),
                outcome: d.amended.cloned(),
                matters: json_list(&row.matters),
                description: row.description.clone(),
                // The brigade's own decision: its record is not a department's held one.
                held_record: None,
                item_id: String::new(),
            }),
        )
        .await?;
    let mut detail = match d.change {
        DecisionChange::Amend => format!("变更决定，理由：{}", d.reason),
        DecisionChange::Revoke => format!("撤销决定，理由：{}", d.reason),
    };
    if let Some(o) = d.amended {
        detail.push_str(&format!("；变更后：{}（{}）", o.kind, o.summary));
    }
    let detail = certified(&detail, &by.certificate_no);
    store::add_history(
        tx,
        row.here(),
        now,
        d.change.record_kind(),
        by,
        &detail,
        Some(&env),
    )
    .await?;
    if let Some(o) = d.amended {
        documents::on_conclude(tx, now, catalogue, row, o, by).await?;
    }
    store::set_status(tx, &row.case_id, d.next.as_str(), now).await
}

/// The review of a case as the brigade keeps it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct CaseReviewRow {
    pub case_id: String,
    pub town: String,
    pub review_id: String,
    pub round: i64,
    pub status: String,
    pub proposed: Vec<u8>,
    pub proposer: Vec<u8>,
    pub certificate_no: String,
    pub submitted_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// For the review of an amendment: why the decision in force is changed, and its event.
    pub change_reason: Option<String>,
    pub superseded_event_id: Option<String>,
}

async fn review_of(tx: &mut Tx, case_id: &str) -> Result<Option<CaseReviewRow>, sqlx::Error> {
    with_tx!(tx, |c| sqlx::query_as::<_, CaseReviewRow>(
        "SELECT case_id, town, review_id, round, status, proposed, proposer, certificate_no, \
         submitted_at, updated_at, change_reason, superseded_event_id FROM case_reviews \
         WHERE case_id = $1"
    )
    .bind(case_id)
    .fetch_optional(&mut *c)
    .await)
}

async fn upsert_review(tx: &mut Tx, r: &CaseReviewRow) -> Result<(), sqlx::Error> {
    with_tx!(tx, |c| {
        sqlx::query(
        "INSERT INTO case_reviews (case_id, town, review_id, round, status, proposed, proposer, \
         certificate_no, submitted_at, updated_at, change_reason, superseded_event_id) \
         VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12) \
         ON CONFLICT (case_id) DO UPDATE SET review_id = excluded.review_id, round = excluded.round, \
         status = excluded.status, proposed = excluded.proposed, proposer = excluded.proposer, \
         certificate_no = excluded.certificate_no, submitted_at = excluded.submitted_at, \
         updated_at = excluded.updated_at, change_reason = excluded.change_reason, \
         superseded_event_id = excluded.superseded_event_id"
    )
    .bind(&r.case_id)
    .bind(&r.town)
    .bind(&r.review_id)
    .bind(r.round)
    .bind(&r.status)
    .bind(&r.proposed)
    .bind(&r.proposer)
    .bind(&r.certificate_no)
    .bind(r.submitted_at)
    .bind(r.updated_at)
    .bind(&r.change_reason)
    .bind(&r.superseded_event_id)
    .execute(&mut *c)
    .await
    .map(|_| ())
    })
}

/// The case's standard documents so far, as "<kind> <number>".
async fn documents_of(tx: &mut Tx, case_id: &str) -> Result<Vec<String>, sqlx::Error> {
    let rows: Vec<(String, String)> = with_tx!(tx, |c| sqlx::query_as(
        "SELECT kind, doc_no FROM documents WHERE case_id = $1 ORDER BY created_at, number_seq"
    )
    .bind(case_id)
    .fetch_all(&mut *c)
    .await)?;
    Ok(rows.into_iter().map(|(k, n)| format!("{k} {n}")).collect())
}

async fn assigned_officers(tx: &mut Tx, case_id: &str) -> Result<Vec<String>, sqlx::Error> {
    let officers: Option<String> = with_tx!(tx, |c| sqlx::query_scalar(
        "SELECT officers FROM case_assignments WHERE case_id = $1"
    )
    .bind(case_id)
    .fetch_optional(&mut *c)
    .await)?;
    Ok(officers.map(|o| json_list(&o)).unwrap_or_default())
}

/// Submits the proposed major decision for review: the next round of the case's review, with
/// its materials (facts, proposed outcome, the deciding officers and their certificates, the
/// documents and the record so far), and the case waits (`awaiting_review`). With `change`,
/// the proposal amends the decision in force, which stands meanwhile
/// (`amendment_in_review`); the first amendment is a review of its own, a corrected one after
/// a return its next round. Returns the round.
pub async fn submit(
    tx: &mut Tx,
    outbox: &Outbox,
    now: DateTime<Utc>,
    row: &CaseRow,
    outcome: &ev::Outcome,
    proposer: ev::Actor,
    change: Option<&Amendment<'_>>,
) -> Result<u32, sqlx::Error> {
    let previous = review_of(tx, &row.case_id).await?;
    let town = TownCode::parse(&row.town).map_err(|e| sqlx::Error::Decode(e.into()))?;
    // A first decision's review goes on round by round; an amendment's review is a new one,
    // unless it is the resubmission of an amendment returned for correction.
    let continued = previous.filter(|p| {
        continues_review(
            Some((p.change_reason.is_some(), p.status.as_str())),
            change.is_some(),
        )
    });
    let review_id = continued.as_ref().map_or_else(
        || TownScopedId::new(town, Uuid::now_v7()).to_string(),
        |p| p.review_id.clone(),
    );
    let round = continued.as_ref().map_or(1, |p| p.round + 1);
    // The deciding officers: those assigned to the case and the one who proposes.
    let mut officers = assigned_officers(tx, &row.case_id).await?;
    if !officers.contains(&proposer.officer_id) {
        officers.push(proposer.officer_id.clone());
    }
    let numbers = registry::numbers_of(tx, &row.town, &officers).await?;
    let record: Vec<ev::RecordEntry> = record::entries_in_tx(tx, &row.case_id)
        .await?
        .into_iter()
        .map(|e| e.to_event())
        .collect();
    let mut materials = documents_of(tx, &row.case_id).await?;
    materials.extend(json_list(&row.evidence_refs));
    let payload = ev::ReviewRequested {
        review_id: review_id.clone(),
        case_id: row.case_id.clone(),
        round: round as u32,
        decided_in_name_of: decided_in_name_of(&row.town),
        facts: Some(facts(row)),
        proposed: Some(outcome.clone()),
        officers: officers
            .iter()
            .zip(numbers)
            .map(|(o, n)| ev::DecidingOfficer {
                officer: o.clone(),
                role: if *o == proposer.officer_id {
                    proposer.role.clone()
                } else {
                    "brigade_officer".into()
                },
                certificate_no: n,
            })
            .collect(),
        documents: materials,
        record,
        decided_at: Some(to_ts(now)),
        department: String::new(),
        change_reason: change.map(|c| c.reason.to_owned()).unwrap_or_default(),
        superseded_event_id: change
            .map(|c| c.superseded_event_id.to_owned())
            .unwrap_or_default(),
    };
    // The review service must have it: re-sent until its receipt comes back.
    let env = outbox
        .emit(
            tx,
            now,
            NewEvent {
                town: &row.town,
                department: None,
                aggregate_id: &format!("review:{}", row.case_id),
                actor: Some(proposer.clone()),
                causation_id: None,
            },
            AnyEvent::BrigadeReviewRequested(payload),
        )
        .await?;
    let certificate_no = proposer.certificate_no.clone();
    upsert_review(
        tx,
        &CaseReviewRow {
            case_id: row.case_id.clone(),
            town: row.town.clone(),
            review_id,
            round,
            status: "pending".into(),
            proposed: outcome.encode_to_vec(),
            proposer: proposer.encode_to_vec(),
            certificate_no: certificate_no.clone(),
            submitted_at: now,
            updated_at: now,
            change_reason: change.map(|c| c.reason.to_owned()),
            superseded_event_id: change.map(|c| c.superseded_event_id.to_owned()),
        },
    )
    .await?;
    let waiting = match change {
        None => CaseStatus::AwaitingReview,
        Some(_) => CaseStatus::AmendmentInReview,
    };
    store::set_status(tx, &row.case_id, waiting.as_str(), now).await?;
    let who = who_of(&proposer, &row.town);
    let what = match change {
        None => "重大执法决定提请法制审核".to_owned(),
        Some(c) => format!(
            "决定变更为重大执法决定，提请法制审核（变更理由：{}）",
            c.reason
        ),
    };
    let detail = certified(
        &format!(
            "{what}（第{round}轮，以{}名义）：{}（{}）；审核期限 {REVIEW_WORKING_DAYS} 个工作日",
            decided_in_name_of(&row.town),
            outcome.kind,
            outcome.summary
        ),
        &certificate_no,
    );
    store::add_history(
        tx,
        row.here(),
        now,
        "review_requested",
        &who,
        &detail,
        Some(&env),
    )
    .await?;
    Ok(round as u32)
}

/// The brigade officer of an event's actor, as the record names them.
fn who_of(a: &ev::Actor, town: &str) -> Who {
    Who::acting_for(a, format!("brigade:{town}"))
}

/// What the review found, in one line per failed check.
fn findings(e: &ev::ReviewDecided) -> String {
    let failed: Vec<String> = e
        .answers
        .iter()
        .filter(|a| !a.passed)
        .map(|a| format!("{}：{}", a.check, a.note))
        .collect();
    let mut s = failed.join("；");
    if !e.note.is_empty() {
        if !s.is_empty() {
            s.push('；');
        }
        s.push_str(&e.note);
    }
    s
}

/// Applies the review service's answers on the town's decisions (`review.*` events addressed
/// to no department).
#[derive(Debug, Clone)]
pub struct ReviewEvents {
    pub outbox: Outbox,
    pub catalogue: std::sync::Arc<Catalogue>,
}

impl Handler<FromReview> for ReviewEvents {
    async fn handle(
        &self,
        tx: &mut Tx,
        env: &ev::Envelope,
        event: FromReview,
        now: DateTime<Utc>,
    ) -> Result<(), HandlerError> {
        let (action, kind, e) = match event {
            FromReview::ReviewApproved(e) => (
                CaseAction::ReviewApproved,
                EventKind::ReviewReviewApproved,
                e,
            ),
            FromReview::ReviewReturned(e) => (
                CaseAction::ReviewReturned,
                EventKind::ReviewReviewReturned,
                e,
            ),
            FromReview::CrimeTransferFound(e) => (
                CaseAction::CrimeTransferred,
                EventKind::ReviewCrimeTransferFound,
                e,
            ),
        };
        let kind = kind.name();
        let Some(mut review) = review_of(tx, &e.case_id).await? else {
            return Err(HandlerError::Reject(format!(
                "no review of case {} at this brigade",
                e.case_id
            )));
        };
        if review.review_id != e.review_id || review.round != i64::from(e.round) {
            tracing::warn!(case_id = %e.case_id, round = e.round, "A review answer for a round no longer pending; ignored.");
            return Ok(());
        }
        let case = store::case_in_tx(tx, &e.case_id)
            .await?
            .ok_or_else(|| HandlerError::Reject(format!("no case {}", e.case_id)))?;
        let next = CaseStatus::parse(&case.status)
            .map_err(|err| HandlerError::Reject(err.to_string()))?
            .next(action)
            .map_err(|err| HandlerError::Reject(err.to_string()))?;
        review.status = e.status.clone();
        review.updated_at = now;
        upsert_review(tx, &review).await?;
        let reviewer = Who::of_event(env);
        let here = case.here();
        let round = e.round;
        let amendment = review.change_reason.clone();
        let detail = match (action, &amendment) {
            (CaseAction::ReviewApproved, None) => {
                format!("法制审核通过（第{round}轮），决定生效")
            }
            (CaseAction::ReviewApproved, Some(_)) => {
                format!("法制审核通过（第{round}轮），变更后的决定生效")
            }
            (CaseAction::ReviewReturned, None) => {
                format!("法制审核退回补正（第{round}轮）：{}", findings(&e))
            }
            (CaseAction::ReviewReturned, Some(_)) => format!(
                "法制审核退回（第{round}轮），原决定继续有效：{}",
                findings(&e)
            ),
            _ => format!(
                "法制审核认为涉嫌犯罪（第{round}轮），移送公安机关（行刑衔接）：{}",
                findings(&e)
            ),
        };
        store::add_history(tx, here, now, kind, &reviewer, &detail, Some(env)).await?;
        match action {
            CaseAction::ReviewApproved => {
                let outcome = ev::Outcome::decode(review.proposed.as_slice())
                    .map_err(|err| HandlerError::Reject(err.to_string()))?;
                let proposer = ev::Actor::decode(review.proposer.as_slice())
                    .map_err(|err| HandlerError::Reject(err.to_string()))?;
                let who = who_of(&proposer, &case.town);
                match &amendment {
                    None => {
                        conclude(
                            tx,
                            &self.outbox,
                            &self.catalogue,
                            now,
                            &case,
                            &outcome,
                            Some(proposer),
                            &who,
                            Some(&env.event_id),
                        )
                        .await?
                    }
                    Some(reason) => {
                        let superseded = review.superseded_event_id.clone().unwrap_or_default();
                        change_decision(
                            tx,
                            &self.outbox,
                            &self.catalogue,
                            now,
                            &case,
                            Decided {
                                change: DecisionChange::Amend,
                                reason,
                                superseded_event_id: &superseded,
                                amended: Some(&outcome),
                                next,
                            },
                            Some(proposer),
                            &who,
                            Some(&env.event_id),
                        )
                        .await?
                    }
                }
            }
            CaseAction::CrimeTransferred => {
                store::set_status(tx, &case.case_id, next.as_str(), now).await?;
                let system = Who::system(&case.town);
                let cause = Cause {
                    actor: None,
                    who: &system,
                    causation_id: Some(&env.event_id),
                };
                flow::refer(
                    tx,
                    &self.outbox,
                    &self.catalogue,
                    now,
                    &case,
                    CRIME_DEPARTMENT,
                    CRIME_REASON,
                    &cause,
                )
                .await?;
            }
            _ => store::set_status(tx, &case.case_id, next.as_str(), now).await?,
        }
        Ok(())
    }
}
