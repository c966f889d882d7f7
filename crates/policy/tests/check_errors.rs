//! Bad policy files and the exact errors the checker gives for them.
//!
//! Each case is a short policy file beside the complete list of `file:line:column: message`
//! strings `load_policy` returns for it, in order. A case that starts to return more, fewer or
//! different errors fails, and the failure prints the actual list ready to paste after a
//! deliberate change (then review the diff).

use yibao_policy::{load_policy, POLICY_ERRORS_MAX, POLICY_FILE_BYTES_MAX};

#[track_caller]
fn check(source: &str, expected: &[&str]) {
    // The sources below start on the line after `r#"`: that line is line 1.
    let source = source.strip_prefix('\n').unwrap_or(source);
    let actual: Vec<String> = match load_policy("bad.toml", source) {
        Ok(_) => Vec::new(),
        Err(errors) => errors.iter().map(ToString::to_string).collect(),
    };
    if actual != expected {
        let listing: String = actual.iter().map(|e| format!("        {e:?},\n")).collect();
        panic!("errors differ\n--- source ---\n{source}--- actual ---\n{listing}");
    }
}

macro_rules! cases {
    ($($name:ident: $source:expr => [$($expected:expr),* $(,)?];)*) => {
        $( #[test] fn $name() { check($source, &[$($expected),*]); } )*
    };
}

cases! {
    the_base_file_is_valid: r#"
[policy]
region = "330200"
name = "测试"
version = "1"
effective_from = 2023-01-01

[[benefit]]
id = "inpatient"
name = "住院"
when = { insurance = "390", medical_type = "21" }

[[benefit.stage]]
id = "basic"
name = "统筹"
fund = "390100"
base = "policy_scope"
ratio = 0.7
"# => [];

    toml_syntax_error: r#"
[policy
region = "330200"
"# => [
        "bad.toml:1:8: TOML语法错误: unclosed table, expected `]`",
    ];

    unknown_key_at_top_level: r#"
author = "张三"
[policy]
region = "330200"
name = "测试"
version = "1"
effective_from = 2023-01-01

[[benefit]]
id = "inpatient"
name = "住院"
when = { insurance = "390", medical_type = "21" }

[[benefit.stage]]
id = "basic"
name = "统筹"
fund = "390100"
base = "policy_scope"
ratio = 0.7
"# => [
        "bad.toml:1:1: 文件 中没有“author”这个键;可用的键: policy, waiting_period, benefit",
    ];

    unknown_key_in_policy: r#"
[policy]
region = "330200"
name = "测试"
version = "1"
effective_from = 2023-01-01
effective = 2023-12-31

[[benefit]]
id = "inpatient"
name = "住院"
when = { insurance = "390", medical_type = "21" }

[[benefit.stage]]
id = "basic"
name = "统筹"
fund = "390100"
base = "policy_scope"
ratio = 0.7
"# => [
        "bad.toml:6:1: [policy] 中没有“effective”这个键;可用的键: region, name, version, effective_from, effective_to, year_start, rounding, sources, assumptions",
    ];

    unknown_key_in_stage: r#"
[policy]
region = "330200"
name = "测试"
version = "1"
effective_from = 2023-01-01

[[benefit]]
id = "inpatient"
name = "住院"
when = { insurance = "390", medical_type = "21" }

[[benefit.stage]]
id = "basic"
name = "统筹"
fund = "390100"
base = "policy_scope"
ratio = 0.7
limit = 300000
"# => [
        "bad.toml:18:1: benefit[1].stage[1] 中没有“limit”这个键;可用的键: id, name, fund, when, base, accumulator, deductible, ratio, band, band_basis, band_scope, cap, modifier",
    ];

    unknown_key_in_condition_table: r#"
[policy]
region = "330200"
name = "测试"
version = "1"
effective_from = 2023-01-01

[[benefit]]
id = "inpatient"
name = "住院"
when = { insurance = "390", medical_type = "21", hospital_level = 3 }

[[benefit.stage]]
id = "basic"
name = "统筹"
fund = "390100"
base = "policy_scope"
ratio = [{ level = 3, value = 0.7 }, { levl = 2, value = 0.8 }]
"# => [
        "bad.toml:10:50: benefit[1].when 中没有“hospital_level”这个键;可用的键: insurance, person, level, tier, group, medical_type, disease, civil_servant, in_county, referred, age_min, age_max",
        "bad.toml:17:40: benefit[1].stage[1].ratio[2] 中没有“levl”这个键;可用的键: insurance, person, level, tier, group, medical_type, disease, civil_servant, in_county, referred, age_min, age_max, value",
    ];

    ratio_that_is_not_a_number: r#"
