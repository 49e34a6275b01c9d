//! Statistics for analysts and the supervisor: aggregates only, never a
//! person, with small cells suppressed (`domain::stats`).
//!
//! Each table has the periods as rows (months, quarters or years of a range
//! of 1 to 60 whole months) and at most one more dimension as columns, with
//! row, column and grand totals. Counts run in the database (`GROUP BY`) on
//! the analytics pool (`ANALYTICS_DATABASE_URL`, else the main database).
//! JSON by default; `Accept: text/csv` gives RFC 4180 CSV (UTF-8, header row,
//! CRLF), one line per figure.

use std::collections::{BTreeMap, BTreeSet};

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, get, web};
use adosexo_domain::authz::{Action, Resource};
use adosexo_persistence::stats::{self, Dimension, Measure};
use chrono::{Datelike, NaiveDate, NaiveDateTime};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use validator::Validate;

use crate::audit::{self, Outcome};
use crate::auth::Authenticated;
use crate::extract::ApiQuery;
use crate::guard::permit;
use crate::problem::ApiError;
use crate::state::AppState;
use crate::statistics;

/// The longest range, in months.
pub const MAX_MONTHS: u32 = 60;

/// `format` of a statistics table: for clients that cannot set `Accept`
/// (generated clients, links). Without it, `Accept: text/csv` gives CSV.
#[derive(Clone, Copy, Debug, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TableFormat {
    /// JSON (`application/json`), whatever `Accept` says.
    Json,
    /// CSV (`text/csv`), whatever `Accept` says.
    Csv,
}

/// `format` of the annual report. Without it, `Accept: text/html` gives
/// the printable page.
#[derive(Clone, Copy, Debug, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ReportFormat {
    /// JSON (`application/json`), whatever `Accept` says.
    Json,
    /// The printable HTML page (`text/html`), whatever `Accept` says.
    Html,
}

/// Period granularity of the rows.
#[derive(Clone, Copy, Debug, Default, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PeriodWire {
    /// `YYYY-MM`.
    #[default]
    Month,
    /// `YYYY-Qn`.
    Quarter,
    /// `YYYY`.
    Year,
}

impl PeriodWire {
    /// The first day of the period holding `date` (a month's first day).
    fn start_of(self, date: NaiveDate) -> NaiveDate {
        let month = match self {
            Self::Month => date.month(),
            Self::Quarter => (date.month() - 1) / 3 * 3 + 1,
            Self::Year => 1,
        };
        NaiveDate::from_ymd_opt(date.year(), month, 1).unwrap_or(date)
    }

    fn months(self) -> u32 {
        match self {
            Self::Month => 1,
            Self::Quarter => 3,
            Self::Year => 12,
        }
    }

    fn label(self, date: NaiveDate) -> String {
        match self {
            Self::Month => format!("{:04}-{:02}", date.year(), date.month()),
            Self::Quarter => format!("{:04}-Q{}", date.year(), date.month().div_ceil(3)),
            Self::Year => format!("{:04}", date.year()),
        }
    }
}

