//! Identifiers that find a subject (email, phone, login id, username, an external system's id)
//! and their normalisation before blind indexing.
//!
//! Normalisation is deliberately conservative: it removes only differences that cannot change
//! who is meant (case and surrounding space in an email, punctuation in a phone number). It
//! never strips `+tags` or dots from emails, because merging two people on a fuzzy match is a
//! worse failure under GDPR than missing a duplicate. Errors never quote the value: identifiers
//! are personal data and errors end up in logs.

use std::borrow::Cow;
use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Longest email address (RFC 5321 path limit less the angle brackets), in bytes.
pub const MAX_EMAIL_LEN: usize = 254;
/// Longest local part of an email address (RFC 5321), in bytes.
pub const MAX_EMAIL_LOCAL_LEN: usize = 64;
/// Longest login id, username or external id, in characters.
pub const MAX_OPAQUE_LEN: usize = 256;
/// Longest external system name, in bytes.
pub const MAX_SYSTEM_LEN: usize = 64;
/// E.164 allows at most 15 digits; fewer than 8 is no full international number.
pub const PHONE_DIGITS: std::ops::RangeInclusive<usize> = 8..=15;

const EXTERNAL_PREFIX: &str = "external:";

/// What an identifier is. Written as `email`, `phone`, `login_id`, `username` or
/// `external:<system>` (the system being a short lowercase name such as `crm`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum IdentifierKind {
    Email,
    Phone,
    LoginId,
    Username,
    /// An id in another system; the name is `[a-z0-9_.-]{1,64}`.
    External(String),
}

impl IdentifierKind {
    pub fn parse(text: &str) -> Result<Self, IdentifierError> {
        match text {
            "email" => Ok(Self::Email),
            "phone" => Ok(Self::Phone),
            "login_id" => Ok(Self::LoginId),
            "username" => Ok(Self::Username),
            _ => match text.strip_prefix(EXTERNAL_PREFIX) {
                Some(system) if is_system_name(system) => Ok(Self::External(system.to_owned())),
                Some(_) => Err(IdentifierError::InvalidSystem),
                None => Err(IdentifierError::UnknownKind),
            },
        }
    }

    /// The written form; borrowed except for `external:<system>`.
    pub fn as_str(&self) -> Cow<'_, str> {
        match self {
            Self::Email => Cow::Borrowed("email"),
            Self::Phone => Cow::Borrowed("phone"),
            Self::LoginId => Cow::Borrowed("login_id"),
            Self::Username => Cow::Borrowed("username"),
            Self::External(system) => Cow::Owned(format!("{EXTERNAL_PREFIX}{system}")),
        }
    }

    /// How errors name the value, e.g. "email address".
    fn noun(&self) -> &'static str {
        match self {
            Self::Email => "email address",
            Self::Phone => "phone number",
            Self::LoginId => "login id",
            Self::Username => "username",
            Self::External(_) => "external id",
        }
    }
}

impl fmt::Display for IdentifierKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.as_str())
    }
}

impl std::str::FromStr for IdentifierKind {
    type Err = IdentifierError;
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Self::parse(text)
    }
}

impl Serialize for IdentifierKind {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.as_str())
    }
}

impl<'de> Deserialize<'de> for IdentifierKind {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = Cow::<'de, str>::deserialize(deserializer)?;
        Self::parse(&text).map_err(serde::de::Error::custom)
    }
}

/// Why an identifier was refused. The message names the problem, never the value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdentifierError {
    #[error(
        "unknown identifier kind: expected `email`, `phone`, `login_id`, `username` or `external:<system>`"
    )]
    UnknownKind,
    #[error(
        "the external system name must be 1 to 64 characters of lowercase letters, digits, `_`, `-` or `.`"
    )]
    InvalidSystem,
    #[error("the {kind} is empty")]
    Empty { kind: &'static str },
    #[error("the {kind} is longer than {max} characters")]
    TooLong { kind: &'static str, max: usize },
    #[error("the {kind} contains a control character")]
    ControlCharacter { kind: &'static str },
    #[error("the email address contains whitespace")]
    EmailWhitespace,
    #[error("the email address must have the form local@domain.tld")]
    EmailShape,
    #[error(
        "the phone number may contain only digits, a leading `+` or `00`, spaces, dashes, dots and parentheses"
    )]
    PhoneCharacters,
    #[error("the phone number must be international: `+` or `00`, then the country code (E.164)")]
    PhoneNotInternational,
    #[error("the phone number must have 8 to 15 digits after the `+`")]
    PhoneLength,
}

impl IdentifierError {
    /// A stable snake_case code for API errors.
    pub fn code(&self) -> &'static str {
        match self {
            Self::UnknownKind => "unknown_identifier_kind",
            Self::InvalidSystem => "invalid_external_system",
            Self::Empty { .. } => "identifier_empty",
            Self::TooLong { .. } => "identifier_too_long",
            Self::ControlCharacter { .. } => "identifier_control_character",
            Self::EmailWhitespace | Self::EmailShape => "invalid_email",
            Self::PhoneCharacters | Self::PhoneNotInternational | Self::PhoneLength => {
                "invalid_phone"
            }
        }
    }
}

/// The canonical form of an identifier, the only form that is blind-indexed and stored.
pub fn normalise(kind: &IdentifierKind, value: &str) -> Result<String, IdentifierError> {
    let value = value.trim();
    if value.is_empty() {
        return Err(IdentifierError::Empty { kind: kind.noun() });
    }
    match kind {
        IdentifierKind::Email => normalise_email(value),
        IdentifierKind::Phone => normalise_phone(value),
        IdentifierKind::LoginId | IdentifierKind::Username | IdentifierKind::External(_) => {
            normalise_opaque(kind.noun(), value)
        }
    }
}

