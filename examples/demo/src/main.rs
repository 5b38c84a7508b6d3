//! The demo server: one command gives a working client portal on localhost.
//!
//! It opens (or creates) a SQLite database in a data folder, seeds a realistic MSP
//! with one client portal whose plan has tasks of all ten types, writes every email to
//! an outbox folder, and prints the invite link. Running it again reuses the data;
//! since invite tokens are stored only as hashes, it re-issues the demo contact's
//! invite (the previous link stops working) and prints the new link.
//!
//! Uploaded files are encrypted into `DIR/files`; the key file that unlocks them is
//! `DIR/keys/file-keys` (created on first run, owner-only). `rotate-keys` adds a new
//! key and re-wraps every file's key under it, with the server stopped.
//!
//! ```text
//! cargo run -p portal-demo -- [--data-dir DIR] [--port PORT] [--reset]
//! cargo run -p portal-demo -- rotate-keys [--data-dir DIR]
//! cargo run -p portal-demo -- api-key create --role admin|member --name NAME [--data-dir DIR]
//! ```
//!
//! The admin JSON API is served under `/api/v1` (document at `/api/v1/openapi.json`),
//! authenticated with API keys kept hashed in `DIR/api-keys` (see `api_keys.rs`): the
//! first start prints an admin key; `api-key create` prints more.
//!
//! The staff console is served at `/console` (see `console/`): sign in with an API
//! key and run the MSP's side in a browser, on top of the admin API.
//!
//! Emails are written to the outbox folder and shown at `/mailbox` (see
//! `mailbox.rs`), newest first, decoded, links clickable. With `PORTAL_SMTP_HOST`
//! set, emails go through that SMTP server instead of the outbox (see `--help` for
//! the other `PORTAL_SMTP_*` variables), and there is no mailbox page.

mod seed;

use std::io::IsTerminal as _;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use portal_core::Mailer;
use portal_core::StaffRole;
use portal_core::Store;
use portal_core::mail::{OutboxMailer, SmtpConfig, SmtpCredentials, SmtpMailer, SmtpSecurity};
use portal_core::webhooks::WebhookStore;
use portal_core::{OsRandom, PortalService};
use portal_demo::api_keys::{self, ApiKeys};
use portal_demo::console::Console;
use portal_demo::data::DataDir;
use portal_demo::files;
use portal_demo::mailbox::{self, Mailbox};
use portal_http::{HttpConfig, PortalApp};
use portal_storage_postgres::PostgresStore;
use portal_storage_sqlite::SqliteStore;

const HELP: &str =
    "usage: portal-demo [--data-dir DIR] [--host ADDR] [--port PORT] [--reset] [--frame-ancestors ORIGINS]
                   [--database-url URL]
       portal-demo rotate-keys [--data-dir DIR] [--database-url URL]
       portal-demo api-key create --role admin|member --name NAME [--data-dir DIR]

  --data-dir DIR     where the database, uploaded files, keys and outbox live
                     (default: demo-data)
  --host ADDR        IP address to listen on (default: 127.0.0.1, or PORTAL_DEMO_HOST);
                     0.0.0.0 or :: listens on every interface (links still say
                     localhost: open them with the machine's own address)
  --port PORT        port to listen on (default: 8080, or PORTAL_DEMO_PORT)
  --reset            delete the data folder first and seed afresh
  --frame-ancestors ORIGINS
                     let these origins show the portal in an iframe (e.g.
                     'http://127.0.0.1:9000'): cookies become Secure, SameSite=None,
                     Partitioned (browsers treat localhost as secure)
  --database-url URL keep the data in this PostgreSQL database instead of DIR/portal.db
                     (or PORTAL_DATABASE_URL), e.g. postgresql://portal@127.0.0.1/portal:
                     several servers (nodes) on other ports given the same URL and
                     the same --data-dir serve one portal together (docs/cluster.md)

The staff console is at /console: sign in with an API key. The admin JSON API is at
/api/v1 (its OpenAPI document at /api/v1/openapi.json); send
an API key as 'Authorization: Bearer pk_...'. The first start prints an admin key;
api-key create prints a new one (kept only as a SHA-256 in DIR/api-keys; works while
the server runs).

rotate-keys: adds a new file key to DIR/keys/file-keys, makes it active and re-wraps
every uploaded file's key under it (file contents are not touched). Stop the server
first: it refuses to run while the server uses DIR. Back up the key file afterwards.

Emails are written to DIR/outbox as .eml files and shown at /mailbox (newest first,
decoded, links clickable), unless PORTAL_SMTP_HOST is set:
  PORTAL_SMTP_HOST      send through this SMTP server instead
  PORTAL_SMTP_SECURITY  starttls (default), tls (implicit TLS) or none (plain text)
  PORTAL_SMTP_PORT      default 587 for starttls, 465 for tls, 25 for none
  PORTAL_SMTP_USER      AUTH user name (AUTH only when set)
  PORTAL_SMTP_PASSWORD  AUTH password
  PORTAL_SMTP_FROM      sender (default: Bluefin Managed IT <onboarding@bluefin-it.example>)
  PORTAL_SMTP_CA_FILE   PEM file of an extra trusted root (a private CA)";

const DEMO_FROM: &str = "Bluefin Managed IT <onboarding@bluefin-it.example>";

/// What to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Command {
    /// Serve the portal (no command given).
    Serve,
    /// `rotate-keys`.
    RotateKeys,
    /// `api-key create`.
    CreateApiKey,
}

