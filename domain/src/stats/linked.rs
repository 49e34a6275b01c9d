//! Linked tables protected as a whole.
//!
//! Everything published about a period (every measure, every dimension,
//! months, quarters and the year, régions and départements, measures that
//! are parts of others) is one system of figures bound by linear equations.
//! An intruder who collects all of it can bound any hidden figure by linear
//! programming. [`LinkedTables::protect`] decides which figures to hide so
//! that, for every hidden figure `h` of true value `v`:
//!
//! * if `v` is a small count (1 to k−1), the published figures and the
//!   equations allow `h ≥ k`: nobody can prove that `h` is a small count,
//!   let alone which one;
//! * otherwise they allow `h ≠ v`: `h` is not pinned to its value.
//!
//! Both are proved by a **certificate**: a solution of the equations in
//! which every published figure keeps its value, every hidden figure is at
//! least 1 (zeros are published, so a reader knows hidden figures are
//! positive) and every unpublished one (e.g. undecided referrals) at least
//! 0, and `h` takes the required value. The certificate is found by linear
//! programming over a neighbourhood of `h` (the hidden figures reachable
//! from it through equations), every figure outside it kept at its true
//! value: a solution of the small system is a solution of the whole, so a
//! certificate found locally holds globally. An intruder's linear
//! programme over all published figures therefore finds `h`'s interval to
//! contain both `v` and the certificate's value.
//!
//! When no certificate exists, the cheapest published figures whose
//! freedom gives one are hidden as well: an *elastic* programme in which
//! each published figure near `h` may leave its value at a price per unit
//! (its weight: cells before totals, months before quarters before the
//! year), searched in narrow neighbourhoods first and then in everything
//! within reach; figures priced at least [`PRECIOUS`] move only when
//! nothing else will do. Its solution is `h`'s certificate once the
//! figures that moved are hidden. Hiding a figure never invalidates a
//! certificate already found (the old solution, with the newly hidden
//! figure at its true value ≥ 1, still holds), so every hidden figure is
//! checked once, in order, and the result is deterministic.
//!
//! Figures can be fixed: already published (a frozen release) or already
//! hidden. Fixed published figures are never hidden; their equations are
//! protected by hiding free figures.

use std::collections::{BTreeSet, VecDeque};

use microlp::{ComparisonOp, Error as LpError, OptimizationDirection, Problem};

use super::MinCell;

/// What a figure may become.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    /// Published unless the protection hides it.
    Free,
    /// Already published (a frozen release): stays published.
    Published,
    /// Already hidden (a frozen release): stays hidden.
    Hidden,
    /// Never published (a part no table shows, such as undecided
    /// referrals): a reader only knows it is ≥ 0.
    Unpublished,
}

/// A system of figures and the equations between them.
#[derive(Clone, Debug, Default)]
pub struct LinkedTables {
    values: Vec<u64>,
    status: Vec<Status>,
    /// The price of hiding each figure (1 unless set).
    weights: Vec<f64>,
    /// Each equation: Σ coefficient × figure = 0.
    equations: Vec<Vec<(usize, i64)>>,
    /// For each figure, the equations it appears in.
    member_of: Vec<Vec<usize>>,
}

/// The outcome of [`LinkedTables::protect`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Protection {
    /// For each figure, whether it is withheld.
    pub hidden: Vec<bool>,
    /// Hidden figures no certificate was found for even with every free
    /// figure near them hidden (only possible when fixed published figures
    /// pin them). Empty in every case the tests know.
    pub unresolved: Vec<usize>,
    /// Linear programmes solved.
    pub programmes: usize,
    /// Equations the true values do not satisfy: a model that does not
    /// match the counts (a bug), under which no certificate can be found.
    pub inconsistent: usize,
}

