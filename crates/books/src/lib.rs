//! The funds' books (基金财务): one double-entry book per fund, period close, and the
//! fund-operation indicators a bureau watches, with their warnings.
//!
//! Why a crate of its own: funds are accounted separately (分别建账、分账核算), and the figures a
//! bureau publishes — income, expenditure, balances, months of cover — must be derivable from the
//! books alone and must agree, to the fen, with the business records that caused them. Keeping
//! this pure (no I/O, no clock, no database types) lets the same code check a posting before it
//! is written, close a period, and compute a region's indicators from an export.
//!
//! The model:
//!
//! - a [`Book`] is one fund (its `fund_pay_type` code is the book's stored name, as the platform
//!   already posts settlements under it);
//! - an [`Account`] is a line of the chart of accounts shared by all books (stable snake_case ids,
//!   `medical_expense` and `payable_institution` among them); [`Book::uses`] says which a book has;
//! - a [`Posting`] is the balanced entries of one business event. Every constructor checks that
//!   each book balances on its own, so money moves between funds only through an explicit
//!   [`EventKind::FundTransfer`];
//! - a [`Ledger`] holds entries, refuses postings into closed months and closes periods
//!   ([`Ledger::close`]) with a [`TrialBalance`] that must balance;
//! - [`MonthlyTotals`] aggregates entries in one pass into per-month, per-book, per-account sums,
//!   from which [`FundIndicators`] and [`Warning`]s are read in time independent of the number of
//!   entries.
//!
//! Entries are compact ([`Entry`] is 16 bytes: amount, month, book, account, side, origin) so a
//! region's year — tens of millions of entries — aggregates in well under a second; the string
//! forms ([`Book::code`], [`Account::id`]) exist for storage.

mod account;
mod book;
mod entry;
mod error;
mod indicators;
mod ledger;
mod numbers;
mod period;
mod posting;
mod totals;
mod warning;

pub use account::{Account, AccountClass, ACCOUNT_COUNT};
pub use book::{Book, BOOK_COUNT};
pub use entry::{Entry, Origin, Side};
pub use error::BooksError;
pub use indicators::{all_fund_indicators, fund_indicators, FundIndicators, COVER_WINDOW_MONTHS};
pub use ledger::{ClosedPeriod, Ledger, TrialBalance, TrialBalanceRow};
pub use numbers::{Months, Percent};
pub use period::{Month, Period};
pub use posting::{EventKind, GovernmentLevel, Payer, Posting, Receipt, TransferDirection};
pub use totals::MonthlyTotals;
pub use warning::{Warning, WarningKind, WarningThresholds};
