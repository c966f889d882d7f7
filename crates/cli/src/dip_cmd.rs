//! `yibao dip build` and `yibao dip settle-year`: a region's DIP catalog from its historical cases,
//! and the annual settlement per hospital against that catalog.
//!
//! The parameters are the `[dip]` table of the region's payment-policy file
//! (`policies/<region>/payment/<year>.toml`, read by [`crate::payment_policy`]). All
//! files are CSV with a header row, UTF-8 (a leading BOM is accepted); amounts are in 元 with at
//! most two decimals; lists inside a cell are `|`-separated.
//!
//! **Historical cases** (`dip build --cases`):
//! `case_id,year,hospital_id,hospital_level,principal_diagnosis,procedures,total_cost`, e.g.
//! `A1,2023,H001,3,I21.001,36.0601|36.0602,31000.00`. `hospital_level` is `1`/`2`/`3`, `一级`…, or a
//! two-digit `hosp_lv` code; `procedures` are ICD-9-CM-3 codes, main first, possibly empty.
//! `--years` names the catalog years oldest first (default: the years in the file), one per weight
//! of `year_weights`.
//!
//! **Procedure kinds** (optional, `--procedure-kinds`): `code,kind` with kind `conservative`,
//! `diagnostic`, `therapeutic`, `surgery` or 保守治疗/诊断性操作/治疗性操作/相关手术 (手术 and 介入治疗
//! are read as 相关手术). Without it every procedure is 相关手术. Give the same file to both commands.
//!
//! **Catalog** (`dip build --out`, `dip settle-year --catalog`):
//! `group_code,kind,diagnosis,procedures,treatment,case_count,year_case_counts,year_average_costs,
//! weighted_average_cost,score,level_1_average_cost,level_2_average_cost,level_3_average_cost`;
//! `kind` is `core`/`comprehensive`, `procedures` the sorted combination joined by `+`,
//! `treatment` the comprehensive group's kind, `year_*` one entry per catalog year (an empty
//! average for a year without cases), `level_N_average_cost` the newest year's average at that
//! hospital level (empty: none; outliers then use the weighted average).
//!
//! **Cases of the year** (`dip settle-year --cases`):
//! `case_id,hospital_id,hospital_level,principal_diagnosis,procedures,total_cost,self_paid,item_fund_paid`:
//! `self_paid` is what the patient paid (个人负担), `item_fund_paid` the fund money already paid for
//! the case by item during the year (monthly provisional payments).
//!
//! **Statements** (`dip settle-year --out`, `.csv` or `.xlsx`): one row per hospital with the
//! arithmetic in the last column; `--case-out` optionally writes each case's group and points.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::Instant;

use clap::{Args, Subcommand};
use yibao_codes::HospitalLevel;
use yibao_dip::{
    settle_year as settle, Catalog, DipGroup, DipParams, GroupKind, Grouping, HistoricalCase, ProcedureClassifier,
    Score, SettlementCase, TreatmentKind, CASES_MAX,
};
use yibao_money::{Money, Ratio};

use crate::files::for_each_row;
use crate::payment_policy::PaymentPolicyFile;
use crate::statement::{write_table, Cell};

#[derive(Subcommand)]
pub enum DipCommand {
    /// Build the DIP catalog (core and comprehensive groups, scores) from historical cases.
    Build(BuildArgs),
    /// Settle a year: point value from the budget, each hospital's DIP payment against what it
    /// was paid by item.
    SettleYear(SettleYearArgs),
}

#[derive(Args)]
pub struct BuildArgs {
    /// The payment-policy file with a `[dip]` table.
    #[arg(long)]
    pub policy: PathBuf,
    /// Historical cases (CSV).
    #[arg(long)]
    pub cases: PathBuf,
    /// The catalog years, oldest first, comma-separated (default: the years in the cases file).
    #[arg(long, value_delimiter = ',')]
    pub years: Option<Vec<i32>>,
    /// Procedure code → treatment kind (CSV `code,kind`).
    #[arg(long)]
    pub procedure_kinds: Option<PathBuf>,
    /// The catalog to write (CSV).
    #[arg(long)]
    pub out: PathBuf,
}

