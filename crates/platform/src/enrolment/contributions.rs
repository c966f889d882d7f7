//! Contributions: a resident's annual contribution at the counter, the monthly employee run
//! (核定征收) with its postings, and the contributions a command records.

use super::*;

/// The contribution rows and postings of contributions an enrolment command recorded: each is
/// booked as received into the pooled book of its relationship's scheme.
pub(super) fn recorded_contributions(
    ctx: &AdminCtx,
    policy: &ContributionPolicy,
    records: &PersonRecords,
    person_no: &str,
    received: &[yibao_enrol::ContributionRecord],
) -> Result<(Vec<ContributionRecord>, Vec<LedgerEntry>), PlatformError> {
    let mut rows = Vec::new();
    let mut entries = Vec::new();
    for c in received {
        let relationship = records
            .relationship(c.relationship)
            .ok_or_else(|| PlatformError::internal(format!("缴费记录的参保关系{}不存在", c.relationship)))?;
        let fund = match relationship.insurance {
            InsuranceType::EmployeeBasic => policy.funds.employee_pooled,
            InsuranceType::ResidentBasic => policy.funds.resident_pooled,
            InsuranceType::LargeExpenseSubsidy => policy.funds.large_expense,
            InsuranceType::ResidentCriticalIllness => policy.funds.resident_critical_illness,
            other => {
                return Err(PlatformError::rule(format!(
                    "{}的缴费不在缴费政策的基金账簿中, 不能在此登记",
                    other.name_zh()
                )))
            }
        };
        let pooled = book(fund)?;
        let month = books_month(c.paid_on)?;
        let mut postings = Vec::new();
        for (payer, amount) in [
            (Payer::Employer, c.employer_amount),
            (Payer::Individual, c.individual_amount),
        ] {
            if !amount.is_zero() {
                postings.push(Posting::contribution(pooled, month, payer, amount).map_err(books_err)?);
            }
        }
        let contribution_id = ctx.ids.issue('C');
        let lines = ledger_lines(&postings, &contribution_id, ctx.now);
        crate::ledger::assert_balanced(&lines);
        entries.extend(lines);
        let first = c.first_month.first_day();
        rows.push(ContributionRecord {
            contribution_id: contribution_id.clone(),
            run_id: contribution_id,
            person_no: person_no.to_owned(),
            employer: relationship.employer.as_ref().map(|e| e.as_str().to_owned()),
            insurance: relationship.insurance,
            period: first.year() * 100 + first.month() as i32,
            kind: match c.purpose {
                yibao_enrol::ContributionPurpose::Regular => "recorded",
                yibao_enrol::ContributionPurpose::LapseRepair => "lapse_repair",
            }
            .to_owned(),
            base: Money::ZERO,
            employer_amount: c.employer_amount,
            individual_amount: c.individual_amount,
            pooled_amount: c.employer_amount + c.individual_amount,
            account_amount: Money::ZERO,
            subsidy_amount: Money::ZERO,
            large_expense_amount: Money::ZERO,
            posted_at: ctx.now,
        });
    }
    Ok((rows, entries))
}

