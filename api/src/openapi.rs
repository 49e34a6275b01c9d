//! The OpenAPI 3.1 document, generated from the registered routes.

use actix_web::App;
use utoipa::OpenApi;
use utoipa::openapi::OpenApi as Document;
use utoipa_actix_web::AppExt;

use utoipa::Modify;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};

use crate::problem::{
    BadRequest, Conflict, FieldError, Forbidden, Gone, NotFound, PayloadTooLarge,
    PreconditionFailed, PreconditionRequired, Problem, TooManyRequests, Unauthorized, Unavailable,
    Unprocessable, UnsupportedMediaType,
};
use crate::routes;

/// Declares the bearer (JWT) security scheme.
struct BearerScheme;

impl Modify for BearerScheme {
    fn modify(&self, openapi: &mut Document) {
        if let Some(components) = openapi.components.as_mut() {
            components.add_security_scheme(
                "bearer",
                SecurityScheme::Http(
                    HttpBuilder::new()
                        .scheme(HttpAuthScheme::Bearer)
                        .bearer_format("JWT")
                        .description(Some(
                            "An access token from `createToken` (EdDSA JWT, 15 minutes).",
                        ))
                        .build(),
                ),
            );
        }
    }
}

/// `TokenRequest` is internally tagged: serde refuses unknown fields of
/// each grant, but utoipa cannot say so on enum variants. This closes them.
struct ClosedTokenGrants;

impl Modify for ClosedTokenGrants {
    fn modify(&self, openapi: &mut Document) {
        use utoipa::openapi::RefOr;
        use utoipa::openapi::schema::{AdditionalProperties, Schema};
        let grants = openapi
            .components
            .as_mut()
            .and_then(|c| c.schemas.get_mut("TokenRequest"));
        if let Some(RefOr::T(Schema::OneOf(one_of))) = grants {
            for item in &mut one_of.items {
                if let RefOr::T(Schema::Object(object)) = item {
                    object.additional_properties =
                        Some(Box::new(AdditionalProperties::FreeForm(false)));
                }
            }
        }
    }
}

/// OpenAPI links for the main create → read → act chains, so that clients
/// (and schemathesis's stateful phase) can follow an id from one response
/// into the next request: `(from operation, status, link name, to
/// operation, parameters)`; a value is a runtime expression.
/// `(from operation, status, link name, to operation, parameters)`.
type Link = (
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static [(&'static str, &'static str)],
);

const LINKS: &[Link] = {
    const BODY_ID: (&str, &str) = ("path.id", "$response.body#/id");
    const ETAG: (&str, &str) = ("header.If-Match", "$response.header.ETag");
    const REQUEST_ID: (&str, &str) = ("path.id", "$request.path.id");
    &[
        (
            "createReferral",
            "201",
            "GetReferral",
            "getReferral",
            &[BODY_ID],
        ),
        (
            "createReferral",
            "201",
            "ReviewReferral",
            "reviewReferral",
            &[BODY_ID, ETAG],
        ),
        (
            "createReferral",
            "201",
            "AcceptReferral",
            "acceptReferral",
            &[BODY_ID, ETAG],
        ),
        (
            "createReferral",
            "201",
            "DeclineReferral",
            "declineReferral",
            &[BODY_ID, ETAG],
        ),
        (
            "createReferral",
            "201",
            "WithdrawReferral",
            "withdrawReferral",
            &[BODY_ID, ETAG],
        ),
        (
            "getReferral",
            "200",
            "ReviewReferral",
            "reviewReferral",
            &[BODY_ID, ETAG],
        ),
        (
            "getReferral",
            "200",
            "AcceptReferral",
            "acceptReferral",
            &[BODY_ID, ETAG],
        ),
        (
            "reviewReferral",
            "200",
            "AcceptReferral",
            "acceptReferral",
            &[BODY_ID, ETAG],
        ),
        (
            "acceptReferral",
            "200",
            "GetFollowUp",
            "getFollowUp",
            &[("path.id", "$response.body#/follow_up_id")],
        ),
        (
            "getFollowUp",
            "200",
            "UpdateFollowUp",
            "updateFollowUp",
            &[BODY_ID, ETAG],
        ),
        (
            "getFollowUp",
            "200",
            "ChangeFollowUpStatus",
            "changeFollowUpStatus",
            &[BODY_ID, ETAG],
        ),
        (
            "getFollowUp",
            "200",
            "SetFollowUpObjective",
            "setFollowUpObjective",
            &[BODY_ID],
        ),
        (
            "getFollowUp",
            "200",
            "CreateFollowUpNote",
            "createFollowUpNote",
            &[BODY_ID],
        ),
        (
            "getFollowUp",
            "200",
            "CreateFollowUpConsent",
            "createFollowUpConsent",
            &[BODY_ID],
        ),
        (
            "getFollowUp",
            "200",
            "GetConsentCoverage",
            "getConsentCoverage",
            &[BODY_ID],
        ),
        (
            "createFollowUpConsent",
            "201",
            "ListFollowUpConsents",
            "listFollowUpConsents",
            &[REQUEST_ID],
        ),
        (
            "createFollowUpConsent",
            "201",
            "WithdrawConsent",
            "withdrawConsent",
            &[REQUEST_ID, ("path.consent_id", "$response.body#/id"), ETAG],
        ),
        (
            "createFollowUpConsent",
            "201",
            "InvalidateConsent",
            "invalidateConsent",
            &[REQUEST_ID, ("path.consent_id", "$response.body#/id"), ETAG],
        ),
        (
            "createAppointment",
            "201",
            "GetAppointment",
            "getAppointment",
            &[BODY_ID],
        ),
        (
            "createAppointment",
            "201",
            "ChangeAppointment",
            "changeAppointment",
            &[BODY_ID, ETAG],
        ),
        (
            "getAppointment",
            "200",
            "ChangeAppointment",
            "changeAppointment",
            &[BODY_ID, ETAG],
        ),
        (
            "createGroupSession",
            "201",
            "GetGroupSession",
            "getGroupSession",
            &[BODY_ID],
        ),
        (
            "createGroupSession",
            "201",
            "ChangeGroupSessionStatus",
            "changeGroupSessionStatus",
            &[BODY_ID, ETAG],
        ),
        (
            "createGroupSession",
            "201",
            "CreateGroupRegistration",
            "createGroupRegistration",
            &[BODY_ID],
        ),
        (
            "createGroupSession",
            "201",
            "ListGroupRegistrations",
            "listGroupRegistrations",
            &[BODY_ID],
        ),
        (
            "createGroupSession",
            "201",
            "RecordGroupAttendance",
            "recordGroupAttendance",
            &[BODY_ID, ETAG],
        ),
        (
            "getGroupSession",
            "200",
            "ChangeGroupSessionStatus",
            "changeGroupSessionStatus",
            &[BODY_ID, ETAG],
        ),
        (
            "createGroupRegistration",
            "201",
            "CancelGroupRegistration",
            "cancelGroupRegistration",
            &[REQUEST_ID, ("path.registration_id", "$response.body#/id")],
        ),
    ]
};

