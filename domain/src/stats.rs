//! Statistics safe to publish: small-cell suppression with complementary
//! suppression.
//!
//! A table of counts (rows × columns, a one-dimensional table being one
//! column) is published with its row totals, column totals and grand total.
//!
//! * **Primary suppression.** Every figure — cell *or total* — from 1 to k−1
//!   (k = [`MinCell`], 11 by default, never below 3) is published as `null`
//!   with `suppressed: true`. A small total is itself a small group of people.
//! * **Zeros are published.** A true zero says that nobody is in the cell; it
//!   identifies no one, and hiding zeros would hide most of a sparse table for
//!   no protection. Consequently zeros are never suppressed (neither as primary
//!   nor as complementary suppressions), and a reader knows that every
//!   suppressed figure is at least 1; the protection below accounts for it.
//! * **Complementary suppression.** Published figures obey linear equations
//!   (every row and every column sums to its total, totals sum to the grand
//!   total). Writing the table with its margins as an extended grid, and
//!   negating the row and column totals, every line of the grid sums to zero:
//!   each figure lies on exactly one row-line and one column-line. The
//!   suppressed figures form the edges of a bipartite graph (row-lines ×
//!   column-lines). A suppressed figure is *protected* when it lies on a cycle
//!   of suppressed figures along which the values can be moved by ±1
//!   (alternately) while every suppressed figure stays ≥ 1: then another table
//!   with the same published numbers exists in which this figure differs, so
//!   no combination of published numbers (subtraction from a total, sums of
//!   rows, totals of totals) recovers it. Figures are suppressed, smallest
//!   first along the unprotected figure's lines, until every suppressed figure
//!   is protected. In particular each line with a published total hides either
//!   nothing or at least two figures.
//!
//! What this does not protect against: an attacker who knows the algorithm
//! and reasons about *which* figure was chosen as a complement, and
//! differencing between overlapping tables (e.g. two periods that overlap).
//! The API only offers disjoint calendar periods.

pub mod linked;

use std::collections::VecDeque;

/// The smallest count published: counts from 1 to `k − 1` are suppressed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MinCell(u64);

/// A threshold below the floor.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("the statistics threshold must be at least {floor}, got {got}", floor = MinCell::FLOOR)]
pub struct MinCellError {
    /// The value refused.
    pub got: u64,
}

impl MinCell {
    /// The default threshold (11: counts 1 to 10 are suppressed).
    pub const DEFAULT: Self = Self(11);
    /// The lowest threshold allowed.
    pub const FLOOR: u64 = 3;

    /// A threshold of at least [`Self::FLOOR`].
    pub fn new(k: u64) -> Result<Self, MinCellError> {
        if k < Self::FLOOR {
            Err(MinCellError { got: k })
        } else {
            Ok(Self(k))
        }
    }

    /// k.
    pub fn get(self) -> u64 {
        self.0
    }

    fn is_small(self, value: u64) -> bool {
        value >= 1 && value < self.0
    }
}

impl Default for MinCell {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// One published figure: its value, or `None` with `suppressed` set.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cell {
    /// The count, when published.
    pub value: Option<u64>,
    /// Whether the count is withheld.
    pub suppressed: bool,
}

impl Cell {
    fn new(value: u64, suppressed: bool) -> Self {
        if suppressed {
            Self {
                value: None,
                suppressed: true,
            }
        } else {
            Self {
                value: Some(value),
                suppressed: false,
            }
        }
    }
}

/// A table ready to publish.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Published {
    /// Cells, row by row.
    pub cells: Vec<Vec<Cell>>,
    /// One total per row.
    pub row_totals: Vec<Cell>,
    /// One total per column.
    pub column_totals: Vec<Cell>,
    /// The grand total.
    pub total: Cell,
}

/// The extended grid: `rows + 1` × `columns + 1`, the last column holding
/// row totals, the last row column totals, the corner the grand total.
#[derive(Clone, Debug)]
pub struct Grid {
    rows: usize,
    columns: usize,
    values: Vec<u64>,
}

impl Grid {
    /// The extended grid of a table of counts (short rows are padded with 0).
    pub fn new(counts: &[Vec<u64>]) -> Self {
        let rows = counts.len();
        let columns = counts.iter().map(Vec::len).max().unwrap_or(0).max(1);
        let width = columns + 1;
        let mut values = vec![0_u64; (rows + 1) * width];
        for (i, row) in counts.iter().enumerate() {
            for (j, &v) in row.iter().enumerate() {
                for (r, c) in [(i, j), (i, columns), (rows, j), (rows, columns)] {
                    if let Some(slot) = values.get_mut(r * width + c) {
                        *slot = slot.saturating_add(v);
                    }
                }
            }
        }
        Self {
            rows,
            columns,
            values,
        }
    }

