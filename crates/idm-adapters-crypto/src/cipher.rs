use aes_gcm::aead::{Aead, KeyInit, OsRng, Payload};
use aes_gcm::{AeadCore, Aes256Gcm, Key, Nonce};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use idm_ports::auth::SecretCipher;
use idm_ports::error::AppError;

/// The configured encryption key is not 32 bytes of Base64.
#[derive(Debug, thiserror::Error)]
#[error("the encryption key must be 32 bytes, Base64-encoded")]
pub struct CipherKeyError;

/// AES-256-GCM with a fresh random 96-bit nonce per value (SPEC §4.5): values are stored as
/// `base64(nonce) "~" base64(ciphertext‖tag)`, so tampering or a wrong key fails to open.
pub struct AesGcmCipher {
    aead: Aes256Gcm,
}

impl AesGcmCipher {
    /// Builds the cipher from the Base64 key of the configuration.
    pub fn from_base64(key: &str) -> Result<Self, CipherKeyError> {
        let bytes = STANDARD.decode(key.trim()).map_err(|_| CipherKeyError)?;
        let key: [u8; 32] = bytes.try_into().map_err(|_| CipherKeyError)?;
        Ok(AesGcmCipher {
            aead: Aes256Gcm::new(&Key::<Aes256Gcm>::from(key)),
        })
    }
}

impl AesGcmCipher {
    fn open_with(&self, sealed: &str, aad: &[u8]) -> Result<Vec<u8>, AppError> {
        let fail = || AppError::Internal("a sealed value could not be opened".into());
        let (nonce, body) = sealed.split_once('~').ok_or_else(fail)?;
        let nonce = STANDARD.decode(nonce).map_err(|_| fail())?;
        let body = STANDARD.decode(body).map_err(|_| fail())?;
        let nonce: [u8; 12] = nonce.try_into().map_err(|_| fail())?;
        self.aead
            .decrypt(
                &Nonce::from(nonce),
                Payload {
                    msg: body.as_ref(),
                    aad,
                },
            )
            .map_err(|_| fail())
    }
}

/// The associated data binding a sealed value to its row (SPEC §10.4).
fn binding(bound_to: &str) -> Vec<u8> {
    format!("idm:v1:{bound_to}").into_bytes()
}

impl SecretCipher for AesGcmCipher {
    fn seal(&self, plain: &[u8], bound_to: &str) -> Result<String, AppError> {
        let nonce = Aes256Gcm::generate_nonce(&mut OsRng);
        let sealed = self
            .aead
            .encrypt(
                &nonce,
                Payload {
                    msg: plain,
                    aad: &binding(bound_to),
                },
            )
            .map_err(|_| AppError::Internal("encryption failed".into()))?;
        Ok(format!(
            "{}~{}",
            STANDARD.encode(nonce),
            STANDARD.encode(sealed)
        ))
    }

    fn open(&self, sealed: &str, bound_to: &str) -> Result<Vec<u8>, AppError> {
        self.open_with(sealed, &binding(bound_to))
    }

    fn open_unbound(&self, sealed: &str) -> Result<Vec<u8>, AppError> {
        self.open_with(sealed, b"")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(byte: u8) -> String {
        STANDARD.encode([byte; 32])
    }

    #[test]
    fn round_trip_with_fresh_nonces() {
        let c = AesGcmCipher::from_base64(&key(7)).unwrap();
        let a = c.seal(b"JBSWY3DPEHPK3PXP", "row-1").unwrap();
        let b = c.seal(b"JBSWY3DPEHPK3PXP", "row-1").unwrap();
        assert_ne!(a, b);
        assert!(!a.contains("JBSWY3DP"));
        assert_eq!(c.open(&a, "row-1").unwrap(), b"JBSWY3DPEHPK3PXP");
        let (n, _) = a.split_once('~').unwrap();
        assert_eq!(STANDARD.decode(n).unwrap().len(), 12);
    }

    #[test]
    fn tampering_and_wrong_keys_fail() {
        let c = AesGcmCipher::from_base64(&key(7)).unwrap();
        let sealed = c.seal(b"secret", "r").unwrap();
        let other = AesGcmCipher::from_base64(&key(8)).unwrap();
        assert!(other.open(&sealed, "r").is_err());
        let (n, body) = sealed.split_once('~').unwrap();
        let mut raw = STANDARD.decode(body).unwrap();
        raw[0] ^= 1;
        assert!(c
            .open(&format!("{n}~{}", STANDARD.encode(raw)), "r")
            .is_err());
        assert!(c.open("garbage", "r").is_err());
        assert!(c.open("~", "r").is_err());
    }

    #[test]
    fn a_value_copied_into_another_row_does_not_open() {
        let c = AesGcmCipher::from_base64(&key(7)).unwrap();
        let sealed = c.seal(b"secret", "credential-a").unwrap();
        assert!(c.open(&sealed, "credential-b").is_err());
        assert!(c.open_unbound(&sealed).is_err());
        assert_eq!(c.open(&sealed, "credential-a").unwrap(), b"secret");
    }

    #[test]
    fn values_sealed_before_binding_open_unbound_only() {
        let c = AesGcmCipher::from_base64(&key(7)).unwrap();
        let nonce = Aes256Gcm::generate_nonce(&mut OsRng);
        let legacy = c.aead.encrypt(&nonce, b"old".as_ref()).unwrap();
        let legacy = format!("{}~{}", STANDARD.encode(nonce), STANDARD.encode(legacy));
        assert_eq!(c.open_unbound(&legacy).unwrap(), b"old");
        assert!(c.open(&legacy, "x").is_err());
    }

    #[test]
    fn keys_must_be_32_bytes_of_base64() {
        assert!(AesGcmCipher::from_base64("not base64!").is_err());
        assert!(AesGcmCipher::from_base64(&STANDARD.encode([1u8; 16])).is_err());
    }
}
