//! The working-day calendar (工作日): public holidays, make-up working days, and deadlines counted in them.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use chrono::{DateTime, Datelike, Days, FixedOffset, NaiveDate, NaiveTime, TimeZone, Utc, Weekday};
use serde::{Deserialize, Serialize};

/// China's local time. Asia/Shanghai has been a fixed UTC+8 without daylight saving since
/// 1991, so a fixed offset is exact for every date the hub deals with and spares us chrono-tz.
fn shanghai() -> FixedOffset {
    FixedOffset::east_opt(8 * 3600).expect("UTC+8 is a valid offset")
}

/// Periods longer than this many days (about a century) are cut to it: no legal period is that
/// long, and the cap keeps the arithmetic total (no overflow, no endless loop) for any `u32`.
const MAX_PERIOD_DAYS: u32 = 36_600;

/// A calendar file that does not say what it must; names the file and the field at fault.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}: field \"{field}\": {message}")]
pub struct CalendarError {
    pub file: String,
    pub field: String,
    pub message: String,
}

impl CalendarError {
    fn new(file: &str, field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            file: file.to_owned(),
            field: field.into(),
            message: message.into(),
        }
    }
}

/// One public holiday as announced, both ends included.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Holiday {
    pub name: String,
    pub from: NaiveDate,
    pub to: NaiveDate,
}

impl Holiday {
    pub fn contains(&self, d: NaiveDate) -> bool {
        self.from <= d && d <= self.to
    }
}

