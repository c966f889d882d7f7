//! Inpatient transactions: 2401–2405 入院/出院 and their changes and cancellations, 2302 明细撤销,
//! 2303/2304 (预)结算, 2305 结算撤销. (2301 is in the fee module.)

use chrono::{NaiveDate, NaiveDateTime};
use serde_json::Value;
use yibao_codes::{InsuranceType, MedicalType};
use yibao_money::Money;

use super::{check_not_negative, check_order, root, REVOKE_ALL};
use crate::error::FsiError;
use crate::limits::{
    CERT_NO_CHARS, CODE_CHARS, DEPT_NAME_CHARS, DESCRIPTION_CHARS, DIAG_CODE_CHARS, DIAG_DEPT_CHARS, DIAG_NAME_CHARS,
    DISEINFO_MAX, DISE_NAME_CHARS, EXP_CONTENT_CHARS, FEE_REVOKE_MAX, ID_CHARS, INVONO_CHARS, MAINDIAG_NAME_CHARS,
    MAIN_COND_CHARS, MEMO_CHARS, PERSON_NAME_CHARS, SHORT_CODE_CHARS, TEL_CHARS, TWO_DIGIT_MAX,
};
use crate::read::Fields;

/// 生育/计划生育 fields shared by 2401 `mdtrtinfo`, 2402 `dscginfo` and 2403 `adminfo`; all optional.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MaternityInfo {
    /// 计划生育服务证号 (50).
    pub fpsc_no: Option<String>,
    /// 生育类别 (6).
    pub matn_type: Option<String>,
    /// 计划生育手术类别 (6).
    pub birctrl_type: Option<String>,
    /// 晚育标志.
    pub latechb_flag: Option<bool>,
    /// 孕周数 (num 2).
    pub geso_val: Option<i64>,
    /// 胎次 (num 2).
    pub fetts: Option<i64>,
    /// 胎儿数 (num 2).
    pub fetus_cnt: Option<i64>,
    /// 早产标志.
    pub pret_flag: Option<bool>,
    /// 计划生育手术或生育日期 (新生儿随母住院: the baby's birth date).
    pub birctrl_matn_date: Option<NaiveDate>,
}

/// 计划生育服务证号 length (50).
const FPSC_NO_CHARS: usize = 50;

impl MaternityInfo {
    fn parse(node: &Fields) -> Result<MaternityInfo, FsiError> {
        Ok(MaternityInfo {
            fpsc_no: node.text("fpsc_no", FPSC_NO_CHARS)?,
            matn_type: node.text("matn_type", CODE_CHARS)?,
            birctrl_type: node.text("birctrl_type", CODE_CHARS)?,
            latechb_flag: node.flag("latechb_flag")?,
            geso_val: node.integer("geso_val", "孕周数", 0, TWO_DIGIT_MAX)?,
            fetts: node.integer("fetts", "胎次", 0, TWO_DIGIT_MAX)?,
            fetus_cnt: node.integer("fetus_cnt", "胎儿数", 0, TWO_DIGIT_MAX)?,
            pret_flag: node.flag("pret_flag")?,
            birctrl_matn_date: node.date("birctrl_matn_date")?,
        })
    }
}

/// One inpatient diagnosis (`diseinfo[i]` of 2401 表101, 2402 表104, 2403 表106).
///
/// Whether exactly one diagnosis is the main one is not checked: the reference does not say
/// whether that holds per `diag_type` or overall.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InpatientDiagnosis {
    /// 就诊ID: only 2402 lists it.
    pub mdtrt_id: Option<String>,
    pub psn_no: Option<String>,
    /// 诊断类别 (3).
    pub diag_type: String,
    /// 主诊断标志.
    pub maindiag_flag: bool,
    /// 诊断排序号 (num 2).
    pub diag_srt_no: i64,
    pub diag_code: String,
    pub diag_name: String,
    /// 入院病情 (500).
    pub adm_cond: Option<String>,
    pub diag_dept: String,
    pub dise_dor_no: String,
    pub dise_dor_name: String,
    pub diag_time: NaiveDateTime,
}

