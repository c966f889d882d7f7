//! Every published worked reimbursement case (../shared/cases/published-cases.json), reproduced
//! to the fen by the engine from the shipped policy file alone.
//!
//! Each case is a data file in `tests/cases/`: the person, the visit, the published figures,
//! the engine's figures and, beside them, the expected explanation. Where the published
//! arithmetic is wrong the engine's value is asserted and the deviation is written down; a
//! deviation note whose figures agree again fails the test. Set `UPDATE_EXPECT=1` to rewrite
//! the explanation snapshots after a deliberate change, then review the diff.

use std::path::{Path, PathBuf};

use serde_json::Value;
use yibao_catalog::Catalog;
use yibao_codes::{FundPayType, SettlementField};
use yibao_money::Money;
use yibao_policy::load_policy;
use yibao_settle::{settle, Person, SettleInput, Settlement, Visit, YearToDate};

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// An engine figure by the name the case files use.
fn figure(s: &Settlement, name: &str) -> Money {
    let field = |f| s.field_total(f);
    match name {
        "total" => s.total,
        "full_self_pay" => s.full_self_pay,
        "over_cap" => s.over_cap,
        "first_self_pay" => s.first_self_pay,
        "policy_scope" => s.policy_scope,
        "deductible" => s.deductible,
        "fund_total" => s.fund_total,
        "personal" => s.personal,
        "coinsurance" => s.personal_parts.coinsurance,
        "account_pay" => s.account_pay,
        "cash_pay" => s.cash_pay,
        "account_balance_after" => s.account_balance_after,
        "hifp_pay" => field(SettlementField::PooledFund),
        "hifmi_pay" => field(SettlementField::CriticalIllness),
        "hifob_pay" => field(SettlementField::LargeExpense),
        "cvlserv_pay" => field(SettlementField::CivilServant),
        "maf_pay" => field(SettlementField::MedicalAssistance),
        code => {
            let fund = FundPayType::parse(code).unwrap_or_else(|_| panic!("unknown figure name {code}"));
            s.funds.iter().filter(|f| f.fund == fund).map(|f| f.amount).sum()
        }
    }
}

fn money(v: &Value) -> Money {
    Money::parse_yuan(v.as_str().expect("amounts are strings in case files")).unwrap()
}

fn run_case(file: &str) {
    let path = repo_root().join("crates/settle/tests/cases").join(file);
    let text = std::fs::read_to_string(&path).unwrap();
    let mut case: Value = serde_json::from_str(&text).unwrap();
    let policy_file = repo_root().join("policies").join(case["policy"].as_str().unwrap());
    let policy_text = std::fs::read_to_string(&policy_file).unwrap();
    let policy = load_policy(&policy_file.display().to_string(), &policy_text)
        .unwrap_or_else(|errors| panic!("policy does not check: {errors:#?}"));
    let catalog_text = std::fs::read_to_string(repo_root().join("crates/settle/tests/cases/catalog.csv")).unwrap();
    let catalog = Catalog::from_csv(&catalog_text).unwrap();
    let person: Person = serde_json::from_value(case["person"].clone()).unwrap();
    let visit: Visit = serde_json::from_value(case["visit"].clone()).unwrap();
    let ytd: YearToDate = match case.get("ytd") {
        Some(v) => serde_json::from_value(v.clone()).unwrap(),
        None => YearToDate::new(policy.insurance_year(visit.begin_date)),
    };
    let input = SettleInput {
        policy: &policy,
        catalog: &catalog,
        person: &person,
        ytd: &ytd,
        account_balance: money(&case["account_balance"]),
        family_account_balance: Money::ZERO,
        visit: &visit,
    };
    let settlement = settle(&input).unwrap_or_else(|e| panic!("{file}: {e}"));

    for (name, expected) in case["expect"].as_object().unwrap() {
        assert_eq!(
            figure(&settlement, name),
            money(expected),
            "{file}: engine figure {name}"
        );
    }
    let deviations = case
        .get("deviations")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    for (name, published) in case["published"].as_object().unwrap() {
        let engine_name = case["map"][name]
            .as_str()
            .unwrap_or_else(|| panic!("{file}: no map for {name}"));
        let engine = figure(&settlement, engine_name);
        let published = money(published);
        if deviations.contains_key(name) {
            assert_ne!(
                engine, published,
                "{file}: {name} is noted as a deviation but now agrees"
            );
        } else {
            assert_eq!(engine, published, "{file}: published {name}");
        }
    }

    let explanation = settlement.explain(&policy);
    if std::env::var_os("UPDATE_EXPECT").is_some() {
        case["explanation"] = Value::from(explanation);
        std::fs::write(&path, serde_json::to_string_pretty(&case).unwrap() + "\n").unwrap();
    } else {
        let expected: Vec<String> = serde_json::from_value(case["explanation"].clone())
            .unwrap_or_else(|_| panic!("{file}: no explanation snapshot; run with UPDATE_EXPECT=1"));
        assert_eq!(explanation, expected, "{file}: explanation");
    }
}

macro_rules! cases {
    ($($name:ident => $file:literal,)*) => {
        $( #[test] fn $name() { run_case($file); } )*
    };
}

cases! {
    c01_ningbo_resident_inpatient => "C01.json",
    c03_critical_illness_bands => "C03.json",
    c04_chongqing_yubei_medical_assistance_and_tilt => "C04.json",
    c06a_yangzhou_outpatient_in_service => "C06a.json",
    c06b_yangzhou_outpatient_retiree => "C06b.json",
    c06c_yangzhou_outpatient_limit_reached => "C06c.json",
    c08_guangzhou_critical_illness => "C08.json",
    c10_taian_retiree_inpatient => "C10.json",
    c13a_weifang_tier1 => "C13a_tier1.json",
    c13a_weifang_tier2 => "C13a_tier2.json",
    c13b_weifang_tier1 => "C13b_tier1.json",
    c13b_weifang_tier2 => "C13b_tier2.json",
    c14_xiamen_account_then_cash => "C14.json",
    c15_qingyuan_cap_converted_to_spending => "C15.json",
}
