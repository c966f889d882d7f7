//! Every ADRG must be reachable from a case built out of its own published definition.

mod common;

use std::collections::HashSet;

use yibao_drg::{classify, group, AdrgDefinition, AdrgKind, Case, Sex, Tables};

fn valid_dx<'a>(t: &Tables, codes: impl IntoIterator<Item = &'a str>) -> Vec<&'a str> {
    codes
        .into_iter()
        .filter(|c| t.is_known_diagnosis(c) && !t.is_grey_diagnosis(c))
        .collect()
}

fn valid_px<'a>(t: &Tables, codes: impl IntoIterator<Item = &'a str>) -> Vec<&'a str> {
    codes
        .into_iter()
        .filter(|c| t.is_known_procedure(c) && !t.is_grey_procedure(c))
        .collect()
}

/// Procedure lists (each a full `procedures` vector) that satisfy the ADRG's procedure condition.
fn procedure_candidates<'t>(t: &'t Tables, a: &AdrgDefinition<'t>) -> Vec<Vec<&'t str>> {
    if let Some(main) = a.main_procedures() {
        return valid_px(t, main).into_iter().map(|p| vec![p]).collect();
    }
    if !a.procedure_alternatives().is_empty() {
        let tables: Vec<Vec<&str>> = a.procedure_tables().into_iter().map(|s| valid_px(t, s)).collect();
        let mut out = Vec::new();
        for alt in a.procedure_alternatives() {
            for k in 0..20 {
                let combo: Option<Vec<&str>> = alt.iter().map(|&i| tables[i].get(k).copied()).collect();
                if let Some(c) = combo {
                    out.push(c);
                }
            }
        }
        return out;
    }
    if a.requires_or_procedure() {
        // Any operating-room procedure: take some from surgical ADRGs of other MDCs (not pre-MDC).
        return t
            .adrgs()
            .filter(|o| o.kind() == AdrgKind::Surgical && o.mdc() != a.mdc() && o.mdc().as_str() != "MDCA")
            .filter_map(|o| o.main_procedures())
            .flat_map(|list| valid_px(t, list).into_iter().take(2))
            .map(|p| vec![p])
            .collect();
    }
    vec![vec![]]
}

fn principal_candidates<'t>(t: &'t Tables, a: &AdrgDefinition<'t>) -> Vec<&'t str> {
    let letter = a.mdc().as_str().as_bytes()[3];
    let mdc_list = if letter == b'A' {
        t.mdc_principal_diagnoses(b'F')
    } else {
        t.mdc_principal_diagnoses(letter)
    };
    match a.principal_diagnoses() {
        Some(list) if letter == b'A' => valid_dx(t, list),
        Some(list) => valid_dx(t, list.into_iter().filter(|c| mdc_list.contains(c))),
        None => valid_dx(t, mdc_list),
    }
}

fn build(t: &Tables, a: &AdrgDefinition<'_>, principal: &str, procedures: &[&str]) -> Case {
    let letter = a.mdc().as_str().as_bytes()[3];
    let sex = if matches!(letter, b'N' | b'O') {
        Sex::Female
    } else {
        Sex::Male
    };
    let newborn = letter == b'P';
    let mut diagnoses = vec![principal];
    if let Some(any) = a.any_diagnoses() {
        if !any.contains(&principal) {
            diagnoses.push(valid_dx(t, any)[0]);
        }
    }
    if letter == b'Z' {
        // A second trauma diagnosis from another body region.
        let own = t.trauma_regions(principal);
        let other = valid_dx(t, t.mdc_principal_diagnoses(b'Z'))
            .into_iter()
            .find(|c| t.trauma_regions(c).iter().any(|r| !own.contains(r)));
        diagnoses.extend(other);
    }
    let mut case = common::case(sex, if newborn { 0 } else { 45 }, &diagnoses, procedures);
    if newborn {
        case.age_days = Some(a.age_days().map_or(10, |(low, _)| low.max(10)));
        case.birth_weight_g = Some(a.birth_weight_g().map_or(3000, |(low, _)| low.max(1000)));
    }
    case
}

#[test]
fn every_adrg_is_reachable_from_its_definition() {
    let t = common::tables();
    let mut unreachable = Vec::new();
    let all: Vec<AdrgDefinition<'_>> = t.adrgs().collect();
    let rank = |k: AdrgKind| match k {
        AdrgKind::Surgical => 0,
        AdrgKind::Procedure => 1,
        AdrgKind::Medical => 2,
    };
    for (i, a) in all.iter().enumerate() {
        // Prefer codes that no ADRG tried earlier in the same MDC also lists.
        let earlier: Vec<&AdrgDefinition<'_>> = all
            .iter()
            .enumerate()
            .filter(|(j, o)| o.mdc() == a.mdc() && (rank(o.kind()), *j) < (rank(a.kind()), i))
            .map(|(_, o)| o)
            .collect();
        let taken_dx: HashSet<&str> = earlier
            .iter()
            .flat_map(|o| o.principal_diagnoses().unwrap_or_default())
            .collect();
        let taken_px: HashSet<&str> = earlier
            .iter()
            .flat_map(|o| o.main_procedures().unwrap_or_default())
            .collect();
        let mut principals = principal_candidates(t, a);
        principals.sort_by_key(|c| taken_dx.contains(c));
        let mut procedures = procedure_candidates(t, a);
        procedures.sort_by_key(|p| p.iter().any(|c| taken_px.contains(c)));
        let a = *a;
        let mut found = false;
        let mut last = None;
        'search: for p in principals.iter().take(60) {
            for px in procedures.iter().take(60) {
                let case = build(t, &a, p, px);
                let g = classify(t, &case);
                if g.adrg == Some(a.code()) {
                    assert!(
                        a.drgs().contains(&g.drg),
                        "{}: DRG {} not among {:?}",
                        a.code(),
                        g.drg,
                        a.drgs()
                    );
                    found = true;
                    break 'search;
                }
                last = Some(case);
            }
        }
        if !found {
            let why = last
                .map(|c| group(t, &c).steps.join("; "))
                .unwrap_or_else(|| "no candidate case".into());
            unreachable.push(format!("{} {}: {}", a.code(), a.name(), why));
        }
    }
    let reachable = t.adrg_count() - unreachable.len();
    eprintln!("ADRGs reachable from their definitions: {reachable}/{}", t.adrg_count());
    for u in &unreachable {
        eprintln!("  unreachable {u}");
    }
    assert!(unreachable.is_empty(), "{} ADRGs unreachable", unreachable.len());
}
