//! Delivery over SMTP (lettre): STARTTLS or implicit TLS through rustls, plain SMTP only to a
//! server on this machine; credentials from the configuration (a file).

use lettre::message::{Mailbox, MultiPart, header::ContentType};
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use secrecy::ExposeSecret;

use crate::config::{SmtpConfig, SmtpSecurity};
use crate::storage::OutgoingMail;

pub(super) struct Transport {
    smtp: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

impl Transport {
    pub(super) fn new(config: &SmtpConfig) -> Result<Self, String> {
        let from: Mailbox = config.from.parse().map_err(|e| format!("mail.from: {e}"))?;
        let builder = match config.security {
            SmtpSecurity::StartTls => AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(&config.host),
            SmtpSecurity::Tls => AsyncSmtpTransport::<Tokio1Executor>::relay(&config.host),
            SmtpSecurity::None => Ok(AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&config.host)),
        }
        .map_err(|e| format!("mail.smtp_host: {e}"))?;
        let mut builder = builder.port(config.port).timeout(Some(std::time::Duration::from_secs(20)));
        if let Some((user, password)) = &config.credentials {
            builder = builder.credentials(Credentials::new(user.clone(), password.expose_secret().to_owned()));
        }
        Ok(Self { smtp: builder.build(), from })
    }

    pub(super) async fn send(&self, mail: &OutgoingMail) -> Result<(), String> {
        let to: Mailbox = mail.to_addr.parse().map_err(|e| format!("the address: {e}"))?;
        let builder = Message::builder().from(self.from.clone()).to(to).subject(&mail.subject);
        let message = match mail.body_html.is_empty() {
            true => builder.header(ContentType::TEXT_PLAIN).body(mail.body.clone()),
            // RFC 2046 §5.1.4: the plain text first, the richer form last.
            false => builder.multipart(MultiPart::alternative_plain_html(mail.body.clone(), mail.body_html.clone())),
        }
        .map_err(|e| format!("the message: {e}"))?;
        self.smtp.send(message).await.map(|_| ()).map_err(|e| e.to_string())
    }
}
