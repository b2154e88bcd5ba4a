//! Public disclosure of enforcement decisions (行政执法公示): which deadline applies, when a
//! disclosure is due, overdue, to be withdrawn, or expired, and what may never be published.
//!
//! The law behind the numbers: penalty and licensing decisions are disclosed within 7 working
//! days, other enforcement information within 20 (the three-systems guideline, 国办发〔2018〕118号;
//! 行政许可法 第四十条 for licences); a disclosed penalty decision that is changed or revoked is
//! withdrawn within 3 days (行政处罚法 第四十八条: "公开的行政处罚决定被依法变更、撤销、确认违法
//! 或者确认无效的，行政机关应当在三日内撤回行政处罚决定信息并公开说明理由"), and "3 days" there
//! are working days (行政处罚法 第八十五条: "本法中'二日''三日''五日''七日'的规定是指工作日，不含
//! 法定节假日"). Checked: http://www.3dwhite.cn/20631aafbabf.html (第四十八条: a changed or
//! revoked decision's information is withdrawn); the wording of 第八十五条 could not be found by
//! search and is quoted from the 2021 text of the law.

use chrono::{DateTime, Duration, NaiveDate, Utc};

use crate::auth::{Action, Actor, Denied, Resource, permits};
use crate::calendar::{Calendar, Deadline};
use crate::catalogue::{DisclosureClass, Matter};
use crate::ids::{DepartmentCode, TownCode};
use crate::masking::Party;
use crate::outcome::OutcomeKind;
use crate::state::{TransitionError, named_enum};

/// Working days within which a changed or revoked decision's disclosure is withdrawn
/// (行政处罚法 第四十八条, counted in working days by 第八十五条).
pub const WITHDRAWAL_WORKING_DAYS: u32 = 3;

/// How long a published disclosure stays public unless configured otherwise: five years.
pub const DEFAULT_RETENTION_DAYS: u32 = 1826;

named_enum! {
    /// Where a disclosure stands.
    pub enum DisclosureStatus: "disclosure status" {
        /// Awaiting publication by the deciding body.
        Pending => "pending",
        Published => "published",
        /// Taken down because the decision was changed or revoked; the reason stays public.
        Withdrawn => "withdrawn",
        /// Never to be published: the decision involves a minor.
        Withheld => "withheld",
    }
}

named_enum! {
    /// Who decided, and so who discloses (谁执法谁公示).
    pub enum BodyKind: "body kind" {
        /// The town government, for the brigade's decisions in its name.
        Town => "town",
        /// A county department, for its own decisions and those made under its entrustment.
        Department => "department",
    }
}

named_enum! {
    /// What a deciding body does to a disclosure.
    pub enum DisclosureAction: "disclosure action" {
        Publish => "publish",
        Withdraw => "withdraw",
    }
}

impl DisclosureStatus {
    /// The status after `action`, or why it cannot be taken. A pending disclosure may be
    /// withdrawn too: a decision revoked before it was published must not be published later.
    pub fn next(self, action: DisclosureAction) -> Result<DisclosureStatus, TransitionError> {
        use DisclosureAction as A;
        use DisclosureStatus as S;
        match (self, action) {
            (S::Pending, A::Publish) => Ok(S::Published),
            (S::Pending | S::Published, A::Withdraw) => Ok(S::Withdrawn),
            _ => Err(TransitionError {
                machine: "disclosure",
                from: self.as_str().to_owned(),
                action: action.as_str().to_owned(),
            }),
        }
    }
}

/// The deadline class of a decision: 7 working days when one of its matters is a penalty or
/// licensing matter and the outcome is a penalty (warning, fine, confiscation, demolition);
/// 20 otherwise. Education without penalty, an order to correct and "no violation" are other
/// enforcement information. A penalty whose matters are unknown (none named, or none in the
/// catalogue) takes 7: a penalty decision is always one, and the shorter deadline is safe.
pub fn class_of(matters: &[&Matter], outcome: OutcomeKind) -> DisclosureClass {
    if !outcome.is_penalty() {
        return DisclosureClass::OtherEnforcement;
    }
    if matters.is_empty()
        || matters
            .iter()
            .any(|m| m.disclosure == DisclosureClass::PenaltyOrLicensing)
    {
        DisclosureClass::PenaltyOrLicensing
    } else {
        DisclosureClass::OtherEnforcement
    }
}

