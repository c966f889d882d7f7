//! Coverage: every value table must answer every case its benefit can meet. A ratio table with
//! a row for 一级 and 二级 but none for 三级 is a gap the checker names, so that it is found when
//! the file is written, not when a 三级 hospital settles its first visit.

use yibao_codes::{HospitalLevel, InsuranceType, PersonCategory, PersonType, Tier};

use crate::model::*;

/// Where a gap is: the stage's line, the benefit and stage ids, and the table's name.
type GapKey = (usize, String, String, &'static str);

/// The gaps in a policy, each with the line of the stage it is in and a description. Cases
/// that miss the same table are reported once, listed together.
pub fn check_coverage(policy: &Policy) -> Vec<(usize, String)> {
    // (stage line, benefit, stage, table) → the cases that table does not answer.
    let mut gaps: Vec<(GapKey, Vec<String>)> = Vec::new();
    let mut add = |stage: &Stage, benefit: &Benefit, what: &'static str, facts: &Facts| {
        let key = (stage.line, benefit.id.clone(), stage.id.clone(), what);
        let case = describe_facts(facts);
        match gaps.iter_mut().find(|(k, _)| *k == key) {
            Some((_, cases)) => {
                if !cases.contains(&case) {
                    cases.push(case);
                }
            }
            None => gaps.push((key, vec![case])),
        }
    };
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
                for band in &stage.bands {
                    if band.ratio.lookup(&facts).is_none() {
                        add(stage, benefit, "支付比例", &facts);
                    }
                }
                if let Some(d) = &stage.deductible {
                    if d.amount.lookup(&facts).is_none() {
                        add(stage, benefit, "起付线", &facts);
                    }
                    if d.annual_max.as_ref().is_some_and(|t| t.lookup(&facts).is_none()) {
                        add(stage, benefit, "年度起付线上限", &facts);
                    }
                    if let Some(Subsequent::Minus { floor, .. }) = &d.subsequent {
                        if floor.lookup(&facts).is_none() {
                            add(stage, benefit, "起付线下限", &facts);
                        }
                    }
                }
                for (name, table) in [
                    ("年度限额", &stage.caps.annual),
                    ("单次限额", &stage.caps.per_visit),
                    ("年度纳入费用上限", &stage.caps.annual_base),
                ] {
                    if table.as_ref().is_some_and(|t| t.lookup(&facts).is_none()) {
                        add(stage, benefit, name, &facts);
                    }
                }
            }
        }
    }
    let mut out: Vec<(usize, String)> = gaps
        .into_iter()
        .map(|((line, benefit, stage, what), cases)| {
            let shown: Vec<&str> = cases.iter().take(6).map(String::as_str).collect();
            let more = if cases.len() > shown.len() {
                format!(" 等共{}种情形", cases.len())
            } else {
                String::new()
            };
            (
                line,
                format!(
                    "待遇“{benefit}”阶段“{stage}”的{what}没有适用于以下情形的行: {}{more}",
                    shown.join("; ")
                ),
            )
        })
        .collect();
    out.sort();
    out.truncate(crate::POLICY_ERRORS_MAX);
    out
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
    for table in [&stage.caps.annual, &stage.caps.per_visit, &stage.caps.annual_base]
        .into_iter()
        .flatten()
    {
        table.rows.iter().for_each(|(c, _)| add(c));
    }
}

/// The special facts a benefit's conditions mention anywhere: each is tried on top of the
/// ordinary cases, one at a time, so that a table answering only some groups is found.
fn variations(benefit: &Benefit) -> (Vec<yibao_codes::SpecialGroup>, bool, bool, bool) {
    let mut groups = Vec::new();
    let (mut civil_servant, mut in_county, mut unreferred) = (false, false, false);
    let mut visit = |c: &Conditions| {
        for &g in yibao_codes::SpecialGroup::ALL {
            if c.groups.contains(g) && !groups.contains(&g) {
                groups.push(g);
            }
        }
        civil_servant |= c.civil_servant.is_some();
        in_county |= c.in_county.is_some();
        unreferred |= c.referred.is_some();
    };
    for stage in &benefit.stages {
        visit(&stage.when);
        stage.modifiers.iter().for_each(|m| visit(&m.when));
        for band in &stage.bands {
            band.ratio.rows.iter().for_each(|(c, _)| visit(c));
        }
        if let Some(d) = &stage.deductible {
            d.amount.rows.iter().for_each(|(c, _)| visit(c));
        }
        for table in [&stage.caps.annual, &stage.caps.per_visit, &stage.caps.annual_base]
            .into_iter()
            .flatten()
        {
            table.rows.iter().for_each(|(c, _)| visit(c));
        }
    }
    (groups, civil_servant, in_county, unreferred)
}

/// Every case a benefit can meet: each insurance type, person category, level, tier and
/// medical type it allows, first with no special group and default visit flags, then with each
/// special fact its conditions mention.
fn cases<'a>(benefit: &Benefit, diseases: &[Option<&'a str>]) -> Vec<Facts<'a>> {
    let mut out = Vec::new();
    let (groups, civil_servant, in_county, unreferred) = variations(benefit);
    for &insurance in &benefit.when.insurance {
        let employee_scheme = !matches!(
            insurance,
            InsuranceType::ResidentBasic
                | InsuranceType::UrbanResidentBasic
                | InsuranceType::NewRuralCooperative
                | InsuranceType::ResidentCriticalIllness
        );
        for &category in PersonCategory::ALL {
            if employee_scheme != category.is_employee() {
                continue;
            }
            let person_type = PersonType::from_category(category);
            let tiers: &[Option<Tier>] = if employee_scheme {
                &[None]
            } else {
                &[Some(Tier::One), Some(Tier::Two)]
            };
            let age_years = match category {
                PersonCategory::Minor => 10,
                PersonCategory::Retired | PersonCategory::RetiredCadre | PersonCategory::ElderlyResident => 70,
                _ => 40,
            };
            for &tier in tiers {
                for &level in HospitalLevel::ALL {
                    for &medical_type in &benefit.when.medical_type {
                        for &disease in diseases {
                            let base = Facts {
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
                            let mut variants = vec![base];
                            for &g in &groups {
                                variants.push(Facts {
                                    groups: std::iter::once(g).collect(),
                                    ..base
                                });
                            }
                            if civil_servant && employee_scheme {
                                variants.push(Facts {
                                    civil_servant: true,
                                    ..base
                                });
                            }
                            if in_county {
                                variants.push(Facts {
                                    in_county: true,
                                    ..base
                                });
                            }
                            if unreferred {
                                variants.push(Facts {
                                    referred: false,
                                    ..base
                                });
                            }
                            out.extend(variants.into_iter().filter(|f| benefit.when.matches(f)));
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
    // The special fact the case was tried with, so that a gap only one group meets is named.
    for &g in yibao_codes::SpecialGroup::ALL {
        if facts.groups.contains(g) {
            text.push_str(&format!(" {}", g.name_zh()));
        }
    }
    if facts.civil_servant {
        text.push_str(" 公务员");
    }
    if facts.in_county {
        text.push_str(" 本区县内");
    }
    if !facts.referred {
        text.push_str(" 未转诊");
    }
    text
}
