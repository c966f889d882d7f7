//! Case points with outliers, the settlement point value, and the annual settlement per hospital.
//!
//! **Case points** (病例结算分值, reference §2.3 items 4–5). Against the group's standard cost `A`
//! ([`DipGroup::standard_cost`]) and a case's total cost `C`:
//!
//! - `C < low_multiple × A` (费用超低): `分值 × C/A`;
//! - `C > high_multiple × A` (费用超高): `分值 × (C/A − high_multiple + 1)`; with the national 2 this
//!   is the reference's `(C/A − 2) + 1`, and in general it is continuous at the threshold (a case
//!   just above it gets the group's score, as one just below does);
//! - otherwise (正常): `分值`.
//!
//! The comparisons are exact and strict (`<`, `>`), as the 技术规范 text has them; a case exactly at
//! a threshold is normal. The result is multiplied by the hospital-level coefficient and rounded
//! half up (四舍五入) to 4 decimals **once**, from the exact product: a case's points never carry
//! an intermediate rounding. Above `review_multiple` the case is also flagged for 特病单议.
//!
//! **Settlement point value** (结算点值, item 3): `(基金预算 ÷ 报销比例) ÷ Σ病例结算分值`, where the
//! sum is over the case points actually paid (scores × deviation × level coefficient), so the pool
//! divides exactly among them. One exact quotient, rounded **down** (舍去) to 6 decimals: the
//! points × point value never exceed the pool; they fall short of it by less than
//! `Σ分值 × 0.000001` 元.
//!
//! **Hospital payment** (item 6): `DIP分值费用 = Σ病例分值 × 点值`, rounded half up to the fen once
//! per hospital; `DIP基金支付 = 分值费用 − Σ患者个人负担`; compared with the fund money paid by item
//! during the year (monthly provisional payments) it gives the amount due to the hospital (positive)
//! or back from it (negative). So the hospitals' amounts add up to `Σ分值 × 点值` within half a fen
//! per hospital. Cases in no group are paid by item: they are counted on the statement but take no
//! part in the reconciliation. Assessment coefficients and withholdings (考核系数, 5% 质量保证金) are
//! local rules not applied here.

use std::fmt::Write as _;

use rustc_hash::FxHashMap;
use yibao_codes::HospitalLevel;
use yibao_money::{Money, Ratio, Rounding, AMOUNT_FEN_MAX, RATIO_SCALE};

use crate::catalog::{Catalog, Grouping, ProcedureClassifier, CASES_MAX, CASE_COST_FEN_MAX, POINT_VALUE_ROUNDING};
use crate::fixed::{format_fixed, Decimal4, PointValue, Score, SCORE_SCALE};
use crate::params::DipParams;
use crate::DipError;

/// Case points are rounded half up to 4 decimals.
pub const POINTS_ROUNDING: Rounding = Rounding::HalfUp;
/// Hospital amounts are rounded half up to the fen.
pub const AMOUNT_ROUNDING: Rounding = Rounding::HalfUp;

/// How a case's cost compares with its group's standard cost.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Deviation {
    /// 正常病例
    Normal,
    /// 费用超低病例
    Low,
    /// 费用超高病例
    High,
}

impl Deviation {
    pub fn name_zh(self) -> &'static str {
        match self {
            Deviation::Normal => "正常病例",
            Deviation::Low => "费用超低病例",
            Deviation::High => "费用超高病例",
        }
    }
}

/// The points of one case and what they came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CasePoints {
    /// The group's score.
    pub score: Score,
    pub standard_cost: Money,
    pub total_cost: Money,
    pub deviation: Deviation,
    /// Above `review_multiple`: to be reviewed by experts (特病单议).
    pub review: bool,
    pub level_coefficient: Decimal4,
    pub low_multiple: Decimal4,
    pub high_multiple: Decimal4,
    /// 病例结算分值.
    pub points: Score,
}

