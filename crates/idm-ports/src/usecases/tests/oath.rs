//! SPEC §6.5 (get an OATH credential) and §8.6 (create, list, delete).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use chrono::Duration;
use idm_domain::access::Right;
use idm_domain::credential::{
    Credential, CredentialSecret, CredentialState, CredentialType, OathDetails, StateChangeReason,
    VascoToken,
};
use idm_domain::paging::{PageCursor, PageRequest};
use idm_domain::policy::{Policy, PolicyParameters, PolicyType};
use idm_domain::user::User;
use idm_domain::DomainError;

use super::support::*;
use crate::error::{AppError, StoreError, UniqueKey};
use crate::repos::CredentialRecord;
use crate::testing::{MockRepos, MockedUnitOfWork};
use crate::usecases::{CreateOath, OathCreated, OathService, OathUseCases};

const SEALED: &str = "bm9uY2U=~c2VhbGVk";
const NO_LABEL: &str = "The 'label' parameter is mandatory.";
const NOT_FOUND_O9: &str = "OATH credential with the extId o9 does not exist under the user u1";

type Shared<T> = Arc<Mutex<Vec<T>>>;

fn shared<T>() -> Shared<T> {
    Arc::new(Mutex::new(Vec::new()))
}

fn taken<T: Clone>(s: &Shared<T>) -> Vec<T> {
    s.lock().unwrap().clone()
}

fn use_cases(h: Harness) -> (OathUseCases, Arc<MockedUnitOfWork>) {
    let (ports, uow) = h.build();
    (OathUseCases::new(ports), uow)
}

fn u1() -> User {
    user(&acme(), "u1", "jdoe")
}

fn u1_with_email() -> User {
    let mut u = u1();
    u.contacts.email = Some("jane@example.com".into());
    u
}

fn u2() -> User {
    user(&acme(), "u2", "jane")
}

fn oath_policy(ext_id: &str, default_policy: bool, pairs: &[(&str, &str)]) -> Policy {
    let given: BTreeMap<String, String> = pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let mut p = policy(&acme(), ext_id, PolicyType::Oath, default_policy);
    p.parameters = PolicyParameters::validated(PolicyType::Oath, given).unwrap();
    p
}

fn create(ext_id: Option<&str>, label: Option<&str>) -> CreateOath {
    CreateOath {
        ext_id: ext_id.map(str::to_owned),
        policy_ext_id: None,
        label: label.map(str::to_owned),
        state_name: None,
    }
}

fn details() -> OathDetails {
    OathDetails {
        issuer: "nevisIDM".into(),
        authentication_method: "TOTP".into(),
        hashing_algorithm: "SHA1".into(),
        digits: 6,
        period: 30,
        counter: 0,
        encrypted_secret: SEALED.into(),
        label: "phone".into(),
    }
}

/// OATH credential `ext_id` of `owner`, storage ID `cred-<ext_id>`.
fn oath_record(ext_id: &str, owner: &User) -> CredentialRecord {
    let mut r = password_record(owner, "unused");
    r.credential.id = format!("cred-{ext_id}");
    r.credential.ext_id = ext(ext_id);
    r.credential.policy_id = "pol-default-OathPolicy".into();
    r.credential.secret = CredentialSecret::Oath(details());
    r.policy_ext_id = ext("default-OathPolicy");
    r
}

/// Records holding `ext_id` that are not an OATH credential of u1.
fn not_u1s_oath(ext_id: &str) -> Vec<CredentialRecord> {
    let mut pwd = password_record(&u1(), "$argon2id$x");
    pwd.credential.ext_id = ext(ext_id);
    let mut vasco = pwd.clone();
    vasco.credential.secret = CredentialSecret::Vasco {
        tokens: vec![VascoToken {
            auth_mode: "CR".into(),
            data: "AAEC".into(),
        }],
    };
    assert_eq!(vasco.credential.credential_type(), CredentialType::Vasco);
    vec![pwd, vasco, oath_record(ext_id, &u2())]
}

/// Client `c1` and `found` (as user u1, holding no role, with its Password credential at
/// epoch [`EPOCH`]) are looked up.
fn expect_path(repos: &mut MockRepos, found: User) {
    let password = password_record(&found, "$argon2id$x");
    expect_acme(repos);
    expect_user(repos, found);
    repos
        .credentials
        .expect_find_password_of_user()
        .returning(move |_, _| Ok(Some(password.clone())));
}

