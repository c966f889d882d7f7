//! What both backends share: checks a batch passes before it touches a database, the normal form
//! of times, the read queries, and the decoding of rows into records.

use std::collections::HashMap;

use chrono::{Datelike, NaiveDate, NaiveDateTime, NaiveTime, Timelike};
use yibao_codes::{InsuranceType, MedicalType, PersonType, Sex, SpecialGroup, Tier};
use yibao_money::{Money, Price, Quantity};
use yibao_settle::Accumulator;

use crate::{
    AccountEntryRecord, CaseRecord, ChronicFilingRecord, ContributionRecord, ContributionRunRecord, EmployerRecord,
    EnrolmentRecord, ExchangeFileRecord, FeeLineRecord, FindingRecord, InstitutionRecord, LedgerEntry, LedgerTotal,
    MessageRecord, PersonRecord, ReferenceTableRecord, Result, RunCandidate, SettlementFilter, SettlementListRecord,
    SettlementRecord, SettlementStatus, StoreError, VisitRecord, VisitStatus, WriteBatch, WriteOp,
    EXCHANGE_FILE_BYTES_MAX,
};

/// Dates as SQLite stores them.
pub(crate) const DATE_FORMAT: &str = "%Y-%m-%d";
/// Times as SQLite stores them: fixed width, so text order is time order.
pub(crate) const TIME_FORMAT: &str = "%Y-%m-%d %H:%M:%S%.6f";

/// The time as stored: to the microsecond (a leap second folds into the microsecond before it).
pub(crate) fn norm_time(t: NaiveDateTime) -> NaiveDateTime {
    let nanos = t.nanosecond();
    let kept = if nanos >= 1_000_000_000 {
        999_999_000
    } else {
        nanos / 1_000 * 1_000
    };
    // A nanosecond below 10^9 is always valid: the fallback is never taken.
    t.with_nanosecond(kept).unwrap_or(t)
}

pub(crate) fn date_text(d: NaiveDate) -> String {
    d.format(DATE_FORMAT).to_string()
}

pub(crate) fn time_text(t: NaiveDateTime) -> String {
    // Written digit by digit rather than by `format(TIME_FORMAT)`: chrono parses the format
    // string on every call, and every stored row has a time or two (measured: about 4% of the
    // commit thread). `time_text_matches_chrono` holds the two to the same text.
    let t = norm_time(t);
    let year = t.year();
    if !(0..=9999).contains(&year) {
        // Outside four digits chrono's form (a sign, a wider year) is the reference.
        return t.format(TIME_FORMAT).to_string();
    }
    let mut out = String::with_capacity(26);
    let mut push = |value: u32, width: u32, after: Option<char>| {
        for p in (0..width).rev() {
            out.push(char::from(b'0' + (value / 10u32.pow(p) % 10) as u8));
        }
        if let Some(c) = after {
            out.push(c);
        }
    };
    push(year as u32, 4, Some('-'));
    push(t.month(), 2, Some('-'));
    push(t.day(), 2, Some(' '));
    push(t.hour(), 2, Some(':'));
    push(t.minute(), 2, Some(':'));
    push(t.second(), 2, Some('.'));
    push(t.nanosecond() / 1_000, 6, None);
    out
}

/// The first storable day, 0001-01-01 (what the four-digit year forms hold).
const FIRST_DAY: NaiveDate = match NaiveDate::from_ymd_opt(1, 1, 1) {
    Some(d) => d,
    None => NaiveDate::MIN,
};

/// The last storable day, 9999-12-31.
const LAST_DAY: NaiveDate = match NaiveDate::from_ymd_opt(9999, 12, 31) {
    Some(d) => d,
    None => NaiveDate::MAX,
};

fn first_day() -> NaiveDate {
    FIRST_DAY
}

fn last_day() -> NaiveDate {
    LAST_DAY
}

/// The first and last storable instants of the inclusive dates, or `None` when no stored time can
/// fall within them.
pub(crate) fn day_range(from: NaiveDate, to: NaiveDate) -> Option<(NaiveDateTime, NaiveDateTime)> {
    let from = from.max(first_day());
    let to = to.min(last_day());
    if from > to {
        return None;
    }
    let last = to.and_hms_micro_opt(23, 59, 59, 999_999)?;
    Some((from.and_time(NaiveTime::MIN), last))
}

/// A `limit`/`offset` as the queries take them: never negative.
pub(crate) fn non_negative(n: i64) -> i64 {
    n.max(0)
}

/// The URL with any password replaced, for messages.
pub(crate) fn redact_url(url: &str) -> String {
    let Some(scheme_end) = url.find("://") else {
        return url.to_owned();
    };
    let rest = &url[scheme_end + 3..];
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let authority = &rest[..authority_end];
    let Some(at) = authority.rfind('@') else {
        return url.to_owned();
    };
    let userinfo = &authority[..at];
    let user = userinfo.split(':').next().unwrap_or("");
    let masked = if userinfo.contains(':') {
        format!("{user}:***")
    } else {
        user.to_owned()
    };
    format!("{}{}{}", &url[..scheme_end + 3], masked, &rest[at..])
}

// ---------------------------------------------------------------------------------------------
// Rules a batch must keep, checked alike for both backends before anything is written.

fn rejected(message: String) -> StoreError {
    StoreError::Rejected(message)
}

/// What each row-checked write says when rows it needs are missing; the missing keys follow
/// after ": ". Both backends produce the same text.
pub(crate) const MISSING_PERSON: &str = "SetAccountBalance: 人员不存在";
pub(crate) const MISSING_VISIT: &str = "UpdateVisit: 就诊不存在";
pub(crate) const MISSING_SETTLEMENT: &str = "CancelSettlement: 结算不存在或已撤销";

pub(crate) const MARK_MISSING_BEFORE: &str = "MarkFeeLinesSettled: 就诊 ";
pub(crate) const MARK_MISSING_AFTER: &str = " 的费用明细不存在或已由其他结算占用";

pub(crate) fn missing_fee_lines(visit_id: &str) -> String {
    format!("{MARK_MISSING_BEFORE}{visit_id}{MARK_MISSING_AFTER}")
}

pub(crate) fn missing_rows(what: &str, keys: &[&str]) -> StoreError {
    rejected(format!("{what}: {}", keys.join(", ")))
}

#[derive(Default)]
struct BatchCheck<'a> {
    /// Per posting and per book: (debits, credits) in this batch.
    postings: HashMap<&'a str, (i128, i128)>,
    books: HashMap<&'a str, (i128, i128)>,
}

fn text(value: &str, field: &'static str) -> Result<()> {
    if value.contains('\0') {
        return Err(rejected(format!("{field} 含有 NUL 字符")));
    }
    Ok(())
}

fn opt_text(value: &Option<String>, field: &'static str) -> Result<()> {
    value.as_deref().map_or(Ok(()), |v| text(v, field))
}

fn date(value: NaiveDate, field: &'static str) -> Result<()> {
    if !(1..=9999).contains(&value.year()) {
        return Err(rejected(format!("{field} 日期 {value} 超出 0001–9999 年")));
    }
    Ok(())
}

fn opt_date(value: Option<NaiveDate>, field: &'static str) -> Result<()> {
    value.map_or(Ok(()), |v| date(v, field))
}

fn time(value: NaiveDateTime, field: &'static str) -> Result<()> {
    date(value.date(), field)
}

fn opt_time(value: Option<NaiveDateTime>, field: &'static str) -> Result<()> {
    value.map_or(Ok(()), |v| time(v, field))
}

/// Checks the batch: no NUL in any text, dates within the years 1–9999, and every posting, and
/// every book, of the batch's ledger entries balanced (debits = credits).
pub(crate) fn validate(batch: &WriteBatch) -> Result<()> {
    let mut check = BatchCheck::default();
    for op in &batch.ops {
        check.op(op)?;
    }
    check.balanced()
}

