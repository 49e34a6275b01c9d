//! Organisations, accounts, partner app clients, sessions, refresh tokens,
//! login throttling and settings.

use chrono::{DateTime, Utc};
use diesel::prelude::*;

use crate::DbConnection;
use crate::error::PersistenceError;
use crate::schema::{
    accounts, api_clients, login_failures, organisations, refresh_tokens, sessions, settings,
};
use crate::time::to_db;

/// An organisation as stored.
#[derive(Clone, Debug, PartialEq, Eq, Queryable)]
pub struct OrganisationRow {
    pub id: String,
    pub name: String,
    pub kind: String,
    pub departement_code: String,
    pub shares_secrecy: bool,
    pub status: String,
    pub version: i64,
    pub created_at: chrono::NaiveDateTime,
    pub updated_at: chrono::NaiveDateTime,
}

/// A new organisation.
#[derive(Clone, Debug)]
pub struct NewOrganisation {
    pub id: String,
    pub name: String,
    pub kind: String,
    pub departement_code: String,
    pub shares_secrecy: bool,
}

/// Inserts an organisation (status active, version 1).
pub fn insert_organisation(
    conn: &mut DbConnection,
    new: &NewOrganisation,
    now: DateTime<Utc>,
) -> Result<OrganisationRow, PersistenceError> {
    diesel::insert_into(organisations::table)
        .values((
            organisations::id.eq(&new.id),
            organisations::name.eq(&new.name),
            organisations::kind.eq(&new.kind),
            organisations::departement_code.eq(&new.departement_code),
            organisations::shares_secrecy.eq(new.shares_secrecy),
            organisations::status.eq("active"),
            organisations::version.eq(1_i64),
            organisations::created_at.eq(to_db(now)),
            organisations::updated_at.eq(to_db(now)),
        ))
        .execute(conn)?;
    find_organisation(conn, &new.id)?
        .ok_or_else(|| PersistenceError::Task("inserted organisation vanished".into()))
}

/// One organisation.
pub fn find_organisation(
    conn: &mut DbConnection,
    id: &str,
) -> Result<Option<OrganisationRow>, PersistenceError> {
    Ok(organisations::table
        .select(organisations::all_columns)
        .find(id)
        .first(conn)
        .optional()?)
}

/// Organisations in id (creation) order after `after`.
pub fn list_organisations(
    conn: &mut DbConnection,
    kind: Option<&str>,
    after: Option<&str>,
    limit: i64,
) -> Result<Vec<OrganisationRow>, PersistenceError> {
    let mut query = organisations::table
        .select(organisations::all_columns)
        .order(organisations::id.asc())
        .limit(limit)
        .into_boxed();
    if let Some(kind) = kind {
        query = query.filter(organisations::kind.eq(kind.to_owned()));
    }
    if let Some(after) = after {
        query = query.filter(organisations::id.gt(after.to_owned()));
    }
    Ok(query.load(conn)?)
}

/// Changes of an organisation.
#[derive(Clone, Debug, Default, AsChangeset)]
#[diesel(table_name = organisations)]
pub struct OrganisationChanges {
    pub name: Option<String>,
    pub kind: Option<String>,
    pub departement_code: Option<String>,
    pub shares_secrecy: Option<bool>,
    pub status: Option<String>,
}

/// Applies `changes` if the stored version is `expected_version`; returns
/// the new row, or `None` when the version moved on (a stale `If-Match`).
pub fn update_organisation(
    conn: &mut DbConnection,
    id: &str,
    expected_version: i64,
    changes: &OrganisationChanges,
    now: DateTime<Utc>,
) -> Result<Option<OrganisationRow>, PersistenceError> {
    let updated = diesel::update(
        organisations::table
            .filter(organisations::id.eq(id))
            .filter(organisations::version.eq(expected_version)),
    )
    .set((
        changes,
        organisations::version.eq(expected_version + 1),
        organisations::updated_at.eq(to_db(now)),
    ))
    .execute(conn)?;
    if updated == 0 {
        return Ok(None);
    }
    find_organisation(conn, id)
}

