//! The driving side: one service trait per group of endpoints, each implemented against the
//! driven ports. The HTTP layer sees only these traits, so handlers are tested with mocks.

mod audit;
mod authenticate;
mod authentication;
mod bootstrap;
mod clients;
mod key_check;
mod login;
mod login_info;
mod lookup;
mod oath;
mod operator;
mod passwords;
mod policies;
mod roles;
mod token;
mod users;
mod vasco;

use std::collections::BTreeMap;
use std::sync::Arc;

use idm_domain::access::RoleGrant;
use idm_domain::client::Client;
use idm_domain::paging::{Page, PageRequest};
use idm_domain::policy::Policy;
use idm_domain::user::{Contacts, LanguageCode, PersonName, User, UserState};
use idm_domain::ExtId;

use crate::auth::{
    Clock, IdGenerator, LoginCache, PasswordHasher, SecretCipher, SecretGenerator, TokenIssuer,
};
use crate::caller::Caller;
use crate::error::AppResult;
use crate::repos::{CredentialRecord, UnitOfWork};

#[cfg(feature = "mock")]
pub use audit::MockAuditService;
pub use audit::{AuditService, AuditUseCases, EventQuery, Verification};
pub use authenticate::PasswordCallerAuthenticator;
pub use authentication::AuthUseCases;
pub use bootstrap::{BootstrapReport, BootstrapSettings, Bootstrapper};
pub use clients::ClientUseCases;
pub use key_check::{EncryptionKeyCheck, KeyCheck};
pub use login_info::LoginInfoUseCases;
pub use oath::OathUseCases;
pub use operator::{BreakGlass, OperatorUseCases};
pub use passwords::{PasswordUseCases, PendingDelivery};
pub use policies::PolicyUseCases;
pub use roles::RoleUseCases;
pub use token::TokenUseCases;
pub use users::UserUseCases;
pub use vasco::VascoUseCases;

/// Every driven port a use case may need, shared by all use cases.
#[derive(Clone)]
pub struct Ports {
    /// Transactions over the repositories.
    pub uow: Arc<dyn UnitOfWork>,
    /// argon2id hashing.
    pub hasher: Arc<dyn PasswordHasher>,
    /// Memory of successful verifications.
    pub login_cache: Arc<dyn LoginCache>,
    /// The time.
    pub clock: Arc<dyn Clock>,
    /// New identifiers.
    pub ids: Arc<dyn IdGenerator>,
    /// CSPRNG secrets.
    pub secrets: Arc<dyn SecretGenerator>,
    /// Encryption at rest.
    pub cipher: Arc<dyn SecretCipher>,
    /// X-Token issue and validation.
    pub tokens: Arc<dyn TokenIssuer>,
    /// Operational metrics.
    pub telemetry: Arc<dyn crate::telemetry::Telemetry>,
    /// The key of the history's hash chain.
    pub history_mac: Arc<dyn crate::auth::HistoryMac>,
}

/// A request body as the transport parsed it. A syntax failure (400/413/415) travels in the
/// `Err` and is reported at SPEC §3.4 step 6, after rights and the path's client and user.
pub type Body<T> = Result<T, crate::error::AppError>;

/// Authenticates the caller of a request (SPEC §3.1).
#[cfg_attr(feature = "mock", mockall::automock)]
pub trait CallerAuthenticator: Send + Sync {
    /// Checks `user_id` (`clientExtId/loginId` or a bare loginId) and `password`;
    /// `DomainError::AuthenticationFailed` on any mismatch. `request_id` travels with the
    /// caller into the history.
    fn authenticate(
        &self,
        user_id: &str,
        password: &str,
        request_id: Option<String>,
    ) -> AppResult<Caller>;
}

/// A client-create request (SPEC §8.1).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CreateClient {
    /// Wanted extId; generated when absent.
    pub ext_id: Option<String>,
    /// Display name; mandatory.
    pub name: Option<String>,
}

/// Clients (SPEC §8.1).
#[cfg_attr(feature = "mock", mockall::automock)]
pub trait ClientService: Send + Sync {
    /// Creates a client with its three default policies.
    fn create_client(&self, caller: &Caller, cmd: Body<CreateClient>) -> AppResult<Client>;
    /// Reads a client.
    fn get_client(&self, caller: &Caller, ext_id: &str) -> AppResult<Client>;
    /// One page of the clients the caller's `ClientView` covers (SPEC §12).
    fn list_clients(&self, caller: &Caller, page: PageRequest) -> AppResult<Page<Client>>;
    /// Renames a client under optimistic locking (SPEC §12).
    fn patch_client(
        &self,
        caller: &Caller,
        ext_id: &str,
        patch: Body<idm_domain::client::ClientPatch>,
    ) -> AppResult<Client>;
}

