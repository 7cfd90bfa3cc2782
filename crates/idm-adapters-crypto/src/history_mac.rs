use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use hmac::{Hmac, Mac};
use idm_ports::auth::HistoryMac;
use sha2::Sha256;

use crate::cipher::CipherKeyError;

type HmacSha256 = Hmac<Sha256>;

/// HMAC-SHA256 hash chain of the history (SPEC §13), keyed by a key derived from the
/// configured encryption key: anyone with write access to the database but not the key
/// cannot modify, insert or delete an event without `audit verify` noticing.
pub struct HmacHistoryMac {
    key: [u8; 32],
}

impl HmacHistoryMac {
    /// Derives the chain key from the Base64 encryption key (a separate key per purpose).
    pub fn from_base64(encryption_key: &str) -> Result<Self, CipherKeyError> {
        let bytes = STANDARD
            .decode(encryption_key.trim())
            .map_err(|_| CipherKeyError)?;
        if bytes.len() != 32 {
            return Err(CipherKeyError);
        }
        let mut mac = HmacSha256::new_from_slice(&bytes).map_err(|_| CipherKeyError)?;
        mac.update(b"idm history chain v1");
        Ok(HmacHistoryMac {
            key: mac.finalize().into_bytes().into(),
        })
    }
}

impl HistoryMac for HmacHistoryMac {
    fn chain(&self, prev: &str, canonical: &str) -> String {
        // HMAC accepts keys of any length, so this cannot fail; an empty string would only
        // make verification fail, never pass.
        let Ok(mut mac) = HmacSha256::new_from_slice(&self.key) else {
            return String::new();
        };
        mac.update(prev.as_bytes());
        mac.update(b"\n");
        mac.update(canonical.as_bytes());
        STANDARD.encode(mac.finalize().into_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_chain_depends_on_key_previous_hash_and_event() {
        let a = HmacHistoryMac::from_base64(&STANDARD.encode([1u8; 32])).unwrap();
        let b = HmacHistoryMac::from_base64(&STANDARD.encode([2u8; 32])).unwrap();
        let h = a.chain("", "[1,\"e\"]");
        assert_eq!(h, a.chain("", "[1,\"e\"]"));
        assert_ne!(h, b.chain("", "[1,\"e\"]"));
        assert_ne!(h, a.chain("x", "[1,\"e\"]"));
        assert_ne!(h, a.chain("", "[1,\"f\"]"));
        assert!(HmacHistoryMac::from_base64("short").is_err());
    }
}
