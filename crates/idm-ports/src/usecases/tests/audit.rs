//! SPEC §13: the history's use cases — the operator's verification and pruning of the hash
//! chain, the data room of `GET /audit/v1/events`, and the record of refused requests.
//!
//! Chains are built by the write path: by a real use case (`record_denial`) or by
//! [`append`] on the repositories before the harness is built, so a test can then modify the
//! stored events behind the service's back, as someone with database access would.

use std::sync::{Arc, Mutex};

use chrono::{DateTime, Duration, Utc};
use idm_domain::access::{Requirement, Right};
use idm_domain::paging::PageRequest;
use idm_domain::DomainError;
use serde_json::Map;

use super::support::*;
use crate::auth::MockClock;
use crate::caller::Caller;
use crate::error::{AppError, StoreError};
use crate::history::{EventFilter, NewEvent, Outcome, StoredEvent};
use crate::repos::{
    ClientRepo, CredentialRepo, DeliveryPort, HistoryRepo, MetaRepo, PolicyRepo, Repos, RoleRepo,
    TxMode, UnitOfWork, UserRepo,
};
use crate::testing::MockedUnitOfWork;
use crate::usecases::{AuditService, AuditUseCases, EventQuery, Ports, Verification};
use crate::write::append;

/// The meta key under which pruning leaves its anchor.
const ANCHOR: &str = "history_anchor";

/// An event of the kind the write path makes, at `time`.
fn new_event(time: DateTime<Utc>, action: &'static str) -> NewEvent {
    NewEvent {
        time,
        request_id: Some(REQUEST_ID.to_owned()),
        action,
        outcome: Outcome::Success,
        actor: actor_of(&root()),
        client_ext_id: Some("c1".into()),
        user_ext_id: Some("u1".into()),
        credential_ext_id: None,
        policy_ext_id: None,
        changes: Map::new(),
        detail: None,
    }
}

/// Appends one event per instant to the harness's history, chained under the harness's key.
fn chain(h: &mut Harness, times: &[DateTime<Utc>]) {
    let events = times
        .iter()
        .map(|t| new_event(*t, "user.updated"))
        .collect();
    append(&mut h.repos, &deterministic_mac(), events).unwrap();
}

/// The meta table holds one value per name: `put` stores it, `get` answers it.
fn stateful_meta(h: &mut Harness) -> Arc<Mutex<Option<String>>> {
    let anchor = Arc::new(Mutex::new(None::<String>));
    let stored = anchor.clone();
    h.repos
        .meta
        .expect_put()
        .withf(|name, _| name == ANCHOR)
        .returning(move |_, value| {
            *stored.lock().unwrap() = Some(value.to_owned());
            Ok(())
        });
    let read = anchor.clone();
    h.repos
        .meta
        .expect_get()
        .withf(|name| name == ANCHOR)
        .returning(move |_| Ok(read.lock().unwrap().clone()));
    anchor
}

/// Nothing was ever pruned.
fn no_anchor(h: &mut Harness) {
    h.repos
        .meta
        .expect_get()
        .withf(|name| name == ANCHOR)
        .returning(|_| Ok(None));
}

fn verify(h: Harness) -> Verification {
    let (ports, _) = h.build();
    AuditUseCases::new(ports).verify().unwrap()
}

/// A chain of four events, the last at [`now`].
fn four_events(h: &mut Harness) {
    let times: Vec<_> = (0..4).map(|i| now() - Duration::hours(3 - i)).collect();
    chain(h, &times);
}

#[track_caller]
fn assert_broken_at(v: Verification, seq: i64) -> String {
    match v {
        Verification::Broken { seq: at, reason } => {
            assert_eq!(at, seq, "{reason}");
            reason
        }
        other => panic!("expected a break at {seq}, got {other:?}"),
    }
}

// ---- verify -----------------------------------------------------------------------------------

#[test]
fn an_empty_history_is_intact() {
    let mut h = Harness::new();
    no_anchor(&mut h);
    assert_eq!(verify(h), Verification::Intact { events: 0 });
}

