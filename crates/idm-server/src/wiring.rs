//! Builds the adapters and hands them to the use cases and the HTTP layer. The only place that
//! knows every concrete type.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use idm_adapters_crypto::{
    AesGcmCipher, Argon2Hasher, Argon2Settings, HashLimits, HmacHistoryMac, HmacLoginCache,
    JwtTokenIssuer, OsSecretGenerator, SystemClock, UuidGenerator,
};
use idm_adapters_diesel::Database;
use idm_adapters_metrics::{PoolSnapshot, PrometheusTelemetry};
use idm_http::{AppState, HttpSettings};
use idm_ports::auth::Clock;
use idm_ports::telemetry::Telemetry;
use idm_ports::usecases::{
    AuditUseCases, AuthUseCases, BootstrapSettings, Bootstrapper, ClientUseCases,
    EncryptionKeyCheck, KeyCheck, LoginInfoUseCases, OathUseCases, OperatorUseCases, OutboxService,
    PasswordCallerAuthenticator, PasswordUseCases, PolicyUseCases, Ports, RoleUseCases,
    TokenUseCases, UserUseCases, VascoUseCases,
};

use crate::config::{redact_url, Settings};
use crate::keys;

/// Opens the database named by the settings (no migrations).
pub fn open_database(settings: &Settings) -> anyhow::Result<Arc<Database>> {
    let db = Database::connect(
        &settings.database_url,
        settings.pool_size(),
        Duration::from_millis(settings.db_pool_timeout_ms),
    )
    .with_context(|| {
        format!(
            "opening the database {}",
            redact_url(&settings.database_url)
        )
    })?;
    Ok(Arc::new(db))
}

/// The running service's parts.
pub struct Service {
    /// The HTTP layer's state.
    pub state: AppState,
    /// Seeds an empty database.
    pub bootstrapper: Bootstrapper,
    /// The delivery outbox, for the `outbox list` subcommand.
    pub outbox: Arc<dyn OutboxService>,
    /// Proves the encryption key matches the database.
    pub key_check: EncryptionKeyCheck,
    /// Break-glass commands (SPEC §10.5).
    pub operator: OperatorUseCases,
    /// The history's verification, export and pruning (SPEC §13).
    pub audit: Arc<AuditUseCases>,
}

impl Service {
    /// Fails clearly when `IDM_ENCRYPTION_KEY` is not the key the database's secrets were
    /// sealed with; records the check value on a new database.
    pub fn verify_encryption_key(&self) -> anyhow::Result<()> {
        match self
            .key_check
            .run()
            .map_err(|e| anyhow::anyhow!("checking the encryption key: {e}"))?
        {
            KeyCheck::Mismatch => anyhow::bail!(
                "IDM_ENCRYPTION_KEY is not the key this database's secrets were encrypted with; \
                 start with the original key (see the key file or your secret store)"
            ),
            KeyCheck::Recorded | KeyCheck::Verified => {
                let resealed = self
                    .key_check
                    .bind_sealed_values()
                    .map_err(|e| anyhow::anyhow!("binding sealed values to their rows: {e}"))?;
                if resealed > 0 {
                    tracing::info!(resealed, "sealed values bound to their rows (upgrade)");
                }
                Ok(())
            }
        }
    }
}

/// Builds every adapter and use case over `db`.
pub fn build(settings: &Settings, db: Arc<Database>) -> anyhow::Result<Service> {
    let keys = keys::resolve(settings)?;
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let limits = HashLimits {
        concurrency: match settings.hash_concurrency {
            0 => HashLimits::default().concurrency,
            n => n,
        },
        queue: settings.hash_queue,
        wait: Duration::from_millis(settings.hash_wait_ms),
    };
    let hasher = Argon2Hasher::new(
        Argon2Settings {
            memory_kib: settings.argon2_memory_kib,
            iterations: settings.argon2_iterations,
            parallelism: settings.argon2_parallelism,
        },
        limits,
    )
    .context("IDM_ARGON2_* settings")?;
    let history_mac =
        HmacHistoryMac::from_base64(&keys.encryption_key).context("IDM_ENCRYPTION_KEY")?;
    let cipher = AesGcmCipher::from_base64(&keys.encryption_key).context("IDM_ENCRYPTION_KEY")?;
    // Built at start-up so a bad secret fails here, not at the first token request.
    let tokens = JwtTokenIssuer::new(
        &keys.jwt_secret,
        settings.jwt_lifetime_seconds,
        clock.clone(),
    )
    .context("IDM_JWT_SECRET")?;
    let telemetry = telemetry_over(db.clone());
    let ports = Ports {
        uow: db.clone(),
        hasher: Arc::new(hasher),
        login_cache: Arc::new(HmacLoginCache::new(
            settings.auth_cache_ttl_seconds,
            clock.clone(),
        )),
        clock,
        ids: Arc::new(UuidGenerator),
        secrets: Arc::new(OsSecretGenerator),
        cipher: Arc::new(cipher),
        tokens: Arc::new(tokens),
        telemetry: telemetry.clone(),
        history_mac: Arc::new(history_mac),
    };
    let passwords = Arc::new(PasswordUseCases::new(ports.clone()));
    let audit = Arc::new(AuditUseCases::new(ports.clone()));
    let state = AppState {
        authenticator: Arc::new(PasswordCallerAuthenticator::new(ports.clone())),
        clients: Arc::new(ClientUseCases::new(ports.clone())),
        users: Arc::new(UserUseCases::new(ports.clone())),
        roles: Arc::new(RoleUseCases::new(ports.clone())),
        policies: Arc::new(PolicyUseCases::new(ports.clone())),
        passwords: passwords.clone(),
        tokens: Arc::new(TokenUseCases::new(ports.clone())),
        auth: Arc::new(AuthUseCases::new(ports.clone())),
        login_info: Arc::new(LoginInfoUseCases::new(ports.clone())),
        vasco: Arc::new(VascoUseCases::new(ports.clone())),
        oath: Arc::new(OathUseCases::new(ports.clone())),
        audit: audit.clone(),
        health: db,
        telemetry,
        settings: HttpSettings {
            max_body_bytes: settings.max_body_bytes,
        },
    };
    Ok(Service {
        state,
        bootstrapper: Bootstrapper::new(ports.clone()),
        outbox: passwords,
        key_check: EncryptionKeyCheck::new(ports.clone()),
        operator: OperatorUseCases::new(ports.clone()),
        audit,
    })
}

/// The Prometheus telemetry of `/metrics`, reading the pool figures of `db` at each scrape.
fn telemetry_over(db: Arc<Database>) -> Arc<dyn Telemetry> {
    Arc::new(PrometheusTelemetry::new(Box::new(move || {
        let pool = db.pool_state();
        PoolSnapshot {
            connections: pool.size,
            idle: pool.idle,
            max_connections: pool.max_size,
            waits: pool.waits,
            timeouts: pool.timeouts,
        }
    })))
}

/// The bootstrap settings of the configuration.
pub fn bootstrap_settings(settings: &Settings) -> BootstrapSettings {
    BootstrapSettings {
        admin_login: settings.bootstrap_admin_login.clone(),
        admin_password: settings.bootstrap_admin_password.clone(),
    }
}
