//! The inventory of personal data: every text column of the schema (and the
//! other columns that identify someone), what it holds, what erasure and
//! retention do to it, and how long it is kept. Erasure and retention's
//! pseudonymisation are driven by it ([`pseudonymise`]); the subject-access
//! export covers every table with a person scope (tested end to end with
//! markers); a test fails when a migration adds a text column this
//! inventory does not classify (`backend_tests`).
//!
//! Outside the database: uploaded library files (in `library_files`, about
//! no one in care), the SQLite write-ahead log (checkpointed and truncated
//! after erasure, with `secure_delete` so freed pages are zeroed), the
//! development notes key (`data/dev-notes.key`). Logs hold no personal data
//! (docs/LOGGING.md).

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Text, Timestamp};

use crate::time::to_db;
use crate::{DbConnection, PersistenceError};

/// What a column holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Holds {
    /// Names or reaches a person: names, birth date, contact, relationship.
    Identifying,
    /// Free text someone wrote, possibly about a person.
    FreeText,
    /// A credential or key material, hashed or sealed.
    Secret,
    /// Ids, codes, statuses, enumerations, dates, digests: nothing about a
    /// person can be read from it alone.
    Reference,
    /// Kept for statistics after pseudonymisation (gender, département).
    Statistic,
    /// About no one in care: organisations, places, the public directory,
    /// staff accounts and configuration.
    NotAboutPeopleInCare,
}

/// What pseudonymisation (erasure, retention) writes in a column.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Erase {
    /// Left as it is (the column's `Holds` says why that is safe).
    Keep,
    /// `NULL`.
    Null,
    /// The empty text.
    Empty,
    /// A fixed text that recognises no one.
    Text(&'static str),
}

/// One column.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Column {
    /// Its name.
    pub name: &'static str,
    /// What it holds.
    pub holds: Holds,
    /// What pseudonymisation writes in it.
    pub erase: Erase,
}

/// What pseudonymisation does to a table's rows in scope.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rows {
    /// Rewrites the columns whose [`Erase`] is not `Keep`.
    Update,
    /// Deletes them (sealed notes: nothing of them is kept).
    Delete,
}

/// Where a table's rows about a person appear in the subject-access export.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Export {
    /// At this path of the export (`[]`: in each element of a list).
    At(&'static str),
    /// Not exported, and why.
    Not(&'static str),
}

/// One table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Table {
    /// Its name.
    pub name: &'static str,
    /// Whose data it holds.
    pub about: &'static str,
    /// The rows about a person, `{id}` standing for the person's id; `None`
    /// when no row is about one person in care.
    pub of_person: Option<&'static str>,
    /// The rows of a follow-up (retention), `{id}` standing for its id.
    pub of_follow_up: Option<&'static str>,
    /// What pseudonymisation does to the rows in scope.
    pub rows: Rows,
    /// Whether a rewrite bumps `version` and `updated_at` (ETags change).
    pub versioned: bool,
    /// How the subject-access export (`GET /api/v1/people/{id}/export`)
    /// shows the rows about the person.
    pub export: Export,
    /// How long it is kept.
    pub kept: &'static str,
    /// Its text columns, and any other that identifies someone.
    pub columns: &'static [Column],
    /// For tables about no one in care: their text columns, all kept.
    pub not_about_people_in_care: &'static [&'static str],
}

const fn col(name: &'static str, holds: Holds, erase: Erase) -> Column {
    Column { name, holds, erase }
}

const fn refs(name: &'static str) -> Column {
    col(name, Holds::Reference, Erase::Keep)
}

const fn public(name: &'static str) -> Column {
    col(name, Holds::NotAboutPeopleInCare, Erase::Keep)
}

const fn secret(name: &'static str) -> Column {
    col(name, Holds::Secret, Erase::Keep)
}

use Erase::{Empty, Keep, Null};
use Holds::{FreeText, Identifying, Statistic};

/// What is left of a stored request digest once the resource it created was
/// pseudonymised: a retry with the same key is still recognised (by key
/// and operation) and never creates again.
pub const ERASED_DIGEST: &str = "erased";

