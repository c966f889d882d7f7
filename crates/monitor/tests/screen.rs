//! Screening as data: `cases/screen.txt` holds settled visits beside the suspicions they must
//! produce, against the 两库 in `data/liangku` and the demo region's rule file.

use std::path::Path;

use chrono::{NaiveDate, NaiveDateTime};
use yibao_codes::{CareSetting, HospitalLevel, InsuranceType, Sex};
use yibao_money::{Money, Price, Quantity, Rounding};
use yibao_monitor::{screen, ClaimLine, KnowledgeBase, MonitorPolicy, ScreenVisit};

fn repo() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
}

fn knowledge() -> KnowledgeBase {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(repo().join("data/liangku")).expect("data/liangku") {
        let path = entry.expect("entry").path();
        let name = path.file_name().and_then(|n| n.to_str()).expect("name").to_owned();
        files.push((name, std::fs::read_to_string(&path).expect("read")));
    }
    KnowledgeBase::read(&files).unwrap_or_else(|e| panic!("{e:?}"))
}

fn time(text: &str) -> NaiveDateTime {
    NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M").expect("time")
}

struct Case {
    name: String,
    from: NaiveDate,
    visits: Vec<ScreenVisit>,
    expected: Vec<String>,
}

fn cases() -> Vec<Case> {
    let text = std::fs::read_to_string(repo().join("crates/monitor/tests/cases/screen.txt")).expect("cases");
    let mut cases: Vec<Case> = Vec::new();
    for line in text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
    {
        let (word, rest) = line.split_once(' ').unwrap_or((line, ""));
        let f: Vec<&str> = rest.split(' ').collect();
        let case = cases.last_mut();
        match word {
            "case" => cases.push(Case {
                name: rest.into(),
                from: NaiveDate::MIN,
                visits: Vec::new(),
                expected: Vec::new(),
            }),
            "from" => case.expect("case").from = NaiveDate::parse_from_str(f[0], "%Y-%m-%d").expect("from"),
            "visit" => case.expect("case").visits.push(ScreenVisit {
                settlement_id: f[0].into(),
                visit_id: f[1].into(),
                person_no: f[2].into(),
                institution: f[3].into(),
                sex: Sex::parse(f[4]).expect("sex"),
                birth_date: NaiveDate::parse_from_str(f[5], "%Y-%m-%d").expect("birth"),
                insurance: InsuranceType::parse(f[6]).expect("insutype"),
                setting: if f[7] == "inpatient" {
                    CareSetting::Inpatient
                } else {
                    CareSetting::Outpatient
                },
                level: HospitalLevel::from_number(f[8].parse().expect("level")).expect("level"),
                begin: time(f[9]),
                end: time(f[10]),
                fund_paid: Money::parse_yuan(f[11]).expect("fund"),
                diagnosis: f
                    .get(12)
                    .filter(|d| !d.starts_with("uncovered="))
                    .map(|d| (*d).to_owned()),
                doctor: None,
                lines: Vec::new(),
                refused: Vec::new(),
                not_covered: f
                    .iter()
                    .skip(12)
                    .find_map(|t| t.strip_prefix("uncovered="))
                    .map(|r| r.replace('_', " ")),
            }),
            "line" => {
                let visit = case.expect("case").visits.last_mut().expect("visit");
                let quantity = Quantity::parse(f[2]).expect("quantity");
                let price = Price::parse(f[3]).expect("price");
                visit.lines.push(ClaimLine {
                    sn: f[0].into(),
                    code: f[1].into(),
                    quantity,
                    price,
                    amount: Money::from_price_quantity(price, quantity, Rounding::HalfUp),
                    at: time(f[4]),
                    list_price: None,
                });
                visit.refused.push(f.get(5) == Some(&"refused"));
            }
            "=>" => case.expect("case").expected.push(rest.into()),
            other => panic!("unknown line {other}"),
        }
    }
    cases
}