    /// Rows of the extended grid (table rows + the column-totals row).
    pub fn height(&self) -> usize {
        self.rows + 1
    }

    /// Columns of the extended grid (table columns + the row-totals column).
    pub fn width(&self) -> usize {
        self.columns + 1
    }

    /// The figure at (r, c) of the extended grid.
    pub fn value(&self, r: usize, c: usize) -> u64 {
        self.values.get(r * self.width() + c).copied().unwrap_or(0)
    }

    /// Whether (r, c) is a row total or a column total (not the grand total):
    /// its sign is negated in the zero-sum form.
    pub fn negated(&self, r: usize, c: usize) -> bool {
        (r == self.rows) != (c == self.columns)
    }
}

/// Which figures of the extended grid to suppress (row-major, same shape as
/// [`Grid`]).
pub fn suppression_mask(grid: &Grid, k: MinCell) -> Vec<bool> {
    let (h, w) = (grid.height(), grid.width());
    let mut mask: Vec<bool> = grid.values.iter().map(|&v| k.is_small(v)).collect();
    let mut queue: VecDeque<usize> = (0..h * w)
        .filter(|&i| mask.get(i).copied().unwrap_or(false))
        .collect();
    while let Some(e) = queue.pop_front() {
        loop {
            if protected(grid, &mask, e) {
                break;
            }
            match complement_for(grid, &mask, e) {
                Some(extra) => {
                    if let Some(m) = mask.get_mut(extra) {
                        *m = true;
                    }
                    queue.push_back(extra);
                }
                // Every non-zero figure is suppressed: nothing more can be hidden.
                None => break,
            }
        }
    }
    mask
}

/// Suppress small counts and their complements.
pub fn publish(counts: &[Vec<u64>], k: MinCell) -> Published {
    let grid = Grid::new(counts);
    let mask = suppression_mask(&grid, k);
    let w = grid.width();
    let cell = |r: usize, c: usize| {
        Cell::new(
            grid.value(r, c),
            mask.get(r * w + c).copied().unwrap_or(true),
        )
    };
    let columns = counts.iter().map(Vec::len).max().unwrap_or(0).max(1);
    Published {
        cells: (0..grid.rows)
            .map(|r| (0..columns).map(|c| cell(r, c)).collect())
            .collect(),
        row_totals: (0..grid.rows).map(|r| cell(r, grid.columns)).collect(),
        column_totals: (0..columns).map(|c| cell(grid.rows, c)).collect(),
        total: cell(grid.rows, grid.columns),
    }
}

/// Whether the suppressed figure `e` lies on a cycle of suppressed figures
/// along which it can move (both ways are tried) keeping every figure ≥ 1.
///
/// In the zero-sum form, traversing figure (r, c) from row-line r to
/// column-line c adds 1 to it, the other way subtracts 1; a closed walk
/// alternates row- and column-lines so every line keeps summing to zero.
/// A signed step on a figure is allowed when its real value increases, or
/// when it is at least 2.
fn protected(grid: &Grid, mask: &[bool], e: usize) -> bool {
    let w = grid.width();
    let (er, ec) = (e / w, e % w);
    // +1 on e (row er → column ec), then a path from column ec back to row er.
    (can_step(grid, er, ec, true) && reaches(grid, mask, e, Node::Column(ec), Node::Row(er)))
        || (can_step(grid, er, ec, false)
            && reaches(grid, mask, e, Node::Row(er), Node::Column(ec)))
}

