//! `UserRepo` over the `users` table.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::expression::BoxableExpression;
use diesel::prelude::*;
use diesel::sql_types::{Bool, Nullable, Text};
use idm_domain::paging::PageRequest;
use idm_domain::user::{Contacts, PersonName, User};
use idm_ports::error::StoreError;
use idm_ports::repos::{UserListFilter, UserRepo};

use crate::errors::{RepoError, RepoResult};
use crate::schema::users;
use crate::time::{from_db, from_db_opt, to_db, to_db_opt};
use crate::{savepoint, Db, DbConnection, DieselRepos};

diesel::define_sql_function! {
    /// SQL `lower()`: the case folding of the user list's filters and of its indexes
    /// (`ix_users_*_lower`), the same expression on both sides so the indexes apply.
    fn lower(x: Nullable<Text>) -> Nullable<Text>;
}

/// A condition on `users` of a boxed query.
type Condition = Box<dyn BoxableExpression<users::table, Db, SqlType = Nullable<Bool>>>;

diesel::infix_operator!(PatternGe, " ~>=~ ");
diesel::infix_operator!(PatternLt, " ~<~ ");

/// `$column` (a `Nullable<Text>` expression) starts with `$prefix`, ignoring case, as the range
/// `[lower(prefix), lower(prefix) || U+10FFFF)` of the expression index
/// `(client_id, lower(column))`, compared byte by byte so the range is exactly the prefix: on
/// PostgreSQL with the pattern operators `~>=~`/`~<~` of the indexes' `text_pattern_ops`
/// (whatever the database collation, and usable by a prepared statement's generic plan, unlike
/// a `LIKE` with a bound pattern), on SQLite with `>=`/`<` in its `BINARY` order. `%`, `_` and
/// `\` are ordinary characters.
macro_rules! starts_with {
    ($postgres:expr, $column:expr, $prefix:expr) => {{
        let from = || lower(Some($prefix.to_owned()));
        let to = || lower(Some(format!("{}\u{10FFFF}", $prefix)));
        let condition: Condition = if $postgres {
            Box::new(
                PatternGe::new(lower($column), from()).and(PatternLt::new(lower($column), to())),
            )
        } else {
            Box::new(lower($column).ge(from()).and(lower($column).lt(to())))
        };
        condition
    }};
}

/// How many users of a prefix make it "common" on SQLite (see [`common_prefix`]).
const COMMON_PREFIX: i64 = 1_000;

/// SQLite only: whether at least [`COMMON_PREFIX`] users of the client have a loginId, family
/// name or e-mail starting with `prefix` (bounded index-range probes, no sort). SQLite's planner
/// cannot tell (its range estimates are fixed guesses), and the plan it picks — the three
/// expression-index ranges, then a sort of every match — costs a sort of the whole table for a
/// prefix most users share, where paging through `ix_users_page` and filtering stops after one
/// page. PostgreSQL decides this itself from its statistics.
fn common_prefix(conn: &mut DbConnection, client_id: &str, prefix: &str) -> RepoResult<bool> {
    let mut seen = 0;
    for column in 0..3 {
        let range = users::table
            .filter(users::client_id.eq(client_id.to_owned()))
            .into_boxed::<Db>();
        let range = match column {
            0 => range.filter(starts_with!(false, users::login_id.nullable(), prefix)),
            1 => range.filter(starts_with!(false, users::family_name, prefix)),
            _ => range.filter(starts_with!(false, users::email, prefix)),
        };
        let ids: Vec<String> = range
            .select(users::id)
            .limit(COMMON_PREFIX - seen)
            .load(conn)?;
        seen += ids.len() as i64;
        if seen >= COMMON_PREFIX {
            return Ok(true);
        }
    }
    Ok(false)
}

/// `$column` starts with `$prefix`, ignoring case, in a form no index serves (`lower(column ||
/// '')` is not the indexes' expression): for a [`common_prefix`] on SQLite, which then pages
/// through `ix_users_page` and filters.
macro_rules! starts_with_unindexed {
    ($column:expr, $prefix:expr) => {{
        let folded = || lower($column.concat(""));
        let condition: Condition = Box::new(
            folded()
                .ge(lower(Some($prefix.to_owned())))
                .and(folded().lt(lower(Some(format!("{}\u{10FFFF}", $prefix))))),
        );
        condition
    }};
}

