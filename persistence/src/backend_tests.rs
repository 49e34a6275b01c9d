//! Persistence on both backends: SQLite always, PostgreSQL when
//! `TEST_DATABASE_URL` is set.

use adosexo_domain::{DepartementCode, RegionCode};
use diesel::prelude::*;

use crate::schema::regions;
use crate::territory::{self, DepartementFilter};
use crate::testing::TestDatabase;
use crate::{Backend, DatabaseUrl, Db, PoolOptions, StartupError};

/// Runs `check` on a migrated database of each available backend.
fn on_each_backend(check: impl Fn(&Db, Backend)) {
    let mut databases = vec![TestDatabase::sqlite().expect("sqlite")];
    databases.extend(TestDatabase::postgres().expect("TEST_DATABASE_URL reachable when set"));
    for database in &databases {
        let url = DatabaseUrl::parse(database.url()).expect("url");
        let db = Db::connect(&url, PoolOptions::default()).expect("connect");
        check(&db, database.backend());
    }
}

fn block_on<T>(future: impl std::future::Future<Output = T>) -> T {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
        .block_on(future)
}

#[test]
fn migrations_apply_once_then_readiness_holds() {
    on_each_backend(|db, backend| {
        assert!(
            block_on(db.readiness()).is_err(),
            "{backend}: not ready before migrations"
        );
        let applied = db.migrate().expect("migrate");
        assert!(applied >= 1, "{backend}");
        assert_eq!(
            db.migrate().expect("again"),
            0,
            "{backend}: nothing left to apply"
        );
        block_on(db.readiness()).expect("ready");
        assert_eq!(db.backend(), backend);
    });
}

