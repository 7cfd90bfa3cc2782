use argon2::password_hash::{PasswordHash, PasswordHasher as _, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use std::sync::{mpsc, Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use idm_ports::auth::{HashSlot, PasswordHasher};
use idm_ports::error::AppError;
use rand::rngs::OsRng;
use zeroize::Zeroizing;

/// The argon2id cost (SPEC §4.5: m = 19456 KiB, t = 2, p = 1 by default).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Argon2Settings {
    /// Memory in KiB.
    pub memory_kib: u32,
    /// Passes.
    pub iterations: u32,
    /// Lanes.
    pub parallelism: u32,
}

impl Default for Argon2Settings {
    fn default() -> Self {
        Argon2Settings {
            memory_kib: 19456,
            iterations: 2,
            parallelism: 1,
        }
    }
}

/// How much hashing may run and wait at once (SPEC §10.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HashLimits {
    /// argon2 computations at once (`IDM_HASH_CONCURRENCY`, default: the cores).
    pub concurrency: usize,
    /// Requests that may wait for one (`IDM_HASH_QUEUE`, default 64).
    pub queue: usize,
    /// The longest wait (`IDM_HASH_WAIT_MS`, default 2000).
    pub wait: Duration,
}

impl Default for HashLimits {
    fn default() -> Self {
        HashLimits {
            concurrency: std::thread::available_parallelism().map_or(2, |n| n.get()),
            queue: 64,
            wait: Duration::from_millis(2000),
        }
    }
}

/// A counting gate with a bounded queue: a caller runs at once, waits boundedly in the queue,
/// or is turned away (`AppError::Busy`, 503 with `Retry-After: 1`), so a flood of logins can
/// neither exhaust memory (each argon2 takes 19 MiB) nor starve the requests that need no hash.
#[derive(Debug)]
struct HashGate {
    limits: HashLimits,
    state: Mutex<GateState>,
    freed: Condvar,
}

#[derive(Debug, Default)]
struct GateState {
    running: usize,
    waiting: usize,
}

/// Frees its place in the gate when dropped.
struct GatePass(Arc<HashGate>);

impl Drop for GatePass {
    fn drop(&mut self) {
        if let Ok(mut s) = self.0.state.lock() {
            s.running = s.running.saturating_sub(1);
        }
        self.0.freed.notify_one();
    }
}

impl HashGate {
    fn new(limits: HashLimits) -> Self {
        HashGate {
            limits: HashLimits {
                concurrency: limits.concurrency.max(1),
                ..limits
            },
            state: Mutex::new(GateState::default()),
            freed: Condvar::new(),
        }
    }

    fn enter(self: &Arc<Self>) -> Result<HashSlot, AppError> {
        let busy = || AppError::Busy;
        let mut s = self.state.lock().map_err(|_| busy())?;
        if s.running < self.limits.concurrency && s.waiting == 0 {
            s.running += 1;
            return Ok(HashSlot::new(Box::new(GatePass(self.clone()))));
        }
        if s.waiting >= self.limits.queue {
            return Err(busy());
        }
        s.waiting += 1;
        let deadline = Instant::now() + self.limits.wait;
        loop {
            if s.running < self.limits.concurrency {
                s.waiting -= 1;
                s.running += 1;
                return Ok(HashSlot::new(Box::new(GatePass(self.clone()))));
            }
            let now = Instant::now();
            if now >= deadline {
                s.waiting -= 1;
                return Err(busy());
            }
            s = match self.freed.wait_timeout(s, deadline - now) {
                Ok((guard, _)) => guard,
                Err(_) => return Err(busy()),
            };
        }
    }
}

/// The configured cost is not a valid argon2 parameter set.
#[derive(Debug, thiserror::Error)]
#[error("invalid argon2 parameters: {0}")]
pub struct HasherError(String);

/// argon2id PHC hashing with a per-process dummy hash for constant-time rejection of unknown
/// login IDs.
pub struct Argon2Hasher {
    argon: Argon2<'static>,
    dummy: String,
    gate: Arc<HashGate>,
    pool: HashPool,
}

