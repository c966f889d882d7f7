//! DIP (按病种分值付费, Diagnosis-Intervention Packet): a region's catalog of disease × procedure
//! groups built from its historical cases, their scores, point values, outlier cases and the
//! annual settlement per hospital.
//!
//! The formulas are those of the 2020 技术规范 as the reference (`shared/reference/drg-dip.md` §2)
//! reports them; each module says which choices it makes where the reference leaves one open:
//!
//! - [`catalog`]: the group key, core vs comprehensive groups, 1:2:7 weighted costs, scores
//!   (`m_i ÷ M × 1000`), the budget point value, and the grouping of a new case;
//! - [`settle`]: case points with 费用超低/费用超高 outliers and the hospital-level coefficient, the
//!   settlement point value `(基金预算 ÷ 报销比例) ÷ Σ分值`, and each hospital's statement;
//! - [`params`]: the region's parameters, the `[dip]` table of its payment-policy file;
//! - [`fixed`]: scores (4 decimals), point values (6 decimals) and parameters (4 decimals).
//!
//! The crate does no I/O: the caller passes cases and parameters in. Money is [`yibao_money::Money`]
//! (fen); scores and point values are fixed-point integers; no float is used anywhere. Every
//! rounding is named: averages and scores half up (四舍五入, as published figures are), point
//! values down (舍去, the pool is a budget), case points half up to 4 decimals once, hospital
//! amounts half up to the fen once. Inputs are bounded ([`CASES_MAX`], [`PROCEDURES_PER_CASE_MAX`],
//! [`CASE_COST_FEN_MAX`]); anything out of bounds is an error, never a panic.
//!
//! ```
//! use yibao_codes::HospitalLevel;
//! use yibao_dip::{Catalog, DipParams, HistoricalCase, ProcedureClassifier};
//! use yibao_money::Money;
//!
//! let params: DipParams = toml::from_str(
//!     r#"
//!     core_case_count_min = 2
//!     year_weights = [1, 2, 7]
//!     low_multiple = 0.5
//!     high_multiple = 2
//!     reimbursement_ratio = 0.7
//!     level_coefficients = { level_1 = 0.8, level_2 = 0.9, level_3 = 1 }
//!     "#,
//! )
//! .unwrap();
//! let case = |id: &str, year, dx: &str, px: &[&str], yuan| HistoricalCase {
//!     case_id: id.into(),
//!     year,
//!     hospital_id: "H1".into(),
//!     hospital_level: HospitalLevel::Level3,
//!     principal_diagnosis: dx.into(),
//!     procedures: px.iter().map(|p| p.to_string()).collect(),
//!     total_cost: Money::from_yuan(yuan),
//! };
//! let cases = [
//!     case("1", 2023, "I21.001", &["36.0601"], 30000),
//!     case("2", 2023, "I21.002", &["36.0601"], 34000),
//!     case("3", 2023, "J18.900", &[], 8000),
//! ];
//! let catalog = Catalog::build(&cases, &[2021, 2022, 2023], &params, &ProcedureClassifier::default()).unwrap();
//! let stent = catalog.by_code("I21.0:36.0601").unwrap();
//! // M = (30000 + 34000 + 8000) ÷ 3 = 24000; m = 32000; 32000 ÷ 24000 × 1000
//! assert_eq!(stent.score.to_string(), "1333.3333");
//! assert!(catalog.by_code("J18:综合:保守治疗").is_some());
//! ```

pub mod catalog;
pub mod fixed;
pub mod params;
pub mod settle;

pub use catalog::{
    comprehensive_code, core_code, diagnosis_keys, BuildSummary, Catalog, DipGroup, GroupKind, Grouping,
    HistoricalCase, ProcedureClassifier, TreatmentKind, Unmatched, CASES_MAX, CASE_COST_FEN_MAX, CODE_LEN_MAX,
    PROCEDURES_PER_CASE_MAX,
};
pub use fixed::{Decimal4, PointValue, Score};
pub use params::{DipParams, LevelCoefficients};
pub use settle::{
    settle_year, settlement_point_value, CasePoints, Deviation, HospitalStatement, SettledCase, SettlementCase,
    YearSettlement,
};

/// Why a build or a settlement was refused. Chinese, as bureau staff read it.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DipError {
    #[error("DIP参数错误: {0}")]
    Params(String),
    #[error("没有病例")]
    NoCases,
    #[error("病例数{count}超过上限{max}")]
    TooManyCases { count: usize, max: usize },
    #[error("病例{case_id}: {reason}")]
    BadCase { case_id: String, reason: String },
    #[error("病种{code}: {reason}")]
    BadGroup { code: String, reason: String },
    #[error("{0}超出可计算范围")]
    OutOfRange(String),
    #[error("入组病例的总分值为0，无法计算结算点值")]
    NoPoints,
}
