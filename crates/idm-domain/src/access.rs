//! Rights, roles, data rooms and the authorization decision of SPEC §3.2–§3.4.
//!
//! Everything here compares extIds only, so the decision runs before any lookup and a caller
//! cannot probe which clients exist outside its data room.

use std::collections::BTreeSet;
use std::fmt;
use std::str::FromStr;

use crate::error::DomainError;
use crate::ext_id::ExtId;

/// One operation class (SPEC §3.2); written `AccessControl.<Right>` in messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[allow(missing_docs)]
pub enum Right {
    ClientView,
    ClientCreate,
    UserView,
    UserCreate,
    UserModify,
    CredentialView,
    CredentialCreate,
    CredentialModify,
    CredentialDelete,
    CredentialChangeState,
    PolicyConfigurationView,
    PolicyCreate,
    PolicyModify,
    AuthorizationView,
    AuthorizationModify,
    UserDelete,
    ClientModify,
    AuditView,
}

impl Right {
    /// Every right, in SPEC order.
    pub const ALL: [Right; 18] = [
        Right::ClientView,
        Right::ClientCreate,
        Right::UserView,
        Right::UserCreate,
        Right::UserModify,
        Right::CredentialView,
        Right::CredentialCreate,
        Right::CredentialModify,
        Right::CredentialDelete,
        Right::CredentialChangeState,
        Right::PolicyConfigurationView,
        Right::PolicyCreate,
        Right::PolicyModify,
        Right::AuthorizationView,
        Right::AuthorizationModify,
        Right::UserDelete,
        Right::ClientModify,
        Right::AuditView,
    ];
}

impl fmt::Display for Right {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

/// A named set of rights (SPEC §3.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Role {
    /// All rights, always global.
    Root,
    /// All rights but `ClientCreate`.
    ClientRoot,
    /// User and credential administration (users may also be deleted, SPEC §12).
    UserAdmin,
    /// Support staff: view users, unlock and change credentials.
    Helpdesk,
    /// No rights; enables self-admin mode (SPEC §3.3).
    SelfAdmin,
}

impl Role {
    /// The rights this role holds.
    pub fn rights(self) -> &'static [Right] {
        use Right::*;
        match self {
            Role::Root => &Right::ALL,
            Role::ClientRoot => &[
                ClientView,
                UserView,
                UserCreate,
                UserModify,
                CredentialView,
                CredentialCreate,
                CredentialModify,
                CredentialDelete,
                CredentialChangeState,
                PolicyConfigurationView,
                PolicyCreate,
                PolicyModify,
                AuthorizationView,
                AuthorizationModify,
                UserDelete,
                ClientModify,
                AuditView,
            ],
            Role::UserAdmin => &[
                UserView,
                UserCreate,
                UserModify,
                UserDelete,
                CredentialView,
                CredentialCreate,
                CredentialModify,
                CredentialDelete,
                CredentialChangeState,
                PolicyConfigurationView,
                AuthorizationView,
            ],
            Role::Helpdesk => &[
                UserView,
                CredentialView,
                CredentialModify,
                CredentialChangeState,
                PolicyConfigurationView,
            ],
            Role::SelfAdmin => &[],
        }
    }

    /// The role's name as the API writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Root => "Root",
            Role::ClientRoot => "ClientRoot",
            Role::UserAdmin => "UserAdmin",
            Role::Helpdesk => "Helpdesk",
            Role::SelfAdmin => "SelfAdmin",
        }
    }

    /// Whether grants of this role ignore the data room they are given (Root, SelfAdmin).
    pub fn is_always_global(self) -> bool {
        matches!(self, Role::Root | Role::SelfAdmin)
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = DomainError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(match s {
            "Root" => Role::Root,
            "ClientRoot" => Role::ClientRoot,
            "UserAdmin" => Role::UserAdmin,
            "Helpdesk" => Role::Helpdesk,
            "SelfAdmin" => Role::SelfAdmin,
            other => return Err(DomainError::UnknownRole(other.to_owned())),
        })
    }
}

/// Where a grant applies: everywhere, or to a set of clients named by extId.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DataRoom {
    /// Every client.
    Global,
    /// Only these clients.
    Clients(BTreeSet<ExtId>),
}

