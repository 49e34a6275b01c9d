//! Organisations, accounts, roles and the actor making a request.

use std::collections::BTreeSet;
use std::fmt;
use std::str::FromStr;

use crate::territory::DepartementCode;

macro_rules! string_enum {
    ($(#[$meta:meta])* $name:ident, $error:literal { $($variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name {
            $(
                #[doc = $text]
                $variant,
            )+
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [Self] = &[$(Self::$variant),+];

            /// The wire and storage name.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => $text,)+
                }
            }
        }

        impl StringEnum for $name {
            const NAME: &'static str = stringify!($name);
            fn all() -> &'static [Self] {
                Self::ALL
            }
            fn as_str(self) -> &'static str {
                $name::as_str(self)
            }
        }

        impl FromStr for $name {
            type Err = UnknownValue;
            fn from_str(s: &str) -> Result<Self, UnknownValue> {
                match s {
                    $($text => Ok(Self::$variant),)+
                    _ => Err(UnknownValue { what: $error, allowed: &[$($text),+] }),
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}
pub(crate) use string_enum;

/// An enumeration with a fixed list of snake_case names (for wire types
/// and storage).
pub trait StringEnum: Copy + FromStr<Err = UnknownValue> + 'static {
    /// The type's name.
    const NAME: &'static str;
    /// Every value.
    fn all() -> &'static [Self];
    /// The name of a value.
    fn as_str(self) -> &'static str;
}

/// A value outside a fixed list.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown {what}; expected one of: {}", allowed.join(", "))]
pub struct UnknownValue {
    /// What was being parsed.
    pub what: &'static str,
    /// The accepted values.
    pub allowed: &'static [&'static str],
}

string_enum!(
    /// What a person or app may do, by function.
    Role, "role" {
        Admin => "admin",
        Supervisor => "supervisor",
        Coordinator => "coordinator",
        RegionalReferent => "regional_referent",
        Partner => "partner",
        Analyst => "analyst",
        Archivist => "archivist",
    }
);

impl Role {
    /// Members of the programme's team (TOTP applies to them).
    pub fn is_staff(self) -> bool {
        matches!(
            self,
            Self::Admin
                | Self::Supervisor
                | Self::Coordinator
                | Self::RegionalReferent
                | Self::Archivist
        )
    }
}

string_enum!(
    /// The programme itself and its partners.
    OrganisationKind, "organisation kind" {
        Programme => "programme",
        Ase => "ase",
        Pjj => "pjj",
        School => "school",
        Health => "health",
        YouthInformation => "youth_information",
        Justice => "justice",
        Police => "police",
        Association => "association",
        Other => "other",
    }
);

string_enum!(
    /// Whether an account or organisation may act.
    Status, "status" {
        Active => "active",
        Disabled => "disabled",
    }
);

string_enum!(
    /// What a partner app may do; granted per client by an admin.
    Scope, "scope" {
        ReferralsRead => "referrals:read",
        ReferralsWrite => "referrals:write",
        FollowUpsRead => "follow-ups:read",
        AppointmentsRead => "appointments:read",
        AppointmentsWrite => "appointments:write",
        EventsRead => "events:read",
        TrainingsWrite => "trainings:write",
    }
);

/// A set of roles, stored as comma-separated names.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Roles(BTreeSet<Role>);

/// Why a set of roles is refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RolesError {
    /// An unknown role name.
    #[error(transparent)]
    Unknown(#[from] UnknownValue),
    /// No role at all.
    #[error("an account has at least one role")]
    Empty,
    /// Partner or analyst combined with a staff role: a person is either of
    /// the team or outside it.
    #[error("partner and analyst roles cannot be combined with staff roles")]
    MixedStaff,
}

impl Roles {
    /// Builds a valid set: at least one role, staff roles never mixed with
    /// partner or analyst.
    pub fn new(roles: impl IntoIterator<Item = Role>) -> Result<Self, RolesError> {
        let set: BTreeSet<Role> = roles.into_iter().collect();
        if set.is_empty() {
            return Err(RolesError::Empty);
        }
        let staff = set.iter().any(|r| r.is_staff());
        let outside = set
            .iter()
            .any(|r| matches!(r, Role::Partner | Role::Analyst));
        if staff && outside {
            return Err(RolesError::MixedStaff);
        }
        Ok(Self(set))
    }

