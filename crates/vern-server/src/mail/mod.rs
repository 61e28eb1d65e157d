//! Outgoing mail: templates (nb and en) and SMTP delivery. Messages wait in the durable outbox
//! (`vault::outbox`) and are delivered by the `mail.send` job; see `docs/architecture.md`.

pub mod smtp;
pub mod templates;

pub use smtp::{MailError, Mailer, valid_address};
pub use templates::{Rendered, TemplateError, render};
