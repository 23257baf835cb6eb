//! A [`Connection`] to a PostgreSQL server (cargo feature `postgres`), used to validate the runner
//! against PostgreSQL's published results on the corpus.
//!
//! [`PostgresServer`] holds an administrative connection and gives each script a fresh database
//! ([`PostgresServer::with_fresh_database`]: `CREATE DATABASE`, run, `DROP DATABASE`). SQL runs
//! through the simple query protocol, so every value arrives as PostgreSQL's text output and the
//! runner formats it like any engine's.

use std::sync::atomic::{AtomicUsize, Ordering};

use postgres::{Client, Config, NoTls, SimpleQueryMessage};

use crate::runner::{Connection, Output};

/// A PostgreSQL server to run scripts on.
pub struct PostgresServer {
    config: Config,
    admin: Client,
}

/// Numbers the databases this process creates.
static NEXT_DATABASE: AtomicUsize = AtomicUsize::new(0);

/// `SQLSTATE: message` for a server error (the convention of [`Connection::run`]).
fn pg_error(e: &postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => format!("{}: {}", db.code().code(), db.message()),
        None => e.to_string(),
    }
}

impl PostgresServer {
    /// Connects to the server named by `url` (a libpq connection string, `key=value` or
    /// `postgresql://` form). Scripts' databases are created from the database it names
    /// (default `postgres`).
    pub fn connect(url: &str) -> Result<Self, String> {
        let mut config: Config = url
            .parse()
            .map_err(|e: postgres::Error| format!("bad connection string: {e}"))?;
        if config.get_dbname().is_none() {
            config.dbname("postgres");
        }
        let admin = config
            .connect(NoTls)
            .map_err(|e| format!("cannot connect to PostgreSQL: {}", pg_error(&e)))?;
        Ok(PostgresServer { config, admin })
    }

    /// Creates a fresh database, runs `f` on a connection to it, closes the connection and drops
    /// the database. `Err` if the database could not be created, connected to or dropped, or the
    /// connection was lost while `f` ran (the results would be meaningless).
    pub fn with_fresh_database<R>(
        &mut self,
        f: impl FnOnce(&mut PostgresConnection) -> R,
    ) -> Result<R, String> {
        let name = format!(
            "zizhu_slt_{}_{}",
            std::process::id(),
            NEXT_DATABASE.fetch_add(1, Ordering::Relaxed)
        );
        self.admin
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .map_err(|e| format!("CREATE DATABASE {name}: {}", pg_error(&e)))?;
        let result = (|| {
            let client = self
                .config
                .clone()
                .dbname(&name)
                .connect(NoTls)
                .map_err(|e| format!("cannot connect to {name}: {}", pg_error(&e)))?;
            let mut conn = PostgresConnection { client };
            let r = f(&mut conn);
            if conn.client.is_closed() {
                return Err("the connection to PostgreSQL was lost".to_string());
            }
            Ok(r)
        })();
        let dropped = self
            .admin
            .batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            .map_err(|e| format!("DROP DATABASE {name}: {}", pg_error(&e)));
        let r = result?;
        dropped?;
        Ok(r)
    }
}

/// A connection to one database.
pub struct PostgresConnection {
    client: Client,
}

impl Connection for PostgresConnection {
    fn run(&mut self, sql: &str) -> Result<Output, String> {
        let messages = self.client.simple_query(sql).map_err(|e| pg_error(&e))?;
        // The output of the last statement counts; a result set starts with its description.
        let mut last = Output::StatementComplete;
        let mut current: Option<Vec<Vec<Option<String>>>> = None;
        for m in messages {
            match m {
                SimpleQueryMessage::RowDescription(_) => current = Some(Vec::new()),
                SimpleQueryMessage::Row(row) => {
                    let values = (0..row.len()).map(|i| row.get(i).map(str::to_string));
                    current.get_or_insert_with(Vec::new).push(values.collect());
                }
                SimpleQueryMessage::CommandComplete(_) => {
                    last = match current.take() {
                        Some(rows) => Output::Rows { types: None, rows },
                        None => Output::StatementComplete,
                    };
                }
                // The enum is non-exhaustive.
                _ => {}
            }
        }
        Ok(last)
    }
}
