//! The access report as CSV (one `field,value` row per leaf of the JSON report, so nothing is
//! left out and a spreadsheet opens it) and as a readable HTML page (every value escaped).

use std::fmt::Write as _;

use serde_json::Value;
use time::format_description::well_known::Rfc3339;

use crate::vault::AccessReport;

/// `field,value` rows: dotted paths (`records.0.value.number`) and scalar values.
pub fn csv(report: &AccessReport) -> Result<String, String> {
    let json = serde_json::to_value(report).map_err(|e| e.to_string())?;
    let mut out = csv::Writer::from_writer(Vec::new());
    out.write_record(["field", "value"])
        .map_err(|e| e.to_string())?;
    let mut rows = Vec::new();
    flatten("", &json, &mut rows);
    for (k, v) in rows {
        out.write_record([k, v]).map_err(|e| e.to_string())?;
    }
    let bytes = out.into_inner().map_err(|e| e.to_string())?;
    String::from_utf8(bytes).map_err(|e| e.to_string())
}

fn flatten(prefix: &str, v: &Value, out: &mut Vec<(String, String)>) {
    let join = |k: &str| {
        if prefix.is_empty() {
            k.to_owned()
        } else {
            format!("{prefix}.{k}")
        }
    };
    match v {
        Value::Object(map) => {
            for (k, v) in map {
                flatten(&join(k), v, out);
            }
        }
        Value::Array(list) => {
            for (i, v) in list.iter().enumerate() {
                flatten(&join(&i.to_string()), v, out);
            }
        }
        Value::Null => out.push((prefix.to_owned(), String::new())),
        Value::String(s) => out.push((prefix.to_owned(), s.clone())),
        other => out.push((prefix.to_owned(), other.to_string())),
    }
}

fn esc(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&#39;"),
            c => o.push(c),
        }
    }
    o
}

fn value_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

struct Labels {
    title: &'static str,
    data: &'static str,
    identifiers: &'static str,
    purposes: &'static str,
    categories: &'static str,
    recipients: &'static str,
    no_recipients: &'static str,
    sources: &'static str,
    profiling: &'static str,
    profile: &'static str,
    events: &'static str,
    transfers: &'static str,
    no_transfers: &'static str,
    rights: &'static str,
    authority: &'static str,
    kept_until: &'static str,
}

const NB: Labels = Labels {
    title: "Innsyn: personopplysninger vi behandler om deg",
    data: "Opplysningene",
    identifiers: "Identifikatorer",
    purposes: "Formål og rettslig grunnlag",
    categories: "Kategorier og lagringstid",
    recipients: "Mottakere som har fått opplysningene",
    no_recipients: "Opplysningene er ikke utlevert til noen.",
    sources: "Kilder",
    profiling: "Profilering",
    profile: "Interesseprofilen vi har utledet (antall hendelser per emne, sist sett)",
    events: "Registrerte hendelser",
    transfers: "Overføring utenfor EØS",
    no_transfers: "Opplysningene er ikke overført utenfor EØS.",
    rights: "Dine rettigheter",
    authority: "Tilsynsmyndighet",
    kept_until: "lagres til",
};

const EN: Labels = Labels {
    title: "Access: the personal data we process about you",
    data: "The data",
    identifiers: "Identifiers",
    purposes: "Purposes and legal basis",
    categories: "Categories and how long they are kept",
    recipients: "Recipients the data was disclosed to",
    no_recipients: "The data has not been disclosed to anyone.",
    sources: "Sources",
    profiling: "Profiling",
    profile: "The interest profile we derived (events per topic, last seen)",
    events: "Recorded events",
    transfers: "Transfers outside the EEA",
    no_transfers: "The data has not been transferred outside the EEA.",
    rights: "Your rights",
    authority: "Supervisory authority",
    kept_until: "kept until",
};