#[test]
fn schema_rs_matches_the_migrated_tables() {
    // Every table and column diesel knows exists with a compatible type.
    on_each_backend(|db, backend| {
        db.migrate().expect("migrate");
        block_on(db.run(|conn| {
            regions::table
                .select(regions::all_columns)
                .limit(1)
                .load::<(String, String)>(conn)?;
            departements::table
                .select(departements::all_columns)
                .limit(1)
                .load::<(String, String, String)>(conn)?;
            use crate::schema::*;
            accounts::table
                .select(accounts::all_columns)
                .limit(1)
                .load::<crate::identity::AccountRow>(conn)?;
            organisations::table
                .select(organisations::all_columns)
                .limit(1)
                .load::<crate::identity::OrganisationRow>(conn)?;
            api_clients::table
                .select(api_clients::all_columns)
                .limit(1)
                .load::<crate::identity::ClientRow>(conn)?;
            sessions::table
                .select(sessions::all_columns)
                .limit(1)
                .load::<crate::identity::SessionRow>(conn)?;
            audit_log::table
                .select(audit_log::all_columns)
                .limit(1)
                .load::<crate::audit::AuditRow>(conn)?;
            people::table
                .select(people::all_columns)
                .limit(1)
                .load::<crate::cases::PersonRow>(conn)?;
            referrals::table
                .select(referrals::all_columns)
                .limit(1)
                .load::<crate::cases::ReferralRow>(conn)?;
            referral_events::table
                .select(referral_events::all_columns)
                .limit(1)
                .load::<crate::cases::ReferralEventRow>(conn)?;
            follow_ups::table
                .select(follow_ups::all_columns)
                .limit(1)
                .load::<crate::cases::FollowUpRow>(conn)?;
            follow_up_objectives::table
                .select(follow_up_objectives::all_columns)
                .limit(1)
                .load::<crate::cases::ObjectiveRow>(conn)?;
            follow_up_notes::table
                .select(follow_up_notes::all_columns)
                .limit(1)
                .load::<crate::cases::NoteRow>(conn)?;
            use crate::schedule as sch;
            sites::table
                .select(sites::all_columns)
                .limit(1)
                .load::<sch::SiteRow>(conn)?;
            permanences::table
                .select(permanences::all_columns)
                .limit(1)
                .load::<sch::PermanenceRow>(conn)?;
            permanence_exceptions::table
                .select(permanence_exceptions::all_columns)
                .limit(1)
                .load::<sch::ExceptionRow>(conn)?;
            appointments::table
                .select(appointments::all_columns)
                .limit(1)
                .load::<sch::AppointmentRow>(conn)?;
            appointment_attendees::table
                .select(appointment_attendees::all_columns)
                .limit(1)
                .load::<sch::AttendeeRow>(conn)?;
            staff_bookings::table
                .select(staff_bookings::all_columns)
                .limit(1)
                .load::<sch::BookingRow>(conn)?;
            group_sessions::table
                .select(group_sessions::all_columns)
                .limit(1)
                .load::<sch::GroupSessionRow>(conn)?;
            group_registrations::table
                .select(group_registrations::all_columns)
                .limit(1)
                .load::<sch::RegistrationRow>(conn)?;
            group_headcounts::table
                .select(group_headcounts::all_columns)
                .limit(1)
                .load::<sch::HeadcountRow>(conn)?;
            permanence_staff::table
                .select(permanence_staff::all_columns)
                .limit(1)
                .load::<(String, String)>(conn)?;
            appointment_staff::table
                .select(appointment_staff::all_columns)
                .limit(1)
                .load::<(String, String)>(conn)?;
            group_session_staff::table
                .select(group_session_staff::all_columns)
                .limit(1)
                .load::<(String, String)>(conn)?;
            directory_entries::table
                .select(directory_entries::all_columns)
                .limit(1)
                .load::<crate::public::DirectoryRow>(conn)?;
            directory_departements::table
                .select(directory_departements::all_columns)
                .limit(1)
                .load::<(String, String)>(conn)?;
            contacts::table
                .select(contacts::all_columns)
                .limit(1)
                .load::<crate::public::ContactRow>(conn)?;
            calendar_feeds::table
                .select(calendar_feeds::all_columns)
                .limit(1)
                .load::<(String, String, chrono::NaiveDateTime)>(conn)?;
            consents::table
                .select(consents::all_columns)
                .limit(1)
                .load::<crate::consent::ConsentRow>(conn)?;
            share_decisions::table
                .select(share_decisions::all_columns)
                .limit(1)
                .load::<crate::consent::ShareRow>(conn)?;
            follow_up_archive::table
                .select(follow_up_archive::all_columns)
                .limit(1)
                .load::<crate::retention::ArchiveRow>(conn)?;
            referral_age_bands::table
                .select(referral_age_bands::all_columns)
                .limit(1)
                .load::<(String, String)>(conn)?;
            erasure_requests::table
                .select(erasure_requests::all_columns)
                .limit(1)
                .load::<crate::retention::ErasureRequestRow>(conn)?;
            webhook_subscriptions::table
                .select(webhook_subscriptions::all_columns)
                .limit(1)
                .load::<crate::webhooks::SubscriptionRow>(conn)?;
            partner_event_counters::table
                .select(partner_event_counters::all_columns)
                .limit(1)
                .load::<(String, i64)>(conn)?;
            partner_events::table
                .select(partner_events::all_columns)
                .limit(1)
                .load::<crate::webhooks::EventRow>(conn)?;
            webhook_deliveries::table
                .select(webhook_deliveries::all_columns)
                .limit(1)
                .load::<crate::webhooks::DeliveryRow>(conn)?;
            partnership_agreements::table
                .select(partnership_agreements::all_columns)
                .limit(1)
                .load::<crate::professional::AgreementRow>(conn)?;
            agreement_referents::table
                .select(agreement_referents::all_columns)
                .limit(1)
                .load::<(String, String)>(conn)?;
            agreement_permanences::table
                .select(agreement_permanences::all_columns)
                .limit(1)
                .load::<(String, String)>(conn)?;
            library_resources::table
                .select(library_resources::all_columns)
                .limit(1)
                .load::<crate::professional::ResourceRow>(conn)?;
            library_files::table
                .select(library_files::all_columns)
                .limit(1)
                .load::<(String, Vec<u8>)>(conn)?;
            library_downloads::table
                .select(library_downloads::all_columns)
                .limit(1)
                .load::<(String, String, String, chrono::NaiveDateTime)>(conn)?;
            case_review_requests::table
                .select(case_review_requests::all_columns)
                .limit(1)
                .load::<crate::professional::CaseReviewRow>(conn)?;
            Ok::<_, crate::PersistenceError>(())
        }))
        .unwrap_or_else(|e| panic!("{backend}: {e}"));
    });
}

