//! 3101 明细审核事前分析服务, 3102 明细审核事中分析服务 and 3103 事前事中服务反馈服务: the HIS
//! sends its patients' encounters and orders before ordering (事前) or before settling (事中),
//! and the centre answers with the supervision rules' findings; 3103 says what the doctor did
//! with each warning.

use chrono::NaiveDateTime;
use serde_json::Value;
use yibao_codes::{InsuranceType, MedicalType, Sex};
use yibao_money::{Money, Price, Quantity};

use super::root;
use crate::error::FsiError;
use crate::limits::{
    CODE_CHARS, DIAG_CODE_CHARS, DISE_NAME_CHARS, ID_CHARS, LIST_CODE_CHARS, MEMO_CHARS, PERSON_NAME_CHARS,
};

/// The most patients one 3101/3102 call may carry.
pub const AUDIT_PATIENTS_MAX: usize = 50;
/// The most encounters (`fsi_encounter_dtos`) per patient, history included.
pub const AUDIT_ENCOUNTERS_MAX: usize = 50;
/// The most orders (`fsi_order_dtos`) per encounter.
pub const AUDIT_ORDERS_MAX: usize = 5000;
/// The most orders in one call, over all encounters (a bound on the work one request causes).
pub const AUDIT_CALL_ORDERS_MAX: usize = 20_000;
/// The most rule ids (`rule_ids`) one call may name.
pub const AUDIT_RULE_IDS_MAX: usize = 100;
/// The most warnings one 3103 call may answer.
pub const FEEDBACK_WARNS_MAX: usize = 1000;

/// 触发场景 `trig_scen`: 1–5 事前 (3101), 6–10 事中 (3102).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TriggerScene(pub u8);

impl TriggerScene {
    pub fn name_zh(self) -> &'static str {
        match self.0 {
            1 => "门诊挂号",
            2 => "门诊收费登记",
            3 => "住院登记",
            4 => "住院收费登记",
            5 => "住院执行医嘱",
            6 => "门诊结算",
            7 => "门诊预结算",
            8 => "住院结算",
            9 => "住院预结算",
            _ => "购药划卡",
        }
    }

    /// Scenes 1–5 are 事前 (before ordering), 6–10 事中 (before settling).
    pub fn is_before_ordering(self) -> bool {
        self.0 <= 5
    }
}

/// One order (`fsi_order_dtos[]`): a prescription line or a charged item.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuditOrder {
    /// 处方(医嘱)标识 `rx_id`, unique within the call.
    pub rx_id: String,
    pub hilist_code: String,
    pub hilist_name: Option<String>,
    pub cnt: Quantity,
    pub pric: Price,
    /// 明细项目费用总额; when sent it must equal `pric × cnt` rounded to the fen.
    pub sumamt: Option<Money>,
    /// 医保目录价格 (the listed price, for discount rules).
    pub hilist_pric: Option<Price>,
    /// 医嘱开始时间: when the item is given.
    pub drord_begn_date: NaiveDateTime,
    /// 当前医嘱标识: `true` for the orders being checked now, `false` for history sent as
    /// context (absent: current).
    pub curr_drord_flag: bool,
}

/// One encounter (`fsi_encounter_dtos[]`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuditEncounter {
    pub mdtrt_id: String,
    /// 定点医药机构编号 `medins_id`.
    pub medins_id: String,
    /// 医疗机构等级 `medins_lv` as sent (the centre uses its own registry for the caller).
    pub medins_lv: Option<String>,
    pub adm_date: NaiveDateTime,
    pub dscg_date: Option<NaiveDateTime>,
    /// 就诊类型 `med_mdtrt_type`: 1 门诊, 2 住院, 3 购药.
    pub inpatient: bool,
    pub med_type: Option<MedicalType>,
    pub insutype: InsuranceType,
    /// Diagnosis codes, the main one (`maindise_flag` 1) first.
    pub diagnoses: Vec<String>,
    pub orders: Vec<AuditOrder>,
}

/// One patient (`patient_dtos[]`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuditPatient {
    /// 参保人标识 `patn_id` (the person number).
    pub patn_id: String,
    pub patn_name: Option<String>,
    pub gend: Sex,
    pub brdy: chrono::NaiveDate,
    /// 当前就诊标识 `curr_mdtrt_id`.
    pub curr_mdtrt_id: String,
    pub encounters: Vec<AuditEncounter>,
}

/// 3101 / 3102, node `input.data`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Input3101 {
    pub syscode: Option<String>,
    pub task_id: Option<String>,
    pub trig_scen: Vec<TriggerScene>,
    /// Only these rules (`rule_ids`), when given.
    pub rule_ids: Vec<String>,
    pub patients: Vec<AuditPatient>,
}