macro_rules! wire_choice {
    ($(#[$meta:meta])* $name:ident => $target:ty { $($(#[$vmeta:meta])* $variant:ident => $value:expr),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, Deserialize, Serialize, ToSchema)]
        #[serde(rename_all = "snake_case")]
        pub enum $name {
            $($(#[$vmeta])* $variant),+
        }

        impl $name {
            fn target(self) -> $target {
                match self {
                    $(Self::$variant => $value),+
                }
            }
        }
    };
}

wire_choice!(
    /// What to count about referrals (by date of receipt).
    ReferralMeasure => Measure {
        /// Every referral received.
        Received => Measure::ReferralsReceived,
        /// Received in the period and accepted.
        Accepted => Measure::ReferralsAccepted,
        /// Received in the period and declined.
        Declined => Measure::ReferralsDeclined,
        /// Received in the period and redirected.
        Redirected => Measure::ReferralsRedirected,
    }
);

wire_choice!(
    /// Columns of a referral table.
    ReferralDimension => Dimension {
        /// Département of the case.
        Departement => Dimension::Departement,
        /// Région (INSEE code; `11` is Île-de-France).
        Region => Dimension::Region,
        /// Whom the referral is about.
        Public => Dimension::Public,
        /// The situation.
        Context => Dimension::Context,
        /// Who referred.
        Source => Dimension::Source,
        /// Age at the referral's date: `under_13`, `13_14`, `15_17`, `18_21`, `22_and_over`, `unknown`.
        AgeBand => Dimension::AgeBand,
        /// Gender (`unknown` when not given).
        Gender => Dimension::Gender,
    }
);

wire_choice!(
    /// What to count about follow-ups.
    FollowUpMeasure => Measure {
        /// Opened (by opening date).
        Opened => Measure::FollowUpsOpened,
        /// Closed (by closing date).
        Closed => Measure::FollowUpsClosed,
        /// Open at the end of each period (the range's end for a cut period).
        Active => Measure::FollowUpsActive,
    }
);

wire_choice!(
    /// Columns of a follow-up table.
    FollowUpDimension => Dimension {
        /// Département of the case.
        Departement => Dimension::Departement,
        /// Région.
        Region => Dimension::Region,
        /// Gender of the person followed.
        Gender => Dimension::Gender,
        /// Reason for closing (`unknown` while open).
        ClosureReason => Dimension::ClosureReason,
    }
);

wire_choice!(
    /// Columns of an appointment table.
    AppointmentDimension => Dimension {
        /// Département.
        Departement => Dimension::Departement,
        /// Région.
        Region => Dimension::Region,
        /// Mode (permanence, home, phone…).
        Mode => Dimension::Mode,
        /// Status (`no_show` against the total gives the no-show rate).
        Status => Dimension::Status,
    }
);

wire_choice!(
    /// What to count about group sessions held.
    GroupMeasure => Measure {
        /// Sessions held (by start).
        Held => Measure::GroupSessionsHeld,
        /// People reached: the head counts of sessions held.
        PeopleReached => Measure::PeopleReached,
    }
);

wire_choice!(
    /// Columns of a group-session table.
    GroupDimension => Dimension {
        /// Département.
        Departement => Dimension::Departement,
        /// Région.
        Region => Dimension::Region,
        /// Session kind.
        Kind => Dimension::Kind,
    }
);

wire_choice!(
    /// What to count about professionals.
    ProfessionalMeasure => Measure {
        /// Professionals reached: confirmed registrations of professionals to
        /// sessions held, not marked absent (by the session's start).
        Reached => Measure::ProfessionalsReached,
    }
);

wire_choice!(
    /// Columns of a professionals table.
    ProfessionalDimension => Dimension {
        /// Département of the session.
        Departement => Dimension::Departement,
        /// Région.
        Region => Dimension::Region,
        /// Kind of the professionals' organisation (`ase`, `pjj`, `school`…).
        OrganisationKind => Dimension::OrganisationKind,
        /// Session kind (awareness session, action-training, case review).
        Kind => Dimension::Kind,
    }
);

wire_choice!(
    /// What to count about the resource library.
    ResourceMeasure => Measure {
        /// Downloads (by date of download).
        Downloads => Measure::ResourceDownloads,
    }
);

wire_choice!(
    /// Columns of a resource table.
    ResourceDimension => Dimension {
        /// Kind of resource (guide, workshop kit…).
        Kind => Dimension::ResourceKind,
    }
);

macro_rules! stats_query {
    ($(#[$meta:meta])* $name:ident, $measure:ty, $dimension:ty) => {
        $(#[$meta])*
        #[derive(Debug, Deserialize, Validate, IntoParams)]
        #[serde(deny_unknown_fields)]
        #[into_params(parameter_in = Query)]
        pub struct $name {
            /// First month of the range (`YYYY-MM`, 1900 to 2099).
            #[param(pattern = "^(19|20)[0-9]{2}-(0[1-9]|1[0-2])$", example = "2026-01")]
            pub from: String,
            /// Number of months, 1 to 60 (default 12).
            #[validate(range(min = 1, max = 60, message = "months must be from 1 to 60"))]
            #[param(minimum = 1, maximum = 60, default = 12)]
            pub months: Option<u32>,
            /// Rows: `month` (default), `quarter` or `year`.
            #[param(inline)]
            pub period: Option<PeriodWire>,
            /// What to count (default: the first).
            #[param(inline)]
            pub measure: Option<$measure>,
            /// Columns (default: none, one `all` column).
            #[param(inline)]
            pub by: Option<$dimension>,
            /// `csv` or `json`; without it, `Accept` decides (`text/csv`: CSV).
            #[param(inline)]
            pub format: Option<TableFormat>,
        }
    };
}

stats_query!(
    /// Referral statistics parameters.
    ReferralStatsQuery, ReferralMeasure, ReferralDimension
);
stats_query!(
    /// Follow-up statistics parameters.
    FollowUpStatsQuery, FollowUpMeasure, FollowUpDimension
);
stats_query!(
    /// Group-session statistics parameters.
    GroupStatsQuery, GroupMeasure, GroupDimension
);
stats_query!(
    /// Professionals statistics parameters.
    ProfessionalStatsQuery, ProfessionalMeasure, ProfessionalDimension
);
stats_query!(
    /// Resource library statistics parameters.
    ResourceStatsQuery, ResourceMeasure, ResourceDimension
);

/// Appointment statistics parameters.
#[derive(Debug, Deserialize, Validate, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AppointmentStatsQuery {
    /// First month of the range (`YYYY-MM`, 1900 to 2099).
    #[param(pattern = "^(19|20)[0-9]{2}-(0[1-9]|1[0-2])$", example = "2026-01")]
    pub from: String,
    /// Number of months, 1 to 60 (default 12).
    #[validate(range(min = 1, max = 60, message = "months must be from 1 to 60"))]
    #[param(minimum = 1, maximum = 60, default = 12)]
    pub months: Option<u32>,
    /// Rows: `month` (default), `quarter` or `year`.
    #[param(inline)]
    pub period: Option<PeriodWire>,
    /// Columns (default: none, one `all` column).
    #[param(inline)]
    pub by: Option<AppointmentDimension>,
    /// `csv` or `json`; without it, `Accept` decides (`text/csv`: CSV).
    #[param(inline)]
    pub format: Option<TableFormat>,
}

/// A published figure: `value` is `null` when `suppressed`.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Figure {
    /// The count, unless suppressed.
    pub value: Option<u64>,
    /// Withheld: a count from 1 to `min_cell − 1`, or a complement that
    /// would let one be recovered.
    pub suppressed: bool,
}

/// One period.
#[derive(Debug, Serialize, ToSchema)]
pub struct StatsRow {
    /// `YYYY-MM`, `YYYY-Qn` or `YYYY`.
    pub period: String,
    /// One figure per column.
    pub cells: Vec<Figure>,
    /// The period's total.
    pub total: Figure,
    /// Appointments by status only: `no_show` over the period's total, when
    /// both are published and the total is not zero.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub no_show_rate: Option<f64>,
}

/// A published table.
#[derive(Debug, Serialize, ToSchema)]
pub struct StatsTable {
    /// What was counted.
    pub measure: String,
    /// Row granularity.
    pub period: PeriodWire,
    /// First month.
    pub from: String,
    /// Last month (inclusive).
    pub to: String,
    /// The column dimension, if any.
    pub by: Option<String>,
    /// Counts from 1 to `min_cell − 1` are suppressed; zeros are published.
    pub min_cell: u64,
    /// Column labels (`all` without a dimension). Categories absent from
    /// the data are zero.
    pub columns: Vec<String>,
    /// One row per period of the range, empty periods included. Every
    /// figure is the year's release's: a period reads the same in every
    /// request, and a closed period once released reads the same forever.
    /// No totals across periods are published.
    pub rows: Vec<StatsRow>,
}

struct Request {
    family: &'static str,
    /// `None`: permanences held (expanded from their series in Rust).
    measure: Option<Measure>,
    measure_name: String,
    by: Option<(Dimension, String)>,
    period: PeriodWire,
    from: String,
    months: Option<u32>,
}

fn wire_name<T: Serialize>(value: T) -> String {
    serde_json::to_value(value)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

fn first_month(from: &str) -> Result<NaiveDate, ApiError> {
    let bad = || ApiError::invalid_field("from", "pattern", "from must be YYYY-MM (1900 to 2099)");
    let (year, month) = from.split_once('-').ok_or_else(bad)?;
    if year.len() != 4 || month.len() != 2 {
        return Err(bad());
    }
    let year: i32 = year.parse().map_err(|_| bad())?;
    let month: u32 = month.parse().map_err(|_| bad())?;
    if !(1900..=2099).contains(&year) {
        return Err(bad());
    }
    NaiveDate::from_ymd_opt(year, month, 1).ok_or_else(bad)
}

fn wants_csv(req: &HttpRequest) -> bool {
    req.headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|accept| {
            accept
                .split(',')
                .any(|part| part.trim().to_ascii_lowercase().starts_with("text/csv"))
        })
}

async fn respond(
    state: &AppState,
    auth: &Authenticated,
    req: &HttpRequest,
    request: Request,
    format: Option<TableFormat>,
) -> Result<HttpResponse, ApiError> {
    let family = request.family;
    let table = build(state, request).await?;
    audit::record(
        state,
        vec![audit::entry(
            Some(&auth.actor),
            &auth.ctx,
            "read_statistics",
            "statistics",
            Some(family),
            Outcome::Success,
        )],
    )
    .await?;
    let csv_wanted = match format {
        Some(TableFormat::Csv) => true,
        Some(TableFormat::Json) => false,
        None => wants_csv(req),
    };
    if csv_wanted {
        Ok(HttpResponse::Ok()
            .content_type("text/csv; charset=utf-8")
            .body(csv(&table)))
    } else {
        Ok(HttpResponse::Ok().json(table))
    }
}

/// Reads the figures of the periods asked from the releases of their years
/// (`crate::statistics`): every table, whatever its measure, dimension or
/// granularity, shows the same figures, protected together.
async fn build(state: &AppState, request: Request) -> Result<StatsTable, ApiError> {
    // The range, widened to whole periods: a period is always counted whole,
    // so that it reads the same whatever the range asked.
    let asked = first_month(&request.from)?;
    let months = request.months.unwrap_or(12).clamp(1, MAX_MONTHS);
    let out_of_range = || ApiError::invalid_field("from", "range", "out of range");
    let start = request.period.start_of(asked);
    let last_asked = asked
        .checked_add_months(chrono::Months::new(months - 1))
        .ok_or_else(out_of_range)?;
    let end = request
        .period
        .start_of(last_asked)
        .checked_add_months(chrono::Months::new(request.period.months()))
        .ok_or_else(out_of_range)?;
    let last = end
        .checked_sub_months(chrono::Months::new(1))
        .unwrap_or(start);
    // Each period: its label, its year and its index in the year's release.
    let mut periods: Vec<(String, i32, usize)> = Vec::new();
    let mut cursor = start;
    while cursor < end {
        let index = match request.period {
            PeriodWire::Month => cursor.month0() as usize,
            PeriodWire::Quarter => 12 + (cursor.month0() / 3) as usize,
            PeriodWire::Year => 16,
        };
        periods.push((request.period.label(cursor), cursor.year(), index));
        cursor = cursor
            .checked_add_months(chrono::Months::new(request.period.months()))
            .ok_or_else(out_of_range)?;
    }
    let (family, measure) = statistics::locate(request.measure);
    let mut releases: BTreeMap<i32, std::sync::Arc<statistics::YearRelease>> = BTreeMap::new();
    let publisher = statistics::Publisher::from(state);
    for year in start.year()..=last.year() {
        releases.insert(year, statistics::release(&publisher, family, year).await?);
    }
    let dimension = request.by.as_ref().map(|(d, _)| *d);
    let columns: Vec<String> = match dimension {
        Some(d) => {
            let mut columns = BTreeSet::new();
            for (year, release) in &releases {
                let indexes: Vec<usize> = periods
                    .iter()
                    .filter(|(_, y, _)| y == year)
                    .map(|(_, _, p)| *p)
                    .collect();
                columns.extend(release.categories(measure, d, &indexes));
            }
            columns.into_iter().collect()
        }
        None => vec!["all".into()],
    };
    let no_show = (request.measure == Some(Measure::Appointments)
        && dimension == Some(Dimension::Status))
    .then(|| columns.iter().position(|c| c == "no_show"))
    .flatten();
    let figure = |published: statistics::Published| Figure {
        value: published.value,
        suppressed: published.hidden,
    };
    let rows = periods
        .into_iter()
        .filter_map(|(label, year, p)| {
            let release = releases.get(&year)?;
            let total = figure(release.figure(p, measure, None, ""));
            let cells: Vec<Figure> = match dimension {
                Some(d) => columns
                    .iter()
                    .map(|c| figure(release.figure(p, measure, Some(d), c)))
                    .collect(),
                None => vec![total.clone()],
            };
            Some(StatsRow {
                no_show_rate: no_show.and_then(|j| rate(cells.get(j), &total)),
                period: label,
                cells,
                total,
            })
        })
        .collect();
    Ok(StatsTable {
        measure: request.measure_name,
        period: request.period,
        from: PeriodWire::Month.label(start),
        to: PeriodWire::Month.label(last),
        by: request.by.map(|(_, name)| name),
        min_cell: state.stats_min_cell.get(),
        columns,
        rows,
    })
}

/// `part / total` when both are published and the total is not zero.
fn rate(part: Option<&Figure>, total: &Figure) -> Option<f64> {
    match (part.and_then(|p| p.value), total.value) {
        (Some(part), Some(total)) if total > 0 => {
            let ratio = part as f64 / total as f64;
            Some((ratio * 10_000.0).round() / 10_000.0)
        }
        _ => None,
    }
}

/// Permanence occurrences that took place (not cancelled) starting in
/// `[low, high)`, per period and département or région of their site. The
/// series are few: they are expanded here (`schedule::series::expand`),
/// exceptions applied; inactive series or sites count nothing.
pub(crate) fn permanences_held(
    conn: &mut adosexo_persistence::DbConnection,
    dimension: Option<Dimension>,
    period: PeriodWire,
    low: NaiveDateTime,
    high: NaiveDateTime,
) -> Result<Vec<stats::CountRow>, ApiError> {
    use adosexo_domain::schedule::series::OccurrenceStatus;
    use adosexo_persistence::schedule::{self, PermanenceFilter};
    let rows = schedule::list_permanences(
        conn,
        &PermanenceFilter {
            limit: 100_000,
            ..PermanenceFilter::default()
        },
    )?;
    let loaded = super::permanences::load_many(conn, rows)?;
    let regions: BTreeMap<String, String> = adosexo_persistence::territory::list_departements(
        conn,
        &adosexo_persistence::territory::DepartementFilter {
            limit: 1000,
            ..Default::default()
        },
    )?
    .into_iter()
    .map(|d| (d.code, d.region_code))
    .collect();
    let (from, to) = (low.and_utc(), high.and_utc());
    let mut counts: BTreeMap<(String, Option<String>), i64> = BTreeMap::new();
    for permanence in &loaded {
        let departement = &permanence.site.departement_code;
        let category = match dimension {
            Some(Dimension::Region) => Some(
                regions
                    .get(departement)
                    .cloned()
                    .unwrap_or_else(|| "unknown".into()),
            ),
            Some(_) => Some(departement.clone()),
            None => None,
        };
        for occurrence in permanence.occurrences(from, to)? {
            if occurrence.status != OccurrenceStatus::Cancelled
                && occurrence.start >= from
                && occurrence.start < to
            {
                let label = period.label(occurrence.start.date_naive());
                *counts.entry((label, category.clone())).or_default() += 1;
            }
        }
    }
    Ok(counts
        .into_iter()
        .map(|((period, category), n)| stats::CountRow {
            period,
            category,
            n,
        })
        .collect())
}

/// One RFC 4180 field: quoted when it holds a comma, a quote or a line break.
fn field(text: &str) -> String {
    if text.contains([',', '"', '\r', '\n']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_owned()
    }
}

/// The table as CSV: `period,<dimension>,count,suppressed`, one line per
/// figure, each period's total labelled `total`.
pub fn csv(table: &StatsTable) -> String {
    let dimension = table.by.as_deref().unwrap_or("category");
    let mut out = format!("period,{},count,suppressed\r\n", field(dimension));
    let mut line = |period: &str, column: &str, figure: &Figure| {
        let count = figure.value.map(|v| v.to_string()).unwrap_or_default();
        out.push_str(&format!(
            "{},{},{},{}\r\n",
            field(period),
            field(column),
            count,
            figure.suppressed
        ));
    };
    for row in &table.rows {
        for (column, figure) in table.columns.iter().zip(&row.cells) {
            line(&row.period, column, figure);
        }
        line(&row.period, "total", &row.total);
    }
    out
}

const DESCRIPTION: &str = "Rows are the periods covering `from` + `months` (UTC), widened to whole quarters or years. Columns are the `by` dimension (categories absent from the data are zero). Each period is published on its own with its total (no totals across periods, so overlapping ranges cannot be subtracted). Counts from 1 to `min_cell − 1` (`ADOSEXO_STATS_MIN_CELL`, default 11) are `null` with `suppressed: true`, and further figures are suppressed so that no combination of everything published about the year (every table, measure, granularity, the report) pins a hidden figure or proves it small; zeros are published. A closed period is released once and then reads the same (later data does not move it); the current ones are provisional. See docs/STATISTICS.md. `Accept: text/csv` or `format=csv` gives CSV (`period,<by>,count,suppressed`, CRLF). Analysts and the supervisor; each read is audited.";

async fn guard(state: &AppState, auth: &Authenticated, family: &str) -> Result<(), ApiError> {
    permit(
        state,
        auth,
        Action::ReadStatistics,
        Resource::Service,
        "statistics",
        Some(family),
    )
    .await
}

/// Referrals received, accepted, declined, redirected.
#[utoipa::path(
    operation_id = "referralStatistics",
    tag = "statistics",
    summary = "Referral statistics",
    description = DESCRIPTION,
    params(ReferralStatsQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The table", content(
            (StatsTable = "application/json"),
            (String = "text/csv"),
        )),
        (status = 400, response = crate::problem::BadRequest),
        (status = 401, response = crate::problem::Unauthorized),
        (status = 403, response = crate::problem::Forbidden),
        (status = 503, response = crate::problem::Unavailable),
    ),
)]
#[get("/stats/referrals")]
pub async fn referral_stats(
    state: web::Data<AppState>,
    auth: Authenticated,
    req: HttpRequest,
    query: ApiQuery<ReferralStatsQuery>,
) -> Result<HttpResponse, ApiError> {
    guard(&state, &auth, "referrals").await?;
    let query = query.into_inner()?;
    let format = query.format;
    let measure = query.measure.unwrap_or(ReferralMeasure::Received);
    let request = Request {
        family: "referrals",
        measure: Some(measure.target()),
        measure_name: wire_name(measure),
        by: query.by.map(|d| (d.target(), wire_name(d))),
        period: query.period.unwrap_or_default(),
        from: query.from,
        months: query.months,
    };
    respond(&state, &auth, &req, request, format).await
}