#[test]
fn reference_territory_is_complete() {
    on_each_backend(|db, backend| {
        db.migrate().expect("migrate");
        let all = block_on(db.run(|conn| {
            territory::list_departements(
                conn,
                &DepartementFilter {
                    limit: 500,
                    ..Default::default()
                },
            )
        }))
        .expect("list");
        assert_eq!(all.len(), 101, "{backend}");
        assert!(
            all.windows(2).all(|w| w[0].code < w[1].code),
            "{backend}: code order"
        );

        let idf = block_on(db.run(|conn| {
            territory::list_departements(
                conn,
                &DepartementFilter {
                    region: Some(RegionCode::parse("11").expect("code")),
                    after: Some("91".into()),
                    limit: 2,
                },
            )
        }))
        .expect("list");
        let codes: Vec<_> = idf.iter().map(|d| d.code.as_str()).collect();
        assert_eq!(codes, ["92", "93"], "{backend}: region filter and keyset");

        let corse = block_on(db.run(|conn| {
            territory::find_departement(conn, &DepartementCode::parse("2B").expect("code"))
        }))
        .expect("find")
        .expect("2B exists");
        assert_eq!(
            (corse.name.as_str(), corse.region_name.as_str()),
            ("Haute-Corse", "Corse")
        );
        let none = block_on(db.run(|conn| {
            territory::find_departement(conn, &DepartementCode::parse("20").expect("code"))
        }))
        .expect("find");
        assert_eq!(none, None);
    });
}

#[test]
fn transactions_are_all_or_nothing() {
    on_each_backend(|db, backend| {
        db.migrate().expect("migrate");
        let result: Result<(), crate::PersistenceError> = block_on(db.transaction(|conn| {
            diesel::insert_into(regions::table)
                .values((regions::code.eq("99"), regions::name.eq("Test region")))
                .execute(conn)?;
            // Same primary key: the second insert fails and the first is undone.
            diesel::insert_into(regions::table)
                .values((regions::code.eq("99"), regions::name.eq("Again")))
                .execute(conn)?;
            Ok(())
        }));
        assert!(
            matches!(result, Err(crate::PersistenceError::Constraint(_))),
            "{backend}: {result:?}"
        );
        let left: i64 = block_on(db.run(|conn| {
            Ok::<_, crate::PersistenceError>(
                regions::table
                    .filter(regions::code.eq("99"))
                    .count()
                    .get_result(conn)?,
            )
        }))
        .expect("count");
        assert_eq!(left, 0, "{backend}: nothing half-written");
    });
}

#[test]
fn unreachable_postgres_is_one_clear_line_without_password() {
    let url = DatabaseUrl::parse("postgres://adosexo:topsecret@127.0.0.1:1/adosexo").expect("url");
    let error = Db::connect(&url, PoolOptions::default()).expect_err("nothing listens on port 1");
    let message = error.to_string();
    assert!(matches!(error, StartupError::Connect { .. }), "{message}");
    assert!(
        message.starts_with(
            "cannot connect to PostgreSQL at postgres://adosexo:***@127.0.0.1:1/adosexo: "
        ),
        "{message}"
    );
    assert!(!message.contains("topsecret"), "{message}");
    assert!(!message.contains('\n'), "{message}");
}

#[test]
fn wrong_postgres_password_is_reported() {
    // Only meaningful where a server runs; trust authentication accepts any
    // password, so this checks an unknown database instead.
    let Some(database) = TestDatabase::postgres().expect("reachable when set") else {
        return;
    };
    let url = crate::testing::with_database_name(database.url(), "adosexo_no_such_database");
    let error = Db::connect(
        &DatabaseUrl::parse(&url).expect("url"),
        PoolOptions::default(),
    )
    .expect_err("no such database");
    let message = error.to_string();
    assert!(message.contains("adosexo_no_such_database"), "{message}");
    assert!(
        message.starts_with("cannot connect to PostgreSQL"),
        "{message}"
    );
}

