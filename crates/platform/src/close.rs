//! Period close (结账) on the platform thread: the books of every fund carried forward for a
//! month or a year, the closing entries posted, and the period shut to business entries.
//!
//! The rules are `yibao_books::Ledger::close` (pure). This module restores the ledger from what
//! the store keeps (per-month totals of the business entries and the closing entries already
//! posted), closes, and queues the closing entries with the period's record in one write. A
//! period can be closed only once it has ended: every business entry is dated when it is
//! posted, so none can arrive for a closed period afterwards (the store refuses one anyway).

use chrono::{NaiveDate, NaiveDateTime};
use serde_json::{json, Value};
use yibao_books::{AccountClass, ClosedPeriod, Entry, Ledger, Month, Origin, Period};
use yibao_money::Money;
use yibao_store::{LedgerEntry, LedgerTotal, PeriodCloseRecord, WriteOp};

use crate::state::State;
use crate::PlatformError;

fn db(e: yibao_store::StoreError) -> PlatformError {
    PlatformError::internal(e.to_string())
}

/// `2026-03` (a month) or `2026` (a year).
pub(crate) fn parse_period(text: &str) -> Result<Period, PlatformError> {
    let bad = || PlatformError::field("period", format!("会计期间“{text}”应写作 YYYY-MM(月)或 YYYY(年)"));
    let (year, month) = match text.split_once('-') {
        Some((y, m)) if y.len() == 4 && m.len() == 2 => (y, Some(m)),
        None if text.len() == 4 => (text, None),
        _ => return Err(bad()),
    };
    let year: u16 = year.parse().map_err(|_| bad())?;
    let first = Month::new(year, month.map_or(Ok(1), str::parse).map_err(|_| bad())?)
        .map_err(|e| PlatformError::field("period", e.to_string()))?;
    Ok(match month {
        Some(_) => Period::Month(first),
        None => Period::Year(year),
    })
}

/// `YYYYMM`, as the store keeps months.
fn yyyymm(month: Month) -> i32 {
    i32::from(month.year()) * 100 + i32::from(month.month())
}

/// 23:59:59, when a period's closing entries are dated.
const LAST_SECOND: chrono::NaiveTime = match chrono::NaiveTime::from_hms_opt(23, 59, 59) {
    Some(t) => t,
    None => chrono::NaiveTime::MIN,
};

fn month_of(yyyymm: i32) -> Result<Month, PlatformError> {
    let year = u16::try_from(yyyymm / 100).map_err(|_| PlatformError::internal(format!("月份{yyyymm}无效")))?;
    Month::new(year, (yyyymm % 100) as u8).map_err(|e| PlatformError::internal(format!("月份{yyyymm}: {e}")))
}

fn first_day(month: Month) -> Result<NaiveDate, PlatformError> {
    NaiveDate::from_ymd_opt(i32::from(month.year()), u32::from(month.month()), 1)
        .ok_or_else(|| PlatformError::internal(format!("月份{month}无效")))
}

/// The business entries the per-month totals stand for (a debit and a credit entry per row),
/// and the books the funds' books do not know (reported, never silently dropped).
pub(crate) fn business_entries(rows: &[LedgerTotal]) -> Result<(Vec<Entry>, Vec<String>), PlatformError> {
    let mut entries = Vec::with_capacity(rows.len() * 2);
    let mut unknown_books: Vec<String> = Vec::new();
    for row in rows {
        let month = month_of(row.period)?;
        for (debit, credit) in [(row.debit, Money::ZERO), (Money::ZERO, row.credit)] {
            if debit.is_zero() && credit.is_zero() {
                continue;
            }
            match Entry::from_stored(&row.book, &row.account, debit, credit, month, Origin::Business) {
                Ok(entry) => entries.push(entry),
                Err(_) => {
                    if !unknown_books.contains(&row.book) {
                        unknown_books.push(row.book.clone());
                    }
                }
            }
        }
    }
    Ok((entries, unknown_books))
}