#[test]
fn a_chain_written_by_the_use_cases_is_intact() {
    let mut h = Harness::new();
    no_anchor(&mut h);
    let (ports, uow) = h.build();
    let audit = AuditUseCases::new(ports);
    for code in ["errors.a", "errors.b", "errors.c"] {
        audit
            .record_denial(&helpdesk(&["c1"]), Some("c1".into()), None, code.into())
            .unwrap();
    }
    assert_eq!(uow.events().len(), 3);
    assert_eq!(audit.verify().unwrap(), Verification::Intact { events: 3 });
}

#[test]
fn a_chain_appended_in_several_transactions_is_intact() {
    let mut h = Harness::new();
    no_anchor(&mut h);
    chain(&mut h, &[now() - Duration::hours(2)]);
    chain(&mut h, &[now() - Duration::hours(1), now()]);
    assert_eq!(verify(h), Verification::Intact { events: 3 });
}

#[test]
fn a_modified_field_breaks_the_chain_at_that_event() {
    for modify in [
        (|e: &mut StoredEvent| e.event.detail = Some("edited".into())) as fn(&mut StoredEvent),
        |e| e.event.outcome = Outcome::Failure,
        |e| e.event.user_ext_id = Some("u2".into()),
        |e| e.event.time += Duration::seconds(1),
        |e| e.event.action = "user.created",
        |e| e.hash = "mac-forged".into(),
    ] {
        let mut h = Harness::new();
        no_anchor(&mut h);
        four_events(&mut h);
        modify(&mut h.repos.history.events[1]);
        let reason = assert_broken_at(verify(h), 2);
        assert!(reason.contains("chain hash"), "{reason}");
    }
}

#[test]
fn an_event_removed_from_the_middle_is_named() {
    let mut h = Harness::new();
    no_anchor(&mut h);
    four_events(&mut h);
    h.repos.history.events.remove(1);
    let reason = assert_broken_at(verify(h), 2);
    assert!(reason.contains("missing"), "{reason}");
}

#[test]
fn the_last_event_removed_with_the_head_rewound_fails_the_head_mac() {
    let mut h = Harness::new();
    no_anchor(&mut h);
    four_events(&mut h);
    h.repos.history.events.pop();
    // The remaining chain is intact; the head is set back to it, but without the key its MAC
    // cannot be recomputed.
    let last = h.repos.history.events[2].hash.clone();
    h.repos.history.set_head(3, &last, "mac-forged").unwrap();
    let reason = assert_broken_at(verify(h), 3);
    assert!(reason.contains("head"), "{reason}");
}

#[test]
fn the_last_event_removed_without_rewinding_the_head_is_named() {
    let mut h = Harness::new();
    no_anchor(&mut h);
    four_events(&mut h);
    h.repos.history.events.pop();
    let reason = assert_broken_at(verify(h), 4);
    assert!(reason.contains("deleted"), "{reason}");
}

// ---- prune ------------------------------------------------------------------------------------

/// A clock the test moves.
fn movable_clock(start: DateTime<Utc>) -> (MockClock, Arc<Mutex<DateTime<Utc>>>) {
    let time = Arc::new(Mutex::new(start));
    let read = time.clone();
    let mut clock = MockClock::new();
    clock.expect_now().returning(move || *read.lock().unwrap());
    (clock, time)
}

#[test]
fn prune_removes_old_events_keeps_an_anchor_and_the_rest_still_verifies() {
    let mut h = Harness::new();
    let anchor = stateful_meta(&mut h);
    let (mut ports, uow) = h.build();
    let (clock, time) = movable_clock(now());
    ports.clock = Arc::new(clock);
    let audit = AuditUseCases::new(ports);
    let deny = |code: &str| {
        audit
            .record_denial(&helpdesk(&["c1"]), Some("c1".into()), None, code.into())
            .unwrap()
    };
    deny("old-1");
    deny("old-2");
    *time.lock().unwrap() = now() + Duration::days(40);
    deny("new-1");
    deny("new-2");
    let old_hash = uow.events()[1].hash.clone();

    assert_eq!(audit.prune(30).unwrap(), 2);

    let kept: Vec<i64> = uow.events().iter().map(|e| e.seq).collect();
    assert_eq!(kept, [3, 4]);
    assert_eq!(
        anchor.lock().unwrap().as_deref(),
        Some(format!("2:{old_hash}").as_str()),
        "the last pruned event is where verification starts"
    );
    assert_eq!(audit.verify().unwrap(), Verification::Intact { events: 2 });
}

