//! What a settlement produces: the amounts the national interface returns (`setlinfo` and one
//! `setldetail` row per fund), the line splits, the explanation, and the deltas to apply.

use serde::Serialize;
use yibao_catalog::LineSplit;
use yibao_codes::{FundPayType, SettlementField};
use yibao_money::{Money, Ratio};

use crate::explain::Step;
use crate::input::Accumulator;

/// One fund's payment (`setldetail` row).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct FundPayment {
    pub fund: FundPayType,
    /// The stages that paid from this fund, e.g. `basic` or `chronic-basic@M01600`.
    pub stages: Vec<String>,
    /// The amount the fund paid a ratio of (`inscp_scp_amt` of the row).
    pub base: Money,
    /// What the fund could still pay before this visit (`crt_payb_lmt_amt`); `None` if uncapped.
    pub limit_remaining: Option<Money>,
    pub amount: Money,
}

/// One line's split, with its line number.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct LineResult {
    pub sn: String,
    pub code: String,
    #[serde(flatten)]
    pub split: LineSplit,
}

/// The accumulator and account changes a settlement applies, or a reversal undoes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Deltas {
    pub year: i32,
    pub accumulators: Vec<(String, Accumulator)>,
    /// Paid from the personal account (the balance goes down by this much).
    pub account_pay: Money,
    /// Paid from the bound family member's account (家庭共济); that account goes down by this
    /// much. Absent in deltas stored before mutual aid was settled.
    #[serde(default)]
    pub mutual_aid_pay: Money,
    /// `true` for the inverse of a settlement.
    pub reversal: bool,
}

impl Deltas {
    /// The exact inverse: applying a settlement then its reversal restores everything.
    pub fn inverse(&self) -> Deltas {
        Deltas {
            reversal: !self.reversal,
            ..self.clone()
        }
    }

    /// The change to the account balance (negative when the account paid).
    pub fn account_change(&self) -> Money {
        if self.reversal {
            self.account_pay
        } else {
            -self.account_pay
        }
    }
}

/// What the person bears after every fund has paid, by part (the lines of a bureau statement:
/// 全自费, 超限价, 乙类先自付, 起付线, 按比例自付, 封顶线以上).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct PersonalParts {
    pub full_self_pay: Money,
    pub over_cap: Money,
    pub first_self_pay: Money,
    pub deductible: Money,
    pub coinsurance: Money,
    pub above_cap: Money,
}

impl PersonalParts {
    pub fn total(&self) -> Money {
        self.full_self_pay + self.over_cap + self.first_self_pay + self.deductible + self.coinsurance + self.above_cap
    }
}

/// The result of (pre-)settling a visit.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Settlement {
    /// `region/version` of the policy that produced this result.
    pub policy: String,
    pub benefit: String,
    pub year: i32,
    /// `medfee_sumamt`.
    pub total: Money,
    /// `fulamt_ownpay_amt`.
    pub full_self_pay: Money,
    /// `overlmt_selfpay`.
    pub over_cap: Money,
    /// `preselfpay_amt`.
    pub first_self_pay: Money,
    /// `inscp_scp_amt`.
    pub policy_scope: Money,
    /// `act_pay_dedc`: deductible counted by the primary stage.
    pub deductible: Money,
    /// `pool_prop_selfpay`: the primary stage's payment ratio (first band).
    pub pooled_ratio: Ratio,
    pub funds: Vec<FundPayment>,
    /// `fund_pay_sumamt`.
    pub fund_total: Money,
    /// `psn_part_amt`: everything the person bears, account and cash together.
    pub personal: Money,
    /// The personal burden by part.
    pub personal_parts: PersonalParts,
    /// Paid from the person's own account.
    pub account_pay: Money,
    /// `acct_mulaid_pay`: paid from a bound family member's account (家庭共济). On the national
    /// interface `acct_pay` is `account_pay + mutual_aid_pay`, so that `psn_part_amt = acct_pay +
    /// psn_cash_pay` holds.
    pub mutual_aid_pay: Money,
    /// `psn_cash_pay`.
    pub cash_pay: Money,
    /// `balc`: the account balance after this settlement.
    pub account_balance_after: Money,
    pub lines: Vec<LineResult>,
    /// Rendered by [`Settlement::explain`] with the policy that produced it.
    #[serde(skip)]
    pub steps: Vec<Step>,
    pub deltas: Deltas,
}

impl Settlement {
    /// The total reported in one `setlinfo` field.
    pub fn field_total(&self, field: SettlementField) -> Money {
        self.funds
            .iter()
            .filter(|f| f.fund.settlement_field() == field)
            .map(|f| f.amount)
            .sum()
    }

    /// Asserts the invariants every settlement keeps (platform.md §4).
    pub fn assert_invariants(&self) {
        let parts = self.full_self_pay + self.over_cap + self.first_self_pay + self.policy_scope;
        assert_eq!(parts, self.total, "line split must conserve the total");
        assert_eq!(
            self.fund_total + self.personal,
            self.total,
            "payers must sum to the total"
        );
        assert_eq!(
            self.account_pay + self.mutual_aid_pay + self.cash_pay,
            self.personal,
            "account + mutual aid + cash = personal"
        );
        assert_eq!(self.personal_parts.total(), self.personal, "personal parts add up");
        assert_eq!(self.funds.iter().map(|f| f.amount).sum::<Money>(), self.fund_total);
        for f in &self.funds {
            assert!(!f.amount.is_negative(), "fund pay is never negative");
            assert!(f.amount <= f.base, "a fund never pays more than its base");
            if let Some(limit) = f.limit_remaining {
                assert!(f.amount <= limit, "a fund never pays past its remaining limit");
            }
        }
        assert!(!self.account_pay.is_negative() && !self.mutual_aid_pay.is_negative() && !self.cash_pay.is_negative());
        assert!(
            !self.account_balance_after.is_negative(),
            "an account never goes negative"
        );
    }
}
