//! Enrolment, contributions, personal accounts and fund indicators on the platform thread.
//!
//! The rules are `yibao_enrol` (pure: one person's records + a command → new records) and
//! `yibao_books` (postings, indicators); this module loads what they need from the store, runs
//! them, and queues the writes in the batch being built, so that a business record, the
//! settlement view of the person, the account and the fund postings land in one transaction.
//! Like every request on this thread, each operation checks everything before it queues a write;
//! the caller truncates the queued writes of a refused request.
//!
//! Two records per person are kept in step: the enrolment document (the person's whole
//! enrolment history, `EnrolmentRecord::doc_json`) and the settlement view (`PersonRecord`:
//! scheme, person type, status, benefits start, account balance), which is what settlement
//! reads on the hot path.

use chrono::{Datelike, NaiveDate, NaiveDateTime};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use yibao_books::{Book, GovernmentLevel as BooksLevel, Month, Payer, Period, Posting, Receipt};
use yibao_codes::{InsuranceType, PersonType, SpecialGroup, Tier};
use yibao_enrol::{
    apply, coverage_on, monthly_employee_run, resident_annual, Command, ContributionPolicy, EmployeeContributionInput,
    EmployeeKind, Enrolment, GovernmentLevel, Person, PersonKind, PersonRecords, RegionCode, ResidentContributionInput,
    Status, YearMonth,
};
use yibao_money::Money;
use yibao_store::{
    AccountEntryRecord, ContributionRecord, ContributionRunRecord, EmployerRecord, EnrolmentRecord, LedgerEntry,
    PersonRecord, RunCandidate, WriteOp,
};

use crate::ids::IdGenerator;
use crate::service::Region;
use crate::state::State;
use crate::PlatformError;

/// Enrolments read per page of a contribution run.
pub const RUN_PAGE_PERSONS: i64 = 4096;
/// Rows one enrolment import may hold (all or none are applied, in one transaction).
pub const IMPORT_ROWS_MAX: usize = 2_000_000;
/// Errors reported per import before the rest are only counted.
pub const IMPORT_ERRORS_REPORTED_MAX: usize = 1000;

/// An administrative request to the platform (the admin API and the batch commands).
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(rename_all = "snake_case", tag = "request")]
pub enum AdminRequest {
    /// 参保单位登记.
    RegisterEmployer {
        credit_code: String,
        name: String,
        registered_on: NaiveDate,
    },
    /// 参保单位批量登记: all rows or none.
    ImportEmployers { rows: Vec<EmployerRow> },
    /// One enrolment command for a person (参保登记、暂停、恢复、终止、转出、转入、缴费记录…).
    /// `name` is needed for a person not yet known; `wage_monthly` sets the declared wage the
    /// monthly run charges on.
    Execute {
        certno: String,
        #[serde(default)]
        name: Option<String>,
        #[serde(default)]
        wage_monthly: Option<Money>,
        command: Command,
    },
    /// A person's enrolment, settlement view and account.
    Person { certno: String },
    /// Whether a person is covered by a scheme on a date, and why not.
    Coverage {
        certno: String,
        insurance: InsuranceType,
        date: NaiveDate,
    },
    /// A resident's annual contribution (居民医保年度缴费): individual part (or sponsorship) and
    /// the fiscal subsidy by level of government, booked to the resident funds.
    ResidentContribution { certno: String, paid_on: NaiveDate },
    /// The monthly employee contribution run (职工医保月度核定) for `YYYY-MM`.
    ContributionRun { month: String },
    /// Bulk enrolment: all rows or none.
    Import { rows: Vec<ImportRow> },
    /// Fund indicators and warnings for a year.
    Indicators { year: i32 },
    /// 结账: closes a month (`YYYY-MM`) or a year (`YYYY`) that has ended, carrying each fund's
    /// income and expense into its fund balance.
    ClosePeriod { period: String },
    /// 单位欠费登记: from `from_month` (`YYYY-MM`, not yet run) the monthly run collects
    /// nothing from the employer, until it pays back.
    EmployerArrears { credit_code: String, from_month: String },
    /// 欠费补缴: the employer pays every month run since its arrears began; its employees
    /// suspended for the arrears are resumed from `paid_on`.
    EmployerBackPay { credit_code: String, paid_on: NaiveDate },
    /// 欠费暂停: suspends, from the first day of `month` (`YYYY-MM`), every paying employee and
    /// flexible worker whose contributions have been missing longer than the policy's grace.
    ArrearsCheck { month: String },
}

