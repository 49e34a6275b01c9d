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
//! 0, and `h` takes the required value. An intruder's linear programme
//! over all published figures therefore finds `h`'s interval to contain
//! both `v` and the certificate's value.
//!
//! The whole system is one *elastic* linear programme: each published free
//! figure may leave its value at a price per unit (its weight: cells before
//! totals, months before quarters before the year; figures priced at least
//! [`PRECIOUS`] move only when nothing else will do), and the objective is
//! that price. It is solved once; each certificate is then a bound change
//! (`h` fixed at its goal) re-solved by the dual simplex from the previous
//! basis, which costs a few pivots where a programme built anew would cost
//! a whole solve. At price 0 the solution is `h`'s certificate as it
//! stands; above 0, the published figures that moved are the cheapest
//! complements: they are hidden (freed in the programme) and `h` is fixed
//! again, now at price 0. Every certificate also certifies the other hidden
//! figures it brings to their goal. Hiding a figure never invalidates a
//! certificate already found (the old solution, with the newly hidden
//! figure at its true value ≥ 1, still holds), so every hidden figure is
//! checked once, in order, and the result is deterministic.
//!
//! Figures can be fixed: already published (a frozen release) or already
//! hidden. Fixed published figures are never hidden; their equations are
//! protected by hiding free figures.

use microlp::{ComparisonOp, OptimizationDirection, Problem, Variable};

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

/// A figure priced at least this much is hidden only when nothing else
/// will do.
pub const PRECIOUS: f64 = 10.0;

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
        let inconsistent = self.inconsistent();
        let pending = |i: usize, hidden: &[bool]| {
            hidden.get(i).copied().unwrap_or(false) && self.status_of(i) != Status::Unpublished
        };
        let mut model = match Model::new(self, &hidden) {
            Some(model) if inconsistent == 0 => model,
            // No solution keeps every published figure: no certificate.
            _ => {
                return Protection {
                    unresolved: (0..n).filter(|&i| pending(i, &hidden)).collect(),
                    hidden,
                    programmes: 1,
                    inconsistent,
                };
            }
        };
        let mut certified = vec![false; n];
        let mut unresolved = Vec::new();
        let mut next = 0;
        while next < n {
            let h = next;
            if !pending(h, &hidden) || certified.get(h).copied().unwrap_or(true) {
                next += 1;
                continue;
            }
            match model.certify(self, h, k) {
                Some((moved, values)) => {
                    for f in moved {
                        if let Some(slot) = hidden.get_mut(f) {
                            *slot = true;
                        }
                        // Hidden earlier than `h`: look at it again.
                        next = next.min(f);
                    }
                    self.mark(&values, &hidden, &mut certified, k);
                }
                None => unresolved.push(h),
            }
            if let Some(slot) = certified.get_mut(h) {
                *slot = true;
            }
        }
        Protection {
            hidden,
            unresolved,
            programmes: model.programmes,
            inconsistent,
        }
    }

    /// The goal of a hidden figure's certificate: a small count must be
    /// able to reach k; any other figure must be able to leave its value.
    fn goals(&self, figure: usize, k: MinCell) -> Vec<f64> {
        let value = self.value(figure);
        let mut goals = vec![k.get().max(value + 1) as f64];
        if value >= k.get() && value > 1 && (value - 1) as f64 >= self.floor(figure) {
            goals.push((value - 1) as f64);
        }
        goals
    }

    /// Marks every hidden figure a certificate also certifies: a small
    /// count that reaches k in it, any other figure that left its value.
    fn mark(&self, values: &[Option<f64>], hidden: &[bool], certified: &mut [bool], k: MinCell) {
        for (figure, slot) in certified.iter_mut().enumerate() {
            let Some(Some(x)) = values.get(figure).copied() else {
                continue;
            };
            if !hidden.get(figure).copied().unwrap_or(false) {
                continue;
            }
            let value = self.value(figure);
            let ok = if value < k.get() {
                x >= k.get() as f64 - TOLERANCE
            } else {
                (x - value as f64).abs() > 0.5
            };
            *slot |= ok;
        }
    }
}

/// Slack allowed for the solver's round-off.
const TOLERANCE: f64 = 1e-6;
/// How much more than its weight a precious figure costs to move: it moves
/// only when nothing else will do.
const PRECIOUS_FACTOR: f64 = 1000.0;

/// The whole system as one linear programme, solved once and then edited:
/// each certificate is a bound change re-solved from the previous basis
/// (microlp's dual simplex), not a programme built anew.
///
/// Every figure that may move is a variable: hidden figures (≥ 1,
/// unpublished ones ≥ 0) and published free ones. A published free figure
/// `x` is bound to its value by `x − up + down − release = value`, where
/// `up` and `down` cost its weight per unit and `release` is held at 0
/// until the figure is hidden (then it is free, and `x` with it). The
/// objective is the price of published figures leaving their values: 0 at
/// every certificate; above 0, the figures that moved are the complements
/// whose hiding gives one.
struct Model {
    solution: microlp::Solution,
    /// Each figure's variable; `None` for a published constant.
    x: Vec<Option<Variable>>,
    /// A published free figure's (up, down, release).
    elastic: Vec<Option<(Variable, Variable, Variable)>>,
    programmes: usize,
}

