//! Who may do what: the one place where access is decided.
//!
//! `authorize(actor, action, resource)` is a pure function. Handlers call it
//! before touching data and render its denials: `Forbidden` (the function is
//! not theirs) as 403, `Hidden` (the object is not theirs) as 404 so that a
//! record's existence is not revealed.

use crate::identity::{Actor, ActorKind, Role};

/// Every action the API performs on behalf of an authenticated actor.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Action {
    /// Read one's own account (`/me`).
    ReadSelf,
    /// Enrol a TOTP second factor for oneself.
    EnrolTotp,
    /// End one's own session.
    Logout,
    /// List organisations.
    ListOrganisations,
    /// Read an organisation.
    ReadOrganisation,
    /// Create an organisation.
    CreateOrganisation,
    /// Change an organisation.
    UpdateOrganisation,
    /// List accounts.
    ListAccounts,
    /// Read an account.
    ReadAccount,
    /// Create an account.
    CreateAccount,
    /// Change an account (name, roles, territory).
    UpdateAccount,
    /// Disable or re-enable an account (revokes its sessions).
    ChangeAccountStatus,
    /// List partner app clients.
    ListClients,
    /// Create a partner app client (its secret is shown once).
    CreateClient,
    /// Revoke a partner app client.
    RevokeClient,
    /// Read security settings.
    ReadSecuritySettings,
    /// Change security settings (mandatory TOTP).
    UpdateSecuritySettings,
    /// Read the audit trail.
    ReadAudit,
}

impl Action {
    /// Every action (for exhaustive tests).
    pub const ALL: &'static [Self] = &[
        Self::ReadSelf,
        Self::EnrolTotp,
        Self::Logout,
        Self::ListOrganisations,
        Self::ReadOrganisation,
        Self::CreateOrganisation,
        Self::UpdateOrganisation,
        Self::ListAccounts,
        Self::ReadAccount,
        Self::CreateAccount,
        Self::UpdateAccount,
        Self::ChangeAccountStatus,
        Self::ListClients,
        Self::CreateClient,
        Self::RevokeClient,
        Self::ReadSecuritySettings,
        Self::UpdateSecuritySettings,
        Self::ReadAudit,
    ];

    /// A stable name, for the audit trail.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ReadSelf => "read_self",
            Self::EnrolTotp => "enrol_totp",
            Self::Logout => "logout",
            Self::ListOrganisations => "list_organisations",
            Self::ReadOrganisation => "read_organisation",
            Self::CreateOrganisation => "create_organisation",
            Self::UpdateOrganisation => "update_organisation",
            Self::ListAccounts => "list_accounts",
            Self::ReadAccount => "read_account",
            Self::CreateAccount => "create_account",
            Self::UpdateAccount => "update_account",
            Self::ChangeAccountStatus => "change_account_status",
            Self::ListClients => "list_clients",
            Self::CreateClient => "create_client",
            Self::RevokeClient => "revoke_client",
            Self::ReadSecuritySettings => "read_security_settings",
            Self::UpdateSecuritySettings => "update_security_settings",
            Self::ReadAudit => "read_audit",
        }
    }
}

/// What the action applies to, as far as access depends on it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Resource<'a> {
    /// The function itself (lists, creations, settings).
    Service,
    /// An organisation.
    Organisation {
        /// Its id.
        id: &'a str,
    },
}

/// Why access is refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Denial {
    /// The actor's roles do not include this function: 403.
    Forbidden,
    /// The object is not the actor's to know about: 404.
    Hidden,
}

