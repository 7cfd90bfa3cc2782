//! Configuration (SPEC §7): defaults < optional TOML file < `IDM_*` environment variables.

use std::fmt;
use std::net::SocketAddr;
use std::path::Path;

use anyhow::{bail, Context};
use serde::Deserialize;

/// Every setting of the service. Secrets are redacted from `Debug`.
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// `IDM_LISTEN`: address:port to listen on.
    pub listen: String,
    /// `IDM_DATABASE_URL`: `sqlite://<path>` or `postgres://…`.
    pub database_url: String,
    /// `IDM_DB_POOL_SIZE`: connections in the pool; 0 = per-backend default.
    pub db_pool_size: u32,
    /// `IDM_DB_POOL_TIMEOUT_MS`: longest wait for a connection before a 503.
    pub db_pool_timeout_ms: u64,
    /// `IDM_JWT_SECRET`: X-Token signing secret (≥ 32 bytes).
    pub jwt_secret: Option<String>,
    /// `IDM_JWT_LIFETIME_SECONDS`: X-Token lifetime.
    pub jwt_lifetime_seconds: u64,
    /// `IDM_ENCRYPTION_KEY`: 32-byte Base64 key for secrets at rest.
    pub encryption_key: Option<String>,
    /// `IDM_BOOTSTRAP_ADMIN_LOGIN`: loginId of the first Root user.
    pub bootstrap_admin_login: String,
    /// `IDM_BOOTSTRAP_ADMIN_PASSWORD`: its password; generated and printed once when absent.
    pub bootstrap_admin_password: Option<String>,
    /// `IDM_ARGON2_MEMORY_KIB`.
    pub argon2_memory_kib: u32,
    /// `IDM_ARGON2_ITERATIONS`.
    pub argon2_iterations: u32,
    /// `IDM_ARGON2_PARALLELISM`.
    pub argon2_parallelism: u32,
    /// `IDM_AUTH_CACHE_TTL_SECONDS`: caller-authentication cache lifetime; 0 = off.
    pub auth_cache_ttl_seconds: u64,
    /// `IDM_HASH_CONCURRENCY`: argon2 computations at once; 0 = the number of cores (§10.3).
    pub hash_concurrency: usize,
    /// `IDM_HASH_QUEUE`: requests that may wait for a hashing slot.
    pub hash_queue: usize,
    /// `IDM_HASH_WAIT_MS`: the longest wait for a hashing slot before a 503.
    pub hash_wait_ms: u64,
    /// `IDM_AUDIT_RETENTION_DAYS`: history kept by `audit prune`; 0 = forever (§13).
    pub audit_retention_days: u32,
    /// `IDM_LOG_FORMAT`: `text` or `json`.
    pub log_format: LogFormat,
    /// `IDM_LOG_LEVEL`: a tracing filter such as `info` or `idm_http=debug,info`.
    pub log_level: String,
    /// `IDM_MAX_BODY_BYTES`: request body limit.
    pub max_body_bytes: usize,
    /// `IDM_SHUTDOWN_TIMEOUT_SECONDS`: how long in-flight requests may finish after SIGTERM.
    pub shutdown_timeout_seconds: u64,
    /// `IDM_WORKERS`: HTTP worker threads; 0 = one per core.
    pub workers: usize,
    /// `IDM_CONFIG`: the configuration file read before the environment (consumed by
    /// [`Settings::load`]; listed so the environment source accepts the variable).
    #[serde(default)]
    pub config: Option<String>,
}

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line, for log shippers.
    Json,
}

const DEFAULTS: &str = r#"
listen = "127.0.0.1:8080"
database_url = "sqlite://./data/idm.sqlite3"
db_pool_size = 0
db_pool_timeout_ms = 5000
jwt_lifetime_seconds = 3600
bootstrap_admin_login = "admin"
argon2_memory_kib = 19456
argon2_iterations = 2
argon2_parallelism = 1
auth_cache_ttl_seconds = 60
hash_concurrency = 0
hash_queue = 64
hash_wait_ms = 2000
audit_retention_days = 0
log_format = "text"
log_level = "info"
max_body_bytes = 65536
shutdown_timeout_seconds = 30
workers = 0
"#;

impl Settings {
    /// Loads defaults, then `file` (or `IDM_CONFIG`) when given, then the environment.
    pub fn load(file: Option<&Path>) -> anyhow::Result<Settings> {
        let mut builder = config::Config::builder()
            .add_source(config::File::from_str(DEFAULTS, config::FileFormat::Toml));
        let env_file = std::env::var("IDM_CONFIG").ok();
        if let Some(path) = file.map(Path::to_path_buf).or(env_file.map(Into::into)) {
            if !path.exists() {
                bail!("configuration file {} does not exist", path.display());
            }
            builder = builder.add_source(config::File::from(path).format(config::FileFormat::Toml));
        }
        let built = builder
            .add_source(
                config::Environment::with_prefix("IDM")
                    .prefix_separator("_")
                    .try_parsing(true),
            )
            .build()
            .context("reading the configuration")?;
        let mut settings: Settings = built
            .try_deserialize()
            .context("the configuration has an invalid value")?;
        // An empty variable means "not set" for the optional secrets.
        for secret in [
            &mut settings.jwt_secret,
            &mut settings.encryption_key,
            &mut settings.bootstrap_admin_password,
        ] {
            if secret.as_deref().is_some_and(str::is_empty) {
                *secret = None;
            }
        }
        settings.validate()?;
        Ok(settings)
    }

