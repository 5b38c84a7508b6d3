//! The frame every page shares: title, branding, CSP nonce, CSRF token, and the
//! signed-in portal's navigation.

use portal_core::i18n::{Language, Texts};
use portal_core::model::{Branding, TimeZone};

/// The accent of pages for no portal in particular (and of their favicon).
pub const NEUTRAL_ACCENT: &str = "#0b57d0";

/// What every page's frame needs: title, branding, CSP nonce, CSRF token.
#[derive(Debug, Clone)]
pub struct Chrome {
    /// The page title (before the company name).
    pub title: String,
    /// The MSP's display name.
    pub company: String,
    /// Accent color `#rrggbb`.
    pub accent: String,
    /// Text color on the accent color.
    pub accent_text: &'static str,
    /// The logo's URL, if branded with one.
    pub logo_url: Option<String>,
    /// The stylesheet's URL.
    pub css_url: String,
    /// The favicon's URL: drawn in the accent color, which the URL carries (so each
    /// MSP's icon is cached apart and the route needs no session or lookup).
    pub favicon_url: String,
    /// The upload script's URL (loaded by pages with upload forms).
    pub upload_js_url: String,
    /// CSP nonce of the inline style block.
    pub nonce: String,
    /// CSRF token for forms.
    pub csrf: String,
    /// Whether the page knows whose portal it is (and so shows the MSP's branding).
    pub branded: bool,
    /// The zone every time on the page is shown in, named: the signed-in contact's
    /// ([`Self::in_zone`]); UTC, named, on pages for nobody in particular.
    pub zone: TimeZone,
    /// The catalog in the page's language: every text of the frame and of the page
    /// (`{{ c.t.get("key") }}`), and `<html lang>`.
    pub t: Texts,
}

impl Chrome {
    /// A frame for `branding` (or a neutral one when the portal is unknown).
    pub fn new(
        title: &str,
        branding: Option<&Branding>,
        prefix: &str,
        nonce: String,
        csrf: String,
    ) -> Self {
        let (company, accent, accent_text, logo_url) = match branding {
            Some(b) => (
                b.company_name.clone(),
                b.accent_color.hex(),
                b.accent_color.text_color(),
                b.logo
                    .as_ref()
                    .map(|l| format!("{prefix}/brand/logo/{}", l.sha256)),
            ),
            None => (
                "Client portal".to_owned(),
                NEUTRAL_ACCENT.to_owned(),
                "#ffffff",
                None,
            ),
        };
        let favicon_url = format!("{prefix}/favicon.svg?c={}", accent.trim_start_matches('#'));
        Self {
            title: title.to_owned(),
            company,
            accent,
            accent_text,
            logo_url,
            css_url: format!(
                "{prefix}/assets/portal.css?v={}",
                crate::assets::CSS_VERSION
            ),
            favicon_url,
            upload_js_url: format!(
                "{prefix}/assets/documents.js?v={}",
                crate::assets::CSS_VERSION
            ),
            nonce,
            csrf,
            branded: branding.is_some(),
            zone: TimeZone::default(),
            t: Texts::default(),
        }
    }

    /// The frame of a page in `language`: its texts from the catalog in it, and the
    /// company name of an unbranded page ("Client portal") too.
    #[must_use]
    pub fn in_language(mut self, language: Language) -> Self {
        self.t = Texts::new(language);
        if !self.branded {
            self.company = self.t.text("frame-neutral-company");
        }
        self
    }

    /// The frame for a page a contact reads: its times in their zone.
    #[must_use]
    pub fn in_zone(mut self, zone: TimeZone) -> Self {
        self.zone = zone;
        self
    }
}

/// Links of the signed-in portal's navigation, on every portal page.
#[derive(Debug, Clone)]
pub struct PortalNav {
    /// The portal home.
    pub home_href: String,
    /// The "Ask a Question" page.
    pub questions_href: String,
    /// The contact's settings (time zone, signed-in devices).
    pub settings_href: String,
    /// The "Your team" page (colleagues, invitations).
    pub team_href: String,
    /// Where "Sign out" posts.
    pub signout_action: String,
    /// A guest's navigation: only their tasks and "Sign out" (no team, questions or
    /// settings, which they cannot use).
    pub guest: bool,
}

impl PortalNav {
    /// The navigation under `prefix`.
    pub fn new(prefix: &str) -> Self {
        Self {
            home_href: format!("{prefix}/"),
            questions_href: format!("{prefix}/questions"),
            settings_href: format!("{prefix}/settings"),
            team_href: format!("{prefix}/team"),
            signout_action: format!("{prefix}/sign-out"),
            guest: false,
        }
    }

    /// The navigation of a guest under `prefix`: the same links minus the ones a
    /// guest cannot use.
    pub fn for_guest(prefix: &str) -> Self {
        Self {
            guest: true,
            ..Self::new(prefix)
        }
    }

    /// The navigation for a participant: a guest's when `guest`.
    pub fn of(prefix: &str, guest: bool) -> Self {
        if guest {
            Self::for_guest(prefix)
        } else {
            Self::new(prefix)
        }
    }
}
