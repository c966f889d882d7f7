//! The PostgreSQL backend.
//!
//! Reads use prepared statements, prepared once per connection. A commit is one round trip: the
//! whole batch is rendered as one SQL script (`BEGIN; …; COMMIT;`) of multi-row statements with
//! every value written as a literal by [`crate::literal`], and sent with `batch_execute`. Writes
//! that must hit existing rows (a balance, a visit update, a cancellation, marking fee lines)
//! check it inside the script with `yibao_expect_keys` (created by the migration), which raises
//! and so aborts the transaction. On any error the transaction is rolled back.
//!
//! Bulk jobs (an enrolment import, a monthly run) write groups of thousands to millions of rows
//! of one kind: such a group goes by binary `COPY` instead, in the same transaction and order
//! (see [`COPY_ROWS_MIN`] and `PostgresStore::commit_bulk`).

use std::collections::{HashMap, HashSet};
use std::fmt::Write;

use chrono::{NaiveDate, NaiveDateTime};
use postgres::types::ToSql;
use postgres::{Client, NoTls, Statement};
use yibao_settle::Accumulator;

use crate::common::{self, groups_text, RowAccess};
use crate::literal::{push_text, Row};
use crate::{
    AccountEntryRecord, AuditRecord, CaseRecord, ChronicFilingRecord, ContributionRecord, ContributionRunRecord,
    EmployerRecord, EnrolmentRecord, ExchangeFileRecord, FeeLineRecord, FindingRecord, InstitutionRecord, LedgerEntry,
    LedgerTotal, MessageRecord, PersonRecord, ReferenceTableRecord, Result, RunCandidate, ScreeningSet,
    SettlementFilter, SettlementListRecord, SettlementRecord, SettlementTotals, Store, StoreError, VisitRecord,
    WriteBatch, WriteOp,
};

/// The migrations, in order: (version, name, SQL).
const MIGRATIONS: &[(i64, &str, &str)] = &[
    (1, "init", include_str!("../migrations/postgres/0001_init.sql")),
    (2, "drg", include_str!("../migrations/postgres/0002_drg.sql")),
    (
        3,
        "enrolment",
        include_str!("../migrations/postgres/0003_enrolment.sql"),
    ),
    (4, "family", include_str!("../migrations/postgres/0004_family.sql")),
    (5, "close", include_str!("../migrations/postgres/0005_close.sql")),
    (6, "arrears", include_str!("../migrations/postgres/0006_arrears.sql")),
    (
        7,
        "person_fillfactor",
        include_str!("../migrations/postgres/0007_person_fillfactor.sql"),
    ),
    (
        8,
        "exchange_files",
        include_str!("../migrations/postgres/0008_exchange_files.sql"),
    ),
    (
        9,
        "unread_indexes",
        include_str!("../migrations/postgres/0009_unread_indexes.sql"),
    ),
    (
        10,
        "institution_keys",
        include_str!("../migrations/postgres/0010_institution_keys.sql"),
    ),
    (
        11,
        "message_digest",
        include_str!("../migrations/postgres/0011_message_digest.sql"),
    ),
    (
        12,
        "supervision_findings",
        include_str!("../migrations/postgres/0012_supervision_findings.sql"),
    ),
    (
        13,
        "supervision_cases",
        include_str!("../migrations/postgres/0013_supervision_cases.sql"),
    ),
    (
        14,
        "visit_doctor",
        include_str!("../migrations/postgres/0014_visit_doctor.sql"),
    ),
];

/// The most rows one rendered statement carries; longer runs are split.
const ROWS_PER_STATEMENT: usize = 1000;

/// The SQLSTATE `yibao_expect_keys` raises.
const MISSING_ROWS_STATE: &str = "YB001";

/// A PostgreSQL database: one connection, used from one thread.
pub struct PostgresStore {
    client: Client,
    schema: Option<String>,
    statements: HashMap<String, Statement>,
}

fn pg_err(e: postgres::Error) -> StoreError {
    let Some(db) = e.as_db_error() else {
        return StoreError::Database(e.to_string());
    };
    let code = db.code().code();
    let mut message = db.message().to_owned();
    if let Some(detail) = db.detail() {
        message.push_str(" (");
        message.push_str(detail);
        message.push(')');
    }
    // Class 23: integrity constraint violations (unique, foreign key, check, not null).
    if code.starts_with("23") || code == MISSING_ROWS_STATE {
        StoreError::Rejected(message)
    } else {
        StoreError::Database(format!("{code}: {message}"))
    }
}

/// A schema name we accept in a URL: it is then quoted as an identifier.
fn valid_schema(name: &str) -> bool {
    (1..=63).contains(&name.len()) && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

/// Splits our `schema=NAME` parameter off the URL, leaving what libpq's URL form understands.
fn split_schema(url: &str) -> Result<(String, Option<String>)> {
    let Some((base, query)) = url.split_once('?') else {
        return Ok((url.to_owned(), None));
    };
    let mut schema = None;
    let mut rest = Vec::new();
    for pair in query.split('&') {
        match pair.strip_prefix("schema=") {
            Some(name) if valid_schema(name) => schema = Some(name.to_owned()),
            Some(_) => return Err(StoreError::BadUrl(common::redact_url(url))),
            None if pair.is_empty() => {}
            None => rest.push(pair),
        }
    }
    let url = if rest.is_empty() {
        base.to_owned()
    } else {
        format!("{base}?{}", rest.join("&"))
    };
    Ok((url, schema))
}

fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

impl RowAccess for postgres::Row {
    fn blob(&self, i: usize) -> std::result::Result<Option<Vec<u8>>, String> {
        self.try_get::<_, Option<Vec<u8>>>(i).map_err(|e| e.to_string())
    }

    fn text(&self, i: usize) -> std::result::Result<Option<String>, String> {
        self.try_get::<_, Option<String>>(i).map_err(|e| e.to_string())
    }

    fn int(&self, i: usize) -> std::result::Result<Option<i64>, String> {
        self.try_get::<_, Option<i64>>(i).map_err(|e| e.to_string())
    }

    fn boolean(&self, i: usize) -> std::result::Result<Option<bool>, String> {
        self.try_get::<_, Option<bool>>(i).map_err(|e| e.to_string())
    }

    fn date(&self, i: usize) -> std::result::Result<Option<NaiveDate>, String> {
        self.try_get::<_, Option<NaiveDate>>(i).map_err(|e| e.to_string())
    }

    fn time(&self, i: usize) -> std::result::Result<Option<NaiveDateTime>, String> {
        self.try_get::<_, Option<NaiveDateTime>>(i).map_err(|e| e.to_string())
    }
}

type Params<'a> = [&'a (dyn ToSql + Sync)];

impl PostgresStore {
    /// Settlements by a listing query of [`common::settlement_query`]'s shape (institution, two
    /// instants, optional insurance and clearing type, limit).
    fn settlements_by(&mut self, filter: &SettlementFilter, limit: i64, sql: &str) -> Result<Vec<SettlementRecord>> {
        let Some(params) = filter_params(filter, Some(limit)) else {
            return Ok(Vec::new());
        };
        let params: Vec<&(dyn ToSql + Sync)> = params.iter().map(|p| p.as_ref()).collect();
        self.query_all(sql, &params, common::settlement)
    }

    /// Connects by URL (`postgres://user@host:port/db`, libpq's URL form, plus our `schema=`).
    /// Plain TCP or Unix socket, no TLS.
    pub fn connect(url: &str) -> Result<PostgresStore> {
        let (conn_url, schema) = split_schema(url)?;
        let client = Client::connect(&conn_url, NoTls)
            .map_err(|e| StoreError::Database(format!("无法连接 {}: {e}", common::redact_url(&conn_url))))?;
        let mut store = PostgresStore {
            client,
            schema,
            statements: HashMap::new(),
        };
        // The literal rendering depends on standard_conforming_strings; durability on
        // synchronous_commit. Set both and check the first.
        let mut setup = String::from(
            "SET standard_conforming_strings = on; SET synchronous_commit = on; \
             SET client_min_messages = warning;",
        );
        if let Some(schema) = &store.schema {
            let _ = write!(setup, " SET search_path TO {};", quote_ident(schema));
        }
        store.client.batch_execute(&setup).map_err(pg_err)?;
        let scs: String = store
            .client
            .query_one("SELECT current_setting('standard_conforming_strings')", &[])
            .map_err(pg_err)?
            .get(0);
        if scs != "on" {
            return Err(StoreError::Database(format!(
                "standard_conforming_strings 必须为 on, 实为 {scs}"
            )));
        }
        Ok(store)
    }

    /// The schema given by `?schema=`, if any.
    pub fn schema(&self) -> Option<&str> {
        self.schema.as_deref()
    }

    fn statement(&mut self, sql: &str) -> Result<Statement> {
        if let Some(s) = self.statements.get(sql) {
            return Ok(s.clone());
        }
        let s = self.client.prepare(sql).map_err(pg_err)?;
        self.statements.insert(sql.to_owned(), s.clone());
        Ok(s)
    }

    fn query_all<T>(
        &mut self,
        sql: &str,
        params: &Params<'_>,
        decode: fn(&postgres::Row) -> Result<T>,
    ) -> Result<Vec<T>> {
        let stmt = self.statement(sql)?;
        let rows = self.client.query(&stmt, params).map_err(pg_err)?;
        rows.iter().map(decode).collect()
    }

    /// Rows whose key is any of `keys` (`WHERE key = ANY($1)`): many lookups in one round trip.
    fn query_any<T>(&mut self, sql: &str, keys: &[&str], decode: fn(&postgres::Row) -> Result<T>) -> Result<Vec<T>> {
        assert!(
            keys.len() <= crate::MESSAGES_LOOKUP_MAX,
            "lookup of {} keys above its limit",
            keys.len()
        );
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        let keys: Vec<&str> = keys.to_vec();
        self.query_all(sql, &[&keys], decode)
    }

    fn query_opt<T>(
        &mut self,
        sql: &str,
        params: &Params<'_>,
        decode: fn(&postgres::Row) -> Result<T>,
    ) -> Result<Option<T>> {
        let stmt = self.statement(sql)?;
        let row = self.client.query_opt(&stmt, params).map_err(pg_err)?;
        row.as_ref().map(decode).transpose()
    }

    fn query_one<T>(&mut self, sql: &str, params: &Params<'_>, decode: fn(&postgres::Row) -> Result<T>) -> Result<T> {
        let stmt = self.statement(sql)?;
        let row = self.client.query_one(&stmt, params).map_err(pg_err)?;
        decode(&row)
    }
}

// ---------------------------------------------------------------------------------------------
// Rendering a batch.

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Institution,
    Person,
    Balance,
    InsertVisit,
    UpdateVisit,
    FeeLines,
    DeleteFeeLines,
    MarkFeeLines,
    Settlement,
    Cancel,
    Accumulator,
    Ledger,
    Message,
    Audit,
    Filing,
    SettlementList,
    ReferenceTable,
    Employer,
    Enrolment,
    Contributions,
    ContributionRun,
    AccountEntries,
    ClosePeriod,
    ExchangeFile,
    Findings,
    FindingFeedback,
    Case,
}

fn kind(op: &WriteOp) -> Kind {
    match op {
        WriteOp::UpsertInstitution(_) => Kind::Institution,
        WriteOp::UpsertPerson(_) => Kind::Person,
        WriteOp::SetAccountBalance { .. } => Kind::Balance,
        WriteOp::InsertVisit(_) => Kind::InsertVisit,
        WriteOp::UpdateVisit(_) => Kind::UpdateVisit,
        WriteOp::InsertFeeLines(_) => Kind::FeeLines,
        WriteOp::DeleteFeeLines { .. } => Kind::DeleteFeeLines,
        WriteOp::MarkFeeLinesSettled { .. } => Kind::MarkFeeLines,
        WriteOp::InsertSettlement(_) => Kind::Settlement,
        WriteOp::CancelSettlement { .. } => Kind::Cancel,
        WriteOp::SetAccumulator { .. } => Kind::Accumulator,
        WriteOp::InsertLedger(_) => Kind::Ledger,
        WriteOp::InsertMessage(_) => Kind::Message,
        WriteOp::InsertAudit(_) => Kind::Audit,
        WriteOp::UpsertChronicFiling(_) => Kind::Filing,
        WriteOp::UpsertSettlementList(_) => Kind::SettlementList,
        WriteOp::UpsertReferenceTable(_) => Kind::ReferenceTable,
        WriteOp::UpsertEmployer(_) => Kind::Employer,
        WriteOp::UpsertEnrolment(_) => Kind::Enrolment,
        WriteOp::InsertContributions(_) => Kind::Contributions,
        WriteOp::InsertContributionRun(_) => Kind::ContributionRun,
        WriteOp::InsertAccountEntries(_) => Kind::AccountEntries,
        WriteOp::ClosePeriod { .. } => Kind::ClosePeriod,
        WriteOp::InsertExchangeFile(_) => Kind::ExchangeFile,
        WriteOp::InsertFindings(_) => Kind::Findings,
        WriteOp::SetFindingFeedback { .. } => Kind::FindingFeedback,
        WriteOp::UpsertCase(_) => Kind::Case,
    }
}

