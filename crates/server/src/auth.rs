//! Authentication: SCRAM-SHA-256 against the users file in the data directory.
//!
//! The file (`users`) holds one line per user: `scram-sha-256 NAME ITERATIONS SALT
//! SALTED_PASSWORD`, hex-encoded, so the password itself is never stored; in an encrypted data
//! directory the whole file is sealed under the data key
//! ([`DataDir::write_file`](zizhu_datadir::DataDir::write_file)). The first start creates it
//! with the bootstrap superuser. Every login needs the password, over TCP or not;
//! an unknown user goes through the same exchange against a random verifier and fails the same
//! way a wrong password does (28P01), so logins do not reveal which users exist.
//!
//! Users and roles will move into the catalog (CREATE ROLE); until then this file is the only
//! place they live.

use std::collections::HashMap;

use async_trait::async_trait;
use pgwire::api::auth::sasl::scram::gen_salted_password;
use pgwire::api::auth::{AuthSource, LoginInfo, Password};
use pgwire::error::{ErrorInfo, PgWireError, PgWireResult};
use rand::{Rng, RngCore};
use zizhu_crypto::{hex, unhex};

/// PBKDF2 rounds for new verifiers (PostgreSQL's default).
pub const ITERATIONS: usize = 4096;

/// The only database until CREATE DATABASE exists.
pub const DATABASE: &str = "postgres";

#[derive(Clone, Debug)]
struct Verifier {
    iterations: usize,
    salt: Vec<u8>,
    salted: Vec<u8>,
}

/// The users who may log in.
#[derive(Debug)]
pub struct Users {
    users: HashMap<String, Verifier>,
    /// The names in file order: the bootstrap superuser first.
    names: Vec<String>,
}

/// The users file's name in the data directory.
const USERS: &str = "users";

/// A random password of 24 letters and digits (about 142 bits).
pub fn generate_password() -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";
    let mut rng = rand::rng();
    (0..24)
        .map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char)
        .collect()
}

impl Users {
    /// Loads the users file of the data directory, creating it with `user` and `password` if
    /// it does not exist. Returns whether it was created.
    pub fn open_or_bootstrap(
        dir: &zizhu_datadir::DataDir,
        user: &str,
        password: &str,
    ) -> Result<(Users, bool), zizhu_datadir::Error> {
        if let Some(bytes) = dir.read_file(USERS)? {
            return Ok((Self::parse(&bytes)?, false));
        }
        let mut salt = vec![0u8; 16];
        rand::rng().fill_bytes(&mut salt);
        let salted = gen_salted_password(password, &salt, ITERATIONS);
        let line = format!(
            "scram-sha-256 {user} {ITERATIONS} {} {}\n",
            hex(&salt),
            hex(&salted)
        );
        dir.write_file(USERS, line.as_bytes())?;
        Ok((Self::parse(line.as_bytes())?, true))
    }

    fn parse(bytes: &[u8]) -> Result<Users, zizhu_datadir::Error> {
        let bad = |n: usize| {
            zizhu_datadir::Error::Setup(format!(
                "the users file of the data directory: line {n} is not a user entry"
            ))
        };
        let text = std::str::from_utf8(bytes).map_err(|_| bad(1))?;
        let mut users = HashMap::new();
        let mut names = Vec::new();
        for (n, line) in text.lines().enumerate() {
            let fields: Vec<&str> = line.split_whitespace().collect();
            let ["scram-sha-256", name, iterations, salt, salted] = fields.as_slice() else {
                return Err(bad(n + 1));
            };
            let verifier = Verifier {
                iterations: iterations.parse().map_err(|_| bad(n + 1))?,
                salt: unhex(salt).ok_or_else(|| bad(n + 1))?,
                salted: unhex(salted).ok_or_else(|| bad(n + 1))?,
            };
            if users.insert((*name).to_string(), verifier).is_none() {
                names.push((*name).to_string());
            }
        }
        Ok(Users { users, names })
    }
}

