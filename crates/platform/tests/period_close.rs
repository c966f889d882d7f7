//! Period close (结账) on SQLite and PostgreSQL: a month's income and expense carried into fund
//! balance by closing entries, the close kept across restarts, out-of-order and unfinished
//! periods refused, indicators unchanged by the close, and the store refusing a business entry
//! dated in a closed period.

use chrono::{NaiveDate, NaiveDateTime};
use serde_json::{json, Value};
use yibao_money::Money;
use yibao_platform::{AdminRequest, Platform};
use yibao_store::{LedgerEntry, StoreError, WriteBatch, WriteOp};

mod common;
use common::{chongqing, on_postgres, on_sqlite, start_platform};

fn at(y: i32, m: u32, d: u32) -> NaiveDateTime {
    NaiveDate::from_ymd_opt(y, m, d).unwrap().and_hms_opt(10, 0, 0).unwrap()
}

/// A balanced posting in one book: `debit_account` against `credit_account`.
fn posting(id: &str, book: &str, debit_account: &str, credit_account: &str, yuan: i64, when: NaiveDateTime) -> WriteOp {
    let line = |account: &str, debit: Money, credit: Money| LedgerEntry {
        posting_id: id.into(),
        book: book.into(),
        account: account.into(),
        debit,
        credit,
        settlement_id: id.into(),
        posted_at: when,
    };
    let amount = Money::from_yuan(yuan);
    WriteOp::InsertLedger(vec![
        line(debit_account, amount, Money::ZERO),
        line(credit_account, Money::ZERO, amount),
    ])
}

fn start(url: &str) -> Platform {
    start_platform(url, chongqing(&["2023.toml"], &["contribution/2024.toml"]))
}

async fn close(platform: &Platform, period: &str) -> Result<Value, String> {
    platform
        .admin(AdminRequest::ClosePeriod { period: period.into() })
        .await
        .map_err(|e| e.message)
}

async fn closes_a_period(url: &str) {
    // Two months of 2020 in the employee pooled book: contributions in, benefits out.
    tokio::task::block_in_place(|| {
        let mut store = yibao_store::open(url).unwrap();
        store.migrate().unwrap();
        let ops = vec![
            posting(
                "C1",
                "310100",
                "bank_deposit",
                "employer_contribution_income",
                1200,
                at(2020, 1, 15),
            ),
            posting(
                "S1",
                "310100",
                "medical_expense",
                "payable_institution",
                700,
                at(2020, 1, 20),
            ),
            posting(
                "C2",
                "310100",
                "bank_deposit",
                "employer_contribution_income",
                500,
                at(2020, 2, 10),
            ),
            posting(
                "S2",
                "310100",
                "medical_expense",
                "payable_institution",
                300,
                at(2020, 2, 11),
            ),
            posting(
                "S3",
                "390100",
                "medical_expense",
                "payable_institution",
                90,
                at(2020, 2, 12),
            ),
        ];
        store.commit(&WriteBatch { ops }).unwrap();
    });
    let platform = start(url);
    let january = close(&platform, "2020-01").await.unwrap();
    assert_eq!(
        january,
        json!({
            "period": "2020-01", "closing_entries": 4, "books_not_closed": [],
            "books": [{ "book": "310100", "name": january["books"][0]["name"], "income": "1200.00",
                "expense": "700.00", "carried_to_fund_balance": "500.00",
                "explain": "职工医保统筹基金结余1200.00-700.00=500.00" }],
        })
    );
    // Unfinished, repeated and out-of-order periods are refused.
    let this_month = yibao_platform::now().format("%Y-%m").to_string();
    let unfinished = close(&platform, &this_month).await.unwrap_err();
    assert!(unfinished.contains("尚未结束"), "{unfinished}");
    assert_eq!(close(&platform, "2020-01").await.unwrap_err(), "会计期间2020-01已结账");
    assert_eq!(
        close(&platform, "2019-12").await.unwrap_err(),
        "结账期间必须晚于已结账期间2020-01"
    );
    let bad = platform
        .admin(AdminRequest::ClosePeriod {
            period: "2020-1".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(bad.field.as_deref(), Some("period"));
    drop(platform);

    // After a restart the close is remembered; February carries only February.
    let platform = start(url);
    assert_eq!(close(&platform, "2020-01").await.unwrap_err(), "会计期间2020-01已结账");
    let february = close(&platform, "2020-02").await.unwrap();
    let books: Vec<(&str, &str)> = february["books"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| {
            (
                b["book"].as_str().unwrap(),
                b["carried_to_fund_balance"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(books, [("310100", "200.00"), ("390100", "-90.00")]);
    // The year closes what its months left: nothing.
    let year = close(&platform, "2020").await.unwrap();
    assert_eq!(
        (year["closing_entries"].as_u64(), year["books"].as_array().map(Vec::len)),
        (Some(0), Some(0))
    );
    // Indicators still report the year's income and expenditure.
    let indicators = platform.admin(AdminRequest::Indicators { year: 2020 }).await.unwrap();
    let pooled = indicators["funds"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["book"] == "310100")
        .unwrap();
    assert_eq!(
        (pooled["income"].as_str(), pooled["expenditure"].as_str()),
        (Some("1700.00"), Some("1000.00"))
    );
    drop(platform);

    tokio::task::block_in_place(|| {
        let mut store = yibao_store::open(url).unwrap();
        assert_eq!(store.closing_entries().unwrap().len(), 4 + 6);
        let periods: Vec<String> = store.period_closes().unwrap().into_iter().map(|c| c.period).collect();
        assert_eq!(periods, ["2020-01", "2020-02", "2020"]);
        for (book, debit, credit) in store.ledger_balances().unwrap() {
            assert_eq!(debit, credit, "book {book} balances with its closing entries");
        }
        // A business entry dated in the closed year is refused by the store itself.
        let late = WriteBatch {
            ops: vec![posting(
                "S4",
                "310100",
                "medical_expense",
                "payable_institution",
                1,
                at(2020, 12, 31),
            )],
        };
        assert!(matches!(store.commit(&late), Err(StoreError::Rejected(_))));
        let open = WriteBatch {
            ops: vec![posting(
                "S5",
                "310100",
                "medical_expense",
                "payable_institution",
                1,
                at(2021, 1, 1),
            )],
        };
        store.commit(&open).unwrap();
    });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_period_closes_on_sqlite() {
    on_sqlite("period-close", |url| async move { closes_a_period(&url).await }).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_period_closes_on_postgres() {
    on_postgres("period_close", |url| async move { closes_a_period(&url).await }).await;
}
