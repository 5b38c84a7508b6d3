//! Why a handler produced no page of its own, and the one mapping from that to the
//! error page a client sees. Errors are matched by meaning (variant and [`Entity`]),
//! and every duration or count on the page comes from the [`AccessPolicy`], so the
//! page never promises other rules than the ones enforced.

use http::StatusCode;
use portal_core::AccessPolicy;
use portal_core::error::{Entity, Error, Limit};
use portal_core::model::{Branding, PortalStatus, TimeZone};

use super::{PortalApp, Req};
use crate::cookies::{self, Jar};
use crate::respond::Reply;
use portal_core::i18n::Texts;
use portal_core::wording::{bytes_in, duration_in};

/// Seconds a client is asked to wait after "out of storage space" (`Retry-After`).
const STORAGE_FULL_RETRY_AFTER: &str = "300";

/// A problem of the request itself, found before the core was asked anything.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Refusal {
    /// A form post that is not `application/x-www-form-urlencoded`.
    NotAForm,
    /// A form body over the configured limit.
    FormTooLarge,
    /// The body could not be read (the connection broke).
    BodyUnreadable,
    /// The body arrived too slowly (`HttpConfig::body_timeout`): 408, and the
    /// connection is closed.
    BodyTooSlow,
    /// The CSRF token is missing or does not match the browser's cookie.
    StaleForm,
    /// A known address with a method it does not accept.
    MethodNotAllowed,
    /// A state-changing request sent from another site (its `Origin`, or
    /// `Sec-Fetch-Site: cross-site`).
    CrossOrigin,
    /// A signed-in session posted more writes within a minute than `per_minute`.
    TooManyWrites {
        /// The configured limit, for the page's wording.
        per_minute: u32,
    },
    /// The client's network (IPv4 address or IPv6 /64) reached one of its hourly
    /// limits on starting verifications or entering codes (see `ip_limit`).
    TooManyFromNetwork {
        /// Seconds until one more attempt would be admitted (at least 1).
        retry_after_secs: i64,
    },
}

#[derive(Debug)]
enum Problem {
    Core(Error),
    Request(Refusal),
}

/// Why a handler could not answer with its own page: an error of the core (or of the
/// request), the branding to show it with when the portal is known, and a way back.
#[derive(Debug)]
pub(super) struct Failure {
    problem: Problem,
    branding: Option<Branding>,
    back: Option<(String, &'static str)>,
    clear_session: bool,
    /// The zone the page's times are shown in (the contact's, when known).
    zone: TimeZone,
}

impl From<Error> for Failure {
    fn from(error: Error) -> Self {
        Self {
            problem: Problem::Core(error),
            branding: None,
            back: None,
            clear_session: false,
            zone: TimeZone::UTC,
        }
    }
}

impl From<Refusal> for Failure {
    fn from(refusal: Refusal) -> Self {
        Self {
            problem: Problem::Request(refusal),
            branding: None,
            back: None,
            clear_session: false,
            zone: TimeZone::UTC,
        }
    }
}

impl Failure {
    /// Shows the page in the portal's branding.
    pub(super) fn branded(mut self, branding: Option<Branding>) -> Self {
        self.branding = branding;
        self
    }

    /// Whether the page already shows a portal's branding.
    pub(super) const fn has_branding(&self) -> bool {
        self.branding.is_some()
    }

    /// Whether the page already offers a way back.
    pub(super) const fn has_back(&self) -> bool {
        self.back.is_some()
    }

    /// Whether answering this failure deletes the session cookie.
    pub(super) const fn ends_session(&self) -> bool {
        self.clear_session
    }

    /// Shows the page's times in the contact's `zone` (named), not UTC.
    pub(super) fn in_zone(mut self, zone: TimeZone) -> Self {
        self.zone = zone;
        self
    }

    /// Offers a link back to `href` (where trying again makes sense), labelled with
    /// the catalog message `label`.
    pub(super) fn back_to(mut self, href: String, label: &'static str) -> Self {
        self.back = Some((href, label));
        self
    }

    /// Also deletes the session cookie (the session is gone for good).
    pub(super) fn clearing_session(mut self) -> Self {
        self.clear_session = true;
        self
    }

