//! Employers (参保单位): registration, their arrears (欠费) and back payment, and the monthly
//! arrears check that suspends the benefits of their staff.

use super::*;

pub(super) fn register_employer(
    state: &mut State,
    ctx: &AdminCtx,
    credit_code: &str,
    name: &str,
    registered_on: NaiveDate,
) -> Result<Value, PlatformError> {
    let code =
        yibao_enrol::CreditCode::parse(credit_code).map_err(|e| PlatformError::field("credit_code", e.to_string()))?;
    let employer = yibao_enrol::Employer::new(code.as_str(), name, ctx.region.admdvs.as_str())
        .map_err(|e| PlatformError::field("name", e.to_string()))?;
    // Registering again changes the name and date, never an arrears on record.
    let arrears_from = state
        .store
        .employer(code.as_str())
        .map_err(db)?
        .and_then(|e| e.arrears_from);
    let record = EmployerRecord {
        credit_code: code.as_str().to_owned(),
        name: employer.name.clone(),
        admdvs: ctx.region.admdvs.clone(),
        registered_on,
        arrears_from,
    };
    state.pending.push(WriteOp::UpsertEmployer(record));
    Ok(json!({ "credit_code": code.as_str(), "name": employer.name }))
}

pub(super) fn import_employers(
    state: &mut State,
    ctx: &AdminCtx,
    rows: &[EmployerRow],
) -> Result<Value, PlatformError> {
    if rows.len() > IMPORT_ROWS_MAX {
        return Err(PlatformError::rule(format!(
            "导入{}行, 超过上限{IMPORT_ROWS_MAX}行",
            rows.len()
        )));
    }
    let mut errors = Vec::new();
    let mut records = Vec::with_capacity(rows.len());
    let mut seen: rustc_hash::FxHashMap<&str, u64> = rustc_hash::FxHashMap::default();
    // Importing again changes names and dates, never an arrears on record.
    let arrears: rustc_hash::FxHashMap<String, i32> = state
        .store
        .employers_in_arrears()
        .map_err(db)?
        .into_iter()
        .filter_map(|e| Some((e.credit_code, e.arrears_from?)))
        .collect();
    for row in rows {
        match yibao_enrol::Employer::new(&row.credit_code, &row.name, &ctx.region.admdvs) {
            Ok(e) => {
                if let Some(first) = seen.insert(&row.credit_code, row.line) {
                    errors.push(format!("第{}行: 统一社会信用代码与第{first}行重复", row.line));
                    continue;
                }
                records.push(EmployerRecord {
                    credit_code: e.credit_code.as_str().to_owned(),
                    name: e.name,
                    admdvs: ctx.region.admdvs.clone(),
                    registered_on: row.registered_on,
                    arrears_from: arrears.get(e.credit_code.as_str()).copied(),
                });
            }
            Err(e) => errors.push(format!("第{}行: {e}", row.line)),
        }
    }
    if !errors.is_empty() {
        let count = errors.len();
        errors.truncate(IMPORT_ERRORS_REPORTED_MAX);
        return Err(PlatformError::rule(format!(
            "导入文件有{count}处错误, 全部未导入:\n{}",
            errors.join("\n")
        )));
    }
    let imported = records.len();
    state
        .pending
        .ops
        .extend(records.into_iter().map(WriteOp::UpsertEmployer));
    Ok(json!({ "imported": imported }))
}

/// The reason enrolment records for a suspension for arrears starts with this.
pub(super) const ARREARS_REASON_PREFIX: &str = "连续欠缴";

pub(super) fn employer_in_books(state: &mut State, credit_code: &str) -> Result<EmployerRecord, PlatformError> {
    state
        .store
        .employer(credit_code)
        .map_err(db)?
        .ok_or_else(|| PlatformError::field("credit_code", format!("参保单位{credit_code}尚未登记")))
}

pub(super) fn employer_arrears(state: &mut State, credit_code: &str, from_text: &str) -> Result<Value, PlatformError> {
    let mut employer = employer_in_books(state, credit_code)?;
    let from = parse_month(from_text).map_err(|e| PlatformError::field("from_month", e.message))?;
    if let Some(since) = employer.arrears_from {
        return Err(PlatformError::rule(format!(
            "参保单位{credit_code}已登记自{}起欠费",
            month_of_period(since)?
        )));
    }
    // A month already run was collected: its books stand, and arrears start after it.
    if state
        .store
        .contribution_run(period_of(from), InsuranceType::EmployeeBasic)
        .map_err(db)?
        .is_some()
    {
        return Err(PlatformError::rule(format!(
            "{from_text}职工医保缴费已核定征收, 欠费应自尚未核定的月份起登记"
        )));
    }
    employer.arrears_from = Some(period_of(from));
    state.pending.push(WriteOp::UpsertEmployer(employer));
    Ok(json!({ "credit_code": credit_code, "arrears_from": from_text }))
}

/// The most months one back payment covers.
pub(super) const BACK_PAY_MONTHS_MAX: i64 = 120;

