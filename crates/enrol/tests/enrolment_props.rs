//! Properties over arbitrary command sequences: whatever is accepted, a person is never enrolled
//! and paying in two basic schemes or two regions on the same day, histories stay ordered, and
//! `coverage_on` answers for every day without panicking. A refused command changes nothing
//! (the operations are pure: the records passed in are left as they were).

mod common;

use chrono::{Days, NaiveDate};
use common::*;
use proptest::prelude::*;
use yibao_codes::InsuranceType;
use yibao_enrol::*;

#[derive(Clone, Debug)]
enum Op {
    EnrolEmployee { day: u64, region: usize },
    EnrolResident { day: u64, region: usize },
    Suspend { rel: u32, day: u64 },
    Resume { rel: u32, day: u64 },
    Terminate { rel: u32, day: u64 },
    TransferOut { rel: u32, day: u64, region: usize },
    TransferIn { rel: u32, day: u64, region: usize },
}

const REGIONS: [&str; 2] = ["500000", "500103"];

fn day(offset: u64) -> NaiveDate {
    date("2023-09-01").checked_add_days(Days::new(offset)).unwrap()
}

fn op() -> impl Strategy<Value = Op> {
    let d = 0u64..500;
    prop_oneof![
        (d.clone(), 0usize..2).prop_map(|(day, region)| Op::EnrolEmployee { day, region }),
        (d.clone(), 0usize..2).prop_map(|(day, region)| Op::EnrolResident { day, region }),
        (1u32..4, d.clone()).prop_map(|(rel, day)| Op::Suspend { rel, day }),
        (1u32..4, d.clone()).prop_map(|(rel, day)| Op::Resume { rel, day }),
        (1u32..4, d.clone()).prop_map(|(rel, day)| Op::Terminate { rel, day }),
        (1u32..4, d.clone(), 0usize..2).prop_map(|(rel, day, region)| Op::TransferOut { rel, day, region }),
        (1u32..4, d, 0usize..2).prop_map(|(rel, day, region)| Op::TransferIn { rel, day, region }),
    ]
}

/// Days are steps forward from the previous command, so sequences read like a person's history.
fn step(op: &Op) -> u64 {
    match *op {
        Op::EnrolEmployee { day, .. }
        | Op::EnrolResident { day, .. }
        | Op::Suspend { day, .. }
        | Op::Resume { day, .. }
        | Op::Terminate { day, .. }
        | Op::TransferOut { day, .. }
        | Op::TransferIn { day, .. } => day % 90,
    }
}

fn command(op: &Op, at: u64) -> Command {
    match *op {
        Op::EnrolEmployee { day: _, region: r } => Command::Enrol(Enrolment {
            employer: None,
            kind: PersonKind::Flexible,
            ..employee_enrolment(REGIONS[r], &day(at).to_string())
        }),
        Op::EnrolResident { day: _, region: r } => Command::Enrol(Enrolment {
            region: region(REGIONS[r]),
            ..resident_enrolment(&day(at).to_string())
        }),
        Op::Suspend { rel, day: _ } => Command::Suspend {
            relationship: rel,
            on: day(at),
            reason: "停缴".into(),
        },
        Op::Resume { rel, day: _ } => Command::Resume {
            relationship: rel,
            on: day(at),
        },
        Op::Terminate { rel, day: _ } => Command::Terminate {
            relationship: rel,
            on: day(at),
            reason: "终止".into(),
        },
        Op::TransferOut { rel, day: _, region: r } => Command::TransferOut {
            relationship: rel,
            on: day(at),
            to_region: region(REGIONS[r]),
        },
        Op::TransferIn { rel, day: _, region: r } => Command::TransferIn(TransferIn {
            from_relationship: rel,
            region: region(REGIONS[r]),
            employer: None,
            kind: PersonKind::Flexible,
            on: day(at),
        }),
    }
}

fn check_invariants(records: &PersonRecords) -> Result<(), TestCaseError> {
    let mut days = vec![];
    for r in &records.relationships {
        for pair in r.history.windows(2) {
            prop_assert!(
                pair[0].to.is_some_and(|to| to < pair[1].from),
                "ordered periods: {:?}",
                r.history
            );
        }
        for p in &r.history {
            prop_assert!(p.to.is_none_or(|to| to >= p.from), "period ends after it starts");
            days.push(p.from);
            days.extend(p.to);
        }
    }
    for d in days {
        let enrolled: Vec<_> = records
            .relationships
            .iter()
            .filter(|r| r.insurance.is_basic() && r.is_enrolled_on(d))
            .map(|r| (r.no, r.insurance, r.region.clone()))
            .collect();
        prop_assert!(enrolled.len() <= 1, "{d}: {enrolled:?}");
        for insurance in [InsuranceType::EmployeeBasic, InsuranceType::ResidentBasic] {
            let _ = coverage_on(records, insurance, d);
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]
    #[test]
    fn never_enrolled_twice(ops in proptest::collection::vec(op(), 1..40)) {
        let policy = chongqing();
        let mut records = person("19800101");
        let mut at = 0;
        for op in &ops {
            at += step(op);
            let before = records.clone();
            match apply(&records, &command(op, at), &policy) {
                Ok(applied) => {
                    records = applied.records;
                    check_invariants(&records)?;
                }
                Err(_) => prop_assert_eq!(&records, &before),
            }
        }
        let json = serde_json::to_string(&records).unwrap();
        prop_assert_eq!(serde_json::from_str::<PersonRecords>(&json).unwrap(), records);
    }
}