/// Follow-ups opened and closed.
#[utoipa::path(
    operation_id = "followUpStatistics",
    tag = "statistics",
    summary = "Follow-up statistics",
    description = DESCRIPTION,
    params(FollowUpStatsQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The table", content(
            (StatsTable = "application/json"),
            (String = "text/csv"),
        )),
        (status = 400, response = crate::problem::BadRequest),
        (status = 401, response = crate::problem::Unauthorized),
        (status = 403, response = crate::problem::Forbidden),
        (status = 503, response = crate::problem::Unavailable),
    ),
)]
#[get("/stats/follow-ups")]
pub async fn follow_up_stats(
    state: web::Data<AppState>,
    auth: Authenticated,
    req: HttpRequest,
    query: ApiQuery<FollowUpStatsQuery>,
) -> Result<HttpResponse, ApiError> {
    guard(&state, &auth, "follow_ups").await?;
    let query = query.into_inner()?;
    let format = query.format;
    let measure = query.measure.unwrap_or(FollowUpMeasure::Opened);
    let request = Request {
        family: "follow_ups",
        measure: Some(measure.target()),
        measure_name: wire_name(measure),
        by: query.by.map(|d| (d.target(), wire_name(d))),
        period: query.period.unwrap_or_default(),
        from: query.from,
        months: query.months,
    };
    respond(&state, &auth, &req, request, format).await
}