pub(super) fn employer_back_pay(
    state: &mut State,
    ctx: &AdminCtx,
    credit_code: &str,
    paid_on: NaiveDate,
) -> Result<Value, PlatformError> {
    let mut employer = employer_in_books(state, credit_code)?;
    let Some(since) = employer.arrears_from else {
        return Err(PlatformError::rule(format!("参保单位{credit_code}没有欠费")));
    };
    let first = month_of_period(since)?;
    let last = YearMonth::of(paid_on);
    if first.months_until(last) > BACK_PAY_MONTHS_MAX {
        return Err(PlatformError::rule(format!(
            "补缴跨度超过{BACK_PAY_MONTHS_MAX}个月, 请分段办理"
        )));
    }
    // Every month run since the arrears began is paid now, as the run would have charged it,
    // and booked when paid.
    let back_pay_id = ctx.ids.issue('B');
    let mut balances = rustc_hash::FxHashMap::default();
    let mut months = Vec::new();
    let mut persons = 0;
    let mut total = Money::ZERO;
    let mut month = first;
    while month <= last {
        if state
            .store
            .contribution_run(period_of(month), InsuranceType::EmployeeBasic)
            .map_err(db)?
            .is_some()
        {
            let policy = ctx.policy_on(month.first_day())?;
            let id = format!("{back_pay_id}-{month}");
            let charged = charge_employees(state, ctx, policy, month, &id, Some(&mut balances), &|row| {
                row.employer.as_deref() == Some(credit_code)
            })?;
            // A month its staff were suspended in owes nothing.
            if !charged.contributions.is_empty() {
                persons = persons.max(charged.contributions.len());
                total += charged.totals.employer + charged.totals.individual;
                months.push(month.to_string());
                charged.queue(state, policy, month.first_day(), &id, ctx.now)?;
            }
        }
        month = month.next();
    }
    // Its employees suspended for these arrears are paying again.
    let mut resumed = Vec::new();
    let suspended = state
        .store
        .suspended_of_employer(InsuranceType::EmployeeBasic, credit_code)
        .map_err(db)?;
    for row in suspended {
        let records: PersonRecords = serde_json::from_str(&row.doc_json)
            .map_err(|e| PlatformError::internal(format!("人员{}的参保记录无法解读: {e}", row.person_no)))?;
        let Some(r) = current_basic(&records).filter(|r| {
            r.history
                .last()
                .is_some_and(|p| p.status == Status::Suspended && p.reason.starts_with(ARREARS_REASON_PREFIX))
        }) else {
            continue;
        };
        let command = Command::Resume {
            relationship: r.no,
            on: paid_on.max(
                r.history
                    .last()
                    .ok_or_else(|| PlatformError::internal("参保关系没有参保期间".into()))?
                    .from,
            ),
        };
        execute(state, ctx, &row.certno, None, None, &command)?;
        resumed.push(row.person_no);
    }
    employer.arrears_from = None;
    state.pending.push(WriteOp::UpsertEmployer(employer));
    Ok(json!({
        "credit_code": credit_code,
        "back_pay_id": back_pay_id,
        "months": months,
        "employees": persons,
        "amount": total,
        "resumed": resumed,
    }))
}

/// The most persons one arrears check suspends (all in one transaction).
pub(super) const ARREARS_SUSPENSIONS_MAX: usize = 200_000;

pub(super) fn arrears_check(state: &mut State, ctx: &AdminCtx, month_text: &str) -> Result<Value, PlatformError> {
    let month = parse_month(month_text)?;
    let policy = ctx.policy_on(month.first_day())?;
    let grace = policy.employee.suspend_after_missed_months;
    // Paid through a month before `month - grace` at the latest: the store narrows the persons
    // down, enrolment decides (it knows when each relationship began).
    let months_index = month.year * 12 + month.month as i32 - 1 - grace as i32;
    let cutoff = YearMonth::new(months_index.div_euclid(12), months_index.rem_euclid(12) as u32 + 1)
        .ok_or_else(|| PlatformError::field("month", format!("月份{month_text}减去宽限期后无效")))?;
    let candidates = state
        .store
        .arrears_candidates(InsuranceType::EmployeeBasic, period_of(cutoff))
        .map_err(db)?;
    let mut suspended = Vec::new();
    for (certno, paid) in candidates {
        let Some((_, records)) = load(state, &certno)? else {
            continue;
        };
        let commands = yibao_enrol::arrears_suspensions_paid_through(
            &records,
            policy,
            month,
            paid.map(month_of_period).transpose()?,
        );
        for command in commands {
            if suspended.len() >= ARREARS_SUSPENSIONS_MAX {
                return Err(PlatformError::rule(format!(
                    "欠费暂停超过{ARREARS_SUSPENSIONS_MAX}人, 请核对缴费核定是否已全部完成"
                )));
            }
            let reason = match &command {
                Command::Suspend { reason, .. } => reason.clone(),
                _ => String::new(),
            };
            let answer = execute(state, ctx, &certno, None, None, &command)?;
            suspended.push(json!({ "person_no": answer["person_no"], "reason": reason }));
        }
    }
    Ok(json!({ "month": month_text, "grace_months": grace, "suspended": suspended }))
}
