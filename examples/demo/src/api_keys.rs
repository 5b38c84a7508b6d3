//! The demo's [`StaffAuth`]: API keys for the admin API, kept hashed in the data folder.
//!
//! A key is 256 random bits, shown once as `pk_` + 64 hex digits; the file
//! `<data-dir>/api-keys` (owner-only) keeps one JSON line per key with its SHA-256,
//! name, role and tenant, never the key. The server reads the file on each request (it
//! is a few lines), so `portal-demo api-key create` works while the server runs. A
//! request sends `Authorization: Bearer pk_…`; the hash is compared with every stored
//! hash in constant time.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use async_trait::async_trait;
use http::request::Parts;
use portal_core::{Error, RandomSource, Result, StaffContext, StaffRole, TenantId};
use portal_http::{AuthRefusal, StaffAuth, bearer_token};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

/// The key file's name in the data folder.
pub const FILE: &str = "api-keys";

/// A key as stored: everything but the key itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredKey {
    /// Hex SHA-256 of the key.
    pub sha256: String,
    /// Who or what uses it (shown in the activity feed as the staff name).
    pub name: String,
    /// What it may do.
    pub role: StaffRole,
    /// The MSP it acts for.
    pub tenant: TenantId,
}

fn hash(key: &str) -> String {
    Sha256::digest(key.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The key file of a data folder.
pub fn path(data_dir: &Path) -> PathBuf {
    data_dir.join(FILE)
}

/// Every stored key (none when the file does not exist).
pub fn load(file: &Path) -> Result<Vec<StoredKey>> {
    let text = match std::fs::read_to_string(file) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(Error::storage(format!("cannot read {}", file.display()), e)),
    };
    let mut keys = Vec::new();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let v: Value = serde_json::from_str(line)
            .map_err(|e| Error::storage(format!("a line of {} is not JSON", file.display()), e))?;
        let field = |name: &str| v.get(name).and_then(Value::as_str).unwrap_or_default();
        keys.push(StoredKey {
            sha256: field("sha256").to_owned(),
            name: field("name").to_owned(),
            role: StaffRole::parse(field("role"))?,
            tenant: field("tenant")
                .parse()
                .map_err(|_| Error::storage_msg("an API key names no valid tenant"))?,
        });
    }
    Ok(keys)
}

/// Creates a key for `tenant` and appends its hash to `file` (created owner-only);
/// returns the key, which is never stored.
pub fn create(
    file: &Path,
    random: &dyn RandomSource,
    tenant: TenantId,
    name: &str,
    role: StaffRole,
) -> Result<String> {
    let name = name.trim();
    if name.is_empty() || name.len() > 100 || name.chars().any(char::is_control) {
        return Err(Error::invalid(
            "name",
            "give the key a name of 1 to 100 characters",
        ));
    }
    let mut bytes = [0u8; 32];
    random.fill(&mut bytes);
    let key = format!(
        "pk_{}",
        bytes.iter().map(|b| format!("{b:02x}")).collect::<String>()
    );
    let line = json!({
        "sha256": hash(&key),
        "name": name,
        "role": role.as_str(),
        "tenant": tenant.to_string(),
        "created_at": chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
    });
    let mut options = std::fs::OpenOptions::new();
    options.create(true).append(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    let mut f = options
        .open(file)
        .map_err(|e| Error::storage(format!("cannot open {}", file.display()), e))?;
    writeln!(f, "{line}")
        .and_then(|()| f.sync_all())
        .map_err(|e| Error::storage(format!("cannot write {}", file.display()), e))?;
    Ok(key)
}

/// The [`StaffAuth`] over a key file.
#[derive(Debug, Clone)]
pub struct ApiKeys {
    file: PathBuf,
}

impl ApiKeys {
    /// Checks keys against `file`.
    pub fn new(file: PathBuf) -> Self {
        Self { file }
    }
}

#[async_trait]
impl StaffAuth for ApiKeys {
    async fn authenticate(&self, request: &Parts) -> Result<StaffContext, AuthRefusal> {
        let Some(presented) = bearer_token(request) else {
            return Err(AuthRefusal::Missing);
        };
        let presented = hash(presented);
        let file = self.file.clone();
        let keys = tokio::task::spawn_blocking(move || load(&file))
            .await
            .map_err(|_| AuthRefusal::Invalid)?
            .map_err(|e| {
                tracing::error!(error = %e, "cannot read the API key file");
                AuthRefusal::Invalid
            })?;
        let mut found = None;
        for k in &keys {
            if same(k.sha256.as_bytes(), presented.as_bytes()) {
                found = Some(k);
            }
        }
        let key = found.ok_or(AuthRefusal::Invalid)?;
        StaffContext::new(
            key.tenant,
            &format!("api-key:{}", &key.sha256[..12]),
            &key.name,
            None,
            key.role,
        )
        .map_err(|_| AuthRefusal::Invalid)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_stored_hashed_and_found_again() {
        let dir = tempfile::tempdir().unwrap();
        let file = path(dir.path());
        let tenant = TenantId::from_bytes([3; 16]);
        let key = create(
            &file,
            &portal_core::OsRandom,
            tenant,
            "CI",
            StaffRole::Member,
        )
        .unwrap();
        assert!(key.starts_with("pk_") && key.len() == 67);
        let text = std::fs::read_to_string(&file).unwrap();
        assert!(!text.contains(&key[3..]), "the key itself is never stored");
        let keys = load(&file).unwrap();
        assert_eq!(keys.len(), 1);
        assert_eq!(keys[0].sha256, hash(&key));
        assert_eq!(keys[0].role, StaffRole::Member);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(&file).unwrap().permissions().mode();
            assert_eq!(mode & 0o077, 0, "owner-only");
        }
    }
}