/// A user-create request (SPEC §8.2).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CreateUser {
    /// Wanted extId; generated when absent.
    pub ext_id: Option<String>,
    /// Login name; mandatory.
    pub login_id: Option<String>,
    /// The provisioning IdP's key (SCIM `externalId`, SPEC §14).
    pub external_id: Option<String>,
    /// Initial state; `active` when absent.
    pub state: Option<UserState>,
    /// Language; `EN` when absent.
    pub language: Option<LanguageCode>,
    /// Machine account flag.
    pub is_technical_user: Option<bool>,
    /// Name parts.
    pub name: PersonName,
    /// Contact data.
    pub contacts: Contacts,
}

/// A user with its client's extId, as responses show it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserView {
    /// The user.
    pub user: User,
    /// Its client's extId.
    pub client_ext_id: ExtId,
}

/// Users and their credential list (SPEC §8.2).
#[cfg_attr(feature = "mock", mockall::automock)]
pub trait UserService: Send + Sync {
    /// Creates a user in the client.
    fn create_user(
        &self,
        caller: &Caller,
        client: &str,
        cmd: Body<CreateUser>,
    ) -> AppResult<UserView>;
    /// Reads a user.
    fn get_user(&self, caller: &Caller, client: &str, user: &str) -> AppResult<UserView>;
    /// One page of the user's credentials (common fields).
    fn list_credentials(
        &self,
        caller: &Caller,
        client: &str,
        user: &str,
        page: PageRequest,
    ) -> AppResult<Page<CredentialRecord>>;
    /// One page of the client's users matching `filter` (SPEC §12).
    fn list_users(
        &self,
        caller: &Caller,
        client: &str,
        filter: UserFilter,
        page: PageRequest,
    ) -> AppResult<Page<UserView>>;
    /// Changes a user under optimistic locking (SPEC §12); `x_token` is needed in self-admin
    /// mode.
    fn patch_user(
        &self,
        caller: &Caller,
        client: &str,
        user: &str,
        x_token: Option<String>,
        patch: Body<idm_domain::user::UserPatch>,
    ) -> AppResult<UserView>;
    /// Deletes a user and what hangs on it (SPEC §12).
    fn delete_user(&self, caller: &Caller, client: &str, user: &str) -> AppResult<()>;
    /// The client's users matching `query` (SPEC §14, SCIM search), by creation time then
    /// extId: at most `count` (capped at 1000) after skipping `offset`, with the exact number
    /// of matches. Rights `UserView`.
    fn search_users(
        &self,
        caller: &Caller,
        client: &str,
        query: crate::user_query::UserQuery,
        offset: u64,
        count: u32,
    ) -> AppResult<(Vec<UserView>, u64)>;
    /// The caller's own user (SPEC §12 `GET /principal/v1/me`).
    fn me(&self, caller: &Caller) -> AppResult<UserView>;
    /// The caller's grants and the rights they give (SPEC §12 `GET /principal/v1/permissions`).
    fn permissions(&self, caller: &Caller) -> AppResult<Permissions>;
}

/// The filters of a user-list request (SPEC §12) as sent; an empty value counts as absent.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UserFilter {
    /// Exact loginId.
    pub login_id: Option<String>,
    /// Exact e-mail address, case-insensitive.
    pub email: Option<String>,
    /// State name; an unknown one is refused.
    pub user_state: Option<String>,
    /// Case-insensitive prefix of the loginId, family name or e-mail address.
    pub q: Option<String>,
}

/// What a caller may do (SPEC §12): its grants, and every right they give with where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Permissions {
    /// The caller's role grants.
    pub grants: Vec<RoleGrant>,
    /// Each right held, in SPEC order, with the union of its grants' data rooms.
    pub rights: Vec<(idm_domain::access::Right, idm_domain::access::DataRoom)>,
}

/// A password-create request (SPEC §8.5). `Debug` never shows the password.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct CreatePassword {
    /// Wanted credential extId; generated when absent.
    pub ext_id: Option<String>,
    /// The PwdPolicy to use; the client's default when absent.
    pub policy_ext_id: Option<String>,
    /// Initial state name; `active` when absent.
    pub state_name: Option<String>,
    /// The password, only when the policy does not generate one.
    pub password: Option<String>,
}

