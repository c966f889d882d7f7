//! Supervision cases (案件) against the store: opening one from suspicions, each step an auditor
//! takes, the recovery a confirmation posts to the funds' books (and a reopening takes back),
//! and the doctors' points. The rules of the steps are pure (`yibao_monitor::cases`).

use chrono::{Datelike, NaiveDateTime};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use yibao_money::Money;
use yibao_monitor::cases::{self, CaseStatus, Decision, StaffRole, StepRequest, CASE_STEPS_MAX, CASE_SUSPICIONS_MAX};
use yibao_store::{CaseRecord, WriteOp};

use crate::error::PlatformError;
use crate::ids::IdGenerator;
use crate::service::Region;
use crate::state::State;

/// Who acts: the admin API's authenticated caller.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Staff {
    pub actor: String,
    pub role: StaffRole,
}

/// One suspicion in a case, as it was when the case was opened.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
struct CaseSuspicion {
    finding_id: String,
    rule_id: String,
    visit_id: String,
    /// The settlement the suspicion is about, when it is one (screening's are).
    settlement_id: Option<String>,
    amount: Money,
}

/// One step taken, with who took it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
struct CaseStep {
    n: u32,
    at: NaiveDateTime,
    actor: String,
    role: StaffRole,
    status: CaseStatus,
    /// `open`, or the request's own form (review, dismiss, confirm, reopen).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    request: Option<StepRequest>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    note: Option<String>,
    /// What the step posted to the books: (book, amount) recovered (confirm) or given back
    /// (reopen of a confirmed case).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    postings: Vec<(String, Money)>,
}

/// A case's history, kept in `record_json`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
struct CaseHistory {
    suspicions: Vec<CaseSuspicion>,
    steps: Vec<CaseStep>,
}

fn db(e: yibao_store::StoreError) -> PlatformError {
    PlatformError::internal(e.to_string())
}

fn refused(e: cases::CaseError) -> PlatformError {
    match e {
        cases::CaseError::Field { field, message } => PlatformError::field(field, message),
        other => PlatformError::rule(other.to_string()),
    }
}

/// 立案: gathers suspicions of one institution into a clue.
pub fn open(
    state: &mut State,
    ids: &IdGenerator,
    now: NaiveDateTime,
    staff: &Staff,
    suspicions: &[String],
    note: &str,
) -> Result<Value, PlatformError> {
    cases::may_open(staff.role).map_err(refused)?;
    if suspicions.is_empty() || suspicions.len() > CASE_SUSPICIONS_MAX {
        return Err(PlatformError::field(
            "suspicions",
            format!("一个案件应含1至{CASE_SUSPICIONS_MAX}个疑点"),
        ));
    }
    if note.trim().is_empty() || note.chars().count() > cases::CASE_TEXT_CHARS_MAX {
        return Err(PlatformError::field(
            "note",
            "立案说明不能为空且不超过1000个字符".into(),
        ));
    }
    let mut gathered: Vec<CaseSuspicion> = Vec::with_capacity(suspicions.len());
    let mut institution: Option<String> = None;
    for (i, id) in suspicions.iter().enumerate() {
        let field = format!("suspicions[{i}]");
        if gathered.iter().any(|s| &s.finding_id == id) {
            return Err(PlatformError::field(&field, format!("疑点{id}重复")));
        }
        let finding = state
            .store
            .finding(id)
            .map_err(db)?
            .ok_or_else(|| PlatformError::field(&field, format!("疑点{id}不存在")))?;
        match &institution {
            None => institution = Some(finding.institution.clone()),
            Some(code) if *code != finding.institution => {
                return Err(PlatformError::field(
                    &field,
                    format!("疑点{id}属于机构{}, 一个案件只涉及一家机构{code}", finding.institution),
                ))
            }
            Some(_) => {}
        }
        let detail: Value = serde_json::from_str(&finding.detail_json).unwrap_or(Value::Null);
        gathered.push(CaseSuspicion {
            finding_id: finding.finding_id,
            rule_id: finding.rule_id,
            visit_id: finding.visit_id,
            settlement_id: detail["settlement_id"].as_str().map(str::to_owned),
            amount: finding.amount,
        });
    }
    let Some(institution) = institution else {
        unreachable!("at least one suspicion was read");
    };
    let history = CaseHistory {
        steps: vec![CaseStep {
            n: 1,
            at: now,
            actor: staff.actor.clone(),
            role: staff.role,
            status: CaseStatus::Clue,
            request: None,
            note: Some(note.to_owned()),
            postings: Vec::new(),
        }],
        suspicions: gathered,
    };
    let record = CaseRecord {
        case_id: ids.issue('A'),
        institution,
        status: CaseStatus::Clue.code().to_owned(),
        opened_at: now,
        updated_at: now,
        steps: 1,
        amount_at_stake: history.suspicions.iter().map(|s| s.amount).sum(),
        recovery: Money::ZERO,
        penalty: Money::ZERO,
        doctor: None,
        doctor_points: 0,
        credit_points: 0,
        decided_at: None,
        record_json: serde_json::to_string(&history).map_err(|e| PlatformError::internal(e.to_string()))?,
        suspended_until: None,
    };
    let answer = view_of(&record, &history);
    state.pending.push(WriteOp::UpsertCase(record));
    Ok(answer)
}

