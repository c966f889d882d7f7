//! The annual DRG settlement with each hospital (年度清算).
//!
//! During the year the fund pays hospitals item by item (按项目, what each settlement's
//! `fund_total` says). At year end every grouped case is priced by its DRG: the payment standard
//! (see [`crate::payment::PaymentTable::quote`]) adjusted for 高倍率/低倍率 cases by the policy's
//! [`OutlierRule`]. Cases that could not be grouped (`0000`, `xQY`) or whose group has no
//! standard stay paid by item (按项目付费), as local rules do.
//!
//! Per hospital, with `P` = Σ DRG payments of its DRG cases and `C` = Σ their costs:
//!
//! - **结余 (surplus)**, `C ≤ P`: `S = P − C`. The hospital keeps `retained = min(S, P ×
//!   surplus_cap_ratio) × surplus_retained_ratio` (结余留用); the recognised amount is
//!   `C + retained`.
//! - **超支 (overspend)**, `C > P`: `O = C − P`. The fund shares `shared = min(O, P ×
//!   overspend_band_ratio) × overspend_fund_ratio` (超支分担); the hospital bears the rest; the
//!   recognised amount is `P + shared`.
//!
//! The fund owes the recognised amount less what patients paid themselves (`C − Σ fund_total`,
//! their personal burden under the benefit policy), plus the item-based fund payments of the
//! cases paid by item. The statement's balance is that minus what the fund already paid during
//! the year: positive = the fund pays the hospital (补付), negative = the hospital refunds (扣回).
//!
//! Every product is rounded half up to the fen once ([`PAYMENT_ROUNDING`]); the statement carries
//! its arithmetic in Chinese.

use std::collections::BTreeMap;

use serde::Deserialize;
use yibao_money::{Money, Ratio};

use crate::payment::PAYMENT_ROUNDING;
use crate::payment::{case_payment, CaseKind, ExactDecimal, HospitalLevel, OutlierRule, PaymentTable, Scheme};

/// The most cases one annual settlement takes (a large region discharges a few million a year).
pub const ANNUAL_CASES_MAX: usize = 20_000_000;

/// A region's DRG payment policy: the `[drg]` table of its payment policy file, as written.
/// Each decimal is a string (`"0.4"`), a whole number or a decimal (0.4), read from its text by
/// the one decimal rule (`yibao_money::deserialize_decimal_text`), as in every other policy file.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DrgPolicyText {
    /// 基础费率 when the payment table has neither a standard nor a rate for a group, 元.
    #[serde(default, deserialize_with = "opt_decimal_text")]
    pub base_rate: Option<String>,
    /// 低倍率: cost ≤ this multiple of the standard.
    #[serde(deserialize_with = "yibao_money::deserialize_decimal_text")]
    pub low_multiple: String,
    /// 高倍率: cost ≥ this multiple of the standard.
    #[serde(deserialize_with = "yibao_money::deserialize_decimal_text")]
    pub high_multiple: String,
    /// The share of the cost above the 高倍率 threshold that is paid on top of the standard.
    #[serde(deserialize_with = "yibao_money::deserialize_decimal_text")]
    pub high_compensation_ratio: String,
    /// The share of a surplus the hospital keeps (1 = all of it).
    #[serde(deserialize_with = "yibao_money::deserialize_decimal_text")]
    pub surplus_retained_ratio: String,
    /// The surplus counted for 结余留用 is at most this share of the DRG payment.
    #[serde(deserialize_with = "yibao_money::deserialize_decimal_text")]
    pub surplus_cap_ratio: String,
    /// The share of an overspend the fund bears.
    #[serde(deserialize_with = "yibao_money::deserialize_decimal_text")]
    pub overspend_fund_ratio: String,
    /// The overspend shared is at most this share of the DRG payment; beyond it the hospital
    /// bears everything.
    #[serde(deserialize_with = "yibao_money::deserialize_decimal_text")]
    pub overspend_band_ratio: String,
}

fn opt_decimal_text<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    yibao_money::deserialize_decimal_text(d).map(Some)
}

/// [`DrgPolicyText`] read and checked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DrgPolicy {
    pub base_rate: Option<Money>,
    pub outliers: OutlierRule,
    pub surplus_retained_ratio: Ratio,
    pub surplus_cap_ratio: Ratio,
    pub overspend_fund_ratio: Ratio,
    pub overspend_band_ratio: Ratio,
}

