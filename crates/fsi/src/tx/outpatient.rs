//! Outpatient transactions: 2201/2202 挂号, 2203 就诊信息, 2205 明细撤销, 2206/2207 (预)结算,
//! 2208 结算撤销. (2204 is in the fee module.)

use chrono::{NaiveDate, NaiveDateTime};
use serde_json::Value;
use yibao_codes::{InsuranceType, MedicalType};
use yibao_money::Money;

use super::{check_not_negative, root, REVOKE_ALL};
use crate::error::FsiError;
use crate::limits::{
    CARD_SN_CHARS, CERT_NO_CHARS, CODE_CHARS, DEPT_NAME_CHARS, DIAG_CODE_CHARS, DIAG_DEPT_CHARS, DIAG_NAME_CHARS,
    DISEINFO_MAX, DISE_NAME_CHARS, ID_CHARS, INVONO_CHARS, MAIN_COND_CHARS, PERSON_NAME_CHARS, SHORT_CODE_CHARS,
    TWO_DIGIT_MAX,
};
use crate::read::Fields;

/// 2201 门诊挂号, node `input.data`. Answered with `output.data` {mdtrt_id, psn_no, ipt_otp_no}.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Input2201 {
    pub psn_no: String,
    pub insutype: InsuranceType,
    /// 挂号时间.
    pub begntime: NaiveDateTime,
    /// 就诊凭证类型 (3); "1" is read as "01".
    pub mdtrt_cert_type: String,
    pub mdtrt_cert_no: String,
    /// 卡识别码 (32): not in the reference's table; accepted because card readers send it.
    pub card_sn: Option<String>,
    /// 住院/门诊号: the institution's unique visit number (30).
    pub ipt_otp_no: String,
    /// 医师编码 (30).
    pub atddr_no: String,
    pub dr_name: String,
    pub dept_code: String,
    pub dept_name: String,
    /// 科别 (6).
    pub caty: String,
}

impl Input2201 {
    pub fn parse(input: &Value) -> Result<Input2201, FsiError> {
        let data = root(input)?.child("data")?;
        Ok(Input2201 {
            psn_no: data.req_text("psn_no", ID_CHARS)?,
            insutype: data.req_code("insutype", InsuranceType::parse)?,
            begntime: data.req_datetime("begntime")?,
            mdtrt_cert_type: data.req_dict_code("mdtrt_cert_type", SHORT_CODE_CHARS)?,
            mdtrt_cert_no: data.req_text("mdtrt_cert_no", CERT_NO_CHARS)?,
            card_sn: data.text("card_sn", CARD_SN_CHARS)?,
            ipt_otp_no: data.req_text("ipt_otp_no", ID_CHARS)?,
            atddr_no: data.req_text("atddr_no", ID_CHARS)?,
            dr_name: data.req_text("dr_name", PERSON_NAME_CHARS)?,
            dept_code: data.req_text("dept_code", ID_CHARS)?,
            dept_name: data.req_text("dept_name", DEPT_NAME_CHARS)?,
            caty: data.req_text("caty", CODE_CHARS)?,
        })
    }
}

/// 2202 门诊挂号撤销, node `input.data`. No output node.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Input2202 {
    pub psn_no: String,
    pub mdtrt_id: String,
    pub ipt_otp_no: String,
}

impl Input2202 {
    pub fn parse(input: &Value) -> Result<Input2202, FsiError> {
        let data = root(input)?.child("data")?;
        Ok(Input2202 {
            psn_no: data.req_text("psn_no", ID_CHARS)?,
            mdtrt_id: data.req_text("mdtrt_id", ID_CHARS)?,
            ipt_otp_no: data.req_text("ipt_otp_no", ID_CHARS)?,
        })
    }
}

/// 2203 / 2203A `input.mdtrtinfo`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OutpatientVisitInfo {
    pub mdtrt_id: String,
    pub psn_no: String,
    pub med_type: MedicalType,
    /// 就诊时间.
    pub begntime: NaiveDateTime,
    /// 主要病情描述 (1000).
    pub main_cond_dscr: Option<String>,
    /// 病种编码 (30): 按病种结算病种 or 门诊慢特病病种 code.
    pub dise_codg: Option<String>,
    pub dise_name: Option<String>,
    /// 计划生育手术类别 (6).
    pub birctrl_type: Option<String>,
    /// 计划生育手术或生育日期.
    pub birctrl_matn_date: Option<NaiveDate>,
    /// 生育类别 (6), 2203A.
    pub matn_type: Option<String>,
    /// 孕周数 (num 2), 2203A.
    pub geso_val: Option<i64>,
}

