//! `RoleRepo` over the `role_grants` table; a data room is a JSON array of client extIds,
//! `NULL` meaning global.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use idm_domain::access::{DataRoom, Role, RoleGrant};
use idm_ports::error::StoreError;
use idm_ports::repos::RoleRepo;

use crate::errors::{RepoError, RepoResult};
use crate::schema::role_grants;
use crate::time::to_db;
use crate::{savepoint, DieselRepos};

fn encode(room: &DataRoom) -> RepoResult<Option<String>> {
    match room {
        DataRoom::Global => Ok(None),
        DataRoom::Clients(set) => {
            let ids: Vec<&str> = set.iter().map(|c| c.as_str()).collect();
            serde_json::to_string(&ids)
                .map(Some)
                .map_err(|e| RepoError::Data(format!("data room: {e}")))
        }
    }
}

fn decode(role: &str, room: Option<String>) -> RepoResult<RoleGrant> {
    let role: Role = role
        .parse()
        .map_err(|_| RepoError::Data(format!("role_grants.role = '{role}'")))?;
    let data_room = match room {
        None => DataRoom::Global,
        Some(json) => {
            let ids: Vec<String> = serde_json::from_str(&json)
                .map_err(|e| RepoError::Data(format!("role_grants.client_ext_ids: {e}")))?;
            let set = ids
                .iter()
                .map(|id| crate::parse_ext_id(id))
                .collect::<RepoResult<BTreeSet<_>>>()?;
            DataRoom::Clients(set)
        }
    };
    Ok(RoleGrant { role, data_room })
}

impl RoleRepo for DieselRepos<'_> {
    fn grants_of_user(&mut self, user_id: &str) -> Result<Vec<RoleGrant>, StoreError> {
        let r = role_grants::table
            .filter(role_grants::user_id.eq(user_id))
            .order((role_grants::created.asc(), role_grants::role.asc()))
            .select((role_grants::role, role_grants::client_ext_ids))
            .load::<(String, Option<String>)>(self.conn)
            .map_err(RepoError::from)
            .and_then(|rows| {
                rows.into_iter()
                    .map(|(role, room)| decode(&role, room))
                    .collect()
            });
        self.done(r)
    }

    fn upsert_grant(
        &mut self,
        user_id: &str,
        grant: &RoleGrant,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let r = encode(&grant.data_room).and_then(|room| {
            savepoint(self.conn, |c| {
                let role = grant.role.as_str();
                let updated = diesel::update(
                    role_grants::table
                        .filter(role_grants::user_id.eq(user_id))
                        .filter(role_grants::role.eq(role)),
                )
                .set(role_grants::client_ext_ids.eq(room.as_deref()))
                .execute(c)?;
                if updated == 0 {
                    // One row per (user, role), so the pair is a stable surrogate key.
                    diesel::insert_into(role_grants::table)
                        .values((
                            role_grants::id.eq(format!("{user_id}/{role}")),
                            role_grants::user_id.eq(user_id),
                            role_grants::role.eq(role),
                            role_grants::client_ext_ids.eq(room.as_deref()),
                            role_grants::created.eq(to_db(now)),
                        ))
                        .execute(c)?;
                }
                Ok(())
            })
        });
        self.done_guarded(r)
    }

    fn active_root_users_for_update(&mut self) -> Result<Vec<String>, StoreError> {
        use crate::schema::users;
        let r = (|| -> RepoResult<Vec<String>> {
            if let crate::DbConnection::Pg(pg) = &mut *self.conn {
                // Lock every Root grant: two removals of the last two Roots serialize here
                // (SQLite's write transaction already serializes every writer).
                diesel::sql_query("SELECT id FROM role_grants WHERE role = 'Root' FOR UPDATE")
                    .execute(pg)?;
            }
            Ok(role_grants::table
                .inner_join(users::table)
                .filter(role_grants::role.eq(Role::Root.as_str()))
                .filter(users::user_state.eq("active"))
                .select(users::id)
                .load::<String>(self.conn)?)
        })();
        self.done(r)
    }

    fn delete_grant(&mut self, user_id: &str, role: Role) -> Result<bool, StoreError> {
        let r = diesel::delete(
            role_grants::table
                .filter(role_grants::user_id.eq(user_id))
                .filter(role_grants::role.eq(role.as_str())),
        )
        .execute(self.conn)
        .map(|n| n > 0)
        .map_err(RepoError::from);
        self.done(r)
    }
}
