//! `zizhu-slt`: runs sqllogictest files and prints per-file pass counts.
//!
//! ```text
//! zizhu-slt [--engine postgres --url URL] [--jobs N] [--max-failures-shown N]
//!           [--baseline BASELINE.md] FILE_OR_DIR...
//! ```
//!
//! Directories are searched recursively for `*.test` and `*.slt` files, named relative to the
//! directory. `--engine zizhu` runs ZizhuDB's SQL engine embedded, each file on a fresh
//! in-memory database; `--engine postgres` runs PostgreSQL (`--url`, default `host=/tmp/pgslt
//! port=55433 user=postgres`; needs the `postgres` feature), which is how the runner and the
//! engine's own files are checked against PostgreSQL; `--engine parse` only parses the files
//! and counts the records that would run. The exit code
//! is 0 unless the run could not proceed (bad arguments, unreadable or unparsable file, lost
//! connection), or `--baseline` is given and some file passed fewer records than the baseline.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use zizhu_sqllogictest::baseline;
use zizhu_sqllogictest::parser::{self, RecordKind};
use zizhu_sqllogictest::{FileReport, Runner, RunnerConfig};

const USAGE: &str = "usage: zizhu-slt [--engine zizhu|postgres|parse] [--url URL] [--jobs N] \
[--max-failures-shown N] [--baseline PATH] FILE_OR_DIR...";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Engine {
    Parse,
    Postgres,
    /// ZizhuDB's SQL engine, embedded: each file on a fresh in-memory database.
    Zizhu,
}

struct Args {
    engine: Engine,
    url: String,
    jobs: usize,
    max_shown: usize,
    baseline: Option<PathBuf>,
    inputs: Vec<PathBuf>,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        engine: Engine::Zizhu,
        url: "host=/tmp/pgslt port=55433 user=postgres".to_string(),
        jobs: 1,
        max_shown: 3,
        baseline: None,
        inputs: Vec::new(),
    };
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        let mut value = |name: &str| it.next().ok_or_else(|| format!("{name} needs a value"));
        match a.as_str() {
            "--engine" => {
                args.engine = match value("--engine")?.as_str() {
                    "postgres" | "postgresql" => Engine::Postgres,
                    "parse" => Engine::Parse,
                    "zizhu" => Engine::Zizhu,
                    other => {
                        return Err(format!("unknown engine `{other}` (zizhu, postgres, parse)"))
                    }
                }
            }
            "--url" => args.url = value("--url")?,
            "--jobs" => {
                args.jobs = value("--jobs")?
                    .parse()
                    .ok()
                    .filter(|&n| n > 0)
                    .ok_or("--jobs needs a positive number")?
            }
            "--max-failures-shown" => {
                args.max_shown = value("--max-failures-shown")?
                    .parse()
                    .map_err(|_| "--max-failures-shown needs a number")?
            }
            "--baseline" => args.baseline = Some(value("--baseline")?.into()),
            "-h" | "--help" => return Err(USAGE.to_string()),
            s if s.starts_with("--") => return Err(format!("unknown option {s}\n{USAGE}")),
            _ => args.inputs.push(a.into()),
        }
    }
    if args.inputs.is_empty() {
        return Err(USAGE.to_string());
    }
    Ok(args)
}

/// The `.test` files under `input`, each with its display name.
fn collect(input: &Path, out: &mut Vec<(String, PathBuf)>) -> Result<(), String> {
    if input.is_dir() {
        let mut found = Vec::new();
        walk(input, &mut found)?;
        found.sort();
        for p in found {
            let name = p
                .strip_prefix(input)
                .unwrap_or(&p)
                .to_string_lossy()
                .replace('\\', "/");
            out.push((name, p));
        }
        Ok(())
    } else if input.is_file() {
        out.push((input.to_string_lossy().into_owned(), input.to_path_buf()));
        Ok(())
    } else {
        Err(format!("{}: no such file or directory", input.display()))
    }
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), String> {
    let entries = std::fs::read_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    for entry in entries {
        let p = entry.map_err(|e| format!("{}: {e}", dir.display()))?.path();
        if p.is_dir() {
            walk(&p, out)?;
        } else if p.extension().is_some_and(|e| e == "test" || e == "slt") {
            out.push(p);
        }
    }
    Ok(())
}

/// What happened to one file.
struct FileResult {
    report: FileReport,
    /// With `--engine parse`: the number of records that would run.
    parsed_records: Option<usize>,
    elapsed: Duration,
}

