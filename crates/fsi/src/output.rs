//! Output nodes built from domain values: `setlinfo` and `setldetail` (spec §5) from a
//! [`Settlement`], and the 2204/2301 `result[]` rows from a line's split.
//!
//! Amounts are JSON numbers with exactly two decimals (`34790.00`), ratios with four
//! (`0.7000`), prices with six and quantities with four, built from their exact integer values
//! (never `f64`): the workspace's serde_json keeps a number's digits as written.

use std::str::FromStr;

use chrono::{NaiveDate, NaiveDateTime};
use serde_json::{Map, Number, Value};
use yibao_catalog::{CatalogItem, LineSplit, Restriction};
use yibao_codes::{InsuranceType, ItemKind, MedicalType, PersonType, SettlementField, Sex};
use yibao_money::{Money, Price, Quantity, Ratio};
use yibao_settle::{FeeLine, Settlement};

/// A decimal JSON number `value × 10^-scale` with exactly `scale` decimals.
fn fixed(value: i64, scale: u32) -> Value {
    // Digits written by hand: every answer carries dozens of amounts, and `format!` with a
    // width was a visible share of the platform thread.
    let abs = value.unsigned_abs();
    let unit = 10u64.pow(scale);
    let mut text = String::with_capacity(24);
    if value < 0 {
        text.push('-');
    }
    let whole = abs / unit;
    let mut width = 1;
    while width < 20 && whole >= 10u64.pow(width) {
        width += 1;
    }
    push_digits(&mut text, whole, width);
    if scale > 0 {
        text.push('.');
        push_digits(&mut text, abs % unit, scale);
    }
    // Always a well-formed number; a string is the lossless fallback should that ever change.
    Number::from_str(&text)
        .map(Value::Number)
        .unwrap_or(Value::String(text))
}

/// The last `width` decimal digits of `value`, leading zeros kept.
fn push_digits(text: &mut String, value: u64, width: u32) {
    for p in (0..width).rev() {
        let digit = (value / 10u64.pow(p) % 10) as u8;
        text.push(char::from(b'0' + digit));
    }
}

/// An amount as a JSON number with two decimals: `34790.00`.
pub fn amount_number(amount: Money) -> Value {
    fixed(amount.fen(), 2)
}

/// A ratio as a JSON number with four decimals: `0.7000`.
pub fn ratio_number(ratio: Ratio) -> Value {
    fixed(ratio.ten_thousandths(), 4)
}

/// A unit price as a JSON number with six decimals.
pub fn price_number(price: Price) -> Value {
    fixed(price.millionths(), 6)
}

/// A quantity as a JSON number with four decimals.
pub fn quantity_number(quantity: Quantity) -> Value {
    fixed(quantity.ten_thousandths(), 4)
}

/// `yyyy-MM-dd HH:mm:ss`, the spec's date-time form.
pub fn datetime_text(t: NaiveDateTime) -> String {
    t.format("%Y-%m-%d %H:%M:%S").to_string()
}

/// `yyyy-MM-dd`, the spec's date form.
pub fn date_text(d: NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

fn flag_text(flag: bool) -> &'static str {
    if flag {
        "1"
    } else {
        "0"
    }
}

/// What `setlinfo` says that a [`Settlement`] does not know: the ids, the person as enrolled,
/// and the clearing attributes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SetlContext {
    pub mdtrt_id: String,
    pub setl_id: String,
    pub psn_no: String,
    pub psn_name: String,
    pub psn_cert_type: String,
    pub certno: String,
    pub gend: Sex,
    /// 民族 (3).
    pub naty: String,
    pub brdy: NaiveDate,
    /// Age in whole years on the visit's first day (emitted as an integer, as the spec's
    /// example does).
    pub age: u16,
    pub insutype: InsuranceType,
    pub psn_type: PersonType,
    pub cvlserv_flag: bool,
    pub setl_time: NaiveDateTime,
    pub mdtrt_cert_type: String,
    pub med_type: MedicalType,
    /// 医药机构结算ID: the settling request's `msgid`.
    pub medins_setl_id: String,
    /// 清算经办机构 (6).
    pub clr_optins: String,
    /// 清算方式: 01 按项目, 02 单病种, ….
    pub clr_way: String,
    /// 清算类别: 11 门诊, 21 住院, 41 药店购药, ….
    pub clr_type: String,
}

