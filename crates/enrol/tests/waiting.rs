//! Every waiting-period branch (national-facts §8, seed 000), first as the bare rule, then end
//! to end through enrolment and `coverage_on`.

mod common;

use common::*;
use yibao_codes::{InsuranceType, SpecialGroup};
use yibao_enrol::waiting::exemption;
use yibao_enrol::*;

#[test]
fn the_rule_by_branch() {
    let rule = chongqing().waiting_period;
    // in window, lapsed years, repaired years, exemption → branch, months
    let cases = [
        (true, 0, 0, None, WaitingBranch::InWindowContinuous, 0),
        (false, 0, 0, None, WaitingBranch::Fixed, 3),
        (false, 1, 0, None, WaitingBranch::FixedPlusLapse, 4),
        (true, 2, 0, None, WaitingBranch::FixedPlusLapse, 5),
        (false, 3, 2, None, WaitingBranch::FixedPlusLapse, 4),
        (false, 3, 3, None, WaitingBranch::FixedPlusLapse, 3),
        (false, 4, 0, None, WaitingBranch::FixedPlusLapse, 7),
        (false, 4, 1, None, WaitingBranch::FixedPlusLapse, 6),
        (false, 4, 4, None, WaitingBranch::LongLapseMinimum, 6),
        (false, 10, 10, None, WaitingBranch::LongLapseMinimum, 6),
        (false, 10, 0, None, WaitingBranch::FixedPlusLapse, 13),
        (false, 5, 0, Some(Exemption::Newborn), WaitingBranch::Exempt, 0),
        (false, 5, 0, Some(Exemption::Transfer), WaitingBranch::Exempt, 0),
    ];
    for (in_window, lapsed_years, repaired_years, exemption, branch, months) in cases {
        let facts = WaitingFacts {
            covered_from: date("2025-03-01"),
            in_window,
            lapsed_years,
            repaired_years,
            exemption,
        };
        let d = decide_waiting(&rule, facts);
        assert_eq!((d.branch, d.months), (branch, months), "{facts:?}");
        assert_eq!(
            d.benefits_from,
            date("2025-03-01")
                .checked_add_months(chrono::Months::new(months))
                .unwrap()
        );
    }
}

#[test]
fn guangxi_2022_has_no_lapse_months() {
    let rule = guangxi().waiting_period;
    let facts = WaitingFacts {
        covered_from: date("2022-03-01"),
        in_window: false,
        lapsed_years: 5,
        repaired_years: 0,
        exemption: None,
    };
    assert_eq!(decide_waiting(&rule, facts).months, 3);
}

struct Case {
    name: &'static str,
    birth: &'static str,
    /// (insurance, from, to) of earlier coverage.
    history: &'static [(InsuranceType, &'static str, Option<&'static str>)],
    groups: &'static [SpecialGroup],
    applied_on: &'static str,
    repaired_years: u32,
    covered_from: &'static str,
    branch: WaitingBranch,
    months: u32,
    benefits_from: &'static str,
    explanation: &'static str,
}

const RESIDENT: InsuranceType = InsuranceType::ResidentBasic;
const EMPLOYEE: InsuranceType = InsuranceType::EmployeeBasic;