/// An account as stored.
#[derive(Clone, Debug, PartialEq, Eq, Queryable)]
pub struct AccountRow {
    pub id: String,
    pub email: String,
    pub display_name: String,
    pub organisation_id: String,
    pub roles: String,
    pub territory: String,
    pub status: String,
    pub password_hash: Option<String>,
    pub totp_secret: Option<String>,
    pub totp_enabled: bool,
    pub version: i64,
    pub created_at: chrono::NaiveDateTime,
    pub updated_at: chrono::NaiveDateTime,
}

/// A new account.
#[derive(Clone, Debug)]
pub struct NewAccount {
    pub id: String,
    pub email: String,
    pub display_name: String,
    pub organisation_id: String,
    pub roles: String,
    pub territory: String,
    pub password_hash: Option<String>,
}

/// Inserts an account (active, no TOTP, version 1).
pub fn insert_account(
    conn: &mut DbConnection,
    new: &NewAccount,
    now: DateTime<Utc>,
) -> Result<AccountRow, PersistenceError> {
    diesel::insert_into(accounts::table)
        .values((
            accounts::id.eq(&new.id),
            accounts::email.eq(&new.email),
            accounts::display_name.eq(&new.display_name),
            accounts::organisation_id.eq(&new.organisation_id),
            accounts::roles.eq(&new.roles),
            accounts::territory.eq(&new.territory),
            accounts::status.eq("active"),
            accounts::password_hash.eq(&new.password_hash),
            accounts::totp_enabled.eq(false),
            accounts::version.eq(1_i64),
            accounts::created_at.eq(to_db(now)),
            accounts::updated_at.eq(to_db(now)),
        ))
        .execute(conn)?;
    find_account(conn, &new.id)?
        .ok_or_else(|| PersistenceError::Task("inserted account vanished".into()))
}

/// One account by id.
pub fn find_account(
    conn: &mut DbConnection,
    id: &str,
) -> Result<Option<AccountRow>, PersistenceError> {
    Ok(accounts::table
        .select(accounts::all_columns)
        .find(id)
        .first(conn)
        .optional()?)
}

/// Accounts by id (for lists: one query instead of one per row).
pub fn find_accounts(
    conn: &mut DbConnection,
    ids: &[String],
) -> Result<Vec<AccountRow>, PersistenceError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(accounts::table
        .select(accounts::all_columns)
        .filter(accounts::id.eq_any(ids))
        .load(conn)?)
}

/// One account by normalised e-mail.
pub fn find_account_by_email(
    conn: &mut DbConnection,
    email: &str,
) -> Result<Option<AccountRow>, PersistenceError> {
    Ok(accounts::table
        .select(accounts::all_columns)
        .filter(accounts::email.eq(email))
        .first(conn)
        .optional()?)
}

/// Accounts in id order after `after`, optionally of one organisation.
pub fn list_accounts(
    conn: &mut DbConnection,
    organisation_id: Option<&str>,
    after: Option<&str>,
    limit: i64,
) -> Result<Vec<AccountRow>, PersistenceError> {
    let mut query = accounts::table
        .select(accounts::all_columns)
        .order(accounts::id.asc())
        .limit(limit)
        .into_boxed();
    if let Some(organisation_id) = organisation_id {
        query = query.filter(accounts::organisation_id.eq(organisation_id.to_owned()));
    }
    if let Some(after) = after {
        query = query.filter(accounts::id.gt(after.to_owned()));
    }
    Ok(query.load(conn)?)
}

/// Changes of an account.
#[derive(Clone, Debug, Default, AsChangeset)]
#[diesel(table_name = accounts)]
pub struct AccountChanges {
    pub display_name: Option<String>,
    pub roles: Option<String>,
    pub territory: Option<String>,
    pub status: Option<String>,
    pub password_hash: Option<Option<String>>,
    pub totp_secret: Option<Option<String>>,
    pub totp_enabled: Option<bool>,
}

