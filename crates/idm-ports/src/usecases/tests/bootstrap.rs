//! SPEC §7: seeding an empty database.

use idm_domain::access::{DataRoom, Role, RoleGrant};
use idm_domain::credential::{CredentialSecret, CredentialState};
use idm_domain::policy::{PolicyType, DEFAULT_GENERATED_CHARSET};
use idm_domain::user::UserState;

use super::support::*;
use crate::error::{AppError, StoreError, UniqueKey};
use crate::history::Outcome;
use crate::permit::Actor;
use crate::usecases::{BootstrapSettings, Bootstrapper};

const HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$salt$hash";

fn settings(password: Option<&str>) -> BootstrapSettings {
    BootstrapSettings {
        admin_login: "admin".into(),
        admin_password: password.map(str::to_owned),
    }
}

/// The seed's committed history: the client, its three default policies, the Root user, its
/// password and its grant, all by the bootstrap.
const SEED_ACTIONS: [&str; 7] = [
    "client.created",
    "policy.created",
    "policy.created",
    "policy.created",
    "user.created",
    "credential.created",
    "role.granted",
];

/// Expects a full seed on an empty database, hashing `password`.
fn expect_seed(h: &mut Harness, password: &'static str) {
    h.repos.clients.expect_any_exists().returning(|| Ok(false));
    h.hasher
        .expect_hash()
        .withf(move |_, p| p == password)
        .returning(|_, _| Ok(HASH.to_owned()));
    h.repos
        .clients
        .expect_insert()
        .withf(|c| {
            c.id == "id-1"
                && c.ext_id.as_str() == "default"
                && c.name == "Default"
                && c.version == 1
        })
        .returning(|_| Ok(()));
    h.repos
        .policies
        .expect_insert()
        .withf(|p| p.client_id == "id-1" && p.default_policy)
        .returning(|_| Ok(()));
    h.repos
        .users
        .expect_insert()
        .withf(|u| {
            u.id == "id-5"
                && u.client_id == "id-1"
                && u.login_id == "admin"
                && u.ext_id.as_str() == "admin"
                && u.state == UserState::Active
        })
        .returning(|_| Ok(()));
    h.repos
        .policies
        .expect_find_by_ext_id()
        .withf(|c, e| c == "id-1" && e == "default-PwdPolicy")
        .returning(|_, _| {
            let mut p = policy(
                &client("default", "Default"),
                "default-PwdPolicy",
                PolicyType::Pwd,
                true,
            );
            p.id = "id-2".into();
            Ok(Some(p))
        });
    h.repos
        .credentials
        .expect_insert()
        .withf(move |c| {
            c.user_id.as_deref() == Some("id-5")
                && c.client_id == "id-1"
                && c.policy_id == "id-2"
                && c.state == CredentialState::Active
                && c.failed_login_count == 0
                && c.version == 1
                && c.secret == CredentialSecret::Password { hash: HASH.to_owned() }
                && !matches!(&c.secret, CredentialSecret::Password { hash } if hash.contains(password))
        })
        .returning(|_| Ok(()));
    h.repos
        .roles
        .expect_upsert_grant()
        .withf(|u, g, at| {
            u == "id-5" && *g == RoleGrant::new(Role::Root, DataRoom::Global) && *at == now()
        })
        .returning(|_, _, _| Ok(()));
}

#[test]
fn empty_database_is_seeded_with_a_generated_password() {
    let mut h = Harness::new();
    h.secrets
        .expect_password()
        .withf(|charset, len| charset == DEFAULT_GENERATED_CHARSET && *len == 24)
        .returning(|_, _| "GeneratedPassword1234567".to_owned());
    expect_seed(&mut h, "GeneratedPassword1234567");
    let (ports, uow) = h.build();
    let report = Bootstrapper::new(ports)
        .run(&settings(None))
        .unwrap()
        .unwrap();
    assert_eq!(report.admin_login, "admin");
    assert_eq!(
        report.generated_password.as_deref(),
        Some("GeneratedPassword1234567")
    );
    assert_eq!(uow.actions(), SEED_ACTIONS);
    assert_history_free_of(&uow, &["GeneratedPassword1234567", HASH]);
}

