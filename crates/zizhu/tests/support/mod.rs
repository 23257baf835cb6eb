//! The harness the system tests share: the real `zizhu` binary on a free port, and the
//! clients that drive it.
//!
//! A client a test needs but the machine lacks fails the test, with the package to install:
//! `.ci/run` installs them.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;

pub const PASSWORD: &str = "test-pass-1";

/// A running server on a scratch directory holding the data directory (`data`) and, apart
/// from it, the master key file (`master.key`); killed when dropped.
pub struct Server {
    pub child: Child,
    pub port: u16,
    /// What the server printed before it listened.
    pub startup: String,
    dir: Option<tempfile::TempDir>,
}

/// The `zizhu serve` command for the data directory in `dir` with `extra` arguments, and the
/// key file beside the data directory unless `extra` turns encryption off.
pub fn serve_command(dir: &Path, extra: &[&std::ffi::OsStr]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_zizhu"));
    cmd.args(["serve", "--data-dir"]).arg(dir.join("data"));
    if !extra.iter().any(|a| *a == "--no-encryption") {
        cmd.arg("--master-key-file").arg(dir.join("master.key"));
    }
    cmd.args(extra)
        .env("ZIZHU_PASSWORD", PASSWORD)
        .env_remove("ZIZHU_USER")
        .env_remove("ZIZHU_MASTER_KEY")
        .env_remove("ZIZHU_MASTER_PASSPHRASE")
        .env_remove("ZIZHU_MASTER_KEY_FILE");
    cmd
}

impl Server {
    pub fn start() -> Server {
        let dir = tempfile::tempdir().unwrap();
        Self::start_in(dir)
    }

    pub fn start_in(dir: tempfile::TempDir) -> Server {
        Self::start_with(dir, &[])
    }

    pub fn start_with(dir: tempfile::TempDir, extra: &[&std::ffi::OsStr]) -> Server {
        Self::try_start(dir, extra)
            .unwrap_or_else(|(_, stderr)| panic!("the server did not start listening:\n{stderr}"))
    }

    /// Starts the server, or returns the directory and what it printed if it exits (or
    /// does not listen within 30 s).
    pub fn try_start(
        dir: tempfile::TempDir,
        extra: &[&std::ffi::OsStr],
    ) -> Result<Server, (tempfile::TempDir, String)> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mut child = serve_command(dir.path(), extra)
            .args(["--listen", &format!("127.0.0.1:{port}")])
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stderr = child.stderr.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut seen = String::new();
            for line in BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                seen.push_str(&line);
                seen.push('\n');
                if line.contains("listening on") {
                    let _ = tx.send(Ok(seen.clone()));
                }
            }
            let _ = tx.send(Err(seen));
        });
        match rx.recv_timeout(Duration::from_secs(30)) {
            Ok(Ok(startup)) => Ok(Server {
                child,
                port,
                startup,
                dir: Some(dir),
            }),
            Ok(Err(stderr)) => {
                let _ = child.wait();
                Err((dir, stderr))
            }
            Err(_) => {
                let _ = child.kill();
                let _ = child.wait();
                Err((dir, "no \"listening on\" within 30 s".into()))
            }
        }
    }

    /// The data directory.
    pub fn data_dir(&self) -> PathBuf {
        self.root().join("data")
    }

    /// The master key file.
    pub fn key_file(&self) -> PathBuf {
        self.root().join("master.key")
    }

    fn root(&self) -> &Path {
        self.dir.as_ref().expect("the directory was taken").path()
    }

    /// Takes the scratch directory so that it outlives the server.
    pub fn take_dir(&mut self) -> tempfile::TempDir {
        self.dir.take().expect("the directory was taken")
    }

    pub fn conninfo(&self) -> String {
        format!(
            "host=127.0.0.1 port={} user=zizhu dbname=postgres password={PASSWORD}",
            self.port
        )
    }

    /// The single value `sql` returns, through psql.
    pub fn value(&self, sql: &str) -> String {
        let mut cmd = self.client("psql");
        cmd.args(["-X", "-A", "-t", "-c", sql]);
        let out = run(cmd, "", "postgresql-client");
        assert!(out.status.success(), "{sql}: {}", text(&out.stderr));
        text(&out.stdout).trim().to_string()
    }

    /// psql with `var` set fails to connect, saying `message`.
    pub fn refused(&self, var: (&str, &str), message: &str) {
        let mut cmd = self.client("psql");
        cmd.env(var.0, var.1).args(["-X", "-c", "SELECT 1"]);
        let out = run(cmd, "", "postgresql-client");
        assert!(!out.status.success(), "{var:?} connected");
        assert!(text(&out.stderr).contains(message), "{}", text(&out.stderr));
    }

    /// A client command with the server's address and password in its environment.
    pub fn client(&self, program: &str) -> Command {
        let mut cmd = Command::new(program);
        cmd.env("PGHOST", "127.0.0.1")
            .env("PGPORT", self.port.to_string())
            .env("PGUSER", "zizhu")
            .env("PGDATABASE", "postgres")
            .env("PGPASSWORD", PASSWORD)
            .env("PGCONNECT_TIMEOUT", "10");
        cmd
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn run(mut cmd: Command, stdin: &str, package: &str) -> Output {
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?} ({e}): install {package}"));
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

/// Runs `cmd`, which must fail saying `message` on its standard error.
pub fn assert_refused(cmd: &mut Command, message: &str) {
    let out = cmd.output().unwrap();
    let stderr = text(&out.stderr);
    assert!(!out.status.success(), "{cmd:?} succeeded: {stderr}");
    assert!(stderr.contains(message), "{cmd:?}: {stderr}");
}

pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Runs a Python script (with psycopg) and returns what it printed; it must succeed.
pub fn python(script: &str) -> String {
    let mut cmd = Command::new("python3");
    cmd.arg("-");
    let out = run(cmd, script, "python3-psycopg (or pip install psycopg)");
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", text(&out.stderr));
    stdout
}
