//! Screening's cost on one core: 100,000 settled visits of 10 lines each (1,000,000 lines) of
//! 20,000 persons over a month, a fifth of them inpatient, a few lines of each visit with codes
//! the 两库 name, checked with every rule of the demo region's file and the rules over a
//! person's visits.
//!
//! Run: `cargo bench -p yibao-monitor --bench screen`. Figures are recorded in BENCHMARKS.md.

use std::hint::black_box;
use std::path::Path;

use chrono::{Duration, NaiveDate};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use yibao_codes::{CareSetting, HospitalLevel, InsuranceType, Sex};
use yibao_money::{Money, Price, Quantity, Rounding};
use yibao_monitor::{screen, ClaimLine, KnowledgeBase, MonitorPolicy, ScreenVisit};

const VISITS: usize = 100_000;
const LINES_PER_VISIT: usize = 10;
const PERSONS: usize = 20_000;

fn root() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
}

const LISTED: &[&str] = &[
    "ZD03AAA0043010100166",
    "001102000050000",
    "001103000010000",
    "001102000030000",
    "002503020030000",
    "001109000010000",
    "001201000030000",
];

fn visits() -> Vec<ScreenVisit> {
    let start = NaiveDate::from_ymd_opt(2026, 3, 1)
        .unwrap()
        .and_hms_opt(8, 0, 0)
        .unwrap();
    (0..VISITS)
        .map(|v| {
            let inpatient = v % 5 == 0;
            let begin = start + Duration::hours((v * 7 % (30 * 24)) as i64);
            let end = if inpatient { begin + Duration::days(5) } else { begin };
            let lines = (0..LINES_PER_VISIT)
                .map(|l| {
                    let code = if l < 3 {
                        LISTED[(v + l) % LISTED.len()].to_owned()
                    } else {
                        format!("XJ01CAA{:03}A{:012}", l, v)
                    };
                    let price = Price::parse("35").unwrap();
                    let quantity = Quantity::whole(1);
                    ClaimLine {
                        sn: l.to_string(),
                        code,
                        quantity,
                        price,
                        amount: Money::from_price_quantity(price, quantity, Rounding::HalfUp),
                        at: begin + Duration::hours(if inpatient { (l * 12) as i64 } else { 0 }),
                        list_price: None,
                    }
                })
                .collect::<Vec<_>>();
            ScreenVisit {
                settlement_id: format!("S{v}"),
                visit_id: format!("V{v}"),
                person_no: format!("P{}", v % PERSONS),
                institution: format!("H{}", v % 50),
                sex: if v % 2 == 0 { Sex::Male } else { Sex::Female },
                birth_date: NaiveDate::from_ymd_opt(1940 + (v % 70) as i32, 1, 1).unwrap(),
                insurance: InsuranceType::EmployeeBasic,
                setting: if inpatient {
                    CareSetting::Inpatient
                } else {
                    CareSetting::Outpatient
                },
                level: HospitalLevel::Level2,
                begin,
                end,
                diagnosis: Some("I63.900".into()),
                doctor: None,
                fund_paid: Money::from_yuan(100),
                refused: vec![false; lines.len()],
                not_covered: None,
                lines,
            }
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(root().join("data/liangku")).unwrap() {
        let path = entry.unwrap().path();
        files.push((
            path.file_name().unwrap().to_str().unwrap().to_owned(),
            std::fs::read_to_string(&path).unwrap(),
        ));
    }
    let kb = KnowledgeBase::read(&files).unwrap();
    let text = std::fs::read_to_string(root().join("policies/chongqing/monitor/2026.toml")).unwrap();
    let policy = MonitorPolicy::parse("2026.toml", &text).unwrap();
    let policy_on = |d: NaiveDate| policy.is_effective_on(d).then_some(&policy);
    let visits = visits();
    let from = NaiveDate::from_ymd_opt(2026, 3, 1).unwrap();
    let found = screen(&kb, &policy_on, &visits, from, Rounding::HalfUp);
    assert!(!found.is_empty(), "the generated month has suspicions");
    println!("{} suspicions in {} visits", found.len(), visits.len());
    let mut group = c.benchmark_group("screen");
    group.sample_size(10);
    group.throughput(Throughput::Elements((VISITS * LINES_PER_VISIT) as u64));
    group.bench_function("100k_visits_1m_lines", |b| {
        b.iter(|| black_box(screen(&kb, &policy_on, black_box(&visits), from, Rounding::HalfUp)).len())
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
