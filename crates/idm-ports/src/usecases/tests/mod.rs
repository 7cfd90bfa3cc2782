//! Use-case unit tests over mockall mocks of every driven port (no database).

mod audit;
mod auth_api;
mod authenticate;
mod bootstrap;
mod clients;
mod clients_admin;
mod history;
mod login_info;
mod oath;
mod passwords;
mod policies;
mod privileged;
mod roles;
mod scim_search;
pub(crate) mod support;
mod token;
mod unavailable;
mod users;
mod users_admin;
mod vasco;
mod x_token;
