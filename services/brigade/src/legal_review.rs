//! The legal review of the brigade's major decisions (重大执法决定法制审核): a major decision
//! waits in `awaiting_review` while the town judicial office reviews it, and the review
//! service's answer concludes the case, returns it for correction, or transfers it to the
//! public security organs (行刑衔接).

use chrono::{DateTime, Utc};
use liandong_bus::{Handler, HandlerError, NewEvent, Outbox};
use liandong_decision::{Amendment, Materials, On, Proposal};
use liandong_domain::calendar::Calendar;
use liandong_domain::catalogue::Catalogue;
use liandong_domain::decision::{Subject, Verdict, submitted_detail};
use liandong_domain::decision_change::DecisionChange;
use liandong_domain::disclosure::BodyKind;
use liandong_domain::procedure::{self, Procedure};
use liandong_domain::state::{CaseAction, CaseStatus};
use liandong_domain::towns::Towns;
use liandong_proto::events::v1 as ev;
use liandong_store::Tx;
use liandong_store::with_tx;
use liandong_topology::inbound::brigade::FromReview;
use liandong_topology::{AnyEvent, EventKind};
use prost::Message;

use crate::convert::facts;
use crate::documents;
use crate::flow::{self, Cause};
use crate::record::{self, Who};
use crate::registry;
use crate::store::{self, CaseRow};

/// The department a suspected crime goes to, and the reason its referral carries.
pub const CRIME_DEPARTMENT: &str = "public_security";
pub const CRIME_REASON: &str = "crime_transfer";

/// Whether `outcome` on `case` must pass the legal review first, by the catalogue of the
/// case's matters; a matter the catalogue does not know refuses the decision, naming it.
pub fn requires_review(
    catalogue: &Catalogue,
    case: &CaseRow,
    outcome: &ev::Outcome,
) -> Result<bool, liandong_domain::decision::MajorError> {
    liandong_decision::requires_review(catalogue, &case.matters.0.clone(), outcome)
}

/// What the town's decisions are on.
fn on(case_id: &str) -> On<'_> {
    On {
        subject: Subject::Case,
        id: case_id,
    }
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
    towns: &Towns,
    now: DateTime<Utc>,
    row: &CaseRow,
    outcome: &ev::Outcome,
    actor: Option<ev::Actor>,
    who: &Who,
    causation_id: Option<&str>,
    procedure: Procedure,
) -> Result<(), sqlx::Error> {
    let here = row.here();
    let body = documents::body_of(catalogue, towns, row, now)?;
    // The decision takes effect now, dated as its body dated it or today (作出之日).
    let outcome = &liandong_grpc::dated(outcome, now);
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
    store::set_status(tx, &row.case_id, CaseStatus::Concluded, now).await?;
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
                matters: row.matters.0.clone(),
                town: row.town.clone(),
                description: row.description.clone(),
                decided_for_department: match body.kind {
                    BodyKind::Department => body.code.clone(),
                    BodyKind::Town => String::new(),
                },
            }),
        )
        .await?;
    liandong_decision::set_in_force(tx, on(&row.case_id), Some((&env, outcome)), now).await?;
    // The record notes which version of each matter's law the decision applied, and why.
    let law = match crate::law::applied(catalogue, row, Calendar::local_date(now)) {
        Ok(law) => law.notes.join("；"),
        Err(e) => e.to_string(),
    };
    let detail = certified(
        &format!(
            "办结：{}（{}）；适用法律：{law}",
            outcome.kind,
            documents::decision_words(outcome)
        ),
        &who.certificate_no,
    );
    store::add_history(tx, here, now, "concluded", who, &detail, Some(&env)).await?;
    documents::on_conclude(tx, now, catalogue, towns, row, outcome, procedure, who).await
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
    towns: &Towns,
    now: DateTime<Utc>,
    row: &CaseRow,
    d: Decided<'_>,
    actor: Option<ev::Actor>,
    by: &Who,
    causation_id: Option<&str>,
) -> Result<(), sqlx::Error> {
    // The amended decision takes effect now, dated as its body dated it or today (作出之日).
    let amended = d.amended.map(|o| liandong_grpc::dated(o, now));
    let d = Decided {
        amended: amended.as_ref(),
        ..d
    };
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
                matters: row.matters.0.clone(),
                description: row.description.clone(),
                // The brigade's own decision: its record is not a department's held one.
                held_record: None,
                item_id: String::new(),
            }),
        )
        .await?;
    liandong_decision::set_in_force(tx, on(&row.case_id), d.amended.map(|o| (&env, o)), now)
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
        documents::on_conclude(tx, now, catalogue, towns, row, o, Procedure::Ordinary, by).await?;
    }
    store::set_status(tx, &row.case_id, d.next, now).await
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

