//! Statistics: every published figure equals a count made here from the raw
//! rows; small counts (k = 3 in tests) are suppressed, and no line with a
//! published total hides exactly one figure.

use std::collections::BTreeMap;

use adosexo_domain::referral::Birth;
use adosexo_persistence::testing::execute_sql;
use chrono::{Datelike, NaiveDate, NaiveDateTime};
use serde_json::Value;

use crate::helpers::TestApp;

const K: u64 = 3;

/// A small deterministic generator (also the intruder's).
#[derive(Debug)]
pub(crate) struct Lcg(pub(crate) u64);

impl Lcg {
    pub(crate) fn next(&mut self, n: usize) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        ((self.0 >> 33) % n as u64) as usize
    }
    pub(crate) fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.next(items.len())]
    }
}

const DEPARTEMENTS: [(&str, &str); 4] = [("75", "11"), ("93", "11"), ("13", "93"), ("69", "84")];

fn region_of(departement: &str) -> &'static str {
    DEPARTEMENTS
        .iter()
        .find(|(d, _)| *d == departement)
        .map(|(_, r)| *r)
        .expect("known département")
}

#[derive(Clone, Debug)]
struct Referral {
    at: NaiveDateTime,
    departement: String,
    public: String,
    context: String,
    source: String,
    status: String,
    gender: Option<String>,
    birth: Option<Birth>,
}

#[derive(Clone, Debug)]
struct FollowUp {
    opened: NaiveDateTime,
    updated: NaiveDateTime,
    departement: String,
    status: String,
    reason: Option<String>,
    gender: Option<String>,
}

#[derive(Clone, Debug)]
struct Appointment {
    at: NaiveDateTime,
    departement: String,
    mode: String,
    status: String,
}

#[derive(Clone, Debug)]
struct Group {
    at: NaiveDateTime,
    departement: String,
    kind: String,
    status: String,
    heads: u64,
}

fn at(rng: &mut Lcg) -> NaiveDateTime {
    // January to June 2026, plus a few rows outside the range.
    let month = 1 + rng.next(7) as u32; // 7 = July: outside
    let day = 1 + rng.next(28) as u32;
    NaiveDate::from_ymd_opt(2026, month, day)
        .and_then(|d| d.and_hms_opt(rng.next(24) as u32, rng.next(60) as u32, 0))
        .expect("date")
}

fn ts(t: NaiveDateTime) -> String {
    t.format("%Y-%m-%d %H:%M:%S").to_string()
}

fn sql_text(value: Option<&str>) -> String {
    value.map_or_else(|| "NULL".to_owned(), |v| format!("'{v}'"))
}

fn label(period: &str, t: NaiveDateTime) -> String {
    match period {
        "month" => format!("{:04}-{:02}", t.year(), t.month()),
        "quarter" => format!("{:04}-Q{}", t.year(), t.month().div_ceil(3)),
        _ => format!("{:04}", t.year()),
    }
}

/// Inside the range asked (January to June 2026), widened to whole periods.
fn in_range(period: &str, t: NaiveDateTime) -> bool {
    t.year() == 2026 && (period == "year" || t.month() <= 6)
}

fn age_band(birth: Option<Birth>, t: NaiveDateTime) -> &'static str {
    let Some(birth) = birth else {
        return "unknown";
    };
    match birth.youngest_age_on((t.year(), t.month(), t.day())) {
        ..13 => "under_13",
        13..=14 => "13_14",
        15..=17 => "15_17",
        18..=21 => "18_21",
        _ => "22_and_over",
    }
}

static SEEN: std::sync::Mutex<(u64, u64)> = std::sync::Mutex::new((0, 0));

