//! Commit throughput: 1000 batches of 100 small ops on each backend.
//!
//! ```text
//! cargo run --release -p yibao-store --example throughput [-- BATCHES OPS_PER_BATCH]
//! ```
//!
//! SQLite runs in a temporary file (WAL, synchronous=FULL). PostgreSQL uses
//! `YIBAO_TEST_POSTGRES_URL` (default `postgres://postgres@127.0.0.1:5432/test`) in a schema of
//! its own, dropped at the end. Two shapes of batch are timed: ops grouped by kind (what the
//! PostgreSQL backend turns into a few multi-row statements) and ops interleaved per request
//! (audit, message, accumulator, balance, audit, …), which gives one statement per op.

use std::time::Instant;

use chrono::NaiveDate;
use yibao_codes::{InsuranceType, PersonType, Sex};
use yibao_money::Money;
use yibao_settle::Accumulator;
use yibao_store::*;

const PERSONS: usize = 1000;

fn person(i: usize) -> PersonRecord {
    PersonRecord {
        person_no: format!("P{i:06}"),
        certno: format!("5001021960010{i:05}"),
        name: "张三".into(),
        sex: Sex::Male,
        birth_date: NaiveDate::from_ymd_opt(1960, 1, 1).unwrap(),
        ethnicity: "01".into(),
        insurance: InsuranceType::EmployeeBasic,
        person_type: PersonType::parse("11").unwrap(),
        tier: None,
        groups: vec![],
        civil_servant: false,
        insured_admdvs: "500102".into(),
        employer_name: "某公司".into(),
        status: "1".into(),
        enrolled_on: NaiveDate::from_ymd_opt(2000, 1, 1).unwrap(),
        benefits_from: None,
        account_balance: Money::ZERO,
        family_payer: None,
    }
}

/// The `n`-th op of batch `b`: one of four small kinds, each quarter of the batch one kind
/// (`grouped`) or the kinds taking turns (`!grouped`).
fn op(b: usize, n: usize, per_batch: usize, grouped: bool, tag: &str) -> WriteOp {
    let quarter = per_batch.div_ceil(4);
    let (kind, k) = if grouped {
        (n / quarter, n % quarter)
    } else {
        (n % 4, n / 4)
    };
    let at = NaiveDate::from_ymd_opt(2024, 3, 1)
        .unwrap()
        .and_hms_opt(9, 0, 0)
        .unwrap();
    let id = format!("{tag}-{b}-{n}");
    let person_no = format!("P{:06}", (b * quarter + k) % PERSONS);
    match kind {
        0 => WriteOp::InsertAudit(AuditRecord {
            msgid: id,
            infno: "2207".into(),
            institution: "H1".into(),
            infcode: 0,
            duration_us: 850,
            at,
            message: String::new(),
        }),
        1 => WriteOp::InsertMessage(MessageRecord {
            msgid: id,
            infno: "2207".into(),
            institution: "H1".into(),
            received_at: at,
            response_json: r#"{"infcode":0,"output":{"setlinfo":{"setl_id":"S1"}}}"#.into(),
            request_digest: vec![7; 32],
        }),
        2 => WriteOp::SetAccumulator {
            person_no,
            year: 2024,
            key: "basic".into(),
            value: Accumulator {
                deductible: Money::from_fen(80_000),
                fund: Money::from_fen(b as i64),
                base: Money::from_fen(n as i64),
                visits: 1,
                admissions: 0,
            },
        },
        _ => WriteOp::SetAccountBalance {
            person_no,
            balance: Money::from_fen((b * n) as i64),
        },
    }
}

fn bench(name: &str, store: &mut dyn Store, batches: usize, per_batch: usize) {
    store.migrate().unwrap();
    let mut setup = WriteBatch::default();
    setup.push(WriteOp::UpsertInstitution(InstitutionRecord {
        code: "H1".into(),
        name: "医院".into(),
        hosp_lv: "02".into(),
        admdvs: "500102".into(),
        paas_id: "p".into(),
        secret: "s".into(),
        active: true,
    }));
    for i in 0..PERSONS {
        setup.push(WriteOp::UpsertPerson(person(i)));
    }
    store.commit(&setup).unwrap();
    for grouped in [true, false] {
        let tag = if grouped { "g" } else { "i" };
        let batch_list: Vec<WriteBatch> = (0..batches)
            .map(|b| WriteBatch {
                ops: (0..per_batch).map(|n| op(b, n, per_batch, grouped, tag)).collect(),
            })
            .collect();
        let start = Instant::now();
        for batch in &batch_list {
            store.commit(batch).unwrap();
        }
        let secs = start.elapsed().as_secs_f64();
        let ops = (batches * per_batch) as f64;
        println!(
            "{name:<10} {:<11} {batches} commits × {per_batch} ops in {secs:.2} s: {:>9.0} ops/s, {:>7.0} commits/s",
            if grouped { "grouped" } else { "interleaved" },
            ops / secs,
            batches as f64 / secs
        );
    }
    assert_eq!(
        store.audit_count().unwrap(),
        (2 * batches * per_batch.div_ceil(4)) as i64
    );
}

fn main() {
    let args: Vec<usize> = std::env::args().skip(1).map(|a| a.parse().expect("a number")).collect();
    let batches = args.first().copied().unwrap_or(1000);
    let per_batch = args.get(1).copied().unwrap_or(100);
    let unique = format!("{}_{}", std::process::id(), Instant::now().elapsed().as_nanos());

    let path = std::env::temp_dir().join(format!("yibao_throughput_{unique}.db"));
    {
        let mut store = open(&format!("sqlite://{}", path.display())).unwrap();
        bench("sqlite", store.as_mut(), batches, per_batch);
    }
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }

    let url = std::env::var("YIBAO_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_owned());
    let schema = format!("yibao_throughput_{unique}");
    let sep = if url.contains('?') { '&' } else { '?' };
    match open(&format!("{url}{sep}schema={schema}")) {
        Ok(mut store) => {
            bench("postgres", store.as_mut(), batches, per_batch);
            drop(store);
            let mut client = postgres::Client::connect(&url, postgres::NoTls).unwrap();
            client
                .batch_execute(&format!("DROP SCHEMA \"{schema}\" CASCADE"))
                .unwrap();
        }
        Err(e) => println!("postgres   skipped: {e}"),
    }
}
