//! Départements and regions (reference data, written by migrations only).

use adosexo_domain::{DepartementCode, RegionCode};
use diesel::prelude::*;

use crate::DbConnection;
use crate::error::PersistenceError;
use crate::schema::{departements, regions};

/// A département with its region.
#[derive(Clone, Debug, PartialEq, Eq, Queryable)]
pub struct Departement {
    /// INSEE code.
    pub code: String,
    /// Official name.
    pub name: String,
    /// INSEE code of its region.
    pub region_code: String,
    /// Name of its region.
    pub region_name: String,
}

/// Which départements to list, and from where (keyset pagination on code).
#[derive(Clone, Debug, Default)]
pub struct DepartementFilter {
    /// Only those of this region.
    pub region: Option<RegionCode>,
    /// Only codes strictly after this one.
    pub after: Option<String>,
    /// How many at most.
    pub limit: i64,
}

/// Départements in code order.
pub fn list_departements(
    conn: &mut DbConnection,
    filter: &DepartementFilter,
) -> Result<Vec<Departement>, PersistenceError> {
    let mut query = departements::table
        .inner_join(regions::table)
        .select((
            departements::code,
            departements::name,
            departements::region_code,
            regions::name,
        ))
        .order(departements::code.asc())
        .limit(filter.limit)
        .into_boxed();
    if let Some(region) = &filter.region {
        query = query.filter(departements::region_code.eq(region.as_str().to_owned()));
    }
    if let Some(after) = &filter.after {
        query = query.filter(departements::code.gt(after.clone()));
    }
    Ok(query.load(conn)?)
}

/// One département, if it exists.
pub fn find_departement(
    conn: &mut DbConnection,
    code: &DepartementCode,
) -> Result<Option<Departement>, PersistenceError> {
    Ok(departements::table
        .inner_join(regions::table)
        .select((
            departements::code,
            departements::name,
            departements::region_code,
            regions::name,
        ))
        .filter(departements::code.eq(code.as_str().to_owned()))
        .first(conn)
        .optional()?)
}