fn parse_inpatient_diagnosis(d: &Fields) -> Result<InpatientDiagnosis, FsiError> {
    Ok(InpatientDiagnosis {
        mdtrt_id: d.text("mdtrt_id", ID_CHARS)?,
        psn_no: d.text("psn_no", ID_CHARS)?,
        diag_type: d.req_text("diag_type", SHORT_CODE_CHARS)?,
        maindiag_flag: d.req_flag("maindiag_flag")?,
        diag_srt_no: d.req_integer("diag_srt_no", "诊断排序号", 0, TWO_DIGIT_MAX)?,
        diag_code: d.req_text("diag_code", DIAG_CODE_CHARS)?,
        diag_name: d.req_text("diag_name", DIAG_NAME_CHARS)?,
        adm_cond: d.text("adm_cond", MEMO_CHARS)?,
        diag_dept: d.req_text("diag_dept", DIAG_DEPT_CHARS)?,
        dise_dor_no: d.req_text("dise_dor_no", ID_CHARS)?,
        dise_dor_name: d.req_text("dise_dor_name", PERSON_NAME_CHARS)?,
        diag_time: d.req_datetime("diag_time")?,
    })
}

fn diagnoses(input: &Fields, required: bool) -> Result<Vec<InpatientDiagnosis>, FsiError> {
    let items = if required {
        input.list("diseinfo", DISEINFO_MAX, "诊断信息")?
    } else {
        input.opt_list("diseinfo", DISEINFO_MAX, "诊断信息")?
    };
    items.iter().map(parse_inpatient_diagnosis).collect()
}

/// 2401 `input.mdtrtinfo` (NT-CS rows 1–33).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AdmissionInfo {
    pub psn_no: String,
    pub insutype: InsuranceType,
    /// 联系人姓名 (50).
    pub coner_name: Option<String>,
    pub tel: Option<String>,
    /// 入院时间.
    pub begntime: NaiveDateTime,
    /// 就诊凭证类型 (3); "1" is read as "01".
    pub mdtrt_cert_type: String,
    pub mdtrt_cert_no: String,
    pub med_type: MedicalType,
    /// 住院号: the institution's visit number (30).
    pub ipt_no: String,
    /// 病历号 (30).
    pub medrcdno: Option<String>,
    /// 主治医生编码 (30).
    pub atddr_no: String,
    /// 主诊医师姓名 (50).
    pub chfpdr_name: String,
    /// 入院诊断描述 (200).
    pub adm_diag_dscr: String,
    pub adm_dept_codg: String,
    pub adm_dept_name: String,
    /// 入院床位 (30).
    pub adm_bed: String,
    /// 住院主诊断代码 (20).
    pub dscg_maindiag_code: String,
    /// 住院主诊断名称 (300).
    pub dscg_maindiag_name: String,
    pub main_cond_dscr: Option<String>,
    /// 病种编码: 按病种结算 or 日间手术 code.
    pub dise_codg: Option<String>,
    pub dise_name: Option<String>,
    /// 手术操作代码: the spec requires it for 日间手术 (28), which is checked.
    pub oprn_oprt_code: Option<String>,
    pub oprn_oprt_name: Option<String>,
    pub maternity: MaternityInfo,
    /// 病种类型代码 (30).
    pub dise_type_code: Option<String>,
    pub exp_content: Option<String>,
}

/// 2401 入院办理: `input.mdtrtinfo` and `input.diseinfo[]` (1 to [`DISEINFO_MAX`]). Answered
/// with `output.result` {mdtrt_id}.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Input2401 {
    pub mdtrtinfo: AdmissionInfo,
    pub diseinfo: Vec<InpatientDiagnosis>,
}

