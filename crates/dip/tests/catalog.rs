//! The catalog of the small region in `common`, computed by hand (amounts in fen where noted).
//!
//! Region averages: 2021 (20000+5000)/2 = 12500.00; 2022 (25000+27000+6000)/3 = 19333.33;
//! 2023 157000/10 = 15700.00. M = (1×12500 + 2×19333.33 + 7×15700)/10 = 16106.666 → 16106.67.

mod common;

use common::{case, catalog, classifier, level, params, YEARS};
use yibao_dip::{
    Catalog, DipError, GroupKind, Grouping, PointValue, ProcedureClassifier, Score, TreatmentKind, Unmatched,
};
use yibao_money::Money;

fn yuan(text: &str) -> Money {
    Money::parse_yuan(text).unwrap()
}

#[test]
fn region_average_is_the_1_2_7_weighted_mean_of_yearly_averages() {
    let catalog = catalog();
    let summary = catalog.summary().unwrap();
    assert_eq!(summary.year_case_counts, vec![2, 3, 10]);
    assert_eq!(
        summary.year_total_costs,
        vec![yuan("25000"), yuan("58000"), yuan("157000")]
    );
    assert_eq!(summary.overall_average_cost, yuan("16106.67"));
    assert_eq!(summary.core_group_count, 2);
    assert_eq!(summary.comprehensive_group_count, 3);
    assert_eq!(summary.comprehensive_case_count, 5);
}

#[test]
fn core_group_with_procedures() {
    let catalog = catalog();
    // I21.0 × {36.0601}: 20000 | (25000+27000)/2=26000 | (30000+32000+22000)/3=28000.
    // m = (20000 + 2×26000 + 7×28000)/10 = 26800.00; score = 26800/16106.67×1000 = 1663.9069.
    let g = catalog.by_code("I21.0:36.0601").unwrap();
    assert_eq!(g.kind, GroupKind::Core);
    assert_eq!(g.diagnosis, "I21.0");
    assert_eq!(g.procedures, vec!["36.0601"]);
    assert_eq!(g.year_case_counts, vec![1, 2, 3]);
    assert_eq!(
        g.year_average_costs,
        vec![Some(yuan("20000")), Some(yuan("26000")), Some(yuan("28000"))]
    );
    assert_eq!(g.weighted_average_cost, yuan("26800"));
    assert_eq!(g.score, Score::parse("1663.9069").unwrap());
    // Standard costs: same level in 2023; 一级 had none, so the weighted average.
    assert_eq!(g.level_average_costs, [None, Some(yuan("22000")), Some(yuan("31000"))]);
    assert_eq!(g.standard_cost(level(1)), yuan("26800"));
    assert_eq!(g.standard_cost(level(3)), yuan("31000"));
}

#[test]
fn a_year_without_cases_drops_out_of_the_weights() {
    // J18.9: no 2021 case; m = (2×6000 + 7×8000)/9 = 7555.555… → 7555.56; score 469.0951.
    let catalog = catalog();
    let g = catalog.by_code("J18.9").unwrap();
    assert_eq!(g.year_average_costs, vec![None, Some(yuan("6000")), Some(yuan("8000"))]);
    assert_eq!(g.weighted_average_cost, yuan("7555.56"));
    assert_eq!(g.score, Score::parse("469.0951").unwrap());
    assert!(g.procedures.is_empty());
}

#[test]
fn the_tail_folds_into_comprehensive_groups_by_category_and_treatment() {
    let catalog = catalog();
    let surgery = catalog.by_code("K80:综合:相关手术").unwrap();
    assert_eq!(surgery.kind, GroupKind::Comprehensive);
    assert_eq!(surgery.treatment, Some(TreatmentKind::Surgery));
    assert_eq!(surgery.year_case_counts, vec![0, 0, 3]);
    assert_eq!(surgery.weighted_average_cost, yuan("15000"));
    assert_eq!(surgery.score, Score::parse("931.2912").unwrap());
    let diagnostic = catalog.by_code("K80:综合:诊断性操作").unwrap();
    assert_eq!(diagnostic.weighted_average_cost, yuan("4000"));
    assert_eq!(diagnostic.score, Score::parse("248.3443").unwrap());
    let conservative = catalog.by_code("K80:综合:保守治疗").unwrap();
    assert_eq!(conservative.year_case_counts, vec![1, 0, 0]);
    assert_eq!(conservative.score, Score::parse("310.4304").unwrap());
    assert_eq!(catalog.groups().len(), 5);
    // Core groups first, then comprehensive ones by 类目 and treatment kind.
    let codes: Vec<&str> = catalog.groups().iter().map(|g| g.code.as_str()).collect();
    assert_eq!(
        codes,
        [
            "I21.0:36.0601",
            "J18.9",
            "K80:综合:保守治疗",
            "K80:综合:诊断性操作",
            "K80:综合:相关手术"
        ]
    );
}

#[test]
fn budget_point_value() {
    // Σ w·T = 25000 + 2×58000 + 7×157000 = 1240000 元.
    // Σ score × Σ w·n = 1663.9069×26 + 469.0951×23 + 931.2912×21 + 248.3443×7 + 310.4304×1
    //                 = 75656.7224; 1240000 / 75656.7224 = 16.389819… → 16.389819 (舍去).
    let catalog = catalog();
    assert_eq!(
        catalog.summary().unwrap().budget_point_value,
        Some(PointValue::parse("16.389819").unwrap())
    );
}

#[test]
fn without_a_classifier_every_procedure_is_surgery() {
    let catalog = Catalog::build(&common::cases(), &YEARS, &params(), &ProcedureClassifier::default()).unwrap();
    assert!(catalog.by_code("K80:综合:诊断性操作").is_none());
    assert_eq!(catalog.by_code("K80:综合:相关手术").unwrap().case_count(), 4);
}