/// One keyset page of the client's users matching `filter` (see `UserRepo::list_by_client`).
fn list_page(
    conn: &mut DbConnection,
    client_id: &str,
    filter: &UserListFilter,
    page: &PageRequest,
) -> RepoResult<Vec<User>> {
    let postgres = matches!(conn, DbConnection::Pg(_));
    let mut query = users::table
        .filter(users::client_id.eq(client_id.to_owned()))
        .into_boxed::<Db>();
    if let Some(login_id) = &filter.login_id {
        query = query.filter(users::login_id.eq(login_id.clone()));
    }
    if let Some(email) = &filter.email {
        query = query.filter(lower(users::email).eq(lower(Some(email.clone()))));
    }
    if let Some(state) = filter.state {
        query = query.filter(users::user_state.eq(state.as_str()));
    }
    if let Some(prefix) = &filter.prefix {
        let any: Condition = if !postgres && common_prefix(conn, client_id, prefix)? {
            Box::new(
                starts_with_unindexed!(users::login_id.nullable(), prefix)
                    .or(starts_with_unindexed!(users::family_name, prefix))
                    .or(starts_with_unindexed!(users::email, prefix)),
            )
        } else {
            // Each branch repeats the client, so each is an index range of its own (an OR of
            // index scans on both backends).
            let in_client = || users::client_id.eq(client_id.to_owned()).nullable();
            Box::new(
                in_client()
                    .and(starts_with!(postgres, users::login_id.nullable(), prefix))
                    .or(in_client().and(starts_with!(postgres, users::family_name, prefix)))
                    .or(in_client().and(starts_with!(postgres, users::email, prefix))),
            )
        };
        query = query.filter(any);
    }
    if let Some(after) = &page.after {
        // `created >= c` first: a range on `ix_users_page (client_id, created, ext_id)`.
        let created = to_db(after.created);
        query = query.filter(
            users::created.ge(created).and(
                users::created
                    .gt(created)
                    .or(users::ext_id.gt(after.ext_id.clone())),
            ),
        );
    }
    let rows = query
        .order((users::created.asc(), users::ext_id.asc()))
        .limit(i64::from(page.limit) + 1)
        .select(UserRow::as_select())
        .load(conn);
    load(rows)
}

/// One page of a user search (SPEC §14, see `UserRepo::search` and `crate::user_search`) and
/// the exact number of matches: counted by the database, unless the page itself shows it (a
/// short, non-empty page, or a short first page), which saves the count.
fn search_page(
    conn: &mut DbConnection,
    client_id: &str,
    query: &idm_ports::user_query::UserQuery,
    offset: u64,
    limit: u32,
) -> RepoResult<(Vec<User>, u64)> {
    use idm_ports::user_query::UserQuery;
    let postgres = matches!(conn, DbConnection::Pg(_));
    let matching = || {
        let q = users::table
            .filter(users::client_id.eq(client_id.to_owned()))
            .into_boxed::<Db>();
        if *query == UserQuery::All {
            q
        } else {
            q.filter(crate::user_search::condition(postgres, client_id, query))
        }
    };
    let rows = if limit == 0 {
        Vec::new()
    } else {
        load(
            matching()
                .order((users::created.asc(), users::ext_id.asc()))
                .limit(i64::from(limit))
                .offset(i64::try_from(offset).unwrap_or(i64::MAX))
                .select(UserRow::as_select())
                .load(conn),
        )?
    };
    let shown = rows.len() as u64;
    let total = if limit > 0 && shown < u64::from(limit) && (shown > 0 || offset == 0) {
        offset + shown
    } else {
        let n: i64 = matching().count().get_result(conn)?;
        u64::try_from(n).unwrap_or_default()
    };
    Ok((rows, total))
}