#[test]
fn sqlite_folder_is_created_on_first_run() {
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("nested/data/adosexo.db");
    let url = DatabaseUrl::parse(&format!("sqlite://{}", path.display())).expect("url");
    let db = Db::connect(&url, PoolOptions::default()).expect("connect");
    db.migrate().expect("migrate");
    assert!(path.exists());
}

#[test]
fn unwritable_sqlite_location_is_one_clear_line() {
    let url = DatabaseUrl::parse("sqlite:///proc/adosexo/data.db").expect("url");
    let message = Db::connect(&url, PoolOptions::default())
        .expect_err("cannot create")
        .to_string();
    assert!(
        message.starts_with("cannot create the folder /proc/adosexo"),
        "{message}"
    );
}

/// A verification running while entries are appended (a live server) sees
/// one consistent chain, not a head ahead of or behind its entries.
#[test]
fn audit_verification_reads_one_snapshot_while_entries_are_appended() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};

    use crate::audit::{self, NewAuditEntry, Verification};
    on_each_backend(|db, backend| {
        db.migrate().expect("migrate");
        let stop = Arc::new(AtomicBool::new(false));
        let appender = {
            let (db, stop) = (db.clone(), Arc::clone(&stop));
            std::thread::spawn(move || {
                let entry = NewAuditEntry {
                    action: "read".into(),
                    resource_type: "account".into(),
                    outcome: "success".into(),
                    ..Default::default()
                };
                let mut appended = 0_u32;
                while !stop.load(Ordering::Relaxed) {
                    let entry = entry.clone();
                    db.run_blocking(move |conn| audit::append(conn, &[entry], chrono::Utc::now()))
                        .expect("append");
                    appended += 1;
                    std::thread::sleep(std::time::Duration::from_micros(200));
                }
                appended
            })
        };
        for round in 0..100 {
            let verified = block_on(db.run(audit::verify_chain)).expect("verify");
            assert!(
                matches!(verified, Verification::Intact { .. }),
                "{backend}, round {round}: {verified:?}"
            );
        }
        stop.store(true, Ordering::Relaxed);
        let appended = appender.join().expect("appender");
        assert!(appended > 0, "{backend}: entries were appended meanwhile");
    });
}

#[test]
fn audit_chain_appends_verifies_and_purges() {
    use crate::audit::{self, NewAuditEntry, Verification};
    on_each_backend(|db, backend| {
        db.migrate().expect("migrate");
        let entry = |action: &str| NewAuditEntry {
            actor_id: Some("acct".into()),
            action: action.into(),
            resource_type: "account".into(),
            resource_id: Some("r".into()),
            outcome: "success".into(),
            ..Default::default()
        };
        let t0 = chrono::DateTime::parse_from_rfc3339("2026-01-01T10:00:00.123456Z")
            .expect("time")
            .to_utc();
        let t1 = t0 + chrono::Duration::days(10);
        block_on(
            db.run(move |conn| audit::append(conn, &[entry("a"), entry("b"), entry("c")], t0)),
        )
        .expect("append");
        block_on(db.run(move |conn| audit::append(conn, &[entry("d"), entry("e")], t1)))
            .expect("append");
        let verified = block_on(db.run(audit::verify_chain)).expect("verify");
        assert!(
            matches!(verified, Verification::Intact { checked: 5 }),
            "{backend}: {verified:?}"
        );

        let purged =
            block_on(db.run(move |conn| audit::purge_before(conn, t0 + chrono::Duration::days(1))))
                .expect("purge");
        assert_eq!(purged, 3, "{backend}");
        let verified = block_on(db.run(audit::verify_chain)).expect("verify");
        assert!(
            matches!(verified, Verification::Intact { checked: 2 }),
            "{backend}: {verified:?}"
        );
        assert_eq!(
            block_on(db.run(move |conn| audit::purge_before(conn, t0))).expect("purge"),
            0
        );

        block_on(db.run(move |conn| audit::append(conn, &[entry("f")], t1))).expect("append");
        let verified = block_on(db.run(audit::verify_chain)).expect("verify");
        assert!(
            matches!(verified, Verification::Intact { checked: 3 }),
            "{backend}: {verified:?}"
        );
        let newest = block_on(db.run(|conn| {
            audit::list(
                conn,
                &audit::AuditFilter {
                    limit: 1,
                    ..Default::default()
                },
            )
        }))
        .expect("list");
        assert_eq!(
            newest[0].seq, 6,
            "{backend}: sequence goes on after a purge"
        );
        assert_eq!(
            newest[0].at,
            crate::time::to_db(t1),
            "{backend}: microseconds survive"
        );
    });
}

