//! `zizhu`: ZizhuDB in one binary. `zizhu serve` runs the PostgreSQL-protocol server on the
//! embedded engine in a local directory.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{bail, Context as _};
use zizhu_server::auth::generate_password;
use zizhu_server::hba::Rules;
use zizhu_server::Server;
use zizhu_sql::{EncryptionChoice, OpenOptions};

const USAGE: &str = "\
ZizhuDB: a relational database that speaks PostgreSQL.

usage: zizhu <command> [options]

commands:
  serve      run the server (zizhu serve --help)

options:
  -h, --help     this help
  -V, --version  the version";

const SERVE_USAGE: &str = "\
usage: zizhu serve [--data-dir DIR] [--listen HOST:PORT] [options]

Runs the server on the embedded engine in DIR, creating and initializing it on the first
start. Clients connect with the PostgreSQL protocol (psql, JDBC, psycopg, pgbench, ...) to
the database \"postgres\".

  --data-dir DIR            data directory (default: $ZIZHU_DATA, else ./zizhu-data)
  --listen HOST:PORT        address to accept connections on (default: 127.0.0.1:5432)
  --tls-cert PATH           certificate chain (PEM): offer TLS to clients (sslmode=require)
  --tls-key PATH            its private key (PEM)
  --cache-size SIZE         memory for cached pages, decrypted (default 256MB; like
                            PostgreSQL's shared_buffers, e.g. 512MB or 8GB)
  --no-autoanalyze          do not ANALYZE tables automatically (by default a table is
                            analyzed once its committed changes pass 50 rows + 10% of the
                            rows it had, as PostgreSQL's autovacuum does)
  --autoanalyze-naptime S   analyze a table automatically at most once every S seconds
                            (default 60, PostgreSQL's autovacuum_naptime)

Encryption at rest (SM4-GCM) is on. Everything in DIR is sealed under data keys, which the
master key seals; the master key is never stored in DIR. It comes from, in this order:
  --master-key-command CMD  a program printing the key as 32 hex digits (a KMS or HSM client)
  $ZIZHU_MASTER_KEY         the key as 32 hex digits
  $ZIZHU_MASTER_PASSPHRASE  a passphrase, stretched with PBKDF2-HMAC-SM3
  --master-key-file PATH    a key file (default: $ZIZHU_MASTER_KEY_FILE, else DIR.master-key
                            beside DIR), created on the first start. Keep it apart from the
                            data and back it up: without it the data cannot be read.
  --no-encryption           initialize DIR unencrypted (recorded in DIR; refused for an
                            encrypted directory)

On the first start the superuser is $ZIZHU_USER (default zizhu) with the password
$ZIZHU_PASSWORD; without it a strong password is generated and printed once.
SIGINT or SIGTERM stops the server.";

struct ServeOptions {
    data_dir: PathBuf,
    listen: SocketAddr,
    tls: Option<(PathBuf, PathBuf)>,
    key_file: Option<PathBuf>,
    key_command: Option<String>,
    no_encryption: bool,
    cache_size: u64,
    autoanalyze: bool,
    /// The least time between two automatic analyzes of one table.
    naptime: std::time::Duration,
}

/// The page cache when `--cache-size` is not given.
const DEFAULT_CACHE: u64 = 256 << 20;

fn serve_options(args: &[String]) -> anyhow::Result<Option<ServeOptions>> {
    let mut data_dir = std::env::var_os("ZIZHU_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("zizhu-data"));
    let mut listen: SocketAddr = "127.0.0.1:5432".parse()?;
    let (mut cert, mut key) = (None, None);
    let (mut key_file, mut key_command, mut no_encryption) = (None, None, false);
    let mut cache_size = DEFAULT_CACHE;
    let mut autoanalyze = true;
    let mut naptime = zizhu_sql::session::autoanalyze::NAPTIME;
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        let (flag, inline) = match arg.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f, Some(v.to_string())),
            _ => (arg.as_str(), None),
        };
        let mut value = || -> anyhow::Result<String> {
            match inline.clone().or_else(|| args.next().cloned()) {
                Some(v) => Ok(v),
                None => bail!("{flag} needs a value (zizhu serve --help)"),
            }
        };
        match flag {
            "-h" | "--help" => return Ok(None),
            "--data-dir" => data_dir = PathBuf::from(value()?),
            "--listen" => {
                let text = value()?;
                listen = text
                    .parse()
                    .with_context(|| format!("--listen {text}: expected HOST:PORT"))?;
            }
            "--tls-cert" => cert = Some(PathBuf::from(value()?)),
            "--tls-key" => key = Some(PathBuf::from(value()?)),
            "--master-key-file" => key_file = Some(PathBuf::from(value()?)),
            "--master-key-command" => key_command = Some(value()?),
            "--no-encryption" => no_encryption = true,
            "--no-autoanalyze" => autoanalyze = false,
            "--autoanalyze-naptime" => {
                let text = value()?;
                naptime = text
                    .parse::<u64>()
                    .ok()
                    .filter(|&s| s >= 1)
                    .map(std::time::Duration::from_secs)
                    .with_context(|| {
                        format!("--autoanalyze-naptime {text}: expected a whole number of seconds, at least 1")
                    })?;
            }
            "--cache-size" => {
                let text = value()?;
                cache_size = zizhu_sql::settings::parse_memory(&text)
                    .filter(|&n| n >= 1 << 20)
                    .with_context(|| {
                        format!("--cache-size {text}: expected a size of at least 1MB, such as 512MB or 4GB")
                    })?;
            }
            other => bail!("unknown option {other} (zizhu serve --help)"),
        }
    }
    let tls = match (cert, key) {
        (Some(cert), Some(key)) => Some((cert, key)),
        (None, None) => None,
        _ => bail!("--tls-cert and --tls-key go together"),
    };
    if no_encryption && (key_file.is_some() || key_command.is_some()) {
        bail!("--no-encryption cannot go with a master key option");
    }
    if key_file.is_some() && key_command.is_some() {
        bail!("--master-key-file and --master-key-command are alternatives; give one");
    }
    Ok(Some(ServeOptions {
        data_dir,
        listen,
        tls,
        key_file,
        key_command,
        no_encryption,
        cache_size,
        autoanalyze,
        naptime,
    }))
}

/// The master key file used when no other source is given: beside the data directory, never
/// in it.
fn default_key_file(data_dir: &std::path::Path) -> PathBuf {
    if let Some(path) = std::env::var_os("ZIZHU_MASTER_KEY_FILE") {
        return PathBuf::from(path);
    }
    let mut name = data_dir.as_os_str().to_owned();
    name.push(".master-key");
    PathBuf::from(name)
}

/// Where the master key comes from (see SERVE_USAGE for the order), and the key file's path
/// when it is a key file.
fn encryption_choice(o: &ServeOptions) -> anyhow::Result<(EncryptionChoice, Option<PathBuf>)> {
    use zizhu_crypto::master::{Command, HexKey, KeyFile, Passphrase};
    if o.no_encryption {
        return Ok((EncryptionChoice::Off, None));
    }
    if let Some(command) = &o.key_command {
        return Ok((EncryptionChoice::On(Box::new(Command::new(command))), None));
    }
    if o.key_file.is_none() {
        if let Ok(hex) = std::env::var("ZIZHU_MASTER_KEY") {
            let key = HexKey::parse("ZIZHU_MASTER_KEY", &hex)?;
            return Ok((EncryptionChoice::On(Box::new(key)), None));
        }
        if let Ok(text) = std::env::var("ZIZHU_MASTER_PASSPHRASE") {
            let passphrase = Passphrase::new("ZIZHU_MASTER_PASSPHRASE", text)?;
            return Ok((EncryptionChoice::On(Box::new(passphrase)), None));
        }
    }
    let path = o
        .key_file
        .clone()
        .unwrap_or_else(|| default_key_file(&o.data_dir));
    Ok((
        EncryptionChoice::On(Box::new(KeyFile::new(&path))),
        Some(path),
    ))
}

fn serve(o: ServeOptions) -> anyhow::Result<()> {
    // Checked before the data directory is touched, so a bad certificate changes nothing.
    let tls = match &o.tls {
        Some((cert, key)) => Some(zizhu_server::tls::acceptor(cert, key)?),
        None => None,
    };
    let initializing = !zizhu_datadir::is_initialized(&o.data_dir);
    let (encryption, key_file) = encryption_choice(&o)?;
    if let Some(path) = &key_file {
        let (key, data) = (
            std::path::absolute(path)?,
            std::path::absolute(&o.data_dir)?,
        );
        if key.starts_with(&data) {
            bail!(
                "the master key file {} is inside the data directory; keep it apart from the \
                 data (another disk, or a KMS), or encryption protects nothing",
                path.display()
            );
        }
    }
    let key_file_existed = key_file.as_ref().is_some_and(|p| p.exists());
    let options = OpenOptions {
        encryption,
        cache_size_bytes: usize::try_from(o.cache_size).unwrap_or(usize::MAX),
    };
    let db = match zizhu_sql::Database::open(&o.data_dir, options) {
        Ok(db) => db,
        Err(e) if e.sqlstate() == "55006" => bail!(
            "data directory {} is in use by another zizhu process",
            o.data_dir.display()
        ),
        Err(e) => return Err(e).with_context(|| format!("cannot open {}", o.data_dir.display())),
    };
    if o.autoanalyze {
        db.start_autoanalyze(o.naptime)
            .context("cannot start automatic ANALYZE")?;
    }
    let datadir = db
        .datadir()
        .ok_or_else(|| anyhow::anyhow!("the database has no data directory"))?;
    if datadir.encrypted() {
        if let (true, Some(path), false) = (initializing, &key_file, key_file_existed) {
            eprintln!(
                "zizhu: created the master key file {}: keep it apart from the data directory \
                 and back it up; without it the data cannot be read",
                path.display()
            );
        }
    } else {
        eprintln!(
            "zizhu: encryption at rest is OFF for {} (chosen when it was initialized)",
            o.data_dir.display()
        );
    }
    let user = std::env::var("ZIZHU_USER").unwrap_or_else(|_| "zizhu".into());
    let given = std::env::var("ZIZHU_PASSWORD")
        .ok()
        .filter(|p| !p.is_empty());
    let password = given.clone().unwrap_or_else(generate_password);
    let created = db
        .bootstrap_superuser(&user, &password)
        .with_context(|| format!("cannot create the superuser in {}", o.data_dir.display()))?;
    let rules = Rules::load(datadir.path()).map_err(|e| anyhow::anyhow!("{e}"))?;
    let mock = zizhu_server::auth::mock_secret(datadir)
        .with_context(|| format!("cannot set up logins in {}", o.data_dir.display()))?;
    if created {
        eprintln!("zizhu: initialized {}", o.data_dir.display());
        if given.is_none() {
            eprintln!(
                "zizhu: superuser \"{user}\" has the password {password} \
                 (shown once; set ZIZHU_PASSWORD on the first start to choose it)"
            );
        }
    }
    // Accepts connections and keeps statement timers; statements run on each connection's
    // own thread (Server::run).
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the runtime")?;
    runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind(o.listen)
            .await
            .with_context(|| format!("cannot listen on {}", o.listen))?;
        let address = listener.local_addr()?;
        eprintln!(
            "zizhu: listening on {address}, data in {}",
            o.data_dir.display()
        );
        let mut server = Server::new(db.clone(), rules, mock);
        if let Some(tls) = tls {
            server = server.with_tls(tls);
        }
        reload_on_hangup(server.rules(), datadir.path().to_path_buf());
        server.run(listener, shutdown_signal()).await?;
        eprintln!("zizhu: shutting down");
        anyhow::Ok(())
    })?;
    // Server::run has let running statements finish and closed the connections.
    runtime.shutdown_timeout(std::time::Duration::from_secs(1));
    db.stop_autoanalyze();
    drop(db);
    Ok(())
}

