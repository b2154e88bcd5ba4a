//! What moves a case's decision period (行政处罚法 第六十条 and the competent department's rule):
//! a period not counted (中止、听证、公告、检测、鉴定 …), recorded by an officer, and an extension
//! approved by the head the rule names, recorded by the captain. Each is checked against the
//! case's rule (`liandong_domain::penalty_period`), kept in the full-process record, and moves
//! the clock's deadline in the same change.

use chrono::NaiveDate;
use liandong_domain::auth::{Action, Actor};
use liandong_domain::calendar::Calendar;
use liandong_domain::limits::Validator;
use liandong_domain::penalty_period::{ExcludedPeriod, ExclusionKind, Extension, Refusal};
use liandong_grpc::{ApiError, actor_label};
use liandong_proto::brigade::v1 as pb;

use crate::case::Acting;
use crate::clocks::{self, CaseClock};
use crate::context::Api;
use crate::record::{self, NewEntry, Who};

fn refused(r: Refusal) -> ApiError {
    ApiError::field(r.field, r.message)
}

impl Api {
    /// The clock of the case opened in `a`, which must be filed and not yet decided.
    async fn running_clock(&self, a: &mut Acting<'_>) -> Result<CaseClock, ApiError> {
        let clock = CaseClock::load(a.tx.tx(), &a.row.case_id)
            .await?
            .ok_or_else(|| {
                ApiError::FailedPrecondition(format!(
                    "case {} was not filed as the brigade's own: it has no decision period",
                    a.row.case_id
                ))
            })?;
        if clock.stopped() {
            return Err(ApiError::FailedPrecondition(format!(
                "case {} was already decided or left the brigade's hands: its decision period has stopped",
                a.row.case_id
            )));
        }
        Ok(clock)
    }

    /// Moves the clock, keeps the step in the record, commits, and answers with the period.
    async fn period_moved(
        &self,
        mut a: Acting<'_>,
        mut clock: CaseClock,
        actor: &Actor,
        kind: &str,
        detail: &str,
    ) -> Result<pb::PenaltyPeriod, ApiError> {
        clock
            .reschedule(a.tx.tx(), &self.time_limits, &self.calendar)
            .await?;
        let here = a.row.here();
        record::append(
            &mut a.tx,
            here,
            NewEntry {
                at: a.now,
                kind,
                who: &Who::of(actor),
                detail,
                evidence_digests: Vec::new(),
                event: None,
            },
        )
        .await?;
        let case_id = a.row.case_id.clone();
        a.tx.commit().await?;
        clocks::period(
            &self.db,
            &self.time_limits,
            &self.calendar,
            &case_id,
            self.clock.now(),
        )
        .await?
        .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("the case's clock vanished")))
    }

    pub(crate) async fn record_excluded_period(
        &self,
        actor: &Actor,
        r: pb::RecordExcludedPeriodRequest,
    ) -> Result<pb::PenaltyPeriod, ApiError> {
        let mut v = Validator::new();
        let kind = v.check(
            "kind",
            ExclusionKind::parse(r.kind.trim()).map_err(|_| {
                format!(
                    "must be one of {}",
                    ExclusionKind::ALL
                        .iter()
                        .map(|k| k.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            }),
        );
        let date = |v: &mut Validator, field: &str, s: &str| {
            v.check(
                field,
                NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d")
                    .map_err(|_| format!("{s:?} is not a date like 2026-03-10")),
            )
        };
        let start = date(&mut v, "start", &r.start);
        let end = date(&mut v, "end", &r.end);
        v.text("reason", &r.reason, self.limits.reason_chars, true);
        v.finish().map_err(ApiError::Invalid)?;
        let (Some(kind), Some(start), Some(end)) = (kind, start, end) else {
            unreachable!("the validator refused a missing value");
        };
        let new = ExcludedPeriod {
            kind,
            start,
            end,
            reason: r.reason.trim().to_owned(),
        };
        let mut a = self
            .open_case(actor, Action::RecordCaseAction, &r.case_id)
            .await?;
        let clock = self.running_clock(&mut a).await?;
        let today = Calendar::local_date(a.now);
        clock
            .rule(&self.time_limits)
            .check_excluded(
                Calendar::local_date(clock.filed_at()),
                today,
                &clock.excluded()?,
                &new,
            )
            .map_err(refused)?;
        let who = actor_label(actor);
        clocks::insert_excluded(a.tx.tx(), &a.row.case_id, &a.row.town, &new, &who, a.now).await?;
        let clock = CaseClock::load(a.tx.tx(), &a.row.case_id)
            .await?
            .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("the case's clock vanished")))?;
        let detail = format!(
            "不计入办案期限（{}）：{} 至 {}，共{}日；理由：{}",
            new.kind.as_str(),
            new.start,
            new.end,
            new.days(),
            new.reason
        );
        self.period_moved(a, clock, actor, "excluded_period", &detail)
            .await
    }

    pub(crate) async fn record_period_extension(
        &self,
        actor: &Actor,
        r: pb::RecordPeriodExtensionRequest,
    ) -> Result<pb::PenaltyPeriod, ApiError> {
        let mut v = Validator::new();
        v.text("approver", &r.approver, self.limits.short_text_chars, true);
        v.text("reason", &r.reason, self.limits.reason_chars, true);
        v.finish().map_err(ApiError::Invalid)?;
        let new = Extension {
            days: r.days,
            approver: r.approver.trim().to_owned(),
            reason: r.reason.trim().to_owned(),
        };
        let mut a = self
            .open_case(actor, Action::ExtendDecisionPeriod, &r.case_id)
            .await?;
        let clock = self.running_clock(&mut a).await?;
        let rule = clock.rule(&self.time_limits);
        rule.check_extension(&clock.extensions()?, &new)
            .map_err(refused)?;
        let who = actor_label(actor);
        clocks::insert_extension(a.tx.tx(), &a.row.case_id, &a.row.town, &new, &who, a.now).await?;
        let clock = CaseClock::load(a.tx.tx(), &a.row.case_id)
            .await?
            .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("the case's clock vanished")))?;
        let detail = format!(
            "延长办案期限{}日，经{}批准（{}）；理由：{}",
            new.days, new.approver, rule.citation, new.reason
        );
        self.period_moved(a, clock, actor, "period_extension", &detail)
            .await
    }
}
