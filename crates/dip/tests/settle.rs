//! Case points at the outlier boundaries, the settlement point value and the hospital statements
//! of the small region in `common`, computed by hand.

mod common;

use common::{catalog, classifier, level, params};
use yibao_dip::{
    settle_year, settlement_point_value, CasePoints, Decimal4, Deviation, DipError, Grouping, PointValue, Score,
    SettlementCase,
};
use yibao_money::{Money, Ratio};

fn yuan(text: &str) -> Money {
    Money::parse_yuan(text).unwrap()
}

fn points(cost: &str, standard: &str) -> CasePoints {
    CasePoints::compute(
        Score::parse("1000").unwrap(),
        yuan(standard),
        yuan(cost),
        Decimal4::parse("0.9").unwrap(),
        &params(),
    )
    .unwrap()
}

#[test]
fn outlier_branches_at_their_boundaries() {
    // Standard 10000: low below 5000, high above 20000, review above 50000; coefficient 0.9.
    let p = points("4999.99", "10000");
    assert_eq!(p.deviation, Deviation::Low);
    // 1000 × 4999.99/10000 × 0.9 = 449.9991
    assert_eq!(p.points, Score::parse("449.9991").unwrap());
    let p = points("5000", "10000");
    assert_eq!(
        (p.deviation, p.points),
        (Deviation::Normal, Score::parse("900").unwrap())
    );
    let p = points("20000", "10000");
    assert_eq!(
        (p.deviation, p.points),
        (Deviation::Normal, Score::parse("900").unwrap())
    );
    let p = points("20000.01", "10000");
    assert_eq!(p.deviation, Deviation::High);
    // 1000 × (20000.01/10000 − 2 + 1) × 0.9 = 900.0009: continuous at the threshold.
    assert_eq!(p.points, Score::parse("900.0009").unwrap());
    assert!(!p.review);
    let p = points("50000", "10000");
    // 1000 × (5 − 1) × 0.9 = 3600, at the review multiple but not above it.
    assert_eq!((p.points, p.review), (Score::parse("3600").unwrap(), false));
    let p = points("50000.01", "10000");
    assert!(p.review);
    assert!(p.explain().contains("特病单议"), "{}", p.explain());
    // A zero-cost case is low with no points.
    assert_eq!(points("0", "10000").points, Score::ZERO);
}

#[test]
fn case_points_round_once_half_up_to_four_decimals() {
    // 1000 × 1234.56/3000 × 0.9 = 370.368, exact.
    assert_eq!(points("1234.56", "3000").points, Score::parse("370.368").unwrap());
    // 1000 × 0.01/30000 × 0.9 = 0.0003, exact.
    assert_eq!(points("0.01", "30000").points, Score::parse("0.0003").unwrap());
    // 1000 × 0.01/60000 × 0.9 = 0.00015 → 0.0002 (half up).
    assert_eq!(points("0.01", "60000").points, Score::parse("0.0002").unwrap());
    let p = points("4999.99", "10000");
    assert_eq!(
        p.explain(),
        "医疗总费用4999.99<0.5×标准费用10000.00，费用超低病例；病例分值=病种分值1000.0000×(医疗总费用4999.99÷标准费用10000.00)×等级系数0.9=449.9991分(四舍五入到4位小数)"
    );
}

#[test]
fn point_value_is_the_pool_over_the_points_rounded_down() {
    // 100000 ÷ 0.7 ÷ 9104.5787 = 15.6906920… → 15.690692.
    let pv = settlement_point_value(yuan("100000"), Ratio::percent(70), 91_045_787).unwrap();
    assert_eq!(pv, PointValue::parse("15.690692").unwrap());
    // 1 ÷ 1 ÷ 3 = 0.333333… → 0.333333 (down, not 0.333334 even for 2/3).
    let third = settlement_point_value(yuan("2"), Ratio::ONE, 30_000).unwrap();
    assert_eq!(third, PointValue::parse("0.666666").unwrap());
    assert_eq!(
        settlement_point_value(yuan("1"), Ratio::ONE, 0),
        Err(DipError::NoPoints)
    );
}

/// `amounts` = (total cost, self paid, fund paid by item), in 元.
fn year_case(id: &str, hospital: &str, lv: i64, dx: &str, px: &[&str], amounts: [&str; 3]) -> SettlementCase {
    let [cost, own, item] = amounts;
    SettlementCase {
        case_id: id.into(),
        hospital_id: hospital.into(),
        hospital_level: level(lv),
        principal_diagnosis: dx.into(),
        procedures: px.iter().map(|p| p.to_string()).collect(),
        total_cost: yuan(cost),
        self_paid: yuan(own),
        item_fund_paid: yuan(item),
    }
}