/// One employer of an employer import (line for errors).
#[derive(Clone, Debug, Deserialize, Serialize)]
pub struct EmployerRow {
    pub line: u64,
    pub credit_code: String,
    pub name: String,
    pub registered_on: NaiveDate,
}

/// One row of an enrolment import, as read from the file (line for errors).
#[derive(Clone, Debug, Deserialize, Serialize)]
pub struct ImportRow {
    pub line: u64,
    pub certno: String,
    pub name: String,
    pub insurance: InsuranceType,
    pub kind: PersonKind,
    pub employer: Option<String>,
    pub wage_monthly: Option<Money>,
    pub tier: Option<Tier>,
    pub county_class: Option<String>,
    pub applied_on: NaiveDate,
}

/// Runs one administrative request.
pub fn handle(
    state: &mut State,
    region: &Region,
    ids: &IdGenerator,
    now: NaiveDateTime,
    request: AdminRequest,
) -> Result<Value, PlatformError> {
    let ctx = AdminCtx { region, ids, now };
    match request {
        AdminRequest::RegisterEmployer {
            credit_code,
            name,
            registered_on,
        } => register_employer(state, &ctx, &credit_code, &name, registered_on),
        AdminRequest::ImportEmployers { rows } => import_employers(state, &ctx, &rows),
        AdminRequest::Execute {
            certno,
            name,
            wage_monthly,
            command,
        } => execute(state, &ctx, &certno, name.as_deref(), wage_monthly, &command),
        AdminRequest::Person { certno } => person(state, &certno),
        AdminRequest::Coverage {
            certno,
            insurance,
            date,
        } => coverage(state, &certno, insurance, date),
        AdminRequest::ResidentContribution { certno, paid_on } => resident_contribution(state, &ctx, &certno, paid_on),
        AdminRequest::ContributionRun { month } => contribution_run(state, &ctx, &month),
        AdminRequest::Import { rows } => import(state, &ctx, &rows),
        AdminRequest::Indicators { year } => indicators(state, &ctx, year),
        AdminRequest::ClosePeriod { period } => crate::close::close_period(state, ctx.now, &period),
        AdminRequest::EmployerArrears {
            credit_code,
            from_month,
        } => employer_arrears(state, &credit_code, &from_month),
        AdminRequest::EmployerBackPay { credit_code, paid_on } => employer_back_pay(state, &ctx, &credit_code, paid_on),
        AdminRequest::ArrearsCheck { month } => arrears_check(state, &ctx, &month),
    }
}

struct AdminCtx<'a> {
    region: &'a Region,
    ids: &'a IdGenerator,
    now: NaiveDateTime,
}

impl AdminCtx<'_> {
    fn policy_on(&self, date: NaiveDate) -> Result<&ContributionPolicy, PlatformError> {
        self.region.contribution_on(date)
    }

    /// For resident enrolment and payment: the version whose collection window holds `date`
    /// (the window of an insurance year opens months before the year, and its policy), else
    /// the version in force on `date`.
    fn resident_policy_on(&self, date: NaiveDate) -> Result<&ContributionPolicy, PlatformError> {
        match self
            .region
            .contribution
            .iter()
            .find(|p| p.resident.collection_window.contains(date))
        {
            Some(p) => Ok(p.as_ref()),
            None => self.policy_on(date),
        }
    }

    /// The version a command is decided under.
    fn policy_for(&self, command: &Command) -> Result<&ContributionPolicy, PlatformError> {
        match command {
            Command::Enrol(e) if e.insurance == InsuranceType::ResidentBasic => self.resident_policy_on(e.applied_on),
            _ => self.policy_on(command_date(command)),
        }
    }

    fn today(&self) -> NaiveDate {
        self.now.date()
    }
}

fn db(e: yibao_store::StoreError) -> PlatformError {
    PlatformError::internal(e.to_string())
}

