//! Free text typed by people: names, titles, reasons.
//!
//! A request's schema can require characters, but JSON Schema's white space
//! (`\s`) is not Unicode's: a name of only U+0085 or U+3000 passes the
//! schema and says nothing. The rule is decided here, once, for every
//! trimmed text field.

/// `value` without its surrounding white space (Unicode's, as
/// [`str::trim`]), refused when fewer than `min` characters are left.
pub fn meaningful(value: &str, min: usize) -> Result<&str, Blank> {
    let trimmed = value.trim();
    if trimmed.chars().count() < min.max(1) {
        return Err(Blank { min: min.max(1) });
    }
    Ok(trimmed)
}

/// A text with too few characters once white space is removed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("needs {min} character(s) other than surrounding white space")]
pub struct Blank {
    /// Characters required.
    pub min: usize,
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn white_space_of_any_kind_says_nothing() {
        for blank in [
            "",
            " ",
            "\t\n",
            "\u{85}",
            "\u{3000}\u{2003}",
            "\u{a0} \u{2028}",
        ] {
            assert_eq!(meaningful(blank, 1), Err(Blank { min: 1 }), "{blank:?}");
        }
        assert_eq!(meaningful("  Ana\u{85}", 1), Ok("Ana"));
        assert_eq!(meaningful(" Jean Marc ", 1), Ok("Jean Marc"));
        // Characters, not bytes.
        assert_eq!(meaningful("  été  ", 3), Ok("été"));
        assert_eq!(meaningful("  été  ", 4), Err(Blank { min: 4 }));
        // Nothing is never meaningful, whatever the minimum asked.
        assert_eq!(meaningful(" ", 0), Err(Blank { min: 1 }));
    }

    proptest! {
        #[test]
        fn kept_text_is_trimmed_and_long_enough(value in "\\PC{0,12}", pad in "[ \t\u{85}\u{a0}\u{3000}]{0,3}", min in 0_usize..6) {
            let padded = format!("{pad}{value}{pad}");
            match meaningful(&padded, min) {
                Ok(kept) => {
                    prop_assert_eq!(kept, kept.trim());
                    prop_assert!(kept.chars().count() >= min.max(1));
                    prop_assert!(padded.contains(kept));
                }
                Err(blank) => prop_assert!(padded.trim().chars().count() < blank.min),
            }
        }
    }
}