fn expect_ext_id_lookup(repos: &mut MockRepos, ext_id: &str, found: Option<CredentialRecord>) {
    let wanted = ext_id.to_owned();
    repos
        .credentials
        .expect_find_by_ext_id()
        .withf(move |c, e| c == "client-c1" && e == wanted)
        .returning(move |_, _| Ok(found.clone()));
}

fn expect_default_policy(repos: &mut MockRepos, p: Policy) {
    repos.policies.expect_find_by_ext_id().never();
    repos
        .policies
        .expect_find_default()
        .withf(|c, t| c == "client-c1" && *t == PolicyType::Oath)
        .returning(move |_, _| Ok(Some(p.clone())));
}

/// The CSPRNG's (fixed, non-trivial) draw of `length` bytes.
fn drawn(length: usize) -> Vec<u8> {
    (0..length).map(|i| (i * 7 + 3) as u8).collect()
}

/// The CSPRNG is asked for `length` bytes, and the cipher seals exactly what it drew; answers
/// the rows each seal was bound to (SPEC §10.4).
fn expect_secret(h: &mut Harness, length: usize) -> Shared<String> {
    h.secrets
        .expect_bytes()
        .withf(move |n| *n == length)
        .returning(drawn);
    let bound = shared();
    let b = bound.clone();
    h.cipher
        .expect_seal()
        .withf(move |plain, _| plain == drawn(length).as_slice())
        .returning(move |_, bound_to| {
            b.lock().unwrap().push(bound_to.to_owned());
            Ok(SEALED.to_owned())
        });
    bound
}

fn expect_no_secret(h: &mut Harness) {
    h.secrets.expect_bytes().never();
    h.cipher.expect_seal().never();
    h.repos.credentials.expect_insert().never();
}

fn capture_inserts(repos: &mut MockRepos) -> Shared<Credential> {
    let inserted = shared();
    let i = inserted.clone();
    repos.credentials.expect_insert().returning(move |c| {
        i.lock().unwrap().push(c.clone());
        Ok(())
    });
    inserted
}

fn oath_of(c: &Credential) -> &OathDetails {
    match &c.secret {
        CredentialSecret::Oath(d) => d,
        other => panic!("not OATH: {other:?}"),
    }
}

/// RFC 4648 Base32 without padding, decoded independently of the code under test.
fn base32_decode(text: &str) -> Vec<u8> {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    assert!(!text.contains('='), "no padding: {text}");
    let mut out = Vec::new();
    let (mut buffer, mut bits) = (0u32, 0u32);
    for ch in text.bytes() {
        let value = ALPHABET
            .iter()
            .position(|a| *a == ch)
            .unwrap_or_else(|| panic!("not Base32: {}", ch as char)) as u32;
        buffer = (buffer << 5) | value;
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            out.push((buffer >> bits) as u8);
            buffer &= (1 << bits) - 1;
        }
    }
    out
}

/// The `secret` query parameter of an otpauth URI.
fn uri_secret(uri: &str) -> &str {
    let query = uri.split_once('?').expect("a query").1;
    query
        .split('&')
        .find_map(|kv| kv.strip_prefix("secret="))
        .expect("a secret parameter")
}

/// Root creates `cmd` for u1 (as `found`) under `p` as the default policy; returns the
/// result and the inserted credential.
fn create_ok(
    found: User,
    p: Policy,
    secret_length: usize,
    cmd: CreateOath,
) -> (OathCreated, Credential) {
    let mut h = Harness::new();
    expect_path(&mut h.repos, found);
    let wanted = cmd.ext_id.as_deref().unwrap_or("id-1");
    expect_ext_id_lookup(&mut h.repos, wanted, None);
    expect_default_policy(&mut h.repos, p);
    let bound = expect_secret(&mut h, secret_length);
    h.tokens.expect_validate().never();
    let inserted = capture_inserts(&mut h.repos);
    let (uc, uow) = use_cases(h);
    let created = uc.create_oath(&root(), "c1", "u1", None, Ok(cmd)).unwrap();
    let inserted = taken(&inserted);
    assert_eq!(inserted.len(), 1);
    let c = inserted[0].clone();
    assert_eq!(
        taken(&bound),
        std::slice::from_ref(&c.id),
        "the secret is bound to its row"
    );
    let e = event(&uow, "credential.created");
    assert_eq!(e.event.actor, actor_of(&root()));
    assert_eq!(
        (
            e.event.user_ext_id.as_deref(),
            e.event.credential_ext_id.as_deref()
        ),
        (Some("u1"), Some(c.ext_id.as_str()))
    );
    assert_eq!(uow.actions(), ["credential.created"]);
    assert_history_free_of(&uow, &[uri_secret(&created.uri), SEALED]);
    (created, c)
}

