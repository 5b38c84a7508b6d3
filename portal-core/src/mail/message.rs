//! The one place an [`Email`] becomes a MIME message, shared by the outbox and the
//! SMTP mailer so that what the demo writes to disk is byte for byte the kind of
//! message production sends.

use lettre::Message;
use lettre::message::header::ContentType;
use lettre::message::header::{HeaderName, HeaderValue};
use lettre::message::{Attachment as LettreAttachment, Mailbox, MultiPart};

use super::Email;
use crate::error::{Error, Result};
use crate::random::{OsRandom, RandomSource};

/// Builds the message sent for `email`: from the email's own sender (the tenant's,
/// with its `Reply-To`) when it has one, else from `from` (the mailer's configured
/// sender).
///
/// Every message carries:
/// - `multipart/alternative` with the plain-text part first and the HTML part last
///   (clients show the last part they understand);
/// - a `Message-ID` of 128 random bits at the sender's domain (lettre's builder adds
///   none by itself, and a message without one scores as spam and cannot be threaded);
/// - a `Date` (lettre adds it when the message is built);
/// - `Auto-Submitted: auto-generated` (RFC 3834), so well-behaved auto-responders
///   (vacation replies, mailing-list robots) do not answer machine mail, and
///   `X-Auto-Response-Suppress: All`, the same request in Microsoft Exchange's words.
pub(crate) fn build_message(from: &Mailbox, email: &Email) -> Result<Message> {
    let own = email.sender.as_ref().map(sender_mailboxes).transpose()?;
    let (from, reply_to) = match &own {
        Some((from, reply_to)) => (from, reply_to.clone()),
        None => (from, None),
    };
    let to_addr = email.to.as_str().parse().map_err(|e| Error::Mail {
        message: format!("recipient: {e}"),
    })?;
    let to = Mailbox::new(email.to_name.clone(), to_addr);
    let mut builder = Message::builder()
        .from(from.clone())
        .to(to)
        .subject(&email.subject)
        .message_id(Some(message_id(from)))
        .raw_header(header("Auto-Submitted", "auto-generated")?)
        .raw_header(header("X-Auto-Response-Suppress", "All")?);
    if let Some(reply_to) = reply_to {
        builder = builder.reply_to(reply_to);
    }
    if let Some(url) = &email.list_unsubscribe {
        // Nothing but a URL, so the header cannot be used to smuggle other headers in.
        if url
            .chars()
            .any(|c| c.is_control() || c.is_whitespace() || c == '>')
        {
            return Err(Error::invalid(
                "list-unsubscribe",
                "must be a URL without spaces or control characters",
            ));
        }
    }
    // RFC 8058: one-click needs an https URL the mailbox provider POSTs
    // `List-Unsubscribe=One-Click` to. A plain-http host (a localhost demo) keeps the
    // link in the body only.
    if let Some(url) = email
        .list_unsubscribe
        .as_ref()
        .filter(|u| u.starts_with("https://"))
    {
        builder = builder
            .raw_header(header("List-Unsubscribe", &format!("<{url}>"))?)
            .raw_header(header(
                "List-Unsubscribe-Post",
                "List-Unsubscribe=One-Click",
            )?);
    }
    let alternative = MultiPart::alternative_plain_html(email.text.clone(), email.html.clone());
    let body = if email.attachments.is_empty() {
        alternative
    } else {
        // `multipart/mixed`: the readable alternative first, then each file.
        let mut mixed = MultiPart::mixed().multipart(alternative);
        for file in &email.attachments {
            let content_type = ContentType::parse(&file.content_type).map_err(|e| Error::Mail {
                message: format!("attachment {}: content type: {e}", file.filename),
            })?;
            mixed = mixed.singlepart(
                LettreAttachment::new(file.filename.clone())
                    .body(file.content.clone(), content_type),
            );
        }
        mixed
    };
    builder.multipart(body).map_err(|e| Error::Mail {
        message: format!("building message: {e}"),
    })
}

