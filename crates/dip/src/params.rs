//! A region's DIP parameters, read from the `[dip]` table of its payment-policy file.
//!
//! Every value a city sets differently is here; nothing in the crate names a region. Decimals are
//! [`Decimal4`] (exact, 4 decimals), never floats.

use serde::Deserialize;
use yibao_codes::HospitalLevel;
use yibao_money::Ratio;

use crate::fixed::{Decimal4, SCORE_SCALE};
use crate::DipError;

/// The most years a catalog may weight (the national rule uses 3).
pub const YEARS_MAX: usize = 5;
/// The largest year weight accepted.
pub const YEAR_WEIGHT_MAX: u32 = 1_000;

/// The DIP parameters of one region.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DipParams {
    /// A (diagnosis 亚目 × procedure combination) with at least this many cases over all the years
    /// is a core group (核心病种); 15 in the 2020 技术规范 (reference §2.2, [M]).
    pub core_case_count_min: u32,
    /// Weights of the historical years, oldest first: `[1, 2, 7]` nationally.
    pub year_weights: Vec<u32>,
    /// `score = m_i ÷ M × score_scale`. Regions use 100 or 1000 (reference §2.3 item 1); 1000
    /// gives an average case 1000 points and a point value near the average cost ÷ 1000 (元/分).
    #[serde(default = "default_score_scale")]
    pub score_scale: u32,
    /// A case costing less than `low_multiple` × its group's standard cost is 费用超低 (0.5).
    pub low_multiple: Decimal4,
    /// A case costing more than `high_multiple` × its group's standard cost is 费用超高 (2).
    pub high_multiple: Decimal4,
    /// A case costing more than this multiple is flagged for expert review (特病单议, 5); it is
    /// still paid as 费用超高 until the review says otherwise. Absent: no flag.
    #[serde(default)]
    pub review_multiple: Option<Decimal4>,
    /// The hospital-level coefficients (医院等级系数) applied to every case's points.
    pub level_coefficients: LevelCoefficients,
    /// The reimbursement ratio (医保报销比例) that turns the fund budget into the total cost the
    /// points share: `点值 = 基金预算 ÷ 报销比例 ÷ 总分值`. The CLI may override it for a year.
    pub reimbursement_ratio: Decimal4,
}

fn default_score_scale() -> u32 {
    1_000
}

/// Coefficients for 一级, 二级 and 三级 hospitals.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LevelCoefficients {
    pub level_1: Decimal4,
    pub level_2: Decimal4,
    pub level_3: Decimal4,
}

impl LevelCoefficients {
    pub fn of(&self, level: HospitalLevel) -> Decimal4 {
        match level {
            HospitalLevel::Level1 => self.level_1,
            HospitalLevel::Level2 => self.level_2,
            HospitalLevel::Level3 => self.level_3,
        }
    }
}

impl DipParams {
    /// Checks the values a deserializer cannot: weights present and bounded, `low ≤ 1 ≤ high`,
    /// `low < high`, the review multiple above the high one, positive coefficients and ratio.
    pub fn validate(&self) -> Result<(), DipError> {
        let bad = |message: String| Err(DipError::Params(message));
        if self.core_case_count_min == 0 {
            return bad("core_case_count_min 应至少为1".into());
        }
        if self.year_weights.is_empty() || self.year_weights.len() > YEARS_MAX {
            return bad(format!("year_weights 应有1到{YEARS_MAX}个权重"));
        }
        if self.year_weights.iter().any(|&w| w == 0 || w > YEAR_WEIGHT_MAX) {
            return bad(format!("year_weights 每个权重应在1到{YEAR_WEIGHT_MAX}之间"));
        }
        if !(1..=10_000).contains(&self.score_scale) {
            return bad("score_scale 应在1到10000之间(常用100或1000)".into());
        }
        let (low, high) = (
            self.low_multiple.ten_thousandths(),
            self.high_multiple.ten_thousandths(),
        );
        if low > SCORE_SCALE || high < SCORE_SCALE || low >= high {
            return bad(format!(
                "倍率应满足 low_multiple({}) ≤ 1 ≤ high_multiple({}) 且 low < high",
                self.low_multiple, self.high_multiple
            ));
        }
        if let Some(review) = self.review_multiple {
            if review <= self.high_multiple {
                return bad(format!(
                    "review_multiple({review}) 应大于 high_multiple({})",
                    self.high_multiple
                ));
            }
        }
        for level in HospitalLevel::ALL {
            if self.level_coefficients.of(*level).ten_thousandths() == 0 {
                return bad(format!("{}医院系数不能为0", level.name_zh()));
            }
        }
        self.reimbursement_ratio()?;
        Ok(())
    }

    /// The reimbursement ratio as a [`Ratio`]: above 0 and at most 1.
    pub fn reimbursement_ratio(&self) -> Result<Ratio, DipError> {
        match Ratio::from_ten_thousandths(self.reimbursement_ratio.ten_thousandths()) {
            Some(r) if !r.is_zero() => Ok(r),
            _ => Err(DipError::Params(format!(
                "reimbursement_ratio({}) 应大于0且不超过1",
                self.reimbursement_ratio
            ))),
        }
    }
}
