//! The SQLite backend: one file in WAL mode with `synchronous=FULL`, so that every acknowledged
//! commit survives a crash of the process or of the machine.

use std::path::Path;
use std::sync::LazyLock;
use std::time::Duration;

use chrono::NaiveDate;
use rusqlite::{params, Connection, ErrorCode, Params, TransactionBehavior};
use yibao_settle::Accumulator;

use crate::common::{self, date_text, groups_text, time_text, RowAccess};
use crate::{
    AccountEntryRecord, CaseRecord, ChronicFilingRecord, ContributionRecord, ContributionRunRecord, EmployerRecord,
    EnrolmentRecord, ExchangeFileRecord, FeeLineRecord, FindingRecord, InstitutionRecord, LedgerEntry, LedgerTotal,
    MessageRecord, PeriodCloseRecord, PersonRecord, ReferenceTableRecord, Result, RunCandidate, ScreeningSet,
    SettlementFilter, SettlementListRecord, SettlementRecord, SettlementTotals, Store, StoreError, VisitRecord,
    WriteBatch, WriteOp,
};

/// The migrations, in order: (version, name, SQL).
const MIGRATIONS: &[(i64, &str, &str)] = &[
    (1, "init", include_str!("../migrations/sqlite/0001_init.sql")),
    (2, "drg", include_str!("../migrations/sqlite/0002_drg.sql")),
    (3, "enrolment", include_str!("../migrations/sqlite/0003_enrolment.sql")),
    (4, "family", include_str!("../migrations/sqlite/0004_family.sql")),
    (5, "close", include_str!("../migrations/sqlite/0005_close.sql")),
    (6, "arrears", include_str!("../migrations/sqlite/0006_arrears.sql")),
    (
        7,
        "person_fillfactor",
        include_str!("../migrations/sqlite/0007_person_fillfactor.sql"),
    ),
    (
        8,
        "exchange_files",
        include_str!("../migrations/sqlite/0008_exchange_files.sql"),
    ),
    (
        9,
        "unread_indexes",
        include_str!("../migrations/sqlite/0009_unread_indexes.sql"),
    ),
    (
        10,
        "institution_keys",
        include_str!("../migrations/sqlite/0010_institution_keys.sql"),
    ),
    (
        11,
        "message_digest",
        include_str!("../migrations/sqlite/0011_message_digest.sql"),
    ),
    (
        12,
        "supervision_findings",
        include_str!("../migrations/sqlite/0012_supervision_findings.sql"),
    ),
    (
        13,
        "supervision_cases",
        include_str!("../migrations/sqlite/0013_supervision_cases.sql"),
    ),
    (
        14,
        "visit_doctor",
        include_str!("../migrations/sqlite/0014_visit_doctor.sql"),
    ),
];

/// How long a writer waits for another connection's write lock before failing.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);
/// Page cache per connection, in KiB (SQLite takes a negative number as KiB).
const CACHE_KIB: i64 = -65_536;
/// Memory-mapped window for reads.
const MMAP_BYTES: i64 = 256 << 20;
/// Above this size the checkpointer truncates the WAL even if writers must wait for it: a hard
/// bound on disk use that costs a pause of the commits only under sustained peak load.
const WAL_BYTES_MAX: u64 = 1 << 30;
/// How often the checkpointer copies the WAL back into the database file.
const CHECKPOINT_EVERY: Duration = Duration::from_millis(200);

/// Starts, once per database file in this process, a thread that checkpoints the WAL in the
/// background (`PASSIVE`: it never blocks a writer). Commits then pay only for appending to the
/// WAL and its fsync; copying pages back into the database happens off their path.
fn start_checkpointer(path: &Path) {
    static STARTED: std::sync::Mutex<Vec<std::path::PathBuf>> = std::sync::Mutex::new(Vec::new());
    let path = path.canonicalize().unwrap_or_else(|_| path.to_owned());
    {
        let mut started = STARTED.lock().unwrap_or_else(|e| e.into_inner());
        if started.contains(&path) {
            return;
        }
        started.push(path.clone());
    }
    let thread_path = path.clone();
    let spawned = std::thread::Builder::new()
        .name("yibao-checkpoint".into())
        .spawn(move || {
            let Ok(conn) = Connection::open(&thread_path) else {
                return;
            };
            let _ = conn.busy_timeout(Duration::from_millis(2_000));
            let mut wal = thread_path.clone().into_os_string();
            wal.push("-wal");
            loop {
                std::thread::sleep(CHECKPOINT_EVERY);
                // Errors (busy) are retried on the next tick; a checkpoint is never required for
                // correctness, only for keeping the WAL short. When writers outpace the passive
                // checkpoints, a truncating one (which briefly holds writers back) bounds the file.
                let wal_bytes = std::fs::metadata(&wal).map_or(0, |m| m.len());
                let sql = if wal_bytes > WAL_BYTES_MAX {
                    "PRAGMA wal_checkpoint(TRUNCATE)"
                } else {
                    "PRAGMA wal_checkpoint(PASSIVE)"
                };
                let _ = conn.query_row(sql, [], |_| Ok(()));
            }
        });
    if spawned.is_err() {
        // Without the thread, fall back to checkpointing inside commits.
        if let Ok(conn) = Connection::open(&path) {
            let _ = conn.pragma_update(None, "wal_autocheckpoint", 1000);
        }
    }
}

/// A SQLite database: one connection, used from one thread.
pub struct SqliteStore {
    conn: Connection,
    /// The database file, for its writer lock; `None` in memory.
    path: Option<std::path::PathBuf>,
    writer_lock: Option<std::fs::File>,
}

fn db_err(e: rusqlite::Error) -> StoreError {
    match e.sqlite_error_code() {
        Some(ErrorCode::ConstraintViolation) => StoreError::Rejected(e.to_string()),
        _ => StoreError::Database(e.to_string()),
    }
}

/// `?1, ?2, …, ?n`.
fn placeholders(n: usize) -> String {
    (1..=n).map(|i| format!("?{i}")).collect::<Vec<_>>().join(", ")
}

fn column_count(columns: &str) -> usize {
    columns.split(',').count()
}

fn insert_sql(table: &str, columns: &str) -> String {
    format!(
        "INSERT INTO {table} ({columns}) VALUES ({})",
        placeholders(column_count(columns))
    )
}

fn upsert_sql(table: &str, columns: &str, key: &str, key_columns: usize) -> String {
    format!(
        "{} ON CONFLICT ({key}) DO UPDATE SET {}",
        insert_sql(table, columns),
        common::update_set(columns, key_columns)
    )
}

