//! Test doubles for use-case tests: a unit of work that runs over mockall-mocked repositories.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use crate::error::AppError;
use crate::history::StoredEvent;
use crate::repos::{
    ClientRepo, CredentialRepo, DeliveryPort, HistoryRepo, MetaRepo, MockClientRepo,
    MockCredentialRepo, MockDeliveryPort, MockMetaRepo, MockPolicyRepo, MockRoleRepo, MockUserRepo,
    PolicyRepo, Repos, RoleRepo, TxMode, UnitOfWork, UserRepo,
};

/// One mock per repository; set expectations on the fields, then hand it to [`MockedUnitOfWork`].
#[derive(Default)]
pub struct MockRepos {
    /// Client repository mock.
    pub clients: MockClientRepo,
    /// User repository mock.
    pub users: MockUserRepo,
    /// Policy repository mock.
    pub policies: MockPolicyRepo,
    /// Credential repository mock.
    pub credentials: MockCredentialRepo,
    /// Role repository mock.
    pub roles: MockRoleRepo,
    /// Delivery outbox mock.
    pub deliveries: MockDeliveryPort,
    /// Database facts mock.
    pub meta: MockMetaRepo,
    /// The history: a recording fake rather than a mock, so tests assert which events a use
    /// case left, not how many calls it took.
    pub history: RecordingHistory,
}

/// An in-memory history that keeps every appended event; a rolled-back transaction of
/// [`MockedUnitOfWork`] takes its events back.
#[derive(Default, Debug)]
pub struct RecordingHistory {
    /// The committed (and, during a transaction, pending) events in order.
    pub events: Vec<StoredEvent>,
    head: (i64, String),
    head_mac: String,
    /// The chain hash each event follows, by seq (kept, like the database's `prev_hash`, across
    /// pruning).
    prev: std::collections::HashMap<i64, String>,
}

impl HistoryRepo for RecordingHistory {
    fn head_for_update(&mut self) -> Result<(i64, String), crate::error::StoreError> {
        Ok(self.head.clone())
    }
    fn insert(&mut self, event: &StoredEvent, prev: &str) -> Result<(), crate::error::StoreError> {
        self.prev.insert(event.seq, prev.to_owned());
        self.events.push(event.clone());
        Ok(())
    }
    fn set_head(
        &mut self,
        seq: i64,
        hash: &str,
        mac: &str,
    ) -> Result<(), crate::error::StoreError> {
        self.head = (seq, hash.to_owned());
        self.head_mac = mac.to_owned();
        Ok(())
    }
    fn head(&mut self) -> Result<(i64, String, String), crate::error::StoreError> {
        Ok((self.head.0, self.head.1.clone(), self.head_mac.clone()))
    }
    fn list(
        &mut self,
        _filter: &crate::history::EventFilter,
        after_seq: i64,
        limit: u32,
    ) -> Result<Vec<(StoredEvent, String)>, crate::error::StoreError> {
        let mut out = Vec::new();
        for e in &self.events {
            if e.seq > after_seq && out.len() < limit as usize {
                let prev = self.prev.get(&e.seq).cloned().unwrap_or_default();
                out.push((e.clone(), prev));
            }
        }
        Ok(out)
    }
    fn prune_before(
        &mut self,
        before: chrono::DateTime<chrono::Utc>,
    ) -> Result<Option<(i64, String)>, crate::error::StoreError> {
        let last = self
            .events
            .iter()
            .filter(|e| e.event.time < before)
            .map(|e| (e.seq, e.hash.clone()))
            .next_back();
        self.events.retain(|e| e.event.time >= before);
        Ok(last)
    }
}

impl Repos for MockRepos {
    fn clients(&mut self) -> &mut dyn ClientRepo {
        &mut self.clients
    }
    fn users(&mut self) -> &mut dyn UserRepo {
        &mut self.users
    }
    fn policies(&mut self) -> &mut dyn PolicyRepo {
        &mut self.policies
    }
    fn credentials(&mut self) -> &mut dyn CredentialRepo {
        &mut self.credentials
    }
    fn roles(&mut self) -> &mut dyn RoleRepo {
        &mut self.roles
    }
    fn deliveries(&mut self) -> &mut dyn DeliveryPort {
        &mut self.deliveries
    }
    fn meta(&mut self) -> &mut dyn MetaRepo {
        &mut self.meta
    }
    fn history(&mut self) -> &mut dyn HistoryRepo {
        &mut self.history
    }
}

/// A unit of work over [`MockRepos`] that counts commits and rollbacks.
pub struct MockedUnitOfWork {
    repos: Mutex<MockRepos>,
    commits: AtomicUsize,
    rollbacks: AtomicUsize,
    modes: Mutex<Vec<TxMode>>,
    fail_with: Option<AppError>,
}

impl MockedUnitOfWork {
    /// Wraps the prepared mocks.
    pub fn new(repos: MockRepos) -> Self {
        MockedUnitOfWork {
            repos: Mutex::new(repos),
            commits: AtomicUsize::new(0),
            rollbacks: AtomicUsize::new(0),
            modes: Mutex::new(Vec::new()),
            fail_with: None,
        }
    }

    /// A unit of work whose storage fails every transaction with `error` before any work runs.
    pub fn failing(error: AppError) -> Self {
        MockedUnitOfWork {
            fail_with: Some(error),
            ..Self::new(MockRepos::default())
        }
    }

    /// Transactions whose work returned `Ok`.
    pub fn commits(&self) -> usize {
        self.commits.load(Ordering::SeqCst)
    }

    /// Transactions whose work returned `Err`.
    pub fn rollbacks(&self) -> usize {
        self.rollbacks.load(Ordering::SeqCst)
    }

    /// The actions of the history events committed so far, in order.
    pub fn actions(&self) -> Vec<String> {
        self.repos
            .lock()
            .map(|r| {
                r.history
                    .events
                    .iter()
                    .map(|e| e.event.action.to_owned())
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The history events committed so far.
    pub fn events(&self) -> Vec<StoredEvent> {
        self.repos
            .lock()
            .map(|r| r.history.events.clone())
            .unwrap_or_default()
    }

    /// The modes of every transaction run, in order.
    pub fn modes(&self) -> Vec<TxMode> {
        self.modes.lock().map(|m| m.clone()).unwrap_or_default()
    }
}

impl UnitOfWork for MockedUnitOfWork {
    fn run<'a>(
        &self,
        mode: TxMode,
        work: &mut (dyn FnMut(&mut dyn Repos) -> Result<(), AppError> + 'a),
    ) -> Result<(), AppError> {
        if let Ok(mut modes) = self.modes.lock() {
            modes.push(mode);
        }
        if let Some(error) = &self.fail_with {
            return Err(error.clone());
        }
        let mut repos = self
            .repos
            .lock()
            .map_err(|_| AppError::Internal("mock repos poisoned".into()))?;
        let events_before = repos.history.events.len();
        let head_before = repos.history.head.clone();
        let result = work(&mut *repos);
        match result {
            Ok(()) => self.commits.fetch_add(1, Ordering::SeqCst),
            Err(_) => {
                repos.history.events.truncate(events_before);
                repos.history.head = head_before;
                self.rollbacks.fetch_add(1, Ordering::SeqCst)
            }
        };
        result
    }
}