/// Appointments by mode and status.
#[utoipa::path(
    operation_id = "appointmentStatistics",
    tag = "statistics",
    summary = "Appointment statistics",
    description = DESCRIPTION,
    params(AppointmentStatsQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The table", content(
            (StatsTable = "application/json"),
            (String = "text/csv"),
        )),
        (status = 400, response = crate::problem::BadRequest),
        (status = 401, response = crate::problem::Unauthorized),
        (status = 403, response = crate::problem::Forbidden),
        (status = 503, response = crate::problem::Unavailable),
    ),
)]
#[get("/stats/appointments")]
pub async fn appointment_stats(
    state: web::Data<AppState>,
    auth: Authenticated,
    req: HttpRequest,
    query: ApiQuery<AppointmentStatsQuery>,
) -> Result<HttpResponse, ApiError> {
    guard(&state, &auth, "appointments").await?;
    let query = query.into_inner()?;
    let format = query.format;
    let request = Request {
        family: "appointments",
        measure: Some(Measure::Appointments),
        measure_name: "appointments".into(),
        by: query.by.map(|d| (d.target(), wire_name(d))),
        period: query.period.unwrap_or_default(),
        from: query.from,
        months: query.months,
    };
    respond(&state, &auth, &req, request, format).await
}

/// Columns of a permanence table.
#[derive(Clone, Copy, Debug, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PermanenceDimension {
    /// Département of the site.
    Departement,
    /// Région of the site.
    Region,
}