/// Applies `changes` at `expected_version` (or at any version when `None`);
/// `None` back when the version moved on.
pub fn update_account(
    conn: &mut DbConnection,
    id: &str,
    expected_version: Option<i64>,
    changes: &AccountChanges,
    now: DateTime<Utc>,
) -> Result<Option<AccountRow>, PersistenceError> {
    let Some(current) = find_account(conn, id)? else {
        return Ok(None);
    };
    let version = expected_version.unwrap_or(current.version);
    let updated = diesel::update(
        accounts::table
            .filter(accounts::id.eq(id))
            .filter(accounts::version.eq(version)),
    )
    .set((
        changes,
        accounts::version.eq(version + 1),
        accounts::updated_at.eq(to_db(now)),
    ))
    .execute(conn)?;
    if updated == 0 {
        return Ok(None);
    }
    find_account(conn, id)
}

/// A partner app client as stored.
#[derive(Clone, Debug, PartialEq, Eq, Queryable)]
pub struct ClientRow {
    pub id: String,
    pub name: String,
    pub organisation_id: String,
    pub secret_hash: String,
    pub scopes: String,
    pub status: String,
    pub created_at: chrono::NaiveDateTime,
    pub updated_at: chrono::NaiveDateTime,
}

/// Inserts a client.
pub fn insert_client(
    conn: &mut DbConnection,
    id: &str,
    name: &str,
    organisation_id: &str,
    secret_hash: &str,
    scopes: &str,
    now: DateTime<Utc>,
) -> Result<ClientRow, PersistenceError> {
    diesel::insert_into(api_clients::table)
        .values((
            api_clients::id.eq(id),
            api_clients::name.eq(name),
            api_clients::organisation_id.eq(organisation_id),
            api_clients::secret_hash.eq(secret_hash),
            api_clients::scopes.eq(scopes),
            api_clients::status.eq("active"),
            api_clients::created_at.eq(to_db(now)),
            api_clients::updated_at.eq(to_db(now)),
        ))
        .execute(conn)?;
    find_client(conn, id)?.ok_or_else(|| PersistenceError::Task("inserted client vanished".into()))
}

/// One client.
pub fn find_client(
    conn: &mut DbConnection,
    id: &str,
) -> Result<Option<ClientRow>, PersistenceError> {
    Ok(api_clients::table
        .select(api_clients::all_columns)
        .find(id)
        .first(conn)
        .optional()?)
}

/// Clients in id order.
pub fn list_clients(
    conn: &mut DbConnection,
    organisation_id: Option<&str>,
    after: Option<&str>,
    limit: i64,
) -> Result<Vec<ClientRow>, PersistenceError> {
    let mut query = api_clients::table
        .select(api_clients::all_columns)
        .order(api_clients::id.asc())
        .limit(limit)
        .into_boxed();
    if let Some(organisation_id) = organisation_id {
        query = query.filter(api_clients::organisation_id.eq(organisation_id.to_owned()));
    }
    if let Some(after) = after {
        query = query.filter(api_clients::id.gt(after.to_owned()));
    }
    Ok(query.load(conn)?)
}

/// Marks a client revoked; `false` if there is no such client.
pub fn revoke_client(
    conn: &mut DbConnection,
    id: &str,
    now: DateTime<Utc>,
) -> Result<bool, PersistenceError> {
    let updated = diesel::update(api_clients::table.find(id))
        .set((
            api_clients::status.eq("disabled"),
            api_clients::updated_at.eq(to_db(now)),
        ))
        .execute(conn)?;
    Ok(updated > 0)
}