/// Every operation of the document (the methods the API uses).
fn operations_mut(
    paths: &mut utoipa::openapi::Paths,
) -> impl Iterator<Item = &mut utoipa::openapi::path::Operation> {
    paths.paths.values_mut().flat_map(|item| {
        [
            item.get.as_mut(),
            item.post.as_mut(),
            item.put.as_mut(),
            item.patch.as_mut(),
            item.delete.as_mut(),
        ]
        .into_iter()
        .flatten()
    })
}

/// Adds [`LINKS`] to the responses they start from.
fn add_links(doc: &mut Document) {
    use utoipa::openapi::RefOr;
    use utoipa::openapi::link::LinkBuilder;
    for operation in operations_mut(&mut doc.paths) {
        let Some(id) = operation.operation_id.clone() else {
            continue;
        };
        for (from, status, name, to, parameters) in LINKS {
            if *from != id {
                continue;
            }
            if let Some(RefOr::T(response)) = operation.responses.responses.get_mut(*status) {
                let link = parameters
                    .iter()
                    .fold(LinkBuilder::new().operation_id(*to), |link, (k, v)| {
                        link.parameter(*k, *v)
                    })
                    .build();
                response.links.insert((*name).to_owned(), RefOr::T(link));
            }
        }
    }
}

/// Top-level metadata and shared components.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "adosexo API",
        description = "REST API of the Ado Sexo programme: referrals from child-welfare (ASE) and \
                       youth-justice (PJJ) services, follow-ups, consent and information sharing, \
                       scheduling, public information and statistics.\n\n\
                       Every error is RFC 9457 problem details (`application/problem+json`) whose \
                       `type` is `urn:adosexo:problem:` followed by a stable tag.\n\n\
                       Problems speak English, or French when `Accept-Language` prefers it \
                       (`fr`, `fr-FR`, `fr;q=0.9, en;q=0.8`): `title`, `detail` and the \
                       fields' `message` are translated, `type`, `status`, field names and codes \
                       and the OAuth `error` codes never are. Problems carry `Content-Language` \
                       and `Vary: Accept-Language`.",
        license(name = "AGPL-3.0-or-later", identifier = "AGPL-3.0-or-later"),
        contact(name = "The Ado Sexo programme"),
    ),
    // Relative: the server that serves the document (`/api/v1/openapi.json`).
    servers((url = "/", description = "The server that serves this document")),
    components(
        schemas(Problem, FieldError),
        responses(
            BadRequest, NotFound, Gone, Unavailable, Unauthorized, Forbidden, Conflict, PreconditionFailed,
            PreconditionRequired, PayloadTooLarge, UnsupportedMediaType, Unprocessable, TooManyRequests
        ),
    ),
    modifiers(&BearerScheme),
    // Partner first: a partner app's developer reads the groups top down
    // (token, referrals, booking, the public data), then the rest of what
    // partners use, the team's own work, and administration last.
    tags(
        (name = "auth", description = "Start here. Tokens: client credentials for partner apps (OAuth 2.0, form or JSON), password for people, refresh, revocation, sign-out; the token's verification keys and the authorization server's metadata"),
        (name = "referrals", description = "Referrals: partners send them (safely retried with `Idempotency-Key`) and follow their timeline; the team reviews, accepts, declines or redirects them, with the child-protection decision when the law requires one"),
        (name = "scheduling", description = "Free first-meeting slots and their booking by partners; appointments, sites and permanences (recurring, with occurrences cancelled or moved)"),
        (name = "public", description = "No token: the map of permanence sites (GeoJSON), the directory of services and the contacts shown on the public page; their administration by admins"),
        (name = "webhooks", description = "Partner integration: webhook subscriptions, deliveries and the event feed"),
        (name = "professionals", description = "Partnership agreements, the resource library, professionals' sign-up to trainings and case reviews"),
        (name = "calendars", description = "iCalendar feeds: the permanences of a site or a département (public) and a staff member's agenda (by secret link)"),
        (name = "me", description = "The authenticated caller: who it is, TOTP enrolment, its referrals to triage and its follow-ups"),
        (name = "reference", description = "Reference data: départements and regions"),
        (name = "follow-ups", description = "Follow-ups opened from accepted referrals: their measure, staff, people involved, objectives and sealed notes"),
        (name = "consents", description = "Consents given by young people and parents, purpose by purpose: recorded, withdrawn, invalidated, and whether a purpose is covered at an instant"),
        (name = "sharing", description = "Decisions to share a follow-up's fields with a partner for a period, and what the partner then reads"),
        (name = "group-sessions", description = "Group sessions (workshops, trainings, case reviews): places, registrations and waitlist, attendance"),
        (name = "statistics", description = "Aggregates for analysts, small cells suppressed; JSON, CSV or a printable annual report"),
        (name = "data-protection", description = "People's rights (GDPR): a person's data, its export and rectification, erasure requests, and the archive of closed follow-ups"),
        (name = "organisations", description = "The programme and its partner organisations"),
        (name = "accounts", description = "People's accounts"),
        (name = "clients", description = "Partner apps (client credentials)"),
        (name = "settings", description = "Security settings"),
        (name = "audit", description = "The audit trail"),
        (name = "operations", description = "Probes and the API's own description"),
    ),
)]
struct ApiDoc;

/// The document exactly as published in `openapi/openapi.json`.
pub fn document() -> Document {
    let (_, mut doc) = App::new()
        .into_utoipa_app()
        .openapi(ApiDoc::openapi())
        .configure(routes::configure)
        .split_for_parts();
    // After the routes brought their schemas in.
    ClosedTokenGrants.modify(&mut doc);
    doc.webhooks = Some(webhooks());
    add_links(&mut doc);
    forbid_nul_in_strings(&mut doc);
    anonymous_needs_no_requirement(&mut doc.paths);
    add_request_examples(&mut doc);
    if let Some(webhooks) = doc.webhooks.as_mut() {
        anonymous_needs_no_requirement(webhooks);
    }
    doc.info.version = "1.0.0".to_owned();
    doc
}

