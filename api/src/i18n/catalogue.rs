//! The one catalogue of problem texts: per problem type its title in
//! English and French, and the English details and field messages the code
//! writes with their French translation.
//!
//! Titles are per type (RFC 9457 §3.1.3: the title does not change from
//! occurrence to occurrence): the catalogue's title is rendered in both
//! languages, the title a call site gives is only a fallback. A test reads
//! the sources and fails when the code can produce a type that is not here.
//!
//! Details and field messages are translated when rendered: the English text
//! is looked up in [`MESSAGES`], whose entries are templates where `{}`
//! stands for a part copied as is (a field name, a number, a code). Text
//! with no entry stays English — the list of what stays English is in
//! `openapi/README.md` ("Languages").

use std::borrow::Cow;

use super::Lang;

/// The texts of one problem type.
#[derive(Clone, Copy, Debug)]
pub struct TypeText {
    /// The tag after `urn:adosexo:problem:`.
    pub tag: &'static str,
    /// English title.
    pub en: &'static str,
    /// French title.
    pub fr: &'static str,
}

const fn t(tag: &'static str, en: &'static str, fr: &'static str) -> TypeText {
    TypeText { tag, en, fr }
}

/// Every problem type, with its titles.
pub const TYPES: &[TypeText] = &[
    // Input.
    t("bad-request", "Bad request", "Requête incorrecte"),
    t("invalid-input", "Invalid input", "Données invalides"),
    t("invalid-value", "Invalid value", "Valeur refusée"),
    t(
        "malformed-body",
        "Malformed request body",
        "Corps de requête illisible",
    ),
    t(
        "payload-too-large",
        "Request body too large",
        "Corps de requête trop volumineux",
    ),
    t(
        "unsupported-media-type",
        "Unsupported media type",
        "Type de contenu non pris en charge",
    ),
    t(
        "not-acceptable",
        "Not acceptable",
        "Format de réponse non disponible",
    ),
    t("uri-too-long", "URI too long", "Adresse trop longue"),
    t(
        "headers-too-large",
        "Request headers too large",
        "En-têtes de requête trop volumineux",
    ),
    t(
        "request-timeout",
        "Request timeout",
        "Délai de requête dépassé",
    ),
    t(
        "unprocessable",
        "Unprocessable content",
        "Contenu impossible à traiter",
    ),
    t(
        "method-not-allowed",
        "Method not allowed",
        "Méthode non autorisée",
    ),
    // Access.
    t("unauthorized", "Unauthorized", "Authentification requise"),
    t(
        "invalid-credentials",
        "Invalid credentials",
        "Identifiants invalides",
    ),
    t("totp-required", "TOTP code required", "Code TOTP requis"),
    t("forbidden", "Forbidden", "Accès refusé"),
    t("not-found", "Not found", "Introuvable"),
    t("too-many-requests", "Too many requests", "Trop de requêtes"),
    // State.
    t("conflict", "Conflict", "Conflit"),
    t("name-taken", "Name taken", "Nom déjà utilisé"),
    t(
        "email-taken",
        "E-mail taken",
        "Adresse électronique déjà utilisée",
    ),
    t(
        "precondition-failed",
        "Precondition failed",
        "Version périmée",
    ),
    t(
        "precondition-required",
        "Precondition required",
        "Condition préalable requise",
    ),
    t("gone", "Gone", "Supprimé depuis"),
    t(
        "idempotency-key-reused",
        "Idempotency key reused",
        "Clé d'idempotence réutilisée",
    ),
    t(
        "totp-already-enabled",
        "TOTP already enabled",
        "TOTP déjà activé",
    ),
    t(
        "totp-not-started",
        "TOTP enrolment not started",
        "Activation TOTP non commencée",
    ),
    t(
        "totp-code-invalid",
        "Invalid TOTP code",
        "Code TOTP invalide",
    ),
    t("person-erased", "Person erased", "Personne effacée"),
    t("erasure-refused", "Erasure refused", "Effacement refusé"),
    t(
        "received-in-future",
        "Reception date in the future",
        "Date de réception dans le futur",
    ),
    t(
        "birth-date-in-future",
        "Birth date in the future",
        "Date de naissance dans le futur",
    ),
    t("no-file-yet", "No file yet", "Pas encore de fichier"),
    // Organisations, accounts, clients.
    t(
        "unknown-departement",
        "Unknown département",
        "Département inconnu",
    ),
    t(
        "unknown-organisation",
        "Unknown organisation",
        "Structure inconnue",
    ),
    t(
        "programme-exists",
        "Programme organisation",
        "Structure du programme",
    ),
    t(
        "programme-kind-fixed",
        "Programme organisation",
        "Structure du programme",
    ),
    t(
        "client-inside-programme",
        "Client of the programme",
        "Application du programme",
    ),
    t(
        "incompatible-roles",
        "Incompatible roles",
        "Rôles incompatibles",
    ),
    t(
        "staff-outside-programme",
        "Account rule",
        "Règle des comptes",
    ),
    t(
        "partner-inside-programme",
        "Account rule",
        "Règle des comptes",
    ),
    t("territory-required", "Account rule", "Règle des comptes"),
    t(
        "territory-not-applicable",
        "Account rule",
        "Règle des comptes",
    ),
    t(
        "cannot-disable-self",
        "Change of one's own account",
        "Modification de son propre compte",
    ),
    t(
        "cannot-drop-own-admin",
        "Change of one's own account",
        "Modification de son propre compte",
    ),
    // Referrals and follow-ups.
    t(
        "partner-source",
        "Partner referral",
        "Orientation par un partenaire",
    ),
    t(
        "referral-transition-not-allowed",
        "Referral rule",
        "Règle des orientations",
    ),
    t(
        "child-protection-decision-missing",
        "Child-protection decision missing",
        "Décision de protection de l'enfance manquante",
    ),
    t(
        "protection-decision-not-required",
        "No decision required",
        "Aucune décision requise",
    ),
    t(
        "protection-decision-recorded",
        "Decision recorded",
        "Décision déjà enregistrée",
    ),
    t(
        "lead-not-staff",
        "Lead is not staff",
        "Le référent n'est pas de l'équipe",
    ),
    t("unknown-follow-up", "Unknown follow-up", "Suivi inconnu"),
    t("follow-up-closed", "Follow-up closed", "Suivi clôturé"),
    t(
        "follow-up-transition-not-allowed",
        "Follow-up rule",
        "Règle des suivis",
    ),
    t("not-staff", "Not staff", "Pas membre de l'équipe"),
    // Consents and sharing.
    t(
        "consent-not-standing",
        "Consent not standing",
        "Consentement plus en vigueur",
    ),
    t(
        "not-a-parental-authority-holder",
        "Not a holder of parental authority",
        "Pas titulaire de l'autorité parentale",
    ),
    t(
        "purpose-not-consent-based",
        "Consent rule",
        "Règle du consentement",
    ),
    t(
        "consent-under-15-needs-minor-and-parental-authority",
        "Consent rule",
        "Règle du consentement",
    ),
    t(
        "consent-from-15-needs-the-minor",
        "Consent rule",
        "Règle du consentement",
    ),
    t(
        "consent-young-adult-under-18",
        "Consent rule",
        "Règle du consentement",
    ),
    t(
        "consent-adult-alone",
        "Consent rule",
        "Règle du consentement",
    ),
    t(
        "consent-holder-missing",
        "Consent rule",
        "Règle du consentement",
    ),
    t(
        "consent-holder-unexpected",
        "Consent rule",
        "Règle du consentement",
    ),
    t(
        "share-recipient-unknown",
        "Unknown recipient",
        "Destinataire inconnu",
    ),
    t(
        "share-recipient-inactive",
        "Recipient disabled",
        "Destinataire désactivé",
    ),
    t("share-revoked", "Already revoked", "Déjà révoqué"),
    t(
        "share-recipient-not-bound-by-secrecy",
        "Sharing rule",
        "Règle du partage",
    ),
    t(
        "share-recipient-not-in-child-protection",
        "Sharing rule",
        "Règle du partage",
    ),
    t(
        "share-family-justification-missing",
        "Sharing rule",
        "Règle du partage",
    ),
    t(
        "share-family-justification-unexpected",
        "Sharing rule",
        "Règle du partage",
    ),
    t(
        "share-validity-reversed",
        "Sharing rule",
        "Règle du partage",
    ),
    // Scheduling.
    t(
        "staff-double-booked",
        "Staff double-booked",
        "Professionnel déjà occupé sur ce créneau",
    ),
    t("slot-taken", "Slot not free", "Créneau plus disponible"),
    t(
        "invalid-rrule",
        "Invalid recurrence rule",
        "Règle de récurrence invalide",
    ),
    t("end-before-start", "End before start", "Fin avant le début"),
    t("too-long", "Too long", "Trop long"),
    t("too-short", "Appointment rule", "Règle des rendez-vous"),
    t(
        "outside-permanence",
        "Appointment rule",
        "Règle des rendez-vous",
    ),
    t(
        "first-meeting-unaccompanied",
        "Appointment rule",
        "Règle des rendez-vous",
    ),
    t(
        "appointment-transition-not-allowed",
        "Appointment status does not allow this",
        "Statut du rendez-vous incompatible",
    ),
    t(
        "venue-missing",
        "Group session rule",
        "Règle des séances collectives",
    ),
    t(
        "remote-not-allowed",
        "Group session rule",
        "Règle des séances collectives",
    ),
    t(
        "course-partner-missing",
        "Group session rule",
        "Règle des séances collectives",
    ),
    t(
        "group-session-transition-not-allowed",
        "Group session status does not allow this",
        "Statut de la séance incompatible",
    ),
    t(
        "group-session-not-planned",
        "Group session not planned",
        "Séance collective non planifiée",
    ),
    t(
        "group-session-not-started",
        "Group session not started",
        "Séance collective pas commencée",
    ),
    t(
        "group-session-started",
        "Session started",
        "Séance commencée",
    ),
    t(
        "registration-cancelled",
        "Registration cancelled",
        "Inscription annulée",
    ),
    t(
        "case-review-already-scheduled",
        "Case review already scheduled",
        "Étude de situation déjà programmée",
    ),
    t(
        "case-review-session-kind",
        "Not a case review session",
        "Pas une séance d'étude de situation",
    ),
    // Partnership agreements and the resource library.
    t(
        "agreement-with-programme",
        "Agreement with the programme",
        "Convention avec le programme",
    ),
    t(
        "agreement-expired",
        "Agreement expired",
        "Convention expirée",
    ),
    t(
        "agreement-not-started",
        "Agreement not started",
        "Convention pas encore en vigueur",
    ),
    t(
        "agreement-suspended",
        "Agreement suspended",
        "Convention suspendue",
    ),
    t(
        "agreement-terminated",
        "Agreement terminated",
        "Convention résiliée",
    ),
    t(
        "agreement-departement-not-covered",
        "Département not covered by the agreement",
        "Département non couvert par la convention",
    ),
    t(
        "agreement-dates",
        "Agreement dates",
        "Dates de la convention",
    ),
    t("file-executable", "Executable file", "Fichier exécutable"),
    t(
        "file-type-not-accepted",
        "File type not accepted",
        "Type de fichier refusé",
    ),
    t(
        "file-type-mismatch",
        "File type mismatch",
        "Type de fichier incohérent",
    ),
    t("file-empty", "Empty file", "Fichier vide"),
    // Webhooks.
    t(
        "webhook-inside-programme",
        "Subscription of the programme",
        "Abonnement du programme",
    ),
    t(
        "webhook-target-malformed",
        "Malformed target",
        "Adresse cible mal formée",
    ),
    t("webhook-target-not-https", "Not https", "Pas en https"),
    t(
        "webhook-target-internal",
        "Internal address",
        "Adresse interne",
    ),
    t(
        "webhook-target-unresolvable",
        "Unresolvable host",
        "Hôte introuvable",
    ),
    t("delivery-not-dead", "Not dead", "Livraison non abandonnée"),
    // Server.
    t(
        "service-unavailable",
        "Service unavailable",
        "Service indisponible",
    ),
    t(
        "internal",
        "Internal server error",
        "Erreur interne du serveur",
    ),
];

