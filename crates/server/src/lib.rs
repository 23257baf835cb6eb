//! ZizhuDB's server: the PostgreSQL v3 wire protocol (through `pgwire`) over the SQL layer.
//!
//! The async edge of a synchronous core: tokio accepts connections and speaks the protocol;
//! each connection has its own thread and runs its statements there, inline, against its own
//! [`zizhu_sql::Session`] ([`handler`]); replies to the extended protocol leave in one write
//! per Sync ([`batch`]). Connections meet the rules of `pg_hba.conf` ([`hba`]), then log in
//! with SCRAM-SHA-256 against the roles in the catalog ([`auth`]), over TLS when given a certificate ([`tls`]); values cross the wire in text or
//! binary format ([`wire`]), and SQL errors become ErrorResponse fields there, in one place.
//!
//! [`Server::run`] serves until the shutdown future completes, then stops accepting and
//! returns; the database is closed (and its last commit already durable) when the caller drops
//! it.

pub mod auth;
pub mod batch;
pub mod handler;
pub mod hba;
pub mod tls;
pub mod wire;

use std::collections::HashMap;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use parking_lot::RwLock;
use pgwire::api::auth::sasl::scram::ScramAuth;
use pgwire::api::auth::sasl::SASLAuthStartupHandler;
use pgwire::api::auth::{ServerParameterProvider, StartupHandler};
use pgwire::api::cancel::CancelHandler;
use pgwire::api::copy::CopyHandler;
use pgwire::api::query::{ExtendedQueryHandler, SimpleQueryHandler};
use pgwire::api::{ClientInfo, PgWireServerHandlers};
use tokio::net::TcpListener;
use zizhu_sql::{Database, RedbEngine};

/// The parameters reported to clients at startup (ParameterStatus), as PostgreSQL 15 reports
/// them for the settings the engine implements.
/// Opens the session after login (pgwire asks for the parameters right after
/// AuthenticationOk).
struct Parameters {
    handler: Arc<handler::Handler>,
}

impl ServerParameterProvider for Parameters {
    fn server_parameters<C: ClientInfo>(&self, client: &C) -> Option<HashMap<String, String>> {
        self.handler.open(client);
        let user = client.metadata().get("user").cloned().unwrap_or_default();
        let application = client
            .metadata()
            .get("application_name")
            .cloned()
            .unwrap_or_default();
        let params = [
            ("server_version", "15.0"),
            ("server_encoding", "UTF8"),
            ("client_encoding", "UTF8"),
            ("DateStyle", "ISO, MDY"),
            ("IntervalStyle", "postgres"),
            ("TimeZone", "UTC"),
            ("integer_datetimes", "on"),
            ("standard_conforming_strings", "on"),
            ("is_superuser", "on"),
            ("default_transaction_read_only", "off"),
            ("in_hot_standby", "off"),
        ];
        let mut map: HashMap<String, String> = params
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        map.insert("session_authorization".into(), user);
        map.insert("application_name".into(), application);
        Some(map)
    }
}

struct Handlers {
    handler: Arc<handler::Handler>,
    logins: Arc<auth::Logins>,
    rules: Arc<RwLock<hba::Rules>>,
}

impl PgWireServerHandlers for Handlers {
    fn simple_query_handler(&self) -> Arc<impl SimpleQueryHandler> {
        self.handler.clone()
    }

    fn extended_query_handler(&self) -> Arc<impl ExtendedQueryHandler> {
        self.handler.clone()
    }

    fn copy_handler(&self) -> Arc<impl CopyHandler> {
        self.handler.clone()
    }

    fn cancel_handler(&self) -> Arc<impl CancelHandler> {
        self.handler.clone()
    }

    fn startup_handler(&self) -> Arc<impl StartupHandler> {
        let scram = ScramAuth::new(self.logins.clone());
        Arc::new(auth::Gate::new(
            self.rules.clone(),
            SASLAuthStartupHandler::new(Arc::new(Parameters {
                handler: self.handler.clone(),
            }))
            .with_scram(scram),
        ))
    }
}

