//! System tests of encryption at rest: the real `zizhu` binary, real files, real signals.
//!
//! - A table whose name, rows and index keys carry a marker leaves the marker nowhere under
//!   the data directory: after a clean stop, after a SIGKILL in the middle of writes, and after
//!   a data key rotation. The same search finds the marker in a directory initialized with
//!   `--no-encryption`, so it is a search that can fail.
//! - A wrong or missing master key stops the server at start with a clear message, and leaves
//!   every file as it was.
//! - Bytes flipped in the data file give an error (XX001), never rows.
//! - A SIGKILL during a data key rotation: the restarted server resumes the rotation and
//!   finishes it, and the data is intact.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use support::{assert_refused, run, serve_command, text, Server};

/// Lower case, as unquoted identifiers become.
const MARKER: &str = "zzmarker7c41e9";

/// Every file under `dir`, recursively, that contains `needle`.
fn files_containing(dir: &Path, needle: &[u8]) -> Vec<PathBuf> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            found.extend(files_containing(&path, needle));
        } else if std::fs::read(&path)
            .map(|b| b.windows(needle.len()).any(|w| w == needle))
            .unwrap_or(false)
        {
            found.push(path);
        }
    }
    found
}

/// Runs SQL through psql; it must succeed.
fn psql(server: &Server, sql: &str) -> String {
    let mut cmd = server.client("psql");
    cmd.args(["-X", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-c", sql]);
    let out = run(cmd, "", "postgresql-client");
    assert!(out.status.success(), "{sql}: {}", text(&out.stderr));
    text(&out.stdout).trim().to_string()
}

/// A table named after the marker, with the marker in its rows and in an index's keys.
fn create_marked_table(server: &Server, rows: u32) {
    psql(
        server,
        &format!(
            "CREATE TABLE {MARKER}_t (id int PRIMARY KEY, {MARKER}_note text, pad text);
             CREATE INDEX {MARKER}_idx ON {MARKER}_t ({MARKER}_note);
             INSERT INTO {MARKER}_t
               SELECT g, '{MARKER}-' || g, repeat('p', 200) FROM generate_series(1, {rows}) g"
        ),
    );
}

fn sigterm(server: &mut Server) {
    let pid = server.child.id().to_string();
    assert!(std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap()
        .success());
    let status = server.child.wait().unwrap();
    assert!(status.success(), "{status}");
}

fn sigkill(server: &mut Server) {
    server.child.kill().unwrap();
    server.child.wait().unwrap();
}

fn wait_for_rotation(server: &Server) {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let state = psql(server, "SELECT rotation_state FROM zizhu_stat_encryption");
        match state.as_str() {
            "finished" => return,
            "running" => {}
            other => panic!("rotation state {other}"),
        }
        assert!(Instant::now() < deadline, "the rotation did not finish");
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn the_marker_is_nowhere_on_disk_after_a_stop_a_sigkill_and_a_rotation() {
    let mut server = Server::start();
    create_marked_table(&server, 2000);
    let data = server.data_dir();
    sigterm(&mut server);
    assert_eq!(
        files_containing(&data, MARKER.as_bytes()),
        Vec::<PathBuf>::new()
    );

    // SIGKILL while a client is writing rows that carry the marker.
    let mut server = Server::start_in(server.take_dir());
    let mut writer = server.client("psql");
    let script: String = (0..3000)
        .map(|i| {
            format!(
                "INSERT INTO {MARKER}_t VALUES ({}, '{MARKER}-w{i}', 'x');\n",
                10_000 + i
            )
        })
        .collect();
    writer
        .args(["-X", "-q"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null());
    let mut writer = writer.spawn().unwrap();
    let mut input = writer.stdin.take().unwrap();
    let feeder = std::thread::spawn(move || {
        use std::io::Write;
        let _ = input.write_all(script.as_bytes());
    });
    let deadline = Instant::now() + Duration::from_secs(60);
    while psql(
        &server,
        &format!("SELECT count(*) FROM {MARKER}_t WHERE id >= 10000"),
    )
    .parse::<u32>()
    .unwrap()
        < 300
    {
        assert!(Instant::now() < deadline, "the writer made no progress");
        std::thread::sleep(Duration::from_millis(20));
    }
    sigkill(&mut server);
    let _ = writer.wait();
    let _ = feeder.join();
    assert_eq!(
        files_containing(&data, MARKER.as_bytes()),
        Vec::<PathBuf>::new()
    );

    // A rotation after the restart; afterwards the old key is gone and so is the marker.
    let mut server = Server::start_in(server.take_dir());
    let written: u32 = psql(
        &server,
        &format!("SELECT count(*) FROM {MARKER}_t WHERE id >= 10000"),
    )
    .parse()
    .unwrap();
    assert!(written >= 300, "acknowledged rows were lost: {written}");
    assert_eq!(psql(&server, "SELECT zizhu_rotate_data_key(256)"), "2");
    wait_for_rotation(&server);
    assert_eq!(
        psql(&server, "SELECT string_agg(key_id || ' ' || state, ', ' ORDER BY key_id) FROM zizhu_encryption_keys"),
        "1 destroyed, 2 active"
    );
    sigterm(&mut server);
    assert_eq!(
        files_containing(&data, MARKER.as_bytes()),
        Vec::<PathBuf>::new()
    );
    let server = Server::start_in(server.take_dir());
    assert_eq!(
        psql(
            &server,
            &format!("SELECT count(*) FROM {MARKER}_t WHERE id < 10000")
        ),
        "2000"
    );
}

#[test]
fn without_encryption_the_same_search_finds_the_marker() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = Server::start_with(dir, &[OsStr::new("--no-encryption")]);
    assert_eq!(
        psql(
            &server,
            "SELECT encrypted, cipher FROM zizhu_stat_encryption"
        ),
        "f|none"
    );
    create_marked_table(&server, 100);
    let data = server.data_dir();
    sigterm(&mut server);
    assert!(!files_containing(&data, MARKER.as_bytes()).is_empty());
    // The choice is recorded: a later start without the flag stays unencrypted, and says so.
    let mut dir = server.take_dir();
    let (server, stderr) = start_capturing(&mut dir, &[]);
    assert!(stderr.contains("encryption at rest is OFF"), "{stderr}");
    assert_eq!(
        psql(&server, "SELECT encrypted FROM zizhu_stat_encryption"),
        "f"
    );
}

/// Starts the server in `dir` and returns it with what it printed before listening.
fn start_capturing(dir: &mut tempfile::TempDir, extra: &[&OsStr]) -> (Server, String) {
    let taken = std::mem::replace(dir, tempfile::tempdir().unwrap());
    let server = Server::start_with(taken, extra);
    let stderr = server.startup.clone();
    (server, stderr)
}

/// Snapshot of every file under `dir`: path and contents.
fn snapshot(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files.extend(snapshot(&path));
        } else {
            files.push((path.clone(), std::fs::read(&path).unwrap()));
        }
    }
    files.sort();
    files
}

/// `zizhu serve` on the data directory of `root` with `args`; it must exit at once with an
/// error that says `message`.
fn refused_start(root: &Path, args: &[&OsStr], envs: &[(&str, &str)], message: &str) {
    let mut cmd = serve_command(root, args);
    cmd.args(["--listen", "127.0.0.1:0"]);
    for (k, v) in envs {
        cmd.env(k, v);
    }
    assert_refused(&mut cmd, message);
}

#[test]
fn a_wrong_or_missing_master_key_is_refused_and_changes_nothing() {
    let mut server = Server::start();
    create_marked_table(&server, 100);
    sigterm(&mut server);
    let dir = server.take_dir();
    let root = dir.path();
    let before = snapshot(&root.join("data"));

    let other = root.join("other.key");
    std::fs::write(
        &other,
        "zizhu-master-key v1 sm4\n00112233445566778899aabbccddeeff\n",
    )
    .unwrap();
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&other, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
    // serve_command names master.key; a later --master-key-file wins.
    refused_start(
        root,
        &[OsStr::new("--master-key-file"), other.as_os_str()],
        &[],
        "the master key does not open the key store",
    );
    let missing = root.join("missing.key");
    refused_start(
        root,
        &[OsStr::new("--master-key-file"), missing.as_os_str()],
        &[],
        "does not exist",
    );
    assert!(
        !missing.exists(),
        "a key file was created for an existing directory"
    );
    refused_start(root, &[OsStr::new("--no-encryption")], &[], "is encrypted");
    // A key from the environment is used when no key file is named.
    let data = root.join("data");
    assert_refused(
        std::process::Command::new(env!("CARGO_BIN_EXE_zizhu"))
            .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
            .arg(&data)
            .env("ZIZHU_MASTER_KEY", "ffeeddccbbaa99887766554433221100"),
        "the master key does not open the key store",
    );
    assert_eq!(
        snapshot(&data),
        before,
        "a refused start changed the data directory"
    );

    let server = Server::start_in(dir);
    assert_eq!(
        psql(&server, &format!("SELECT count(*) FROM {MARKER}_t")),
        "100"
    );
}

#[test]
fn a_key_file_inside_the_data_directory_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    assert_refused(
        std::process::Command::new(env!("CARGO_BIN_EXE_zizhu"))
            .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
            .arg(&data)
            .arg("--master-key-file")
            .arg(data.join("master.key")),
        "inside the data directory",
    );
    assert!(!data.exists());
}

