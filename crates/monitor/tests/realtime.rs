//! The real-time rules as data: `cases/realtime.txt` holds each claim beside the findings it
//! must produce, against the 两库 shipped in `data/liangku` and the demo region's rule file.

use std::path::Path;

use chrono::{NaiveDate, NaiveDateTime};
use yibao_codes::{CareSetting, HospitalLevel, InsuranceType, Sex};
use yibao_money::{Money, Price, Quantity, Rounding};
use yibao_monitor::{check_claim, refusals, Claim, ClaimLine, KnowledgeBase, MonitorPolicy, Role};

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .and_then(Path::parent)
        .expect("crate in crates/")
}

pub fn knowledge() -> KnowledgeBase {
    let dir = repo().join("data/liangku");
    let mut files = Vec::new();
    for entry in std::fs::read_dir(&dir).expect("data/liangku") {
        let path = entry.expect("entry").path();
        if path.extension().is_some_and(|e| e == "csv") {
            let name = path.file_name().and_then(|n| n.to_str()).expect("name").to_owned();
            files.push((name, std::fs::read_to_string(&path).expect("read")));
        }
    }
    files.sort();
    KnowledgeBase::read(&files).unwrap_or_else(|errors| panic!("{errors:?}"))
}

fn region_rules() -> MonitorPolicy {
    let path = repo().join("policies/chongqing/monitor/2026.toml");
    let text = std::fs::read_to_string(&path).expect("rule file");
    MonitorPolicy::parse("2026.toml", &text).unwrap_or_else(|e| panic!("{e:?}"))
}

struct Case {
    name: String,
    person: Vec<String>,
    lines: Vec<ClaimLine>,
    expected: Vec<String>,
}

fn cases() -> Vec<Case> {
    let text =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/cases/realtime.txt")).expect("cases");
    let mut cases: Vec<Case> = Vec::new();
    for line in text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
    {
        let (word, rest) = line.split_once(' ').unwrap_or((line, ""));
        match word {
            "case" => cases.push(Case {
                name: rest.to_owned(),
                person: Vec::new(),
                lines: Vec::new(),
                expected: Vec::new(),
            }),
            "person" => cases.last_mut().expect("case").person = rest.split(' ').map(str::to_owned).collect(),
            "line" => {
                let f: Vec<&str> = rest.split(' ').collect();
                let quantity = Quantity::parse(f[2]).expect("quantity");
                let price = Price::parse(f[3]).expect("price");
                cases.last_mut().expect("case").lines.push(ClaimLine {
                    sn: f[0].to_owned(),
                    code: f[1].to_owned(),
                    quantity,
                    price,
                    amount: Money::from_price_quantity(price, quantity, Rounding::HalfUp),
                    at: NaiveDateTime::parse_from_str(f[4], "%Y-%m-%dT%H:%M").expect("time"),
                    list_price: f
                        .get(5)
                        .and_then(|l| l.strip_prefix("list="))
                        .map(|p| Price::parse(p).expect("list")),
                });
            }
            "=>" => cases.last_mut().expect("case").expected.push(rest.to_owned()),
            other => panic!("unknown case line {other}"),
        }
    }
    cases
}

fn render(claim: &Claim, f: &yibao_monitor::Finding) -> String {
    let lines: Vec<String> = f
        .lines
        .iter()
        .map(|l| match l.role {
            Role::Violating => format!("{}={}", claim.lines[l.line].sn, l.amount),
            Role::Involved => format!("({})", claim.lines[l.line].sn),
        })
        .collect();
    format!(
        "{} {} {} {}",
        f.rule,
        format!("{:?}", f.action).to_lowercase(),
        lines.join(" "),
        f.text
    )
}

#[test]
fn each_case_finds_what_it_says() {
    let kb = knowledge();
    let rules = region_rules();
    let mut failures = Vec::new();
    let cases = cases();
    assert!(cases.len() >= 15, "the case file was read");
    for case in &cases {
        let p = &case.person;
        let claim = Claim {
            sex: Sex::parse(&p[0]).expect("sex"),
            birth_date: NaiveDate::parse_from_str(&p[1], "%Y-%m-%d").expect("birth"),
            insurance: InsuranceType::parse(&p[2]).expect("insutype"),
            setting: match p[3].as_str() {
                "inpatient" => CareSetting::Inpatient,
                "pharmacy" => CareSetting::Pharmacy,
                _ => CareSetting::Outpatient,
            },
            level: HospitalLevel::from_number(p[4].parse().expect("level")).expect("level"),
            begin_date: NaiveDate::parse_from_str(&p[5], "%Y-%m-%d").expect("date"),
            lines: &case.lines,
        };
        let got: Vec<String> = check_claim(&kb, &rules, &claim, Rounding::HalfUp)
            .iter()
            .map(|f| render(&claim, f))
            .collect();
        if got != case.expected {
            failures.push(format!(
                "case {}\n  expected:\n    {}\n  got:\n    {}",
                case.name,
                case.expected.join("\n    "),
                got.join("\n    ")
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn a_line_refused_by_two_rules_is_refused_once() {
    let kb = knowledge();
    let rules = region_rules();
    // A female-only drug given to a man in an outpatient visit at a level-1 clinic: one rule.
    // 参附注射液 (level-2 and above) given to a man at a level-1 clinic, twice on one day: the
    // level rule refuses both lines whole.
    let at = NaiveDateTime::parse_from_str("2026-03-02T09:00", "%Y-%m-%dT%H:%M").expect("time");
    let line = |sn: &str, code: &str| ClaimLine {
        sn: sn.into(),
        code: code.into(),
        quantity: Quantity::whole(1),
        price: Price::parse("45").expect("price"),
        amount: Money::parse_yuan("45").expect("amount"),
        at,
        list_price: None,
    };
    let lines = vec![line("1", "ZA05CAC0029010102312"), line("2", "ZD03AAA0043010100166")];
    let claim = Claim {
        sex: Sex::Male,
        birth_date: NaiveDate::from_ymd_opt(1980, 1, 1).expect("date"),
        insurance: InsuranceType::EmployeeBasic,
        setting: CareSetting::Outpatient,
        level: HospitalLevel::Level1,
        begin_date: at.date(),
        lines: &lines,
    };
    let findings = check_claim(&kb, &rules, &claim, Rounding::HalfUp);
    let refused = refusals(&findings);
    assert_eq!(
        refused
            .iter()
            .map(|r| (r.line, r.amount.to_string()))
            .collect::<Vec<_>>(),
        [(0, "45.00".to_owned()), (1, "45.00".to_owned())]
    );
}
