//! `yibao drg`: group a file of cases, import a grouping scheme into the platform's database, and
//! settle a year with each hospital.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::Instant;

use clap::Subcommand;
use yibao_drg::{classify, files, Case, DischargeMethod, Sex, TableTexts, Tables};

use crate::files::read_text;

/// The largest table file read (the ICD lists are a few megabytes).
const TABLE_FILE_BYTES_MAX: usize = 64 << 20;

#[derive(Subcommand)]
pub enum DrgCommand {
    /// Group cases (CSV) into MDC, ADRG and DRG.
    ///
    /// Input columns, with a header row: case_id,sex,age_years,age_days,birth_weight_g,los_days,
    /// discharge_method,diagnoses,procedures (sex 1 male / 2 female; diagnoses principal first and
    /// procedures main first, each `|`-separated, 医保版 2.0 codes). The output repeats case_id
    /// and adds mdc,adrg,drg,reason.
    Group {
        /// The CHS-DRG tables (1_MDC.txt … 7_CCE.txt).
        #[arg(long)]
        rules: PathBuf,
        /// The 医保版 ICD lists; `RULES/../icd` when omitted.
        #[arg(long)]
        icd: Option<PathBuf>,
        #[arg(long)]
        cases: PathBuf,
        #[arg(long)]
        out: PathBuf,
    },
    /// Import a CHS-DRG grouping scheme (the official tables and the 医保版 ICD lists) into the
    /// platform's database. The service groups settlement lists (4101) with the newest import,
    /// loaded by its first settlement list.
    Import {
        /// The CHS-DRG tables (1_MDC.txt … 7_CCE.txt).
        #[arg(long)]
        rules: PathBuf,
        /// The 医保版 ICD lists; `RULES/../icd` when omitted.
        #[arg(long)]
        icd: Option<PathBuf>,
        /// The scheme's version name.
        #[arg(long, default_value = "CHS-DRG-1.1")]
        version: String,
        #[arg(long, default_value = "sqlite://yibao.db")]
        database: String,
    },
    /// Settle a year with each hospital (年度清算): price every grouped case by its DRG and
    /// write one statement row per hospital (CSV, or xlsx when OUT ends in .xlsx).
    ///
    /// Cases come from the database (the settlement lists uploaded with 4101 whose settlement is
    /// in force, discharged in YEAR) or from a CSV file with the header
    /// case_id,hospital,level,scheme,drg,cost,fund_paid (level 1/2/3; scheme 310 职工 or 390
    /// 居民; amounts in 元).
    SettleYear {
        /// The payment policy file (its `[drg]` table).
        #[arg(long)]
        policy: PathBuf,
        /// The city's DRG payment table (CSV: DRG编码, RW, 支付标准/费率, 等级系数 …).
        #[arg(long)]
        table: PathBuf,
        #[arg(long, conflicts_with = "cases")]
        database: Option<String>,
        /// The year of discharge (with --database).
        #[arg(long, requires = "database")]
        year: Option<i32>,
        #[arg(long)]
        cases: Option<PathBuf>,
        /// The statements, one row per hospital.
        #[arg(long)]
        out: PathBuf,
        /// Also write one row per case, with its arithmetic.
        #[arg(long)]
        case_out: Option<PathBuf>,
    },
}

pub fn run(command: &DrgCommand) -> Result<(), String> {
    match command {
        DrgCommand::Group { rules, icd, cases, out } => group(rules, icd.as_deref(), cases, out),
        DrgCommand::Import {
            rules,
            icd,
            version,
            database,
        } => import(rules, icd.as_deref(), version, database),
        DrgCommand::SettleYear {
            policy,
            table,
            database,
            year,
            cases,
            out,
            case_out,
        } => settle_year(
            policy,
            table,
            database.as_deref(),
            *year,
            cases.as_deref(),
            out,
            case_out.as_deref(),
        ),
    }
}

/// Reads the eleven files of a scheme, by name.
fn read_scheme(rules: &Path, icd: Option<&Path>) -> Result<Vec<(&'static str, String)>, String> {
    let icd = icd.map_or_else(|| rules.join("../icd"), Path::to_path_buf);
    files::ALL
        .iter()
        .enumerate()
        .map(|(i, name)| {
            let dir = if i < files::DRG_TABLES { rules } else { &icd };
            read_text(&dir.join(name), TABLE_FILE_BYTES_MAX).map(|text| (*name, text))
        })
        .collect()
}

