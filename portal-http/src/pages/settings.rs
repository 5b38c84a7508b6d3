//! The contact's settings: their time zone, and the devices signed in to their portal
//! with "Sign out other devices".

use askama::Template;
use portal_core::model::TimeZone;
use portal_core::store::SessionSummary;

use super::task::when_in;
use super::{Chrome, PortalNav};
use portal_core::i18n::{Language, Texts};

/// One signed-in device as listed.
#[derive(Debug, Clone)]
pub struct DeviceItem {
    /// "Chrome on Android", from the user agent.
    pub device: String,
    /// When it was last used, in the contact's zone (named).
    pub last_seen: String,
    /// When it signed in, in the contact's zone (named).
    pub signed_in: String,
    /// Whether it is the device showing the page.
    pub current: bool,
}

/// One zone of the select.
#[derive(Debug, Clone)]
pub struct ZoneOption {
    /// The IANA name (value and label).
    pub name: &'static str,
    /// The contact's current zone.
    pub selected: bool,
}

/// The settings page.
#[derive(Template)]
#[template(path = "settings.html")]
pub struct SettingsPage {
    /// Frame.
    pub c: Chrome,
    /// Navigation.
    pub nav: PortalNav,
    /// Where the zone form posts.
    pub zone_action: String,
    /// Where "Sign out other devices" posts.
    pub others_action: String,
    /// The zones to pick from.
    pub zones: Vec<ZoneOption>,
    /// The contact's zone, named.
    pub zone_name: &'static str,
    /// Signed-in devices, the most recently used first.
    pub devices: Vec<DeviceItem>,
    /// How many devices besides this one.
    pub others: usize,
    /// Success message.
    pub notice: Option<String>,
    /// What to fix in the zone form.
    pub error: Option<String>,
}

/// Builds the settings page; every time on it is in the contact's zone (the frame's).
pub fn settings_page(
    c: Chrome,
    prefix: &str,
    sessions: &[(SessionSummary, bool)],
    notice: Option<String>,
    error: Option<String>,
) -> SettingsPage {
    let zone = c.zone;
    let language = c.t.language;
    let devices: Vec<DeviceItem> = sessions
        .iter()
        .map(|(s, current)| DeviceItem {
            device: device_summary_in(s.user_agent.as_deref(), language),
            last_seen: when_in(s.last_seen_at, zone, language),
            signed_in: when_in(s.created_at, zone, language),
            current: *current,
        })
        .collect();
    let others = devices.iter().filter(|d| !d.current).count();
    SettingsPage {
        c,
        nav: PortalNav::new(prefix),
        zone_action: format!("{prefix}/settings/time-zone"),
        others_action: format!("{prefix}/settings/sign-out-others"),
        zones: TimeZone::choices()
            .into_iter()
            .map(|z| ZoneOption {
                name: z.name(),
                selected: z == zone,
            })
            .collect(),
        zone_name: zone.name(),
        devices,
        others,
        notice,
        error,
    }
}

/// A short, human name for the device behind a user agent ("Safari on iPhone"): the
/// contact recognises their phone or laptop, not a user-agent string. Unknown parts
/// are left out; nothing at all is "Unknown device".
#[cfg(test)]
pub fn device_summary(user_agent: Option<&str>) -> String {
    device_summary_in(user_agent, Language::En)
}

/// [`device_summary`] in `language` ("Safari en iPhone").
pub fn device_summary_in(user_agent: Option<&str>, language: Language) -> String {
    let t = Texts::new(language);
    let Some(ua) = user_agent else {
        return t.text("device-unknown");
    };
    let browser = if ua.contains("Edg/") || ua.contains("EdgA/") || ua.contains("EdgiOS/") {
        Some("Edge")
    } else if ua.contains("OPR/") {
        Some("Opera")
    } else if ua.contains("Firefox/") || ua.contains("FxiOS/") {
        Some("Firefox")
    } else if ua.contains("Chrome/") || ua.contains("CriOS/") {
        Some("Chrome")
    } else if ua.contains("Safari/") {
        Some("Safari")
    } else {
        None
    };
    let system = if ua.contains("iPhone") {
        Some("iPhone")
    } else if ua.contains("iPad") {
        Some("iPad")
    } else if ua.contains("Android") {
        Some("Android")
    } else if ua.contains("Windows") {
        Some("Windows")
    } else if ua.contains("CrOS") {
        Some("ChromeOS")
    } else if ua.contains("Mac OS X") || ua.contains("Macintosh") {
        Some("macOS")
    } else if ua.contains("Linux") {
        Some("Linux")
    } else {
        None
    };
    match (browser, system) {
        (Some(b), Some(s)) => t.plain2("device-on", "browser", b, "system", s),
        (Some(b), None) => b.to_owned(),
        (None, Some(s)) => t.plain("device-browser-on", "system", s),
        (None, None) => t.text("device-unknown"),
    }
}

#[cfg(test)]
mod tests {
    use super::device_summary;

    #[test]
    fn devices_are_named_by_browser_and_system() {
        let cases = [
            (
                "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1",
                "Safari on iPhone",
            ),
            (
                "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Mobile Safari/537.36",
                "Chrome on Android",
            ),
            (
                "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36 Edg/120.0",
                "Edge on Windows",
            ),
            (
                "Mozilla/5.0 (Macintosh; Intel Mac OS X 14.1; rv:121.0) Gecko/20100101 Firefox/121.0",
                "Firefox on macOS",
            ),
            ("curl/8.0", "Unknown device"),
        ];
        for (ua, want) in cases {
            assert_eq!(device_summary(Some(ua)), want, "{ua}");
        }
        assert_eq!(device_summary(None), "Unknown device");
    }
}