/// Neighbourhood sizes tried for a certificate, smallest first.
const NEIGHBOURHOODS: [usize; 1] = [150];
/// The most figures one programme looks at.
const LARGEST: usize = 4000;
/// A figure priced at least this much is hidden only by the widest search.
pub const PRECIOUS: f64 = 10.0;
/// Neighbourhoods tried for complements, in order (size, members per
/// equation, precious figures allowed to move): most certificates close
/// within a few equations of the figure; then every figure within reach;
/// precious figures last.
const ELASTIC: [(usize, Option<usize>, bool); 4] = [
    (80, Some(2), false),
    (400, Some(4), false),
    (LARGEST, None, false),
    (LARGEST, None, true),
];

impl LinkedTables {
    /// An empty system.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a figure of true value `value`; returns its index.
    pub fn figure(&mut self, value: u64, status: Status) -> usize {
        self.values.push(value);
        self.status.push(status);
        self.weights.push(1.0);
        self.member_of.push(Vec::new());
        self.values.len() - 1
    }

    /// Sets the price of hiding a figure (default 1): figures readers value
    /// more (a year, a total) are hidden only when cheaper ones cannot do.
    pub fn weigh(&mut self, figure: usize, weight: f64) {
        if let Some(w) = self.weights.get_mut(figure) {
            *w = weight.max(1e-3);
        }
    }

    /// Number of figures.
    pub fn len(&self) -> usize {
        self.values.len()
    }

    /// Whether there is no figure.
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// The true value of a figure.
    pub fn value(&self, figure: usize) -> u64 {
        self.values.get(figure).copied().unwrap_or(0)
    }

    /// Adds the equation `total = Σ parts`.
    pub fn sum(&mut self, total: usize, parts: &[usize]) {
        let mut terms: Vec<(usize, i64)> = Vec::with_capacity(parts.len() + 1);
        terms.push((total, -1));
        terms.extend(parts.iter().map(|&p| (p, 1)));
        self.equation(terms);
    }

    /// Adds the equation Σ coefficient × figure = 0 (terms on the same
    /// figure are merged; an equation of published constants only is kept
    /// out).
    pub fn equation(&mut self, terms: Vec<(usize, i64)>) {
        let mut merged: Vec<(usize, i64)> = Vec::with_capacity(terms.len());
        let mut sorted = terms;
        sorted.sort_unstable();
        for (figure, coefficient) in sorted {
            match merged.last_mut() {
                Some((last, c)) if *last == figure => *c += coefficient,
                _ => merged.push((figure, coefficient)),
            }
        }
        merged.retain(|&(_, c)| c != 0);
        if merged.len() < 2 {
            return;
        }
        let index = self.equations.len();
        for &(figure, _) in &merged {
            if let Some(list) = self.member_of.get_mut(figure) {
                list.push(index);
            }
        }
        self.equations.push(merged);
    }

    /// How many equations the true values do not satisfy.
    fn inconsistent(&self) -> usize {
        self.equations
            .iter()
            .filter(|equation| {
                let sum: i128 = equation
                    .iter()
                    .map(|&(f, c)| i128::from(c) * i128::from(self.value(f)))
                    .sum();
                sum != 0
            })
            .count()
    }

    /// The least value a hidden figure can take for a reader: 1 (zeros
    /// are published), 0 for a part that is never published.
    fn floor(&self, figure: usize) -> f64 {
        if self.status_of(figure) == Status::Unpublished {
            0.0
        } else {
            1.0
        }
    }

    fn status_of(&self, figure: usize) -> Status {
        self.status
            .get(figure)
            .copied()
            .unwrap_or(Status::Published)
    }

