//! Settlement throughput on one core: outpatient visits of 10 lines and inpatient visits of
//! 200 lines, against the Chongqing 2023 policy and a 100,000-item catalog loaded once.
//!
//! Run: `cargo bench -p yibao-settle --bench settle`. Figures are recorded in BENCHMARKS.md.

use std::hint::black_box;

use chrono::NaiveDate;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use yibao_catalog::{Catalog, CatalogItem, Restriction};
use yibao_codes::{ChargeClass, HospitalLevel, InsuranceType, ItemCode, MedicalType, PersonType, Sex, Tier};
use yibao_money::{Money, Price, Quantity, Ratio};
use yibao_policy::load_policy;
use yibao_settle::{pre_settle, FeeLine, Person, SettleInput, Visit, YearToDate};

const CATALOG_ITEMS: usize = 100_000;

fn catalog() -> (Catalog, Vec<String>) {
    let mut catalog = Catalog::new();
    let mut codes = Vec::with_capacity(CATALOG_ITEMS);
    for n in 0..CATALOG_ITEMS {
        let code = match n % 3 {
            0 => format!("XJ01CAA{:03}A{:012}", n % 1000, n),
            1 => format!("{:015}", 1_000_000_000_000u64 + n as u64),
            _ => format!("C{:026}", n),
        };
        let class = match n % 10 {
            0 | 1 => ChargeClass::B,
            2 => ChargeClass::C,
            _ => ChargeClass::A,
        };
        catalog.insert(CatalogItem {
            code: ItemCode::parse(&code).unwrap(),
            name: format!("项目{n}"),
            class,
            first_self_pay: if class == ChargeClass::B {
                Ratio::percent(10)
            } else {
                Ratio::ZERO
            },
            first_self_pay_by_insurance: Vec::new(),
            price_cap: (n % 17 == 0).then(|| Price::parse("80").unwrap()),
            restriction: Restriction {
                days_max: (n % 29 == 0).then_some(14),
                ..Restriction::default()
            },
        });
        codes.push(code);
    }
    (catalog, codes)
}

fn visit(codes: &[String], lines: usize, medical_type: MedicalType, stride: usize) -> Visit {
    let begin = NaiveDate::from_ymd_opt(2024, 3, 1).unwrap();
    let days = if lines > 20 { 10 } else { 0 };
    Visit {
        visit_id: "V1".into(),
        medical_type,
        level: HospitalLevel::Level2,
        begin_date: begin,
        end_date: (days > 0).then(|| begin + chrono::Days::new(days)),
        in_county: true,
        referred: true,
        use_account: true,
        lines: (0..lines)
            .map(|i| FeeLine {
                sn: (i + 1).to_string(),
                code: codes[(i * stride) % codes.len()].clone(),
                quantity: Quantity::whole(1 + (i % 3) as i64),
                price: Price::from_millionths(((i % 50) as i64 + 1) * 3_210_000),
                amount: None,
                date: Some(begin + chrono::Days::new((i as u64) % (days + 1))),
                disease: None,
                refusal: None,
            })
            .collect(),
    }
}

fn bench(c: &mut Criterion) {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../../policies/chongqing/2023.toml");
    let policy = load_policy(root, &std::fs::read_to_string(root).unwrap()).unwrap();
    let (catalog, codes) = catalog();
    let employee = Person {
        person_no: "P1".into(),
        insurance: InsuranceType::EmployeeBasic,
        person_type: PersonType::parse("1101").unwrap(),
        sex: Sex::Male,
        birth_date: NaiveDate::from_ymd_opt(1980, 1, 1).unwrap(),
        tier: None,
        groups: Vec::new(),
        civil_servant: false,
        chronic_diseases: Vec::new(),
        benefits_from: None,
    };
    let resident = Person {
        insurance: InsuranceType::ResidentBasic,
        person_type: PersonType::parse("1501").unwrap(),
        tier: Some(Tier::One),
        groups: vec![yibao_codes::SpecialGroup::Dibao],
        ..employee.clone()
    };
    let ytd = YearToDate::new(2024);

    let outpatient = visit(&codes, 10, MedicalType::GeneralOutpatient, 7919);
    let input = SettleInput {
        policy: &policy,
        catalog: &catalog,
        person: &employee,
        ytd: &ytd,
        account_balance: Money::from_yuan(2000),
        family_account_balance: Money::ZERO,
        visit: &outpatient,
    };
    pre_settle(&input).unwrap().assert_invariants();
    let mut group = c.benchmark_group("settle");
    group.throughput(Throughput::Elements(1));
    group.bench_function("outpatient_10_lines", |b| {
        b.iter(|| pre_settle(black_box(&input)).unwrap())
    });

    let inpatient = visit(&codes, 200, MedicalType::GeneralInpatient, 4973);
    let input = SettleInput {
        person: &resident,
        visit: &inpatient,
        account_balance: Money::ZERO,
        family_account_balance: Money::ZERO,
        ..input
    };
    let s = pre_settle(&input).unwrap();
    assert!(
        s.funds.len() >= 3,
        "the inpatient visit runs basic, critical illness and assistance"
    );
    group.bench_function("inpatient_200_lines", |b| {
        b.iter(|| pre_settle(black_box(&input)).unwrap())
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