/// The resources a person's data lives in (ids an `Idempotency-Key` may
/// point at): `{id}` is the person.
const RESOURCES_OF_PERSON: &str = "resource_id IN (\
     SELECT id FROM referrals WHERE person_id = {id} \
     UNION SELECT id FROM appointments WHERE person_id = {id} \
     UNION SELECT id FROM consents WHERE person_id = {id} OR parental_authority_holder_id = {id} \
     UNION SELECT follow_up_id FROM follow_up_people WHERE person_id = {id} \
     UNION SELECT id FROM follow_ups WHERE person_id = {id} \
     UNION SELECT id FROM erasure_requests WHERE person_id = {id})";

/// The same for a follow-up (`{id}`).
const RESOURCES_OF_FOLLOW_UP: &str = "resource_id IN (\
     SELECT id FROM follow_up_notes WHERE follow_up_id = {id} \
     UNION SELECT id FROM consents WHERE follow_up_id = {id} \
     UNION SELECT id FROM share_decisions WHERE follow_up_id = {id} \
     UNION SELECT id FROM appointments WHERE follow_up_id = {id} \
     UNION SELECT {id})";

/// Every table, in the order pseudonymisation visits them (stored replies
/// before the rows they point at are deleted).
pub const TABLES: &[Table] = &[
    Table {
        name: "idempotency_keys",
        about: "any caller's creating requests",
        of_person: Some(RESOURCES_OF_PERSON),
        of_follow_up: Some(RESOURCES_OF_FOLLOW_UP),
        rows: Rows::Update,
        versioned: false,
        export: Export::Not(
            "the callers' own request keys and digests; nothing about the person is readable there",
        ),
        kept: "ADOSEXO_IDEMPOTENCY_TTL_HOURS (24 h by default); replies about people in care store only the id",
        columns: &[
            refs("actor_id"),
            col("idempotency_key", Holds::Reference, Keep),
            refs("operation"),
            col(
                "request_digest",
                Holds::Reference,
                Erase::Text(ERASED_DIGEST),
            ),
            col("response_body", Holds::NotAboutPeopleInCare, Empty),
            refs("resource_id"),
        ],
        not_about_people_in_care: &[],
    },
    Table {
        name: "people",
        about: "young people, their relatives and the professionals involved",
        of_person: Some("id = {id}"),
        of_follow_up: None,
        rows: Rows::Update,
        versioned: true,
        export: Export::At("person"),
        kept: "with their referrals and follow-ups; pseudonymised at erasure or after the archive period",
        columns: &[
            refs("id"),
            refs("kind"),
            col(
                "first_name",
                Identifying,
                Erase::Text(adosexo_domain::retention::PSEUDONYM),
            ),
            col("last_name", Identifying, Null),
            col("name_key", Identifying, Empty),
            col("birth_date", Identifying, Null),
            col("birth_year", Identifying, Null),
            col("gender", Statistic, Keep),
            col("departement_code", Statistic, Keep),
            col("placement", FreeText, Null),
            col("measure", FreeText, Null),
            col("relationship", Identifying, Null),
            col("organisation_name", Identifying, Null),
            col("professional_role", Identifying, Null),
            col("contact", Identifying, Null),
        ],
        not_about_people_in_care: &[],
    },
    Table {
        name: "referrals",
        about: "a person referred",
        of_person: Some("person_id = {id}"),
        of_follow_up: None,
        rows: Rows::Update,
        versioned: true,
        export: Export::At("referrals[].referral"),
        kept: "as its person",
        columns: &[
            refs("id"),
            refs("reference"),
            refs("public"),
            refs("context"),
            refs("source_kind"),
            refs("source_organisation_id"),
            col("referrer_name", Identifying, Null),
            col("referrer_contact", Identifying, Null),
            refs("submitted_by_id"),
            refs("submitted_by_kind"),
            refs("person_id"),
            col("departement_code", Statistic, Keep),
            col("risk_indicators", Statistic, Keep),
            col("summary", FreeText, Empty),
            refs("urgency"),
            refs("status"),
            col("decision_reason", FreeText, Null),
            col("redirected_to", FreeText, Null),
            refs("lead_staff_id"),
            refs("follow_up_id"),
            refs("protection_kind"),
            col("protection_details", FreeText, Null),
            refs("protection_on"),
        ],
        not_about_people_in_care: &[],
    },
    Table {
        name: "referral_events",
        about: "a referral's timeline",
        of_person: Some("referral_id IN (SELECT id FROM referrals WHERE person_id = {id})"),
        of_follow_up: None,
        rows: Rows::Update,
        versioned: false,
        export: Export::At("referrals[].events"),
        kept: "as its referral",
        columns: &[
            refs("id"),
            refs("referral_id"),
            refs("actor_id"),
            refs("actor_kind"),
            refs("action"),
            refs("from_status"),
            refs("to_status"),
            col("reason", FreeText, Null),
        ],
        not_about_people_in_care: &[],
    },
    Table {
        name: "consents",
        about: "a young person's consents, given by them or a holder of parental authority",
        of_person: Some("person_id = {id} OR parental_authority_holder_id = {id}"),
        of_follow_up: Some("follow_up_id = {id}"),
        rows: Rows::Update,
        versioned: false,
        export: Export::At("consents"),
        kept: "as its follow-up (never deleted: withdrawal and invalidation are columns)",
        columns: &[
            refs("id"),
            refs("person_id"),
            refs("follow_up_id"),
            refs("purpose"),
            refs("given_by"),
            refs("parental_authority_holder_id"),
            refs("method"),
            col("evidence_reference", FreeText, Empty),
            refs("valid_until"),
            refs("recorded_by"),
            refs("withdrawn_by"),
            refs("withdrawal_recorded_by"),
            refs("invalidated_by"),
            col("invalidation_reason", FreeText, Null),
        ],
        not_about_people_in_care: &[],
    },
    Table {
        name: "share_decisions",
        about: "what is shared of a follow-up with a partner",
        of_person: None,
        of_follow_up: Some("follow_up_id = {id}"),
        rows: Rows::Update,
        versioned: false,
        export: Export::At("follow_ups[].share_decisions"),
        kept: "as its follow-up",
        columns: &[
            refs("id"),
            refs("follow_up_id"),
            refs("organisation_id"),
            refs("purpose"),
            refs("field_groups"),
            refs("family_informed"),
            col("justification", FreeText, Null),
            refs("valid_from"),
            refs("valid_until"),
            refs("decided_by"),
            refs("revoked_by"),
            col("revocation_reason", FreeText, Null),
        ],
        not_about_people_in_care: &[],
    },
    Table {
        name: "appointments",
        about: "a young person's appointments",
        of_person: Some("person_id = {id}"),
        of_follow_up: Some("follow_up_id = {id}"),
        rows: Rows::Update,
        versioned: true,
        export: Export::At("appointments"),
        kept: "as its follow-up or referral",
        columns: &[
            refs("id"),
            refs("mode"),
            col("title", FreeText, Erase::Text("Rendez-vous")),
            refs("referral_id"),
            refs("follow_up_id"),
            refs("person_id"),
            refs("site_id"),
            refs("permanence_id"),
            col("departement_code", Statistic, Keep),
            refs("status"),
            refs("confirmation"),
            col("unaccompanied_reason", FreeText, Null),
            refs("cancelled_by"),
            col("cancel_reason", FreeText, Null),
            refs("proposed_by_organisation_id"),
            refs("created_by"),
        ],
        not_about_people_in_care: &[],
    },
    Table {
        name: "follow_up_notes",
        about: "a follow-up's notes (sealed: ChaCha20-Poly1305)",
        of_person: None,
        of_follow_up: Some("follow_up_id = {id}"),
        rows: Rows::Delete,
        versioned: false,
        export: Export::At("follow_ups[].notes"),
        kept: "as its follow-up; deleted at pseudonymisation",
        columns: &[
            refs("id"),
            refs("follow_up_id"),
            refs("kind"),
            refs("author_id"),
            refs("key_id"),
            secret("nonce"),
            col("ciphertext", FreeText, Keep),
        ],
        not_about_people_in_care: &[],
    },
    Table {
        name: "follow_ups",
        about: "a young person's follow-up",
        of_person: None,
        of_follow_up: None,
        rows: Rows::Update,
        versioned: false,
        export: Export::At("follow_ups[].follow_up"),
        kept: "active, then archived, then pseudonymised (its people, notes and free text)",
        columns: &[
            refs("id"),
            refs("reference"),
            refs("person_id"),
            col("departement_code", Statistic, Keep),
            refs("lead_staff_id"),
            refs("status"),
            refs("closure_reason"),
            refs("measure_kind"),
            refs("measure_start"),
            refs("measure_end"),
        ],
        not_about_people_in_care: &[],
    },
    Table {
        name: "follow_up_staff",
        about: "who works on a follow-up",
        of_person: None,
        of_follow_up: None,
        rows: Rows::Update,
        versioned: false,
        export: Export::At("follow_ups[].staff_ids"),
        kept: "as its follow-up",
        columns: &[refs("follow_up_id"), refs("account_id")],
        not_about_people_in_care: &[],
    },
    Table {
        name: "follow_up_people",
        about: "who is involved in a follow-up",
        of_person: None,
        of_follow_up: None,
        rows: Rows::Update,
        versioned: false,
        export: Export::At("follow_ups[].involved"),
        kept: "as its follow-up",
        columns: &[refs("follow_up_id"), refs("person_id")],
        not_about_people_in_care: &[],
    },
    Table {
        name: "follow_up_objectives",
        about: "a follow-up's objectives",
        of_person: None,
        of_follow_up: None,
        rows: Rows::Update,
        versioned: false,
        export: Export::At("follow_ups[].objectives"),
        kept: "as its follow-up",
        columns: &[
            refs("id"),
            refs("follow_up_id"),
            refs("objective"),
            refs("status"),
            refs("changed_by"),
        ],
        not_about_people_in_care: &[],
    },
    Table {
        name: "follow_up_archive",
        about: "which follow-ups are archived",
        of_person: None,
        of_follow_up: None,
        rows: Rows::Update,
        versioned: false,
        export: Export::Not("whether a follow-up is archived is said by reading it"),
        kept: "as its follow-up",
        columns: &[refs("follow_up_id")],
        not_about_people_in_care: &[],
    },
    Table {
        name: "referral_age_bands",
        about: "age bands frozen for statistics",
        of_person: None,
        of_follow_up: None,
        rows: Rows::Update,
        versioned: false,
        export: Export::Not("a statistic derived from the birth date the export shows"),
        kept: "for statistics",
        columns: &[refs("referral_id"), col("age_band", Statistic, Keep)],
        not_about_people_in_care: &[],
    },
    Table {
        name: "appointment_staff",
        about: "who holds an appointment",
        of_person: None,
        of_follow_up: None,
        rows: Rows::Update,
        versioned: false,
        export: Export::Not("staff ids; the appointment itself is exported"),
        kept: "as its appointment",
        columns: &[refs("appointment_id"), refs("account_id")],
        not_about_people_in_care: &[],
    },
    Table {
        name: "appointment_attendees",
        about: "who attends an appointment",
        of_person: None,
        of_follow_up: None,
        rows: Rows::Update,
        versioned: false,
        export: Export::Not("ids; the appointments about the person are exported"),
        kept: "as its appointment",
        columns: &[
            refs("appointment_id"),
            refs("kind"),
            refs("person_id"),
            refs("organisation_id"),
        ],
        not_about_people_in_care: &[],
    },
    Table {
        name: "staff_bookings",
        about: "staff time taken (no-overlap guarantee)",
        of_person: None,
        of_follow_up: None,
        rows: Rows::Update,
        versioned: false,
        export: Export::Not("staff time, not about the person"),
        kept: "as its appointment or session",
        columns: &[
            refs("id"),
            refs("account_id"),
            refs("appointment_id"),
            refs("group_session_id"),
        ],
        not_about_people_in_care: &[],
    },
    Table {
        name: "erasure_requests",
        about: "a person's erasure requests",
        of_person: None,
        of_follow_up: None,
        rows: Rows::Update,
        versioned: false,
        export: Export::Not("the request and its decision are read at /erasure-requests"),
        kept: "for ever: proof that the request was executed or refused (ids and codes only)",
        columns: &[
            refs("id"),
            refs("person_id"),
            refs("requested_by"),
            refs("status"),
            refs("refusal"),
            refs("recorded_by"),
            refs("decided_by"),
        ],
        not_about_people_in_care: &[],
    },
    Table {
        name: "group_registrations",
        about: "participants of group sessions and trainings, named by whoever registers them",
        of_person: None,
        of_follow_up: None,
        rows: Rows::Update,
        versioned: false,
        export: Export::Not("not linked to a person record"),
        kept: "with the session; not linked to a person record (found by name for a request)",
        columns: &[
            refs("id"),
            refs("group_session_id"),
            col("participant_name", Identifying, Keep),
            refs("category"),
            refs("organisation_id"),
            refs("status"),
            refs("registered_by"),
        ],
        not_about_people_in_care: &[],
    },
    Table {
        name: "group_headcounts",
        about: "attendance head counts",
        of_person: None,
        of_follow_up: None,
        rows: Rows::Update,
        versioned: false,
        export: Export::Not("head counts only"),
        kept: "for statistics",
        columns: &[
            refs("group_session_id"),
            refs("category"),
            col("age_band", Statistic, Keep),
        ],
        not_about_people_in_care: &[],
    },
    Table {
        name: "case_review_requests",
        about: "partners' requests for a case review (asked to describe the situation without names)",
        of_person: None,
        of_follow_up: None,
        rows: Rows::Update,
        versioned: false,
        export: Export::Not("not linked to a person record"),
        kept: "with the request; not linked to a person record",
        columns: &[
            refs("id"),
            refs("organisation_id"),
            refs("requested_by"),
            col("departement_code", Statistic, Keep),
            col("situation", FreeText, Keep),
            refs("status"),
            refs("group_session_id"),
        ],
        not_about_people_in_care: &[],
    },
    Table {
        name: "audit_log",
        about: "who did what to which record: ids, actions and outcomes only",
        of_person: None,
        of_follow_up: None,
        rows: Rows::Update,
        versioned: false,
        export: Export::Not("ids of who did what; read at /audit"),
        kept: "ADOSEXO_AUDIT_RETENTION_DAYS, then purged from the oldest (hash chain anchored)",
        columns: &[
            refs("id"),
            refs("actor_id"),
            refs("actor_organisation_id"),
            refs("actor_role"),
            refs("action"),
            refs("resource_type"),
            refs("resource_id"),
            // The ids a list read returned.
            refs("resource_ids"),
            refs("outcome"),
            refs("request_id"),
            col("client_addr", Holds::Reference, Keep),
            refs("prev_hash"),
            refs("hash"),
        ],
        not_about_people_in_care: &[],
    },
    Table {
        name: "audit_head",
        about: "the audit chain's head",
        of_person: None,
        of_follow_up: None,
        rows: Rows::Update,
        versioned: false,
        export: Export::Not("a hash"),
        kept: "for ever",
        columns: &[refs("hash"), refs("anchor_hash")],
        not_about_people_in_care: &[],
    },
    Table {
        name: "stats_releases",
        about: "frozen statistics releases: counts per period and category, the hidden ones included (never served)",
        of_person: None,
        of_follow_up: None,
        rows: Rows::Update,
        versioned: false,
        export: Export::Not("counts of groups, about no one person"),
        kept: "for ever, until `adosexo stats republish` withdraws them",
        columns: &[
            refs("family"),
            refs("period"),
            col("figures", Holds::Statistic, Keep),
        ],
        not_about_people_in_care: &[],
    },
    Table {
        name: "partner_events",
        about: "events for partners: ids, statuses and dates only (api/src/webhooks.rs)",
        of_person: None,
        of_follow_up: None,
        rows: Rows::Update,
        versioned: false,
        export: Export::Not("ids and statuses only"),
        kept: "for ever (ids and statuses only)",
        columns: &[
            refs("id"),
            refs("organisation_id"),
            refs("event_type"),
            refs("subject_id"),
            col("payload", Holds::Reference, Keep),
        ],
        not_about_people_in_care: &[],
    },
    Table {
        name: "webhook_deliveries",
        about: "deliveries of partner events",
        of_person: None,
        of_follow_up: None,
        rows: Rows::Update,
        versioned: false,
        export: Export::Not("delivery state only"),
        kept: "for ever (ids, statuses, the HTTP error of a failed attempt)",
        columns: &[
            refs("id"),
            refs("event_id"),
            refs("subscription_id"),
            refs("subject_id"),
            refs("status"),
            secret("claim_token"),
            col("last_error", Holds::Reference, Keep),
            // The W3C trace context of the causing request: random ids.
            refs("traceparent"),
        ],
        not_about_people_in_care: &[],
    },
    Table {
        name: "webhook_subscriptions",
        about: "partners' webhook targets",
        of_person: None,
        of_follow_up: None,
        rows: Rows::Update,
        versioned: false,
        export: Export::Not("partners' configuration"),
        kept: "until deleted",
        columns: &[
            refs("id"),
            refs("organisation_id"),
            public("url"),
            refs("event_types"),
            refs("secret_key_id"),
            secret("secret_nonce"),
            secret("secret_ciphertext"),
            refs("status"),
            refs("created_by"),
        ],
        not_about_people_in_care: &[],
    },
    Table {
        name: "partner_event_counters",
        about: "event feed positions",
        of_person: None,
        of_follow_up: None,
        rows: Rows::Update,
        versioned: false,
        export: Export::Not("counters"),
        kept: "for ever",
        columns: &[refs("organisation_id")],
        not_about_people_in_care: &[],
    },
    Table {
        name: "accounts",
        about: "staff and partner professionals' accounts",
        of_person: None,
        of_follow_up: None,
        rows: Rows::Update,
        versioned: false,
        export: Export::Not("staff accounts, not people in care"),
        kept: "until the account is removed by an administrator",
        columns: &[
            refs("id"),
            public("email"),
            public("display_name"),
            refs("organisation_id"),
            refs("roles"),
            refs("territory"),
            refs("status"),
            secret("password_hash"),
            secret("totp_secret"),
        ],
        not_about_people_in_care: &[],
    },
    Table {
        name: "sessions",
        about: "sign-in sessions",
        of_person: None,
        of_follow_up: None,
        rows: Rows::Update,
        versioned: false,
        export: Export::Not("staff sessions"),
        kept: "until they expire",
        columns: &[
            refs("id"),
            refs("subject_kind"),
            refs("subject_id"),
            refs("revoked_reason"),
        ],
        not_about_people_in_care: &[],
    },
    Table {
        name: "refresh_tokens",
        about: "refresh tokens (hashed)",
        of_person: None,
        of_follow_up: None,
        rows: Rows::Update,
        versioned: false,
        export: Export::Not("hashes"),
        kept: "until they expire",
        columns: &[secret("token_hash"), refs("session_id")],
        not_about_people_in_care: &[],
    },
    Table {
        name: "login_failures",
        about: "failed sign-ins, for throttling (account identifier or address)",
        of_person: None,
        of_follow_up: None,
        rows: Rows::Update,
        versioned: false,
        export: Export::Not("throttling of sign-ins"),
        kept: "the throttle window",
        columns: &[refs("id"), public("throttle_key")],
        not_about_people_in_care: &[],
    },
    Table {
        name: "calendar_feeds",
        about: "staff calendar feed secrets (hashed)",
        of_person: None,
        of_follow_up: None,
        rows: Rows::Update,
        versioned: false,
        export: Export::Not("hashes"),
        kept: "until revoked",
        columns: &[refs("account_id"), secret("token_hash")],
        not_about_people_in_care: &[],
    },
    Table {
        name: "api_clients",
        about: "partner apps",
        of_person: None,
        of_follow_up: None,
        rows: Rows::Update,
        versioned: false,
        export: Export::Not("partner apps"),
        kept: "until revoked",
        columns: &[
            refs("id"),
            public("name"),
            refs("organisation_id"),
            secret("secret_hash"),
            refs("scopes"),
            refs("status"),
        ],
        not_about_people_in_care: &[],
    },
    not_personal("regions", &["code", "name"]),
    not_personal("departements", &["code", "name", "region_code"]),
    not_personal(
        "organisations",
        &["id", "name", "kind", "departement_code", "status"],
    ),
    not_personal("settings", &["key", "value"]),
    not_personal("reference_counters", &["kind"]),
    not_personal(
        "sites",
        &[
            "id",
            "name",
            "kind",
            "address",
            "postcode",
            "city",
            "departement_code",
            "host_organisation_id",
            "accessibility",
            "status",
        ],
    ),
    not_personal(
        "permanences",
        &[
            "id",
            "site_id",
            "title",
            "rrule",
            "dtstart",
            "last_date",
            "part_of_day",
            "start_time",
            "end_time",
            "audience",
            "status",
            "follows_id",
        ],
    ),
    not_personal("permanence_staff", &["permanence_id", "account_id"]),
    not_personal(
        "permanence_exceptions",
        &[
            "permanence_id",
            "original_date",
            "kind",
            "reason",
            "created_by",
        ],
    ),
    not_personal(
        "group_sessions",
        &[
            "id",
            "kind",
            "title",
            "mode",
            "site_id",
            "venue",
            "remote_link",
            "partner_organisation_id",
            "departement_code",
            "audience",
            "status",
            "created_by",
        ],
    ),
    not_personal("group_session_staff", &["group_session_id", "account_id"]),
    not_personal(
        "directory_entries",
        &[
            "id",
            "name",
            "organisation",
            "category",
            "departements",
            "address",
            "phone",
            "email",
            "website",
            "last_verified",
            "search_key",
        ],
    ),
    not_personal("directory_departements", &["entry_id", "departement_code"]),
    not_personal("contacts", &["scope", "team", "email", "phone"]),
    not_personal(
        "partnership_agreements",
        &[
            "id",
            "organisation_id",
            "title",
            "departements",
            "starts_on",
            "ends_on",
            "status",
            "created_by",
        ],
    ),
    not_personal("agreement_referents", &["agreement_id", "account_id"]),
    not_personal("agreement_permanences", &["permanence_id", "agreement_id"]),
    not_personal(
        "library_resources",
        &[
            "id",
            "title",
            "description",
            "search_key",
            "audience",
            "kind",
            "language",
            "visibility",
            "external_url",
            "media_type",
            "sha256",
            "created_by",
        ],
    ),
    not_personal("library_files", &["resource_id", "content"]),
    not_personal("library_downloads", &["id", "resource_id", "kind"]),
    not_personal("__diesel_schema_migrations", &["version"]),
];

