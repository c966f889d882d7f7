//! Screening from the store, end to end: fills a new database with a year of settled visits
//! (the demo institutions and persons, 7 fee lines each, a fifth of them 4-day stays, their
//! inputs recorded as settlement records them), imports the 两库, then times `yibao monitor
//! screen` over the year on the platform: the three period queries, the JSON of every
//! settlement's inputs, the coverage of each person, the rules, and the suspicions' commit.
//!
//! ```sh
//! cargo run --release -p yibao --example screen_store -- --settlements 1000000
//! cargo run --release -p yibao --example screen_store -- --settlements 1000000 \
//!     --database 'postgres://postgres@127.0.0.1:5432/test?schema=screen_bench'
//! # screen an already filled database again
//! cargo run --release -p yibao --example screen_store -- --database sqlite://FILE --screen-only 1
//! ```
//!
//! The database must be new (a SQLite file that does not exist yet, or an empty schema).

use std::time::Instant;

use chrono::{Duration, NaiveDate};
use yibao_codes::{HospitalLevel, MedicalType};
use yibao_money::{Money, Price, Quantity, Rounding};
use yibao_platform::service::StoredInputs;
use yibao_platform::{AdminRequest, Platform, Region};
use yibao_settle::{FeeLine, Person, Visit, YearToDate};
use yibao_store::{FeeLineRecord, SettlementRecord, SettlementStatus, VisitRecord, VisitStatus, WriteBatch, WriteOp};

const LINES_PER_VISIT: usize = 7;
const PERSONS: usize = 50_000;
const BATCH_SETTLEMENTS: usize = 5_000;

fn arg(name: &str) -> Option<String> {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
}

fn root() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn region() -> Region {
    let read = |p: &str| std::fs::read_to_string(root().join(p)).expect("policy file");
    let versions = ["policies/chongqing/2019.toml", "policies/chongqing/2023.toml"]
        .iter()
        .map(|p| yibao_policy::load_policy(p, &read(p)).expect("policy"))
        .collect();
    let monitor = vec![
        yibao_monitor::MonitorPolicy::parse("2026.toml", &read("policies/chongqing/monitor/2026.toml")).expect("rules"),
    ];
    Region {
        admdvs: "500000".into(),
        versions,
        catalog: yibao_demo::demo_catalog(),
        contribution: Vec::new(),
        monitor,
    }
}

fn main() {
    let settlements: usize = arg("--settlements").map_or(100_000, |n| n.parse().expect("--settlements N"));
    let database = arg("--database").unwrap_or_else(|| {
        let file = std::env::temp_dir().join(format!("yibao-screen-bench-{}.db", std::process::id()));
        format!("sqlite://{}", file.display())
    });
    // `--screen-only`: the database was filled by an earlier run; screen it again.
    if arg("--screen-only").is_none() {
        fill(&database, settlements);
    }
    screen(&database);
}

