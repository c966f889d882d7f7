//! Fee lines (费用明细): 2204 门诊费用明细上传 and 2301 住院费用明细上传.

use chrono::NaiveDateTime;
use serde_json::Value;
use yibao_codes::MedicalType;
use yibao_money::{Money, Price, Quantity};
use yibao_settle::FeeLine;

use super::root;
use crate::error::FsiError;
use crate::limits::{
    CODE_CHARS, DEPT_NAME_CHARS, DESCRIPTION_CHARS, EXP_CONTENT_CHARS, FEEDETAIL_MAX, ID_CHARS, LIST_CODE_CHARS,
    MEDINS_LIST_CODE_CHARS, MEMO_CHARS, PERSON_NAME_CHARS, SHORT_CODE_CHARS,
};
use crate::read::{check_same, check_unique, Fields};

/// What one fee line says about the item, common to 2204 and 2301 (`feedetail[]` columns).
///
/// Requiredness follows the spec's tables, except `hosp_appr_flag` (医院审批标志), which is
/// optional here: it is a three-valued code (0 无须审批 / 1 审批通过 / 2 审批不通过) whose absence
/// has an obvious meaning. Amount consistency (`det_item_fee_sumamt` = `pric` × `cnt`) is left
/// to the settlement engine, which checks it with the region's rounding rule.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FeeItem {
    /// 费用发生时间.
    pub fee_ocur_time: NaiveDateTime,
    /// 医疗目录编码: the national code (50). Checked against the catalog, not here.
    pub med_list_codg: String,
    /// 医药机构目录编码: the institution's own code (150).
    pub medins_list_codg: String,
    /// 明细项目费用总额 (16,2).
    pub det_item_fee_sumamt: Money,
    /// 数量 (16,4).
    pub cnt: Quantity,
    /// 单价 (16,6), never negative.
    pub pric: Price,
    /// 单次剂量描述 (200).
    pub sin_dos_dscr: Option<String>,
    /// 使用频次描述 (200).
    pub used_frqu_dscr: Option<String>,
    /// 周期天数 (4,2), in days.
    pub prd_days: Option<Quantity>,
    /// 用药途径描述 (200).
    pub medc_way_dscr: Option<String>,
    pub bilg_dept_codg: String,
    pub bilg_dept_name: String,
    /// 开单医师 (医保医师代码).
    pub bilg_dr_codg: String,
    pub bilg_dr_name: String,
    pub acord_dept_codg: Option<String>,
    pub acord_dept_name: Option<String>,
    pub orders_dr_code: Option<String>,
    pub orders_dr_name: Option<String>,
    /// 医院审批标志 (3), kept as sent.
    pub hosp_appr_flag: Option<String>,
    /// 中药使用方式 (6).
    pub tcmdrug_used_way: Option<String>,
    /// 外检标志.
    pub etip_flag: Option<bool>,
    /// 外检医院编码 (30).
    pub etip_hosp_code: Option<String>,
    /// 出院带药标志.
    pub dscg_tkdrug_flag: Option<bool>,
    /// 生育费用标志 (6).
    pub matn_fee_flag: Option<String>,
    /// 备注 (500).
    pub memo: Option<String>,
    /// 扩展内容 (4000): a string, or an object kept as its JSON text.
    pub exp_content: Option<String>,
}

