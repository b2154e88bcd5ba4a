//! One decision model for every body that decides (`liandong_domain::decision`): the town on
//! a case, a department on a referral, a joint case's lead department on its task. What they
//! share lives here once: whether a proposal must pass the legal review (failing closed),
//! submitting it with its materials round by round, reading the reviewer's answer, the
//! decision in force and what an amendment keeps of it. What differs (the subject's own state
//! machine and the event that announces a decision taking effect) stays with each service.
#![forbid(unsafe_code)]

use chrono::{DateTime, Utc};
use liandong_bus::{HandlerError, NewEvent, Outbox};
use liandong_domain::catalogue::Catalogue;
use liandong_domain::decision::{self, MajorError, Subject, Verdict};
use liandong_domain::decision_change::{DecisionChange, continues_review};
use liandong_domain::ids::{TownCode, TownScopedId};
use liandong_domain::review::{ReviewStatus, decision_facts};
use liandong_proto::events::v1 as ev;
use liandong_proto::time::to_ts;
use liandong_store::typed::{Proto, decode};
use liandong_store::{Migrations, Tx, with_tx};
use liandong_topology::AnyEvent;
use uuid::Uuid;

static PG: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");
static SQLITE: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");

/// The decision tables, in the database of every service that decides (versions from 300).
pub const MIGRATIONS: Migrations = Migrations {
    postgres: &PG,
    sqlite: &SQLITE,
};

/// What a decision is on: its kind and id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct On<'a> {
    pub subject: Subject,
    pub id: &'a str,
}

/// Whether `outcome` on a case about `matters` must pass the legal review before it takes
/// effect; an unknown matter is an error, never "not major".
pub fn requires_review(
    catalogue: &Catalogue,
    matters: &[String],
    outcome: &ev::Outcome,
) -> Result<bool, MajorError> {
    let facts = decision_facts(
        &outcome.kind,
        outcome.fine_fen,
        outcome.licence_revoked,
        outcome.confiscated_value_fen,
    );
    decision::requires_review(catalogue, matters, &facts)
}

/// The review of a subject's proposed decision, as stored.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ReviewRow {
    #[sqlx(try_from = "String")]
    pub subject: Subject,
    pub subject_id: String,
    pub review_id: String,
    pub town: String,
    pub round: i64,
    #[sqlx(try_from = "String")]
    pub status: ReviewStatus,
    #[sqlx(try_from = "Vec<u8>")]
    pub proposed: Proto<ev::Outcome>,
    #[sqlx(try_from = "Vec<u8>")]
    pub proposer: Proto<ev::Actor>,
    pub submitted_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// For the review of an amendment: why the decision in force is changed, and its event.
    pub change_reason: Option<String>,
    pub superseded_event_id: Option<String>,
}

impl ReviewRow {
    /// The amendment it reviews, if it reviews one.
    pub fn amendment(&self) -> Option<Amendment> {
        self.change_reason.as_ref().map(|reason| Amendment {
            reason: reason.clone(),
            superseded_event_id: self.superseded_event_id.clone().unwrap_or_default(),
        })
    }
}

const REVIEW_COLUMNS: &str = "subject, subject_id, review_id, town, round, status, proposed, \
     proposer, submitted_at, updated_at, change_reason, superseded_event_id";

/// The review of `on`, if it has had one.
pub async fn review_of(tx: &mut Tx, on: On<'_>) -> Result<Option<ReviewRow>, sqlx::Error> {
    let sql = format!(
        "SELECT {REVIEW_COLUMNS} FROM decision_reviews WHERE subject = $1 AND subject_id = $2"
    );
    with_tx!(tx, |c| {
        let row = sqlx::query(&sql)
            .bind(on.subject.as_str())
            .bind(on.id)
            .fetch_optional(&mut *c)
            .await?;
        row.as_ref()
            .map(|r| decode(r, "decision_reviews", "subject_id"))
            .transpose()
    })
}

/// The review the legal review service knows as `review_id`.
pub async fn review_by_id(tx: &mut Tx, review_id: &str) -> Result<Option<ReviewRow>, sqlx::Error> {
    let sql = format!("SELECT {REVIEW_COLUMNS} FROM decision_reviews WHERE review_id = $1");
    with_tx!(tx, |c| {
        let row = sqlx::query(&sql)
            .bind(review_id)
            .fetch_optional(&mut *c)
            .await?;
        row.as_ref()
            .map(|r| decode(r, "decision_reviews", "subject_id"))
            .transpose()
    })
}