    /// Parses `"coordinator,supervisor"`.
    pub fn parse_list(list: &str) -> Result<Self, RolesError> {
        let roles = list
            .split(',')
            .filter(|s| !s.is_empty())
            .map(Role::from_str)
            .collect::<Result<Vec<_>, _>>()?;
        Self::new(roles)
    }

    /// Whether the set holds `role`.
    pub fn has(&self, role: Role) -> bool {
        self.0.contains(&role)
    }

    /// Whether any role is a staff role.
    pub fn is_staff(&self) -> bool {
        self.0.iter().any(|r| r.is_staff())
    }

    /// Whether any role is of the team's working staff: staff, archivists
    /// aside (they read the restricted archive and nothing else).
    pub fn is_working_staff(&self) -> bool {
        self.0.iter().any(|r| r.is_staff() && *r != Role::Archivist)
    }

    /// Whether these roles work on cases (supervisor, coordinator, regional
    /// referent): who may lead a follow-up. Admins manage accounts and
    /// reference data, not cases.
    pub fn works_on_cases(&self) -> bool {
        self.has(Role::Supervisor)
            || self.has(Role::Coordinator)
            || self.has(Role::RegionalReferent)
    }

    /// The roles, in a stable order.
    pub fn iter(&self) -> impl Iterator<Item = Role> + '_ {
        self.0.iter().copied()
    }

    /// The storage form, `"coordinator,supervisor"`.
    pub fn to_list(&self) -> String {
        self.0
            .iter()
            .map(|r| r.as_str())
            .collect::<Vec<_>>()
            .join(",")
    }

    /// The most privileged role (for the audit trail's single role column).
    pub fn primary(&self) -> Option<Role> {
        self.0.iter().next().copied()
    }
}

/// Parses `"75,93"` into départements (stored form of a territory).
pub fn parse_territory(
    list: &str,
) -> Result<BTreeSet<DepartementCode>, crate::DepartementCodeError> {
    list.split(',')
        .filter(|s| !s.is_empty())
        .map(DepartementCode::parse)
        .collect()
}

/// The stored form of a territory, `"75,93"`.
pub fn territory_list(territory: &BTreeSet<DepartementCode>) -> String {
    territory
        .iter()
        .map(|d| d.as_str())
        .collect::<Vec<_>>()
        .join(",")
}

/// A normalised e-mail address (lower case).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Email(String);

/// Why a string is not an e-mail address.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("an e-mail address is local@domain.tld, at most 254 characters, without spaces")]
pub struct EmailError;

impl Email {
    /// Parses an address (no surrounding spaces) and lower-cases it.
    pub fn parse(input: &str) -> Result<Self, EmailError> {
        let email = input.to_lowercase();
        let valid = email.len() <= 254
            && !email.chars().any(|c| c.is_whitespace() || c.is_control())
            && email.split_once('@').is_some_and(|(local, domain)| {
                !local.is_empty()
                    && !domain.contains('@')
                    && domain.contains('.')
                    && !domain.starts_with('.')
                    && !domain.ends_with('.')
            });
        if valid {
            Ok(Self(email))
        } else {
            Err(EmailError)
        }
    }

    /// The normalised address.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Who is making a request, as established by authentication.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Actor {
    /// The account or client id.
    pub id: String,
    /// A person (account) or a partner app (client).
    pub kind: ActorKind,
    /// Their organisation.
    pub organisation_id: String,
    /// Their roles.
    pub roles: Roles,
    /// Staff territory (départements); empty for others.
    pub territory: BTreeSet<DepartementCode>,
    /// A partner app's scopes; empty for people.
    pub scopes: BTreeSet<Scope>,
    /// Signed in with a password while TOTP enrolment is mandatory and not
    /// done: may only enrol, read itself and log out.
    pub enrolment_only: bool,
}

/// A person or an app.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ActorKind {
    /// A person with an account.
    Account,
    /// A partner app (client credentials).
    Client,
}