impl Input3101 {
    /// `infno` is 3101 or 3102; the trigger scenes must be of its kind.
    pub fn parse(input: &Value, infno: &str) -> Result<Input3101, FsiError> {
        let data = root(input)?.child("data")?;
        let before = infno == "3101";
        let mut trig_scen = Vec::new();
        if let Some(text) = data.text("trig_scen", 30)? {
            for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
                let scene = part
                    .parse::<u8>()
                    .ok()
                    .filter(|n| (1..=10).contains(n))
                    .map(TriggerScene)
                    .ok_or_else(|| FsiError::new(data.field_path("trig_scen"), format!("触发场景“{part}”应为1至10")))?;
                if scene.is_before_ordering() != before {
                    let (kind, range) = if before {
                        ("事前", "1至5")
                    } else {
                        ("事中", "6至10")
                    };
                    return Err(FsiError::new(
                        data.field_path("trig_scen"),
                        format!(
                            "{infno}为{kind}审核,触发场景应为{range},而非{}({})",
                            scene.0,
                            scene.name_zh()
                        ),
                    ));
                }
                trig_scen.push(scene);
            }
        }
        let mut rule_ids = Vec::new();
        match data.value("rule_ids") {
            None | Some(Value::Null) => {}
            Some(Value::Array(items)) => {
                if items.len() > AUDIT_RULE_IDS_MAX {
                    return Err(FsiError::new(
                        data.field_path("rule_ids"),
                        format!("规则编号{}个,超过上限{AUDIT_RULE_IDS_MAX}个", items.len()),
                    ));
                }
                for (i, item) in items.iter().enumerate() {
                    match item.as_str() {
                        Some(id) if !id.is_empty() && id.chars().count() <= ID_CHARS => rule_ids.push(id.to_owned()),
                        _ => {
                            return Err(FsiError::new(
                                format!("{}[{i}]", data.field_path("rule_ids")),
                                format!("规则编号应为1至{ID_CHARS}个字符的文本"),
                            ))
                        }
                    }
                }
            }
            Some(Value::String(text)) => {
                rule_ids.extend(
                    text.split(',')
                        .map(str::trim)
                        .filter(|p| !p.is_empty())
                        .map(str::to_owned),
                );
            }
            Some(_) => return Err(FsiError::new(data.field_path("rule_ids"), "应为规则编号数组")),
        }
        if trig_scen.is_empty() && rule_ids.is_empty() {
            return Err(FsiError::missing(data.field_path("trig_scen")));
        }
        let mut orders_total = 0usize;
        let mut patients = Vec::new();
        for p in data.list("patient_dtos", AUDIT_PATIENTS_MAX, "参保人")? {
            let mut encounters = Vec::new();
            for e in p.list("fsi_encounter_dtos", AUDIT_ENCOUNTERS_MAX, "就诊")? {
                let med_mdtrt_type = e.req_dict_code("med_mdtrt_type", CODE_CHARS)?;
                // Dictionary codes are read in their two-digit form ("1" and "01" alike).
                let inpatient = match med_mdtrt_type.trim_start_matches('0') {
                    "1" | "3" => false,
                    "2" => true,
                    other => {
                        return Err(FsiError::new(
                            e.field_path("med_mdtrt_type"),
                            format!("就诊类型“{other}”应为1(门诊)、2(住院)或3(购药)"),
                        ))
                    }
                };
                let mut diagnoses: Vec<(bool, String)> = Vec::new();
                for d in e.opt_list("fsi_diagnose_dtos", 100, "诊断")? {
                    let main = d.flag("maindise_flag")?.unwrap_or(false);
                    diagnoses.push((main, d.req_text("dise_codg", DIAG_CODE_CHARS)?));
                }
                diagnoses.sort_by_key(|(main, _)| !*main);
                let mut orders = Vec::new();
                // Up to 5,000 orders: the duplicate check is a set lookup, not a scan.
                let mut rx_ids: std::collections::HashSet<String> = std::collections::HashSet::new();
                for o in e.opt_list("fsi_order_dtos", AUDIT_ORDERS_MAX, "医嘱")? {
                    let order = AuditOrder {
                        rx_id: o.req_text("rx_id", ID_CHARS)?,
                        hilist_code: o.req_text("hilist_code", LIST_CODE_CHARS)?,
                        hilist_name: o.text("hilist_name", DISE_NAME_CHARS)?,
                        cnt: o.req_quantity("cnt", "数量")?,
                        pric: o.req_price("pric", "单价")?,
                        sumamt: o.money("sumamt", "明细项目费用总额")?,
                        hilist_pric: o.price("hilist_pric", "医保目录价格")?,
                        drord_begn_date: o.req_datetime("drord_begn_date")?,
                        curr_drord_flag: o.flag("curr_drord_flag")?.unwrap_or(true),
                    };
                    if order.cnt.ten_thousandths() <= 0 {
                        return Err(FsiError::new(o.field_path("cnt"), "数量必须大于0"));
                    }
                    if order.pric.millionths() < 0 {
                        return Err(FsiError::new(o.field_path("pric"), "单价不能为负"));
                    }
                    if let Some(sum) = order.sumamt {
                        let computed = Money::from_price_quantity(order.pric, order.cnt, yibao_money::Rounding::HalfUp);
                        if sum != computed {
                            return Err(FsiError::new(
                                o.field_path("sumamt"),
                                format!("明细项目费用总额{sum}与单价×数量={computed}不符"),
                            ));
                        }
                    }
                    if !rx_ids.insert(order.rx_id.clone()) {
                        return Err(FsiError::new(
                            o.field_path("rx_id"),
                            format!("处方(医嘱)标识{}在同一就诊中重复", order.rx_id),
                        ));
                    }
                    orders.push(order);
                }
                orders_total += orders.len();
                if orders_total > AUDIT_CALL_ORDERS_MAX {
                    return Err(FsiError::new(
                        e.field_path("fsi_order_dtos"),
                        format!("本次请求医嘱超过上限{AUDIT_CALL_ORDERS_MAX}条"),
                    ));
                }
                let adm_date = e.req_datetime("adm_date")?;
                let dscg_date = e.datetime("dscg_date")?;
                if dscg_date.is_some_and(|d| d < adm_date) {
                    return Err(FsiError::new(e.field_path("dscg_date"), "出院时间早于入院时间"));
                }
                encounters.push(AuditEncounter {
                    mdtrt_id: e.req_text("mdtrt_id", ID_CHARS)?,
                    medins_id: e.req_text("medins_id", ID_CHARS)?,
                    medins_lv: e.text("medins_lv", CODE_CHARS)?,
                    adm_date,
                    dscg_date,
                    inpatient,
                    med_type: e.code("med_type", MedicalType::parse)?,
                    insutype: e.req_code("insutype", InsuranceType::parse)?,
                    diagnoses: diagnoses.into_iter().map(|(_, c)| c).collect(),
                    orders,
                });
            }
            let patient = AuditPatient {
                patn_id: p.req_text("patn_id", ID_CHARS)?,
                patn_name: p.text("patn_name", PERSON_NAME_CHARS)?,
                gend: p.req_code("gend", Sex::parse)?,
                brdy: p.req_date("brdy")?,
                curr_mdtrt_id: p.req_text("curr_mdtrt_id", ID_CHARS)?,
                encounters,
            };
            if !patient.encounters.iter().any(|e| e.mdtrt_id == patient.curr_mdtrt_id) {
                return Err(FsiError::new(
                    p.field_path("curr_mdtrt_id"),
                    format!("当前就诊标识{}不在fsi_encounter_dtos中", patient.curr_mdtrt_id),
                ));
            }
            patients.push(patient);
        }
        Ok(Input3101 {
            syscode: data.text("syscode", ID_CHARS)?,
            task_id: data.text("task_id", ID_CHARS)?,
            trig_scen,
            rule_ids,
            patients,
        })
    }
}

