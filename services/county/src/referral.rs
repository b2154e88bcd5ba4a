//! Acting on a referral, the one path every command on a referral takes: open it (begin the
//! change, load, authorise, the certificate an enforcement act needs), the domain's transition,
//! the row stored, the step emitted, kept in the history and the record, committed.

use chrono::{DateTime, Utc};
use liandong_bus::{Change, NewEvent, Outbox};
use liandong_domain::auth::{Action, Actor};
use liandong_domain::ids::TownScopedId;
use liandong_domain::state::ReferralAction;
use liandong_grpc::{ApiError, actor_label, actor_to_event_certified};
use liandong_proto::county::v1 as pb;
use liandong_proto::events::v1 as ev;
use liandong_record::{NewEntry, Who};
use liandong_store::Tx;
use liandong_topology::{AnyEvent, EventKind};

use crate::context::Api;
use crate::convert::{certified, referral_to_pb as to_pb};
use crate::store::{self, ReferralRow};

/// What a referral action tells others.
pub(crate) enum Emit {
    /// A step of the referral, for the brigade (and others the topology names).
    Step(Box<AnyEvent>),
    /// A major decision proposed for the department's legal review: `review_requested`.
    ReviewRequested(Box<ev::Outcome>),
}

impl Emit {
    pub(crate) fn step(event: AnyEvent) -> Emit {
        Emit::Step(Box::new(event))
    }

    /// The record's kind of the step: the event's name.
    fn record_kind(&self) -> &'static str {
        match self {
            Emit::Step(e) => e.kind().name(),
            Emit::ReviewRequested(_) => EventKind::CountyReviewRequested.name(),
        }
    }
}

/// One referral action: the domain transition, the row's new fields, and what to tell others.
pub(crate) struct Step {
    pub action: ReferralAction,
    pub permission: Action,
    pub history: String,
}

pub(crate) fn parse_referral_id(id: &str) -> Result<TownScopedId, ApiError> {
    TownScopedId::parse(id).map_err(|e| ApiError::field("referral_id", e.to_string()))
}

/// A referral loaded for a step: the change it is taken in, the row as it stood, and the
/// enforcement certificate the actor acts under (empty where the step needs none).
pub(crate) struct Acting<'a> {
    pub tx: Change<'a>,
    pub row: ReferralRow,
    pub certificate_no: String,
    pub now: DateTime<Utc>,
}

