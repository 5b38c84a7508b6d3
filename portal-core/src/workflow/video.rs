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
            let embed_url = match hash {
                Some(h)
                    if !h.is_empty()
                        && h.len() <= 40
                        && h.bytes().all(|b| b.is_ascii_alphanumeric()) =>
                {
                    format!("https://player.vimeo.com/video/{id}?h={h}")
                }
                Some(_) => return Err(refuse()),
                None => format!("https://player.vimeo.com/video/{id}"),
            };
            Ok(VideoEmbed {
                provider: VideoProvider::Vimeo,
                embed_url,
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
}