    /// Decides what to hide so that no hidden figure can be pinned, and no
    /// small count proved small, by linear reasoning over what is published.
    pub fn protect(&self, k: MinCell) -> Protection {
        let n = self.values.len();
        let mut hidden: Vec<bool> = (0..n)
            .map(|i| match self.status_of(i) {
                Status::Hidden | Status::Unpublished => true,
                Status::Published => false,
                Status::Free => k.is_small(self.value(i)),
            })
            .collect();
        let mut certified = vec![false; n];
        let mut unresolved = Vec::new();
        let mut programmes = 0;
        let mut next = 0;
        while next < n {
            let h = next;
            let pending = hidden.get(h).copied().unwrap_or(false)
                && !certified.get(h).copied().unwrap_or(true)
                && self.status_of(h) != Status::Unpublished;
            if !pending {
                next += 1;
                continue;
            }
            // One programme for everything pending around `h`: as many
            // certificates as one solution gives. Near `h` first (a
            // certificate found locally holds globally), then wider.
            for limit in NEIGHBOURHOODS {
                programmes += 1;
                let local = self.neighbourhood(h, &hidden, limit);
                if let Some(solution) = self.joint(h, &local, &certified, k) {
                    self.mark(&solution, &mut certified, k);
                }
                if certified.get(h).copied().unwrap_or(false) || local.len() < limit {
                    break;
                }
            }
            if certified.get(h).copied().unwrap_or(false) {
                continue;
            }
            // A figure that is not a small count may also go down.
            if self.value(h) >= k.get() && self.value(h) > 1 {
                let local = self.neighbourhood(h, &hidden, LARGEST);
                programmes += 1;
                if self.feasible(h, &local, Goal::AtMost(self.value(h) - 1)) {
                    if let Some(slot) = certified.get_mut(h) {
                        *slot = true;
                    }
                    continue;
                }
            }
            programmes += 1;
            match self.complements(h, &hidden, k, &mut programmes) {
                Some((extra, solution)) => {
                    for f in extra {
                        if let Some(slot) = hidden.get_mut(f) {
                            *slot = true;
                        }
                        // Hidden earlier than `h`: look at it again.
                        next = next.min(f);
                    }
                    self.mark(&solution, &mut certified, k);
                    if let Some(slot) = certified.get_mut(h) {
                        *slot = true;
                    }
                }
                None => {
                    unresolved.push(h);
                    if let Some(slot) = certified.get_mut(h) {
                        *slot = true;
                    }
                }
            }
        }
        Protection {
            hidden,
            unresolved,
            programmes,
            inconsistent: self.inconsistent(),
        }
    }

    /// The goal of a hidden figure's certificate: a small count must be
    /// able to reach k; any other figure must be able to leave its value.
    fn need(&self, figure: usize, k: MinCell) -> u64 {
        k.get().max(self.value(figure) + 1)
    }

    /// Marks every hidden figure a solution certifies: a small count that
    /// reaches k in it, any other figure that left its value.
    fn mark(&self, solution: &[(usize, f64)], certified: &mut [bool], k: MinCell) {
        for &(figure, x) in solution {
            let value = self.value(figure) as f64;
            let ok = if self.value(figure) < k.get() {
                x >= self.need(figure, k) as f64 - 1e-6
            } else {
                (x - value).abs() > 0.5
            };
            if let (true, Some(slot)) = (ok, certified.get_mut(figure)) {
                *slot = true;
            }
        }
    }

    /// A solution of the equations around `local` (others at their true
    /// values) that brings as many uncertified figures as it can to their
    /// goal, `h` first.
    fn joint(
        &self,
        h: usize,
        local: &[(usize, usize)],
        certified: &[bool],
        k: MinCell,
    ) -> Option<Vec<(usize, f64)>> {
        let mut problem = Problem::new(OptimizationDirection::Maximize);
        let mut variable = std::collections::BTreeMap::new();
        for &(figure, _) in local {
            let floor = self.floor(figure);
            let x = problem.add_var(0.0, (floor, f64::INFINITY));
            variable.insert(figure, x);
            let uncertified = !certified.get(figure).copied().unwrap_or(true)
                && self.status_of(figure) != Status::Unpublished;
            if uncertified {
                // y ≤ x, y ≤ goal: the objective counts progress to the goal.
                let weight = if figure == h { local.len() as f64 } else { 1.0 };
                let goal = self.need(figure, k) as f64;
                let y = problem.add_var(weight, (0.0, goal));
                problem.add_constraint([(y, 1.0), (x, -1.0)].as_slice(), ComparisonOp::Le, 0.0);
            }
        }
        self.constrain(&mut problem, local.iter().map(|&(f, _)| f), &variable);
        let solution = problem.solve().ok()?.into_solution().ok()?;
        Some(
            variable
                .iter()
                .map(|(&figure, &x)| (figure, solution.var_value(x)))
                .collect(),
        )
    }

