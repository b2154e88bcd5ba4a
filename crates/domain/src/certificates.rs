//! Certified officers only (持证上岗): enforcement certificates, their status, and the check
//! every enforcement action makes.

use chrono::{DateTime, NaiveDate, Utc};

use crate::auth::{Action, Denied};
use crate::calendar::Calendar;
use crate::ids::OfficerId;
use crate::limits::Validator;
use crate::state::named_enum;

named_enum! {
    /// Where a certificate stands. An officer who fails the periodic assessment is moved off
    /// enforcement posts (suspended) until a later assessment is passed; a revoked certificate
    /// never comes back (a new one is registered instead).
    pub enum CertificateStatus: "certificate status" {
        Active => "active",
        Suspended => "suspended",
        Revoked => "revoked",
    }
}

/// An officer's enforcement certificate (行政执法证), as the agency's registry holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Certificate {
    pub number: String,
    pub officer: OfficerId,
    pub issuing_authority: String,
    pub valid_from: NaiveDate,
    pub valid_until: NaiveDate,
    pub status: CertificateStatus,
}

impl Action {
    /// Whether taking the action is an enforcement act that only a certified officer may do.
    ///
    /// Recording steps, concluding, executing, deciding under entrustment and completing a
    /// joint task act on a party, so they need a certificate valid at that moment. Logging a
    /// report does not (anyone in the brigade may take down what the public says), nor do the
    /// routing steps of a referral (signing for, accepting, returning, assigning staff), which
    /// are office work; nor anything of the joint meeting, the legal review or the registry
    /// itself.
    pub fn needs_certificate(self) -> bool {
        matches!(
            self,
            Action::RecordCaseAction
                | Action::ConcludeCase
                | Action::RecordExecution
                | Action::ConcludeReferral
                | Action::RecordEntrustedDecision
                | Action::CompleteTask
                | Action::ChangeDecision
        )
    }
}

/// Whether `officer` may act at `at` with `cert`, the certificate the agency's registry holds
/// for them (if any). Validity is judged on the local date in China: a certificate valid until
/// 2026-06-30 may be used until 24:00 that day.
pub fn check_valid(
    officer: &OfficerId,
    cert: Option<&Certificate>,
    at: DateTime<Utc>,
) -> Result<(), Denied> {
    let deny = |reason: String| Err(Denied { reason });
    let Some(c) = cert else {
        return deny(format!("officer {officer} has no enforcement certificate"));
    };
    let today = Calendar::local_date(at);
    match c.status {
        CertificateStatus::Suspended => deny(format!(
            "certificate {} of {} is suspended after a failed assessment",
            c.number, c.officer
        )),
        CertificateStatus::Revoked => deny(format!(
            "certificate {} of {} is revoked",
            c.number, c.officer
        )),
        CertificateStatus::Active if today > c.valid_until => deny(format!(
            "certificate {} of {} expired on {}",
            c.number, c.officer, c.valid_until
        )),
        CertificateStatus::Active if today < c.valid_from => deny(format!(
            "certificate {} of {} is valid only from {}",
            c.number, c.officer, c.valid_from
        )),
        CertificateStatus::Active => Ok(()),
    }
}