static UPSERT_INSTITUTION: LazyLock<String> =
    LazyLock::new(|| upsert_sql("institutions", common::INSTITUTION_COLUMNS, "code", 1));
static UPSERT_PERSON: LazyLock<String> =
    LazyLock::new(|| upsert_sql("persons", common::PERSON_COLUMNS, "person_no", 1));
static INSERT_VISIT: LazyLock<String> = LazyLock::new(|| insert_sql("visits", common::VISIT_COLUMNS));
/// Replaces a visit's columns, except the ones `visits_person_begin` is keyed by (person, begin
/// time) and the institution, which [`UPDATE_VISIT_KEYS`] sets only when they differ. SQLite
/// maintains an index whenever one of its columns is assigned, even to the same value; that
/// index is keyed by person, so assigning them on each of a visit's updates (2203, settlement,
/// cancellation) dirtied a page of its own in each batch.
static UPDATE_VISIT: LazyLock<String> = LazyLock::new(|| {
    let sets: Vec<String> = common::VISIT_COLUMNS
        .split(',')
        .map(str::trim)
        .enumerate()
        .filter(|(_, c)| !matches!(*c, "visit_id" | "person_no" | "institution" | "begin_time"))
        .map(|(i, c)| format!("{c} = ?{}", i + 1))
        .collect();
    format!("UPDATE visits SET {} WHERE visit_id = ?1", sets.join(", "))
});
static UPDATE_VISIT_KEYS: &str = "UPDATE visits SET person_no = ?2, institution = ?3, begin_time = ?4 \
     WHERE visit_id = ?1 AND (person_no <> ?2 OR institution <> ?3 OR begin_time <> ?4)";
static INSERT_FEE_LINE: LazyLock<String> = LazyLock::new(|| {
    let n = column_count(common::FEE_LINE_COLUMNS);
    format!(
        "INSERT INTO fee_lines ({}, seq) VALUES ({}, (SELECT IFNULL(MAX(seq), 0) + 1 FROM fee_lines))",
        common::FEE_LINE_COLUMNS,
        placeholders(n)
    )
});
static INSERT_SETTLEMENT: LazyLock<String> = LazyLock::new(|| insert_sql("settlements", common::SETTLEMENT_COLUMNS));
static UPSERT_ACCUMULATOR: LazyLock<String> = LazyLock::new(|| {
    upsert_sql(
        "accumulators",
        common::ACCUMULATOR_COLUMNS,
        "person_no, year, acc_key",
        3,
    )
});
static INSERT_LEDGER: LazyLock<String> = LazyLock::new(|| insert_sql("ledger_entries", common::LEDGER_COLUMNS));
/// A closing entry: origin 1, outside the per-month totals.
static INSERT_CLOSING_ENTRY: LazyLock<String> = LazyLock::new(|| {
    let params: Vec<String> = (1..=common::LEDGER_COLUMNS.split(',').count())
        .map(|i| format!("?{i}"))
        .collect();
    format!(
        "INSERT INTO ledger_entries ({}, origin) VALUES ({}, 1)",
        common::LEDGER_COLUMNS,
        params.join(", ")
    )
});
const INSERT_PERIOD_CLOSE: &str = "INSERT INTO period_closes (period, through_month, open_from, closed_at, \
     summary_json) VALUES (?1, ?2, ?3, ?4, ?5)";
static INSERT_MESSAGE: LazyLock<String> = LazyLock::new(|| insert_sql("messages", common::MESSAGE_COLUMNS));
static INSERT_AUDIT: LazyLock<String> = LazyLock::new(|| insert_sql("audit_log", common::AUDIT_COLUMNS));
static UPSERT_FILING: LazyLock<String> =
    LazyLock::new(|| upsert_sql("chronic_filings", common::FILING_COLUMNS, "filing_id", 1));

/// Inserts one ledger entry with `sql` (a business or a closing entry: the same columns).
fn insert_ledger_entry(conn: &Connection, sql: &str, e: &LedgerEntry) -> Result<()> {
    run(
        conn,
        sql,
        params![
            e.posting_id,
            e.book,
            e.account,
            e.debit.fen(),
            e.credit.fen(),
            e.settlement_id,
            time_text(e.posted_at),
        ],
    )?;
    Ok(())
}

static UPSERT_SETTLEMENT_LIST: LazyLock<String> =
    LazyLock::new(|| upsert_sql("settlement_lists", common::SETTLEMENT_LIST_COLUMNS, "settlement_id", 1));
static UPSERT_REFERENCE_TABLE: LazyLock<String> =
    LazyLock::new(|| upsert_sql("reference_tables", common::REFERENCE_TABLE_COLUMNS, "kind, version", 2));

static INSERT_EXCHANGE_FILE: LazyLock<String> = LazyLock::new(|| {
    format!(
        "INSERT INTO exchange_files ({}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        common::EXCHANGE_FILE_COLUMNS
    )
});

static INSERT_FINDING: LazyLock<String> = LazyLock::new(|| {
    format!(
        "INSERT INTO supervision_findings ({}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15) \
         ON CONFLICT (dedupe_key) DO NOTHING",
        common::FINDING_COLUMNS
    )
});
static INSERT_CASE: LazyLock<String> = LazyLock::new(|| {
    format!(
        "INSERT INTO supervision_cases ({}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)",
        common::CASE_COLUMNS
    )
});
/// The next step of a case: only over the row of the step before.
const UPDATE_CASE: &str =
    "UPDATE supervision_cases SET institution = ?2, status = ?3, opened_at = ?4, updated_at = ?5, \
     steps = ?6, amount_at_stake = ?7, recovery = ?8, penalty = ?9, doctor = ?10, doctor_points = ?11, \
     credit_points = ?12, decided_at = ?13, record_json = ?14, suspended_until = ?15 WHERE case_id = ?1 AND steps = ?6 - 1";
const SET_FINDING_FEEDBACK: &str =
    "UPDATE supervision_findings SET feedback_way = ?2, feedback_reason = ?3, feedback_at = ?4 WHERE finding_id = ?1";

static UPSERT_EMPLOYER: LazyLock<String> =
    LazyLock::new(|| upsert_sql("employers", common::EMPLOYER_COLUMNS, "credit_code", 1));
static UPSERT_ENROLMENT: LazyLock<String> =
    LazyLock::new(|| upsert_sql("enrolments", common::ENROLMENT_COLUMNS, "certno", 1));