/// A self-contained HTML page (no scripts, no external resources).
pub fn html(r: &AccessReport) -> String {
    let l = if r.language == "nb" { &NB } else { &EN };
    let mut h = String::new();
    let _ = write!(
        h,
        "<!doctype html><html lang=\"{}\"><head><meta charset=\"utf-8\"><title>{}</title>\
         <style>body{{font-family:sans-serif;max-width:60em;margin:2em auto;padding:0 1em}}\
         table{{border-collapse:collapse}}td,th{{border:1px solid #ccc;padding:.3em .6em;\
         text-align:left;vertical-align:top}}</style></head><body><h1>{}</h1><p>{} · {}</p>",
        esc(&r.language),
        esc(l.title),
        esc(l.title),
        esc(&r.controller.name),
        esc(&r.generated_at.date().to_string()),
    );
    let _ = write!(h, "<h2>{}</h2><table>", esc(l.identifiers));
    for i in &r.identifiers {
        let _ = write!(
            h,
            "<tr><th>{}</th><td>{}</td></tr>",
            esc(&i.kind),
            esc(&i.value)
        );
    }
    let _ = write!(h, "</table><h2>{}</h2><table>", esc(l.data));
    for rec in &r.records {
        let _ = write!(
            h,
            "<tr><th>{}</th><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(&rec.category),
            esc(&value_text(&rec.value)),
            esc(&rec.purposes.join(", ")),
            esc(&rec.collected_at.date().to_string()),
        );
    }
    let _ = write!(h, "</table><h2>{}</h2><ul>", esc(l.purposes));
    for p in &r.purposes {
        let _ = write!(
            h,
            "<li><strong>{}</strong> ({}): {}</li>",
            esc(&p.name),
            esc(&p.legal_basis),
            esc(&p.description)
        );
    }
    let _ = write!(h, "</ul><h2>{}</h2><ul>", esc(l.categories));
    for c in &r.categories {
        let until = c
            .kept_until
            .map(|t| format!(", {} {}", l.kept_until, t.date()))
            .unwrap_or_default();
        let _ = write!(
            h,
            "<li><strong>{}</strong> ({}){}: {}</li>",
            esc(&c.name),
            esc(&c.id),
            esc(&until),
            esc(c.retention.as_deref().unwrap_or(""))
        );
    }
    let _ = write!(h, "</ul><h2>{}</h2>", esc(l.recipients));
    if r.recipients.is_empty() {
        let _ = write!(h, "<p>{}</p>", esc(l.no_recipients));
    } else {
        h.push_str("<ul>");
        for x in &r.recipients {
            let _ = write!(
                h,
                "<li>{} ({}): {} · {}</li>",
                esc(&x.name),
                esc(x.country.as_deref().unwrap_or("")),
                esc(&x.categories.join(", ")),
                esc(&x.disclosed_at.date().to_string())
            );
        }
        h.push_str("</ul>");
    }
    let _ = write!(h, "<h2>{}</h2><ul>", esc(l.sources));
    for s in &r.sources {
        let _ = write!(h, "<li>{}</li>", esc(&s.name));
    }
    let _ = write!(
        h,
        "</ul><h2>{}</h2><p>{}</p><ul>",
        esc(l.profiling),
        esc(&r.profiling.information)
    );
    for p in &r.profiling.purposes {
        let _ = write!(
            h,
            "<li><strong>{}</strong>: {}</li>",
            esc(&p.name),
            esc(&p.description)
        );
    }
    h.push_str("</ul>");
    if let Some(p) = &r.profiling.profile {
        let last = p
            .last_seen
            .map(|t| t.date().to_string())
            .unwrap_or_default();
        let _ = write!(h, "<h3>{}</h3><table>", esc(l.profile));
        for (topic, n) in &p.topics {
            let _ = write!(h, "<tr><th>{}</th><td>{n}</td></tr>", esc(topic));
        }
        let _ = write!(
            h,
            "</table><p>{} · {}</p>",
            esc(&p.purposes.join(", ")),
            esc(&last)
        );
    }
    if !r.profiling.events.is_empty() {
        let _ = write!(h, "<h3>{}</h3><table>", esc(l.events));
        for e in &r.profiling.events {
            let _ = write!(
                h,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                esc(&e.at.format(&Rfc3339).unwrap_or_default()),
                esc(&e.kind),
                esc(e.topic.as_deref().unwrap_or("")),
                esc(e.channel.as_deref().unwrap_or("")),
                esc(e.ip_truncated.as_deref().unwrap_or("")),
                esc(&e.purpose),
            );
        }
        h.push_str("</table>");
    }
    let _ = write!(h, "<h2>{}</h2>", esc(l.transfers));
    if r.transfers.is_empty() {
        let _ = write!(h, "<p>{}</p>", esc(l.no_transfers));
    } else {
        h.push_str("<ul>");
        for t in &r.transfers {
            let _ = write!(
                h,
                "<li>{} ({}): {} {}</li>",
                esc(&t.name),
                esc(t.country.as_deref().unwrap_or("")),
                esc(&t.safeguard),
                esc(t.details.as_deref().unwrap_or(""))
            );
        }
        h.push_str("</ul>");
    }
    let _ = write!(h, "<h2>{}</h2><ul>", esc(l.rights));
    for x in &r.rights {
        let _ = write!(h, "<li>{}</li>", esc(x));
    }
    let sa = &r.supervisory_authority;
    let _ = write!(
        h,
        "</ul><h2>{}</h2><p>{}<br>{}<br>{}<br>{}</p></body></html>",
        esc(l.authority),
        esc(&sa.name),
        esc(sa.address.as_deref().unwrap_or("")),
        esc(sa.phone.as_deref().unwrap_or("")),
        esc(&sa.website),
    );
    h
}
