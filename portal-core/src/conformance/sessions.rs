//! Sessions, revocation and the access log.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::support::{
    MAX_WRONG, SIGN_IN_BROWSER, another_contact, assert_err, contact_id, hours, invite, limits,
    mins, new_code, new_session, no_slide, secs, session_ttl, signed_in, start, t0, token, world,
};
use crate::access::SessionPolicy;
use crate::error::{Entity, Error};
use crate::store::{AccessEvent, AccessLogEntry, RequestInfo, Store};

fn req() -> RequestInfo {
    RequestInfo::default()
}

/// Sessions of [`session_ttl`] that slide (and note their request) at most once per
/// `every`, with no absolute cap.
fn sliding(every: chrono::TimeDelta) -> SessionPolicy {
    SessionPolicy {
        ttl: session_ttl(),
        refresh_after: every,
        absolute_max: None,
    }
}

/// A session is valid at its `expires_at` and `Expired` one second later (policy
/// that never slides).
pub async fn session_expiry_boundary(store: &dyn Store) {
    let w = world(store).await;
    let (session, ctx) = signed_in(store, w.contact.id, t0()).await;
    let expires = t0() + session_ttl();
    assert_eq!(ctx.session_expires_at, expires);
    let policy = no_slide();
    for at in [t0(), t0() + hours(23), expires] {
        let ctx = store
            .authenticate(&session, at, &policy, &req())
            .await
            .unwrap();
        assert_eq!(ctx.session_expires_at, expires, "no slide with this policy");
    }
    assert_err!(
        store
            .authenticate(&session, expires + secs(1), &policy, &req())
            .await,
        Error::Expired {
            entity: Entity::Session
        }
    );
    assert_err!(
        store.authenticate(&token(), t0(), &policy, &req()).await,
        Error::NotFound {
            entity: Entity::Session
        }
    );
}

/// Sliding: no refresh before `refresh_after` has passed since the last one; a due
/// refresh is written, moving `expires_at` (and `ClientContext::session_expires_at`).
pub async fn session_slides(store: &dyn Store) {
    let w = world(store).await;
    let policy = sliding(mins(5));
    let (session, _) = signed_in(store, w.contact.id, t0()).await;
    let first = t0() + session_ttl();
    let ctx = store
        .authenticate(&session, t0() + mins(4), &policy, &req())
        .await
        .unwrap();
    assert_eq!(ctx.session_expires_at, first, "not due yet: no refresh");
    let slid = t0() + mins(10) + session_ttl();
    let ctx = store
        .authenticate(&session, t0() + mins(10), &policy, &req())
        .await
        .unwrap();
    assert_eq!(ctx.session_expires_at, slid, "due: refreshed");
    let ctx = store
        .authenticate(&session, t0() + mins(12), &policy, &req())
        .await
        .unwrap();
    assert_eq!(
        ctx.session_expires_at, slid,
        "refreshed two minutes ago: no refresh"
    );
    // Past the original expiry but within the slid one: the refresh was stored.
    let ctx = store
        .authenticate(&session, first + secs(1), &policy, &req())
        .await
        .unwrap();
    assert_eq!(ctx.session_expires_at, first + secs(1) + session_ttl());

    // A second session: the refresh at +10min is the only one, so it ends exactly at
    // +10min+ttl (proving the +12min call wrote nothing).
    let (other, _) = signed_in(store, w.contact.id, t0()).await;
    for at in [t0() + mins(10), t0() + mins(12)] {
        store
            .authenticate(&other, at, &policy, &req())
            .await
            .unwrap();
    }
    assert_err!(
        store
            .authenticate(&other, slid + secs(1), &no_slide(), &req())
            .await,
        Error::Expired {
            entity: Entity::Session
        }
    );
}

