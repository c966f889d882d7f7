//! Employer arrears (单位欠费) on SQLite and PostgreSQL: declared from a month, the runs collect
//! nothing from the employer, the arrears check suspends its employees once the grace months
//! have passed (and no one else), they cannot be covered meanwhile, and a back payment charges
//! every missed month, books it, and resumes them.

use std::collections::BTreeSet;

use serde_json::{json, Value};
use yibao_codes::InsuranceType;
use yibao_money::Money;
use yibao_platform::{AdminRequest, ImportRow, Platform};

mod common;
use common::{chongqing, demo_employer_rows, demo_import_row, on_postgres, on_sqlite, start_platform};

async fn admin(platform: &Platform, request: Value) -> Result<Value, String> {
    platform
        .admin(serde_json::from_value(request).unwrap())
        .await
        .map_err(|e| e.message)
}

async fn run(platform: &Platform, month: &str) -> Value {
    admin(platform, json!({ "request": "contribution_run", "month": month }))
        .await
        .unwrap()
}

async fn arrears_loop(url: &str) {
    let platform = start_platform(
        url,
        chongqing(&["2023.toml"], &["contribution/2024.toml", "contribution/2026.toml"]),
    );
    let employers = demo_employer_rows();
    platform
        .admin(AdminRequest::ImportEmployers { rows: employers })
        .await
        .unwrap();
    // Demo person i works for employer i % DEMO_EMPLOYERS: persons 200000 + k·DEMO_EMPLOYERS
    // share employer 0, and 200001… work elsewhere.
    let indexes: Vec<usize> = (0..30)
        .map(|k| 200_000 + k * yibao_demo::DEMO_EMPLOYERS)
        .chain(200_001..200_031)
        .collect();
    let rows: Vec<ImportRow> = indexes
        .iter()
        .enumerate()
        .map(|(line, &i)| demo_import_row(line as u64 + 2, i))
        .collect();
    platform
        .admin(AdminRequest::Import { rows: rows.clone() })
        .await
        .unwrap();
    let debtor = yibao_demo::demo_employer(0).credit_code;
    let staff: BTreeSet<String> = rows
        .iter()
        .filter(|r| r.employer.as_deref() == Some(debtor.as_str()))
        .map(|r| r.certno.clone())
        .collect();
    assert!(staff.len() >= 5, "employer 0 has staff: {}", staff.len());

    run(&platform, "2026-01").await;
    run(&platform, "2026-02").await;
    // Arrears start at a month not yet run, once.
    let declare = |month: &str| json!({ "request": "employer_arrears", "credit_code": debtor, "from_month": month });
    let late = admin(&platform, declare("2026-02")).await.unwrap_err();
    assert!(late.contains("已核定征收"), "{late}");
    admin(&platform, declare("2026-03")).await.unwrap();
    let twice = admin(&platform, declare("2026-04")).await.unwrap_err();
    assert!(twice.contains("已登记自202603起欠费"), "{twice}");

    for month in ["2026-03", "2026-04", "2026-05", "2026-06"] {
        let answer = run(&platform, month).await;
        assert_eq!(answer["not_collected_in_arrears"], staff.len(), "{answer}");
    }
    // Three months unpaid is the grace; the fourth suspends, from its first day.
    let may = admin(&platform, json!({ "request": "arrears_check", "month": "2026-05" }))
        .await
        .unwrap();
    assert_eq!(may["suspended"], json!([]), "{may}");
    let june = admin(&platform, json!({ "request": "arrears_check", "month": "2026-06" }))
        .await
        .unwrap();
    let mut suspended = BTreeSet::new();
    for s in june["suspended"].as_array().unwrap() {
        assert_eq!(s["reason"], "连续欠缴3个月", "{s}");
        suspended.insert(s["person_no"].as_str().unwrap().to_owned());
    }
    let mut staff_nos = BTreeSet::new();
    for certno in &staff {
        let person = admin(&platform, json!({ "request": "person", "certno": certno }))
            .await
            .unwrap();
        assert_eq!(person["psn_insu_stas"], "2", "{person}");
        staff_nos.insert(person["person_no"].as_str().unwrap().to_owned());
    }
    assert_eq!(suspended, staff_nos, "exactly the debtor's employees");
    let certno = staff.iter().next().unwrap();
    let coverage = admin(
        &platform,
        json!({ "request": "coverage", "certno": certno, "insurance": "310", "date": "2026-06-15" }),
    )
    .await
    .unwrap();
    assert_eq!(coverage["covered"], false, "{coverage}");
    assert!(coverage["reason"].as_str().unwrap().contains("连续欠缴"), "{coverage}");

    // The back payment charges the unpaid months before the suspension (March to May: June
    // owes nothing, they were suspended from its first day), books it, and resumes them.
    let paid = admin(
        &platform,
        json!({ "request": "employer_back_pay", "credit_code": debtor, "paid_on": "2026-07-10" }),
    )
    .await
    .unwrap();
    assert_eq!(paid["months"], json!(["202603", "202604", "202605"]), "{paid}");
    assert_eq!(paid["employees"], staff.len());
    let resumed: BTreeSet<String> = paid["resumed"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_owned())
        .collect();
    assert_eq!(resumed, staff_nos);
    let again = admin(
        &platform,
        json!({ "request": "employer_back_pay", "credit_code": debtor, "paid_on": "2026-07-11" }),
    )
    .await
    .unwrap_err();
    assert!(again.contains("没有欠费"), "{again}");
    for certno in &staff {
        let person = admin(&platform, json!({ "request": "person", "certno": certno }))
            .await
            .unwrap();
        assert_eq!(person["psn_insu_stas"], "1", "{person}");
        let periods: Vec<i64> = person["contributions"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|c| c["insutype"] == "310")
            .map(|c| c["period"].as_i64().unwrap())
            .collect();
        assert_eq!(periods, [202601, 202602, 202603, 202604, 202605], "{person}");
        let coverage = admin(
            &platform,
            json!({ "request": "coverage", "certno": certno, "insurance": "310", "date": "2026-07-15" }),
        )
        .await
        .unwrap();
        assert_eq!(coverage["covered"], true, "{coverage}");
    }
    let july = admin(&platform, json!({ "request": "arrears_check", "month": "2026-07" }))
        .await
        .unwrap();
    assert_eq!(july["suspended"], json!([]), "{july}");
    drop(platform);

    // The books balance and every account's history explains its balance.
    tokio::task::block_in_place(|| {
        let mut store = yibao_store::open(url).unwrap();
        for (book, debit, credit) in store.ledger_balances().unwrap() {
            assert_eq!(debit, credit, "book {book}");
        }
        for r in rows.iter().filter(|r| r.insurance == InsuranceType::EmployeeBasic) {
            let person_no = store.enrolment(&r.certno).unwrap().unwrap().person_no;
            let person = store.person(&person_no).unwrap().unwrap();
            let entries = store.account_entries_of_person(&person_no).unwrap();
            let sum: Money = entries.iter().map(|e| e.amount).sum();
            assert_eq!(person.account_balance, sum, "{person_no}");
            if let Some(last) = entries.last() {
                assert_eq!(last.balance_after, sum, "{person_no}");
            }
        }
    });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn arrears_suspend_and_back_pay_resumes_on_sqlite() {
    on_sqlite("arrears", |url| async move { arrears_loop(&url).await }).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn arrears_suspend_and_back_pay_resumes_on_postgres() {
    on_postgres("arrears", |url| async move { arrears_loop(&url).await }).await;
}
