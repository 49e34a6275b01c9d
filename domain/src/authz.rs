//! Who may do what: the one place where access is decided.
//!
//! `authorize(actor, action, resource)` is a pure function. Handlers call it
//! before touching data and render its denials: `Forbidden` (the function is
//! not theirs) as 403, `Hidden` (the object is not theirs) as 404 so that a
//! record's existence is not revealed.

use crate::DepartementCode;
use crate::identity::{Actor, ActorKind, Role, Scope};

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
    /// Submit a referral.
    CreateReferral,
    /// List referrals (staff: their territory; partners: their organisation's).
    ListReferrals,
    /// Read a referral and its timeline.
    ReadReferral,
    /// Review, accept, decline, redirect; record the child-protection decision.
    TriageReferral,
    /// Withdraw a referral before a decision.
    WithdrawReferral,
    /// List overdue child-protection decisions.
    ListOverdueProtectionDecisions,
    /// List follow-ups.
    ListFollowUps,
    /// Read a follow-up.
    ReadFollowUp,
    /// Change a follow-up (staff, objectives, measure, status).
    ManageFollowUp,
    /// Read or write the notes of a follow-up.
    AccessNotes,
    /// List sites (internal view).
    ListSites,
    /// Read a site.
    ReadSite,
    /// Create or change a site.
    ManageSite,
    /// List permanences.
    ListPermanences,
    /// Read a permanence and its occurrences.
    ReadPermanence,
    /// Create or change a permanence, its exceptions and staff.
    ManagePermanence,
    /// List appointments.
    ListAppointments,
    /// Book an appointment.
    CreateAppointment,
    /// Read an appointment.
    ReadAppointment,
    /// Reschedule, confirm, cancel, complete an appointment.
    ManageAppointment,
    /// List group sessions.
    ListGroupSessions,
    /// Read a group session and its registrations.
    ReadGroupSession,
    /// Plan a group session.
    CreateGroupSession,
    /// Change a group session: status, registrations, attendance.
    ManageGroupSession,
    /// Read free first-meeting slots.
    ReadAvailability,
    /// Book a free slot for a referral (partners: pending confirmation).
    BookFirstMeeting,
    /// Create, rotate or revoke one's own calendar feed.
    ManageCalendarFeed,
    /// Read one's own agenda.
    ReadAgenda,
    /// Create, change or remove directory entries.
    ManageDirectory,
    /// Set the team's contacts per département.
    ManageContacts,
    /// Read published statistics (aggregates with small cells suppressed).
    ReadStatistics,
    /// Read the processing purposes and their legal bases.
    ReadProcessingPurposes,
    /// Read the consents of a follow-up's young person and their coverage.
    ReadConsents,
    /// Record, withdraw or invalidate a consent.
    ManageConsents,
    /// Read the share decisions of a follow-up.
    ReadShares,
    /// Decide or revoke a share with a partner organisation.
    ManageShares,
    /// Read a follow-up's projection shared with one's organisation.
    ReadSharedFollowUp,
    /// List consents to re-collect at majority.
    ListConsentRenewals,
    /// Export everything held on one person (data-subject access).
    ExportPersonData,
    /// Read the restricted archive of follow-ups past their retention.
    ReadArchive,
    /// Record and decide erasure requests.
    ManageErasure,
    /// Read a person's record (staff working on their case).
    ReadPerson,
    /// Rectify a person's record (data-subject right to rectification).
    RectifyPerson,
    /// List, create or delete an organisation's webhook subscriptions, read
    /// its dead-letter list and redeliver (admins; the partner itself).
    ManageWebhooks,
    /// Read one's organisation's event feed (partners).
    ReadEvents,
    /// List partnership agreements.
    ListAgreements,
    /// Read a partnership agreement.
    ReadAgreement,
    /// Create or change a partnership agreement.
    ManageAgreement,
    /// List agreements ending soon.
    ListExpiringAgreements,
    /// Add or change library resources and their files.
    ManageResources,
    /// Download a partners-only library file.
    DownloadPartnerResource,
    /// List trainings and case reviews open to professionals.
    ListOpenTrainings,
    /// Register professionals of one's organisation to a training.
    RegisterProfessionals,
    /// Read one's organisation's training registrations.
    ListOwnRegistrations,
    /// Cancel one of one's organisation's registrations.
    CancelOwnRegistration,
    /// Ask for a case review.
    RequestCaseReview,
    /// List case review requests (partners: their organisation's).
    ListCaseReviewRequests,
    /// Schedule a case review request as a group session.
    ScheduleCaseReview,
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
        Self::CreateReferral,
        Self::ListReferrals,
        Self::ReadReferral,
        Self::TriageReferral,
        Self::WithdrawReferral,
        Self::ListOverdueProtectionDecisions,
        Self::ListFollowUps,
        Self::ReadFollowUp,
        Self::ManageFollowUp,
        Self::AccessNotes,
        Self::ListSites,
        Self::ReadSite,
        Self::ManageSite,
        Self::ListPermanences,
        Self::ReadPermanence,
        Self::ManagePermanence,
        Self::ListAppointments,
        Self::CreateAppointment,
        Self::ReadAppointment,
        Self::ManageAppointment,
        Self::ListGroupSessions,
        Self::ReadGroupSession,
        Self::CreateGroupSession,
        Self::ManageGroupSession,
        Self::ReadAvailability,
        Self::BookFirstMeeting,
        Self::ManageCalendarFeed,
        Self::ReadAgenda,
        Self::ManageDirectory,
        Self::ManageContacts,
        Self::ReadStatistics,
        Self::ReadProcessingPurposes,
        Self::ReadConsents,
        Self::ManageConsents,
        Self::ReadShares,
        Self::ManageShares,
        Self::ReadSharedFollowUp,
        Self::ListConsentRenewals,
        Self::ExportPersonData,
        Self::ReadArchive,
        Self::ManageErasure,
        Self::ReadPerson,
        Self::RectifyPerson,
        Self::ManageWebhooks,
        Self::ReadEvents,
        Self::ListAgreements,
        Self::ReadAgreement,
        Self::ManageAgreement,
        Self::ListExpiringAgreements,
        Self::ManageResources,
        Self::DownloadPartnerResource,
        Self::ListOpenTrainings,
        Self::RegisterProfessionals,
        Self::ListOwnRegistrations,
        Self::CancelOwnRegistration,
        Self::RequestCaseReview,
        Self::ListCaseReviewRequests,
        Self::ScheduleCaseReview,
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
            Self::CreateReferral => "create_referral",
            Self::ListReferrals => "list_referrals",
            Self::ReadReferral => "read_referral",
            Self::TriageReferral => "triage_referral",
            Self::WithdrawReferral => "withdraw_referral",
            Self::ListOverdueProtectionDecisions => "list_overdue_protection_decisions",
            Self::ListFollowUps => "list_follow_ups",
            Self::ReadFollowUp => "read_follow_up",
            Self::ManageFollowUp => "manage_follow_up",
            Self::AccessNotes => "access_notes",
            Self::ListSites => "list_sites",
            Self::ReadSite => "read_site",
            Self::ManageSite => "manage_site",
            Self::ListPermanences => "list_permanences",
            Self::ReadPermanence => "read_permanence",
            Self::ManagePermanence => "manage_permanence",
            Self::ListAppointments => "list_appointments",
            Self::CreateAppointment => "create_appointment",
            Self::ReadAppointment => "read_appointment",
            Self::ManageAppointment => "manage_appointment",
            Self::ListGroupSessions => "list_group_sessions",
            Self::ReadGroupSession => "read_group_session",
            Self::CreateGroupSession => "create_group_session",
            Self::ManageGroupSession => "manage_group_session",
            Self::ReadAvailability => "read_availability",
            Self::BookFirstMeeting => "book_first_meeting",
            Self::ManageCalendarFeed => "manage_calendar_feed",
            Self::ReadAgenda => "read_agenda",
            Self::ManageDirectory => "manage_directory",
            Self::ManageContacts => "manage_contacts",
            Self::ReadStatistics => "read_statistics",
            Self::ReadProcessingPurposes => "read_processing_purposes",
            Self::ReadConsents => "read_consents",
            Self::ManageConsents => "manage_consents",
            Self::ReadShares => "read_shares",
            Self::ManageShares => "manage_shares",
            Self::ReadSharedFollowUp => "read_shared_follow_up",
            Self::ListConsentRenewals => "list_consent_renewals",
            Self::ExportPersonData => "export_person_data",
            Self::ReadArchive => "read_archive",
            Self::ManageErasure => "manage_erasure",
            Self::ReadPerson => "read_person",
            Self::RectifyPerson => "rectify_person",
            Self::ManageWebhooks => "manage_webhooks",
            Self::ReadEvents => "read_events",
            Self::ListAgreements => "list_agreements",
            Self::ReadAgreement => "read_agreement",
            Self::ManageAgreement => "manage_agreement",
            Self::ListExpiringAgreements => "list_expiring_agreements",
            Self::ManageResources => "manage_resources",
            Self::DownloadPartnerResource => "download_partner_resource",
            Self::ListOpenTrainings => "list_open_trainings",
            Self::RegisterProfessionals => "register_professionals",
            Self::ListOwnRegistrations => "list_own_registrations",
            Self::CancelOwnRegistration => "cancel_own_registration",
            Self::RequestCaseReview => "request_case_review",
            Self::ListCaseReviewRequests => "list_case_review_requests",
            Self::ScheduleCaseReview => "schedule_case_review",
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
    /// A referral.
    Referral {
        /// The referring organisation, if any.
        organisation_id: Option<&'a str>,
        /// Where the young person lives (the case's département).
        departement: &'a DepartementCode,
    },
    /// A follow-up.
    FollowUp {
        /// The case's département.
        departement: &'a DepartementCode,
        /// Lead and co-staff account ids.
        staff: &'a [String],
    },
    /// A site, or a permanence held at it.
    Site {
        /// The site's département.
        departement: &'a DepartementCode,
    },
    /// An appointment.
    Appointment {
        /// The appointment's département.
        departement: &'a DepartementCode,
        /// Its staff's account ids.
        staff: &'a [String],
        /// The partner organisation that proposed it, if any.
        proposed_by: Option<&'a str>,
    },
    /// A follow-up as shared with partner organisations.
    SharedFollowUp {
        /// Organisations with a share decision active now.
        organisations: &'a [String],
    },
    /// A record belonging to a partner organisation (a registration, a
    /// case review request).
    PartnerRecord {
        /// The organisation.
        organisation_id: &'a str,
    },
    /// A group session.
    GroupSession {
        /// The session's département.
        departement: &'a DepartementCode,
        /// Its staff's account ids.
        staff: &'a [String],
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
    // Archivists are of the team (programme organisation, TOTP) but see the
    // restricted archive only, none of the team's working data.
    let staff = actor.roles.is_working_staff();

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
        CreateReferral => {
            // Coordinators and referents submit for their territory only: a
            // referral of another would leave their hands at once (they
            // could not read it). Supervisors and partners, any département.
            if let Resource::Referral { departement, .. } = resource
                && territorial(actor)
                && !has(Role::Supervisor)
                && !actor.territory.contains(departement)
            {
                return Err(Denial::Forbidden);
            }
            case_staff(actor) || (has(Role::Partner) && scoped(actor, Scope::ReferralsWrite))
        }
        ListReferrals => {
            case_staff(actor) || (has(Role::Partner) && scoped(actor, Scope::ReferralsRead))
        }
        ReadReferral => return referral_access(actor, resource, Scope::ReferralsRead, true),
        WithdrawReferral => return referral_access(actor, resource, Scope::ReferralsWrite, true),
        TriageReferral => return referral_access(actor, resource, Scope::ReferralsWrite, false),
        ListOverdueProtectionDecisions => has(Role::Supervisor),
        ListFollowUps => case_staff(actor),
        ReadFollowUp | ManageFollowUp => return follow_up_access(actor, resource, false),
        AccessNotes => return follow_up_access(actor, resource, true),
        ListSites | ReadSite | ListPermanences | ReadPermanence => staff,
        ManageSite | ManagePermanence => return schedule_management(actor, resource),
        ListAppointments | CreateAppointment => case_staff(actor),
        ReadAppointment => return appointment_access(actor, resource, true),
        ManageAppointment => return appointment_access(actor, resource, false),
        ListGroupSessions | ReadGroupSession => staff,
        CreateGroupSession => case_staff(actor),
        ManageGroupSession => return group_session_access(actor, resource),
        ReadAvailability => {
            case_staff(actor) || (has(Role::Partner) && scoped(actor, Scope::AppointmentsRead))
        }
        BookFirstMeeting => {
            case_staff(actor) || (has(Role::Partner) && scoped(actor, Scope::AppointmentsWrite))
        }
        ManageCalendarFeed | ReadAgenda => staff && actor.kind == ActorKind::Account,
        ManageDirectory | ManageContacts => has(Role::Admin),
        // Aggregates only, never a person: analysts and the supervisor, people
        // only (no partner app).
        ReadStatistics => {
            (has(Role::Analyst) || has(Role::Supervisor)) && actor.kind == ActorKind::Account
        }
        ReadProcessingPurposes => true,
        ReadConsents | ManageConsents | ReadShares | ManageShares => {
            return follow_up_access(actor, resource, false);
        }
        ReadSharedFollowUp => return shared_follow_up_access(actor, resource),
        ListConsentRenewals => case_staff(actor),
        ExportPersonData | ManageErasure => has(Role::Supervisor),
        // Those who may manage a follow-up or triage a referral about the person.
        ReadPerson | RectifyPerson => {
            return match resource {
                Resource::Referral { .. } => {
                    referral_access(actor, resource, Scope::ReferralsWrite, false)
                }
                _ => follow_up_access(actor, resource, false),
            };
        }
        // The restricted archive: the supervisor and archivists, people only.
        ReadArchive => {
            (has(Role::Supervisor) || has(Role::Archivist)) && actor.kind == ActorKind::Account
        }
        ManageWebhooks => return webhook_access(actor, resource),
        ReadEvents => has(Role::Partner) && scoped(actor, Scope::EventsRead),
        ListAgreements | ReadAgreement => staff,
        ManageAgreement | ListExpiringAgreements => has(Role::Admin),
        ManageResources => has(Role::Admin) || has(Role::Supervisor),
        // The library's documents for professionals: no person in them, so
        // any partner, an app with whatever scope.
        DownloadPartnerResource => staff || has(Role::Partner),
        ListOpenTrainings => staff || (has(Role::Partner) && scoped(actor, Scope::TrainingsWrite)),
        // Partner apps only with the `trainings:write` scope.
        RegisterProfessionals | ListOwnRegistrations | RequestCaseReview => {
            has(Role::Partner) && scoped(actor, Scope::TrainingsWrite)
        }
        CancelOwnRegistration => return partner_record_access(actor, resource),
        ListCaseReviewRequests => {
            case_staff(actor) || (has(Role::Partner) && scoped(actor, Scope::TrainingsWrite))
        }
        ScheduleCaseReview => case_staff(actor),
    };
    if allowed {
        Ok(())
    } else {
        Err(Denial::Forbidden)
    }
}

