//! iCalendar (RFC 5545) feed writer: a calendar of events, rendered with
//! CRLF line endings, escaped TEXT values and lines folded at 75 octets.
//!
//! Start and end are written as Europe/Paris wall-clock times against one
//! `VTIMEZONE` so that calendar clients show them in Paris time.

use chrono::{DateTime, LocalResult, TimeZone, Utc};

use super::PARIS;

/// The longest content line allowed, in octets, not counting the CRLF.
const MAX_LINE_OCTETS: usize = 75;

/// The time zone identifier used in `TZID` parameters.
const TZID: &str = "Europe/Paris";

/// The Europe/Paris time zone definition, one content line per entry.
const VTIMEZONE: [&str; 17] = [
    "BEGIN:VTIMEZONE",
    "TZID:Europe/Paris",
    "BEGIN:STANDARD",
    "DTSTART:19701025T030000",
    "RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU",
    "TZOFFSETFROM:+0200",
    "TZOFFSETTO:+0100",
    "TZNAME:CET",
    "END:STANDARD",
    "BEGIN:DAYLIGHT",
    "DTSTART:19700329T020000",
    "RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU",
    "TZOFFSETFROM:+0100",
    "TZOFFSETTO:+0200",
    "TZNAME:CEST",
    "END:DAYLIGHT",
    "END:VTIMEZONE",
];

/// The `STATUS` of an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EventStatus {
    /// Not yet confirmed.
    Tentative,
    /// Confirmed.
    Confirmed,
    /// Cancelled: clients show it struck through or remove it.
    Cancelled,
}

impl EventStatus {
    /// The RFC 5545 value of the `STATUS` property.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Tentative => "TENTATIVE",
            Self::Confirmed => "CONFIRMED",
            Self::Cancelled => "CANCELLED",
        }
    }
}

/// One `VEVENT` of a calendar feed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CalendarEvent {
    /// Globally unique, stable identifier of the event (`UID`).
    pub uid: String,
    /// Revision number, to be increased on each significant change (`SEQUENCE`).
    pub sequence: u32,
    /// When this representation was produced (`DTSTAMP`).
    pub stamp: DateTime<Utc>,
    /// Start instant (`DTSTART`).
    pub start: DateTime<Utc>,
    /// End instant, exclusive (`DTEND`).
    pub end: DateTime<Utc>,
    /// Short title (`SUMMARY`).
    pub summary: String,
    /// Place, if any (`LOCATION`).
    pub location: Option<String>,
    /// Longer text, if any (`DESCRIPTION`).
    pub description: Option<String>,
    /// Status (`STATUS`).
    pub status: EventStatus,
}

/// A calendar feed: a name and its events.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Calendar {
    /// Name shown by clients (`X-WR-CALNAME`).
    pub name: String,
    /// Events, rendered in this order.
    pub events: Vec<CalendarEvent>,
}

/// Renders the calendar as an RFC 5545 `VCALENDAR` (CRLF line endings,
/// folded lines, escaped text).
#[must_use]
pub fn render(calendar: &Calendar) -> String {
    let mut out = String::new();
    push_line(&mut out, "BEGIN:VCALENDAR");
    push_line(&mut out, "VERSION:2.0");
    push_line(&mut out, "PRODID:-//adosexo//agenda//FR");
    push_line(&mut out, "CALSCALE:GREGORIAN");
    push_line(&mut out, "METHOD:PUBLISH");
    push_text(&mut out, "X-WR-CALNAME", &calendar.name);
    push_line(&mut out, &format!("X-WR-TIMEZONE:{TZID}"));
    for line in VTIMEZONE {
        push_line(&mut out, line);
    }
    for event in &calendar.events {
        render_event(&mut out, event);
    }
    push_line(&mut out, "END:VCALENDAR");
    out
}

/// Appends one `VEVENT`.
fn render_event(out: &mut String, event: &CalendarEvent) {
    push_line(out, "BEGIN:VEVENT");
    push_text(out, "UID", &event.uid);
    push_line(out, &format!("SEQUENCE:{}", event.sequence));
    push_line(out, &format!("DTSTAMP:{}", utc_date_time(event.stamp)));
    push_line(out, &format!("DTSTART{}", local_date_time(event.start)));
    push_line(out, &format!("DTEND{}", local_date_time(event.end)));
    push_text(out, "SUMMARY", &event.summary);
    if let Some(location) = &event.location {
        push_text(out, "LOCATION", location);
    }
    if let Some(description) = &event.description {
        push_text(out, "DESCRIPTION", description);
    }
    push_line(out, &format!("STATUS:{}", event.status.as_str()));
    push_line(out, "END:VEVENT");
}

