//! Every route, registered once: this builds both the router and the
//! OpenAPI document (see `openapi::document`).

pub mod accounts;
pub mod agreements;
pub mod appointments;
pub mod archive;
pub mod audit;
pub mod auth;
pub mod calendars;
pub mod cases;
pub mod clients;
pub mod consents;
pub mod departements;
pub mod directory;
pub mod followups;
pub mod group_sessions;
pub mod health;
pub mod library;
pub mod me;
pub mod openapi_json;
pub mod organisations;
pub mod people;
pub mod permanences;
pub mod public;
pub mod referrals;
pub mod scheduling;
pub mod settings;
pub mod sharing;
pub mod sites;
pub mod stats;
pub mod trainings;
pub mod webhooks;

use utoipa_actix_web::scope;
use utoipa_actix_web::service_config::ServiceConfig;

/// Registers all documented routes.
pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(health::healthz)
        .service(health::readyz)
        .service(auth::jwks)
        .service(auth::metadata)
        .service(
            scope("/api/v1")
                .service(openapi_json::get)
                .service(departements::list)
                .service(departements::get)
                .service(auth::token)
                .service(auth::revoke)
                .service(auth::logout)
                .service(me::get)
                .service(me::start_totp)
                .service(me::confirm_totp)
                .service(organisations::list)
                .service(organisations::create)
                .service(organisations::get)
                .service(organisations::update)
                .service(accounts::list)
                .service(accounts::create)
                .service(accounts::get)
                .service(accounts::update)
                .service(accounts::disable)
                .service(accounts::enable)
                .service(clients::list)
                .service(clients::create)
                .service(clients::revoke)
                .service(settings::get)
                .service(settings::put)
                .service(audit::list)
                .service(referrals::create)
                .service(referrals::list)
                .service(referrals::mine)
                .service(referrals::overdue)
                .service(referrals::get)
                .service(referrals::review)
                .service(referrals::accept)
                .service(referrals::decline)
                .service(referrals::redirect)
                .service(referrals::withdraw)
                .service(referrals::record_protection)
                .service(followups::list)
                .service(followups::mine)
                .service(followups::get)
                .service(followups::update)
                .service(followups::change_status)
                .service(followups::set_objective)
                .service(followups::add_person)
                .service(followups::list_notes)
                .service(followups::create_note)
                .service(consents::purposes)
                .service(consents::renewals)
                .service(consents::list)
                .service(consents::create)
                .service(consents::withdraw)
                .service(consents::invalidate)
                .service(consents::coverage)
                .service(sharing::list)
                .service(sharing::create)
                .service(sharing::revoke)
                .service(sharing::shared)
                .service(people::export)
                .service(people::get)
                .service(people::rectify)
                .service(archive::list)
                .service(archive::get)
                .service(archive::create_erasure_request)
                .service(archive::list_erasure_requests)
                .service(archive::get_erasure_request)
                .service(archive::execute_erasure_request)
                .service(sites::create)
                .service(sites::list)
                .service(sites::get)
                .service(sites::update)
                .service(agreements::create)
                .service(agreements::list)
                .service(agreements::ending_soon)
                .service(agreements::get)
                .service(agreements::change_status)
                .service(library::create)
                .service(library::search)
                .service(library::get)
                .service(library::upload)
                .service(library::download)
                .service(trainings::list)
                .service(trainings::register)
                .service(trainings::mine)
                .service(trainings::cancel)
                .service(trainings::request_case_review)
                .service(trainings::list_case_reviews)
                .service(trainings::schedule_case_review)
                .service(permanences::create)
                .service(permanences::list)
                .service(permanences::get)
                .service(permanences::update)
                .service(permanences::split)
                .service(permanences::occurrences)
                .service(permanences::change_occurrence)
                .service(permanences::restore_occurrence)
                .service(appointments::create)
                .service(appointments::list)
                .service(appointments::get)
                .service(appointments::change)
                .service(appointments::get_availability)
                .service(appointments::book)
                .service(group_sessions::create)
                .service(group_sessions::list)
                .service(group_sessions::get)
                .service(group_sessions::change_status)
                .service(group_sessions::list_registrations)
                .service(group_sessions::register)
                .service(group_sessions::cancel_registration)
                .service(group_sessions::record_attendance)
                .service(public::sites)
                .service(public::directory)
                .service(public::contacts)
                .service(directory::create)
                .service(directory::get)
                .service(directory::replace)
                .service(directory::remove)
                .service(directory::put_contact)
                .service(directory::delete_contact)
                .service(calendars::create_feed)
                .service(calendars::revoke_feed)
                .service(calendars::staff_calendar)
                .service(calendars::site_calendar)
                .service(calendars::departement_calendar)
                .service(calendars::agenda)
                .service(stats::referral_stats)
                .service(stats::follow_up_stats)
                .service(stats::appointment_stats)
                .service(stats::group_session_stats)
                .service(stats::permanence_stats)
                .service(stats::professional_stats)
                .service(stats::resource_stats)
                .service(stats::annual_report)
                .service(webhooks::create)
                .service(webhooks::list)
                .service(webhooks::dead_letters)
                .service(webhooks::get)
                .service(webhooks::remove)
                .service(webhooks::redeliver)
                .service(webhooks::events),
        );
}
