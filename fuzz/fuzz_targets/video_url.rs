//! Training video URLs as the MSP types them. What `parse_video_url` accepts becomes an
//! embed URL on one of the three players the CSP's `frame-src` allows, with nothing in
//! it that could leave an HTML attribute or reach another host; and the embed URL, given
//! back, is accepted as the same video (the embed is a fixed point).
#![no_main]

use libfuzzer_sys::fuzz_target;
use portal_core::workflow::video::{VideoProvider, parse_video_url};

fuzz_target!(|data: &[u8]| {
    let Ok(raw) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(video) = parse_video_url(raw) else {
        return;
    };
    let url = &video.embed_url;
    let player = match video.provider {
        VideoProvider::YouTube => "https://www.youtube-nocookie.com/embed/",
        VideoProvider::Vimeo => "https://player.vimeo.com/video/",
        VideoProvider::Loom => "https://www.loom.com/embed/",
    };
    assert!(url.starts_with(player), "{raw:?} -> {url}");
    let rest = &url[player.len()..];
    assert!(!rest.is_empty());
    assert!(
        rest.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'?' | b'=')),
        "{raw:?} -> {url}"
    );
    let parsed = url::Url::parse(url).unwrap();
    assert_eq!(parsed.as_str(), url, "not in normal form");
    assert_eq!(
        parse_video_url(url).ok().as_ref(),
        Some(&video),
        "{url} is not a fixed point"
    );
});
