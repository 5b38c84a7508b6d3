//! The admin API's errors as `application/problem+json` (RFC 9457): the ONE mapping
//! from a core [`Error`] (or a refusal of the request itself) to a problem type, status,
//! title and detail.
//!
//! Problem `type`s are stable URIs under [`PROBLEM_BASE`]; a client branches on them,
//! never on `title` or `detail`. The list (also in `docs/admin-api.md`):
//!
//! | type | status | when |
//! | --- | --- | --- |
//! | `unauthorized` | 401 | no or invalid credentials |
//! | `forbidden` | 403 | the staff role may not do this |
//! | `not-found` | 404 | no such resource (or another tenant's), or no such route |
//! | `method-not-allowed` | 405 | known route, other method (`Allow` says which) |
//! | `conflict` | 409 | the change clashes with the current state |
//! | `idempotency-key-in-use` | 409 | the same request under this key is still running |
//! | `gone` | 410 | expired |
//! | `precondition-failed` | 412 | `If-Match` does not match the current `ETag` |
//! | `payload-too-large` | 413 | body over the limit |
//! | `unsupported-media-type` | 415 | body is not `application/json` |
//! | `validation` | 422 | a field is invalid (`errors: [{field, detail}]`) |
//! | `malformed-json` | 400 | the body is not JSON |
//! | `idempotency-key-reused` | 422 | the key was used for a different request |
//! | `precondition-required` | 428 | an update without `If-Match` |
//! | `rate-limited` | 429 | a limit was reached |
//! | `storage-full` | 503 | the server is out of space; nothing was saved |
//! | `unavailable` | 503 | a dependency (mail) failed |
//! | `server-error` | 500 | anything else (details only in the server's log) |

use http::StatusCode;
use portal_core::error::{Entity, Error};
use serde::Serialize;

use super::auth::AuthRefusal;

/// Where problem type URIs live. Not fetched by anyone: an identifier.
pub const PROBLEM_BASE: &str = "https://portal.example/problems/";

/// The content type of every error answer.
pub const PROBLEM_JSON: &str = "application/problem+json";

/// Why an admin request failed.
#[derive(Debug)]
pub(crate) enum ApiError {
    /// The core refused or failed.
    Core(Error),
    /// The request has no usable credentials.
    Unauthorized(AuthRefusal),
    /// No route at this path.
    NoRoute,
    /// A known path with another method; the methods it takes.
    MethodNotAllowed(String),
    /// The body is not `application/json`.
    UnsupportedMediaType,
    /// The body is over the limit.
    TooLarge { max_bytes: usize },
    /// The body is not JSON at all.
    MalformedJson(String),
    /// The body could not be read (the connection broke, or it was too slow).
    BodyUnreadable,
    /// An update without `If-Match`.
    PreconditionRequired,
    /// `If-Match` names another version.
    PreconditionFailed,
    /// The same idempotent request is running.
    KeyInUse,
    /// The idempotency key was used for another request.
    KeyReused,
}

impl From<Error> for ApiError {
    fn from(e: Error) -> Self {
        ApiError::Core(e)
    }
}

/// One offending field of a validation problem.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub(crate) struct FieldError {
    /// The field, as named in the request (`title`, `kind.duration_minutes`, a header).
    pub field: String,
    /// What is wrong and how to fix it.
    pub detail: String,
}

/// An RFC 9457 problem document.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub(crate) struct Problem {
    /// Stable type URI.
    #[serde(rename = "type")]
    pub kind: String,
    /// Short summary of the type.
    pub title: &'static str,
    /// The HTTP status.
    pub status: u16,
    /// This occurrence, in words.
    pub detail: String,
    /// Validation problems: the fields to fix.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
}

impl Problem {
    fn new(slug: &str, status: StatusCode, title: &'static str, detail: impl Into<String>) -> Self {
        Self {
            kind: format!("{PROBLEM_BASE}{slug}"),
            title,
            status: status.as_u16(),
            detail: detail.into(),
            errors: Vec::new(),
        }
    }

