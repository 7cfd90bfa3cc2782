//! The two server secrets (JWT signing secret, encryption key): from configuration, or — for
//! the embedded SQLite default only — generated once and kept in a key file beside the database.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use rand::rngs::OsRng;
use rand::RngCore;
use serde::{Deserialize, Serialize};

use crate::config::Settings;

/// The resolved secrets. Never logged.
pub struct ServerKeys {
    /// X-Token signing secret.
    pub jwt_secret: Vec<u8>,
    /// Base64 AES-256 key.
    pub encryption_key: String,
}

#[derive(Serialize, Deserialize)]
struct KeyFile {
    jwt_secret: String,
    encryption_key: String,
}

/// Where the key file of a SQLite database lives: `<database>.keys.json`.
pub fn key_file_path(settings: &Settings) -> Option<PathBuf> {
    let path = settings.database_url.strip_prefix("sqlite://")?;
    Some(PathBuf::from(format!("{path}.keys.json")))
}

/// Resolves the secrets: configured values win; SQLite falls back to the key file (creating it
/// once); PostgreSQL without both secrets is a start-up error.
pub fn resolve(settings: &Settings) -> anyhow::Result<ServerKeys> {
    if let (Some(jwt), Some(key)) = (&settings.jwt_secret, &settings.encryption_key) {
        return Ok(ServerKeys {
            jwt_secret: jwt.as_bytes().to_vec(),
            encryption_key: key.clone(),
        });
    }
    let Some(path) = key_file_path(settings) else {
        bail!(
            "IDM_JWT_SECRET and IDM_ENCRYPTION_KEY must be set when the database is PostgreSQL \
             (every instance needs the same secrets); generate them with `openssl rand -base64 48` \
             and `openssl rand -base64 32`"
        );
    };
    let file = load_or_create(&path)?;
    Ok(ServerKeys {
        jwt_secret: settings
            .jwt_secret
            .clone()
            .unwrap_or(file.jwt_secret)
            .into_bytes(),
        encryption_key: settings
            .encryption_key
            .clone()
            .unwrap_or(file.encryption_key),
    })
}

fn load_or_create(path: &Path) -> anyhow::Result<KeyFile> {
    if path.exists() {
        let text = fs::read_to_string(path)
            .with_context(|| format!("reading the key file {}", path.display()))?;
        return serde_json::from_str(&text)
            .with_context(|| format!("the key file {} is damaged", path.display()));
    }
    if let Some(dir) = path.parent() {
        fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    let random = |n: usize| {
        let mut bytes = vec![0u8; n];
        OsRng.fill_bytes(&mut bytes);
        STANDARD.encode(bytes)
    };
    let keys = KeyFile {
        jwt_secret: random(48),
        encryption_key: random(32),
    };
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut f = options
        .open(path)
        .with_context(|| format!("creating the key file {}", path.display()))?;
    f.write_all(serde_json::to_string_pretty(&keys)?.as_bytes())?;
    tracing::warn!(
        key_file = %path.display(),
        "IDM_JWT_SECRET / IDM_ENCRYPTION_KEY not configured: generated them into a key file \
         beside the database; back it up with the database, secrets at rest need it"
    );
    Ok(keys)
}
