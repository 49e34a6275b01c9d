//! An intruder in the test suite: it collects everything the statistics
//! API publishes about one calendar year (every family × measure × `by` ×
//! granularity, and the annual report) and bounds every hidden figure by
//! linear programming (`microlp`) over all of it at once, with what an
//! analyst knows besides: hidden figures are ≥ 1 (zeros are published),
//! rows add up to their totals, régions to their départements, months to
//! quarters to years, referral outcomes to the referrals received, the
//! follow-ups open to those opened and closed, permanence attendance to
//! appointments.
//!
//! It is independent of the protection: it reads nothing from
//! `adosexo_domain::stats` nor the API's statistics module, only HTTP
//! responses and public knowledge (the département → région map, from the
//! public `/api/v1/departements`).
//!
//! A leak is a hidden figure pinned to one value (max − min < 0.5) or
//! proved to be a small count (max < k − 0.5, k = `min_cell`).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use adosexo_persistence::testing::execute_sql;
use microlp::{ComparisonOp, OptimizationDirection, Problem, Variable};
use serde_json::Value;

use crate::helpers::TestApp;
use crate::stats::Lcg;

/// The category of a period's total (shared by every `by`).
const TOTAL: &str = "TOTAL";
/// Unpublished helper series start with this (never checked for leaks).
const AUX: &str = "~";
/// An upper bound for every unknown, so that no LP is unbounded.
const BIG: f64 = 100_000.0;
/// The figures are for the default k = 11.
const CONFIG: &[(&str, &str)] = &[("ADOSEXO_STATS_MIN_CELL", "11")];
const EPS: f64 = 1e-6;

/// (path segment, measures (`None`: no `measure` parameter), dimensions).
type FamilySpec = (
    &'static str,
    &'static [Option<&'static str>],
    &'static [&'static str],
);

/// Everything the API offers (api/src/routes/stats.rs).
const FAMILIES: &[FamilySpec] = &[
    (
        "referrals",
        &[
            Some("received"),
            Some("accepted"),
            Some("declined"),
            Some("redirected"),
        ],
        &[
            "departement",
            "region",
            "public",
            "context",
            "source",
            "age_band",
            "gender",
        ],
    ),
    (
        "follow-ups",
        &[Some("opened"), Some("closed"), Some("active")],
        &["departement", "region", "gender", "closure_reason"],
    ),
    (
        "appointments",
        &[None],
        &["departement", "region", "mode", "status"],
    ),
    (
        "group-sessions",
        &[Some("held"), Some("people_reached")],
        &["departement", "region", "kind"],
    ),
    (
        "permanences",
        &[Some("held"), Some("attendance")],
        &["departement", "region"],
    ),
    (
        "professionals",
        &[Some("reached")],
        &["departement", "region", "organisation_kind", "kind"],
    ),
    ("resources", &[Some("downloads")], &["kind"]),
];

const PERIODS: [&str; 3] = ["month", "quarter", "year"];

/// One figure: (family, measure, period label, dimension or "" for a
/// total, category or `TOTAL`).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Key {
    family: String,
    measure: String,
    period: String,
    dim: String,
    category: String,
}

impl Key {
    fn new(family: &str, measure: &str, period: &str, dim: &str, category: &str) -> Self {
        let (dim, category) = if category == TOTAL {
            ("", TOTAL)
        } else {
            (dim, category)
        };
        Self {
            family: family.into(),
            measure: measure.into(),
            period: period.into(),
            dim: dim.into(),
            category: category.into(),
        }
    }
}

impl fmt::Display for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.dim.is_empty() {
            write!(f, "{}/{} {} total", self.family, self.measure, self.period)
        } else {
            write!(
                f,
                "{}/{} {} {}={}",
                self.family, self.measure, self.period, self.dim, self.category
            )
        }
    }
}

/// Everything published about one year.
#[derive(Debug, Default)]
pub struct Published {
    year: i32,
    /// `min_cell` of the responses.
    k: u64,
    /// `None`: hidden. A key absent here but for a dimension whose
    /// categories are known is a published zero.
    figures: BTreeMap<Key, Option<u64>>,
    /// (family, measure, dimension) → every column seen.
    categories: BTreeMap<(String, String, String), BTreeSet<String>>,
    /// (family, measure) → the dimensions requested.
    dims: BTreeMap<(String, String), BTreeSet<String>>,
    /// Département → région (public).
    regions: BTreeMap<String, String>,
    /// The same figure published with two values.
    conflicts: Vec<String>,
    /// A figure hidden by one request and published by another: hiding it
    /// protects nothing (over-suppression, as the report's months in
    /// issue 18).
    mixed: Vec<String>,
    requests: usize,
}

fn figure_value(f: &Value) -> Option<u64> {
    if f["suppressed"] == true {
        None
    } else {
        f["value"].as_u64()
    }
}

impl Published {
    /// Notes a figure hidden somewhere and published elsewhere, once (a
    /// table without `by` gives its total twice: its cell and its total).
    fn mix(&mut self, note: String) {
        if !self.mixed.contains(&note) {
            self.mixed.push(note);
        }
    }

    fn record(&mut self, key: Key, value: Option<u64>, source: &str) {
        let Some(old) = self.figures.get(&key).copied() else {
            self.figures.insert(key, value);
            return;
        };
        match (old, value) {
            (Some(a), Some(b)) if a != b => self
                .conflicts
                .push(format!("{key}: {a} and {b} (second in {source})")),
            (None, Some(b)) => {
                self.mix(format!("{key} = {b} (published in {source})"));
                self.figures.insert(key, Some(b));
            }
            (Some(a), None) => self.mix(format!("{key} = {a} (hidden in {source})")),
            _ => {}
        }
    }

