//! Contribution computation (缴费核定): employee monthly charges, resident annual charges with
//! their fiscal subsidy split and sponsorship.
//!
//! Everything is integer arithmetic on fen with the policy's named rounding, so a charge can be
//! recomputed years later to the fen from the stored input and the policy version. Each charge
//! says which fund book (基金分别建账) each part goes to, and its parts add up exactly:
//! employer + individual = pooled income + account income, and a resident's personal payment +
//! sponsorship + subsidy = pooled income + critical-illness income.

use serde::{Deserialize, Serialize};
use yibao_codes::{FundPayType, SpecialGroup, Tier};
use yibao_money::{Money, Ratio, Rounding, RATIO_SCALE};

use crate::ids::{PersonKind, YearMonth};
use crate::policy::{ContributionPolicy, GovernmentLevel, SponsorKind};

/// How an employee contributes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EmployeeKind {
    InService,
    Retired,
    Flexible,
}

impl EmployeeKind {
    pub fn name_zh(self) -> &'static str {
        match self {
            EmployeeKind::InService => "在职职工",
            EmployeeKind::Retired => "退休人员",
            EmployeeKind::Flexible => "灵活就业人员",
        }
    }
}

/// One employee in a monthly run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EmployeeContributionInput {
    /// The person's number in the region (人员编号), carried to the charge.
    pub person_no: u64,
    pub kind: EmployeeKind,
    /// Last month's wage as the employer declared it (in service), or the base the flexible worker
    /// chose; ignored for retirees. Any value is accepted: it is clamped into the base bounds.
    pub wage_monthly: Money,
}

/// One month's contribution for one employee, split by payer and by fund book.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContributionCharge {
    pub person_no: u64,
    pub month: YearMonth,
    pub kind: EmployeeKind,
    /// The contribution base after clamping (zero for retirees).
    pub base: Money,
    pub employer_amount: Money,
    pub individual_amount: Money,
    /// The large-expense (330) premium, paid by the person, booked to the large-expense fund.
    pub large_expense_amount: Money,
    /// Employer + individual contributions booked to the pooled fund (310100).
    pub pooled_income: Money,
    /// Contributions booked straight to the personal account (310200).
    pub account_income: Money,
    /// Retirees' fixed credit: a transfer from the pooled fund to the account book.
    pub retiree_credit: Money,
}

impl ContributionCharge {
    /// What the person's account is credited this month.
    pub fn account_credit(&self) -> Money {
        self.account_income + self.retiree_credit
    }

    /// Everything collected from employer and person this month.
    pub fn collected(&self) -> Money {
        self.employer_amount + self.individual_amount + self.large_expense_amount
    }
}

/// The contribution base: the wage clamped to [floor, cap] of the prior-year average wage
/// (60%–300%), both bounds rounded to the fen by the policy's rounding at load.
pub fn contribution_base(policy: &ContributionPolicy, wage_monthly: Money) -> Money {
    wage_monthly.max(policy.derived.base_floor).min(policy.derived.base_cap)
}

/// The largest amount [`times`] is used on: a base within the policy's cap (at most 1000% of
/// at most 1,000,000 元) is far below it.
const FAST_TIMES_FEN_MAX: i64 = 1_000_000_000_000;

/// `amount × ratio`, rounded exactly as `Money::times` does, in `i64` rather than `i128`: the
/// monthly run multiplies a million bases three times, and a 128-bit division is several times
/// slower. The product stays below 10¹⁶, far inside `i64`; a property test checks that the
/// result equals `Money::times` for every amount up to the bound, ratio and rounding.
pub fn times(amount: Money, ratio: Ratio, rounding: Rounding) -> Money {
    let fen = amount.fen();
    if !(-FAST_TIMES_FEN_MAX..=FAST_TIMES_FEN_MAX).contains(&fen) {
        return amount.times(ratio, rounding);
    }
    let product = fen * ratio.ten_thousandths();
    let quotient = product / RATIO_SCALE;
    let remainder = product % RATIO_SCALE;
    let away = remainder != 0
        && match rounding {
            Rounding::HalfUp => 2 * remainder.abs() >= RATIO_SCALE,
            Rounding::Down => false,
            Rounding::Up => true,
        };
    Money::from_fen(if away { quotient + product.signum() } else { quotient })
}

