//! Properties of the books over arbitrary events: every posting balances in every book; every
//! balance the ledger or the aggregation reports equals the sum of the entries; a reversal
//! restores every account; closing moves nothing but income and expense into fund balance.

use proptest::prelude::*;
use yibao_books::{
    Account, AccountClass, Book, BooksError, Entry, GovernmentLevel, Ledger, Month, MonthlyTotals, Origin, Payer,
    Period, Posting, Receipt, Side, TransferDirection,
};
use yibao_money::Money;

#[derive(Clone, Debug)]
enum Event {
    Opening(Book, u8, i64),
    Contribution(Book, u8, Payer, i64),
    Split(Book, u8, Payer, i64, i64),
    Subsidy(Book, u8, GovernmentLevel, Receipt, i64),
    Collected(Book, u8, GovernmentLevel, i64),
    Settlement(u8, Vec<(Book, i64)>),
    Cleared(Book, u8, i64),
    Regional(Book, u8, TransferDirection, i64),
    Interest(Book, u8, i64),
    Transfer(Book, Book, u8, i64),
}

fn month(m: u8) -> Month {
    Month::new(2024, m).unwrap()
}

fn money(fen: i64) -> Money {
    Money::from_fen(fen)
}

fn build(event: &Event) -> Result<Posting, BooksError> {
    match *event {
        Event::Opening(book, m, a) => Posting::opening_balance(book, month(m), money(a)),
        Event::Contribution(book, m, payer, a) => Posting::contribution(book, month(m), payer, money(a)),
        Event::Split(book, m, payer, a, b) => Posting::contribution_split(book, month(m), payer, money(a), money(b)),
        Event::Subsidy(book, m, level, receipt, a) => Posting::fiscal_subsidy(book, month(m), level, receipt, money(a)),
        Event::Collected(book, m, level, a) => Posting::fiscal_subsidy_collected(book, month(m), level, money(a)),
        Event::Settlement(m, ref paid) => {
            let paid: Vec<(Book, Money)> = paid.iter().map(|&(b, a)| (b, money(a))).collect();
            Posting::settlement(month(m), &paid)
        }
        Event::Cleared(book, m, a) => Posting::institution_payment_cleared(book, month(m), money(a)),
        Event::Regional(book, m, direction, a) => {
            Posting::regional_transfer(book, month(m), direction, 440100, money(a))
        }
        Event::Interest(book, m, a) => Posting::interest(book, month(m), money(a)),
        Event::Transfer(from, to, m, a) => Posting::fund_transfer(from, to, month(m), money(a)),
    }
}

fn book() -> impl Strategy<Value = Book> {
    prop::sample::select(Book::ALL.to_vec())
}

fn amount() -> impl Strategy<Value = i64> {
    prop_oneof![Just(0i64), 1i64..=100, 1i64..=10_000_000_000]
}

fn event() -> impl Strategy<Value = Event> {
    let m = 1u8..=12;
    let payer = prop_oneof![Just(Payer::Employer), Just(Payer::Individual)];
    let level = prop::sample::select(vec![
        GovernmentLevel::Central,
        GovernmentLevel::Provincial,
        GovernmentLevel::Municipal,
        GovernmentLevel::County,
    ]);
    let receipt = prop_oneof![Just(Receipt::Received), Just(Receipt::Receivable)];
    let direction = prop_oneof![Just(TransferDirection::In), Just(TransferDirection::Out)];
    prop_oneof![
        (book(), m.clone(), amount()).prop_map(|(b, m, a)| Event::Opening(b, m, a)),
        (book(), m.clone(), payer.clone(), amount()).prop_map(|(b, m, p, a)| Event::Contribution(b, m, p, a)),
        (book(), m.clone(), payer, amount(), amount()).prop_map(|(b, m, p, a, c)| Event::Split(b, m, p, a, c)),
        (book(), m.clone(), level.clone(), receipt, amount()).prop_map(|(b, m, l, r, a)| Event::Subsidy(b, m, l, r, a)),
        (book(), m.clone(), level, amount()).prop_map(|(b, m, l, a)| Event::Collected(b, m, l, a)),
        (m.clone(), prop::collection::vec((book(), amount()), 0..5)).prop_map(|(m, p)| Event::Settlement(m, p)),
        (book(), m.clone(), amount()).prop_map(|(b, m, a)| Event::Cleared(b, m, a)),
        (book(), m.clone(), direction, amount()).prop_map(|(b, m, d, a)| Event::Regional(b, m, d, a)),
        (book(), m.clone(), amount()).prop_map(|(b, m, a)| Event::Interest(b, m, a)),
        (book(), book(), m, amount()).prop_map(|(f, t, m, a)| Event::Transfer(f, t, m, a)),
    ]
}

