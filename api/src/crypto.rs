//! Notes at rest: ChaCha20-Poly1305 (AEAD) with a random nonce per note,
//! the row's ids as associated data (a ciphertext moved to another row does
//! not open), and the key id stored beside it so that keys can rotate.

use std::collections::BTreeMap;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};

use crate::auth::secrets::random_bytes;

/// The keys that seal notes: the current one seals, all of them open.
#[derive(Clone)]
pub struct NotesKeys {
    current: String,
    keys: BTreeMap<String, [u8; 32]>,
}

impl std::fmt::Debug for NotesKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NotesKeys")
            .field("current", &self.current)
            .field("key_ids", &self.keys.keys().collect::<Vec<_>>())
            .finish()
    }
}

/// A sealed note.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sealed {
    /// Id of the key that sealed it.
    pub key_id: String,
    /// Base64 nonce.
    pub nonce: String,
    /// Base64 ciphertext with its tag.
    pub ciphertext: String,
}

impl NotesKeys {
    /// Parses `kid:base64key,kid2:base64key` (32-byte keys) with `current`
    /// naming the sealing key.
    pub fn parse(list: &str, current: &str) -> Result<Self, String> {
        let mut keys = BTreeMap::new();
        for entry in list.split(',').map(str::trim).filter(|e| !e.is_empty()) {
            let (kid, key) = entry
                .split_once(':')
                .ok_or_else(|| "each notes key is written key_id:base64_key".to_owned())?;
            let bytes = STANDARD
                .decode(key.trim())
                .map_err(|_| format!("notes key {kid} is not base64"))?;
            let key: [u8; 32] = bytes
                .try_into()
                .map_err(|_| format!("notes key {kid} must be 32 bytes"))?;
            keys.insert(kid.trim().to_owned(), key);
        }
        if !keys.contains_key(current) {
            return Err(format!(
                "the current notes key `{current}` is not among the configured keys"
            ));
        }
        Ok(Self {
            current: current.to_owned(),
            keys,
        })
    }

    /// A new random key as `kid:base64` (for `adosexo keys generate-notes`).
    pub fn generate_entry(kid: &str) -> Result<String, String> {
        Ok(format!("{kid}:{}", STANDARD.encode(random_bytes::<32>()?)))
    }

    /// The sealing key's id.
    pub fn current_id(&self) -> &str {
        &self.current
    }

    fn cipher(&self, kid: &str) -> Option<ChaCha20Poly1305> {
        self.keys
            .get(kid)
            .map(|k| ChaCha20Poly1305::new(Key::from_slice(k)))
    }

    /// Seals `plaintext`, bound to `context` (the row's ids).
    pub fn seal(&self, plaintext: &str, context: &str) -> Result<Sealed, String> {
        let cipher = self.cipher(&self.current).ok_or("no current notes key")?;
        let nonce_bytes = random_bytes::<12>()?;
        let ciphertext = cipher
            .encrypt(
                Nonce::from_slice(&nonce_bytes),
                Payload {
                    msg: plaintext.as_bytes(),
                    aad: context.as_bytes(),
                },
            )
            .map_err(|_| "sealing failed".to_owned())?;
        Ok(Sealed {
            key_id: self.current.clone(),
            nonce: STANDARD.encode(nonce_bytes),
            ciphertext: STANDARD.encode(ciphertext),
        })
    }

    /// Opens a sealed note; fails if the key is unknown, or the note was
    /// altered or moved to another row.
    pub fn open(&self, sealed: &Sealed, context: &str) -> Result<String, String> {
        let cipher = self
            .cipher(&sealed.key_id)
            .ok_or_else(|| format!("notes key `{}` is not configured", sealed.key_id))?;
        let nonce = STANDARD
            .decode(&sealed.nonce)
            .map_err(|_| "bad nonce".to_owned())?;
        if nonce.len() != 12 {
            return Err("bad nonce".to_owned());
        }
        let ciphertext = STANDARD
            .decode(&sealed.ciphertext)
            .map_err(|_| "bad ciphertext".to_owned())?;
        let plaintext = cipher
            .decrypt(
                Nonce::from_slice(&nonce),
                Payload {
                    msg: &ciphertext,
                    aad: context.as_bytes(),
                },
            )
            .map_err(|_| {
                "a note does not open: altered, moved or sealed with another key".to_owned()
            })?;
        String::from_utf8(plaintext).map_err(|_| "a note is not UTF-8".to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(list: &str, current: &str) -> NotesKeys {
        NotesKeys::parse(list, current).expect("keys")
    }

    #[test]
    fn seal_open_and_rotate() {
        let k1 = NotesKeys::generate_entry("k1").expect("k1");
        let k2 = NotesKeys::generate_entry("k2").expect("k2");
        let old = keys(&k1, "k1");
        let sealed = old
            .seal("met at the MDA, wants to talk again", "note-1|fu-1")
            .expect("sealed");
        assert_eq!(sealed.key_id, "k1");
        assert!(!sealed.ciphertext.contains("MDA"));
        assert_eq!(
            old.open(&sealed, "note-1|fu-1").as_deref(),
            Ok("met at the MDA, wants to talk again")
        );
        // Moved to another row: refused.
        assert!(old.open(&sealed, "note-2|fu-1").is_err());
        // After rotation both keys open, the new one seals.
        let both = keys(&format!("{k1},{k2}"), "k2");
        assert!(both.open(&sealed, "note-1|fu-1").is_ok());
        assert_eq!(both.seal("x", "c").expect("sealed").key_id, "k2");
        // Without the old key, old notes do not open.
        let new_only = keys(&k2, "k2");
        assert!(new_only.open(&sealed, "note-1|fu-1").is_err());
    }

    #[test]
    fn same_plaintext_seals_differently() {
        let k = keys(&NotesKeys::generate_entry("k").expect("k"), "k");
        assert_ne!(
            k.seal("same", "c").expect("a").ciphertext,
            k.seal("same", "c").expect("b").ciphertext
        );
    }

    #[test]
    fn configuration_errors_are_named() {
        assert!(NotesKeys::parse("k1:notbase64!", "k1").is_err());
        assert!(
            NotesKeys::parse("k1:AAAA", "k1")
                .expect_err("short")
                .contains("32 bytes")
        );
        assert!(
            NotesKeys::parse("", "k1")
                .expect_err("missing")
                .contains("current notes key")
        );
    }
}
