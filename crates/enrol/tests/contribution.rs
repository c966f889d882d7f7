//! Contribution amounts: employee monthly charges, resident annual charges with the Guangxi 2022
//! subsidy split, sponsorship, fund warnings; with properties over arbitrary inputs.

mod common;

use common::*;
use proptest::prelude::*;
use yibao_codes::{FundPayType, SpecialGroup, Tier};
use yibao_enrol::*;
use yibao_money::Money;

fn yuan(text: &str) -> Money {
    Money::parse_yuan(text).unwrap()
}

const MAY_2024: YearMonth = YearMonth { year: 2024, month: 5 };

#[test]
fn employee_monthly_charges_chongqing_2024() {
    let policy = chongqing();
    // kind, wage → base, employer 9%, individual 2%, account, pooled, retiree credit
    let cases = [
        (
            EmployeeKind::InService,
            "3000",
            "4800.00",
            "432.00",
            "96.00",
            "96.00",
            "432.00",
            "0.00",
        ),
        (
            EmployeeKind::InService,
            "8000",
            "8000.00",
            "720.00",
            "160.00",
            "160.00",
            "720.00",
            "0.00",
        ),
        (
            EmployeeKind::InService,
            "30000",
            "24000.00",
            "2160.00",
            "480.00",
            "480.00",
            "2160.00",
            "0.00",
        ),
        // 5555.55 × 9% = 499.9995 → 500.00 (四舍五入); × 2% = 111.111 → 111.11
        (
            EmployeeKind::InService,
            "5555.55",
            "5555.55",
            "500.00",
            "111.11",
            "111.11",
            "500.00",
            "0.00",
        ),
        (
            EmployeeKind::InService,
            "4800.05",
            "4800.05",
            "432.00",
            "96.00",
            "96.00",
            "432.00",
            "0.00",
        ),
        (
            EmployeeKind::InService,
            "24000.01",
            "24000.00",
            "2160.00",
            "480.00",
            "480.00",
            "2160.00",
            "0.00",
        ),
        (
            EmployeeKind::InService,
            "-100",
            "4800.00",
            "432.00",
            "96.00",
            "96.00",
            "432.00",
            "0.00",
        ),
        // Retirees pay nothing and receive 2.5% of the 3000 average pension.
        (
            EmployeeKind::Retired,
            "9000",
            "0.00",
            "0.00",
            "0.00",
            "0.00",
            "0.00",
            "75.00",
        ),
        // Flexible: 11% of the chosen base, 2% of it to the account.
        (
            EmployeeKind::Flexible,
            "6000",
            "6000.00",
            "0.00",
            "660.00",
            "120.00",
            "540.00",
            "0.00",
        ),
        (
            EmployeeKind::Flexible,
            "1000",
            "4800.00",
            "0.00",
            "528.00",
            "96.00",
            "432.00",
            "0.00",
        ),
    ];
    for (kind, wage, base, employer, individual, account, pooled, credit) in cases {
        let input = EmployeeContributionInput {
            person_no: 7,
            kind,
            wage_monthly: yuan(wage),
        };
        let c = employee_monthly(&policy, &input, MAY_2024);
        let got = (
            c.base.to_string(),
            c.employer_amount.to_string(),
            c.individual_amount.to_string(),
            c.account_income.to_string(),
            c.pooled_income.to_string(),
            c.retiree_credit.to_string(),
        );
        let want = (base, employer, individual, account, pooled, credit);
        assert_eq!(
            (
                got.0.as_str(),
                got.1.as_str(),
                got.2.as_str(),
                got.3.as_str(),
                got.4.as_str(),
                got.5.as_str()
            ),
            want,
            "{kind:?} wage {wage}"
        );
        assert_eq!(c.large_expense_amount, Money::from_yuan(5), "大额 premium");
        assert_eq!(c.person_no, 7);
        assert_eq!(c.month, MAY_2024);
    }
}

