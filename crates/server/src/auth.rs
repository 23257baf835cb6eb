//! Authentication: connection rules ([`hba`](crate::hba)), then SCRAM-SHA-256 against the
//! roles in the catalog.
//!
//! A connection first meets the rules in `pg_hba.conf` ([`Gate`]), by client address, TLS,
//! user and database: a refused one gets FATAL 28000 before any password is asked for. Then
//! the SCRAM exchange runs against the role's stored verifier ([`Logins`]); the server never
//! holds a password, nor anything a client could log in with. A role that does not exist, may
//! not log in, has no password or whose password has expired goes through the same exchange
//! against a random verifier and fails the same way a wrong password does (28P01), so logins
//! do not reveal which roles exist; the real reason goes to the server's log, as PostgreSQL
//! writes it there. A database that does not exist or takes no connections is FATAL 3D000 or
//! 55000.

use std::fmt::Debug;
use std::sync::Arc;

use async_trait::async_trait;
use futures::Sink;
use parking_lot::RwLock;
use pgwire::api::auth::sasl::scram::ScramSecret;
use pgwire::api::auth::{AuthSource, LoginInfo, Password, StartupHandler};
use pgwire::api::ClientInfo;
use pgwire::error::{ErrorInfo, PgWireError, PgWireResult};
use pgwire::messages::{PgWireBackendMessage, PgWireFrontendMessage};
use rand::{Rng, RngCore};
use zizhu_sql::{Database, RedbEngine};

use crate::hba::Rules;

/// A random password of 24 letters and digits (about 142 bits).
pub fn generate_password() -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";
    let mut rng = rand::rng();
    (0..24)
        .map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char)
        .collect()
}

fn fatal(code: &str, message: String) -> PgWireError {
    PgWireError::UserError(Box::new(ErrorInfo::new(
        "FATAL".into(),
        code.into(),
        message,
    )))
}

/// The SCRAM credentials of the roles in the catalog.
pub struct Logins {
    db: Arc<Database<RedbEngine>>,
    /// Keys the salts of the decoy verifiers (see [`mock_secret`]).
    mock: [u8; 32],
}

/// The file in the data directory holding the secret that decoy salts are derived from.
const MOCK: &str = "scram.mock";

/// The data directory's secret for decoy salts, created on first use. A role that does not
/// exist must get the same salt on every attempt, as a real one does, or asking twice would
/// tell them apart (PostgreSQL keeps its `mock_authentication_nonce` for this); the secret is
/// sealed under the data key in an encrypted directory.
pub fn mock_secret(dir: &zizhu_datadir::DataDir) -> Result<[u8; 32], zizhu_datadir::Error> {
    if let Some(bytes) = dir.read_file(MOCK)? {
        if let Ok(secret) = <[u8; 32]>::try_from(bytes.as_slice()) {
            return Ok(secret);
        }
    }
    let mut secret = [0u8; 32];
    rand::rng().fill_bytes(&mut secret);
    dir.write_file(MOCK, &secret)?;
    Ok(secret)
}

impl Debug for Logins {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Logins")
    }
}

impl Logins {
    /// Logins against `db`'s roles, with decoy salts keyed by `mock`.
    pub fn new(db: Arc<Database<RedbEngine>>, mock: [u8; 32]) -> Self {
        Self { db, mock }
    }
}

/// A verifier no password matches, with the salt `user` always gets under `mock`: the
/// exchange fails like a wrong password.
fn decoy(mock: &[u8; 32], user: &str) -> ScramSecret {
    let salt = zizhu_crypto::sm3::hmac(mock, user.as_bytes())[..16].to_vec();
    let mut key = vec![0u8; 32];
    rand::rng().fill_bytes(&mut key);
    ScramSecret::Verifier {
        salt,
        iterations: zizhu_crypto::scram::ITERATIONS as usize,
        stored_key: key.clone(),
        server_key: key,
    }
}

#[async_trait]
impl AuthSource for Logins {
    async fn get_password(&self, _login: &LoginInfo) -> PgWireResult<Password> {
        // Only SCRAM is offered, and it asks for the verifier (below).
        Err(PgWireError::UnsupportedSASLAuthMethod("password".into()))
    }

    async fn get_scram_secret(&self, login: &LoginInfo) -> PgWireResult<(ScramSecret, Option<()>)> {
        let user = login.user().unwrap_or_default();
        let database = login.database().unwrap_or(user);
        match self.db.login(user, database) {
            Ok(Ok(v)) => Ok((
                ScramSecret::Verifier {
                    salt: v.salt,
                    iterations: v.iterations as usize,
                    stored_key: v.stored_key,
                    server_key: v.server_key,
                },
                None,
            )),
            Ok(Err(refused)) => {
                eprintln!(
                    "FATAL:  password authentication failed for user \"{user}\" from {}\n\
                     DETAIL:  {}",
                    login.host(),
                    refused.0
                );
                Ok((decoy(&self.mock, user), None))
            }
            Err(err) => Err(fatal(err.sqlstate(), err.to_string())),
        }
    }
}

/// The startup handler: the connection rules, then SCRAM.
pub struct Gate<H> {
    rules: Arc<RwLock<Rules>>,
    inner: H,
}

impl<H> Gate<H> {
    /// Applies `rules` before handing the startup to `inner`.
    pub fn new(rules: Arc<RwLock<Rules>>, inner: H) -> Self {
        Self { rules, inner }
    }
}

#[async_trait]
impl<H: StartupHandler> StartupHandler for Gate<H> {
    async fn on_startup<C>(
        &self,
        client: &mut C,
        message: PgWireFrontendMessage,
    ) -> PgWireResult<()>
    where
        C: ClientInfo + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        if let PgWireFrontendMessage::Startup(startup) = &message {
            let user = startup.parameters.get("user").map_or("", String::as_str);
            let database = startup
                .parameters
                .get("database")
                .map_or(user, String::as_str);
            let verdict = self.rules.read().check(
                client.socket_addr().ip(),
                client.is_secure(),
                user,
                database,
            );
            if let Err(refused) = verdict {
                eprintln!("FATAL:  {}", refused.0);
                return Err(fatal("28000", refused.0));
            }
        }
        match self.inner.on_startup(client, message).await {
            // pgwire names the user from the SCRAM message, which libpq leaves empty.
            Err(PgWireError::InvalidPassword(_)) => {
                let user = client.metadata().get("user").cloned().unwrap_or_default();
                Err(fatal(
                    "28P01",
                    format!("password authentication failed for user \"{user}\""),
                ))
            }
            other => other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn salt(secret: &ScramSecret) -> Vec<u8> {
        match secret {
            ScramSecret::Verifier { salt, .. } | ScramSecret::SaltedPassword { salt, .. } => {
                salt.clone()
            }
        }
    }

    #[test]
    fn a_missing_role_gets_the_same_salt_every_time() {
        let mock = [7u8; 32];
        assert_eq!(salt(&decoy(&mock, "ghost")), salt(&decoy(&mock, "ghost")));
        assert_ne!(salt(&decoy(&mock, "ghost")), salt(&decoy(&mock, "phantom")));
        assert_ne!(
            salt(&decoy(&mock, "ghost")),
            salt(&decoy(&[8u8; 32], "ghost"))
        );
        assert_eq!(salt(&decoy(&mock, "ghost")).len(), 16);
    }
}
