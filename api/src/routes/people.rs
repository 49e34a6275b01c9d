//! Data-subject rights: an export of everything held on one person, and
//! rectification of their record.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, get, patch, web};
use adosexo_domain::DepartementCode;
use adosexo_domain::authz::{Action, Resource, authorize};
use adosexo_domain::referral::name_key;
use adosexo_persistence::cases::{
    self, FollowUpRow, ObjectiveRow, PersonChanges, PersonRow, ReferralEventRow, ReferralRow,
};
use adosexo_persistence::consent::{self as store, ConsentRow, ShareRow};
use adosexo_persistence::schedule::{self, AppointmentRow};
use chrono::{DateTime, Datelike, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use validator::Validate;

use super::cases::stored_departement;
use super::followups::note_context;
use crate::audit::{self, Outcome};
use crate::auth::Authenticated;
use crate::crypto::Sealed;
use crate::extract::ApiJson;
use crate::guard::permit;
use crate::http_cache::{if_match, versioned_json};
use crate::pagination::parse_id;
use crate::problem::ApiError;
use crate::state::AppState;
use crate::wire::GenderWire;

/// A note, opened, in an export.
#[derive(Debug, Serialize)]
struct ExportedNote {
    id: String,
    kind: String,
    author_id: String,
    created_at: chrono::NaiveDateTime,
    body: String,
}

/// A follow-up of the person and what hangs on it.
#[derive(Debug, Serialize)]
struct ExportedFollowUp {
    follow_up: FollowUpRow,
    staff_ids: Vec<String>,
    objectives: Vec<ObjectiveRow>,
    involved: Vec<PersonRow>,
    notes: Vec<ExportedNote>,
    share_decisions: Vec<ShareRow>,
}

/// A referral and its timeline.
#[derive(Debug, Serialize)]
struct ExportedReferral {
    referral: ReferralRow,
    events: Vec<ReferralEventRow>,
}

/// Everything held on one person (stored values; instants are UTC).
#[derive(Debug, Serialize, ToSchema)]
pub struct PersonExport {
    /// When the export was made.
    pub generated_at: DateTime<Utc>,
    /// The person's record.
    #[schema(value_type = Object)]
    person: PersonRow,
    /// Referrals about them, with their timelines.
    #[schema(value_type = Vec<Object>)]
    referrals: Vec<ExportedReferral>,
    /// Their follow-ups: objectives, people involved, notes (opened), share decisions.
    #[schema(value_type = Vec<Object>)]
    follow_ups: Vec<ExportedFollowUp>,
    /// Follow-ups they are involved in as a relative or professional.
    involved_in_follow_up_ids: Vec<String>,
    /// Their consents, history included.
    #[schema(value_type = Vec<Object>)]
    consents: Vec<ConsentRow>,
    /// Appointments about them or attended by them.
    #[schema(value_type = Vec<Object>)]
    appointments: Vec<AppointmentRow>,
}

/// Export everything held on one person (JSON).
#[utoipa::path(
    operation_id = "exportPersonData",
    tag = "data-protection",
    summary = "Export everything held on a person",
    description = "Data-subject access (RGPD art. 15): the person, referrals and timelines, follow-ups with \
                   objectives, people involved, notes (opened), share decisions, consents and appointments. \
                   Supervisors only; audited.",
    params(("id" = String, Path, description = "Person id", pattern = "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The export", body = PersonExport),
        (status = 400, response = crate::problem::BadRequest),
        (status = 401, response = crate::problem::Unauthorized),
        (status = 403, response = crate::problem::Forbidden),
        (status = 404, response = crate::problem::NotFound),
        (status = 503, response = crate::problem::Unavailable),
    ),
)]
#[get("/people/{id}/export")]
pub async fn export(
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = parse_id("id", &id)?;
    permit(
        &state,
        &auth,
        Action::ExportPersonData,
        Resource::Service,
        "person",
        Some(&id),
    )
    .await?;
    let lookup = id.clone();
    let gathered = state
        .db
        .run(move |conn| {
            let Some(person) = cases::find_person(conn, &lookup)? else {
                return Ok::<_, ApiError>(None);
            };
            let mut referrals = Vec::new();
            for referral in cases::referrals_of_person(conn, &lookup)? {
                let events = cases::events_of(conn, &referral.id)?;
                referrals.push(ExportedReferral { referral, events });
            }
            let rows = cases::follow_ups_of_person(conn, &lookup)?;
            let follow_up_ids: Vec<String> = rows.iter().map(|f| f.id.clone()).collect();
            let mut follow_ups = Vec::new();
            for row in rows {
                follow_ups.push((
                    cases::staff_of(conn, &row)?,
                    cases::objectives_of(conn, &row.id)?,
                    cases::involved_of(conn, &row.id)?,
                    cases::notes_of(conn, &row.id)?,
                    store::shares_of_follow_up(conn, &row.id)?,
                    row,
                ));
            }
            let involved_in = cases::follow_ups_involving(conn, &lookup)?;
            let mut consents = Vec::new();
            for f in &follow_up_ids {
                consents.extend(store::consents_of_follow_up(conn, f)?);
            }
            let appointments = schedule::appointments_of_person(conn, &lookup, &follow_up_ids)?;
            Ok(Some((
                person,
                referrals,
                follow_ups,
                involved_in,
                consents,
                appointments,
            )))
        })
        .await?;
    let Some((person, referrals, follow_ups, involved_in, consents, appointments)) = gathered
    else {
        return Err(ApiError::not_found("no person with this id"));
    };
    let follow_ups = follow_ups
        .into_iter()
        .map(
            |(staff_ids, objectives, involved, notes, share_decisions, follow_up)| {
                let notes = notes
                    .into_iter()
                    .map(|n| {
                        let sealed = Sealed {
                            key_id: n.key_id,
                            nonce: n.nonce,
                            ciphertext: n.ciphertext,
                        };
                        Ok(ExportedNote {
                            body: state
                                .notes
                                .open(&sealed, &note_context(&n.id, &n.follow_up_id))
                                .map_err(ApiError::internal)?,
                            id: n.id,
                            kind: n.kind,
                            author_id: n.author_id,
                            created_at: n.created_at,
                        })
                    })
                    .collect::<Result<_, ApiError>>()?;
                Ok(ExportedFollowUp {
                    follow_up,
                    staff_ids,
                    objectives,
                    involved,
                    notes,
                    share_decisions,
                })
            },
        )
        .collect::<Result<_, ApiError>>()?;
    audit::record(
        &state,
        vec![audit::entry(
            Some(&auth.actor),
            &auth.ctx,
            "export_person_data",
            "person",
            Some(&id),
            Outcome::Success,
        )],
    )
    .await?;
    Ok(HttpResponse::Ok().json(PersonExport {
        generated_at: state.clock.now(),
        person,
        referrals,
        follow_ups,
        involved_in_follow_up_ids: involved_in,
        consents,
        appointments,
    }))
}