    /// Adds every equation touching `figures`: variables where they have one,
    /// true values elsewhere.
    fn constrain(
        &self,
        problem: &mut Problem,
        figures: impl Iterator<Item = usize>,
        variable: &std::collections::BTreeMap<usize, microlp::Variable>,
    ) {
        let mut touched = BTreeSet::new();
        for figure in figures {
            touched.extend(
                self.member_of
                    .get(figure)
                    .map_or(&[][..], Vec::as_slice)
                    .iter()
                    .copied(),
            );
        }
        for e in touched {
            let mut terms = Vec::new();
            let mut constant = 0i64;
            for &(figure, coefficient) in self.equations.get(e).map_or(&[][..], Vec::as_slice) {
                match variable.get(&figure) {
                    Some(&v) => terms.push((v, coefficient as f64)),
                    None => {
                        constant += coefficient * i64::try_from(self.value(figure)).unwrap_or(0)
                    }
                }
            }
            problem.add_constraint(terms.as_slice(), ComparisonOp::Eq, -(constant as f64));
        }
    }

    /// Hidden figures reachable from `h` through equations, by distance,
    /// at most `limit` of them; with each figure's distance.
    fn neighbourhood(&self, h: usize, hidden: &[bool], limit: usize) -> Vec<(usize, usize)> {
        let mut seen = BTreeSet::from([h]);
        let mut order = vec![(h, 0)];
        let mut queue = VecDeque::from([(h, 0usize)]);
        while let Some((figure, depth)) = queue.pop_front() {
            for &e in self.member_of.get(figure).map_or(&[][..], Vec::as_slice) {
                for &(other, _) in self.equations.get(e).map_or(&[][..], Vec::as_slice) {
                    if hidden.get(other).copied().unwrap_or(false) && seen.insert(other) {
                        if order.len() >= limit {
                            return order;
                        }
                        order.push((other, depth + 1));
                        queue.push_back((other, depth + 1));
                    }
                }
            }
        }
        order
    }

    /// Whether the equations touching `local` have a solution with every
    /// figure outside `local` at its true value, every local hidden figure
    /// ≥ 1 (unpublished ≥ 0) and `h` meeting `goal`.
    fn feasible(&self, h: usize, local: &[(usize, usize)], goal: Goal) -> bool {
        let (direction, h_bounds) = match goal {
            Goal::AtLeast(at_least) => (OptimizationDirection::Maximize, at_least as f64),
            Goal::AtMost(at_most) => (OptimizationDirection::Minimize, at_most as f64),
        };
        let mut problem = Problem::new(direction);
        let mut variable = std::collections::BTreeMap::new();
        for &(figure, _) in local {
            let floor = self.floor(figure);
            // `h` is capped at the goal: the optimum reaches it or not.
            let (objective, bounds) = if figure == h {
                (1.0, (floor, h_bounds))
            } else {
                (0.0, (floor, f64::INFINITY))
            };
            if bounds.0 > bounds.1 {
                return false;
            }
            variable.insert(figure, problem.add_var(objective, bounds));
        }
        self.constrain(&mut problem, local.iter().map(|&(f, _)| f), &variable);
        match problem.solve() {
            Ok(outcome) => match outcome.into_solution() {
                Ok(solution) => match goal {
                    Goal::AtLeast(at_least) => solution.objective() >= at_least as f64 - 1e-6,
                    Goal::AtMost(at_most) => solution.objective() <= at_most as f64 + 1e-6,
                },
                Err(_) => false,
            },
            Err(LpError::Unbounded) => matches!(goal, Goal::AtLeast(_)),
            Err(_) => false,
        }
    }