/// What to count about permanences.
#[derive(Clone, Copy, Debug, Default, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PermanenceMeasure {
    /// Occurrences held (not cancelled).
    #[default]
    Held,
    /// Attendance: appointments at a permanence that took place.
    Attendance,
}

/// Permanence statistics parameters.
#[derive(Debug, Deserialize, Validate, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct PermanenceStatsQuery {
    /// What to count: `held` (default) or `attendance`.
    #[param(inline)]
    pub measure: Option<PermanenceMeasure>,
    /// First month of the range (`YYYY-MM`, 1900 to 2099).
    #[param(pattern = "^(19|20)[0-9]{2}-(0[1-9]|1[0-2])$", example = "2026-01")]
    pub from: String,
    /// Number of months, 1 to 60 (default 12).
    #[validate(range(min = 1, max = 60, message = "months must be from 1 to 60"))]
    #[param(minimum = 1, maximum = 60, default = 12)]
    pub months: Option<u32>,
    /// Rows: `month` (default), `quarter` or `year`.
    #[param(inline)]
    pub period: Option<PeriodWire>,
    /// Columns (default: none, one `all` column).
    #[param(inline)]
    pub by: Option<PermanenceDimension>,
    /// `csv` or `json`; without it, `Accept` decides (`text/csv`: CSV).
    #[param(inline)]
    pub format: Option<TableFormat>,
}