/// `YYYYMMDDTHHMMSSZ`, the UTC form of a DATE-TIME.
fn utc_date_time(instant: DateTime<Utc>) -> String {
    instant.format("%Y%m%dT%H%M%SZ").to_string()
}

/// The parameters and value of a `DTSTART`/`DTEND` property, from the
/// parameter separator on: `;TZID=Europe/Paris:YYYYMMDDTHHMMSS`.
///
/// A Paris local time that occurs twice (the hour repeated when summer time
/// ends) means its first occurrence (RFC 5545, 3.3.5), so an instant in the
/// second occurrence is written in UTC form instead: `:YYYYMMDDTHHMMSSZ`.
fn local_date_time(instant: DateTime<Utc>) -> String {
    let local = instant.with_timezone(&PARIS).naive_local();
    let first_occurrence = match PARIS.from_local_datetime(&local) {
        LocalResult::Single(first) | LocalResult::Ambiguous(first, _) => Some(first),
        LocalResult::None => None,
    };
    if first_occurrence.is_some_and(|first| first.naive_utc() == instant.naive_utc()) {
        format!(";TZID={TZID}:{}", local.format("%Y%m%dT%H%M%S"))
    } else {
        format!(":{}", utc_date_time(instant))
    }
}

/// Appends a property whose value is TEXT, escaped.
fn push_text(out: &mut String, name: &str, value: &str) {
    let mut line = String::with_capacity(name.len() + 1 + value.len());
    line.push_str(name);
    line.push(':');
    escape_text_into(&mut line, value);
    push_line(out, &line);
}