    /// Records a table of `family` (its measure and `by` as it says).
    fn ingest(&mut self, family: &str, table: &Value, source: &str) {
        let measure = table["measure"].as_str().expect("measure").to_owned();
        let dim = table["by"].as_str().unwrap_or("").to_owned();
        let k = table["min_cell"].as_u64().expect("min_cell");
        assert!(self.k == 0 || self.k == k, "min_cell differs: {source}");
        self.k = k;
        let columns: Vec<String> = table["columns"]
            .as_array()
            .expect("columns")
            .iter()
            .map(|c| c.as_str().expect("column").to_owned())
            .collect();
        self.dims
            .entry((family.into(), measure.clone()))
            .or_default()
            .insert(dim.clone());
        if !dim.is_empty() {
            self.categories
                .entry((family.into(), measure.clone(), dim.clone()))
                .or_default()
                .extend(columns.iter().cloned());
        }
        for row in table["rows"].as_array().expect("rows") {
            let period = row["period"].as_str().expect("period");
            let cells = row["cells"].as_array().expect("cells");
            assert_eq!(cells.len(), columns.len(), "{source}");
            for (column, cell) in columns.iter().zip(cells) {
                let category = if dim.is_empty() { TOTAL } else { column };
                self.record(
                    Key::new(family, &measure, period, &dim, category),
                    figure_value(cell),
                    source,
                );
            }
            self.record(
                Key::new(family, &measure, period, "", TOTAL),
                figure_value(&row["total"]),
                source,
            );
        }
    }

    /// The published value: `Some(None)` hidden, `None` never seen.
    fn get(&self, key: &Key) -> Option<Option<u64>> {
        self.figures.get(key).copied()
    }

    fn cats(&self, family: &str, measure: &str, dim: &str) -> BTreeSet<String> {
        self.categories
            .get(&(family.to_owned(), measure.to_owned(), dim.to_owned()))
            .cloned()
            .unwrap_or_default()
    }

    /// The hidden figures.
    pub fn hidden(&self) -> Vec<&Key> {
        self.figures
            .iter()
            .filter(|(_, v)| v.is_none())
            .map(|(k, _)| k)
            .collect()
    }
}

/// Reads every table the API offers for `year`, and the annual report.
pub async fn collect(app: &TestApp, token: &str, year: i32) -> Published {
    let mut published = Published {
        year,
        ..Published::default()
    };
    let departements = app
        .get_json("/api/v1/departements?limit=200", token, 200)
        .await;
    for d in departements["items"].as_array().expect("items") {
        published.regions.insert(
            d["code"].as_str().expect("code").into(),
            d["region"]["code"].as_str().expect("region").into(),
        );
    }
    for (family, measures, dims) in FAMILIES {
        for measure in *measures {
            for by in std::iter::once(None).chain(dims.iter().map(Some)) {
                for period in PERIODS {
                    let mut path = format!(
                        "/api/v1/stats/{family}?from={year:04}-01&months=12&period={period}"
                    );
                    if let Some(measure) = measure {
                        path.push_str(&format!("&measure={measure}"));
                    }
                    if let Some(by) = by {
                        path.push_str(&format!("&by={by}"));
                    }
                    let table = app.get_json(&path, token, 200).await;
                    published.requests += 1;
                    published.ingest(family, &table, &path);
                }
            }
        }
    }
    let path = format!("/api/v1/stats/report?year={year:04}&format=json");
    let report = app.get_json(&path, token, 200).await;
    published.requests += 1;
    for (table, family) in [
        ("referrals_per_month", "referrals"),
        ("referrals_by_source", "referrals"),
        ("departements_reached", "referrals"),
        ("follow_ups_by_outcome", "follow-ups"),
        ("group_sessions_by_kind", "group-sessions"),
    ] {
        published.ingest(family, &report[table], &format!("{path} {table}"));
    }
    published
}

/// A hidden figure narrowed too far.
#[derive(Clone, Debug)]
pub struct Leak {
    pub key: Key,
    pub min: f64,
    pub max: f64,
}

impl fmt::Display for Leak {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.max - self.min < 0.5 {
            write!(f, "{} pinned to {}", self.key, self.min.round())
        } else {
            write!(
                f,
                "{} proved small: {:.2}..{:.2}",
                self.key, self.min, self.max
            )
        }
    }
}

#[derive(Clone, Copy, Debug)]
enum Term {
    Const(f64),
    Var(usize),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Op {
    Eq,
    Le,
}

/// `Σ coefficient × term  (= or ≤)  0`.
#[derive(Clone, Debug)]
struct Relation {
    terms: Vec<(Term, f64)>,
    op: Op,
    what: &'static str,
}

#[derive(Debug)]
struct Unknown {
    key: Key,
    lower: f64,
    /// A hidden published figure (checked), or an unpublished helper.
    hidden: bool,
}

#[derive(Debug, Default)]
struct Model {
    unknowns: Vec<Unknown>,
    index: BTreeMap<Key, usize>,
    relations: Vec<Relation>,
}

impl Model {
    fn term(&mut self, published: &Published, key: Key) -> Term {
        if let Some(&i) = self.index.get(&key) {
            return Term::Var(i);
        }
        let helper = key.measure.starts_with(AUX);
        if !helper {
            match published.get(&key) {
                Some(Some(v)) => return Term::Const(v as f64),
                Some(None) => {}
                // A category absent from the columns: a published zero.
                None => return Term::Const(0.0),
            }
        }
        self.unknowns.push(Unknown {
            key: key.clone(),
            lower: if helper { 0.0 } else { 1.0 },
            hidden: !helper,
        });
        self.index.insert(key, self.unknowns.len() - 1);
        Term::Var(self.unknowns.len() - 1)
    }