impl FeeItem {
    fn parse(line: &Fields) -> Result<FeeItem, FsiError> {
        let item = FeeItem {
            fee_ocur_time: line.req_datetime("fee_ocur_time")?,
            med_list_codg: line.req_text("med_list_codg", LIST_CODE_CHARS)?,
            medins_list_codg: line.req_text("medins_list_codg", MEDINS_LIST_CODE_CHARS)?,
            det_item_fee_sumamt: line.req_money("det_item_fee_sumamt", "明细项目费用总额")?,
            cnt: line.req_quantity("cnt", "数量")?,
            pric: line.req_price("pric", "单价")?,
            sin_dos_dscr: line.text("sin_dos_dscr", DESCRIPTION_CHARS)?,
            used_frqu_dscr: line.text("used_frqu_dscr", DESCRIPTION_CHARS)?,
            prd_days: line.quantity("prd_days", "周期天数")?,
            medc_way_dscr: line.text("medc_way_dscr", DESCRIPTION_CHARS)?,
            bilg_dept_codg: line.req_text("bilg_dept_codg", ID_CHARS)?,
            bilg_dept_name: line.req_text("bilg_dept_name", DEPT_NAME_CHARS)?,
            bilg_dr_codg: line.req_text("bilg_dr_codg", ID_CHARS)?,
            bilg_dr_name: line.req_text("bilg_dr_name", PERSON_NAME_CHARS)?,
            acord_dept_codg: line.text("acord_dept_codg", ID_CHARS)?,
            acord_dept_name: line.text("acord_dept_name", DEPT_NAME_CHARS)?,
            orders_dr_code: line.text("orders_dr_code", ID_CHARS)?,
            orders_dr_name: line.text("orders_dr_name", PERSON_NAME_CHARS)?,
            hosp_appr_flag: line.text("hosp_appr_flag", SHORT_CODE_CHARS)?,
            tcmdrug_used_way: line.text("tcmdrug_used_way", CODE_CHARS)?,
            etip_flag: line.flag("etip_flag")?,
            etip_hosp_code: line.text("etip_hosp_code", ID_CHARS)?,
            dscg_tkdrug_flag: line.flag("dscg_tkdrug_flag")?,
            matn_fee_flag: line.text("matn_fee_flag", CODE_CHARS)?,
            memo: line.text("memo", MEMO_CHARS)?,
            exp_content: line.json_text("exp_content", EXP_CONTENT_CHARS)?,
        };
        if item.pric.millionths() < 0 {
            return Err(FsiError::new(line.field_path("pric"), "单价不能为负"));
        }
        if let Some(days) = item.prd_days {
            if days.ten_thousandths() < 0 {
                return Err(FsiError::new(line.field_path("prd_days"), "周期天数不能为负"));
            }
        }
        Ok(item)
    }

    fn fee_line(&self, feedetl_sn: &str, disease: Option<&str>) -> FeeLine {
        FeeLine {
            sn: feedetl_sn.to_owned(),
            code: self.med_list_codg.clone(),
            quantity: self.cnt,
            price: self.pric,
            amount: Some(self.det_item_fee_sumamt),
            date: Some(self.fee_ocur_time.date()),
            disease: disease.map(str::to_owned),
            refusal: None,
        }
    }
}

/// One 2204 line (`input.feedetail[i]`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OutpatientFeeDetail {
    /// 费用明细流水号 (30), unique within the upload.
    pub feedetl_sn: String,
    pub mdtrt_id: String,
    pub psn_no: String,
    /// 收费批次号 (30).
    pub chrg_bchno: String,
    /// 病种编码 (30): for chronic-disease visits, the filed disease this line treats.
    pub dise_codg: Option<String>,
    /// 处方号 (30).
    pub rxno: Option<String>,
    /// 外购处方标志: required by the spec, read as "not external" when absent.
    pub rx_circ_flag: bool,
    /// The item columns.
    pub item: FeeItem,
}

impl OutpatientFeeDetail {
    /// The line as the settlement engine takes it.
    pub fn to_fee_line(&self) -> FeeLine {
        self.item.fee_line(&self.feedetl_sn, self.dise_codg.as_deref())
    }
}

/// 2204 门诊费用明细上传: `input.feedetail[]`, 1 to [`FEEDETAIL_MAX`] lines.
///
/// Beyond each line's fields: `cnt` must be positive (outpatient refunds go through 2205 and a
/// new upload), `det_item_fee_sumamt` must not be negative, `feedetl_sn` must be unique within
/// the upload, and every line must name the same `mdtrt_id` and `psn_no`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Input2204 {
    pub feedetail: Vec<OutpatientFeeDetail>,
}

impl Input2204 {
    pub fn parse(input: &Value) -> Result<Input2204, FsiError> {
        let lines = root(input)?.list("feedetail", FEEDETAIL_MAX, "费用明细")?;
        let mut feedetail = Vec::with_capacity(lines.len());
        for line in &lines {
            let detail = OutpatientFeeDetail {
                feedetl_sn: line.req_text("feedetl_sn", ID_CHARS)?,
                mdtrt_id: line.req_text("mdtrt_id", ID_CHARS)?,
                psn_no: line.req_text("psn_no", ID_CHARS)?,
                chrg_bchno: line.req_text("chrg_bchno", ID_CHARS)?,
                dise_codg: line.text("dise_codg", ID_CHARS)?,
                rxno: line.text("rxno", ID_CHARS)?,
                rx_circ_flag: line.flag("rx_circ_flag")?.unwrap_or(false),
                item: FeeItem::parse(line)?,
            };
            if detail.item.cnt.ten_thousandths() <= 0 {
                return Err(FsiError::new(
                    line.field_path("cnt"),
                    "数量必须大于0(门诊退费请先撤销明细)",
                ));
            }
            if detail.item.det_item_fee_sumamt.is_negative() {
                return Err(FsiError::new(
                    line.field_path("det_item_fee_sumamt"),
                    "明细项目费用总额不能为负",
                ));
            }
            feedetail.push(detail);
        }
        let keys: Vec<_> = feedetail
            .iter()
            .map(|d| (d.feedetl_sn.as_str(), d.mdtrt_id.as_str(), d.psn_no.as_str()))
            .collect();
        check_lines(&lines, &keys)?;
        Ok(Input2204 { feedetail })
    }
}