/// A realistic example of every request body, by operation (and media
/// type, for the token endpoints' form): shown by the docs page and by
/// generators, sent by schemathesis's example phase. Spectral checks each
/// against its schema (`oas3-valid-media-example`); a test checks that
/// every request body has one.
fn request_examples() -> Vec<(&'static str, &'static str, serde_json::Value)> {
    use serde_json::json;
    const JSON: &str = "application/json";
    const FORM: &str = "application/x-www-form-urlencoded";
    const ORG: &str = "0193a5c4-1f2e-7d3a-9b1c-2f4e5a6b7c8d";
    const STAFF: &str = "0193a5c4-2b3c-7e4f-8a1b-3c4d5e6f7a8b";
    const STAFF_2: &str = "0193a5c4-2b3c-7e4f-8a1b-3c4d5e6f7a8c";
    const REFERRAL: &str = "0193b0d2-6a7b-7c8d-9e0f-1a2b3c4d5e6f";
    const SITE: &str = "0193a9e1-4c5d-7e6f-8a9b-0c1d2e3f4a5b";
    const PERMANENCE: &str = "0193a9e1-7d8e-7f9a-8b0c-1d2e3f4a5b6c";
    const PERSON: &str = "0193b0d2-6a7b-7c8d-9e0f-1a2b3c4d5e70";
    const SESSION: &str = "0193c1e3-8b9c-7dae-8fb0-c1d2e3f4a5b6";
    const REGISTRATIONS: [&str; 3] = [
        "0193c1e3-9cad-7ebf-80c1-d2e3f4a5b6c7",
        "0193c1e3-9cad-7ebf-80c1-d2e3f4a5b6c8",
        "0193c1e3-9cad-7ebf-80c1-d2e3f4a5b6c9",
    ];
    let directory_entry = json!({
        "name": "CIDFF de Seine-Saint-Denis",
        "organisation": "Centre d'information sur les droits des femmes et des familles",
        "category": "legal_aid",
        "national": false,
        "departements": ["93"],
        "address": "1 rue de la Liberté, 93000 Bobigny",
        "phone": "01 48 36 99 02",
        "email": "contact@cidff93.example.org",
        "website": "https://cidff93.example.org",
        "last_verified": "2026-11-02"
    });
    let client_credentials = json!({
        "grant_type": "client_credentials",
        "client_id": ORG,
        "client_secret": "s3cr3t-shown-once-at-creation-9f8e7d6c",
        "scope": "referrals:read referrals:write"
    });
    vec![
        (
            "createToken",
            JSON,
            json!({
                "grant_type": "client_credentials",
                "client_id": ORG,
                "client_secret": "s3cr3t-shown-once-at-creation-9f8e7d6c"
            }),
        ),
        ("createToken", FORM, client_credentials),
        (
            "revokeToken",
            FORM,
            json!({
                "token": "rt_8f14e45fceea167a5a36dedd4bea2543",
                "token_type_hint": "refresh_token"
            }),
        ),
        ("confirmTotpEnrolment", JSON, json!({"code": "492039"})),
        (
            "createOrganisation",
            JSON,
            json!({
                "name": "ASE Seine-Saint-Denis", "kind": "ase", "departement_code": "93", "shares_secrecy": true
            }),
        ),
        (
            "updateOrganisation",
            JSON,
            json!({
                "name": "Aide sociale à l'enfance de Seine-Saint-Denis"
            }),
        ),
        (
            "createAccount",
            JSON,
            json!({
                "email": "camille.martin@ase93.example.org",
                "display_name": "Camille Martin",
                "organisation_id": ORG,
                "roles": ["partner"],
                "territory": [],
                "password": "un-long-mot-de-passe-2027"
            }),
        ),
        (
            "updateAccount",
            JSON,
            json!({
                "display_name": "Camille Martin", "roles": ["coordinator"], "territory": ["93", "95"]
            }),
        ),
        (
            "createClient",
            JSON,
            json!({
                "name": "ASE 93 referral app",
                "organisation_id": ORG,
                "scopes": ["referrals:read", "referrals:write", "appointments:read", "appointments:write", "events:read"]
            }),
        ),
        ("putSecuritySettings", JSON, json!({"totp_required": true})),
        (
            "createReferral",
            JSON,
            json!({
                "public": "young_person",
                "context": "pre_prostitution",
                "source": "partner_organisation",
                "referrer": {"name": "Mme Diallo, éducatrice ASE", "contact": "01 43 93 00 00"},
                "person": {"first_name": "Lina", "birth_date": "2011-04-02", "gender": "female", "departement_code": "93"},
                "risk_indicators": ["runaway", "older_partner", "money_or_gifts"],
                "summary": "Fugues répétées depuis septembre ; revient avec des vêtements neufs et un téléphone qu'elle ne peut pas expliquer ; un homme majeur vient la chercher à la sortie du foyer.",
                "urgency": "urgent"
            }),
        ),
        ("acceptReferral", JSON, json!({"lead_staff_id": STAFF})),
        (
            "declineReferral",
            JSON,
            json!({
                "reason": "Pas d'indicateur de prostitution : orientation vers la Maison des adolescents."
            }),
        ),
        (
            "redirectReferral",
            JSON,
            json!({
                "to": "Amicale du Nid 93", "reason": "Jeune majeure déjà suivie par l'association."
            }),
        ),
        (
            "withdrawReferral",
            JSON,
            json!({
                "reason": "Envoyée en double : une autre orientation concerne la même jeune."
            }),
        ),
        (
            "recordProtectionDecision",
            JSON,
            json!({
                "kind": "information_preoccupante", "on": "2026-11-12", "details": "IP envoyée à la CRIP 93"
            }),
        ),
        (
            "updateFollowUp",
            JSON,
            json!({
                "measure": {"kind": "ase_placement", "start": "2026-09-15"}, "add_staff": [STAFF_2]
            }),
        ),
        (
            "changeFollowUpStatus",
            JSON,
            json!({"action": "close", "closure_reason": "goals_reached"}),
        ),
        (
            "setFollowUpObjective",
            JSON,
            json!({"objective": "schooling_and_insertion", "status": "in_progress"}),
        ),
        (
            "addFollowUpPerson",
            JSON,
            json!({
                "kind": "relative", "first_name": "Fatou", "relationship": "mère",
                "parental_authority": true, "contact": "06 12 34 56 78"
            }),
        ),
        (
            "createFollowUpNote",
            JSON,
            json!({
                "kind": "meeting",
                "body": "Entretien au point écoute avec Lina et son éducatrice. Elle accepte un deuxième rendez-vous et parle de reprendre sa formation."
            }),
        ),
        (
            "createFollowUpConsent",
            JSON,
            json!({
                "purpose": "family_contact",
                "given_by": ["young_person", "parental_authority"],
                "parental_authority_holder_id": PERSON,
                "method": "written",
                "evidence_reference": "Formulaire signé le 12 novembre 2026, dossier papier",
                "given_at": "2026-11-12T14:30:00+01:00",
                "valid_until": "2027-11-12"
            }),
        ),
        (
            "withdrawConsent",
            JSON,
            json!({"withdrawn_by": "young_person"}),
        ),
        (
            "invalidateConsent",
            JSON,
            json!({"reason": "Consentement saisi sur le mauvais suivi."}),
        ),
        (
            "createShareDecision",
            JSON,
            json!({
                "organisation_id": ORG,
                "purpose": "coordinated_support",
                "field_groups": ["follow_up_status", "next_appointment"],
                "family_informed": "yes",
                "justification": "Coordination avec l'éducatrice référente de l'ASE 93.",
                "valid_from": "2026-12-01",
                "valid_until": "2027-06-01"
            }),
        ),
        (
            "revokeShareDecision",
            JSON,
            json!({"reason": "Fin de la mesure ASE."}),
        ),
        (
            "rectifyPerson",
            JSON,
            json!({"last_name": "Benali", "birth_date": "2011-04-02"}),
        ),
        (
            "createErasureRequest",
            JSON,
            json!({
                "requested_by": "person", "received_at": "2026-11-20T10:15:00+01:00"
            }),
        ),
        (
            "createSite",
            JSON,
            json!({
                "name": "Maison des adolescents de Meaux",
                "kind": "youth_centre",
                "address": "12 rue de la République",
                "postcode": "77100",
                "city": "Meaux",
                "departement_code": "77",
                "latitude": 48.9601,
                "longitude": 2.8788,
                "public": true,
                "accessibility": "De plain-pied ; bus 2, arrêt Hôtel de Ville."
            }),
        ),
        (
            "updateSite",
            JSON,
            json!({"accessibility": "Entrée par la cour, rampe d'accès."}),
        ),
        (
            "createAgreement",
            JSON,
            json!({
                "organisation_id": ORG,
                "title": "Convention PACA 2027",
                "departements": ["13", "83"],
                "referent_ids": [STAFF],
                "starts_on": "2027-01-01",
                "ends_on": "2027-12-31"
            }),
        ),
        (
            "changeAgreementStatus",
            JSON,
            json!({"status": "suspended"}),
        ),
        (
            "createResource",
            JSON,
            json!({
                "title": "Guide de l'éducation à la vie affective",
                "description": "Repères pour parler de relations, de consentement et de risques avec des adolescents.",
                "audience": "professionals",
                "kind": "guide",
                "language": "fr",
                "visibility": "partners"
            }),
        ),
        (
            "registerProfessionals",
            JSON,
            json!({
                "professionals": [{"name": "Camille Martin"}, {"name": "Yanis Haddad"}]
            }),
        ),
        (
            "createCaseReviewRequest",
            JSON,
            json!({
                "departement_code": "13",
                "situation": "Adolescente de 15 ans placée en foyer, fugues de plusieurs jours, argent inexpliqué : l'équipe souhaite croiser les regards avant d'orienter.",
                "fictional": false
            }),
        ),
        (
            "scheduleCaseReviewRequest",
            JSON,
            json!({"group_session_id": SESSION}),
        ),
        (
            "createPermanence",
            JSON,
            json!({
                "site_id": SITE,
                "title": "Permanence du 2e mardi",
                "rrule": "FREQ=MONTHLY;BYDAY=2TU",
                "dtstart": "2027-01-01",
                "part_of_day": "explicit",
                "start_time": "14:00",
                "end_time": "17:00",
                "audience": "all",
                "staff_ids": [STAFF]
            }),
        ),
        (
            "updatePermanence",
            JSON,
            json!({"start_time": "13:30", "end_time": "16:30"}),
        ),
        (
            "splitPermanence",
            JSON,
            json!({
                "from_date": "2027-09-01", "changes": {"rrule": "FREQ=MONTHLY;BYDAY=1TU,3TU"}
            }),
        ),
        (
            "changePermanenceOccurrence",
            JSON,
            json!({
                "status": "moved",
                "starts_at": "2027-04-14T14:00:00+02:00",
                "ends_at": "2027-04-14T17:00:00+02:00",
                "reason": "Salle indisponible le mardi."
            }),
        ),
        (
            "createAppointment",
            JSON,
            json!({
                "mode": "permanence",
                "title": "Premier entretien",
                "referral_id": REFERRAL,
                "site_id": SITE,
                "starts_at": "2027-04-13T14:00:00+02:00",
                "ends_at": "2027-04-13T15:00:00+02:00",
                "staff_ids": [STAFF],
                "attendees": [{"kind": "young_person"}, {"kind": "referent_professional", "organisation_id": ORG}]
            }),
        ),
        (
            "changeAppointment",
            JSON,
            json!({
                "action": "reschedule",
                "starts_at": "2027-04-20T14:00:00+02:00",
                "ends_at": "2027-04-20T15:00:00+02:00",
                "reason": "La jeune a cours ce jour-là."
            }),
        ),
        (
            "bookFirstMeeting",
            JSON,
            json!({
                "referral_id": REFERRAL, "permanence_id": PERMANENCE,
                "starts_at": "2027-04-13T12:00:00Z", "duration": 60
            }),
        ),
        (
            "createGroupSession",
            JSON,
            json!({
                "kind": "parent_group",
                "title": "Groupe de parole parents",
                "mode": "in_person",
                "venue": "Maison des associations, salle 2",
                "departement_code": "93",
                "starts_at": "2027-05-18T18:00:00+02:00",
                "ends_at": "2027-05-18T20:00:00+02:00",
                "staff_ids": [STAFF],
                "capacity": 12,
                "audience": "parents"
            }),
        ),
        ("changeGroupSessionStatus", JSON, json!({"status": "held"})),
        (
            "createGroupRegistration",
            JSON,
            json!({"participant_name": "Nadia Benali", "category": "parents"}),
        ),
        (
            "recordGroupAttendance",
            JSON,
            json!({
                "present": [REGISTRATIONS[0], REGISTRATIONS[1]],
                "absent": [REGISTRATIONS[2]],
                "headcounts": [{"category": "parents", "age_band": "22_and_over", "count": 9}]
            }),
        ),
        ("createDirectoryEntry", JSON, directory_entry.clone()),
        ("replaceDirectoryEntry", JSON, directory_entry),
        (
            "putContact",
            JSON,
            json!({
                "team": "Équipe Ado Sexo Seine-Saint-Denis", "email": "equipe93@adosexo.example", "phone": "01 43 93 00 00"
            }),
        ),
        (
            "createWebhookSubscription",
            JSON,
            json!({
                "url": "https://ase93.example.org/adosexo/events",
                "event_types": ["referral.status_changed", "appointment.booked", "appointment.cancelled"]
            }),
        ),
    ]
}

