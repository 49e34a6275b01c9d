//! Helpers shared by referrals and follow-ups: stored values back to domain
//! types, keyset cursors over `(updated_at, id)`, access checks that load
//! the record first.

use adosexo_domain::DepartementCode;
use adosexo_domain::identity::StringEnum;
use chrono::{DateTime, NaiveDateTime, Utc};

use crate::problem::ApiError;

/// A stored enumeration back to its domain type (a failure is a bug).
pub fn stored<T: StringEnum>(value: &str) -> Result<T, ApiError> {
    value
        .parse::<T>()
        .map_err(|e| ApiError::internal(format!("stored {}: {e}", T::NAME)))
}

/// A stored département code back to its domain type.
pub fn stored_departement(code: &str) -> Result<DepartementCode, ApiError> {
    DepartementCode::parse(code).map_err(|e| ApiError::internal(format!("stored département: {e}")))
}

/// The cursor after a row changed at `at` with `id`.
pub fn cursor_of(at: NaiveDateTime, id: &str) -> String {
    format!("{}_{id}", at.and_utc().timestamp_micros())
}

/// A cursor back to `(updated_at, id)`; 400 naming `cursor` otherwise.
pub fn parse_cursor(cursor: &str) -> Result<(NaiveDateTime, String), ApiError> {
    let bad = || ApiError::invalid_field("cursor", "format", "cursor is not one this API gave");
    let (micros, id) = cursor.split_once('_').ok_or_else(bad)?;
    let micros: i64 = micros.parse().map_err(|_| bad())?;
    let at = DateTime::<Utc>::from_timestamp_micros(micros)
        .ok_or_else(bad)?
        .naive_utc();
    let id = uuid::Uuid::parse_str(id)
        .map_err(|_| bad())?
        .hyphenated()
        .to_string();
    Ok((at, id))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip() {
        let at = DateTime::<Utc>::from_timestamp_micros(1_800_000_000_123_456)
            .expect("time")
            .naive_utc();
        let id = "01a228b4-4548-73c6-a87f-18ced365e3c6";
        assert_eq!(
            parse_cursor(&cursor_of(at, id)).ok(),
            Some((at, id.to_owned()))
        );
        assert!(parse_cursor("nonsense").is_err());
        assert!(parse_cursor("12_notauuid").is_err());
    }
}
