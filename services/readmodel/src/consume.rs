//! The events the read model keeps figures from. It observes every stream (it is no event's
//! receiver and answers no receipts) and keeps no order: each event sets only its own columns,
//! first value kept, so the same rows come out whatever order the events arrive in. Every
//! closed set an event names (a path, an outcome kind, an answer, a status) is parsed here, at
//! the edge: one the hub does not know is refused, naming the event, rather than stored.

use chrono::{DateTime, Utc};
use liandong_bus::{Handler, HandlerError};
use liandong_domain::callback::Satisfaction;
use liandong_domain::catalogue::DisclosureClass;
use liandong_domain::decision_change::DecisionChange;
use liandong_domain::disclosure::{BodyKind, DisclosureStatus};
use liandong_domain::figures::WorkKind;
use liandong_domain::outcome::OutcomeKind;
use liandong_domain::time_limits::ObligationKind;
use liandong_domain::triage::Path;
use liandong_proto::events::v1 as ev;
use liandong_proto::time::from_ts;
use liandong_store::Tx;
use liandong_store::typed::Json;
use liandong_store::with_tx;
use liandong_topology::inbound::readmodel::{
    FromBoard, FromBrigade, FromCounty, FromDisclosure, FromReview,
};

/// Applies the brigade's, the board's, the county's and the review's events to the figures.
#[derive(Clone)]
pub struct Figures;

/// A step of a referral or task, and the column it is kept in.
#[derive(Clone, Copy)]
enum Column {
    Dispatched,
    SignedFor,
    Accepted,
    Returned,
    Concluded,
    Withdrawn,
    ReturnUpheld,
    SentBack,
}

impl Column {
    fn name(self) -> &'static str {
        match self {
            Column::Dispatched => "dispatched_at",
            Column::SignedFor => "signed_for_at",
            Column::Accepted => "accepted_at",
            Column::Returned => "returned_at",
            Column::Concluded => "concluded_at",
            Column::Withdrawn => "withdrawn_at",
            Column::ReturnUpheld => "return_upheld_at",
            Column::SentBack => "sent_back_at",
        }
    }
}

/// Which item a step belongs to.
struct Item<'a> {
    id: &'a str,
    kind: WorkKind,
    path: Path,
    case_id: &'a str,
    town: &'a str,
    department: &'a str,
}

/// Refuses `env` for a value of `what` that the hub does not know.
fn unknown(env: &ev::Envelope, what: &str, e: impl std::fmt::Display) -> HandlerError {
    HandlerError::Reject(format!("{} {}: {what}: {e}", env.event_type, env.event_id))
}

/// The triage path an event names; an unspecified one is refused, never counted as a path.
fn path(env: &ev::Envelope, p: i32) -> Result<Path, HandlerError> {
    match ev::Path::try_from(p) {
        Ok(ev::Path::InScope) => Ok(Path::InScope),
        Ok(ev::Path::Joint) => Ok(Path::Joint),
        Ok(ev::Path::OutOfScope) => Ok(Path::OutOfScope),
        _ => Err(unknown(env, "path", format!("{p} is not a path"))),
    }
}

/// The case's facts an event must carry: without them there is no case to count.
fn facts(env: &ev::Envelope, facts: Option<ev::CaseFacts>) -> Result<ev::CaseFacts, HandlerError> {
    facts.ok_or_else(|| unknown(env, "facts", "the event carries no case facts"))
}

fn parsed<T, E: std::fmt::Display>(
    env: &ev::Envelope,
    what: &str,
    r: Result<T, E>,
) -> Result<T, HandlerError> {
    r.map_err(|e| unknown(env, what, e))
}