/// Puts [`request_examples`] on their request bodies.
fn add_request_examples(doc: &mut Document) {
    use utoipa::openapi::RefOr;
    let examples = request_examples();
    for operation in operations_mut(&mut doc.paths) {
        let Some(id) = operation.operation_id.clone() else {
            continue;
        };
        let Some(RefOr::T(body)) = operation.request_body.as_mut() else {
            continue;
        };
        for (media, content) in body.content.iter_mut() {
            let RefOr::T(content) = content else {
                continue;
            };
            if let Some((_, _, example)) = examples
                .iter()
                .find(|(op, m, _)| *op == id && *m == media.as_str())
            {
                content.example = Some(example.clone());
            }
        }
    }
}

/// An operation open to anyone says `security: []` (no requirement,
/// overriding any global one), which generators read as anonymous; utoipa
/// writes `security(())` as `[{}]` (one empty requirement), which some
/// generators read as "authenticated, with no scheme". An operation where
/// a token is optional (`[{}, {"bearer": []}]`) keeps its empty requirement.
fn anonymous_needs_no_requirement(paths: &mut utoipa::openapi::Paths) {
    use utoipa::openapi::security::SecurityRequirement;
    for operation in operations_mut(paths) {
        if let Some(security) = operation.security.as_mut()
            && security.as_slice() == [SecurityRequirement::default()]
        {
            security.clear();
        }
    }
}

