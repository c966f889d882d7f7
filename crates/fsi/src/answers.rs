//! The `output` nodes of the transactions that are not settlements (those are in [`crate::output`]):
//! every national field name of an answer is written here, so that the service speaks in its
//! own terms (a visit, a fee line, a person) and this crate alone in the interface's.
//!
//! Each function takes the values an answer carries, already decided by the service, and lays
//! them out as the spec names them.

use chrono::{NaiveDate, NaiveDateTime};
use serde_json::{json, Value};
use yibao_catalog::{CatalogItem, Restriction};
use yibao_codes::{InsuranceType, MedicalType, PersonType, Sex, SpecialGroup};
use yibao_money::{Money, Price, Quantity};

use crate::output::{amount_number, date_text, datetime_text, price_number, quantity_number, ratio_number};

fn flag(yes: bool) -> &'static str {
    if yes {
        "1"
    } else {
        "0"
    }
}

/// 9001 签到.
pub fn sign_in(sign_time: NaiveDateTime, sign_no: &str) -> Value {
    json!({ "signinoutb": { "sign_time": datetime_text(sign_time), "sign_no": sign_no } })
}

/// 9002 签退.
pub fn sign_out(sign_time: NaiveDateTime) -> Value {
    json!({ "signoutoutb": { "sign_time": datetime_text(sign_time) } })
}

/// 1901 字典表查询: one row per `(value, label)` of the code table `kind`.
pub fn dictionary<'a>(kind: &str, entries: impl Iterator<Item = (&'a str, &'a str)>) -> Value {
    let rows: Vec<Value> = entries
        .enumerate()
        .map(|(i, (value, label))| json!({ "type": kind, "label": label, "value": value, "parentValue": "0", "sort": i + 1, "valiFlag": "1" }))
        .collect();
    json!({ "list": rows })
}

/// 2201 门诊挂号.
pub fn registration(visit_id: &str, person_no: &str, his_visit_no: &str) -> Value {
    json!({ "data": { "mdtrt_id": visit_id, "psn_no": person_no, "ipt_otp_no": his_visit_no } })
}

/// 2401 入院办理.
pub fn admission(visit_id: &str, person_no: &str, his_visit_no: &str) -> Value {
    json!({ "result": { "mdtrt_id": visit_id, "psn_no": person_no, "ipt_no": his_visit_no } })
}

/// 5202 诊断信息查询: the visit's principal diagnosis, if it has one.
pub fn diagnoses(visit_id: &str, principal: Option<&str>) -> Value {
    let rows: Vec<Value> = principal
        .iter()
        .map(|code| json!({ "mdtrt_id": visit_id, "diag_code": code, "maindiag_flag": "1", "diag_srt_no": 1 }))
        .collect();
    json!({ "diseinfo": rows })
}

/// 5203 结算信息查询: the settlement's stored answer with what has changed since or what the
/// query adds: whether it was refunded (reversed), its insurance year and institution.
pub fn settlement_query(mut stored_answer: Value, refunded: bool, year: i32, institution: &str) -> Value {
    stored_answer["setlinfo"]["refd_setl_flag"] = Value::String(flag(refunded).into());
    stored_answer["setlinfo"]["year"] = Value::String(year.to_string());
    stored_answer["setlinfo"]["fixmedins_code"] = Value::String(institution.to_owned());
    stored_answer
}

/// 2204 / 2301: one row per uploaded line ([`crate::fee_result_row`]).
pub fn fee_results(rows: Vec<Value>) -> Value {
    json!({ "result": rows })
}

/// A person as 1101 answers: `baseinfo`, one `insuinfo`, one `idetinfo` per special group.
pub struct PersonInfo<'a> {
    pub person_no: &'a str,
    pub certno: &'a str,
    pub name: &'a str,
    pub sex: Sex,
    pub ethnicity: &'a str,
    pub birth_date: NaiveDate,
    pub age_years: u16,
    pub account_balance: Money,
    pub insurance: InsuranceType,
    pub person_type: PersonType,
    /// 参保状态 as stored (`1` 正常参保).
    pub status: &'a str,
    pub enrolled_on: NaiveDate,
    pub civil_servant: bool,
    pub insured_admdvs: &'a str,
    pub employer_name: &'a str,
    pub groups: &'a [SpecialGroup],
}

