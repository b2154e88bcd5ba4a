//! Decisions become disclosures: the brigade's in-scope decisions in the town's name, and the
//! departments' own and entrusted decisions in theirs, each masked as it arrives.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use liandong_bus::{Handler, HandlerError, Outbox};
use liandong_domain::calendar::Calendar;
use liandong_domain::catalogue::Catalogue;
use liandong_domain::decision_change::{DecisionChange, public_reason};
use liandong_domain::disclosure::{self, BodyKind, DisclosureAction, DisclosureStatus};
use liandong_domain::ids::{DepartmentCode, MatterCode};
use liandong_domain::masking::{Party, PartyKind, mask_party, mask_text, mask_text_for};
use liandong_domain::outcome::OutcomeKind;
use liandong_grpc::event_actor_label;
use liandong_proto::events::v1 as ev;
use liandong_proto::time::from_ts;
use liandong_store::Tx;
use liandong_store::typed::Json;
use liandong_topology::inbound::disclosure::{FromBrigade, FromCounty};

use crate::store::{self, DisclosureRow};

/// Applies `brigade.case_concluded`, `county.referral_concluded` and
/// `county.entrusted_decision_recorded` (a new disclosure each), and `brigade.decision_changed`
/// (the changed decision's disclosure withdrawn, and an amended decision disclosed).
#[derive(Clone)]
pub struct Decisions {
    pub catalogue: Arc<Catalogue>,
    pub calendar: Arc<Calendar>,
    /// Each disclosure's new state leaves as an event with the change.
    pub outbox: Outbox,
}

/// A decision as the three events carry it.
struct Decision<'a> {
    body_kind: BodyKind,
    body_code: String,
    case_id: &'a str,
    outcome: Option<&'a ev::Outcome>,
    matters: &'a [String],
    description: &'a str,
}

#[deny(clippy::wildcard_enum_match_arm)]
impl Handler<FromBrigade> for Decisions {
    async fn handle(
        &self,
        tx: &mut Tx,
        env: &ev::Envelope,
        event: FromBrigade,
        now: DateTime<Utc>,
    ) -> Result<(), HandlerError> {
        match event {
            FromBrigade::CaseConcluded(e) => {
                // A decision the town made in an entrusting department's name is that
                // department's to disclose (行政处罚法 第二十条); else the town's.
                let (body_kind, body_code) = if e.decided_for_department.is_empty() {
                    (BodyKind::Town, env.town.clone())
                } else {
                    (BodyKind::Department, e.decided_for_department.clone())
                };
                let d = Decision {
                    body_kind,
                    body_code,
                    case_id: &e.case_id,
                    outcome: e.outcome.as_ref(),
                    matters: &e.matters,
                    description: &e.description,
                };
                self.create(tx, env, now, d).await
            }
            FromBrigade::DecisionChanged(e) => self.change(tx, env, now, e).await,
        }
    }
}

#[deny(clippy::wildcard_enum_match_arm)]
impl Handler<FromCounty> for Decisions {
    async fn handle(
        &self,
        tx: &mut Tx,
        env: &ev::Envelope,
        event: FromCounty,
        now: DateTime<Utc>,
    ) -> Result<(), HandlerError> {
        match event {
            FromCounty::ReferralConcluded(e) => {
                let d = Decision {
                    body_kind: BodyKind::Department,
                    body_code: env.department.clone(),
                    case_id: &e.case_id,
                    outcome: e.outcome.as_ref(),
                    matters: &e.matters,
                    description: &e.description,
                };
                self.create(tx, env, now, d).await
            }
            FromCounty::EntrustedDecisionRecorded(e) => {
                // The stationed agency decides in the name of the department that entrusted
                // it; that department discloses.
                let body_code = DepartmentCode::parse(&e.decided_in_name_of)
                    .map(|d| d.to_string())
                    .unwrap_or_else(|_| {
                        if e.department.is_empty() {
                            env.department.clone()
                        } else {
                            e.department.clone()
                        }
                    });
                let d = Decision {
                    body_kind: BodyKind::Department,
                    body_code,
                    case_id: &e.case_id,
                    outcome: e.decision.as_ref(),
                    matters: &e.matters,
                    description: &e.description,
                };
                self.create(tx, env, now, d).await
            }
            FromCounty::DecisionChanged(e) | FromCounty::EntrustedDecisionChanged(e) => {
                self.change(tx, env, now, e).await
            }
        }
    }
}

