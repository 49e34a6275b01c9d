//! Statistics: counts grouped by period and one dimension, computed by the
//! database (`GROUP BY`), never by loading rows.
//!
//! The SQL is assembled from fixed fragments chosen by enums (no caller text
//! ever reaches it); the period bounds are bind parameters. Period labels and
//! the age band differ per backend (text timestamps on SQLite, `to_char` on
//! PostgreSQL).

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Nullable, Text, Timestamp};

use crate::{DbConnection, PersistenceError};

/// What is counted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Measure {
    /// Referrals received (by submission date).
    ReferralsReceived,
    /// Referrals received in the period and accepted.
    ReferralsAccepted,
    /// Referrals received in the period and declined.
    ReferralsDeclined,
    /// Referrals received in the period and redirected.
    ReferralsRedirected,
    /// Follow-ups opened.
    FollowUpsOpened,
    /// Follow-ups closed (by date of closure).
    FollowUpsClosed,
    /// Follow-ups open at the end of each period (see [`active_follow_ups`]).
    FollowUpsActive,
    /// Appointments (by start).
    Appointments,
    /// Group sessions held (by start).
    GroupSessionsHeld,
    /// People reached by group sessions held (sum of head counts).
    PeopleReached,
    /// Attendance of permanences: appointments at a permanence that took
    /// place (`completed`), by start.
    PermanenceAttendance,
    /// Professionals reached: confirmed registrations of professionals to
    /// sessions held (not marked absent), by the session's start.
    ProfessionalsReached,
    /// Library downloads (by date of download).
    ResourceDownloads,
}

/// A grouping column.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dimension {
    /// The case's département.
    Departement,
    /// The région of that département.
    Region,
    /// Whom the referral is about.
    Public,
    /// The referral's context.
    Context,
    /// Who referred.
    Source,
    /// Age band at the referral's date (UTC day).
    AgeBand,
    /// The person's gender.
    Gender,
    /// Why a follow-up was closed.
    ClosureReason,
    /// Appointment mode.
    Mode,
    /// Appointment status.
    Status,
    /// Group session kind.
    Kind,
    /// The kind of the registering organisation (ASE, PJJ, school…).
    OrganisationKind,
    /// The kind of library resource.
    ResourceKind,
}

/// Period granularity.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Granularity {
    /// `YYYY-MM`.
    Month,
    /// `YYYY-Qn`.
    Quarter,
    /// `YYYY`.
    Year,
}

/// One group: period label, dimension value (`None`: no dimension), count.
#[derive(Clone, Debug, PartialEq, Eq, QueryableByName)]
pub struct CountRow {
    /// Period label.
    #[diesel(sql_type = Text)]
    pub period: String,
    /// Dimension value (`unknown` when absent).
    #[diesel(sql_type = Nullable<Text>)]
    pub category: Option<String>,
    /// The count.
    #[diesel(sql_type = BigInt)]
    pub n: i64,
}

#[derive(Clone, Copy)]
pub(crate) enum Backend {
    Sqlite,
    Postgres,
}