const CASES: &[Case] = &[
    Case {
        name: "renewal in the window",
        birth: "19900101",
        history: &[(RESIDENT, "2023-01-01", Some("2023-12-31"))],
        groups: &[],
        applied_on: "2023-12-01",
        repaired_years: 0,
        covered_from: "2024-01-01",
        branch: WaitingBranch::InWindowContinuous,
        months: 0,
        benefits_from: "2024-01-01",
        explanation: "在集中参保期内连续参保,不设待遇等待期",
    },
    Case {
        name: "first enrolment after the window",
        birth: "19900101",
        history: &[],
        groups: &[],
        applied_on: "2024-04-15",
        repaired_years: 0,
        covered_from: "2024-04-01",
        branch: WaitingBranch::Fixed,
        months: 3,
        benefits_from: "2024-07-01",
        explanation: "未在集中参保期内参保,固定待遇等待期3个月,自2024-07-01起享受待遇",
    },
    Case {
        name: "two lapsed years, after the window",
        birth: "19900101",
        history: &[(RESIDENT, "2021-01-01", Some("2021-12-31"))],
        groups: &[],
        applied_on: "2024-04-15",
        repaired_years: 0,
        covered_from: "2024-04-01",
        branch: WaitingBranch::FixedPlusLapse,
        months: 5,
        benefits_from: "2024-09-01",
        explanation: "断保2年(已修复0年),固定加变动待遇等待期共5个月,自2024-09-01起享受待遇",
    },
    Case {
        name: "two lapsed years, in the window: the lapse still counts",
        birth: "19900101",
        history: &[(RESIDENT, "2021-01-01", Some("2021-12-31"))],
        groups: &[],
        applied_on: "2023-10-01",
        repaired_years: 0,
        covered_from: "2024-01-01",
        branch: WaitingBranch::FixedPlusLapse,
        months: 5,
        benefits_from: "2024-06-01",
        explanation: "断保2年(已修复0年),固定加变动待遇等待期共5个月,自2024-06-01起享受待遇",
    },
    Case {
        name: "five lapsed years, four repaired: at least six months",
        birth: "19900101",
        history: &[(EMPLOYEE, "2015-01-01", Some("2018-06-30"))],
        groups: &[],
        applied_on: "2024-04-15",
        repaired_years: 4,
        covered_from: "2024-04-01",
        branch: WaitingBranch::LongLapseMinimum,
        months: 6,
        benefits_from: "2024-10-01",
        explanation: "连续断保5年及以上,修复后待遇等待期不少于6个月,自2024-10-01起享受待遇",
    },
    Case {
        name: "newborn",
        birth: "20240310",
        history: &[],
        groups: &[],
        applied_on: "2024-04-20",
        repaired_years: 0,
        covered_from: "2024-04-01",
        branch: WaitingBranch::Exempt,
        months: 0,
        benefits_from: "2024-04-01",
        explanation: "新生儿参保,不设待遇等待期",
    },
    Case {
        name: "rural low-income group (低保), lapsed",
        birth: "19600101",
        history: &[(RESIDENT, "2019-01-01", Some("2019-12-31"))],
        groups: &[SpecialGroup::Dibao],
        applied_on: "2024-05-06",
        repaired_years: 0,
        covered_from: "2024-05-01",
        branch: WaitingBranch::Exempt,
        months: 0,
        benefits_from: "2024-05-01",
        explanation: "低保对象属于农村低收入人口,不设待遇等待期",
    },
    Case {
        name: "within 3 months of leaving employee insurance",
        birth: "19900101",
        history: &[(EMPLOYEE, "2015-01-01", Some("2024-01-31"))],
        groups: &[],
        applied_on: "2024-04-15",
        repaired_years: 0,
        covered_from: "2024-04-01",
        branch: WaitingBranch::Exempt,
        months: 0,
        benefits_from: "2024-04-01",
        explanation: "职工医保于2024-01-31中断后3个月内参加居民医保,不设待遇等待期",
    },
    Case {
        name: "more than 3 months after leaving employee insurance, no lapsed year",
        birth: "19900101",
        history: &[(EMPLOYEE, "2015-01-01", Some("2023-12-31"))],
        groups: &[],
        applied_on: "2024-04-15",
        repaired_years: 0,
        covered_from: "2024-04-01",
        branch: WaitingBranch::Fixed,
        months: 3,
        benefits_from: "2024-07-01",
        explanation: "未在集中参保期内参保,固定待遇等待期3个月,自2024-07-01起享受待遇",
    },
];

