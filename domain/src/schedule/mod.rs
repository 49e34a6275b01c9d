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

use std::fmt;
use std::str::FromStr;

use crate::identity::{StringEnum, UnknownValue, string_enum};

string_enum!(
    /// What kind of place a site is.
    SiteKind, "site kind" {
        ProgrammeOffice => "programme_office",
        Association => "association",
        YouthCentre => "youth_centre",
        HealthCentre => "health_centre",
        SocialServices => "social_services",
        CareHome => "care_home",
        School => "school",
        Justice => "justice",
        TownHall => "town_hall",
        Other => "other",
    }
);

string_enum!(
    /// Whether a site or a permanence is in use.
    ScheduleStatus, "status" {
        Active => "active",
        Closed => "closed",
    }
);

string_enum!(
    /// Whom a permanence or a session is for.
    Audience, "audience" {
        YoungPeople => "young_people",
        Parents => "parents",
        Professionals => "professionals",
        All => "all",
    }
);