impl DataRoom {
    /// Whether the data room includes the client `client`.
    pub fn covers(&self, client: &str) -> bool {
        match self {
            DataRoom::Global => true,
            DataRoom::Clients(set) => set.iter().any(|c| c.as_str() == client),
        }
    }

    /// Whether this data room includes every client of `other`.
    pub fn contains(&self, other: &DataRoom) -> bool {
        match (self, other) {
            (DataRoom::Global, _) => true,
            (DataRoom::Clients(_), DataRoom::Global) => false,
            (DataRoom::Clients(mine), DataRoom::Clients(theirs)) => theirs.is_subset(mine),
        }
    }
}

/// A role held by a user with a data room.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleGrant {
    /// The granted role.
    pub role: Role,
    /// Where it applies; always `Global` for Root and SelfAdmin.
    pub data_room: DataRoom,
}

impl RoleGrant {
    /// Builds a grant, widening Root and SelfAdmin to global as SPEC §3.2 requires.
    pub fn new(role: Role, data_room: DataRoom) -> Self {
        let data_room = if role.is_always_global() {
            DataRoom::Global
        } else {
            data_room
        };
        RoleGrant { role, data_room }
    }

    fn holds(&self, right: Right) -> bool {
        self.role.rights().contains(&right)
    }
}

/// What an endpoint needs (SPEC §3.4 step 2).
#[derive(Debug, Clone, Copy)]
pub struct Requirement<'a> {
    /// Every right needed, in the endpoint's listed order.
    pub rights: &'a [Right],
    /// Whether a SelfAdmin caller may act on itself instead.
    pub self_admin: bool,
}

impl<'a> Requirement<'a> {
    /// Needs all of `rights`; SelfAdmin may not stand in.
    pub const fn rights(rights: &'a [Right]) -> Self {
        Requirement {
            rights,
            self_admin: false,
        }
    }

    /// Needs all of `rights`, or SelfAdmin acting on itself.
    pub const fn rights_or_self(rights: &'a [Right]) -> Self {
        Requirement {
            rights,
            self_admin: true,
        }
    }
}

/// The target of a request, as the path names it.
#[derive(Debug, Clone, Copy)]
pub struct Target<'a> {
    /// The path's `:clientExtId`; `None` for endpoints outside any client (create a client).
    pub client: Option<&'a str>,
    /// Whether the path's user is the caller itself.
    pub is_caller_itself: bool,
}

/// How a request was allowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccessMode {
    /// Through the caller's rights.
    Rights,
    /// Through self-admin mode (writes then also need an X-Token).
    SelfAdmin,
}

/// Decides SPEC §3.4 step 2: allowed through rights, through self-admin mode, or the exact 403.
pub fn authorize(
    grants: &[RoleGrant],
    need: Requirement<'_>,
    target: Target<'_>,
) -> Result<AccessMode, DomainError> {
    let covered = |right: Right| {
        grants.iter().any(|g| {
            g.holds(right)
                && match target.client {
                    Some(client) => g.data_room.covers(client),
                    None => g.data_room == DataRoom::Global,
                }
        })
    };
    if need.rights.iter().all(|r| covered(*r)) {
        return Ok(AccessMode::Rights);
    }
    if need.self_admin
        && target.is_caller_itself
        && grants.iter().any(|g| g.role == Role::SelfAdmin)
    {
        return Ok(AccessMode::SelfAdmin);
    }
    if let Some(missing) = need
        .rights
        .iter()
        .find(|r| !grants.iter().any(|g| g.holds(**r)))
    {
        return Err(DomainError::MissingRight(*missing));
    }
    match need.rights.iter().find(|r| !covered(**r)) {
        Some(uncovered) => Err(DomainError::DataRoomDenied(*uncovered)),
        // Unreachable in practice (all rights covered returns above); deny rather than allow.
        None => Err(DomainError::PrivilegeEscalation),
    }
}

/// SPEC §8.3: a caller may grant a role only within its own rights and data rooms.
pub fn may_grant(caller: &[RoleGrant], grant: &RoleGrant) -> Result<(), DomainError> {
    let within = grant.role.rights().iter().all(|right| {
        caller
            .iter()
            .any(|g| g.holds(*right) && g.data_room.contains(&grant.data_room))
    });
    if within {
        Ok(())
    } else {
        Err(DomainError::PrivilegeEscalation)
    }
}

