//! Start-up proof that the configured encryption key is the key the database's secrets were
//! sealed with (SPEC §4.5): a wrong key must fail start-up clearly, not later and silently when
//! an OATH secret or a delivery cannot be opened.

use super::Ports;
use crate::error::AppResult;
use crate::history::Outcome;
use crate::permit::{Actor, Permit, TargetIds};
use crate::repos::{transact, TxMode};
use crate::write::write;

/// Where the check value lives in the database's meta data.
const CHECK_NAME: &str = "encryption-key-check";
/// The sealed constant; any key opens nothing but its own seal of it.
const CHECK_PLAIN: &[u8] = b"idm encryption key check v1";

/// What the key check found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyCheck {
    /// The database had no check value; one sealed under this key is now stored.
    Recorded,
    /// The stored check value opens under this key.
    Verified,
    /// The stored check value does not open under this key.
    Mismatch,
}

/// Verifies (or, on a new database, records) the encryption-key check value.
pub struct EncryptionKeyCheck {
    ports: Ports,
}

/// Meta key marking that every sealed value is bound to its row (SPEC §10.4).
const BOUND_MARK: &str = "sealed-values-bound-v1";

impl EncryptionKeyCheck {
    /// Builds the check over the shared ports.
    pub fn new(ports: Ports) -> Self {
        EncryptionKeyCheck { ports }
    }

    /// The upgrade of SPEC §10.4, once per database after the key is verified: OATH secrets
    /// and outbox payloads sealed before values were bound to their rows are opened and sealed
    /// again bound to their row. Returns how many were re-sealed. A value that opens neither
    /// way is left as it is (its use then fails as a tampered value does).
    pub fn bind_sealed_values(&self) -> AppResult<u64> {
        let cipher = &self.ports.cipher;
        write(&self.ports, |tx| {
            if tx.repos().meta().get(BOUND_MARK)?.is_some() {
                return Ok(0);
            }
            let mut resealed = 0u64;
            let secrets = tx.repos().credentials().oath_secrets()?;
            for (id, sealed) in secrets {
                if cipher.open(&sealed, &id).is_ok() {
                    continue;
                }
                if let Ok(plain) = cipher.open_unbound(&sealed) {
                    let bound = cipher.seal(&plain, &id)?;
                    tx.repos().credentials().reseal_oath_secret(&id, &bound)?;
                    resealed += 1;
                }
            }
            for delivery in tx.repos().deliveries().pending(u32::MAX)? {
                let id = &delivery.id;
                if cipher.open(&delivery.sealed_payload, id).is_ok() {
                    continue;
                }
                if let Ok(plain) = cipher.open_unbound(&delivery.sealed_payload) {
                    let bound = cipher.seal(&plain, id)?;
                    tx.repos().deliveries().reseal(id, &bound)?;
                    resealed += 1;
                }
            }
            tx.repos().meta().put(BOUND_MARK, "done")?;
            if resealed > 0 {
                let permit = Permit::system(Actor::Bootstrap, TargetIds::default());
                let detail = format!("{resealed} sealed values bound to their rows");
                tx.note(
                    &permit,
                    "storage.resealed",
                    Outcome::Success,
                    None,
                    Some(&detail),
                );
            }
            Ok(resealed)
        })
    }

    /// Runs the check in one write transaction; a concurrent instance recording first is fine.
    pub fn run(&self) -> AppResult<KeyCheck> {
        let cipher = &self.ports.cipher;
        transact(&*self.ports.uow, TxMode::Write, |repos| {
            let stored = match repos.meta().get(CHECK_NAME)? {
                Some(sealed) => sealed,
                None => {
                    let sealed = cipher.seal(CHECK_PLAIN, CHECK_NAME)?;
                    if repos.meta().insert_if_absent(CHECK_NAME, &sealed)? {
                        return Ok(KeyCheck::Recorded);
                    }
                    repos.meta().get(CHECK_NAME)?.unwrap_or_default()
                }
            };
            // A database from before values were bound to rows holds an unbound check value.
            let opened = cipher
                .open(&stored, CHECK_NAME)
                .or_else(|_| cipher.open_unbound(&stored));
            Ok(match opened {
                Ok(plain) if plain == CHECK_PLAIN => KeyCheck::Verified,
                _ => KeyCheck::Mismatch,
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::AppError;
    use crate::testing::MockRepos;
    use crate::usecases::tests::support::Harness;

    /// How the mocked cipher treats the stored check value.
    #[derive(Clone, Copy)]
    enum Key {
        /// Opens values bound to the check's row.
        Right,
        /// Opens only a value sealed before values were bound to rows.
        RightUnbound,
        /// Opens nothing.
        Wrong,
    }

    fn run(repos: MockRepos, key: Key) -> KeyCheck {
        let mut h = Harness::new();
        h.repos = repos;
        h.cipher
            .expect_seal()
            .withf(|plain, bound_to| plain == CHECK_PLAIN && bound_to == CHECK_NAME)
            .returning(|_, _| Ok("sealed".into()));
        h.cipher
            .expect_open()
            .returning(move |_, bound_to| match key {
                Key::Right if bound_to == CHECK_NAME => Ok(CHECK_PLAIN.to_vec()),
                _ => Err(AppError::Internal("tag mismatch".into())),
            });
        h.cipher
            .expect_open_unbound()
            .returning(move |_| match key {
                Key::RightUnbound => Ok(CHECK_PLAIN.to_vec()),
                _ => Err(AppError::Internal("tag mismatch".into())),
            });
        let (ports, _) = h.build();
        EncryptionKeyCheck::new(ports).run().unwrap()
    }

    fn stored(value: &'static str) -> MockRepos {
        let mut r = MockRepos::default();
        r.meta
            .expect_get()
            .withf(|n| n == CHECK_NAME)
            .returning(move |_| Ok(Some(value.into())));
        r
    }

    #[test]
    fn a_new_database_records_the_check_value_bound_to_its_name() {
        let mut r = MockRepos::default();
        r.meta.expect_get().returning(|_| Ok(None));
        r.meta
            .expect_insert_if_absent()
            .withf(|n, v| n == CHECK_NAME && v == "sealed")
            .returning(|_, _| Ok(true));
        assert_eq!(run(r, Key::Right), KeyCheck::Recorded);
    }

    #[test]
    fn the_right_key_verifies_and_a_wrong_one_mismatches() {
        assert_eq!(run(stored("stored"), Key::Right), KeyCheck::Verified);
        assert_eq!(run(stored("stored"), Key::Wrong), KeyCheck::Mismatch);
    }

    #[test]
    fn an_unbound_check_value_of_an_older_database_still_verifies() {
        assert_eq!(run(stored("legacy"), Key::RightUnbound), KeyCheck::Verified);
    }

    #[test]
    fn a_concurrent_instance_recording_first_is_verified_against_its_value() {
        // The meta row is empty when read, but another instance stores its value before ours.
        let row = std::sync::Arc::new(std::sync::Mutex::new(None::<String>));
        let mut r = MockRepos::default();
        let read = row.clone();
        r.meta
            .expect_get()
            .returning(move |_| Ok(read.lock().unwrap().clone()));
        let raced = row.clone();
        r.meta.expect_insert_if_absent().returning(move |_, _| {
            *raced.lock().unwrap() = Some("theirs".into());
            Ok(false)
        });
        assert_eq!(run(r, Key::Right), KeyCheck::Verified);
        assert_eq!(row.lock().unwrap().as_deref(), Some("theirs"));
    }
}
