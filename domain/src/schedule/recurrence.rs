//! Recurrence rules: the subset of RFC 5545 `RRULE` that permanences use,
//! parsed here (no external crate).
//!
//! # Accepted rules
//!
//! A rule is `NAME=VALUE` parts separated by `;`, optionally prefixed by
//! `RRULE:`; names and values are case-insensitive and each part appears at
//! most once. Supported parts:
//!
//! - `FREQ` (required): `WEEKLY` or `MONTHLY`.
//! - `BYDAY`: for a weekly rule, days without ordinal (`MO,TH`), optional,
//!   defaulting to the weekday of the first date; for a monthly rule,
//!   required, exactly one weekday with an ordinal 1 to 4 or -1 for the last
//!   (`2TU`, `-1FR`, `+1MO`).
//! - `INTERVAL`: 1 to 52, default 1.
//! - `UNTIL`: `YYYYMMDD` or `YYYYMMDDTHHMMSSZ` (only the date part is kept),
//!   on or after the first date.
//! - `COUNT`: 1 to 1000, not together with `UNTIL`.
//!
//! # Semantics
//!
//! Rules work on dates; the time of day belongs to the series
//! ([`super::series`]).
//!
//! - The first date `dtstart` is the first candidate: it is an occurrence
//!   only if it matches the rule.
//! - Weekly with interval n: weeks start on Monday and are counted from the
//!   week of `dtstart` (week 0); every n-th week (0, n, 2n…), the `BYDAY`
//!   days on or after `dtstart` are occurrences.
//! - Monthly with interval n: months are counted from the month of
//!   `dtstart`; every n-th month, the n-th (or last) given weekday is an
//!   occurrence if it is on or after `dtstart`.
//! - `COUNT` counts occurrences from `dtstart`; `UNTIL` is inclusive.
//!
//! Values built by hand outside the parsed subset never panic: an interval
//! of 0 counts as 1, an empty weekly `BYDAY` or a monthly ordinal of 0 yields
//! no date, a monthly ordinal beyond ±4 yields the months that have such a
//! weekday, and a `COUNT` is sought within a bounded horizon (400 periods per
//! occurrence).

use std::fmt;
use std::ops::ControlFlow;

use chrono::{Datelike, Days, NaiveDate, Weekday};

/// How often a rule repeats, and on which days.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Frequency {
    /// Every week (or every n-th week), on the given days, Monday first.
    Weekly {
        /// The days of the week, deduplicated and sorted Monday first.
        by_day: Vec<Weekday>,
    },
    /// Every month (or every n-th month), on one weekday of the month.
    Monthly {
        /// Which one: 1 to 4 from the start of the month, -1 for the last.
        ordinal: i8,
        /// The day of the week.
        weekday: Weekday,
    },
}

/// When a rule stops.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RecurrenceEnd {
    /// Never.
    Forever,
    /// After this date (inclusive).
    Until(NaiveDate),
    /// After this many occurrences, counted from the first date.
    Count(u32),
}

/// A parsed recurrence rule (see the module documentation for its meaning).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Recurrence {
    /// How often and on which days.
    pub frequency: Frequency,
    /// Every how many weeks or months (1 to 52).
    pub interval: u32,
    /// When it stops.
    pub end: RecurrenceEnd,
}

/// Why a rule was refused: the part at fault (`FREQ`, `BYDAY`, `INTERVAL`,
/// `UNTIL`, `COUNT`, an unsupported part's name, or `RRULE` for the whole
/// rule) and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{part}: {message}")]
pub struct RecurrenceError {
    /// The part at fault, upper case.
    pub part: String,
    /// What is wrong and what is accepted, in English.
    pub message: String,
}

const SUPPORTED_PARTS: &str = "FREQ, INTERVAL, BYDAY, UNTIL, COUNT";
const DAY_CODES: &str = "MO, TU, WE, TH, FR, SA, SU";
const MONTHLY_BYDAY: &str = "a monthly rule takes one weekday with an ordinal 1 to 4 or -1 \
                             (last), like 2TU or -1FR";
const MAX_INTERVAL: u32 = 52;
const MAX_COUNT: u32 = 1000;
/// Periods walked per wanted occurrence before a `COUNT` search gives up
/// (only reachable with rules built by hand outside the subset).
const COUNT_HORIZON_PER_OCCURRENCE: u64 = 400;

fn error(part: &str, message: impl Into<String>) -> RecurrenceError {
    RecurrenceError {
        part: part.to_owned(),
        message: message.into(),
    }
}

