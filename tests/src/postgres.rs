//! A database of its own for a load run or harness on a PostgreSQL server.

/// Creates the database `name` on the server at `server` (a URL or key=value string
/// of a role that may create databases) and returns a URL of it. Blocking: call it
/// from a plain thread or `spawn_blocking`.
pub fn new_database(server: &str, name: &str) -> Result<String, String> {
    let mut client = postgres::Client::connect(server, postgres::NoTls)
        .map_err(|e| format!("PostgreSQL at {server}: {e}"))?;
    client
        .batch_execute(&format!("CREATE DATABASE {name}"))
        .map_err(|e| format!("creating the database {name}: {e}"))?;
    let config: postgres::Config = server.parse().map_err(|e| format!("{e}"))?;
    let user = config.get_user().unwrap_or("postgres");
    let password = config
        .get_password()
        .map(|p| format!(":{}", String::from_utf8_lossy(p)))
        .unwrap_or_default();
    let host = config
        .get_hosts()
        .iter()
        .find_map(|h| match h {
            postgres::config::Host::Tcp(h) => Some(h.clone()),
            #[allow(unreachable_patterns)]
            _ => None,
        })
        .unwrap_or_else(|| "127.0.0.1".into());
    let port = config.get_ports().first().copied().unwrap_or(5432);
    Ok(format!(
        "postgresql://{user}{password}@{host}:{port}/{name}"
    ))
}
