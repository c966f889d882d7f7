//! DRG payment tables from real city files, payment standards and outlier cases.

use yibao_drg::payment::{
    case_payment, CaseKind, ExactDecimal, HospitalLevel, OutlierRule, PaymentTable, PaymentTableError, Scheme, Tier,
};
use yibao_money::{Money, Ratio, Rounding};

use HospitalLevel::{Primary, Secondary, Tertiary};
use Scheme::{Employee, Resident};

const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../data/drg-payment-tables/");

fn text(file: &str) -> String {
    std::fs::read_to_string(format!("{DIR}{file}")).unwrap_or_else(|e| panic!("reading {file}: {e}"))
}

fn load(file: &str) -> PaymentTable {
    PaymentTable::from_csv(file, &text(file)).unwrap_or_else(|errors| {
        let lines: Vec<String> = errors.iter().map(ToString::to_string).collect();
        panic!("{file} refused:\n{}", lines.join("\n"))
    })
}

fn yuan(text: &str) -> Money {
    Money::parse_yuan(text).unwrap()
}

fn dec(text: &str) -> ExactDecimal {
    ExactDecimal::parse(text).unwrap()
}

fn errors(name: &str, csv: &str) -> Vec<PaymentTableError> {
    match PaymentTable::from_csv(name, csv) {
        Ok(t) => panic!("{name} accepted with {} rows", t.len()),
        Err(e) => e,
    }
}

#[test]
fn beijing_2022_single_standard_and_fee_for_service_rows() {
    // No BOM; `DRG编码,DRG名称,RW,支付标准`; 697 lines = header + 696 groups.
    let t = load("北京2022.csv");
    assert_eq!(t.len(), 696);
    for level in HospitalLevel::ALL {
        for scheme in [Employee, Resident] {
            assert_eq!(t.standard("AE19", level, scheme), Some(yuan("118507")));
        }
    }
    assert_eq!(t.standard("BB11", Tertiary, Employee), Some(yuan("107425")));
    let ae19 = t.row("AE19").unwrap();
    assert_eq!((ae19.line, ae19.weight), (2, Some(dec("5.8"))));
    // AA19: `按项目据实支付` in the RW column: paid by item, no DRG standard, even with a rate.
    let aa19 = t.row("AA19").unwrap();
    assert!(aa19.fee_for_service);
    assert_eq!(t.quote("AA19", Tertiary, Employee, Some(Money::from_yuan(20000))), None);
    assert_eq!(t.row("ZZ99"), None);
}

#[test]
fn suzhou_2023_per_level_standards_rounded_half_up() {
    // BOM; per-level coefficients and per-level standards with 3–5 decimals.
    let t = load("苏州2023.csv");
    assert_eq!(t.len(), 648);
    assert_eq!(t.standard("AA19", Tertiary, Employee), Some(yuan("311076.61"))); // 311076.612
    assert_eq!(t.standard("AA19", Secondary, Resident), Some(yuan("264415.12"))); // 264415.1202
    assert_eq!(t.standard("AA19", Primary, Employee), Some(yuan("194422.88"))); // 194422.8825
    assert_eq!(t.standard("AE19", Secondary, Employee), Some(yuan("135394.11"))); // 135394.1095
    assert_eq!(t.standard("BB11", Primary, Employee), Some(yuan("67185.64"))); // 67185.64192
    let aa19 = t.row("AA19").unwrap();
    assert_eq!(
        aa19.coefficients,
        vec![(Primary, dec("0.75")), (Secondary, dec("1.02")), (Tertiary, dec("1.2"))]
    );
    // RW with 6 decimals is kept exactly.
    assert_eq!(t.row("AE19").unwrap().weight, Some(dec("15.207924")));
    let quote = t.quote("AA19", Tertiary, Employee, None).unwrap();
    assert_eq!(quote.explanation, "AA19三级支付标准311076.612，四舍五入到分=311076.61");
}

