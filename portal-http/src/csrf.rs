//! CSRF protection: signed double-submit.
//!
//! A random secret lives in an `HttpOnly` cookie; each form carries an HMAC of it under
//! a key derived from the server secret. A cross-site page can neither read the cookie
//! nor compute the MAC, and `SameSite=Lax` already keeps the cookie off cross-site POSTs.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use portal_core::RandomSource;
use portal_core::secret::ServerSecret;
use subtle::ConstantTimeEq;

/// A new cookie secret.
pub fn new_secret(rng: &dyn RandomSource) -> String {
    let mut bytes = [0u8; 32];
    rng.fill(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// The form token for a cookie secret.
pub fn token_for(key: &ServerSecret, cookie_secret: &str) -> String {
    URL_SAFE_NO_PAD.encode(key.mac("portal/csrf/v1", &[cookie_secret.as_bytes()]))
}

/// Whether a submitted form token matches the cookie secret.
pub fn verify(key: &ServerSecret, cookie_secret: Option<&str>, submitted: Option<&str>) -> bool {
    match (cookie_secret, submitted) {
        (Some(c), Some(s)) if !c.is_empty() => {
            token_for(key, c).as_bytes().ct_eq(s.as_bytes()).into()
        }
        _ => false,
    }
}