#[derive(Args)]
pub struct SettleYearArgs {
    /// The payment-policy file with a `[dip]` table.
    #[arg(long)]
    pub policy: PathBuf,
    /// The catalog written by `yibao dip build`.
    #[arg(long)]
    pub catalog: PathBuf,
    /// The year's cases (CSV).
    #[arg(long)]
    pub cases: PathBuf,
    /// The fund money available for DIP this year, in 元.
    #[arg(long)]
    pub budget: String,
    /// The year's reimbursement ratio (e.g. 0.72), instead of the policy file's.
    #[arg(long)]
    pub ratio: Option<String>,
    /// Procedure code → treatment kind (CSV `code,kind`), as given to `build`.
    #[arg(long)]
    pub procedure_kinds: Option<PathBuf>,
    /// The hospital statements: `.csv` or `.xlsx`.
    #[arg(long)]
    pub out: PathBuf,
    /// Also write each case's group and points (`.csv` or `.xlsx`).
    #[arg(long)]
    pub case_out: Option<PathBuf>,
}

pub fn run(command: &DipCommand) -> Result<(), String> {
    match command {
        DipCommand::Build(args) => build(args),
        DipCommand::SettleYear(args) => settle_year(args),
    }
}

const HISTORY_HEADERS: [&str; 7] = [
    "case_id",
    "year",
    "hospital_id",
    "hospital_level",
    "principal_diagnosis",
    "procedures",
    "total_cost",
];
const YEAR_HEADERS: [&str; 8] = [
    "case_id",
    "hospital_id",
    "hospital_level",
    "principal_diagnosis",
    "procedures",
    "total_cost",
    "self_paid",
    "item_fund_paid",
];
const CATALOG_HEADERS: [&str; 13] = [
    "group_code",
    "kind",
    "diagnosis",
    "procedures",
    "treatment",
    "case_count",
    "year_case_counts",
    "year_average_costs",
    "weighted_average_cost",
    "score",
    "level_1_average_cost",
    "level_2_average_cost",
    "level_3_average_cost",
];

/// `yibao dip build`.
pub fn build(args: &BuildArgs) -> Result<(), String> {
    let params = read_params(&args.policy)?;
    let classifier = read_classifier(args.procedure_kinds.as_deref())?;
    let started = Instant::now();
    let file = args.cases.display().to_string();
    let mut cases = Vec::new();
    for_each_row(&args.cases, &HISTORY_HEADERS, |_, row| {
        if cases.len() >= CASES_MAX {
            return Err(format!("病例超过上限{CASES_MAX}例"));
        }
        cases.push(HistoricalCase {
            case_id: row[0].to_owned(),
            year: row[1].parse().map_err(|_| format!("year: “{}”不是年份", &row[1]))?,
            hospital_id: row[2].to_owned(),
            hospital_level: level(&row[3])?,
            principal_diagnosis: row[4].to_owned(),
            procedures: codes(&row[5]),
            total_cost: amount(&row[6], "total_cost")?,
        });
        Ok(())
    })?;
    let years = match &args.years {
        Some(years) => years.clone(),
        None => {
            let mut years: Vec<i32> = cases.iter().map(|c| c.year).collect();
            years.sort_unstable();
            years.dedup();
            years
        }
    };
    let catalog = Catalog::build(&cases, &years, &params, &classifier).map_err(|e| format!("{file}: {e}"))?;
    write_catalog(&args.out, &catalog)?;
    let summary = catalog
        .summary()
        .ok_or_else(|| format!("{file}: 病种目录为空, 没有可汇总的内容"))?;
    let weights: Vec<String> = summary.year_weights.iter().map(u32::to_string).collect();
    let years_text: Vec<String> = summary.years.iter().map(i32::to_string).collect();
    outln!(
        "目录年度{}(权重{})，病例{}例；核心病种{}个，综合病种{}个(含{}例)",
        years_text.join("、"),
        weights.join(":"),
        cases.len(),
        summary.core_group_count,
        summary.comprehensive_group_count,
        summary.comprehensive_case_count
    );
    outln!("全部病例加权次均费用M={}元", summary.overall_average_cost);
    match summary.budget_point_value {
        Some(pv) => outln!("预算点值={pv}元/分"),
        None => outln!("预算点值: 总分值为0，无法计算"),
    }
    let _ = writeln!(
        std::io::stderr(),
        "用时 {:.2} 秒，目录已写入 {}",
        started.elapsed().as_secs_f64(),
        args.out.display()
    );
    Ok(())
}