    /// The core's error, if the core refused.
    pub(super) fn error(&self) -> Option<&Error> {
        match &self.problem {
            Problem::Core(e) => Some(e),
            Problem::Request(_) => None,
        }
    }
}

/// What an error page says.
#[derive(Debug, PartialEq, Eq)]
struct Explanation {
    status: StatusCode,
    heading: String,
    paragraphs: Vec<String>,
}

fn explain(status: StatusCode, heading: String, paragraph: impl Into<String>) -> Explanation {
    Explanation {
        status,
        heading,
        paragraphs: vec![paragraph.into()],
    }
}

/// The page for a refusal of the request.
fn explain_refusal(refusal: Refusal, t: Texts) -> Explanation {
    match refusal {
        Refusal::NotAForm => explain(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            t.text("error-unsupported-form-title"),
            t.text("error-unsupported-form-text"),
        ),
        Refusal::FormTooLarge => explain(
            StatusCode::PAYLOAD_TOO_LARGE,
            t.text("error-form-too-large-title"),
            t.text("error-form-too-large-text"),
        ),
        Refusal::BodyTooSlow => explain(
            StatusCode::REQUEST_TIMEOUT,
            t.text("error-the-form-took-too-title"),
            t.text("error-the-form-took-too-text"),
        ),
        // Answered in plain text before this is used; kept for completeness.
        Refusal::BodyUnreadable => explain(
            StatusCode::BAD_REQUEST,
            t.text("error-the-request-could-not-title"),
            t.text("error-the-request-could-not-text"),
        ),
        Refusal::StaleForm => explain(
            StatusCode::FORBIDDEN,
            t.text("error-this-page-has-expired-title"),
            t.text("error-this-page-has-expired-text"),
        ),
        Refusal::MethodNotAllowed => explain(
            StatusCode::METHOD_NOT_ALLOWED,
            t.text("error-not-allowed-title"),
            t.text("error-not-allowed-text"),
        ),
        Refusal::CrossOrigin => explain(
            StatusCode::FORBIDDEN,
            t.text("error-this-form-came-from-title"),
            t.text("error-this-form-came-from-text"),
        ),
        Refusal::TooManyWrites { per_minute } => explain(
            StatusCode::TOO_MANY_REQUESTS,
            t.text("error-slow-down-title"),
            t.text_with("error-slow-down-text", &[("count", per_minute.into())]),
        ),
        Refusal::TooManyFromNetwork { retry_after_secs } => explain(
            StatusCode::TOO_MANY_REQUESTS,
            t.text("error-network-title"),
            t.text_with(
                "error-network-text",
                &[("count", minutes_up(retry_after_secs).into())],
            ),
        ),
    }
}

/// Whole minutes, rounded up, so the page never says "0 minutes" nor less than the
/// `Retry-After` it comes with.
fn minutes_up(secs: i64) -> i64 {
    secs.max(1).saturating_add(59) / 60
}

/// The page for an error of the core, worded from `policy`. Logs what the client is
/// not shown (storage and mail failures).
fn explain_error(err: &Error, policy: &AccessPolicy, zone: TimeZone, t: Texts) -> Explanation {
    let lang = t.language;
    match err {
        Error::NotFound {
            entity: Entity::Session,
        }
        | Error::Expired {
            entity: Entity::Session,
        } => explain(
            StatusCode::UNAUTHORIZED,
            t.text("error-please-sign-in-again-title"),
            t.text("error-please-sign-in-again-text"),
        ),
        Error::NotFound {
            entity: Entity::Verification,
        } => explain(
            StatusCode::NOT_FOUND,
            t.text("error-this-signin-has-ended-title"),
            t.text("error-this-signin-has-ended-text"),
        ),
        Error::NotFound {
            entity: Entity::MagicLink,
        } => explain(
            StatusCode::NOT_FOUND,
            t.text("error-this-link-isnt-valid-title"),
            t.text("error-this-link-isnt-valid-text"),
        ),
        Error::NotFound {
            entity: Entity::Page,
        } => explain(
            StatusCode::NOT_FOUND,
            t.text("error-page-not-found-title"),
            t.text("error-page-not-found-text"),
        ),
        Error::NotFound {
            entity: Entity::Logo,
        } => explain(
            StatusCode::NOT_FOUND,
            t.text("error-not-found-title"),
            t.text("error-not-found-text"),
        ),
        Error::NotFound {
            entity: Entity::ReminderLink,
        } => explain(
            StatusCode::NOT_FOUND,
            t.text("error-this-link-isnt-valid-2-title"),
            t.text("error-this-link-isnt-valid-2-text"),
        ),
        Error::Expired {
            entity: Entity::ReminderLink,
        } => explain(
            StatusCode::GONE,
            t.text("error-this-link-has-expired-title"),
            t.text("error-this-link-has-expired-text"),
        ),
        Error::NotFound {
            entity: Entity::Meeting,
        } => explain(
            StatusCode::NOT_FOUND,
            t.text("error-no-meeting-scheduled-yet-title"),
            t.text("error-no-meeting-scheduled-yet-text"),
        ),
        Error::NotFound {
            entity: Entity::File,
        } => explain(
            StatusCode::NOT_FOUND,
            t.text("error-file-not-found-title"),
            t.text("error-file-not-found-text"),
        ),
        Error::NotFound {
            entity: Entity::Task | Entity::Phase | Entity::Question,
        } => explain(
            StatusCode::NOT_FOUND,
            t.text("error-not-found-2-title"),
            t.text("error-not-found-2-text"),
        ),
        Error::NotFound { .. } => explain(
            StatusCode::NOT_FOUND,
            t.text("error-this-link-isnt-valid-3-title"),
            t.text("error-this-link-isnt-valid-3-text"),
        ),
        Error::Expired {
            entity: Entity::Verification,
        } => explain(
            StatusCode::GONE,
            t.text("error-signin-expired-title"),
            t.text_with(
                "error-signin-expired-text",
                &[(
                    "duration",
                    duration_in(policy.verification_ttl, lang).into(),
                )],
            ),
        ),
        Error::Expired { .. } => explain(
            StatusCode::GONE,
            t.text("error-this-link-has-expired-title"),
            t.text_with(
                "error-code-expired-text",
                &[("duration", duration_in(policy.code_ttl, lang).into())],
            ),
        ),
        Error::Revoked { .. } => explain(
            StatusCode::FORBIDDEN,
            t.text("error-access-revoked-title"),
            t.text("error-access-revoked-text"),
        ),
        Error::PortalClosed {
            status: PortalStatus::Draft,
        } => explain(
            StatusCode::FORBIDDEN,
            t.text("error-this-portal-isnt-open-title"),
            t.text("error-this-portal-isnt-open-text"),
        ),
        Error::PortalClosed { .. } => explain(
            StatusCode::GONE,
            t.text("error-this-portal-is-closed-title"),
            t.text("error-this-portal-is-closed-text"),
        ),
        Error::LimitReached(Limit::CodesPerVerification) => explain(
            StatusCode::TOO_MANY_REQUESTS,
            t.text("error-too-many-codes-title"),
            t.text_with(
                "error-too-many-codes-text",
                &[("count", policy.max_codes_per_verification.into())],
            ),
        ),
        Error::LimitReached(Limit::WrongCodeAttempts) => explain(
            StatusCode::TOO_MANY_REQUESTS,
            t.text("error-wrong-tries-title"),
            t.text_with(
                "error-wrong-tries-text",
                &[("count", policy.max_wrong_attempts.into())],
            ),
        ),
        Error::LimitReached(Limit::ContactLockedOut { until, .. }) => explain(
            StatusCode::TOO_MANY_REQUESTS,
            t.text("error-locked-out-title"),
            t.text_with(
                "error-locked-out-text",
                &[(
                    "time",
                    portal_core::wording::local_time_in(*until, zone, lang).into(),
                )],
            ),
        ),
        Error::LimitReached(_) => explain(
            StatusCode::TOO_MANY_REQUESTS,
            t.text("error-too-many-emails-title"),
            t.text_with(
                "error-too-many-emails-text",
                &[
                    ("count", policy.max_emails_per_contact.into()),
                    ("duration", duration_in(policy.email_window, lang).into()),
                ],
            ),
        ),
        Error::Invalid { reason, .. } => explain(
            StatusCode::UNPROCESSABLE_ENTITY,
            t.text("error-check-input-title"),
            reason.in_language(lang),
        ),
        Error::Forbidden { .. } => explain(
            StatusCode::FORBIDDEN,
            t.text("error-not-allowed-2-title"),
            t.text("error-not-allowed-2-text"),
        ),
        Error::Conflict { reason } => explain(
            StatusCode::CONFLICT,
            t.text("error-conflict-title"),
            reason.in_language(lang),
        ),
        Error::Stale { reason } => explain(
            StatusCode::PRECONDITION_FAILED,
            t.text("error-stale-title"),
            reason.as_str(),
        ),
        Error::TooLarge { max_bytes } => explain(
            StatusCode::PAYLOAD_TOO_LARGE,
            t.text("error-too-large-title"),
            t.text_with(
                "error-too-large-text",
                &[("size", bytes_in(*max_bytes, lang).into())],
            ),
        ),
        Error::StorageFull { .. } => {
            tracing::error!(error = %err, "out of storage space: a change was not saved");
            explain(
                StatusCode::SERVICE_UNAVAILABLE,
                t.text("error-out-of-storage-space-title"),
                t.text("error-out-of-storage-space-text"),
            )
        }
        Error::Mail { .. } => {
            tracing::error!(error = %err, "the mail transport refused an email");
            Explanation {
                status: StatusCode::SERVICE_UNAVAILABLE,
                heading: t.text("error-mail-title"),
                paragraphs: vec![
                    t.text("error-mail-text"),
                    t.text("error-something-went-wrong-on-text"),
                ],
            }
        }
        other => {
            tracing::error!(error = %other, source = ?std::error::Error::source(other), "request failed");
            explain(
                StatusCode::INTERNAL_SERVER_ERROR,
                t.text("error-something-went-wrong-on-title"),
                t.text("error-something-went-wrong-on-text"),
            )
        }
    }
}

/// An RFC 9457 problem document, for the upload script (which shows `detail`).
pub(super) fn problem_json(status: StatusCode, title: &str, detail: &str) -> Reply {
    Reply::json(
        status,
        "application/problem+json",
        &serde_json::json!({
            "type": "about:blank",
            "title": title,
            "status": status.as_u16(),
            "detail": detail,
        }),
    )
}

impl PortalApp {
    /// A failure as a problem document, for a request that asked for JSON: the same
    /// status and words as its page.
    pub(super) fn failure_json(&self, req: &Req, failure: Failure) -> Reply {
        let t = req.texts();
        let explanation = match &failure.problem {
            Problem::Core(e) => explain_error(e, self.service.policy(), failure.zone, t),
            Problem::Request(r) => explain_refusal(*r, t),
        };
        let reply = problem_json(
            explanation.status,
            &explanation.heading,
            &explanation.paragraphs.join(" "),
        );
        self.failure_extras(&failure, reply)
    }

