//! The law a decision on a case applies (行政处罚法 Art. 37), by the catalogue's versions of
//! the case's matters (`liandong_domain::law_in_force`).

use chrono::{DateTime, NaiveDate, Utc};
use liandong_domain::calendar::Calendar;
use liandong_domain::catalogue::{Catalogue, LegalBasis, Matter};
use liandong_domain::law_in_force::{self, AppliedLaw, LawError};
use liandong_domain::outcome::OutcomeKind;
use liandong_grpc::ApiError;
use liandong_proto::events::v1 as ev;

use crate::store::CaseRow;

/// The case's matters, deciding matters first, each once.
fn matters<'c>(catalogue: &'c Catalogue, row: &CaseRow) -> Vec<&'c Matter> {
    let codes: Vec<String> = row
        .deciding
        .0
        .iter()
        .chain(row.matters.0.iter())
        .cloned()
        .collect();
    law_in_force::matters_of(catalogue, &codes)
}

/// The law a decision made on `decided` applies to the case's act.
pub fn applied(
    catalogue: &Catalogue,
    row: &CaseRow,
    decided: NaiveDate,
) -> Result<AppliedLaw, LawError> {
    law_in_force::applied(&matters(catalogue, row), row.act_day(), decided)
}

/// Applies the law to a decision made at `now` (a first decision or an amendment): the
/// articles it cites go into `outcome.applied_basis`; refused when only an unconfirmed
/// article would apply, and a penalty refused, naming `outcome.kind`, where the law now in
/// force no longer makes the act an offence.
pub fn apply(
    catalogue: &Catalogue,
    row: &CaseRow,
    now: DateTime<Utc>,
    outcome: &mut ev::Outcome,
) -> Result<(), ApiError> {
    let law = applied(catalogue, row, Calendar::local_date(now))
        .map_err(|e| ApiError::FailedPrecondition(e.to_string()))?;
    check_penalty(&law, outcome)?;
    outcome.applied_basis = law.cited();
    Ok(())
}

/// A penalty under a law that no longer makes the act an offence is refused (Art. 37).
pub fn check_penalty(law: &AppliedLaw, outcome: &ev::Outcome) -> Result<(), ApiError> {
    let penalty = OutcomeKind::parse(&outcome.kind).is_some_and(OutcomeKind::is_penalty);
    if penalty && !law.no_longer_offence.is_empty() {
        return Err(ApiError::field(
            "outcome.kind",
            format!(
                "the law now in force no longer makes the act an offence under {} (行政处罚法第三十七条): no penalty may be given",
                law.no_longer_offence.join(", ")
            ),
        ));
    }
    Ok(())
}

/// What a document other than a decision cites: only confirmed articles, with a note.
pub fn for_document(
    catalogue: &Catalogue,
    row: &CaseRow,
    on: NaiveDate,
) -> (Vec<LegalBasis>, String) {
    law_in_force::for_document(&matters(catalogue, row), row.act_day(), on)
}