/// `yibao dip settle-year`.
pub fn settle_year(args: &SettleYearArgs) -> Result<(), String> {
    let params = read_params(&args.policy)?;
    let classifier = read_classifier(args.procedure_kinds.as_deref())?;
    let catalog = read_catalog(&args.catalog)?;
    let budget = Money::parse_yuan(&args.budget).map_err(|e| format!("--budget “{}”: {e}", args.budget))?;
    let ratio = match &args.ratio {
        Some(text) => Ratio::parse(text).map_err(|e| format!("--ratio “{text}”: {e}"))?,
        None => params.reimbursement_ratio().map_err(|e| e.to_string())?,
    };
    let file = args.cases.display().to_string();
    let mut cases = Vec::new();
    for_each_row(&args.cases, &YEAR_HEADERS, |_, row| {
        if cases.len() >= CASES_MAX {
            return Err(format!("病例超过上限{CASES_MAX}例"));
        }
        cases.push(SettlementCase {
            case_id: row[0].to_owned(),
            hospital_id: row[1].to_owned(),
            hospital_level: level(&row[2])?,
            principal_diagnosis: row[3].to_owned(),
            procedures: codes(&row[4]),
            total_cost: amount(&row[5], "total_cost")?,
            self_paid: amount(&row[6], "self_paid")?,
            item_fund_paid: amount(&row[7], "item_fund_paid")?,
        });
        Ok(())
    })?;
    let year = settle(&catalog, &params, &classifier, &cases, budget, ratio).map_err(|e| format!("{file}: {e}"))?;

    let headers = [
        "医院编码",
        "医院等级",
        "等级系数",
        "入组病例数",
        "费用超低病例数",
        "费用超高病例数",
        "特病单议病例数",
        "未入组病例数",
        "未入组按项目基金支付",
        "总分值",
        "结算点值(元/分)",
        "DIP分值费用",
        "患者个人负担",
        "DIP基金支付",
        "按项目已拨付",
        "清算差额",
        "说明",
    ];
    let count = |n: u64| Cell::Int(i64::try_from(n).unwrap_or(i64::MAX));
    let rows: Vec<Vec<Cell>> = year
        .statements
        .iter()
        .map(|s| {
            vec![
                Cell::Text(s.hospital_id.clone()),
                Cell::Text(s.hospital_level.name_zh().to_owned()),
                Cell::Decimal(s.level_coefficient.to_string()),
                count(s.case_count),
                count(s.low_case_count),
                count(s.high_case_count),
                count(s.review_case_count),
                count(s.unmatched_case_count),
                Cell::Money(s.unmatched_item_fund_paid),
                Cell::Decimal(s.total_points.to_string()),
                Cell::Decimal(s.point_value.to_string()),
                Cell::Money(s.points_amount),
                Cell::Money(s.self_paid),
                Cell::Money(s.dip_fund_payment),
                Cell::Money(s.item_fund_paid),
                Cell::Money(s.difference),
                Cell::Text(s.explain()),
            ]
        })
        .collect();
    write_table(&args.out, "DIP年度清算", &headers, &rows)?;

    if let Some(path) = &args.case_out {
        let headers = [
            "病例编号",
            "医院编码",
            "病种编码",
            "病种类型",
            "病例类型",
            "病例分值",
            "说明",
        ];
        let rows: Vec<Vec<Cell>> = year
            .cases
            .iter()
            .map(|c| {
                let (code, kind) = match &c.grouping {
                    Grouping::Core(i) | Grouping::Comprehensive(i) => {
                        let g = catalog.group_at(*i);
                        (g.code.clone(), g.kind.name_zh().to_owned())
                    }
                    Grouping::Unmatched(_) => (String::new(), "未入组".to_owned()),
                };
                let (deviation, points, text) = match (&c.points, &c.grouping) {
                    (Some(p), _) => (p.deviation.name_zh(), p.points.to_string(), p.explain()),
                    (None, Grouping::Unmatched(u)) => ("", String::new(), u.describe()),
                    (None, _) => ("", String::new(), String::new()),
                };
                vec![
                    Cell::Text(c.case_id.clone()),
                    Cell::Text(c.hospital_id.clone()),
                    Cell::Text(code),
                    Cell::Text(kind),
                    Cell::Text(deviation.to_owned()),
                    Cell::Decimal(points),
                    Cell::Text(text),
                ]
            })
            .collect();
        write_table(path, "DIP病例分值", &headers, &rows)?;
    }

    outln!("{}", year.explain_point_value());
    for s in &year.statements {
        let verdict = if s.difference.is_negative() {
            format!("应追回{}", -s.difference)
        } else {
            format!("应补付{}", s.difference)
        };
        outln!(
            "{}: 入组{}例，总分值{}，DIP基金支付{}，按项目已拨付{}，{verdict}",
            s.hospital_id,
            s.case_count,
            s.total_points,
            s.dip_fund_payment,
            s.item_fund_paid
        );
    }
    Ok(())
}

