//! Access tokens: EdDSA JWTs, short-lived, naming their session.

use std::time::Duration;

use chrono::{DateTime, Utc};
use jsonwebtoken::{Algorithm, Header, Validation};
use serde::{Deserialize, Serialize};

use super::keys::SigningKeys;

/// Issuer, audience and lifetimes of tokens.
#[derive(Clone, Debug)]
pub struct TokenSettings {
    /// `iss` of issued tokens, required of presented ones.
    pub issuer: String,
    /// `aud` of issued tokens, required of presented ones.
    pub audience: String,
    /// Lifetime of access tokens.
    pub access_ttl: Duration,
    /// Lifetime of a session's refresh tokens.
    pub refresh_ttl: Duration,
}

/// Tolerated clock difference between servers.
const LEEWAY_SECONDS: i64 = 5;

/// The claims of an access token.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    pub iss: String,
    pub aud: String,
    /// Account or client id.
    pub sub: String,
    pub exp: i64,
    pub iat: i64,
    pub nbf: i64,
    pub jti: String,
    /// The session: revoking it revokes the token at once.
    pub sid: String,
    /// `account` or `client`.
    pub kind: String,
    /// Organisation id.
    pub org: String,
    /// Role names.
    pub roles: Vec<String>,
    /// Space-separated scopes of a partner app.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    /// Only TOTP enrolment is allowed with this token.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub enr: bool,
}

/// Why a presented token is refused (all answer 401).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    /// Not a JWT, wrong algorithm, bad signature, missing or wrong claims.
    #[error("the access token is invalid")]
    Invalid,
    /// Signed by a key this server does not know.
    #[error("the access token was signed by an unknown key")]
    UnknownKey,
    /// Past its `exp`, or before its `nbf`.
    #[error("the access token has expired or is not valid yet")]
    Expired,
}

/// Signs `claims` with the current key, `kid` in the header.
pub fn sign(keys: &SigningKeys, claims: &Claims) -> Result<String, String> {
    let mut header = Header::new(Algorithm::EdDSA);
    header.kid = Some(keys.kid().to_owned());
    jsonwebtoken::encode(&header, claims, keys.encoding()).map_err(|e| e.to_string())
}

/// Checks signature (EdDSA only, key by `kid`), issuer, audience, required
/// claims and validity period at `now`.
pub fn verify(
    keys: &SigningKeys,
    settings: &TokenSettings,
    token: &str,
    now: DateTime<Utc>,
) -> Result<Claims, TokenError> {
    let header = jsonwebtoken::decode_header(token).map_err(|_| TokenError::Invalid)?;
    if header.alg != Algorithm::EdDSA {
        return Err(TokenError::Invalid);
    }
    let kid = header.kid.ok_or(TokenError::Invalid)?;
    let key = keys.decoding(&kid).ok_or(TokenError::UnknownKey)?;
    let mut validation = Validation::new(Algorithm::EdDSA);
    validation.set_issuer(&[&settings.issuer]);
    validation.set_audience(&[&settings.audience]);
    validation.set_required_spec_claims(&["exp", "iss", "aud", "sub", "nbf", "iat"]);
    // Time is checked below against the injected clock.
    validation.validate_exp = false;
    validation.validate_nbf = false;
    let claims = jsonwebtoken::decode::<Claims>(token, key, &validation)
        .map_err(|_| TokenError::Invalid)?
        .claims;
    check_period(&claims, now)?;
    Ok(claims)
}

/// Access tokens already verified, so the signature of a token presented
/// again is not checked again (an Ed25519 verification was a sixth of an
/// authenticated read's CPU). Keyed by the SHA-256 of the token (no bearer
/// token kept); an entry is only ever made from a token `verify` accepted,
/// and its validity period is checked against `now` on every use. The keys,
/// issuer and audience are fixed for the life of the process. The session
/// and its subject are still read on every request (revocation at once).
#[derive(Debug)]
pub struct VerifiedTokens {
    entries: std::sync::Mutex<std::collections::HashMap<[u8; 32], Claims>>,
    capacity: usize,
}

impl VerifiedTokens {
    /// Remembers at most `capacity` tokens (about 400 bytes each).
    pub fn new(capacity: usize) -> Self {
        Self {
            entries: std::sync::Mutex::new(std::collections::HashMap::new()),
            capacity,
        }
    }

    /// [`verify`], remembering what it accepts.
    pub fn verify(
        &self,
        keys: &SigningKeys,
        settings: &TokenSettings,
        token: &str,
        now: DateTime<Utc>,
    ) -> Result<Claims, TokenError> {
        use sha2::{Digest, Sha256};
        let digest: [u8; 32] = Sha256::digest(token.as_bytes()).into();
        let known = self.lock().get(&digest).cloned();
        if let Some(claims) = known {
            check_period(&claims, now)?;
            return Ok(claims);
        }
        let claims = verify(keys, settings, token, now)?;
        let mut entries = self.lock();
        if entries.len() >= self.capacity {
            let now = now.timestamp();
            entries.retain(|_, c| c.exp + LEEWAY_SECONDS > now);
            if entries.len() >= self.capacity {
                entries.clear();
            }
        }
        entries.insert(digest, claims.clone());
        Ok(claims)
    }

