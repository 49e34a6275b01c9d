//! French territorial codes (INSEE): départements and regions.

use std::fmt;

/// An INSEE département code, well formed: two digits (`"75"`), `"2A"` or
/// `"2B"` (Corsica), or three digits starting with `97` or `98` (overseas,
/// `"971"`).
///
/// A well-formed code need not name an existing département (`"20"` and
/// `"96"` are well formed but unknown): existence is reference data, looked
/// up by the caller.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DepartementCode(String);

/// Why a string is not a département code.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error(
    "a département code is two digits (\"75\"), \"2A\" or \"2B\" for Corsica, \
     or three digits starting with 97 or 98 for overseas (\"971\")"
)]
pub struct DepartementCodeError;

impl DepartementCode {
    /// Parses a code; letters of the Corsican codes may be lower case
    /// (`"2a"` gives `"2A"`).
    pub fn parse(input: &str) -> Result<Self, DepartementCodeError> {
        let bytes = input.as_bytes();
        let well_formed = match bytes {
            [a, b] => {
                (a.is_ascii_digit() && b.is_ascii_digit())
                    || (*a == b'2' && matches!(b.to_ascii_uppercase(), b'A' | b'B'))
            }
            [b'9', b'7' | b'8', c] => c.is_ascii_digit(),
            _ => false,
        };
        if well_formed {
            Ok(Self(input.to_ascii_uppercase()))
        } else {
            Err(DepartementCodeError)
        }
    }

    /// The code as INSEE writes it.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether the département is overseas (code starting with 97 or 98).
    pub fn is_overseas(&self) -> bool {
        self.0.len() == 3
    }
}

impl fmt::Display for DepartementCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<&str> for DepartementCode {
    type Error = DepartementCodeError;
    fn try_from(value: &str) -> Result<Self, Self::Error> {
        Self::parse(value)
    }
}

impl AsRef<str> for DepartementCode {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

/// An INSEE region code: two digits (`"11"` for Île-de-France).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RegionCode(String);

/// Why a string is not a region code.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("a region code is two digits (\"11\" for Île-de-France)")]
pub struct RegionCodeError;

impl RegionCode {
    /// Parses a two-digit region code.
    pub fn parse(input: &str) -> Result<Self, RegionCodeError> {
        match input.as_bytes() {
            [a, b] if a.is_ascii_digit() && b.is_ascii_digit() => Ok(Self(input.to_owned())),
            _ => Err(RegionCodeError),
        }
    }

    /// The code as INSEE writes it.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for RegionCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn accepts_metropolitan_corsican_and_overseas_codes() {
        for code in ["01", "75", "93", "95", "2A", "2B", "971", "976"] {
            assert_eq!(
                DepartementCode::parse(code).map(|c| c.to_string()),
                Ok(code.to_owned())
            );
        }
    }

    #[test]
    fn normalises_corsican_letters() {
        assert_eq!(
            DepartementCode::parse("2a").map(|c| c.to_string()),
            Ok("2A".to_owned())
        );
        assert_eq!(
            DepartementCode::parse("2b").map(|c| c.to_string()),
            Ok("2B".to_owned())
        );
    }

    #[test]
    fn well_formed_unknown_codes_parse() {
        // Existence is reference data: these are well formed, the caller answers 404.
        for code in ["00", "20", "96", "975", "988"] {
            assert!(DepartementCode::parse(code).is_ok(), "{code}");
        }
    }

    #[test]
    fn rejects_malformed_codes() {
        for code in [
            "", "7", "750", "2C", "3A", "A2", "9A", "961", "9710", " 75", "75 ", "７５", "é5",
        ] {
            assert_eq!(
                DepartementCode::parse(code),
                Err(DepartementCodeError),
                "{code:?}"
            );
        }
    }

    #[test]
    fn overseas_is_three_digits() {
        assert_eq!(
            DepartementCode::parse("974").map(|c| c.is_overseas()),
            Ok(true)
        );
        assert_eq!(
            DepartementCode::parse("2A").map(|c| c.is_overseas()),
            Ok(false)
        );
    }

    #[test]
    fn region_codes() {
        assert!(RegionCode::parse("11").is_ok());
        assert!(RegionCode::parse("01").is_ok());
        for code in ["", "1", "111", "1A", "ïl"] {
            assert_eq!(RegionCode::parse(code), Err(RegionCodeError), "{code:?}");
        }
    }

    proptest! {
        #[test]
        fn parse_is_stable(s in "\\PC{0,5}") {
            if let Ok(code) = DepartementCode::parse(&s) {
                // What parses is upper case, re-parses to itself, and is 2 or 3 characters.
                prop_assert_eq!(DepartementCode::parse(code.as_str()), Ok(code.clone()));
                prop_assert!(matches!(code.as_str().len(), 2 | 3));
                prop_assert_eq!(code.as_str(), s.to_ascii_uppercase());
            }
        }

        #[test]
        fn every_two_digit_string_parses(n in 0u8..100) {
            let s = format!("{n:02}");
            prop_assert_eq!(DepartementCode::parse(&s).map(|c| c.to_string()), Ok(s));
        }
    }
}