/// Stack size of the connection threads, which statements run on. A statement nested to the
/// parser's depth limit needs more than the 2 MiB default in unoptimized builds; the memory
/// is reserved, and only what a statement touches is used.
const STATEMENT_STACK: usize = 64 << 20;

/// How long a stopping server waits for running statements to finish.
const DRAIN: Duration = Duration::from_secs(30);

/// A server over an open database.
pub struct Server {
    db: Arc<Database<RedbEngine>>,
    rules: Arc<RwLock<hba::Rules>>,
    mock: [u8; 32],
    tls: Option<pgwire::tokio::TlsAcceptor>,
}

impl Server {
    /// A server for `db`, admitting connections by `rules`; `mock` keys the salts of
    /// refused logins ([`auth::mock_secret`]).
    pub fn new(db: Arc<Database<RedbEngine>>, rules: hba::Rules, mock: [u8; 32]) -> Self {
        Self {
            db,
            rules: Arc::new(RwLock::new(rules)),
            mock,
            tls: None,
        }
    }

    /// The connection rules in force: replacing them (a reload) applies to new connections;
    /// those already open stay.
    pub fn rules(&self) -> Arc<RwLock<hba::Rules>> {
        self.rules.clone()
    }

    /// Offers TLS to clients ([`tls::acceptor`]).
    pub fn with_tls(mut self, acceptor: pgwire::tokio::TlsAcceptor) -> Self {
        self.tls = Some(acceptor);
        self
    }

    /// Accepts connections on `listener` until `shutdown` completes, then lets every
    /// connection finish the statement it is running (up to 30 seconds), closes them, and
    /// returns. Must run inside a multi-threaded tokio runtime, which also keeps the
    /// connections' statement timers.
    ///
    /// Each connection gets its own thread, with a single-threaded runtime for its socket,
    /// and runs its statements inline on it, as a PostgreSQL backend process does. Handing
    /// each statement to a shared blocking pool instead cost two thread wake-ups per
    /// statement, the largest item in the profile of short statements (see
    /// `docs/architecture/server.md`); a statement that waits on a row lock holds only its
    /// own connection's thread.
    pub async fn run(
        &self,
        listener: TcpListener,
        shutdown: impl Future<Output = ()>,
    ) -> std::io::Result<()> {
        let handlers = Arc::new(Handlers {
            handler: Arc::new(handler::Handler::new(
                self.db.clone(),
                tokio::runtime::Handle::current(),
            )),
            logins: Arc::new(auth::Logins::new(self.db.clone(), self.mock)),
            rules: self.rules.clone(),
        });
        let (stop, stopped) = tokio::sync::watch::channel(false);
        let live = Arc::new(AtomicUsize::new(0));
        tokio::pin!(shutdown);
        loop {
            tokio::select! {
                () = &mut shutdown => break,
                accepted = listener.accept() => {
                    let (socket, _peer): (_, SocketAddr) = match accepted {
                        Ok(a) => a,
                        // Out of file descriptors and the like: keep serving the others.
                        Err(_) => continue,
                    };
                    let _ = socket.set_nodelay(true);
                    let Ok(socket) = socket.into_std() else { continue };
                    let connection = ConnectionThread {
                        handlers: handlers.clone(),
                        tls: self.tls.clone(),
                        stopped: stopped.clone(),
                        live: live.clone(),
                    };
                    live.fetch_add(1, Ordering::SeqCst);
                    let spawned = std::thread::Builder::new()
                        .name("zizhu-conn".into())
                        .stack_size(STATEMENT_STACK)
                        .spawn(move || connection.serve(socket));
                    if spawned.is_err() {
                        // Out of threads: the client sees its connection closed.
                        live.fetch_sub(1, Ordering::SeqCst);
                    }
                }
            }
        }
        let _ = stop.send(true);
        let deadline = tokio::time::Instant::now() + DRAIN;
        while live.load(Ordering::SeqCst) > 0 && tokio::time::Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        Ok(())
    }
}

