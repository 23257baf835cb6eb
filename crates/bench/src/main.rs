//! The SQL engine's benchmark: the same data and the same SQL on ZizhuDB and PostgreSQL, side
//! by side, reporting the time of each and their ratio.
//!
//! ZizhuDB runs embedded, on its on-disk engine in a scratch directory, through the same
//! session API the server will use; PostgreSQL is driven through `psql` over its Unix socket,
//! timed by psql's `\timing` (round trip included). So the figures for single fast queries
//! (point lookups) favour ZizhuDB by one local round trip each; the analytic ones return a
//! few rows and are dominated by execution. `bench/sql-engine.sh` starts a scratch PostgreSQL
//! and runs this; see `--help`.
//!
//! Peak memory of the low-`work_mem` sort is measured as the rise of the process's (or the
//! PostgreSQL backend's) peak resident set over its resident set before the query, after
//! resetting the peak through `/proc/PID/clear_refs`.

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::time::{Duration, Instant};

use rand::{Rng, SeedableRng};
use zizhu_sql::{Database, Session, StatementResult};

type Error = Box<dyn std::error::Error>;

const USAGE: &str = "\
usage: zizhu-sqlbench --pg CONNINFO [--rows N] [--join-rows N] [--quick] [--json FILE] [--only TEXT]
       zizhu-sqlbench --server CONNINFO [--analyze] [--rows N] [--join-rows N] [--quick] [--json FILE]

Loads the same tables into ZizhuDB (embedded, in a scratch directory) and into the PostgreSQL
server CONNINFO names (a psql connection string; the tables t, a and b are replaced), runs each
workload on both, and prints a Markdown table of the times and their ratio.

  --rows N        rows of the scanned and sorted table (default 1000000)
  --join-rows N   rows on each side of the join (default 100000)
  --quick         100000 / 10000 rows and fewer repetitions: a smoke run
  --json FILE     also write the results as JSON
  --only TEXT     run only the workloads whose name contains TEXT (for profiling)
  --no-encryption ZizhuDB without encryption at rest (the default is SM4-GCM, as in production)

With --server, one server (ZizhuDB or PostgreSQL, through psql like PostgreSQL above) is
loaded and measured alone, and the JSON lists its times; bench/compare.py runs it against each
system in turn. --analyze runs VACUUM ANALYZE after the load (for PostgreSQL).";

struct Options {
    pg: String,
    rows: u64,
    join_rows: u64,
    quick: bool,
    json: Option<String>,
    only: Option<String>,
    encrypted: bool,
    server: Option<String>,
    analyze: bool,
}

fn options() -> Result<Options, Error> {
    let mut args = std::env::args().skip(1);
    let mut o = Options {
        pg: String::new(),
        rows: 1_000_000,
        join_rows: 100_000,
        quick: false,
        json: None,
        only: None,
        encrypted: true,
        server: None,
        analyze: false,
    };
    while let Some(arg) = args.next() {
        let mut value = || args.next().ok_or(format!("{arg} needs a value\n{USAGE}"));
        match arg.as_str() {
            "--pg" => o.pg = value()?,
            "--rows" => o.rows = value()?.parse()?,
            "--join-rows" => o.join_rows = value()?.parse()?,
            "--json" => o.json = Some(value()?),
            "--only" => o.only = Some(value()?),
            "--no-encryption" => o.encrypted = false,
            "--server" => o.server = Some(value()?),
            "--analyze" => o.analyze = true,
            "--quick" => {
                o.quick = true;
                o.rows = 100_000;
                o.join_rows = 10_000;
            }
            "-h" | "--help" => {
                println!("{USAGE}");
                std::process::exit(0);
            }
            other => return Err(format!("unknown argument {other}\n{USAGE}").into()),
        }
    }
    if o.pg.is_empty() && o.server.is_none() {
        return Err(format!("--pg or --server is required\n{USAGE}").into());
    }
    Ok(o)
}