/// A password PATCH (SPEC §8.5).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PatchPassword {
    /// New state name.
    pub state_name: Option<String>,
    /// Comment stored with the change.
    pub modification_comment: Option<String>,
    /// The version the caller read.
    pub version: Option<i64>,
}

/// The result of creating or resetting a password.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PasswordIssued {
    /// The credential after the change.
    pub record: CredentialRecord,
    /// The generated password's first part for the caller: `None` when the policy's
    /// `fragmentLength` is 0 (204) or the password was supplied.
    pub fragment: Option<String>,
    /// Whether the server generated the password.
    pub generated: bool,
}

impl std::fmt::Debug for CreatePassword {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CreatePassword")
            .field("ext_id", &self.ext_id)
            .field("policy_ext_id", &self.policy_ext_id)
            .field("state_name", &self.state_name)
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

/// Password credentials (SPEC §6.1, §8.5).
#[cfg_attr(feature = "mock", mockall::automock)]
pub trait PasswordService: Send + Sync {
    /// Creates the user's Password credential.
    fn create_password(
        &self,
        caller: &Caller,
        client: &str,
        user: &str,
        cmd: Body<CreatePassword>,
    ) -> AppResult<PasswordIssued>;
    /// Reads the user's Password credential (never the hash).
    fn get_password(
        &self,
        caller: &Caller,
        client: &str,
        user: &str,
    ) -> AppResult<CredentialRecord>;
    /// Changes the state of the user's Password credential (unlock, disable, …).
    fn patch_password(
        &self,
        caller: &Caller,
        client: &str,
        user: &str,
        patch: Body<PatchPassword>,
    ) -> AppResult<CredentialRecord>;
    /// Resets the password (SPEC §6.1); `x_token` is the `X-Token` header, needed in
    /// self-admin mode.
    fn reset_password(
        &self,
        caller: &Caller,
        client: &str,
        user: &str,
        x_token: Option<String>,
    ) -> AppResult<PasswordIssued>;
}

/// The delivery outbox for operators (`idm-server outbox list`).
#[cfg_attr(feature = "mock", mockall::automock)]
pub trait OutboxService: Send + Sync {
    /// Up to `limit` pending deliveries; payloads are opened only when `reveal` is set.
    fn pending_deliveries(&self, limit: u32, reveal: bool) -> AppResult<Vec<PendingDelivery>>;
}

/// The body of a bulk login-information report (SPEC §6.2).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LoginReport {
    /// Whether the user's login succeeded; mandatory.
    pub user_login_successful: Option<bool>,
    /// Per-credential outcomes; at most 100.
    pub credentials: Option<Vec<CredentialLoginReport>>,
}

/// One credential's reported outcome.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CredentialLoginReport {
    /// Success or failure; mandatory.
    pub success: Option<bool>,
    /// The credential; mandatory.
    pub credential_ext_id: Option<String>,
}

/// One applied outcome: a credential's, or the user's alone when no credentials were reported.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoginItem {
    /// What happened.
    pub outcome: idm_domain::credential::LoginOutcome,
    /// The user's extId.
    pub user_ext_id: ExtId,
    /// The client's extId.
    pub client_ext_id: ExtId,
    /// The credential after the update; `None` for the user-only item.
    pub credential: Option<CredentialRecord>,
    /// The user's last successful login after the update.
    pub user_last_login: Option<chrono::DateTime<chrono::Utc>>,
    /// The user's last failed login after the update.
    pub user_last_login_failure: Option<chrono::DateTime<chrono::Utc>>,
}

/// One entry that could not be applied, with the identifier SPEC §2 puts beside bulk errors.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoginItemError {
    /// The rule the entry broke.
    pub error: idm_domain::DomainError,
    /// The client's extId.
    pub client_ext_id: String,
    /// The user's extId.
    pub user_ext_id: String,
    /// The entry's credential extId, when it named one.
    pub credential_ext_id: Option<String>,
}

/// The outcome of a bulk report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoginInfoResult {
    /// Applied outcomes, in request order.
    pub items: Vec<LoginItem>,
    /// Entries that could not be applied, in request order.
    pub errors: Vec<LoginItemError>,
    /// The user's last successful login after the report.
    pub last_login: Option<chrono::DateTime<chrono::Utc>>,
    /// The user's last failed login after the report.
    pub last_login_failure: Option<chrono::DateTime<chrono::Utc>>,
}