/// A table about no one in care: every listed column kept.
const fn not_personal(name: &'static str, columns: &'static [&'static str]) -> Table {
    Table {
        name,
        about: "no one in care (organisations, places, the public directory, configuration)",
        of_person: None,
        of_follow_up: None,
        rows: Rows::Update,
        versioned: false,
        export: Export::Not("about no one in care"),
        kept: "as long as it is useful",
        columns: &[],
        not_about_people_in_care: columns,
    }
}

impl Table {
    /// Whether the inventory classifies `column` of this table.
    pub fn classifies(&self, column: &str) -> bool {
        self.columns.iter().any(|c| c.name == column)
            || self.not_about_people_in_care.contains(&column)
    }
}

/// The inventory's entry for a table.
pub fn table(name: &str) -> Option<&'static Table> {
    TABLES.iter().find(|t| t.name == name)
}

/// What to pseudonymise: a person (erasure, retention) or a follow-up's own
/// content (retention).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope {
    /// A person's rows.
    Person,
    /// A follow-up's rows.
    FollowUp,
}

/// Pseudonymises every row the inventory places in `scope` of `id`, table
/// by table, as the inventory says (run inside the caller's transaction).
pub fn pseudonymise(
    conn: &mut DbConnection,
    scope: Scope,
    id: &str,
    now: DateTime<Utc>,
) -> Result<(), PersistenceError> {
    let postgres = matches!(conn, DbConnection::Postgres(_));
    let (id_param, now_param) = if postgres { ("$1", "$2") } else { ("?1", "?2") };
    for table in TABLES {
        let predicate = match scope {
            Scope::Person => table.of_person,
            Scope::FollowUp => table.of_follow_up,
        };
        let Some(predicate) = predicate else {
            continue;
        };
        let predicate = predicate.replace("{id}", id_param);
        let sql = match table.rows {
            Rows::Delete => format!("DELETE FROM {} WHERE {predicate}", table.name),
            Rows::Update => {
                let mut sets: Vec<String> = table
                    .columns
                    .iter()
                    .filter_map(|c| {
                        let value = match c.erase {
                            Erase::Keep => return None,
                            Erase::Null => "NULL".to_owned(),
                            Erase::Empty => "''".to_owned(),
                            Erase::Text(text) => format!("'{}'", text.replace('\'', "''")),
                        };
                        Some(format!("{} = {value}", c.name))
                    })
                    .collect();
                if sets.is_empty() {
                    continue;
                }
                if table.versioned {
                    sets.push("version = version + 1".to_owned());
                    sets.push(format!("updated_at = {now_param}"));
                }
                format!(
                    "UPDATE {} SET {} WHERE {predicate}",
                    table.name,
                    sets.join(", ")
                )
            }
        };
        let versioned = table.versioned && table.rows == Rows::Update;
        match conn {
            DbConnection::Postgres(pg) => {
                let query = diesel::sql_query(sql).bind::<Text, _>(id);
                if versioned {
                    query.bind::<Timestamp, _>(to_db(now)).execute(pg)?;
                } else {
                    query.execute(pg)?;
                }
            }
            DbConnection::Sqlite(sqlite) => {
                let query = diesel::sql_query(sql).bind::<Text, _>(id);
                if versioned {
                    query.bind::<Timestamp, _>(to_db(now)).execute(sqlite)?;
                } else {
                    query.execute(sqlite)?;
                }
            }
        }
    }
    Ok(())
}