/// What every string of the document matches when it says nothing
/// stricter: no NUL character (PostgreSQL cannot store it; the API answers
/// 400 naming the field, `extract::refuse_unstorable_text`). Said in the
/// schema so that generators and validators know.
pub const NO_NUL: &str = "^[^\\u0000]*$";

/// Adds [`NO_NUL`] to every string schema without a pattern or an
/// enumeration (bytes excepted): components, parameters and request bodies.
fn forbid_nul_in_strings(doc: &mut Document) {
    use utoipa::openapi::RefOr;
    if let Some(components) = doc.components.as_mut() {
        components.schemas.values_mut().for_each(forbid_nul);
    }
    for operation in operations_mut(&mut doc.paths) {
        for parameter in operation.parameters.iter_mut().flatten() {
            if let RefOr::T(parameter) = parameter
                && let Some(schema) = parameter.schema.as_mut()
            {
                forbid_nul(schema);
            }
        }
        if let Some(RefOr::T(body)) = operation.request_body.as_mut() {
            for content in body.content.values_mut() {
                if let RefOr::T(content) = content
                    && let Some(schema) = content.schema.as_mut()
                {
                    forbid_nul(schema);
                }
            }
        }
    }
    fn forbid_nul(schema: &mut RefOr<utoipa::openapi::schema::Schema>) {
        use utoipa::openapi::schema::{
            ArrayItems, KnownFormat, Schema, SchemaFormat, SchemaType, Type,
        };
        let RefOr::T(schema) = schema else {
            return;
        };
        match schema {
            Schema::Object(object) => {
                let string = match &object.schema_type {
                    SchemaType::Type(t) => *t == Type::String,
                    SchemaType::Array(types) => types.contains(&Type::String),
                    SchemaType::AnyValue => false,
                };
                let bytes = matches!(
                    object.format,
                    Some(SchemaFormat::KnownFormat(
                        KnownFormat::Binary | KnownFormat::Byte
                    ))
                );
                if string && !bytes && object.pattern.is_none() && object.enum_values.is_none() {
                    object.pattern = Some(NO_NUL.to_owned());
                }
                object.properties.values_mut().for_each(forbid_nul);
            }
            Schema::Array(array) => {
                if let ArrayItems::RefOrSchema(items) = &mut array.items {
                    forbid_nul(items);
                }
            }
            Schema::OneOf(one) => one.items.iter_mut().for_each(forbid_nul),
            Schema::AllOf(all) => all.items.iter_mut().for_each(forbid_nul),
            Schema::AnyOf(any) => any.items.iter_mut().for_each(forbid_nul),
            _ => {}
        }
    }
}

/// The `webhooks` section: what a partner's endpoint receives, one entry
/// per event type (OpenAPI 3.1).
fn webhooks() -> utoipa::openapi::Paths {
    use adosexo_domain::webhooks::EventType;
    use utoipa::openapi::path::{
        HttpMethod, OperationBuilder, ParameterBuilder, ParameterIn, PathItem,
    };
    use utoipa::openapi::request_body::RequestBodyBuilder;
    use utoipa::openapi::{
        ContentBuilder, PathsBuilder, Ref, Required, ResponseBuilder, Type, schema::ObjectBuilder,
    };
    let header = |name: &str, description: &str, pattern: &str| {
        ParameterBuilder::new()
            .name(name)
            .parameter_in(ParameterIn::Header)
            .required(Required::True)
            .description(Some(description))
            .schema(Some(
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .pattern(Some(pattern)),
            ))
            .build()
    };
    let mut paths = PathsBuilder::new();
    for event in EventType::ALL {
        let data = match event {
            EventType::ReferralStatusChanged => {
                "`data`: `referral_id`, `reference`, `from_status` (null at submission), `status`, \
                 `version`, `changed_at`. Ordered per referral."
            }
            EventType::AppointmentBooked | EventType::AppointmentCancelled => {
                "`data`: `appointment_id`, `referral_id`, `status`, `confirmation`, `starts_at`, \
                 `ends_at`, `changed_at` — for appointments the partner proposed for its referral."
            }
            EventType::ShareGranted | EventType::ShareRevoked => {
                "`data`: `share_id`, `follow_up_id`, `valid_from`, `valid_until`, `revoked_at`, \
                 `changed_at`; the shared fields are read at `/api/v1/shared/follow-ups/{id}`."
            }
        };
        let operation = OperationBuilder::new()
            .tag("webhooks")
            .operation_id(Some(format!("webhook:{}", event.as_str())))
            .summary(Some(format!(
                "`{}` delivered to a subscription",
                event.as_str()
            )))
            .description(Some(format!(
                "POSTed to the subscription's URL. {data} Verify `Adosexo-Signature` \
                 (`t=<unix seconds>,v1=<hex HMAC-SHA256 of \"<t>.<raw body>\" under the secret>`), \
                 refuse a `t` more than 300 seconds from your clock (replays), and de-duplicate on \
                 `Adosexo-Event-Id`: delivery is at least once. Any 2xx acknowledges; anything \
                 else (or no answer within the time-out) is retried with exponential back-off \
                 and jitter, then put on the dead-letter list. Redirects are not followed."
            )))
            .parameter(header(
                "Adosexo-Signature",
                "`t=<unix seconds>,v1=<64 hex digits>`",
                "^t=[0-9]{1,12},v1=[0-9a-f]{64}$",
            ))
            .parameter(header(
                "Adosexo-Event-Id",
                "The event id (also `id` in the body): de-duplicate on it",
                "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$",
            ))
            .parameter(header(
                "Adosexo-Event-Type",
                "The event type (also `type` in the body)",
                "^[a-z_.]{1,64}$",
            ))
            .request_body(Some(
                RequestBodyBuilder::new()
                    .required(Some(Required::True))
                    .content(
                        "application/json",
                        ContentBuilder::new()
                            .schema(Some(Ref::from_schema_name("EventView")))
                            .build(),
                    )
                    .build(),
            ))
            .response(
                "2XX",
                ResponseBuilder::new().description("Acknowledged: not sent again"),
            )
            .response(
                "default",
                ResponseBuilder::new().description("Not acknowledged: retried later"),
            )
            .security(utoipa::openapi::security::SecurityRequirement::default());
        paths = paths.path(event.as_str(), PathItem::new(HttpMethod::Post, operation));
    }
    paths.build()
}