/// One step on a case. A confirmation posts the recovery to the books of the funds that paid
/// the case's settlements (in proportion to what each paid); reopening a confirmed case posts
/// the opposite, so the books always hold the recoveries of the decisions in force.
pub fn step(
    state: &mut State,
    region: &Region,
    now: NaiveDateTime,
    staff: &Staff,
    case_id: &str,
    request: StepRequest,
) -> Result<Value, PlatformError> {
    let mut record = state
        .store
        .case(case_id)
        .map_err(db)?
        .ok_or_else(|| PlatformError::field("case_id", format!("案件{case_id}不存在")))?;
    let mut history: CaseHistory = serde_json::from_str(&record.record_json)
        .map_err(|e| PlatformError::internal(format!("案件{case_id}的记录无法解读: {e}")))?;
    let status = CaseStatus::parse(&record.status)
        .ok_or_else(|| PlatformError::internal(format!("案件{case_id}的状态{}无效", record.status)))?;
    if history.steps.len() >= CASE_STEPS_MAX {
        return Err(PlatformError::rule(format!(
            "案件{case_id}已达{CASE_STEPS_MAX}个步骤的上限"
        )));
    }
    let next = cases::next_status(status, &request, staff.role).map_err(refused)?;
    let n = history.steps.len() as u32 + 1;
    let posting_id = format!("{case_id}-{n}");
    let mut postings: Vec<(String, Money)> = Vec::new();
    match &request {
        StepRequest::Confirm { decision, .. } => {
            postings = recovery_split(state, region, &history, decision)?;
            let amounts: Vec<(&str, Money)> = postings.iter().map(|(b, m)| (b.as_str(), *m)).collect();
            // A recovery lowers the benefit expense and what is owed to the institution: the
            // opposite of a settlement's entries.
            let entries = crate::ledger::postings(&amounts, case_id, &posting_id, now, true);
            if !entries.is_empty() {
                state.pending.push(WriteOp::InsertLedger(entries));
            }
            record.recovery = decision.recovery;
            record.penalty = decision.penalty();
            record.doctor.clone_from(&decision.doctor);
            record.doctor_points = i64::from(decision.doctor_points.unwrap_or(0));
            record.credit_points = i64::from(decision.credit_points);
            record.decided_at = Some(now);
            // 暂停医保服务: from the decision, for the months decided.
            record.suspended_until = decision
                .suspension_months
                .and_then(|m| now.checked_add_months(chrono::Months::new(u32::from(m))));
            state.set_suspension(&record.institution, case_id, record.suspended_until);
        }
        StepRequest::Reopen { .. } if status == CaseStatus::Confirmed => {
            // Give back what the decision in force recovered.
            let in_force = history
                .steps
                .iter()
                .rev()
                .find(|s| matches!(s.request, Some(StepRequest::Confirm { .. })))
                .map(|s| s.postings.clone())
                .unwrap_or_default();
            let amounts: Vec<(&str, Money)> = in_force.iter().map(|(b, m)| (b.as_str(), *m)).collect();
            let entries = crate::ledger::postings(&amounts, case_id, &posting_id, now, false);
            if !entries.is_empty() {
                state.pending.push(WriteOp::InsertLedger(entries));
            }
            postings = in_force;
            clear_decision(&mut record);
        }
        StepRequest::Dismiss { .. } => {
            clear_decision(&mut record);
            record.decided_at = Some(now);
        }
        _ => clear_decision(&mut record),
    }
    if record.suspended_until.is_none() {
        state.set_suspension(&record.institution, case_id, None);
    }
    history.steps.push(CaseStep {
        n,
        at: now,
        actor: staff.actor.clone(),
        role: staff.role,
        status: next,
        request: Some(request),
        note: None,
        postings,
    });
    record.status = next.code().to_owned();
    record.updated_at = now;
    record.steps += 1;
    record.record_json = serde_json::to_string(&history).map_err(|e| PlatformError::internal(e.to_string()))?;
    let answer = view_of(&record, &history);
    state.pending.push(WriteOp::UpsertCase(record));
    Ok(answer)
}

fn clear_decision(record: &mut CaseRecord) {
    record.suspended_until = None;
    record.recovery = Money::ZERO;
    record.penalty = Money::ZERO;
    record.doctor = None;
    record.doctor_points = 0;
    record.credit_points = 0;
    record.decided_at = None;
}