impl Recurrence {
    /// Parses an `RRULE` of the supported subset; `dtstart` is the series'
    /// first date (it gives the default weekly day and bounds `UNTIL`).
    pub fn parse(rule: &str, dtstart: NaiveDate) -> Result<Self, RecurrenceError> {
        let trimmed = rule.trim();
        let body = match trimmed.get(..6) {
            Some(prefix) if prefix.eq_ignore_ascii_case("RRULE:") => trimmed.get(6..).unwrap_or(""),
            _ => trimmed,
        };
        if body.trim().is_empty() {
            return Err(error(
                "RRULE",
                "the rule is empty — write for example FREQ=WEEKLY;BYDAY=MO or \
                 FREQ=MONTHLY;BYDAY=2TU",
            ));
        }

        let mut freq = None;
        let mut interval = None;
        let mut by_day = None;
        let mut until = None;
        let mut count = None;
        for raw in body.split(';') {
            if raw.trim().is_empty() {
                return Err(error(
                    "RRULE",
                    "empty part — parts are NAME=VALUE separated by a single ';'",
                ));
            }
            let Some((name, value)) = raw.split_once('=') else {
                return Err(error(
                    "RRULE",
                    format!("\"{raw}\" is not a NAME=VALUE part — parts are separated by ';'"),
                ));
            };
            let name = name.trim().to_ascii_uppercase();
            let slot: &mut Option<&str> = match name.as_str() {
                "FREQ" => &mut freq,
                "INTERVAL" => &mut interval,
                "BYDAY" => &mut by_day,
                "UNTIL" => &mut until,
                "COUNT" => &mut count,
                "" => {
                    return Err(error(
                        "RRULE",
                        format!(
                            "\"{raw}\" has no part name — the supported parts are \
                             {SUPPORTED_PARTS}"
                        ),
                    ));
                }
                "BYSECOND" | "BYMINUTE" | "BYHOUR" | "BYMONTHDAY" | "BYYEARDAY" | "BYWEEKNO"
                | "BYMONTH" | "BYSETPOS" | "WKST" => {
                    return Err(error(
                        &name,
                        format!("not supported — the supported parts are {SUPPORTED_PARTS}"),
                    ));
                }
                _ => {
                    return Err(error(
                        &name,
                        format!("unknown part — the supported parts are {SUPPORTED_PARTS}"),
                    ));
                }
            };
            if slot.is_some() {
                return Err(error(&name, "given twice — each part may appear only once"));
            }
            *slot = Some(value.trim());
        }

        let weekly = parse_freq(freq)?;
        let interval = interval.map_or(Ok(1), parse_interval)?;
        let frequency = if weekly {
            Frequency::Weekly {
                by_day: by_day.map_or_else(|| Ok(vec![dtstart.weekday()]), parse_weekly_by_day)?,
            }
        } else {
            let value = by_day.ok_or_else(|| {
                error(
                    "BYDAY",
                    format!("missing — {MONTHLY_BYDAY}, written BYDAY=2TU"),
                )
            })?;
            let (ordinal, weekday) = parse_monthly_by_day(value)?;
            Frequency::Monthly { ordinal, weekday }
        };
        let end = match (until, count) {
            (Some(_), Some(_)) => {
                return Err(error(
                    "RRULE",
                    "UNTIL and COUNT are both given — a rule ends either on a date (UNTIL) or \
                     after a number of occurrences (COUNT), not both",
                ));
            }
            (Some(value), None) => RecurrenceEnd::Until(parse_until(value, dtstart)?),
            (None, Some(value)) => RecurrenceEnd::Count(parse_count(value)?),
            (None, None) => RecurrenceEnd::Forever,
        };
        Ok(Self {
            frequency,
            interval,
            end,
        })
    }

    /// The canonical rule text, parts in the order FREQ, INTERVAL (omitted
    /// when 1), BYDAY (always written), UNTIL (as `YYYYMMDD`) or COUNT, e.g.
    /// `FREQ=WEEKLY;INTERVAL=2;BYDAY=MO,TH;UNTIL=20271231`. Parsing it back
    /// with the same first date gives the same rule.
    pub fn to_rule_string(&self) -> String {
        let mut out = String::from("FREQ=");
        out.push_str(match self.frequency {
            Frequency::Weekly { .. } => "WEEKLY",
            Frequency::Monthly { .. } => "MONTHLY",
        });
        if self.interval != 1 {
            out.push_str(&format!(";INTERVAL={}", self.interval));
        }
        match &self.frequency {
            Frequency::Weekly { by_day } => {
                let days = sorted_offsets(by_day)
                    .into_iter()
                    .map(|offset| day_code(weekday_from_offset(offset)))
                    .collect::<Vec<_>>();
                if !days.is_empty() {
                    out.push_str(";BYDAY=");
                    out.push_str(&days.join(","));
                }
            }
            Frequency::Monthly { ordinal, weekday } => {
                out.push_str(&format!(";BYDAY={ordinal}{}", day_code(*weekday)));
            }
        }
        match self.end {
            RecurrenceEnd::Forever => {}
            RecurrenceEnd::Until(date) => {
                out.push_str(&format!(";UNTIL={}", date.format("%Y%m%d")));
            }
            RecurrenceEnd::Count(count) => out.push_str(&format!(";COUNT={count}")),
        }
        out
    }

    /// The occurrence dates `d` with `from <= d <= to`, ascending. Far ranges
    /// are cheap for unbounded and `UNTIL` rules (the walk starts at the week
    /// or month of `from`); a `COUNT` rule is walked from `dtstart`.
    pub fn dates(&self, dtstart: NaiveDate, from: NaiveDate, to: NaiveDate) -> Vec<NaiveDate> {
        let mut out = Vec::new();
        if from > to {
            return out;
        }
        match self.end {
            RecurrenceEnd::Forever => self.walk(dtstart, from, to, u64::MAX, |date| {
                out.push(date);
                ControlFlow::Continue(())
            }),
            RecurrenceEnd::Until(until) => {
                self.walk(dtstart, from, to.min(until), u64::MAX, |date| {
                    out.push(date);
                    ControlFlow::Continue(())
                });
            }
            RecurrenceEnd::Count(count) => self.walk_counted(dtstart, to, count, |date| {
                if date >= from {
                    out.push(date);
                }
            }),
        }
        out
    }

    /// The last occurrence date: `None` when the rule runs forever, or when
    /// it has no occurrence at all.
    pub fn last_date(&self, dtstart: NaiveDate) -> Option<NaiveDate> {
        match self.end {
            RecurrenceEnd::Forever => None,
            RecurrenceEnd::Until(until) => self.last_on_or_before(dtstart, until),
            RecurrenceEnd::Count(_) => self.last_on_or_before(dtstart, NaiveDate::MAX),
        }
    }

