//! Per-network limits on starting verifications and entering codes, over real HTTP:
//! the limit is reached at exactly its number, another network (a client socket bound
//! to 127.0.0.2) is unaffected, the window frees up after an hour, and a client who
//! mistypes a few times then gets it right is never held up.

use std::net::IpAddr;

use chrono::TimeDelta;
use portal_http::HttpConfig;
use portal_tests::{Browser, Harness, Options, Page, code_in};

fn wrong(code: &str) -> String {
    let n: u32 = code.parse().unwrap();
    format!("{:06}", (n + 1) % 1_000_000)
}

fn other_network() -> IpAddr {
    IpAddr::from([127, 0, 0, 2])
}

fn assert_network_limit(page: &Page, retry_after: &str) {
    assert_eq!(page.status, 429, "{}", page.body);
    assert!(
        page.text().contains("Too many attempts from your network"),
        "{}",
        page.body
    );
    assert_eq!(page.header("retry-after"), retry_after);
}

async fn post_invite(h: &Harness, b: &Browser) -> Page {
    let invite = b.get(&h.invite_path()).await;
    assert_eq!(invite.status, 200, "{}", invite.body);
    b.post(&h.invite_path(), &[("csrf", &invite.csrf())]).await
}

/// 3 verification starts and 4 code entries per network an hour: small enough to
/// stay under the per-contact email limit (10 an hour) of the one invited contact.
fn tuned() -> Options {
    fn three_starts_four_codes(c: &mut HttpConfig) {
        c.verification_starts_per_ip_per_hour = 3;
        c.code_entries_per_ip_per_hour = 4;
    }
    Options {
        tune: Some(three_starts_four_codes),
        ..Options::memory()
    }
}

#[tokio::test]
async fn the_defaults_suit_an_office_behind_one_nat() {
    let c = HttpConfig::default();
    assert_eq!(c.verification_starts_per_ip_per_hour, 30);
    assert_eq!(c.code_entries_per_ip_per_hour, 60);
    assert_eq!(c.ip_limit_max_tracked, 10_000);
    assert!(
        c.trusted_proxies.is_empty(),
        "X-Forwarded-For is not trusted by default"
    );
}

#[tokio::test]
async fn verification_starts_stop_at_the_limit_for_one_network_only() {
    let h = Harness::start(tuned()).await;
    let b = h.browser();
    // Starts at minutes 0, 1 and 2.
    for i in 0..3 {
        let sent = post_invite(&h, &b).await;
        assert_eq!(sent.status, 303, "start {i}: {}", sent.body);
        h.clock.advance(TimeDelta::minutes(1));
    }
    let emails_before = h.last_email_text();
    h.clock.advance(TimeDelta::minutes(7));
    let refused = post_invite(&h, &b).await;
    // At minute 10, the first start leaves the window in 50 minutes.
    assert_network_limit(&refused, "3000");
    assert!(
        refused.text().contains("try again in 50 minutes"),
        "{}",
        refused.body
    );
    assert_eq!(h.last_email_text(), emails_before, "no email was sent");

    // Another network is not held up by this one.
    let elsewhere = Browser::from_ip(h.addr, other_network());
    assert_eq!(post_invite(&h, &elsewhere).await.status, 303);

    // At minute 60 the first start has left the hour: one more is let in, and the
    // next waits for the second (a minute).
    h.clock.advance(TimeDelta::minutes(50));
    assert_eq!(post_invite(&h, &b).await.status, 303);
    assert_network_limit(&post_invite(&h, &b).await, "60");
}

#[tokio::test]
async fn code_entries_stop_at_the_limit_right_or_wrong_for_one_network_only() {
    let h = Harness::start(tuned()).await;
    let b = h.browser();
    let check = h.start_verification(&b).await;
    let code = code_in(&h.last_email_text());
    let csrf = check.csrf();
    for _ in 0..4 {
        let page = b
            .post("/verify/code", &[("csrf", &csrf), ("code", &wrong(&code))])
            .await;
        assert_eq!(page.status, 422, "{}", page.body);
    }
    // The fifth entry from this network is refused before the code is looked at,
    // even the right one.
    let refused = b
        .post("/verify/code", &[("csrf", &csrf), ("code", &code)])
        .await;
    assert_network_limit(&refused, "3600");
    assert!(b.cookie("__Host-portal_session").is_none());

    // The same verification, entered from another network, is checked as usual (the
    // code had one wrong try left).
    let elsewhere = Browser::from_ip(h.addr, other_network());
    elsewhere.set_cookie(
        "__Host-portal_verify",
        &b.cookie("__Host-portal_verify").unwrap(),
    );
    let page = elsewhere.get("/verify").await;
    assert_eq!(page.status, 200, "{}", page.body);
    let done = elsewhere
        .post("/verify/code", &[("csrf", &page.csrf()), ("code", &code)])
        .await;
    assert_eq!(done.status, 303, "{}", done.body);
}

#[tokio::test]
async fn a_client_who_mistypes_a_few_times_gets_in_under_the_defaults() {
    let h = Harness::start(Options::memory()).await;
    let b = h.browser();
    let check = h.start_verification(&b).await;
    let code = code_in(&h.last_email_text());
    let csrf = check.csrf();
    for _ in 0..3 {
        let page = b
            .post("/verify/code", &[("csrf", &csrf), ("code", &wrong(&code))])
            .await;
        assert_eq!(page.status, 422, "{}", page.body);
    }
    let done = b
        .post("/verify/code", &[("csrf", &csrf), ("code", &code)])
        .await;
    assert_eq!(done.status, 303, "{}", done.body);
}