/// The amounts of `setlinfo`, derived from a [`Settlement`] so that the accounting identities
/// hold by construction:
///
/// - `fund_pay_sumamt` = hifp + cvlserv + hifes + hifmi + hifob + maf + hifdm + oth;
/// - `psn_part_amt` = `acct_pay` + `psn_cash_pay`, `acct_pay` including `acct_mulaid_pay`;
/// - `medfee_sumamt` = `fund_pay_sumamt` + `psn_part_amt` (+ `hosp_part_amt`, always 0 here).
///
/// Each fund row is reported in the field `FundPayType::settlement_field` names. A row paid
/// from the personal-account fund (310200) counts as `acct_pay`, not as fund pay. For a
/// settlement that keeps its own invariants, `medfee_sumamt` equals its total and
/// `inscp_scp_amt` = `medfee_sumamt` − `fulamt_ownpay_amt` − `overlmt_selfpay` − `preselfpay_amt`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SetlAmounts {
    pub medfee_sumamt: Money,
    pub fulamt_ownpay_amt: Money,
    pub overlmt_selfpay: Money,
    pub preselfpay_amt: Money,
    pub inscp_scp_amt: Money,
    pub act_pay_dedc: Money,
    pub hifp_pay: Money,
    pub pool_prop_selfpay: Ratio,
    pub cvlserv_pay: Money,
    pub hifes_pay: Money,
    pub hifmi_pay: Money,
    pub hifob_pay: Money,
    pub maf_pay: Money,
    pub hifdm_pay: Money,
    /// 医院负担金额: the engine never charges the hospital, so always 0.
    pub hosp_part_amt: Money,
    pub oth_pay: Money,
    pub fund_pay_sumamt: Money,
    pub psn_part_amt: Money,
    pub acct_pay: Money,
    pub psn_cash_pay: Money,
    pub balc: Money,
    /// 个人账户共济支付金额: the part of `acct_pay` paid from a bound family member's account.
    pub acct_mulaid_pay: Money,
}

impl SetlAmounts {
    pub fn of(settlement: &Settlement) -> SetlAmounts {
        let mut a = SetlAmounts {
            fulamt_ownpay_amt: settlement.full_self_pay,
            overlmt_selfpay: settlement.over_cap,
            preselfpay_amt: settlement.first_self_pay,
            inscp_scp_amt: settlement.policy_scope,
            act_pay_dedc: settlement.deductible,
            pool_prop_selfpay: settlement.pooled_ratio,
            // The account pay reported is the person's own and the family's together, so that
            // psn_part_amt = acct_pay + psn_cash_pay holds; acct_mulaid_pay says how much of
            // it came from the family member's account.
            acct_pay: settlement.account_pay + settlement.mutual_aid_pay,
            acct_mulaid_pay: settlement.mutual_aid_pay,
            psn_cash_pay: settlement.cash_pay,
            balc: settlement.account_balance_after,
            ..SetlAmounts::default()
        };
        for fund in &settlement.funds {
            let slot = match fund.fund.settlement_field() {
                SettlementField::PooledFund => &mut a.hifp_pay,
                SettlementField::CivilServant => &mut a.cvlserv_pay,
                SettlementField::EnterpriseSupplementary => &mut a.hifes_pay,
                SettlementField::CriticalIllness => &mut a.hifmi_pay,
                SettlementField::LargeExpense => &mut a.hifob_pay,
                SettlementField::MedicalAssistance => &mut a.maf_pay,
                SettlementField::DisabledVeteran => &mut a.hifdm_pay,
                SettlementField::PersonalAccount => &mut a.acct_pay,
                SettlementField::Other => &mut a.oth_pay,
            };
            *slot += fund.amount;
        }
        a.fund_pay_sumamt =
            a.hifp_pay + a.cvlserv_pay + a.hifes_pay + a.hifmi_pay + a.hifob_pay + a.maf_pay + a.hifdm_pay + a.oth_pay;
        a.psn_part_amt = a.acct_pay + a.psn_cash_pay;
        a.medfee_sumamt = a.fund_pay_sumamt + a.psn_part_amt + a.hosp_part_amt;
        a
    }
}

