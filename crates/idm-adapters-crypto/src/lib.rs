//! idm-adapters-crypto
