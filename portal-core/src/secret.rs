//! Secrets as newtypes: their `Debug` prints `[redacted]`, their value comes out only
//! through a loudly named method, and their memory is wiped on drop.
//!
//! Stores never see a raw token: they get a [`TokenHash`] (SHA-256 of a 256-bit token,
//! safe because the token has full entropy) or a [`CodeHash`] (HMAC with a server
//! secret, because a 6-digit code could be brute-forced from a plain hash).

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{KeyInit, Mac};
use sha2::{Digest, Sha256};
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use crate::error::{Entity, Error, Result};
use crate::random::RandomSource;

/// Length in characters of an encoded 256-bit token (base64url, no padding).
pub const TOKEN_CHARS: usize = 43;

/// SHA-256 of a bearer token: what stores keep and look up by.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TokenHash([u8; 32]);

impl TokenHash {
    /// Wraps 32 bytes read back from storage.
    pub const fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }
    /// The 32 bytes, for storage.
    pub const fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

impl fmt::Debug for TokenHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TokenHash({:02x}{:02x}…)", self.0[0], self.0[1])
    }
}

/// Keyed hash (HMAC-SHA256) of a short verification code.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct CodeHash([u8; 32]);

impl CodeHash {
    /// Wraps 32 bytes read back from storage.
    pub const fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }
    /// The 32 bytes, for storage.
    pub const fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
    /// Constant-time comparison, so timing says nothing about how much matched.
    pub fn matches(&self, other: &CodeHash) -> bool {
        use subtle::ConstantTimeEq;
        self.0.ct_eq(&other.0).into()
    }
}

impl fmt::Debug for CodeHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("CodeHash([redacted])")
    }
}