    /// The status as a [`StatusCode`].
    pub fn status(&self) -> StatusCode {
        StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    /// A 422 naming `field`.
    pub fn validation(field: impl Into<String>, detail: impl Into<String>) -> Self {
        let detail = detail.into();
        let mut p = Self::new(
            "validation",
            StatusCode::UNPROCESSABLE_ENTITY,
            "Invalid input",
            detail.clone(),
        );
        p.errors.push(FieldError {
            field: field.into(),
            detail,
        });
        p
    }
}

fn not_found(entity: Entity) -> Problem {
    Problem::new(
        "not-found",
        StatusCode::NOT_FOUND,
        "Not found",
        format!("No such {} here.", entity.as_str()),
    )
}

/// The one mapping: every admin error becomes exactly one problem.
pub(crate) fn problem(err: &ApiError) -> Problem {
    match err {
        ApiError::Unauthorized(r) => Problem::new(
            "unauthorized",
            StatusCode::UNAUTHORIZED,
            "Unauthorized",
            r.detail(),
        ),
        ApiError::NoRoute => Problem::new(
            "not-found",
            StatusCode::NOT_FOUND,
            "Not found",
            "There is no API route at this address.",
        ),
        ApiError::MethodNotAllowed(allow) => Problem::new(
            "method-not-allowed",
            StatusCode::METHOD_NOT_ALLOWED,
            "Method not allowed",
            format!("This route takes {allow}."),
        ),
        ApiError::UnsupportedMediaType => Problem::new(
            "unsupported-media-type",
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "Unsupported media type",
            "Send the body as application/json.",
        ),
        ApiError::TooLarge { max_bytes } => Problem::new(
            "payload-too-large",
            StatusCode::PAYLOAD_TOO_LARGE,
            "Payload too large",
            format!("The body is over the {max_bytes} bytes this API accepts."),
        ),
        ApiError::MalformedJson(why) => Problem::new(
            "malformed-json",
            StatusCode::BAD_REQUEST,
            "Malformed JSON",
            format!("The body is not valid JSON: {why}"),
        ),
        ApiError::BodyUnreadable => Problem::new(
            "malformed-json",
            StatusCode::BAD_REQUEST,
            "Malformed JSON",
            "The body could not be read in time.",
        ),
        ApiError::PreconditionRequired => Problem::new(
            "precondition-required",
            StatusCode::PRECONDITION_REQUIRED,
            "Precondition required",
            "Send If-Match with the ETag you read, so a concurrent change is not overwritten.",
        ),
        ApiError::PreconditionFailed => Problem::new(
            "precondition-failed",
            StatusCode::PRECONDITION_FAILED,
            "Precondition failed",
            "It changed since you read it: read it again, then retry with the new ETag.",
        ),
        ApiError::KeyInUse => Problem::new(
            "idempotency-key-in-use",
            StatusCode::CONFLICT,
            "Idempotency key in use",
            "A request with this Idempotency-Key is still running; retry in a moment.",
        ),
        ApiError::KeyReused => {
            let mut p = Problem::new(
                "idempotency-key-reused",
                StatusCode::UNPROCESSABLE_ENTITY,
                "Idempotency key reused",
                "This Idempotency-Key was used for a different request.",
            );
            p.errors.push(FieldError {
                field: "Idempotency-Key".to_owned(),
                detail: "use a new key for a different request".to_owned(),
            });
            p
        }
        ApiError::Core(e) => core_problem(e),
    }
}

fn core_problem(err: &Error) -> Problem {
    match err {
        Error::NotFound { entity } => not_found(*entity),
        Error::Invalid { field, reason } => Problem::validation(*field, reason.clone()),
        Error::InvalidFields { errors } => {
            let mut p = Problem::new(
                "validation",
                StatusCode::UNPROCESSABLE_ENTITY,
                "Invalid input",
                format!("{} field(s) to fix.", errors.len()),
            );
            p.errors = errors
                .iter()
                .map(|(field, detail)| FieldError {
                    field: field.clone(),
                    detail: detail.to_string(),
                })
                .collect();
            p
        }
        Error::Forbidden { reason } => Problem::new(
            "forbidden",
            StatusCode::FORBIDDEN,
            "Forbidden",
            reason.clone(),
        ),
        Error::Conflict { reason } => {
            Problem::new("conflict", StatusCode::CONFLICT, "Conflict", reason.clone())
        }
        // The version named by If-Match was current when checked but not when the
        // store compared it inside its unit: the same answer as a stale If-Match.
        Error::Stale { reason } => Problem::new(
            "precondition-failed",
            StatusCode::PRECONDITION_FAILED,
            "Precondition failed",
            reason.clone(),
        ),
        Error::Expired { entity } => Problem::new(
            "gone",
            StatusCode::GONE,
            "Gone",
            format!("The {} has expired.", entity.as_str()),
        ),
        Error::Revoked { entity } => Problem::new(
            "conflict",
            StatusCode::CONFLICT,
            "Conflict",
            format!("The {} was revoked.", entity.as_str()),
        ),
        Error::PortalClosed { status } => Problem::new(
            "conflict",
            StatusCode::CONFLICT,
            "Conflict",
            format!("The portal is {}.", status.as_str()),
        ),
        Error::LimitReached(limit) => Problem::new(
            "rate-limited",
            StatusCode::TOO_MANY_REQUESTS,
            "Limit reached",
            limit.to_string(),
        ),
        Error::TooLarge { max_bytes } => Problem::new(
            "payload-too-large",
            StatusCode::PAYLOAD_TOO_LARGE,
            "Payload too large",
            format!("The limit is {max_bytes} bytes."),
        ),
        Error::StorageFull { .. } => {
            tracing::error!(error = %err, "out of storage space: an admin change was not saved");
            Problem::new(
                "storage-full",
                StatusCode::SERVICE_UNAVAILABLE,
                "Out of storage space",
                "The server is out of storage space; nothing was saved. Try again later.",
            )
        }
        Error::Mail { .. } => {
            tracing::error!(error = %err, "the mail transport refused an email");
            Problem::new(
                "unavailable",
                StatusCode::SERVICE_UNAVAILABLE,
                "Mail unavailable",
                "The mail service did not accept the message; try again in a moment.",
            )
        }
        other => {
            tracing::error!(error = %other, source = ?std::error::Error::source(other), "admin request failed");
            Problem::new(
                "server-error",
                StatusCode::INTERNAL_SERVER_ERROR,
                "Server error",
                "Something went wrong on the server; it was logged.",
            )
        }
    }
}

/// Every problem type slug, for the OpenAPI document and the docs.
pub(crate) const PROBLEM_TYPES: &[&str] = &[
    "unauthorized",
    "forbidden",
    "not-found",
    "method-not-allowed",
    "conflict",
    "idempotency-key-in-use",
    "gone",
    "precondition-failed",
    "payload-too-large",
    "unsupported-media-type",
    "validation",
    "malformed-json",
    "idempotency-key-reused",
    "precondition-required",
    "rate-limited",
    "storage-full",
    "unavailable",
    "server-error",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validation_names_the_field() {
        let p = problem(&ApiError::Core(Error::invalid("title", "give a title")));
        assert_eq!(p.status, 422);
        assert_eq!(p.kind, "https://portal.example/problems/validation");
        assert_eq!(p.errors[0].field, "title");
    }

    #[test]
    fn every_type_is_listed() {
        let errs = [
            ApiError::NoRoute,
            ApiError::PreconditionFailed,
            ApiError::PreconditionRequired,
            ApiError::KeyInUse,
            ApiError::KeyReused,
            ApiError::UnsupportedMediaType,
            ApiError::TooLarge { max_bytes: 1 },
            ApiError::MalformedJson(String::new()),
            ApiError::Core(Error::storage_msg("x")),
            ApiError::Core(Error::Forbidden { reason: "x".into() }),
        ];
        for e in errs {
            let p = problem(&e);
            let slug = p.kind.trim_start_matches(PROBLEM_BASE);
            assert!(PROBLEM_TYPES.contains(&slug), "{slug}");
        }
        let p = problem(&ApiError::Core(Error::storage_msg("disk I/O at /secret")));
        assert!(!p.detail.contains("secret"));
    }
}
