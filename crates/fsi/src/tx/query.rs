//! 5201–5206 queries, all on `input.data`.
//!
//! The reference gives tables for 5201, 5203, 5204 and 5206 only; 5202 and 5205 follow "psn_no
//! plus a time range or mdtrt_id" as it describes them.

use chrono::{NaiveDate, NaiveDateTime};
use serde_json::Value;
use yibao_codes::MedicalType;

use super::{check_order, root};
use crate::error::FsiError;
use crate::limits::ID_CHARS;
use crate::read::{echo, Fields};

fn psn_no(data: &Fields) -> Result<String, FsiError> {
    data.req_text("psn_no", ID_CHARS)
}

/// 5201 就诊信息查询: a person's visits, optionally narrowed by time, medical type or visit.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Input5201 {
    pub psn_no: String,
    pub begntime: Option<NaiveDateTime>,
    /// Not before `begntime` when both are sent.
    pub endtime: Option<NaiveDateTime>,
    pub med_type: Option<MedicalType>,
    pub mdtrt_id: Option<String>,
}

impl Input5201 {
    pub fn parse(input: &Value) -> Result<Input5201, FsiError> {
        let data = root(input)?.child("data")?;
        let parsed = Input5201 {
            psn_no: psn_no(&data)?,
            begntime: data.datetime("begntime")?,
            endtime: data.datetime("endtime")?,
            med_type: data.code("med_type", MedicalType::parse)?,
            mdtrt_id: data.text("mdtrt_id", ID_CHARS)?,
        };
        check_order(
            &data,
            "endtime",
            parsed.begntime,
            parsed.endtime,
            "结束时间早于开始时间",
        )?;
        Ok(parsed)
    }
}

/// 5202 诊断信息查询: the diagnoses of one visit (`psn_no` and `mdtrt_id` required).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Input5202 {
    pub psn_no: String,
    pub mdtrt_id: String,
}

impl Input5202 {
    pub fn parse(input: &Value) -> Result<Input5202, FsiError> {
        let data = root(input)?.child("data")?;
        Ok(Input5202 {
            psn_no: psn_no(&data)?,
            mdtrt_id: data.req_text("mdtrt_id", ID_CHARS)?,
        })
    }
}

/// 5203 结算信息查询: one settlement (all three ids required).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Input5203 {
    pub psn_no: String,
    pub setl_id: String,
    pub mdtrt_id: String,
}

impl Input5203 {
    pub fn parse(input: &Value) -> Result<Input5203, FsiError> {
        let data = root(input)?.child("data")?;
        Ok(Input5203 {
            psn_no: psn_no(&data)?,
            setl_id: data.req_text("setl_id", ID_CHARS)?,
            mdtrt_id: data.req_text("mdtrt_id", ID_CHARS)?,
        })
    }
}

/// 5204 费用明细查询: a visit's fee lines. `setl_id` is optional, so that lines not yet settled
/// can be listed too; when sent, only that settlement's lines are meant.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Input5204 {
    pub psn_no: String,
    pub setl_id: Option<String>,
    pub mdtrt_id: String,
}

impl Input5204 {
    pub fn parse(input: &Value) -> Result<Input5204, FsiError> {
        let data = root(input)?.child("data")?;
        Ok(Input5204 {
            psn_no: psn_no(&data)?,
            setl_id: data.text("setl_id", ID_CHARS)?,
            mdtrt_id: data.req_text("mdtrt_id", ID_CHARS)?,
        })
    }
}

/// 5205 人员慢特病用药记录查询: a person's chronic-disease medication over an optional period.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Input5205 {
    pub psn_no: String,
    pub begntime: Option<NaiveDateTime>,
    pub endtime: Option<NaiveDateTime>,
}

impl Input5205 {
    pub fn parse(input: &Value) -> Result<Input5205, FsiError> {
        let data = root(input)?.child("data")?;
        let parsed = Input5205 {
            psn_no: psn_no(&data)?,
            begntime: data.datetime("begntime")?,
            endtime: data.datetime("endtime")?,
        };
        check_order(
            &data,
            "endtime",
            parsed.begntime,
            parsed.endtime,
            "结束时间早于开始时间",
        )?;
        Ok(parsed)
    }
}

/// 5206 人员累计信息查询: a person's accumulators, optionally as of one month.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Input5206 {
    pub psn_no: String,
    /// 累计年月 (`yyyyMM`, also `yyyy-MM`), as the first day of that month.
    pub cum_ym: Option<NaiveDate>,
}

/// 累计年月 length (6, `yyyyMM`; 7 accepted for `yyyy-MM`).
const CUM_YM_CHARS: usize = 7;

impl Input5206 {
    pub fn parse(input: &Value) -> Result<Input5206, FsiError> {
        let data = root(input)?.child("data")?;
        let psn_no = psn_no(&data)?;
        let cum_ym = match data.text("cum_ym", CUM_YM_CHARS)? {
            None => None,
            Some(text) => {
                let digits: String = text.chars().filter(|c| *c != '-').collect();
                let month = (digits.len() == 6)
                    .then(|| crate::read::parse_date_text(&format!("{digits}01")))
                    .flatten();
                Some(month.ok_or_else(|| {
                    FsiError::new(
                        data.field_path("cum_ym"),
                        format!("累计年月“{}”格式应为yyyyMM", echo(&text)),
                    )
                })?)
            }
        };
        Ok(Input5206 { psn_no, cum_ym })
    }
}