macro_rules! bearer_token {
    ($(#[$doc:meta])* $name:ident, $what:ident) => {
        $(#[$doc])*
        #[derive(Clone, PartialEq, Eq, Zeroize, ZeroizeOnDrop)]
        pub struct $name(String);

        impl $name {
            /// A fresh 256-bit token from the random source.
            pub fn generate(rng: &dyn RandomSource) -> Self {
                let mut bytes = Zeroizing::new([0u8; 32]);
                rng.fill(bytes.as_mut());
                Self(URL_SAFE_NO_PAD.encode(bytes.as_ref()))
            }

            /// Accepts a token presented by a client. Refuses anything that is not
            /// exactly the shape this type generates, before any lookup.
            pub fn parse(presented: &str) -> Result<Self> {
                let ok = presented.len() == TOKEN_CHARS
                    && presented.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
                if ok {
                    Ok(Self(presented.to_owned()))
                } else {
                    Err(Error::NotFound { entity: Entity::$what })
                }
            }

            /// The token in clear. Only for putting it in a link, cookie or email.
            pub fn expose_secret(&self) -> &str {
                &self.0
            }

            /// What stores keep: SHA-256 of the token.
            pub fn hash(&self) -> TokenHash {
                TokenHash(Sha256::digest(self.0.as_bytes()).into())
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(concat!(stringify!($name), "([redacted])"))
            }
        }
    };
}

bearer_token!(
    /// The secret in a contact's invite link: the client's long-lived way back in.
    InviteToken, Invite
);
bearer_token!(
    /// The secret in a magic link sent by email.
    MagicToken, MagicLink
);
bearer_token!(
    /// Binds a verification (the tab that asked for the email) to its browser, via a cookie.
    VerificationToken, Verification
);
bearer_token!(
    /// A portal session, carried in the session cookie.
    SessionToken, Session
);

/// A 6-digit verification code, as emailed and as typed back.
#[derive(Clone, PartialEq, Eq, Zeroize, ZeroizeOnDrop)]
pub struct VerificationCode(String);

impl VerificationCode {
    /// Number of digits.
    pub const DIGITS: usize = 6;

    /// A uniformly random code from the random source (rejection sampling, no modulo bias).
    pub fn generate(rng: &dyn RandomSource) -> Self {
        loop {
            let mut bytes = Zeroizing::new([0u8; 4]);
            rng.fill(bytes.as_mut());
            let n = u32::from_le_bytes(*bytes);
            // 4_294_000_000 is the largest multiple of 1_000_000 below 2^32.
            if n < 4_294_000_000 {
                return Self(format!("{:06}", n % 1_000_000));
            }
        }
    }

    /// Accepts what a person typed: digits, ignoring spaces and dashes people add.
    pub fn parse(typed: &str) -> Result<Self> {
        let digits: Zeroizing<String> = Zeroizing::new(
            typed
                .chars()
                .filter(|c| !c.is_whitespace() && *c != '-')
                .collect(),
        );
        if digits.len() == Self::DIGITS && digits.bytes().all(|b| b.is_ascii_digit()) {
            Ok(Self(digits.to_string()))
        } else {
            Err(Error::invalid(
                "code",
                "Enter the 6-digit code from the email.",
            ))
        }
    }

    /// The code in clear. Only for putting it in the email.
    pub fn expose_secret(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for VerificationCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("VerificationCode([redacted])")
    }
}

/// The server's secret key material, from which purpose-specific keys are derived
/// (code hashing here; CSRF tokens in the HTTP host).
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct ServerSecret(Vec<u8>);

impl ServerSecret {
    /// Minimum length in bytes.
    pub const MIN_LEN: usize = 32;

    /// Wraps key bytes; refuses keys shorter than 32 bytes.
    pub fn from_bytes(bytes: Vec<u8>) -> Result<Self> {
        if bytes.len() < Self::MIN_LEN {
            return Err(Error::invalid("server secret", "must be at least 32 bytes"));
        }
        Ok(Self(bytes))
    }

    /// A fresh random secret.
    pub fn generate(rng: &dyn RandomSource) -> Self {
        let mut bytes = vec![0u8; 32];
        rng.fill(&mut bytes);
        Self(bytes)
    }

    /// The key bytes, for persisting the secret where the host keeps keys.
    pub fn expose_secret(&self) -> &[u8] {
        &self.0
    }

    /// HMAC-SHA256 of `parts` under a key derived for `purpose`. Parts are length-prefixed
    /// so that different splits of the same bytes never collide.
    pub fn mac(&self, purpose: &str, parts: &[&[u8]]) -> [u8; 32] {
        let Ok(mut mac) = hmac::Hmac::<Sha256>::new_from_slice(&self.0) else {
            // HMAC accepts keys of any length; this branch cannot be taken.
            return [0u8; 32];
        };
        mac.update(&(purpose.len() as u64).to_be_bytes());
        mac.update(purpose.as_bytes());
        for part in parts {
            mac.update(&(part.len() as u64).to_be_bytes());
            mac.update(part);
        }
        mac.finalize().into_bytes().into()
    }

    /// The keyed hash of a code, bound to the verification it was issued for.
    pub fn code_hash(&self, verification: &TokenHash, code: &VerificationCode) -> CodeHash {
        CodeHash(self.mac(
            "portal/verification-code/v1",
            &[verification.as_bytes(), code.0.as_bytes()],
        ))
    }
}

impl fmt::Debug for ServerSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ServerSecret([redacted])")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::random::SeededRandom;

    #[test]
    fn debug_of_every_secret_is_redacted() {
        let rng = SeededRandom::new(7);
        let invite = InviteToken::generate(&rng);
        let magic = MagicToken::generate(&rng);
        let verification = VerificationToken::generate(&rng);
        let session = SessionToken::generate(&rng);
        let code = VerificationCode::generate(&rng);
        let key = ServerSecret::generate(&rng);
        let code_hash = key.code_hash(&verification.hash(), &code);
        let printed = format!(
            "{invite:?} {magic:?} {verification:?} {session:?} {code:?} {key:?} {code_hash:?}"
        );
        for secret in [
            invite.expose_secret(),
            magic.expose_secret(),
            verification.expose_secret(),
            session.expose_secret(),
            code.expose_secret(),
        ] {
            assert!(!printed.contains(secret), "{printed} leaks {secret}");
        }
        assert_eq!(printed.matches("[redacted]").count(), 7, "{printed}");
    }

    #[test]
    fn tokens_have_256_bits_and_parse_back() {
        let rng = SeededRandom::new(1);
        let t = SessionToken::generate(&rng);
        assert_eq!(t.expose_secret().len(), TOKEN_CHARS);
        assert_eq!(SessionToken::parse(t.expose_secret()).unwrap(), t);
        assert_ne!(SessionToken::generate(&rng), t);
        assert!(SessionToken::parse("short").is_err());
        assert!(SessionToken::parse(&"a".repeat(42).add_char('!')).is_err());
    }

    trait AddChar {
        fn add_char(self, c: char) -> String;
    }
    impl AddChar for String {
        fn add_char(mut self, c: char) -> String {
            self.push(c);
            self
        }
    }

    #[test]
    fn codes_are_six_digits_and_typed_codes_are_normalised() {
        let rng = SeededRandom::new(3);
        for _ in 0..200 {
            let c = VerificationCode::generate(&rng);
            assert_eq!(c.expose_secret().len(), 6);
            assert!(c.expose_secret().bytes().all(|b| b.is_ascii_digit()));
        }
        assert_eq!(
            VerificationCode::parse(" 123 456 ")
                .unwrap()
                .expose_secret(),
            "123456"
        );
        assert_eq!(
            VerificationCode::parse("123-456").unwrap().expose_secret(),
            "123456"
        );
        assert!(VerificationCode::parse("12345").is_err());
        assert!(VerificationCode::parse("12345a").is_err());
        assert!(
            VerificationCode::parse("١٢٣٤٥٦").is_err(),
            "non-ASCII digits are refused"
        );
    }

    #[test]
    fn code_hash_is_bound_to_key_and_verification() {
        let rng = SeededRandom::new(4);
        let code = VerificationCode::parse("000111").unwrap();
        let v1 = VerificationToken::generate(&rng).hash();
        let v2 = VerificationToken::generate(&rng).hash();
        let k1 = ServerSecret::generate(&rng);
        let k2 = ServerSecret::generate(&rng);
        assert!(k1.code_hash(&v1, &code).matches(&k1.code_hash(&v1, &code)));
        assert!(!k1.code_hash(&v1, &code).matches(&k1.code_hash(&v2, &code)));
        assert!(!k1.code_hash(&v1, &code).matches(&k2.code_hash(&v1, &code)));
        assert!(ServerSecret::from_bytes(vec![0; 31]).is_err());
    }

    /// Hands out the given 32-bit values (little-endian), one per `fill`, cycling.
    struct Values(std::sync::Mutex<(Vec<u32>, usize)>);

    impl Values {
        fn new(values: &[u32]) -> Self {
            Self(std::sync::Mutex::new((values.to_vec(), 0)))
        }
    }

    impl RandomSource for Values {
        fn fill(&self, buf: &mut [u8]) {
            let mut state = self.0.lock().unwrap();
            let (values, next) = &mut *state;
            let v = values[*next % values.len()].to_le_bytes();
            *next += 1;
            for (i, b) in buf.iter_mut().enumerate() {
                *b = v[i % 4];
            }
        }
    }

    #[test]
    fn code_generation_rejects_the_biased_top_of_the_range() {
        // 4_294_000_000 is the first value that would favour low codes: it is skipped,
        // and so is everything above it; the next value in range is used.
        let rng = Values::new(&[4_294_000_000, u32::MAX, 123_456, 4_293_999_999]);
        assert_eq!(VerificationCode::generate(&rng).expose_secret(), "123456");
        assert_eq!(VerificationCode::generate(&rng).expose_secret(), "999999");
        let rng = Values::new(&[42]);
        assert_eq!(VerificationCode::generate(&rng).expose_secret(), "000042");
    }

    #[test]
    fn a_code_of_the_wrong_shape_is_malformed_input_not_a_wrong_try() {
        for typed in [
            "1234567", "12345", "", "   ", "12345a", "abcdef", "123 4567", "12_456", "+12345",
        ] {
            match VerificationCode::parse(typed) {
                Err(Error::Invalid { field, reason }) => {
                    assert_eq!(field, "code", "{typed:?}");
                    assert!(reason.contains("6-digit"), "{typed:?}: {reason}");
                }
                other => panic!("{typed:?}: {other:?}"),
            }
        }
        assert_eq!(
            VerificationCode::parse("\t012 345\n")
                .unwrap()
                .expose_secret(),
            "012345"
        );
        assert_eq!(
            VerificationCode::parse("0-1-2-3-4-5")
                .unwrap()
                .expose_secret(),
            "012345"
        );
    }

    #[test]
    fn hashes_round_trip_through_their_stored_bytes() {
        let bytes: [u8; 32] = std::array::from_fn(|i| i as u8 + 1);
        let t = TokenHash::from_bytes(bytes);
        assert_eq!(t.as_bytes(), &bytes);
        assert_eq!(format!("{t:?}"), "TokenHash(0102…)");
        let token = SessionToken::parse(&"A".repeat(TOKEN_CHARS)).unwrap();
        assert_eq!(
            TokenHash::from_bytes(*token.hash().as_bytes()),
            token.hash()
        );
        assert_ne!(token.hash().as_bytes(), &[0; 32]);

        let c = CodeHash::from_bytes(bytes);
        assert_eq!(c.as_bytes(), &bytes);
        assert!(c.matches(&CodeHash::from_bytes(bytes)));
        let mut other = bytes;
        other[31] ^= 1;
        assert!(!c.matches(&CodeHash::from_bytes(other)));
        assert_eq!(format!("{c:?}"), "CodeHash([redacted])");
    }

    #[test]
    fn the_server_secret_survives_a_save_and_reload() {
        let rng = SeededRandom::new(9);
        let key = ServerSecret::generate(&rng);
        assert_eq!(key.expose_secret().len(), ServerSecret::MIN_LEN);
        // What a host writes to its key file and reads back.
        let saved: Vec<u8> = key.expose_secret().to_vec();
        let reloaded = ServerSecret::from_bytes(saved.clone()).unwrap();
        assert_eq!(reloaded.expose_secret(), saved.as_slice());
        let v = VerificationToken::generate(&rng).hash();
        let code = VerificationCode::parse("424242").unwrap();
        assert!(
            key.code_hash(&v, &code)
                .matches(&reloaded.code_hash(&v, &code))
        );
        assert_eq!(key.mac("p", &[b"x"]), reloaded.mac("p", &[b"x"]));
        // Exactly the minimum length is enough; longer keys are kept whole.
        let long = ServerSecret::from_bytes(vec![5; 64]).unwrap();
        assert_eq!(long.expose_secret(), &[5; 64][..]);
        assert!(ServerSecret::from_bytes(vec![5; 32]).is_ok());
        assert!(matches!(
            ServerSecret::from_bytes(vec![5; 31]),
            Err(Error::Invalid {
                field: "server secret",
                ..
            })
        ));
    }

    #[test]
    fn macs_separate_purposes_and_splits() {
        let key = ServerSecret::from_bytes(vec![1; 32]).unwrap();
        let m = key.mac("a", &[b"ab", b"c"]);
        assert_ne!(m, [0; 32]);
        assert_ne!(m, [1; 32]);
        assert_ne!(m, key.mac("a", &[b"a", b"bc"]));
        assert_ne!(m, key.mac("b", &[b"ab", b"c"]));
        assert_eq!(m, key.mac("a", &[b"ab", b"c"]));
        let code = VerificationCode::parse("000000").unwrap();
        let v = TokenHash::from_bytes([3; 32]);
        assert_ne!(key.code_hash(&v, &code).as_bytes(), &[0; 32]);
        assert!(
            !key.code_hash(&v, &code)
                .matches(&CodeHash::from_bytes([0; 32]))
        );
    }
}