#[test]
fn jilin_2022_standard_is_weight_times_rate_for_every_row() {
    let t = load("吉林2022.csv");
    assert_eq!(t.len(), 625);
    let tertiary = Tier {
        level: Some(Tertiary),
        scheme: None,
    };
    let rate = dec("9080.56");
    let mut checked = 0;
    let mut off_by_a_fen = 0;
    for row in t.rows() {
        assert_eq!(
            row.rates,
            vec![(tertiary, rate)],
            "{} line {}: 费率（三级）",
            row.drg,
            row.line
        );
        let weight = row.weight.unwrap_or_else(|| panic!("{} has no 权重", row.drg));
        let (_, published) = row.standards[0];
        let product = weight.checked_mul(rate).unwrap();
        assert_eq!(
            product.to_money(Rounding::HalfUp),
            published.to_money(Rounding::HalfUp),
            "{} line {}: 权重{weight}×费率{rate}={product}, 支付标准{published}",
            row.drg,
            row.line
        );
        // The published outlier thresholds are 0.35× and 2× the standard (to the fen).
        let standard = published.to_money(Rounding::HalfUp);
        let rule = OutlierRule::new(dec("0.35"), dec("2"), Ratio::ONE).unwrap();
        let (_, low) = row.low_thresholds[0];
        let (_, high) = row.high_thresholds[0];
        // The file computes them from the unrounded standard (BB11: 2 × 63424.98743 = 126849.97486,
        // published 126849.9749 → 126849.97, while 2 × 63424.99 = 126849.98), so allow one fen.
        let low_gap = (rule.low_threshold(standard) - low.to_money(Rounding::HalfUp)).fen();
        let high_gap = (rule.high_threshold(standard) - high.to_money(Rounding::HalfUp)).fen();
        assert!(
            low_gap.abs() <= 1 && high_gap.abs() <= 1,
            "{}: {low_gap} {high_gap}",
            row.drg
        );
        off_by_a_fen += usize::from(low_gap != 0 || high_gap != 0);
        checked += 1;
    }
    assert_eq!(checked, 625);
    assert!(off_by_a_fen > 0 && off_by_a_fen < 625, "{off_by_a_fen}");
    println!("吉林2022: 费率(三级)={rate}; thresholds off by one fen after rounding: {off_by_a_fen}/625");
    // AF19: 0.928 × 9080.56 = 8426.75968 exactly.
    assert_eq!(t.standard("AF19", Tertiary, Resident), Some(yuan("8426.76")));
    assert_eq!(dec("0.928").checked_mul(rate), Some(dec("8426.75968")));
    // Only 三级 is published; a 二级 hospital has no standard from this table.
    assert_eq!(t.standard("AF19", Secondary, Employee), None);
}

#[test]
fn wuhan_2022_per_scheme_standards_for_secondary_hospitals() {
    // Quoted names with commas inside, e.g. line 8 `AH11,"气管切开伴呼吸机支持≥96小时或ECMO,伴有…"`.
    let t = load("武汉2022.csv");
    assert_eq!(t.len(), 660);
    assert_eq!(t.standard("AA19", Secondary, Employee), Some(yuan("301657.38")));
    assert_eq!(t.standard("AA19", Secondary, Resident), Some(yuan("278418")));
    assert_eq!(t.standard("AH11", Secondary, Employee), Some(yuan("148652")));
    // No 三级 standard in the file: none without a rate, RW × the caller's base rate with one.
    assert_eq!(t.standard("AE19", Tertiary, Employee), None);
    let quote = t
        .quote("AE19", Tertiary, Employee, Some(Money::from_yuan(9000)))
        .unwrap();
    assert_eq!(quote.amount, yuan("100530.00"));
    assert_eq!(
        quote.explanation,
        "AE19支付标准=基础费率9000.00×RW11.17=100530，四舍五入到分=100530.00"
    );
}

