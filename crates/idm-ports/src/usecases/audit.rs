//! The history (SPEC §13): queries for administrators and users, the record of refused
//! requests, and the operator's verification, export and pruning of the hash chain.

use chrono::{DateTime, Utc};
use idm_domain::access::{data_room_of, DataRoom, Requirement, Right};
use idm_domain::paging::{Page, PageCursor, PageRequest};
use idm_domain::{DomainError, ExtId};

use super::{lookup, Ports};
use crate::caller::Caller;
use crate::error::AppResult;
use crate::history::{canonical, EventFilter, Outcome, StoredEvent};
use crate::permit::{Actor, Permit, TargetIds};
use crate::repos::{transact, TxMode};
use crate::write::write;

/// The filters of `GET /audit/v1/events` (SPEC §13), as sent.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EventQuery {
    /// Target client.
    pub client_ext_id: Option<String>,
    /// Target or actor user.
    pub user_ext_id: Option<String>,
    /// Action name.
    pub action: Option<String>,
    /// At or after.
    pub from: Option<DateTime<Utc>>,
    /// Before.
    pub to: Option<DateTime<Utc>>,
    /// Request ID.
    pub request_id: Option<String>,
}

/// The history for callers (SPEC §13).
#[cfg_attr(feature = "mock", mockall::automock)]
pub trait AuditService: Send + Sync {
    /// One page of the events the caller's `AuditView` covers, in `seq` order.
    fn list_events(
        &self,
        caller: &Caller,
        query: EventQuery,
        page: PageRequest,
    ) -> AppResult<Page<StoredEvent>>;
    /// One page of the events whose target or actor is the path's user (`UserView` and
    /// `AuditView`, or SelfAdmin on itself).
    fn user_history(
        &self,
        caller: &Caller,
        client: &str,
        user: &str,
        page: PageRequest,
    ) -> AppResult<Page<StoredEvent>>;
    /// Records a refused request (a 403) of `caller` on the path's client and user.
    fn record_denial(
        &self,
        caller: &Caller,
        client: Option<String>,
        user: Option<String>,
        code: String,
    ) -> AppResult<()>;
}

/// What `audit verify` found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verification {
    /// Every event from the first kept one to the head is intact.
    Intact {
        /// Events checked.
        events: u64,
    },
    /// The first event that is not what the chain says, and why.
    Broken {
        /// Its `seq` (or the missing one's).
        seq: i64,
        /// What is wrong.
        reason: String,
    },
}

/// The history use cases.
pub struct AuditUseCases {
    ports: Ports,
}

/// Meta key of the last pruned event, where verification starts.
const ANCHOR: &str = "history_anchor";

fn cursor_of(e: &StoredEvent) -> PageCursor {
    PageCursor {
        created: e.event.time,
        ext_id: e.seq.to_string(),
    }
}

fn after_seq(page: &PageRequest) -> i64 {
    page.after
        .as_ref()
        .and_then(|c| c.ext_id.parse().ok())
        .unwrap_or(0)
}

const VIEW: [Right; 1] = [Right::AuditView];
const USER_HISTORY: [Right; 2] = [Right::UserView, Right::AuditView];
/// Events read per storage round trip by verification and export.
const BATCH: u32 = 500;

impl AuditUseCases {
    /// Builds the use cases over the shared ports.
    pub fn new(ports: Ports) -> Self {
        AuditUseCases { ports }
    }

    fn page(&self, filter: &EventFilter, page: &PageRequest) -> AppResult<Page<StoredEvent>> {
        let rows = transact(&*self.ports.uow, TxMode::Read, |repos| {
            Ok(repos
                .history()
                .list(filter, after_seq(page), page.limit + 1)?)
        })?;
        let events = rows.into_iter().map(|(e, _)| e).collect();
        Ok(Page::from_overfetch(events, page.limit, cursor_of))
    }

    /// `idm-server audit verify`: walks the chain from the last pruned event (or the start) to
    /// the head, recomputing every hash; the first modified, inserted or deleted event is named.
    pub fn verify(&self) -> AppResult<Verification> {
        let (anchor_seq, anchor_hash, head) = transact(&*self.ports.uow, TxMode::Read, |repos| {
            let anchor = repos.meta().get(ANCHOR)?;
            let head = repos.history().head()?;
            Ok((anchor, head))
        })
        .map(|(anchor, head)| {
            let (seq, hash) = anchor
                .as_deref()
                .and_then(|a| a.split_once(':'))
                .and_then(|(s, h)| Some((s.parse::<i64>().ok()?, h.to_owned())))
                .unwrap_or((0, String::new()));
            (seq, hash, head)
        })?;
        let (mut expected, mut prev, mut checked) = (anchor_seq + 1, anchor_hash, 0u64);
        loop {
            let rows = transact(&*self.ports.uow, TxMode::Read, |repos| {
                Ok(repos.history().list(
                    &EventFilter {
                        include_system: true,
                        ..EventFilter::default()
                    },
                    expected - 1,
                    BATCH,
                )?)
            });
            let rows = match rows {
                Ok(rows) => rows,
                // A row that no longer parses was modified behind the service's back.
                Err(crate::error::AppError::Internal(text)) => {
                    return Ok(Verification::Broken {
                        seq: expected,
                        reason: format!("unreadable event ({text})"),
                    })
                }
                Err(e) => return Err(e),
            };
            if rows.is_empty() {
                break;
            }
            for (event, stored_prev) in &rows {
                if event.seq != expected {
                    return Ok(Verification::Broken {
                        seq: expected,
                        reason: format!("event {expected} is missing (next is {})", event.seq),
                    });
                }
                let hash = self
                    .ports
                    .history_mac
                    .chain(&prev, &canonical(event.seq, &event.event));
                if *stored_prev != prev || hash != event.hash {
                    return Ok(Verification::Broken {
                        seq: event.seq,
                        reason: "the event does not match its chain hash (modified or inserted)"
                            .into(),
                    });
                }
                prev = hash;
                expected += 1;
                checked += 1;
            }
        }
        let head_ok = head.0 == 0
            || head.2
                == self
                    .ports
                    .history_mac
                    .chain(crate::write::HEAD_DOMAIN, &format!("{}:{}", head.0, head.1));
        if !head_ok {
            return Ok(Verification::Broken {
                seq: head.0,
                reason: "the history's head was rewritten (its MAC does not match)".into(),
            });
        }
        if head.0 != expected - 1 || (head.0 > anchor_seq && head.1 != prev) {
            return Ok(Verification::Broken {
                seq: expected,
                reason: format!(
                    "the history ends at {} but its head is {} (events deleted)",
                    expected - 1,
                    head.0
                ),
            });
        }
        Ok(Verification::Intact { events: checked })
    }

