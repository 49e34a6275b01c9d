//! Instants in the database: TIMESTAMP columns holding UTC, truncated to
//! microseconds (PostgreSQL's precision) so that what is read back equals
//! what was written on both backends.

use chrono::{DateTime, NaiveDateTime, SubsecRound, Utc};

/// The stored form of an instant.
pub fn to_db(instant: DateTime<Utc>) -> NaiveDateTime {
    instant.naive_utc().trunc_subsecs(6)
}

/// An instant read from the database.
pub fn from_db(stored: NaiveDateTime) -> DateTime<Utc> {
    stored.and_utc()
}

/// The canonical text of a stored instant (`2026-11-29T10:00:00.000000Z`).
pub fn canonical(stored: NaiveDateTime) -> String {
    stored.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
}
