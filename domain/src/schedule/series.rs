//! A permanence's series: a recurrence rule, a first date and a local time
//! span, expanded into instants. Local times are Paris wall-clock times, so
//! a 14:00 permanence stays at 14:00 across daylight-saving changes (13:00Z
//! in winter, 12:00Z in summer).
//!
//! Exceptions change one occurrence, named by its original date: cancelled,
//! or moved to other local times. Exceptions on dates that are not
//! occurrences of the series are ignored.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use chrono::{
    DateTime, Days, LocalResult, NaiveDate, NaiveDateTime, NaiveTime, Offset, TimeDelta, TimeZone,
    Utc,
};

use super::PARIS;
use super::recurrence::{Recurrence, RecurrenceEnd};
use crate::identity::{StringEnum, UnknownValue, string_enum};

/// Why a series value was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SeriesError {
    /// An end time is not after its start time (a span cannot cross
    /// midnight).
    #[error("the end must be after the start (and on the same day for a permanence's hours)")]
    EndBeforeStart,
}

string_enum!(
    /// Which part of the day a permanence covers; all but `explicit` come
    /// with default hours (full 09:00–17:30, morning 09:00–12:30,
    /// afternoon 13:30–17:30).
    PartOfDay, "part of day" {
        Full => "full",
        Morning => "morning",
        Afternoon => "afternoon",
        Explicit => "explicit",
    }
);

impl PartOfDay {
    /// The hours of a series: the part of day's defaults, or the explicit
    /// times (which only `Explicit` takes, and needs).
    pub fn span(
        self,
        start: Option<NaiveTime>,
        end: Option<NaiveTime>,
    ) -> Result<LocalSpan, SpanError> {
        match (self.default_span(), start, end) {
            (Some(span), None, None) => Ok(span),
            (Some(_), _, _) => Err(SpanError::TimesNeedExplicit),
            (None, Some(start), Some(end)) => {
                LocalSpan::new(start, end).map_err(|_| SpanError::EndBeforeStart)
            }
            (None, _, _) => Err(SpanError::ExplicitNeedsTimes),
        }
    }

    /// The default hours, `None` for `Explicit`.
    pub fn default_span(self) -> Option<LocalSpan> {
        let ((start_h, start_m), (end_h, end_m)) = match self {
            Self::Full => ((9, 0), (17, 30)),
            Self::Morning => ((9, 0), (12, 30)),
            Self::Afternoon => ((13, 30), (17, 30)),
            Self::Explicit => return None,
        };
        Some(LocalSpan {
            start: NaiveTime::from_hms_opt(start_h, start_m, 0)?,
            end: NaiveTime::from_hms_opt(end_h, end_m, 0)?,
        })
    }
}

/// Why the hours of a series were refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SpanError {
    /// Times given with a part of day that has its own hours.
    #[error("start_time and end_time go with part_of_day \"explicit\" only")]
    TimesNeedExplicit,
    /// `explicit` without both times.
    #[error("part_of_day \"explicit\" needs start_time and end_time")]
    ExplicitNeedsTimes,
    /// The end is not after the start.
    #[error("end_time must be after start_time (on the same day)")]
    EndBeforeStart,
}

/// The longest a moved occurrence may last.
pub const MAX_OCCURRENCE: TimeDelta = TimeDelta::hours(12);

/// Why a moved occurrence's times were refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum MoveError {
    /// The end is not after the start.
    #[error("a moved occurrence must end after it starts")]
    EndBeforeStart,
    /// Longer than [`MAX_OCCURRENCE`].
    #[error("an occurrence lasts at most 12 hours")]
    TooLong,
}

impl MoveError {
    /// The stable name of the rule.
    pub fn tag(self) -> &'static str {
        match self {
            Self::EndBeforeStart => "end-before-start",
            Self::TooLong => "too-long",
        }
    }
}

/// Checks the new times of a moved occurrence.
pub fn check_moved(start: DateTime<Utc>, end: DateTime<Utc>) -> Result<(), MoveError> {
    if end <= start {
        Err(MoveError::EndBeforeStart)
    } else if end - start > MAX_OCCURRENCE {
        Err(MoveError::TooLong)
    } else {
        Ok(())
    }
}

/// A "this and following" change of a series at a date.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Split {
    /// The series' rule, now ending before the date.
    pub before: Recurrence,
    /// The continuation's first date: the first occurrence on or after the
    /// date, so that weeks or months keep being counted as before.
    pub anchor: NaiveDate,
    /// The continuation's rule: the same rhythm and end (a count becomes
    /// the original last date, so the total stays the same).
    pub continuation: Recurrence,
}