#[test]
fn concurrent_appends_never_fork_the_chain() {
    use crate::audit::{self, NewAuditEntry, Verification};
    on_each_backend(|db, backend| {
        db.migrate().expect("migrate");
        let threads: Vec<_> = (0..8)
            .map(|i| {
                let db = db.clone();
                std::thread::spawn(move || {
                    for j in 0..10 {
                        let entry = NewAuditEntry {
                            action: format!("t{i}-{j}"),
                            resource_type: "test".into(),
                            outcome: "success".into(),
                            ..Default::default()
                        };
                        block_on(
                            db.run(move |conn| audit::append(conn, &[entry], chrono::Utc::now())),
                        )
                        .expect("append");
                    }
                })
            })
            .collect();
        for thread in threads {
            thread.join().expect("thread");
        }
        let verified = block_on(db.run(audit::verify_chain)).expect("verify");
        assert!(
            matches!(verified, Verification::Intact { checked: 80 }),
            "{backend}: {verified:?}"
        );
    });
}

#[test]
fn overlapping_staff_bookings_are_refused_by_the_database() {
    use crate::schedule::{BookingRow, NO_OVERLAP, insert_bookings};
    use chrono::NaiveDate;
    on_each_backend(|db, backend| {
        db.migrate().expect("migrate");
        fn booking(id: &str, account: &str, from: (u32, u32), to: (u32, u32)) -> BookingRow {
            let at = |(h, m): (u32, u32)| {
                NaiveDate::from_ymd_opt(2027, 3, 9)
                    .and_then(|d| d.and_hms_opt(h, m, 0))
                    .expect("time")
            };
            BookingRow {
                id: id.into(),
                account_id: account.into(),
                starts_at: at(from),
                ends_at: at(to),
                appointment_id: None,
                group_session_id: None,
            }
        }
        // Bookings reference accounts.
        let ids = block_on(db.run(|conn| {
            diesel::sql_query(
                "INSERT INTO organisations (id, name, kind, departement_code, shares_secrecy, status, version, created_at, updated_at) \
                 VALUES ('org', 'Org', 'programme', '75', true, 'active', 1, '2027-01-01 00:00:00', '2027-01-01 00:00:00')",
            )
            .execute(conn)?;
            for id in ["acc-a", "acc-b"] {
                diesel::sql_query(format!(
                        "INSERT INTO accounts (id, email, display_name, organisation_id, roles, territory, status, totp_enabled, version, created_at, updated_at) \
                         VALUES ('{id}', '{id}@example.org', 'X', 'org', 'coordinator', '75', 'active', false, 1, '2027-01-01 00:00:00', '2027-01-01 00:00:00')"
                ))
                .execute(conn)?;
            }
            Ok::<_, crate::PersistenceError>(("acc-a".to_owned(), "acc-b".to_owned()))
        }))
        .unwrap_or_else(|e| panic!("{backend}: {e}"));
        let (a, b) = ids;
        let first = booking("1", &a, (10, 0), (11, 0));
        block_on(db.run(move |conn| insert_bookings(conn, &mut [first]))).expect("first");
        // Touching is not overlapping; another staff member is free.
        let more = [
            booking("2", &a, (11, 0), (12, 0)),
            booking("3", &b, (10, 30), (11, 30)),
        ];
        block_on(db.run(move |conn| insert_bookings(conn, &mut more.clone())))
            .unwrap_or_else(|e| panic!("{backend}: {e}"));
        for (id, from, to) in [
            ("4", (10, 30), (10, 45)),
            ("5", (9, 0), (13, 0)),
            ("6", (11, 59), (12, 30)),
        ] {
            let one = booking(id, &a, from, to);
            let refused = block_on(db.run(move |conn| insert_bookings(conn, &mut [one])));
            match refused {
                Err(crate::PersistenceError::Constraint(name)) => {
                    assert_eq!(name, NO_OVERLAP, "{backend}")
                }
                other => panic!("{backend}: expected the overlap to be refused, got {other:?}"),
            }
        }
    });
}