/// Login information reported by a login service (SPEC §6.2).
#[cfg_attr(feature = "mock", mockall::automock)]
pub trait LoginInfoService: Send + Sync {
    /// Applies the user's and each credential's outcome; one entry's error never stops another.
    fn bulk_login_info(
        &self,
        caller: &Caller,
        client: &str,
        user: &str,
        report: Body<LoginReport>,
    ) -> AppResult<LoginInfoResult>;
}

/// One Digipass data block of a VASCO create, as sent.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VascoTokenInput {
    /// Two-character authentication mode.
    pub auth_mode: Option<String>,
    /// Base64 data block.
    pub data: Option<String>,
}

/// A VASCO-create request (SPEC §6.4).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CreateVasco {
    /// Wanted extId; generated when absent.
    pub ext_id: Option<String>,
    /// The VascoPolicy; the client's default when absent.
    pub policy_ext_id: Option<String>,
    /// Initial state name; `initial` when absent.
    pub state_name: Option<String>,
    /// The data blocks; at least one.
    pub vasco_tokens: Option<Vec<VascoTokenInput>>,
}

/// VASCO Digipass credentials (SPEC §6.4, §8.7).
#[cfg_attr(feature = "mock", mockall::automock)]
pub trait VascoService: Send + Sync {
    /// Creates an unassigned VASCO credential.
    fn create_vasco(
        &self,
        caller: &Caller,
        client: &str,
        cmd: Body<CreateVasco>,
    ) -> AppResult<CredentialRecord>;
    /// One page of the client's VASCO credentials.
    fn list_vasco(
        &self,
        caller: &Caller,
        client: &str,
        page: PageRequest,
    ) -> AppResult<Page<CredentialRecord>>;
    /// Reads one VASCO credential.
    fn get_vasco(&self, caller: &Caller, client: &str, ext_id: &str)
        -> AppResult<CredentialRecord>;
    /// Assigns a VASCO credential to a user.
    fn assign_vasco(
        &self,
        caller: &Caller,
        client: &str,
        user: &str,
        ext_id: &str,
    ) -> AppResult<CredentialRecord>;
    /// Removes the user from a VASCO credential; its state returns to `initial`.
    fn unassign_vasco(
        &self,
        caller: &Caller,
        client: &str,
        ext_id: &str,
    ) -> AppResult<CredentialRecord>;
}

/// An OATH-create request (SPEC §8.6).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CreateOath {
    /// Wanted extId; generated when absent.
    pub ext_id: Option<String>,
    /// The OathPolicy; the client's default when absent.
    pub policy_ext_id: Option<String>,
    /// The user-facing label; mandatory.
    pub label: Option<String>,
    /// Initial state name; `active` when absent.
    pub state_name: Option<String>,
}

/// A created OATH credential and its enrolment URI, the only time the plain secret leaves the
/// service. `Debug` never shows the URI.
#[derive(Clone, PartialEq, Eq)]
pub struct OathCreated {
    /// The credential (secret sealed).
    pub record: CredentialRecord,
    /// `otpauth://…` with the Base32 secret.
    pub uri: String,
}

impl std::fmt::Debug for OathCreated {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OathCreated")
            .field("record", &self.record)
            .field("uri", &"<redacted>")
            .finish()
    }
}

/// OATH credentials (SPEC §6.5, §8.6).
#[cfg_attr(feature = "mock", mockall::automock)]
pub trait OathService: Send + Sync {
    /// Creates an OATH credential with a server-drawn secret; `x_token` is needed in self-admin mode.
    fn create_oath(
        &self,
        caller: &Caller,
        client: &str,
        user: &str,
        x_token: Option<String>,
        cmd: Body<CreateOath>,
    ) -> AppResult<OathCreated>;
    /// Reads one OATH credential of the user.
    fn get_oath(
        &self,
        caller: &Caller,
        client: &str,
        user: &str,
        ext_id: &str,
    ) -> AppResult<CredentialRecord>;
    /// One page of the user's OATH credentials.
    fn list_oath(
        &self,
        caller: &Caller,
        client: &str,
        user: &str,
        page: PageRequest,
    ) -> AppResult<Page<CredentialRecord>>;
    /// Deletes one OATH credential of the user; `x_token` is needed in self-admin mode.
    fn delete_oath(
        &self,
        caller: &Caller,
        client: &str,
        user: &str,
        ext_id: &str,
        x_token: Option<String>,
    ) -> AppResult<()>;
}