/// The texts of a problem type, if catalogued.
pub fn type_text(tag: &str) -> Option<&'static TypeText> {
    TYPES.iter().find(|text| text.tag == tag)
}

/// The title of a problem type in a language.
pub fn title(tag: &str, lang: Lang) -> Option<&'static str> {
    type_text(tag).map(|text| match lang {
        Lang::En => text.en,
        Lang::Fr => text.fr,
    })
}

/// English details and messages (templates: `{}` is a part kept as is)
/// and their French.
pub const MESSAGES: &[(&str, &str)] = &[
    // The count of invalid fields.
    ("1 field is invalid", "1 champ est invalide"),
    ("{} fields are invalid", "{} champs sont invalides"),
    (
        "a field's value is not acceptable",
        "la valeur d'un champ n'est pas acceptable",
    ),
    // Fixed details of the generic problems.
    (
        "no resource at this address",
        "aucune ressource à cette adresse",
    ),
    ("this resource answers {}", "cette ressource répond à {}"),
    (
        "the credentials are not valid",
        "les identifiants ne sont pas valides",
    ),
    (
        "your role does not allow this operation",
        "votre rôle ne permet pas cette opération",
    ),
    (
        "the resource changed since you read it; read it again and retry with its new ETag",
        "la ressource a changé depuis votre lecture ; relisez-la et réessayez avec son nouvel ETag",
    ),
    (
        "send If-Match with the ETag of the version you read",
        "envoyez If-Match avec l'ETag de la version lue",
    ),
    (
        "request bodies are limited to {} bytes",
        "le corps des requêtes est limité à {} octets",
    ),
    (
        "the request body did not arrive in time",
        "le corps de la requête n'est pas arrivé à temps",
    ),
    (
        "the request body could not be read",
        "le corps de la requête n'a pas pu être lu",
    ),
    (
        "send the body as application/json",
        "envoyez le corps en application/json",
    ),
    ("send the body as {}", "envoyez le corps en {}"),
    (
        "the body is not valid JSON: {}",
        "le corps n'est pas du JSON valide : {}",
    ),
    (
        "trailing data after the JSON value: {}",
        "données en trop après la valeur JSON : {}",
    ),
    (
        "the service cannot reach its database; retry later",
        "le service ne joint pas sa base de données ; réessayez plus tard",
    ),
    (
        "the request could not be completed; quote the instance when reporting it",
        "la requête n'a pas pu aboutir ; citez l'instance en le signalant",
    ),
    // Authentication and rate limits.
    (
        "send an access token: Authorization: Bearer <token>",
        "envoyez un jeton d'accès : Authorization: Bearer <jeton>",
    ),
    (
        "the access token is invalid",
        "le jeton d'accès n'est pas valide",
    ),
    ("the access token has expired", "le jeton d'accès a expiré"),
    (
        "the session has ended; sign in again",
        "la session est terminée ; reconnectez-vous",
    ),
    ("the account is disabled", "le compte est désactivé"),
    ("the client is revoked", "l'application est révoquée"),
    ("the account no longer exists", "le compte n'existe plus"),
    (
        "this resource is for partners: send an access token",
        "cette ressource est réservée aux partenaires : envoyez un jeton d'accès",
    ),
    (
        "send the current code of your authenticator app in `totp`",
        "envoyez dans `totp` le code actuel de votre application d'authentification",
    ),
    (
        "too many failed attempts; wait before trying again",
        "trop de tentatives échouées ; patientez avant de réessayer",
    ),
    (
        "too many requests from this address; retry later",
        "trop de requêtes depuis cette adresse ; réessayez plus tard",
    ),
    (
        "authenticate the client: Authorization: Basic, or client_id and client_secret",
        "authentifiez l'application : Authorization: Basic, ou client_id et client_secret",
    ),
    (
        "the Authorization header holds no readable client id and secret",
        "l'en-tête Authorization ne contient pas d'identifiant ni de secret d'application lisibles",
    ),
    (
        "a client secret needs its client_id",
        "un secret d'application va avec son client_id",
    ),
    (
        "a requested scope is not one of this client's scopes",
        "une portée demandée n'est pas accordée à cette application",
    ),
    (
        "a partner app's token is revoked by that app, authenticated",
        "le jeton d'une application partenaire est révoqué par cette application, authentifiée",
    ),
    ("client revoked", "application révoquée"),
    (
        "TOTP is already active on this account; an administrator can reset it",
        "le TOTP est déjà actif sur ce compte ; un administrateur peut le réinitialiser",
    ),
    ("TOTP is already active", "le TOTP est déjà actif"),
    (
        "start the enrolment first",
        "commencez d'abord l'activation",
    ),
    (
        "the code does not match; check the device's clock",
        "le code ne correspond pas ; vérifiez l'horloge de l'appareil",
    ),
    (
        "this Idempotency-Key was used for another request; use a new key",
        "cette Idempotency-Key a servi pour une autre requête ; utilisez une nouvelle clé",
    ),
    // Not found.
    (
        "no follow-up with this id",
        "aucun suivi n'a cet identifiant",
    ),
    (
        "no referral with this id",
        "aucune orientation n'a cet identifiant",
    ),
    (
        "no person with this id",
        "aucune personne n'a cet identifiant",
    ),
    (
        "no person has this id",
        "aucune personne n'a cet identifiant",
    ),
    (
        "no organisation has this id",
        "aucune structure n'a cet identifiant",
    ),
    (
        "no organisation with this id",
        "aucune structure n'a cet identifiant",
    ),
    (
        "no organisation has the id {}",
        "aucune structure n'a l'identifiant {}",
    ),
    ("no site has this id", "aucun lieu n'a cet identifiant"),
    ("no site with this id", "aucun lieu n'a cet identifiant"),
    (
        "no public site has this id",
        "aucun lieu public n'a cet identifiant",
    ),
    (
        "no resource with this id",
        "aucune ressource n'a cet identifiant",
    ),
    (
        "no account with this id",
        "aucun compte n'a cet identifiant",
    ),
    ("no such account", "compte inconnu"),
    ("no such file", "fichier inconnu"),
    (
        "no client with this id",
        "aucune application n'a cet identifiant",
    ),
    (
        "no agreement with this id",
        "aucune convention n'a cet identifiant",
    ),
    (
        "no agreement has this id",
        "aucune convention n'a cet identifiant",
    ),
    (
        "no appointment with this id",
        "aucun rendez-vous n'a cet identifiant",
    ),
    (
        "no permanence with this id",
        "aucune permanence n'a cet identifiant",
    ),
    (
        "no permanence has this id",
        "aucune permanence n'a cet identifiant",
    ),
    (
        "no group session with this id",
        "aucune séance collective n'a cet identifiant",
    ),
    (
        "no group session has this id",
        "aucune séance collective n'a cet identifiant",
    ),
    (
        "no session open to professionals has this id",
        "aucune séance ouverte aux professionnels n'a cet identifiant",
    ),
    (
        "no registration with this id",
        "aucune inscription n'a cet identifiant",
    ),
    (
        "no consent with this id",
        "aucun consentement n'a cet identifiant",
    ),
    (
        "no consent with this id on this follow-up",
        "aucun consentement de ce suivi n'a cet identifiant",
    ),
    (
        "no share decision with this id",
        "aucune décision de partage n'a cet identifiant",
    ),
    ("no note with this id", "aucune note n'a cet identifiant"),
    (
        "no erasure request with this id",
        "aucune demande d'effacement n'a cet identifiant",
    ),
    (
        "no directory entry with this id",
        "aucune fiche de l'annuaire n'a cet identifiant",
    ),
    (
        "no webhook subscription with this id",
        "aucun abonnement webhook n'a cet identifiant",
    ),
    (
        "no webhook delivery with this id",
        "aucune livraison webhook n'a cet identifiant",
    ),
    (
        "no case review request with this id",
        "aucune demande d'étude de situation n'a cet identifiant",
    ),
    (
        "no archived follow-up with this id",
        "aucun suivi archivé n'a cet identifiant",
    ),
    (
        "no calendar feed has this address",
        "aucun agenda partagé n'a cette adresse",
    ),
    (
        "no contact is set for this scope",
        "aucun contact n'est défini pour ce périmètre",
    ),
    (
        "no contact is configured yet",
        "aucun contact n'est encore configuré",
    ),
    (
        "no département has this code",
        "aucun département n'a ce code",
    ),
    (
        "no département has the code {}",
        "aucun département n'a le code {}",
    ),
    (
        "territory: no département has the code {}",
        "territory : aucun département n'a le code {}",
    ),
    // Organisations, accounts, referrals, follow-ups.
    (
        "another account has this e-mail address",
        "un autre compte a cette adresse électronique",
    ),
    (
        "partner app clients act for partner organisations, not the programme",
        "les applications partenaires agissent pour des structures partenaires, pas pour le programme",
    ),
    (
        "staff roles are for accounts of the programme's own organisation",
        "les rôles d'équipe sont réservés aux comptes de la structure du programme",
    ),
    (
        "the partner role is for accounts of a partner organisation, not the programme",
        "le rôle partenaire est réservé aux comptes d'une structure partenaire, pas du programme",
    ),
    (
        "coordinators and regional referents need a territory of at least one département",
        "les coordinateurs et référents régionaux ont un territoire d'au moins un département",
    ),
    (
        "only coordinators and regional referents have a territory",
        "seuls les coordinateurs et référents régionaux ont un territoire",
    ),
    (
        "you cannot disable your own account; ask another admin",
        "vous ne pouvez pas désactiver votre propre compte ; demandez à un autre administrateur",
    ),
    (
        "you cannot remove your own admin role; ask another admin",
        "vous ne pouvez pas retirer votre propre rôle d'administrateur ; demandez à un autre administrateur",
    ),
    (
        "partner and analyst roles cannot be combined with staff roles",
        "les rôles partenaire et analyste ne se combinent pas avec les rôles d'équipe",
    ),
    (
        "an account has at least one role",
        "un compte a au moins un rôle",
    ),
    (
        "co-staff must be active staff accounts",
        "les co-intervenants sont des comptes actifs de l'équipe",
    ),
    (
        "the lead must be an active staff account",
        "le référent doit être un compte actif de l'équipe",
    ),
    (
        "the lead must be a coordinator, regional referent or supervisor",
        "le référent doit être coordinateur, référent régional ou superviseur",
    ),
    (
        "no follow-up has this id",
        "aucun suivi n'a cet identifiant",
    ),
    (
        "a closed follow-up does not change",
        "un suivi clôturé ne change plus",
    ),
    (
        "a closed follow-up cannot be joined",
        "un suivi clôturé ne peut pas être rejoint",
    ),
    (
        "a closed follow-up is not shared any more",
        "un suivi clôturé n'est plus partagé",
    ),
    (
        "the danger rule does not apply to this referral",
        "la règle du danger ne s'applique pas à cette orientation",
    ),
    (
        "the child-protection decision is already recorded",
        "la décision de protection de l'enfance est déjà enregistrée",
    ),
    (
        "a referral that is {} cannot be {}",
        "une orientation au statut {} ne peut pas passer à {}",
    ),
    (
        "a follow-up that is {} cannot be {}",
        "un suivi au statut {} ne peut pas passer à {}",
    ),
    (
        "a partner refers as `partner_organisation`, for its own organisation (do not send source_organisation_id)",
        "un partenaire oriente en tant que `partner_organisation`, pour sa propre structure (n'envoyez pas source_organisation_id)",
    ),
    (
        "birth_date cannot be later than today",
        "birth_date ne peut pas être postérieure à aujourd'hui",
    ),
    (
        "received_at cannot be later than now",
        "received_at ne peut pas être dans le futur",
    ),
    (
        "this person's data was erased on their request; it is not filled in again",
        "les données de cette personne ont été effacées à sa demande ; elles ne sont pas ressaisies",
    ),
    // Consents and sharing.
    (
        "this consent is already withdrawn or invalidated",
        "ce consentement est déjà retiré ou invalidé",
    ),
    (
        "this consent is already invalidated",
        "ce consentement est déjà invalidé",
    ),
    (
        "parental_authority_holder_id must name a relative involved in the follow-up who holds parental authority",
        "parental_authority_holder_id doit désigner un proche associé au suivi et titulaire de l'autorité parentale",
    ),
    (
        "this purpose rests on a public-interest mission, not on consent",
        "cette finalité repose sur une mission d'intérêt public, pas sur le consentement",
    ),
    (
        "under 15 a consent takes both the minor (young_person) and a holder of parental authority",
        "avant 15 ans, le consentement est donné par le mineur (young_person) et un titulaire de l'autorité parentale",
    ),
    (
        "from 15 the minor (young_person) must give the consent",
        "à partir de 15 ans, le mineur (young_person) donne lui-même son consentement",
    ),
    (
        "young_adult gives consents from 18 only; use young_person",
        "young_adult ne consent qu'à partir de 18 ans ; utilisez young_person",
    ),
    (
        "from 18 the young adult alone consents (given_by: [young_adult])",
        "à partir de 18 ans, le jeune majeur consent seul (given_by: [young_adult])",
    ),
    (
        "parental_authority_holder_id is only for consents given by parental authority",
        "parental_authority_holder_id ne vaut que pour un consentement donné par l'autorité parentale",
    ),
    (
        "organisation_id names no organisation",
        "organisation_id ne désigne aucune structure",
    ),
    (
        "the recipient organisation is disabled",
        "la structure destinataire est désactivée",
    ),
    (
        "this share decision is already revoked",
        "cette décision de partage est déjà révoquée",
    ),
    (
        "the recipient organisation is not bound by professional secrecy",
        "la structure destinataire n'est pas tenue au secret professionnel",
    ),
    (
        "the recipient organisation does not contribute to child protection (kind {})",
        "la structure destinataire ne concourt pas à la protection de l'enfance (type {})",
    ),
    (
        "not informing the family needs a written justification (contrary to the child's interest)",
        "ne pas informer la famille exige une justification écrite (contraire à l'intérêt de l'enfant)",
    ),
    (
        "a justification is only for shares the family is not informed of",
        "une justification ne vaut que pour un partage dont la famille n'est pas informée",
    ),
    (
        "valid_until is before valid_from",
        "valid_until est antérieur à valid_from",
    ),
    (
        "valid_until is before given_at",
        "valid_until est antérieur à given_at",
    ),
    ("given_at is in the future", "given_at est dans le futur"),
    // Scheduling.
    (
        "a staff member already has an appointment or a group session at that time",
        "un membre de l'équipe a déjà un rendez-vous ou une séance collective à ce moment",
    ),
    (
        "a staff member is already booked at that time",
        "un membre de l'équipe est déjà réservé à ce moment",
    ),
    (
        "this slot is not (or no longer) free; ask for availability again",
        "ce créneau n'est pas (ou plus) libre ; redemandez les disponibilités",
    ),
    (
        "the appointment must end after it starts",
        "le rendez-vous doit finir après son début",
    ),
    (
        "an appointment lasts at most 4 hours",
        "un rendez-vous dure au plus 4 heures",
    ),
    (
        "an appointment lasts at least 5 minutes",
        "un rendez-vous dure au moins 5 minutes",
    ),
    (
        "a permanence appointment must lie inside an occurrence of a permanence at that site held by its staff",
        "un rendez-vous de permanence doit se tenir pendant une permanence de ce lieu tenue par son professionnel",
    ),
    (
        "the first meeting with a young person needs a parent or a referent professional, or a recorded reason why not",
        "le premier rendez-vous avec un jeune demande un parent ou un professionnel référent, ou la raison de leur absence",
    ),
    (
        "this change is not possible from the appointment's current status",
        "ce changement n'est pas possible depuis le statut actuel du rendez-vous",
    ),
    (
        "a session must end after it starts",
        "une séance doit finir après son début",
    ),
    (
        "an in-person session needs a site or a venue; a remote one needs a link",
        "une séance en présentiel a un lieu ou une adresse ; une séance à distance a un lien",
    ),
    (
        "this kind of session is held in person",
        "ce type de séance se tient en présentiel",
    ),
    (
        "this change is not possible from the session's current status",
        "ce changement n'est pas possible depuis le statut actuel de la séance",
    ),
    (
        "the session is {}: this is only possible while it is planned",
        "la séance est {} : ceci n'est possible que tant qu'elle est planifiée",
    ),
    (
        "registrations close when the session starts",
        "les inscriptions ferment au début de la séance",
    ),
    (
        "this registration is already cancelled",
        "cette inscription est déjà annulée",
    ),
    (
        "attendance is recorded once the session has started",
        "la présence s'enregistre une fois la séance commencée",
    ),
    (
        "this case review request is already scheduled",
        "cette demande d'étude de situation est déjà programmée",
    ),
    (
        "a case review request is scheduled on a case review session",
        "une demande d'étude de situation se programme sur une séance d'étude de situation",
    ),
    (
        "the end must be after the start (and on the same day for a permanence's hours)",
        "la fin doit suivre le début (le même jour pour les horaires d'une permanence)",
    ),
    (
        "a moved occurrence must end after it starts",
        "une occurrence déplacée doit finir après son début",
    ),
    (
        "an occurrence lasts at most 12 hours",
        "une occurrence dure au plus 12 heures",
    ),
    (
        "end_time must be after start_time (on the same day)",
        "end_time doit suivre start_time (le même jour)",
    ),
    (
        "the series has no occurrence from this date on",
        "la série n'a aucune occurrence à partir de cette date",
    ),
    (
        "the permanence has no occurrence on this date",
        "la permanence n'a pas d'occurrence à cette date",
    ),
    (
        "this occurrence is neither cancelled nor moved",
        "cette occurrence n'est ni annulée ni déplacée",
    ),
    ("to must be after from", "to doit être après from"),
    (
        "availability spans at most 62 days",
        "les disponibilités couvrent au plus 62 jours",
    ),
    (
        "a range spans at most {} days",
        "une période couvre au plus {} jours",
    ),
    (
        "from and to are at most {} days apart",
        "from et to sont espacés d'au plus {} jours",
    ),
    (
        "rescheduling needs starts_at and ends_at",
        "un report demande starts_at et ends_at",
    ),
    (
        "say why the appointment is cancelled",
        "indiquez pourquoi le rendez-vous est annulé",
    ),
    (
        "a permanence appointment names its site",
        "un rendez-vous de permanence indique son lieu",
    ),
    (
        "you may book only appointments you attend or of your territory",
        "vous ne pouvez réserver que les rendez-vous auxquels vous participez ou de votre territoire",
    ),
    (
        "name the département when no site, referral or follow-up gives it",
        "indiquez le département quand aucun lieu, orientation ou suivi ne le donne",
    ),
    (
        "a moved occurrence needs starts_at and ends_at",
        "une occurrence déplacée demande starts_at et ends_at",
    ),
    (
        "a cancelled occurrence takes no times",
        "une occurrence annulée ne prend pas d'horaires",
    ),
    // Agreements, library, webhooks.
    (
        "an agreement is made with a regional structure, not the programme itself",
        "une convention se conclut avec une structure régionale, pas avec le programme lui-même",
    ),
    (
        "a terminated agreement cannot change; make a new one",
        "une convention résiliée ne change plus ; concluez-en une nouvelle",
    ),
    (
        "the partnership agreement ended on {}: no new permanence under it",
        "la convention de partenariat a pris fin le {} : plus de nouvelle permanence à ce titre",
    ),
    (
        "the partnership agreement starts on {}: no permanence before",
        "la convention de partenariat commence le {} : pas de permanence avant",
    ),
    (
        "the partnership agreement is suspended: no new permanence under it",
        "la convention de partenariat est suspendue : pas de nouvelle permanence à ce titre",
    ),
    (
        "the partnership agreement is terminated: no new permanence under it",
        "la convention de partenariat est résiliée : pas de nouvelle permanence à ce titre",
    ),
    (
        "the partnership agreement does not cover this département",
        "la convention de partenariat ne couvre pas ce département",
    ),
    (
        "an agreement ends on or after the day it starts",
        "une convention finit le jour de son début ou après",
    ),
    (
        "executables and scripts are not accepted in the library",
        "les exécutables et scripts ne sont pas acceptés dans la bibliothèque de ressources",
    ),
    (
        "the content is not an accepted file type (PDF, PNG, JPEG, GIF, ZIP, MP3, MP4)",
        "le contenu n'est pas d'un type de fichier accepté (PDF, PNG, JPEG, GIF, ZIP, MP3, MP4)",
    ),
    (
        "the declared Content-Type {} does not match the content ({})",
        "le Content-Type déclaré {} ne correspond pas au contenu ({})",
    ),
    ("the file is empty", "le fichier est vide"),
    (
        "this resource has no file yet: upload it with PUT /api/v1/resources/{id}/file",
        "cette ressource n'a pas encore de fichier : déposez-le avec PUT /api/v1/resources/{id}/file",
    ),
    (
        "webhooks are for partner organisations, not the programme",
        "les webhooks sont réservés aux structures partenaires, pas au programme",
    ),
    ("the target must use https", "la cible doit utiliser https"),
    (
        "the target must be an absolute https:// URL with a host",
        "la cible doit être une URL https:// absolue avec un hôte",
    ),
    (
        "the target's address is internal (loopback, private, link-local or metadata)",
        "l'adresse de la cible est interne (boucle locale, privée, lien local ou métadonnées)",
    ),
    (
        "the target's host name does not resolve",
        "le nom d'hôte de la cible ne se résout pas",
    ),
    (
        "only a dead delivery can be redelivered",
        "seule une livraison abandonnée peut être relivrée",
    ),
    // Field messages (`errors[].message`): the validation rules' messages
    // and the decoder's.
    (
        "{} must have {} to {} characters",
        "{} doit compter de {} à {} caractères",
    ),
    (
        "{} has at most {} characters",
        "{} compte au plus {} caractères",
    ),
    (
        "{} is at most {} characters",
        "{} compte au plus {} caractères",
    ),
    (
        "{} is {} characters at most",
        "{} compte au plus {} caractères",
    ),
    (
        "{} must be from {} to {}",
        "{} doit être compris entre {} et {}",
    ),
    ("{} is from {} to {}", "{} est compris entre {} et {}"),
    ("{} has {} to {} entries", "{} compte de {} à {} éléments"),
    ("{} has at most {} entries", "{} compte au plus {} éléments"),
    (
        "{} has at most {} départements",
        "{} compte au plus {} départements",
    ),
    ("{} is {} to {} minutes", "{} dure de {} à {} minutes"),
    ("{} is an e-mail address", "{} est une adresse électronique"),
    ("{} is {} digits", "{} compte {} chiffres"),
    ("{} is a UUID", "{} est un UUID"),
    ("{} is HH:MM", "{} s'écrit HH:MM"),
    ("{} must not be empty", "{} ne doit pas être vide"),
    (
        "{} contains the NUL character (U+0000), which cannot be stored",
        "{} contient le caractère NUL (U+0000), qui ne peut pas être enregistré",
    ),
    // Not found, as the access guard says it (`guard::permit`: the
    // resource type's name).
    (
        "no follow_up with this id",
        "aucun suivi n'a cet identifiant",
    ),
    (
        "no group_session with this id",
        "aucune séance collective n'a cet identifiant",
    ),
    (
        "no group_registration with this id",
        "aucune inscription n'a cet identifiant",
    ),
    (
        "no case_review_request with this id",
        "aucune demande d'étude de situation n'a cet identifiant",
    ),
    (
        "no erasure_request with this id",
        "aucune demande d'effacement n'a cet identifiant",
    ),
    (
        "no directory_entry with this id",
        "aucune fiche de l'annuaire n'a cet identifiant",
    ),
    (
        "no webhook_subscription with this id",
        "aucun abonnement webhook n'a cet identifiant",
    ),
    (
        "no calendar with this id",
        "aucun agenda n'a cet identifiant",
    ),
    (
        "no contact with this id",
        "aucun contact n'a cet identifiant",
    ),
    (
        "no session with this id",
        "aucune session n'a cet identifiant",
    ),
    (
        "no archive with this id",
        "aucune archive n'a cet identifiant",
    ),
    // More details of the handlers.
    (
        "another organisation has this name",
        "une autre structure porte ce nom",
    ),
    (
        "the programme's own organisation stays of kind programme",
        "la structure du programme reste de type programme",
    ),
    (
        "there is one programme organisation already",
        "il existe déjà une structure du programme",
    ),
    (
        "closing needs a closure_reason",
        "une clôture demande un closure_reason",
    ),
    (
        "only closing takes a closure_reason",
        "seule une clôture prend un closure_reason",
    ),
    (
        "a registration is either present or absent",
        "une inscription est soit présente, soit absente",
    ),
    (
        "an in-person session has a site or a venue, not a link",
        "une séance en présentiel a un lieu ou une adresse, pas un lien",
    ),
    (
        "give a departement_code or a site_id",
        "indiquez un departement_code ou un site_id",
    ),
    (
        "one head count per category and age band",
        "un effectif par catégorie et tranche d'âge",
    ),
    (
        "the département is that of the site",
        "le département est celui du lieu",
    ),
    (
        "If-Match is the ETag of the version read, such as \"v3\"",
        "If-Match est l'ETag de la version lue, par exemple \"v3\"",
    ),
    (
        "near is latitude,longitude in degrees, e.g. 48.8566,2.3522",
        "near s'écrit latitude,longitude en degrés, par exemple 48.8566,2.3522",
    ),
    (
        "a referral from a partner organisation names it",
        "une orientation par une structure partenaire la désigne",
    ),
    (
        "only referrals from a partner organisation name one",
        "seules les orientations par une structure partenaire en désignent une",
    ),
    (
        "you submit referrals for your territory ({}); a supervisor or the team of {} submits this one",
        "vous transmettez les orientations de votre territoire ({}) ; un superviseur ou l'équipe du {} transmet celle-ci",
    ),
    (
        "from must be YYYY-MM (1900 to 2099)",
        "from s'écrit AAAA-MM (de 1900 à 2099)",
    ),
    ("out of range", "hors limites"),
    (
        "kind is awareness_session, action_training or case_review",
        "kind vaut awareness_session, action_training ou case_review",
    ),
    (
        "name the partner organisation",
        "indiquez la structure partenaire",
    ),
    (
        "scope is a département code or national: {}",
        "scope est un code de département ou national : {}",
    ),
    // The date-time hints of the decoder (`extract::time_hint`), the
    // specific ones first.
    (
        "an offset (or Z) is required: a date-time is RFC 3339 with an offset, as in 2027-03-28T02:30:00+01:00 or 2027-03-28T01:30:00Z; a date is 2027-03-28",
        "un décalage horaire (ou Z) est requis : une date-heure s'écrit en RFC 3339 avec un décalage horaire, comme 2027-03-28T02:30:00+01:00 ou 2027-03-28T01:30:00Z ; une date s'écrit 2027-03-28",
    ),
    (
        "no such date: a date-time is RFC 3339 with an offset, as in 2027-03-28T02:30:00+01:00 or 2027-03-28T01:30:00Z; a date is 2027-03-28",
        "cette date n'existe pas : une date-heure s'écrit en RFC 3339 avec un décalage horaire, comme 2027-03-28T02:30:00+01:00 ou 2027-03-28T01:30:00Z ; une date s'écrit 2027-03-28",
    ),
    (
        "{}: a date-time is RFC 3339 with an offset, as in 2027-03-28T02:30:00+01:00 or 2027-03-28T01:30:00Z; a date is 2027-03-28",
        "{} : une date-heure s'écrit en RFC 3339 avec un décalage horaire, comme 2027-03-28T02:30:00+01:00 ou 2027-03-28T01:30:00Z ; une date s'écrit 2027-03-28",
    ),
    (
        "cursor is not one this API gave",
        "ce curseur n'a pas été donné par cette API",
    ),
    ("missing field `{}`", "champ `{}` manquant"),
    (
        "unknown field `{}`, expected one of {}",
        "champ `{}` inconnu, attendus : {}",
    ),
    (
        "unknown field `{}`, there are no fields",
        "champ `{}` inconnu, aucun champ attendu",
    ),
    (
        "unknown field `{}`, expected {}",
        "champ `{}` inconnu, attendu : {}",
    ),
    ("duplicate field `{}`", "champ `{}` en double"),
    ("{} is in the future", "{} est dans le futur"),
    ("{} is {} or more", "{} vaut au moins {}"),
    ("the date is in the future", "la date est dans le futur"),
    (
        "ends_on is on or after starts_on",
        "ends_on est le même jour que starts_on ou après",
    ),
    (
        "the measure ends before it starts",
        "la mesure finit avant son début",
    ),
    (
        "birth_year differs from birth_date",
        "birth_year ne correspond pas à birth_date",
    ),
    ("date is YYYY-MM-DD", "date s'écrit AAAA-MM-JJ"),
    ("must be an https:// URL", "doit être une URL https://"),
    (
        "must be visible ASCII characters",
        "doit être en caractères ASCII visibles",
    ),
    (
        "{} is not an active staff account of the programme",
        "{} n'est pas un compte actif de l'équipe du programme",
    ),
    (
        "{} is not an active staff account",
        "{} n'est pas un compte actif de l'équipe",
    ),
    (
        "{} is not an active regional referent",
        "{} n'est pas un référent régional actif",
    ),
    (
        "{} is not a live registration of this session",
        "{} n'est pas une inscription valide de cette séance",
    ),
    (
        "{} needs {} character(s) other than surrounding white space",
        "{} doit contenir au moins {} caractère(s) hors espaces de début et de fin",
    ),
];