/// What a group of ops must not be merged across: the rows (or sets of rows) an op reads or
/// writes. Rows are named by table and key; `VisitRow` (that the visit exists) and
/// `VisitContent` (its columns) are apart so that, for instance, updating a visit does not
/// conflict with inserting a settlement that refers to it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Res {
    InstitutionRow,
    PersonRow,
    PersonBalance,
    VisitRow,
    VisitContent,
    /// All fee lines of one visit.
    FeeLines,
    SettlementRow,
    SettlementContent,
    Accumulator,
    Ledger,
    Message,
    Audit,
    Filing,
    SettlementList,
    ReferenceTable,
    Employer,
    Enrolment,
    Contribution,
    AccountEntry,
    ExchangeFile,
    Finding,
    Case,
}

/// One access: (what, key, written).
type Access = (Res, String, bool);

fn read(res: Res, key: &str) -> Access {
    (res, key.to_owned(), false)
}

fn write(res: Res, key: &str) -> Access {
    (res, key.to_owned(), true)
}

/// Every row the op reads (including through a foreign key or an existence check) or writes.
fn accesses(op: &WriteOp) -> Vec<Access> {
    use Res::*;
    match op {
        WriteOp::UpsertInstitution(r) => vec![write(InstitutionRow, &r.code)],
        WriteOp::UpsertPerson(r) => {
            // The certificate number is unique across persons, but only person upserts write it,
            // and ops of one kind keep their order.
            vec![write(PersonRow, &r.person_no), write(PersonBalance, &r.person_no)]
        }
        WriteOp::SetAccountBalance { person_no, .. } => {
            vec![read(PersonRow, person_no), write(PersonBalance, person_no)]
        }
        WriteOp::InsertVisit(r) => vec![
            write(VisitRow, &r.visit_id),
            write(VisitContent, &r.visit_id),
            read(PersonRow, &r.person_no),
            read(InstitutionRow, &r.institution),
        ],
        WriteOp::UpdateVisit(r) => vec![
            read(VisitRow, &r.visit_id),
            write(VisitContent, &r.visit_id),
            read(PersonRow, &r.person_no),
            read(InstitutionRow, &r.institution),
        ],
        WriteOp::InsertFeeLines(lines) => {
            let mut out = Vec::new();
            for l in lines {
                out.push(write(FeeLines, &l.visit_id));
                out.push(read(VisitRow, &l.visit_id));
                if let Some(id) = &l.settlement_id {
                    out.push(read(SettlementRow, id));
                }
            }
            out
        }
        WriteOp::DeleteFeeLines { visit_id, .. } => vec![write(FeeLines, visit_id)],
        WriteOp::MarkFeeLinesSettled {
            visit_id,
            settlement_id,
            ..
        } => {
            let mut out = vec![write(FeeLines, visit_id)];
            if let Some(id) = settlement_id {
                out.push(read(SettlementRow, id));
            }
            out
        }
        WriteOp::InsertSettlement(r) => vec![
            write(SettlementRow, &r.settlement_id),
            write(SettlementContent, &r.settlement_id),
            read(VisitRow, &r.visit_id),
            read(PersonRow, &r.person_no),
            read(InstitutionRow, &r.institution),
        ],
        WriteOp::CancelSettlement { settlement_id, .. } => {
            vec![
                read(SettlementRow, settlement_id),
                write(SettlementContent, settlement_id),
            ]
        }
        WriteOp::SetAccumulator {
            person_no, year, key, ..
        } => vec![
            write(Accumulator, &format!("{person_no}\0{year}\0{key}")),
            read(PersonRow, person_no),
        ],
        WriteOp::InsertLedger(_) | WriteOp::ClosePeriod { .. } => vec![write(Ledger, "")],
        WriteOp::InsertMessage(r) => vec![write(Message, &r.msgid)],
        WriteOp::InsertAudit(_) => vec![write(Audit, "")],
        WriteOp::UpsertChronicFiling(r) => {
            vec![write(Filing, &r.filing_id), read(PersonRow, &r.person_no)]
        }
        WriteOp::UpsertSettlementList(r) => {
            vec![
                write(SettlementList, &r.settlement_id),
                read(SettlementRow, &r.settlement_id),
            ]
        }
        WriteOp::UpsertReferenceTable(r) => vec![write(ReferenceTable, &format!("{}\0{}", r.kind, r.version))],
        // The purge before the insert touches every expired file: one group at a time.
        WriteOp::InsertExchangeFile(r) => vec![write(ExchangeFile, ""), read(InstitutionRow, &r.institution)],
        // Inserts skip a stored dedupe key: rows of one table, one group at a time.
        WriteOp::InsertFindings(_) => vec![write(Finding, "")],
        WriteOp::SetFindingFeedback { finding_id, .. } => vec![write(Finding, finding_id), read(Finding, "")],
        WriteOp::UpsertCase(r) => vec![write(Case, &r.case_id)],
        WriteOp::UpsertEmployer(r) => vec![write(Employer, &r.credit_code)],
        WriteOp::UpsertEnrolment(r) => {
            let mut out = vec![
                write(Enrolment, &r.certno),
                write(Enrolment, &r.person_no),
                read(PersonRow, &r.person_no),
            ];
            if let Some(e) = &r.employer {
                out.push(read(Employer, e));
            }
            out
        }
        WriteOp::InsertContributions(rows) => {
            let mut out = vec![write(Contribution, "")];
            out.extend(rows.iter().map(|r| read(PersonRow, &r.person_no)));
            out
        }
        WriteOp::InsertContributionRun(r) => vec![write(Contribution, &r.run_id)],
        WriteOp::InsertAccountEntries(rows) => {
            let mut out = vec![write(AccountEntry, "")];
            out.extend(rows.iter().map(|r| read(PersonRow, &r.person_no)));
            out
        }
    }
}

/// For upserts and keyed updates: the rows the op writes by key. One statement must not write a
/// row twice (PostgreSQL refuses it for `ON CONFLICT DO UPDATE`, and an `UPDATE … FROM` would
/// apply only one of them), so such an op does not join a group that already has its key.
fn row_keys(op: &WriteOp) -> Vec<String> {
    match op {
        WriteOp::UpsertInstitution(r) => vec![r.code.clone()],
        WriteOp::UpsertPerson(r) => vec![r.person_no.clone()],
        WriteOp::SetAccountBalance { person_no, .. } => vec![person_no.clone()],
        WriteOp::UpdateVisit(r) => vec![r.visit_id.clone()],
        WriteOp::CancelSettlement { settlement_id, .. } => vec![settlement_id.clone()],
        WriteOp::SetAccumulator {
            person_no, year, key, ..
        } => {
            vec![format!("{person_no}\0{year}\0{key}")]
        }
        WriteOp::UpsertChronicFiling(r) => vec![r.filing_id.clone()],
        WriteOp::UpsertSettlementList(r) => vec![r.settlement_id.clone()],
        WriteOp::UpsertReferenceTable(r) => vec![format!("{}\0{}", r.kind, r.version)],
        WriteOp::UpsertEmployer(r) => vec![r.credit_code.clone()],
        WriteOp::UpsertEnrolment(r) => vec![r.certno.clone(), format!("\0{}", r.person_no)],
        WriteOp::MarkFeeLinesSettled { visit_id, sns, .. } => {
            let mut keys: Vec<String> = sns.iter().map(|sn| format!("{visit_id}\0{sn}")).collect();
            keys.sort_unstable();
            keys.dedup();
            keys
        }
        _ => Vec::new(),
    }
}

/// Ops rendered as one multi-row statement (or a few, past [`ROWS_PER_STATEMENT`]).
struct Group<'a> {
    kind: Kind,
    ops: Vec<&'a WriteOp>,
    keys: HashSet<String>,
    /// What the group's ops touch: written (`true`) or only read.
    touched: HashMap<(Res, String), bool>,
}

impl<'a> Group<'a> {
    fn new(kind: Kind) -> Group<'a> {
        Group {
            kind,
            ops: Vec::new(),
            keys: HashSet::new(),
            touched: HashMap::new(),
        }
    }

    fn conflicts(&self, accesses: &[Access]) -> bool {
        accesses.iter().any(|(res, key, w)| {
            self.touched
                .get(&(*res, key.clone()))
                .is_some_and(|written| *w || *written)
        })
    }

    fn add(&mut self, op: &'a WriteOp, accesses: Vec<Access>, keys: Vec<String>) {
        self.ops.push(op);
        self.keys.extend(keys);
        for (res, key, w) in accesses {
            *self.touched.entry((res, key)).or_default() |= w;
        }
    }
}

/// Orders the batch into groups of one kind each, to be rendered in order. An op joins the last
/// group of its kind when no group after that one touches what the op touches (nothing it reads
/// is written there, nothing it writes is read or written there) and the group does not hold
/// its key: moving it there changes neither its effect nor whether any op fails. Ops of one kind
/// keep their order. Otherwise the op starts a new group at the end. So a batch of many
/// requests, each writing a settlement, its accumulators, a balance, ledger lines, a message and
/// an audit line, renders as about one statement per kind instead of one per op.
fn plan(ops: &[WriteOp]) -> Vec<Group<'_>> {
    let mut groups: Vec<Group<'_>> = Vec::new();
    for op in ops {
        let k = kind(op);
        let accesses = accesses(op);
        let keys = row_keys(op);
        let mut target = None;
        for (i, g) in groups.iter().enumerate().rev() {
            if g.kind == k && k != Kind::DeleteFeeLines {
                if !keys.iter().any(|key| g.keys.contains(key)) {
                    target = Some(i);
                }
                break;
            }
            if g.conflicts(&accesses) {
                break;
            }
        }
        let i = target.unwrap_or_else(|| {
            groups.push(Group::new(k));
            groups.len() - 1
        });
        groups[i].add(op, accesses, keys);
    }
    groups
}

/// The largest part of a batch script sent in one round trip.
const SCRIPT_PART_BYTES_MAX: usize = 64 << 20;