[policy]
region = "330200"
name = "测试"
version = "1"
effective_from = 2023-01-01

[[benefit]]
id = "inpatient"
name = "住院"
when = { insurance = "390", medical_type = "21" }

[[benefit.stage]]
id = "basic"
name = "统筹"
fund = "390100"
base = "policy_scope"
ratio = "abc"
"# => [
        "bad.toml:17:9: benefit[1].stage[1].ratio “abc”: 不是合法的十进制数(比例写作小数,如70%写0.7)",
    ];

    negative_amount: r#"
[policy]
region = "330200"
name = "测试"
version = "1"
effective_from = 2023-01-01

[[benefit]]
id = "inpatient"
name = "住院"
when = { insurance = "390", medical_type = "21" }

[[benefit.stage]]
id = "basic"
name = "统筹"
fund = "390100"
base = "policy_scope"
deductible = { per = "year", amount = -1200 }
ratio = 0.7
"# => [
        "bad.toml:17:39: benefit[1].stage[1].deductible.amount 不能为负数",
    ];

    ratio_above_one: r#"
[policy]
region = "330200"
name = "测试"
version = "1"
effective_from = 2023-01-01

[[benefit]]
id = "inpatient"
name = "住院"
when = { insurance = "390", medical_type = "21" }

[[benefit.stage]]
id = "basic"
name = "统筹"
fund = "390100"
base = "policy_scope"
ratio = 1.2
"# => [
        "bad.toml:17:9: benefit[1].stage[1].ratio “1.2”: 比例必须在0到1之间(比例写作小数,如70%写0.7)",
    ];

    ratio_with_five_decimals: r#"
[policy]
region = "330200"
name = "测试"
version = "1"
effective_from = 2023-01-01

[[benefit]]
id = "inpatient"
name = "住院"
when = { insurance = "390", medical_type = "21" }

[[benefit.stage]]
id = "basic"
name = "统筹"
fund = "390100"
base = "policy_scope"
ratio = 0.70001
"# => [
        "bad.toml:17:9: benefit[1].stage[1].ratio “0.70001”: 小数位数超过4位(比例写作小数,如70%写0.7)",
    ];

    money_with_three_decimals: r#"
[policy]
region = "330200"
name = "测试"
version = "1"
effective_from = 2023-01-01

[[benefit]]
id = "inpatient"
name = "住院"
when = { insurance = "390", medical_type = "21" }

[[benefit.stage]]
id = "basic"
name = "统筹"
fund = "390100"
base = "policy_scope"
ratio = 0.7
cap = { annual = 300000.005 }
"# => [
        "bad.toml:18:18: benefit[1].stage[1].cap.annual “300000.005”: 小数位数超过2位",
    ];

    missing_region_and_effective_from: r#"
[policy]
name = "测试"
version = "1"

[[benefit]]
id = "inpatient"
name = "住院"
when = { insurance = "390", medical_type = "21" }

[[benefit.stage]]
id = "basic"
name = "统筹"
fund = "390100"
base = "policy_scope"
ratio = 0.7
"# => [
        "bad.toml:1:1: [policy] 缺少必需的键“region”",
        "bad.toml:1:1: [policy] 缺少必需的键“effective_from”",
    ];

    missing_benefit_id: r#"
[policy]
region = "330200"
name = "测试"
version = "1"
effective_from = 2023-01-01

[[benefit]]
name = "住院"
when = { insurance = "390", medical_type = "21" }

[[benefit.stage]]
id = "basic"
name = "统筹"
fund = "390100"
base = "policy_scope"
ratio = 0.7
"# => [
        "bad.toml:7:1: benefit[1] 缺少必需的键“id”",
    ];

    missing_stage_fund_and_base: r#"
[policy]
region = "330200"
name = "测试"
version = "1"
effective_from = 2023-01-01

[[benefit]]
id = "inpatient"
name = "住院"
when = { insurance = "390", medical_type = "21" }

[[benefit.stage]]
id = "basic"
name = "统筹"
ratio = 0.7
"# => [
        "bad.toml:12:1: benefit[1].stage[1] 缺少必需的键“fund”",
        "bad.toml:12:1: benefit[1].stage[1] 缺少必需的键“base”",
    ];

    bad_region_code: r#"
[policy]
region = "33020"
name = "测试"
version = "1"
effective_from = 2023-01-01

[[benefit]]
id = "inpatient"
name = "住院"
when = { insurance = "390", medical_type = "21" }

