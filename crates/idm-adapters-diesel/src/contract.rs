//! The storage contract: what every [`UnitOfWork`] implementation must do, written once and run
//! against each adapter on a fresh, empty, migrated database.
//!
//! Each case is a `pub fn(&dyn UnitOfWork)` that panics (with the failed expectation) when the
//! adapter breaks the contract; [`CASES`] lists them all and [`run_all`] runs them in order on
//! one database (each case works in its own client, so they do not interfere). This is test
//! code: it asserts with `expect`/`assert!` on purpose.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicU64, Ordering};

use chrono::{DateTime, Duration, Utc};
use idm_domain::access::{DataRoom, Role, RoleGrant};
use idm_domain::client::Client;
use idm_domain::credential::{
    Credential, CredentialSecret, CredentialState, CredentialType, OathDetails, StateChangeReason,
    VascoToken,
};
use idm_domain::delivery::{Delivery, DeliveryKind};
use idm_domain::paging::{PageCursor, PageRequest};
use idm_domain::policy::{Policy, PolicyParameters, PolicyType};
use idm_domain::user::{Contacts, LanguageCode, PersonName, User, UserState};
use idm_domain::{DomainError, ExtId};
use idm_ports::error::{AppError, StoreError, UniqueKey};
use idm_ports::repos::{transact, CredentialRecord, Repos, TxMode, UnitOfWork, UserListFilter};

/// One contract case.
pub type Case = fn(&dyn UnitOfWork);

/// Every case, by name, in the order [`run_all`] runs them. `empty_database` must run first
/// on a database of its own (it checks that nothing exists yet).
pub const CASES: &[(&str, Case)] = &[
    ("empty_database", empty_database),
    (
        "clients_round_trip_and_unique_keys",
        clients_round_trip_and_unique_keys,
    ),
    (
        "users_round_trip_and_unique_keys",
        users_round_trip_and_unique_keys,
    ),
    ("users_update_compare_and_set", users_update_compare_and_set),
    (
        "users_find_by_login_id_anywhere",
        users_find_by_login_id_anywhere,
    ),
    ("users_record_login", users_record_login),
    (
        "policies_round_trip_and_unique_keys",
        policies_round_trip_and_unique_keys,
    ),
    ("policies_default_switch", policies_default_switch),
    (
        "credentials_round_trip_every_type",
        credentials_round_trip_every_type,
    ),
    ("credentials_find_for_update", credentials_find_for_update),
    ("credentials_unique_keys", credentials_unique_keys),
    (
        "credentials_update_compare_and_set",
        credentials_update_compare_and_set,
    ),
    (
        "credentials_keyset_pagination",
        credentials_keyset_pagination,
    ),
    ("credentials_list_of_type", credentials_list_of_type),
    ("credentials_delete", credentials_delete),
    ("role_grants", role_grants),
    ("deliveries_round_trip", deliveries_round_trip),
    ("meta_insert_if_absent", meta_insert_if_absent),
    ("rollback_on_error", rollback_on_error),
    (
        "failed_write_does_not_spoil_the_transaction",
        failed_write_does_not_spoil_the_transaction,
    ),
    ("timestamps_keep_microseconds", timestamps_keep_microseconds),
    ("concurrent_failed_logins", concurrent_failed_logins),
    (
        "concurrent_counter_updates_by_ext_id",
        concurrent_counter_updates_by_ext_id,
    ),
    ("clients_list_keyset", clients_list_keyset),
    ("users_list_filters", users_list_filters),
    (
        "users_list_pages_stay_stable_under_inserts",
        users_list_pages_stay_stable_under_inserts,
    ),
    ("users_list_common_prefix", users_list_common_prefix),
    ("users_delete_cascade", users_delete_cascade),
    (
        "writes_for_a_deleted_user_conflict",
        writes_for_a_deleted_user_conflict,
    ),
    (
        "delete_racing_a_credential_insert_leaves_no_orphan",
        delete_racing_a_credential_insert_leaves_no_orphan,
    ),
    (
        "users_search_matches_the_reference",
        users_search_matches_the_reference,
    ),
    (
        "users_search_pages_and_counts_exactly",
        users_search_pages_and_counts_exactly,
    ),
];

/// Runs every case on one fresh, migrated database.
pub fn run_all(uow: &dyn UnitOfWork) {
    for (name, case) in CASES {
        eprintln!("storage contract: {name}");
        case(uow);
    }
}

// ------------------------------------------------------------------------------------------
// Fixtures

static SEQ: AtomicU64 = AtomicU64::new(0);

/// A name unique within this process and run, valid as an extId.
fn unique(tag: &str) -> String {
    let n = SEQ.fetch_add(1, Ordering::Relaxed);
    let nanos = Utc::now().timestamp_subsec_nanos();
    format!("{tag}-{}-{n}-{nanos}", std::process::id())
}

/// A fixed instant with microseconds, as stored values have them.
fn t0() -> DateTime<Utc> {
    DateTime::from_timestamp(1_704_164_645, 123_456_000).expect("valid instant")
}

fn ext(raw: &str) -> ExtId {
    ExtId::parse(raw).expect("valid extId")
}

fn write<T>(uow: &dyn UnitOfWork, work: impl FnMut(&mut dyn Repos) -> Result<T, AppError>) -> T {
    transact(uow, TxMode::Write, work).expect("write transaction")
}

fn read<T>(uow: &dyn UnitOfWork, work: impl FnMut(&mut dyn Repos) -> Result<T, AppError>) -> T {
    transact(uow, TxMode::Read, work).expect("read transaction")
}

/// A new client (not stored).
pub fn client() -> Client {
    let id = unique("k");
    Client {
        id: id.clone(),
        ext_id: ext(&format!("ext-{id}")),
        name: format!("Client {id}"),
        created: t0(),
        last_modified: t0(),
        version: 1,
    }
}

/// A new user of `client_id` with every optional field set (not stored).
pub fn user(client_id: &str) -> User {
    let id = unique("u");
    User {
        id: id.clone(),
        client_id: client_id.to_owned(),
        ext_id: ext(&format!("ext-{id}")),
        login_id: format!("login-{id}"),
        external_id: Some(format!("idp-{id}")),
        state: UserState::Disabled,
        language: LanguageCode::Fr,
        is_technical_user: true,
        name: PersonName {
            title: Some("Dr".into()),
            first_name: Some("Jane".into()),
            family_name: Some("Doe".into()),
        },
        contacts: Contacts {
            email: Some("jane@example.com".into()),
            mobile: Some("+41791234567".into()),
        },
        last_login: Some(t0() + Duration::seconds(5)),
        last_login_failure: Some(t0() + Duration::seconds(6)),
        created: t0(),
        last_modified: t0() + Duration::seconds(7),
        version: 3,
    }
}

/// A new policy of `client_id` (not stored).
pub fn policy(client_id: &str, policy_type: PolicyType, default: bool) -> Policy {
    let id = unique("p");
    let params: BTreeMap<String, String> = match policy_type {
        PolicyType::Pwd => [("minLength", "10"), ("fragmentLength", "0")].into_iter(),
        PolicyType::Oath => [("issuer", "ACME"), ("initialDigits", "8")].into_iter(),
        PolicyType::Vasco => [
            ("maxCredFailureCount", "-1"),
            ("tmpLockingDuration", "1000"),
        ]
        .into_iter(),
    }
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    Policy {
        id: id.clone(),
        client_id: client_id.to_owned(),
        ext_id: ext(&format!("ext-{id}")),
        name: format!("Policy {id}"),
        description: Some("described".into()),
        policy_type,
        default_policy: default,
        parameters: PolicyParameters::validated(policy_type, params).expect("valid parameters"),
        created: t0(),
        last_modified: t0(),
        version: 1,
    }
}

/// A new credential (not stored) with every optional common field set.
pub fn credential(
    client_id: &str,
    user_id: Option<&str>,
    policy_id: &str,
    secret: CredentialSecret,
) -> Credential {
    let id = unique("c");
    Credential {
        id: id.clone(),
        client_id: client_id.to_owned(),
        user_id: user_id.map(str::to_owned),
        ext_id: ext(&format!("ext-{id}")),
        policy_id: policy_id.to_owned(),
        state: CredentialState::TmpLocked,
        state_change_reason: StateChangeReason::TooManyLoginFailures,
        state_change_detail: Some("detail".into()),
        last_successful_login: Some(t0() + Duration::seconds(1)),
        successful_login_count: 15,
        last_failed_login: Some(t0() + Duration::seconds(2)),
        failed_login_count: 3,
        modification_comment: Some("comment".into()),
        validity_from: t0(),
        validity_to: t0() + Duration::days(3650),
        locked_until: Some(t0() + Duration::seconds(60)),
        reset_count: 2,
        secret,
        created: t0(),
        last_modified: t0(),
        version: 1,
        epoch: 4,
        pending_attempts: 1,
        pending_until: Some(t0() + Duration::seconds(30)),
    }
}

fn password_secret() -> CredentialSecret {
    CredentialSecret::Password {
        hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".into(),
    }
}

fn oath_secret() -> CredentialSecret {
    CredentialSecret::Oath(OathDetails {
        issuer: "ACME".into(),
        authentication_method: "HOTP".into(),
        hashing_algorithm: "SHA256".into(),
        digits: 8,
        period: 45,
        counter: 1_234_567_890_123,
        encrypted_secret: "bm9uY2U=~Y2lwaGVy".into(),
        label: "ACME:jane".into(),
    })
}

fn vasco_secret() -> CredentialSecret {
    CredentialSecret::Vasco {
        tokens: vec![
            VascoToken {
                auth_mode: "RO".into(),
                data: "AAEC".into(),
            },
            VascoToken {
                auth_mode: "CR".into(),
                data: "AwQF".into(),
            },
            VascoToken {
                auth_mode: "MM".into(),
                data: "BgcI".into(),
            },
        ],
    }
}

/// A stored client with a user and one default policy of each type.
struct World {
    client: Client,
    user: User,
    pwd: Policy,
    oath: Policy,
    vasco: Policy,
}

fn world(uow: &dyn UnitOfWork) -> World {
    let client = client();
    let user = user(&client.id);
    let pwd = policy(&client.id, PolicyType::Pwd, true);
    let oath = policy(&client.id, PolicyType::Oath, true);
    let vasco = policy(&client.id, PolicyType::Vasco, true);
    write(uow, |r| {
        r.clients().insert(&client)?;
        r.users().insert(&user)?;
        for p in [&pwd, &oath, &vasco] {
            r.policies().insert(p)?;
        }
        Ok(())
    });
    World {
        client,
        user,
        pwd,
        oath,
        vasco,
    }
}

fn record_of(c: &Credential, user: Option<&User>, policy: &Policy) -> CredentialRecord {
    CredentialRecord {
        credential: c.clone(),
        user_ext_id: user.map(|u| u.ext_id.clone()),
        policy_ext_id: policy.ext_id.clone(),
    }
}

// ------------------------------------------------------------------------------------------
// Cases

/// A fresh database holds no client.
pub fn empty_database(uow: &dyn UnitOfWork) {
    assert!(
        !read(uow, |r| Ok(r.clients().any_exists()?)),
        "a fresh database has no client"
    );
}

/// Clients: every finder, `any_exists`, and both unique keys.
pub fn clients_round_trip_and_unique_keys(uow: &dyn UnitOfWork) {
    let c = client();
    write(uow, |r| Ok(r.clients().insert(&c)?));
    let (by_ext, by_name, by_id, any) = read(uow, |r| {
        Ok((
            r.clients().find_by_ext_id(c.ext_id.as_str())?,
            r.clients().find_by_name(&c.name)?,
            r.clients().find_by_id(&c.id)?,
            r.clients().any_exists()?,
        ))
    });
    assert_eq!(by_ext.as_ref(), Some(&c));
    assert_eq!(by_name.as_ref(), Some(&c));
    assert_eq!(by_id.as_ref(), Some(&c));
    assert!(any);
    let missing = read(uow, |r| {
        Ok((
            r.clients().find_by_ext_id("no-such-client")?,
            r.clients().find_by_name("No such client")?,
            r.clients().find_by_id("no-such-id")?,
        ))
    });
    assert_eq!(missing, (None, None, None));

    let mut same_ext = client();
    same_ext.ext_id = c.ext_id.clone();
    let mut same_name = client();
    same_name.name = c.name.clone();
    let errs = write(uow, |r| {
        Ok((
            r.clients().insert(&same_ext),
            r.clients().insert(&same_name),
        ))
    });
    assert_eq!(errs.0, Err(StoreError::Unique(UniqueKey::ClientExtId)));
    assert_eq!(errs.1, Err(StoreError::Unique(UniqueKey::ClientName)));
}