/// `text` in `lang`: itself in English or when the catalogue has no entry
/// for it.
pub fn translate(text: &str, lang: Lang) -> Cow<'_, str> {
    if lang == Lang::En {
        return Cow::Borrowed(text);
    }
    MESSAGES
        .iter()
        .find_map(|(en, fr)| fill(fr, &captures(en, text)?))
        .map_or(Cow::Borrowed(text), Cow::Owned)
}

/// The parts of `text` standing where `template` has `{}`, when `text` is
/// that template filled in (each part non-empty; the first occurrence of
/// the literal after a part ends it).
fn captures<'a>(template: &str, text: &'a str) -> Option<Vec<&'a str>> {
    let mut pieces = template.split("{}");
    let first = pieces.next().unwrap_or("");
    let mut rest = text.strip_prefix(first)?;
    let mut parts = Vec::new();
    let pieces: Vec<&str> = pieces.collect();
    for (i, literal) in pieces.iter().enumerate() {
        let last = i + 1 == pieces.len();
        let (part, after) = if last {
            (rest.strip_suffix(literal)?, "")
        } else if literal.is_empty() {
            return None;
        } else {
            let at = rest.find(literal)?;
            (rest.get(..at)?, rest.get(at + literal.len()..)?)
        };
        if part.is_empty() {
            return None;
        }
        parts.push(part);
        rest = after;
    }
    rest.is_empty().then_some(parts)
}