    /// `Σ plus − Σ minus (op) 0`.
    fn relate(&mut self, plus: Vec<Term>, minus: Vec<Term>, op: Op, what: &'static str) {
        let terms = plus
            .into_iter()
            .map(|t| (t, 1.0))
            .chain(minus.into_iter().map(|t| (t, -1.0)))
            .collect();
        self.relations.push(Relation { terms, op, what });
    }
}

fn months(year: i32) -> Vec<String> {
    (1..=12).map(|m| format!("{year:04}-{m:02}")).collect()
}

fn quarters(year: i32) -> Vec<String> {
    (1..=4).map(|q| format!("{year:04}-Q{q}")).collect()
}

fn all_periods(year: i32) -> Vec<String> {
    let mut periods = months(year);
    periods.extend(quarters(year));
    periods.push(format!("{year:04}"));
    periods
}

/// One series: a family's measure, with the dimensions and categories to
/// relate (for helpers, borrowed from published measures).
#[derive(Debug)]
struct Series {
    family: String,
    measure: String,
    stock: bool,
    /// Dimension → categories (the total, "", is implicit).
    dims: BTreeMap<String, BTreeSet<String>>,
}

impl Series {
    fn of(published: &Published, family: &str, measure: &str) -> Self {
        let dims = published
            .dims
            .get(&(family.to_owned(), measure.to_owned()))
            .cloned()
            .unwrap_or_default()
            .into_iter()
            .filter(|d| !d.is_empty())
            .map(|d| {
                let cats = published.cats(family, measure, &d);
                (d, cats)
            })
            .collect();
        Self {
            family: family.into(),
            measure: measure.into(),
            stock: family == "follow-ups" && measure == "active",
            dims,
        }
    }

    /// Every (dimension, category), the total first.
    fn cells(&self) -> Vec<(String, String)> {
        std::iter::once((String::new(), TOTAL.to_owned()))
            .chain(
                self.dims
                    .iter()
                    .flat_map(|(d, cs)| cs.iter().map(move |c| (d.clone(), c.clone()))),
            )
            .collect()
    }