/// Deserializes a field that may be absent (keep), `null` (clear) or a
/// value (replace).
fn nullable<'de, D, T>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: serde::Deserialize<'de>,
{
    <Option<T> as serde::Deserialize>::deserialize(deserializer).map(Some)
}

/// A person's record as stored (rectification answers with it).
#[derive(Debug, Serialize, ToSchema)]
pub struct PersonRecord {
    /// Id.
    pub id: String,
    /// Young person, relative or professional.
    pub kind: String,
    /// First name or pseudonym.
    pub first_name: String,
    /// Last name.
    pub last_name: Option<String>,
    /// Birth date.
    pub birth_date: Option<NaiveDate>,
    /// Birth year.
    pub birth_year: Option<i32>,
    /// Gender.
    pub gender: Option<String>,
    /// Where the person lives.
    pub departement_code: Option<String>,
    /// Placement.
    pub placement: Option<String>,
    /// ASE or PJJ measure.
    pub measure: Option<String>,
    /// Relationship to the young person (relatives).
    pub relationship: Option<String>,
    /// Holds parental authority (relatives).
    pub parental_authority: Option<bool>,
    /// Organisation (professionals).
    pub organisation_name: Option<String>,
    /// Role (professionals).
    pub professional_role: Option<String>,
    /// Phone or e-mail.
    pub contact: Option<String>,
    /// Version, as in the `ETag`.
    pub version: i64,
    /// Last changed.
    pub updated_at: DateTime<Utc>,
}

