//! Collection conventions: `?limit=&cursor=`, default 50, at most 200 (a
//! larger limit is a 400, never silently clamped), keyset pages.

/// Page size when `limit` is absent.
pub const DEFAULT_LIMIT: u32 = 50;
/// Largest accepted `limit`.
pub const MAX_LIMIT: u32 = 200;

use crate::problem::ApiError;

/// Keeps `limit` rows of `limit + 1` fetched; the cursor is the last kept
/// row's key when more remain.
pub fn page<T>(
    mut rows: Vec<T>,
    limit: u32,
    key: impl Fn(&T) -> String,
) -> (Vec<T>, Option<String>) {
    let limit = limit as usize;
    if rows.len() > limit {
        rows.truncate(limit);
        let cursor = rows.last().map(&key);
        (rows, cursor)
    } else {
        (rows, None)
    }
}

/// The page size asked for, or the default.
pub fn limit(requested: Option<u32>) -> u32 {
    requested.unwrap_or(DEFAULT_LIMIT).min(MAX_LIMIT)
}

/// A UUID in a path or query, normalised; 400 naming `field` otherwise.
pub fn parse_id(field: &str, value: &str) -> Result<String, ApiError> {
    uuid::Uuid::parse_str(value)
        .map(|id| id.hyphenated().to_string())
        .map_err(|_| ApiError::invalid_field(field, "format", format!("{field} is a UUID")))
}

/// The pattern of ids in the document.
pub const ID_PATTERN: &str =
    "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$";