// ---- create: rights and X-Token (SPEC §3.3, §3.4) -------------------------------------------

#[test]
fn create_without_rights_names_the_first_missing_right() {
    let create_missing = "Permission denied: Caller does not have the required right 'AccessControl.CredentialCreate' to perform this action";
    // Helpdesk holds CredentialView and PolicyConfigurationView, not CredentialCreate; a
    // SelfAdmin may only create for itself.
    for caller in [nobody(), helpdesk(&["c1"]), self_admin("c1", "u2")] {
        let (uc, uow) = use_cases(Harness::new());
        assert_err(
            uc.create_oath(
                &caller,
                "c1",
                "u1",
                Some("t".into()),
                Ok(create(None, Some("x"))),
            ),
            "errors.insufficientRightsFunction",
            create_missing,
        );
        assert_storage_untouched(&uow);
    }
}

#[test]
fn create_outside_the_data_room_is_denied_before_any_lookup() {
    let (uc, uow) = use_cases(Harness::new());
    assert_err(
        uc.create_oath(
            &user_admin(&["c2"]),
            "c1",
            "u1",
            None,
            Ok(create(None, Some("phone"))),
        ),
        "errors.combinedDataroomDenied",
        "Permission denied: AccessControl.CredentialCreate",
    );
    assert_storage_untouched(&uow);
}

#[test]
fn self_admin_create_of_an_unknown_user_is_404_before_the_x_token() {
    let mut h = Harness::new();
    expect_acme(&mut h.repos);
    h.repos
        .users
        .expect_find_by_ext_id()
        .returning(|_, _| Ok(None));
    h.tokens.expect_validate().never();
    let (uc, _) = use_cases(h);
    assert_err(
        uc.create_oath(
            &self_admin("c1", "u1"),
            "c1",
            "u1",
            None,
            Err(malformed_body()),
        ),
        "errors.noRecord",
        "A user with extId 'u1' doesn't exist on client with name Acme",
    );
}

fn self_create_rejected(h: Harness, token: Option<&str>) {
    let (uc, uow) = use_cases(h);
    // The body is unusable too: the X-Token is checked first (SPEC §3.4 step 5 before 6).
    assert_err(
        uc.create_oath(
            &self_admin("c1", "u1"),
            "c1",
            "u1",
            token.map(str::to_owned),
            Err(malformed_body()),
        ),
        "errors.invalidJWTToken",
        "Invalid JWT token.",
    );
    assert_no_events(&uow);
}

fn expect_token(h: &mut Harness, token: &'static str, valid: bool) {
    h.tokens
        .expect_validate()
        .withf(move |t, s| {
            t == token
                && s.user_ext_id == "u1"
                && s.client_ext_id == "c1"
                && s.password_epoch == EPOCH
        })
        .return_const(valid);
}

#[test]
fn self_create_without_x_token_is_422_after_the_user_and_before_the_body() {
    let mut h = Harness::new();
    expect_path(&mut h.repos, u1());
    h.repos.credentials.expect_find_by_ext_id().never();
    h.tokens.expect_validate().never();
    expect_no_secret(&mut h);
    self_create_rejected(h, None);
}

#[test]
fn self_create_with_a_rejected_x_token_is_422() {
    let mut h = Harness::new();
    expect_path(&mut h.repos, u1());
    h.repos.credentials.expect_find_by_ext_id().never();
    expect_token(&mut h, "forged", false);
    expect_no_secret(&mut h);
    self_create_rejected(h, Some("forged"));
}

#[test]
fn self_create_with_a_valid_x_token_creates_for_itself() {
    let mut h = Harness::new();
    expect_token(&mut h, "good", true);
    expect_path(&mut h.repos, u1());
    expect_ext_id_lookup(&mut h.repos, "o1", None);
    expect_default_policy(&mut h.repos, oath_policy("default-OathPolicy", true, &[]));
    expect_secret(&mut h, 20);
    let inserted = capture_inserts(&mut h.repos);
    let (uc, _) = use_cases(h);
    let created = uc
        .create_oath(
            &self_admin("c1", "u1"),
            "c1",
            "u1",
            Some("good".into()),
            Ok(create(Some("o1"), Some("phone"))),
        )
        .unwrap();
    assert_eq!(created.record.credential, taken(&inserted)[0]);
    assert_eq!(
        created.record.credential.user_id.as_deref(),
        Some("user-u1")
    );
}

