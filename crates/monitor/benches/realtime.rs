//! The real-time rules' cost per claim on one core: what 3101/3102 and every settlement add.
//! Claims of 10 lines (an outpatient visit) and 200 lines (an inpatient stay), checked against
//! the whole 两库 (data/liangku, 14,545 codes and 900 duplicate pairs) with the demo region's
//! rule file; lines whose codes no knowledge point names (most of a real bill) and lines that
//! every family finds something in.
//!
//! Run: `cargo bench -p yibao-monitor --bench realtime`. Figures are recorded in BENCHMARKS.md.

use std::hint::black_box;
use std::path::Path;

use chrono::NaiveDate;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use yibao_codes::{CareSetting, HospitalLevel, InsuranceType, Sex};
use yibao_money::{Money, Price, Quantity, Rounding};
use yibao_monitor::{check_claim, refusals, Claim, ClaimLine, KnowledgeBase, MonitorPolicy};

fn root() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
}

fn knowledge() -> KnowledgeBase {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(root().join("data/liangku")).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_str().unwrap().to_owned();
        files.push((name, std::fs::read_to_string(&path).unwrap()));
    }
    KnowledgeBase::read(&files).unwrap()
}

fn rules() -> MonitorPolicy {
    let text = std::fs::read_to_string(root().join("policies/chongqing/monitor/2026.toml")).unwrap();
    MonitorPolicy::parse("2026.toml", &text).unwrap()
}

/// Codes the 两库 name, one per family (and a duplicate pair).
const SUPERVISED: &[&str] = &[
    "ZD03AAA0043010100166",
    "ZA04CAE0023010100166",
    "002101030280000",
    "ZH01AAB0066010100716",
    "XB05BAU005B002010101415",
    "ZA05CAC0029010102312",
    "XB01AXA223B002010100156",
    "001102000050000",
    "001103000010000",
    "001102000030000",
    "003310010140000",
    "003310010160000",
    "002503020030000",
];

fn claim_lines(lines: usize, supervised: bool) -> Vec<ClaimLine> {
    let start = NaiveDate::from_ymd_opt(2026, 3, 1)
        .unwrap()
        .and_hms_opt(9, 0, 0)
        .unwrap();
    (0..lines)
        .map(|i| {
            let code = if supervised {
                SUPERVISED[i % SUPERVISED.len()].to_owned()
            } else {
                format!("XJ01CAA{:03}A{:012}", i % 1000, i)
            };
            let price = Price::parse("45.5").unwrap();
            let quantity = Quantity::whole(2);
            ClaimLine {
                sn: i.to_string(),
                code,
                quantity,
                price,
                amount: Money::from_price_quantity(price, quantity, Rounding::HalfUp),
                at: start + chrono::Duration::hours((i / 10) as i64 * 24),
                list_price: Some(price),
            }
        })
        .collect::<Vec<_>>()
}

fn bench(c: &mut Criterion) {
    let kb = knowledge();
    let policy = rules();
    let mut group = c.benchmark_group("realtime_rules");
    for (name, lines, supervised) in [
        ("10_lines_unlisted", 10, false),
        ("10_lines_all_listed", 10, true),
        ("200_lines_unlisted", 200, false),
        ("200_lines_all_listed", 200, true),
    ] {
        let lines = claim_lines(lines, supervised);
        let claim = Claim {
            sex: Sex::Male,
            birth_date: NaiveDate::from_ymd_opt(1950, 6, 1).unwrap(),
            insurance: InsuranceType::EmployeeBasic,
            setting: CareSetting::Outpatient,
            level: HospitalLevel::Level1,
            begin_date: NaiveDate::from_ymd_opt(2026, 3, 1).unwrap(),
            lines: &lines,
        };
        let found = check_claim(&kb, &policy, &claim, Rounding::HalfUp);
        assert_eq!(found.is_empty(), !supervised, "{name}: findings only where listed");
        group.throughput(Throughput::Elements(1));
        group.bench_function(name, |b| {
            b.iter(|| {
                let findings = check_claim(black_box(&kb), &policy, black_box(&claim), Rounding::HalfUp);
                black_box(refusals(&findings))
            })
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