impl Input2401 {
    pub fn parse(input: &Value) -> Result<Input2401, FsiError> {
        let input = root(input)?;
        let m = input.child("mdtrtinfo")?;
        let mdtrtinfo = AdmissionInfo {
            psn_no: m.req_text("psn_no", ID_CHARS)?,
            insutype: m.req_code("insutype", InsuranceType::parse)?,
            coner_name: m.text("coner_name", PERSON_NAME_CHARS)?,
            tel: m.text("tel", TEL_CHARS)?,
            begntime: m.req_datetime("begntime")?,
            mdtrt_cert_type: m.req_dict_code("mdtrt_cert_type", SHORT_CODE_CHARS)?,
            mdtrt_cert_no: m.req_text("mdtrt_cert_no", CERT_NO_CHARS)?,
            med_type: m.req_code("med_type", MedicalType::parse)?,
            ipt_no: m.req_text("ipt_no", ID_CHARS)?,
            medrcdno: m.text("medrcdno", ID_CHARS)?,
            atddr_no: m.req_text("atddr_no", ID_CHARS)?,
            chfpdr_name: m.req_text("chfpdr_name", PERSON_NAME_CHARS)?,
            adm_diag_dscr: m.req_text("adm_diag_dscr", DESCRIPTION_CHARS)?,
            adm_dept_codg: m.req_text("adm_dept_codg", ID_CHARS)?,
            adm_dept_name: m.req_text("adm_dept_name", DEPT_NAME_CHARS)?,
            adm_bed: m.req_text("adm_bed", ID_CHARS)?,
            dscg_maindiag_code: m.req_text("dscg_maindiag_code", DIAG_CODE_CHARS)?,
            dscg_maindiag_name: m.req_text("dscg_maindiag_name", MAINDIAG_NAME_CHARS)?,
            main_cond_dscr: m.text("main_cond_dscr", MAIN_COND_CHARS)?,
            dise_codg: m.text("dise_codg", ID_CHARS)?,
            dise_name: m.text("dise_name", DISE_NAME_CHARS)?,
            oprn_oprt_code: m.text("oprn_oprt_code", ID_CHARS)?,
            oprn_oprt_name: m.text("oprn_oprt_name", DISE_NAME_CHARS)?,
            maternity: MaternityInfo::parse(&m)?,
            dise_type_code: m.text("dise_type_code", ID_CHARS)?,
            exp_content: m.json_text("exp_content", EXP_CONTENT_CHARS)?,
        };
        if mdtrtinfo.med_type == MedicalType::DaySurgery && mdtrtinfo.oprn_oprt_code.is_none() {
            return Err(FsiError::new(
                m.field_path("oprn_oprt_code"),
                "必填字段缺失:日间手术须填写手术操作代码",
            ));
        }
        Ok(Input2401 {
            mdtrtinfo,
            diseinfo: diagnoses(&input, true)?,
        })
    }
}

/// 2402 `input.dscginfo`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DischargeInfo {
    pub mdtrt_id: String,
    pub psn_no: String,
    pub insutype: InsuranceType,
    /// 出院时间.
    pub endtime: NaiveDateTime,
    pub dise_codg: Option<String>,
    pub dise_name: Option<String>,
    pub oprn_oprt_code: Option<String>,
    pub oprn_oprt_name: Option<String>,
    pub maternity: MaternityInfo,
    /// 伴有并发症标志.
    pub cop_flag: Option<bool>,
    pub dscg_dept_codg: String,
    pub dscg_dept_name: String,
    /// 出院床位 (30).
    pub dscg_bed: Option<String>,
    /// 离院方式 (3): 1 医嘱离院, 2 医嘱转院, 5 死亡, ….
    pub dscg_way: String,
    /// 死亡日期.
    pub die_date: Option<NaiveDate>,
}

/// 2402 出院办理: `input.dscginfo` and `input.diseinfo[]` (1 to [`DISEINFO_MAX`]). No output.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Input2402 {
    pub dscginfo: DischargeInfo,
    pub diseinfo: Vec<InpatientDiagnosis>,
}