/// Rereads `pg_hba.conf` on SIGHUP, as PostgreSQL does; a file that does not parse leaves the
/// rules in force.
fn reload_on_hangup(rules: std::sync::Arc<parking_lot::RwLock<Rules>>, dir: std::path::PathBuf) {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let Ok(mut hangup) = signal(SignalKind::hangup()) else {
            return;
        };
        tokio::spawn(async move {
            while hangup.recv().await.is_some() {
                match Rules::load(&dir) {
                    Ok(new) => {
                        *rules.write() = new;
                        eprintln!("zizhu: reloaded {}", zizhu_server::hba::FILE);
                    }
                    Err(e) => eprintln!(
                        "zizhu: {e}; {} was not reloaded, the rules in force stay",
                        zizhu_server::hba::FILE
                    ),
                }
            }
        });
    }
    #[cfg(not(unix))]
    let _ = (rules, dir);
}

async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        None | Some("-h" | "--help" | "help") => {
            println!("{USAGE}");
            Ok(())
        }
        Some("-V" | "--version") => {
            println!("zizhu {}", env!("CARGO_PKG_VERSION"));
            Ok(())
        }
        Some("serve") => match serve_options(&args[1..]) {
            Ok(None) => {
                println!("{SERVE_USAGE}");
                Ok(())
            }
            Ok(Some(options)) => serve(options),
            Err(e) => Err(e),
        },
        Some(other) => Err(anyhow::anyhow!("unknown command {other} (zizhu --help)")),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("zizhu: {e:#}");
            ExitCode::FAILURE
        }
    }
}
