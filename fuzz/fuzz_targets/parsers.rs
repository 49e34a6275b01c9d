//! The small parsers at the edge: département and région codes, page
//! cursors, Idempotency-Key values, human references. No panic, and what
//! is accepted round-trips.
#![no_main]

use adosexo_api::idempotency::parse_key;
use adosexo_api::routes::cases::{cursor_of, parse_cursor};
use adosexo_domain::referral::human_reference;
use adosexo_domain::{DepartementCode, RegionCode};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((selector, rest)) = data.split_first() else {
        return;
    };
    match selector % 4 {
        0 => {
            let Ok(text) = std::str::from_utf8(rest) else {
                return;
            };
            if let Ok(code) = DepartementCode::parse(text) {
                let again =
                    DepartementCode::parse(code.as_str()).expect("a valid code parses again");
                assert_eq!(again.as_str(), code.as_str());
            }
            if let Ok(code) = RegionCode::parse(text) {
                let again = RegionCode::parse(code.as_str()).expect("a valid code parses again");
                assert_eq!(again.as_str(), code.as_str());
            }
        }
        1 => {
            let Ok(text) = std::str::from_utf8(rest) else {
                return;
            };
            if let Ok((at, id)) = parse_cursor(text) {
                let written = cursor_of(at, &id);
                let again = parse_cursor(&written).expect("a cursor this API writes parses");
                assert_eq!(again, (at, id));
            }
        }
        2 => {
            if let Ok(key) = parse_key(rest) {
                assert_eq!(key.as_bytes(), rest);
                assert!((1..=255).contains(&key.len()));
                assert!(key.bytes().all(|b| b.is_ascii_graphic()));
            }
        }
        _ => {
            // ORI-YYYY-NNNNNN: one shape, one reference per (year, number).
            let [y0, y1, s0, s1, s2, ..] = rest else {
                return;
            };
            let year = 2000 + i32::from(u16::from_le_bytes([*y0, *y1]) % 8000);
            let sequence = 1 + i64::from(u32::from_le_bytes([*s0, *s1, *s2, 0]) % 999_999);
            let reference = human_reference("ORI", year, sequence);
            let parts: Vec<&str> = reference.split('-').collect();
            assert_eq!(parts.len(), 3, "{reference}");
            assert_eq!(parts[0], "ORI");
            assert_eq!(parts[1].parse::<i32>().ok(), Some(year), "{reference}");
            assert_eq!(parts[2].len(), 6, "{reference}");
            assert_eq!(parts[2].parse::<i64>().ok(), Some(sequence), "{reference}");
        }
    }
});