/// One outpatient diagnosis (2203 `input.diseinfo[i]`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OutpatientDiagnosis {
    /// 诊断类别 (3): 1 西医, 2 中医主病, 3 中医主证.
    pub diag_type: String,
    /// 诊断排序号 (num 2).
    pub diag_srt_no: i64,
    pub diag_code: String,
    pub diag_name: String,
    pub diag_dept: String,
    /// 诊断医生编码 (30).
    pub dise_dor_no: String,
    pub dise_dor_name: String,
    pub diag_time: NaiveDateTime,
    /// 有效标志: required by the spec, read as valid when absent.
    pub vali_flag: bool,
}

/// 2203 / 2203A 门诊就诊信息上传: `input.mdtrtinfo` and `input.diseinfo[]` (1 to
/// [`DISEINFO_MAX`]; a single object is read as a list of one, as SZSI sends it). No output.
/// 2203A's extra fields (`matn_type`, `geso_val`) are optional, so one type serves both.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Input2203 {
    pub mdtrtinfo: OutpatientVisitInfo,
    pub diseinfo: Vec<OutpatientDiagnosis>,
}

impl Input2203 {
    pub fn parse(input: &Value) -> Result<Input2203, FsiError> {
        let input = root(input)?;
        let info = input.child("mdtrtinfo")?;
        let mdtrtinfo = OutpatientVisitInfo {
            mdtrt_id: info.req_text("mdtrt_id", ID_CHARS)?,
            psn_no: info.req_text("psn_no", ID_CHARS)?,
            med_type: info.req_code("med_type", MedicalType::parse)?,
            begntime: info.req_datetime("begntime")?,
            main_cond_dscr: info.text("main_cond_dscr", MAIN_COND_CHARS)?,
            dise_codg: info.text("dise_codg", ID_CHARS)?,
            dise_name: info.text("dise_name", DISE_NAME_CHARS)?,
            birctrl_type: info.text("birctrl_type", CODE_CHARS)?,
            birctrl_matn_date: info.date("birctrl_matn_date")?,
            matn_type: info.text("matn_type", CODE_CHARS)?,
            geso_val: info.integer("geso_val", "孕周数", 0, TWO_DIGIT_MAX)?,
        };
        let diseinfo = input
            .list("diseinfo", DISEINFO_MAX, "诊断信息")?
            .iter()
            .map(parse_outpatient_diagnosis)
            .collect::<Result<_, _>>()?;
        Ok(Input2203 { mdtrtinfo, diseinfo })
    }
}

fn parse_outpatient_diagnosis(d: &Fields) -> Result<OutpatientDiagnosis, FsiError> {
    Ok(OutpatientDiagnosis {
        diag_type: d.req_text("diag_type", SHORT_CODE_CHARS)?,
        diag_srt_no: d.req_integer("diag_srt_no", "诊断排序号", 0, TWO_DIGIT_MAX)?,
        diag_code: d.req_text("diag_code", DIAG_CODE_CHARS)?,
        diag_name: d.req_text("diag_name", DIAG_NAME_CHARS)?,
        diag_dept: d.req_text("diag_dept", DIAG_DEPT_CHARS)?,
        dise_dor_no: d.req_text("dise_dor_no", ID_CHARS)?,
        dise_dor_name: d.req_text("dise_dor_name", PERSON_NAME_CHARS)?,
        diag_time: d.req_datetime("diag_time")?,
        vali_flag: d.flag("vali_flag")?.unwrap_or(true),
    })
}

/// 2205 门诊费用明细撤销, node `input.data`. No output.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Input2205 {
    pub mdtrt_id: String,
    /// 收费批次号; [`REVOKE_ALL`] ("0000") revokes every unsettled line of the visit.
    pub chrg_bchno: String,
    pub psn_no: String,
}

