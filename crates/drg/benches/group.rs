//! Grouping throughput on a mix of constructed cases; the tables are loaded once.

use std::hint::black_box;
use std::time::Instant;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use yibao_drg::{classify, group, Case, DischargeMethod, Sex, TableTexts, Tables};

const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../data");

fn read(path: &str) -> String {
    std::fs::read_to_string(format!("{DATA}/{path}")).expect("read table")
}

fn load() -> Tables {
    let f: Vec<String> = [
        "chs-drg-1.1/1_MDC.txt",
        "chs-drg-1.1/2_ADRG.txt",
        "chs-drg-1.1/3_DRG.txt",
        "chs-drg-1.1/4_ADRG_DETAIL.txt",
        "chs-drg-1.1/5_MCC.txt",
        "chs-drg-1.1/6_CC.txt",
        "chs-drg-1.1/7_CCE.txt",
        "icd/icd10-yibao-2.0.dat",
        "icd/icd10-yibao-2.0-greycodes.dat",
        "icd/icd9cm3-yibao-2.0.dat",
        "icd/icd9cm3-yibao-2.0-greycodes.dat",
    ]
    .iter()
    .map(|p| read(p))
    .collect();
    Tables::load(&TableTexts {
        mdc: &f[0],
        adrg: &f[1],
        drg: &f[2],
        adrg_detail: &f[3],
        mcc: &f[4],
        cc: &f[5],
        cc_exclusions: &f[6],
        diagnoses: &f[7],
        diagnosis_grey: &f[8],
        procedures: &f[9],
        procedure_grey: &f[10],
    })
    .expect("tables load")
}

fn case(sex: Sex, age_years: u16, diagnoses: &[&str], procedures: &[&str]) -> Case {
    Case {
        sex,
        age_years,
        age_days: (age_years == 0).then_some(5),
        birth_weight_g: (age_years == 0).then_some(2200),
        los_days: 7,
        discharge_method: DischargeMethod::Ordered,
        diagnoses: diagnoses.iter().map(|s| s.to_string()).collect(),
        procedures: procedures.iter().map(|s| s.to_string()).collect(),
        ventilation_hours: 0,
    }
}

fn mix() -> Vec<Case> {
    vec![
        case(Sex::Male, 61, &["I21.001", "E11.900", "I10.x00"], &["36.0601"]),
        case(Sex::Male, 61, &["I21.001", "I50.900"], &[]),
        case(Sex::Male, 61, &["I21.001"], &["51.2300"]),
        case(Sex::Male, 50, &["I21.001"], &["37.5100"]),
        case(Sex::Female, 70, &["J18.900", "J96.000"], &["96.7201"]),
        case(Sex::Male, 40, &["B37.100", "B35.000"], &[]),
        case(Sex::Male, 40, &["B06.800", "B35.000", "I21.000"], &[]),
        case(Sex::Male, 68, &["C61.x00", "N40.x00"], &["60.5x02"]),
        case(Sex::Female, 45, &["C53.000", "D64.900"], &[]),
        case(Sex::Female, 0, &["P07.300x001", "P22.000"], &[]),
        case(Sex::Male, 30, &["S01.800x011", "S21.101"], &[]),
        case(Sex::Male, 30, &["XYZ.123"], &[]),
    ]
}

fn bench(c: &mut Criterion) {
    let tables = load();
    let cases = mix();
    let mut g = c.benchmark_group("group");
    g.throughput(Throughput::Elements(cases.len() as u64));
    g.bench_function("classify (no explanation)", |b| {
        b.iter(|| {
            for case in &cases {
                black_box(classify(&tables, black_box(case)));
            }
        })
    });
    g.bench_function("group (with explanation)", |b| {
        b.iter(|| {
            for case in &cases {
                black_box(group(&tables, black_box(case)));
            }
        })
    });
    g.finish();

    // A plain cases/s figure for the report.
    for (label, f) in [("classify", classify as fn(&Tables, &Case) -> _), ("group", group)] {
        let rounds = 100_000;
        let start = Instant::now();
        for _ in 0..rounds {
            for case in &cases {
                black_box(f(&tables, black_box(case)));
            }
        }
        let per_s = (rounds * cases.len()) as f64 / start.elapsed().as_secs_f64();
        println!("{label}: {per_s:.0} cases/s (single thread, {} case mix)", cases.len());
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