impl From<PersonRow> for PersonRecord {
    fn from(p: PersonRow) -> Self {
        Self {
            birth_date: p
                .birth_date
                .as_deref()
                .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok()),
            updated_at: crate::wire::instant(p.updated_at),
            id: p.id,
            kind: p.kind,
            first_name: p.first_name,
            last_name: p.last_name,
            birth_year: p.birth_year,
            gender: p.gender,
            departement_code: p.departement_code,
            placement: p.placement,
            measure: p.measure,
            relationship: p.relationship,
            parental_authority: p.parental_authority,
            organisation_name: p.organisation_name,
            professional_role: p.professional_role,
            contact: p.contact,
            version: p.version,
        }
    }
}

/// Corrections to a person's record: an absent field is kept, `null`
/// clears an optional one.
#[derive(Debug, Deserialize, Serialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RectifyPerson {
    /// First name or pseudonym.
    #[validate(length(
        min = 1,
        max = 100,
        message = "first_name must have 1 to 100 characters"
    ))]
    #[schema(min_length = 1, max_length = 100)]
    pub first_name: Option<String>,
    /// Last name.
    #[serde(default, deserialize_with = "nullable")]
    #[validate(length(
        min = 1,
        max = 100,
        message = "last_name must have 1 to 100 characters"
    ))]
    #[schema(value_type = Option<String>, min_length = 1, max_length = 100)]
    pub last_name: Option<Option<String>>,
    /// Birth date (replaces the birth year).
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<NaiveDate>)]
    pub birth_date: Option<Option<NaiveDate>>,
    /// Birth year, when the date is not known (clears the date).
    #[serde(default, deserialize_with = "crate::wire::optional_integer")]
    #[validate(range(
        min = 1900,
        max = 2100,
        message = "birth_year must be from 1900 to 2100"
    ))]
    #[schema(minimum = 1900, maximum = 2100)]
    pub birth_year: Option<i32>,
    /// Gender.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<GenderWire>)]
    pub gender: Option<Option<GenderWire>>,
    /// Where the person lives (INSEE code).
    #[validate(custom(function = "crate::wire::departement_code"))]
    #[schema(pattern = "^([0-9]{2}|2[ABab]|9[78][0-9])$")]
    pub departement_code: Option<String>,
    /// Placement, free text.
    #[serde(default, deserialize_with = "nullable")]
    #[validate(length(max = 200, message = "placement has at most 200 characters"))]
    #[schema(value_type = Option<String>, max_length = 200)]
    pub placement: Option<Option<String>>,
    /// ASE or PJJ measure, free text.
    #[serde(default, deserialize_with = "nullable")]
    #[validate(length(max = 200, message = "measure has at most 200 characters"))]
    #[schema(value_type = Option<String>, max_length = 200)]
    pub measure: Option<Option<String>>,
    /// Relationship to the young person (relatives).
    #[serde(default, deserialize_with = "nullable")]
    #[validate(length(max = 100, message = "relationship has at most 100 characters"))]
    #[schema(value_type = Option<String>, max_length = 100)]
    pub relationship: Option<Option<String>>,
    /// Holds parental authority (relatives).
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<bool>)]
    pub parental_authority: Option<Option<bool>>,
    /// Organisation (professionals).
    #[serde(default, deserialize_with = "nullable")]
    #[validate(length(max = 200, message = "organisation_name has at most 200 characters"))]
    #[schema(value_type = Option<String>, max_length = 200)]
    pub organisation_name: Option<Option<String>>,
    /// Role (professionals).
    #[serde(default, deserialize_with = "nullable")]
    #[validate(length(max = 100, message = "professional_role has at most 100 characters"))]
    #[schema(value_type = Option<String>, max_length = 100)]
    pub professional_role: Option<Option<String>>,
    /// Phone or e-mail.
    #[serde(default, deserialize_with = "nullable")]
    #[validate(length(max = 200, message = "contact has at most 200 characters"))]
    #[schema(value_type = Option<String>, max_length = 200)]
    pub contact: Option<Option<String>>,
}

/// The follow-ups and referrals through which the caller may reach a person,
/// as authorization resources' owned parts.
struct Reach {
    follow_ups: Vec<(DepartementCode, Vec<String>)>,
    referrals: Vec<(Option<String>, DepartementCode)>,
}

