//! Statistics releases: everything the API publishes about one family of
//! statistics for one calendar year — every measure, every dimension,
//! months, quarters and the year, départements and régions, and the
//! unpublished parts that link measures — protected as one set of linked
//! tables (`domain::stats::linked`), and frozen once a period has closed.
//!
//! Every statistics table and the annual report read their figures from
//! here, so a figure reads the same in every request that shows it, and no
//! combination of requests uncovers a hidden one (docs/STATISTICS.md).
//!
//! * **Closed periods are frozen.** The first time a year is computed after
//!   one of its months (quarters, the year) has ended, that period's figures
//!   — true counts and whether each is published — are stored
//!   (`stats_releases`) and every later computation takes them as fixed:
//!   a closed period never changes, so two reads cannot be subtracted. Only
//!   `adosexo stats-republish` (audited) withdraws a release.
//! * **Open periods are provisional**: computed from the live data, with
//!   the closed ones fixed.
//! * The computation is a pure function of its inputs (counts, fixed
//!   figures, threshold), memoised on them: an unchanged year is not
//!   protected twice.

use std::collections::{BTreeMap, BTreeSet};
use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::{Arc, Mutex};

use adosexo_domain::stats::MinCell;
use adosexo_domain::stats::linked::{LinkedTables, Status};
use adosexo_persistence::stats::{self, Dimension, Granularity, Measure, Release};
use adosexo_persistence::{DbConnection, territory};
use chrono::{DateTime, Datelike, NaiveDate, NaiveDateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::problem::ApiError;
use crate::state::AppState;

/// A family of statistics: the figures protected together.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Family {
    /// Referrals received and their outcomes.
    Referrals,
    /// Follow-ups opened, closed and open.
    FollowUps,
    /// Appointments, and attendance of permanences (a part of them).
    Appointments,
    /// Permanence occurrences held.
    Permanences,
    /// Group sessions held and people reached.
    GroupSessions,
    /// Professionals reached.
    Professionals,
    /// Library downloads.
    Resources,
}

/// Where a measure's counts come from.
#[derive(Clone, Copy, Debug)]
enum Source {
    Count(Measure),
    /// Follow-ups open at each month's end.
    Active,
    /// Permanence occurrences, expanded from their series.
    PermanencesHeld,
    /// Never published; derived from the others (see `derive`).
    Derived,
}

#[derive(Clone, Copy, Debug)]
struct MeasureSpec {
    name: &'static str,
    source: Source,
    dimensions: &'static [Dimension],
    /// Open at the end of the period: a quarter's or a year's figure is its
    /// last month's.
    stock: bool,
}

const REFERRAL_DIMENSIONS: &[Dimension] = &[
    Dimension::Departement,
    Dimension::Region,
    Dimension::Public,
    Dimension::Context,
    Dimension::Source,
    Dimension::AgeBand,
    Dimension::Gender,
];
const FOLLOW_UP_DIMENSIONS: &[Dimension] = &[
    Dimension::Departement,
    Dimension::Region,
    Dimension::Gender,
    Dimension::ClosureReason,
];
const PLACES: &[Dimension] = &[Dimension::Departement, Dimension::Region];
const NONE: &[Dimension] = &[];

const fn flow(name: &'static str, source: Source, dimensions: &'static [Dimension]) -> MeasureSpec {
    MeasureSpec {
        name,
        source,
        dimensions,
        stock: false,
    }
}

impl Family {
    /// The name releases are stored and audited under.
    pub fn name(self) -> &'static str {
        match self {
            Self::Referrals => "referrals",
            Self::FollowUps => "follow_ups",
            Self::Appointments => "appointments",
            Self::Permanences => "permanences",
            Self::GroupSessions => "group_sessions",
            Self::Professionals => "professionals",
            Self::Resources => "resources",
        }
    }

    /// The family stored under `name`.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|f| f.name() == name)
    }

    /// Every family.
    pub const ALL: [Self; 7] = [
        Self::Referrals,
        Self::FollowUps,
        Self::Appointments,
        Self::Permanences,
        Self::GroupSessions,
        Self::Professionals,
        Self::Resources,
    ];

    fn measures(self) -> &'static [MeasureSpec] {
        match self {
            Self::Referrals => REFERRALS_MEASURES,
            Self::FollowUps => FOLLOW_UPS_MEASURES,
            Self::Appointments => APPOINTMENTS_MEASURES,
            Self::Permanences => PERMANENCES_MEASURES,
            Self::GroupSessions => GROUP_SESSIONS_MEASURES,
            Self::Professionals => PROFESSIONALS_MEASURES,
            Self::Resources => RESOURCES_MEASURES,
        }
    }
}