/// A session is written at most once per refresh interval, however many requests it
/// authenticates: the request noted with it (`contact_sessions`' last seen time and
/// user agent) is the one that made the last due write, not the latest request; the
/// first request one interval after that write is noted, and every request is still
/// in the access log.
pub async fn session_noted_once_per_interval(store: &dyn Store) {
    let w = world(store).await;
    let policy = sliding(mins(5));
    let (session, _) = signed_in(store, w.contact.id, t0()).await;
    let from = |ua: &str| RequestInfo::new(None, Some(ua), None);
    let noted = || async {
        let listed = store
            .contact_sessions(w.contact.id, t0() + mins(9))
            .await
            .unwrap();
        assert_eq!(listed.len(), 1);
        (listed[0].last_seen_at, listed[0].user_agent.clone())
    };
    store
        .authenticate(&session, t0() + mins(1), &policy, &from("First"))
        .await
        .unwrap();
    assert_eq!(
        noted().await,
        (t0(), Some(SIGN_IN_BROWSER.to_owned())),
        "one minute after sign-in: nothing written to the session (the sign-in is its \
         last seen)"
    );
    store
        .authenticate(&session, t0() + mins(6), &policy, &from("Second"))
        .await
        .unwrap();
    assert_eq!(
        noted().await,
        (t0() + mins(6), Some("Second".to_owned())),
        "an interval after sign-in: the request is noted"
    );
    for (at, ua) in [(mins(7), "Third"), (mins(10), "Fourth")] {
        store
            .authenticate(&session, t0() + at, &policy, &from(ua))
            .await
            .unwrap();
    }
    assert_eq!(
        noted().await,
        (t0() + mins(6), Some("Second".to_owned())),
        "within an interval of the last write: nothing written"
    );
    store
        .authenticate(&session, t0() + mins(11), &policy, &from("Fifth"))
        .await
        .unwrap();
    assert_eq!(
        noted().await,
        (t0() + mins(11), Some("Fifth".to_owned())),
        "an interval after the last write: noted again"
    );
    let logged = store.access_log(w.portal.id, 100).await.unwrap();
    let requests = logged
        .iter()
        .filter(|e| e.event == AccessEvent::PortalRequest)
        .count();
    assert_eq!(requests, 5, "every request is in the access log");
}

/// The absolute cap: refreshes never move a session past `created_at + absolute_max`,
/// and it ends there.
pub async fn session_absolute_cap(store: &dyn Store) {
    let w = world(store).await;
    let policy = SessionPolicy {
        absolute_max: Some(hours(30)),
        ..sliding(mins(5))
    };
    let (session, _) = signed_in(store, w.contact.id, t0()).await;
    let cap = t0() + hours(30);
    let ctx = store
        .authenticate(&session, t0() + hours(20), &policy, &req())
        .await
        .unwrap();
    assert_eq!(ctx.session_expires_at, cap);
    let ctx = store
        .authenticate(&session, t0() + hours(29), &policy, &req())
        .await
        .unwrap();
    assert_eq!(ctx.session_expires_at, cap);
    store
        .authenticate(&session, cap, &policy, &req())
        .await
        .unwrap();
    assert_err!(
        store
            .authenticate(&session, cap + secs(1), &policy, &req())
            .await,
        Error::Expired {
            entity: Entity::Session
        }
    );
}

/// `end_session` (sign-out): the session is then `Expired`; ending it again or ending
/// an unknown session is not an error.
pub async fn end_session(store: &dyn Store) {
    let w = world(store).await;
    let (session, _) = signed_in(store, w.contact.id, t0()).await;
    let (kept, _) = signed_in(store, w.contact.id, t0()).await;
    store
        .authenticate(&session, t0() + mins(1), &no_slide(), &req())
        .await
        .unwrap();
    store.end_session(&session, t0() + mins(2)).await.unwrap();
    assert_err!(
        store
            .authenticate(&session, t0() + mins(3), &no_slide(), &req())
            .await,
        Error::Expired {
            entity: Entity::Session
        }
    );
    store.end_session(&session, t0() + mins(4)).await.unwrap();
    store.end_session(&token(), t0() + mins(4)).await.unwrap();
    store
        .authenticate(&kept, t0() + mins(5), &no_slide(), &req())
        .await
        .unwrap();
}