impl Input2402 {
    pub fn parse(input: &Value) -> Result<Input2402, FsiError> {
        let input = root(input)?;
        let d = input.child("dscginfo")?;
        let dscginfo = DischargeInfo {
            mdtrt_id: d.req_text("mdtrt_id", ID_CHARS)?,
            psn_no: d.req_text("psn_no", ID_CHARS)?,
            insutype: d.req_code("insutype", InsuranceType::parse)?,
            endtime: d.req_datetime("endtime")?,
            dise_codg: d.text("dise_codg", ID_CHARS)?,
            dise_name: d.text("dise_name", DISE_NAME_CHARS)?,
            oprn_oprt_code: d.text("oprn_oprt_code", ID_CHARS)?,
            oprn_oprt_name: d.text("oprn_oprt_name", DISE_NAME_CHARS)?,
            maternity: MaternityInfo::parse(&d)?,
            cop_flag: d.flag("cop_flag")?,
            dscg_dept_codg: d.req_text("dscg_dept_codg", ID_CHARS)?,
            dscg_dept_name: d.req_text("dscg_dept_name", DEPT_NAME_CHARS)?,
            dscg_bed: d.text("dscg_bed", ID_CHARS)?,
            dscg_way: d.req_text("dscg_way", SHORT_CODE_CHARS)?,
            die_date: d.date("die_date")?,
        };
        Ok(Input2402 {
            dscginfo,
            diseinfo: diagnoses(&input, true)?,
        })
    }
}

/// 2403 `input.adminfo`: the admission fields to change. Only `mdtrt_id` and `psn_no` are
/// required; every other field is changed only when sent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AdmissionChange {
    pub mdtrt_id: String,
    pub psn_no: String,
    pub coner_name: Option<String>,
    pub tel: Option<String>,
    pub begntime: Option<NaiveDateTime>,
    /// Not before `begntime` when both are sent.
    pub endtime: Option<NaiveDateTime>,
    pub mdtrt_cert_type: Option<String>,
    pub med_type: Option<MedicalType>,
    /// 住院/门诊号. 2401 calls it `ipt_no`; 2403 `ipt_otp_no`. Either is read.
    pub ipt_otp_no: Option<String>,
    pub medrcdno: Option<String>,
    pub atddr_no: Option<String>,
    pub chfpdr_name: Option<String>,
    pub adm_diag_dscr: Option<String>,
    pub adm_dept_codg: Option<String>,
    pub adm_dept_name: Option<String>,
    pub adm_bed: Option<String>,
    pub dscg_maindiag_code: Option<String>,
    pub dscg_maindiag_name: Option<String>,
    pub main_cond_dscr: Option<String>,
    pub dise_codg: Option<String>,
    pub dise_name: Option<String>,
    pub oprn_oprt_code: Option<String>,
    pub oprn_oprt_name: Option<String>,
    pub maternity: MaternityInfo,
    pub exp_content: Option<String>,
}

/// 2403 入院信息变更: `input.adminfo` and an optional `input.diseinfo[]` that, when sent,
/// replaces the diagnoses. No output.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Input2403 {
    pub adminfo: AdmissionChange,
    pub diseinfo: Vec<InpatientDiagnosis>,
}

