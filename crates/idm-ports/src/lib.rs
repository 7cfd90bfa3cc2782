//! idm-ports
