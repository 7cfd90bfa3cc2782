//! User bodies (SPEC §4.2, §8.2).

use idm_domain::patch::Patch;
use idm_domain::user::{
    Contacts, ContactsPatch, LanguageCode, NamePatch, PersonName, UserPatch, UserState,
};
use idm_ports::usecases::{CreateUser, UserView};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{doc, values};
use super::{opt_from_str, timestamp, tri_state};

/// `name` of a user, both ways.
#[derive(Debug, Default, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct NameDto {
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<values::FreeText>)]
    title: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<values::FreeText>)]
    first_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<values::FreeText>)]
    family_name: Option<String>,
}

/// `contacts` of a user, both ways.
#[derive(Debug, Default, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ContactsDto {
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<values::EmailAddress>)]
    email: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<values::FreeText>)]
    mobile: Option<String>,
}

/// `POST /core/v1/:clientExtId/users` body.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct CreateUserRequest {
    /// Unique within the client; absent or `null`: generated (a UUID).
    #[schema(value_type = Option<values::ExtId>)]
    ext_id: Option<String>,
    /// Unique within the client.
    #[schema(value_type = values::LoginId)]
    login_id: Option<String>,
    #[serde(default, deserialize_with = "opt_from_str")]
    #[schema(value_type = Option<doc::UserStateName>)]
    user_state: Option<UserState>,
    #[serde(default, deserialize_with = "opt_from_str")]
    #[schema(value_type = Option<doc::LanguageCodeName>)]
    language_code: Option<LanguageCode>,
    is_technical_user: Option<bool>,
    name: Option<NameDto>,
    contacts: Option<ContactsDto>,
}

impl From<CreateUserRequest> for CreateUser {
    fn from(r: CreateUserRequest) -> Self {
        let name = r.name.unwrap_or_default();
        let contacts = r.contacts.unwrap_or_default();
        CreateUser {
            ext_id: r.ext_id,
            login_id: r.login_id,
            // SCIM's `externalId` (SPEC §14) is not part of the core API's user.
            external_id: None,
            state: r.user_state,
            language: r.language_code,
            is_technical_user: r.is_technical_user,
            name: PersonName {
                title: name.title,
                first_name: name.first_name,
                family_name: name.family_name,
            },
            contacts: Contacts {
                email: contacts.email,
                mobile: contacts.mobile,
            },
        }
    }
}

/// `name` of a user PATCH: each part absent (kept), `null` (removed) or a new value.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct PatchNameDto {
    #[serde(default, deserialize_with = "tri_state")]
    #[schema(value_type = Option<values::FreeText>)]
    title: Patch<String>,
    #[serde(default, deserialize_with = "tri_state")]
    #[schema(value_type = Option<values::FreeText>)]
    first_name: Patch<String>,
    #[serde(default, deserialize_with = "tri_state")]
    #[schema(value_type = Option<values::FreeText>)]
    family_name: Patch<String>,
}

/// `contacts` of a user PATCH: each part absent (kept), `null` (removed) or a new value.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct PatchContactsDto {
    #[serde(default, deserialize_with = "tri_state")]
    #[schema(value_type = Option<values::EmailAddress>)]
    email: Patch<String>,
    #[serde(default, deserialize_with = "tri_state")]
    #[schema(value_type = Option<values::FreeText>)]
    mobile: Patch<String>,
}

/// `PATCH /core/v1/:clientExtId/users/:userExtId` body (SPEC §12): a field left out is kept,
/// `name`/`contacts` are merged part by part, a field sent as `null` is removed (`loginId` and
/// `userState` cannot be; `languageCode` and `isTechnicalUser` return to their defaults). A
/// `userState`/`languageCode` outside its values is a 422 of that field. In self-admin mode
/// only `name`, `contacts`, `languageCode` and `version` may be sent.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct PatchUserRequest {
    /// A new loginId (rules of the create); `null` is refused.
    #[serde(default, deserialize_with = "tri_state")]
    #[schema(value_type = values::LoginId)]
    login_id: Patch<String>,
    /// A new state; `null` is refused. The last active Root user cannot leave `active`.
    #[serde(default, deserialize_with = "tri_state")]
    #[schema(value_type = doc::UserStateName)]
    user_state: Patch<String>,
    #[serde(default, deserialize_with = "tri_state")]
    #[schema(value_type = Option<doc::LanguageCodeName>)]
    language_code: Patch<String>,
    #[serde(default, deserialize_with = "tri_state")]
    #[schema(value_type = Option<bool>)]
    is_technical_user: Patch<bool>,
    #[serde(default, deserialize_with = "tri_state")]
    #[schema(value_type = Option<PatchNameDto>)]
    name: Patch<PatchNameDto>,
    #[serde(default, deserialize_with = "tri_state")]
    #[schema(value_type = Option<PatchContactsDto>)]
    contacts: Patch<PatchContactsDto>,
    /// The version read; another stored version answers 409.
    #[serde(default, deserialize_with = "super::integer")]
    version: Option<i64>,
}

impl From<PatchUserRequest> for UserPatch {
    fn from(r: PatchUserRequest) -> Self {
        UserPatch {
            login_id: r.login_id,
            external_id: Patch::Keep,
            user_state: r.user_state,
            language_code: r.language_code,
            is_technical_user: r.is_technical_user,
            name: r.name.map(|n| NamePatch {
                title: n.title,
                first_name: n.first_name,
                family_name: n.family_name,
            }),
            contacts: r.contacts.map(|c| ContactsPatch {
                email: c.email,
                mobile: c.mobile,
            }),
            version: r.version,
        }
    }
}

/// A user as responses show it; `name`/`contacts` are omitted when every part is absent.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct UserResponse {
    ext_id: String,
    client_ext_id: String,
    login_id: String,
    #[schema(value_type = doc::UserStateName)]
    user_state: &'static str,
    #[schema(value_type = doc::LanguageCodeName)]
    language_code: &'static str,
    is_technical_user: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    name: Option<NameDto>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    contacts: Option<ContactsDto>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false, format = DateTime)]
    last_login: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false, format = DateTime)]
    last_login_failure: Option<String>,
    #[schema(format = DateTime)]
    created: String,
    #[schema(format = DateTime)]
    last_modified: String,
    version: i64,
}

impl From<&UserView> for UserResponse {
    fn from(v: &UserView) -> Self {
        let u = &v.user;
        let n = &u.name;
        let name =
            (n.title.is_some() || n.first_name.is_some() || n.family_name.is_some()).then(|| {
                NameDto {
                    title: n.title.clone(),
                    first_name: n.first_name.clone(),
                    family_name: n.family_name.clone(),
                }
            });
        let c = &u.contacts;
        let contacts = (c.email.is_some() || c.mobile.is_some()).then(|| ContactsDto {
            email: c.email.clone(),
            mobile: c.mobile.clone(),
        });
        UserResponse {
            ext_id: u.ext_id.to_string(),
            client_ext_id: v.client_ext_id.to_string(),
            login_id: u.login_id.clone(),
            user_state: u.state.as_str(),
            language_code: u.language.as_str(),
            is_technical_user: u.is_technical_user,
            name,
            contacts,
            last_login: u.last_login.map(timestamp),
            last_login_failure: u.last_login_failure.map(timestamp),
            created: timestamp(u.created),
            last_modified: timestamp(u.last_modified),
            version: u.version,
        }
    }
}