#[test]
fn a_second_prune_counts_from_the_previous_anchor_and_the_chain_goes_on() {
    let mut h = Harness::new();
    let anchor = stateful_meta(&mut h);
    let (mut ports, uow) = h.build();
    let (clock, time) = movable_clock(now());
    ports.clock = Arc::new(clock);
    let audit = AuditUseCases::new(ports);
    let deny = || {
        audit
            .record_denial(&helpdesk(&["c1"]), Some("c1".into()), None, "x".into())
            .unwrap()
    };
    deny();
    *time.lock().unwrap() = now() + Duration::days(40);
    deny();
    deny();
    assert_eq!(audit.prune(30).unwrap(), 1);
    *time.lock().unwrap() = now() + Duration::days(80);
    deny();
    assert_eq!(audit.prune(30).unwrap(), 2);
    let kept: Vec<i64> = uow.events().iter().map(|e| e.seq).collect();
    assert_eq!(kept, [4]);
    assert!(anchor.lock().unwrap().as_deref().unwrap().starts_with("3:"));
    assert_eq!(audit.verify().unwrap(), Verification::Intact { events: 1 });
    // New events chain on after the pruned ones.
    deny();
    assert_eq!(audit.verify().unwrap(), Verification::Intact { events: 2 });
}

#[test]
fn prune_of_everything_still_verifies() {
    let mut h = Harness::new();
    let anchor = stateful_meta(&mut h);
    chain(&mut h, &[earlier(), earlier() + Duration::days(1)]);
    let (ports, uow) = h.build();
    let audit = AuditUseCases::new(ports);
    assert_eq!(audit.prune(30).unwrap(), 2);
    assert!(uow.events().is_empty());
    assert!(anchor.lock().unwrap().as_deref().unwrap().starts_with("2:"));
    assert_eq!(audit.verify().unwrap(), Verification::Intact { events: 0 });
}

#[test]
fn prune_with_no_retention_keeps_everything_and_touches_nothing() {
    let mut h = Harness::new();
    h.repos.meta.expect_put().never();
    chain(&mut h, &[earlier()]);
    let (ports, uow) = h.build();
    assert_eq!(AuditUseCases::new(ports).prune(0).unwrap(), 0);
    assert_eq!(uow.events().len(), 1);
    assert_storage_untouched(&uow);
}

#[test]
fn prune_with_nothing_old_enough_moves_no_anchor() {
    let mut h = Harness::new();
    h.repos.meta.expect_get().returning(|_| Ok(None));
    h.repos.meta.expect_put().never();
    chain(&mut h, &[now() - Duration::days(1)]);
    let (ports, uow) = h.build();
    assert_eq!(AuditUseCases::new(ports).prune(30).unwrap(), 0);
    assert_eq!(uow.events().len(), 1);
}

// ---- list_events: the caller's data room ------------------------------------------------------

/// Storage that records the filters of history queries and answers no events; any other
/// repository is out of bounds for a history query.
#[derive(Default)]
struct FilterSpy {
    filters: Mutex<Vec<EventFilter>>,
}

struct SpyRepos<'a>(&'a Mutex<Vec<EventFilter>>);

impl HistoryRepo for SpyRepos<'_> {
    fn head_for_update(&mut self) -> Result<(i64, String), StoreError> {
        unreachable!("a query writes nothing")
    }
    fn insert(&mut self, _: &StoredEvent, _: &str) -> Result<(), StoreError> {
        unreachable!("a query writes nothing")
    }
    fn set_head(&mut self, _: i64, _: &str, _: &str) -> Result<(), StoreError> {
        unreachable!("a query writes nothing")
    }
    fn head(&mut self) -> Result<(i64, String, String), StoreError> {
        unreachable!("a query does not verify")
    }
    fn list(
        &mut self,
        filter: &EventFilter,
        _after_seq: i64,
        _limit: u32,
    ) -> Result<Vec<(StoredEvent, String)>, StoreError> {
        self.0.lock().unwrap().push(filter.clone());
        Ok(Vec::new())
    }
    fn prune_before(&mut self, _: DateTime<Utc>) -> Result<Option<(i64, String)>, StoreError> {
        unreachable!("a query writes nothing")
    }
}