/// Submits the proposed major decision for review: the next round of the case's review, with
/// its materials (facts, proposed outcome, the deciding officers and their certificates, the
/// documents and the record so far), and the case waits (`awaiting_review`). With
/// `amendment`, the proposal amends the decision in force, which stands meanwhile
/// (`amendment_in_review`). Returns the round.
#[allow(clippy::too_many_arguments)]
pub async fn submit(
    tx: &mut Tx,
    outbox: &Outbox,
    catalogue: &Catalogue,
    towns: &Towns,
    now: DateTime<Utc>,
    row: &CaseRow,
    outcome: &ev::Outcome,
    proposer: ev::Actor,
    amendment: Option<Amendment>,
) -> Result<u32, sqlx::Error> {
    // The deciding officers: those assigned to the case and the one who proposes.
    let mut officers = store::officers_in_tx(tx, &row.case_id).await?;
    if !officers.contains(&proposer.officer_id) {
        officers.push(proposer.officer_id.clone());
    }
    let numbers = registry::numbers_of(tx, &row.town, &officers).await?;
    let record: Vec<ev::RecordEntry> = record::entries_in_tx(tx, &row.case_id)
        .await?
        .into_iter()
        .map(|e| e.to_event())
        .collect();
    let mut documents = documents_of(tx, &row.case_id).await?;
    documents.extend(row.evidence_refs.0.clone());
    // In the town's name, or the entrusting department's, whose legal office then reviews it
    // (行政处罚法 第二十条: the department answers for what is done in its name).
    let body = documents::body_of(catalogue, towns, row, now)?;
    let reviewing_department = match body.kind {
        BodyKind::Department => body.code.clone(),
        BodyKind::Town => String::new(),
    };
    let materials = Materials {
        reviewing_department,
        decided_in_name_of: body.name.clone(),
        facts: Some(facts(row)),
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
        documents,
        record,
    };
    let who = who_of(&proposer, &row.town);
    let certificate_no = proposer.certificate_no.clone();
    let reason = amendment.as_ref().map(|a| a.reason.clone());
    let waiting = match amendment {
        None => CaseStatus::AwaitingReview,
        Some(_) => CaseStatus::AmendmentInReview,
    };
    let submitted = liandong_decision::submit(
        tx,
        outbox,
        now,
        Proposal {
            on: on(&row.case_id),
            town: &row.town,
            department: None,
            case_id: &row.case_id,
            outcome,
            proposer,
            amendment,
            materials,
        },
    )
    .await?;
    store::set_status(tx, &row.case_id, waiting, now).await?;
    let detail = certified(
        &submitted_detail(
            submitted.round,
            &body.name,
            &outcome.kind,
            &outcome.summary,
            reason.as_deref(),
        ),
        &certificate_no,
    );
    store::add_history(
        tx,
        row.here(),
        now,
        EventKind::BrigadeReviewRequested.name(),
        &who,
        &detail,
        Some(&submitted.env),
    )
    .await?;
    Ok(submitted.round)
}

/// The brigade officer of an event's actor, as the record names them.
fn who_of(a: &ev::Actor, town: &str) -> Who {
    Who::acting_for(a, format!("brigade:{town}"))
}

/// Applies the review service's answers on the town's decisions (`review.*` events addressed
/// to no department).
#[derive(Debug, Clone)]
pub struct ReviewEvents {
    pub outbox: Outbox,
    pub catalogue: std::sync::Arc<Catalogue>,
    pub towns: std::sync::Arc<Towns>,
}