#[test]
fn the_run_keeps_order_and_its_totals_balance() {
    let policy = chongqing();
    let employees: Vec<_> = (0..1000u64)
        .map(|n| EmployeeContributionInput {
            person_no: n,
            kind: match n % 10 {
                0 => EmployeeKind::Retired,
                1 => EmployeeKind::Flexible,
                _ => EmployeeKind::InService,
            },
            wage_monthly: Money::from_fen(300_000 + (n as i64) * 3_137),
        })
        .collect();
    let charges = monthly_employee_run(&policy, &employees, MAY_2024);
    assert_eq!(charges.len(), employees.len());
    assert!(charges.iter().zip(&employees).all(|(c, e)| c.person_no == e.person_no));
    let t = run_totals(&charges);
    assert_eq!(
        t.employer_amount + t.individual_amount,
        t.pooled_income + t.account_income
    );
    assert_eq!(t.retiree_credit, Money::from_yuan(75 * 100));
    assert_eq!(t.large_expense_amount, Money::from_yuan(5 * 1000));
}

#[test]
fn guangxi_2022_subsidy_split_is_exact() {
    let policy = guangxi();
    // county class → shares (central first), from seed 000
    let cases: [(&str, &[(GovernmentLevel, &str)]); 4] = [
        (
            "poverty_alleviated_county",
            &[
                (GovernmentLevel::Central, "488.00"),
                (GovernmentLevel::Province, "91.50"),
                (GovernmentLevel::County, "30.50"),
            ],
        ),
        (
            "city",
            &[
                (GovernmentLevel::Central, "488.00"),
                (GovernmentLevel::Province, "61.00"),
                (GovernmentLevel::City, "61.00"),
            ],
        ),
        (
            "other_county",
            &[
                (GovernmentLevel::Central, "488.00"),
                (GovernmentLevel::Province, "61.00"),
                (GovernmentLevel::County, "61.00"),
            ],
        ),
        (
            "region_university",
            &[
                (GovernmentLevel::Central, "488.00"),
                (GovernmentLevel::Province, "122.00"),
            ],
        ),
    ];
    for (class, want) in cases {
        let split = subsidy_split(&policy, class).unwrap();
        assert_eq!(split.total, Money::from_yuan(610));
        let got: Vec<_> = split.shares.iter().map(|(l, m)| (*l, m.to_string())).collect();
        let want: Vec<_> = want.iter().map(|(l, m)| (*l, m.to_string())).collect();
        assert_eq!(got, want, "{class}");
        assert_eq!(split.shares.iter().map(|s| s.1).sum::<Money>(), Money::from_yuan(610));
    }
    let err = subsidy_split(&policy, "atlantis").unwrap_err();
    assert_eq!(
        err.to_string(),
        "筹资政策中没有“atlantis”这类县(市、区)的地方财政分担方式"
    );
}

#[test]
fn resident_charges_with_sponsorship() {
    let policy = guangxi();
    // groups → sponsored, personal due, sponsor fund
    let cases: [(&[SpecialGroup], &str, &str, Option<FundPayType>); 5] = [
        (&[], "0.00", "320.00", None),
        (
            &[SpecialGroup::Destitute],
            "320.00",
            "0.00",
            Some(FundPayType::MedicalAssistance),
        ),
        (
            &[SpecialGroup::Dibao],
            "224.00",
            "96.00",
            Some(FundPayType::MedicalAssistance),
        ),
        (
            &[SpecialGroup::Dibao, SpecialGroup::Orphan],
            "320.00",
            "0.00",
            Some(FundPayType::MedicalAssistance),
        ),
        (&[SpecialGroup::SevereDisability], "0.00", "320.00", None),
    ];
    for (groups, sponsored, due, fund) in cases {
        let input = ResidentContributionInput {
            tier: Tier::One,
            kind: PersonKind::AdultResident,
            groups,
            county_class: "poverty_alleviated_county",
        };
        let c = resident_annual(&policy, &input).unwrap();
        assert_eq!(c.insurance_year, 2022);
        assert_eq!(c.individual_amount, Money::from_yuan(320));
        assert_eq!(c.sponsored_amount.to_string(), sponsored, "{groups:?}");
        assert_eq!(c.personal_due.to_string(), due, "{groups:?}");
        assert_eq!(c.sponsor_fund, fund);
        assert_eq!(c.pooled_income, Money::from_yuan(930));
        assert_eq!(c.critical_illness_income, Money::ZERO);
    }
}