impl CasePoints {
    /// Classes a case and computes its points (see the module documentation). `total_cost` must be
    /// within 0..=[`CASE_COST_FEN_MAX`] and `standard_cost` positive.
    pub fn compute(
        score: Score,
        standard_cost: Money,
        total_cost: Money,
        level_coefficient: Decimal4,
        params: &DipParams,
    ) -> Result<CasePoints, DipError> {
        let (a, c) = (i128::from(standard_cost.fen()), i128::from(total_cost.fen()));
        if a <= 0 || !(0..=i128::from(CASE_COST_FEN_MAX)).contains(&c) {
            return Err(DipError::OutOfRange("病例费用或标准费用".into()));
        }
        let scale = i128::from(SCORE_SCALE);
        let (low, high) = (
            i128::from(params.low_multiple.ten_thousandths()),
            i128::from(params.high_multiple.ten_thousandths()),
        );
        let deviation = if c * scale < low * a {
            Deviation::Low
        } else if c * scale > high * a {
            Deviation::High
        } else {
            Deviation::Normal
        };
        let review = params
            .review_multiple
            .is_some_and(|r| c * scale > i128::from(r.ten_thousandths()) * a);
        let base = i128::from(score.ten_thousandths()) * i128::from(level_coefficient.ten_thousandths());
        let (numerator, denominator) = match deviation {
            Deviation::Normal => (Some(base), scale),
            Deviation::Low => (base.checked_mul(c), scale * a),
            // score × (C/A − H + 1) = score × (C·10⁴ − (H − 10⁴)·A) / (10⁴·A), H in ten-thousandths.
            Deviation::High => (base.checked_mul(c * scale - (high - scale) * a), scale * scale * a),
        };
        let out_of_range = || DipError::OutOfRange("病例结算分值".into());
        let points = POINTS_ROUNDING.div(numerator.ok_or_else(out_of_range)?, denominator);
        let points = i64::try_from(points).map_err(|_| out_of_range())?;
        Ok(CasePoints {
            score,
            standard_cost,
            total_cost,
            deviation,
            review,
            level_coefficient,
            low_multiple: params.low_multiple,
            high_multiple: params.high_multiple,
            points: Score::from_ten_thousandths(points),
        })
    }

    /// The arithmetic in Chinese.
    pub fn explain(&self) -> String {
        let CasePoints {
            score,
            standard_cost: a,
            total_cost: c,
            level_coefficient: k,
            low_multiple: l,
            high_multiple: h,
            points,
            ..
        } = *self;
        let rounding = POINTS_ROUNDING.name_zh();
        let mut text = match self.deviation {
            Deviation::Normal => format!(
                "{l}×标准费用{a}≤医疗总费用{c}≤{h}×标准费用{a}，正常病例；病例分值=病种分值{score}×等级系数{k}={points}分"
            ),
            Deviation::Low => format!(
                "医疗总费用{c}<{l}×标准费用{a}，费用超低病例；病例分值=病种分值{score}×(医疗总费用{c}÷标准费用{a})×等级系数{k}={points}分({rounding}到4位小数)"
            ),
            Deviation::High => format!(
                "医疗总费用{c}>{h}×标准费用{a}，费用超高病例；病例分值=病种分值{score}×(医疗总费用{c}÷标准费用{a}−{h}+1)×等级系数{k}={points}分({rounding}到4位小数)"
            ),
        };
        if self.review {
            text.push_str("；费用超过特病单议倍数，需专家评议");
        }
        text
    }
}

/// A case of the settlement year.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SettlementCase {
    pub case_id: String,
    pub hospital_id: String,
    pub hospital_level: HospitalLevel,
    pub principal_diagnosis: String,
    /// Main procedure first.
    pub procedures: Vec<String>,
    /// 医疗总费用.
    pub total_cost: Money,
    /// What the patient paid (个人负担: deductible, coinsurance, self-pay items).
    pub self_paid: Money,
    /// The fund money already paid for the case by item (月度按项目预拨).
    pub item_fund_paid: Money,
}

/// One case's outcome.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SettledCase {
    pub case_id: String,
    pub hospital_id: String,
    pub grouping: Grouping,
    /// `None` for a case in no group (paid by item).
    pub points: Option<CasePoints>,
}

/// One hospital's annual DIP statement (年度清算单).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HospitalStatement {
    pub hospital_id: String,
    pub hospital_level: HospitalLevel,
    pub level_coefficient: Decimal4,
    /// Cases in a DIP group.
    pub case_count: u64,
    pub low_case_count: u64,
    pub high_case_count: u64,
    /// Cases flagged for 特病单议.
    pub review_case_count: u64,
    /// Cases in no group, paid by item and left out of the reconciliation.
    pub unmatched_case_count: u64,
    pub unmatched_item_fund_paid: Money,
    /// Σ case points.
    pub total_points: Score,
    pub point_value: PointValue,
    /// `total_points × point_value`, rounded half up to the fen (DIP分值费用).
    pub points_amount: Money,
    /// Σ what the patients of the DIP cases paid themselves.
    pub self_paid: Money,
    /// `points_amount − self_paid` (DIP基金支付).
    pub dip_fund_payment: Money,
    /// The fund money paid by item for the DIP cases during the year.
    pub item_fund_paid: Money,
    /// `dip_fund_payment − item_fund_paid`: due to the hospital if positive, back from it if negative.
    pub difference: Money,
}

