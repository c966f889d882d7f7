//! The catalog (医保目录) and the split of each fee line.
//!
//! Every fee line of a visit is split here, before any policy runs, into four parts that always
//! add up to the line's amount:
//!
//! - fully self-paid (全自费): 丙类 items, and items whose payment restriction is not met;
//! - over the price cap (超限价自付): the part of the price above the item's cap;
//! - first self-pay (乙类先行自付): the 乙类 item's self-pay ratio × the capped amount;
//! - policy-scope amount (政策范围内费用): the rest, which the benefit policy then divides.
//!
//! A restriction that is not met moves the line to self-pay with a reason; it never fails the
//! visit. The catalog is loaded from the region's published table ([`Catalog::from_csv`]).

mod load;

pub use load::{CatalogError, CATALOG_ITEMS_MAX};

use rustc_hash::FxHashMap;
use yibao_codes::{ChargeClass, HospitalLevel, InsuranceType, ItemCode, Sex};
use yibao_money::{Money, Price, Quantity, Ratio, Rounding};

/// Who may be paid for an item (限定支付范围). Empty fields restrict nothing.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Restriction {
    pub sex: Option<Sex>,
    pub age_years_min: Option<u16>,
    pub age_years_max: Option<u16>,
    pub level_min: Option<HospitalLevel>,
    pub inpatient_only: bool,
    /// Insurance types that may be paid; empty means all.
    pub insurance_types: Vec<InsuranceType>,
    /// Days per course the fund pays for (限定支付天数); later days are self-paid.
    pub days_max: Option<u16>,
}

/// One catalog entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CatalogItem {
    pub code: ItemCode,
    pub name: String,
    pub class: ChargeClass,
    /// 先行自付比例 for 乙类 items.
    pub first_self_pay: Ratio,
    /// A different first self-pay ratio for some insurance types (e.g. residents 10%, employees 5%).
    pub first_self_pay_by_insurance: Vec<(InsuranceType, Ratio)>,
    /// 最高限价: the fund never pays above this unit price.
    pub price_cap: Option<Price>,
    pub restriction: Restriction,
}

impl CatalogItem {
    pub fn first_self_pay_for(&self, insurance: InsuranceType) -> Ratio {
        self.first_self_pay_by_insurance
            .iter()
            .find(|(t, _)| *t == insurance)
            .map_or(self.first_self_pay, |(_, r)| *r)
    }
}

/// A region's catalog, looked up by national code.
#[derive(Clone, Debug, Default)]
pub struct Catalog {
    items: FxHashMap<Box<str>, CatalogItem>,
}

impl Catalog {
    pub fn new() -> Catalog {
        Catalog::default()
    }

    /// Adds or replaces an item.
    pub fn insert(&mut self, item: CatalogItem) {
        self.items.insert(item.code.as_str().into(), item);
    }

    pub fn get(&self, code: &str) -> Option<&CatalogItem> {
        self.items.get(code)
    }

    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = &CatalogItem> {
        self.items.values()
    }
}

/// Why a line, or part of it, is paid by the person. The codes are stable: they are stored with
/// settlements and shown to HIS engineers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize)]
pub enum SelfPayReason {
    /// 丙类, outside the list.
    ClassC,
    SexRestricted,
    AgeRestricted,
    LevelRestricted,
    InpatientOnly,
    InsuranceRestricted,
    DaysExceeded,
    /// 智能监控拒付: a supervision rule of the region refused the line (or part of it).
    Refused,
}

impl SelfPayReason {
    pub fn code(self) -> &'static str {
        match self {
            SelfPayReason::ClassC => "Z01",
            SelfPayReason::SexRestricted => "Z11",
            SelfPayReason::AgeRestricted => "Z12",
            SelfPayReason::LevelRestricted => "Z13",
            SelfPayReason::InpatientOnly => "Z14",
            SelfPayReason::InsuranceRestricted => "Z15",
            SelfPayReason::DaysExceeded => "Z16",
            SelfPayReason::Refused => "Z20",
        }
    }

    pub fn text_zh(self) -> &'static str {
        match self {
            SelfPayReason::ClassC => "丙类项目,全自费",
            SelfPayReason::SexRestricted => "限定性别使用,不符合限定支付范围",
            SelfPayReason::AgeRestricted => "限定年龄使用,不符合限定支付范围",
            SelfPayReason::LevelRestricted => "限定医院等级使用,不符合限定支付范围",
            SelfPayReason::InpatientOnly => "限住院使用,门诊不予支付",
            SelfPayReason::InsuranceRestricted => "限定险种支付,本险种不予支付",
            SelfPayReason::DaysExceeded => "超过限定支付天数",
            SelfPayReason::Refused => "智能监控拒付",
        }
    }
}

