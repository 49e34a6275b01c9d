//! The audit trail's tamper evidence: each entry's hash covers the previous
//! entry's hash and the entry's own fields, so editing, removing or
//! reordering an entry breaks every link after it.

use sha2::{Digest, Sha256};

/// The hash before the first entry.
pub const GENESIS: &str = "genesis";

/// The fields of one audit entry that the chain protects (never content).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuditRecord {
    /// Position in the chain, from 1.
    pub seq: i64,
    /// Entry id.
    pub id: String,
    /// When, as `YYYY-MM-DDTHH:MM:SS.ffffffZ`.
    pub at: String,
    /// Who (account or client id), if known.
    pub actor_id: Option<String>,
    /// Their organisation.
    pub actor_organisation_id: Option<String>,
    /// Their role.
    pub actor_role: Option<String>,
    /// What (`read_referral`, `login`, …).
    pub action: String,
    /// On what kind of record.
    pub resource_type: String,
    /// Which record.
    pub resource_id: Option<String>,
    /// `success`, `failure` or `denied`.
    pub outcome: String,
    /// The request's id.
    pub request_id: Option<String>,
    /// The client's address.
    pub client_addr: Option<String>,
    /// A list read: the ids of the records it returned, space-separated.
    pub resource_ids: Option<String>,
}

impl AuditRecord {
    /// An unambiguous serialisation: every field length-prefixed, absent
    /// fields marked, so no two records share it.
    /// Version 1 (entries without `resource_ids`, all entries written
    /// before it existed) is unchanged; version 2 adds `resource_ids`.
    fn canonical(&self) -> String {
        let version = if self.resource_ids.is_some() { 2 } else { 1 };
        let mut out = format!("v{version}|{}", self.seq);
        let fields: [Option<&str>; 11] = [
            Some(&self.id),
            Some(&self.at),
            self.actor_id.as_deref(),
            self.actor_organisation_id.as_deref(),
            self.actor_role.as_deref(),
            Some(&self.action),
            Some(&self.resource_type),
            self.resource_id.as_deref(),
            Some(&self.outcome),
            self.request_id.as_deref(),
            self.client_addr.as_deref(),
        ];
        for field in fields {
            match field {
                Some(value) => out.push_str(&format!("|{}:{value}", value.len())),
                None => out.push_str("|-"),
            }
        }
        if let Some(ids) = &self.resource_ids {
            out.push_str(&format!("|{}:{ids}", ids.len()));
        }
        out
    }
}

/// The hash of `record` chained to `prev_hash` (hex SHA-256).
pub fn chain_hash(prev_hash: &str, record: &AuditRecord) -> String {
    let mut hasher = Sha256::new();
    hasher.update(prev_hash.as_bytes());
    hasher.update(b"\n");
    hasher.update(record.canonical().as_bytes());
    hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The first entry where the chain breaks.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("audit chain broken at entry {seq} ({id}): {reason}")]
pub struct BrokenLink {
    /// Its sequence number.
    pub seq: i64,
    /// Its id.
    pub id: String,
    /// What is wrong.
    pub reason: &'static str,
}