impl Measure {
    /// (FROM … WHERE-extra, time column, counted expression)
    fn source(self) -> (&'static str, &'static str, &'static str) {
        const REFERRALS: &str = "referrals r JOIN people p ON p.id = r.person_id \
             JOIN departements d ON d.code = r.departement_code \
             LEFT JOIN referral_age_bands b ON b.referral_id = r.id WHERE 1 = 1";
        const FOLLOW_UPS: &str = "follow_ups f JOIN people p ON p.id = f.person_id \
             JOIN departements d ON d.code = f.departement_code WHERE 1 = 1";
        match self {
            Self::ReferralsReceived => (REFERRALS, "r.created_at", "COUNT(*)"),
            Self::ReferralsAccepted => (
                "referrals r JOIN people p ON p.id = r.person_id \
                 JOIN departements d ON d.code = r.departement_code \
             LEFT JOIN referral_age_bands b ON b.referral_id = r.id WHERE r.status = 'accepted'",
                "r.created_at",
                "COUNT(*)",
            ),
            Self::ReferralsDeclined => (
                "referrals r JOIN people p ON p.id = r.person_id \
                 JOIN departements d ON d.code = r.departement_code \
             LEFT JOIN referral_age_bands b ON b.referral_id = r.id WHERE r.status = 'declined'",
                "r.created_at",
                "COUNT(*)",
            ),
            Self::ReferralsRedirected => (
                "referrals r JOIN people p ON p.id = r.person_id \
                 JOIN departements d ON d.code = r.departement_code \
             LEFT JOIN referral_age_bands b ON b.referral_id = r.id WHERE r.status = 'redirected'",
                "r.created_at",
                "COUNT(*)",
            ),
            Self::FollowUpsOpened | Self::FollowUpsActive => {
                (FOLLOW_UPS, "f.created_at", "COUNT(*)")
            }
            Self::FollowUpsClosed => (
                "follow_ups f JOIN people p ON p.id = f.person_id \
                 JOIN departements d ON d.code = f.departement_code WHERE f.status = 'closed'",
                "f.updated_at",
                "COUNT(*)",
            ),
            Self::Appointments => (
                "appointments a JOIN departements d ON d.code = a.departement_code WHERE 1 = 1",
                "a.starts_at",
                "COUNT(*)",
            ),
            Self::PermanenceAttendance => (
                "appointments a JOIN departements d ON d.code = a.departement_code \
                 WHERE a.mode = 'permanence' AND a.status = 'completed'",
                "a.starts_at",
                "COUNT(*)",
            ),
            Self::GroupSessionsHeld => (
                "group_sessions g JOIN departements d ON d.code = g.departement_code \
                 WHERE g.status = 'held'",
                "g.starts_at",
                "COUNT(*)",
            ),
            Self::PeopleReached => (
                "group_headcounts h JOIN group_sessions g ON g.id = h.group_session_id \
                 JOIN departements d ON d.code = g.departement_code WHERE g.status = 'held'",
                "g.starts_at",
                "COALESCE(SUM(h.head_count), 0)",
            ),
            Self::ProfessionalsReached => (
                "group_registrations gr JOIN group_sessions g ON g.id = gr.group_session_id \
                 JOIN organisations o ON o.id = gr.organisation_id \
                 JOIN departements d ON d.code = g.departement_code \
                 WHERE g.status = 'held' AND gr.status = 'confirmed' \
                 AND gr.category = 'professionals' AND (gr.present IS NULL OR gr.present = TRUE)",
                "g.starts_at",
                "COUNT(*)",
            ),
            Self::ResourceDownloads => (
                "library_downloads ld WHERE 1 = 1",
                "ld.downloaded_at",
                "COUNT(*)",
            ),
        }
    }

    /// Whether a dimension applies to this measure.
    pub fn allows(self, dimension: Dimension) -> bool {
        use Dimension::*;
        let referral = matches!(
            self,
            Self::ReferralsReceived
                | Self::ReferralsAccepted
                | Self::ReferralsDeclined
                | Self::ReferralsRedirected
        );
        match dimension {
            // Downloads are anonymous: no place.
            Departement | Region => self != Self::ResourceDownloads,
            Public | Context | Source | AgeBand => referral,
            Gender => {
                referral
                    || matches!(
                        self,
                        Self::FollowUpsOpened | Self::FollowUpsClosed | Self::FollowUpsActive
                    )
            }
            ClosureReason => self == Self::FollowUpsClosed,
            Mode | Status => self == Self::Appointments,
            Kind => matches!(
                self,
                Self::GroupSessionsHeld | Self::PeopleReached | Self::ProfessionalsReached
            ),
            OrganisationKind => self == Self::ProfessionalsReached,
            ResourceKind => self == Self::ResourceDownloads,
        }
    }
}

/// The age band of `p` at referral `r`, from the birth date (or year).
pub(crate) fn computed_age_band(backend: Backend) -> String {
    let (year, month_day) = match backend {
        Backend::Sqlite => (
            "CAST(substr(r.created_at, 1, 4) AS INTEGER)",
            "substr(r.created_at, 6, 5)",
        ),
        Backend::Postgres => (
            "CAST(to_char(r.created_at, 'YYYY') AS INTEGER)",
            "to_char(r.created_at, 'MM-DD')",
        ),
    };
    // Youngest possible age: a birth year alone counts as 31 December.
    let age = format!(
        "({year} - COALESCE(CAST(substr(p.birth_date, 1, 4) AS INTEGER), p.birth_year) \
         - CASE WHEN {month_day} < COALESCE(substr(p.birth_date, 6, 5), '12-31') THEN 1 ELSE 0 END)"
    );
    format!(
        "CASE WHEN {age} IS NULL THEN 'unknown' WHEN {age} < 13 THEN 'under_13' \
         WHEN {age} <= 14 THEN '13_14' WHEN {age} <= 17 THEN '15_17' \
         WHEN {age} <= 21 THEN '18_21' ELSE '22_and_over' END"
    )
}