#[test]
fn every_branch_through_enrolment() {
    let policy = chongqing();
    for case in CASES {
        let mut records = person(case.birth);
        for (insurance, from, to) in case.history {
            past_relationship(&mut records, *insurance, "500000", from, *to);
        }
        for group in case.groups {
            records.groups.push(GroupMembership {
                group: *group,
                from: date("2020-01-01"),
                to: None,
            });
        }
        let mut enrolment = resident_enrolment(case.applied_on);
        enrolment.repaired_years = case.repaired_years;
        if case.birth >= "2020" {
            enrolment.kind = PersonKind::Child;
        }
        let applied =
            apply(&records, &Command::Enrol(enrolment), &policy).unwrap_or_else(|e| panic!("{}: {e}", case.name));
        let rel = applied.records.relationships.last().unwrap();
        let period = rel.history.last().unwrap();
        let waiting = period.waiting.unwrap();
        assert_eq!(period.from, date(case.covered_from), "{}", case.name);
        assert_eq!(period.to, Some(date("2024-12-31")), "{}", case.name);
        assert_eq!(
            (waiting.branch, waiting.months),
            (case.branch, case.months),
            "{}",
            case.name
        );
        assert_eq!(period.benefits_from, Some(date(case.benefits_from)), "{}", case.name);
        assert_eq!(waiting.explanation_zh(), case.explanation, "{}", case.name);
        assert_eq!(applied.events[0].message, case.explanation, "{}", case.name);

        // The settlement engine's question, the day before and on the first day of benefits.
        let first = date(case.benefits_from);
        let covered = coverage_on(&applied.records, RESIDENT, first).unwrap();
        let category = if case.birth >= "2020" { 14 } else { 15 };
        assert_eq!(covered.person_type().code(), category, "{}", case.name);
        assert_eq!(covered.benefits_from, first);
        assert_eq!(covered.special_groups, case.groups.to_vec());
        if case.months > 0 {
            let err = coverage_on(&applied.records, RESIDENT, first.pred_opt().unwrap()).unwrap_err();
            assert_eq!(
                err,
                NotCovered::InWaitingPeriod {
                    insurance: RESIDENT,
                    benefits_from: first,
                    months: case.months
                }
            );
            assert_eq!(
                err.message_zh(),
                format!(
                    "城乡居民基本医疗保险处于{}个月的待遇等待期内,自{}起享受待遇",
                    case.months, first
                )
            );
        }
    }
}

#[test]
fn repair_at_enrolment_is_paid_at_the_tier_rate() {
    let policy = chongqing();
    let mut records = person("19900101");
    past_relationship(&mut records, EMPLOYEE, "500000", "2015-01-01", Some("2018-06-30"));
    let mut enrolment = resident_enrolment("2024-04-15");
    enrolment.repaired_years = 4;
    let applied = apply(&records, &Command::Enrol(enrolment), &policy).unwrap();
    let repair = applied.records.contributions.last().unwrap();
    assert_eq!(repair.purpose, ContributionPurpose::LapseRepair);
    assert_eq!(
        repair.individual_amount,
        yibao_money::Money::from_yuan(1600),
        "4 years × 400"
    );
    assert_eq!(
        (repair.first_month, repair.last_month),
        (YearMonth { year: 2020, month: 1 }, YearMonth { year: 2023, month: 12 })
    );
    assert_eq!(applied.events[1].kind, EventKind::LapseRepaired);

    let mut too_many = resident_enrolment("2024-04-15");
    too_many.repaired_years = 6;
    let err = apply(&records, &Command::Enrol(too_many), &policy).unwrap_err();
    assert_eq!(err.to_string(), "缴费修复6年超过断保年数5年(已修复0年)");
}