pub(super) fn resident_contribution(
    state: &mut State,
    ctx: &AdminCtx,
    certno: &str,
    paid_on: NaiveDate,
) -> Result<Value, PlatformError> {
    let policy = ctx.resident_policy_on(paid_on)?;
    let (row, records) = load(state, certno)?
        .ok_or_else(|| PlatformError::field("certno", format!("{}未在本统筹区参保", mask_certno(certno))))?;
    let relationship = records
        .relationships
        .iter()
        .filter(|r| r.insurance == InsuranceType::ResidentBasic)
        .max_by_key(|r| r.no)
        .ok_or_else(|| PlatformError::rule("参保人没有居民医保参保关系".into()))?;
    let tier = relationship
        .tier
        .ok_or_else(|| PlatformError::rule("居民医保参保关系没有缴费档次".into()))?;
    let county_class = relationship.county_class.clone().unwrap_or_default();
    let groups = records.groups_on(paid_on);
    let charge = resident_annual(
        policy,
        &ResidentContributionInput {
            tier,
            kind: relationship.kind,
            groups: &groups,
            county_class: &county_class,
        },
    )
    .map_err(|e| PlatformError::rule(e.to_string()))?;
    let period = charge.insurance_year * 100;
    if state
        .store
        .contributions_of_person(&row.person_no)
        .map_err(db)?
        .iter()
        .any(|c| c.period == period && c.kind == "resident")
    {
        return Err(PlatformError::rule(format!(
            "{}年度居民医保已缴费",
            charge.insurance_year
        )));
    }
    // The person's record of the contribution (continuity, waiting periods).
    let bad_year = || PlatformError::internal(format!("缴费年度{}无效", charge.insurance_year));
    let first = YearMonth::new(charge.insurance_year, 1).ok_or_else(bad_year)?;
    let last = YearMonth::new(charge.insurance_year, 12).ok_or_else(bad_year)?;
    let command = Command::RecordContribution(yibao_enrol::ContributionRecord {
        relationship: relationship.no,
        first_month: first,
        last_month: last,
        individual_amount: charge.individual_amount,
        employer_amount: Money::ZERO,
        paid_on,
        purpose: yibao_enrol::ContributionPurpose::Regular,
    });
    let applied = apply(&records, &command, policy).map_err(|e| PlatformError::rule(e.to_string()))?;
    let month = books_month(paid_on)?;
    let pooled = book(policy.funds.resident_pooled)?;
    let critical = book(policy.funds.resident_critical_illness)?;
    // What was received (the person's part and any sponsorship) and the subsidy due, each to
    // the resident pooled fund, then the critical-illness premium moved to its own book.
    let mut postings = Vec::new();
    let received = charge.personal_due + charge.sponsored_amount;
    if !received.is_zero() {
        postings.push(Posting::contribution(pooled, month, Payer::Individual, received).map_err(books_err)?);
    }
    for (level, amount) in &charge.subsidy.shares {
        if !amount.is_zero() {
            postings.push(
                Posting::fiscal_subsidy(pooled, month, books_level(*level), Receipt::Receivable, *amount)
                    .map_err(books_err)?,
            );
        }
    }
    if !charge.critical_illness_income.is_zero() {
        postings
            .push(Posting::fund_transfer(pooled, critical, month, charge.critical_illness_income).map_err(books_err)?);
    }
    let contribution_id = ctx.ids.issue('C');
    let entries = ledger_lines(&postings, &contribution_id, ctx.now);
    crate::ledger::assert_balanced(&entries);
    let record = ContributionRecord {
        contribution_id: contribution_id.clone(),
        run_id: contribution_id.clone(),
        person_no: row.person_no.clone(),
        employer: None,
        insurance: InsuranceType::ResidentBasic,
        period,
        kind: "resident".into(),
        base: Money::ZERO,
        employer_amount: Money::ZERO,
        individual_amount: charge.individual_amount,
        pooled_amount: charge.pooled_income,
        account_amount: Money::ZERO,
        subsidy_amount: charge.subsidy.total,
        large_expense_amount: Money::ZERO,
        posted_at: ctx.now,
    };
    write_person(state, ctx, &row.person_no, &applied.records, row.wage_base)?;
    state.pending.push(WriteOp::InsertContributions(vec![record]));
    state.pending.push(WriteOp::InsertLedger(entries));
    Ok(json!({
        "contribution_id": contribution_id,
        "insurance_year": charge.insurance_year,
        "individual_amount": charge.individual_amount,
        "sponsored_amount": charge.sponsored_amount,
        "personal_due": charge.personal_due,
        "subsidy": charge.subsidy.shares.iter().map(|(level, amount)| json!({ "level": level.name_zh(), "amount": amount })).collect::<Vec<_>>(),
        "subsidy_total": charge.subsidy.total,
        "pooled_income": charge.pooled_income,
        "critical_illness_income": charge.critical_illness_income,
    }))
}