    fn key(&self, period: &str, dim: &str, category: &str) -> Key {
        Key::new(&self.family, &self.measure, period, dim, category)
    }
}

/// Rows add up, régions are their départements, periods their months.
fn structural(model: &mut Model, published: &Published, series: &Series, periods: &[String]) {
    let year = published.year;
    for period in periods {
        let total = model.term(published, series.key(period, "", TOTAL));
        for (dim, cats) in &series.dims {
            let cells = cats
                .iter()
                .map(|c| model.term(published, series.key(period, dim, c)))
                .collect();
            model.relate(vec![total], cells, Op::Eq, "row total");
        }
        if let (Some(regions), Some(departements)) =
            (series.dims.get("region"), series.dims.get("departement"))
        {
            let mut all: BTreeSet<String> = regions.clone();
            all.extend(
                departements
                    .iter()
                    .filter_map(|d| published.regions.get(d).cloned()),
            );
            for region in all {
                let r = model.term(published, series.key(period, "region", &region));
                let parts = departements
                    .iter()
                    .filter(|d| published.regions.get(*d) == Some(&region))
                    .map(|d| model.term(published, series.key(period, "departement", d)))
                    .collect();
                model.relate(vec![r], parts, Op::Eq, "région of départements");
            }
        }
    }
    // Time: only over the year's own periods.
    if periods.len() < 17 {
        return;
    }
    let months = months(year);
    let quarters = quarters(year);
    let whole = format!("{year:04}");
    for (dim, category) in series.cells() {
        for (q, quarter) in quarters.iter().enumerate() {
            let q_term = model.term(published, series.key(quarter, &dim, &category));
            let parts: Vec<Term> = months[q * 3..q * 3 + 3]
                .iter()
                .map(|m| model.term(published, series.key(m, &dim, &category)))
                .collect();
            let parts = if series.stock {
                parts[2..].to_vec()
            } else {
                parts
            };
            model.relate(vec![q_term], parts, Op::Eq, "quarter of months");
        }
        let y = model.term(published, series.key(&whole, &dim, &category));
        let parts: Vec<Term> = if series.stock {
            vec![model.term(published, series.key(&months[11], &dim, &category))]
        } else {
            quarters
                .iter()
                .map(|q| model.term(published, series.key(q, &dim, &category)))
                .collect()
        };
        model.relate(vec![y], parts, Op::Eq, "year of quarters");
    }
}

/// Everything an analyst knows, as linear relations.
fn model(published: &Published) -> Model {
    let mut model = Model::default();
    let year = published.year;
    let periods = all_periods(year);
    let series: Vec<(String, String)> = published.dims.keys().cloned().collect();
    for (family, measure) in &series {
        let s = Series::of(published, family, measure);
        structural(&mut model, published, &s, &periods);
    }

    // Referrals: received = accepted + declined + redirected + undecided.
    let parts = ["accepted", "declined", "redirected"];
    let received = Series::of(published, "referrals", "received");
    let mut undecided = Series::of(published, "referrals", "received");
    undecided.measure = format!("{AUX}undecided");
    for (dim, cats) in &mut undecided.dims {
        for part in parts {
            cats.extend(published.cats("referrals", part, dim));
        }
    }
    structural(&mut model, published, &undecided, &periods);
    for period in &periods {
        for (dim, category) in undecided.cells() {
            let whole = model.term(published, received.key(period, &dim, &category));
            let mut pieces: Vec<Term> = parts
                .iter()
                .map(|m| model.term(published, Key::new("referrals", m, period, &dim, &category)))
                .collect();
            pieces.push(model.term(published, undecided.key(period, &dim, &category)));
            model.relate(vec![whole], pieces, Op::Eq, "referral outcomes");
        }
    }

    // Follow-ups: active(m) = active(m − 1) + opened(m) − closed(m).
    let shared = ["departement", "region", "gender"];
    let mut before = Series::of(published, "follow-ups", "active");
    before.measure = format!("{AUX}active_before");
    before.dims.retain(|d, _| shared.contains(&d.as_str()));
    for (dim, cats) in &mut before.dims {
        for m in ["opened", "closed"] {
            cats.extend(published.cats("follow-ups", m, dim));
        }
    }
    let start = vec![format!("{year:04}-00")];
    structural(&mut model, published, &before, &start);
    let months = months(year);
    for (dim, category) in before.cells() {
        for (i, month) in months.iter().enumerate() {
            let f = |m: &str, p: &str| Key::new("follow-ups", m, p, &dim, &category);
            let now = model.term(published, f("active", month));
            let previous = if i == 0 {
                model.term(published, before.key(&start[0], &dim, &category))
            } else {
                model.term(published, f("active", &months[i - 1]))
            };
            let opened = model.term(published, f("opened", month));
            let closed = model.term(published, f("closed", month));
            model.relate(
                vec![now, closed],
                vec![previous, opened],
                Op::Eq,
                "follow-ups stock and flows",
            );
        }
    }

    // Permanence attendance: appointments at a permanence that took place.
    let appointments = Series::of(published, "appointments", "appointments");
    let attendance = Series::of(published, "permanences", "permanence_attendance");
    for period in &periods {
        for (dim, category) in attendance.cells() {
            if !dim.is_empty() && dim != "departement" && dim != "region" {
                continue;
            }
            let a = model.term(published, attendance.key(period, &dim, &category));
            let all = model.term(published, appointments.key(period, &dim, &category));
            model.relate(vec![a], vec![all], Op::Le, "attendance ≤ appointments");
        }
        let a = model.term(published, attendance.key(period, "", TOTAL));
        let at_permanence = model.term(published, appointments.key(period, "mode", "permanence"));
        let completed = model.term(published, appointments.key(period, "status", "completed"));
        let all = model.term(published, appointments.key(period, "", TOTAL));
        model.relate(
            vec![a],
            vec![at_permanence],
            Op::Le,
            "attendance ≤ at a permanence",
        );
        model.relate(vec![a], vec![completed], Op::Le, "attendance ≤ completed");
        // |A ∩ B| ≥ |A| + |B| − |all|.
        model.relate(
            vec![at_permanence, completed],
            vec![a, all],
            Op::Le,
            "attendance ≥ at a permanence + completed − all",
        );
    }
    model
}

fn find(parent: &mut [usize], i: usize) -> usize {
    let mut root = i;
    while parent[root] != root {
        root = parent[root];
    }
    let mut i = i;
    while parent[i] != root {
        let next = parent[i];
        parent[i] = root;
        i = next;
    }
    root
}

/// One LP over a component: optimise `objective` (unknown → weight).
fn solve(
    model: &Model,
    vars: &[usize],
    relations: &[&Relation],
    objective: &BTreeMap<usize, f64>,
    direction: OptimizationDirection,
) -> (f64, BTreeMap<usize, f64>) {
    let mut problem = Problem::new(direction);
    let handles: BTreeMap<usize, Variable> = vars
        .iter()
        .map(|&v| {
            let weight = objective.get(&v).copied().unwrap_or(0.0);
            (v, problem.add_var(weight, (model.unknowns[v].lower, BIG)))
        })
        .collect();
    for relation in relations {
        let mut constant = 0.0;
        let mut coefficients: BTreeMap<usize, f64> = BTreeMap::new();
        for (term, c) in &relation.terms {
            match term {
                Term::Const(x) => constant += c * x,
                Term::Var(v) => *coefficients.entry(*v).or_default() += c,
            }
        }
        let expr: Vec<(Variable, f64)> = coefficients
            .iter()
            .filter(|(_, c)| c.abs() > EPS)
            .map(|(v, c)| (handles[v], *c))
            .collect();
        let op = match relation.op {
            Op::Eq => ComparisonOp::Eq,
            Op::Le => ComparisonOp::Le,
        };
        problem.add_constraint(expr.as_slice(), op, -constant);
    }
    let solution = problem
        .solve()
        .unwrap_or_else(|e| {
            panic!("the intruder's LP fails ({e:?}): its model contradicts what is published")
        })
        .into_solution()
        .unwrap_or_else(|_| panic!("the intruder's LP was interrupted"));
    let values = handles
        .iter()
        .map(|(v, h)| (*v, solution.var_value(*h)))
        .collect();
    (solution.objective(), values)
}

/// Widens the range of values seen for each unknown.
fn note(seen: &mut BTreeMap<usize, (f64, f64)>, values: &BTreeMap<usize, f64>) {
    for (v, x) in values {
        let e = seen.entry(*v).or_insert((*x, *x));
        e.0 = e.0.min(*x);
        e.1 = e.1.max(*x);
    }
}

/// Bounds every hidden figure by LP; returns those narrowed too far.
pub fn bound(published: &Published, k: u64) -> Vec<Leak> {
    let model = model(published);
    let n = model.unknowns.len();
    // Relations among published figures alone must hold (else the model,
    // or the publication, is wrong).
    let mut broken = Vec::new();
    let mut parent: Vec<usize> = (0..n).collect();
    for relation in &model.relations {
        let vars: Vec<usize> = relation
            .terms
            .iter()
            .filter_map(|(t, _)| match t {
                Term::Var(v) => Some(*v),
                Term::Const(_) => None,
            })
            .collect();
        if let Some(&first) = vars.first() {
            for &v in &vars[1..] {
                let (a, b) = (find(&mut parent, first), find(&mut parent, v));
                parent[a] = b;
            }
        } else {
            let sum: f64 = relation
                .terms
                .iter()
                .map(|(t, c)| match t {
                    Term::Const(x) => c * x,
                    Term::Var(_) => 0.0,
                })
                .sum();
            let holds = match relation.op {
                Op::Eq => sum.abs() < EPS,
                Op::Le => sum < EPS,
            };
            if !holds {
                broken.push(format!("{} ({sum})", relation.what));
            }
        }
    }
    assert!(
        broken.is_empty(),
        "published figures contradict the intruder's relations: {broken:?}"
    );
    let mut components: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for v in 0..n {
        let root = find(&mut parent, v);
        components.entry(root).or_default().push(v);
    }
    let mut relations_of: BTreeMap<usize, Vec<&Relation>> = BTreeMap::new();
    for relation in &model.relations {
        if let Some(Term::Var(v)) = relation
            .terms
            .iter()
            .map(|(t, _)| *t)
            .find(|t| matches!(t, Term::Var(_)))
        {
            let root = find(&mut parent, v);
            relations_of.entry(root).or_default().push(relation);
        }
    }
    let small = k as f64 - 0.5;
    let mut leaks = Vec::new();
    for (root, vars) in &components {
        let checked: Vec<usize> = vars
            .iter()
            .copied()
            .filter(|&v| model.unknowns[v].hidden)
            .collect();
        if checked.is_empty() {
            continue;
        }
        let relations = relations_of.get(root).cloned().unwrap_or_default();
        // Values seen in feasible solutions: a figure seen at two values
        // 0.5 apart, one ≥ k − 0.5, is safe without its own two LPs.
        let mut seen: BTreeMap<usize, (f64, f64)> = BTreeMap::new();
        let safe = |seen: &BTreeMap<usize, (f64, f64)>, v: usize| {
            seen.get(&v)
                .is_some_and(|(lo, hi)| hi - lo >= 0.5 && *hi >= small)
        };
        if checked.len() > 2 {
            let all: BTreeMap<usize, f64> = checked.iter().map(|&v| (v, 1.0)).collect();
            for direction in [
                OptimizationDirection::Minimize,
                OptimizationDirection::Maximize,
            ] {
                let (_, values) = solve(&model, vars, &relations, &all, direction);
                note(&mut seen, &values);
            }
            // A few weighted objectives: more vertices, fewer LPs below.
            for round in 0..3_u64 {
                let weighted: BTreeMap<usize, f64> = checked
                    .iter()
                    .map(|&v| {
                        let h = (v as u64 + 1).wrapping_mul(2_654_435_761 + round * 40_503) % 7;
                        (v, if h < 3 { -1.0 } else { (h - 2) as f64 })
                    })
                    .collect();
                let (_, values) = solve(
                    &model,
                    vars,
                    &relations,
                    &weighted,
                    OptimizationDirection::Maximize,
                );
                note(&mut seen, &values);
            }
        }
        for &v in &checked {
            if safe(&seen, v) {
                continue;
            }
            let one: BTreeMap<usize, f64> = BTreeMap::from([(v, 1.0)]);
            let (max, values) = solve(
                &model,
                vars,
                &relations,
                &one,
                OptimizationDirection::Maximize,
            );
            note(&mut seen, &values);
            // Not small, and seen 0.5 below its max: no need for its min.
            if max >= small && seen.get(&v).is_some_and(|(lo, _)| max - lo >= 0.5) {
                continue;
            }
            let (min, values) = solve(
                &model,
                vars,
                &relations,
                &one,
                OptimizationDirection::Minimize,
            );
            note(&mut seen, &values);
            if max - min < 0.5 || max < small {
                leaks.push(Leak {
                    key: model.unknowns[v].key.clone(),
                    min,
                    max,
                });
            }
        }
    }
    leaks
}

/// Collects `year`, bounds, and fails listing every leak and conflict.
async fn attack(app: &TestApp, token: &str, year: i32, scenario: &str) -> Published {
    let started = std::time::Instant::now();
    let published = collect(app, token, year).await;
    let collected = started.elapsed();
    let leaks = bound(&published, published.k);
    if let Ok(filter) = std::env::var("INTRUDER_DUMP") {
        for (key, value) in &published.figures {
            if key.to_string().contains(&filter) {
                eprintln!("  DUMP {key} = {value:?}");
            }
        }
    }
    eprintln!(
        "intruder {scenario}: {} requests, {} figures, {} hidden, {} leaks, {} conflicts, \
         {} hidden and published; collect {collected:?}, bound {:?}",
        published.requests,
        published.figures.len(),
        published.hidden().len(),
        leaks.len(),
        published.conflicts.len(),
        published.mixed.len(),
        started.elapsed() - collected,
    );
    for leak in &leaks {
        eprintln!("  LEAK {scenario}: {leak}");
    }
    for conflict in &published.conflicts {
        eprintln!("  CONFLICT {scenario}: {conflict}");
    }
    for mixed in &published.mixed {
        eprintln!("  HIDDEN AND PUBLISHED {scenario}: {mixed}");
    }
    assert!(
        leaks.is_empty() && published.conflicts.is_empty() && published.mixed.is_empty(),
        "{scenario}: {} leaks, {} inconsistent publications, {} figures hidden in one \
         table and published in another (see above); first: {}",
        leaks.len(),
        published.conflicts.len(),
        published.mixed.len(),
        leaks
            .first()
            .map(ToString::to_string)
            .or_else(|| published.conflicts.first().cloned())
            .or_else(|| published.mixed.first().cloned())
            .unwrap_or_default()
    );
    published
}

// ---------------------------------------------------------------------------
// Data.

/// SQL for rows, with varied dimensions.
#[derive(Debug)]
struct Seed {
    sql: String,
    n: usize,
    rng: Lcg,
    lead: String,
    /// Every referral alike (a girl of 15, the same public, context and
    /// source): only the time dimension and the counts differ.
    uniform: bool,
}

fn sql_text(value: Option<&str>) -> String {
    value.map_or_else(|| "NULL".to_owned(), |v| format!("'{v}'"))
}

impl Seed {
    fn new(lead: &str, seed: u64) -> Self {
        Self {
            sql: String::new(),
            n: 0,
            rng: Lcg(seed),
            lead: lead.into(),
            uniform: false,
        }
    }

