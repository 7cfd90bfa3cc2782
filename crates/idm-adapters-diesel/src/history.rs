//! `HistoryRepo` over `history_events` and its single-row chain head `history_head`.

use diesel::prelude::*;
use idm_ports::error::StoreError;
use idm_ports::history::{actor_json, StoredEvent};
use idm_ports::permit::Actor;
use idm_ports::repos::HistoryRepo;

use crate::errors::{RepoError, RepoResult};
use crate::schema::{history_events, history_head};
use crate::time::to_db;
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
            } => (Some(client_ext_id.to_string()), Some(user_ext_id.to_string())),
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
                history_events::changes.eq(serde_json::Value::Object(e.changes.clone()).to_string()),
                history_events::detail.eq(e.detail.as_deref()),
                history_events::prev_hash.eq(prev),
                history_events::hash.eq(&stored.hash),
            ))
            .execute(self.conn)
            .map(|_| ())
            .map_err(RepoError::from);
        self.done(r)
    }

    fn set_head(&mut self, seq: i64, hash: &str) -> Result<(), StoreError> {
        let r = diesel::update(history_head::table.filter(history_head::id.eq(1)))
            .set((history_head::seq.eq(seq), history_head::hash.eq(hash)))
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
