//! The page's HTML, written from the same data as the public endpoints.
//! Every value is escaped; the list works without JavaScript and without
//! the map.

use std::fmt::Write as _;

use chrono::{DateTime, Datelike, FixedOffset, Timelike};

use super::assets;
use super::text::{Lang, Text};
use crate::config::MapTiles;
use crate::routes::public::{ContactView, DirectoryEntryView, SiteFeature};

/// Which parts of the page to show (embedding may pick some).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Sections {
    /// The permanences (map and list).
    pub permanences: bool,
    /// The team's contacts.
    pub contacts: bool,
    /// The directory.
    pub directory: bool,
}

impl Sections {
    /// Everything.
    pub const ALL: Self = Self {
        permanences: true,
        contacts: true,
        directory: true,
    };
}

/// Everything the page shows.
#[derive(Debug)]
pub struct PageData {
    /// Language.
    pub lang: Lang,
    /// Framed by another site (`/aide/embed/`).
    pub embed: bool,
    /// Parts shown.
    pub sections: Sections,
    /// Every département: `(code, name)`.
    pub departements: Vec<(String, String)>,
    /// The one asked for, if it exists: `(code, name)`.
    pub departement: Option<(String, String)>,
    /// A département was asked for that does not exist.
    pub unknown_departement: bool,
    /// The sites shown.
    pub sites: Vec<SiteFeature>,
    /// The team of the département asked for.
    pub contact: Option<ContactView>,
    /// Every contact (listed when no département is asked for; each site
    /// shows its département's).
    pub contacts: Vec<ContactView>,
    /// The directory search's words.
    pub q: String,
    /// Directory entries found.
    pub entries: Vec<DirectoryEntryView>,
    /// More entries exist than shown.
    pub more_entries: bool,
    /// The map's tile server, if the operator set one.
    pub tiles: Option<MapTiles>,
}