    fn person(&mut self) -> String {
        self.n += 1;
        let n = self.n;
        let gender = if self.uniform {
            Some("female")
        } else {
            [None, Some("female"), Some("male"), Some("non_binary")][self.rng.next(4)]
        };
        let birth_year = match (self.uniform, self.rng.next(3)) {
            (true, _) => Some(2010),
            (false, 0) => None,
            (false, _) => Some(2003 + self.rng.next(14)),
        };
        let birth_date = match (birth_year, self.rng.next(2)) {
            _ if self.uniform => None,
            (Some(y), 0) => Some(format!(
                "{y:04}-{:02}-{:02}",
                1 + self.rng.next(12),
                1 + self.rng.next(28)
            )),
            _ => None,
        };
        let birth_year = if birth_date.is_some() {
            None
        } else {
            birth_year
        };
        let id = format!("00000000-0000-4000-8000-{n:012}");
        self.sql.push_str(&format!(
            "INSERT INTO people (id, kind, first_name, name_key, birth_date, birth_year, gender, \
             created_at, updated_at) VALUES ('{id}', 'young_person', 'X', 'x', {}, {}, {}, \
             '2010-01-01 00:00:00', '2010-01-01 00:00:00');\n",
            sql_text(birth_date.as_deref()),
            birth_year.map_or("NULL".to_owned(), |y| y.to_string()),
            sql_text(gender),
        ));
        id
    }