#[test]
fn changzhou_2022_rate_times_weight_times_level_coefficient() {
    let t = load("常州2022.csv");
    assert_eq!(t.len(), 740);
    // 11519 × 22.5705 × 1.01 = 262589.485395 → 262589.49.
    let quote = t.quote("AE19", Tertiary, Employee, None).unwrap();
    assert_eq!(quote.amount, yuan("262589.49"));
    assert_eq!(
        quote.explanation,
        "AE19支付标准=职工费率11519×RW22.5705×三级系数1.01=262589.485395，四舍五入到分=262589.49"
    );
    // 9849 × 22.5705 × 0.91 = 202290.137595 → 202290.14.
    assert_eq!(t.standard("AE19", Secondary, Resident), Some(yuan("202290.14")));
    // No 一级 coefficient: no standard, rather than an unscaled one.
    assert_eq!(t.standard("AE19", Primary, Resident), None);
}

#[test]
fn linyi_2022_per_level_and_scheme_standards() {
    let t = load("临沂2022.csv");
    assert_eq!(t.len(), 629);
    assert_eq!(t.standard("AE19", Tertiary, Employee), Some(yuan("117689.45")));
    assert_eq!(t.standard("AE19", Tertiary, Resident), Some(yuan("112034.63")));
    assert_eq!(t.standard("AE19", Secondary, Employee), Some(yuan("115136.43")));
    assert_eq!(t.standard("AE19", Secondary, Resident), Some(yuan("101416.93")));
    assert_eq!(t.standard("AE19", Primary, Resident), None);
    // AA19 has every cell empty.
    assert_eq!(t.standard("AA19", Tertiary, Employee), None);
}

#[test]
fn zero_standard_means_not_covered() {
    // 兰州2022 AA19 `未覆盖组` has 支付标准 0 and no RW.
    let t = load("兰州2022.csv");
    assert_eq!(t.len(), 792);
    assert_eq!(t.standard("AA19", Tertiary, Employee), None);
    assert_eq!(t.standard("AB19", Tertiary, Employee), Some(yuan("192699.40")));
    // Codes of five characters exist (BV11B).
    assert!(t.row("BV11B").is_some());
}

#[test]
fn weight_only_tables_need_a_base_rate() {
    let t = load("云南2022.csv");
    assert_eq!(t.len(), 677);
    assert_eq!(t.standard("AA19", Tertiary, Employee), None);
    // 18.0977 × 10000.00 = 180977.00.
    let quote = t
        .quote("AA19", Tertiary, Employee, Some(Money::from_yuan(10000)))
        .unwrap();
    assert_eq!(quote.amount, Money::from_yuan(180_977));
}

#[test]
fn point_value_and_unknown_layouts_are_refused_with_the_header() {
    let e = errors("银川2023.csv", &text("银川2023.csv"));
    assert_eq!(e.len(), 1);
    let message = e[0].to_string();
    assert!(
        message.starts_with("银川2023.csv 第1行: 无法识别的表格格式"),
        "{message}"
    );
    assert!(message.contains("第3列「标准分值」"), "{message}");
    assert!(
        message.contains(
            "表头为 DRG编码,DRG名称,标准分值,等级系数（三甲）,等级系数（三乙）,等级系数（二级）,等级系数（一级及基层）"
        ),
        "{message}"
    );
    let e = errors("兰州2023.csv", &text("兰州2023.csv"));
    assert!(e[0].message.contains("第6列「等级系数（省三甲）」"), "{}", e[0]);
}

#[test]
fn duplicate_codes_in_a_real_file_are_reported_with_both_lines() {
    // 乌鲁木齐2022 lists DR13 twice with different names.
    let e = errors("乌鲁木齐2022.csv", &text("乌鲁木齐2022.csv"));
    assert_eq!(e.len(), 1);
    assert_eq!(
        e[0].to_string(),
        "乌鲁木齐2022.csv 第124行: DRG编码DR13重复（首次出现在第31行）"
    );
}

