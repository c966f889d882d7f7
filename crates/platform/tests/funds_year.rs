//! A simulated year of a small region, on SQLite and on PostgreSQL: employers and people
//! imported, resident contributions with their subsidies, twelve monthly employee runs,
//! outpatient settlements through the national interface (some paying from personal accounts,
//! some reversed). Then the funds' books are reconciled with the business records, recomputed
//! independently: every book's income and expenditure equals what the contribution and
//! settlement records imply, every book balances, the per-month totals equal the entries, and
//! every personal account's balance is the sum of its history.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use serde_json::{json, Value};
use yibao_codes::InsuranceType;
use yibao_money::{Money, Quantity, Rounding};
use yibao_platform::{AdminRequest, ImportRow};
use yibao_store::SettlementStatus;

mod common;
use common::{
    call, chongqing, demo_employer_rows, demo_import_row, on_postgres, on_sqlite, register_institution, start_platform,
    INSTITUTION,
};
const PERSONS: usize = 80;
const FIRST_PERSON: usize = 200_000;

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).unwrap()
}

fn money(v: &Value) -> Money {
    v.as_str()
        .map(|s| s.parse().unwrap())
        .unwrap_or_else(|| v.to_string().parse().unwrap())
}

async fn simulate_and_reconcile(url: &str) {
    let platform = start_platform(
        url,
        chongqing(
            &["2019.toml", "2023.toml"],
            &["contribution/2024.toml", "contribution/2026.toml"],
        ),
    );
    register_institution(&platform).await;

    // Employers and people.
    let employers = demo_employer_rows();
    platform
        .admin(AdminRequest::ImportEmployers { rows: employers })
        .await
        .unwrap();
    let rows: Vec<ImportRow> = (FIRST_PERSON..FIRST_PERSON + PERSONS)
        .map(|i| demo_import_row((i - FIRST_PERSON) as u64 + 2, i))
        .collect();
    let imported = platform
        .admin(AdminRequest::Import { rows: rows.clone() })
        .await
        .unwrap();
    assert_eq!(imported["imported"], PERSONS);
    // The same file again is refused whole, every row named.
    let again = platform
        .admin(AdminRequest::Import { rows: rows.clone() })
        .await
        .unwrap_err();
    assert!(
        again.message.contains("第2行: 已在本统筹区参保(重复参保)"),
        "{}",
        again.message
    );
    assert!(
        again
            .message
            .starts_with(&format!("导入文件有{PERSONS}处错误, 全部未导入")),
        "{}",
        again.message
    );

    // Resident contributions, then the twelve monthly runs.
    let residents: Vec<&ImportRow> = rows
        .iter()
        .filter(|r| r.insurance == InsuranceType::ResidentBasic)
        .collect();
    let employees: Vec<&ImportRow> = rows
        .iter()
        .filter(|r| r.insurance == InsuranceType::EmployeeBasic)
        .collect();
    assert!(residents.len() > 10 && employees.len() > 10, "a mixed region");
    for r in &residents {
        platform
            .admin(AdminRequest::ResidentContribution {
                certno: r.certno.clone(),
                paid_on: d(2026, 1, 28),
            })
            .await
            .unwrap();
    }
    for month in 1..=12 {
        let run = platform
            .admin(AdminRequest::ContributionRun {
                month: format!("2026-{month:02}"),
            })
            .await
            .unwrap();
        assert_eq!(run["employees"], employees.len(), "{run}");
    }
    let twice = platform
        .admin(AdminRequest::ContributionRun {
            month: "2026-03".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(twice.message, "2026-03职工医保缴费已核定, 不能重复核定");

    // Outpatient visits, employees paying from their accounts; every third reversed.
    let items: Vec<_> = yibao_demo::demo_items()
        .into_iter()
        .filter(|d| d.price.millionths() > 0)
        .take(40)
        .collect();
    let mut serial = 0;
    let now = yibao_platform::now().format("%Y-%m-%d %H:%M:%S").to_string();
    // Family mutual aid: the eight resident visitors are each bound to an employee's account
    // (not a visitor's), which pays their burden, since residents have no account of their own.
    let mut owners: BTreeMap<String, String> = BTreeMap::new();
    for (k, r) in residents.iter().take(8).enumerate() {
        let owner = employees[employees.len() - 2 - k];
        let bound = platform
            .admin(AdminRequest::Execute {
                certno: owner.certno.clone(),
                name: None,
                wage_monthly: None,
                command: serde_json::from_value(json!({
                    "command": "bind_family", "member": r.certno, "relation": "child", "on": "2026-11-01"
                }))
                .unwrap(),
            })
            .await
            .unwrap();
        assert_eq!(bound["events"][0]["kind"], "family_bound", "{bound}");
        owners.insert(r.certno.clone(), owner.certno.clone());
    }
    // One account at a time pays for a member: a second binding is refused, naming the first.
    let second = platform
        .admin(AdminRequest::Execute {
            certno: employees[0].certno.clone(),
            name: None,
            wage_monthly: None,
            command: serde_json::from_value(json!({
                "command": "bind_family", "member": residents[0].certno, "relation": "parent", "on": "2026-11-02"
            }))
            .unwrap(),
        })
        .await
        .unwrap_err();
    assert!(
        second.message.contains("的个人账户家庭共济,须先解除"),
        "{}",
        second.message
    );
    let mut mutual_aid_total = Money::ZERO;
    let visitors: Vec<&ImportRow> = employees
        .iter()
        .take(12)
        .chain(residents.iter().take(8))
        .copied()
        .collect();
    for (n, r) in visitors.iter().enumerate() {
        let person = platform
            .admin(AdminRequest::Person {
                certno: r.certno.clone(),
            })
            .await
            .unwrap();
        let psn_no = person["person_no"].as_str().unwrap().to_owned();
        let registered = call(
            &platform,
            &mut serial,
            "2201",
            json!({ "data": { "psn_no": psn_no, "insutype": r.insurance.code(), "begntime": now,
                "mdtrt_cert_type": "02", "mdtrt_cert_no": r.certno, "ipt_otp_no": format!("MZ{n}"),
                "atddr_no": "D1", "dr_name": "医生", "dept_code": "A01", "dept_name": "内科", "caty": "A03" } }),
        )
        .await;
        assert_eq!(registered["infcode"], 0, "{registered}");
        let visit_id = registered["output"]["data"]["mdtrt_id"].as_str().unwrap().to_owned();
        let mut total = Money::ZERO;
        let lines: Vec<Value> = (0..3)
            .map(|k| {
                let item = &items[(n * 7 + k * 13) % items.len()];
                let quantity = Quantity::whole(1 + (k as i64 % 2));
                let amount = Money::from_price_quantity(item.price, quantity, Rounding::HalfUp);
                total += amount;
                json!({ "feedetl_sn": k.to_string(), "mdtrt_id": visit_id, "psn_no": psn_no, "chrg_bchno": "1",
                    "fee_ocur_time": now, "med_list_codg": item.item.code.as_str(), "medins_list_codg": format!("L{k}"),
                    "det_item_fee_sumamt": amount.to_string(), "cnt": quantity.to_string(), "pric": item.price.to_string(),
                    "bilg_dept_codg": "A01", "bilg_dept_name": "内科", "bilg_dr_codg": "D1", "bilg_dr_name": "医生" })
            })
            .collect();
        let uploaded = call(&platform, &mut serial, "2204", json!({ "feedetail": lines })).await;
        assert_eq!(uploaded["infcode"], 0, "{uploaded}");
        let settle = json!({ "data": { "psn_no": psn_no, "mdtrt_cert_type": "02", "mdtrt_cert_no": r.certno,
            "med_type": "11", "medfee_sumamt": total.to_string(), "psn_setlway": "01", "mdtrt_id": visit_id,
            "chrg_bchno": "1", "acct_used_flag": "1", "insutype": r.insurance.code() } });
        let answer = call(&platform, &mut serial, "2207", settle).await;
        assert_eq!(answer["infcode"], 0, "{answer}");
        let setlinfo = &answer["output"]["setlinfo"];
        let (acct_pay, mutual_aid) = (money(&setlinfo["acct_pay"]), money(&setlinfo["acct_mulaid_pay"]));
        assert_eq!(
            money(&setlinfo["psn_part_amt"]),
            acct_pay + money(&setlinfo["psn_cash_pay"]),
            "{setlinfo}"
        );
        if owners.contains_key(&r.certno) {
            // A resident has no account: all the account pay is the family's.
            assert!(mutual_aid > Money::ZERO, "{setlinfo}");
            assert_eq!(acct_pay, mutual_aid, "{setlinfo}");
            if n % 3 != 0 {
                mutual_aid_total += mutual_aid;
            }
        } else {
            assert_eq!(mutual_aid, Money::ZERO, "{setlinfo}");
        }
        if n % 3 == 0 {
            let setl_id = answer["output"]["setlinfo"]["setl_id"].as_str().unwrap();
            let cancelled = call(
                &platform,
                &mut serial,
                "2208",
                json!({ "data": { "setl_id": setl_id, "mdtrt_id": visit_id, "psn_no": psn_no } }),
            )
            .await;
            assert_eq!(cancelled["infcode"], 0, "{cancelled}");
        }
    }
    // A contribution paid at the counter is booked with the record of it.
    let payer = employees[1];
    let recorded = platform
        .admin(AdminRequest::Execute {
            certno: payer.certno.clone(),
            name: None,
            wage_monthly: None,
            command: serde_json::from_value(json!({
                "command": "record_contribution", "relationship": 1,
                "first_month": { "year": 2026, "month": 12 }, "last_month": { "year": 2026, "month": 12 },
                "individual_amount": "123.45", "employer_amount": "0", "paid_on": "2026-11-20", "purpose": "regular"
            }))
            .unwrap(),
        })
        .await
        .unwrap();
    assert_eq!(recorded["events"][0]["kind"], "contribution_recorded", "{recorded}");

    // A suspended employee cannot register a visit, and is told why, in enrolment's words.
    let suspended = employees.last().unwrap();
    let answer = platform
        .admin(AdminRequest::Execute {
            certno: suspended.certno.clone(),
            name: None,
            wage_monthly: None,
            command: serde_json::from_value(json!({
                "command": "suspend", "relationship": 1, "on": "2026-11-01", "reason": "单位停缴"
            }))
            .unwrap(),
        })
        .await
        .unwrap();
    assert_eq!(answer["psn_insu_stas"], "2", "{answer}");
    let psn_no = answer["person_no"].as_str().unwrap().to_owned();
    let refused = call(
        &platform,
        &mut serial,
        "2201",
        json!({ "data": { "psn_no": psn_no, "insutype": "310", "begntime": now,
            "mdtrt_cert_type": "02", "mdtrt_cert_no": suspended.certno, "ipt_otp_no": "MZ-S",
            "atddr_no": "D1", "dr_name": "医生", "dept_code": "A01", "dept_name": "内科", "caty": "A03" } }),
    )
    .await;
    let message = refused["err_msg"].as_str().unwrap();
    assert!(message.starts_with("参保人不能享受待遇: "), "{refused}");
    assert!(message.contains("暂停") && message.contains("2026-11-01"), "{refused}");

    // The owners' accounts paid what the settlements in force say, each entry naming the member.
    let mut paid_by_owners = Money::ZERO;
    for (member, owner) in &owners {
        let member_no = platform
            .admin(AdminRequest::Person { certno: member.clone() })
            .await
            .unwrap()["person_no"]
            .as_str()
            .unwrap()
            .to_owned();
        let view = platform
            .admin(AdminRequest::Person { certno: owner.clone() })
            .await
            .unwrap();
        for e in view["account_entries"].as_array().unwrap() {
            if e["counterparty"] == member_no.as_str() {
                assert!(e["kind"] == "family_payment" || e["kind"] == "reversal", "{e}");
                paid_by_owners -= money(&e["amount"]);
            }
        }
    }
    assert_eq!(paid_by_owners, mutual_aid_total, "owners paid the mutual aid in force");
    assert!(mutual_aid_total > Money::ZERO);

    let indicators = platform.admin(AdminRequest::Indicators { year: 2026 }).await.unwrap();
    drop(platform);
    tokio::task::block_in_place(|| reconcile(url, &rows, visitors.len(), &indicators));
}

fn reconcile(url: &str, rows: &[ImportRow], visits: usize, indicators: &Value) {
    // ---- Reconciliation, from the business records alone. ----
    let mut store = yibao_store::open(url).unwrap();
    let mut expected: BTreeMap<(&str, &str), (Money, Money)> = BTreeMap::new();
    let mut add = |book: &'static str, account: &'static str, debit: Money, credit: Money| {
        let e = expected.entry((book, account)).or_default();
        e.0 += debit;
        e.1 += credit;
    };
    let mut person_nos = Vec::new();
    let mut recorded = 0;
    for r in rows {
        let enrolment = store.enrolment(&r.certno).unwrap().unwrap();
        person_nos.push(enrolment.person_no.clone());
        for c in store.contributions_of_person(&enrolment.person_no).unwrap() {
            match c.kind.as_str() {
                "employee" | "flexible" => {
                    // The account part comes from the individual contribution first.
                    let from_individual = c.account_amount.min(c.individual_amount);
                    let from_employer = c.account_amount - from_individual;
                    add(
                        "310100",
                        "employer_contribution_income",
                        Money::ZERO,
                        c.employer_amount - from_employer,
                    );
                    add(
                        "310100",
                        "individual_contribution_income",
                        Money::ZERO,
                        c.individual_amount - from_individual,
                    );
                    add("310100", "bank_deposit", c.pooled_amount, Money::ZERO);
                    add("310200", "employer_contribution_income", Money::ZERO, from_employer);
                    add("310200", "individual_contribution_income", Money::ZERO, from_individual);
                    add("310200", "bank_deposit", c.account_amount, Money::ZERO);
                }
                "retiree" => {
                    add("310100", "transfer_expense", c.account_amount, Money::ZERO);
                    add("310100", "bank_deposit", Money::ZERO, c.account_amount);
                    add("310200", "transfer_income", Money::ZERO, c.account_amount);
                    add("310200", "bank_deposit", c.account_amount, Money::ZERO);
                }
                "resident" => {
                    let critical = c.individual_amount + c.subsidy_amount - c.pooled_amount;
                    add(
                        "390100",
                        "individual_contribution_income",
                        Money::ZERO,
                        c.individual_amount,
                    );
                    add("390100", "bank_deposit", c.individual_amount, Money::ZERO);
                    add("390100", "fiscal_subsidy_income", Money::ZERO, c.subsidy_amount);
                    add("390100", "fiscal_receivable", c.subsidy_amount, Money::ZERO);
                    add("390100", "transfer_expense", critical, Money::ZERO);
                    add("390100", "bank_deposit", Money::ZERO, critical);
                    add("390200", "transfer_income", Money::ZERO, critical);
                    add("390200", "bank_deposit", critical, Money::ZERO);
                }
                "recorded" | "lapse_repair" => {
                    recorded += 1;
                    let book = match c.insurance {
                        InsuranceType::EmployeeBasic => "310100",
                        InsuranceType::ResidentBasic => "390100",
                        other => panic!("unexpected recorded contribution of {other:?}"),
                    };
                    add(book, "employer_contribution_income", Money::ZERO, c.employer_amount);
                    add(book, "individual_contribution_income", Money::ZERO, c.individual_amount);
                    add(
                        book,
                        "bank_deposit",
                        c.employer_amount + c.individual_amount,
                        Money::ZERO,
                    );
                }
                other => panic!("unexpected contribution kind {other}"),
            }
            if !c.large_expense_amount.is_zero() {
                add(
                    "330100",
                    "individual_contribution_income",
                    Money::ZERO,
                    c.large_expense_amount,
                );
                add("330100", "bank_deposit", c.large_expense_amount, Money::ZERO);
            }
        }
    }
    assert_eq!(recorded, 1, "the contribution paid at the counter has its record");
    // Settlements: each fund's pay (and the account's) as expense and payable; a cancelled
    // settlement posted both ways.
    let filter = yibao_store::SettlementFilter {
        institution: INSTITUTION.into(),
        insurance: None,
        clearing_type: None,
        from: d(2000, 1, 1),
        to: d(2100, 1, 1),
        in_force_only: false,
    };
    let settlements = store.settlements(&filter, 10_000).unwrap();
    assert_eq!(settlements.len(), visits);
    let mut in_force = 0;
    for s in &settlements {
        let output: Value = serde_json::from_str(&s.output_json).unwrap();
        let mut paid: Vec<(String, Money)> = output["setldetail"]
            .as_array()
            .unwrap()
            .iter()
            .map(|row| {
                (
                    row["fund_pay_type"].as_str().unwrap().to_owned(),
                    money(&row["fund_payamt"]),
                )
            })
            .collect();
        paid.push(("310200".into(), s.account_pay + s.mutual_aid_pay));
        let times = if s.status == SettlementStatus::Cancelled { 2 } else { 1 };
        in_force += usize::from(s.status == SettlementStatus::Settled);
        for (book, amount) in paid {
            let book: &'static str = Box::leak(book.into_boxed_str());
            for pass in 0..times {
                let (debit, credit) = if pass == 0 {
                    (amount, Money::ZERO)
                } else {
                    (Money::ZERO, amount)
                };
                add(book, "medical_expense", debit, credit);
                add(book, "payable_institution", credit, debit);
            }
        }
    }
    assert!(
        in_force > 0 && in_force < settlements.len(),
        "some reversed, some in force"
    );
    expected.retain(|_, (d, c)| !(d.is_zero() && c.is_zero()));

    let totals = store.ledger_totals(0, 999_912).unwrap();
    let mut ledger: BTreeMap<(String, String), (Money, Money)> = BTreeMap::new();
    for t in &totals {
        let e = ledger.entry((t.book.clone(), t.account.clone())).or_default();
        e.0 += t.debit;
        e.1 += t.credit;
    }
    ledger.retain(|_, (d, c)| !(d.is_zero() && c.is_zero()));
    let expected: BTreeMap<(String, String), (Money, Money)> = expected
        .into_iter()
        .map(|((b, a), v)| ((b.to_owned(), a.to_owned()), v))
        .collect();
    for key in [
        ("310100", "employer_contribution_income"),
        ("310100", "medical_expense"),
        ("310200", "individual_contribution_income"),
        ("310200", "transfer_income"),
        ("310200", "medical_expense"),
        ("330100", "individual_contribution_income"),
        ("390100", "fiscal_subsidy_income"),
        ("390200", "transfer_income"),
    ] {
        assert!(
            ledger.contains_key(&(key.0.to_owned(), key.1.to_owned())),
            "{key:?} was posted: {ledger:?}"
        );
    }
    assert_eq!(ledger, expected, "the books equal what the business records imply");

    // The per-month totals equal the entries, and every book balances.
    let mut per_book: BTreeMap<String, (Money, Money)> = BTreeMap::new();
    for ((book, _), (d, c)) in &ledger {
        let e = per_book.entry(book.clone()).or_default();
        e.0 += *d;
        e.1 += *c;
    }
    for (book, debit, credit) in store.ledger_balances().unwrap() {
        assert_eq!(debit, credit, "book {book} balances");
        let (d, c) = per_book.get(&book).copied().unwrap_or_default();
        assert_eq!((d, c), (debit, credit), "the totals of book {book} equal its entries");
    }

    // Every account's balance is the sum of its history, and each entry says the balance after it.
    for person_no in &person_nos {
        let person = store.person(person_no).unwrap().unwrap();
        let mut balance = Money::ZERO;
        for e in store.account_entries_of_person(person_no).unwrap() {
            balance += e.amount;
            assert_eq!(e.balance_after, balance, "{person_no} {e:?}");
            assert!(!balance.is_negative());
        }
        assert_eq!(person.account_balance, balance, "{person_no}");
    }

    // The indicators report the same income and expenditure as the books.
    let funds = indicators["funds"].as_array().unwrap();
    let fund = |code: &str| funds.iter().find(|f| f["book"] == code).unwrap();
    let income_310100 = ledger
        .iter()
        .filter(|((b, a), _)| b == "310100" && a.ends_with("_income"))
        .map(|(_, (_, c))| *c)
        .sum::<Money>();
    assert_eq!(money(&fund("310100")["income"]), income_310100);
    assert!(fund("310100")["warnings"].is_array());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_year_reconciles_on_sqlite() {
    on_sqlite("funds-year", |url| async move { simulate_and_reconcile(&url).await }).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_year_reconciles_on_postgres() {
    on_postgres("funds_year", |url| async move { simulate_and_reconcile(&url).await }).await;
}