/// 1101 人员信息获取. Only the spec's output fields: the certificate is always a citizen ID
/// (`psn_cert_type` 01).
pub fn person_info(p: &PersonInfo) -> Value {
    let since = datetime_text(p.enrolled_on.and_time(chrono::NaiveTime::MIN));
    let idetinfo: Vec<Value> = p
        .groups
        .iter()
        .map(|g| json!({ "psn_idet_type": g.code(), "psn_type_lv": "", "memo": g.name_zh(), "begntime": since, "endtime": "" }))
        .collect();
    json!({
        "baseinfo": {
            "psn_no": p.person_no,
            "psn_cert_type": "01",
            "certno": p.certno,
            "psn_name": p.name,
            "gend": p.sex.code(),
            "naty": p.ethnicity,
            "brdy": date_text(p.birth_date),
            "age": p.age_years,
        },
        "insuinfo": [{
            "balc": amount_number(p.account_balance),
            "insutype": p.insurance.code(),
            "psn_type": p.person_type.to_string(),
            "psn_insu_stas": p.status,
            "psn_insu_date": date_text(p.enrolled_on),
            "paus_insu_date": Value::Null,
            "cvlserv_flag": flag(p.civil_servant),
            "insuplc_admdvs": p.insured_admdvs,
            "emp_name": p.employer_name,
        }],
        "idetinfo": idetinfo,
    })
}

/// 2001 人员待遇享受检查.
pub fn benefit_check(person_no: &str, insurance: InsuranceType, entitled: bool, reason: &str) -> Value {
    json!({ "trtinfo": [{ "psn_no": person_no, "insutype": insurance.code(), "trt_enjymnt_flag": flag(entitled), "trt_chk_rslt": reason }] })
}

/// 1312 医保目录信息查询: `rows` in order, `count` matching in all.
pub fn catalog_rows(rows: &[&CatalogItem], count: usize) -> Value {
    let rows: Vec<Value> = rows
        .iter()
        .map(|item| {
            json!({
                "hilist_code": item.code.as_str(),
                "hilist_name": item.name,
                "chrgitm_lv": item.class.code(),
                "selfpay_prop": ratio_number(item.first_self_pay),
                "pric_uplmt_amt": item.price_cap.map_or(Value::Null, price_number),
                "lmt_used_flag": flag(item.restriction != Restriction::default()),
            })
        })
        .collect();
    json!({ "data": rows, "recordCounts": count })
}

/// A settlement list grouped (4101).
pub struct GroupedList<'a> {
    pub settlement_id: &'a str,
    pub drg_version: &'a str,
    pub mdc: Option<&'a str>,
    pub adrg: Option<&'a str>,
    pub drg: &'a str,
    pub reason: &'a str,
    pub steps: &'a [String],
}

/// 4101's result node (also stored with the list, as its grouping).
pub fn grouped_list(g: &GroupedList) -> Value {
    json!({
        "setl_list_id": g.settlement_id,
        "drg_version": g.drg_version,
        "mdc": g.mdc,
        "adrg": g.adrg,
        "drg": g.drg,
        "reason": g.reason,
        "steps": g.steps,
    })
}

/// 4101 医疗保障基金结算清单信息上传.
pub fn settlement_list(result: Value) -> Value {
    json!({ "data": result })
}

/// 2503 人员慢特病备案.
pub fn chronic_filing(filing_id: &str) -> Value {
    json!({ "result": { "trt_dcla_detl_sn": filing_id } })
}

