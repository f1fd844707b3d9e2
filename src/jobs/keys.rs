//! Key rotation on schedule, and every node's keyring kept current: once a minute each node
//! runs a rotation pass (it publishes a next key when the active one is due, promotes a next key
//! published long enough, deletes retired keys no token needs) and reloads the keyring, so a
//! rotation made anywhere (another node, `pintu keys rotate`) is picked up within a minute,
//! without a restart. Several nodes running it at once is safe (`keys::rotation`).

use std::time::Duration;

use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::app::KeyRotation;
use crate::clock::SharedClock;
use crate::domain::ActorId;

/// How often each node looks.
const INTERVAL: Duration = Duration::from_secs(60);

pub fn spawn(rotation: KeyRotation, clock: SharedClock, mut shutdown: watch::Receiver<bool>) -> JoinHandle<()> {
    tokio::spawn(async move {
        // The keyring was loaded at start: the first pass comes a minute later.
        let mut ticker = tokio::time::interval_at(tokio::time::Instant::now() + INTERVAL, INTERVAL);
        loop {
            tokio::select! {
                _ = ticker.tick() => {
                    if let Err(e) = rotation.run(&ActorId::scheduler(), clock.now(), false).await {
                        tracing::warn!(error = %e, "key rotation pass failed");
                    }
                }
                _ = shutdown.changed() => break,
            }
        }
    })
}
