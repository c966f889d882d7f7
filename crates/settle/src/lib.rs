//! The settlement engine (结算).
//!
//! A pure core: [`pre_settle`], [`settle`] and [`reverse`] take values and return values; they
//! read no files, touch no database and keep no state. A settlement runs a pipeline:
//!
//! 1. every fee line is split by the catalog (`yibao-catalog`);
//! 2. lines are grouped (one group, or one per chronic disease);
//! 3. each group runs the benefit's stages in order: the primary stage divides the policy-scope
//!    amount into deductible, fund pay, coinsurance and above-cap parts; each supplementary
//!    stage pays a ratio of the parts of the personal burden it covers;
//! 4. the personal account pays the parts it may, cash the rest.
//!
//! Every result satisfies [`Settlement::assert_invariants`] and carries the steps that explain
//! it ([`Settlement::explain`]) and the deltas that apply or undo it ([`Deltas`]).

mod engine;
mod explain;
mod input;
mod result;

pub use engine::{pre_settle, reverse, settle, SettleInput};
pub use explain::Step;
pub use input::{
    age_years, Accumulator, FeeLine, Person, Refusal, Visit, YearToDate, ID_LEN_MAX, PERSON_LIST_MAX,
    REFUSAL_TEXT_CHARS_MAX, STAY_DAYS_MAX, VISIT_LINES_MAX,
};
pub use result::{Deltas, FundPayment, LineResult, PersonalParts, Settlement};

use chrono::NaiveDate;

/// Why a visit could not be settled. Each names the field at fault; messages are Chinese.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SettleError {
    #[error("{field}: {message}")]
    Field { field: String, message: String },
    #[error("{field}: 医保目录中没有编码为“{code}”的项目")]
    UnknownItem { field: String, code: String },
    #[error("政策{policy}中没有适用于险种{insurance}、医疗类别{medical_type}的待遇")]
    NoBenefit {
        insurance: &'static str,
        medical_type: &'static str,
        policy: String,
    },
    #[error("政策{policy}不适用于就诊日期{date}(不在其生效期内)")]
    PolicyNotEffective { policy: String, date: NaiveDate },
    #[error("政策{policy}待遇{benefit}阶段{stage}的{what}没有适用于本次就诊的规则")]
    PolicyGap {
        policy: String,
        benefit: String,
        stage: String,
        what: String,
    },
}

impl SettleError {
    /// The input field the error is about.
    pub fn field(&self) -> &str {
        match self {
            SettleError::Field { field, .. } | SettleError::UnknownItem { field, .. } => field,
            SettleError::NoBenefit { .. } => "medical_type",
            SettleError::PolicyNotEffective { .. } => "begin_date",
            SettleError::PolicyGap { .. } => "policy",
        }
    }
}
