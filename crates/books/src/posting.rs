//! Postings: the balanced entries of one business event, built by one constructor per kind of
//! event so that no caller assembles debits and credits by hand.
//!
//! Every posting satisfies, per book, debits = credits (so money cannot leave a fund without a
//! matching entry in the same fund); no amount is negative; every account is in its book's chart;
//! only a [`EventKind::FundTransfer`] moves money between two books (each still balancing on its
//! own), and only transfers touch transfer accounts. Constructors check this with
//! [`Posting::validate`] and return the error; debug builds also assert it. The posting is meant
//! to be written in the same database transaction as the business record it belongs to.

use yibao_codes::FundPayType;
use yibao_money::Money;

use crate::account::{Account, AccountClass};
use crate::book::{Book, BOOK_COUNT};
use crate::entry::{Entry, Origin, Side};
use crate::error::BooksError;
use crate::period::{Month, Period};

/// Who paid a contribution.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Payer {
    /// 单位缴费.
    Employer,
    /// 个人缴费.
    Individual,
}

impl Payer {
    fn income_account(self) -> Account {
        match self {
            Payer::Employer => Account::EmployerContributionIncome,
            Payer::Individual => Account::IndividualContributionIncome,
        }
    }
}

/// The government level a fiscal subsidy comes from (各级财政补助).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum GovernmentLevel {
    Central,
    Provincial,
    Municipal,
    County,
}

impl GovernmentLevel {
    pub fn name_zh(self) -> &'static str {
        match self {
            GovernmentLevel::Central => "中央财政",
            GovernmentLevel::Provincial => "省级财政",
            GovernmentLevel::Municipal => "市级财政",
            GovernmentLevel::County => "县级财政",
        }
    }
}

/// Whether a subsidy arrived with its recognition or is still due.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Receipt {
    /// Received into the bank account.
    Received,
    /// Recognized as due (财政补助应收), collected later by [`Posting::fiscal_subsidy_collected`].
    Receivable,
}

/// Direction of a transfer between regions (关系转移接续).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TransferDirection {
    In,
    Out,
}

/// The kind of business event a posting records.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum EventKind {
    /// A fund's balance brought in when its books start here (期初结余).
    OpeningBalance,
    /// A contribution credited to one book.
    Contribution {
        payer: Payer,
    },
    /// One contribution split between a pooled book and the personal accounts.
    ContributionSplit {
        payer: Payer,
    },
    FiscalSubsidy {
        level: GovernmentLevel,
        receipt: Receipt,
    },
    /// A receivable subsidy arriving in the bank.
    FiscalSubsidyCollected {
        level: GovernmentLevel,
    },
    /// Benefits settled with institutions (the platform's settlement posting).
    Settlement,
    /// Payment of what was owed to institutions (拨付).
    InstitutionPaymentCleared,
    /// Money in or out with another pooling region; `counterparty_region` is its 6-digit code.
    RegionalTransfer {
        direction: TransferDirection,
        counterparty_region: u32,
    },
    Interest,
    /// Money moved from one fund's book to another's (e.g. the resident pooled fund buying
    /// critical-illness cover, or the pooled fund crediting retirees' personal accounts).
    FundTransfer {
        from: Book,
        to: Book,
    },
    /// Income and expense closed into fund balance.
    Closing {
        period: Period,
    },
}

impl EventKind {
    fn is_transfer(self) -> bool {
        matches!(
            self,
            EventKind::RegionalTransfer { .. } | EventKind::FundTransfer { .. }
        )
    }
}

/// One business event's balanced entries.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Posting {
    kind: EventKind,
    /// True when this posting undoes an earlier one of the same kind (冲正).
    reversal: bool,
    month: Month,
    entries: Vec<Entry>,
}

impl Posting {
    pub fn kind(&self) -> EventKind {
        self.kind
    }

    pub fn is_reversal(&self) -> bool {
        self.reversal
    }

    pub fn month(&self) -> Month {
        self.month
    }

    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    pub fn into_entries(self) -> Vec<Entry> {
        self.entries
    }

    /// Balance brought forward into a book: debit bank, credit fund balance.
    pub fn opening_balance(book: Book, month: Month, amount: Money) -> Result<Posting, BooksError> {
        let mut posting = Posting::empty(EventKind::OpeningBalance, month);
        posting.pair(book, Account::BankDeposit, Account::FundBalance, amount)?;
        posting.checked()
    }

