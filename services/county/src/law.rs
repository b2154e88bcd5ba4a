//! The law a department's decision applies (行政处罚法 Art. 37): the catalogue's version of
//! each of the case's matters in force at the act, or the newer, lighter one
//! (`liandong_domain::law_in_force`).

use chrono::{DateTime, NaiveDate, Utc};
use liandong_domain::calendar::Calendar;
use liandong_domain::catalogue::Catalogue;
use liandong_domain::law_in_force;
use liandong_domain::outcome::OutcomeKind;
use liandong_grpc::ApiError;
use liandong_proto::events::v1 as ev;
use liandong_proto::time::from_ts;

/// The day of the act the case's facts state, or else the day it was found.
fn act_day(facts: &ev::CaseFacts, now: DateTime<Utc>) -> NaiveDate {
    NaiveDate::parse_from_str(&facts.act_date, "%Y-%m-%d")
        .ok()
        .unwrap_or_else(|| Calendar::local_date(from_ts(facts.found_at.as_ref()).unwrap_or(now)))
}

/// Applies the law to a decision made at `now` on the case of `facts`: the articles go into
/// `outcome.applied_basis`; refused when only an unconfirmed article would apply, and a
/// penalty refused, naming `field`'s kind, where the act is no longer an offence.
pub fn apply(
    catalogue: &Catalogue,
    facts: &ev::CaseFacts,
    now: DateTime<Utc>,
    outcome: &mut ev::Outcome,
    field: &str,
) -> Result<(), ApiError> {
    let matters = law_in_force::matters_of(catalogue, &facts.matters);
    let law = law_in_force::applied(&matters, act_day(facts, now), Calendar::local_date(now))
        .map_err(|e| ApiError::FailedPrecondition(e.to_string()))?;
    let penalty = OutcomeKind::parse(&outcome.kind).is_some_and(OutcomeKind::is_penalty);
    if penalty && !law.no_longer_offence.is_empty() {
        return Err(ApiError::field(
            format!("{field}.kind"),
            format!(
                "the law now in force no longer makes the act an offence under {} (行政处罚法第三十七条): no penalty may be given",
                law.no_longer_offence.join(", ")
            ),
        ));
    }
    outcome.applied_basis = law.cited();
    Ok(())
}