    /// The cheapest set of published free figures whose hiding gives `h` a
    /// certificate: a linear programme over the figures near `h` (hidden or
    /// not) in which each published free figure may leave its value at a
    /// price (its weight per unit), `h` must meet its goal, and every other
    /// figure keeps its value. The figures that moved are the complements;
    /// the solution is `h`'s certificate.
    fn complements(
        &self,
        h: usize,
        hidden: &[bool],
        k: MinCell,
        programmes: &mut usize,
    ) -> Option<Complements> {
        let value = self.value(h);
        let mut goals = vec![Goal::AtLeast(k.get().max(value + 1))];
        if value >= k.get() && value > 1 {
            goals.push(Goal::AtMost(value - 1));
        }
        for (limit, breadth, precious) in ELASTIC {
            let local = self.movable(h, hidden, limit, breadth, precious);
            for &goal in &goals {
                *programmes += 1;
                let r = self.elastic(h, &local, hidden, goal);
                if let Some(moved) = r {
                    return Some(moved);
                }
            }
        }
        None
    }

    /// Figures near `h` through equations that may move: hidden ones and
    /// published free non-zero ones, nearest first, at most `limit`; with
    /// a `breadth`, only that many of each kind per equation, the cheapest
    /// then the largest (they can give the most), so that the search goes
    /// deep before wide (a row of a hundred départements would fill it at
    /// once).
    fn movable(
        &self,
        h: usize,
        hidden: &[bool],
        limit: usize,
        breadth: Option<usize>,
        precious: bool,
    ) -> Vec<usize> {
        let mut seen = BTreeSet::from([h]);
        let mut order = vec![h];
        let mut queue = VecDeque::from([h]);
        while let Some(figure) = queue.pop_front() {
            for &e in self.member_of.get(figure).map_or(&[][..], Vec::as_slice) {
                let mut members: Vec<(usize, bool)> = self
                    .equations
                    .get(e)
                    .map_or(&[][..], Vec::as_slice)
                    .iter()
                    .filter_map(|&(other, _)| {
                        let is_hidden = hidden.get(other).copied().unwrap_or(false);
                        // Zeros are published and stay so.
                        let is_free =
                            self.status_of(other) == Status::Free && self.value(other) > 0;
                        // Precious figures only when nothing else will do.
                        let cheap =
                            precious || self.weights.get(other).copied().unwrap_or(1.0) < PRECIOUS;
                        (is_hidden || (is_free && cheap)).then_some((other, is_hidden))
                    })
                    .collect();
                if breadth.is_some() {
                    // Published figures cheapest first (a quarter before the
                    // year, a cell before a total), then the largest.
                    members.sort_by(|&(a, a_hidden), &(b, b_hidden)| {
                        let price = |f: usize, is_hidden: bool| {
                            if is_hidden {
                                0.0
                            } else {
                                self.weights.get(f).copied().unwrap_or(1.0)
                            }
                        };
                        price(a, a_hidden)
                            .total_cmp(&price(b, b_hidden))
                            .then(self.value(b).cmp(&self.value(a)))
                    });
                }
                let (mut hidden_taken, mut published_taken) = (0, 0);
                for (other, is_hidden) in members {
                    let taken = if is_hidden {
                        &mut hidden_taken
                    } else {
                        &mut published_taken
                    };
                    if breadth.is_some_and(|b| *taken >= b) {
                        continue;
                    }
                    *taken += 1;
                    if !seen.insert(other) {
                        continue;
                    }
                    if order.len() >= limit {
                        return order;
                    }
                    order.push(other);
                    queue.push_back(other);
                }
            }
        }
        order
    }