/// Compares a published table with the expected counts per (period, column).
fn check(table: &Value, expected: &BTreeMap<(String, String), u64>, periods: &[String]) {
    let columns: Vec<String> = table["columns"]
        .as_array()
        .expect("columns")
        .iter()
        .map(|c| c.as_str().expect("column").to_owned())
        .collect();
    // Every category with a count is a column.
    for (_, column) in expected.keys() {
        assert!(columns.contains(column), "{column} missing in {table}");
    }
    let rows = table["rows"].as_array().expect("rows");
    assert_eq!(
        rows.iter()
            .map(|r| r["period"].as_str().expect("period").to_owned())
            .collect::<Vec<_>>(),
        periods
    );
    let figure = |f: &Value, truth: u64, what: &str| {
        let suppressed = f["suppressed"].as_bool().expect("flag");
        if let Ok(mut seen) = SEEN.lock() {
            if suppressed {
                seen.0 += 1;
            } else if truth > 0 {
                seen.1 += 1;
            }
        }
        if suppressed {
            assert!(f["value"].is_null(), "{what}: {f}");
            assert_ne!(truth, 0, "{what}: a zero is published");
        } else {
            assert_eq!(f["value"].as_u64(), Some(truth), "{what} in {table}");
            assert!(
                !(1..K).contains(&truth),
                "{what}: small count {truth} published"
            );
        }
        suppressed
    };
    let get = |p: &str, c: &str| {
        expected
            .get(&(p.to_owned(), c.to_owned()))
            .copied()
            .unwrap_or(0)
    };
    for row in rows {
        let period = row["period"].as_str().expect("period");
        let mut hidden = 0;
        for (cell, column) in row["cells"].as_array().expect("cells").iter().zip(&columns) {
            if figure(cell, get(period, column), &format!("{period}/{column}")) {
                hidden += 1;
            }
        }
        let total: u64 = columns.iter().map(|c| get(period, c)).sum();
        // Régions are sums of départements' published figures: a lone
        // hidden région behind a published total equals what the
        // départements' table already gives (the sum of its hidden cells),
        // so only the base tables must never show one.
        if !figure(&row["total"], total, &format!("{period}/total")) && table["by"] != "region" {
            assert_ne!(
                hidden, 1,
                "{period}: one hidden figure behind a published total"
            );
        }
    }
    assert!(table.get("total").is_none() && table.get("column_totals").is_none());
}

fn tally<T>(
    items: &[T],
    period: &str,
    time: impl Fn(&T) -> NaiveDateTime,
    keep: impl Fn(&T) -> bool,
    column: impl Fn(&T) -> String,
    weight: impl Fn(&T) -> u64,
) -> BTreeMap<(String, String), u64> {
    let mut out = BTreeMap::new();
    for item in items
        .iter()
        .filter(|i| in_range(period, time(i)) && keep(i))
    {
        *out.entry((label(period, time(item)), column(item)))
            .or_default() += weight(item);
    }
    out
}

fn periods(period: &str) -> Vec<String> {
    match period {
        "month" => (1..=6).map(|m| format!("2026-{m:02}")).collect(),
        "quarter" => vec!["2026-Q1".into(), "2026-Q2".into()],
        _ => vec!["2026".into()],
    }
}

