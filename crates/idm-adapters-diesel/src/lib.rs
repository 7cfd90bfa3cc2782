//! idm-adapters-diesel