fn run_file(
    engine: Engine,
    server: &mut Option<Server>,
    runner: &Runner,
    path: &Path,
) -> Result<FileResult, String> {
    let start = Instant::now();
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let script = parser::parse(&text).map_err(|e| format!("{}: {e}", path.display()))?;
    let report = match engine {
        Engine::Parse => {
            // Count what would run: records before the first applicable halt.
            let mut r = FileReport::default();
            let names = RunnerConfig::default().engine_names;
            let mut records = 0;
            for rec in &script.records {
                let skipped = rec.conditions.iter().any(|c| c.skips(&names));
                match (&rec.kind, skipped) {
                    (RecordKind::Statement { .. } | RecordKind::Query { .. }, true) => {
                        r.skipped += 1
                    }
                    (RecordKind::Statement { .. } | RecordKind::Query { .. }, false) => {
                        records += 1
                    }
                    (RecordKind::Halt, false) => {
                        r.halted_at = Some(rec.line);
                        break;
                    }
                    _ => {}
                }
            }
            return Ok(FileResult {
                report: r,
                parsed_records: Some(records),
                elapsed: start.elapsed(),
            });
        }
        Engine::Postgres => run_postgres(server, runner, &script)?,
        Engine::Zizhu => run_zizhu(runner, &script)?,
    };
    Ok(FileResult {
        report,
        parsed_records: None,
        elapsed: start.elapsed(),
    })
}

#[cfg(feature = "zizhu")]
fn run_zizhu(runner: &Runner, script: &parser::Script) -> Result<FileReport, String> {
    let mut conn = zizhu_sqllogictest::embedded::Embedded::new();
    Ok(runner.run_script(script, &mut conn))
}

#[cfg(not(feature = "zizhu"))]
fn run_zizhu(_runner: &Runner, _script: &parser::Script) -> Result<FileReport, String> {
    Err("this zizhu-slt was built without ZizhuDB: build with `--features zizhu`".into())
}

#[cfg(feature = "postgres")]
type Server = zizhu_sqllogictest::postgres::PostgresServer;
#[cfg(not(feature = "postgres"))]
type Server = ();

#[cfg(feature = "postgres")]
fn connect(url: &str) -> Result<Server, String> {
    Server::connect(url)
}

#[cfg(not(feature = "postgres"))]
fn connect(_url: &str) -> Result<Server, String> {
    Err("this zizhu-slt was built without PostgreSQL: build with `--features postgres`".into())
}

#[cfg(feature = "postgres")]
fn run_postgres(
    server: &mut Option<Server>,
    runner: &Runner,
    script: &parser::Script,
) -> Result<FileReport, String> {
    let server = server.as_mut().ok_or("not connected")?;
    server.with_fresh_database(|conn| runner.run_script(script, conn))
}

#[cfg(not(feature = "postgres"))]
fn run_postgres(
    _server: &mut Option<Server>,
    _runner: &Runner,
    _script: &parser::Script,
) -> Result<FileReport, String> {
    connect("").map(|_| FileReport::default())
}

fn rate(passed: usize, failed: usize) -> String {
    if passed + failed == 0 {
        "-".to_string()
    } else {
        format!("{:.2}%", 100.0 * passed as f64 / (passed + failed) as f64)
    }
}

fn one_line(s: &str, max: usize) -> String {
    let joined = s.split_whitespace().collect::<Vec<_>>().join(" ");
    if joined.chars().count() > max {
        format!("{}...", joined.chars().take(max).collect::<String>())
    } else {
        joined
    }
}

