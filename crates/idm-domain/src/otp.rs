//! OATH one-time passwords (SPEC §11.2): HOTP (RFC 4226), TOTP (RFC 6238) and the rules that
//! decide whether a submitted code logs in.
//!
//! Pure code: the time comes in as an argument, the HMAC is the `hmac` crate's. Every function
//! takes any input without panicking — a malformed code is simply not accepted — and the search
//! windows are capped at the SPEC §5 maxima so a corrupt policy cannot make one login compute
//! millions of HMACs.

use std::ops::RangeInclusive;

use hmac::{Hmac, Mac};
use sha1::Sha1;
use sha2::{Sha256, Sha512};
use subtle::ConstantTimeEq;

/// The code lengths an `OathPolicy` allows (`initialDigits`, SPEC §5).
pub const DIGITS: RangeInclusive<u32> = 6..=8;
/// Largest `totpWindow` (SPEC §5); larger windows are treated as this one.
pub const MAX_TOTP_WINDOW: u32 = 10;
/// Largest `hotpLookAhead` (SPEC §5); larger look-aheads are treated as this one.
pub const MAX_HOTP_LOOK_AHEAD: u32 = 100;
/// Largest `hotpResyncWindow` (SPEC §5); larger windows are treated as this one.
pub const MAX_HOTP_RESYNC_WINDOW: u32 = 1000;

/// The HMAC hash of an OATH credential; the stored `hashingAlgorithm` names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OathAlgorithm {
    /// HMAC-SHA1, RFC 4226's original and the authenticator apps' default.
    Sha1,
    /// HMAC-SHA256 (RFC 6238).
    Sha256,
    /// HMAC-SHA512 (RFC 6238).
    Sha512,
}

impl OathAlgorithm {
    /// Reads a stored or policy name (`SHA1`, `SHA256`, `SHA512`); anything else is `None`,
    /// so an unknown name cannot silently verify as SHA1.
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "SHA1" => Some(Self::Sha1),
            "SHA256" => Some(Self::Sha256),
            "SHA512" => Some(Self::Sha512),
            _ => None,
        }
    }

    /// The name as stored and shown in `hashingAlgorithm` and the `otpauth://` URI.
    pub fn name(self) -> &'static str {
        match self {
            Self::Sha1 => "SHA1",
            Self::Sha256 => "SHA256",
            Self::Sha512 => "SHA512",
        }
    }
}

/// The outcome of a TOTP login attempt, so the caller can count failures and store the step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TotpCheck {
    /// The code is right for `step`, which is after the last accepted one: store it as the
    /// new last accepted step.
    Accepted {
        /// The matched time step.
        step: u64,
    },
    /// The code is right only for steps at or before the last accepted one: refused like a
    /// wrong code (SPEC §11.2 replay protection), distinguished for logs and metrics.
    Replayed,
    /// Wrong, malformed, or outside the window.
    Rejected,
}

fn mac<M: Mac + hmac::digest::KeyInit>(key: &[u8], message: &[u8]) -> Vec<u8> {
    // HMAC takes keys of any length (longer ones are hashed), so this cannot fail.
    let mut mac = <M as Mac>::new_from_slice(key).expect("HMAC accepts keys of any length");
    mac.update(message);
    mac.finalize().into_bytes().to_vec()
}

/// The HOTP value (RFC 4226 §5.3): HMAC over the big-endian counter, dynamic truncation,
/// modulo 10^`digits`, zero-padded. `digits` outside 6..=8 is clamped into that range, the
/// only lengths a policy allows; the verifiers reject such lengths instead.
pub fn hotp(secret: &[u8], counter: u64, digits: u32, algorithm: OathAlgorithm) -> String {
    let message = counter.to_be_bytes();
    let hash = match algorithm {
        OathAlgorithm::Sha1 => mac::<Hmac<Sha1>>(secret, &message),
        OathAlgorithm::Sha256 => mac::<Hmac<Sha256>>(secret, &message),
        OathAlgorithm::Sha512 => mac::<Hmac<Sha512>>(secret, &message),
    };
    // Digests are 20, 32 or 64 bytes; the offset is at most 15, so the four bytes exist.
    let offset = usize::from(hash[hash.len() - 1] & 0x0f);
    let binary = u32::from_be_bytes([
        hash[offset] & 0x7f,
        hash[offset + 1],
        hash[offset + 2],
        hash[offset + 3],
    ]);
    let digits = digits.clamp(*DIGITS.start(), *DIGITS.end());
    format!(
        "{:0width$}",
        binary % 10u32.pow(digits),
        width = digits as usize
    )
}

