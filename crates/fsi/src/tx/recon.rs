//! 3201 对总账 and 3202 对明细账.

use chrono::NaiveDate;
use serde_json::Value;
use yibao_codes::InsuranceType;
use yibao_money::Money;

use super::{check_order, root};
use crate::error::FsiError;
use crate::limits::{ADMDVS_CHARS, CODE_CHARS, ID_CHARS};

/// The largest settlement count a reconciliation may state (`num 10`).
pub const SETL_CNT_MAX: i64 = 9_999_999_999;

/// 3201 医药机构费用结算对总账, node `input.data`. Answered with `output.stmtinfo`.
///
/// Totals may be negative: in a period with more refunds than settlements they are.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Input3201 {
    pub insutype: InsuranceType,
    /// 清算类别 (6): 11 门诊, 21 住院, 41 药店购药, 99 其他, and provincial splits.
    pub clr_type: String,
    /// 结算经办机构 (6).
    pub setl_optins: String,
    pub stmt_begndate: NaiveDate,
    /// Not before `stmt_begndate`.
    pub stmt_enddate: NaiveDate,
    pub medfee_sumamt: Money,
    pub fund_pay_sumamt: Money,
    pub acct_pay: Money,
    /// 定点医药机构结算笔数.
    pub fixmedins_setl_cnt: i64,
    /// 退费结算标志: some clients reconcile refunds separately.
    pub refd_setl_flag: Option<bool>,
}

impl Input3201 {
    pub fn parse(input: &Value) -> Result<Input3201, FsiError> {
        let data = root(input)?.child("data")?;
        let parsed = Input3201 {
            insutype: data.req_code("insutype", InsuranceType::parse)?,
            clr_type: data.req_text("clr_type", CODE_CHARS)?,
            setl_optins: data.req_text("setl_optins", ADMDVS_CHARS)?,
            stmt_begndate: data.req_date("stmt_begndate")?,
            stmt_enddate: data.req_date("stmt_enddate")?,
            medfee_sumamt: data.req_money("medfee_sumamt", "医疗费总额")?,
            fund_pay_sumamt: data.req_money("fund_pay_sumamt", "基金支付总额")?,
            acct_pay: data.req_money("acct_pay", "个人账户支出")?,
            fixmedins_setl_cnt: data.req_integer("fixmedins_setl_cnt", "结算笔数", 0, SETL_CNT_MAX)?,
            refd_setl_flag: data.flag("refd_setl_flag")?,
        };
        check_order(
            &data,
            "stmt_enddate",
            Some(parsed.stmt_begndate),
            Some(parsed.stmt_enddate),
            "对账结束日期早于开始日期",
        )?;
        Ok(parsed)
    }
}

/// 3202 医药机构费用结算对明细账, node `input.data`: the detail file was uploaded by 9101 as
/// `file_qury_no`. Answered with `output.fileinfo`.
///
/// The reference marks only `file_qury_no` required; the totals and the period are required
/// too, since the file cannot be reconciled without them. `clr_type` (NT-CS) is optional.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Input3202 {
    pub setl_optins: String,
    /// 文件查询号 (30).
    pub file_qury_no: String,
    pub stmt_begndate: NaiveDate,
    pub stmt_enddate: NaiveDate,
    pub medfee_sumamt: Money,
    pub fund_pay_sumamt: Money,
    /// 现金支付金额.
    pub cash_payamt: Money,
    pub fixmedins_setl_cnt: i64,
    pub clr_type: Option<String>,
    pub refd_setl_flag: Option<bool>,
}

impl Input3202 {
    pub fn parse(input: &Value) -> Result<Input3202, FsiError> {
        let data = root(input)?.child("data")?;
        let parsed = Input3202 {
            setl_optins: data.req_text("setl_optins", ADMDVS_CHARS)?,
            file_qury_no: data.req_text("file_qury_no", ID_CHARS)?,
            stmt_begndate: data.req_date("stmt_begndate")?,
            stmt_enddate: data.req_date("stmt_enddate")?,
            medfee_sumamt: data.req_money("medfee_sumamt", "医疗费总额")?,
            fund_pay_sumamt: data.req_money("fund_pay_sumamt", "基金支付总额")?,
            cash_payamt: data.req_money("cash_payamt", "现金支付金额")?,
            fixmedins_setl_cnt: data.req_integer("fixmedins_setl_cnt", "结算笔数", 0, SETL_CNT_MAX)?,
            clr_type: data.text("clr_type", CODE_CHARS)?,
            refd_setl_flag: data.flag("refd_setl_flag")?,
        };
        check_order(
            &data,
            "stmt_enddate",
            Some(parsed.stmt_begndate),
            Some(parsed.stmt_enddate),
            "对账结束日期早于开始日期",
        )?;
        Ok(parsed)
    }
}