impl HospitalStatement {
    /// The statement's arithmetic in Chinese, one step a line.
    pub fn explain(&self) -> String {
        let s = self;
        let mut text = format!(
            "医院{}({}医院，等级系数{})：入组病例{}例(费用超低{}例，费用超高{}例，特病单议{}例)",
            s.hospital_id,
            s.hospital_level.name_zh(),
            s.level_coefficient,
            s.case_count,
            s.low_case_count,
            s.high_case_count,
            s.review_case_count
        );
        if s.unmatched_case_count > 0 {
            let _ = write!(
                text,
                "；未入组{}例按项目付费(基金已付{}，不参与清算)",
                s.unmatched_case_count, s.unmatched_item_fund_paid
            );
        }
        let _ = write!(
            text,
            "\nDIP分值费用=总分值×结算点值={}分×{}元/分={}({}到分)\
             \nDIP基金支付=分值费用−患者个人负担={}−{}={}\
             \n清算差额=DIP基金支付−按项目已拨付={}−{}={}",
            s.total_points,
            s.point_value,
            s.points_amount,
            AMOUNT_ROUNDING.name_zh(),
            s.points_amount,
            s.self_paid,
            s.dip_fund_payment,
            s.dip_fund_payment,
            s.item_fund_paid,
            s.difference
        );
        text.push_str(&if s.difference.is_negative() {
            format!("，应追回{}", -s.difference)
        } else if s.difference.is_zero() {
            "，无差额".to_owned()
        } else {
            format!("，应补付医院{}", s.difference)
        });
        text
    }
}

/// The outcome of a year.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct YearSettlement {
    pub budget: Money,
    pub reimbursement_ratio: Ratio,
    /// Σ points of all grouped cases, in ten-thousandths (may exceed `i64` only in theory).
    pub total_points_ten_thousandths: i128,
    pub point_value: PointValue,
    /// One per hospital, by hospital id.
    pub statements: Vec<HospitalStatement>,
    /// In input order.
    pub cases: Vec<SettledCase>,
}

impl YearSettlement {
    /// How the point value was found.
    pub fn explain_point_value(&self) -> String {
        format!(
            "结算点值=(DIP基金预算{}÷报销比例{})÷总分值{}分={}元/分({}到6位小数)",
            self.budget,
            self.reimbursement_ratio,
            format_fixed(self.total_points_ten_thousandths, 4),
            self.point_value,
            POINT_VALUE_ROUNDING.name_zh()
        )
    }
}

/// `(budget ÷ ratio) ÷ points`, rounded down to 6 decimals.
pub fn settlement_point_value(
    budget: Money,
    reimbursement_ratio: Ratio,
    total_points_ten_thousandths: i128,
) -> Result<PointValue, DipError> {
    if total_points_ten_thousandths <= 0 {
        return Err(DipError::NoPoints);
    }
    if budget.is_negative() || budget.fen() > AMOUNT_FEN_MAX {
        return Err(DipError::Params(format!(
            "DIP基金预算{budget}应在0到{}之间",
            Money::from_fen(AMOUNT_FEN_MAX)
        )));
    }
    if reimbursement_ratio.is_zero() {
        return Err(DipError::Params("报销比例不能为0".into()));
    }
    // fen/100 元 ÷ (r/10⁴) ÷ (P/10⁴) × 10⁶ = fen × 10¹² ÷ (r × P) millionths.
    let numerator = i128::from(budget.fen()) * 1_000_000_000_000;
    let denominator = i128::from(reimbursement_ratio.ten_thousandths())
        .checked_mul(total_points_ten_thousandths)
        .ok_or_else(|| DipError::OutOfRange("总分值".into()))?;
    let value = POINT_VALUE_ROUNDING.div(numerator, denominator);
    i64::try_from(value)
        .map(PointValue::from_millionths)
        .map_err(|_| DipError::OutOfRange("结算点值".into()))
}

#[derive(Default)]
struct HospitalSums {
    level: Option<HospitalLevel>,
    case_count: u64,
    low_case_count: u64,
    high_case_count: u64,
    review_case_count: u64,
    unmatched_case_count: u64,
    unmatched_item_fund_paid_fen: i64,
    points: i128,
    self_paid_fen: i64,
    item_fund_paid_fen: i64,
}