/// The RFC 6238 time step `floor(unix_seconds / period)` (T0 = 0). A zero period, which no
/// policy allows (1–3600), counts as 1 s instead of dividing by zero; instants before 1970
/// count as step 0, since the counter is unsigned.
pub fn totp_step(unix_seconds: i64, period: u32) -> u64 {
    let step = unix_seconds.div_euclid(i64::from(period.max(1)));
    u64::try_from(step).unwrap_or(0)
}

/// The TOTP code at `unix_seconds` (RFC 6238): the HOTP of the time step.
pub fn totp(
    secret: &[u8],
    unix_seconds: i64,
    period: u32,
    digits: u32,
    algorithm: OathAlgorithm,
) -> String {
    hotp(secret, totp_step(unix_seconds, period), digits, algorithm)
}

/// Whether `code` is exactly `digits` ASCII decimal digits with `digits` a policy length: the
/// gate before any HMAC is computed (SPEC §11.2 "not `digits` decimal digits → a failure").
fn well_formed(code: &str, digits: u32) -> bool {
    DIGITS.contains(&digits)
        && code.len() == digits as usize
        && code.bytes().all(|b| b.is_ascii_digit())
}

/// Constant-time comparison of `code` with the HOTP value at `counter`.
fn matches(secret: &[u8], code: &str, counter: u64, digits: u32, alg: OathAlgorithm) -> bool {
    hotp(secret, counter, digits, alg)
        .as_bytes()
        .ct_eq(code.as_bytes())
        .into()
}

/// The counters `counter` … `counter + width` (`width` capped at `cap`) a verifier examines,
/// stopping short of u64::MAX so the counter the caller stores next (matched + 1 for a login,
/// the second code's + 1 for a resync) always fits.
fn counter_range(counter: u64, width: u32, cap: u32) -> RangeInclusive<u64> {
    let top = counter
        .saturating_add(u64::from(width.min(cap)))
        .min(u64::MAX - 1);
    counter..=top
}

/// Checks a TOTP login (SPEC §11.2): the code may be for any step T−`window` … T+`window`
/// (T = the step of `now_unix`, `window` capped at [`MAX_TOTP_WINDOW`]), but a step at or
/// before `last_accepted_step` is never accepted, so each code works once. When several steps
/// match, the earliest fresh one is taken.
#[allow(clippy::too_many_arguments)] // SPEC §11.2's inputs, each a plain stored value.
pub fn verify_totp(
    secret: &[u8],
    code: &str,
    now_unix: i64,
    period: u32,
    digits: u32,
    algorithm: OathAlgorithm,
    window: u32,
    last_accepted_step: Option<u64>,
) -> TotpCheck {
    if !well_formed(code, digits) {
        return TotpCheck::Rejected;
    }
    let now = totp_step(now_unix, period);
    let window = u64::from(window.min(MAX_TOTP_WINDOW));
    let mut outcome = TotpCheck::Rejected;
    for step in now.saturating_sub(window)..=now.saturating_add(window) {
        if !matches(secret, code, step, digits, algorithm) {
            continue;
        }
        let fresh = last_accepted_step.is_none_or(|last| step > last);
        outcome = match outcome {
            TotpCheck::Accepted { .. } => outcome,
            _ if fresh => TotpCheck::Accepted { step },
            _ => TotpCheck::Replayed,
        };
    }
    outcome
}

/// Checks an HOTP login (SPEC §11.2): the code may be for any counter `counter` …
/// `counter + look_ahead` (capped at [`MAX_HOTP_LOOK_AHEAD`]). Returns the matched counter;
/// the caller stores matched + 1, which always fits (u64::MAX itself is never matched).
pub fn verify_hotp(
    secret: &[u8],
    code: &str,
    counter: u64,
    look_ahead: u32,
    digits: u32,
    algorithm: OathAlgorithm,
) -> Option<u64> {
    if !well_formed(code, digits) {
        return None;
    }
    counter_range(counter, look_ahead, MAX_HOTP_LOOK_AHEAD)
        .find(|&c| matches(secret, code, c, digits, algorithm))
}

