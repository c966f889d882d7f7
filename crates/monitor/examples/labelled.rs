//! The labelled supervision benchmark: a year of generated settlements for a region (clean by
//! construction), with a known number of violations of every rule family injected (the ground
//! truth kept beside each visit), screened with the whole 两库 and the demo region's rule file.
//! Prints, per family, what was injected and found, precision, recall, and the share of clean
//! visits with any finding; and the time the real-time check (as 3102 and settlement run it)
//! and screening took.
//!
//! Run: `cargo run --release -p yibao-monitor --example labelled -- [VISITS] [SEED]`
//! (default 1,000,000 visits, seed 7). Figures are recorded in BENCHMARKS.md.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Instant;

use chrono::{Duration, NaiveDate, NaiveDateTime};
use yibao_codes::{CareSetting, HospitalLevel, InsuranceType, Sex};
use yibao_money::{Money, Price, Quantity, Rounding};
use yibao_monitor::{check_claim, screen, Claim, ClaimLine, KnowledgeBase, MonitorPolicy, RuleId, ScreenVisit};

/// The demo region's deterministic generator.
type Rng = yibao_demo::SplitMix64;

const INSTITUTIONS: usize = 200;
/// Injected violations of each per-visit family, and of each history family.
const INJECTED_PER_FAMILY: usize = 500;
const PEER_OUTLIERS: usize = 4;
const GROUPS: usize = 20;

// Codes the 两库 name, each used compliantly in clean visits and wrongly in injected ones.
const FEMALE_DRUG: &str = "ZD03AAA0043010100166"; // 艾附暖宫丸, 限女性
const MALE_ITEM: &str = "002101030280000"; // 阴茎海绵体造影, 限男性
const CHILD_DRUG: &str = "ZA04CAE0023010100166"; // 儿童清肺口服液
const NEONATE_ITEM: &str = "003112020020000"; // 新生儿测颅压
const WORKING_AGE_ITEM: &str = "003402000320000"; // 职业功能训练
const INJURY_DRUG: &str = "ZH01AAB0066010100716"; // 疤痕止痒软化膏, 限工伤
const INPATIENT_DRUG: &str = "XB05BAU005B002010101415"; // ω-3鱼油脂肪乳, 限住院
const LEVEL2_DRUG: &str = "ZA05CAC0029010102312"; // 参附注射液, 二级及以上
const COURSE_DRUG: &str = "XB01AXA223B002010100156"; // 奥扎格雷钠, 14天
const COURSE_ITEM: &str = "003402000210000"; // 减重支持系统训练, 30天
const CYCLE_ITEM: &str = "002503020030000"; // 糖化血红蛋白, 每15天1次
const DAILY_ITEM: &str = "001102000050000"; // 住院诊查费, 每日1次
const MASTER_ITEM: &str = "001103000010000"; // 急诊监护费 ⊃
const SLAVE_ITEM: &str = "001102000030000"; // 急诊诊查费 (单日)
const MAIN_OPERATION: &str = "003310010140000"; // 胃肠手术组
const SECOND_OPERATION: &str = "003310010160000";
const BED: &str = "001109000010000";

/// The families, in report order.
const FAMILIES: &[RuleId] = &[
    RuleId::DrugSex,
    RuleId::ItemSex,
    RuleId::DrugAge,
    RuleId::ItemAge,
    RuleId::ItemWorkingAge,
    RuleId::DrugScheme,
    RuleId::DrugSetting,
    RuleId::DrugLevel,
    RuleId::DrugCourse,
    RuleId::ItemCourse,
    RuleId::ItemCycle,
    RuleId::DuplicateCharge,
    RuleId::Frequency,
    RuleId::SameIncision,
    RuleId::SplitAdmission,
    RuleId::InpatientOverlap,
    RuleId::OutpatientDuringStay,
    RuleId::BedWithoutCare,
    RuleId::PeerOutlier,
    RuleId::CoVisitGroup,
    RuleId::NotCovered,
];

struct Person {
    no: String,
    sex: Sex,
    birth: NaiveDate,
}

