//! Signing keys for access tokens (Ed25519, `EdDSA`): the current key signs,
//! it and the previous ones verify, all are published as a JWKS.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ed25519_dalek::pkcs8::DecodePrivateKey;
use ed25519_dalek::pkcs8::spki::{DecodePublicKey, EncodePublicKey};
use ed25519_dalek::{SigningKey, VerifyingKey};
use jsonwebtoken::{DecodingKey, EncodingKey};
use serde::Serialize;
use sha2::{Digest, Sha256};
use utoipa::ToSchema;

use super::secrets::random_bytes;

/// A public key that verifies tokens.
struct PublicKey {
    kid: String,
    x: String,
    decoding: DecodingKey,
}

impl PublicKey {
    fn new(key: &VerifyingKey) -> Self {
        let bytes = key.to_bytes();
        let kid: String = Sha256::digest(bytes)
            .iter()
            .take(8)
            .map(|b| format!("{b:02x}"))
            .collect();
        Self {
            kid,
            x: URL_SAFE_NO_PAD.encode(bytes),
            decoding: DecodingKey::from_ed_der(&bytes),
        }
    }
}

/// The current signing key and the previous public keys.
pub struct SigningKeys {
    encoding: EncodingKey,
    current: PublicKey,
    previous: Vec<PublicKey>,
}

impl std::fmt::Debug for SigningKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKeys")
            .field("kid", &self.current.kid)
            .field(
                "previous",
                &self.previous.iter().map(|k| &k.kid).collect::<Vec<_>>(),
            )
            .finish_non_exhaustive()
    }
}

impl SigningKeys {
    /// From an Ed25519 private key in PKCS#8 PEM and previous public keys in
    /// SPKI PEM (`-----BEGIN PUBLIC KEY-----`).
    pub fn from_pem(private_pem: &str, previous_public_pems: &[String]) -> Result<Self, String> {
        let signing = SigningKey::from_pkcs8_pem(private_pem)
            .map_err(|e| format!("the JWT private key is not an Ed25519 PKCS#8 PEM key: {e}"))?;
        let encoding = EncodingKey::from_ed_pem(private_pem.as_bytes())
            .map_err(|e| format!("the JWT private key cannot be used: {e}"))?;
        let previous = previous_public_pems
            .iter()
            .map(|pem| {
                VerifyingKey::from_public_key_pem(pem)
                    .map(|k| PublicKey::new(&k))
                    .map_err(|e| {
                        format!("a previous JWT public key is not an Ed25519 SPKI PEM key: {e}")
                    })
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self {
            encoding,
            current: PublicKey::new(&signing.verifying_key()),
            previous,
        })
    }

    /// A fresh random key (development only: tokens die with the process).
    pub fn generate() -> Result<Self, String> {
        let pem = generate_private_pem()?;
        Self::from_pem(&pem, &[])
    }

    /// The key id of the signing key.
    pub fn kid(&self) -> &str {
        &self.current.kid
    }

    /// The signing key.
    pub fn encoding(&self) -> &EncodingKey {
        &self.encoding
    }

    /// The verifying key named `kid`, current or previous.
    pub fn decoding(&self, kid: &str) -> Option<&DecodingKey> {
        std::iter::once(&self.current)
            .chain(&self.previous)
            .find(|k| k.kid == kid)
            .map(|k| &k.decoding)
    }

    /// The public keys as a JSON Web Key Set.
    pub fn jwks(&self) -> Jwks {
        Jwks {
            keys: std::iter::once(&self.current)
                .chain(&self.previous)
                .map(|k| Jwk {
                    kty: "OKP",
                    crv: "Ed25519",
                    alg: "EdDSA",
                    key_use: "sig",
                    kid: k.kid.clone(),
                    x: k.x.clone(),
                })
                .collect(),
        }
    }
}

/// The DER of an Ed25519 private key in PKCS#8 v1 (RFC 5208 / RFC 8410
/// §7) comes before the 32-byte seed: SEQUENCE { INTEGER 0, SEQUENCE { OID
/// 1.3.101.112 }, OCTET STRING { OCTET STRING (32) } }. This is what
/// `openssl genpkey -algorithm ed25519` writes and every tool reads; the v2
/// form (with the public key, RFC 5958) is refused by OpenSSL 3.0.
const PKCS8_V1_ED25519_PREFIX: [u8; 16] = [
    0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20,
];

fn pem(label: &str, der: &[u8]) -> String {
    let body = base64::engine::general_purpose::STANDARD.encode(der);
    let lines: Vec<&str> = body
        .as_bytes()
        .chunks(64)
        .map(|chunk| std::str::from_utf8(chunk).unwrap_or_default())
        .collect();
    format!(
        "-----BEGIN {label}-----\n{}\n-----END {label}-----\n",
        lines.join("\n")
    )
}

/// A new Ed25519 private key as PKCS#8 v1 PEM (`adosexo keys generate`).
pub fn generate_private_pem() -> Result<String, String> {
    let seed = random_bytes::<32>()?;
    let mut der = PKCS8_V1_ED25519_PREFIX.to_vec();
    der.extend_from_slice(&seed);
    Ok(pem("PRIVATE KEY", &der))
}

/// The public key (SPKI PEM, `-----BEGIN PUBLIC KEY-----`) of an Ed25519
/// private key in PKCS#8 PEM, v1 or v2 (`adosexo keys public`): what
/// `ADOSEXO_JWT_PREVIOUS_PUBLIC_KEY_FILE` takes after a rotation.
pub fn public_pem(private_pem: &str) -> Result<String, String> {
    let signing = SigningKey::from_pkcs8_pem(private_pem)
        .map_err(|e| format!("not an Ed25519 PKCS#8 PEM private key: {e}"))?;
    signing
        .verifying_key()
        .to_public_key_pem(ed25519_dalek::pkcs8::spki::der::pem::LineEnding::LF)
        .map_err(|e| e.to_string())
}

/// A JSON Web Key Set (RFC 7517).
#[derive(Debug, Serialize, ToSchema)]
pub struct Jwks {
    /// The keys: the current signing key first, then previous ones still accepted.
    pub keys: Vec<Jwk>,
}

/// An Ed25519 public key (RFC 8037).
#[derive(Debug, Serialize, ToSchema)]
pub struct Jwk {
    /// Always `OKP`.
    #[schema(example = "OKP")]
    pub kty: &'static str,
    /// Always `Ed25519`.
    #[schema(example = "Ed25519")]
    pub crv: &'static str,
    /// Always `EdDSA`.
    #[schema(example = "EdDSA")]
    pub alg: &'static str,
    /// Always `sig`.
    #[serde(rename = "use")]
    #[schema(example = "sig")]
    pub key_use: &'static str,
    /// Key id, as in the `kid` header of tokens.
    pub kid: String,
    /// The public key, base64url.
    pub x: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_keys_round_trip_through_pem() {
        let pem = generate_private_pem().expect("key");
        assert!(pem.starts_with("-----BEGIN PRIVATE KEY-----"));
        let a = SigningKeys::from_pem(&pem, &[]).expect("loads");
        let b = SigningKeys::from_pem(&pem, &[]).expect("loads");
        assert_eq!(a.kid(), b.kid());
        assert_eq!(a.kid().len(), 16);
        assert!(a.decoding(a.kid()).is_some());
        assert!(a.decoding("unknown").is_none());
        let jwks = serde_json::to_value(a.jwks()).expect("json");
        assert_eq!(jwks["keys"][0]["kid"], a.kid());
        assert_eq!(jwks["keys"][0]["use"], "sig");
    }