/// A bearer-token request (SPEC §6.3). `Debug` never shows the password.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct TokenRequest {
    /// Must be the caller's loginId.
    pub username: Option<String>,
    /// The caller's password, verified again.
    pub password: Option<String>,
    /// Must be `password`.
    pub grant_type: Option<String>,
}

impl std::fmt::Debug for TokenRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenRequest")
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .field("grant_type", &self.grant_type)
            .finish()
    }
}

/// The bearer token endpoint (SPEC §6.3).
#[cfg_attr(feature = "mock", mockall::automock)]
pub trait TokenService: Send + Sync {
    /// Checks the request in SPEC order and issues an X-Token for the caller.
    fn issue_token(
        &self,
        caller: &Caller,
        request: Body<TokenRequest>,
    ) -> AppResult<crate::auth::IssuedToken>;
}

/// A role-grant request (SPEC §8.3).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GrantRole {
    /// Role name; mandatory.
    pub role: Option<String>,
    /// Data room; `None` = global.
    pub client_ext_ids: Option<Vec<String>>,
}

/// Role grants (SPEC §8.3).
#[cfg_attr(feature = "mock", mockall::automock)]
pub trait RoleService: Send + Sync {
    /// Grants a role, or replaces the data room of an existing grant of it.
    fn grant_role(
        &self,
        caller: &Caller,
        client: &str,
        user: &str,
        cmd: Body<GrantRole>,
    ) -> AppResult<RoleGrant>;
    /// Every grant of the user.
    fn list_roles(&self, caller: &Caller, client: &str, user: &str) -> AppResult<Vec<RoleGrant>>;
    /// Revokes a grant.
    fn revoke_role(&self, caller: &Caller, client: &str, user: &str, role: &str) -> AppResult<()>;
}

/// A policy-create request (SPEC §8.4).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CreatePolicy {
    /// Wanted extId; generated when absent.
    pub ext_id: Option<String>,
    /// Display name; mandatory.
    pub name: Option<String>,
    /// Free text.
    pub description: Option<String>,
    /// `PwdPolicy`, `VascoPolicy` or `OathPolicy`; mandatory.
    pub policy_type: Option<String>,
    /// Whether it becomes the client's default for its type.
    pub default_policy: bool,
    /// Explicit parameters.
    pub parameters: BTreeMap<String, String>,
}

/// A policy with its client's extId, as responses show it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyView {
    /// The policy.
    pub policy: Policy,
    /// Its client's extId.
    pub client_ext_id: ExtId,
}

/// Policies (SPEC §8.4).
#[cfg_attr(feature = "mock", mockall::automock)]
pub trait PolicyService: Send + Sync {
    /// Creates a policy.
    fn create_policy(
        &self,
        caller: &Caller,
        client: &str,
        cmd: Body<CreatePolicy>,
    ) -> AppResult<PolicyView>;
    /// Reads a policy.
    fn get_policy(&self, caller: &Caller, client: &str, ext_id: &str) -> AppResult<PolicyView>;
    /// Changes a policy under optimistic locking.
    fn patch_policy(
        &self,
        caller: &Caller,
        client: &str,
        ext_id: &str,
        patch: Body<idm_domain::policy::PolicyPatch>,
    ) -> AppResult<PolicyView>;
}

/// The login status of SPEC §11: how a processed attempt left the credential.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoginStatus {
    /// 5: the secret verified; the success is recorded.
    Ok,
    /// 2: wrong secret; the failure is recorded.
    Failed,
    /// 3: wrong secret, and one more failure would reach a lock threshold.
    NextFailureLocks,
    /// 9: this failure, or an earlier one still in force, tmp-locked the credential.
    TmpLocked,
    /// 4: this failure, or an earlier one, fail-locked the credential.
    Locked,
}

impl LoginStatus {
    /// SPEC §11's rule "the first of 4, 9, 3, 2 wins" for a failed (or refused) attempt:
    /// `outcome` is how the failure (or the lock in force) left the credential, `next_locks`
    /// whether one more failure would lock it.
    pub fn of_failure(outcome: idm_domain::credential::LoginOutcome, next_locks: bool) -> Self {
        use idm_domain::credential::LoginOutcome;
        match outcome {
            LoginOutcome::FailLocked => LoginStatus::Locked,
            LoginOutcome::TmpLocked => LoginStatus::TmpLocked,
            _ if next_locks => LoginStatus::NextFailureLocks,
            _ => LoginStatus::Failed,
        }
    }

