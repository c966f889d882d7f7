//! What the platform's tests share: the demo hospital they settle at, a HIS call through the
//! national interface's parser as the server makes it, the Chongqing region, demo import rows,
//! and running a scenario on a fresh SQLite file or PostgreSQL schema.

// Each test binary uses its own part of what is shared.
#![allow(dead_code)]

use std::time::Instant;

use serde_json::{json, Value};
use yibao_fsi::{parse_envelope, TransactionInput};
use yibao_platform::{NationalRequest, Platform};
use yibao_store::InstitutionRecord;

/// A demo 三级 hospital.
pub const INSTITUTION: &str = "H50010100001";

/// Registers [`INSTITUTION`] with the platform.
pub async fn register_institution(platform: &Platform) {
    let institution = yibao_demo::demo_institutions()
        .into_iter()
        .find(|i| i.code == INSTITUTION)
        .unwrap();
    platform
        .upsert_institutions(vec![InstitutionRecord {
            code: institution.code,
            name: institution.name,
            hosp_lv: institution.hosp_lv.to_owned(),
            admdvs: institution.admdvs,
            paas_id: institution.paas_id,
            secret: institution.secret,
            active: true,
        }])
        .await
        .unwrap();
}

/// Sends transaction `infno` from [`INSTITUTION`] with a fresh msgid; the answer as JSON.
pub async fn call(platform: &Platform, serial: &mut u32, infno: &str, input: Value) -> Value {
    *serial += 1;
    let now = yibao_platform::now();
    let msgid = format!("{INSTITUTION}{}{:04}", now.format("%Y%m%d%H%M%S"), *serial % 10_000);
    let body = json!({ "infno": infno, "msgid": msgid, "fixmedins_code": INSTITUTION, "input": input }).to_string();
    let envelope = parse_envelope(body.as_bytes(), None).unwrap();
    let input = TransactionInput::parse(&envelope.infno, &envelope.input).unwrap();
    let input_digest = yibao_fsi::request_digest(&envelope.infno, &envelope.input, b"");
    let request = NationalRequest {
        envelope,
        input,
        received_at: now,
        started: Instant::now(),
        input_digest,
    };
    serde_json::from_slice(&platform.national(request).await.unwrap().into_json()).unwrap()
}

/// The Chongqing region as the tests use it: the benefit policy versions and contribution policy
/// files named (paths under `policies/chongqing/`), the demo catalog.
pub fn chongqing(versions: &[&str], contribution: &[&str]) -> yibao_platform::Region {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../policies/chongqing");
    let read = |p: &str| std::fs::read_to_string(root.join(p)).unwrap();
    yibao_platform::Region {
        admdvs: "500000".into(),
        versions: versions
            .iter()
            .map(|f| yibao_policy::load_policy(f, &read(f)).unwrap())
            .collect(),
        catalog: yibao_demo::demo_catalog(),
        contribution: contribution
            .iter()
            .map(|f| std::sync::Arc::new(yibao_enrol::ContributionPolicy::parse(f, &read(f)).unwrap()))
            .collect(),
        monitor: Vec::new(),
    }
}

/// Every demo employer as an import row, registered 2010-01-01.
pub fn demo_employer_rows() -> Vec<yibao_platform::EmployerRow> {
    (0..yibao_demo::DEMO_EMPLOYERS)
        .map(|i| {
            let e = yibao_demo::demo_employer(i);
            yibao_platform::EmployerRow {
                line: i as u64 + 2,
                credit_code: e.credit_code,
                name: e.name,
                registered_on: chrono::NaiveDate::from_ymd_opt(2010, 1, 1).unwrap(),
            }
        })
        .collect()
}

/// Demo person `index` as the enrolment import row on file line `line`.
pub fn demo_import_row(line: u64, index: usize) -> yibao_platform::ImportRow {
    let r = yibao_demo::demo_enrolment_row(index);
    yibao_platform::ImportRow {
        line,
        certno: r.certno,
        name: r.name,
        insurance: r.insurance,
        kind: serde_json::from_value(json!(r.kind)).unwrap(),
        employer: r.employer,
        wage_monthly: r.wage_monthly.map(|w| yibao_money::Money::from_yuan(i64::from(w))),
        tier: r.tier,
        county_class: r.county_class.map(Into::into),
        applied_on: r.applied_on,
    }
}

/// Runs `scenario` on a fresh SQLite file named after `name`, then removes the file.
pub async fn on_sqlite<F: std::future::Future<Output = ()>>(name: &str, scenario: impl FnOnce(String) -> F) {
    let file = std::env::temp_dir().join(format!("yibao-{name}-{}.db", std::process::id()));
    scenario(format!("sqlite://{}", file.display())).await;
    for suffix in ["", "-wal", "-shm", "-writer.lock"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", file.display()));
    }
}

/// Runs `scenario` in a fresh schema named after `name` of the test PostgreSQL database
/// (`YIBAO_TEST_POSTGRES_URL`), then drops the schema.
pub async fn on_postgres<F: std::future::Future<Output = ()>>(name: &str, scenario: impl FnOnce(String) -> F) {
    let base =
        std::env::var("YIBAO_TEST_POSTGRES_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into());
    let schema = format!("{name}_{}", std::process::id());
    let separator = if base.contains('?') { '&' } else { '?' };
    scenario(format!("{base}{separator}schema={schema}")).await;
    tokio::task::block_in_place(|| {
        let mut client = postgres::Client::connect(&base, postgres::NoTls).unwrap();
        client
            .batch_execute(&format!("DROP SCHEMA IF EXISTS \"{schema}\" CASCADE"))
            .unwrap();
    });
}

/// Starts the platform on `url` (migrated), waiting for an earlier platform on the same
/// database to let go of the writer lock (its thread ends shortly after its last handle drops).
pub fn start_platform(url: &str, region: yibao_platform::Region) -> Platform {
    tokio::task::block_in_place(|| {
        let mut writer = yibao_store::open(url).unwrap();
        for attempt in 0.. {
            match writer.lock_writer() {
                Ok(()) => break,
                Err(yibao_store::StoreError::Busy(_)) if attempt < 100 => {
                    std::thread::sleep(std::time::Duration::from_millis(50))
                }
                Err(e) => panic!("{e}"),
            }
        }
        writer.migrate().unwrap();
        Platform::start(yibao_store::open(url).unwrap(), writer, region).unwrap()
    })
}
