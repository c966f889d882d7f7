//! One suite, run against every backend: SQLite in a temporary file, SQLite in memory, and
//! PostgreSQL in a schema of its own (dropped at the end, so tests run in parallel).
//!
//! PostgreSQL: the URL comes from `YIBAO_TEST_POSTGRES_URL`, by default
//! `postgres://postgres@127.0.0.1:5432/test`. When the variable is set, a server that cannot be
//! reached fails the tests; when it is not set, the PostgreSQL tests say so on stderr and pass
//! without running (so that a machine without a server can still run the rest).

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;

use chrono::{NaiveDate, NaiveDateTime};
use yibao_codes::{InsuranceType, MedicalType, PersonType, Sex, SpecialGroup, Tier};
use yibao_money::{Money, Price, Quantity};
use yibao_settle::Accumulator;
use yibao_store::*;

const DEFAULT_PG_URL: &str = "postgres://postgres@127.0.0.1:5432/test";

// ---------------------------------------------------------------------------------------------
// Harness: a migrated store of one backend, and a way around it to plant bad data.

enum Place {
    Memory,
    File(PathBuf),
    Schema { url: String, schema: String },
}

struct Harness {
    store: Option<Box<dyn Store>>,
    place: Place,
}

fn unique(prefix: &str) -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!("{prefix}_{}_{n}_{nanos}", std::process::id())
}

fn with_param(url: &str, param: &str) -> String {
    let sep = if url.contains('?') { '&' } else { '?' };
    format!("{url}{sep}{param}")
}

/// The server's URL, or `None` (after saying so) when none is configured and the default one
/// does not answer.
fn pg_url() -> Option<String> {
    static URL: OnceLock<Option<String>> = OnceLock::new();
    URL.get_or_init(|| match std::env::var("YIBAO_TEST_POSTGRES_URL") {
        Ok(url) => Some(url),
        Err(_) => match postgres::Client::connect(&with_param(DEFAULT_PG_URL, "connect_timeout=5"), postgres::NoTls) {
            Ok(_) => Some(DEFAULT_PG_URL.to_owned()),
            Err(e) => {
                eprintln!(
                    "PostgreSQL tests SKIPPED: no server at {DEFAULT_PG_URL} ({e}); \
                         set YIBAO_TEST_POSTGRES_URL to require one"
                );
                None
            }
        },
    })
    .clone()
}

impl Harness {
    fn sqlite_file() -> Option<Harness> {
        let path = std::env::temp_dir().join(format!("{}.db", unique("yibao_store_test")));
        let mut store = open(&format!("sqlite://{}", path.display())).unwrap();
        store.migrate().unwrap();
        Some(Harness {
            store: Some(store),
            place: Place::File(path),
        })
    }

    fn sqlite_memory() -> Option<Harness> {
        let mut store = open("sqlite::memory:").unwrap();
        store.migrate().unwrap();
        Some(Harness {
            store: Some(store),
            place: Place::Memory,
        })
    }

    fn postgres() -> Option<Harness> {
        let url = pg_url()?;
        let schema = unique("yibao_test");
        let mut store = open(&with_param(&url, &format!("schema={schema}"))).unwrap();
        let harness_place = Place::Schema { url, schema };
        store.migrate().unwrap();
        Some(Harness {
            store: Some(store),
            place: harness_place,
        })
    }

    /// A second store on the same database (`None` for `:memory:`).
    fn open_another(&self) -> Option<Box<dyn Store>> {
        match &self.place {
            Place::Memory => None,
            Place::File(path) => Some(open(&format!("sqlite://{}", path.display())).unwrap()),
            Place::Schema { url, schema } => Some(open(&with_param(url, &format!("schema={schema}"))).unwrap()),
        }
    }

    fn store(&mut self) -> &mut dyn Store {
        self.store.as_deref_mut().expect("store is open")
    }

    /// Runs SQL on a second connection, beside the store (not possible for `:memory:`).
    fn raw(&self, sql: &str) -> Option<()> {
        match &self.place {
            Place::Memory => None,
            Place::File(path) => {
                rusqlite::Connection::open(path).unwrap().execute_batch(sql).unwrap();
                Some(())
            }
            Place::Schema { url, schema } => {
                let mut client = postgres::Client::connect(url, postgres::NoTls).unwrap();
                client
                    .batch_execute(&format!("SET search_path TO \"{schema}\"; {sql}"))
                    .unwrap();
                Some(())
            }
        }
    }

    fn raw_count(&self, sql: &str) -> Option<i64> {
        match &self.place {
            Place::Memory => None,
            Place::File(path) => {
                let conn = rusqlite::Connection::open(path).unwrap();
                Some(conn.query_row(sql, [], |r| r.get(0)).unwrap())
            }
            Place::Schema { url, schema } => {
                let mut client = postgres::Client::connect(url, postgres::NoTls).unwrap();
                client
                    .batch_execute(&format!("SET search_path TO \"{schema}\""))
                    .unwrap();
                Some(client.query_one(sql, &[]).unwrap().get(0))
            }
        }
    }
}

impl Drop for Harness {
    fn drop(&mut self) {
        drop(self.store.take());
        match &self.place {
            Place::Memory => {}
            Place::File(path) => {
                for suffix in ["", "-wal", "-shm"] {
                    let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
                }
            }
            Place::Schema { url, schema } => {
                if let Ok(mut client) = postgres::Client::connect(url, postgres::NoTls) {
                    let _ = client.batch_execute(&format!("DROP SCHEMA IF EXISTS \"{schema}\" CASCADE"));
                }
            }
        }
    }
}

fn run_case(make: fn() -> Option<Harness>, case: fn(&mut Harness)) {
    if let Some(mut harness) = make() {
        case(&mut harness);
    }
}

/// Every case, once per backend: `sqlite_file::CASE`, `sqlite_memory::CASE`, `postgres_schema::CASE`.
macro_rules! suites {
    ($($case:ident),* $(,)?) => {
        mod sqlite_file {
            use super::*;
            $( #[test] fn $case() { run_case(Harness::sqlite_file, cases::$case) } )*
        }
        mod sqlite_memory {
            use super::*;
            $( #[test] fn $case() { run_case(Harness::sqlite_memory, cases::$case) } )*
        }
        mod postgres_schema {
            use super::*;
            $( #[test] fn $case() { run_case(Harness::postgres, cases::$case) } )*
        }
    };
}

suites!(
    migrate_is_idempotent,
    every_record_round_trips,
    settlement_lists_and_reference_tables,
    enrolment_contributions_accounts_and_ledger_totals,
    one_writer_at_a_time,
    upserts_and_updates_replace_rows,
    a_failing_batch_writes_nothing,
    the_store_works_after_a_failed_batch,
    rows_an_update_needs_must_exist,
    constraints_reject_the_batch,
    a_settlement_is_cancelled_once,
    fee_lines_keep_their_order_and_lifecycle,
    settlement_filters_and_totals_for_reconciliation,
    ledger_balances_sum_per_book,
    a_closed_period_refuses_business_entries,
    unbalanced_postings_are_rejected,
    visits_of_a_person_by_date_newest_first,
    persons_listing_and_lookups,
    hostile_strings_round_trip,
    nul_and_out_of_range_dates_are_rejected,
    times_are_kept_to_the_microsecond,
    order_within_a_batch_is_kept,
    a_large_batch_commits_whole,
    a_bulk_batch_round_trips,
    a_failing_bulk_batch_writes_nothing,
    an_empty_batch_is_fine,
    bad_stored_values_are_reported_as_corrupt,
    exchanged_files_round_trip_and_expire,
);

#[test]
fn unknown_urls_are_refused() {
    for url in [
        "mysql://u:pw@h/db",
        "sqlite:",
        "sqlite://",
        "",
        "postgres:/h",
        "file:x.db",
    ] {
        match open(url) {
            Err(StoreError::BadUrl(shown)) => assert!(!shown.contains("pw"), "{shown}"),
            Err(other) => panic!("{url}: {other}"),
            Ok(_) => panic!("{url} opened"),
        }
    }
}

#[test]
fn relative_sqlite_paths_open_relative_to_the_working_directory() {
    // `sqlite://NAME` with a relative name; run from the crate directory by cargo.
    let name = format!("{}.db", unique("yibao_store_rel"));
    let mut store = open(&format!("sqlite://{name}")).unwrap();
    store.migrate().unwrap();
    drop(store);
    assert!(std::path::Path::new(&name).exists());
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{name}{suffix}"));
    }
}

// ---------------------------------------------------------------------------------------------
// Fixtures.

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).unwrap()
}

fn t(y: i32, m: u32, day: u32, h: u32, mi: u32, s: u32) -> NaiveDateTime {
    d(y, m, day).and_hms_opt(h, mi, s).unwrap()
}

fn institution(code: &str) -> InstitutionRecord {
    InstitutionRecord {
        code: code.into(),
        name: format!("{code} 人民医院"),
        hosp_lv: "02".into(),
        admdvs: "500102".into(),
        paas_id: format!("paas-{code}"),
        secret: "s3cr3t".into(),
        active: true,
    }
}

fn person(no: &str, certno: &str) -> PersonRecord {
    PersonRecord {
        person_no: no.into(),
        certno: certno.into(),
        name: "张三".into(),
        sex: Sex::Male,
        birth_date: d(1960, 2, 29),
        ethnicity: "01".into(),
        insurance: InsuranceType::EmployeeBasic,
        person_type: PersonType::parse("1201").unwrap(),
        tier: None,
        groups: vec![],
        civil_servant: false,
        insured_admdvs: "500102".into(),
        employer_name: "重庆某某有限公司".into(),
        status: "1".into(),
        enrolled_on: d(1985, 7, 1),
        benefits_from: None,
        account_balance: Money::from_fen(123_456),
        family_payer: Some("P0".into()),
    }
}

fn resident(no: &str, certno: &str) -> PersonRecord {
    PersonRecord {
        sex: Sex::Female,
        insurance: InsuranceType::ResidentBasic,
        person_type: PersonType::parse("151001").unwrap(),
        tier: Some(Tier::Two),
        groups: vec![SpecialGroup::Dibao, SpecialGroup::SevereDisability],
        civil_servant: true,
        benefits_from: Some(d(2024, 4, 1)),
        account_balance: Money::ZERO,
        ..person(no, certno)
    }
}

fn visit(id: &str, person_no: &str, inst: &str, begin: NaiveDateTime) -> VisitRecord {
    VisitRecord {
        visit_id: id.into(),
        person_no: person_no.into(),
        institution: inst.into(),
        insurance: InsuranceType::EmployeeBasic,
        medical_type: MedicalType::GeneralInpatient,
        begin_time: begin,
        end_time: None,
        his_visit_no: format!("ZY{id}"),
        disease_code: None,
        diagnosis_code: Some("I10.x00".into()),
        status: VisitStatus::Registered,
        in_county: true,
        doctor: None,
    }
}

fn line(visit_id: &str, sn: &str) -> FeeLineRecord {
    FeeLineRecord {
        visit_id: visit_id.into(),
        sn: sn.into(),
        batch_no: String::new(),
        code: "XA01AAA000A001010100001".into(),
        local_code: "LOCAL-1".into(),
        quantity: Quantity::from_ten_thousandths(25_000),
        price: Price::from_millionths(12_345_678),
        amount: Money::from_fen(3086),
        occurred_at: t(2024, 3, 1, 9, 30, 0),
        disease_code: None,
        refund_of: None,
        settlement_id: None,
    }
}

fn settlement(id: &str, visit_id: &str, inst: &str, msgid: &str, at: NaiveDateTime) -> SettlementRecord {
    SettlementRecord {
        settlement_id: id.into(),
        visit_id: visit_id.into(),
        person_no: "P1".into(),
        institution: inst.into(),
        insurance: InsuranceType::EmployeeBasic,
        medical_type: MedicalType::GeneralInpatient,
        clearing_type: "21".into(),
        settled_at: at,
        msgid: msgid.into(),
        policy_id: "500100/2024.1".into(),
        year: 2024,
        total: Money::from_fen(10_000),
        fund_total: Money::from_fen(7_000),
        account_pay: Money::from_fen(2_000),
        cash_pay: Money::from_fen(1_000),
        status: SettlementStatus::Settled,
        cancelled_at: None,
        cancel_msgid: None,
        output_json: r#"{"setlinfo":{"medfee_sumamt":"100.00"},"setldetail":[]}"#.into(),
        inputs_json: r#"{"person":{"person_no":"P1"}}"#.into(),
        deltas_json: r#"[["basic",{"fund":7000}]]"#.into(),
        mutual_aid_pay: Money::from_fen(250),
    }
}

fn posting(id: &str, book: &str, fen: i64, settlement_id: &str, at: NaiveDateTime) -> Vec<LedgerEntry> {
    let entry = |account: &str, debit: i64, credit: i64| LedgerEntry {
        posting_id: id.into(),
        book: book.into(),
        account: account.into(),
        debit: Money::from_fen(debit),
        credit: Money::from_fen(credit),
        settlement_id: settlement_id.into(),
        posted_at: at,
    };
    vec![entry("medical_expense", fen, 0), entry("payable_institution", 0, fen)]
}

fn message(msgid: &str) -> MessageRecord {
    MessageRecord {
        msgid: msgid.into(),
        infno: "2207".into(),
        institution: "H1".into(),
        received_at: t(2024, 3, 1, 10, 0, 0),
        response_json: r#"{"infcode":0,"output":{}}"#.into(),
        request_digest: vec![7; 32],
    }
}

fn audit(msgid: &str) -> AuditRecord {
    AuditRecord {
        msgid: msgid.into(),
        infno: "2207".into(),
        institution: "H1".into(),
        infcode: -1,
        duration_us: 1234,
        at: t(2024, 3, 1, 10, 0, 0),
        message: "人员 张* 证件 5001**********1234 无效".into(),
    }
}