    /// The elastic programme of [`Self::complements`] for one goal.
    fn elastic(
        &self,
        h: usize,
        local: &[usize],
        hidden: &[bool],
        goal: Goal,
    ) -> Option<Complements> {
        let mut problem = Problem::new(OptimizationDirection::Minimize);
        let mut variable = std::collections::BTreeMap::new();
        let mut deviations = Vec::new();
        for &figure in local {
            let floor = self.floor(figure);
            let bounds = match (figure == h, goal) {
                (true, Goal::AtLeast(at_least)) => (at_least as f64, f64::INFINITY),
                (true, Goal::AtMost(at_most)) => (floor, at_most as f64),
                (false, _) => (floor, f64::INFINITY),
            };
            if bounds.0 > bounds.1 {
                return None;
            }
            let x = problem.add_var(0.0, bounds);
            variable.insert(figure, x);
            if figure != h && !hidden.get(figure).copied().unwrap_or(true) {
                // x = value + up − down, each unit of change priced.
                let weight = self.weights.get(figure).copied().unwrap_or(1.0);
                let up = problem.add_var(weight, (0.0, f64::INFINITY));
                let down = problem.add_var(weight, (0.0, f64::INFINITY));
                problem.add_constraint(
                    [(x, 1.0), (up, -1.0), (down, 1.0)].as_slice(),
                    ComparisonOp::Eq,
                    self.value(figure) as f64,
                );
                deviations.push((figure, up, down));
            }
        }
        self.constrain(&mut problem, local.iter().copied(), &variable);
        let solution = problem.solve().ok()?.into_solution().ok()?;
        let moved = deviations
            .into_iter()
            .filter(|&(_, up, down)| solution.var_value(up) + solution.var_value(down) > 1e-6)
            .map(|(figure, _, _)| figure)
            .collect();
        let values = variable
            .iter()
            .map(|(&figure, &x)| (figure, solution.var_value(x)))
            .collect();
        Some((moved, values))
    }
}

/// Figures to hide as well, and the certificate their hiding gives.
type Complements = (Vec<usize>, Vec<(usize, f64)>);

#[derive(Clone, Copy, Debug)]
enum Goal {
    AtLeast(u64),
    AtMost(u64),
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The intruder: for each hidden figure, its least and greatest values
    /// over every solution of the whole system that keeps published figures
    /// at their values, hidden ones ≥ 1 and unpublished ones ≥ 0.
    fn bounds(tables: &LinkedTables, hidden: &[bool], figure: usize) -> (f64, f64) {
        let solve = |direction| {
            let mut problem = Problem::new(direction);
            let vars: Vec<Option<microlp::Variable>> = (0..tables.len())
                .map(|i| {
                    hidden[i].then(|| {
                        let floor = tables.floor(i);
                        problem.add_var(if i == figure { 1.0 } else { 0.0 }, (floor, 1e6))
                    })
                })
                .collect();
            for equation in &tables.equations {
                let mut terms = Vec::new();
                let mut constant = 0.0;
                for &(f, c) in equation {
                    match vars[f] {
                        Some(v) => terms.push((v, c as f64)),
                        None => constant += c as f64 * tables.value(f) as f64,
                    }
                }
                if terms.is_empty() {
                    assert!(constant.abs() < 1e-9, "published figures disagree");
                    continue;
                }
                problem.add_constraint(terms.as_slice(), ComparisonOp::Eq, -constant);
            }
            problem
                .solve()
                .expect("the true values are a solution")
                .into_solution()
                .expect("solved")
                .objective()
        };
        (
            solve(OptimizationDirection::Minimize),
            solve(OptimizationDirection::Maximize),
        )
    }

