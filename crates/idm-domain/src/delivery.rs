//! Out-of-band deliveries (SPEC §8.7): the parts of generated passwords meant for the user,
//! kept sealed in an outbox until a sender (mail, SMS) hands them over.

use chrono::{DateTime, Utc};

/// What a delivery carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeliveryKind {
    /// The part of a generated password not returned to the caller.
    PasswordRemainder,
}

impl DeliveryKind {
    /// The kind's stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryKind::PasswordRemainder => "password-remainder",
        }
    }

    /// Parses a stored name.
    pub fn parse(s: &str) -> Option<Self> {
        (s == "password-remainder").then_some(DeliveryKind::PasswordRemainder)
    }
}

/// One pending delivery. The payload is sealed (AES-256-GCM, SPEC §4.5); only an operator's
/// explicit request opens it.
#[derive(Clone, PartialEq, Eq)]
pub struct Delivery {
    /// Storage identity.
    pub id: String,
    /// The user's client.
    pub client_id: String,
    /// The recipient.
    pub user_id: String,
    /// The credential it belongs to.
    pub credential_id: String,
    /// What it carries.
    pub kind: DeliveryKind,
    /// `base64(nonce) "~" base64(ciphertext‖tag)`.
    pub sealed_payload: String,
    /// When it was queued.
    pub created: DateTime<Utc>,
}

impl std::fmt::Debug for Delivery {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Delivery")
            .field("id", &self.id)
            .field("user_id", &self.user_id)
            .field("kind", &self.kind)
            .field("created", &self.created)
            .finish_non_exhaustive()
    }
}
