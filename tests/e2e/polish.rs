//! The small things of issue 14 over HTTP: branded error pages for a signed-in
//! client, the accent-colored favicon, the print stylesheet.

use portal_tests::{Harness, Options};

#[tokio::test]
async fn a_signed_in_client_gets_error_pages_in_their_msps_branding() {
    let h = Harness::start(Options::memory()).await;
    let b = h.browser();
    // Signed out: the neutral frame (nobody's portal is known).
    let anonymous = b.get("/no-such-page").await;
    assert_eq!(anonymous.status, 404);
    assert!(anonymous.body.contains("Client portal"), "{}", anonymous.body);
    assert!(!anonymous.body.contains("Acme MSP"));

    h.sign_in(&b).await;
    let missing = b.get("/no-such-page").await;
    assert_eq!(missing.status, 404);
    assert!(missing.body.contains(r#"<span class="company">Acme MSP</span>"#), "{}", missing.body);
    assert!(missing.body.contains("--accent:#0d6e7a"));
    assert!(missing.body.contains("Secure client portal of Acme MSP."));
    assert!(missing.text().contains(">Back to your portal</a>"), "{}", missing.body);
    // A refused method on a known route is branded too.
    let wrong_method = b.post("/tasks/x/invite.ics", &[]).await;
    assert!(wrong_method.status.is_client_error());
    assert!(wrong_method.body.contains("Acme MSP"), "{}", wrong_method.body);
}

#[tokio::test]
async fn every_page_links_a_favicon_in_the_accent_color() {
    let h = Harness::start(Options::memory()).await;
    let b = h.browser();
    h.sign_in(&b).await;
    let home = b.get("/").await;
    assert!(
        home.body
            .contains(r#"<link rel="icon" type="image/svg+xml" href="/favicon.svg?c=0d6e7a">"#),
        "{}",
        home.body
    );
    let icon = b.get("/favicon.svg?c=0d6e7a").await;
    assert_eq!(icon.status, 200);
    assert_eq!(icon.header("content-type"), "image/svg+xml");
    assert!(icon.body.contains(r##"fill="#0d6e7a""##), "{}", icon.body);
    assert!(icon.header("cache-control").starts_with("public"));
    // Anything else in the color slot gets the neutral icon, never reflected.
    let odd = b.get("/favicon.svg?c=%22%3E%3Cscript%3E").await;
    assert_eq!(odd.status, 200);
    assert!(odd.body.contains(r##"fill="#0b57d0""##));
    assert!(!odd.body.contains("script"));
    // Browsers ask for /favicon.ico by themselves: not a 404.
    let ico = b.get("/favicon.ico").await;
    assert_eq!(ico.status, 301);
    assert_eq!(ico.header("location"), "/favicon.svg");
}

#[tokio::test]
async fn task_pages_print_without_navigation_or_buttons() {
    let h = Harness::start(Options::memory()).await;
    let b = h.browser();
    let css = b.get(&format!("/assets/portal.css?v={}", "x")).await;
    assert_eq!(css.status, 200);
    let print = css
        .body
        .rsplit("@media print{")
        .next()
        .unwrap_or_default()
        .to_owned();
    for hidden in [".portal-nav", "button", ".button", ".help", "textarea"] {
        assert!(print.contains(hidden), "print hides {hidden}: {print}");
    }
    assert!(print.contains("display:none!important"));
}