/// Walks stored entries `(record, prev_hash, hash)` in sequence order from
/// the anchor (the last purged entry, or genesis) and returns how many were
/// checked, or the first broken link.
pub fn verify<'a>(
    anchor_seq: i64,
    anchor_hash: &str,
    entries: impl IntoIterator<Item = (&'a AuditRecord, &'a str, &'a str)>,
) -> Result<u64, BrokenLink> {
    let mut expected_prev = anchor_hash.to_owned();
    let mut checked = 0;
    for (expected_seq, (record, prev_hash, hash)) in (anchor_seq + 1..).zip(entries) {
        let broken = |reason| BrokenLink {
            seq: record.seq,
            id: record.id.clone(),
            reason,
        };
        if record.seq != expected_seq {
            return Err(broken("an entry before it is missing"));
        }
        if prev_hash != expected_prev {
            return Err(broken("its link to the previous entry does not match"));
        }
        if chain_hash(prev_hash, record) != hash {
            return Err(broken("its content does not match its hash"));
        }
        expected_prev = hash.to_owned();
        checked += 1;
    }
    Ok(checked)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn record(seq: i64, action: &str) -> AuditRecord {
        AuditRecord {
            seq,
            id: format!("id-{seq}"),
            at: "2026-11-29T10:00:00.000000Z".into(),
            actor_id: Some("acct".into()),
            actor_organisation_id: Some("org".into()),
            actor_role: Some("coordinator".into()),
            action: action.into(),
            resource_type: "referral".into(),
            resource_id: Some("r1".into()),
            outcome: "success".into(),
            request_id: None,
            client_addr: Some("127.0.0.1".into()),
            resource_ids: None,
        }
    }

    fn chain(n: i64) -> Vec<(AuditRecord, String, String)> {
        let mut prev = GENESIS.to_owned();
        (1..=n)
            .map(|seq| {
                let r = record(seq, "read");
                let hash = chain_hash(&prev, &r);
                let entry = (r, prev.clone(), hash.clone());
                prev = hash;
                entry
            })
            .collect()
    }

    fn check(
        entries: &[(AuditRecord, String, String)],
        anchor_seq: i64,
        anchor: &str,
    ) -> Result<u64, BrokenLink> {
        verify(
            anchor_seq,
            anchor,
            entries.iter().map(|(r, p, h)| (r, p.as_str(), h.as_str())),
        )
    }

    #[test]
    fn intact_chain_verifies() {
        assert_eq!(check(&chain(5), 0, GENESIS), Ok(5));
        assert_eq!(check(&[], 0, GENESIS), Ok(0));
    }

    #[test]
    fn entries_without_ids_hash_as_before_and_ids_are_covered() {
        // A version 1 entry hashes as it did before `resource_ids` existed
        // (a chain written then still verifies).
        let r = record(1, "read");
        assert_eq!(
            r.canonical(),
            "v1|1|4:id-1|27:2026-11-29T10:00:00.000000Z|4:acct|3:org|11:coordinator|4:read|8:referral|2:r1|7:success|-|9:127.0.0.1"
        );
        // The ids a list showed are covered: changing one breaks the link.
        let mut listed = record(2, "list_referrals");
        listed.resource_ids = Some("a b".into());
        assert!(listed.canonical().starts_with("v2|2|"));
        let hash = chain_hash(GENESIS, &listed);
        let mut edited = listed.clone();
        edited.resource_ids = Some("a".into());
        assert_ne!(chain_hash(GENESIS, &edited), hash);
    }

    #[test]
    fn an_edited_entry_is_named() {
        let mut entries = chain(5);
        entries[2].0.actor_id = Some("someone-else".into());
        let broken = check(&entries, 0, GENESIS).expect_err("tampered");
        assert_eq!(
            (broken.seq, broken.reason),
            (3, "its content does not match its hash")
        );
    }

    #[test]
    fn a_removed_entry_is_named() {
        let mut entries = chain(5);
        entries.remove(1);
        assert_eq!(check(&entries, 0, GENESIS).expect_err("gap").seq, 3);
    }

    #[test]
    fn a_purged_prefix_verifies_from_its_anchor() {
        let entries = chain(5);
        let anchor = entries[1].2.clone();
        assert_eq!(check(&entries[2..], 2, &anchor), Ok(3));
        assert!(check(&entries[2..], 0, GENESIS).is_err());
    }

    #[test]
    fn absent_and_empty_fields_differ() {
        let mut a = record(1, "read");
        let mut b = a.clone();
        a.request_id = None;
        b.request_id = Some(String::new());
        assert_ne!(chain_hash(GENESIS, &a), chain_hash(GENESIS, &b));
    }

    proptest! {
        #[test]
        fn any_field_change_breaks_the_hash(action in "[a-z_]{1,12}", other in "[a-z_]{1,12}") {
            prop_assume!(action != other);
            let a = record(1, &action);
            let b = record(1, &other);
            prop_assert_ne!(chain_hash(GENESIS, &a), chain_hash(GENESIS, &b));
        }

        #[test]
        fn shifting_text_between_fields_breaks_the_hash(split in 0usize..6) {
            let mut a = record(1, "abcdef");
            a.resource_type = String::new();
            let mut b = a.clone();
            b.action = "abcdef"[..split].to_owned();
            b.resource_type = "abcdef"[split..].to_owned();
            prop_assume!(split != 6);
            prop_assert_ne!(chain_hash(GENESIS, &a), chain_hash(GENESIS, &b));
        }
    }
}