impl<'a> BatchCheck<'a> {
    fn op(&mut self, op: &'a WriteOp) -> Result<()> {
        match op {
            WriteOp::UpsertInstitution(r) => {
                text(&r.code, "institutions.code")?;
                text(&r.name, "institutions.name")?;
                text(&r.hosp_lv, "institutions.hosp_lv")?;
                text(&r.admdvs, "institutions.admdvs")?;
                text(&r.paas_id, "institutions.paas_id")?;
                text(&r.secret, "institutions.secret")
            }
            WriteOp::UpsertPerson(r) => {
                text(&r.person_no, "persons.person_no")?;
                text(&r.certno, "persons.certno")?;
                text(&r.name, "persons.name")?;
                date(r.birth_date, "persons.birth_date")?;
                text(&r.ethnicity, "persons.ethnicity")?;
                text(&r.insured_admdvs, "persons.insured_admdvs")?;
                text(&r.employer_name, "persons.employer_name")?;
                text(&r.status, "persons.status")?;
                date(r.enrolled_on, "persons.enrolled_on")?;
                opt_date(r.benefits_from, "persons.benefits_from")
            }
            WriteOp::SetAccountBalance { person_no, .. } => text(person_no, "persons.person_no"),
            WriteOp::InsertVisit(r) | WriteOp::UpdateVisit(r) => {
                text(&r.visit_id, "visits.visit_id")?;
                text(&r.person_no, "visits.person_no")?;
                text(&r.institution, "visits.institution")?;
                time(r.begin_time, "visits.begin_time")?;
                opt_time(r.end_time, "visits.end_time")?;
                opt_text(&r.doctor, "visits.doctor")?;
                text(&r.his_visit_no, "visits.his_visit_no")?;
                opt_text(&r.disease_code, "visits.disease_code")?;
                opt_text(&r.diagnosis_code, "visits.diagnosis_code")
            }
            WriteOp::InsertFeeLines(lines) => {
                for r in lines {
                    text(&r.visit_id, "fee_lines.visit_id")?;
                    text(&r.sn, "fee_lines.sn")?;
                    text(&r.batch_no, "fee_lines.batch_no")?;
                    text(&r.code, "fee_lines.code")?;
                    text(&r.local_code, "fee_lines.local_code")?;
                    time(r.occurred_at, "fee_lines.occurred_at")?;
                    opt_text(&r.disease_code, "fee_lines.disease_code")?;
                    opt_text(&r.refund_of, "fee_lines.refund_of")?;
                    opt_text(&r.settlement_id, "fee_lines.settlement_id")?;
                }
                Ok(())
            }
            WriteOp::DeleteFeeLines { visit_id, sn } => {
                text(visit_id, "fee_lines.visit_id")?;
                opt_text(sn, "fee_lines.sn")
            }
            WriteOp::MarkFeeLinesSettled {
                visit_id,
                settlement_id,
                sns,
            } => {
                text(visit_id, "fee_lines.visit_id")?;
                opt_text(settlement_id, "fee_lines.settlement_id")?;
                sns.iter().try_for_each(|sn| text(sn, "fee_lines.sn"))
            }
            WriteOp::InsertSettlement(r) => {
                text(&r.settlement_id, "settlements.settlement_id")?;
                text(&r.visit_id, "settlements.visit_id")?;
                text(&r.person_no, "settlements.person_no")?;
                text(&r.institution, "settlements.institution")?;
                text(&r.clearing_type, "settlements.clearing_type")?;
                time(r.settled_at, "settlements.settled_at")?;
                text(&r.msgid, "settlements.msgid")?;
                text(&r.policy_id, "settlements.policy_id")?;
                opt_time(r.cancelled_at, "settlements.cancelled_at")?;
                opt_text(&r.cancel_msgid, "settlements.cancel_msgid")?;
                text(&r.output_json, "settlements.output_json")?;
                text(&r.inputs_json, "settlements.inputs_json")?;
                text(&r.deltas_json, "settlements.deltas_json")
            }
            WriteOp::CancelSettlement {
                settlement_id,
                cancelled_at,
                cancel_msgid,
            } => {
                text(settlement_id, "settlements.settlement_id")?;
                time(*cancelled_at, "settlements.cancelled_at")?;
                text(cancel_msgid, "settlements.cancel_msgid")
            }
            WriteOp::SetAccumulator { person_no, key, .. } => {
                text(person_no, "accumulators.person_no")?;
                text(key, "accumulators.acc_key")
            }
            WriteOp::InsertLedger(entries) => {
                for e in entries {
                    self.ledger(e)?;
                }
                Ok(())
            }
            WriteOp::ClosePeriod { close, entries } => {
                text(&close.period, "period_closes.period")?;
                date(close.open_from, "period_closes.open_from")?;
                time(close.closed_at, "period_closes.closed_at")?;
                text(&close.summary_json, "period_closes.summary_json")?;
                for e in entries {
                    self.ledger(e)?;
                }
                Ok(())
            }
            WriteOp::InsertMessage(r) => {
                text(&r.msgid, "messages.msgid")?;
                text(&r.infno, "messages.infno")?;
                text(&r.institution, "messages.institution")?;
                time(r.received_at, "messages.received_at")?;
                text(&r.response_json, "messages.response_json")
            }
            WriteOp::InsertAudit(r) => {
                text(&r.msgid, "audit_log.msgid")?;
                text(&r.infno, "audit_log.infno")?;
                text(&r.institution, "audit_log.institution")?;
                time(r.at, "audit_log.logged_at")?;
                text(&r.message, "audit_log.message")
            }
            WriteOp::UpsertChronicFiling(r) => {
                text(&r.filing_id, "chronic_filings.filing_id")?;
                text(&r.person_no, "chronic_filings.person_no")?;
                text(&r.disease_code, "chronic_filings.disease_code")?;
                text(&r.disease_name, "chronic_filings.disease_name")?;
                text(&r.institution, "chronic_filings.institution")?;
                date(r.begin_date, "chronic_filings.begin_date")?;
                opt_date(r.end_date, "chronic_filings.end_date")
            }
            WriteOp::UpsertSettlementList(r) => {
                text(&r.settlement_id, "settlement_lists.settlement_id")?;
                text(&r.visit_id, "settlement_lists.visit_id")?;
                text(&r.person_no, "settlement_lists.person_no")?;
                text(&r.institution, "settlement_lists.institution")?;
                date(r.discharge_date, "settlement_lists.discharge_date")?;
                text(&r.drg_version, "settlement_lists.drg_version")?;
                text(&r.drg, "settlement_lists.drg")?;
                text(&r.grouping_json, "settlement_lists.grouping_json")?;
                text(&r.list_json, "settlement_lists.list_json")?;
                time(r.uploaded_at, "settlement_lists.uploaded_at")?;
                text(&r.msgid, "settlement_lists.msgid")
            }
            WriteOp::UpsertEmployer(r) => {
                text(&r.credit_code, "employers.credit_code")?;
                text(&r.name, "employers.name")?;
                text(&r.admdvs, "employers.admdvs")?;
                date(r.registered_on, "employers.registered_on")
            }
            WriteOp::UpsertEnrolment(r) => {
                text(&r.certno, "enrolments.certno")?;
                text(&r.person_no, "enrolments.person_no")?;
                text(&r.status, "enrolments.status")?;
                text(&r.person_kind, "enrolments.person_kind")?;
                date(r.status_from, "enrolments.status_from")?;
                if let Some(e) = &r.employer {
                    text(e, "enrolments.employer")?;
                }
                text(&r.doc_json, "enrolments.doc_json")?;
                time(r.updated_at, "enrolments.updated_at")
            }
            WriteOp::InsertContributions(rows) => {
                for r in rows {
                    text(&r.contribution_id, "contributions.contribution_id")?;
                    text(&r.run_id, "contributions.run_id")?;
                    text(&r.person_no, "contributions.person_no")?;
                    if let Some(e) = &r.employer {
                        text(e, "contributions.employer")?;
                    }
                    text(&r.kind, "contributions.kind")?;
                    time(r.posted_at, "contributions.posted_at")?;
                }
                Ok(())
            }
            WriteOp::InsertContributionRun(r) => {
                text(&r.run_id, "contribution_runs.run_id")?;
                time(r.run_at, "contribution_runs.run_at")
            }
            WriteOp::InsertAccountEntries(rows) => {
                for r in rows {
                    text(&r.entry_id, "account_entries.entry_id")?;
                    text(&r.person_no, "account_entries.person_no")?;
                    time(r.posted_at, "account_entries.posted_at")?;
                    text(&r.kind, "account_entries.kind")?;
                    if r.balance_after.is_negative() {
                        return Err(StoreError::Rejected(format!(
                            "个人账户{}余额不能为负: {}",
                            r.person_no, r.balance_after
                        )));
                    }
                    text(&r.reference, "account_entries.reference")?;
                    if let Some(c) = &r.counterparty {
                        text(c, "account_entries.counterparty")?;
                    }
                }
                Ok(())
            }
            WriteOp::InsertFindings(rows) => {
                for r in rows {
                    text(&r.finding_id, "supervision_findings.finding_id")?;
                    text(&r.origin, "supervision_findings.origin")?;
                    text(&r.dedupe_key, "supervision_findings.dedupe_key")?;
                    text(&r.institution, "supervision_findings.institution")?;
                    text(&r.person_no, "supervision_findings.person_no")?;
                    text(&r.visit_id, "supervision_findings.visit_id")?;
                    text(&r.rule_id, "supervision_findings.rule_id")?;
                    text(&r.severity, "supervision_findings.severity")?;
                    text(&r.action, "supervision_findings.action")?;
                    time(r.found_at, "supervision_findings.found_at")?;
                    text(&r.detail_json, "supervision_findings.detail_json")?;
                    opt_text(&r.feedback_way, "supervision_findings.feedback_way")?;
                    opt_text(&r.feedback_reason, "supervision_findings.feedback_reason")?;
                    opt_time(r.feedback_at, "supervision_findings.feedback_at")?;
                    if r.amount.is_negative() {
                        return Err(rejected(format!("预警{}的违规金额不能为负", r.finding_id)));
                    }
                }
                Ok(())
            }
            WriteOp::UpsertCase(r) => {
                text(&r.case_id, "supervision_cases.case_id")?;
                text(&r.institution, "supervision_cases.institution")?;
                text(&r.status, "supervision_cases.status")?;
                time(r.opened_at, "supervision_cases.opened_at")?;
                time(r.updated_at, "supervision_cases.updated_at")?;
                opt_text(&r.doctor, "supervision_cases.doctor")?;
                opt_time(r.decided_at, "supervision_cases.decided_at")?;
                opt_time(r.suspended_until, "supervision_cases.suspended_until")?;
                text(&r.record_json, "supervision_cases.record_json")?;
                if r.steps < 1
                    || [r.amount_at_stake, r.recovery, r.penalty]
                        .iter()
                        .any(|m| m.is_negative())
                {
                    return Err(rejected(format!("案件{}的步骤数或金额无效", r.case_id)));
                }
                Ok(())
            }
            WriteOp::SetFindingFeedback {
                finding_id,
                way,
                reason,
                at,
            } => {
                text(finding_id, "supervision_findings.finding_id")?;
                text(way, "supervision_findings.feedback_way")?;
                opt_text(reason, "supervision_findings.feedback_reason")?;
                time(*at, "supervision_findings.feedback_at")
            }
            WriteOp::InsertExchangeFile(r) => {
                text(&r.file_no, "exchange_files.file_no")?;
                text(&r.institution, "exchange_files.institution")?;
                text(&r.filename, "exchange_files.filename")?;
                text(&r.origin, "exchange_files.origin")?;
                time(r.created_at, "exchange_files.created_at")?;
                time(r.expires_at, "exchange_files.expires_at")?;
                if r.bytes.len() > EXCHANGE_FILE_BYTES_MAX {
                    return Err(rejected(format!(
                        "exchange_files.bytes: {}字节,超过上限{EXCHANGE_FILE_BYTES_MAX}字节",
                        r.bytes.len()
                    )));
                }
                if r.expires_at <= r.created_at {
                    return Err(rejected("exchange_files.expires_at 应晚于 created_at".to_owned()));
                }
                Ok(())
            }
            WriteOp::UpsertReferenceTable(r) => {
                text(&r.kind, "reference_tables.kind")?;
                text(&r.version, "reference_tables.version")?;
                time(r.imported_at, "reference_tables.imported_at")?;
                text(&r.files_json, "reference_tables.files_json")
            }
        }
    }

