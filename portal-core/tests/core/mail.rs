//! The emails of the access flow: what they carry, and snapshots of their text.

use chrono::TimeDelta;
use portal_core::LinkBuilder;
use portal_core::testkit::{TestLinks, request as req};

use crate::Harness;

#[tokio::test]
async fn invite_email_carries_the_invite_link() {
    let h = Harness::new(11).await;
    let token = h.service.invite_contact(h.contact.id).await.unwrap();
    let email = h.last_email(&h.contact);
    let link = TestLinks::default().invite_url(&token);
    assert!(email.text.contains(&link), "{}", email.text);
    assert!(email.html.contains(&link), "{}", email.html);
    assert_eq!(email.to_name.as_deref(), Some("Jane Doe"));
}

#[tokio::test]
async fn email_snapshots() {
    let h = Harness::new(42).await;
    let invite = h.service.invite_contact(h.contact.id).await.unwrap();
    let invite_email = h.last_email(&h.contact);
    assert_snapshot!("core__invite_email_text", invite_email.text);

    h.clock.advance(TimeDelta::minutes(7));
    h.service.start_verification(&invite, &req()).await.unwrap();
    let email = h.last_email(&h.contact);
    assert_snapshot!("core__verification_email_text", email.text);
    assert_snapshot!("core__verification_email_html", email.html);
}
