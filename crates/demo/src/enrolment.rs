//! Demo enrolment files: employers and people to import (`yibao demo enrolment`), for trying
//! the bulk import and the contribution run at any scale. The people are the demo region's
//! (`demo_person`), so their citizen IDs are valid and unique up to [`DEMO_ENROLMENT_PERSONS_MAX`].

use chrono::NaiveDate;
use yibao_codes::{InsuranceType, PersonCategory, Tier};

use crate::{demo_person, SplitMix64, DEMO_ADMDVS};

/// The largest count of distinct demo people (their IDs are unique below it).
pub const DEMO_ENROLMENT_PERSONS_MAX: usize = 4_950_000;
/// Employers the demo people work for.
pub const DEMO_EMPLOYERS: usize = 2_000;

/// A demo employer: a valid unified social credit code and a name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DemoEmployer {
    pub credit_code: String,
    pub name: String,
}

/// Employer `index` (`91` 企业 + the demo division + a 9-digit serial + the check character).
pub fn demo_employer(index: usize) -> DemoEmployer {
    let first17 = format!("91{DEMO_ADMDVS}{:09}", index % 1_000_000_000);
    let check = yibao_enrol::CreditCode::check_char(first17.as_bytes()).expect("digits are in the charset") as char;
    DemoEmployer {
        credit_code: format!("{first17}{check}"),
        name: format!("重庆演示企业{index:04}有限公司"),
    }
}

/// One row of a demo enrolment file, in the columns `yibao enrol import` reads.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DemoEnrolmentRow {
    pub certno: String,
    pub name: String,
    pub insurance: InsuranceType,
    /// `in_service`, `retired`, `student`, `child`, `adult_resident`, `elderly`.
    pub kind: &'static str,
    pub employer: Option<String>,
    /// 元, whole.
    pub wage_monthly: Option<u32>,
    pub tier: Option<Tier>,
    pub county_class: Option<&'static str>,
    pub applied_on: NaiveDate,
}

/// Person `index` as an enrolment in the 2026 insurance year (inside its collection window).
pub fn demo_enrolment_row(index: usize) -> DemoEnrolmentRow {
    assert!(
        index < DEMO_ENROLMENT_PERSONS_MAX,
        "demo IDs are unique below the maximum"
    );
    let p = demo_person(index);
    let mut rng = SplitMix64::new(0x0045_4e52_4f4c ^ index as u64);
    let age_2026 = 2026 - chrono::Datelike::year(&p.birth_date);
    let employee = p.insurance == InsuranceType::EmployeeBasic;
    let kind = match (employee, p.person_type) {
        (true, t) if t.category() == PersonCategory::Retired => "retired",
        (true, _) => "in_service",
        (false, _) if age_2026 >= 60 => "elderly",
        (false, _) if age_2026 < 7 => "child",
        (false, _) if age_2026 < 18 => "student",
        (false, _) => "adult_resident",
    };
    let in_service = kind == "in_service";
    DemoEnrolmentRow {
        certno: p.certno,
        name: p.name,
        insurance: p.insurance,
        kind,
        employer: in_service.then(|| demo_employer(index % DEMO_EMPLOYERS).credit_code),
        // Declared wages from 3,000 to 30,000 元 a month: some below the floor, some above the cap.
        wage_monthly: (employee && kind != "retired").then(|| 3_000 + rng.below(27_001) as u32),
        tier: (!employee).then(|| {
            if matches!(kind, "adult_resident" | "elderly") && rng.below(100) < 30 {
                Tier::Two
            } else {
                Tier::One
            }
        }),
        county_class: (!employee).then_some("district_county"),
        applied_on: NaiveDate::from_ymd_opt(2026, 1, 2 + rng.below(27) as u32).expect("a January day"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn employers_have_valid_unique_codes() {
        let mut codes: Vec<String> = (0..DEMO_EMPLOYERS).map(|i| demo_employer(i).credit_code).collect();
        for code in &codes {
            yibao_enrol::CreditCode::parse(code).unwrap();
        }
        codes.sort();
        codes.dedup();
        assert_eq!(codes.len(), DEMO_EMPLOYERS);
    }

    #[test]
    fn rows_are_deterministic_and_consistent() {
        for i in 0..2_000 {
            let row = demo_enrolment_row(i);
            assert_eq!(row, demo_enrolment_row(i));
            assert_eq!(row.employer.is_some(), row.kind == "in_service", "{row:?}");
            assert_eq!(row.tier.is_some(), row.insurance == InsuranceType::ResidentBasic);
        }
    }
}