#[test]
fn create_through_rights_needs_no_x_token() {
    let (created, _) = create_ok(
        u1(),
        oath_policy("default-OathPolicy", true, &[]),
        20,
        create(Some("o1"), Some("phone")),
    );
    assert_eq!(created.record.credential.ext_id.as_str(), "o1");
}

// ---- create: body content -------------------------------------------------------------------

#[test]
fn a_missing_or_empty_label_is_422() {
    for label in [None, Some(""), Some("   ")] {
        let mut h = Harness::new();
        expect_path(&mut h.repos, u1());
        // Whether the free extId is checked before or after the label is left open.
        h.repos
            .credentials
            .expect_find_by_ext_id()
            .returning(|_, _| Ok(None));
        h.repos.policies.expect_find_by_ext_id().never();
        h.repos.policies.expect_find_default().never();
        expect_no_secret(&mut h);
        let (uc, uow) = use_cases(h);
        let cmd = CreateOath {
            policy_ext_id: Some("p9".into()),
            state_name: Some("x".into()),
            ..create(Some("o1"), label)
        };
        assert_err(
            uc.create_oath(&root(), "c1", "u1", None, Ok(cmd)),
            "errors.nullParameter",
            NO_LABEL,
        );
        assert_no_events(&uow);
    }
}

#[test]
fn a_taken_ext_id_is_422_whatever_type_holds_it() {
    let mut holders = not_u1s_oath("o1");
    holders.push(oath_record("o1", &u1()));
    for holder in holders {
        let mut h = Harness::new();
        expect_path(&mut h.repos, u1());
        expect_ext_id_lookup(&mut h.repos, "o1", Some(holder));
        expect_no_secret(&mut h);
        let (uc, _) = use_cases(h);
        assert_err(
            uc.create_oath(
                &root(),
                "c1",
                "u1",
                None,
                Ok(create(Some("o1"), Some("phone"))),
            ),
            "errors.duplicateName",
            "A credential with this extId 'o1' already exists",
        );
    }
}

#[test]
fn a_bad_state_name_is_422() {
    let mut h = Harness::new();
    expect_path(&mut h.repos, u1());
    expect_ext_id_lookup(&mut h.repos, "o1", None);
    expect_no_secret(&mut h);
    let (uc, _) = use_cases(h);
    let cmd = CreateOath {
        state_name: Some("x".into()),
        ..create(Some("o1"), Some("phone"))
    };
    assert_err(
        uc.create_oath(&root(), "c1", "u1", None, Ok(cmd)),
        "errors.invalidParameter",
        "Invalid CredentialState name 'x'",
    );
}

fn policy_error(policy_ext_id: Option<&str>, h: Harness, message: &str) {
    let (uc, uow) = use_cases(h);
    let cmd = CreateOath {
        policy_ext_id: policy_ext_id.map(str::to_owned),
        ..create(Some("o1"), Some("phone"))
    };
    assert_err(
        uc.create_oath(&root(), "c1", "u1", None, Ok(cmd)),
        "errors.invalidParameter",
        message,
    );
    assert_no_events(&uow);
}

#[test]
fn policy_errors_name_oath_policy() {
    // Unknown.
    let mut h = Harness::new();
    expect_path(&mut h.repos, u1());
    expect_ext_id_lookup(&mut h.repos, "o1", None);
    h.repos
        .policies
        .expect_find_by_ext_id()
        .withf(|c, p| c == "client-c1" && p == "p9")
        .returning(|_, _| Ok(None));
    expect_no_secret(&mut h);
    policy_error(
        Some("p9"),
        h,
        "PolicyConfiguration doesn't exist with extId 'p9'",
    );

    // Another type.
    for other in [PolicyType::Vasco, PolicyType::Pwd] {
        let mut h = Harness::new();
        expect_path(&mut h.repos, u1());
        expect_ext_id_lookup(&mut h.repos, "o1", None);
        h.repos
            .policies
            .expect_find_by_ext_id()
            .returning(move |_, _| Ok(Some(policy(&acme(), "p1", other, false))));
        expect_no_secret(&mut h);
        policy_error(
            Some("p1"),
            h,
            "Policy Configuration p1 is not of type OathPolicy",
        );
    }

    // No default.
    let mut h = Harness::new();
    expect_path(&mut h.repos, u1());
    expect_ext_id_lookup(&mut h.repos, "o1", None);
    h.repos
        .policies
        .expect_find_default()
        .withf(|c, t| c == "client-c1" && *t == PolicyType::Oath)
        .returning(|_, _| Ok(None));
    expect_no_secret(&mut h);
    policy_error(
        None,
        h,
        "Default Policy Configuration does not exist for type OathPolicy!",
    );
}