    /// A contribution received into one book: debit bank, credit the payer's contribution income.
    pub fn contribution(book: Book, month: Month, payer: Payer, amount: Money) -> Result<Posting, BooksError> {
        let mut posting = Posting::empty(EventKind::Contribution { payer }, month);
        posting.pair(book, Account::BankDeposit, payer.income_account(), amount)?;
        posting.checked()
    }

    /// One contribution split into a pooled part (`pooled_book`) and a personal-account part: each
    /// book records its own part, so each balances without a transfer.
    pub fn contribution_split(
        pooled_book: Book,
        month: Month,
        payer: Payer,
        pooled: Money,
        personal_account: Money,
    ) -> Result<Posting, BooksError> {
        let mut posting = Posting::empty(EventKind::ContributionSplit { payer }, month);
        posting.pair(pooled_book, Account::BankDeposit, payer.income_account(), pooled)?;
        posting.pair(
            Book::PersonalAccount,
            Account::BankDeposit,
            payer.income_account(),
            personal_account,
        )?;
        posting.checked()
    }

    /// A fiscal subsidy from one government level: credit subsidy income, debit the bank or, when
    /// only due, the receivable.
    pub fn fiscal_subsidy(
        book: Book,
        month: Month,
        level: GovernmentLevel,
        receipt: Receipt,
        amount: Money,
    ) -> Result<Posting, BooksError> {
        let debit = match receipt {
            Receipt::Received => Account::BankDeposit,
            Receipt::Receivable => Account::FiscalReceivable,
        };
        let mut posting = Posting::empty(EventKind::FiscalSubsidy { level, receipt }, month);
        posting.pair(book, debit, Account::FiscalSubsidyIncome, amount)?;
        posting.checked()
    }

    /// A receivable subsidy arriving: debit bank, credit receivable. No income: it was recognized
    /// when due.
    pub fn fiscal_subsidy_collected(
        book: Book,
        month: Month,
        level: GovernmentLevel,
        amount: Money,
    ) -> Result<Posting, BooksError> {
        let mut posting = Posting::empty(EventKind::FiscalSubsidyCollected { level }, month);
        posting.pair(book, Account::BankDeposit, Account::FiscalReceivable, amount)?;
        posting.checked()
    }

    /// A settlement: in each paying book, debit medical expense and credit payable to the
    /// institution — the entries the platform posts today. Zero amounts post nothing.
    pub fn settlement(month: Month, paid: &[(Book, Money)]) -> Result<Posting, BooksError> {
        let mut posting = Posting::empty(EventKind::Settlement, month);
        for &(book, amount) in paid {
            posting.pair(book, Account::MedicalExpense, Account::PayableInstitution, amount)?;
        }
        posting.checked()
    }

    /// A settlement given by `fund_pay_type` (as a settlement's fund rows are); funds outside the
    /// eight books are refused.
    pub fn settlement_by_fund(month: Month, paid: &[(FundPayType, Money)]) -> Result<Posting, BooksError> {
        let books = paid
            .iter()
            .map(|&(fund, amount)| {
                Book::for_fund_pay_type(fund)
                    .map(|book| (book, amount))
                    .ok_or_else(|| BooksError::UnknownBook {
                        code: fund.code().to_owned(),
                    })
            })
            .collect::<Result<Vec<_>, _>>()?;
        Posting::settlement(month, &books)
    }

    /// Paying an institution what it is owed: debit payable, credit bank.
    pub fn institution_payment_cleared(book: Book, month: Month, amount: Money) -> Result<Posting, BooksError> {
        let mut posting = Posting::empty(EventKind::InstitutionPaymentCleared, month);
        posting.pair(book, Account::PayableInstitution, Account::BankDeposit, amount)?;
        posting.checked()
    }

    /// Money in from or out to another pooling region: transfer income against bank, or bank
    /// against transfer expense.
    pub fn regional_transfer(
        book: Book,
        month: Month,
        direction: TransferDirection,
        counterparty_region: u32,
        amount: Money,
    ) -> Result<Posting, BooksError> {
        if !(100_000..=999_999).contains(&counterparty_region) {
            return Err(BooksError::InvalidRegion {
                region: counterparty_region,
            });
        }
        let kind = EventKind::RegionalTransfer {
            direction,
            counterparty_region,
        };
        let mut posting = Posting::empty(kind, month);
        match direction {
            TransferDirection::In => posting.pair(book, Account::BankDeposit, Account::TransferIncome, amount)?,
            TransferDirection::Out => posting.pair(book, Account::TransferExpense, Account::BankDeposit, amount)?,
        }
        posting.checked()
    }

