//! `MetaRepo` over the `server_meta` table: facts about the database itself.

use diesel::prelude::*;
use idm_ports::error::StoreError;
use idm_ports::repos::MetaRepo;

use crate::schema::server_meta;
use crate::{savepoint, DieselRepos};

impl MetaRepo for DieselRepos<'_> {
    fn get(&mut self, name: &str) -> Result<Option<String>, StoreError> {
        let r = server_meta::table
            .filter(server_meta::name.eq(name))
            .select(server_meta::value)
            .first::<String>(self.conn)
            .optional()
            .map_err(Into::into);
        self.done(r)
    }

    fn put(&mut self, name: &str, value: &str) -> Result<(), StoreError> {
        let r = savepoint(self.conn, |c| {
            let updated = diesel::update(server_meta::table.filter(server_meta::name.eq(name)))
                .set(server_meta::value.eq(value))
                .execute(c)?;
            if updated == 0 {
                diesel::insert_into(server_meta::table)
                    .values((server_meta::name.eq(name), server_meta::value.eq(value)))
                    .execute(c)?;
            }
            Ok(())
        });
        self.done_guarded(r)
    }

    fn insert_if_absent(&mut self, name: &str, value: &str) -> Result<bool, StoreError> {
        let r = savepoint(self.conn, |c| {
            let present = server_meta::table
                .filter(server_meta::name.eq(name))
                .count()
                .get_result::<i64>(c)?
                > 0;
            if present {
                return Ok(false);
            }
            diesel::insert_into(server_meta::table)
                .values((server_meta::name.eq(name), server_meta::value.eq(value)))
                .execute(c)?;
            Ok(true)
        });
        self.done_guarded(r)
    }
}
