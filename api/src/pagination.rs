//! Collection conventions: `?limit=&cursor=`, default 50, at most 200 (a
//! larger limit is a 400, never silently clamped), keyset pages.

/// Page size when `limit` is absent.
pub const DEFAULT_LIMIT: u32 = 50;
/// Largest accepted `limit`.
pub const MAX_LIMIT: u32 = 200;
