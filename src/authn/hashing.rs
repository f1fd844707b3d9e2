//! A fixed pool of password-hashing threads, one per core. argon2id is memory-hard (19 MiB per
//! verification at OWASP parameters): running more at once than there are cores only thrashes
//! caches, and the general blocking pool let glibc keep a 19 MiB arena per thread that ever
//! hashed (over 1 GB under a login storm). Each thread here keeps one working buffer; logins
//! beyond the pool's capacity wait in a bounded queue.

use std::sync::mpsc::{Receiver, SyncSender, TrySendError, sync_channel};
use std::sync::{Arc, Mutex};

use crate::metrics::Metrics;

use super::password::ArgonMemory;

type Job = Box<dyn FnOnce(&mut ArgonMemory) + Send>;

/// Pending hashing jobs beyond which logins are refused as busy instead of queueing forever.
const QUEUE: usize = 1024;

/// Why a hashing job did not run.
#[derive(Debug, thiserror::Error)]
pub enum HashingError {
    #[error("too many password checks are waiting")]
    Busy,
    #[error("the hashing threads stopped")]
    Stopped,
}

/// Handle to the hashing threads; they stop when the last handle is dropped.
#[derive(Clone)]
pub struct HashingPool {
    jobs: SyncSender<Job>,
    /// Counts the jobs waiting for a thread (`pintu_argon2_queue_jobs`).
    metrics: Metrics,
}

impl HashingPool {
    /// Starts one thread per available core.
    pub fn new() -> Self {
        Self::with_metrics(Metrics::new())
    }

    /// Starts the threads, counting waiting jobs in `metrics`.
    pub fn with_metrics(metrics: Metrics) -> Self {
        let threads = std::thread::available_parallelism().map(std::num::NonZero::get).unwrap_or(1);
        let (jobs, queue) = sync_channel::<Job>(QUEUE);
        let queue = Arc::new(Mutex::new(queue));
        for i in 0..threads {
            let queue = queue.clone();
            let spawned = std::thread::Builder::new().name(format!("pintu-argon2-{i}")).spawn(move || work(&queue));
            if let Err(e) = spawned {
                tracing::error!(error = %e, "cannot start a password hashing thread");
            }
        }
        Self { jobs, metrics }
    }

    /// Runs `job` on a hashing thread with that thread's working memory.
    pub async fn run<T: Send + 'static>(
        &self,
        job: impl FnOnce(&mut ArgonMemory) -> T + Send + 'static,
    ) -> Result<T, HashingError> {
        let (reply, answer) = tokio::sync::oneshot::channel();
        let metrics = self.metrics.clone();
        let boxed: Job = Box::new(move |memory| {
            metrics.hashing_queued(false);
            let _ = reply.send(job(memory));
        });
        self.metrics.hashing_queued(true);
        match self.jobs.try_send(boxed) {
            Ok(()) => answer.await.map_err(|_| HashingError::Stopped),
            Err(e) => {
                self.metrics.hashing_queued(false);
                Err(match e {
                    TrySendError::Full(_) => HashingError::Busy,
                    TrySendError::Disconnected(_) => HashingError::Stopped,
                })
            }
        }
    }
}

impl Default for HashingPool {
    fn default() -> Self {
        Self::new()
    }
}

fn work(queue: &Mutex<Receiver<Job>>) {
    let mut memory = ArgonMemory::default();
    loop {
        let job = match queue.lock() {
            Ok(receiver) => receiver.recv(),
            Err(_) => return,
        };
        match job {
            Ok(job) => job(&mut memory),
            Err(_) => return, // every sender is gone: the service stopped
        }
    }
}