/// Why a series cannot be split at a date.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SplitError {
    /// The date is not after the series' first date: change the whole series.
    #[error("from_date must be after the series' first date; change the whole series instead")]
    NotAfterStart,
    /// No occurrence before the date: change the whole series.
    #[error("the series has no occurrence before from_date; change the whole series instead")]
    NothingBefore,
    /// No occurrence on or after the date.
    #[error("the series has no occurrence from this date on")]
    NothingFrom,
}

/// Splits `series` at `from` (see [`Split`]).
pub fn split(series: &Series, from: NaiveDate) -> Result<Split, SplitError> {
    if from <= series.dtstart {
        return Err(SplitError::NotAfterStart);
    }
    let before = series
        .recurrence
        .ending_before(series.dtstart, from)
        .ok_or(SplitError::NothingBefore)?;
    // Occurrences are at most a few months apart (interval ≤ 52 weeks or months).
    let horizon = from
        .checked_add_days(Days::new(52 * 31 + 31))
        .unwrap_or(NaiveDate::MAX);
    let anchor = series
        .recurrence
        .dates(series.dtstart, from, horizon)
        .first()
        .copied()
        .ok_or(SplitError::NothingFrom)?;
    let mut continuation = series.recurrence.clone();
    if let RecurrenceEnd::Count(_) = continuation.end {
        continuation.end = RecurrenceEnd::Until(
            series
                .recurrence
                .last_date(series.dtstart)
                .unwrap_or(anchor),
        );
    }
    Ok(Split {
        before,
        anchor,
        continuation,
    })
}

/// Local (Paris) hours within one day, the end after the start.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct LocalSpan {
    start: NaiveTime,
    end: NaiveTime,
}

impl LocalSpan {
    /// A span; the end must be after the start.
    pub fn new(start: NaiveTime, end: NaiveTime) -> Result<Self, SeriesError> {
        if end > start {
            Ok(Self { start, end })
        } else {
            Err(SeriesError::EndBeforeStart)
        }
    }

    /// The local start time.
    pub fn start(self) -> NaiveTime {
        self.start
    }

    /// The local end time.
    pub fn end(self) -> NaiveTime {
        self.end
    }

    /// Its length on the clock (`end − start`).
    pub fn length(self) -> TimeDelta {
        self.end - self.start
    }

    /// The span on `date` as instants. The start is the local start time
    /// through [`paris_to_utc`] (RFC 5545: in the spring gap, shifted
    /// forward by the gap's length; in the autumn fold, the earlier
    /// instant); the occurrence then lasts exactly [`length`](Self::length),
    /// so that a change of time never empties, shortens or lengthens it
    /// (02:00–03:00 on 28 March 2027 is 03:00–04:00 summer time; 02:30–04:00
    /// on 31 October 2027 is 02:30 summer time to 03:00 winter time).
    pub fn instants_on(self, date: NaiveDate) -> (DateTime<Utc>, DateTime<Utc>) {
        let start = paris_to_utc(date.and_time(self.start));
        (start, start + self.length())
    }
}

/// A permanence's recurrence: the first date, the rule and the hours.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Series {
    /// The first candidate date of the rule.
    pub dtstart: NaiveDate,
    /// Which dates.
    pub recurrence: Recurrence,
    /// Which hours, Paris time.
    pub span: LocalSpan,
}

/// What happens to one occurrence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExceptionKind {
    /// It does not take place.
    Cancelled,
    /// It takes place at other Paris wall-clock times.
    Moved {
        /// New local start.
        start: NaiveDateTime,
        /// New local end.
        end: NaiveDateTime,
    },
}

impl ExceptionKind {
    /// A move, the end after the start.
    pub fn moved(start: NaiveDateTime, end: NaiveDateTime) -> Result<Self, SeriesError> {
        if end > start {
            Ok(Self::Moved { start, end })
        } else {
            Err(SeriesError::EndBeforeStart)
        }
    }
}

/// A change to the occurrence originally on `original_date`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeriesException {
    /// The date the occurrence had under the rule.
    pub original_date: NaiveDate,
    /// What happens to it.
    pub kind: ExceptionKind,
}

/// Whether an occurrence takes place as planned.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OccurrenceStatus {
    /// As the rule says.
    Scheduled,
    /// At other times.
    Moved,
    /// Not at all.
    Cancelled,
}