/// Users: every field (set and unset) survives, finders are scoped to the client, unique keys.
pub fn users_round_trip_and_unique_keys(uow: &dyn UnitOfWork) {
    let w = world(uow);
    let other = client();
    let mut bare = user(&w.client.id);
    bare.name = PersonName::default();
    bare.contacts = Contacts::default();
    bare.last_login = None;
    bare.last_login_failure = None;
    bare.state = UserState::Active;
    bare.language = LanguageCode::En;
    bare.is_technical_user = false;
    write(uow, |r| {
        r.clients().insert(&other)?;
        r.users().insert(&bare)?;
        Ok(())
    });
    let got = read(uow, |r| {
        Ok((
            r.users()
                .find_by_ext_id(&w.client.id, w.user.ext_id.as_str())?,
            r.users().find_by_login_id(&w.client.id, &w.user.login_id)?,
            r.users()
                .find_by_ext_id(&w.client.id, bare.ext_id.as_str())?,
            r.users()
                .find_by_ext_id(&other.id, w.user.ext_id.as_str())?,
            r.users().find_by_login_id(&other.id, &w.user.login_id)?,
        ))
    });
    assert_eq!(got.0.as_ref(), Some(&w.user), "every field set");
    assert_eq!(got.1.as_ref(), Some(&w.user));
    assert_eq!(got.2.as_ref(), Some(&bare), "every optional field unset");
    assert_eq!(
        (got.3, got.4),
        (None, None),
        "finders are scoped to the client"
    );

    let mut same_ext = user(&w.client.id);
    same_ext.ext_id = w.user.ext_id.clone();
    let mut same_login = user(&w.client.id);
    same_login.login_id = w.user.login_id.clone();
    let mut elsewhere = user(&other.id);
    elsewhere.ext_id = w.user.ext_id.clone();
    elsewhere.login_id = w.user.login_id.clone();
    let errs = write(uow, |r| {
        Ok((
            r.users().insert(&same_ext),
            r.users().insert(&same_login),
            r.users().insert(&elsewhere),
        ))
    });
    assert_eq!(errs.0, Err(StoreError::Unique(UniqueKey::UserExtId)));
    assert_eq!(errs.1, Err(StoreError::Unique(UniqueKey::UserLoginId)));
    assert_eq!(
        errs.2,
        Ok(()),
        "extId and loginId are unique per client only"
    );
}

/// User updates are compare-and-set on `version`.
pub fn users_update_compare_and_set(uow: &dyn UnitOfWork) {
    let w = world(uow);
    let mut changed = w.user.clone();
    changed.state = UserState::Archived;
    changed.name.title = None;
    changed.contacts.email = Some("new@example.com".into());
    changed.last_login = Some(t0() + Duration::hours(1));
    changed.last_login_failure = None;
    changed.last_modified = t0() + Duration::hours(2);
    changed.version = w.user.version + 1;
    write(uow, |r| Ok(r.users().update(&changed, w.user.version)?));
    let got = read(uow, |r| {
        Ok(r.users()
            .find_by_ext_id(&w.client.id, w.user.ext_id.as_str())?)
    });
    assert_eq!(got.as_ref(), Some(&changed));

    let mut stale = changed.clone();
    stale.login_id = "stale-write".into();
    stale.version = changed.version + 1;
    let err = write(uow, |r| Ok(r.users().update(&stale, w.user.version)));
    assert_eq!(err, Err(StoreError::Conflict));
    let got = read(uow, |r| {
        Ok(r.users()
            .find_by_ext_id(&w.client.id, w.user.ext_id.as_str())?)
    });
    assert_eq!(
        got.as_ref(),
        Some(&changed),
        "a conflicting update writes nothing"
    );

    let mut ghost = user(&w.client.id);
    ghost.version = 2;
    assert_eq!(
        write(uow, |r| Ok(r.users().update(&ghost, 1))),
        Err(StoreError::Conflict)
    );

    let mut taken = user(&w.client.id);
    write(uow, |r| Ok(r.users().insert(&taken)?));
    taken.login_id = changed.login_id.clone();
    taken.version += 1;
    let err = write(uow, |r| Ok(r.users().update(&taken, taken.version - 1)));
    assert_eq!(err, Err(StoreError::Unique(UniqueKey::UserLoginId)));
}

/// Bare-loginId lookup across clients, bounded by `limit`.
pub fn users_find_by_login_id_anywhere(uow: &dyn UnitOfWork) {
    let login = unique("shared-login");
    let clients: Vec<Client> = (0..3).map(|_| client()).collect();
    let users: Vec<User> = clients
        .iter()
        .map(|c| {
            let mut u = user(&c.id);
            u.login_id = login.clone();
            u
        })
        .collect();
    write(uow, |r| {
        for c in &clients {
            r.clients().insert(c)?;
        }
        for u in &users {
            r.users().insert(u)?;
        }
        Ok(())
    });
    let (all, two, none) = read(uow, |r| {
        Ok((
            r.users().find_by_login_id_anywhere(&login, 10)?,
            r.users().find_by_login_id_anywhere(&login, 2)?,
            r.users()
                .find_by_login_id_anywhere("nobody-has-this-login", 10)?,
        ))
    });
    let ids = |v: &[User]| v.iter().map(|u| u.id.clone()).collect::<BTreeSet<_>>();
    assert_eq!(ids(&all), ids(&users));
    assert_eq!(two.len(), 2);
    assert!(none.is_empty());
}

/// `record_login` writes `last_login` (success) or `last_login_failure` only, with
/// `last_modified = at` and version + 1; `find_by_id` finds a user by storage identity.
pub fn users_record_login(uow: &dyn UnitOfWork) {
    let w = world(uow);
    let mut bare = user(&w.client.id);
    bare.last_login = None;
    bare.last_login_failure = None;
    write(uow, |r| Ok(r.users().insert(&bare)?));
    let (found, missing) = read(uow, |r| {
        Ok((
            r.users().find_by_id(&bare.id)?,
            r.users().find_by_id("no-such-user")?,
        ))
    });
    assert_eq!(found.as_ref(), Some(&bare), "find_by_id round trip");
    assert_eq!(missing, None, "find_by_id of an unknown id");

    let ok_at = t0() + Duration::hours(1) + Duration::microseconds(11);
    write(uow, |r| {
        Ok(r.users().record_login(&bare.id, true, ok_at)?)
    });
    let mut expected = bare.clone();
    expected.last_login = Some(ok_at);
    expected.last_modified = ok_at;
    expected.version = bare.version + 1;
    let got = read(uow, |r| Ok(r.users().find_by_id(&bare.id)?));
    assert_eq!(
        got.as_ref(),
        Some(&expected),
        "a success sets last_login only"
    );

    let failed_at = t0() + Duration::hours(2) + Duration::microseconds(22);
    write(uow, |r| {
        Ok(r.users().record_login(&bare.id, false, failed_at)?)
    });
    expected.last_login_failure = Some(failed_at);
    expected.last_modified = failed_at;
    expected.version = bare.version + 2;
    let got = read(uow, |r| Ok(r.users().find_by_id(&bare.id)?));
    assert_eq!(
        got.as_ref(),
        Some(&expected),
        "a failure sets last_login_failure only"
    );

    let again_at = t0() + Duration::hours(3);
    write(uow, |r| {
        Ok(r.users().record_login(&bare.id, true, again_at)?)
    });
    expected.last_login = Some(again_at);
    expected.last_modified = again_at;
    expected.version = bare.version + 3;
    let (got, other) = read(uow, |r| {
        Ok((
            r.users().find_by_id(&bare.id)?,
            r.users().find_by_id(&w.user.id)?,
        ))
    });
    assert_eq!(
        got.as_ref(),
        Some(&expected),
        "a later success keeps last_login_failure"
    );
    assert_eq!(other.as_ref(), Some(&w.user), "other users are untouched");
}

/// Policies: round trip of every field and parameter, finders, unique keys.
pub fn policies_round_trip_and_unique_keys(uow: &dyn UnitOfWork) {
    let w = world(uow);
    let mut plain = policy(&w.client.id, PolicyType::Pwd, false);
    plain.description = None;
    plain.parameters = PolicyParameters::defaults(PolicyType::Pwd);
    write(uow, |r| Ok(r.policies().insert(&plain)?));
    let got = read(uow, |r| {
        Ok((
            r.policies()
                .find_by_ext_id(&w.client.id, w.pwd.ext_id.as_str())?,
            r.policies().find_by_id(&w.oath.id)?,
            r.policies().find_default(&w.client.id, PolicyType::Vasco)?,
            r.policies()
                .find_by_ext_id(&w.client.id, plain.ext_id.as_str())?,
            r.policies()
                .find_by_ext_id("other-client", w.pwd.ext_id.as_str())?,
        ))
    });
    assert_eq!(got.0.as_ref(), Some(&w.pwd));
    assert_eq!(got.1.as_ref(), Some(&w.oath));
    assert_eq!(got.2.as_ref(), Some(&w.vasco));
    assert_eq!(got.3.as_ref(), Some(&plain));
    assert_eq!(got.4, None);

    let mut same_ext = policy(&w.client.id, PolicyType::Oath, false);
    same_ext.ext_id = w.pwd.ext_id.clone();
    let second_default = policy(&w.client.id, PolicyType::Pwd, true);
    let errs = write(uow, |r| {
        Ok((
            r.policies().insert(&same_ext),
            r.policies().insert(&second_default),
        ))
    });
    assert_eq!(errs.0, Err(StoreError::Unique(UniqueKey::PolicyExtId)));
    assert_eq!(errs.1, Err(StoreError::Unique(UniqueKey::DefaultPolicy)));

    let mut edited = plain.clone();
    edited.name = "Renamed".into();
    edited.description = Some("now described".into());
    edited.parameters = PolicyParameters::validated(
        PolicyType::Pwd,
        [("maxResetCount".to_owned(), "-1".to_owned())]
            .into_iter()
            .collect(),
    )
    .expect("valid parameters");
    edited.version = 2;
    write(uow, |r| Ok(r.policies().update(&edited, 1)?));
    assert_eq!(
        write(uow, |r| Ok(r.policies().update(&edited, 1))),
        Err(StoreError::Conflict)
    );
    let got = read(uow, |r| Ok(r.policies().find_by_id(&plain.id)?));
    assert_eq!(got.as_ref(), Some(&edited));
}

/// `clear_default` lets another policy take the default mark in the same transaction.
pub fn policies_default_switch(uow: &dyn UnitOfWork) {
    let w = world(uow);
    let now = t0() + Duration::days(1);
    let next = policy(&w.client.id, PolicyType::Pwd, true);
    write(uow, |r| {
        r.policies()
            .clear_default(&w.client.id, PolicyType::Pwd, now)?;
        r.policies().insert(&next)?;
        Ok(())
    });
    let (old, default, oath) = read(uow, |r| {
        Ok((
            r.policies().find_by_id(&w.pwd.id)?,
            r.policies().find_default(&w.client.id, PolicyType::Pwd)?,
            r.policies().find_default(&w.client.id, PolicyType::Oath)?,
        ))
    });
    let old = old.expect("old default still exists");
    assert!(!old.default_policy);
    assert_eq!(old.version, w.pwd.version + 1);
    assert_eq!(old.last_modified, now);
    assert_eq!(default.as_ref(), Some(&next));
    assert_eq!(
        oath.as_ref(),
        Some(&w.oath),
        "other types keep their default"
    );

    // Clearing when there is no default is a no-op.
    write(uow, |r| {
        r.policies()
            .clear_default(&w.client.id, PolicyType::Vasco, now)?;
        r.policies()
            .clear_default(&w.client.id, PolicyType::Vasco, now)?;
        Ok(())
    });
    assert_eq!(
        read(uow, |r| Ok(r
            .policies()
            .find_default(&w.client.id, PolicyType::Vasco)?)),
        None
    );
}