    /// A referral received at `at` (`YYYY-MM-DD HH:MM:SS`).
    fn referral(&mut self, at: &str, departement: &str, status: &str) {
        let person = self.person();
        let n = self.n;
        let (public, context, source) = if self.uniform {
            ("young_person", "prostitution", "parent")
        } else {
            (
                self.rng.pick(&["young_person", "relative", "professional"]),
                self.rng
                    .pick(&["pre_prostitution", "prostitution", "unknown"]),
                self.rng
                    .pick(&["partner_organisation", "parent", "young_person"]),
            )
        };
        self.sql.push_str(&format!(
            "INSERT INTO referrals (id, reference, public, context, source_kind, submitted_by_id, \
             submitted_by_kind, person_id, departement_code, risk_indicators, summary, urgency, \
             status, protection_required, version, created_at, updated_at) VALUES \
             ('10000000-0000-4000-8000-{n:012}', 'R-{n}', '{public}', '{context}', '{source}', 'x', \
             'account', '{person}', '{departement}', '', 's', 'routine', '{status}', FALSE, 1, \
             '{at}', '{at}');\n"
        ));
    }

    fn random_status(&mut self) -> &'static str {
        self.rng.pick(&[
            "submitted",
            "accepted",
            "accepted",
            "declined",
            "redirected",
        ])
    }

    /// A follow-up opened at `opened`, closed at `closed` if any.
    fn follow_up(&mut self, opened: &str, closed: Option<&str>, departement: &str) {
        let person = self.person();
        let n = self.n;
        let reason = closed.map(|_| {
            self.rng
                .pick(&["goals_reached", "moved_away", "contact_lost"])
        });
        self.sql.push_str(&format!(
            "INSERT INTO follow_ups (id, reference, person_id, departement_code, lead_staff_id, \
             status, closure_reason, version, created_at, updated_at) VALUES \
             ('20000000-0000-4000-8000-{n:012}', 'F-{n}', '{person}', '{departement}', '{}', \
             '{}', {}, 1, '{opened}', '{}');\n",
            self.lead,
            if closed.is_some() { "closed" } else { "active" },
            sql_text(reason),
            closed.unwrap_or(opened),
        ));
    }

    fn appointment(&mut self, at: &str, departement: &str, mode: &str, status: &str) {
        self.n += 1;
        let n = self.n;
        let end = at.replacen(" 10:", " 11:", 1);
        self.sql.push_str(&format!(
            "INSERT INTO appointments (id, mode, title, departement_code, starts_at, ends_at, \
             status, confirmation, first_meeting, created_by, version, created_at, updated_at) \
             VALUES ('30000000-0000-4000-8000-{n:012}', '{mode}', 't', '{departement}', '{at}', \
             '{end}', '{status}', 'confirmed', FALSE, 'x', 1, '{at}', '{at}');\n"
        ));
    }

    async fn run(&mut self, app: &TestApp) {
        execute_sql(&app.db(), &self.sql).await.expect("seed data");
        self.sql.clear();
    }
}

fn at(year: i32, month: usize, day: usize) -> String {
    format!(
        "{year:04}-{month:02}-{:02} 10:{:02}:00",
        day.clamp(1, 28),
        day % 60
    )
}

const YEAR: i32 = 2025;

fn assert_published(published: &Published, key: &Key, value: u64) {
    assert_eq!(
        published.get(key),
        Some(Some(value)),
        "{key} should be published as {value}"
    );
}

/// Zeros are published: a month without referrals.
fn zero_month_published(published: &Published, month: usize) {
    assert_published(
        published,
        &Key::new(
            "referrals",
            "received",
            &format!("{YEAR}-{month:02}"),
            "",
            TOTAL,
        ),
        0,
    );
}

// ---------------------------------------------------------------------------
// Scenarios (issue 18).

async fn setup(app: &TestApp, seed: u64) -> (String, Seed) {
    let world = app.world().await;
    let token = world.token("analyst").to_owned();
    (token, Seed::new(world.account("supervisor"), seed))
}

/// (a) 3 in 75, 5 in 92, 30 in 13: Île-de-France was the total minus 30.
async fn intruder_lone_hidden_region(app: TestApp) {
    let (token, mut seed) = setup(&app, 1).await;
    for (departement, count) in [("75", 3), ("92", 5), ("13", 30)] {
        for i in 0..count {
            let status = seed.random_status();
            seed.referral(&at(YEAR, 3, 1 + i), departement, status);
        }
    }
    seed.run(&app).await;
    let published = attack(&app, &token, YEAR, "a lone hidden région").await;
    zero_month_published(&published, 1);
}

/// (b) One referral in each of 11 départements: the total hidden by
/// département, published by the other tables.
async fn intruder_total_hidden_in_one_table(app: TestApp) {
    let (token, mut seed) = setup(&app, 2).await;
    for (i, departement) in [
        "75", "92", "93", "94", "13", "06", "69", "38", "33", "59", "35",
    ]
    .iter()
    .enumerate()
    {
        let status = seed.random_status();
        seed.referral(&at(YEAR, 5, 1 + i), departement, status);
    }
    seed.run(&app).await;
    let published = attack(&app, &token, YEAR, "b total hidden in one table").await;
    zero_month_published(&published, 1);
}

