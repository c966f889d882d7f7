//! Fund postings: each settlement posts balanced entries to the books of the funds that paid,
//! and its reversal posts the exact opposite. Money moves between funds only through entries.

use chrono::NaiveDateTime;
use yibao_codes::FundPayType;
use yibao_money::Money;
use yibao_settle::Settlement;
use yibao_store::LedgerEntry;

/// Medical benefit expenditure (医疗待遇支出), debited in the paying fund's book.
pub const ACCOUNT_EXPENSE: &str = "medical_expense";
/// Payable to the designated institution (应付定点医药机构款), credited until cleared.
pub const ACCOUNT_PAYABLE: &str = "payable_institution";

/// The entries a settlement posts (or, with `reversal`, the entries that undo it).
pub fn settlement_postings(
    settlement: &Settlement,
    settlement_id: &str,
    posting_id: &str,
    posted_at: NaiveDateTime,
    reversal: bool,
) -> Vec<LedgerEntry> {
    let mut amounts: Vec<(&str, Money)> = settlement.funds.iter().map(|f| (f.fund.code(), f.amount)).collect();
    // The personal-account book pays the person's own account and a family member's alike.
    amounts.push((
        FundPayType::EmployeeAccount.code(),
        settlement.account_pay + settlement.mutual_aid_pay,
    ));
    postings(&amounts, settlement_id, posting_id, posted_at, reversal)
}

/// Balanced entries for amounts paid per book: expense debited and payable credited, or the
/// opposite for a reversal. Zero amounts post nothing.
pub fn postings(
    amounts: &[(&str, Money)],
    settlement_id: &str,
    posting_id: &str,
    posted_at: NaiveDateTime,
    reversal: bool,
) -> Vec<LedgerEntry> {
    let (debit_account, credit_account) = if reversal {
        (ACCOUNT_PAYABLE, ACCOUNT_EXPENSE)
    } else {
        (ACCOUNT_EXPENSE, ACCOUNT_PAYABLE)
    };
    let mut entries = Vec::with_capacity(2 * amounts.len());
    for &(book, amount) in amounts.iter().filter(|(_, amount)| !amount.is_zero()) {
        for (account, debit, credit) in [
            (debit_account, amount, Money::ZERO),
            (credit_account, Money::ZERO, amount),
        ] {
            entries.push(LedgerEntry {
                posting_id: posting_id.to_owned(),
                book: book.to_owned(),
                account: account.to_owned(),
                debit,
                credit,
                settlement_id: settlement_id.to_owned(),
                posted_at,
            });
        }
    }
    assert_balanced(&entries);
    entries
}

/// Every book's debits equal its credits within the posting: a posting that does not balance is
/// a defect, and fails loudly before it can be written.
pub fn assert_balanced(entries: &[LedgerEntry]) {
    let mut books: Vec<(&str, Money, Money)> = Vec::new();
    for e in entries {
        assert!(
            !e.debit.is_negative() && !e.credit.is_negative(),
            "ledger amounts are never negative"
        );
        match books.iter_mut().find(|(b, _, _)| *b == e.book) {
            Some((_, d, c)) => {
                *d += e.debit;
                *c += e.credit;
            }
            None => books.push((&e.book, e.debit, e.credit)),
        }
    }
    for (book, debit, credit) in books {
        assert_eq!(debit, credit, "posting does not balance in book {book}");
    }
}