const REFERRALS_MEASURES: &[MeasureSpec] = &[
    flow(
        "received",
        Source::Count(Measure::ReferralsReceived),
        REFERRAL_DIMENSIONS,
    ),
    flow(
        "accepted",
        Source::Count(Measure::ReferralsAccepted),
        REFERRAL_DIMENSIONS,
    ),
    flow(
        "declined",
        Source::Count(Measure::ReferralsDeclined),
        REFERRAL_DIMENSIONS,
    ),
    flow(
        "redirected",
        Source::Count(Measure::ReferralsRedirected),
        REFERRAL_DIMENSIONS,
    ),
    flow(UNDECIDED, Source::Derived, REFERRAL_DIMENSIONS),
];
const FOLLOW_UPS_MEASURES: &[MeasureSpec] = &[
    flow(
        "opened",
        Source::Count(Measure::FollowUpsOpened),
        FOLLOW_UP_DIMENSIONS,
    ),
    flow(
        "closed",
        Source::Count(Measure::FollowUpsClosed),
        FOLLOW_UP_DIMENSIONS,
    ),
    MeasureSpec {
        name: "active",
        source: Source::Active,
        dimensions: FOLLOW_UP_DIMENSIONS,
        stock: true,
    },
];
const APPOINTMENTS_MEASURES: &[MeasureSpec] = &[
    flow(
        "appointments",
        Source::Count(Measure::Appointments),
        &[
            Dimension::Departement,
            Dimension::Region,
            Dimension::Mode,
            Dimension::Status,
        ],
    ),
    flow(
        "permanence_attendance",
        Source::Count(Measure::PermanenceAttendance),
        PLACES,
    ),
    // Appointments that are not attendance: by place, and
    // against the permanence mode and the completed status; those
    // neither at a permanence nor completed.
    flow(NOT_ATTENDED, Source::Derived, PLACES),
    flow(NOT_ATTENDED_MODE, Source::Derived, NONE),
    flow(NOT_ATTENDED_STATUS, Source::Derived, NONE),
    flow(NEITHER, Source::Derived, NONE),
];
const PERMANENCES_MEASURES: &[MeasureSpec] =
    &[flow("permanences_held", Source::PermanencesHeld, PLACES)];
const GROUP_SESSIONS_MEASURES: &[MeasureSpec] = &[
    flow(
        "held",
        Source::Count(Measure::GroupSessionsHeld),
        &[Dimension::Departement, Dimension::Region, Dimension::Kind],
    ),
    flow(
        "people_reached",
        Source::Count(Measure::PeopleReached),
        &[Dimension::Departement, Dimension::Region, Dimension::Kind],
    ),
];
const PROFESSIONALS_MEASURES: &[MeasureSpec] = &[flow(
    "reached",
    Source::Count(Measure::ProfessionalsReached),
    &[
        Dimension::Departement,
        Dimension::Region,
        Dimension::OrganisationKind,
        Dimension::Kind,
    ],
)];
const RESOURCES_MEASURES: &[MeasureSpec] = &[flow(
    "downloads",
    Source::Count(Measure::ResourceDownloads),
    &[Dimension::ResourceKind],
)];

const UNDECIDED: &str = "undecided";
const NOT_ATTENDED: &str = "not_attended";
const NOT_ATTENDED_MODE: &str = "not_attended_mode";
const NOT_ATTENDED_STATUS: &str = "not_attended_status";
const NEITHER: &str = "neither_permanence_nor_completed";

/// The price of hiding a month's total, against 1 for a month's cell; at
/// least `linked::PRECIOUS`, so it moves only when nothing else will do.
const MONTH_TOTAL_WEIGHT: f64 = 100.0;

/// The key of a dimension in releases.
pub fn dimension_key(dimension: Dimension) -> &'static str {
    match dimension {
        Dimension::Departement => "departement",
        Dimension::Region => "region",
        Dimension::Public => "public",
        Dimension::Context => "context",
        Dimension::Source => "source",
        Dimension::AgeBand => "age_band",
        Dimension::Gender => "gender",
        Dimension::ClosureReason => "closure_reason",
        Dimension::Mode => "mode",
        Dimension::Status => "status",
        Dimension::Kind => "kind",
        Dimension::OrganisationKind => "organisation_kind",
        Dimension::ResourceKind => "resource_kind",
    }
}

/// Periods of a year: months 0–11, quarters 12–15, the year 16.
const PERIODS: usize = 17;
const YEAR: usize = 16;

/// The label of period `p` of `year`.
pub fn period_label(year: i32, p: usize) -> String {
    match p {
        0..12 => format!("{year:04}-{:02}", p + 1),
        12..16 => format!("{year:04}-Q{}", p - 11),
        _ => format!("{year:04}"),
    }
}

/// Period index of a label of `year`.
fn period_index(year: i32, label: &str) -> Option<usize> {
    (0..PERIODS).find(|&p| period_label(year, p) == label)
}

fn first_day(year: i32, month0: usize) -> Option<NaiveDate> {
    NaiveDate::from_ymd_opt(year, u32::try_from(month0).ok()? + 1, 1)
}

/// The first instant after period `p`.
fn period_end(year: i32, p: usize) -> Option<NaiveDateTime> {
    let last_month = match p {
        0..12 => p,
        12..16 => (p - 12) * 3 + 2,
        _ => 11,
    };
    let next = if last_month == 11 {
        NaiveDate::from_ymd_opt(year + 1, 1, 1)
    } else {
        first_day(year, last_month + 1)
    }?;
    Some(next.and_time(chrono::NaiveTime::MIN))
}

/// (measure, dimension key or "", category or "").
type FigureKey = (&'static str, &'static str, String);

/// Figures of one period: key → value.
type PeriodValues = BTreeMap<FigureKey, u64>;

/// A stored release: per figure, its true value and whether it is hidden.
#[derive(Debug, Serialize, Deserialize)]
struct Stored {
    figures: Vec<(String, String, String, u64, bool)>,
}