fn fill(database: &str, settlements: usize) {
    let mut store = yibao_store::open(database).expect("database");
    store.lock_writer().expect("writer lock");
    store.migrate().expect("migrate");

    // The demo institutions and persons, and the 两库.
    let started = Instant::now();
    let keys =
        yibao_server::SecretKeys::parse(&yibao_server::secrets::new_key_file_text().expect("key")).expect("keys");
    let institutions = yibao_server::demo::institution_records(&keys).expect("institutions");
    let levels: Vec<(String, HospitalLevel)> = institutions
        .iter()
        .map(|i| {
            (
                i.code.clone(),
                HospitalLevel::from_hosp_lv(&i.hosp_lv).unwrap_or(HospitalLevel::Level1),
            )
        })
        .collect();
    let mut ops: Vec<WriteOp> = institutions.into_iter().map(WriteOp::UpsertInstitution).collect();
    let persons: Vec<yibao_demo::DemoPerson> = (0..PERSONS).map(yibao_demo::demo_person).collect();
    for p in &persons {
        ops.extend(yibao_server::demo::person_ops(p.clone()));
    }
    let mut files = std::collections::BTreeMap::new();
    for entry in std::fs::read_dir(root().join("data/liangku")).expect("data/liangku") {
        let path = entry.expect("entry").path();
        let name = path.file_name().and_then(|n| n.to_str()).expect("name").to_owned();
        files.insert(name, std::fs::read_to_string(&path).expect("read"));
    }
    ops.push(WriteOp::UpsertReferenceTable(yibao_store::ReferenceTableRecord {
        kind: yibao_platform::MONITOR_REFERENCE_KIND.into(),
        version: "bench".into(),
        imported_at: NaiveDate::from_ymd_opt(2026, 1, 1)
            .and_then(|d| d.and_hms_opt(0, 0, 0))
            .expect("time"),
        files_json: serde_json::to_string(&files).expect("json"),
    }));
    store.commit(&WriteBatch { ops }).expect("seed");

    // A year of settlements.
    let items = yibao_demo::demo_items();
    let codes: Vec<(&str, Price)> = items
        .iter()
        .filter(|d| d.item.restriction == yibao_catalog::Restriction::default())
        .map(|d| (d.item.code.as_str(), d.price))
        .collect();
    let year = NaiveDate::from_ymd_opt(2026, 1, 1)
        .and_then(|d| d.and_hms_opt(8, 0, 0))
        .expect("time");
    let mut batch = WriteBatch::default();
    let mut lines_total = 0usize;
    for n in 0..settlements {
        let p = &persons[n % PERSONS];
        let (institution, level) = &levels[(n * 7) % levels.len()];
        let inpatient = n % 5 == 0;
        let begin = year + Duration::minutes(((n * 37) % (360 * 24 * 60)) as i64);
        let end = if inpatient { begin + Duration::days(3) } else { begin };
        let visit_id = format!("500000M{n:023}");
        let settlement_id = format!("500000S{n:023}");
        let medical_type = if inpatient {
            MedicalType::GeneralInpatient
        } else {
            MedicalType::GeneralOutpatient
        };
        let mut fee_lines = Vec::with_capacity(LINES_PER_VISIT);
        let mut records = Vec::with_capacity(LINES_PER_VISIT);
        let mut total = Money::ZERO;
        for k in 0..LINES_PER_VISIT {
            let (code, price) = codes[(n * 13 + k * 101) % codes.len()];
            let quantity = Quantity::whole(1 + (k as i64 % 3));
            let amount = Money::from_price_quantity(price, quantity, Rounding::HalfUp);
            total += amount;
            let at = begin + Duration::hours(if inpatient { (k * 10) as i64 } else { 0 });
            fee_lines.push(FeeLine {
                sn: k.to_string(),
                code: code.to_owned(),
                quantity,
                price,
                amount: None,
                date: Some(at.date()),
                disease: None,
                refusal: None,
            });
            records.push(FeeLineRecord {
                visit_id: visit_id.clone(),
                sn: k.to_string(),
                batch_no: String::new(),
                code: code.to_owned(),
                local_code: code.to_owned(),
                quantity,
                price,
                amount,
                occurred_at: at,
                disease_code: None,
                refund_of: None,
                settlement_id: Some(settlement_id.clone()),
            });
        }
        lines_total += records.len();
        let inputs = StoredInputs {
            person: Person {
                person_no: p.person_no.clone(),
                insurance: p.insurance,
                person_type: p.person_type,
                sex: p.sex,
                birth_date: p.birth_date,
                tier: p.tier,
                groups: p.groups.clone(),
                civil_servant: p.civil_servant,
                chronic_diseases: Vec::new(),
                benefits_from: None,
            },
            ytd: YearToDate::new(2026),
            account_balance: Money::ZERO,
            family_account: None,
            visit: Visit {
                visit_id: visit_id.clone(),
                medical_type,
                level: *level,
                begin_date: begin.date(),
                end_date: inpatient.then(|| end.date()),
                in_county: true,
                referred: true,
                use_account: false,
                lines: fee_lines,
            },
        };
        batch.push(WriteOp::InsertVisit(VisitRecord {
            visit_id: visit_id.clone(),
            person_no: p.person_no.clone(),
            institution: institution.clone(),
            insurance: p.insurance,
            medical_type,
            begin_time: begin,
            end_time: inpatient.then_some(end),
            his_visit_no: format!("H{n}"),
            disease_code: None,
            diagnosis_code: Some("J18.900".into()),
            status: VisitStatus::Settled,
            in_county: true,
            doctor: Some(format!("D{:04}", n % 2000)),
        }));
        // The settlement before its lines, which refer to it.
        let lines_op = WriteOp::InsertFeeLines(records);
        batch.push(WriteOp::InsertSettlement(SettlementRecord {
            settlement_id,
            visit_id,
            person_no: p.person_no.clone(),
            institution: institution.clone(),
            insurance: p.insurance,
            medical_type,
            clearing_type: if inpatient { "21" } else { "11" }.into(),
            settled_at: end,
            msgid: format!("M{n}"),
            policy_id: "500000/2023.1".into(),
            year: 2026,
            total,
            fund_total: Money::from_fen(total.fen() * 6 / 10),
            account_pay: Money::ZERO,
            cash_pay: total - Money::from_fen(total.fen() * 6 / 10),
            status: SettlementStatus::Settled,
            cancelled_at: None,
            cancel_msgid: None,
            output_json: "{}".into(),
            inputs_json: serde_json::to_string(&inputs).expect("inputs"),
            deltas_json: "{}".into(),
            mutual_aid_pay: Money::ZERO,
        }));
        batch.push(lines_op);
        if (n + 1) % BATCH_SETTLEMENTS == 0 || n + 1 == settlements {
            store.commit(&batch).expect("commit");
            batch = WriteBatch::default();
        }
    }
    println!(
        "filled {database}: {settlements} settlements, {lines_total} lines, {PERSONS} persons in {:.1} s",
        started.elapsed().as_secs_f64()
    );
}

fn screen(database: &str) {
    let mut writer = yibao_store::open(database).expect("database");
    writer.lock_writer().expect("writer lock");
    let reader = yibao_store::open(database).expect("database");
    let platform = Platform::start(reader, writer, region()).expect("platform");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("runtime");
    for round in ["first", "second"] {
        let started = Instant::now();
        let answer = runtime
            .block_on(platform.admin(AdminRequest::Screen {
                from: NaiveDate::from_ymd_opt(2026, 1, 1).expect("date"),
                to: NaiveDate::from_ymd_opt(2026, 12, 31).expect("date"),
            }))
            .expect("screen");
        println!(
            "{round} screening: {:.1} s, {} settlements, {} lines, {} suspicions ({} new)",
            started.elapsed().as_secs_f64(),
            answer["settlements_screened"],
            answer["lines_screened"],
            answer["suspicions"],
            answer["new"]
        );
    }
}