// ---- create: the secret, the details and the URI --------------------------------------------

#[test]
fn the_secret_size_follows_the_algorithm_and_only_its_sealed_form_is_stored() {
    for (algorithm, length) in [("SHA1", 20), ("SHA256", 32), ("SHA512", 64)] {
        let (created, stored) = create_ok(
            u1(),
            oath_policy(
                "default-OathPolicy",
                true,
                &[("initialAlgorithm", algorithm)],
            ),
            length,
            create(Some("o1"), Some("phone")),
        );
        let d = oath_of(&stored);
        assert_eq!(d.hashing_algorithm, algorithm);
        assert_eq!(d.encrypted_secret, SEALED);
        let secret = drawn(length);
        let b32 = uri_secret(&created.uri);
        assert_eq!(base32_decode(b32), secret, "{algorithm}");
        // Neither the plain bytes nor their Base32 form is anywhere in what is stored.
        let dump = format!("{stored:?}{d:?}");
        assert!(!dump.contains(b32), "{dump}");
        assert!(!dump.contains(&format!("{secret:?}")));
        assert!(created.uri.contains(&format!("&algorithm={algorithm}&")));
        assert!(
            !format!("{created:?}").contains(b32),
            "Debug redacts the uri"
        );
    }
}

#[test]
fn a_default_totp_credential_is_active_with_the_default_details_and_uri() {
    let (created, c) = create_ok(
        u1(),
        oath_policy("default-OathPolicy", true, &[]),
        20,
        create(None, Some(" phone ")),
    );
    assert_eq!(created.record.credential, c);
    assert_eq!(created.record.user_ext_id, Some(ext("u1")));
    assert_eq!(created.record.policy_ext_id.as_str(), "default-OathPolicy");
    assert_eq!(c.ext_id.as_str(), "id-1", "generated when absent");
    assert_ne!(c.id, "id-1");
    assert_eq!(c.client_id, "client-c1");
    assert_eq!(c.user_id.as_deref(), Some("user-u1"));
    assert_eq!(c.policy_id, "pol-default-OathPolicy");
    assert_eq!(c.state, CredentialState::Active);
    assert_eq!(c.state_change_reason, StateChangeReason::Initialized);
    assert_eq!(c.credential_type(), CredentialType::Oath);
    assert_eq!(c.version, 1);
    assert_eq!((c.created, c.validity_from), (now(), now()));
    assert_eq!(
        c.validity_to,
        now() + Duration::milliseconds(315_360_000_000)
    );
    assert_eq!(
        *oath_of(&c),
        OathDetails {
            issuer: "nevisIDM".into(),
            authentication_method: "TOTP".into(),
            hashing_algorithm: "SHA1".into(),
            digits: 6,
            period: 30,
            counter: 0,
            encrypted_secret: SEALED.into(),
            label: "phone".into(),
        }
    );
    let b32 = uri_secret(&created.uri);
    assert_eq!(
        created.uri,
        format!(
            "otpauth://totp/nevisIDM:jdoe?secret={b32}&issuer=nevisIDM&algorithm=SHA1&digits=6&period=30"
        )
    );
}

#[test]
fn hotp_details_follow_the_policy() {
    let (created, c) = create_ok(
        u1(),
        oath_policy(
            "default-OathPolicy",
            true,
            &[
                ("initialType", "hotp"),
                ("initialDigits", "8"),
                ("initialPeriod", "60"),
                ("initialAlgorithm", "SHA256"),
                ("issuer", "Acme Corp"),
                ("credentialLifetime", "3600000"),
            ],
        ),
        32,
        CreateOath {
            state_name: Some("initial".into()),
            ..create(Some("o1"), Some("phone"))
        },
    );
    let d = oath_of(&c);
    assert_eq!(d.issuer, "Acme Corp");
    assert_eq!(d.authentication_method, "HOTP");
    assert_eq!(d.hashing_algorithm, "SHA256");
    assert_eq!((d.digits, d.period, d.counter), (8, 60, 0));
    assert_eq!(c.state, CredentialState::Initial);
    assert_eq!(c.validity_to, now() + Duration::hours(1));
    let b32 = uri_secret(&created.uri);
    assert_eq!(
        created.uri,
        format!(
            "otpauth://hotp/Acme%20Corp:jdoe?secret={b32}&issuer=Acme%20Corp&algorithm=SHA256&digits=8&counter=0"
        )
    );
}