/// (c) Ordinary data hidden whole: [13=5, 69=12, 75=40].
async fn intruder_ordinary_data_hidden_whole(app: TestApp) {
    let (token, mut seed) = setup(&app, 3).await;
    for (departement, count) in [("13", 5), ("69", 12), ("75", 40)] {
        for i in 0..count {
            let status = seed.random_status();
            seed.referral(&at(YEAR, 6, 1 + i), departement, status);
        }
    }
    seed.run(&app).await;
    attack(&app, &token, YEAR, "c ordinary data hidden whole").await;
}

/// (d) Measures that add up: received 75=15, 93=25; accepted 75=12,
/// 93=11; declined 75=3, 93=14; none redirected, none undecided.
async fn intruder_measures_that_add_up(app: TestApp) {
    let (token, mut seed) = setup(&app, 4).await;
    for (departement, status, count) in [
        ("75", "accepted", 12),
        ("75", "declined", 3),
        ("93", "accepted", 11),
        ("93", "declined", 14),
    ] {
        for i in 0..count {
            seed.referral(&at(YEAR, 9, 1 + i), departement, status);
        }
    }
    seed.run(&app).await;
    attack(&app, &token, YEAR, "d measures that add up").await;
}

/// (e) 5 referrals in January, 20 in every other month, all in 75 and
/// alike, with the annual report: February–December are published (the
/// quarter and the year hide January). With attributes drawn at random,
/// a month can need its own total hidden: a cell of 1 among 20 cannot be
/// shown to reach k = 11 while its month's other cells, each ≥ 1, and its
/// total stay published (the random scenarios cover that).
async fn intruder_small_january(app: TestApp) {
    let (token, mut seed) = setup(&app, 5).await;
    seed.uniform = true;
    for month in 1..=12 {
        let count = if month == 1 { 5 } else { 20 };
        for i in 0..count {
            seed.referral(&at(YEAR, month, 1 + i), "75", "accepted");
        }
    }
    seed.run(&app).await;
    let published = attack(&app, &token, YEAR, "e small January").await;
    for month in 2..=12 {
        assert_published(
            &published,
            &Key::new(
                "referrals",
                "received",
                &format!("{YEAR}-{month:02}"),
                "",
                TOTAL,
            ),
            20,
        );
    }
}

/// (f) A département row [13=4, 75=16] every month.
async fn intruder_small_departement_every_month(app: TestApp) {
    let (token, mut seed) = setup(&app, 6).await;
    for month in 1..=12 {
        for (departement, count) in [("13", 4), ("75", 16)] {
            for i in 0..count {
                let status = seed.random_status();
                seed.referral(&at(YEAR, month, 1 + i), departement, status);
            }
        }
    }
    seed.run(&app).await;
    attack(&app, &token, YEAR, "f small département every month").await;
}

/// (g) Follow-ups opened and closed across months in 2 départements: the
/// stock follows the flows.
async fn intruder_follow_ups_stock_and_flows(app: TestApp) {
    let (token, mut seed) = setup(&app, 7).await;
    // Open since 2024 in 75 (14) and in 93 (3).
    for i in 0..14 {
        let closed = (i % 5 == 0).then(|| at(YEAR, 2 + i % 7, 3));
        seed.follow_up(&at(YEAR - 1, 6, 1 + i), closed.as_deref(), "75");
    }
    for i in 0..3 {
        seed.follow_up(&at(YEAR - 1, 9, 1 + i), None, "93");
    }
    // Opened in 2025: 75 a dozen in March, a few later; 93 a few.
    for i in 0..12 {
        let closed = (i % 4 == 0).then(|| at(YEAR, 4 + i % 5, 10));
        seed.follow_up(&at(YEAR, 3, 1 + i), closed.as_deref(), "75");
    }
    for (month, departement, closed) in [
        (5, "75", Some(7)),
        (6, "75", None),
        (6, "93", Some(8)),
        (8, "93", None),
        (10, "93", Some(11)),
        (11, "75", None),
    ] {
        let closed = closed.map(|m| at(YEAR, m, 20));
        seed.follow_up(&at(YEAR, month, 2), closed.as_deref(), departement);
    }
    seed.run(&app).await;
    attack(&app, &token, YEAR, "g follow-ups stock and flows").await;
}

/// (h) Appointments, a few of them completed at a permanence.
async fn intruder_permanence_attendance(app: TestApp) {
    let (token, mut seed) = setup(&app, 8).await;
    for month in [2, 3, 5, 9] {
        for i in 0..15 {
            seed.appointment(&at(YEAR, month, 1 + i), "75", "home", "completed");
        }
        for i in 0..2 {
            seed.appointment(&at(YEAR, month, 20 + i), "75", "permanence", "completed");
        }
        for i in 0..3 {
            seed.appointment(&at(YEAR, month, 24 + i), "93", "phone", "no_show");
        }
        seed.appointment(&at(YEAR, month, 27), "93", "permanence", "completed");
        for i in 0..12 {
            seed.appointment(&at(YEAR, month, 1 + i), "93", "permanence", "scheduled");
        }
    }
    seed.run(&app).await;
    attack(&app, &token, YEAR, "h permanence attendance").await;
}