/// The `[dip]` table of a payment-policy file, read through [`PaymentPolicyFile`] (which checks
/// the file's top level), then checked as [`DipParams`].
pub fn read_params(path: &Path) -> Result<DipParams, String> {
    let file = PaymentPolicyFile::read(path)?;
    let table = file.dip.ok_or_else(|| format!("{}: 缺少[dip]表", path.display()))?;
    let params: DipParams = table.try_into().map_err(|e| format!("{}: [dip] {e}", path.display()))?;
    params
        .validate()
        .map_err(|e| format!("{}: [dip] {e}", path.display()))?;
    Ok(params)
}

fn read_classifier(path: Option<&Path>) -> Result<ProcedureClassifier, String> {
    let Some(path) = path else {
        return Ok(ProcedureClassifier::default());
    };
    let mut classifier = ProcedureClassifier::default();
    for_each_row(path, &["code", "kind"], |_, row| {
        let kind = TreatmentKind::parse(&row[1]).ok_or_else(|| {
            format!(
                "kind: “{}”应为conservative/diagnostic/therapeutic/surgery或保守治疗/诊断性操作/治疗性操作/相关手术",
                &row[1]
            )
        })?;
        if classifier.insert(&row[0], kind).is_some() {
            return Err(format!("code: “{}”重复", &row[0]));
        }
        Ok(())
    })?;
    Ok(classifier)
}