/// The party as the domain knows it; a kind the hub does not know is treated as a person,
/// whose data is masked the most.
fn party(p: Option<&ev::Party>) -> Party {
    let p = p.cloned().unwrap_or_default();
    Party {
        kind: PartyKind::parse(&p.kind).unwrap_or(PartyKind::Person),
        name: p.name,
        id_number: p.id_number,
        phone: p.phone,
        address: p.address,
        bank_account: p.bank_account,
        minor: p.minor,
    }
}

impl Decisions {
    /// A decision was changed or revoked by its body: the disclosure of the decision it
    /// replaces is withdrawn at once, with the reason shown to the public and the 3-working-day
    /// deadline kept (行政处罚法 第四十八条, 第八十五条); an amended decision becomes a disclosure
    /// of its own, in the same body's name, pending until the body publishes it.
    async fn change(
        &self,
        tx: &mut Tx,
        env: &ev::Envelope,
        now: DateTime<Utc>,
        e: ev::DecisionChanged,
    ) -> Result<(), HandlerError> {
        let change = DecisionChange::parse(&e.change)
            .map_err(|err| HandlerError::Reject(format!("{}: {err}", env.event_type)))?;
        // The replaced decision's own event may still be on its way (this consumer keeps no
        // order): wait for it rather than lose the withdrawal.
        let mut old = store::by_source_in_tx(tx, &e.superseded_event_id)
            .await?
            .ok_or_else(|| {
                HandlerError::Retry(format!(
                    "the disclosure of decision {} has not arrived yet",
                    e.superseded_event_id
                ))
            })?;
        // Only the body that made a decision changes it (谁执法谁公示): the town's brigade its
        // own, a department its own.
        let (kind, code) = match env.source.as_str() {
            "county" => (BodyKind::Department, env.department.as_str()),
            _ => (BodyKind::Town, env.town.as_str()),
        };
        if old.body_kind != kind || old.body_code != code {
            return Err(HandlerError::Reject(format!(
                "{} from {} {code} names decision {}, which {} {} made",
                env.event_type,
                kind.as_str(),
                e.superseded_event_id,
                old.body_kind,
                old.body_code
            )));
        }
        let changed_at = from_ts(env.occurred_at.as_ref()).unwrap_or(now);
        let from = old.status;
        // A minor's decision was never to be published, and one withdrawn by hand is gone
        // already: only a pending or published disclosure is withdrawn.
        if let Ok(to) = from.next(DisclosureAction::Withdraw) {
            let due = disclosure::withdrawal_due(&self.calendar, changed_at);
            liandong_runtime::note_deadline(&due, "disclosure withdrawal due date");
            old.status = to;
            old.withdrawn_at = Some(now);
            old.withdrawn_by = Some(event_actor_label(env.actor.as_ref()));
            // Shown to the public, so masked like every other text.
            old.withdrawal_reason = Some(mask_text(&public_reason(change, &e.reason), &[]));
            old.decision_changed_at = Some(changed_at);
            old.withdrawal_due_at = Some(due.due);
            old.updated_at = now;
            if !store::update(tx, &old, from).await? {
                return Err(HandlerError::Retry(format!(
                    "disclosure {} changed while it was being withdrawn",
                    old.disclosure_id
                )));
            }
            crate::events::status_changed(tx, &self.outbox, now, &old, Some(&env.event_id)).await?;
            tracing::info!(disclosure_id = %old.disclosure_id, change = change.as_str(), "Withdrew the disclosure of a changed decision.");
        }
        if change == DecisionChange::Amend {
            let d = Decision {
                body_kind: old.body_kind,
                body_code: old.body_code.clone(),
                case_id: &e.case_id,
                outcome: e.outcome.as_ref(),
                matters: &e.matters,
                description: &e.description,
            };
            self.create(tx, env, now, d).await?;
        }
        Ok(())
    }