/// Random small years (2015–2018 on one app): no leak.
async fn intruder_random_years(app: TestApp) {
    let (token, mut seed) = setup(&app, 42).await;
    let idf = ["75", "92", "93"];
    let paca = ["13", "06"];
    for (s, year) in (2015..=2018).enumerate() {
        let rng = &mut seed.rng;
        rng.0 = rng.0.wrapping_add(s as u64 * 7919);
        let mut departements = vec![idf[rng.next(3)], paca[rng.next(2)]];
        for _ in 0..rng.next(4) {
            let more = if rng.next(2) == 0 {
                idf[rng.next(3)]
            } else {
                paca[rng.next(2)]
            };
            if !departements.contains(&more) {
                departements.push(more);
            }
        }
        for month in 1..=12 {
            for i in 0..seed.rng.next(26) {
                let departement = departements[seed.rng.next(departements.len())];
                let status = seed.random_status();
                seed.referral(&at(year, month, 1 + i), departement, status);
            }
            for i in 0..seed.rng.next(4) {
                let departement = departements[seed.rng.next(departements.len())];
                let closed = (seed.rng.next(2) == 0)
                    .then(|| (month + seed.rng.next(13 - month)).min(12))
                    .map(|m| at(year, m, 27));
                seed.follow_up(&at(year, month, 1 + i), closed.as_deref(), departement);
            }
            for i in 0..seed.rng.next(15) {
                let departement = departements[seed.rng.next(departements.len())];
                let mode = seed.rng.pick(&["permanence", "home", "phone"]);
                let status = seed.rng.pick(&[
                    "scheduled",
                    "completed",
                    "completed",
                    "no_show",
                    "cancelled",
                ]);
                seed.appointment(&at(year, month, 1 + i), departement, mode, status);
            }
        }
        seed.run(&app).await;
        attack(&app, &token, year, &format!("random year {year}")).await;
    }
}

/// A closed month is frozen once published: data entered later for it
/// (a late entry, a correction) changes nothing until `adosexo stats
/// republish` withdraws it, which the audit trail records.
async fn closed_periods_are_frozen_until_republished(app: TestApp) {
    let world = app.world().await;
    let (analyst, supervisor) = (world.token("analyst"), world.token("supervisor"));
    let mut seed = Seed::new(world.account("supervisor"), 9);
    seed.uniform = true;
    for i in 0..30 {
        seed.referral(&at(YEAR, 3, 1 + i), "75", "accepted");
    }
    seed.run(&app).await;
    let path = format!("/api/v1/stats/referrals?from={YEAR}-03&months=1");
    let total = |table: &Value| table["rows"][0]["total"]["value"].as_u64();
    assert_eq!(total(&app.get_json(&path, analyst, 200).await), Some(30));
    for i in 0..5 {
        seed.referral(&at(YEAR, 3, 10 + i), "75", "accepted");
    }
    seed.run(&app).await;
    assert_eq!(
        total(&app.get_json(&path, analyst, 200).await),
        Some(30),
        "a published closed month does not move"
    );
    let withdrawn = adosexo_api::cli::republish_statistics(
        &app.db(),
        Some("referrals"),
        &format!("{YEAR}-03"),
        chrono::Utc::now(),
    )
    .await
    .expect("republish");
    assert!(
        withdrawn >= 3,
        "the month, its quarter and the year: {withdrawn}"
    );
    assert_eq!(total(&app.get_json(&path, analyst, 200).await), Some(35));
    let unknown = adosexo_api::cli::republish_statistics(
        &app.db(),
        Some("nope"),
        "2025-03",
        chrono::Utc::now(),
    )
    .await;
    assert!(unknown.is_err(), "an unknown family is refused");
    let audit = app
        .get_json(
            "/api/v1/audit?resource_type=statistics&limit=200",
            supervisor,
            200,
        )
        .await;
    let entries = audit["items"].as_array().expect("items");
    assert!(
        entries.iter().any(|e| e["action"] == "republish_statistics"
            && e["resource_id"] == format!("referrals from {YEAR}-03")),
        "the re-publication is audited: {audit}"
    );
}

/// `adosexo stats publish` (and the nightly job) freezes a closed month
/// before anyone reads it; audited.
async fn publishing_freezes_closed_periods_before_any_read(app: TestApp) {
    let world = app.world().await;
    let (analyst, supervisor) = (world.token("analyst"), world.token("supervisor"));
    let mut seed = Seed::new(world.account("supervisor"), 10);
    seed.uniform = true;
    for i in 0..30 {
        seed.referral(&at(YEAR, 3, 1 + i), "75", "accepted");
    }
    seed.run(&app).await;
    let publisher = adosexo_api::statistics::Publisher {
        db: app.db(),
        analytics: app.db(),
        clock: adosexo_api::context::Clock::system(),
        k: adosexo_domain::stats::MinCell::new(11).expect("k"),
    };
    let done = adosexo_api::cli::publish_statistics(&publisher, Some("referrals"), YEAR, YEAR)
        .await
        .expect("publish");
    assert_eq!(
        done.iter().map(|(f, y, _)| (*f, *y)).collect::<Vec<_>>(),
        vec![("referrals", YEAR)]
    );
    // Entered after the publication, read for the first time after it.
    for i in 0..5 {
        seed.referral(&at(YEAR, 3, 10 + i), "75", "accepted");
    }
    seed.run(&app).await;
    let path = format!("/api/v1/stats/referrals?from={YEAR}-03&months=1");
    let table = app.get_json(&path, analyst, 200).await;
    assert_eq!(
        table["rows"][0]["total"]["value"].as_u64(),
        Some(30),
        "March was frozen by the publication: {table}"
    );
    for wrong in [
        adosexo_api::cli::publish_statistics(&publisher, Some("nope"), YEAR, YEAR).await,
        adosexo_api::cli::publish_statistics(&publisher, None, YEAR, YEAR - 1).await,
    ] {
        assert!(wrong.is_err(), "refused: {wrong:?}");
    }
    let audit = app
        .get_json(
            "/api/v1/audit?resource_type=statistics&limit=200",
            supervisor,
            200,
        )
        .await;
    let entries = audit["items"].as_array().expect("items");
    assert!(
        entries.iter().any(|e| e["action"] == "publish_statistics"
            && e["resource_id"] == format!("referrals {YEAR}-{YEAR}")),
        "the publication is audited: {audit}"
    );
}

crate::both_backends_with!(
    crate::intruder::CONFIG,
    closed_periods_are_frozen_until_republished,
    publishing_freezes_closed_periods_before_any_read,
    intruder_lone_hidden_region,
    intruder_total_hidden_in_one_table,
    intruder_ordinary_data_hidden_whole,
    intruder_measures_that_add_up,
    intruder_small_january,
    intruder_small_departement_every_month,
    intruder_follow_ups_stock_and_flows,
    intruder_permanence_attendance,
    intruder_random_years,
);