/// Splits a batch script into parts of about `max_bytes` (more only for a single statement that
/// is longer), each ending with a whole statement. Statements end with `;` and a newline outside
/// a string literal; literals are `'…'` with `''` for a quote and nothing else quoted
/// ([`crate::literal`]), so a quote toggles whether we are inside one.
fn script_parts(script: &str, max_bytes: usize) -> Vec<&str> {
    if script.len() <= max_bytes {
        return vec![script];
    }
    let bytes = script.as_bytes();
    let mut parts = Vec::new();
    let (mut start, mut quoted) = (0, false);
    for i in 0..bytes.len() {
        match bytes[i] {
            b'\'' => quoted = !quoted,
            b'\n' if !quoted && i > 0 && bytes[i - 1] == b';' && i + 1 - start >= max_bytes => {
                parts.push(&script[start..=i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    if start < script.len() {
        parts.push(&script[start..]);
    }
    parts
}

#[cfg(test)]
pub(crate) fn render_batch(ops: &[WriteOp]) -> Result<String> {
    render_script(ops, &plan(ops))
}

/// Renders the batch `ops`, planned as `groups`, as one transaction script: `BEGIN;`, one
/// multi-row statement per group (see [`plan`]), `COMMIT;`.
fn render_script(ops: &[WriteOp], groups: &[Group<'_>]) -> Result<String> {
    let mut sql = String::with_capacity(256 * ops.len() + 32);
    sql.push_str("BEGIN;\n");
    for group in groups {
        render_group(&mut sql, group.kind, &group.ops)?;
    }
    render_ledger_totals(&mut sql, ops)?;
    sql.push_str("COMMIT;\n");
    Ok(sql)
}

/// The upsert of the per-month ledger totals the batch's ledger entries add to: last, after every
/// entry of the batch.
fn render_ledger_totals(sql: &mut String, ops: &[WriteOp]) -> Result<()> {
    let totals = common::ledger_total_deltas(ops);
    if !totals.is_empty() {
        let items: Vec<&LedgerTotal> = totals.iter().collect();
        let tail = "ON CONFLICT (book, account, period) DO UPDATE SET debit = ledger_totals.debit + \
                    excluded.debit, credit = ledger_totals.credit + excluded.credit";
        insert_rows(
            sql,
            "ledger_totals",
            common::LEDGER_TOTAL_COLUMNS,
            tail,
            &items,
            |r, t| {
                r.text(&t.book)?.text(&t.account)?.int(i64::from(t.period))?;
                r.int(t.debit.fen())?.int(t.credit.fen())?;
                Ok(())
            },
        )?;
    }
    Ok(())
}

/// `INSERT INTO table (columns) VALUES (…), (…) tail;` in statements of at most
/// [`ROWS_PER_STATEMENT`] rows.
fn insert_rows<T>(sql: &mut String, table: &str, columns: &str, tail: &str, items: &[&T], row: RowFn<T>) -> Result<()> {
    for chunk in items.chunks(ROWS_PER_STATEMENT) {
        let _ = writeln!(sql, "INSERT INTO {table} ({columns}) VALUES");
        values(sql, chunk, row)?;
        sql.push_str(tail);
        sql.push_str(";\n");
    }
    Ok(())
}

fn values<T>(sql: &mut String, items: &[&T], row: RowFn<T>) -> Result<()> {
    for (n, item) in items.iter().enumerate() {
        if n > 0 {
            sql.push_str(",\n");
        }
        let mut r = Row::open(sql);
        row(&mut r, item)?;
        r.close();
    }
    Ok(())
}

/// An update of existing rows from a `VALUES` list, which fails the batch unless every listed
/// key was updated:
/// `WITH v (cols) AS (VALUES …), u AS (update … RETURNING t.key)
///  SELECT yibao_expect_keys(what, ARRAY(SELECT key FROM v), ARRAY(SELECT key FROM u));`
/// `update` refers to the values as `v` and returns the key column named as in `v`.
fn keyed_update<T>(
    sql: &mut String,
    cte_columns: &str,
    key: &str,
    update: &str,
    what: &str,
    items: &[&T],
    row: RowFn<T>,
) -> Result<()> {
    for chunk in items.chunks(ROWS_PER_STATEMENT) {
        let _ = writeln!(sql, "WITH v ({cte_columns}) AS (VALUES");
        values(sql, chunk, row)?;
        let _ = write!(sql, "),\nu AS ({update})\nSELECT yibao_expect_keys(");
        push_text(sql, what)?;
        let _ = writeln!(sql, ", ARRAY(SELECT {key} FROM v), ARRAY(SELECT {key} FROM u));");
    }
    Ok(())
}

fn institution_row(r: &mut dyn Values, x: &InstitutionRecord) -> Result<()> {
    r.text(&x.code)?.text(&x.name)?.text(&x.hosp_lv)?.text(&x.admdvs)?;
    r.text(&x.paas_id)?.text(&x.secret)?.boolean(x.active)?;
    Ok(())
}

fn person_row(r: &mut dyn Values, x: &PersonRecord) -> Result<()> {
    r.text(&x.person_no)?
        .text(&x.certno)?
        .text(&x.name)?
        .text(x.sex.code())?;
    r.date(x.birth_date)?.text(&x.ethnicity)?.text(x.insurance.code())?;
    r.text(&x.person_type.to_string())?
        .opt_int(x.tier.map(|t| i64::from(t.number())))?;
    r.text(&groups_text(&x.groups))?
        .boolean(x.civil_servant)?
        .text(&x.insured_admdvs)?;
    r.text(&x.employer_name)?.text(&x.status)?.date(x.enrolled_on)?;
    r.opt_date(x.benefits_from)?.int(x.account_balance.fen())?;
    r.opt_text(x.family_payer.as_deref())?;
    Ok(())
}

fn visit_row(r: &mut dyn Values, x: &VisitRecord) -> Result<()> {
    r.text(&x.visit_id)?.text(&x.person_no)?.text(&x.institution)?;
    r.text(x.insurance.code())?
        .text(x.medical_type.code())?
        .time(x.begin_time)?;
    r.opt_time(x.end_time)?
        .text(&x.his_visit_no)?
        .opt_text(x.disease_code.as_deref())?;
    r.opt_text(x.diagnosis_code.as_deref())?
        .text(x.status.code())?
        .boolean(x.in_county)?
        .opt_text(x.doctor.as_deref())?;
    Ok(())
}

fn fee_line_row(r: &mut dyn Values, x: &FeeLineRecord) -> Result<()> {
    r.text(&x.visit_id)?
        .text(&x.sn)?
        .text(&x.batch_no)?
        .text(&x.code)?
        .text(&x.local_code)?;
    r.int(x.quantity.ten_thousandths())?
        .int(x.price.millionths())?
        .int(x.amount.fen())?;
    r.time(x.occurred_at)?.opt_text(x.disease_code.as_deref())?;
    r.opt_text(x.refund_of.as_deref())?
        .opt_text(x.settlement_id.as_deref())?;
    Ok(())
}

fn settlement_row(r: &mut dyn Values, x: &SettlementRecord) -> Result<()> {
    r.text(&x.settlement_id)?
        .text(&x.visit_id)?
        .text(&x.person_no)?
        .text(&x.institution)?;
    r.text(x.insurance.code())?
        .text(x.medical_type.code())?
        .text(&x.clearing_type)?;
    r.time(x.settled_at)?
        .text(&x.msgid)?
        .text(&x.policy_id)?
        .int(i64::from(x.year))?;
    r.int(x.total.fen())?
        .int(x.fund_total.fen())?
        .int(x.account_pay.fen())?;
    r.int(x.cash_pay.fen())?
        .text(x.status.code())?
        .opt_time(x.cancelled_at)?;
    r.opt_text(x.cancel_msgid.as_deref())?
        .bytes(&common::pack(&x.output_json))?
        .bytes(&common::pack(&x.inputs_json))?;
    r.bytes(&common::pack(&x.deltas_json))?.int(x.mutual_aid_pay.fen())?;
    Ok(())
}

fn ledger_row(r: &mut dyn Values, x: &LedgerEntry) -> Result<()> {
    r.text(&x.posting_id)?
        .text(&x.book)?
        .text(&x.account)?
        .int(x.debit.fen())?;
    r.int(x.credit.fen())?.text(&x.settlement_id)?.time(x.posted_at)?;
    Ok(())
}

const PERIOD_CLOSE_COLUMNS: &str = "period, through_month, open_from, closed_at, summary_json";

fn period_close_row(r: &mut dyn Values, x: &crate::PeriodCloseRecord) -> Result<()> {
    r.text(&x.period)?.int(i64::from(x.through_month))?.date(x.open_from)?;
    r.time(x.closed_at)?.text(&x.summary_json)?;
    Ok(())
}

/// A closing entry: origin 1, which keeps it out of the per-month totals.
fn closing_entry_row(r: &mut dyn Values, x: &LedgerEntry) -> Result<()> {
    ledger_row(r, x)?;
    r.int(1)?;
    Ok(())
}

fn message_row(r: &mut dyn Values, x: &MessageRecord) -> Result<()> {
    r.text(&x.msgid)?
        .text(&x.infno)?
        .text(&x.institution)?
        .time(x.received_at)?;
    r.bytes(&common::pack(&x.response_json))?;
    r.bytes(&x.request_digest)?;
    Ok(())
}

fn audit_row(r: &mut dyn Values, x: &AuditRecord) -> Result<()> {
    r.text(&x.msgid)?
        .text(&x.infno)?
        .text(&x.institution)?
        .int(i64::from(x.infcode))?;
    r.int(x.duration_us)?.time(x.at)?.text(&x.message)?;
    Ok(())
}

fn filing_row(r: &mut dyn Values, x: &ChronicFilingRecord) -> Result<()> {
    r.text(&x.filing_id)?
        .text(&x.person_no)?
        .text(&x.disease_code)?
        .text(&x.disease_name)?;
    r.text(&x.institution)?
        .date(x.begin_date)?
        .opt_date(x.end_date)?
        .boolean(x.active)?;
    Ok(())
}

fn settlement_list_row(r: &mut dyn Values, x: &SettlementListRecord) -> Result<()> {
    r.text(&x.settlement_id)?
        .text(&x.visit_id)?
        .text(&x.person_no)?
        .text(&x.institution)?;
    r.text(x.insurance.code())?;
    r.date(x.discharge_date)?.text(&x.drg_version)?.text(&x.drg)?;
    r.int(x.total.fen())?.int(x.fund_total.fen())?;
    r.bytes(&common::pack(&x.grouping_json))?;
    r.bytes(&common::pack(&x.list_json))?;
    r.time(x.uploaded_at)?.text(&x.msgid)?;
    Ok(())
}

fn employer_row(r: &mut dyn Values, x: &EmployerRecord) -> Result<()> {
    r.text(&x.credit_code)?
        .text(&x.name)?
        .text(&x.admdvs)?
        .date(x.registered_on)?;
    r.opt_int(x.arrears_from.map(i64::from))?;
    Ok(())
}

fn enrolment_row(r: &mut dyn Values, x: &EnrolmentRecord) -> Result<()> {
    r.text(&x.certno)?
        .text(&x.person_no)?
        .text(x.insurance.code())?
        .text(&x.status)?;
    r.date(x.status_from)?;
    r.text(&x.person_kind)?.opt_text(x.employer.as_deref())?;
    r.opt_int(x.wage_base.map(yibao_money::Money::fen))?;
    r.bytes(&common::pack(&x.doc_json))?;
    r.time(x.updated_at)?;
    Ok(())
}

fn contribution_row(r: &mut dyn Values, x: &ContributionRecord) -> Result<()> {
    r.text(&x.contribution_id)?.text(&x.run_id)?.text(&x.person_no)?;
    r.opt_text(x.employer.as_deref())?;
    r.text(x.insurance.code())?.int(i64::from(x.period))?.text(&x.kind)?;
    for m in [
        x.base,
        x.employer_amount,
        x.individual_amount,
        x.pooled_amount,
        x.account_amount,
        x.subsidy_amount,
        x.large_expense_amount,
    ] {
        r.int(m.fen())?;
    }
    r.time(x.posted_at)?;
    Ok(())
}

fn account_entry_row(r: &mut dyn Values, x: &AccountEntryRecord) -> Result<()> {
    r.text(&x.entry_id)?
        .text(&x.person_no)?
        .time(x.posted_at)?
        .text(&x.kind)?;
    r.int(x.amount.fen())?.int(x.balance_after.fen())?.text(&x.reference)?;
    r.opt_text(x.counterparty.as_deref())?;
    Ok(())
}

fn exchange_file_row(r: &mut dyn Values, x: &ExchangeFileRecord) -> Result<()> {
    r.text(&x.file_no)?
        .text(&x.institution)?
        .text(&x.filename)?
        .text(&x.origin)?;
    r.bytes(&x.bytes)?.time(x.created_at)?.time(x.expires_at)?;
    Ok(())
}

fn finding_row(r: &mut dyn Values, x: &FindingRecord) -> Result<()> {
    r.text(&x.finding_id)?
        .text(&x.origin)?
        .text(&x.dedupe_key)?
        .text(&x.institution)?
        .text(&x.person_no)?
        .text(&x.visit_id)?;
    r.text(&x.rule_id)?
        .text(&x.severity)?
        .text(&x.action)?
        .int(x.amount.fen())?;
    r.time(x.found_at)?.text(&x.detail_json)?;
    r.opt_text(x.feedback_way.as_deref())?
        .opt_text(x.feedback_reason.as_deref())?
        .opt_time(x.feedback_at)?;
    Ok(())
}

fn case_row(r: &mut dyn Values, x: &CaseRecord) -> Result<()> {
    r.text(&x.case_id)?.text(&x.institution)?.text(&x.status)?;
    r.time(x.opened_at)?.time(x.updated_at)?.int(x.steps)?;
    r.int(x.amount_at_stake.fen())?
        .int(x.recovery.fen())?
        .int(x.penalty.fen())?;
    r.opt_text(x.doctor.as_deref())?
        .int(x.doctor_points)?
        .int(x.credit_points)?;
    r.opt_time(x.decided_at)?
        .text(&x.record_json)?
        .opt_time(x.suspended_until)?;
    Ok(())
}

fn reference_table_row(r: &mut dyn Values, x: &ReferenceTableRecord) -> Result<()> {
    r.text(&x.kind)?.text(&x.version)?.time(x.imported_at)?;
    r.bytes(&common::pack(&x.files_json))?;
    Ok(())
}

struct AccumulatorRow<'a> {
    person_no: &'a str,
    year: i32,
    key: &'a str,
    value: &'a Accumulator,
}

fn accumulator_row(r: &mut dyn Values, x: &AccumulatorRow<'_>) -> Result<()> {
    let a = x.value;
    r.text(x.person_no)?
        .int(i64::from(x.year))?
        .text(x.key)?
        .int(a.deductible.fen())?;
    r.int(a.fund.fen())?.int(a.base.fen())?.int(i64::from(a.visits))?;
    r.int(i64::from(a.admissions))?;
    Ok(())
}

struct BalanceRow<'a> {
    person_no: &'a str,
    balance: i64,
}

struct CancelRow<'a> {
    settlement_id: &'a str,
    cancelled_at: NaiveDateTime,
    cancel_msgid: &'a str,
}

fn upsert_tail(conflict: &str, columns: &str, key_columns: usize) -> String {
    format!(
        "\nON CONFLICT ({conflict}) DO UPDATE SET {}",
        common::update_set(columns, key_columns)
    )
}

fn render_group(sql: &mut String, kind: Kind, ops: &[&WriteOp]) -> Result<()> {
    macro_rules! collect {
        ($pattern:pat => $item:expr) => {
            ops.iter()
                .flat_map(|op| match op {
                    $pattern => $item,
                    _ => unreachable!("a group holds ops of one kind"),
                })
                .collect::<Vec<_>>()
        };
    }
    match kind {
        Kind::Institution => {
            let items = collect!(WriteOp::UpsertInstitution(r) => [r]);
            let tail = upsert_tail("code", common::INSTITUTION_COLUMNS, 1);
            let cols = common::INSTITUTION_COLUMNS;
            insert_rows(sql, "institutions", cols, &tail, &items, institution_row)
        }
        Kind::Person => {
            let items = collect!(WriteOp::UpsertPerson(r) => [r]);
            let tail = upsert_tail("person_no", common::PERSON_COLUMNS, 1);
            insert_rows(sql, "persons", common::PERSON_COLUMNS, &tail, &items, person_row)
        }
        Kind::Balance => {
            let rows = collect!(WriteOp::SetAccountBalance { person_no, balance } =>
                [BalanceRow { person_no, balance: balance.fen() }]);
            let items: Vec<&BalanceRow<'_>> = rows.iter().collect();
            keyed_update(
                sql,
                "person_no, account_balance",
                "person_no",
                "UPDATE persons AS t SET account_balance = v.account_balance FROM v \
                 WHERE t.person_no = v.person_no RETURNING t.person_no",
                common::MISSING_PERSON,
                &items,
                |r, x| {
                    r.text(x.person_no)?.int(x.balance)?;
                    Ok(())
                },
            )
        }
        Kind::InsertVisit => {
            let items = collect!(WriteOp::InsertVisit(r) => [r]);
            insert_rows(sql, "visits", common::VISIT_COLUMNS, "", &items, visit_row)
        }
        Kind::UpdateVisit => {
            let items = collect!(WriteOp::UpdateVisit(r) => [r]);
            let sets: Vec<String> = common::VISIT_COLUMNS
                .split(',')
                .skip(1)
                .map(|c| format!("{0} = v.{0}", c.trim()))
                .collect();
            let update = format!(
                "UPDATE visits AS t SET {} FROM v WHERE t.visit_id = v.visit_id \
                 RETURNING t.visit_id",
                sets.join(", ")
            );
            let what = common::MISSING_VISIT;
            keyed_update(sql, common::VISIT_COLUMNS, "visit_id", &update, what, &items, visit_row)
        }
        Kind::FeeLines => {
            let items = collect!(WriteOp::InsertFeeLines(lines) => lines.iter());
            insert_rows(sql, "fee_lines", common::FEE_LINE_COLUMNS, "", &items, fee_line_row)
        }
        Kind::DeleteFeeLines => {
            for op in ops {
                let WriteOp::DeleteFeeLines { visit_id, sn } = op else {
                    unreachable!("a group holds ops of one kind");
                };
                sql.push_str("DELETE FROM fee_lines WHERE visit_id = ");
                push_text(sql, visit_id)?;
                sql.push_str(" AND settlement_id IS NULL");
                if let Some(sn) = sn {
                    sql.push_str(" AND sn = ");
                    push_text(sql, sn)?;
                }
                sql.push_str(";\n");
            }
            Ok(())
        }
        Kind::MarkFeeLines => {
            // Rows (i: row, n: op, visit, sn, settlement); statements end between ops so that
            // one op's missing lines are reported together, as SQLite reports them.
            let mut start = 0;
            while start < ops.len() {
                let mut end = start;
                let mut rows = 0;
                while end < ops.len() && (end == start || rows < ROWS_PER_STATEMENT) {
                    if let WriteOp::MarkFeeLinesSettled { sns, .. } = ops[end] {
                        rows += sns.len();
                    }
                    end += 1;
                }
                if rows > 0 {
                    mark_fee_lines(sql, &ops[start..end])?;
                }
                start = end;
            }
            Ok(())
        }
        Kind::Settlement => {
            let items = collect!(WriteOp::InsertSettlement(r) => [r]);
            let cols = common::SETTLEMENT_COLUMNS;
            insert_rows(sql, "settlements", cols, "", &items, settlement_row)
        }
        Kind::Cancel => {
            let rows = collect!(WriteOp::CancelSettlement { settlement_id, cancelled_at, cancel_msgid } =>
                [CancelRow { settlement_id, cancelled_at: *cancelled_at, cancel_msgid }]);
            let items: Vec<&CancelRow<'_>> = rows.iter().collect();
            keyed_update(
                sql,
                "settlement_id, cancelled_at, cancel_msgid",
                "settlement_id",
                "UPDATE settlements AS t SET status = 'cancelled', \
                 cancelled_at = v.cancelled_at, cancel_msgid = v.cancel_msgid FROM v \
                 WHERE t.settlement_id = v.settlement_id AND t.status = 'settled' \
                 RETURNING t.settlement_id",
                common::MISSING_SETTLEMENT,
                &items,
                |r, x| {
                    r.text(x.settlement_id)?.time(x.cancelled_at)?.text(x.cancel_msgid)?;
                    Ok(())
                },
            )
        }
        Kind::Accumulator => {
            let rows = collect!(WriteOp::SetAccumulator { person_no, year, key, value } =>
                [AccumulatorRow { person_no, year: *year, key, value }]);
            let items: Vec<&AccumulatorRow<'_>> = rows.iter().collect();
            let cols = common::ACCUMULATOR_COLUMNS;
            let tail = upsert_tail("person_no, year, acc_key", cols, 3);
            insert_rows(sql, "accumulators", cols, &tail, &items, accumulator_row)
        }
        Kind::Ledger => {
            let items = collect!(WriteOp::InsertLedger(entries) => entries.iter());
            insert_rows(sql, "ledger_entries", common::LEDGER_COLUMNS, "", &items, ledger_row)
        }
        Kind::ClosePeriod => {
            let closes = collect!(WriteOp::ClosePeriod { close, .. } => [close]);
            insert_rows(
                sql,
                "period_closes",
                PERIOD_CLOSE_COLUMNS,
                "",
                &closes,
                period_close_row,
            )?;
            let entries = collect!(WriteOp::ClosePeriod { entries, .. } => entries.iter());
            let columns = format!("{}, origin", common::LEDGER_COLUMNS);
            insert_rows(sql, "ledger_entries", &columns, "", &entries, closing_entry_row)
        }
        Kind::Message => {
            let items = collect!(WriteOp::InsertMessage(r) => [r]);
            insert_rows(sql, "messages", common::MESSAGE_COLUMNS, "", &items, message_row)
        }
        Kind::Audit => {
            let items = collect!(WriteOp::InsertAudit(r) => [r]);
            insert_rows(sql, "audit_log", common::AUDIT_COLUMNS, "", &items, audit_row)
        }
        Kind::Filing => {
            let items = collect!(WriteOp::UpsertChronicFiling(r) => [r]);
            let cols = common::FILING_COLUMNS;
            let tail = upsert_tail("filing_id", cols, 1);
            insert_rows(sql, "chronic_filings", cols, &tail, &items, filing_row)
        }
        Kind::SettlementList => {
            let items = collect!(WriteOp::UpsertSettlementList(r) => [r]);
            let cols = common::SETTLEMENT_LIST_COLUMNS;
            let tail = upsert_tail("settlement_id", cols, 1);
            insert_rows(sql, "settlement_lists", cols, &tail, &items, settlement_list_row)
        }
        Kind::Findings => {
            let items = collect!(WriteOp::InsertFindings(rows) => rows);
            insert_rows(
                sql,
                "supervision_findings",
                common::FINDING_COLUMNS,
                " ON CONFLICT (dedupe_key) DO NOTHING",
                &items,
                finding_row,
            )
        }
        Kind::Case => {
            let items = collect!(WriteOp::UpsertCase(r) => [r]);
            let new: Vec<&CaseRecord> = items.iter().copied().filter(|r| r.steps == 1).collect();
            let next: Vec<&CaseRecord> = items.iter().copied().filter(|r| r.steps > 1).collect();
            if !new.is_empty() {
                insert_rows(sql, "supervision_cases", common::CASE_COLUMNS, "", &new, case_row)?;
            }
            if next.is_empty() {
                return Ok(());
            }
            // Only over the row of the step before: a stale write updates nothing and fails.
            keyed_update(
                sql,
                common::CASE_COLUMNS,
                "case_id",
                "UPDATE supervision_cases AS t SET institution = v.institution, status = v.status, \
                 opened_at = v.opened_at::timestamp, updated_at = v.updated_at::timestamp, steps = v.steps::bigint, \
                 amount_at_stake = v.amount_at_stake::bigint, recovery = v.recovery::bigint, penalty = v.penalty::bigint, \
                 doctor = v.doctor::text, doctor_points = v.doctor_points::bigint, credit_points = v.credit_points::bigint, \
                 decided_at = v.decided_at::timestamp, record_json = v.record_json, \
                 suspended_until = v.suspended_until::timestamp FROM v \
                 WHERE t.case_id = v.case_id AND t.steps = v.steps::bigint - 1 RETURNING t.case_id",
                common::STALE_CASE,
                &next,
                case_row,
            )
        }
        Kind::FindingFeedback => {
            let rows = collect!(WriteOp::SetFindingFeedback { finding_id, way, reason, at } =>
                [(finding_id, way, reason, *at)]);
            let items: Vec<_> = rows.iter().collect();
            keyed_update(
                sql,
                "finding_id, way, reason, at",
                "finding_id",
                "UPDATE supervision_findings AS t SET feedback_way = v.way, feedback_reason = v.reason, \
                 feedback_at = v.at FROM v WHERE t.finding_id = v.finding_id RETURNING t.finding_id",
                common::MISSING_FINDING,
                &items,
                |r, x| {
                    r.text(x.0)?.text(x.1)?.opt_text(x.2.as_deref())?.time(x.3)?;
                    Ok(())
                },
            )
        }
        Kind::ExchangeFile => {
            let items = collect!(WriteOp::InsertExchangeFile(r) => [r]);
            if let Some(earliest) = items.iter().map(|r| r.created_at).min() {
                sql.push_str("DELETE FROM exchange_files WHERE expires_at < ");
                crate::literal::push_time(sql, earliest)?;
                sql.push_str(";\n");
            }
            insert_rows(
                sql,
                "exchange_files",
                common::EXCHANGE_FILE_COLUMNS,
                "",
                &items,
                exchange_file_row,
            )
        }
        Kind::ReferenceTable => {
            let items = collect!(WriteOp::UpsertReferenceTable(r) => [r]);
            let cols = common::REFERENCE_TABLE_COLUMNS;
            let tail = upsert_tail("kind, version", cols, 2);
            insert_rows(sql, "reference_tables", cols, &tail, &items, reference_table_row)
        }
        Kind::Employer => {
            let items = collect!(WriteOp::UpsertEmployer(r) => [r]);
            let cols = common::EMPLOYER_COLUMNS;
            let tail = upsert_tail("credit_code", cols, 1);
            insert_rows(sql, "employers", cols, &tail, &items, employer_row)
        }
        Kind::Enrolment => {
            let items = collect!(WriteOp::UpsertEnrolment(r) => [r]);
            let cols = common::ENROLMENT_COLUMNS;
            let tail = upsert_tail("certno", cols, 1);
            insert_rows(sql, "enrolments", cols, &tail, &items, enrolment_row)
        }
        Kind::Contributions => {
            let items = collect!(WriteOp::InsertContributions(rows) => rows.iter());
            insert_rows(
                sql,
                "contributions",
                common::CONTRIBUTION_COLUMNS,
                "",
                &items,
                contribution_row,
            )
        }
        Kind::ContributionRun => {
            let items = collect!(WriteOp::InsertContributionRun(r) => [r]);
            insert_rows(
                sql,
                "contribution_runs",
                common::CONTRIBUTION_RUN_COLUMNS,
                "",
                &items,
                |r, x| {
                    r.text(&x.run_id)?
                        .text(x.insurance.code())?
                        .int(i64::from(x.period))?
                        .int(x.persons)?;
                    r.int(x.employer_amount.fen())?.int(x.individual_amount.fen())?;
                    r.int(x.pooled_amount.fen())?
                        .int(x.account_amount.fen())?
                        .time(x.run_at)?;
                    Ok(())
                },
            )
        }
        Kind::AccountEntries => {
            let items = collect!(WriteOp::InsertAccountEntries(rows) => rows.iter());
            insert_rows(
                sql,
                "account_entries",
                common::ACCOUNT_ENTRY_COLUMNS,
                "",
                &items,
                account_entry_row,
            )
        }
    }
}

/// Marks (or frees) the fee lines of several ops in one statement, failing the batch with the
/// first op's missing lines when any line is missing or held by another settlement.
fn mark_fee_lines(sql: &mut String, ops: &[&WriteOp]) -> Result<()> {
    sql.push_str("WITH v (i, n, visit_id, sn, settlement_id) AS (VALUES\n");
    let mut i = 0;
    for (n, op) in ops.iter().enumerate() {
        let WriteOp::MarkFeeLinesSettled {
            visit_id,
            settlement_id,
            sns,
        } = op
        else {
            unreachable!("a group holds ops of one kind");
        };
        for sn in sns {
            if i > 0 {
                sql.push_str(",\n");
            }
            i += 1;
            let mut r = Row::open(sql);
            r.int(i as i64)?.int(n as i64)?.text(visit_id)?.text(sn)?;
            r.opt_text(settlement_id.as_deref())?;
            r.close();
        }
    }
    sql.push_str(
        "),\nu AS (UPDATE fee_lines AS t SET settlement_id = v.settlement_id FROM v \
         WHERE t.visit_id = v.visit_id AND t.sn = v.sn AND (v.settlement_id IS NULL \
         OR t.settlement_id IS NULL OR t.settlement_id = v.settlement_id) \
         RETURNING t.visit_id, t.sn),\n\
         m AS (SELECT v.i, v.n, v.visit_id, v.sn FROM v WHERE NOT EXISTS \
         (SELECT 1 FROM u WHERE u.visit_id = v.visit_id AND u.sn = v.sn))\n\
         SELECT yibao_expect_fee_lines(",
    );
    push_text(sql, common::MARK_MISSING_BEFORE)?;
    sql.push_str(", ");
    push_text(sql, common::MARK_MISSING_AFTER)?;
    sql.push_str(
        ", ARRAY(SELECT n FROM m ORDER BY i), ARRAY(SELECT visit_id FROM m ORDER BY i), \
         ARRAY(SELECT sn FROM m ORDER BY i));\n",
    );
    Ok(())
}

/// The run's page of candidates, with the cursor on the persons' side of the join too. The
/// planner joins the two tables' primary-key orders (a merge join); without the bound, the
/// persons' side starts at the first person for every page, and a run over a million people
/// read 500,000 persons a page on average (30 s of reads instead of 6).
fn run_candidates_query() -> &'static str {
    static QUERY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    QUERY.get_or_init(|| {
        let cursor = "AND e.person_no > $3";
        assert_eq!(common::Q_RUN_CANDIDATES.matches(cursor).count(), 1, "the run's cursor");
        common::Q_RUN_CANDIDATES.replace(cursor, "AND e.person_no > $3 AND p.person_no > $3")
    })
}

// ---------------------------------------------------------------------------------------------
// Row values, for rendered statements and for COPY.

/// A row function: writes one item's columns, in its table's column order.
type RowFn<T> = fn(&mut dyn Values, &T) -> Result<()>;

/// The values of one row, written column by column: as SQL literals ([`Row`], for rendered
/// statements) or in COPY's binary format ([`CopyRow`]). The row functions (`person_row`, …)
/// write through it, so both ways write the same columns from the same code.
trait Values {
    fn text(&mut self, v: &str) -> Result<&mut dyn Values>;
    fn opt_text(&mut self, v: Option<&str>) -> Result<&mut dyn Values>;
    fn bytes(&mut self, v: &[u8]) -> Result<&mut dyn Values>;
    fn int(&mut self, v: i64) -> Result<&mut dyn Values>;
    fn opt_int(&mut self, v: Option<i64>) -> Result<&mut dyn Values>;
    fn boolean(&mut self, v: bool) -> Result<&mut dyn Values>;
    fn date(&mut self, v: NaiveDate) -> Result<&mut dyn Values>;
    fn opt_date(&mut self, v: Option<NaiveDate>) -> Result<&mut dyn Values>;
    fn time(&mut self, v: NaiveDateTime) -> Result<&mut dyn Values>;
    fn opt_time(&mut self, v: Option<NaiveDateTime>) -> Result<&mut dyn Values>;
}

impl Values for Row<'_> {
    fn text(&mut self, v: &str) -> Result<&mut dyn Values> {
        Row::text(self, v)?;
        Ok(self)
    }

    fn opt_text(&mut self, v: Option<&str>) -> Result<&mut dyn Values> {
        Row::opt_text(self, v)?;
        Ok(self)
    }

    fn bytes(&mut self, v: &[u8]) -> Result<&mut dyn Values> {
        Row::bytes(self, v)?;
        Ok(self)
    }

    fn int(&mut self, v: i64) -> Result<&mut dyn Values> {
        Row::int(self, v)?;
        Ok(self)
    }

    fn opt_int(&mut self, v: Option<i64>) -> Result<&mut dyn Values> {
        Row::opt_int(self, v)?;
        Ok(self)
    }

    fn boolean(&mut self, v: bool) -> Result<&mut dyn Values> {
        Row::boolean(self, v)?;
        Ok(self)
    }

    fn date(&mut self, v: NaiveDate) -> Result<&mut dyn Values> {
        Row::date(self, v)?;
        Ok(self)
    }

    fn opt_date(&mut self, v: Option<NaiveDate>) -> Result<&mut dyn Values> {
        Row::opt_date(self, v)?;
        Ok(self)
    }

    fn time(&mut self, v: NaiveDateTime) -> Result<&mut dyn Values> {
        Row::time(self, v)?;
        Ok(self)
    }

    fn opt_time(&mut self, v: Option<NaiveDateTime>) -> Result<&mut dyn Values> {
        Row::opt_time(self, v)?;
        Ok(self)
    }
}

/// The parameters of a [`common::settlement_query`]: institution, the first and last instants of
/// the dates, the insurance and clearing type when filtered, and the limit of a listing; `None`
/// when the dates hold no storable instant.
fn filter_params(filter: &SettlementFilter, limit: Option<i64>) -> Option<Vec<Box<dyn ToSql + Sync>>> {
    let (lo, hi) = common::day_range(filter.from, filter.to)?;
    let mut params: Vec<Box<dyn ToSql + Sync>> = vec![Box::new(filter.institution.clone()), Box::new(lo), Box::new(hi)];
    if let Some(insurance) = filter.insurance {
        params.push(Box::new(insurance.code()));
    }
    if let Some(clearing_type) = &filter.clearing_type {
        params.push(Box::new(clearing_type.clone()));
    }
    if let Some(limit) = limit {
        params.push(Box::new(common::non_negative(limit)));
    }
    Some(params)
}

/// What starts binary COPY data: the signature, no flags, no header extension.
const COPY_HEADER: &[u8] = b"PGCOPY\n\xff\r\n\0\0\0\0\0\0\0\0\0";

/// What ends binary COPY data: a field count of −1.
const COPY_TRAILER: [u8; 2] = (-1i16).to_be_bytes();

/// PostgreSQL's epoch for dates and timestamps in the binary format.
fn pg_epoch() -> NaiveDateTime {
    PG_EPOCH_DAY.and_time(chrono::NaiveTime::MIN)
}

const PG_EPOCH_DAY: NaiveDate = match NaiveDate::from_ymd_opt(2000, 1, 1) {
    Some(d) => d,
    None => NaiveDate::MIN,
};

/// The years a date or time may lie in, as for literals ([`crate::literal`]).
fn check_year(year: i32) -> Result<()> {
    if !(1..=9999).contains(&year) {
        return Err(StoreError::Rejected(format!("年份 {year} 超出 0001–9999")));
    }
    Ok(())
}

/// One row in COPY's binary format: the number of fields, then each field as its length in bytes
/// (−1 for NULL) and its value in the type's binary form: `text` as UTF-8, `bigint` as 8 bytes
/// big-endian, `boolean` as one byte, `date` as days and `timestamp` as microseconds from
/// 2000-01-01 (4 and 8 bytes big-endian), `bytea` as is. Values are delimited by their lengths,
/// never by quoting: no text is escaped, and none can end its field early. Every integer the
/// row functions write is a `bigint` column (the schema has no other integer type), which is
/// what binary COPY needs: it checks lengths, not types.
struct CopyRow<'a> {
    out: &'a mut Vec<u8>,
    /// Where the row's field count goes, once known.
    start: usize,
    fields: i16,
}

