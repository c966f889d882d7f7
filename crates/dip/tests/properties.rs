//! Properties over random regions and years.
//!
//! - The pool divides exactly: the hospitals' points add up to the year's points, and their
//!   amounts (`points × point value`, each rounded half up to the fen once) add up to
//!   `Σ points × point value` within half a fen per hospital: `|Σ_h amount_h − P·pv| ≤ H/2` fen.
//! - The point value is rounded down: `P·pv ≤ budget ÷ ratio < P·(pv + 0.000001)`.
//! - Every historical case is in exactly one group, and grouping it again finds that group.
//! - Nothing panics, whatever the input: codes, costs, years, parameters, budgets.

use proptest::prelude::*;
use yibao_codes::HospitalLevel;
use yibao_dip::{
    settle_year, Catalog, Decimal4, DipParams, Grouping, HistoricalCase, LevelCoefficients, ProcedureClassifier,
    SettlementCase,
};
use yibao_money::{Money, Ratio};

const YEARS: [i32; 3] = [2021, 2022, 2023];

fn params(core_case_count_min: u32) -> DipParams {
    let d = |t: &str| Decimal4::parse(t).unwrap();
    DipParams {
        core_case_count_min,
        year_weights: vec![1, 2, 7],
        score_scale: 1000,
        low_multiple: d("0.5"),
        high_multiple: d("2"),
        review_multiple: Some(d("5")),
        level_coefficients: LevelCoefficients {
            level_1: d("0.85"),
            level_2: d("0.95"),
            level_3: d("1.05"),
        },
        reimbursement_ratio: d("0.7"),
    }
}

fn level() -> impl Strategy<Value = HospitalLevel> {
    (1i64..=3).prop_map(|n| HospitalLevel::from_number(n).unwrap())
}

/// A small code space, so that keys repeat and both core and comprehensive groups appear.
fn diagnosis() -> impl Strategy<Value = String> {
    (0u8..3, 0u8..3, 0u8..4).prop_map(|(l, c, s)| format!("{}{:02}.{s}01", char::from(b'I' + l), 10 + c))
}

fn procedures() -> impl Strategy<Value = Vec<String>> {
    prop::collection::vec((0u8..4).prop_map(|p| format!("36.060{p}")), 0..3)
}

fn historical() -> impl Strategy<Value = HistoricalCase> {
    (0usize..3, level(), diagnosis(), procedures(), 1i64..5_000_000, 0u8..4).prop_map(
        |(year, hospital_level, principal_diagnosis, procedures, cost_fen, hospital)| HistoricalCase {
            case_id: "h".into(),
            year: YEARS[year],
            hospital_id: format!("H{hospital}"),
            hospital_level,
            principal_diagnosis,
            procedures,
            total_cost: Money::from_fen(cost_fen),
        },
    )
}