impl ActorKind {
    /// The storage name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Account => "account",
            Self::Client => "client",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_parse_and_print() {
        let roles = Roles::parse_list("supervisor,coordinator").expect("valid");
        assert_eq!(roles.to_list(), "supervisor,coordinator");
        assert!(roles.has(Role::Coordinator) && roles.is_staff());
        assert_eq!(roles.primary(), Some(Role::Supervisor));
    }

    #[test]
    fn roles_rules() {
        assert_eq!(Roles::parse_list(""), Err(RolesError::Empty));
        assert_eq!(
            Roles::new([Role::Partner, Role::Coordinator]),
            Err(RolesError::MixedStaff)
        );
        assert_eq!(
            Roles::new([Role::Analyst, Role::Admin]),
            Err(RolesError::MixedStaff)
        );
        assert!(matches!(
            Roles::parse_list("root"),
            Err(RolesError::Unknown(_))
        ));
        assert!(Roles::new([Role::Partner]).is_ok());
    }

    #[test]
    fn unknown_values_list_what_is_allowed() {
        let error = "prison".parse::<OrganisationKind>().expect_err("unknown");
        assert!(
            error
                .to_string()
                .starts_with("unknown organisation kind; expected one of: programme, ase, pjj")
        );
    }

    #[test]
    fn every_enum_round_trips() {
        for role in Role::ALL {
            assert_eq!(role.as_str().parse::<Role>(), Ok(*role));
        }
        for kind in OrganisationKind::ALL {
            assert_eq!(kind.as_str().parse::<OrganisationKind>(), Ok(*kind));
        }
        for scope in Scope::ALL {
            assert_eq!(scope.as_str().parse::<Scope>(), Ok(*scope));
        }
    }

    #[test]
    fn emails() {
        assert_eq!(
            Email::parse("Alice@Example.ORG").map(|e| e.as_str().to_owned()),
            Ok("alice@example.org".into())
        );
        for bad in [
            " alice@example.org",
            "alice@example.org\n",
            "al\u{85}ice@example.org",
            "",
            "alice",
            "@example.org",
            "alice@",
            "alice@example",
            "a b@example.org",
            "a@b@c.org",
            "a@.org",
        ] {
            assert_eq!(Email::parse(bad), Err(EmailError), "{bad}");
        }
    }

    #[test]
    fn territories() {
        let t = parse_territory("93,75,2A").expect("valid");
        assert_eq!(territory_list(&t), "2A,75,93");
        assert!(parse_territory("").expect("empty").is_empty());
        assert!(parse_territory("75,XX").is_err());
    }
}

/// Why an account's roles, organisation and territory do not fit together.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum AccountRuleError {
    /// Staff roles belong to accounts of the programme itself.
    #[error("staff roles are for accounts of the programme's own organisation")]
    StaffOutsideProgramme,
    /// Partner accounts belong to a partner organisation.
    #[error("the partner role is for accounts of a partner organisation, not the programme")]
    PartnerInsideProgramme,
    /// Coordinators and regional referents work on a territory.
    #[error("coordinators and regional referents need a territory of at least one département")]
    TerritoryRequired,
    /// Only coordinators and regional referents have a territory.
    #[error("only coordinators and regional referents have a territory")]
    TerritoryNotApplicable,
}

impl AccountRuleError {
    /// The rule's stable tag.
    pub fn tag(self) -> &'static str {
        match self {
            Self::StaffOutsideProgramme => "staff-outside-programme",
            Self::PartnerInsideProgramme => "partner-inside-programme",
            Self::TerritoryRequired => "territory-required",
            Self::TerritoryNotApplicable => "territory-not-applicable",
        }
    }
}

