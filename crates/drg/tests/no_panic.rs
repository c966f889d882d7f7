//! `group` never panics, whatever the codes.

mod common;

use proptest::prelude::*;
use yibao_drg::{classify, group, Case, DischargeMethod, GroupCode, Sex};

fn code() -> impl Strategy<Value = String> {
    prop_oneof![
        "[A-Z][0-9]{2}\\.[0-9x]{3}(x[0-9]{3})?",
        "[0-9]{2}\\.[0-9x]{2,4}(x[0-9]{3})?",
        ".{0,40}",
        Just("I21.001".to_owned()),
        Just("36.0601".to_owned()),
        Just("S01.800x011".to_owned()),
        Just("B35.000".to_owned()),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]
    #[test]
    fn group_never_panics(
        sex in prop_oneof![Just(Sex::Male), Just(Sex::Female), Just(Sex::Unknown)],
        age_years in any::<u16>(),
        age_days in proptest::option::of(any::<u16>()),
        birth_weight_g in proptest::option::of(any::<u32>()),
        diagnoses in proptest::collection::vec(code(), 0..60),
        procedures in proptest::collection::vec(code(), 0..60),
    ) {
        let case = Case {
            sex, age_years, age_days, birth_weight_g, los_days: 3,
            discharge_method: DischargeMethod::Ordered, diagnoses, procedures, ventilation_hours: 0,
        };
        let t = common::tables();
        let g = group(t, &case);
        prop_assert_eq!(classify(t, &case).drg, g.drg);
        prop_assert!(!g.steps.is_empty());
        prop_assert!(g.drg == GroupCode::UNGROUPABLE || g.adrg.is_some() || g.drg.as_str().ends_with("QY"));
    }
}