async fn published_figures_equal_counts_from_raw_rows(app: TestApp) {
    let world = app.world().await;
    let analyst = world.token("analyst").to_owned();
    let lead = world.account("supervisor").to_owned();
    let mut rng = Lcg(8);
    let mut sql = String::new();

    let mut referrals = Vec::new();
    let mut follow_ups = Vec::new();
    for i in 0..160 {
        let departement = DEPARTEMENTS[rng.next(4)].0.to_owned();
        let gender = [None, Some("female"), Some("male"), Some("non_binary")][rng.next(4)]
            .map(str::to_owned);
        let birth = match rng.next(3) {
            0 => None,
            1 => Some(Birth::Year(2004 + rng.next(14) as i32)),
            _ => Some(Birth::Date {
                year: 2004 + rng.next(14) as i32,
                month: 1 + rng.next(12) as u32,
                day: 1 + rng.next(28) as u32,
            }),
        };
        let (birth_date, birth_year) = match birth {
            Some(Birth::Date { year, month, day }) => {
                (Some(format!("{year:04}-{month:02}-{day:02}")), None)
            }
            Some(Birth::Year(y)) => (None, Some(y)),
            None => (None, None),
        };
        let person = format!("00000000-0000-4000-8000-{i:012}");
        sql.push_str(&format!(
            "INSERT INTO people (id, kind, first_name, name_key, birth_date, birth_year, gender, \
             created_at, updated_at) VALUES ('{person}', 'young_person', 'X', 'x', {}, {}, {}, \
             '2026-01-01 00:00:00', '2026-01-01 00:00:00');\n",
            sql_text(birth_date.as_deref()),
            birth_year.map_or("NULL".to_owned(), |y| y.to_string()),
            sql_text(gender.as_deref()),
        ));
        let referral = Referral {
            at: at(&mut rng),
            departement: departement.clone(),
            public: rng
                .pick(&["young_person", "relative", "professional"])
                .into(),
            context: rng
                .pick(&["pre_prostitution", "prostitution", "unknown"])
                .into(),
            source: rng
                .pick(&["partner_organisation", "parent", "young_person"])
                .into(),
            status: rng
                .pick(&[
                    "submitted",
                    "accepted",
                    "accepted",
                    "declined",
                    "redirected",
                ])
                .into(),
            gender: gender.clone(),
            birth,
        };
        sql.push_str(&format!(
            "INSERT INTO referrals (id, reference, public, context, source_kind, submitted_by_id, \
             submitted_by_kind, person_id, departement_code, risk_indicators, summary, urgency, \
             status, protection_required, version, created_at, updated_at) VALUES \
             ('10000000-0000-4000-8000-{i:012}', 'R-{i}', '{}', '{}', '{}', 'x', 'account', \
             '{person}', '{departement}', '', 's', 'routine', '{}', FALSE, 1, '{}', '{}');\n",
            referral.public,
            referral.context,
            referral.source,
            referral.status,
            ts(referral.at),
            ts(referral.at),
        ));
        if i % 2 == 0 {
            let opened = at(&mut rng);
            let closed = rng.next(2) == 0;
            let reason = closed.then(|| {
                rng.pick(&["goals_reached", "moved_away", "contact_lost"])
                    .to_owned()
            });
            let updated = if closed {
                at(&mut rng).max(opened)
            } else {
                opened
            };
            let follow_up = FollowUp {
                opened,
                updated,
                departement: departement.clone(),
                status: if closed { "closed" } else { "active" }.into(),
                reason,
                gender,
            };
            sql.push_str(&format!(
                "INSERT INTO follow_ups (id, reference, person_id, departement_code, lead_staff_id, \
                 status, closure_reason, version, created_at, updated_at) VALUES \
                 ('20000000-0000-4000-8000-{i:012}', 'F-{i}', '{person}', '{departement}', \
                 '{lead}', '{}', {}, 1, '{}', '{}');\n",
                follow_up.status,
                sql_text(follow_up.reason.as_deref()),
                ts(follow_up.opened),
                ts(follow_up.updated),
            ));
            follow_ups.push(follow_up);
        }
        referrals.push(referral);
    }
    let mut appointments = Vec::new();
    for i in 0..120 {
        let appointment = Appointment {
            at: at(&mut rng),
            departement: DEPARTEMENTS[rng.next(4)].0.into(),
            mode: rng.pick(&["permanence", "phone", "home"]).into(),
            status: rng
                .pick(&[
                    "scheduled",
                    "completed",
                    "completed",
                    "no_show",
                    "cancelled",
                ])
                .into(),
        };
        let end = appointment.at + chrono::Duration::hours(1);
        sql.push_str(&format!(
            "INSERT INTO appointments (id, mode, title, departement_code, starts_at, ends_at, status, \
             confirmation, first_meeting, created_by, version, created_at, updated_at) VALUES \
             ('30000000-0000-4000-8000-{i:012}', '{}', 't', '{}', '{}', '{}', '{}', 'confirmed', \
             FALSE, 'x', 1, '{}', '{}');\n",
            appointment.mode,
            appointment.departement,
            ts(appointment.at),
            ts(end),
            appointment.status,
            ts(appointment.at),
            ts(appointment.at),
        ));
        appointments.push(appointment);
    }
    let mut groups = Vec::new();
    for i in 0..60 {
        let group = Group {
            at: at(&mut rng),
            departement: DEPARTEMENTS[rng.next(4)].0.into(),
            kind: rng
                .pick(&["parent_group", "prevention_workshop", "awareness_session"])
                .into(),
            status: rng.pick(&["held", "held", "planned", "cancelled"]).into(),
            heads: 0,
        };
        let end = group.at + chrono::Duration::hours(2);
        let id = format!("40000000-0000-4000-8000-{i:012}");
        sql.push_str(&format!(
            "INSERT INTO group_sessions (id, kind, title, mode, departement_code, starts_at, ends_at, \
             days, audience, status, created_by, version, created_at, updated_at) VALUES \
             ('{id}', '{}', 't', 'in_person', '{}', '{}', '{}', 1, 'parents', '{}', 'x', 1, '{}', '{}');\n",
            group.kind,
            group.departement,
            ts(group.at),
            ts(end),
            group.status,
            ts(group.at),
            ts(group.at),
        ));
        let mut heads = 0;
        for (category, band) in [("parents", "unknown"), ("professionals", "unknown")] {
            let n = rng.next(9) as u64;
            heads += n;
            sql.push_str(&format!(
                "INSERT INTO group_headcounts (group_session_id, category, age_band, head_count) \
                 VALUES ('{id}', '{category}', '{band}', {n});\n"
            ));
        }
        groups.push(Group { heads, ..group });
    }
    execute_sql(&app.db(), &sql).await.expect("generated data");

    let fetch = |path: String| {
        let app = &app;
        let analyst = analyst.clone();
        async move { app.get_json(&path, &analyst, 200).await }
    };

    // Referrals: every measure × every dimension, by month; some by quarter and year.
    let measures: [(&str, Option<&str>); 4] = [
        ("received", None),
        ("accepted", Some("accepted")),
        ("declined", Some("declined")),
        ("redirected", Some("redirected")),
    ];
    type Column = fn(&Referral) -> String;
    let dimensions: [(Option<&str>, Column); 8] = [
        (None, |_| "all".into()),
        (Some("departement"), |r| r.departement.clone()),
        (Some("region"), |r| region_of(&r.departement).into()),
        (Some("public"), |r| r.public.clone()),
        (Some("context"), |r| r.context.clone()),
        (Some("source"), |r| r.source.clone()),
        (Some("age_band"), |r| age_band(r.birth, r.at).into()),
        (Some("gender"), |r| {
            r.gender.clone().unwrap_or_else(|| "unknown".into())
        }),
    ];
    for (measure, status) in measures {
        for (by, column) in &dimensions {
            for period in ["month", "quarter", "year"] {
                if period != "month" && by.is_some_and(|b| b != "age_band") {
                    continue;
                }
                let mut path = format!(
                    "/api/v1/stats/referrals?from=2026-01&months=6&period={period}&measure={measure}"
                );
                if let Some(by) = by {
                    path.push_str(&format!("&by={by}"));
                }
                let table = fetch(path).await;
                assert_eq!(table["min_cell"], K);
                let expected = tally(
                    &referrals,
                    period,
                    |r| r.at,
                    |r| status.is_none_or(|s| r.status == s),
                    column,
                    |_| 1,
                );
                check(&table, &expected, &periods(period));
            }
        }
    }

    // A period reads the same whatever the range; quarters and years are
    // always whole.
    let wide = fetch("/api/v1/stats/referrals?from=2026-01&months=6&by=age_band".into()).await;
    let narrow = fetch("/api/v1/stats/referrals?from=2026-03&months=2&by=age_band".into()).await;
    let row = |t: &Value, p: &str| {
        let rows = t["rows"].as_array().expect("rows");
        let row = rows.iter().find(|r| r["period"] == p).expect("period");
        let columns = t["columns"].as_array().expect("columns");
        columns
            .iter()
            .zip(row["cells"].as_array().expect("cells"))
            .filter(|(_, c)| c["value"] != 0)
            .map(|(k, c)| (k.clone(), c.clone()))
            .chain([(Value::from("total"), row["total"].clone())])
            .collect::<Vec<_>>()
    };
    assert_eq!(row(&wide, "2026-03"), row(&narrow, "2026-03"));
    assert_eq!(row(&wide, "2026-04"), row(&narrow, "2026-04"));
    let quarter =
        fetch("/api/v1/stats/referrals?from=2026-02&months=1&period=quarter".into()).await;
    assert_eq!(quarter["from"], "2026-01");
    assert_eq!(quarter["to"], "2026-03");

    // Follow-ups opened (by opening) and closed (by closing), by reason and gender.
    for by in ["closure_reason", "gender", "region"] {
        let column = |f: &FollowUp| match by {
            "closure_reason" => f.reason.clone().unwrap_or_else(|| "unknown".into()),
            "gender" => f.gender.clone().unwrap_or_else(|| "unknown".into()),
            _ => region_of(&f.departement).into(),
        };
        let table = fetch(format!(
            "/api/v1/stats/follow-ups?from=2026-01&months=6&measure=opened&by={by}"
        ))
        .await;
        check(
            &table,
            &tally(&follow_ups, "month", |f| f.opened, |_| true, column, |_| 1),
            &periods("month"),
        );
        let table = fetch(format!(
            "/api/v1/stats/follow-ups?from=2026-01&months=6&period=quarter&measure=closed&by={by}"
        ))
        .await;
        check(
            &table,
            &tally(
                &follow_ups,
                "quarter",
                |f| f.updated,
                |f| f.status == "closed",
                column,
                |_| 1,
            ),
            &periods("quarter"),
        );
    }

    // Follow-ups open at each period's end.
    for period in ["month", "quarter"] {
        let table = fetch(format!(
            "/api/v1/stats/follow-ups?from=2026-01&months=6&period={period}&measure=active&by=gender"
        ))
        .await;
        let mut expected = BTreeMap::new();
        for label in periods(period) {
            let end = match label.as_str() {
                "2026-Q1" => "2026-04",
                "2026-Q2" => "2026-07",
                month => month,
            };
            let (year, month) = end.split_once('-').expect("month");
            let start =
                NaiveDate::from_ymd_opt(year.parse().expect("y"), month.parse().expect("m"), 1)
                    .expect("date");
            let end = if period == "month" {
                start
                    .checked_add_months(chrono::Months::new(1))
                    .expect("next")
            } else {
                start
            }
            .and_hms_opt(0, 0, 0)
            .expect("midnight");
            for f in &follow_ups {
                if f.opened < end && (f.status != "closed" || f.updated >= end) {
                    *expected
                        .entry((
                            label.clone(),
                            f.gender.clone().unwrap_or_else(|| "unknown".into()),
                        ))
                        .or_default() += 1;
                }
            }
        }
        // Totals of "active" over periods are sums of stocks: still checked as sums.
        check(&table, &expected, &periods(period));
    }

    // Appointments by mode and by status.
    for by in ["mode", "status", "departement"] {
        let table = fetch(format!(
            "/api/v1/stats/appointments?from=2026-01&months=6&by={by}"
        ))
        .await;
        let column = |a: &Appointment| match by {
            "mode" => a.mode.clone(),
            "status" => a.status.clone(),
            _ => a.departement.clone(),
        };
        check(
            &table,
            &tally(&appointments, "month", |a| a.at, |_| true, column, |_| 1),
            &periods("month"),
        );
    }

    // Group sessions held and people reached, by kind.
    for (measure, weight) in [
        ("held", (|_: &Group| 1) as fn(&Group) -> u64),
        ("people_reached", |g: &Group| g.heads),
    ] {
        let table = fetch(format!(
            "/api/v1/stats/group-sessions?from=2026-01&months=6&period=quarter&measure={measure}&by=kind"
        ))
        .await;
        check(
            &table,
            &tally(
                &groups,
                "quarter",
                |g| g.at,
                |g| g.status == "held",
                |g| g.kind.clone(),
                weight,
            ),
            &periods("quarter"),
        );
    }
    // The data exercised both sides: hidden figures and published ones.
    let (hidden, shown) = *SEEN.lock().expect("lock");
    assert!(hidden > 50 && shown > 200, "hidden {hidden}, shown {shown}");
}

