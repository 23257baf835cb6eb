#!/usr/bin/env python3
"""ZizhuDB beside PostgreSQL 15 on this machine, in one run.

    bench/compare.py [--quick] [--rounds N] [--seconds T] [--out DIR] [--only TEXT]

Starts PostgreSQL 15 (initdb in a scratch directory; fsync and synchronous_commit on; its
defaults otherwise, but shared_buffers the size of ZizhuDB's page cache) and the zizhu server
twice: on a data directory with encryption on (the default) and on one initialized with
--no-encryption. Loads the same data into each, then runs every workload on each system in
turn, round after round (PostgreSQL, ZizhuDB, ZizhuDB without encryption, PostgreSQL, ...),
with only the system under test running. Reports the median of the rounds and the ratio
ZizhuDB / PostgreSQL (above 1 means ZizhuDB is better), with 95th-percentile latency, as a
Markdown table (DIR/results.md), a JSON file (DIR/results.json) and a PNG bar chart of the
ratios (DIR/ratios.png, if matplotlib is installed).

Workloads: pgbench TPC-B at scale 10 with 1, 8 and 32 clients (-M prepared); pgbench
select-only; sysbench oltp_point_select, oltp_read_only, oltp_read_write, oltp_update_index
and oltp_insert on 4 tables of 100,000 rows with 8 threads; a bulk load (COPY of 1,000,000
rows); the SQL engine benchmark's analytic queries over the wire.

--quick shrinks everything (scale 1, 4 x 10,000 rows, 100,000 rows to COPY, 3-second runs,
one round): a smoke check that every workload completes on every system, run by .ci/run.
It asserts completion, never a speed.
"""

import argparse
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "bench-pass-1"
CACHE = "256MB"  # ZizhuDB's page cache (zizhu serve's default)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run(cmd, env=None, check=True, cwd=None, timeout=None):
    out = subprocess.run(cmd, env=env, cwd=cwd, capture_output=True, text=True, timeout=timeout)
    if check and out.returncode != 0:
        raise RuntimeError(f"{' '.join(map(str, cmd))} failed ({out.returncode}):\n{out.stdout}\n{out.stderr}")
    return out


def pg_bin():
    if os.environ.get("PGBIN"):
        return Path(os.environ["PGBIN"])
    candidates = sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=lambda p: p.parent.name)
    for c in reversed(candidates):
        if (c / "initdb").exists():
            return c
    sys.exit("PostgreSQL server binaries not found (set PGBIN)")