/// One year's schedule as the State Council published it, validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct YearCalendar {
    file: String,
    year: i32,
    source: String,
    holidays: Vec<Holiday>,
    makeup_working_days: BTreeSet<NaiveDate>,
    holiday_days: BTreeSet<NaiveDate>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawYear {
    year: i64,
    source: String,
    #[serde(default)]
    holidays: Vec<RawHoliday>,
    #[serde(default)]
    makeup_working_days: Vec<toml::value::Datetime>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawHoliday {
    name: String,
    from: toml::value::Datetime,
    to: toml::value::Datetime,
}

/// TOML has its own date type; only a bare local date (`2026-02-15`) is meaningful here,
/// since a holiday is a whole local day, not an instant.
fn plain_date(
    file: &str,
    field: &str,
    v: &toml::value::Datetime,
) -> Result<NaiveDate, CalendarError> {
    match (v.date, v.time, v.offset) {
        (Some(d), None, None) => {
            NaiveDate::from_ymd_opt(i32::from(d.year), u32::from(d.month), u32::from(d.day))
                .ok_or_else(|| CalendarError::new(file, field, format!("{v} is not a valid date")))
        }
        _ => Err(CalendarError::new(
            file,
            field,
            format!("{v} is not a plain date (write it as YYYY-MM-DD, without time or offset)"),
        )),
    }
}

impl YearCalendar {
    /// Parses and checks one year's file; `file` is only used to name it in errors.
    pub fn from_toml_str(src: &str, file: &str) -> Result<YearCalendar, CalendarError> {
        let raw: RawYear = toml::from_str(src).map_err(|e| {
            let line = e
                .span()
                .map(|s| src[..s.start.min(src.len())].matches('\n').count() + 1);
            let msg = e.message().trim().to_owned();
            match line {
                Some(l) => CalendarError::new(file, "(toml)", format!("line {l}: {msg}")),
                None => CalendarError::new(file, "(toml)", msg),
            }
        })?;

        let year = i32::try_from(raw.year)
            .ok()
            .filter(|y| (1000..=9999).contains(y))
            .ok_or_else(|| {
                CalendarError::new(
                    file,
                    "year",
                    format!("{} is not a year between 1000 and 9999", raw.year),
                )
            })?;
        if raw.source.trim().is_empty() {
            return Err(CalendarError::new(
                file,
                "source",
                "must name the notice the dates come from",
            ));
        }
        let in_year = |field: &str, d: NaiveDate| {
            if d.year() == year {
                Ok(d)
            } else {
                Err(CalendarError::new(
                    file,
                    field,
                    format!("{d} is not in {year}"),
                ))
            }
        };

        let mut holidays: Vec<Holiday> = Vec::with_capacity(raw.holidays.len());
        let mut holiday_days = BTreeSet::new();
        for (i, h) in raw.holidays.iter().enumerate() {
            let name = h.name.trim();
            if name.is_empty() {
                return Err(CalendarError::new(
                    file,
                    format!("holidays[{i}].name"),
                    "must not be empty",
                ));
            }
            let from_field = format!("holidays[{i}].from");
            let to_field = format!("holidays[{i}].to");
            let from = in_year(&from_field, plain_date(file, &from_field, &h.from)?)?;
            let to = in_year(&to_field, plain_date(file, &to_field, &h.to)?)?;
            if to < from {
                return Err(CalendarError::new(
                    file,
                    format!("holidays[{i}]"),
                    format!("ends on {to}, before it starts on {from}"),
                ));
            }
            if let Some(other) = holidays.iter().find(|o| o.from <= to && from <= o.to) {
                return Err(CalendarError::new(
                    file,
                    format!("holidays[{i}]"),
                    format!(
                        "{from} to {to} overlaps {} ({} to {})",
                        other.name, other.from, other.to
                    ),
                ));
            }
            holiday_days.extend(from.iter_days().take_while(|d| *d <= to));
            holidays.push(Holiday {
                name: name.to_owned(),
                from,
                to,
            });
        }

        let mut makeup_working_days = BTreeSet::new();
        for (i, v) in raw.makeup_working_days.iter().enumerate() {
            let field = format!("makeup_working_days[{i}]");
            let d = in_year(&field, plain_date(file, &field, v)?)?;
            if !matches!(d.weekday(), Weekday::Sat | Weekday::Sun) {
                return Err(CalendarError::new(
                    file,
                    field,
                    format!("{d} is not a Saturday or Sunday"),
                ));
            }
            if let Some(h) = holidays.iter().find(|h| h.contains(d)) {
                return Err(CalendarError::new(
                    file,
                    field,
                    format!("{d} lies within the holiday {}", h.name),
                ));
            }
            if !makeup_working_days.insert(d) {
                return Err(CalendarError::new(
                    file,
                    field,
                    format!("{d} is listed twice"),
                ));
            }
        }

        Ok(YearCalendar {
            file: file.to_owned(),
            year,
            source: raw.source.trim().to_owned(),
            holidays,
            makeup_working_days,
            holiday_days,
        })
    }

    pub fn year(&self) -> i32 {
        self.year
    }
    /// The file it was read from, as given to `from_toml_str`.
    pub fn file(&self) -> &str {
        &self.file
    }
    /// The notice the dates come from.
    pub fn source(&self) -> &str {
        &self.source
    }
    pub fn holidays(&self) -> &[Holiday] {
        &self.holidays
    }
    pub fn makeup_working_days(&self) -> impl Iterator<Item = NaiveDate> + '_ {
        self.makeup_working_days.iter().copied()
    }

    /// Whether two files give the same days off and make-up days (whatever their names).
    pub fn same_schedule(&self, other: &YearCalendar) -> bool {
        self.year == other.year
            && self.holiday_days == other.holiday_days
            && self.makeup_working_days == other.makeup_working_days
    }

    fn is_working(&self, d: NaiveDate) -> bool {
        if self.makeup_working_days.contains(&d) {
            true
        } else if self.holiday_days.contains(&d) {
            false
        } else {
            !is_weekend(d)
        }
    }
}

fn is_weekend(d: NaiveDate) -> bool {
    matches!(d.weekday(), Weekday::Sat | Weekday::Sun)
}

/// How a day counts. The provisional kinds are for years whose schedule is not loaded yet
/// (published each November for the next year): judged by weekends alone, to be recomputed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DayKind {
    Working,
    Rest,
    ProvisionalWorking,
    ProvisionalRest,
}

impl DayKind {
    pub fn is_working(self) -> bool {
        matches!(self, DayKind::Working | DayKind::ProvisionalWorking)
    }
    pub fn is_provisional(self) -> bool {
        matches!(self, DayKind::ProvisionalWorking | DayKind::ProvisionalRest)
    }
}

/// The end of a period: 24:00 of `last_day` in China.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Deadline {
    /// 24:00 of `last_day` at UTC+8, i.e. 00:00 of the following day there, in UTC.
    pub due: DateTime<Utc>,
    pub last_day: NaiveDate,
    /// Some day that decided the deadline lies in a year whose schedule is not loaded, so it was
    /// judged by weekends alone; recompute once that year's calendar is added.
    pub provisional: bool,
}

