//! The ledger: every book's entries, period close and the trial balance.
//!
//! Close (结账) carries each income and expense account's balance into fund balance (基金结余)
//! with entries of their own origin, so that flow indicators keep reading business entries only,
//! then refuses further postings dated in a closed month: a published period's figures cannot
//! change afterwards (corrections are booked in the current month, as reversals are). Before and
//! after closing, each book's trial balance must balance; if it does not, close panics rather than
//! produce statements from books that are wrong.

use std::fmt;

use yibao_money::Money;

use crate::account::{Account, AccountClass, ACCOUNT_COUNT};
use crate::book::{Book, BOOK_COUNT};
use crate::entry::{Entry, Origin, Side};
use crate::error::BooksError;
use crate::period::{Month, Period};
use crate::posting::{EventKind, Posting};
use crate::totals::MonthlyTotals;

/// The entries of all eight books, in posting order.
#[derive(Clone, Debug, Default)]
pub struct Ledger {
    entries: Vec<Entry>,
    postings: usize,
    closed_through: Option<Month>,
}

impl Ledger {
    pub fn new() -> Ledger {
        Ledger::default()
    }

    /// The ledger as a store keeps it: `entries` are stored entries (per-month totals stand for
    /// the business entries they add up, closing entries are kept as posted) and
    /// `closed_through` the last month closed. Trial balances and closes work as on the
    /// original entries, since both depend only on sums per book, account and month; the
    /// posting count is not kept and starts at zero.
    ///
    /// Panics if a closing entry is dated after `closed_through`: the stored books would
    /// contradict themselves.
    pub fn restore(entries: Vec<Entry>, closed_through: Option<Month>) -> Ledger {
        for e in entries.iter().filter(|e| e.origin == Origin::Closing) {
            assert!(
                closed_through.is_some_and(|c| e.month <= c),
                "结账分录{}晚于已结账期间",
                e.month
            );
        }
        Ledger {
            entries,
            postings: 0,
            closed_through,
        }
    }

    /// Appends a posting after checking it again and that its month is still open. Closing
    /// postings come only from [`Ledger::close`].
    pub fn post(&mut self, posting: Posting) -> Result<(), BooksError> {
        if matches!(posting.kind(), EventKind::Closing { .. }) {
            return Err(BooksError::ClosingEntryOutsideClose);
        }
        posting.validate()?;
        if let Some(closed_through) = self.closed_through {
            if posting.month() <= closed_through {
                return Err(BooksError::PeriodClosed {
                    month: posting.month(),
                    closed_through,
                });
            }
        }
        self.entries.extend_from_slice(posting.entries());
        self.postings += 1;
        Ok(())
    }

    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    pub fn posting_count(&self) -> usize {
        self.postings
    }

    /// The last closed month, if any.
    pub fn closed_through(&self) -> Option<Month> {
        self.closed_through
    }

    /// An account's balance on its normal side over every entry.
    pub fn balance(&self, book: Book, account: Account) -> Money {
        let net_debit: i128 = self
            .entries
            .iter()
            .filter(|e| e.book == book && e.account == account)
            .map(|e| i128::from(e.net_debit_fen()))
            .sum();
        let normal = match account.class().normal_side() {
            Side::Debit => net_debit,
            Side::Credit => -net_debit,
        };
        Money::from_fen(i64::try_from(normal).expect("a balance fits in i64 fen"))
    }

    /// One pass aggregation of every entry, for indicators.
    pub fn totals(&self) -> MonthlyTotals {
        MonthlyTotals::from_entries(&self.entries)
    }

    /// Trial balance (试算平衡表) of one book over the entries up to `through`.
    pub fn trial_balance(&self, book: Book, through: Month) -> TrialBalance {
        TrialBalance::all_books(&self.entries, through).swap_remove(book.index())
    }