/// Password, OATH and VASCO credentials come back exactly as stored, with the extIds of their
/// user and policy; VASCO tokens keep their order.
pub fn credentials_round_trip_every_type(uow: &dyn UnitOfWork) {
    let w = world(uow);
    let pwd = credential(&w.client.id, Some(&w.user.id), &w.pwd.id, password_secret());
    let oath = credential(&w.client.id, Some(&w.user.id), &w.oath.id, oath_secret());
    let mut vasco = credential(&w.client.id, None, &w.vasco.id, vasco_secret());
    vasco.state = CredentialState::Initial;
    vasco.state_change_reason = StateChangeReason::Initialized;
    vasco.state_change_detail = None;
    vasco.last_successful_login = None;
    vasco.last_failed_login = None;
    vasco.modification_comment = None;
    vasco.locked_until = None;
    write(uow, |r| {
        for c in [&pwd, &oath, &vasco] {
            r.credentials().insert(c)?;
        }
        Ok(())
    });
    let got = read(uow, |r| {
        Ok((
            r.credentials()
                .find_by_ext_id(&w.client.id, pwd.ext_id.as_str())?,
            r.credentials()
                .find_by_ext_id(&w.client.id, oath.ext_id.as_str())?,
            r.credentials()
                .find_by_ext_id(&w.client.id, vasco.ext_id.as_str())?,
            r.credentials().find_password_of_user(&w.user.id, false)?,
            r.credentials()
                .find_by_ext_id("other-client", pwd.ext_id.as_str())?,
            r.credentials()
                .find_by_ext_id(&w.client.id, "no-such-credential")?,
        ))
    });
    assert_eq!(got.0, Some(record_of(&pwd, Some(&w.user), &w.pwd)));
    assert_eq!(got.1, Some(record_of(&oath, Some(&w.user), &w.oath)));
    assert_eq!(got.2, Some(record_of(&vasco, None, &w.vasco)));
    assert_eq!(got.3, Some(record_of(&pwd, Some(&w.user), &w.pwd)));
    assert_eq!((got.4, got.5), (None, None));

    // The locking variant returns the same, in a write transaction.
    let locked = write(uow, |r| {
        Ok(r.credentials().find_password_of_user(&w.user.id, true)?)
    });
    assert_eq!(locked, Some(record_of(&pwd, Some(&w.user), &w.pwd)));
    let other = user(&w.client.id);
    write(uow, |r| Ok(r.users().insert(&other)?));
    let none = write(uow, |r| {
        Ok(r.credentials().find_password_of_user(&other.id, true)?)
    });
    assert_eq!(none, None, "a user without a Password credential");
}

/// `find_by_ext_id_for_update` returns what `find_by_ext_id` does, for every type, scoped to
/// the client.
pub fn credentials_find_for_update(uow: &dyn UnitOfWork) {
    let w = world(uow);
    let other = world(uow);
    let pwd = credential(&w.client.id, Some(&w.user.id), &w.pwd.id, password_secret());
    let oath = credential(&w.client.id, Some(&w.user.id), &w.oath.id, oath_secret());
    let vasco = credential(&w.client.id, None, &w.vasco.id, vasco_secret());
    write(uow, |r| {
        for c in [&pwd, &oath, &vasco] {
            r.credentials().insert(c)?;
        }
        Ok(())
    });
    for (c, user, policy) in [
        (&pwd, Some(&w.user), &w.pwd),
        (&oath, Some(&w.user), &w.oath),
        (&vasco, None, &w.vasco),
    ] {
        let (plain, locked) = write(uow, |r| {
            Ok((
                r.credentials()
                    .find_by_ext_id(&w.client.id, c.ext_id.as_str())?,
                r.credentials()
                    .find_by_ext_id_for_update(&w.client.id, c.ext_id.as_str())?,
            ))
        });
        let expected = record_of(c, user, policy);
        assert_eq!(plain.as_ref(), Some(&expected));
        assert_eq!(
            locked.as_ref(),
            Some(&expected),
            "the locking finder returns the same record"
        );
    }
    let missing = write(uow, |r| {
        Ok((
            r.credentials()
                .find_by_ext_id_for_update(&w.client.id, "no-such-credential")?,
            r.credentials()
                .find_by_ext_id_for_update(&other.client.id, pwd.ext_id.as_str())?,
        ))
    });
    assert_eq!(
        missing,
        (None, None),
        "an unknown extId, or one of another client"
    );
}

/// Credential unique keys: extId across types, one Password per user, auth modes per token.
pub fn credentials_unique_keys(uow: &dyn UnitOfWork) {
    let w = world(uow);
    let pwd = credential(&w.client.id, Some(&w.user.id), &w.pwd.id, password_secret());
    write(uow, |r| Ok(r.credentials().insert(&pwd)?));

    let mut same_ext = credential(&w.client.id, Some(&w.user.id), &w.oath.id, oath_secret());
    same_ext.ext_id = pwd.ext_id.clone();
    let second_password = credential(&w.client.id, Some(&w.user.id), &w.pwd.id, password_secret());
    let mut repeated_mode = credential(&w.client.id, None, &w.vasco.id, vasco_secret());
    if let CredentialSecret::Vasco { tokens } = &mut repeated_mode.secret {
        tokens.push(VascoToken {
            auth_mode: "CR".into(),
            data: "CQoL".into(),
        });
    }
    let errs = write(uow, |r| {
        Ok((
            r.credentials().insert(&same_ext),
            r.credentials().insert(&second_password),
            r.credentials().insert(&repeated_mode),
        ))
    });
    assert_eq!(errs.0, Err(StoreError::Unique(UniqueKey::CredentialExtId)));
    assert_eq!(errs.1, Err(StoreError::Unique(UniqueKey::UserPassword)));
    assert_eq!(errs.2, Err(StoreError::Unique(UniqueKey::VascoAuthMode)));
    let left = read(uow, |r| {
        Ok(r.credentials()
            .find_by_ext_id(&w.client.id, repeated_mode.ext_id.as_str())?)
    });
    assert_eq!(
        left, None,
        "a failed insert leaves no partial credential behind"
    );

    // Many OATH credentials per user are fine; so is the same extId in another client.
    let other = world(uow);
    let mut elsewhere = credential(
        &other.client.id,
        Some(&other.user.id),
        &other.pwd.id,
        password_secret(),
    );
    elsewhere.ext_id = pwd.ext_id.clone();
    let oath1 = credential(&w.client.id, Some(&w.user.id), &w.oath.id, oath_secret());
    let oath2 = credential(&w.client.id, Some(&w.user.id), &w.oath.id, oath_secret());
    write(uow, |r| {
        r.credentials().insert(&elsewhere)?;
        r.credentials().insert(&oath1)?;
        r.credentials().insert(&oath2)?;
        Ok(())
    });
}

/// Credential updates are compare-and-set; every field, the secret included, is written.
pub fn credentials_update_compare_and_set(uow: &dyn UnitOfWork) {
    let w = world(uow);
    let pwd = credential(&w.client.id, Some(&w.user.id), &w.pwd.id, password_secret());
    let oath = credential(&w.client.id, Some(&w.user.id), &w.oath.id, oath_secret());
    let vasco = credential(&w.client.id, None, &w.vasco.id, vasco_secret());
    write(uow, |r| {
        for c in [&pwd, &oath, &vasco] {
            r.credentials().insert(c)?;
        }
        Ok(())
    });

    let mut p2 = pwd.clone();
    p2.state = CredentialState::Initial;
    p2.state_change_reason = StateChangeReason::ResetByAdmin;
    p2.state_change_detail = None;
    p2.failed_login_count = 0;
    p2.locked_until = None;
    p2.last_failed_login = None;
    p2.reset_count += 1;
    p2.secret = CredentialSecret::Password {
        hash: "$argon2id$new".into(),
    };
    p2.last_modified = t0() + Duration::minutes(3);
    p2.version = 2;
    let mut o2 = oath.clone();
    if let CredentialSecret::Oath(d) = &mut o2.secret {
        d.counter += 1;
        d.label = "ACME:renamed".into();
    }
    o2.version = 2;
    let mut v2 = vasco.clone();
    v2.user_id = Some(w.user.id.clone());
    v2.state = CredentialState::Active;
    v2.secret = CredentialSecret::Vasco {
        tokens: vec![VascoToken {
            auth_mode: "CR".into(),
            data: "DA0O".into(),
        }],
    };
    v2.version = 2;
    write(uow, |r| {
        r.credentials().update(&p2, 1)?;
        r.credentials().update(&o2, 1)?;
        r.credentials().update(&v2, 1)?;
        Ok(())
    });
    let got = read(uow, |r| {
        Ok((
            r.credentials()
                .find_by_ext_id(&w.client.id, pwd.ext_id.as_str())?,
            r.credentials()
                .find_by_ext_id(&w.client.id, oath.ext_id.as_str())?,
            r.credentials()
                .find_by_ext_id(&w.client.id, vasco.ext_id.as_str())?,
        ))
    });
    assert_eq!(got.0, Some(record_of(&p2, Some(&w.user), &w.pwd)));
    assert_eq!(got.1, Some(record_of(&o2, Some(&w.user), &w.oath)));
    assert_eq!(
        got.2,
        Some(record_of(&v2, Some(&w.user), &w.vasco)),
        "assigned to the user"
    );

    let mut stale = p2.clone();
    stale.failed_login_count = 99;
    stale.version = 3;
    assert_eq!(
        write(uow, |r| Ok(r.credentials().update(&stale, 1))),
        Err(StoreError::Conflict)
    );
    let got = read(uow, |r| {
        Ok(r.credentials().find_password_of_user(&w.user.id, false)?)
    });
    assert_eq!(got.map(|g| g.credential), Some(p2));
}

/// `list_by_user`: by (created, extId), strictly after the cursor, `limit + 1` rows at most.
pub fn credentials_keyset_pagination(uow: &dyn UnitOfWork) {
    let w = world(uow);
    let other = user(&w.client.id);
    write(uow, |r| Ok(r.users().insert(&other)?));
    // Seven credentials, several sharing a creation time, inserted out of order.
    let mut creds = Vec::new();
    for (i, (secs, name)) in [
        (3, "b"),
        (1, "z"),
        (3, "a"),
        (2, "m"),
        (3, "c"),
        (1, "y"),
        (5, "a"),
    ]
    .into_iter()
    .enumerate()
    {
        let secret = if i == 0 {
            password_secret()
        } else {
            oath_secret()
        };
        let policy = if i == 0 { &w.pwd } else { &w.oath };
        let mut c = credential(&w.client.id, Some(&w.user.id), &policy.id, secret);
        c.ext_id = ext(&format!("{name}-{}", c.id));
        c.created = t0() + Duration::seconds(secs) + Duration::microseconds(7);
        creds.push(c);
    }
    let foreign = credential(&w.client.id, Some(&other.id), &w.oath.id, oath_secret());
    write(uow, |r| {
        for c in creds.iter().chain([&foreign]) {
            r.credentials().insert(c)?;
        }
        Ok(())
    });
    let mut expected: Vec<(DateTime<Utc>, String)> = creds
        .iter()
        .map(|c| (c.created, c.ext_id.to_string()))
        .collect();
    expected.sort();

    let mut seen = Vec::new();
    let mut after = None;
    let mut pages = 0;
    loop {
        let page = PageRequest {
            limit: 3,
            after: after.clone(),
        };
        let rows = read(uow, |r| {
            Ok(r.credentials().list_by_user(&w.user.id, &page)?)
        });
        pages += 1;
        assert!(rows.len() <= 4, "at most limit + 1 rows");
        let more = rows.len() > 3;
        let items: Vec<_> = rows.into_iter().take(3).collect();
        for rec in &items {
            assert_eq!(rec.user_ext_id.as_ref(), Some(&w.user.ext_id));
            seen.push((rec.credential.created, rec.credential.ext_id.to_string()));
        }
        if !more {
            break;
        }
        let last = items.last().expect("a full page");
        after = Some(PageCursor {
            created: last.credential.created,
            ext_id: last.credential.ext_id.to_string(),
        });
        assert!(pages < 10, "pagination must end");
    }
    assert_eq!(
        seen, expected,
        "every credential once, in (created, extId) order"
    );
    assert_eq!(pages, 3);

    let all = read(uow, |r| {
        Ok(r.credentials().list_by_user(
            &w.user.id,
            &PageRequest {
                limit: 100,
                after: None,
            },
        )?)
    });
    assert_eq!(all.len(), 7);
    let none = read(uow, |r| {
        Ok(r.credentials().list_by_user(
            "no-such-user",
            &PageRequest {
                limit: 100,
                after: None,
            },
        )?)
    });
    assert!(none.is_empty());
}

