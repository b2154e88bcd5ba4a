//! The dashboard's figures (统计): nearest-rank percentiles of response times, on-time rates
//! against working-day targets, the ranking of departments with a minimum number of cases, and
//! who may read which figures. Pure: the read model passes rows and instants in.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::auth::{self, Action, Actor, Denied, Resource, Role};
use crate::calendar::Deadline;
use crate::ids::TownCode;
use crate::time_limits::ObligationKind;

/// The `p`-th percentile of `values` by the nearest-rank method: sorted ascending, the value at
/// rank `⌈p/100 · n⌉` (1-based), and the smallest value for `p = 0`. `None` for no values or a
/// `p` above 100. The result is always one of the values, never an interpolation, so a median
/// of response times is a response time someone actually had.
pub fn nearest_rank(values: &[i64], p: u32) -> Option<i64> {
    if values.is_empty() || p > 100 {
        return None;
    }
    let mut sorted = values.to_vec();
    sorted.sort_unstable();
    let n = sorted.len() as u64;
    // ⌈p·n/100⌉ in integers; rank 0 (p = 0) is the first value.
    let rank = (u64::from(p) * n).div_ceil(100).max(1);
    Some(sorted[(rank - 1) as usize])
}

/// Median and 90th percentile (nearest rank) of a set of durations in seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Spread {
    pub count: u32,
    pub median_secs: Option<i64>,
    pub p90_secs: Option<i64>,
}

impl Spread {
    pub fn of(durations_secs: &[i64]) -> Spread {
        Spread {
            count: durations_secs.len() as u32,
            median_secs: nearest_rank(durations_secs, 50),
            p90_secs: nearest_rank(durations_secs, 90),
        }
    }
}

crate::state::named_enum! {
    /// What a timed piece of a department's work is: a referral it was sent (out of scope), or
    /// its task in a joint case the meeting approved.
    pub enum WorkKind: "work item kind" {
        Referral => "referral",
        Task => "task",
    }
}

/// The steps of a referral whose time is measured from its dispatch (派发), each against the
/// deadline the time-limits policy (`crate::time_limits`) gives its obligation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Step {
    /// 签收
    SignFor,
    /// 受理 (accepted as the department's own). A return (退回) does not answer it: the step
    /// counts as missed unless the joint meeting's chair upheld the return ([`accept_answer`]).
    Accept,
    /// 办结
    Conclude,
}

impl Step {
    pub const ALL: [Step; 3] = [Step::SignFor, Step::Accept, Step::Conclude];

    /// The obligation of the time-limits policy that times this step.
    pub fn obligation(self) -> ObligationKind {
        match self {
            Step::SignFor => ObligationKind::SignFor,
            Step::Accept => ObligationKind::AcceptOrReturn,
            Step::Conclude => ObligationKind::Conclude,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Step::SignFor => "sign_for",
            Step::Accept => "accept",
            Step::Conclude => "conclude",
        }
    }
}

/// How a referral's acceptance stands, for the on-time figures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AcceptAnswer {
    /// Accepted at this instant: on time or late by its deadline.
    Accepted(DateTime<Utc>),
    /// Returned, and the chair named another department: the return was right, and nothing
    /// is owed (not timed).
    ReturnUpheld,
    /// Returned, and the chair has not upheld it (not yet ruled, or sent it back to the same
    /// department): a return is never an on-time answer, so the step counts as missed.
    ReturnNotUpheld,
    /// Neither yet: open, missed once overdue.
    Open,
}

/// The acceptance of a referral from its recorded instants. An acceptance before any return
/// is the answer; a return is an answer on time only in the sense that the chair upheld it, and
/// then it is not counted at all.
pub fn accept_answer(
    accepted_at: Option<DateTime<Utc>>,
    returned_at: Option<DateTime<Utc>>,
    return_upheld: bool,
) -> AcceptAnswer {
    match (accepted_at, returned_at) {
        (Some(a), Some(r)) if a <= r => AcceptAnswer::Accepted(a),
        (_, Some(_)) if return_upheld => AcceptAnswer::ReturnUpheld,
        (_, Some(_)) => AcceptAnswer::ReturnNotUpheld,
        (Some(a), None) => AcceptAnswer::Accepted(a),
        (None, None) => AcceptAnswer::Open,
    }
}

/// Whether a step done at `done_at` met its deadline (done by 24:00 of the last day).
pub fn on_time(done_at: DateTime<Utc>, deadline: &Deadline) -> bool {
    done_at < deadline.due
}

