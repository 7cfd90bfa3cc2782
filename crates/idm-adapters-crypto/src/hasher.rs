use argon2::password_hash::{PasswordHash, PasswordHasher as _, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use idm_ports::auth::PasswordHasher;
use idm_ports::error::AppError;
use rand::rngs::OsRng;

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

/// The configured cost is not a valid argon2 parameter set.
#[derive(Debug, thiserror::Error)]
#[error("invalid argon2 parameters: {0}")]
pub struct HasherError(String);

/// argon2id PHC hashing with a per-process dummy hash for constant-time rejection of unknown
/// login IDs.
pub struct Argon2Hasher {
    argon: Argon2<'static>,
    dummy: String,
}

impl Argon2Hasher {
    /// Builds the hasher; fails on parameters argon2 rejects.
    pub fn new(settings: Argon2Settings) -> Result<Self, HasherError> {
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
        Ok(Argon2Hasher { argon, dummy })
    }
}

impl PasswordHasher for Argon2Hasher {
    fn hash(&self, password: &str) -> Result<String, AppError> {
        let salt = SaltString::generate(&mut OsRng);
        self.argon
            .hash_password(password.as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|e| AppError::Internal(format!("argon2 hashing failed: {e}")))
    }

    fn verify(&self, password: &str, phc: &str) -> bool {
        match PasswordHash::new(phc) {
            // Verification uses the parameters stored in the hash, so old hashes keep working
            // after the configured cost changes.
            Ok(parsed) => self
                .argon
                .verify_password(password.as_bytes(), &parsed)
                .is_ok(),
            Err(_) => false,
        }
    }

    fn verify_dummy(&self, password: &str) {
        let _ = self.verify(password, &self.dummy);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cheap() -> Argon2Hasher {
        Argon2Hasher::new(Argon2Settings {
            memory_kib: 64,
            iterations: 1,
            parallelism: 1,
        })
        .unwrap()
    }

    #[test]
    fn hashes_are_argon2id_phc_and_verify() {
        let h = cheap();
        let phc = h.hash("s3cret!").unwrap();
        assert!(phc.starts_with("$argon2id$v=19$m=64,t=1,p=1$"));
        assert!(!phc.contains("s3cret"));
        assert!(h.verify("s3cret!", &phc));
        assert!(!h.verify("s3cret", &phc));
        assert!(!h.verify("s3cret!", "not a hash"));
        assert_ne!(phc, h.hash("s3cret!").unwrap(), "fresh salt per hash");
    }

    #[test]
    fn verification_follows_the_parameters_in_the_hash() {
        let old = cheap().hash("pw").unwrap();
        let newer = Argon2Hasher::new(Argon2Settings {
            memory_kib: 128,
            iterations: 2,
            parallelism: 1,
        })
        .unwrap();
        assert!(newer.verify("pw", &old));
    }

    #[test]
    fn invalid_parameters_are_refused() {
        assert!(Argon2Hasher::new(Argon2Settings {
            memory_kib: 1,
            iterations: 0,
            parallelism: 0
        })
        .is_err());
    }
}
