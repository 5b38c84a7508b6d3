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
    assert!(
        anonymous.body.contains("Client portal"),
        "{}",
        anonymous.body
    );
    assert!(!anonymous.body.contains("Acme MSP"));

    h.sign_in(&b).await;
    let missing = b.get("/no-such-page").await;
    assert_eq!(missing.status, 404);
    assert!(
        missing
            .body
            .contains(r#"<span class="company">Acme MSP</span>"#),
        "{}",
        missing.body
    );
    assert!(missing.body.contains("--accent:#0d6e7a"));
    assert!(missing.body.contains("Secure client portal of Acme MSP."));
    assert!(
        missing.text().contains(">Back to your portal</a>"),
        "{}",
        missing.body
    );
    // A refused method on a known route is branded too.
    let wrong_method = b.post("/tasks/x/invite.ics", &[]).await;
    assert!(wrong_method.status.is_client_error());
    assert!(
        wrong_method.body.contains("Acme MSP"),
        "{}",
        wrong_method.body
    );
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

const IPHONE: &str = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1";
const LAPTOP: &str = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36";

async fn post_form(
    b: &portal_tests::Browser,
    page: &str,
    action: &str,
    fields: &[(&str, &str)],
) -> portal_tests::Page {
    let form = b.get(page).await;
    assert_eq!(form.status, 200, "{}", form.body);
    let csrf = form.csrf();
    let mut all = vec![("csrf", csrf.as_str())];
    all.extend_from_slice(fields);
    b.post(action, &all).await
}

#[tokio::test]
async fn sign_out_other_devices_ends_the_other_session_only() {
    let h = Harness::start(Options::memory()).await;
    let mut phone = h.browser();
    phone.user_agent = IPHONE.to_owned();
    let mut laptop = h.browser();
    laptop.user_agent = LAPTOP.to_owned();
    h.sign_in(&phone).await;
    h.sign_in(&laptop).await;
    assert_eq!(laptop.get("/").await.status, 200);

    let home = phone.get("/").await;
    assert!(
        home.body
            .contains(r#"<a class="nav-link" href="/settings">Settings</a>"#)
    );
    let settings = phone.get("/settings").await;
    assert_eq!(settings.status, 200, "{}", settings.body);
    assert!(
        settings
            .body
            .contains("<strong>Safari on iPhone</strong> <span class=\"pill\">This device</span>"),
        "{}",
        settings.body
    );
    assert!(settings.body.contains("<strong>Chrome on Windows</strong>"));
    assert_eq!(settings.body.matches("This device").count(), 1);
    assert!(settings.body.contains("Sign out other devices"));

    let done = post_form(&phone, "/settings", "/settings/sign-out-others", &[]).await;
    assert_eq!(done.status, 303, "{}", done.body);
    assert_eq!(done.header("location"), "/settings?done=others");
    // The laptop is signed out; the phone is not.
    let gone = laptop.get("/").await;
    assert_ne!(gone.status, 200, "{}", gone.body);
    let after = phone.get("/settings?done=others").await;
    assert_eq!(after.status, 200);
    assert!(after.body.contains("Every other device is signed out."));
    assert!(!after.body.contains("Chrome on Windows"));
    assert!(after.body.contains("No other device is signed in."));
    // Without the CSRF token nothing happens.
    let forged = phone.post("/settings/sign-out-others", &[]).await;
    assert_eq!(forged.status, 403);
}

#[tokio::test]
async fn the_contact_picks_their_time_zone_and_every_time_follows() {
    let h = Harness::start(Options::memory()).await;
    let b = h.browser();
    h.sign_in(&b).await;
    let before = b.get("/settings").await;
    assert!(
        before
            .body
            .contains(r#"<option value="UTC" selected>UTC</option>"#),
        "{}",
        before.body
    );
    assert!(
        before
            .body
            .contains(r#"<option value="Pacific/Auckland">Pacific/Auckland</option>"#)
    );

    let saved = post_form(
        &b,
        "/settings",
        "/settings/time-zone",
        &[("time_zone", "Pacific/Auckland")],
    )
    .await;
    assert_eq!(saved.status, 303, "{}", saved.body);
    let page = b.get("/settings?done=zone").await;
    assert!(
        page.body
            .contains(r#"<option value="Pacific/Auckland" selected>"#)
    );
    assert!(
        page.body
            .contains("shown in <strong>Pacific/Auckland</strong>")
    );
    assert!(page.body.contains("Time zone saved."));
    // The task pages show the new zone too.
    let task = b.get(&format!("/tasks/{}", h.tasks["meeting"])).await;
    assert!(
        task.body.contains("NZDT") || task.body.contains("Pacific/Auckland"),
        "{}",
        task.body
    );
    assert_eq!(
        h.service
            .store()
            .contact(h.contact.id)
            .await
            .unwrap()
            .time_zone
            .name(),
        "Pacific/Auckland"
    );

    let wrong = post_form(
        &b,
        "/settings",
        "/settings/time-zone",
        &[("time_zone", "Mars/Olympus")],
    )
    .await;
    assert_eq!(wrong.status, 422);
    assert!(
        wrong
            .text()
            .contains("Please choose your time zone from the list")
    );
    assert!(wrong.body.contains(r#"aria-invalid="true""#));
    assert_eq!(
        h.service
            .store()
            .contact(h.contact.id)
            .await
            .unwrap()
            .time_zone
            .name(),
        "Pacific/Auckland"
    );
}