    /// The same rule cut so that its last occurrence is the last one strictly
    /// before `date` (`end` becomes `Until` of that occurrence); `None` when
    /// no occurrence comes before `date`.
    pub fn ending_before(&self, dtstart: NaiveDate, date: NaiveDate) -> Option<Recurrence> {
        let last = self.last_on_or_before(dtstart, date.pred_opt()?)?;
        Some(Self {
            frequency: self.frequency.clone(),
            interval: self.interval,
            end: RecurrenceEnd::Until(last),
        })
    }

    /// The last occurrence on or before `upper`, the end included.
    fn last_on_or_before(&self, dtstart: NaiveDate, upper: NaiveDate) -> Option<NaiveDate> {
        let mut last = None;
        let upper = match self.end {
            RecurrenceEnd::Count(count) => {
                self.walk_counted(dtstart, upper, count, |date| last = Some(date));
                return last;
            }
            RecurrenceEnd::Forever => upper,
            RecurrenceEnd::Until(until) => upper.min(until),
        };
        if upper < dtstart {
            return None;
        }
        // 62 days per interval step hold a whole week or month of the rule.
        let window = Days::new(u64::from(self.step()) * 62);
        let lower = upper
            .checked_sub_days(window)
            .map_or(dtstart, |date| date.max(dtstart));
        match self.last_between(dtstart, lower, upper) {
            None if lower > dtstart => self.last_between(dtstart, dtstart, upper),
            found => found,
        }
    }

    /// The last date of the rule (its end ignored) within `[lower, upper]`.
    fn last_between(
        &self,
        dtstart: NaiveDate,
        lower: NaiveDate,
        upper: NaiveDate,
    ) -> Option<NaiveDate> {
        let mut last = None;
        self.walk(dtstart, lower, upper, u64::MAX, |date| {
            last = Some(date);
            ControlFlow::Continue(())
        });
        last
    }

    /// The interval, 0 counting as 1.
    fn step(&self) -> u32 {
        self.interval.max(1)
    }

    /// Calls `visit` with the first `count` dates of the rule (its end
    /// ignored) that are on or before `upper`, ascending.
    fn walk_counted(
        &self,
        dtstart: NaiveDate,
        upper: NaiveDate,
        count: u32,
        mut visit: impl FnMut(NaiveDate),
    ) {
        if count == 0 {
            return;
        }
        let horizon = (u64::from(count) + 1).saturating_mul(COUNT_HORIZON_PER_OCCURRENCE);
        let mut seen = 0;
        self.walk(dtstart, dtstart, upper, horizon, |date| {
            visit(date);
            seen += 1;
            if seen >= count {
                ControlFlow::Break(())
            } else {
                ControlFlow::Continue(())
            }
        });
    }

    /// Calls `visit` with each date matching the frequency and the interval
    /// (the end ignored), ascending, from `max(lower, dtstart)` to `upper`
    /// inclusive. Stops when `visit` breaks, after `max_periods` weeks or
    /// months of the rule, or at the end of the calendar.
    fn walk(
        &self,
        dtstart: NaiveDate,
        lower: NaiveDate,
        upper: NaiveDate,
        max_periods: u64,
        mut visit: impl FnMut(NaiveDate) -> ControlFlow<()>,
    ) {
        let lower = lower.max(dtstart);
        if lower > upper {
            return;
        }
        let step = u64::from(self.step());
        match &self.frequency {
            Frequency::Weekly { by_day } => {
                let offsets = sorted_offsets(by_day);
                let first_monday = monday_of(dtstart);
                let weeks_to_lower = monday_of(lower)
                    .signed_duration_since(first_monday)
                    .num_days()
                    / 7;
                let mut week = u64::try_from(weeks_to_lower)
                    .unwrap_or(0)
                    .div_ceil(step)
                    .saturating_mul(step);
                for _ in 0..max_periods {
                    let Some(monday) = week
                        .checked_mul(7)
                        .and_then(|days| first_monday.checked_add_days(Days::new(days)))
                    else {
                        return;
                    };
                    if monday > upper {
                        return;
                    }
                    for &offset in &offsets {
                        let Some(date) = monday.checked_add_days(Days::new(u64::from(offset)))
                        else {
                            return;
                        };
                        if date < lower {
                            continue;
                        }
                        if date > upper || visit(date).is_break() {
                            return;
                        }
                    }
                    week = week.saturating_add(step);
                }
            }
            Frequency::Monthly { ordinal, weekday } => {
                let first_month = month_index(dtstart);
                let months_to_lower = month_index(lower) - first_month;
                let mut month = u64::try_from(months_to_lower)
                    .unwrap_or(0)
                    .div_ceil(step)
                    .saturating_mul(step);
                for _ in 0..max_periods {
                    let Some(first_day) = i64::try_from(month)
                        .ok()
                        .and_then(|month| first_of_month(first_month.checked_add(month)?))
                    else {
                        return;
                    };
                    if first_day > upper {
                        return;
                    }
                    if let Some(date) = nth_weekday(first_day, *weekday, *ordinal)
                        && date >= lower
                        && (date > upper || visit(date).is_break())
                    {
                        return;
                    }
                    month = month.saturating_add(step);
                }
            }
        }
    }
}

impl fmt::Display for Recurrence {
    /// Writes [`Recurrence::to_rule_string`].
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_rule_string())
    }
}

fn parse_freq(value: Option<&str>) -> Result<bool, RecurrenceError> {
    let value =
        value.ok_or_else(|| error("FREQ", "missing — a rule needs FREQ=WEEKLY or FREQ=MONTHLY"))?;
    match value.to_ascii_uppercase().as_str() {
        "WEEKLY" => Ok(true),
        "MONTHLY" => Ok(false),
        "DAILY" | "YEARLY" | "HOURLY" | "MINUTELY" | "SECONDLY" => Err(error(
            "FREQ",
            format!("\"{value}\" — not supported; FREQ is WEEKLY or MONTHLY"),
        )),
        _ => Err(error(
            "FREQ",
            format!("\"{value}\" — unknown frequency; FREQ is WEEKLY or MONTHLY"),
        )),
    }
}