fn line(sn: usize, code: &str, quantity: i64, price_yuan: i64, at: NaiveDateTime, list: bool) -> ClaimLine {
    let price = Price::from_money(Money::from_yuan(price_yuan));
    let quantity = Quantity::whole(quantity);
    ClaimLine {
        sn: sn.to_string(),
        code: code.to_owned(),
        quantity,
        price,
        amount: Money::from_price_quantity(price, quantity, Rounding::HalfUp),
        at,
        list_price: list.then_some(price),
    }
}

fn unlisted(rng: &mut Rng) -> String {
    format!("XJ01CAA{:03}A{:012}", rng.below(1000), rng.below(1_000_000))
}

fn main() {
    let mut args = std::env::args().skip(1);
    let visits_wanted: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(1_000_000);
    let seed: u64 = args.next().and_then(|a| a.parse().ok()).unwrap_or(7);
    let root = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."));
    let mut files = Vec::new();
    for entry in std::fs::read_dir(root.join("data/liangku")).expect("data/liangku") {
        let path = entry.expect("entry").path();
        let name = path.file_name().and_then(|n| n.to_str()).expect("name").to_owned();
        files.push((name, std::fs::read_to_string(&path).expect("read")));
    }
    let kb = KnowledgeBase::read(&files).expect("the 两库 read");
    let text = std::fs::read_to_string(root.join("policies/chongqing/monitor/2026.toml")).expect("rules");
    let policy = MonitorPolicy::parse("2026.toml", &text).expect("rules read");
    let policy_on = |d: NaiveDate| policy.is_effective_on(d).then_some(&policy);

    let started = Instant::now();
    let mut rng = Rng::new(seed);
    let year_start = NaiveDate::from_ymd_opt(2026, 1, 1)
        .expect("date")
        .and_hms_opt(0, 0, 0)
        .expect("time");
    // Persons: about five visits each over the year.
    let persons: Vec<Person> = (0..visits_wanted / 5 + 1)
        .map(|i| {
            let sex = if rng.below(2) == 0 { Sex::Male } else { Sex::Female };
            // Adults 20–59 (working age, not children), so that age rules hold by construction.
            let birth =
                NaiveDate::from_ymd_opt(1967 + rng.below(40) as i32, 1 + rng.below(12) as u32, 1).expect("date");
            Person {
                no: format!("P{i:07}"),
                sex,
                birth,
            }
        })
        .collect();
    let level_of = |institution: usize| match institution % 3 {
        0 => HospitalLevel::Level1,
        1 => HospitalLevel::Level2,
        _ => HospitalLevel::Level3,
    };
    // Institutions' own price levels (±15 %), clean; the injected peer outliers charge double.
    let price_factor: Vec<i64> = (0..INSTITUTIONS).map(|_| 85 + rng.below(31) as i64).collect();
    let peer_outliers: Vec<usize> = (0..PEER_OUTLIERS).map(|k| 7 + k * 37).collect();
    let mut visits: Vec<ScreenVisit> = Vec::with_capacity(visits_wanted + 200);
    let mut truth: Vec<Vec<RuleId>> = Vec::with_capacity(visits_wanted + 200);
    let mut sn = 0usize;
    let mut push = |visits: &mut Vec<ScreenVisit>,
                    truth: &mut Vec<Vec<RuleId>>,
                    person: &Person,
                    institution: usize,
                    setting: CareSetting,
                    begin: NaiveDateTime,
                    end: NaiveDateTime,
                    lines: Vec<ClaimLine>,
                    families: Vec<RuleId>| {
        sn += 1;
        let fund: Money = lines.iter().map(|l| l.amount).sum::<Money>();
        visits.push(ScreenVisit {
            settlement_id: format!("S{sn:08}"),
            visit_id: format!("V{sn:08}"),
            person_no: person.no.clone(),
            institution: format!("H{institution:03}"),
            sex: person.sex,
            birth_date: person.birth,
            insurance: InsuranceType::EmployeeBasic,
            setting,
            level: level_of(institution),
            begin,
            end,
            diagnosis: Some("J18.900".into()),
            doctor: None,
            fund_paid: Money::from_fen(fund.fen() * 7 / 10),
            refused: vec![false; lines.len()],
            not_covered: None,
            lines,
        });
        truth.push(families);
    };

    // Clean visits: each person's visits a month apart (so no history rule can fire), a fifth
    // of them 4-day stays with care every day, the listed codes used as their limits allow.
    let mut made = 0usize;
    'persons: for person in &persons {
        let visits_of_person = 1 + rng.below(9) as usize;
        let mut at = year_start + Duration::days(rng.below(20) as i64) + Duration::hours(8 + rng.below(9) as i64);
        for _ in 0..visits_of_person {
            if made >= visits_wanted {
                break 'persons;
            }
            made += 1;
            let institution = rng.below(INSTITUTIONS as u64) as usize;
            let factor = if peer_outliers.contains(&institution) {
                200
            } else {
                price_factor[institution]
            };
            let price = |base: i64| (base * factor / 100).max(1);
            let inpatient = rng.below(5) == 0;
            let mut lines = Vec::new();
            if inpatient {
                for day in 0..4 {
                    let t = at + Duration::days(day);
                    lines.push(line(lines.len(), BED, 1, price(40), t, false));
                    lines.push(line(lines.len(), DAILY_ITEM, 1, price(12), t, false));
                    lines.push(line(
                        lines.len(),
                        &unlisted(&mut rng),
                        2,
                        price(30 + rng.below(40) as i64),
                        t,
                        false,
                    ));
                }
                match rng.below(6) {
                    0 => lines.push(line(lines.len(), INPATIENT_DRUG, 1, price(120), at, false)),
                    1 if level_of(institution) >= HospitalLevel::Level2 => {
                        lines.push(line(lines.len(), LEVEL2_DRUG, 2, price(45), at, false))
                    }
                    2 => lines.push(line(lines.len(), COURSE_DRUG, 1, price(20), at, false)),
                    _ => {}
                }
            } else {
                for _ in 0..(3 + rng.below(6)) {
                    lines.push(line(
                        lines.len(),
                        &unlisted(&mut rng),
                        1 + rng.below(3) as i64,
                        price(5 + rng.below(80) as i64),
                        at,
                        false,
                    ));
                }
                match rng.below(8) {
                    0 if person.sex == Sex::Female => {
                        lines.push(line(lines.len(), FEMALE_DRUG, 1, price(64), at, false))
                    }
                    1 if person.sex == Sex::Male => lines.push(line(lines.len(), MALE_ITEM, 1, price(300), at, false)),
                    2 => lines.push(line(lines.len(), CYCLE_ITEM, 1, price(50), at, false)),
                    3 => lines.push(line(lines.len(), MASTER_ITEM, 1, price(60), at, false)),
                    _ => {}
                }
            }
            let end = if inpatient {
                at + Duration::days(3) + Duration::hours(4)
            } else {
                at
            };
            let setting = if inpatient {
                CareSetting::Inpatient
            } else {
                CareSetting::Outpatient
            };
            push(
                &mut visits,
                &mut truth,
                person,
                institution,
                setting,
                at,
                end,
                lines,
                Vec::new(),
            );
            at = end + Duration::days(30 + rng.below(20) as i64);
            at = at.date().and_hms_opt(8 + rng.below(9) as u32, 0, 0).expect("time");
            if at.date() > NaiveDate::from_ymd_opt(2026, 12, 20).expect("date") {
                break;
            }
        }
    }
    let clean = visits.len();

    // Injected violations: one family per injected visit, on persons of their own.
    let mut injected = 0usize;
    let injected_person = |k: usize, sex: Sex, birth: NaiveDate| Person {
        no: format!("J{k:07}"),
        sex,
        birth,
    };
    let adult = NaiveDate::from_ymd_opt(1980, 5, 1).expect("date");
    for family in FAMILIES {
        let count = match family {
            RuleId::PeerOutlier => 0, // injected as institutions above
            RuleId::CoVisitGroup => GROUPS,
            _ => INJECTED_PER_FAMILY,
        };
        for k in 0..count {
            injected += 1;
            // Any institution but the injected peer outliers, uniformly (as clean visits are), so
            // injected visits shift no institution's figures against its peers.
            let institution = rng.below(INSTITUTIONS as u64) as usize;
            let institution = if peer_outliers.contains(&institution) {
                institution + 1
            } else {
                institution
            };
            let at = year_start
                + Duration::days(rng.below(330) as i64)
                + Duration::hours(8 + rng.below(9) as i64)
                + Duration::minutes(rng.below(50) as i64);
            let base = || vec![line(0, "XJ01CAA001A000000000001", 1, 30, at, false)];
            let out = |lines: Vec<ClaimLine>| (CareSetting::Outpatient, at, at, lines);
            let stay = |days: i64, extra: Vec<ClaimLine>| {
                let mut lines = Vec::new();
                for d in 0..days {
                    lines.push(line(lines.len(), BED, 1, 40, at + Duration::days(d), false));
                    lines.push(line(
                        lines.len(),
                        "XJ01CAA002A000000000002",
                        1,
                        50,
                        at + Duration::days(d),
                        false,
                    ));
                }
                let n = lines.len();
                lines.extend(extra.into_iter().enumerate().map(|(i, mut l)| {
                    l.sn = (n + i).to_string();
                    l
                }));
                (
                    CareSetting::Inpatient,
                    at,
                    at + Duration::days(days - 1) + Duration::hours(4),
                    lines,
                )
            };
            let mut person = injected_person(injected, Sex::Female, adult);
            let mut inst = institution;
            let (setting, begin, end, lines) = match family {
                RuleId::DrugSex => {
                    person.sex = Sex::Male;
                    let mut l = base();
                    l.push(line(1, FEMALE_DRUG, 1, 64, at, false));
                    out(l)
                }
                RuleId::ItemSex => {
                    let mut l = base();
                    l.push(line(1, MALE_ITEM, 1, 300, at, false));
                    out(l)
                }
                RuleId::DrugAge => {
                    let mut l = base();
                    l.push(line(1, CHILD_DRUG, 1, 30, at, false));
                    out(l)
                }
                RuleId::ItemAge => {
                    let mut l = base();
                    l.push(line(1, NEONATE_ITEM, 1, 50, at, false));
                    out(l)
                }
                RuleId::ItemWorkingAge => {
                    person.birth = NaiveDate::from_ymd_opt(1950, 3, 1).expect("date");
                    let mut l = base();
                    l.push(line(1, WORKING_AGE_ITEM, 1, 40, at, false));
                    out(l)
                }
                RuleId::DrugScheme => {
                    let mut l = base();
                    l.push(line(1, INJURY_DRUG, 1, 25, at, false));
                    out(l)
                }
                RuleId::DrugSetting => {
                    let mut l = base();
                    l.push(line(1, INPATIENT_DRUG, 1, 120, at, false));
                    out(l)
                }
                RuleId::DrugLevel => {
                    inst = 3 * (rng.below(66) as usize); // level 1
                    let mut l = base();
                    l.push(line(1, LEVEL2_DRUG, 1, 45, at, false));
                    out(l)
                }
                RuleId::DrugCourse => {
                    let course = (0..16)
                        .map(|d| line(0, COURSE_DRUG, 1, 20, at + Duration::days(d), false))
                        .collect();
                    stay(16, course)
                }
                RuleId::ItemCourse => {
                    let course = [0, 10, 20, 31]
                        .iter()
                        .map(|d| line(0, COURSE_ITEM, 1, 60, at + Duration::days(*d), false))
                        .collect();
                    stay(32, course)
                }
                RuleId::ItemCycle => {
                    let mut l = base();
                    l.push(line(1, CYCLE_ITEM, 1, 50, at, false));
                    l.push(line(2, CYCLE_ITEM, 1, 50, at, false));
                    out(l)
                }
                RuleId::DuplicateCharge => {
                    let mut l = base();
                    l.push(line(1, MASTER_ITEM, 1, 60, at, false));
                    l.push(line(2, SLAVE_ITEM, 1, 15, at, false));
                    out(l)
                }
                RuleId::Frequency => stay(
                    3,
                    vec![
                        line(0, DAILY_ITEM, 1, 12, at, false),
                        line(0, DAILY_ITEM, 1, 12, at, false),
                    ],
                ),
                RuleId::SameIncision => stay(
                    3,
                    vec![
                        line(0, MAIN_OPERATION, 1, 5000, at, true),
                        line(0, SECOND_OPERATION, 1, 2000, at, true),
                    ],
                ),
                RuleId::SplitAdmission | RuleId::InpatientOverlap | RuleId::OutpatientDuringStay => {
                    // The first visit is clean; the second carries the violation.
                    let (s, b, e, l) = stay(4, Vec::new());
                    push(&mut visits, &mut truth, &person, inst, s, b, e, l, Vec::new());
                    match family {
                        RuleId::SplitAdmission => {
                            let at2 = e + Duration::days(5);
                            let mut lines = Vec::new();
                            for d in 0..3 {
                                lines.push(line(lines.len(), BED, 1, 40, at2 + Duration::days(d), false));
                                lines.push(line(
                                    lines.len(),
                                    "XJ01CAA002A000000000002",
                                    1,
                                    50,
                                    at2 + Duration::days(d),
                                    false,
                                ));
                            }
                            (CareSetting::Inpatient, at2, at2 + Duration::days(2), lines)
                        }
                        RuleId::InpatientOverlap => {
                            inst = (inst + 3) % INSTITUTIONS;
                            let at2 = b + Duration::days(1);
                            let lines = vec![
                                line(0, BED, 1, 40, at2, false),
                                line(1, "XJ01CAA002A000000000002", 1, 50, at2, false),
                            ];
                            (CareSetting::Inpatient, at2, at2 + Duration::days(1), lines)
                        }
                        _ => {
                            inst = (inst + 3) % INSTITUTIONS;
                            let at2 = b + Duration::days(2);
                            (
                                CareSetting::Outpatient,
                                at2,
                                at2,
                                vec![line(0, "XJ01CAA001A000000000001", 1, 30, at2, false)],
                            )
                        }
                    }
                }
                RuleId::BedWithoutCare => {
                    let mut lines = Vec::new();
                    for d in 0..5 {
                        lines.push(line(lines.len(), BED, 1, 40, at + Duration::days(d), false));
                        if d == 0 || d == 4 {
                            lines.push(line(
                                lines.len(),
                                "XJ01CAA002A000000000002",
                                1,
                                50,
                                at + Duration::days(d),
                                false,
                            ));
                        }
                    }
                    (CareSetting::Inpatient, at, at + Duration::days(4), lines)
                }
                RuleId::CoVisitGroup => {
                    // Four persons arriving together on four days; each visit is part of it.
                    for member in 0..4 {
                        let p = injected_person(injected * 10 + member, Sex::Female, adult);
                        for day in 0..4 {
                            let t = at + Duration::days(day * 9) + Duration::minutes(member as i64);
                            push(
                                &mut visits,
                                &mut truth,
                                &p,
                                inst,
                                CareSetting::Outpatient,
                                t,
                                t,
                                vec![line(0, "XJ01CAA001A000000000001", 1, 30, t, false)],
                                vec![RuleId::CoVisitGroup],
                            );
                        }
                    }
                    continue;
                }
                // The enrolment records, as screening reads them, end before the visit.
                RuleId::NotCovered => out(base()),
                RuleId::PeerOutlier => unreachable!("institution-level"),
            };
            push(
                &mut visits,
                &mut truth,
                &person,
                inst,
                setting,
                begin,
                end,
                lines,
                vec![*family],
            );
            if *family == RuleId::NotCovered {
                if let Some(v) = visits.last_mut() {
                    v.not_covered = Some("职工基本医疗保险已终止参保(死亡)".into());
                }
            }
            let _ = k;
        }
    }
    let generated_ms = started.elapsed().as_millis();
    let lines_total: usize = visits.iter().map(|v| v.lines.len()).sum();

    // 3102 / settlement: the real-time check of every visit with the region's rules.
    let started = Instant::now();
    let mut realtime_findings = 0usize;
    for v in &visits {
        let claim = Claim {
            sex: v.sex,
            birth_date: v.birth_date,
            insurance: v.insurance,
            setting: v.setting,
            level: v.level,
            begin_date: v.begin.date(),
            lines: &v.lines,
        };
        realtime_findings += check_claim(&kb, &policy, &claim, Rounding::HalfUp).len();
    }
    let realtime_ms = started.elapsed().as_millis();

    // 事后: screening the year.
    let started = Instant::now();
    let suspicions = screen(&kb, &policy_on, &visits, year_start.date(), Rounding::HalfUp);
    let screen_ms = started.elapsed().as_millis();

    // Score: a visit-level family is found when a suspicion of it names the visit (or, for
    // groups, any member's visit); peer outliers are scored by institution.
    let mut found: Vec<Vec<RuleId>> = vec![Vec::new(); visits.len()];
    let mut outlier_institutions: Vec<String> = Vec::new();
    for s in &suspicions {
        if s.rule == RuleId::PeerOutlier {
            outlier_institutions.push(visits[s.visit].institution.clone());
        } else if s.rule == RuleId::CoVisitGroup {
            let members: Vec<&str> = s.text.rsplit(": ").next().unwrap_or("").split('、').collect();
            for (i, v) in visits.iter().enumerate() {
                if v.institution == visits[s.visit].institution && members.contains(&v.person_no.as_str()) {
                    found[i].push(RuleId::CoVisitGroup);
                }
            }
        } else {
            found[s.visit].push(s.rule);
        }
    }
    outlier_institutions.sort();
    outlier_institutions.dedup();
    println!(
        "{} visits ({} clean, {} injected), {} lines, {} persons, {} institutions; generated in {} ms",
        visits.len(),
        clean,
        visits.len() - clean,
        lines_total,
        persons.len(),
        INSTITUTIONS,
        generated_ms
    );
    println!(
        "real-time check of every visit (3102): {realtime_ms} ms, {realtime_findings} findings; screening: {screen_ms} ms, {} suspicions",
        suspicions.len()
    );
    println!("| family | injected | found | true positives | precision | recall |");
    println!("|---|---|---|---|---|---|");
    let mut all: BTreeMap<&str, (usize, usize, usize)> = BTreeMap::new();
    for family in FAMILIES {
        let (injected, found_n, tp) = if *family == RuleId::PeerOutlier {
            let truth: Vec<String> = peer_outliers.iter().map(|i| format!("H{i:03}")).collect();
            let tp = outlier_institutions.iter().filter(|i| truth.contains(i)).count();
            (truth.len(), outlier_institutions.len(), tp)
        } else {
            let injected = truth.iter().filter(|t| t.contains(family)).count();
            let found_n = found.iter().filter(|f| f.contains(family)).count();
            let tp = truth
                .iter()
                .zip(&found)
                .filter(|(t, f)| t.contains(family) && f.contains(family))
                .count();
            (injected, found_n, tp)
        };
        all.insert(family.id(), (injected, found_n, tp));
        let ratio = |a: usize, b: usize| {
            if b == 0 {
                "–".to_owned()
            } else {
                format!("{:.3}", a as f64 / b as f64)
            }
        };
        println!(
            "| {} {} | {injected} | {found_n} | {tp} | {} | {} |",
            family.id(),
            family.name_zh(),
            ratio(tp, found_n),
            ratio(tp, injected)
        );
    }
    let clean_flagged = found[..clean].iter().filter(|f| !f.is_empty()).count();
    println!(
        "clean visits with any finding: {clean_flagged} of {clean} ({:.4} %); peer outlier institutions flagged: {:?}",
        clean_flagged as f64 * 100.0 / clean as f64,
        outlier_institutions
    );
}
