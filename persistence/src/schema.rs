//! Tables as diesel sees them, for both backends. Portable SQL types only:
//! TEXT (UUIDs too), TIMESTAMP holding UTC, INTEGER, BIGINT, BOOLEAN.

diesel::table! {
    regions (code) {
        code -> Text,
        name -> Text,
    }
}

diesel::table! {
    departements (code) {
        code -> Text,
        name -> Text,
        region_code -> Text,
    }
}

diesel::joinable!(departements -> regions (region_code));
diesel::allow_tables_to_appear_in_same_query!(regions, departements);

diesel::table! {
    organisations (id) {
        id -> Text,
        name -> Text,
        kind -> Text,
        departement_code -> Text,
        shares_secrecy -> Bool,
        status -> Text,
        version -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    accounts (id) {
        id -> Text,
        email -> Text,
        display_name -> Text,
        organisation_id -> Text,
        roles -> Text,
        territory -> Text,
        status -> Text,
        password_hash -> Nullable<Text>,
        totp_secret -> Nullable<Text>,
        totp_enabled -> Bool,
        version -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    api_clients (id) {
        id -> Text,
        name -> Text,
        organisation_id -> Text,
        secret_hash -> Text,
        scopes -> Text,
        status -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    sessions (id) {
        id -> Text,
        subject_kind -> Text,
        subject_id -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        revoked_at -> Nullable<Timestamp>,
        revoked_reason -> Nullable<Text>,
    }
}

diesel::table! {
    refresh_tokens (token_hash) {
        token_hash -> Text,
        session_id -> Text,
        issued_at -> Timestamp,
        expires_at -> Timestamp,
        used_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    login_failures (id) {
        id -> Text,
        throttle_key -> Text,
        failed_at -> Timestamp,
    }
}

diesel::table! {
    settings (key) {
        key -> Text,
        value -> Text,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    audit_log (seq) {
        seq -> BigInt,
        id -> Text,
        at -> Timestamp,
        actor_id -> Nullable<Text>,
        actor_organisation_id -> Nullable<Text>,
        actor_role -> Nullable<Text>,
        action -> Text,
        resource_type -> Text,
        resource_id -> Nullable<Text>,
        outcome -> Text,
        request_id -> Nullable<Text>,
        client_addr -> Nullable<Text>,
        prev_hash -> Text,
        hash -> Text,
        resource_ids -> Nullable<Text>,
    }
}

diesel::table! {
    audit_head (id) {
        id -> Integer,
        seq -> BigInt,
        hash -> Text,
        anchor_seq -> BigInt,
        anchor_hash -> Text,
    }
}

diesel::table! {
    audit_purge_gate (open) {
        open -> Bool,
    }
}

diesel::joinable!(accounts -> organisations (organisation_id));
diesel::joinable!(api_clients -> organisations (organisation_id));
diesel::joinable!(refresh_tokens -> sessions (session_id));
diesel::allow_tables_to_appear_in_same_query!(
    organisations,
    accounts,
    api_clients,
    sessions,
    refresh_tokens,
    departements,
);

diesel::table! {
    idempotency_keys (actor_id, idempotency_key) {
        actor_id -> Text,
        idempotency_key -> Text,
        operation -> Text,
        request_digest -> Text,
        status -> Integer,
        response_body -> Text,
        resource_id -> Nullable<Text>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    people (id) {
        id -> Text,
        kind -> Text,
        first_name -> Text,
        last_name -> Nullable<Text>,
        name_key -> Text,
        birth_date -> Nullable<Text>,
        birth_year -> Nullable<Integer>,
        gender -> Nullable<Text>,
        departement_code -> Nullable<Text>,
        placement -> Nullable<Text>,
        measure -> Nullable<Text>,
        relationship -> Nullable<Text>,
        parental_authority -> Nullable<Bool>,
        organisation_name -> Nullable<Text>,
        professional_role -> Nullable<Text>,
        contact -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        version -> BigInt,
    }
}

diesel::table! {
    reference_counters (kind, year) {
        kind -> Text,
        year -> Integer,
        next_value -> BigInt,
    }
}

diesel::table! {
    follow_ups (id) {
        id -> Text,
        reference -> Text,
        person_id -> Text,
        departement_code -> Text,
        lead_staff_id -> Text,
        status -> Text,
        closure_reason -> Nullable<Text>,
        measure_kind -> Nullable<Text>,
        measure_start -> Nullable<Text>,
        measure_end -> Nullable<Text>,
        version -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    follow_up_staff (follow_up_id, account_id) {
        follow_up_id -> Text,
        account_id -> Text,
    }
}

diesel::table! {
    follow_up_people (follow_up_id, person_id) {
        follow_up_id -> Text,
        person_id -> Text,
        added_at -> Timestamp,
    }
}

diesel::table! {
    follow_up_objectives (id) {
        id -> Text,
        follow_up_id -> Text,
        objective -> Text,
        status -> Text,
        changed_at -> Timestamp,
        changed_by -> Text,
    }
}

diesel::table! {
    follow_up_notes (id) {
        id -> Text,
        follow_up_id -> Text,
        kind -> Text,
        author_id -> Text,
        created_at -> Timestamp,
        key_id -> Text,
        nonce -> Text,
        ciphertext -> Text,
    }
}

diesel::table! {
    referrals (id) {
        id -> Text,
        reference -> Text,
        public -> Text,
        context -> Text,
        source_kind -> Text,
        source_organisation_id -> Nullable<Text>,
        referrer_name -> Nullable<Text>,
        referrer_contact -> Nullable<Text>,
        submitted_by_id -> Text,
        submitted_by_kind -> Text,
        person_id -> Text,
        departement_code -> Text,
        risk_indicators -> Text,
        summary -> Text,
        urgency -> Text,
        status -> Text,
        decision_reason -> Nullable<Text>,
        redirected_to -> Nullable<Text>,
        lead_staff_id -> Nullable<Text>,
        follow_up_id -> Nullable<Text>,
        protection_required -> Bool,
        protection_due_at -> Nullable<Timestamp>,
        protection_kind -> Nullable<Text>,
        protection_details -> Nullable<Text>,
        protection_on -> Nullable<Text>,
        protection_recorded_at -> Nullable<Timestamp>,
        version -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    referral_events (id) {
        id -> Text,
        referral_id -> Text,
        at -> Timestamp,
        actor_id -> Text,
        actor_kind -> Text,
        action -> Text,
        from_status -> Nullable<Text>,
        to_status -> Text,
        reason -> Nullable<Text>,
    }
}

diesel::joinable!(referrals -> people (person_id));
diesel::joinable!(follow_ups -> people (person_id));
diesel::joinable!(referral_events -> referrals (referral_id));
diesel::joinable!(follow_up_staff -> follow_ups (follow_up_id));
diesel::joinable!(follow_up_people -> people (person_id));
diesel::allow_tables_to_appear_in_same_query!(
    referrals,
    people,
    follow_ups,
    referral_events,
    follow_up_staff,
    follow_up_people
);

diesel::table! {
    stats_releases (family, period, min_cell) {
        family -> Text,
        period -> Text,
        min_cell -> BigInt,
        figures -> Text,
        released_at -> Timestamp,
    }
}

diesel::table! {
    sites (id) {
        id -> Text,
        name -> Text,
        kind -> Text,
        address -> Text,
        postcode -> Text,
        city -> Text,
        departement_code -> Text,
        latitude -> Double,
        longitude -> Double,
        host_organisation_id -> Nullable<Text>,
        public -> Bool,
        accessibility -> Nullable<Text>,
        status -> Text,
        version -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    permanences (id) {
        id -> Text,
        site_id -> Text,
        title -> Text,
        rrule -> Text,
        dtstart -> Text,
        last_date -> Nullable<Text>,
        part_of_day -> Text,
        start_time -> Text,
        end_time -> Text,
        audience -> Text,
        status -> Text,
        follows_id -> Nullable<Text>,
        version -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    permanence_staff (permanence_id, account_id) {
        permanence_id -> Text,
        account_id -> Text,
    }
}

diesel::table! {
    permanence_exceptions (permanence_id, original_date) {
        permanence_id -> Text,
        original_date -> Text,
        kind -> Text,
        starts_at -> Nullable<Timestamp>,
        ends_at -> Nullable<Timestamp>,
        reason -> Nullable<Text>,
        created_by -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    appointments (id) {
        id -> Text,
        mode -> Text,
        title -> Text,
        referral_id -> Nullable<Text>,
        follow_up_id -> Nullable<Text>,
        person_id -> Nullable<Text>,
        site_id -> Nullable<Text>,
        permanence_id -> Nullable<Text>,
        departement_code -> Text,
        starts_at -> Timestamp,
        ends_at -> Timestamp,
        status -> Text,
        confirmation -> Text,
        first_meeting -> Bool,
        unaccompanied_reason -> Nullable<Text>,
        cancelled_by -> Nullable<Text>,
        cancel_reason -> Nullable<Text>,
        proposed_by_organisation_id -> Nullable<Text>,
        created_by -> Text,
        version -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    appointment_staff (appointment_id, account_id) {
        appointment_id -> Text,
        account_id -> Text,
    }
}

diesel::table! {
    appointment_attendees (appointment_id, position) {
        appointment_id -> Text,
        position -> Integer,
        kind -> Text,
        person_id -> Nullable<Text>,
        organisation_id -> Nullable<Text>,
    }
}

diesel::table! {
    group_sessions (id) {
        id -> Text,
        kind -> Text,
        title -> Text,
        mode -> Text,
        site_id -> Nullable<Text>,
        venue -> Nullable<Text>,
        remote_link -> Nullable<Text>,
        partner_organisation_id -> Nullable<Text>,
        departement_code -> Text,
        starts_at -> Timestamp,
        ends_at -> Timestamp,
        days -> Integer,
        capacity -> Nullable<Integer>,
        audience -> Text,
        status -> Text,
        created_by -> Text,
        version -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    group_session_staff (group_session_id, account_id) {
        group_session_id -> Text,
        account_id -> Text,
    }
}

diesel::table! {
    group_registrations (id) {
        id -> Text,
        group_session_id -> Text,
        participant_name -> Text,
        category -> Text,
        organisation_id -> Nullable<Text>,
        status -> Text,
        present -> Nullable<Bool>,
        registered_by -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    group_headcounts (group_session_id, category, age_band) {
        group_session_id -> Text,
        category -> Text,
        age_band -> Text,
        head_count -> Integer,
    }
}

diesel::table! {
    staff_bookings (id) {
        id -> Text,
        account_id -> Text,
        starts_at -> Timestamp,
        ends_at -> Timestamp,
        appointment_id -> Nullable<Text>,
        group_session_id -> Nullable<Text>,
    }
}

diesel::table! {
    calendar_feeds (account_id) {
        account_id -> Text,
        token_hash -> Text,
        created_at -> Timestamp,
    }
}

diesel::joinable!(permanences -> sites (site_id));
diesel::joinable!(permanence_staff -> permanences (permanence_id));
diesel::joinable!(appointment_staff -> appointments (appointment_id));
diesel::joinable!(group_session_staff -> group_sessions (group_session_id));
diesel::allow_tables_to_appear_in_same_query!(
    sites,
    permanences,
    permanence_staff,
    permanence_exceptions,
    appointments,
    appointment_staff,
    appointment_attendees,
    group_sessions,
    group_session_staff,
    group_registrations,
    group_headcounts,
    staff_bookings
);

diesel::table! {
    directory_entries (id) {
        id -> Text,
        name -> Text,
        organisation -> Nullable<Text>,
        category -> Text,
        national -> Bool,
        departements -> Text,
        address -> Nullable<Text>,
        phone -> Nullable<Text>,
        email -> Nullable<Text>,
        website -> Nullable<Text>,
        last_verified -> Nullable<Text>,
        search_key -> Text,
        version -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    directory_departements (entry_id, departement_code) {
        entry_id -> Text,
        departement_code -> Text,
    }
}

diesel::table! {
    contacts (scope) {
        scope -> Text,
        team -> Text,
        email -> Text,
        phone -> Text,
        updated_at -> Timestamp,
    }
}

diesel::joinable!(directory_departements -> directory_entries (entry_id));
diesel::allow_tables_to_appear_in_same_query!(directory_entries, directory_departements);

diesel::table! {
    consents (id) {
        id -> Text,
        person_id -> Text,
        follow_up_id -> Text,
        purpose -> Text,
        given_by -> Text,
        parental_authority_holder_id -> Nullable<Text>,
        method -> Text,
        evidence_reference -> Text,
        given_at -> Timestamp,
        valid_until -> Nullable<Text>,
        recorded_by -> Text,
        withdrawn_at -> Nullable<Timestamp>,
        withdrawn_by -> Nullable<Text>,
        withdrawal_recorded_by -> Nullable<Text>,
        invalidated_at -> Nullable<Timestamp>,
        invalidated_by -> Nullable<Text>,
        invalidation_reason -> Nullable<Text>,
        lapsed_at -> Nullable<Timestamp>,
        version -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    share_decisions (id) {
        id -> Text,
        follow_up_id -> Text,
        organisation_id -> Text,
        purpose -> Text,
        field_groups -> Text,
        family_informed -> Text,
        justification -> Nullable<Text>,
        valid_from -> Text,
        valid_until -> Nullable<Text>,
        decided_by -> Text,
        decided_at -> Timestamp,
        revoked_at -> Nullable<Timestamp>,
        revoked_by -> Nullable<Text>,
        revocation_reason -> Nullable<Text>,
        version -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::allow_tables_to_appear_in_same_query!(consents, people);
diesel::allow_tables_to_appear_in_same_query!(consents, follow_ups);

diesel::table! {
    follow_up_archive (follow_up_id) {
        follow_up_id -> Text,
        last_contact_at -> Timestamp,
        archived_at -> Timestamp,
        pseudonymised_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    referral_age_bands (referral_id) {
        referral_id -> Text,
        age_band -> Text,
    }
}

diesel::table! {
    erasure_requests (id) {
        id -> Text,
        person_id -> Text,
        requested_by -> Text,
        received_at -> Timestamp,
        status -> Text,
        refusal -> Nullable<Text>,
        recorded_by -> Text,
        decided_by -> Nullable<Text>,
        decided_at -> Nullable<Timestamp>,
        version -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    webhook_subscriptions (id) {
        id -> Text,
        organisation_id -> Text,
        url -> Text,
        event_types -> Text,
        secret_key_id -> Text,
        secret_nonce -> Text,
        secret_ciphertext -> Text,
        status -> Text,
        created_by -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::allow_tables_to_appear_in_same_query!(follow_up_archive, follow_ups);
diesel::allow_tables_to_appear_in_same_query!(follow_up_archive, follow_up_people);
diesel::allow_tables_to_appear_in_same_query!(erasure_requests, people);
diesel::allow_tables_to_appear_in_same_query!(follow_up_archive, referrals);
diesel::allow_tables_to_appear_in_same_query!(follow_up_archive, appointments);
diesel::allow_tables_to_appear_in_same_query!(follow_up_archive, consents);
diesel::allow_tables_to_appear_in_same_query!(follow_up_archive, people);

diesel::table! {
    partner_event_counters (organisation_id) {
        organisation_id -> Text,
        next_seq -> BigInt,
    }
}

diesel::table! {
    partner_events (id) {
        id -> Text,
        organisation_id -> Text,
        seq -> BigInt,
        event_type -> Text,
        subject_id -> Text,
        payload -> Text,
        occurred_at -> Timestamp,
    }
}

diesel::table! {
    webhook_deliveries (id) {
        id -> Text,
        event_id -> Text,
        subscription_id -> Text,
        subject_id -> Text,
        seq -> BigInt,
        status -> Text,
        attempts -> Integer,
        next_attempt_at -> Timestamp,
        claimed_until -> Nullable<Timestamp>,
        claim_token -> Nullable<Text>,
        last_error -> Nullable<Text>,
        delivered_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        traceparent -> Nullable<Text>,
    }
}

diesel::joinable!(webhook_deliveries -> partner_events (event_id));
diesel::joinable!(webhook_deliveries -> webhook_subscriptions (subscription_id));
diesel::allow_tables_to_appear_in_same_query!(
    webhook_deliveries,
    partner_events,
    webhook_subscriptions
);

diesel::table! {
    partnership_agreements (id) {
        id -> Text,
        organisation_id -> Text,
        title -> Text,
        departements -> Text,
        starts_on -> Text,
        ends_on -> Text,
        status -> Text,
        created_by -> Text,
        version -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    agreement_referents (agreement_id, account_id) {
        agreement_id -> Text,
        account_id -> Text,
    }
}

diesel::table! {
    agreement_permanences (permanence_id) {
        permanence_id -> Text,
        agreement_id -> Text,
    }
}

diesel::table! {
    library_resources (id) {
        id -> Text,
        title -> Text,
        description -> Text,
        search_key -> Text,
        audience -> Text,
        kind -> Text,
        language -> Text,
        visibility -> Text,
        external_url -> Nullable<Text>,
        media_type -> Nullable<Text>,
        file_size -> Nullable<BigInt>,
        sha256 -> Nullable<Text>,
        downloads -> BigInt,
        created_by -> Text,
        version -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    library_files (resource_id) {
        resource_id -> Text,
        content -> Binary,
    }
}

diesel::table! {
    library_downloads (id) {
        id -> Text,
        resource_id -> Text,
        kind -> Text,
        downloaded_at -> Timestamp,
    }
}

diesel::table! {
    case_review_requests (id) {
        id -> Text,
        organisation_id -> Text,
        requested_by -> Text,
        departement_code -> Text,
        situation -> Text,
        fictional -> Bool,
        status -> Text,
        group_session_id -> Nullable<Text>,
        version -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::joinable!(agreement_referents -> partnership_agreements (agreement_id));
diesel::joinable!(agreement_permanences -> partnership_agreements (agreement_id));
diesel::joinable!(library_files -> library_resources (resource_id));
diesel::allow_tables_to_appear_in_same_query!(
    partnership_agreements,
    agreement_referents,
    agreement_permanences,
    library_resources,
    library_files,
    library_downloads,
);
diesel::allow_tables_to_appear_in_same_query!(group_registrations, organisations);
diesel::allow_tables_to_appear_in_same_query!(group_sessions, organisations);