fn register_employer(
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

fn import_employers(state: &mut State, ctx: &AdminCtx, rows: &[EmployerRow]) -> Result<Value, PlatformError> {
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

/// The person's enrolment row and records, if enrolled here.
fn load(state: &mut State, certno: &str) -> Result<Option<(EnrolmentRecord, PersonRecords)>, PlatformError> {
    let Some(row) = state.store.enrolment(certno).map_err(db)? else {
        return Ok(None);
    };
    let records: PersonRecords = serde_json::from_str(&row.doc_json)
        .map_err(|e| PlatformError::internal(format!("参保人{}的参保记录无法解读: {e}", mask_certno(certno))))?;
    Ok(Some((row, records)))
}

fn mask_certno(certno: &str) -> String {
    crate::actor::mask(certno)
}

fn execute(
    state: &mut State,
    ctx: &AdminCtx,
    certno: &str,
    name: Option<&str>,
    wage_monthly: Option<Money>,
    command: &Command,
) -> Result<Value, PlatformError> {
    let policy = ctx.policy_for(command)?;
    if let Some(w) = wage_monthly {
        if w.is_negative() {
            return Err(PlatformError::field("wage_monthly", "缴费工资不能为负".into()));
        }
    }
    let existing = load(state, certno)?;
    let records = match &existing {
        Some((_, r)) => r.clone(),
        None => {
            let name = name.ok_or_else(|| PlatformError::field("name", "新参保人须填写姓名".into()))?;
            PersonRecords::new(Person::new(certno, name).map_err(|e| PlatformError::field("certno", e.to_string()))?)
        }
    };
    if let Command::Enrol(Enrolment {
        employer: Some(code), ..
    }) = command
    {
        if state.store.employer(code.as_str()).map_err(db)?.is_none() {
            return Err(PlatformError::field(
                "command.employer",
                format!("参保单位{}尚未登记", code.as_str()),
            ));
        }
    }
    let applied = apply(&records, command, policy).map_err(|e| PlatformError::rule(e.to_string()))?;
    let previous = existing.as_ref().map(|(row, _)| row);
    let person_no = person_no_for(state, ctx, certno, previous)?;
    // A family binding also changes the member's settlement view: whose account pays for them.
    let member_view = family_member_view(state, &person_no, command)?;
    let wage = wage_monthly.or(previous.and_then(|r| r.wage_base));
    // Money a command records (a contribution paid at the counter, a lapse repaired) is booked
    // with it: enrolment only appends contributions, so the new ones are the tail.
    let received = &applied.records.contributions[records.contributions.len()..];
    let (rows, entries) = recorded_contributions(ctx, policy, &applied.records, &person_no, received)?;
    let person = write_person(state, ctx, &person_no, &applied.records, wage)?;
    if let Some(member) = member_view {
        state.pending.push(WriteOp::UpsertPerson(member.clone()));
        state.put_person(member);
    }
    if !rows.is_empty() {
        state.pending.push(WriteOp::InsertContributions(rows));
        state.pending.push(WriteOp::InsertLedger(entries));
    }
    Ok(json!({
        "person_no": person_no,
        "psn_insu_stas": person.status,
        "benefits_from": person.benefits_from,
        "events": applied.events,
    }))
}

/// The contribution rows and postings of contributions an enrolment command recorded: each is
/// booked as received into the pooled book of its relationship's scheme.
fn recorded_contributions(
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

/// The day a command takes effect: it decides the policy version that applies.
fn command_date(command: &Command) -> NaiveDate {
    match command {
        Command::Enrol(e) => e.applied_on,
        Command::Suspend { on, .. }
        | Command::Resume { on, .. }
        | Command::Terminate { on, .. }
        | Command::TransferOut { on, .. }
        | Command::LeaveGroup { on, .. }
        | Command::BindFamily { on, .. }
        | Command::UnbindFamily { on, .. } => *on,
        Command::TransferIn(t) => t.on,
        Command::RecordContribution(c) => c.paid_on,
        Command::RepairLapse { paid_on, .. } => *paid_on,
        Command::JoinGroup(g) => g.from,
    }
}

/// The member's settlement view after a family binding command of `owner` (`None` for other
/// commands). The rule across persons is checked here: a member is paid for by one account at a
/// time, so a settlement always knows whose.
fn family_member_view(
    state: &mut State,
    owner: &str,
    command: &Command,
) -> Result<Option<PersonRecord>, PlatformError> {
    let (member, bind) = match command {
        Command::BindFamily { member, .. } => (member, true),
        Command::UnbindFamily { member, .. } => (member, false),
        _ => return Ok(None),
    };
    let mut view = state
        .person_by_certno(member.as_str())?
        .map(|e| e.record.clone())
        .ok_or_else(|| {
            PlatformError::field(
                "command.member",
                format!("{}未在本统筹区参保,不能绑定家庭共济", member.masked()),
            )
        })?;
    if bind {
        if let Some(payer) = view.family_payer.as_deref().filter(|p| *p != owner) {
            let payer_certno = state
                .person(payer)?
                .map(|e| e.record.certno.clone())
                .unwrap_or_default();
            return Err(PlatformError::field(
                "command.member",
                format!(
                    "{}已绑定{}的个人账户家庭共济,须先解除",
                    member.masked(),
                    mask_certno(&payer_certno)
                ),
            ));
        }
        view.family_payer = Some(owner.to_owned());
    } else if view.family_payer.as_deref() == Some(owner) {
        view.family_payer = None;
    }
    Ok(Some(view))
}

/// The person number: the enrolment's, else the settlement record's (a person the platform knew
/// before enrolment was kept here, e.g. the demo region), else a new one.
fn person_no_for(
    state: &mut State,
    ctx: &AdminCtx,
    certno: &str,
    previous: Option<&EnrolmentRecord>,
) -> Result<String, PlatformError> {
    if let Some(row) = previous {
        return Ok(row.person_no.clone());
    }
    if let Some(entry) = state.person_by_certno(certno)? {
        return Ok(entry.record.person_no.clone());
    }
    Ok(ctx.ids.issue('P'))
}

/// The scheme the settlement view shows: the basic relationship (310/390) whose latest period
/// starts last.
fn current_basic(records: &PersonRecords) -> Option<&yibao_enrol::Relationship> {
    records
        .relationships
        .iter()
        .filter(|r| matches!(r.insurance, InsuranceType::EmployeeBasic | InsuranceType::ResidentBasic))
        .max_by_key(|r| (r.history.last().map(|p| p.from), r.no))
}

fn status_code(status: Status) -> &'static str {
    match status {
        Status::Enrolled => "1",
        Status::Suspended => "2",
        Status::Terminated => "4",
    }
}

fn kind_text(kind: PersonKind) -> String {
    serde_json::to_value(kind)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

/// Builds and queues the settlement view and the enrolment row of a person; updates the cache.
fn write_person(
    state: &mut State,
    ctx: &AdminCtx,
    person_no: &str,
    records: &PersonRecords,
    wage: Option<Money>,
) -> Result<PersonRecord, PlatformError> {
    // The account balance is the platform's (cached or stored), never the caller's.
    let known = state.person(person_no)?.map(|entry| entry.record.clone());
    let employer_name = match current_basic(records).and_then(|r| r.employer.as_ref()) {
        Some(code) => state
            .store
            .employer(code.as_str())
            .map_err(db)?
            .map(|e| e.name)
            .unwrap_or_default(),
        None => String::new(),
    };
    let (enrolment, person) = person_rows(ctx, person_no, records, wage, known.as_ref(), employer_name)?;
    state.pending.push(WriteOp::UpsertPerson(person.clone()));
    state.pending.push(WriteOp::UpsertEnrolment(enrolment));
    state.put_person(person.clone());
    Ok(person)
}

/// The enrolment row and the settlement view of a person from their enrolment records. `known`
/// is the person's settlement view so far, if any: its account balance and ethnicity are kept.
fn person_rows(
    ctx: &AdminCtx,
    person_no: &str,
    records: &PersonRecords,
    wage: Option<Money>,
    known: Option<&PersonRecord>,
    employer_name: String,
) -> Result<(EnrolmentRecord, PersonRecord), PlatformError> {
    let basic = current_basic(records).ok_or_else(|| PlatformError::rule("参保人没有基本医疗保险参保关系".into()))?;
    let no_period = || PlatformError::internal("参保关系没有参保期间".into());
    let latest = basic.history.last().ok_or_else(no_period)?;
    let enrolled_on = basic.history.first().ok_or_else(no_period)?.from;
    let benefits_from = basic
        .history
        .iter()
        .rev()
        .find(|p| p.status == Status::Enrolled)
        .and_then(|p| p.benefits_from.filter(|b| *b > p.from));
    let groups: Vec<SpecialGroup> = records.groups_on(ctx.today().max(latest.from));
    let civil_servant = records.relationships.iter().any(|r| {
        r.insurance == InsuranceType::CivilServantSubsidy
            && r.history.last().is_some_and(|p| p.status == Status::Enrolled)
    });
    let doc_json = serde_json::to_string(records).map_err(|e| PlatformError::internal(e.to_string()))?;
    let person = PersonRecord {
        person_no: person_no.to_owned(),
        certno: records.person.id.as_str().to_owned(),
        name: records.person.name.clone(),
        sex: records.person.sex,
        birth_date: records.person.birth_date,
        ethnicity: known.map_or_else(|| "01".to_owned(), |p| p.ethnicity.clone()),
        insurance: basic.insurance,
        person_type: PersonType::from_category(basic.kind.category()),
        tier: basic.tier,
        groups,
        civil_servant,
        insured_admdvs: basic.region.as_str().to_owned(),
        employer_name,
        status: status_code(latest.status).to_owned(),
        enrolled_on,
        benefits_from,
        account_balance: known.map_or(Money::ZERO, |p| p.account_balance),
        family_payer: known.and_then(|p| p.family_payer.clone()),
    };
    let enrolment = EnrolmentRecord {
        certno: person.certno.clone(),
        person_no: person_no.to_owned(),
        insurance: basic.insurance,
        status: person.status.clone(),
        status_from: latest.from,
        person_kind: kind_text(basic.kind),
        employer: basic.employer.as_ref().map(|c| c.as_str().to_owned()),
        wage_base: wage,
        doc_json,
        updated_at: ctx.now,
    };
    Ok((enrolment, person))
}

/// Why enrolment says a person is not covered by `insurance` on `date` (the reason settlement
/// gives), or `None` when the person is covered or has no enrolment records here.
pub fn not_covered_reason(
    state: &mut State,
    certno: &str,
    insurance: InsuranceType,
    date: NaiveDate,
) -> Result<Option<String>, PlatformError> {
    let Some((_, records)) = load(state, certno)? else {
        return Ok(None);
    };
    Ok(coverage_on(&records, insurance, date).err().map(|why| why.message_zh()))
}

fn person(state: &mut State, certno: &str) -> Result<Value, PlatformError> {
    let (row, records) = load(state, certno)?
        .ok_or_else(|| PlatformError::field("certno", format!("{}未在本统筹区参保", mask_certno(certno))))?;
    let view = state
        .person(&row.person_no)?
        .map(|e| e.record.clone())
        .ok_or_else(|| PlatformError::internal(format!("人员{}的结算信息缺失", row.person_no)))?;
    let entries = state.store.account_entries_of_person(&row.person_no).map_err(db)?;
    let contributions = state.store.contributions_of_person(&row.person_no).map_err(db)?;
    Ok(json!({
        "person_no": row.person_no,
        "insutype": row.insurance.code(),
        "psn_insu_stas": row.status,
        "person_kind": row.person_kind,
        "employer": row.employer,
        "wage_monthly": row.wage_base,
        "benefits_from": view.benefits_from,
        "account_balance": view.account_balance,
        // Whose account pays for this person by family mutual aid (their person_no), if any.
        "family_payer": view.family_payer,
        "account_entries": entries.iter().map(|e| json!({
            "entry_id": e.entry_id, "posted_at": e.posted_at, "kind": e.kind, "amount": e.amount,
            "balance_after": e.balance_after, "reference": e.reference, "counterparty": e.counterparty,
        })).collect::<Vec<_>>(),
        "contributions": contributions.iter().map(|c| json!({
            "contribution_id": c.contribution_id, "period": c.period, "kind": c.kind, "insutype": c.insurance.code(),
            "base": c.base, "employer_amount": c.employer_amount, "individual_amount": c.individual_amount,
            "pooled_amount": c.pooled_amount, "account_amount": c.account_amount, "subsidy_amount": c.subsidy_amount,
        })).collect::<Vec<_>>(),
        "records": records,
    }))
}

fn coverage(
    state: &mut State,
    certno: &str,
    insurance: InsuranceType,
    date: NaiveDate,
) -> Result<Value, PlatformError> {
    let (_, records) = load(state, certno)?
        .ok_or_else(|| PlatformError::field("certno", format!("{}未在本统筹区参保", mask_certno(certno))))?;
    Ok(match coverage_on(&records, insurance, date) {
        Ok(c) => json!({
            "covered": true, "insutype": insurance.code(), "date": date, "benefits_from": c.benefits_from,
            "psn_type": c.person_type().code(), "relationship": c.relationship,
        }),
        Err(why) => json!({
            "covered": false, "insutype": insurance.code(), "date": date, "reason": why.message_zh(), "detail": why,
        }),
    })
}

/// A book of the policy's fund mapping, as the books know it.
fn book(code: yibao_codes::FundPayType) -> Result<Book, PlatformError> {
    Book::from_code(code.code()).map_err(|e| PlatformError::internal(format!("缴费政策的基金账簿{}: {e}", code.code())))
}

fn books_month(date: NaiveDate) -> Result<Month, PlatformError> {
    Month::new(date.year() as u16, date.month() as u8).map_err(|e| PlatformError::internal(e.to_string()))
}

/// Stored ledger lines of postings, all under one reference (`run_id`, a contribution id).
fn ledger_lines(postings: &[Posting], reference: &str, at: NaiveDateTime) -> Vec<LedgerEntry> {
    let mut out = Vec::new();
    for (n, posting) in postings.iter().enumerate() {
        for e in posting.entries() {
            out.push(LedgerEntry {
                posting_id: format!("{reference}-{n}"),
                book: e.book.code().to_owned(),
                account: e.account.id().to_owned(),
                debit: e.debit(),
                credit: e.credit(),
                settlement_id: reference.to_owned(),
                posted_at: at,
            });
        }
    }
    out
}

fn books_err(e: yibao_books::BooksError) -> PlatformError {
    PlatformError::internal(format!("记账失败: {e}"))
}

fn books_level(level: GovernmentLevel) -> BooksLevel {
    match level {
        GovernmentLevel::Central => BooksLevel::Central,
        GovernmentLevel::Province => BooksLevel::Provincial,
        GovernmentLevel::City => BooksLevel::Municipal,
        GovernmentLevel::County => BooksLevel::County,
    }
}

fn resident_contribution(
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

fn parse_month(text: &str) -> Result<YearMonth, PlatformError> {
    let bad = || {
        PlatformError::field(
            "month",
            format!("“{}”应为YYYY-MM", text.chars().take(20).collect::<String>()),
        )
    };
    let (y, m) = text.split_once('-').ok_or_else(bad)?;
    let (y, m) = (
        y.parse::<i32>().map_err(|_| bad())?,
        m.parse::<u32>().map_err(|_| bad())?,
    );
    if !(1900..=9999).contains(&y) {
        return Err(bad());
    }
    YearMonth::new(y, m).ok_or_else(bad)
}

fn employee_kind(kind: &str) -> Option<EmployeeKind> {
    match kind {
        "in_service" => Some(EmployeeKind::InService),
        "retired" => Some(EmployeeKind::Retired),
        "flexible" => Some(EmployeeKind::Flexible),
        _ => None,
    }
}

/// The monthly employee run: every employee enrolled and paying is charged once for the month;
/// accounts are credited; the run's totals are posted per fund book. One batch: all or nothing.
fn contribution_run(state: &mut State, ctx: &AdminCtx, month_text: &str) -> Result<Value, PlatformError> {
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
struct Charged {
    contributions: Vec<ContributionRecord>,
    /// (person, balance after the credit).
    account_ops: Vec<(String, Money)>,
    account_entries: Vec<AccountEntryRecord>,
    totals: RunSums,
    /// Candidates enrolled in the month that `select` left out.
    skipped: usize,
}

impl Charged {
    /// Queues the contributions, account credits and postings, and updates the cache.
    fn queue(
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
fn charge_employees(
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

/// The reason enrolment records for a suspension for arrears starts with this.
const ARREARS_REASON_PREFIX: &str = "连续欠缴";

fn period_of(month: YearMonth) -> i32 {
    month.year * 100 + month.month as i32
}

fn month_of_period(period: i32) -> Result<YearMonth, PlatformError> {
    YearMonth::new(period / 100, (period % 100) as u32)
        .ok_or_else(|| PlatformError::internal(format!("存储的月份{period}无效")))
}

fn employer_in_books(state: &mut State, credit_code: &str) -> Result<EmployerRecord, PlatformError> {
    state
        .store
        .employer(credit_code)
        .map_err(db)?
        .ok_or_else(|| PlatformError::field("credit_code", format!("参保单位{credit_code}尚未登记")))
}

fn employer_arrears(state: &mut State, credit_code: &str, from_text: &str) -> Result<Value, PlatformError> {
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
const BACK_PAY_MONTHS_MAX: i64 = 120;

fn employer_back_pay(
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
const ARREARS_SUSPENSIONS_MAX: usize = 200_000;

fn arrears_check(state: &mut State, ctx: &AdminCtx, month_text: &str) -> Result<Value, PlatformError> {
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

/// Whether a candidate is charged for the month `[first, last]`: enrolled and paying on some
/// day of it. Most candidates have been 正常参保 since before the month; for the others the
/// store gives their history and it decides.
fn charged_in_month(row: &RunCandidate, first: NaiveDate, last: NaiveDate) -> Result<bool, PlatformError> {
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
struct RunSums {
    employer: Money,
    individual: Money,
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
fn charge_kind(kind: EmployeeKind) -> &'static str {
    match kind {
        EmployeeKind::InService => "employee",
        EmployeeKind::Retired => "retiree",
        EmployeeKind::Flexible => "flexible",
    }
}

/// Enrols every row or none: each row is checked (citizen ID, employer registered, not
/// enrolled here already, not twice in the file, the enrolment rules); any error refuses the
/// whole file, with every error's line (up to [`IMPORT_ERRORS_REPORTED_MAX`]).
fn import(state: &mut State, ctx: &AdminCtx, rows: &[ImportRow]) -> Result<Value, PlatformError> {
    if rows.len() > IMPORT_ROWS_MAX {
        return Err(PlatformError::rule(format!(
            "导入{}行, 超过上限{IMPORT_ROWS_MAX}行",
            rows.len()
        )));
    }
    let region = RegionCode::parse(&ctx.region.admdvs).map_err(|e| PlatformError::internal(e.to_string()))?;
    let mut errors: Vec<String> = Vec::new();
    let mut error_count = 0usize;
    let mut fail = |line: u64, message: String, errors: &mut Vec<String>| {
        error_count += 1;
        if errors.len() < IMPORT_ERRORS_REPORTED_MAX {
            errors.push(format!("第{line}行: {message}"));
        }
    };
    // Duplicates inside the file, and people already enrolled or known here.
    let mut seen: rustc_hash::FxHashMap<&str, u64> = rustc_hash::FxHashMap::default();
    for row in rows {
        if let Some(first) = seen.insert(row.certno.as_str(), row.line) {
            fail(row.line, format!("证件号码与第{first}行重复(重复参保)"), &mut errors);
        }
    }
    let certnos: Vec<&str> = rows.iter().map(|r| r.certno.as_str()).collect();
    let mut enrolled: rustc_hash::FxHashSet<String> = rustc_hash::FxHashSet::default();
    let mut known: rustc_hash::FxHashMap<String, PersonRecord> = rustc_hash::FxHashMap::default();
    for chunk in certnos.chunks(yibao_store::MESSAGES_LOOKUP_MAX) {
        enrolled.extend(
            state
                .store
                .enrolments_of(chunk)
                .map_err(db)?
                .into_iter()
                .map(|e| e.certno),
        );
    }
    let employers: rustc_hash::FxHashMap<String, String> = {
        let mut codes: Vec<&str> = rows.iter().filter_map(|r| r.employer.as_deref()).collect();
        codes.sort_unstable();
        codes.dedup();
        let mut out = rustc_hash::FxHashMap::default();
        for code in codes {
            if let Some(e) = state.store.employer(code).map_err(db)? {
                out.insert(e.credit_code, e.name);
            }
        }
        out
    };
    let mut applied_rows: Vec<(&ImportRow, PersonRecords)> = Vec::with_capacity(rows.len());
    for row in rows {
        if enrolled.contains(&row.certno) {
            fail(row.line, "已在本统筹区参保(重复参保)".into(), &mut errors);
            continue;
        }
        let person = match Person::new(&row.certno, &row.name) {
            Ok(p) => p,
            Err(e) => {
                fail(row.line, e.to_string(), &mut errors);
                continue;
            }
        };
        let employer = match &row.employer {
            Some(code) => match yibao_enrol::CreditCode::parse(code) {
                Ok(c) if employers.contains_key(c.as_str()) => Some(c),
                Ok(c) => {
                    fail(row.line, format!("参保单位{}尚未登记", c.as_str()), &mut errors);
                    continue;
                }
                Err(e) => {
                    fail(row.line, e.to_string(), &mut errors);
                    continue;
                }
            },
            None => None,
        };
        if row.wage_monthly.is_some_and(Money::is_negative) {
            fail(row.line, "缴费工资不能为负".into(), &mut errors);
            continue;
        }
        let command = Command::Enrol(Enrolment {
            insurance: row.insurance,
            region: region.clone(),
            employer,
            kind: row.kind,
            tier: row.tier,
            county_class: row.county_class.clone(),
            applied_on: row.applied_on,
            repaired_years: 0,
        });
        let decided = if row.insurance == InsuranceType::ResidentBasic {
            ctx.resident_policy_on(row.applied_on)
        } else {
            ctx.policy_on(row.applied_on)
        };
        let policy = match decided {
            Ok(p) => p,
            Err(e) => {
                fail(row.line, e.message.clone(), &mut errors);
                continue;
            }
        };
        match apply(&PersonRecords::new(person), &command, policy) {
            Ok(applied) => applied_rows.push((row, applied.records)),
            Err(e) => fail(row.line, e.to_string(), &mut errors),
        }
    }
    if error_count > 0 {
        let shown = errors.join("\n");
        let more = if error_count > errors.len() {
            format!("\n……另有{}处错误", error_count - errors.len())
        } else {
            String::new()
        };
        return Err(PlatformError::rule(format!(
            "导入文件有{error_count}处错误, 全部未导入:\n{shown}{more}"
        )));
    }
    // Persons the platform knew without an enrolment (none in a real region) keep their number.
    // Looked up a page at a time (one round trip each on PostgreSQL); a cached view is newer
    // than the stored one (its balance may be ahead by the batch in flight).
    for chunk in certnos.chunks(yibao_store::MESSAGES_LOOKUP_MAX) {
        for record in state.store.persons_by_certno(chunk).map_err(db)? {
            let record = state.cached_person(&record.person_no).unwrap_or(record);
            known.insert(record.certno.clone(), record);
        }
    }
    // In citizen-ID order, numbered in that order: every index of the two tables then grows at
    // its end (a million random inserts into a B-tree cost several times more).
    applied_rows.sort_unstable_by(|a, b| a.0.certno.cmp(&b.0.certno));
    let mut ops = Vec::with_capacity(2 * applied_rows.len());
    for (row, records) in &applied_rows {
        let person_no = known
            .get(&row.certno)
            .map_or_else(|| ctx.ids.issue('P'), |p| p.person_no.clone());
        // The employers were read once for the whole file, not per row.
        let employer_name = current_basic(records)
            .and_then(|r| r.employer.as_ref())
            .and_then(|c| employers.get(c.as_str()).cloned())
            .unwrap_or_default();
        let (enrolment, person) = person_rows(
            ctx,
            &person_no,
            records,
            row.wage_monthly,
            known.get(&row.certno),
            employer_name,
        )?;
        ops.push(WriteOp::UpsertPerson(person));
        ops.push(WriteOp::UpsertEnrolment(enrolment));
    }
    let imported = applied_rows.len();
    for op in ops {
        if let WriteOp::UpsertPerson(p) = &op {
            if known.contains_key(&p.certno) {
                state.put_person(p.clone());
            }
        }
        state.pending.push(op);
    }
    Ok(json!({ "imported": imported }))
}

/// Indicators of every fund for `year` from the per-month ledger totals, with the warnings of
/// the region's thresholds.
fn indicators(state: &mut State, ctx: &AdminCtx, year: i32) -> Result<Value, PlatformError> {
    if !(1900..=9998).contains(&year) {
        return Err(PlatformError::field("year", "年度应在1900到9998之间".into()));
    }
    let rows = state.store.ledger_totals(0, year * 100 + 12).map_err(db)?;
    // Business entries only: closing entries are kept apart, so a closed year still reports
    // its income and expenditure.
    let (entries, unknown_books) = crate::close::business_entries(&rows)?;
    let mut totals = yibao_books::MonthlyTotals::new();
    for entry in &entries {
        totals.add(entry);
    }
    // The thresholds of the version in force at the end of the year (or the latest before it).
    let bad_year = || PlatformError::field("year", format!("年度{year}无效"));
    let year_end = NaiveDate::from_ymd_opt(year, 12, 31).ok_or_else(bad_year)?;
    let thresholds = match ctx
        .region
        .contribution
        .iter()
        .rev()
        .find(|p| p.policy.effective_from <= year_end)
    {
        Some(p) => Some(warning_thresholds(p)?),
        None => None,
    };
    let year_u16 = u16::try_from(year).map_err(|_| bad_year())?;
    let funds: Vec<Value> = yibao_books::all_fund_indicators(&totals, Period::Year(year_u16))
        .into_iter()
        .map(|f| {
            let warnings: Vec<String> = thresholds
                .as_ref()
                .map(|t| f.warnings(t).iter().map(ToString::to_string).collect())
                .unwrap_or_default();
            json!({
                "book": f.book.code(),
                "name": f.book.name_zh(),
                "income": f.income,
                "expenditure": f.expenditure,
                "current_balance": f.current_balance,
                "accumulated_balance": f.accumulated_balance,
                "average_monthly_expenditure": f.average_monthly_expenditure,
                "months_of_cover": f.months_of_cover.map(|m| m.to_string()),
                "income_growth_pct": f.income_growth.map(|p| p.to_string()),
                "expenditure_growth_pct": f.expenditure_growth.map(|p| p.to_string()),
                "warnings": warnings,
            })
        })
        .collect();
    Ok(json!({ "year": year, "funds": funds, "books_not_reported": unknown_books }))
}

fn warning_thresholds(policy: &ContributionPolicy) -> Result<yibao_books::WarningThresholds, PlatformError> {
    let w = &policy.fund_warning;
    let t = yibao_books::WarningThresholds {
        months_of_cover_min: Some(yibao_books::Months::whole(i64::from(w.months_of_cover_min))),
        months_of_cover_max: Some(yibao_books::Months::whole(i64::from(w.months_of_cover_max))),
        // A ratio of 0.02 is 2 percentage points = 200 hundredths of a percent.
        spending_growth_over_income_growth_max_pct: Some(yibao_books::Percent::from_hundredths(
            w.spending_growth_over_income_max.ten_thousandths(),
        )),
        current_deficit: true,
    };
    t.validate().map_err(PlatformError::internal)?;
    Ok(t)
}