/// 3201 医药机构费用结算对总账.
pub fn reconcile_totals(clearing_institution: &str, balanced: bool, description: &str) -> Value {
    json!({ "stmtinfo": { "setl_optins": clearing_institution, "stmt_rslt": flag(!balanced), "stmt_rslt_dscr": description } })
}

/// 3202 医药机构费用结算对明细账: the totals' result and the 表201 file made.
pub fn reconcile_detail(clearing_institution: &str, balanced: bool, description: &str, file: &KeptFile) -> Value {
    json!({
        "stmtinfo": {
            "setl_optins": clearing_institution,
            "stmt_rslt": flag(!balanced),
            "stmt_rslt_dscr": description,
        },
        "fileinfo": { "file_qury_no": file.file_no, "filename": file.filename, "dld_endtime": file.until },
    })
}

/// A file kept for download (9101, 3202, catalog downloads).
pub struct KeptFile<'a> {
    pub file_no: &'a str,
    pub filename: &'a str,
    /// 下载截止时间, as text.
    pub until: &'a str,
}

/// 9101 文件上传.
pub fn file_uploaded(file: &KeptFile, institution: &str) -> Value {
    json!({
        "file_qury_no": file.file_no,
        "filename": file.filename,
        "fixmedins_code": institution,
        "dld_endtime": file.until,
    })
}

/// 1301–1321 catalog downloads: the file made and how many rows it holds.
pub fn catalog_file(file: &KeptFile, rows: usize) -> Value {
    json!({
        "file_qury_no": file.file_no,
        "filename": file.filename,
        "dld_endtime": file.until,
        "recordCounts": rows,
    })
}

/// A visit as 5201 lists it.
pub struct VisitRow<'a> {
    pub visit_id: &'a str,
    pub person_no: &'a str,
    pub insurance: InsuranceType,
    pub medical_type: MedicalType,
    pub begin_time: NaiveDateTime,
    pub end_time: Option<NaiveDateTime>,
    pub his_visit_no: &'a str,
    pub disease_code: Option<&'a str>,
    /// Not cancelled.
    pub valid: bool,
    /// 就诊状态 code.
    pub status_code: &'a str,
}

/// 5201 就诊信息查询.
pub fn visits(rows: &[VisitRow]) -> Value {
    let rows: Vec<Value> = rows
        .iter()
        .map(|v| {
            json!({
                "mdtrt_id": v.visit_id,
                "psn_no": v.person_no,
                "insutype": v.insurance.code(),
                "med_type": v.medical_type.code(),
                "begntime": datetime_text(v.begin_time),
                "endtime": v.end_time.map(datetime_text),
                "ipt_otp_no": v.his_visit_no,
                "dise_codg": v.disease_code,
                "vali_flag": flag(v.valid),
                "mdtrt_stas": v.status_code,
            })
        })
        .collect();
    json!({ "mdtrtinfo": rows })
}

/// A fee line as 5204 and 5205 list it.
pub struct FeeRow<'a> {
    pub sn: &'a str,
    pub visit_id: &'a str,
    pub settlement_id: Option<&'a str>,
    pub code: &'a str,
    pub local_code: &'a str,
    pub quantity: Quantity,
    pub price: Price,
    pub amount: Money,
    pub occurred_at: NaiveDateTime,
    pub refund_of: Option<&'a str>,
    pub disease_code: Option<&'a str>,
}

/// 5204 费用明细查询.
pub fn fee_lines(rows: &[FeeRow]) -> Value {
    let rows: Vec<Value> = rows
        .iter()
        .map(|l| {
            json!({
                "feedetl_sn": l.sn,
                "mdtrt_id": l.visit_id,
                "setl_id": l.settlement_id,
                "med_list_codg": l.code,
                "medins_list_codg": l.local_code,
                "cnt": quantity_number(l.quantity),
                "pric": price_number(l.price),
                "det_item_fee_sumamt": amount_number(l.amount),
                "fee_ocur_time": datetime_text(l.occurred_at),
                "init_feedetl_sn": l.refund_of,
            })
        })
        .collect();
    json!({ "feedetail": rows })
}