[[benefit.stage]]
id = "basic"
name = "统筹"
fund = "390100"
base = "policy_scope"
ratio = 0.7
"# => [
        "bad.toml:2:10: policy.region 应为6位医保区划代码,如 500000",
    ];

    effective_to_before_effective_from: r#"
[policy]
region = "330200"
name = "测试"
version = "1"
effective_from = 2023-01-01
effective_to = 2022-12-31

[[benefit]]
id = "inpatient"
name = "住院"
when = { insurance = "390", medical_type = "21" }

[[benefit.stage]]
id = "basic"
name = "统筹"
fund = "390100"
base = "policy_scope"
ratio = 0.7
"# => [
        "bad.toml:6:16: policy.effective_to 早于 effective_from",
    ];

    bad_fund_code: r#"
[policy]
region = "330200"
name = "测试"
version = "1"
effective_from = 2023-01-01

[[benefit]]
id = "inpatient"
name = "住院"
when = { insurance = "390", medical_type = "21" }

[[benefit.stage]]
id = "basic"
name = "统筹"
fund = "399999"
base = "policy_scope"
ratio = 0.7
"# => [
        "bad.toml:15:8: benefit[1].stage[1].fund: 代码“399999”不是有效的基金支付类型",
    ];

    unknown_base_bucket: r#"
[policy]
region = "330200"
name = "测试"
version = "1"
effective_from = 2023-01-01

[[benefit]]
id = "inpatient"
name = "住院"
when = { insurance = "390", medical_type = "21" }

[[benefit.stage]]
id = "basic"
name = "统筹"
fund = "390100"
base = "policy_scope"
ratio = 0.7

[[benefit.stage]]
id = "critical"
name = "大病"
fund = "390200"
base = ["coinsurance", "copay"]
ratio = 0.6
"# => [
        "bad.toml:23:24: benefit[1].stage[2].base: 没有“copay”这一部分;可用: full_self_pay, over_cap, first_self_pay, deductible, coinsurance, above_cap",
    ];

    bands_not_ascending_and_open_band_not_last: r#"
[policy]
region = "330200"
name = "测试"
version = "1"
effective_from = 2023-01-01

[[benefit]]
id = "inpatient"
name = "住院"
when = { insurance = "390", medical_type = "21" }

[[benefit.stage]]
id = "basic"
name = "统筹"
fund = "390100"
base = "policy_scope"

[[benefit.stage.band]]
upto = 50000
ratio = 0.6

[[benefit.stage.band]]
upto = 20000
ratio = 0.7

[[benefit.stage.band]]
ratio = 0.8

[[benefit.stage.band]]
upto = 100000
ratio = 0.9
"# => [
        "bad.toml:22:1: benefit[1].stage[1].band[2]: upto 必须大于上一段的 50000.00",
        "bad.toml:26:1: benefit[1].stage[1].band[3]: 只有最后一段可以省略 upto",
    ];

    ratio_and_band_both_given: r#"
[policy]
region = "330200"
name = "测试"
version = "1"
effective_from = 2023-01-01

[[benefit]]
id = "inpatient"
name = "住院"
when = { insurance = "390", medical_type = "21" }

[[benefit.stage]]
id = "basic"
name = "统筹"
fund = "390100"
base = "policy_scope"
ratio = 0.7

[[benefit.stage.band]]
ratio = 0.6
"# => [
        "bad.toml:19:1: benefit[1].stage[1]: ratio 与 [[band]] 只能写一个(分段时把比例写在每一段里)",
    ];

    deductible_per_unknown: r#"
[policy]
region = "330200"
name = "测试"
version = "1"
effective_from = 2023-01-01

[[benefit]]
id = "inpatient"
name = "住院"
when = { insurance = "390", medical_type = "21" }

[[benefit.stage]]
id = "basic"
name = "统筹"
fund = "390100"
base = "policy_scope"
deductible = { per = "month", amount = 1200 }
ratio = 0.7
"# => [
        "bad.toml:17:22: benefit[1].stage[1].deductible.per 应为 \"visit\"(每次)、\"admission\"(每次住院)或 \"year\"(年度累计)",
    ];

    subsequent_on_a_per_visit_deductible: r#"
[policy]
region = "330200"
name = "测试"
version = "1"
effective_from = 2023-01-01

[[benefit]]
id = "inpatient"
name = "住院"
when = { insurance = "390", medical_type = "21" }