/// Debits and credits per book, summed independently of the crate.
fn sides_per_book(entries: &[Entry]) -> [(i128, i128); 8] {
    let mut sums = [(0i128, 0i128); 8];
    for e in entries {
        assert!(!e.amount.is_negative());
        let s = &mut sums[e.book.index()];
        match e.side {
            Side::Debit => s.0 += i128::from(e.amount.fen()),
            Side::Credit => s.1 += i128::from(e.amount.fen()),
        }
    }
    sums
}

/// The postings the events make, leaving out those a book's chart refuses.
fn postings(events: &[Event]) -> Vec<Posting> {
    events.iter().filter_map(|e| build(e).ok()).collect()
}

fn normal_balance_fen(entries: &[Entry], book: Book, account: Account, through: Month) -> i64 {
    let net_debit: i64 = entries
        .iter()
        .filter(|e| e.book == book && e.account == account && e.month <= through)
        .map(|e| match e.side {
            Side::Debit => e.amount.fen(),
            Side::Credit => -e.amount.fen(),
        })
        .sum();
    match account.class().normal_side() {
        Side::Debit => net_debit,
        Side::Credit => -net_debit,
    }
}

proptest! {
    #[test]
    fn every_posting_balances_in_every_book(event in event()) {
        match build(&event) {
            Ok(posting) => {
                prop_assert!(posting.validate().is_ok());
                for (book, (debit, credit)) in Book::ALL.iter().zip(sides_per_book(posting.entries())) {
                    prop_assert_eq!(debit, credit, "book {}", book);
                }
                for entry in posting.entries() {
                    prop_assert!(entry.book.uses(entry.account));
                    prop_assert!(!entry.amount.is_zero(), "zero amounts post nothing");
                }
            }
            Err(error) => prop_assert!(
                matches!(error, BooksError::AccountNotInChart { .. } | BooksError::TransferWithinBook { .. }),
                "unexpected refusal {error:?} of {event:?}"
            ),
        }
    }

    #[test]
    fn balances_equal_the_sum_of_entries(events in prop::collection::vec(event(), 0..60)) {
        let mut ledger = Ledger::new();
        for posting in postings(&events) {
            ledger.post(posting).unwrap();
        }
        let entries = ledger.entries();
        let totals = MonthlyTotals::from_entries(entries);
        // Aggregating parts (in any order) and merging gives the same totals.
        let (left, right) = entries.split_at(entries.len() / 3);
        let mut merged = MonthlyTotals::from_entries(right);
        merged.merge(&MonthlyTotals::from_entries(left));
        prop_assert_eq!(&merged, &totals);
        for (debit, credit) in sides_per_book(entries) {
            prop_assert_eq!(debit, credit);
        }
        for book in Book::ALL {
            let mut net_assets = 0i64;
            for account in Account::ALL {
                let expected = normal_balance_fen(entries, book, account, month(12));
                prop_assert_eq!(ledger.balance(book, account).fen(), expected);
                prop_assert_eq!(totals.account_balance(book, account, month(12)).fen(), expected);
                match account.class() {
                    AccountClass::Asset => net_assets += expected,
                    AccountClass::Liability => net_assets -= expected,
                    _ => {}
                }
            }
            prop_assert_eq!(totals.accumulated_balance(book, month(12)).fen(), net_assets);
            for m in 1..=12 {
                let income: i64 = Account::ALL
                    .iter()
                    .filter(|a| a.class() == AccountClass::Income)
                    .map(|&a| normal_balance_fen(entries, book, a, month(m)) - if m > 1 { normal_balance_fen(entries, book, a, month(m - 1)) } else { 0 })
                    .sum();
                prop_assert_eq!(totals.income(book, Period::Month(month(m))).fen(), income);
            }
            let trial = ledger.trial_balance(book, month(12));
            prop_assert!(trial.is_balanced());
        }
    }

    #[test]
    fn reversal_restores_every_account(events in prop::collection::vec(event(), 0..40)) {
        let mut ledger = Ledger::new();
        let posted = postings(&events);
        for posting in &posted {
            ledger.post(posting.clone()).unwrap();
        }
        for posting in &posted {
            let reversal = posting.reversal(month(12)).unwrap();
            prop_assert_eq!(reversal.entries().len(), posting.entries().len());
            prop_assert!(reversal.is_reversal());
            ledger.post(reversal).unwrap();
        }
        let totals = ledger.totals();
        for book in Book::ALL {
            for account in Account::ALL {
                prop_assert_eq!(ledger.balance(book, account), Money::ZERO);
            }
            prop_assert_eq!(totals.income(book, Period::Year(2024)), Money::ZERO);
            prop_assert_eq!(totals.expenditure(book, Period::Year(2024)), Money::ZERO);
            prop_assert_eq!(totals.accumulated_balance(book, month(12)), Money::ZERO);
        }
    }

    #[test]
    fn closing_moves_only_income_and_expense_into_fund_balance(events in prop::collection::vec(event(), 0..40)) {
        let mut ledger = Ledger::new();
        for posting in postings(&events) {
            ledger.post(posting).unwrap();
        }
        let before = ledger.totals();
        let closed = ledger.close(Period::Year(2024)).unwrap();
        let after = ledger.totals();
        for (book, trial) in Book::ALL.into_iter().zip(&closed.after) {
            prop_assert!(trial.is_balanced());
            prop_assert_eq!(after.accumulated_balance(book, month(12)), before.accumulated_balance(book, month(12)));
            prop_assert_eq!(after.income(book, Period::Year(2024)), before.income(book, Period::Year(2024)));
            prop_assert_eq!(after.expenditure(book, Period::Year(2024)), before.expenditure(book, Period::Year(2024)));
            // After close, fund balance alone holds the accumulated balance: opening balances
            // were posted to it, and every income and expense has been carried into it.
            prop_assert_eq!(trial.balance(Account::FundBalance), before.accumulated_balance(book, month(12)));
        }
        let late = Posting::interest(Book::EmployeePooled, month(12), Money::from_yuan(1)).unwrap();
        let refused = ledger.post(late);
        prop_assert!(matches!(refused, Err(BooksError::PeriodClosed { .. })), "a closed month refuses postings");
    }

    /// A ledger restored from what a store keeps (per-month sums of the business entries, the
    /// closing entries as posted) closes exactly like the ledger of the original entries.
    #[test]
    fn a_restored_ledger_closes_like_the_original(events in prop::collection::vec(event(), 1..40), first in 1u8..=6, second in 7u8..=11) {
        let mut original = Ledger::new();
        for p in postings(&events) {
            original.post(p).unwrap();
        }
        let first_close = original.close(Period::Month(month(first))).unwrap();
        // What the store keeps: business entries summed per book, account, month and side.
        let mut sums: std::collections::BTreeMap<(usize, usize, Month, bool), Money> = Default::default();
        for e in original.entries().iter().filter(|e| e.origin == Origin::Business) {
            *sums.entry((e.book.index(), e.account.index(), e.month, e.side == Side::Debit)).or_default() += e.amount;
        }
        let mut stored: Vec<Entry> = sums
            .into_iter()
            .map(|((b, a, m, debit), amount)| {
                let (d, c) = if debit { (amount, Money::ZERO) } else { (Money::ZERO, amount) };
                Entry::from_stored(Book::ALL[b].code(), Account::ALL[a].id(), d, c, m, Origin::Business).unwrap()
            })
            .collect();
        stored.extend_from_slice(first_close.posting.entries());
        let mut restored = Ledger::restore(stored, original.closed_through());
        let expected = original.close(Period::Month(month(second))).unwrap();
        let again = restored.close(Period::Month(month(second))).unwrap();
        prop_assert_eq!(again.after, expected.after);
        let key = |e: &Entry| (e.book.index(), e.account.index(), e.side == Side::Debit, e.amount);
        let mut a: Vec<_> = again.posting.entries().iter().map(key).collect();
        let mut b: Vec<_> = expected.posting.entries().iter().map(key).collect();
        a.sort();
        b.sort();
        prop_assert_eq!(a, b);
        // A month already closed stays closed after the restore.
        let early = restored.close(Period::Month(month(first)));
        prop_assert!(matches!(early, Err(BooksError::CloseOutOfOrder { .. })), "{:?}", early.err());
    }
}
