//! `yibao serve`: the platform over HTTP.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, RwLock};

use clap::Args;
use yibao_catalog::Catalog;
use yibao_platform::{Platform, Region};
use yibao_server::{AppState, Credentials};

use crate::files;

/// The demo region's policy versions, shipped with the binary so that `--demo` needs no files.
const DEMO_POLICIES: &[(&str, &str)] = &[
    (
        "policies/chongqing/2019.toml",
        include_str!("../../../policies/chongqing/2019.toml"),
    ),
    (
        "policies/chongqing/2023.toml",
        include_str!("../../../policies/chongqing/2023.toml"),
    ),
];

/// The demo region's contribution policy versions, shipped with the binary.
const DEMO_CONTRIBUTION_POLICIES: &[(&str, &str)] = &[
    (
        "policies/chongqing/contribution/2024.toml",
        include_str!("../../../policies/chongqing/contribution/2024.toml"),
    ),
    (
        "policies/chongqing/contribution/2026.toml",
        include_str!("../../../policies/chongqing/contribution/2026.toml"),
    ),
];

/// The demo region's supervision rule file (智能监控规则), shipped with the binary.
const DEMO_MONITOR_POLICIES: &[(&str, &str)] = &[(
    "policies/chongqing/monitor/2026.toml",
    include_str!("../../../policies/chongqing/monitor/2026.toml"),
)];

/// Tries at taking the database's writer lock, 100 ms apart.
const WRITER_LOCK_ATTEMPTS: u32 = 30;

/// Which database and which region's rules: shared by `serve` and the batch commands, which
/// run the same platform.
#[derive(Args)]
pub struct RegionArgs {
    /// `sqlite://FILE` (embedded) or `postgres://user@host/db`.
    #[arg(long, default_value = "sqlite://yibao.db")]
    pub database: String,
    /// The demo region (重庆): its policies and catalog; `serve` also seeds its institutions and
    /// 100,000 people.
    #[arg(long)]
    pub demo: bool,
    /// The region's benefit policy versions (a directory or file); the demo region's when `--demo`.
    #[arg(long)]
    pub policy: Option<PathBuf>,
    /// The region's contribution policy (缴费政策) versions (a directory or file); the demo
    /// region's when `--demo`.
    #[arg(long)]
    pub contribution_policy: Option<PathBuf>,
    /// The region's supervision rule files (智能监控规则: which 两库 rules warn or refuse, and
    /// their thresholds; a directory or file); the demo region's when `--demo`. Without one no
    /// rule runs.
    #[arg(long)]
    pub monitor_policy: Option<PathBuf>,
    /// The region's catalog (CSV); the demo catalog when omitted.
    #[arg(long)]
    pub catalog: Option<PathBuf>,
    /// The region's 6-digit division; taken from the policy when omitted.
    #[arg(long)]
    pub admdvs: Option<String>,
}

#[derive(Args)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    #[command(flatten)]
    region: RegionArgs,
    /// Turn institution authentication off, and open the admin API without a token.
    /// Development only.
    #[arg(long)]
    no_auth: bool,
    /// A file holding the admin API token (`Authorization: Bearer <token>` on `/admin/api`);
    /// else the token is read from `YIBAO_ADMIN_TOKEN`; with neither, the admin API is disabled.
    #[arg(long, value_name = "FILE")]
    admin_token_file: Option<PathBuf>,
    /// Staff members' tokens for the supervision routes of the admin API (cases, doctors'
    /// points): lines `ROLE ACTOR SHA256HEX` (role clerk, auditor, finance or admin; the token's
    /// SHA-256 as `sha256sum` prints it); else `YIBAO_STAFF_TOKENS_FILE`; else none.
    #[arg(long, value_name = "FILE")]
    staff_tokens_file: Option<PathBuf>,
    /// The key file that seals institution secrets in the database (one `ID HEX` per line, the
    /// first seals); else `YIBAO_SECRET_KEY_FILE`; else, on SQLite, `FILE.keys` beside the
    /// database file and, on PostgreSQL, `yibao-secrets.keys` in the working directory. Made with
    /// a new key when it does not exist. See SECURITY.md for rotation.
    #[arg(long, value_name = "FILE")]
    secret_key_file: Option<PathBuf>,
    /// Seed only the first N demo persons (tests start faster).
    #[arg(long, default_value_t = yibao_demo::DEMO_PERSONS, hide = true)]
    demo_persons: usize,
}