fn write_catalog(path: &Path, catalog: &Catalog) -> Result<(), String> {
    let err = |e: csv::Error| format!("{}: {e}", path.display());
    let mut writer = csv::Writer::from_path(path).map_err(err)?;
    writer.write_record(CATALOG_HEADERS).map_err(err)?;
    let optional = |m: Option<Money>| m.map(|m| m.to_string()).unwrap_or_default();
    for g in catalog.groups() {
        let counts: Vec<String> = g.year_case_counts.iter().map(u64::to_string).collect();
        let averages: Vec<String> = g.year_average_costs.iter().map(|&m| optional(m)).collect();
        writer
            .write_record([
                g.code.clone(),
                g.kind.code().to_owned(),
                g.diagnosis.clone(),
                g.procedures.join("+"),
                g.treatment.map(|t| t.code().to_owned()).unwrap_or_default(),
                g.case_count().to_string(),
                counts.join("|"),
                averages.join("|"),
                g.weighted_average_cost.to_string(),
                g.score.to_string(),
                optional(g.level_average_costs[0]),
                optional(g.level_average_costs[1]),
                optional(g.level_average_costs[2]),
            ])
            .map_err(err)?;
    }
    writer.flush().map_err(|e| format!("{}: {e}", path.display()))
}

fn read_catalog(path: &Path) -> Result<Catalog, String> {
    let mut groups = Vec::new();
    for_each_row(path, &CATALOG_HEADERS, |_, row| {
        let optional = |i: usize, name: &str| -> Result<Option<Money>, String> {
            if row[i].is_empty() {
                Ok(None)
            } else {
                amount(&row[i], name).map(Some)
            }
        };
        let kind = GroupKind::parse(&row[1]).ok_or_else(|| format!("kind: “{}”应为core或comprehensive", &row[1]))?;
        let treatment = match &row[4] {
            "" => None,
            t => Some(TreatmentKind::parse(t).ok_or_else(|| format!("treatment: “{t}”不是治疗方式"))?),
        };
        let year_case_counts = split_list(&row[6])
            .map(|n| {
                n.parse::<u64>()
                    .map_err(|_| format!("year_case_counts: “{n}”不是非负整数"))
            })
            .collect::<Result<Vec<u64>, String>>()?;
        let year_average_costs = split_list(&row[7])
            .map(|m| {
                if m.is_empty() {
                    Ok(None)
                } else {
                    amount(m, "year_average_costs").map(Some)
                }
            })
            .collect::<Result<Vec<Option<Money>>, String>>()?;
        let case_count: u64 = row[5]
            .parse()
            .map_err(|_| format!("case_count: “{}”不是非负整数", &row[5]))?;
        if !year_case_counts.is_empty() && year_case_counts.iter().sum::<u64>() != case_count {
            return Err("case_count 与 year_case_counts 之和不一致".into());
        }
        groups.push(DipGroup {
            code: row[0].to_owned(),
            kind,
            diagnosis: row[2].to_owned(),
            procedures: if row[3].is_empty() {
                Vec::new()
            } else {
                row[3].split('+').map(str::to_owned).collect()
            },
            treatment,
            year_case_counts,
            year_average_costs,
            weighted_average_cost: amount(&row[8], "weighted_average_cost")?,
            score: Score::parse(&row[9]).ok_or_else(|| format!("score: “{}”应为最多4位小数的非负数", &row[9]))?,
            level_average_costs: [
                optional(10, "level_1_average_cost")?,
                optional(11, "level_2_average_cost")?,
                optional(12, "level_3_average_cost")?,
            ],
        });
        Ok(())
    })?;
    Catalog::from_groups(groups).map_err(|e| format!("{}: {e}", path.display()))
}

fn split_list(text: &str) -> impl Iterator<Item = &str> {
    // An empty cell is an empty list, not a list of one empty entry.
    text.split('|').map(str::trim).filter(move |_| !text.is_empty())
}

fn codes(text: &str) -> Vec<String> {
    text.split('|')
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .map(str::to_owned)
        .collect()
}

fn level(text: &str) -> Result<HospitalLevel, String> {
    HospitalLevel::parse(text).map_err(|e| format!("hospital_level: {e}"))
}

fn amount(text: &str, name: &str) -> Result<Money, String> {
    Money::parse_yuan(text).map_err(|e| format!("{name}: “{text}”{e}"))
}