impl<'a> CopyRow<'a> {
    fn open(out: &'a mut Vec<u8>) -> CopyRow<'a> {
        let start = out.len();
        out.extend_from_slice(&0i16.to_be_bytes());
        CopyRow { out, start, fields: 0 }
    }

    fn field(&mut self, value: &[u8]) -> Result<&mut dyn Values> {
        let len = i32::try_from(value.len())
            .map_err(|_| StoreError::Rejected(format!("值长 {} 字节, 超过 PostgreSQL 的上限", value.len())))?;
        self.count()?;
        self.out.extend_from_slice(&len.to_be_bytes());
        self.out.extend_from_slice(value);
        Ok(self)
    }

    fn null(&mut self) -> Result<&mut dyn Values> {
        self.count()?;
        self.out.extend_from_slice(&(-1i32).to_be_bytes());
        Ok(self)
    }

    fn count(&mut self) -> Result<()> {
        // Tables have a few dozen columns; PostgreSQL allows at most 1,600.
        self.fields = self
            .fields
            .checked_add(1)
            .ok_or_else(|| StoreError::Rejected("一行的列数过多".into()))?;
        Ok(())
    }

    fn close(self) {
        assert!(self.fields > 0, "a COPY row has at least one field");
        self.out[self.start..self.start + 2].copy_from_slice(&self.fields.to_be_bytes());
    }
}

impl Values for CopyRow<'_> {
    fn text(&mut self, v: &str) -> Result<&mut dyn Values> {
        // As for literals: PostgreSQL cannot store NUL in text.
        if v.contains('\0') {
            return Err(StoreError::Rejected("文本含有 NUL 字符, PostgreSQL 无法保存".into()));
        }
        self.field(v.as_bytes())
    }