/// The document as pretty JSON with a final newline (the committed and
/// served form), with the cross-field rules ([`cross_field_rules`]).
pub fn document_json() -> Result<String, serde_json::Error> {
    let json = document().to_pretty_json()?;
    let mut json = with_cross_field_rules(&json)?;
    json.push('\n');
    Ok(json)
}

/// Rules between fields of a request body that the handlers enforce (422
/// naming the field) and JSON Schema can say, so that generators and
/// validators know them: `(schema, keywords added to it)`. Each must be
/// exactly the handler's rule: no body it accepts may fail it, no body it
/// refuses for this reason may pass it. "Given" means present and not null.
pub fn cross_field_rules() -> Vec<(&'static str, serde_json::Value)> {
    use serde_json::json;
    let given = |fields: &[&str]| {
        let properties: serde_json::Map<String, serde_json::Value> = fields
            .iter()
            .map(|f| ((*f).to_owned(), json!({"not": {"type": "null"}})))
            .collect();
        json!({"required": fields, "properties": properties})
    };
    let absent_or_null = |fields: &[&str]| -> serde_json::Value {
        let properties: serde_json::Map<String, serde_json::Value> = fields
            .iter()
            .map(|f| ((*f).to_owned(), json!({"type": "null"})))
            .collect();
        json!({"properties": properties})
    };
    let when = |field: &str, value: &str, then: serde_json::Value| json!({"if": {"required": [field], "properties": {field: {"const": value}}}, "then": then});
    vec![
        (
            // 1 to 101 départements unless national, then none.
            "DirectoryEntryInput",
            json!({
                "if": {"required": ["national"], "properties": {"national": {"const": true}}},
                "then": {"properties": {"departements": {"maxItems": 0}}},
                "else": {"required": ["departements"], "properties": {"departements": {"minItems": 1}}}
            }),
        ),
        (
            // A permanence appointment names its site; the département comes
            // from the site, the referral, the follow-up or departement_code.
            "CreateAppointment",
            json!({"allOf": [
                when("mode", "permanence", given(&["site_id"])),
                {"anyOf": [
                    given(&["site_id"]),
                    given(&["referral_id"]),
                    given(&["follow_up_id"]),
                    given(&["departement_code"]),
                ]},
            ]}),
        ),
        (
            // The département: departement_code or that of the site.
            "CreateGroupSession",
            json!({"anyOf": [given(&["departement_code"]), given(&["site_id"])]}),
        ),
        (
            // Rescheduling gives both times; cancelling says why.
            "AppointmentChange",
            json!({"allOf": [
                when("action", "reschedule", given(&["starts_at", "ends_at"])),
                when("action", "cancel", given(&["reason"])),
            ]}),
        ),
        (
            // A moved occurrence has both times, a cancelled one none.
            "OccurrenceChange",
            json!({
                "if": {"required": ["status"], "properties": {"status": {"const": "moved"}}},
                "then": given(&["starts_at", "ends_at"]),
                "else": absent_or_null(&["starts_at", "ends_at"]),
            }),
        ),
    ]
}

