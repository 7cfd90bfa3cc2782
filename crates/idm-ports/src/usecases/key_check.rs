//! Start-up proof that the configured encryption key is the key the database's secrets were
//! sealed with (SPEC §4.5): a wrong key must fail start-up clearly, not later and silently when
//! an OATH secret or a delivery cannot be opened.

use super::Ports;
use crate::error::AppResult;
use crate::repos::{transact, TxMode};

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

impl EncryptionKeyCheck {
    /// Builds the check over the shared ports.
    pub fn new(ports: Ports) -> Self {
        EncryptionKeyCheck { ports }
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

    fn run(repos: MockRepos, open_ok: bool) -> KeyCheck {
        let mut h = Harness::new();
        h.repos = repos;
        h.cipher.expect_seal().returning(|_| Ok("sealed".into()));
        h.cipher.expect_open().returning(move |_| {
            if open_ok {
                Ok(CHECK_PLAIN.to_vec())
            } else {
                Err(AppError::Internal("tag mismatch".into()))
            }
        });
        let (ports, _) = h.build();
        EncryptionKeyCheck::new(ports).run().unwrap()
    }

    #[test]
    fn a_new_database_records_the_check_value() {
        let mut r = MockRepos::default();
        r.meta.expect_get().returning(|_| Ok(None));
        r.meta
            .expect_insert_if_absent()
            .withf(|n, v| n == CHECK_NAME && v == "sealed")
            .returning(|_, _| Ok(true));
        assert_eq!(run(r, true), KeyCheck::Recorded);
    }

    #[test]
    fn the_right_key_verifies_and_a_wrong_one_mismatches() {
        let mut r = MockRepos::default();
        r.meta.expect_get().returning(|_| Ok(Some("stored".into())));
        assert_eq!(run(r, true), KeyCheck::Verified);
        let mut r = MockRepos::default();
        r.meta.expect_get().returning(|_| Ok(Some("stored".into())));
        assert_eq!(run(r, false), KeyCheck::Mismatch);
    }
}