#[test]
fn grouping_a_new_case() {
    let catalog = catalog();
    let classifier = classifier();
    let code = |g: Grouping| match g {
        Grouping::Core(i) | Grouping::Comprehensive(i) => catalog.group_at(i).code.clone(),
        Grouping::Unmatched(u) => u.describe(),
    };
    // Core: same 亚目 and same procedure set, whatever the order and duplicates.
    assert_eq!(
        code(catalog.group("I21.009", &["36.0601"], &classifier)),
        "I21.0:36.0601"
    );
    assert!(matches!(
        catalog.group("I21.009", &["36.0601", "36.0601"], &classifier),
        Grouping::Core(_)
    ));
    assert_eq!(code(catalog.group("J18.900", &[] as &[&str], &classifier)), "J18.9");
    // Not core: its 类目 × treatment kind.
    assert_eq!(
        code(catalog.group("K80.501", &["51.2301"], &classifier)),
        "K80:综合:相关手术"
    );
    assert_eq!(
        code(catalog.group("K80.101", &["45.1301", "51.2301"], &classifier)),
        "K80:综合:诊断性操作"
    );
    // I21.0 with another procedure set has no core group and I21 has no comprehensive group.
    assert_eq!(
        catalog.group("I21.001", &["36.0601", "88.5501"], &classifier),
        Grouping::Unmatched(Unmatched::NoGroup {
            category: "I21".into(),
            treatment: TreatmentKind::Surgery
        })
    );
    assert_eq!(
        catalog.group("21.001", &[] as &[&str], &classifier),
        Grouping::Unmatched(Unmatched::BadDiagnosis("21.001".into()))
    );
    assert_eq!(
        catalog.group("I21.001", &["36.06+01"], &classifier),
        Grouping::Unmatched(Unmatched::BadProcedure("36.06+01".into()))
    );
    let many: Vec<String> = (0..33).map(|i| format!("99.{i:02}")).collect();
    assert_eq!(
        catalog.group("I21.001", &many, &classifier),
        Grouping::Unmatched(Unmatched::TooManyProcedures(33))
    );
}

#[test]
fn bad_cases_are_errors_naming_the_case() {
    let params = params();
    let classifier = classifier();
    let build = |cases: Vec<yibao_dip::HistoricalCase>| Catalog::build(&cases, &YEARS, &params, &classifier);
    let err = build(vec![case("x", 2020, 1, "I21.001", &[], 100)]).unwrap_err();
    assert!(
        matches!(err, DipError::BadCase { ref case_id, .. } if case_id == "x"),
        "{err}"
    );
    assert!(err.to_string().contains("年度2020不在目录年度"), "{err}");
    let err = build(vec![case("y", 2021, 1, "I21.001", &[], 0)]).unwrap_err();
    assert!(err.to_string().contains("医疗总费用0.00应大于0"), "{err}");
    let err = build(vec![case("z", 2021, 1, "?", &[], 10)]).unwrap_err();
    assert!(err.to_string().contains("不是ICD-10编码"), "{err}");
    assert_eq!(build(Vec::new()).unwrap_err(), DipError::NoCases);
    let err = Catalog::build(&common::cases(), &[2022, 2023], &params, &classifier).unwrap_err();
    assert!(matches!(err, DipError::Params(_)), "{err}");
    let err = Catalog::build(&common::cases(), &[2023, 2022, 2021], &params, &classifier).unwrap_err();
    assert!(matches!(err, DipError::Params(_)), "{err}");
}

#[test]
fn params_are_checked() {
    let mut p = params();
    assert!(p.validate().is_ok());
    p.low_multiple = yibao_dip::Decimal4::parse("1.5").unwrap();
    assert!(p.validate().is_err());
    let mut p = params();
    p.year_weights = vec![];
    assert!(p.validate().is_err());
    let mut p = params();
    p.reimbursement_ratio = yibao_dip::Decimal4::parse("1.2").unwrap();
    assert!(p.validate().is_err());
    let unknown = format!("{}\nsurprise = 1\n", common::PARAMS);
    let err = toml::from_str::<yibao_dip::DipParams>(&unknown).unwrap_err();
    assert!(err.to_string().contains("surprise"), "{err}");
    let too_precise = common::PARAMS.replace("low_multiple = 0.5", "low_multiple = 0.12345");
    assert!(toml::from_str::<yibao_dip::DipParams>(&too_precise).is_err());
}

#[test]
fn the_chongqing_policy_file_has_valid_dip_parameters() {
    #[derive(serde::Deserialize)]
    struct PolicyFile {
        dip: yibao_dip::DipParams,
    }
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../policies/chongqing/payment/2024.toml"
    );
    let text = std::fs::read_to_string(path).unwrap();
    let file: PolicyFile = toml::from_str(&text).unwrap();
    file.dip.validate().unwrap();
    assert_eq!(file.dip.year_weights, vec![1, 2, 7]);
}

#[test]
fn a_catalog_reads_back_from_its_groups() {
    let built = catalog();
    let again = Catalog::from_groups(built.groups().to_vec()).unwrap();
    assert_eq!(again.groups(), built.groups());
    let mut groups = built.groups().to_vec();
    groups[0].code = "I21.0:36.0602".into();
    assert!(matches!(Catalog::from_groups(groups), Err(DipError::BadGroup { .. })));
    let mut groups = built.groups().to_vec();
    groups.push(groups[1].clone());
    assert!(Catalog::from_groups(groups).unwrap_err().to_string().contains("重复"));
}