/// Staff who work on cases: supervisors, coordinators, regional referents
/// (admins manage accounts and reference data, not cases).
fn case_staff(actor: &Actor) -> bool {
    actor.roles.works_on_cases()
}

fn territorial(actor: &Actor) -> bool {
    actor.roles.has(Role::Coordinator) || actor.roles.has(Role::RegionalReferent)
}

/// People act with all their roles; partner apps only within their scopes.
fn scoped(actor: &Actor, scope: Scope) -> bool {
    actor.kind == ActorKind::Account || actor.scopes.contains(&scope)
}

/// Referrals: supervisors all; coordinators and referents those of their
/// territory; partners those of their organisation (`partner_may`), 404 for
/// the others.
fn referral_access(
    actor: &Actor,
    resource: Resource<'_>,
    scope: Scope,
    partner_may: bool,
) -> Result<(), Denial> {
    let supervisor = actor.roles.has(Role::Supervisor);
    let partner = actor.roles.has(Role::Partner) && partner_may;
    if !(supervisor || territorial(actor) || partner) {
        return Err(Denial::Forbidden);
    }
    if partner && !supervisor && !territorial(actor) && !scoped(actor, scope) {
        return Err(Denial::Forbidden);
    }
    // A record that does not exist is nobody's: 404 for whoever may act on referrals.
    let Resource::Referral {
        organisation_id,
        departement,
    } = resource
    else {
        return Err(Denial::Hidden);
    };
    if supervisor {
        return Ok(());
    }
    if territorial(actor) {
        return if actor.territory.contains(departement) {
            Ok(())
        } else {
            Err(Denial::Hidden)
        };
    }
    if organisation_id == Some(actor.organisation_id.as_str()) {
        Ok(())
    } else {
        Err(Denial::Hidden)
    }
}