/// `list_of_type`: one type in one client, of one user or (without a user) of every user and
/// none, by (created, extId), strictly after the cursor, `limit + 1` rows at most.
pub fn credentials_list_of_type(uow: &dyn UnitOfWork) {
    let w = world(uow);
    let other = world(uow);
    let second = user(&w.client.id);
    write(uow, |r| Ok(r.users().insert(&second)?));
    let u1 = Some(&w.user);
    let u2 = Some(&second);
    // (user, type, seconds after t0, leading letter of the extId): several share a creation
    // time, so the extId decides; inserted out of order.
    let specs: [(Option<&User>, CredentialType, i64, &str); 11] = [
        (u1, CredentialType::Vasco, 3, "b"),
        (None, CredentialType::Vasco, 3, "a"),
        (u2, CredentialType::Password, 1, "p"),
        (u1, CredentialType::Oath, 2, "o"),
        (None, CredentialType::Vasco, 1, "z"),
        (u2, CredentialType::Vasco, 3, "c"),
        (u1, CredentialType::Password, 1, "q"),
        (u2, CredentialType::Oath, 2, "n"),
        (None, CredentialType::Vasco, 5, "a"),
        (u1, CredentialType::Oath, 4, "m"),
        (u1, CredentialType::Oath, 2, "k"),
    ];
    let make = |w: &World, owner: Option<&User>, kind: CredentialType, secs: i64, name: &str| {
        let (policy, secret) = match kind {
            CredentialType::Password => (&w.pwd, password_secret()),
            CredentialType::Oath => (&w.oath, oath_secret()),
            CredentialType::Vasco => (&w.vasco, vasco_secret()),
        };
        let mut c = credential(
            &w.client.id,
            owner.map(|u| u.id.as_str()),
            &policy.id,
            secret,
        );
        c.ext_id = ext(&format!("{name}-{}", c.id));
        c.created = t0() + Duration::seconds(secs) + Duration::microseconds(11);
        let expected = record_of(&c, owner, policy);
        (c, kind, expected)
    };
    let mine: Vec<_> = specs
        .iter()
        .map(|&(owner, kind, secs, name)| make(&w, owner, kind, secs, name))
        .collect();
    // The other client has one of each, an unassigned VASCO credential included.
    let theirs: Vec<_> = [
        (Some(&other.user), CredentialType::Password),
        (Some(&other.user), CredentialType::Oath),
        (Some(&other.user), CredentialType::Vasco),
        (None, CredentialType::Vasco),
    ]
    .into_iter()
    .map(|(owner, kind)| make(&other, owner, kind, 2, "a"))
    .collect();
    write(uow, |r| {
        for (c, _, _) in mine.iter().chain(&theirs) {
            r.credentials().insert(c)?;
        }
        Ok(())
    });
    let expected = |owner: Option<&User>, kind: CredentialType| -> Vec<CredentialRecord> {
        let mut v: Vec<_> = mine
            .iter()
            .filter(|(c, k, _)| {
                *k == kind && owner.is_none_or(|u| c.user_id.as_deref() == Some(u.id.as_str()))
            })
            .map(|(_, _, rec)| rec.clone())
            .collect();
        v.sort_by_key(|rec| (rec.credential.created, rec.credential.ext_id.to_string()));
        v
    };
    let all = PageRequest {
        limit: 100,
        after: None,
    };
    let list = |client_id: &str, user_id: Option<&str>, kind: CredentialType| {
        read(uow, |r| {
            Ok(r.credentials()
                .list_of_type(client_id, user_id, kind, &all)?)
        })
    };

    for kind in [
        CredentialType::Password,
        CredentialType::Oath,
        CredentialType::Vasco,
    ] {
        for owner in [u1, u2] {
            let user_id = owner.map(|u| u.id.as_str());
            assert_eq!(
                list(&w.client.id, user_id, kind),
                expected(owner, kind),
                "{kind:?} credentials of one user"
            );
        }
        assert_eq!(
            list(&w.client.id, None, kind),
            expected(None, kind),
            "{kind:?} credentials of the whole client"
        );
    }
    let vasco = list(&w.client.id, None, CredentialType::Vasco);
    assert_eq!(
        vasco.len(),
        5,
        "assigned and unassigned VASCO of the client only"
    );
    assert_eq!(
        vasco.iter().filter(|rec| rec.user_ext_id.is_none()).count(),
        3,
        "unassigned VASCO credentials are listed without a user"
    );
    assert_eq!(
        list(&w.client.id, Some(&w.user.id), CredentialType::Password).len(),
        1
    );
    assert_eq!(
        list(&w.client.id, Some(&other.user.id), CredentialType::Password),
        Vec::new(),
        "a user of another client"
    );
    assert_eq!(
        list(&w.client.id, Some("no-such-user"), CredentialType::Oath),
        Vec::new()
    );
    assert_eq!(
        list(&other.client.id, None, CredentialType::Vasco),
        theirs[2..]
            .iter()
            .map(|(_, _, rec)| rec.clone())
            .collect::<Vec<_>>(),
        "the other client's VASCO credentials only"
    );

    // Paging the client's five VASCO credentials two at a time: three pages.
    let mut seen = Vec::new();
    let mut after = None;
    let mut pages = 0;
    loop {
        let page = PageRequest {
            limit: 2,
            after: after.clone(),
        };
        let rows = read(uow, |r| {
            Ok(r.credentials()
                .list_of_type(&w.client.id, None, CredentialType::Vasco, &page)?)
        });
        pages += 1;
        assert!(rows.len() <= 3, "at most limit + 1 rows");
        let more = rows.len() > 2;
        let items: Vec<_> = rows.into_iter().take(2).collect();
        seen.extend(items.iter().cloned());
        if !more {
            break;
        }
        let last = items.last().expect("a full page");
        after = Some(PageCursor {
            created: last.credential.created,
            ext_id: last.credential.ext_id.to_string(),
        });
        assert!(pages < 10, "pagination must end");
    }
    assert_eq!(pages, 3);
    assert_eq!(
        seen,
        expected(None, CredentialType::Vasco),
        "every VASCO credential once, in (created, extId) order"
    );
}

/// `delete`: `true` once, then `false`; the credential and its VASCO tokens are gone (its id
/// and auth modes can be stored again), other credentials are untouched, and a queued delivery
/// of the deleted credential stays pending with an empty `credential_id`.
pub fn credentials_delete(uow: &dyn UnitOfWork) {
    let w = world(uow);
    let pwd = credential(&w.client.id, Some(&w.user.id), &w.pwd.id, password_secret());
    let oath = credential(&w.client.id, Some(&w.user.id), &w.oath.id, oath_secret());
    let vasco = credential(&w.client.id, None, &w.vasco.id, vasco_secret());
    let kept = credential(&w.client.id, Some(&w.user.id), &w.vasco.id, vasco_secret());
    write(uow, |r| {
        for c in [&pwd, &oath, &vasco, &kept] {
            r.credentials().insert(c)?;
        }
        Ok(())
    });
    let (first, again) = write(uow, |r| {
        Ok((
            r.credentials().delete(&pwd.id)?,
            r.credentials().delete(&pwd.id)?,
        ))
    });
    assert!(first, "the credential existed");
    assert!(!again, "nothing left to delete");
    assert!(write(uow, |r| Ok(r.credentials().delete(&vasco.id)?)));
    assert!(!write(uow, |r| Ok(r.credentials().delete(&vasco.id)?)));
    assert!(!write(uow, |r| Ok(r.credentials().delete("no-such-id")?)));

    let got = read(uow, |r| {
        Ok((
            r.credentials()
                .find_by_ext_id(&w.client.id, pwd.ext_id.as_str())?,
            r.credentials()
                .find_by_ext_id(&w.client.id, vasco.ext_id.as_str())?,
            r.credentials().find_password_of_user(&w.user.id, false)?,
            r.credentials()
                .find_by_ext_id(&w.client.id, oath.ext_id.as_str())?,
            r.credentials()
                .find_by_ext_id(&w.client.id, kept.ext_id.as_str())?,
        ))
    });
    assert_eq!(
        (got.0, got.1, got.2),
        (None, None, None),
        "the records are gone"
    );
    assert_eq!(got.3, Some(record_of(&oath, Some(&w.user), &w.oath)));
    assert_eq!(
        got.4,
        Some(record_of(&kept, Some(&w.user), &w.vasco)),
        "another VASCO credential keeps its tokens"
    );
    let left = read(uow, |r| {
        Ok(r.credentials().list_by_user(
            &w.user.id,
            &PageRequest {
                limit: 100,
                after: None,
            },
        )?)
    });
    assert_eq!(left.len(), 2, "only the undeleted credentials of the user");

    // The deleted VASCO credential's tokens are gone: a new credential with its id, extId and
    // auth modes (other data) is stored, and reads back with only the new tokens.
    let mut reused = credential(&w.client.id, None, &w.vasco.id, vasco_secret());
    reused.id = vasco.id.clone();
    reused.ext_id = vasco.ext_id.clone();
    if let CredentialSecret::Vasco { tokens } = &mut reused.secret {
        for t in tokens.iter_mut() {
            t.data = format!("{}AA", t.data);
        }
    }
    let fresh = credential(&w.client.id, None, &w.vasco.id, vasco_secret());
    write(uow, |r| {
        r.credentials().insert(&reused)?;
        r.credentials().insert(&fresh)?;
        Ok(())
    });
    let got = read(uow, |r| {
        Ok((
            r.credentials()
                .find_by_ext_id(&w.client.id, reused.ext_id.as_str())?,
            r.credentials()
                .find_by_ext_id(&w.client.id, fresh.ext_id.as_str())?,
        ))
    });
    assert_eq!(got.0, Some(record_of(&reused, None, &w.vasco)));
    assert_eq!(got.1, Some(record_of(&fresh, None, &w.vasco)));

    // The outbox row of a deleted credential stays (ON DELETE SET NULL), read back with an
    // empty credential id, so `pending` never fails on it. All of it runs in a unit of work
    // that fails, so no pending delivery outlives this case (`pending` lists every client's)
    // and the delete is rolled back with it.
    let doomed = credential(&w.client.id, Some(&w.user.id), &w.pwd.id, password_secret());
    let delivery = |credential: &Credential, created: DateTime<Utc>| Delivery {
        id: unique("d"),
        client_id: w.client.id.clone(),
        user_id: w.user.id.clone(),
        credential_id: credential.id.clone(),
        kind: DeliveryKind::PasswordRemainder,
        sealed_payload: "bm9uY2U=~Y2lwaGVy".into(),
        created,
    };
    let orphaned = delivery(&doomed, t0());
    let intact = delivery(&oath, t0() + Duration::seconds(1));
    let mut seen = None;
    let result = uow.run(TxMode::Write, &mut |r| {
        r.credentials().insert(&doomed)?;
        r.deliveries().enqueue(&orphaned)?;
        r.deliveries().enqueue(&intact)?;
        let deleted = r.credentials().delete(&doomed.id)?;
        let pending = r.deliveries().pending(1000)?;
        seen = Some((deleted, pending));
        Err(DomainError::OptimisticLockingFailure.into())
    });
    assert_eq!(
        result,
        Err(AppError::Domain(DomainError::OptimisticLockingFailure))
    );
    let (deleted, pending) = seen.expect("the unit of work ran");
    assert!(deleted);
    let mine: Vec<_> = pending
        .into_iter()
        .filter(|d| d.client_id == w.client.id)
        .collect();
    let mut expected_orphan = orphaned.clone();
    expected_orphan.credential_id = String::new();
    assert_eq!(
        mine,
        vec![expected_orphan, intact],
        "a delivery of a deleted credential stays pending, without its credential"
    );
    let after = read(uow, |r| {
        Ok((
            r.credentials().find_password_of_user(&w.user.id, false)?,
            r.deliveries().pending(1000)?,
        ))
    });
    assert_eq!(after.0, None, "the failed unit of work stored nothing");
    assert!(
        after.1.iter().all(|d| d.client_id != w.client.id),
        "the failed unit of work queued nothing"
    );
}

