//! Tests of the whole app against mocked use cases: routes, mapping, envelopes, headers.

mod auth_api;
mod clients;
mod generic;
mod health;
mod log_capture;
mod logging;
mod login_info;
mod metrics;
mod oath;
mod openapi;
mod passwords;
mod policies;
mod principal;
mod roles;
mod scim;
mod server;
mod support;
mod token;
mod users;
mod vasco;
