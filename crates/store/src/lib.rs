//! Durable storage for the platform.
//!
//! One schema, two backends: SQLite (one file, WAL, `synchronous=FULL`; the embedded default)
//! and PostgreSQL (production). The platform owns all state changes and hands them to
//! [`Store::commit`] as a [`WriteBatch`]: every write of the batch lands in one transaction,
//! durable when `commit` returns. Batching many requests into one commit is what makes group
//! commit cost one fsync per batch.
//!
//! Open a store with [`open`]:
//!
//! - `sqlite://PATH` (relative, e.g. `sqlite://yibao.db`, or absolute, `sqlite:///var/lib/yibao.db`),
//!   `sqlite::memory:` or `sqlite://:memory:` for a private in-memory database;
//! - `postgres://…` or `postgresql://…`, in libpq URL form. One parameter is ours and is removed
//!   before connecting: `?schema=NAME` (letters, digits, `_`) puts every table in schema `NAME`
//!   (`search_path` is set to it; [`Store::migrate`] creates it when missing).
//!
//! What both backends guarantee alike:
//!
//! - `commit` is all or nothing. A batch that breaks a rule of the data (a duplicate key, a row
//!   that an update or a cancellation needs and does not find, an unbalanced posting, a NUL
//!   character in a text) fails with [`StoreError::Rejected`] and leaves nothing written;
//!   [`StoreError::Database`] is a failure of the database itself (I/O, connection, lock timeout).
//! - The rules a batch is held to, besides keys and foreign keys (a visit's person and
//!   institution, a settlement's visit, person and institution, a fee line's visit and
//!   settlement, an accumulator's or filing's person must exist): `SetAccountBalance` needs the
//!   person, `UpdateVisit` the visit; `CancelSettlement` needs a settlement in force (cancelling
//!   twice is refused); `MarkFeeLinesSettled` needs every named line, and, when marking, each
//!   free or already this settlement's; a certificate number belongs to one person; the batch's
//!   ledger entries balance (debits = credits) per posting and per book.
//! - Times are kept to the microsecond (what PostgreSQL's `timestamp` holds): finer parts are
//!   dropped on write, on both backends, so a record whose times are whole microseconds reads back
//!   equal to what was written. Dates and times must lie in the years 1–9999.
//! - Texts are stored exactly (any Unicode but NUL); JSON columns are stored as the given text.
// As in yibao-fsi: this crate takes outside input, and since a panic anywhere ends the process
// (the binary aborts on panic), no input may reach an `unwrap`, `expect` or `panic!`. Asserts
// of invariants stay: those are meant to stop the process.
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::float_arithmetic)
)]

mod common;
mod literal;
mod pg;
mod records;
mod sqlite;

pub use pg::PostgresStore;
pub use records::*;
pub use sqlite::SqliteStore;

use chrono::{NaiveDate, NaiveDateTime};
use yibao_settle::Accumulator;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("数据库错误: {0}")]
    Database(String),
    #[error("数据库中的数据无法解读: {0}")]
    Corrupt(String),
    #[error("不支持的数据库地址“{0}”: 应为 sqlite://文件 或 postgres://…")]
    BadUrl(String),
    /// The batch (or value) breaks a rule of the data; nothing of it was written. Retrying the
    /// same batch fails the same way.
    #[error("写入被拒绝, 整批未写入: {0}")]
    Rejected(String),
    /// Another process holds the database's writer lock ([`Store::lock_writer`]).
    #[error("另一个yibao进程(服务或批处理)正在写入此数据库: {0}")]
    Busy(String),
}

pub type Result<T> = std::result::Result<T, StoreError>;

/// The most msgids one `Store::messages` call looks up.
pub const MESSAGES_LOOKUP_MAX: usize = 4096;

/// Opens a store by URL (see the crate documentation for the forms). Call [`Store::migrate`]
/// before using a new database.
pub fn open(url: &str) -> Result<Box<dyn Store>> {
    if url.starts_with("sqlite:") {
        return Ok(Box::new(SqliteStore::open_url(url)?));
    }
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        return Ok(Box::new(PostgresStore::connect(url)?));
    }
    Err(StoreError::BadUrl(common::redact_url(url)))
}

/// The operations the platform needs. A `Store` is one connection, used from one thread.
pub trait Store: Send {
    /// Creates or upgrades the schema. Idempotent.
    fn migrate(&mut self) -> Result<()>;
    /// Takes the database's writer lock for as long as this store lives, or fails with
    /// [`StoreError::Busy`]. The platform caches what it owns (account balances, accumulators)
    /// and must be the only writer: the service takes the lock at start, and batch commands
    /// (enrolment import, contribution runs) take it too, so that they never run beside it.
    /// SQLite: an advisory lock on the file `PATH-writer.lock`; PostgreSQL: a session advisory
    /// lock per schema. Both are released when the process dies.
    fn lock_writer(&mut self) -> Result<()>;
    /// Applies every write in one transaction, in order; durable on return. All or nothing: on
    /// any error nothing of the batch is written.
    fn commit(&mut self, batch: &WriteBatch) -> Result<()>;