class System:
    """A server under test: started and stopped around each workload."""

    name = ""
    user = ""

    def __init__(self, scratch):
        self.scratch = scratch
        self.port = free_port()

    def env(self):
        env = dict(os.environ)
        env.update(PGHOST="127.0.0.1", PGPORT=str(self.port), PGUSER=self.user,
                   PGDATABASE="postgres", PGPASSWORD=PASSWORD)
        return env

    def psql(self, sql):
        return run(["psql", "-X", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-c", sql], env=self.env()).stdout


class Postgres(System):
    name = "PostgreSQL 15"
    key = "postgresql"
    user = "postgres"

    def __init__(self, scratch):
        super().__init__(scratch)
        self.bin = pg_bin()
        self.data = scratch / "pg"
        self.as_user = []
        if os.geteuid() == 0:  # PostgreSQL refuses to run as root
            self.as_user = ["runuser", "-u", "postgres", "--"]
            shutil.chown(scratch, "postgres")
        pwfile = scratch / "pgpass"
        pwfile.write_text(PASSWORD + "\n")
        if self.as_user:
            shutil.chown(pwfile, "postgres")
        run(self.as_user + [str(self.bin / "initdb"), "-D", str(self.data), "-U", "postgres",
                            "-A", "scram-sha-256", f"--pwfile={pwfile}"])
        with open(self.data / "postgresql.conf", "a") as conf:
            conf.write(f"\nport = {self.port}\nlisten_addresses = '127.0.0.1'\n"
                       f"unix_socket_directories = '{scratch}'\nshared_buffers = {CACHE}\n"
                       "fsync = on\nsynchronous_commit = on\nmax_connections = 200\n")

    def start(self):
        run(self.as_user + [str(self.bin / "pg_ctl"), "-D", str(self.data), "-l",
                            str(self.scratch / "pg.log"), "-w", "start"])

    def stop(self):
        run(self.as_user + [str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop"],
            check=False)


class Zizhu(System):
    user = "zizhu"

    def __init__(self, scratch, encrypted):
        super().__init__(scratch)
        self.encrypted = encrypted
        self.key = "zizhu" if encrypted else "zizhu-plain"
        self.name = "ZizhuDB" if encrypted else "ZizhuDB, encryption off"
        self.data = scratch / self.key
        self.process = None

    def start(self):
        extra = (["--master-key-file", str(self.scratch / f"{self.key}.master-key")]
                 if self.encrypted else ["--no-encryption"])
        env = dict(os.environ, ZIZHU_PASSWORD=PASSWORD)
        env.pop("ZIZHU_USER", None)
        log = open(self.scratch / f"{self.key}.log", "a")
        self.process = subprocess.Popen(
            [str(ROOT / "target/release/zizhu"), "serve", "--data-dir", str(self.data),
             "--listen", f"127.0.0.1:{self.port}"] + extra,
            env=env, stderr=log, stdout=log)
        deadline = time.time() + 60
        while time.time() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"zizhu exited: {(self.scratch / f'{self.key}.log').read_text()}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("zizhu did not listen within 60 s")

    def stop(self):
        if self.process:
            self.process.send_signal(signal.SIGTERM)
            self.process.wait(timeout=120)
            self.process = None


def percentile(values, p):
    if not values:
        return None
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def pgbench(system, args, seconds, work):
    """Runs pgbench; returns (tps, p95 latency in ms). Per-transaction logs give the p95."""
    logdir = Path(tempfile.mkdtemp(dir=work))
    out = run(["pgbench", "-T", str(seconds), "-M", "prepared", "-l", "--log-prefix",
               str(logdir / "log")] + args, env=system.env())
    failed = re.search(r"number of failed transactions: (\d+)", out.stdout)
    if failed and int(failed.group(1)) != 0:
        raise RuntimeError(f"{system.name}: {failed.group(1)} failed transactions\n{out.stdout}")
    tps = float(re.search(r"tps = ([0-9.]+)", out.stdout).group(1))
    latencies = []
    for f in logdir.iterdir():
        for line in f.read_text().splitlines():
            fields = line.split()
            if len(fields) >= 3:
                latencies.append(int(fields[2]) / 1000.0)
    shutil.rmtree(logdir)
    return tps, percentile(latencies, 95)


def sysbench_args(system, o):
    return ["--db-driver=pgsql", "--pgsql-host=127.0.0.1", f"--pgsql-port={system.port}",
            f"--pgsql-user={system.user}", f"--pgsql-password={PASSWORD}", "--pgsql-db=postgres",
            f"--tables={o.sb_tables}", f"--table-size={o.sb_rows}"]


def sysbench(system, test, o):
    out = run(["sysbench", test, *sysbench_args(system, o), f"--threads={o.threads}",
               f"--time={o.seconds}", "--report-interval=0", "--percentile=95", "run"], env=system.env())
    tps = float(re.search(r"transactions:\s+\d+\s+\(([0-9.]+) per sec", out.stdout).group(1))
    p95 = float(re.search(r"95th percentile:\s+([0-9.]+)", out.stdout).group(1))
    if re.search(r"FATAL", out.stdout + out.stderr):
        raise RuntimeError(f"{system.name}: sysbench {test} reported a fatal error\n{out.stdout}{out.stderr}")
    return tps, p95


def bulk_load(system, csv_path):
    """COPY of the CSV file into a fresh table; returns (rows per second, None)."""
    system.psql("DROP TABLE IF EXISTS bulk")
    system.psql("CREATE TABLE bulk (id int PRIMARY KEY, k int NOT NULL, s text NOT NULL)")
    started = time.perf_counter()
    run(["psql", "-X", "-v", "ON_ERROR_STOP=1", "-c", f"\\copy bulk FROM '{csv_path}' WITH (FORMAT csv)"],
        env=system.env())
    elapsed = time.perf_counter() - started
    rows = int(system.psql("SELECT count(*) FROM bulk").strip())
    system.psql("DROP TABLE bulk")
    if rows <= 0:
        raise RuntimeError(f"{system.name}: COPY loaded no rows")
    return rows / elapsed, None


def analytic(system, o, work):
    """The SQL engine benchmark's workloads over the wire (zizhu-sqlbench --server)."""
    conninfo = f"host=127.0.0.1 port={system.port} user={system.user} dbname=postgres password={PASSWORD}"
    out = Path(tempfile.mkdtemp(dir=work)) / "sql.json"
    args = [str(ROOT / "target/release/zizhu-sqlbench"), "--server", conninfo, "--json", str(out)]
    if o.quick:
        args.append("--quick")
    if isinstance(system, Postgres):
        args.append("--analyze")  # statistics and visibility map, as autovacuum would
    run(args)
    return json.loads(out.read_text())


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--rounds", type=int)
    parser.add_argument("--seconds", type=int)
    parser.add_argument("--out", default=str(ROOT / "bench/results"))
    parser.add_argument("--only", help="run only the workloads whose name contains TEXT")
    o = parser.parse_args()
    o.rounds = o.rounds or (1 if o.quick else 3)
    o.seconds = o.seconds or (3 if o.quick else 30)
    o.scale = 1 if o.quick else 10
    o.sb_tables, o.sb_rows = (4, 10_000) if o.quick else (4, 100_000)
    o.copy_rows = 100_000 if o.quick else 1_000_000
    o.threads = 8
    out_dir = Path(o.out)
    out_dir.mkdir(parents=True, exist_ok=True)
    for tool in ["psql", "pgbench", "sysbench"]:
        if not shutil.which(tool):
            sys.exit(f"{tool} not found (postgresql-client, sysbench)")

    print("building the release binaries ...", file=sys.stderr)
    run(["cargo", "build", "-q", "--release", "-p", "zizhu", "-p", "zizhu-bench"], cwd=ROOT)

    scratch = Path(tempfile.mkdtemp(prefix="zizhu-compare-"))
    os.chmod(scratch, 0o755)
    work = scratch / "work"
    work.mkdir()
    systems = [Postgres(scratch), Zizhu(scratch, True), Zizhu(scratch, False)]
    csv_path = scratch / "bulk.csv"
    with open(csv_path, "w") as f:
        for i in range(o.copy_rows):
            f.write(f"{i},{(i * 7919) % o.copy_rows},row {i} of the bulk load\n")
    os.chmod(csv_path, 0o644)

    workloads = []
    for clients in [1, 8, 32]:
        workloads.append((f"pgbench TPC-B, {clients} client{'s' if clients > 1 else ''}", "tps", True,
                          lambda s, c=clients: pgbench(s, ["-c", str(c), "-j", str(min(c, 2))], o.seconds, work)))
    workloads.append(("pgbench select-only, 8 clients", "tps", True,
                      lambda s: pgbench(s, ["-S", "-c", "8", "-j", "2"], o.seconds, work)))
    for test in ["oltp_point_select", "oltp_read_only", "oltp_read_write", "oltp_update_index", "oltp_insert"]:
        workloads.append((f"sysbench {test}, 8 threads", "tps", True, lambda s, t=test: sysbench(s, t, o)))
    workloads.append((f"COPY of {o.copy_rows:,} rows", "rows/s", True, lambda s: bulk_load(s, csv_path)))
    if o.only:
        workloads = [w for w in workloads if o.only in w[0]]

    results = {}  # workload -> system key -> list of (value, p95)
    try:
        for system in systems:
            print(f"loading {system.name} ...", file=sys.stderr)
            system.start()
            try:
                run(["pgbench", "-i", "-q", "-s", str(o.scale)], env=system.env())
                run(["sysbench", "oltp_common", *sysbench_args(system, o), f"--threads={o.threads}",
                     "prepare"], env=system.env())
            finally:
                system.stop()
        for r in range(o.rounds):
            for name, unit, higher, fn in workloads:
                for system in systems:
                    system.start()
                    try:
                        value, p95 = fn(system)
                    finally:
                        system.stop()
                    results.setdefault(name, {}).setdefault(system.key, []).append((value, p95))
                    print(f"round {r + 1}: {name}: {system.name}: {value:,.1f} {unit}"
                          + (f", p95 {p95:.2f} ms" if p95 is not None else ""), file=sys.stderr)
        analytic_results = {}
        if not o.only or "analytic" in o.only:
            for system in systems:
                system.start()
                try:
                    analytic_results[system.key] = analytic(system, o, work)
                finally:
                    system.stop()
    finally:
        for system in systems:
            system.stop()

    report(o, systems, workloads, results, analytic_results, out_dir)
    shutil.rmtree(scratch, ignore_errors=True)


def machine():
    cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
    return f"{os.cpu_count()} cores ({cpu}), {round(os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') / 2**30)} GiB"


def report(o, systems, workloads, results, analytic_results, out_dir):
    pg, zz, plain = (s.key for s in systems)
    rows, data = [], {"machine": machine(), "date": time.strftime("%Y-%m-%d"),
                      "quick": o.quick, "rounds": o.rounds, "seconds": o.seconds, "workloads": []}
    for name, unit, higher, _ in workloads:
        if name not in results:
            continue
        med = {k: statistics.median(v for v, _ in results[name][k]) for k in results[name]}
        p95 = {k: statistics.median(p for _, p in results[name][k] if p is not None)
               if any(p is not None for _, p in results[name][k]) else None for k in results[name]}
        ratio = {k: (med[k] / med[pg] if higher else med[pg] / med[k]) for k in (zz, plain)}
        data["workloads"].append({"name": name, "unit": unit, "median": med, "p95_ms": p95,
                                  "ratio_to_postgresql": ratio, "rounds": results[name]})
        rows.append((name, unit, med, p95, ratio))
    for key, runs in analytic_results.items():
        for w in runs:
            data.setdefault("analytic", {}).setdefault(w["workload"], {})[key] = w["server_ms"]
    for name, per in data.get("analytic", {}).items():
        if pg in per and zz in per:
            med = dict(per)
            name = f"SQL: {name}"
            ratio = {k: (med[pg] / med[k]) for k in (zz, plain) if k in med and med[k]}
            rows.append((name, "ms", med, {k: None for k in med}, ratio))
            data["workloads"].append({"name": name, "unit": "ms", "median": med, "ratio_to_postgresql": ratio})

    def fmt(v):
        return "" if v is None else f"{v:,.1f}" if v < 1000 else f"{v:,.0f}"

    lines = [f"Machine: {data['machine']}; {data['date']}; {o.rounds} round(s) of {o.seconds} s, medians"
             + ("; QUICK MODE (a smoke check, not a measurement)" if o.quick else ""), "",
             "| workload | unit | PostgreSQL 15 | ZizhuDB | ratio | p95 ms PG | p95 ms ZizhuDB "
             "| ZizhuDB, encryption off | ratio |", "|---|---|---:|---:|---:|---:|---:|---:|---:|"]
    for name, unit, med, p95, ratio in rows:
        lines.append(f"| {name} | {unit} | {fmt(med.get(pg))} | {fmt(med.get(zz))} | {ratio.get(zz, 0):.2f} "
                     f"| {fmt(p95.get(pg))} | {fmt(p95.get(zz))} | {fmt(med.get(plain))} | {ratio.get(plain, 0):.2f} |")
    lines += ["", "Ratio: ZizhuDB / PostgreSQL for throughput, PostgreSQL / ZizhuDB for times; above 1 is better."]
    text = "\n".join(lines) + "\n"
    (out_dir / "results.md").write_text(text)
    (out_dir / "results.json").write_text(json.dumps(data, indent=2) + "\n")
    print(text)
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        names = [r[0] for r in rows]
        fig, ax = plt.subplots(figsize=(10, 0.45 * len(names) + 1.5))
        y = range(len(names))
        ax.barh([i + 0.2 for i in y], [r[4].get(zz, 0) for r in rows], 0.4, label="ZizhuDB (SM4 encryption on)")
        ax.barh([i - 0.2 for i in y], [r[4].get(plain, 0) for r in rows], 0.4, label="ZizhuDB, encryption off")
        ax.axvline(1.0, color="black", linewidth=1)
        ax.set_yticks(list(y))
        ax.set_yticklabels(names)
        ax.invert_yaxis()
        ax.set_xlabel("ratio to PostgreSQL 15 (above 1: ZizhuDB better)")
        ax.set_title(f"ZizhuDB / PostgreSQL 15, {data['machine']}, {data['date']}", fontsize=9)
        ax.legend(loc="lower right")
        fig.tight_layout()
        fig.savefig(out_dir / "ratios.png", dpi=110)
        print(f"chart: {out_dir / 'ratios.png'}", file=sys.stderr)
    except ImportError:
        print("matplotlib is not installed: no chart (pip install matplotlib)", file=sys.stderr)


if __name__ == "__main__":
    main()