/// Follow-ups: supervisors all; staff on the follow-up; for everything but
/// notes, also coordinators and referents of its territory. Notes: the
/// follow-up's own staff and supervisors only.
fn follow_up_access(actor: &Actor, resource: Resource<'_>, notes: bool) -> Result<(), Denial> {
    let supervisor = actor.roles.has(Role::Supervisor);
    if !(supervisor || territorial(actor)) {
        return Err(Denial::Forbidden);
    }
    // A record that does not exist is nobody's: 404.
    let Resource::FollowUp { departement, staff } = resource else {
        return Err(Denial::Hidden);
    };
    if supervisor {
        return Ok(());
    }
    let on_case = staff.contains(&actor.id);
    match (on_case, actor.territory.contains(departement), notes) {
        (true, _, _) => Ok(()),
        (false, true, false) => Ok(()),
        (false, true, true) => Err(Denial::Forbidden),
        (false, false, _) => Err(Denial::Hidden),
    }
}

/// A follow-up's shared projection: partners (apps with `follow-ups:read`)
/// of an organisation holding an active share decision; 404 for other
/// partners, whose organisation was not told of it.
fn shared_follow_up_access(actor: &Actor, resource: Resource<'_>) -> Result<(), Denial> {
    if !(actor.roles.has(Role::Partner) && scoped(actor, Scope::FollowUpsRead)) {
        return Err(Denial::Forbidden);
    }
    match resource {
        Resource::SharedFollowUp { organisations }
            if organisations.contains(&actor.organisation_id) =>
        {
            Ok(())
        }
        _ => Err(Denial::Hidden),
    }
}