/// Settles a year: every case grouped and pointed, the point value from `budget` (the fund money
/// available for DIP) and `reimbursement_ratio`, and one statement per hospital.
pub fn settle_year(
    catalog: &Catalog,
    params: &DipParams,
    classifier: &ProcedureClassifier,
    cases: &[SettlementCase],
    budget: Money,
    reimbursement_ratio: Ratio,
) -> Result<YearSettlement, DipError> {
    params.validate()?;
    if cases.is_empty() {
        return Err(DipError::NoCases);
    }
    if cases.len() > CASES_MAX {
        return Err(DipError::TooManyCases {
            count: cases.len(),
            max: CASES_MAX,
        });
    }
    let mut hospitals: FxHashMap<&str, HospitalSums> = FxHashMap::default();
    let mut settled = Vec::with_capacity(cases.len());
    let mut total_points: i128 = 0;
    for case in cases {
        let bad = |reason: String| DipError::BadCase {
            case_id: case.case_id.clone(),
            reason,
        };
        for (name, amount) in [
            ("医疗总费用", case.total_cost),
            ("个人负担", case.self_paid),
            ("按项目已支付基金", case.item_fund_paid),
        ] {
            if amount.is_negative() || amount.fen() > CASE_COST_FEN_MAX {
                return Err(bad(format!(
                    "{name}{amount}应在0到{}之间",
                    Money::from_fen(CASE_COST_FEN_MAX)
                )));
            }
        }
        let sums = hospitals.entry(case.hospital_id.as_str()).or_default();
        match sums.level {
            Some(level) if level != case.hospital_level => {
                return Err(bad(format!(
                    "医院{}的等级为{}，与此前病例的{}不一致",
                    case.hospital_id,
                    case.hospital_level.name_zh(),
                    level.name_zh()
                )))
            }
            _ => sums.level = Some(case.hospital_level),
        }
        let grouping = catalog.group(&case.principal_diagnosis, &case.procedures, classifier);
        let group = match &grouping {
            Grouping::Core(i) | Grouping::Comprehensive(i) => Some(catalog.group_at(*i)),
            Grouping::Unmatched(_) => None,
        };
        let points = match group {
            None => {
                sums.unmatched_case_count += 1;
                sums.unmatched_item_fund_paid_fen += case.item_fund_paid.fen();
                None
            }
            Some(group) => {
                let p = CasePoints::compute(
                    group.score,
                    group.standard_cost(case.hospital_level),
                    case.total_cost,
                    params.level_coefficients.of(case.hospital_level),
                    params,
                )
                .map_err(|e| bad(e.to_string()))?;
                sums.case_count += 1;
                sums.low_case_count += u64::from(p.deviation == Deviation::Low);
                sums.high_case_count += u64::from(p.deviation == Deviation::High);
                sums.review_case_count += u64::from(p.review);
                sums.points += i128::from(p.points.ten_thousandths());
                sums.self_paid_fen += case.self_paid.fen();
                sums.item_fund_paid_fen += case.item_fund_paid.fen();
                total_points += i128::from(p.points.ten_thousandths());
                Some(p)
            }
        };
        settled.push(SettledCase {
            case_id: case.case_id.clone(),
            hospital_id: case.hospital_id.clone(),
            grouping,
            points,
        });
    }
    let point_value = settlement_point_value(budget, reimbursement_ratio, total_points)?;

    let mut statements = Vec::with_capacity(hospitals.len());
    for (hospital_id, sums) in hospitals {
        let level = sums.level.expect("a hospital is recorded with its first case");
        let out_of_range = || DipError::OutOfRange(format!("医院{hospital_id}的结算金额"));
        let points_amount = point_value
            .times_points(sums.points, AMOUNT_ROUNDING)
            .filter(|m| m.fen() <= AMOUNT_FEN_MAX)
            .ok_or_else(out_of_range)?;
        let total_points = i64::try_from(sums.points)
            .map(Score::from_ten_thousandths)
            .map_err(|_| out_of_range())?;
        // Each term is below 2×10¹⁷ fen in magnitude, so these differences cannot overflow.
        let dip_fund_payment = Money::from_fen(points_amount.fen() - sums.self_paid_fen);
        let difference = Money::from_fen(dip_fund_payment.fen() - sums.item_fund_paid_fen);
        statements.push(HospitalStatement {
            hospital_id: hospital_id.to_owned(),
            hospital_level: level,
            level_coefficient: params.level_coefficients.of(level),
            case_count: sums.case_count,
            low_case_count: sums.low_case_count,
            high_case_count: sums.high_case_count,
            review_case_count: sums.review_case_count,
            unmatched_case_count: sums.unmatched_case_count,
            unmatched_item_fund_paid: Money::from_fen(sums.unmatched_item_fund_paid_fen),
            total_points,
            point_value,
            points_amount,
            self_paid: Money::from_fen(sums.self_paid_fen),
            dip_fund_payment,
            item_fund_paid: Money::from_fen(sums.item_fund_paid_fen),
            difference,
        });
    }
    statements.sort_unstable_by(|a, b| a.hospital_id.cmp(&b.hospital_id));
    Ok(YearSettlement {
        budget,
        reimbursement_ratio,
        total_points_ten_thousandths: total_points,
        point_value,
        statements,
        cases: settled,
    })
}

// `settlement_point_value`'s factor 10¹² assumes ratios and points both in ten-thousandths.
const _: () = assert!(RATIO_SCALE == 10_000 && SCORE_SCALE == 10_000);