/// What the line split needs to know about the visit.
#[derive(Clone, Copy, Debug)]
pub struct LineContext {
    pub sex: Sex,
    pub age_years: u16,
    pub level: HospitalLevel,
    pub inpatient: bool,
    pub insurance: InsuranceType,
    pub rounding: Rounding,
}

/// The four parts of one fee line. `full_self_pay + over_cap + first_self_pay + policy_scope ==
/// amount`, always.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct LineSplit {
    pub amount: Money,
    pub full_self_pay: Money,
    pub over_cap: Money,
    pub first_self_pay: Money,
    pub policy_scope: Money,
    /// The 乙类 ratio applied, zero for other classes.
    pub first_self_pay_ratio: Ratio,
    pub reason: Option<SelfPayReason>,
}

impl LineSplit {
    fn assert_conserves(&self) {
        assert_eq!(
            self.full_self_pay + self.over_cap + self.first_self_pay + self.policy_scope,
            self.amount,
            "line split must conserve the line amount"
        );
        assert!(!self.full_self_pay.is_negative() && !self.over_cap.is_negative());
        assert!(!self.first_self_pay.is_negative() && !self.policy_scope.is_negative());
    }
}

/// Splits one line. `days_used` is how many distinct days of this item were already paid in
/// this course of treatment (for 限定支付天数), counting this line's day.
pub fn split_line(
    item: &CatalogItem,
    amount: Money,
    price: Price,
    quantity: Quantity,
    day_number: u16,
    context: &LineContext,
) -> LineSplit {
    assert!(
        !amount.is_negative(),
        "line amounts are validated non-negative before the split"
    );
    let self_paid = |reason| LineSplit {
        amount,
        full_self_pay: amount,
        reason: Some(reason),
        ..LineSplit::default()
    };
    if item.class == ChargeClass::C {
        return self_paid(SelfPayReason::ClassC);
    }
    if let Some(reason) = restriction_failure(&item.restriction, day_number, context) {
        return self_paid(reason);
    }
    let over_cap = match item.price_cap {
        Some(cap) if price > cap => {
            let capped = Money::from_price_quantity(cap, quantity, context.rounding);
            amount.saturating_sub_to_zero(capped)
        }
        _ => Money::ZERO,
    };
    let capped_amount = amount - over_cap;
    let ratio = match item.class {
        ChargeClass::B => item.first_self_pay_for(context.insurance),
        _ => Ratio::ZERO,
    };
    let first_self_pay = capped_amount.times(ratio, context.rounding);
    let split = LineSplit {
        amount,
        full_self_pay: Money::ZERO,
        over_cap,
        first_self_pay,
        policy_scope: capped_amount - first_self_pay,
        first_self_pay_ratio: ratio,
        reason: None,
    };
    split.assert_conserves();
    split
}