#[test]
fn bookings_last_at_most_a_day_and_overnight_overlaps_are_still_refused() {
    use crate::schedule::{BookingRow, NO_OVERLAP, insert_bookings};
    use chrono::NaiveDate;
    on_each_backend(|db, backend| {
        db.migrate().expect("migrate");
        let at = |day: u32, h: u32| {
            NaiveDate::from_ymd_opt(2027, 3, day)
                .and_then(|d| d.and_hms_opt(h, 0, 0))
                .expect("time")
        };
        let booking = |id: &str, from, to| BookingRow {
            id: id.into(),
            account_id: "acc-n".into(),
            starts_at: from,
            ends_at: to,
            appointment_id: None,
            group_session_id: None,
        };
        block_on(db.run(|conn| {
            diesel::sql_query(
                "INSERT INTO organisations (id, name, kind, departement_code, shares_secrecy, status, version, created_at, updated_at) \
                 VALUES ('org-n', 'Org', 'programme', '75', true, 'active', 1, '2027-01-01 00:00:00', '2027-01-01 00:00:00')",
            )
            .execute(conn)?;
            diesel::sql_query(
                "INSERT INTO accounts (id, email, display_name, organisation_id, roles, territory, status, totp_enabled, version, created_at, updated_at) \
                 VALUES ('acc-n', 'n@example.org', 'N', 'org-n', 'coordinator', '75', 'active', false, 1, '2027-01-01 00:00:00', '2027-01-01 00:00:00')",
            )
            .execute(conn)?;
            Ok::<_, crate::PersistenceError>(())
        }))
        .unwrap_or_else(|e| panic!("{backend}: {e}"));
        // Longer than a day: refused (the bound the overlap check relies on).
        let long = booking("long", at(1, 8), at(2, 9));
        let refused = block_on(db.run(move |conn| insert_bookings(conn, &mut [long])));
        assert!(
            refused.is_err(),
            "{backend}: a 25-hour booking was accepted"
        );
        // An overnight booking started the day before still blocks the morning.
        let night = booking("night", at(8, 20), at(9, 6));
        block_on(db.run(move |conn| insert_bookings(conn, &mut [night])))
            .unwrap_or_else(|e| panic!("{backend}: {e}"));
        let morning = booking("morning", at(9, 5), at(9, 7));
        match block_on(db.run(move |conn| insert_bookings(conn, &mut [morning]))) {
            Err(crate::PersistenceError::Constraint(name)) => {
                assert_eq!(name, NO_OVERLAP, "{backend}")
            }
            other => panic!("{backend}: expected the overlap to be refused, got {other:?}"),
        }
        // And bookings_between finds it from the next morning on.
        let from = at(9, 0).and_utc();
        let found = block_on(db.run(move |conn| {
            crate::schedule::bookings_between(
                conn,
                &["acc-n".to_owned()],
                from,
                from + chrono::Duration::hours(1),
            )
        }))
        .unwrap_or_else(|e| panic!("{backend}: {e}"));
        assert_eq!(found.len(), 1, "{backend}");
    });
}

#[test]
fn bundled_sqlite_has_a_stable_planner_and_no_global_memory_statistics() {
    // `.cargo/config.toml` builds SQLite with these: without QPSG every
    // re-bound `LIMIT ?` marks a cached statement stale and SQLite parses it
    // again (half of an authenticated read's CPU, docs/PERFORMANCE.md).
    #[derive(QueryableByName)]
    struct CompileOption {
        #[diesel(sql_type = diesel::sql_types::Text)]
        compile_options: String,
    }
    let mut conn = diesel::SqliteConnection::establish(":memory:").expect("connect");
    let options: Vec<String> = diesel::sql_query("PRAGMA compile_options")
        .load::<CompileOption>(&mut conn)
        .expect("compile options")
        .into_iter()
        .map(|o| o.compile_options)
        .collect();
    assert!(options.iter().any(|o| o == "ENABLE_QPSG"), "{options:?}");
    assert!(
        options.iter().any(|o| o == "DEFAULT_MEMSTATUS=0"),
        "{options:?}"
    );
}