/// Adds [`cross_field_rules`] to the pretty-printed document. utoipa's
/// model has no `if`/`then`/`else`, and its extensions are a hash map whose
/// order would change from run to run, so the keywords are written into the
/// text, after each schema's opening brace (6 spaces in, under
/// `components.schemas`), in a fixed order.
fn with_cross_field_rules(json: &str) -> Result<String, serde_json::Error> {
    let mut out = json.to_owned();
    for (schema, keywords) in cross_field_rules() {
        let opening = format!("\n      \"{schema}\": {{\n");
        let Some(at) = out.find(&opening) else {
            return Err(serde::ser::Error::custom(format!(
                "no schema {schema} in the document"
            )));
        };
        let serde_json::Value::Object(keywords) = keywords else {
            return Err(serde::ser::Error::custom("rules are objects"));
        };
        let mut text = String::new();
        for (key, value) in &keywords {
            let value = serde_json::to_string_pretty(value)?.replace('\n', "\n        ");
            text.push_str(&format!(
                "        {}: {value},\n",
                serde_json::to_string(key)?
            ));
        }
        out.insert_str(at + opening.len(), &text);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const REGENERATE: &str =
        "cargo run -p adosexo-api --bin adosexo -- openapi > openapi/openapi.json";

    #[test]
    fn committed_document_is_what_the_code_generates() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../openapi/openapi.json");
        let generated = document_json().expect("document serialises");
        let committed = std::fs::read_to_string(path).unwrap_or_default();
        assert!(
            committed == generated,
            "openapi/openapi.json differs from what the code generates; regenerate it with:\n    {REGENERATE}"
        );
    }

    /// Every string field (path, as the extractor names it) of a request
    /// body schema, with a value of that schema where it has one.
    fn string_fields(
        doc: &serde_json::Value,
        schema: &serde_json::Value,
        path: &str,
        depth: u32,
        out: &mut Vec<String>,
    ) {
        let schema = match schema["$ref"].as_str() {
            Some(r) => {
                let name = r.rsplit('/').next().unwrap_or_default();
                &doc["components"]["schemas"][name]
            }
            None => schema,
        };
        if depth > 4 {
            return;
        }
        let types = match &schema["type"] {
            serde_json::Value::String(t) => vec![t.clone()],
            serde_json::Value::Array(ts) => ts
                .iter()
                .filter_map(|t| t.as_str().map(str::to_owned))
                .collect(),
            _ => Vec::new(),
        };
        if types.iter().any(|t| t == "string") {
            out.push(path.to_owned());
        }
        if let Some(properties) = schema["properties"].as_object() {
            for (name, property) in properties {
                let here = if path.is_empty() {
                    name.clone()
                } else {
                    format!("{path}.{name}")
                };
                string_fields(doc, property, &here, depth + 1, out);
            }
        }
        if types.iter().any(|t| t == "array") {
            string_fields(doc, &schema["items"], &format!("{path}[0]"), depth + 1, out);
        }
        for key in ["oneOf", "anyOf", "allOf"] {
            for alternative in schema[key].as_array().into_iter().flatten() {
                string_fields(doc, alternative, path, depth + 1, out);
            }
        }
    }

    /// A JSON body with `value` at `path` (`a.b[0].c`).
    fn body_with(path: &str, value: &str) -> serde_json::Value {
        let mut parts: Vec<&str> = path.split('.').collect();
        let mut current = serde_json::Value::String(value.to_owned());
        while let Some(part) = parts.pop() {
            let (name, in_array) = match part.strip_suffix("[0]") {
                Some(name) => (name, true),
                None => (part, false),
            };
            if in_array {
                current = serde_json::Value::Array(vec![current]);
            }
            current = serde_json::json!({ name: current });
        }
        current
    }

    /// Every string field of every JSON request body of the document.
    static REQUEST_STRING_FIELDS: std::sync::LazyLock<Vec<String>> =
        std::sync::LazyLock::new(|| {
            let doc: serde_json::Value =
                serde_json::from_str(&document_json().expect("serialises")).expect("json");
            let mut fields = Vec::new();
            for item in doc["paths"].as_object().expect("paths").values() {
                for op in item.as_object().expect("item").values() {
                    let schema = &op["requestBody"]["content"]["application/json"]["schema"];
                    if !schema.is_null() {
                        string_fields(&doc, schema, "", 0, &mut fields);
                    }
                }
            }
            fields.retain(|f| !f.is_empty());
            fields.sort();
            fields.dedup();
            fields
        });

    proptest::proptest! {
        /// Over every request body of the document: a NUL character put in
        /// any string field, at any place in its text, is refused naming
        /// exactly that field, before the body is decoded (so on
        /// PostgreSQL it never reaches a query).
        #[test]
        fn nul_in_any_string_field_of_any_request_body_is_named(
            pick in proptest::prelude::any::<proptest::sample::Index>(),
            text in "[a-zé ]{0,12}",
            at in proptest::prelude::any::<proptest::sample::Index>(),
        ) {
            let fields = &*REQUEST_STRING_FIELDS;
            proptest::prop_assert!(fields.len() > 100, "{} string fields", fields.len());
            let field = &fields[pick.index(fields.len())];
            let chars: Vec<char> = text.chars().collect();
            let cut = at.index(chars.len() + 1);
            let value: String = chars[..cut].iter().chain(['\0'].iter()).chain(chars[cut..].iter()).collect();
            let bytes = serde_json::to_vec(&body_with(field, &value)).expect("json");
            let refused = crate::extract::refuse_unstorable_text(&bytes).err().map(|e| e.problem());
            let named = refused.as_ref().and_then(|p| p.errors.first()).map(|e| (e.field.clone(), e.code.clone()));
            proptest::prop_assert_eq!(named, Some((field.clone(), "characters".to_owned())));
        }
    }

    #[test]
    fn every_input_string_says_it_holds_no_nul() {
        fn walk(value: &serde_json::Value, path: &str, out: &mut Vec<String>) {
            match value {
                serde_json::Value::Object(map) => {
                    let string = map.get("type").is_some_and(|t| {
                        t == "string"
                            || t.as_array()
                                .is_some_and(|ts| ts.iter().any(|t| t == "string"))
                    });
                    let free = !map.contains_key("pattern")
                        && !map.contains_key("enum")
                        && map.get("format").is_none_or(|f| f != "binary");
                    if string && free && !path.contains("/responses/") {
                        out.push(path.to_owned());
                    }
                    for (k, v) in map {
                        walk(v, &format!("{path}/{k}"), out);
                    }
                }
                serde_json::Value::Array(items) => {
                    for (i, v) in items.iter().enumerate() {
                        walk(v, &format!("{path}/{i}"), out);
                    }
                }
                _ => {}
            }
        }
        let json: serde_json::Value =
            serde_json::from_str(&document_json().expect("serialises")).expect("json");
        let mut free = Vec::new();
        walk(
            &json["components"]["schemas"],
            "components/schemas",
            &mut free,
        );
        walk(&json["paths"], "paths", &mut free);
        assert!(
            free.is_empty(),
            "strings that may hold NUL by the document: {free:?}"
        );
        assert!(
            document_json()
                .expect("json")
                .contains(NO_NUL.replace('\\', "\\\\").as_str())
        );
    }

    #[test]
    fn every_creating_post_declares_idempotency_key() {
        let json: serde_json::Value =
            serde_json::from_str(&document_json().expect("serialises")).expect("json");
        let mut missing = Vec::new();
        let mut creating = 0;
        for (path, item) in json["paths"].as_object().expect("paths") {
            let Some(post) = item.get("post") else {
                continue;
            };
            if post["responses"].get("201").is_none() {
                continue;
            }
            creating += 1;
            let declared = post["parameters"].as_array().is_some_and(|params| {
                params
                    .iter()
                    .any(|p| p["name"] == "Idempotency-Key" && p["in"] == "header")
            });
            if !declared {
                missing.push(path.clone());
            }
        }
        assert!(creating >= 23, "{creating} creating POSTs");
        assert!(
            missing.is_empty(),
            "creating POSTs without Idempotency-Key: {missing:?}"
        );
    }

    #[test]
    fn every_link_starts_and_ends_at_a_documented_operation() {
        let json: serde_json::Value =
            serde_json::from_str(&document_json().expect("serialises")).expect("json");
        let mut operations = std::collections::HashMap::new();
        for item in json["paths"].as_object().expect("paths").values() {
            for op in item.as_object().expect("item").values() {
                if let Some(id) = op["operationId"].as_str() {
                    operations.insert(id.to_owned(), op.clone());
                }
            }
        }
        let mut found = 0;
        for (from, status, name, to, parameters) in LINKS {
            let origin = operations.get(*from).unwrap_or_else(|| panic!("no {from}"));
            let link = &origin["responses"][*status]["links"][*name];
            assert_eq!(link["operationId"], *to, "{from} {status} {name}");
            let target = operations.get(*to).unwrap_or_else(|| panic!("no {to}"));
            for (parameter, _) in *parameters {
                let (place, parameter) = parameter.split_once('.').expect("qualified");
                let declared = target["parameters"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .any(|p| p["in"] == place && p["name"] == parameter);
                assert!(declared, "{to} has no {place} parameter {parameter}");
            }
            found += 1;
        }
        assert_eq!(found, LINKS.len());
    }

    #[test]
    fn every_request_body_refuses_unknown_fields() {
        // The server refuses unknown fields (400); the document must say so,
        // or generated clients and fuzzers send them in good faith.
        let json: serde_json::Value =
            serde_json::from_str(&document_json().expect("serialises")).expect("json");
        let schemas = json["components"]["schemas"].as_object().expect("schemas");
        for (path, item) in json["paths"].as_object().expect("paths") {
            for (method, op) in item.as_object().expect("item") {
                let Some(reference) =
                    op["requestBody"]["content"]["application/json"]["schema"]["$ref"].as_str()
                else {
                    continue;
                };
                let name = reference.trim_start_matches("#/components/schemas/");
                let schema = &schemas[name];
                let closed =
                    |s: &serde_json::Value| s["additionalProperties"] == serde_json::json!(false);
                let ok = closed(schema)
                    || schema["oneOf"]
                        .as_array()
                        .is_some_and(|variants| variants.iter().all(closed));
                assert!(
                    ok,
                    "{method} {path}: {name} does not declare additionalProperties: false"
                );
            }
        }
    }

    #[test]
    fn every_problem_refers_to_the_one_schema_with_an_example_of_its_status() {
        let json: serde_json::Value =
            serde_json::from_str(&document_json().expect("serialises")).expect("json");
        let mut problems = 0;
        let mut walk = vec![(String::new(), &json)];
        while let Some((path, value)) = walk.pop() {
            match value {
                serde_json::Value::Object(map) => {
                    if let Some(media) = map.get("application/problem+json") {
                        problems += 1;
                        assert_eq!(
                            media["schema"],
                            serde_json::json!({"$ref": "#/components/schemas/Problem"}),
                            "{path}: a problem written out instead of referred to"
                        );
                    }
                    walk.extend(map.iter().map(|(k, v)| (format!("{path}/{k}"), v)));
                }
                serde_json::Value::Array(items) => walk.extend(
                    items
                        .iter()
                        .enumerate()
                        .map(|(i, v)| (format!("{path}/{i}"), v)),
                ),
                _ => {}
            }
        }
        assert!(problems >= 13, "{problems} problem media types");
        // Every error response of every operation shows an example of its
        // own status.
        for (path, item) in json["paths"].as_object().expect("paths") {
            for op in item.as_object().expect("item").values() {
                for (status, response) in op["responses"].as_object().expect("responses") {
                    let response = match response["$ref"].as_str() {
                        Some(r) => {
                            &json["components"]["responses"]
                                [r.rsplit('/').next().unwrap_or_default()]
                        }
                        None => response,
                    };
                    let media = &response["content"]["application/problem+json"];
                    if media.is_null() {
                        continue;
                    }
                    assert_eq!(
                        media["example"]["status"].to_string(),
                        *status,
                        "{path} {}: the example of {status}",
                        op["operationId"]
                    );
                }
            }
        }
        let mut statuses = std::collections::HashSet::new();
        for (name, response) in json["components"]["responses"]
            .as_object()
            .expect("responses")
        {
            let example = &response["content"]["application/problem+json"]["example"];
            let status = example["status"]
                .as_u64()
                .expect("an example with a status");
            assert!(
                example["type"]
                    .as_str()
                    .is_some_and(|t| t.starts_with(crate::problem::PROBLEM_TYPE_PREFIX)),
                "{name}"
            );
            assert!(statuses.insert(status), "{name}: status {status} twice");
        }
    }

    #[test]
    fn operations_open_to_anyone_have_no_security_requirement() {
        let json: serde_json::Value =
            serde_json::from_str(&document_json().expect("serialises")).expect("json");
        let mut open = Vec::new();
        for (path, item) in json["paths"].as_object().expect("paths") {
            for (method, op) in item.as_object().expect("item") {
                let security = op["security"].as_array().expect("security declared");
                assert!(
                    security.is_empty() || security.iter().any(|r| r != &serde_json::json!({})),
                    "{method} {path}: {security:?}"
                );
                if security.is_empty() {
                    open.push(op["operationId"].as_str().unwrap_or_default().to_owned());
                }
            }
        }
        for id in [
            "createToken",
            "healthz",
            "getOpenApiDocument",
            "listPublicSites",
        ] {
            assert!(
                open.iter().any(|o| o == id),
                "{id} is not anonymous: {open:?}"
            );
        }
    }

    #[test]
    fn every_tag_is_declared_described_and_partners_come_first() {
        let json: serde_json::Value =
            serde_json::from_str(&document_json().expect("serialises")).expect("json");
        let declared: Vec<&str> = json["tags"]
            .as_array()
            .expect("tags")
            .iter()
            .map(|t| {
                let name = t["name"].as_str().expect("name");
                assert!(
                    t["description"].as_str().is_some_and(|d| !d.is_empty()),
                    "tag {name} has no description"
                );
                name
            })
            .collect();
        assert_eq!(
            declared.get(..4),
            Some(&["auth", "referrals", "scheduling", "public"][..])
        );
        for (path, item) in json["paths"].as_object().expect("paths") {
            for op in item.as_object().expect("item").values() {
                for tag in op["tags"].as_array().expect("tags") {
                    let tag = tag.as_str().expect("tag");
                    assert!(declared.contains(&tag), "{path}: tag {tag} is not declared");
                }
            }
        }
    }

    #[test]
    fn every_request_body_has_an_example() {
        let json: serde_json::Value =
            serde_json::from_str(&document_json().expect("serialises")).expect("json");
        let mut missing = Vec::new();
        for item in json["paths"].as_object().expect("paths").values() {
            for op in item.as_object().expect("item").values() {
                for (media, content) in op["requestBody"]["content"]
                    .as_object()
                    .into_iter()
                    .flatten()
                {
                    // A file's bytes have no example to show.
                    if media != "application/octet-stream" && content.get("example").is_none() {
                        missing.push(format!("{} {media}", op["operationId"]));
                    }
                }
            }
        }
        assert!(
            missing.is_empty(),
            "request bodies without an example: {missing:?}"
        );
        let ids: Vec<&str> = request_examples().iter().map(|(id, _, _)| *id).collect();
        let documented = json["paths"]
            .as_object()
            .expect("paths")
            .values()
            .flat_map(|item| item.as_object().expect("item").values())
            .filter_map(|op| op["operationId"].as_str())
            .collect::<Vec<_>>();
        for id in ids {
            assert!(
                documented.contains(&id),
                "an example for no operation: {id}"
            );
        }
    }

    #[test]
    fn document_is_openapi_3_1() {
        let json: serde_json::Value =
            serde_json::from_str(&document_json().expect("serialises")).expect("json");
        assert_eq!(json["openapi"], "3.1.0");
    }

    #[test]
    fn every_operation_is_fully_described() {
        let doc = document();
        for (path, item) in &doc.paths.paths {
            let operations = [&item.get, &item.put, &item.post, &item.delete, &item.patch];
            for op in operations.into_iter().flatten() {
                let id = op.operation_id.clone().unwrap_or_default();
                assert!(!id.is_empty(), "{path}: operation without operationId");
                assert!(op.summary.is_some(), "{path} {id}: no summary");
                assert!(
                    op.description.as_ref().is_some_and(|d| !d.is_empty()),
                    "{path} {id}: no description"
                );
                assert!(
                    op.tags.as_ref().is_some_and(|t| !t.is_empty()),
                    "{path} {id}: no tag"
                );
                assert!(
                    op.security.is_some(),
                    "{path} {id}: no security requirement declared"
                );
                assert!(
                    !op.responses.responses.is_empty(),
                    "{path} {id}: no responses"
                );
            }
        }
    }
}