impl OccurrenceStatus {
    /// The wire name: `"scheduled"`, `"moved"` or `"cancelled"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Scheduled => "scheduled",
            Self::Moved => "moved",
            Self::Cancelled => "cancelled",
        }
    }
}

impl fmt::Display for OccurrenceStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One occurrence of a series, as instants.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Occurrence {
    /// The date under the rule (identifies the occurrence, also when moved).
    pub original_date: NaiveDate,
    /// Start (the new one when moved, the original one when cancelled).
    pub start: DateTime<Utc>,
    /// End (the new one when moved, the original one when cancelled).
    pub end: DateTime<Utc>,
    /// Scheduled, moved or cancelled.
    pub status: OccurrenceStatus,
}

/// The instant of a Paris wall-clock time. A time skipped by the spring
/// change (02:30 on the last Sunday of March) is moved forward by the gap
/// (03:30 summer time); a time repeated by the autumn change gives the
/// earlier instant (summer time).
pub fn paris_to_utc(local: NaiveDateTime) -> DateTime<Utc> {
    match PARIS.from_local_datetime(&local) {
        LocalResult::Single(instant) => instant.with_timezone(&Utc),
        LocalResult::Ambiguous(first, second) => {
            first.with_timezone(&Utc).min(second.with_timezone(&Utc))
        }
        LocalResult::None => {
            // In a gap: read the time with the offset in force just before
            // it (a day earlier, Paris changes at most twice a year).
            let offset_before = local
                .checked_sub_days(Days::new(1))
                .map(|earlier| {
                    PARIS
                        .offset_from_utc_datetime(&earlier)
                        .fix()
                        .local_minus_utc()
                })
                .unwrap_or(3600);
            TimeDelta::try_seconds(i64::from(offset_before))
                .and_then(|offset| local.checked_sub_signed(offset))
                .unwrap_or(local)
                .and_utc()
        }
    }
}

/// Whether `date` is an occurrence date of the series under its rule
/// (exceptions aside).
pub fn is_occurrence_date(series: &Series, date: NaiveDate) -> bool {
    !series
        .recurrence
        .dates(series.dtstart, date, date)
        .is_empty()
}