/// Decides whether `actor` may perform `action` on `resource`.
pub fn authorize(actor: &Actor, action: Action, resource: Resource<'_>) -> Result<(), Denial> {
    use Action::*;
    let has = |role: Role| actor.roles.has(role);
    let staff = actor.roles.is_staff();

    if actor.enrolment_only && !matches!(action, ReadSelf | EnrolTotp | Logout) {
        return Err(Denial::Forbidden);
    }
    let allowed = match action {
        ReadSelf | Logout => true,
        EnrolTotp => actor.kind == ActorKind::Account,
        ListOrganisations => staff,
        ReadOrganisation => {
            if staff {
                true
            } else if has(Role::Partner) {
                // A partner knows its own organisation only.
                return match resource {
                    Resource::Organisation { id } if id == actor.organisation_id => Ok(()),
                    _ => Err(Denial::Hidden),
                };
            } else {
                false
            }
        }
        CreateOrganisation | UpdateOrganisation => has(Role::Admin),
        ListAccounts | ReadAccount => has(Role::Admin) || has(Role::Supervisor),
        CreateAccount | UpdateAccount | ChangeAccountStatus => has(Role::Admin),
        ListClients => has(Role::Admin) || has(Role::Supervisor),
        CreateClient | RevokeClient => has(Role::Admin),
        ReadSecuritySettings | UpdateSecuritySettings => has(Role::Admin),
        ReadAudit => has(Role::Supervisor),
    };
    if allowed {
        Ok(())
    } else {
        Err(Denial::Forbidden)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::identity::Roles;
    use std::collections::BTreeSet;

    fn actor(role: Role) -> Actor {
        Actor {
            id: format!("{role}-id"),
            kind: if role == Role::Partner {
                ActorKind::Client
            } else {
                ActorKind::Account
            },
            organisation_id: "org-a".into(),
            roles: Roles::new([role]).expect("one role"),
            territory: BTreeSet::new(),
            scopes: BTreeSet::new(),
            enrolment_only: false,
        }
    }

    /// The expected outcome of every action for every role, on a resource
    /// of the actor's own organisation (`A`) and of another (`B`).
    /// `Y` allow, `F` 403, `H` 404.
    #[test]
    fn role_action_table() {
        use Action::*;
        const ROLES: [Role; 6] = [
            Role::Admin,
            Role::Supervisor,
            Role::Coordinator,
            Role::RegionalReferent,
            Role::Partner,
            Role::Analyst,
        ];
        // Columns: admin, supervisor, coordinator, regional_referent, partner (app), analyst.
        let table: &[(Action, &str)] = &[
            (ReadSelf, "YYYYYY"),
            (EnrolTotp, "YYYYFY"),
            (Logout, "YYYYYY"),
            (ListOrganisations, "YYYYFF"),
            (ReadOrganisation, "YYYYHF"),
            (CreateOrganisation, "YFFFFF"),
            (UpdateOrganisation, "YFFFFF"),
            (ListAccounts, "YYFFFF"),
            (ReadAccount, "YYFFFF"),
            (CreateAccount, "YFFFFF"),
            (UpdateAccount, "YFFFFF"),
            (ChangeAccountStatus, "YFFFFF"),
            (ListClients, "YYFFFF"),
            (CreateClient, "YFFFFF"),
            (RevokeClient, "YFFFFF"),
            (ReadSecuritySettings, "YFFFFF"),
            (UpdateSecuritySettings, "YFFFFF"),
            (ReadAudit, "FYFFFF"),
        ];
        let covered: BTreeSet<Action> = table.iter().map(|(a, _)| *a).collect();
        for action in Action::ALL {
            assert!(
                covered.contains(action),
                "{action:?} has no row in the table"
            );
        }
        for (action, row) in table {
            for (role, expected) in ROLES.iter().zip(row.chars()) {
                let other = Resource::Organisation { id: "org-b" };
                let resource = match action {
                    ReadOrganisation => other,
                    _ => Resource::Service,
                };
                let expected = match expected {
                    'Y' => Ok(()),
                    'F' => Err(Denial::Forbidden),
                    _ => Err(Denial::Hidden),
                };
                assert_eq!(
                    authorize(&actor(*role), *action, resource),
                    expected,
                    "{role} {action:?}"
                );
            }
        }
    }

    #[test]
    fn partner_reads_its_own_organisation_only() {
        let partner = actor(Role::Partner);
        assert_eq!(
            authorize(
                &partner,
                Action::ReadOrganisation,
                Resource::Organisation { id: "org-a" }
            ),
            Ok(())
        );
        assert_eq!(
            authorize(
                &partner,
                Action::ReadOrganisation,
                Resource::Organisation { id: "org-b" }
            ),
            Err(Denial::Hidden)
        );
    }

    #[test]
    fn enrolment_only_sessions_can_only_enrol() {
        let mut admin = actor(Role::Admin);
        admin.enrolment_only = true;
        for action in Action::ALL {
            let expected = if matches!(
                action,
                Action::ReadSelf | Action::EnrolTotp | Action::Logout
            ) {
                Ok(())
            } else {
                Err(Denial::Forbidden)
            };
            assert_eq!(
                authorize(&admin, *action, Resource::Service),
                expected,
                "{action:?}"
            );
        }
    }

    #[test]
    fn every_action_has_a_distinct_name() {
        let names: BTreeSet<_> = Action::ALL.iter().map(|a| a.as_str()).collect();
        assert_eq!(names.len(), Action::ALL.len());
    }
}