    fn institution(&mut self, code: &str) -> Result<Option<InstitutionRecord>>;
    /// Every institution, by code.
    fn institutions(&mut self) -> Result<Vec<InstitutionRecord>>;
    fn person(&mut self, person_no: &str) -> Result<Option<PersonRecord>>;
    fn person_by_certno(&mut self, certno: &str) -> Result<Option<PersonRecord>>;
    /// The persons among `person_nos` (at most `MESSAGES_LOOKUP_MAX`), in no particular order.
    /// Backends with a network round trip per query answer in one.
    fn persons_by_no(&mut self, person_nos: &[&str]) -> Result<Vec<PersonRecord>> {
        let mut out = Vec::with_capacity(person_nos.len());
        for no in person_nos {
            out.extend(self.person(no)?);
        }
        Ok(out)
    }
    /// The persons with the citizen IDs `certnos` (at most `MESSAGES_LOOKUP_MAX`), in no
    /// particular order; one round trip on backends with a network.
    fn persons_by_certno(&mut self, certnos: &[&str]) -> Result<Vec<PersonRecord>> {
        let mut out = Vec::with_capacity(certnos.len());
        for certno in certnos {
            out.extend(self.person_by_certno(certno)?);
        }
        Ok(out)
    }
    /// The chronic-disease filings of all of `person_nos`, each person's in `chronic_filings` order.
    fn chronic_filings_of(&mut self, person_nos: &[&str]) -> Result<Vec<ChronicFilingRecord>> {
        let mut out = Vec::new();
        for no in person_nos {
            out.extend(self.chronic_filings(no)?);
        }
        Ok(out)
    }
    fn person_count(&mut self) -> Result<i64>;
    /// Persons in `person_no` order, for listings. A `limit` ≤ 0 gives none; a negative
    /// `offset` counts as 0 (the same for every `limit` below).
    fn persons(&mut self, limit: i64, offset: i64) -> Result<Vec<PersonRecord>>;
    /// A person's accumulators for one year, by key.
    fn accumulators(&mut self, person_no: &str, year: i32) -> Result<Vec<(String, Accumulator)>>;
    fn visit(&mut self, visit_id: &str) -> Result<Option<VisitRecord>>;
    /// A person's visits beginning within the dates (inclusive), newest first, at most `limit`.
    fn visits_of_person(
        &mut self,
        person_no: &str,
        from: NaiveDate,
        to: NaiveDate,
        limit: i64,
    ) -> Result<Vec<VisitRecord>>;
    /// Whether the person has ever had a visit at the institution (cancelled ones included):
    /// what entitles an institution to the person's year-to-date figures.
    fn person_visited(&mut self, person_no: &str, institution: &str) -> Result<bool>;
    /// A visit's fee lines in the order they were inserted.
    fn fee_lines(&mut self, visit_id: &str) -> Result<Vec<FeeLineRecord>>;
    fn settlement(&mut self, settlement_id: &str) -> Result<Option<SettlementRecord>>;
    fn settlement_by_msgid(&mut self, msgid: &str) -> Result<Option<SettlementRecord>>;
    /// Settlements matching the filter by `settled_at`, then `settlement_id`, at most `limit`.
    fn settlements(&mut self, filter: &SettlementFilter, limit: i64) -> Result<Vec<SettlementRecord>>;
    /// Count and sums of the settlements matching the filter.
    fn settlement_totals(&mut self, filter: &SettlementFilter) -> Result<SettlementTotals>;
    /// Settlements the filter's institution cancelled within its dates (by `cancelled_at`,
    /// whenever they were made), oldest cancellation first; `in_force_only` is ignored.
    fn settlements_cancelled(&mut self, filter: &SettlementFilter, limit: i64) -> Result<Vec<SettlementRecord>>;
    fn message(&mut self, msgid: &str) -> Result<Option<MessageRecord>>;
    /// The processed messages among `msgids` (at most `MESSAGES_LOOKUP_MAX`), in no particular
    /// order: one round trip for a whole batch of requests.
    fn messages(&mut self, msgids: &[&str]) -> Result<Vec<MessageRecord>>;
    /// A person's filings by `begin_date`, then `filing_id`.
    fn chronic_filings(&mut self, person_no: &str) -> Result<Vec<ChronicFilingRecord>>;
    /// Sum of debits and of credits per book, over all entries, by book.
    /// The settlement lists (4101) of discharges from `from` to `to` inclusive whose settlement
    /// is in force, by institution.
    fn settlement_lists(&mut self, from: NaiveDate, to: NaiveDate) -> Result<Vec<SettlementListRecord>>;
    fn settlement_list(&mut self, settlement_id: &str) -> Result<Option<SettlementListRecord>>;
    /// An exchanged file by its `file_qury_no` (expired or not: the caller tells the institution
    /// which).
    fn exchange_file(&mut self, file_no: &str) -> Result<Option<ExchangeFileRecord>>;
    /// How many files an institution holds that have not expired at `now`, and their bytes.
    fn exchange_file_usage(&mut self, institution: &str, now: chrono::NaiveDateTime) -> Result<(i64, i64)>;
    /// The settlements in force made from `from` to `to` (inclusive days), with their visits
    /// and settled fee lines, for screening.
    fn screening_set(&mut self, from: NaiveDate, to: NaiveDate) -> Result<ScreeningSet>;
    /// The ids of the suspicions screening has recorded (to tell new ones from known ones).
    fn screen_finding_ids(&mut self) -> Result<Vec<String>>;
    fn case(&mut self, case_id: &str) -> Result<Option<CaseRecord>>;
    /// Institutions suspended (暂停医保服务) beyond `now` by a confirmed case: (institution,
    /// until, case).
    fn suspensions(&mut self, now: NaiveDateTime) -> Result<Vec<(String, NaiveDateTime, String)>>;
    /// The credit points of an institution's cases confirmed from `from` to `to` (inclusive
    /// days), and how many cases.
    fn institution_credit(&mut self, institution: &str, from: NaiveDate, to: NaiveDate) -> Result<(i64, i64)>;
    /// A doctor's points in force: (decided at, points) of each confirmed case naming them.
    fn doctor_points(&mut self, doctor: &str) -> Result<Vec<(NaiveDateTime, i64)>>;
    /// A supervision finding by its id (a 3101/3102 `jr_id`, a suspicion's number).
    fn finding(&mut self, finding_id: &str) -> Result<Option<FindingRecord>>;
    /// The most recently imported reference table set of a kind (`chs-drg`).
    fn reference_table_latest(&mut self, kind: &str) -> Result<Option<ReferenceTableRecord>>;
    fn employer(&mut self, credit_code: &str) -> Result<Option<EmployerRecord>>;
    fn enrolment(&mut self, certno: &str) -> Result<Option<EnrolmentRecord>>;
    /// The enrolments of many persons at once (those that exist), for bulk imports.
    fn enrolments_of(&mut self, certnos: &[&str]) -> Result<Vec<EnrolmentRecord>> {
        let mut out = Vec::new();
        for certno in certnos {
            out.extend(self.enrolment(certno)?);
        }
        Ok(out)
    }
    fn enrolment_of_person(&mut self, person_no: &str) -> Result<Option<EnrolmentRecord>>;
    /// Up to `limit` candidates of a monthly run of `insurance` for the month starting
    /// `month_first_day`, with `person_no` after `after`, in person order (see [`RunCandidate`]).
    fn run_candidates(
        &mut self,
        insurance: yibao_codes::InsuranceType,
        month_first_day: NaiveDate,
        after: &str,
        limit: i64,
    ) -> Result<Vec<RunCandidate>>;
    /// The run of a scheme and period (`YYYYMM`), if done.
    fn contribution_run(
        &mut self,
        period: i32,
        insurance: yibao_codes::InsuranceType,
    ) -> Result<Option<ContributionRunRecord>>;
    fn enrolment_count(&mut self) -> Result<i64>;
    fn contributions_of_person(&mut self, person_no: &str) -> Result<Vec<ContributionRecord>>;
    fn account_entries_of_person(&mut self, person_no: &str) -> Result<Vec<AccountEntryRecord>>;
    /// The per-month totals of every book and account for periods `from..=to` (`YYYYMM`).
    fn ledger_totals(&mut self, from: i32, to: i32) -> Result<Vec<LedgerTotal>>;
    fn ledger_balances(&mut self) -> Result<Vec<(String, yibao_money::Money, yibao_money::Money)>>;
    /// The enrolments of an employer's staff suspended (`status` 2) in `insurance`, by citizen ID.
    fn suspended_of_employer(
        &mut self,
        insurance: yibao_codes::InsuranceType,
        employer: &str,
    ) -> Result<Vec<EnrolmentRecord>>;
    /// Employers in arrears (`arrears_from` set), by credit code.
    fn employers_in_arrears(&mut self) -> Result<Vec<EmployerRecord>>;
    /// The citizen IDs of persons enrolled and paying in `insurance` (retirees excepted) whose
    /// last regular contribution (`employee`, `flexible` or `recorded`) is for a month before
    /// `before` (`YYYYMM`), with that month, or none: what an arrears check decides on.
    fn arrears_candidates(
        &mut self,
        insurance: yibao_codes::InsuranceType,
        before: i32,
    ) -> Result<Vec<(String, Option<i32>)>>;
    /// Every closed period, by the month it closes through, then period.
    fn period_closes(&mut self) -> Result<Vec<PeriodCloseRecord>>;
    /// Every closing entry (the business entries are read as `ledger_totals`), in posting order.
    fn closing_entries(&mut self) -> Result<Vec<LedgerEntry>>;
    fn audit_count(&mut self) -> Result<i64>;
}