/// Sites and permanences: admins and supervisors everywhere; coordinators
/// and referents in their territory. Everyone else on staff may read them
/// (403 to change what they can see).
fn schedule_management(actor: &Actor, resource: Resource<'_>) -> Result<(), Denial> {
    if actor.roles.has(Role::Admin) || actor.roles.has(Role::Supervisor) {
        return Ok(());
    }
    if !territorial(actor) {
        return Err(Denial::Forbidden);
    }
    match resource {
        Resource::Site { departement } if actor.territory.contains(departement) => Ok(()),
        Resource::Site { .. } => Err(Denial::Forbidden),
        _ => Err(Denial::Hidden),
    }
}

/// Appointments: supervisors all; their staff; coordinators and referents
/// of their territory; partners read those their organisation proposed.
/// 404 for the others.
fn appointment_access(actor: &Actor, resource: Resource<'_>, read: bool) -> Result<(), Denial> {
    let supervisor = actor.roles.has(Role::Supervisor);
    let partner = read && actor.roles.has(Role::Partner) && scoped(actor, Scope::AppointmentsRead);
    if !(supervisor || territorial(actor) || partner) {
        return Err(Denial::Forbidden);
    }
    let Resource::Appointment {
        departement,
        staff,
        proposed_by,
    } = resource
    else {
        return Err(Denial::Hidden);
    };
    let visible = supervisor
        || (territorial(actor)
            && (staff.contains(&actor.id) || actor.territory.contains(departement)))
        || (partner && proposed_by == Some(actor.organisation_id.as_str()));
    if visible { Ok(()) } else { Err(Denial::Hidden) }
}

