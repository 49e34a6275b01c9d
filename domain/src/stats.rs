//! Statistics safe to publish.
//!
//! Counts from 1 to k − 1 (k = [`MinCell`], 11 by default, never below 3)
//! are small groups of people: they are withheld, and so are as many other
//! figures as it takes for no withheld figure to be recovered or proved
//! small by combining everything published. Everything published about a
//! year is protected as one system of linked tables: see [`linked`], and
//! docs/STATISTICS.md for the guarantee and its limits.

pub mod linked;

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn threshold_has_a_floor_and_a_default() {
        assert_eq!(MinCell::default().get(), 11);
        assert!(MinCell::new(2).is_err());
        assert_eq!(MinCell::new(3).unwrap().get(), 3);
        assert!(MinCell::DEFAULT.is_small(10) && !MinCell::DEFAULT.is_small(11));
        assert!(!MinCell::DEFAULT.is_small(0), "zeros are published");
    }
}