#[test]
fn sqlite_connections_get_their_pragmas() {
    #[derive(QueryableByName)]
    struct Value {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        value: i64,
    }
    let database = TestDatabase::sqlite().expect("sqlite");
    let db = Db::connect(
        &DatabaseUrl::parse(database.url()).expect("url"),
        PoolOptions::default(),
    )
    .expect("connect");
    let read = |pragma: &'static str| {
        // Each pragma's function names its one column after the pragma,
        // except busy_timeout's.
        let column = if pragma == "busy_timeout" {
            "timeout"
        } else {
            pragma
        };
        block_on(db.run(move |conn| {
            diesel::sql_query(format!("SELECT {column} AS value FROM pragma_{pragma}()"))
                .get_result::<Value>(conn)
                .map(|v| v.value)
                .map_err(crate::PersistenceError::from)
        }))
        .expect(pragma)
    };
    assert_eq!(read("journal_size_limit"), 64 * 1024 * 1024);
    assert_eq!(read("secure_delete"), 1);
    assert_eq!(read("foreign_keys"), 1);
    assert_eq!(read("busy_timeout"), 5000);
    // NORMAL
    assert_eq!(read("synchronous"), 1);
}

#[test]
fn lookups_by_person_use_an_index_on_sqlite() {
    // The planner's choice on an empty PostgreSQL table says nothing; SQLite
    // plans from the schema alone, so a full scan shows up here.
    #[derive(QueryableByName)]
    struct PlanStep {
        #[diesel(sql_type = diesel::sql_types::Text)]
        detail: String,
    }
    let database = TestDatabase::sqlite().expect("sqlite");
    let url = DatabaseUrl::parse(database.url()).expect("url");
    let db = Db::connect(&url, PoolOptions::default()).expect("connect");
    db.migrate().expect("migrate");
    for (table, index) in [
        ("referrals", "referrals_person_idx"),
        ("follow_ups", "follow_ups_person_idx"),
        ("follow_up_people", "follow_up_people_person_idx"),
        ("appointment_attendees", "appointment_attendees_person_idx"),
    ] {
        let sql = format!("EXPLAIN QUERY PLAN SELECT * FROM {table} WHERE person_id IN ('a', 'b')");
        let plan: Vec<String> = block_on(db.run(move |conn| {
            let crate::DbConnection::Sqlite(conn) = conn else {
                unreachable!("a SQLite database");
            };
            Ok::<_, crate::PersistenceError>(diesel::sql_query(sql).load::<PlanStep>(conn)?)
        }))
        .expect("plan")
        .into_iter()
        .map(|s| s.detail)
        .collect();
        assert!(
            plan.iter().any(|step| step.contains(index)),
            "{table}: {plan:?}"
        );
    }
}

#[test]
fn every_text_column_is_in_the_inventory_of_personal_data() {
    on_each_backend(|db, backend| {
        db.migrate().expect("migrate");
        let columns = block_on(db.run(crate::testing::text_columns)).expect("columns");
        assert!(
            columns.len() > 100,
            "{backend}: {} text columns",
            columns.len()
        );
        let unclassified: Vec<String> = columns
            .iter()
            .filter(|(table, column)| {
                !crate::inventory::table(table).is_some_and(|t| t.classifies(column))
            })
            .map(|(table, column)| format!("{table}.{column}"))
            .collect();
        assert!(
            unclassified.is_empty(),
            "{backend}: text columns the inventory (persistence/src/inventory.rs) does not classify: {unclassified:?}"
        );
        // And the inventory names nothing that does not exist (a renamed
        // column would leave its erasure rule behind).
        for table in crate::inventory::TABLES {
            for column in table
                .columns
                .iter()
                .map(|c| c.name)
                .chain(table.not_about_people_in_care.iter().copied())
            {
                let exists = columns.iter().any(|(t, c)| t == table.name && c == column)
                    || (table.name == "people" && column == "birth_year");
                assert!(
                    exists,
                    "{backend}: the inventory names {}.{column}, which is not a text column",
                    table.name
                );
            }
        }
    });
}