[[benefit.stage]]
id = "basic"
name = "统筹"
fund = "390100"
base = "policy_scope"
deductible = { per = "visit", amount = 1200, subsequent = { factor = 0.5 } }
ratio = 0.7
"# => [
        "bad.toml:17:59: benefit[1].stage[1].deductible.subsequent 只适用于 per = \"admission\"",
    ];

    modifier_without_adjustment: r#"
[policy]
region = "330200"
name = "测试"
version = "1"
effective_from = 2023-01-01

[[benefit]]
id = "inpatient"
name = "住院"
when = { insurance = "390", medical_type = "21" }

[[benefit.stage]]
id = "basic"
name = "统筹"
fund = "390100"
base = "policy_scope"
ratio = 0.7

[[benefit.stage.modifier]]
when = { group = "特困" }
note = "特困人员"
"# => [
        "bad.toml:19:1: benefit[1].stage[1].modifier[1] 没有任何调整:写 ratio_add、deductible_factor 或 no_cap",
    ];

    duplicate_benefit_ids: r#"
[policy]
region = "330200"
name = "测试"
version = "1"
effective_from = 2023-01-01

[[benefit]]
id = "inpatient"
name = "住院"
when = { insurance = "390", medical_type = "21" }

[[benefit.stage]]
id = "basic"
name = "统筹"
fund = "390100"
base = "policy_scope"
ratio = 0.7

[[benefit]]
id = "inpatient"
name = "门诊"
when = { insurance = "390", medical_type = "11" }

[[benefit.stage]]
id = "basic"
name = "统筹"
fund = "390100"
base = "policy_scope"
ratio = 0.5
"# => [
        "bad.toml:20:6: benefit.id“inpatient”重复",
    ];

    policy_scope_stage_not_first: r#"
[policy]
region = "330200"
name = "测试"
version = "1"
effective_from = 2023-01-01

[[benefit]]
id = "inpatient"
name = "住院"
when = { insurance = "390", medical_type = "21" }

[[benefit.stage]]
id = "critical"
name = "大病"
fund = "390200"
base = ["coinsurance"]
ratio = 0.6

[[benefit.stage]]
id = "basic"
name = "统筹"
fund = "390100"
base = "policy_scope"
ratio = 0.7
"# => [
        "bad.toml:23:8: benefit[1].stage[2]: base = \"policy_scope\" 的阶段(基本统筹)必须是第一个阶段",
    ];

    disease_accumulator_without_split_by: r#"
[policy]
region = "330200"
name = "测试"
version = "1"
effective_from = 2023-01-01

[[benefit]]
id = "chronic"
name = "门诊慢特病"
when = { insurance = "390", medical_type = "14" }

[[benefit.stage]]
id = "basic"
name = "统筹"
fund = "390100"
base = "policy_scope"
accumulator = "chronic-{disease}"
ratio = 0.7
"# => [
        "bad.toml:17:15: benefit[1].stage[1]: 累计器名含 {disease} 但本待遇没有 split_by = \"disease\"",
    ];

    coverage_gap_for_level_three: r#"
[policy]
region = "330200"
name = "测试"
version = "1"
effective_from = 2023-01-01

[[benefit]]
id = "inpatient"
name = "住院"
when = { insurance = "390", medical_type = "21" }

[[benefit.stage]]
id = "basic"
name = "统筹"
fund = "390100"
base = "policy_scope"
ratio = [{ level = 1, value = 0.8 }, { level = 2, value = 0.7 }]
"# => [
        "bad.toml:12:1: 待遇“inpatient”阶段“basic”的支付比例没有适用于以下情形的行: 险种390 未成年 三级 医疗类别21 1档; 险种390 未成年 三级 医疗类别21 2档; 险种390 成年居民 三级 医疗类别21 1档; 险种390 成年居民 三级 医疗类别21 2档; 险种390 老年居民 三级 医疗类别21 1档; 险种390 老年居民 三级 医疗类别21 2档",
    ];

    every_independent_error_is_reported_at_once: r#"
[policy]
region = "3302"
name = "测试"
version = "1"
effective_from = 2023-01-01
effective_to = 2022-01-01
langauge = "zh"

[[benefit]]
id = "inpatient"
name = "住院"
when = { insurance = "390", medical_type = "21" }

[[benefit.stage]]
id = "basic"
name = "统筹"
fund = "390100"
base = "policy_scope"
deductible = { per = "year", amount = 1200.001 }
ratio = 1.5

[[benefit.stage]]
id = "critical"
name = "大病"
fund = "999"
base = ["coinsurance", "deductable"]
ratio = 0.6
cap = { annual = -1 }