fn show_lines(label: &str, lines: &[String]) {
    const MAX: usize = 6;
    if lines.is_empty() {
        println!("      {label}: (nothing)");
        return;
    }
    let shown: Vec<&str> = lines.iter().take(MAX).map(String::as_str).collect();
    let more = if lines.len() > MAX {
        format!(" ... ({} lines)", lines.len())
    } else {
        String::new()
    };
    println!("      {label}: {}{more}", shown.join(" | "));
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    let mut files = Vec::new();
    for input in &args.inputs {
        if let Err(e) = collect(input, &mut files) {
            eprintln!("zizhu-slt: {e}");
            return ExitCode::from(2);
        }
    }
    let baseline = match &args.baseline {
        None => None,
        Some(p) => match std::fs::read_to_string(p) {
            Ok(t) => Some(baseline::parse(&t)),
            Err(e) => {
                eprintln!("zizhu-slt: {}: {e}", p.display());
                return ExitCode::from(2);
            }
        },
    };
    let runner = Runner::new(RunnerConfig {
        max_failures_kept: args.max_shown,
        ..RunnerConfig::default()
    });
    let start = Instant::now();
    let next = AtomicUsize::new(0);
    let (tx, rx) = mpsc::channel::<(usize, Result<FileResult, String>)>();
    let mut results: Vec<Option<Result<FileResult, String>>> = Vec::new();
    results.resize_with(files.len(), || None);
    let mut broken = false;
    let (mut total_passed, mut total_failed) = (0usize, 0usize);
    let parse_only = args.engine == Engine::Parse;
    if parse_only {
        println!("file | records");
    } else {
        println!("file | passed | failed | pass rate | seconds");
    }
    std::thread::scope(|s| {
        for _ in 0..args.jobs.min(files.len().max(1)) {
            let tx = tx.clone();
            let (files, next, runner, args) = (&files, &next, &runner, &args);
            // Deeply nested statements (up to the parser's limit) recurse through binding and
            // execution; unoptimized builds need more than the default 2 MiB for that.
            let worker = std::thread::Builder::new().stack_size(64 << 20);
            let spawned = worker.spawn_scoped(s, move || {
                let mut server = None;
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some((_, path)) = files.get(i) else { break };
                    if args.engine == Engine::Postgres && server.is_none() {
                        match connect(&args.url) {
                            Ok(sv) => server = Some(sv),
                            Err(e) => {
                                // Nothing can run: report it for every remaining file.
                                let _ = tx.send((i, Err(e)));
                                continue;
                            }
                        }
                    }
                    let r = run_file(args.engine, &mut server, runner, path);
                    if r.is_err() {
                        // Reconnect for the next file.
                        server = None;
                    }
                    if tx.send((i, r)).is_err() {
                        break;
                    }
                }
            });
            if let Err(e) = spawned {
                eprintln!("zizhu-slt: cannot start a worker thread: {e}");
                std::process::exit(2);
            }
        }
        drop(tx);
        // Print in file order as results arrive.
        let mut printed = 0;
        for (i, r) in rx {
            results[i] = Some(r);
            while printed < files.len() {
                let Some(r) = &results[printed] else { break };
                let name = &files[printed].0;
                match r {
                    Ok(FileResult {
                        parsed_records: Some(n),
                        report,
                        ..
                    }) => {
                        total_passed += n;
                        println!(
                            "{name} | {n} records to run, {} skipped{}",
                            report.skipped,
                            report
                                .halted_at
                                .map(|l| format!(", halt at line {l}"))
                                .unwrap_or_default()
                        );
                    }
                    Ok(fr) => {
                        let rep = &fr.report;
                        total_passed += rep.passed;
                        total_failed += rep.failed;
                        println!(
                            "{name} | {} | {} | {} | {:.1}",
                            rep.passed,
                            rep.failed,
                            rate(rep.passed, rep.failed),
                            fr.elapsed.as_secs_f64()
                        );
                        for f in &rep.failures {
                            println!("    line {}: {}", f.line, one_line(&f.sql, 160));
                            show_lines("expected", &f.expected);
                            show_lines("actual  ", &f.actual);
                        }
                        if rep.failed > rep.failures.len() {
                            println!("    ... {} more failures", rep.failed - rep.failures.len());
                        }
                    }
                    Err(e) => {
                        broken = true;
                        println!("{name} | - | - | not run: {e}");
                    }
                }
                printed += 1;
            }
        }
    });
    if parse_only {
        println!("**all** | {total_passed} records to run");
    } else {
        println!(
            "**all** | {total_passed} | {total_failed} | {} | {:.1}",
            rate(total_passed, total_failed),
            start.elapsed().as_secs_f64()
        );
    }
    let mut short = false;
    if let Some(entries) = baseline {
        println!();
        println!("file | passed | baseline passed | failed | baseline failed | verdict");
        let mut verdicts: BTreeMap<&str, usize> = BTreeMap::new();
        for ((name, _), r) in files.iter().zip(&results) {
            let Some(Ok(fr)) = r else { continue };
            let rep = &fr.report;
            let (bp, bf, verdict) = match baseline::find(&entries, name) {
                None => ("-".to_string(), "-".to_string(), "no baseline"),
                Some(b) if fr.parsed_records.is_some() => {
                    // Parse only: the number of records must be the baseline's.
                    let v = if fr.parsed_records == Some(b.passed + b.failed) {
                        "same records"
                    } else {
                        short = true;
                        "RECORDS DIFFER"
                    };
                    (b.passed.to_string(), b.failed.to_string(), v)
                }
                Some(b) => {
                    let v = if rep.passed < b.passed {
                        short = true;
                        "SHORT"
                    } else if rep.passed == b.passed && rep.failed == b.failed {
                        "same"
                    } else {
                        "ok (differs)"
                    };
                    (b.passed.to_string(), b.failed.to_string(), v)
                }
            };
            *verdicts.entry(verdict).or_default() += 1;
            match fr.parsed_records {
                Some(n) => println!("{name} | {n} records | {bp} | - | {bf} | {verdict}"),
                None => println!(
                    "{name} | {} | {bp} | {} | {bf} | {verdict}",
                    rep.passed, rep.failed
                ),
            }
        }
        let summary: Vec<String> = verdicts.iter().map(|(v, n)| format!("{n} {v}")).collect();
        println!("baseline: {}", summary.join(", "));
    }
    if broken {
        ExitCode::from(2)
    } else if short {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}