    fn ledger(&mut self, e: &'a LedgerEntry) -> Result<()> {
        text(&e.posting_id, "ledger_entries.posting_id")?;
        text(&e.book, "ledger_entries.book")?;
        text(&e.account, "ledger_entries.account")?;
        text(&e.settlement_id, "ledger_entries.settlement_id")?;
        time(e.posted_at, "ledger_entries.posted_at")?;
        let (debit, credit) = (i128::from(e.debit.fen()), i128::from(e.credit.fen()));
        for sums in [
            self.postings.entry(&e.posting_id).or_default(),
            self.books.entry(&e.book).or_default(),
        ] {
            sums.0 += debit;
            sums.1 += credit;
        }
        Ok(())
    }

    fn balanced(&self) -> Result<()> {
        if let Some((posting, (d, c))) = first_unbalanced(&self.postings) {
            return Err(rejected(format!(
                "记账凭证 {posting} 借贷不平: 借方 {d} 分, 贷方 {c} 分"
            )));
        }
        if let Some((book, (d, c))) = first_unbalanced(&self.books) {
            return Err(rejected(format!("账簿 {book} 本批借贷不平: 借方 {d} 分, 贷方 {c} 分")));
        }
        Ok(())
    }
}

/// The first (by key) of the sums whose debits differ from its credits.
fn first_unbalanced<'a>(sums: &HashMap<&'a str, (i128, i128)>) -> Option<(&'a str, (i128, i128))> {
    sums.iter().filter(|(_, (d, c))| d != c).map(|(k, s)| (*k, *s)).min()
}

// ---------------------------------------------------------------------------------------------
// Columns and read queries. Written with `$n` placeholders; SQLite reads them as `?n`.

macro_rules! institution_columns {
    () => {
        "code, name, hosp_lv, admdvs, paas_id, secret, active"
    };
}
macro_rules! person_columns {
    () => {
        "person_no, certno, name, sex, birth_date, ethnicity, insurance, person_type, tier, \
         special_groups, civil_servant, insured_admdvs, employer_name, status, enrolled_on, \
         benefits_from, account_balance, family_payer"
    };
}
macro_rules! visit_columns {
    () => {
        "visit_id, person_no, institution, insurance, medical_type, begin_time, end_time, \
         his_visit_no, disease_code, diagnosis_code, status, in_county, doctor"
    };
}
macro_rules! fee_line_columns {
    () => {
        "visit_id, sn, batch_no, code, local_code, quantity, price, amount, occurred_at, \
         disease_code, refund_of, settlement_id"
    };
}
macro_rules! settlement_columns {
    () => {
        "settlement_id, visit_id, person_no, institution, insurance, medical_type, \
         clearing_type, settled_at, msgid, policy_id, year, total, fund_total, account_pay, \
         cash_pay, status, cancelled_at, cancel_msgid, output_json, inputs_json, deltas_json, \
         mutual_aid_pay"
    };
}
macro_rules! message_columns {
    () => {
        "msgid, infno, institution, received_at, response_json, request_digest"
    };
}
macro_rules! audit_columns {
    () => {
        "msgid, infno, institution, infcode, duration_us, logged_at, message"
    };
}
macro_rules! filing_columns {
    () => {
        "filing_id, person_no, disease_code, disease_name, institution, begin_date, end_date, \
         active"
    };
}
macro_rules! settlement_list_columns {
    () => {
        "settlement_id, visit_id, person_no, institution, insurance, discharge_date, drg_version, drg, \
         total, fund_total, grouping_json, list_json, uploaded_at, msgid"
    };
}
macro_rules! reference_table_columns {
    () => {
        "kind, version, imported_at, files_json"
    };
}
macro_rules! exchange_file_columns {
    () => {
        "file_no, institution, filename, origin, bytes, created_at, expires_at"
    };
}
macro_rules! finding_columns {
    () => {
        "finding_id, origin, dedupe_key, institution, person_no, visit_id, rule_id, severity, action, amount, \
         found_at, detail_json, feedback_way, feedback_reason, feedback_at"
    };
}
macro_rules! case_columns {
    () => {
        "case_id, institution, status, opened_at, updated_at, steps, amount_at_stake, recovery, penalty, \
         doctor, doctor_points, credit_points, decided_at, record_json, suspended_until"
    };
}
macro_rules! employer_columns {
    () => {
        "credit_code, name, admdvs, registered_on, arrears_from"
    };
}
macro_rules! enrolment_columns {
    () => {
        "certno, person_no, insurance, status, status_from, person_kind, employer, wage_base, doc_json, updated_at"
    };
}
macro_rules! contribution_columns {
    () => {
        "contribution_id, run_id, person_no, employer, insurance, period, kind, base, employer_amount, \
         individual_amount, pooled_amount, account_amount, subsidy_amount, large_expense_amount, posted_at"
    };
}
macro_rules! account_entry_columns {
    () => {
        "entry_id, person_no, posted_at, kind, amount, balance_after, reference, counterparty"
    };
}
macro_rules! accumulator_columns {
    () => {
        "person_no, year, acc_key, deductible, fund, base, visits, admissions"
    };
}
macro_rules! ledger_columns {
    () => {
        "posting_id, book, account, debit, credit, settlement_id, posted_at"
    };
}

pub(crate) const INSTITUTION_COLUMNS: &str = institution_columns!();
pub(crate) const PERSON_COLUMNS: &str = person_columns!();
pub(crate) const VISIT_COLUMNS: &str = visit_columns!();
pub(crate) const FEE_LINE_COLUMNS: &str = fee_line_columns!();
pub(crate) const SETTLEMENT_COLUMNS: &str = settlement_columns!();
pub(crate) const MESSAGE_COLUMNS: &str = message_columns!();
pub(crate) const AUDIT_COLUMNS: &str = audit_columns!();
pub(crate) const FILING_COLUMNS: &str = filing_columns!();
pub(crate) const ACCUMULATOR_COLUMNS: &str = accumulator_columns!();
pub(crate) const SETTLEMENT_LIST_COLUMNS: &str = settlement_list_columns!();
pub(crate) const REFERENCE_TABLE_COLUMNS: &str = reference_table_columns!();
pub(crate) const EMPLOYER_COLUMNS: &str = employer_columns!();
pub(crate) const EXCHANGE_FILE_COLUMNS: &str = exchange_file_columns!();
pub(crate) const FINDING_COLUMNS: &str = finding_columns!();
pub(crate) const CASE_COLUMNS: &str = case_columns!();
pub(crate) const ENROLMENT_COLUMNS: &str = enrolment_columns!();
pub(crate) const CONTRIBUTION_COLUMNS: &str = contribution_columns!();
pub(crate) const ACCOUNT_ENTRY_COLUMNS: &str = account_entry_columns!();
pub(crate) const LEDGER_TOTAL_COLUMNS: &str = "book, account, period, debit, credit";