/// What the protection of one family-year starts from. Equal inputs give
/// equal releases.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct Inputs {
    family: Family,
    k: u64,
    /// Values of every period (months from counts or releases; quarters and
    /// the year from releases when frozen, else derived).
    values: Vec<PeriodValues>,
    /// Per period, the frozen hidden/published flags (None: open).
    frozen: Vec<Option<BTreeMap<FigureKey, bool>>>,
    /// Département → région.
    regions: BTreeMap<String, String>,
    /// Follow-ups open at the end of the previous year, as published then:
    /// (value, hidden) by key.
    previous_stock: BTreeMap<FigureKey, (u64, bool)>,
}

/// One family's figures for one year, as published.
#[derive(Debug)]
pub struct YearRelease {
    year: i32,
    /// Per period: key → (value, hidden).
    figures: Vec<BTreeMap<FigureKey, (u64, bool)>>,
    /// Hidden figures no certificate was found for (should be none).
    pub unresolved: usize,
    /// Equations the counts did not satisfy (a bug in the model).
    pub inconsistent: usize,
    /// Linear programmes solved to protect it.
    pub programmes: usize,
}

/// A published figure.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Published {
    /// The count, unless hidden.
    pub value: Option<u64>,
    /// Whether it is withheld.
    pub hidden: bool,
}

impl YearRelease {
    /// The figure of `measure` in period `p`: the total when `dimension` is
    /// `None`. Absent figures are zeros (published).
    pub fn figure(
        &self,
        p: usize,
        measure: &str,
        dimension: Option<Dimension>,
        category: &str,
    ) -> Published {
        let dimension_name = dimension.map_or("", dimension_key);
        let category = if dimension.is_some() { category } else { "" };
        let found = key_of(measure, dimension_name, category)
            .and_then(|key| self.figures.get(p).and_then(|figures| figures.get(&key)))
            .copied();
        match found {
            Some((_, true)) => Published {
                value: None,
                hidden: true,
            },
            Some((value, false)) => Published {
                value: Some(value),
                hidden: false,
            },
            None => Published {
                value: Some(0),
                hidden: false,
            },
        }
    }

    /// Categories of `dimension` with a non-zero figure of `measure` in one
    /// of `periods`.
    pub fn categories(
        &self,
        measure: &str,
        dimension: Dimension,
        periods: &[usize],
    ) -> BTreeSet<String> {
        let dimension = dimension_key(dimension);
        periods
            .iter()
            .filter_map(|&p| self.figures.get(p))
            .flat_map(|figures| {
                figures
                    .iter()
                    .filter(|((m, d, _), (v, _))| *m == measure && *d == dimension && *v > 0)
                    .map(|((_, _, c), _)| c.clone())
            })
            .collect()
    }

    /// The year.
    pub fn year(&self) -> i32 {
        self.year
    }
}

/// Memoised releases: inputs → release (a pure function of them).
/// A memoised release: the hash of its inputs, the inputs, the release.
type Memoised = (u64, Arc<Inputs>, Arc<YearRelease>);
static MEMO: Mutex<Vec<Memoised>> = Mutex::new(Vec::new());
const MEMO_SIZE: usize = 64;
static PROTECTING: Mutex<()> = Mutex::new(());

fn remembered(hash: u64, inputs: &Inputs) -> Option<Arc<YearRelease>> {
    let memo = MEMO.lock().ok()?;
    memo.iter()
        .find(|(h, i, _)| *h == hash && **i == *inputs)
        .map(|(_, _, r)| Arc::clone(r))
}

fn remember(hash: u64, inputs: Arc<Inputs>, release: Arc<YearRelease>) {
    if let Ok(mut memo) = MEMO.lock() {
        if memo.len() >= MEMO_SIZE {
            memo.remove(0);
        }
        memo.push((hash, inputs, release));
    }
}

/// What computing and freezing releases needs: the server's state, or the
/// command line's databases.
#[derive(Clone)]
pub struct Publisher {
    /// Where releases are stored.
    pub db: adosexo_persistence::Db,
    /// Where counts are read (a replica, or `db`).
    pub analytics: adosexo_persistence::Db,
    /// Which periods are closed.
    pub clock: crate::context::Clock,
    /// The least count published.
    pub k: MinCell,
}

impl std::fmt::Debug for Publisher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Publisher")
            .field("k", &self.k)
            .finish_non_exhaustive()
    }
}

impl From<&AppState> for Publisher {
    fn from(state: &AppState) -> Self {
        Self {
            db: state.db.clone(),
            analytics: state.analytics.clone(),
            clock: state.clock.clone(),
            k: state.stats_min_cell,
        }
    }
}

/// Computes every family's releases of the years `from..=to` now, freezing
/// their closed periods, so that no reader waits for them: the nightly job
/// (the previous and the current year) and `adosexo stats publish`.
/// Returns, per family and year, the seconds it took.
pub async fn publish(
    publisher: &Publisher,
    families: &[Family],
    from: i32,
    to: i32,
) -> Result<Vec<(Family, i32, f64)>, ApiError> {
    let mut done = Vec::new();
    for &family in families {
        for year in from..=to {
            let started = std::time::Instant::now();
            release(publisher, family, year).await?;
            done.push((family, year, started.elapsed().as_secs_f64()));
        }
    }
    Ok(done)
}

