use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Duration, Utc};
use hmac::digest::KeyInit;
use hmac::{Hmac, Mac};
use idm_ports::auth::{Clock, LoginCache, LoginCacheKey};
use rand::rngs::OsRng;
use rand::RngCore;
use sha2::Sha256;

type Tag = [u8; 32];
/// An HMAC-SHA256 key of one full block.
type MacKey = [u8; 64];

/// Most entries kept; past this, expired ones are purged and, if still full, all are dropped
/// (a cache miss only costs one argon2 verification).
const MAX_ENTRIES: usize = 100_000;

/// Remembers successful password verifications for a short time (SPEC §3.1), keyed by user
/// and credential version, holding only an HMAC of the password under a random per-process
/// key, never the password itself.
pub struct HmacLoginCache {
    key: MacKey,
    ttl: Duration,
    clock: Arc<dyn Clock>,
    entries: Mutex<HashMap<LoginCacheKey, (Tag, DateTime<Utc>)>>,
}

impl HmacLoginCache {
    /// A cache whose entries live `ttl_seconds`; 0 turns it off.
    pub fn new(ttl_seconds: u64, clock: Arc<dyn Clock>) -> Self {
        let mut key = [0u8; 64];
        OsRng.fill_bytes(&mut key);
        HmacLoginCache {
            key,
            ttl: Duration::seconds(i64::try_from(ttl_seconds).unwrap_or(i64::MAX / 1000)),
            clock,
            entries: Mutex::new(HashMap::new()),
        }
    }

    fn tag(&self, key: &LoginCacheKey, password: &str) -> Tag {
        let mut mac = <Hmac<Sha256> as KeyInit>::new(&self.key.into());
        mac.update(key.user_id.as_bytes());
        mac.update(&key.password_epoch.to_be_bytes());
        mac.update(password.as_bytes());
        mac.finalize().into_bytes().into()
    }

    fn enabled(&self) -> bool {
        self.ttl > Duration::zero()
    }
}

impl LoginCache for HmacLoginCache {
    fn is_fresh(&self, key: &LoginCacheKey, password: &str) -> bool {
        if !self.enabled() {
            return false;
        }
        let tag = self.tag(key, password);
        let now = self.clock.now();
        let Ok(entries) = self.entries.lock() else {
            return false;
        };
        match entries.get(key) {
            // Constant-time comparison of the tags.
            Some((stored, expires)) => *expires > now && constant_time_eq(stored, &tag),
            None => false,
        }
    }

    fn remember(&self, key: LoginCacheKey, password: &str) {
        if !self.enabled() {
            return;
        }
        let tag = self.tag(&key, password);
        let now = self.clock.now();
        let Ok(mut entries) = self.entries.lock() else {
            return;
        };
        if entries.len() >= MAX_ENTRIES {
            entries.retain(|_, (_, expires)| *expires > now);
            if entries.len() >= MAX_ENTRIES {
                entries.clear();
            }
        }
        // Older versions of the same user's credential can never match again; drop them.
        entries.retain(|k, _| k.user_id != key.user_id);
        entries.insert(key, (tag, now + self.ttl));
    }
}

fn constant_time_eq(a: &Tag, b: &Tag) -> bool {
    a.iter()
        .zip(b.iter())
        .fold(0u8, |acc, (x, y)| acc | (x ^ y))
        == 0
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicI64, Ordering};

    struct TestClock(AtomicI64);
    impl Clock for TestClock {
        fn now(&self) -> DateTime<Utc> {
            DateTime::<Utc>::UNIX_EPOCH + Duration::seconds(self.0.load(Ordering::SeqCst))
        }
    }

    fn key(v: i64) -> LoginCacheKey {
        LoginCacheKey {
            user_id: "u1".into(),
            password_epoch: v,
        }
    }

    #[test]
    fn remembers_only_the_right_password_and_version_until_expiry() {
        let clock = Arc::new(TestClock(AtomicI64::new(0)));
        let cache = HmacLoginCache::new(60, clock.clone());
        assert!(!cache.is_fresh(&key(1), "pw"));
        cache.remember(key(1), "pw");
        assert!(cache.is_fresh(&key(1), "pw"));
        assert!(!cache.is_fresh(&key(1), "other"));
        assert!(
            !cache.is_fresh(&key(2), "pw"),
            "a new credential version ends the entry"
        );
        clock.0.store(61, Ordering::SeqCst);
        assert!(!cache.is_fresh(&key(1), "pw"));
    }

    #[test]
    fn zero_ttl_turns_it_off() {
        let cache = HmacLoginCache::new(0, Arc::new(TestClock(AtomicI64::new(0))));
        cache.remember(key(1), "pw");
        assert!(!cache.is_fresh(&key(1), "pw"));
    }

    #[test]
    fn never_stores_the_password() {
        let cache = HmacLoginCache::new(60, Arc::new(TestClock(AtomicI64::new(0))));
        cache.remember(key(1), "correct horse battery staple");
        let entries = cache.entries.lock().unwrap();
        let dump = format!("{:?}", entries.values().collect::<Vec<_>>());
        assert!(!dump.contains("horse"));
    }
}
