//! The `yibao` command.
// As in yibao-fsi: this crate takes outside input, and since a panic anywhere ends the process
// (the binary aborts on panic), no input may reach an `unwrap`, `expect` or `panic!`. Asserts
// of invariants stay: those are meant to stop the process.
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::float_arithmetic)
)]

/// `println!` that ignores a closed pipe (`yibao demo list | head`) instead of panicking.
macro_rules! outln {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout().lock(), $($arg)*);
    }};
}

mod demo_cmd;
mod dip_cmd;
mod drg_cmd;
mod enrol_cmd;
mod files;
mod monitor_cmd;
mod payment_policy;
mod progress;
mod serve_cmd;
mod settle_cmd;
mod statement;

/// mimalloc: the service and the load generator allocate small JSON values on several threads;
/// glibc's allocator showed up as a fifth of the CPU profile under load.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "yibao",
    version,
    about = "yibao: a region's basic medical insurance platform (医保)"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Benefit policy files (待遇政策).
    Policy {
        #[command(subcommand)]
        command: PolicyCommand,
    },
    /// Catalog tables (医保目录).
    Catalog {
        #[command(subcommand)]
        command: CatalogCommand,
    },
    /// Settle a visit and print the result with its explanation. Nothing is stored.
    Settle(settle_cmd::SettleArgs),
    /// Run the platform: the national interface over HTTP, on SQLite or PostgreSQL.
    Serve(serve_cmd::ServeArgs),
    /// DRG grouping (CHS-DRG).
    Drg {
        #[command(subcommand)]
        command: drg_cmd::DrgCommand,
    },
    /// DIP (按病种分值付费): build a region's catalog, settle a year per hospital.
    Dip {
        #[command(subcommand)]
        command: dip_cmd::DipCommand,
    },
    /// Enrolment (参保登记): bulk import.
    Enrol {
        #[command(subcommand)]
        command: enrol_cmd::EnrolCommand,
    },
    /// Contributions (缴费): the monthly employee run.
    Contribution {
        #[command(subcommand)]
        command: enrol_cmd::ContributionCommand,
    },
    /// The funds' books (基金): indicators, warnings and period close.
    Fund {
        #[command(subcommand)]
        command: enrol_cmd::FundCommand,
    },
    /// Fund supervision (智能监控): import the national 两库 knowledge points.
    Monitor {
        #[command(subcommand)]
        command: monitor_cmd::MonitorCommand,
    },
    /// The demo region's data.
    Demo {
        #[command(subcommand)]
        command: demo_cmd::DemoCommand,
    },
}

#[derive(Subcommand)]
enum PolicyCommand {
    /// Check policy files (or directories of them) and report every error with file and line.
    /// Files in a `contribution/` directory are read as contribution policies, in a `payment/`
    /// directory as payment policies; the rest as benefit policies.
    Check {
        /// Policy files or directories.
        #[arg(required = true)]
        paths: Vec<PathBuf>,
    },
}

#[derive(Subcommand)]
enum CatalogCommand {
    /// Check a catalog table (CSV) and report every bad cell with its line.
    Check { file: PathBuf },
}

/// A panic anywhere ends the process. An assertion that fails (a ledger that does not balance,
/// an accumulator going negative) means the process can no longer be trusted; left to unwind,
/// it would kill one thread (the platform thread, say) while the HTTP side kept answering
/// "平台线程已停止" and a supervisor saw a live process. Aborting makes the failure whole: the
/// process is gone, its supervisor restarts it, and what was committed is what is in the store
/// (the crash test's guarantee). The message is printed first, with the thread's name.
fn abort_on_panic() {
    let default_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let thread = std::thread::current();
        let name = thread.name().unwrap_or("unnamed");
        eprintln!("yibao: 致命错误,进程终止 (thread {name}): {info}");
        default_hook(info);
        std::process::abort();
    }));
}

fn main() -> ExitCode {
    abort_on_panic();
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Policy {
            command: PolicyCommand::Check { paths },
        } => policy_check(&paths),
        Command::Catalog {
            command: CatalogCommand::Check { file },
        } => catalog_check(&file),
        Command::Settle(args) => settle_cmd::run(&args),
        Command::Serve(args) => serve_cmd::run(args),
        Command::Demo { command } => demo_cmd::run(&command),
        Command::Drg { command } => drg_cmd::run(&command),
        Command::Dip { command } => dip_cmd::run(&command),
        Command::Enrol { command } => enrol_cmd::enrol(command),
        Command::Contribution { command } => enrol_cmd::contribution(command),
        Command::Fund { command } => enrol_cmd::fund(command),
        Command::Monitor { command } => monitor_cmd::run(&command),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("{message}");
            ExitCode::FAILURE
        }
    }
}

