//! `HistoryRepo` over `history_events` and its single-row chain head `history_head`.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use idm_ports::error::StoreError;
use idm_ports::history::{
    action_name, actor_from_json, actor_json, EventFilter, NewEvent, Outcome, StoredEvent,
};
use idm_ports::permit::Actor;
use idm_ports::repos::HistoryRepo;

use crate::errors::{RepoError, RepoResult};
use crate::schema::{history_events, history_head};
use crate::time::{from_db, to_db};
use crate::DieselRepos;

impl HistoryRepo for DieselRepos<'_> {
    fn head_for_update(&mut self) -> Result<(i64, String), StoreError> {
        let r = (|| -> RepoResult<(i64, String)> {
            if let crate::DbConnection::Pg(pg) = &mut *self.conn {
                // The head row's lock orders appenders of every instance until commit.
                return Ok(diesel::sql_query(
                    "SELECT seq, hash FROM history_head WHERE id = 1 FOR UPDATE",
                )
                .get_result::<HeadRow>(pg)
                .map(|h| (h.seq, h.hash))?);
            }
            Ok(history_head::table
                .filter(history_head::id.eq(1))
                .select((history_head::seq, history_head::hash))
                .first::<(i64, String)>(self.conn)?)
        })();
        self.done(r)
    }

    fn insert(&mut self, stored: &StoredEvent, prev: &str) -> Result<(), StoreError> {
        let e = &stored.event;
        let (actor_client, actor_user) = match &e.actor {
            Actor::User {
                client_ext_id,
                user_ext_id,
                ..
            } => (
                Some(client_ext_id.to_string()),
                Some(user_ext_id.to_string()),
            ),
            _ => (None, None),
        };
        let r = diesel::insert_into(history_events::table)
            .values((
                history_events::seq.eq(stored.seq),
                history_events::time.eq(to_db(e.time)),
                history_events::request_id.eq(e.request_id.as_deref()),
                history_events::action.eq(e.action),
                history_events::outcome.eq(e.outcome.as_str()),
                history_events::actor.eq(actor_json(&e.actor).to_string()),
                history_events::actor_client.eq(actor_client),
                history_events::actor_user.eq(actor_user),
                history_events::client_ext_id.eq(e.client_ext_id.as_deref()),
                history_events::user_ext_id.eq(e.user_ext_id.as_deref()),
                history_events::credential_ext_id.eq(e.credential_ext_id.as_deref()),
                history_events::policy_ext_id.eq(e.policy_ext_id.as_deref()),
                history_events::changes
                    .eq(serde_json::Value::Object(e.changes.clone()).to_string()),
                history_events::detail.eq(e.detail.as_deref()),
                history_events::prev_hash.eq(prev),
                history_events::hash.eq(&stored.hash),
            ))
            .execute(self.conn)
            .map(|_| ())
            .map_err(RepoError::from);
        self.done(r)
    }

    fn head(&mut self) -> Result<(i64, String, String), StoreError> {
        let r = history_head::table
            .filter(history_head::id.eq(1))
            .select((history_head::seq, history_head::hash, history_head::mac))
            .first::<(i64, String, String)>(self.conn)
            .map_err(RepoError::from);
        self.done(r)
    }

    fn list(
        &mut self,
        filter: &EventFilter,
        after_seq: i64,
        limit: u32,
    ) -> Result<Vec<(StoredEvent, String)>, StoreError> {
        use history_events as h;
        let mut q = h::table
            .filter(h::seq.gt(after_seq))
            .order(h::seq.asc())
            .limit(i64::from(limit))
            .into_boxed::<crate::Db>();
        match (&filter.data_room, filter.include_system) {
            (Some(room), true) => {
                q = q.filter(
                    h::client_ext_id
                        .eq_any(room.clone())
                        .or(h::client_ext_id.is_null()),
                )
            }
            (Some(room), false) => q = q.filter(h::client_ext_id.eq_any(room.clone())),
            (None, false) => q = q.filter(h::client_ext_id.is_not_null()),
            (None, true) => {}
        }
        if let Some(c) = &filter.client_ext_id {
            q = q.filter(h::client_ext_id.eq(c.clone()));
        }
        if let Some(u) = &filter.user_ext_id {
            q = match &filter.client_ext_id {
                Some(c) => q.filter(
                    h::user_ext_id.eq(u.clone()).or(h::actor_user
                        .eq(u.clone())
                        .and(h::actor_client.eq(c.clone()))),
                ),
                None => q.filter(h::user_ext_id.eq(u.clone()).or(h::actor_user.eq(u.clone()))),
            };
        }
        if let Some(a) = &filter.action {
            q = q.filter(h::action.eq(a.clone()));
        }
        if let Some(from) = filter.from {
            q = q.filter(h::time.ge(to_db(from)));
        }
        if let Some(to) = filter.to {
            q = q.filter(h::time.lt(to_db(to)));
        }
        if let Some(r) = &filter.request_id {
            q = q.filter(h::request_id.eq(r.clone()));
        }
        let r = q
            .select(EventRow::as_select())
            .load::<EventRow>(self.conn)
            .map_err(RepoError::from)
            .and_then(|rows| rows.into_iter().map(EventRow::into_stored).collect());
        self.done(r)
    }

    fn prune_before(&mut self, before: DateTime<Utc>) -> Result<Option<(i64, String)>, StoreError> {
        use history_events as h;
        let r = (|| -> RepoResult<Option<(i64, String)>> {
            let last = h::table
                .filter(h::time.lt(to_db(before)))
                .order(h::seq.desc())
                .select((h::seq, h::hash))
                .first::<(i64, String)>(self.conn)
                .optional()?;
            if let Some((seq, _)) = &last {
                diesel::delete(h::table.filter(h::seq.le(*seq))).execute(self.conn)?;
            }
            Ok(last)
        })();
        self.done(r)
    }

    fn set_head(&mut self, seq: i64, hash: &str, mac: &str) -> Result<(), StoreError> {
        let r = diesel::update(history_head::table.filter(history_head::id.eq(1)))
            .set((
                history_head::seq.eq(seq),
                history_head::hash.eq(hash),
                history_head::mac.eq(mac),
            ))
            .execute(self.conn)
            .map(|_| ())
            .map_err(RepoError::from);
        self.done(r)
    }
}