pub(super) fn employee_kind(kind: &str) -> Option<EmployeeKind> {
    match kind {
        "in_service" => Some(EmployeeKind::InService),
        "retired" => Some(EmployeeKind::Retired),
        "flexible" => Some(EmployeeKind::Flexible),
        _ => None,
    }
}

/// The monthly employee run: every employee enrolled and paying is charged once for the month;
/// accounts are credited; the run's totals are posted per fund book. One batch: all or nothing.
pub(super) fn contribution_run(state: &mut State, ctx: &AdminCtx, month_text: &str) -> Result<Value, PlatformError> {
    let month = parse_month(month_text)?;
    let first_day = month.first_day();
    let policy = ctx.policy_on(first_day)?;
    let period = first_day.year() * 100 + first_day.month() as i32;
    if state
        .store
        .contribution_run(period, InsuranceType::EmployeeBasic)
        .map_err(db)?
        .is_some()
    {
        return Err(PlatformError::rule(format!(
            "{month_text}职工医保缴费已核定, 不能重复核定"
        )));
    }
    // The run records what is collected: nothing from an employer in arrears for the month.
    let in_arrears: rustc_hash::FxHashSet<String> = state
        .store
        .employers_in_arrears()
        .map_err(db)?
        .into_iter()
        .filter(|e| e.arrears_from.is_some_and(|from| from <= period))
        .map(|e| e.credit_code)
        .collect();
    let run_id = ctx.ids.issue('R');
    // One month: each person is credited once, so no balances to carry between months.
    let charged = charge_employees(state, ctx, policy, month, &run_id, None, &|row| {
        !row.employer.as_ref().is_some_and(|e| in_arrears.contains(e))
    })?;
    let totals = &charged.totals;
    let persons = charged.contributions.len();
    state
        .pending
        .push(WriteOp::InsertContributionRun(ContributionRunRecord {
            run_id: run_id.clone(),
            insurance: InsuranceType::EmployeeBasic,
            period,
            persons: persons as i64,
            employer_amount: totals.employer,
            individual_amount: totals.individual,
            pooled_amount: totals.pooled,
            account_amount: totals.account_from_contributions + totals.retiree_credit,
            run_at: ctx.now,
        }));
    let answer = json!({
        "run_id": run_id,
        "month": month_text,
        "employees": persons,
        "not_collected_in_arrears": charged.skipped,
        "employer_amount": totals.employer,
        "individual_amount": totals.individual,
        "pooled_income": totals.pooled,
        "account_credit": totals.account_from_contributions + totals.retiree_credit,
        "large_expense_amount": totals.large_expense,
        "retiree_credit": totals.retiree_credit,
    });
    charged.queue(state, policy, first_day, &run_id, ctx.now)?;
    Ok(answer)
}

/// What charging a month produced, not yet queued.
pub(super) struct Charged {
    pub(super) contributions: Vec<ContributionRecord>,
    /// (person, balance after the credit).
    account_ops: Vec<(String, Money)>,
    account_entries: Vec<AccountEntryRecord>,
    pub(super) totals: RunSums,
    /// Candidates enrolled in the month that `select` left out.
    skipped: usize,
}

impl Charged {
    /// Queues the contributions, account credits and postings, and updates the cache.
    pub(super) fn queue(
        self,
        state: &mut State,
        policy: &ContributionPolicy,
        first_day: NaiveDate,
        run_id: &str,
        now: NaiveDateTime,
    ) -> Result<(), PlatformError> {
        let entries = self.totals.postings(policy, first_day, run_id, now)?;
        for (person_no, balance) in &self.account_ops {
            state.set_cached_balance(person_no, *balance);
        }
        state.pending.push(WriteOp::InsertContributions(self.contributions));
        for (person_no, balance) in self.account_ops {
            state.pending.push(WriteOp::SetAccountBalance { person_no, balance });
        }
        state.pending.push(WriteOp::InsertAccountEntries(self.account_entries));
        state.pending.push(WriteOp::InsertLedger(entries));
        Ok(())
    }
}