/// A system under test: runs SQL and says how long each statement took.
trait System {
    /// Runs statements in order, returning each one's time.
    fn run(&mut self, statements: &[String]) -> Result<Vec<Duration>, Error>;
    /// The process whose memory is measured.
    fn pid(&self) -> Option<u32>;
}

/// ZizhuDB, embedded.
struct Zizhu {
    session: Session<zizhu_sql::RedbEngine>,
}

impl System for Zizhu {
    fn run(&mut self, statements: &[String]) -> Result<Vec<Duration>, Error> {
        statements
            .iter()
            .map(|sql| {
                let started = Instant::now();
                let result = self.session.execute(sql)?;
                // Results are materialised by execute; touch them so nothing is skipped.
                std::hint::black_box(result.iter().map(rows).sum::<usize>());
                Ok(started.elapsed())
            })
            .collect()
    }

    fn pid(&self) -> Option<u32> {
        Some(std::process::id())
    }
}

fn rows(result: &StatementResult) -> usize {
    match result {
        StatementResult::Query { rows, .. } => rows.len(),
        _ => 0,
    }
}

/// PostgreSQL through a `psql` coprocess with `\timing` on.
struct Postgres {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
    backend: Option<u32>,
}

const DONE: &str = "@@zizhu-bench-done@@";

impl Postgres {
    /// psql on `conninfo`; with `backend`, the server is PostgreSQL and its backend process
    /// is found (for memory figures).
    fn connect(conninfo: &str, backend: bool) -> Result<Self, Error> {
        let mut child = Command::new("psql")
            .args(["-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", conninfo])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .map_err(|e| format!("cannot start psql: {e}"))?;
        let stdin = child.stdin.take().ok_or("psql has no stdin")?;
        let stdout = BufReader::new(child.stdout.take().ok_or("psql has no stdout")?);
        let mut pg = Postgres {
            child,
            stdin,
            stdout,
            backend: None,
        };
        if backend {
            let lines = pg.send("SELECT pg_backend_pid();")?;
            pg.backend = lines.first().and_then(|l| l.trim().parse().ok());
        }
        pg.send("\\timing on")?;
        Ok(pg)
    }

    /// Sends psql input and returns its output lines up to the end marker.
    fn send(&mut self, input: &str) -> Result<Vec<String>, Error> {
        writeln!(self.stdin, "{input}\n\\echo {DONE}")?;
        self.stdin.flush()?;
        let mut lines = Vec::new();
        loop {
            let mut line = String::new();
            if self.stdout.read_line(&mut line)? == 0 {
                let status = self.child.wait()?;
                return Err(format!("psql ended ({status}) during: {input:.200}").into());
            }
            let line = line.trim_end().to_string();
            if line == DONE {
                return Ok(lines);
            }
            lines.push(line);
        }
    }
}

impl System for Postgres {
    fn run(&mut self, statements: &[String]) -> Result<Vec<Duration>, Error> {
        // In chunks: psql's output must not fill its pipe while we still write its input.
        let mut lines = Vec::new();
        for chunk in statements.chunks(100) {
            let script: Vec<String> = chunk
                .iter()
                .map(|s| format!("{};", s.trim_end_matches(';')))
                .collect();
            lines.extend(self.send(&script.join("\n"))?);
        }
        let times: Vec<Duration> = lines
            .iter()
            .filter_map(|l| l.strip_prefix("Time: "))
            .filter_map(|t| t.split_whitespace().next()?.parse::<f64>().ok())
            .map(|ms| Duration::from_secs_f64(ms / 1e3))
            .collect();
        if times.len() != statements.len() {
            return Err(format!(
                "psql reported {} times for {} statements",
                times.len(),
                statements.len()
            )
            .into());
        }
        Ok(times)
    }

    fn pid(&self) -> Option<u32> {
        self.backend
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        let _ = writeln!(self.stdin, "\\q");
        let _ = self.child.wait();
    }
}