#[derive(QueryableByName)]
struct HeadRow {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    seq: i64,
    #[diesel(sql_type = diesel::sql_types::Text)]
    hash: String,
}

/// A `history_events` row.
#[derive(Queryable, Selectable)]
#[diesel(table_name = history_events)]
struct EventRow {
    seq: i64,
    time: NaiveDateTime,
    request_id: Option<String>,
    action: String,
    outcome: String,
    actor: String,
    client_ext_id: Option<String>,
    user_ext_id: Option<String>,
    credential_ext_id: Option<String>,
    policy_ext_id: Option<String>,
    changes: String,
    detail: Option<String>,
    prev_hash: String,
    hash: String,
}

impl EventRow {
    /// The stored event; a row that does not parse is reported as data corruption (which
    /// `audit verify` then names).
    fn into_stored(self) -> RepoResult<(StoredEvent, String)> {
        let bad = |what: &str| RepoError::Data(format!("history event {}: {what}", self.seq));
        let actor: serde_json::Value =
            serde_json::from_str(&self.actor).map_err(|_| bad("actor"))?;
        let changes = match serde_json::from_str(&self.changes).map_err(|_| bad("changes"))? {
            serde_json::Value::Object(map) => map,
            _ => return Err(bad("changes")),
        };
        let event = NewEvent {
            time: from_db(self.time),
            request_id: self.request_id,
            action: action_name(&self.action).ok_or_else(|| bad("action"))?,
            outcome: match self.outcome.as_str() {
                "success" => Outcome::Success,
                "failure" => Outcome::Failure,
                _ => return Err(bad("outcome")),
            },
            actor: actor_from_json(&actor).ok_or_else(|| bad("actor"))?,
            client_ext_id: self.client_ext_id,
            user_ext_id: self.user_ext_id,
            credential_ext_id: self.credential_ext_id,
            policy_ext_id: self.policy_ext_id,
            changes,
            detail: self.detail,
        };
        Ok((
            StoredEvent {
                seq: self.seq,
                event,
                hash: self.hash,
            },
            self.prev_hash,
        ))
    }
}
