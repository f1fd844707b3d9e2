//! Retries e-mail that could not be delivered at once: every minute, whatever is due.
//! Several nodes may run it: each message is claimed before it is sent.

use std::time::Duration;

use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::mail::Mailer;

const EVERY: Duration = Duration::from_secs(60);

pub fn spawn(mailer: Mailer, mut shutdown: watch::Receiver<bool>) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut ticker = tokio::time::interval(EVERY);
        loop {
            tokio::select! {
                _ = ticker.tick() => {
                    let sent = mailer.deliver_due().await;
                    if sent > 0 {
                        tracing::info!(sent, "queued e-mail delivered");
                    }
                }
                _ = shutdown.changed() => break,
            }
        }
    })
}
