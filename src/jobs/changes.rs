//! Every node hears the changes made anywhere (PostgreSQL `LISTEN pintu_changes`): a changed
//! client is dropped from this node's cache, changed keys are reloaded, at once. After a lost
//! connection (notifications in between are gone) everything cached is dropped and reloaded.
//! On SQLite there is one node and nothing to hear: the job ends at once.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::applications::ApplicationService;
use crate::keys::Keyring;
use crate::storage::{Change, Heard, Store};

pub fn spawn(
    store: Store,
    applications: ApplicationService,
    keyring: Arc<Keyring>,
    mut shutdown: watch::Receiver<bool>,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut lost = false;
        loop {
            let mut listener = match store.listen().await {
                Ok(Some(listener)) => listener,
                Ok(None) => return,
                Err(e) => {
                    tracing::warn!(error = %e, "cannot listen for changes from other nodes; trying again");
                    tokio::select! {
                        _ = tokio::time::sleep(Duration::from_secs(5)) => continue,
                        _ = shutdown.changed() => return,
                    }
                }
            };
            if std::mem::take(&mut lost) {
                // Whatever changed while nobody listened is unknown: drop it all.
                applications.forget_all();
                reload(&keyring).await;
            }
            loop {
                let heard = tokio::select! {
                    heard = listener.next() => heard,
                    _ = shutdown.changed() => return,
                };
                match heard {
                    Ok(Heard::Change(Change::Client(id))) => applications.forget(&id),
                    Ok(Heard::Change(Change::Keys)) => reload(&keyring).await,
                    Ok(Heard::Reconnected) => {
                        tracing::info!("listening for changes again: dropping what this node cached");
                        applications.forget_all();
                        reload(&keyring).await;
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "lost the change listener; listening again");
                        lost = true;
                        break;
                    }
                }
            }
        }
    })
}

async fn reload(keyring: &Keyring) {
    if let Err(e) = keyring.reload().await {
        tracing::warn!(error = %e, "cannot reload the signing keys after a change");
    }
}