/// What kind of policy a file is, by the directory it sits in.
fn policy_kind(file: &std::path::Path) -> &'static str {
    match file.parent().and_then(|d| d.file_name()).and_then(|n| n.to_str()) {
        Some("contribution") => "contribution",
        Some("payment") => "payment",
        Some("monitor") => "monitor",
        _ => "benefit",
    }
}

/// Checks a contribution or payment policy file; `Err` lists its errors.
fn check_other_policy(file: &std::path::Path, kind: &str) -> Result<String, Vec<String>> {
    match kind {
        "monitor" => {
            let text = files::read_text(file, yibao_monitor::rules::RULE_FILE_BYTES_MAX).map_err(|e| vec![e])?;
            yibao_monitor::MonitorPolicy::parse(&file.display().to_string(), &text)
                .map(|p| {
                    format!(
                        "监控规则 {} {} 版本{} ({}起{}), {}条规则",
                        p.name,
                        p.region,
                        p.version,
                        p.effective_from,
                        p.effective_to.map_or(String::new(), |t| format!("至{t}")),
                        p.rules.len()
                    )
                })
                .map_err(|errors| errors.iter().map(ToString::to_string).collect())
        }
        "contribution" => {
            let text = files::read_text(file, files::INPUT_FILE_BYTES_MAX).map_err(|e| vec![e])?;
            yibao_enrol::ContributionPolicy::parse(&file.display().to_string(), &text)
                .map(|p| {
                    format!(
                        "缴费政策 {} {} 版本{} ({}起{})",
                        p.policy.name,
                        p.policy.region.as_str(),
                        p.policy.version,
                        p.policy.effective_from,
                        p.policy.effective_to.map_or(String::new(), |t| format!("至{t}"))
                    )
                })
                .map_err(|errors| errors.iter().map(ToString::to_string).collect())
        }
        _ => {
            let policy = payment_policy::PaymentPolicyFile::read(file).map_err(|e| vec![e])?;
            let mut parts = Vec::new();
            if policy.drg.is_some() {
                policy.drg_policy(file).map_err(|e| vec![e])?;
                parts.push("DRG");
            }
            if policy.dip.is_some() {
                dip_cmd::read_params(file).map_err(|e| vec![e])?;
                parts.push("DIP");
            }
            Ok(format!("支付方式政策 {} ({})", policy.label(), parts.join("、")))
        }
    }
}

fn policy_check(paths: &[PathBuf]) -> Result<(), String> {
    let mut failed = false;
    let mut loaded = Vec::new();
    for file in files::policy_files(paths)? {
        let kind = policy_kind(&file);
        if kind != "benefit" {
            match check_other_policy(&file, kind) {
                Ok(summary) => outln!("{}: 通过 — {summary}", file.display()),
                Err(errors) => {
                    failed = true;
                    for e in errors {
                        outln!("{e}");
                    }
                }
            }
            continue;
        }
        let text = files::read_text(&file, yibao_policy::POLICY_FILE_BYTES_MAX)?;
        match yibao_policy::load_policy(&file.display().to_string(), &text) {
            Ok(policy) => {
                let stages: usize = policy.benefits.iter().map(|b| b.stages.len()).sum();
                outln!(
                    "{}: 通过 — {} {} 版本{} ({}起{}), {}项待遇, {}个支付阶段",
                    file.display(),
                    policy.name,
                    policy.region,
                    policy.version,
                    policy.effective_from,
                    policy.effective_to.map_or(String::new(), |t| format!("至{t}")),
                    policy.benefits.len(),
                    stages
                );
                loaded.push(policy);
            }
            Err(errors) => {
                failed = true;
                for e in errors {
                    outln!("{e}");
                }
            }
        }
    }
    for problem in yibao_policy::check_versions(&loaded) {
        failed = true;
        outln!("{problem}");
    }
    if failed {
        Err("政策文件检查未通过".into())
    } else {
        Ok(())
    }
}

fn catalog_check(file: &std::path::Path) -> Result<(), String> {
    let text = files::read_text(file, files::CATALOG_FILE_BYTES_MAX)?;
    match yibao_catalog::Catalog::from_csv(&text) {
        Ok(catalog) => {
            outln!("{}: 通过 — {}个目录项目", file.display(), catalog.len());
            Ok(())
        }
        Err(errors) => {
            for e in &errors {
                outln!("{}: {e}", file.display());
            }
            Err(format!("目录检查未通过({}处错误)", errors.len()))
        }
    }
}
