//! E-mail: messages are written to the outbox (`mail_outbox`) and delivered in the background,
//! at once and then with retries, so sending never blocks a login or a page. What a message says
//! is composed by the caller (the pages' templates, per language); this module only keeps and
//! delivers it. Without an SMTP server configured, nothing is queued and `enabled` says so.

mod smtp;

use std::sync::Arc;

use crate::clock::SharedClock;
use crate::config::MailConfig;
use crate::storage::{OutgoingMail, StorageError, Store};

/// After each failed attempt, the next one waits this long (seconds); then it is given up.
const RETRY_AFTER: [i64; 5] = [60, 300, 1800, 7200, 21600];
/// How long one delivery attempt holds its message.
const HOLD_SECS: i64 = 120;

struct Inner {
    store: Store,
    clock: SharedClock,
    transport: Option<smtp::Transport>,
}

/// The mailer. Cheap to clone.
#[derive(Clone)]
pub struct Mailer {
    inner: Arc<Inner>,
}

impl Mailer {
    pub fn new(store: Store, clock: SharedClock, config: &MailConfig) -> Result<Self, String> {
        let transport = match &config.smtp {
            Some(smtp) => Some(smtp::Transport::new(smtp)?),
            None => None,
        };
        Ok(Self { inner: Arc::new(Inner { store, clock, transport }) })
    }

    /// An SMTP server is configured: the features that send e-mail work.
    pub fn enabled(&self) -> bool {
        self.inner.transport.is_some()
    }

    /// Queues a message (plain text, and an HTML alternative unless `html` is empty) and
    /// starts delivering it; `false` when mail is not configured.
    pub async fn send(&self, to: &str, subject: &str, body: &str, html: &str) -> Result<bool, StorageError> {
        if !self.enabled() {
            return Ok(false);
        }
        let mail = OutgoingMail {
            id: uuid::Uuid::now_v7().to_string(),
            to_addr: to.to_owned(),
            subject: subject.to_owned(),
            body: body.to_owned(),
            body_html: html.to_owned(),
            attempts: 0,
        };
        self.inner.store.mail_outbox().insert(&mail, self.inner.clock.now()).await?;
        let mailer = self.clone();
        tokio::spawn(async move { mailer.deliver_due().await });
        Ok(true)
    }

    /// Sends every message that is due; returns how many were sent.
    pub async fn deliver_due(&self) -> usize {
        let Some(transport) = &self.inner.transport else { return 0 };
        let outbox = self.inner.store.mail_outbox();
        let mut sent = 0;
        loop {
            let now = self.inner.clock.now();
            let mail = match outbox.claim(now, HOLD_SECS).await {
                Ok(Some(mail)) => mail,
                Ok(None) => return sent,
                Err(e) => {
                    tracing::warn!(error = %e, "the mail outbox cannot be read");
                    return sent;
                }
            };
            let result = match transport.send(&mail).await {
                Ok(()) => {
                    sent += 1;
                    outbox.sent(&mail.id, now).await
                }
                Err(why) => {
                    let next = usize::try_from(mail.attempts).ok().and_then(|n| RETRY_AFTER.get(n)).map(|w| now + w);
                    tracing::warn!(mail = %mail.id, attempt = mail.attempts + 1, error = %why, given_up = next.is_none(), "e-mail not delivered");
                    outbox.failed(&mail.id, &why, next).await
                }
            };
            if let Err(e) = result {
                tracing::warn!(error = %e, "the mail outbox cannot be updated");
                return sent;
            }
        }
    }
}