/// 3103's handling of one warning (`dspo_way`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Disposal {
    /// 1 继续执行医嘱 (a reason is required).
    Continue,
    /// 2 返回修改医嘱.
    Modify,
}

impl Disposal {
    pub fn code(self) -> &'static str {
        match self {
            Disposal::Continue => "1",
            Disposal::Modify => "2",
        }
    }
}

/// One warning's feedback (`warns[]`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Warn {
    /// 预警结果标识 `warn_rslt_id` (= the `jr_id` 3101/3102 answered).
    pub warn_rslt_id: String,
    pub dspo_way: Disposal,
    pub dspo_way_rea: Option<String>,
}

/// 3103 事前事中服务反馈服务, node `input.data`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Input3103 {
    /// 1 事前, 2 事中.
    pub warn_type: u8,
    pub warns: Vec<Warn>,
}

impl Input3103 {
    pub fn parse(input: &Value) -> Result<Input3103, FsiError> {
        let data = root(input)?.child("data")?;
        let warn_type = data.req_integer("warn_type", "预警类型", 1, 2)? as u8;
        let mut warns = Vec::new();
        for w in data.list("warns", FEEDBACK_WARNS_MAX, "预警")? {
            let dspo_way = match w.req_dict_code("dspo_way", CODE_CHARS)?.trim_start_matches('0') {
                "1" => Disposal::Continue,
                "2" => Disposal::Modify,
                other => {
                    return Err(FsiError::new(
                        w.field_path("dspo_way"),
                        format!("处理方式“{other}”应为1(继续执行医嘱)或2(返回修改医嘱)"),
                    ))
                }
            };
            let warn = Warn {
                warn_rslt_id: w.req_text("warn_rslt_id", ID_CHARS)?,
                dspo_way,
                dspo_way_rea: w.text("dspo_way_rea", MEMO_CHARS)?.filter(|r| !r.trim().is_empty()),
            };
            if dspo_way == Disposal::Continue && warn.dspo_way_rea.is_none() {
                return Err(FsiError::new(
                    w.field_path("dspo_way_rea"),
                    "选择继续执行医嘱时须填写处理原因",
                ));
            }
            if warns.iter().any(|x: &Warn| x.warn_rslt_id == warn.warn_rslt_id) {
                return Err(FsiError::new(
                    w.field_path("warn_rslt_id"),
                    format!("预警结果标识{}重复", warn.warn_rslt_id),
                ));
            }
            warns.push(warn);
        }
        Ok(Input3103 { warn_type, warns })
    }
}