impl Dimension {
    fn expression(self, backend: Backend) -> String {
        match self {
            Self::Departement => "d.code".into(),
            Self::Region => "d.region_code".into(),
            Self::Public => "r.public".into(),
            Self::Context => "r.context".into(),
            Self::Source => "r.source_kind".into(),
            // The band fixed before pseudonymisation removed the birth date,
            // else the one computed from it.
            Self::AgeBand => format!("COALESCE(b.age_band, {})", computed_age_band(backend)),
            Self::Gender => "COALESCE(p.gender, 'unknown')".into(),
            Self::ClosureReason => "COALESCE(f.closure_reason, 'unknown')".into(),
            Self::Mode => "a.mode".into(),
            Self::Status => "a.status".into(),
            Self::Kind => "g.kind".into(),
            Self::OrganisationKind => "o.kind".into(),
            Self::ResourceKind => "ld.kind".into(),
        }
    }
}

fn period_label(backend: Backend, granularity: Granularity, column: &str) -> String {
    match (backend, granularity) {
        (Backend::Sqlite, Granularity::Month) => format!("substr({column}, 1, 7)"),
        (Backend::Sqlite, Granularity::Year) => format!("substr({column}, 1, 4)"),
        (Backend::Sqlite, Granularity::Quarter) => format!(
            "substr({column}, 1, 4) || '-Q' || ((CAST(substr({column}, 6, 2) AS INTEGER) + 2) / 3)"
        ),
        (Backend::Postgres, Granularity::Month) => format!("to_char({column}, 'YYYY-MM')"),
        (Backend::Postgres, Granularity::Year) => format!("to_char({column}, 'YYYY')"),
        (Backend::Postgres, Granularity::Quarter) => {
            format!("to_char({column}, 'YYYY') || '-Q' || to_char({column}, 'Q')")
        }
    }
}

fn sql(
    backend: Backend,
    measure: Measure,
    granularity: Granularity,
    dimension: Option<Dimension>,
) -> String {
    let (from, time, value) = measure.source();
    let period = period_label(backend, granularity, time);
    let category = dimension.map_or_else(|| "NULL".to_owned(), |d| d.expression(backend));
    let (category, low, high) = match backend {
        Backend::Sqlite => (category, "?", "?"),
        Backend::Postgres => (format!("CAST({category} AS TEXT)"), "$1", "$2"),
    };
    format!(
        "SELECT {period} AS period, {category} AS category, CAST({value} AS BIGINT) AS n \
         FROM {from} AND {time} >= {low} AND {time} < {high} GROUP BY 1, 2 ORDER BY 1, 2"
    )
}

/// Counts per period (and dimension value) for `[from, to)` (UTC).
pub fn counts(
    conn: &mut DbConnection,
    measure: Measure,
    granularity: Granularity,
    dimension: Option<Dimension>,
    from: NaiveDateTime,
    to: NaiveDateTime,
) -> Result<Vec<CountRow>, PersistenceError> {
    Ok(match conn {
        DbConnection::Postgres(pg) => {
            diesel::sql_query(sql(Backend::Postgres, measure, granularity, dimension))
                .bind::<Timestamp, _>(from)
                .bind::<Timestamp, _>(to)
                .load(pg)?
        }
        DbConnection::Sqlite(sqlite) => {
            diesel::sql_query(sql(Backend::Sqlite, measure, granularity, dimension))
                .bind::<Timestamp, _>(from)
                .bind::<Timestamp, _>(to)
                .load(sqlite)?
        }
    })
}

