//! Authentication: SCRAM-SHA-256 against the users file in the data directory.
//!
//! The file (`users`, mode 0600) holds one line per user: `scram-sha-256 NAME ITERATIONS
//! SALT SALTED_PASSWORD`, hex-encoded, so the password itself is never stored. The first start
//! creates it with the bootstrap superuser. Every login needs the password, over TCP or not;
//! an unknown user goes through the same exchange against a random verifier and fails the same
//! way a wrong password does (28P01), so logins do not reveal which users exist.
//!
//! Users and roles will move into the catalog (CREATE ROLE); until then this file is the only
//! place they live.

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use async_trait::async_trait;
use pgwire::api::auth::sasl::scram::gen_salted_password;
use pgwire::api::auth::{AuthSource, LoginInfo, Password};
use pgwire::error::{ErrorInfo, PgWireError, PgWireResult};
use rand::{Rng, RngCore};

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
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(text: &str) -> Option<Vec<u8>> {
    if text.len() % 2 != 0 {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}

fn users_file(dir: &Path) -> PathBuf {
    dir.join("users")
}

/// A random password of 24 letters and digits (about 142 bits).
pub fn generate_password() -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";
    let mut rng = rand::rng();
    (0..24)
        .map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char)
        .collect()
}

impl Users {
    /// Loads the users file of `dir`, creating it with `user` and `password` if it does not
    /// exist. Returns whether it was created.
    pub fn open_or_bootstrap(
        dir: &Path,
        user: &str,
        password: &str,
    ) -> std::io::Result<(Users, bool)> {
        let path = users_file(dir);
        if !path.exists() {
            let mut salt = vec![0u8; 16];
            rand::rng().fill_bytes(&mut salt);
            let salted = gen_salted_password(password, &salt, ITERATIONS);
            let line = format!(
                "scram-sha-256 {user} {ITERATIONS} {} {}\n",
                hex(&salt),
                hex(&salted)
            );
            let tmp = path.with_extension("tmp");
            let mut options = std::fs::OpenOptions::new();
            options.write(true).create(true).truncate(true);
            #[cfg(unix)]
            std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
            let mut file = options.open(&tmp)?;
            file.write_all(line.as_bytes())?;
            file.sync_all()?;
            std::fs::rename(&tmp, &path)?;
            return Ok((Self::load(&path)?, true));
        }
        Ok((Self::load(&path)?, false))
    }

    fn load(path: &Path) -> std::io::Result<Users> {
        let text = std::fs::read_to_string(path)?;
        let mut users = HashMap::new();
        for (n, line) in text.lines().enumerate() {
            let bad = || {
                std::io::Error::new(
                    std::io::ErrorKind::InvalidData,
                    format!("{}: line {} is not a user entry", path.display(), n + 1),
                )
            };
            let fields: Vec<&str> = line.split_whitespace().collect();
            let ["scram-sha-256", name, iterations, salt, salted] = fields.as_slice() else {
                return Err(bad());
            };
            let verifier = Verifier {
                iterations: iterations.parse().map_err(|_| bad())?,
                salt: unhex(salt).ok_or_else(bad)?,
                salted: unhex(salted).ok_or_else(bad)?,
            };
            users.insert((*name).to_string(), verifier);
        }
        Ok(Users { users })
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

    #[test]
    fn the_users_file_keeps_a_verifier_not_the_password() -> std::io::Result<()> {
        let dir = tempfile::tempdir()?;
        let (users, created) = Users::open_or_bootstrap(dir.path(), "zizhu", "s3cret-pass")?;
        assert!(created);
        let text = std::fs::read_to_string(users_file(dir.path()))?;
        assert!(!text.contains("s3cret-pass"));
        let v = &users.users["zizhu"];
        assert_eq!(
            v.salted,
            gen_salted_password("s3cret-pass", &v.salt, ITERATIONS)
        );
        // A second start keeps the first password.
        let (again, created) = Users::open_or_bootstrap(dir.path(), "zizhu", "other")?;
        assert!(!created);
        assert_eq!(again.users["zizhu"].salted, v.salted);
        Ok(())
    }

    #[test]
    fn generated_passwords_differ() {
        let (a, b) = (generate_password(), generate_password());
        assert_eq!(a.len(), 24);
        assert_ne!(a, b);
    }
}