fn parse_interval(value: &str) -> Result<u32, RecurrenceError> {
    value
        .parse::<u32>()
        .ok()
        .filter(|n| (1..=MAX_INTERVAL).contains(n))
        .ok_or_else(|| {
            error(
                "INTERVAL",
                format!("\"{value}\" — the interval is a whole number from 1 to {MAX_INTERVAL}"),
            )
        })
}

fn parse_count(value: &str) -> Result<u32, RecurrenceError> {
    value
        .parse::<u32>()
        .ok()
        .filter(|n| (1..=MAX_COUNT).contains(n))
        .ok_or_else(|| {
            error(
                "COUNT",
                format!(
                    "\"{value}\" — the number of occurrences is a whole number from 1 to \
                     {MAX_COUNT}"
                ),
            )
        })
}

fn parse_weekly_by_day(value: &str) -> Result<Vec<Weekday>, RecurrenceError> {
    if value.is_empty() {
        return Err(error(
            "BYDAY",
            "\"\" — give at least one day, like MO or MO,TH",
        ));
    }
    let mut days = Vec::new();
    for item in value.split(',') {
        let item = item.trim();
        let code = item.to_ascii_uppercase();
        if let Some(day) = parse_day(&code) {
            days.push(day);
            continue;
        }
        let has_ordinal =
            code.len() > 2 && code.get(code.len() - 2..).and_then(parse_day).is_some();
        let message = if has_ordinal {
            format!("\"{item}\" — a weekly rule takes days without an ordinal, like MO,TH")
        } else {
            format!("\"{item}\" — not a day; days are {DAY_CODES}, separated by commas")
        };
        return Err(error("BYDAY", message));
    }
    Ok(sorted_offsets(&days)
        .into_iter()
        .map(weekday_from_offset)
        .collect())
}

fn parse_monthly_by_day(value: &str) -> Result<(i8, Weekday), RecurrenceError> {
    let refused = || error("BYDAY", format!("\"{value}\" — {MONTHLY_BYDAY}"));
    let code = value.to_ascii_uppercase();
    let split = code.len().checked_sub(2).ok_or_else(refused)?;
    let (ordinal, day) = (code.get(..split), code.get(split..));
    let weekday = day.and_then(parse_day).ok_or_else(refused)?;
    let ordinal = ordinal
        .and_then(|ordinal| ordinal.parse::<i8>().ok())
        .filter(|ordinal| (1..=4).contains(ordinal) || *ordinal == -1)
        .ok_or_else(refused)?;
    Ok((ordinal, weekday))
}

fn parse_until(value: &str, dtstart: NaiveDate) -> Result<NaiveDate, RecurrenceError> {
    let refused = || {
        error(
            "UNTIL",
            format!(
                "\"{value}\" — UNTIL is a date YYYYMMDD (like 20271231) or a UTC date-time \
                 YYYYMMDDTHHMMSSZ (like 20271231T235959Z)"
            ),
        )
    };
    let digits = |range: std::ops::Range<usize>| -> Option<u32> {
        let text = value.get(range)?;
        if text.bytes().all(|b| b.is_ascii_digit()) {
            text.parse().ok()
        } else {
            None
        }
    };
    let well_formed_time = match value.len() {
        8 => true,
        16 => {
            let upper = value.to_ascii_uppercase();
            upper.get(8..9) == Some("T")
                && upper.get(15..16) == Some("Z")
                && digits(9..11).is_some_and(|h| h < 24)
                && digits(11..13).is_some_and(|m| m < 60)
                && digits(13..15).is_some_and(|s| s <= 60)
        }
        _ => false,
    };
    if !well_formed_time {
        return Err(refused());
    }
    let date = digits(0..4)
        .and_then(|y| i32::try_from(y).ok())
        .zip(digits(4..6))
        .zip(digits(6..8))
        .and_then(|((y, m), d)| NaiveDate::from_ymd_opt(y, m, d))
        .ok_or_else(refused)?;
    if date < dtstart {
        return Err(error(
            "UNTIL",
            format!(
                "\"{value}\" — UNTIL is before the first date {dtstart}; it must be on or after it"
            ),
        ));
    }
    Ok(date)
}

fn parse_day(code: &str) -> Option<Weekday> {
    Some(match code {
        "MO" => Weekday::Mon,
        "TU" => Weekday::Tue,
        "WE" => Weekday::Wed,
        "TH" => Weekday::Thu,
        "FR" => Weekday::Fri,
        "SA" => Weekday::Sat,
        "SU" => Weekday::Sun,
        _ => return None,
    })
}

fn day_code(day: Weekday) -> &'static str {
    match day {
        Weekday::Mon => "MO",
        Weekday::Tue => "TU",
        Weekday::Wed => "WE",
        Weekday::Thu => "TH",
        Weekday::Fri => "FR",
        Weekday::Sat => "SA",
        Weekday::Sun => "SU",
    }
}

/// Days from Monday, deduplicated and ascending.
fn sorted_offsets(days: &[Weekday]) -> Vec<u32> {
    let mut offsets: Vec<u32> = days.iter().map(|d| d.num_days_from_monday()).collect();
    offsets.sort_unstable();
    offsets.dedup();
    offsets
}

fn weekday_from_offset(offset: u32) -> Weekday {
    match offset % 7 {
        0 => Weekday::Mon,
        1 => Weekday::Tue,
        2 => Weekday::Wed,
        3 => Weekday::Thu,
        4 => Weekday::Fri,
        5 => Weekday::Sat,
        _ => Weekday::Sun,
    }
}