#[test]
fn bad_cells_are_reported_with_line_and_column() {
    let csv = "\u{feff}DRG编码,DRG名称,RW,支付标准\nAA19,甲,1.5,100\nAB19,乙,1,5x,\nAC19,丙,-1,200\nAD19,丁,1,1.12345678901\n,戊,1,3\n";
    let e = errors("bad.csv", csv);
    let shown: Vec<String> = e.iter().map(ToString::to_string).collect();
    assert_eq!(
        shown,
        vec![
            "bad.csv 第3行: 本行有5列，表头有4列",
            "bad.csv 第4行 第3列「RW」: 「-1」不是非负十进制数",
            "bad.csv 第5行 第4列「支付标准」: 「1.12345678901」小数位超过10位",
            "bad.csv 第6行 第1列「DRG编码」: DRG编码「」无效（应为1–8位字母数字）",
        ]
    );
    let e = errors("bad.csv", "DRG编码,RW\nAA19,1.2.3\n");
    assert_eq!(e[0].line, 2);
    assert_eq!(e[0].column, Some((2, "RW".to_owned())));
    assert_eq!(e[0].message, "「1.2.3」不是非负十进制数");
}

#[test]
fn bad_headers_are_refused() {
    let e = errors("x.csv", "");
    assert_eq!(e[0].to_string(), "x.csv 第1行: 文件为空，缺少表头");
    let e = errors("x.csv", "DRG编码,DRG名称\nAA19,甲\n");
    assert_eq!(
        e[0].to_string(),
        "x.csv 第1行: 表头中没有权重、支付标准、费率或系数列；表头为 DRG编码,DRG名称"
    );
    let e = errors("x.csv", "DRG名称,RW\n甲,1\n");
    assert!(e[0].message.starts_with("表头须恰有一列DRG编码（实有0列）"), "{}", e[0]);
    let e = errors("x.csv", "DRG编码,RW,权重\nAA19,1,1\n");
    assert_eq!(e[0].column, Some((3, "权重".to_owned())));
    let e = errors("x.csv", "DRG编码,支付标准（四级）\nAA19,1\n");
    assert!(e[0].message.contains("未知列 第2列「支付标准（四级）」"), "{}", e[0]);
}

fn jilin_rule(compensation: Ratio) -> OutlierRule {
    OutlierRule::new(dec("0.35"), dec("2"), compensation).unwrap()
}

#[test]
fn outlier_boundaries_jilin_multiples() {
    let standard = yuan("9080.56");
    let rule = jilin_rule(Ratio::percent(80));
    // 9080.56 × 0.35 = 3178.196 → 3178.20; 9080.56 × 2 = 18161.12.
    assert_eq!(rule.low_threshold(standard), yuan("3178.20"));
    assert_eq!(rule.high_threshold(standard), yuan("18161.12"));
    let pay = |cost: &str| {
        let p = case_payment(standard, yuan(cost), &rule);
        (p.kind, p.payment)
    };
    // Low: cost ≤ 3178.20, paid the cost.
    assert_eq!(pay("3178.19"), (CaseKind::Low, yuan("3178.19")));
    assert_eq!(pay("3178.20"), (CaseKind::Low, yuan("3178.20")));
    assert_eq!(pay("3178.21"), (CaseKind::Normal, standard));
    assert_eq!(pay("0"), (CaseKind::Low, Money::ZERO));
    // High: cost ≥ 18161.12, paid the standard + 80% of the excess, half up to the fen.
    assert_eq!(pay("18161.11"), (CaseKind::Normal, standard));
    assert_eq!(pay("18161.12"), (CaseKind::High, standard));
    assert_eq!(pay("18161.13"), (CaseKind::High, yuan("9080.57"))); // 0.01 × 80% = 0.008 → 0.01
    assert_eq!(pay("18161.14"), (CaseKind::High, yuan("9080.58"))); // 0.016 → 0.02
    assert_eq!(pay("20000.00"), (CaseKind::High, yuan("10551.66"))); // 1838.88 × 80% = 1471.104
}

