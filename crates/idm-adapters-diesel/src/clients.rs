//! `ClientRepo` over the `clients` table.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use idm_domain::client::Client;
use idm_domain::paging::PageRequest;
use idm_ports::error::StoreError;
use idm_ports::repos::ClientRepo;

use crate::errors::{RepoError, RepoResult};
use crate::schema::clients;
use crate::time::{from_db, to_db};
use crate::{savepoint, Db, DbConnection, DieselRepos};

/// A `clients` row.
#[derive(Debug, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = clients)]
pub(crate) struct ClientRow {
    id: String,
    ext_id: String,
    name: String,
    created: NaiveDateTime,
    last_modified: NaiveDateTime,
    version: i64,
}

impl ClientRow {
    fn from_domain(c: &Client) -> Self {
        ClientRow {
            id: c.id.clone(),
            ext_id: c.ext_id.to_string(),
            name: c.name.clone(),
            created: to_db(c.created),
            last_modified: to_db(c.last_modified),
            version: c.version,
        }
    }

    pub(crate) fn into_domain(self) -> RepoResult<Client> {
        Ok(Client {
            id: self.id,
            ext_id: crate::parse_ext_id(&self.ext_id)?,
            name: self.name,
            created: from_db(self.created),
            last_modified: from_db(self.last_modified),
            version: self.version,
        })
    }
}

fn find(
    conn: &mut DbConnection,
    filter: impl for<'q> FnOnce(clients::BoxedQuery<'q, Db>) -> clients::BoxedQuery<'q, Db>,
) -> RepoResult<Option<Client>> {
    let query = filter(clients::table.into_boxed());
    query
        .select(ClientRow::as_select())
        .first(conn)
        .optional()?
        .map(ClientRow::into_domain)
        .transpose()
}

impl ClientRepo for DieselRepos<'_> {
    fn insert(&mut self, client: &Client) -> Result<(), StoreError> {
        let row = ClientRow::from_domain(client);
        let r = savepoint(self.conn, |c| {
            diesel::insert_into(clients::table)
                .values(&row)
                .execute(c)?;
            Ok(())
        });
        self.done_guarded(r)
    }

    fn update(&mut self, client: &Client, expected_version: i64) -> Result<(), StoreError> {
        let row = ClientRow::from_domain(client);
        let r = savepoint(self.conn, |c| {
            let n = diesel::update(
                clients::table
                    .filter(clients::id.eq(&client.id))
                    .filter(clients::version.eq(expected_version)),
            )
            .set(&row)
            .execute(c)?;
            crate::changed(n)
        });
        self.done_guarded(r)
    }

    fn find_by_ext_id(&mut self, ext_id: &str) -> Result<Option<Client>, StoreError> {
        let r = find(self.conn, |q| {
            q.filter(clients::ext_id.eq(ext_id.to_owned()))
        });
        self.done(r)
    }

    fn find_by_name(&mut self, name: &str) -> Result<Option<Client>, StoreError> {
        let r = find(self.conn, |q| q.filter(clients::name.eq(name.to_owned())));
        self.done(r)
    }

    fn find_by_id(&mut self, id: &str) -> Result<Option<Client>, StoreError> {
        let r = find(self.conn, |q| q.filter(clients::id.eq(id.to_owned())));
        self.done(r)
    }

    fn list(
        &mut self,
        ext_ids: Option<&[String]>,
        page: &PageRequest,
    ) -> Result<Vec<Client>, StoreError> {
        let mut query = clients::table.into_boxed::<Db>();
        if let Some(ext_ids) = ext_ids {
            query = query.filter(clients::ext_id.eq_any(ext_ids.to_vec()));
        }
        if let Some(after) = &page.after {
            let created = to_db(after.created);
            query = query.filter(
                clients::created.ge(created).and(
                    clients::created
                        .gt(created)
                        .or(clients::ext_id.gt(after.ext_id.clone())),
                ),
            );
        }
        let r = query
            .order((clients::created.asc(), clients::ext_id.asc()))
            .limit(i64::from(page.limit) + 1)
            .select(ClientRow::as_select())
            .load(self.conn)
            .map_err(RepoError::from)
            .and_then(|rows| rows.into_iter().map(ClientRow::into_domain).collect());
        self.done(r)
    }

    fn any_exists(&mut self) -> Result<bool, StoreError> {
        let r: RepoResult<bool> = clients::table
            .select(clients::id)
            .first::<String>(self.conn)
            .optional()
            .map(|row| row.is_some())
            .map_err(RepoError::from);
        self.done(r)
    }
}