async fn csv_says_what_json_says(app: TestApp) {
    let world = app.world().await;
    let supervisor = world.token("supervisor").to_owned();
    let path = "/api/v1/stats/referrals?from=2026-01&months=3&by=gender";
    let json = app.get_json(path, &supervisor, 200).await;
    let response = app
        .authed(reqwest::Method::GET, path, &supervisor)
        .header("Accept", "text/csv")
        .send()
        .await
        .expect("sent");
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers()["content-type"],
        "text/csv; charset=utf-8"
    );
    let body = response.text().await.expect("body");
    assert!(
        body.starts_with("period,gender,count,suppressed\r\n"),
        "{body}"
    );
    assert!(body.ends_with("\r\n"));
    // Empty database: three months, no category: the 3 period totals.
    let lines: Vec<&str> = body.trim_end_matches("\r\n").split("\r\n").collect();
    assert_eq!(
        lines.len(),
        1 + json["rows"].as_array().expect("rows").len()
    );
    assert_eq!(lines[1], "2026-01,total,0,false");
    // `format` (for clients that cannot set Accept) gives the same CSV, and
    // `format=json` wins over Accept.
    let response = app
        .authed(
            reqwest::Method::GET,
            &format!("{path}&format=csv"),
            &supervisor,
        )
        .send()
        .await
        .expect("sent");
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers()["content-type"],
        "text/csv; charset=utf-8"
    );
    assert_eq!(response.text().await.expect("body"), body);
    let response = app
        .authed(
            reqwest::Method::GET,
            &format!("{path}&format=json"),
            &supervisor,
        )
        .header("Accept", "text/csv")
        .send()
        .await
        .expect("sent");
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.json::<serde_json::Value>().await.expect("json"),
        json
    );
    assert_eq!(*lines.last().expect("line"), "2026-03,total,0,false");
}