impl DrgPolicy {
    /// Checks every value; the error names the key and the rule (in Chinese, for bureau staff).
    pub fn from_text(text: &DrgPolicyText) -> Result<DrgPolicy, String> {
        let ratio = |key: &str, value: &str| -> Result<Ratio, String> {
            let r = Ratio::parse(value).map_err(|e| format!("drg.{key}“{value}”: {e}"))?;
            if r > Ratio::ONE {
                return Err(format!("drg.{key}“{value}”: 比例不能大于1"));
            }
            Ok(r)
        };
        let multiple = |key: &str, value: &str| -> Result<ExactDecimal, String> {
            ExactDecimal::parse(value).map_err(|e| format!("drg.{key}“{value}”: {e}"))
        };
        let base_rate = match &text.base_rate {
            None => None,
            Some(v) => {
                let m: Money = v.parse().map_err(|e| format!("drg.base_rate“{v}”: {e}"))?;
                if m.is_negative() {
                    return Err(format!("drg.base_rate“{v}”: 不能为负数"));
                }
                Some(m)
            }
        };
        let low = multiple("low_multiple", &text.low_multiple)?;
        let high = multiple("high_multiple", &text.high_multiple)?;
        let compensation = ratio("high_compensation_ratio", &text.high_compensation_ratio)?;
        let outliers = OutlierRule::new(low, high, compensation).ok_or_else(|| {
            format!(
                "drg.low_multiple“{}”与drg.high_multiple“{}”: 低倍率须小于高倍率, 且高倍率不超过{}",
                text.low_multiple,
                text.high_multiple,
                crate::payment::MAX_OUTLIER_MULTIPLE
            )
        })?;
        Ok(DrgPolicy {
            base_rate,
            outliers,
            surplus_retained_ratio: ratio("surplus_retained_ratio", &text.surplus_retained_ratio)?,
            surplus_cap_ratio: ratio("surplus_cap_ratio", &text.surplus_cap_ratio)?,
            overspend_fund_ratio: ratio("overspend_fund_ratio", &text.overspend_fund_ratio)?,
            overspend_band_ratio: ratio("overspend_band_ratio", &text.overspend_band_ratio)?,
        })
    }
}

/// One discharged case of the year, as the settlement list and its settlement give it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AnnualCase {
    pub case_id: String,
    pub hospital: String,
    pub level: HospitalLevel,
    pub scheme: Scheme,
    /// The DRG it was grouped into (`0000` / `xQY` when it could not be).
    pub drg: String,
    /// 医疗总费用.
    pub cost: Money,
    /// What the fund paid for it item by item during the year.
    pub fund_paid: Money,
}

/// How one case was paid in the annual settlement.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CaseLine {
    pub case_id: String,
    pub hospital: String,
    pub drg: String,
    /// `None`: paid by item (no group or no standard), with the reason.
    pub kind: Option<CaseKind>,
    pub standard: Option<Money>,
    /// The DRG payment, or the cost for a case paid by item.
    pub payment: Money,
    pub explanation: String,
}

/// A hospital's annual statement (年度清算单).
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct HospitalStatement {
    pub hospital: String,
    pub cases: u64,
    pub drg_cases: u64,
    pub high_cases: u64,
    pub low_cases: u64,
    pub item_cases: u64,
    /// Σ cost of the DRG cases (`C`).
    pub drg_cost: Money,
    /// Σ DRG payments (`P`).
    pub drg_payment: Money,
    /// `P − C`: positive = surplus, negative = overspend.
    pub surplus: Money,
    /// 结余留用 (≥ 0) or the fund's share of an overspend (≥ 0), see the module docs.
    pub adjustment: Money,
    /// The amount recognised for the DRG cases.
    pub recognised: Money,
    /// What the patients of the DRG cases paid themselves.
    pub personal_burden: Money,
    /// Σ cost and fund payments of the cases paid by item.
    pub item_cost: Money,
    pub item_fund_paid: Money,
    /// What the fund owes for the year.
    pub fund_due: Money,
    /// What the fund paid during the year (all cases).
    pub fund_paid: Money,
    /// `fund_due − fund_paid`: positive = 补付, negative = 扣回.
    pub balance: Money,
    pub explanation: String,
}