/// When a decision was made, for its disclosure's clock (自执法决定作出之日起): its own date
/// when it states one, so that a decision recorded late is due, and overdue, from its real
/// date; otherwise the instant it took effect in the hub (`recorded_at`). A stated date is taken
/// as the start of that day in China (the day itself is never counted), the day of recording as
/// the recording's instant, and a date after the recording as the recording: never later.
pub fn decided_at(decided_on: Option<NaiveDate>, recorded_at: DateTime<Utc>) -> DateTime<Utc> {
    match decided_on {
        Some(d) if d < Calendar::local_date(recorded_at) => d
            .pred_opt()
            .map(Calendar::end_of_local_day)
            .unwrap_or(recorded_at),
        _ => recorded_at,
    }
}

/// When the disclosure of a decision made at `decided_at` is due: 24:00 of the 7th or 20th
/// working day after the decision day, which is not counted.
pub fn publication_due(
    cal: &Calendar,
    decided_at: DateTime<Utc>,
    class: DisclosureClass,
) -> Deadline {
    cal.add_working_days(decided_at, class.working_days())
}

/// When the disclosure of a decision changed or revoked at `changed_at` must be withdrawn.
pub fn withdrawal_due(cal: &Calendar, changed_at: DateTime<Utc>) -> Deadline {
    cal.add_working_days(changed_at, WITHDRAWAL_WORKING_DAYS)
}

/// Whether a disclosure in `status`, due at `due`, is overdue at `now`: still pending after the
/// end of its last day.
pub fn is_overdue(status: DisclosureStatus, due: DateTime<Utc>, now: DateTime<Utc>) -> bool {
    status == DisclosureStatus::Pending && now >= due
}

/// How a disclosure stands against its due date, for the timeliness figures (公示及时率).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Timeliness {
    /// Published before the end of its last day.
    PublishedOnTime,
    PublishedLate,
    /// Not published by the end of its last day: still pending then, or withdrawn only after.
    Overdue,
    /// Not published, not yet due.
    Pending,
}

/// Where a disclosure in `status`, due at `due`, stands at `now`; `None` for one that is not
/// to be counted: withheld (a minor's decision), or withdrawn unpublished before it fell due
/// (a decision revoked in time leaves nothing to publish).
pub fn timeliness(
    status: DisclosureStatus,
    due: DateTime<Utc>,
    published_at: Option<DateTime<Utc>>,
    withdrawn_at: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> Option<Timeliness> {
    if status == DisclosureStatus::Withheld {
        return None;
    }
    if let Some(p) = published_at {
        return Some(if p < due {
            Timeliness::PublishedOnTime
        } else {
            Timeliness::PublishedLate
        });
    }
    match (status, withdrawn_at) {
        (DisclosureStatus::Withdrawn, Some(w)) if w < due => None,
        (DisclosureStatus::Withdrawn, _) => Some(Timeliness::Overdue),
        _ if now >= due => Some(Timeliness::Overdue),
        _ => Some(Timeliness::Pending),
    }
}

/// When a disclosure published at `published_at` leaves the public pages.
pub fn expires_at(published_at: DateTime<Utc>, retention_days: u32) -> DateTime<Utc> {
    published_at + Duration::days(i64::from(retention_days))
}

/// Whether a disclosure published at `published_at` has expired at `now`.
pub fn is_expired(published_at: DateTime<Utc>, retention_days: u32, now: DateTime<Utc>) -> bool {
    now >= expires_at(published_at, retention_days)
}

/// Why a decision is never published, if it is not: decisions involving minors are not
/// disclosed (nor are those touching state or trade secrets or privacy, which the hub does not
/// record yet).
pub fn withheld_reason(party: &Party) -> Option<&'static str> {
    party
        .minor
        .then_some("涉及未成年人，依法不予公开（decision involves a minor; not disclosed）")
}