#[test]
fn repair_after_enrolment_shortens_the_wait() {
    let policy = chongqing();
    let mut records = person("19900101");
    past_relationship(&mut records, RESIDENT, "500000", "2021-01-01", Some("2021-12-31"));
    let records = enrol(&records, resident_enrolment("2024-04-15"), &policy);
    let no = records.relationships.last().unwrap().no;
    // 5 months → repair one year → 4 months.
    let repair = Command::RepairLapse {
        relationship: no,
        years: 1,
        paid_on: date("2024-05-01"),
    };
    let after = apply(&records, &repair, &policy).unwrap().records;
    let covered = coverage_on(&after, RESIDENT, date("2024-08-01")).unwrap();
    assert_eq!(covered.benefits_from, date("2024-08-01"));
    let repair_record = after.contributions.last().unwrap();
    assert_eq!(repair_record.first_month, YearMonth { year: 2023, month: 1 });
    // The second lapsed year too → fixed 3 months only.
    let again = Command::RepairLapse {
        relationship: no,
        years: 1,
        paid_on: date("2024-05-02"),
    };
    let after = apply(&after, &again, &policy).unwrap().records;
    assert_eq!(
        coverage_on(&after, RESIDENT, date("2024-07-01")).unwrap().benefits_from,
        date("2024-07-01")
    );
    assert_eq!(
        after.contributions.last().unwrap().first_month,
        YearMonth { year: 2022, month: 1 }
    );
    let err = apply(&after, &again, &policy).unwrap_err();
    assert_eq!(err.to_string(), "缴费修复1年超过断保年数2年(已修复2年)");
}

#[test]
fn no_repair_without_a_wait() {
    let policy = chongqing();
    let records = enrol(&person("19900101"), resident_enrolment("2023-12-01"), &policy);
    let repair = Command::RepairLapse {
        relationship: 1,
        years: 1,
        paid_on: date("2024-05-01"),
    };
    assert_eq!(
        apply(&records, &repair, &policy).unwrap_err().to_string(),
        "参保关系1当前没有待遇等待期,无需缴费修复"
    );
}

#[test]
fn outside_the_contribution_year() {
    let policy = chongqing();
    let err = apply(
        &person("19900101"),
        &Command::Enrol(resident_enrolment("2025-03-01")),
        &policy,
    )
    .unwrap_err();
    assert_eq!(err.to_string(), "2025-03-01不在2024年度居民医保的缴费期内");
}

#[test]
fn newborn_limit_and_group_dates() {
    let policy = chongqing();
    let rule = &policy.waiting_period;
    let baby = person("20240110");
    assert_eq!(
        exemption(&baby, rule, date("2024-04-09"), date("2024-04-01")),
        Some(Exemption::Newborn)
    );
    assert_eq!(
        exemption(&baby, rule, date("2024-04-10"), date("2024-04-01")),
        None,
        "91 days"
    );
    let mut poor = person("19700101");
    poor.groups.push(GroupMembership {
        group: SpecialGroup::OutOfPoverty,
        from: date("2024-05-01"),
        to: None,
    });
    assert_eq!(
        exemption(&poor, rule, date("2024-04-30"), date("2024-04-01")),
        None,
        "not yet a member"
    );
    assert_eq!(
        exemption(&poor, rule, date("2024-05-01"), date("2024-05-01")),
        Some(Exemption::LowIncomeGroup {
            group: SpecialGroup::OutOfPoverty
        })
    );
}

#[test]
fn coverage_ends_with_the_paid_year() {
    let policy = chongqing();
    let records = enrol(&person("19900101"), resident_enrolment("2023-12-01"), &policy);
    assert!(coverage_on(&records, RESIDENT, date("2024-12-31")).is_ok());
    let err = coverage_on(&records, RESIDENT, date("2025-01-05")).unwrap_err();
    assert_eq!(err.message_zh(), "城乡居民基本医疗保险缴费期至2024-12-31已结束,未续保");
    let err = coverage_on(&records, EMPLOYEE, date("2024-05-05")).unwrap_err();
    assert_eq!(err.message_zh(), "未参加职工基本医疗保险");
}