async fn permanences_held_are_occurrences_not_cancelled(app: TestApp) {
    let world = app.world().await;
    let site = crate::scheduling::site(&app, &world, "Maison des ados", "93").await;
    let permanence = app
        .post_json(
            "/api/v1/permanences",
            world.token("coordinator"),
            serde_json::json!({
                "site_id": site, "title": "Mardis",
                "rrule": "FREQ=WEEKLY;BYDAY=TU", "dtstart": "2026-01-01",
                "part_of_day": "explicit", "start_time": "14:00", "end_time": "17:00",
                "audience": "all", "staff_ids": [world.account("coordinator")]
            }),
            201,
        )
        .await;
    let id = permanence["id"].as_str().expect("id");
    execute_sql(
        &app.db(),
        &format!(
            "INSERT INTO permanence_exceptions (permanence_id, original_date, kind, created_by, \
             created_at) VALUES ('{id}', '2026-02-03', 'cancelled', 'x', '2026-01-01 00:00:00');"
        ),
    )
    .await
    .expect("exception");
    // Independent count: Tuesdays of January–June 2026 but 3 February.
    let mut expected = BTreeMap::new();
    let mut day = NaiveDate::from_ymd_opt(2026, 1, 1).expect("date");
    while day < NaiveDate::from_ymd_opt(2026, 7, 1).expect("date") {
        if day.weekday() == chrono::Weekday::Tue
            && day != NaiveDate::from_ymd_opt(2026, 2, 3).expect("date")
        {
            *expected
                .entry((format!("2026-{:02}", day.month()), "93".to_owned()))
                .or_default() += 1;
        }
        day = day.succ_opt().expect("next");
    }
    let table = app
        .get_json(
            "/api/v1/stats/permanences?from=2026-01&months=6&by=departement",
            world.token("analyst"),
            200,
        )
        .await;
    assert_eq!(table["measure"], "permanences_held");
    check(&table, &expected, &periods("month"));
    assert_eq!(table["rows"][1]["total"]["value"], 3, "{table}");
}

