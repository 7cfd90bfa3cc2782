//! `CredentialRepo` over `credentials` (all types in one table; the OATH columns and the
//! password hash are `NULL` for other types) and `vasco_tokens`.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::sql_types::Text;
use idm_domain::credential::{
    Credential, CredentialSecret, CredentialType, OathDetails, VascoToken,
};
use idm_domain::paging::PageRequest;
use idm_ports::error::StoreError;
use idm_ports::repos::{CredentialRecord, CredentialRepo};

use crate::errors::{RepoError, RepoResult};
use crate::schema::{credentials, policies, users, vasco_tokens};
use crate::time::{from_db, from_db_opt, to_db, to_db_opt};
use crate::{savepoint, Db, DbConnection, DieselRepos};

/// A `credentials` row; the changeset of an update writes every column but the id.
#[derive(Debug, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = credentials, treat_none_as_null = true)]
struct CredentialRow {
    id: String,
    client_id: String,
    user_id: Option<String>,
    ext_id: String,
    credential_type: String,
    policy_id: String,
    state: String,
    state_change_reason: String,
    state_change_detail: Option<String>,
    last_successful_login: Option<NaiveDateTime>,
    successful_login_count: i64,
    last_failed_login: Option<NaiveDateTime>,
    failed_login_count: i64,
    modification_comment: Option<String>,
    validity_from: NaiveDateTime,
    validity_to: NaiveDateTime,
    locked_until: Option<NaiveDateTime>,
    reset_count: i64,
    password_hash: Option<String>,
    oath_issuer: Option<String>,
    oath_method: Option<String>,
    oath_algorithm: Option<String>,
    oath_digits: Option<i32>,
    oath_period: Option<i32>,
    oath_counter: Option<i64>,
    oath_secret: Option<String>,
    oath_label: Option<String>,
    created: NaiveDateTime,
    last_modified: NaiveDateTime,
    version: i64,
    secret_epoch: i64,
    pending_attempts: i64,
    pending_until: Option<NaiveDateTime>,
}

/// A `vasco_tokens` row.
#[derive(Debug, Insertable)]
#[diesel(table_name = vasco_tokens)]
struct TokenRow<'a> {
    credential_id: &'a str,
    position: i32,
    auth_mode: &'a str,
    data: &'a str,
}

impl CredentialRow {
    fn from_domain(c: &Credential) -> Self {
        let mut row = CredentialRow {
            id: c.id.clone(),
            client_id: c.client_id.clone(),
            user_id: c.user_id.clone(),
            ext_id: c.ext_id.to_string(),
            credential_type: c.credential_type().as_str().to_owned(),
            policy_id: c.policy_id.clone(),
            state: c.state.as_str().to_owned(),
            state_change_reason: c.state_change_reason.as_str().to_owned(),
            state_change_detail: c.state_change_detail.clone(),
            last_successful_login: to_db_opt(c.last_successful_login),
            successful_login_count: c.successful_login_count,
            last_failed_login: to_db_opt(c.last_failed_login),
            failed_login_count: c.failed_login_count,
            modification_comment: c.modification_comment.clone(),
            validity_from: to_db(c.validity_from),
            validity_to: to_db(c.validity_to),
            locked_until: to_db_opt(c.locked_until),
            reset_count: c.reset_count,
            password_hash: None,
            oath_issuer: None,
            oath_method: None,
            oath_algorithm: None,
            oath_digits: None,
            oath_period: None,
            oath_counter: None,
            oath_secret: None,
            oath_label: None,
            created: to_db(c.created),
            last_modified: to_db(c.last_modified),
            version: c.version,
            secret_epoch: c.epoch,
            pending_attempts: c.pending_attempts,
            pending_until: to_db_opt(c.pending_until),
        };
        match &c.secret {
            CredentialSecret::Password { hash } => row.password_hash = Some(hash.clone()),
            CredentialSecret::Oath(d) => {
                row.oath_issuer = Some(d.issuer.clone());
                row.oath_method = Some(d.authentication_method.clone());
                row.oath_algorithm = Some(d.hashing_algorithm.clone());
                row.oath_digits = Some(d.digits);
                row.oath_period = Some(d.period);
                row.oath_counter = Some(d.counter);
                row.oath_secret = Some(d.encrypted_secret.clone());
                row.oath_label = Some(d.label.clone());
            }
            CredentialSecret::Vasco { .. } => {}
        }
        row
    }