#[test]
fn flipped_bytes_in_the_data_file_give_an_error_never_rows() {
    let mut server = Server::start();
    create_marked_table(&server, 2000);
    sigterm(&mut server);
    let dir = server.take_dir();
    let file = dir.path().join("data").join("data.redb");
    let mut bytes = std::fs::read(&file).unwrap();
    // One flipped byte in every page slot (the encrypted layout puts a 4,128-byte slot per
    // page after 8 KiB of headers).
    let mut at = 8192 + 1000;
    while at < bytes.len() {
        bytes[at] ^= 0x01;
        at += 4128;
    }
    std::fs::write(&file, &bytes).unwrap();
    match Server::try_start(dir, &[]) {
        Err((_, stderr)) => {
            assert!(stderr.contains("failed authentication"), "{stderr}");
        }
        Ok(server) => {
            let mut cmd = server.client("psql");
            cmd.args([
                "-X",
                "-A",
                "-t",
                "-v",
                "VERBOSITY=verbose",
                "-c",
                &format!("SELECT id, {MARKER}_note FROM {MARKER}_t WHERE id <= 5"),
            ]);
            let out = run(cmd, "", "postgresql-client");
            assert!(!out.status.success());
            assert_eq!(text(&out.stdout).trim(), "", "rows were returned");
            let stderr = text(&out.stderr);
            assert!(
                stderr.contains("XX001") && stderr.contains("failed authentication"),
                "{stderr}"
            );
        }
    }
}