#[test]
fn the_seed_is_recorded_as_the_bootstraps_doing() {
    let mut h = Harness::new();
    expect_seed(&mut h, "operator-chosen");
    let (ports, uow) = h.build();
    Bootstrapper::new(ports)
        .run(&settings(Some("operator-chosen")))
        .unwrap()
        .unwrap();
    let events = uow.events();
    assert_eq!(events.len(), SEED_ACTIONS.len());
    for (i, e) in events.iter().enumerate() {
        assert_eq!(e.seq, i as i64 + 1, "gapless from 1");
        assert_eq!(e.event.actor, Actor::Bootstrap);
        assert_eq!(e.event.outcome, Outcome::Success);
        assert_eq!(e.event.request_id, None);
        assert_eq!(e.event.client_ext_id.as_deref(), Some("default"));
        assert_eq!(e.event.time, now());
    }
    let user = event(&uow, "user.created");
    assert_eq!(user.event.user_ext_id.as_deref(), Some("admin"));
    let grant = event(&uow, "role.granted");
    assert_eq!(grant.event.user_ext_id.as_deref(), Some("admin"));
    assert_eq!(
        grant.event.changes["role"],
        serde_json::json!([null, {"role": "Root", "clientExtIds": null}])
    );
    assert_history_free_of(&uow, &["operator-chosen", HASH]);
}

#[test]
fn configured_password_is_hashed_and_not_reported() {
    let mut h = Harness::new();
    h.secrets.expect_password().never();
    expect_seed(&mut h, "operator-chosen");
    let (ports, _) = h.build();
    let report = Bootstrapper::new(ports)
        .run(&settings(Some("operator-chosen")))
        .unwrap()
        .unwrap();
    assert_eq!(report.admin_login, "admin");
    assert_eq!(report.generated_password, None);
}

#[test]
fn seeded_database_is_left_alone() {
    let mut h = Harness::new();
    h.repos.clients.expect_any_exists().returning(|| Ok(true));
    h.hasher.expect_hash().never();
    h.repos.clients.expect_insert().never();
    let (ports, uow) = h.build();
    assert!(Bootstrapper::new(ports)
        .run(&settings(None))
        .unwrap()
        .is_none());
    assert_no_events(&uow);
}

#[test]
fn seeding_by_another_instance_between_check_and_write_is_noticed() {
    let mut h = Harness::new();
    // Another instance seeds the database while this one hashes the password.
    let seeded = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let s = seeded.clone();
    h.repos
        .clients
        .expect_any_exists()
        .returning(move || Ok(s.load(std::sync::atomic::Ordering::SeqCst)));
    let s = seeded.clone();
    h.hasher.expect_hash().returning(move |_, _| {
        s.store(true, std::sync::atomic::Ordering::SeqCst);
        Ok(HASH.to_owned())
    });
    h.repos.clients.expect_insert().never();
    let (ports, uow) = h.build();
    let report = Bootstrapper::new(ports).run(&settings(Some("pw"))).unwrap();
    assert!(report.is_none());
    assert_no_events(&uow);
}

#[test]
fn lost_insert_race_is_not_an_error() {
    for key in [UniqueKey::ClientExtId, UniqueKey::ClientName] {
        let mut h = Harness::new();
        h.repos.clients.expect_any_exists().returning(|| Ok(false));
        h.hasher.expect_hash().returning(|_, _| Ok(HASH.to_owned()));
        h.repos
            .clients
            .expect_insert()
            .returning(move |_| Err(StoreError::Unique(key)));
        h.repos.users.expect_insert().never();
        let (ports, uow) = h.build();
        let report = Bootstrapper::new(ports).run(&settings(Some("pw"))).unwrap();
        assert!(report.is_none(), "{key:?}");
        assert_no_events(&uow);
    }
}

#[test]
fn invalid_admin_login_is_rejected_before_any_write() {
    let mut h = Harness::new();
    h.repos.clients.expect_any_exists().returning(|| Ok(false));
    h.hasher.expect_hash().never();
    h.repos.clients.expect_insert().never();
    let (ports, uow) = h.build();
    let result = Bootstrapper::new(ports).run(&BootstrapSettings {
        admin_login: "a/b".into(),
        admin_password: None,
    });
    assert!(matches!(result, Err(AppError::Domain(_))));
    assert_no_events(&uow);
}

#[test]
fn storage_failure_while_seeding_propagates() {
    let mut h = Harness::new();
    h.repos.clients.expect_any_exists().returning(|| Ok(false));
    h.hasher.expect_hash().returning(|_, _| Ok(HASH.to_owned()));
    h.repos
        .clients
        .expect_insert()
        .returning(|_| Err(StoreError::Unavailable));
    let (ports, uow) = h.build();
    assert_eq!(
        Bootstrapper::new(ports)
            .run(&settings(Some("pw")))
            .unwrap_err(),
        AppError::Unavailable
    );
    assert_no_events(&uow);
}

#[test]
fn busy_hashing_fails_the_bootstrap_before_any_write() {
    let mut h = Harness::new();
    h.busy = true;
    h.repos.clients.expect_any_exists().returning(|| Ok(false));
    h.hasher.expect_hash().never();
    h.repos.clients.expect_insert().never();
    let (ports, uow) = h.build();
    assert_eq!(
        Bootstrapper::new(ports)
            .run(&settings(Some("pw")))
            .unwrap_err(),
        AppError::Busy
    );
    assert_no_events(&uow);
}
