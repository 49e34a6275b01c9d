//! Partnership agreements, the resource library (files stored in the
//! database: a database backup restores them), case review requests, and
//! the registrations of partner organisations.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;

use crate::DbConnection;
use crate::error::PersistenceError;
use crate::schedule::RegistrationRow;
use crate::schema::{
    agreement_permanences, agreement_referents, case_review_requests, group_registrations,
    group_sessions, library_downloads, library_files, library_resources, partnership_agreements,
};
use crate::time::to_db;

/// A partnership agreement as stored (`departements`: `"13,84"`).
#[derive(Clone, Debug, PartialEq, Eq, Queryable, Insertable)]
#[diesel(table_name = partnership_agreements)]
pub struct AgreementRow {
    pub id: String,
    pub organisation_id: String,
    pub title: String,
    pub departements: String,
    pub starts_on: String,
    pub ends_on: String,
    pub status: String,
    pub created_by: String,
    pub version: i64,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// Inserts an agreement and its referents.
pub fn insert_agreement(
    conn: &mut DbConnection,
    row: &AgreementRow,
    referents: &[String],
) -> Result<(), PersistenceError> {
    diesel::insert_into(partnership_agreements::table)
        .values(row)
        .execute(conn)?;
    for account in referents {
        diesel::insert_into(agreement_referents::table)
            .values((
                agreement_referents::agreement_id.eq(&row.id),
                agreement_referents::account_id.eq(account),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// One agreement.
pub fn find_agreement(
    conn: &mut DbConnection,
    id: &str,
) -> Result<Option<AgreementRow>, PersistenceError> {
    Ok(partnership_agreements::table
        .select(partnership_agreements::all_columns)
        .find(id)
        .first(conn)
        .optional()?)
}

/// Agreements by `(created_at, id)`; `ending_by` keeps the active ones
/// ending on or before that date (and not before `not_before`).
pub fn list_agreements(
    conn: &mut DbConnection,
    ending_between: Option<(String, String)>,
    after: Option<(NaiveDateTime, String)>,
    limit: i64,
) -> Result<Vec<AgreementRow>, PersistenceError> {
    let mut query = partnership_agreements::table
        .select(partnership_agreements::all_columns)
        .order((
            partnership_agreements::created_at.asc(),
            partnership_agreements::id.asc(),
        ))
        .limit(limit)
        .into_boxed();
    if let Some((from, to)) = ending_between {
        query = query
            .filter(partnership_agreements::status.eq("active"))
            .filter(partnership_agreements::ends_on.ge(from))
            .filter(partnership_agreements::ends_on.le(to));
    }
    if let Some((at, id)) = after {
        query = query.filter(
            partnership_agreements::created_at
                .gt(at)
                .or(partnership_agreements::created_at
                    .eq(at)
                    .and(partnership_agreements::id.gt(id))),
        );
    }
    Ok(query.load(conn)?)
}

/// `(agreement_id, account_id)` of these agreements' referents.
pub fn referents_of(
    conn: &mut DbConnection,
    ids: &[String],
) -> Result<Vec<(String, String)>, PersistenceError> {
    Ok(agreement_referents::table
        .select((
            agreement_referents::agreement_id,
            agreement_referents::account_id,
        ))
        .filter(agreement_referents::agreement_id.eq_any(ids))
        .order(agreement_referents::account_id.asc())
        .load(conn)?)
}

/// `(agreement_id, permanence_id)` of these agreements' permanences.
pub fn permanences_of(
    conn: &mut DbConnection,
    ids: &[String],
) -> Result<Vec<(String, String)>, PersistenceError> {
    Ok(agreement_permanences::table
        .select((
            agreement_permanences::agreement_id,
            agreement_permanences::permanence_id,
        ))
        .filter(agreement_permanences::agreement_id.eq_any(ids))
        .order(agreement_permanences::permanence_id.asc())
        .load(conn)?)
}

/// The agreement a permanence is held under, if any.
pub fn agreement_of_permanence(
    conn: &mut DbConnection,
    permanence_id: &str,
) -> Result<Option<String>, PersistenceError> {
    Ok(agreement_permanences::table
        .select(agreement_permanences::agreement_id)
        .find(permanence_id)
        .first(conn)
        .optional()?)
}

/// Attaches a permanence to an agreement.
pub fn attach_permanence(
    conn: &mut DbConnection,
    agreement_id: &str,
    permanence_id: &str,
) -> Result<(), PersistenceError> {
    diesel::insert_into(agreement_permanences::table)
        .values((
            agreement_permanences::agreement_id.eq(agreement_id),
            agreement_permanences::permanence_id.eq(permanence_id),
        ))
        .execute(conn)?;
    Ok(())
}

/// Sets an agreement's status and end date if its version is `expected`.
pub fn update_agreement(
    conn: &mut DbConnection,
    id: &str,
    expected: i64,
    status: &str,
    ends_on: &str,
    now: DateTime<Utc>,
) -> Result<Option<AgreementRow>, PersistenceError> {
    let updated = diesel::update(
        partnership_agreements::table
            .filter(partnership_agreements::id.eq(id))
            .filter(partnership_agreements::version.eq(expected)),
    )
    .set((
        partnership_agreements::status.eq(status),
        partnership_agreements::ends_on.eq(ends_on),
        partnership_agreements::version.eq(expected + 1),
        partnership_agreements::updated_at.eq(to_db(now)),
    ))
    .execute(conn)?;
    if updated == 0 {
        return Ok(None);
    }
    find_agreement(conn, id)
}

/// A library resource as stored (without its file's bytes).
#[derive(Clone, Debug, PartialEq, Eq, Queryable, Insertable)]
#[diesel(table_name = library_resources)]
pub struct ResourceRow {
    pub id: String,
    pub title: String,
    pub description: String,
    pub search_key: String,
    pub audience: String,
    pub kind: String,
    pub language: String,
    pub visibility: String,
    pub external_url: Option<String>,
    pub media_type: Option<String>,
    pub file_size: Option<i64>,
    pub sha256: Option<String>,
    pub downloads: i64,
    pub created_by: String,
    pub version: i64,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// Inserts a resource.
pub fn insert_resource(conn: &mut DbConnection, row: &ResourceRow) -> Result<(), PersistenceError> {
    diesel::insert_into(library_resources::table)
        .values(row)
        .execute(conn)?;
    Ok(())
}

/// One resource.
pub fn find_resource(
    conn: &mut DbConnection,
    id: &str,
) -> Result<Option<ResourceRow>, PersistenceError> {
    Ok(library_resources::table
        .select(library_resources::all_columns)
        .find(id)
        .first(conn)
        .optional()?)
}

/// Filters of a library search, by `(created_at, id)`.
#[derive(Clone, Debug, Default)]
pub struct ResourceFilter {
    pub audience: Option<String>,
    pub kind: Option<String>,
    pub language: Option<String>,
    /// Only this visibility (anonymous callers: `public`).
    pub visibility: Option<String>,
    /// Words of the search key, each contained in the resource's key.
    pub words: Vec<String>,
    pub after: Option<(NaiveDateTime, String)>,
    pub limit: i64,
}

/// Escapes `%`, `_` and `\` for a `LIKE … ESCAPE '\'` pattern.
fn like_contains(word: &str) -> String {
    let mut pattern = String::with_capacity(word.len() + 2);
    pattern.push('%');
    for c in word.chars() {
        if matches!(c, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('%');
    pattern
}

/// Searches the library.
pub fn search_resources(
    conn: &mut DbConnection,
    filter: &ResourceFilter,
) -> Result<Vec<ResourceRow>, PersistenceError> {
    let mut query = library_resources::table
        .select(library_resources::all_columns)
        .order((
            library_resources::created_at.asc(),
            library_resources::id.asc(),
        ))
        .limit(filter.limit)
        .into_boxed();
    if let Some(audience) = &filter.audience {
        query = query.filter(library_resources::audience.eq(audience.clone()));
    }
    if let Some(kind) = &filter.kind {
        query = query.filter(library_resources::kind.eq(kind.clone()));
    }
    if let Some(language) = &filter.language {
        query = query.filter(library_resources::language.eq(language.clone()));
    }
    if let Some(visibility) = &filter.visibility {
        query = query.filter(library_resources::visibility.eq(visibility.clone()));
    }
    for word in &filter.words {
        query = query.filter(
            library_resources::search_key
                .like(like_contains(word))
                .escape('\\'),
        );
    }
    if let Some((at, id)) = &filter.after {
        query = query.filter(
            library_resources::created_at
                .gt(*at)
                .or(library_resources::created_at
                    .eq(*at)
                    .and(library_resources::id.gt(id.clone()))),
        );
    }
    Ok(query.load(conn)?)
}

/// Stores (or replaces) a resource's file and its description.
pub fn put_file(
    conn: &mut DbConnection,
    resource_id: &str,
    media_type: &str,
    sha256: &str,
    content: &[u8],
    now: DateTime<Utc>,
) -> Result<Option<ResourceRow>, PersistenceError> {
    diesel::delete(library_files::table.filter(library_files::resource_id.eq(resource_id)))
        .execute(conn)?;
    diesel::insert_into(library_files::table)
        .values((
            library_files::resource_id.eq(resource_id),
            library_files::content.eq(content),
        ))
        .execute(conn)?;
    let size = i64::try_from(content.len()).unwrap_or(i64::MAX);
    diesel::update(library_resources::table.find(resource_id))
        .set((
            library_resources::media_type.eq(Some(media_type)),
            library_resources::file_size.eq(Some(size)),
            library_resources::sha256.eq(Some(sha256)),
            library_resources::external_url.eq(None::<String>),
            library_resources::version.eq(library_resources::version + 1),
            library_resources::updated_at.eq(to_db(now)),
        ))
        .execute(conn)?;
    find_resource(conn, resource_id)
}

/// A resource's file bytes.
pub fn file_content(
    conn: &mut DbConnection,
    resource_id: &str,
) -> Result<Option<Vec<u8>>, PersistenceError> {
    Ok(library_files::table
        .select(library_files::content)
        .find(resource_id)
        .first(conn)
        .optional()?)
}

/// Counts one download (a row for statistics by period, and the total).
pub fn count_download(
    conn: &mut DbConnection,
    resource_id: &str,
    kind: &str,
    now: DateTime<Utc>,
) -> Result<(), PersistenceError> {
    diesel::insert_into(library_downloads::table)
        .values((
            library_downloads::id.eq(uuid::Uuid::now_v7().to_string()),
            library_downloads::resource_id.eq(resource_id),
            library_downloads::kind.eq(kind),
            library_downloads::downloaded_at.eq(to_db(now)),
        ))
        .execute(conn)?;
    diesel::update(library_resources::table.find(resource_id))
        .set(library_resources::downloads.eq(library_resources::downloads + 1))
        .execute(conn)?;
    Ok(())
}

/// A partner's request for a case review.
#[derive(Clone, Debug, PartialEq, Eq, Queryable, Insertable)]
#[diesel(table_name = case_review_requests)]
pub struct CaseReviewRow {
    pub id: String,
    pub organisation_id: String,
    pub requested_by: String,
    pub departement_code: String,
    pub situation: String,
    pub fictional: bool,
    pub status: String,
    pub group_session_id: Option<String>,
    pub version: i64,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// Inserts a case review request.
pub fn insert_case_review(
    conn: &mut DbConnection,
    row: &CaseReviewRow,
) -> Result<(), PersistenceError> {
    diesel::insert_into(case_review_requests::table)
        .values(row)
        .execute(conn)?;
    Ok(())
}

/// One case review request.
pub fn find_case_review(
    conn: &mut DbConnection,
    id: &str,
) -> Result<Option<CaseReviewRow>, PersistenceError> {
    Ok(case_review_requests::table
        .select(case_review_requests::all_columns)
        .find(id)
        .first(conn)
        .optional()?)
}

/// Case review requests by `(created_at, id)`, of one organisation or all.
pub fn list_case_reviews(
    conn: &mut DbConnection,
    organisation_id: Option<&str>,
    status: Option<&str>,
    after: Option<(NaiveDateTime, String)>,
    limit: i64,
) -> Result<Vec<CaseReviewRow>, PersistenceError> {
    let mut query = case_review_requests::table
        .select(case_review_requests::all_columns)
        .order((
            case_review_requests::created_at.asc(),
            case_review_requests::id.asc(),
        ))
        .limit(limit)
        .into_boxed();
    if let Some(org) = organisation_id {
        query = query.filter(case_review_requests::organisation_id.eq(org.to_owned()));
    }
    if let Some(status) = status {
        query = query.filter(case_review_requests::status.eq(status.to_owned()));
    }
    if let Some((at, id)) = after {
        query = query.filter(
            case_review_requests::created_at
                .gt(at)
                .or(case_review_requests::created_at
                    .eq(at)
                    .and(case_review_requests::id.gt(id))),
        );
    }
    Ok(query.load(conn)?)
}

/// Marks a request scheduled on a session, if its version is `expected`.
pub fn schedule_case_review(
    conn: &mut DbConnection,
    id: &str,
    expected: i64,
    group_session_id: &str,
    now: DateTime<Utc>,
) -> Result<Option<CaseReviewRow>, PersistenceError> {
    let updated = diesel::update(
        case_review_requests::table
            .filter(case_review_requests::id.eq(id))
            .filter(case_review_requests::version.eq(expected)),
    )
    .set((
        case_review_requests::status.eq("scheduled"),
        case_review_requests::group_session_id.eq(Some(group_session_id)),
        case_review_requests::version.eq(expected + 1),
        case_review_requests::updated_at.eq(to_db(now)),
    ))
    .execute(conn)?;
    if updated == 0 {
        return Ok(None);
    }
    find_case_review(conn, id)
}

/// The registrations of an organisation's people to sessions of these
/// kinds, by `(created_at, id)`.
pub fn registrations_of_organisation(
    conn: &mut DbConnection,
    organisation_id: &str,
    kinds: &[&str],
    after: Option<(NaiveDateTime, String)>,
    limit: i64,
) -> Result<Vec<RegistrationRow>, PersistenceError> {
    let sessions = group_sessions::table
        .select(group_sessions::id)
        .filter(group_sessions::kind.eq_any(kinds.iter().map(|k| (*k).to_owned())));
    let mut query = group_registrations::table
        .select(group_registrations::all_columns)
        .filter(group_registrations::organisation_id.eq(organisation_id.to_owned()))
        .filter(group_registrations::group_session_id.eq_any(sessions))
        .order((
            group_registrations::created_at.asc(),
            group_registrations::id.asc(),
        ))
        .limit(limit)
        .into_boxed();
    if let Some((at, id)) = after {
        query = query.filter(
            group_registrations::created_at
                .gt(at)
                .or(group_registrations::created_at
                    .eq(at)
                    .and(group_registrations::id.gt(id))),
        );
    }
    Ok(query.load(conn)?)
}

/// One registration.
pub fn find_registration(
    conn: &mut DbConnection,
    id: &str,
) -> Result<Option<RegistrationRow>, PersistenceError> {
    Ok(group_registrations::table
        .select(group_registrations::all_columns)
        .find(id)
        .first(conn)
        .optional()?)
}