/// What laying an operator's year over the shipped calendar did ([`Calendar::overlay`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Overlaid {
    /// A year not shipped, added from `file`.
    Added { year: i32, file: String },
    /// A shipped year replaced by the operator's `file`, whose schedule differs.
    Replaced {
        year: i32,
        file: String,
        shipped: String,
    },
    /// The operator's `file` has the shipped schedule of the year.
    SameAsShipped { year: i32, file: String },
}

/// The working-day calendar over all loaded years.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Calendar {
    years: BTreeMap<i32, YearCalendar>,
}

const SHIPPED: &[(&str, &str)] = &[
    (
        "2025.toml",
        include_str!("../../../deploy/data/calendar/2025.toml"),
    ),
    (
        "2026.toml",
        include_str!("../../../deploy/data/calendar/2026.toml"),
    ),
];

impl Calendar {
    /// A calendar of the given years; the same year twice is refused, since which of two
    /// schedules is right cannot be guessed.
    pub fn new(years: Vec<YearCalendar>) -> Result<Calendar, CalendarError> {
        let mut cal = Calendar::default();
        for y in years {
            cal.add_year(y)?;
        }
        Ok(cal)
    }

    /// The years shipped in `deploy/data/calendar/`.
    pub fn shipped() -> Calendar {
        let years = SHIPPED
            .iter()
            .map(|(file, src)| {
                YearCalendar::from_toml_str(src, file)
                    .expect("the shipped calendar files are valid")
            })
            .collect();
        Calendar::new(years).expect("the shipped calendar files are for distinct years")
    }

    /// Adds the schedule of a year not yet loaded.
    pub fn add_year(&mut self, y: YearCalendar) -> Result<(), CalendarError> {
        if let Some(existing) = self.years.get(&y.year) {
            return Err(CalendarError::new(
                &y.file,
                "year",
                format!("{} is already loaded from {}", y.year, existing.file),
            ));
        }
        self.years.insert(y.year, y);
        Ok(())
    }

    /// Lays the operator's years over this calendar (the shipped one), by the one rule for
    /// which file wins: **the operator's file wins** over a shipped year (it is taken to be a
    /// correction), and says for each year what happened, for the service to log. Two operator
    /// files for one year are refused (which is right cannot be guessed).
    pub fn overlay(&mut self, operator: Vec<YearCalendar>) -> Result<Vec<Overlaid>, CalendarError> {
        let operator = Calendar::new(operator)?;
        let mut said = Vec::new();
        for (year, y) in operator.years {
            let file = y.file.clone();
            said.push(match self.years.insert(year, y) {
                None => Overlaid::Added { year, file },
                Some(shipped) if shipped.same_schedule(&self.years[&year]) => {
                    Overlaid::SameAsShipped { year, file }
                }
                Some(shipped) => Overlaid::Replaced {
                    year,
                    file,
                    shipped: shipped.file,
                },
            });
        }
        Ok(said)
    }

    /// The loaded years, ascending.
    pub fn loaded_years(&self) -> Vec<i32> {
        self.years.keys().copied().collect()
    }

    pub fn is_working_day(&self, d: NaiveDate) -> DayKind {
        match self.years.get(&d.year()) {
            Some(y) if y.is_working(d) => DayKind::Working,
            Some(_) => DayKind::Rest,
            None if is_weekend(d) => DayKind::ProvisionalRest,
            None => DayKind::ProvisionalWorking,
        }
    }

    /// The date in China of an instant: periods are counted in local days, so an event at
    /// 23:30 in the township belongs to that day even though it is 15:30 UTC.
    pub fn local_date(at: DateTime<Utc>) -> NaiveDate {
        at.with_timezone(&shanghai()).date_naive()
    }

    /// 24:00 of `d` in China, i.e. 00:00 of the next local day, as a UTC instant.
    pub fn end_of_local_day(d: NaiveDate) -> DateTime<Utc> {
        d.succ_opt()
            .and_then(|next| {
                shanghai()
                    .from_local_datetime(&next.and_time(NaiveTime::MIN))
                    .single()
            })
            .map(|t| t.with_timezone(&Utc))
            .unwrap_or(DateTime::<Utc>::MAX_UTC)
    }

