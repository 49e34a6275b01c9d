//! Free slots: the openings (e.g. permanence occurrences) cut into
//! back-to-back slots of a given duration, minus the staff's bookings.
//!
//! All intervals are half-open, `[start, end)`: a booking ending when a slot
//! starts does not overlap it.

use chrono::{DateTime, TimeDelta, Utc};

/// A period during which some staff can be booked, e.g. one occurrence of a
/// permanence held by these staff.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Opening<K, S> {
    /// Caller's identifier of the opening, copied into its slots.
    pub key: K,
    /// Start instant, inclusive.
    pub start: DateTime<Utc>,
    /// End instant, exclusive.
    pub end: DateTime<Utc>,
    /// Staff holding the opening, in the order slots list them.
    pub staff: Vec<S>,
}

/// An existing booking of one staff member, half-open `[start, end)`.
/// An interval with `end <= start` is empty and blocks nothing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Busy<S> {
    /// Who is booked.
    pub staff: S,
    /// Start instant, inclusive.
    pub start: DateTime<Utc>,
    /// End instant, exclusive.
    pub end: DateTime<Utc>,
}

/// A free slot of an opening, with the staff free for all of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Slot<K, S> {
    /// Key of the opening the slot belongs to.
    pub key: K,
    /// Start instant, inclusive.
    pub start: DateTime<Utc>,
    /// End instant, exclusive.
    pub end: DateTime<Utc>,
    /// The opening's staff with no booking overlapping the slot, in the
    /// opening's order; never empty.
    pub free_staff: Vec<S>,
}

/// The free slots of `openings`.
///
/// Each opening is cut into consecutive slots of `duration` from its start;
/// a slot is kept when it lies wholly inside the opening, starts at or after
/// `not_before`, and at least one of the opening's staff has no `busy`
/// interval overlapping it. Slots are sorted by start, then by the index of
/// their opening. A non-positive `duration` gives no slot.
///
/// Bookings are grouped by staff member and searched by bisection, so the
/// cost is about `slots × staff per opening × log(bookings)`, plus one
/// comparison per booking and distinct staff member (`S` is only `Eq`).
#[must_use]
pub fn free_slots<K: Clone, S: Clone + Eq>(
    openings: &[Opening<K, S>],
    busy: &[Busy<S>],
    duration: TimeDelta,
    not_before: DateTime<Utc>,
) -> Vec<Slot<K, S>> {
    if duration <= TimeDelta::zero() {
        return Vec::new();
    }
    let agenda = Agenda::new(openings, busy);
    let mut slots = Vec::new();
    for opening in openings {
        let staff: Vec<(&S, Option<&[Interval]>)> = opening
            .staff
            .iter()
            .map(|member| (member, agenda.of(member)))
            .collect();
        if staff.is_empty() {
            continue;
        }
        let Some(mut start) = first_slot_start(opening.start, duration, not_before) else {
            continue;
        };
        while let Some(end) = start.checked_add_signed(duration) {
            if end > opening.end {
                break;
            }
            let free_staff: Vec<S> = staff
                .iter()
                .filter(|(_, booked)| booked.is_none_or(|booked| is_free(booked, start, end)))
                .map(|(member, _)| (*member).clone())
                .collect();
            if !free_staff.is_empty() {
                slots.push(Slot {
                    key: opening.key.clone(),
                    start,
                    end,
                    free_staff,
                });
            }
            start = end;
        }
    }
    // Stable: slots with the same start stay in the openings' order.
    slots.sort_by_key(|slot| slot.start);
    slots
}

/// Nanoseconds in a second.
const NANOS_PER_SECOND: i128 = 1_000_000_000;

/// A non-empty half-open interval `[start, end)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Interval {
    start: DateTime<Utc>,
    end: DateTime<Utc>,
}

/// The bookings of the staff of the openings, grouped by staff member,
/// each group sorted, disjoint and not touching.
#[derive(Debug)]
struct Agenda<'a, S> {
    staff: Vec<(&'a S, Vec<Interval>)>,
}