/// Counts what changes the figures and bumps the figures' version in the same transaction.
async fn counted(tx: &mut Tx, changed: bool) -> Result<(), HandlerError> {
    if changed {
        with_tx!(tx, |c| sqlx::query(
            "UPDATE rm_version SET version = version + 1 WHERE id = 1"
        )
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
    }
    Ok(())
}

/// The time the fact happened at its source; the figures never use arrival times.
fn occurred(env: &ev::Envelope, now: DateTime<Utc>) -> DateTime<Utc> {
    from_ts(env.occurred_at.as_ref()).unwrap_or(now)
}

#[deny(clippy::wildcard_enum_match_arm)]
impl Handler<FromBrigade> for Figures {
    async fn handle(
        &self,
        tx: &mut Tx,
        env: &ev::Envelope,
        event: FromBrigade,
        now: DateTime<Utc>,
    ) -> Result<(), HandlerError> {
        let at = occurred(env, now);
        match event {
            FromBrigade::ReferralDispatched(e) => {
                let facts = facts(env, e.facts)?;
                let item = Item {
                    id: &e.referral_id,
                    kind: WorkKind::Referral,
                    path: Path::OutOfScope,
                    case_id: &facts.case_id,
                    town: &env.town,
                    department: &e.department,
                };
                step(tx, &item, Column::Dispatched, at).await?;
                let seen = from_ts(facts.found_at.as_ref()).unwrap_or(at);
                let path = path(env, facts.path)?;
                case(
                    tx,
                    &facts.case_id,
                    &env.town,
                    path,
                    &e.department,
                    &facts.matters,
                    seen,
                )
                .await?;
            }
            FromBrigade::CaseReported(e) => {
                let seen = from_ts(e.found_at.as_ref()).unwrap_or(at);
                case(
                    tx,
                    &e.case_id,
                    &env.town,
                    path(env, e.path)?,
                    &e.department,
                    &e.matters,
                    seen,
                )
                .await?;
            }
            FromBrigade::ReferralWithdrawn(e) => {
                let item = referral_item(&e.referral_id, &e.case_id, env);
                step(tx, &item, Column::Withdrawn, at).await?;
            }
            FromBrigade::JointSubmitted(e) => {
                let facts = facts(env, e.facts)?;
                let seen = from_ts(facts.found_at.as_ref()).unwrap_or(at);
                case(
                    tx,
                    &facts.case_id,
                    &env.town,
                    Path::Joint,
                    "",
                    &facts.matters,
                    seen,
                )
                .await?;
            }
            FromBrigade::CaseConcluded(e) => {
                case(tx, &e.case_id, &env.town, Path::InScope, "", &e.matters, at).await?;
                decision(tx, env, &e.case_id, "", e.outcome.as_ref(), at).await?;
            }
            FromBrigade::DecisionChanged(e) => decision_changed(tx, env, e, at).await?,
            FromBrigade::ReviewRequested(e) => {
                review(tx, &e.review_id, e.round, env, "requested_at", at).await?;
            }
            FromBrigade::ObligationOverdue(e) => escalation(tx, env, e, at).await?,
            FromBrigade::CallbackRecorded(e) => callback(tx, env, e, at).await?,
            // Not a figure of the dashboard: the handover's own step, a joint case's execution,
            // an officer's certificate, the town's patrols and persuasions (the board counts
            // those for the year), and a late case finally decided (its escalation stands).
            FromBrigade::CaseHandedOver(_)
            | FromBrigade::JointExecuted(_)
            | FromBrigade::OfficerCertificateChanged(_)
            | FromBrigade::PatrolRecorded(_)
            | FromBrigade::PersuasionRecorded(_)
            | FromBrigade::ObligationMet(_) => return Ok(()),
        }
        counted(tx, true).await
    }
}

#[deny(clippy::wildcard_enum_match_arm)]
impl Handler<FromBoard> for Figures {
    async fn handle(
        &self,
        tx: &mut Tx,
        env: &ev::Envelope,
        event: FromBoard,
        now: DateTime<Utc>,
    ) -> Result<(), HandlerError> {
        let at = occurred(env, now);
        match event {
            FromBoard::TaskAssigned(e) => {
                let item = Item {
                    id: &e.task_id,
                    kind: WorkKind::Task,
                    path: Path::Joint,
                    case_id: &e.case_id,
                    town: &env.town,
                    department: &e.department,
                };
                step(tx, &item, Column::Dispatched, at).await?;
            }
            FromBoard::ObligationOverdue(e) => escalation(tx, env, e, at).await?,
            FromBoard::ExtensionGranted(e) => extension_granted(tx, e).await?,
            // The chair's ruling on a returned referral: upheld (another department named) or
            // sent back to the department that returned it, which then answers for the return.
            FromBoard::DisputeSettled(e) => {
                let column = if e.to_department == e.from_department {
                    Column::SentBack
                } else {
                    Column::ReturnUpheld
                };
                let item = Item {
                    id: &e.referral_id,
                    kind: WorkKind::Referral,
                    path: Path::OutOfScope,
                    case_id: &e.case_id,
                    town: &env.town,
                    department: &e.from_department,
                };
                step(tx, &item, column, at).await?;
            }
            // The meeting's other rulings show through the tasks and results that follow them;
            // a refused extension leaves the deadline as it was.
            FromBoard::JointApproved(_)
            | FromBoard::JointReclassified(_)
            | FromBoard::JointSentBack(_)
            | FromBoard::ExtensionRefused(_)
            | FromBoard::ObligationMet(_) => return Ok(()),
        }
        counted(tx, true).await
    }
}

#[deny(clippy::wildcard_enum_match_arm)]
impl Handler<FromCounty> for Figures {
    async fn handle(
        &self,
        tx: &mut Tx,
        env: &ev::Envelope,
        event: FromCounty,
        now: DateTime<Utc>,
    ) -> Result<(), HandlerError> {
        let at = occurred(env, now);
        match event {
            FromCounty::DecisionChanged(e) | FromCounty::EntrustedDecisionChanged(e) => {
                decision_changed(tx, env, e, at).await?;
            }
            FromCounty::ReviewRequested(e) => {
                review(tx, &e.review_id, e.round, env, "requested_at", at).await?;
            }
            FromCounty::ReferralSignedFor(e) => {
                let item = referral_item(&e.referral_id, &e.case_id, env);
                step(tx, &item, Column::SignedFor, at).await?;
            }
            FromCounty::ReferralAccepted(e) => {
                let item = referral_item(&e.referral_id, &e.case_id, env);
                step(tx, &item, Column::Accepted, at).await?;
            }
            FromCounty::ReferralReturned(e) => {
                let item = referral_item(&e.referral_id, &e.case_id, env);
                step(tx, &item, Column::Returned, at).await?;
            }
            FromCounty::ReferralConcluded(e) => {
                let item = referral_item(&e.referral_id, &e.case_id, env);
                step(tx, &item, Column::Concluded, at).await?;
                decision(tx, env, &e.case_id, &env.department, e.outcome.as_ref(), at).await?;
            }
            FromCounty::EntrustedDecisionRecorded(e) => {
                let item = task_item(&e.task_id, &e.case_id, env);
                step(tx, &item, Column::Concluded, at).await?;
                decision(
                    tx,
                    env,
                    &e.case_id,
                    &env.department,
                    e.decision.as_ref(),
                    at,
                )
                .await?;
            }
            FromCounty::TaskCompleted(e) => {
                let item = task_item(&e.task_id, &e.case_id, env);
                step(tx, &item, Column::Concluded, at).await?;
            }
            FromCounty::ObligationOverdue(e) => escalation(tx, env, e, at).await?,
            FromCounty::ExtensionRequested(e) => extension_requested(tx, env, e).await?,
            // Not a figure: the step of a referral the dashboard times from its dispatch, the
            // handover's answers, certificates, and a late step finally taken.
            FromCounty::ReferralAssigned(_)
            | FromCounty::CaseHandoverReceived(_)
            | FromCounty::CaseHandoverRefused(_)
            | FromCounty::OfficerCertificateChanged(_)
            | FromCounty::ObligationMet(_) => return Ok(()),
        }
        counted(tx, true).await
    }
}

#[deny(clippy::wildcard_enum_match_arm)]
impl Handler<FromReview> for Figures {
    async fn handle(
        &self,
        tx: &mut Tx,
        env: &ev::Envelope,
        event: FromReview,
        now: DateTime<Utc>,
    ) -> Result<(), HandlerError> {
        let at = occurred(env, now);
        match event {
            FromReview::ReviewApproved(e)
            | FromReview::ReviewReturned(e)
            | FromReview::CrimeTransferFound(e) => {
                review(tx, &e.review_id, e.round, env, "answered_at", at).await?;
            }
        }
        counted(tx, true).await
    }
}

#[deny(clippy::wildcard_enum_match_arm)]
impl Handler<FromDisclosure> for Figures {
    async fn handle(
        &self,
        tx: &mut Tx,
        env: &ev::Envelope,
        event: FromDisclosure,
        _now: DateTime<Utc>,
    ) -> Result<(), HandlerError> {
        match event {
            FromDisclosure::DisclosureStatusChanged(e) => disclosure(tx, env, &e).await?,
        }
        counted(tx, true).await
    }
}

/// A changed decision: the town's, a department's on a referral, or a joint-case lead's
/// entrusted one. The replaced decision stops counting; an amendment counts.
async fn decision_changed(
    tx: &mut Tx,
    env: &ev::Envelope,
    e: ev::DecisionChanged,
    at: DateTime<Utc>,
) -> Result<(), HandlerError> {
    let change = parsed(env, "change", DecisionChange::parse(&e.change))?;
    let replaced = with_tx!(tx, |c| sqlx::query(
        "UPDATE rm_decisions SET replaced = TRUE WHERE event_id = $1"
    )
    .bind(&e.superseded_event_id)
    .execute(c)
    .await
    .map(|r| r.rows_affected()))?;
    if replaced == 0 {
        // The replaced decision's event may still be on its way (no order kept).
        return Err(HandlerError::Retry(format!(
            "the decision {} has not arrived yet",
            e.superseded_event_id
        )));
    }
    if change == DecisionChange::Amend {
        // A department's decision is counted under it, as when it was first made.
        let department = if env.source == "county" {
            env.department.as_str()
        } else {
            ""
        };
        decision(tx, env, &e.case_id, department, e.outcome.as_ref(), at).await?;
    }
    Ok(())
}

/// A clock's escalation, from any of the three services that keep clocks.
async fn escalation(
    tx: &mut Tx,
    env: &ev::Envelope,
    e: ev::ObligationOverdue,
    at: DateTime<Utc>,
) -> Result<(), HandlerError> {
    let deadline = from_ts(e.deadline.as_ref());
    let kind = parsed(env, "kind", ObligationKind::parse(&e.kind))?;
    with_tx!(tx, |c| {
        sqlx::query(
            "INSERT INTO rm_escalations (obligation_id, level, kind, town, department, case_id, \
         referral_id, deadline, raised_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
         ON CONFLICT (obligation_id, level) DO NOTHING",
        )
        .bind(&e.obligation_id)
        .bind(i64::from(e.level))
        .bind(kind.as_str())
        .bind(&env.town)
        .bind(&e.department)
        .bind(&e.case_id)
        .bind(&e.referral_id)
        .bind(deadline)
        .bind(at)
        .execute(c)
        .await
        .map(|r| r.rows_affected())
    })?;
    Ok(())
}

async fn extension_requested(
    tx: &mut Tx,
    env: &ev::Envelope,
    e: ev::ExtensionRequested,
) -> Result<(), HandlerError> {
    let kind = parsed(env, "kind", ObligationKind::parse(&e.kind))?;
    with_tx!(tx, |c| {
        sqlx::query(
        "INSERT INTO rm_extensions (request_id, obligation_id, kind, case_id, referral_id, department) \
         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (request_id) DO UPDATE SET \
         kind = excluded.kind, referral_id = excluded.referral_id"
    )
    .bind(&e.request_id)
    .bind(&e.obligation_id)
    .bind(kind.as_str())
    .bind(&e.case_id)
    .bind(&e.referral_id)
    .bind(&e.department)
    .execute(c)
    .await
    .map(|r| r.rows_affected())
    })?;
    Ok(())
}

async fn extension_granted(tx: &mut Tx, e: ev::ExtensionDecided) -> Result<(), HandlerError> {
    let new_deadline = from_ts(e.new_deadline.as_ref());
    with_tx!(tx, |c| {
        sqlx::query(
        "INSERT INTO rm_extensions (request_id, obligation_id, case_id, department, new_deadline) \
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (request_id) DO UPDATE SET \
         new_deadline = excluded.new_deadline"
    )
    .bind(&e.request_id)
    .bind(&e.obligation_id)
    .bind(&e.case_id)
    .bind(&e.department)
    .bind(new_deadline)
    .execute(c)
    .await
    .map(|r| r.rows_affected())
    })?;
    Ok(())
}

async fn callback(
    tx: &mut Tx,
    env: &ev::Envelope,
    e: ev::CallbackRecorded,
    at: DateTime<Utc>,
) -> Result<(), HandlerError> {
    let called_at = from_ts(e.called_at.as_ref()).unwrap_or(at);
    let satisfaction = parsed(env, "satisfaction", Satisfaction::parse(&e.satisfaction))?;
    with_tx!(tx, |c| {
        sqlx::query(
        "INSERT INTO rm_callbacks (callback_id, town, case_id, satisfaction, reopened, called_at) \
         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (callback_id) DO NOTHING"
    )
    .bind(&e.callback_id)
    .bind(&env.town)
    .bind(&e.case_id)
    .bind(satisfaction.as_str())
    .bind(e.reopened)
    .bind(called_at)
    .execute(c)
    .await
    .map(|r| r.rows_affected())
    })?;
    Ok(())
}

fn referral_item<'a>(id: &'a str, case_id: &'a str, env: &'a ev::Envelope) -> Item<'a> {
    Item {
        id,
        kind: WorkKind::Referral,
        path: Path::OutOfScope,
        case_id,
        town: &env.town,
        department: &env.department,
    }
}