/// Grants: upsert inserts or replaces the data room, delete reports whether it removed one.
pub fn role_grants(uow: &dyn UnitOfWork) {
    let w = world(uow);
    let rooms = |ids: &[&str]| DataRoom::Clients(ids.iter().map(|i| ext(i)).collect());
    let root = RoleGrant {
        role: Role::Root,
        data_room: DataRoom::Global,
    };
    let helpdesk = RoleGrant {
        role: Role::Helpdesk,
        data_room: rooms(&["client-a", "client-b"]),
    };
    let now = t0();
    write(uow, |r| {
        r.roles().upsert_grant(&w.user.id, &root, now)?;
        r.roles()
            .upsert_grant(&w.user.id, &helpdesk, now + Duration::seconds(1))?;
        Ok(())
    });
    let mut got = read(uow, |r| Ok(r.roles().grants_of_user(&w.user.id)?));
    got.sort_by_key(|g| g.role);
    assert_eq!(got, vec![root.clone(), helpdesk.clone()]);

    let narrowed = RoleGrant {
        role: Role::Helpdesk,
        data_room: rooms(&["client-c"]),
    };
    let empty = RoleGrant {
        role: Role::UserAdmin,
        data_room: rooms(&[]),
    };
    write(uow, |r| {
        r.roles()
            .upsert_grant(&w.user.id, &narrowed, now + Duration::seconds(2))?;
        r.roles()
            .upsert_grant(&w.user.id, &empty, now + Duration::seconds(3))?;
        Ok(())
    });
    let mut got = read(uow, |r| Ok(r.roles().grants_of_user(&w.user.id)?));
    got.sort_by_key(|g| g.role);
    assert_eq!(
        got,
        vec![root.clone(), empty.clone(), narrowed.clone()],
        "upsert replaces the data room"
    );

    let (first, second) = write(uow, |r| {
        Ok((
            r.roles().delete_grant(&w.user.id, Role::Helpdesk)?,
            r.roles().delete_grant(&w.user.id, Role::Helpdesk)?,
        ))
    });
    assert!(first, "the grant existed");
    assert!(!second, "nothing left to delete");
    assert!(!write(uow, |r| Ok(r
        .roles()
        .delete_grant(&w.user.id, Role::SelfAdmin)?)));
    let mut got = read(uow, |r| Ok(r.roles().grants_of_user(&w.user.id)?));
    got.sort_by_key(|g| g.role);
    assert_eq!(got, vec![root, empty]);
    assert!(read(uow, |r| Ok(r.roles().grants_of_user("no-such-user")?)).is_empty());
}

/// The delivery outbox: every field survives, `pending` is oldest first and honours `limit`,
/// and a delivery queued by a unit of work that fails is not stored.
pub fn deliveries_round_trip(uow: &dyn UnitOfWork) {
    let w = world(uow);
    let cred = credential(&w.client.id, Some(&w.user.id), &w.pwd.id, password_secret());
    write(uow, |r| Ok(r.credentials().insert(&cred)?));
    let delivery = |created: DateTime<Utc>, payload: &str| Delivery {
        id: unique("d"),
        client_id: w.client.id.clone(),
        user_id: w.user.id.clone(),
        credential_id: cred.id.clone(),
        kind: DeliveryKind::PasswordRemainder,
        sealed_payload: payload.to_owned(),
        created,
    };
    let older = delivery(t0() + Duration::microseconds(1), "bm9uY2Ux~Y2lwaGVyMQ==");
    let newer = delivery(t0() + Duration::seconds(3), "bm9uY2Uy~Y2lwaGVyMg==");
    // Queued newest first, so the order of `pending` comes from `created`, not insertion.
    write(uow, |r| {
        r.deliveries().enqueue(&newer)?;
        r.deliveries().enqueue(&older)?;
        Ok(())
    });
    let all = read(uow, |r| Ok(r.deliveries().pending(10)?));
    assert_eq!(all, vec![older.clone(), newer.clone()], "oldest first");
    let one = read(uow, |r| Ok(r.deliveries().pending(1)?));
    assert_eq!(one, vec![older.clone()], "limit");

    // Older than both: were it stored, `pending` would list it first.
    let lost = delivery(t0(), "bm9uY2Uz~Y2lwaGVyMw==");
    let result = uow.run(TxMode::Write, &mut |r| {
        r.deliveries().enqueue(&lost)?;
        Err(DomainError::OptimisticLockingFailure.into())
    });
    assert_eq!(
        result,
        Err(AppError::Domain(DomainError::OptimisticLockingFailure))
    );
    let after = read(uow, |r| Ok(r.deliveries().pending(10)?));
    assert_eq!(
        after,
        vec![older, newer],
        "a delivery of a failed unit of work is not stored"
    );
}

/// A unit of work whose work fails leaves nothing behind and returns the work's error.
pub fn rollback_on_error(uow: &dyn UnitOfWork) {
    let c = client();
    let u = user(&c.id);
    let result = uow.run(TxMode::Write, &mut |r| {
        r.clients().insert(&c)?;
        r.users().insert(&u)?;
        Err(DomainError::OptimisticLockingFailure.into())
    });
    assert_eq!(
        result,
        Err(AppError::Domain(DomainError::OptimisticLockingFailure))
    );
    let got = read(uow, |r| {
        Ok((
            r.clients().find_by_id(&c.id)?,
            r.users().find_by_ext_id(&c.id, u.ext_id.as_str())?,
        ))
    });
    assert_eq!(got, (None, None));

    // The connection is fine afterwards: the next unit of work commits.
    write(uow, |r| Ok(r.clients().insert(&c)?));
    assert!(read(uow, |r| Ok(r.clients().find_by_id(&c.id)?)).is_some());
}

/// A write that fails (a lost uniqueness race) may be handled by the use case, which then goes
/// on in the same transaction (PostgreSQL would otherwise abort the whole transaction).
pub fn failed_write_does_not_spoil_the_transaction(uow: &dyn UnitOfWork) {
    let first = client();
    write(uow, |r| Ok(r.clients().insert(&first)?));
    let mut dup = client();
    dup.name = first.name.clone();
    let second = client();
    let err = write(uow, |r| {
        let err = r.clients().insert(&dup);
        r.clients().insert(&second)?;
        Ok(err)
    });
    assert_eq!(err, Err(StoreError::Unique(UniqueKey::ClientName)));
    let got = read(uow, |r| {
        Ok((
            r.clients().find_by_id(&second.id)?,
            r.clients().find_by_id(&dup.id)?,
        ))
    });
    assert_eq!(got, (Some(second), None));
}

/// Timestamps are stored to the microsecond on every backend (finer parts are cut off).
pub fn timestamps_keep_microseconds(uow: &dyn UnitOfWork) {
    let mut c = client();
    let precise = DateTime::from_timestamp(1_700_000_000, 987_654_321).expect("valid instant");
    c.created = precise;
    c.last_modified = DateTime::from_timestamp(1_700_000_001, 0).expect("valid instant");
    write(uow, |r| Ok(r.clients().insert(&c)?));
    let got = read(uow, |r| Ok(r.clients().find_by_id(&c.id)?)).expect("stored");
    assert_eq!(
        got.created,
        DateTime::from_timestamp(1_700_000_000, 987_654_000).expect("valid instant")
    );
    assert_eq!(got.last_modified, c.last_modified);
}

/// Runs `work(i)` for `i` in `0..threads`, each on its own thread, all at once; returns the
/// errors.
fn concurrently(threads: i64, work: impl Fn(i64) -> Result<(), AppError> + Sync) -> Vec<AppError> {
    std::thread::scope(|s| {
        let work = &work;
        let handles: Vec<_> = (0..threads).map(|i| s.spawn(move || work(i))).collect();
        handles
            .into_iter()
            .filter_map(|h| match h.join() {
                Ok(result) => result.err(),
                Err(_) => Some(AppError::Internal("worker thread panicked".into())),
            })
            .collect()
    })
}

/// 50 threads each count a failed login on the same Password credential (lock, read, +1,
/// compare-and-set write): the count ends at exactly 50, without a single error.
pub fn concurrent_failed_logins(uow: &dyn UnitOfWork) {
    const THREADS: i64 = 50;
    let w = world(uow);
    let mut pwd = credential(&w.client.id, Some(&w.user.id), &w.pwd.id, password_secret());
    pwd.failed_login_count = 0;
    write(uow, |r| Ok(r.credentials().insert(&pwd)?));
    let errors = concurrently(THREADS, |_| {
        transact(uow, TxMode::Write, |r| {
            let rec = r
                .credentials()
                .find_password_of_user(&w.user.id, true)?
                .ok_or_else(|| AppError::Internal("password credential vanished".into()))?;
            let mut c = rec.credential;
            let old = c.version;
            c.failed_login_count += 1;
            c.version += 1;
            r.credentials().update(&c, old)?;
            Ok(())
        })
    });
    assert!(errors.is_empty(), "concurrent updates failed: {errors:?}");
    let got = read(uow, |r| {
        Ok(r.credentials().find_password_of_user(&w.user.id, false)?)
    })
    .expect("credential exists")
    .credential;
    assert_eq!(got.failed_login_count, THREADS);
    assert_eq!(got.version, 1 + THREADS);
}

/// 50 threads each count a failed login on the same (OATH) credential found by extId (lock
/// with `find_by_ext_id_for_update`, +1, compare-and-set write): the count ends at exactly 50,
/// without a single error. And 50 concurrent `record_login` reports on one user all count.
pub fn concurrent_counter_updates_by_ext_id(uow: &dyn UnitOfWork) {
    const THREADS: i64 = 50;
    let w = world(uow);
    let mut oath = credential(&w.client.id, Some(&w.user.id), &w.oath.id, oath_secret());
    oath.failed_login_count = 0;
    write(uow, |r| Ok(r.credentials().insert(&oath)?));
    let errors = concurrently(THREADS, |_| {
        transact(uow, TxMode::Write, |r| {
            let rec = r
                .credentials()
                .find_by_ext_id_for_update(&w.client.id, oath.ext_id.as_str())?
                .ok_or_else(|| AppError::Internal("credential vanished".into()))?;
            let mut c = rec.credential;
            let old = c.version;
            c.failed_login_count += 1;
            c.version += 1;
            r.credentials().update(&c, old)?;
            Ok(())
        })
    });
    assert!(errors.is_empty(), "concurrent updates failed: {errors:?}");
    let got = read(uow, |r| {
        Ok(r.credentials()
            .find_by_ext_id(&w.client.id, oath.ext_id.as_str())?)
    })
    .expect("credential exists")
    .credential;
    assert_eq!(got.failed_login_count, THREADS);
    assert_eq!(got.version, oath.version + THREADS);

    // Even threads report a success, odd ones a failure, each at its own instant.
    let at = |i: i64| t0() + Duration::days(1) + Duration::seconds(i);
    let errors = concurrently(THREADS, |i| {
        transact(uow, TxMode::Write, |r| {
            Ok(r.users().record_login(&w.user.id, i % 2 == 0, at(i))?)
        })
    });
    assert!(
        errors.is_empty(),
        "concurrent record_login failed: {errors:?}"
    );
    let got = read(uow, |r| Ok(r.users().find_by_id(&w.user.id)?)).expect("user exists");
    assert_eq!(got.version, w.user.version + THREADS, "no report is lost");
    let successes: BTreeSet<_> = (0..THREADS).filter(|i| i % 2 == 0).map(at).collect();
    let failures: BTreeSet<_> = (0..THREADS).filter(|i| i % 2 == 1).map(at).collect();
    let last_login = got.last_login.expect("last_login set");
    let last_failure = got.last_login_failure.expect("last_login_failure set");
    assert!(
        successes.contains(&last_login),
        "last_login comes from a success"
    );
    assert!(
        failures.contains(&last_failure),
        "last_login_failure comes from a failure"
    );
    assert!(
        got.last_modified == last_login || got.last_modified == last_failure,
        "last_modified is the instant of the last report"
    );
}

/// `server_meta`: absent names read `None`; the first value stored under a name wins; a value
/// stored in a rolled-back transaction is not kept.
pub fn meta_insert_if_absent(uow: &dyn UnitOfWork) {
    let name = "contract-check";
    let r = transact(uow, TxMode::Write, |repos| {
        let before = repos.meta().get(name)?;
        let first = repos.meta().insert_if_absent(name, "one")?;
        let second = repos.meta().insert_if_absent(name, "two")?;
        Ok((before, first, second, repos.meta().get(name)?))
    })
    .expect("meta round trip");
    assert_eq!(r, (None, true, false, Some("one".to_owned())));
    let rolled_back: Result<(), AppError> = transact(uow, TxMode::Write, |repos| {
        repos.meta().insert_if_absent("contract-rolled-back", "x")?;
        Err(AppError::Internal("roll back".into()))
    });
    assert!(rolled_back.is_err());
    let kept = transact(uow, TxMode::Read, |repos| {
        Ok(repos.meta().get("contract-rolled-back")?)
    })
    .expect("read");
    assert_eq!(kept, None);
}