impl Model {
    fn new(tables: &LinkedTables, hidden: &[bool]) -> Option<Self> {
        let mut problem = Problem::new(OptimizationDirection::Minimize);
        let mut x = Vec::with_capacity(tables.len());
        let mut elastic = Vec::with_capacity(tables.len());
        for figure in 0..tables.len() {
            let is_hidden = hidden.get(figure).copied().unwrap_or(false);
            let movable = tables.status_of(figure) == Status::Free && tables.value(figure) > 0;
            if !is_hidden && !movable {
                x.push(None);
                elastic.push(None);
                continue;
            }
            let var = problem.add_var(0.0, (tables.floor(figure), f64::INFINITY));
            x.push(Some(var));
            if is_hidden {
                elastic.push(None);
                continue;
            }
            let weight = tables.weights.get(figure).copied().unwrap_or(1.0);
            let price = if weight >= PRECIOUS {
                weight * PRECIOUS_FACTOR
            } else {
                weight
            };
            let up = problem.add_var(price, (0.0, f64::INFINITY));
            let down = problem.add_var(price, (0.0, f64::INFINITY));
            let release = problem.add_var(0.0, (f64::NEG_INFINITY, f64::INFINITY));
            problem.add_constraint(
                [(var, 1.0), (up, -1.0), (down, 1.0), (release, -1.0)].as_slice(),
                ComparisonOp::Eq,
                tables.value(figure) as f64,
            );
            elastic.push(Some((up, down, release)));
        }
        for equation in &tables.equations {
            let mut terms = Vec::with_capacity(equation.len());
            let mut constant = 0.0;
            for &(figure, coefficient) in equation {
                match x.get(figure).copied().flatten() {
                    Some(var) => terms.push((var, coefficient as f64)),
                    None => constant += coefficient as f64 * tables.value(figure) as f64,
                }
            }
            if !terms.is_empty() {
                problem.add_constraint(terms.as_slice(), ComparisonOp::Eq, -constant);
            }
        }
        let mut solution = problem.solve().ok()?.into_solution().ok()?;
        // Published figures are held at their values.
        for &(_, _, release) in elastic.iter().flatten() {
            solution = solution.fix_var(release, 0.0).ok()?.into_solution().ok()?;
        }
        (solution.objective() <= TOLERANCE).then_some(Self {
            solution,
            x,
            elastic,
            programmes: 1,
        })
    }

    /// A certificate for `h`: the figures to hide as well (none, mostly)
    /// and every figure's value in it; `None` when there is none. The model
    /// is left as it was unless a certificate is found.
    fn certify(&mut self, tables: &LinkedTables, h: usize, k: MinCell) -> Option<Complements> {
        let var = self.x.get(h).copied().flatten()?;
        // The cheapest goal; one that needs no complement at once.
        let mut best: Option<(f64, microlp::Solution)> = None;
        for goal in tables.goals(h, k) {
            self.programmes += 1;
            let Some(solution) = fix(self.solution.clone(), var, goal) else {
                continue;
            };
            if best
                .as_ref()
                .is_none_or(|(_, b)| solution.objective() < b.objective() - TOLERANCE)
            {
                best = Some((goal, solution));
            }
            if best
                .as_ref()
                .is_some_and(|(_, b)| b.objective() <= TOLERANCE)
            {
                break;
            }
        }
        let (goal, mut solution) = best?;
        // The figures that moved are hidden, which frees them; then `h` is
        // brought to its goal again, now at no price. Freeing them may let
        // the solver move others instead: then those too, a few rounds at
        // most.
        let mut moved = Vec::new();
        let mut released = self.solution.clone();
        let mut elastic = self.elastic.clone();
        for _ in 0..ROUNDS {
            if solution.objective() <= TOLERANCE {
                break;
            }
            for (figure, parts) in elastic.iter_mut().enumerate() {
                let Some((up, down, release)) = *parts else {
                    continue;
                };
                if solution.var_value(up) + solution.var_value(down) > TOLERANCE {
                    moved.push(figure);
                    *parts = None;
                    self.programmes += 1;
                    released = released.unfix_var(release).ok()?.0.into_solution().ok()?;
                }
            }
            self.programmes += 1;
            solution = fix(released.clone(), var, goal)?;
        }
        if solution.objective() > TOLERANCE {
            return None;
        }
        let values = self
            .x
            .iter()
            .map(|v| v.map(|v| solution.var_value(v)))
            .collect();
        // The next certificate starts from this one, `h` set free again
        // (a warmer start than the model before it was fixed).
        self.programmes += 1;
        self.solution = solution.unfix_var(var).ok()?.0.into_solution().ok()?;
        self.elastic = elastic;
        Some((moved, values))
    }
}

/// Rounds of complements one certificate may take (one, but for round-off).
const ROUNDS: usize = 4;

/// `solution` re-solved with `var` fixed at `value`.
fn fix(solution: microlp::Solution, var: Variable, value: f64) -> Option<microlp::Solution> {
    solution.fix_var(var, value).ok()?.into_solution().ok()
}

/// Figures to hide as well, and every figure's value in the certificate
/// their hiding gives.
type Complements = (Vec<usize>, Vec<Option<f64>>);

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