impl Argon2Hasher {
    /// Builds the hasher; fails on parameters argon2 rejects.
    pub fn new(settings: Argon2Settings, limits: HashLimits) -> Result<Self, HasherError> {
        let params = Params::new(
            settings.memory_kib,
            settings.iterations,
            settings.parallelism,
            None,
        )
        .map_err(|e| HasherError(e.to_string()))?;
        let argon = Argon2::new(Algorithm::Argon2id, Version::V0x13, params);
        let salt = SaltString::generate(&mut OsRng);
        let dummy = argon
            .hash_password(b"dummy password for unknown users", &salt)
            .map_err(|e| HasherError(e.to_string()))?
            .to_string();
        Ok(Argon2Hasher {
            argon,
            dummy,
            // Admitted requests do their database work (the attempt's reservation) before and
            // after their hash; admitting twice the threads keeps the threads busy while the
            // pool still bounds the argon2 computations (and their memory) to `concurrency`.
            gate: Arc::new(HashGate::new(HashLimits {
                concurrency: limits.concurrency.max(1) * 2,
                ..limits
            })),
            pool: HashPool::new(limits.concurrency),
        })
    }
}

/// The threads that run argon2: as many as the gate lets run at once, each at a lower
/// scheduling priority (`SCHED_BATCH`, nice 5) so that health probes, cached reads and the HTTP
/// workers are not kept waiting behind a hashing flood on a small machine (SPEC §10.3).
struct HashPool {
    jobs: Mutex<mpsc::Sender<Job>>,
}

type Job = Box<dyn FnOnce() + Send>;

impl HashPool {
    fn new(threads: usize) -> Self {
        let (tx, rx) = mpsc::channel::<Job>();
        let rx = Arc::new(Mutex::new(rx));
        for n in 0..threads.max(1) {
            let rx = rx.clone();
            let spawned = std::thread::Builder::new()
                .name(format!("idm-hash-{n}"))
                .spawn(move || {
                    lower_own_priority();
                    loop {
                        let job = match rx.lock() {
                            Ok(rx) => rx.recv(),
                            Err(_) => return,
                        };
                        match job {
                            Ok(job) => job(),
                            Err(_) => return,
                        }
                    }
                });
            if let Err(e) = spawned {
                tracing::warn!(error = %e, "a hashing thread could not be started");
            }
        }
        HashPool {
            jobs: Mutex::new(tx),
        }
    }

    /// Runs `work` on a hashing thread and waits for its result; `None` if the pool is gone.
    fn run<T: Send + 'static>(&self, work: impl FnOnce() -> T + Send + 'static) -> Option<T> {
        let (done, result) = mpsc::sync_channel(1);
        let job: Job = Box::new(move || {
            let _ = done.send(work());
        });
        self.jobs.lock().ok()?.send(job).ok()?;
        result.recv().ok()
    }
}

/// Best effort: without the right to change it, the thread keeps the normal priority.
fn lower_own_priority() {
    use thread_priority::unix::{
        set_thread_priority_and_policy, thread_native_id, NormalThreadSchedulePolicy,
        ThreadSchedulePolicy,
    };
    use thread_priority::{ThreadPriority, ThreadPriorityValue};
    let Ok(value) = ThreadPriorityValue::try_from(35u8) else {
        return;
    };
    if let Err(e) = set_thread_priority_and_policy(
        thread_native_id(),
        ThreadPriority::Crossplatform(value),
        ThreadSchedulePolicy::Normal(NormalThreadSchedulePolicy::Batch),
    ) {
        tracing::debug!(error = ?e, "hashing threads keep the normal priority");
    }
}

impl PasswordHasher for Argon2Hasher {
    fn slot(&self) -> Result<HashSlot, AppError> {
        self.gate.enter()
    }