    fn into_domain(self, tokens: Vec<VascoToken>) -> RepoResult<Credential> {
        let bad = |column: &str, value: &str| {
            RepoError::Data(format!("credentials.{column} = '{value}' (id {})", self.id))
        };
        let missing = |column: &str| {
            RepoError::Data(format!("credentials.{column} is NULL (id {})", self.id))
        };
        let kind: CredentialType = self
            .credential_type
            .parse()
            .map_err(|_| bad("credential_type", &self.credential_type))?;
        let secret = match kind {
            CredentialType::Password => CredentialSecret::Password {
                hash: self
                    .password_hash
                    .clone()
                    .ok_or_else(|| missing("password_hash"))?,
            },
            CredentialType::Vasco => CredentialSecret::Vasco { tokens },
            CredentialType::Oath => CredentialSecret::Oath(OathDetails {
                issuer: self
                    .oath_issuer
                    .clone()
                    .ok_or_else(|| missing("oath_issuer"))?,
                authentication_method: self
                    .oath_method
                    .clone()
                    .ok_or_else(|| missing("oath_method"))?,
                hashing_algorithm: self
                    .oath_algorithm
                    .clone()
                    .ok_or_else(|| missing("oath_algorithm"))?,
                digits: self.oath_digits.ok_or_else(|| missing("oath_digits"))?,
                period: self.oath_period.ok_or_else(|| missing("oath_period"))?,
                counter: self.oath_counter.ok_or_else(|| missing("oath_counter"))?,
                encrypted_secret: self
                    .oath_secret
                    .clone()
                    .ok_or_else(|| missing("oath_secret"))?,
                label: self
                    .oath_label
                    .clone()
                    .ok_or_else(|| missing("oath_label"))?,
            }),
        };
        let state = self.state.parse().map_err(|_| bad("state", &self.state))?;
        let state_change_reason = self
            .state_change_reason
            .parse()
            .map_err(|_| bad("state_change_reason", &self.state_change_reason))?;
        let ext_id = crate::parse_ext_id(&self.ext_id)?;
        Ok(Credential {
            id: self.id,
            client_id: self.client_id,
            user_id: self.user_id,
            ext_id,
            policy_id: self.policy_id,
            state,
            state_change_reason,
            state_change_detail: self.state_change_detail,
            last_successful_login: from_db_opt(self.last_successful_login),
            successful_login_count: self.successful_login_count,
            last_failed_login: from_db_opt(self.last_failed_login),
            failed_login_count: self.failed_login_count,
            modification_comment: self.modification_comment,
            validity_from: from_db(self.validity_from),
            validity_to: from_db(self.validity_to),
            locked_until: from_db_opt(self.locked_until),
            reset_count: self.reset_count,
            secret,
            created: from_db(self.created),
            last_modified: from_db(self.last_modified),
            version: self.version,
            epoch: self.secret_epoch,
            pending_attempts: self.pending_attempts,
            pending_until: from_db_opt(self.pending_until),
        })
    }
}

/// A credential row with the extIds of its policy and user.
type Joined = (CredentialRow, String, Option<String>);

/// Credentials joined with their policy and (optional) user, ready for filtering.
fn joined<'q>() -> diesel::dsl::IntoBoxed<
    'q,
    diesel::dsl::LeftJoin<
        diesel::dsl::InnerJoin<credentials::table, policies::table>,
        users::table,
    >,
    Db,
> {
    credentials::table
        .inner_join(policies::table)
        .left_join(users::table)
        .into_boxed()
}

fn tokens_of(conn: &mut DbConnection, credential_id: &str) -> RepoResult<Vec<VascoToken>> {
    let rows = vasco_tokens::table
        .filter(vasco_tokens::credential_id.eq(credential_id))
        .order(vasco_tokens::position.asc())
        .select((vasco_tokens::auth_mode, vasco_tokens::data))
        .load::<(String, String)>(conn)?;
    Ok(rows
        .into_iter()
        .map(|(auth_mode, data)| VascoToken { auth_mode, data })
        .collect())
}

fn record(
    conn: &mut DbConnection,
    (row, policy_ext_id, user_ext_id): Joined,
) -> RepoResult<CredentialRecord> {
    let tokens = if row.credential_type == CredentialType::Vasco.as_str() {
        tokens_of(conn, &row.id)?
    } else {
        Vec::new()
    };
    Ok(CredentialRecord {
        credential: row.into_domain(tokens)?,
        user_ext_id: user_ext_id
            .as_deref()
            .map(crate::parse_ext_id)
            .transpose()?,
        policy_ext_id: crate::parse_ext_id(&policy_ext_id)?,
    })
}