/// Publishes the previous and the current year every night at 01:00 UTC,
/// for as long as the server runs: a month that closed is frozen before
/// its first reader, and this year's release is computed and remembered.
/// Not at start-up: a server (or a test) that starts on data being loaded
/// would freeze past months before they are complete.
pub async fn nightly(publisher: Publisher) {
    loop {
        let now = publisher.clock.now();
        let next = (now.date_naive() + chrono::Duration::days(1))
            .and_hms_opt(1, 0, 0)
            .unwrap_or(now.naive_utc() + chrono::Duration::days(1));
        let wait = (next - now.naive_utc())
            .to_std()
            .unwrap_or(std::time::Duration::from_secs(24 * 60 * 60));
        actix_web::rt::time::sleep(wait).await;
        let year = publisher.clock.now().year();
        match publish(&publisher, &Family::ALL, year - 1, year).await {
            Ok(done) => {
                let seconds: f64 = done.iter().map(|(_, _, s)| s).sum();
                tracing::info!(
                    job = "statistics",
                    releases = done.len(),
                    seconds,
                    "nightly job done"
                );
            }
            Err(e) => tracing::error!(job = "statistics", error = ?e, "nightly job failed"),
        }
    }
}

/// The release of `family` for `year`: frozen periods as stored, open ones
/// computed now; periods closed since the last computation are frozen.
pub async fn release(
    state: &Publisher,
    family: Family,
    year: i32,
) -> Result<Arc<YearRelease>, ApiError> {
    // What is served is always computed from the periods as frozen: when
    // this computation freezes a period (or another one froze it first),
    // start again from the stored figures, so that every response is the
    // same function of what is stored and of the open periods' data.
    let mut attempt = 0;
    loop {
        attempt += 1;
        let inputs = Arc::new(inputs(state, family, year).await?);
        let computed = compute(family, year, &inputs).await?;
        let now = state.clock.now();
        let stored = freeze(state, family, year, &inputs, &computed, now).await?;
        if !stored || attempt >= 3 {
            return Ok(computed);
        }
    }
}

/// The release for `inputs`, from the memo or protected now.
async fn compute(
    family: Family,
    year: i32,
    inputs: &Arc<Inputs>,
) -> Result<Arc<YearRelease>, ApiError> {
    let mut hasher = DefaultHasher::new();
    inputs.hash(&mut hasher);
    let hash = hasher.finish();
    if let Some(release) = remembered(hash, inputs) {
        return Ok(release);
    }
    // In the blocking task, under a lock held there: a reader who gives up
    // does not stop a protection, whose result is remembered for the next
    // one; one protection at a time (it is CPU-bound), and a reader of the
    // same year waiting for the lock finds it in the memo.
    let inputs = Arc::clone(inputs);
    let span = tracing::Span::current();
    actix_web::rt::task::spawn_blocking(move || {
        let _entered = span.enter();
        let _one_at_a_time = PROTECTING
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(release) = remembered(hash, &inputs) {
            return release;
        }
        let started = std::time::Instant::now();
        let release = Arc::new(protect(&inputs, year));
        tracing::info!(
            family = family.name(),
            year,
            programmes = release.programmes,
            elapsed_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
            "statistics protected"
        );
        if release.unresolved > 0 {
            tracing::warn!(
                family = family.name(),
                year,
                unresolved = release.unresolved,
                "statistics: hidden figures without a certificate"
            );
        }
        if release.inconsistent > 0 {
            tracing::error!(
                family = family.name(),
                year,
                inconsistent = release.inconsistent,
                "statistics: equations the counts do not satisfy"
            );
        }
        remember(hash, inputs, Arc::clone(&release));
        release
    })
    .await
    .map_err(|e| {
        tracing::error!(error = %e, "statistics protection failed");
        ApiError::internal("statistics protection")
    })
}

/// Stores the periods that have closed and are not frozen yet; `true` when
/// there were any (stored now or by another computation first): the caller
/// starts again from the stored figures.
async fn freeze(
    state: &Publisher,
    family: Family,
    year: i32,
    inputs: &Inputs,
    release: &YearRelease,
    now: DateTime<Utc>,
) -> Result<bool, ApiError> {
    let mut rows = Vec::new();
    for p in 0..PERIODS {
        let closed = period_end(year, p).is_some_and(|end| end <= now.naive_utc());
        if !closed || inputs.frozen.get(p).is_some_and(Option::is_some) {
            continue;
        }
        let figures = release
            .figures
            .get(p)
            .map(|figures| {
                figures
                    .iter()
                    .map(|((m, d, c), (v, h))| {
                        ((*m).to_owned(), (*d).to_owned(), c.clone(), *v, *h)
                    })
                    .collect()
            })
            .unwrap_or_default();
        let document = serde_json::to_string(&Stored { figures }).map_err(|e| {
            tracing::error!(error = %e, "statistics release not serialisable");
            ApiError::internal("statistics release")
        })?;
        rows.push(Release {
            family: family.name().to_owned(),
            period: period_label(year, p),
            min_cell: i64::try_from(inputs.k).unwrap_or(i64::MAX),
            figures: document,
            released_at: now.naive_utc(),
        });
    }
    if rows.is_empty() {
        return Ok(false);
    }
    state
        .db
        .run(move |conn| -> Result<bool, ApiError> {
            for row in &rows {
                stats::store_release(conn, row)?;
            }
            Ok(true)
        })
        .await
}

fn key_of(measure: &str, dimension: &str, category: &str) -> Option<FigureKey> {
    let measure = ALL_MEASURES.iter().find(|m| **m == measure)?;
    let dimension = ALL_DIMENSIONS
        .iter()
        .find(|d| **d == dimension)
        .copied()
        .or_else(|| dimension.is_empty().then_some(""))?;
    Some((measure, dimension, category.to_owned()))
}