fn filing(id: &str, person_no: &str, begin: NaiveDate) -> ChronicFilingRecord {
    ChronicFilingRecord {
        filing_id: id.into(),
        person_no: person_no.into(),
        disease_code: "M03900".into(),
        disease_name: "高血压".into(),
        institution: "H1".into(),
        begin_date: begin,
        end_date: None,
        active: true,
    }
}

fn acc(deductible: i64, fund: i64, visits: u32) -> Accumulator {
    Accumulator {
        deductible: Money::from_fen(deductible),
        fund: Money::from_fen(fund),
        base: Money::from_fen(fund + deductible),
        visits,
        admissions: visits / 2,
    }
}

fn commit(s: &mut dyn Store, ops: Vec<WriteOp>) {
    s.commit(&WriteBatch { ops }).unwrap();
}

fn commit_err(s: &mut dyn Store, ops: Vec<WriteOp>) -> StoreError {
    s.commit(&WriteBatch { ops }).expect_err("the batch should fail")
}

fn rejected(s: &mut dyn Store, ops: Vec<WriteOp>) -> String {
    match commit_err(s, ops) {
        StoreError::Rejected(m) => m,
        other => panic!("expected Rejected, got {other:?}"),
    }
}

/// Institutions H1 and H2, persons P1 (employee) and P2 (resident).
fn seed(s: &mut dyn Store) {
    commit(
        s,
        vec![
            WriteOp::UpsertInstitution(institution("H1")),
            WriteOp::UpsertInstitution(institution("H2")),
            WriteOp::UpsertPerson(person("P1", "500102196002290011")),
            WriteOp::UpsertPerson(resident("P2", "500102201001010022")),
        ],
    );
}

/// Everything the store can hold, for before/after comparisons.
fn snapshot(s: &mut dyn Store, persons: &[&str], visits: &[&str]) -> String {
    let mut out = format!("{:?}\n{:?}\n", s.institutions().unwrap(), s.person_count().unwrap());
    for p in persons {
        out += &format!("{:?}\n{:?}\n", s.person(p).unwrap(), s.accumulators(p, 2024).unwrap());
        out += &format!("{:?}\n", s.chronic_filings(p).unwrap());
    }
    for v in visits {
        out += &format!("{:?}\n{:?}\n", s.visit(v).unwrap(), s.fee_lines(v).unwrap());
    }
    out += &format!("{:?}\n{:?}\n", s.ledger_balances().unwrap(), s.audit_count().unwrap());
    out
}

// ---------------------------------------------------------------------------------------------
// The cases.

mod cases {
    use super::*;

    pub fn migrate_is_idempotent(h: &mut Harness) {
        let s = h.store();
        s.migrate().unwrap();
        seed(s);
        s.migrate().unwrap();
        s.migrate().unwrap();
        assert_eq!(s.person_count().unwrap(), 2);
        assert_eq!(s.institution("H1").unwrap(), Some(institution("H1")));
        if let Some(n) = h.raw_count("SELECT COUNT(*) FROM schema_migrations") {
            assert_eq!(n, 14, "one row per migration");
        }
    }

    pub fn exchanged_files_round_trip_and_expire(h: &mut Harness) {
        let s = h.store();
        seed(s);
        let file = |no: &str, created_at: NaiveDateTime, bytes: Vec<u8>| ExchangeFileRecord {
            file_no: no.into(),
            institution: "H1".into(),
            filename: "200.zip".into(),
            origin: "upload".into(),
            bytes,
            created_at,
            expires_at: created_at + chrono::Duration::days(1),
        };
        // Every byte value survives, NUL and the quote included.
        let all_bytes: Vec<u8> = (0..=255u8).cycle().take(70_000).collect();
        let f1 = file("F1", t(2024, 3, 1, 8, 0, 0), all_bytes);
        commit(s, vec![WriteOp::InsertExchangeFile(f1.clone())]);
        assert_eq!(s.exchange_file("F1").unwrap(), Some(f1.clone()));
        assert_eq!(s.exchange_file("F9").unwrap(), None);

        // Keeping a file a day after F1 expired removes F1.
        let f2 = file("F2", t(2024, 3, 3, 8, 0, 0), b"PK".to_vec());
        commit(s, vec![WriteOp::InsertExchangeFile(f2.clone())]);
        assert_eq!(s.exchange_file("F1").unwrap(), None);
        assert_eq!(s.exchange_file("F2").unwrap(), Some(f2.clone()));

        // A file for an unknown institution, a file number twice, or an oversized file refuses
        // the batch.
        let mut stranger = file("F3", t(2024, 3, 3, 9, 0, 0), b"x".to_vec());
        stranger.institution = "H9".into();
        commit_err(s, vec![WriteOp::InsertExchangeFile(stranger)]);
        commit_err(s, vec![WriteOp::InsertExchangeFile(f2.clone())]);
        let huge = file("F4", t(2024, 3, 3, 9, 0, 0), vec![0; EXCHANGE_FILE_BYTES_MAX + 1]);
        match commit_err(s, vec![WriteOp::InsertExchangeFile(huge)]) {
            StoreError::Rejected(m) => assert!(m.contains("exchange_files.bytes"), "{m}"),
            other => panic!("{other:?}"),
        }
        assert_eq!(s.exchange_file("F3").unwrap(), None);
        assert_eq!(s.exchange_file("F4").unwrap(), None);
    }

    pub fn settlement_lists_and_reference_tables(h: &mut Harness) {
        let s = h.store();
        seed(s);
        let v1 = visit("V1", "P1", "H1", t(2024, 3, 1, 8, 0, 0));
        let v2 = visit("V2", "P1", "H2", t(2024, 12, 30, 8, 0, 0));
        let s1 = settlement("S1", "V1", "H1", "M-S1", t(2024, 3, 9, 18, 0, 0));
        let s2 = settlement("S2", "V2", "H2", "M-S2", t(2025, 1, 2, 18, 0, 0));
        let list = |id: &str, visit: &str, h: &str, day: NaiveDate| SettlementListRecord {
            settlement_id: id.into(),
            visit_id: visit.into(),
            person_no: "P1".into(),
            institution: h.into(),
            insurance: InsuranceType::EmployeeBasic,
            discharge_date: day,
            drg_version: "CHS-DRG-1.1".into(),
            drg: "FM19".into(),
            total: Money::from_fen(1_234_567),
            fund_total: Money::from_fen(987_654),
            grouping_json: r#"{"drg":"FM19","steps":["主要诊断I21.001属于MDCF"]}"#.into(),
            list_json: r#"{"setl_id":"S1"}"#.into(),
            uploaded_at: t(2024, 3, 10, 9, 0, 0),
            msgid: format!("M-L{id}"),
        };
        let l1 = list("S1", "V1", "H1", d(2024, 3, 9));
        let l2 = list("S2", "V2", "H2", d(2025, 1, 2));
        let tables = ReferenceTableRecord {
            kind: "chs-drg".into(),
            version: "CHS-DRG-1.1".into(),
            imported_at: t(2024, 1, 1, 0, 0, 0),
            files_json: r#"{"1_MDC.txt":"MDCA\t先期分组疾病及相关操作"}"#.into(),
        };
        commit(
            s,
            vec![
                WriteOp::InsertVisit(v1),
                WriteOp::InsertVisit(v2),
                WriteOp::InsertSettlement(s1),
                WriteOp::InsertSettlement(s2),
                WriteOp::UpsertSettlementList(l1.clone()),
                WriteOp::UpsertSettlementList(l2.clone()),
                WriteOp::UpsertReferenceTable(tables.clone()),
            ],
        );
        assert_eq!(s.settlement_list("S1").unwrap(), Some(l1.clone()));
        assert_eq!(s.settlement_list("S9").unwrap(), None);
        assert_eq!(
            s.settlement_lists(d(2024, 1, 1), d(2024, 12, 31)).unwrap(),
            vec![l1.clone()]
        );
        assert_eq!(
            s.settlement_lists(d(2024, 1, 1), d(2025, 12, 31)).unwrap(),
            vec![l1.clone(), l2]
        );
        assert_eq!(s.reference_table_latest("chs-drg").unwrap(), Some(tables.clone()));
        assert_eq!(s.reference_table_latest("dip").unwrap(), None);

        // A re-upload replaces the list; a newer import becomes the latest.
        let mut regrouped = l1.clone();
        regrouped.drg = "FM15".into();
        let mut newer = tables.clone();
        newer.version = "CHS-DRG-2.0".into();
        newer.imported_at = t(2025, 1, 1, 0, 0, 0);
        commit(
            s,
            vec![
                WriteOp::UpsertSettlementList(regrouped.clone()),
                WriteOp::UpsertReferenceTable(newer.clone()),
            ],
        );
        assert_eq!(s.settlement_list("S1").unwrap(), Some(regrouped));
        assert_eq!(s.reference_table_latest("chs-drg").unwrap(), Some(newer));

        // A cancelled settlement's list no longer counts; a list needs its settlement.
        commit(
            s,
            vec![WriteOp::CancelSettlement {
                settlement_id: "S1".into(),
                cancelled_at: t(2024, 4, 1, 0, 0, 0),
                cancel_msgid: "M-C1".into(),
            }],
        );
        assert_eq!(s.settlement_lists(d(2024, 1, 1), d(2024, 12, 31)).unwrap(), vec![]);
        let orphan = list("S9", "V1", "H1", d(2024, 3, 9));
        let e = s.commit(&WriteBatch {
            ops: vec![WriteOp::UpsertSettlementList(orphan)],
        });
        assert!(matches!(e, Err(StoreError::Rejected(_))), "{e:?}");
    }

