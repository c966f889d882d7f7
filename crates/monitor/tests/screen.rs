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
                diagnosis: f.get(12).map(|d| (*d).to_owned()),
                lines: Vec::new(),
                refused: Vec::new(),
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