impl Input2403 {
    pub fn parse(input: &Value) -> Result<Input2403, FsiError> {
        let input = root(input)?;
        let a = input.child("adminfo")?;
        let ipt_otp_no = match a.text("ipt_otp_no", ID_CHARS)? {
            Some(no) => Some(no),
            None => a.text("ipt_no", ID_CHARS)?,
        };
        let adminfo = AdmissionChange {
            mdtrt_id: a.req_text("mdtrt_id", ID_CHARS)?,
            psn_no: a.req_text("psn_no", ID_CHARS)?,
            coner_name: a.text("coner_name", PERSON_NAME_CHARS)?,
            tel: a.text("tel", TEL_CHARS)?,
            begntime: a.datetime("begntime")?,
            endtime: a.datetime("endtime")?,
            mdtrt_cert_type: a.dict_code("mdtrt_cert_type", SHORT_CODE_CHARS)?,
            med_type: a.code("med_type", MedicalType::parse)?,
            ipt_otp_no,
            medrcdno: a.text("medrcdno", ID_CHARS)?,
            atddr_no: a.text("atddr_no", ID_CHARS)?,
            chfpdr_name: a.text("chfpdr_name", PERSON_NAME_CHARS)?,
            adm_diag_dscr: a.text("adm_diag_dscr", DESCRIPTION_CHARS)?,
            adm_dept_codg: a.text("adm_dept_codg", ID_CHARS)?,
            adm_dept_name: a.text("adm_dept_name", DEPT_NAME_CHARS)?,
            adm_bed: a.text("adm_bed", ID_CHARS)?,
            dscg_maindiag_code: a.text("dscg_maindiag_code", DIAG_CODE_CHARS)?,
            dscg_maindiag_name: a.text("dscg_maindiag_name", MAINDIAG_NAME_CHARS)?,
            main_cond_dscr: a.text("main_cond_dscr", MAIN_COND_CHARS)?,
            dise_codg: a.text("dise_codg", ID_CHARS)?,
            dise_name: a.text("dise_name", DISE_NAME_CHARS)?,
            oprn_oprt_code: a.text("oprn_oprt_code", ID_CHARS)?,
            oprn_oprt_name: a.text("oprn_oprt_name", DISE_NAME_CHARS)?,
            maternity: MaternityInfo::parse(&a)?,
            exp_content: a.json_text("exp_content", EXP_CONTENT_CHARS)?,
        };
        check_order(&a, "endtime", adminfo.begntime, adminfo.endtime, "出院时间早于入院时间")?;
        Ok(Input2403 {
            adminfo,
            diseinfo: diagnoses(&input, false)?,
        })
    }
}

/// 2404 入院办理撤销 and 2405 出院办理撤销, node `input.data`. No output.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Input2404 {
    pub mdtrt_id: String,
    pub psn_no: String,
}

/// 2405 出院办理撤销: the same fields as 2404.
pub type Input2405 = Input2404;

impl Input2404 {
    pub fn parse(input: &Value) -> Result<Input2404, FsiError> {
        let data = root(input)?.child("data")?;
        Ok(Input2404 {
            mdtrt_id: data.req_text("mdtrt_id", ID_CHARS)?,
            psn_no: data.req_text("psn_no", ID_CHARS)?,
        })
    }
}

/// One row of 2302 (`input.data[i]`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FeeRevocation {
    /// 费用明细流水号; [`REVOKE_ALL`] ("0000") revokes every unsettled line of the stay.
    pub feedetl_sn: String,
    pub mdtrt_id: String,
    pub psn_no: String,
    pub exp_content: Option<String>,
}

impl FeeRevocation {
    /// Whether this row revokes every unsettled line.
    pub fn revokes_all(&self) -> bool {
        self.feedetl_sn == REVOKE_ALL
    }
}

/// 2302 住院费用明细撤销: `input.data` as a list of rows, or one object (1 to
/// [`FEE_REVOKE_MAX`] rows). No output.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Input2302 {
    pub data: Vec<FeeRevocation>,
}

impl Input2302 {
    pub fn parse(input: &Value) -> Result<Input2302, FsiError> {
        let rows = root(input)?.list("data", FEE_REVOKE_MAX, "撤销明细")?;
        let data = rows
            .iter()
            .map(|row| {
                Ok(FeeRevocation {
                    feedetl_sn: row.req_text("feedetl_sn", ID_CHARS)?,
                    mdtrt_id: row.req_text("mdtrt_id", ID_CHARS)?,
                    psn_no: row.req_text("psn_no", ID_CHARS)?,
                    exp_content: row.json_text("exp_content", EXP_CONTENT_CHARS)?,
                })
            })
            .collect::<Result<_, FsiError>>()?;
        Ok(Input2302 { data })
    }
}