/// HOTP resynchronisation (SPEC §11.2): finds the first m with `code1` at m and `code2` at
/// m + 1, both within `counter` … `counter + window` (capped at [`MAX_HOTP_RESYNC_WINDOW`]).
/// Returns m; the caller stores m + 2, which always fits.
pub fn resync_hotp(
    secret: &[u8],
    code1: &str,
    code2: &str,
    counter: u64,
    window: u32,
    digits: u32,
    algorithm: OathAlgorithm,
) -> Option<u64> {
    if !well_formed(code1, digits) || !well_formed(code2, digits) {
        return None;
    }
    let mut previous_matched_code1 = false;
    for c in counter_range(counter, window, MAX_HOTP_RESYNC_WINDOW) {
        let value = hotp(secret, c, digits, algorithm);
        if previous_matched_code1 && bool::from(value.as_bytes().ct_eq(code2.as_bytes())) {
            return Some(c - 1);
        }
        previous_matched_code1 = value.as_bytes().ct_eq(code1.as_bytes()).into();
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const SEED20: &[u8] = b"12345678901234567890";
    const SEED32: &[u8] = b"12345678901234567890123456789012";
    const SEED64: &[u8] = b"1234567890123456789012345678901234567890123456789012345678901234";
    const ALG: OathAlgorithm = OathAlgorithm::Sha1;

    #[test]
    fn rfc4226_appendix_d() {
        let expected = [
            "755224", "287082", "359152", "969429", "338314", "254676", "287922", "162583",
            "399871", "520489",
        ];
        for (counter, code) in expected.iter().enumerate() {
            assert_eq!(
                hotp(SEED20, counter as u64, 6, ALG),
                *code,
                "counter {counter}"
            );
        }
    }

    #[test]
    fn rfc6238_appendix_b() {
        let table: [(i64, &str, &str, &str); 6] = [
            (59, "94287082", "46119246", "90693936"),
            (1111111109, "07081804", "68084774", "25091201"),
            (1111111111, "14050471", "67062674", "99943326"),
            (1234567890, "89005924", "91819424", "93441116"),
            (2000000000, "69279037", "90698825", "38618901"),
            (20000000000, "65353130", "77737706", "47863826"),
        ];
        for (time, sha1, sha256, sha512) in table {
            assert_eq!(
                totp(SEED20, time, 30, 8, OathAlgorithm::Sha1),
                sha1,
                "{time}"
            );
            assert_eq!(totp(SEED32, time, 30, 8, OathAlgorithm::Sha256), sha256);
            assert_eq!(totp(SEED64, time, 30, 8, OathAlgorithm::Sha512), sha512);
            // And each verifies at that instant.
            let step = totp_step(time, 30);
            for (seed, code, alg) in [
                (SEED20, sha1, OathAlgorithm::Sha1),
                (SEED32, sha256, OathAlgorithm::Sha256),
                (SEED64, sha512, OathAlgorithm::Sha512),
            ] {
                let check = verify_totp(seed, code, time, 30, 8, alg, 0, None);
                assert_eq!(check, TotpCheck::Accepted { step });
            }
        }
    }

    #[test]
    fn steps_floor_and_survive_odd_inputs() {
        assert_eq!(totp_step(59, 30), 1);
        assert_eq!(totp_step(60, 30), 2);
        assert_eq!(totp_step(0, 30), 0);
        assert_eq!(totp_step(-1, 30), 0);
        assert_eq!(totp_step(i64::MIN, 1), 0);
        assert_eq!(totp_step(i64::MAX, 1), i64::MAX as u64);
        assert_eq!(totp_step(42, 0), 42, "zero period counts as one second");
    }

    #[test]
    fn algorithm_names_round_trip() {
        for alg in [
            OathAlgorithm::Sha1,
            OathAlgorithm::Sha256,
            OathAlgorithm::Sha512,
        ] {
            assert_eq!(OathAlgorithm::from_name(alg.name()), Some(alg));
        }
        assert_eq!(OathAlgorithm::from_name("sha1"), None);
        assert_eq!(OathAlgorithm::from_name("MD5"), None);
    }

    #[test]
    fn seven_digits_and_clamping() {
        // 7 digits keeps the last seven of the same truncated value as 8 digits.
        assert_eq!(totp(SEED20, 59, 30, 7, ALG), "4287082");
        assert_eq!(hotp(SEED20, 0, 3, ALG), hotp(SEED20, 0, 6, ALG));
        assert_eq!(hotp(SEED20, 0, 99, ALG), hotp(SEED20, 0, 8, ALG));
    }

    /// Code at step `t` (period 30, 6 digits) for the window tests; "now" is mid-step 1000.
    fn code_at(step: u64) -> String {
        hotp(SEED20, step, 6, ALG)
    }
    const NOW: i64 = 1000 * 30 + 7;

    fn check(code: &str, window: u32, last: Option<u64>) -> TotpCheck {
        verify_totp(SEED20, code, NOW, 30, 6, ALG, window, last)
    }

    #[test]
    fn window_accepts_neighbouring_steps_only() {
        assert_eq!(
            check(&code_at(1000), 1, None),
            TotpCheck::Accepted { step: 1000 }
        );
        assert_eq!(
            check(&code_at(999), 1, None),
            TotpCheck::Accepted { step: 999 }
        );
        assert_eq!(
            check(&code_at(1001), 1, None),
            TotpCheck::Accepted { step: 1001 }
        );
        assert_eq!(check(&code_at(998), 1, None), TotpCheck::Rejected);
        assert_eq!(check(&code_at(1002), 1, None), TotpCheck::Rejected);
        assert_eq!(
            check(&code_at(1000), 0, None),
            TotpCheck::Accepted { step: 1000 }
        );
        assert_eq!(check(&code_at(999), 0, None), TotpCheck::Rejected);
        assert_eq!(check(&code_at(1001), 0, None), TotpCheck::Rejected);
        // Oversized windows are capped at the policy maximum.
        assert_eq!(
            check(&code_at(990), u32::MAX, None),
            TotpCheck::Accepted { step: 990 }
        );
        assert_eq!(check(&code_at(989), u32::MAX, None), TotpCheck::Rejected);
    }

    #[test]
    fn window_at_step_zero_does_not_underflow() {
        let code = hotp(SEED20, 0, 6, ALG);
        let check = verify_totp(SEED20, &code, 5, 30, 6, ALG, 3, None);
        assert_eq!(check, TotpCheck::Accepted { step: 0 });
    }

    #[test]
    fn replays_are_refused() {
        // The same step twice.
        let TotpCheck::Accepted { step } = check(&code_at(1000), 1, None) else {
            panic!("first use accepted");
        };
        assert_eq!(check(&code_at(1000), 1, Some(step)), TotpCheck::Replayed);
        // An older step than the last accepted one.
        assert_eq!(check(&code_at(999), 1, Some(1000)), TotpCheck::Replayed);
        // A later step after an accepted one.
        assert_eq!(
            check(&code_at(1001), 1, Some(1000)),
            TotpCheck::Accepted { step: 1001 }
        );
        // A wrong code stays a rejection, not a replay.
        assert!((999..=1001).all(|s| code_at(s) != "000000"));
        assert_eq!(check("000000", 1, Some(1000)), TotpCheck::Rejected);
    }

    #[test]
    fn malformed_codes_are_rejected() {
        let good = code_at(1000);
        for bad in [
            "",
            &good[..5],
            &format!("{good}0"),
            "12a456",
            " 12345",
            "12345 ",
            "+12345",
            "-12345",
            "١٢٣٤٥٦",       // Arabic-Indic digits
            "１２３４５６", // full-width digits
        ] {
            assert_eq!(check(bad, 1, None), TotpCheck::Rejected, "{bad:?}");
            assert_eq!(verify_hotp(SEED20, bad, 0, 10, 6, ALG), None, "{bad:?}");
            assert_eq!(resync_hotp(SEED20, bad, bad, 0, 10, 6, ALG), None);
        }
        // A code of a length no policy allows, even if it is the (clamped) value.
        let five = &hotp(SEED20, 0, 6, ALG)[1..];
        assert_eq!(verify_hotp(SEED20, five, 0, 10, 5, ALG), None);
        let eight = hotp(SEED20, 0, 9, ALG);
        assert_eq!(verify_hotp(SEED20, &eight, 0, 10, 9, ALG), None);
    }

    #[test]
    fn hotp_look_ahead() {
        // RFC 4226 codes: "969429" is counter 3.
        assert_eq!(verify_hotp(SEED20, "969429", 0, 10, 6, ALG), Some(3));
        assert_eq!(verify_hotp(SEED20, "969429", 3, 0, 6, ALG), Some(3));
        assert_eq!(verify_hotp(SEED20, "969429", 0, 2, 6, ALG), None);
        assert_eq!(verify_hotp(SEED20, "969429", 4, 10, 6, ALG), None, "used");
        assert_eq!(verify_hotp(SEED20, "755224", 0, 0, 6, ALG), Some(0));
    }

    #[test]
    fn hotp_near_the_counter_limit() {
        let top = u64::MAX - 1;
        let code = hotp(SEED20, top, 6, ALG);
        assert_eq!(verify_hotp(SEED20, &code, top - 5, 100, 6, ALG), Some(top));
        let last = hotp(SEED20, u64::MAX, 6, ALG);
        if last != code {
            assert_eq!(verify_hotp(SEED20, &last, u64::MAX, 100, 6, ALG), None);
        }
    }

    #[test]
    fn hotp_resync() {
        // Counters 5 and 6 of RFC 4226: 254676, 287922.
        assert_eq!(
            resync_hotp(SEED20, "254676", "287922", 0, 100, 6, ALG),
            Some(5)
        );
        // Both must lie in the window: m + 1 = 6 needs a window of at least 6.
        assert_eq!(
            resync_hotp(SEED20, "254676", "287922", 0, 6, 6, ALG),
            Some(5)
        );
        assert_eq!(resync_hotp(SEED20, "254676", "287922", 0, 5, 6, ALG), None);
        // Not consecutive, reversed, or behind the counter.
        assert_eq!(
            resync_hotp(SEED20, "254676", "162583", 0, 100, 6, ALG),
            None
        );
        assert_eq!(
            resync_hotp(SEED20, "287922", "254676", 0, 100, 6, ALG),
            None
        );
        assert_eq!(
            resync_hotp(SEED20, "254676", "287922", 6, 100, 6, ALG),
            None
        );
        assert_eq!(resync_hotp(SEED20, "254676", "287922", 0, 0, 6, ALG), None);
        // Far ahead of the stored counter.
        let (a, b) = (hotp(SEED20, 950, 6, ALG), hotp(SEED20, 951, 6, ALG));
        assert_eq!(resync_hotp(SEED20, &a, &b, 0, 1000, 6, ALG), Some(950));
        assert_eq!(resync_hotp(SEED20, &a, &b, 0, u32::MAX, 6, ALG), Some(950));
    }

    #[test]
    fn resync_near_the_counter_limit() {
        let m = u64::MAX - 2;
        let (a, b) = (hotp(SEED20, m, 6, ALG), hotp(SEED20, m + 1, 6, ALG));
        assert_eq!(resync_hotp(SEED20, &a, &b, m - 3, 1000, 6, ALG), Some(m));
        assert_eq!(resync_hotp(SEED20, &a, &b, u64::MAX, 1000, 6, ALG), None);
    }

    fn any_alg() -> impl Strategy<Value = OathAlgorithm> {
        prop_oneof![
            Just(OathAlgorithm::Sha1),
            Just(OathAlgorithm::Sha256),
            Just(OathAlgorithm::Sha512),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        #[test]
        fn nothing_panics(
            secret in proptest::collection::vec(any::<u8>(), 0..200),
            code in prop_oneof![any::<String>(), "[0-9]{6,8}"],
            code2 in prop_oneof![any::<String>(), "[0-9]{6,8}"],
            counter in prop_oneof![any::<u64>(), (u64::MAX - 200)..=u64::MAX],
            now in any::<i64>(),
            period in any::<u32>(),
            digits in prop_oneof![any::<u32>(), 6u32..=8],
            window in prop_oneof![any::<u32>(), 0u32..=12],
            last in any::<Option<u64>>(),
            alg in any_alg(),
        ) {
            let value = hotp(&secret, counter, digits, alg);
            prop_assert!(DIGITS.contains(&(value.len() as u32)));
            let _ = totp(&secret, now, period, digits, alg);
            let _ = verify_totp(&secret, &code, now, period, digits, alg, window, last);
            if let Some(m) = verify_hotp(&secret, &code, counter, window, digits, alg) {
                prop_assert!(m >= counter && m < u64::MAX);
            }
            if let Some(m) = resync_hotp(&secret, &code, &code2, counter, window, digits, alg) {
                prop_assert!(m >= counter && m <= u64::MAX - 2);
            }
        }

        #[test]
        fn a_fresh_code_is_accepted_exactly_once(
            secret in proptest::collection::vec(any::<u8>(), 1..64),
            now in 0i64..4_000_000_000,
            digits in 6u32..=8,
            alg in any_alg(),
        ) {
            let code = totp(&secret, now, 30, digits, alg);
            let step = totp_step(now, 30);
            let first = verify_totp(&secret, &code, now, 30, digits, alg, 1, None);
            let TotpCheck::Accepted { step: got } = first else {
                return Err(TestCaseError::fail("a current code must be accepted"));
            };
            // The earliest fresh match; an earlier one only on a chance collision.
            prop_assert!(got + 1 >= step && got <= step);
            match verify_totp(&secret, &code, now, 30, digits, alg, 1, Some(got)) {
                TotpCheck::Accepted { step: later } => prop_assert!(later > got),
                TotpCheck::Replayed => {}
                TotpCheck::Rejected => prop_assert!(false, "a used code is a replay"),
            }
        }
    }
}