/// `revoke_contact`: the very next `authenticate` of any of its sessions is `Revoked`;
/// its live code, magic link and invite are refused; other contacts are untouched;
/// re-inviting reinstates the contact but not its old sessions or codes.
pub async fn revoke_contact(store: &dyn Store) {
    let w = world(store).await;
    let (s1, _) = signed_in(store, w.contact.id, t0()).await;
    let (s2, _) = signed_in(store, w.contact.id, t0()).await;
    let inv = invite(store, w.contact.id, t0() + mins(1)).await;
    let pending = start(store, &inv, t0() + mins(1)).await;
    let bob = another_contact(store, &w, "bob@client.example").await;
    let (bob_session, _) = signed_in(store, bob.id, t0()).await;

    let at = t0() + mins(2);
    store
        .authenticate(&s1, at, &no_slide(), &req())
        .await
        .unwrap();
    store.revoke_contact(w.contact.id, at, None).await.unwrap();
    for s in [&s1, &s2] {
        assert_err!(
            store.authenticate(s, at, &no_slide(), &req()).await,
            Error::Revoked {
                entity: Entity::Session
            }
        );
    }
    assert_eq!(
        store.contact(w.contact.id).await.unwrap().revoked_at,
        Some(at)
    );

    let lost = new_session(at);
    assert_err!(
        store
            .redeem_code(
                &pending.verification,
                &pending.code.code_hash,
                at,
                &limits(),
                &lost,
            )
            .await,
        Error::Revoked {
            entity: Entity::Contact
        }
    );
    assert_err!(
        store
            .magic_link(&pending.code.magic_hash, at, MAX_WRONG)
            .await,
        Error::Revoked {
            entity: Entity::Contact
        }
    );
    assert_err!(
        store
            .redeem_magic_link(&pending.code.magic_hash, at, MAX_WRONG, &lost)
            .await,
        Error::Revoked {
            entity: Entity::Contact
        }
    );
    assert_err!(
        store
            .issue_code(&pending.verification, &new_code(at), &limits())
            .await,
        Error::Revoked {
            entity: Entity::Contact
        }
    );
    assert_err!(
        store
            .authenticate(&lost.token_hash, at, &no_slide(), &req())
            .await,
        Error::NotFound {
            entity: Entity::Session
        }
    );
    assert_err!(
        store.open_invite(&inv, super::support::t0()).await,
        Error::Revoked {
            entity: Entity::Contact
        }
    );
    assert_err!(
        store
            .start_verification(&inv, &token(), &new_code(at), &limits())
            .await,
        Error::Revoked {
            entity: Entity::Contact
        }
    );
    store
        .authenticate(&bob_session, at, &no_slide(), &req())
        .await
        .unwrap();
    assert_err!(
        store.revoke_contact(contact_id(), at, None).await,
        Error::NotFound {
            entity: Entity::Contact
        }
    );

    // Re-inviting reinstates the contact, but revoked sessions stay revoked and the
    // verification the revocation ended stays ended: `NotFound`, no new code.
    let later = at + mins(1);
    let (fresh, ctx) = signed_in(store, w.contact.id, later).await;
    assert_eq!(ctx.contact_id, w.contact.id);
    assert_eq!(store.contact(w.contact.id).await.unwrap().revoked_at, None);
    store
        .authenticate(&fresh, later, &no_slide(), &req())
        .await
        .unwrap();
    assert_err!(
        store.authenticate(&s1, later, &no_slide(), &req()).await,
        Error::Revoked {
            entity: Entity::Session
        }
    );
    let lost = new_session(later);
    assert_err!(
        store
            .redeem_code(
                &pending.verification,
                &pending.code.code_hash,
                later,
                &limits(),
                &lost,
            )
            .await,
        Error::NotFound {
            entity: Entity::Verification
        }
    );
    assert_err!(
        store
            .issue_code(&pending.verification, &new_code(later), &limits())
            .await,
        Error::NotFound {
            entity: Entity::Verification
        }
    );
    assert_err!(
        store
            .redeem_magic_link(&pending.code.magic_hash, later, MAX_WRONG, &lost)
            .await,
        Error::NotFound {
            entity: Entity::MagicLink
        }
    );
}

