//! Security headers and cookie attributes, as DESIGN.md requires.

use portal_tests::{Harness, Options};

#[tokio::test]
async fn every_page_has_the_security_headers() {
    let h = Harness::start(Options::memory()).await;
    let b = h.browser();
    for path in [
        h.invite_path(),
        "/".to_owned(),
        "/verify".to_owned(),
        "/nope".to_owned(),
    ] {
        let page = b.get(&path).await;
        let csp = page.header("content-security-policy");
        assert!(csp.contains("default-src 'none'"), "{path}: {csp}");
        assert!(csp.contains("frame-ancestors 'none'"));
        assert!(csp.contains("frame-src https://www.youtube-nocookie.com https://player.vimeo.com https://www.loom.com;"));
        assert!(!csp.contains("unsafe-inline"));
        assert_eq!(page.header("x-content-type-options"), "nosniff");
        assert_eq!(page.header("referrer-policy"), "no-referrer");
        assert_eq!(page.header("cache-control"), "no-store", "{path}");
    }
    let css = b.get("/assets/portal.css").await;
    assert_eq!(css.status, 200);
    assert!(css.header("content-type").starts_with("text/css"));
}

#[tokio::test]
async fn inline_style_uses_the_per_response_nonce() {
    let h = Harness::start(Options::memory()).await;
    let b = h.browser();
    let one = b.get(&h.invite_path()).await;
    let two = b.get(&h.invite_path()).await;
    let nonce = |p: &portal_tests::Page| p.csp_nonce();
    assert_ne!(nonce(&one), nonce(&two));
    assert!(
        one.body
            .contains(&format!("<style nonce=\"{}\">", nonce(&one)))
    );
}

#[tokio::test]
async fn cookies_are_host_only_httponly_lax_and_secure() {
    let h = Harness::start(Options::memory()).await;
    let b = h.browser();
    let invite = b.get(&h.invite_path()).await;
    let sent = b.post(&h.invite_path(), &[("csrf", &invite.csrf())]).await;
    let check = b.get("/verify").await;
    let code = portal_tests::code_in(&h.last_email_text());
    let done = b
        .post("/verify/code", &[("csrf", &check.csrf()), ("code", &code)])
        .await;
    let all: Vec<String> = [invite.set_cookies(), sent.set_cookies(), done.set_cookies()].concat();
    let session = all
        .iter()
        .find(|c| c.starts_with("__Host-portal_session="))
        .unwrap();
    for c in all.iter().filter(|c| !c.contains("Max-Age=0")) {
        assert!(c.starts_with("__Host-"), "{c}");
        for attr in ["HttpOnly", "SameSite=Lax", "Secure", "Path=/"] {
            assert!(c.contains(attr), "{c} lacks {attr}");
        }
        assert!(!c.contains("Domain"), "{c}");
    }
    assert!(session.contains("Max-Age=86400"), "{session}");
}

#[tokio::test]
async fn demo_flag_relaxes_secure_and_drops_the_prefix() {
    let h = Harness::start(Options {
        secure_cookies: false,
        ..Options::memory()
    })
    .await;
    let b = h.browser();
    let invite = b.get(&h.invite_path()).await;
    let c = invite
        .set_cookies()
        .into_iter()
        .find(|c| c.starts_with("portal_csrf="))
        .unwrap();
    assert!(!c.contains("Secure") && c.contains("HttpOnly"), "{c}");
}

/// Mounted under a prefix, the portal's cookies stay under it (the host's own routes
/// never receive them) with the `__Secure-` name prefix (`__Host-` needs `Path=/`),
/// and a whole sign-in works with those cookies.
#[tokio::test]
async fn cookies_are_scoped_to_the_mount_prefix() {
    let h = Harness::start(Options {
        tune: Some(|c| {
            c.mount_prefix = "/portal".to_owned();
            c.cookie_name = "msp_a".to_owned();
        }),
        ..Options::memory()
    })
    .await;
    let b = h.browser();
    let invite_path = format!("/portal{}", h.invite_path());
    let invite = b.get(&invite_path).await;
    assert_eq!(invite.status, 200, "{}", invite.body);
    let sent = b.post(&invite_path, &[("csrf", &invite.csrf())]).await;
    let check = b.get("/portal/verify").await;
    let code = portal_tests::code_in(&h.last_email_text());
    let done = b
        .post(
            "/portal/verify/code",
            &[("csrf", &check.csrf()), ("code", &code)],
        )
        .await;
    let all: Vec<String> = [invite.set_cookies(), sent.set_cookies(), done.set_cookies()].concat();
    assert!(
        all.iter().any(|c| c.starts_with("__Secure-msp_a_session=")),
        "{all:?}"
    );
    for c in all.iter().filter(|c| !c.contains("Max-Age=0")) {
        assert!(c.starts_with("__Secure-msp_a_"), "{c}");
        assert!(c.contains("Path=/portal"), "{c}");
        assert!(!c.contains("Path=/;") && !c.ends_with("Path=/"), "{c}");
        for attr in ["HttpOnly", "SameSite=Lax", "Secure"] {
            assert!(c.contains(attr), "{c} lacks {attr}");
        }
    }
    let home = b.get("/portal/").await;
    assert_eq!(home.status, 200, "{}", home.body);
    assert!(home.body.contains("Sign out"), "{}", home.body);

    // The natural link has no trailing slash: every link on the page must still resolve
    // under the mount (a relative `tasks/...` would land on `/tasks/...`).
    let bare = b.get("/portal").await;
    assert_eq!(bare.status, 200, "{}", bare.body);
    let mut links = 0;
    for attr in ["href=\"", "action=\"", "src=\""] {
        for part in bare.body.split(attr).skip(1) {
            let link = part.split('"').next().unwrap();
            links += 1;
            assert!(
                link.starts_with("/portal/")
                    || link.starts_with('#')
                    || link.starts_with("https://"),
                "a link that leaves the mount: {link}"
            );
        }
    }
    assert!(bare.body.contains("href=\"/portal/tasks/"), "{}", bare.body);
    assert!(links > 10, "{links} links");
}