/// One employee's charge for `month`.
pub fn employee_monthly(
    policy: &ContributionPolicy,
    input: &EmployeeContributionInput,
    month: YearMonth,
) -> ContributionCharge {
    let rules = &policy.employee;
    let rounding = policy.policy.rounding;
    let mut charge = ContributionCharge {
        person_no: input.person_no,
        month,
        kind: input.kind,
        base: Money::ZERO,
        employer_amount: Money::ZERO,
        individual_amount: Money::ZERO,
        large_expense_amount: rules.large_expense_monthly,
        pooled_income: Money::ZERO,
        account_income: Money::ZERO,
        retiree_credit: Money::ZERO,
    };
    match input.kind {
        EmployeeKind::Retired => {
            charge.retiree_credit = policy.derived.retiree_account_monthly;
        }
        EmployeeKind::InService => {
            let base = contribution_base(policy, input.wage_monthly);
            charge.base = base;
            charge.employer_amount = times(base, rules.employer_rate, rounding);
            charge.individual_amount = times(base, rules.individual_rate, rounding);
            let from_employer = times(charge.employer_amount, rules.employer_share_to_account, rounding);
            // The account never receives more than was paid.
            let to_account = times(base, rules.in_service_account_rate, rounding);
            charge.account_income = (from_employer + to_account).min(charge.employer_amount + charge.individual_amount);
            charge.pooled_income = charge.employer_amount + charge.individual_amount - charge.account_income;
        }
        EmployeeKind::Flexible => {
            let base = contribution_base(policy, input.wage_monthly);
            charge.base = base;
            charge.individual_amount = times(base, rules.flexible_rate, rounding);
            charge.account_income = times(base, rules.flexible_account_rate, rounding).min(charge.individual_amount);
            charge.pooled_income = charge.individual_amount - charge.account_income;
        }
    }
    charge
}

/// The monthly employee contribution run (职工医保月度核定): one charge per employee, in input
/// order. Pure arithmetic: a million employees take a few milliseconds (see the bench).
pub fn monthly_employee_run(
    policy: &ContributionPolicy,
    employees: &[EmployeeContributionInput],
    month: YearMonth,
) -> Vec<ContributionCharge> {
    employees.iter().map(|e| employee_monthly(policy, e, month)).collect()
}

/// Totals of a run per fund book, for the ledger postings.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunTotals {
    pub employer_amount: Money,
    pub individual_amount: Money,
    pub pooled_income: Money,
    pub account_income: Money,
    pub retiree_credit: Money,
    pub large_expense_amount: Money,
}

pub fn run_totals(charges: &[ContributionCharge]) -> RunTotals {
    charges.iter().fold(RunTotals::default(), |mut t, c| {
        t.employer_amount += c.employer_amount;
        t.individual_amount += c.individual_amount;
        t.pooled_income += c.pooled_income;
        t.account_income += c.account_income;
        t.retiree_credit += c.retiree_credit;
        t.large_expense_amount += c.large_expense_amount;
        t
    })
}

/// The fiscal subsidy for one resident and who pays it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubsidySplit {
    pub total: Money,
    /// Central government first, then the local levels as the policy lists them.
    pub shares: Vec<(GovernmentLevel, Money)>,
}

/// Why a resident charge could not be computed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ContributionError {
    #[error("筹资政策中没有“{county_class}”这类县(市、区)的地方财政分担方式")]
    UnknownCountyClass { county_class: String },
    #[error("筹资政策中没有{kind}可选的第{tier}档")]
    UnknownTier { tier: u8, kind: &'static str },
}