/// Whether `actor` may publish or withdraw (`action`) a disclosure of `town` decided by the
/// body of `kind` (the town government, or the department `department`). Beyond `permits`,
/// only the deciding body acts (谁执法谁公示): a town's captain may not publish a department's
/// decision in the town, nor a department a town's.
pub fn permits_disclosure(
    actor: &Actor,
    action: Action,
    town: &TownCode,
    kind: BodyKind,
    department: Option<&DepartmentCode>,
) -> Result<(), Denied> {
    let resource = Resource {
        town: town.clone(),
        department: department.cloned(),
    };
    permits(actor, action, &resource)?;
    let of_the_body = match kind {
        BodyKind::Town => actor.department.is_none() && actor.town.as_ref() == Some(town),
        BodyKind::Department => actor.department.as_ref() == department && department.is_some(),
    };
    if of_the_body {
        Ok(())
    } else {
        Err(Denied {
            reason: format!(
                "only the body that decided may {action} its disclosure (谁执法谁公示): this one is the {}'s",
                match kind {
                    BodyKind::Town => format!("town government of {town}"),
                    BodyKind::Department => department.map(|d| d.to_string()).unwrap_or_default(),
                }
            ),
        })
    }
}

#[cfg(test)]
mod tests {
    use chrono::NaiveDate;