    pub fn enrolment_contributions_accounts_and_ledger_totals(h: &mut Harness) {
        let s = h.store();
        seed(s);
        let employer = EmployerRecord {
            credit_code: "91500000MA5U000000".into(),
            name: "重庆某某有限公司".into(),
            admdvs: "500100".into(),
            registered_on: d(2010, 5, 1),
            arrears_from: None,
        };
        let enrolment = |certno: &str, person_no: &str, employer: Option<&str>| EnrolmentRecord {
            certno: certno.into(),
            person_no: person_no.into(),
            insurance: InsuranceType::EmployeeBasic,
            status: "1".into(),
            status_from: d(2024, 1, 1),
            person_kind: "in_service".into(),
            employer: employer.map(Into::into),
            wage_base: employer.map(|_| Money::from_yuan(8000)),
            doc_json: format!(r#"{{"certno":"{certno}"}}"#),
            updated_at: t(2024, 1, 1, 0, 0, 0),
        };
        let e1 = enrolment("500102196002290011", "P1", Some(&employer.credit_code));
        let mut e2 = enrolment("500102201001010022", "P2", None);
        e2.insurance = InsuranceType::ResidentBasic;
        let contribution = |id: &str, person: &str, period: i32| ContributionRecord {
            contribution_id: id.into(),
            run_id: "R1".into(),
            person_no: person.into(),
            employer: Some(employer.credit_code.clone()),
            insurance: InsuranceType::EmployeeBasic,
            period,
            kind: "employee".into(),
            base: Money::from_yuan(8000),
            employer_amount: Money::from_yuan(640),
            individual_amount: Money::from_yuan(160),
            pooled_amount: Money::from_yuan(640),
            account_amount: Money::from_yuan(160),
            subsidy_amount: Money::ZERO,
            large_expense_amount: Money::from_yuan(5),
            posted_at: t(2024, 1, 31, 0, 0, 0),
        };
        let entry = AccountEntryRecord {
            entry_id: "A1".into(),
            person_no: "P1".into(),
            posted_at: t(2024, 1, 31, 0, 0, 0),
            kind: "credit".into(),
            amount: Money::from_yuan(160),
            balance_after: Money::from_yuan(160),
            reference: "C1".into(),
            counterparty: None,
        };
        commit(
            s,
            vec![
                WriteOp::UpsertEmployer(employer.clone()),
                WriteOp::UpsertEnrolment(e1.clone()),
                WriteOp::UpsertEnrolment(e2.clone()),
                WriteOp::InsertContributions(vec![contribution("C1", "P1", 202401)]),
                WriteOp::InsertAccountEntries(vec![entry.clone()]),
                WriteOp::InsertLedger(posting("J1", "310100", 7000, "S1", t(2024, 1, 9, 18, 0, 0))),
                WriteOp::InsertLedger(posting("J2", "310100", 500, "S2", t(2024, 1, 31, 23, 59, 59))),
                WriteOp::InsertLedger(posting("J3", "390100", 100, "S3", t(2024, 2, 1, 0, 0, 0))),
            ],
        );
        assert_eq!(s.employer(&employer.credit_code).unwrap(), Some(employer.clone()));
        assert_eq!(s.employer("nope").unwrap(), None);
        // P1 (in service, employee scheme) paid through 2024-01: looked at from 2024-02 on.
        assert_eq!(
            s.arrears_candidates(InsuranceType::EmployeeBasic, 202401).unwrap(),
            vec![]
        );
        assert_eq!(
            s.arrears_candidates(InsuranceType::EmployeeBasic, 202402).unwrap(),
            vec![(e1.certno.clone(), Some(202401))]
        );
        assert_eq!(s.employers_in_arrears().unwrap(), vec![]);
        let in_arrears = EmployerRecord {
            arrears_from: Some(202403),
            ..employer.clone()
        };
        commit(s, vec![WriteOp::UpsertEmployer(in_arrears.clone())]);
        assert_eq!(s.employers_in_arrears().unwrap(), vec![in_arrears]);
        commit(s, vec![WriteOp::UpsertEmployer(employer.clone())]);
        assert_eq!(s.employers_in_arrears().unwrap(), vec![]);
        assert_eq!(s.enrolment(&e1.certno).unwrap(), Some(e1.clone()));
        assert_eq!(s.enrolment_of_person("P2").unwrap(), Some(e2.clone()));
        assert_eq!(s.enrolment_count().unwrap(), 2);
        assert_eq!(
            s.enrolments_of(&[&e2.certno, "110101199003070000", &e1.certno])
                .unwrap()
                .len(),
            2,
            "the ones that exist"
        );
        let s_balance = s.person("P1").unwrap().unwrap().account_balance;
        // A run for February 2024: P1 has been enrolled since before the month, so its history
        // is not read; a run for December 2023 sees the change and reads it.
        let candidate = |doc: Option<&str>| RunCandidate {
            person_no: "P1".into(),
            status: "1".into(),
            status_from: d(2024, 1, 1),
            person_kind: "in_service".into(),
            employer: e1.employer.clone(),
            wage_base: e1.wage_base,
            doc_json: doc.map(Into::into),
            account_balance: s_balance,
        };
        assert_eq!(
            s.run_candidates(InsuranceType::EmployeeBasic, d(2024, 2, 1), "", 10)
                .unwrap(),
            vec![candidate(None)]
        );
        assert_eq!(
            s.run_candidates(InsuranceType::EmployeeBasic, d(2023, 12, 1), "", 10)
                .unwrap(),
            vec![candidate(Some(&e1.doc_json))]
        );
        assert_eq!(
            s.run_candidates(InsuranceType::EmployeeBasic, d(2024, 2, 1), "P1", 10)
                .unwrap(),
            vec![]
        );

        assert_eq!(
            s.contributions_of_person("P1").unwrap(),
            vec![contribution("C1", "P1", 202401)]
        );
        let run = ContributionRunRecord {
            run_id: "R1".into(),
            insurance: InsuranceType::EmployeeBasic,
            period: 202401,
            persons: 1,
            employer_amount: Money::from_yuan(640),
            individual_amount: Money::from_yuan(160),
            pooled_amount: Money::from_yuan(640),
            account_amount: Money::from_yuan(160),
            run_at: t(2024, 1, 31, 0, 0, 0),
        };
        commit(s, vec![WriteOp::InsertContributionRun(run.clone())]);
        assert_eq!(
            s.contribution_run(202401, InsuranceType::EmployeeBasic).unwrap(),
            Some(run.clone())
        );
        assert_eq!(s.contribution_run(202402, InsuranceType::EmployeeBasic).unwrap(), None);
        // A run is done once per scheme and month.
        let again = s.commit(&WriteBatch {
            ops: vec![WriteOp::InsertContributionRun(ContributionRunRecord {
                run_id: "R2".into(),
                ..run
            })],
        });
        assert!(matches!(again, Err(StoreError::Rejected(_))), "{again:?}");
        assert_eq!(s.account_entries_of_person("P1").unwrap(), vec![entry.clone()]);

        // Totals per book, account and month, kept with the entries.
        let total = |book: &str, account: &str, period: i32, debit: i64, credit: i64| LedgerTotal {
            book: book.into(),
            account: account.into(),
            period,
            debit: Money::from_fen(debit),
            credit: Money::from_fen(credit),
        };
        let expected = vec![
            total("310100", "medical_expense", 202401, 7500, 0),
            total("310100", "payable_institution", 202401, 0, 7500),
            total("390100", "medical_expense", 202402, 100, 0),
            total("390100", "payable_institution", 202402, 0, 100),
        ];
        assert_eq!(s.ledger_totals(202401, 202412).unwrap(), expected);
        assert_eq!(s.ledger_totals(202402, 202402).unwrap(), expected[2..].to_vec());
        // A later batch adds to them.
        commit(
            s,
            vec![WriteOp::InsertLedger(posting(
                "J4",
                "310100",
                25,
                "S4",
                t(2024, 1, 15, 0, 0, 0),
            ))],
        );
        assert_eq!(
            s.ledger_totals(202401, 202401).unwrap()[0],
            total("310100", "medical_expense", 202401, 7525, 0)
        );

        // The same period, person and kind cannot be charged twice; a negative balance, an
        // unknown person or employer are refused; nothing of a refused batch is written.
        for ops in [
            vec![WriteOp::InsertContributions(vec![contribution("C2", "P1", 202401)])],
            vec![WriteOp::InsertAccountEntries(vec![AccountEntryRecord {
                entry_id: "A2".into(),
                balance_after: Money::from_fen(-1),
                ..entry.clone()
            }])],
            vec![WriteOp::InsertContributions(vec![contribution("C3", "P9", 202402)])],
            vec![WriteOp::UpsertEnrolment(enrolment("500102199001010033", "P1", None))],
            vec![WriteOp::UpsertEnrolment(EnrolmentRecord {
                employer: Some("91500000MA5UNKNOWN".into()),
                ..e1.clone()
            })],
        ] {
            let mut ops = ops;
            ops.insert(0, WriteOp::InsertContributions(vec![contribution("C9", "P2", 202403)]));
            let e = s.commit(&WriteBatch { ops });
            assert!(matches!(e, Err(StoreError::Rejected(_))), "{e:?}");
            assert_eq!(s.contributions_of_person("P2").unwrap(), vec![]);
        }
        assert_eq!(s.enrolment(&e1.certno).unwrap(), Some(e1));
    }

    pub fn one_writer_at_a_time(h: &mut Harness) {
        h.store().lock_writer().unwrap();
        let Some(mut second) = h.open_another() else {
            return; // a private in-memory database has no other writer
        };
        let e = second.lock_writer();
        assert!(matches!(e, Err(StoreError::Busy(_))), "{e:?}");
        // Reading is not writing: the second store still reads.
        assert_eq!(second.person_count().unwrap(), 0);
        // The lock goes with the store that holds it.
        drop(h.store.take());
        second.lock_writer().unwrap();
    }

    pub fn every_record_round_trips(h: &mut Harness) {
        let s = h.store();
        seed(s);
        let mut inactive = institution("P50010200001");
        inactive.active = false;
        inactive.hosp_lv = "11".into();
        let mut v1 = visit("V1", "P1", "H1", t(2024, 3, 1, 8, 0, 0));
        v1.end_time = Some(t(2024, 3, 9, 17, 45, 30));
        v1.disease_code = Some("M03900".into());
        v1.status = VisitStatus::Discharged;
        let mut v2 = visit("V2", "P2", "H2", t(2024, 3, 2, 8, 0, 0));
        v2.insurance = InsuranceType::ResidentBasic;
        v2.medical_type = MedicalType::ChronicOutpatient;
        v2.diagnosis_code = None;
        v2.in_county = false;
        let mut refund = line("V1", "2");
        refund.quantity = Quantity::from_ten_thousandths(-25_000);
        refund.amount = Money::from_fen(-3086);
        refund.refund_of = Some("1".into());
        refund.disease_code = Some("M03900".into());
        refund.batch_no = "B001".into();
        let mut cancelled = settlement("S2", "V2", "H2", "M-S2", t(2024, 3, 2, 9, 0, 0));
        cancelled.person_no = "P2".into();
        cancelled.status = SettlementStatus::Cancelled;
        cancelled.cancelled_at = Some(t(2024, 3, 3, 9, 0, 0));
        cancelled.cancel_msgid = Some("M-C2".into());
        cancelled.insurance = InsuranceType::ResidentBasic;
        cancelled.year = 2023;
        let mut ended = filing("F2", "P2", d(2023, 1, 1));
        ended.end_date = Some(d(2023, 12, 31));
        ended.active = false;
        let s1 = settlement("S1", "V1", "H1", "M-S1", t(2024, 3, 9, 18, 0, 0));
        commit(
            s,
            vec![
                WriteOp::UpsertInstitution(inactive.clone()),
                WriteOp::InsertVisit(v1.clone()),
                WriteOp::InsertVisit(v2.clone()),
                WriteOp::InsertFeeLines(vec![line("V1", "1"), refund.clone()]),
                WriteOp::InsertSettlement(s1.clone()),
                WriteOp::InsertSettlement(cancelled.clone()),
                WriteOp::SetAccumulator {
                    person_no: "P1".into(),
                    year: 2024,
                    key: "basic".into(),
                    value: acc(1300, 7000, 3),
                },
                WriteOp::SetAccumulator {
                    person_no: "P1".into(),
                    year: 2024,
                    key: "large".into(),
                    value: Accumulator::default(),
                },
                WriteOp::SetAccumulator {
                    person_no: "P1".into(),
                    year: 2023,
                    key: "basic".into(),
                    value: acc(1, 2, u32::MAX),
                },
                WriteOp::InsertLedger(posting("J1", "310100", 7000, "S1", t(2024, 3, 9, 18, 0, 0))),
                WriteOp::InsertMessage(message("M-S1")),
                WriteOp::InsertAudit(audit("M-S1")),
                WriteOp::UpsertChronicFiling(filing("F1", "P2", d(2024, 1, 1))),
                WriteOp::UpsertChronicFiling(ended.clone()),
            ],
        );
        assert_eq!(s.institution("H1").unwrap(), Some(institution("H1")));
        assert_eq!(s.institution(&inactive.code).unwrap(), Some(inactive.clone()));
        assert_eq!(s.institution("nope").unwrap(), None);
        assert_eq!(
            s.institutions().unwrap(),
            vec![institution("H1"), institution("H2"), inactive]
        );
        assert_eq!(s.person("P1").unwrap(), Some(person("P1", "500102196002290011")));
        assert_eq!(s.person("P2").unwrap(), Some(resident("P2", "500102201001010022")));
        assert_eq!(s.person("P3").unwrap(), None);
        assert_eq!(s.visit("V1").unwrap(), Some(v1));
        assert_eq!(s.visit("V2").unwrap(), Some(v2));
        assert_eq!(s.visit("V3").unwrap(), None);
        assert_eq!(s.fee_lines("V1").unwrap(), vec![line("V1", "1"), refund]);
        assert_eq!(s.fee_lines("V2").unwrap(), vec![]);
        assert_eq!(s.settlement("S1").unwrap(), Some(s1.clone()));
        assert_eq!(s.settlement("S2").unwrap(), Some(cancelled.clone()));
        assert_eq!(s.settlement_by_msgid("M-S1").unwrap(), Some(s1));
        assert_eq!(s.settlement_by_msgid("M-S2").unwrap(), Some(cancelled));
        assert_eq!(s.settlement_by_msgid("M-C2").unwrap(), None);
        assert_eq!(
            s.accumulators("P1", 2024).unwrap(),
            vec![
                ("basic".to_owned(), acc(1300, 7000, 3)),
                ("large".to_owned(), Accumulator::default())
            ]
        );
        assert_eq!(
            s.accumulators("P1", 2023).unwrap(),
            vec![("basic".to_owned(), acc(1, 2, u32::MAX))]
        );
        assert_eq!(s.accumulators("P2", 2024).unwrap(), vec![]);
        assert_eq!(s.message("M-S1").unwrap(), Some(message("M-S1")));
        assert_eq!(s.message("M-S2").unwrap(), None);
        assert_eq!(s.audit_count().unwrap(), 1);
        assert_eq!(
            s.chronic_filings("P2").unwrap(),
            vec![ended, filing("F1", "P2", d(2024, 1, 1))]
        );
        assert_eq!(s.chronic_filings("P1").unwrap(), vec![]);
        assert_eq!(
            s.ledger_balances().unwrap(),
            vec![("310100".to_owned(), Money::from_fen(7000), Money::from_fen(7000))]
        );
    }

    pub fn upserts_and_updates_replace_rows(h: &mut Harness) {
        let s = h.store();
        seed(s);
        let mut h1 = institution("H1");
        h1.name = "改名医院".into();
        h1.secret = "new".into();
        h1.active = false;
        let mut p1 = resident("P1", "500102196002290011");
        p1.name = "李四".into();
        let mut v1 = visit("V1", "P1", "H1", t(2024, 3, 1, 8, 0, 0));
        commit(s, vec![WriteOp::InsertVisit(v1.clone())]);
        v1.status = VisitStatus::Settled;
        v1.end_time = Some(t(2024, 3, 5, 8, 0, 0));
        v1.institution = "H2".into();
        v1.disease_code = Some("X".into());
        v1.diagnosis_code = None;
        let mut f1 = filing("F1", "P1", d(2024, 1, 1));
        commit(s, vec![WriteOp::UpsertChronicFiling(f1.clone())]);
        f1.active = false;
        f1.end_date = Some(d(2024, 6, 30));
        commit(
            s,
            vec![
                WriteOp::UpsertInstitution(h1.clone()),
                WriteOp::UpsertPerson(p1.clone()),
                WriteOp::SetAccountBalance {
                    person_no: "P2".into(),
                    balance: Money::from_fen(-5),
                },
                WriteOp::UpdateVisit(v1.clone()),
                WriteOp::SetAccumulator {
                    person_no: "P1".into(),
                    year: 2024,
                    key: "basic".into(),
                    value: acc(1, 1, 1),
                },
                WriteOp::UpsertChronicFiling(f1.clone()),
            ],
        );
        commit(
            s,
            vec![WriteOp::SetAccumulator {
                person_no: "P1".into(),
                year: 2024,
                key: "basic".into(),
                value: acc(2, 3, 4),
            }],
        );
        assert_eq!(s.institution("H1").unwrap(), Some(h1));
        assert_eq!(s.person("P1").unwrap(), Some(p1));
        assert_eq!(s.person("P2").unwrap().unwrap().account_balance, Money::from_fen(-5));
        assert_eq!(s.visit("V1").unwrap(), Some(v1));
        assert_eq!(
            s.accumulators("P1", 2024).unwrap(),
            vec![("basic".to_owned(), acc(2, 3, 4))]
        );
        assert_eq!(s.chronic_filings("P1").unwrap(), vec![f1]);
        assert_eq!(s.person_count().unwrap(), 2);
    }

    /// The lead's example: the last op of a batch breaks a constraint; nothing of it is written.
    pub fn a_failing_batch_writes_nothing(h: &mut Harness) {
        let s = h.store();
        seed(s);
        commit(
            s,
            vec![
                WriteOp::InsertVisit(visit("V1", "P1", "H1", t(2024, 3, 1, 8, 0, 0))),
                WriteOp::InsertSettlement(settlement("S1", "V1", "H1", "M-1", t(2024, 3, 1, 9, 0, 0))),
            ],
        );
        let before = snapshot(s, &["P1", "P2", "P9"], &["V1", "V9"]);
        let mut p1 = person("P1", "500102196002290011");
        p1.account_balance = Money::ZERO;
        let batches: Vec<Vec<WriteOp>> = vec![
            // A duplicate msgid from an earlier batch.
            vec![
                WriteOp::UpsertInstitution(institution("H9")),
                WriteOp::UpsertPerson(person("P9", "X9")),
                WriteOp::UpsertPerson(p1.clone()),
                WriteOp::SetAccountBalance {
                    person_no: "P2".into(),
                    balance: Money::from_fen(1),
                },
                WriteOp::InsertVisit(visit("V9", "P9", "H9", t(2024, 3, 1, 8, 0, 0))),
                WriteOp::InsertFeeLines(vec![line("V9", "1"), line("V9", "2")]),
                WriteOp::MarkFeeLinesSettled {
                    visit_id: "V9".into(),
                    settlement_id: None,
                    sns: vec!["1".into()],
                },
                WriteOp::SetAccumulator {
                    person_no: "P1".into(),
                    year: 2024,
                    key: "basic".into(),
                    value: acc(1, 2, 3),
                },
                WriteOp::InsertLedger(posting("J9", "310100", 100, "S9", t(2024, 3, 1, 9, 0, 0))),
                WriteOp::InsertMessage(message("M-9")),
                WriteOp::InsertAudit(audit("M-9")),
                WriteOp::UpsertChronicFiling(filing("F9", "P9", d(2024, 1, 1))),
                WriteOp::UpdateVisit(visit("V1", "P1", "H2", t(2024, 3, 1, 8, 0, 0))),
                WriteOp::InsertSettlement(settlement("S9", "V9", "H9", "M-1", t(2024, 3, 1, 9, 0, 0))),
            ],
            // A duplicate msgid within the batch.
            vec![
                WriteOp::UpsertPerson(person("P9", "X9")),
                WriteOp::InsertVisit(visit("V9", "P9", "H1", t(2024, 3, 1, 8, 0, 0))),
                WriteOp::InsertSettlement(settlement("S8", "V9", "H1", "M-8", t(2024, 3, 1, 9, 0, 0))),
                WriteOp::InsertAudit(audit("M-8")),
                WriteOp::InsertSettlement(settlement("S9", "V9", "H1", "M-8", t(2024, 3, 1, 9, 0, 0))),
            ],
        ];
        for ops in batches {
            let message = rejected(s, ops);
            assert!(message.contains("msgid"), "{message}");
            assert_eq!(snapshot(s, &["P1", "P2", "P9"], &["V1", "V9"]), before);
            assert_eq!(s.settlement("S9").unwrap(), None);
            assert_eq!(s.settlement("S8").unwrap(), None);
            assert_eq!(s.message("M-9").unwrap(), None);
            assert_eq!(s.institution("H9").unwrap(), None);
        }
    }

    pub fn the_store_works_after_a_failed_batch(h: &mut Harness) {
        let s = h.store();
        seed(s);
        rejected(
            s,
            vec![
                WriteOp::UpsertInstitution(institution("H3")),
                WriteOp::InsertVisit(visit("V1", "NOBODY", "H1", t(2024, 1, 1, 0, 0, 0))),
            ],
        );
        commit(s, vec![WriteOp::UpsertInstitution(institution("H4"))]);
        assert_eq!(s.institution("H3").unwrap(), None);
        assert_eq!(s.institution("H4").unwrap(), Some(institution("H4")));
        assert_eq!(s.person_count().unwrap(), 2);
    }

    pub fn rows_an_update_needs_must_exist(h: &mut Harness) {
        let s = h.store();
        seed(s);
        let before = snapshot(s, &["P1"], &["V1"]);
        let m = rejected(
            s,
            vec![
                WriteOp::SetAccountBalance {
                    person_no: "P1".into(),
                    balance: Money::from_fen(1),
                },
                WriteOp::SetAccountBalance {
                    person_no: "GHOST".into(),
                    balance: Money::from_fen(1),
                },
            ],
        );
        assert_eq!(m, "SetAccountBalance: 人员不存在: GHOST");
        let m = rejected(
            s,
            vec![
                WriteOp::UpsertInstitution(institution("H3")),
                WriteOp::UpdateVisit(visit("V404", "P1", "H1", t(2024, 1, 1, 0, 0, 0))),
            ],
        );
        assert_eq!(m, "UpdateVisit: 就诊不存在: V404");
        let m = rejected(
            s,
            vec![WriteOp::CancelSettlement {
                settlement_id: "S404".into(),
                cancelled_at: t(2024, 1, 1, 0, 0, 0),
                cancel_msgid: "M".into(),
            }],
        );
        assert_eq!(m, "CancelSettlement: 结算不存在或已撤销: S404");
        assert_eq!(snapshot(s, &["P1"], &["V1"]), before);
    }

    pub fn constraints_reject_the_batch(h: &mut Harness) {
        let s = h.store();
        seed(s);
        let before = snapshot(s, &["P1", "P2", "P3"], &["V1"]);
        // Foreign keys: a visit of an unknown person; an accumulator of an unknown person.
        rejected(
            s,
            vec![WriteOp::InsertVisit(visit("V1", "P404", "H1", t(2024, 1, 1, 0, 0, 0)))],
        );
        rejected(
            s,
            vec![WriteOp::InsertVisit(visit("V1", "P1", "H404", t(2024, 1, 1, 0, 0, 0)))],
        );
        rejected(
            s,
            vec![WriteOp::SetAccumulator {
                person_no: "P404".into(),
                year: 2024,
                key: "k".into(),
                value: acc(0, 0, 0),
            }],
        );
        // A certificate number belongs to one person.
        rejected(s, vec![WriteOp::UpsertPerson(person("P3", "500102196002290011"))]);
        assert_eq!(snapshot(s, &["P1", "P2", "P3"], &["V1"]), before);
        // Duplicate keys.
        commit(s, vec![WriteOp::InsertMessage(message("M1"))]);
        rejected(
            s,
            vec![
                WriteOp::InsertMessage(message("M2")),
                WriteOp::InsertMessage(message("M1")),
            ],
        );
        assert_eq!(s.message("M2").unwrap(), None);
        commit(
            s,
            vec![WriteOp::InsertVisit(visit("V1", "P1", "H1", t(2024, 1, 1, 0, 0, 0)))],
        );
        rejected(s, vec![WriteOp::InsertFeeLines(vec![line("V1", "1"), line("V1", "1")])]);
        assert_eq!(s.fee_lines("V1").unwrap(), vec![]);
        assert_eq!(s.person_count().unwrap(), 2);
    }

    pub fn a_settlement_is_cancelled_once(h: &mut Harness) {
        let s = h.store();
        seed(s);
        commit(
            s,
            vec![
                WriteOp::InsertVisit(visit("V1", "P1", "H1", t(2024, 3, 1, 8, 0, 0))),
                WriteOp::InsertSettlement(settlement("S1", "V1", "H1", "M-1", t(2024, 3, 1, 9, 0, 0))),
            ],
        );
        let cancel = || WriteOp::CancelSettlement {
            settlement_id: "S1".into(),
            cancelled_at: t(2024, 3, 2, 9, 0, 0),
            cancel_msgid: "M-2".into(),
        };
        commit(s, vec![cancel()]);
        let mut expected = settlement("S1", "V1", "H1", "M-1", t(2024, 3, 1, 9, 0, 0));
        expected.status = SettlementStatus::Cancelled;
        expected.cancelled_at = Some(t(2024, 3, 2, 9, 0, 0));
        expected.cancel_msgid = Some("M-2".into());
        assert_eq!(s.settlement("S1").unwrap(), Some(expected.clone()));
        let m = rejected(
            s,
            vec![
                WriteOp::SetAccountBalance {
                    person_no: "P1".into(),
                    balance: Money::ZERO,
                },
                cancel(),
            ],
        );
        assert_eq!(m, "CancelSettlement: 结算不存在或已撤销: S1");
        assert_eq!(
            s.person("P1").unwrap().unwrap().account_balance,
            Money::from_fen(123_456)
        );
        assert_eq!(s.settlement("S1").unwrap(), Some(expected));
    }

    pub fn fee_lines_keep_their_order_and_lifecycle(h: &mut Harness) {
        let s = h.store();
        seed(s);
        commit(
            s,
            vec![
                WriteOp::InsertVisit(visit("V1", "P1", "H1", t(2024, 3, 1, 8, 0, 0))),
                WriteOp::InsertVisit(visit("V2", "P1", "H1", t(2024, 3, 1, 8, 0, 0))),
            ],
        );
        // Uploaded out of text order: they come back as uploaded.
        let sns = ["10", "9", "1", "b", "A", "2"];
        commit(
            s,
            vec![WriteOp::InsertFeeLines(sns.iter().map(|sn| line("V1", sn)).collect())],
        );
        commit(
            s,
            vec![
                WriteOp::InsertFeeLines(vec![line("V2", "1")]),
                WriteOp::InsertFeeLines(vec![line("V1", "0")]),
            ],
        );
        let got: Vec<String> = s.fee_lines("V1").unwrap().into_iter().map(|l| l.sn).collect();
        assert_eq!(got, ["10", "9", "1", "b", "A", "2", "0"]);

        commit(
            s,
            vec![
                WriteOp::InsertSettlement(settlement("S1", "V1", "H1", "M-1", t(2024, 3, 1, 9, 0, 0))),
                WriteOp::MarkFeeLinesSettled {
                    visit_id: "V1".into(),
                    settlement_id: Some("S1".into()),
                    sns: vec!["10".into(), "9".into()],
                },
                // Marking again with the same settlement is harmless.
                WriteOp::MarkFeeLinesSettled {
                    visit_id: "V1".into(),
                    settlement_id: Some("S1".into()),
                    sns: vec!["9".into()],
                },
                WriteOp::MarkFeeLinesSettled {
                    visit_id: "V1".into(),
                    settlement_id: Some("S1".into()),
                    sns: vec![],
                },
            ],
        );
        let lines = s.fee_lines("V1").unwrap();
        assert_eq!(lines[0].settlement_id.as_deref(), Some("S1"));
        assert_eq!(lines[1].settlement_id.as_deref(), Some("S1"));
        assert_eq!(lines[2].settlement_id, None);

        // Lines another settlement holds, or that do not exist, cannot be marked.
        commit(
            s,
            vec![WriteOp::InsertSettlement(settlement(
                "S2",
                "V1",
                "H1",
                "M-2",
                t(2024, 3, 1, 9, 0, 0),
            ))],
        );
        let m = rejected(
            s,
            vec![WriteOp::MarkFeeLinesSettled {
                visit_id: "V1".into(),
                settlement_id: Some("S2".into()),
                sns: vec!["1".into(), "10".into(), "404".into()],
            }],
        );
        assert_eq!(
            m,
            "MarkFeeLinesSettled: 就诊 V1 的费用明细不存在或已由其他结算占用: 10, 404"
        );
        assert_eq!(
            s.fee_lines("V1").unwrap()[2].settlement_id,
            None,
            "1 was not marked either"
        );
        let m = rejected(
            s,
            vec![WriteOp::MarkFeeLinesSettled {
                visit_id: "V2".into(),
                settlement_id: None,
                sns: vec!["1".into(), "10".into()],
            }],
        );
        assert_eq!(m, "MarkFeeLinesSettled: 就诊 V2 的费用明细不存在或已由其他结算占用: 10");

        // Deleting spares settled lines: one, then all unsettled of the visit.
        commit(
            s,
            vec![WriteOp::DeleteFeeLines {
                visit_id: "V1".into(),
                sn: Some("10".into()),
            }],
        );
        commit(
            s,
            vec![WriteOp::DeleteFeeLines {
                visit_id: "V1".into(),
                sn: Some("b".into()),
            }],
        );
        let got: Vec<String> = s.fee_lines("V1").unwrap().into_iter().map(|l| l.sn).collect();
        assert_eq!(got, ["10", "9", "1", "A", "2", "0"]);
        commit(
            s,
            vec![WriteOp::DeleteFeeLines {
                visit_id: "V1".into(),
                sn: None,
            }],
        );
        let got: Vec<String> = s.fee_lines("V1").unwrap().into_iter().map(|l| l.sn).collect();
        assert_eq!(got, ["10", "9"]);
        assert_eq!(s.fee_lines("V2").unwrap().len(), 1);

        // Freeing lines (cancellation) lets them be deleted and replaced.
        commit(
            s,
            vec![
                WriteOp::MarkFeeLinesSettled {
                    visit_id: "V1".into(),
                    settlement_id: None,
                    sns: vec!["10".into(), "9".into()],
                },
                WriteOp::DeleteFeeLines {
                    visit_id: "V1".into(),
                    sn: None,
                },
                WriteOp::InsertFeeLines(vec![line("V1", "9")]),
            ],
        );
        assert_eq!(s.fee_lines("V1").unwrap(), vec![line("V1", "9")]);
    }

    pub fn settlement_filters_and_totals_for_reconciliation(h: &mut Harness) {
        let s = h.store();
        seed(s);
        let micro_before_midnight = |y, m, day| d(y, m, day).and_hms_micro_opt(23, 59, 59, 999_999).unwrap();
        let mut ops = Vec::new();
        let mut add = |id: &str, inst: &str, at: NaiveDateTime, ins: InsuranceType, clr: &str, total: i64| {
            ops.push(WriteOp::InsertVisit(visit(&format!("V{id}"), "P1", inst, at)));
            let mut r = settlement(id, &format!("V{id}"), inst, &format!("M{id}"), at);
            r.insurance = ins;
            r.clearing_type = clr.into();
            r.total = Money::from_fen(total);
            r.fund_total = Money::from_fen(total / 2);
            r.account_pay = Money::from_fen(total / 4);
            r.cash_pay = Money::from_fen(total - total / 2 - total / 4);
            ops.push(WriteOp::InsertSettlement(r));
        };
        use InsuranceType::{EmployeeBasic as E, ResidentBasic as R};
        add("S1", "H1", t(2024, 1, 1, 0, 0, 0), E, "11", 1000);
        add("S2", "H1", micro_before_midnight(2024, 1, 31), R, "21", 2000);
        add("S3", "H1", micro_before_midnight(2023, 12, 31), E, "11", 4000);
        add("S4", "H1", t(2024, 2, 1, 0, 0, 0), E, "11", 8000);
        add("S5", "H1", t(2024, 1, 15, 12, 0, 0), E, "21", 16000);
        add("S6", "H2", t(2024, 1, 10, 0, 0, 0), E, "11", 32000);
        add("S7", "H1", t(2024, 1, 15, 12, 0, 0), E, "11", 64000);
        ops.push(WriteOp::CancelSettlement {
            settlement_id: "S5".into(),
            cancelled_at: t(2024, 1, 16, 0, 0, 0),
            cancel_msgid: "C5".into(),
        });
        commit(s, ops);
        // S3, made in December, is cancelled in February; S5 was cancelled in January.
        commit(
            s,
            vec![WriteOp::CancelSettlement {
                settlement_id: "S3".into(),
                cancelled_at: t(2024, 2, 3, 9, 0, 0),
                cancel_msgid: "C3".into(),
            }],
        );

        let january = SettlementFilter {
            institution: "H1".into(),
            insurance: None,
            clearing_type: None,
            from: d(2024, 1, 1),
            to: d(2024, 1, 31),
            in_force_only: false,
        };
        let ids = |s: &mut dyn Store, f: &SettlementFilter, limit: i64| -> Vec<String> {
            s.settlements(f, limit)
                .unwrap()
                .into_iter()
                .map(|r| r.settlement_id)
                .collect()
        };
        assert_eq!(ids(s, &january, 100), ["S1", "S5", "S7", "S2"]);
        assert_eq!(ids(s, &january, 2), ["S1", "S5"]);
        assert!(ids(s, &january, 0).is_empty());
        assert!(ids(s, &january, -1).is_empty());
        let totals = s.settlement_totals(&january).unwrap();
        let sum = 1000 + 2000 + 16000 + 64000;
        assert_eq!(totals.count, 4);
        assert_eq!(totals.total, Money::from_fen(sum));
        assert_eq!(totals.fund_total + totals.account_pay + totals.cash_pay, totals.total);
        assert_eq!(totals.fund_total, Money::from_fen(500 + 1000 + 8000 + 32000));

        let in_force = SettlementFilter {
            in_force_only: true,
            ..january.clone()
        };
        assert_eq!(ids(s, &in_force, 100), ["S1", "S7", "S2"]);
        // Refunds by the day they happened, whenever the settlement was made.
        let cancelled = |s: &mut dyn Store, f: &SettlementFilter| -> Vec<String> {
            s.settlements_cancelled(f, 100)
                .unwrap()
                .into_iter()
                .map(|r| r.settlement_id)
                .collect()
        };
        assert_eq!(cancelled(s, &in_force), ["S5"], "in_force_only does not apply");
        let february = SettlementFilter {
            from: d(2024, 2, 1),
            to: d(2024, 2, 29),
            ..january.clone()
        };
        assert_eq!(cancelled(s, &february), ["S3"]);
        assert_eq!(ids(s, &february, 100), ["S4"], "made in February: S4 only");
        let december = SettlementFilter {
            from: d(2023, 12, 1),
            to: d(2023, 12, 31),
            ..january.clone()
        };
        assert!(cancelled(s, &december).is_empty());
        assert_eq!(
            s.settlement_totals(&in_force).unwrap().total,
            Money::from_fen(1000 + 2000 + 64000)
        );
        let employee = SettlementFilter {
            insurance: Some(E),
            ..january.clone()
        };
        assert_eq!(ids(s, &employee, 100), ["S1", "S5", "S7"]);
        let inpatient = SettlementFilter {
            clearing_type: Some("21".into()),
            ..january.clone()
        };
        assert_eq!(ids(s, &inpatient, 100), ["S5", "S2"]);
        let both = SettlementFilter {
            insurance: Some(E),
            clearing_type: Some("21".into()),
            in_force_only: true,
            ..january.clone()
        };
        assert!(ids(s, &both, 100).is_empty());
        assert_eq!(s.settlement_totals(&both).unwrap(), SettlementTotals::default());
        let last_day = SettlementFilter {
            from: d(2024, 1, 31),
            ..january.clone()
        };
        assert_eq!(ids(s, &last_day, 100), ["S2"]);
        let first_day = SettlementFilter {
            to: d(2024, 1, 1),
            from: d(2023, 12, 31),
            ..january.clone()
        };
        assert_eq!(ids(s, &first_day, 100), ["S3", "S1"]);
        let reversed = SettlementFilter {
            from: d(2024, 2, 1),
            to: d(2024, 1, 1),
            ..january.clone()
        };
        assert!(ids(s, &reversed, 100).is_empty());
        assert_eq!(s.settlement_totals(&reversed).unwrap(), SettlementTotals::default());
        let all_time = SettlementFilter {
            from: NaiveDate::MIN,
            to: NaiveDate::MAX,
            ..january.clone()
        };
        assert_eq!(ids(s, &all_time, 100), ["S3", "S1", "S5", "S7", "S2", "S4"]);
        let h2 = SettlementFilter {
            institution: "H2".into(),
            ..january.clone()
        };
        assert_eq!(ids(s, &h2, 100), ["S6"]);
        assert_eq!(s.settlement_totals(&h2).unwrap().count, 1);
    }

    pub fn a_closed_period_refuses_business_entries(h: &mut Harness) {
        let s = h.store();
        let m = Money::from_fen;
        commit(
            s,
            vec![
                WriteOp::InsertLedger(posting("J1", "310100", 700, "S1", t(2026, 1, 15, 9, 0, 0))),
                WriteOp::InsertLedger(posting("J2", "310100", 300, "S2", t(2026, 2, 3, 9, 0, 0))),
            ],
        );
        let totals_before = s.ledger_totals(0, 999_912).unwrap();
        // Closing January: the expense is carried into fund balance by a closing posting.
        let closing = |account: &str, debit: i64, credit: i64| LedgerEntry {
            posting_id: "CLOSE-2026-01".into(),
            book: "310100".into(),
            account: account.into(),
            debit: m(debit),
            credit: m(credit),
            settlement_id: "CLOSE-2026-01".into(),
            posted_at: t(2026, 1, 31, 23, 59, 59),
        };
        let entries = vec![closing("medical_expense", 0, 700), closing("fund_balance", 700, 0)];
        let close = PeriodCloseRecord {
            period: "2026-01".into(),
            through_month: 202601,
            open_from: d(2026, 2, 1),
            closed_at: t(2026, 2, 1, 8, 0, 0),
            summary_json: r#"{"books":[]}"#.into(),
        };
        commit(
            s,
            vec![WriteOp::ClosePeriod {
                close: close.clone(),
                entries: entries.clone(),
            }],
        );
        assert_eq!(s.period_closes().unwrap(), vec![close.clone()]);
        assert_eq!(s.closing_entries().unwrap(), entries);
        // Closing entries stay out of the per-month totals, and every book still balances.
        assert_eq!(s.ledger_totals(0, 999_912).unwrap(), totals_before);
        assert_eq!(
            s.ledger_balances().unwrap(),
            vec![("310100".to_owned(), m(1700), m(1700))]
        );

        // A business entry dated in the closed month is refused, with the rest of its batch.
        let late = rejected(
            s,
            vec![
                WriteOp::InsertAudit(audit("M-late")),
                WriteOp::InsertLedger(posting("J3", "310100", 5, "S3", t(2026, 1, 31, 23, 0, 0))),
            ],
        );
        assert!(late.contains("closed period"), "{late}");
        assert_eq!(s.audit_count().unwrap(), 0, "nothing of the batch was written");
        // The first open day is fine; the same period cannot be closed twice.
        commit(
            s,
            vec![WriteOp::InsertLedger(posting(
                "J4",
                "310100",
                5,
                "S4",
                t(2026, 2, 1, 0, 0, 0),
            ))],
        );
        rejected(s, vec![WriteOp::ClosePeriod { close, entries }]);
        assert_eq!(s.closing_entries().unwrap().len(), 2);
    }

    pub fn ledger_balances_sum_per_book(h: &mut Harness) {
        let s = h.store();
        assert_eq!(s.ledger_balances().unwrap(), vec![]);
        let at = t(2024, 3, 1, 9, 0, 0);
        let mut account = posting("J1", "310200", 200, "S1", at);
        account.extend(posting("J1", "310100", 1000, "S1", at));
        commit(
            s,
            vec![
                WriteOp::InsertLedger(account),
                WriteOp::InsertLedger(posting("J2", "310100", 500, "S2", at)),
            ],
        );
        commit(
            s,
            vec![WriteOp::InsertLedger(posting(
                "J3",
                "390100",
                9_000_000_000_000,
                "S3",
                at,
            ))],
        );
        // A red-ink reversal (negative amounts) balances too.
        commit(s, vec![WriteOp::InsertLedger(posting("J4", "310100", -500, "S2", at))]);
        commit(s, vec![WriteOp::InsertLedger(vec![])]);
        let m = Money::from_fen;
        assert_eq!(
            s.ledger_balances().unwrap(),
            vec![
                ("310100".to_owned(), m(1000), m(1000)),
                ("310200".to_owned(), m(200), m(200)),
                ("390100".to_owned(), m(9_000_000_000_000), m(9_000_000_000_000)),
            ]
        );
    }

    pub fn unbalanced_postings_are_rejected(h: &mut Harness) {
        let s = h.store();
        let at = t(2024, 3, 1, 9, 0, 0);
        let mut short = posting("J1", "310100", 1000, "S1", at);
        short[1].credit = Money::from_fen(999);
        let m = rejected(s, vec![WriteOp::InsertAudit(audit("M1")), WriteOp::InsertLedger(short)]);
        assert!(m.contains("J1"), "{m}");
        // Balanced as a posting, but money moved between books without a transfer.
        let mut across = posting("J2", "310100", 1000, "S1", at);
        across[1].book = "390100".into();
        let m = rejected(s, vec![WriteOp::InsertLedger(across)]);
        assert!(m.contains("310100"), "{m}");
        // A posting split over two ops of one batch is fine.
        let halves = posting("J3", "310100", 7, "S1", at);
        commit(
            s,
            vec![
                WriteOp::InsertLedger(vec![halves[0].clone()]),
                WriteOp::InsertLedger(vec![halves[1].clone()]),
            ],
        );
        assert_eq!(
            s.ledger_balances().unwrap(),
            vec![("310100".to_owned(), Money::from_fen(7), Money::from_fen(7))]
        );
        assert_eq!(s.audit_count().unwrap(), 0);
    }

    pub fn visits_of_a_person_by_date_newest_first(h: &mut Harness) {
        let s = h.store();
        seed(s);
        let end_of = |y, m, day| d(y, m, day).and_hms_micro_opt(23, 59, 59, 999_999).unwrap();
        commit(
            s,
            vec![
                WriteOp::InsertVisit(visit("Va", "P1", "H1", t(2024, 3, 1, 0, 0, 0))),
                WriteOp::InsertVisit(visit("Vb", "P1", "H2", end_of(2024, 3, 31))),
                WriteOp::InsertVisit(visit("Vc", "P1", "H1", t(2024, 3, 15, 8, 0, 0))),
                WriteOp::InsertVisit(visit("Vd", "P1", "H1", t(2024, 3, 15, 8, 0, 0))),
                WriteOp::InsertVisit(visit("Ve", "P1", "H1", end_of(2024, 2, 29))),
                WriteOp::InsertVisit(visit("Vf", "P1", "H1", t(2024, 4, 1, 0, 0, 0))),
                WriteOp::InsertVisit(visit("Vg", "P2", "H1", t(2024, 3, 10, 0, 0, 0))),
            ],
        );
        let ids = |s: &mut dyn Store, from, to, limit| -> Vec<String> {
            s.visits_of_person("P1", from, to, limit)
                .unwrap()
                .into_iter()
                .map(|v| v.visit_id)
                .collect()
        };
        assert_eq!(ids(s, d(2024, 3, 1), d(2024, 3, 31), 10), ["Vb", "Vd", "Vc", "Va"]);
        assert_eq!(ids(s, d(2024, 3, 1), d(2024, 3, 31), 2), ["Vb", "Vd"]);
        assert_eq!(ids(s, d(2024, 3, 15), d(2024, 3, 15), 10), ["Vd", "Vc"]);
        assert!(ids(s, d(2024, 3, 1), d(2024, 3, 31), 0).is_empty());
        assert!(ids(s, d(2024, 3, 31), d(2024, 3, 1), 10).is_empty());
        assert_eq!(
            ids(s, NaiveDate::MIN, NaiveDate::MAX, 10),
            ["Vf", "Vb", "Vd", "Vc", "Va", "Ve"]
        );
        assert_eq!(
            s.visits_of_person("P2", d(2024, 1, 1), d(2024, 12, 31), 10)
                .unwrap()
                .len(),
            1
        );
        assert_eq!(
            s.visits_of_person("P404", d(2024, 1, 1), d(2024, 12, 31), 10).unwrap(),
            vec![]
        );
        // Whether a person was ever seen at an institution (5206 answers only those that did).
        assert!(s.person_visited("P1", "H2").unwrap());
        assert!(s.person_visited("P2", "H1").unwrap());
        assert!(!s.person_visited("P2", "H2").unwrap());
        assert!(!s.person_visited("P404", "H1").unwrap());
    }

    pub fn persons_listing_and_lookups(h: &mut Harness) {
        let s = h.store();
        assert_eq!(s.person_count().unwrap(), 0);
        assert_eq!(s.persons(10, 0).unwrap(), vec![]);
        let nos = ["P10", "P2", "P1", "Q", "P3", "p0"];
        commit(
            s,
            nos.iter()
                .map(|n| WriteOp::UpsertPerson(person(n, &format!("ID-{n}"))))
                .collect(),
        );
        assert_eq!(s.person_count().unwrap(), 6);
        let listed = |s: &mut dyn Store, limit, offset| -> Vec<String> {
            s.persons(limit, offset)
                .unwrap()
                .into_iter()
                .map(|p| p.person_no)
                .collect()
        };
        assert_eq!(listed(s, 100, 0), ["P1", "P10", "P2", "P3", "Q", "p0"]);
        assert_eq!(listed(s, 2, 1), ["P10", "P2"]);
        assert_eq!(listed(s, 2, -5), ["P1", "P10"]);
        assert!(listed(s, 0, 0).is_empty());
        assert!(listed(s, 10, 6).is_empty());
        assert_eq!(s.person_by_certno("ID-Q").unwrap(), Some(person("Q", "ID-Q")));
        assert_eq!(s.person_by_certno("ID-q").unwrap(), None);
        assert_eq!(s.person("q").unwrap(), None);
    }

    fn hostile() -> Vec<String> {
        let mut v: Vec<String> = [
            "O'Brien",
            "'",
            "''",
            "'''",
            "\\",
            "\\\\",
            "\\'",
            "'\\",
            "a\\'; DROP TABLE persons; --",
            "'); DROP TABLE persons; --",
            "x' OR '1'='1",
            "$$",
            "$$; DROP TABLE persons; $$",
            "$fn$",
            "$1",
            "?1",
            "?",
            ":name",
            "@p",
            "E'\\x41'",
            "U&'\\0041'",
            "\"double\" \"\"quoted\"\"",
            "-- comment",
            "/* c */",
            "; COMMIT; BEGIN;",
            "%_*",
            "张三·李四（退休）",
            "😷🏥 emoji",
            "\u{202e}rtl override",
            "\u{feff}bom",
            "\r\n\t",
            "\u{1}\u{7f}\u{1b}[31m",
            "  spaces  ",
            "",
            "ＦＵＬＬＷＩＤＴＨ＇",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        v.push("'".repeat(1000));
        v.push("\\".repeat(999));
        v.push("长".repeat(5000));
        v
    }

    pub fn hostile_strings_round_trip(h: &mut Harness) {
        let s = h.store();
        seed(s);
        for (i, text) in hostile().into_iter().enumerate() {
            // As an identifier, everywhere one is used as a key.
            let id = format!("{i}{text}");
            let mut inst = institution(&id);
            inst.name = text.clone();
            inst.secret = text.clone();
            let mut p = resident(&id, &format!("cert{id}"));
            p.name = text.clone();
            p.employer_name = text.clone();
            p.status = text.clone();
            let mut v = visit(&id, &id, &id, t(2024, 3, 1, 8, 0, 0));
            v.his_visit_no = text.clone();
            v.disease_code = Some(text.clone());
            let mut l = line(&id, &text);
            l.code = text.clone();
            l.refund_of = Some(text.clone());
            let mut st = settlement(&id, &id, &id, &id, t(2024, 3, 1, 9, 0, 0));
            st.person_no = id.clone();
            st.output_json = text.clone();
            st.clearing_type = text.clone();
            let mut msg = message(&id);
            msg.response_json = text.clone();
            let mut au = audit(&id);
            au.message = text.clone();
            let mut f = filing(&id, &id, d(2024, 1, 1));
            f.disease_name = text.clone();
            let mut entries = posting(&id, &id, 1, &id, t(2024, 3, 1, 9, 0, 0));
            entries[0].account = text.clone();
            commit(
                s,
                vec![
                    WriteOp::UpsertInstitution(inst.clone()),
                    WriteOp::UpsertPerson(p.clone()),
                    WriteOp::SetAccountBalance {
                        person_no: id.clone(),
                        balance: Money::from_fen(i as i64),
                    },
                    WriteOp::InsertVisit(v.clone()),
                    WriteOp::UpdateVisit(v.clone()),
                    WriteOp::InsertFeeLines(vec![l.clone()]),
                    WriteOp::InsertSettlement(st.clone()),
                    WriteOp::MarkFeeLinesSettled {
                        visit_id: id.clone(),
                        settlement_id: Some(id.clone()),
                        sns: vec![text.clone()],
                    },
                    WriteOp::SetAccumulator {
                        person_no: id.clone(),
                        year: 2024,
                        key: text.clone(),
                        value: acc(1, 2, 3),
                    },
                    WriteOp::InsertLedger(entries),
                    WriteOp::InsertMessage(msg.clone()),
                    WriteOp::InsertAudit(au),
                    WriteOp::UpsertChronicFiling(f.clone()),
                ],
            );
            p.account_balance = Money::from_fen(i as i64);
            l.settlement_id = Some(id.clone());
            assert_eq!(s.institution(&id).unwrap(), Some(inst), "{text:?}");
            assert_eq!(s.person(&id).unwrap(), Some(p.clone()), "{text:?}");
            assert_eq!(s.person_by_certno(&format!("cert{id}")).unwrap(), Some(p), "{text:?}");
            assert_eq!(s.visit(&id).unwrap(), Some(v), "{text:?}");
            assert_eq!(s.fee_lines(&id).unwrap(), vec![l], "{text:?}");
            assert_eq!(s.settlement(&id).unwrap(), Some(st.clone()), "{text:?}");
            assert_eq!(s.settlement_by_msgid(&id).unwrap(), Some(st), "{text:?}");
            assert_eq!(
                s.accumulators(&id, 2024).unwrap(),
                vec![(text.clone(), acc(1, 2, 3))],
                "{text:?}"
            );
            assert_eq!(s.message(&id).unwrap(), Some(msg), "{text:?}");
            assert_eq!(s.chronic_filings(&id).unwrap(), vec![f], "{text:?}");
            let filter = SettlementFilter {
                institution: id.clone(),
                insurance: None,
                clearing_type: Some(text.clone()),
                from: d(2024, 3, 1),
                to: d(2024, 3, 1),
                in_force_only: true,
            };
            assert_eq!(s.settlement_totals(&filter).unwrap().count, 1, "{text:?}");
            // A hostile key in a failing update is named, not executed.
            let m = rejected(
                s,
                vec![WriteOp::SetAccountBalance {
                    person_no: format!("nobody{text}"),
                    balance: Money::ZERO,
                }],
            );
            assert_eq!(m, format!("SetAccountBalance: 人员不存在: nobody{text}"));
        }
        let n = hostile().len() as i64;
        assert_eq!(s.person_count().unwrap(), n + 2);
        assert_eq!(s.audit_count().unwrap(), n);
        assert_eq!(s.institutions().unwrap().len() as i64, n + 2);
        assert_eq!(s.ledger_balances().unwrap().len() as i64, n);
    }

    pub fn nul_and_out_of_range_dates_are_rejected(h: &mut Harness) {
        let s = h.store();
        seed(s);
        let mut p = person("P9", "X9");
        p.name = "a\0b".into();
        let m = rejected(
            s,
            vec![WriteOp::UpsertInstitution(institution("H9")), WriteOp::UpsertPerson(p)],
        );
        assert!(m.contains("persons.name") && m.contains("NUL"), "{m}");
        let mut p = person("P9", "X9");
        p.birth_date = d(10000, 1, 1);
        let m = rejected(s, vec![WriteOp::UpsertPerson(p)]);
        assert!(m.contains("persons.birth_date"), "{m}");
        let m = rejected(
            s,
            vec![WriteOp::InsertVisit(visit(
                "V9",
                "P1",
                "H1",
                d(0, 12, 31).and_hms_opt(0, 0, 0).unwrap(),
            ))],
        );
        assert!(m.contains("visits.begin_time"), "{m}");
        assert_eq!(s.institution("H9").unwrap(), None);
        assert_eq!(s.person("P9").unwrap(), None);
        // The extremes that are allowed round-trip.
        let mut p = person("P9", "X9");
        p.birth_date = d(1, 1, 1);
        p.enrolled_on = d(9999, 12, 31);
        let mut v = visit("V9", "P1", "H1", d(1, 1, 1).and_hms_opt(0, 0, 0).unwrap());
        v.end_time = Some(d(9999, 12, 31).and_hms_micro_opt(23, 59, 59, 999_999).unwrap());
        commit(
            s,
            vec![WriteOp::UpsertPerson(p.clone()), WriteOp::InsertVisit(v.clone())],
        );
        assert_eq!(s.person("P9").unwrap(), Some(p));
        assert_eq!(s.visit("V9").unwrap(), Some(v));
    }

    pub fn times_are_kept_to_the_microsecond(h: &mut Harness) {
        let s = h.store();
        seed(s);
        let fine = d(2024, 3, 1).and_hms_nano_opt(8, 0, 0, 123_456_789).unwrap();
        let micro = d(2024, 3, 1).and_hms_micro_opt(8, 0, 0, 123_456).unwrap();
        let mut v = visit("V1", "P1", "H1", fine);
        v.end_time = Some(d(2024, 3, 1).and_hms_nano_opt(9, 0, 0, 999_999_999).unwrap());
        commit(s, vec![WriteOp::InsertVisit(v)]);
        let got = s.visit("V1").unwrap().unwrap();
        assert_eq!(got.begin_time, micro);
        assert_eq!(
            got.end_time,
            Some(d(2024, 3, 1).and_hms_micro_opt(9, 0, 0, 999_999).unwrap())
        );
    }

    pub fn order_within_a_batch_is_kept(h: &mut Harness) {
        let s = h.store();
        seed(s);
        let with_balance = |fen| {
            let mut p = person("P1", "500102196002290011");
            p.account_balance = Money::from_fen(fen);
            p
        };
        let set = |fen| WriteOp::SetAccountBalance {
            person_no: "P1".into(),
            balance: Money::from_fen(fen),
        };
        let accumulate = |v: u32| WriteOp::SetAccumulator {
            person_no: "P1".into(),
            year: 2024,
            key: "basic".into(),
            value: acc(0, 0, v),
        };
        commit(
            s,
            vec![
                WriteOp::UpsertPerson(with_balance(100)),
                set(200),
                set(250),
                WriteOp::UpsertPerson(with_balance(300)),
                set(400),
                set(500),
            ],
        );
        assert_eq!(s.person("P1").unwrap().unwrap().account_balance, Money::from_fen(500));
        commit(
            s,
            vec![
                set(1),
                WriteOp::UpsertPerson(with_balance(2)),
                WriteOp::UpsertPerson(with_balance(3)),
            ],
        );
        assert_eq!(s.person("P1").unwrap().unwrap().account_balance, Money::from_fen(3));
        commit(s, vec![accumulate(1), accumulate(2), accumulate(3)]);
        assert_eq!(
            s.accumulators("P1", 2024).unwrap(),
            vec![("basic".to_owned(), acc(0, 0, 3))]
        );
        // A person, their visit and its lines in one batch: each op sees the ones before it.
        commit(
            s,
            vec![
                WriteOp::UpsertInstitution(institution("H5")),
                WriteOp::UpsertPerson(person("P5", "X5")),
                WriteOp::InsertVisit(visit("V5", "P5", "H5", t(2024, 3, 1, 8, 0, 0))),
                WriteOp::InsertFeeLines(vec![line("V5", "1")]),
                WriteOp::InsertSettlement(settlement("S5", "V5", "H5", "M5", t(2024, 3, 1, 9, 0, 0))),
                WriteOp::MarkFeeLinesSettled {
                    visit_id: "V5".into(),
                    settlement_id: Some("S5".into()),
                    sns: vec!["1".into()],
                },
                WriteOp::UpdateVisit(VisitRecord {
                    status: VisitStatus::Settled,
                    ..visit("V5", "P5", "H5", t(2024, 3, 1, 8, 0, 0))
                }),
                WriteOp::CancelSettlement {
                    settlement_id: "S5".into(),
                    cancelled_at: t(2024, 3, 2, 0, 0, 0),
                    cancel_msgid: "C5".into(),
                },
                WriteOp::MarkFeeLinesSettled {
                    visit_id: "V5".into(),
                    settlement_id: None,
                    sns: vec!["1".into()],
                },
                WriteOp::DeleteFeeLines {
                    visit_id: "V5".into(),
                    sn: None,
                },
            ],
        );
        assert_eq!(s.fee_lines("V5").unwrap(), vec![]);
        assert_eq!(s.settlement("S5").unwrap().unwrap().status, SettlementStatus::Cancelled);
        assert_eq!(s.visit("V5").unwrap().unwrap().status, VisitStatus::Settled);
        // Lines inserted, deleted and inserted again: only the last ones stay.
        commit(
            s,
            vec![
                WriteOp::InsertFeeLines(vec![line("V5", "a")]),
                WriteOp::InsertAudit(audit("x")),
                WriteOp::DeleteFeeLines {
                    visit_id: "V5".into(),
                    sn: None,
                },
                WriteOp::InsertAudit(audit("y")),
                WriteOp::InsertFeeLines(vec![line("V5", "b")]),
            ],
        );
        assert_eq!(s.fee_lines("V5").unwrap(), vec![line("V5", "b")]);
        // Two cancellations of one settlement in one batch: the second finds it cancelled.
        commit(
            s,
            vec![WriteOp::InsertSettlement(settlement(
                "S6",
                "V5",
                "H5",
                "M6",
                t(2024, 3, 1, 9, 0, 0),
            ))],
        );
        let cancel = || WriteOp::CancelSettlement {
            settlement_id: "S6".into(),
            cancelled_at: t(2024, 3, 2, 0, 0, 0),
            cancel_msgid: "C6".into(),
        };
        let m = rejected(s, vec![cancel(), cancel()]);
        assert_eq!(m, "CancelSettlement: 结算不存在或已撤销: S6");
        assert_eq!(s.settlement("S6").unwrap().unwrap().status, SettlementStatus::Settled);
    }

    pub fn a_large_batch_commits_whole(h: &mut Harness) {
        let s = h.store();
        seed(s);
        let at = t(2024, 3, 1, 9, 0, 0);
        let mut ops = Vec::new();
        for v in 0..300 {
            let vid = format!("V{v:04}");
            ops.push(WriteOp::InsertVisit(visit(&vid, "P1", "H1", at)));
            ops.push(WriteOp::InsertFeeLines(
                (0..20).map(|sn| line(&vid, &sn.to_string())).collect(),
            ));
            ops.push(WriteOp::InsertSettlement(settlement(
                &format!("S{v:04}"),
                &vid,
                "H1",
                &format!("M{v:04}"),
                at,
            )));
            ops.push(WriteOp::MarkFeeLinesSettled {
                visit_id: vid.clone(),
                settlement_id: Some(format!("S{v:04}")),
                sns: (0..20).map(|sn| sn.to_string()).collect(),
            });
            ops.push(WriteOp::SetAccumulator {
                person_no: "P1".into(),
                year: 2024,
                key: "basic".into(),
                value: acc(v, v, 1),
            });
            ops.push(WriteOp::SetAccountBalance {
                person_no: "P1".into(),
                balance: Money::from_fen(v),
            });
            ops.push(WriteOp::InsertLedger(posting(
                &format!("J{v}"),
                "310100",
                7000,
                &format!("S{v:04}"),
                at,
            )));
            ops.push(WriteOp::InsertMessage(message(&format!("M{v:04}"))));
            ops.push(WriteOp::InsertAudit(audit(&format!("M{v:04}"))));
        }
        // One visit with more lines than one statement carries.
        ops.push(WriteOp::InsertVisit(visit("VBIG", "P2", "H2", at)));
        ops.push(WriteOp::InsertFeeLines(
            (0..2500).map(|sn| line("VBIG", &sn.to_string())).collect(),
        ));
        let mut failing = ops.clone();
        failing.push(WriteOp::InsertMessage(message("M0123")));
        rejected(s, failing);
        assert_eq!(s.audit_count().unwrap(), 0);
        assert_eq!(s.visit("V0000").unwrap(), None);

        commit(s, ops);
        let january = SettlementFilter {
            institution: "H1".into(),
            insurance: None,
            clearing_type: None,
            from: d(2024, 3, 1),
            to: d(2024, 3, 1),
            in_force_only: true,
        };
        let totals = s.settlement_totals(&january).unwrap();
        assert_eq!(totals.count, 300);
        assert_eq!(totals.total, Money::from_fen(300 * 10_000));
        assert_eq!(s.audit_count().unwrap(), 300);
        assert_eq!(s.person("P1").unwrap().unwrap().account_balance, Money::from_fen(299));
        assert_eq!(
            s.accumulators("P1", 2024).unwrap(),
            vec![("basic".to_owned(), acc(299, 299, 1))]
        );
        let lines = s.fee_lines("V0123").unwrap();
        assert_eq!(lines.len(), 20);
        assert!(lines.iter().all(|l| l.settlement_id.as_deref() == Some("S0123")));
        let big = s.fee_lines("VBIG").unwrap();
        assert_eq!(big.len(), 2500);
        assert!(
            big.iter().enumerate().all(|(i, l)| l.sn == i.to_string()),
            "upload order kept"
        );
        assert_eq!(
            s.ledger_balances().unwrap(),
            vec![(
                "310100".to_owned(),
                Money::from_fen(300 * 7000),
                Money::from_fen(300 * 7000)
            )]
        );
    }

    /// More rows of one kind than the PostgreSQL backend writes with statements (it copies
    /// groups of 4,096 rows and more): persons, enrolments, contributions, balances, account
    /// entries and ledger entries, with texts that need care in any encoding.
    const BULK_ROWS: usize = 4_500;

    fn bulk_text(i: usize) -> String {
        let nasty = [
            "",
            "tab\there",
            "back\\slash \\N \\\\ \\t",
            "line\nbreak\r\nand CR\r",
            "张三·医保 😷",
            "O'Brien; DROP TABLE persons; --",
            "\\.",
            "PGCOPY\n\u{ff}\r\n",
        ];
        format!(
            "{}{}",
            nasty[i % nasty.len()],
            if i.is_multiple_of(3) {
                String::new()
            } else {
                i.to_string()
            }
        )
    }

    fn bulk_people(names_from: usize) -> (Vec<PersonRecord>, Vec<EnrolmentRecord>) {
        let mut persons = Vec::with_capacity(BULK_ROWS);
        let mut enrolments = Vec::with_capacity(BULK_ROWS);
        for i in 0..BULK_ROWS {
            let no = format!("B{i:06}");
            let certno = format!("5001{i:014}");
            persons.push(PersonRecord {
                name: bulk_text(names_from + i),
                employer_name: bulk_text(names_from + i + 1),
                tier: i
                    .is_multiple_of(2)
                    .then_some(if i.is_multiple_of(4) { Tier::One } else { Tier::Two }),
                benefits_from: i.is_multiple_of(4).then(|| d(1999, 12, 31)),
                family_payer: i.is_multiple_of(5).then(|| bulk_text(i)),
                account_balance: Money::from_fen(i as i64 * 101 - 7),
                birth_date: d(1 + (i % 9999) as i32, 1 + (i % 12) as u32, 1 + (i % 28) as u32),
                ..person(&no, &certno)
            });
            enrolments.push(EnrolmentRecord {
                certno: certno.clone(),
                person_no: no,
                insurance: InsuranceType::EmployeeBasic,
                status: "1".into(),
                status_from: d(2024, 1, 1),
                person_kind: bulk_text(i),
                employer: i.is_multiple_of(2).then(|| "91500000MA5U000000".to_owned()),
                wage_base: (!i.is_multiple_of(3)).then(|| Money::from_fen(i as i64 * 1000)),
                doc_json: format!(r#"{{"certno":"{certno}","note":{:?}}}"#, bulk_text(i)),
                updated_at: d(1999, 12, 31)
                    .and_hms_micro_opt(23, 59, 59, i as u32 % 1_000_000)
                    .unwrap(),
            });
        }
        (persons, enrolments)
    }

    fn bulk_employer() -> EmployerRecord {
        EmployerRecord {
            credit_code: "91500000MA5U000000".into(),
            name: "重庆某某有限公司".into(),
            admdvs: "500100".into(),
            registered_on: d(2010, 5, 1),
            arrears_from: None,
        }
    }

    fn bulk_run(persons: &[PersonRecord], run: &str) -> (Vec<ContributionRecord>, Vec<AccountEntryRecord>) {
        let at = t(2024, 1, 31, 0, 0, 0);
        let contributions = persons
            .iter()
            .enumerate()
            .map(|(i, p)| ContributionRecord {
                contribution_id: format!("{run}-{i:08}"),
                run_id: run.into(),
                person_no: p.person_no.clone(),
                employer: i.is_multiple_of(2).then(|| "91500000MA5U000000".to_owned()),
                insurance: InsuranceType::EmployeeBasic,
                period: 202401,
                kind: "employee".into(),
                base: Money::from_fen(i as i64),
                employer_amount: Money::from_fen(-(i as i64)),
                individual_amount: Money::from_fen(i64::MAX - i as i64),
                pooled_amount: Money::from_fen(i64::MIN + i as i64),
                account_amount: Money::from_fen(3),
                subsidy_amount: Money::ZERO,
                large_expense_amount: Money::from_fen(5),
                posted_at: at,
            })
            .collect();
        let entries = persons
            .iter()
            .enumerate()
            .map(|(i, p)| AccountEntryRecord {
                entry_id: format!("{run}-{i:08}-A"),
                person_no: p.person_no.clone(),
                posted_at: at,
                kind: "credit".into(),
                amount: Money::from_fen(3),
                balance_after: Money::from_fen(i as i64 + 3),
                reference: bulk_text(i),
                counterparty: (i % 2 == 1).then(|| bulk_text(i + 1)),
            })
            .collect();
        (contributions, entries)
    }

    pub fn a_bulk_batch_round_trips(h: &mut Harness) {
        let s = h.store();
        let (persons, enrolments) = bulk_people(0);
        let mut ops = vec![WriteOp::UpsertEmployer(bulk_employer())];
        for (p, e) in persons.iter().zip(&enrolments) {
            ops.push(WriteOp::UpsertPerson(p.clone()));
            ops.push(WriteOp::UpsertEnrolment(e.clone()));
        }
        commit(s, ops);
        assert_eq!(s.person_count().unwrap(), BULK_ROWS as i64);
        for (p, e) in persons.iter().zip(&enrolments).step_by(7) {
            assert_eq!(s.person(&p.person_no).unwrap().as_ref(), Some(p));
            assert_eq!(s.enrolment(&e.certno).unwrap().as_ref(), Some(e));
        }
        // Upserted again, over themselves, with other names.
        let (renamed, _) = bulk_people(3);
        commit(s, renamed.iter().cloned().map(WriteOp::UpsertPerson).collect());
        assert_eq!(s.person_count().unwrap(), BULK_ROWS as i64);
        let nos: Vec<&str> = renamed.iter().map(|p| p.person_no.as_str()).collect();
        let mut read = Vec::new();
        for chunk in nos.chunks(MESSAGES_LOOKUP_MAX) {
            read.extend(s.persons_by_no(chunk).unwrap());
        }
        read.sort_by(|a, b| a.person_no.cmp(&b.person_no));
        assert_eq!(read, renamed);
        // A run: contributions, balances, account entries and postings, as the monthly run writes.
        let (contributions, entries) = bulk_run(&renamed, "R1");
        let at = t(2024, 1, 31, 0, 0, 0);
        let postings: Vec<LedgerEntry> = (0..BULK_ROWS)
            .flat_map(|i| posting(&format!("J{i}"), "310100", i as i64 + 1, &bulk_text(i), at))
            .collect();
        let mut ops = vec![WriteOp::InsertContributions(contributions.clone())];
        for (i, p) in renamed.iter().enumerate() {
            ops.push(WriteOp::SetAccountBalance {
                person_no: p.person_no.clone(),
                balance: Money::from_fen(i as i64 + 3),
            });
        }
        ops.push(WriteOp::InsertAccountEntries(entries.clone()));
        ops.push(WriteOp::InsertLedger(postings));
        commit(s, ops);
        for (i, p) in renamed.iter().enumerate().step_by(11) {
            let stored = s.person(&p.person_no).unwrap().unwrap();
            assert_eq!(stored.account_balance, Money::from_fen(i as i64 + 3));
            assert_eq!(stored.name, p.name);
            assert_eq!(
                s.contributions_of_person(&p.person_no).unwrap(),
                [contributions[i].clone()]
            );
            assert_eq!(s.account_entries_of_person(&p.person_no).unwrap(), [entries[i].clone()]);
        }
        let total = Money::from_fen((1..=BULK_ROWS as i64).sum());
        assert_eq!(s.ledger_balances().unwrap(), vec![("310100".to_owned(), total, total)]);
        let totals = s.ledger_totals(202401, 202401).unwrap();
        assert_eq!(totals.len(), 2, "{totals:?}");
        assert!(totals.iter().all(|t| t.debit + t.credit == total), "{totals:?}");
    }

    pub fn a_failing_bulk_batch_writes_nothing(h: &mut Harness) {
        let s = h.store();
        let (persons, enrolments) = bulk_people(0);
        commit(s, vec![WriteOp::UpsertEmployer(bulk_employer())]);
        let before = s.person_count().unwrap();
        // A certificate number twice, near the end: a duplicate key while copying.
        let mut dup = persons.clone();
        dup[BULK_ROWS - 2].certno = dup[10].certno.clone();
        let mut ops: Vec<WriteOp> = dup.into_iter().map(WriteOp::UpsertPerson).collect();
        ops.extend(enrolments.iter().cloned().map(WriteOp::UpsertEnrolment));
        rejected(s, ops);
        assert_eq!(s.person_count().unwrap(), before);
        assert_eq!(s.enrolment_count().unwrap(), 0);

        let mut ops: Vec<WriteOp> = persons.iter().cloned().map(WriteOp::UpsertPerson).collect();
        ops.extend(enrolments.iter().cloned().map(WriteOp::UpsertEnrolment));
        commit(s, ops);
        // Contribution ids twice (a pure insert), then a balance of nobody: each fails whole.
        let (mut contributions, entries) = bulk_run(&persons, "R1");
        contributions[BULK_ROWS - 1].contribution_id = contributions[0].contribution_id.clone();
        let mut ops = vec![WriteOp::InsertContributions(contributions)];
        ops.extend(persons.iter().map(|p| WriteOp::SetAccountBalance {
            person_no: p.person_no.clone(),
            balance: Money::from_fen(1),
        }));
        ops.push(WriteOp::InsertAccountEntries(entries.clone()));
        rejected(s, ops);
        let (contributions, _) = bulk_run(&persons, "R1");
        let mut ops = vec![WriteOp::InsertContributions(contributions)];
        ops.extend(persons.iter().map(|p| WriteOp::SetAccountBalance {
            person_no: p.person_no.clone(),
            balance: Money::from_fen(1),
        }));
        ops.push(WriteOp::SetAccountBalance {
            person_no: "NOBODY".into(),
            balance: Money::from_fen(1),
        });
        ops.push(WriteOp::InsertAccountEntries(entries));
        let m = rejected(s, ops);
        assert!(m.contains("NOBODY"), "{m}");
        for p in persons.iter().step_by(13) {
            assert_eq!(s.person(&p.person_no).unwrap().as_ref(), Some(p), "balance unchanged");
            assert_eq!(s.contributions_of_person(&p.person_no).unwrap(), vec![]);
            assert_eq!(s.account_entries_of_person(&p.person_no).unwrap(), vec![]);
        }
        // An account entry of a person who does not exist: a foreign key, while copying.
        let (_, mut entries) = bulk_run(&persons, "R2");
        entries[BULK_ROWS / 2].person_no = "NOBODY".into();
        rejected(s, vec![WriteOp::InsertAccountEntries(entries)]);
        assert_eq!(s.account_entries_of_person(&persons[0].person_no).unwrap(), vec![]);
        // And the store goes on.
        let (contributions, _) = bulk_run(&persons, "R3");
        commit(s, vec![WriteOp::InsertContributions(contributions)]);
        assert_eq!(s.contributions_of_person(&persons[1].person_no).unwrap().len(), 1);
    }

    pub fn an_empty_batch_is_fine(h: &mut Harness) {
        let s = h.store();
        commit(s, vec![]);
        commit(s, vec![WriteOp::InsertFeeLines(vec![]), WriteOp::InsertLedger(vec![])]);
        assert_eq!(s.person_count().unwrap(), 0);
    }

    pub fn bad_stored_values_are_reported_as_corrupt(h: &mut Harness) {
        seed(h.store());
        commit(
            h.store(),
            vec![
                WriteOp::InsertVisit(visit("V1", "P1", "H1", t(2024, 3, 1, 8, 0, 0))),
                WriteOp::InsertSettlement(settlement("S1", "V1", "H1", "M1", t(2024, 3, 1, 9, 0, 0))),
            ],
        );
        type Read = fn(&mut dyn Store) -> Result<()>;
        let planted: [(&str, &str, Read); 4] = [
            (
                "UPDATE persons SET sex = '9' WHERE person_no = 'P1'",
                "persons.sex",
                |s| s.persons(10, 0).map(|_| ()),
            ),
            (
                "UPDATE settlements SET insurance = '999' WHERE settlement_id = 'S1'",
                "settlements.insurance",
                |s| s.settlement("S1").map(|_| ()),
            ),
            (
                "UPDATE visits SET status = 'lost' WHERE visit_id = 'V1'",
                "visits.status",
                |s| s.visit("V1").map(|_| ()),
            ),
            (
                "UPDATE persons SET special_groups = '低保,外星人' WHERE person_no = 'P2'",
                "persons.special_groups",
                |s| s.person("P2").map(|_| ()),
            ),
        ];
        for (sql, column, read) in planted {
            if h.raw(sql).is_none() {
                return; // an in-memory database has no second connection
            }
            let err = read(h.store());
            match err {
                Err(StoreError::Corrupt(m)) => assert!(m.starts_with(column), "{m}"),
                other => panic!("{column}: {other:?}"),
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// PostgreSQL regroups a batch into multi-row statements (moving an op only past ops it does not
// depend on); SQLite applies ops one by one in order. On random batches over a few keys, both
// must succeed or fail alike and hold the same data after every batch.

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn pick(&mut self, prefix: &str, n: usize) -> String {
        format!("{prefix}{}", self.below(n))
    }
    fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }
}

/// Random ops over a few persons, institutions and accumulator keys; visits, settlements and
/// messages are mostly new, sometimes a recent one again (a duplicate, or a reference to one
/// that may not exist yet).
struct Gen {
    r: Rng,
    /// The last number given out per prefix.
    n: std::collections::HashMap<&'static str, usize>,
    /// The visit and settlement of the last request.
    last: Option<(String, String)>,
}

impl Gen {
    fn new(seed: u64) -> Gen {
        Gen {
            r: Rng(seed),
            n: Default::default(),
            last: None,
        }
    }

    fn fresh(&mut self, prefix: &'static str) -> String {
        if self.n.contains_key(prefix) && self.r.chance(10) {
            return self.recent(prefix);
        }
        let n = self.n.entry(prefix).or_default();
        *n += 1;
        format!("{prefix}{n}")
    }

    fn recent(&mut self, prefix: &'static str) -> String {
        let back = self.r.below(3);
        let n = self.n.get(prefix).copied().unwrap_or(0);
        format!("{prefix}{}", n.saturating_sub(back))
    }

    /// The last request's visit, or a recent visit.
    fn some_visit(&mut self) -> String {
        match self.last.clone() {
            Some((visit, _)) if self.r.chance(50) => visit,
            _ => self.recent("V"),
        }
    }

    fn at(&mut self) -> NaiveDateTime {
        let (h, us) = (self.r.below(24) as u32, self.r.below(1_000_000) as u32);
        d(2024, 3, 1).and_hms_micro_opt(h, 0, 0, us).unwrap()
    }

    fn op(&mut self) -> WriteOp {
        let at = self.at();
        match self.r.below(15) {
            0 => {
                let mut i = institution(&self.r.pick("H", 2));
                i.name = self.r.pick("name", 3);
                WriteOp::UpsertInstitution(i)
            }
            1 => {
                let no = self.r.below(4);
                let certno = if self.r.chance(85) {
                    format!("C{no}")
                } else {
                    self.r.pick("C", 4)
                };
                let mut p = person(&format!("P{no}"), &certno);
                p.account_balance = Money::from_fen(self.r.below(1000) as i64);
                WriteOp::UpsertPerson(p)
            }
            2 => WriteOp::SetAccountBalance {
                person_no: self.r.pick("P", 5),
                balance: Money::from_fen(self.r.below(1000) as i64),
            },
            3 => {
                let id = self.fresh("V");
                WriteOp::InsertVisit(visit(&id, &self.r.pick("P", 4), &self.r.pick("H", 2), at))
            }
            4 => {
                let id = self.recent("V");
                let mut v = visit(&id, &self.r.pick("P", 4), &self.r.pick("H", 2), at);
                v.status = VisitStatus::Discharged;
                WriteOp::UpdateVisit(v)
            }
            5 => {
                let v = self.some_visit();
                let lines = (0..self.r.below(4))
                    .map(|_| {
                        let mut l = line(&v, &self.r.pick("", 6));
                        l.amount = Money::from_fen(self.r.below(100) as i64);
                        if self.r.chance(15) {
                            l.settlement_id = Some(self.recent("S"));
                        }
                        l
                    })
                    .collect();
                WriteOp::InsertFeeLines(lines)
            }
            6 => {
                let sn = if self.r.chance(50) {
                    Some(self.r.pick("", 6))
                } else {
                    None
                };
                WriteOp::DeleteFeeLines {
                    visit_id: self.some_visit(),
                    sn,
                }
            }
            7 => match self.last.clone() {
                // Lines of the last request: line 2 may be free, line 0 is that settlement's.
                Some((visit_id, settlement_id)) if self.r.chance(60) => WriteOp::MarkFeeLinesSettled {
                    visit_id,
                    settlement_id: Some(settlement_id),
                    sns: vec![self.r.pick("", 3)],
                },
                _ => WriteOp::MarkFeeLinesSettled {
                    visit_id: self.recent("V"),
                    settlement_id: if self.r.chance(75) {
                        Some(self.recent("S"))
                    } else {
                        None
                    },
                    sns: (0..self.r.below(3) + 1).map(|_| self.r.pick("", 6)).collect(),
                },
            },
            8 => {
                let (id, v, msgid) = (self.fresh("S"), self.recent("V"), self.fresh("M"));
                let mut s = settlement(&id, &v, &self.r.pick("H", 2), &msgid, at);
                s.person_no = self.r.pick("P", 4);
                WriteOp::InsertSettlement(s)
            }
            9 => WriteOp::CancelSettlement {
                settlement_id: self.recent("S"),
                cancelled_at: at,
                cancel_msgid: self.r.pick("C", 9),
            },
            10 => WriteOp::SetAccumulator {
                person_no: self.r.pick("P", 4),
                year: 2024,
                key: self.r.pick("k", 2),
                value: acc(
                    self.r.below(100) as i64,
                    self.r.below(100) as i64,
                    self.r.below(9) as u32,
                ),
            },
            11 => WriteOp::InsertLedger(posting(
                &self.r.pick("J", 3),
                &self.r.pick("B", 2),
                self.r.below(100) as i64,
                "S0",
                at,
            )),
            12 => WriteOp::InsertMessage(message(&self.fresh("m"))),
            13 => WriteOp::InsertAudit(audit(&self.r.pick("m", 6))),
            _ => {
                let mut f = filing(&self.r.pick("F", 3), &self.r.pick("P", 4), d(2024, 1, 1));
                f.active = self.r.chance(50);
                WriteOp::UpsertChronicFiling(f)
            }
        }
    }

    /// What one settlement request writes: a new visit and its lines, the settlement, the lines
    /// marked, the visit updated, accumulators, balance, ledger, message and audit.
    fn request(&mut self) -> Vec<WriteOp> {
        let at = self.at();
        let (v, s, msgid) = (self.fresh("V"), self.fresh("S"), self.fresh("M"));
        let (p, h) = (self.r.pick("P", 4), self.r.pick("H", 2));
        let mut record = settlement(&s, &v, &h, &msgid, at);
        record.person_no = p.clone();
        let mut settled = visit(&v, &p, &h, at);
        settled.status = VisitStatus::Settled;
        self.last = Some((v.clone(), s.clone()));
        vec![
            WriteOp::InsertVisit(visit(&v, &p, &h, at)),
            WriteOp::InsertFeeLines((0..3).map(|sn| line(&v, &sn.to_string())).collect()),
            WriteOp::InsertSettlement(record),
            WriteOp::MarkFeeLinesSettled {
                visit_id: v,
                settlement_id: Some(s.clone()),
                sns: (0..self.r.below(3) + 1).map(|sn| sn.to_string()).collect(),
            },
            WriteOp::UpdateVisit(settled),
            WriteOp::SetAccumulator {
                person_no: p.clone(),
                year: 2024,
                key: self.r.pick("k", 2),
                value: acc(1, 2, 3),
            },
            WriteOp::SetAccountBalance {
                person_no: p,
                balance: Money::from_fen(self.r.below(1000) as i64),
            },
            WriteOp::InsertLedger(posting(&s, "B0", 5, &s, at)),
            WriteOp::InsertMessage(message(&msgid)),
            WriteOp::InsertAudit(audit(&msgid)),
        ]
    }
}

fn dump(s: &mut dyn Store) -> String {
    let mut out = format!("{:?}\n{:?}\n", s.institutions().unwrap(), s.persons(100, 0).unwrap());
    for i in 0..5 {
        let p = format!("P{i}");
        out += &format!(
            "{:?}\n{:?}\n",
            s.accumulators(&p, 2024).unwrap(),
            s.chronic_filings(&p).unwrap()
        );
        for v in s.visits_of_person(&p, d(2024, 1, 1), d(2024, 12, 31), 10_000).unwrap() {
            out += &format!("{v:?}\n{:?}\n", s.fee_lines(&v.visit_id).unwrap());
        }
    }
    for h in ["H0", "H1"] {
        let all = SettlementFilter {
            institution: h.into(),
            insurance: None,
            clearing_type: None,
            from: d(2024, 1, 1),
            to: d(2024, 12, 31),
            in_force_only: false,
        };
        out += &format!("{:?}\n", s.settlements(&all, 10_000).unwrap());
    }
    out += &format!("{:?}\n{:?}\n", s.ledger_balances().unwrap(), s.audit_count().unwrap());
    out
}

#[test]
fn postgres_commits_random_batches_as_sqlite_applies_them_in_order() {
    let Some(mut pg) = Harness::postgres() else {
        return;
    };
    let mut lite = Harness::sqlite_memory().unwrap();
    let mut start = vec![
        WriteOp::UpsertInstitution(institution("H0")),
        WriteOp::UpsertInstitution(institution("H1")),
    ];
    for i in 0..4 {
        start.push(WriteOp::UpsertPerson(person(&format!("P{i}"), &format!("C{i}"))));
    }
    commit(lite.store(), start.clone());
    commit(pg.store(), start);
    let mut gen = Gen::new(0x9e37_79b9_7f4a_7c15);
    let (mut committed, mut messages) = (0, 0);
    for round in 0..500 {
        let mut ops = Vec::new();
        for _ in 0..gen.r.below(6) + 1 {
            if gen.r.chance(30) {
                ops.extend(gen.request());
            } else {
                ops.push(gen.op());
            }
        }
        let batch = WriteBatch { ops };
        let a = lite.store().commit(&batch);
        let b = pg.store().commit(&batch);
        match (&a, &b) {
            (Ok(()), Ok(())) => committed += 1,
            (Err(StoreError::Rejected(x)), Err(StoreError::Rejected(y))) => messages += usize::from(x == y),
            _ => panic!("round {round}: sqlite {a:?}, postgres {b:?}\n{batch:#?}"),
        }
        assert_eq!(dump(lite.store()), dump(pg.store()), "round {round}\n{batch:#?}");
    }
    eprintln!("random batches: {committed} of 500 committed, {messages} rejected with the same message");
    assert!(
        committed > 100,
        "only {committed} of 500 batches committed: the test lost its teeth"
    );
}
