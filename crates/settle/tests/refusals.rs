//! Lines refused by the region's supervision rules (智能监控 拒付): the refused amount is full
//! self-pay, the rest of the line is split as usual, and the explanation names the rule.
//!
//! Checked by equivalence on published case C01 (`policies/ningbo/2023.toml`): refusing a line
//! whole settles exactly as if it were 丙类, and refusing part of it settles exactly as the
//! unrefused part plus a 丙类 line of the refused amount.

use std::path::Path;

use yibao_catalog::{Catalog, SelfPayReason};
use yibao_money::{Money, Quantity};
use yibao_policy::{load_policy, Policy};
use yibao_settle::{pre_settle, FeeLine, Person, Refusal, SettleError, SettleInput, Settlement, Visit, YearToDate};

fn root() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
}

fn ningbo() -> Policy {
    let text = std::fs::read_to_string(root().join("policies/ningbo/2023.toml")).expect("policy");
    load_policy("ningbo/2023.toml", &text).expect("loads")
}

fn catalog() -> Catalog {
    let text = std::fs::read_to_string(root().join("crates/settle/tests/cases/catalog.csv")).expect("catalog");
    Catalog::from_csv(&text).expect("reads")
}

const PERSON: &str = r#"{ "person_no": "33020000000000000001", "insurance": "390", "person_type": "1501",
    "sex": "1", "birth_date": "1964-05-01", "tier": 1 }"#;

/// Case C01: 丙类 1500, 乙类 50×100, 甲类 155×100.
const VISIT: &str = r#"{
    "visit_id": "C01", "medical_type": "21", "level": "02",
    "begin_date": "2023-09-01", "end_date": "2023-09-12",
    "lines": [
        { "sn": "1", "code": "C02040205800005113250000023", "price": "1500", "quantity": "1" },
        { "sn": "2", "code": "XB03ACY199B002010104718", "price": "50", "quantity": "100" },
        { "sn": "3", "code": "003401000230600", "price": "155", "quantity": "100" }
    ]
}"#;

const CLASS_C: &str = "C02040205800005113250000023";

fn settle(visit: &Visit) -> Result<Settlement, SettleError> {
    let person: Person = serde_json::from_str(PERSON).expect("person");
    let (policy, catalog) = (ningbo(), catalog());
    let ytd = YearToDate::new(2023);
    pre_settle(&SettleInput {
        policy: &policy,
        catalog: &catalog,
        person: &person,
        ytd: &ytd,
        account_balance: Money::ZERO,
        family_account_balance: Money::ZERO,
        visit,
    })
}

fn refusal(rule_id: &str, amount: &str) -> Option<Refusal> {
    Some(Refusal {
        rule_id: rule_id.into(),
        rule_name: "重复收费".into(),
        text: "急诊监护费(单日)已含急诊诊查费,重复收费不予支付".into(),
        amount: Money::parse_yuan(amount).expect("amount"),
    })
}

fn same_money(a: &Settlement, b: &Settlement) {
    assert_eq!(a.total, b.total);
    assert_eq!(a.fund_total, b.fund_total);
    assert_eq!(a.personal, b.personal);
    assert_eq!(a.funds, b.funds);
}

#[test]
fn a_line_refused_whole_settles_as_if_it_were_class_c() {
    let mut refused: Visit = serde_json::from_str(VISIT).expect("visit");
    refused.lines[2].refusal = refusal("duplicate_charge", "15500");
    let mut class_c: Visit = serde_json::from_str(VISIT).expect("visit");
    class_c.lines[2].code = CLASS_C.into();
    class_c.lines[2].price = yibao_money::Price::parse("15500").expect("price");
    class_c.lines[2].quantity = Quantity::whole(1);
    let (a, b) = (settle(&refused).expect("settles"), settle(&class_c).expect("settles"));
    same_money(&a, &b);
    assert_eq!(a.lines[2].split.full_self_pay, Money::parse_yuan("15500").expect("m"));
    assert_eq!(a.lines[2].split.reason, Some(SelfPayReason::Refused));
    let text = a.explain(&ningbo()).join("\n");
    assert!(
        text.contains(
            "明细3 重复收费(duplicate_charge): 急诊监护费(单日)已含急诊诊查费,重复收费不予支付 -15500.00(转全自费)"
        ),
        "{text}"
    );
}

#[test]
fn a_line_refused_in_part_settles_as_its_rest_plus_a_class_c_line() {
    let mut refused: Visit = serde_json::from_str(VISIT).expect("visit");
    refused.lines[1].refusal = refusal("frequency", "2500");
    let mut split: Visit = serde_json::from_str(VISIT).expect("visit");
    split.lines[1].quantity = Quantity::whole(50);
    split.lines.push(FeeLine {
        sn: "4".into(),
        code: CLASS_C.into(),
        quantity: Quantity::whole(1),
        price: yibao_money::Price::parse("2500").expect("price"),
        amount: None,
        date: None,
        disease: None,
        refusal: None,
    });
    let (a, b) = (settle(&refused).expect("settles"), settle(&split).expect("settles"));
    same_money(&a, &b);
    let line = &a.lines[1].split;
    assert_eq!(line.amount, Money::parse_yuan("5000").expect("m"));
    assert_eq!(line.full_self_pay, Money::parse_yuan("2500").expect("m"));
    assert_eq!(
        line.full_self_pay + line.over_cap + line.first_self_pay + line.policy_scope,
        line.amount
    );
}

#[test]
fn a_refusal_beyond_its_line_is_refused_naming_the_field() {
    let mut visit: Visit = serde_json::from_str(VISIT).expect("visit");
    visit.lines[1].refusal = refusal("frequency", "5000.01");
    match settle(&visit) {
        Err(e) => assert_eq!(
            (e.field().to_owned(), e.to_string()),
            (
                "lines[1].refusal.amount".to_owned(),
                "lines[1].refusal.amount: 拒付金额5000.01须大于0且不超过明细金额5000.00".to_owned()
            )
        ),
        Ok(_) => panic!("settled with a refusal above the line"),
    }
}