    /// Closes `period`: every income and expense account of every book, as it stands at the end
    /// of the period, is carried into fund balance by a closing posting dated the period's last
    /// month. Months up to the period's end are closed to postings afterwards. A year can be
    /// closed after its months were; a month cannot be closed twice or before a later one.
    ///
    /// Panics if a trial balance does not balance before or after, or if an income or expense
    /// account is not zero after: the books would be wrong, and statements must not be produced.
    pub fn close(&mut self, period: Period) -> Result<ClosedPeriod, BooksError> {
        let through = period.last_month();
        if let Some(closed_through) = self.closed_through {
            let again = closed_through == through && matches!(period, Period::Year(_));
            if closed_through > through || (closed_through == through && !again) {
                return Err(BooksError::CloseOutOfOrder { closed_through });
            }
        }
        let before = TrialBalance::all_books(&self.entries, through);
        let mut posting = Posting::closing(period);
        for trial in &before {
            trial.assert_balanced();
            for row in &trial.rows {
                let (side, amount) = match row.account.class() {
                    // A credit balance is closed by a debit, and the opposite for debit balances.
                    AccountClass::Income | AccountClass::Expense => {
                        let normal = row.account.class().normal_side();
                        if row.balance.is_negative() {
                            (normal, -row.balance)
                        } else {
                            (normal.opposite(), row.balance)
                        }
                    }
                    _ => continue,
                };
                if amount.is_zero() {
                    continue;
                }
                posting.push_closing(trial.book, row.account, side, amount);
                posting.push_closing(trial.book, Account::FundBalance, side.opposite(), amount);
            }
        }
        posting.validate()?;
        self.entries.extend_from_slice(posting.entries());
        self.postings += 1;
        self.closed_through = Some(through);
        let after = TrialBalance::all_books(&self.entries, through);
        for trial in &after {
            trial.assert_balanced();
            for row in trial
                .rows
                .iter()
                .filter(|r| matches!(r.account.class(), AccountClass::Income | AccountClass::Expense))
            {
                assert!(
                    row.balance.is_zero(),
                    "{}结账后“{}”仍有余额{}",
                    trial.book.name_zh(),
                    row.account.name_zh(),
                    row.balance
                );
            }
        }
        Ok(ClosedPeriod {
            period,
            posting,
            before,
            after,
        })
    }
}

/// What closing a period produced.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClosedPeriod {
    pub period: Period,
    /// The closing entries.
    pub posting: Posting,
    /// Each book's trial balance before the closing entries, in [`Book::ALL`] order.
    pub before: Vec<TrialBalance>,
    /// And after: income and expense accounts at zero, their net in fund balance.
    pub after: Vec<TrialBalance>,
}

/// One account's line of a trial balance.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TrialBalanceRow {
    pub account: Account,
    /// Sum of debits (借方发生额).
    pub debit_total: Money,
    /// Sum of credits (贷方发生额).
    pub credit_total: Money,
    /// Balance on the account's normal side (余额); negative when it stands on the other side.
    pub balance: Money,
}

/// A book's trial balance up to a month: every account of its chart with its turnovers and
/// balance.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TrialBalance {
    pub book: Book,
    pub through: Month,
    pub rows: Vec<TrialBalanceRow>,
}

impl TrialBalance {
    /// Every book's trial balance over the entries dated up to `through`, in one pass.
    pub fn all_books(entries: &[Entry], through: Month) -> Vec<TrialBalance> {
        let mut debit_fen = [[0i64; ACCOUNT_COUNT]; BOOK_COUNT];
        let mut credit_fen = [[0i64; ACCOUNT_COUNT]; BOOK_COUNT];
        for entry in entries.iter().filter(|e| e.month <= through) {
            let cell = match entry.side {
                Side::Debit => &mut debit_fen[entry.book.index()][entry.account.index()],
                Side::Credit => &mut credit_fen[entry.book.index()][entry.account.index()],
            };
            *cell = cell.checked_add(entry.amount.fen()).expect("turnover fits in i64 fen");
        }
        Book::ALL
            .into_iter()
            .map(|book| TrialBalance {
                book,
                through,
                rows: book
                    .chart()
                    .map(|account| {
                        let debit_total = Money::from_fen(debit_fen[book.index()][account.index()]);
                        let credit_total = Money::from_fen(credit_fen[book.index()][account.index()]);
                        let balance = match account.class().normal_side() {
                            Side::Debit => debit_total - credit_total,
                            Side::Credit => credit_total - debit_total,
                        };
                        TrialBalanceRow {
                            account,
                            debit_total,
                            credit_total,
                            balance,
                        }
                    })
                    .collect(),
            })
            .collect()
    }

