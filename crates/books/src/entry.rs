//! One line of a book, in the compact form the indicators aggregate: 16 bytes, no strings. The
//! stored form (`book`, `account`, `debit`, `credit` columns) converts to and from it.

use yibao_money::Money;

use crate::account::Account;
use crate::book::Book;
use crate::error::BooksError;
use crate::period::Month;

/// Debit (借) or credit (贷).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum Side {
    Debit = 0,
    Credit = 1,
}

impl Side {
    pub fn opposite(self) -> Side {
        match self {
            Side::Debit => Side::Credit,
            Side::Credit => Side::Debit,
        }
    }

    pub fn name_zh(self) -> &'static str {
        match self {
            Side::Debit => "借",
            Side::Credit => "贷",
        }
    }
}

/// Whether an entry records a business event or period close. Flow indicators (income,
/// expenditure) count business entries only, so that closing income into fund balance does not
/// read as negative income.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum Origin {
    Business = 0,
    /// 结账分录: income and expense carried into fund balance.
    Closing = 1,
}

/// One line of a posting: an amount on one side of one account of one book, in one month.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Entry {
    /// Never negative; a reversal swaps sides instead of negating.
    pub amount: Money,
    pub month: Month,
    pub book: Book,
    pub account: Account,
    pub side: Side,
    pub origin: Origin,
}

const _: () = assert!(std::mem::size_of::<Entry>() == 16, "entries stay compact");

impl Entry {
    /// The debit column of the stored form.
    pub fn debit(&self) -> Money {
        match self.side {
            Side::Debit => self.amount,
            Side::Credit => Money::ZERO,
        }
    }

    /// The credit column of the stored form.
    pub fn credit(&self) -> Money {
        match self.side {
            Side::Debit => Money::ZERO,
            Side::Credit => self.amount,
        }
    }

    /// Debit minus credit, in fen: what the entry adds to a debit-normal balance.
    #[inline]
    pub fn net_debit_fen(&self) -> i64 {
        // Branch-free (debit 0 → +1, credit 1 → −1): the aggregation's inner loop runs this once
        // per entry, and sides alternate.
        self.amount.fen() * (1 - 2 * self.side as i64)
    }

    /// Reads a stored line (`ledger_entry.book`, `.account`, `.debit`, `.credit`). Exactly one
    /// of debit and credit may be non-zero; neither may be negative.
    pub fn from_stored(
        book: &str,
        account: &str,
        debit: Money,
        credit: Money,
        month: Month,
        origin: Origin,
    ) -> Result<Entry, BooksError> {
        let book = Book::from_code(book)?;
        let account = Account::from_id(account)?;
        for amount in [debit, credit] {
            if amount.is_negative() {
                return Err(BooksError::NegativeAmount { amount });
            }
        }
        let (side, amount) = match (debit.is_zero(), credit.is_zero()) {
            (_, true) => (Side::Debit, debit),
            (true, false) => (Side::Credit, credit),
            (false, false) => return Err(BooksError::BothSides { debit, credit }),
        };
        Ok(Entry {
            amount,
            month,
            book,
            account,
            side,
            origin,
        })
    }
}
