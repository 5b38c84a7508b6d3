//! The demo server: one command gives a working client portal on localhost.
//!
//! It opens (or creates) a SQLite database in a data folder, seeds a realistic MSP
//! with one client portal whose plan has tasks of all ten types, writes every email to
//! an outbox folder, and prints the invite link. Running it again reuses the data;
//! since invite tokens are stored only as hashes, it re-issues the demo contact's
//! invite (the previous link stops working) and prints the new link.
//!
//! ```text
//! cargo run -p portal-demo -- [--data-dir DIR] [--port PORT] [--reset]
//! ```
//!
//! With `PORTAL_SMTP_HOST` set, emails go through that SMTP server instead of the
//! outbox (see `--help` for the other `PORTAL_SMTP_*` variables).

mod seed;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use portal_core::Mailer;
use portal_core::mail::{OutboxMailer, SmtpConfig, SmtpCredentials, SmtpMailer, SmtpSecurity};
use portal_core::secret::ServerSecret;
use portal_core::{OsRandom, PortalService};
use portal_http::{HttpConfig, PortalApp};
use portal_storage_sqlite::SqliteStore;

const HELP: &str = "usage: portal-demo [--data-dir DIR] [--port PORT] [--reset]

  --data-dir DIR  where the database, server key and outbox live (default: demo-data)
  --port PORT     port on 127.0.0.1 (default: 8080, or PORTAL_DEMO_PORT)
  --reset         delete the data folder first and seed afresh

Emails are written to DIR/outbox as .eml files, unless PORTAL_SMTP_HOST is set:
  PORTAL_SMTP_HOST      send through this SMTP server instead
  PORTAL_SMTP_SECURITY  starttls (default), tls (implicit TLS) or none (plain text)
  PORTAL_SMTP_PORT      default 587 for starttls, 465 for tls, 25 for none
  PORTAL_SMTP_USER      AUTH user name (AUTH only when set)
  PORTAL_SMTP_PASSWORD  AUTH password
  PORTAL_SMTP_FROM      sender (default: Bluefin Managed IT <onboarding@bluefin-it.example>)
  PORTAL_SMTP_CA_FILE   PEM file of an extra trusted root (a private CA)";

const DEMO_FROM: &str = "Bluefin Managed IT <onboarding@bluefin-it.example>";

struct Args {
    data_dir: PathBuf,
    port: u16,
    reset: bool,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        data_dir: PathBuf::from("demo-data"),
        port: 8080,
        reset: false,
    };
    if let Ok(port) = std::env::var("PORTAL_DEMO_PORT") {
        args.port = port
            .parse()
            .map_err(|_| format!("PORTAL_DEMO_PORT={port:?} is not a port number"))?;
    }
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--data-dir" => args.data_dir = it.next().ok_or("--data-dir needs a folder")?.into(),
            "--port" => {
                let v = it.next().ok_or("--port needs a number")?;
                args.port = v
                    .parse()
                    .map_err(|_| format!("--port {v:?} is not a port number"))?;
            }
            "--reset" => args.reset = true,
            "-h" | "--help" => {
                println!("{HELP}");
                std::process::exit(0);
            }
            other => return Err(format!("unknown argument {other:?}; try --help")),
        }
    }
    Ok(args)
}

/// The SMTP settings from `PORTAL_SMTP_*`, or `None` when `PORTAL_SMTP_HOST` is unset
/// (the demo then keeps its outbox).
fn smtp_from_env() -> Result<Option<SmtpConfig>, String> {
    let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
    let Some(host) = var("PORTAL_SMTP_HOST") else {
        return Ok(None);
    };
    let mut config = SmtpConfig::new(host, var("PORTAL_SMTP_FROM").unwrap_or(DEMO_FROM.into()));
    config.security = match var("PORTAL_SMTP_SECURITY").as_deref() {
        None | Some("starttls") => SmtpSecurity::StartTls,
        Some("tls") => SmtpSecurity::Tls,
        Some("none") => SmtpSecurity::None,
        Some(other) => {
            return Err(format!(
                "PORTAL_SMTP_SECURITY={other:?}: use starttls, tls or none"
            ));
        }
    };
    config.port = match var("PORTAL_SMTP_PORT") {
        Some(p) => p
            .parse()
            .map_err(|_| format!("PORTAL_SMTP_PORT={p:?} is not a port number"))?,
        None => config.security.default_port(),
    };
    if let Some(user) = var("PORTAL_SMTP_USER") {
        let password = var("PORTAL_SMTP_PASSWORD").unwrap_or_default();
        config.credentials = Some(SmtpCredentials::new(user, password));
    }
    if let Some(file) = var("PORTAL_SMTP_CA_FILE") {
        config.extra_root_pem =
            Some(std::fs::read(&file).map_err(|e| format!("PORTAL_SMTP_CA_FILE={file:?}: {e}"))?);
    }
    Ok(Some(config))
}

