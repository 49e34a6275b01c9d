//! Decoding the main request bodies exactly as the server does (strict
//! JSON, unknown fields refused, then the validator rules): any bytes give
//! a value or a problem, never a panic; a problem is always a 4xx.
#![no_main]

use adosexo_api::extract::decode_json;
use adosexo_api::problem::ApiError;
use adosexo_api::routes::appointments::CreateAppointment;
use adosexo_api::routes::auth::TokenRequest;
use adosexo_api::routes::consents::CreateConsent;
use adosexo_api::routes::group_sessions::CreateGroupSession;
use adosexo_api::routes::referrals::CreateReferral;
use libfuzzer_sys::fuzz_target;
use validator::Validate;

fn check<T: serde::de::DeserializeOwned>(bytes: &[u8], validate: impl Fn(&T)) {
    match decode_json::<T>(bytes) {
        Ok(value) => validate(&value),
        Err(error) => assert_client_error(&error),
    }
}

fn assert_client_error(error: &ApiError) {
    let status = actix_web::ResponseError::status_code(error);
    assert!(status.is_client_error(), "{status} for a body");
}

fuzz_target!(|data: &[u8]| {
    let Some((selector, body)) = data.split_first() else {
        return;
    };
    match selector % 5 {
        0 => check::<CreateReferral>(body, |v| drop(v.validate())),
        1 => check::<CreateAppointment>(body, |v| drop(v.validate())),
        2 => check::<CreateGroupSession>(body, |v| drop(v.validate())),
        3 => check::<CreateConsent>(body, |v| drop(v.validate())),
        _ => check::<TokenRequest>(body, |_| {}),
    }
});
