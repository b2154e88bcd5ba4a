//! The steps of the procedure a case's decision is checked against
//! (`liandong_domain::procedure`), as the brigade stores them (`procedure_steps`), and the
//! decision those checks look at.

use chrono::{DateTime, Utc};
use liandong_domain::masking::PartyKind;
use liandong_domain::outcome::OutcomeKind;
use liandong_domain::procedure::{self, Decision, Penalty, Procedure, Refusal, Step, StepKind};
use liandong_grpc::ApiError;
use liandong_proto::events::v1 as ev;
use liandong_store::typed::decode_all;
use liandong_store::{Tx, with_tx};
use uuid::Uuid;

use crate::context::Api;
use crate::store::{self, CaseRow};

const TABLE: &str = "procedure_steps";

#[derive(Debug, Clone, sqlx::FromRow)]
struct StepRow {
    step_id: String,
    #[sqlx(try_from = "String")]
    kind: StepKind,
    at: DateTime<Utc>,
    intended_kind: Option<String>,
    intended_fine_fen: Option<i64>,
    intended_confiscates: Option<bool>,
    intended_value_fen: Option<i64>,
}

impl StepRow {
    fn to_step(&self) -> Result<Step, sqlx::Error> {
        let intended = match &self.intended_kind {
            None => None,
            Some(k) => {
                let kind = OutcomeKind::parse(k).ok_or_else(|| {
                    sqlx::Error::Decode(
                        format!(
                            "{TABLE} row {}: column intended_kind: unknown outcome kind {k:?}",
                            self.step_id
                        )
                        .into(),
                    )
                })?;
                // A notice's penalty is written whole (`insert`): a part missing is a broken row.
                let missing = |column: &str| {
                    sqlx::Error::Decode(
                        format!(
                            "{TABLE} row {}: column {column}: missing beside intended_kind",
                            self.step_id
                        )
                        .into(),
                    )
                };
                Some(Penalty {
                    kind,
                    fine_fen: self
                        .intended_fine_fen
                        .ok_or_else(|| missing("intended_fine_fen"))?,
                    confiscates: self
                        .intended_confiscates
                        .ok_or_else(|| missing("intended_confiscates"))?,
                    confiscated_value_fen: self
                        .intended_value_fen
                        .ok_or_else(|| missing("intended_value_fen"))?,
                })
            }
        };
        Ok(Step {
            kind: self.kind,
            at: self.at,
            intended,
        })
    }
}

/// Records a step of `case_id`'s procedure.
pub async fn insert(
    tx: &mut Tx,
    case_id: &str,
    kind: StepKind,
    at: DateTime<Utc>,
    officer: &str,
    intended: Option<Penalty>,
) -> Result<(), sqlx::Error> {
    with_tx!(tx, |c| sqlx::query(
        "INSERT INTO procedure_steps (step_id, case_id, kind, at, officer, intended_kind, \
         intended_fine_fen, intended_confiscates, intended_value_fen) \
         VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9)"
    )
    .bind(Uuid::now_v7().to_string())
    .bind(case_id)
    .bind(kind.as_str())
    .bind(at)
    .bind(officer)
    .bind(intended.map(|p| p.kind.as_str()))
    .bind(intended.map(|p| p.fine_fen))
    .bind(intended.map(|p| p.confiscates))
    .bind(intended.map(|p| p.confiscated_value_fen))
    .execute(c)
    .await
    .map(|_| ()))
}

/// The steps recorded on `case_id`, oldest first.
pub async fn steps_in_tx(tx: &mut Tx, case_id: &str) -> Result<Vec<Step>, sqlx::Error> {
    let rows: Vec<StepRow> = with_tx!(tx, |c| {
        let rows = sqlx::query(
            "SELECT step_id, kind, at, intended_kind, intended_fine_fen, intended_confiscates, \
             intended_value_fen FROM procedure_steps WHERE case_id = $1 ORDER BY at, step_id",
        )
        .bind(case_id)
        .fetch_all(c)
        .await?;
        decode_all(&rows, TABLE, "step_id")
    })?;
    rows.iter().map(StepRow::to_step).collect()
}

/// The penalty an outcome imposes, as the procedure compares it; an outcome kind the domain
/// does not know is refused naming `field`.
pub fn penalty_of(o: &ev::Outcome, field: &str) -> Result<Option<Penalty>, ApiError> {
    let kind = OutcomeKind::parse(&o.kind)
        .ok_or_else(|| ApiError::field(format!("{field}.kind"), "unknown outcome kind"))?;
    Ok(Penalty::of(
        kind,
        o.fine_fen,
        !o.confiscated.is_empty(),
        o.confiscated_value_fen,
    ))
}

/// The party's kind as the outcome names it: a person unless it says an organisation (the
/// stricter limits of the simple procedure and the hearing then apply).
pub fn party_of(o: &ev::Outcome) -> PartyKind {
    o.party
        .as_ref()
        .and_then(|p| PartyKind::parse(&p.kind).ok())
        .unwrap_or(PartyKind::Person)
}

/// A refusal of the procedure as the API answers it: FAILED_PRECONDITION naming the step.
pub fn refused(r: Refusal) -> ApiError {
    ApiError::FailedPrecondition(format!("{} (step: {})", r, r.step()))
}

impl Api {
    /// Checks that `outcome` may be decided on `case` now under `procedure`, within `tx`:
    /// officers, notice, statement and defence, hearing, and (for a complex case) the heads'
    /// discussion. A major decision's discussion follows its legal review.
    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn check_procedure(
        &self,
        tx: &mut Tx,
        case: &CaseRow,
        outcome: &ev::Outcome,
        procedure: Procedure,
        major: bool,
        now: DateTime<Utc>,
        body_department: Option<&liandong_domain::ids::DepartmentCode>,
    ) -> Result<(), ApiError> {
        let officers = store::officers_in_tx(tx, &case.case_id).await?;
        let steps = steps_in_tx(tx, &case.case_id).await?;
        procedure::check(&Decision {
            procedure,
            penalty: penalty_of(outcome, "outcome")?,
            party: party_of(outcome),
            officers: officers.len(),
            complex: case.complex,
            major,
            steps: &steps,
            now,
            calendar: &self.calendar,
            hearing: self.procedure.hearing_for(body_department),
        })
        .map_err(refused)
    }
}