/// `output.setlinfo` for 2206/2207/2208 and 2303/2304/2305: every field of spec §5.1 (rows
/// 1–41 and `hifdm_pay`).
pub fn setlinfo(settlement: &Settlement, ctx: &SetlContext) -> Value {
    let a = SetlAmounts::of(settlement);
    let mut m = Map::new();
    let mut text = |key: &str, value: &str| {
        m.insert(key.to_owned(), Value::String(value.to_owned()));
    };
    text("mdtrt_id", &ctx.mdtrt_id);
    text("setl_id", &ctx.setl_id);
    text("psn_no", &ctx.psn_no);
    text("psn_name", &ctx.psn_name);
    text("psn_cert_type", &ctx.psn_cert_type);
    text("certno", &ctx.certno);
    text("gend", ctx.gend.code());
    text("naty", &ctx.naty);
    text("brdy", &date_text(ctx.brdy));
    text("insutype", ctx.insutype.code());
    text("psn_type", &ctx.psn_type.to_string());
    text("cvlserv_flag", flag_text(ctx.cvlserv_flag));
    text("setl_time", &datetime_text(ctx.setl_time));
    text("mdtrt_cert_type", &ctx.mdtrt_cert_type);
    text("med_type", ctx.med_type.code());
    text("medins_setl_id", &ctx.medins_setl_id);
    text("clr_optins", &ctx.clr_optins);
    text("clr_way", &ctx.clr_way);
    text("clr_type", &ctx.clr_type);
    m.insert("age".to_owned(), Value::Number(Number::from(ctx.age)));
    m.insert("pool_prop_selfpay".to_owned(), ratio_number(a.pool_prop_selfpay));
    for (key, amount) in [
        ("medfee_sumamt", a.medfee_sumamt),
        ("fulamt_ownpay_amt", a.fulamt_ownpay_amt),
        ("overlmt_selfpay", a.overlmt_selfpay),
        ("preselfpay_amt", a.preselfpay_amt),
        ("inscp_scp_amt", a.inscp_scp_amt),
        ("act_pay_dedc", a.act_pay_dedc),
        ("hifp_pay", a.hifp_pay),
        ("cvlserv_pay", a.cvlserv_pay),
        ("hifes_pay", a.hifes_pay),
        ("hifmi_pay", a.hifmi_pay),
        ("hifob_pay", a.hifob_pay),
        ("maf_pay", a.maf_pay),
        ("hifdm_pay", a.hifdm_pay),
        ("hosp_part_amt", a.hosp_part_amt),
        ("oth_pay", a.oth_pay),
        ("fund_pay_sumamt", a.fund_pay_sumamt),
        ("psn_part_amt", a.psn_part_amt),
        ("acct_pay", a.acct_pay),
        ("psn_cash_pay", a.psn_cash_pay),
        ("balc", a.balc),
        ("acct_mulaid_pay", a.acct_mulaid_pay),
    ] {
        m.insert(key.to_owned(), amount_number(amount));
    }
    Value::Object(m)
}

/// `output.setldetail[]`: one row per fund that paid (spec §5.2).
///
/// `crt_payb_lmt_amt` is what the fund could still pay before this visit, or 0 for a fund
/// without an annual cap (the production sample reports 0 likewise). `setl_proc_info` is a JSON
/// string listing the policy stages that paid from the fund: `[{"polItemCode":"basic"}]`.
pub fn setldetail(settlement: &Settlement) -> Vec<Value> {
    settlement
        .funds
        .iter()
        .map(|fund| {
            let stages: Vec<Value> = fund
                .stages
                .iter()
                .map(|stage| {
                    let mut item = Map::new();
                    item.insert("polItemCode".to_owned(), Value::String(stage.clone()));
                    Value::Object(item)
                })
                .collect();
            let proc_info = serde_json::to_string(&stages).unwrap_or_else(|_| "[]".to_owned());
            let mut m = Map::new();
            m.insert("fund_pay_type".to_owned(), Value::String(fund.fund.code().to_owned()));
            m.insert(
                "fund_pay_type_name".to_owned(),
                Value::String(fund.fund.name_zh().to_owned()),
            );
            m.insert("inscp_scp_amt".to_owned(), amount_number(fund.base));
            m.insert(
                "crt_payb_lmt_amt".to_owned(),
                amount_number(fund.limit_remaining.unwrap_or(Money::ZERO)),
            );
            m.insert("fund_payamt".to_owned(), amount_number(fund.amount));
            m.insert("setl_proc_info".to_owned(), Value::String(proc_info));
            Value::Object(m)
        })
        .collect()
}

/// The whole output of a (pre-)settlement or its cancellation: `{"setlinfo": …, "setldetail": […]}`.
pub fn settlement_output(settlement: &Settlement, ctx: &SetlContext) -> Value {
    let mut m = Map::new();
    m.insert("setlinfo".to_owned(), setlinfo(settlement, ctx));
    m.insert("setldetail".to_owned(), Value::Array(setldetail(settlement)));
    Value::Object(m)
}

/// 医疗收费项目类别 from the shape of the national code: the catalog does not record it yet.
/// Drugs are 09 西药费 (X…) or 11 中成药费 (Z…), herbal pieces 10 中药饮片费, consumables
/// 08 卫生材料费, and service items 14 其他费 (their finer class is not in the code's shape).
fn med_chrgitm_type(item: &CatalogItem) -> &'static str {
    match item.code.kind() {
        ItemKind::Drug if item.code.as_str().starts_with('Z') => "11",
        ItemKind::Drug => "09",
        ItemKind::HerbalPiece => "10",
        ItemKind::Consumable => "08",
        ItemKind::ServiceItem => "14",
    }
}

