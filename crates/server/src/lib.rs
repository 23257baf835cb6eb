//! ZizhuDB's server: the PostgreSQL v3 wire protocol (through `pgwire`) over the SQL layer.
//!
//! The async edge of a synchronous core: tokio accepts connections and speaks the protocol;
//! each connection's statements run on the blocking pool against its own
//! [`zizhu_sql::Session`] ([`handler`]). Logins use SCRAM-SHA-256 against the users file
//! ([`auth`]), over TLS when given a certificate ([`tls`]); values cross the wire in text or
//! binary format ([`wire`]), and SQL errors become ErrorResponse fields there, in one place.
//!
//! [`Server::run`] serves until the shutdown future completes, then stops accepting and
//! returns; the database is closed (and its last commit already durable) when the caller drops
//! it.

pub mod auth;
pub mod handler;
pub mod tls;
pub mod wire;

use std::collections::HashMap;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

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
#[derive(Debug)]
struct Parameters;

impl ServerParameterProvider for Parameters {
    fn server_parameters<C: ClientInfo>(&self, client: &C) -> Option<HashMap<String, String>> {
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
    users: Arc<auth::Users>,
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
        let mut scram = ScramAuth::new(self.users.clone());
        scram.set_iterations(auth::ITERATIONS);
        Arc::new(SASLAuthStartupHandler::new(Arc::new(Parameters)).with_scram(scram))
    }
}

/// A server over an open database.
pub struct Server {
    db: Arc<Database<RedbEngine>>,
    users: Arc<auth::Users>,
    tls: Option<pgwire::tokio::TlsAcceptor>,
}

impl Server {
    /// A server for `db`, admitting `users`.
    pub fn new(db: Arc<Database<RedbEngine>>, users: auth::Users) -> Self {
        Self {
            db,
            users: Arc::new(users),
            tls: None,
        }
    }

    /// Offers TLS to clients ([`tls::acceptor`]).
    pub fn with_tls(mut self, acceptor: pgwire::tokio::TlsAcceptor) -> Self {
        self.tls = Some(acceptor);
        self
    }

    /// Accepts connections on `listener` until `shutdown` completes.
    pub async fn run(
        &self,
        listener: TcpListener,
        shutdown: impl Future<Output = ()>,
    ) -> std::io::Result<()> {
        let handlers = Arc::new(Handlers {
            handler: Arc::new(handler::Handler::new(self.db.clone())),
            users: self.users.clone(),
        });
        tokio::pin!(shutdown);
        loop {
            tokio::select! {
                () = &mut shutdown => return Ok(()),
                accepted = listener.accept() => {
                    let (socket, _peer): (_, SocketAddr) = match accepted {
                        Ok(a) => a,
                        // Out of file descriptors and the like: keep serving the others.
                        Err(_) => continue,
                    };
                    let _ = socket.set_nodelay(true);
                    let handlers = handlers.clone();
                    let tls = self.tls.clone();
                    tokio::spawn(async move {
                        let _ = pgwire::tokio::process_socket(socket, tls, handlers).await;
                    });
                }
            }
        }
    }
}