#[test]
fn outlier_explanations_show_the_arithmetic() {
    let standard = yuan("9080.56");
    let rule = jilin_rule(Ratio::percent(80));
    let high = case_payment(standard, yuan("20000"), &rule);
    assert_eq!(
        high.explanation,
        "病组支付标准9080.56×0.35=3178.20(低倍率临界值)；病组支付标准9080.56×2=18161.12(高倍率临界值)；\
         住院费用20000.00≥18161.12，属高倍率病例；\
         支付=病组支付标准9080.56+(住院费用20000.00−高倍率临界值18161.12)×补偿比例80%\
         =9080.56+1838.88×80%=9080.56+1471.10(四舍五入)=10551.66"
    );
    let low = case_payment(standard, yuan("3000"), &rule);
    assert!(
        low.explanation.ends_with(
            "住院费用3000.00≤3178.20，属低倍率病例；按实际费用支付且不超过支付标准：min(3000.00, 9080.56)=3000.00"
        ),
        "{}",
        low.explanation
    );
    let normal = case_payment(standard, yuan("5000"), &rule);
    assert!(
        normal
            .explanation
            .ends_with("3178.20<住院费用5000.00<18161.12，属正常病例；按病组支付标准支付9080.56"),
        "{}",
        normal.explanation
    );
}

#[test]
fn low_payment_is_capped_at_the_standard() {
    // A rule whose low multiple exceeds 1: a low case costing more than the standard gets the standard.
    let rule = OutlierRule::new(dec("1.2"), dec("3"), Ratio::ONE).unwrap();
    let standard = Money::from_yuan(10_000);
    let p = case_payment(standard, Money::from_yuan(11_000), &rule);
    assert_eq!((p.kind, p.payment), (CaseKind::Low, standard));
    let p = case_payment(standard, Money::from_yuan(12_000), &rule);
    assert_eq!((p.kind, p.payment), (CaseKind::Low, standard));
    let p = case_payment(standard, yuan("12000.01"), &rule);
    assert_eq!((p.kind, p.payment), (CaseKind::Normal, standard));
}

#[test]
fn overlapping_outlier_bands_are_refused() {
    assert!(OutlierRule::new(dec("2"), dec("2.0"), Ratio::ONE).is_none());
    assert!(OutlierRule::new(dec("2.5"), dec("2"), Ratio::ONE).is_none());
    assert!(OutlierRule::new(dec("0.4"), dec("1.5"), Ratio::ONE).is_some());
    assert!(OutlierRule::new(dec("0.4"), dec("100"), Ratio::ONE).is_some());
    assert!(OutlierRule::new(dec("0.4"), dec("100.01"), Ratio::ONE).is_none());
}

#[test]
fn exact_decimal_parsing_and_display() {
    assert_eq!(dec("1.00000").to_string(), "1.00000");
    assert_eq!(dec(" 23.99262817 ").to_string(), "23.99262817");
    assert_eq!(dec("118507").to_money(Rounding::HalfUp), Money::from_yuan(118_507));
    assert_eq!(dec("0.005").to_money(Rounding::HalfUp), Money::from_fen(1));
    assert_eq!(dec("0.0049").to_money(Rounding::HalfUp), Money::ZERO);
    assert_eq!(dec("5.8").ten_thousandths(), Some(58_000));
    assert_eq!(dec("17.75073").ten_thousandths(), None);
    for bad in ["", "1e3", "1,000", ".5", "5.", "-1", "+1", "１"] {
        assert!(ExactDecimal::parse(bad).is_err(), "{bad:?}");
    }
    assert!(ExactDecimal::parse("99999999999999999999").is_err());
}