fn year_case() -> impl Strategy<Value = SettlementCase> {
    (
        0u8..6,
        diagnosis(),
        procedures(),
        0i64..20_000_000,
        0i64..1_000_000,
        0i64..10_000_000,
    )
        .prop_map(
            |(hospital, principal_diagnosis, procedures, cost_fen, own_fen, item_fen)| SettlementCase {
                case_id: "y".into(),
                // The level follows the hospital, as a hospital has one level.
                hospital_id: format!("H{hospital}"),
                hospital_level: HospitalLevel::from_number(i64::from(hospital % 3) + 1).unwrap(),
                principal_diagnosis,
                procedures,
                total_cost: Money::from_fen(cost_fen),
                self_paid: Money::from_fen(own_fen),
                item_fund_paid: Money::from_fen(item_fen),
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn the_pool_divides_within_half_a_fen_per_hospital(
        history in prop::collection::vec(historical(), 1..200),
        year in prop::collection::vec(year_case(), 1..200),
        threshold in 1u32..6,
        budget_fen in 0i64..100_000_000_000,
        ratio in 1i64..=10_000,
    ) {
        let params = params(threshold);
        let classifier = ProcedureClassifier::default();
        let catalog = Catalog::build(&history, &YEARS, &params, &classifier).unwrap();

        // Every historical case is in one group, and grouping it again finds a group.
        let counted: u64 = catalog.groups().iter().map(|g| g.case_count()).sum();
        prop_assert_eq!(counted, history.len() as u64);
        for case in &history {
            let grouping = catalog.group(&case.principal_diagnosis, &case.procedures, &classifier);
            prop_assert!(!matches!(grouping, Grouping::Unmatched(_)));
        }

        let ratio = Ratio::from_ten_thousandths(ratio).unwrap();
        let budget = Money::from_fen(budget_fen);
        let settled = match settle_year(&catalog, &params, &classifier, &year, budget, ratio) {
            Ok(s) => s,
            Err(yibao_dip::DipError::NoPoints) => return Ok(()),
            // A budget out of all proportion to the points (a 1-fen case against 1亿元 at a
            // 0.01% ratio) gives amounts past the money bound: refused, never wrapped.
            Err(yibao_dip::DipError::OutOfRange(_)) => return Ok(()),
            Err(e) => return Err(TestCaseError::fail(e.to_string())),
        };
        let p = settled.total_points_ten_thousandths;
        let pv = i128::from(settled.point_value.millionths());
        let hospitals = settled.statements.len() as i128;
        let points_sum: i128 = settled.statements.iter().map(|s| i128::from(s.total_points.ten_thousandths())).sum();
        prop_assert_eq!(points_sum, p);
        // Amounts in 10⁻⁸ fen: points (10⁻⁴) × point value (10⁻⁶ 元 = 10⁻⁴ fen).
        let amounts: i128 = settled.statements.iter().map(|s| i128::from(s.points_amount.fen())).sum();
        prop_assert!((amounts * 100_000_000 - p * pv).abs() * 2 <= hospitals * 100_000_000);
        // Rounded down: P·pv ≤ budget ÷ ratio < P·(pv + 10⁻⁶). In 10⁻¹⁴ 元 × ratio units:
        let pool = i128::from(budget_fen) * 1_000_000_000_000; // fen × 10¹² = (budget 元) × 10¹⁴
        let r = i128::from(ratio.ten_thousandths());
        prop_assert!(p * pv * r <= pool);
        prop_assert!(pool < p * (pv + 1) * r);
        for s in &settled.statements {
            prop_assert_eq!(s.dip_fund_payment, s.points_amount - s.self_paid);
            prop_assert_eq!(s.difference, s.dip_fund_payment - s.item_fund_paid);
            prop_assert_eq!(s.point_value, settled.point_value);
        }
    }

    #[test]
    fn nothing_panics_on_arbitrary_input(
        history in prop::collection::vec(
            (any::<i32>(), prop_oneof![diagnosis(), ".{0,12}"], prop::collection::vec(prop_oneof![Just("36.0601".to_owned()), ".{0,24}"], 0..40), any::<i64>(), level()),
            0..40,
        ),
        years in prop::collection::vec(prop_oneof![2020i32..2025, any::<i32>()], 0..6),
        weights in prop::collection::vec(0u32..2_000, 0..6),
        multiples in (0i64..20_000_000, 0i64..20_000_000, prop::option::of(0i64..20_000_000)),
        coefficients in (0i64..20_000_000, 0i64..20_000_000, 0i64..20_000_000),
        threshold in 0u32..4,
        scale in 0u32..20_000,
        year in prop::collection::vec(
            (prop_oneof![diagnosis(), ".{0,12}"], procedures(), any::<i64>(), any::<i64>(), any::<i64>(), level()),
            0..40,
        ),
        budget_fen in any::<i64>(),
        ratio in 0i64..=10_000,
    ) {
        let d = |v: i64| Decimal4::from_ten_thousandths(v).unwrap_or(Decimal4::ONE);
        let params = DipParams {
            core_case_count_min: threshold,
            year_weights: weights,
            score_scale: scale,
            low_multiple: d(multiples.0),
            high_multiple: d(multiples.1),
            review_multiple: multiples.2.map(d),
            level_coefficients: LevelCoefficients { level_1: d(coefficients.0), level_2: d(coefficients.1), level_3: d(coefficients.2) },
            reimbursement_ratio: d(ratio),
        };
        let history: Vec<HistoricalCase> = history
            .into_iter()
            .map(|(y, dx, px, fen, hospital_level)| HistoricalCase {
                case_id: "h".into(),
                year: y,
                hospital_id: "H".into(),
                hospital_level,
                principal_diagnosis: dx,
                procedures: px,
                total_cost: Money::from_fen(fen),
            })
            .collect();
        let classifier = ProcedureClassifier::default();
        let _ = Catalog::build(&history, &years, &params, &classifier);
        // Also on in-window years, so that the build gets past the year check.
        let history: Vec<HistoricalCase> = history
            .into_iter()
            .enumerate()
            .map(|(i, mut c)| { c.year = YEARS[i % 3]; c })
            .collect();
        let built = Catalog::build(&history, &YEARS, &params, &classifier)
            .or_else(|_| Catalog::build(&history, &YEARS, &self::params(1), &classifier));
        if let Ok(catalog) = built {
            let year: Vec<SettlementCase> = year
                .into_iter()
                .map(|(dx, px, cost, own, item, hospital_level)| SettlementCase {
                    case_id: "y".into(),
                    hospital_id: format!("H{}", hospital_level.number()),
                    hospital_level,
                    principal_diagnosis: dx,
                    procedures: px,
                    total_cost: Money::from_fen(cost),
                    self_paid: Money::from_fen(own),
                    item_fund_paid: Money::from_fen(item),
                })
                .collect();
            let ratio = Ratio::from_ten_thousandths(ratio).unwrap();
            let _ = settle_year(&catalog, &params, &classifier, &year, Money::from_fen(budget_fen), ratio);
            let _ = settle_year(&catalog, &self::params(1), &classifier, &year, Money::from_fen(budget_fen), ratio);
            for s in settle_year(&catalog, &self::params(1), &classifier, &year, Money::from_fen(budget_fen.rem_euclid(1 << 40)), ratio).iter().flat_map(|y| &y.statements) {
                let _ = s.explain();
            }
        }
    }
}