/// Escapes a TEXT value (RFC 5545, 3.3.11): backslash, semicolon and comma
/// are backslash-escaped, a line feed becomes `\n`, and the other control
/// characters are dropped, horizontal tab excepted (a CRLF thus becomes `\n`).
fn escape_text_into(out: &mut String, value: &str) {
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            ';' => out.push_str("\\;"),
            ',' => out.push_str("\\,"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push('\t'),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
}

/// Appends one content line, folded so that no physical line exceeds 75
/// octets (continuations start with one space) and never inside a UTF-8
/// character, each physical line ended by CRLF.
fn push_line(out: &mut String, line: &str) {
    let mut used = 0;
    for c in line.chars() {
        let width = c.len_utf8();
        if used + width > MAX_LINE_OCTETS {
            out.push_str("\r\n ");
            used = 1;
        }
        out.push(c);
        used += width;
    }
    out.push_str("\r\n");
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn at(rfc3339: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(rfc3339)
            .unwrap()
            .with_timezone(&Utc)
    }

    fn event(start: &str, end: &str) -> CalendarEvent {
        CalendarEvent {
            uid: "permanence-42@adosexo".to_owned(),
            sequence: 3,
            stamp: at("2027-01-01T08:09:10Z"),
            start: at(start),
            end: at(end),
            summary: "Permanence".to_owned(),
            location: None,
            description: None,
            status: EventStatus::Confirmed,
        }
    }

    fn calendar(events: Vec<CalendarEvent>) -> Calendar {
        Calendar {
            name: "Agenda".to_owned(),
            events,
        }
    }

    /// Undoes the folding: removes every CRLF followed by one space or tab.
    fn unfold(text: &str) -> String {
        text.replace("\r\n ", "").replace("\r\n\t", "")
    }

    /// The unfolded content lines.
    fn lines(text: &str) -> Vec<String> {
        let unfolded = unfold(text);
        let body = unfolded.strip_suffix("\r\n").unwrap();
        body.split("\r\n").map(str::to_owned).collect()
    }

    /// The value of the first property named `name` (parameters included
    /// in the name, as in `DTSTART;TZID=Europe/Paris`).
    fn value_of(text: &str, name: &str) -> Option<String> {
        let prefix = format!("{name}:");
        lines(text)
            .into_iter()
            .find_map(|line| line.strip_prefix(&prefix).map(str::to_owned))
    }

    fn unescape(value: &str) -> String {
        let mut out = String::new();
        let mut chars = value.chars();
        while let Some(c) = chars.next() {
            if c == '\\' {
                match chars.next() {
                    Some('n' | 'N') => out.push('\n'),
                    Some(other) => out.push(other),
                    None => panic!("dangling backslash in {value:?}"),
                }
            } else {
                out.push(c);
            }
        }
        out
    }

    fn assert_well_formed(text: &str) {
        assert!(text.ends_with("\r\n"));
        let body = text.strip_suffix("\r\n").unwrap();
        for line in body.split("\r\n") {
            assert!(line.len() <= MAX_LINE_OCTETS, "too long: {line:?}");
            assert!(!line.contains('\r') && !line.contains('\n'), "{line:?}");
            assert!(!line.is_empty());
        }
    }

    #[test]
    fn renders_the_calendar_frame_and_time_zone() {
        let text = render(&calendar(vec![event(
            "2027-07-13T12:00:00Z",
            "2027-07-13T13:00:00Z",
        )]));
        assert_well_formed(&text);
        let lines = lines(&text);
        let expected_head = [
            "BEGIN:VCALENDAR",
            "VERSION:2.0",
            "PRODID:-//adosexo//agenda//FR",
            "CALSCALE:GREGORIAN",
            "METHOD:PUBLISH",
            "X-WR-CALNAME:Agenda",
            "X-WR-TIMEZONE:Europe/Paris",
        ];
        assert_eq!(lines[..expected_head.len()], expected_head);
        let timezone = &lines[expected_head.len()..expected_head.len() + VTIMEZONE.len()];
        assert_eq!(timezone, VTIMEZONE);
        let event_lines = &lines[expected_head.len() + VTIMEZONE.len()..];
        assert_eq!(
            event_lines,
            [
                "BEGIN:VEVENT",
                "UID:permanence-42@adosexo",
                "SEQUENCE:3",
                "DTSTAMP:20270101T080910Z",
                "DTSTART;TZID=Europe/Paris:20270713T140000",
                "DTEND;TZID=Europe/Paris:20270713T150000",
                "SUMMARY:Permanence",
                "STATUS:CONFIRMED",
                "END:VEVENT",
                "END:VCALENDAR",
            ]
        );
        assert_eq!(text.matches("BEGIN:VTIMEZONE").count(), 1);
    }

    #[test]
    fn an_empty_calendar_still_has_its_time_zone() {
        let text = render(&calendar(Vec::new()));
        assert_well_formed(&text);
        assert!(text.starts_with("BEGIN:VCALENDAR\r\n"));
        assert!(text.ends_with("END:VTIMEZONE\r\nEND:VCALENDAR\r\n"));
        assert!(!text.contains("VEVENT"));
    }

    #[test]
    fn summer_and_winter_events_are_in_paris_local_time() {
        let summer = event("2027-07-13T12:00:00Z", "2027-07-13T13:30:00Z");
        let winter = event("2027-01-12T13:00:00Z", "2027-01-12T14:15:00Z");
        let summer_text = render(&calendar(vec![summer]));
        let winter_text = render(&calendar(vec![winter]));
        assert_eq!(
            value_of(&summer_text, "DTSTART;TZID=Europe/Paris").as_deref(),
            Some("20270713T140000")
        );
        assert_eq!(
            value_of(&summer_text, "DTEND;TZID=Europe/Paris").as_deref(),
            Some("20270713T153000")
        );
        assert_eq!(
            value_of(&winter_text, "DTSTART;TZID=Europe/Paris").as_deref(),
            Some("20270112T140000")
        );
        assert_eq!(
            value_of(&winter_text, "DTEND;TZID=Europe/Paris").as_deref(),
            Some("20270112T151500")
        );
    }

    #[test]
    fn an_event_across_the_change_to_summer_time_keeps_its_instants() {
        // 2027-03-28: 02:00 CET becomes 03:00 CEST.
        let text = render(&calendar(vec![event(
            "2027-03-28T00:30:00Z",
            "2027-03-28T01:30:00Z",
        )]));
        assert_eq!(
            value_of(&text, "DTSTART;TZID=Europe/Paris").as_deref(),
            Some("20270328T013000")
        );
        assert_eq!(
            value_of(&text, "DTEND;TZID=Europe/Paris").as_deref(),
            Some("20270328T033000")
        );
    }

    #[test]
    fn the_repeated_hour_is_unambiguous() {
        // 2027-10-31: 03:00 CEST becomes 02:00 CET, so 02:30 happens twice.
        let first = render(&calendar(vec![event(
            "2027-10-31T00:30:00Z",
            "2027-10-31T01:30:00Z",
        )]));
        assert_eq!(
            value_of(&first, "DTSTART;TZID=Europe/Paris").as_deref(),
            Some("20271031T023000")
        );
        // 01:30Z is the second 02:30: written in UTC, not as the first one.
        assert_eq!(
            value_of(&first, "DTEND").as_deref(),
            Some("20271031T013000Z")
        );
        assert_eq!(value_of(&first, "DTEND;TZID=Europe/Paris"), None);
    }

    #[test]
    fn sub_second_precision_is_truncated() {
        let text = render(&calendar(vec![event(
            "2027-01-12T13:00:00.999Z",
            "2027-01-12T14:00:00Z",
        )]));
        assert_eq!(
            value_of(&text, "DTSTART;TZID=Europe/Paris").as_deref(),
            Some("20270112T140000")
        );
    }

    #[test]
    fn optional_properties_and_cancelled_status() {
        let mut cancelled = event("2027-01-12T13:00:00Z", "2027-01-12T14:00:00Z");
        cancelled.status = EventStatus::Cancelled;
        cancelled.location = Some("Maison des ados, 3 rue Haute".to_owned());
        cancelled.description = Some("Annulé".to_owned());
        let mut tentative = event("2027-01-13T13:00:00Z", "2027-01-13T14:00:00Z");
        tentative.status = EventStatus::Tentative;
        let text = render(&calendar(vec![cancelled, tentative]));
        assert_well_formed(&text);
        let lines = lines(&text);
        assert!(lines.contains(&"STATUS:CANCELLED".to_owned()));
        assert!(lines.contains(&"STATUS:TENTATIVE".to_owned()));
        assert!(lines.contains(&"LOCATION:Maison des ados\\, 3 rue Haute".to_owned()));
        assert!(lines.contains(&"DESCRIPTION:Annulé".to_owned()));
        assert_eq!(text.matches("LOCATION").count(), 1);
        assert_eq!(text.matches("DESCRIPTION").count(), 1);
        assert_eq!(text.matches("BEGIN:VEVENT").count(), 2);
    }

    #[test]
    fn text_is_escaped() {
        let mut escaped = event("2027-01-12T13:00:00Z", "2027-01-12T14:00:00Z");
        escaped.summary = "a\\b;c,d\ne\r\nf\u{0}g\u{7f}h\ti".to_owned();
        escaped.uid = "x;y".to_owned();
        let mut named = calendar(vec![escaped]);
        named.name = "Agenda, Paris".to_owned();
        let text = render(&named);
        assert_well_formed(&text);
        assert_eq!(
            value_of(&text, "SUMMARY").as_deref(),
            Some("a\\\\b\\;c\\,d\\ne\\nfgh\ti")
        );
        assert_eq!(value_of(&text, "UID").as_deref(), Some("x\\;y"));
        assert_eq!(
            value_of(&text, "X-WR-CALNAME").as_deref(),
            Some("Agenda\\, Paris")
        );
    }

    #[test]
    fn long_lines_are_folded_between_characters() {
        let mut long = event("2027-01-12T13:00:00Z", "2027-01-12T14:00:00Z");
        // Two-, three- and four-octet characters at every offset.
        long.summary = "é€😀a".repeat(30);
        long.description = Some("x".repeat(200));
        let text = render(&calendar(vec![long.clone()]));
        assert_well_formed(&text);
        assert!(text.contains("\r\n "));
        assert_eq!(value_of(&text, "SUMMARY"), Some(long.summary));
        assert_eq!(value_of(&text, "DESCRIPTION"), long.description);
        // A line of exactly 75 octets is not folded, one of 76 is.
        let mut out = String::new();
        push_line(&mut out, &"y".repeat(75));
        assert_eq!(out, format!("{}\r\n", "y".repeat(75)));
        out.clear();
        push_line(&mut out, &"y".repeat(76));
        assert_eq!(out, format!("{}\r\n y\r\n", "y".repeat(75)));
        out.clear();
        push_line(&mut out, &format!("{}é", "y".repeat(74)));
        assert_eq!(out, format!("{}\r\n é\r\n", "y".repeat(74)));
    }

    /// Parses the output with the independent `icalendar` parser.
    fn parse(text: &str) -> icalendar::Calendar {
        text.parse().unwrap()
    }

    #[test]
    fn an_independent_parser_reads_the_events_back() {
        use icalendar::{CalendarDateTime, Component, DatePerhapsTime, EventLike};

        let mut summer = event("2027-07-13T12:00:00Z", "2027-07-13T13:30:00Z");
        summer.summary = "Permanence, salle «Été»; \\ ligne\nsuivante ".repeat(4);
        summer.location = Some("Maison des ados, 3 rue Haute".to_owned());
        summer.description = Some("Entrée libre\nsans rendez-vous; 🌞".repeat(5));
        let mut winter = event("2027-01-12T13:00:00Z", "2027-01-12T14:00:00Z");
        winter.uid = "other@adosexo".to_owned();
        winter.sequence = 0;
        winter.status = EventStatus::Cancelled;
        let source = Calendar {
            name: "Agenda, Nord".to_owned(),
            events: vec![summer.clone(), winter.clone()],
        };
        let text = render(&source);
        assert_well_formed(&text);
        let parsed = parse(&text);
        assert_eq!(parsed.get_name(), Some("Agenda, Nord"));
        assert_eq!(parsed.get_timezone(), Some("Europe/Paris"));
        let events: Vec<&icalendar::Event> = parsed.events().collect();
        assert_eq!(events.len(), 2);

        let paris = |local: &str| {
            DatePerhapsTime::DateTime(CalendarDateTime::WithTimezone {
                date_time: chrono::NaiveDateTime::parse_from_str(local, "%Y%m%dT%H%M%S").unwrap(),
                tzid: "Europe/Paris".to_owned(),
            })
        };
        let read = events[0];
        assert_eq!(read.get_uid(), Some(summer.uid.as_str()));
        assert_eq!(read.get_sequence(), Some(3));
        assert_eq!(read.get_timestamp(), Some(summer.stamp));
        assert_eq!(read.get_start(), Some(paris("20270713T140000")));
        assert_eq!(read.get_end(), Some(paris("20270713T153000")));
        assert_eq!(read.get_summary(), Some(summer.summary.as_str()));
        assert_eq!(read.get_location(), summer.location.as_deref());
        assert_eq!(read.get_description(), summer.description.as_deref());
        assert_eq!(read.get_status(), Some(icalendar::EventStatus::Confirmed));

        let read = events[1];
        assert_eq!(read.get_uid(), Some("other@adosexo"));
        assert_eq!(read.get_sequence(), Some(0));
        assert_eq!(read.get_start(), Some(paris("20270112T140000")));
        assert_eq!(read.get_end(), Some(paris("20270112T150000")));
        assert_eq!(read.get_summary(), Some("Permanence"));
        assert_eq!(read.get_location(), None);
        assert_eq!(read.get_description(), None);
        assert_eq!(read.get_status(), Some(icalendar::EventStatus::Cancelled));
    }

    proptest! {
        #[test]
        fn any_summary_survives_folding_and_escaping(summary in any::<String>()) {
            let mut e = event("2027-01-12T13:00:00Z", "2027-01-12T14:00:00Z");
            e.summary = summary.clone();
            let text = render(&calendar(vec![e]));
            assert_well_formed(&text);
            let expected: String = summary
                .chars()
                .filter(|c| !c.is_control() || *c == '\n' || *c == '\t')
                .collect();
            let value = value_of(&text, "SUMMARY").unwrap();
            prop_assert_eq!(unescape(&value), expected);
        }

        #[test]
        fn the_independent_parser_reads_any_summary_back(summary in any::<String>()) {
            use icalendar::Component;

            let mut e = event("2027-01-12T13:00:00Z", "2027-01-12T14:00:00Z");
            e.summary = summary.clone();
            let parsed = parse(&render(&calendar(vec![e])));
            let expected: String = summary
                .chars()
                .filter(|c| !c.is_control() || *c == '\n' || *c == '\t')
                .collect();
            let events: Vec<&icalendar::Event> = parsed.events().collect();
            prop_assert_eq!(events.len(), 1);
            prop_assert_eq!(events[0].get_summary(), Some(expected.as_str()));
        }

        #[test]
        fn any_instant_round_trips(seconds in 0_i64..4_102_444_800) {
            let start = DateTime::from_timestamp(seconds, 0).unwrap();
            let text = render(&calendar(vec![event(
                &start.to_rfc3339(),
                &start.to_rfc3339(),
            )]));
            // The event's own DTSTART, not those of the VTIMEZONE rules.
            let event_text = text.split("BEGIN:VEVENT").nth(1).unwrap();
            let read = if let Some(local) = value_of(event_text, "DTSTART;TZID=Europe/Paris") {
                let naive = chrono::NaiveDateTime::parse_from_str(&local, "%Y%m%dT%H%M%S").unwrap();
                // RFC 5545: an ambiguous local time is its first occurrence.
                PARIS.from_local_datetime(&naive).earliest().unwrap().with_timezone(&Utc)
            } else {
                let utc = value_of(event_text, "DTSTART").unwrap();
                chrono::NaiveDateTime::parse_from_str(&utc, "%Y%m%dT%H%M%SZ")
                    .unwrap()
                    .and_utc()
            };
            prop_assert_eq!(read, start);
        }
    }
}