#[deny(clippy::wildcard_enum_match_arm)]
impl Handler<FromReview> for ReviewEvents {
    async fn handle(
        &self,
        tx: &mut Tx,
        env: &ev::Envelope,
        event: FromReview,
        now: DateTime<Utc>,
    ) -> Result<(), HandlerError> {
        let (verdict, action, kind, e) = match event {
            FromReview::ReviewApproved(e) => (
                Verdict::Approved,
                CaseAction::ReviewApproved,
                EventKind::ReviewReviewApproved,
                e,
            ),
            FromReview::ReviewReturned(e) => (
                Verdict::Returned,
                CaseAction::ReviewReturned,
                EventKind::ReviewReviewReturned,
                e,
            ),
            FromReview::CrimeTransferFound(e) => (
                Verdict::CrimeFound,
                CaseAction::CrimeTransferred,
                EventKind::ReviewCrimeTransferFound,
                e,
            ),
        };
        let kind = kind.name();
        let Some(review) = liandong_decision::review_of(tx, on(&e.case_id)).await? else {
            return Err(HandlerError::Reject(format!(
                "no review of case {} at this brigade",
                e.case_id
            )));
        };
        let Some(answered) = liandong_decision::answer(tx, review, &e, verdict, now).await? else {
            return Ok(());
        };
        let case = store::case_in_tx(tx, &e.case_id)
            .await?
            .ok_or_else(|| HandlerError::Reject(format!("no case {}", e.case_id)))?;
        let next = case
            .status
            .next(action)
            .map_err(|err| HandlerError::Reject(err.to_string()))?;
        let reviewer = Who::of_event(env);
        let here = case.here();
        store::add_history(tx, here, now, kind, &reviewer, &answered.detail, Some(env)).await?;
        let amendment = answered.review.amendment();
        match verdict {
            Verdict::Approved => {
                let outcome = answered.proposed().clone();
                let proposer = answered.proposer().clone();
                let who = who_of(&proposer, &case.town);
                // A major penalty is decided by the heads' collective discussion (第五十七条),
                // which follows the legal review: approved and not yet discussed, it waits.
                let penalty = crate::procedure::penalty_of(&outcome, "outcome")
                    .map_err(|e| HandlerError::Reject(e.to_string()))?;
                let discussed =
                    procedure::discussed(&crate::procedure::steps_in_tx(tx, &case.case_id).await?);
                match &amendment {
                    None if penalty.is_some() && !discussed => {
                        let waiting = case
                            .status
                            .next(CaseAction::AwaitDiscussion)
                            .map_err(|err| HandlerError::Reject(err.to_string()))?;
                        store::set_status(tx, &case.case_id, waiting, now).await?;
                        store::add_history(
                            tx,
                            here,
                            now,
                            "awaiting_discussion",
                            &Who::system(&case.town),
                            "法制审核通过，待负责人集体讨论决定（《中华人民共和国行政处罚法》第五十七条）",
                            None,
                        )
                        .await?;
                    }
                    None => {
                        conclude(
                            tx,
                            &self.outbox,
                            &self.catalogue,
                            &self.towns,
                            now,
                            &case,
                            &outcome,
                            Some(proposer),
                            &who,
                            Some(&env.event_id),
                            Procedure::Ordinary,
                        )
                        .await?
                    }
                    Some(amendment) => {
                        change_decision(
                            tx,
                            &self.outbox,
                            &self.catalogue,
                            &self.towns,
                            now,
                            &case,
                            Decided {
                                change: DecisionChange::Amend,
                                reason: &amendment.reason,
                                superseded_event_id: &amendment.superseded_event_id,
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
            Verdict::CrimeFound => {
                store::set_status(tx, &case.case_id, next, now).await?;
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
                    &self.towns,
                    now,
                    &case,
                    CRIME_DEPARTMENT,
                    CRIME_REASON,
                    &cause,
                )
                .await?;
            }
            Verdict::Returned => store::set_status(tx, &case.case_id, next, now).await?,
        }
        Ok(())
    }
}
