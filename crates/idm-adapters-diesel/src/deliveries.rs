//! `DeliveryPort` over the `delivery_outbox` table (SPEC §8.7): sealed out-of-band deliveries
//! queued in the transaction of the change that produced them.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use idm_domain::delivery::{Delivery, DeliveryKind};
use idm_ports::error::StoreError;
use idm_ports::repos::DeliveryPort;

use crate::errors::{RepoError, RepoResult};
use crate::schema::delivery_outbox;
use crate::time::{from_db, to_db};
use crate::{savepoint, DieselRepos};

/// A new `delivery_outbox` row; `delivered_at` stays `NULL` until a sender takes it.
#[derive(Debug, Insertable)]
#[diesel(table_name = delivery_outbox)]
struct NewDeliveryRow<'a> {
    id: &'a str,
    client_id: &'a str,
    user_id: &'a str,
    credential_id: Option<&'a str>,
    kind: &'a str,
    payload: &'a str,
    created: NaiveDateTime,
}

/// A `delivery_outbox` row as a pending read returns it (`delivered_at` is `NULL` there).
#[derive(Debug, Queryable, Selectable)]
#[diesel(table_name = delivery_outbox)]
struct DeliveryRow {
    id: String,
    client_id: String,
    user_id: String,
    credential_id: Option<String>,
    kind: String,
    payload: String,
    created: NaiveDateTime,
}

impl<'a> NewDeliveryRow<'a> {
    fn from_domain(d: &'a Delivery) -> Self {
        NewDeliveryRow {
            id: &d.id,
            client_id: &d.client_id,
            user_id: &d.user_id,
            credential_id: Some(&d.credential_id),
            kind: d.kind.as_str(),
            payload: &d.sealed_payload,
            created: to_db(d.created),
        }
    }
}

impl DeliveryRow {
    fn into_domain(self) -> RepoResult<Delivery> {
        let kind = DeliveryKind::parse(&self.kind).ok_or_else(|| {
            RepoError::Data(format!(
                "delivery_outbox.kind = '{}' (id {})",
                self.kind, self.id
            ))
        })?;
        // The column is nullable only so deleting a credential does not block on (or delete)
        // its queued deliveries: `ON DELETE SET NULL`. Such a row is kept and still listed, its
        // `credential_id` read as the empty string, so `pending` never fails on it and the
        // operator still sees (and can hand over) what was queued for the user.
        let credential_id = self.credential_id.unwrap_or_default();
        Ok(Delivery {
            id: self.id,
            client_id: self.client_id,
            user_id: self.user_id,
            credential_id,
            kind,
            sealed_payload: self.payload,
            created: from_db(self.created),
        })
    }
}

impl DeliveryPort for DieselRepos<'_> {
    fn enqueue(&mut self, delivery: &Delivery) -> Result<(), StoreError> {
        let row = NewDeliveryRow::from_domain(delivery);
        let r = savepoint(self.conn, |c| {
            diesel::insert_into(delivery_outbox::table)
                .values(&row)
                .execute(c)?;
            Ok(())
        });
        self.done_guarded(r)
    }

    fn reseal(&mut self, id: &str, sealed_payload: &str) -> Result<(), StoreError> {
        let r = diesel::update(delivery_outbox::table.filter(delivery_outbox::id.eq(id)))
            .set(delivery_outbox::payload.eq(sealed_payload))
            .execute(self.conn)
            .map(|_| ())
            .map_err(RepoError::from);
        self.done(r)
    }

    fn pending(&mut self, limit: u32) -> Result<Vec<Delivery>, StoreError> {
        let r = delivery_outbox::table
            .filter(delivery_outbox::delivered_at.is_null())
            .order((delivery_outbox::created.asc(), delivery_outbox::id.asc()))
            .limit(i64::from(limit))
            .select(DeliveryRow::as_select())
            .load::<DeliveryRow>(self.conn)
            .map_err(RepoError::from)
            .and_then(|rows| rows.into_iter().map(DeliveryRow::into_domain).collect());
        self.done(r)
    }
}
