//! Training videos: only YouTube, Vimeo and Loom, always played through their
//! privacy-friendly embed players (YouTube via youtube-nocookie.com). The CSP's
//! `frame-src` allows exactly these three player origins.

use serde::{Deserialize, Serialize};
use url::Url;

use crate::error::{Error, Result};

/// A video host the portal can embed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum VideoProvider {
    /// YouTube, played via `www.youtube-nocookie.com`.
    YouTube,
    /// Vimeo, played via `player.vimeo.com`.
    Vimeo,
    /// Loom, played via `www.loom.com/embed`.
    Loom,
}

impl VideoProvider {
    /// Name shown to people.
    pub const fn label(&self) -> &'static str {
        match self {
            Self::YouTube => "YouTube",
            Self::Vimeo => "Vimeo",
            Self::Loom => "Loom",
        }
    }
}

/// A video ready to embed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VideoEmbed {
    /// Who hosts it.
    pub provider: VideoProvider,
    /// The player URL for an `<iframe src>`.
    pub embed_url: String,
    /// The video's own page on its site, rebuilt from the parsed id (never the raw
    /// URL as typed), for the "watch on YouTube" link under the player: the player can
    /// fail to load (a blocked third-party frame, a company proxy, a strict browser)
    /// and the client must still be able to watch.
    pub watch_url: String,
}

fn refuse() -> Error {
    Error::invalid(
        "video url",
        "use a YouTube (youtube.com/watch, youtu.be, shorts or embed), Vimeo or Loom share link",
    )
}