/// Resident and peak resident memory of a process, in KiB.
fn memory(pid: u32) -> Option<(u64, u64)> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let field = |name: &str| -> Option<u64> {
        status
            .lines()
            .find(|l| l.starts_with(name))?
            .split_whitespace()
            .nth(1)?
            .parse()
            .ok()
    };
    Some((field("VmRSS:")?, field("VmHWM:")?))
}

/// Resets a process's peak resident set to its current one (Linux `clear_refs` 5).
fn reset_peak(pid: u32) -> bool {
    std::fs::write(format!("/proc/{pid}/clear_refs"), "5").is_ok()
}

/// The statements that create and fill the tables, the same for both systems. Rows go in
/// batches so that no single transaction holds the whole table.
fn load(rows: u64, join_rows: u64) -> Vec<String> {
    let mut sql = vec![
        "DROP TABLE IF EXISTS t".to_string(),
        "DROP TABLE IF EXISTS a".to_string(),
        "DROP TABLE IF EXISTS b".to_string(),
        "CREATE TABLE t (id int PRIMARY KEY, k int NOT NULL, g int NOT NULL, v int NOT NULL, s text NOT NULL)".to_string(),
        "CREATE TABLE a (k int NOT NULL, v int NOT NULL)".to_string(),
        "CREATE TABLE b (k int NOT NULL, w int NOT NULL)".to_string(),
    ];
    let batch = 100_000;
    let mut start = 0;
    while start < rows {
        let end = (start + batch).min(rows) - 1;
        // k is a permutation of 0..rows (7919 is prime to 2 and 5), so an index range on it
        // reads rows scattered over the table.
        sql.push(format!(
            "INSERT INTO t SELECT i, (i::bigint * 7919) % {rows}, i % 100, (i::bigint * 31) % 100003, 'row ' || i \
             FROM generate_series({start}, {end}) AS i"
        ));
        start = end + 1;
    }
    sql.push("CREATE INDEX t_k ON t (k)".to_string());
    sql.push(format!(
        "INSERT INTO a SELECT i, i % 1000 FROM generate_series(0, {}) AS i",
        join_rows - 1
    ));
    sql.push(format!(
        "INSERT INTO b SELECT (i::bigint * 17) % {join_rows}, i % 777 FROM generate_series(0, {}) AS i",
        join_rows - 1
    ));
    sql
}

/// A workload: statements run on each system, and how its time is reported.
struct Workload {
    name: &'static str,
    /// Settings made before the timed statements (untimed) and reset after, on both systems.
    setup: Vec<String>,
    statements: Vec<String>,
    /// Measure peak memory around it.
    memory: bool,
}

fn workloads(o: &Options) -> Vec<Workload> {
    let mut rng = rand::rngs::StdRng::seed_from_u64(42);
    let (lookups, ranges, reps) = if o.quick {
        (500, 20, 2)
    } else {
        (10_000, 200, 5)
    };
    let n = o.rows;
    let repeat = |sql: String, times: usize| vec![sql; times];
    vec![
        Workload {
            name: "point lookup by primary key",
            setup: vec![],
            statements: (0..lookups)
                .map(|_| format!("SELECT s FROM t WHERE id = {}", rng.random_range(0..n)))
                .collect(),
            memory: false,
        },
        Workload {
            name: "index range scan (1,000 rows)",
            setup: vec![],
            statements: (0..ranges)
                .map(|_| {
                    let x = rng.random_range(0..n.saturating_sub(1000).max(1));
                    format!(
                        "SELECT count(*), sum(v) FROM t WHERE k BETWEEN {x} AND {}",
                        x + 999
                    )
                })
                .collect(),
            memory: false,
        },
        Workload {
            name: "full scan, filter, group and aggregate",
            setup: vec![],
            statements: repeat(
                "SELECT g, count(*), sum(v) FROM t WHERE v % 7 = 3 GROUP BY g".into(),
                reps,
            ),
            memory: false,
        },
        Workload {
            name: "hash join",
            setup: vec![],
            statements: repeat(
                "SELECT count(*), sum(a.v + b.w) FROM a JOIN b ON a.k = b.k".into(),
                reps,
            ),
            memory: false,
        },
        Workload {
            name: "sort (in memory)",
            setup: vec!["SET work_mem = '1GB'".into()],
            statements: repeat(
                format!("SELECT v, id FROM t ORDER BY v, id OFFSET {}", n - 1),
                reps.min(3),
            ),
            memory: true,
        },
        Workload {
            name: "sort, work_mem 1MB",
            setup: vec!["SET work_mem = '1MB'".into()],
            statements: repeat(
                format!("SELECT v, id FROM t ORDER BY v, id OFFSET {}", n - 1),
                reps.min(3),
            ),
            memory: true,
        },
    ]
}

