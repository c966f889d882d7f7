//! One pass over entries into per-month sums, the basis of every indicator.
//!
//! Why this shape: a region's year is tens of millions of entries but only
//! months × books × accounts distinct figures. Aggregating once into a dense array (a 16-byte
//! entry costs one index computation and one add) makes the pass memory-bound, and every
//! indicator afterwards is a sum over at most a few dozen months.

use std::ops::RangeInclusive;

use yibao_money::Money;

use crate::account::{Account, AccountClass, ACCOUNT_COUNT};
use crate::book::{Book, BOOK_COUNT};
use crate::entry::{Entry, Origin};
use crate::period::{Month, Period};

/// Slots per book in one month: each account twice, business entries then closing entries.
const SLOTS: usize = ACCOUNT_COUNT * 2;

/// Net debit (debit − credit) in fen per book and slot, for one month. `i128` so that no sum
/// of `i64` amounts can overflow.
type MonthCells = [[i128; SLOTS]; BOOK_COUNT];

const EMPTY_MONTH: MonthCells = [[0; SLOTS]; BOOK_COUNT];

/// Per-month, per-book, per-account net amounts, with business and closing entries apart.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MonthlyTotals {
    /// [`Month::index`] of `months[0]`.
    first_index: i32,
    months: Vec<MonthCells>,
}

impl MonthlyTotals {
    pub fn new() -> MonthlyTotals {
        MonthlyTotals::default()
    }

    /// Aggregates `entries` in one pass, in any order.
    pub fn from_entries<'a, I: IntoIterator<Item = &'a Entry>>(entries: I) -> MonthlyTotals {
        let mut totals = MonthlyTotals::new();
        for entry in entries {
            totals.add(entry);
        }
        totals
    }

    /// Adds one entry.
    #[inline]
    pub fn add(&mut self, entry: &Entry) {
        let offset = entry.month.index().wrapping_sub(self.first_index);
        let index = match usize::try_from(offset) {
            Ok(index) if index < self.months.len() => index,
            _ => self.make_room(entry.month),
        };
        let slot = entry.account.index() + ACCOUNT_COUNT * entry.origin as usize;
        self.months[index][entry.book.index()][slot] += i128::from(entry.net_debit_fen());
    }

    /// Adds another aggregation (of a disjoint set of entries) to this one: aggregations of parts
    /// can be computed on several threads and merged.
    pub fn merge(&mut self, other: &MonthlyTotals) {
        for (offset, cells) in other.months.iter().enumerate() {
            let month = Month::from_index(other.first_index + offset as i32);
            let index = self.make_room(month);
            for (mine, theirs) in self.months[index].iter_mut().zip(cells) {
                for (a, b) in mine.iter_mut().zip(theirs) {
                    *a += b;
                }
            }
        }
    }

    /// The earliest month with entries (or the earliest month aggregated, if amounts cancelled).
    pub fn first_month(&self) -> Option<Month> {
        (!self.months.is_empty()).then(|| Month::from_index(self.first_index))
    }

    pub fn last_month(&self) -> Option<Month> {
        (!self.months.is_empty()).then(|| Month::from_index(self.first_index + self.months.len() as i32 - 1))
    }

    /// Income of `book` in `period`: the net credit of its income accounts, business entries
    /// only (contributions, subsidies, interest, transfers in, less their reversals).
    pub fn income(&self, book: Book, period: Period) -> Money {
        -self.net_debit_of_class(book, AccountClass::Income, month_range(period), Some(Origin::Business))
    }

    /// Expenditure of `book` in `period`: the net debit of its expense accounts, business entries
    /// only (benefits and transfers out, less their reversals).
    pub fn expenditure(&self, book: Book, period: Period) -> Money {
        self.net_debit_of_class(book, AccountClass::Expense, month_range(period), Some(Origin::Business))
    }

    /// An account's balance on its normal side (debit for assets and expenses, credit for the
    /// rest) over every entry up to and including `through`.
    pub fn account_balance(&self, book: Book, account: Account, through: Month) -> Money {
        let net_debit = self.sum(book, through, |a, _| a == account);
        let normal = match account.class().normal_side() {
            crate::entry::Side::Debit => net_debit,
            crate::entry::Side::Credit => -net_debit,
        };
        to_money(normal)
    }

    /// The fund's accumulated balance (累计结存) at the end of `through`: its net assets, assets
    /// less liabilities. Asserts that this equals fund balance plus unclosed income less expense:
    /// the two differ only if unbalanced entries were aggregated, and then no figure is right.
    pub fn accumulated_balance(&self, book: Book, through: Month) -> Money {
        let net_assets = self.sum(book, through, |a, _| {
            matches!(a.class(), AccountClass::Asset | AccountClass::Liability)
        });
        let equity = -self.sum(book, through, |a, _| {
            !matches!(a.class(), AccountClass::Asset | AccountClass::Liability)
        });
        assert_eq!(
            net_assets,
            equity,
            "{}账不平衡：净资产与基金结余不等（截至{through}）",
            book.name_zh()
        );
        to_money(net_assets)
    }

    fn net_debit_of_class(
        &self,
        book: Book,
        class: AccountClass,
        months: RangeInclusive<i32>,
        origin: Option<Origin>,
    ) -> Money {
        let mut total = 0i128;
        for index in months {
            let Some(cells) = self.cells(index) else { continue };
            let row = &cells[book.index()];
            for account in Account::ALL.iter().filter(|a| a.class() == class) {
                for o in [Origin::Business, Origin::Closing] {
                    if origin.is_none_or(|wanted| wanted == o) {
                        total += row[account.index() + ACCOUNT_COUNT * o as usize];
                    }
                }
            }
        }
        to_money(total)
    }

    /// Net debit over every month up to `through`, both origins, of the accounts `keep` selects.
    fn sum(&self, book: Book, through: Month, keep: impl Fn(Account, Origin) -> bool) -> i128 {
        let mut total = 0i128;
        let last = through.index().min(self.first_index + self.months.len() as i32 - 1);
        for index in self.first_index..=last {
            let Some(cells) = self.cells(index) else { continue };
            let row = &cells[book.index()];
            for account in Account::ALL {
                for origin in [Origin::Business, Origin::Closing] {
                    if keep(account, origin) {
                        total += row[account.index() + ACCOUNT_COUNT * origin as usize];
                    }
                }
            }
        }
        total
    }

    fn cells(&self, month_index: i32) -> Option<&MonthCells> {
        usize::try_from(month_index - self.first_index)
            .ok()
            .and_then(|i| self.months.get(i))
    }

    /// Extends the month range to include `month`; returns its index.
    #[cold]
    fn make_room(&mut self, month: Month) -> usize {
        let wanted = month.index();
        if self.months.is_empty() {
            self.first_index = wanted;
            self.months.push(EMPTY_MONTH);
            return 0;
        }
        if wanted < self.first_index {
            let missing = (self.first_index - wanted) as usize;
            self.months.splice(0..0, std::iter::repeat_n(EMPTY_MONTH, missing));
            self.first_index = wanted;
        }
        let index = (wanted - self.first_index) as usize;
        if index >= self.months.len() {
            self.months.resize(index + 1, EMPTY_MONTH);
        }
        index
    }
}

/// Month indexes of a period.
fn month_range(period: Period) -> RangeInclusive<i32> {
    period.first_month().index()..=period.last_month().index()
}

fn to_money(fen: i128) -> Money {
    Money::from_fen(i64::try_from(fen).expect("a fund figure fits in i64 fen"))
}