async fn save_review(tx: &mut Tx, r: &ReviewRow) -> Result<(), sqlx::Error> {
    with_tx!(tx, |c| sqlx::query(
        "INSERT INTO decision_reviews (subject, subject_id, review_id, town, round, status, \
         proposed, proposer, submitted_at, updated_at, change_reason, superseded_event_id) \
         VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12) \
         ON CONFLICT (subject, subject_id) DO UPDATE SET review_id = excluded.review_id, \
         round = excluded.round, status = excluded.status, proposed = excluded.proposed, \
         proposer = excluded.proposer, submitted_at = excluded.submitted_at, \
         updated_at = excluded.updated_at, change_reason = excluded.change_reason, \
         superseded_event_id = excluded.superseded_event_id"
    )
    .bind(r.subject.as_str())
    .bind(&r.subject_id)
    .bind(&r.review_id)
    .bind(&r.town)
    .bind(r.round)
    .bind(r.status.as_str())
    .bind(r.proposed.bytes())
    .bind(r.proposer.bytes())
    .bind(r.submitted_at)
    .bind(r.updated_at)
    .bind(&r.change_reason)
    .bind(&r.superseded_event_id)
    .execute(&mut *c)
    .await
    .map(|_| ()))
}

/// A subject's decision in force.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct InForce {
    pub subject_id: String,
    /// The event that carried it: a change names it as the decision it replaces.
    pub event_id: String,
    #[sqlx(try_from = "Vec<u8>")]
    pub outcome: Proto<ev::Outcome>,
    pub decided_at: DateTime<Utc>,
}

/// The decision in force on `on`, if there is one.
pub async fn in_force(tx: &mut Tx, on: On<'_>) -> Result<Option<InForce>, sqlx::Error> {
    with_tx!(tx, |c| {
        let row = sqlx::query(
            "SELECT subject_id, event_id, outcome, decided_at FROM decisions_in_force \
             WHERE subject = $1 AND subject_id = $2",
        )
        .bind(on.subject.as_str())
        .bind(on.id)
        .fetch_optional(&mut *c)
        .await?;
        row.as_ref()
            .map(|r| decode(r, "decisions_in_force", "subject_id"))
            .transpose()
    })
}

/// Records that `outcome`, carried by the event `event_id`, is now the decision in force on
/// `on`; `None` for a revocation, after which none is.
pub async fn set_in_force(
    tx: &mut Tx,
    on: On<'_>,
    decided: Option<(&ev::Envelope, &ev::Outcome)>,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    match decided {
        Some((env, outcome)) => with_tx!(tx, |c| {
            sqlx::query(
            "INSERT INTO decisions_in_force (subject, subject_id, event_id, outcome, decided_at) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (subject, subject_id) DO UPDATE SET \
             event_id = excluded.event_id, outcome = excluded.outcome, decided_at = excluded.decided_at"
        )
        .bind(on.subject.as_str())
        .bind(on.id)
        .bind(&env.event_id)
        .bind(prost::Message::encode_to_vec(outcome))
        .bind(now)
        .execute(&mut *c)
        .await
        .map(|_| ())
        }),
        None => with_tx!(tx, |c| sqlx::query(
            "DELETE FROM decisions_in_force WHERE subject = $1 AND subject_id = $2"
        )
        .bind(on.subject.as_str())
        .bind(on.id)
        .execute(&mut *c)
        .await
        .map(|_| ())),
    }
}

/// An amendment into a major decision awaiting the review: why the decision in force is
/// changed, and the event of the decision it would replace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Amendment {
    pub reason: String,
    pub superseded_event_id: String,
}

/// The amended decision of a change: for an amendment, the new decision, its party the
/// decision in force's unless the amendment names one; for a revocation, none.
pub fn amended(
    change: DecisionChange,
    outcome: Option<ev::Outcome>,
    in_force: Option<&InForce>,
) -> Option<ev::Outcome> {
    match (change, outcome) {
        (DecisionChange::Amend, Some(mut o)) => {
            if o.party.is_none() {
                o.party = in_force.and_then(|d| d.outcome.party.clone());
            }
            Some(o)
        }
        _ => None,
    }
}

/// What the legal office reviews with a proposal.
#[derive(Debug, Clone, Default)]
pub struct Materials {
    /// The body in whose name the decision is made.
    pub decided_in_name_of: String,
    pub facts: Option<ev::CaseFacts>,
    /// The deciding officers and their certificates.
    pub officers: Vec<ev::DecidingOfficer>,
    /// The documents and evidence so far.
    pub documents: Vec<String>,
    /// The record of the case file so far.
    pub record: Vec<ev::RecordEntry>,
    /// The department whose legal office reviews a town's decision made in its name (an
    /// entrusted matter); empty when the decider's own office reviews.
    pub reviewing_department: String,
}

/// A proposed major decision, for the legal review.
#[derive(Debug, Clone)]
pub struct Proposal<'a> {
    pub on: On<'a>,
    pub town: &'a str,
    /// The deciding department; none for the town.
    pub department: Option<&'a str>,
    pub case_id: &'a str,
    pub outcome: &'a ev::Outcome,
    /// The proposing officer with the certificate the proposal was made under.
    pub proposer: ev::Actor,
    /// For an amendment of the decision in force into a major one.
    pub amendment: Option<Amendment>,
    pub materials: Materials,
}

/// A proposal as submitted: its round and the event that carries it.
#[derive(Debug, Clone)]
pub struct Submitted {
    pub round: u32,
    pub env: ev::Envelope,
}