    fn deadline(last_day: NaiveDate, provisional: bool) -> Deadline {
        Deadline {
            due: Self::end_of_local_day(last_day),
            last_day,
            provisional,
        }
    }

    /// A period of `n` working days starting at `start`. The day of `start` is not counted
    /// (民法典 第二百零一条); the period ends at 24:00 of the n-th working day after it. Make-up
    /// working days count, holidays and other weekends do not. `n = 0` ends at 24:00 of the
    /// start day. Days in years not loaded are judged by weekends alone and make the deadline
    /// provisional; this never fails. `n` above 36,600 is treated as 36,600.
    pub fn add_working_days(&self, start: DateTime<Utc>, n: u32) -> Deadline {
        let mut day = Self::local_date(start);
        let mut provisional = false;
        let mut counted = 0;
        while counted < n.min(MAX_PERIOD_DAYS) {
            let Some(next) = day.succ_opt() else {
                return Self::deadline(day, true);
            };
            day = next;
            let kind = self.is_working_day(day);
            provisional |= kind.is_provisional();
            if kind.is_working() {
                counted += 1;
            }
        }
        Self::deadline(day, provisional)
    }

    /// A period of `n` natural days starting at `start` (e.g. 行政处罚法 第六十条's 90 days): the
    /// day of `start` is not counted, and a last day that is a holiday or rest day moves to the
    /// first working day after it (民法典 第二百零三条). Only the days that decide the end are
    /// judged, so the deadline is provisional only if one of those is in a year not loaded.
    /// `n` above 36,600 is treated as 36,600.
    pub fn add_days(&self, start: DateTime<Utc>, n: u32) -> Deadline {
        let first = Self::local_date(start);
        let Some(mut day) = first.checked_add_days(Days::new(u64::from(n.min(MAX_PERIOD_DAYS))))
        else {
            return Self::deadline(first, true);
        };
        let mut provisional = false;
        loop {
            let kind = self.is_working_day(day);
            provisional |= kind.is_provisional();
            if kind.is_working() {
                return Self::deadline(day, provisional);
            }
            match day.succ_opt() {
                Some(next) => day = next,
                None => return Self::deadline(day, true),
            }
        }
    }

