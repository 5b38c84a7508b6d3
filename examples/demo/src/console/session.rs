//! The console's sessions: the staff member's API key stays on the server, behind a
//! random session id in an HttpOnly, SameSite=Strict cookie (Secure when the app runs
//! behind TLS). Each session has its own CSRF token that every POST form carries.
//! Sessions live in memory: a restart signs everyone out, which suits a demo.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use portal_core::RandomSource;

/// The cookie that carries the session id.
pub const COOKIE: &str = "console_session";
/// How long a session lasts without use.
const IDLE: Duration = Duration::from_secs(8 * 3600);
/// The most sessions kept; beyond it the oldest are forgotten.
const MAX_SESSIONS: usize = 10_000;

/// An API key held for a session. Its `Debug` never shows it.
#[derive(Clone, PartialEq, Eq)]
pub struct ApiKey(String);

impl ApiKey {
    /// Wraps a key as pasted (surrounding spaces removed).
    pub fn new(raw: &str) -> Self {
        Self(raw.trim().to_owned())
    }

    /// The key, for the `Authorization` header only.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ApiKey([redacted])")
    }
}

/// A message kept for the next page (POST-redirect-GET), shown once.
#[derive(Debug, Clone, Default)]
pub struct Flash {
    /// A confirmation.
    pub notice: Option<String>,
    /// What went wrong.
    pub error: Option<String>,
    /// Which form the field errors belong to.
    pub form: String,
    /// Field errors `(field, detail)`.
    pub fields: Vec<(String, String)>,
    /// What the staff member typed, to fill the form again.
    pub values: Vec<(String, String)>,
    /// A secret to show once (an invite link, a new API key), with its label.
    pub secret: Option<(String, String)>,
}

/// Who is signed in.
#[derive(Debug, Clone)]
pub struct Staff {
    /// The key the console calls the API with.
    pub key: ApiKey,
    /// The key's name.
    pub name: String,
    /// `admin` or `member`.
    pub role: String,
    /// The MSP's tenant id (for creating more keys).
    pub tenant: String,
}

/// One session.
#[derive(Debug, Clone)]
pub struct Session {
    /// The CSRF token of this session's forms.
    pub csrf: String,
    /// The signed-in staff member (`None`: the sign-in page's session).
    pub staff: Option<Staff>,
    /// A message for the next page.
    pub flash: Option<Flash>,
    last_used: Instant,
}

/// Every session, by id.
#[derive(Clone)]
pub struct Sessions {
    random: Arc<dyn RandomSource>,
    map: Arc<Mutex<HashMap<String, Session>>>,
}

impl std::fmt::Debug for Sessions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Sessions")
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Constant-time equality of two tokens.
pub fn same(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

impl Sessions {
    /// An empty store drawing ids from `random`.
    pub fn new(random: Arc<dyn RandomSource>) -> Self {
        Self {
            random,
            map: Arc::new(Mutex::new(HashMap::new())),
        }
    }

    fn token(&self) -> String {
        let mut b = [0u8; 32];
        self.random.fill(&mut b);
        hex(&b)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Session>> {
        // A panic while holding the lock cannot leave a session half-written (every
        // change is one insert or remove), so a poisoned map is still good.
        self.map
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// A new session (signed in when `staff` is given); returns its id.
    pub fn create(&self, staff: Option<Staff>, flash: Option<Flash>) -> String {
        let id = self.token();
        let session = Session {
            csrf: self.token(),
            staff,
            flash,
            last_used: Instant::now(),
        };
        let mut map = self.lock();
        map.retain(|_, s| s.last_used.elapsed() < IDLE);
        if map.len() >= MAX_SESSIONS
            && let Some(oldest) = map
                .iter()
                .min_by_key(|(_, s)| s.last_used)
                .map(|(k, _)| k.clone())
        {
            map.remove(&oldest);
        }
        map.insert(id.clone(), session);
        id
    }

    /// The session of `id`, if it is live (its use time is refreshed).
    pub fn get(&self, id: &str) -> Option<Session> {
        let mut map = self.lock();
        let s = map.get_mut(id)?;
        if s.last_used.elapsed() >= IDLE {
            map.remove(id);
            return None;
        }
        s.last_used = Instant::now();
        Some(s.clone())
    }

    /// Takes the session's flash message (shown once).
    pub fn take_flash(&self, id: &str) -> Option<Flash> {
        self.lock().get_mut(id).and_then(|s| s.flash.take())
    }

    /// Leaves a flash message for the session's next page.
    pub fn set_flash(&self, id: &str, flash: Flash) {
        if let Some(s) = self.lock().get_mut(id) {
            s.flash = Some(flash);
        }
    }

    /// Ends a session.
    pub fn remove(&self, id: &str) {
        self.lock().remove(id);
    }

    /// How many sessions are live (tests).
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// Whether no session is live.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}