impl Repos for SpyRepos<'_> {
    fn clients(&mut self) -> &mut dyn ClientRepo {
        unreachable!("list_events reads only the history")
    }
    fn users(&mut self) -> &mut dyn UserRepo {
        unreachable!("list_events reads only the history")
    }
    fn policies(&mut self) -> &mut dyn PolicyRepo {
        unreachable!("list_events reads only the history")
    }
    fn credentials(&mut self) -> &mut dyn CredentialRepo {
        unreachable!("list_events reads only the history")
    }
    fn roles(&mut self) -> &mut dyn RoleRepo {
        unreachable!("list_events reads only the history")
    }
    fn deliveries(&mut self) -> &mut dyn DeliveryPort {
        unreachable!("list_events reads only the history")
    }
    fn meta(&mut self) -> &mut dyn MetaRepo {
        unreachable!("list_events reads only the history")
    }
    fn history(&mut self) -> &mut dyn HistoryRepo {
        self
    }
}

impl UnitOfWork for FilterSpy {
    fn run<'a>(
        &self,
        mode: TxMode,
        work: &mut (dyn FnMut(&mut dyn Repos) -> Result<(), AppError> + 'a),
    ) -> Result<(), AppError> {
        assert_eq!(mode, TxMode::Read, "a query reads");
        work(&mut SpyRepos(&self.filters))
    }
}

/// The filters `caller`'s query reached the storage with, and the query's result.
fn list_events(
    caller: &Caller,
    query: EventQuery,
) -> (crate::error::AppResult<usize>, Vec<EventFilter>) {
    let (mut ports, _): (Ports, Arc<MockedUnitOfWork>) = Harness::new().build();
    let spy = Arc::new(FilterSpy::default());
    ports.uow = spy.clone();
    let result = AuditUseCases::new(ports)
        .list_events(caller, query, PageRequest::default())
        .map(|page| page.items.len());
    let filters = spy.filters.lock().unwrap().clone();
    (result, filters)
}

#[test]
fn a_caller_with_audit_view_for_one_client_sees_only_that_client() {
    let (result, filters) = list_events(&client_root(&["c1"]), EventQuery::default());
    assert_eq!(result, Ok(0));
    assert_eq!(
        filters,
        [EventFilter {
            data_room: Some(vec!["c1".into()]),
            include_system: false,
            ..EventFilter::default()
        }]
    );
}

#[test]
fn a_caller_with_audit_view_for_several_clients_sees_each_of_them() {
    let (result, filters) = list_events(&client_root(&["c2", "c1"]), EventQuery::default());
    assert_eq!(result, Ok(0));
    assert_eq!(filters.len(), 1);
    let mut room = filters[0].data_room.clone().unwrap();
    room.sort();
    assert_eq!(room, ["c1", "c2"]);
    assert!(!filters[0].include_system);
}

#[test]
fn a_root_sees_every_client_and_the_system_events() {
    let (result, filters) = list_events(&root(), EventQuery::default());
    assert_eq!(result, Ok(0));
    assert_eq!(
        filters,
        [EventFilter {
            data_room: None,
            include_system: true,
            ..EventFilter::default()
        }]
    );
}

#[test]
fn the_query_filters_are_passed_on_within_the_data_room() {
    let query = EventQuery {
        client_ext_id: None,
        user_ext_id: Some("u1".into()),
        action: Some("user.updated".into()),
        from: Some(earlier()),
        to: Some(now()),
        request_id: Some("req-9".into()),
    };
    let (result, filters) = list_events(&client_root(&["c1"]), query);
    assert_eq!(result, Ok(0));
    assert_eq!(
        filters,
        [EventFilter {
            data_room: Some(vec!["c1".into()]),
            include_system: false,
            client_ext_id: None,
            user_ext_id: Some("u1".into()),
            action: Some("user.updated".into()),
            from: Some(earlier()),
            to: Some(now()),
            request_id: Some("req-9".into()),
        }]
    );
}

