//! The directory of professionals and resources, and contacts per
//! département.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;

use crate::DbConnection;
use crate::error::PersistenceError;
use crate::schema::{contacts, directory_departements, directory_entries};
use crate::time::to_db;

/// A directory entry as stored.
#[derive(Clone, Debug, PartialEq, Eq, Queryable, Insertable)]
#[diesel(table_name = directory_entries)]
pub struct DirectoryRow {
    pub id: String,
    pub name: String,
    pub organisation: Option<String>,
    pub category: String,
    pub national: bool,
    /// Comma-separated codes (also in `directory_departements`, for search).
    pub departements: String,
    pub address: Option<String>,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub website: Option<String>,
    pub last_verified: Option<String>,
    pub search_key: String,
    pub version: i64,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

fn set_departements(
    conn: &mut DbConnection,
    entry_id: &str,
    codes: &[String],
) -> Result<(), PersistenceError> {
    diesel::delete(
        directory_departements::table.filter(directory_departements::entry_id.eq(entry_id)),
    )
    .execute(conn)?;
    for code in codes {
        diesel::insert_into(directory_departements::table)
            .values((
                directory_departements::entry_id.eq(entry_id),
                directory_departements::departement_code.eq(code),
            ))
            .execute(conn)?;
    }
    Ok(())
}

fn codes_of(row: &DirectoryRow) -> Vec<String> {
    row.departements
        .split(',')
        .filter(|c| !c.is_empty())
        .map(str::to_owned)
        .collect()
}

/// Inserts an entry and the départements it serves.
pub fn insert_entry(conn: &mut DbConnection, row: &DirectoryRow) -> Result<(), PersistenceError> {
    diesel::insert_into(directory_entries::table)
        .values(row)
        .execute(conn)?;
    set_departements(conn, &row.id, &codes_of(row))
}

/// One entry.
pub fn find_entry(
    conn: &mut DbConnection,
    id: &str,
) -> Result<Option<DirectoryRow>, PersistenceError> {
    Ok(directory_entries::table
        .select(directory_entries::all_columns)
        .find(id)
        .first(conn)
        .optional()?)
}

/// Whether an entry exists.
pub fn entry_exists(conn: &mut DbConnection, id: &str) -> Result<bool, PersistenceError> {
    let found: Option<String> = directory_entries::table
        .select(directory_entries::id)
        .find(id)
        .first(conn)
        .optional()?;
    Ok(found.is_some())
}

/// Replaces an entry if the stored version is `expected_version` (`None`
/// otherwise); its id, creation time and version come from the store.
pub fn replace_entry(
    conn: &mut DbConnection,
    row: &DirectoryRow,
    expected_version: i64,
    now: DateTime<Utc>,
) -> Result<Option<DirectoryRow>, PersistenceError> {
    let updated = diesel::update(
        directory_entries::table
            .filter(directory_entries::id.eq(&row.id))
            .filter(directory_entries::version.eq(expected_version)),
    )
    .set((
        directory_entries::name.eq(&row.name),
        directory_entries::organisation.eq(&row.organisation),
        directory_entries::category.eq(&row.category),
        directory_entries::national.eq(row.national),
        directory_entries::departements.eq(&row.departements),
        directory_entries::address.eq(&row.address),
        directory_entries::phone.eq(&row.phone),
        directory_entries::email.eq(&row.email),
        directory_entries::website.eq(&row.website),
        directory_entries::last_verified.eq(&row.last_verified),
        directory_entries::search_key.eq(&row.search_key),
        directory_entries::version.eq(expected_version + 1),
        directory_entries::updated_at.eq(to_db(now)),
    ))
    .execute(conn)?;
    if updated == 0 {
        return Ok(None);
    }
    set_departements(conn, &row.id, &codes_of(row))?;
    find_entry(conn, &row.id)
}

/// Deletes an entry; whether it existed.
pub fn delete_entry(conn: &mut DbConnection, id: &str) -> Result<bool, PersistenceError> {
    diesel::delete(directory_departements::table.filter(directory_departements::entry_id.eq(id)))
        .execute(conn)?;
    let deleted = diesel::delete(directory_entries::table.find(id)).execute(conn)?;
    Ok(deleted > 0)
}

/// A directory search, by `(name, id)`.
#[derive(Clone, Debug, Default)]
pub struct DirectoryFilter {
    /// Entries serving this département (national ones included).
    pub departement: Option<String>,
    /// Only this category.
    pub category: Option<String>,
    /// Every word (already folded) appears in the entry's search key.
    pub words: Vec<String>,
    /// After this `(name, id)`.
    pub after: Option<(String, String)>,
    /// How many at most.
    pub limit: i64,
}

/// Entries by `(name, id)`. Words are folded search keys: letters and
/// digits only, so `LIKE` needs no escaping.
pub fn search_entries(
    conn: &mut DbConnection,
    filter: &DirectoryFilter,
) -> Result<Vec<DirectoryRow>, PersistenceError> {
    let mut query = directory_entries::table
        .select(directory_entries::all_columns)
        .order((directory_entries::name.asc(), directory_entries::id.asc()))
        .limit(filter.limit)
        .into_boxed();
    if let Some(code) = &filter.departement {
        let serving = directory_departements::table
            .select(directory_departements::entry_id)
            .filter(directory_departements::departement_code.eq(code.clone()));
        query = query.filter(
            directory_entries::national
                .eq(true)
                .or(directory_entries::id.eq_any(serving)),
        );
    }
    if let Some(category) = &filter.category {
        query = query.filter(directory_entries::category.eq(category.clone()));
    }
    for word in &filter.words {
        query = query.filter(directory_entries::search_key.like(format!("%{word}%")));
    }
    if let Some((name, id)) = &filter.after {
        query = query.filter(
            directory_entries::name
                .gt(name.clone())
                .or(directory_entries::name
                    .eq(name.clone())
                    .and(directory_entries::id.gt(id.clone()))),
        );
    }
    Ok(query.load(conn)?)
}

/// The team answering for a scope (a département code or `national`).
#[derive(Clone, Debug, PartialEq, Eq, Queryable, Insertable)]
#[diesel(table_name = contacts)]
pub struct ContactRow {
    pub scope: String,
    pub team: String,
    pub email: String,
    pub phone: String,
    pub updated_at: NaiveDateTime,
}

/// Sets the contact of a scope.
pub fn put_contact(conn: &mut DbConnection, row: &ContactRow) -> Result<(), PersistenceError> {
    diesel::delete(contacts::table.find(&row.scope)).execute(conn)?;
    diesel::insert_into(contacts::table)
        .values(row)
        .execute(conn)?;
    Ok(())
}

/// The contact of a scope, if set.
pub fn find_contact(
    conn: &mut DbConnection,
    scope: &str,
) -> Result<Option<ContactRow>, PersistenceError> {
    Ok(contacts::table
        .select(contacts::all_columns)
        .find(scope)
        .first(conn)
        .optional()?)
}

/// Every contact, by scope.
pub fn list_contacts(conn: &mut DbConnection) -> Result<Vec<ContactRow>, PersistenceError> {
    Ok(contacts::table
        .select(contacts::all_columns)
        .order(contacts::scope.asc())
        .load(conn)?)
}

/// Removes the contact of a scope; whether there was one.
pub fn delete_contact(conn: &mut DbConnection, scope: &str) -> Result<bool, PersistenceError> {
    Ok(diesel::delete(contacts::table.find(scope)).execute(conn)? > 0)
}