#[test]
fn a_named_oath_policy_is_used() {
    let mut h = Harness::new();
    expect_path(&mut h.repos, u1());
    expect_ext_id_lookup(&mut h.repos, "o1", None);
    h.repos
        .policies
        .expect_find_by_ext_id()
        .withf(|c, p| c == "client-c1" && p == "p1")
        .returning(|_, _| Ok(Some(oath_policy("p1", false, &[("initialDigits", "7")]))));
    h.repos.policies.expect_find_default().never();
    expect_secret(&mut h, 20);
    let inserted = capture_inserts(&mut h.repos);
    let (uc, _) = use_cases(h);
    let cmd = CreateOath {
        policy_ext_id: Some("p1".into()),
        ..create(Some("o1"), Some("phone"))
    };
    let created = uc.create_oath(&root(), "c1", "u1", None, Ok(cmd)).unwrap();
    let c = &taken(&inserted)[0];
    assert_eq!(c.policy_id, "pol-p1");
    assert_eq!(created.record.policy_ext_id.as_str(), "p1");
    assert_eq!(oath_of(c).digits, 7);
    assert!(created.uri.contains("&digits=7&"));
}

#[test]
fn the_account_is_the_email_when_the_policy_says_so() {
    let email_policy = || oath_policy("default-OathPolicy", true, &[("accountname", "email")]);
    let (created, _) = create_ok(
        u1_with_email(),
        email_policy(),
        20,
        create(Some("o1"), Some("phone")),
    );
    assert!(
        created
            .uri
            .starts_with("otpauth://totp/nevisIDM:jane%40example.com?secret="),
        "{}",
        created.uri.split('?').next().unwrap()
    );

    // Without an email: the loginId.
    let (created, _) = create_ok(u1(), email_policy(), 20, create(Some("o1"), Some("phone")));
    assert!(created
        .uri
        .starts_with("otpauth://totp/nevisIDM:jdoe?secret="));

    // The default `loginid` ignores an email the user has.
    let (created, _) = create_ok(
        u1_with_email(),
        oath_policy("default-OathPolicy", true, &[]),
        20,
        create(Some("o1"), Some("phone")),
    );
    assert!(created
        .uri
        .starts_with("otpauth://totp/nevisIDM:jdoe?secret="));
}

#[test]
fn a_lost_race_for_the_ext_id_is_the_duplicate_error() {
    let mut h = Harness::new();
    expect_path(&mut h.repos, u1());
    expect_ext_id_lookup(&mut h.repos, "o1", None);
    expect_default_policy(&mut h.repos, oath_policy("default-OathPolicy", true, &[]));
    expect_secret(&mut h, 20);
    h.repos
        .credentials
        .expect_insert()
        .returning(|_| Err(StoreError::Unique(UniqueKey::CredentialExtId)));
    let (uc, uow) = use_cases(h);
    assert_err(
        uc.create_oath(
            &root(),
            "c1",
            "u1",
            None,
            Ok(create(Some("o1"), Some("phone"))),
        ),
        "errors.duplicateName",
        "A credential with this extId 'o1' already exists",
    );
    assert_no_events(&uow);
}

#[test]
fn a_sealing_failure_stores_nothing() {
    let mut h = Harness::new();
    expect_path(&mut h.repos, u1());
    expect_ext_id_lookup(&mut h.repos, "o1", None);
    expect_default_policy(&mut h.repos, oath_policy("default-OathPolicy", true, &[]));
    h.secrets.expect_bytes().returning(drawn);
    h.cipher
        .expect_seal()
        .returning(|_, _| Err(AppError::Internal("cipher".into())));
    h.repos.credentials.expect_insert().never();
    let (uc, uow) = use_cases(h);
    assert_eq!(
        uc.create_oath(
            &root(),
            "c1",
            "u1",
            None,
            Ok(create(Some("o1"), Some("phone")))
        )
        .map(|_| ()),
        Err(AppError::Internal("cipher".into()))
    );
    assert_no_events(&uow);
}

// ---- get and list (SPEC §6.5, §8.6) ---------------------------------------------------------