    /// Checks what the types cannot: addresses, ranges, key lengths.
    pub fn validate(&self) -> anyhow::Result<()> {
        self.listen
            .parse::<SocketAddr>()
            .with_context(|| format!("IDM_LISTEN '{}' is not an address:port", self.listen))?;
        if !(self.database_url.starts_with("sqlite://")
            || self.database_url.starts_with("postgres://")
            || self.database_url.starts_with("postgresql://"))
        {
            bail!("IDM_DATABASE_URL must start with sqlite://, postgres:// or postgresql://");
        }
        if self.db_pool_timeout_ms == 0 {
            bail!("IDM_DB_POOL_TIMEOUT_MS must be greater than 0");
        }
        if let Some(secret) = &self.jwt_secret {
            if secret.len() < 32 {
                bail!("IDM_JWT_SECRET must be at least 32 bytes");
            }
        }
        if self.max_body_bytes < 1024 {
            bail!("IDM_MAX_BODY_BYTES must be at least 1024");
        }
        if self.argon2_iterations == 0 || self.argon2_parallelism == 0 || self.argon2_memory_kib < 8
        {
            bail!("IDM_ARGON2_* parameters are out of range");
        }
        Ok(())
    }

    /// Whether the database is the embedded SQLite one.
    pub fn is_sqlite(&self) -> bool {
        self.database_url.starts_with("sqlite://")
    }

    /// The pool size, with a per-backend default when 0.
    pub fn pool_size(&self) -> u32 {
        match self.db_pool_size {
            0 if self.is_sqlite() => 8,
            0 => 16,
            n => n,
        }
    }
}

fn redacted(value: &Option<String>) -> &'static str {
    if value.is_some() {
        "<set>"
    } else {
        "<unset>"
    }
}

impl fmt::Debug for Settings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Settings")
            .field("config", &self.config)
            .field("listen", &self.listen)
            .field("database_url", &redact_url(&self.database_url))
            .field("db_pool_size", &self.pool_size())
            .field("db_pool_timeout_ms", &self.db_pool_timeout_ms)
            .field("jwt_secret", &redacted(&self.jwt_secret))
            .field("encryption_key", &redacted(&self.encryption_key))
            .field("bootstrap_admin_login", &self.bootstrap_admin_login)
            .field(
                "bootstrap_admin_password",
                &redacted(&self.bootstrap_admin_password),
            )
            .field("argon2_memory_kib", &self.argon2_memory_kib)
            .field("argon2_iterations", &self.argon2_iterations)
            .field("auth_cache_ttl_seconds", &self.auth_cache_ttl_seconds)
            .field("log_format", &self.log_format)
            .finish_non_exhaustive()
    }
}

/// The database URL without its password, for logs and messages.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let userinfo = &url[scheme_end + 3..at];
            let user = userinfo.split(':').next().unwrap_or_default();
            format!("{}{}:***{}", &url[..scheme_end + 3], user, &url[at..])
        }
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_lose_their_password() {
        assert_eq!(
            redact_url("postgres://idm:s3cret@db:5432/idm"),
            "postgres://idm:***@db:5432/idm"
        );
        assert_eq!(redact_url("sqlite://./data/x"), "sqlite://./data/x");
    }

    #[test]
    fn idm_config_names_a_file_and_is_accepted() {
        let dir = std::env::temp_dir().join(format!("idm-config-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("idm.toml");
        std::fs::write(&file, "listen = \"127.0.0.1:9999\"\n").unwrap();
        // The only test of this binary that touches IDM_CONFIG.
        std::env::set_var("IDM_CONFIG", &file);
        let loaded = Settings::load(None);
        std::env::remove_var("IDM_CONFIG");
        assert_eq!(loaded.unwrap().listen, "127.0.0.1:9999");
    }

    #[test]
    fn defaults_are_valid() {
        let s: Settings = config::Config::builder()
            .add_source(config::File::from_str(DEFAULTS, config::FileFormat::Toml))
            .build()
            .unwrap()
            .try_deserialize()
            .unwrap();
        s.validate().unwrap();
        assert_eq!(s.pool_size(), 8);
        assert_eq!(s.listen, "127.0.0.1:8080");
        assert!(!format!("{s:?}").contains("s3cret"));
    }
}