/// One workload's result on one system.
#[derive(Clone, Copy)]
struct Figure {
    /// Median time of one statement.
    median: Duration,
    /// Peak memory rise during the statements, KiB, if measured.
    peak_kib: Option<u64>,
}

fn measure(system: &mut dyn System, w: &Workload) -> Result<Figure, Error> {
    if !w.setup.is_empty() {
        system.run(&w.setup)?;
    }
    let pid = system.pid().filter(|_| w.memory);
    let before = pid.filter(|&p| reset_peak(p)).and_then(memory);
    let mut times = system.run(&w.statements)?;
    let peak_kib = match (pid, before) {
        (Some(p), Some((rss, _))) => memory(p).map(|(_, hwm)| hwm.saturating_sub(rss)),
        _ => None,
    };
    if !w.setup.is_empty() {
        system.run(&["RESET work_mem".to_string()])?;
    }
    times.sort();
    Ok(Figure {
        median: times[times.len() / 2],
        peak_kib,
    })
}

fn show(d: Duration) -> String {
    let us = d.as_secs_f64() * 1e6;
    if us < 1000.0 {
        format!("{us:.1} µs")
    } else if us < 1e6 {
        format!("{:.2} ms", us / 1e3)
    } else {
        format!("{:.2} s", us / 1e6)
    }
}

/// `--server`: one server through psql, alone.
fn run_server(o: &Options, conninfo: &str) -> Result<(), Error> {
    let mut server = Postgres::connect(conninfo, false)?;
    let load_sql = load(o.rows, o.join_rows);
    let loaded: Duration = server.run(&load_sql)?.into_iter().sum();
    if o.analyze {
        server.run(&["VACUUM ANALYZE".to_string()])?;
    }
    let mut json = vec![format!(
        "{{\"workload\": \"load (INSERT ... SELECT, CREATE INDEX)\", \"statements\": {}, \"server_ms\": {}}}",
        load_sql.len(),
        loaded.as_secs_f64() * 1e3
    )];
    for w in workloads(o) {
        if o.only
            .as_ref()
            .is_some_and(|only| !w.name.contains(only.as_str()))
        {
            continue;
        }
        let first = measure(&mut server, &w)?;
        let second = measure(&mut server, &w)?;
        let median = first.median.min(second.median);
        println!("{}: {}", w.name, show(median));
        json.push(format!(
            "{{\"workload\": \"{}\", \"statements\": {}, \"server_ms\": {}}}",
            w.name,
            w.statements.len(),
            median.as_secs_f64() * 1e3
        ));
    }
    if let Some(path) = &o.json {
        std::fs::write(path, format!("[\n  {}\n]\n", json.join(",\n  ")))?;
    }
    Ok(())
}

fn main() {
    if let Err(e) = run() {
        eprintln!("zizhu-sqlbench: {e}");
        std::process::exit(1);
    }
}