/// The Monday of the week of `date`; `date` itself at the start of the
/// calendar.
fn monday_of(date: NaiveDate) -> NaiveDate {
    date.checked_sub_days(Days::new(u64::from(date.weekday().num_days_from_monday())))
        .unwrap_or(date)
}

/// Months since year 0 (January of year 0 is 0).
fn month_index(date: NaiveDate) -> i64 {
    i64::from(date.year()) * 12 + i64::from(date.month0())
}

fn first_of_month(index: i64) -> Option<NaiveDate> {
    let year = i32::try_from(index.div_euclid(12)).ok()?;
    let month = u32::try_from(index.rem_euclid(12) + 1).ok()?;
    NaiveDate::from_ymd_opt(year, month, 1)
}

/// The `ordinal`-th `weekday` of the month starting on `first_day` (negative
/// counts from the end), if the month has one.
fn nth_weekday(first_day: NaiveDate, weekday: Weekday, ordinal: i8) -> Option<NaiveDate> {
    let target = weekday.num_days_from_monday();
    let date = if ordinal > 0 {
        let first_match = (target + 7 - first_day.weekday().num_days_from_monday()) % 7;
        let skip = u64::from(first_match) + 7 * (u64::from(ordinal.unsigned_abs()) - 1);
        first_day.checked_add_days(Days::new(skip))?
    } else if ordinal < 0 {
        let last_day = first_of_month(month_index(first_day) + 1)?.pred_opt()?;
        let last_match = (last_day.weekday().num_days_from_monday() + 7 - target) % 7;
        let skip = u64::from(last_match) + 7 * (u64::from(ordinal.unsigned_abs()) - 1);
        last_day.checked_sub_days(Days::new(skip))?
    } else {
        return None;
    };
    (month_index(date) == month_index(first_day)).then_some(date)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    fn parse(rule: &str, dtstart: NaiveDate) -> Recurrence {
        Recurrence::parse(rule, dtstart).unwrap()
    }

    fn part_of(rule: &str) -> String {
        Recurrence::parse(rule, d(2027, 1, 4)).unwrap_err().part
    }

    #[test]
    fn parses_a_weekly_rule_into_canonical_form() {
        let rule = parse(
            "rrule:freq=weekly;byday=th,MO,th;interval=2;until=20271231",
            d(2027, 1, 4),
        );
        assert_eq!(
            rule,
            Recurrence {
                frequency: Frequency::Weekly {
                    by_day: vec![Weekday::Mon, Weekday::Thu]
                },
                interval: 2,
                end: RecurrenceEnd::Until(d(2027, 12, 31)),
            }
        );
        assert_eq!(
            rule.to_rule_string(),
            "FREQ=WEEKLY;INTERVAL=2;BYDAY=MO,TH;UNTIL=20271231"
        );
        assert_eq!(rule.to_string(), rule.to_rule_string());
    }

    #[test]
    fn weekly_without_byday_takes_the_weekday_of_the_first_date() {
        // 2027-01-06 is a Wednesday.
        let rule = parse("FREQ=WEEKLY", d(2027, 1, 6));
        assert_eq!(rule.to_rule_string(), "FREQ=WEEKLY;BYDAY=WE");
        assert_eq!(
            rule.dates(d(2027, 1, 6), d(2027, 1, 1), d(2027, 1, 20)),
            vec![d(2027, 1, 6), d(2027, 1, 13), d(2027, 1, 20)]
        );
    }

    #[test]
    fn until_takes_the_date_of_a_utc_date_time() {
        let rule = parse("FREQ=WEEKLY;UNTIL=20270301T225959Z", d(2027, 1, 4));
        assert_eq!(rule.end, RecurrenceEnd::Until(d(2027, 3, 1)));
        assert_eq!(rule.last_date(d(2027, 1, 4)), Some(d(2027, 3, 1)));
    }

    #[test]
    fn monthly_ordinals_are_parsed_with_sign() {
        for (text, ordinal) in [("2TU", 2), ("+1MO", 1), ("-1FR", -1), ("4su", 4)] {
            let rule = parse(&format!("FREQ=MONTHLY;BYDAY={text}"), d(2027, 1, 1));
            assert!(matches!(
                rule.frequency,
                Frequency::Monthly { ordinal: o, .. } if o == ordinal
            ));
        }
        assert_eq!(
            parse("FREQ=MONTHLY;BYDAY=+1MO", d(2027, 1, 1)).to_rule_string(),
            "FREQ=MONTHLY;BYDAY=1MO"
        );
    }

    #[test]
    fn weekly_every_other_week_on_monday_and_thursday() {
        // 2027-01-06 is a Wednesday: week 0 is 4–10 January, so its Monday is
        // before the first date and only its Thursday counts.
        let rule = parse("FREQ=WEEKLY;INTERVAL=2;BYDAY=MO,TH", d(2027, 1, 6));
        assert_eq!(
            rule.dates(d(2027, 1, 6), d(2027, 1, 1), d(2027, 2, 5)),
            vec![
                d(2027, 1, 7),
                d(2027, 1, 18),
                d(2027, 1, 21),
                d(2027, 2, 1),
                d(2027, 2, 4)
            ]
        );
        // A far range starts at the right week.
        assert_eq!(
            rule.dates(d(2027, 1, 6), d(2037, 1, 1), d(2037, 1, 14)),
            rule.dates(d(2027, 1, 6), d(2027, 1, 1), d(2037, 1, 14))
                .into_iter()
                .filter(|date| *date >= d(2037, 1, 1))
                .collect::<Vec<_>>()
        );
    }

    #[test]
    fn count_counts_from_the_first_date() {
        let start = d(2027, 1, 6); // Wednesday, not an occurrence of MO,TH
        let rule = parse("FREQ=WEEKLY;BYDAY=MO,TH;COUNT=3", start);
        assert_eq!(
            rule.dates(start, d(2026, 1, 1), d(2030, 1, 1)),
            vec![d(2027, 1, 7), d(2027, 1, 11), d(2027, 1, 14)]
        );
        assert_eq!(
            rule.dates(start, d(2027, 1, 10), d(2030, 1, 1)),
            vec![d(2027, 1, 11), d(2027, 1, 14)]
        );
        assert_eq!(rule.last_date(start), Some(d(2027, 1, 14)));
    }

    #[test]
    fn until_is_inclusive() {
        let start = d(2027, 1, 4);
        let rule = parse("FREQ=WEEKLY;BYDAY=MO;UNTIL=20270118", start);
        assert_eq!(
            rule.dates(start, start, d(2028, 1, 1)),
            vec![d(2027, 1, 4), d(2027, 1, 11), d(2027, 1, 18)]
        );
        assert_eq!(rule.last_date(start), Some(d(2027, 1, 18)));
        assert_eq!(parse("FREQ=WEEKLY", start).last_date(start), None);
    }

    #[test]
    fn monthly_second_tuesday_and_last_friday() {
        let start = d(2027, 1, 1);
        let second_tuesday = parse("FREQ=MONTHLY;BYDAY=2TU", start);
        let dates = second_tuesday.dates(start, d(2027, 1, 1), d(2027, 12, 31));
        assert_eq!(dates.len(), 12);
        assert_eq!(dates[0], d(2027, 1, 12));
        assert_eq!(dates[2], d(2027, 3, 9));
        for date in dates {
            assert_eq!(date.weekday(), Weekday::Tue);
            assert!((8..=14).contains(&date.day()));
        }

        let last_friday = parse("FREQ=MONTHLY;INTERVAL=3;BYDAY=-1FR;COUNT=3", start);
        assert_eq!(
            last_friday.dates(start, start, d(2030, 1, 1)),
            vec![d(2027, 1, 29), d(2027, 4, 30), d(2027, 7, 30)]
        );
    }

    #[test]
    fn monthly_occurrence_before_the_first_date_is_skipped() {
        // The 2nd Tuesday of January 2027 is the 12th.
        let start = d(2027, 1, 13);
        let rule = parse("FREQ=MONTHLY;BYDAY=2TU", start);
        assert_eq!(
            rule.dates(start, d(2027, 1, 1), d(2027, 2, 28)),
            vec![d(2027, 2, 9)]
        );
    }

    #[test]
    fn ending_before_cuts_the_rule() {
        let start = d(2027, 1, 4);
        let rule = parse("FREQ=WEEKLY;BYDAY=MO", start);
        let cut = rule.ending_before(start, d(2027, 1, 18)).unwrap();
        assert_eq!(cut.end, RecurrenceEnd::Until(d(2027, 1, 11)));
        assert_eq!(cut.to_rule_string(), "FREQ=WEEKLY;BYDAY=MO;UNTIL=20270111");
        assert_eq!(rule.ending_before(start, start), None);
        let counted = parse("FREQ=WEEKLY;BYDAY=MO;COUNT=2", start);
        assert_eq!(
            counted.ending_before(start, d(2030, 1, 1)).unwrap().end,
            RecurrenceEnd::Until(d(2027, 1, 11))
        );
    }

    #[test]
    fn empty_or_reversed_ranges_give_nothing() {
        let start = d(2027, 1, 4);
        let rule = parse("FREQ=WEEKLY", start);
        assert!(rule.dates(start, d(2027, 2, 1), d(2027, 1, 1)).is_empty());
        assert!(rule.dates(start, d(2020, 1, 1), d(2027, 1, 3)).is_empty());
        assert_eq!(rule.dates(start, NaiveDate::MIN, start), vec![start]);
    }

    #[test]
    fn hand_built_degenerate_rules_terminate() {
        let start = d(2027, 1, 4);
        let empty = Recurrence {
            frequency: Frequency::Weekly { by_day: vec![] },
            interval: 0,
            end: RecurrenceEnd::Count(5),
        };
        assert!(empty.dates(start, start, d(2100, 1, 1)).is_empty());
        assert_eq!(empty.last_date(start), None);
        let fifth = Recurrence {
            frequency: Frequency::Monthly {
                ordinal: 5,
                weekday: Weekday::Fri,
            },
            interval: 1,
            end: RecurrenceEnd::Forever,
        };
        // Months of 2027 with five Fridays: January, April, July, October, December.
        assert_eq!(
            fifth.dates(start, start, d(2027, 12, 31)),
            vec![
                d(2027, 1, 29),
                d(2027, 4, 30),
                d(2027, 7, 30),
                d(2027, 10, 29),
                d(2027, 12, 31)
            ]
        );
    }

    #[test]
    fn refuses_malformed_rules_naming_the_part() {
        assert_eq!(part_of(""), "RRULE");
        assert_eq!(part_of("RRULE:"), "RRULE");
        assert_eq!(part_of("FREQ=WEEKLY;;BYDAY=MO"), "RRULE");
        assert_eq!(part_of("FREQ=WEEKLY;BYDAY"), "RRULE");
        assert_eq!(part_of("=WEEKLY"), "RRULE");
        assert_eq!(part_of("FREQ=WEEKLY;freq=MONTHLY"), "FREQ");
        assert_eq!(part_of("FREQ=WEEKLY;BYDAY=MO;byday=TU"), "BYDAY");
        for unsupported in [
            "BYMONTH=1",
            "BYSETPOS=2",
            "BYMONTHDAY=3",
            "WKST=MO",
            "BYHOUR=9",
            "X-NAME=1",
        ] {
            let error = Recurrence::parse(&format!("FREQ=WEEKLY;{unsupported}"), d(2027, 1, 4))
                .unwrap_err();
            let name = unsupported.split('=').next().unwrap();
            assert_eq!(error.part, name);
            assert!(
                error
                    .message
                    .contains("FREQ, INTERVAL, BYDAY, UNTIL, COUNT")
            );
        }
    }

    #[test]
    fn refuses_bad_frequencies() {
        assert_eq!(part_of("BYDAY=MO"), "FREQ");
        assert_eq!(part_of("FREQ=DAILY"), "FREQ");
        assert_eq!(part_of("FREQ=YEARLY"), "FREQ");
        assert_eq!(part_of("FREQ=FORTNIGHTLY"), "FREQ");
        let error = Recurrence::parse("FREQ=DAILY", d(2027, 1, 4)).unwrap_err();
        assert_eq!(
            error.to_string(),
            "FREQ: \"DAILY\" — not supported; FREQ is WEEKLY or MONTHLY"
        );
    }

    #[test]
    fn refuses_bad_days() {
        assert_eq!(part_of("FREQ=WEEKLY;BYDAY="), "BYDAY");
        assert_eq!(part_of("FREQ=WEEKLY;BYDAY=MO,"), "BYDAY");
        assert_eq!(part_of("FREQ=WEEKLY;BYDAY=XX"), "BYDAY");
        assert_eq!(part_of("FREQ=WEEKLY;BYDAY=2MO"), "BYDAY");
        assert_eq!(part_of("FREQ=MONTHLY"), "BYDAY");
        assert_eq!(part_of("FREQ=MONTHLY;BYDAY=TU"), "BYDAY");
        assert_eq!(part_of("FREQ=MONTHLY;BYDAY=0TU"), "BYDAY");
        assert_eq!(part_of("FREQ=MONTHLY;BYDAY=-2TU"), "BYDAY");
        assert_eq!(part_of("FREQ=MONTHLY;BYDAY=1MO,3MO"), "BYDAY");
        assert_eq!(part_of("FREQ=MONTHLY;BYDAY=2XX"), "BYDAY");
        assert_eq!(part_of("FREQ=MONTHLY;BYDAY=é"), "BYDAY");
        let error = Recurrence::parse("FREQ=MONTHLY;BYDAY=5TU", d(2027, 1, 4)).unwrap_err();
        assert_eq!(
            error.to_string(),
            "BYDAY: \"5TU\" — a monthly rule takes one weekday with an ordinal 1 to 4 or -1 \
             (last), like 2TU or -1FR"
        );
        let error = Recurrence::parse("FREQ=WEEKLY;BYDAY=MO,1TH", d(2027, 1, 4)).unwrap_err();
        assert_eq!(
            error.message,
            "\"1TH\" — a weekly rule takes days without an ordinal, like MO,TH"
        );
    }

    #[test]
    fn refuses_bad_interval_until_and_count() {
        assert_eq!(part_of("FREQ=WEEKLY;INTERVAL=0"), "INTERVAL");
        assert_eq!(part_of("FREQ=WEEKLY;INTERVAL=53"), "INTERVAL");
        assert_eq!(part_of("FREQ=WEEKLY;INTERVAL=two"), "INTERVAL");
        assert_eq!(part_of("FREQ=WEEKLY;INTERVAL=-1"), "INTERVAL");
        assert_eq!(part_of("FREQ=WEEKLY;UNTIL=2027-12-31"), "UNTIL");
        assert_eq!(part_of("FREQ=WEEKLY;UNTIL=20271332"), "UNTIL");
        assert_eq!(part_of("FREQ=WEEKLY;UNTIL=20271231T250000Z"), "UNTIL");
        assert_eq!(part_of("FREQ=WEEKLY;UNTIL=20271231T120000"), "UNTIL");
        assert_eq!(part_of("FREQ=WEEKLY;UNTIL=20270103"), "UNTIL");
        assert_eq!(part_of("FREQ=WEEKLY;COUNT=0"), "COUNT");
        assert_eq!(part_of("FREQ=WEEKLY;COUNT=1001"), "COUNT");
        assert_eq!(part_of("FREQ=WEEKLY;COUNT=3;UNTIL=20271231"), "RRULE");
        // The boundaries themselves are accepted.
        parse("FREQ=WEEKLY;INTERVAL=52;COUNT=1000", d(2027, 1, 4));
        parse("FREQ=WEEKLY;INTERVAL=1;UNTIL=20270104", d(2027, 1, 4));
    }

    // ---- properties ----

    /// A day-by-day reading of the module documentation, independent of the
    /// walking implementation.
    fn brute_force(rule: &Recurrence, dtstart: NaiveDate, to: NaiveDate) -> Vec<NaiveDate> {
        let mut out = Vec::new();
        let mut date = dtstart;
        while date <= to {
            let step = i64::from(rule.interval);
            let aligned_and_matching = match &rule.frequency {
                Frequency::Weekly { by_day } => {
                    let weeks = (monday_of(date) - monday_of(dtstart)).num_days() / 7;
                    weeks % step == 0 && by_day.contains(&date.weekday())
                }
                Frequency::Monthly { ordinal, weekday } => {
                    let months = month_index(date) - month_index(dtstart);
                    let nth = i8::try_from((date.day() - 1) / 7 + 1).unwrap();
                    let is_last =
                        date.checked_add_days(Days::new(7)).unwrap().month() != date.month();
                    months % step == 0
                        && date.weekday() == *weekday
                        && (nth == *ordinal || (*ordinal == -1 && is_last))
                }
            };
            let within_end = match rule.end {
                RecurrenceEnd::Forever => true,
                RecurrenceEnd::Until(until) => date <= until,
                RecurrenceEnd::Count(count) => out.len() < count as usize,
            };
            if aligned_and_matching && within_end {
                out.push(date);
            }
            date = date.succ_opt().unwrap();
        }
        out
    }

    fn weekday() -> impl Strategy<Value = Weekday> {
        (0u32..7).prop_map(weekday_from_offset)
    }

    fn recurrence_and_start() -> impl Strategy<Value = (Recurrence, NaiveDate)> {
        let frequency = prop_oneof![
            (1u8..128).prop_map(|mask| Frequency::Weekly {
                by_day: (0..7)
                    .filter(|bit| mask & (1 << bit) != 0)
                    .map(weekday_from_offset)
                    .collect()
            }),
            (prop::sample::select(vec![1i8, 2, 3, 4, -1]), weekday())
                .prop_map(|(ordinal, weekday)| Frequency::Monthly { ordinal, weekday }),
        ];
        let interval = prop_oneof![3 => 1u32..=4, 1 => 1u32..=52];
        let start = (0u64..4000).prop_map(|days| d(2020, 1, 1) + Days::new(days));
        (frequency, interval, start, 0u8..3, 0u64..1500, 1u32..=1000).prop_map(
            |(frequency, interval, start, end_kind, until_days, count)| {
                let end = match end_kind {
                    0 => RecurrenceEnd::Forever,
                    1 => RecurrenceEnd::Until(start + Days::new(until_days)),
                    _ => RecurrenceEnd::Count(count),
                };
                (
                    Recurrence {
                        frequency,
                        interval,
                        end,
                    },
                    start,
                )
            },
        )
    }

    proptest! {
        #[test]
        fn dates_follow_the_rule(
            (rule, start) in recurrence_and_start(),
            from_offset in -100i64..1500,
            length in 0u64..800,
        ) {
            let from = start.checked_add_signed(chrono::TimeDelta::days(from_offset)).unwrap();
            let to = from + Days::new(length);
            let dates = rule.dates(start, from, to);
            let expected: Vec<_> = brute_force(&rule, start, to)
                .into_iter()
                .filter(|date| *date >= from)
                .collect();
            prop_assert_eq!(&dates, &expected);
            for window in dates.windows(2) {
                prop_assert!(window[0] < window[1]);
            }
            for date in &dates {
                prop_assert!(*date >= start && *date >= from && *date <= to);
                match &rule.frequency {
                    Frequency::Weekly { by_day } => prop_assert!(by_day.contains(&date.weekday())),
                    Frequency::Monthly { ordinal, weekday } => {
                        prop_assert_eq!(date.weekday(), *weekday);
                        if *ordinal > 0 {
                            prop_assert_eq!((date.day() - 1) / 7 + 1, u32::from(ordinal.unsigned_abs()));
                        } else {
                            prop_assert!((*date + Days::new(7)).month() != date.month());
                        }
                    }
                }
                match rule.end {
                    RecurrenceEnd::Forever => {}
                    RecurrenceEnd::Until(until) => prop_assert!(*date <= until),
                    RecurrenceEnd::Count(count) => {
                        prop_assert!(rule.dates(start, start, *date).len() <= count as usize);
                    }
                }
            }
        }

        #[test]
        fn dates_split_at_any_point(
            (rule, start) in recurrence_and_start(),
            a_offset in -50i64..2000,
            first in 0u64..500,
            second in 0u64..500,
        ) {
            let a = start.checked_add_signed(chrono::TimeDelta::days(a_offset)).unwrap();
            let b = a + Days::new(first);
            let c = b + Days::new(1 + second);
            let mut joined = rule.dates(start, a, b);
            joined.extend(rule.dates(start, b.succ_opt().unwrap(), c));
            prop_assert_eq!(rule.dates(start, a, c), joined);
        }

        #[test]
        fn rule_string_round_trips((rule, start) in recurrence_and_start()) {
            let text = rule.to_rule_string();
            prop_assert_eq!(Recurrence::parse(&text, start), Ok(rule.clone()));
            prop_assert_eq!(Recurrence::parse(&format!("RRULE:{}", text.to_lowercase()), start), Ok(rule));
        }

        #[test]
        fn last_date_is_the_last_occurrence((rule, start) in recurrence_and_start()) {
            let last = rule.last_date(start);
            match rule.end {
                RecurrenceEnd::Forever => prop_assert_eq!(last, None),
                _ => {
                    let all = rule.dates(start, start, NaiveDate::MAX);
                    prop_assert_eq!(last, all.last().copied());
                }
            }
        }

        #[test]
        fn ending_before_keeps_exactly_the_earlier_dates(
            (rule, start) in recurrence_and_start(),
            cut_offset in -30i64..2000,
        ) {
            let cut = start.checked_add_signed(chrono::TimeDelta::days(cut_offset)).unwrap();
            let horizon = cut + Days::new(800);
            let before: Vec<_> = rule
                .dates(start, start, horizon)
                .into_iter()
                .filter(|date| *date < cut)
                .collect();
            match rule.ending_before(start, cut) {
                None => prop_assert!(before.is_empty()),
                Some(shortened) => {
                    prop_assert_eq!(&shortened.frequency, &rule.frequency);
                    let kept = shortened.dates(start, start, horizon);
                    prop_assert!(kept.iter().all(|date| *date < cut));
                    prop_assert_eq!(kept, before);
                    prop_assert_eq!(Recurrence::parse(&shortened.to_rule_string(), start), Ok(shortened));
                }
            }
        }
    }
}