fn normalise_email(value: &str) -> Result<String, IdentifierError> {
    match normalise_plain_email(value) {
        Some(email) => Ok(email),
        None => normalise_any_email(value),
    }
}

/// The common case in one pass over the bytes: an ASCII address that is well formed. It
/// answers only where [`normalise_any_email`] would answer the same (a property test holds
/// them equal); `None` sends the value to that general path, which also names the error. Bulk
/// decisions by email normalise every address of a campaign list, and the general path's
/// separate passes, Unicode lowercasing and vector of labels were a tenth of their cache pass.
fn normalise_plain_email(value: &str) -> Option<String> {
    let bytes = value.as_bytes();
    if bytes.len() > MAX_EMAIL_LEN || !value.is_ascii() {
        return None;
    }
    let at = bytes.iter().position(|&b| b == b'@')?;
    let (local, domain) = (&bytes[..at], &bytes[at + 1..]);
    // ASCII control characters and whitespace are all at or below the space, or DEL.
    if local.is_empty()
        || local.len() > MAX_EMAIL_LOCAL_LEN
        || local.iter().any(|&b| b <= b' ' || b == 0x7f)
    {
        return None;
    }
    let mut labels = 0usize;
    let mut last_len = 0usize;
    for label in domain.split(|&b| b == b'.') {
        let plain = label.first().is_some_and(|&b| b != b'-')
            && label.last().is_some_and(|&b| b != b'-')
            && label
                .iter()
                .all(|&b| b.is_ascii_alphanumeric() || b == b'-');
        if !plain {
            return None;
        }
        labels += 1;
        last_len = label.len();
    }
    (labels >= 2 && last_len >= 2).then(|| value.to_ascii_lowercase())
}

fn normalise_any_email(value: &str) -> Result<String, IdentifierError> {
    const NOUN: &str = "email address";
    if value.chars().any(char::is_control) {
        return Err(IdentifierError::ControlCharacter { kind: NOUN });
    }
    if value.chars().any(char::is_whitespace) {
        return Err(IdentifierError::EmailWhitespace);
    }
    // Lowercasing the local part too is technically lossy (RFC 5321 lets it be case-sensitive)
    // but no real mail system relies on that, and people type addresses in any case.
    let email = value.to_lowercase();
    if email.len() > MAX_EMAIL_LEN {
        return Err(IdentifierError::TooLong {
            kind: NOUN,
            max: MAX_EMAIL_LEN,
        });
    }
    let Some((local, domain)) = email.split_once('@') else {
        return Err(IdentifierError::EmailShape);
    };
    let labels: Vec<&str> = domain.split('.').collect();
    let shape_ok = !local.is_empty()
        && local.len() <= MAX_EMAIL_LOCAL_LEN
        && labels.len() >= 2
        && labels.iter().all(|label| is_domain_label(label))
        && labels.last().is_some_and(|tld| tld.chars().count() >= 2);
    if !shape_ok {
        return Err(IdentifierError::EmailShape);
    }
    Ok(email)
}

/// A domain label: letters (any script, for internationalised domains), digits and inner
/// hyphens. This also rules out a second `@` and empty labels (`a..b`, leading/trailing dot).
fn is_domain_label(label: &str) -> bool {
    !label.is_empty()
        && !label.starts_with('-')
        && !label.ends_with('-')
        && label.chars().all(|c| c.is_alphanumeric() || c == '-')
}

fn normalise_phone(value: &str) -> Result<String, IdentifierError> {
    let mut compact = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '0'..='9' | '+' => compact.push(c),
            // Grouping people type or paste; it never changes the number.
            '-' | '.' | '(' | ')' => {}
            c if c.is_whitespace() => {}
            _ => return Err(IdentifierError::PhoneCharacters),
        }
    }
    let digits = if let Some(rest) = compact.strip_prefix('+') {
        rest
    } else if let Some(rest) = compact.strip_prefix("00") {
        rest
    } else {
        return Err(IdentifierError::PhoneNotInternational);
    };
    if !digits.bytes().all(|b| b.is_ascii_digit()) {
        // A `+` anywhere but at the start.
        return Err(IdentifierError::PhoneCharacters);
    }
    if !PHONE_DIGITS.contains(&digits.len()) {
        return Err(IdentifierError::PhoneLength);
    }
    // Country codes never start with 0; `+0…` or `000…` is a national number misread.
    if digits.starts_with('0') {
        return Err(IdentifierError::PhoneNotInternational);
    }
    Ok(format!("+{digits}"))
}

/// Login ids, usernames and external ids are compared exactly (case included): only the
/// systems that issue them know their rules.
fn normalise_opaque(noun: &'static str, value: &str) -> Result<String, IdentifierError> {
    if value.chars().any(char::is_control) {
        return Err(IdentifierError::ControlCharacter { kind: noun });
    }
    if value.chars().count() > MAX_OPAQUE_LEN {
        return Err(IdentifierError::TooLong {
            kind: noun,
            max: MAX_OPAQUE_LEN,
        });
    }
    Ok(value.to_owned())
}

fn is_system_name(system: &str) -> bool {
    !system.is_empty()
        && system.len() <= MAX_SYSTEM_LEN
        && system.bytes().all(|b| {
            b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'_' | b'-' | b'.')
        })
}

#[cfg(test)]
mod tests;