#[test]
fn a_sigkill_during_a_rotation_resumes_and_finishes_it() {
    let mut server = Server::start();
    create_marked_table(&server, 20_000);
    // Slow enough to be caught in the middle.
    assert_eq!(psql(&server, "SELECT zizhu_rotate_data_key(2)"), "2");
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let done: i64 = psql(&server, "SELECT pages_done FROM zizhu_stat_encryption")
            .parse()
            .unwrap();
        if done >= 64 {
            break;
        }
        assert!(Instant::now() < deadline, "the rotation made no progress");
        std::thread::sleep(Duration::from_millis(50));
    }
    sigkill(&mut server);

    let server = Server::start_in(server.take_dir());
    // Resumed (it may already have finished: it resumes at the default rate).
    let resumed = psql(
        &server,
        "SELECT rotation_state, rotating_from_key, rotating_to_key FROM zizhu_stat_encryption",
    );
    assert!(
        resumed == "running|1|2" || resumed == "finished|1|2",
        "{resumed}"
    );
    wait_for_rotation(&server);
    assert_eq!(
        psql(
            &server,
            "SELECT state FROM zizhu_encryption_keys WHERE key_id = 1"
        ),
        "destroyed"
    );
    assert_eq!(
        psql(
            &server,
            &format!("SELECT count(*), sum(id) FROM {MARKER}_t")
        ),
        "20000|200010000"
    );
}