fn is_youtube_id(s: &str) -> bool {
    s.len() == 11
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// Recognises a YouTube, Vimeo or Loom URL and returns its embed player URL; any
/// other URL is refused with a message saying what is accepted.
pub fn parse_video_url(raw: &str) -> Result<VideoEmbed> {
    let url = Url::parse(raw.trim()).map_err(|_| refuse())?;
    if !matches!(url.scheme(), "https" | "http") || url.username() != "" || url.password().is_some()
    {
        return Err(refuse());
    }
    let host = url.host_str().ok_or_else(refuse)?.to_ascii_lowercase();
    let segments: Vec<&str> = url
        .path_segments()
        .map(|s| s.filter(|p| !p.is_empty()).collect())
        .unwrap_or_default();
    let query = |key: &str| {
        url.query_pairs()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.into_owned())
    };

    let youtube = |id: &str| {
        if is_youtube_id(id) {
            Ok(VideoEmbed {
                provider: VideoProvider::YouTube,
                embed_url: format!("https://www.youtube-nocookie.com/embed/{id}"),
                watch_url: format!("https://www.youtube.com/watch?v={id}"),
            })
        } else {
            Err(refuse())
        }
    };
    match host.as_str() {
        "youtube.com"
        | "www.youtube.com"
        | "m.youtube.com"
        | "youtube-nocookie.com"
        | "www.youtube-nocookie.com" => match segments.as_slice() {
            ["watch"] => youtube(&query("v").ok_or_else(refuse)?),
            ["shorts", id] | ["embed", id] | ["live", id] => youtube(id),
            _ => Err(refuse()),
        },
        "youtu.be" => match segments.as_slice() {
            [id] => youtube(id),
            _ => Err(refuse()),
        },
        "vimeo.com" | "www.vimeo.com" | "player.vimeo.com" => {
            let (id, hash) = match segments.as_slice() {
                ["video", id] => (*id, query("h")),
                [id] => (*id, None),
                [id, hash] => (*id, Some((*hash).to_owned())),
                _ => return Err(refuse()),
            };
            if id.is_empty() || id.len() > 20 || !id.bytes().all(|b| b.is_ascii_digit()) {
                return Err(refuse());
            }
            let (embed_url, watch_url) = match hash {
                Some(h)
                    if !h.is_empty()
                        && h.len() <= 40
                        && h.bytes().all(|b| b.is_ascii_alphanumeric()) =>
                {
                    (
                        format!("https://player.vimeo.com/video/{id}?h={h}"),
                        format!("https://vimeo.com/{id}/{h}"),
                    )
                }
                Some(_) => return Err(refuse()),
                None => (
                    format!("https://player.vimeo.com/video/{id}"),
                    format!("https://vimeo.com/{id}"),
                ),
            };
            Ok(VideoEmbed {
                provider: VideoProvider::Vimeo,
                embed_url,
                watch_url,
            })
        }
        "loom.com" | "www.loom.com" => match segments.as_slice() {
            ["share", id] | ["embed", id]
                if (16..=64).contains(&id.len())
                    && id.bytes().all(|b| b.is_ascii_alphanumeric()) =>
            {
                Ok(VideoEmbed {
                    provider: VideoProvider::Loom,
                    embed_url: format!("https://www.loom.com/embed/{id}"),
                    watch_url: format!("https://www.loom.com/share/{id}"),
                })
            }
            _ => Err(refuse()),
        },
        _ => Err(refuse()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn youtube_forms_all_play_through_nocookie() {
        let want = "https://www.youtube-nocookie.com/embed/dQw4w9WgXcQ";
        for url in [
            "https://www.youtube.com/watch?v=dQw4w9WgXcQ",
            "https://youtube.com/watch?v=dQw4w9WgXcQ&t=42s",
            "https://m.youtube.com/watch?feature=share&v=dQw4w9WgXcQ",
            "https://youtu.be/dQw4w9WgXcQ?si=abc",
            "https://www.youtube.com/shorts/dQw4w9WgXcQ",
            "https://www.youtube.com/embed/dQw4w9WgXcQ",
            "https://www.youtube-nocookie.com/embed/dQw4w9WgXcQ",
        ] {
            let v = parse_video_url(url).unwrap();
            assert_eq!(v.provider, VideoProvider::YouTube, "{url}");
            assert_eq!(v.embed_url, want, "{url}");
        }
    }

    #[test]
    fn vimeo_and_loom() {
        assert_eq!(
            parse_video_url("https://vimeo.com/76979871")
                .unwrap()
                .embed_url,
            "https://player.vimeo.com/video/76979871"
        );
        assert_eq!(
            parse_video_url("https://vimeo.com/76979871/abc123def")
                .unwrap()
                .embed_url,
            "https://player.vimeo.com/video/76979871?h=abc123def"
        );
        assert_eq!(
            parse_video_url("https://player.vimeo.com/video/76979871?h=ff00")
                .unwrap()
                .embed_url,
            "https://player.vimeo.com/video/76979871?h=ff00"
        );
        let loom =
            parse_video_url("https://www.loom.com/share/0123456789abcdef0123456789abcdef").unwrap();
        assert_eq!(
            loom.embed_url,
            "https://www.loom.com/embed/0123456789abcdef0123456789abcdef"
        );
    }

    #[test]
    fn everything_else_is_refused() {
        for url in [
            "https://evil.example/watch?v=dQw4w9WgXcQ",
            "https://www.youtube.com.evil.example/watch?v=dQw4w9WgXcQ",
            "javascript:alert(1)",
            "https://www.youtube.com/watch?v=short",
            "https://www.youtube.com/watch?v=dQw4w9WgXcQ\"><script>",
            "https://vimeo.com/notdigits",
            "https://vimeo.com/123/bad\"hash",
            "https://www.loom.com/share/x",
            "ftp://youtu.be/dQw4w9WgXcQ",
            "https://user:pw@youtu.be/dQw4w9WgXcQ",
            "not a url",
            "",
        ] {
            assert!(parse_video_url(url).is_err(), "{url} accepted");
        }
    }

    fn embed(url: &str) -> String {
        match parse_video_url(url) {
            Ok(v) => v.embed_url,
            Err(e) => panic!("{url} refused: {e}"),
        }
    }

    #[test]
    fn each_video_links_to_its_page_on_its_site() {
        let watch = |url: &str| match parse_video_url(url) {
            Ok(v) => v.watch_url,
            Err(e) => panic!("{url} refused: {e}"),
        };
        for url in [
            "https://youtu.be/dQw4w9WgXcQ?si=abc",
            "https://www.youtube-nocookie.com/embed/dQw4w9WgXcQ",
            "https://m.youtube.com/watch?feature=share&v=dQw4w9WgXcQ",
        ] {
            assert_eq!(watch(url), "https://www.youtube.com/watch?v=dQw4w9WgXcQ");
        }
        assert_eq!(
            watch("https://player.vimeo.com/video/76979871"),
            "https://vimeo.com/76979871"
        );
        assert_eq!(
            watch("https://player.vimeo.com/video/76979871?h=ff00"),
            "https://vimeo.com/76979871/ff00"
        );
        assert_eq!(
            watch("https://www.loom.com/embed/0123456789abcdef0123456789abcdef"),
            "https://www.loom.com/share/0123456789abcdef0123456789abcdef"
        );
    }

    #[test]
    fn providers_have_names() {
        assert_eq!(VideoProvider::YouTube.label(), "YouTube");
        assert_eq!(VideoProvider::Vimeo.label(), "Vimeo");
        assert_eq!(VideoProvider::Loom.label(), "Loom");
    }

    #[test]
    fn youtube_ids_are_eleven_url_safe_characters() {
        for id in ["abc-def_ghi", "-----------", "___________", "AZaz09AZaz0"] {
            assert_eq!(
                embed(&format!("https://youtu.be/{id}")),
                format!("https://www.youtube-nocookie.com/embed/{id}")
            );
        }
        for id in [
            "abcdefghij",   // 10
            "abcdefghijkl", // 12
            "abcdefghij.",
            "abcdefghij!",
            "abcdefghij~",
            "abcdefghij+",
            "abcdefghijé",
            "abcdefghi%20",
        ] {
            assert!(
                parse_video_url(&format!("https://youtu.be/{id}")).is_err(),
                "{id} accepted"
            );
            assert!(
                parse_video_url(&format!("https://www.youtube.com/watch?v={id}")).is_err(),
                "{id} accepted"
            );
        }
    }

    #[test]
    fn every_youtube_host_and_path_form() {
        let want = "https://www.youtube-nocookie.com/embed/dQw4w9WgXcQ";
        for url in [
            "http://www.youtube.com/watch?v=dQw4w9WgXcQ",
            "https://www.youtube.com/watch/?v=dQw4w9WgXcQ",
            "https://WWW.YouTube.com/watch?v=dQw4w9WgXcQ",
            "https://youtube-nocookie.com/embed/dQw4w9WgXcQ",
            "https://www.youtube.com/live/dQw4w9WgXcQ",
            " https://youtu.be/dQw4w9WgXcQ ",
        ] {
            assert_eq!(embed(url), want, "{url}");
        }
        for url in [
            "https://www.youtube.com/watch",
            "https://www.youtube.com/watch?vv=dQw4w9WgXcQ",
            "https://www.youtube.com/watch/dQw4w9WgXcQ",
            "https://www.youtube.com/dQw4w9WgXcQ",
            "https://www.youtube.com/shorts/dQw4w9WgXcQ/x",
            "https://youtu.be/",
            "https://youtu.be/dQw4w9WgXcQ/x",
        ] {
            assert!(parse_video_url(url).is_err(), "{url} accepted");
        }
    }

    #[test]
    fn urls_with_a_user_name_or_password_are_refused() {
        for url in [
            "https://user@youtu.be/dQw4w9WgXcQ",
            "https://:secret@youtu.be/dQw4w9WgXcQ",
            "https://user:secret@vimeo.com/76979871",
            "https://user@www.loom.com/share/0123456789abcdef",
        ] {
            assert!(parse_video_url(url).is_err(), "{url} accepted");
        }
    }

    #[test]
    fn vimeo_ids_are_one_to_twenty_digits_and_hashes_short_and_alphanumeric() {
        let twenty = "1".repeat(20);
        assert_eq!(
            embed(&format!("https://vimeo.com/{twenty}")),
            format!("https://player.vimeo.com/video/{twenty}")
        );
        assert!(parse_video_url(&format!("https://vimeo.com/{twenty}1")).is_err());
        assert_eq!(
            embed("https://www.vimeo.com/7"),
            "https://player.vimeo.com/video/7"
        );
        assert_eq!(
            embed("https://player.vimeo.com/video/76979871"),
            "https://player.vimeo.com/video/76979871"
        );
        let h40 = "a".repeat(40);
        assert_eq!(
            embed(&format!("https://vimeo.com/1/{h40}")),
            format!("https://player.vimeo.com/video/1?h={h40}")
        );
        for url in [
            format!("https://vimeo.com/1/{h40}a"),
            "https://player.vimeo.com/video/1?h=".to_owned(),
            "https://player.vimeo.com/video/1?h=ab-cd".to_owned(),
            "https://vimeo.com/12a".to_owned(),
            "https://vimeo.com/-12".to_owned(),
            "https://vimeo.com/".to_owned(),
            "https://vimeo.com/1/abc/def".to_owned(),
            "https://player.vimeo.com/video/x1".to_owned(),
        ] {
            assert!(parse_video_url(&url).is_err(), "{url} accepted");
        }
    }

    #[test]
    fn loom_ids_are_sixteen_to_sixty_four_letters_and_digits() {
        for n in [16, 64] {
            let id = "a1".repeat(n / 2);
            assert_eq!(
                embed(&format!("https://loom.com/embed/{id}")),
                format!("https://www.loom.com/embed/{id}")
            );
            let v = parse_video_url(&format!("https://www.loom.com/share/{id}")).unwrap();
            assert_eq!(v.provider, VideoProvider::Loom);
        }
        for id in [
            "a".repeat(15),
            "a".repeat(65),
            format!("{}-", "a".repeat(20)),
            format!("{}_", "a".repeat(20)),
        ] {
            assert!(
                parse_video_url(&format!("https://www.loom.com/share/{id}")).is_err(),
                "{id} accepted"
            );
        }
        assert!(parse_video_url(&format!("https://www.loom.com/v/{}", "a".repeat(20))).is_err());
    }

    #[test]
    fn refusals_say_what_is_accepted() {
        match parse_video_url("https://example.com/") {
            Err(Error::Invalid { field, reason }) => {
                assert_eq!(field, "video url");
                assert!(
                    reason.contains("YouTube") && reason.contains("Loom"),
                    "{reason}"
                );
            }
            other => panic!("{other:?}"),
        }
        assert!(parse_video_url("file:///etc/passwd").is_err());
        assert!(parse_video_url("data:text/html,hi").is_err());
    }
}