/// Charges every employee-scheme candidate enrolled and paying during `month` that `select`
/// keeps, as the monthly run does: contributions with ids `{run_id}-00000001…`, account credits
/// on the current balances. Nothing is queued. `balances`, when several months are charged in
/// one request, carries the balances credited by the earlier ones (not yet in the cache or the
/// store).
pub(super) fn charge_employees(
    state: &mut State,
    ctx: &AdminCtx,
    policy: &ContributionPolicy,
    month: YearMonth,
    run_id: &str,
    mut balances: Option<&mut rustc_hash::FxHashMap<String, Money>>,
    select: &dyn Fn(&RunCandidate) -> bool,
) -> Result<Charged, PlatformError> {
    let first_day = month.first_day();
    let period = first_day.year() * 100 + first_day.month() as i32;
    let last_day = month.last_day();
    let mut out = Charged {
        contributions: Vec::new(),
        account_ops: Vec::new(),
        account_entries: Vec::new(),
        totals: RunSums::default(),
        skipped: 0,
    };
    let mut after = String::new();
    loop {
        let page = state
            .store
            .run_candidates(InsuranceType::EmployeeBasic, first_day, &after, RUN_PAGE_PERSONS)
            .map_err(db)?;
        let Some(last) = page.last() else { break };
        after = last.person_no.clone();
        let mut inputs: Vec<EmployeeContributionInput> = Vec::with_capacity(page.len());
        for (i, row) in page.iter().enumerate() {
            if !charged_in_month(row, first_day, last_day)? {
                continue;
            }
            let Some(kind) = employee_kind(&row.person_kind) else {
                continue;
            };
            if !select(row) {
                out.skipped += 1;
                continue;
            }
            inputs.push(EmployeeContributionInput {
                person_no: i as u64,
                kind,
                wage_monthly: row.wage_base.unwrap_or(Money::ZERO),
            });
        }
        let charges = monthly_employee_run(policy, &inputs, month);
        // Current balances: the cache's where it has the person (it is authoritative, it may be
        // ahead of the store by the batch in flight), else the store's, read with the page.
        for charge in &charges {
            let row = &page[charge.person_no as usize];
            // Zero-padded: ids sort in insertion order, so the index grows at its end.
            let contribution_id = format!("{run_id}-{:08}", out.contributions.len() + 1);
            let account_credit = charge.account_credit();
            out.totals.add(charge);
            out.contributions.push(ContributionRecord {
                contribution_id: contribution_id.clone(),
                run_id: run_id.to_owned(),
                person_no: row.person_no.clone(),
                employer: row.employer.clone(),
                insurance: InsuranceType::EmployeeBasic,
                period,
                kind: charge_kind(charge.kind).to_owned(),
                base: charge.base,
                employer_amount: charge.employer_amount,
                individual_amount: charge.individual_amount,
                pooled_amount: charge.pooled_income,
                account_amount: account_credit,
                subsidy_amount: Money::ZERO,
                large_expense_amount: charge.large_expense_amount,
                posted_at: ctx.now,
            });
            if !account_credit.is_zero() {
                let carried = balances.as_deref().and_then(|b| b.get(&row.person_no).copied());
                let before = carried
                    .or_else(|| state.cached_balance(&row.person_no))
                    .unwrap_or(row.account_balance);
                let balance = before + account_credit;
                if let Some(b) = balances.as_deref_mut() {
                    b.insert(row.person_no.clone(), balance);
                }
                out.account_ops.push((row.person_no.clone(), balance));
                out.account_entries.push(AccountEntryRecord {
                    entry_id: format!("{contribution_id}-A"),
                    person_no: row.person_no.clone(),
                    posted_at: ctx.now,
                    kind: "credit".into(),
                    amount: account_credit,
                    balance_after: balance,
                    reference: contribution_id,
                    counterparty: None,
                });
            }
        }
        if (page.len() as i64) < RUN_PAGE_PERSONS {
            break;
        }
    }
    Ok(out)
}

