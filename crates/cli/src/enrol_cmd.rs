//! `yibao enrol import`, `yibao contribution run`, `yibao fund indicators|close`: batch work on the
//! region's database, run by the same platform as the service (the same checks, the same single
//! writer: a command refuses to start while the service holds the database, and the other way
//! round).
//!
//! The enrolment file is CSV with a header row and these columns, in this order:
//!
//! `certno,name,insurance,kind,employer,wage_monthly,tier,county_class,applied_on`
//!
//! - `certno`: 18-digit citizen ID (check digit verified; sex and birth date come from it);
//! - `insurance`: `310` 职工基本医疗保险 or `390` 城乡居民基本医疗保险;
//! - `kind`: `in_service`, `retired`, `flexible` (310) or `student`, `child`, `adult_resident`,
//!   `elderly` (390);
//! - `employer`: the unified social credit code of a registered employer (in-service only);
//! - `wage_monthly`: the declared monthly wage in 元 (employees; the monthly run charges on it);
//! - `tier`: resident contribution tier `1`/`2`; `county_class`: who shares the resident subsidy
//!   (a class the contribution policy names, e.g. `district_county`);
//! - `applied_on`: `YYYY-MM-DD`, the day of enrolment.
//!
//! Every row is checked; one bad row refuses the whole file, and every bad row is reported with
//! its line. Otherwise all rows are written in one transaction.

use std::path::PathBuf;
use std::time::Instant;

use clap::Subcommand;
use yibao_codes::{InsuranceType, Tier};
use yibao_enrol::PersonKind;
use yibao_money::Money;
use yibao_platform::{AdminRequest, ImportRow, IMPORT_ROWS_MAX};

use crate::serve_cmd::{start_platform, RegionArgs};

/// An enrolment file: about 100 bytes a row, so a little over the row limit.
const IMPORT_FILE_BYTES_MAX: u64 = 512 << 20;
/// Per-row format errors reported before the rest are only counted.
const FORMAT_ERRORS_REPORTED_MAX: usize = 1000;

pub const IMPORT_HEADER: [&str; 9] = [
    "certno",
    "name",
    "insurance",
    "kind",
    "employer",
    "wage_monthly",
    "tier",
    "county_class",
    "applied_on",
];

#[derive(Subcommand)]
pub enum EnrolCommand {
    /// Register employers (参保单位) from CSV (all rows or none): credit_code,name,registered_on.
    Employers {
        #[command(flatten)]
        region: RegionArgs,
        file: PathBuf,
    },
    /// Import enrolments from CSV (all rows or none); see the column list with `--help`.
    ///
    /// Columns, with a header row: certno,name,insurance,kind,employer,wage_monthly,tier,
    /// county_class,applied_on.
    Import {
        #[command(flatten)]
        region: RegionArgs,
        file: PathBuf,
    },
}

#[derive(Subcommand)]
pub enum ContributionCommand {
    /// The monthly employee contribution run (职工医保月度核定) for YYYY-MM.
    Run {
        #[command(flatten)]
        region: RegionArgs,
        #[arg(long)]
        month: String,
    },
    /// The arrears check (欠费暂停) for YYYY-MM: suspends, from the month's first day, paying
    /// employees and flexible workers unpaid for longer than the policy's grace months.
    ArrearsCheck {
        #[command(flatten)]
        region: RegionArgs,
        #[arg(long)]
        month: String,
    },
}

#[derive(Subcommand)]
pub enum FundCommand {
    /// Fund indicators and warnings (基金运行指标与预警) for a year, as JSON.
    Indicators {
        #[command(flatten)]
        region: RegionArgs,
        #[arg(long)]
        year: i32,
    },
    /// Period close (结账): carries each fund's income and expense of an ended month
    /// (`--period 2026-03`) or year (`--period 2026`) into its fund balance, and shuts the
    /// period to further postings. Prints each book's figures as JSON.
    Close {
        #[command(flatten)]
        region: RegionArgs,
        #[arg(long)]
        period: String,
    },
}

fn runtime() -> Result<tokio::runtime::Runtime, String> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .map_err(|e| format!("无法启动运行时: {e}"))
}

/// Runs one administrative request on a platform started for it and prints the answer.
pub fn run_admin(region: &RegionArgs, request: AdminRequest) -> Result<serde_json::Value, String> {
    let platform = start_platform(region)?;
    runtime()?.block_on(async move { platform.admin(request).await.map_err(|e| e.to_string()) })
}