static INSERT_CONTRIBUTION: LazyLock<String> =
    LazyLock::new(|| insert_sql("contributions", common::CONTRIBUTION_COLUMNS));
static INSERT_CONTRIBUTION_RUN: LazyLock<String> =
    LazyLock::new(|| insert_sql("contribution_runs", common::CONTRIBUTION_RUN_COLUMNS));
static INSERT_ACCOUNT_ENTRY: LazyLock<String> =
    LazyLock::new(|| insert_sql("account_entries", common::ACCOUNT_ENTRY_COLUMNS));
/// Adds a batch's sums to the month's totals.
const ADD_LEDGER_TOTAL: &str = "INSERT INTO ledger_totals (book, account, period, debit, credit) \
     VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (book, account, period) DO UPDATE SET \
     debit = debit + excluded.debit, credit = credit + excluded.credit";

const SET_BALANCE: &str = "UPDATE persons SET account_balance = ?2 WHERE person_no = ?1";
const DELETE_UNSETTLED_LINES: &str = "DELETE FROM fee_lines WHERE visit_id = ?1 AND settlement_id IS NULL";
const DELETE_UNSETTLED_LINE: &str = "DELETE FROM fee_lines WHERE visit_id = ?1 AND sn = ?2 AND settlement_id IS NULL";
/// Marking needs the line free or already this settlement's; freeing (`?3` NULL) needs the line.
const MARK_LINE: &str = "UPDATE fee_lines SET settlement_id = ?3 WHERE visit_id = ?1 AND sn = ?2 \
     AND (?3 IS NULL OR settlement_id IS NULL OR settlement_id = ?3)";
const CANCEL_SETTLEMENT: &str = "UPDATE settlements SET status = 'cancelled', cancelled_at = ?2, \
     cancel_msgid = ?3 WHERE settlement_id = ?1 AND status = 'settled'";

impl RowAccess for rusqlite::Row<'_> {
    fn blob(&self, i: usize) -> std::result::Result<Option<Vec<u8>>, String> {
        self.get::<_, Option<Vec<u8>>>(i).map_err(|e| e.to_string())
    }

    fn text(&self, i: usize) -> std::result::Result<Option<String>, String> {
        self.get::<_, Option<String>>(i).map_err(|e| e.to_string())
    }

    fn int(&self, i: usize) -> std::result::Result<Option<i64>, String> {
        self.get::<_, Option<i64>>(i).map_err(|e| e.to_string())
    }

    fn boolean(&self, i: usize) -> std::result::Result<Option<bool>, String> {
        match self.int(i)? {
            None => Ok(None),
            Some(0) => Ok(Some(false)),
            Some(1) => Ok(Some(true)),
            Some(n) => Err(format!("布尔值应为 0 或 1, 实为 {n}")),
        }
    }

    fn date(&self, i: usize) -> std::result::Result<Option<NaiveDate>, String> {
        self.text(i)?.map(|t| common::parse_date_text(&t)).transpose()
    }

    fn time(&self, i: usize) -> std::result::Result<Option<chrono::NaiveDateTime>, String> {
        self.text(i)?.map(|t| common::parse_time_text(&t)).transpose()
    }
}

/// A read query written with `$n` placeholders, as SQLite spells them (`?n`).
fn sqlite_sql(sql: &str) -> String {
    sql.replace('$', "?")
}

impl SqliteStore {
    /// Opens (creating if missing) the database file.
    pub fn open(path: impl AsRef<Path>) -> Result<SqliteStore> {
        let path = path.as_ref();
        let conn = Connection::open(path).map_err(|e| StoreError::Database(format!("{}: {e}", path.display())))?;
        let mut store = SqliteStore::configure(conn, true)?;
        store.path = Some(path.to_path_buf());
        start_checkpointer(path);
        Ok(store)
    }

    /// A private database in memory, gone when the store is dropped.
    pub fn open_in_memory() -> Result<SqliteStore> {
        SqliteStore::configure(Connection::open_in_memory().map_err(db_err)?, false)
    }

    /// `sqlite://PATH`, `sqlite://:memory:` or `sqlite::memory:`.
    pub(crate) fn open_url(url: &str) -> Result<SqliteStore> {
        if url == "sqlite::memory:" || url == "sqlite://:memory:" {
            return SqliteStore::open_in_memory();
        }
        match url.strip_prefix("sqlite://") {
            Some(path) if !path.is_empty() => SqliteStore::open(path),
            _ => Err(StoreError::BadUrl(url.to_owned())),
        }
    }

    fn configure(conn: Connection, file: bool) -> Result<SqliteStore> {
        conn.busy_timeout(BUSY_TIMEOUT).map_err(db_err)?;
        let mode: String = conn
            .pragma_update_and_check(None, "journal_mode", "WAL", |r| r.get(0))
            .map_err(db_err)?;
        if file && !mode.eq_ignore_ascii_case("wal") {
            return Err(StoreError::Database(format!(
                "无法启用 WAL 日志模式 (journal_mode={mode})"
            )));
        }
        conn.pragma_update(None, "synchronous", "FULL").map_err(db_err)?;
        conn.pragma_update(None, "foreign_keys", "ON").map_err(db_err)?;
        let synchronous: i64 = conn
            .pragma_query_value(None, "synchronous", |r| r.get(0))
            .map_err(db_err)?;
        let foreign_keys: i64 = conn
            .pragma_query_value(None, "foreign_keys", |r| r.get(0))
            .map_err(db_err)?;
        if synchronous != 2 || foreign_keys != 1 {
            return Err(StoreError::Database(format!(
                "SQLite 设置未生效: synchronous={synchronous}, foreign_keys={foreign_keys}"
            )));
        }
        // Checkpoints run on their own thread (see `start_checkpointer`), not inside commits.
        conn.pragma_update(None, "wal_autocheckpoint", 0).map_err(db_err)?;
        // A larger page cache and memory-mapped reads keep the B-tree pages a commit touches in
        // memory instead of re-reading them with pread.
        conn.pragma_update(None, "cache_size", CACHE_KIB).map_err(db_err)?;
        if file {
            conn.pragma_update(None, "mmap_size", MMAP_BYTES).map_err(db_err)?;
        }
        conn.pragma_update(None, "temp_store", "MEMORY").map_err(db_err)?;
        conn.set_prepared_statement_cache_capacity(64);
        Ok(SqliteStore {
            conn,
            path: None,
            writer_lock: None,
        })
    }

