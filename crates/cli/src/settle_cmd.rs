//! `yibao settle`: settle one visit from files and print the result and its explanation.

use std::path::{Path, PathBuf};

use clap::Args;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};
use yibao_catalog::Catalog;
use yibao_codes::SettlementField;
use yibao_money::Money;
use yibao_policy::Policy;
use yibao_settle::{settle, Person, SettleInput, Settlement, Visit, YearToDate};

use crate::files::{self, INPUT_FILE_BYTES_MAX};

#[derive(Args)]
pub struct SettleArgs {
    /// The region's policy: a file, or a directory of versions (the one in force on the visit
    /// date is used).
    #[arg(long)]
    policy: PathBuf,
    /// The visit (JSON). It may also carry `person`, `ytd` and `account_balance` beside `visit`.
    #[arg(long)]
    visit: PathBuf,
    /// The insured person (JSON), if the visit file does not carry one.
    #[arg(long)]
    person: Option<PathBuf>,
    /// Year-to-date accumulators (JSON); none means the first visit of the year.
    #[arg(long)]
    ytd: Option<PathBuf>,
    /// Personal account balance in yuan.
    #[arg(long)]
    account: Option<String>,
    /// The catalog table (CSV); the demo region's catalog when omitted.
    #[arg(long)]
    catalog: Option<PathBuf>,
    /// Print JSON instead of text.
    #[arg(long)]
    json: bool,
}

/// Keys a visit bundle may carry besides the inputs: annotations of worked cases.
const ANNOTATION_KEYS: &[&str] = &[
    "case",
    "notes",
    "policy",
    "published",
    "map",
    "expect",
    "deviations",
    "explanation",
];

pub fn run(args: &SettleArgs) -> Result<(), String> {
    let visit_text = files::read_text(&args.visit, INPUT_FILE_BYTES_MAX)?;
    let root: Value =
        serde_json::from_str(&visit_text).map_err(|e| format!("{}: JSON格式错误: {e}", args.visit.display()))?;
    let (visit_value, mut bundle) = match root {
        Value::Object(mut map) if map.contains_key("visit") => {
            let visit = map.remove("visit").unwrap_or(Value::Null);
            for key in map.keys() {
                if !["person", "ytd", "account_balance"].contains(&key.as_str())
                    && !ANNOTATION_KEYS.contains(&key.as_str())
                {
                    return Err(format!(
                        "{}: 未知的键“{key}”(可用: visit, person, ytd, account_balance)",
                        args.visit.display()
                    ));
                }
            }
            (visit, map)
        }
        other => (other, Map::new()),
    };
    let visit: Visit = typed(&args.visit, "visit", visit_value)?;

    let person: Person = match (&args.person, bundle.remove("person")) {
        (Some(path), _) => typed(path, "", parse_file(path)?)?,
        (None, Some(v)) => typed(&args.visit, "person", v)?,
        (None, None) => return Err("缺少参保人信息: 用 --person 指定,或在就诊文件中写 \"person\"".into()),
    };
    let policy = load_policy_for(&args.policy, &visit)?;
    let year = policy.insurance_year(visit.begin_date);
    let ytd: YearToDate = match (&args.ytd, bundle.remove("ytd")) {
        (Some(path), _) => typed(path, "", parse_file(path)?)?,
        (None, Some(v)) => typed(&args.visit, "ytd", v)?,
        (None, None) => YearToDate::new(year),
    };
    let account_balance = match (&args.account, bundle.remove("account_balance")) {
        (Some(text), _) => Money::parse_yuan(text).map_err(|e| format!("--account: {e}"))?,
        (None, Some(v)) => typed(&args.visit, "account_balance", v)?,
        (None, None) => Money::ZERO,
    };
    let catalog = match &args.catalog {
        Some(path) => {
            let text = files::read_text(path, files::CATALOG_FILE_BYTES_MAX)?;
            Catalog::from_csv(&text).map_err(|errors| {
                let lines: Vec<String> = errors.iter().map(|e| format!("{}: {e}", path.display())).collect();
                lines.join("\n")
            })?
        }
        None => yibao_demo::demo_catalog(),
    };
    let input = SettleInput {
        policy: &policy,
        catalog: &catalog,
        person: &person,
        ytd: &ytd,
        account_balance,
        family_account_balance: Money::ZERO,
        visit: &visit,
    };
    let settlement = settle(&input).map_err(|e| format!("{}: {e}", args.visit.display()))?;
    let explanation = settlement.explain(&policy);
    if args.json {
        let mut value = serde_json::to_value(&settlement).map_err(|e| format!("结算结果无法输出为JSON: {e}"))?;
        value["explanation"] = Value::from(explanation);
        let text = serde_json::to_string_pretty(&value).map_err(|e| format!("结算结果无法输出为JSON: {e}"))?;
        outln!("{text}");
    } else {
        outln!("{}", render(&settlement, &explanation).trim_end());
    }
    Ok(())
}