impl<'a, S: Eq> Agenda<'a, S> {
    fn new<K>(openings: &'a [Opening<K, S>], busy: &[Busy<S>]) -> Self {
        let mut staff: Vec<(&'a S, Vec<Interval>)> = Vec::new();
        for member in openings.iter().flat_map(|opening| &opening.staff) {
            if !staff.iter().any(|(known, _)| *known == member) {
                staff.push((member, Vec::new()));
            }
        }
        // Bookings of one member often come together: remember the last one.
        let mut last: Option<usize> = None;
        for booking in busy {
            if booking.end <= booking.start {
                continue;
            }
            let index = match last {
                Some(index) if staff.get(index).is_some_and(|(m, _)| **m == booking.staff) => {
                    Some(index)
                }
                _ => staff.iter().position(|(m, _)| **m == booking.staff),
            };
            // Bookings of staff holding no opening are irrelevant.
            if let Some((_, intervals)) = index.and_then(|index| staff.get_mut(index)) {
                intervals.push(Interval {
                    start: booking.start,
                    end: booking.end,
                });
                last = index;
            }
        }
        for (_, intervals) in &mut staff {
            *intervals = merged(std::mem::take(intervals));
        }
        Self { staff }
    }

    /// The merged bookings of `member`, `None` when not booked at all.
    fn of(&self, member: &S) -> Option<&[Interval]> {
        self.staff
            .iter()
            .find(|(known, _)| *known == member)
            .map(|(_, intervals)| intervals.as_slice())
            .filter(|intervals| !intervals.is_empty())
    }
}

/// Sorts the intervals and merges those that overlap or touch.
fn merged(mut intervals: Vec<Interval>) -> Vec<Interval> {
    intervals.sort_by_key(|interval| interval.start);
    let mut out: Vec<Interval> = Vec::with_capacity(intervals.len());
    for interval in intervals {
        match out.last_mut() {
            Some(previous) if interval.start <= previous.end => {
                previous.end = previous.end.max(interval.end);
            }
            _ => out.push(interval),
        }
    }
    out
}

/// Whether none of `booked` (sorted, disjoint) overlaps `[start, end)`.
fn is_free(booked: &[Interval], start: DateTime<Utc>, end: DateTime<Utc>) -> bool {
    // The ends are sorted too: the first interval ending after `start` is
    // the only candidate.
    let first = booked.partition_point(|interval| interval.end <= start);
    booked
        .get(first)
        .is_none_or(|interval| interval.start >= end)
}

/// The first slot start `opening_start + k × duration` (k ≥ 0) that is not
/// before `not_before`, or `None` when out of range.
fn first_slot_start(
    opening_start: DateTime<Utc>,
    duration: TimeDelta,
    not_before: DateTime<Utc>,
) -> Option<DateTime<Utc>> {
    if not_before <= opening_start {
        return Some(opening_start);
    }
    let late = nanoseconds(not_before.signed_duration_since(opening_start));
    let step = nanoseconds(duration);
    if step <= 0 {
        return None;
    }
    let steps = late.div_euclid(step) + i128::from(late.rem_euclid(step) != 0);
    let offset = steps.checked_mul(step)?;
    let seconds = i64::try_from(offset.div_euclid(NANOS_PER_SECOND)).ok()?;
    let nanos = u32::try_from(offset.rem_euclid(NANOS_PER_SECOND)).ok()?;
    opening_start.checked_add_signed(TimeDelta::new(seconds, nanos)?)
}

/// The length of `delta` in nanoseconds, without overflow.
fn nanoseconds(delta: TimeDelta) -> i128 {
    i128::from(delta.num_seconds()) * NANOS_PER_SECOND + i128::from(delta.subsec_nanos())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn at(minutes: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000, 0).unwrap() + TimeDelta::minutes(minutes)
    }