    fn leaks(tables: &LinkedTables, protection: &Protection, k: u64) -> Vec<(usize, f64, f64)> {
        (0..tables.len())
            .filter(|&i| protection.hidden[i] && tables.status_of(i) != Status::Unpublished)
            .filter_map(|i| {
                let (low, high) = bounds(tables, &protection.hidden, i);
                (high - low < 0.5 || high < k as f64 - 0.5).then_some((i, low, high))
            })
            .collect()
    }

    /// A one-dimensional table with its total; returns (total, cells).
    fn line(tables: &mut LinkedTables, values: &[u64]) -> (usize, Vec<usize>) {
        let cells: Vec<usize> = values
            .iter()
            .map(|&v| tables.figure(v, Status::Free))
            .collect();
        let total = tables.figure(values.iter().sum(), Status::Free);
        tables.sum(total, &cells);
        (total, cells)
    }

    #[test]
    fn a_lone_hidden_region_behind_a_published_total_is_not_left_alone() {
        // 75 = 3, 92 = 5 (région 11), 13 = 30 (région 93): by département
        // and by région, sharing the total.
        let mut t = LinkedTables::new();
        let (total, deps) = line(&mut t, &[3, 5, 30]);
        let idf = t.figure(8, Status::Free);
        let paca = t.figure(30, Status::Free);
        t.sum(total, &[idf, paca]);
        t.sum(idf, &[deps[0], deps[1]]);
        t.sum(paca, &[deps[2]]);
        let protection = t.protect(MinCell::DEFAULT);
        assert!(protection.hidden[idf], "8 is a small count");
        assert_eq!(leaks(&t, &protection, 11), vec![]);
        assert!(protection.unresolved.is_empty());
    }

    #[test]
    fn a_total_published_by_another_table_does_not_pin_small_cells() {
        // One referral in each of 11 départements; the total is also the
        // total of a gender table (6 and 5).
        let mut t = LinkedTables::new();
        let (total, _) = line(&mut t, &[1; 11]);
        let girls = t.figure(6, Status::Free);
        let boys = t.figure(5, Status::Free);
        t.sum(total, &[girls, boys]);
        let protection = t.protect(MinCell::DEFAULT);
        assert!(protection.hidden[total]);
        assert_eq!(leaks(&t, &protection, 11), vec![]);
    }

    #[test]
    fn measures_that_add_up_are_protected_together() {
        // received = accepted + declined + redirected + undecided, by
        // département (75, 93) and in total.
        let mut t = LinkedTables::new();
        let (received, r) = line(&mut t, &[15, 25]);
        let (accepted, a) = line(&mut t, &[12, 11]);
        let (declined, d) = line(&mut t, &[3, 14]);
        let (redirected, x) = line(&mut t, &[0, 0]);
        let (undecided, u) = {
            let cells = vec![
                t.figure(0, Status::Unpublished),
                t.figure(0, Status::Unpublished),
            ];
            let total = t.figure(0, Status::Unpublished);
            t.sum(total, &cells);
            (total, cells)
        };
        for i in 0..2 {
            t.sum(r[i], &[a[i], d[i], x[i], u[i]]);
        }
        t.sum(received, &[accepted, declined, redirected, undecided]);
        let protection = t.protect(MinCell::DEFAULT);
        assert!(protection.hidden[d[0]]);
        assert_eq!(leaks(&t, &protection, 11), vec![]);
    }

    #[test]
    fn equations_the_counts_do_not_satisfy_are_reported() {
        let mut t = LinkedTables::new();
        let (total, _) = line(&mut t, &[3, 20]);
        let other = t.figure(22, Status::Free);
        t.sum(other, &[total]);
        assert_eq!(t.protect(MinCell::DEFAULT).inconsistent, 1);
        let mut t = LinkedTables::new();
        line(&mut t, &[3, 20]);
        assert_eq!(t.protect(MinCell::DEFAULT).inconsistent, 0);
    }