/// The `From` and `Reply-To` mailboxes of a tenant's sender.
fn sender_mailboxes(sender: &crate::model::Sender) -> Result<(Mailbox, Option<Mailbox>)> {
    let address = |a: &crate::model::EmailAddress| {
        a.as_str().parse().map_err(|e| Error::Mail {
            message: format!("permanent: sender address: {e}"),
        })
    };
    let from = Mailbox::new(Some(sender.name.clone()), address(&sender.address)?);
    let reply_to = sender
        .reply_to
        .as_ref()
        .map(|r| address(r).map(|a| Mailbox::new(None, a)))
        .transpose()?;
    Ok((from, reply_to))
}

/// `<128 random bits in hex@the sender's domain>` (RFC 5322 section 3.6.4): unique
/// without knowing the host name, and on a domain the sender controls.
fn message_id(from: &Mailbox) -> String {
    let mut bytes = [0u8; 16];
    OsRandom.fill(&mut bytes);
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!("<{hex}@{}>", from.email.domain())
}

fn header(name: &str, value: &str) -> Result<HeaderValue> {
    let name = HeaderName::new_from_ascii(name.to_owned()).map_err(|e| Error::Mail {
        message: format!("header name {name}: {e}"),
    })?;
    Ok(HeaderValue::new(name, value.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::EmailAddress;

    #[test]
    fn every_message_is_multipart_with_id_date_and_auto_submitted() {
        let from: Mailbox = "Portal <portal@msp.example>".parse().unwrap();
        let email = Email {
            to: EmailAddress::parse("dana@example.com").unwrap(),
            to_name: Some("Dana".to_owned()),
            subject: "Your code".to_owned(),
            text: "Code 123456".to_owned(),
            html: "<p>Code 123456</p>".to_owned(),
            sender: None,
            list_unsubscribe: None,
            attachments: Vec::new(),
        };
        let a = String::from_utf8(build_message(&from, &email).unwrap().formatted()).unwrap();
        let b = String::from_utf8(build_message(&from, &email).unwrap().formatted()).unwrap();
        for line in [
            "Auto-Submitted: auto-generated\r\n",
            "X-Auto-Response-Suppress: All\r\n",
            "Content-Type: multipart/alternative;",
            "Content-Type: text/plain; charset=utf-8\r\n",
            "Content-Type: text/html; charset=utf-8\r\n",
            "\r\nDate: ",
        ] {
            assert!(a.contains(line), "{line:?} missing in\n{a}");
        }
        let id = |m: &str| {
            m.lines()
                .find_map(|l| l.strip_prefix("Message-ID: "))
                .unwrap()
                .to_owned()
        };
        assert!(
            id(&a).starts_with('<') && id(&a).ends_with("@msp.example>"),
            "{}",
            id(&a)
        );
        assert_ne!(id(&a), id(&b), "every message gets its own id");
        assert!(
            !a.contains("List-Unsubscribe"),
            "access emails never carry it"
        );
    }

    #[test]
    fn a_tenant_sender_is_from_and_reply_to() {
        let from: Mailbox = "Portal <portal@app.example>".parse().unwrap();
        let mut email = Email {
            to: EmailAddress::parse("dana@example.com").unwrap(),
            to_name: None,
            subject: "Invite".to_owned(),
            text: "t".to_owned(),
            html: "<p>t</p>".to_owned(),
            sender: None,
            list_unsubscribe: None,
            attachments: Vec::new(),
        };
        let m = String::from_utf8(build_message(&from, &email).unwrap().formatted()).unwrap();
        assert!(m.contains("From: Portal <portal@app.example>\r\n"), "{m}");
        assert!(!m.contains("Reply-To"));
        email.sender = Some(
            crate::model::Sender::new(
                "Northwind IT",
                "help@northwind.example",
                Some("desk@northwind.example"),
            )
            .unwrap(),
        );
        let m = String::from_utf8(build_message(&from, &email).unwrap().formatted()).unwrap();
        assert!(
            m.contains("From: \"Northwind IT\" <help@northwind.example>\r\n"),
            "{m}"
        );
        assert!(m.contains("Reply-To: desk@northwind.example\r\n"), "{m}");
        assert!(
            m.contains("@northwind.example>\r\n"),
            "Message-ID on the tenant's domain"
        );
        assert!(!m.contains("app.example"), "{m}");
    }

    /// The invite email of a tenant with its own sender and domain, as sent: headers
    /// (without the per-message date, id and boundary) and the plain-text part.
    #[test]
    fn snapshot_invite_from_a_tenant_sender() {
        let branding = crate::model::Branding::builder("Northwind IT")
            .build()
            .unwrap();
        let to = EmailAddress::parse("dana@contoso.example").unwrap();
        let mut email = crate::mail::invite_email(
            crate::mail::Recipient {
                name: "Dana Whitfield",
                email: &to,
                branding: &branding,
                time_zone: crate::model::TimeZone::default(),
                language: crate::i18n::Language::En,
            },
            "Contoso Dental",
            "https://portal.northwind.example/i/TOKEN",
        )
        .unwrap();
        email.sender = Some(
            crate::model::Sender::new(
                "Northwind IT",
                "onboarding@northwind.example",
                Some("desk@northwind.example"),
            )
            .unwrap(),
        );
        let from: Mailbox = "Portal <portal@app.example>".parse().unwrap();
        let raw = String::from_utf8(build_message(&from, &email).unwrap().formatted()).unwrap();
        let headers: Vec<&str> = raw
            .split("\r\n\r\n")
            .next()
            .unwrap()
            .split("\r\n")
            .filter(|l| {
                !["Date:", "Message-ID:", "Content-Type:", " boundary="]
                    .iter()
                    .any(|p| l.starts_with(p))
            })
            .collect();
        insta::assert_snapshot!(
            "invite_from_a_tenant_sender",
            format!("{}\n\n{}", headers.join("\n"), email.text)
        );
    }

    #[test]
    fn reminders_carry_one_click_unsubscribe() {
        let from: Mailbox = "Portal <portal@msp.example>".parse().unwrap();
        let mut email = Email {
            to: EmailAddress::parse("dana@example.com").unwrap(),
            to_name: None,
            subject: "Reminder".to_owned(),
            text: "t".to_owned(),
            html: "<p>t</p>".to_owned(),
            sender: None,
            list_unsubscribe: Some("https://portal.example/r/unsubscribe/abc".to_owned()),
            attachments: Vec::new(),
        };
        let m = String::from_utf8(build_message(&from, &email).unwrap().formatted()).unwrap();
        assert!(m.contains("List-Unsubscribe: <https://portal.example/r/unsubscribe/abc>\r\n"));
        assert!(m.contains("List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n"));
        email.list_unsubscribe = Some("http://localhost:8080/r/unsubscribe/abc".to_owned());
        let m = String::from_utf8(build_message(&from, &email).unwrap().formatted()).unwrap();
        assert!(!m.contains("List-Unsubscribe"), "one-click is https only");
        email.list_unsubscribe = Some("https://p.example/x>\r\nBcc: a@b.c".to_owned());
        assert!(build_message(&from, &email).is_err());
    }

    #[test]
    fn attachments_follow_the_text_and_html_in_a_mixed_message() {
        let from: Mailbox = "Portal <portal@msp.example>".parse().unwrap();
        let email = Email {
            to: EmailAddress::parse("dana@example.com").unwrap(),
            to_name: None,
            subject: "Meeting".to_owned(),
            text: "t".to_owned(),
            html: "<p>t</p>".to_owned(),
            sender: None,
            list_unsubscribe: None,
            attachments: vec![crate::mail::Attachment {
                filename: "invite.ics".to_owned(),
                content_type: "text/calendar; charset=utf-8; method=REQUEST".to_owned(),
                content: b"BEGIN:VCALENDAR\r\nMETHOD:REQUEST\r\nEND:VCALENDAR\r\n".to_vec(),
            }],
        };
        let m = String::from_utf8(build_message(&from, &email).unwrap().formatted()).unwrap();
        let mixed = m.find("Content-Type: multipart/mixed;").expect("mixed");
        let alternative = m
            .find("Content-Type: multipart/alternative;")
            .expect("alternative");
        let file = m
            .find("Content-Disposition: attachment; filename=\"invite.ics\"")
            .unwrap_or_else(|| panic!("attachment missing in\n{m}"));
        assert!(mixed < alternative && alternative < file, "{m}");
        assert!(m.contains("method=REQUEST"), "{m}");
        assert!(m.contains("METHOD:REQUEST"), "{m}");
        let mut bad = email.clone();
        bad.attachments[0].content_type = "not a type".to_owned();
        assert!(build_message(&from, &bad).is_err());
    }
}