/// Closes `period_text` on `now`'s date. Refused when the period has not ended, was closed, or
/// comes before a period already closed.
pub(crate) fn close_period(state: &mut State, now: NaiveDateTime, period_text: &str) -> Result<Value, PlatformError> {
    let period = parse_period(period_text)?;
    let through = period.last_month();
    let open_from = first_day(through.plus_months(1))?;
    // The day before the open period: its last day, when closing entries are dated.
    let last_closed_day = open_from
        .pred_opt()
        .ok_or_else(|| PlatformError::internal(format!("会计期间{period}早于公元1年")))?;
    if now.date() < open_from {
        return Err(PlatformError::rule(format!(
            "会计期间{period}尚未结束(结束于{}),不能结账",
            last_closed_day
        )));
    }
    let closes = state.store.period_closes().map_err(db)?;
    if closes.iter().any(|c| c.period == period.to_string()) {
        return Err(PlatformError::rule(format!("会计期间{period}已结账")));
    }
    let closed_through = closes.iter().map(|c| c.through_month).max().map(month_of).transpose()?;
    let rows = state.store.ledger_totals(0, yyyymm(through)).map_err(db)?;
    let (mut entries, unknown_books) = business_entries(&rows)?;
    for e in state.store.closing_entries().map_err(db)? {
        let month = month_of(yyyymm_of(e.posted_at))?;
        entries.push(
            Entry::from_stored(&e.book, &e.account, e.debit, e.credit, month, Origin::Closing)
                .map_err(|err| PlatformError::internal(format!("结账分录{}: {err}", e.posting_id)))?,
        );
    }
    let mut ledger = Ledger::restore(entries, closed_through);
    // The books refuse a period out of order; a ledger that does not balance panics there: the
    // books would be wrong, and nothing may be carried forward from them.
    let closed = ledger.close(period).map_err(|e| PlatformError::rule(e.to_string()))?;
    let reference = format!("CLOSE-{period}");
    let posted_at = last_closed_day.and_time(LAST_SECOND);
    let lines: Vec<LedgerEntry> = closed
        .posting
        .entries()
        .iter()
        .map(|e| LedgerEntry {
            posting_id: reference.clone(),
            book: e.book.code().to_owned(),
            account: e.account.id().to_owned(),
            debit: e.debit(),
            credit: e.credit(),
            settlement_id: reference.clone(),
            posted_at,
        })
        .collect();
    let summary = summary(&closed, &unknown_books, lines.len());
    state.pending.push(WriteOp::ClosePeriod {
        close: PeriodCloseRecord {
            period: period.to_string(),
            through_month: yyyymm(through),
            open_from,
            closed_at: now,
            summary_json: summary.to_string(),
        },
        entries: lines,
    });
    Ok(summary)
}

fn yyyymm_of(t: NaiveDateTime) -> i32 {
    use chrono::Datelike;
    t.year() * 100 + t.month() as i32
}

/// Each book's income and expense of the period as closed, and what was carried into its fund
/// balance (结余 = income − expense).
fn summary(closed: &ClosedPeriod, unknown_books: &[String], entries: usize) -> Value {
    let books: Vec<Value> = closed
        .before
        .iter()
        .filter_map(|trial| {
            let total = |class: AccountClass| -> Money {
                trial
                    .rows
                    .iter()
                    .filter(|r| r.account.class() == class)
                    .map(|r| r.balance)
                    .sum()
            };
            let (income, expense) = (total(AccountClass::Income), total(AccountClass::Expense));
            (!income.is_zero() || !expense.is_zero()).then(|| {
                json!({
                    "book": trial.book.code(),
                    "name": trial.book.name_zh(),
                    "income": income,
                    "expense": expense,
                    "carried_to_fund_balance": income - expense,
                    "explain": format!("{}结余{}-{}={}", trial.book.short_name_zh(), income, expense, income - expense),
                })
            })
        })
        .collect();
    json!({
        "period": closed.period.to_string(),
        "closing_entries": entries,
        "books": books,
        "books_not_closed": unknown_books,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn periods_are_months_or_years() {
        assert_eq!(parse_period("2026-03").unwrap().to_string(), "2026-03");
        assert_eq!(parse_period("2026").unwrap().to_string(), "2026");
        for bad in [
            "2026-3",
            "26-03",
            "2026-13",
            "2026/03",
            "",
            "2026-00",
            "abcd",
            "2026-03-01",
        ] {
            let e = parse_period(bad).unwrap_err();
            assert_eq!(e.field.as_deref(), Some("period"), "{bad}: {e:?}");
        }
    }
}