const ALL_MEASURES: &[&str] = &[
    "received",
    "accepted",
    "declined",
    "redirected",
    UNDECIDED,
    "opened",
    "closed",
    "active",
    "appointments",
    "permanence_attendance",
    NOT_ATTENDED,
    NOT_ATTENDED_MODE,
    NOT_ATTENDED_STATUS,
    NEITHER,
    "permanences_held",
    "held",
    "people_reached",
    "reached",
    "downloads",
];

const ALL_DIMENSIONS: &[&str] = &[
    "departement",
    "region",
    "public",
    "context",
    "source",
    "age_band",
    "gender",
    "closure_reason",
    "mode",
    "status",
    "kind",
    "organisation_kind",
    "resource_kind",
];

fn parse_stored(document: &str) -> Result<BTreeMap<FigureKey, (u64, bool)>, ApiError> {
    let stored: Stored = serde_json::from_str(document).map_err(|e| {
        tracing::error!(error = %e, "a statistics release does not parse");
        ApiError::internal("statistics release")
    })?;
    stored
        .figures
        .into_iter()
        .map(|(m, d, c, v, h)| {
            key_of(&m, &d, &c).map(|k| (k, (v, h))).ok_or_else(|| {
                tracing::error!(measure = %m, dimension = %d, "a statistics release names an unknown figure");
                ApiError::internal("statistics release")
            })
        })
        .collect()
}

async fn inputs(state: &Publisher, family: Family, year: i32) -> Result<Inputs, ApiError> {
    let k = state.k.get();
    let name = family.name();
    let stored = state
        .db
        .run(move |conn| stats::releases(conn, name, year, i64::try_from(k).unwrap_or(i64::MAX)))
        .await?;
    let mut frozen: Vec<Option<BTreeMap<FigureKey, (u64, bool)>>> = vec![None; PERIODS];
    for row in &stored {
        if let Some(slot) = period_index(year, &row.period).and_then(|p| frozen.get_mut(p)) {
            *slot = Some(parse_stored(&row.figures)?);
        }
    }
    let open_months: Vec<usize> = (0..12)
        .filter(|&m| frozen.get(m).is_none_or(Option::is_none))
        .collect();
    let mut months: Vec<PeriodValues> = if open_months.is_empty() {
        vec![PeriodValues::new(); 12]
    } else {
        let (first, last) = (
            open_months.first().copied().unwrap_or(0),
            open_months.last().copied().unwrap_or(11),
        );
        state
            .analytics
            .run(move |conn| count(conn, family, year, first, last))
            .await?
    };
    for (m, month) in months.iter_mut().enumerate() {
        if let Some(Some(fixed)) = frozen.get(m) {
            *month = fixed.iter().map(|(k, (v, _))| (k.clone(), *v)).collect();
        } else {
            derive(family, month);
        }
    }
    // Quarters and the year: frozen ones as stored, open ones from months.
    let mut values = months;
    for p in 12..PERIODS {
        let members: Vec<usize> = if p == YEAR {
            (0..12).collect()
        } else {
            ((p - 12) * 3..(p - 12) * 3 + 3).collect()
        };
        let period = match frozen.get(p) {
            Some(Some(fixed)) => fixed.iter().map(|(k, (v, _))| (k.clone(), *v)).collect(),
            _ => {
                let mut sum = PeriodValues::new();
                for spec in family.measures().iter().filter(|s| !s.stock) {
                    for &m in &members {
                        for (key, v) in values.get(m).into_iter().flatten() {
                            if key.0 == spec.name {
                                *sum.entry(key.clone()).or_default() += v;
                            }
                        }
                    }
                }
                sum
            }
        };
        values.push(period);
    }
    // A closed year is served as stored: the régions and the stock it
    // starts from are only needed to protect open periods.
    let all_frozen = frozen.iter().all(Option::is_some);
    let regions: BTreeMap<String, String> = if all_frozen {
        BTreeMap::new()
    } else {
        state
            .analytics
            .run(|conn| {
                territory::list_departements(
                    conn,
                    &territory::DepartementFilter {
                        region: None,
                        after: None,
                        limit: 1000,
                    },
                )
            })
            .await?
            .into_iter()
            .map(|d| (d.code, d.region_code))
            .collect()
    };
    let previous_stock = if family == Family::FollowUps && year > 1900 && !all_frozen {
        let earlier = state
            .analytics
            .run(move |conn| {
                stats::active_follow_ups(
                    conn,
                    None,
                    &[(
                        String::new(),
                        NaiveDate::from_ymd_opt(year, 1, 1)
                            .unwrap_or(NaiveDate::MIN)
                            .and_time(chrono::NaiveTime::MIN),
                    )],
                )
            })
            .await?
            .iter()
            .map(|r| r.n)
            .sum::<i64>();
        if earlier > 0 {
            let previous = Box::pin(release(state, family, year - 1)).await?;
            previous
                .figures
                .get(11)
                .map(|figures| {
                    figures
                        .iter()
                        .filter(|((m, _, _), _)| *m == "active")
                        .map(|(k, v)| (k.clone(), *v))
                        .collect()
                })
                .unwrap_or_default()
        } else {
            BTreeMap::new()
        }
    } else {
        BTreeMap::new()
    };
    Ok(Inputs {
        family,
        k,
        values,
        frozen: frozen
            .into_iter()
            .map(|f| f.map(|f| f.into_iter().map(|(k, (_, h))| (k, h)).collect()))
            .collect(),
        regions,
        previous_stock,
    })
}

