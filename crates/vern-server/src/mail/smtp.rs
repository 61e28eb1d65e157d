//! SMTP delivery with lettre: a pooled async transport from a URL such as
//! `smtp://user:pass@mail.example.com:587?tls=required` (STARTTLS), `smtps://…:465` (TLS) or
//! `smtp://127.0.0.1:2525` (plain, for a local relay or a test sink).

use lettre::message::{Mailbox, header::ContentType};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use super::templates::Rendered;

/// Sends rendered mail. Cheap to share (the transport pools connections).
#[derive(Clone)]
pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

impl std::fmt::Debug for Mailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The URL may hold a password: never print it.
        f.debug_struct("Mailer").finish_non_exhaustive()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum MailError {
    #[error("invalid SMTP URL: {0}")]
    Url(String),
    #[error("invalid address: {0}")]
    Address(String),
    #[error("building the message failed: {0}")]
    Build(String),
    #[error("SMTP delivery failed: {0}")]
    Send(String),
}

impl Mailer {
    /// A mailer for `url`, sending as `from` (e.g. `Acme Privacy <privacy@acme.example>`).
    pub fn new(url: &str, from: &str) -> Result<Mailer, MailError> {
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
            // lettre's error text does not contain the URL's password.
            .map_err(|e| MailError::Url(e.to_string()))?
            .build();
        let from = from
            .parse::<Mailbox>()
            .map_err(|e| MailError::Address(format!("sender: {e}")))?;
        Ok(Mailer { transport, from })
    }

    /// Sends one message under a fresh `Message-ID`; returns it.
    pub async fn send(&self, to: &str, mail: &Rendered) -> Result<String, MailError> {
        self.send_as(to, mail, vern_core::ids::new_id()).await
    }

    /// Sends one message with the `Message-ID` `<id@vern>`; returns it. The outbox passes the
    /// message's own id, so a delivery repeated after a crash (sent, but killed before the
    /// outbox row was marked sent) carries the same `Message-ID` and the receiver can tell it
    /// is the same message.
    pub async fn send_as(
        &self,
        to: &str,
        mail: &Rendered,
        id: uuid::Uuid,
    ) -> Result<String, MailError> {
        let to = to
            .parse::<Mailbox>()
            .map_err(|_| MailError::Address("recipient".into()))?;
        let message_id = format!("<{}@vern>", id.simple());
        let message = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(mail.subject.clone())
            .message_id(Some(message_id.clone()))
            .header(ContentType::TEXT_PLAIN)
            .body(mail.body.clone())
            .map_err(|e| MailError::Build(e.to_string()))?;
        self.transport
            .send(message)
            .await
            .map_err(|e| MailError::Send(describe(&e)))?;
        Ok(message_id)
    }
}

/// What went wrong, without the server's reply text: a reply such as `550 <ola@…> unknown`
/// can quote the recipient, and this text ends up in the outbox and the logs.
fn describe(e: &lettre::transport::smtp::Error) -> String {
    let code = e.status().map(|c| c.to_string());
    let kind = if e.is_permanent() {
        "permanent rejection"
    } else if e.is_transient() {
        "transient rejection"
    } else if e.is_timeout() {
        "timeout"
    } else if e.is_tls() {
        "TLS failure"
    } else {
        "connection or protocol failure"
    };
    match code {
        Some(code) => format!("{kind} ({code})"),
        None => kind.to_owned(),
    }
}

/// Whether `text` is a syntactically valid mail address (checked before a message is queued).
pub fn valid_address(text: &str) -> bool {
    text.parse::<lettre::Address>().is_ok()
}