    /// Interest earned on the fund's deposits.
    pub fn interest(book: Book, month: Month, amount: Money) -> Result<Posting, BooksError> {
        let mut posting = Posting::empty(EventKind::Interest, month);
        posting.pair(book, Account::BankDeposit, Account::InterestIncome, amount)?;
        posting.checked()
    }

    /// Money moved from one fund to another, as a logged transfer pair: the source books a
    /// transfer expense against its bank, the destination its bank against a transfer income.
    pub fn fund_transfer(from: Book, to: Book, month: Month, amount: Money) -> Result<Posting, BooksError> {
        if from == to {
            return Err(BooksError::TransferWithinBook { book: from });
        }
        let mut posting = Posting::empty(EventKind::FundTransfer { from, to }, month);
        posting.pair(from, Account::TransferExpense, Account::BankDeposit, amount)?;
        posting.pair(to, Account::BankDeposit, Account::TransferIncome, amount)?;
        posting.checked()
    }

    /// The exact opposite of this posting, dated `month` (a reversal is booked when it happens):
    /// the same amounts on the opposite sides. Posting both leaves every account as before.
    /// Closing postings cannot be reversed.
    pub fn reversal(&self, month: Month) -> Result<Posting, BooksError> {
        if matches!(self.kind, EventKind::Closing { .. }) {
            return Err(BooksError::ClosingEntryOutsideClose);
        }
        let entries = self
            .entries
            .iter()
            .map(|entry| Entry {
                month,
                side: entry.side.opposite(),
                ..*entry
            })
            .collect();
        Posting {
            kind: self.kind,
            reversal: !self.reversal,
            month,
            entries,
        }
        .checked()
    }

    /// A posting from entries read back from storage (or built by close), validated.
    pub fn from_entries(
        kind: EventKind,
        reversal: bool,
        month: Month,
        entries: Vec<Entry>,
    ) -> Result<Posting, BooksError> {
        let posting = Posting {
            kind,
            reversal,
            month,
            entries,
        };
        posting.validate()?;
        Ok(posting)
    }

    /// Checks every rule of a posting (module docs); the first broken one is the error.
    pub fn validate(&self) -> Result<(), BooksError> {
        let mut debit_fen = [0i128; BOOK_COUNT];
        let mut credit_fen = [0i128; BOOK_COUNT];
        let mut touched = [false; BOOK_COUNT];
        let closing = matches!(self.kind, EventKind::Closing { .. });
        for entry in &self.entries {
            if entry.amount.is_negative() {
                return Err(BooksError::NegativeAmount { amount: entry.amount });
            }
            if entry.month != self.month {
                return Err(BooksError::MonthMismatch {
                    posting: self.month,
                    entry: entry.month,
                });
            }
            if !entry.book.uses(entry.account) {
                return Err(BooksError::AccountNotInChart {
                    book: entry.book,
                    account: entry.account,
                });
            }
            if entry.account.is_transfer() && !self.kind.is_transfer() && !closing {
                return Err(BooksError::TransferAccountOutsideTransfer { account: entry.account });
            }
            // Closing entries, and only they, carry income and expense into fund balance.
            let closable = matches!(
                entry.account.class(),
                AccountClass::Income | AccountClass::Expense | AccountClass::Equity
            );
            if closing != (entry.origin == Origin::Closing) || (closing && !closable) {
                return Err(BooksError::ClosingEntryOutsideClose);
            }
            let i = entry.book.index();
            touched[i] = true;
            match entry.side {
                Side::Debit => debit_fen[i] += i128::from(entry.amount.fen()),
                Side::Credit => credit_fen[i] += i128::from(entry.amount.fen()),
            }
        }
        for book in Book::ALL {
            let i = book.index();
            if debit_fen[i] != credit_fen[i] {
                return Err(BooksError::Unbalanced {
                    book,
                    debit: money_from_i128(debit_fen[i]),
                    credit: money_from_i128(credit_fen[i]),
                });
            }
        }
        let count = touched.iter().filter(|&&t| t).count();
        let books_allowed = match self.kind {
            EventKind::FundTransfer { from, to } => {
                if from == to {
                    return Err(BooksError::TransferWithinBook { book: from });
                }
                if Book::ALL.iter().any(|&b| touched[b.index()] && b != from && b != to) {
                    return Err(BooksError::CrossBookWithoutTransfer { count });
                }
                2
            }
            // A split contribution and a settlement record outside money in each book they touch:
            // a pooled book and the personal accounts; every fund that paid.
            EventKind::ContributionSplit { .. } => 2,
            EventKind::Settlement | EventKind::Closing { .. } => BOOK_COUNT,
            _ => 1,
        };
        if count > books_allowed {
            return Err(BooksError::CrossBookWithoutTransfer { count });
        }
        Ok(())
    }