impl Users {
    /// The users' names, the bootstrap superuser first (the roles of the system catalogs).
    pub fn names(&self) -> &[String] {
        &self.names
    }
}

#[async_trait]
impl AuthSource for Users {
    async fn get_password(&self, login: &LoginInfo) -> PgWireResult<Password> {
        let user = login.user().unwrap_or_default();
        let database = login.database().unwrap_or(user);
        if database != DATABASE {
            return Err(PgWireError::UserError(Box::new(ErrorInfo::new(
                "FATAL".into(),
                "3D000".into(),
                format!("database \"{database}\" does not exist"),
            ))));
        }
        let verifier = match self.users.get(user) {
            Some(v) if v.iterations == ITERATIONS => v.clone(),
            _ => {
                // A verifier no password matches: the exchange fails like a wrong password.
                let mut salt = vec![0u8; 16];
                let mut salted = vec![0u8; 32];
                rand::rng().fill_bytes(&mut salt);
                rand::rng().fill_bytes(&mut salted);
                Verifier {
                    iterations: ITERATIONS,
                    salt,
                    salted,
                }
            }
        };
        Ok(Password::new(Some(verifier.salt), verifier.salted))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn open(root: &std::path::Path, encrypted: bool) -> zizhu_datadir::DataDir {
        let encryption = if encrypted {
            zizhu_datadir::EncryptionChoice::On(Box::new(zizhu_crypto::master::KeyFile::new(
                root.join("master.key"),
            )))
        } else {
            zizhu_datadir::EncryptionChoice::Off
        };
        let options = zizhu_datadir::Options {
            encryption,
            cache_size_bytes: 1 << 20,
        };
        zizhu_datadir::DataDir::open(&root.join("data"), options)
            .expect("open")
            .0
    }

    #[test]
    fn the_users_file_keeps_a_verifier_not_the_password() -> Result<(), zizhu_datadir::Error> {
        let root = tempfile::tempdir().map_err(|e| zizhu_datadir::Error::Io(e.to_string()))?;
        let dir = open(root.path(), false);
        let (users, created) = Users::open_or_bootstrap(&dir, "zizhu", "s3cret-pass")?;
        assert!(created);
        let text = std::fs::read_to_string(root.path().join("data").join(USERS))
            .map_err(|e| zizhu_datadir::Error::Io(e.to_string()))?;
        assert!(text.contains("scram-sha-256 zizhu"));
        assert!(!text.contains("s3cret-pass"));
        let v = &users.users["zizhu"];
        assert_eq!(
            v.salted,
            gen_salted_password("s3cret-pass", &v.salt, ITERATIONS)
        );
        // A second start keeps the first password.
        let (again, created) = Users::open_or_bootstrap(&dir, "zizhu", "other")?;
        assert!(!created);
        assert_eq!(again.users["zizhu"].salted, v.salted);
        Ok(())
    }

    #[test]
    fn in_an_encrypted_directory_the_users_file_is_sealed() -> Result<(), zizhu_datadir::Error> {
        let root = tempfile::tempdir().map_err(|e| zizhu_datadir::Error::Io(e.to_string()))?;
        let dir = open(root.path(), true);
        let (users, created) = Users::open_or_bootstrap(&dir, "zizhu-admin", "pw-123456")?;
        assert!(created);
        let bytes = std::fs::read(root.path().join("data").join(USERS))
            .map_err(|e| zizhu_datadir::Error::Io(e.to_string()))?;
        assert!(!bytes.windows(11).any(|w| w == b"zizhu-admin"));
        let (again, created) = Users::open_or_bootstrap(&dir, "zizhu-admin", "other")?;
        assert!(!created);
        assert_eq!(
            again.users["zizhu-admin"].salted,
            users.users["zizhu-admin"].salted
        );
        Ok(())
    }

    #[test]
    fn generated_passwords_differ() {
        let (a, b) = (generate_password(), generate_password());
        assert_eq!(a.len(), 24);
        assert_ne!(a, b);
    }
}