pub(crate) const Q_EXCHANGE_FILE: &str = concat!(
    "SELECT ",
    exchange_file_columns!(),
    " FROM exchange_files WHERE file_no = $1"
);
pub(crate) const Q_FINDING: &str = concat!(
    "SELECT ",
    finding_columns!(),
    " FROM supervision_findings WHERE finding_id = $1"
);
const SCREENED: &str =
    "SELECT settlement_id FROM settlements WHERE status = 'settled' AND settled_at >= $1 AND settled_at <= $2";
pub(crate) const Q_SCREEN_SETTLEMENTS: &str = "SELECT settlement_id, visit_id, person_no, institution, fund_total, inputs_json \
     FROM settlements WHERE status = 'settled' AND settled_at >= $1 AND settled_at <= $2 ORDER BY settled_at, settlement_id";
pub(crate) const Q_SCREEN_VISITS: &str = concat!(
    "SELECT ",
    visit_columns!(),
    " FROM visits WHERE visit_id IN (SELECT visit_id FROM settlements WHERE status = 'settled' \
     AND settled_at >= $1 AND settled_at <= $2)"
);
pub(crate) fn screen_lines_query() -> String {
    format!(
        "SELECT settlement_id, sn, occurred_at FROM fee_lines WHERE refund_of IS NULL AND settlement_id IN ({SCREENED})"
    )
}
/// Screening's suspicions already recorded.
pub(crate) const Q_SCREEN_FINDING_IDS: &str = "SELECT finding_id FROM supervision_findings WHERE origin = 'screen'";
pub(crate) const Q_CASE: &str = concat!("SELECT ", case_columns!(), " FROM supervision_cases WHERE case_id = $1");
pub(crate) const Q_DOCTOR_POINTS: &str = "SELECT decided_at, doctor_points FROM supervision_cases \
     WHERE doctor = $1 AND status = 'confirmed' AND decided_at IS NOT NULL ORDER BY decided_at";
pub(crate) const Q_INSTITUTION_CREDIT: &str =
    "SELECT CAST(COALESCE(SUM(credit_points), 0) AS BIGINT), CAST(COUNT(*) AS BIGINT) \
     FROM supervision_cases WHERE institution = $1 AND status = 'confirmed' AND decided_at >= $2 AND decided_at <= $3";
pub(crate) const Q_SUSPENSIONS: &str = "SELECT institution, suspended_until, case_id FROM supervision_cases \
     WHERE status = 'confirmed' AND suspended_until IS NOT NULL AND suspended_until > $1";
pub(crate) const STALE_CASE: &str = "UpsertCase: 案件已被另一操作更新, 请重新读取后再办理";
pub(crate) const MISSING_FINDING: &str = "SetFindingFeedback: 预警不存在";
/// Run before inserting exchanged files, with the batch's earliest `created_at`.
pub(crate) const PURGE_EXCHANGE_FILES: &str = "DELETE FROM exchange_files WHERE expires_at < $1";
pub(crate) const Q_EMPLOYER: &str = concat!("SELECT ", employer_columns!(), " FROM employers WHERE credit_code = $1");
pub(crate) const Q_ENROLMENT: &str = concat!("SELECT ", enrolment_columns!(), " FROM enrolments WHERE certno = $1");
pub(crate) const Q_SUSPENDED_OF_EMPLOYER: &str = concat!(
    "SELECT ",
    enrolment_columns!(),
    " FROM enrolments WHERE insurance = $1 AND status = '2' AND employer = $2 ORDER BY certno"
);
/// PostgreSQL: many enrolments in one round trip.
pub(crate) const Q_ENROLMENTS_ANY: &str = concat!(
    "SELECT ",
    enrolment_columns!(),
    " FROM enrolments WHERE certno = ANY($1)"
);
pub(crate) const Q_ENROLMENT_OF_PERSON: &str =
    concat!("SELECT ", enrolment_columns!(), " FROM enrolments WHERE person_no = $1");
/// A page of a monthly run's candidates of scheme `$1` in person order after `$3`: everyone
/// 正常参保 (`1`) since before the month began (`$2`), without their history, and everyone
/// whose status changed since, with it.
pub(crate) const Q_RUN_CANDIDATES: &str = "SELECT e.person_no, e.status, e.status_from, e.person_kind, \
     e.employer, e.wage_base, CASE WHEN e.status <> '1' OR e.status_from > $2 THEN e.doc_json END, \
     p.account_balance FROM enrolments e JOIN persons p ON p.person_no = e.person_no \
     WHERE e.insurance = $1 AND (e.status = '1' OR e.status_from > $2) AND e.person_no > $3 \
     ORDER BY e.person_no LIMIT $4";
pub(crate) const Q_CONTRIBUTION_RUN: &str = "SELECT run_id, insurance, period, persons, employer_amount, \
     individual_amount, pooled_amount, account_amount, run_at FROM contribution_runs \
     WHERE period = $1 AND insurance = $2";
pub(crate) const CONTRIBUTION_RUN_COLUMNS: &str = "run_id, insurance, period, persons, employer_amount, \
     individual_amount, pooled_amount, account_amount, run_at";
pub(crate) const Q_ENROLMENT_COUNT: &str = "SELECT COUNT(*) FROM enrolments";
pub(crate) const Q_CONTRIBUTIONS_OF_PERSON: &str = concat!(
    "SELECT ",
    contribution_columns!(),
    " FROM contributions WHERE person_no = $1 ORDER BY period, kind, contribution_id"
);
pub(crate) const Q_ACCOUNT_ENTRIES_OF_PERSON: &str = concat!(
    "SELECT ",
    account_entry_columns!(),
    " FROM account_entries WHERE person_no = $1 ORDER BY posted_at, entry_id"
);
pub(crate) const Q_LEDGER_TOTALS: &str = "SELECT book, account, period, debit, credit FROM ledger_totals \
     WHERE period >= $1 AND period <= $2 ORDER BY book, account, period";
pub(crate) const LEDGER_COLUMNS: &str = ledger_columns!();

/// `SET a = excluded.a, …` for every column but the key ones, for upserts.
pub(crate) fn update_set(columns: &str, key_columns: usize) -> String {
    columns
        .split(',')
        .skip(key_columns)
        .map(|c| {
            let c = c.trim();
            format!("{c} = excluded.{c}")
        })
        .collect::<Vec<_>>()
        .join(", ")
}

pub(crate) const Q_INSTITUTION: &str = concat!("SELECT ", institution_columns!(), " FROM institutions WHERE code = $1");
pub(crate) const Q_INSTITUTIONS: &str = concat!("SELECT ", institution_columns!(), " FROM institutions ORDER BY code");
pub(crate) const Q_PERSON: &str = concat!("SELECT ", person_columns!(), " FROM persons WHERE person_no = $1");
pub(crate) const Q_PERSON_BY_CERTNO: &str = concat!("SELECT ", person_columns!(), " FROM persons WHERE certno = $1");
pub(crate) const Q_PERSON_COUNT: &str = "SELECT COUNT(*) FROM persons";
/// PostgreSQL: many persons in one round trip.
pub(crate) const Q_PERSONS_ANY: &str = concat!("SELECT ", person_columns!(), " FROM persons WHERE person_no = ANY($1)");
/// PostgreSQL: many persons by citizen ID in one round trip.
pub(crate) const Q_PERSONS_BY_CERTNO_ANY: &str =
    concat!("SELECT ", person_columns!(), " FROM persons WHERE certno = ANY($1)");
pub(crate) const Q_PERSONS: &str = concat!(
    "SELECT ",
    person_columns!(),
    " FROM persons ORDER BY person_no LIMIT $1 OFFSET $2"
);
pub(crate) const Q_ACCUMULATORS: &str = "SELECT acc_key, deductible, fund, base, visits, \
     admissions FROM accumulators WHERE person_no = $1 AND year = $2 ORDER BY acc_key";
pub(crate) const Q_VISIT: &str = concat!("SELECT ", visit_columns!(), " FROM visits WHERE visit_id = $1");
/// Read through the index on `(person_no, begin_time)`: a person's visits are few.
pub(crate) const Q_PERSON_VISITED: &str =
    "SELECT COUNT(*) FROM (SELECT 1 FROM visits WHERE person_no = $1 AND institution = $2 LIMIT 1) AS v";
pub(crate) const Q_VISITS_OF_PERSON: &str = concat!(
    "SELECT ",
    visit_columns!(),
    " FROM visits WHERE person_no = $1 AND begin_time >= $2 AND begin_time <= $3 \
     ORDER BY begin_time DESC, visit_id DESC LIMIT $4"
);
pub(crate) const Q_FEE_LINES: &str = concat!(
    "SELECT ",
    fee_line_columns!(),
    " FROM fee_lines WHERE visit_id = $1 ORDER BY seq"
);
pub(crate) const Q_SETTLEMENT: &str = concat!(
    "SELECT ",
    settlement_columns!(),
    " FROM settlements WHERE settlement_id = $1"
);
pub(crate) const Q_SETTLEMENT_BY_MSGID: &str =
    concat!("SELECT ", settlement_columns!(), " FROM settlements WHERE msgid = $1");