/// A `users` row; the changeset of an update writes every column but the id.
#[derive(Debug, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = users, treat_none_as_null = true)]
pub(crate) struct UserRow {
    id: String,
    client_id: String,
    ext_id: String,
    login_id: String,
    user_state: String,
    language_code: String,
    is_technical_user: bool,
    title: Option<String>,
    first_name: Option<String>,
    family_name: Option<String>,
    email: Option<String>,
    mobile: Option<String>,
    last_login: Option<NaiveDateTime>,
    last_login_failure: Option<NaiveDateTime>,
    created: NaiveDateTime,
    last_modified: NaiveDateTime,
    version: i64,
    external_id: Option<String>,
}

impl UserRow {
    fn from_domain(u: &User) -> Self {
        UserRow {
            id: u.id.clone(),
            client_id: u.client_id.clone(),
            ext_id: u.ext_id.to_string(),
            login_id: u.login_id.clone(),
            user_state: u.state.as_str().to_owned(),
            language_code: u.language.as_str().to_owned(),
            is_technical_user: u.is_technical_user,
            title: u.name.title.clone(),
            first_name: u.name.first_name.clone(),
            family_name: u.name.family_name.clone(),
            email: u.contacts.email.clone(),
            mobile: u.contacts.mobile.clone(),
            last_login: to_db_opt(u.last_login),
            last_login_failure: to_db_opt(u.last_login_failure),
            created: to_db(u.created),
            last_modified: to_db(u.last_modified),
            version: u.version,
            external_id: u.external_id.clone(),
        }
    }

    pub(crate) fn into_domain(self) -> RepoResult<User> {
        Ok(User {
            id: self.id,
            client_id: self.client_id,
            ext_id: crate::parse_ext_id(&self.ext_id)?,
            login_id: self.login_id,
            external_id: self.external_id,
            state: self
                .user_state
                .parse()
                .map_err(|_| bad("user_state", &self.user_state))?,
            language: self
                .language_code
                .parse()
                .map_err(|_| bad("language_code", &self.language_code))?,
            is_technical_user: self.is_technical_user,
            name: PersonName {
                title: self.title,
                first_name: self.first_name,
                family_name: self.family_name,
            },
            contacts: Contacts {
                email: self.email,
                mobile: self.mobile,
            },
            last_login: from_db_opt(self.last_login),
            last_login_failure: from_db_opt(self.last_login_failure),
            created: from_db(self.created),
            last_modified: from_db(self.last_modified),
            version: self.version,
        })
    }
}

fn bad(column: &str, value: &str) -> RepoError {
    RepoError::Data(format!("users.{column} = '{value}'"))
}

fn load(rows: QueryResult<Vec<UserRow>>) -> RepoResult<Vec<User>> {
    rows?.into_iter().map(UserRow::into_domain).collect()
}

fn first(rows: QueryResult<Option<UserRow>>) -> RepoResult<Option<User>> {
    rows?.map(UserRow::into_domain).transpose()
}

