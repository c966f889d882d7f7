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
//!
//! By business area: [`persons`] (enrolment commands, the settlement view, family members,
//! coverage, imports), [`employers`] (registration, arrears, back pay, the arrears check),
//! [`contributions`] (residents at the counter, the monthly employee run), [`indicators`].

mod contributions;
mod employers;
mod indicators;
mod persons;

use contributions::*;
use employers::*;
use indicators::*;
pub use persons::not_covered_reason;
use persons::*;

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
    /// One settlement: amounts, line splits with supervision refusals, and its explanation.
    Settlement { settlement_id: String },
    /// 事后筛查: screens the settlements made from `from` to `to` and records suspicions.
    Screen { from: NaiveDate, to: NaiveDate },
    /// 立案: suspicions of one institution gathered into a case (auditors and administrators).
    OpenCase {
        staff: crate::Staff,
        suspicions: Vec<String>,
        note: String,
    },
    /// A step on a case: review, dismiss, confirm (with the decision), reopen.
    CaseStep {
        staff: crate::Staff,
        case_id: String,
        step: yibao_monitor::cases::StepRequest,
    },
    /// One case with its suspicions and steps.
    Case { case_id: String },
    /// 医保医师记分: a doctor's points in a natural year.
    DoctorPoints { doctor: String, year: i32 },
    /// 信用评价: an institution's credit score and grade in a natural year.
    InstitutionCredit { institution: String, year: i32 },
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
        AdminRequest::Settlement { settlement_id } => crate::service::settlement_view(state, region, &settlement_id),
        AdminRequest::Screen { from, to } => crate::monitor::screen(state, region, ctx.now, from, to),
        AdminRequest::OpenCase {
            staff,
            suspicions,
            note,
        } => crate::cases::open(state, ids, ctx.now, &staff, &suspicions, &note),
        AdminRequest::CaseStep { staff, case_id, step } => {
            crate::cases::step(state, region, ctx.now, &staff, &case_id, step)
        }
        AdminRequest::Case { case_id } => crate::cases::view(state, &case_id),
        AdminRequest::DoctorPoints { doctor, year } => crate::cases::doctor_points(state, &doctor, year),
        AdminRequest::InstitutionCredit { institution, year } => {
            crate::cases::institution_credit(state, region, ctx.now, &institution, year)
        }
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

fn period_of(month: YearMonth) -> i32 {
    month.year * 100 + month.month as i32
}

fn month_of_period(period: i32) -> Result<YearMonth, PlatformError> {
    YearMonth::new(period / 100, (period % 100) as u32)
        .ok_or_else(|| PlatformError::internal(format!("存储的月份{period}无效")))
}