/// Permanences held: occurrences not cancelled.
#[utoipa::path(
    operation_id = "permanenceStatistics",
    tag = "statistics",
    summary = "Permanence statistics",
    description = DESCRIPTION,
    params(PermanenceStatsQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The table", content(
            (StatsTable = "application/json"),
            (String = "text/csv"),
        )),
        (status = 400, response = crate::problem::BadRequest),
        (status = 401, response = crate::problem::Unauthorized),
        (status = 403, response = crate::problem::Forbidden),
        (status = 503, response = crate::problem::Unavailable),
    ),
)]
#[get("/stats/permanences")]
pub async fn permanence_stats(
    state: web::Data<AppState>,
    auth: Authenticated,
    req: HttpRequest,
    query: ApiQuery<PermanenceStatsQuery>,
) -> Result<HttpResponse, ApiError> {
    guard(&state, &auth, "permanences").await?;
    let query = query.into_inner()?;
    let format = query.format;
    let (measure, measure_name) = match query.measure.unwrap_or_default() {
        PermanenceMeasure::Held => (None, "permanences_held"),
        PermanenceMeasure::Attendance => {
            (Some(Measure::PermanenceAttendance), "permanence_attendance")
        }
    };
    let request = Request {
        family: "permanences",
        measure,
        measure_name: measure_name.into(),
        by: query.by.map(|d| {
            let dimension = match d {
                PermanenceDimension::Departement => Dimension::Departement,
                PermanenceDimension::Region => Dimension::Region,
            };
            (dimension, wire_name(d))
        }),
        period: query.period.unwrap_or_default(),
        from: query.from,
        months: query.months,
    };
    respond(&state, &auth, &req, request, format).await
}

/// Group sessions held and people reached.
#[utoipa::path(
    operation_id = "groupSessionStatistics",
    tag = "statistics",
    summary = "Group-session statistics",
    description = DESCRIPTION,
    params(GroupStatsQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The table", content(
            (StatsTable = "application/json"),
            (String = "text/csv"),
        )),
        (status = 400, response = crate::problem::BadRequest),
        (status = 401, response = crate::problem::Unauthorized),
        (status = 403, response = crate::problem::Forbidden),
        (status = 503, response = crate::problem::Unavailable),
    ),
)]
#[get("/stats/group-sessions")]
pub async fn group_session_stats(
    state: web::Data<AppState>,
    auth: Authenticated,
    req: HttpRequest,
    query: ApiQuery<GroupStatsQuery>,
) -> Result<HttpResponse, ApiError> {
    guard(&state, &auth, "group_sessions").await?;
    let query = query.into_inner()?;
    let format = query.format;
    let measure = query.measure.unwrap_or(GroupMeasure::Held);
    let request = Request {
        family: "group_sessions",
        measure: Some(measure.target()),
        measure_name: wire_name(measure),
        by: query.by.map(|d| (d.target(), wire_name(d))),
        period: query.period.unwrap_or_default(),
        from: query.from,
        months: query.months,
    };
    respond(&state, &auth, &req, request, format).await
}

/// Professionals reached by trainings and case reviews, per organisation
/// kind and département.
#[utoipa::path(
    operation_id = "professionalStatistics",
    tag = "statistics",
    summary = "Professionals reached",
    description = DESCRIPTION,
    params(ProfessionalStatsQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The table", content(
            (StatsTable = "application/json"),
            (String = "text/csv"),
        )),
        (status = 400, response = crate::problem::BadRequest),
        (status = 401, response = crate::problem::Unauthorized),
        (status = 403, response = crate::problem::Forbidden),
        (status = 503, response = crate::problem::Unavailable),
    ),
)]
#[get("/stats/professionals")]
pub async fn professional_stats(
    state: web::Data<AppState>,
    auth: Authenticated,
    req: HttpRequest,
    query: ApiQuery<ProfessionalStatsQuery>,
) -> Result<HttpResponse, ApiError> {
    guard(&state, &auth, "professionals").await?;
    let query = query.into_inner()?;
    let format = query.format;
    let measure = query.measure.unwrap_or(ProfessionalMeasure::Reached);
    let request = Request {
        family: "professionals",
        measure: Some(measure.target()),
        measure_name: wire_name(measure),
        by: query.by.map(|d| (d.target(), wire_name(d))),
        period: query.period.unwrap_or_default(),
        from: query.from,
        months: query.months,
    };
    respond(&state, &auth, &req, request, format).await
}

