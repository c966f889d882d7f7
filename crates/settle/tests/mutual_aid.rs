//! Family mutual aid (家庭共济) at settlement: a bound family member's account pays what the
//! person's own account left of the parts the benefit's `family_account` lists, up to its
//! balance, and only when the accounts may be used. The visit is published case C04 (a
//! Chongqing resident's 2023 admission: total 52000.00, funds 46374.80, personal 5625.20 of
//! which 2000.00 全自费), settled with the shipped 2023 policy.

use std::path::{Path, PathBuf};

use proptest::prelude::*;
use serde_json::Value;
use yibao_catalog::Catalog;
use yibao_money::Money;
use yibao_policy::{load_policy, Policy};
use yibao_settle::{settle, Person, SettleInput, Settlement, Visit, YearToDate};

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

struct World {
    policy: Policy,
    catalog: Catalog,
    person: Person,
    visit: Visit,
}

/// C04 with the accounts usable, under the 2023 policy text after `edit`.
fn world(edit: impl Fn(String) -> String) -> World {
    let text = std::fs::read_to_string(repo_root().join("crates/settle/tests/cases/C04.json")).unwrap();
    let case: Value = serde_json::from_str(&text).unwrap();
    let policy_text = edit(std::fs::read_to_string(repo_root().join("policies/chongqing/2023.toml")).unwrap());
    let policy = load_policy("chongqing/2023.toml", &policy_text).unwrap_or_else(|e| panic!("{e:#?}"));
    let catalog_text = std::fs::read_to_string(repo_root().join("crates/settle/tests/cases/catalog.csv")).unwrap();
    let mut visit: Visit = serde_json::from_value(case["visit"].clone()).unwrap();
    visit.use_account = true;
    World {
        policy,
        catalog: Catalog::from_csv(&catalog_text).unwrap(),
        person: serde_json::from_value(case["person"].clone()).unwrap(),
        visit,
    }
}

impl World {
    fn settle(&self, own: Money, family: Money) -> Settlement {
        let ytd = YearToDate::new(self.policy.insurance_year(self.visit.begin_date));
        let s = settle(&SettleInput {
            policy: &self.policy,
            catalog: &self.catalog,
            person: &self.person,
            ytd: &ytd,
            account_balance: own,
            family_account_balance: family,
            visit: &self.visit,
        })
        .unwrap();
        s.assert_invariants();
        s
    }
}

fn yuan(text: &str) -> Money {
    Money::parse_yuan(text).unwrap()
}

#[test]
fn the_family_account_pays_the_whole_burden_when_it_can() {
    let w = world(|t| t);
    let s = w.settle(Money::ZERO, yuan("10000"));
    assert_eq!(
        (s.fund_total, s.personal, s.account_pay, s.mutual_aid_pay, s.cash_pay),
        (
            yuan("46374.80"),
            yuan("5625.20"),
            Money::ZERO,
            yuan("5625.20"),
            Money::ZERO
        )
    );
    assert_eq!(s.deltas.mutual_aid_pay, yuan("5625.20"));
    let explanation = s.explain(&w.policy);
    let tail: Vec<&str> = explanation.iter().rev().take(2).rev().map(String::as_str).collect();
    assert_eq!(
        tail,
        [
            "家庭共济账户: 余额10000.00,可支付个人负担5625.20,支付5625.20,余额4374.80",
            "合计: 医疗费总额52000.00=基金支付46374.80+个人账户5625.20+个人现金0.00",
        ]
    );
}

#[test]
fn a_short_family_account_pays_its_balance_and_cash_the_rest() {
    let s = world(|t| t).settle(Money::ZERO, yuan("1000"));
    assert_eq!((s.mutual_aid_pay, s.cash_pay), (yuan("1000"), yuan("4625.20")));
}

#[test]
fn nothing_is_drawn_when_the_accounts_are_not_to_be_used() {
    let mut w = world(|t| t);
    w.visit.use_account = false;
    let s = w.settle(Money::ZERO, yuan("10000"));
    assert_eq!((s.mutual_aid_pay, s.cash_pay), (Money::ZERO, yuan("5625.20")));
    assert!(s
        .explain(&w.policy)
        .iter()
        .any(|l| l.contains("家庭共济账户: 本次不使用个人账户(余额10000.00)")));
}

#[test]
fn a_benefit_without_family_buckets_never_draws_on_it() {
    let w = world(|t| t.replace("family_account = ", "# family_account = "));
    let s = w.settle(Money::ZERO, yuan("10000"));
    assert_eq!((s.mutual_aid_pay, s.cash_pay), (Money::ZERO, yuan("5625.20")));
    assert!(!s.explain(&w.policy).iter().any(|l| l.contains("家庭共济")));
}

/// The own account pays first, taking the parts in their fixed order (全自费 first); the family
/// account then pays only what is left of its own parts.
#[test]
fn the_family_account_pays_what_the_own_account_left_of_its_parts() {
    let w = world(|t| {
        t.replace(
            "family_account = [\"full_self_pay\", \"over_cap\", \"first_self_pay\", \"deductible\", \"coinsurance\", \"above_cap\"]",
            "family_account = [\"deductible\", \"coinsurance\", \"above_cap\"]",
        )
        .replace(
            "when = { insurance = \"390\", medical_type = [\"21\", \"22\", \"23\", \"24\", \"25\", \"26\", \"28\"] }",
            "when = { insurance = \"390\", medical_type = [\"21\", \"22\", \"23\", \"24\", \"25\", \"26\", \"28\"] }\naccount = [\"full_self_pay\", \"over_cap\", \"first_self_pay\", \"deductible\", \"coinsurance\", \"above_cap\"]",
        )
    });
    let s = w.settle(yuan("1500"), yuan("10000"));
    let p = s.personal_parts;
    assert_eq!(p.full_self_pay, yuan("2000"), "C04 has 2000.00 全自费");
    assert_eq!(s.account_pay, yuan("1500"));
    assert_eq!(s.mutual_aid_pay, p.deductible + p.coinsurance + p.above_cap);
    assert_eq!(s.cash_pay, yuan("500") + p.over_cap + p.first_self_pay);
}

proptest! {
    #[test]
    fn accounts_and_cash_always_add_up(own in 0i64..800_000, family in 0i64..800_000, use_account: bool) {
        let mut w = world(|t| t);
        w.visit.use_account = use_account;
        let (own, family) = (Money::from_fen(own), Money::from_fen(family));
        let s = w.settle(own, family);
        prop_assert_eq!(s.account_pay + s.mutual_aid_pay + s.cash_pay, s.personal);
        prop_assert!(s.mutual_aid_pay <= family);
        prop_assert_eq!(s.account_balance_after, own - s.account_pay);
        if !use_account {
            prop_assert_eq!(s.account_pay + s.mutual_aid_pay, Money::ZERO);
        } else {
            // Residents' benefits list no own-account parts: the family pays min(burden, balance).
            prop_assert_eq!(s.mutual_aid_pay, s.personal.min(family));
        }
    }
}
