//! Hand-checked cases across MDCs, against the published CHS-DRG 1.1 tables.

mod common;

use common::{case, tables};
use yibao_drg::{group, Grouping, Reason, Sex};

fn show(g: &Grouping) -> String {
    format!("{} / {:?} / {:?}: {}", g.drg, g.adrg, g.reason, g.steps.join("; "))
}

fn assert_drg(g: &Grouping, drg: &str) {
    assert_eq!(g.drg.as_str(), drg, "{}", show(g));
}

#[test]
fn pre_mdc_heart_transplant() {
    let g = group(tables(), &case(Sex::Male, 50, &["I21.001"], &["37.5100"]));
    assert_drg(&g, "AA19");
    assert_eq!(g.mdc.unwrap().as_str(), "MDCA");
    assert!(g.steps[0].contains("先期分组"), "{}", show(&g));
}

#[test]
fn pre_mdc_ventilation_96_hours() {
    let g = group(tables(), &case(Sex::Female, 70, &["J18.900"], &["96.7201"]));
    assert_eq!(g.adrg.unwrap().as_str(), "AH1", "{}", show(&g));
}

#[test]
fn circulatory_stent_and_medical() {
    let t = tables();
    let g = group(t, &case(Sex::Male, 61, &["I21.001"], &["36.0601"]));
    assert_eq!(g.mdc.unwrap().as_str(), "MDCF");
    assert_drg(&g, "FM19");
    assert_eq!(g.steps[0], "主要诊断I21.001属于MDCF");
    assert!(g.steps[1].starts_with("主要手术36.0601进入ADRG FM1"), "{}", show(&g));
    let g = group(t, &case(Sex::Male, 61, &["I21.001"], &[]));
    assert_drg(&g, "FR19");
}

/// An operating-room procedure that no surgical ADRG of the case's MDC lists. CHS-DRG 1.1
/// publishes no ambiguity group (`xQY`: none among its 628 DRGs), so the case is grouped by its
/// principal diagnosis among the MDC's medical ADRGs, and the step says so. Each row: principal
/// and other diagnoses, procedures, the MDC and the ADRG it lands in. The procedures are
/// operations of other MDCs (81.96 joint repair, 80.99 joint excision, 85.21 breast excision,
/// 51.82 sphincterotomy, 35.21 aortic
/// valve replacement).
const OR_PROCEDURE_OUTSIDE_THE_MDC: &[(&[&str], &[&str], &str, &str)] = &[
    (&["I21.001"], &["51.2300"], "MDCF", "FR1"),
    (&["S01.800x031"], &["81.9600x009"], "MDCB", "BY1"),
    (&["M24.309"], &["51.8200x001"], "MDCI", "IS1"),
    (&["A18.301"], &["80.9900x002"], "MDCH", "HZ1"),
    (&["C38.000"], &["85.2100x003"], "MDCF", "FZ1"),
    (&["S00.102"], &["35.2100x003"], "MDCV", "VR1"),
    // Multiple trauma (two regions) whose only procedure is no MDCZ operation: 且无手术 holds.
    (&["S01.800x011", "S21.101"], &["35.2100x003"], "MDCZ", "ZZ1"),
];

