//! Use-case unit tests over mockall mocks of every driven port (no database).

mod authenticate;
mod bootstrap;
mod clients;
mod history;
mod login_info;
mod oath;
mod passwords;
mod policies;
mod privileged;
mod roles;
pub(crate) mod support;
mod token;
mod unavailable;
mod users;
mod vasco;
mod x_token;
