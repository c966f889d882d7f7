//! Catalog build over 1,000,000 synthetic historical cases (the target is under 10 s).
//!
//! The cases are deterministic (SplitMix64 with fixed seeds): 3 years, 200 hospitals of the three
//! levels. Two regions: a realistic one (most cases in core groups) and a long-tail worst case
//! (most keys seen once). Generation is outside the timed part.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use yibao_codes::HospitalLevel;
use yibao_dip::{Catalog, DipParams, HistoricalCase, ProcedureClassifier};
use yibao_money::Money;

const CASES: usize = 1_000_000;
const YEARS: [i32; 3] = [2021, 2022, 2023];

/// SplitMix64 (Steele, Lea, Flood 2014): tiny and deterministic.
struct SplitMix64(u64);

impl SplitMix64 {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    /// Skewed toward small values: the minimum of two draws.
    fn skewed(&mut self, n: u64) -> u64 {
        self.below(n).min(self.below(n))
    }
}

/// A region like a real one: diagnoses skewed toward the common ones, each with a few usual
/// procedures, so that most cases fall in core groups (about 10% fold into comprehensive groups).
fn realistic_cases() -> Vec<HistoricalCase> {
    let mut rng = SplitMix64(0x4449_5031); // "DIP1"
    (0..CASES)
        .map(|i| {
            let dx = rng.skewed(3_000).min(rng.below(3_000));
            let procedures = match rng.below(10) {
                0..=3 => Vec::new(),
                n => {
                    let main = (dx * 13 + rng.skewed(12)) % 5_000;
                    let mut p = vec![procedure(main, rng.below(2))];
                    if n == 9 {
                        p.push(procedure((main + 1 + rng.skewed(6)) % 5_000, 0));
                    }
                    p
                }
            };
            historical(&mut rng, i, dx, procedures)
        })
        .collect()
}

/// A worst case for the table: ~2,000 subcategories with any of 9,000 procedure codes, 0–3 at a
/// time, so that most keys are seen once and three quarters of the cases fold.
fn long_tail_cases() -> Vec<HistoricalCase> {
    let mut rng = SplitMix64(0x4449_5032);
    (0..CASES)
        .map(|i| {
            let dx = rng.skewed(2_000);
            let procedures = (0..rng.below(4))
                .map(|_| procedure(rng.skewed(3_000), rng.below(3)))
                .collect();
            historical(&mut rng, i, dx, procedures)
        })
        .collect()
}

fn procedure(p: u64, variant: u64) -> String {
    format!("{:02}.{:02}{variant:02}", p % 100, (p / 100) % 100)
}

fn historical(rng: &mut SplitMix64, i: usize, dx: u64, procedures: Vec<String>) -> HistoricalCase {
    let letter = char::from(b'A' + (dx % 26) as u8);
    let principal_diagnosis = format!("{letter}{:02}.{}{:02}", (dx / 26) % 100, (dx / 7) % 10, rng.below(20));
    let hospital = rng.below(200);
    HistoricalCase {
        case_id: format!("C{i:07}"),
        year: YEARS[rng.below(3) as usize],
        hospital_id: format!("H{hospital:03}"),
        hospital_level: HospitalLevel::ALL[(hospital % 3) as usize],
        principal_diagnosis,
        procedures,
        total_cost: Money::from_fen(100_000 + rng.skewed(20_000_000) as i64),
    }
}

fn params() -> DipParams {
    toml::from_str(
        r#"
        core_case_count_min = 15
        year_weights = [1, 2, 7]
        low_multiple = 0.5
        high_multiple = 2
        reimbursement_ratio = 0.7
        level_coefficients = { level_1 = 0.85, level_2 = 0.95, level_3 = 1 }
        "#,
    )
    .expect("params")
}

fn build(c: &mut Criterion) {
    let params = params();
    let classifier = ProcedureClassifier::default();
    let mut group = c.benchmark_group("dip");
    group.throughput(Throughput::Elements(CASES as u64));
    for (name, cases) in [
        ("catalog_build_1m_cases", realistic_cases()),
        ("catalog_build_1m_cases_long_tail", long_tail_cases()),
    ] {
        let catalog = Catalog::build(&cases, &YEARS, &params, &classifier).expect("build");
        let summary = catalog.summary().expect("summary");
        eprintln!(
            "{name}: {CASES} cases → {} core groups, {} comprehensive groups ({} cases folded); M={}, 预算点值={}",
            summary.core_group_count,
            summary.comprehensive_group_count,
            summary.comprehensive_case_count,
            summary.overall_average_cost,
            summary.budget_point_value.map_or("-".into(), |v| v.to_string())
        );
        drop(catalog);
        group.bench_function(name, |b| {
            b.iter(|| Catalog::build(black_box(&cases), &YEARS, &params, &classifier).expect("build"))
        });
    }
    group.finish();
}

criterion_group!(benches, build);
criterion_main!(benches);