/// Text escaped for HTML content and quoted attribute values.
pub fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A query-string value, percent-encoded.
fn enc(text: &str) -> String {
    form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

/// A phone number for `tel:`: digits and a leading `+` only.
fn tel(phone: &str) -> String {
    phone
        .chars()
        .enumerate()
        .filter(|(i, c)| c.is_ascii_digit() || (*i == 0 && *c == '+'))
        .map(|(_, c)| c)
        .collect()
}

/// An address the page may link to: `http(s)://` only.
fn web_link(url: &str) -> Option<&str> {
    let lower = url.trim().to_ascii_lowercase();
    (lower.starts_with("https://") || lower.starts_with("http://")).then_some(url.trim())
}

fn count(template: &str, n: usize) -> String {
    template.replace("{n}", &n.to_string())
}

/// "mardi 9 décembre, 14 h 00 – 17 h 00" / "Tuesday 9 December, 14:00–17:00".
fn when(t: &Text, lang: Lang, start: DateTime<FixedOffset>, end: DateTime<FixedOffset>) -> String {
    let weekday = t
        .weekdays
        .get(start.weekday().num_days_from_monday() as usize)
        .copied()
        .unwrap_or_default();
    let month = t
        .months
        .get(start.month0() as usize)
        .copied()
        .unwrap_or_default();
    match lang {
        // No line break inside a time.
        Lang::Fr => format!(
            "{weekday} {}\u{a0}{month}, {}\u{a0}h\u{a0}{:02}\u{a0}– {}\u{a0}h\u{a0}{:02}",
            start.day(),
            start.hour(),
            start.minute(),
            end.hour(),
            end.minute()
        ),
        Lang::En => format!(
            "{weekday} {}\u{a0}{month}, {:02}:{:02}–{:02}:{:02}",
            start.day(),
            start.hour(),
            start.minute(),
            end.hour(),
            end.minute()
        ),
    }
}

/// The page's own address with these parameters (language kept).
fn href(data: &PageData, departement: Option<&str>, q: Option<&str>, lang: Lang) -> String {
    let mut out = if data.embed { "/aide/embed/" } else { "/aide/" }.to_owned();
    let mut params = Vec::new();
    if let Some(d) = departement {
        params.push(format!("departement={}", enc(d)));
    }
    if let Some(q) = q.filter(|q| !q.is_empty()) {
        params.push(format!("q={}", enc(q)));
    }
    if lang == Lang::En {
        params.push("lang=en".to_owned());
    }
    if !params.is_empty() {
        out.push('?');
        out.push_str(&params.join("&amp;"));
    }
    out
}

/// The whole document.
pub fn page(data: &PageData) -> String {
    let t = data.lang.text();
    let mut h = String::with_capacity(64 * 1024);
    let title = match &data.departement {
        Some((_, name)) => format!("{} — {} — Ado Sexo", t.title, name),
        None => format!("{} — Ado Sexo", t.title),
    };
    let other = match data.lang {
        Lang::Fr => Lang::En,
        Lang::En => Lang::Fr,
    };
    let dep_code = data.departement.as_ref().map(|(c, _)| c.as_str());
    let _ = write!(
        h,
        "<!doctype html>\n<html lang=\"{lang}\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{title}</title>\n<meta name=\"description\" content=\"{desc}\">\n\
         <meta name=\"referrer\" content=\"no-referrer\">\n\
         <link rel=\"icon\" href=\"data:,\">\n\
         <link rel=\"stylesheet\" href=\"{css}\">\n",
        lang = data.lang.tag(),
        title = esc(&title),
        desc = esc(t.intro),
        css = assets::url("aide.css"),
    );
    if data.tiles.is_some() && data.sections.permanences {
        let _ = writeln!(
            h,
            "<link rel=\"stylesheet\" href=\"{}\">\n<script defer src=\"{}\"></script>",
            assets::url("leaflet/leaflet.css"),
            assets::url("leaflet/leaflet.js")
        );
    }
    let _ = writeln!(
        h,
        "<script defer src=\"{}\"></script>\n</head>\n<body class=\"{}\">",
        assets::url("aide.js"),
        if data.embed { "embed" } else { "full" }
    );
    let _ = writeln!(h, "<a class=\"skip\" href=\"#contenu\">{}</a>", esc(t.skip));
    emergency_bar(&mut h, t);
    if !data.embed {
        let _ = writeln!(
            h,
            "<header class=\"top\"><div class=\"wrap\">\
             <p class=\"brand\">Ado Sexo</p>\
             <a class=\"lang\" href=\"{}\" hreflang=\"{}\" lang=\"{}\" aria-label=\"{}\">{}</a>\
             </div></header>",
            href(data, dep_code, Some(&data.q), other),
            other.tag(),
            other.tag(),
            esc(t.other_lang_label),
            esc(t.other_lang_name),
        );
    }
    let _ = writeln!(h, "<main id=\"contenu\" class=\"wrap\" tabindex=\"-1\">");
    if data.embed {
        let _ = writeln!(h, "<h1 class=\"visually-hidden\">{}</h1>", esc(t.title));
    } else {
        let _ = writeln!(
            h,
            "<h1>{}</h1>\n<p class=\"tagline\">{}</p>\n<p>{}</p>",
            esc(t.title),
            esc(t.tagline),
            esc(t.intro)
        );
        let _ = write!(
            h,
            "<nav aria-label=\"{}\"><ul class=\"jump\">",
            esc(t.nav_label)
        );
        for (shown, id, label) in [
            (data.sections.permanences, "permanences", t.permanences),
            (data.sections.contacts, "contacts", t.contacts),
            (data.sections.directory, "annuaire", t.directory),
        ] {
            if shown {
                let _ = write!(h, "<li><a href=\"#{id}\">{}</a></li>", esc(label));
            }
        }
        let _ = writeln!(h, "</ul></nav>");
    }
    if data.sections.permanences {
        permanences(&mut h, data, t);
    }
    if data.sections.contacts {
        contacts(&mut h, data, t);
    }
    if data.sections.directory {
        directory(&mut h, data, t);
    }
    let _ = writeln!(h, "</main>");
    footer(&mut h, data, t);
    let _ = writeln!(h, "</body>\n</html>");
    h
}

fn emergency_bar(h: &mut String, t: &Text) {
    let _ = writeln!(
        h,
        "<aside class=\"urgence\" aria-label=\"{label}\"><div class=\"wrap\">\
         <span class=\"lead\">{lead}</span> \
         <a href=\"tel:119\"><strong>119</strong> <span>{child}</span></a> \
         <a href=\"tel:17\"><strong>17</strong> <span>{police}</span></a> \
         <a href=\"tel:112\"><strong>112</strong> <span>{eu}</span></a>\
         </div></aside>",
        label = esc(t.emergency_label),
        lead = esc(t.emergency_lead),
        child = esc(t.child_danger),
        police = esc(t.police),
        eu = esc(t.emergency_eu),
    );
}

fn departement_form(h: &mut String, data: &PageData, t: &Text, action: &str, with_q: bool) {
    let id = if with_q {
        "dep-annuaire"
    } else {
        "dep-permanences"
    };
    let label = if with_q { t.directory } else { t.permanences };
    let _ = write!(
        h,
        "<form class=\"filter\" method=\"get\" action=\"{action}\" role=\"search\" aria-label=\"{}\">\
         <label for=\"{id}\">{}</label>\
         <select id=\"{id}\" name=\"departement\"><option value=\"\">{}</option>",
        esc(label),
        esc(t.departement),
        esc(t.all_departements)
    );
    let chosen = data.departement.as_ref().map(|(c, _)| c.as_str());
    for (code, name) in &data.departements {
        let selected = if Some(code.as_str()) == chosen {
            " selected"
        } else {
            ""
        };
        let _ = write!(
            h,
            "<option value=\"{c}\"{selected}>{c} — {n}</option>",
            c = esc(code),
            n = esc(name)
        );
    }
    let _ = write!(h, "</select>");
    if with_q {
        let _ = write!(
            h,
            "<label for=\"q\">{}</label>\
             <input id=\"q\" name=\"q\" type=\"search\" value=\"{}\" maxlength=\"200\" aria-describedby=\"q-hint\" autocomplete=\"off\">\
             <p id=\"q-hint\" class=\"hint\">{}</p>",
            esc(t.search),
            esc(&data.q),
            esc(t.search_hint)
        );
    } else if !data.q.is_empty() {
        let _ = write!(
            h,
            "<input type=\"hidden\" name=\"q\" value=\"{}\">",
            esc(&data.q)
        );
    }
    if data.lang == Lang::En {
        let _ = write!(h, "<input type=\"hidden\" name=\"lang\" value=\"en\">");
    }
    let _ = writeln!(
        h,
        "<button type=\"submit\">{}</button></form>",
        esc(if with_q { t.search_button } else { t.show })
    );
}

fn permanences(h: &mut String, data: &PageData, t: &Text) {
    let action = if data.embed { "/aide/embed/" } else { "/aide/" };
    let _ = writeln!(
        h,
        "<section id=\"permanences\" aria-labelledby=\"permanences-titre\">\n\
         <h2 id=\"permanences-titre\">{}</h2>\n<p>{}</p>",
        esc(t.permanences),
        esc(t.permanences_intro)
    );
    if data.unknown_departement {
        let _ = writeln!(
            h,
            "<p class=\"notice\" role=\"alert\">{}</p>",
            esc(t.unknown_departement)
        );
    }
    let _ = writeln!(
        h,
        "<div class=\"near\" id=\"near\" hidden data-locating=\"{}\" data-denied=\"{}\" data-sorted=\"{}\" data-km=\"{}\" data-next=\"{}\" data-see=\"{}\">\
         <button type=\"button\" id=\"near-button\" aria-describedby=\"near-hint\">{}</button>\
         <p id=\"near-hint\" class=\"hint\">{}</p>\
         <p id=\"near-status\" role=\"status\" aria-live=\"polite\"></p></div>",
        esc(t.locating),
        esc(t.location_denied),
        esc(t.sorted),
        esc(t.km),
        esc(t.next_date),
        esc(t.see_nearest),
        esc(t.near_me),
        esc(t.near_me_hint),
    );
    departement_form(h, data, t, &format!("{action}#permanences"), false);
    if let Some(tiles) = &data.tiles {
        let _ = writeln!(
            h,
            "<div class=\"map-box\" id=\"map-box\" hidden><p class=\"hint\">{}</p>\
             <div id=\"map\" role=\"region\" aria-label=\"{}\" data-tiles=\"{}\" data-attribution=\"{}\"></div></div>",
            esc(t.map_mobile),
            esc(t.map_label),
            esc(&tiles.url),
            esc(&tiles.attribution),
        );
    }
    let n = data.sites.len();
    let mut heading = if n == 1 {
        t.sites_count_one.to_owned()
    } else {
        count(t.sites_count, n)
    };
    if let Some((code, name)) = &data.departement {
        heading.push(' ');
        heading.push_str(
            &t.in_departement
                .replace("{name}", &format!("{name} ({code})")),
        );
    }
    let _ = writeln!(
        h,
        "<h3 id=\"sites-count\" class=\"count\">{}</h3>",
        esc(&heading)
    );
    if let Some((code, _)) = &data.departement {
        let _ = writeln!(
            h,
            "<p class=\"actions\"><a href=\"/api/v1/public/calendars/departements/{}\" type=\"text/calendar\">{}</a> · <a href=\"{}#permanences\">{}</a></p>",
            enc(code),
            esc(t.subscribe_departement),
            href(data, None, Some(&data.q), data.lang),
            esc(t.show_all)
        );
    }
    if n == 0 {
        let _ = writeln!(h, "<p class=\"notice\">{}</p>", esc(t.no_site));
    }
    let _ = writeln!(
        h,
        "<ol class=\"sites\" id=\"sites-list\" aria-labelledby=\"sites-count\">"
    );
    for site in &data.sites {
        site_item(h, data, t, site);
    }
    let _ = writeln!(h, "</ol>\n</section>");
}

fn site_item(h: &mut String, data: &PageData, t: &Text, site: &SiteFeature) {
    let p = &site.properties;
    let [lon, lat] = site.geometry.coordinates;
    let id = esc(&site.id);
    let _ = write!(
        h,
        "<li class=\"site\" id=\"site-{id}\" data-lat=\"{lat}\" data-lon=\"{lon}\" data-departement=\"{dep}\">\
         <article aria-labelledby=\"site-{id}-name\"><h4 id=\"site-{id}-name\">{name}</h4>\
         <p class=\"kind\">{kind} · {dep_label} {dep}<span class=\"distance\"></span></p>\
         <p class=\"address\">{address}<br>{postcode} {city}</p>",
        name = esc(&p.name),
        kind = esc(t.kind(&p.kind.0.to_string())),
        dep_label = esc(t.departement),
        dep = esc(&p.departement_code),
        address = esc(&p.address),
        postcode = esc(&p.postcode),
        city = esc(&p.city),
    );
    if let Some(access) = p.accessibility.as_deref().filter(|a| !a.trim().is_empty()) {
        let _ = write!(
            h,
            "<p class=\"access\"><span>{}</span> {}</p>",
            esc(t.access),
            esc(access)
        );
    }
    if p.next_occurrences.is_empty() {
        let _ = write!(h, "<p class=\"dates none\">{}</p>", esc(t.no_date));
    } else {
        let _ = write!(
            h,
            "<p class=\"dates-title\">{}</p><ul class=\"dates\">",
            esc(t.next_dates)
        );
        for o in &p.next_occurrences {
            let _ = write!(
                h,
                "<li><time datetime=\"{}\">{}</time> <span class=\"audience\">{}</span></li>",
                o.starts_at.to_rfc3339(),
                esc(&when(t, data.lang, o.starts_at, o.ends_at)),
                esc(t.audience(&o.audience.0.to_string())),
            );
        }
        let _ = write!(h, "</ul>");
    }
    // The team answering for the site's département (or the national one):
    // a tap away from the permanence found.
    let team = data
        .contacts
        .iter()
        .find(|c| c.scope == p.departement_code)
        .or_else(|| {
            data.contacts
                .iter()
                .find(|c| c.scope == adosexo_domain::public::NATIONAL)
        });
    if let Some(team) = team {
        let _ = write!(
            h,
            "<p class=\"call\">{} <a class=\"tel\" href=\"tel:{}\">{}</a></p>",
            esc(t.call_team),
            esc(&tel(&team.phone)),
            esc(&team.phone)
        );
    }
    let _ = writeln!(
        h,
        "<p class=\"actions\"><a href=\"https://www.openstreetmap.org/directions?route=%3B{lat}%2C{lon}#map=16/{lat}/{lon}\" rel=\"noreferrer noopener\" target=\"_blank\">{dir}<span class=\"visually-hidden\"> — {name}</span></a> \
         <a href=\"/api/v1/public/calendars/sites/{id}\" type=\"text/calendar\">{sub}<span class=\"visually-hidden\"> — {name}</span></a></p>\
         </article></li>",
        dir = esc(t.directions),
        sub = esc(t.subscribe),
        name = esc(&p.name),
    );
}

/// The départements' names, joined.
fn names_of(data: &PageData, codes: &[&str]) -> String {
    codes
        .iter()
        .map(|code| {
            data.departements
                .iter()
                .find(|(c, _)| c == code)
                .map_or_else(|| (*code).to_owned(), |(_, n)| n.clone())
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn contact_card(h: &mut String, t: &Text, heading: &str, team: &str, email: &str, phone: &str) {
    let _ = writeln!(
        h,
        "<li class=\"contact\"><h3>{heading}</h3><p class=\"team\">{team}</p>\
         <p><span class=\"label\">{phone_label}</span> <a class=\"tel\" href=\"tel:{tel}\">{phone}</a></p>\
         <p><span class=\"label\">{email_label}</span> <a href=\"mailto:{email}\">{email}</a></p></li>",
        heading = esc(heading),
        team = esc(team),
        phone_label = esc(t.phone),
        tel = esc(&tel(phone)),
        phone = esc(phone),
        email_label = esc(t.email),
        email = esc(email),
    );
}

fn contacts(h: &mut String, data: &PageData, t: &Text) {
    let _ = writeln!(
        h,
        "<section id=\"contacts\" aria-labelledby=\"contacts-titre\">\n<h2 id=\"contacts-titre\">{}</h2>\n<p>{}</p>\n<ul class=\"contacts\">",
        esc(t.contacts),
        esc(t.contacts_intro)
    );
    if let (Some(contact), Some((code, name))) = (&data.contact, &data.departement) {
        if contact.fallback {
            let _ = writeln!(h, "<li class=\"notice\">{}</li>", esc(t.contact_fallback));
        }
        contact_card(
            h,
            t,
            &format!("{name} ({code})"),
            &contact.team,
            &contact.email,
            &contact.phone,
        );
    } else {
        // Contacts sharing one team are shown once, with their départements.
        let mut groups: Vec<(&ContactView, Vec<&str>)> = Vec::new();
        for c in &data.contacts {
            if c.scope == adosexo_domain::public::NATIONAL {
                continue;
            }
            match groups
                .iter_mut()
                .find(|(g, _)| g.email == c.email && g.phone == c.phone)
            {
                Some((_, codes)) => codes.push(&c.scope),
                None => groups.push((c, vec![&c.scope])),
            }
        }
        if let Some(national) = data
            .contacts
            .iter()
            .find(|c| c.scope == adosexo_domain::public::NATIONAL)
        {
            contact_card(
                h,
                t,
                t.national_contact,
                &national.team,
                &national.email,
                &national.phone,
            );
        }
        for (c, codes) in groups {
            contact_card(h, t, &names_of(data, &codes), &c.team, &c.email, &c.phone);
        }
    }
    let _ = writeln!(h, "</ul>\n</section>");
}

fn directory(h: &mut String, data: &PageData, t: &Text) {
    let action = if data.embed { "/aide/embed/" } else { "/aide/" };
    let _ = writeln!(
        h,
        "<section id=\"annuaire\" aria-labelledby=\"annuaire-titre\">\n<h2 id=\"annuaire-titre\">{}</h2>\n<p>{}</p>",
        esc(t.directory),
        esc(t.directory_intro)
    );
    departement_form(h, data, t, &format!("{action}#annuaire"), true);
    let n = data.entries.len();
    let status = if n == 0 {
        t.no_result.to_owned()
    } else if data.more_entries {
        count(t.results_more, n)
    } else if n == 1 {
        t.results_one.to_owned()
    } else {
        count(t.results, n)
    };
    let _ = writeln!(
        h,
        "<p class=\"count\" id=\"annuaire-count\">{}</p>\n<ul class=\"entries\" aria-labelledby=\"annuaire-count\">",
        esc(&status)
    );
    for e in &data.entries {
        let _ = write!(
            h,
            "<li class=\"entry\"><h3>{}</h3><p class=\"kind\">{}",
            esc(&e.name),
            esc(t.category(&e.category.0.to_string()))
        );
        if let Some(org) = e.organisation.as_deref() {
            let _ = write!(h, " · {}", esc(org));
        }
        let _ = write!(h, "</p><p class=\"serves\">{} ", esc(t.serves));
        if e.national {
            let _ = write!(h, "{}", esc(t.national));
        } else {
            let codes: Vec<&str> = e.departements.iter().map(String::as_str).collect();
            let _ = write!(h, "{}", esc(&names_of(data, &codes)));
        }
        let _ = write!(h, "</p>");
        if let Some(address) = e.address.as_deref() {
            let _ = write!(h, "<p class=\"address\">{}</p>", esc(address));
        }
        if let Some(phone) = e.phone.as_deref() {
            let _ = write!(
                h,
                "<p><span class=\"label\">{}</span> <a class=\"tel\" href=\"tel:{}\">{}</a></p>",
                esc(t.phone),
                esc(&tel(phone)),
                esc(phone)
            );
        }
        if let Some(email) = e.email.as_deref() {
            let _ = write!(
                h,
                "<p><span class=\"label\">{}</span> <a href=\"mailto:{e}\">{e}</a></p>",
                esc(t.email),
                e = esc(email)
            );
        }
        if let Some(site) = e.website.as_deref().and_then(web_link) {
            let _ = write!(
                h,
                "<p><span class=\"label\">{}</span> <a href=\"{u}\" rel=\"noreferrer noopener\" target=\"_blank\">{u}</a></p>",
                esc(t.website),
                u = esc(site)
            );
        }
        let _ = writeln!(h, "</li>");
    }
    let _ = writeln!(h, "</ul>\n</section>");
}

fn footer(h: &mut String, data: &PageData, t: &Text) {
    let _ = writeln!(
        h,
        "<footer class=\"wrap\"><h2>{}</h2><ul class=\"numbers\">\
         <li><a href=\"tel:119\"><strong>119</strong></a> — {}</li>\
         <li><a href=\"tel:17\"><strong>17</strong></a> — {}</li>\
         <li><a href=\"tel:112\"><strong>112</strong></a> — {}</li>\
         <li><a href=\"sms:114\"><strong>114</strong></a> — {}</li></ul>\
         <h2>{}</h2><p>{}</p>",
        esc(t.emergency_label),
        esc(t.child_danger),
        esc(t.police),
        esc(t.emergency_eu),
        esc(t.deaf),
        esc(t.privacy_title),
        esc(t.privacy),
    );
    if let Some(tiles) = data.tiles.as_ref().filter(|_| data.sections.permanences) {
        let _ = writeln!(
            h,
            "<p>{}</p>",
            esc(&t.privacy_tiles.replace("{origin}", &tiles.origin))
        );
    }
    if data.embed {
        let dep = data.departement.as_ref().map(|(c, _)| c.as_str());
        let mut full = href(data, dep, Some(&data.q), data.lang);
        full = full.replacen("/aide/embed/", "/aide/", 1);
        let _ = writeln!(
            h,
            "<p><a href=\"{full}\" target=\"_blank\" rel=\"noopener\">{}</a></p>",
            esc(t.full_page)
        );
    } else {
        let _ = writeln!(h, "<p>{}</p>", esc(t.programme_page));
    }
    let _ = writeln!(h, "</footer>");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_and_links() {
        assert_eq!(
            esc("<a href=\"x\">'&'</a>"),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;"
        );
        assert_eq!(tel("06 70 16 89 68"), "0670168968");
        assert_eq!(tel("+33 6 70"), "+33670");
        assert_eq!(web_link("javascript:alert(1)"), None);
        assert_eq!(web_link(" https://x.org "), Some("https://x.org"));
    }
}
