//! Patrols (巡查) and traffic-persuasion turnouts (交通劝导): the brigade's work that is not a
//! case, recorded so that the year's figures can be reported. What a valid record is.

use chrono::{DateTime, Duration, Utc};

use crate::ids::OfficerId;
use crate::limits::{Limits, Validator};

crate::state::named_enum! {
    /// What a persuasion turnout was against.
    pub enum PersuasionKind: "persuasion kind" {
        NoHelmet => "no_helmet",
        Overloading => "overloading",
        WrongWay => "wrong_way",
        IllegalParking => "illegal_parking",
        DrunkDrivingRisk => "drunk_driving_risk",
        Other => "other",
    }
}

/// How far in the future a record's time may lie, for devices whose clocks are a little off.
const FUTURE_SLACK_MINUTES: i64 = 10;
/// The longest patrol one record may cover.
const MAX_PATROL_HOURS: i64 = 24;
/// The most people one turnout may count.
const MAX_PERSONS: u32 = 10_000;

/// Checks the officers of a record: at least one, each a valid id, none twice.
pub fn check_officers(v: &mut Validator, officers: &[String], limits: &Limits) -> Vec<OfficerId> {
    if officers.is_empty() {
        v.violation("officers", "name at least one officer");
    }
    v.max_items("officers", officers.len(), limits.officers_per_action);
    let mut out: Vec<OfficerId> = Vec::new();
    for (i, o) in officers.iter().enumerate() {
        if let Some(id) = v.check(format!("officers[{i}]"), OfficerId::parse(o)) {
            if out.contains(&id) {
                v.violation(format!("officers[{i}]"), "named twice");
            } else {
                out.push(id);
            }
        }
    }
    out
}

/// Checks a patrol's times: both given, the end not before the start, at most a day long, and
/// not in the future.
pub fn check_patrol_times(
    v: &mut Validator,
    started_at: Option<DateTime<Utc>>,
    ended_at: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) {
    let latest = now + Duration::minutes(FUTURE_SLACK_MINUTES);
    match (started_at, ended_at) {
        (None, _) => v.violation("started_at", "is required"),
        (_, None) => v.violation("ended_at", "is required"),
        (Some(s), Some(e)) => {
            if e < s {
                v.violation("ended_at", "is before started_at");
            } else if e - s > Duration::hours(MAX_PATROL_HOURS) {
                v.violation("ended_at", "a patrol record covers at most 24 hours");
            }
            if e > latest {
                v.violation("ended_at", "lies in the future");
            }
        }
    }
}

/// Checks a persuasion turnout's time and count.
pub fn check_persuasion(
    v: &mut Validator,
    at: Option<DateTime<Utc>>,
    persons: u32,
    now: DateTime<Utc>,
) {
    match at {
        None => v.violation("at", "is required"),
        Some(t) if t > now + Duration::minutes(FUTURE_SLACK_MINUTES) => {
            v.violation("at", "lies in the future")
        }
        Some(_) => {}
    }
    if persons == 0 {
        v.violation("persons", "count at least one person persuaded");
    } else if persons > MAX_PERSONS {
        v.violation("persons", format!("at most {MAX_PERSONS}"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn fields(v: Validator) -> Vec<String> {
        v.finish()
            .err()
            .unwrap_or_default()
            .into_iter()
            .map(|f| f.field)
            .collect()
    }

    #[test]
    fn a_patrol_needs_officers_and_sensible_times() {
        let now = at("2026-03-02T12:00:00+08:00");
        let l = Limits::default();
        let mut v = Validator::new();
        check_officers(&mut v, &[], &l);
        check_patrol_times(&mut v, None, Some(now), now);
        assert_eq!(fields(v), vec!["officers", "started_at"]);
        let mut v = Validator::new();
        check_officers(&mut v, &["wang.wu".into(), "wang.wu".into()], &l);
        check_patrol_times(
            &mut v,
            Some(at("2026-03-02T10:00:00+08:00")),
            Some(at("2026-03-02T09:00:00+08:00")),
            now,
        );
        assert_eq!(fields(v), vec!["officers[1]", "ended_at"]);
        let mut v = Validator::new();
        check_patrol_times(
            &mut v,
            Some(at("2026-03-02T08:00:00+08:00")),
            Some(at("2026-03-02T11:00:00+08:00")),
            now,
        );
        assert!(v.finish().is_ok());
    }

    #[test]
    fn a_turnout_counts_people_and_is_not_in_the_future() {
        let now = at("2026-03-02T12:00:00+08:00");
        let mut v = Validator::new();
        check_persuasion(&mut v, Some(at("2026-03-03T12:00:00+08:00")), 0, now);
        assert_eq!(fields(v), vec!["at", "persons"]);
        assert_eq!(
            PersuasionKind::parse("no_helmet"),
            Ok(PersuasionKind::NoHelmet)
        );
        assert!(PersuasionKind::parse("speeding_fine").is_err());
    }
}
