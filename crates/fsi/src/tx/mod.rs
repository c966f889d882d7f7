//! Typed inputs, one per transaction, named by code (`Input2207`), with national field names.
//!
//! Each has `fn parse(input: &serde_json::Value) -> Result<Self, FsiError>` taking the
//! envelope's `input` object. [`TransactionInput::parse`] dispatches on `infno`.

mod audit;
mod catalog;
mod fees;
mod file;
mod filing;
mod inpatient;
mod outpatient;
mod person;
mod query;
mod recon;
mod setl_list;
mod sign;

pub use audit::{
    AuditEncounter, AuditOrder, AuditPatient, Disposal, Input3101, Input3103, TriggerScene, Warn, AUDIT_CALL_ORDERS_MAX,
};
pub use catalog::{Input1301, Input1312, Input1901, CATALOG_DOWNLOAD_INFNOS, PAGE_NUM_MAX};
pub use fees::{FeeItem, InpatientFeeDetail, Input2204, Input2301, OutpatientFeeDetail};
pub use file::{Input9101, Input9102};
pub use filing::{FilingTarget, Input2503, Input2504, Input2601};
pub use inpatient::{
    AdmissionChange, AdmissionInfo, DischargeInfo, FeeRevocation, InpatientDiagnosis, Input2302, Input2303, Input2304,
    Input2305, Input2401, Input2402, Input2403, Input2404, Input2405, MaternityInfo,
};
pub use outpatient::{
    Input2201, Input2202, Input2203, Input2205, Input2206, Input2207, Input2208, OutpatientDiagnosis,
    OutpatientVisitInfo,
};
pub use person::{Input1101, Input2001, PersonLookup};
pub use query::{Input5201, Input5202, Input5203, Input5204, Input5205, Input5206};
pub use recon::{Input3201, Input3202, SETL_CNT_MAX};
pub use setl_list::{Input4101, SETL_LIST_DIAGNOSES_MAX, SETL_LIST_PROCEDURES_MAX, VENT_HOURS_MAX};
pub use sign::{Input9001, Input9002};

use serde_json::Value;
use yibao_money::Money;

use crate::error::FsiError;
use crate::read::{echo, Fields};

/// The envelope's `input`, as the object every transaction reads its nodes from.
fn root(input: &Value) -> Result<Fields<'_>, FsiError> {
    Fields::object(input, "input")
}

/// The value that means "everything unsettled": 2205's `chrg_bchno` (every batch) and 2302's
/// `feedetl_sn` (every line).
pub const REVOKE_ALL: &str = "0000";

/// Refuses a negative amount.
fn check_not_negative(node: &Fields, name: &str, label: &str, amount: Money) -> Result<(), FsiError> {
    if amount.is_negative() {
        return Err(FsiError::new(node.field_path(name), format!("{label}不能为负")));
    }
    Ok(())
}

/// Refuses `later < earlier` when both are present, reporting at `later_name`.
fn check_order<T: PartialOrd>(
    node: &Fields,
    later_name: &str,
    earlier: Option<T>,
    later: Option<T>,
    message: &str,
) -> Result<(), FsiError> {
    match (earlier, later) {
        (Some(earlier), Some(later)) if later < earlier => Err(FsiError::new(node.field_path(later_name), message)),
        _ => Ok(()),
    }
}

/// Any supported transaction's typed input.
///
/// Variants differ in size by hundreds of bytes; one is built per request, so they are not boxed.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TransactionInput {
    /// 9001 签到.
    SignIn(Input9001),
    /// 9002 签退.
    SignOut(Input9002),
    /// 9101 文件上传.
    FileUpload(Input9101),
    /// 9102 文件下载 (answered with the file, not JSON).
    FileDownload(Input9102),
    /// 1101 人员信息获取.
    PersonInfo(Input1101),
    /// 1301–1311, 1313–1315, 1320, 1321 目录下载 (the code says which catalog).
    CatalogDownload(Input1301),
    /// 1312 医保目录信息查询.
    CatalogQuery(Input1312),
    /// 1901 字典表查询.
    Dictionary(Input1901),
    /// 2001 人员待遇享受检查.
    BenefitCheck(Input2001),
    /// 2201 门诊挂号.
    Registration(Input2201),
    /// 2202 门诊挂号撤销.
    RegistrationCancel(Input2202),
    /// 2203 / 2203A 门诊就诊信息上传.
    OutpatientVisit(Input2203),
    /// 2204 门诊费用明细上传.
    OutpatientFees(Input2204),
    /// 2205 门诊费用明细撤销.
    OutpatientFeesCancel(Input2205),
    /// 2206 门诊预结算.
    OutpatientPreSettle(Input2206),
    /// 2207 门诊结算.
    OutpatientSettle(Input2207),
    /// 2208 门诊结算撤销.
    OutpatientSettleCancel(Input2208),
    /// 2301 住院费用明细上传.
    InpatientFees(Input2301),
    /// 2302 住院费用明细撤销.
    InpatientFeesCancel(Input2302),
    /// 2303 住院预结算.
    InpatientPreSettle(Input2303),
    /// 2304 住院结算.
    InpatientSettle(Input2304),
    /// 2305 住院结算撤销.
    InpatientSettleCancel(Input2305),
    /// 2401 入院办理.
    Admission(Input2401),
    /// 2402 出院办理.
    Discharge(Input2402),
    /// 2403 入院信息变更.
    AdmissionChange(Input2403),
    /// 2404 入院办理撤销.
    AdmissionCancel(Input2404),
    /// 2405 出院办理撤销.
    DischargeCancel(Input2405),
    /// 2503 人员慢特病备案.
    ChronicFiling(Input2503),
    /// 2504 人员慢特病备案撤销.
    ChronicFilingCancel(Input2504),
    /// 2601 冲正交易.
    Reversal(Input2601),
    /// 3201 对总账.
    ReconcileTotals(Input3201),
    /// 3202 对明细账.
    ReconcileDetail(Input3202),
    /// 3101 明细审核事前分析服务 / 3102 明细审核事中分析服务 (which one: the envelope's infno).
    Audit(Input3101),
    /// 3103 事前事中服务反馈服务.
    AuditFeedback(Input3103),
    /// 4101 / 4101A 医疗保障基金结算清单信息上传.
    SettlementList(Input4101),
    /// 5201 就诊信息查询.
    VisitQuery(Input5201),
    /// 5202 诊断信息查询.
    DiagnosisQuery(Input5202),
    /// 5203 结算信息查询.
    SettlementQuery(Input5203),
    /// 5204 费用明细查询.
    FeeQuery(Input5204),
    /// 5205 人员慢特病用药记录查询.
    ChronicDrugQuery(Input5205),
    /// 5206 人员累计信息查询.
    CumulativeQuery(Input5206),
}