/// Authorizes `action` on a person through any follow-up (in the active
/// base) or referral that concerns them; 404 when there is no such person.
async fn reach_person(
    state: &AppState,
    auth: &Authenticated,
    id: &str,
    action: Action,
) -> Result<(), ApiError> {
    let lookup = id.to_owned();
    let reach = state
        .db
        .run(move |conn| {
            if cases::find_person(conn, &lookup)?.is_none() {
                return Ok::<_, ApiError>(None);
            }
            let mut ids: Vec<String> = cases::follow_ups_of_person(conn, &lookup)?
                .into_iter()
                .map(|f| f.id)
                .collect();
            ids.extend(cases::follow_ups_involving(conn, &lookup)?);
            let mut follow_ups = Vec::new();
            for f in ids {
                // Archived follow-ups are out of the active base.
                if let Some(row) = cases::find_follow_up(conn, &f)? {
                    let staff = cases::staff_of(conn, &row)?;
                    follow_ups.push((stored_departement(&row.departement_code)?, staff));
                }
            }
            let mut referrals = Vec::new();
            for r in cases::referrals_of_person(conn, &lookup)? {
                // Only those still in the active base (`find_referral` skips
                // the ones whose follow-up is archived).
                if cases::find_referral(conn, &r.id)?.is_some() {
                    referrals.push((
                        r.source_organisation_id,
                        stored_departement(&r.departement_code)?,
                    ));
                }
            }
            Ok(Some(Reach {
                follow_ups,
                referrals,
            }))
        })
        .await?;
    let resources: Vec<Resource<'_>> =
        match &reach {
            None => Vec::new(),
            Some(reach) => reach
                .follow_ups
                .iter()
                .map(|(departement, staff)| Resource::FollowUp { departement, staff })
                .chain(reach.referrals.iter().map(|(organisation, departement)| {
                    Resource::Referral {
                        organisation_id: organisation.as_deref(),
                        departement,
                    }
                }))
                .collect(),
        };
    // Allowed through any of them; else refused (and audited) on the first.
    let resource = resources
        .iter()
        .copied()
        .find(|r| authorize(&auth.actor, action, *r).is_ok())
        .or_else(|| resources.first().copied())
        .unwrap_or(Resource::Service);
    permit(state, auth, action, resource, "person", Some(id)).await?;
    if reach.is_none() {
        return Err(ApiError::not_found("no person with this id"));
    }
    Ok(())
}

/// Read a person's record.
#[utoipa::path(
    operation_id = "getPerson",
    tag = "data-protection",
    summary = "Read a person's record",
    description = "The record as stored, with its `ETag` for rectification. Staff who may read a follow-up of, \
                   or triage a referral about, the person (404 otherwise). Audited.",
    params(("id" = String, Path, description = "Person id", pattern = "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The record", body = PersonRecord, headers(("ETag" = String, description = "Its version"))),
        (status = 400, response = crate::problem::BadRequest),
        (status = 401, response = crate::problem::Unauthorized),
        (status = 403, response = crate::problem::Forbidden),
        (status = 404, response = crate::problem::NotFound),
        (status = 503, response = crate::problem::Unavailable),
    ),
)]
#[get("/people/{id}")]
pub async fn get(
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = parse_id("id", &id)?;
    reach_person(&state, &auth, &id, Action::ReadPerson).await?;
    let lookup = id.clone();
    let row = state
        .db
        .run(move |conn| cases::find_person(conn, &lookup))
        .await?
        .ok_or_else(|| ApiError::not_found("no person with this id"))?;
    audit::record(
        &state,
        vec![audit::entry(
            Some(&auth.actor),
            &auth.ctx,
            "read_person",
            "person",
            Some(&id),
            Outcome::Success,
        )],
    )
    .await?;
    let version = row.version;
    Ok(versioned_json(
        StatusCode::OK,
        &PersonRecord::from(row),
        version,
    ))
}

