//! `PolicyRepo` over the `policies` table; parameters are stored as a JSON object of strings.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use idm_domain::policy::{Policy, PolicyParameters, PolicyType};
use idm_ports::error::StoreError;
use idm_ports::repos::PolicyRepo;

use crate::errors::{RepoError, RepoResult};
use crate::schema::policies;
use crate::time::{from_db, to_db};
use crate::{savepoint, DieselRepos};

/// A `policies` row; the changeset of an update writes every column but the id.
#[derive(Debug, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = policies, treat_none_as_null = true)]
struct PolicyRow {
    id: String,
    client_id: String,
    ext_id: String,
    name: String,
    description: Option<String>,
    policy_type: String,
    is_default: bool,
    parameters: String,
    created: NaiveDateTime,
    last_modified: NaiveDateTime,
    version: i64,
}

impl PolicyRow {
    fn from_domain(p: &Policy) -> RepoResult<Self> {
        let parameters = serde_json::to_string(p.parameters.explicit())
            .map_err(|e| RepoError::Data(format!("policy parameters: {e}")))?;
        Ok(PolicyRow {
            id: p.id.clone(),
            client_id: p.client_id.clone(),
            ext_id: p.ext_id.to_string(),
            name: p.name.clone(),
            description: p.description.clone(),
            policy_type: p.policy_type.as_str().to_owned(),
            is_default: p.default_policy,
            parameters,
            created: to_db(p.created),
            last_modified: to_db(p.last_modified),
            version: p.version,
        })
    }

    fn into_domain(self) -> RepoResult<Policy> {
        let policy_type: PolicyType = self.policy_type.parse().map_err(|_| {
            RepoError::Data(format!("policies.policy_type = '{}'", self.policy_type))
        })?;
        let explicit: BTreeMap<String, String> = serde_json::from_str(&self.parameters)
            .map_err(|e| RepoError::Data(format!("policies.parameters of {}: {e}", self.id)))?;
        let parameters = PolicyParameters::validated(policy_type, explicit)
            .map_err(|e| RepoError::Data(format!("policies.parameters of {}: {e}", self.id)))?;
        Ok(Policy {
            id: self.id,
            client_id: self.client_id,
            ext_id: crate::parse_ext_id(&self.ext_id)?,
            name: self.name,
            description: self.description,
            policy_type,
            default_policy: self.is_default,
            parameters,
            created: from_db(self.created),
            last_modified: from_db(self.last_modified),
            version: self.version,
        })
    }
}

fn first(row: QueryResult<Option<PolicyRow>>) -> RepoResult<Option<Policy>> {
    row?.map(PolicyRow::into_domain).transpose()
}

impl PolicyRepo for DieselRepos<'_> {
    fn insert(&mut self, policy: &Policy) -> Result<(), StoreError> {
        let r = PolicyRow::from_domain(policy).and_then(|row| {
            savepoint(self.conn, |c| {
                diesel::insert_into(policies::table)
                    .values(&row)
                    .execute(c)?;
                Ok(())
            })
        });
        self.done_guarded(r)
    }

    fn find_by_ext_id(
        &mut self,
        client_id: &str,
        ext_id: &str,
    ) -> Result<Option<Policy>, StoreError> {
        let row = policies::table
            .filter(policies::client_id.eq(client_id))
            .filter(policies::ext_id.eq(ext_id))
            .select(PolicyRow::as_select())
            .first(self.conn)
            .optional();
        let r = first(row);
        self.done(r)
    }

    fn find_by_id(&mut self, id: &str) -> Result<Option<Policy>, StoreError> {
        let row = policies::table
            .filter(policies::id.eq(id))
            .select(PolicyRow::as_select())
            .first(self.conn)
            .optional();
        let r = first(row);
        self.done(r)
    }

    fn find_default(
        &mut self,
        client_id: &str,
        policy_type: PolicyType,
    ) -> Result<Option<Policy>, StoreError> {
        let row = policies::table
            .filter(policies::client_id.eq(client_id))
            .filter(policies::policy_type.eq(policy_type.as_str()))
            .filter(policies::is_default.eq(true))
            .select(PolicyRow::as_select())
            .first(self.conn)
            .optional();
        let r = first(row);
        self.done(r)
    }

    fn update(&mut self, policy: &Policy, expected_version: i64) -> Result<(), StoreError> {
        let r = PolicyRow::from_domain(policy).and_then(|row| {
            savepoint(self.conn, |c| {
                let n = diesel::update(
                    policies::table
                        .filter(policies::id.eq(&policy.id))
                        .filter(policies::version.eq(expected_version)),
                )
                .set(&row)
                .execute(c)?;
                crate::changed(n)
            })
        });
        self.done_guarded(r)
    }

    fn clear_default(
        &mut self,
        client_id: &str,
        policy_type: PolicyType,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let r = diesel::update(
            policies::table
                .filter(policies::client_id.eq(client_id))
                .filter(policies::policy_type.eq(policy_type.as_str()))
                .filter(policies::is_default.eq(true)),
        )
        .set((
            policies::is_default.eq(false),
            policies::version.eq(policies::version + 1),
            policies::last_modified.eq(to_db(now)),
        ))
        .execute(self.conn)
        .map(|_| ())
        .map_err(RepoError::from);
        self.done(r)
    }
}