/// The access log: `authenticate` appends a `PortalRequest` entry with the request
/// info (a refused one appends nothing); entries are returned newest first, at most
/// `limit`, only the portal's own.
pub async fn access_log(store: &dyn Store) {
    let w = world(store).await;
    let other = world(store).await;
    let (session, _) = signed_in(store, w.contact.id, t0()).await;
    let (other_session, _) = signed_in(store, other.contact.id, t0()).await;
    assert_eq!(store.access_log(w.portal.id, 100).await.unwrap(), vec![]);

    let request = RequestInfo::new(
        Some(IpAddr::V4(Ipv4Addr::new(203, 0, 113, 7))),
        Some("Mozilla/5.0 (Conformance)"),
        Some("/portal/tasks"),
    );
    let at = t0() + mins(1);
    store
        .authenticate(&session, at, &no_slide(), &request)
        .await
        .unwrap();
    store
        .authenticate(&other_session, at, &no_slide(), &request)
        .await
        .unwrap();
    let log = store.access_log(w.portal.id, 100).await.unwrap();
    assert_eq!(
        log,
        vec![AccessLogEntry {
            at,
            portal_id: w.portal.id,
            contact_id: w.contact.id,
            event: AccessEvent::PortalRequest,
            request: request.clone(),
        }]
    );

    assert_err!(
        store
            .authenticate(&session, t0() + hours(25), &no_slide(), &request)
            .await,
        Error::Expired {
            entity: Entity::Session
        }
    );
    assert_eq!(
        store.access_log(w.portal.id, 100).await.unwrap().len(),
        1,
        "a refused request is not logged as an access"
    );

    let events = [
        AccessEvent::InviteOpened,
        AccessEvent::CodeSent,
        AccessEvent::Verified,
        AccessEvent::SignedOut,
    ];
    let mut recorded = Vec::new();
    for (i, event) in events.into_iter().enumerate() {
        let entry = AccessLogEntry {
            at: t0() + mins(2 + i as i64),
            portal_id: w.portal.id,
            contact_id: w.contact.id,
            event,
            request: RequestInfo::new(Some(IpAddr::V6(Ipv6Addr::LOCALHOST)), None, None),
        };
        store.record_access(&entry).await.unwrap();
        recorded.push(entry);
    }
    let newest_first: Vec<AccessLogEntry> = recorded.iter().rev().cloned().collect();
    assert_eq!(
        store.access_log(w.portal.id, 3).await.unwrap(),
        newest_first[..3].to_vec()
    );
    let all = store.access_log(w.portal.id, 100).await.unwrap();
    assert_eq!(all.len(), 5);
    assert_eq!(all[..4].to_vec(), newest_first);
    assert_eq!(all[4].event, AccessEvent::PortalRequest);
    assert!(store.access_log(w.portal.id, 0).await.unwrap().is_empty());

    let theirs = store.access_log(other.portal.id, 100).await.unwrap();
    assert_eq!(theirs.len(), 1);
    assert_eq!(theirs[0].contact_id, other.contact.id);
}

/// A portal's status changes (`NotFound` for a missing portal) and every session
/// authentication reports the portal's status as of that request, so the service can
/// shut a draft or archived portal at once.
pub async fn portal_status_reaches_sessions(store: &dyn Store) {
    use crate::model::PortalStatus;
    let w = world(store).await;
    let (session, ctx) = signed_in(store, w.contact.id, t0()).await;
    assert_eq!(ctx.portal_status, w.portal.status);
    for status in [
        PortalStatus::Archived,
        PortalStatus::Draft,
        PortalStatus::Completed,
        PortalStatus::Active,
    ] {
        store.set_portal_status(w.portal.id, status).await.unwrap();
        assert_eq!(store.portal(w.portal.id).await.unwrap().status, status);
        assert_eq!(
            store
                .portal_snapshot(w.portal.id)
                .await
                .unwrap()
                .portal
                .status,
            status
        );
        let ctx = store
            .authenticate(&session, t0() + secs(1), &no_slide(), &req())
            .await
            .unwrap();
        assert_eq!(ctx.portal_status, status);
    }
    let missing = crate::ids::PortalId::random(&crate::random::OsRandom);
    assert_err!(
        store
            .set_portal_status(missing, PortalStatus::Archived)
            .await,
        Error::NotFound {
            entity: Entity::Portal
        }
    );
}