fn task_item<'a>(id: &'a str, case_id: &'a str, env: &'a ev::Envelope) -> Item<'a> {
    Item {
        id,
        kind: WorkKind::Task,
        path: Path::Joint,
        case_id,
        town: &env.town,
        department: &env.department,
    }
}

/// Records one step of an item, creating the item when its dispatch has not arrived yet; a
/// step already recorded keeps its first time (a redelivered or repeated event changes nothing).
async fn step(
    tx: &mut Tx,
    item: &Item<'_>,
    column: Column,
    at: DateTime<Utc>,
) -> Result<(), HandlerError> {
    let col = column.name();
    let sql = format!(
        "INSERT INTO rm_items (item_id, kind, path, case_id, town, department, {col}) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) \
         ON CONFLICT (item_id) DO UPDATE SET {col} = COALESCE(rm_items.{col}, excluded.{col})"
    );
    with_tx!(tx, |c| sqlx::query(&sql)
        .bind(item.id)
        .bind(item.kind.as_str())
        .bind(item.path.as_str())
        .bind(item.case_id)
        .bind(item.town)
        .bind(item.department)
        .bind(at)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(())
}

/// Records a case the first time any path shows it.
async fn case(
    tx: &mut Tx,
    case_id: &str,
    town: &str,
    path: Path,
    department: &str,
    matters: &[String],
    seen_at: DateTime<Utc>,
) -> Result<(), HandlerError> {
    let matters = Json(matters).text();
    with_tx!(tx, |c| sqlx::query(
        "INSERT INTO rm_cases (case_id, town, path, department, matters, seen_at) \
         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (case_id) DO NOTHING"
    )
    .bind(case_id)
    .bind(town)
    .bind(path.as_str())
    .bind(department)
    .bind(&matters)
    .bind(seen_at)
    .execute(c)
    .await
    .map(|r| r.rows_affected()))?;
    Ok(())
}

/// Records a decision under the event that carried it.
async fn decision(
    tx: &mut Tx,
    env: &ev::Envelope,
    case_id: &str,
    department: &str,
    outcome: Option<&ev::Outcome>,
    at: DateTime<Utc>,
) -> Result<(), HandlerError> {
    let Some(o) = outcome else {
        return Err(HandlerError::Reject(format!(
            "{} {} carries no outcome",
            env.event_type, env.event_id
        )));
    };
    let kind = parsed(env, "outcome.kind", OutcomeKind::try_from(o.kind.clone()))?;
    let items: Vec<(&str, i64, &str)> = o
        .confiscated
        .iter()
        .map(|i| (i.kind.as_str(), i.count, i.unit.as_str()))
        .collect();
    let items = Json(items).text();
    with_tx!(tx, |c| {
        sqlx::query(
        "INSERT INTO rm_decisions (event_id, case_id, town, department, kind, fine_fen, confiscated, \
         confiscated_value_fen, decided_at, replaced) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, FALSE) \
         ON CONFLICT (event_id) DO NOTHING"
    )
    .bind(&env.event_id)
    .bind(case_id)
    .bind(&env.town)
    .bind(department)
    .bind(kind.as_str())
    .bind(o.fine_fen)
    .bind(&items)
    .bind(o.confiscated_value_fen)
    .bind(at)
    .execute(c)
    .await
    .map(|r| r.rows_affected())
    })?;
    Ok(())
}

/// Records when a review round was asked for or answered.
async fn review(
    tx: &mut Tx,
    review_id: &str,
    round: u32,
    env: &ev::Envelope,
    column: &'static str,
    at: DateTime<Utc>,
) -> Result<(), HandlerError> {
    let sql = format!(
        "INSERT INTO rm_reviews (review_id, round, town, department, {column}) VALUES ($1, $2, $3, $4, $5) \
         ON CONFLICT (review_id, round) DO UPDATE SET {column} = COALESCE(rm_reviews.{column}, excluded.{column})"
    );
    with_tx!(tx, |c| sqlx::query(&sql)
        .bind(review_id)
        .bind(i64::from(round))
        .bind(&env.town)
        .bind(&env.department)
        .bind(at)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(())
}

/// Keeps a disclosure's newest state: a state numbered below the one kept (an event that
/// arrived late) changes nothing.
async fn disclosure(
    tx: &mut Tx,
    env: &ev::Envelope,
    e: &ev::DisclosureStatusChanged,
) -> Result<(), HandlerError> {
    let (Some(decided_at), Some(due_at)) =
        (from_ts(e.decided_at.as_ref()), from_ts(e.due_at.as_ref()))
    else {
        return Err(HandlerError::Reject(format!(
            "{} {} carries no decision time or due date",
            env.event_type, env.event_id
        )));
    };
    let body_kind = parsed(env, "body_kind", BodyKind::parse(&e.body_kind))?;
    let class = parsed(env, "class", DisclosureClass::parse(&e.class))?;
    let status = parsed(env, "status", DisclosureStatus::parse(&e.status))?;
    with_tx!(tx, |c| {
        sqlx::query(
        "INSERT INTO rm_disclosures (disclosure_id, seq, town, case_id, body_kind, body_code, class, status, \
         decided_at, due_at, published_at, withdrawn_at, withdrawal_due_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) \
         ON CONFLICT (disclosure_id) DO UPDATE SET seq = excluded.seq, status = excluded.status, \
         due_at = excluded.due_at, published_at = excluded.published_at, withdrawn_at = excluded.withdrawn_at, \
         withdrawal_due_at = excluded.withdrawal_due_at WHERE rm_disclosures.seq < excluded.seq"
    )
    .bind(&e.disclosure_id)
    .bind(env.aggregate_seq as i64)
    .bind(&e.town)
    .bind(&e.case_id)
    .bind(body_kind.as_str())
    .bind(&e.body_code)
    .bind(class.as_str())
    .bind(status.as_str())
    .bind(decided_at)
    .bind(due_at)
    .bind(from_ts(e.published_at.as_ref()))
    .bind(from_ts(e.withdrawn_at.as_ref()))
    .bind(from_ts(e.withdrawal_due_at.as_ref()))
    .execute(c)
    .await
    .map(|r| r.rows_affected())
    })?;
    Ok(())
}