/// A session as stored.
#[derive(Clone, Debug, PartialEq, Eq, Queryable)]
pub struct SessionRow {
    pub id: String,
    pub subject_kind: String,
    pub subject_id: String,
    pub created_at: chrono::NaiveDateTime,
    pub expires_at: chrono::NaiveDateTime,
    pub revoked_at: Option<chrono::NaiveDateTime>,
    pub revoked_reason: Option<String>,
}

/// Opens a session.
pub fn insert_session(
    conn: &mut DbConnection,
    id: &str,
    subject_kind: &str,
    subject_id: &str,
    now: DateTime<Utc>,
    expires_at: DateTime<Utc>,
) -> Result<(), PersistenceError> {
    diesel::insert_into(sessions::table)
        .values((
            sessions::id.eq(id),
            sessions::subject_kind.eq(subject_kind),
            sessions::subject_id.eq(subject_id),
            sessions::created_at.eq(to_db(now)),
            sessions::expires_at.eq(to_db(expires_at)),
        ))
        .execute(conn)?;
    Ok(())
}

/// One session.
pub fn find_session(
    conn: &mut DbConnection,
    id: &str,
) -> Result<Option<SessionRow>, PersistenceError> {
    Ok(sessions::table
        .select(sessions::all_columns)
        .find(id)
        .first(conn)
        .optional()?)
}

/// Revokes one session (no-op if already revoked).
pub fn revoke_session(
    conn: &mut DbConnection,
    id: &str,
    reason: &str,
    now: DateTime<Utc>,
) -> Result<(), PersistenceError> {
    diesel::update(
        sessions::table
            .find(id)
            .filter(sessions::revoked_at.is_null()),
    )
    .set((
        sessions::revoked_at.eq(Some(to_db(now))),
        sessions::revoked_reason.eq(Some(reason)),
    ))
    .execute(conn)?;
    Ok(())
}

/// Revokes every open session of a subject but `keep`; returns how many.
pub fn revoke_sessions_of(
    conn: &mut DbConnection,
    subject_id: &str,
    keep: Option<&str>,
    reason: &str,
    now: DateTime<Utc>,
) -> Result<usize, PersistenceError> {
    Ok(diesel::update(
        sessions::table
            .filter(sessions::subject_id.eq(subject_id))
            .filter(sessions::revoked_at.is_null())
            .filter(sessions::id.ne(keep.unwrap_or_default())),
    )
    .set((
        sessions::revoked_at.eq(Some(to_db(now))),
        sessions::revoked_reason.eq(Some(reason)),
    ))
    .execute(conn)?)
}

/// Stores a refresh token's digest.
pub fn insert_refresh_token(
    conn: &mut DbConnection,
    token_hash: &str,
    session_id: &str,
    now: DateTime<Utc>,
    expires_at: DateTime<Utc>,
) -> Result<(), PersistenceError> {
    diesel::insert_into(refresh_tokens::table)
        .values((
            refresh_tokens::token_hash.eq(token_hash),
            refresh_tokens::session_id.eq(session_id),
            refresh_tokens::issued_at.eq(to_db(now)),
            refresh_tokens::expires_at.eq(to_db(expires_at)),
        ))
        .execute(conn)?;
    Ok(())
}

/// The session of a refresh token that is neither spent nor expired
/// (revocation, RFC 7009: the token is not spent).
pub fn find_refresh_token_session(
    conn: &mut DbConnection,
    token_hash: &str,
    now: DateTime<Utc>,
) -> Result<Option<String>, PersistenceError> {
    Ok(refresh_tokens::table
        .select(refresh_tokens::session_id)
        .filter(refresh_tokens::token_hash.eq(token_hash))
        .filter(refresh_tokens::used_at.is_null())
        .filter(refresh_tokens::expires_at.gt(to_db(now)))
        .first(conn)
        .optional()?)
}

/// What presenting a refresh token found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RefreshUse {
    /// Unknown digest.
    Unknown,
    /// Valid and now spent: its session may be continued.
    Fresh {
        session_id: String,
        expires_at: chrono::NaiveDateTime,
    },
    /// Already spent once: someone replayed it; the session was revoked.
    Replayed { session_id: String },
}

