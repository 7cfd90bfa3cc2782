//! Timestamps: the domain's `DateTime<Utc>` stored as a UTC `TIMESTAMP` of microsecond
//! precision on both backends, so a value read back equals the one keyset pagination compares.

use chrono::{DateTime, NaiveDateTime, SubsecRound, Utc};

/// The stored form: UTC, truncated to microseconds (PostgreSQL's precision).
pub(crate) fn to_db(t: DateTime<Utc>) -> NaiveDateTime {
    t.naive_utc().trunc_subsecs(6)
}

/// The optional form of [`to_db`].
pub(crate) fn to_db_opt(t: Option<DateTime<Utc>>) -> Option<NaiveDateTime> {
    t.map(to_db)
}

/// Back to the domain's form.
pub(crate) fn from_db(t: NaiveDateTime) -> DateTime<Utc> {
    t.and_utc()
}

/// The optional form of [`from_db`].
pub(crate) fn from_db_opt(t: Option<NaiveDateTime>) -> Option<DateTime<Utc>> {
    t.map(from_db)
}