/// Checks that roles, organisation kind and territory fit together.
pub fn check_account(
    roles: &Roles,
    organisation: OrganisationKind,
    territory: &BTreeSet<DepartementCode>,
) -> Result<(), AccountRuleError> {
    let programme = organisation == OrganisationKind::Programme;
    if roles.is_staff() && !programme {
        return Err(AccountRuleError::StaffOutsideProgramme);
    }
    if roles.has(Role::Partner) && programme {
        return Err(AccountRuleError::PartnerInsideProgramme);
    }
    let territorial = roles.has(Role::Coordinator) || roles.has(Role::RegionalReferent);
    match (territorial, territory.is_empty()) {
        (true, true) => Err(AccountRuleError::TerritoryRequired),
        (false, false) => Err(AccountRuleError::TerritoryNotApplicable),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod account_rules {
    use super::*;

    fn roles(list: &str) -> Roles {
        Roles::parse_list(list).expect("valid")
    }

    #[test]
    fn rules() {
        let t93 = parse_territory("93").expect("valid");
        let none = BTreeSet::new();
        let p = OrganisationKind::Programme;
        let ase = OrganisationKind::Ase;
        assert_eq!(check_account(&roles("coordinator"), p, &t93), Ok(()));
        assert_eq!(check_account(&roles("admin"), p, &none), Ok(()));
        assert_eq!(check_account(&roles("supervisor"), p, &none), Ok(()));
        assert_eq!(check_account(&roles("partner"), ase, &none), Ok(()));
        assert_eq!(check_account(&roles("analyst"), ase, &none), Ok(()));
        assert_eq!(check_account(&roles("analyst"), p, &none), Ok(()));
        assert_eq!(
            check_account(&roles("coordinator"), ase, &t93),
            Err(AccountRuleError::StaffOutsideProgramme)
        );
        assert_eq!(
            check_account(&roles("partner"), p, &none),
            Err(AccountRuleError::PartnerInsideProgramme)
        );
        assert_eq!(
            check_account(&roles("regional_referent"), p, &none),
            Err(AccountRuleError::TerritoryRequired)
        );
        assert_eq!(
            check_account(&roles("admin"), p, &t93),
            Err(AccountRuleError::TerritoryNotApplicable)
        );
        assert_eq!(
            check_account(&roles("partner"), ase, &t93),
            Err(AccountRuleError::TerritoryNotApplicable)
        );
    }
}

/// Changes an admin may not make to their own account, so that nobody
/// locks the programme out by mistake.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SelfChangeError {
    /// Disabling oneself.
    #[error("you cannot disable your own account; ask another admin")]
    DisableSelf,
    /// Removing one's own admin role.
    #[error("you cannot remove your own admin role; ask another admin")]
    DropOwnAdmin,
}

impl SelfChangeError {
    /// The rule's stable tag.
    pub fn tag(self) -> &'static str {
        match self {
            Self::DisableSelf => "cannot-disable-self",
            Self::DropOwnAdmin => "cannot-drop-own-admin",
        }
    }
}

/// Checks a change of `target`'s account made by `actor`.
pub fn check_self_change(
    actor: &Actor,
    target_id: &str,
    new_roles: Option<&Roles>,
    disabling: bool,
) -> Result<(), SelfChangeError> {
    if actor.id != target_id {
        return Ok(());
    }
    if disabling {
        return Err(SelfChangeError::DisableSelf);
    }
    match new_roles {
        Some(roles) if actor.roles.has(Role::Admin) && !roles.has(Role::Admin) => {
            Err(SelfChangeError::DropOwnAdmin)
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod self_change {
    use super::*;

    fn admin() -> Actor {
        Actor {
            id: "me".into(),
            kind: ActorKind::Account,
            organisation_id: "p".into(),
            roles: Roles::new([Role::Admin]).expect("roles"),
            territory: BTreeSet::new(),
            scopes: BTreeSet::new(),
            enrolment_only: false,
        }
    }

    #[test]
    fn admins_cannot_lock_themselves_out() {
        let supervisor = Roles::new([Role::Supervisor]).expect("roles");
        let both = Roles::new([Role::Admin, Role::Supervisor]).expect("roles");
        assert_eq!(
            check_self_change(&admin(), "me", None, true),
            Err(SelfChangeError::DisableSelf)
        );
        assert_eq!(
            check_self_change(&admin(), "me", Some(&supervisor), false),
            Err(SelfChangeError::DropOwnAdmin)
        );
        assert_eq!(
            check_self_change(&admin(), "me", Some(&both), false),
            Ok(())
        );
        assert_eq!(
            check_self_change(&admin(), "other", Some(&supervisor), true),
            Ok(())
        );
        assert_eq!(check_self_change(&admin(), "me", None, false), Ok(()));
    }
}
