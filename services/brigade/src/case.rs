//! Acting on a case after triage, the one path every handling command takes (`commands`):
//! open the case in a change (load it, check who may act), the enforcement certificate where
//! the step is an enforcement act (持证上岗), and commit, answering with the case as stored.
//! And the reads of a case's handling: the case in full, the results departments sent back.

use chrono::{DateTime, Utc};
use liandong_bus::Change;
use liandong_domain::auth::{Action, Actor, Resource, permits};
use liandong_domain::ids::TownScopedId;
use liandong_domain::state::CaseStatus;
use liandong_grpc::ApiError;
use liandong_proto::brigade::v1 as pb;
use liandong_proto::events::v1 as ev;
use liandong_proto::time::to_ts;

use crate::context::Api;
use crate::convert::case_to_pb;
use crate::registry;
use crate::store::{self, CaseRow};

/// The kinds of step an officer records on a case (执法全过程记录).
pub const ACTION_KINDS: [&str; 12] = [
    "inspection",
    "evidence",
    "interview",
    "execution_step",
    "other",
    // The steps of the procedure (`liandong_domain::procedure::StepKind`).
    "notice",
    "statement",
    "statement_waived",
    "hearing_requested",
    "hearing_held",
    "hearing_waived",
    "collective_discussion",
];

/// A case opened for a step: the change it is taken in and the row as it stood.
pub(crate) struct Acting<'a> {
    pub tx: Change<'a>,
    pub row: CaseRow,
    pub now: DateTime<Utc>,
}

impl Acting<'_> {
    /// The body in whose name this step acts (`liandong_domain::acting`): the town's own, or
    /// the department that entrusted the case's matters to the town under a letter in force
    /// today; an act outside the letter's term, or a decision of a kind it does not entrust
    /// (`outcome`), is refused, naming the letter (行政处罚法 第二十条).
    pub fn body(
        &self,
        api: &Api,
        outcome: Option<&str>,
    ) -> Result<liandong_domain::acting::ActingBody, ApiError> {
        use liandong_domain::acting::{self, ActingRefused};
        let (town, matters) = crate::documents::town_and_matters(&self.row)?;
        let day = liandong_domain::calendar::Calendar::local_date(self.now);
        let body = match acting::acting_body(&api.catalogue, &api.towns, &town, &matters, day) {
            // Not the town's matters (a joint case): its steps are the town's own.
            Err(ActingRefused::NotTheTowns { .. }) => acting::town_body(&api.towns, &town),
            other => other,
        }
        .map_err(|e| ApiError::FailedPrecondition(e.to_string()))?;
        if let Some(kind) = outcome.and_then(liandong_domain::outcome::OutcomeKind::parse) {
            acting::check_power(&body, kind)
                .map_err(|e| ApiError::FailedPrecondition(e.to_string()))?;
        }
        Ok(body)
    }

    /// The certificate `actor` takes `action` under (持证上岗), which the record keeps.
    pub async fn certificate(&mut self, actor: &Actor, action: Action) -> Result<String, ApiError> {
        registry::require_certificate(&mut self.tx, actor, action, &self.row.town, self.now).await
    }
}

impl Api {
    /// Begins the change of a step on a case, loads the case in it and checks that `actor` may
    /// take `action` on it.
    pub(crate) async fn open_case(
        &self,
        actor: &Actor,
        action: Action,
        case_id: &str,
    ) -> Result<Acting<'_>, ApiError> {
        let now = self.clock.now();
        let mut tx = Change::begin(&self.db, &self.outbox).await?;
        let id =
            TownScopedId::parse(case_id).map_err(|e| ApiError::field("case_id", e.to_string()))?;
        let row = store::case_in_tx(&mut tx, case_id)
            .await?
            .ok_or_else(|| ApiError::NotFound(format!("no case {case_id}")))?;
        permits(
            actor,
            action,
            &Resource {
                town: id.town().clone(),
                department: None,
            },
        )?;
        Ok(Acting { tx, row, now })
    }

    /// Commits a step, which left the case in `next` (or where it was), and answers with the
    /// case as stored.
    pub(crate) async fn finish(
        &self,
        a: Acting<'_>,
        next: Option<CaseStatus>,
    ) -> Result<pb::Case, ApiError> {
        let Acting { tx, mut row, now } = a;
        tx.commit().await?;
        if let Some(next) = next {
            row.status = next;
        }
        row.updated_at = now;
        self.full(row).await
    }

    /// A case with what was recorded about its handling.
    pub(crate) async fn full(&self, row: CaseRow) -> Result<pb::Case, ApiError> {
        let mut case = case_to_pb(&row);
        case.penalty_period = crate::clocks::period(
            &self.db,
            &self.time_limits,
            &self.calendar,
            &row.case_id,
            self.clock.now(),
        )
        .await?;
        case.officers = store::officers(&self.db, &row.case_id).await?;
        case.outcome = store::outcome(&self.db, &row.case_id).await?;
        if let Some(j) = store::joint(&self.db, &row.case_id).await? {
            case.joint = Some(pb::JointInfo {
                item_id: j.item_id,
                lead_department: j.lead_department,
                cooperating_departments: j.cooperating.0.clone(),
                decision: j.decision.0.clone().map(|p| p.0),
                decided_in_name_of: j.decided_in_name_of.unwrap_or_default(),
                completed_by: j.completed_by.0.clone(),
                executed_at: j.executed_at.map(to_ts),
            });
        }
        Ok(case)
    }

    pub(crate) async fn results(
        &self,
        actor: &Actor,
        r: pb::ListResultsRequest,
    ) -> Result<Vec<pb::ResultCopy>, ApiError> {
        let town = liandong_domain::ids::TownCode::parse(&r.town)
            .map_err(|e| ApiError::field("town", e.to_string()))?;
        permits(
            actor,
            Action::ReadCase,
            &Resource {
                town: town.clone(),
                department: None,
            },
        )?;
        let limit = liandong_grpc::page_size(r.page_size, 50, self.limits.page_size_max);
        let rows = store::results(&self.db, town.as_str(), limit).await?;
        Ok(rows
            .into_iter()
            .map(|r| {
                let confiscated = r.confiscated.0;
                pb::ResultCopy {
                    referral_id: r.referral_id,
                    case_id: r.case_id,
                    department: r.department,
                    outcome: Some(ev::Outcome {
                        kind: r.outcome_kind,
                        fine_fen: r.fine_fen,
                        confiscated: confiscated
                            .into_iter()
                            .map(|(kind, count)| ev::ConfiscatedItem {
                                kind,
                                count,
                                // Result copies keep kind and count only.
                                unit: String::new(),
                            })
                            .collect(),
                        summary: r.summary,
                        ..Default::default()
                    }),
                    concluded_by: r.concluded_by,
                    received_at: Some(to_ts(r.received_at)),
                }
            })
            .collect())
    }
}