/// Prices every case and settles each hospital's year. Cases come in any order; statements are
/// returned by hospital code, and case lines in input order.
pub fn settle_year(
    table: &PaymentTable,
    policy: &DrgPolicy,
    cases: &[AnnualCase],
) -> Result<(Vec<HospitalStatement>, Vec<CaseLine>), String> {
    if cases.len() > ANNUAL_CASES_MAX {
        return Err(format!("病例数{}超过上限{ANNUAL_CASES_MAX}", cases.len()));
    }
    let mut lines = Vec::with_capacity(cases.len());
    let mut by_hospital: BTreeMap<&str, HospitalStatement> = BTreeMap::new();
    for case in cases {
        if case.cost.is_negative() || case.fund_paid.is_negative() || case.fund_paid > case.cost {
            return Err(format!(
                "病例{}: 医疗总费用{}与基金支付{}不合理(须非负且基金支付不超过总费用)",
                case.case_id, case.cost, case.fund_paid
            ));
        }
        let s = by_hospital.entry(&case.hospital).or_insert_with(|| HospitalStatement {
            hospital: case.hospital.clone(),
            ..HospitalStatement::default()
        });
        s.cases += 1;
        s.fund_paid += case.fund_paid;
        let quote = if case.drg == "0000" || case.drg.ends_with("QY") {
            Err(format!("{}未入组, 按项目付费", case.drg))
        } else {
            table
                .quote(&case.drg, case.level, case.scheme, policy.base_rate)
                .ok_or_else(|| format!("{}无支付标准, 按项目付费", case.drg))
        };
        match quote {
            Ok(quote) => {
                let paid = case_payment(quote.amount, case.cost, &policy.outliers);
                s.drg_cases += 1;
                match paid.kind {
                    CaseKind::High => s.high_cases += 1,
                    CaseKind::Low => s.low_cases += 1,
                    CaseKind::Normal => {}
                }
                s.drg_cost += case.cost;
                s.drg_payment += paid.payment;
                s.personal_burden += case.cost - case.fund_paid;
                lines.push(CaseLine {
                    case_id: case.case_id.clone(),
                    hospital: case.hospital.clone(),
                    drg: case.drg.clone(),
                    kind: Some(paid.kind),
                    standard: Some(quote.amount),
                    payment: paid.payment,
                    explanation: format!("{}；{}", quote.explanation, paid.explanation),
                });
            }
            Err(reason) => {
                s.item_cases += 1;
                s.item_cost += case.cost;
                s.item_fund_paid += case.fund_paid;
                lines.push(CaseLine {
                    case_id: case.case_id.clone(),
                    hospital: case.hospital.clone(),
                    drg: case.drg.clone(),
                    kind: None,
                    standard: None,
                    payment: case.cost,
                    explanation: reason,
                });
            }
        }
    }
    let statements = by_hospital.into_values().map(|s| close(s, policy)).collect();
    Ok((statements, lines))
}

