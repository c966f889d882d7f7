//! The contribution policy files: the repository's files load, and every kind of mistake is
//! reported with its line and column.

mod common;

use common::*;
use yibao_codes::FundPayType;
use yibao_enrol::policy::POLICY_FILE_BYTES_MAX;
use yibao_enrol::{ContributionPolicy, GovernmentLevel, PolicyError};
use yibao_money::{Money, Ratio};

fn errors(source: &str) -> Vec<PolicyError> {
    ContributionPolicy::parse("test.toml", source).unwrap_err()
}

fn line_containing(source: &str, needle: &str) -> usize {
    source.lines().position(|l| l.contains(needle)).unwrap() + 1
}

#[test]
fn repository_files_load_with_derived_values() {
    let cq = chongqing();
    assert_eq!(cq.id(), "500000/2024.1");
    assert_eq!(cq.derived.base_floor, Money::from_yuan(4800));
    assert_eq!(cq.derived.base_cap, Money::from_yuan(24000));
    assert_eq!(cq.derived.retiree_account_monthly, Money::from_yuan(75));
    assert_eq!(cq.employee.employer_rate, Ratio::percent(9));
    assert_eq!(cq.funds.employee_account, FundPayType::EmployeeAccount);
    assert!(!cq.policy.assumptions.is_empty());
    assert!(cq.is_effective_on(date("2024-06-30")) && !cq.is_effective_on(date("2025-01-01")));

    let gx = guangxi();
    assert_eq!(gx.subsidy.per_person_amount, Money::from_yuan(610));
    assert_eq!(gx.subsidy.central_amount, Money::from_yuan(488));
    assert_eq!(gx.derived.local_subsidy_amount, Money::from_yuan(122));
    let poverty = &gx.subsidy.local_split[0];
    assert_eq!(poverty.shares[0].level, GovernmentLevel::Province);
    assert_eq!(poverty.shares[0].amount, Money::from_fen(9150));
    assert_eq!(poverty.shares[1].amount, Money::from_fen(3050));
}

#[test]
fn unknown_keys_are_refused_with_their_line() {
    let source = CHONGQING_2024.replace("employer_rate = \"0.09\"", "employer_rat = \"0.09\"");
    let errs = errors(&source);
    assert_eq!(errs.len(), 1);
    assert_eq!(errs[0].line, line_containing(&source, "employer_rat ="));
    assert!(
        errs[0].message.contains("unknown field `employer_rat`"),
        "{}",
        errs[0].message
    );
    assert!(errs[0].to_string().starts_with(&format!("test.toml:{}:", errs[0].line)));
}

/// The one decimal rule: a decimal literal reads as its text, exactly like the quoted string;
/// more decimals than the field takes are still refused, never rounded.
#[test]
fn float_ratios_and_amounts_read_as_their_literal() {
    let as_json = |p: &ContributionPolicy| serde_json::to_value(p).expect("json");
    let quoted = ContributionPolicy::parse("test.toml", CHONGQING_2024).expect("reads");
    let source = CHONGQING_2024.replace("employer_rate = \"0.09\"", "employer_rate = 0.09");
    assert_ne!(source, CHONGQING_2024);
    let float = ContributionPolicy::parse("test.toml", &source).expect("a decimal literal reads");
    assert_eq!(as_json(&float), as_json(&quoted));
    assert_eq!(float.employee.employer_rate, Ratio::percent(9));

    let quoted = ContributionPolicy::parse("test.toml", GUANGXI_2022).expect("reads");
    let source = GUANGXI_2022.replace("amount = \"91.5\"", "amount = 91.5");
    assert_ne!(source, GUANGXI_2022);
    let float = ContributionPolicy::parse("test.toml", &source).expect("a decimal literal reads");
    assert_eq!(as_json(&float), as_json(&quoted));

    let source = CHONGQING_2024.replace("employer_rate = \"0.09\"", "employer_rate = 0.090001");
    let errs = errors(&source);
    assert_eq!(errs[0].line, line_containing(&source, "employer_rate = 0.090001"));
    assert!(errs[0].message.contains("小数位数超过4位"), "{}", errs[0].message);
}

#[test]
fn semantic_mistakes_are_all_reported() {
    // (change, expected message fragment, line of)
    let cases = [
        (
            "amount = \"30.5\"",
            "amount = \"30.4\"",
            "地方财政分担合计121.90不等于地方补助122.00",
            "[[subsidy.local_split]]",
        ),
        (
            "central_amount = 488",
            "central_amount = 487",
            "中央财政补助487.00不等于人均补助610.00×80%=488.00",
            "central_amount",
        ),
        (
            "base_cap_percent = 300",
            "base_cap_percent = 50",
            "缴费基数上限百分比应在100到1000之间",
            "base_cap_percent",
        ),
        (
            "suspend_after_missed_months = 3",
            "suspend_after_missed_months = 0",
            "停保前欠缴月数",
            "suspend_after_missed_months",
        ),
        (
            "months_of_cover_min = 6",
            "months_of_cover_min = 12",
            "可支付月数预警下限",
            "months_of_cover_min",
        ),
        (
            "resident_critical_illness = \"390200\"",
            "resident_critical_illness = \"390100\"",
            "不同的基金账簿",
            "[funds]",
        ),
        (
            "kind = \"full\"",
            "kind = \"full\"\namount = 10",
            "全额资助不写amount",
            "[[sponsored]]",
        ),
        (
            "collection_window = { from = 2021-09-01, to = 2021-12-31 }",
            "collection_window = { from = 2022-09-01, to = 2021-12-31 }",
            "集中参保期",
            "collection_window",
        ),
    ];
    for (from, to, message, at) in cases {
        let source = GUANGXI_2022.replacen(from, to, 1);
        assert_ne!(source, GUANGXI_2022, "{from}");
        let errs = errors(&source);
        let err = errs
            .iter()
            .find(|e| e.message.contains(message))
            .unwrap_or_else(|| panic!("{message}: {errs:?}"));
        assert_eq!(err.line, line_containing(&source, at), "{message}");
    }
    // Two mistakes, two errors.
    let source = GUANGXI_2022
        .replace("central_amount = 488", "central_amount = 487")
        .replace("base_cap_percent = 300", "base_cap_percent = 50");
    assert!(errors(&source).len() >= 2);
}

#[test]
fn structural_mistakes() {
    let source = CHONGQING_2024.replace("[fund_warning]", "[fund_warnings]");
    assert!(errors(&source)[0].message.contains("fund_warnings"));
    let source = CHONGQING_2024.replace("effective_from = 2024-01-01", "effective_from = \"2024\"");
    let errs = errors(&source);
    assert_eq!(errs[0].line, line_containing(&source, "effective_from"));
    let source = CHONGQING_2024.replace("rounding = \"half_up\"", "rounding = \"banker\"");
    assert!(errors(&source)[0].message.contains("舍入方式"));
    let source = CHONGQING_2024.replace("groups = [\"特困\", \"孤儿\"]", "groups = [\"富人\"]");
    assert!(errors(&source)[0].message.contains("富人"));
    let source = CHONGQING_2024.replace("individual_rate = \"0.02\"", "individual_rate = \"1.5\"");
    assert!(errors(&source)[0].message.contains("比例"));
    let huge = format!("{CHONGQING_2024}\n#{}", "x".repeat(POLICY_FILE_BYTES_MAX));
    assert!(errors(&huge)[0].message.contains("文件超过"));
}