    /// SPEC §11's `statusCode`.
    pub fn status_code(self) -> i32 {
        match self {
            LoginStatus::Ok => 5,
            LoginStatus::Failed => 2,
            LoginStatus::NextFailureLocks => 3,
            LoginStatus::TmpLocked => 9,
            LoginStatus::Locked => 4,
        }
    }

    /// SPEC §11's `description`.
    pub fn description(self) -> &'static str {
        match self {
            LoginStatus::Ok => "Login Ok",
            LoginStatus::Failed => "Login failed.",
            LoginStatus::NextFailureLocks => "Login failed. The next failure locks the credential.",
            LoginStatus::TmpLocked => "Login failed. Credential temporarily locked.",
            LoginStatus::Locked => "Login failed. Credential locked.",
        }
    }
}

/// Shows whether a secret was given, never the secret.
fn redacted(secret: &Option<String>) -> Option<&'static str> {
    secret.as_ref().map(|_| "<redacted>")
}

/// A password login (SPEC §11.1). `Debug` never shows the password.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct PasswordLogin {
    /// The password to verify; mandatory.
    pub password: Option<String>,
}

impl std::fmt::Debug for PasswordLogin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PasswordLogin")
            .field("password", &redacted(&self.password))
            .finish()
    }
}

/// An OATH login (SPEC §11.2). `Debug` never shows the code.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct OathLogin {
    /// The one-time code; mandatory.
    pub code: Option<String>,
}

impl std::fmt::Debug for OathLogin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OathLogin")
            .field("code", &redacted(&self.code))
            .finish()
    }
}

/// An HOTP resynchronisation (SPEC §11.2). `Debug` never shows the codes.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct OathResync {
    /// The first of two consecutive codes; mandatory.
    pub code1: Option<String>,
    /// The code after it; mandatory.
    pub code2: Option<String>,
}

impl std::fmt::Debug for OathResync {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OathResync")
            .field("code1", &redacted(&self.code1))
            .field("code2", &redacted(&self.code2))
            .finish()
    }
}

/// A password change (SPEC §11.3). `Debug` never shows either password.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct ChangePassword {
    /// The current password; mandatory in self-admin mode, ignored otherwise.
    pub old_password: Option<String>,
    /// The new password; mandatory.
    pub new_password: Option<String>,
}

impl std::fmt::Debug for ChangePassword {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChangePassword")
            .field("old_password", &redacted(&self.old_password))
            .field("new_password", &redacted(&self.new_password))
            .finish()
    }
}

/// The authentication API (SPEC §11): logins that verify a user's secret, HOTP
/// resynchronisation, and the password change and unlock of the core API.
#[cfg_attr(feature = "mock", mockall::automock)]
pub trait AuthService: Send + Sync {
    /// Verifies the user's password (SPEC §11.1).
    fn password_login(
        &self,
        caller: &Caller,
        client: &str,
        user: &str,
        cmd: Body<PasswordLogin>,
    ) -> AppResult<LoginStatus>;
    /// Verifies a TOTP or HOTP code of one of the user's OATH credentials (SPEC §11.2).
    fn oath_login(
        &self,
        caller: &Caller,
        client: &str,
        user: &str,
        ext_id: &str,
        cmd: Body<OathLogin>,
    ) -> AppResult<LoginStatus>;
    /// Moves an HOTP credential's counter after two consecutive codes (SPEC §11.2).
    fn oath_resync(
        &self,
        caller: &Caller,
        client: &str,
        user: &str,
        ext_id: &str,
        cmd: Body<OathResync>,
    ) -> AppResult<()>;
    /// Changes the user's password (SPEC §11.3); `x_token` is needed in self-admin mode.
    fn change_password(
        &self,
        caller: &Caller,
        client: &str,
        user: &str,
        x_token: Option<String>,
        cmd: Body<ChangePassword>,
    ) -> AppResult<()>;
    /// Unlocks the user's Password credential (SPEC §11.3); nothing changes unless it is locked.
    fn unlock_password(&self, caller: &Caller, client: &str, user: &str) -> AppResult<()>;
}

#[cfg(test)]
mod tests;
