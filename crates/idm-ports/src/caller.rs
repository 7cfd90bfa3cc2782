//! The authenticated caller of a request and SPEC §3.4 step 2 for it.

use idm_domain::access::{authorize, Requirement, RoleGrant, Target};
use idm_domain::{DomainError, ExtId};

use crate::permit::Authorized;

/// Who is calling: the result of caller authentication (SPEC §3.1), handed to every use case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    /// Storage identity of the caller's user.
    pub user_id: String,
    /// The caller's user extId.
    pub user_ext_id: ExtId,
    /// The caller's client's extId.
    pub client_ext_id: ExtId,
    /// The caller's loginId.
    pub login_id: String,
    /// The caller's role grants.
    pub grants: Vec<RoleGrant>,
    /// The request's ID (SPEC §1), so the history can name the request a change came from.
    pub request_id: Option<String>,
}

impl Caller {
    /// SPEC §3.4 step 2 for a request on `client` (and, for user-scoped paths, `user`). The
    /// answer is an [`Authorized`] value, which writes must turn into a `Permit`.
    pub fn authorize(
        &self,
        need: Requirement<'_>,
        client: Option<&str>,
        user: Option<&str>,
    ) -> Result<Authorized<'_>, DomainError> {
        let is_caller_itself = matches!((client, user), (Some(c), Some(u))
            if c == self.client_ext_id.as_str() && u == self.user_ext_id.as_str());
        let mode = authorize(
            &self.grants,
            need,
            Target {
                client,
                is_caller_itself,
            },
        )?;
        Ok(Authorized::new(self, mode, client))
    }
}
