//! TOTP second factor (RFC 6238: HMAC-SHA1, 30-second steps, 6 digits),
//! accepting the previous and next step for clock drift.

use data_encoding::BASE32_NOPAD;
use hmac::{Hmac, Mac};
use sha1::Sha1;

use super::secrets::random_bytes;

const STEP_SECONDS: i64 = 30;
const DIGITS: u32 = 6;

/// A new secret, base32 (what authenticator apps take).
pub fn new_secret() -> Result<String, String> {
    Ok(BASE32_NOPAD.encode(&random_bytes::<20>()?))
}

/// The `otpauth://` URI an authenticator app scans.
pub fn provisioning_uri(secret: &str, issuer: &str, account: &str) -> String {
    let enc = |s: &str| form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
    format!(
        "otpauth://totp/{}:{}?secret={secret}&issuer={}&algorithm=SHA1&digits={DIGITS}&period={STEP_SECONDS}",
        enc(issuer),
        enc(account),
        enc(issuer)
    )
}

/// The code for `secret` at step `counter`.
fn code_at(key: &[u8], counter: u64) -> Option<u32> {
    let mut mac = Hmac::<Sha1>::new_from_slice(key).ok()?;
    mac.update(&counter.to_be_bytes());
    let digest = mac.finalize().into_bytes();
    let offset = usize::from(digest.last()? & 0x0f);
    let bytes: [u8; 4] = digest.get(offset..offset + 4)?.try_into().ok()?;
    let value = u32::from_be_bytes(bytes) & 0x7fff_ffff;
    Some(value % 10_u32.pow(DIGITS))
}

/// Whether `code` is valid for `secret` at `unix_seconds` (±1 step).
pub fn verify(secret: &str, code: &str, unix_seconds: i64) -> bool {
    let Ok(key) = BASE32_NOPAD.decode(secret.as_bytes()) else {
        return false;
    };
    if code.len() != DIGITS as usize || !code.bytes().all(|b| b.is_ascii_digit()) {
        return false;
    }
    let Ok(given) = code.parse::<u32>() else {
        return false;
    };
    let step = unix_seconds.div_euclid(STEP_SECONDS);
    (-1..=1).any(|delta| {
        u64::try_from(step + delta)
            .ok()
            .and_then(|counter| code_at(&key, counter))
            .is_some_and(|expected| expected == given)
    })
}

/// The current code (for tests and tooling).
pub fn current_code(secret: &str, unix_seconds: i64) -> Option<String> {
    let key = BASE32_NOPAD.decode(secret.as_bytes()).ok()?;
    let counter = u64::try_from(unix_seconds.div_euclid(STEP_SECONDS)).ok()?;
    code_at(&key, counter).map(|c| format!("{c:06}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6238 appendix B, SHA-1 seed "12345678901234567890" (8 digits there;
    /// the last 6 digits here).
    #[test]
    fn rfc_6238_vectors() {
        let secret = BASE32_NOPAD.encode(b"12345678901234567890");
        for (time, expected) in [
            (59, "287082"),
            (1_111_111_109, "081804"),
            (1_111_111_111, "050471"),
            (1_234_567_890, "005924"),
            (2_000_000_000, "279037"),
        ] {
            assert_eq!(
                current_code(&secret, time).as_deref(),
                Some(expected),
                "t={time}"
            );
            assert!(verify(&secret, expected, time));
        }
    }

    #[test]
    fn drift_of_one_step_only() {
        let secret = new_secret().expect("random");
        let now = 1_800_000_000;
        let code = current_code(&secret, now).expect("code");
        assert!(verify(&secret, &code, now + 30));
        assert!(verify(&secret, &code, now - 30));
        assert!(!verify(&secret, &code, now + 95));
        assert!(!verify(&secret, "12345", now));
        assert!(!verify(&secret, "abcdef", now));
    }

    #[test]
    fn uri_names_issuer_and_account() {
        let uri = provisioning_uri("ABC", "adosexo", "alice@example.org");
        assert!(
            uri.starts_with("otpauth://totp/adosexo:alice%40example.org?secret=ABC&issuer=adosexo"),
            "{uri}"
        );
    }
}
