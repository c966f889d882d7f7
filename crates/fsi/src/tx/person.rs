//! 1101 人员信息获取 and 2001 人员待遇享受检查.

use chrono::NaiveDateTime;
use serde_json::Value;
use yibao_codes::{InsuranceType, MedicalType};

use super::{check_order, root};
use crate::error::FsiError;
use crate::limits::{
    CARD_SN_CHARS, CERT_NO_CHARS, CODE_CHARS, DISE_NAME_CHARS, ID_CHARS, PERSON_NAME_CHARS, SHORT_CODE_CHARS,
};

/// 1101 人员信息获取, node `input.data`.
///
/// The spec's table makes `mdtrt_cert_type` and `mdtrt_cert_no` required, yet its own example
/// identifies the person by `psn_cert_type` + `certno` alone. Both are accepted: a request must
/// carry either a voucher (`mdtrt_cert_type` + `mdtrt_cert_no`) or a certificate number
/// (`certno`, with `psn_cert_type` when sent). [`Input1101::lookup`] says which one to use.
/// `card_sn` is not enforced for social-security cards (03); the service may insist.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Input1101 {
    /// 就诊凭证类型 (3): 01 电子凭证, 02 身份证, 03 社保卡; "1" is read as "01".
    pub mdtrt_cert_type: Option<String>,
    /// 就诊凭证编号 (50).
    pub mdtrt_cert_no: Option<String>,
    /// 卡识别码 (32).
    pub card_sn: Option<String>,
    /// 开始时间: for the insured status at a past time. A bare date is accepted (the spec's
    /// example sends "2020-01-01").
    pub begntime: Option<NaiveDateTime>,
    /// 人员证件类型 (6); "2" is read as "02".
    pub psn_cert_type: Option<String>,
    /// 证件号码 (50).
    pub certno: Option<String>,
    /// 人员姓名 (50).
    pub psn_name: Option<String>,
}

/// How a 1101 request identifies the person.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PersonLookup<'a> {
    /// By a medical voucher: e-voucher token, ID card or social-security card number.
    Voucher {
        mdtrt_cert_type: &'a str,
        mdtrt_cert_no: &'a str,
        card_sn: Option<&'a str>,
    },
    /// By a certificate number.
    Certificate {
        psn_cert_type: Option<&'a str>,
        certno: &'a str,
    },
}

impl Input1101 {
    pub fn parse(input: &Value) -> Result<Input1101, FsiError> {
        let data = root(input)?.child("data")?;
        let parsed = Input1101 {
            mdtrt_cert_type: data.dict_code("mdtrt_cert_type", SHORT_CODE_CHARS)?,
            mdtrt_cert_no: data.text("mdtrt_cert_no", CERT_NO_CHARS)?,
            card_sn: data.text("card_sn", CARD_SN_CHARS)?,
            begntime: data.datetime("begntime")?,
            psn_cert_type: data.dict_code("psn_cert_type", CODE_CHARS)?,
            certno: data.text("certno", CERT_NO_CHARS)?,
            psn_name: data.text("psn_name", PERSON_NAME_CHARS)?,
        };
        match (&parsed.mdtrt_cert_type, &parsed.mdtrt_cert_no, &parsed.certno) {
            (Some(_), Some(_), _) | (None, None, Some(_)) => Ok(parsed),
            (Some(_), None, _) => Err(FsiError::missing(data.field_path("mdtrt_cert_no"))),
            (None, Some(_), _) => Err(FsiError::missing(data.field_path("mdtrt_cert_type"))),
            (None, None, None) => Err(FsiError::new(
                data.field_path("mdtrt_cert_no"),
                "必填字段缺失:应提供就诊凭证类型与编号(mdtrt_cert_type、mdtrt_cert_no)或证件号码(certno)",
            )),
        }
    }

    /// The identification to look the person up by: the voucher when one was sent.
    pub fn lookup(&self) -> PersonLookup<'_> {
        match (&self.mdtrt_cert_type, &self.mdtrt_cert_no, &self.certno) {
            (Some(kind), Some(no), _) => PersonLookup::Voucher {
                mdtrt_cert_type: kind,
                mdtrt_cert_no: no,
                card_sn: self.card_sn.as_deref(),
            },
            (_, _, certno) => PersonLookup::Certificate {
                psn_cert_type: self.psn_cert_type.as_deref(),
                certno: certno.as_deref().unwrap_or_default(),
            },
        }
    }
}

/// 2001 人员待遇享受检查, node `input.data`.
///
/// The reference names the fields but gives no table; requiredness follows the spec's habit
/// for the same fields elsewhere: `psn_no`, `insutype`, `med_type` and `begntime` are required.
/// `fixmedins_code` is optional here, since the envelope always carries it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Input2001 {
    pub psn_no: String,
    pub insutype: InsuranceType,
    pub fixmedins_code: Option<String>,
    pub med_type: MedicalType,
    pub begntime: NaiveDateTime,
    /// Not before `begntime`.
    pub endtime: Option<NaiveDateTime>,
    /// 病种编码 (30).
    pub dise_codg: Option<String>,
    pub dise_name: Option<String>,
    pub oprn_oprt_code: Option<String>,
    pub oprn_oprt_name: Option<String>,
    pub matn_type: Option<String>,
    pub birctrl_type: Option<String>,
}

impl Input2001 {
    pub fn parse(input: &Value) -> Result<Input2001, FsiError> {
        let data = root(input)?.child("data")?;
        let parsed = Input2001 {
            psn_no: data.req_text("psn_no", ID_CHARS)?,
            insutype: data.req_code("insutype", InsuranceType::parse)?,
            fixmedins_code: data.text("fixmedins_code", ID_CHARS)?,
            med_type: data.req_code("med_type", MedicalType::parse)?,
            begntime: data.req_datetime("begntime")?,
            endtime: data.datetime("endtime")?,
            dise_codg: data.text("dise_codg", ID_CHARS)?,
            dise_name: data.text("dise_name", DISE_NAME_CHARS)?,
            oprn_oprt_code: data.text("oprn_oprt_code", ID_CHARS)?,
            oprn_oprt_name: data.text("oprn_oprt_name", DISE_NAME_CHARS)?,
            matn_type: data.text("matn_type", CODE_CHARS)?,
            birctrl_type: data.text("birctrl_type", CODE_CHARS)?,
        };
        check_order(
            &data,
            "endtime",
            Some(parsed.begntime),
            parsed.endtime,
            "结束时间早于开始时间",
        )?;
        Ok(parsed)
    }
}
