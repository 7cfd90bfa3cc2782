//! OATH credentials (SPEC §6.5, §8.6): secret sizes and the `otpauth://` URI that enrols an
//! authenticator app.

use data_encoding::BASE32_NOPAD;
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};

use crate::credential::OathDetails;

/// Characters left as they are in URI components (RFC 3986 "unreserved").
const COMPONENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// The shared-secret size for an algorithm: the hash's block of the RFC 4226/6238 reference
/// (20 bytes for SHA1, 32 for SHA256, 64 for SHA512).
pub fn secret_length(algorithm: &str) -> usize {
    match algorithm {
        "SHA256" => 32,
        "SHA512" => 64,
        _ => 20,
    }
}

/// `TOTP` or `HOTP`, as stored and shown in `authenticationMethod`.
pub fn method_name(hotp: bool) -> &'static str {
    if hotp {
        "HOTP"
    } else {
        "TOTP"
    }
}

fn encode(part: &str) -> String {
    utf8_percent_encode(part, COMPONENT).to_string()
}

/// The enrolment URI (Google Authenticator key-URI format):
/// `otpauth://<totp|hotp>/<issuer>:<account>?secret=<Base32>&issuer=…&algorithm=…&digits=…`
/// then `&period=<s>` for TOTP or `&counter=<n>` for HOTP. Label parts are percent-encoded.
pub fn otpauth_uri(details: &OathDetails, account: &str, secret: &[u8]) -> String {
    let hotp = details.authentication_method == "HOTP";
    let issuer = encode(&details.issuer);
    let tail = if hotp {
        format!("counter={}", details.counter)
    } else {
        format!("period={}", details.period)
    };
    format!(
        "otpauth://{}/{}:{}?secret={}&issuer={}&algorithm={}&digits={}&{}",
        if hotp { "hotp" } else { "totp" },
        issuer,
        encode(account),
        BASE32_NOPAD.encode(secret),
        issuer,
        details.hashing_algorithm,
        details.digits,
        tail
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn details(method: &str) -> OathDetails {
        OathDetails {
            issuer: "Acme Corp".into(),
            authentication_method: method.into(),
            hashing_algorithm: "SHA1".into(),
            digits: 6,
            period: 30,
            counter: 0,
            encrypted_secret: "n~c".into(),
            label: "phone".into(),
        }
    }

    #[test]
    fn secret_sizes() {
        assert_eq!(secret_length("SHA1"), 20);
        assert_eq!(secret_length("SHA256"), 32);
        assert_eq!(secret_length("SHA512"), 64);
    }

    #[test]
    fn totp_uri_matches_the_key_uri_format() {
        // RFC 6238's SHA1 test secret "12345678901234567890".
        let uri = otpauth_uri(
            &details("TOTP"),
            "jane@example.com",
            b"12345678901234567890",
        );
        assert_eq!(
            uri,
            "otpauth://totp/Acme%20Corp:jane%40example.com?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=Acme%20Corp&algorithm=SHA1&digits=6&period=30"
        );
    }

    #[test]
    fn hotp_uri_carries_the_counter_not_the_period() {
        let uri = otpauth_uri(&details("HOTP"), "jdoe", &[0xff; 20]);
        assert!(uri.starts_with("otpauth://hotp/Acme%20Corp:jdoe?secret="));
        assert!(uri.ends_with("&counter=0"));
        assert!(!uri.contains("period"));
        assert!(
            !uri.contains('='.to_string().repeat(2).as_str()),
            "no Base32 padding"
        );
    }
}
