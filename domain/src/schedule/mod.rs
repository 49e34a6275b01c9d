//! Scheduling: permanences and their recurrence, appointments, group
//! sessions, free slots and calendar feeds. Times are instants in UTC;
//! local times are Europe/Paris and stay put across daylight-saving changes.

pub mod appointment;
pub mod availability;
pub mod group;
pub mod ical;
pub mod recurrence;
pub mod series;

/// The programme's time zone: every local time is a Paris wall-clock time.
pub const PARIS: chrono_tz::Tz = chrono_tz::Europe::Paris;
