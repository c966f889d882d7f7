//! 2503/2504 人员慢特病备案 and its cancellation, 2601 冲正交易.

use chrono::NaiveDate;
use serde_json::Value;
use yibao_codes::InsuranceType;

use super::{check_order, root};
use crate::envelope::{check_infno, MSGID_CHARS_MAX};
use crate::error::FsiError;
use crate::limits::{
    ADMDVS_CHARS, DESCRIPTION_CHARS, ID_CHARS, INFNO_CHARS_MAX, INSTITUTION_NAME_CHARS, MEMO_CHARS, PERSON_NAME_CHARS,
    TEL_CHARS,
};

/// 门诊慢特病病种名称 length (300).
const OPSP_DISE_NAME_CHARS: usize = 300;

/// 2503 人员慢特病备案, node `input.data`. Answered with `output.result` {trt_dcla_detl_sn}.
///
/// The reference names this transaction without a table. The fields follow the national spec
/// as the client code we read sends them; `psn_no`, `insutype`, `opsp_dise_code`,
/// `opsp_dise_name` and `begndate` are required, the identification details (which hospital
/// and doctor certified the disease) optional.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Input2503 {
    pub psn_no: String,
    pub insutype: InsuranceType,
    /// 门诊慢特病病种目录代码 (30), e.g. "M01600".
    pub opsp_dise_code: String,
    pub opsp_dise_name: String,
    pub tel: Option<String>,
    /// 联系地址 (200).
    pub addr: Option<String>,
    /// 参保机构医保区划 (6).
    pub insu_optins: Option<String>,
    /// 鉴定定点医药机构编号 (30).
    pub ide_fixmedins_no: Option<String>,
    pub ide_fixmedins_name: Option<String>,
    /// 医院鉴定日期.
    pub hosp_ide_date: Option<NaiveDate>,
    /// 诊断医师编码 (30).
    pub diag_dr_codg: Option<String>,
    pub diag_dr_name: Option<String>,
    /// 开始日期.
    pub begndate: NaiveDate,
    /// 结束日期: open-ended when absent; not before `begndate`.
    pub enddate: Option<NaiveDate>,
}

impl Input2503 {
    pub fn parse(input: &Value) -> Result<Input2503, FsiError> {
        let data = root(input)?.child("data")?;
        let parsed = Input2503 {
            psn_no: data.req_text("psn_no", ID_CHARS)?,
            insutype: data.req_code("insutype", InsuranceType::parse)?,
            opsp_dise_code: data.req_text("opsp_dise_code", ID_CHARS)?,
            opsp_dise_name: data.req_text("opsp_dise_name", OPSP_DISE_NAME_CHARS)?,
            tel: data.text("tel", TEL_CHARS)?,
            addr: data.text("addr", DESCRIPTION_CHARS)?,
            insu_optins: data.text("insu_optins", ADMDVS_CHARS)?,
            ide_fixmedins_no: data.text("ide_fixmedins_no", ID_CHARS)?,
            ide_fixmedins_name: data.text("ide_fixmedins_name", INSTITUTION_NAME_CHARS)?,
            hosp_ide_date: data.date("hosp_ide_date")?,
            diag_dr_codg: data.text("diag_dr_codg", ID_CHARS)?,
            diag_dr_name: data.text("diag_dr_name", PERSON_NAME_CHARS)?,
            begndate: data.req_date("begndate")?,
            enddate: data.date("enddate")?,
        };
        check_order(
            &data,
            "enddate",
            Some(parsed.begndate),
            parsed.enddate,
            "结束日期早于开始日期",
        )?;
        Ok(parsed)
    }
}

/// 2504 人员慢特病备案撤销, node `input.data`.
///
/// The national spec cancels by `trt_dcla_detl_sn` (the serial 2503 answered with) plus
/// `psn_no`; some clients instead name the disease. Both are accepted: `psn_no` is required,
/// and one of `trt_dcla_detl_sn` or `opsp_dise_code` must be present. When both are sent the
/// serial wins ([`Input2504::target`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Input2504 {
    pub psn_no: String,
    /// 待遇申报明细流水号 (30).
    pub trt_dcla_detl_sn: Option<String>,
    /// 门诊慢特病病种目录代码 (30).
    pub opsp_dise_code: Option<String>,
    /// 备注 (500).
    pub memo: Option<String>,
}

/// Which filing a 2504 cancels.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FilingTarget<'a> {
    /// By the serial 2503 answered with.
    Serial(&'a str),
    /// The person's filing for this disease.
    Disease(&'a str),
}

impl Input2504 {
    pub fn parse(input: &Value) -> Result<Input2504, FsiError> {
        let data = root(input)?.child("data")?;
        let parsed = Input2504 {
            psn_no: data.req_text("psn_no", ID_CHARS)?,
            trt_dcla_detl_sn: data.text("trt_dcla_detl_sn", ID_CHARS)?,
            opsp_dise_code: data.text("opsp_dise_code", ID_CHARS)?,
            memo: data.text("memo", MEMO_CHARS)?,
        };
        if parsed.trt_dcla_detl_sn.is_none() && parsed.opsp_dise_code.is_none() {
            return Err(FsiError::new(
                data.field_path("trt_dcla_detl_sn"),
                "必填字段缺失:应提供待遇申报明细流水号(trt_dcla_detl_sn)或病种代码(opsp_dise_code)",
            ));
        }
        Ok(parsed)
    }

    pub fn target(&self) -> FilingTarget<'_> {
        match (&self.trt_dcla_detl_sn, &self.opsp_dise_code) {
            (Some(sn), _) => FilingTarget::Serial(sn),
            (None, code) => FilingTarget::Disease(code.as_deref().unwrap_or_default()),
        }
    }
}

/// 2601 冲正交易, node `input.data`: reverses the transaction the HIS sent as `omsgid`, whether
/// or not it saw the answer. No output.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Input2601 {
    pub psn_no: String,
    /// 原发送方报文ID (30).
    pub omsgid: String,
    /// 原交易编号 (spec 4; 4 to 6 accepted, like `infno`), upper-cased.
    pub oinfno: String,
}

impl Input2601 {
    pub fn parse(input: &Value) -> Result<Input2601, FsiError> {
        let data = root(input)?.child("data")?;
        let oinfno = data.req_text("oinfno", INFNO_CHARS_MAX)?;
        Ok(Input2601 {
            psn_no: data.req_text("psn_no", ID_CHARS)?,
            omsgid: data.req_text("omsgid", MSGID_CHARS_MAX)?,
            oinfno: check_infno(&oinfno, &data.field_path("oinfno"))?,
        })
    }
}