/// Where `grants` hold `right`: the union of the data rooms of every grant whose role has it
/// (global if any of them is); `None` when no grant holds it (SelfAdmin never does).
pub fn data_room_of(grants: &[RoleGrant], right: Right) -> Option<DataRoom> {
    grants
        .iter()
        .filter(|g| g.holds(right))
        .map(|g| g.data_room.clone())
        .reduce(|a, b| match (a, b) {
            (DataRoom::Clients(mut mine), DataRoom::Clients(theirs)) => {
                mine.extend(theirs);
                DataRoom::Clients(mine)
            }
            _ => DataRoom::Global,
        })
}

/// Every right `grants` hold, in SPEC order, each with where it holds (SPEC §12
/// `GET /principal/v1/permissions`).
pub fn effective_rights(grants: &[RoleGrant]) -> Vec<(Right, DataRoom)> {
    Right::ALL
        .iter()
        .filter_map(|r| data_room_of(grants, *r).map(|room| (*r, room)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn clients(ids: &[&str]) -> DataRoom {
        DataRoom::Clients(ids.iter().filter_map(|s| ExtId::parse(s)).collect())
    }

    fn grant(role: Role, room: DataRoom) -> RoleGrant {
        RoleGrant::new(role, room)
    }

    const VIEW_MODIFY: [Right; 2] = [Right::CredentialView, Right::CredentialModify];

    fn target(client: &str) -> Target<'_> {
        Target {
            client: Some(client),
            is_caller_itself: false,
        }
    }

    #[test]
    fn root_is_allowed_everywhere() {
        let g = [grant(Role::Root, clients(&["a"]))];
        assert_eq!(g[0].data_room, DataRoom::Global);
        assert_eq!(
            authorize(&g, Requirement::rights(&VIEW_MODIFY), target("zzz")),
            Ok(AccessMode::Rights)
        );
        let none = Target {
            client: None,
            is_caller_itself: false,
        };
        assert_eq!(
            authorize(&g, Requirement::rights(&[Right::ClientCreate]), none),
            Ok(AccessMode::Rights)
        );
    }

    #[test]
    fn missing_right_names_the_first_unheld_right_in_listed_order() {
        let g = [grant(Role::Helpdesk, DataRoom::Global)];
        let need = [
            Right::CredentialView,
            Right::CredentialCreate,
            Right::UserCreate,
        ];
        assert_eq!(
            authorize(&g, Requirement::rights(&need), target("a")),
            Err(DomainError::MissingRight(Right::CredentialCreate))
        );
    }

    #[test]
    fn data_room_denial_when_every_right_is_held_elsewhere() {
        let g = [grant(Role::Helpdesk, clients(&["a"]))];
        assert_eq!(
            authorize(&g, Requirement::rights(&VIEW_MODIFY), target("b")),
            Err(DomainError::DataRoomDenied(Right::CredentialView))
        );
        assert_eq!(
            authorize(&g, Requirement::rights(&VIEW_MODIFY), target("a")),
            Ok(AccessMode::Rights)
        );
    }

    #[test]
    fn rights_may_come_from_several_grants() {
        let g = [
            grant(Role::Helpdesk, clients(&["a"])),
            grant(Role::UserAdmin, clients(&["b"])),
        ];
        assert_eq!(
            authorize(&g, Requirement::rights(&[Right::UserCreate]), target("a")),
            Err(DomainError::DataRoomDenied(Right::UserCreate))
        );
    }

    #[test]
    fn self_admin_only_on_itself_and_only_where_allowed() {
        let g = [grant(Role::SelfAdmin, DataRoom::Global)];
        let me = Target {
            client: Some("a"),
            is_caller_itself: true,
        };
        assert_eq!(
            authorize(&g, Requirement::rights_or_self(&[Right::UserView]), me),
            Ok(AccessMode::SelfAdmin)
        );
        assert_eq!(
            authorize(&g, Requirement::rights(&[Right::UserView]), me),
            Err(DomainError::MissingRight(Right::UserView))
        );
        assert_eq!(
            authorize(
                &g,
                Requirement::rights_or_self(&[Right::UserView]),
                target("a")
            ),
            Err(DomainError::MissingRight(Right::UserView))
        );
    }

    #[test]
    fn client_less_endpoints_need_a_global_grant() {
        let g = [grant(Role::ClientRoot, clients(&["a"]))];
        let none = Target {
            client: None,
            is_caller_itself: false,
        };
        assert_eq!(
            authorize(&g, Requirement::rights(&[Right::ClientView]), none),
            Err(DomainError::DataRoomDenied(Right::ClientView))
        );
    }

    #[test]
    fn granting_stays_within_own_rights_and_rooms() {
        let admin = [grant(Role::ClientRoot, clients(&["a", "b"]))];
        assert!(may_grant(&admin, &grant(Role::Helpdesk, clients(&["a"]))).is_ok());
        assert!(may_grant(&admin, &grant(Role::UserAdmin, clients(&["a", "b"]))).is_ok());
        assert_eq!(
            may_grant(&admin, &grant(Role::Helpdesk, clients(&["c"]))),
            Err(DomainError::PrivilegeEscalation)
        );
        assert_eq!(
            may_grant(&admin, &grant(Role::Helpdesk, DataRoom::Global)),
            Err(DomainError::PrivilegeEscalation)
        );
        assert_eq!(
            may_grant(&admin, &grant(Role::Root, DataRoom::Global)),
            Err(DomainError::PrivilegeEscalation)
        );
        let root = [grant(Role::Root, DataRoom::Global)];
        assert!(may_grant(&root, &grant(Role::Root, DataRoom::Global)).is_ok());
        let helpdesk = [grant(Role::Helpdesk, DataRoom::Global)];
        assert_eq!(
            may_grant(&helpdesk, &grant(Role::UserAdmin, DataRoom::Global)),
            Err(DomainError::PrivilegeEscalation)
        );
    }

    #[test]
    fn roles_parse_and_print() {
        for role in [
            Role::Root,
            Role::ClientRoot,
            Role::UserAdmin,
            Role::Helpdesk,
            Role::SelfAdmin,
        ] {
            assert_eq!(role.as_str().parse::<Role>(), Ok(role));
        }
        assert_eq!(
            "Admin".parse::<Role>(),
            Err(DomainError::UnknownRole("Admin".into()))
        );
    }

    #[test]
    fn section_12_rights_and_roles() {
        assert_eq!(Right::ALL.len(), 18);
        assert_eq!(Role::Root.rights(), &Right::ALL);
        let client_root: Vec<Right> = Right::ALL
            .into_iter()
            .filter(|r| *r != Right::ClientCreate)
            .collect();
        assert_eq!(Role::ClientRoot.rights(), client_root.as_slice());
        assert!(Role::UserAdmin.rights().contains(&Right::UserDelete));
        for r in [Right::ClientModify, Right::AuditView, Right::ClientView] {
            assert!(!Role::UserAdmin.rights().contains(&r), "{r}");
        }
        for r in [Right::UserDelete, Right::ClientModify, Right::AuditView] {
            assert!(!Role::Helpdesk.rights().contains(&r), "{r}");
            assert_eq!(format!("{r}"), format!("{r:?}"));
        }
    }

    #[test]
    fn effective_rights_merge_the_data_rooms_of_every_grant() {
        let g = [
            grant(Role::Helpdesk, clients(&["a"])),
            grant(Role::UserAdmin, clients(&["b"])),
            grant(Role::SelfAdmin, DataRoom::Global),
        ];
        let rights = effective_rights(&g);
        let of = |r: Right| rights.iter().find(|(x, _)| *x == r).map(|(_, d)| d.clone());
        assert_eq!(of(Right::UserView), Some(clients(&["a", "b"])));
        assert_eq!(of(Right::UserDelete), Some(clients(&["b"])));
        assert_eq!(of(Right::ClientView), None);
        let order: Vec<Right> = rights.iter().map(|(r, _)| *r).collect();
        let mut sorted = order.clone();
        sorted.sort_by_key(|r| Right::ALL.iter().position(|x| x == r));
        assert_eq!(order, sorted, "SPEC order");

        let mixed = [
            grant(Role::ClientRoot, clients(&["a"])),
            grant(Role::Helpdesk, DataRoom::Global),
        ];
        assert_eq!(
            data_room_of(&mixed, Right::UserView),
            Some(DataRoom::Global)
        );
        assert_eq!(
            data_room_of(&mixed, Right::ClientView),
            Some(clients(&["a"]))
        );
        assert!(effective_rights(&[grant(Role::SelfAdmin, DataRoom::Global)]).is_empty());
        assert_eq!(
            effective_rights(&[grant(Role::Root, DataRoom::Global)]).len(),
            18
        );
    }
}