    use super::*;
    use crate::catalogue::Catalogue;
    use crate::masking::PartyKind;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }
    fn date(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn a_decision_recorded_late_is_due_from_its_own_date() {
        let cal = Calendar::shipped();
        // Decided Mon 03-02, recorded Thu 03-05 at 10:00: three working days late (3, 4, 5).
        let recorded = at("2026-03-05T10:00:00+08:00");
        let decided = decided_at(Some(date("2026-03-02")), recorded);
        assert_eq!(Calendar::local_date(decided), date("2026-03-02"));
        assert_eq!(cal.working_days_between(decided, recorded), 3);
        let due = publication_due(&cal, decided, DisclosureClass::PenaltyOrLicensing);
        // 7 in all: 3, 4, 5, 6, 9, 10, 11; four working days after the recording.
        assert_eq!(due.last_day, date("2026-03-11"));
        assert_eq!(
            cal.working_days_between(recorded, due.due - Duration::seconds(1)),
            4
        );
        assert!(!is_overdue(
            DisclosureStatus::Pending,
            due.due,
            due.due - Duration::seconds(1)
        ));
        assert!(is_overdue(DisclosureStatus::Pending, due.due, due.due));
        // Undated, dated the day of recording, or dated after it: the recording's instant.
        assert_eq!(decided_at(None, recorded), recorded);
        assert_eq!(decided_at(Some(date("2026-03-05")), recorded), recorded);
        assert_eq!(decided_at(Some(date("2026-03-06")), recorded), recorded);
        // A date's start in China is 16:00 UTC the day before.
        assert_eq!(decided, at("2026-03-02T00:00:00+08:00"));
    }

    /// One row: decided at, class, the last day, whether provisional.
    #[test]
    fn publication_is_due_in_working_days_across_the_2026_holidays() {
        let cal = Calendar::shipped();
        let check = |decided: &str, class: DisclosureClass, last_day: &str| {
            let d = publication_due(&cal, at(decided), class);
            assert_eq!(d.last_day, date(last_day), "{decided} {class:?}");
            assert!(!d.provisional);
            assert_eq!(d.due, Calendar::end_of_local_day(date(last_day)));
        };
        use DisclosureClass::{OtherEnforcement as Other, PenaltyOrLicensing as Penalty};
        // Spring Festival 02-15..02-23 off; 02-14 (Sat) and 02-28 (Sat) worked.
        // From Fri 02-13: 14 (1), 24 (2), 25 (3), 26 (4), 27 (5), 28 (6), 03-02 (7).
        check("2026-02-13T10:00:00+08:00", Penalty, "2026-03-02");
        // From Wed 02-11: 12, 13, 14 (Sat, make-up), 24, 25, 26, 27 → Fri 02-27.
        check("2026-02-11T09:00:00+08:00", Penalty, "2026-02-27");
        // Decided on the make-up Saturday itself: 24, 25, 26, 27, 28 (Sat), 03-02, 03-03.
        check("2026-02-14T15:00:00+08:00", Penalty, "2026-03-03");
        // Late in the evening in China is still that day, although UTC is the day before.
        check("2026-02-12T23:30:00+08:00", Penalty, "2026-02-28");
        // Twenty working days from Fri 02-13: 14, 24–27 (5), 28 (6), 03-02..06 (11),
        // 09..13 (16), 16..19 (20).
        check("2026-02-13T10:00:00+08:00", Other, "2026-03-19");
        // National Day 10-01..10-07 off; Sat 10-10 worked.
        // From Tue 09-29: 30 (1), 10-08 (2), 09 (3), 10 (Sat, make-up) (4), 12 (5), 13 (6), 14 (7).
        check("2026-09-29T10:00:00+08:00", Penalty, "2026-10-14");
        // Mid-autumn 09-25..27 off, Sun 09-20 worked. From Fri 09-18: 20 (Sun) (1), 21, 22,
        // 23, 24 (5), 28 (6), 29 (7).
        check("2026-09-18T10:00:00+08:00", Penalty, "2026-09-29");
    }

    #[test]
    fn withdrawal_is_due_in_three_working_days() {
        let cal = Calendar::shipped();
        // Changed on Wed 09-30: 10-08, 10-09, 10-10 (Sat, make-up).
        let d = withdrawal_due(&cal, at("2026-09-30T16:00:00+08:00"));
        assert_eq!(d.last_day, date("2026-10-10"));
        // Changed on Fri 02-13: 02-14 (Sat, make-up), 02-24, 02-25.
        let d = withdrawal_due(&cal, at("2026-02-13T16:00:00+08:00"));
        assert_eq!(d.last_day, date("2026-02-25"));
    }

    #[test]
    fn the_class_follows_the_matters_and_the_outcome() {
        let cat = Catalogue::default_catalogue();
        let penalty_matter = cat
            .matters
            .iter()
            .find(|m| m.disclosure == DisclosureClass::PenaltyOrLicensing)
            .expect("the default catalogue has a penalty matter");
        let other_matter = cat
            .matters
            .iter()
            .find(|m| m.disclosure == DisclosureClass::OtherEnforcement);
        use DisclosureClass::{OtherEnforcement as Other, PenaltyOrLicensing as Penalty};
        for (matters, outcome, class) in [
            (vec![penalty_matter], OutcomeKind::Fine, Penalty),
            (vec![penalty_matter], OutcomeKind::Warning, Penalty),
            (vec![penalty_matter], OutcomeKind::Demolition, Penalty),
            (vec![penalty_matter], OutcomeKind::Education, Other),
            (vec![penalty_matter], OutcomeKind::OrderToCorrect, Other),
            (vec![penalty_matter], OutcomeKind::NoViolation, Other),
            (vec![], OutcomeKind::Confiscation, Penalty),
            (vec![], OutcomeKind::Education, Other),
        ] {
            assert_eq!(class_of(&matters, outcome), class, "{outcome:?}");
        }
        if let Some(other) = other_matter {
            assert_eq!(class_of(&[other], OutcomeKind::Fine), Other);
            assert_eq!(
                class_of(&[other, penalty_matter], OutcomeKind::Fine),
                Penalty
            );
        }
    }

    #[test]
    fn overdue_means_pending_past_the_end_of_the_last_day() {
        let due = at("2026-03-03T00:00:00+08:00");
        let before = at("2026-03-02T23:59:59+08:00");
        assert!(!is_overdue(DisclosureStatus::Pending, due, before));
        assert!(is_overdue(DisclosureStatus::Pending, due, due));
        assert!(!is_overdue(DisclosureStatus::Published, due, due));
        assert!(!is_overdue(DisclosureStatus::Withheld, due, due));
    }

    #[test]
    fn timeliness_counts_publication_against_the_end_of_the_last_day() {
        use DisclosureStatus::{Pending, Published, Withdrawn, Withheld};
        use Timeliness as T;
        let due = at("2026-03-13T00:00:00+08:00");
        let before = at("2026-03-12T23:59:59+08:00");
        let after = at("2026-03-16T09:00:00+08:00");
        for (status, published, withdrawn, now, expected) in [
            (
                Published,
                Some(before),
                None,
                after,
                Some(T::PublishedOnTime),
            ),
            (Published, Some(due), None, after, Some(T::PublishedLate)),
            // Published, then withdrawn after a change: its publication still counts.
            (
                Withdrawn,
                Some(before),
                Some(after),
                after,
                Some(T::PublishedOnTime),
            ),
            (Pending, None, None, before, Some(T::Pending)),
            (Pending, None, None, due, Some(T::Overdue)),
            // Revoked before it fell due: nothing was to be published.
            (Withdrawn, None, Some(before), after, None),
            // Revoked only after it fell due unpublished: it was missed.
            (Withdrawn, None, Some(after), after, Some(T::Overdue)),
            (Withheld, None, None, after, None),
        ] {
            assert_eq!(
                timeliness(status, due, published, withdrawn, now),
                expected,
                "{status:?} published {published:?} withdrawn {withdrawn:?}"
            );
        }
    }

    #[test]
    fn disclosures_expire_after_the_retention() {
        let published = at("2026-03-02T10:00:00+08:00");
        assert_eq!(expires_at(published, 1826), at("2031-03-02T10:00:00+08:00"));
        assert!(!is_expired(
            published,
            1826,
            at("2031-03-01T10:00:00+08:00")
        ));
        assert!(is_expired(published, 1826, at("2031-03-02T10:00:00+08:00")));
        assert!(is_expired(published, 0, published));
    }

    #[test]
    fn a_minors_decision_is_withheld() {
        let mut p = Party {
            kind: PartyKind::Person,
            name: "张小明".into(),
            id_number: String::new(),
            phone: String::new(),
            address: String::new(),
            bank_account: String::new(),
            minor: false,
        };
        assert_eq!(withheld_reason(&p), None);
        p.minor = true;
        assert!(withheld_reason(&p).unwrap().contains("未成年人"));
    }

    #[test]
    fn only_the_deciding_body_publishes() {
        use crate::auth::Role;
        use crate::ids::OfficerId;
        let town = TownCode::parse("330782101").unwrap();
        let other_town = TownCode::parse("330782102").unwrap();
        let forestry = DepartmentCode::parse("forestry").unwrap();
        let officer = OfficerId::parse("x").unwrap();
        let captain = Actor::new(
            officer.clone(),
            Role::BrigadeCaptain,
            Some(town.clone()),
            None,
        )
        .unwrap();
        let brigade_officer = Actor::new(
            officer.clone(),
            Role::BrigadeOfficer,
            Some(town.clone()),
            None,
        )
        .unwrap();
        let dispatcher = Actor::new(
            officer,
            Role::CountyDispatcher,
            None,
            Some(forestry.clone()),
        )
        .unwrap();
        let publish = Action::PublishDisclosure;
        let town_body =
            |t: &TownCode, a: &Actor| permits_disclosure(a, publish, t, BodyKind::Town, None);
        let dept_body = |a: &Actor| {
            permits_disclosure(a, publish, &town, BodyKind::Department, Some(&forestry))
        };
        assert!(town_body(&town, &captain).is_ok());
        assert!(town_body(&other_town, &captain).is_err());
        assert!(town_body(&town, &brigade_officer).is_err());
        assert!(town_body(&town, &dispatcher).is_err());
        assert!(dept_body(&dispatcher).is_ok());
        let denied = dept_body(&captain).unwrap_err();
        assert!(denied.reason.contains("谁执法谁公示"), "{}", denied.reason);
    }

    #[test]
    fn publishing_and_withdrawing_follow_the_status() {
        use DisclosureAction as A;
        use DisclosureStatus as S;
        assert_eq!(S::Pending.next(A::Publish).unwrap(), S::Published);
        assert_eq!(S::Published.next(A::Withdraw).unwrap(), S::Withdrawn);
        assert_eq!(S::Pending.next(A::Withdraw).unwrap(), S::Withdrawn);
        assert!(S::Published.next(A::Publish).is_err());
        assert!(S::Withheld.next(A::Publish).is_err());
        assert!(S::Withheld.next(A::Withdraw).is_err());
        assert!(S::Withdrawn.next(A::Withdraw).is_err());
    }
}