pub fn run(args: ServeArgs) -> Result<(), String> {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()))
        .init();
    // Before anything starts: a bad token file stops the service rather than leaving it open.
    let admin = yibao_server::AdminAccess::configure(args.no_auth, args.admin_token_file.as_deref())?;
    let staff = yibao_server::StaffTokens::configure(args.staff_tokens_file.as_deref())?;
    let key_file = secret_key_file(args.secret_key_file.clone(), &args.region.database);
    let (keys, created) = yibao_server::SecretKeys::load_or_create(&key_file)?;
    if created {
        tracing::warn!(
            key_file = %key_file.display(),
            "a new key file seals the institutions' secrets: keep it apart from the database and back it up (without it the secrets cannot be opened)"
        );
    }
    let keys = Arc::new(keys);
    let platform = start_platform(&args.region)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("无法启动运行时: {e}"))?;
    runtime.block_on(async move {
        if args.region.demo {
            let seeded = yibao_server::demo::seed(&platform, &keys, args.demo_persons)
                .await
                .map_err(|e| e.to_string())?;
            if seeded > 0 {
                tracing::info!(persons = seeded, "demo region seeded");
            } else {
                tracing::info!("the store already holds a region: demo seeding skipped");
            }
        }
        // Every secret opened now: a key missing from the key file stops the service here, not
        // at some institution's first request. Secrets in the clear or sealed with a key that no
        // longer seals are sealed again with the current one (key rotation).
        let institutions = platform.institutions().await.map_err(|e| e.to_string())?;
        let (institutions, reseal) = keys.open_all(institutions)?;
        if !reseal.is_empty() {
            let count = reseal.len();
            platform.upsert_institutions(reseal).await.map_err(|e| e.to_string())?;
            tracing::info!(institutions = count, key = keys.current_id(), "institution secrets sealed with the current key");
        }
        let credentials = if args.no_auth {
            tracing::warn!("authentication is OFF (--no-auth): any caller can act as any institution, and the admin API (/admin/api) is open without a token (enrol, charge, read persons); never use this in production");
            None
        } else {
            Some(Arc::new(RwLock::new(Credentials::new(institutions))))
        };
        let state = AppState {
            platform,
            credentials,
            admin,
            staff: Arc::new(staff),
            keys,
        };
        // Serve from a worker task, not the thread that blocks on the runtime.
        let listen = args.listen;
        tokio::spawn(async move { yibao_server::serve(listen, state).await })
            .await
            .map_err(|e| format!("{listen}: {e}"))?
            .map_err(|e| format!("{listen}: {e}"))
    })
}

/// The key file: as given, else `YIBAO_SECRET_KEY_FILE`, else beside a SQLite database file or
/// in the working directory for PostgreSQL.
fn secret_key_file(given: Option<PathBuf>, database: &str) -> PathBuf {
    if let Some(path) = given {
        return path;
    }
    if let Some(path) = std::env::var_os("YIBAO_SECRET_KEY_FILE").filter(|p| !p.is_empty()) {
        return PathBuf::from(path);
    }
    match database.strip_prefix("sqlite://") {
        Some(rest) => {
            let file = rest.split('?').next().unwrap_or(rest);
            PathBuf::from(format!("{file}.keys"))
        }
        None => PathBuf::from("yibao-secrets.keys"),
    }
}

/// Opens the database (taking its writer lock, migrating it) and starts the platform on it.
pub fn start_platform(args: &RegionArgs) -> Result<Platform, String> {
    let region = region(args)?;
    let mut writer = yibao_store::open(&args.database).map_err(|e| e.to_string())?;
    // A process that just died may hold the lock for a moment more (PostgreSQL notices a
    // dropped connection on its next read): wait a little before giving up.
    let mut attempts = 0;
    loop {
        match writer.lock_writer() {
            Ok(()) => break,
            Err(yibao_store::StoreError::Busy(_)) if attempts < WRITER_LOCK_ATTEMPTS => {
                attempts += 1;
                std::thread::sleep(std::time::Duration::from_millis(100));
            }
            Err(e) => return Err(e.to_string()),
        }
    }
    writer.migrate().map_err(|e| e.to_string())?;
    let reader = yibao_store::open(&args.database).map_err(|e| e.to_string())?;
    Platform::start(reader, writer, region).map_err(|e| e.to_string())
}