/// One group of follow-ups open at an instant.
#[derive(Clone, Debug, PartialEq, Eq, QueryableByName)]
struct ActiveRow {
    #[diesel(sql_type = Nullable<Text>)]
    category: Option<String>,
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// Follow-ups open at each `(label, end)`: opened before `end` and not
/// closed by then (a closed follow-up's last change is its closing, the
/// status being final). One grouped count per period end.
pub fn active_follow_ups(
    conn: &mut DbConnection,
    dimension: Option<Dimension>,
    ends: &[(String, NaiveDateTime)],
) -> Result<Vec<CountRow>, PersistenceError> {
    let query = |backend: Backend| {
        let category = dimension.map_or_else(|| "NULL".to_owned(), |d| d.expression(backend));
        let (category, a, b) = match backend {
            Backend::Sqlite => (category, "?", "?"),
            Backend::Postgres => (format!("CAST({category} AS TEXT)"), "$1", "$2"),
        };
        format!(
            "SELECT {category} AS category, CAST(COUNT(*) AS BIGINT) AS n \
             FROM follow_ups f JOIN people p ON p.id = f.person_id \
             JOIN departements d ON d.code = f.departement_code \
             WHERE f.created_at < {a} AND (f.status <> 'closed' OR f.updated_at >= {b}) \
             GROUP BY 1 ORDER BY 1"
        )
    };
    let mut out = Vec::new();
    for (label, end) in ends {
        let rows: Vec<ActiveRow> = match conn {
            DbConnection::Postgres(pg) => diesel::sql_query(query(Backend::Postgres))
                .bind::<Timestamp, _>(*end)
                .bind::<Timestamp, _>(*end)
                .load(pg)?,
            DbConnection::Sqlite(sqlite) => diesel::sql_query(query(Backend::Sqlite))
                .bind::<Timestamp, _>(*end)
                .bind::<Timestamp, _>(*end)
                .load(sqlite)?,
        };
        out.extend(rows.into_iter().map(|r| CountRow {
            period: label.clone(),
            category: r.category,
            n: r.n,
        }));
    }
    Ok(out)
}

/// A frozen release: the figures of one closed period of one family, as
/// first published (an opaque document the API writes and reads).
#[derive(Clone, Debug, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = crate::schema::stats_releases)]
pub struct Release {
    /// The family (`referrals`, `follow_ups`…).
    pub family: String,
    /// `YYYY-MM`, `YYYY-Qn` or `YYYY`.
    pub period: String,
    /// The threshold it was protected with.
    pub min_cell: i64,
    /// The figures.
    pub figures: String,
    /// When it was first published.
    pub released_at: NaiveDateTime,
}

/// The releases of one family for the periods of `year` (its months,
/// quarters and the year itself), made with threshold `min_cell`.
pub fn releases(
    conn: &mut DbConnection,
    family: &str,
    year: i32,
    min_cell: i64,
) -> Result<Vec<Release>, PersistenceError> {
    use crate::schema::stats_releases::dsl as r;
    let (low, high) = (format!("{year:04}"), format!("{:04}", year + 1));
    let query = r::stats_releases
        .filter(r::family.eq(family))
        .filter(r::min_cell.eq(min_cell))
        .filter(r::period.ge(low))
        .filter(r::period.lt(high))
        .order(r::period.asc());
    Ok(match conn {
        DbConnection::Postgres(pg) => query.select(Release::as_select()).load(pg)?,
        DbConnection::Sqlite(sqlite) => query.select(Release::as_select()).load(sqlite)?,
    })
}

/// Freezes a release; `false` when one was already stored (another
/// request or instance was first: the caller reads it back).
pub fn store_release(conn: &mut DbConnection, release: &Release) -> Result<bool, PersistenceError> {
    use crate::schema::stats_releases::dsl as r;
    let row = (
        r::family.eq(&release.family),
        r::period.eq(&release.period),
        r::min_cell.eq(release.min_cell),
        r::figures.eq(&release.figures),
        r::released_at.eq(release.released_at),
    );
    let inserted = match conn {
        DbConnection::Postgres(pg) => diesel::insert_into(r::stats_releases)
            .values(row)
            .on_conflict_do_nothing()
            .execute(pg)?,
        DbConnection::Sqlite(sqlite) => diesel::insert_or_ignore_into(r::stats_releases)
            .values(row)
            .execute(sqlite)?,
    };
    Ok(inserted == 1)
}

/// Withdraws the releases of `family` (every family when `None`) for the
/// periods from `from` (a `YYYY-MM` month) to the end of its year: they are
/// computed and frozen again at the next read. Returns how many went.
pub fn withdraw_releases(
    conn: &mut DbConnection,
    family: Option<&str>,
    from: &str,
) -> Result<usize, PersistenceError> {
    use crate::schema::stats_releases::dsl as r;
    // A month's quarter, and the year, hold it: they go too. Periods sort as
    // text: `YYYY` < `YYYY-01` < … < `YYYY-12` < `YYYY-Q1` < … < `YYYY-Q4`.
    let year = from.get(..4).unwrap_or(from).to_owned();
    let next = year
        .parse::<i32>()
        .map(|y| format!("{:04}", y + 1))
        .unwrap_or_else(|_| year.clone());
    let month: u32 = from.get(5..7).and_then(|m| m.parse().ok()).unwrap_or(1);
    let first_quarter = format!("{year}-Q{}", month.div_ceil(3).max(1));
    let base = r::period
        .eq(year.clone())
        .or(r::period
            .ge(from.to_owned())
            .and(r::period.lt(format!("{year}-Q"))))
        .or(r::period.ge(first_quarter).and(r::period.lt(next)));
    Ok(match (conn, family) {
        (DbConnection::Postgres(pg), Some(f)) => {
            diesel::delete(r::stats_releases.filter(base).filter(r::family.eq(f))).execute(pg)?
        }
        (DbConnection::Postgres(pg), None) => {
            diesel::delete(r::stats_releases.filter(base)).execute(pg)?
        }
        (DbConnection::Sqlite(sqlite), Some(f)) => {
            diesel::delete(r::stats_releases.filter(base).filter(r::family.eq(f)))
                .execute(sqlite)?
        }
        (DbConnection::Sqlite(sqlite), None) => {
            diesel::delete(r::stats_releases.filter(base)).execute(sqlite)?
        }
    })
}
