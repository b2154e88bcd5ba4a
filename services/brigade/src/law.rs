//! The law a decision on a case applies (行政处罚法 Art. 37): for each of the case's matters,
//! the catalogue's version in force at the act, or the newer one in force at the decision
//! when it is lighter (`liandong_domain::law_in_force::applicable`).

use chrono::{DateTime, NaiveDate, Utc};
use liandong_domain::calendar::Calendar;
use liandong_domain::catalogue::{Catalogue, LegalBasis, Matter};
use liandong_domain::ids::MatterCode;
use liandong_domain::law_in_force::{LawError, applicable};
use liandong_domain::outcome::OutcomeKind;
use liandong_grpc::ApiError;
use liandong_proto::events::v1 as ev;

use crate::store::CaseRow;

/// The law a decision applies: its articles, the record's note on each choice, and the
/// matters the act is no longer an offence under.
#[derive(Debug, Clone, Default)]
pub struct Applied {
    pub basis: Vec<LegalBasis>,
    pub notes: Vec<String>,
    pub no_longer_offence: Vec<String>,
}

impl Applied {
    /// The articles as a decision's `applied_basis` lists them: 《law》article.
    pub fn cited(&self) -> Vec<String> {
        self.basis
            .iter()
            .map(|b| format!("《{}》{}", b.law, b.article))
            .collect()
    }
}

/// The case's matters, deciding matters first, each once.
fn matters<'c>(catalogue: &'c Catalogue, row: &CaseRow) -> Vec<&'c Matter> {
    let mut out: Vec<&Matter> = Vec::new();
    for code in row.deciding.0.iter().chain(row.matters.0.iter()) {
        if let Some(m) = MatterCode::parse(code)
            .ok()
            .and_then(|c| catalogue.matter(&c))
            && !out.iter().any(|o| o.code == m.code)
        {
            out.push(m);
        }
    }
    out
}

fn push_unique(basis: &mut Vec<LegalBasis>, more: &[LegalBasis]) {
    for b in more {
        if !basis.contains(b) {
            basis.push(b.clone());
        }
    }
}

/// The law a decision made on `decided` applies to the case's act; refused (naming why) when
/// a matter has no version in force or only one whose article could not be confirmed.
pub fn applied(
    catalogue: &Catalogue,
    row: &CaseRow,
    decided: NaiveDate,
) -> Result<Applied, LawError> {
    let mut out = Applied::default();
    for m in matters(catalogue, row) {
        let a = applicable(m, row.act_day(), decided)?;
        push_unique(&mut out.basis, &a.version.legal_basis);
        out.notes.push(a.note());
        if !a.version.offence {
            out.no_longer_offence.push(m.code.to_string());
        }
    }
    Ok(out)
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
    outcome.applied_basis = law.cited();
    Ok(())
}

/// What a document other than a decision (a filing form, a transfer letter) cites: the law
/// that applies, and for a matter where none can be applied, only what its version confirms,
/// with a note saying what is left out and why. Never an article nobody checked.
pub fn for_document(
    catalogue: &Catalogue,
    row: &CaseRow,
    on: NaiveDate,
) -> (Vec<LegalBasis>, String) {
    let mut basis = Vec::new();
    let mut notes = Vec::new();
    for m in matters(catalogue, row) {
        match applicable(m, row.act_day(), on) {
            Ok(a) => push_unique(&mut basis, &a.version.legal_basis),
            Err(e) => {
                if let Some(v) = m.version_on(row.act_day()) {
                    push_unique(&mut basis, &v.legal_basis);
                }
                notes.push(match e {
                    LawError::Unconfirmed { note, .. } => {
                        format!("{}：{note}，未予引用", m.code)
                    }
                    LawError::NoVersion { date, .. } => {
                        format!("{}：事项目录未载 {date} 施行的规定", m.code)
                    }
                });
            }
        }
    }
    (basis, notes.join("；"))
}
