//! The small region the tests compute by hand: 15 historical cases over 2021–2023.

#![allow(dead_code)]

use rustc_hash::FxHashMap;
use yibao_codes::HospitalLevel;
use yibao_dip::{Catalog, DipParams, HistoricalCase, ProcedureClassifier, TreatmentKind};
use yibao_money::Money;

pub const YEARS: [i32; 3] = [2021, 2022, 2023];

pub const PARAMS: &str = r#"
core_case_count_min = 3
year_weights = [1, 2, 7]
score_scale = 1000
low_multiple = 0.5
high_multiple = "2"
review_multiple = 5
reimbursement_ratio = 0.7
level_coefficients = { level_1 = 0.8, level_2 = 0.9, level_3 = 1 }
"#;

pub fn params() -> DipParams {
    toml::from_str(PARAMS).expect("test params")
}

pub fn level(n: i64) -> HospitalLevel {
    HospitalLevel::from_number(n).unwrap()
}

pub fn case(id: &str, year: i32, lv: i64, dx: &str, px: &[&str], yuan: i64) -> HistoricalCase {
    HistoricalCase {
        case_id: id.into(),
        year,
        hospital_id: format!("H{lv}"),
        hospital_level: level(lv),
        principal_diagnosis: dx.into(),
        procedures: px.iter().map(|p| p.to_string()).collect(),
        total_cost: Money::from_yuan(yuan),
    }
}

/// 45.1301 is a diagnostic procedure, 51.2301 a surgery; anything else is surgery.
pub fn classifier() -> ProcedureClassifier {
    let mut kinds = FxHashMap::default();
    kinds.insert("45.1301".to_owned(), TreatmentKind::Diagnostic);
    kinds.insert("51.2301".to_owned(), TreatmentKind::Surgery);
    ProcedureClassifier::new(kinds, TreatmentKind::Surgery)
}

pub fn cases() -> Vec<HistoricalCase> {
    vec![
        // I21.0 × {36.0601}: 6 cases, core.
        case("a1", 2021, 3, "I21.001", &["36.0601"], 20000),
        case("a2", 2022, 3, "I21.002", &["36.0601"], 25000),
        case("a3", 2022, 2, "I21.001", &["36.0601", "36.0601"], 27000),
        case("a4", 2023, 3, "I21.001", &["36.0601"], 30000),
        case("a5", 2023, 3, "I21.003", &["36.0601"], 32000),
        case("a6", 2023, 2, "I21.001", &["36.0601"], 22000),
        // J18.9, conservative: 4 cases, core; no case in 2021.
        case("b1", 2022, 2, "J18.900", &[], 6000),
        case("b2", 2023, 3, "J18.900", &[], 8000),
        case("b3", 2023, 1, "J18.901", &[], 7000),
        case("b4", 2023, 2, "J18.900", &[], 9000),
        // The K80 tail (each key below 3 cases) folds into comprehensive groups of K80.
        case("k1", 2023, 3, "K80.101", &["51.2301"], 15000),
        case("k2", 2023, 3, "K80.102", &["51.2301"], 17000),
        case("k3", 2023, 2, "K80.201", &["51.2301"], 13000),
        case("d1", 2023, 2, "K80.301", &["45.1301"], 4000),
        case("c1", 2021, 1, "K80.001", &[], 5000),
    ]
}

pub fn catalog() -> Catalog {
    Catalog::build(&cases(), &YEARS, &params(), &classifier()).expect("test catalog")
}