    #[test]
    fn generated_keys_are_pkcs8_v1_and_give_their_public_key() {
        use base64::Engine;
        let private = generate_private_pem().expect("key");
        let body: String = private
            .lines()
            .filter(|l| !l.starts_with("-----"))
            .collect();
        let der = base64::engine::general_purpose::STANDARD
            .decode(body)
            .expect("base64");
        // 48 bytes, version 0: no public key inside (v1).
        assert_eq!(der.len(), 48);
        assert_eq!(der.get(..5), Some(&[0x30, 0x2e, 0x02, 0x01, 0x00][..]));
        let public = public_pem(&private).expect("public key");
        assert!(
            public.starts_with("-----BEGIN PUBLIC KEY-----\n"),
            "{public}"
        );
        // The public key verifies what the private key signs.
        let keys = SigningKeys::from_pem(&private, &[]).expect("v1 loads");
        let previous = SigningKeys::from_pem(
            &generate_private_pem().expect("key"),
            std::slice::from_ref(&public),
        )
        .expect("loads with the previous public key");
        assert!(previous.decoding(keys.kid()).is_some());
        assert_eq!(previous.jwks().keys.len(), 2);
    }

    #[test]
    fn version_2_keys_still_load() {
        // Written by earlier `adosexo keys generate` (PKCS#8 v2, RFC 5958).
        let v2 = "-----BEGIN PRIVATE KEY-----
MFECAQEwBQYDK2VwBCIEIDxe2Gc7ztFI8zMJNfe+aMDokkOuRHPf0d47AV3Ie/YF
gSEAdV4U1EXkX/igl8HR3rKB1FbCkbRvNc4GcAgDuXDFAMs=
-----END PRIVATE KEY-----
";
        assert!(SigningKeys::from_pem(v2, &[]).is_ok());
        assert_eq!(
            public_pem(v2).expect("public key"),
            "-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEAdV4U1EXkX/igl8HR3rKB1FbCkbRvNc4GcAgDuXDFAMs=\n-----END PUBLIC KEY-----\n"
        );
    }

    #[test]
    fn rejects_non_ed25519_keys() {
        let error = SigningKeys::from_pem(
            "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
            &[],
        )
        .expect_err("garbage");
        assert!(
            error.starts_with("the JWT private key is not an Ed25519 PKCS#8 PEM key"),
            "{error}"
        );
    }
}