/// `contact_sessions` lists the contact's live sessions only, the most recently seen
/// first, with the last request's time and user agent; `end_other_sessions` ends every
/// other session of the contact in one call (counting them) and spares `keep` and
/// other contacts' sessions.
pub async fn sign_out_other_sessions(store: &dyn Store) {
    let w = world(store).await;
    let (phone, _) = signed_in(store, w.contact.id, t0()).await;
    let (laptop, _) = signed_in(store, w.contact.id, t0()).await;
    let (ended, _) = signed_in(store, w.contact.id, t0()).await;
    store.end_session(&ended, t0() + mins(1)).await.unwrap();
    let bob = another_contact(store, &w, "bob@client.example").await;
    let (bobs, _) = signed_in(store, bob.id, t0()).await;
    let from = |ua: &str| RequestInfo::new(None, Some(ua), None);
    // Due for a write a minute after sign-in: these requests are noted.
    let noting = sliding(mins(1));
    store
        .authenticate(&phone, t0() + mins(2), &noting, &from("Phone browser"))
        .await
        .unwrap();
    store
        .authenticate(&laptop, t0() + mins(3), &noting, &from("Laptop browser"))
        .await
        .unwrap();

    let listed = store
        .contact_sessions(w.contact.id, t0() + mins(4))
        .await
        .unwrap();
    let seen: Vec<_> = listed
        .iter()
        .map(|s| (s.token_hash, s.last_seen_at, s.user_agent.as_deref()))
        .collect();
    assert_eq!(
        seen,
        vec![
            (laptop, t0() + mins(3), Some("Laptop browser")),
            (phone, t0() + mins(2), Some("Phone browser")),
        ],
        "live sessions of the contact only, most recently seen first"
    );
    assert!(listed.iter().all(|s| s.created_at == t0()));

    let count = store
        .end_other_sessions(w.contact.id, &phone, t0() + mins(5))
        .await
        .unwrap();
    assert_eq!(count, 1, "only the laptop was live and not kept");
    assert_err!(
        store
            .authenticate(&laptop, t0() + mins(6), &no_slide(), &req())
            .await,
        Error::Expired {
            entity: Entity::Session
        }
    );
    store
        .authenticate(&phone, t0() + mins(6), &no_slide(), &req())
        .await
        .expect("the kept session still lets its contact in");
    store
        .authenticate(&bobs, t0() + mins(6), &no_slide(), &req())
        .await
        .expect("another contact's session is untouched");
    let left = store
        .contact_sessions(w.contact.id, t0() + mins(7))
        .await
        .unwrap();
    assert_eq!(
        left.iter().map(|s| s.token_hash).collect::<Vec<_>>(),
        vec![phone]
    );
    // Past its expiry a session is not listed either.
    assert!(
        store
            .contact_sessions(w.contact.id, t0() + session_ttl() + hours(1))
            .await
            .unwrap()
            .is_empty()
    );
}

/// `set_contact_time_zone` keeps the zone: the contact as read back and the context
/// of their next request carry it; an unknown contact is `NotFound(Contact)`.
pub async fn contact_time_zone_kept(store: &dyn Store) {
    let w = world(store).await;
    let (session, _) = signed_in(store, w.contact.id, t0()).await;
    let zone = crate::model::TimeZone::parse("Pacific/Auckland").unwrap();
    let changed = store
        .set_contact_time_zone(w.contact.id, zone)
        .await
        .unwrap();
    assert_eq!(changed.time_zone, zone);
    assert_eq!(changed.name, w.contact.name);
    assert_eq!(changed.email, w.contact.email);
    assert_eq!(store.contact(w.contact.id).await.unwrap().time_zone, zone);
    let ctx = store
        .authenticate(&session, t0() + mins(1), &no_slide(), &req())
        .await
        .unwrap();
    assert_eq!(ctx.time_zone, zone);
    assert_err!(
        store.set_contact_time_zone(contact_id(), zone).await,
        Error::NotFound {
            entity: Entity::Contact
        }
    );
}
