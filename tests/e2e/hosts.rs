//! Many MSPs on one server (issue 13): two tenants on two host names of one
//! `PortalApp`, told apart by the request's `Host` header. Each invite email links to
//! its tenant's own host and comes from its own sender, each host shows its own
//! branding, and one tenant's links and sessions are unknown on the other's host.

use http::Method;
use portal_core::model::Sender;
use portal_core::service::TenantUpdate;
use portal_core::testkit::{PortalSeed, seed_portal};
use portal_tests::{Browser, Harness, Mail, Options, Page, code_in, link_in};

/// One tenant set up on its own host name.
struct Msp {
    host: String,
    company: &'static str,
    client: &'static str,
    email: String,
    /// The invite link's path, as emailed on the tenant's host.
    link: String,
}

async fn msp(
    h: &Harness,
    slug: &str,
    company: &'static str,
    client: &'static str,
    accent: &str,
) -> Msp {
    let host = format!("{slug}.localhost:{}", h.addr.port());
    let email = format!("dana@{slug}-client.example");
    let seeded = seed_portal(
        &h.service,
        &PortalSeed {
            tenant_name: company.into(),
            company_name: company.into(),
            accent: accent.into(),
            welcome: format!("Welcome to {company}!"),
            recipients: vec![],
            client_name: client.into(),
            contact_name: "Dana".into(),
            contact_email: email.clone(),
        },
    )
    .await
    .unwrap();
    h.service
        .update_tenant(
            &seeded.staff,
            TenantUpdate {
                base_url: Some(Some(format!("http://{host}"))),
                sender: Some(Some(
                    Sender::new(
                        &format!("{company} Desk"),
                        &format!("desk@{slug}.example"),
                        Some(&format!("help@{slug}.example")),
                    )
                    .unwrap(),
                )),
                ..TenantUpdate::default()
            },
            None,
        )
        .await
        .unwrap();
    h.service
        .invite_contact(&seeded.staff, seeded.contact.id)
        .await
        .unwrap();
    let Mail::Recording(mailer) = &h.mail else {
        unreachable!("the harness records emails")
    };
    let invite = mailer.last_to(&email).unwrap();
    let sender = invite.sender.clone().expect("the tenant's sender");
    assert_eq!(sender.name, format!("{company} Desk"));
    assert_eq!(sender.address.as_str(), format!("desk@{slug}.example"));
    assert_eq!(
        sender.reply_to.unwrap().as_str(),
        format!("help@{slug}.example")
    );
    let link = link_in(&invite.text, "i");
    assert!(
        invite.text.contains(&format!("http://{host}{link}")),
        "the invite link names the tenant's own host: {}",
        invite.text
    );
    Msp {
        host,
        company,
        client,
        email,
        link,
    }
}

async fn get_on(browser: &Browser, host: &str, path: &str) -> Page {
    browser
        .send_with(Method::GET, path, None, &[("host", host)], Vec::new())
        .await
}

async fn post_on(browser: &Browser, host: &str, path: &str, fields: &[(&str, &str)]) -> Page {
    browser.post_with(path, fields, &[("host", host)]).await
}

#[tokio::test]
async fn two_tenants_on_two_host_names() {
    let h = Harness::start(Options {
        secure_cookies: false,
        ..Options::memory()
    })
    .await;
    let a = msp(&h, "northwind", "Northwind IT", "Contoso Dental", "#0d6e7a").await;
    let b = msp(
        &h,
        "fabrikam",
        "Fabrikam Managed",
        "Tailspin Toys",
        "#7a0d4e",
    )
    .await;

    // Each host shows its own tenant's invite, branded as that tenant.
    for (own, other) in [(&a, &b), (&b, &a)] {
        let page = get_on(&h.browser(), &own.host, &own.link).await;
        assert_eq!(page.status, 200, "{}", page.body);
        assert!(page.body.contains(own.company), "{}", page.body);
        assert!(page.body.contains(own.client));
        assert!(!page.body.contains(other.company));
    }

    // A's invite on B's host is as unknown as an invite that never existed.
    let unknown = get_on(
        &h.browser(),
        &b.host,
        "/i/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
    )
    .await;
    let crossed = get_on(&h.browser(), &b.host, &a.link).await;
    assert_eq!(crossed.status, 404, "{}", crossed.body);
    assert_eq!(crossed.status, unknown.status);
    assert!(!crossed.body.contains(a.company) && !crossed.body.contains(a.client));
    // Nor can it start a verification there (no code is emailed).
    let Mail::Recording(mailer) = &h.mail else {
        unreachable!()
    };
    let before = mailer.sent().len();
    let browser = h.browser();
    let page = get_on(&browser, &a.host, &a.link).await;
    let csrf = page.csrf();
    let refused = post_on(&browser, &b.host, &a.link, &[("csrf", &csrf)]).await;
    assert_eq!(refused.status, 404, "{}", refused.body);
    assert_eq!(mailer.sent().len(), before, "no code sent across hosts");

    // On its own host the client signs in; the code email is the tenant's too.
    let started = post_on(&browser, &a.host, &a.link, &[("csrf", &csrf)]).await;
    assert_eq!(started.status, 303, "{}", started.body);
    let code_email = mailer.last_to(&a.email).unwrap();
    assert_eq!(
        code_email.sender.as_ref().unwrap().address.as_str(),
        "desk@northwind.example"
    );
    let magic = link_in(&code_email.text, "m");
    assert!(
        code_email
            .text
            .contains(&format!("http://{}{magic}", a.host)),
        "{}",
        code_email.text
    );
    let verify = get_on(&browser, &a.host, "/verify").await;
    // The verification cookie is A's; on B's host it finds nothing.
    let elsewhere = get_on(&browser, &b.host, "/verify").await;
    assert_eq!(elsewhere.status, 404, "{}", elsewhere.body);
    let signed_in = post_on(
        &browser,
        &a.host,
        "/verify/code",
        &[
            ("csrf", &verify.csrf()),
            ("code", &code_in(&code_email.text)),
        ],
    )
    .await;
    assert_eq!(signed_in.status, 303, "{}", signed_in.body);
    let home = get_on(&browser, &a.host, "/").await;
    assert_eq!(home.status, 200, "{}", home.body);
    assert!(home.body.contains(a.company) && home.body.contains(a.client));
    // The magic link of A is unknown on B's host as well.
    let crossed_magic = get_on(&h.browser(), &b.host, &magic).await;
    assert_eq!(crossed_magic.status, 404, "{}", crossed_magic.body);

    // A's session (a browser would never send A's cookie to B's host; a hand-written
    // request does) reaches nothing on B's host.
    let home_elsewhere = get_on(&browser, &b.host, "/").await;
    assert_ne!(home_elsewhere.status, 200, "{}", home_elsewhere.body);
    assert!(
        !home_elsewhere.body.contains(a.client),
        "{}",
        home_elsewhere.body
    );

    // The app's own host keeps serving tenants without a domain of their own.
    let default = h.browser().get(&h.invite_path()).await;
    assert_eq!(default.status, 200, "{}", default.body);
}