    /// What every answer to `failure` carries besides its body.
    fn failure_extras(&self, failure: &Failure, mut reply: Reply) -> Reply {
        match failure.problem {
            Problem::Request(Refusal::TooManyWrites { .. }) => {
                // The window is a minute: by then the oldest write has left it.
                reply
                    .extra
                    .push((http::header::RETRY_AFTER, "60".to_owned()));
            }
            Problem::Request(Refusal::TooManyFromNetwork { retry_after_secs }) => {
                reply.extra.push((
                    http::header::RETRY_AFTER,
                    retry_after_secs.max(1).to_string(),
                ));
            }
            Problem::Core(Error::StorageFull { .. }) => {
                // Space comes back when an operator frees it: a guess, not a promise.
                reply.extra.push((
                    http::header::RETRY_AFTER,
                    STORAGE_FULL_RETRY_AFTER.to_owned(),
                ));
            }
            _ => {}
        }
        if failure.clear_session {
            reply.cookie(cookies::clear(&self.config, Jar::Session))
        } else {
            reply
        }
    }

    /// The page for a failure: the one place a [`Failure`] becomes a page.
    pub(super) fn failure_page(&self, req: &Req, failure: Failure) -> Reply {
        let t = req.texts();
        let explanation = match &failure.problem {
            Problem::Core(e) => explain_error(e, self.service.policy(), failure.zone, t),
            Problem::Request(Refusal::BodyUnreadable) => {
                return Reply::text(
                    StatusCode::BAD_REQUEST,
                    "The request body could not be read.",
                );
            }
            Problem::Request(r) => explain_refusal(*r, t),
        };
        let back = failure
            .back
            .as_ref()
            .map(|(href, key)| (href.clone(), t.text(key)));
        let paragraphs: Vec<&str> = explanation.paragraphs.iter().map(String::as_str).collect();
        let reply = self.message(
            req,
            explanation.status,
            failure.branding.as_ref(),
            &explanation.heading,
            &paragraphs,
            back.as_ref()
                .map(|(href, label)| (href.clone(), label.as_str())),
        );
        self.failure_extras(&failure, reply)
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeDelta;

    use super::*;

    fn policy(code_ttl: TimeDelta, window: TimeDelta) -> AccessPolicy {
        AccessPolicy {
            code_ttl,
            email_window: window,
            max_emails_per_contact: 4,
            max_codes_per_verification: 3,
            max_wrong_attempts: 1,
            ..AccessPolicy::default()
        }
    }

    fn says(e: &Error, p: &AccessPolicy) -> (u16, String) {
        let x = explain_error(e, p, TimeZone::UTC, Texts::default());
        (x.status.as_u16(), x.paragraphs.join(" "))
    }

    #[test]
    fn durations_and_counts_come_from_the_policy() {
        let p = policy(TimeDelta::minutes(10), TimeDelta::hours(2));
        let (status, text) = says(&Error::expired(Entity::Code), &p);
        assert_eq!(status, 410);
        assert!(text.contains("work for 10 minutes."), "{text}");
        let (status, text) = says(&Error::LimitReached(Limit::EmailsPerContact), &p);
        assert_eq!(status, 429);
        assert!(
            text.contains("sent 4 verification emails to this address within 2 hours"),
            "{text}"
        );
        let (status, text) = says(&Error::expired(Entity::Verification), &p);
        assert_eq!(status, 410);
        assert!(text.contains("works for 2 hours 30 minutes from"), "{text}");
        let until = chrono::DateTime::parse_from_rfc3339("2026-11-29T10:05:00Z")
            .unwrap()
            .with_timezone(&chrono::Utc);
        let (status, text) = says(
            &Error::LimitReached(Limit::ContactLockedOut {
                until,
                started: true,
            }),
            &p,
        );
        assert_eq!(status, 429);
        assert!(
            text.contains("try again after Sun 29 Nov 2026, 10:05 UTC."),
            "{text}"
        );
        // For a contact whose zone is known: their local time, named.
        let auckland = TimeZone::parse("Pacific/Auckland").unwrap();
        let lockout = Error::LimitReached(Limit::ContactLockedOut {
            until,
            started: false,
        });
        let text = explain_error(&lockout, &p, auckland, Texts::default())
            .paragraphs
            .join(" ");
        assert!(
            text.contains("try again after Sun 29 Nov 2026, 23:05 NZDT (Pacific/Auckland)."),
            "{text}"
        );
        let (_, text) = says(&Error::LimitReached(Limit::CodesPerVerification), &p);
        assert!(text.contains("already sent 3 codes"), "{text}");
        let (_, text) = says(&Error::LimitReached(Limit::WrongCodeAttempts), &p);
        assert!(text.contains("entered wrongly 1 time and"), "{text}");
    }

    #[test]
    fn the_error_page_says_a_reason_in_the_page_language() {
        let p = AccessPolicy::default();
        let es = Texts::new(portal_core::i18n::Language::Es);
        let conflict = Error::conflict(portal_core::Reason::message(
            "reason-task-already-complete",
            &[],
        ));
        let x = explain_error(&conflict, &p, TimeZone::UTC, es);
        assert_eq!(x.paragraphs, ["Esta tarea ya está completada."]);
        let x = explain_error(&conflict, &p, TimeZone::UTC, Texts::default());
        assert_eq!(x.paragraphs, ["This task is already complete."]);
        let invalid = Error::invalid(
            "comment",
            portal_core::Reason::message("reason-text-empty", &[]),
        );
        let x = explain_error(&invalid, &p, TimeZone::UTC, es);
        assert_eq!(x.paragraphs, ["no puede quedar vacío"]);
        // A reason only staff meet has no translation: its English text, in any page.
        let plain = Error::conflict("the plan changed");
        let x = explain_error(&plain, &p, TimeZone::UTC, es);
        assert_eq!(x.paragraphs, ["the plan changed"]);
    }

    #[test]
    fn the_default_policy_reads_as_before() {
        let p = AccessPolicy::default();
        let (_, text) = says(&Error::expired(Entity::MagicLink), &p);
        assert!(text.contains("work for 30 minutes."), "{text}");
        let (_, text) = says(&Error::LimitReached(Limit::EmailsPerContact), &p);
        assert!(
            text.contains("10 verification emails to this address within an hour"),
            "{text}"
        );
    }

    #[test]
    fn mail_and_storage_details_stay_in_the_log() {
        let p = AccessPolicy::default();
        let mail = Error::Mail {
            message: "smtp.example.net said 554 relay denied".to_owned(),
        };
        let x = explain_error(&mail, &p, TimeZone::UTC, Texts::default());
        assert_eq!(x.status, StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(x.heading, "We couldn't send the email");
        assert!(
            x.paragraphs
                .join(" ")
                .contains("Please try again in a moment.")
        );
        assert!(!x.paragraphs.join(" ").contains("554"));
        let x = explain_error(
            &Error::TooLarge {
                max_bytes: 25_000_000,
            },
            &p,
            TimeZone::UTC,
            Texts::default(),
        );
        assert_eq!(x.status, StatusCode::PAYLOAD_TOO_LARGE);
        assert!(
            x.paragraphs[0].contains("the 24 MB allowed"),
            "the limit reads as the task page writes it (binary units): {:?}",
            x.paragraphs
        );
        let x = explain_error(
            &Error::TooLarge {
                max_bytes: 100 * 1024 * 1024,
            },
            &p,
            TimeZone::UTC,
            Texts::default(),
        );
        assert!(
            x.paragraphs[0].contains("the 100 MB allowed"),
            "{:?}",
            x.paragraphs
        );
        let x = explain_error(
            &Error::storage_full("SQLite: the disk is full while adding a comment at /data"),
            &p,
            TimeZone::UTC,
            Texts::default(),
        );
        assert_eq!(x.status, StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(
            x.paragraphs,
            [
                "The server is out of storage space, so your change was not saved. Please try again later."
            ]
        );
        let x = explain_error(
            &Error::storage_msg("disk I/O error at page 7"),
            &p,
            TimeZone::UTC,
            Texts::default(),
        );
        assert_eq!(x.status, StatusCode::INTERNAL_SERVER_ERROR);
        assert!(!x.paragraphs.join(" ").contains("disk"));
    }

    #[test]
    fn a_network_limit_says_when_to_come_back_in_whole_minutes() {
        let x = explain_refusal(
            Refusal::TooManyFromNetwork {
                retry_after_secs: 61,
            },
            Texts::default(),
        );
        assert_eq!(x.status, StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(x.heading, "Too many attempts from your network");
        assert!(x.paragraphs[0].contains("try again in 2 minutes"), "{x:?}");
        let x = explain_refusal(
            Refusal::TooManyFromNetwork {
                retry_after_secs: 1,
            },
            Texts::default(),
        );
        assert!(x.paragraphs[0].contains("try again in 1 minute."), "{x:?}");
        assert_eq!(minutes_up(3600), 60);
        assert_eq!(minutes_up(0), 1);
    }

    #[test]
    fn not_found_is_told_apart_by_entity() {
        let p = AccessPolicy::default();
        let heading = |entity| {
            explain_error(
                &Error::not_found(entity),
                &p,
                TimeZone::UTC,
                Texts::default(),
            )
            .heading
        };
        assert_eq!(heading(Entity::Session), "Please sign in again");
        assert_eq!(heading(Entity::Verification), "This sign-in has ended");
        assert_eq!(heading(Entity::Page), "Page not found");
        assert_eq!(heading(Entity::Task), "Not found");
        assert_eq!(heading(Entity::Invite), "This link isn't valid");
    }
}