/// 2303 住院预结算 and 2304 住院结算, node `input.data`. Answered with `setlinfo` + `setldetail`.
///
/// `mid_setl_flag` (中途结算标志) is required by the spec; an absent flag is read as 0 (a final
/// settlement), which is what every client that omits it means. The discharge time's spec name
/// is unconfirmed: `dscgTime` (NT-CS) and `dscg_time` are both read. The four split amounts are
/// optional, as in [`super::Input2206`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Input2303 {
    pub psn_no: String,
    pub mdtrt_cert_type: String,
    pub mdtrt_cert_no: String,
    /// 医疗费总额 (16,2), not negative.
    pub medfee_sumamt: Money,
    pub psn_setlway: String,
    pub mdtrt_id: String,
    pub insutype: InsuranceType,
    pub acct_used_flag: bool,
    pub invono: Option<String>,
    /// 中途结算标志.
    pub mid_setl_flag: bool,
    pub fulamt_ownpay_amt: Option<Money>,
    pub overlmt_selfpay: Option<Money>,
    pub preselfpay_amt: Option<Money>,
    pub inscp_scp_amt: Option<Money>,
    /// 出院时间 (wire `dscgTime` or `dscg_time`).
    pub dscg_time: Option<NaiveDateTime>,
}

/// 2304 住院结算: the same fields as 2303.
pub type Input2304 = Input2303;

impl Input2303 {
    pub fn parse(input: &Value) -> Result<Input2303, FsiError> {
        let data = root(input)?.child("data")?;
        let dscg_time = match data.datetime("dscgTime")? {
            Some(t) => Some(t),
            None => data.datetime("dscg_time")?,
        };
        let parsed = Input2303 {
            psn_no: data.req_text("psn_no", ID_CHARS)?,
            mdtrt_cert_type: data.req_dict_code("mdtrt_cert_type", SHORT_CODE_CHARS)?,
            mdtrt_cert_no: data.req_text("mdtrt_cert_no", CERT_NO_CHARS)?,
            medfee_sumamt: data.req_money("medfee_sumamt", "医疗费总额")?,
            psn_setlway: data.req_dict_code("psn_setlway", CODE_CHARS)?,
            mdtrt_id: data.req_text("mdtrt_id", ID_CHARS)?,
            insutype: data.req_code("insutype", InsuranceType::parse)?,
            acct_used_flag: data.req_flag("acct_used_flag")?,
            invono: data.text("invono", INVONO_CHARS)?,
            mid_setl_flag: data.flag("mid_setl_flag")?.unwrap_or(false),
            fulamt_ownpay_amt: data.money("fulamt_ownpay_amt", "全自费金额")?,
            overlmt_selfpay: data.money("overlmt_selfpay", "超限价金额")?,
            preselfpay_amt: data.money("preselfpay_amt", "先行自付金额")?,
            inscp_scp_amt: data.money("inscp_scp_amt", "符合政策范围金额")?,
            dscg_time,
        };
        check_not_negative(&data, "medfee_sumamt", "医疗费总额", parsed.medfee_sumamt)?;
        Ok(parsed)
    }
}

/// 2305 住院结算撤销, node `input.data`. Answered with the cancelled `setlinfo` + `setldetail`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Input2305 {
    pub mdtrt_id: String,
    pub setl_id: String,
    pub psn_no: String,
    pub exp_content: Option<String>,
}

impl Input2305 {
    pub fn parse(input: &Value) -> Result<Input2305, FsiError> {
        let data = root(input)?.child("data")?;
        Ok(Input2305 {
            mdtrt_id: data.req_text("mdtrt_id", ID_CHARS)?,
            setl_id: data.req_text("setl_id", ID_CHARS)?,
            psn_no: data.req_text("psn_no", ID_CHARS)?,
            exp_content: data.json_text("exp_content", EXP_CONTENT_CHARS)?,
        })
    }
}
