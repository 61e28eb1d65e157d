//! Mail templates: plain text in nb and en, compiled into the binary.
//!
//! A template file is `templates/<name>.<lang>.txt`; its first line is `Subject: …`, the rest
//! is the body. `{{param}}` is replaced by the string (or number) `param` of the message's
//! parameters. Rendering is strict: a placeholder without a parameter, or a template missing
//! in the requested language, is an error when the message is queued, so a broken mail never
//! sits in the outbox waiting to fail at delivery.

/// `(name, lang, text)` of every template. Add new templates here, in both languages.
const TEMPLATES: &[(&str, &str, &str)] = &[
    (
        "smtp_test",
        "en",
        include_str!("templates/smtp_test.en.txt"),
    ),
    (
        "smtp_test",
        "nb",
        include_str!("templates/smtp_test.nb.txt"),
    ),
    (
        "policy_notice",
        "en",
        include_str!("templates/policy_notice.en.txt"),
    ),
    (
        "policy_notice",
        "nb",
        include_str!("templates/policy_notice.nb.txt"),
    ),
    (
        "subprocessor_notice",
        "en",
        include_str!("templates/subprocessor_notice.en.txt"),
    ),
    (
        "subprocessor_notice",
        "nb",
        include_str!("templates/subprocessor_notice.nb.txt"),
    ),
    (
        "dsr_verify",
        "en",
        include_str!("templates/dsr_verify.en.txt"),
    ),
    (
        "dsr_verify",
        "nb",
        include_str!("templates/dsr_verify.nb.txt"),
    ),
    (
        "dsr_receipt",
        "en",
        include_str!("templates/dsr_receipt.en.txt"),
    ),
    (
        "dsr_receipt",
        "nb",
        include_str!("templates/dsr_receipt.nb.txt"),
    ),
    (
        "dsr_extended",
        "en",
        include_str!("templates/dsr_extended.en.txt"),
    ),
    (
        "dsr_extended",
        "nb",
        include_str!("templates/dsr_extended.nb.txt"),
    ),
    (
        "dsr_completed",
        "en",
        include_str!("templates/dsr_completed.en.txt"),
    ),
    (
        "dsr_completed",
        "nb",
        include_str!("templates/dsr_completed.nb.txt"),
    ),
    (
        "dsr_refused",
        "en",
        include_str!("templates/dsr_refused.en.txt"),
    ),
    (
        "dsr_refused",
        "nb",
        include_str!("templates/dsr_refused.nb.txt"),
    ),
    (
        "dsr_restriction_lift",
        "en",
        include_str!("templates/dsr_restriction_lift.en.txt"),
    ),
    (
        "dsr_restriction_lift",
        "nb",
        include_str!("templates/dsr_restriction_lift.nb.txt"),
    ),
    (
        "restriction_lift",
        "en",
        include_str!("templates/restriction_lift.en.txt"),
    ),
    (
        "restriction_lift",
        "nb",
        include_str!("templates/restriction_lift.nb.txt"),
    ),
    (
        "dsr_reminder",
        "en",
        include_str!("templates/dsr_reminder.en.txt"),
    ),
    (
        "dsr_reminder",
        "nb",
        include_str!("templates/dsr_reminder.nb.txt"),
    ),
    (
        "portal_login",
        "en",
        include_str!("templates/portal_login.en.txt"),
    ),
    (
        "portal_login",
        "nb",
        include_str!("templates/portal_login.nb.txt"),
    ),
];

/// The languages every template exists in.
pub const LANGUAGES: [&str; 2] = ["nb", "en"];

/// A rendered message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    pub subject: String,
    pub body: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TemplateError {
    #[error("no mail template `{0}`")]
    Unknown(String),
    #[error("the mail template `{0}` does not exist in the language `{1}`")]
    Language(String, String),
    #[error("the mail template `{0}` needs the parameter `{1}`")]
    MissingParam(String, String),
    #[error("the mail template `{0}` is malformed: {1}")]
    Malformed(String, &'static str),
}

/// Whether a template of this name exists (in any language).
pub fn exists(name: &str) -> bool {
    TEMPLATES.iter().any(|(n, _, _)| *n == name)
}

/// Renders `name` in `lang` with `params` (a JSON object).
pub fn render(
    name: &str,
    lang: &str,
    params: &serde_json::Value,
) -> Result<Rendered, TemplateError> {
    let text = TEMPLATES
        .iter()
        .find(|(n, l, _)| *n == name && *l == lang)
        .map(|(_, _, t)| *t)
        .ok_or_else(|| {
            if exists(name) {
                TemplateError::Language(name.to_owned(), lang.to_owned())
            } else {
                TemplateError::Unknown(name.to_owned())
            }
        })?;
    let (first, body) = text.split_once('\n').unwrap_or((text, ""));
    let subject = first
        .strip_prefix("Subject: ")
        .ok_or(TemplateError::Malformed(
            name.to_owned(),
            "the first line must be `Subject: …`",
        ))?;
    Ok(Rendered {
        // A header must stay one line whatever a parameter holds.
        subject: fill(name, subject, params)?.replace(['\r', '\n'], " "),
        body: fill(name, body, params)?,
    })
}

fn fill(name: &str, text: &str, params: &serde_json::Value) -> Result<String, TemplateError> {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let end = after.find("}}").ok_or(TemplateError::Malformed(
            name.to_owned(),
            "an unclosed `{{`",
        ))?;
        let key = after[..end].trim();
        let value = match params.get(key) {
            Some(serde_json::Value::String(s)) => s.clone(),
            Some(v @ serde_json::Value::Number(_)) => v.to_string(),
            _ => return Err(TemplateError::MissingParam(name.to_owned(), key.to_owned())),
        };
        out.push_str(&value);
        rest = &after[end + 2..];
    }
    out.push_str(rest);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn every_template_exists_in_every_language_and_has_a_subject() {
        for (name, _, text) in TEMPLATES {
            assert!(text.starts_with("Subject: "), "{name}");
            for lang in LANGUAGES {
                assert!(
                    TEMPLATES.iter().any(|(n, l, _)| n == name && *l == lang),
                    "{name} lacks {lang}"
                );
            }
        }
    }

    #[test]
    fn renders_parameters_and_refuses_missing_ones() {
        let r = render(
            "smtp_test",
            "en",
            &json!({"controller": "Acme", "reference": 42}),
        )
        .unwrap();
        assert!(r.subject.contains("Acme"));
        assert!(r.body.contains("Reference: 42"));
        assert_eq!(
            render("smtp_test", "en", &json!({"controller": "Acme"})),
            Err(TemplateError::MissingParam(
                "smtp_test".into(),
                "reference".into()
            ))
        );
        assert!(matches!(
            render("smtp_test", "sv", &json!({})),
            Err(TemplateError::Language(..))
        ));
        assert!(matches!(
            render("nope", "en", &json!({})),
            Err(TemplateError::Unknown(_))
        ));
    }

    #[test]
    fn a_parameter_cannot_break_the_subject_line() {
        let r = render(
            "smtp_test",
            "en",
            &json!({"controller": "Acme\r\nBcc: x@example.com", "reference": "r"}),
        )
        .unwrap();
        assert!(!r.subject.contains('\n') && !r.subject.contains('\r'));
    }
}