pub(crate) const Q_MESSAGE: &str = concat!("SELECT ", message_columns!(), " FROM messages WHERE msgid = $1");
/// PostgreSQL: many msgids in one round trip.
pub(crate) const Q_MESSAGES_ANY: &str = concat!("SELECT ", message_columns!(), " FROM messages WHERE msgid = ANY($1)");
/// PostgreSQL: the filings of many persons in one round trip.
pub(crate) const Q_CHRONIC_FILINGS_ANY: &str = concat!(
    "SELECT ",
    filing_columns!(),
    " FROM chronic_filings WHERE person_no = ANY($1) ORDER BY person_no, begin_date, filing_id"
);
pub(crate) const Q_CHRONIC_FILINGS: &str = concat!(
    "SELECT ",
    filing_columns!(),
    " FROM chronic_filings WHERE person_no = $1 ORDER BY begin_date, filing_id"
);
pub(crate) const Q_EMPLOYERS_IN_ARREARS: &str = concat!(
    "SELECT ",
    employer_columns!(),
    " FROM employers WHERE arrears_from IS NOT NULL ORDER BY credit_code"
);
/// Persons enrolled and paying in `$1` (a scheme) who pay contributions (not retirees), whose
/// last regular contribution is before `$2` (`YYYYMM`), or who have none: those a check for
/// arrears looks at, with that last month.
pub(crate) const Q_ARREARS_CANDIDATES: &str = "SELECT e.certno, MAX(c.period) FROM enrolments e \
     LEFT JOIN contributions c ON c.person_no = e.person_no AND c.insurance = e.insurance \
     AND c.kind IN ('employee', 'flexible', 'recorded') \
     WHERE e.insurance = $1 AND e.status = '1' AND e.person_kind <> 'retired' \
     GROUP BY e.certno HAVING COALESCE(MAX(c.period), 0) < $2 ORDER BY e.certno";
pub(crate) const Q_PERIOD_CLOSES: &str = "SELECT period, through_month, open_from, closed_at, summary_json \
     FROM period_closes ORDER BY through_month, period";
pub(crate) const Q_CLOSING_ENTRIES: &str = concat!(
    "SELECT ",
    ledger_columns!(),
    " FROM ledger_entries WHERE origin = 1 ORDER BY entry_id"
);
pub(crate) const Q_LEDGER_BALANCES: &str = "SELECT book, CAST(SUM(debit) AS BIGINT), \
     CAST(SUM(credit) AS BIGINT) FROM ledger_entries GROUP BY book ORDER BY book";
/// The settlement lists of discharges in `[$1, $2]` whose settlement is in force.
pub(crate) const Q_SETTLEMENT_LISTS: &str = concat!(
    "SELECT ",
    settlement_list_columns!(),
    " FROM settlement_lists WHERE discharge_date >= $1 AND discharge_date <= $2 AND settlement_id IN \
     (SELECT settlement_id FROM settlements WHERE status = 'settled') ORDER BY institution, settlement_id"
);
pub(crate) const Q_SETTLEMENT_LIST: &str = concat!(
    "SELECT ",
    settlement_list_columns!(),
    " FROM settlement_lists WHERE settlement_id = $1"
);
/// The newest import of a kind of reference table.
pub(crate) const Q_REFERENCE_TABLE_LATEST: &str = concat!(
    "SELECT ",
    reference_table_columns!(),
    " FROM reference_tables WHERE kind = $1 ORDER BY imported_at DESC, version DESC LIMIT 1"
);
pub(crate) const Q_AUDIT_COUNT: &str = "SELECT COUNT(*) FROM audit_log";

const SETTLEMENT_TOTALS: &str = "SELECT COUNT(*), CAST(COALESCE(SUM(total), 0) AS BIGINT), \
     CAST(COALESCE(SUM(fund_total), 0) AS BIGINT), CAST(COALESCE(SUM(account_pay), 0) AS BIGINT), \
     CAST(COALESCE(SUM(cash_pay), 0) AS BIGINT), CAST(COALESCE(SUM(mutual_aid_pay), 0) AS BIGINT)";

/// The query for [`crate::Store::settlements`] (`totals` false) or
/// [`crate::Store::settlement_totals`] (`totals` true). Its parameters, in order: institution,
/// first instant, last instant, the insurance code if filtered, the clearing type if filtered,
/// and for the listing the limit.
pub(crate) fn settlement_query(filter: &SettlementFilter, totals: bool) -> String {
    settlement_query_on(filter, totals, "settled_at")
}

/// [`settlement_query`] with the dates applying to `cancelled_at`: the settlements cancelled in
/// the period, whenever they were made (`Store::settlements_cancelled`).
pub(crate) fn cancelled_settlement_query(filter: &SettlementFilter) -> String {
    settlement_query_on(filter, false, "cancelled_at")
}

fn settlement_query_on(filter: &SettlementFilter, totals: bool, date_column: &str) -> String {
    let mut sql = if totals {
        format!("{SETTLEMENT_TOTALS} FROM settlements")
    } else {
        format!("SELECT {SETTLEMENT_COLUMNS} FROM settlements")
    };
    sql.push_str(&format!(
        " WHERE institution = $1 AND {date_column} >= $2 AND {date_column} <= $3"
    ));
    let mut n = 3;
    if filter.insurance.is_some() {
        n += 1;
        sql.push_str(&format!(" AND insurance = ${n}"));
    }
    if filter.clearing_type.is_some() {
        n += 1;
        sql.push_str(&format!(" AND clearing_type = ${n}"));
    }
    if filter.in_force_only {
        sql.push_str(" AND status = 'settled'");
    }
    if !totals {
        n += 1;
        sql.push_str(&format!(" ORDER BY {date_column}, settlement_id LIMIT ${n}"));
    }
    sql
}

// ---------------------------------------------------------------------------------------------
// Decoding rows.

/// One result row, as each backend reads its own column types. Errors are the driver's words.
/// JSON documents (answers, settlement outputs and inputs) are stored LZ4-compressed: they are
/// most of the bytes a visit writes, and compress about four times.
pub(crate) fn pack(json: &str) -> Vec<u8> {
    lz4_flex::compress_prepend_size(json.as_bytes())
}

/// The JSON document a packed column holds.
pub(crate) fn unpack(bytes: &[u8]) -> std::result::Result<String, String> {
    let raw = lz4_flex::decompress_size_prepended(bytes).map_err(|e| format!("无法解压: {e}"))?;
    String::from_utf8(raw).map_err(|_| "解压后不是UTF-8文本".to_owned())
}

pub(crate) trait RowAccess {
    fn blob(&self, i: usize) -> std::result::Result<Option<Vec<u8>>, String>;
    fn text(&self, i: usize) -> std::result::Result<Option<String>, String>;
    fn int(&self, i: usize) -> std::result::Result<Option<i64>, String>;
    fn boolean(&self, i: usize) -> std::result::Result<Option<bool>, String>;
    fn date(&self, i: usize) -> std::result::Result<Option<NaiveDate>, String>;
    fn time(&self, i: usize) -> std::result::Result<Option<NaiveDateTime>, String>;
}

/// A row of one table: its getters name the table and column in their errors.
pub(crate) struct Cols<'r, R: RowAccess + ?Sized> {
    pub row: &'r R,
    pub table: &'static str,
}

impl<R: RowAccess + ?Sized> Cols<'_, R> {
    fn corrupt(&self, column: &str, why: impl std::fmt::Display) -> StoreError {
        StoreError::Corrupt(format!("{}.{}: {why}", self.table, column))
    }

    fn required<T>(&self, column: &str, v: std::result::Result<Option<T>, String>) -> Result<T> {
        match v {
            Ok(Some(v)) => Ok(v),
            Ok(None) => Err(self.corrupt(column, "为空")),
            Err(e) => Err(self.corrupt(column, e)),
        }
    }

    fn optional<T>(&self, column: &str, v: std::result::Result<Option<T>, String>) -> Result<Option<T>> {
        v.map_err(|e| self.corrupt(column, e))
    }

    pub fn text(&self, i: usize, column: &str) -> Result<String> {
        self.required(column, self.row.text(i))
    }
    pub fn bytes(&self, i: usize, column: &str) -> Result<Vec<u8>> {
        self.required(column, self.row.blob(i))
    }
    /// A packed JSON document (see [`pack`]).
    pub fn packed(&self, i: usize, column: &str) -> Result<String> {
        let bytes = self.required(column, self.row.blob(i))?;
        self.required(column, unpack(&bytes).map(Some))
    }
    pub fn opt_text(&self, i: usize, column: &str) -> Result<Option<String>> {
        self.optional(column, self.row.text(i))
    }
    pub fn int(&self, i: usize, column: &str) -> Result<i64> {
        self.required(column, self.row.int(i))
    }
    pub fn opt_int(&self, i: usize, column: &str) -> Result<Option<i64>> {
        self.optional(column, self.row.int(i))
    }
    pub fn boolean(&self, i: usize, column: &str) -> Result<bool> {
        self.required(column, self.row.boolean(i))
    }
    pub fn date(&self, i: usize, column: &str) -> Result<NaiveDate> {
        self.required(column, self.row.date(i))
    }
    pub fn opt_date(&self, i: usize, column: &str) -> Result<Option<NaiveDate>> {
        self.optional(column, self.row.date(i))
    }
    pub fn time(&self, i: usize, column: &str) -> Result<NaiveDateTime> {
        self.required(column, self.row.time(i))
    }
    pub fn blob(&self, i: usize, column: &str) -> Result<Vec<u8>> {
        self.required(column, self.row.blob(i))
    }
    pub fn opt_time(&self, i: usize, column: &str) -> Result<Option<NaiveDateTime>> {
        self.optional(column, self.row.time(i))
    }
    pub fn money(&self, i: usize, column: &str) -> Result<Money> {
        self.int(i, column).map(Money::from_fen)
    }
    pub fn i32(&self, i: usize, column: &str) -> Result<i32> {
        let v = self.int(i, column)?;
        i32::try_from(v).map_err(|_| self.corrupt(column, format!("{v} 超出 32 位整数")))
    }
    pub fn u32(&self, i: usize, column: &str) -> Result<u32> {
        let v = self.int(i, column)?;
        u32::try_from(v).map_err(|_| self.corrupt(column, format!("{v} 超出 0–4294967295")))
    }
    /// A coded value parsed back by its parser.
    pub fn code<T, E: std::fmt::Display>(
        &self,
        i: usize,
        column: &str,
        parse: impl Fn(&str) -> std::result::Result<T, E>,
    ) -> Result<T> {
        let text = self.text(i, column)?;
        parse(&text).map_err(|e| self.corrupt(column, e))
    }
}

