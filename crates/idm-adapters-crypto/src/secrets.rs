use idm_ports::auth::SecretGenerator;
use rand::rngs::OsRng;
use rand::{Rng, RngCore};

/// Secrets from the operating system's CSPRNG.
#[derive(Debug, Default, Clone, Copy)]
pub struct OsSecretGenerator;

impl SecretGenerator for OsSecretGenerator {
    fn password(&self, charset: &str, length: usize) -> String {
        let alphabet: Vec<char> = charset.chars().collect();
        if alphabet.is_empty() {
            return String::new();
        }
        let mut rng = OsRng;
        (0..length)
            .map(|_| alphabet[rng.gen_range(0..alphabet.len())])
            .collect()
    }

    fn bytes(&self, length: usize) -> Vec<u8> {
        let mut out = vec![0u8; length];
        OsRng.fill_bytes(&mut out);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_use_only_the_charset_and_the_length() {
        let g = OsSecretGenerator;
        let p = g.password("ab", 64);
        assert_eq!(p.chars().count(), 64);
        assert!(p.chars().all(|c| c == 'a' || c == 'b'));
        assert!(p.contains('a') && p.contains('b'));
        assert_ne!(g.bytes(32), g.bytes(32));
        assert_eq!(g.password("", 5), "");
    }
}