/// Checks a certificate as a registration request states it, naming each bad field; returns
/// the validity dates when they parse.
pub fn check_registration(
    v: &mut Validator,
    number: &str,
    issuing_authority: &str,
    valid_from: &str,
    valid_until: &str,
) -> Option<(NaiveDate, NaiveDate)> {
    v.text("certificate_no", number, 64, true);
    if number.trim().chars().any(char::is_whitespace) {
        v.violation("certificate_no", "must not contain spaces");
    }
    v.text("issuing_authority", issuing_authority, 200, true);
    let date = |v: &mut Validator, field: &str, s: &str| {
        v.check(
            field,
            NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d")
                .map_err(|_| format!("must be a date as YYYY-MM-DD, not {s:?}")),
        )
    };
    let from = date(v, "valid_from", valid_from);
    let until = date(v, "valid_until", valid_until);
    match (from, until) {
        (Some(f), Some(u)) if u < f => {
            v.violation("valid_until", "must not lie before valid_from");
            None
        }
        (Some(f), Some(u)) => Some((f, u)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cert(status: CertificateStatus) -> Certificate {
        Certificate {
            number: "33078220260001".into(),
            officer: OfficerId::parse("wang.wu").unwrap(),
            issuing_authority: "浙江省人民政府".into(),
            valid_from: NaiveDate::from_ymd_opt(2026, 1, 1).unwrap(),
            valid_until: NaiveDate::from_ymd_opt(2026, 6, 30).unwrap(),
            status,
        }
    }

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().to_utc()
    }

    #[test]
    fn a_certificate_is_valid_only_when_active_and_in_date() {
        use CertificateStatus as S;
        let wang = OfficerId::parse("wang.wu").unwrap();
        #[rustfmt::skip]
        let rows: [(Option<S>, &str, Option<&str>); 7] = [
            (Some(S::Active), "2026-03-02T09:00:00+08:00", None),
            // The last day counts until 24:00 in China.
            (Some(S::Active), "2026-06-30T23:59:00+08:00", None),
            (Some(S::Active), "2026-07-01T00:00:00+08:00", Some("certificate 33078220260001 of wang.wu expired on 2026-06-30")),
            (Some(S::Active), "2025-12-31T23:00:00+08:00", Some("certificate 33078220260001 of wang.wu is valid only from 2026-01-01")),
            (Some(S::Suspended), "2026-03-02T09:00:00+08:00", Some("certificate 33078220260001 of wang.wu is suspended after a failed assessment")),
            (Some(S::Revoked), "2026-03-02T09:00:00+08:00", Some("certificate 33078220260001 of wang.wu is revoked")),
            (None, "2026-03-02T09:00:00+08:00", Some("officer wang.wu has no enforcement certificate")),
        ];
        for (status, when, want) in rows {
            let c = status.map(cert);
            let got = check_valid(&wang, c.as_ref(), at(when))
                .err()
                .map(|d| d.reason);
            assert_eq!(got.as_deref(), want, "{status:?} at {when}");
        }
    }

    #[test]
    fn only_enforcement_acts_need_a_certificate() {
        use Action as A;
        let needing: Vec<Action> = Action::ALL
            .iter()
            .copied()
            .filter(|a| a.needs_certificate())
            .collect();
        assert_eq!(
            needing,
            [
                A::RecordCaseAction,
                A::ConcludeCase,
                A::ConcludeReferral,
                A::RecordEntrustedDecision,
                A::CompleteTask,
                A::RecordExecution,
                A::ChangeDecision,
            ]
        );
        assert!(!A::ReportCase.needs_certificate());
        assert!(!A::AssignReferral.needs_certificate());
        assert!(!A::ReviewDecision.needs_certificate());
    }

    #[test]
    fn registrations_are_checked_field_by_field() {
        let fields = |n: &str, a: &str, f: &str, u: &str| {
            let mut v = Validator::new();
            let dates = check_registration(&mut v, n, a, f, u);
            let errs: Vec<String> = v
                .finish()
                .err()
                .unwrap_or_default()
                .into_iter()
                .map(|f| f.field)
                .collect();
            (dates.is_some(), errs)
        };
        assert_eq!(
            fields("3307", "浙江省人民政府", "2026-01-01", "2030-12-31"),
            (true, vec![])
        );
        assert_eq!(
            fields("", "", "2026-13-01", "x"),
            (
                false,
                vec![
                    "certificate_no".into(),
                    "issuing_authority".into(),
                    "valid_from".into(),
                    "valid_until".into()
                ]
            )
        );
        assert_eq!(
            fields("33 07", "政府", "2026-01-01", "2025-01-01"),
            (
                false,
                vec!["certificate_no".to_string(), "valid_until".into()]
            )
        );
    }
}
