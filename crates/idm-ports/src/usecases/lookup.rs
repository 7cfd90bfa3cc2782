//! The resolution steps every use case shares: SPEC §3.4 steps 3 and 4.

use idm_domain::client::Client;
use idm_domain::policy::{Policy, PolicyType};
use idm_domain::user::User;
use idm_domain::{DomainError, ExtId};

use super::Ports;
use crate::error::AppResult;
use crate::permit::{Authorized, Permit};
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

/// Steps 3 and 4 together: one joined lookup, and only when it finds nothing the two
/// separate ones that tell which 404 applies.
pub(crate) fn client_and_user(
    repos: &mut dyn Repos,
    client_ext_id: &str,
    user_ext_id: &str,
) -> AppResult<(Client, User)> {
    if ExtId::is_valid(client_ext_id) && ExtId::is_valid(user_ext_id) {
        if let Some(found) = repos.client_and_user(client_ext_id, user_ext_id)? {
            return Ok(found);
        }
    }
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

/// The policy a credential create names, or the client's default of `policy_type`, with
/// SPEC §6.4's errors (unknown, wrong type, no default).
pub(crate) fn policy_for_create(
    repos: &mut dyn Repos,
    client: &Client,
    named: Option<&str>,
    policy_type: PolicyType,
) -> AppResult<Policy> {
    match named {
        Some(ext_id) => {
            let found = if ExtId::is_valid(ext_id) {
                repos.policies().find_by_ext_id(&client.id, ext_id)?
            } else {
                None
            };
            let policy =
                found.ok_or_else(|| DomainError::UnknownPolicyConfiguration(ext_id.to_owned()))?;
            if policy.policy_type != policy_type {
                return Err(DomainError::PolicyTypeMismatch {
                    ext_id: ext_id.to_owned(),
                    policy_type: policy_type.as_str().to_owned(),
                }
                .into());
            }
            Ok(policy)
        }
        None => Ok(repos
            .policies()
            .find_default(&client.id, policy_type)?
            .ok_or_else(|| DomainError::NoDefaultPolicy(policy_type.as_str().to_owned()))?),
    }
}

/// A new credential's extId: the requested one if free in the client (any type), else the
/// SPEC duplicate error; a generated one when none was requested.
pub(crate) fn new_credential_ext_id(
    repos: &mut dyn Repos,
    client: &Client,
    wanted: Option<String>,
    generate: impl FnOnce() -> String,
) -> AppResult<ExtId> {
    let ext_id = ext_id_or_generated(wanted, generate)?;
    if repos
        .credentials()
        .find_by_ext_id(&client.id, ext_id.as_str())?
        .is_some()
    {
        return Err(DomainError::DuplicateCredentialExtId(ext_id.to_string()).into());
    }
    Ok(ext_id)
}

/// SPEC §10.1 and §3.4 step 5 for a write on the path's user: the privileged-target decision
/// over the user's grants, then the X-Token in self-admin mode (bound to the user's current
/// password epoch, SPEC §10.4). The only way a use case gets a [`Permit`] for a user.
pub(crate) fn user_permit(
    ports: &Ports,
    repos: &mut dyn Repos,
    authorized: &Authorized<'_>,
    user: &User,
    x_token: Option<&str>,
) -> AppResult<Permit> {
    let grants = repos.roles().grants_of_user(&user.id)?;
    let cleared = authorized.check_target(&user.ext_id, &grants)?;
    cleared.verify_x_token(&*ports.tokens, x_token, || {
        Ok(repos
            .credentials()
            .find_password_of_user(&user.id, false)?
            .map(|r| r.credential.epoch))
    })
}

/// The lockout rules of a credential's policy (SPEC §5); the defaults if the policy is gone.
pub(crate) fn lockout_rules(
    repos: &mut dyn Repos,
    credential: &idm_domain::credential::Credential,
) -> AppResult<idm_domain::policy::LockoutRules> {
    Ok(repos
        .policies()
        .find_by_id(&credential.policy_id)?
        .map(|p| p.parameters.lockout())
        .unwrap_or_default())
}

/// SPEC §10.1: the last `active` user holding `Root` can be neither deleted, nor disabled or
/// archived, nor stripped of `Root`. Called by every such write, under the grants' lock.
pub(crate) fn ensure_not_last_root(repos: &mut dyn Repos, user: &User) -> AppResult<()> {
    let roots = repos.roles().active_root_users_for_update()?;
    if roots.len() <= 1 && roots.contains(&user.id) {
        return Err(DomainError::InvalidParameter(
            "The last active Root user cannot be removed.".into(),
        )
        .into());
    }
    Ok(())
}
