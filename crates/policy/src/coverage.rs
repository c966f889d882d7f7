//! Coverage: every value table must answer every case its benefit can meet. A ratio table with
//! a row for 一级 and 二级 but none for 三级 is a gap the checker names, so that it is found when
//! the file is written, not when a 三级 hospital settles its first visit.

use yibao_codes::{HospitalLevel, InsuranceType, MedicalType, PersonCategory, PersonType, Tier};

use crate::model::*;

/// The gaps in a policy, each with the line of the stage it is in and a description.
pub fn check_coverage(policy: &Policy) -> Vec<(usize, String)> {
    let mut gaps = Vec::new();
    for benefit in &policy.benefits {
        let mut diseases: Vec<Option<&str>> = Vec::new();
        if benefit.split_by_disease {
            for stage in &benefit.stages {
                collect_diseases(stage, &mut diseases);
            }
        }
        if diseases.is_empty() {
            diseases.push(None);
        }
        for facts in cases(benefit, &diseases) {
            for stage in &benefit.stages {
                if !stage.when.matches(&facts) {
                    continue;
                }
                let describe = |what: &str| {
                    format!(
                        "待遇“{}”阶段“{}”的{what}没有适用于以下情形的行: {}",
                        benefit.id,
                        stage.id,
                        describe_facts(&facts)
                    )
                };
                for (i, band) in stage.bands.iter().enumerate() {
                    if band.ratio.lookup(&facts).is_none() {
                        gaps.push((stage.line, describe(&format!("第{}段比例", i + 1))));
                    }
                }
                if let Some(d) = &stage.deductible {
                    if d.amount.lookup(&facts).is_none() {
                        gaps.push((stage.line, describe("起付线")));
                    }
                    if d.annual_max.as_ref().is_some_and(|t| t.lookup(&facts).is_none()) {
                        gaps.push((stage.line, describe("年度起付线上限")));
                    }
                    if let Some(Subsequent::Minus { floor, .. }) = &d.subsequent {
                        if floor.lookup(&facts).is_none() {
                            gaps.push((stage.line, describe("起付线下限")));
                        }
                    }
                }
                for (name, table) in [
                    ("年度限额", &stage.caps.annual),
                    ("单次限额", &stage.caps.per_visit),
                    ("年度纳入费用上限", &stage.caps.annual_base),
                ] {
                    if table.as_ref().is_some_and(|t| t.lookup(&facts).is_none()) {
                        gaps.push((stage.line, describe(name)));
                    }
                }
            }
        }
    }
    gaps.sort();
    gaps.dedup();
    gaps.truncate(crate::POLICY_ERRORS_MAX);
    gaps
}

fn collect_diseases<'a>(stage: &'a Stage, out: &mut Vec<Option<&'a str>>) {
    let mut add = |c: &'a Conditions| {
        for d in &c.disease {
            if !out.contains(&Some(d.as_str())) {
                out.push(Some(d.as_str()));
            }
        }
    };
    add(&stage.when);
    for band in &stage.bands {
        band.ratio.rows.iter().for_each(|(c, _)| add(c));
    }
    if let Some(d) = &stage.deductible {
        d.amount.rows.iter().for_each(|(c, _)| add(c));
    }
    for table in [&stage.caps.annual, &stage.caps.per_visit, &stage.caps.annual_base].into_iter().flatten() {
        table.rows.iter().for_each(|(c, _)| add(c));
    }
}

/// Every ordinary case a benefit can meet: each insurance type, person category, level, tier
/// and medical type it allows, with no special group and default visit flags.
fn cases<'a>(benefit: &Benefit, diseases: &[Option<&'a str>]) -> Vec<Facts<'a>> {
    let mut out = Vec::new();
    let insurances: Vec<InsuranceType> = benefit.when.insurance.clone();
    let medical_types: Vec<MedicalType> = benefit.when.medical_type.clone();
    for &insurance in &insurances {
        for &category in PersonCategory::ALL {
            let employee_scheme = matches!(insurance, InsuranceType::EmployeeBasic | InsuranceType::Maternity);
            if employee_scheme != category.is_employee() {
                continue;
            }
            let person_type = PersonType::from_category(category);
            let tiers: &[Option<Tier>] =
                if employee_scheme { &[None] } else { &[Some(Tier::One), Some(Tier::Two)] };
            let age_years = match category {
                PersonCategory::Minor => 10,
                PersonCategory::Retired | PersonCategory::RetiredCadre | PersonCategory::ElderlyResident => 70,
                _ => 40,
            };
            for &tier in tiers {
                for &level in HospitalLevel::ALL {
                    for &medical_type in &medical_types {
                        for &disease in diseases {
                            let facts = Facts {
                                insurance,
                                person_type,
                                tier,
                                groups: GroupSet::default(),
                                civil_servant: false,
                                age_years,
                                medical_type,
                                level,
                                in_county: false,
                                referred: true,
                                disease,
                            };
                            if benefit.when.matches(&facts) {
                                out.push(facts);
                            }
                        }
                    }
                }
            }
        }
    }
    out
}

fn describe_facts(facts: &Facts) -> String {
    let mut text = format!(
        "险种{} {} {} 医疗类别{}",
        facts.insurance.code(),
        facts.person_type.category().name_zh(),
        facts.level.name_zh(),
        facts.medical_type.code()
    );
    if let Some(t) = facts.tier {
        text.push_str(&format!(" {}档", t.number()));
    }
    if let Some(d) = facts.disease {
        text.push_str(&format!(" 病种{d}"));
    }
    text
}