/// Library downloads per resource kind.
#[utoipa::path(
    operation_id = "resourceStatistics",
    tag = "statistics",
    summary = "Resource library downloads",
    description = DESCRIPTION,
    params(ResourceStatsQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The table", content(
            (StatsTable = "application/json"),
            (String = "text/csv"),
        )),
        (status = 400, response = crate::problem::BadRequest),
        (status = 401, response = crate::problem::Unauthorized),
        (status = 403, response = crate::problem::Forbidden),
        (status = 503, response = crate::problem::Unavailable),
    ),
)]
#[get("/stats/resources")]
pub async fn resource_stats(
    state: web::Data<AppState>,
    auth: Authenticated,
    req: HttpRequest,
    query: ApiQuery<ResourceStatsQuery>,
) -> Result<HttpResponse, ApiError> {
    guard(&state, &auth, "resources").await?;
    let query = query.into_inner()?;
    let format = query.format;
    let measure = query.measure.unwrap_or(ResourceMeasure::Downloads);
    let request = Request {
        family: "resources",
        measure: Some(measure.target()),
        measure_name: wire_name(measure),
        by: query.by.map(|d| (d.target(), wire_name(d))),
        period: query.period.unwrap_or_default(),
        from: query.from,
        months: query.months,
    };
    respond(&state, &auth, &req, request, format).await
}

/// Annual report parameters.
#[derive(Debug, Deserialize, Validate, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ReportQuery {
    /// The calendar year, 1900 to 2099.
    #[validate(range(min = 1900, max = 2099, message = "year must be from 1900 to 2099"))]
    #[param(minimum = 1900, maximum = 2099, example = 2026)]
    pub year: i32,
    /// `html` or `json`; without it, `Accept` decides (`text/html`: HTML).
    #[param(inline)]
    pub format: Option<ReportFormat>,
}

/// The annual activity report sent to funders.
#[derive(Debug, Serialize, ToSchema)]
pub struct Report {
    /// The year.
    pub year: i32,
    /// Counts from 1 to `min_cell − 1` are suppressed.
    pub min_cell: u64,
    /// Referrals received per month.
    pub referrals_per_month: StatsTable,
    /// Referrals received by source.
    pub referrals_by_source: StatsTable,
    /// Follow-ups closed by reason.
    pub follow_ups_by_outcome: StatsTable,
    /// Group sessions held by kind.
    pub group_sessions_by_kind: StatsTable,
    /// Referrals received by département.
    pub departements_reached: StatsTable,
}

fn yearly(
    year: i32,
    family: &'static str,
    measure: Measure,
    name: &str,
    period: PeriodWire,
    by: Option<(Dimension, &str)>,
) -> Request {
    Request {
        family,
        measure: Some(measure),
        measure_name: name.into(),
        by: by.map(|(d, n)| (d, n.to_owned())),
        period,
        from: format!("{year:04}-01"),
        months: Some(12),
    }
}

/// HTML text: `&`, `<`, `>`, `"` and `'` escaped.
fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

/// A horizontal bar chart of (label, figure); suppressed figures are a
/// hatched bar marked "masqué".
fn bar_chart(title: &str, bars: &[(String, &Figure)]) -> String {
    let max = bars
        .iter()
        .filter_map(|(_, f)| f.value)
        .max()
        .unwrap_or(0)
        .max(1);
    let (row, label_width, bar_width) = (24_usize, 220_usize, 360_u64);
    let height = row * bars.len().max(1) + 10;
    let mut svg = format!(
        "<figure><figcaption>{}</figcaption><svg xmlns=\"http://www.w3.org/2000/svg\" role=\"img\" \
         aria-label=\"{}\" width=\"{}\" height=\"{height}\" viewBox=\"0 0 {} {height}\">",
        escape(title),
        escape(title),
        label_width + bar_width as usize + 80,
        label_width + bar_width as usize + 80,
    );
    svg.push_str(
        "<defs><pattern id=\"hatch\" width=\"6\" height=\"6\" patternUnits=\"userSpaceOnUse\" \
         patternTransform=\"rotate(45)\"><rect width=\"3\" height=\"6\" fill=\"#bbb\"/></pattern></defs>",
    );
    for (i, (label, figure)) in bars.iter().enumerate() {
        let y = i * row + 5;
        svg.push_str(&format!(
            "<text x=\"{}\" y=\"{}\" text-anchor=\"end\" font-size=\"12\">{}</text>",
            label_width - 8,
            y + 15,
            escape(label)
        ));
        match figure.value {
            Some(v) => {
                let w = (v * bar_width / max).max(u64::from(v > 0));
                svg.push_str(&format!(
                    "<rect class=\"bar\" x=\"{label_width}\" y=\"{y}\" width=\"{w}\" height=\"18\" fill=\"#2b6cb0\"/>\
                     <text x=\"{}\" y=\"{}\" font-size=\"12\">{v}</text>",
                    label_width as u64 + w + 4,
                    y + 14
                ));
            }
            None => svg.push_str(&format!(
                "<rect class=\"suppressed\" x=\"{label_width}\" y=\"{y}\" width=\"30\" height=\"18\" fill=\"url(#hatch)\"/>\
                 <text x=\"{}\" y=\"{}\" font-size=\"12\" fill=\"#555\">masqué</text>",
                label_width + 34,
                y + 14
            )),
        }
    }
    svg.push_str("</svg></figure>");
    svg
}

