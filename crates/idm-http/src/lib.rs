//! idm-http