fn load_scheme(texts: &[(&'static str, String)], rules: &Path) -> Result<Tables, String> {
    let get = |name: &str| texts.iter().find(|(n, _)| *n == name).map(|(_, t)| t.as_str());
    let texts = TableTexts::from_named(get)?;
    Tables::load(&texts).map_err(|e| format!("{}: {e}", rules.display()))
}

fn import(rules: &Path, icd: Option<&Path>, version: &str, database: &str) -> Result<(), String> {
    if version.is_empty() || version.chars().count() > 50 {
        return Err("--version: 应为1到50个字符".into());
    }
    let texts = read_scheme(rules, icd)?;
    // Loading checks every table before anything is written.
    let tables = load_scheme(&texts, rules)?;
    let files: std::collections::BTreeMap<&str, &str> = texts.iter().map(|(n, t)| (*n, t.as_str())).collect();
    let files_json = serde_json::to_string(&files).map_err(|e| e.to_string())?;
    let mut store = yibao_store::open(database).map_err(|e| e.to_string())?;
    store.migrate().map_err(|e| e.to_string())?;
    let record = yibao_store::ReferenceTableRecord {
        kind: yibao_platform::DRG_REFERENCE_KIND.to_owned(),
        version: version.to_owned(),
        imported_at: chrono::Local::now().naive_local(),
        files_json,
    };
    let batch = yibao_store::WriteBatch {
        ops: vec![yibao_store::WriteOp::UpsertReferenceTable(record)],
    };
    store.commit(&batch).map_err(|e| e.to_string())?;
    outln!(
        "已导入DRG分组方案{version}: {} 个DRG、{} 个ADRG；服务重启后用于结算清单(4101)分组",
        tables.drg_count(),
        tables.adrg_count()
    );
    Ok(())
}

fn group(rules: &Path, icd: Option<&Path>, cases: &Path, out: &Path) -> Result<(), String> {
    let tables = load_scheme(&read_scheme(rules, icd)?, rules)?;

    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_path(cases)
        .map_err(|e| format!("{}: {e}", cases.display()))?;
    let expected = [
        "case_id",
        "sex",
        "age_years",
        "age_days",
        "birth_weight_g",
        "los_days",
        "discharge_method",
        "diagnoses",
        "procedures",
    ];
    let headers = reader
        .headers()
        .map_err(|e| format!("{}: {e}", cases.display()))?
        .clone();
    crate::files::check_csv_header(cases, &headers, &expected)?;
    let mut writer = csv::Writer::from_path(out).map_err(|e| format!("{}: {e}", out.display()))?;
    writer
        .write_record(["case_id", "mdc", "adrg", "drg", "reason"])
        .map_err(|e| e.to_string())?;
    let started = Instant::now();
    let mut count: u64 = 0;
    let size_bytes = std::fs::metadata(cases).map(|m| m.len()).unwrap_or(0);
    let bar = crate::progress::file_bar(size_bytes, "分组");
    for record in reader.records() {
        let record = record.map_err(|e| format!("{}: {e}", cases.display()))?;
        let line = record.position().map_or(0, |p| p.line());
        let case = parse_case(&record).map_err(|e| format!("{}:{line}: {e}", cases.display()))?;
        let grouping = classify(&tables, &case);
        let code = |c: Option<yibao_drg::GroupCode>| c.map(|c| c.to_string()).unwrap_or_default();
        writer
            .write_record([
                &record[0],
                &code(grouping.mdc),
                &code(grouping.adrg),
                &grouping.drg.to_string(),
                grouping.reason.describe(),
            ])
            .map_err(|e| format!("{}: {e}", out.display()))?;
        count += 1;
        if count.is_multiple_of(crate::progress::UPDATE_EVERY_ROWS) {
            bar.set_position(record.position().map_or(0, |p| p.byte()));
            bar.set_message(format!("{count} 例"));
        }
    }
    writer.flush().map_err(|e| format!("{}: {e}", out.display()))?;
    bar.finish_and_clear();
    let _ = writeln!(
        std::io::stderr(),
        "共分组 {count} 例,用时 {:.2} 秒",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

fn parse_case(record: &csv::StringRecord) -> Result<Case, String> {
    let number = |i: usize, name: &str| -> Result<Option<u32>, String> {
        let text = &record[i];
        if text.is_empty() {
            return Ok(None);
        }
        text.parse::<u32>()
            .map(Some)
            .map_err(|_| format!("{name}: “{text}”不是非负整数"))
    };
    let sex = match &record[1] {
        "1" => Sex::Male,
        "2" => Sex::Female,
        other => return Err(format!("sex: “{other}”应为1(男)或2(女)")),
    };
    let age_years = number(2, "age_years")?.ok_or("age_years: 不能为空")?;
    let discharge_method = DischargeMethod::from_code(&record[6])
        .ok_or_else(|| format!("discharge_method: “{}”应为1、2、3、4、5或9", &record[6]))?;
    let codes = |i: usize| -> Vec<String> {
        record[i]
            .split('|')
            .map(str::trim)
            .filter(|c| !c.is_empty())
            .map(str::to_owned)
            .collect()
    };
    Ok(Case {
        sex,
        age_years: u16::try_from(age_years).map_err(|_| "age_years: 超出范围".to_owned())?,
        age_days: number(3, "age_days")?.map(|d| u16::try_from(d).unwrap_or(u16::MAX)),
        birth_weight_g: number(4, "birth_weight_g")?,
        los_days: number(5, "los_days")?.unwrap_or(0),
        discharge_method,
        diagnoses: codes(7),
        procedures: codes(8),
        ventilation_hours: 0,
    })
}

/// The payment table file: city tables are a few thousand rows.
const PAYMENT_TABLE_BYTES_MAX: usize = 16 << 20;
/// A case file: tens of millions of rows at most.
const CASE_FILE_BYTES_MAX: usize = 4 << 30;

fn settle_year(
    policy_path: &Path,
    table_path: &Path,
    database: Option<&str>,
    year: Option<i32>,
    cases_path: Option<&Path>,
    out: &Path,
    case_out: Option<&Path>,
) -> Result<(), String> {
    use yibao_drg::annual;
    use yibao_drg::payment::PaymentTable;

    let policy_file = crate::payment_policy::PaymentPolicyFile::read(policy_path)?;
    let policy = policy_file.drg_policy(policy_path)?;
    let table_text = read_text(table_path, PAYMENT_TABLE_BYTES_MAX)?;
    let table_name = table_path.display().to_string();
    let table = PaymentTable::from_csv(&table_name, &table_text)
        .map_err(|errors| errors.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n"))?;
    let cases = match (database, cases_path) {
        (Some(url), None) => {
            let year = year.ok_or("--year: 与 --database 一起使用时必填")?;
            cases_from_database(url, year)?
        }
        (None, Some(path)) => cases_from_csv(path)?,
        _ => return Err("须给出 --database URL --year YEAR 或 --cases FILE 之一".into()),
    };
    let (statements, lines) = annual::settle_year(&table, &policy, &cases)?;

    use crate::statement::{write_table, Cell};
    let headers = [
        "机构编码",
        "病例数",
        "DRG病例数",
        "高倍率病例",
        "低倍率病例",
        "按项目病例",
        "DRG病例医疗总费用",
        "DRG支付总额",
        "结余(负为超支)",
        "结余留用或超支分担",
        "认定金额",
        "DRG病例个人负担",
        "按项目病例基金支付",
        "基金应付",
        "年内基金已付",
        "清算差额(正补付负扣回)",
        "政策",
        "计算过程",
    ];
    let rows: Vec<Vec<Cell>> = statements
        .iter()
        .map(|s| {
            vec![
                Cell::Text(s.hospital.clone()),
                Cell::Int(s.cases as i64),
                Cell::Int(s.drg_cases as i64),
                Cell::Int(s.high_cases as i64),
                Cell::Int(s.low_cases as i64),
                Cell::Int(s.item_cases as i64),
                Cell::Money(s.drg_cost),
                Cell::Money(s.drg_payment),
                Cell::Money(s.surplus),
                Cell::Money(s.adjustment),
                Cell::Money(s.recognised),
                Cell::Money(s.personal_burden),
                Cell::Money(s.item_fund_paid),
                Cell::Money(s.fund_due),
                Cell::Money(s.fund_paid),
                Cell::Money(s.balance),
                Cell::Text(policy_file.label()),
                Cell::Text(s.explanation.clone()),
            ]
        })
        .collect();
    write_table(out, "DRG年度清算", &headers, &rows)?;
    if let Some(case_out) = case_out {
        let rows: Vec<Vec<Cell>> = lines
            .iter()
            .map(|l| {
                vec![
                    Cell::Text(l.case_id.clone()),
                    Cell::Text(l.hospital.clone()),
                    Cell::Text(l.drg.clone()),
                    Cell::Text(l.kind.map_or("按项目付费", |k| k.name_zh()).to_owned()),
                    l.standard.map_or(Cell::Text(String::new()), Cell::Money),
                    Cell::Money(l.payment),
                    Cell::Text(l.explanation.clone()),
                ]
            })
            .collect();
        let headers = [
            "病例",
            "机构编码",
            "DRG",
            "病例类型",
            "支付标准",
            "支付金额",
            "计算过程",
        ];
        write_table(case_out, "病例明细", &headers, &rows)?;
    }
    for assumption in &policy_file.assumptions {
        outln!("政策文件假设: {assumption}");
    }
    let total: yibao_money::Money = statements.iter().map(|s| s.balance).sum();
    outln!(
        "{} 家机构、{} 例病例已清算；清算差额合计 {total}；清算单写入 {}",
        statements.len(),
        lines.len(),
        out.display()
    );
    Ok(())
}

/// The settlement lists of the year whose settlement is in force, with the hospital's level
/// from the platform's records (read once) and the patient's scheme from the list.
fn cases_from_database(url: &str, year: i32) -> Result<Vec<yibao_drg::annual::AnnualCase>, String> {
    use yibao_drg::payment::{HospitalLevel as PayLevel, Scheme};
    let mut store = yibao_store::open(url).map_err(|e| e.to_string())?;
    store.migrate().map_err(|e| e.to_string())?;
    let from = chrono::NaiveDate::from_ymd_opt(year, 1, 1).ok_or("--year: 年份无效")?;
    let to = chrono::NaiveDate::from_ymd_opt(year, 12, 31).ok_or("--year: 年份无效")?;
    let levels: std::collections::HashMap<String, PayLevel> = store
        .institutions()
        .map_err(|e| e.to_string())?
        .into_iter()
        .filter_map(|i| {
            let level = yibao_codes::HospitalLevel::from_hosp_lv(&i.hosp_lv).ok()?;
            Some((i.code, PayLevel::from_number(level.number())?))
        })
        .collect();
    let lists = store.settlement_lists(from, to).map_err(|e| e.to_string())?;
    let mut cases = Vec::with_capacity(lists.len());
    for list in lists {
        let level = *levels
            .get(&list.institution)
            .ok_or_else(|| format!("机构{}没有医院等级", list.institution))?;
        let scheme = match list.insurance {
            yibao_codes::InsuranceType::ResidentBasic => Scheme::Resident,
            _ => Scheme::Employee,
        };
        cases.push(yibao_drg::annual::AnnualCase {
            case_id: list.settlement_id,
            hospital: list.institution,
            level,
            scheme,
            drg: list.drg,
            cost: list.total,
            fund_paid: list.fund_total,
        });
    }
    Ok(cases)
}

/// `case_id,hospital,level,scheme,drg,cost,fund_paid`; errors name the line and column.
fn cases_from_csv(path: &Path) -> Result<Vec<yibao_drg::annual::AnnualCase>, String> {
    use yibao_drg::payment::{HospitalLevel as PayLevel, Scheme};
    let meta = std::fs::metadata(path).map_err(|e| format!("{}: {e}", path.display()))?;
    if meta.len() > CASE_FILE_BYTES_MAX as u64 {
        return Err(format!("{}: 文件超过{CASE_FILE_BYTES_MAX}字节", path.display()));
    }
    let expected = ["case_id", "hospital", "level", "scheme", "drg", "cost", "fund_paid"];
    let mut cases = Vec::new();
    crate::files::for_each_row(path, &expected, |_, record| {
        let at = |column: &str, message: String| format!("{column}: {message}");
        let level = record[2]
            .parse::<u8>()
            .ok()
            .and_then(PayLevel::from_number)
            .ok_or_else(|| at("level", format!("“{}”应为1、2或3", &record[2])))?;
        let scheme = match &record[3] {
            "310" | "职工" => Scheme::Employee,
            "390" | "居民" => Scheme::Resident,
            other => return Err(at("scheme", format!("“{other}”应为310(职工)或390(居民)"))),
        };
        let money = |i: usize, column: &str| -> Result<yibao_money::Money, String> {
            record[i]
                .parse::<yibao_money::Money>()
                .map_err(|e| at(column, format!("“{}”: {e}", &record[i])))
        };
        if record[0].is_empty() || record[1].is_empty() || record[4].is_empty() {
            return Err(at("case_id/hospital/drg", "不能为空".into()));
        }
        cases.push(yibao_drg::annual::AnnualCase {
            case_id: record[0].to_owned(),
            hospital: record[1].to_owned(),
            level,
            scheme,
            drg: record[4].to_owned(),
            cost: money(5, "cost")?,
            fund_paid: money(6, "fund_paid")?,
        });
        if cases.len() > yibao_drg::annual::ANNUAL_CASES_MAX {
            return Err(format!("病例数超过上限{}", yibao_drg::annual::ANNUAL_CASES_MAX));
        }
        Ok(())
    })?;
    Ok(cases)
}
