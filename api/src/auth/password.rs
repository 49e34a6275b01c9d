//! Passwords: argon2id, PHC strings, salts from the OS.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};

use super::secrets::random_bytes;

/// Shortest accepted password.
pub const MIN_LENGTH: usize = 12;
/// Longest accepted password (hashing cost is bounded).
pub const MAX_LENGTH: usize = 256;

fn hasher() -> Argon2<'static> {
    // OWASP's first recommendation for argon2id: 19 MiB, 2 passes, 1 lane.
    let params = Params::new(19 * 1024, 2, 1, None).unwrap_or_default();
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// The PHC string of `password`.
pub fn hash(password: &str) -> Result<String, String> {
    let salt = SaltString::encode_b64(&random_bytes::<16>()?).map_err(|e| e.to_string())?;
    hasher()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| e.to_string())
}

/// Whether `password` matches `stored`. With no stored hash (unknown
/// account, or no password set), a dummy hash is checked anyway so that the
/// answer takes the same time.
pub fn verify(stored: Option<&str>, password: &str) -> bool {
    let dummy = dummy_hash();
    let (phc, real) = match stored {
        Some(phc) => (phc, true),
        None => (dummy.as_str(), false),
    };
    let Ok(parsed) = PasswordHash::new(phc) else {
        return false;
    };
    let matches = hasher()
        .verify_password(password.as_bytes(), &parsed)
        .is_ok();
    matches && real
}

/// [`verify`] on tokio's blocking pool: argon2id takes tens of
/// milliseconds and 19 MiB, and on an HTTP worker it would hold up every
/// other request that worker serves.
pub async fn verify_off_worker(stored: Option<String>, password: String) -> bool {
    tokio::task::spawn_blocking(move || verify(stored.as_deref(), &password))
        .await
        .unwrap_or(false)
}

/// [`hash`] on tokio's blocking pool (see [`verify_off_worker`]).
pub async fn hash_off_worker(password: String) -> Result<String, String> {
    tokio::task::spawn_blocking(move || hash(&password))
        .await
        .map_err(|e| e.to_string())?
}

fn dummy_hash() -> String {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DUMMY
        .get_or_init(|| hash("adosexo-dummy-password-for-timing").unwrap_or_default())
        .clone()
}

/// Why a new password is refused.
pub fn check_strength(password: &str) -> Result<(), String> {
    let length = password.chars().count();
    if length < MIN_LENGTH {
        return Err(format!("a password has at least {MIN_LENGTH} characters"));
    }
    if length > MAX_LENGTH {
        return Err(format!("a password has at most {MAX_LENGTH} characters"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_verify_and_are_salted() {
        let a = hash("correct horse battery").expect("hash");
        let b = hash("correct horse battery").expect("hash");
        assert!(a.starts_with("$argon2id$"));
        assert_ne!(a, b, "salted");
        assert!(verify(Some(&a), "correct horse battery"));
        assert!(!verify(Some(&a), "wrong horse battery"));
        assert!(!verify(None, "correct horse battery"));
        assert!(!verify(Some("not a phc string"), "x"));
    }

    #[test]
    fn strength() {
        assert!(check_strength("short").is_err());
        assert!(check_strength("twelve chars").is_ok());
        assert!(check_strength(&"x".repeat(300)).is_err());
    }
}