/// The recovery split among the fund books that paid the case's settlements (the personal
/// account book excluded: the person's own money is not the fund's loss). Refused when the
/// recovery exceeds what those funds paid.
fn recovery_split(
    state: &mut State,
    region: &Region,
    history: &CaseHistory,
    decision: &Decision,
) -> Result<Vec<(String, Money)>, PlatformError> {
    let mut paid: Vec<(String, Money)> = Vec::new();
    let mut seen: Vec<&str> = Vec::new();
    for s in &history.suspicions {
        let Some(id) = s.settlement_id.as_deref() else {
            continue;
        };
        if seen.contains(&id) {
            continue;
        }
        seen.push(id);
        let record = state
            .settlement(id)?
            .ok_or_else(|| PlatformError::internal(format!("疑点所涉结算{id}不存在")))?
            .clone();
        let settlement = crate::service::recompute(&record, region)?;
        for fund in &settlement.funds {
            match paid.iter_mut().find(|(b, _)| b == fund.fund.code()) {
                Some((_, m)) => *m += fund.amount,
                None => paid.push((fund.fund.code().to_owned(), fund.amount)),
            }
        }
    }
    let total: Money = paid.iter().map(|(_, m)| *m).sum();
    if decision.recovery > total {
        return Err(PlatformError::field(
            "decision.recovery",
            format!("追回金额{}超过所涉结算的基金支付合计{total}", decision.recovery),
        ));
    }
    let pairs: Vec<(&str, Money)> = paid.iter().map(|(b, m)| (b.as_str(), *m)).collect();
    Ok(cases::recovery_by_fund(decision.recovery, &pairs)
        .into_iter()
        .map(|(b, m)| (b.to_owned(), m))
        .collect())
}

/// A case as the admin API shows it.
pub fn view(state: &mut State, case_id: &str) -> Result<Value, PlatformError> {
    let record = state
        .store
        .case(case_id)
        .map_err(db)?
        .ok_or_else(|| PlatformError::field("case_id", format!("案件{case_id}不存在")))?;
    let history: CaseHistory = serde_json::from_str(&record.record_json)
        .map_err(|e| PlatformError::internal(format!("案件{case_id}的记录无法解读: {e}")))?;
    Ok(view_of(&record, &history))
}

fn view_of(record: &CaseRecord, history: &CaseHistory) -> Value {
    let status_zh = CaseStatus::parse(&record.status).map_or("", CaseStatus::name_zh);
    json!({
        "case_id": record.case_id,
        "institution": record.institution,
        "status": record.status,
        "status_name": status_zh,
        "opened_at": record.opened_at,
        "updated_at": record.updated_at,
        "amount_at_stake": record.amount_at_stake,
        "recovery": record.recovery,
        "penalty": record.penalty,
        "doctor": record.doctor,
        "doctor_points": record.doctor_points,
        "credit_points": record.credit_points,
        "decided_at": record.decided_at,
        "suspended_until": record.suspended_until,
        "suspicions": history.suspicions,
        "steps": history.steps,
    })
}

/// 医保医师记分: a doctor's points in a natural year and the standing they give.
pub fn doctor_points(state: &mut State, doctor: &str, year: i32) -> Result<Value, PlatformError> {
    if doctor.trim().is_empty() || doctor.chars().count() > 30 {
        return Err(PlatformError::field(
            "doctor",
            "医保医师代码不能为空且不超过30个字符".into(),
        ));
    }
    let events: Vec<(chrono::NaiveDate, u8)> = state
        .store
        .doctor_points(doctor)
        .map_err(db)?
        .into_iter()
        .map(|(at, points)| (at.date(), u8::try_from(points).unwrap_or(u8::MAX)))
        .collect();
    let (total, standing, barred_years) = cases::doctor_standing(&events, year);
    Ok(json!({
        "doctor": doctor,
        "year": year,
        "points": total,
        "standing": standing,
        "barred_years": barred_years,
        "events": events.iter().filter(|(d, _)| d.year() == year)
            .map(|(d, p)| json!({ "decided_on": d, "points": p })).collect::<Vec<_>>(),
    }))
}

/// 信用评价: an institution's credit score and grade for a natural year, by the region's scale
/// and the credit points of the year's confirmed cases.
pub fn institution_credit(
    state: &mut State,
    region: &Region,
    now: NaiveDateTime,
    institution: &str,
    year: i32,
) -> Result<Value, PlatformError> {
    if !state.institutions.contains_key(institution) {
        return Err(PlatformError::field("code", format!("定点医药机构{institution}未登记")));
    }
    let from = chrono::NaiveDate::from_ymd_opt(year, 1, 1)
        .ok_or_else(|| PlatformError::field("year", format!("年份{year}无效")))?;
    let to = chrono::NaiveDate::from_ymd_opt(year, 12, 31)
        .ok_or_else(|| PlatformError::field("year", format!("年份{year}无效")))?;
    let scale = region
        .monitor_on(to.min(now.date()).max(from))
        .or_else(|| region.monitor.last())
        .and_then(|p| p.credit.clone())
        .ok_or_else(|| PlatformError::rule("本统筹区的监控规则文件未规定信用评价([credit])".into()))?;
    let (deducted, cases) = state.store.institution_credit(institution, from, to).map_err(db)?;
    let (score, grade) = scale.rate(deducted);
    Ok(json!({
        "institution": institution,
        "year": year,
        "score_start": scale.score_start,
        "deducted": deducted,
        "confirmed_cases": cases,
        "score": score,
        "grade": grade,
    }))
}
