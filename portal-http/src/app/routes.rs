//! The client routes of the portal host, listed for the tests that must walk every
//! one of them (the guest isolation matrix): a unit test below keeps the list equal
//! to the router's `match` in `app/mod.rs`, so a new route cannot be left out.

/// Every client route as `(method, pattern)`: a `{name}` segment stands for any
/// value (`{task}` a task id, `{action}` one of [`TASK_ACTIONS`], `{token}`,
/// `{document}`, `{file}` and `{sha}` what their names say).
pub const CLIENT_ROUTES: &[(&str, &str)] = &[
    ("GET", "/"),
    ("POST", "/sign-out"),
    ("GET", "/signed-out"),
    ("GET", "/i/{token}"),
    ("POST", "/i/{token}"),
    ("GET", "/verify"),
    ("POST", "/verify/code"),
    ("POST", "/verify/resend"),
    ("GET", "/m/{token}"),
    ("POST", "/m/{token}"),
    ("GET", "/tasks/{id}"),
    ("GET", "/tasks/{id}/invite.ics"),
    ("GET", "/tasks/{id}/document"),
    ("GET", "/tasks/{id}/certificate"),
    ("POST", "/tasks/{id}/documents/{document}"),
    ("GET", "/tasks/{id}/files/{file}"),
    ("GET", "/tasks/{id}/shared/{file}"),
    ("POST", "/tasks/{id}/drops"),
    ("POST", "/tasks/{id}/drops/{file}/delete"),
    ("POST", "/tasks/{id}/{action}"),
    ("GET", "/team"),
    ("POST", "/team"),
    ("GET", "/questions"),
    ("POST", "/questions"),
    ("GET", "/settings"),
    ("POST", "/settings/time-zone"),
    ("POST", "/settings/sign-out-others"),
    ("GET", "/r/snooze/{token}"),
    ("GET", "/r/unsubscribe/{token}"),
    ("POST", "/r/snooze/{token}"),
    ("POST", "/r/unsubscribe/{token}"),
    ("GET", "/assets/portal.css"),
    ("GET", "/assets/documents.js"),
    ("GET", "/brand/logo/{sha}"),
    ("GET", "/favicon.svg"),
    ("GET", "/favicon.ico"),
];

/// Every action a client posts to `/tasks/{id}/{action}`.
pub const TASK_ACTIONS: &[&str] = &[
    "complete",
    "form",
    "checklist",
    "decision",
    "comments",
    "credentials",
    "signature",
    "claim",
    "hand-off",
    "stuck",
    "due-date",
];

#[cfg(test)]
mod tests {
    use super::*;

    /// The routes of the router's `match` (`app/mod.rs`), read from its source: each
    /// arm `([segments], get, post) => ("name", ...)` before the catch-all arms, with
    /// alternatives (`"a" | "b"`) expanded.
    fn routes_in_source() -> Vec<(String, String)> {
        let src = include_str!("mod.rs");
        let start = src
            .find("let (route, result) = match")
            .expect("the router's match");
        let body = &src[start..];
        let end = body
            .find("=> (\"method_not_allowed\"")
            .expect("its 405 arm");
        let body = &body[..end];
        let mut out = Vec::new();
        for line in body.lines() {
            let line = line.trim();
            let Some(rest) = line.strip_prefix("([") else {
                continue;
            };
            let Some((segments, flags)) = rest.split_once("],") else {
                continue;
            };
            let method = if flags.trim_start().starts_with("true") {
                "GET"
            } else {
                "POST"
            };
            let mut paths = vec![String::new()];
            for seg in segments.split(',') {
                let seg = seg.trim();
                let options: Vec<String> = seg
                    .split('|')
                    .map(|o| {
                        let o = o.trim();
                        match o.strip_prefix('"').and_then(|o| o.strip_suffix('"')) {
                            Some(lit) => lit.to_owned(),
                            None => format!("{{{o}}}"),
                        }
                    })
                    .collect();
                paths = paths
                    .iter()
                    .flat_map(|p| options.iter().map(move |o| format!("{p}/{o}")))
                    .collect();
            }
            for p in paths {
                let p = if p == "/" { "/".to_owned() } else { p };
                out.push((method.to_owned(), p));
            }
        }
        out
    }

    #[test]
    fn the_list_is_the_routers_match() {
        let mut listed: Vec<(String, String)> = CLIENT_ROUTES
            .iter()
            .map(|(m, p)| ((*m).to_owned(), (*p).to_owned()))
            .collect();
        let mut found = routes_in_source();
        listed.sort();
        found.sort();
        assert_eq!(
            listed, found,
            "CLIENT_ROUTES must list every route of the router"
        );
    }

    #[test]
    fn the_actions_are_the_task_actions_of_the_handler() {
        let src = include_str!("tasks.rs");
        for action in TASK_ACTIONS {
            assert!(
                src.contains(&format!("\"{action}\"")),
                "{action} is not handled in tasks.rs"
            );
        }
    }
}