/// Texts that SQLite keeps for dates and times, parsed back.
pub(crate) fn parse_date_text(text: &str) -> std::result::Result<NaiveDate, String> {
    NaiveDate::parse_from_str(text, DATE_FORMAT).map_err(|e| format!("日期“{text}”无法解读: {e}"))
}

pub(crate) fn parse_time_text(text: &str) -> std::result::Result<NaiveDateTime, String> {
    NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S%.f").map_err(|e| format!("时间“{text}”无法解读: {e}"))
}

pub(crate) fn groups_text(groups: &[SpecialGroup]) -> String {
    groups.iter().map(|g| g.code()).collect::<Vec<_>>().join(",")
}

fn parse_groups(text: &str) -> std::result::Result<Vec<SpecialGroup>, yibao_codes::CodeError> {
    if text.is_empty() {
        return Ok(Vec::new());
    }
    text.split(',').map(SpecialGroup::parse).collect()
}

fn parse_tier(n: i64) -> std::result::Result<Tier, String> {
    Tier::from_number(n).ok_or_else(|| format!("缴费档次 {n} 无效"))
}

fn parse_visit_status(text: &str) -> std::result::Result<VisitStatus, String> {
    VisitStatus::from_code(text).ok_or_else(|| format!("就诊状态“{text}”无效"))
}

fn parse_settlement_status(text: &str) -> std::result::Result<SettlementStatus, String> {
    SettlementStatus::from_code(text).ok_or_else(|| format!("结算状态“{text}”无效"))
}

pub(crate) fn institution<R: RowAccess + ?Sized>(row: &R) -> Result<InstitutionRecord> {
    let c = Cols {
        row,
        table: "institutions",
    };
    Ok(InstitutionRecord {
        code: c.text(0, "code")?,
        name: c.text(1, "name")?,
        hosp_lv: c.text(2, "hosp_lv")?,
        admdvs: c.text(3, "admdvs")?,
        paas_id: c.text(4, "paas_id")?,
        secret: c.text(5, "secret")?,
        active: c.boolean(6, "active")?,
    })
}

pub(crate) fn person<R: RowAccess + ?Sized>(row: &R) -> Result<PersonRecord> {
    let c = Cols { row, table: "persons" };
    let tier = match c.opt_int(8, "tier")? {
        None => None,
        Some(n) => Some(parse_tier(n).map_err(|e| c.corrupt("tier", e))?),
    };
    Ok(PersonRecord {
        person_no: c.text(0, "person_no")?,
        certno: c.text(1, "certno")?,
        name: c.text(2, "name")?,
        sex: c.code(3, "sex", Sex::parse)?,
        birth_date: c.date(4, "birth_date")?,
        ethnicity: c.text(5, "ethnicity")?,
        insurance: c.code(6, "insurance", InsuranceType::parse)?,
        person_type: c.code(7, "person_type", PersonType::parse)?,
        tier,
        groups: c.code(9, "special_groups", parse_groups)?,
        civil_servant: c.boolean(10, "civil_servant")?,
        insured_admdvs: c.text(11, "insured_admdvs")?,
        employer_name: c.text(12, "employer_name")?,
        status: c.text(13, "status")?,
        enrolled_on: c.date(14, "enrolled_on")?,
        benefits_from: c.opt_date(15, "benefits_from")?,
        account_balance: c.money(16, "account_balance")?,
        family_payer: c.opt_text(17, "family_payer")?,
    })
}

pub(crate) fn accumulator<R: RowAccess + ?Sized>(row: &R) -> Result<(String, Accumulator)> {
    let c = Cols {
        row,
        table: "accumulators",
    };
    Ok((
        c.text(0, "acc_key")?,
        Accumulator {
            deductible: c.money(1, "deductible")?,
            fund: c.money(2, "fund")?,
            base: c.money(3, "base")?,
            visits: c.u32(4, "visits")?,
            admissions: c.u32(5, "admissions")?,
        },
    ))
}

pub(crate) fn visit<R: RowAccess + ?Sized>(row: &R) -> Result<VisitRecord> {
    let c = Cols { row, table: "visits" };
    Ok(VisitRecord {
        visit_id: c.text(0, "visit_id")?,
        person_no: c.text(1, "person_no")?,
        institution: c.text(2, "institution")?,
        insurance: c.code(3, "insurance", InsuranceType::parse)?,
        medical_type: c.code(4, "medical_type", MedicalType::parse)?,
        begin_time: c.time(5, "begin_time")?,
        end_time: c.opt_time(6, "end_time")?,
        his_visit_no: c.text(7, "his_visit_no")?,
        disease_code: c.opt_text(8, "disease_code")?,
        diagnosis_code: c.opt_text(9, "diagnosis_code")?,
        status: c.code(10, "status", parse_visit_status)?,
        in_county: c.boolean(11, "in_county")?,
        doctor: c.opt_text(12, "doctor")?,
    })
}

pub(crate) fn fee_line<R: RowAccess + ?Sized>(row: &R) -> Result<FeeLineRecord> {
    let c = Cols {
        row,
        table: "fee_lines",
    };
    Ok(FeeLineRecord {
        visit_id: c.text(0, "visit_id")?,
        sn: c.text(1, "sn")?,
        batch_no: c.text(2, "batch_no")?,
        code: c.text(3, "code")?,
        local_code: c.text(4, "local_code")?,
        quantity: Quantity::from_ten_thousandths(c.int(5, "quantity")?),
        price: Price::from_millionths(c.int(6, "price")?),
        amount: c.money(7, "amount")?,
        occurred_at: c.time(8, "occurred_at")?,
        disease_code: c.opt_text(9, "disease_code")?,
        refund_of: c.opt_text(10, "refund_of")?,
        settlement_id: c.opt_text(11, "settlement_id")?,
    })
}

pub(crate) fn settlement<R: RowAccess + ?Sized>(row: &R) -> Result<SettlementRecord> {
    let c = Cols {
        row,
        table: "settlements",
    };
    Ok(SettlementRecord {
        settlement_id: c.text(0, "settlement_id")?,
        visit_id: c.text(1, "visit_id")?,
        person_no: c.text(2, "person_no")?,
        institution: c.text(3, "institution")?,
        insurance: c.code(4, "insurance", InsuranceType::parse)?,
        medical_type: c.code(5, "medical_type", MedicalType::parse)?,
        clearing_type: c.text(6, "clearing_type")?,
        settled_at: c.time(7, "settled_at")?,
        msgid: c.text(8, "msgid")?,
        policy_id: c.text(9, "policy_id")?,
        year: c.i32(10, "year")?,
        total: c.money(11, "total")?,
        fund_total: c.money(12, "fund_total")?,
        account_pay: c.money(13, "account_pay")?,
        cash_pay: c.money(14, "cash_pay")?,
        status: c.code(15, "status", parse_settlement_status)?,
        cancelled_at: c.opt_time(16, "cancelled_at")?,
        cancel_msgid: c.opt_text(17, "cancel_msgid")?,
        output_json: c.packed(18, "output_json")?,
        inputs_json: c.packed(19, "inputs_json")?,
        deltas_json: c.packed(20, "deltas_json")?,
        mutual_aid_pay: c.money(21, "mutual_aid_pay")?,
    })
}

pub(crate) fn settlement_totals<R: RowAccess + ?Sized>(row: &R) -> Result<crate::SettlementTotals> {
    let c = Cols {
        row,
        table: "settlements",
    };
    Ok(crate::SettlementTotals {
        count: c.int(0, "count(*)")?,
        total: c.money(1, "sum(total)")?,
        fund_total: c.money(2, "sum(fund_total)")?,
        account_pay: c.money(3, "sum(account_pay)")?,
        cash_pay: c.money(4, "sum(cash_pay)")?,
        mutual_aid_pay: c.money(5, "sum(mutual_aid_pay)")?,
    })
}

