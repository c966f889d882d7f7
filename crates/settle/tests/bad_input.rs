//! Bad visits and persons get a precise error naming the field at fault: never a panic, and
//! never a settlement.
//!
//! Every case starts from published case C01 (a Ningbo resident's three-line inpatient stay,
//! `policies/ningbo/2023.toml`, the test catalog) with one thing wrong, and asserts the exact
//! `SettleError`, its `field()` and its text. Where the JSON edge (`serde_json` into [`Visit`])
//! refuses the input first, its error is asserted instead. Property tests feed arbitrary bytes,
//! mangled JSON and random JSON-shaped visits through the edge and `pre_settle`; a panic fails
//! them by itself.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use proptest::collection::vec;
use proptest::prelude::*;
use proptest::sample::select;
use yibao_catalog::Catalog;
use yibao_codes::{InsuranceType, MedicalType, PersonType};
use yibao_money::{Money, Price, Quantity};
use yibao_policy::{load_policy, Policy};
use yibao_settle::{
    pre_settle, Accumulator, FeeLine, Person, SettleError, SettleInput, Settlement, Visit, YearToDate, VISIT_LINES_MAX,
};

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn ningbo() -> &'static Policy {
    static POLICY: OnceLock<Policy> = OnceLock::new();
    POLICY.get_or_init(|| {
        let text = std::fs::read_to_string(repo_root().join("policies/ningbo/2023.toml")).unwrap();
        load_policy("ningbo/2023.toml", &text).unwrap_or_else(|errors| panic!("{errors:#?}"))
    })
}

fn catalog() -> &'static Catalog {
    static CATALOG: OnceLock<Catalog> = OnceLock::new();
    CATALOG.get_or_init(|| {
        let text = std::fs::read_to_string(repo_root().join("crates/settle/tests/cases/catalog.csv")).unwrap();
        Catalog::from_csv(&text).unwrap()
    })
}

/// 赵大伯 of case C01: an adult resident, tier 1, born 1964-05-01.
const PERSON: &str = r#"{ "person_no": "33020000000000000001", "insurance": "390", "person_type": "1501",
    "sex": "1", "birth_date": "1964-05-01", "tier": 1 }"#;

/// Case C01's stay: 2023-09-01 to 09-12 at a 三级 hospital; lines 丙类 1500, 乙类 5000, 甲类 15500.
const VISIT: &str = r#"{
    "visit_id": "C01", "medical_type": "21", "level": "02",
    "begin_date": "2023-09-01", "end_date": "2023-09-12",
    "lines": [
        { "sn": "1", "code": "C02040205800005113250000023", "price": "1500", "quantity": "1" },
        { "sn": "2", "code": "XB03ACY199B002010104718", "price": "50", "quantity": "100" },
        { "sn": "3", "code": "003401000230600", "price": "155", "quantity": "100" }
    ]
}"#;

fn person() -> Person {
    serde_json::from_str(PERSON).unwrap()
}

fn visit() -> Visit {
    serde_json::from_str(VISIT).unwrap()
}

/// Pre-settles against an empty 2023 and an empty account.
fn run(person: &Person, visit: &Visit) -> Result<Settlement, SettleError> {
    run_with(person, visit, &YearToDate::new(2023), Money::ZERO)
}

fn run_with(
    person: &Person,
    visit: &Visit,
    ytd: &YearToDate,
    account_balance: Money,
) -> Result<Settlement, SettleError> {
    let input = SettleInput {
        policy: ningbo(),
        catalog: catalog(),
        person,
        ytd,
        account_balance,
        family_account_balance: Money::ZERO,
        visit,
    };
    pre_settle(&input)
}

/// Asserts the error, the field it names and its text.
#[track_caller]
fn assert_refused(result: Result<Settlement, SettleError>, expected: SettleError, field: &str, text: &str) {
    let error = match result {
        Ok(s) => panic!("settled instead of refusing: total {} fund {}", s.total, s.fund_total),
        Err(e) => e,
    };
    assert_eq!(
        (&error, error.field(), error.to_string().as_str()),
        (&expected, field, text)
    );
}

