//! Typed identifiers, so a portal id can never be passed where a task id is meant.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::random::RandomSource;

macro_rules! typed_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(Uuid);

        impl $name {
            /// A fresh random (v4) id drawn from the injected random source.
            pub fn random(rng: &dyn RandomSource) -> Self {
                let mut bytes = [0u8; 16];
                rng.fill(&mut bytes);
                Self(uuid::Builder::from_random_bytes(bytes).into_uuid())
            }

            /// Wraps an existing UUID (e.g. read back from storage).
            pub const fn from_uuid(id: Uuid) -> Self {
                Self(id)
            }

            /// The UUID inside.
            pub const fn as_uuid(&self) -> &Uuid {
                &self.0
            }

            /// The 16 raw bytes, for compact storage keys.
            pub const fn as_bytes(&self) -> &[u8; 16] {
                self.0.as_bytes()
            }

            /// Rebuilds an id from 16 raw bytes.
            pub const fn from_bytes(bytes: [u8; 16]) -> Self {
                Self(Uuid::from_bytes(bytes))
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, concat!(stringify!($name), "({})"), self.0)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Display::fmt(&self.0, f)
            }
        }

        impl FromStr for $name {
            type Err = crate::Error;
            /// Accepts only the canonical spelling (lower-case, hyphenated, 36
            /// characters), so one id has one URL and one log spelling.
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match Uuid::try_parse(s) {
                    Ok(id) if s.len() == 36 && id.hyphenated().to_string() == s => Ok(Self(id)),
                    _ => Err(crate::Error::invalid(stringify!($name), "not a valid id")),
                }
            }
        }
    };
}

typed_id!(
    /// An MSP (the tenant of the portal software).
    TenantId
);
typed_id!(
    /// One client company's onboarding portal.
    PortalId
);
typed_id!(
    /// A person at the client company who may open the portal.
    ContactId
);
typed_id!(
    /// A phase of the onboarding plan.
    PhaseId
);
typed_id!(
    /// A task inside a phase.
    TaskId
);
typed_id!(
    /// A question a client asked through "Ask a Question".
    QuestionId
);
typed_id!(
    /// One uploaded file (a version of a requested document), the record that says what
    /// a blob is.
    FileId
);
typed_id!(
    /// The stored content of one file (its encrypted bytes in a [`crate::blob::BlobStore`]).
    BlobId
);

typed_id!(
    /// A file the MSP attached to a task for the client to open (see
    /// [`crate::attachments`]).
    AttachmentId
);

typed_id!(
    /// An email in the outbox.
    MailId
);
typed_id!(
    /// A tenant's onboarding plan template.
    TemplateId
);
typed_id!(
    /// A webhook endpoint of a tenant (see [`crate::webhooks`]).
    EndpointId
);
typed_id!(
    /// One delivery of one event to one webhook endpoint; its `webhook-id` header is
    /// derived from it, so it is stable across retries and replays.
    DeliveryId
);
typed_id!(
    /// One claim of outbox emails by a sender: only the holder of the current claim can
    /// record the outcome of a send (see [`crate::store::OutboxStore`]).
    ClaimToken
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_parse_in_their_canonical_spelling_only() {
        let canonical = "0192f0c4-7c2e-7d1a-9f3b-2a1c5e8d4b6f";
        let id: TaskId = canonical.parse().unwrap();
        assert_eq!(id.to_string(), canonical);
        for other in [
            "0192F0C4-7C2E-7D1A-9F3B-2A1C5E8D4B6F",
            "0192f0c47c2e7d1a9f3b2a1c5e8d4b6f",
            "{0192f0c4-7c2e-7d1a-9f3b-2a1c5e8d4b6f}",
            "urn:uuid:0192f0c4-7c2e-7d1a-9f3b-2a1c5e8d4b6f",
            " 0192f0c4-7c2e-7d1a-9f3b-2a1c5e8d4b6f",
            "",
        ] {
            assert!(
                matches!(
                    other.parse::<TaskId>(),
                    Err(crate::Error::Invalid {
                        field: "TaskId",
                        ..
                    })
                ),
                "{other:?} was accepted"
            );
        }
    }
}