    fn opt_text(&mut self, v: Option<&str>) -> Result<&mut dyn Values> {
        match v {
            Some(v) => self.text(v),
            None => self.null(),
        }
    }

    fn bytes(&mut self, v: &[u8]) -> Result<&mut dyn Values> {
        self.field(v)
    }

    fn int(&mut self, v: i64) -> Result<&mut dyn Values> {
        self.field(&v.to_be_bytes())
    }

    fn opt_int(&mut self, v: Option<i64>) -> Result<&mut dyn Values> {
        match v {
            Some(v) => self.int(v),
            None => self.null(),
        }
    }

    fn boolean(&mut self, v: bool) -> Result<&mut dyn Values> {
        self.field(&[u8::from(v)])
    }

    fn date(&mut self, v: NaiveDate) -> Result<&mut dyn Values> {
        check_year(chrono::Datelike::year(&v))?;
        let days = (v - pg_epoch().date()).num_days();
        // Years 1–9999 (checked above) are within ±4 million days of 2000.
        let days = i32::try_from(days).map_err(|_| StoreError::Database(format!("date {v} out of range")))?;
        self.field(&days.to_be_bytes())
    }

    fn opt_date(&mut self, v: Option<NaiveDate>) -> Result<&mut dyn Values> {
        match v {
            Some(v) => self.date(v),
            None => self.null(),
        }
    }

    fn time(&mut self, v: NaiveDateTime) -> Result<&mut dyn Values> {
        check_year(chrono::Datelike::year(&v))?;
        // Whole microseconds, finer parts dropped, as in the literal (see `common::norm_time`).
        // Years 1–9999 (checked above) are within ±2^63 µs of 2000.
        let micros = (common::norm_time(v) - pg_epoch())
            .num_microseconds()
            .ok_or_else(|| StoreError::Database(format!("time {v} out of range")))?;
        self.field(&micros.to_be_bytes())
    }

