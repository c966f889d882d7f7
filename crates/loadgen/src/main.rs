//! `yibao-loadgen`: drive a running platform with simulated HIS clients and print throughput
//! and latency percentiles.

/// mimalloc: the service and the load generator allocate small JSON values on several threads;
/// glibc's allocator showed up as a fifth of the CPU profile under load.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// `println!` that ignores a closed pipe (`yibao demo list | head`) instead of panicking.
macro_rules! outln {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout().lock(), $($arg)*);
    }};
}

use std::time::Duration;

use clap::Parser;

#[derive(Parser)]
#[command(about = "Drive the outpatient flow (2201→2203→2204→2207) against a running yibao serve --demo")]
struct Args {
    /// The national interface URL.
    #[arg(long, default_value = "http://127.0.0.1:8080/fsi/api/rsfComIfsService/callService")]
    url: String,
    /// Concurrent clients.
    #[arg(long, default_value_t = 64)]
    clients: usize,
    /// Seconds to run.
    #[arg(long, default_value_t = 20)]
    seconds: u64,
    /// Stop after this many settled visits (0: no limit).
    #[arg(long, default_value_t = 0)]
    visits: u64,
    /// Draw people from the first N demo persons.
    #[arg(long, default_value_t = 100_000)]
    persons: usize,
    /// Do not sign requests (for a server started with --no-auth).
    #[arg(long)]
    unsigned: bool,
    #[arg(long, default_value_t = 1)]
    seed: u64,
}

/// One thread: the clients spend most of their time waiting on the server, and a single-threaded
/// runtime wakes tasks without cross-thread handoffs, leaving the other cores to the server.
#[tokio::main(flavor = "current_thread")]
async fn main() {
    let args = Args::parse();
    let config = yibao_loadgen::Config {
        base_url: args.url,
        clients: args.clients,
        duration: Duration::from_secs(args.seconds),
        visits_max: args.visits,
        persons: args.persons,
        seed: args.seed,
        sign: !args.unsigned,
        retry_for: Duration::from_secs(10),
    };
    let mut report = yibao_loadgen::run(config).await;
    let seconds = report.elapsed.as_secs_f64();
    let requests: usize = report.latencies.iter().map(|(_, l)| l.count()).sum();
    outln!("clients {}  elapsed {seconds:.1}s", args.clients);
    outln!(
        "settled visits {}  ({:.0}/s)   failed {}   requests {} ({:.0}/s)",
        report.settled,
        report.settled as f64 / seconds,
        report.failed,
        requests,
        requests as f64 / seconds
    );
    report.latencies.sort_by_key(|(k, _)| *k);
    for (infno, l) in report.latencies.iter_mut() {
        outln!(
            "  {infno}  p50 {:6.2} ms  p99 {:6.2} ms  max {:7.2} ms  n={}",
            l.percentile_ms(50.0),
            l.percentile_ms(99.0),
            l.percentile_ms(100.0),
            l.count()
        );
    }
    let v = &mut report.visit_latencies;
    outln!(
        "  visit p50 {:6.2} ms  p99 {:6.2} ms",
        v.percentile_ms(50.0),
        v.percentile_ms(99.0)
    );
    for e in &report.errors {
        outln!("  error: {e}");
    }
}