/// 5205 人员慢特病用药记录查询.
pub fn chronic_fee_lines(rows: &[FeeRow]) -> Value {
    let rows: Vec<Value> = rows
        .iter()
        .map(|l| {
            json!({
                "mdtrt_id": l.visit_id,
                "setl_id": l.settlement_id,
                "feedetl_sn": l.sn,
                "dise_codg": l.disease_code,
                "med_list_codg": l.code,
                "cnt": quantity_number(l.quantity),
                "pric": price_number(l.price),
                "det_item_fee_sumamt": amount_number(l.amount),
                "fee_ocur_time": datetime_text(l.occurred_at),
            })
        })
        .collect();
    json!({ "feedetail": rows })
}

/// One year-to-date figure as 5206 lists it: accumulator `key`, `kind` (deductible, fund, base).
pub struct CumulativeRow<'a> {
    pub insurance: InsuranceType,
    pub year: i32,
    pub month: u32,
    pub key: &'a str,
    pub kind: &'a str,
    pub amount: Money,
}

/// 5206 人员累计信息查询.
pub fn cumulative(rows: &[CumulativeRow]) -> Value {
    let rows: Vec<Value> = rows
        .iter()
        .map(|r| {
            json!({
                "insutype": r.insurance.code(),
                "year": r.year.to_string(),
                "cum_ym": format!("{}{:02}", r.year, r.month),
                "cum_type_code": format!("{}.{}", r.key, r.kind),
                "cum": amount_number(r.amount),
            })
        })
        .collect();
    json!({ "cuminfo": rows })
}

/// One line of a 3101/3102 finding (`judge_result_detail_dtos[]`).
pub struct AuditDetail<'a> {
    pub jrd_id: String,
    pub patn_id: &'a str,
    pub mdtrt_id: &'a str,
    pub rx_id: &'a str,
    /// 违规项 (`vola_item_type` 1) or 涉及项 (2).
    pub violating: bool,
    pub amount: Money,
}

/// One finding of 3101/3102 (`result[]`).
pub struct AuditFinding<'a> {
    pub jr_id: String,
    pub rule_id: &'a str,
    pub rule_name: &'a str,
    pub text: &'a str,
    pub patn_id: &'a str,
    pub mdtrt_id: &'a str,
    pub details: Vec<AuditDetail<'a>>,
    pub amount: Money,
    /// 明确违规 / 可疑.
    pub severity: &'a str,
    pub basis: &'a str,
    /// What the region does with it (拒付 / 提醒), for the HIS's display.
    pub action: &'a str,
    pub task_id: Option<&'a str>,
}

/// 3101/3102 `output.result[]`. The dictionaries behind `sev_deg`, `vola_bhvr_type` and
/// `vola_amt_stas` are not published; the labels are sent as text, as vendors' answers do.
pub fn audit_findings(findings: &[AuditFinding]) -> Value {
    let rows: Vec<Value> = findings
        .iter()
        .map(|f| {
            let details: Vec<Value> = f
                .details
                .iter()
                .map(|d| {
                    json!({
                        "jrd_id": d.jrd_id, "patn_id": d.patn_id, "mdtrt_id": d.mdtrt_id, "rx_id": d.rx_id,
                        "vola_item_type": if d.violating { "1" } else { "2" }, "vola_amt": amount_number(d.amount),
                    })
                })
                .collect();
            json!({
                "jr_id": f.jr_id, "rule_id": f.rule_id, "rule_name": f.rule_name, "vola_cont": f.text,
                "patn_id": f.patn_id, "mdtrt_id": f.mdtrt_id, "judge_result_detail_dtos": details,
                "vola_amt": amount_number(f.amount), "vola_amt_stas": "1", "sev_deg": f.severity,
                "vola_evid": f.basis, "vola_bhvr_type": f.action, "task_id": f.task_id.unwrap_or(""),
            })
        })
        .collect();
    json!({ "result": rows })
}