/// Every transaction code [`TransactionInput::parse`] understands.
pub const SUPPORTED_INFNOS: &[&str] = &[
    "9001", "9002", "9101", "9102", "1101", "1301", "1302", "1303", "1304", "1305", "1306", "1307", "1308", "1309",
    "1310", "1311", "1312", "1313", "1314", "1315", "1320", "1321", "1901", "2001", "2201", "2202", "2203", "2203A",
    "2204", "2205", "2206", "2207", "2208", "2301", "2302", "2303", "2304", "2305", "2401", "2402", "2403", "2404",
    "2405", "2503", "2504", "2601", "3101", "3102", "3103", "3201", "3202", "4101", "4101A", "5201", "5202", "5203",
    "5204", "5205", "5206",
];

impl TransactionInput {
    /// Parses `input` as transaction `infno` (as [`crate::Envelope::infno`] holds it). An
    /// unsupported code is an error on `infno`.
    pub fn parse(infno: &str, input: &Value) -> Result<TransactionInput, FsiError> {
        use TransactionInput as T;
        Ok(match infno {
            "9001" => T::SignIn(Input9001::parse(input)?),
            "9002" => T::SignOut(Input9002::parse(input)?),
            "9101" => T::FileUpload(Input9101::parse(input)?),
            "9102" => T::FileDownload(Input9102::parse(input)?),
            "1101" => T::PersonInfo(Input1101::parse(input)?),
            code if CATALOG_DOWNLOAD_INFNOS.contains(&code) => T::CatalogDownload(Input1301::parse(input)?),
            "1312" => T::CatalogQuery(Input1312::parse(input)?),
            "1901" => T::Dictionary(Input1901::parse(input)?),
            "2001" => T::BenefitCheck(Input2001::parse(input)?),
            "2201" => T::Registration(Input2201::parse(input)?),
            "2202" => T::RegistrationCancel(Input2202::parse(input)?),
            "2203" | "2203A" => T::OutpatientVisit(Input2203::parse(input)?),
            "2204" => T::OutpatientFees(Input2204::parse(input)?),
            "2205" => T::OutpatientFeesCancel(Input2205::parse(input)?),
            "2206" => T::OutpatientPreSettle(Input2206::parse(input)?),
            "2207" => T::OutpatientSettle(Input2207::parse(input)?),
            "2208" => T::OutpatientSettleCancel(Input2208::parse(input)?),
            "2301" => T::InpatientFees(Input2301::parse(input)?),
            "2302" => T::InpatientFeesCancel(Input2302::parse(input)?),
            "2303" => T::InpatientPreSettle(Input2303::parse(input)?),
            "2304" => T::InpatientSettle(Input2304::parse(input)?),
            "2305" => T::InpatientSettleCancel(Input2305::parse(input)?),
            "2401" => T::Admission(Input2401::parse(input)?),
            "2402" => T::Discharge(Input2402::parse(input)?),
            "2403" => T::AdmissionChange(Input2403::parse(input)?),
            "2404" => T::AdmissionCancel(Input2404::parse(input)?),
            "2405" => T::DischargeCancel(Input2405::parse(input)?),
            "2503" => T::ChronicFiling(Input2503::parse(input)?),
            "2504" => T::ChronicFilingCancel(Input2504::parse(input)?),
            "2601" => T::Reversal(Input2601::parse(input)?),
            "3101" | "3102" => T::Audit(Input3101::parse(input, infno)?),
            "3103" => T::AuditFeedback(Input3103::parse(input)?),
            "3201" => T::ReconcileTotals(Input3201::parse(input)?),
            "3202" => T::ReconcileDetail(Input3202::parse(input)?),
            "4101" | "4101A" => T::SettlementList(Input4101::parse(input)?),
            "5201" => T::VisitQuery(Input5201::parse(input)?),
            "5202" => T::DiagnosisQuery(Input5202::parse(input)?),
            "5203" => T::SettlementQuery(Input5203::parse(input)?),
            "5204" => T::FeeQuery(Input5204::parse(input)?),
            "5205" => T::ChronicDrugQuery(Input5205::parse(input)?),
            "5206" => T::CumulativeQuery(Input5206::parse(input)?),
            other => return Err(FsiError::new("infno", format!("不支持的交易编号“{}”", echo(other)))),
        })
    }
}