#[test]
fn resident_tiers_and_critical_illness_book() {
    let policy = chongqing();
    let input = |tier, kind| ResidentContributionInput {
        tier,
        kind,
        groups: &[],
        county_class: "district_county",
    };
    let c = resident_annual(&policy, &input(Tier::Two, PersonKind::Elderly)).unwrap();
    assert_eq!(c.personal_due, Money::from_yuan(975));
    assert_eq!(c.subsidy.shares[0], (GovernmentLevel::Central, Money::from_yuan(536)));
    // 975 + 670 = 1645, of which 60 to the critical-illness book.
    assert_eq!(c.pooled_income, Money::from_yuan(1585));
    assert_eq!(c.critical_illness_income, Money::from_yuan(60));
    let err = resident_annual(&policy, &input(Tier::Two, PersonKind::Student)).unwrap_err();
    assert_eq!(err.to_string(), "筹资政策中没有学生可选的第2档");
    assert!(resident_annual(&policy, &input(Tier::One, PersonKind::Student)).is_ok());
}

fn kind() -> impl Strategy<Value = EmployeeKind> {
    prop_oneof![
        Just(EmployeeKind::InService),
        Just(EmployeeKind::Retired),
        Just(EmployeeKind::Flexible)
    ]
}

fn rounding() -> impl Strategy<Value = yibao_money::Rounding> {
    prop_oneof![
        Just(yibao_money::Rounding::HalfUp),
        Just(yibao_money::Rounding::Down),
        Just(yibao_money::Rounding::Up)
    ]
}

proptest! {
    #[test]
    fn the_fast_product_equals_money_times(
        fen in -2_000_000_000_000i64..2_000_000_000_000,
        ratio in 0i64..=10_000,
        rounding in rounding(),
    ) {
        let amount = Money::from_fen(fen);
        let ratio = yibao_money::Ratio::from_ten_thousandths(ratio).unwrap();
        prop_assert_eq!(yibao_enrol::contribution::times(amount, ratio, rounding), amount.times(ratio, rounding));
    }

    #[test]
    fn employee_amounts_are_never_negative_and_the_base_stays_clamped(
        kind in kind(),
        wage_fen in -10_000_000_000i64..10_000_000_000,
    ) {
        let policy = chongqing();
        let input = EmployeeContributionInput { person_no: 1, kind, wage_monthly: Money::from_fen(wage_fen) };
        let c = employee_monthly(&policy, &input, MAY_2024);
        for amount in [c.base, c.employer_amount, c.individual_amount, c.pooled_income, c.account_income, c.retiree_credit, c.large_expense_amount] {
            prop_assert!(!amount.is_negative());
        }
        if kind != EmployeeKind::Retired {
            prop_assert!(policy.derived.base_floor <= c.base && c.base <= policy.derived.base_cap);
            prop_assert_eq!(contribution_base(&policy, input.wage_monthly), c.base);
        }
        prop_assert_eq!(c.employer_amount + c.individual_amount, c.pooled_income + c.account_income);
        prop_assert!(c.account_income <= c.employer_amount + c.individual_amount);
    }

    #[test]
    fn resident_charges_conserve(groups in proptest::sample::subsequence(SpecialGroup::ALL.to_vec(), 0..4), class in 0usize..4) {
        let policy = guangxi();
        let class = ["poverty_alleviated_county", "city", "other_county", "region_university"][class];
        let input = ResidentContributionInput { tier: Tier::One, kind: PersonKind::Child, groups: &groups, county_class: class };
        let c = resident_annual(&policy, &input).unwrap();
        prop_assert!(!c.personal_due.is_negative() && !c.sponsored_amount.is_negative());
        prop_assert_eq!(c.personal_due + c.sponsored_amount, c.individual_amount);
        prop_assert_eq!(c.personal_due + c.sponsored_amount + c.subsidy.total, c.pooled_income + c.critical_illness_income);
    }
}