impl UserRepo for DieselRepos<'_> {
    fn insert(&mut self, user: &User) -> Result<(), StoreError> {
        let row = UserRow::from_domain(user);
        let r = savepoint(self.conn, |c| {
            diesel::insert_into(users::table).values(&row).execute(c)?;
            Ok(())
        });
        self.done_guarded(r)
    }

    fn find_by_ext_id(
        &mut self,
        client_id: &str,
        ext_id: &str,
    ) -> Result<Option<User>, StoreError> {
        let rows = users::table
            .filter(users::client_id.eq(client_id))
            .filter(users::ext_id.eq(ext_id))
            .select(UserRow::as_select())
            .first(self.conn)
            .optional();
        let r = first(rows);
        self.done(r)
    }

    fn find_by_login_id(
        &mut self,
        client_id: &str,
        login_id: &str,
    ) -> Result<Option<User>, StoreError> {
        let rows = users::table
            .filter(users::client_id.eq(client_id))
            .filter(users::login_id.eq(login_id))
            .select(UserRow::as_select())
            .first(self.conn)
            .optional();
        let r = first(rows);
        self.done(r)
    }

    fn find_by_login_id_anywhere(
        &mut self,
        login_id: &str,
        limit: u32,
    ) -> Result<Vec<User>, StoreError> {
        let rows = users::table
            .filter(users::login_id.eq(login_id))
            .order((users::created.asc(), users::id.asc()))
            .limit(i64::from(limit))
            .select(UserRow::as_select())
            .load(self.conn);
        let r = load(rows);
        self.done(r)
    }

    fn update(&mut self, user: &User, expected_version: i64) -> Result<(), StoreError> {
        let row = UserRow::from_domain(user);
        let r = savepoint(self.conn, |c| {
            let n = diesel::update(
                users::table
                    .filter(users::id.eq(&user.id))
                    .filter(users::version.eq(expected_version)),
            )
            .set(&row)
            .execute(c)?;
            crate::changed(n)
        });
        self.done_guarded(r)
    }

    fn list_by_client(
        &mut self,
        client_id: &str,
        filter: &UserListFilter,
        page: &PageRequest,
    ) -> Result<Vec<User>, StoreError> {
        let r = list_page(self.conn, client_id, filter, page);
        self.done(r)
    }

    fn search(
        &mut self,
        client_id: &str,
        query: &idm_ports::user_query::UserQuery,
        offset: u64,
        limit: u32,
    ) -> Result<(Vec<User>, u64), StoreError> {
        let r = search_page(self.conn, client_id, query, offset, limit);
        self.done(r)
    }

    fn delete(&mut self, id: &str) -> Result<bool, StoreError> {
        use crate::schema::{credentials, delivery_outbox, role_grants, vasco_tokens};
        let r = savepoint(self.conn, |c| {
            // The user's row first, locked until the transaction ends: a concurrent insert that
            // refers to it (a credential, a grant, a delivery) waits for its foreign-key check
            // and then fails (`Conflict`), or, if it came first, is deleted below with the rest.
            // (SQLite's write transaction already excludes every other writer.)
            if let DbConnection::Pg(pg) = c {
                users::table
                    .filter(users::id.eq(id))
                    .select(users::id)
                    .for_update()
                    .load::<String>(pg)?;
            }
            // SPEC §12's cascade, explicit so it does not depend on foreign-key enforcement:
            // pending deliveries, grants, the user's own credentials (VASCO ones go back to
            // stock, state `initial`), then the user.
            diesel::delete(delivery_outbox::table.filter(delivery_outbox::user_id.eq(id)))
                .execute(c)?;
            diesel::delete(role_grants::table.filter(role_grants::user_id.eq(id))).execute(c)?;
            diesel::update(
                credentials::table
                    .filter(credentials::user_id.eq(id))
                    .filter(credentials::credential_type.eq("Vasco")),
            )
            .set((
                credentials::user_id.eq(None::<String>),
                credentials::state.eq("initial"),
                credentials::version.eq(credentials::version + 1),
            ))
            .execute(c)?;
            let owned = credentials::table
                .filter(credentials::user_id.eq(id))
                .select(credentials::id);
            diesel::delete(vasco_tokens::table.filter(vasco_tokens::credential_id.eq_any(owned)))
                .execute(c)?;
            diesel::delete(credentials::table.filter(credentials::user_id.eq(id))).execute(c)?;
            let n = diesel::delete(users::table.filter(users::id.eq(id))).execute(c)?;
            Ok(n > 0)
        });
        self.done_guarded(r)
    }

    fn record_login(
        &mut self,
        user_id: &str,
        success: bool,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let at = to_db(at);
        let target = users::table.filter(users::id.eq(user_id));
        let bump = (
            users::last_modified.eq(at),
            users::version.eq(users::version + 1),
        );
        // One statement: the row lock of the UPDATE serializes concurrent reports, and
        // `version + 1` is evaluated on the latest row, so none is lost or conflicts.
        // An unknown user matches no row, which is not an error.
        let r = savepoint(self.conn, |c| {
            if success {
                diesel::update(target)
                    .set((users::last_login.eq(at), bump))
                    .execute(c)?;
            } else {
                diesel::update(target)
                    .set((users::last_login_failure.eq(at), bump))
                    .execute(c)?;
            }
            Ok(())
        });
        self.done_guarded(r)
    }

    fn find_by_id(&mut self, id: &str) -> Result<Option<User>, StoreError> {
        let rows = users::table
            .filter(users::id.eq(id))
            .select(UserRow::as_select())
            .first(self.conn)
            .optional();
        let r = first(rows);
        self.done(r)
    }
}