/// Loads the server secret from the data folder, creating it (owner-only) on first run.
fn server_secret(dir: &Path) -> Result<ServerSecret, Box<dyn std::error::Error>> {
    let path = dir.join("server-secret.key");
    if let Ok(bytes) = std::fs::read(&path) {
        return Ok(ServerSecret::from_bytes(bytes)?);
    }
    let secret = ServerSecret::generate(&OsRandom);
    #[cfg(unix)]
    {
        use std::io::Write as _;
        use std::os::unix::fs::OpenOptionsExt as _;
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&path)?;
        f.write_all(secret.expose_secret())?;
    }
    #[cfg(not(unix))]
    std::fs::write(&path, secret.expose_secret())?;
    Ok(secret)
}

#[tokio::main]
async fn main() {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,portal_http=warn".into()),
        )
        .init();
    if let Err(e) = run().await {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}

async fn run() -> Result<(), Box<dyn std::error::Error>> {
    let args = parse_args()?;
    if args.reset && args.data_dir.exists() {
        std::fs::remove_dir_all(&args.data_dir)?;
    }
    std::fs::create_dir_all(&args.data_dir)?;
    let data_dir = std::fs::canonicalize(&args.data_dir)?;
    let outbox_dir = data_dir.join("outbox");

    let store = Arc::new(SqliteStore::open(data_dir.join("portal.db")).await?);
    // Where emails go, and the two lines that tell the user so.
    let (mailer, mail_how, mail_where): (Arc<dyn Mailer>, _, _) = match smtp_from_env()? {
        Some(c) => (
            Arc::new(SmtpMailer::new(c.clone())?),
            "sent through",
            format!(
                "the SMTP server {}:{} ({})",
                c.host,
                c.port,
                c.security.as_str()
            ),
        ),
        None => (
            Arc::new(OutboxMailer::new(&outbox_dir, DEMO_FROM)?),
            "written to",
            outbox_dir.display().to_string(),
        ),
    };
    let config = HttpConfig {
        public_base_url: format!("http://localhost:{}", args.port),
        // Plain http on localhost: cookies cannot be `Secure` here. Never do this in production.
        secure_cookies: false,
        ..HttpConfig::default()
    };
    let service = PortalService::builder(
        store,
        mailer,
        Arc::new(config.links()),
        server_secret(&data_dir)?,
    )
    .build();
    // Emails are queued with the actions that cause them; this sender delivers them
    // (retrying while a mail server is away) until the server stops.
    let sender = portal_core::service::spawn_outbox_sender(service.clone());

    let seeded = seed::ensure(&service).await?;
    let invite = service.invite_contact(seeded.contact.id).await?;
    let link = format!("{}/i/{}", config.public_base_url, invite.expose_secret());

    let listener = tokio::net::TcpListener::bind(("127.0.0.1", args.port))
        .await
        .map_err(|e| {
            format!(
                "cannot listen on 127.0.0.1:{}: {e} (another program may use it; try --port 8081)",
                args.port
            )
        })?;
    println!();
    println!("  MSP client portal demo: {}", config.public_base_url);
    println!(
        "  {} the demo data for {}.",
        if seeded.created {
            "Created"
        } else {
            "Reopened"
        },
        seeded.portal.client_name
    );
    println!();
    println!(
        "  Invite link for {} <{}>:",
        seeded.contact.name, seeded.contact.email
    );
    println!("    {link}");
    println!();
    println!("  Emails (invite, verification codes) are {mail_how}:");
    println!("    {mail_where}");
    println!(
        "  Each run re-issues the invite, so earlier links stop working. Ctrl-C stops the server."
    );
    println!();
    // Access-log retention: prune entries older than 400 days now and then hourly
    // (one node is enough; the prune is idempotent).
    let retention =
        portal_core::service::spawn_retention(service.clone(), Duration::from_secs(3600));
    let app = Arc::new(PortalApp::new(service, config));
    let served = portal_http::serve(listener, app, portal_http::shutdown_signal()).await;
    retention.abort();
    sender.stop().await;
    served?;
    Ok(())
}