/// A [`SettleError::Field`], the form most refusals take.
fn field(field: &str, message: &str) -> SettleError {
    SettleError::Field {
        field: field.to_owned(),
        message: message.to_owned(),
    }
}

/// The serde_json error for a visit, as a HIS engineer would see it.
fn json_error(json: &str) -> String {
    match serde_json::from_str::<Visit>(json) {
        Ok(_) => panic!("accepted: {json}"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn the_unchanged_case_settles() {
    let s = run(&person(), &visit()).unwrap();
    assert_eq!(
        (s.total.to_string(), s.fund_total.to_string()),
        ("22000.00".into(), "13160.00".into())
    );
}

#[test]
fn unknown_catalog_code() {
    let mut v = visit();
    v.lines[1].code = "XB03ACY199B002010199999".into();
    assert_refused(
        run(&person(), &v),
        SettleError::UnknownItem {
            field: "lines[1].code".into(),
            code: "XB03ACY199B002010199999".into(),
        },
        "lines[1].code",
        "lines[1].code: 医保目录中没有编码为“XB03ACY199B002010199999”的项目",
    );
}

#[test]
fn negative_quantity() {
    let mut v = visit();
    v.lines[2].quantity = Quantity::parse("-2").unwrap();
    assert_refused(
        run(&person(), &v),
        field("lines[2].quantity", "数量-2必须大于0(退费请撤销明细后重传)"),
        "lines[2].quantity",
        "lines[2].quantity: 数量-2必须大于0(退费请撤销明细后重传)",
    );
}

#[test]
fn zero_quantity() {
    let mut v = visit();
    v.lines[0].quantity = Quantity::parse("0").unwrap();
    assert_refused(
        run(&person(), &v),
        field("lines[0].quantity", "数量0必须大于0(退费请撤销明细后重传)"),
        "lines[0].quantity",
        "lines[0].quantity: 数量0必须大于0(退费请撤销明细后重传)",
    );
}

#[test]
fn negative_price() {
    let mut v = visit();
    v.lines[0].price = Price::parse("-1500").unwrap();
    assert_refused(
        run(&person(), &v),
        field("lines[0].price", "单价-1500不能为负"),
        "lines[0].price",
        "lines[0].price: 单价-1500不能为负",
    );
}

#[test]
fn price_with_seven_decimals_is_refused_at_the_json_edge() {
    // As a string and as a bare number: the number's digits arrive exactly
    // (`arbitrary_precision`), never rounded through a float.
    let quoted = VISIT.replace(r#""price": "50""#, r#""price": "50.0000001""#);
    assert_eq!(json_error(&quoted), "小数位数超过6位 at line 6 column 77");
    let bare = VISIT.replace(r#""price": "50""#, r#""price": 50.0000001"#);
    assert_eq!(json_error(&bare), "小数位数超过6位 at line 6 column 75");
    let quantity = VISIT.replace(r#""quantity": "100" },"#, r#""quantity": 1.00001 },"#);
    assert_eq!(json_error(&quantity), "小数位数超过4位 at line 6 column 92");
    let amount = VISIT.replace(r#""price": "50","#, r#""price": "50", "amount": 5000.001,"#);
    assert_eq!(json_error(&amount), "小数位数超过2位 at line 6 column 89");
}

#[test]
fn json_numbers_are_read_exactly_or_refused() {
    // 12.5 and 0.1 as bare JSON numbers are exact decimals, not binary floats.
    let v: Visit = serde_json::from_str(&VISIT.replace(
        r#""price": "50", "quantity": "100""#,
        r#""price": 12.5, "quantity": 0.1, "amount": 1.25"#,
    ))
    .unwrap();
    assert_eq!(v.lines[1].price, Price::from_millionths(12_500_000));
    assert_eq!(v.lines[1].quantity, Quantity::from_ten_thousandths(1_000));
    assert_eq!(v.lines[1].amount, Some(Money::from_fen(125)));
    let s = run(&person(), &v).unwrap();
    assert_eq!(s.lines[1].split.amount, Money::from_fen(125));

    // Exponents are not decimals the interface sends; they are refused, not converted.
    let exponent = VISIT.replace(r#""price": "50""#, r#""price": 5e1"#);
    assert_eq!(json_error(&exponent), "不是合法的十进制数 at line 6 column 68");
    let boolean = VISIT.replace(r#""price": "50""#, r#""price": true"#);
    assert_eq!(
        json_error(&boolean),
        "invalid type: boolean `true`, expected a decimal number or a string holding one at line 6 column 69"
    );
}

#[test]
fn amount_that_disagrees_with_price_times_quantity() {
    let mut v = visit();
    v.lines[1].amount = Some(Money::parse_yuan("5000.01").unwrap());
    assert_refused(
        run(&person(), &v),
        field("lines[1].amount", "明细金额5000.01与单价×数量=50×100=5000.00不符"),
        "lines[1].amount",
        "lines[1].amount: 明细金额5000.01与单价×数量=50×100=5000.00不符",
    );
}

#[test]
fn line_amount_beyond_the_amount_bound() {
    // Both factors are within their own bounds, but 10¹² 元 × 10⁶ overflowed an i64 of fen
    // (a panic); 10¹² 元 × 1000 on each of 100 lines overflowed the visit's sum.
    let mut v = visit();
    v.lines[2].price = Price::parse("1000000000000").unwrap();
    v.lines[2].quantity = Quantity::parse("1000000").unwrap();
    assert_refused(
        run(&person(), &v),
        field(
            "lines[2].price",
            "单价1000000000000×数量1000000超过单条明细金额上限1000000000000.00",
        ),
        "lines[2].price",
        "lines[2].price: 单价1000000000000×数量1000000超过单条明细金额上限1000000000000.00",
    );
    v.lines[2].quantity = Quantity::parse("1000").unwrap();
    let line = v.lines[2].clone();
    v.lines = (1..=100)
        .map(|n| FeeLine {
            sn: n.to_string(),
            ..line.clone()
        })
        .collect();
    assert_refused(
        run(&person(), &v),
        field(
            "lines[0].price",
            "单价1000000000000×数量1000超过单条明细金额上限1000000000000.00",
        ),
        "lines[0].price",
        "lines[0].price: 单价1000000000000×数量1000超过单条明细金额上限1000000000000.00",
    );
}

#[test]
fn a_million_lines_are_refused_before_any_line_is_read() {
    let mut v = visit();
    // Every line is bad twice over (zero quantity, repeated sn): getting the limit error rather
    // than a line's error shows that no line was looked at.
    let line = FeeLine {
        quantity: Quantity::whole(0),
        ..v.lines[0].clone()
    };
    v.lines = vec![line; 1_000_000];
    assert!(v.lines.len() > VISIT_LINES_MAX);
    assert_refused(
        run(&person(), &v),
        field("lines", "费用明细1000000条,超过单次结算上限20000条"),
        "lines",
        "lines: 费用明细1000000条,超过单次结算上限20000条",
    );
}

#[test]
fn no_lines() {
    let mut v = visit();
    v.lines.clear();
    assert_refused(
        run(&person(), &v),
        field("lines", "没有费用明细"),
        "lines",
        "lines: 没有费用明细",
    );
}

#[test]
fn end_date_before_begin_date() {
    let mut v = visit();
    v.end_date = Some("2023-08-31".parse().unwrap());
    assert_refused(
        run(&person(), &v),
        field("end_date", "出院日期2023-08-31早于入院日期2023-09-01"),
        "end_date",
        "end_date: 出院日期2023-08-31早于入院日期2023-09-01",
    );
}

#[test]
fn line_date_outside_the_stay() {
    let mut v = visit();
    v.lines[2].date = Some("2023-09-13".parse().unwrap());
    assert_refused(
        run(&person(), &v),
        field(
            "lines[2].date",
            "费用日期2023-09-13不在就诊期间2023-09-01至2023-09-12内",
        ),
        "lines[2].date",
        "lines[2].date: 费用日期2023-09-13不在就诊期间2023-09-01至2023-09-12内",
    );
    v.lines[2].date = Some("2023-08-31".parse().unwrap());
    assert_refused(
        run(&person(), &v),
        field(
            "lines[2].date",
            "费用日期2023-08-31不在就诊期间2023-09-01至2023-09-12内",
        ),
        "lines[2].date",
        "lines[2].date: 费用日期2023-08-31不在就诊期间2023-09-01至2023-09-12内",
    );
}

#[test]
fn visit_before_birth() {
    let mut p = person();
    p.birth_date = "2023-09-02".parse().unwrap();
    assert_refused(
        run(&p, &visit()),
        field("begin_date", "就诊日期2023-09-01早于出生日期2023-09-02"),
        "begin_date",
        "begin_date: 就诊日期2023-09-01早于出生日期2023-09-02",
    );
}

#[test]
fn duplicate_line_sn_in_a_small_visit() {
    let mut v = visit();
    v.lines[2].sn = "1".into();
    assert_refused(
        run(&person(), &v),
        field("lines[2].sn", "明细流水号1重复"),
        "lines[2].sn",
        "lines[2].sn: 明细流水号1重复",
    );
}

#[test]
fn duplicate_line_sn_in_a_large_visit() {
    // Over 64 lines the check sorts instead of scanning; it names the same line the scan would:
    // the first one repeating an earlier number (line 80 repeats line 6; line 90 repeats "2").
    let mut v = visit();
    let line = v.lines[2].clone();
    v.lines = (1..=100)
        .map(|n| FeeLine {
            sn: n.to_string(),
            ..line.clone()
        })
        .collect();
    v.lines[80].sn = "7".into();
    v.lines[90].sn = "2".into();
    assert_refused(
        run(&person(), &v),
        field("lines[80].sn", "明细流水号7重复"),
        "lines[80].sn",
        "lines[80].sn: 明细流水号7重复",
    );
    // The same visit cut to 64 lines takes the scan, with the same answer.
    v.lines[60].sn = "7".into();
    let mut small = v.clone();
    small.lines.truncate(64);
    let expected = || field("lines[60].sn", "明细流水号7重复");
    assert_refused(
        run(&person(), &small),
        expected(),
        "lines[60].sn",
        "lines[60].sn: 明细流水号7重复",
    );
    assert_refused(
        run(&person(), &v),
        expected(),
        "lines[60].sn",
        "lines[60].sn: 明细流水号7重复",
    );
}

#[test]
fn year_to_date_of_another_year() {
    assert_refused(
        run_with(&person(), &visit(), &YearToDate::new(2022), Money::ZERO),
        field("ytd.year", "累计信息年度2022与就诊所属医保年度2023不符"),
        "ytd.year",
        "ytd.year: 累计信息年度2022与就诊所属医保年度2023不符",
    );
}

#[test]
fn year_to_date_out_of_range() {
    // A negative deductible so far raised this year's deductible above the standard (1205.00
    // of a 1200.00 standard) instead of being refused.
    let mut ytd = YearToDate::new(2023);
    ytd.accumulators.push(("other".into(), Accumulator::default()));
    ytd.accumulators.push((
        "resident-inpatient.basic".into(),
        Accumulator {
            deductible: Money::from_fen(-500),
            ..Accumulator::default()
        },
    ));
    assert_refused(
        run_with(&person(), &visit(), &ytd, Money::ZERO),
        field("ytd.accumulators[1]", "累计金额必须在0到1000000000000.00之间"),
        "ytd.accumulators[1]",
        "ytd.accumulators[1]: 累计金额必须在0到1000000000000.00之间",
    );
}

#[test]
fn year_to_date_with_the_most_admissions_settles() {
    // `admissions + 1` overflowed (a panic in debug builds).
    let mut ytd = YearToDate::new(2023);
    ytd.accumulators.push((
        "resident-inpatient.basic".into(),
        Accumulator {
            admissions: u32::MAX,
            ..Accumulator::default()
        },
    ));
    let s = run_with(&person(), &visit(), &ytd, Money::ZERO).unwrap();
    assert_eq!(s.fund_total, Money::parse_yuan("13160").unwrap());
}

#[test]
fn visit_outside_the_policy_dates() {
    let mut v = visit();
    v.begin_date = "2024-01-02".parse().unwrap();
    v.end_date = Some("2024-01-05".parse().unwrap());
    assert_refused(
        run_with(&person(), &v, &YearToDate::new(2024), Money::ZERO),
        SettleError::PolicyNotEffective {
            policy: "330200/2023.1".into(),
            date: v.begin_date,
        },
        "begin_date",
        "政策330200/2023.1不适用于就诊日期2024-01-02(不在其生效期内)",
    );
}

#[test]
fn medical_type_with_no_benefit() {
    let mut v = visit();
    v.medical_type = MedicalType::parse("11").unwrap();
    v.end_date = None;
    assert_refused(
        run(&person(), &v),
        SettleError::NoBenefit {
            insurance: "390",
            medical_type: "11",
            policy: "330200/2023.1".into(),
        },
        "medical_type",
        "政策330200/2023.1中没有适用于险种390、医疗类别11的待遇",
    );
}

#[test]
fn insurance_type_with_no_benefit() {
    let mut p = person();
    p.insurance = InsuranceType::parse("310").unwrap();
    p.person_type = PersonType::parse("11").unwrap();
    p.tier = None;
    assert_refused(
        run(&p, &visit()),
        SettleError::NoBenefit {
            insurance: "310",
            medical_type: "21",
            policy: "330200/2023.1".into(),
        },
        "medical_type",
        "政策330200/2023.1中没有适用于险种310、医疗类别21的待遇",
    );
}

#[test]
fn negative_account_balance() {
    assert_refused(
        run_with(&person(), &visit(), &YearToDate::new(2023), Money::from_fen(-1)),
        field("account_balance", "个人账户余额不能为负"),
        "account_balance",
        "account_balance: 个人账户余额不能为负",
    );
}

// ------------------------------------------------------------------------------------------------
// No input panics.

/// Parses a visit and, when it parses, pre-settles it; only a panic can fail.
fn settle_any(person: &Person, json: &str, ytd: &YearToDate, account_balance: Money) {
    if let Ok(visit) = serde_json::from_str::<Visit>(json) {
        let _ = run_with(person, &visit, ytd, account_balance);
    }
}

/// Mostly `usual`, now and then anything: each generated visit should usually parse, so that
/// `pre_settle` sees it, with the odd value that is far out of range or malformed.
fn mostly(
    usual: impl Strategy<Value = String> + 'static,
    odd: impl Strategy<Value = String> + 'static,
) -> BoxedStrategy<String> {
    prop_oneof![100 => usual, 1 => odd].boxed()
}

fn odd_decimal() -> impl Strategy<Value = String> {
    let text = prop_oneof![
        "-?[0-9]{1,4}(\\.[0-9]{1,7})?",
        "[0-9]{1,19}(\\.[0-9]{1,2})?",
        select(vec![
            "0",
            "-0",
            "0.0000001",
            "5e1",
            "1e400",
            "1000000",
            "1000000.0001",
            "1000000000000",
            "999999999999.999999",
            "1000000000000.000001",
            "",
            " 1",
            "abc",
        ])
        .prop_map(String::from),
    ];
    (text, any::<bool>()).prop_map(|(t, quoted)| if quoted { format!("\"{t}\"") } else { t })
}

/// A decimal as JSON, quoted or bare, from `pattern`, now and then an odd one.
fn decimal(pattern: &'static str) -> BoxedStrategy<String> {
    let usual = (pattern, any::<bool>()).prop_map(|(t, quoted)| if quoted { format!("\"{t}\"") } else { t });
    mostly(usual, odd_decimal())
}

/// A date as JSON from `pattern` (without quotes), now and then an odd one.
fn date(pattern: &'static str) -> BoxedStrategy<String> {
    let usual = pattern.prop_map(|d| format!("\"{d}\""));
    let odd = prop_oneof![
        (0..10_000i32, 0..=13u32, 0..=32u32).prop_map(|(y, m, d)| format!("\"{y:04}-{m:02}-{d:02}\"")),
        select(vec!["\"\"", "null", "20230901", "\"2023-9-1\"", "\"+262143-12-31\""]).prop_map(String::from),
    ];
    mostly(usual, odd)
}

/// `, "key": value` now and then, else nothing.
fn sometimes(key: &'static str, value: impl Strategy<Value = String> + 'static) -> BoxedStrategy<String> {
    prop_oneof![4 => Just(String::new()), 1 => value.prop_map(move |v| format!(", \"{key}\": {v}"))].boxed()
}

/// One of `usual`, now and then one of `odd`.
fn pick(usual: &[&'static str], odd: &[&'static str]) -> BoxedStrategy<String> {
    mostly(
        select(usual.to_vec()).prop_map(String::from),
        select(odd.to_vec()).prop_map(String::from),
    )
}

/// `price × quantity` to the fen, as the HIS would bill it, when both are plain decimals.
fn billed(price: &str, quantity: &str) -> Option<String> {
    let price = Price::parse(price.trim_matches('"')).ok()?;
    let quantity = Quantity::parse(quantity.trim_matches('"')).ok()?;
    let product = i128::from(price.millionths()) * i128::from(quantity.ten_thousandths());
    let fen = i64::try_from((product + 50_000_000) / 100_000_000).ok()?;
    Some(format!("\"{}\"", Money::from_fen(fen)))
}

fn line() -> impl Strategy<Value = String> {
    let codes = [
        "C02040205800005113250000023",
        "XB03ACY199B002010104718",
        "003401000230600",
        "XJ01CAA040A001010100001",
        "001216000010100",
    ];
    (
        "[1-9][0-9]{0,3}",
        pick(&codes, &["X999", ""]),
        // Now and then a huge price and quantity: each within its own bound, not their product.
        prop_oneof![20 => decimal("[1-9][0-9]{0,2}(\\.[0-9]{1,2})?"), 1 => decimal("[1-9][0-9]{4,5}")],
        prop_oneof![20 => decimal("(0|[1-9][0-9]{0,4})(\\.[0-9]{1,6})?"), 1 => decimal("[1-9][0-9]{9,11}")],
        prop_oneof![
            50 => Just(None),
            50 => Just(Some(None)),
            1 => decimal("[0-9]{1,3}").prop_map(|a| Some(Some(a))),
        ],
        sometimes("date", date("2023-09-(0[1-9]|1[0-2])")),
        sometimes("disease", pick(&["\"M01600\""], &["\"\"", "1"])),
    )
        .prop_map(|(sn, code, quantity, price, amount, date, disease)| {
            // No amount, the billed amount, or (rarely) any amount.
            let amount = match amount {
                None => None,
                Some(None) => billed(&price, &quantity),
                Some(any) => any,
            };
            let amount = amount.map_or_else(String::new, |a| format!(", \"amount\": {a}"));
            format!(
                r#"{{ "sn": "{sn}", "code": "{code}", "quantity": {quantity}, "price": {price}{amount}{date}{disease} }}"#
            )
        })
}

fn visit_json() -> impl Strategy<Value = String> {
    (
        pick(&["\"21\"", "\"22\"", "\"24\"", "21"], &["\"11\"", "\"14\"", "\"99\""]),
        pick(&["\"01\"", "\"02\"", "\"08\"", "3", "\"三级\""], &["\"15\"", "0"]),
        date("2023-09-01"),
        prop_oneof![1 => Just(String::new()), 4 => date("2023-09-(1[2-9]|2[0-9])").prop_map(|d| format!(", \"end_date\": {d}"))],
        any::<bool>(),
        any::<bool>(),
        prop_oneof![3 => vec(line(), 1..10), 1 => vec(line(), 60..80)],
    )
        .prop_map(|(medical_type, level, begin, end, referred, use_account, lines)| {
            format!(
                r#"{{ "visit_id": "V", "medical_type": {medical_type}, "level": {level}, "begin_date": {begin}{end},
                    "referred": {referred}, "use_account": {use_account}, "lines": [{}] }}"#,
                lines.join(", ")
            )
        })
}

fn person_json() -> impl Strategy<Value = String> {
    (
        pick(&["\"390\"", "390"], &["\"310\"", "\"391\""]),
        pick(&["\"1501\"", "\"14\"", "\"1601\""], &["\"11\"", "\"1201\""]),
        pick(&["", ", \"tier\": 1", ", \"tier\": 2"], &[", \"tier\": 3"]),
        pick(
            &["", ", \"groups\": [\"特困\"]", ", \"chronic_diseases\": [\"M01600\"]"],
            &[""],
        ),
        date("(19[0-9][0-9]|20[01][0-9])-(0[1-9]|1[0-2])-(0[1-9]|1[0-9]|2[0-8])"),
        sometimes("benefits_from", date("2023-(0[1-9]|1[0-2])-01")),
    )
        .prop_map(|(insurance, person_type, tier, extra, birth, benefits_from)| {
            format!(
                r#"{{ "person_no": "P", "insurance": {insurance}, "person_type": {person_type}, "sex": "2",
                    "birth_date": {birth}{tier}{extra}{benefits_from} }}"#
            )
        })
}

fn ytd_json() -> impl Strategy<Value = String> {
    let money = || decimal("(0|[1-9][0-9]{0,5})(\\.[0-9]{1,2})?");
    let count = || prop_oneof![10 => 0..10u32, 1 => Just(u32::MAX)];
    let accumulator = (pick(&["resident-inpatient.basic"], &["basic", ""]), money(), money(), money(), count(), count())
        .prop_map(|(key, deductible, fund, base, visits, admissions)| {
            format!(
                r#"["{key}", {{ "deductible": {deductible}, "fund": {fund}, "base": {base}, "visits": {visits}, "admissions": {admissions} }}]"#
            )
        });
    (prop_oneof![10 => Just(2023), 1 => Just(2022)], vec(accumulator, 0..3)).prop_map(|(year, accumulators)| {
        format!(r#"{{ "year": {year}, "accumulators": [{}] }}"#, accumulators.join(", "))
    })
}

/// Edits applied to the bytes of a valid visit: (position, what, byte).
fn mangle(text: &str, edits: &[(usize, u8, u8)]) -> String {
    let mut bytes = text.as_bytes().to_vec();
    for &(position, what, byte) in edits {
        let at = position % (bytes.len() + 1);
        match what % 3 {
            0 => bytes.insert(at, byte),
            1 if at < bytes.len() => {
                bytes.remove(at);
            }
            _ if at < bytes.len() => bytes[at] = byte,
            _ => {}
        }
    }
    String::from_utf8_lossy(&bytes).into_owned()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in vec(any::<u8>(), 0..512)) {
        settle_any(&person(), &String::from_utf8_lossy(&bytes), &YearToDate::new(2023), Money::ZERO);
    }

    #[test]
    fn mangled_visits_never_panic(edits in vec((any::<usize>(), any::<u8>(), select(b"\"{}[],:.-0123456789e ".to_vec())), 1..8)) {
        settle_any(&person(), &mangle(VISIT, &edits), &YearToDate::new(2023), Money::ZERO);
    }

    #[test]
    fn random_visits_never_panic(
        visit in visit_json(),
        person in person_json(),
        ytd in ytd_json(),
        account_balance in prop_oneof![4 => Just(0i64), 4 => 0..10_000_000i64, 1 => any::<i64>()],
    ) {
        let Ok(person) = serde_json::from_str::<Person>(&person) else { return Ok(()) };
        let Ok(ytd) = serde_json::from_str::<YearToDate>(&ytd) else { return Ok(()) };
        settle_any(&person, &visit, &ytd, Money::from_fen(account_balance));
    }
}
