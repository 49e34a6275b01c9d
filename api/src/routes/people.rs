//! Data-subject rights: an export of everything held on one person.

use actix_web::{HttpResponse, get, web};
use adosexo_domain::authz::{Action, Resource};
use adosexo_persistence::cases::{
    self, FollowUpRow, ObjectiveRow, PersonRow, ReferralEventRow, ReferralRow,
};
use adosexo_persistence::consent::{self as store, ConsentRow, ShareRow};
use adosexo_persistence::schedule::{self, AppointmentRow};
use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use super::followups::note_context;
use crate::audit::{self, Outcome};
use crate::auth::Authenticated;
use crate::crypto::Sealed;
use crate::guard::permit;
use crate::pagination::parse_id;
use crate::problem::ApiError;
use crate::state::AppState;

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
