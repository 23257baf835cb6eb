//! Runs the crash-test bank's transfer loops until killed. See `zizhu_crashtest`.
//!
//! Usage: `zizhu-crash-worker DIR THREADS SEED`

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let [_, dir, threads, seed] = args.as_slice() else {
        eprintln!("usage: zizhu-crash-worker DIR THREADS SEED");
        std::process::exit(2);
    };
    let (Ok(threads), Ok(seed)) = (threads.parse(), seed.parse()) else {
        eprintln!("THREADS and SEED must be integers");
        std::process::exit(2);
    };
    zizhu_crashtest::run_worker(std::path::Path::new(dir), threads, seed);
}