/// Rectify a person's record.
#[utoipa::path(
    operation_id = "rectifyPerson",
    tag = "data-protection",
    summary = "Rectify a person's record",
    description = "Data-subject right to rectification (RGPD art. 16) through an ordinary update: an absent \
                   field is kept, `null` clears an optional one; a birth date replaces the birth year and \
                   the other way round. Staff who may manage a follow-up of, or triage a referral about, \
                   the person (404 for a person outside their reach). Needs `If-Match`; audited. A birth \
                   date in the future is refused (422 `birth-date-in-future`); an erased person is not filled in again (409 \
                   `person-erased`).",
    params(
        ("id" = String, Path, description = "Person id", pattern = "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"),
        ("If-Match" = String, Header, description = "The ETag of the version read", pattern = "^\"v[0-9]{1,18}\"$", example = "\"v1\""),
    ),
    request_body(content = RectifyPerson, content_type = "application/json"),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The record", body = PersonRecord, headers(("ETag" = String, description = "Its new version"))),
        (status = 400, response = crate::problem::BadRequest),
        (status = 401, response = crate::problem::Unauthorized),
        (status = 403, response = crate::problem::Forbidden),
        (status = 404, response = crate::problem::NotFound),
        (status = 409, response = crate::problem::Conflict),
        (status = 412, response = crate::problem::PreconditionFailed),
        (status = 413, response = crate::problem::PayloadTooLarge),
        (status = 415, response = crate::problem::UnsupportedMediaType),
        (status = 422, response = crate::problem::Unprocessable),
        (status = 428, response = crate::problem::PreconditionRequired),
        (status = 503, response = crate::problem::Unavailable),
    ),
)]
#[patch("/people/{id}")]
pub async fn rectify(
    req: HttpRequest,
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<String>,
    body: ApiJson<RectifyPerson>,
) -> Result<HttpResponse, ApiError> {
    let id = parse_id("id", &id)?;
    reach_person(&state, &auth, &id, Action::RectifyPerson).await?;
    let body = body.into_inner()?;
    let expected = if_match(&req)?;
    let now = state.clock.now();
    if let Some(Some(date)) = body.birth_date
        && date > now.date_naive()
    {
        return Err(ApiError::rule(
            "birth-date-in-future",
            "Birth date in the future",
            "birth_date cannot be later than today",
        ));
    }
    let first_name = body.first_name.as_deref().map(str::trim).map(str::to_owned);
    if first_name.as_deref() == Some("") {
        return Err(ApiError::invalid_field(
            "first_name",
            "length",
            "first_name must have 1 to 100 characters",
        ));
    }
    let (birth_date, birth_year) = match (body.birth_date, body.birth_year) {
        (Some(Some(date)), _) => (
            Some(Some(date.format("%Y-%m-%d").to_string())),
            Some(Some(date.year())),
        ),
        (Some(None), year) => (Some(None), Some(year)),
        (None, Some(year)) => (Some(None), Some(Some(year))),
        (None, None) => (None, None),
    };
    let changes = PersonChanges {
        name_key: first_name.as_deref().map(name_key),
        first_name,
        last_name: body.last_name,
        birth_date,
        birth_year,
        gender: body.gender.map(|g| g.map(|g| g.0.as_str().to_owned())),
        departement_code: body
            .departement_code
            .map(|code| DepartementCode::parse(&code).map(|c| Some(c.to_string())))
            .transpose()
            .map_err(|e| ApiError::invalid_field("departement_code", "format", e.to_string()))?,
        placement: body.placement,
        measure: body.measure,
        relationship: body.relationship,
        parental_authority: body.parental_authority,
        organisation_name: body.organisation_name,
        professional_role: body.professional_role,
        contact: body.contact,
    };
    let entry = audit::entry(
        Some(&auth.actor),
        &auth.ctx,
        "rectify_person",
        "person",
        Some(&id),
        Outcome::Success,
    );
    let row = state
        .db
        .transaction(move |conn| {
            if adosexo_persistence::retention::erased(conn, &id)? {
                return Err(ApiError::conflict(
                    "person-erased",
                    "Person erased",
                    "this person's data was erased on their request; it is not filled in again",
                ));
            }
            let Some(row) = cases::rectify_person(conn, &id, expected, &changes, now)? else {
                return Err(ApiError::precondition_failed());
            };
            adosexo_persistence::audit::append(conn, &[entry], now)?;
            Ok(row)
        })
        .await?;
    let version = row.version;
    Ok(versioned_json(
        StatusCode::OK,
        &PersonRecord::from(row),
        version,
    ))
}