fn region(args: &RegionArgs) -> Result<Region, String> {
    let mut versions = Vec::new();
    match (&args.policy, args.demo) {
        (Some(path), _) => {
            for file in files::policy_files(std::slice::from_ref(path))? {
                let text = files::read_text(&file, yibao_policy::POLICY_FILE_BYTES_MAX)?;
                versions.push(load(&file.display().to_string(), &text)?);
            }
        }
        (None, true) => {
            for (name, text) in DEMO_POLICIES {
                versions.push(load(name, text)?);
            }
        }
        (None, false) => return Err("需要 --policy 指定本统筹区的政策文件(或用 --demo 运行演示统筹区)".into()),
    }
    let problems = yibao_policy::check_versions(&versions);
    if !problems.is_empty() {
        return Err(problems.join("\n"));
    }
    let catalog = match &args.catalog {
        Some(path) => {
            let text = files::read_text(path, files::CATALOG_FILE_BYTES_MAX)?;
            Catalog::from_csv(&text).map_err(|errors| {
                errors
                    .iter()
                    .map(|e| format!("{}: {e}", path.display()))
                    .collect::<Vec<_>>()
                    .join("\n")
            })?
        }
        None if args.demo => yibao_demo::demo_catalog(),
        None => return Err("需要 --catalog 指定本统筹区的医保目录".into()),
    };
    let admdvs = match &args.admdvs {
        Some(a) => a.clone(),
        None => versions[0].region.clone(),
    };
    let mut contribution = Vec::new();
    match (&args.contribution_policy, args.demo) {
        (Some(path), _) => {
            for file in files::policy_files(std::slice::from_ref(path))? {
                let text = files::read_text(&file, files::INPUT_FILE_BYTES_MAX)?;
                contribution.push(contribution_policy(&file.display().to_string(), &text)?);
            }
        }
        (None, true) => {
            for (name, text) in DEMO_CONTRIBUTION_POLICIES {
                contribution.push(contribution_policy(name, text)?);
            }
        }
        (None, false) => {}
    }
    contribution.sort_by_key(|p| p.policy.effective_from);
    let mut monitor = Vec::new();
    let mut read_monitor = |name: &str, text: &str| -> Result<(), String> {
        let policy = yibao_monitor::MonitorPolicy::parse(name, text)
            .map_err(|errors| errors.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n"))?;
        monitor.push(policy);
        Ok(())
    };
    match (&args.monitor_policy, args.demo) {
        (Some(path), _) => {
            for file in files::policy_files(std::slice::from_ref(path))? {
                let text = files::read_text(&file, yibao_monitor::rules::RULE_FILE_BYTES_MAX)?;
                read_monitor(&file.display().to_string(), &text)?;
            }
        }
        (None, true) => {
            for (name, text) in DEMO_MONITOR_POLICIES {
                read_monitor(name, text)?;
            }
        }
        (None, false) => {}
    }
    let problems = yibao_monitor::check_versions(&monitor);
    if !problems.is_empty() {
        return Err(problems.join("\n"));
    }
    monitor.sort_by_key(|p| p.effective_from);
    Ok(Region {
        admdvs,
        versions,
        catalog,
        contribution,
        monitor,
    })
}

fn contribution_policy(name: &str, text: &str) -> Result<std::sync::Arc<yibao_enrol::ContributionPolicy>, String> {
    yibao_enrol::ContributionPolicy::parse(name, text)
        .map(std::sync::Arc::new)
        .map_err(|errors| errors.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n"))
}

fn load(name: &str, text: &str) -> Result<yibao_policy::Policy, String> {
    yibao_policy::load_policy(name, text)
        .map_err(|errors| errors.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n"))
}