#[test]
fn or_procedure_outside_the_mdc_is_grouped_medically_in_1_1() {
    let t = tables();
    let mut wrong = Vec::new();
    for (diagnoses, procedures, mdc, adrg) in OR_PROCEDURE_OUTSIDE_THE_MDC {
        let g = group(t, &case(Sex::Male, 45, diagnoses, procedures));
        let got = (
            g.mdc.map(|m| m.as_str().to_owned()),
            g.adrg.map(|a| a.as_str().to_owned()),
        );
        let explained = g.steps.iter().any(|s| s.contains("QY歧义组，按主要诊断进入内科ADRG"));
        if got != (Some((*mdc).to_owned()), Some((*adrg).to_owned())) || !explained || g.reason != Reason::Grouped {
            wrong.push(format!(
                "{diagnoses:?} {procedures:?}: expected {mdc}/{adrg}, got {}",
                show(&g)
            ));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

/// A scheme that does publish the ambiguity group (as CHS-DRG 2.0 and 3.0 do): the same case
/// goes there.
#[test]
fn or_procedure_outside_the_mdc_is_ambiguous_where_the_scheme_has_the_group() {
    let mut texts = common::texts();
    texts.files[2].push_str("\nFQY 歧义组\n");
    let t = yibao_drg::Tables::load(&texts.view()).expect("tables load");
    let g = group(&t, &case(Sex::Male, 61, &["I21.001"], &["51.2300"]));
    assert_drg(&g, "FQY");
    assert_eq!(g.reason, Reason::AmbiguousProcedure);
    assert_eq!(g.mdc.unwrap().as_str(), "MDCF");
    assert_eq!(g.adrg, None);
    // Where the procedure is an operation of MDCZ itself, 且无手术 does not hold for ZZ1.
    let g = group(
        tables(),
        &case(Sex::Male, 30, &["S01.800x011", "S21.101"], &["81.9600x009"]),
    );
    assert_eq!(g.mdc.unwrap().as_str(), "MDCZ", "{}", show(&g));
    let adrg = g.adrg.map(|a| a.as_str().to_owned()).unwrap_or_default();
    assert!(
        ["ZC1", "ZJ1"].contains(&adrg.as_str()),
        "an MDCZ operation: {}",
        show(&g)
    );
}

#[test]
fn cc_exclusion_works_both_ways() {
    let t = tables();
    // B35.000 (须癣) is a CC whose exclusion table is 表7-15.
    assert_eq!(t.cc_exclusion_table("B35.000"), Some("7-15"));
    assert!(t.exclusion_table("7-15").unwrap().contains(&"B37.100"));
    assert!(!t.exclusion_table("7-15").unwrap().contains(&"B06.800"));

    // Principal B37.100 (肺念珠菌病) is in 表7-15: the CC does not count.
    let g = group(t, &case(Sex::Male, 40, &["B37.100", "B35.000"], &[]));
    assert_drg(&g, "ES25");
    assert!(
        g.steps.iter().any(|s| s.contains("B35.000为CC，但被表7-15排除")),
        "{}",
        show(&g)
    );

    // Principal B06.800 (same ADRG ES2) is not in 表7-15: the same CC raises the DRG.
    let g = group(t, &case(Sex::Male, 40, &["B06.800", "B35.000"], &[]));
    assert_drg(&g, "ES23");
    assert!(
        g.steps.iter().any(|s| s == "其他诊断B35.000为CC(未被表7-15排除)"),
        "{}",
        show(&g)
    );

    // An MCC that is not excluded gives suffix 1.
    let g = group(t, &case(Sex::Male, 40, &["B37.100", "B35.000", "I21.000"], &[]));
    assert_drg(&g, "ES21");

    // The principal diagnosis never counts for itself.
    let g = group(t, &case(Sex::Male, 40, &["B06.800", "B06.800"], &[]));
    assert_drg(&g, "ES25");
}

#[test]
fn newborn() {
    let t = tables();
    let mut c = case(Sex::Female, 0, &["P22.000"], &[]);
    c.age_days = Some(3);
    c.birth_weight_g = Some(3100);
    let g = group(t, &c);
    assert_eq!(g.mdc.unwrap().as_str(), "MDCP", "{}", show(&g));
    assert_eq!(g.adrg.unwrap().as_str(), "PR1", "{}", show(&g));

    // A premature baby under 1500 g: PS1 through "主要诊断或其他诊断" + birth weight.
    let mut c = case(Sex::Male, 0, &["P07.300x001"], &[]);
    c.age_days = Some(2);
    c.birth_weight_g = Some(1200);
    let g = group(t, &c);
    assert_eq!(g.adrg.unwrap().as_str(), "PS1", "{}", show(&g));
    c.birth_weight_g = Some(2200);
    assert_eq!(group(t, &c).adrg.unwrap().as_str(), "PS3");
    // Older than 28 days: the newborn ADRGs no longer apply.
    c.age_days = Some(40);
    assert_ne!(group(t, &c).adrg.map(|a| a.as_str().to_owned()), Some("PS3".into()));

    // Not a newborn: the perinatal principal diagnosis fits no MDC.
    let g = group(t, &case(Sex::Female, 30, &["P22.000"], &[]));
    assert_drg(&g, "0000");
    assert_eq!(g.reason, Reason::NoMdc);
}

#[test]
fn sex_specific_mdcs() {
    let t = tables();
    let g = group(t, &case(Sex::Male, 68, &["C61.x00"], &["60.5x02"]));
    assert_eq!(g.mdc.unwrap().as_str(), "MDCM", "{}", show(&g));
    assert_drg(&g, "MA19");
    let g = group(t, &case(Sex::Female, 68, &["C61.x00"], &["60.5x02"]));
    assert_ne!(
        g.mdc.map(|m| m.as_str().to_owned()),
        Some("MDCM".into()),
        "{}",
        show(&g)
    );
    assert!(g.steps.iter().any(|s| s.contains("不是男性")), "{}", show(&g));

    let g = group(t, &case(Sex::Female, 45, &["C53.000"], &[]));
    assert_eq!(g.mdc.unwrap().as_str(), "MDCN", "{}", show(&g));
    let g = group(t, &case(Sex::Male, 45, &["C53.000"], &[]));
    assert_ne!(
        g.mdc.map(|m| m.as_str().to_owned()),
        Some("MDCN".into()),
        "{}",
        show(&g)
    );
}

#[test]
fn multiple_trauma_needs_two_regions() {
    let t = tables();
    let g = group(t, &case(Sex::Male, 30, &["S01.800x011", "S21.101"], &[]));
    assert_eq!(g.mdc.unwrap().as_str(), "MDCZ", "{}", show(&g));
    assert_eq!(g.adrg.unwrap().as_str(), "ZZ1", "{}", show(&g));
    let g = group(t, &case(Sex::Male, 30, &["S01.800x011"], &[]));
    assert_ne!(g.mdc.unwrap().as_str(), "MDCZ", "{}", show(&g));
}

#[test]
fn code_checks() {
    let t = tables();
    let g = group(t, &case(Sex::Male, 30, &["XYZ.123"], &[]));
    assert_eq!(g.reason, Reason::UnknownPrincipalDiagnosis);
    assert_drg(&g, "0000");
    assert!(t.is_grey_diagnosis("A00.000"));
    let g = group(t, &case(Sex::Male, 30, &["A00.000"], &[]));
    assert_eq!(g.reason, Reason::GreyPrincipalDiagnosis);
    assert!(g.steps[0].contains("灰码"), "{}", show(&g));
    let g = group(t, &case(Sex::Male, 30, &["I21.001"], &["99.9999"]));
    assert_eq!(g.reason, Reason::UnknownMainProcedure);
    let g = group(t, &case(Sex::Male, 30, &[], &[]));
    assert_eq!(g.reason, Reason::NoPrincipalDiagnosis);
    let many: Vec<&str> = vec!["I21.001"; 51];
    let g = group(t, &case(Sex::Male, 30, &many, &[]));
    assert_eq!(g.reason, Reason::InputTooLarge);
    // Unknown secondary codes are ignored with a note.
    let g = group(t, &case(Sex::Male, 61, &["I21.001", "NOPE"], &[]));
    assert_drg(&g, "FR19");
    assert!(g.steps.iter().any(|s| s.contains("NOPE")));
}