/// Webhooks: admins for every organisation; a partner (an app with
/// `events:read`) for its own organisation only, 404 for another's.
fn webhook_access(actor: &Actor, resource: Resource<'_>) -> Result<(), Denial> {
    if actor.roles.has(Role::Admin) {
        return Ok(());
    }
    if !(actor.roles.has(Role::Partner) && scoped(actor, Scope::EventsRead)) {
        return Err(Denial::Forbidden);
    }
    match resource {
        Resource::Service => Ok(()),
        Resource::Organisation { id } if id == actor.organisation_id => Ok(()),
        _ => Err(Denial::Hidden),
    }
}

/// A partner's own records: its organisation's only (404 for others').
fn partner_record_access(actor: &Actor, resource: Resource<'_>) -> Result<(), Denial> {
    if !(actor.roles.has(Role::Partner) && scoped(actor, Scope::TrainingsWrite)) {
        return Err(Denial::Forbidden);
    }
    match resource {
        Resource::PartnerRecord { organisation_id } if organisation_id == actor.organisation_id => {
            Ok(())
        }
        _ => Err(Denial::Hidden),
    }
}

/// Group sessions are visible to all staff; supervisors, their staff and
/// the coordinators and referents of their territory change them.
fn group_session_access(actor: &Actor, resource: Resource<'_>) -> Result<(), Denial> {
    let supervisor = actor.roles.has(Role::Supervisor);
    if !(supervisor || territorial(actor)) {
        return Err(Denial::Forbidden);
    }
    let Resource::GroupSession { departement, staff } = resource else {
        return Err(Denial::Hidden);
    };
    if supervisor || staff.contains(&actor.id) || actor.territory.contains(departement) {
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
            territory: if matches!(role, Role::Coordinator | Role::RegionalReferent) {
                crate::identity::parse_territory("93").expect("93")
            } else {
                BTreeSet::new()
            },
            scopes: [
                Scope::ReferralsRead,
                Scope::ReferralsWrite,
                Scope::FollowUpsRead,
                Scope::AppointmentsRead,
                Scope::AppointmentsWrite,
                Scope::EventsRead,
                Scope::TrainingsWrite,
            ]
            .into_iter()
            .collect(),
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
            (CreateReferral, "FYYYYF"),
            (ListReferrals, "FYYYYF"),
            (ReadReferral, "FYHHHF"),
            (TriageReferral, "FYHHFF"),
            (WithdrawReferral, "FYHHHF"),
            (ListOverdueProtectionDecisions, "FYFFFF"),
            (ListFollowUps, "FYYYFF"),
            (ReadFollowUp, "FYHHFF"),
            (ManageFollowUp, "FYHHFF"),
            (AccessNotes, "FYHHFF"),
            (ListSites, "YYYYFF"),
            (ReadSite, "YYYYFF"),
            (ManageSite, "YYFFFF"),
            (ListPermanences, "YYYYFF"),
            (ReadPermanence, "YYYYFF"),
            (ManagePermanence, "YYFFFF"),
            (ListAppointments, "FYYYFF"),
            (CreateAppointment, "FYYYFF"),
            (ReadAppointment, "FYHHHF"),
            (ManageAppointment, "FYHHFF"),
            (ListGroupSessions, "YYYYFF"),
            (ReadGroupSession, "YYYYFF"),
            (CreateGroupSession, "FYYYFF"),
            (ManageGroupSession, "FYFFFF"),
            (ReadAvailability, "FYYYYF"),
            (BookFirstMeeting, "FYYYYF"),
            (ManageCalendarFeed, "YYYYFF"),
            (ReadAgenda, "YYYYFF"),
            (ManageDirectory, "YFFFFF"),
            (ManageContacts, "YFFFFF"),
            (ReadStatistics, "FYFFFY"),
            (ReadProcessingPurposes, "YYYYYY"),
            (ReadConsents, "FYHHFF"),
            (ManageConsents, "FYHHFF"),
            (ReadShares, "FYHHFF"),
            (ManageShares, "FYHHFF"),
            (ReadSharedFollowUp, "FFFFHF"),
            (ListConsentRenewals, "FYYYFF"),
            (ExportPersonData, "FYFFFF"),
            (ReadArchive, "FYFFFF"),
            (ManageErasure, "FYFFFF"),
            (ReadPerson, "FYHHFF"),
            (RectifyPerson, "FYHHFF"),
            (ManageWebhooks, "YFFFHF"),
            (ReadEvents, "FFFFYF"),
            (ListAgreements, "YYYYFF"),
            (ReadAgreement, "YYYYFF"),
            (ManageAgreement, "YFFFFF"),
            (ListExpiringAgreements, "YFFFFF"),
            (ManageResources, "YYFFFF"),
            (DownloadPartnerResource, "YYYYYF"),
            (ListOpenTrainings, "YYYYYF"),
            (RegisterProfessionals, "FFFFYF"),
            (ListOwnRegistrations, "FFFFYF"),
            (CancelOwnRegistration, "FFFFHF"),
            (RequestCaseReview, "FFFFYF"),
            (ListCaseReviewRequests, "FYYYYF"),
            (ScheduleCaseReview, "FYYYFF"),
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
                // Resources of another organisation, outside every territory.
                let other = Resource::Organisation { id: "org-b" };
                let far = DepartementCode::parse("976").expect("code");
                let staff = ["someone-else".to_owned()];
                let shared_with = ["org-b".to_owned()];
                let resource = match action {
                    ReadOrganisation | ManageWebhooks => other,
                    ReadReferral | TriageReferral | WithdrawReferral => Resource::Referral {
                        organisation_id: Some("org-b"),
                        departement: &far,
                    },
                    ReadSharedFollowUp => Resource::SharedFollowUp {
                        organisations: &shared_with,
                    },
                    ReadFollowUp | ManageFollowUp | AccessNotes | ReadConsents | ManageConsents
                    | ReadShares | ManageShares | ReadPerson | RectifyPerson => {
                        Resource::FollowUp {
                            departement: &far,
                            staff: &staff,
                        }
                    }
                    ManageSite | ManagePermanence => Resource::Site { departement: &far },
                    ReadAppointment | ManageAppointment => Resource::Appointment {
                        departement: &far,
                        staff: &staff,
                        proposed_by: Some("org-b"),
                    },
                    CancelOwnRegistration => Resource::PartnerRecord {
                        organisation_id: "org-b",
                    },
                    ManageGroupSession => Resource::GroupSession {
                        departement: &far,
                        staff: &staff,
                    },
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

    /// The archivist's whole row: the restricted archive and their own
    /// session, nothing of the team's working data.
    #[test]
    fn archivists_read_the_archive_and_nothing_else() {
        use Action::*;
        let archivist = actor(Role::Archivist);
        let allowed = [
            ReadSelf,
            EnrolTotp,
            Logout,
            ReadProcessingPurposes,
            ReadArchive,
        ];
        for action in Action::ALL {
            let expected = if allowed.contains(action) {
                Ok(())
            } else {
                Err(Denial::Forbidden)
            };
            assert_eq!(
                authorize(&archivist, *action, Resource::Service),
                expected,
                "{action:?}"
            );
        }
        let mut app = actor(Role::Supervisor);
        app.kind = ActorKind::Client;
        assert_eq!(
            authorize(&app, ReadArchive, Resource::Service),
            Err(Denial::Forbidden)
        );
    }

    #[test]
    fn people_are_rectified_by_those_who_work_on_their_case() {
        let d93 = DepartementCode::parse("93").expect("code");
        let d75 = DepartementCode::parse("75").expect("code");
        let referral = |departement| Resource::Referral {
            organisation_id: Some("org-a"),
            departement,
        };
        let coordinator = actor(Role::Coordinator);
        assert_eq!(
            authorize(&coordinator, Action::RectifyPerson, referral(&d93)),
            Ok(())
        );
        assert_eq!(
            authorize(&coordinator, Action::RectifyPerson, referral(&d75)),
            Err(Denial::Hidden)
        );
        // The referring partner reads the referral but does not rectify.
        assert_eq!(
            authorize(&actor(Role::Partner), Action::RectifyPerson, referral(&d93)),
            Err(Denial::Forbidden)
        );
        let staff = ["someone".to_owned()];
        assert_eq!(
            authorize(
                &actor(Role::Supervisor),
                Action::RectifyPerson,
                Resource::FollowUp {
                    departement: &d75,
                    staff: &staff
                }
            ),
            Ok(())
        );
    }

    #[test]
    fn partner_apps_sign_up_professionals_only_with_their_scope() {
        let mut app = actor(Role::Partner);
        app.scopes = [Scope::AppointmentsRead].into_iter().collect();
        for action in [
            Action::RegisterProfessionals,
            Action::ListOwnRegistrations,
            Action::RequestCaseReview,
            Action::ListCaseReviewRequests,
        ] {
            assert_eq!(
                authorize(&app, action, Resource::Service),
                Err(Denial::Forbidden),
                "{action:?}"
            );
        }
        assert_eq!(
            authorize(
                &app,
                Action::CancelOwnRegistration,
                Resource::PartnerRecord {
                    organisation_id: "org-a"
                }
            ),
            Err(Denial::Forbidden)
        );
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
    fn referrals_follow_territory_and_organisation() {
        let d93 = DepartementCode::parse("93").expect("code");
        let d75 = DepartementCode::parse("75").expect("code");
        let coordinator = actor(Role::Coordinator);
        let own = Resource::Referral {
            organisation_id: Some("org-b"),
            departement: &d93,
        };
        let elsewhere = Resource::Referral {
            organisation_id: Some("org-a"),
            departement: &d75,
        };
        assert_eq!(authorize(&coordinator, Action::TriageReferral, own), Ok(()));
        assert_eq!(
            authorize(&coordinator, Action::TriageReferral, elsewhere),
            Err(Denial::Hidden)
        );
        let partner = actor(Role::Partner);
        assert_eq!(authorize(&partner, Action::ReadReferral, elsewhere), Ok(()));
        assert_eq!(
            authorize(&partner, Action::TriageReferral, elsewhere),
            Err(Denial::Forbidden)
        );
        let mut read_only = actor(Role::Partner);
        read_only.scopes = [Scope::ReferralsRead].into_iter().collect();
        assert_eq!(
            authorize(&read_only, Action::CreateReferral, Resource::Service),
            Err(Denial::Forbidden)
        );
        assert_eq!(
            authorize(&read_only, Action::WithdrawReferral, elsewhere),
            Err(Denial::Forbidden)
        );
        assert_eq!(
            authorize(&read_only, Action::ReadReferral, elsewhere),
            Ok(())
        );
    }

    #[test]
    fn notes_are_for_the_follow_ups_own_staff() {
        let d93 = DepartementCode::parse("93").expect("code");
        let coordinator = actor(Role::Coordinator);
        let mine = ["coordinator-id".to_owned()];
        let others = ["someone".to_owned()];
        let on_case = Resource::FollowUp {
            departement: &d93,
            staff: &mine,
        };
        let in_territory = Resource::FollowUp {
            departement: &d93,
            staff: &others,
        };
        assert_eq!(
            authorize(&coordinator, Action::AccessNotes, on_case),
            Ok(())
        );
        assert_eq!(
            authorize(&coordinator, Action::ReadFollowUp, in_territory),
            Ok(())
        );
        assert_eq!(
            authorize(&coordinator, Action::AccessNotes, in_territory),
            Err(Denial::Forbidden)
        );
        assert_eq!(
            authorize(&actor(Role::Supervisor), Action::AccessNotes, in_territory),
            Ok(())
        );
        assert_eq!(
            authorize(&actor(Role::Partner), Action::AccessNotes, on_case),
            Err(Denial::Forbidden)
        );
    }

    #[test]
    fn unknown_records_are_404_for_those_who_may_act_403_for_others() {
        for action in [
            Action::ReadReferral,
            Action::TriageReferral,
            Action::ReadFollowUp,
            Action::AccessNotes,
        ] {
            assert_eq!(
                authorize(&actor(Role::Supervisor), action, Resource::Service),
                Err(Denial::Hidden),
                "{action:?}"
            );
            assert_eq!(
                authorize(&actor(Role::Coordinator), action, Resource::Service),
                Err(Denial::Hidden),
                "{action:?}"
            );
            assert_eq!(
                authorize(&actor(Role::Analyst), action, Resource::Service),
                Err(Denial::Forbidden),
                "{action:?}"
            );
            assert_eq!(
                authorize(&actor(Role::Admin), action, Resource::Service),
                Err(Denial::Forbidden),
                "{action:?}"
            );
        }
        assert_eq!(
            authorize(
                &actor(Role::Partner),
                Action::ReadReferral,
                Resource::Service
            ),
            Err(Denial::Hidden)
        );
        assert_eq!(
            authorize(
                &actor(Role::Partner),
                Action::TriageReferral,
                Resource::Service
            ),
            Err(Denial::Forbidden)
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
    fn scheduling_follows_territory_staff_and_proposer() {
        let d93 = DepartementCode::parse("93").expect("code");
        let far = DepartementCode::parse("976").expect("code");
        let coordinator = actor(Role::Coordinator);
        let me = ["coordinator-id".to_owned()];
        let others = ["someone".to_owned()];
        let site_here = Resource::Site { departement: &d93 };
        assert_eq!(
            authorize(&coordinator, Action::ManageSite, site_here),
            Ok(())
        );
        let appointment = |departement, staff, proposed_by| Resource::Appointment {
            departement,
            staff,
            proposed_by,
        };
        // Their own appointment anywhere, any appointment of their territory.
        assert_eq!(
            authorize(
                &coordinator,
                Action::ManageAppointment,
                appointment(&far, &me, None)
            ),
            Ok(())
        );
        assert_eq!(
            authorize(
                &coordinator,
                Action::ManageAppointment,
                appointment(&d93, &others, None)
            ),
            Ok(())
        );
        // A partner reads what its organisation proposed, never changes it.
        let partner = actor(Role::Partner);
        let proposed = appointment(&far, &others, Some("org-a"));
        assert_eq!(
            authorize(&partner, Action::ReadAppointment, proposed),
            Ok(())
        );
        assert_eq!(
            authorize(&partner, Action::ManageAppointment, proposed),
            Err(Denial::Forbidden)
        );
        let mut no_scope = actor(Role::Partner);
        no_scope.scopes = [Scope::ReferralsRead].into_iter().collect();
        assert_eq!(
            authorize(&no_scope, Action::ReadAppointment, proposed),
            Err(Denial::Forbidden)
        );
        assert_eq!(
            authorize(&no_scope, Action::BookFirstMeeting, Resource::Service),
            Err(Denial::Forbidden)
        );
        let mut booking = actor(Role::Partner);
        booking.scopes = [Scope::AppointmentsWrite].into_iter().collect();
        assert_eq!(
            authorize(&booking, Action::BookFirstMeeting, Resource::Service),
            Ok(())
        );
        // Group sessions: their staff or their territory.
        let session = Resource::GroupSession {
            departement: &far,
            staff: &me,
        };
        assert_eq!(
            authorize(&coordinator, Action::ManageGroupSession, session),
            Ok(())
        );
    }

    #[test]
    fn partners_read_what_is_shared_with_their_organisation_only() {
        let partner = actor(Role::Partner);
        let shared = ["org-a".to_owned()];
        let resource = Resource::SharedFollowUp {
            organisations: &shared,
        };
        assert_eq!(
            authorize(&partner, Action::ReadSharedFollowUp, resource),
            Ok(())
        );
        assert_eq!(
            authorize(
                &partner,
                Action::ReadSharedFollowUp,
                Resource::SharedFollowUp { organisations: &[] }
            ),
            Err(Denial::Hidden)
        );
        let mut no_scope = actor(Role::Partner);
        no_scope.scopes = [Scope::AppointmentsRead].into_iter().collect();
        assert_eq!(
            authorize(&no_scope, Action::ReadSharedFollowUp, resource),
            Err(Denial::Forbidden)
        );
        assert_eq!(
            authorize(
                &actor(Role::Supervisor),
                Action::ReadSharedFollowUp,
                resource
            ),
            Err(Denial::Forbidden)
        );
    }

    #[test]
    fn partners_cancel_their_own_organisations_registrations_only() {
        let partner = actor(Role::Partner);
        let own = Resource::PartnerRecord {
            organisation_id: "org-a",
        };
        assert_eq!(
            authorize(&partner, Action::CancelOwnRegistration, own),
            Ok(())
        );
        assert_eq!(
            authorize(
                &partner,
                Action::CancelOwnRegistration,
                Resource::PartnerRecord {
                    organisation_id: "org-b"
                }
            ),
            Err(Denial::Hidden)
        );
        assert_eq!(
            authorize(
                &actor(Role::Coordinator),
                Action::CancelOwnRegistration,
                own
            ),
            Err(Denial::Forbidden)
        );
    }

    #[test]
    fn every_action_has_a_distinct_name() {
        let names: BTreeSet<_> = Action::ALL.iter().map(|a| a.as_str()).collect();
        assert_eq!(names.len(), Action::ALL.len());
    }
}