#[test]
fn each_case_screens_to_what_it_says() {
    let kb = knowledge();
    let text = std::fs::read_to_string(repo().join("policies/chongqing/monitor/2026.toml")).expect("rules");
    let policy = MonitorPolicy::parse("2026.toml", &text).expect("reads");
    let policy_on = |d: NaiveDate| policy.is_effective_on(d).then_some(&policy);
    let cases = cases();
    assert!(cases.len() >= 5);
    let mut failures = Vec::new();
    for case in &cases {
        let found = screen(&kb, &policy_on, &case.visits, case.from, Rounding::HalfUp);
        let got: Vec<String> = found
            .iter()
            .map(|s| {
                let mut parts = vec![s.rule.id().to_owned(), case.visits[s.visit].settlement_id.clone()];
                if let Some(o) = s.other {
                    parts.push(format!("({})", case.visits[o].settlement_id));
                }
                if !s.lines.is_empty() {
                    parts.push(s.lines.join(","));
                }
                parts.push(s.amount.to_string());
                parts.push(s.text.clone());
                parts.join(" ")
            })
            .collect();
        if got != case.expected {
            failures.push(format!(
                "case {}\n  expected:\n    {}\n  got:\n    {}",
                case.name,
                case.expected.join("\n    "),
                got.join("\n    ")
            ));
        }
        // Screening twice finds the same suspicions, with the same keys.
        let again = screen(&kb, &policy_on, &case.visits, case.from, Rounding::HalfUp);
        assert_eq!(found, again, "{}", case.name);
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

fn generated_visit(n: usize, person: &str, institution: &str, at: &str, price: &str) -> ScreenVisit {
    let price = Price::parse(price).expect("price");
    let begin = time(at);
    ScreenVisit {
        settlement_id: format!("S{n}"),
        visit_id: format!("V{n}"),
        person_no: person.into(),
        institution: institution.into(),
        sex: Sex::Female,
        birth_date: NaiveDate::from_ymd_opt(1970, 1, 1).expect("date"),
        insurance: InsuranceType::EmployeeBasic,
        setting: CareSetting::Outpatient,
        level: HospitalLevel::Level2,
        begin,
        end: begin,
        diagnosis: None,
        doctor: None,
        fund_paid: Money::from_yuan(10),
        lines: vec![ClaimLine {
            sn: "1".into(),
            code: "001102000010000".into(),
            quantity: Quantity::whole(1),
            price,
            amount: Money::from_price_quantity(price, Quantity::whole(1), Rounding::HalfUp),
            at: begin,
            list_price: None,
        }],
        refused: vec![false],
        not_covered: None,
    }
}

/// 同级比较 and 结伴就诊 over generated months: six level-2 clinics of 30 visits each (averages
/// 31, 33, 35, 37, 39 and 101 yuan: the lower median 35, the MAD 2, z = 0.6745 × 66 / 2 = 22.2), one at
/// three times its peers' cost per visit; three persons arriving together on three days, beside
/// a crowd hour and a pair that came together on two days only.
#[test]
fn peers_and_groups() {
    let kb = knowledge();
    let text = std::fs::read_to_string(repo().join("policies/chongqing/monitor/2026.toml")).expect("rules");
    let policy = MonitorPolicy::parse("2026.toml", &text).expect("reads");
    let policy_on = |d: NaiveDate| policy.is_effective_on(d).then_some(&policy);
    let mut visits = Vec::new();
    for (h, price_base) in [("H1", 30), ("H2", 32), ("H3", 34), ("H4", 36), ("H5", 38), ("H6", 100)] {
        for k in 0..30 {
            let n = visits.len();
            let at = format!("2026-03-{:02}T{:02}:10", k % 28 + 1, 8 + k % 9);
            visits.push(generated_visit(
                n,
                &format!("P{h}{k}"),
                h,
                &at,
                &(price_base + k % 3).to_string(),
            ));
        }
    }
    let found = screen(
        &kb,
        &policy_on,
        &visits,
        NaiveDate::from_ymd_opt(2026, 3, 1).expect("d"),
        Rounding::HalfUp,
    );
    let peers: Vec<&str> = found
        .iter()
        .filter(|s| s.rule.id() == "peer_outlier")
        .map(|s| s.text.as_str())
        .collect();
    assert_eq!(
        peers,
        ["H6二级门诊次均费用101.00, 同级6家中位数35.00, 稳健z值22.2"],
        "{found:?}"
    );

    let mut visits = Vec::new();
    for day in 1..=3 {
        for p in ["G1", "G2", "G3"] {
            let n = visits.len();
            visits.push(generated_visit(
                n,
                p,
                "H1",
                &format!("2026-04-0{day}T09:{:02}", n % 50),
                "50",
            ));
        }
    }
    for day in 1..=2 {
        for p in ["Q1", "Q2"] {
            let n = visits.len();
            visits.push(generated_visit(n, p, "H1", &format!("2026-04-0{day}T15:05"), "50"));
        }
    }
    for c in 0..40 {
        for day in 1..=3 {
            let n = visits.len();
            visits.push(generated_visit(
                n,
                &format!("C{c}"),
                "H2",
                &format!("2026-04-0{day}T10:30"),
                "50",
            ));
        }
    }
    let found = screen(
        &kb,
        &policy_on,
        &visits,
        NaiveDate::from_ymd_opt(2026, 4, 1).expect("d"),
        Rounding::HalfUp,
    );
    let groups: Vec<(&str, Money)> = found
        .iter()
        .filter(|s| s.rule.id() == "co_visit_group")
        .map(|s| (s.text.as_str(), s.amount))
        .collect();
    assert_eq!(
        groups,
        [(
            "3人在H1结伴就诊3天以上(同一医师或同一时段): G1、G2、G3",
            Money::from_yuan(90)
        )],
        "{found:?}"
    );
}

/// Doctors against the doctors of their level, and a group seeing one doctor on the same days
/// at different hours (the doctor, where recorded, is what they share).
#[test]
fn doctors_and_their_groups() {
    let kb = knowledge();
    let text = std::fs::read_to_string(repo().join("policies/chongqing/monitor/2026.toml")).expect("rules");
    let policy = MonitorPolicy::parse("2026.toml", &text).expect("reads");
    let policy_on = |d: NaiveDate| policy.is_effective_on(d).then_some(&policy);
    let with_doctor = |mut v: ScreenVisit, doctor: &str| {
        v.doctor = Some(doctor.into());
        v
    };
    let mut visits = Vec::new();
    // Six doctors of one institution, 30 visits each; D6 charges three times as much. The
    // institutions are alike, so only the doctor stands out.
    for (d, base) in [("D1", 30), ("D2", 32), ("D3", 34), ("D4", 36), ("D5", 38), ("D6", 100)] {
        for k in 0..30 {
            let n = visits.len();
            let at = format!("2026-03-{:02}T{:02}:10", k % 28 + 1, 8 + k % 9);
            let v = generated_visit(n, &format!("P{d}{k}"), "H9", &at, &(base + k % 3).to_string());
            visits.push(with_doctor(v, d));
        }
    }
    for h in ["H1", "H2", "H3", "H4", "H5"] {
        for k in 0..30 {
            let n = visits.len();
            let at = format!("2026-03-{:02}T{:02}:10", k % 28 + 1, 8 + k % 9);
            visits.push(generated_visit(n, &format!("P{h}{k}"), h, &at, "45"));
        }
    }
    let found = screen(
        &kb,
        &policy_on,
        &visits,
        NaiveDate::from_ymd_opt(2026, 3, 1).expect("d"),
        Rounding::HalfUp,
    );
    let peers: Vec<&str> = found
        .iter()
        .filter(|s| s.rule.id() == "peer_outlier" && s.text.starts_with("医师"))
        .map(|s| s.text.as_str())
        .collect();
    assert_eq!(
        peers,
        ["医师D6(H9)二级门诊次均费用101.00, 同级6家中位数35.00, 稳健z值22.2"],
        "{found:?}"
    );

    let mut visits = Vec::new();
    for day in 1..=3 {
        for (k, p) in ["G1", "G2", "G3"].iter().enumerate() {
            let n = visits.len();
            let at = format!("2026-04-0{day}T{:02}:20", 8 + 3 * k);
            visits.push(with_doctor(generated_visit(n, p, "H1", &at, "50"), "D7"));
        }
    }
    let found = screen(
        &kb,
        &policy_on,
        &visits,
        NaiveDate::from_ymd_opt(2026, 4, 1).expect("d"),
        Rounding::HalfUp,
    );
    let groups: Vec<&str> = found
        .iter()
        .filter(|s| s.rule.id() == "co_visit_group")
        .map(|s| s.text.as_str())
        .collect();
    assert_eq!(
        groups,
        ["3人在H1结伴就诊3天以上(同一医师或同一时段): G1、G2、G3"],
        "{found:?}"
    );
}
