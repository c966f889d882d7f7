//! 4101 / 4101A 医疗保障基金结算清单信息上传: the settlement list of a discharged inpatient,
//! which the platform groups into a DRG.
//!
//! The list has many sections (`setlinfo`, `payinfo`, `opspdiseinfo`, `diseinfo`, `iteminfo`,
//! `oprninfo`, `icuinfo`). Only the grouping fields are read and checked here; the rest are
//! accepted as sent. Nodes:
//!
//! - `input.setlinfo` (结算清单信息): `mdtrt_id`, `setl_id`, `psn_no` (required); `gend`
//!   (1 男 / 2 女), `age` (years), `nwb_age` (新生儿年龄, days, for a patient under one year),
//!   `nwb_bir_wt` (新生儿出生体重, g), `act_ipt_days` (实际住院天数), `dscg_way` (离院方式, 1–5 or 9),
//!   `vent_used_dura` (呼吸机使用时长: hours as a number, or the 结算清单 form `2天3小时15分钟`).
//!   Sex and age, when absent, come from the person's record.
//! - `input.diseinfo[]` (诊断信息, at most [`SETL_LIST_DIAGNOSES_MAX`]): `diag_code` and
//!   `maindiag_flag` (exactly one 1); the main diagnosis comes first, the others in upload order.
//! - `input.oprninfo[]` (手术操作信息, at most [`SETL_LIST_PROCEDURES_MAX`], optional):
//!   `oprn_oprt_code` and `main_oprn_flag` (at most one 1; with none, the first is the main one).

use serde_json::Value;

use super::root;
use crate::error::FsiError;
use crate::limits::{DIAG_CODE_CHARS, ID_CHARS, SHORT_CODE_CHARS};
use crate::read::Fields;

/// Diagnoses one settlement list may carry (the grouper reads at most 50).
pub const SETL_LIST_DIAGNOSES_MAX: usize = 50;
/// Procedures one settlement list may carry (the grouper reads at most 50).
pub const SETL_LIST_PROCEDURES_MAX: usize = 50;
/// The longest ventilation accepted, in hours (a year).
pub const VENT_HOURS_MAX: u32 = 24 * 366;
/// The longest stay accepted, in days.
const IPT_DAYS_MAX: i64 = 36_600;

/// The grouping fields of a 4101 settlement list.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Input4101 {
    pub mdtrt_id: String,
    pub setl_id: String,
    pub psn_no: String,
    /// 1 男 / 2 女.
    pub gend: Option<String>,
    pub age: Option<u16>,
    /// 新生儿年龄 (days).
    pub nwb_age: Option<u16>,
    /// 新生儿出生体重 (g).
    pub nwb_bir_wt: Option<u32>,
    pub act_ipt_days: Option<u32>,
    /// 离院方式.
    pub dscg_way: Option<String>,
    /// 呼吸机使用时长, whole hours (minutes dropped).
    pub vent_hours: u32,
    /// Diagnosis codes, the main one first.
    pub diagnoses: Vec<String>,
    /// Procedure codes, the main one first.
    pub procedures: Vec<String>,
}

impl Input4101 {
    pub fn parse(input: &Value) -> Result<Input4101, FsiError> {
        let input = root(input)?;
        let setl = input.child("setlinfo")?;
        let gend = setl.text("gend", SHORT_CODE_CHARS)?;
        if let Some(g) = &gend {
            if g != "1" && g != "2" {
                return Err(FsiError::new(setl.field_path("gend"), "性别应为1(男)或2(女)"));
            }
        }
        let dscg_way = setl.text("dscg_way", SHORT_CODE_CHARS)?;
        if let Some(w) = &dscg_way {
            if !matches!(w.as_str(), "1" | "2" | "3" | "4" | "5" | "9") {
                return Err(FsiError::new(
                    setl.field_path("dscg_way"),
                    "离院方式应为1、2、3、4、5或9",
                ));
            }
        }
        let small =
            |name: &str, label: &str, max: i64| -> Result<Option<i64>, FsiError> { setl.integer(name, label, 0, max) };
        let parsed = Input4101 {
            mdtrt_id: setl.req_text("mdtrt_id", ID_CHARS)?,
            setl_id: setl.req_text("setl_id", ID_CHARS)?,
            psn_no: setl.req_text("psn_no", ID_CHARS)?,
            gend,
            age: small("age", "年龄", 150)?.map(|n| n as u16),
            nwb_age: small("nwb_age", "新生儿年龄(天)", 365)?.map(|n| n as u16),
            nwb_bir_wt: small("nwb_bir_wt", "新生儿出生体重(克)", 10_000)?.map(|n| n as u32),
            act_ipt_days: small("act_ipt_days", "实际住院天数", IPT_DAYS_MAX)?.map(|n| n as u32),
            dscg_way,
            vent_hours: vent_hours(&setl)?,
            diagnoses: diagnoses(&input)?,
            procedures: procedures(&input)?,
        };
        Ok(parsed)
    }
}

