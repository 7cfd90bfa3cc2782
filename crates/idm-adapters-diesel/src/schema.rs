//! Table definitions matching `migrations/{postgres,sqlite}/*_initial/up.sql`.
//!
//! Written by hand (not `diesel print-schema`) because one definition must serve both backends.

diesel::table! {
    clients (id) {
        id -> Text,
        ext_id -> Text,
        name -> Text,
        created -> Timestamp,
        last_modified -> Timestamp,
        version -> BigInt,
    }
}

diesel::table! {
    users (id) {
        id -> Text,
        client_id -> Text,
        ext_id -> Text,
        login_id -> Text,
        user_state -> Text,
        language_code -> Text,
        is_technical_user -> Bool,
        title -> Nullable<Text>,
        first_name -> Nullable<Text>,
        family_name -> Nullable<Text>,
        email -> Nullable<Text>,
        mobile -> Nullable<Text>,
        last_login -> Nullable<Timestamp>,
        last_login_failure -> Nullable<Timestamp>,
        created -> Timestamp,
        last_modified -> Timestamp,
        version -> BigInt,
        external_id -> Nullable<Text>,
    }
}

diesel::table! {
    policies (id) {
        id -> Text,
        client_id -> Text,
        ext_id -> Text,
        name -> Text,
        description -> Nullable<Text>,
        policy_type -> Text,
        is_default -> Bool,
        parameters -> Text,
        created -> Timestamp,
        last_modified -> Timestamp,
        version -> BigInt,
    }
}

diesel::table! {
    credentials (id) {
        id -> Text,
        client_id -> Text,
        user_id -> Nullable<Text>,
        ext_id -> Text,
        credential_type -> Text,
        policy_id -> Text,
        state -> Text,
        state_change_reason -> Text,
        state_change_detail -> Nullable<Text>,
        last_successful_login -> Nullable<Timestamp>,
        successful_login_count -> BigInt,
        last_failed_login -> Nullable<Timestamp>,
        failed_login_count -> BigInt,
        modification_comment -> Nullable<Text>,
        validity_from -> Timestamp,
        validity_to -> Timestamp,
        locked_until -> Nullable<Timestamp>,
        reset_count -> BigInt,
        password_hash -> Nullable<Text>,
        oath_issuer -> Nullable<Text>,
        oath_method -> Nullable<Text>,
        oath_algorithm -> Nullable<Text>,
        oath_digits -> Nullable<Integer>,
        oath_period -> Nullable<Integer>,
        oath_counter -> Nullable<BigInt>,
        oath_secret -> Nullable<Text>,
        oath_label -> Nullable<Text>,
        created -> Timestamp,
        last_modified -> Timestamp,
        version -> BigInt,
        secret_epoch -> BigInt,
        pending_attempts -> BigInt,
        pending_until -> Nullable<Timestamp>,
    }
}

diesel::table! {
    vasco_tokens (credential_id, position) {
        credential_id -> Text,
        position -> Integer,
        auth_mode -> Text,
        data -> Text,
    }
}

diesel::table! {
    role_grants (id) {
        id -> Text,
        user_id -> Text,
        role -> Text,
        client_ext_ids -> Nullable<Text>,
        created -> Timestamp,
    }
}

diesel::table! {
    delivery_outbox (id) {
        id -> Text,
        client_id -> Text,
        user_id -> Text,
        credential_id -> Nullable<Text>,
        kind -> Text,
        payload -> Text,
        created -> Timestamp,
        delivered_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    server_meta (name) {
        name -> Text,
        value -> Text,
    }
}

diesel::table! {
    history_events (seq) {
        seq -> BigInt,
        time -> Timestamp,
        request_id -> Nullable<Text>,
        action -> Text,
        outcome -> Text,
        actor -> Text,
        actor_client -> Nullable<Text>,
        actor_user -> Nullable<Text>,
        client_ext_id -> Nullable<Text>,
        user_ext_id -> Nullable<Text>,
        credential_ext_id -> Nullable<Text>,
        policy_ext_id -> Nullable<Text>,
        changes -> Text,
        detail -> Nullable<Text>,
        prev_hash -> Text,
        hash -> Text,
    }
}

diesel::table! {
    history_head (id) {
        id -> Integer,
        seq -> BigInt,
        hash -> Text,
        mac -> Text,
    }
}

diesel::joinable!(users -> clients (client_id));
diesel::joinable!(policies -> clients (client_id));
diesel::joinable!(credentials -> users (user_id));
diesel::joinable!(credentials -> policies (policy_id));
diesel::joinable!(vasco_tokens -> credentials (credential_id));
diesel::joinable!(role_grants -> users (user_id));

diesel::allow_tables_to_appear_in_same_query!(
    clients,
    users,
    policies,
    credentials,
    vasco_tokens,
    role_grants,
    delivery_outbox,
);
