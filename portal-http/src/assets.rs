//! Static assets compiled into the binary.

/// The portal stylesheet.
pub const CSS: &str = include_str!("../assets/portal.css");

/// The upload script of document upload tasks: drag and drop, several files at once,
/// a progress bar per file. The pages work without it.
pub const DOCUMENTS_JS: &str = include_str!("../assets/documents.js");

/// Changes whenever the stylesheet or the script changes, for cache busting.
pub const CSS_VERSION: &str = env!("CARGO_PKG_VERSION");

/// The portal's favicon in the MSP's accent color: a rounded square with a check mark
/// in the text color that reads best on it (the same pair the buttons use), so a
/// client with many tabs open finds their onboarding portal by its brand color. No
/// image file to upload or keep: it is derived from the branding the MSP already set.
pub fn favicon_svg(accent: portal_core::model::AccentColor) -> String {
    format!(
        concat!(
            r#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32">"#,
            r#"<rect width="32" height="32" rx="7" fill="{}"/>"#,
            r#"<path d="M9 16.5l4.5 4.5L23 11.5" fill="none" stroke="{}" stroke-width="3.5" stroke-linecap="round" stroke-linejoin="round"/>"#,
            "</svg>\n"
        ),
        accent.hex(),
        accent.text_color()
    )
}

#[cfg(test)]
mod tests {
    use portal_core::model::AccentColor;

    use super::favicon_svg;

    #[test]
    fn the_favicon_is_drawn_in_the_accent_color_with_a_readable_mark() {
        let dark = favicon_svg(AccentColor::parse("#0b57d0").unwrap());
        assert!(dark.contains(r##"fill="#0b57d0""##), "{dark}");
        assert!(dark.contains(r##"stroke="#ffffff""##), "{dark}");
        let light = favicon_svg(AccentColor::parse("#ffe066").unwrap());
        assert!(light.contains(r##"fill="#ffe066""##), "{light}");
        assert!(light.contains(r##"stroke="#000000""##), "{light}");
    }
}
