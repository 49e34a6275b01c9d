//! The RRULE parser and the walk of the rules it accepts: no panic, no
//! endless loop, occurrences sorted and within range, and the written form
//! of an accepted rule parses back to the same rule.
#![no_main]

use adosexo_domain::schedule::recurrence::Recurrence;
use chrono::{Days, NaiveDate};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // Two bytes choose the first date (2020 to 2040), one the window.
    let [a, b, w, rest @ ..] = data else { return };
    let Ok(rule) = std::str::from_utf8(rest) else {
        return;
    };
    let Some(base) = NaiveDate::from_ymd_opt(2020, 1, 1) else {
        return;
    };
    let offset = u64::from(u16::from_le_bytes([*a, *b])) % (366 * 20);
    let Some(dtstart) = base.checked_add_days(Days::new(offset)) else {
        return;
    };
    let Ok(parsed) = Recurrence::parse(rule, dtstart) else {
        return;
    };
    let written = parsed.to_rule_string();
    let again = Recurrence::parse(&written, dtstart).unwrap_or_else(|e| {
        panic!("{rule:?} was accepted but its written form {written:?} is not: {e:?}")
    });
    assert_eq!(again, parsed, "{rule:?} -> {written:?}");
    let from = dtstart;
    let Some(to) = from.checked_add_days(Days::new(u64::from(*w) * 30)) else {
        return;
    };
    let dates = parsed.dates(dtstart, from, to);
    assert!(
        dates.windows(2).all(|p| p[0] < p[1]),
        "{rule:?}: not ascending"
    );
    assert!(
        dates.iter().all(|d| *d >= from && *d <= to),
        "{rule:?}: out of range"
    );
    let _ = parsed.last_date(dtstart);
    if let Some(first) = dates.first() {
        let _ = parsed.ending_before(dtstart, *first);
    }
});