    fn opening(
        key: &'static str,
        start: i64,
        end: i64,
        staff: &[&'static str],
    ) -> Opening<&'static str, &'static str> {
        Opening {
            key,
            start: at(start),
            end: at(end),
            staff: staff.to_vec(),
        }
    }

    fn busy(staff: &'static str, start: i64, end: i64) -> Busy<&'static str> {
        Busy {
            staff,
            start: at(start),
            end: at(end),
        }
    }

    /// A slot as (key, start, end, free staff), times in minutes.
    type Row = (&'static str, i64, i64, Vec<&'static str>);

    fn summary(slots: &[Slot<&'static str, &'static str>]) -> Vec<Row> {
        slots
            .iter()
            .map(|slot| {
                (
                    slot.key,
                    (slot.start - at(0)).num_minutes(),
                    (slot.end - at(0)).num_minutes(),
                    slot.free_staff.clone(),
                )
            })
            .collect()
    }

    #[test]
    fn cuts_openings_into_whole_slots() {
        let openings = [opening("p", 0, 100, &["ana", "bob"])];
        let slots = free_slots(&openings, &[], TimeDelta::minutes(30), at(-1000));
        assert_eq!(
            summary(&slots),
            [
                ("p", 0, 30, vec!["ana", "bob"]),
                ("p", 30, 60, vec!["ana", "bob"]),
                ("p", 60, 90, vec!["ana", "bob"]),
            ]
        );
    }

    #[test]
    fn non_positive_duration_or_no_staff_gives_nothing() {
        let openings = [opening("p", 0, 100, &["ana"]), opening("q", 0, 100, &[])];
        assert!(free_slots(&openings, &[], TimeDelta::zero(), at(0)).is_empty());
        assert!(free_slots(&openings, &[], TimeDelta::minutes(-5), at(0)).is_empty());
        let slots = free_slots(&openings, &[], TimeDelta::minutes(50), at(0));
        assert!(slots.iter().all(|slot| slot.key == "p"));
        assert_eq!(slots.len(), 2);
        assert!(free_slots(&openings, &[], TimeDelta::minutes(101), at(0)).is_empty());
    }

    #[test]
    fn touching_bookings_do_not_overlap() {
        let openings = [opening("p", 0, 90, &["ana"])];
        let bookings = [
            busy("ana", -30, 0),
            busy("ana", 30, 60),
            busy("ana", 90, 120),
        ];
        let slots = free_slots(&openings, &bookings, TimeDelta::minutes(30), at(0));
        assert_eq!(
            summary(&slots),
            [("p", 0, 30, vec!["ana"]), ("p", 60, 90, vec!["ana"])]
        );
    }

    #[test]
    fn a_booking_overlapping_by_a_moment_takes_the_slot() {
        let openings = [opening("p", 0, 60, &["ana"])];
        let bookings = [Busy {
            staff: "ana",
            start: at(30) - TimeDelta::nanoseconds(1),
            end: at(30) + TimeDelta::nanoseconds(1),
        }];
        assert!(free_slots(&openings, &bookings, TimeDelta::minutes(30), at(0)).is_empty());
        let empty = [busy("ana", 10, 10), busy("ana", 20, 5)];
        assert_eq!(
            free_slots(&openings, &empty, TimeDelta::minutes(30), at(0)).len(),
            2
        );
    }

    #[test]
    fn partially_booked_staff_are_left_out_of_the_slot() {
        let openings = [opening("p", 0, 90, &["ana", "bob", "cyd"])];
        let bookings = [
            busy("bob", 0, 45),
            busy("ana", 50, 55),
            busy("cyd", 60, 90),
            busy("bob", 60, 70),
            busy("dan", 0, 90),
        ];
        let slots = free_slots(&openings, &bookings, TimeDelta::minutes(30), at(0));
        assert_eq!(
            summary(&slots),
            [
                ("p", 0, 30, vec!["ana", "cyd"]),
                ("p", 30, 60, vec!["cyd"]),
                ("p", 60, 90, vec!["ana"]),
            ]
        );
    }

    #[test]
    fn not_before_in_the_middle_of_an_opening_keeps_the_grid() {
        let openings = [opening("p", 0, 120, &["ana"])];
        let d = TimeDelta::minutes(30);
        let starts = |not_before| {
            summary(&free_slots(&openings, &[], d, not_before))
                .into_iter()
                .map(|(_, start, _, _)| start)
                .collect::<Vec<_>>()
        };
        assert_eq!(starts(at(45)), [60, 90]);
        assert_eq!(starts(at(60)), [60, 90]);
        assert_eq!(starts(at(61)), [90]);
        assert_eq!(starts(at(91)), Vec::<i64>::new());
        assert_eq!(starts(at(0) + TimeDelta::nanoseconds(1)), [30, 60, 90]);
    }

    #[test]
    fn slots_are_sorted_by_start_then_opening() {
        let openings = [
            opening("late", 60, 120, &["ana"]),
            opening("second", 0, 60, &["bob"]),
            opening("first", 0, 60, &["cyd"]),
        ];
        let slots = free_slots(&openings, &[], TimeDelta::minutes(30), at(0));
        let keys: Vec<_> = slots
            .iter()
            .map(|slot| (slot.key, (slot.start - at(0)).num_minutes()))
            .collect();
        assert_eq!(
            keys,
            [
                ("second", 0),
                ("first", 0),
                ("second", 30),
                ("first", 30),
                ("late", 60),
                ("late", 90),
            ]
        );
    }

    #[test]
    fn many_openings_and_bookings_stay_fast() {
        let staff: Vec<u32> = (0..50).collect();
        let openings: Vec<Opening<usize, u32>> = (0..1000)
            .map(|i| {
                let day = i64::try_from(i).unwrap();
                Opening {
                    key: i,
                    start: at(day * 1440 + 540),
                    end: at(day * 1440 + 720),
                    staff: staff
                        .iter()
                        .copied()
                        .filter(|s| (s + i as u32) % 10 < 3)
                        .collect(),
                }
            })
            .collect();
        let busy: Vec<Busy<u32>> = (0..10_000)
            .map(|i: i64| Busy {
                staff: u32::try_from(i % 50).unwrap(),
                start: at((i * 97) % 1_440_000),
                end: at((i * 97) % 1_440_000 + 45),
            })
            .collect();
        let slots = free_slots(&openings, &busy, TimeDelta::minutes(15), at(0));
        assert!(!slots.is_empty());
        assert!(slots.len() <= 12_000);
    }

    /// The obvious quadratic definition.
    fn reference(
        openings: &[Opening<usize, u8>],
        busy: &[Busy<u8>],
        duration: TimeDelta,
        not_before: DateTime<Utc>,
    ) -> Vec<Slot<usize, u8>> {
        let mut slots = Vec::new();
        if duration <= TimeDelta::zero() {
            return slots;
        }
        for opening in openings {
            let mut start = opening.start;
            while start + duration <= opening.end {
                let end = start + duration;
                let free_staff: Vec<u8> = opening
                    .staff
                    .iter()
                    .copied()
                    .filter(|member| {
                        !busy.iter().any(|b| {
                            b.staff == *member && b.start < b.end && b.start < end && start < b.end
                        })
                    })
                    .collect();
                if start >= not_before && !free_staff.is_empty() {
                    slots.push(Slot {
                        key: opening.key,
                        start,
                        end,
                        free_staff,
                    });
                }
                start = end;
            }
        }
        slots.sort_by_key(|slot| slot.start);
        slots
    }

    fn openings_strategy() -> impl Strategy<Value = Vec<Opening<usize, u8>>> {
        prop::collection::vec(
            (0_i64..200, 0_i64..120, prop::collection::vec(0_u8..5, 0..4)),
            0..6,
        )
        .prop_map(|rows| {
            rows.into_iter()
                .enumerate()
                .map(|(key, (start, length, staff))| Opening {
                    key,
                    start: at(start),
                    end: at(start + length),
                    staff,
                })
                .collect()
        })
    }

    fn busy_strategy() -> impl Strategy<Value = Vec<Busy<u8>>> {
        prop::collection::vec((0_u8..6, -20_i64..340, -10_i64..60), 0..20).prop_map(|rows| {
            rows.into_iter()
                .map(|(staff, start, length)| Busy {
                    staff,
                    start: at(start),
                    end: at(start + length),
                })
                .collect()
        })
    }

    proptest! {
        #[test]
        fn matches_the_reference(
            openings in openings_strategy(),
            busy in busy_strategy(),
            minutes in -5_i64..50,
            not_before in -20_i64..340,
        ) {
            let duration = TimeDelta::minutes(minutes);
            let got = free_slots(&openings, &busy, duration, at(not_before));
            for slot in &got {
                prop_assert!(slot.start >= at(not_before));
                prop_assert_eq!(slot.end - slot.start, duration);
                let opening = &openings[slot.key];
                prop_assert!(opening.start <= slot.start && slot.end <= opening.end);
                prop_assert!(!slot.free_staff.is_empty());
                for member in &slot.free_staff {
                    prop_assert!(!busy.iter().any(|b| b.staff == *member
                        && b.start < b.end && b.start < slot.end && slot.start < b.end));
                }
            }
            prop_assert_eq!(got, reference(&openings, &busy, duration, at(not_before)));
        }
    }
}