fn parse_file(path: &Path) -> Result<Value, String> {
    let text = files::read_text(path, INPUT_FILE_BYTES_MAX)?;
    serde_json::from_str(&text).map_err(|e| format!("{}: JSON格式错误: {e}", path.display()))
}

/// Converts JSON to a typed input, naming the exact field at fault (`visit.lines[3].price`).
fn typed<T: DeserializeOwned>(path: &Path, prefix: &str, value: Value) -> Result<T, String> {
    serde_path_to_error::deserialize(value).map_err(|e| {
        let field = e.path().to_string();
        let field = match (prefix.is_empty(), field.as_str()) {
            (true, f) => f.to_owned(),
            (false, ".") => prefix.to_owned(),
            (false, f) => format!("{prefix}.{f}"),
        };
        format!("{}: {field}: {}", path.display(), e.inner())
    })
}

fn load_policy_for(path: &Path, visit: &Visit) -> Result<Policy, String> {
    let mut versions = Vec::new();
    for file in files::policy_files(&[path.to_path_buf()])? {
        let text = files::read_text(&file, yibao_policy::POLICY_FILE_BYTES_MAX)?;
        let policy = yibao_policy::load_policy(&file.display().to_string(), &text).map_err(|errors| {
            let lines: Vec<String> = errors.iter().map(ToString::to_string).collect();
            lines.join("\n")
        })?;
        versions.push(policy);
    }
    if versions.len() == 1 {
        if let Some(only) = versions.pop() {
            return Ok(only);
        }
    }
    let problems = yibao_policy::check_versions(&versions);
    if !problems.is_empty() {
        return Err(problems.join("\n"));
    }
    yibao_policy::version_on(&versions, visit.begin_date)
        .cloned()
        .ok_or_else(|| format!("{}: 没有在{}生效的政策版本", path.display(), visit.begin_date))
}

fn render(s: &Settlement, explanation: &[String]) -> String {
    let mut out = String::new();
    let row = |out: &mut String, zh: &str, field: &str, amount: Money| {
        out.push_str(&format!("  {} {field:<18} {amount:>14}\n", pad_wide(zh, 14)));
    };
    out.push_str(&format!(
        "结算结果  政策 {}  待遇 {}  医保年度 {}\n",
        s.policy, s.benefit, s.year
    ));
    row(&mut out, "医疗费总额", "medfee_sumamt", s.total);
    row(&mut out, "全自费金额", "fulamt_ownpay_amt", s.full_self_pay);
    row(&mut out, "超限价自费", "overlmt_selfpay", s.over_cap);
    row(&mut out, "先行自付金额", "preselfpay_amt", s.first_self_pay);
    row(&mut out, "符合政策范围", "inscp_scp_amt", s.policy_scope);
    row(&mut out, "实际起付线", "act_pay_dedc", s.deductible);
    row(
        &mut out,
        "统筹基金支出",
        "hifp_pay",
        s.field_total(SettlementField::PooledFund),
    );
    row(
        &mut out,
        "公务员补助",
        "cvlserv_pay",
        s.field_total(SettlementField::CivilServant),
    );
    row(
        &mut out,
        "大病保险",
        "hifmi_pay",
        s.field_total(SettlementField::CriticalIllness),
    );
    row(
        &mut out,
        "大额补助",
        "hifob_pay",
        s.field_total(SettlementField::LargeExpense),
    );
    row(
        &mut out,
        "医疗救助",
        "maf_pay",
        s.field_total(SettlementField::MedicalAssistance),
    );
    row(&mut out, "基金支付总额", "fund_pay_sumamt", s.fund_total);
    row(&mut out, "个人负担总额", "psn_part_amt", s.personal);
    row(&mut out, "个人账户支出", "acct_pay", s.account_pay);
    row(&mut out, "个人现金支出", "psn_cash_pay", s.cash_pay);
    row(&mut out, "账户余额", "balc", s.account_balance_after);
    out.push_str("基金支付明细 (setldetail):\n");
    for f in &s.funds {
        out.push_str(&format!(
            "  {} {} {:>14}  ({})\n",
            f.fund.code(),
            pad_wide(f.fund.name_zh(), 30),
            f.amount,
            f.stages.join(", ")
        ));
    }
    out.push_str("计算过程:\n");
    for (i, line) in explanation.iter().enumerate() {
        out.push_str(&format!("  {}. {line}\n", i + 1));
    }
    out
}

/// Pads text to `columns` terminal columns, counting CJK characters as two.
fn pad_wide(text: &str, columns: usize) -> String {
    let width: usize = text.chars().map(|c| if c.is_ascii() { 1 } else { 2 }).sum();
    format!("{text}{}", " ".repeat(columns.saturating_sub(width)))
}