#[test]
fn get_returns_the_users_oath_credential_in_a_read() {
    let mut h = Harness::new();
    expect_path(&mut h.repos, u1());
    let found = oath_record("o1", &u1());
    let expected = found.clone();
    expect_ext_id_lookup(&mut h.repos, "o1", Some(found));
    let (uc, uow) = use_cases(h);
    assert_eq!(
        uc.get_oath(&helpdesk(&["c1"]), "c1", "u1", "o1"),
        Ok(expected)
    );
    assert_no_events(&uow);
}

#[test]
fn get_of_a_missing_foreign_or_non_oath_credential_is_404() {
    let mut misses = vec![None];
    misses.extend(not_u1s_oath("o9").into_iter().map(Some));
    for found in misses {
        let mut h = Harness::new();
        expect_path(&mut h.repos, u1());
        expect_ext_id_lookup(&mut h.repos, "o9", found);
        let (uc, _) = use_cases(h);
        assert_err(
            uc.get_oath(&root(), "c1", "u1", "o9"),
            "errors.noRecord",
            NOT_FOUND_O9,
        );
    }
}

#[test]
fn get_with_a_malformed_ext_id_is_404_without_a_lookup() {
    let mut h = Harness::new();
    expect_path(&mut h.repos, u1());
    h.repos.credentials.expect_find_by_ext_id().never();
    let (uc, _) = use_cases(h);
    assert_err(
        uc.get_oath(&root(), "c1", "u1", "a/b"),
        "errors.noRecord",
        "OATH credential with the extId a/b does not exist under the user u1",
    );
}

#[test]
fn self_admin_reads_its_own_without_a_token() {
    let mut h = Harness::new();
    expect_path(&mut h.repos, u1());
    expect_ext_id_lookup(&mut h.repos, "o1", Some(oath_record("o1", &u1())));
    h.tokens.expect_validate().never();
    let (uc, _) = use_cases(h);
    assert!(uc
        .get_oath(&self_admin("c1", "u1"), "c1", "u1", "o1")
        .is_ok());
}

#[test]
fn get_and_list_need_credential_view_or_self() {
    let (uc, uow) = use_cases(Harness::new());
    let missing = "Permission denied: Caller does not have the required right 'AccessControl.CredentialView' to perform this action";
    for caller in [nobody(), self_admin("c1", "u2")] {
        assert_err(
            uc.get_oath(&caller, "c1", "u1", "o1"),
            "errors.insufficientRightsFunction",
            missing,
        );
        assert_err(
            uc.list_oath(&caller, "c1", "u1", PageRequest::default()),
            "errors.insufficientRightsFunction",
            missing,
        );
    }
    assert_err(
        uc.get_oath(&helpdesk(&["c2"]), "c1", "u1", "o1"),
        "errors.combinedDataroomDenied",
        "Permission denied: AccessControl.CredentialView",
    );
    assert_storage_untouched(&uow);
}

fn listed(n: usize) -> Vec<CredentialRecord> {
    (1..=n)
        .map(|i| {
            let mut r = oath_record(&format!("o{i}"), &u1());
            r.credential.created = earlier() + Duration::minutes(i as i64);
            r
        })
        .collect()
}

#[test]
fn list_is_of_the_users_oath_credentials_with_overfetch_paging() {
    for (rows, more) in [(3, true), (2, false)] {
        let mut h = Harness::new();
        expect_path(&mut h.repos, u1());
        h.repos
            .credentials
            .expect_list_of_type()
            .withf(|c, u, t, p| {
                c == "client-c1"
                    && *u == Some("user-u1")
                    && *t == CredentialType::Oath
                    && p.limit == 2
            })
            .returning(move |_, _, _, _| Ok(listed(rows)));
        let (uc, uow) = use_cases(h);
        let page = uc
            .list_oath(
                &self_admin("c1", "u1"),
                "c1",
                "u1",
                PageRequest {
                    limit: 2,
                    after: None,
                },
            )
            .unwrap();
        assert_eq!(page.items, listed(2));
        let next = more.then(|| PageCursor {
            created: earlier() + Duration::minutes(2),
            ext_id: "o2".into(),
        });
        assert_eq!(page.next, next);
        assert_no_events(&uow);
    }
}

// ---- delete (SPEC §8.6) ---------------------------------------------------------------------