/// Every page of `list` (limit `limit`) from the start, as (created, extId).
fn all_client_pages(
    uow: &dyn UnitOfWork,
    ext_ids: Option<&[String]>,
    limit: u32,
) -> Vec<(DateTime<Utc>, String)> {
    let mut seen = Vec::new();
    let mut after = None;
    for _ in 0..1000 {
        let page = PageRequest { limit, after };
        let rows = read(uow, |r| Ok(r.clients().list(ext_ids, &page)?));
        assert!(rows.len() <= limit as usize + 1, "at most limit + 1 rows");
        let more = rows.len() > limit as usize;
        let items: Vec<_> = rows.into_iter().take(limit as usize).collect();
        seen.extend(items.iter().map(|c| (c.created, c.ext_id.to_string())));
        if !more {
            return seen;
        }
        let last = items.last().expect("a full page");
        after = Some(PageCursor {
            created: last.created,
            ext_id: last.ext_id.to_string(),
        });
    }
    panic!("pagination must end");
}

/// `ClientRepo::list`: every client once, by (created, extId), strictly after the cursor, at
/// most `limit + 1` rows; restricted to the given extIds when they are given.
pub fn clients_list_keyset(uow: &dyn UnitOfWork) {
    let mut mine: Vec<Client> = (0..5).map(|_| client()).collect();
    for (i, c) in mine.iter_mut().enumerate() {
        // Two share a creation time; extIds decide between them.
        let secs = [4, 1, 4, 2, 3][i];
        c.created = t0() + Duration::days(400) + Duration::seconds(secs);
    }
    write(uow, |r| {
        for c in &mine {
            r.clients().insert(c)?;
        }
        Ok(())
    });
    let wanted: Vec<String> = mine[..4].iter().map(|c| c.ext_id.to_string()).collect();
    let mut expected: Vec<(DateTime<Utc>, String)> = mine[..4]
        .iter()
        .map(|c| (c.created, c.ext_id.to_string()))
        .collect();
    expected.sort();
    for limit in [1, 2, 3, 100] {
        assert_eq!(
            all_client_pages(uow, Some(&wanted), limit),
            expected,
            "limit {limit}"
        );
    }
    let none = read(uow, |r| {
        Ok(r.clients().list(
            Some(&["no-such-client".to_owned()]),
            &PageRequest::default(),
        )?)
    });
    assert!(none.is_empty());
    // Without a restriction: every client (other cases' too), in order, each once.
    let everything = all_client_pages(uow, None, 2);
    let mut sorted = everything.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(everything, sorted, "ordered, no repeats");
    for c in &mine {
        assert!(everything.contains(&(c.created, c.ext_id.to_string())));
    }
}

/// A user of `client` with these searchable fields, created `secs` after a fixed instant.
fn listed_user(
    client: &Client,
    login: &str,
    family: Option<&str>,
    email: Option<&str>,
    state: UserState,
    secs: i64,
) -> User {
    let mut u = user(&client.id);
    u.login_id = login.to_owned();
    u.name.family_name = family.map(str::to_owned);
    u.contacts.email = email.map(str::to_owned);
    u.state = state;
    u.created = t0() + Duration::seconds(secs);
    u
}

fn list_users(
    uow: &dyn UnitOfWork,
    client: &Client,
    filter: &UserListFilter,
    page: &PageRequest,
) -> Vec<User> {
    read(uow, |r| {
        Ok(r.users().list_by_client(&client.id, filter, page)?)
    })
}

/// `list_by_client`: each filter alone and combined (AND); loginId exact; e-mail exact but
/// case-insensitive; the prefix case-insensitive on loginId, family name or e-mail, with
/// `%`, `_` and `\` taken literally; scoped to the client; by (created, extId).
pub fn users_list_filters(uow: &dyn UnitOfWork) {
    use UserState::{Active, Archived, Disabled};
    let acme = client();
    let other = client();
    let users = [
        listed_user(
            &acme,
            "alice",
            Some("Smith"),
            Some("Alice@Example.com"),
            Active,
            1,
        ),
        listed_user(
            &acme,
            "bob",
            Some("Alison"),
            Some("bob@example.org"),
            Disabled,
            2,
        ),
        listed_user(&acme, "carol", None, None, Active, 2),
        listed_user(
            &acme,
            "al_x",
            Some("Zed"),
            Some("zed@example.com"),
            Active,
            3,
        ),
        listed_user(&acme, "ALFRED", Some("Miller"), None, Archived, 4),
        listed_user(&acme, "dave", Some("%off"), Some("a\\b@x.ch"), Active, 5),
        listed_user(&acme, "erin", Some("albert"), Some("erin@x.ch"), Active, 6),
    ];
    let foreign = listed_user(
        &other,
        "alice",
        Some("Smith"),
        Some("alice@example.com"),
        Active,
        1,
    );
    write(uow, |r| {
        r.clients().insert(&acme)?;
        r.clients().insert(&other)?;
        for u in users.iter().chain([&foreign]) {
            r.users().insert(u)?;
        }
        Ok(())
    });
    let logins = |filter: UserListFilter| -> Vec<String> {
        list_users(uow, &acme, &filter, &PageRequest::default())
            .into_iter()
            .map(|u| u.login_id)
            .collect()
    };
    let prefix = |p: &str| UserListFilter {
        prefix: Some(p.to_owned()),
        ..UserListFilter::default()
    };
    let all: Vec<String> = {
        let mut sorted: Vec<&User> = users.iter().collect();
        sorted.sort_by_key(|u| (u.created, u.ext_id.to_string()));
        sorted.iter().map(|u| u.login_id.clone()).collect()
    };
    assert_eq!(
        logins(UserListFilter::default()),
        all,
        "no filter: every user, in order"
    );
    let got = list_users(
        uow,
        &acme,
        &UserListFilter::default(),
        &PageRequest::default(),
    );
    assert_eq!(
        got.iter().find(|u| u.login_id == "alice"),
        Some(&users[0]),
        "every field read back"
    );

    let login = |l: &str| UserListFilter {
        login_id: Some(l.to_owned()),
        ..UserListFilter::default()
    };
    assert_eq!(logins(login("alice")), ["alice"]);
    assert!(logins(login("ALICE")).is_empty(), "loginId is exact");
    assert!(logins(login("ali")).is_empty());

    let email = |e: &str| UserListFilter {
        email: Some(e.to_owned()),
        ..UserListFilter::default()
    };
    assert_eq!(logins(email("alice@example.com")), ["alice"]);
    assert_eq!(logins(email("ALICE@EXAMPLE.COM")), ["alice"]);
    assert!(logins(email("alice@example")).is_empty(), "e-mail is exact");

    let state = |s: UserState| UserListFilter {
        state: Some(s),
        ..UserListFilter::default()
    };
    assert_eq!(logins(state(Disabled)), ["bob"]);
    assert_eq!(logins(state(Archived)), ["ALFRED"]);
    assert_eq!(logins(state(Active)).len(), 5);

    // loginId alice, family Alison (bob), loginId al_x, loginId ALFRED, family albert (erin).
    assert_eq!(
        logins(prefix("al")),
        ["alice", "bob", "al_x", "ALFRED", "erin"]
    );
    assert_eq!(
        logins(prefix("AL")),
        logins(prefix("al")),
        "case-insensitive"
    );
    assert_eq!(logins(prefix("al_")), ["al_x"], "`_` is literal");
    assert_eq!(logins(prefix("%")), ["dave"], "`%` is literal");
    assert_eq!(logins(prefix("a\\")), ["dave"], "`\\` is literal");
    assert_eq!(logins(prefix("bob@")), ["bob"], "e-mail prefix");
    assert_eq!(logins(prefix("smi")), ["alice"], "family-name prefix");
    assert!(
        logins(prefix("example")).is_empty(),
        "a prefix, not a substring"
    );
    assert!(logins(prefix("zzz")).is_empty());

    let combined = UserListFilter {
        state: Some(Active),
        ..prefix("al")
    };
    assert_eq!(logins(combined), ["alice", "al_x", "erin"], "AND");
    let combined = UserListFilter {
        email: Some("BOB@example.org".into()),
        ..prefix("al")
    };
    assert_eq!(logins(combined), ["bob"]);
    let contradicting = UserListFilter {
        login_id: Some("alice".into()),
        state: Some(Disabled),
        ..UserListFilter::default()
    };
    assert!(logins(contradicting).is_empty());

    // Keyset pages of a filtered list.
    let mut seen = Vec::new();
    let mut after = None;
    loop {
        let page = PageRequest { limit: 2, after };
        let rows = list_users(uow, &acme, &prefix("al"), &page);
        assert!(rows.len() <= 3);
        let more = rows.len() > 2;
        let items: Vec<User> = rows.into_iter().take(2).collect();
        seen.extend(items.iter().map(|u| u.login_id.clone()));
        if !more {
            break;
        }
        let last = items.last().expect("a full page");
        after = Some(PageCursor {
            created: last.created,
            ext_id: last.ext_id.to_string(),
        });
    }
    assert_eq!(seen, logins(prefix("al")));
    assert!(list_users(
        uow,
        &client(),
        &UserListFilter::default(),
        &PageRequest::default()
    )
    .is_empty());
}

/// A prefix most users share (more than a thousand, which SQLite's adapter pages through in
/// list order instead of sorting every match) lists the same users, in the same order, as a
/// rare one would: every match once, by (created, extId), across pages.
pub fn users_list_common_prefix(uow: &dyn UnitOfWork) {
    let acme = client();
    let users: Vec<User> = (0..1_500)
        .map(|i| {
            let (login, family) = match i % 3 {
                0 => (format!("Common-{i}"), None),
                1 => (format!("x-{i}"), Some("COMMONER")),
                _ => (format!("y-{i}"), None),
            };
            let email = (i % 3 == 2 && i % 2 == 0).then(|| format!("common{i}@x.ch"));
            listed_user(
                &acme,
                &login,
                family,
                email.as_deref(),
                UserState::Active,
                i / 7,
            )
        })
        .collect();
    write(uow, |r| {
        r.clients().insert(&acme)?;
        for u in &users {
            r.users().insert(u)?;
        }
        Ok(())
    });
    let mut expected: Vec<(DateTime<Utc>, String)> = users
        .iter()
        .filter(|u| {
            u.login_id.to_lowercase().starts_with("common")
                || u.name.family_name.as_deref() == Some("COMMONER")
                || u.contacts
                    .email
                    .as_deref()
                    .is_some_and(|e| e.starts_with("common"))
        })
        .map(|u| (u.created, u.ext_id.to_string()))
        .collect();
    expected.sort();
    assert!(expected.len() > 1_000, "{}", expected.len());
    let filter = UserListFilter {
        prefix: Some("comMON".into()),
        ..UserListFilter::default()
    };
    let mut seen = Vec::new();
    let mut after = None;
    for _ in 0..100 {
        let page = PageRequest { limit: 250, after };
        let rows = list_users(uow, &acme, &filter, &page);
        let more = rows.len() > 250;
        let items: Vec<User> = rows.into_iter().take(250).collect();
        seen.extend(items.iter().map(|u| (u.created, u.ext_id.to_string())));
        if !more {
            break;
        }
        let last = items.last().expect("a full page");
        after = Some(PageCursor {
            created: last.created,
            ext_id: last.ext_id.to_string(),
        });
    }
    assert_eq!(seen, expected, "every match once, in order");
    let combined = UserListFilter {
        state: Some(UserState::Active),
        login_id: Some("Common-3".into()),
        ..filter.clone()
    };
    let one = list_users(uow, &acme, &combined, &PageRequest::default());
    assert_eq!(one.len(), 1);
    assert_eq!(one[0].login_id, "Common-3");
}

