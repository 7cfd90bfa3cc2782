use std::sync::Arc;

use idm_ports::auth::{Clock, IssuedToken, TokenIssuer, TokenSubject};
use idm_ports::error::AppError;
use jsonwebtoken::{decode, encode, Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

/// The JWT secret is shorter than SPEC §3.5's 32 bytes.
#[derive(Debug, thiserror::Error)]
#[error("the JWT secret must be at least 32 bytes")]
pub struct JwtKeyError;

#[derive(Debug, Serialize, Deserialize)]
struct Claims {
    sub: String,
    cid: String,
    iat: i64,
    exp: i64,
    jti: String,
    /// The password epoch it was issued at (SPEC §10.4).
    pep: i64,
}

/// Issues and validates the HS256 X-Token of SPEC §3.5; every other algorithm is refused.
pub struct JwtTokenIssuer {
    encoding: EncodingKey,
    decoding: DecodingKey,
    lifetime_seconds: u64,
    clock: Arc<dyn Clock>,
}

/// The largest clock skew tolerated on `exp` (SPEC §3.5).
const LEEWAY_SECONDS: u64 = 5;

impl JwtTokenIssuer {
    /// Builds the issuer; the secret must be at least 32 bytes.
    pub fn new(
        secret: &[u8],
        lifetime_seconds: u64,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, JwtKeyError> {
        if secret.len() < 32 {
            return Err(JwtKeyError);
        }
        Ok(JwtTokenIssuer {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            lifetime_seconds,
            clock,
        })
    }
}

impl TokenIssuer for JwtTokenIssuer {
    fn issue(&self, subject: &TokenSubject) -> Result<IssuedToken, AppError> {
        let iat = self.clock.now().timestamp();
        let claims = Claims {
            sub: subject.user_ext_id.clone(),
            cid: subject.client_ext_id.clone(),
            iat,
            exp: iat + i64::try_from(self.lifetime_seconds).unwrap_or(i64::MAX / 2),
            jti: uuid::Uuid::new_v4().to_string(),
            pep: subject.password_epoch,
        };
        let token = encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .map_err(|_| AppError::Internal("token signing failed".into()))?;
        Ok(IssuedToken {
            token,
            expires_in: self.lifetime_seconds,
        })
    }

    fn validate(&self, token: &str, expected: &TokenSubject) -> bool {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.leeway = LEEWAY_SECONDS;
        validation.validate_exp = false; // checked below against the injected clock
        validation.set_required_spec_claims(&["exp", "sub"]);
        let Ok(data) = decode::<Claims>(token, &self.decoding, &validation) else {
            return false;
        };
        let now = self.clock.now().timestamp();
        let leeway = LEEWAY_SECONDS as i64;
        data.claims.exp + leeway >= now
            && data.claims.iat <= now + leeway
            && data.claims.sub == expected.user_ext_id
            && data.claims.cid == expected.client_ext_id
            && data.claims.pep == expected.password_epoch
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine;
    use chrono::{DateTime, Duration, Utc};
    use std::sync::atomic::{AtomicI64, Ordering};

    struct TestClock(AtomicI64);
    impl Clock for TestClock {
        fn now(&self) -> DateTime<Utc> {
            DateTime::<Utc>::UNIX_EPOCH + Duration::seconds(self.0.load(Ordering::SeqCst))
        }
    }

    const SECRET: &[u8] = b"0123456789abcdef0123456789abcdef";

    fn me() -> TokenSubject {
        TokenSubject {
            user_ext_id: "u1".into(),
            client_ext_id: "c1".into(),
            password_epoch: 0,
        }
    }

    fn issuer(clock: Arc<TestClock>) -> JwtTokenIssuer {
        JwtTokenIssuer::new(SECRET, 3600, clock).unwrap()
    }

    #[test]
    fn issues_and_validates_for_the_subject_only() {
        let clock = Arc::new(TestClock(AtomicI64::new(1_700_000_000)));
        let iss = issuer(clock.clone());
        let t = iss.issue(&me()).unwrap();
        assert_eq!(t.expires_in, 3600);
        assert!(iss.validate(&t.token, &me()));
        let other = TokenSubject {
            user_ext_id: "u2".into(),
            client_ext_id: "c1".into(),
            password_epoch: 0,
        };
        assert!(!iss.validate(&t.token, &other));
        let other_client = TokenSubject {
            user_ext_id: "u1".into(),
            client_ext_id: "c2".into(),
            password_epoch: 0,
        };
        assert!(!iss.validate(&t.token, &other_client));
        let later_epoch = TokenSubject {
            password_epoch: 1,
            ..me()
        };
        assert!(
            !iss.validate(&t.token, &later_epoch),
            "a token ends when the password epoch moves (SPEC §10.4)"
        );
    }

    #[test]
    fn expiry_with_at_most_five_seconds_leeway() {
        let clock = Arc::new(TestClock(AtomicI64::new(1_700_000_000)));
        let iss = issuer(clock.clone());
        let t = iss.issue(&me()).unwrap();
        clock.0.store(1_700_000_000 + 3600 + 5, Ordering::SeqCst);
        assert!(iss.validate(&t.token, &me()));
        clock.0.store(1_700_000_000 + 3600 + 6, Ordering::SeqCst);
        assert!(!iss.validate(&t.token, &me()));
    }

    #[test]
    fn forged_tokens_are_refused() {
        let clock = Arc::new(TestClock(AtomicI64::new(1_700_000_000)));
        let iss = issuer(clock.clone());
        let t = iss.issue(&me()).unwrap().token;
        let parts: Vec<&str> = t.split('.').collect();
        // alg: none
        let none_header = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#);
        assert!(!iss.validate(&format!("{none_header}.{}.", parts[1]), &me()));
        // HS512 with the same key
        let hs512 = encode(
            &Header::new(Algorithm::HS512),
            &serde_json::json!({"sub":"u1","cid":"c1","iat":1_700_000_000i64,"exp":1_700_003_600i64,"jti":"x"}),
            &EncodingKey::from_secret(SECRET),
        )
        .unwrap();
        assert!(!iss.validate(&hs512, &me()));
        // wrong key
        let other =
            JwtTokenIssuer::new(b"another secret of at least 32 bytes!", 3600, clock.clone())
                .unwrap();
        assert!(!iss.validate(&other.issue(&me()).unwrap().token, &me()));
        // tampered payload
        let payload = URL_SAFE_NO_PAD
            .encode(br#"{"sub":"u1","cid":"c1","iat":1700000000,"exp":1900000000,"jti":"x"}"#);
        assert!(!iss.validate(&format!("{}.{payload}.{}", parts[0], parts[2]), &me()));
        // malformed / empty
        assert!(!iss.validate("", &me()));
        assert!(!iss.validate("a.b.c", &me()));
        // not yet valid (iat in the future)
        clock.0.store(1_700_000_000 - 60, Ordering::SeqCst);
        assert!(!iss.validate(&t, &me()));
    }

    #[test]
    fn short_secrets_are_refused() {
        let clock = Arc::new(TestClock(AtomicI64::new(0)));
        assert!(JwtTokenIssuer::new(b"short", 3600, clock).is_err());
    }
}
