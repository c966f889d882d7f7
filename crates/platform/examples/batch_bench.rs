//! Times the batch work of a region at scale, through the platform as `yibao` runs it: the
//! enrolment import, the monthly employee contribution run and the year's fund indicators.
//!
//! ```sh
//! cargo run --release -p yibao-platform --example batch_bench -- --persons 1000000
//! cargo run --release -p yibao-platform --example batch_bench -- --persons 1000000 --only 310
//! cargo run --release -p yibao-platform --example batch_bench -- --persons 1000000 \
//!     --database 'postgres://postgres@127.0.0.1:5432/test?schema=bench'
//! ```
//!
//! People are the demo region's (`yibao_demo::demo_enrolment_row`), from index 100,000 on;
//! `--only 310` keeps employees only (for a run over a million employees). The database must be
//! new (a SQLite file that does not exist yet, or an empty schema).

use std::sync::Arc;
use std::time::Instant;

use chrono::NaiveDate;
use serde_json::json;
use yibao_money::Money;
use yibao_platform::{AdminRequest, EmployerRow, ImportRow, Platform, Region};

fn arg(name: &str) -> Option<String> {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
}

fn region() -> Region {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../policies/chongqing");
    let read = |p: &str| std::fs::read_to_string(root.join(p)).expect("policy file");
    let versions = ["2019.toml", "2023.toml"]
        .iter()
        .map(|f| yibao_policy::load_policy(f, &read(f)).expect("benefit policy"))
        .collect();
    let contribution = ["contribution/2024.toml", "contribution/2026.toml"]
        .iter()
        .map(|f| Arc::new(yibao_enrol::ContributionPolicy::parse(f, &read(f)).expect("contribution policy")))
        .collect();
    Region {
        admdvs: "500000".into(),
        versions,
        catalog: yibao_demo::demo_catalog(),
        contribution,
        monitor: Vec::new(),
    }
}

fn main() {
    let persons: usize = arg("--persons").map_or(100_000, |p| p.parse().expect("--persons N"));
    let only = arg("--only");
    let database = arg("--database").unwrap_or_else(|| {
        let file = std::env::temp_dir().join(format!("yibao-batch-bench-{}.db", std::process::id()));
        format!("sqlite://{}", file.display())
    });
    let started = Instant::now();
    let rows: Vec<ImportRow> = (yibao_demo::DEMO_PERSONS..yibao_demo::DEMO_ENROLMENT_PERSONS_MAX)
        .map(yibao_demo::demo_enrolment_row)
        .filter(|r| only.as_deref().is_none_or(|o| r.insurance.code() == o))
        .take(persons)
        .enumerate()
        .map(|(n, r)| ImportRow {
            line: n as u64 + 2,
            certno: r.certno,
            name: r.name,
            insurance: r.insurance,
            kind: serde_json::from_value(json!(r.kind)).expect("a person kind"),
            employer: r.employer,
            wage_monthly: r.wage_monthly.map(|w| Money::from_yuan(i64::from(w))),
            tier: r.tier,
            county_class: r.county_class.map(Into::into),
            applied_on: r.applied_on,
        })
        .collect();
    let employees = rows.iter().filter(|r| r.insurance.code() == "310").count();
    println!(
        "generated {} people ({employees} employees) in {:.1} s",
        rows.len(),
        started.elapsed().as_secs_f64()
    );

    let mut writer = yibao_store::open(&database).expect("database");
    writer.lock_writer().expect("writer lock");
    writer.migrate().expect("migrate");
    let reader = yibao_store::open(&database).expect("database");
    let platform = Platform::start(reader, writer, region()).expect("platform");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let employers = (0..yibao_demo::DEMO_EMPLOYERS)
            .map(|i| {
                let e = yibao_demo::demo_employer(i);
                EmployerRow {
                    line: i as u64 + 2,
                    credit_code: e.credit_code,
                    name: e.name,
                    registered_on: NaiveDate::from_ymd_opt(2010, 1, 1).expect("a date"),
                }
            })
            .collect();
        platform
            .admin(AdminRequest::ImportEmployers { rows: employers })
            .await
            .expect("employers");

        let t = Instant::now();
        let count = rows.len();
        let imported = platform.admin(AdminRequest::Import { rows }).await.expect("import");
        let import_secs = t.elapsed().as_secs_f64();
        assert_eq!(imported["imported"], count);
        println!(
            "import: {count} people in {import_secs:.1} s ({:.0}/s)",
            count as f64 / import_secs
        );

        let t = Instant::now();
        let run = platform
            .admin(AdminRequest::ContributionRun {
                month: "2026-11".into(),
            })
            .await
            .expect("run");
        let run_secs = t.elapsed().as_secs_f64();
        println!("contribution run: {} employees in {run_secs:.1} s", run["employees"]);

        let t = Instant::now();
        let indicators = platform
            .admin(AdminRequest::Indicators { year: 2026 })
            .await
            .expect("indicators");
        println!(
            "indicators 2026: {} funds in {:.3} s",
            indicators["funds"].as_array().map_or(0, Vec::len),
            t.elapsed().as_secs_f64()
        );
    });
}