/// One row of the 2204/2301 `output.result[]` (the line split, spec §4 2204 output).
///
/// `sn` is echoed as `feedetl_sn`. `selfpay_prop` is 1.0000 for a line that is fully self-paid
/// (丙类 or a restriction not met), else the 乙类 first self-pay ratio applied (0 for 甲类).
/// `pric_uplmt_amt` is the item's price cap, or `null` when it has none. `lmt_used_flag` is 1
/// when the item carries any payment restriction; the other catalog flags (基本药物, 谈判药品,
/// 儿童用药, 目录特项, 直报) are not recorded by the catalog yet and are reported as "0". `memo`
/// gives the self-pay reason, if any.
pub fn fee_result_row(sn: &str, line: &FeeLine, split: &LineSplit, item: &CatalogItem) -> Value {
    let selfpay_prop = if split.reason.is_some() {
        Ratio::ONE
    } else {
        split.first_self_pay_ratio
    };
    let restricted = item.restriction != Restriction::default();
    let mut m = Map::new();
    m.insert("feedetl_sn".to_owned(), Value::String(sn.to_owned()));
    m.insert("det_item_fee_sumamt".to_owned(), amount_number(split.amount));
    m.insert("cnt".to_owned(), quantity_number(line.quantity));
    m.insert("pric".to_owned(), price_number(line.price));
    m.insert(
        "pric_uplmt_amt".to_owned(),
        item.price_cap.map_or(Value::Null, price_number),
    );
    m.insert("selfpay_prop".to_owned(), ratio_number(selfpay_prop));
    m.insert("fulamt_ownpay_amt".to_owned(), amount_number(split.full_self_pay));
    m.insert("overlmt_amt".to_owned(), amount_number(split.over_cap));
    m.insert("preselfpay_amt".to_owned(), amount_number(split.first_self_pay));
    m.insert("inscp_scp_amt".to_owned(), amount_number(split.policy_scope));
    m.insert("chrgitm_lv".to_owned(), Value::String(item.class.code().to_owned()));
    m.insert(
        "med_chrgitm_type".to_owned(),
        Value::String(med_chrgitm_type(item).to_owned()),
    );
    for flag in [
        "bas_medn_flag",
        "hi_nego_drug_flag",
        "chld_medc_flag",
        "list_sp_item_flag",
        "drt_reim_flag",
    ] {
        m.insert(flag.to_owned(), Value::String("0".to_owned()));
    }
    m.insert(
        "lmt_used_flag".to_owned(),
        Value::String(flag_text(restricted).to_owned()),
    );
    m.insert(
        "memo".to_owned(),
        Value::String(split.reason.map_or("", |r| r.text_zh()).to_owned()),
    );
    Value::Object(m)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixed_decimals() {
        assert_eq!(amount_number(Money::from_fen(3_479_000)).to_string(), "34790.00");
        assert_eq!(amount_number(Money::from_fen(-5)).to_string(), "-0.05");
        assert_eq!(amount_number(Money::ZERO).to_string(), "0.00");
        assert_eq!(ratio_number(Ratio::percent(70)).to_string(), "0.7000");
        assert_eq!(ratio_number(Ratio::ONE).to_string(), "1.0000");
        assert_eq!(price_number(Price::from_millionths(1_123_456)).to_string(), "1.123456");
        assert_eq!(
            quantity_number(Quantity::from_ten_thousandths(-25_000)).to_string(),
            "-2.5000"
        );
        assert_eq!(fixed(i64::MIN, 2).to_string(), "-92233720368547758.08");
        // The hand-written digits agree with `format!` across widths and scales.
        for value in [
            0,
            1,
            9,
            10,
            99,
            100,
            12_345,
            999_999,
            1_000_000,
            i64::MAX,
            -1,
            -100,
            i64::MIN + 1,
        ] {
            for scale in [0u32, 2, 4, 6] {
                let (abs, unit) = (value.unsigned_abs(), 10u64.pow(scale));
                let sign = if value < 0 { "-" } else { "" };
                let expected = if scale == 0 {
                    format!("{sign}{abs}")
                } else {
                    format!("{sign}{}.{:0w$}", abs / unit, abs % unit, w = scale as usize)
                };
                assert_eq!(fixed(value, scale).to_string(), expected, "{value} at scale {scale}");
            }
        }
    }
}
