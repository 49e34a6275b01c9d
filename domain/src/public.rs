//! Public information: the directory's categories, search keys that ignore
//! accents and case, great-circle distances for the map, and which team
//! answers in which département.

use std::fmt;
use std::str::FromStr;

use crate::identity::{StringEnum, UnknownValue, string_enum};

string_enum!(
    /// What a directory entry offers (fixed list).
    DirectoryCategory, "directory category" {
        LegalAid => "legal_aid",
        Lawyer => "lawyer",
        Psychologist => "psychologist",
        Health => "health",
        Association => "association",
        Helpline => "helpline",
        Justice => "justice",
        Police => "police",
        SocialServices => "social_services",
        Other => "other",
    }
);

/// The text folded for search: lower case, accents removed, every run of
/// other characters one space ("Seine-Saint-Denis" → "seine saint denis").
pub fn search_key(text: &str) -> String {
    let mut key = String::with_capacity(text.len());
    let mut space = true;
    for c in text.chars().flat_map(char::to_lowercase) {
        let folded: &str = match c {
            'à' | 'â' | 'ä' | 'á' | 'ã' | 'å' => "a",
            'ç' => "c",
            'é' | 'è' | 'ê' | 'ë' => "e",
            'î' | 'ï' | 'í' | 'ì' => "i",
            'ô' | 'ö' | 'ó' | 'ò' | 'õ' => "o",
            'û' | 'ü' | 'ú' | 'ù' => "u",
            'ÿ' | 'ý' => "y",
            'ñ' => "n",
            'œ' => "oe",
            'æ' => "ae",
            _ if c.is_alphanumeric() => {
                key.push(c);
                space = false;
                continue;
            }
            _ => {
                if !space {
                    key.push(' ');
                    space = true;
                }
                continue;
            }
        };
        key.push_str(folded);
        space = false;
    }
    key.trim_end().to_owned()
}

/// Whether every word of `query` appears in `key` (both search keys).
pub fn matches(key: &str, query: &str) -> bool {
    query
        .split(' ')
        .filter(|w| !w.is_empty())
        .all(|w| key.contains(w))
}

/// Mean Earth radius (km, IUGG).
const EARTH_RADIUS_KM: f64 = 6371.0088;

/// Great-circle distance in kilometres between two WGS 84 points (haversine).
pub fn great_circle_km(lat1: f64, lon1: f64, lat2: f64, lon2: f64) -> f64 {
    let (p1, p2) = (lat1.to_radians(), lat2.to_radians());
    let dp = (lat2 - lat1).to_radians();
    let dl = (lon2 - lon1).to_radians();
    let a = (dp / 2.0).sin().powi(2) + p1.cos() * p2.cos() * (dl / 2.0).sin().powi(2);
    2.0 * EARTH_RADIUS_KM * a.sqrt().clamp(0.0, 1.0).asin()
}

/// Why a directory entry's coverage was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CoverageError {
    /// A national entry listing départements.
    #[error("a national entry lists no départements")]
    NationalWithDepartements,
    /// Neither national nor any département.
    #[error("name the départements served, or mark the entry national")]
    NoCoverage,
}

/// An entry serves the whole country or named départements, never both.
pub fn check_coverage(national: bool, departements: usize) -> Result<(), CoverageError> {
    match (national, departements) {
        (true, 0) | (false, 1..) => Ok(()),
        (true, _) => Err(CoverageError::NationalWithDepartements),
        (false, 0) => Err(CoverageError::NoCoverage),
    }
}

/// The key under which contacts are stored for the whole country.
pub const NATIONAL: &str = "national";

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn search_keys_ignore_accents_case_and_punctuation() {
        assert_eq!(search_key("Seine-Saint-Denis"), "seine saint denis");
        assert_eq!(
            search_key("  Hôpital  d'Évry — Œuvre "),
            "hopital d evry oeuvre"
        );
        assert_eq!(search_key("CIDFF 93"), "cidff 93");
        assert!(matches(
            &search_key("Maison des adolescents de Seine-Saint-Denis"),
            &search_key("seine saint denis")
        ));
        assert!(matches(
            &search_key("Aide juridique, Évry"),
            &search_key("EVRY aide")
        ));
        assert!(!matches(
            &search_key("Aide juridique"),
            &search_key("avocat")
        ));
    }

    #[test]
    fn coverage_is_national_or_named() {
        assert_eq!(check_coverage(true, 0), Ok(()));
        assert_eq!(check_coverage(false, 2), Ok(()));
        assert_eq!(
            check_coverage(true, 1),
            Err(CoverageError::NationalWithDepartements)
        );
        assert_eq!(check_coverage(false, 0), Err(CoverageError::NoCoverage));
    }

    #[test]
    fn distances_match_known_ones() {
        // Paris (Notre-Dame) to Marseille (Vieux-Port): about 661 km.
        let d = great_circle_km(48.853, 2.3499, 43.2951, 5.3745);
        assert!((d - 661.0).abs() < 3.0, "{d}");
        assert!(great_circle_km(48.0, 2.0, 48.0, 2.0).abs() < 1e-9);
    }

    proptest! {
        #[test]
        fn search_keys_are_idempotent_and_plain(text in "\\\\PC{0,40}") {
            let key = search_key(&text);
            prop_assert_eq!(search_key(&key), key.clone());
            prop_assert!(!key.starts_with(' ') && !key.ends_with(' ') && !key.contains("  "));
        }

        #[test]
        fn distance_is_symmetric_and_bounded(
            a in -90.0f64..90.0, b in -180.0f64..180.0, c in -90.0f64..90.0, d in -180.0f64..180.0
        ) {
            let x = great_circle_km(a, b, c, d);
            let y = great_circle_km(c, d, a, b);
            prop_assert!((x - y).abs() < 1e-6);
            prop_assert!((0.0..=20016.0).contains(&x));
        }
    }
}