thread_local! {
    /// The connection thread's way to end its connection from a timer (the session is
    /// created on the same thread, inside the protocol handlers; see [`ending`]).
    static ENDING: std::cell::RefCell<Option<Arc<tokio::sync::watch::Sender<bool>>>> =
        const { std::cell::RefCell::new(None) };
}

/// The current connection thread's ending switch: sending `true` closes the connection with
/// FATAL 25P03, as PostgreSQL does when `idle_in_transaction_session_timeout` passes.
pub(crate) fn ending() -> Option<Arc<tokio::sync::watch::Sender<bool>>> {
    ENDING.with(|e| e.borrow().clone())
}

/// The ErrorResponse a connection ended for idling in a transaction gets, encoded by pgwire
/// (written straight to a plain socket; a TLS connection is just closed).
fn idle_timeout_message() -> Vec<u8> {
    let info = pgwire::error::ErrorInfo::new(
        "FATAL".into(),
        "25P03".into(),
        "terminating connection due to idle-in-transaction timeout".into(),
    );
    let mut buf = bytes::BytesMut::new();
    // Encoding into memory cannot fail; an empty message just closes the connection.
    let _ = pgwire::messages::Message::encode(
        &pgwire::messages::response::ErrorResponse::from(info),
        &mut buf,
    );
    buf.to_vec()
}

/// What a connection's thread needs.
struct ConnectionThread {
    handlers: Arc<Handlers>,
    tls: Option<pgwire::tokio::TlsAcceptor>,
    stopped: tokio::sync::watch::Receiver<bool>,
    live: Arc<AtomicUsize>,
}

impl ConnectionThread {
    /// Speaks the protocol on `socket` until the client leaves or the server stops. A stop
    /// takes effect between statements: the connection is closed and its session dropped,
    /// which rolls back an open transaction.
    fn serve(self, socket: std::net::TcpStream) {
        // Counted live until this thread ends, however it ends.
        let _live = LiveGuard(self.live.clone());
        // A panic in the protocol decoder (pgwire 0.42 subtracts 4 from a client's declared
        // message length unchecked, for one) ends this connection only: its session is
        // dropped, which rolls back its transaction, and the other connections go on.
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| self.speak(socket)));
        if outcome.is_err() {
            eprintln!(
                "zizhu: a connection was closed after a protocol error (see the panic above)"
            );
        }
    }

    fn speak(mut self, socket: std::net::TcpStream) {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build();
        if let Ok(runtime) = runtime {
            let (end, mut ended) = tokio::sync::watch::channel(false);
            ENDING.with(|e| *e.borrow_mut() = Some(Arc::new(end)));
            let raw = if self.tls.is_none() {
                socket.try_clone().ok()
            } else {
                None
            };
            runtime.block_on(async {
                let Ok(socket) = tokio::net::TcpStream::from_std(socket) else {
                    return;
                };
                tokio::select! {
                    _ = pgwire::tokio::process_socket(socket, self.tls, self.handlers) => {}
                    _ = self.stopped.wait_for(|stop| *stop) => {}
                    _ = ended.wait_for(|end| *end) => {
                        // The client is idle (waiting for nothing from us), so nothing else is
                        // writing to the socket.
                        if let Some(mut raw) = raw {
                            use std::io::Write;
                            let _ = raw.write_all(&idle_timeout_message());
                        }
                    }
                }
            });
            ENDING.with(|e| e.borrow_mut().take());
        }
    }
}

/// Counts a connection thread out of the live connections when it ends.
struct LiveGuard(Arc<AtomicUsize>);

impl Drop for LiveGuard {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}