/// Paging through a client's users while others are created (before and after the cursor,
/// some sharing its instant) neither repeats nor skips any user that existed at the start.
pub fn users_list_pages_stay_stable_under_inserts(uow: &dyn UnitOfWork) {
    let acme = client();
    let existing: Vec<User> = (0..9)
        .map(|i| {
            let mut u = user(&acme.id);
            u.created = t0() + Duration::seconds(i / 2);
            u
        })
        .collect();
    write(uow, |r| {
        r.clients().insert(&acme)?;
        for u in &existing {
            r.users().insert(u)?;
        }
        Ok(())
    });
    let mut expected: Vec<(DateTime<Utc>, String)> = existing
        .iter()
        .map(|u| (u.created, u.ext_id.to_string()))
        .collect();
    expected.sort();
    let mut seen = Vec::new();
    let mut after: Option<PageCursor> = None;
    for round in 0..100 {
        let page = PageRequest { limit: 2, after };
        let rows = list_users(uow, &acme, &UserListFilter::default(), &page);
        let more = rows.len() > 2;
        let items: Vec<User> = rows.into_iter().take(2).collect();
        seen.extend(items.iter().map(|u| (u.created, u.ext_id.to_string())));
        if !more {
            break;
        }
        let last = items.last().expect("a full page").clone();
        // New users while the first pages are read: one at the cursor's instant, one before
        // it, one after everything.
        if round < 3 {
            write(uow, |r| {
                for secs in [0, -1, 100] {
                    let mut u = user(&acme.id);
                    u.created = last.created + Duration::seconds(secs);
                    r.users().insert(&u)?;
                }
                Ok(())
            });
        }
        after = Some(PageCursor {
            created: last.created,
            ext_id: last.ext_id.to_string(),
        });
        assert!(round < 50, "pagination must end");
    }
    let existed: Vec<_> = seen
        .iter()
        .filter(|k| expected.contains(k))
        .cloned()
        .collect();
    assert_eq!(existed, expected, "every existing user once, in order");
    let mut unique = seen.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), seen.len(), "no user twice");
}

/// A user's delete takes its Password and OATH credentials, grants and deliveries, returns
/// its VASCO credentials to stock (`initial`, no user, tokens kept), and frees its extId,
/// loginId and its credentials' extIds; other users keep theirs.
pub fn users_delete_cascade(uow: &dyn UnitOfWork) {
    let w = world(uow);
    let keeper = user(&w.client.id);
    let pwd = credential(&w.client.id, Some(&w.user.id), &w.pwd.id, password_secret());
    let oath = credential(&w.client.id, Some(&w.user.id), &w.oath.id, oath_secret());
    let vasco = credential(&w.client.id, Some(&w.user.id), &w.vasco.id, vasco_secret());
    let kept = credential(&w.client.id, Some(&keeper.id), &w.pwd.id, password_secret());
    let grant = RoleGrant::new(Role::Helpdesk, DataRoom::Global);
    let delivery = Delivery {
        id: unique("d"),
        client_id: w.client.id.clone(),
        user_id: w.user.id.clone(),
        credential_id: pwd.id.clone(),
        kind: DeliveryKind::PasswordRemainder,
        sealed_payload: "bm9uY2U=~Y2lwaGVy".into(),
        created: t0(),
    };
    write(uow, |r| {
        r.users().insert(&keeper)?;
        for c in [&pwd, &oath, &vasco, &kept] {
            r.credentials().insert(c)?;
        }
        r.roles().upsert_grant(&w.user.id, &grant, t0())?;
        r.roles().upsert_grant(&keeper.id, &grant, t0())?;
        r.deliveries().enqueue(&delivery)?;
        Ok(())
    });
    let (first, again) = write(uow, |r| {
        Ok((r.users().delete(&w.user.id)?, r.users().delete(&w.user.id)?))
    });
    assert!(first, "the user existed");
    assert!(!again, "nothing left to delete");
    assert!(!write(uow, |r| Ok(r.users().delete("no-such-user")?)));

    let find = |c: &Credential| {
        read(uow, |r| {
            Ok(r.credentials()
                .find_by_ext_id(&w.client.id, c.ext_id.as_str())?)
        })
    };
    assert_eq!(
        read(uow, |r| Ok(r.users().find_by_id(&w.user.id)?)),
        None,
        "the user is gone"
    );
    assert_eq!(
        (find(&pwd), find(&oath)),
        (None, None),
        "its credentials are gone"
    );
    let stock = find(&vasco).expect("the VASCO credential stays");
    assert_eq!(stock.user_ext_id, None);
    assert_eq!(stock.credential.user_id, None);
    assert_eq!(stock.credential.state, CredentialState::Initial);
    assert_eq!(stock.credential.version, vasco.version + 1);
    assert_eq!(stock.credential.secret, vasco.secret, "tokens kept");
    assert!(read(uow, |r| Ok(r.roles().grants_of_user(&w.user.id)?)).is_empty());
    let pending = read(uow, |r| Ok(r.deliveries().pending(1000)?));
    assert!(
        pending.iter().all(|d| d.user_id != w.user.id),
        "its deliveries are gone"
    );
    assert_eq!(
        find(&kept).map(|r| r.credential),
        Some(kept.clone()),
        "another user's credential stays"
    );
    assert_eq!(
        read(uow, |r| Ok(r.roles().grants_of_user(&keeper.id)?)),
        vec![grant.clone()]
    );

    // The extId, loginId and credential extIds are free again.
    let mut again = user(&w.client.id);
    again.ext_id = w.user.ext_id.clone();
    again.login_id = w.user.login_id.clone();
    let mut pwd_again = credential(&w.client.id, Some(&again.id), &w.pwd.id, password_secret());
    pwd_again.ext_id = pwd.ext_id.clone();
    write(uow, |r| {
        r.users().insert(&again)?;
        r.credentials().insert(&pwd_again)?;
        Ok(())
    });
    assert_eq!(find(&pwd).map(|r| r.credential), Some(pwd_again));
}

/// A credential, grant or delivery for a user that no longer exists is refused with
/// `Conflict` (a lost race with the delete), and the transaction stays usable.
pub fn writes_for_a_deleted_user_conflict(uow: &dyn UnitOfWork) {
    let w = world(uow);
    let gone = user(&w.client.id);
    write(uow, |r| {
        r.users().insert(&gone)?;
        r.users().delete(&gone.id)?;
        Ok(())
    });
    let cred = credential(&w.client.id, Some(&gone.id), &w.oath.id, oath_secret());
    let delivery = Delivery {
        id: unique("d"),
        client_id: w.client.id.clone(),
        user_id: gone.id.clone(),
        credential_id: cred.id.clone(),
        kind: DeliveryKind::PasswordRemainder,
        sealed_payload: "bm9uY2U=~Y2lwaGVy".into(),
        created: t0(),
    };
    let fine = credential(&w.client.id, Some(&w.user.id), &w.oath.id, oath_secret());
    let (c, g, d) = write(uow, |r| {
        let c = r.credentials().insert(&cred);
        let g = r.roles().upsert_grant(
            &gone.id,
            &RoleGrant::new(Role::Helpdesk, DataRoom::Global),
            t0(),
        );
        let d = r.deliveries().enqueue(&delivery);
        // The transaction goes on after the refusals.
        r.credentials().insert(&fine)?;
        Ok((c, g, d))
    });
    assert_eq!(c, Err(StoreError::Conflict));
    assert_eq!(g, Err(StoreError::Conflict));
    assert_eq!(d, Err(StoreError::Conflict));
    let found = read(uow, |r| {
        Ok((
            r.credentials()
                .find_by_ext_id(&w.client.id, cred.ext_id.as_str())?,
            r.credentials()
                .find_by_ext_id(&w.client.id, fine.ext_id.as_str())?,
        ))
    });
    assert_eq!(found.0, None);
    assert!(found.1.is_some());
}

/// A user's delete and a credential insert for it, racing in both orders: either the insert
/// commits first and the delete takes the credential with the user, or the insert waits for
/// the delete and fails with `Conflict`. Never a credential of a missing user.
pub fn delete_racing_a_credential_insert_leaves_no_orphan(uow: &dyn UnitOfWork) {
    use std::sync::atomic::AtomicBool;
    use std::sync::Barrier;

    let w = world(uow);
    for round in 0..6 {
        let victim = user(&w.client.id);
        write(uow, |r| Ok(r.users().insert(&victim)?));
        let cred = credential(&w.client.id, Some(&victim.id), &w.pwd.id, password_secret());
        let insert_first = round % 2 == 0;
        let barrier = Barrier::new(2);
        let (insert, delete) = std::thread::scope(|s| {
            let (barrier, cred, victim) = (&barrier, &cred, &victim);
            // The first one signals from inside its open transaction and holds it a moment.
            let hold = |r: &mut dyn Repos, signalled: &AtomicBool| {
                let _ = r;
                if !signalled.swap(true, Ordering::SeqCst) {
                    barrier.wait();
                    std::thread::sleep(std::time::Duration::from_millis(50));
                }
            };
            let inserter = s.spawn(move || {
                let signalled = AtomicBool::new(false);
                if !insert_first {
                    barrier.wait();
                }
                transact(uow, TxMode::Write, |r| {
                    r.credentials().insert(cred)?;
                    if insert_first {
                        hold(r, &signalled);
                    }
                    Ok(())
                })
            });
            let deleter = s.spawn(move || {
                let signalled = AtomicBool::new(false);
                if insert_first {
                    barrier.wait();
                }
                transact(uow, TxMode::Write, |r| {
                    let found = r.users().delete(&victim.id)?;
                    if !insert_first {
                        hold(r, &signalled);
                    }
                    Ok(found)
                })
            });
            (
                inserter.join().expect("inserter"),
                deleter.join().expect("deleter"),
            )
        });
        assert_eq!(delete, Ok(true), "round {round}: the delete succeeds");
        if insert_first {
            assert_eq!(insert, Ok(()), "round {round}: the insert came first");
        } else {
            assert_eq!(
                insert,
                Err(AppError::Domain(DomainError::OptimisticLockingFailure)),
                "round {round}: the insert lost the race"
            );
        }
        let left = read(uow, |r| {
            Ok(r.credentials()
                .find_by_ext_id(&w.client.id, cred.ext_id.as_str())?)
        });
        assert_eq!(left, None, "round {round}: no credential of a deleted user");
    }
}

// ------------------------------------------------------------------------------------------
// SPEC §14: the user search (SCIM filters)

/// A user of `client` for the search cases: these searchable fields, created `secs` and last
/// changed `secs * 10` seconds after a fixed instant.
#[allow(clippy::too_many_arguments)]
fn searched_user(
    client: &Client,
    login: &str,
    first: Option<&str>,
    family: Option<&str>,
    email: Option<&str>,
    external: Option<&str>,
    state: UserState,
    secs: i64,
) -> User {
    let mut u = listed_user(client, login, family, email, state, secs);
    u.name.first_name = first.map(str::to_owned);
    u.external_id = external.map(str::to_owned);
    u.last_modified = t0() + Duration::seconds(secs * 10);
    u
}

/// The users of the search cases in one client (and a look-alike in another), with the
/// wildcard characters of `LIKE` and `GLOB`, empty values and absent ones.
fn search_world(uow: &dyn UnitOfWork) -> (Client, Vec<User>) {
    use UserState::{Active, Archived, Disabled};
    let acme = client();
    let other = client();
    let users = vec![
        searched_user(
            &acme,
            "alice",
            Some("Alice"),
            Some("Smith"),
            Some("Alice@Example.com"),
            Some("EXT-1"),
            Active,
            1,
        ),
        searched_user(
            &acme,
            "bob",
            Some("Bob"),
            Some("Alison"),
            Some("bob@example.org"),
            Some("ext-2"),
            Disabled,
            2,
        ),
        searched_user(&acme, "carol", None, None, None, None, Active, 2),
        searched_user(
            &acme,
            "al_x",
            Some("Al"),
            Some("Zed"),
            Some("zed@example.com"),
            Some("a%b_c"),
            Active,
            3,
        ),
        searched_user(
            &acme,
            "ALFRED",
            Some("Alfred"),
            Some("Miller"),
            None,
            Some("Ext-1"),
            Archived,
            4,
        ),
        searched_user(
            &acme,
            "dave",
            Some("Dave"),
            Some("%off"),
            Some("a\\b@x.ch"),
            Some("x*y?[z]"),
            Active,
            5,
        ),
        searched_user(
            &acme,
            "erin",
            Some(""),
            Some("albert"),
            Some("erin@x.ch"),
            Some(""),
            Active,
            6,
        ),
        searched_user(
            &acme,
            "Émile",
            Some("Émile"),
            Some("Ünal"),
            Some("emile@x.ch"),
            Some("é-1"),
            Active,
            7,
        ),
    ];
    let foreign = searched_user(
        &other,
        "alice",
        Some("Alice"),
        Some("Smith"),
        Some("alice@example.com"),
        Some("EXT-1"),
        Active,
        1,
    );
    write(uow, |r| {
        r.clients().insert(&acme)?;
        r.clients().insert(&other)?;
        for u in users.iter().chain([&foreign]) {
            r.users().insert(u)?;
        }
        Ok(())
    });
    (acme, users)
}