    /// `idm-server audit export [--from T]`: every event at or after `from`, in order, handed to
    /// `sink` one batch at a time.
    pub fn export(
        &self,
        from: Option<DateTime<Utc>>,
        mut sink: impl FnMut(&StoredEvent) -> std::io::Result<()>,
    ) -> AppResult<u64> {
        let filter = EventFilter {
            include_system: true,
            from,
            ..EventFilter::default()
        };
        let (mut after, mut count) = (0, 0u64);
        loop {
            let rows = transact(&*self.ports.uow, TxMode::Read, |repos| {
                Ok(repos.history().list(&filter, after, BATCH)?)
            })?;
            let Some((last, _)) = rows.last() else {
                return Ok(count);
            };
            after = last.seq;
            for (e, _) in &rows {
                sink(e).map_err(|err| {
                    crate::error::AppError::Internal(format!("writing the export: {err}"))
                })?;
                count += 1;
            }
        }
    }

    /// `idm-server audit prune`: deletes the events older than `retention_days` (0 = keep
    /// everything) and remembers the last deleted one, so verification still works.
    pub fn prune(&self, retention_days: u32) -> AppResult<u64> {
        if retention_days == 0 {
            return Ok(0);
        }
        let cutoff = self.ports.clock.now() - chrono::Duration::days(i64::from(retention_days));
        transact(&*self.ports.uow, TxMode::Write, |repos| {
            // The head's lock keeps appenders out while the anchor moves.
            repos.history().head_for_update()?;
            let old_anchor = repos.meta().get(ANCHOR)?;
            let old_seq = old_anchor
                .as_deref()
                .and_then(|a| a.split_once(':'))
                .and_then(|(s, _)| s.parse::<i64>().ok())
                .unwrap_or(0);
            match repos.history().prune_before(cutoff)? {
                Some((seq, hash)) => {
                    repos.meta().put(ANCHOR, &format!("{seq}:{hash}"))?;
                    Ok(u64::try_from(seq - old_seq).unwrap_or(0))
                }
                None => Ok(0),
            }
        })
    }
}

impl AuditService for AuditUseCases {
    fn list_events(
        &self,
        caller: &Caller,
        query: EventQuery,
        page: PageRequest,
    ) -> AppResult<Page<StoredEvent>> {
        let room = match &query.client_ext_id {
            Some(client) => {
                caller
                    .authorize(Requirement::rights(&VIEW), Some(client), None)?
                    .read();
                DataRoom::Clients(ExtId::parse(client).into_iter().collect())
            }
            None => data_room_of(&caller.grants, Right::AuditView)
                .ok_or(DomainError::MissingRight(Right::AuditView))?,
        };
        let (data_room, include_system) = match room {
            DataRoom::Global => (None, true),
            DataRoom::Clients(set) => (Some(set.iter().map(ToString::to_string).collect()), false),
        };
        let filter = EventFilter {
            data_room,
            include_system: include_system && query.client_ext_id.is_none(),
            client_ext_id: query.client_ext_id,
            user_ext_id: query.user_ext_id,
            action: query.action,
            from: query.from,
            to: query.to,
            request_id: query.request_id,
        };
        self.page(&filter, &page)
    }

    fn user_history(
        &self,
        caller: &Caller,
        client: &str,
        user: &str,
        page: PageRequest,
    ) -> AppResult<Page<StoredEvent>> {
        caller
            .authorize(
                Requirement::rights_or_self(&USER_HISTORY),
                Some(client),
                Some(user),
            )?
            .read();
        let (c, u) = transact(&*self.ports.uow, TxMode::Read, |repos| {
            lookup::client_and_user(repos, client, user)
        })?;
        let filter = EventFilter {
            data_room: Some(vec![c.ext_id.to_string()]),
            include_system: false,
            client_ext_id: Some(c.ext_id.to_string()),
            user_ext_id: Some(u.ext_id.to_string()),
            ..EventFilter::default()
        };
        self.page(&filter, &page)
    }

    fn record_denial(
        &self,
        caller: &Caller,
        client: Option<String>,
        user: Option<String>,
        code: String,
    ) -> AppResult<()> {
        let permit = Permit::system(
            Actor::of(caller),
            TargetIds {
                client_ext_id: client.as_deref().and_then(ExtId::parse),
                user_ext_id: user.as_deref().and_then(ExtId::parse),
            },
        )
        .with_request_id(caller.request_id.clone());
        write(&self.ports, |tx| {
            tx.note(
                &permit,
                "access.denied",
                Outcome::Failure,
                None,
                Some(&code),
            );
            Ok(())
        })
    }
}