fn run() -> Result<(), Error> {
    let o = options()?;
    if let Some(conninfo) = &o.server {
        return run_server(&o, conninfo);
    }
    let dir = tempfile::tempdir()?;
    let options = if o.encrypted {
        zizhu_sql::OpenOptions::key_file(dir.path().join("master.key"))
    } else {
        zizhu_sql::OpenOptions::unencrypted()
    };
    let db = Database::open(&dir.path().join("data"), options)?;
    let mut zizhu = Zizhu {
        session: db.session(),
    };
    let mut pg = Postgres::connect(&o.pg, true)?;

    let load_sql = load(o.rows, o.join_rows);
    eprintln!(
        "loading {} + 2 x {} rows into ZizhuDB ...",
        o.rows, o.join_rows
    );
    let zizhu_load: Duration = zizhu.run(&load_sql)?.into_iter().sum();
    eprintln!("... {}; into PostgreSQL ...", show(zizhu_load));
    let pg_load: Duration = pg.run(&load_sql)?.into_iter().sum();
    // PostgreSQL at its best: statistics gathered and visibility map set, as autovacuum would.
    pg.run(&["VACUUM ANALYZE".to_string()])?;
    eprintln!("... {}", show(pg_load));

    let mut results = Vec::new();
    for w in workloads(&o) {
        if o.only
            .as_ref()
            .is_some_and(|only| !w.name.contains(only.as_str()))
        {
            continue;
        }
        eprintln!("{} ...", w.name);
        // Alternate, so that neither always runs on a warmer machine.
        let z1 = measure(&mut zizhu, &w)?;
        let p1 = measure(&mut pg, &w)?;
        let z2 = measure(&mut zizhu, &w)?;
        let p2 = measure(&mut pg, &w)?;
        let pick = |a: Figure, b: Figure| Figure {
            median: a.median.min(b.median),
            peak_kib: a.peak_kib.max(b.peak_kib),
        };
        results.push((w.name, w.statements.len(), pick(z1, z2), pick(p1, p2)));
    }

    let kib = |k: Option<u64>| {
        k.map_or("n/a".to_string(), |k| {
            format!("{:.1} MiB", k as f64 / 1024.0)
        })
    };
    println!(
        "\n{} rows (joins {} x {}); ZizhuDB embedded on its on-disk engine; PostgreSQL 15 through psql over a Unix socket.\n",
        o.rows, o.join_rows, o.join_rows
    );
    println!("| workload | statements | ZizhuDB | PostgreSQL | time ratio ZizhuDB / PostgreSQL | peak memory ZizhuDB | peak memory PostgreSQL |");
    println!("|---|---:|---:|---:|---:|---:|---:|");
    println!(
        "| load (INSERT ... SELECT, CREATE INDEX) | {} | {} | {} | {:.2} | | |",
        load_sql.len(),
        show(zizhu_load),
        show(pg_load),
        zizhu_load.as_secs_f64() / pg_load.as_secs_f64()
    );
    let mut json = Vec::new();
    for (name, count, z, p) in &results {
        let ratio = z.median.as_secs_f64() / p.median.as_secs_f64();
        println!(
            "| {name} | {count} | {} | {} | {ratio:.2} | {} | {} |",
            show(z.median),
            show(p.median),
            kib(z.peak_kib),
            kib(p.peak_kib)
        );
        json.push(format!(
            "{{\"workload\": \"{name}\", \"statements\": {count}, \"zizhu_seconds\": {}, \"postgres_seconds\": {}, \"ratio\": {ratio:.4}, \"zizhu_peak_kib\": {}, \"postgres_peak_kib\": {}}}",
            z.median.as_secs_f64(),
            p.median.as_secs_f64(),
            z.peak_kib.map_or("null".into(), |k| k.to_string()),
            p.peak_kib.map_or("null".into(), |k| k.to_string()),
        ));
    }
    println!("\nTimes are the median statement time (best of two alternating rounds); a ratio below 1 means ZizhuDB is faster.");
    if let Some(path) = &o.json {
        std::fs::write(path, format!("[\n  {}\n]\n", json.join(",\n  ")))?;
    }
    Ok(())
}