    /// How many tokens are remembered.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// Whether none is.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, std::collections::HashMap<[u8; 32], Claims>> {
        // The map holds only verified claims: usable even after a panic.
        self.entries
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

fn check_period(claims: &Claims, now: DateTime<Utc>) -> Result<(), TokenError> {
    let now = now.timestamp();
    if claims.exp + LEEWAY_SECONDS <= now || claims.nbf - LEEWAY_SECONDS > now {
        return Err(TokenError::Expired);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;

    fn settings() -> TokenSettings {
        TokenSettings {
            issuer: "adosexo".into(),
            audience: "adosexo-api".into(),
            access_ttl: Duration::from_secs(900),
            refresh_ttl: Duration::from_secs(86_400),
        }
    }

    fn claims(now: i64) -> Claims {
        Claims {
            iss: "adosexo".into(),
            aud: "adosexo-api".into(),
            sub: "acct".into(),
            exp: now + 900,
            iat: now,
            nbf: now,
            jti: "j".into(),
            sid: "s".into(),
            kind: "account".into(),
            org: "o".into(),
            roles: vec!["coordinator".into()],
            scope: None,
            enr: false,
        }
    }

    #[test]
    fn signed_tokens_verify() {
        let keys = SigningKeys::generate().expect("keys");
        let now = Utc::now();
        let token = sign(&keys, &claims(now.timestamp())).expect("signs");
        assert_eq!(
            verify(&keys, &settings(), &token, now).map(|c| c.sub),
            Ok("acct".into())
        );
    }

    #[test]
    fn expiry_is_checked_against_the_given_clock() {
        let keys = SigningKeys::generate().expect("keys");
        let now = Utc::now();
        let token = sign(&keys, &claims(now.timestamp())).expect("signs");
        let later = now + chrono::Duration::seconds(906);
        assert_eq!(
            verify(&keys, &settings(), &token, later),
            Err(TokenError::Expired)
        );
        let earlier = now - chrono::Duration::seconds(60);
        assert_eq!(
            verify(&keys, &settings(), &token, earlier),
            Err(TokenError::Expired)
        );
    }

    #[test]
    fn wrong_issuer_audience_key_or_algorithm_fail() {
        let keys = SigningKeys::generate().expect("keys");
        let other = SigningKeys::generate().expect("keys");
        let now = Utc::now();
        let mut c = claims(now.timestamp());
        c.iss = "someone-else".into();
        let token = sign(&keys, &c).expect("signs");
        assert_eq!(
            verify(&keys, &settings(), &token, now),
            Err(TokenError::Invalid)
        );

        let mut c = claims(now.timestamp());
        c.aud = "other-api".into();
        let token = sign(&keys, &c).expect("signs");
        assert_eq!(
            verify(&keys, &settings(), &token, now),
            Err(TokenError::Invalid)
        );

        let token = sign(&other, &claims(now.timestamp())).expect("signs");
        assert_eq!(
            verify(&keys, &settings(), &token, now),
            Err(TokenError::UnknownKey)
        );

        // alg "none": a header and claims with an empty signature.
        let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#);
        let body =
            URL_SAFE_NO_PAD.encode(serde_json::to_vec(&claims(now.timestamp())).expect("json"));
        assert_eq!(
            verify(&keys, &settings(), &format!("{header}.{body}."), now),
            Err(TokenError::Invalid)
        );
    }

    #[test]
    fn remembered_tokens_still_expire_and_altered_ones_are_checked_afresh() {
        let keys = SigningKeys::generate().expect("keys");
        let cache = VerifiedTokens::new(2);
        let now = Utc::now();
        let token = sign(&keys, &claims(now.timestamp())).expect("signs");
        assert_eq!(
            cache.verify(&keys, &settings(), &token, now).map(|c| c.sub),
            Ok("acct".into())
        );
        assert_eq!(cache.len(), 1);
        // Served from memory, but its validity period is checked each time.
        assert!(cache.verify(&keys, &settings(), &token, now).is_ok());
        let later = now + chrono::Duration::seconds(906);
        assert_eq!(
            cache.verify(&keys, &settings(), &token, later),
            Err(TokenError::Expired)
        );
        // One character changed in the signature: not the remembered token.
        let mut altered = token.clone();
        let last = altered.pop().expect("a character");
        altered.push(if last == 'A' { 'B' } else { 'A' });
        assert_eq!(
            cache.verify(&keys, &settings(), &altered, now),
            Err(TokenError::Invalid)
        );
        // Refused tokens are not remembered; the memory stays bounded.
        assert_eq!(cache.len(), 1);
        for sub in ["b", "c", "d", "e"] {
            let mut c = claims(now.timestamp());
            c.sub = sub.into();
            let token = sign(&keys, &c).expect("signs");
            assert!(cache.verify(&keys, &settings(), &token, now).is_ok());
            assert!(cache.len() <= 2, "{}", cache.len());
        }
    }
}