/// Bars of a table: per column for a one-period table, per period otherwise.
fn bars(table: &StatsTable) -> Vec<(String, &Figure)> {
    if table.by.is_some() {
        table
            .rows
            .iter()
            .flat_map(|row| table.columns.iter().cloned().zip(row.cells.iter()))
            .collect()
    } else {
        table
            .rows
            .iter()
            .map(|row| (row.period.clone(), &row.total))
            .collect()
    }
}

/// The report as a self-contained printable page.
pub fn report_html(report: &Report) -> String {
    let charts = [
        ("Orientations reçues par mois", &report.referrals_per_month),
        ("Orientations par source", &report.referrals_by_source),
        (
            "Accompagnements clos par motif",
            &report.follow_ups_by_outcome,
        ),
        (
            "Actions collectives par type",
            &report.group_sessions_by_kind,
        ),
        (
            "Départements touchés (orientations)",
            &report.departements_reached,
        ),
    ]
    .iter()
    .map(|(title, table)| bar_chart(title, &bars(table)))
    .collect::<String>();
    format!(
        "<!DOCTYPE html><html lang=\"fr\"><head><meta charset=\"utf-8\">\
         <title>Rapport d'activité {year}</title><style>\
         body{{font-family:sans-serif;margin:2em;color:#222}}figure{{margin:1.5em 0;page-break-inside:avoid}}\
         figcaption{{font-weight:bold;margin-bottom:.5em}}@media print{{body{{margin:1cm}}}}\
         </style></head><body><h1>Rapport d'activité {year}</h1>\
         <p>Chiffres agrégés. Les effectifs de 1 à {k} sont masqués, ainsi que les chiffres \
         qui permettraient de les retrouver ; les zéros sont publiés.</p>{charts}</body></html>",
        year = report.year,
        k = report.min_cell.saturating_sub(1),
    )
}

/// The annual activity report: JSON, or a printable HTML page with SVG
/// charts (`Accept: text/html`).
#[utoipa::path(
    operation_id = "getStatisticsReport",
    tag = "statistics",
    summary = "Annual activity report",
    description = "Referrals per month, by source, follow-ups closed by reason, group sessions held by kind, départements reached, for one calendar year (UTC), with the figures of the other statistics (the same releases, the same hidden figures). `Accept: text/html` or `format=html` gives a self-contained printable page with inline SVG charts. Analysts and the supervisor; audited.",
    params(ReportQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The report", content(
            (Report = "application/json"),
            (String = "text/html"),
        )),
        (status = 400, response = crate::problem::BadRequest),
        (status = 401, response = crate::problem::Unauthorized),
        (status = 403, response = crate::problem::Forbidden),
        (status = 503, response = crate::problem::Unavailable),
    ),
)]
#[get("/stats/report")]
pub async fn annual_report(
    state: web::Data<AppState>,
    auth: Authenticated,
    req: HttpRequest,
    query: ApiQuery<ReportQuery>,
) -> Result<HttpResponse, ApiError> {
    guard(&state, &auth, "report").await?;
    let query = query.into_inner()?;
    let (year, format) = (query.year, query.format);
    let (month, whole) = (PeriodWire::Month, PeriodWire::Year);
    let body = Report {
        year,
        min_cell: state.stats_min_cell.get(),
        referrals_per_month: build(
            &state,
            Request {
                ..yearly(
                    year,
                    "report",
                    Measure::ReferralsReceived,
                    "received",
                    month,
                    None,
                )
            },
        )
        .await?,
        referrals_by_source: build(
            &state,
            yearly(
                year,
                "report",
                Measure::ReferralsReceived,
                "received",
                whole,
                Some((Dimension::Source, "source")),
            ),
        )
        .await?,
        follow_ups_by_outcome: build(
            &state,
            yearly(
                year,
                "report",
                Measure::FollowUpsClosed,
                "closed",
                whole,
                Some((Dimension::ClosureReason, "closure_reason")),
            ),
        )
        .await?,
        group_sessions_by_kind: build(
            &state,
            yearly(
                year,
                "report",
                Measure::GroupSessionsHeld,
                "held",
                whole,
                Some((Dimension::Kind, "kind")),
            ),
        )
        .await?,
        departements_reached: build(
            &state,
            yearly(
                year,
                "report",
                Measure::ReferralsReceived,
                "received",
                whole,
                Some((Dimension::Departement, "departement")),
            ),
        )
        .await?,
    };
    audit::record(
        &state,
        vec![audit::entry(
            Some(&auth.actor),
            &auth.ctx,
            "read_statistics",
            "statistics",
            Some("report"),
            Outcome::Success,
        )],
    )
    .await?;
    let html = match format {
        Some(ReportFormat::Html) => true,
        Some(ReportFormat::Json) => false,
        None => req
            .headers()
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|a| a.to_ascii_lowercase().contains("text/html")),
    };
    if html {
        Ok(HttpResponse::Ok()
            .content_type("text/html; charset=utf-8")
            .body(report_html(&body)))
    } else {
        Ok(HttpResponse::Ok().json(body))
    }
}