/// Whether a candidate is charged for the month `[first, last]`: enrolled and paying on some
/// day of it. Most candidates have been 正常参保 since before the month; for the others the
/// store gives their history and it decides.
pub(super) fn charged_in_month(row: &RunCandidate, first: NaiveDate, last: NaiveDate) -> Result<bool, PlatformError> {
    if row.status == "1" && row.status_from <= first {
        return Ok(true);
    }
    let Some(doc) = &row.doc_json else {
        return Ok(false);
    };
    let records: PersonRecords = serde_json::from_str(doc)
        .map_err(|e| PlatformError::internal(format!("人员{}的参保记录无法解读: {e}", row.person_no)))?;
    Ok(records.relationships.iter().any(|r| {
        r.insurance == InsuranceType::EmployeeBasic
            && r.history
                .iter()
                .any(|p| p.status == Status::Enrolled && p.overlaps(first, Some(last)))
    }))
}

/// A run's totals, split the way the books record them.
#[derive(Default)]
pub(super) struct RunSums {
    pub(super) employer: Money,
    pub(super) individual: Money,
    pooled: Money,
    /// The account part of the contributions, attributed to the individual first (since the
    /// 门诊共济 reform the in-service account is the individual contribution), the rest to the
    /// employer.
    account_from_individual: Money,
    account_from_employer: Money,
    account_from_contributions: Money,
    large_expense: Money,
    retiree_credit: Money,
}

impl RunSums {
    fn add(&mut self, c: &yibao_enrol::ContributionCharge) {
        self.employer += c.employer_amount;
        self.individual += c.individual_amount;
        self.pooled += c.pooled_income;
        let from_individual = c.account_income.min(c.individual_amount);
        self.account_from_individual += from_individual;
        self.account_from_employer += c.account_income - from_individual;
        self.account_from_contributions += c.account_income;
        self.large_expense += c.large_expense_amount;
        self.retiree_credit += c.retiree_credit;
    }

    fn postings(
        &self,
        policy: &ContributionPolicy,
        day: NaiveDate,
        run_id: &str,
        at: NaiveDateTime,
    ) -> Result<Vec<LedgerEntry>, PlatformError> {
        let month = books_month(day)?;
        let pooled = book(policy.funds.employee_pooled)?;
        let account = book(policy.funds.employee_account)?;
        let large = book(policy.funds.large_expense)?;
        let mut postings = Vec::new();
        for (payer, to_pooled, to_account) in [
            (
                Payer::Employer,
                self.employer - self.account_from_employer,
                self.account_from_employer,
            ),
            (
                Payer::Individual,
                self.individual - self.account_from_individual,
                self.account_from_individual,
            ),
        ] {
            match (to_pooled.is_zero(), to_account.is_zero()) {
                (true, true) => {}
                (false, true) => {
                    postings.push(Posting::contribution(pooled, month, payer, to_pooled).map_err(books_err)?)
                }
                (true, false) => {
                    postings.push(Posting::contribution(account, month, payer, to_account).map_err(books_err)?)
                }
                (false, false) => postings
                    .push(Posting::contribution_split(pooled, month, payer, to_pooled, to_account).map_err(books_err)?),
            }
        }
        if !self.large_expense.is_zero() {
            postings
                .push(Posting::contribution(large, month, Payer::Individual, self.large_expense).map_err(books_err)?);
        }
        if !self.retiree_credit.is_zero() {
            postings.push(Posting::fund_transfer(pooled, account, month, self.retiree_credit).map_err(books_err)?);
        }
        let entries = ledger_lines(&postings, run_id, at);
        crate::ledger::assert_balanced(&entries);
        Ok(entries)
    }
}

/// The `kind` a run's contribution row is stored with.
pub(super) fn charge_kind(kind: EmployeeKind) -> &'static str {
    match kind {
        EmployeeKind::InService => "employee",
        EmployeeKind::Retired => "retiree",
        EmployeeKind::Flexible => "flexible",
    }
}