    /// The number of working days elapsed from `from` to `to`: the working days `d` with
    /// `local_date(from) < d <= local_date(to)`, so the first day is not counted, the day of
    /// `to` is, and two instants on the same local day give 0. If `to` is before `from` the
    /// result is the negated count the other way round. It is the inverse of
    /// [`Calendar::add_working_days`]: for any instant `at` on the local day
    /// `add_working_days(from, n).last_day`, `working_days_between(from, at) == n`. Days in years
    /// not loaded are judged by weekends alone.
    pub fn working_days_between(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> i64 {
        let (a, b) = (Self::local_date(from), Self::local_date(to));
        let (lo, hi, sign) = if a <= b { (a, b, 1) } else { (b, a, -1) };
        let count = lo
            .iter_days()
            .skip(1)
            .take_while(|d| *d <= hi)
            .filter(|d| self.is_working_day(*d).is_working())
            .count();
        sign * i64::try_from(count).unwrap_or(i64::MAX)
    }
}

impl fmt::Display for DayKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            DayKind::Working => "working",
            DayKind::Rest => "rest",
            DayKind::ProvisionalWorking => "provisional_working",
            DayKind::ProvisionalRest => "provisional_rest",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }
    fn date(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }
    fn deadline(due: &str, last_day: &str, provisional: bool) -> Deadline {
        Deadline {
            due: at(due),
            last_day: date(last_day),
            provisional,
        }
    }

    #[test]
    fn shipped_years_load_with_their_sources() {
        let cal = Calendar::shipped();
        assert_eq!(cal.loaded_years(), vec![2025, 2026]);
        let y2026 = &cal.years[&2026];
        assert_eq!(y2026.holidays().len(), 7);
        assert_eq!(y2026.makeup_working_days().count(), 6);
        assert!(y2026.source().contains("2026年部分节假日安排"));
        assert_eq!(cal.years[&2025].holidays().len(), 6);
        assert_eq!(cal.years[&2025].makeup_working_days().count(), 5);
    }

    #[test]
    fn the_operators_file_of_a_shipped_year_wins_and_says_so() {
        let shipped_2026 = include_str!("../../../deploy/data/calendar/2026.toml");
        // A correction: 2026-12-31 (Thursday) declared a day off.
        let corrected = shipped_2026.replacen(
            "holidays = [\n",
            "holidays = [\n    { name = \"更正\", from = 2026-12-31, to = 2026-12-31 },\n",
            1,
        );
        assert_ne!(corrected, shipped_2026);
        let y = |src: &str, file: &str| YearCalendar::from_toml_str(src, file).unwrap();
        let mut cal = Calendar::shipped();
        assert_eq!(cal.is_working_day(date("2026-12-31")), DayKind::Working);
        let said = cal.overlay(vec![y(&corrected, "/ops/2026.toml")]).unwrap();
        assert_eq!(
            said,
            [Overlaid::Replaced {
                year: 2026,
                file: "/ops/2026.toml".into(),
                shipped: "2026.toml".into()
            }]
        );
        assert_eq!(cal.is_working_day(date("2026-12-31")), DayKind::Rest);
        let mut cal = Calendar::shipped();
        let said = cal
            .overlay(vec![y(shipped_2026, "/ops/2026.toml")])
            .unwrap();
        assert!(matches!(
            said[..],
            [Overlaid::SameAsShipped { year: 2026, .. }]
        ));
        // Two operator files of one year: which is right cannot be guessed.
        let mut cal = Calendar::shipped();
        let e = cal
            .overlay(vec![
                y(shipped_2026, "/ops/a.toml"),
                y(&corrected, "/ops/b.toml"),
            ])
            .unwrap_err();
        assert_eq!(e.field, "year");
    }

    #[test]
    fn days_are_judged_by_the_schedule() {
        let cal = Calendar::shipped();
        let cases = [
            ("2026-02-13", DayKind::Working),            // Fri
            ("2026-02-14", DayKind::Working),            // Sat, make-up
            ("2026-02-15", DayKind::Rest),               // Sun, 春节
            ("2026-02-23", DayKind::Rest),               // Mon, 春节
            ("2026-02-24", DayKind::Working),            // Tue
            ("2026-02-28", DayKind::Working),            // Sat, make-up
            ("2026-03-01", DayKind::Rest),               // Sun
            ("2026-03-07", DayKind::Rest),               // Sat
            ("2026-10-07", DayKind::Rest),               // Wed, 国庆节
            ("2025-01-26", DayKind::Working),            // Sun, make-up
            ("2025-10-08", DayKind::Rest),               // Wed, 国庆节、中秋节
            ("2027-01-01", DayKind::ProvisionalWorking), // Fri, 2027 not loaded
            ("2027-01-02", DayKind::ProvisionalRest),    // Sat
            ("2024-12-31", DayKind::ProvisionalWorking), // Tue, 2024 not loaded
        ];
        for (d, kind) in cases {
            assert_eq!(cal.is_working_day(date(d)), kind, "{d}");
        }
    }

    #[test]
    fn seven_working_days_across_the_2026_spring_festival() {
        // 02-14 Sat make-up (1), 24 (2), 25 (3), 26 (4), 27 (5), 28 Sat make-up (6), 03-02 (7).
        let cal = Calendar::shipped();
        let d = cal.add_working_days(at("2026-02-13T10:00:00+08:00"), 7);
        assert_eq!(d, deadline("2026-03-02T16:00:00Z", "2026-03-02", false));
        assert_eq!(d.due, at("2026-03-03T00:00:00+08:00"));
    }

    #[test]
    fn working_days_across_national_day_2026() {
        let cal = Calendar::shipped();
        // From Thu 09-17: 18 (1), 20 Sun make-up (2), 21 (3), 22 (4), 23 (5), 24 (6),
        // 25–27 中秋节, 28 (7), 29 (8), 30 (9), 10-01–07 国庆节, 10-08 (10).
        assert_eq!(
            cal.add_working_days(at("2026-09-17T09:00:00+08:00"), 10),
            deadline("2026-10-08T16:00:00Z", "2026-10-08", false)
        );
        // From Wed 09-30: 10-08 (1), 09 (2), 10 Sat make-up (3).
        assert_eq!(
            cal.add_working_days(at("2026-09-30T09:00:00+08:00"), 3),
            deadline("2026-10-10T16:00:00Z", "2026-10-10", false)
        );
        // A make-up Sunday before the holiday: from Fri 09-18, 09-20 is the first working day.
        assert_eq!(
            cal.add_working_days(at("2026-09-18T17:00:00+08:00"), 1),
            deadline("2026-09-20T16:00:00Z", "2026-09-20", false)
        );
    }

    #[test]
    fn disclosure_periods() {
        let cal = Calendar::shipped();
        // 20 working days from Mon 03-09: 10–13 (4), 16–20 (9), 23–27 (14),
        // 03-30–04-03 (19), 04-04–06 清明节, 04-07 (20).
        assert_eq!(
            cal.add_working_days(at("2026-03-09T15:00:00+08:00"), 20),
            deadline("2026-04-07T16:00:00Z", "2026-04-07", false)
        );
        // 7 working days for a penalty decision on Wed 04-29: 30 (1), 05-01–05 劳动节,
        // 06 (2), 07 (3), 08 (4), 09 Sat make-up (5), 11 (6), 12 (7).
        assert_eq!(
            cal.add_working_days(at("2026-04-29T11:00:00+08:00"), 7),
            deadline("2026-05-12T16:00:00Z", "2026-05-12", false)
        );
        // 2025: from Fri 01-24, Sat 25 rests, Sun 26 is a make-up working day (1).
        assert_eq!(
            cal.add_working_days(at("2025-01-24T09:00:00+08:00"), 1),
            deadline("2025-01-26T16:00:00Z", "2025-01-26", false)
        );
    }

    #[test]
    fn the_local_date_counts_not_the_utc_date() {
        let cal = Calendar::shipped();
        // 23:30 on Thu 03-05 in China is 15:30 UTC the same day: still Thursday, so one
        // working day ends with Friday.
        let late = at("2026-03-05T15:30:00Z");
        assert_eq!(Calendar::local_date(late), date("2026-03-05"));
        assert_eq!(
            cal.add_working_days(late, 1),
            deadline("2026-03-06T16:00:00Z", "2026-03-06", false)
        );
        // An hour later it is 00:30 Friday in China though still Thursday in UTC: the period
        // now starts on Friday and ends with Monday.
        let after_midnight = at("2026-03-05T16:30:00Z");
        assert_eq!(Calendar::local_date(after_midnight), date("2026-03-06"));
        assert_eq!(
            cal.add_working_days(after_midnight, 1),
            deadline("2026-03-09T16:00:00Z", "2026-03-09", false)
        );
    }

    #[test]
    fn zero_working_days_end_with_the_start_day() {
        let cal = Calendar::shipped();
        assert_eq!(
            cal.add_working_days(at("2026-02-15T10:00:00+08:00"), 0),
            deadline("2026-02-15T16:00:00Z", "2026-02-15", false)
        );
    }

    #[test]
    fn an_unloaded_year_gives_a_provisional_deadline_until_it_is_added() {
        let mut cal = Calendar::shipped();
        // From Mon 2026-12-28: 29 (1), 30 (2), 31 (3), 2027-01-01 Fri (4, weekends only),
        // 04 (5), 05 (6), 06 (7).
        let start = at("2026-12-28T10:00:00+08:00");
        let before = cal.add_working_days(start, 7);
        assert_eq!(before, deadline("2027-01-06T16:00:00Z", "2027-01-06", true));

        let y2027 = YearCalendar::from_toml_str(
            "year = 2027\nsource = \"test\"\nholidays = [{ name = \"元旦\", from = 2027-01-01, to = 2027-01-01 }]\n",
            "2027.toml",
        )
        .unwrap();
        cal.add_year(y2027).unwrap();
        assert_eq!(cal.loaded_years(), vec![2025, 2026, 2027]);
        // Now 01-01 rests: 29 (1), 30 (2), 31 (3), 01-04 (4), 05 (5), 06 (6), 07 (7).
        let after = cal.add_working_days(start, 7);
        assert_eq!(after, deadline("2027-01-07T16:00:00Z", "2027-01-07", false));
        assert_ne!(before, after);
    }

    #[test]
    fn a_period_wholly_before_an_unloaded_year_is_not_provisional() {
        let cal = Calendar::shipped();
        // From Mon 12-21: 22 (1), 23 (2), 24 (3), 25 (4), 28 (5).
        assert_eq!(
            cal.add_working_days(at("2026-12-21T10:00:00+08:00"), 5),
            deadline("2026-12-28T16:00:00Z", "2026-12-28", false)
        );
    }

    #[test]
    fn natural_day_periods_move_off_holidays_and_rest_days() {
        let cal = Calendar::shipped();
        // 07-05 + 90 days = 10-03 (26 to 07-31, 31 to 08-31, 30 to 09-30, 3 to 10-03), inside
        // 国庆节 (10-01–07): moves to Thu 10-08.
        assert_eq!(
            cal.add_days(at("2026-07-05T10:00:00+08:00"), 90),
            deadline("2026-10-08T16:00:00Z", "2026-10-08", false)
        );
        // 03-02 + 90 days = Sun 05-31, an ordinary rest day: moves to Mon 06-01.
        assert_eq!(
            cal.add_days(at("2026-03-02T10:00:00+08:00"), 90),
            deadline("2026-06-01T16:00:00Z", "2026-06-01", false)
        );
        // 03-04 + 90 days = Tue 06-02, a working day: stays.
        assert_eq!(
            cal.add_days(at("2026-03-04T10:00:00+08:00"), 90),
            deadline("2026-06-02T16:00:00Z", "2026-06-02", false)
        );
        // 12-01 + 31 days = 2027-01-01, a Friday in a year not loaded.
        assert_eq!(
            cal.add_days(at("2026-12-01T10:00:00+08:00"), 31),
            deadline("2027-01-01T16:00:00Z", "2027-01-01", true)
        );
        // 10-31 + 90 days = Fri 2027-01-29 (30 to 11-30, 31 to 12-31, 29 to 01-29), provisional
        // because its last day is in 2027.
        assert_eq!(
            cal.add_days(at("2026-10-31T10:00:00+08:00"), 90),
            deadline("2027-01-29T16:00:00Z", "2027-01-29", true)
        );
    }

    #[test]
    fn working_days_between_counts_elapsed_working_days() {
        let cal = Calendar::shipped();
        let fri = at("2026-02-13T10:00:00+08:00");
        assert_eq!(
            cal.working_days_between(fri, at("2026-02-13T23:59:00+08:00")),
            0
        );
        assert_eq!(
            cal.working_days_between(fri, at("2026-02-14T08:00:00+08:00")),
            1
        );
        assert_eq!(
            cal.working_days_between(fri, at("2026-02-23T12:00:00+08:00")),
            1
        );
        assert_eq!(cal.working_days_between(fri, at("2026-03-02T10:00:00Z")), 7);
        assert_eq!(
            cal.working_days_between(at("2026-03-02T10:00:00Z"), fri),
            -7
        );
    }

    fn parse_err(src: &str) -> String {
        YearCalendar::from_toml_str(src, "2027.toml")
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn bad_files_are_refused_naming_the_file_and_field() {
        assert_eq!(
            parse_err(
                "year = 2027\nsource = \"x\"\nmakeup_working_days = [2027-01-02, 2027-03-03]\n"
            ),
            "2027.toml: field \"makeup_working_days[1]\": 2027-03-03 is not a Saturday or Sunday"
        );
        assert_eq!(
            parse_err(
                "year = 2027\nsource = \"x\"\nholidays = [{ name = \"春节\", from = 2027-02-10, to = 2027-02-05 }]\n"
            ),
            "2027.toml: field \"holidays[0]\": ends on 2027-02-05, before it starts on 2027-02-10"
        );
        assert_eq!(
            parse_err(
                "year = 2027\nsource = \"x\"\nholidays = [{ name = \"元旦\", from = 2026-12-31, to = 2027-01-01 }]\n"
            ),
            "2027.toml: field \"holidays[0].from\": 2026-12-31 is not in 2027"
        );
        assert_eq!(
            parse_err("year = 2027\nsource = \"x\"\nmakeup_working_days = [2028-01-01]\n"),
            "2027.toml: field \"makeup_working_days[0]\": 2028-01-01 is not in 2027"
        );
        assert_eq!(
            parse_err(
                "year = 2027\nsource = \"x\"\nholidays = [{ name = \"a\", from = 2027-10-01, to = 2027-10-07 }, { name = \"b\", from = 2027-10-07, to = 2027-10-08 }]\n"
            ),
            "2027.toml: field \"holidays[1]\": 2027-10-07 to 2027-10-08 overlaps a (2027-10-01 to 2027-10-07)"
        );
        assert_eq!(
            parse_err(
                "year = 2027\nsource = \"x\"\nholidays = [{ name = \"a\", from = 2027-10-01, to = 2027-10-07 }]\nmakeup_working_days = [2027-10-02]\n"
            ),
            "2027.toml: field \"makeup_working_days[0]\": 2027-10-02 lies within the holiday a"
        );
        assert_eq!(
            parse_err("year = 2027\nsource = \"x\"\nmakeup_working_days = [2027-01-02T08:00:00]\n"),
            "2027.toml: field \"makeup_working_days[0]\": 2027-01-02T08:00:00 is not a plain date (write it as YYYY-MM-DD, without time or offset)"
        );
        assert_eq!(
            parse_err("year = 2027\nsource = \" \"\n"),
            "2027.toml: field \"source\": must name the notice the dates come from"
        );
        assert_eq!(
            parse_err("year = 20270\nsource = \"x\"\n"),
            "2027.toml: field \"year\": 20270 is not a year between 1000 and 9999"
        );
        let unknown = parse_err("year = 2027\nsource = \"x\"\nholyday = []\n");
        assert!(
            unknown.starts_with("2027.toml: field \"(toml)\": line 3: "),
            "{unknown}"
        );
    }

    #[test]
    fn a_year_cannot_be_loaded_twice() {
        let y = |file: &str| {
            YearCalendar::from_toml_str("year = 2027\nsource = \"x\"\n", file).unwrap()
        };
        let err = Calendar::new(vec![y("a.toml"), y("b.toml")]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "b.toml: field \"year\": 2027 is already loaded from a.toml"
        );
        let mut cal = Calendar::shipped();
        assert!(
            cal.add_year(YearCalendar::from_toml_str(SHIPPED[1].1, "again.toml").unwrap())
                .is_err()
        );
        assert_eq!(cal.loaded_years(), vec![2025, 2026]);
    }

    fn instant() -> impl Strategy<Value = DateTime<Utc>> {
        // 2024-06-01T00:00Z to 2027-06-30T00:00Z: spans both loaded years and their unloaded
        // neighbours.
        (1_717_200_000i64..1_814_313_600).prop_map(|s| DateTime::from_timestamp(s, 0).unwrap())
    }

    proptest! {
        #[test]
        fn add_working_days_is_monotonic_in_n(start in instant(), n in 0u32..60) {
            let cal = Calendar::shipped();
            prop_assert!(cal.add_working_days(start, n).due < cal.add_working_days(start, n + 1).due);
        }

        #[test]
        fn add_working_days_is_monotonic_in_start(a in instant(), b in instant(), n in 0u32..60) {
            let cal = Calendar::shipped();
            let (early, late) = if a <= b { (a, b) } else { (b, a) };
            prop_assert!(cal.add_working_days(early, n).due <= cal.add_working_days(late, n).due);
        }

        #[test]
        fn deadlines_fall_at_local_midnight_after_a_working_day(start in instant(), n in 1u32..60) {
            let cal = Calendar::shipped();
            for d in [cal.add_working_days(start, n), cal.add_days(start, n)] {
                let local = d.due.with_timezone(&shanghai());
                prop_assert_eq!(local.time(), NaiveTime::MIN);
                prop_assert_eq!(local.date_naive(), d.last_day.succ_opt().unwrap());
                prop_assert!(cal.is_working_day(d.last_day).is_working());
            }
        }

        #[test]
        fn working_days_between_inverts_add_working_days(start in instant(), n in 0u32..60) {
            let cal = Calendar::shipped();
            let d = cal.add_working_days(start, n);
            prop_assert_eq!(cal.working_days_between(start, d.due - chrono::Duration::seconds(1)), i64::from(n));
        }
    }
}