    pub fn total_debit(&self) -> Money {
        self.rows.iter().map(|r| r.debit_total).sum()
    }

    pub fn total_credit(&self) -> Money {
        self.rows.iter().map(|r| r.credit_total).sum()
    }

    /// The balance of `account` on its normal side (zero if the book does not use it).
    pub fn balance(&self, account: Account) -> Money {
        self.rows
            .iter()
            .find(|r| r.account == account)
            .map_or(Money::ZERO, |r| r.balance)
    }

    /// Sum of the balances of debit-normal accounts and of credit-normal ones.
    pub fn balance_totals(&self) -> (Money, Money) {
        let mut debit = Money::ZERO;
        let mut credit = Money::ZERO;
        for row in &self.rows {
            match row.account.class().normal_side() {
                Side::Debit => debit += row.balance,
                Side::Credit => credit += row.balance,
            }
        }
        (debit, credit)
    }

    /// Turnovers balance (发生额平衡) and balances balance (余额平衡).
    pub fn is_balanced(&self) -> bool {
        let (debit, credit) = self.balance_totals();
        self.total_debit() == self.total_credit() && debit == credit
    }

    /// Panics, with the whole table, if the trial balance does not balance.
    pub fn assert_balanced(&self) {
        assert!(self.is_balanced(), "试算不平衡：\n{self}");
    }
}

impl fmt::Display for TrialBalance {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{}（{}）试算平衡表，截至{}",
            self.book.name_zh(),
            self.book.code(),
            self.through.label_zh()
        )?;
        for row in &self.rows {
            writeln!(
                f,
                "{:<30} {:>16} {:>16} {:>16}",
                row.account.id(),
                row.debit_total,
                row.credit_total,
                row.balance
            )?;
        }
        let (debit, credit) = self.balance_totals();
        write!(
            f,
            "合计 借方{} 贷方{}；借方余额{} 贷方余额{}",
            self.total_debit(),
            self.total_credit(),
            debit,
            credit
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn month(m: u8) -> Month {
        Month::new(2024, m).unwrap()
    }

    #[test]
    fn periods_close_in_order_and_stay_closed() {
        let mut ledger = Ledger::new();
        let interest = Posting::interest(Book::ResidentPooled, month(3), Money::from_yuan(7)).unwrap();
        ledger.post(interest).unwrap();
        let closed = ledger.close(Period::Month(month(3))).unwrap();
        assert_eq!(closed.posting.entries().len(), 2);
        assert_eq!(
            closed.after[Book::ResidentPooled.index()].balance(Account::FundBalance),
            Money::from_yuan(7)
        );
        assert!(matches!(
            ledger.close(Period::Month(month(3))),
            Err(BooksError::CloseOutOfOrder { .. })
        ));
        assert!(matches!(
            ledger.close(Period::Month(month(2))),
            Err(BooksError::CloseOutOfOrder { .. })
        ));
        ledger.close(Period::Month(month(12))).unwrap();
        // The year may still be closed after its last month; it then has nothing left to carry.
        let year = ledger.close(Period::Year(2024)).unwrap();
        assert!(year.posting.entries().is_empty());
        assert_eq!(
            closed.posting.reversal(month(12)),
            Err(BooksError::ClosingEntryOutsideClose)
        );
        assert_eq!(ledger.post(closed.posting), Err(BooksError::ClosingEntryOutsideClose));
    }
}