    fn empty(kind: EventKind, month: Month) -> Posting {
        Posting {
            kind,
            reversal: false,
            month,
            entries: Vec::new(),
        }
    }

    /// Debits `debit` and credits `credit` in `book` by `amount`: balanced by construction. Zero
    /// posts nothing; negative is refused.
    fn pair(&mut self, book: Book, debit: Account, credit: Account, amount: Money) -> Result<(), BooksError> {
        if amount.is_negative() {
            return Err(BooksError::NegativeAmount { amount });
        }
        if amount.is_zero() {
            return Ok(());
        }
        for (account, side) in [(debit, Side::Debit), (credit, Side::Credit)] {
            self.entries.push(Entry {
                amount,
                month: self.month,
                book,
                account,
                side,
                origin: Origin::Business,
            });
        }
        Ok(())
    }

    pub(crate) fn push_closing(&mut self, book: Book, account: Account, side: Side, amount: Money) {
        debug_assert!(matches!(self.kind, EventKind::Closing { .. }));
        debug_assert!(!amount.is_negative());
        self.entries.push(Entry {
            amount,
            month: self.month,
            book,
            account,
            side,
            origin: Origin::Closing,
        });
    }

    pub(crate) fn closing(period: Period) -> Posting {
        Posting::empty(EventKind::Closing { period }, period.last_month())
    }

    /// Validates a freshly built posting: an error is returned to the caller, and in debug builds
    /// a balance failure (which no constructor should be able to produce) also panics.
    fn checked(self) -> Result<Posting, BooksError> {
        let result = self.validate();
        debug_assert!(
            !matches!(result, Err(BooksError::Unbalanced { .. })),
            "a constructor built an unbalanced posting: {result:?}"
        );
        result.map(|()| self)
    }
}

fn money_from_i128(fen: i128) -> Money {
    Money::from_fen(i64::try_from(fen).unwrap_or(if fen < 0 { i64::MIN } else { i64::MAX }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn month() -> Month {
        Month::new(2024, 3).unwrap()
    }

    #[test]
    fn constructors_refuse_negative_amounts_and_skip_zero() {
        let negative = Posting::contribution(Book::EmployeePooled, month(), Payer::Employer, Money::from_fen(-1));
        assert!(matches!(negative, Err(BooksError::NegativeAmount { .. })));
        let zero = Posting::interest(Book::EmployeePooled, month(), Money::ZERO).unwrap();
        assert!(zero.entries().is_empty());
        let region = Posting::regional_transfer(
            Book::PersonalAccount,
            month(),
            TransferDirection::In,
            4401,
            Money::from_yuan(1),
        );
        assert_eq!(region, Err(BooksError::InvalidRegion { region: 4401 }));
    }

    #[test]
    fn charts_and_transfers_are_enforced() {
        let refused = Posting::contribution(Book::MedicalAssistance, month(), Payer::Individual, Money::from_yuan(1));
        assert!(matches!(refused, Err(BooksError::AccountNotInChart { .. })));
        let same = Posting::fund_transfer(Book::ResidentPooled, Book::ResidentPooled, month(), Money::from_yuan(1));
        assert!(matches!(same, Err(BooksError::TransferWithinBook { .. })));
        let transfer = Posting::fund_transfer(
            Book::ResidentPooled,
            Book::CriticalIllness,
            month(),
            Money::from_yuan(9),
        )
        .unwrap();
        // A transfer's entries relabelled as interest would move money between funds unlogged.
        let smuggled = Posting::from_entries(EventKind::Interest, false, month(), transfer.entries().to_vec());
        assert!(smuggled.is_err());
    }

    #[test]
    fn an_unbalanced_posting_is_refused() {
        let mut entries = Posting::interest(Book::ResidentPooled, month(), Money::from_yuan(5))
            .unwrap()
            .into_entries();
        entries[0].amount = Money::from_yuan(6);
        let result = Posting::from_entries(EventKind::Interest, false, month(), entries);
        assert!(matches!(result, Err(BooksError::Unbalanced { .. })));
    }
}