/// `vent_used_dura`: a number of hours, or `D天H小时M分钟` (any part may be missing).
fn vent_hours(setl: &Fields) -> Result<u32, FsiError> {
    let Some(text) = setl.text("vent_used_dura", 30)? else {
        return Ok(0);
    };
    let bad = || {
        FsiError::new(
            setl.field_path("vent_used_dura"),
            "呼吸机使用时长应为小时数或“X天X小时X分钟”",
        )
    };
    let text = text.trim();
    let hours: u64 = if text.bytes().all(|b| b.is_ascii_digit()) {
        text.parse().map_err(|_| bad())?
    } else {
        let mut total_minutes: u64 = 0;
        let mut number = String::new();
        let mut rest = text;
        while let Some(c) = rest.chars().next() {
            rest = &rest[c.len_utf8()..];
            if c.is_ascii_digit() {
                number.push(c);
                continue;
            }
            let unit_minutes = if c == '天' {
                24 * 60
            } else if c == '小' && rest.starts_with('时') {
                rest = &rest['时'.len_utf8()..];
                60
            } else if c == '分' {
                rest = rest.strip_prefix('钟').unwrap_or(rest);
                1
            } else {
                return Err(bad());
            };
            if number.is_empty() || number.len() > 6 {
                return Err(bad());
            }
            total_minutes += number.parse::<u64>().map_err(|_| bad())? * unit_minutes;
            number.clear();
        }
        if !number.is_empty() {
            return Err(bad());
        }
        total_minutes / 60
    };
    u32::try_from(hours)
        .ok()
        .filter(|h| *h <= VENT_HOURS_MAX)
        .ok_or_else(|| {
            FsiError::new(
                setl.field_path("vent_used_dura"),
                format!("呼吸机使用时长超过{VENT_HOURS_MAX}小时"),
            )
        })
}

fn diagnoses(input: &Fields) -> Result<Vec<String>, FsiError> {
    let items = input.list("diseinfo", SETL_LIST_DIAGNOSES_MAX, "诊断信息")?;
    let mut main = None;
    let mut others = Vec::with_capacity(items.len());
    for item in &items {
        let code = item.req_text("diag_code", DIAG_CODE_CHARS)?;
        if item.req_flag("maindiag_flag")? {
            if main.is_some() {
                return Err(FsiError::new(item.field_path("maindiag_flag"), "只能有一个主要诊断"));
            }
            main = Some(code);
        } else {
            others.push(code);
        }
    }
    let Some(main) = main else {
        return Err(FsiError::new(
            input.field_path("diseinfo"),
            "缺少主要诊断(maindiag_flag=1)",
        ));
    };
    others.insert(0, main);
    Ok(others)
}

fn procedures(input: &Fields) -> Result<Vec<String>, FsiError> {
    let items = input.opt_list("oprninfo", SETL_LIST_PROCEDURES_MAX, "手术操作信息")?;
    let mut main = None;
    let mut others = Vec::with_capacity(items.len());
    for item in &items {
        let code = item.req_text("oprn_oprt_code", DIAG_CODE_CHARS)?;
        if item.flag("main_oprn_flag")?.unwrap_or(false) {
            if main.is_some() {
                return Err(FsiError::new(
                    item.field_path("main_oprn_flag"),
                    "只能有一个主要手术操作",
                ));
            }
            main = Some(code);
        } else {
            others.push(code);
        }
    }
    if let Some(main) = main {
        others.insert(0, main);
    }
    Ok(others)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn list(setl: Value) -> Value {
        json!({
            "setlinfo": setl,
            "diseinfo": [
                {"diag_code": "E11.900", "maindiag_flag": "0"},
                {"diag_code": "I21.001", "maindiag_flag": "1"}
            ],
            "oprninfo": [{"oprn_oprt_code": "36.0601", "main_oprn_flag": "1"}]
        })
    }

    #[test]
    fn reads_the_grouping_fields() {
        let i = Input4101::parse(&list(json!({
            "mdtrt_id": "M1", "setl_id": "S1", "psn_no": "P1", "gend": "1", "age": "61",
            "act_ipt_days": 6, "dscg_way": "1", "vent_used_dura": "4天1小时30分钟"
        })))
        .unwrap();
        assert_eq!(i.diagnoses, ["I21.001", "E11.900"]);
        assert_eq!(i.procedures, ["36.0601"]);
        assert_eq!((i.age, i.act_ipt_days, i.vent_hours), (Some(61), Some(6), 97));
    }

    #[test]
    fn refusals_name_the_field() {
        let base = json!({"mdtrt_id": "M1", "setl_id": "S1", "psn_no": "P1"});
        let mut setl = base.clone();
        setl["gend"] = json!("3");
        assert_eq!(
            Input4101::parse(&list(setl)).unwrap_err().to_string(),
            "input.setlinfo.gend: 性别应为1(男)或2(女)"
        );
        let mut setl = base.clone();
        setl["vent_used_dura"] = json!("3周");
        let e = Input4101::parse(&list(setl)).unwrap_err().to_string();
        assert!(e.starts_with("input.setlinfo.vent_used_dura: "), "{e}");
        let mut no_main = list(base.clone());
        no_main["diseinfo"][1]["maindiag_flag"] = json!("0");
        assert_eq!(
            Input4101::parse(&no_main).unwrap_err().to_string(),
            "input.diseinfo: 缺少主要诊断(maindiag_flag=1)"
        );
        let mut two_main = list(base);
        two_main["diseinfo"][0]["maindiag_flag"] = json!("1");
        assert_eq!(
            Input4101::parse(&two_main).unwrap_err().to_string(),
            "input.diseinfo[1].maindiag_flag: 只能有一个主要诊断"
        );
    }
}
