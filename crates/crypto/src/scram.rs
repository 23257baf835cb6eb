//! SCRAM-SHA-256 password verifiers (RFC 5802, RFC 7677), in PostgreSQL's stored form.
//!
//! A role's password is never stored, nor anything a client could log in with: only
//! `SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>` (base64 parts), exactly what
//! PostgreSQL keeps in `pg_authid.rolpassword`, so verifiers move between the two with
//! `pg_dumpall` and `ALTER ROLE ... PASSWORD 'SCRAM-SHA-256$...'`. The server proves a client
//! knows the password from `StoredKey` and signs its answer with `ServerKey`; neither lets
//! anyone log in without the password.
//!
//! SHA-256 here is the protocol's own hash (clients compute it), not a choice of this project;
//! everything this project chooses uses SM3.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use hmac::{KeyInit, Mac};
use rand::RngCore;
use sha2::{Digest, Sha256};

/// PBKDF2 rounds for new verifiers (PostgreSQL's `scram_iterations` default).
pub const ITERATIONS: u32 = 4096;

/// A SCRAM-SHA-256 verifier.
#[derive(Clone, PartialEq, Eq)]
pub struct Verifier {
    /// PBKDF2 rounds.
    pub iterations: u32,
    /// The salt (sent to clients in the clear during the exchange).
    pub salt: Vec<u8>,
    /// `H(HMAC(SaltedPassword, "Client Key"))`: checks the client's proof.
    pub stored_key: Vec<u8>,
    /// `HMAC(SaltedPassword, "Server Key")`: signs the server's answer.
    pub server_key: Vec<u8>,
}

impl std::fmt::Debug for Verifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Verifier")
            .field("iterations", &self.iterations)
            .finish_non_exhaustive()
    }
}

fn hmac(key: &[u8], data: &[u8]) -> Vec<u8> {
    let mut mac = match hmac::Hmac::<Sha256>::new_from_slice(key) {
        Ok(mac) => mac,
        Err(_) => unreachable!("HMAC takes keys of any length"),
    };
    mac.update(data);
    mac.finalize().into_bytes().to_vec()
}

impl Verifier {
    /// A verifier for `password` with a fresh random 16-byte salt.
    pub fn new(password: &str) -> Verifier {
        let mut salt = vec![0u8; 16];
        rand::rng().fill_bytes(&mut salt);
        Self::with_salt(password, salt, ITERATIONS)
    }

    /// The verifier for `password` with this salt and iteration count. The password is
    /// normalized with SASLprep first, as clients do; a password SASLprep refuses is used as
    /// it is (PostgreSQL's rule, which libpq follows too).
    pub fn with_salt(password: &str, salt: Vec<u8>, iterations: u32) -> Verifier {
        let normalized = stringprep::saslprep(password)
            .map(|p| p.into_owned())
            .unwrap_or_else(|_| password.to_string());
        let mut salted = [0u8; 32];
        pbkdf2::pbkdf2_hmac::<Sha256>(normalized.as_bytes(), &salt, iterations, &mut salted);
        let client_key = hmac(&salted, b"Client Key");
        Verifier {
            iterations,
            salt,
            stored_key: Sha256::digest(&client_key).to_vec(),
            server_key: hmac(&salted, b"Server Key"),
        }
    }

    /// Parses PostgreSQL's stored form; `None` if `text` is not one.
    pub fn parse(text: &str) -> Option<Verifier> {
        let rest = text.strip_prefix("SCRAM-SHA-256$")?;
        let (params, keys) = rest.split_once('$')?;
        let (iterations, salt) = params.split_once(':')?;
        let (stored, server) = keys.split_once(':')?;
        let verifier = Verifier {
            iterations: iterations.parse().ok().filter(|i| *i > 0)?,
            salt: STANDARD.decode(salt).ok()?,
            stored_key: STANDARD.decode(stored).ok()?,
            server_key: STANDARD.decode(server).ok()?,
        };
        (verifier.stored_key.len() == 32 && verifier.server_key.len() == 32).then_some(verifier)
    }

    /// Whether `password` is the one this verifier was made from.
    pub fn matches(&self, password: &str) -> bool {
        let other = Self::with_salt(password, self.salt.clone(), self.iterations);
        // Constant time is not needed for a verifier the caller already holds, but costs
        // nothing.
        other
            .stored_key
            .iter()
            .zip(&self.stored_key)
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0
    }
}

impl std::fmt::Display for Verifier {
    /// PostgreSQL's stored form.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "SCRAM-SHA-256${}:{}${}:{}",
            self.iterations,
            STANDARD.encode(&self.salt),
            STANDARD.encode(&self.stored_key),
            STANDARD.encode(&self.server_key)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A verifier PostgreSQL 15 stored for `SET password_encryption = 'scram-sha-256';
    /// CREATE ROLE r PASSWORD 'pencil'` (read back from pg_authid).
    const POSTGRES: &str = "SCRAM-SHA-256$4096:s0VuftqJYkTqt7SigPIQww==$\
        7aSc8MVmz61g72wjNsY8BlgLOTiXrMEskls1O5Zy74o=:\
        KuOWDj41uq4QMm6e894Bxk9sBkJz5jaQQ2GqiGRuEyE=";

    #[test]
    fn a_new_verifier_matches_its_password_only() {
        let v = Verifier::new("pencil");
        assert!(v.matches("pencil"));
        assert!(!v.matches("pencil "));
        assert_eq!(Verifier::parse(&v.to_string()), Some(v.clone()));
        assert_ne!(Verifier::new("pencil").salt, v.salt);
    }

    #[test]
    fn the_stored_form_round_trips_and_rejects_garbage() {
        for bad in [
            "",
            "md5abc",
            "SCRAM-SHA-256$4096:c2FsdA==$YQ==:YQ==",
            "SCRAM-SHA-256$0:c2FsdA==$4mAd3P+4Ocbzj0rfsm5sx4kVTwV3d6qj4Ik2hKqoTsE=:0wPgUh3dZxTOsnPZoYHZBcPLcYkP/q2L6N8gx5pS7fA=",
            "SCRAM-SHA-256$x:c2FsdA==$a:b",
        ] {
            assert_eq!(Verifier::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn it_agrees_with_a_verifier_postgresql_made() {
        let stored = Verifier::parse(POSTGRES).expect("PostgreSQL's form parses");
        assert_eq!(stored.to_string(), POSTGRES);
        let ours = Verifier::with_salt("pencil", stored.salt.clone(), stored.iterations);
        assert_eq!(ours, stored);
        assert!(stored.matches("pencil"));
    }
}