    fn opt_time(&mut self, v: Option<NaiveDateTime>) -> Result<&mut dyn Values> {
        match v {
            Some(v) => self.time(v),
            None => self.null(),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Bulk commits.

/// A group of at least this many rows, of a kind [`copied`], is written with binary `COPY`
/// instead of rendered statements. COPY costs a few round trips more per group (and a temporary
/// table for an upsert or an update), which the service's group commits of a few hundred ops
/// would not win back; from a few thousand rows on, the server's parsing and planning of
/// literal rows, and our rendering of them, cost more. Measured per commit (local server,
/// machine shared with builds): at 1,000 rows statements win (person upserts 39 ms against
/// 55, balances 23 against 68), at 2,000 they are about even, at 4,000 COPY wins everywhere
/// (upserts 92 ms against 253, contributions 97 against 238, balances 132 against 196).
const COPY_ROWS_MIN: usize = 4096;

/// Encoded COPY data handed to the connection at a time: what a bulk group holds in memory beside
/// the batch itself.
const COPY_CHUNK_BYTES: usize = 1 << 20;

/// The kinds written with COPY when their group is large: those bulk jobs (the enrolment import,
/// the monthly contribution run) write by the million.
fn copied(kind: Kind) -> bool {
    matches!(
        kind,
        Kind::Person | Kind::Enrolment | Kind::Balance | Kind::Contributions | Kind::AccountEntries | Kind::Ledger
    )
}

/// The rows a group writes.
fn group_rows(group: &Group<'_>) -> usize {
    group
        .ops
        .iter()
        .map(|op| match op {
            WriteOp::InsertContributions(rows) => rows.len(),
            WriteOp::InsertAccountEntries(rows) => rows.len(),
            WriteOp::InsertLedger(rows) => rows.len(),
            WriteOp::InsertFeeLines(rows) => rows.len(),
            WriteOp::MarkFeeLinesSettled { sns, .. } => sns.len(),
            _ => 1,
        })
        .sum()
}

/// The table a bulk group writes.
fn bulk_table(kind: Kind) -> &'static str {
    match kind {
        Kind::Person | Kind::Balance => "persons",
        Kind::Enrolment => "enrolments",
        Kind::Contributions => "contributions",
        Kind::AccountEntries => "account_entries",
        Kind::Ledger => "ledger_entries",
        other => unreachable!("{other:?} is not written by COPY"),
    }
}

fn bulk(group: &Group<'_>) -> bool {
    copied(group.kind) && group_rows(group) >= COPY_ROWS_MIN
}

/// A COPY write's error: the connection's when it has one (it says whether the server refused
/// the data, as for any statement).
fn copy_err(e: std::io::Error) -> StoreError {
    let text = e.to_string();
    match e.into_inner().map(|inner| inner.downcast::<postgres::Error>()) {
        Some(Ok(pg)) => pg_err(*pg),
        _ => StoreError::Database(format!("COPY: {text}")),
    }
}

impl PostgresStore {
    /// Commits a batch that has a large group: one transaction, the groups in the plan's order,
    /// the large ones by COPY and the others rendered as in [`render_script`]. On any error the
    /// transaction is rolled back, as for a script.
    fn commit_bulk(&mut self, ops: &[WriteOp], groups: &[Group<'_>]) -> Result<()> {
        self.client.batch_execute("BEGIN").map_err(pg_err)?;
        if let Err(e) = self.write_bulk(ops, groups) {
            // The failed statement left the transaction aborted (or the connection is gone, and
            // the server rolls back by itself).
            let _ = self.client.batch_execute("ROLLBACK");
            return Err(e);
        }
        // The batch is committed. Statistics are only a help to the planner: a failure to
        // refresh them is not the batch's.
        let _ = self.analyze_loaded(groups);
        Ok(())
    }

    /// Refreshes the planner's statistics of the tables a bulk commit changed by a tenth or more
    /// (autovacuum's own rule, applied at once instead of up to a minute later). Queries planned
    /// on the statistics of before a load go wrong by orders of magnitude: right after an
    /// import of a million people, the run's page of candidates was planned as a sort of every
    /// enrolment left (seconds a page instead of milliseconds).
    fn analyze_loaded(&mut self, groups: &[Group<'_>]) -> Result<()> {
        let mut written: HashMap<&str, usize> = HashMap::new();
        for group in groups.iter().filter(|g| bulk(g)) {
            *written.entry(bulk_table(group.kind)).or_default() += group_rows(group);
        }
        let names: Vec<&str> = written.keys().copied().collect();
        let sizes = self
            .client
            .query(
                "SELECT t, COALESCE(c.reltuples, -1)::float8 FROM unnest($1::text[]) AS t \
                 LEFT JOIN pg_class AS c ON c.oid = to_regclass(t)",
                &[&names],
            )
            .map_err(pg_err)?;
        let mut stale = Vec::new();
        for size in &sizes {
            let table: &str = size.try_get(0).map_err(pg_err)?;
            let reltuples: f64 = size.try_get(1).map_err(pg_err)?;
            // reltuples is −1 for a table never analysed. Compared in whole rows: a tenth
            // of the table written since.
            let rows = reltuples as i64;
            if rows < 0 || (written[table] as i64).saturating_mul(10) >= rows {
                stale.push(table.to_owned());
            }
        }
        if !stale.is_empty() {
            stale.sort_unstable();
            self.client
                .batch_execute(&format!("ANALYZE {}", stale.join(", ")))
                .map_err(pg_err)?;
        }
        Ok(())
    }

    fn write_bulk(&mut self, ops: &[WriteOp], groups: &[Group<'_>]) -> Result<()> {
        let mut sql = String::new();
        for (n, group) in groups.iter().enumerate() {
            if bulk(group) {
                self.execute_script(&sql)?;
                sql.clear();
                self.copy_group(n, group)?;
            } else {
                render_group(&mut sql, group.kind, &group.ops)?;
            }
        }
        render_ledger_totals(&mut sql, ops)?;
        sql.push_str("COMMIT;\n");
        self.execute_script(&sql)
    }

    fn execute_script(&mut self, script: &str) -> Result<()> {
        for part in script_parts(script, SCRIPT_PART_BYTES_MAX) {
            if !part.is_empty() {
                self.client.batch_execute(part).map_err(pg_err)?;
            }
        }
        Ok(())
    }

    /// Writes the `n`th group of the batch's plan by COPY: straight into the table for inserts;
    /// into a temporary table first for upserts and updates, which then apply it in one
    /// statement with the same conflict handling and checks as the rendered statements.
    fn copy_group(&mut self, n: usize, group: &Group<'_>) -> Result<()> {
        macro_rules! items {
            ($pattern:pat => $item:expr) => {
                group.ops.iter().flat_map(|op| match op {
                    $pattern => $item,
                    _ => unreachable!("a group holds ops of one kind"),
                })
            };
        }
        let expected = group_rows(group);
        let copied = match group.kind {
            Kind::Person => {
                let items = items!(WriteOp::UpsertPerson(r) => [r]);
                let tail = upsert_tail("person_no", common::PERSON_COLUMNS, 1);
                self.copy_upsert(n, "persons", common::PERSON_COLUMNS, &tail, items, person_row)?
            }
            Kind::Enrolment => {
                let items = items!(WriteOp::UpsertEnrolment(r) => [r]);
                let tail = upsert_tail("certno", common::ENROLMENT_COLUMNS, 1);
                self.copy_upsert(n, "enrolments", common::ENROLMENT_COLUMNS, &tail, items, enrolment_row)?
            }
            Kind::Balance => {
                let items = items!(WriteOp::SetAccountBalance { person_no, balance } =>
                    [BalanceRow { person_no, balance: balance.fen() }]);
                self.copy_balances(n, items)?
            }
            Kind::Contributions => {
                let items = items!(WriteOp::InsertContributions(rows) => rows.iter());
                let cols = common::CONTRIBUTION_COLUMNS;
                self.copy_rows("contributions", cols, items, contribution_row)?
            }
            Kind::AccountEntries => {
                let items = items!(WriteOp::InsertAccountEntries(rows) => rows.iter());
                let cols = common::ACCOUNT_ENTRY_COLUMNS;
                self.copy_rows("account_entries", cols, items, account_entry_row)?
            }
            Kind::Ledger => {
                let items = items!(WriteOp::InsertLedger(entries) => entries.iter());
                self.copy_rows("ledger_entries", common::LEDGER_COLUMNS, items, ledger_row)?
            }
            other => unreachable!("{other:?} is not written by COPY"),
        };
        if copied != expected as u64 {
            return Err(StoreError::Database(format!(
                "COPY {:?}: 写入 {copied} 行, 应为 {expected} 行",
                group.kind
            )));
        }
        Ok(())
    }

    /// `COPY target (columns) FROM STDIN` in the binary format, the rows encoded and sent in
    /// chunks of about [`COPY_CHUNK_BYTES`]. Returns the number of rows the server took.
    fn copy_rows<'x, T: 'x>(
        &mut self,
        target: &str,
        columns: &str,
        items: impl IntoIterator<Item = &'x T>,
        row: RowFn<T>,
    ) -> Result<u64> {
        let sql = format!("COPY {target} ({columns}) FROM STDIN (FORMAT binary)");
        let mut writer = self.client.copy_in(sql.as_str()).map_err(pg_err)?;
        let mut buf = Vec::with_capacity(COPY_CHUNK_BYTES + (COPY_CHUNK_BYTES >> 2));
        buf.extend_from_slice(COPY_HEADER);
        for item in items {
            let mut r = CopyRow::open(&mut buf);
            // On an error the writer is dropped unfinished, which aborts the COPY.
            row(&mut r, item)?;
            r.close();
            if buf.len() >= COPY_CHUNK_BYTES {
                std::io::Write::write_all(&mut writer, &buf).map_err(copy_err)?;
                buf.clear();
            }
        }
        buf.extend_from_slice(&COPY_TRAILER);
        std::io::Write::write_all(&mut writer, &buf).map_err(copy_err)?;
        writer.finish().map_err(pg_err)
    }

    /// Creates the temporary table of the `n`th group, dropped at the end of the transaction,
    /// with the columns `select` selects from `table` (so their types and collations).
    fn stage(&mut self, n: usize, select: &str, table: &str) -> Result<String> {
        let name = format!("yibao_stage_{n}");
        self.client
            .batch_execute(&format!(
                "CREATE TEMP TABLE {name} ON COMMIT DROP AS SELECT {select} FROM {table} WITH NO DATA"
            ))
            .map_err(pg_err)?;
        // Named through pg_temp, so that no table of the schema can stand in for it.
        Ok(format!("pg_temp.{name}"))
    }

    /// An upsert by COPY: the rows into a temporary table, then `INSERT … SELECT … tail` (the
    /// same `ON CONFLICT … DO UPDATE` as the rendered statement) in the rows' order. A group
    /// never holds a key twice ([`row_keys`]), so one statement may write them all.
    fn copy_upsert<'x, T: 'x>(
        &mut self,
        n: usize,
        table: &str,
        columns: &str,
        tail: &str,
        items: impl IntoIterator<Item = &'x T>,
        row: RowFn<T>,
    ) -> Result<u64> {
        let stage = self.stage(n, columns, table)?;
        let copied = self.copy_rows(&stage, columns, items, row)?;
        self.client
            .batch_execute(&format!(
                "INSERT INTO {table} ({columns}) SELECT {columns} FROM {stage}{tail}"
            ))
            .map_err(pg_err)?;
        Ok(copied)
    }

    /// Account balances by COPY: the rows, numbered, into a temporary table, then one `UPDATE …
    /// FROM` it; the batch fails, as for the rendered statement, unless every person was found
    /// (naming the first [`ROWS_PER_STATEMENT`] missing, in the batch's order).
    fn copy_balances<'x>(&mut self, n: usize, items: impl IntoIterator<Item = BalanceRow<'x>>) -> Result<u64> {
        let stage = self.stage(n, "0::bigint AS n, person_no, account_balance", "persons")?;
        let numbered: Vec<(i64, BalanceRow<'x>)> = (1..).zip(items).collect();
        let copied = self.copy_rows(&stage, "n, person_no, account_balance", &numbered, |r, (n, x)| {
            r.int(*n)?.text(x.person_no)?.int(x.balance)?;
            Ok(())
        })?;
        let mut sql = format!(
            "WITH u AS (UPDATE persons AS t SET account_balance = s.account_balance FROM {stage} AS s \
             WHERE t.person_no = s.person_no RETURNING t.person_no)\nSELECT yibao_expect_keys("
        );
        push_text(&mut sql, common::MISSING_PERSON)?;
        let _ = write!(
            sql,
            ", ARRAY(SELECT s.person_no FROM {stage} AS s WHERE NOT EXISTS \
             (SELECT 1 FROM u WHERE u.person_no = s.person_no) ORDER BY s.n LIMIT {ROWS_PER_STATEMENT}), \
             ARRAY[]::text[])"
        );
        self.client.batch_execute(&sql).map_err(pg_err)?;
        Ok(copied)
    }
}

// ---------------------------------------------------------------------------------------------

impl Store for PostgresStore {
    fn migrate(&mut self) -> Result<()> {
        let latest = MIGRATIONS.iter().map(|m| m.0).max().unwrap_or(0);
        let mut tx = self.client.transaction().map_err(pg_err)?;
        if let Some(schema) = &self.schema {
            let exists = tx
                .query_opt("SELECT 1 FROM pg_namespace WHERE nspname = $1", &[schema])
                .map_err(pg_err)?
                .is_some();
            if !exists {
                tx.batch_execute(&format!("CREATE SCHEMA IF NOT EXISTS {}", quote_ident(schema)))
                    .map_err(pg_err)?;
            }
        }
        tx.batch_execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations (
                 version    BIGINT      NOT NULL PRIMARY KEY,
                 name       TEXT        NOT NULL,
                 applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
             );
             LOCK TABLE schema_migrations IN EXCLUSIVE MODE;",
        )
        .map_err(pg_err)?;
        let applied: Vec<i64> = tx
            .query("SELECT version FROM schema_migrations", &[])
            .map_err(pg_err)?
            .iter()
            .map(|r| r.get(0))
            .collect();
        if let Some(newer) = applied.iter().find(|v| **v > latest) {
            return Err(StoreError::Database(format!(
                "数据库结构版本 {newer} 比本程序支持的版本 {latest} 新"
            )));
        }
        for (version, name, sql) in MIGRATIONS {
            if applied.contains(version) {
                continue;
            }
            tx.batch_execute(sql)
                .map_err(|e| StoreError::Database(format!("迁移 {version} ({name}) 失败: {}", pg_err(e))))?;
            tx.execute(
                "INSERT INTO schema_migrations (version, name) VALUES ($1, $2)",
                &[version, name],
            )
            .map_err(pg_err)?;
        }
        tx.commit().map_err(pg_err)?;
        self.statements.clear();
        Ok(())
    }

    fn lock_writer(&mut self) -> Result<()> {
        // Keyed by the schema named in the URL (it may not exist yet: migrate creates it).
        let schema = self.schema.clone().unwrap_or_else(|| "public".to_owned());
        let key = format!("yibao-writer:{schema}");
        let row = self
            .client
            .query_one("SELECT pg_try_advisory_lock(hashtext($1))", &[&key])
            .map_err(pg_err)?;
        let locked: bool = row.try_get(0).map_err(pg_err)?;
        if locked {
            Ok(())
        } else {
            Err(StoreError::Busy(format!("schema {schema}")))
        }
    }

    fn commit(&mut self, batch: &WriteBatch) -> Result<()> {
        common::validate(batch)?;
        if batch.is_empty() {
            return Ok(());
        }
        let groups = plan(&batch.ops);
        if groups.iter().any(bulk) {
            return self.commit_bulk(&batch.ops, &groups);
        }
        let script = render_script(&batch.ops, &groups)?;
        // One round trip for the usual batch; a huge one (a monthly run, an import) goes in
        // parts of the same transaction, since PostgreSQL refuses a message over 1 GiB.
        for part in script_parts(&script, SCRIPT_PART_BYTES_MAX) {
            if let Err(e) = self.client.batch_execute(part) {
                // The failed statement left the transaction aborted (or the connection is gone,
                // and the server rolls back by itself).
                let _ = self.client.batch_execute("ROLLBACK");
                return Err(pg_err(e));
            }
        }
        Ok(())
    }

    fn institution(&mut self, code: &str) -> Result<Option<InstitutionRecord>> {
        self.query_opt(common::Q_INSTITUTION, &[&code], common::institution)
    }

    fn institutions(&mut self) -> Result<Vec<InstitutionRecord>> {
        self.query_all(common::Q_INSTITUTIONS, &[], common::institution)
    }

    fn person(&mut self, person_no: &str) -> Result<Option<PersonRecord>> {
        self.query_opt(common::Q_PERSON, &[&person_no], common::person)
    }

    fn person_by_certno(&mut self, certno: &str) -> Result<Option<PersonRecord>> {
        self.query_opt(common::Q_PERSON_BY_CERTNO, &[&certno], common::person)
    }

    fn persons_by_no(&mut self, person_nos: &[&str]) -> Result<Vec<PersonRecord>> {
        self.query_any(common::Q_PERSONS_ANY, person_nos, common::person)
    }

    fn persons_by_certno(&mut self, certnos: &[&str]) -> Result<Vec<PersonRecord>> {
        self.query_any(common::Q_PERSONS_BY_CERTNO_ANY, certnos, common::person)
    }

    fn chronic_filings_of(&mut self, person_nos: &[&str]) -> Result<Vec<ChronicFilingRecord>> {
        self.query_any(common::Q_CHRONIC_FILINGS_ANY, person_nos, common::chronic_filing)
    }

    fn person_count(&mut self) -> Result<i64> {
        self.query_one(common::Q_PERSON_COUNT, &[], |r| common::count(r, "persons"))
    }

    fn persons(&mut self, limit: i64, offset: i64) -> Result<Vec<PersonRecord>> {
        let (limit, offset) = (common::non_negative(limit), common::non_negative(offset));
        self.query_all(common::Q_PERSONS, &[&limit, &offset], common::person)
    }

    fn accumulators(&mut self, person_no: &str, year: i32) -> Result<Vec<(String, Accumulator)>> {
        let year = i64::from(year);
        self.query_all(common::Q_ACCUMULATORS, &[&person_no, &year], common::accumulator)
    }

    fn visit(&mut self, visit_id: &str) -> Result<Option<VisitRecord>> {
        self.query_opt(common::Q_VISIT, &[&visit_id], common::visit)
    }

    fn person_visited(&mut self, person_no: &str, institution: &str) -> Result<bool> {
        let stmt = self.statement(common::Q_PERSON_VISITED)?;
        let row = self
            .client
            .query_one(&stmt, &[&person_no, &institution])
            .map_err(pg_err)?;
        let count: i64 = row.get(0);
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
        let limit = common::non_negative(limit);
        self.query_all(common::Q_VISITS_OF_PERSON, &[&person_no, &lo, &hi, &limit], |r| {
            common::visit(r)
        })
    }

    fn fee_lines(&mut self, visit_id: &str) -> Result<Vec<FeeLineRecord>> {
        self.query_all(common::Q_FEE_LINES, &[&visit_id], common::fee_line)
    }

    fn settlement(&mut self, settlement_id: &str) -> Result<Option<SettlementRecord>> {
        self.query_opt(common::Q_SETTLEMENT, &[&settlement_id], common::settlement)
    }

    fn settlement_by_msgid(&mut self, msgid: &str) -> Result<Option<SettlementRecord>> {
        self.query_opt(common::Q_SETTLEMENT_BY_MSGID, &[&msgid], common::settlement)
    }

    fn settlements(&mut self, filter: &SettlementFilter, limit: i64) -> Result<Vec<SettlementRecord>> {
        self.settlements_by(filter, limit, &common::settlement_query(filter, false))
    }

    fn settlements_cancelled(&mut self, filter: &SettlementFilter, limit: i64) -> Result<Vec<SettlementRecord>> {
        let every = SettlementFilter {
            in_force_only: false,
            ..filter.clone()
        };
        self.settlements_by(&every, limit, &common::cancelled_settlement_query(&every))
    }

    fn settlement_totals(&mut self, filter: &SettlementFilter) -> Result<SettlementTotals> {
        let Some(params) = filter_params(filter, None) else {
            return Ok(SettlementTotals::default());
        };
        let params: Vec<&(dyn ToSql + Sync)> = params.iter().map(|p| p.as_ref()).collect();
        let sql = common::settlement_query(filter, true);
        self.query_one(&sql, &params, common::settlement_totals)
    }

    fn message(&mut self, msgid: &str) -> Result<Option<MessageRecord>> {
        self.query_opt(common::Q_MESSAGE, &[&msgid], common::message)
    }

    fn messages(&mut self, msgids: &[&str]) -> Result<Vec<MessageRecord>> {
        self.query_any(common::Q_MESSAGES_ANY, msgids, common::message)
    }

    fn chronic_filings(&mut self, person_no: &str) -> Result<Vec<ChronicFilingRecord>> {
        self.query_all(common::Q_CHRONIC_FILINGS, &[&person_no], common::chronic_filing)
    }

    fn settlement_lists(&mut self, from: NaiveDate, to: NaiveDate) -> Result<Vec<SettlementListRecord>> {
        self.query_all(common::Q_SETTLEMENT_LISTS, &[&from, &to], common::settlement_list)
    }

    fn settlement_list(&mut self, settlement_id: &str) -> Result<Option<SettlementListRecord>> {
        self.query_opt(common::Q_SETTLEMENT_LIST, &[&settlement_id], common::settlement_list)
    }

    fn exchange_file(&mut self, file_no: &str) -> Result<Option<ExchangeFileRecord>> {
        self.query_opt(common::Q_EXCHANGE_FILE, &[&file_no], common::exchange_file)
    }

    fn exchange_file_usage(&mut self, institution: &str, now: NaiveDateTime) -> Result<(i64, i64)> {
        const Q: &str = "SELECT COUNT(*), CAST(COALESCE(SUM(octet_length(bytes)), 0) AS BIGINT) \
                         FROM exchange_files WHERE institution = $1 AND expires_at >= $2";
        let stmt = self.statement(Q)?;
        let row = self.client.query_one(&stmt, &[&institution, &now]).map_err(pg_err)?;
        Ok((row.get(0), row.get(1)))
    }

    fn reference_table_latest(&mut self, kind: &str) -> Result<Option<ReferenceTableRecord>> {
        self.query_opt(common::Q_REFERENCE_TABLE_LATEST, &[&kind], common::reference_table)
    }

    fn finding(&mut self, finding_id: &str) -> Result<Option<FindingRecord>> {
        self.query_opt(common::Q_FINDING, &[&finding_id], common::finding)
    }

    fn institution_credit(&mut self, institution: &str, from: NaiveDate, to: NaiveDate) -> Result<(i64, i64)> {
        let Some((lo, hi)) = common::day_range(from, to) else {
            return Ok((0, 0));
        };
        self.query_all(
            common::Q_INSTITUTION_CREDIT,
            &[&institution, &lo, &hi],
            common::two_counts,
        )
        .map(|rows| rows.first().copied().unwrap_or((0, 0)))
    }

    fn suspensions(&mut self, now: NaiveDateTime) -> Result<Vec<(String, NaiveDateTime, String)>> {
        self.query_all(common::Q_SUSPENSIONS, &[&now], common::suspension)
    }

    fn case(&mut self, case_id: &str) -> Result<Option<CaseRecord>> {
        self.query_opt(common::Q_CASE, &[&case_id], common::case)
    }

    fn doctor_points(&mut self, doctor: &str) -> Result<Vec<(NaiveDateTime, i64)>> {
        self.query_all(common::Q_DOCTOR_POINTS, &[&doctor], common::doctor_point)
    }

    fn screen_finding_ids(&mut self) -> Result<Vec<String>> {
        self.query_all(common::Q_SCREEN_FINDING_IDS, &[], common::finding_id)
    }

    fn screening_set(&mut self, from: NaiveDate, to: NaiveDate) -> Result<ScreeningSet> {
        let Some((lo, hi)) = common::day_range(from, to) else {
            return Ok(ScreeningSet::default());
        };
        Ok(ScreeningSet {
            settlements: self.query_all(common::Q_SCREEN_SETTLEMENTS, &[&lo, &hi], common::screened_settlement)?,
            visits: self.query_all(common::Q_SCREEN_VISITS, &[&lo, &hi], common::visit)?,
            line_times: self.query_all(&common::screen_lines_query(), &[&lo, &hi], common::line_time)?,
        })
    }

    fn employer(&mut self, credit_code: &str) -> Result<Option<EmployerRecord>> {
        self.query_opt(common::Q_EMPLOYER, &[&credit_code], common::employer)
    }

    fn enrolment(&mut self, certno: &str) -> Result<Option<EnrolmentRecord>> {
        self.query_opt(common::Q_ENROLMENT, &[&certno], common::enrolment)
    }

    fn enrolments_of(&mut self, certnos: &[&str]) -> Result<Vec<EnrolmentRecord>> {
        self.query_any(common::Q_ENROLMENTS_ANY, certnos, common::enrolment)
    }

    fn enrolment_of_person(&mut self, person_no: &str) -> Result<Option<EnrolmentRecord>> {
        self.query_opt(common::Q_ENROLMENT_OF_PERSON, &[&person_no], common::enrolment)
    }

    fn run_candidates(
        &mut self,
        insurance: yibao_codes::InsuranceType,
        month_first_day: NaiveDate,
        after: &str,
        limit: i64,
    ) -> Result<Vec<RunCandidate>> {
        let limit = common::non_negative(limit);
        self.query_all(
            run_candidates_query(),
            &[&insurance.code(), &month_first_day, &after, &limit],
            common::run_candidate,
        )
    }

    fn contribution_run(
        &mut self,
        period: i32,
        insurance: yibao_codes::InsuranceType,
    ) -> Result<Option<ContributionRunRecord>> {
        let period = i64::from(period);
        self.query_opt(
            common::Q_CONTRIBUTION_RUN,
            &[&period, &insurance.code()],
            common::contribution_run,
        )
    }

    fn enrolment_count(&mut self) -> Result<i64> {
        self.query_one(common::Q_ENROLMENT_COUNT, &[], |r| common::count(r, "enrolments"))
    }

    fn contributions_of_person(&mut self, person_no: &str) -> Result<Vec<ContributionRecord>> {
        self.query_all(common::Q_CONTRIBUTIONS_OF_PERSON, &[&person_no], common::contribution)
    }

    fn account_entries_of_person(&mut self, person_no: &str) -> Result<Vec<AccountEntryRecord>> {
        self.query_all(
            common::Q_ACCOUNT_ENTRIES_OF_PERSON,
            &[&person_no],
            common::account_entry,
        )
    }

    fn ledger_totals(&mut self, from: i32, to: i32) -> Result<Vec<LedgerTotal>> {
        let (from, to) = (i64::from(from), i64::from(to));
        self.query_all(common::Q_LEDGER_TOTALS, &[&from, &to], common::ledger_total)
    }

    fn ledger_balances(&mut self) -> Result<Vec<(String, yibao_money::Money, yibao_money::Money)>> {
        self.query_all(common::Q_LEDGER_BALANCES, &[], common::ledger_balance)
    }

    fn suspended_of_employer(
        &mut self,
        insurance: yibao_codes::InsuranceType,
        employer: &str,
    ) -> Result<Vec<EnrolmentRecord>> {
        self.query_all(
            common::Q_SUSPENDED_OF_EMPLOYER,
            &[&insurance.code(), &employer],
            common::enrolment,
        )
    }

    fn employers_in_arrears(&mut self) -> Result<Vec<EmployerRecord>> {
        self.query_all(common::Q_EMPLOYERS_IN_ARREARS, &[], common::employer)
    }

    fn arrears_candidates(
        &mut self,
        insurance: yibao_codes::InsuranceType,
        before: i32,
    ) -> Result<Vec<(String, Option<i32>)>> {
        let before = i64::from(before);
        self.query_all(
            common::Q_ARREARS_CANDIDATES,
            &[&insurance.code(), &before],
            common::arrears_candidate,
        )
    }

    fn period_closes(&mut self) -> Result<Vec<crate::PeriodCloseRecord>> {
        self.query_all(common::Q_PERIOD_CLOSES, &[], common::period_close)
    }

    fn closing_entries(&mut self) -> Result<Vec<LedgerEntry>> {
        self.query_all(common::Q_CLOSING_ENTRIES, &[], common::ledger_entry)
    }

    fn audit_count(&mut self) -> Result<i64> {
        self.query_one(common::Q_AUDIT_COUNT, &[], |r| common::count(r, "audit_log"))
    }
}

#[cfg(test)]
mod copy_tests {
    use super::*;

    /// The fields of one encoded row: `None` for NULL.
    fn fields(row: &[u8]) -> Vec<Option<Vec<u8>>> {
        let count = i16::from_be_bytes([row[0], row[1]]);
        let mut at = 2;
        let mut out = Vec::new();
        for _ in 0..count {
            let len = i32::from_be_bytes(row[at..at + 4].try_into().unwrap());
            at += 4;
            if len < 0 {
                out.push(None);
            } else {
                let len = len as usize;
                out.push(Some(row[at..at + len].to_vec()));
                at += len;
            }
        }
        assert_eq!(at, row.len(), "nothing after the last field");
        out
    }

    fn encode(write: impl FnOnce(&mut dyn Values) -> Result<()>) -> Result<Vec<u8>> {
        let mut out = Vec::new();
        let mut row = CopyRow::open(&mut out);
        write(&mut row)?;
        row.close();
        Ok(out)
    }

    #[test]
    fn texts_go_as_they_are_delimited_by_length() {
        let nasty = [
            "",
            "\t",
            "a\tb\nc\rd",
            "\\",
            "\\N",
            "\\.",
            "back\\slash\\t\\n",
            "O'Brien'; DROP TABLE persons; --",
            "张三·医保 😷",
            "PGCOPY\n\u{ff}\r\n",
            "\u{ffff}\u{10ffff}",
        ];
        let row = encode(|r| {
            for t in nasty {
                r.text(t)?;
            }
            r.opt_text(None)?.opt_text(Some(""))?;
            Ok(())
        })
        .unwrap();
        let got = fields(&row);
        assert_eq!(got.len(), nasty.len() + 2);
        for (field, text) in got.iter().zip(nasty) {
            assert_eq!(field.as_deref(), Some(text.as_bytes()));
        }
        // NULL and the empty string stay apart.
        assert_eq!(got[nasty.len()], None);
        assert_eq!(got[nasty.len() + 1], Some(Vec::new()));
    }

    #[test]
    fn nul_and_years_out_of_range_are_refused() {
        assert!(matches!(
            encode(|r| r.text("a\0b").map(drop)),
            Err(StoreError::Rejected(_))
        ));
        let far = NaiveDate::from_ymd_opt(10000, 1, 1).unwrap();
        assert!(matches!(
            encode(|r| r.date(far).map(drop)),
            Err(StoreError::Rejected(_))
        ));
        let early = NaiveDate::from_ymd_opt(0, 12, 31)
            .unwrap()
            .and_hms_opt(0, 0, 0)
            .unwrap();
        assert!(matches!(
            encode(|r| r.time(early).map(drop)),
            Err(StoreError::Rejected(_))
        ));
    }

    #[test]
    fn numbers_dates_and_times_in_the_binary_forms() {
        let d = |y, m, day| NaiveDate::from_ymd_opt(y, m, day).unwrap();
        let before_epoch = d(1999, 12, 31).and_hms_nano_opt(23, 59, 59, 999_999_500).unwrap();
        let row = encode(|r| {
            r.int(-2)?.int(i64::MIN)?.opt_int(None)?.boolean(true)?.boolean(false)?;
            r.date(d(2000, 1, 1))?.date(d(1999, 12, 31))?.date(d(1, 1, 1))?;
            r.time(d(2000, 1, 2).and_hms_micro_opt(0, 0, 1, 5).unwrap())?;
            r.time(before_epoch)?
                .bytes(&[0, 1, 255])?
                .opt_date(None)?
                .opt_time(None)?;
            Ok(())
        })
        .unwrap();
        let f: Vec<Vec<u8>> = fields(&row).into_iter().map(|f| f.unwrap_or_default()).collect();
        assert_eq!(f[0], (-2i64).to_be_bytes());
        assert_eq!(f[1], i64::MIN.to_be_bytes());
        assert_eq!((f[3].as_slice(), f[4].as_slice()), (&[1u8][..], &[0u8][..]));
        assert_eq!(f[5], 0i32.to_be_bytes());
        assert_eq!(f[6], (-1i32).to_be_bytes());
        assert_eq!(f[7], (-730_119i32).to_be_bytes(), "0001-01-01");
        assert_eq!(f[8], (86_401_000_005i64).to_be_bytes());
        // Finer parts dropped as in a literal: 23:59:59.999999, one microsecond before 2000.
        assert_eq!(f[9], (-1i64).to_be_bytes());
        assert_eq!(f[10], [0, 1, 255]);
        assert_eq!(fields(&row)[2], None);
        assert_eq!(fields(&row)[11..], [None, None]);
    }

    #[test]
    fn only_large_groups_of_bulk_kinds_are_copied() {
        let balance = |i: usize| WriteOp::SetAccountBalance {
            person_no: format!("P{i}"),
            balance: yibao_money::Money::from_fen(1),
        };
        let ops: Vec<WriteOp> = (0..COPY_ROWS_MIN).map(balance).collect();
        assert!(plan(&ops).iter().all(bulk));
        assert!(!plan(&ops[1..]).iter().any(bulk));
        let lines: Vec<WriteOp> = (0..COPY_ROWS_MIN)
            .map(|i| {
                WriteOp::InsertAudit(AuditRecord {
                    msgid: format!("M{i}"),
                    infno: "2207".into(),
                    institution: "H1".into(),
                    infcode: 0,
                    duration_us: 1,
                    at: NaiveDate::from_ymd_opt(2024, 1, 1)
                        .unwrap()
                        .and_hms_opt(0, 0, 0)
                        .unwrap(),
                    message: String::new(),
                })
            })
            .collect();
        assert!(!plan(&lines).iter().any(bulk), "audit lines are not a bulk kind");
    }
}

#[cfg(test)]
mod script_tests {
    use super::script_parts;

    #[test]
    fn parts_end_at_statements_outside_literals() {
        let script = "BEGIN;\nINSERT INTO t VALUES ('a;\nb'), ('it''s;\n');\nUPDATE t SET x = 1;\nCOMMIT;\n";
        let parts = script_parts(script, 7);
        assert_eq!(parts.concat(), script);
        assert_eq!(
            parts,
            [
                "BEGIN;\n",
                "INSERT INTO t VALUES ('a;\nb'), ('it''s;\n');\n",
                "UPDATE t SET x = 1;\n",
                "COMMIT;\n"
            ]
        );
        assert_eq!(script_parts(script, 1 << 20), [script]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;
    use yibao_money::Money;
    use yibao_settle::Accumulator;

    #[test]
    fn schema_parameter_is_ours_and_checked() {
        let (url, schema) = split_schema("postgres://u@h/db?schema=t_1&connect_timeout=5").unwrap();
        assert_eq!(url, "postgres://u@h/db?connect_timeout=5");
        assert_eq!(schema.as_deref(), Some("t_1"));
        let (url, schema) = split_schema("postgres://u@h/db?schema=abc").unwrap();
        assert_eq!((url.as_str(), schema.as_deref()), ("postgres://u@h/db", Some("abc")));
        let (url, schema) = split_schema("postgresql://h/db").unwrap();
        assert_eq!((url.as_str(), schema), ("postgresql://h/db", None));
        for bad in ["x\"y", "a;b", "", "sch%65ma", &"a".repeat(64)] {
            let url = format!("postgres://h/db?schema={bad}");
            assert!(matches!(split_schema(&url), Err(StoreError::BadUrl(_))), "{bad}");
        }
    }

    fn t(h: u32) -> NaiveDateTime {
        NaiveDate::from_ymd_opt(2024, 5, 6)
            .unwrap()
            .and_hms_opt(h, 0, 0)
            .unwrap()
    }

    fn balance(p: &str, fen: i64) -> WriteOp {
        WriteOp::SetAccountBalance {
            person_no: p.into(),
            balance: Money::from_fen(fen),
        }
    }

    #[test]
    fn runs_of_one_kind_become_one_statement_and_repeated_keys_split_them() {
        let ops = vec![balance("a", 1), balance("b", 2), balance("a", 3), balance("c", 4)];
        let sql = render_batch(&ops).unwrap();
        assert!(sql.starts_with("BEGIN;\n") && sql.ends_with("COMMIT;\n"));
        assert_eq!(sql.matches("UPDATE persons").count(), 2, "{sql}");
        assert!(sql.contains("('a', 1),\n('b', 2)"), "{sql}");
        assert!(sql.contains("('a', 3),\n('c', 4)"), "{sql}");

        let audit = |m: &str| {
            WriteOp::InsertAudit(AuditRecord {
                msgid: m.into(),
                infno: "2207".into(),
                institution: "H1".into(),
                infcode: 0,
                duration_us: 10,
                at: t(8),
                message: String::new(),
            })
        };
        let ops = vec![audit("m1"), audit("m1"), balance("a", 1), audit("m2")];
        let sql = render_batch(&ops).unwrap();
        assert_eq!(sql.matches("INSERT INTO audit_log").count(), 1, "{sql}");
        let m1 = sql.find("('m1'").unwrap();
        let m2 = sql.find("('m2'").unwrap();
        assert!(
            m1 < m2 && sql.rfind("('m1'").unwrap() < m2,
            "order of one kind kept: {sql}"
        );
    }

    fn request(n: usize) -> Vec<WriteOp> {
        let visit = format!("V{n}");
        let id = format!("S{n}");
        vec![
            WriteOp::InsertSettlement(crate::SettlementRecord {
                settlement_id: id.clone(),
                visit_id: visit.clone(),
                person_no: format!("P{n}"),
                institution: "H1".into(),
                insurance: yibao_codes::InsuranceType::EmployeeBasic,
                medical_type: yibao_codes::MedicalType::GeneralOutpatient,
                clearing_type: "11".into(),
                settled_at: t(9),
                msgid: format!("M{n}"),
                policy_id: "p".into(),
                year: 2024,
                total: Money::ZERO,
                fund_total: Money::ZERO,
                account_pay: Money::ZERO,
                cash_pay: Money::ZERO,
                status: crate::SettlementStatus::Settled,
                cancelled_at: None,
                cancel_msgid: None,
                output_json: "{}".into(),
                inputs_json: "{}".into(),
                deltas_json: "{}".into(),
                mutual_aid_pay: Money::ZERO,
            }),
            WriteOp::MarkFeeLinesSettled {
                visit_id: visit,
                settlement_id: Some(id),
                sns: vec!["1".into()],
            },
            WriteOp::SetAccumulator {
                person_no: format!("P{n}"),
                year: 2024,
                key: "basic".into(),
                value: Accumulator::default(),
            },
            balance(&format!("P{n}"), 5),
            WriteOp::InsertAudit(AuditRecord {
                msgid: format!("M{n}"),
                infno: "2207".into(),
                institution: "H1".into(),
                infcode: 0,
                duration_us: 10,
                at: t(8),
                message: String::new(),
            }),
        ]
    }

    #[test]
    fn interleaved_requests_render_as_one_statement_per_kind() {
        let ops: Vec<WriteOp> = (0..50).flat_map(request).collect();
        let sql = render_batch(&ops).unwrap();
        assert_eq!(sql.matches(";\n").count(), 2 + 5, "{sql}");
        // Each settlement is written before the lines that refer to it.
        assert!(sql.find("INSERT INTO settlements").unwrap() < sql.find("UPDATE fee_lines").unwrap());
    }

    #[test]
    fn ops_that_depend_on_each_other_are_not_reordered() {
        let person = |fen: i64| {
            WriteOp::UpsertPerson(crate::PersonRecord {
                person_no: "P1".into(),
                certno: "C1".into(),
                name: "n".into(),
                sex: yibao_codes::Sex::Male,
                birth_date: t(0).date(),
                ethnicity: "01".into(),
                insurance: yibao_codes::InsuranceType::EmployeeBasic,
                person_type: yibao_codes::PersonType::parse("11").unwrap(),
                tier: None,
                groups: vec![],
                civil_servant: false,
                insured_admdvs: "500102".into(),
                employer_name: String::new(),
                status: "1".into(),
                enrolled_on: t(0).date(),
                benefits_from: None,
                account_balance: Money::from_fen(fen),
                family_payer: None,
            })
        };
        // balance(P1) must stay between the two upserts of P1; balance(P2) may join it.
        let ops = vec![person(1), balance("P1", 2), person(3), balance("P2", 4)];
        let kinds: Vec<Kind> = plan(&ops).iter().map(|g| g.kind).collect();
        assert_eq!(kinds, [Kind::Person, Kind::Balance, Kind::Person]);
        assert_eq!(plan(&ops)[1].ops.len(), 2);
        // Lines deleted between two inserts of lines of that visit.
        let lines = |sn: &str| {
            WriteOp::InsertFeeLines(vec![crate::FeeLineRecord {
                visit_id: "V1".into(),
                sn: sn.into(),
                batch_no: String::new(),
                code: "c".into(),
                local_code: "l".into(),
                quantity: yibao_money::Quantity::whole(1),
                price: yibao_money::Price::from_millionths(1),
                amount: Money::ZERO,
                occurred_at: t(1),
                disease_code: None,
                refund_of: None,
                settlement_id: None,
            }])
        };
        let delete = WriteOp::DeleteFeeLines {
            visit_id: "V1".into(),
            sn: None,
        };
        let ops = vec![lines("a"), balance("P1", 1), delete, balance("P2", 1), lines("b")];
        let kinds: Vec<Kind> = plan(&ops).iter().map(|g| g.kind).collect();
        assert_eq!(
            kinds,
            [Kind::FeeLines, Kind::Balance, Kind::DeleteFeeLines, Kind::FeeLines]
        );
        // Lines marked for a settlement come after it, even from a later request.
        let mut ops = request(1);
        ops.extend(request(2));
        let groups = plan(&ops);
        let kinds: Vec<Kind> = groups.iter().map(|g| g.kind).collect();
        assert_eq!(
            kinds,
            [
                Kind::Settlement,
                Kind::MarkFeeLines,
                Kind::Accumulator,
                Kind::Balance,
                Kind::Audit
            ]
        );
        assert_eq!(groups[1].ops.len(), 2);
    }

    #[test]
    fn long_runs_are_split_into_bounded_statements() {
        let ops: Vec<WriteOp> = (0..2500).map(|i| balance(&format!("p{i}"), i)).collect();
        let sql = render_batch(&ops).unwrap();
        assert_eq!(sql.matches("UPDATE persons").count(), 3);
    }

    #[test]
    fn hostile_text_stays_inside_its_literal() {
        let ops = vec![balance("x'); DELETE FROM persons; --", 1)];
        let sql = render_batch(&ops).unwrap();
        assert!(sql.contains("('x''); DELETE FROM persons; --', 1)"), "{sql}");
    }
}