/// One 2301 line (`input.feedetail[i]`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InpatientFeeDetail {
    /// 费用明细流水号 (30), unique within the upload.
    pub feedetl_sn: String,
    /// 原费用流水号 (30): the line a refund (negative `cnt`) takes back; required for refunds.
    pub init_feedetl_sn: Option<String>,
    pub mdtrt_id: String,
    /// 医嘱号 (30).
    pub drord_no: Option<String>,
    pub psn_no: String,
    pub med_type: MedicalType,
    /// The item columns.
    pub item: FeeItem,
}

impl InpatientFeeDetail {
    /// A refund line (退单): negative `cnt`, pointing at `init_feedetl_sn`.
    pub fn is_refund(&self) -> bool {
        self.item.cnt.ten_thousandths() < 0
    }

    /// The line as the settlement engine takes it. A refund keeps its negative quantity and
    /// amount: the service nets it against `init_feedetl_sn` before settling.
    pub fn to_fee_line(&self) -> FeeLine {
        self.item.fee_line(&self.feedetl_sn, None)
    }
}

/// 2301 住院费用明细上传: `input.feedetail[]`, 1 to [`FEEDETAIL_MAX`] lines.
///
/// `cnt` may be negative for a refund (退单), which then needs `init_feedetl_sn`; it may not be
/// zero. `det_item_fee_sumamt` has the sign of `cnt` (or is zero). `feedetl_sn` is unique
/// within the upload, and every line names the same `mdtrt_id` and `psn_no`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Input2301 {
    pub feedetail: Vec<InpatientFeeDetail>,
}

impl Input2301 {
    pub fn parse(input: &Value) -> Result<Input2301, FsiError> {
        let lines = root(input)?.list("feedetail", FEEDETAIL_MAX, "费用明细")?;
        let mut feedetail = Vec::with_capacity(lines.len());
        for line in &lines {
            let detail = InpatientFeeDetail {
                feedetl_sn: line.req_text("feedetl_sn", ID_CHARS)?,
                init_feedetl_sn: line.text("init_feedetl_sn", ID_CHARS)?,
                mdtrt_id: line.req_text("mdtrt_id", ID_CHARS)?,
                drord_no: line.text("drord_no", ID_CHARS)?,
                psn_no: line.req_text("psn_no", ID_CHARS)?,
                med_type: line.req_code("med_type", MedicalType::parse)?,
                item: FeeItem::parse(line)?,
            };
            let cnt = detail.item.cnt.ten_thousandths();
            let amount = detail.item.det_item_fee_sumamt.fen();
            if cnt == 0 {
                return Err(FsiError::new(line.field_path("cnt"), "数量不能为0"));
            }
            if cnt < 0 && detail.init_feedetl_sn.is_none() {
                return Err(FsiError::new(
                    line.field_path("init_feedetl_sn"),
                    "必填字段缺失:退费明细(数量为负)须填写原费用流水号",
                ));
            }
            if (cnt > 0 && amount < 0) || (cnt < 0 && amount > 0) {
                return Err(FsiError::new(
                    line.field_path("det_item_fee_sumamt"),
                    "明细项目费用总额的正负应与数量一致",
                ));
            }
            feedetail.push(detail);
        }
        let keys: Vec<_> = feedetail
            .iter()
            .map(|d| (d.feedetl_sn.as_str(), d.mdtrt_id.as_str(), d.psn_no.as_str()))
            .collect();
        check_lines(&lines, &keys)?;
        Ok(Input2301 { feedetail })
    }
}

/// Unique `feedetl_sn`; one `mdtrt_id` and one `psn_no` for the whole upload. `keys` are each
/// line's (feedetl_sn, mdtrt_id, psn_no), in the order of `lines`.
fn check_lines(lines: &[Fields], keys: &[(&str, &str, &str)]) -> Result<(), FsiError> {
    let path = |name: &'static str| {
        move |i: usize| {
            lines
                .get(i)
                .map_or_else(|| name.to_owned(), |line| line.field_path(name))
        }
    };
    check_unique(keys.iter().map(|k| k.0), path("feedetl_sn"), "费用明细流水号")?;
    check_same(keys.iter().map(|k| k.1), path("mdtrt_id"), "就诊ID")?;
    check_same(keys.iter().map(|k| k.2), path("psn_no"), "人员编号")
}
