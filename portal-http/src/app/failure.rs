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
use portal_core::wording::{bytes, count, duration};

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

    /// Offers a link back to `href` (where trying again makes sense).
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
    heading: &'static str,
    paragraphs: Vec<String>,
}

fn explain(status: StatusCode, heading: &'static str, paragraph: impl Into<String>) -> Explanation {
    Explanation {
        status,
        heading,
        paragraphs: vec![paragraph.into()],
    }
}

/// The page for a refusal of the request.
fn explain_refusal(refusal: Refusal) -> Explanation {
    match refusal {
        Refusal::NotAForm => explain(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "Unsupported form",
            "Please submit the form from the portal page.",
        ),
        Refusal::FormTooLarge => explain(
            StatusCode::PAYLOAD_TOO_LARGE,
            "Form too large",
            "What you sent is larger than this form accepts. Shorten it and try again.",
        ),
        Refusal::BodyTooSlow => explain(
            StatusCode::REQUEST_TIMEOUT,
            "The form took too long to arrive",
            "Your connection may be slow or interrupted. Nothing was saved: please go back and try again.",
        ),
        // Answered in plain text before this is used; kept for completeness.
        Refusal::BodyUnreadable => explain(
            StatusCode::BAD_REQUEST,
            "The request could not be read",
            "Please try again.",
        ),
        Refusal::StaleForm => explain(
            StatusCode::FORBIDDEN,
            "This page has expired",
            "For your security, forms only work from a page you opened recently. Go back, reload the page, and try again.",
        ),
        Refusal::MethodNotAllowed => explain(
            StatusCode::METHOD_NOT_ALLOWED,
            "Not allowed",
            "This address doesn't accept that kind of request.",
        ),
        Refusal::CrossOrigin => explain(
            StatusCode::FORBIDDEN,
            "This form came from another website",
            "For your security, nothing was changed. The portal only accepts forms sent from its own pages. Open the portal from the link in your email and try again there.",
        ),
        Refusal::TooManyWrites { per_minute } => explain(
            StatusCode::TOO_MANY_REQUESTS,
            "Please slow down",
            format!(
                "You're sending a lot quickly — wait a minute, then try again. The portal accepts up to {} a minute; what you just sent was not saved.",
                count(i64::from(per_minute), "change")
            ),
        ),
        Refusal::TooManyFromNetwork { retry_after_secs } => explain(
            StatusCode::TOO_MANY_REQUESTS,
            "Too many attempts from your network",
            format!(
                "Too many sign-in attempts came from your network recently; try again in {}. Nothing was sent or checked this time. If you share your internet connection with many colleagues, one of them may be signing in too.",
                count(minutes_up(retry_after_secs), "minute")
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
fn explain_error(err: &Error, policy: &AccessPolicy, zone: TimeZone) -> Explanation {
    match err {
        Error::NotFound {
            entity: Entity::Session,
        }
        | Error::Expired {
            entity: Entity::Session,
        } => explain(
            StatusCode::UNAUTHORIZED,
            "Please sign in again",
            "Your session has ended. Open the invitation link from your email to sign in again: we'll send you a new verification code.",
        ),
        Error::NotFound {
            entity: Entity::Verification,
        } => explain(
            StatusCode::NOT_FOUND,
            "This sign-in has ended",
            "This sign-in was completed or replaced by a newer one. Use the link in your newest email, or open your invitation link again.",
        ),
        Error::NotFound {
            entity: Entity::MagicLink,
        } => explain(
            StatusCode::NOT_FOUND,
            "This link isn't valid",
            "This sign-in link was already used or replaced by a newer one. Use the link in your newest email, or open your invitation link again.",
        ),
        Error::NotFound {
            entity: Entity::Page,
        } => explain(
            StatusCode::NOT_FOUND,
            "Page not found",
            "There is no page at this address. Check the link in your email.",
        ),
        Error::NotFound {
            entity: Entity::Logo,
        } => explain(StatusCode::NOT_FOUND, "Not found", "No such image."),
        Error::NotFound {
            entity: Entity::ReminderLink,
        } => explain(
            StatusCode::NOT_FOUND,
            "This link isn't valid",
            "This reminder link is incomplete or was changed. Use the link exactly as it is in the reminder email.",
        ),
        Error::Expired {
            entity: Entity::ReminderLink,
        } => explain(
            StatusCode::GONE,
            "This link has expired",
            "Reminder links work for a limited time. Use the link in your newest reminder email.",
        ),
        Error::NotFound {
            entity: Entity::Meeting,
        } => explain(
            StatusCode::NOT_FOUND,
            "No meeting scheduled yet",
            "Your onboarding team hasn't scheduled this meeting yet. Its calendar invite appears on the task once they have.",
        ),
        Error::NotFound {
            entity: Entity::File,
        } => explain(
            StatusCode::NOT_FOUND,
            "File not found",
            "This file isn't part of your portal, or it has been removed. Go back to your portal to see your documents.",
        ),
        Error::NotFound {
            entity: Entity::Task | Entity::Phase | Entity::Question,
        } => explain(
            StatusCode::NOT_FOUND,
            "Not found",
            "This isn't part of your portal, or it has been removed. Go back to your portal to see what's there.",
        ),
        Error::NotFound { .. } => explain(
            StatusCode::NOT_FOUND,
            "This link isn't valid",
            "We couldn't find an invitation for this link. It may have been replaced by a newer invitation: check your email for the latest one, or ask your contact at the company that invited you.",
        ),
        Error::Expired {
            entity: Entity::Verification,
        } => explain(
            StatusCode::GONE,
            "This sign-in has expired",
            format!(
                "A sign-in works for {} from its start. Open your invitation link again to start a new one.",
                duration(policy.verification_ttl)
            ),
        ),
        Error::Expired { .. } => explain(
            StatusCode::GONE,
            "This link has expired",
            format!(
                "Sign-in links and codes work for {}. Open your invitation link again to get a new one.",
                duration(policy.code_ttl)
            ),
        ),
        Error::Revoked { .. } => explain(
            StatusCode::FORBIDDEN,
            "Access revoked",
            "Your access to this portal has been withdrawn. If you think this is a mistake, contact the company that invited you.",
        ),
        Error::PortalClosed {
            status: PortalStatus::Draft,
        } => explain(
            StatusCode::FORBIDDEN,
            "This portal isn't open yet",
            "Your onboarding team is still preparing this portal. They'll let you know when it's ready; your invitation link will work then.",
        ),
        Error::PortalClosed { .. } => explain(
            StatusCode::GONE,
            "This portal is closed",
            "This onboarding portal has been closed. If you still need something from it, contact the company that invited you.",
        ),
        Error::LimitReached(Limit::CodesPerVerification) => explain(
            StatusCode::TOO_MANY_REQUESTS,
            "Too many codes requested",
            format!(
                "We've already sent {} for this sign-in, the most allowed. Check your inbox and spam folder for the newest email, or open your invitation link again later to start over.",
                count(policy.max_codes_per_verification, "code")
            ),
        ),
        Error::LimitReached(Limit::WrongCodeAttempts) => explain(
            StatusCode::TOO_MANY_REQUESTS,
            "Too many wrong tries",
            format!(
                "That code was entered wrongly {} and no longer works. Open your invitation link again to get a new one.",
                count(policy.max_wrong_attempts, "time")
            ),
        ),
        Error::LimitReached(Limit::ContactLockedOut { until, .. }) => explain(
            StatusCode::TOO_MANY_REQUESTS,
            "Too many wrong codes",
            format!(
                "For your security, codes can't be used for now because too many wrong ones were entered. You can try again after {}. The sign-in link in your newest email still works.",
                portal_core::wording::local_time(*until, zone)
            ),
        ),
        Error::LimitReached(_) => explain(
            StatusCode::TOO_MANY_REQUESTS,
            "Too many emails",
            format!(
                "We've sent {} to this address within {}, the most allowed. Please check your inbox (and spam folder) for the newest one, or try again later.",
                count(policy.max_emails_per_contact, "verification email"),
                duration(policy.email_window)
            ),
        ),
        Error::Invalid { reason, .. } => explain(
            StatusCode::UNPROCESSABLE_ENTITY,
            "Please check your input",
            reason.as_str(),
        ),
        Error::Forbidden { .. } => explain(
            StatusCode::FORBIDDEN,
            "Not allowed",
            "You can't do that in this portal.",
        ),
        Error::Conflict { reason } => explain(
            StatusCode::CONFLICT,
            "That can't be done right now",
            reason.as_str(),
        ),
        Error::Stale { reason } => explain(
            StatusCode::PRECONDITION_FAILED,
            "Someone changed this in the meantime",
            reason.as_str(),
        ),
        Error::TooLarge { max_bytes } => explain(
            StatusCode::PAYLOAD_TOO_LARGE,
            "Too large",
            format!(
                "What you sent is larger than the {} allowed here. Nothing was saved: make it smaller and try again.",
                bytes(*max_bytes)
            ),
        ),
        Error::StorageFull { .. } => {
            tracing::error!(error = %err, "out of storage space: a change was not saved");
            explain(
                StatusCode::SERVICE_UNAVAILABLE,
                "Out of storage space",
                "The server is out of storage space, so your change was not saved. Please try again later.",
            )
        }
        Error::Mail { .. } => {
            tracing::error!(error = %err, "the mail transport refused an email");
            Explanation {
                status: StatusCode::SERVICE_UNAVAILABLE,
                heading: "We couldn't send the email",
                paragraphs: vec![
                    "Our email service didn't accept the message just now, so no email is on its way to you.".to_owned(),
                    "Please try again in a moment. If it keeps happening, contact the company that invited you.".to_owned(),
                ],
            }
        }
        other => {
            tracing::error!(error = %other, source = ?std::error::Error::source(other), "request failed");
            explain(
                StatusCode::INTERNAL_SERVER_ERROR,
                "Something went wrong on our side",
                "Please try again in a moment. If it keeps happening, contact the company that invited you.",
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
    pub(super) fn failure_json(&self, failure: Failure) -> Reply {
        let explanation = match &failure.problem {
            Problem::Core(e) => explain_error(e, self.service.policy(), failure.zone),
            Problem::Request(r) => explain_refusal(*r),
        };
        let reply = problem_json(
            explanation.status,
            explanation.heading,
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
        let explanation = match &failure.problem {
            Problem::Core(e) => explain_error(e, self.service.policy(), failure.zone),
            Problem::Request(Refusal::BodyUnreadable) => {
                return Reply::text(
                    StatusCode::BAD_REQUEST,
                    "The request body could not be read.",
                );
            }
            Problem::Request(r) => explain_refusal(*r),
        };
        let paragraphs: Vec<&str> = explanation.paragraphs.iter().map(String::as_str).collect();
        let reply = self.message(
            req,
            explanation.status,
            failure.branding.as_ref(),
            explanation.heading,
            &paragraphs,
            failure.back.clone(),
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
        let x = explain_error(e, p, TimeZone::UTC);
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
        let text = explain_error(&lockout, &p, auckland).paragraphs.join(" ");
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
        let x = explain_error(&mail, &p, TimeZone::UTC);
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
        );
        assert_eq!(x.status, StatusCode::INTERNAL_SERVER_ERROR);
        assert!(!x.paragraphs.join(" ").contains("disk"));
    }

    #[test]
    fn a_network_limit_says_when_to_come_back_in_whole_minutes() {
        let x = explain_refusal(Refusal::TooManyFromNetwork {
            retry_after_secs: 61,
        });
        assert_eq!(x.status, StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(x.heading, "Too many attempts from your network");
        assert!(x.paragraphs[0].contains("try again in 2 minutes"), "{x:?}");
        let x = explain_refusal(Refusal::TooManyFromNetwork {
            retry_after_secs: 1,
        });
        assert!(x.paragraphs[0].contains("try again in 1 minute."), "{x:?}");
        assert_eq!(minutes_up(3600), 60);
        assert_eq!(minutes_up(0), 1);
    }

    #[test]
    fn not_found_is_told_apart_by_entity() {
        let p = AccessPolicy::default();
        let heading = |entity| explain_error(&Error::not_found(entity), &p, TimeZone::UTC).heading;
        assert_eq!(heading(Entity::Session), "Please sign in again");
        assert_eq!(heading(Entity::Verification), "This sign-in has ended");
        assert_eq!(heading(Entity::Page), "Page not found");
        assert_eq!(heading(Entity::Task), "Not found");
        assert_eq!(heading(Entity::Invite), "This link isn't valid");
    }
}