/// 12 referrals in March 2026 (published), 1 in April (suppressed).
async fn seed_report_year(app: &TestApp) {
    let mut sql = String::new();
    // 12 referrals in March (published), 1 in April (suppressed).
    for i in 0..13 {
        let month = if i < 12 { 3 } else { 4 };
        sql.push_str(&format!(
            "INSERT INTO people (id, kind, first_name, name_key, created_at, updated_at) VALUES \
             ('00000000-0000-4000-8000-{i:012}', 'young_person', 'X', 'x', '2026-01-01 00:00:00', \
             '2026-01-01 00:00:00');\n\
             INSERT INTO referrals (id, reference, public, context, source_kind, submitted_by_id, \
             submitted_by_kind, person_id, departement_code, risk_indicators, summary, urgency, \
             status, protection_required, version, created_at, updated_at) VALUES \
             ('10000000-0000-4000-8000-{i:012}', 'R-{i}', 'young_person', 'unknown', 'parent', 'x', \
             'account', '00000000-0000-4000-8000-{i:012}', '75', '', 's', 'routine', 'submitted', \
             FALSE, 1, '2026-{month:02}-10 10:00:00', '2026-{month:02}-10 10:00:00');\n"
        ));
    }
    execute_sql(&app.db(), &sql).await.expect("data");
}