/// Spends a refresh token. Atomic: of two concurrent uses of one token,
/// exactly one is `Fresh`. A reuse revokes the whole session ("family").
pub fn use_refresh_token(
    conn: &mut DbConnection,
    token_hash: &str,
    now: DateTime<Utc>,
) -> Result<RefreshUse, PersistenceError> {
    let spent = diesel::update(
        refresh_tokens::table
            .filter(refresh_tokens::token_hash.eq(token_hash))
            .filter(refresh_tokens::used_at.is_null()),
    )
    .set(refresh_tokens::used_at.eq(Some(to_db(now))))
    .execute(conn)?;
    let row: Option<(String, chrono::NaiveDateTime)> = refresh_tokens::table
        .select((refresh_tokens::session_id, refresh_tokens::expires_at))
        .find(token_hash)
        .first(conn)
        .optional()?;
    Ok(match (row, spent) {
        (None, _) => RefreshUse::Unknown,
        (Some((session_id, expires_at)), 1) => RefreshUse::Fresh {
            session_id,
            expires_at,
        },
        (Some((session_id, _)), _) => {
            revoke_session(conn, &session_id, "refresh token reused", now)?;
            RefreshUse::Replayed { session_id }
        }
    })
}

/// Records a failed login under each key.
pub fn record_login_failure(
    conn: &mut DbConnection,
    keys: &[String],
    now: DateTime<Utc>,
) -> Result<(), PersistenceError> {
    for key in keys {
        diesel::insert_into(login_failures::table)
            .values((
                login_failures::id.eq(uuid::Uuid::now_v7().to_string()),
                login_failures::throttle_key.eq(key),
                login_failures::failed_at.eq(to_db(now)),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// Failures under `key` since `since`: their count and the oldest.
pub fn login_failures_since(
    conn: &mut DbConnection,
    key: &str,
    since: DateTime<Utc>,
) -> Result<(i64, Option<chrono::NaiveDateTime>), PersistenceError> {
    let (count, oldest): (i64, Option<chrono::NaiveDateTime>) = login_failures::table
        .filter(login_failures::throttle_key.eq(key))
        .filter(login_failures::failed_at.ge(to_db(since)))
        .select((
            diesel::dsl::count_star(),
            diesel::dsl::min(login_failures::failed_at),
        ))
        .first(conn)?;
    Ok((count, oldest))
}

/// Forgets failures under `key` (after a success) and any older than `before`.
pub fn clear_login_failures(
    conn: &mut DbConnection,
    key: &str,
    before: DateTime<Utc>,
) -> Result<(), PersistenceError> {
    diesel::delete(login_failures::table.filter(login_failures::throttle_key.eq(key)))
        .execute(conn)?;
    diesel::delete(login_failures::table.filter(login_failures::failed_at.lt(to_db(before))))
        .execute(conn)?;
    Ok(())
}

/// A setting's value.
pub fn get_setting(conn: &mut DbConnection, key: &str) -> Result<Option<String>, PersistenceError> {
    Ok(settings::table
        .select(settings::value)
        .find(key)
        .first(conn)
        .optional()?)
}

/// Sets a setting (insert or update, portable: no upsert on the shared type).
pub fn set_setting(
    conn: &mut DbConnection,
    key: &str,
    value: &str,
    now: DateTime<Utc>,
) -> Result<(), PersistenceError> {
    let updated = diesel::update(settings::table.find(key))
        .set((
            settings::value.eq(value),
            settings::updated_at.eq(to_db(now)),
        ))
        .execute(conn)?;
    if updated == 0 {
        diesel::insert_into(settings::table)
            .values((
                settings::key.eq(key),
                settings::value.eq(value),
                settings::updated_at.eq(to_db(now)),
            ))
            .execute(conn)?;
    }
    Ok(())
}