struct Args {
    command: Command,
    data_dir: PathBuf,
    /// Where to listen (`--host`, default 127.0.0.1).
    host: IpAddr,
    port: u16,
    reset: bool,
    /// Origins allowed to frame the portal (`--frame-ancestors`).
    frame_ancestors: Option<String>,
    key_role: Option<StaffRole>,
    key_name: Option<String>,
    /// A PostgreSQL database shared by several nodes (`--database-url`).
    database_url: Option<String>,
}

/// An IP address to listen on (a name such as `localhost` is refused: the demo binds
/// exactly what it is told, and says so in its first line).
fn parse_host(raw: &str) -> Result<IpAddr, String> {
    raw.trim()
        .trim_start_matches('[')
        .trim_end_matches(']')
        .parse()
        .map_err(|_| format!("--host {raw:?} is not an IP address (e.g. 127.0.0.1, 0.0.0.0 or ::)"))
}

/// The base of the links the demo prints and emails: `localhost` when it listens on
/// loopback or every interface (no one address is right then), else the address.
fn public_base_url(host: IpAddr, port: u16) -> String {
    if host.is_loopback() || host.is_unspecified() {
        format!("http://localhost:{port}")
    } else {
        format!("http://{}", SocketAddr::new(host, port))
    }
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        command: Command::Serve,
        data_dir: PathBuf::from("demo-data"),
        host: IpAddr::V4(Ipv4Addr::LOCALHOST),
        port: 8080,
        reset: false,
        frame_ancestors: None,
        key_role: None,
        key_name: None,
        database_url: std::env::var("PORTAL_DATABASE_URL")
            .ok()
            .filter(|u| !u.is_empty()),
    };
    if let Ok(port) = std::env::var("PORTAL_DEMO_PORT") {
        args.port = port
            .parse()
            .map_err(|_| format!("PORTAL_DEMO_PORT={port:?} is not a port number"))?;
    }
    if let Ok(host) = std::env::var("PORTAL_DEMO_HOST") {
        args.host = parse_host(&host)?;
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
            "--host" => args.host = parse_host(&it.next().ok_or("--host needs an IP address")?)?,
            "--reset" => args.reset = true,
            "--frame-ancestors" => {
                args.frame_ancestors = Some(
                    it.next()
                        .ok_or("--frame-ancestors needs the origins allowed to frame the portal")?,
                );
            }
            "rotate-keys" if args.command == Command::Serve => args.command = Command::RotateKeys,
            "api-key" if args.command == Command::Serve => {
                if it.next().as_deref() != Some("create") {
                    return Err("api-key takes one subcommand: create".into());
                }
                args.command = Command::CreateApiKey;
            }
            "--role" => {
                let v = it.next().ok_or("--role needs admin or member")?;
                args.key_role = Some(StaffRole::parse(&v).map_err(|e| e.to_string())?);
            }
            "--name" => args.key_name = Some(it.next().ok_or("--name needs a name")?),
            "--database-url" => {
                args.database_url = Some(it.next().ok_or("--database-url needs a URL")?);
            }
            "-h" | "--help" => {
                println!("{HELP}");
                std::process::exit(0);
            }
            other => return Err(format!("unknown argument {other:?}; try --help")),
        }
    }
    if args.command != Command::Serve && args.reset {
        return Err("only the server takes --reset".into());
    }
    if args.database_url.is_some() && args.reset {
        return Err(
            "--reset deletes a data folder; it does not empty a shared PostgreSQL database \
             (drop and create the database instead)"
                .into(),
        );
    }
    if args.command == Command::CreateApiKey && (args.key_role.is_none() || args.key_name.is_none())
    {
        return Err("api-key create needs --role admin|member and --name NAME".into());
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

#[tokio::main]
async fn main() {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,portal_http=warn".into()),
        )
        // Colours only on a terminal (and not with NO_COLOR set), so a log piped to a
        // file or CI stays plain text.
        .with_ansi(std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none())
        .init();
    if let Err(e) = run().await {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}

async fn run() -> Result<(), Box<dyn std::error::Error>> {
    let args = parse_args()?;
    match args.command {
        Command::Serve => serve(args).await,
        Command::RotateKeys => rotate_keys(args).await,
        Command::CreateApiKey => create_api_key(args).await,
    }
}

/// `api-key create`: a new key for the demo's MSP, printed once. The data folder is
/// not locked (the server only reads the key file), so this works while it runs.
async fn create_api_key(args: Args) -> Result<(), Box<dyn std::error::Error>> {
    if args.database_url.is_none() && !args.data_dir.join("portal.db").is_file() {
        return Err(format!(
            "{} has no demo database: start the demo once first",
            args.data_dir.display()
        )
        .into());
    }
    let file = api_keys::path(&args.data_dir);
    // Keys act for the tenant of the first key (the demo's MSP, created at first start).
    let tenant = api_keys::load(&file)?
        .first()
        .map(|k| k.tenant)
        .ok_or("no API key yet: start the demo once, it creates the first one")?;
    let (Some(role), Some(name)) = (args.key_role, args.key_name) else {
        return Err("api-key create needs --role and --name".into());
    };
    let key = api_keys::create(&file, &OsRandom, tenant, &name, role)?;
    println!("{key}");
    eprintln!(
        "A {} key named {name:?}: it is shown only now (the data folder keeps its hash).",
        role.as_str()
    );
    Ok(())
}

/// `rotate-keys`: one new key, every file key re-wrapped under it, the counts printed.
async fn rotate_keys(args: Args) -> Result<(), Box<dyn std::error::Error>> {
    // Alone on the folder in both modes: every node keeps the keyring in memory.
    let data = match &args.database_url {
        Some(_) => DataDir::lock(&args.data_dir)?,
        None => DataDir::lock_existing(&args.data_dir)?,
    };
    let (store, _, _) = open_store(&args, &data).await?;
    let rotation = files::rotate_keys(&data, store).await?;
    let r = rotation.report.total();
    let ids: Vec<&str> = rotation.key_ids.iter().map(|k| k.as_str()).collect();
    println!(
        "Added key {} to {} (keys now: {}).",
        rotation.new_key,
        rotation.key_file.display(),
        ids.join(", ")
    );
    println!(
        "Re-wrapped {} file keys under {} ({} already current, {} failed)",
        r.rewrapped, rotation.new_key, r.skipped, r.failed
    );
    println!("  {}", files::per_kind(&rotation.report));
    println!("Back up the key file again now: an older copy cannot read files re-wrapped today.");
    if r.failed > 0 {
        return Err(format!(
            "{} file keys could not be re-wrapped (logged above with their record ids); those \
             files stay readable under their old key. Run rotate-keys again once the cause is fixed.",
            r.failed
        )
        .into());
    }
    Ok(())
}

/// The demo's database and a line saying where it is: SQLite in the data folder, or the
/// PostgreSQL database of `--database-url` (shared by every node given it).
async fn open_store(
    args: &Args,
    data: &DataDir,
) -> Result<(Arc<dyn Store>, Arc<dyn WebhookStore>, String), Box<dyn std::error::Error>> {
    Ok(match &args.database_url {
        Some(url) => {
            let store = Arc::new(PostgresStore::connect(url).await?);
            let said = format!(
                "PostgreSQL {} (shared by every node given it)",
                store.database()
            );
            (store.clone(), store, said)
        }
        None => {
            let store = Arc::new(SqliteStore::open(data.database()).await?);
            let said = format!("SQLite {}", data.database().display());
            (store.clone(), store, said)
        }
    })
}

/// The server: opens (or seeds) the data, prints the invite link, serves until Ctrl-C.
async fn serve(args: Args) -> Result<(), Box<dyn std::error::Error>> {
    // Locked before anything else, so neither a reset nor this server can run over a
    // folder another demo process (server or rotate-keys) is using.
    // A cluster node shares the folder with the other nodes.
    let data = match args.database_url {
        Some(_) => DataDir::lock_shared(&args.data_dir)?,
        None => DataDir::lock(&args.data_dir)?,
    };
    if args.reset {
        data.reset()?;
    }
    let outbox_dir = data.outbox();

    let (store, hooks_store, database) = open_store(&args, &data).await?;
    // Before serving: sweep what crashed uploads left (alone on the folder only), open
    // (or create) the key file.
    let demo_files = files::open(&data, args.database_url.is_none()).await?;
    files::remove_orphans(&demo_files, store.as_ref()).await?;
    // Where emails go, and the two lines that tell the user so.
    let smtp = smtp_from_env()?;
    let outbox_in_use = smtp.is_none();
    let (mailer, mail_how, mail_where): (Arc<dyn Mailer>, _, _) = match smtp {
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
    let config = match &args.frame_ancestors {
        // Framed by another site: SameSite=None cookies, which must be Secure (browsers
        // accept Secure cookies from http://localhost, a secure context).
        Some(origins) => HttpConfig::builder(public_base_url(args.host, args.port))
            .frame_ancestors(origins.clone())
            .build()?,
        None => HttpConfig {
            public_base_url: public_base_url(args.host, args.port),
            // Plain http on localhost: cookies cannot be `Secure` here. Never do this in production.
            secure_cookies: false,
            ..HttpConfig::default()
        },
    };
    let service = PortalService::builder(
        store.clone(),
        mailer,
        Arc::new(config.links()),
        data.server_secret()?,
    )
    .files(demo_files.vault)
    .build();
    // Emails are queued with the actions that cause them; this sender delivers them
    // (retrying while a mail server is away) until the server stops.
    let sender = portal_core::service::spawn_outbox_sender(service.clone());

    let seeded = seed::ensure(&service).await?;
    let invite = service
        .invite_contact(&seed::staff(seeded.portal.tenant_id)?, seeded.contact.id)
        .await?;
    let link = format!("{}/i/{}", config.public_base_url, invite.expose_secret());

    // The admin API's first key: printed once, like the invite link.
    let keys_file = api_keys::path(data.root());
    let first_key = if api_keys::load(&keys_file)?.is_empty() {
        Some(api_keys::create(
            &keys_file,
            &OsRandom,
            seeded.portal.tenant_id,
            "Demo admin",
            StaffRole::Admin,
        )?)
    } else {
        None
    };

    let listen = SocketAddr::new(args.host, args.port);
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .map_err(|e| {
            format!(
                "cannot listen on {listen}: {e} (another program may use it, or the address is not this machine's; try --port 8081)"
            )
        })?;
    println!();
    println!("  MSP client portal demo: {}", config.public_base_url);
    println!("  Data: {database}.");
    if !listen.ip().is_loopback() {
        println!("  Listening on {listen}: reachable from other machines on the network.");
    }
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
    println!(
        "  Staff console: {}/console (sign in with an API key)",
        config.public_base_url
    );
    println!(
        "  Admin API: {}/api/v1 (document: {}/api/v1/openapi.json)",
        config.public_base_url, config.public_base_url
    );
    match &first_key {
        Some(key) => {
            println!(
                "  Its first API key (admin; shown only now, kept hashed in {}):",
                keys_file.display()
            );
            println!("    {key}");
        }
        None => println!(
            "  API keys are kept hashed in {}; `portal-demo api-key create` makes a new one.",
            keys_file.display()
        ),
    }
    println!();
    println!("  Emails (invite, verification codes) are {mail_how}:");
    println!("    {mail_where}");
    if outbox_in_use {
        println!(
            "  Read them in the browser (newest first, links clickable): {}{}",
            config.public_base_url,
            mailbox::PREFIX
        );
    }
    println!(
        "  Each run re-issues the invite, so earlier links stop working. Ctrl-C stops the server."
    );
    println!();
    println!(
        "  Uploaded files are encrypted; the key file that unlocks them ({}):",
        if demo_files.key_created {
            "created now"
        } else {
            "kept from an earlier run"
        }
    );
    println!("    {}", demo_files.key_file.display());
    println!("  Back it up apart from the data: if it is lost, every uploaded file is unreadable.");
    println!();
    // Access-log retention: prune entries older than 400 days now and then hourly
    // (one node is enough; the prune is idempotent).
    let retention =
        portal_core::service::spawn_retention(service.clone(), Duration::from_secs(3600));
    // Due-date reminders: a pass every 5 minutes sends each contact's daily digest at
    // 09:00 in their time zone on business days (and tells the MSP about quiet clients).
    let reminders =
        portal_core::service::spawn_reminder_pass(service.clone(), Duration::from_secs(300));
    // Secure file drops: a sweep every minute removes the bytes of expired and deleted
    // files (an expired file is refused from its expiry on; the sweep frees the space).
    let sweeper =
        portal_core::service::spawn_file_drop_sweeper(service.clone(), Duration::from_secs(60));
    // Signed webhooks: the dispatcher and worker every 2 seconds. The demo allows
    // private and http:// receivers (a PSA or a test receiver on this machine); a
    // production host keeps both refused.
    let webhooks = portal_core::webhooks::service::Webhooks::new(
        &service,
        hooks_store,
        Arc::new(portal_http::HttpWebhookTransport::new(true)?),
        portal_core::webhooks::service::WebhookSettings {
            allow_http: true,
            ..Default::default()
        },
    );
    let webhook_worker = webhooks.clone().spawn(Duration::from_secs(2));
    // The console calls the admin API of an app without the console (a clone sharing
    // the same service and limits), and is then mounted on the app that serves.
    let api_app = PortalApp::new(service, config)
        .with_staff_auth(Arc::new(ApiKeys::new(keys_file.clone())))
        .with_webhooks(webhooks);
    let app = Console::new(api_app.clone(), keys_file).mount(api_app);
    // The demo mailbox: demo only, and only while emails go to the outbox.
    let app = Arc::new(if outbox_in_use {
        Mailbox::new(outbox_dir.clone()).mount(app)
    } else {
        app
    });
    let served = portal_http::serve(listener, app, portal_http::shutdown_signal()).await;
    retention.abort();
    sweeper.abort();
    webhook_worker.abort();
    reminders.stop().await;
    sender.stop().await;
    served?;
    // The lock is held until here: the whole time the server may touch the data.
    drop(data);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_are_ip_addresses_and_links_name_them() {
        assert_eq!(parse_host("0.0.0.0"), Ok(IpAddr::V4(Ipv4Addr::UNSPECIFIED)));
        assert_eq!(
            parse_host("[::1]"),
            Ok(IpAddr::V6(std::net::Ipv6Addr::LOCALHOST))
        );
        assert!(parse_host("localhost").is_err());
        assert!(parse_host("").is_err());
        let local = IpAddr::V4(Ipv4Addr::LOCALHOST);
        assert_eq!(public_base_url(local, 8080), "http://localhost:8080");
        assert_eq!(
            public_base_url(IpAddr::V4(Ipv4Addr::UNSPECIFIED), 8080),
            "http://localhost:8080"
        );
        assert_eq!(
            public_base_url(IpAddr::V4(Ipv4Addr::new(192, 168, 1, 20)), 9000),
            "http://192.168.1.20:9000"
        );
        assert_eq!(
            public_base_url("fd00::5".parse().unwrap_or(local), 9000),
            "http://[fd00::5]:9000"
        );
    }
}
