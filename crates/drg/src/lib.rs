//! The CHS-DRG 1.1 grouper.
//!
//! The official tables (MDC, ADRG, DRG, the ADRG definitions, MCC, CC and the 表 7-N exclusion
//! tables, plus the 医保版 code lists and grey codes) are imported from their published text by
//! [`Tables::load`]. The crate does no I/O: the caller reads the files and passes their text.
//!
//! [`group`] then places one [`Case`] in the official order, and records each decision in
//! [`Grouping::steps`]:
//!
//! 0. **Checks.** At most [`MAX_DIAGNOSES`] diagnoses and [`MAX_PROCEDURES`] procedures. The principal
//!    diagnosis (the first) must be in 医保版 ICD-10 2.0 and not a grey code; the main procedure
//!    (the first), if any, must be in 医保版 ICD-9-CM-3 2.0 and not a grey code. Other unknown codes
//!    are ignored, with a note.
//! 1. **Pre-MDC (MDCA).** Transplants, ECMO and ventilation ≥ 96 h enter through their ADRGs'
//!    procedure lists, whatever the principal diagnosis.
//! 2. **MDC by principal diagnosis**, in the order P (newborn: age 0 years), Y (HIV), Z (multiple
//!    severe trauma: trauma of at least two body regions from two diagnoses), M (male only),
//!    N (female only), then B…X. No MDC → `0000`. Inside MDCP the newborn ADRGs need an age of
//!    0–28 days and PV1 29–365 days ([`Case::age_days`]); PS1–PS4 also check the birth weight.
//! 3. **ADRG inside the MDC**, first match wins: surgical ADRGs (second letter A–J), then non-OR
//!    procedure ADRGs (K–Q). If the main procedure is an operating-room procedure and none of
//!    those matched, the case goes to the MDC's ambiguity group `xQY` where the scheme lists one
//!    (CHS-DRG 2.0 and 3.0 do); CHS-DRG 1.1 lists none among its 628 DRGs, and the case goes on
//!    to the medical ADRGs, the step saying why. Then the medical ADRGs (R–Z) by principal
//!    diagnosis; "且无手术" (ZZ1) means no operation of that MDC. Nothing matched → `0000`.
//! 4. **DRG by MCC/CC.** Each other diagnosis that is an MCC or CC counts unless the principal
//!    diagnosis is in that code's exclusion table. Suffix 1 = with MCC, 3 = with CC (or an MCC when
//!    the ADRG has no 1), 5 = neither, 9 = the ADRG is not split.
//!
//! An "operating-room procedure" is one listed in some surgical (A–J) ADRG; CHS-DRG 1.1 publishes
//! no separate OR-procedure list.
//!
//! [`classify`] is the same grouping without the explanation, for batch use.
//!
//! [`payment`] reads city DRG payment tables (RW, 支付标准, 费率, 等级系数), finds a group's payment
//! standard for a hospital level and insurance scheme, and pays a case under local 高倍率/低倍率 rules.
//!
//! ```no_run
//! use yibao_drg::{group, Case, DischargeMethod, Sex, TableTexts, Tables};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let dir = "data";
//! let read = |p: &str| std::fs::read_to_string(format!("{dir}/{p}"));
//! let (mdc, adrg) = (read("chs-drg-1.1/1_MDC.txt")?, read("chs-drg-1.1/2_ADRG.txt")?);
//! let drg = read("chs-drg-1.1/3_DRG.txt")?;
//! let (detail, mcc, cc) =
//!     (read("chs-drg-1.1/4_ADRG_DETAIL.txt")?, read("chs-drg-1.1/5_MCC.txt")?, read("chs-drg-1.1/6_CC.txt")?);
//! let cce = read("chs-drg-1.1/7_CCE.txt")?;
//! let (dx, dx_grey) = (read("icd/icd10-yibao-2.0.dat")?, read("icd/icd10-yibao-2.0-greycodes.dat")?);
//! let (px, px_grey) = (read("icd/icd9cm3-yibao-2.0.dat")?, read("icd/icd9cm3-yibao-2.0-greycodes.dat")?);
//! let tables = Tables::load(&TableTexts {
//!     mdc: &mdc,
//!     adrg: &adrg,
//!     drg: &drg,
//!     adrg_detail: &detail,
//!     mcc: &mcc,
//!     cc: &cc,
//!     cc_exclusions: &cce,
//!     diagnoses: &dx,
//!     diagnosis_grey: &dx_grey,
//!     procedures: &px,
//!     procedure_grey: &px_grey,
//! })?;
//! let case = Case {
//!     sex: Sex::Male,
//!     age_years: 61,
//!     age_days: None,
//!     birth_weight_g: None,
//!     los_days: 6,
//!     discharge_method: DischargeMethod::Ordered,
//!     diagnoses: vec!["I21.001".into()],
//!     procedures: vec!["36.0601".into()],
//!     ventilation_hours: 0,
//! };
//! let grouping = group(&tables, &case);
//! assert_eq!(grouping.drg.as_str(), "FM19");
//! for step in &grouping.steps {
//!     println!("{step}"); // 主要诊断I21.001属于MDCF / 主要手术36.0601进入ADRG FM1 … / … → FM19
//! }
//! # Ok(())
//! # }
//! ```

pub mod annual;
mod code;
mod group;
pub mod payment;
mod tables;

pub use code::GroupCode;
pub use group::{
    classify, group, Case, DischargeMethod, Grouping, Reason, Sex, MAX_CODE_LEN, MAX_DIAGNOSES, MAX_PROCEDURES,
};
pub use tables::{files, AdrgDefinition, AdrgKind, LoadError, TableTexts, Tables};