/// The client's credential `ext_id` is `found`, however it is read (locked or not).
fn expect_stored(repos: &mut MockRepos, ext_id: &'static str, found: Option<CredentialRecord>) {
    let f = found.clone();
    repos
        .credentials
        .expect_find_by_ext_id_for_update()
        .withf(move |c, e| c == "client-c1" && e == ext_id)
        .returning(move |_, _| Ok(f.clone()));
    repos
        .credentials
        .expect_find_by_ext_id()
        .withf(move |c, e| c == "client-c1" && e == ext_id)
        .returning(move |_, _| Ok(found.clone()));
}

fn expect_delete(repos: &mut MockRepos, id: &'static str) {
    repos
        .credentials
        .expect_delete()
        .withf(move |i| i == id)
        .returning(|_| Ok(true));
}

#[test]
fn delete_by_rights_deletes_the_credential_by_its_id() {
    for caller in [root(), user_admin(&["c1"])] {
        let mut h = Harness::new();
        expect_path(&mut h.repos, u1());
        expect_stored(&mut h.repos, "o1", Some(oath_record("o1", &u1())));
        expect_delete(&mut h.repos, "cred-o1");
        h.tokens.expect_validate().never();
        let (uc, uow) = use_cases(h);
        assert_eq!(uc.delete_oath(&caller, "c1", "u1", "o1", None), Ok(()));
        let e = event(&uow, "credential.deleted");
        assert_eq!(e.event.actor, actor_of(&caller));
        assert_eq!(e.event.credential_ext_id.as_deref(), Some("o1"));
        assert_eq!(e.event.user_ext_id.as_deref(), Some("u1"));
        assert_history_free_of(&uow, &[SEALED]);
    }
}

#[test]
fn delete_of_a_missing_foreign_or_non_oath_credential_is_404_before_deleting() {
    let mut misses = vec![None];
    misses.extend(not_u1s_oath("o9").into_iter().map(Some));
    for found in misses {
        let mut h = Harness::new();
        expect_path(&mut h.repos, u1());
        expect_stored(&mut h.repos, "o9", found);
        h.repos.credentials.expect_delete().never();
        let (uc, uow) = use_cases(h);
        assert_err(
            uc.delete_oath(&root(), "c1", "u1", "o9", None),
            "errors.noRecord",
            NOT_FOUND_O9,
        );
        assert_no_events(&uow);
    }
}

#[test]
fn delete_needs_credential_delete_or_self() {
    let (uc, uow) = use_cases(Harness::new());
    // Helpdesk holds CredentialView and CredentialModify, not CredentialDelete.
    for caller in [nobody(), helpdesk(&["c1"]), self_admin("c1", "u2")] {
        assert_eq!(
            domain_err(uc.delete_oath(&caller, "c1", "u1", "o1", Some("t".into()))),
            DomainError::MissingRight(Right::CredentialDelete)
        );
    }
    assert_err(
        uc.delete_oath(&user_admin(&["c2"]), "c1", "u1", "o1", None),
        "errors.combinedDataroomDenied",
        "Permission denied: AccessControl.CredentialDelete",
    );
    assert_storage_untouched(&uow);
}

#[test]
fn self_delete_needs_a_valid_x_token_before_the_credential_lookup() {
    for token in [None, Some("forged")] {
        let mut h = Harness::new();
        expect_path(&mut h.repos, u1());
        if let Some(t) = token {
            expect_token(&mut h, t, false);
        } else {
            h.tokens.expect_validate().never();
        }
        h.repos
            .credentials
            .expect_find_by_ext_id_for_update()
            .never();
        h.repos.credentials.expect_delete().never();
        let (uc, uow) = use_cases(h);
        assert_err(
            uc.delete_oath(
                &self_admin("c1", "u1"),
                "c1",
                "u1",
                "o1",
                token.map(str::to_owned),
            ),
            "errors.invalidJWTToken",
            "Invalid JWT token.",
        );
        assert_no_events(&uow);
    }
}

#[test]
fn self_delete_with_a_valid_x_token_deletes() {
    let mut h = Harness::new();
    expect_path(&mut h.repos, u1());
    expect_token(&mut h, "good", true);
    expect_stored(&mut h.repos, "o1", Some(oath_record("o1", &u1())));
    expect_delete(&mut h.repos, "cred-o1");
    let (uc, _) = use_cases(h);
    assert_eq!(
        uc.delete_oath(
            &self_admin("c1", "u1"),
            "c1",
            "u1",
            "o1",
            Some("good".into())
        ),
        Ok(())
    );
}