/// `template` with its `{}` replaced by `parts` in order.
fn fill(template: &str, parts: &[&str]) -> Option<String> {
    let mut out = String::with_capacity(template.len() + 16);
    let mut pieces = template.split("{}");
    out.push_str(pieces.next().unwrap_or(""));
    let mut parts = parts.iter();
    for piece in pieces {
        out.push_str(parts.next()?);
        out.push_str(piece);
    }
    parts.next().is_none().then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::{BTreeMap, BTreeSet};
    use std::path::Path;

    #[test]
    fn templates_translate_with_their_parts() {
        let fr = |text: &str| translate(text, Lang::Fr).into_owned();
        assert_eq!(fr("1 field is invalid"), "1 champ est invalide");
        assert_eq!(fr("3 fields are invalid"), "3 champs sont invalides");
        assert_eq!(
            fr("name must have 1 to 200 characters"),
            "name doit compter de 1 à 200 caractères"
        );
        assert_eq!(
            fr("limit must be from 1 to 200"),
            "limit doit être compris entre 1 et 200"
        );
        assert_eq!(fr("missing field `title`"), "champ `title` manquant");
        assert_eq!(
            fr("no département has the code 99"),
            "aucun département n'a le code 99"
        );
        assert_eq!(fr("something new"), "something new");
        assert_eq!(
            translate("1 field is invalid", Lang::En),
            "1 field is invalid"
        );
        // A part never swallows the whole text, a template never half-matches.
        assert_eq!(
            fr(" must have 1 to 2 characters"),
            " must have 1 to 2 characters"
        );
        assert_eq!(
            fr("no follow-up with this id!"),
            "no follow-up with this id!"
        );
        assert!(
            fr(
                "an offset (or Z) is required: a date-time is RFC 3339 with an offset, as in \
                2027-03-28T02:30:00+01:00 or 2027-03-28T01:30:00Z; a date is 2027-03-28"
            )
            .starts_with("un décalage horaire (ou Z) est requis : une date-heure")
        );
    }

    #[test]
    fn every_template_has_as_many_parts_in_both_languages() {
        let mut seen = BTreeSet::new();
        for (en, fr) in MESSAGES {
            assert_eq!(en.matches("{}").count(), fr.matches("{}").count(), "{en}");
            assert_ne!(en, fr, "not translated: {en}");
            assert!(seen.insert(*en), "twice: {en}");
        }
    }

    /// Every problem type has its titles; the French ones are French.
    #[test]
    fn every_type_has_both_titles() {
        let mut seen = BTreeSet::new();
        for text in TYPES {
            assert!(seen.insert(text.tag), "twice: {}", text.tag);
            assert!(!text.en.trim().is_empty(), "{}", text.tag);
            assert!(!text.fr.trim().is_empty(), "{}", text.tag);
            assert_ne!(text.en, text.fr, "{} is not translated", text.tag);
            assert!(
                text.tag
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-'),
                "{}",
                text.tag
            );
        }
        for tag in produced_types().keys() {
            assert!(
                type_text(tag).is_some(),
                "the code can produce `urn:adosexo:problem:{tag}`: give it an English and a French title in i18n/catalogue.rs"
            );
        }
    }

    /// Where a call site names a type and a title together, the catalogue's
    /// English title is that title (English responses keep their words).
    #[test]
    fn english_titles_are_those_of_the_code() {
        for (tag, titles) in produced_types() {
            let en = type_text(&tag).map(|t| t.en);
            for title in titles.into_iter().flatten() {
                assert_eq!(Some(title.as_str()), en, "{tag}");
            }
        }
    }

    /// Every message of a validation rule (`#[validate(… message = "…")]`)
    /// in the sources has its French.
    #[test]
    fn every_validation_message_has_its_french() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut files = sources(&root.join("src"));
        files.extend(sources(&root.join("../domain/src")));
        let mut count = 0;
        for file in files.iter().filter(|f| !f.ends_with("i18n/catalogue.rs")) {
            let text = std::fs::read_to_string(file).unwrap();
            for message in text.split("message = \"").skip(1) {
                let message = message.split('"').next().unwrap_or_default();
                count += 1;
                assert_ne!(
                    translate(message, Lang::Fr),
                    message,
                    "{}: give \"{message}\" its French in i18n/catalogue.rs",
                    file.display()
                );
            }
        }
        assert!(count > 50, "the scan found too few messages: {count}");
    }

    /// The problem types the code can produce, read from the sources: the
    /// first arguments of `ApiError`'s constructors naming a type
    /// (`rule`, `conflict`, `unauthorized_kind`, `new`), the types of
    /// `from_status`, and the tags of the domain's rules (`fn tag`, whose
    /// tags the handlers pass on). Each with the literal titles given
    /// beside it.
    fn produced_types() -> BTreeMap<String, BTreeSet<Option<String>>> {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut types: BTreeMap<String, BTreeSet<Option<String>>> = BTreeMap::new();
        for file in sources(&root.join("src")) {
            let text = std::fs::read_to_string(&file).unwrap();
            for (needle, kind_at) in [
                ("ApiError::rule(", 0),
                ("ApiError::conflict(", 0),
                ("ApiError::unauthorized_kind(", 0),
                ("Self::rule(", 0),
                ("Self::conflict(", 0),
                ("Self::unauthorized_kind(", 0),
                ("Self::new(", 1),
            ] {
                for (at, _) in text.match_indices(needle) {
                    let args = arguments(&text[at + needle.len()..]);
                    if let Some(kind) = args.get(kind_at).and_then(|a| literal(a)) {
                        let title = args.get(kind_at + 1).and_then(|a| literal(a));
                        types.entry(kind).or_default().insert(title);
                    }
                }
            }
            // `from_status`: `404 => ("not-found", "Not found"),`
            let from_status = if file.ends_with("problem.rs") {
                text.as_str()
            } else {
                ""
            };
            for (at, _) in from_status.match_indices("=> (\"") {
                let args = arguments(&from_status[at + 4..]);
                if let (Some(kind), Some(title)) = (
                    args.first().and_then(|a| literal(a)),
                    args.get(1).and_then(|a| literal(a)),
                ) && kind.bytes().all(|b| b.is_ascii_lowercase() || b == b'-')
                {
                    types.entry(kind).or_default().insert(Some(title));
                }
            }
        }
        for file in sources(&root.join("../domain/src")) {
            let text = std::fs::read_to_string(&file).unwrap();
            for (at, _) in text.match_indices("fn tag(") {
                let body = &text[at..];
                let body = &body[..body.find("\n    }\n").unwrap_or(body.len())];
                for tag in body.split('"').skip(1).step_by(2) {
                    types.entry(tag.to_owned()).or_default();
                }
            }
        }
        assert!(types.len() > 60, "the scan found too few types: {types:?}");
        assert!(types.contains_key("not-found") && types.contains_key("staff-double-booked"));
        types
    }

    fn sources(dir: &Path) -> Vec<std::path::PathBuf> {
        let mut out = Vec::new();
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                out.extend(sources(&path));
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
        out
    }

    /// The arguments of a call, `text` starting after its `(`: split at
    /// top-level commas up to the closing parenthesis.
    fn arguments(text: &str) -> Vec<String> {
        let mut args = Vec::new();
        let mut current = String::new();
        let mut depth = 0usize;
        let mut chars = text.chars();
        let mut in_string = false;
        while let Some(c) = chars.next() {
            if in_string {
                current.push(c);
                if c == '\\' {
                    current.extend(chars.next());
                } else if c == '"' {
                    in_string = false;
                }
                continue;
            }
            match c {
                '"' => {
                    in_string = true;
                    current.push(c);
                }
                '(' | '[' | '{' => {
                    depth += 1;
                    current.push(c);
                }
                ')' | ']' | '}' if depth == 0 => break,
                ')' | ']' | '}' => {
                    depth -= 1;
                    current.push(c);
                }
                ',' if depth == 0 => args.push(std::mem::take(&mut current).trim().to_owned()),
                _ => current.push(c),
            }
        }
        args.push(current.trim().to_owned());
        args
    }

    /// A plain string literal's text.
    fn literal(arg: &str) -> Option<String> {
        let inner = arg.strip_prefix('"')?.strip_suffix('"')?;
        (!inner.contains('"') && !inner.contains('\\')).then(|| inner.to_owned())
    }
}