/// One keyset page of `query`: rows strictly after `page.after` in `(created, ext_id)` order,
/// up to `page.limit + 1` of them (the extra one tells the caller that another page follows).
fn load_page(
    conn: &mut DbConnection,
    mut query: diesel::dsl::IntoBoxed<
        '_,
        diesel::dsl::LeftJoin<
            diesel::dsl::InnerJoin<credentials::table, policies::table>,
            users::table,
        >,
        Db,
    >,
    page: &PageRequest,
) -> RepoResult<Vec<CredentialRecord>> {
    if let Some(after) = &page.after {
        let created = to_db(after.created);
        query = query.filter(
            credentials::created.gt(created).or(credentials::created
                .eq(created)
                .and(credentials::ext_id.gt(after.ext_id.clone()))),
        );
    }
    let rows = query
        .order((credentials::created.asc(), credentials::ext_id.asc()))
        .limit(i64::from(page.limit) + 1)
        .select((
            CredentialRow::as_select(),
            policies::ext_id,
            users::ext_id.nullable(),
        ))
        .load::<Joined>(conn)?;
    rows.into_iter().map(|row| record(conn, row)).collect()
}

fn insert_tokens(conn: &mut DbConnection, c: &Credential) -> RepoResult<()> {
    if let CredentialSecret::Vasco { tokens } = &c.secret {
        for (position, token) in tokens.iter().enumerate() {
            let position = i32::try_from(position)
                .map_err(|_| RepoError::Data("too many VASCO tokens".into()))?;
            diesel::insert_into(vasco_tokens::table)
                .values(TokenRow {
                    credential_id: &c.id,
                    position,
                    auth_mode: &token.auth_mode,
                    data: &token.data,
                })
                .execute(conn)?;
        }
    }
    Ok(())
}

/// Runs a `SELECT … FOR UPDATE` that locks credential rows until the transaction ends, on
/// PostgreSQL only: SQLite write transactions are `BEGIN IMMEDIATE` and so already exclude
/// every other writer.
fn lock_rows(
    conn: &mut DbConnection,
    select_for_update: impl FnOnce(&mut diesel::PgConnection) -> QueryResult<usize>,
) -> RepoResult<()> {
    if let DbConnection::Pg(pg) = conn {
        select_for_update(pg)?;
    }
    Ok(())
}

/// Locks the user's Password row until the transaction ends (see [`lock_rows`]).
fn lock_password_row(conn: &mut DbConnection, user_id: &str) -> RepoResult<()> {
    lock_rows(conn, |pg| {
        diesel::sql_query(
            "SELECT id FROM credentials WHERE user_id = $1 AND credential_type = 'Password' FOR UPDATE",
        )
        .bind::<Text, _>(user_id)
        .execute(pg)
    })
}

/// Locks the client's credential with this extId until the transaction ends (see
/// [`lock_rows`]).
fn lock_ext_id_row(conn: &mut DbConnection, client_id: &str, ext_id: &str) -> RepoResult<()> {
    lock_rows(conn, |pg| {
        diesel::sql_query(
            "SELECT id FROM credentials WHERE client_id = $1 AND ext_id = $2 FOR UPDATE",
        )
        .bind::<Text, _>(client_id)
        .bind::<Text, _>(ext_id)
        .execute(pg)
    })
}

/// The credential with this extId in the client, any type. Not boxed: its statement is
/// prepared once per connection and cached (every read of a credential runs it).
fn load_by_ext_id(
    conn: &mut DbConnection,
    client_id: &str,
    ext_id: &str,
) -> RepoResult<Option<CredentialRecord>> {
    let row: Option<Joined> = credentials::table
        .inner_join(policies::table)
        .left_join(users::table)
        .filter(credentials::client_id.eq(client_id))
        .filter(credentials::ext_id.eq(ext_id))
        .select((
            CredentialRow::as_select(),
            policies::ext_id,
            users::ext_id.nullable(),
        ))
        .first(conn)
        .optional()?;
    row.map(|r| record(conn, r)).transpose()
}

/// The user's Password credential; not boxed, so its statement is cached (every uncached
/// authentication and every password operation runs it).
pub(crate) fn load_password_of_user(
    conn: &mut DbConnection,
    user_id: &str,
) -> RepoResult<Option<CredentialRecord>> {
    let row: Option<Joined> = credentials::table
        .inner_join(policies::table)
        .left_join(users::table)
        .filter(credentials::user_id.eq(user_id))
        .filter(credentials::credential_type.eq("Password"))
        .select((
            CredentialRow::as_select(),
            policies::ext_id,
            users::ext_id.nullable(),
        ))
        .first(conn)
        .optional()?;
    row.map(|r| record(conn, r)).transpose()
}