    fn query_opt<T>(
        &self,
        sql: &str,
        params: impl Params,
        decode: fn(&rusqlite::Row<'_>) -> Result<T>,
    ) -> Result<Option<T>> {
        let mut stmt = self.conn.prepare_cached(&sqlite_sql(sql)).map_err(db_err)?;
        let mut rows = stmt.query(params).map_err(db_err)?;
        match rows.next().map_err(db_err)? {
            Some(row) => decode(row).map(Some),
            None => Ok(None),
        }
    }

    fn query_all<T>(
        &self,
        sql: &str,
        params: impl Params,
        decode: fn(&rusqlite::Row<'_>) -> Result<T>,
    ) -> Result<Vec<T>> {
        let mut stmt = self.conn.prepare_cached(&sqlite_sql(sql)).map_err(db_err)?;
        let mut rows = stmt.query(params).map_err(db_err)?;
        let mut out = Vec::new();
        while let Some(row) = rows.next().map_err(db_err)? {
            out.push(decode(row)?);
        }
        Ok(out)
    }

    fn query_one<T>(&self, sql: &str, params: impl Params, decode: fn(&rusqlite::Row<'_>) -> Result<T>) -> Result<T> {
        self.query_opt(sql, params, decode)?
            .ok_or_else(|| StoreError::Database(format!("查询没有返回结果: {sql}")))
    }
}

/// Runs one cached statement, returning the rows it changed.
fn run(conn: &Connection, sql: &str, params: impl Params) -> Result<usize> {
    conn.prepare_cached(sql)
        .map_err(db_err)?
        .execute(params)
        .map_err(db_err)
}

fn expect_one(changed: usize, what: &str, key: &str) -> Result<()> {
    if changed == 0 {
        return Err(common::missing_rows(what, &[key]));
    }
    Ok(())
}

fn insert_fee_line(conn: &Connection, r: &FeeLineRecord) -> Result<usize> {
    run(
        conn,
        &INSERT_FEE_LINE,
        params![
            r.visit_id,
            r.sn,
            r.batch_no,
            r.code,
            r.local_code,
            r.quantity.ten_thousandths(),
            r.price.millionths(),
            r.amount.fen(),
            time_text(r.occurred_at),
            r.disease_code,
            r.refund_of,
            r.settlement_id,
        ],
    )
}

fn upsert_accumulator(conn: &Connection, person_no: &str, year: i32, key: &str, a: &Accumulator) -> Result<usize> {
    run(
        conn,
        &UPSERT_ACCUMULATOR,
        params![
            person_no,
            year,
            key,
            a.deductible.fen(),
            a.fund.fen(),
            a.base.fen(),
            a.visits,
            a.admissions,
        ],
    )
}

fn visit_params(r: &VisitRecord) -> [Box<dyn rusqlite::ToSql + '_>; 13] {
    [
        Box::new(&r.visit_id),
        Box::new(&r.person_no),
        Box::new(&r.institution),
        Box::new(r.insurance.code()),
        Box::new(r.medical_type.code()),
        Box::new(time_text(r.begin_time)),
        Box::new(r.end_time.map(time_text)),
        Box::new(&r.his_visit_no),
        Box::new(&r.disease_code),
        Box::new(&r.diagnosis_code),
        Box::new(r.status.code()),
        Box::new(r.in_county),
        Box::new(&r.doctor),
    ]
}

fn apply(conn: &Connection, op: &WriteOp) -> Result<()> {
    match op {
        WriteOp::UpsertInstitution(r) => {
            run(
                conn,
                &UPSERT_INSTITUTION,
                params![r.code, r.name, r.hosp_lv, r.admdvs, r.paas_id, r.secret, r.active],
            )?;
        }
        WriteOp::UpsertPerson(r) => {
            run(
                conn,
                &UPSERT_PERSON,
                params![
                    r.person_no,
                    r.certno,
                    r.name,
                    r.sex.code(),
                    date_text(r.birth_date),
                    r.ethnicity,
                    r.insurance.code(),
                    r.person_type.to_string(),
                    r.tier.map(|t| i64::from(t.number())),
                    groups_text(&r.groups),
                    r.civil_servant,
                    r.insured_admdvs,
                    r.employer_name,
                    r.status,
                    date_text(r.enrolled_on),
                    r.benefits_from.map(date_text),
                    r.account_balance.fen(),
                    r.family_payer,
                ],
            )?;
        }
        WriteOp::SetAccountBalance { person_no, balance } => {
            let changed = run(conn, SET_BALANCE, params![person_no, balance.fen()])?;
            expect_one(changed, common::MISSING_PERSON, person_no)?;
        }
        WriteOp::InsertVisit(r) => {
            run(conn, &INSERT_VISIT, rusqlite::params_from_iter(visit_params(r)))?;
        }
        WriteOp::UpdateVisit(r) => {
            let changed = run(conn, &UPDATE_VISIT, rusqlite::params_from_iter(visit_params(r)))?;
            expect_one(changed, common::MISSING_VISIT, &r.visit_id)?;
            run(
                conn,
                UPDATE_VISIT_KEYS,
                params![r.visit_id, r.person_no, r.institution, time_text(r.begin_time)],
            )?;
        }
        WriteOp::InsertFeeLines(lines) => {
            for r in lines {
                insert_fee_line(conn, r)?;
            }
        }
        WriteOp::DeleteFeeLines { visit_id, sn: None } => {
            run(conn, DELETE_UNSETTLED_LINES, params![visit_id])?;
        }
        WriteOp::DeleteFeeLines { visit_id, sn: Some(sn) } => {
            run(conn, DELETE_UNSETTLED_LINE, params![visit_id, sn])?;
        }
        WriteOp::MarkFeeLinesSettled {
            visit_id,
            settlement_id,
            sns,
        } => {
            let mut missing = Vec::new();
            for sn in sns {
                if run(conn, MARK_LINE, params![visit_id, sn, settlement_id])? == 0 {
                    missing.push(sn.as_str());
                }
            }
            if !missing.is_empty() {
                return Err(common::missing_rows(&common::missing_fee_lines(visit_id), &missing));
            }
        }
        WriteOp::InsertSettlement(r) => {
            run(
                conn,
                &INSERT_SETTLEMENT,
                params![
                    r.settlement_id,
                    r.visit_id,
                    r.person_no,
                    r.institution,
                    r.insurance.code(),
                    r.medical_type.code(),
                    r.clearing_type,
                    time_text(r.settled_at),
                    r.msgid,
                    r.policy_id,
                    r.year,
                    r.total.fen(),
                    r.fund_total.fen(),
                    r.account_pay.fen(),
                    r.cash_pay.fen(),
                    r.status.code(),
                    r.cancelled_at.map(time_text),
                    r.cancel_msgid,
                    common::pack(&r.output_json),
                    common::pack(&r.inputs_json),
                    common::pack(&r.deltas_json),
                    r.mutual_aid_pay.fen(),
                ],
            )?;
        }
        WriteOp::CancelSettlement {
            settlement_id,
            cancelled_at,
            cancel_msgid,
        } => {
            let changed = run(
                conn,
                CANCEL_SETTLEMENT,
                params![settlement_id, time_text(*cancelled_at), cancel_msgid],
            )?;
            expect_one(changed, common::MISSING_SETTLEMENT, settlement_id)?;
        }
        WriteOp::SetAccumulator {
            person_no,
            year,
            key,
            value,
        } => {
            upsert_accumulator(conn, person_no, *year, key, value)?;
        }
        WriteOp::InsertLedger(entries) => {
            for e in entries {
                insert_ledger_entry(conn, &INSERT_LEDGER, e)?;
            }
        }
        WriteOp::ClosePeriod { close, entries } => {
            run(
                conn,
                INSERT_PERIOD_CLOSE,
                params![
                    close.period,
                    close.through_month,
                    date_text(close.open_from),
                    time_text(close.closed_at),
                    close.summary_json,
                ],
            )?;
            for e in entries {
                insert_ledger_entry(conn, &INSERT_CLOSING_ENTRY, e)?;
            }
        }
        WriteOp::InsertMessage(r) => {
            run(
                conn,
                &INSERT_MESSAGE,
                params![
                    r.msgid,
                    r.infno,
                    r.institution,
                    time_text(r.received_at),
                    common::pack(&r.response_json),
                    &r.request_digest[..]
                ],
            )?;
        }
        WriteOp::InsertAudit(r) => {
            run(
                conn,
                &INSERT_AUDIT,
                params![
                    r.msgid,
                    r.infno,
                    r.institution,
                    r.infcode,
                    r.duration_us,
                    time_text(r.at),
                    r.message,
                ],
            )?;
        }
        WriteOp::UpsertChronicFiling(r) => {
            run(
                conn,
                &UPSERT_FILING,
                params![
                    r.filing_id,
                    r.person_no,
                    r.disease_code,
                    r.disease_name,
                    r.institution,
                    date_text(r.begin_date),
                    r.end_date.map(date_text),
                    r.active,
                ],
            )?;
        }
        WriteOp::UpsertSettlementList(r) => {
            run(
                conn,
                &UPSERT_SETTLEMENT_LIST,
                params![
                    r.settlement_id,
                    r.visit_id,
                    r.person_no,
                    r.institution,
                    r.insurance.code(),
                    date_text(r.discharge_date),
                    r.drg_version,
                    r.drg,
                    r.total.fen(),
                    r.fund_total.fen(),
                    common::pack(&r.grouping_json),
                    common::pack(&r.list_json),
                    time_text(r.uploaded_at),
                    r.msgid,
                ],
            )?;
        }
        WriteOp::UpsertEmployer(r) => {
            run(
                conn,
                &UPSERT_EMPLOYER,
                params![
                    r.credit_code,
                    r.name,
                    r.admdvs,
                    date_text(r.registered_on),
                    r.arrears_from
                ],
            )?;
        }
        WriteOp::UpsertEnrolment(r) => {
            run(
                conn,
                &UPSERT_ENROLMENT,
                params![
                    r.certno,
                    r.person_no,
                    r.insurance.code(),
                    r.status,
                    date_text(r.status_from),
                    r.person_kind,
                    r.employer,
                    r.wage_base.map(yibao_money::Money::fen),
                    common::pack(&r.doc_json),
                    time_text(r.updated_at),
                ],
            )?;
        }
        WriteOp::InsertContributions(rows) => {
            for r in rows {
                run(
                    conn,
                    &INSERT_CONTRIBUTION,
                    params![
                        r.contribution_id,
                        r.run_id,
                        r.person_no,
                        r.employer,
                        r.insurance.code(),
                        r.period,
                        r.kind,
                        r.base.fen(),
                        r.employer_amount.fen(),
                        r.individual_amount.fen(),
                        r.pooled_amount.fen(),
                        r.account_amount.fen(),
                        r.subsidy_amount.fen(),
                        r.large_expense_amount.fen(),
                        time_text(r.posted_at),
                    ],
                )?;
            }
        }
        WriteOp::InsertContributionRun(r) => {
            run(
                conn,
                &INSERT_CONTRIBUTION_RUN,
                params![
                    r.run_id,
                    r.insurance.code(),
                    r.period,
                    r.persons,
                    r.employer_amount.fen(),
                    r.individual_amount.fen(),
                    r.pooled_amount.fen(),
                    r.account_amount.fen(),
                    time_text(r.run_at),
                ],
            )?;
        }
        WriteOp::InsertAccountEntries(rows) => {
            for r in rows {
                run(
                    conn,
                    &INSERT_ACCOUNT_ENTRY,
                    params![
                        r.entry_id,
                        r.person_no,
                        time_text(r.posted_at),
                        r.kind,
                        r.amount.fen(),
                        r.balance_after.fen(),
                        r.reference,
                        r.counterparty,
                    ],
                )?;
            }
        }
        WriteOp::InsertExchangeFile(r) => {
            run(conn, common::PURGE_EXCHANGE_FILES, params![time_text(r.created_at)])?;
            run(
                conn,
                &INSERT_EXCHANGE_FILE,
                params![
                    r.file_no,
                    r.institution,
                    r.filename,
                    r.origin,
                    r.bytes,
                    time_text(r.created_at),
                    time_text(r.expires_at)
                ],
            )?;
        }
        WriteOp::InsertFindings(rows) => {
            for r in rows {
                run(
                    conn,
                    &INSERT_FINDING,
                    params![
                        r.finding_id,
                        r.origin,
                        r.dedupe_key,
                        r.institution,
                        r.person_no,
                        r.visit_id,
                        r.rule_id,
                        r.severity,
                        r.action,
                        r.amount.fen(),
                        time_text(r.found_at),
                        r.detail_json,
                        r.feedback_way,
                        r.feedback_reason,
                        r.feedback_at.map(time_text),
                    ],
                )?;
            }
        }
        WriteOp::UpsertCase(r) => {
            let values = params![
                r.case_id,
                r.institution,
                r.status,
                time_text(r.opened_at),
                time_text(r.updated_at),
                r.steps,
                r.amount_at_stake.fen(),
                r.recovery.fen(),
                r.penalty.fen(),
                r.doctor,
                r.doctor_points,
                r.credit_points,
                r.decided_at.map(time_text),
                r.record_json,
                r.suspended_until.map(time_text),
            ];
            if r.steps == 1 {
                run(conn, &INSERT_CASE, values)?;
            } else {
                let changed = run(conn, UPDATE_CASE, values)?;
                if changed == 0 {
                    return Err(StoreError::Rejected(format!("{} ({})", common::STALE_CASE, r.case_id)));
                }
            }
        }
        WriteOp::SetFindingFeedback {
            finding_id,
            way,
            reason,
            at,
        } => {
            let changed = run(
                conn,
                SET_FINDING_FEEDBACK,
                params![finding_id, way, reason, time_text(*at)],
            )?;
            expect_one(changed, common::MISSING_FINDING, finding_id)?;
        }
        WriteOp::UpsertReferenceTable(r) => {
            run(
                conn,
                &UPSERT_REFERENCE_TABLE,
                params![r.kind, r.version, time_text(r.imported_at), common::pack(&r.files_json)],
            )?;
        }
    }
    Ok(())
}

impl Store for SqliteStore {
    fn migrate(&mut self) -> Result<()> {
        let latest = MIGRATIONS.iter().map(|m| m.0).max().unwrap_or(0);
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(db_err)?;
        tx.execute_batch(
            "CREATE TABLE IF NOT EXISTS schema_migrations (
                 version    INTEGER NOT NULL PRIMARY KEY,
                 name       TEXT    NOT NULL,
                 applied_at TEXT    NOT NULL
             )",
        )
        .map_err(db_err)?;
        let applied: Vec<i64> = {
            let mut stmt = tx.prepare("SELECT version FROM schema_migrations").map_err(db_err)?;
            let rows = stmt.query_map([], |r| r.get(0)).map_err(db_err)?;
            rows.collect::<rusqlite::Result<_>>().map_err(db_err)?
        };
        if let Some(newer) = applied.iter().find(|v| **v > latest) {
            return Err(StoreError::Database(format!(
                "数据库结构版本 {newer} 比本程序支持的版本 {latest} 新"
            )));
        }
        for (version, name, sql) in MIGRATIONS {
            if applied.contains(version) {
                continue;
            }
            tx.execute_batch(sql)
                .map_err(|e| StoreError::Database(format!("迁移 {version} ({name}) 失败: {e}")))?;
            tx.execute(
                "INSERT INTO schema_migrations (version, name, applied_at) \
                 VALUES (?1, ?2, strftime('%Y-%m-%d %H:%M:%f', 'now'))",
                params![version, name],
            )
            .map_err(db_err)?;
        }
        tx.commit().map_err(db_err)?;
        self.conn.flush_prepared_statement_cache();
        Ok(())
    }

    fn lock_writer(&mut self) -> Result<()> {
        let Some(path) = &self.path else {
            return Ok(()); // a private in-memory database has no other writer
        };
        let mut lock_path = path.clone().into_os_string();
        lock_path.push("-writer.lock");
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(|e| StoreError::Database(format!("{}: {e}", lock_path.to_string_lossy())))?;
        match file.try_lock() {
            Ok(()) => {
                self.writer_lock = Some(file);
                Ok(())
            }
            Err(std::fs::TryLockError::WouldBlock) => Err(StoreError::Busy(path.display().to_string())),
            Err(std::fs::TryLockError::Error(e)) => {
                Err(StoreError::Database(format!("{}: {e}", lock_path.to_string_lossy())))
            }
        }
    }

    fn commit(&mut self, batch: &WriteBatch) -> Result<()> {
        common::validate(batch)?;
        if batch.is_empty() {
            return Ok(());
        }
        // Dropping the transaction on an error rolls it back.
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(db_err)?;
        for op in &batch.ops {
            apply(&tx, op)?;
        }
        for t in common::ledger_total_deltas(&batch.ops) {
            run(
                &tx,
                ADD_LEDGER_TOTAL,
                params![t.book, t.account, t.period, t.debit.fen(), t.credit.fen()],
            )?;
        }
        tx.commit().map_err(db_err)
    }

    fn institution(&mut self, code: &str) -> Result<Option<InstitutionRecord>> {
        self.query_opt(common::Q_INSTITUTION, [code], |r| common::institution(r))
    }

    fn institutions(&mut self) -> Result<Vec<InstitutionRecord>> {
        self.query_all(common::Q_INSTITUTIONS, [], |r| common::institution(r))
    }

    fn person(&mut self, person_no: &str) -> Result<Option<PersonRecord>> {
        self.query_opt(common::Q_PERSON, [person_no], |r| common::person(r))
    }

    fn person_by_certno(&mut self, certno: &str) -> Result<Option<PersonRecord>> {
        self.query_opt(common::Q_PERSON_BY_CERTNO, [certno], |r| common::person(r))
    }

    fn person_count(&mut self) -> Result<i64> {
        self.query_one(common::Q_PERSON_COUNT, [], |r| common::count(r, "persons"))
    }

    fn persons(&mut self, limit: i64, offset: i64) -> Result<Vec<PersonRecord>> {
        let (limit, offset) = (common::non_negative(limit), common::non_negative(offset));
        self.query_all(common::Q_PERSONS, [limit, offset], |r| common::person(r))
    }

    fn accumulators(&mut self, person_no: &str, year: i32) -> Result<Vec<(String, Accumulator)>> {
        self.query_all(common::Q_ACCUMULATORS, params![person_no, year], |r| {
            common::accumulator(r)
        })
    }

    fn visit(&mut self, visit_id: &str) -> Result<Option<VisitRecord>> {
        self.query_opt(common::Q_VISIT, [visit_id], |r| common::visit(r))
    }

    fn person_visited(&mut self, person_no: &str, institution: &str) -> Result<bool> {
        let count = self.query_one(common::Q_PERSON_VISITED, params![person_no, institution], |r| {
            common::count(r, "visits")
        })?;
        Ok(count > 0)
    }

    fn visits_of_person(
        &mut self,
        person_no: &str,
        from: NaiveDate,
        to: NaiveDate,
        limit: i64,
    ) -> Result<Vec<VisitRecord>> {
        let Some((lo, hi)) = common::day_range(from, to) else {
            return Ok(Vec::new());
        };
        let params = params![person_no, time_text(lo), time_text(hi), common::non_negative(limit)];
        self.query_all(common::Q_VISITS_OF_PERSON, params, |r| common::visit(r))
    }

    fn fee_lines(&mut self, visit_id: &str) -> Result<Vec<FeeLineRecord>> {
        self.query_all(common::Q_FEE_LINES, [visit_id], |r| common::fee_line(r))
    }

    fn settlement(&mut self, settlement_id: &str) -> Result<Option<SettlementRecord>> {
        self.query_opt(common::Q_SETTLEMENT, [settlement_id], |r| common::settlement(r))
    }

    fn settlement_by_msgid(&mut self, msgid: &str) -> Result<Option<SettlementRecord>> {
        self.query_opt(common::Q_SETTLEMENT_BY_MSGID, [msgid], |r| common::settlement(r))
    }

    fn settlements(&mut self, filter: &SettlementFilter, limit: i64) -> Result<Vec<SettlementRecord>> {
        let Some(params) = filter_params(filter, Some(limit)) else {
            return Ok(Vec::new());
        };
        let sql = common::settlement_query(filter, false);
        self.query_all(&sql, rusqlite::params_from_iter(params), |r| common::settlement(r))
    }

    fn settlements_cancelled(&mut self, filter: &SettlementFilter, limit: i64) -> Result<Vec<SettlementRecord>> {
        let every = SettlementFilter {
            in_force_only: false,
            ..filter.clone()
        };
        let Some(params) = filter_params(&every, Some(limit)) else {
            return Ok(Vec::new());
        };
        let sql = common::cancelled_settlement_query(&every);
        self.query_all(&sql, rusqlite::params_from_iter(params), |r| common::settlement(r))
    }

    fn settlement_totals(&mut self, filter: &SettlementFilter) -> Result<SettlementTotals> {
        let Some(params) = filter_params(filter, None) else {
            return Ok(SettlementTotals::default());
        };
        let sql = common::settlement_query(filter, true);
        self.query_one(&sql, rusqlite::params_from_iter(params), |r| {
            common::settlement_totals(r)
        })
    }

    fn message(&mut self, msgid: &str) -> Result<Option<MessageRecord>> {
        self.query_opt(common::Q_MESSAGE, [msgid], |r| common::message(r))
    }

    fn messages(&mut self, msgids: &[&str]) -> Result<Vec<MessageRecord>> {
        assert!(
            msgids.len() <= crate::MESSAGES_LOOKUP_MAX,
            "msgid lookup above its limit"
        );
        // In process, a prepared point query per id is as fast as one IN list, and simpler.
        let mut out = Vec::new();
        for msgid in msgids {
            if let Some(m) = self.message(msgid)? {
                out.push(m);
            }
        }
        Ok(out)
    }

    fn chronic_filings(&mut self, person_no: &str) -> Result<Vec<ChronicFilingRecord>> {
        self.query_all(common::Q_CHRONIC_FILINGS, [person_no], |r| common::chronic_filing(r))
    }

    fn settlement_lists(&mut self, from: NaiveDate, to: NaiveDate) -> Result<Vec<SettlementListRecord>> {
        let params = params![date_text(from), date_text(to)];
        self.query_all(common::Q_SETTLEMENT_LISTS, params, |r| common::settlement_list(r))
    }

    fn settlement_list(&mut self, settlement_id: &str) -> Result<Option<SettlementListRecord>> {
        self.query_opt(common::Q_SETTLEMENT_LIST, [settlement_id], |r| {
            common::settlement_list(r)
        })
    }

    fn exchange_file(&mut self, file_no: &str) -> Result<Option<ExchangeFileRecord>> {
        self.query_opt(common::Q_EXCHANGE_FILE, [file_no], |r| common::exchange_file(r))
    }

    fn exchange_file_usage(&mut self, institution: &str, now: chrono::NaiveDateTime) -> Result<(i64, i64)> {
        const Q: &str = "SELECT COUNT(*), COALESCE(SUM(length(bytes)), 0) FROM exchange_files \
                         WHERE institution = ?1 AND expires_at >= ?2";
        self.conn
            .query_row(Q, params![institution, time_text(now)], |r| Ok((r.get(0)?, r.get(1)?)))
            .map_err(db_err)
    }

    fn reference_table_latest(&mut self, kind: &str) -> Result<Option<ReferenceTableRecord>> {
        self.query_opt(common::Q_REFERENCE_TABLE_LATEST, [kind], |r| common::reference_table(r))
    }

    fn finding(&mut self, finding_id: &str) -> Result<Option<FindingRecord>> {
        self.query_opt(common::Q_FINDING, [finding_id], |r| common::finding(r))
    }

    fn institution_credit(&mut self, institution: &str, from: NaiveDate, to: NaiveDate) -> Result<(i64, i64)> {
        let Some((lo, hi)) = common::day_range(from, to) else {
            return Ok((0, 0));
        };
        self.query_all(
            common::Q_INSTITUTION_CREDIT,
            params![institution, time_text(lo), time_text(hi)],
            |r| common::two_counts(r),
        )
        .map(|rows| rows.first().copied().unwrap_or((0, 0)))
    }

    fn suspensions(&mut self, now: chrono::NaiveDateTime) -> Result<Vec<(String, chrono::NaiveDateTime, String)>> {
        self.query_all(common::Q_SUSPENSIONS, [time_text(now)], |r| common::suspension(r))
    }

    fn case(&mut self, case_id: &str) -> Result<Option<CaseRecord>> {
        self.query_opt(common::Q_CASE, [case_id], |r| common::case(r))
    }

    fn doctor_points(&mut self, doctor: &str) -> Result<Vec<(chrono::NaiveDateTime, i64)>> {
        self.query_all(common::Q_DOCTOR_POINTS, [doctor], |r| common::doctor_point(r))
    }

    fn screen_finding_ids(&mut self) -> Result<Vec<String>> {
        self.query_all(common::Q_SCREEN_FINDING_IDS, [], |r| common::finding_id(r))
    }

    fn screening_set(&mut self, from: NaiveDate, to: NaiveDate) -> Result<ScreeningSet> {
        let Some((lo, hi)) = common::day_range(from, to) else {
            return Ok(ScreeningSet::default());
        };
        let (lo, hi) = (time_text(lo), time_text(hi));
        Ok(ScreeningSet {
            settlements: self.query_all(common::Q_SCREEN_SETTLEMENTS, params![lo, hi], |r| {
                common::screened_settlement(r)
            })?,
            visits: self.query_all(common::Q_SCREEN_VISITS, params![lo, hi], |r| common::visit(r))?,
            line_times: self.query_all(&common::screen_lines_query(), params![lo, hi], |r| common::line_time(r))?,
        })
    }

    fn employer(&mut self, credit_code: &str) -> Result<Option<EmployerRecord>> {
        self.query_opt(common::Q_EMPLOYER, [credit_code], |r| common::employer(r))
    }

    fn enrolment(&mut self, certno: &str) -> Result<Option<EnrolmentRecord>> {
        self.query_opt(common::Q_ENROLMENT, [certno], |r| common::enrolment(r))
    }

    fn enrolment_of_person(&mut self, person_no: &str) -> Result<Option<EnrolmentRecord>> {
        self.query_opt(common::Q_ENROLMENT_OF_PERSON, [person_no], |r| common::enrolment(r))
    }

    fn run_candidates(
        &mut self,
        insurance: yibao_codes::InsuranceType,
        month_first_day: NaiveDate,
        after: &str,
        limit: i64,
    ) -> Result<Vec<RunCandidate>> {
        let params = params![
            insurance.code(),
            date_text(month_first_day),
            after,
            common::non_negative(limit)
        ];
        self.query_all(common::Q_RUN_CANDIDATES, params, |r| common::run_candidate(r))
    }

    fn contribution_run(
        &mut self,
        period: i32,
        insurance: yibao_codes::InsuranceType,
    ) -> Result<Option<ContributionRunRecord>> {
        self.query_opt(common::Q_CONTRIBUTION_RUN, params![period, insurance.code()], |r| {
            common::contribution_run(r)
        })
    }

    fn enrolment_count(&mut self) -> Result<i64> {
        self.query_one(common::Q_ENROLMENT_COUNT, [], |r| common::count(r, "enrolments"))
    }

    fn contributions_of_person(&mut self, person_no: &str) -> Result<Vec<ContributionRecord>> {
        self.query_all(common::Q_CONTRIBUTIONS_OF_PERSON, [person_no], |r| {
            common::contribution(r)
        })
    }

    fn account_entries_of_person(&mut self, person_no: &str) -> Result<Vec<AccountEntryRecord>> {
        self.query_all(common::Q_ACCOUNT_ENTRIES_OF_PERSON, [person_no], |r| {
            common::account_entry(r)
        })
    }

    fn ledger_totals(&mut self, from: i32, to: i32) -> Result<Vec<LedgerTotal>> {
        self.query_all(common::Q_LEDGER_TOTALS, params![from, to], |r| common::ledger_total(r))
    }

    fn ledger_balances(&mut self) -> Result<Vec<(String, yibao_money::Money, yibao_money::Money)>> {
        self.query_all(common::Q_LEDGER_BALANCES, [], |r| common::ledger_balance(r))
    }

    fn suspended_of_employer(
        &mut self,
        insurance: yibao_codes::InsuranceType,
        employer: &str,
    ) -> Result<Vec<EnrolmentRecord>> {
        self.query_all(
            common::Q_SUSPENDED_OF_EMPLOYER,
            params![insurance.code(), employer],
            |r| common::enrolment(r),
        )
    }

    fn employers_in_arrears(&mut self) -> Result<Vec<EmployerRecord>> {
        self.query_all(common::Q_EMPLOYERS_IN_ARREARS, [], |r| common::employer(r))
    }

    fn arrears_candidates(
        &mut self,
        insurance: yibao_codes::InsuranceType,
        before: i32,
    ) -> Result<Vec<(String, Option<i32>)>> {
        self.query_all(common::Q_ARREARS_CANDIDATES, params![insurance.code(), before], |r| {
            common::arrears_candidate(r)
        })
    }

    fn period_closes(&mut self) -> Result<Vec<PeriodCloseRecord>> {
        self.query_all(common::Q_PERIOD_CLOSES, [], |r| common::period_close(r))
    }

    fn closing_entries(&mut self) -> Result<Vec<LedgerEntry>> {
        self.query_all(common::Q_CLOSING_ENTRIES, [], |r| common::ledger_entry(r))
    }

    fn audit_count(&mut self) -> Result<i64> {
        self.query_one(common::Q_AUDIT_COUNT, [], |r| common::count(r, "audit_log"))
    }
}

/// The parameters of [`common::settlement_query`], or `None` when the dates hold no time.
fn filter_params(filter: &SettlementFilter, limit: Option<i64>) -> Option<Vec<rusqlite::types::Value>> {
    use rusqlite::types::Value;
    let (lo, hi) = common::day_range(filter.from, filter.to)?;
    let mut params = vec![
        Value::Text(filter.institution.clone()),
        Value::Text(time_text(lo)),
        Value::Text(time_text(hi)),
    ];
    if let Some(insurance) = filter.insurance {
        params.push(Value::Text(insurance.code().to_owned()));
    }
    if let Some(clearing_type) = &filter.clearing_type {
        params.push(Value::Text(clearing_type.clone()));
    }
    if let Some(limit) = limit {
        params.push(Value::Integer(common::non_negative(limit)));
    }
    Some(params)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_store_runs_wal_with_full_sync_and_foreign_keys() {
        let path = std::env::temp_dir().join(format!("yibao-store-pragmas-{}.db", std::process::id()));
        let store = SqliteStore::open(&path).unwrap();
        let get = |name: &str| -> String {
            store
                .conn
                .pragma_query_value(None, name, |r| r.get::<_, rusqlite::types::Value>(0))
                .map(|v| match v {
                    rusqlite::types::Value::Text(t) => t,
                    rusqlite::types::Value::Integer(i) => i.to_string(),
                    other => format!("{other:?}"),
                })
                .unwrap()
        };
        assert_eq!(get("journal_mode"), "wal");
        assert_eq!(get("synchronous"), "2"); // FULL
        assert_eq!(get("foreign_keys"), "1");
        drop(store);
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
        }
    }

    #[test]
    fn urls() {
        assert!(SqliteStore::open_url("sqlite::memory:").is_ok());
        assert!(SqliteStore::open_url("sqlite://:memory:").is_ok());
        assert!(matches!(SqliteStore::open_url("sqlite://"), Err(StoreError::BadUrl(_))));
        assert!(matches!(
            SqliteStore::open_url("sqlite:x.db"),
            Err(StoreError::BadUrl(_))
        ));
    }
}