/// The occurrences whose interval overlaps `[from, to)`, sorted by start then
/// original date: scheduled ones at their date and the series' hours, moved
/// ones at their new times (wherever their original date lies), cancelled
/// ones at their original times. Exceptions on dates that are not
/// occurrences are ignored; when several exceptions name the same date, the
/// last one counts.
pub fn expand(
    series: &Series,
    exceptions: &[SeriesException],
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Vec<Occurrence> {
    let mut out = Vec::new();
    if from >= to {
        return out;
    }
    let first_date = from.with_timezone(&PARIS).date_naive();
    let first_date = first_date.pred_opt().unwrap_or(first_date);
    let last_date = to.with_timezone(&PARIS).date_naive();
    let last_date = last_date.succ_opt().unwrap_or(last_date);

    let mut changed: BTreeMap<NaiveDate, &ExceptionKind> = exceptions
        .iter()
        .map(|exception| (exception.original_date, &exception.kind))
        .collect();
    changed.retain(|date, _| is_occurrence_date(series, *date));

    let overlaps = |start: DateTime<Utc>, end: DateTime<Utc>| {
        start < to && (end > from || (end == start && start >= from))
    };
    for date in series
        .recurrence
        .dates(series.dtstart, first_date, last_date)
    {
        if changed.contains_key(&date) {
            continue;
        }
        let (start, end) = series.span.instants_on(date);
        if overlaps(start, end) {
            out.push(Occurrence {
                original_date: date,
                start,
                end,
                status: OccurrenceStatus::Scheduled,
            });
        }
    }
    for (date, kind) in changed {
        let (start, end, status) = match kind {
            ExceptionKind::Cancelled => {
                let (start, end) = series.span.instants_on(date);
                (start, end, OccurrenceStatus::Cancelled)
            }
            ExceptionKind::Moved { start, end } => {
                // As for the series' own hours: the start through
                // paris_to_utc, then the length on the clock.
                let length = *end - *start;
                let start = paris_to_utc(*start);
                let end = start + length;
                (start, end, OccurrenceStatus::Moved)
            }
        };
        if overlaps(start, end) {
            out.push(Occurrence {
                original_date: date,
                start,
                end,
                status,
            });
        }
    }
    out.sort_by(|a, b| {
        a.start
            .cmp(&b.start)
            .then(a.original_date.cmp(&b.original_date))
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Datelike, Timelike, Weekday};
    use proptest::prelude::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    fn t(h: u32, m: u32) -> NaiveTime {
        NaiveTime::from_hms_opt(h, m, 0).unwrap()
    }

    fn local(date: NaiveDate, h: u32, m: u32) -> NaiveDateTime {
        date.and_time(t(h, m))
    }

    fn utc(y: i32, mo: u32, day: u32, h: u32, m: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, mo, day, h, m, 0).unwrap()
    }

    fn second_tuesdays_2027() -> Series {
        let dtstart = d(2027, 1, 1);
        Series {
            dtstart,
            recurrence: Recurrence::parse("FREQ=MONTHLY;BYDAY=2TU", dtstart).unwrap(),
            span: LocalSpan::new(t(14, 0), t(17, 0)).unwrap(),
        }
    }

    #[test]
    fn the_dates_of_the_example_are_second_tuesdays() {
        for date in [
            d(2027, 3, 9),
            d(2027, 4, 13),
            d(2027, 10, 12),
            d(2027, 11, 9),
        ] {
            assert_eq!(date.weekday(), Weekday::Tue);
            assert_eq!((date.day() - 1) / 7 + 1, 2);
        }
    }

    #[test]
    fn monthly_series_keeps_local_time_across_daylight_saving() {
        let series = second_tuesdays_2027();
        let all = expand(&series, &[], utc(2027, 1, 1, 0, 0), utc(2028, 1, 1, 0, 0));
        assert_eq!(all.len(), 12);
        for occurrence in &all {
            assert_eq!(occurrence.status, OccurrenceStatus::Scheduled);
            let start = occurrence.start.with_timezone(&PARIS);
            assert_eq!(start.time(), t(14, 0));
            assert_eq!(start.date_naive(), occurrence.original_date);
            assert_eq!(occurrence.end.with_timezone(&PARIS).time(), t(17, 0));
        }
        let at = |date: NaiveDate| all.iter().find(|o| o.original_date == date).unwrap().start;
        assert_eq!(at(d(2027, 3, 9)), utc(2027, 3, 9, 13, 0));
        assert_eq!(at(d(2027, 4, 13)), utc(2027, 4, 13, 12, 0));
        assert_eq!(at(d(2027, 10, 12)), utc(2027, 10, 12, 12, 0));
        assert_eq!(at(d(2027, 11, 9)), utc(2027, 11, 9, 13, 0));
    }

    #[test]
    fn cancelled_and_moved_occurrences() {
        let series = second_tuesdays_2027();
        let exceptions = [
            SeriesException {
                original_date: d(2027, 3, 9),
                kind: ExceptionKind::Cancelled,
            },
            SeriesException {
                original_date: d(2027, 4, 13),
                kind: ExceptionKind::moved(
                    local(d(2027, 4, 15), 9, 0),
                    local(d(2027, 4, 15), 12, 0),
                )
                .unwrap(),
            },
            // Not an occurrence date: ignored.
            SeriesException {
                original_date: d(2027, 4, 14),
                kind: ExceptionKind::Cancelled,
            },
        ];
        let spring = expand(
            &series,
            &exceptions,
            utc(2027, 3, 1, 0, 0),
            utc(2027, 5, 1, 0, 0),
        );
        assert_eq!(
            spring,
            vec![
                Occurrence {
                    original_date: d(2027, 3, 9),
                    start: utc(2027, 3, 9, 13, 0),
                    end: utc(2027, 3, 9, 16, 0),
                    status: OccurrenceStatus::Cancelled,
                },
                Occurrence {
                    original_date: d(2027, 4, 13),
                    start: utc(2027, 4, 15, 7, 0),
                    end: utc(2027, 4, 15, 10, 0),
                    status: OccurrenceStatus::Moved,
                },
            ]
        );
        // The moved occurrence is found from its new times alone…
        let new_day = expand(
            &series,
            &exceptions,
            utc(2027, 4, 15, 0, 0),
            utc(2027, 4, 16, 0, 0),
        );
        assert_eq!(new_day.len(), 1);
        assert_eq!(new_day[0].status, OccurrenceStatus::Moved);
        // …and no longer on its original day.
        assert!(
            expand(
                &series,
                &exceptions,
                utc(2027, 4, 13, 0, 0),
                utc(2027, 4, 14, 0, 0)
            )
            .is_empty()
        );
    }

    #[test]
    fn moved_far_from_the_original_date_is_found() {
        let series = second_tuesdays_2027();
        let exceptions = [SeriesException {
            original_date: d(2027, 1, 12),
            kind: ExceptionKind::moved(local(d(2027, 6, 1), 10, 0), local(d(2027, 6, 1), 11, 0))
                .unwrap(),
        }];
        let june = expand(
            &series,
            &exceptions,
            utc(2027, 6, 1, 0, 0),
            utc(2027, 6, 2, 0, 0),
        );
        assert_eq!(june.len(), 1);
        assert_eq!(june[0].original_date, d(2027, 1, 12));
        assert_eq!(june[0].start, utc(2027, 6, 1, 8, 0));
        let january = expand(
            &series,
            &exceptions,
            utc(2027, 1, 1, 0, 0),
            utc(2027, 2, 1, 0, 0),
        );
        assert!(january.is_empty());
    }

    #[test]
    fn overlap_is_half_open_and_sorted() {
        let dtstart = d(2027, 1, 4);
        let series = Series {
            dtstart,
            recurrence: Recurrence::parse("FREQ=WEEKLY;INTERVAL=2;BYDAY=MO,TH", dtstart).unwrap(),
            span: PartOfDay::Morning.default_span().unwrap(),
        };
        // Monday 4 January 09:00–12:30 Paris = 08:00–11:30Z.
        assert!(expand(&series, &[], utc(2027, 1, 4, 11, 30), utc(2027, 1, 5, 0, 0)).is_empty());
        assert!(expand(&series, &[], utc(2027, 1, 4, 0, 0), utc(2027, 1, 4, 8, 0)).is_empty());
        assert_eq!(
            expand(
                &series,
                &[],
                utc(2027, 1, 4, 11, 29),
                utc(2027, 1, 4, 11, 31)
            )
            .len(),
            1
        );
        let dates: Vec<_> = expand(&series, &[], utc(2027, 1, 1, 0, 0), utc(2027, 2, 1, 0, 0))
            .into_iter()
            .map(|o| o.original_date)
            .collect();
        assert_eq!(
            dates,
            vec![d(2027, 1, 4), d(2027, 1, 7), d(2027, 1, 18), d(2027, 1, 21)]
        );
        assert!(expand(&series, &[], utc(2027, 2, 1, 0, 0), utc(2027, 1, 1, 0, 0)).is_empty());
    }

    #[test]
    fn count_until_and_last_friday_series() {
        let dtstart = d(2027, 1, 1);
        let series = |rule: &str| Series {
            dtstart,
            recurrence: Recurrence::parse(rule, dtstart).unwrap(),
            span: PartOfDay::Afternoon.default_span().unwrap(),
        };
        let year = |s: &Series| expand(s, &[], utc(2026, 1, 1, 0, 0), utc(2029, 1, 1, 0, 0));
        let counted = year(&series("FREQ=MONTHLY;BYDAY=-1FR;COUNT=2"));
        assert_eq!(counted.len(), 2);
        assert_eq!(counted[0].original_date, d(2027, 1, 29));
        assert_eq!(counted[1].original_date, d(2027, 2, 26));
        assert_eq!(counted[1].start, utc(2027, 2, 26, 12, 30));
        let until = year(&series("FREQ=MONTHLY;BYDAY=-1FR;UNTIL=20270430"));
        assert_eq!(until.len(), 4);
        assert_eq!(until[3].original_date, d(2027, 4, 30));
        assert_eq!(until[3].start, utc(2027, 4, 30, 11, 30));
        assert!(is_occurrence_date(
            &series("FREQ=MONTHLY;BYDAY=-1FR"),
            d(2027, 12, 31)
        ));
        assert!(!is_occurrence_date(
            &series("FREQ=MONTHLY;BYDAY=-1FR"),
            d(2027, 12, 24)
        ));
    }

    #[test]
    fn paris_to_utc_handles_gaps_and_repeats() {
        // Ordinary winter and summer times.
        assert_eq!(
            paris_to_utc(local(d(2027, 1, 12), 14, 0)),
            utc(2027, 1, 12, 13, 0)
        );
        assert_eq!(
            paris_to_utc(local(d(2027, 7, 13), 14, 0)),
            utc(2027, 7, 13, 12, 0)
        );
        // Spring forward on 28 March 2027: 02:00–03:00 does not exist.
        let skipped = paris_to_utc(local(d(2027, 3, 28), 2, 30));
        assert_eq!(skipped, utc(2027, 3, 28, 1, 30));
        assert_eq!(skipped.with_timezone(&PARIS).time(), t(3, 30));
        assert_eq!(
            paris_to_utc(local(d(2027, 3, 28), 3, 0)),
            utc(2027, 3, 28, 1, 0)
        );
        assert_eq!(
            paris_to_utc(local(d(2027, 3, 28), 1, 59)),
            utc(2027, 3, 28, 0, 59)
        );
        // Fall back on 31 October 2027: 02:00–03:00 happens twice.
        assert_eq!(
            paris_to_utc(local(d(2027, 10, 31), 2, 30)),
            utc(2027, 10, 31, 0, 30)
        );
        assert_eq!(
            paris_to_utc(local(d(2027, 10, 31), 3, 0)),
            utc(2027, 10, 31, 2, 0)
        );
    }

    #[test]
    fn span_in_the_gap_keeps_its_length() {
        let span = LocalSpan::new(t(2, 30), t(3, 0)).unwrap();
        let (start, end) = span.instants_on(d(2027, 3, 28));
        assert_eq!(start, utc(2027, 3, 28, 1, 30));
        assert_eq!(end, start + TimeDelta::minutes(30));
    }

    #[test]
    fn parts_of_day_and_spans() {
        for part in [
            PartOfDay::Full,
            PartOfDay::Morning,
            PartOfDay::Afternoon,
            PartOfDay::Explicit,
        ] {
            assert_eq!(part.as_str().parse::<PartOfDay>(), Ok(part));
            assert_eq!(part.to_string(), part.as_str());
        }
        assert!("evening".parse::<PartOfDay>().is_err());
        let full = PartOfDay::Full.default_span().unwrap();
        assert_eq!((full.start(), full.end()), (t(9, 0), t(17, 30)));
        let morning = PartOfDay::Morning.default_span().unwrap();
        assert_eq!((morning.start(), morning.end()), (t(9, 0), t(12, 30)));
        let afternoon = PartOfDay::Afternoon.default_span().unwrap();
        assert_eq!((afternoon.start(), afternoon.end()), (t(13, 30), t(17, 30)));
        assert_eq!(PartOfDay::Explicit.default_span(), None);
        assert_eq!(
            LocalSpan::new(t(10, 0), t(10, 0)),
            Err(SeriesError::EndBeforeStart)
        );
        assert_eq!(
            LocalSpan::new(t(10, 0), t(9, 0)),
            Err(SeriesError::EndBeforeStart)
        );
        assert_eq!(
            ExceptionKind::moved(local(d(2027, 1, 1), 10, 0), local(d(2027, 1, 1), 9, 0)),
            Err(SeriesError::EndBeforeStart)
        );
        assert_eq!(OccurrenceStatus::Scheduled.as_str(), "scheduled");
        assert_eq!(OccurrenceStatus::Moved.as_str(), "moved");
        assert_eq!(OccurrenceStatus::Cancelled.as_str(), "cancelled");
    }

    fn series_strategy() -> impl Strategy<Value = Series> {
        let rule = prop_oneof![
            (1u8..128, 1u32..=3).prop_map(|(mask, interval)| {
                let days: Vec<_> = ["MO", "TU", "WE", "TH", "FR", "SA", "SU"]
                    .iter()
                    .enumerate()
                    .filter(|(bit, _)| mask & (1 << bit) != 0)
                    .map(|(_, code)| *code)
                    .collect();
                format!("FREQ=WEEKLY;INTERVAL={interval};BYDAY={}", days.join(","))
            }),
            (
                prop::sample::select(vec!["1", "2", "3", "4", "-1"]),
                prop::sample::select(vec!["MO", "TU", "WE", "TH", "FR", "SA", "SU"]),
            )
                .prop_map(|(ordinal, day)| format!("FREQ=MONTHLY;BYDAY={ordinal}{day}")),
        ];
        // Starts from 06:00 to 20:45, away from the 02:00–03:00 changes.
        (rule, 0u64..3000, 24u32..84, 1u32..16).prop_map(|(rule, days, quarter, length)| {
            let dtstart = d(2024, 1, 1) + Days::new(days);
            let start = t(quarter / 4, (quarter % 4) * 15);
            let end = start
                .overflowing_add_signed(TimeDelta::minutes(i64::from(length) * 15))
                .0;
            let end = if end > start { end } else { t(23, 59) };
            Series {
                dtstart,
                recurrence: Recurrence::parse(&rule, dtstart).unwrap(),
                span: LocalSpan::new(start, end).unwrap(),
            }
        })
    }

    /// The last Sunday of `month` (Paris changes time then, at 01:00 UTC).
    fn last_sunday(year: i32, month: u32) -> NaiveDate {
        let mut day = d(year, month, 31);
        while day.weekday() != chrono::Weekday::Sun {
            day = day.pred_opt().unwrap();
        }
        day
    }

    /// Every change of time from 2026 to 2035, every span on a quarter-hour
    /// grid (whichever hours it covers, in the gap, the fold or across
    /// them): the occurrence lasts exactly its length on the clock, starts
    /// at its local start time or, in the spring gap, one hour (the gap)
    /// later, and never ends before it starts.
    #[test]
    fn changes_of_time_never_empty_shorten_or_lengthen_an_occurrence() {
        let mut checked = 0;
        for year in 2026..=2035 {
            for (date, spring) in [(last_sunday(year, 3), true), (last_sunday(year, 10), false)] {
                // The change is real that day (the offset at noon differs from the night before's).
                let before = PARIS.offset_from_utc_datetime(&date.and_hms_opt(0, 0, 0).unwrap());
                let after = PARIS.offset_from_utc_datetime(&date.and_hms_opt(12, 0, 0).unwrap());
                assert_ne!(before.fix(), after.fix(), "{date}");
                for start_quarter in 0u32..96 {
                    for end_quarter in (start_quarter + 1)..=95 {
                        let start = t(start_quarter / 4, (start_quarter % 4) * 15);
                        let end = t(end_quarter / 4, (end_quarter % 4) * 15);
                        let span = LocalSpan::new(start, end).unwrap();
                        let (from, to) = span.instants_on(date);
                        assert_eq!(to - from, end - start, "{date} {start}–{end}");
                        let local = from.with_timezone(&PARIS);
                        let in_gap = spring && start.hour() == 2;
                        let expected = if in_gap {
                            start + TimeDelta::hours(1)
                        } else {
                            start
                        };
                        assert_eq!(local.time(), expected, "{date} {start}–{end}");
                        assert_eq!(local.date_naive(), date);
                        checked += 1;
                    }
                }
            }
        }
        assert_eq!(checked, 20 * 95 * 96 / 2);
    }

    #[test]
    fn the_cases_outside_testing_found() {
        // Weekly on Sunday, 02:00–03:00 local, on 28 March 2027: an hour,
        // 03:00–04:00 summer time (it was 03:00–03:00).
        let span = LocalSpan::new(t(2, 0), t(3, 0)).unwrap();
        assert_eq!(
            span.instants_on(d(2027, 3, 28)),
            (utc(2027, 3, 28, 1, 0), utc(2027, 3, 28, 2, 0))
        );
        // 02:30–04:00: 90 minutes on both change days (it was 30 and 150).
        let span = LocalSpan::new(t(2, 30), t(4, 0)).unwrap();
        for date in [d(2027, 3, 28), d(2027, 10, 31)] {
            let (from, to) = span.instants_on(date);
            assert_eq!(to - from, TimeDelta::minutes(90), "{date}");
        }
    }

    proptest! {
        #[test]
        fn scheduled_occurrences_start_at_the_local_start_time(
            series in series_strategy(),
            from_hours in 0i64..(24 * 3000),
            length_hours in 1i64..(24 * 120),
        ) {
            let from = utc(2024, 1, 1, 0, 0) + TimeDelta::hours(from_hours);
            let to = from + TimeDelta::hours(length_hours);
            let occurrences = expand(&series, &[], from, to);
            let local_from = from.with_timezone(&PARIS).date_naive();
            let local_to = to.with_timezone(&PARIS).date_naive();
            let dates = series.recurrence.dates(series.dtstart, local_from, local_to);
            for occurrence in &occurrences {
                prop_assert_eq!(occurrence.status, OccurrenceStatus::Scheduled);
                let start = occurrence.start.with_timezone(&PARIS);
                prop_assert_eq!(start.time(), series.span.start());
                prop_assert_eq!(start.date_naive(), occurrence.original_date);
                prop_assert_eq!(occurrence.end.with_timezone(&PARIS).time(), series.span.end());
                prop_assert!(occurrence.start < to && occurrence.end > from);
                prop_assert!(dates.contains(&occurrence.original_date));
            }
            for pair in occurrences.windows(2) {
                prop_assert!(pair[0].start <= pair[1].start);
            }
            // Every date strictly inside the range has its occurrence.
            for date in dates {
                if date > local_from && date < local_to {
                    prop_assert!(occurrences.iter().any(|o| o.original_date == date));
                }
            }
        }

        #[test]
        fn a_cancelled_date_keeps_its_times_and_a_moved_one_its_new_times(
            series in series_strategy(),
            pick in 0usize..50,
            move_days in -40i64..40,
            move_hour in 6u32..20,
        ) {
            let horizon = series.dtstart + Days::new(400);
            let dates = series.recurrence.dates(series.dtstart, series.dtstart, horizon);
            prop_assume!(!dates.is_empty());
            let original = dates[pick % dates.len()];
            let new_day = original.checked_add_signed(TimeDelta::days(move_days)).unwrap();
            let new_start = local(new_day, move_hour, 0);
            let moved = [SeriesException {
                original_date: original,
                kind: ExceptionKind::moved(new_start, new_start + TimeDelta::hours(1)).unwrap(),
            }];
            let from = paris_to_utc(local(new_day, 0, 0));
            let to = paris_to_utc(local(new_day.succ_opt().unwrap(), 0, 0));
            let found: Vec<_> = expand(&series, &moved, from, to)
                .into_iter()
                .filter(|o| o.original_date == original)
                .collect();
            prop_assert_eq!(found.len(), 1);
            prop_assert_eq!(found[0].status, OccurrenceStatus::Moved);
            prop_assert_eq!(found[0].start.with_timezone(&PARIS).naive_local(), new_start);

            let cancelled = [SeriesException { original_date: original, kind: ExceptionKind::Cancelled }];
            let day_from = paris_to_utc(local(original, 0, 0));
            let day_to = paris_to_utc(local(original.succ_opt().unwrap(), 0, 0));
            let on_day = expand(&series, &cancelled, day_from, day_to);
            let hit: Vec<_> = on_day.iter().filter(|o| o.original_date == original).collect();
            prop_assert_eq!(hit.len(), 1);
            prop_assert_eq!(hit[0].status, OccurrenceStatus::Cancelled);
            prop_assert_eq!(hit[0].start.with_timezone(&PARIS).time().hour(), series.span.start().hour());
        }
    }

    #[test]
    fn spans_come_from_the_part_of_day_or_explicit_times() {
        let t = |h, m| NaiveTime::from_hms_opt(h, m, 0).expect("time");
        assert_eq!(
            PartOfDay::Morning.span(None, None).map(|s| s.start()),
            Ok(t(9, 0))
        );
        assert_eq!(
            PartOfDay::Morning.span(Some(t(10, 0)), None),
            Err(SpanError::TimesNeedExplicit)
        );
        assert_eq!(
            PartOfDay::Explicit.span(Some(t(10, 0)), None),
            Err(SpanError::ExplicitNeedsTimes)
        );
        assert_eq!(
            PartOfDay::Explicit.span(Some(t(10, 0)), Some(t(9, 0))),
            Err(SpanError::EndBeforeStart)
        );
        assert_eq!(
            PartOfDay::Explicit
                .span(Some(t(14, 0)), Some(t(17, 0)))
                .map(|s| s.end()),
            Ok(t(17, 0))
        );
    }

    #[test]
    fn moved_times_are_checked() {
        let at = |h| {
            Utc.with_ymd_and_hms(2027, 3, 9, h, 0, 0)
                .single()
                .expect("time")
        };
        assert_eq!(check_moved(at(10), at(12)), Ok(()));
        assert_eq!(check_moved(at(12), at(12)), Err(MoveError::EndBeforeStart));
        assert_eq!(check_moved(at(0), at(13)), Err(MoveError::TooLong));
    }

    #[test]
    fn a_split_keeps_the_rhythm_and_the_count() {
        let d = |m, day| NaiveDate::from_ymd_opt(2027, m, day).expect("date");
        let dtstart = d(1, 5);
        let series = Series {
            dtstart,
            recurrence: Recurrence::parse("FREQ=WEEKLY;INTERVAL=2;BYDAY=TU;COUNT=6", dtstart)
                .expect("rule"),
            span: PartOfDay::Afternoon.default_span().expect("span"),
        };
        let split = split(&series, d(1, 25)).expect("split");
        assert_eq!(split.anchor, d(2, 2), "the next fortnightly Tuesday");
        let far = d(12, 31);
        assert_eq!(
            split.before.dates(dtstart, dtstart, far),
            [d(1, 5), d(1, 19)]
        );
        assert_eq!(
            split.continuation.dates(split.anchor, split.anchor, far),
            [d(2, 2), d(2, 16), d(3, 2), d(3, 16)]
        );
        assert_eq!(
            super::split(&series, dtstart),
            Err(SplitError::NotAfterStart)
        );
        assert_eq!(
            super::split(&series, d(1, 6)).map(|s| s.anchor),
            Ok(d(1, 19))
        );
        assert_eq!(super::split(&series, d(4, 1)), Err(SplitError::NothingFrom));
    }
}