    /// One disclosure per decision, pending and due by its class, or withheld for a minor.
    async fn create(
        &self,
        tx: &mut Tx,
        env: &ev::Envelope,
        now: DateTime<Utc>,
        d: Decision<'_>,
    ) -> Result<(), HandlerError> {
        let outcome = d.outcome.ok_or_else(|| {
            HandlerError::Reject(format!("{} without an outcome", env.event_type))
        })?;
        let kind = OutcomeKind::parse(&outcome.kind).ok_or_else(|| {
            HandlerError::Reject(format!("unknown outcome kind {:?}", outcome.kind))
        })?;
        if d.body_code.is_empty() {
            return Err(HandlerError::Reject(format!(
                "{} names no deciding body",
                env.event_type
            )));
        }
        let matters: Vec<_> = d
            .matters
            .iter()
            .filter_map(|m| MatterCode::parse(m).ok())
            .filter_map(|m| self.catalogue.matter(&m))
            .collect();
        let class = disclosure::class_of(&matters, kind);
        // The clock runs from the decision's own date (自执法决定作出之日起), which the deciding
        // service carries; a decision from before it did runs from its event.
        let recorded_at = from_ts(env.occurred_at.as_ref()).unwrap_or(now);
        let decided_at = disclosure::decided_at(
            liandong_domain::outcome::decision_date(&outcome.decided_on),
            recorded_at,
        );
        let due = disclosure::publication_due(&self.calendar, decided_at, class);
        liandong_runtime::note_deadline(&due, "disclosure due date");
        let party = party(outcome.party.as_ref());
        let masked = mask_party(&party);
        let withheld = disclosure::withheld_reason(&party);
        let status = if withheld.is_some() {
            DisclosureStatus::Withheld
        } else {
            DisclosureStatus::Pending
        };
        let confiscated: Vec<store::StoredItem> = outcome
            .confiscated
            .iter()
            .map(|c| store::StoredItem::WithUnit(c.kind.clone(), c.count, c.unit.clone()))
            .collect();
        let row = DisclosureRow {
            // Every id carries its town; one disclosure per decision event.
            disclosure_id: format!("{}-{}", env.town, env.event_id),
            town: env.town.clone(),
            case_id: d.case_id.to_owned(),
            source_event_id: env.event_id.clone(),
            source_event_type: env.event_type.clone(),
            body_kind: d.body_kind,
            body_code: d.body_code,
            class,
            status,
            outcome: kind,
            fine_fen: outcome.fine_fen,
            confiscated: Json(confiscated),
            applied_basis: Json(outcome.applied_basis.clone()),
            orders: Json(
                outcome
                    .orders
                    .iter()
                    .map(|o| mask_text_for(o, &party))
                    .collect(),
            ),
            summary: mask_text_for(&outcome.summary, &party),
            description: mask_text_for(d.description, &party),
            party_kind: masked.kind,
            party_name: masked.name,
            party_address: masked.address,
            matters: Json(d.matters.to_vec()),
            decided_at,
            due_at: due.due,
            due_provisional: due.provisional,
            withheld_reason: withheld.map(str::to_owned),
            published_at: None,
            published_by: None,
            withdrawn_at: None,
            withdrawn_by: None,
            withdrawal_reason: None,
            decision_changed_at: None,
            withdrawal_due_at: None,
            created_at: now,
            updated_at: now,
        };
        if store::insert(tx, &row).await? {
            crate::events::status_changed(tx, &self.outbox, now, &row, Some(&env.event_id)).await?;
            tracing::info!(
                disclosure_id = %row.disclosure_id,
                case_id = %row.case_id,
                status = %row.status,
                due = %row.due_at,
                "Recorded a decision for disclosure."
            );
        }
        Ok(())
    }
}
