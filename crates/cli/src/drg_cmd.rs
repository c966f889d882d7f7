//! `yibao drg group`: group a file of cases with the CHS-DRG tables of a directory.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::Instant;

use clap::Subcommand;
use yibao_drg::{classify, files, Case, DischargeMethod, Sex, TableTexts, Tables};

use crate::files::read_text;

/// The largest table file read (the ICD lists are a few megabytes).
const TABLE_FILE_BYTES_MAX: usize = 64 << 20;
/// Cases between two progress lines on standard error.
const PROGRESS_EVERY_CASES: u64 = 100_000;

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
}

pub fn run(command: &DrgCommand) -> Result<(), String> {
    let DrgCommand::Group { rules, icd, cases, out } = command;
    let icd = icd.clone().unwrap_or_else(|| rules.join("../icd"));
    let read = |dir: &Path, name: &str| read_text(&dir.join(name), TABLE_FILE_BYTES_MAX);
    let texts = [
        read(rules, files::MDC)?,
        read(rules, files::ADRG)?,
        read(rules, files::DRG)?,
        read(rules, files::ADRG_DETAIL)?,
        read(rules, files::MCC)?,
        read(rules, files::CC)?,
        read(rules, files::CC_EXCLUSIONS)?,
        read(&icd, files::DIAGNOSES)?,
        read(&icd, files::DIAGNOSIS_GREY)?,
        read(&icd, files::PROCEDURES)?,
        read(&icd, files::PROCEDURE_GREY)?,
    ];
    let tables = Tables::load(&TableTexts {
        mdc: &texts[0],
        adrg: &texts[1],
        drg: &texts[2],
        adrg_detail: &texts[3],
        mcc: &texts[4],
        cc: &texts[5],
        cc_exclusions: &texts[6],
        diagnoses: &texts[7],
        diagnosis_grey: &texts[8],
        procedures: &texts[9],
        procedure_grey: &texts[10],
    })
    .map_err(|e| format!("{}: {e}", rules.display()))?;

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
    if headers.iter().collect::<Vec<_>>() != expected {
        return Err(format!("{}:1: 表头应为 {}", cases.display(), expected.join(",")));
    }
    let mut writer = csv::Writer::from_path(out).map_err(|e| format!("{}: {e}", out.display()))?;
    writer
        .write_record(["case_id", "mdc", "adrg", "drg", "reason"])
        .map_err(|e| e.to_string())?;
    let started = Instant::now();
    let mut count: u64 = 0;
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
        if count.is_multiple_of(PROGRESS_EVERY_CASES) {
            let _ = writeln!(
                std::io::stderr(),
                "已分组 {count} 例 ({:.1} 秒)",
                started.elapsed().as_secs_f64()
            );
        }
    }
    writer.flush().map_err(|e| format!("{}: {e}", out.display()))?;
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
    let discharge_method = match &record[6] {
        "1" | "" => DischargeMethod::Ordered,
        "2" => DischargeMethod::TransferredToHospital,
        "3" => DischargeMethod::TransferredToCommunity,
        "4" => DischargeMethod::AgainstAdvice,
        "5" => DischargeMethod::Died,
        "9" => DischargeMethod::Other,
        other => return Err(format!("discharge_method: “{other}”应为1、2、3、4、5或9")),
    };
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