/// Submits a proposed major decision for the legal review: the next round of the subject's
/// review (a first decision's review goes on round by round; an amendment's is a review of its
/// own unless it resubmits an amendment returned for correction), announced with its materials
/// as `review_requested` of the deciding body's service, which the review service must
/// receive. The caller moves its subject to the state that waits for the answer.
pub async fn submit(
    tx: &mut Tx,
    outbox: &Outbox,
    now: DateTime<Utc>,
    p: Proposal<'_>,
) -> Result<Submitted, sqlx::Error> {
    let previous = review_of(tx, p.on).await?.filter(|r| {
        continues_review(
            Some((r.change_reason.is_some(), r.status.as_str())),
            p.amendment.is_some(),
        )
    });
    let town = TownCode::parse(p.town).map_err(|e| sqlx::Error::Decode(e.into()))?;
    let review_id = previous.as_ref().map_or_else(
        || TownScopedId::new(town, Uuid::now_v7()).to_string(),
        |r| r.review_id.clone(),
    );
    let round = previous.as_ref().map_or(1, |r| r.round + 1);
    let payload = ev::ReviewRequested {
        review_id: review_id.clone(),
        case_id: p.case_id.to_owned(),
        round: u32::try_from(round).map_err(|e| sqlx::Error::Decode(e.into()))?,
        decided_in_name_of: p.materials.decided_in_name_of,
        facts: p.materials.facts,
        proposed: Some(p.outcome.clone()),
        officers: p.materials.officers,
        documents: p.materials.documents,
        record: p.materials.record,
        decided_at: Some(to_ts(now)),
        department: p.department.unwrap_or_default().to_owned(),
        change_reason: p
            .amendment
            .as_ref()
            .map(|a| a.reason.clone())
            .unwrap_or_default(),
        superseded_event_id: p
            .amendment
            .as_ref()
            .map(|a| a.superseded_event_id.clone())
            .unwrap_or_default(),
        reviewing_department: p.materials.reviewing_department,
    };
    // The town's review goes to its judicial office, a department's to its own legal office;
    // either way the review service must have it: re-sent until its receipt comes back.
    let event = match p.on.subject {
        Subject::Case => AnyEvent::BrigadeReviewRequested(payload),
        Subject::Referral | Subject::Task => AnyEvent::CountyReviewRequested(payload),
    };
    let env = outbox
        .emit(
            tx,
            now,
            NewEvent {
                town: p.town,
                department: p.department,
                aggregate_id: &format!("review:{}", p.on.id),
                actor: Some(p.proposer.clone()),
                causation_id: None,
            },
            event,
        )
        .await?;
    save_review(
        tx,
        &ReviewRow {
            subject: p.on.subject,
            subject_id: p.on.id.to_owned(),
            review_id,
            town: p.town.to_owned(),
            round,
            status: ReviewStatus::Pending,
            proposed: Proto(p.outcome.clone()),
            proposer: Proto(p.proposer),
            submitted_at: now,
            updated_at: now,
            change_reason: p.amendment.as_ref().map(|a| a.reason.clone()),
            superseded_event_id: p.amendment.map(|a| a.superseded_event_id),
        },
    )
    .await?;
    Ok(Submitted {
        round: round as u32,
        env,
    })
}

/// The reviewer's answer on the pending round of a subject's review, read and kept.
#[derive(Debug, Clone)]
pub struct Answered {
    pub review: ReviewRow,
    pub verdict: Verdict,
    /// The line the record keeps of the answer.
    pub detail: String,
}

impl Answered {
    /// The proposed decision the answer is on.
    pub fn proposed(&self) -> &ev::Outcome {
        &self.review.proposed
    }

    /// Who proposed it.
    pub fn proposer(&self) -> &ev::Actor {
        &self.review.proposer
    }
}

/// What the review found, one clause per failed check, then the reviewer's note.
pub fn findings(e: &ev::ReviewDecided) -> String {
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

/// Reads the review service's answer `e` (`verdict`) on `review`: the review takes the
/// answer's status and the record line is written. `None` when the answer is for a review id or
/// round no longer pending (a replay, or a round since superseded): nothing is changed.
pub async fn answer(
    tx: &mut Tx,
    mut review: ReviewRow,
    e: &ev::ReviewDecided,
    verdict: Verdict,
    now: DateTime<Utc>,
) -> Result<Option<Answered>, HandlerError> {
    if review.review_id != e.review_id || review.round != i64::from(e.round) {
        tracing::warn!(subject_id = %review.subject_id, round = e.round, "A review answer for a round no longer pending; ignored.");
        return Ok(None);
    }
    review.status = ReviewStatus::parse(&e.status)
        .map_err(|err| HandlerError::Reject(format!("review {}: status: {err}", e.review_id)))?;
    review.updated_at = now;
    save_review(tx, &review).await?;
    let detail = decision::answer_detail(
        review.subject,
        verdict,
        e.round,
        review.change_reason.is_some(),
        &findings(e),
    );
    Ok(Some(Answered {
        review,
        verdict,
        detail,
    }))
}