/// Computes a hospital's recognised amount, what the fund owes and the balance.
fn close(mut s: HospitalStatement, policy: &DrgPolicy) -> HospitalStatement {
    let (p, c) = (s.drg_payment, s.drg_cost);
    let rounding = PAYMENT_ROUNDING;
    let mut text = format!("DRG病例{}例: 支付总额P={p}，医疗总费用C={c}；", s.drg_cases);
    s.surplus = p - c;
    if s.surplus.is_negative() {
        let overspend = c - p;
        let band = p.times(policy.overspend_band_ratio, rounding);
        let counted = overspend.min(band);
        s.adjustment = counted.times(policy.overspend_fund_ratio, rounding);
        s.recognised = p + s.adjustment;
        text.push_str(&format!(
            "超支C−P={overspend}，分担基数min({overspend}, P×{}={band})={counted}，基金分担{counted}×{}={}，认定金额P+{}={}；",
            policy.overspend_band_ratio, policy.overspend_fund_ratio, s.adjustment, s.adjustment, s.recognised
        ));
    } else {
        let surplus = s.surplus;
        let cap = p.times(policy.surplus_cap_ratio, rounding);
        let counted = surplus.min(cap);
        s.adjustment = counted.times(policy.surplus_retained_ratio, rounding);
        s.recognised = c + s.adjustment;
        text.push_str(&format!(
            "结余P−C={surplus}，留用基数min({surplus}, P×{}={cap})={counted}，结余留用{counted}×{}={}，认定金额C+{}={}；",
            policy.surplus_cap_ratio, policy.surplus_retained_ratio, s.adjustment, s.adjustment, s.recognised
        ));
    }
    // The fund never owes less than nothing for the DRG cases, even when patients paid more than
    // the recognised amount (possible only with very low standards).
    let drg_fund_due = (s.recognised - s.personal_burden).max(Money::ZERO);
    s.fund_due = drg_fund_due + s.item_fund_paid;
    s.balance = s.fund_due - s.fund_paid;
    text.push_str(&format!(
        "DRG病例基金应付=认定金额{}−个人负担{}={drg_fund_due}；按项目病例{}例基金已付{}；基金应付合计{}，年内已付{}，清算差额{}({})",
        s.recognised,
        s.personal_burden,
        s.item_cases,
        s.item_fund_paid,
        s.fund_due,
        s.fund_paid,
        s.balance,
        if s.balance.is_negative() { "扣回" } else { "补付" }
    ));
    s.explanation = text;
    debug_assert_eq!(s.cases, s.drg_cases + s.item_cases);
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> DrgPolicy {
        DrgPolicy::from_text(&DrgPolicyText {
            base_rate: None,
            low_multiple: "0.4".into(),
            high_multiple: "3".into(),
            high_compensation_ratio: "1".into(),
            surplus_retained_ratio: "0.5".into(),
            surplus_cap_ratio: "0.1".into(),
            overspend_fund_ratio: "0.5".into(),
            overspend_band_ratio: "0.1".into(),
        })
        .unwrap()
    }

    #[test]
    fn policy_errors_name_the_key() {
        let mut t = DrgPolicyText {
            base_rate: Some("-1".into()),
            low_multiple: "0.4".into(),
            high_multiple: "3".into(),
            high_compensation_ratio: "1".into(),
            surplus_retained_ratio: "0.5".into(),
            surplus_cap_ratio: "0.1".into(),
            overspend_fund_ratio: "1.5".into(),
            overspend_band_ratio: "0.1".into(),
        };
        assert_eq!(DrgPolicy::from_text(&t).unwrap_err(), "drg.base_rate“-1”: 不能为负数");
        t.base_rate = None;
        assert_eq!(
            DrgPolicy::from_text(&t).unwrap_err(),
            "drg.overspend_fund_ratio“1.5”: 比例必须在0到1之间"
        );
        t.overspend_fund_ratio = "0.5".into();
        t.low_multiple = "3".into();
        assert!(DrgPolicy::from_text(&t)
            .unwrap_err()
            .starts_with("drg.low_multiple“3”与drg.high_multiple“3”"));
    }

    #[test]
    fn surplus_and_overspend_by_hand() {
        let table = PaymentTable::from_csv("t", "DRG编码,支付标准\nFM19,10000\nES29,5000\n").unwrap();
        let case = |id: &str, h: &str, drg: &str, cost: i64, fund: i64| AnnualCase {
            case_id: id.into(),
            hospital: h.into(),
            level: HospitalLevel::Tertiary,
            scheme: Scheme::Employee,
            drg: drg.into(),
            cost: Money::from_yuan(cost),
            fund_paid: Money::from_yuan(fund),
        };
        let cases = [
            // H1: P = 10000 + 5000 = 15000, C = 8000 + 4000 = 12000: surplus 3000, cap 1500,
            // retained 1500 × 0.5 = 750, recognised 12750, burden 2000 + 1000 = 3000,
            // due 9750; paid 6000 + 3000 = 9000 → 补付 750.
            case("a", "H1", "FM19", 8000, 6000),
            case("b", "H1", "ES29", 4000, 3000),
            // H2: one normal case, cost 13000 vs 10000: overspend 3000, band 1000,
            // shared 500, recognised 10500, burden 3000, due 7500; plus an ungrouped case
            // paid by item (fund 700); paid 10000 + 700 → 扣回 2500.
            case("c", "H2", "FM19", 13000, 10000),
            case("d", "H2", "0000", 1000, 700),
        ];
        let (statements, lines) = settle_year(&table, &policy(), &cases).unwrap();
        let h1 = &statements[0];
        assert_eq!(
            (h1.surplus, h1.adjustment, h1.recognised, h1.fund_due, h1.balance),
            (
                Money::from_yuan(3000),
                Money::from_yuan(750),
                Money::from_yuan(12750),
                Money::from_yuan(9750),
                Money::from_yuan(750)
            )
        );
        let h2 = &statements[1];
        assert_eq!(
            (h2.surplus, h2.adjustment, h2.recognised, h2.fund_due, h2.balance),
            (
                Money::from_yuan(-3000),
                Money::from_yuan(500),
                Money::from_yuan(10500),
                Money::from_yuan(8200),
                Money::from_yuan(-2500)
            )
        );
        assert_eq!((h2.drg_cases, h2.item_cases), (1, 1));
        assert!(h2.explanation.contains("超支C−P=3000.00"), "{}", h2.explanation);
        assert_eq!(lines[3].kind, None);
        assert_eq!(lines[3].explanation, "0000未入组, 按项目付费");
        let bad = [case("e", "H3", "FM19", 100, 200)];
        assert!(settle_year(&table, &policy(), &bad).unwrap_err().contains("病例e"));
    }
}