fn restriction_failure(restriction: &Restriction, day_number: u16, context: &LineContext) -> Option<SelfPayReason> {
    if restriction.sex.is_some_and(|sex| sex != context.sex) {
        return Some(SelfPayReason::SexRestricted);
    }
    if restriction.age_years_min.is_some_and(|min| context.age_years < min)
        || restriction.age_years_max.is_some_and(|max| context.age_years > max)
    {
        return Some(SelfPayReason::AgeRestricted);
    }
    if restriction.level_min.is_some_and(|min| context.level < min) {
        return Some(SelfPayReason::LevelRestricted);
    }
    if restriction.inpatient_only && !context.inpatient {
        return Some(SelfPayReason::InpatientOnly);
    }
    if !restriction.insurance_types.is_empty() && !restriction.insurance_types.contains(&context.insurance) {
        return Some(SelfPayReason::InsuranceRestricted);
    }
    if restriction.days_max.is_some_and(|max| day_number > max) {
        return Some(SelfPayReason::DaysExceeded);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(class: ChargeClass) -> CatalogItem {
        CatalogItem {
            code: ItemCode::parse("XB03ACY199B002010104718").unwrap(),
            name: "右旋糖酐铁注射液".into(),
            class,
            first_self_pay: Ratio::percent(10),
            first_self_pay_by_insurance: vec![(InsuranceType::EmployeeBasic, Ratio::percent(5))],
            price_cap: Some(Price::parse("20").unwrap()),
            restriction: Restriction::default(),
        }
    }

    fn context() -> LineContext {
        LineContext {
            sex: Sex::Male,
            age_years: 40,
            level: HospitalLevel::Level2,
            inpatient: false,
            insurance: InsuranceType::ResidentBasic,
            rounding: Rounding::HalfUp,
        }
    }

    fn split(item: &CatalogItem, price: &str, qty: &str, day: u16, ctx: &LineContext) -> LineSplit {
        let price = Price::parse(price).unwrap();
        let quantity = Quantity::parse(qty).unwrap();
        let amount = Money::from_price_quantity(price, quantity, Rounding::HalfUp);
        split_line(item, amount, price, quantity, day, ctx)
    }

    #[test]
    fn class_b_over_cap_then_first_self_pay() {
        // 3 × 25.00 = 75.00; cap 20 → 15.00 over cap; 10% of 60.00 → 6.00 first self-pay.
        let s = split(&item(ChargeClass::B), "25", "3", 1, &context());
        assert_eq!(
            (
                s.over_cap.to_string(),
                s.first_self_pay.to_string(),
                s.policy_scope.to_string()
            ),
            ("15.00".into(), "6.00".into(), "54.00".into())
        );
    }

    #[test]
    fn first_self_pay_ratio_may_differ_by_insurance_type() {
        let ctx = LineContext {
            insurance: InsuranceType::EmployeeBasic,
            ..context()
        };
        let s = split(&item(ChargeClass::B), "10", "10", 1, &ctx);
        assert_eq!(s.first_self_pay.to_string(), "5.00");
        assert_eq!(s.first_self_pay_ratio, Ratio::percent(5));
    }

    #[test]
    fn class_c_is_fully_self_paid() {
        let s = split(&item(ChargeClass::C), "10", "2", 1, &context());
        assert_eq!(s.full_self_pay.to_string(), "20.00");
        assert_eq!(s.reason, Some(SelfPayReason::ClassC));
    }

    #[test]
    fn unmet_restrictions_move_the_line_to_self_pay() {
        let mut restricted = item(ChargeClass::A);
        restricted.restriction = Restriction {
            sex: Some(Sex::Female),
            ..Restriction::default()
        };
        assert_eq!(
            split(&restricted, "10", "1", 1, &context()).reason,
            Some(SelfPayReason::SexRestricted)
        );

        restricted.restriction = Restriction {
            inpatient_only: true,
            ..Restriction::default()
        };
        assert_eq!(
            split(&restricted, "10", "1", 1, &context()).reason,
            Some(SelfPayReason::InpatientOnly)
        );
        let inpatient = LineContext {
            inpatient: true,
            ..context()
        };
        assert_eq!(split(&restricted, "10", "1", 1, &inpatient).reason, None);

        restricted.restriction = Restriction {
            days_max: Some(14),
            ..Restriction::default()
        };
        assert_eq!(split(&restricted, "10", "1", 14, &context()).reason, None);
        assert_eq!(
            split(&restricted, "10", "1", 15, &context()).reason,
            Some(SelfPayReason::DaysExceeded)
        );

        restricted.restriction = Restriction {
            level_min: Some(HospitalLevel::Level3),
            ..Restriction::default()
        };
        assert_eq!(
            split(&restricted, "10", "1", 1, &context()).reason,
            Some(SelfPayReason::LevelRestricted)
        );

        restricted.restriction = Restriction {
            age_years_max: Some(18),
            ..Restriction::default()
        };
        assert_eq!(
            split(&restricted, "10", "1", 1, &context()).reason,
            Some(SelfPayReason::AgeRestricted)
        );

        restricted.restriction = Restriction {
            insurance_types: vec![InsuranceType::EmployeeBasic],
            ..Restriction::default()
        };
        assert_eq!(
            split(&restricted, "10", "1", 1, &context()).reason,
            Some(SelfPayReason::InsuranceRestricted)
        );
    }
}