/// Whether adding (`up`) or subtracting 1 in the zero-sum form keeps the
/// real figure ≥ 1.
fn can_step(grid: &Grid, r: usize, c: usize, up: bool) -> bool {
    let real_up = up != grid.negated(r, c);
    real_up || grid.value(r, c) >= 2
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Node {
    Row(usize),
    Column(usize),
}

fn reaches(grid: &Grid, mask: &[bool], skip: usize, from: Node, to: Node) -> bool {
    let (h, w) = (grid.height(), grid.width());
    let mut seen_rows = vec![false; h];
    let mut seen_columns = vec![false; w];
    let mut queue = VecDeque::from([from]);
    let suppressed = |r: usize, c: usize| {
        let i = r * w + c;
        i != skip && mask.get(i).copied().unwrap_or(false)
    };
    while let Some(node) = queue.pop_front() {
        if node == to {
            return true;
        }
        match node {
            Node::Row(r) => {
                if std::mem::replace(seen_rows.get_mut(r).unwrap_or(&mut true), true) {
                    continue;
                }
                // row → column: +1 on (r, c).
                for c in 0..w {
                    if suppressed(r, c) && can_step(grid, r, c, true) {
                        queue.push_back(Node::Column(c));
                    }
                }
            }
            Node::Column(c) => {
                if std::mem::replace(seen_columns.get_mut(c).unwrap_or(&mut true), true) {
                    continue;
                }
                // column → row: −1 on (r, c).
                for r in 0..h {
                    if suppressed(r, c) && can_step(grid, r, c, false) {
                        queue.push_back(Node::Row(r));
                    }
                }
            }
        }
    }
    false
}

/// The next figure to hide for `e`: the smallest published non-zero figure
/// on e's row-line, else on its column-line, else anywhere on a line that
/// already hides something (cheapest first).
fn complement_for(grid: &Grid, mask: &[bool], e: usize) -> Option<usize> {
    let (h, w) = (grid.height(), grid.width());
    let (er, ec) = (e / w, e % w);
    let open = |i: usize| {
        !mask.get(i).copied().unwrap_or(true) && grid.values.get(i).copied().unwrap_or(0) > 0
    };
    let smallest = |candidates: &mut dyn Iterator<Item = usize>| {
        candidates
            .filter(|&i| open(i))
            .min_by_key(|&i| (grid.values.get(i).copied().unwrap_or(0), i))
    };
    smallest(&mut (0..w).map(|c| er * w + c))
        .or_else(|| smallest(&mut (0..h).map(|r| r * w + ec)))
        .or_else(|| {
            let hides_row =
                |r: usize| (0..w).any(|c| mask.get(r * w + c).copied().unwrap_or(false));
            let hides_column =
                |c: usize| (0..h).any(|r| mask.get(r * w + c).copied().unwrap_or(false));
            smallest(&mut (0..h * w).filter(|&i| hides_row(i / w) || hides_column(i % w)))
        })
        .or_else(|| smallest(&mut (0..h * w)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Whether some table of non-negative counts, with every suppressed
    /// figure ≥ 1 (zeros are published), agrees with every published number
    /// and gives figure `target` another value. Exhaustive search in a window
    /// of ±3 around the true values (a smaller window only makes finding an
    /// alternative harder, so the check is conservative).
    fn has_alternative(grid: &Grid, mask: &[bool], target: usize) -> bool {
        let (h, w) = (grid.height(), grid.width());
        let vars: Vec<usize> = (0..h * w).filter(|&i| mask[i]).collect();
        let mut assignment: Vec<Option<i64>> = (0..h * w)
            .map(|i| {
                if mask[i] {
                    None
                } else {
                    Some(grid.values[i] as i64)
                }
            })
            .collect();
        fn consistent(h: usize, w: usize, a: &[Option<i64>]) -> bool {
            // Rows: cells sum to the row total; columns likewise.
            for r in 0..h {
                let mut sum = 0;
                let mut complete = true;
                for c in 0..w - 1 {
                    match a[r * w + c] {
                        Some(v) => sum += v,
                        None => complete = false,
                    }
                }
                if let (true, Some(t)) = (complete, a[r * w + w - 1])
                    && sum != t
                {
                    return false;
                }
            }
            for c in 0..w {
                let mut sum = 0;
                let mut complete = true;
                for r in 0..h - 1 {
                    match a[r * w + c] {
                        Some(v) => sum += v,
                        None => complete = false,
                    }
                }
                if let (true, Some(t)) = (complete, a[(h - 1) * w + c])
                    && sum != t
                {
                    return false;
                }
            }
            true
        }
        fn search(
            h: usize,
            w: usize,
            grid: &Grid,
            vars: &[usize],
            a: &mut Vec<Option<i64>>,
            target: usize,
        ) -> bool {
            let Some((&v, rest)) = vars.split_first() else {
                return consistent(h, w, a);
            };
            let truth = grid.values[v] as i64;
            for candidate in (truth - 3).max(1)..=truth + 3 {
                if v == target && candidate == truth {
                    continue;
                }
                a[v] = Some(candidate);
                if consistent(h, w, a) && search(h, w, grid, rest, a, target) {
                    a[v] = None;
                    return true;
                }
            }
            a[v] = None;
            false
        }
        // The target first: its alternatives prune the most.
        let mut order = vec![target];
        order.extend(vars.iter().copied().filter(|&v| v != target));
        search(h, w, grid, &order, &mut assignment, target)
    }

    fn primary_only(grid: &Grid, k: MinCell) -> Vec<bool> {
        grid.values.iter().map(|&v| k.is_small(v)).collect()
    }

    fn k(n: u64) -> MinCell {
        MinCell::new(n).unwrap()
    }

    #[test]
    fn threshold_has_a_floor_and_a_default() {
        assert_eq!(MinCell::default().get(), 11);
        assert!(MinCell::new(2).is_err());
        assert_eq!(MinCell::new(3).unwrap().get(), 3);
    }

    #[test]
    fn large_counts_and_zeros_are_published_as_is() {
        let table = publish(&[vec![0, 12], vec![30, 0]], MinCell::DEFAULT);
        assert_eq!(table.cells[0][0], Cell::new(0, false));
        assert_eq!(table.cells[0][1].value, Some(12));
        assert_eq!(table.total.value, Some(42));
        assert!(!table.cells.iter().flatten().any(|c| c.suppressed));
    }

    /// Suppressing the small cell alone leaks it: 21 − 20 = 1.
    #[test]
    fn primary_suppression_alone_leaks_and_ours_does_not() {
        let counts = vec![vec![1, 20], vec![15, 30]];
        let grid = Grid::new(&counts);
        let naive = primary_only(&grid, MinCell::DEFAULT);
        assert!(naive[0]);
        assert!(
            !has_alternative(&grid, &naive, 0),
            "the naive table determines the hidden 1"
        );
        let ours = suppression_mask(&grid, MinCell::DEFAULT);
        for (i, &hidden) in ours.iter().enumerate() {
            if hidden {
                assert!(has_alternative(&grid, &ours, i), "figure {i} recoverable");
            }
        }
        let published = publish(&counts, MinCell::DEFAULT);
        assert!(published.cells[0][0].suppressed);
        assert_eq!(published.cells[0][0].value, None);
        // Its row and its column each hide a second figure.
        assert!(published.cells[0][1].suppressed || published.row_totals[0].suppressed);
        assert!(published.cells[1][0].suppressed || published.column_totals[0].suppressed);
    }

    /// Two hidden ones in a row with a published total: 22 − 20 = 2 = 1 + 1.
    #[test]
    fn hidden_figures_forced_to_one_are_protected() {
        let counts = vec![vec![1], vec![1], vec![20]];
        let grid = Grid::new(&counts);
        let ours = suppression_mask(&grid, k(3));
        for (i, &hidden) in ours.iter().enumerate() {
            if hidden {
                assert!(has_alternative(&grid, &ours, i), "figure {i} recoverable");
            }
        }
    }

    fn table() -> impl Strategy<Value = (Vec<Vec<u64>>, u64)> {
        (1_usize..=3, 1_usize..=3, 3_u64..=6).prop_flat_map(|(rows, columns, k)| {
            let value = prop_oneof![Just(0_u64), 1_u64..6, 1_u64..25];
            (
                proptest::collection::vec(proptest::collection::vec(value, columns), rows),
                Just(k),
            )
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(1000))]

        #[test]
        fn no_suppressed_figure_is_recoverable((counts, k) in table()) {
            let k = MinCell::new(k).unwrap();
            let grid = Grid::new(&counts);
            let mask = suppression_mask(&grid, k);
            let (h, w) = (grid.height(), grid.width());
            for (&v, &hidden) in grid.values.iter().zip(&mask) {
                // Small figures hidden, zeros shown.
                if k.is_small(v) { prop_assert!(hidden); }
                if v == 0 { prop_assert!(!hidden); }
            }
            // Lines with a published total hide 0 or ≥ 2 figures.
            for r in 0..h {
                if !mask[r * w + w - 1] {
                    let n = (0..w - 1).filter(|&c| mask[r * w + c]).count();
                    prop_assert!(n != 1, "row {r} hides exactly one figure");
                }
            }
            for c in 0..w {
                if !mask[(h - 1) * w + c] {
                    let n = (0..h - 1).filter(|&r| mask[r * w + c]).count();
                    prop_assert!(n != 1, "column {c} hides exactly one figure");
                }
            }
            // No suppressed figure has a unique value given everything published.
            for (i, &hidden) in mask.iter().enumerate() {
                if hidden {
                    prop_assert!(has_alternative(&grid, &mask, i), "figure {i} of {counts:?} recoverable");
                }
            }
            // The published table says the same.
            let published = publish(&counts, k);
            for (r, row) in published.cells.iter().enumerate() {
                for (c, cell) in row.iter().enumerate() {
                    prop_assert_eq!(cell.suppressed, mask[r * w + c]);
                    prop_assert_eq!(cell.value, (!cell.suppressed).then_some(counts[r][c]));
                }
            }
        }
    }
}