/// Adds the unpublished parts derived from the published counts of one
/// month: undecided referrals, appointments that are not attendance.
fn derive(family: Family, month: &mut PeriodValues) {
    let get = |month: &PeriodValues, m: &'static str, d: &'static str, c: &str| {
        month.get(&(m, d, c.to_owned())).copied().unwrap_or(0)
    };
    match family {
        Family::Referrals => {
            let keys: Vec<(&'static str, String)> = month
                .keys()
                .filter(|(m, _, _)| *m == "received")
                .map(|(_, d, c)| (*d, c.clone()))
                .collect();
            for (d, c) in keys {
                let received = get(month, "received", d, &c);
                let decided = get(month, "accepted", d, &c)
                    + get(month, "declined", d, &c)
                    + get(month, "redirected", d, &c);
                month.insert((UNDECIDED, d, c), received.saturating_sub(decided));
            }
        }
        Family::Appointments => {
            let keys: Vec<(&'static str, String)> = month
                .keys()
                .filter(|(m, d, _)| {
                    *m == "appointments" && (d.is_empty() || PLACE_KEYS.contains(d))
                })
                .map(|(_, d, c)| (*d, c.clone()))
                .collect();
            for (d, c) in keys {
                let all = get(month, "appointments", d, &c);
                let attended = get(month, "permanence_attendance", d, &c);
                month.insert((NOT_ATTENDED, d, c), all.saturating_sub(attended));
            }
            let attended = get(month, "permanence_attendance", "", "");
            let by_mode = get(month, "appointments", "mode", "permanence");
            let by_status = get(month, "appointments", "status", "completed");
            month.insert(
                (NOT_ATTENDED_MODE, "", String::new()),
                by_mode.saturating_sub(attended),
            );
            month.insert(
                (NOT_ATTENDED_STATUS, "", String::new()),
                by_status.saturating_sub(attended),
            );
            let all = get(month, "appointments", "", "");
            month.insert(
                (NEITHER, "", String::new()),
                (all + attended).saturating_sub(by_mode + by_status),
            );
        }
        _ => {}
    }
}

const PLACE_KEYS: &[&str] = &["departement", "region"];

/// Counts every measure of `family` by every dimension, per month, for the
/// months `first..=last` of `year`.
fn count(
    conn: &mut DbConnection,
    family: Family,
    year: i32,
    first: usize,
    last: usize,
) -> Result<Vec<PeriodValues>, ApiError> {
    let mut months = vec![PeriodValues::new(); 12];
    let low = first_day(year, first)
        .ok_or_else(|| ApiError::internal("statistics period"))?
        .and_time(chrono::NaiveTime::MIN);
    let high = period_end(year, last).ok_or_else(|| ApiError::internal("statistics period"))?;
    for spec in family.measures() {
        let dimensions = std::iter::once(None).chain(spec.dimensions.iter().copied().map(Some));
        for dimension in dimensions {
            let rows = match spec.source {
                Source::Count(measure) => {
                    stats::counts(conn, measure, Granularity::Month, dimension, low, high)?
                }
                Source::Active => {
                    let ends: Vec<(String, NaiveDateTime)> = (first..=last)
                        .filter_map(|m| Some((period_label(year, m), period_end(year, m)?)))
                        .collect();
                    stats::active_follow_ups(conn, dimension, &ends)?
                }
                Source::PermanencesHeld => crate::routes::stats::permanences_held(
                    conn,
                    dimension,
                    crate::routes::stats::PeriodWire::Month,
                    low,
                    high,
                )?,
                Source::Derived => continue,
            };
            let d = dimension.map_or("", dimension_key);
            for row in rows {
                let Some(m) = period_index(year, &row.period).filter(|&m| m < 12) else {
                    continue;
                };
                let category = if dimension.is_some() {
                    row.category.unwrap_or_else(|| "unknown".into())
                } else {
                    String::new()
                };
                let n = u64::try_from(row.n).unwrap_or(0);
                if let (true, Some(month)) = (n > 0, months.get_mut(m)) {
                    *month.entry((spec.name, d, category)).or_default() += n;
                }
            }
        }
    }
    Ok(months)
}

/// Builds the linked tables of a family-year and protects them.
fn protect(inputs: &Inputs, year: i32) -> YearRelease {
    if inputs.frozen.iter().all(Option::is_some) {
        // A closed year: every figure as stored.
        let figures = inputs
            .values
            .iter()
            .zip(&inputs.frozen)
            .map(|(values, flags)| {
                values
                    .iter()
                    .map(|(key, &v)| {
                        let hidden = flags.as_ref().and_then(|f| f.get(key)).copied();
                        (key.clone(), (v, hidden.unwrap_or(false)))
                    })
                    .collect()
            })
            .collect();
        return YearRelease {
            year,
            figures,
            unresolved: 0,
            inconsistent: 0,
            programmes: 0,
        };
    }
    let family = inputs.family;
    let specs = family.measures();
    let stock_of = |measure: &str| specs.iter().any(|s| s.name == measure && s.stock);
    let unpublished = |measure: &str| {
        specs
            .iter()
            .any(|s| s.name == measure && matches!(s.source, Source::Derived))
    };
    let mut tables = LinkedTables::new();
    // (period, key) → figure. A stock's quarter and year are its last
    // month's figure.
    let mut index: BTreeMap<(usize, FigureKey), usize> = BTreeMap::new();
    for (p, period) in inputs.values.iter().enumerate() {
        for (key, &value) in period {
            if value == 0 || (p >= 12 && stock_of(key.0)) {
                continue;
            }
            let status = if unpublished(key.0) {
                Status::Unpublished
            } else {
                match inputs.frozen.get(p).and_then(Option::as_ref) {
                    Some(flags) => match flags.get(key) {
                        Some(true) => Status::Hidden,
                        _ => Status::Published,
                    },
                    None => Status::Free,
                }
            };
            let figure = tables.figure(value, status);
            // Hide what readers value least: months before quarters before
            // the year, cells before totals (a total is in every table).
            // A year costs less than a quarter and a month together, so a
            // hidden month is paired with the year rather than with two
            // more figures.
            let period_weight = match p {
                0..12 => 1.0,
                12..16 => 1.5,
                _ => 2.4,
            };
            // A month's total is hidden only when nothing else will do:
            // it is the figure every monthly table and the report show.
            let total_weight = match (key.1.is_empty(), p < 12) {
                (true, true) => MONTH_TOTAL_WEIGHT,
                (true, false) => 2.0,
                (false, _) => 1.0,
            };
            tables.weigh(figure, period_weight * total_weight);
            index.insert((p, key.clone()), figure);
        }
    }
    let figure_at = |p: usize, key: &FigureKey| -> Option<usize> {
        let p = if p >= 12 && stock_of(key.0) {
            if p == YEAR { 11 } else { (p - 12) * 3 + 2 }
        } else {
            p
        };
        index.get(&(p, key.clone())).copied()
    };
    let total = |m: &'static str| -> FigureKey { (m, "", String::new()) };
    for spec in specs {
        let m = spec.name;
        // Categories of each dimension ever non-zero this year.
        let mut categories: BTreeMap<&'static str, BTreeSet<String>> = BTreeMap::new();
        for period in &inputs.values {
            for ((mm, d, c), v) in period {
                if *mm == m && !d.is_empty() && *v > 0 {
                    categories.entry(d).or_default().insert(c.clone());
                }
            }
        }
        for p in 0..PERIODS {
            if p >= 12 && spec.stock {
                continue;
            }
            let Some(all) = figure_at(p, &total(m)) else {
                continue;
            };
            // Every table's cells add up to the period's total.
            for (d, cats) in &categories {
                let parts: Vec<usize> = cats
                    .iter()
                    .filter_map(|c| figure_at(p, &(m, d, c.clone())))
                    .collect();
                tables.sum(all, &parts);
            }
            // A région is the sum of its départements.
            if let (Some(deps), Some(regs)) =
                (categories.get("departement"), categories.get("region"))
            {
                for region in regs {
                    let Some(r) = figure_at(p, &(m, "region", region.clone())) else {
                        continue;
                    };
                    let parts: Vec<usize> = deps
                        .iter()
                        .filter(|d| inputs.regions.get(*d) == Some(region))
                        .filter_map(|d| figure_at(p, &(m, "departement", d.clone())))
                        .collect();
                    tables.sum(r, &parts);
                }
            }
        }
        // A quarter is the sum of its months, the year of its quarters.
        if !spec.stock {
            let mut keys: Vec<FigureKey> = vec![total(m)];
            for (d, cats) in &categories {
                keys.extend(cats.iter().map(|c| (m, *d, c.clone())));
            }
            for key in &keys {
                for q in 0..4 {
                    if let Some(quarter) = figure_at(12 + q, key) {
                        let parts: Vec<usize> = (q * 3..q * 3 + 3)
                            .filter_map(|mm| figure_at(mm, key))
                            .collect();
                        tables.sum(quarter, &parts);
                    }
                }
                if let Some(y) = figure_at(YEAR, key) {
                    let parts: Vec<usize> = (12..16).filter_map(|q| figure_at(q, key)).collect();
                    tables.sum(y, &parts);
                }
            }
        }
    }
    // Measures that are parts of others, per figure.
    let keys_of = |m: &'static str| -> BTreeSet<(&'static str, String)> {
        inputs
            .values
            .iter()
            .flat_map(|period| {
                period
                    .keys()
                    .filter(move |(mm, _, _)| *mm == m)
                    .map(|(_, d, c)| (*d, c.clone()))
            })
            .collect()
    };
    let mut whole_of_parts = |whole: &'static str, parts: &[&'static str], only: &[&str]| {
        for (d, c) in keys_of(whole) {
            if !only.is_empty() && !only.contains(&d) {
                continue;
            }
            for p in 0..PERIODS {
                let Some(w) = figure_at(p, &(whole, d, c.clone())) else {
                    continue;
                };
                let members: Vec<usize> = parts
                    .iter()
                    .filter_map(|part| figure_at(p, &(*part, d, c.clone())))
                    .collect();
                tables.sum(w, &members);
            }
        }
    };
    match family {
        Family::Referrals => whole_of_parts(
            "received",
            &["accepted", "declined", "redirected", UNDECIDED],
            &[],
        ),
        Family::Appointments => {
            whole_of_parts(
                "appointments",
                &["permanence_attendance", NOT_ATTENDED],
                &["", "departement", "region"],
            );
            for p in 0..PERIODS {
                let attended = figure_at(p, &total("permanence_attendance"));
                for (whole, rest) in [
                    (("mode", "permanence"), NOT_ATTENDED_MODE),
                    (("status", "completed"), NOT_ATTENDED_STATUS),
                ] {
                    if let Some(w) = figure_at(p, &("appointments", whole.0, whole.1.to_owned())) {
                        let parts: Vec<usize> = attended
                            .into_iter()
                            .chain(figure_at(p, &total(rest)))
                            .collect();
                        tables.sum(w, &parts);
                    }
                }
                // all + attendance = permanence + completed + neither.
                let term = |key: FigureKey, sign: i64| figure_at(p, &key).map(|f| (f, sign));
                let terms: Vec<(usize, i64)> = [
                    term(total("appointments"), 1),
                    term(total("permanence_attendance"), 1),
                    term(("appointments", "mode", "permanence".to_owned()), -1),
                    term(("appointments", "status", "completed".to_owned()), -1),
                    term(total(NEITHER), -1),
                ]
                .into_iter()
                .flatten()
                .collect();
                tables.equation(terms);
            }
        }
        Family::FollowUps => {
            // Open at a month's end = open at the previous one + opened −
            // closed; January starts from last December as published then.
            let mut previous_fixed: BTreeMap<FigureKey, usize> = BTreeMap::new();
            for (key, &(value, hidden)) in &inputs.previous_stock {
                if value > 0 {
                    let status = if hidden {
                        Status::Hidden
                    } else {
                        Status::Published
                    };
                    previous_fixed.insert(key.clone(), tables.figure(value, status));
                }
            }
            let mut keys: BTreeSet<(&'static str, String)> = keys_of("active");
            keys.extend(keys_of("opened"));
            keys.extend(keys_of("closed"));
            keys.extend(
                inputs
                    .previous_stock
                    .keys()
                    .map(|(_, d, c)| (*d, c.clone())),
            );
            for (d, c) in keys {
                for month in 0..12 {
                    let mut terms: Vec<(usize, i64)> = Vec::new();
                    if let Some(f) = figure_at(month, &("active", d, c.clone())) {
                        terms.push((f, 1));
                    }
                    let before = if month == 0 {
                        previous_fixed.get(&("active", d, c.clone())).copied()
                    } else {
                        figure_at(month - 1, &("active", d, c.clone()))
                    };
                    if let Some(f) = before {
                        terms.push((f, -1));
                    }
                    if let Some(f) = figure_at(month, &("opened", d, c.clone())) {
                        terms.push((f, -1));
                    }
                    if let Some(f) = figure_at(month, &("closed", d, c.clone())) {
                        terms.push((f, 1));
                    }
                    tables.equation(terms);
                }
            }
        }
        _ => {}
    }
    let protection = tables.protect(MinCell::new(inputs.k).unwrap_or_default());
    let mut figures: Vec<BTreeMap<FigureKey, (u64, bool)>> = vec![BTreeMap::new(); PERIODS];
    for (p, period) in inputs.values.iter().enumerate() {
        for (key, &value) in period {
            let hidden = figure_at(p, key)
                .and_then(|f| protection.hidden.get(f).copied())
                .unwrap_or(false);
            if let Some(out) = figures.get_mut(p) {
                out.insert(key.clone(), (value, hidden));
            }
        }
        if p >= 12 {
            // A stock's quarter and year read its last month.
            let last = if p == YEAR { 11 } else { (p - 12) * 3 + 2 };
            let copied: Vec<(FigureKey, (u64, bool))> = figures
                .get(last)
                .map(|f| {
                    f.iter()
                        .filter(|((m, _, _), _)| stock_of(m))
                        .map(|(k, v)| (k.clone(), *v))
                        .collect()
                })
                .unwrap_or_default();
            if let Some(out) = figures.get_mut(p) {
                out.extend(copied);
            }
        }
    }
    YearRelease {
        year,
        figures,
        unresolved: protection.unresolved.len(),
        inconsistent: protection.inconsistent,
        programmes: protection.programmes,
    }
}

/// The family and measure a persistence measure is published under
/// (`None`: permanences held).
pub fn locate(measure: Option<Measure>) -> (Family, &'static str) {
    match measure {
        Some(Measure::ReferralsReceived) => (Family::Referrals, "received"),
        Some(Measure::ReferralsAccepted) => (Family::Referrals, "accepted"),
        Some(Measure::ReferralsDeclined) => (Family::Referrals, "declined"),
        Some(Measure::ReferralsRedirected) => (Family::Referrals, "redirected"),
        Some(Measure::FollowUpsOpened) => (Family::FollowUps, "opened"),
        Some(Measure::FollowUpsClosed) => (Family::FollowUps, "closed"),
        Some(Measure::FollowUpsActive) => (Family::FollowUps, "active"),
        Some(Measure::Appointments) => (Family::Appointments, "appointments"),
        Some(Measure::PermanenceAttendance) => (Family::Appointments, "permanence_attendance"),
        Some(Measure::GroupSessionsHeld) => (Family::GroupSessions, "held"),
        Some(Measure::PeopleReached) => (Family::GroupSessions, "people_reached"),
        Some(Measure::ProfessionalsReached) => (Family::Professionals, "reached"),
        Some(Measure::ResourceDownloads) => (Family::Resources, "downloads"),
        None => (Family::Permanences, "permanences_held"),
    }
}