impl Acting<'_> {
    /// Who acted, as the record keeps it: the actor and the certificate used.
    pub fn who(&self, actor: &Actor) -> Who {
        Who::certified(actor, self.certificate_no.clone())
    }

    /// Keeps the step in the referral's history (`history_kind`, the certificate named) and in
    /// the record of the case file the department holds, if it holds it (`record_kind`).
    pub async fn keep(
        &mut self,
        actor: &Actor,
        history_kind: &str,
        record_kind: &str,
        detail: &str,
        event: Option<&ev::Envelope>,
    ) -> Result<(), ApiError> {
        store::add_history(
            &mut self.tx,
            &self.row.referral_id,
            self.now,
            history_kind,
            &actor_label(actor),
            &certified(detail, &self.certificate_no),
        )
        .await?;
        let who = self.who(actor);
        crate::record::enter(
            &mut self.tx,
            &self.row.case_id,
            &self.row.department,
            NewEntry {
                at: self.now,
                kind: record_kind,
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
        store::update(&mut self.tx, &self.row).await?;
        Ok(())
    }

    /// Commits the change and answers with the referral as stored.
    pub async fn finish(self) -> Result<pb::Referral, ApiError> {
        self.tx.commit().await?;
        Ok(to_pb(&self.row))
    }
}

impl Api {
    /// Acting on a referral, the part every command on it shares: begins the change, loads the
    /// referral in it, checks that `actor` may take `permission` on it, and asks for the
    /// enforcement certificate the action needs (持证上岗; none for a step that is not an
    /// enforcement act).
    pub(crate) async fn open_referral(
        &self,
        actor: &Actor,
        referral_id: &str,
        permission: Action,
    ) -> Result<Acting<'_>, ApiError> {
        parse_referral_id(referral_id)?;
        let now = self.clock.now();
        let mut tx = Change::begin(&self.db, &self.outbox).await?;
        let row = store::get_in_tx(&mut tx, referral_id)
            .await?
            .ok_or_else(|| ApiError::NotFound(format!("no referral {referral_id}")))?;
        self.check(actor, permission, &row)?;
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

    /// A step on a referral: opens it, applies the domain's transition and `change`, stores,
    /// emits, keeps the step in the history and the record, and commits — all or nothing.
    pub(crate) async fn act(
        &self,
        actor: &Actor,
        referral_id: &str,
        step: Step,
        change: impl FnOnce(&mut ReferralRow, DateTime<Utc>) -> Emit,
    ) -> Result<pb::Referral, ApiError> {
        let mut a = self
            .open_referral(actor, referral_id, step.permission)
            .await?;
        let now = a.now;
        let next = a.row.status.next(step.action)?;
        if step.action == ReferralAction::Return {
            // Returns per case are capped: past the cap the chair's settlement stands.
            let returns = crate::clocks::returns_of_case(&mut a.tx, &a.row.case_id).await?;
            liandong_domain::time_limits::check_return(
                &a.row.case_id,
                u32::try_from(returns).unwrap_or(u32::MAX),
                self.time_limits.defaults.max_returns_per_case,
            )
            .map_err(|e| ApiError::FailedPrecondition(e.to_string()))?;
        }
        a.row.status = next;
        a.row.updated_at = now;
        let emit = change(&mut a.row, now);
        a.save().await?;
        let kind = emit.record_kind();
        let env = self
            .emit(&mut a.tx, actor, &a.certificate_no, &a.row, now, emit)
            .await?;
        // The department's own step, in the record of the case file it holds (if it holds it).
        a.keep(
            actor,
            step.action.as_str(),
            kind,
            &step.history,
            env.as_ref(),
        )
        .await?;
        a.finish().await
    }

    async fn emit(
        &self,
        tx: &mut Tx,
        actor: &Actor,
        certificate_no: &str,
        row: &ReferralRow,
        now: DateTime<Utc>,
        emit: Emit,
    ) -> Result<Option<ev::Envelope>, ApiError> {
        if let Emit::ReviewRequested(outcome) = &emit {
            crate::review_request::submit(
                tx,
                &self.outbox,
                &self.catalogue,
                now,
                row,
                outcome,
                actor_to_event_certified(actor, certificate_no),
                None,
            )
            .await?;
            return Ok(None);
        }
        let Emit::Step(event) = emit else {
            unreachable!("a review request is submitted above")
        };
        let actor = actor_to_event_certified(actor, certificate_no);
        let env = emit_step(tx, &self.outbox, now, row, actor, None, *event).await?;
        Ok(Some(env))
    }
}

/// Emits a step of a referral, the same whether the department took it or the legal office's
/// answer did (`causation_id`): stamped with the head of the record of the case file the
/// department holds, and, for a conclusion, the decision it carries put in force.
pub(crate) async fn emit_step(
    tx: &mut Tx,
    outbox: &Outbox,
    now: DateTime<Utc>,
    row: &ReferralRow,
    actor: ev::Actor,
    causation_id: Option<&str>,
    mut event: AnyEvent,
) -> Result<ev::Envelope, sqlx::Error> {
    // Every step of a referral goes back to the brigade, which applies them in order: a
    // step lost by the broker would hold back the ones behind it, so each waits for its
    // receipt and is re-sent until it arrives.
    let ev = NewEvent {
        town: &row.town,
        department: Some(&row.department),
        aggregate_id: &row.referral_id,
        actor: Some(actor),
        causation_id,
    };
    // A step on a case file the department holds carries the head of its record as it
    // stood, which the brigade, keeping the event, holds once its receipt comes back.
    let held = crate::record::head_in_tx(tx, &row.case_id, &row.department).await?;
    let stamped = match &mut event {
        AnyEvent::CountyReferralAssigned(p) => {
            p.held_record = held.as_ref().map(|h| h.head.clone());
            held.as_ref()
        }
        AnyEvent::CountyReferralConcluded(p) => {
            p.held_record = held.as_ref().map(|h| h.head.clone());
            held.as_ref()
        }
        _ => None,
    };
    let decided = match &event {
        AnyEvent::CountyReferralConcluded(p) => p.outcome.clone(),
        _ => None,
    };
    let env = outbox.emit(tx, now, ev, event).await?;
    // The decision in force, which a later change names.
    if let Some(outcome) = &decided {
        liandong_decision::set_in_force(
            tx,
            crate::review_request::on_referral(&row.referral_id),
            Some((&env, outcome)),
            now,
        )
        .await?;
    }
    crate::record::note_sent(tx, &env.event_id, stamped).await?;
    Ok(env)
}
