//! Shared fixtures: the two policy files in the repository, and people to enrol.
#![allow(dead_code)]

use chrono::NaiveDate;
use yibao_enrol::{ContributionPolicy, Person, PersonRecords, RegionCode};

pub const CHONGQING_2024: &str = include_str!("../../../../policies/chongqing/contribution/2024.toml");
pub const GUANGXI_2022: &str = include_str!("../../../../policies/guangxi-unconfirmed/contribution/2022.toml");

pub fn chongqing() -> ContributionPolicy {
    ContributionPolicy::parse("chongqing/contribution/2024.toml", CHONGQING_2024).unwrap()
}

pub fn guangxi() -> ContributionPolicy {
    ContributionPolicy::parse("guangxi-unconfirmed/contribution/2022.toml", GUANGXI_2022).unwrap()
}

pub fn date(text: &str) -> NaiveDate {
    NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap()
}

pub fn region(text: &str) -> RegionCode {
    RegionCode::parse(text).unwrap()
}

/// A valid citizen ID with the given region, birth date (yyyymmdd) and sequence.
pub fn citizen_id(region: &str, birth: &str, sequence: &str) -> String {
    let body = format!("{region}{birth}{sequence}");
    let check = yibao_codes::CitizenId::check_char(body.as_bytes()) as char;
    format!("{body}{check}")
}

pub fn person(birth: &str) -> PersonRecords {
    PersonRecords::new(Person::new(&citizen_id("500103", birth, "123"), "张三").unwrap())
}

/// Real published codes (GB 32100-2015 check characters).
pub const HUAWEI: &str = "914403001922038216";
pub const TENCENT: &str = "9144030071526726XG";
pub const ALIBABA: &str = "91330100716105852F";
pub const BYD: &str = "91440300192317458F";
pub const ICBC: &str = "91100000100003962T";
/// A code made for tests in Chongqing (division 500103) with a computed check character.
pub fn chongqing_employer_code() -> String {
    let body = "91500103MA5U000001";
    let check = yibao_enrol::CreditCode::check_char(&body.as_bytes()[..17]).unwrap() as char;
    format!("{}{check}", &body[..17])
}

use yibao_codes::{InsuranceType, Tier};
use yibao_enrol::{Command, CreditCode, Enrolment, PersonKind, Relationship, Status, StatusPeriod};

/// Adds a past relationship directly to the records (as the store would load it): enrolled and
/// paying from `from` to `to`.
pub fn past_relationship(
    records: &mut PersonRecords,
    insurance: InsuranceType,
    region_code: &str,
    from: &str,
    to: Option<&str>,
) -> u32 {
    let no = records.relationships.iter().map(|r| r.no).max().unwrap_or(0) + 1;
    let kind = if insurance == InsuranceType::EmployeeBasic {
        PersonKind::Flexible
    } else {
        PersonKind::AdultResident
    };
    records.relationships.push(Relationship {
        no,
        insurance,
        region: region(region_code),
        employer: None,
        kind,
        tier: None,
        county_class: None,
        history: vec![StatusPeriod {
            status: Status::Enrolled,
            from: date(from),
            to: to.map(date),
            benefits_from: Some(date(from)),
            waiting: None,
            reason: "历史记录".into(),
        }],
        carried_months: 0,
        transferred_from: None,
        transferred_to: None,
    });
    no
}

pub fn resident_enrolment(applied_on: &str) -> Enrolment {
    Enrolment {
        insurance: InsuranceType::ResidentBasic,
        region: region("500000"),
        employer: None,
        kind: PersonKind::AdultResident,
        tier: Some(Tier::One),
        county_class: Some("district_county".into()),
        applied_on: date(applied_on),
        repaired_years: 0,
    }
}

pub fn employee_enrolment(region_code: &str, applied_on: &str) -> Enrolment {
    Enrolment {
        insurance: InsuranceType::EmployeeBasic,
        region: region(region_code),
        employer: Some(CreditCode::parse(&chongqing_employer_code()).unwrap()),
        kind: PersonKind::InService,
        tier: None,
        county_class: None,
        applied_on: date(applied_on),
        repaired_years: 0,
    }
}

pub fn enrol(records: &PersonRecords, enrolment: Enrolment, policy: &ContributionPolicy) -> PersonRecords {
    yibao_enrol::apply(records, &Command::Enrol(enrolment), policy)
        .unwrap()
        .records
}
