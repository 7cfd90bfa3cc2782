//! The resolution steps every use case shares: SPEC §3.4 steps 3 and 4.

use idm_domain::client::Client;
use idm_domain::user::User;
use idm_domain::{DomainError, ExtId};

use crate::error::AppResult;
use crate::repos::Repos;

/// Step 3: the path's client, or the SPEC 404. A malformed extId can never match.
pub(crate) fn client(repos: &mut dyn Repos, ext_id: &str) -> AppResult<Client> {
    let found = if ExtId::is_valid(ext_id) {
        repos.clients().find_by_ext_id(ext_id)?
    } else {
        None
    };
    found.ok_or_else(|| DomainError::ClientNotFound(ext_id.to_owned()).into())
}

/// Step 4: the path's user within `client`, or the SPEC 404.
pub(crate) fn user(repos: &mut dyn Repos, client: &Client, ext_id: &str) -> AppResult<User> {
    let found = if ExtId::is_valid(ext_id) {
        repos.users().find_by_ext_id(&client.id, ext_id)?
    } else {
        None
    };
    found.ok_or_else(|| {
        DomainError::UserNotFound {
            user_ext_id: ext_id.to_owned(),
            client_name: client.name.clone(),
        }
        .into()
    })
}

/// Steps 3 and 4 together.
pub(crate) fn client_and_user(
    repos: &mut dyn Repos,
    client_ext_id: &str,
    user_ext_id: &str,
) -> AppResult<(Client, User)> {
    let c = client(repos, client_ext_id)?;
    let u = user(repos, &c, user_ext_id)?;
    Ok((c, u))
}

/// The extId a create request asked for, or a generated one.
pub(crate) fn ext_id_or_generated(
    wanted: Option<String>,
    generate: impl FnOnce() -> String,
) -> AppResult<ExtId> {
    match wanted {
        Some(raw) => Ok(ExtId::parse_field(&raw, "extId")?),
        None => Ok(ExtId::generated(generate())),
    }
}