pub fn enrol(command: EnrolCommand) -> Result<(), String> {
    let (region, file) = match command {
        EnrolCommand::Import { region, file } => (region, file),
        EnrolCommand::Employers { region, file } => {
            let rows = read_employers(&file)?;
            let answer = run_admin(&region, AdminRequest::ImportEmployers { rows })
                .map_err(|e| format!("{}: {e}", file.display()))?;
            outln!("已登记参保单位 {} 个", answer["imported"]);
            return Ok(());
        }
    };
    let started = Instant::now();
    let rows = read_import(&file)?;
    let read_secs = started.elapsed().as_secs_f64();
    let count = rows.len();
    let spinner = crate::progress::file_bar(0, "校验并写入");
    let answer = run_admin(&region, AdminRequest::Import { rows });
    spinner.finish_and_clear();
    let answer = answer.map_err(|e| format!("{}: {e}", file.display()))?;
    outln!(
        "已导入 {} 人 (读取 {count} 行 {read_secs:.1} 秒, 共 {:.1} 秒)",
        answer["imported"],
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

pub fn contribution(command: ContributionCommand) -> Result<(), String> {
    let (region, request) = match command {
        ContributionCommand::Run { region, month } => (region, AdminRequest::ContributionRun { month }),
        ContributionCommand::ArrearsCheck { region, month } => (region, AdminRequest::ArrearsCheck { month }),
    };
    let answer = run_admin(&region, request)?;
    outln!("{}", serde_json::to_string_pretty(&answer).map_err(|e| e.to_string())?);
    Ok(())
}

pub fn fund(command: FundCommand) -> Result<(), String> {
    let (region, request) = match command {
        FundCommand::Indicators { region, year } => (region, AdminRequest::Indicators { year }),
        FundCommand::Close { region, period } => (region, AdminRequest::ClosePeriod { period }),
    };
    let answer = run_admin(&region, request)?;
    outln!("{}", serde_json::to_string_pretty(&answer).map_err(|e| e.to_string())?);
    Ok(())
}

/// `credit_code,name,registered_on`; format errors name the line.
fn read_employers(path: &std::path::Path) -> Result<Vec<yibao_platform::EmployerRow>, String> {
    let mut rows = Vec::new();
    crate::files::for_each_row(path, &["credit_code", "name", "registered_on"], |line, record| {
        let registered_on = chrono::NaiveDate::parse_from_str(&record[2], "%Y-%m-%d")
            .map_err(|_| format!("registered_on: “{}”应为YYYY-MM-DD日期", &record[2]))?;
        rows.push(yibao_platform::EmployerRow {
            line,
            credit_code: record[0].to_owned(),
            name: record[1].to_owned(),
            registered_on,
        });
        if rows.len() > IMPORT_ROWS_MAX {
            return Err(format!("超过每次导入上限{IMPORT_ROWS_MAX}行"));
        }
        Ok(())
    })?;
    Ok(rows)
}

/// Reads the enrolment file; every format error is reported with its line, none applied.
pub fn read_import(path: &std::path::Path) -> Result<Vec<ImportRow>, String> {
    let size_bytes = std::fs::metadata(path)
        .map_err(|e| format!("{}: 无法读取: {e}", path.display()))?
        .len();
    if size_bytes > IMPORT_FILE_BYTES_MAX {
        return Err(format!(
            "{}: 文件大小{size_bytes}字节, 超过上限{IMPORT_FILE_BYTES_MAX}字节",
            path.display()
        ));
    }
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_path(path)
        .map_err(|e| format!("{}: {e}", path.display()))?;
    let headers = reader
        .headers()
        .map_err(|e| format!("{}: {e}", path.display()))?
        .clone();
    crate::files::check_csv_header(path, &headers, &IMPORT_HEADER)?;
    let bar = crate::progress::file_bar(size_bytes, "读取");
    let mut rows = Vec::new();
    let mut errors = Vec::new();
    let mut error_count = 0usize;
    let mut record = csv::StringRecord::new();
    loop {
        match reader.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => {
                bar.finish_and_clear();
                return Err(format!("{}: {e}", path.display()));
            }
        }
        let line = record.position().map_or(0, |p| p.line());
        if rows.len() + error_count >= IMPORT_ROWS_MAX {
            bar.finish_and_clear();
            return Err(format!("{}: 超过每次导入上限{IMPORT_ROWS_MAX}行", path.display()));
        }
        match parse_row(&record, line) {
            Ok(row) => rows.push(row),
            Err(e) => {
                error_count += 1;
                if errors.len() < FORMAT_ERRORS_REPORTED_MAX {
                    errors.push(format!("{}:{line}: {e}", path.display()));
                }
            }
        }
        if (rows.len() as u64).is_multiple_of(crate::progress::UPDATE_EVERY_ROWS) {
            bar.set_position(record.position().map_or(0, |p| p.byte()));
        }
    }
    bar.finish_and_clear();
    if error_count > 0 {
        let more = if error_count > errors.len() {
            format!("\n……另有{}处错误", error_count - errors.len())
        } else {
            String::new()
        };
        return Err(format!(
            "{error_count}行有错误, 全部未导入:\n{}{more}",
            errors.join("\n")
        ));
    }
    Ok(rows)
}

fn parse_row(record: &csv::StringRecord, line: u64) -> Result<ImportRow, String> {
    if record.len() != IMPORT_HEADER.len() {
        return Err(format!("应有{}列, 实有{}列", IMPORT_HEADER.len(), record.len()));
    }
    let text = |i: usize| record[i].to_owned();
    let optional = |i: usize| (!record[i].is_empty()).then(|| record[i].to_owned());
    let insurance = match &record[2] {
        "310" => InsuranceType::EmployeeBasic,
        "390" => InsuranceType::ResidentBasic,
        other => return Err(format!("insurance: “{other}”应为310或390")),
    };
    let kind: PersonKind = serde_json::from_value(serde_json::Value::String(record[3].to_owned())).map_err(|_| {
        format!(
            "kind: “{}”应为in_service、retired、flexible、student、child、adult_resident或elderly",
            &record[3]
        )
    })?;
    let wage_monthly = match optional(5) {
        None => None,
        Some(w) => Some(w.parse::<Money>().map_err(|e| format!("wage_monthly: “{w}”: {e}"))?),
    };
    let tier = match &record[6] {
        "" => None,
        "1" => Some(Tier::One),
        "2" => Some(Tier::Two),
        other => return Err(format!("tier: “{other}”应为1或2")),
    };
    let applied_on = chrono::NaiveDate::parse_from_str(&record[8], "%Y-%m-%d")
        .map_err(|_| format!("applied_on: “{}”应为YYYY-MM-DD日期", &record[8]))?;
    if record[0].is_empty() || record[1].is_empty() {
        return Err("certno/name: 不能为空".into());
    }
    Ok(ImportRow {
        line,
        certno: text(0),
        name: text(1),
        insurance,
        kind,
        employer: optional(4),
        wage_monthly,
        tier,
        county_class: optional(7),
        applied_on,
    })
}