pub(crate) fn message<R: RowAccess + ?Sized>(row: &R) -> Result<MessageRecord> {
    let c = Cols { row, table: "messages" };
    Ok(MessageRecord {
        msgid: c.text(0, "msgid")?,
        infno: c.text(1, "infno")?,
        institution: c.text(2, "institution")?,
        received_at: c.time(3, "received_at")?,
        response_json: c.packed(4, "response_json")?,
        request_digest: c.bytes(5, "request_digest")?,
    })
}

pub(crate) fn chronic_filing<R: RowAccess + ?Sized>(row: &R) -> Result<ChronicFilingRecord> {
    let c = Cols {
        row,
        table: "chronic_filings",
    };
    Ok(ChronicFilingRecord {
        filing_id: c.text(0, "filing_id")?,
        person_no: c.text(1, "person_no")?,
        disease_code: c.text(2, "disease_code")?,
        disease_name: c.text(3, "disease_name")?,
        institution: c.text(4, "institution")?,
        begin_date: c.date(5, "begin_date")?,
        end_date: c.opt_date(6, "end_date")?,
        active: c.boolean(7, "active")?,
    })
}

pub(crate) fn settlement_list<R: RowAccess + ?Sized>(row: &R) -> Result<SettlementListRecord> {
    let c = Cols {
        row,
        table: "settlement_lists",
    };
    Ok(SettlementListRecord {
        settlement_id: c.text(0, "settlement_id")?,
        visit_id: c.text(1, "visit_id")?,
        person_no: c.text(2, "person_no")?,
        institution: c.text(3, "institution")?,
        insurance: c.code(4, "insurance", InsuranceType::parse)?,
        discharge_date: c.date(5, "discharge_date")?,
        drg_version: c.text(6, "drg_version")?,
        drg: c.text(7, "drg")?,
        total: Money::from_fen(c.int(8, "total")?),
        fund_total: Money::from_fen(c.int(9, "fund_total")?),
        grouping_json: c.packed(10, "grouping_json")?,
        list_json: c.packed(11, "list_json")?,
        uploaded_at: c.time(12, "uploaded_at")?,
        msgid: c.text(13, "msgid")?,
    })
}

pub(crate) fn reference_table<R: RowAccess + ?Sized>(row: &R) -> Result<ReferenceTableRecord> {
    let c = Cols {
        row,
        table: "reference_tables",
    };
    Ok(ReferenceTableRecord {
        kind: c.text(0, "kind")?,
        version: c.text(1, "version")?,
        imported_at: c.time(2, "imported_at")?,
        files_json: c.packed(3, "files_json")?,
    })
}

pub(crate) fn exchange_file<R: RowAccess + ?Sized>(row: &R) -> Result<ExchangeFileRecord> {
    let c = Cols {
        row,
        table: "exchange_files",
    };
    Ok(ExchangeFileRecord {
        file_no: c.text(0, "file_no")?,
        institution: c.text(1, "institution")?,
        filename: c.text(2, "filename")?,
        origin: c.text(3, "origin")?,
        bytes: c.blob(4, "bytes")?,
        created_at: c.time(5, "created_at")?,
        expires_at: c.time(6, "expires_at")?,
    })
}

pub(crate) fn finding<R: RowAccess + ?Sized>(row: &R) -> Result<FindingRecord> {
    let c = Cols {
        row,
        table: "supervision_findings",
    };
    Ok(FindingRecord {
        finding_id: c.text(0, "finding_id")?,
        origin: c.text(1, "origin")?,
        dedupe_key: c.text(2, "dedupe_key")?,
        institution: c.text(3, "institution")?,
        person_no: c.text(4, "person_no")?,
        visit_id: c.text(5, "visit_id")?,
        rule_id: c.text(6, "rule_id")?,
        severity: c.text(7, "severity")?,
        action: c.text(8, "action")?,
        amount: c.money(9, "amount")?,
        found_at: c.time(10, "found_at")?,
        detail_json: c.text(11, "detail_json")?,
        feedback_way: c.opt_text(12, "feedback_way")?,
        feedback_reason: c.opt_text(13, "feedback_reason")?,
        feedback_at: c.opt_time(14, "feedback_at")?,
    })
}

pub(crate) fn case<R: RowAccess + ?Sized>(row: &R) -> Result<CaseRecord> {
    let c = Cols {
        row,
        table: "supervision_cases",
    };
    Ok(CaseRecord {
        case_id: c.text(0, "case_id")?,
        institution: c.text(1, "institution")?,
        status: c.text(2, "status")?,
        opened_at: c.time(3, "opened_at")?,
        updated_at: c.time(4, "updated_at")?,
        steps: c.int(5, "steps")?,
        amount_at_stake: c.money(6, "amount_at_stake")?,
        recovery: c.money(7, "recovery")?,
        penalty: c.money(8, "penalty")?,
        doctor: c.opt_text(9, "doctor")?,
        doctor_points: c.int(10, "doctor_points")?,
        credit_points: c.int(11, "credit_points")?,
        decided_at: c.opt_time(12, "decided_at")?,
        record_json: c.text(13, "record_json")?,
        suspended_until: c.opt_time(14, "suspended_until")?,
    })
}

pub(crate) fn screened_settlement<R: RowAccess + ?Sized>(row: &R) -> Result<crate::ScreenedSettlement> {
    let c = Cols {
        row,
        table: "settlements",
    };
    Ok(crate::ScreenedSettlement {
        settlement_id: c.text(0, "settlement_id")?,
        visit_id: c.text(1, "visit_id")?,
        person_no: c.text(2, "person_no")?,
        institution: c.text(3, "institution")?,
        fund_total: c.money(4, "fund_total")?,
        inputs_json: c.packed(5, "inputs_json")?,
    })
}

pub(crate) fn line_time<R: RowAccess + ?Sized>(row: &R) -> Result<(String, String, NaiveDateTime)> {
    let c = Cols {
        row,
        table: "fee_lines",
    };
    Ok((c.text(0, "settlement_id")?, c.text(1, "sn")?, c.time(2, "occurred_at")?))
}

pub(crate) fn finding_id<R: RowAccess + ?Sized>(row: &R) -> Result<String> {
    Cols {
        row,
        table: "supervision_findings",
    }
    .text(0, "finding_id")
}

pub(crate) fn two_counts<R: RowAccess + ?Sized>(row: &R) -> Result<(i64, i64)> {
    let c = Cols {
        row,
        table: "supervision_cases",
    };
    Ok((c.int(0, "credit_points")?, c.int(1, "cases")?))
}

pub(crate) fn suspension<R: RowAccess + ?Sized>(row: &R) -> Result<(String, NaiveDateTime, String)> {
    let c = Cols {
        row,
        table: "supervision_cases",
    };
    Ok((
        c.text(0, "institution")?,
        c.time(1, "suspended_until")?,
        c.text(2, "case_id")?,
    ))
}

pub(crate) fn doctor_point<R: RowAccess + ?Sized>(row: &R) -> Result<(NaiveDateTime, i64)> {
    let c = Cols {
        row,
        table: "supervision_cases",
    };
    Ok((c.time(0, "decided_at")?, c.int(1, "doctor_points")?))
}

pub(crate) fn employer<R: RowAccess + ?Sized>(row: &R) -> Result<EmployerRecord> {
    let c = Cols {
        row,
        table: "employers",
    };
    Ok(EmployerRecord {
        credit_code: c.text(0, "credit_code")?,
        name: c.text(1, "name")?,
        admdvs: c.text(2, "admdvs")?,
        registered_on: c.date(3, "registered_on")?,
        arrears_from: c.opt_int(4, "arrears_from")?.map(|n| n as i32),
    })
}

pub(crate) fn enrolment<R: RowAccess + ?Sized>(row: &R) -> Result<EnrolmentRecord> {
    let c = Cols {
        row,
        table: "enrolments",
    };
    Ok(EnrolmentRecord {
        certno: c.text(0, "certno")?,
        person_no: c.text(1, "person_no")?,
        insurance: c.code(2, "insurance", InsuranceType::parse)?,
        status: c.text(3, "status")?,
        status_from: c.date(4, "status_from")?,
        person_kind: c.text(5, "person_kind")?,
        employer: c.opt_text(6, "employer")?,
        wage_base: c.opt_int(7, "wage_base")?.map(Money::from_fen),
        doc_json: c.packed(8, "doc_json")?,
        updated_at: c.time(9, "updated_at")?,
    })
}

pub(crate) fn run_candidate<R: RowAccess + ?Sized>(row: &R) -> Result<RunCandidate> {
    let c = Cols {
        row,
        table: "enrolments",
    };
    let doc_json = match c
        .row
        .blob(6)
        .map_err(|e| StoreError::Corrupt(format!("enrolments.doc_json: {e}")))?
    {
        None => None,
        Some(bytes) => Some(unpack(&bytes).map_err(|e| StoreError::Corrupt(format!("enrolments.doc_json: {e}")))?),
    };
    Ok(RunCandidate {
        person_no: c.text(0, "person_no")?,
        status: c.text(1, "status")?,
        status_from: c.date(2, "status_from")?,
        person_kind: c.text(3, "person_kind")?,
        employer: c.opt_text(4, "employer")?,
        wage_base: c.opt_int(5, "wage_base")?.map(Money::from_fen),
        doc_json,
        account_balance: c.money(7, "account_balance")?,
    })
}