[[benefit]]
id = "inpatient"
name = "门诊"
when = { insurance = "390", medical_type = "11", sex = "1" }

[[benefit.stage]]
id = "basic"
name = "统筹"
base = "policy_scope"
ratio = "七成"
"# => [
        "bad.toml:7:1: [policy] 中没有“langauge”这个键;可用的键: region, name, version, effective_from, effective_to, year_start, rounding, sources, assumptions",
        "bad.toml:2:10: policy.region 应为6位医保区划代码,如 500000",
        "bad.toml:6:16: policy.effective_to 早于 effective_from",
        "bad.toml:19:39: benefit[1].stage[1].deductible.amount “1200.001”: 小数位数超过2位",
        "bad.toml:20:9: benefit[1].stage[1].ratio “1.5”: 比例必须在0到1之间(比例写作小数,如70%写0.7)",
        "bad.toml:25:8: benefit[1].stage[2].fund: 代码“999”不是有效的基金支付类型",
        "bad.toml:26:24: benefit[1].stage[2].base: 没有“deductable”这一部分;可用: full_self_pay, over_cap, first_self_pay, deductible, coinsurance, above_cap",
        "bad.toml:28:18: benefit[1].stage[2].cap.annual 不能为负数",
        "bad.toml:33:50: benefit[2].when 中没有“sex”这个键;可用的键: insurance, person, level, tier, group, medical_type, disease, civil_servant, in_county, referred, age_min, age_max",
        "bad.toml:35:1: benefit[2].stage[1] 缺少必需的键“fund”",
        "bad.toml:39:9: benefit[2].stage[1].ratio “七成”: 不是合法的十进制数(比例写作小数,如70%写0.7)",
        "bad.toml:31:6: benefit.id“inpatient”重复",
    ];
}

cases! {
    ratio_written_as_a_percentage: r#"
[policy]
region = "330200"
name = "测试"
version = "1"
effective_from = 2023-01-01

[[benefit]]
id = "inpatient"
name = "住院"
when = { insurance = "390", medical_type = "21" }

[[benefit.stage]]
id = "basic"
name = "统筹"
fund = "390100"
base = "policy_scope"
ratio = 70
"# => [
        "bad.toml:17:9: benefit[1].stage[1].ratio “70”: 比例必须在0到1之间(比例写作小数,如70%写0.7)",
    ];

    duplicate_stage_ids: r#"
[policy]
region = "330200"
name = "测试"
version = "1"
effective_from = 2023-01-01

[[benefit]]
id = "inpatient"
name = "住院"
when = { insurance = "390", medical_type = "21" }

[[benefit.stage]]
id = "basic"
name = "统筹"
fund = "390100"
base = "policy_scope"
ratio = 0.7

[[benefit.stage]]
id = "basic"
name = "大病"
fund = "390200"
base = ["coinsurance"]
ratio = 0.6
"# => [
        "bad.toml:20:6: benefit[1].stage.id“basic”重复",
    ];

    empty_file: "" => [
        "bad.toml:1:1: 文件 缺少必需的键“policy”",
        "bad.toml:1:1: 文件中没有任何 [[benefit]]:至少需要一个待遇项目",
    ];
}

/// Errors past the cap are dropped before they are located: a file of one broken line repeated
/// used to take minutes, as locating each of its errors scanned the file from the start.
#[test]
fn errors_stop_at_the_cap() {
    let syntax = "=\n".repeat(50_000);
    let errors = load_policy("bad.toml", &syntax).unwrap_err();
    assert_eq!(errors.len(), POLICY_ERRORS_MAX);
    assert_eq!(
        errors[0].to_string(),
        "bad.toml:1:1: TOML语法错误: unquoted keys cannot be empty, expected letters, numbers, `-`, `_`"
    );

    let unknown_keys: String = (1..=20_000).map(|i| format!("key{i} = 1\n")).collect();
    let errors = load_policy("bad.toml", &unknown_keys).unwrap_err();
    assert_eq!(errors.len(), POLICY_ERRORS_MAX);
    assert_eq!(
        errors[POLICY_ERRORS_MAX - 1].to_string(),
        "bad.toml:200:1: 文件 中没有“key200”这个键;可用的键: policy, waiting_period, benefit"
    );
}

#[test]
fn an_oversized_file_is_refused_before_parsing() {
    let source = "#".repeat(POLICY_FILE_BYTES_MAX + 1);
    let errors: Vec<String> = load_policy("bad.toml", &source)
        .unwrap_err()
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(errors, ["bad.toml:1:1: 文件超过1048576字节上限"]);
}