/// The per-person subsidy split for a county of `county_class` (e.g. Guangxi 2022: 610 = 488
/// central + 91.5 autonomous region + 30.5 county in a poverty-alleviated county).
pub fn subsidy_split(policy: &ContributionPolicy, county_class: &str) -> Result<SubsidySplit, ContributionError> {
    let s = &policy.subsidy;
    let split = s
        .local_split
        .iter()
        .find(|x| x.county_class == county_class)
        .ok_or_else(|| ContributionError::UnknownCountyClass {
            county_class: county_class.chars().take(40).collect(),
        })?;
    let mut shares = Vec::with_capacity(split.shares.len() + 1);
    shares.push((GovernmentLevel::Central, s.central_amount));
    shares.extend(split.shares.iter().map(|x| (x.level, x.amount)));
    let split = SubsidySplit {
        total: s.per_person_amount,
        shares,
    };
    assert_eq!(
        split.shares.iter().map(|x| x.1).sum::<Money>(),
        split.total,
        "subsidy shares add up (checked at load)"
    );
    Ok(split)
}

/// One resident's contribution for the insurance year.
#[derive(Clone, Copy, Debug)]
pub struct ResidentContributionInput<'a> {
    pub tier: Tier,
    pub kind: PersonKind,
    /// Special groups the person belongs to on the collection date.
    pub groups: &'a [SpecialGroup],
    pub county_class: &'a str,
}

/// A resident's annual charge: who pays what, and where it is booked.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResidentCharge {
    pub insurance_year: i32,
    pub tier: Tier,
    /// The tier's individual contribution.
    pub individual_amount: Money,
    /// Paid by sponsorship (资助参保) instead of the person.
    pub sponsored_amount: Money,
    pub sponsor_fund: Option<FundPayType>,
    /// What the person pays.
    pub personal_due: Money,
    pub subsidy: SubsidySplit,
    /// Booked to the resident pooled fund (390100).
    pub pooled_income: Money,
    /// Booked to the critical-illness insurance fund (390200).
    pub critical_illness_income: Money,
}

pub fn resident_annual(
    policy: &ContributionPolicy,
    input: &ResidentContributionInput,
) -> Result<ResidentCharge, ContributionError> {
    let tier = policy
        .resident_tier(input.tier, input.kind)
        .ok_or(ContributionError::UnknownTier {
            tier: input.tier.number(),
            kind: input.kind.name_zh(),
        })?;
    let individual = tier.individual_amount;
    let (sponsored, sponsor_fund) = sponsorship(policy, input.groups, individual);
    let subsidy = subsidy_split(policy, input.county_class)?;
    let total = individual + subsidy.total;
    let critical = policy.resident.critical_illness_amount.min(total);
    let charge = ResidentCharge {
        insurance_year: policy.resident.insurance_year,
        tier: input.tier,
        individual_amount: individual,
        sponsored_amount: sponsored,
        sponsor_fund,
        personal_due: individual - sponsored,
        pooled_income: total - critical,
        critical_illness_income: critical,
        subsidy,
    };
    assert_eq!(
        charge.personal_due + charge.sponsored_amount + charge.subsidy.total,
        charge.pooled_income + charge.critical_illness_income
    );
    Ok(charge)
}

/// The most generous sponsorship any of the groups gives, never above the individual amount.
fn sponsorship(
    policy: &ContributionPolicy,
    groups: &[SpecialGroup],
    individual: Money,
) -> (Money, Option<FundPayType>) {
    policy
        .sponsored
        .iter()
        .filter(|s| s.groups.iter().any(|g| groups.contains(g)))
        .map(|s| {
            let amount = match s.kind {
                SponsorKind::Full => individual,
                SponsorKind::Partial => s.amount.unwrap_or(Money::ZERO).min(individual),
            };
            (amount, Some(s.fund))
        })
        .max_by_key(|(amount, _)| *amount)
        .unwrap_or((Money::ZERO, None))
}