    #[test]
    fn fixed_figures_stay_as_they_are() {
        let mut t = LinkedTables::new();
        let a = t.figure(3, Status::Free);
        let b = t.figure(40, Status::Published);
        let c = t.figure(20, Status::Free);
        let total = t.figure(63, Status::Free);
        t.sum(total, &[a, b, c]);
        let protection = t.protect(MinCell::DEFAULT);
        assert!(!protection.hidden[b]);
        assert!(protection.hidden[a] && (protection.hidden[c] || protection.hidden[total]));
        assert_eq!(leaks(&t, &protection, 11), vec![]);
    }

    /// A months × categories table with quarter and year rows, category
    /// totals and a total column: the time hierarchy of the API.
    fn year_table(t: &mut LinkedTables, months: &[Vec<u64>]) -> Vec<Vec<usize>> {
        let columns = months.first().map_or(0, Vec::len);
        let mut rows: Vec<Vec<usize>> = months
            .iter()
            .map(|row| {
                let (total, mut cells) = line(t, row);
                cells.push(total);
                cells
            })
            .collect();
        // A row of sums of `members`' rows, priced `weight`, with its total.
        let sum_rows = |t: &mut LinkedTables, members: &[&Vec<usize>], weight: f64| {
            let sums: Vec<usize> = (0..=columns)
                .map(|j| {
                    let parts: Vec<usize> = members.iter().map(|r| r[j]).collect();
                    let value = parts.iter().map(|&p| t.value(p)).sum();
                    let figure = t.figure(value, Status::Free);
                    t.weigh(figure, weight);
                    t.sum(figure, &parts);
                    figure
                })
                .collect();
            let (cells, total) = sums.split_at(columns);
            t.sum(total[0], cells);
            sums
        };
        let coarse: Vec<Vec<usize>> = (0..months.len().div_ceil(3))
            .map(|quarter| {
                let members: Vec<&Vec<usize>> = rows.iter().skip(quarter * 3).take(3).collect();
                sum_rows(t, &members, 2.0)
            })
            .collect();
        let year = sum_rows(t, &coarse.iter().collect::<Vec<_>>(), 4.0);
        rows.extend(coarse);
        rows.push(year);
        rows
    }

    #[test]
    fn one_small_month_does_not_hide_the_year() {
        let mut months = vec![vec![20u64]; 12];
        months[0] = vec![5];
        let mut t = LinkedTables::new();
        let rows = year_table(&mut t, &months);
        let protection = t.protect(MinCell::DEFAULT);
        assert_eq!(leaks(&t, &protection, 11), vec![]);
        let hidden_months = rows[..12]
            .iter()
            .filter(|r| protection.hidden[r[1]])
            .count();
        assert!(hidden_months <= 2, "{hidden_months} months hidden");
    }

    #[test]
    fn a_small_column_every_month_leaves_the_year_published() {
        let months = vec![vec![4u64, 16]; 12];
        let mut t = LinkedTables::new();
        let rows = year_table(&mut t, &months);
        let protection = t.protect(MinCell::DEFAULT);
        assert_eq!(leaks(&t, &protection, 11), vec![]);
        let year = &rows[16];
        assert!(
            year.iter().all(|&f| !protection.hidden[f]),
            "the year [48, 192, 240] is safe to publish"
        );
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(48))]
        #[test]
        fn no_hidden_figure_can_be_narrowed(
            months in prop::collection::vec(prop::collection::vec(0u64..25, 3), 3..=12),
            k in 3u64..12,
        ) {
            let mut t = LinkedTables::new();
            year_table(&mut t, &months);
            let k = MinCell::new(k).expect("≥ 3");
            let protection = t.protect(k);
            prop_assert!(protection.unresolved.is_empty());
            prop_assert_eq!(leaks(&t, &protection, k.get()), vec![]);
            // Every small count is hidden.
            for i in 0..t.len() {
                if (1..k.get()).contains(&t.value(i)) {
                    prop_assert!(protection.hidden[i]);
                }
                if t.value(i) == 0 {
                    prop_assert!(!protection.hidden[i]);
                }
            }
        }
    }
}