/// Whether an open step is overdue at `now`.
pub fn overdue(now: DateTime<Utc>, deadline: &Deadline) -> bool {
    now >= deadline.due
}

/// A share: how many of how many.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Rate {
    pub hits: u32,
    pub total: u32,
}

impl Rate {
    pub fn add(&mut self, hit: bool) {
        self.total += 1;
        if hit {
            self.hits += 1;
        }
    }

    /// The share in tenths of a percent (987 for 98.7 %), rounded half up; `None` without cases.
    pub fn permille(&self) -> Option<u32> {
        (self.total > 0).then(|| {
            ((u64::from(self.hits) * 2000 + u64::from(self.total)) / (2 * u64::from(self.total)))
                as u32
        })
    }
}

/// One department's figures on one path, as the ranking reads them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Contender {
    pub department: String,
    /// Cases (referrals or joint-case tasks) the department received in the period.
    pub cases: u32,
    /// Steps done on time out of steps done or overdue.
    pub on_time: Rate,
    /// Median seconds from dispatch to conclusion, if any concluded.
    pub median_conclude_secs: Option<i64>,
    /// Referrals it returned.
    pub returned: u32,
}

impl Contender {
    /// Its returns out of its cases.
    pub fn return_rate(&self) -> Rate {
        Rate {
            hits: self.returned.min(self.cases),
            total: self.cases,
        }
    }
}

/// The ranking of one path: departments with at least the minimum number of cases, best first,
/// and the others, by name, left out so one fast case cannot top the list.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Ranking {
    pub ranked: Vec<Contender>,
    pub too_few: Vec<String>,
    /// Enough cases, but no step timed yet: no data, not 0 %, and not ranked.
    pub no_data: Vec<String>,
}

/// Ranks departments: the higher on-time rate first (a return not upheld counts there as a
/// missed acceptance, never as an answer on time); then the lower return rate; then the
/// shorter median time to conclude (none concluded ranks last); then more cases; then the
/// department code, so equal figures always come out in the same order. A department with
/// fewer than `min_cases` is not ranked, nor one with no step timed yet (no data).
pub fn rank(contenders: Vec<Contender>, min_cases: u32) -> Ranking {
    let (enough, mut rest): (Vec<_>, Vec<_>) = contenders
        .into_iter()
        .partition(|c| c.cases >= min_cases.max(1));
    let (mut ranked, mut no_data): (Vec<_>, Vec<_>) = enough
        .into_iter()
        .partition(|c| c.on_time.permille().is_some());
    ranked.sort_by(|a, b| {
        let rate = |c: &Contender| c.on_time.permille().unwrap_or(0);
        let returns = |c: &Contender| c.return_rate().permille().unwrap_or(0);
        rate(b)
            .cmp(&rate(a))
            .then_with(|| returns(a).cmp(&returns(b)))
            .then_with(|| {
                let m = |c: &Contender| c.median_conclude_secs.unwrap_or(i64::MAX);
                m(a).cmp(&m(b))
            })
            .then_with(|| b.cases.cmp(&a.cases))
            .then_with(|| a.department.cmp(&b.department))
    });
    rest.sort_by(|a, b| a.department.cmp(&b.department));
    no_data.sort_by(|a, b| a.department.cmp(&b.department));
    Ranking {
        ranked,
        too_few: rest.into_iter().map(|c| c.department).collect(),
        no_data: no_data.into_iter().map(|c| c.department).collect(),
    }
}