#[test]
fn a_query_for_one_client_of_the_data_room_sees_that_client_without_system_events() {
    for caller in [root(), client_root(&["c1", "c2"])] {
        let query = EventQuery {
            client_ext_id: Some("c1".into()),
            ..EventQuery::default()
        };
        let (result, filters) = list_events(&caller, query);
        assert_eq!(result, Ok(0));
        assert_eq!(
            filters,
            [EventFilter {
                data_room: Some(vec!["c1".into()]),
                include_system: false,
                client_ext_id: Some("c1".into()),
                ..EventFilter::default()
            }]
        );
    }
}

#[test]
fn a_query_for_a_client_outside_the_data_room_is_refused_before_storage() {
    let caller = client_root(&["c1"]);
    let query = EventQuery {
        client_ext_id: Some("c2".into()),
        ..EventQuery::default()
    };
    let expected = caller
        .authorize(Requirement::rights(&[Right::AuditView]), Some("c2"), None)
        .map(|_| ())
        .unwrap_err();
    let (result, filters) = list_events(&caller, query);
    assert_eq!(result, Err(AppError::Domain(expected)));
    assert!(filters.is_empty(), "storage was queried: {filters:?}");
}

#[test]
fn a_caller_without_audit_view_is_refused_before_storage() {
    for caller in [
        user_admin(&["c1"]),
        helpdesk(&["c1"]),
        self_admin("c1", "u1"),
        nobody(),
    ] {
        let (result, filters) = list_events(&caller, EventQuery::default());
        assert_eq!(
            domain_err(result),
            DomainError::MissingRight(Right::AuditView),
            "{:?}",
            caller.grants
        );
        assert!(filters.is_empty(), "storage was queried: {filters:?}");
    }
}

// ---- record_denial ----------------------------------------------------------------------------

#[test]
fn a_denial_is_recorded_as_one_failed_access_event_of_the_caller_on_the_path() {
    let mut h = Harness::new();
    no_anchor(&mut h);
    let (ports, uow) = h.build();
    let caller = helpdesk(&["c1"]);
    let audit = AuditUseCases::new(ports);
    audit
        .record_denial(
            &caller,
            Some("c2".into()),
            Some("u9".into()),
            "errors.insufficientRightsFunction".into(),
        )
        .unwrap();
    assert_eq!(uow.actions(), ["access.denied"]);
    let e = event(&uow, "access.denied");
    assert_eq!(e.seq, 1);
    assert_eq!(e.event.outcome, Outcome::Failure);
    assert_eq!(e.event.actor, actor_of(&caller));
    assert_eq!(e.event.client_ext_id.as_deref(), Some("c2"));
    assert_eq!(e.event.user_ext_id.as_deref(), Some("u9"));
    assert_eq!(e.event.credential_ext_id, None);
    assert_eq!(e.event.policy_ext_id, None);
    assert_eq!(e.event.request_id.as_deref(), Some(REQUEST_ID));
    assert_eq!(e.event.time, now());
    assert_eq!(
        e.event.detail.as_deref(),
        Some("errors.insufficientRightsFunction")
    );
    assert!(e.event.changes.is_empty());
    assert!(crate::history::ACTIONS.contains(&"access.denied"));
    assert_eq!(audit.verify().unwrap(), Verification::Intact { events: 1 });
}

#[test]
fn a_denial_without_a_valid_path_target_is_recorded_without_one() {
    let (ports, uow) = Harness::new().build();
    let caller = nobody();
    AuditUseCases::new(ports)
        .record_denial(&caller, Some("a b".into()), None, "errors.x".into())
        .unwrap();
    let e = event(&uow, "access.denied");
    assert_eq!(e.event.client_ext_id, None);
    assert_eq!(e.event.user_ext_id, None);
    assert_eq!(e.event.actor, actor_of(&caller));
    assert_eq!(e.event.outcome, Outcome::Failure);
}