impl CredentialRepo for DieselRepos<'_> {
    fn insert(&mut self, credential: &Credential) -> Result<(), StoreError> {
        let row = CredentialRow::from_domain(credential);
        let r = savepoint(self.conn, |c| {
            diesel::insert_into(credentials::table)
                .values(&row)
                .execute(c)?;
            insert_tokens(c, credential)
        });
        self.done_guarded(r)
    }

    fn find_by_ext_id(
        &mut self,
        client_id: &str,
        ext_id: &str,
    ) -> Result<Option<CredentialRecord>, StoreError> {
        let r = load_by_ext_id(self.conn, client_id, ext_id);
        self.done(r)
    }

    fn find_by_ext_id_for_update(
        &mut self,
        client_id: &str,
        ext_id: &str,
    ) -> Result<Option<CredentialRecord>, StoreError> {
        let r = lock_ext_id_row(self.conn, client_id, ext_id)
            .and_then(|()| load_by_ext_id(self.conn, client_id, ext_id));
        self.done(r)
    }

    fn find_password_of_user(
        &mut self,
        user_id: &str,
        lock: bool,
    ) -> Result<Option<CredentialRecord>, StoreError> {
        let r = (if lock {
            lock_password_row(self.conn, user_id)
        } else {
            Ok(())
        })
        .and_then(|()| load_password_of_user(self.conn, user_id));
        self.done(r)
    }

    fn list_by_user(
        &mut self,
        user_id: &str,
        page: &PageRequest,
    ) -> Result<Vec<CredentialRecord>, StoreError> {
        let query = joined().filter(credentials::user_id.eq(user_id.to_owned()));
        let r = load_page(self.conn, query, page);
        self.done(r)
    }

    fn update(&mut self, credential: &Credential, expected_version: i64) -> Result<(), StoreError> {
        let row = CredentialRow::from_domain(credential);
        let r = savepoint(self.conn, |c| {
            let n = diesel::update(
                credentials::table
                    .filter(credentials::id.eq(&credential.id))
                    .filter(credentials::version.eq(expected_version)),
            )
            .set(&row)
            .execute(c)?;
            crate::changed(n)?;
            if credential.credential_type() == CredentialType::Vasco {
                diesel::delete(
                    vasco_tokens::table.filter(vasco_tokens::credential_id.eq(&credential.id)),
                )
                .execute(c)?;
                insert_tokens(c, credential)?;
            }
            Ok(())
        });
        self.done_guarded(r)
    }

    fn list_of_type(
        &mut self,
        client_id: &str,
        user_id: Option<&str>,
        credential_type: CredentialType,
        page: &PageRequest,
    ) -> Result<Vec<CredentialRecord>, StoreError> {
        let mut query = joined()
            .filter(credentials::client_id.eq(client_id.to_owned()))
            .filter(credentials::credential_type.eq(credential_type.as_str()));
        // Without a user, every credential of the type in the client, unassigned VASCO
        // credentials (`user_id IS NULL`) included.
        if let Some(user_id) = user_id {
            query = query.filter(credentials::user_id.eq(user_id.to_owned()));
        }
        let r = load_page(self.conn, query, page);
        self.done(r)
    }

    fn oath_secrets(&mut self) -> Result<Vec<(String, String)>, StoreError> {
        let r = credentials::table
            .filter(credentials::credential_type.eq(CredentialType::Oath.as_str()))
            .filter(credentials::oath_secret.is_not_null())
            .select((credentials::id, credentials::oath_secret.assume_not_null()))
            .load::<(String, String)>(self.conn)
            .map_err(RepoError::from);
        self.done(r)
    }

    fn reseal_oath_secret(&mut self, id: &str, sealed: &str) -> Result<(), StoreError> {
        let r = diesel::update(credentials::table.filter(credentials::id.eq(id)))
            .set(credentials::oath_secret.eq(sealed))
            .execute(self.conn)
            .map(|_| ())
            .map_err(RepoError::from);
        self.done(r)
    }

    fn delete(&mut self, id: &str) -> Result<bool, StoreError> {
        let r = savepoint(self.conn, |c| {
            // `vasco_tokens` would also go by `ON DELETE CASCADE`; deleting them first keeps
            // the delete independent of the foreign-key enforcement of the connection.
            diesel::delete(vasco_tokens::table.filter(vasco_tokens::credential_id.eq(id)))
                .execute(c)?;
            // `delivery_outbox.credential_id` is `ON DELETE SET NULL` (both migrations): queued
            // deliveries stay, without their credential (see `DeliveryPort::pending`).
            let n = diesel::delete(credentials::table.filter(credentials::id.eq(id))).execute(c)?;
            Ok(n > 0)
        });
        self.done_guarded(r)
    }
}