/// Which towns a reader of the dashboard sees: `Some(town)` for one town, `None` for the whole
/// county. The joint meeting's chair reads the own town's figures, every department included
/// (`auth` grants `read_dashboard` to the chair in the own town only); a viewer without a town
/// or department (the county leadership) reads the whole county or any one town. A request
/// for another town, or for the county as a whole by a town's role, is refused.
pub fn dashboard_scope(actor: &Actor, town: Option<&TownCode>) -> Result<Option<TownCode>, Denied> {
    match (town, &actor.town) {
        (Some(t), _) => {
            auth::permits(
                actor,
                Action::ReadDashboard,
                &Resource {
                    town: t.clone(),
                    department: None,
                },
            )?;
            Ok(Some(t.clone()))
        }
        // A town's reader without a town filter reads the own town.
        (None, Some(own)) => dashboard_scope(actor, Some(own)),
        (None, None) if actor.role == Role::Viewer && actor.department.is_none() => Ok(None),
        (None, None) => Err(Denied {
            reason: format!(
                "a {} may not {} for the whole county",
                actor.role,
                Action::ReadDashboard
            ),
        }),
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;
    use crate::ids::OfficerId;

    #[test]
    fn nearest_rank_takes_the_value_at_the_ceiling_rank() {
        let check = |values: &[i64], p: u32, expected: Option<i64>| {
            assert_eq!(nearest_rank(values, p), expected, "{values:?} p{p}");
        };
        // The textbook example: 15, 20, 35, 40, 50.
        let v = [50, 15, 40, 20, 35];
        check(&v, 0, Some(15));
        check(&v, 5, Some(15));
        check(&v, 30, Some(20));
        check(&v, 40, Some(20));
        check(&v, 50, Some(35));
        check(&v, 90, Some(50));
        check(&v, 100, Some(50));
        // Even count: the median is the lower middle value (rank ⌈0.5·4⌉ = 2), not an average.
        check(&[1, 2, 3, 4], 50, Some(2));
        check(&[1, 2, 3, 4], 90, Some(4));
        // Ten values: p90 is rank 9.
        check(&[10, 20, 30, 40, 50, 60, 70, 80, 90, 100], 90, Some(90));
        check(&[7], 50, Some(7));
        check(&[7], 90, Some(7));
        check(&[], 50, None);
        check(&[1], 101, None);
    }

    #[test]
    fn a_spread_is_median_and_p90() {
        assert_eq!(
            Spread::of(&[3600, 7200, 1800]),
            Spread {
                count: 3,
                median_secs: Some(3600),
                p90_secs: Some(7200)
            }
        );
        assert_eq!(Spread::of(&[]), Spread::default());
    }

    fn at(y: i32, m: u32, d: u32, h: u32) -> DateTime<Utc> {
        // Hours in China time.
        chrono::FixedOffset::east_opt(8 * 3600)
            .unwrap()
            .with_ymd_and_hms(y, m, d, h, 0, 0)
            .unwrap()
            .with_timezone(&Utc)
    }

    #[test]
    fn steps_are_timed_from_dispatch_against_the_policy() {
        use crate::calendar::Calendar;
        use crate::time_limits::TimeLimits;
        let cal = Calendar::shipped();
        let policy = TimeLimits::shipped();
        let limits = policy.for_case(None, &["LY-001".to_owned()]);
        // Dispatched Friday 2026-03-06 10:00: 1 working day to sign for ends Monday 24:00.
        let dispatched = at(2026, 3, 6, 10);
        let sign = policy.deadline(&cal, Step::SignFor.obligation(), &limits, dispatched);
        assert_eq!(sign.last_day.to_string(), "2026-03-09");
        assert!(on_time(at(2026, 3, 9, 23), &sign));
        assert!(!on_time(at(2026, 3, 10, 0), &sign));
        assert!(overdue(at(2026, 3, 10, 0), &sign));
        assert!(!overdue(at(2026, 3, 9, 9), &sign));
        let accept = policy.deadline(&cal, Step::Accept.obligation(), &limits, dispatched);
        assert_eq!(accept.last_day.to_string(), "2026-03-10");
        // Across the 2026 Labour Day holiday (1–5 May; Saturday 9 May worked): dispatched
        // Thursday 30 April, the one working day to sign for is Wednesday 6 May.
        let sign = policy.deadline(
            &cal,
            Step::SignFor.obligation(),
            &limits,
            at(2026, 4, 30, 16),
        );
        assert_eq!(sign.last_day.to_string(), "2026-05-06");
    }

    #[test]
    fn rates_are_in_tenths_of_a_percent() {
        let mut r = Rate::default();
        assert_eq!(r.permille(), None);
        r.add(true);
        r.add(true);
        r.add(false);
        assert_eq!(r, Rate { hits: 2, total: 3 });
        assert_eq!(r.permille(), Some(667));
        assert_eq!(Rate { hits: 1, total: 8 }.permille(), Some(125));
        assert_eq!(Rate { hits: 0, total: 4 }.permille(), Some(0));
    }

    fn c(dept: &str, cases: u32, hits: u32, total: u32, median: Option<i64>) -> Contender {
        Contender {
            department: dept.into(),
            cases,
            on_time: Rate { hits, total },
            median_conclude_secs: median,
            returned: 0,
        }
    }

    #[test]
    fn a_return_is_never_an_answer_on_time() {
        let t = |h: i64| DateTime::<Utc>::from_timestamp(h * 3600, 0).unwrap();
        assert_eq!(
            accept_answer(Some(t(2)), None, false),
            AcceptAnswer::Accepted(t(2))
        );
        assert_eq!(
            accept_answer(None, Some(t(1)), false),
            AcceptAnswer::ReturnNotUpheld
        );
        assert_eq!(
            accept_answer(None, Some(t(1)), true),
            AcceptAnswer::ReturnUpheld
        );
        // Accepted, then returned: the acceptance answered.
        assert_eq!(
            accept_answer(Some(t(1)), Some(t(3)), false),
            AcceptAnswer::Accepted(t(1))
        );
        assert_eq!(accept_answer(None, None, false), AcceptAnswer::Open);
    }

    #[test]
    fn a_department_that_bounces_every_referral_ranks_below_one_that_concludes_late() {
        // Bouncer: 3 referrals signed for at once (3 hits) and returned at once (3 acceptances
        // missed: no return upheld); its conclusions are owed by no one until the chair rules.
        // Late: 3 signed for and accepted on time (6 hits), concluded late (3 misses).
        let bouncer = Contender {
            returned: 3,
            ..c("bouncer", 3, 3, 6, None)
        };
        let late = c("late", 3, 6, 9, Some(20 * 86_400));
        let r = rank(vec![bouncer, late], 3);
        let order: Vec<&str> = r.ranked.iter().map(|c| c.department.as_str()).collect();
        assert_eq!(order, ["late", "bouncer"]);
        assert_eq!(r.ranked[1].return_rate().permille(), Some(1000));
        // At an equal on-time rate, the one that returns less ranks first.
        let r = rank(
            vec![
                Contender {
                    returned: 2,
                    ..c("a", 4, 3, 4, Some(5))
                },
                Contender {
                    returned: 1,
                    ..c("b", 4, 3, 4, Some(5))
                },
            ],
            3,
        );
        let order: Vec<&str> = r.ranked.iter().map(|c| c.department.as_str()).collect();
        assert_eq!(order, ["b", "a"]);
    }

    #[test]
    fn a_department_with_nothing_timed_is_no_data_not_zero() {
        let r = rank(vec![c("quiet", 3, 0, 0, None), c("slow", 3, 0, 3, None)], 3);
        let order: Vec<&str> = r.ranked.iter().map(|c| c.department.as_str()).collect();
        assert_eq!(order, ["slow"]);
        assert_eq!(r.no_data, ["quiet"]);
        assert!(r.too_few.is_empty());
    }

    #[test]
    fn one_fast_case_does_not_top_the_ranking() {
        let r = rank(
            vec![
                c("forestry", 1, 3, 3, Some(60)),
                c("natural_resources", 4, 10, 12, Some(3600)),
                c("urban_management", 5, 10, 12, Some(1800)),
                c("transport", 3, 12, 12, None),
                c("water_resources", 2, 0, 6, None),
            ],
            3,
        );
        let order: Vec<&str> = r.ranked.iter().map(|c| c.department.as_str()).collect();
        // transport: 100 %; then the two at 83.3 %, the faster median first.
        assert_eq!(
            order,
            ["transport", "urban_management", "natural_resources"]
        );
        assert_eq!(r.too_few, ["forestry", "water_resources"]);
        // Equal figures: more cases first, then by code.
        let r = rank(
            vec![
                c("b", 3, 1, 1, Some(5)),
                c("a", 3, 1, 1, Some(5)),
                c("c", 4, 1, 1, Some(5)),
            ],
            0,
        );
        let order: Vec<&str> = r.ranked.iter().map(|c| c.department.as_str()).collect();
        assert_eq!(order, ["c", "a", "b"]);
    }

    #[test]
    fn the_chair_reads_the_own_town_and_the_county_leadership_every_town() {
        let t1 = TownCode::parse("330782101").unwrap();
        let t2 = TownCode::parse("330782102").unwrap();
        let who = |role, town: Option<&TownCode>| {
            Actor::new(OfficerId::parse("zhao").unwrap(), role, town.cloned(), None).unwrap()
        };
        let chair = who(Role::BoardChair, Some(&t1));
        assert_eq!(dashboard_scope(&chair, None), Ok(Some(t1.clone())));
        assert_eq!(dashboard_scope(&chair, Some(&t1)), Ok(Some(t1.clone())));
        assert!(dashboard_scope(&chair, Some(&t2)).is_err());
        let county = who(Role::Viewer, None);
        assert_eq!(dashboard_scope(&county, None), Ok(None));
        assert_eq!(dashboard_scope(&county, Some(&t2)), Ok(Some(t2.clone())));
        let officer = who(Role::BrigadeOfficer, Some(&t1));
        let denied = dashboard_scope(&officer, None).unwrap_err();
        assert!(denied.reason.contains("read_dashboard"), "{denied}");
    }
}