fn year_cases() -> Vec<SettlementCase> {
    let stent = |id: &str, cost: &str| year_case(id, "H1", 3, "I21.001", &["36.0601"], [cost, "3000", "20000"]);
    vec![
        // H1, 三级 (×1.0), I21.0:36.0601 score 1663.9069, standard 31000 (三级 2023 average).
        stent("s1", "31000"),    // normal: 1663.9069
        stent("s2", "15499.99"), // low: 1663.9069 × 15499.99/31000 = 831.95291… → 831.9529
        stent("s3", "15500"),    // exactly half: normal, 1663.9069
        stent("s4", "62000"),    // exactly double: normal, 1663.9069
        stent("s5", "62000.01"), // high: 1663.9069 × (62000.01/31000 − 1) = 1663.90743… → 1663.9074
        // H2, 一级 (×0.8).
        // J18.9 score 469.0951, standard 7000 (一级 2023): normal, 469.0951 × 0.8 = 375.27608 → 375.2761.
        year_case("t1", "H2", 1, "J18.900", &[], ["8000", "1000", "6000"]),
        // K80 surgery (comprehensive) score 931.2912, no 一级 case in 2023 → standard m = 15000;
        // 40000 > 30000: 931.2912 × (40000/15000 − 1) × 0.8 = 1241.72160 → 1241.7216.
        year_case("t2", "H2", 1, "K80.101", &["51.2301"], ["40000", "5000", "30000"]),
        // Z99: no group, paid by item, outside the reconciliation.
        year_case("t3", "H2", 1, "Z99.999", &[], ["1200", "200", "1000"]),
    ]
}

#[test]
fn annual_settlement_per_hospital() {
    let catalog = catalog();
    let year = settle_year(
        &catalog,
        &params(),
        &classifier(),
        &year_cases(),
        yuan("100000"),
        Ratio::percent(70),
    )
    .unwrap();
    // Σ points: H1 7487.5810, H2 1616.9977; 9104.5787 in all.
    assert_eq!(year.total_points_ten_thousandths, 91_045_787);
    assert_eq!(year.point_value, PointValue::parse("15.690692").unwrap());
    assert_eq!(
        year.explain_point_value(),
        "结算点值=(DIP基金预算100000.00÷报销比例70%)÷总分值9104.5787分=15.690692元/分(舍去到6位小数)"
    );
    let pts: Vec<String> = year
        .cases
        .iter()
        .map(|c| c.points.map_or("-".into(), |p| p.points.to_string()))
        .collect();
    assert_eq!(
        pts,
        [
            "1663.9069",
            "831.9529",
            "1663.9069",
            "1663.9069",
            "1663.9074",
            "375.2761",
            "1241.7216",
            "-"
        ]
    );
    assert!(matches!(year.cases[7].grouping, Grouping::Unmatched(_)));

    let [h1, h2] = &year.statements[..] else {
        panic!("two hospitals")
    };
    assert_eq!(h1.hospital_id, "H1");
    assert_eq!((h1.case_count, h1.low_case_count, h1.high_case_count), (5, 1, 1));
    assert_eq!(h1.total_points, Score::parse("7487.5810").unwrap());
    // 7487.5810 × 15.690692 = 117485.3326… → 117485.33
    assert_eq!(h1.points_amount, yuan("117485.33"));
    assert_eq!(h1.self_paid, yuan("15000"));
    assert_eq!(h1.dip_fund_payment, yuan("102485.33"));
    assert_eq!(h1.item_fund_paid, yuan("100000"));
    assert_eq!(h1.difference, yuan("2485.33"));
    assert_eq!(
        h1.explain(),
        "医院H1(三级医院，等级系数1)：入组病例5例(费用超低1例，费用超高1例，特病单议0例)\n\
         DIP分值费用=总分值×结算点值=7487.5810分×15.690692元/分=117485.33(四舍五入到分)\n\
         DIP基金支付=分值费用−患者个人负担=117485.33−15000.00=102485.33\n\
         清算差额=DIP基金支付−按项目已拨付=102485.33−100000.00=2485.33，应补付医院2485.33"
    );

    assert_eq!((h2.case_count, h2.unmatched_case_count), (2, 1));
    assert_eq!(h2.unmatched_item_fund_paid, yuan("1000"));
    // 1616.9977 × 15.690692 = 25371.8137… → 25371.81; − 6000 = 19371.81; − 36000 = −16628.19.
    assert_eq!(h2.points_amount, yuan("25371.81"));
    assert_eq!(h2.dip_fund_payment, yuan("19371.81"));
    assert_eq!(h2.difference, yuan("-16628.19"));
    assert!(h2
        .explain()
        .contains("未入组1例按项目付费(基金已付1000.00，不参与清算)"));
    assert!(h2.explain().ends_with("=-16628.19，应追回16628.19"), "{}", h2.explain());
    // The pool: 117485.33 + 25371.81 = 142857.14 ≈ 100000 ÷ 0.7 = 142857.142857…
    assert_eq!(h1.points_amount + h2.points_amount, yuan("142857.14"));
}

#[test]
fn settlement_refuses_bad_input() {
    let catalog = catalog();
    let settle = |cases: &[SettlementCase]| {
        settle_year(
            &catalog,
            &params(),
            &classifier(),
            cases,
            yuan("1000"),
            Ratio::percent(70),
        )
    };
    let mut cases = year_cases();
    cases[1].hospital_level = level(2);
    let err = settle(&cases).unwrap_err();
    assert!(
        err.to_string().contains("医院H1的等级为二级，与此前病例的三级不一致"),
        "{err}"
    );
    let mut cases = year_cases();
    cases[0].self_paid = Money::from_fen(-1);
    assert!(settle(&cases).unwrap_err().to_string().contains("个人负担-0.01"));
    assert_eq!(settle(&[]), Err(DipError::NoCases));
    // Only unmatched cases: no points to share the pool.
    assert_eq!(settle(&year_cases()[7..]), Err(DipError::NoPoints));
}