    fn hash(&self, _slot: &HashSlot, password: &str) -> Result<String, AppError> {
        let argon = self.argon.clone();
        let password = Zeroizing::new(password.to_owned());
        self.pool
            .run(move || {
                let salt = SaltString::generate(&mut OsRng);
                argon
                    .hash_password(password.as_bytes(), &salt)
                    .map(|h| h.to_string())
                    .map_err(|e| AppError::Internal(format!("argon2 hashing failed: {e}")))
            })
            .unwrap_or_else(|| Err(AppError::Internal("the hashing threads are gone".into())))
    }

    fn verify(&self, _slot: &HashSlot, password: &str, phc: &str) -> bool {
        let argon = self.argon.clone();
        let password = Zeroizing::new(password.to_owned());
        let phc = phc.to_owned();
        self.pool
            .run(move || match PasswordHash::new(&phc) {
                // Verification uses the parameters stored in the hash, so old hashes keep
                // working after the configured cost changes.
                Ok(parsed) => argon.verify_password(password.as_bytes(), &parsed).is_ok(),
                Err(_) => false,
            })
            .unwrap_or(false)
    }

    fn verify_dummy(&self, slot: &HashSlot, password: &str) {
        let _ = self.verify(slot, password, &self.dummy);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cheap() -> Argon2Hasher {
        Argon2Hasher::new(
            Argon2Settings {
                memory_kib: 64,
                iterations: 1,
                parallelism: 1,
            },
            HashLimits::default(),
        )
        .unwrap()
    }

    #[test]
    fn hashes_are_argon2id_phc_and_verify() {
        let h = cheap();
        let slot = h.slot().unwrap();
        let phc = h.hash(&slot, "s3cret!").unwrap();
        assert!(phc.starts_with("$argon2id$v=19$m=64,t=1,p=1$"));
        assert!(!phc.contains("s3cret"));
        assert!(h.verify(&slot, "s3cret!", &phc));
        assert!(!h.verify(&slot, "s3cret", &phc));
        assert!(!h.verify(&slot, "s3cret!", "not a hash"));
        assert_ne!(
            phc,
            h.hash(&slot, "s3cret!").unwrap(),
            "fresh salt per hash"
        );
    }

    #[test]
    fn verification_follows_the_parameters_in_the_hash() {
        let h = cheap();
        let slot = h.slot().unwrap();
        let old = h.hash(&slot, "pw").unwrap();
        let newer = Argon2Hasher::new(
            Argon2Settings {
                memory_kib: 128,
                iterations: 2,
                parallelism: 1,
            },
            HashLimits::default(),
        )
        .unwrap();
        assert!(newer.verify(&slot, "pw", &old));
    }

    #[test]
    fn invalid_parameters_are_refused() {
        assert!(Argon2Hasher::new(
            Argon2Settings {
                memory_kib: 1,
                iterations: 0,
                parallelism: 0
            },
            HashLimits::default()
        )
        .is_err());
    }

    #[test]
    fn the_gate_bounds_running_and_waiting_and_times_out() {
        let gate = Arc::new(HashGate::new(HashLimits {
            concurrency: 1,
            queue: 1,
            wait: Duration::from_millis(50),
        }));
        let first = gate.enter().unwrap();
        // One may wait; it times out while the first holds the slot.
        let started = Instant::now();
        assert_eq!(gate.enter().unwrap_err(), AppError::Busy);
        assert!(started.elapsed() >= Duration::from_millis(50));
        // With the queue full, the next is turned away at once.
        let g2 = gate.clone();
        let waiter = std::thread::spawn(move || g2.enter().map(|_| ()));
        std::thread::sleep(Duration::from_millis(10));
        let started = Instant::now();
        assert_eq!(gate.enter().unwrap_err(), AppError::Busy);
        assert!(started.elapsed() < Duration::from_millis(40));
        drop(first);
        assert!(
            waiter.join().unwrap().is_ok(),
            "a freed slot goes to the waiter"
        );
        assert!(gate.enter().is_ok());
    }
}