impl Input2205 {
    pub fn parse(input: &Value) -> Result<Input2205, FsiError> {
        let data = root(input)?.child("data")?;
        Ok(Input2205 {
            mdtrt_id: data.req_text("mdtrt_id", ID_CHARS)?,
            chrg_bchno: data.req_text("chrg_bchno", ID_CHARS)?,
            psn_no: data.req_text("psn_no", ID_CHARS)?,
        })
    }

    /// Whether every unsettled batch is revoked.
    pub fn all_batches(&self) -> bool {
        self.chrg_bchno == REVOKE_ALL
    }
}

/// 2206 门诊预结算 and 2207 门诊结算, node `input.data`. Answered with `setlinfo` + `setldetail`.
///
/// One type serves both: 2207 adds `invono` and the four split amounts the HIS got from 2206.
/// The spec marks those amounts required for 2207; they are optional here, and when present
/// the service compares them with its own result.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Input2206 {
    pub psn_no: String,
    /// 就诊凭证类型 (3); "1" is read as "01".
    pub mdtrt_cert_type: String,
    pub mdtrt_cert_no: String,
    pub med_type: MedicalType,
    /// 医疗费总额 (16,2), not negative.
    pub medfee_sumamt: Money,
    /// 个人结算方式 (6): 01 按项目, 02 按定额; "1" is read as "01".
    pub psn_setlway: String,
    pub mdtrt_id: String,
    pub chrg_bchno: String,
    /// 个人账户使用标志.
    pub acct_used_flag: bool,
    pub insutype: InsuranceType,
    /// 发票号 (20), 2207.
    pub invono: Option<String>,
    /// 全自费金额, 2207.
    pub fulamt_ownpay_amt: Option<Money>,
    /// 超限价金额, 2207.
    pub overlmt_selfpay: Option<Money>,
    /// 先行自付金额, 2207.
    pub preselfpay_amt: Option<Money>,
    /// 符合政策范围金额, 2207.
    pub inscp_scp_amt: Option<Money>,
}

/// 2207 门诊结算: the same fields as 2206 (see [`Input2206`]).
pub type Input2207 = Input2206;

impl Input2206 {
    pub fn parse(input: &Value) -> Result<Input2206, FsiError> {
        let data = root(input)?.child("data")?;
        let parsed = Input2206 {
            psn_no: data.req_text("psn_no", ID_CHARS)?,
            mdtrt_cert_type: data.req_dict_code("mdtrt_cert_type", SHORT_CODE_CHARS)?,
            mdtrt_cert_no: data.req_text("mdtrt_cert_no", CERT_NO_CHARS)?,
            med_type: data.req_code("med_type", MedicalType::parse)?,
            medfee_sumamt: data.req_money("medfee_sumamt", "医疗费总额")?,
            psn_setlway: data.req_dict_code("psn_setlway", CODE_CHARS)?,
            mdtrt_id: data.req_text("mdtrt_id", ID_CHARS)?,
            chrg_bchno: data.req_text("chrg_bchno", ID_CHARS)?,
            acct_used_flag: data.req_flag("acct_used_flag")?,
            insutype: data.req_code("insutype", InsuranceType::parse)?,
            invono: data.text("invono", INVONO_CHARS)?,
            fulamt_ownpay_amt: data.money("fulamt_ownpay_amt", "全自费金额")?,
            overlmt_selfpay: data.money("overlmt_selfpay", "超限价金额")?,
            preselfpay_amt: data.money("preselfpay_amt", "先行自付金额")?,
            inscp_scp_amt: data.money("inscp_scp_amt", "符合政策范围金额")?,
        };
        check_not_negative(&data, "medfee_sumamt", "医疗费总额", parsed.medfee_sumamt)?;
        Ok(parsed)
    }
}

/// 2208 门诊结算撤销, node `input.data`. Answered with the cancelled `setlinfo` + `setldetail`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Input2208 {
    pub setl_id: String,
    pub mdtrt_id: String,
    pub psn_no: String,
}

impl Input2208 {
    pub fn parse(input: &Value) -> Result<Input2208, FsiError> {
        let data = root(input)?.child("data")?;
        Ok(Input2208 {
            setl_id: data.req_text("setl_id", ID_CHARS)?,
            mdtrt_id: data.req_text("mdtrt_id", ID_CHARS)?,
            psn_no: data.req_text("psn_no", ID_CHARS)?,
        })
    }
}