pub(crate) fn contribution_run<R: RowAccess + ?Sized>(row: &R) -> Result<ContributionRunRecord> {
    let c = Cols {
        row,
        table: "contribution_runs",
    };
    Ok(ContributionRunRecord {
        run_id: c.text(0, "run_id")?,
        insurance: c.code(1, "insurance", InsuranceType::parse)?,
        period: c.i32(2, "period")?,
        persons: c.int(3, "persons")?,
        employer_amount: c.money(4, "employer_amount")?,
        individual_amount: c.money(5, "individual_amount")?,
        pooled_amount: c.money(6, "pooled_amount")?,
        account_amount: c.money(7, "account_amount")?,
        run_at: c.time(8, "run_at")?,
    })
}

pub(crate) fn contribution<R: RowAccess + ?Sized>(row: &R) -> Result<ContributionRecord> {
    let c = Cols {
        row,
        table: "contributions",
    };
    let money = |i: usize, column: &str| c.int(i, column).map(Money::from_fen);
    Ok(ContributionRecord {
        contribution_id: c.text(0, "contribution_id")?,
        run_id: c.text(1, "run_id")?,
        person_no: c.text(2, "person_no")?,
        employer: c.opt_text(3, "employer")?,
        insurance: c.code(4, "insurance", InsuranceType::parse)?,
        period: c.i32(5, "period")?,
        kind: c.text(6, "kind")?,
        base: money(7, "base")?,
        employer_amount: money(8, "employer_amount")?,
        individual_amount: money(9, "individual_amount")?,
        pooled_amount: money(10, "pooled_amount")?,
        account_amount: money(11, "account_amount")?,
        subsidy_amount: money(12, "subsidy_amount")?,
        large_expense_amount: money(13, "large_expense_amount")?,
        posted_at: c.time(14, "posted_at")?,
    })
}

pub(crate) fn account_entry<R: RowAccess + ?Sized>(row: &R) -> Result<AccountEntryRecord> {
    let c = Cols {
        row,
        table: "account_entries",
    };
    Ok(AccountEntryRecord {
        entry_id: c.text(0, "entry_id")?,
        person_no: c.text(1, "person_no")?,
        posted_at: c.time(2, "posted_at")?,
        kind: c.text(3, "kind")?,
        amount: Money::from_fen(c.int(4, "amount")?),
        balance_after: Money::from_fen(c.int(5, "balance_after")?),
        reference: c.text(6, "reference")?,
        counterparty: c.opt_text(7, "counterparty")?,
    })
}

pub(crate) fn arrears_candidate<R: RowAccess + ?Sized>(row: &R) -> Result<(String, Option<i32>)> {
    let c = Cols {
        row,
        table: "enrolments",
    };
    Ok((c.text(0, "certno")?, c.opt_int(1, "max(period)")?.map(|n| n as i32)))
}

pub(crate) fn period_close<R: RowAccess + ?Sized>(row: &R) -> Result<crate::PeriodCloseRecord> {
    let c = Cols {
        row,
        table: "period_closes",
    };
    Ok(crate::PeriodCloseRecord {
        period: c.text(0, "period")?,
        through_month: c.i32(1, "through_month")?,
        open_from: c.date(2, "open_from")?,
        closed_at: c.time(3, "closed_at")?,
        summary_json: c.text(4, "summary_json")?,
    })
}

pub(crate) fn ledger_entry<R: RowAccess + ?Sized>(row: &R) -> Result<LedgerEntry> {
    let c = Cols {
        row,
        table: "ledger_entries",
    };
    Ok(LedgerEntry {
        posting_id: c.text(0, "posting_id")?,
        book: c.text(1, "book")?,
        account: c.text(2, "account")?,
        debit: c.money(3, "debit")?,
        credit: c.money(4, "credit")?,
        settlement_id: c.text(5, "settlement_id")?,
        posted_at: c.time(6, "posted_at")?,
    })
}

pub(crate) fn ledger_total<R: RowAccess + ?Sized>(row: &R) -> Result<LedgerTotal> {
    let c = Cols {
        row,
        table: "ledger_totals",
    };
    Ok(LedgerTotal {
        book: c.text(0, "book")?,
        account: c.text(1, "account")?,
        period: c.i32(2, "period")?,
        debit: Money::from_fen(c.int(3, "debit")?),
        credit: Money::from_fen(c.int(4, "credit")?),
    })
}

/// The batch's ledger entries summed per (book, account, month): what [`LedgerTotal`] rows the
/// commit adds to, in key order (so that both backends touch rows in the same order).
pub(crate) fn ledger_total_deltas(ops: &[WriteOp]) -> Vec<LedgerTotal> {
    use chrono::Datelike;
    let mut sums: std::collections::BTreeMap<(&str, &str, i32), (i64, i64)> = std::collections::BTreeMap::new();
    for op in ops {
        if let WriteOp::InsertLedger(entries) = op {
            for e in entries {
                let period = e.posted_at.year() * 100 + e.posted_at.month() as i32;
                let sum = sums.entry((&e.book, &e.account, period)).or_default();
                // validate() has bounded every amount, so the sums of a batch stay far inside i64.
                sum.0 += e.debit.fen();
                sum.1 += e.credit.fen();
            }
        }
    }
    sums.into_iter()
        .map(|((book, account, period), (debit, credit))| LedgerTotal {
            book: book.to_owned(),
            account: account.to_owned(),
            period,
            debit: Money::from_fen(debit),
            credit: Money::from_fen(credit),
        })
        .collect()
}

pub(crate) fn ledger_balance<R: RowAccess + ?Sized>(row: &R) -> Result<(String, Money, Money)> {
    let c = Cols {
        row,
        table: "ledger_entries",
    };
    Ok((
        c.text(0, "book")?,
        c.money(1, "sum(debit)")?,
        c.money(2, "sum(credit)")?,
    ))
}

pub(crate) fn count<R: RowAccess + ?Sized>(row: &R, table: &'static str) -> Result<i64> {
    Cols { row, table }.int(0, "count(*)")
}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        #[test]
        fn time_text_matches_chrono(days in -800_000i32..3_700_000, seconds in 0u32..86_400, nanos in 0u32..2_000_000_000) {
            let date = NaiveDate::from_num_days_from_ce_opt(days).unwrap_or(NaiveDate::MIN);
            let Some(t) = date.and_hms_nano_opt(seconds / 3600, seconds / 60 % 60, seconds % 60, nanos) else {
                return Ok(());
            };
            proptest::prop_assert_eq!(time_text(t), norm_time(t).format(TIME_FORMAT).to_string());
        }
    }

    #[test]
    fn times_keep_microseconds_only() {
        let t = NaiveDate::from_ymd_opt(2024, 3, 1)
            .unwrap()
            .and_hms_nano_opt(8, 30, 15, 123_456_789)
            .unwrap();
        assert_eq!(time_text(t), "2024-03-01 08:30:15.123456");
        assert_eq!(norm_time(t).nanosecond(), 123_456_000);
        let leap = NaiveDate::from_ymd_opt(2016, 12, 31)
            .unwrap()
            .and_hms_nano_opt(23, 59, 59, 1_500_000_000)
            .unwrap();
        assert_eq!(time_text(leap), "2016-12-31 23:59:59.999999");
        assert_eq!(parse_time_text("2024-03-01 08:30:15.123456").unwrap(), norm_time(t));
    }

    #[test]
    fn day_range_is_inclusive_and_clamped() {
        let d = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).unwrap();
        let (lo, hi) = day_range(d(2024, 1, 1), d(2024, 1, 31)).unwrap();
        assert_eq!(time_text(lo), "2024-01-01 00:00:00.000000");
        assert_eq!(time_text(hi), "2024-01-31 23:59:59.999999");
        assert!(day_range(d(2024, 2, 1), d(2024, 1, 31)).is_none());
        let (lo, hi) = day_range(NaiveDate::MIN, NaiveDate::MAX).unwrap();
        assert_eq!(time_text(lo), "0001-01-01 00:00:00.000000");
        assert_eq!(time_text(hi), "9999-12-31 23:59:59.999999");
    }

    #[test]
    fn urls_lose_their_password_in_messages() {
        assert_eq!(redact_url("mysql://u:secret@h:1/db"), "mysql://u:***@h:1/db");
        assert_eq!(redact_url("mysql://u@h/db"), "mysql://u@h/db");
        assert_eq!(redact_url("mysql://h/db?x=a@b"), "mysql://h/db?x=a@b");
        assert_eq!(redact_url("nonsense"), "nonsense");
    }

    #[test]
    fn upsert_sets_every_column_but_the_key() {
        assert_eq!(update_set("a, b, c", 1), "b = excluded.b, c = excluded.c");
    }
}
