//! The monthly employee contribution run over 1,000,000 employees (80% in service, 10% retired,
//! 10% flexible, wages spread across and beyond the base bounds), against the Chongqing 2024
//! contribution policy. The target is under 30 s for the whole run with the store; the
//! arithmetic alone should take milliseconds.
//!
//! Run: `cargo bench -p yibao-enrol -- --sample-size 10`.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use yibao_enrol::{monthly_employee_run, ContributionPolicy, EmployeeContributionInput, EmployeeKind, YearMonth};
use yibao_money::Money;

const EMPLOYEES: usize = 1_000_000;

fn employees() -> Vec<EmployeeContributionInput> {
    // A fixed linear congruential sequence: the same wages on every run.
    let mut state: u64 = 0x2024_0501;
    (0..EMPLOYEES as u64)
        .map(|person_no| {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            let kind = match (state >> 33) % 10 {
                0 => EmployeeKind::Retired,
                1 => EmployeeKind::Flexible,
                _ => EmployeeKind::InService,
            };
            // 2,000.00 to 32,000.00 yuan: below the floor, within, and above the cap.
            let wage_fen = 200_000 + ((state >> 17) % 3_000_000) as i64;
            EmployeeContributionInput {
                person_no,
                kind,
                wage_monthly: Money::from_fen(wage_fen),
            }
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let source = include_str!("../../../policies/chongqing/contribution/2024.toml");
    let policy = ContributionPolicy::parse("chongqing/contribution/2024.toml", source).expect("policy loads");
    let employees = employees();
    let month = YearMonth { year: 2024, month: 5 };
    let mut group = c.benchmark_group("contribution");
    group.throughput(Throughput::Elements(EMPLOYEES as u64));
    group.bench_function("monthly_employee_run_1m", |b| {
        b.iter(|| monthly_employee_run(black_box(&policy), black_box(&employees), month))
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