async fn annual_report_as_json_and_printable_html(app: TestApp) {
    let world = app.world().await;
    seed_report_year(&app).await;
    let analyst = world.token("analyst");
    let report = app
        .get_json("/api/v1/stats/report?year=2026", analyst, 200)
        .await;
    let months = &report["referrals_per_month"]["rows"];
    assert_eq!(months.as_array().map(Vec::len), Some(12));
    // April (1) is hidden; March (12) is published, so the year's total
    // (13) is hidden wherever it appears: 13 − 12 would give April away.
    assert_eq!(months[3]["total"]["suppressed"], true);
    assert_eq!(months[2]["total"]["value"], 12, "{report}");
    assert_eq!(months[4]["total"]["value"], 0);
    let published: i64 = months
        .as_array()
        .expect("months")
        .iter()
        .filter_map(|m| m["total"]["value"].as_i64())
        .sum();
    let hidden = months
        .as_array()
        .expect("months")
        .iter()
        .filter(|m| m["total"]["suppressed"] == true)
        .count();
    assert_eq!(hidden, 1, "{report}");
    assert_eq!(published, 12);
    assert_eq!(report["referrals_by_source"]["columns"][0], "parent");
    assert_eq!(
        report["referrals_by_source"]["rows"][0]["total"]["suppressed"],
        true
    );
    assert_eq!(
        report["referrals_by_source"]["rows"][0]["cells"][0]["suppressed"],
        true
    );
    assert_eq!(report["departements_reached"]["columns"][0], "75");
    let response = app
        .authed(
            reqwest::Method::GET,
            "/api/v1/stats/report?year=2026",
            analyst,
        )
        .header("Accept", "text/html")
        .send()
        .await
        .expect("sent");
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers()["content-type"],
        "text/html; charset=utf-8"
    );
    let html = response.text().await.expect("body");
    assert!(html.starts_with("<!DOCTYPE html>"));
    assert_eq!(html.matches("<svg").count(), 5, "{html}");
    let by_format = app
        .authed(
            reqwest::Method::GET,
            "/api/v1/stats/report?year=2026&format=html",
            analyst,
        )
        .send()
        .await
        .expect("sent");
    assert_eq!(
        by_format.headers()["content-type"],
        "text/html; charset=utf-8"
    );
    assert!(
        by_format
            .text()
            .await
            .expect("body")
            .starts_with("<!DOCTYPE html>")
    );
    assert!(
        html.contains("masqué") && !html.contains(">13</text>"),
        "{html}"
    );
    // Self-contained: no script, no external resource.
    assert!(!html.contains("<script") && !html.contains("src=") && !html.contains("href="));
}

async fn only_analysts_and_the_supervisor_read_statistics(app: TestApp) {
    let world = app.world().await;
    for (role, status) in [
        ("analyst", 200),
        ("supervisor", 200),
        ("coordinator", 403),
        ("admin", 403),
        ("partner_app", 403),
    ] {
        let response = app
            .authed(
                reqwest::Method::GET,
                "/api/v1/stats/appointments?from=2026-01",
                world.token(role),
            )
            .send()
            .await
            .expect("sent");
        assert_eq!(response.status().as_u16(), status, "{role}");
    }
    // Reads are audited (and so are refusals).
    let audit = app
        .get_json(
            "/api/v1/audit?resource_type=statistics",
            world.token("supervisor"),
            200,
        )
        .await;
    let text = audit.to_string();
    assert!(text.contains("read_statistics"), "{text}");
    assert!(text.contains(world.account("analyst")), "{text}");
    assert!(text.contains("appointments"), "{text}");

    // Bounds: at most 60 months, a month in 1900–2099.
    for query in [
        "from=2026-01&months=61",
        "from=2026-13",
        "from=2026-01&by=name",
    ] {
        let response = app
            .authed(
                reqwest::Method::GET,
                &format!("/api/v1/stats/referrals?{query}"),
                world.token("analyst"),
            )
            .send()
            .await
            .expect("sent");
        crate::helpers::problem(response, 400, "invalid-input").await;
    }
}