fn search(
    uow: &dyn UnitOfWork,
    client: &Client,
    query: &idm_ports::user_query::UserQuery,
    offset: u64,
    limit: u32,
) -> (Vec<User>, u64) {
    read(uow, |r| {
        Ok(r.users().search(&client.id, query, offset, limit)?)
    })
}

/// The reference answer: the users `query` matches, by (created, extId).
fn expected(users: &[User], query: &idm_ports::user_query::UserQuery) -> Vec<String> {
    let mut found: Vec<&User> = users.iter().filter(|u| query.matches(u)).collect();
    found.sort_by_key(|u| (u.created, u.ext_id.to_string()));
    found.iter().map(|u| u.login_id.clone()).collect()
}

/// `search` finds exactly what `UserQuery::matches` says, in (created, extId) order, for every
/// operator on every attribute, with `and`/`or`/`not`, absent and empty values, wildcard
/// characters taken literally, case folded where the attribute ignores case and kept for
/// `externalId`; scoped to the client.
pub fn users_search_matches_the_reference(uow: &dyn UnitOfWork) {
    use idm_ports::user_query::{CompareOp as Op, QueryValue, UserAttr as A, UserQuery as Q};
    let (acme, users) = search_world(uow);
    let text = |attr: A, op: Op, v: &str| Q::Compare {
        attr,
        op,
        value: QueryValue::Text(v.to_owned()),
    };
    let active = |op: Op, b: bool| Q::Compare {
        attr: A::Active,
        op,
        value: QueryValue::Bool(b),
    };
    let time = |attr: A, op: Op, secs: i64| Q::Compare {
        attr,
        op,
        value: QueryValue::Time(t0() + Duration::seconds(secs)),
    };
    let mut queries = vec![
        Q::All,
        text(A::LoginId, Op::Eq, "ALICE"),
        text(A::LoginId, Op::Eq, "Émile"),
        text(A::LoginId, Op::Ne, "alice"),
        text(A::LoginId, Op::Co, "AL"),
        text(A::LoginId, Op::Sw, "al"),
        text(A::LoginId, Op::Sw, "al_"),
        text(A::LoginId, Op::Ew, "ED"),
        text(A::LoginId, Op::Co, "%"),
        text(A::LoginId, Op::Co, "_"),
        text(A::LoginId, Op::Gt, "bob"),
        text(A::LoginId, Op::Ge, "bob"),
        text(A::LoginId, Op::Lt, "bob"),
        text(A::LoginId, Op::Le, "bob"),
        text(A::FirstName, Op::Eq, "al"),
        text(A::FirstName, Op::Sw, "AL"),
        text(A::FirstName, Op::Ne, "alice"),
        text(A::FamilyName, Op::Co, "%"),
        text(A::FamilyName, Op::Sw, "%o"),
        text(A::FamilyName, Op::Sw, "AL"),
        text(A::FamilyName, Op::Ew, "er"),
        text(A::FamilyName, Op::Ne, "smith"),
        text(A::Email, Op::Eq, "alice@example.COM"),
        text(A::Email, Op::Co, "EXAMPLE"),
        text(A::Email, Op::Ew, ".ch"),
        text(A::Email, Op::Sw, "a\\"),
        text(A::Email, Op::Co, "\\b"),
        text(A::Email, Op::Lt, "b"),
        text(A::ExternalId, Op::Eq, "EXT-1"),
        text(A::ExternalId, Op::Eq, "ext-1"),
        text(A::ExternalId, Op::Ne, "EXT-1"),
        text(A::ExternalId, Op::Co, "%b_"),
        text(A::ExternalId, Op::Co, "*"),
        text(A::ExternalId, Op::Co, "?[z"),
        text(A::ExternalId, Op::Co, "xt"),
        text(A::ExternalId, Op::Co, "XT"),
        text(A::ExternalId, Op::Sw, "Ext"),
        text(A::ExternalId, Op::Sw, "x*"),
        text(A::ExternalId, Op::Ew, "]"),
        text(A::ExternalId, Op::Ew, "-1"),
        text(A::ExternalId, Op::Gt, "Ext-1"),
        text(A::ExternalId, Op::Le, "EXT-1"),
        text(A::ExternalId, Op::Eq, ""),
        text(A::ExternalId, Op::Eq, "' OR 1=1 --"),
        active(Op::Eq, true),
        active(Op::Eq, false),
        active(Op::Ne, true),
        active(Op::Ne, false),
        time(A::Created, Op::Eq, 2),
        time(A::Created, Op::Ne, 2),
        time(A::Created, Op::Gt, 2),
        time(A::Created, Op::Ge, 2),
        time(A::Created, Op::Lt, 2),
        time(A::Created, Op::Le, 2),
        time(A::LastModified, Op::Gt, 40),
        Q::nothing(),
    ];
    for attr in [
        A::LoginId,
        A::ExternalId,
        A::FirstName,
        A::FamilyName,
        A::Email,
        A::Active,
        A::Created,
    ] {
        queries.push(Q::Present(attr));
        queries.push(Q::negate(Q::Present(attr)));
    }
    // Combinations, including `not` over absent values (two-valued, unlike SQL's NULL).
    let some = queries.clone();
    queries.push(Q::negate(text(A::FamilyName, Op::Eq, "Smith")));
    queries.push(Q::negate(text(A::Email, Op::Co, "example")));
    queries.push(Q::And(
        Box::new(Q::Or(
            Box::new(text(A::LoginId, Op::Sw, "a")),
            Box::new(text(A::Email, Op::Co, "example")),
        )),
        Box::new(Q::negate(active(Op::Eq, false))),
    ));
    queries.push(Q::Or(
        Box::new(Q::And(
            Box::new(text(A::ExternalId, Op::Sw, "E")),
            Box::new(time(A::Created, Op::Gt, 1)),
        )),
        Box::new(Q::negate(Q::Present(A::Email))),
    ));
    for pair in some.windows(2).step_by(3) {
        queries.push(Q::And(Box::new(pair[0].clone()), Box::new(pair[1].clone())));
        queries.push(Q::Or(
            Box::new(Q::negate(pair[0].clone())),
            Box::new(pair[1].clone()),
        ));
    }
    for query in &queries {
        let (found, total) = search(uow, &acme, query, 0, 1000);
        let logins: Vec<String> = found.iter().map(|u| u.login_id.clone()).collect();
        let want = expected(&users, query);
        assert_eq!(logins, want, "{query:?}");
        assert_eq!(total, want.len() as u64, "total of {query:?}");
    }
    // Spot checks of the reference itself, so a wrong reference cannot pass unnoticed.
    let logins = |q: &Q| expected(&users, q);
    assert_eq!(logins(&text(A::LoginId, Op::Eq, "ALICE")), ["alice"]);
    assert_eq!(
        logins(&text(A::ExternalId, Op::Eq, "ext-1")),
        Vec::<String>::new()
    );
    assert_eq!(logins(&text(A::ExternalId, Op::Co, "%b_")), ["al_x"]);
    assert_eq!(logins(&text(A::ExternalId, Op::Co, "*")), ["dave"]);
    assert_eq!(logins(&text(A::FamilyName, Op::Co, "%")), ["dave"]);
    assert_eq!(logins(&text(A::LoginId, Op::Sw, "al_")), ["al_x"]);
    assert_eq!(
        logins(&Q::Present(A::FirstName)).len(),
        6,
        "empty and absent are not present"
    );
    assert_eq!(
        logins(&Q::negate(text(A::FamilyName, Op::Eq, "Smith"))).len(),
        7,
        "not: carol (no family name) included"
    );
    assert_eq!(
        logins(&active(Op::Eq, false)),
        ["bob", "ALFRED"],
        "archived reads as inactive"
    );
    // The look-alike of the other client is never found.
    let (found, _) = search(uow, &acme, &text(A::LoginId, Op::Eq, "alice"), 0, 10);
    assert_eq!(
        found,
        vec![users[0].clone()],
        "every field read back, one client"
    );
}

/// `search` pages by offset and limit over the same order and counts every match exactly:
/// pages concatenate to the whole answer, `limit` 0 only counts, an offset past the end is
/// empty with the full count.
pub fn users_search_pages_and_counts_exactly(uow: &dyn UnitOfWork) {
    use idm_ports::user_query::{CompareOp as Op, QueryValue, UserAttr as A, UserQuery as Q};
    let (acme, users) = search_world(uow);
    let some = Q::negate(Q::Compare {
        attr: A::LoginId,
        op: Op::Eq,
        value: QueryValue::Text("carol".into()),
    });
    for query in [Q::All, some] {
        let want = expected(&users, &query);
        let n = want.len() as u64;
        for limit in [1u32, 2, 3, 5] {
            let mut seen = Vec::new();
            let mut offset = 0;
            loop {
                let (page, total) = search(uow, &acme, &query, offset, limit);
                assert_eq!(total, n, "total at offset {offset}, limit {limit}");
                assert!(page.len() <= limit as usize);
                if page.is_empty() {
                    break;
                }
                offset += page.len() as u64;
                seen.extend(page.into_iter().map(|u| u.login_id));
                assert!(offset <= n + 5, "paging ends");
            }
            assert_eq!(seen, want, "limit {limit}");
        }
        assert_eq!(
            search(uow, &acme, &query, 0, 0),
            (Vec::new(), n),
            "limit 0 counts"
        );
        assert_eq!(search(uow, &acme, &query, 3, 0), (Vec::new(), n));
        assert_eq!(
            search(uow, &acme, &query, n, 10),
            (Vec::new(), n),
            "past the end"
        );
        assert_eq!(search(uow, &acme, &query, u64::MAX, 10), (Vec::new(), n));
        let (tail, total) = search(uow, &acme, &query, n - 1, 10);
        assert_eq!((tail.len(), total), (1, n), "a short last page");
    }
    assert_eq!(
        search(uow, &client(), &Q::All, 0, 10),
        (Vec::new(), 0),
        "an unknown client has no users"
    );
}

/// Generates one `#[test]` per contract case, plus `run_all_on_one_database` and a check that
/// no case of [`CASES`] lacks a test. `$with_fresh_store` is a `fn(&dyn Fn(&dyn UnitOfWork))`
/// that opens a fresh, migrated, empty store, runs the case on it (or returns without running
/// when the backend cannot be had outside CI). Any adapter crate reuses the whole suite with:
///
/// ```ignore
/// fn with_fresh_store(case: &dyn Fn(&dyn UnitOfWork)) { /* open, migrate */ case(&store) }
/// idm_adapters_diesel::storage_contract_tests!(with_fresh_store);
/// ```
#[macro_export]
macro_rules! storage_contract_tests {
    ($with_fresh_store:path) => {
        $crate::storage_contract_tests!(@cases $with_fresh_store;
            empty_database,
            clients_round_trip_and_unique_keys,
            users_round_trip_and_unique_keys,
            users_update_compare_and_set,
            users_find_by_login_id_anywhere,
            users_record_login,
            policies_round_trip_and_unique_keys,
            policies_default_switch,
            credentials_round_trip_every_type,
            credentials_find_for_update,
            credentials_unique_keys,
            credentials_update_compare_and_set,
            credentials_keyset_pagination,
            credentials_list_of_type,
            credentials_delete,
            role_grants,
            deliveries_round_trip,
            meta_insert_if_absent,
            rollback_on_error,
            failed_write_does_not_spoil_the_transaction,
            timestamps_keep_microseconds,
            concurrent_failed_logins,
            concurrent_counter_updates_by_ext_id,
            clients_list_keyset,
            users_list_filters,
            users_list_pages_stay_stable_under_inserts,
            users_list_common_prefix,
            users_delete_cascade,
            writes_for_a_deleted_user_conflict,
            delete_racing_a_credential_insert_leaves_no_orphan,
            users_search_matches_the_reference,
            users_search_pages_and_counts_exactly,
        );
    };
    (@cases $with:path; $($name:ident),* $(,)?) => {
        $( #[test] fn $name() { $with(&|uow| $crate::contract::$name(uow)); } )*

        #[test]
        fn run_all_on_one_database() {
            $with(&|uow| $crate::contract::run_all(uow));
        }

        #[test]
        fn every_contract_case_has_a_test() {
            let listed: &[&str] = &[$(stringify!($name)),*];
            for (name, _) in $crate::contract::CASES {
                assert!(listed.contains(name), "add {name} to storage_contract_tests!");
            }
        }
    };
}