/// The printable report, rendered by a real headless browser: its five
/// charts are in the page it builds, and it paints a screenshot. Runs when
/// `ADOSEXO_TEST_BROWSER` names a Chromium binary (CI installs one).
async fn annual_report_renders_in_a_headless_browser(app: TestApp) {
    let Some(browser) = std::env::var("ADOSEXO_TEST_BROWSER")
        .ok()
        .filter(|b| !b.trim().is_empty())
    else {
        return;
    };
    let world = app.world().await;
    seed_report_year(&app).await;
    let html = app
        .authed(
            reqwest::Method::GET,
            "/api/v1/stats/report?year=2026",
            world.token("analyst"),
        )
        .header("Accept", "text/html")
        .send()
        .await
        .expect("sent")
        .text()
        .await
        .expect("body");
    let dir = std::env::temp_dir().join(format!("adosexo-report-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).expect("dir");
    let page = dir.join("report.html");
    std::fs::write(&page, &html).expect("page");
    let url = format!("file://{}", page.display());
    let run = |args: &[&str]| {
        std::process::Command::new(&browser)
            .args([
                "--headless=new",
                "--no-sandbox",
                "--disable-gpu",
                "--no-first-run",
            ])
            .args(args)
            .arg(&url)
            .output()
            .expect("the browser runs")
    };
    let dom = run(&["--dump-dom"]);
    assert!(
        dom.status.success(),
        "{}",
        String::from_utf8_lossy(&dom.stderr)
    );
    let dom = String::from_utf8_lossy(&dom.stdout);
    assert_eq!(
        dom.matches("<svg").count(),
        5,
        "five charts in the rendered page"
    );
    assert!(dom.matches("<rect").count() >= 5, "bars drawn");
    assert!(dom.contains("masqué") && dom.contains("Orientations reçues par mois"));
    let shot = dir.join("report.png");
    let screenshot = format!("--screenshot={}", shot.display());
    let painted = run(&[&screenshot, "--window-size=1000,1400"]);
    assert!(
        painted.status.success(),
        "{}",
        String::from_utf8_lossy(&painted.stderr)
    );
    let png = std::fs::read(&shot).expect("a screenshot");
    assert!(
        png.starts_with(b"\x89PNG") && png.len() > 10_000,
        "{} bytes",
        png.len()
    );
    std::fs::remove_dir_all(&dir).ok();
}

/// Permanence attendance (appointments at a permanence that took place)
/// and the no-show rate, against counts made here.
async fn permanence_attendance_and_no_show_rate(app: TestApp) {
    let world = app.world().await;
    let mut sql = String::new();
    // March 2026 in 75: 12 completed at a permanence, 4 completed at home,
    // 4 no-shows at a permanence; one completed at a permanence in April.
    let rows = [
        ("permanence", "completed", 3, 12),
        ("home", "completed", 3, 4),
        ("permanence", "no_show", 3, 4),
        ("permanence", "completed", 4, 1),
    ];
    let mut n = 0;
    for (mode, status, month, count) in rows {
        for _ in 0..count {
            n += 1;
            sql.push_str(&format!(
                "INSERT INTO appointments (id, mode, title, departement_code, starts_at, ends_at, \
                 status, confirmation, first_meeting, created_by, version, created_at, updated_at) \
                 VALUES ('40000000-0000-4000-8000-{n:012}', '{mode}', 't', '75', \
                 '2026-{month:02}-10 09:00:00', '2026-{month:02}-10 10:00:00', '{status}', \
                 'confirmed', FALSE, 'x', 1, '2026-01-01 00:00:00', '2026-01-01 00:00:00');\n"
            ));
        }
    }
    execute_sql(&app.db(), &sql).await.expect("data");
    let analyst = world.token("analyst");
    let attendance = app
        .get_json(
            "/api/v1/stats/permanences?measure=attendance&from=2026-03&months=1",
            analyst,
            200,
        )
        .await;
    assert_eq!(attendance["measure"], "permanence_attendance");
    assert_eq!(attendance["rows"][0]["total"]["value"], 12, "{attendance}");
    let by_status = app
        .get_json(
            "/api/v1/stats/appointments?by=status&from=2026-03&months=2",
            analyst,
            200,
        )
        .await;
    let march = &by_status["rows"][0];
    assert_eq!(march["total"]["value"], 20, "{by_status}");
    assert_eq!(march["no_show_rate"], 0.2, "4 of 20: {by_status}");
    // April: one appointment, hidden; no rate from hidden figures.
    let april = &by_status["rows"][1];
    assert_eq!(april["total"]["suppressed"], true);
    assert!(april.get("no_show_rate").is_none(), "{by_status}");
}

crate::both_backends!(
    permanence_attendance_and_no_show_rate,
    annual_report_renders_in_a_headless_browser,
    published_figures_equal_counts_from_raw_rows,
    csv_says_what_json_says,
    permanences_held_are_occurrences_not_cancelled,
    annual_report_as_json_and_printable_html,
    only_analysts_and_the_supervisor_read_statistics,
);
