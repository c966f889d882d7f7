//! Reconciliation: two simulated years of a small region (contributions, fiscal subsidies,
//! settlements, reversals, transfers, interest, payments to institutions, closes), generated
//! deterministically. The business records are kept apart from the ledger; every figure the
//! books give — income, expenditure, accumulated balance, payable, months of cover, growth — is
//! then recomputed from those records alone and must be equal to the fen.

use yibao_books::{
    fund_indicators, Account, AccountClass, Book, GovernmentLevel, Ledger, Month, Payer, Period, Posting, Receipt,
    TransferDirection, BOOK_COUNT,
};
use yibao_money::Money;

struct SplitMix64(u64);

impl SplitMix64 {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, bound: u64) -> u64 {
        self.next() % bound
    }

    fn yuan(&mut self, low: i64, high: i64) -> Money {
        Money::from_fen(low * 100 + self.below(((high - low) * 100) as u64) as i64)
    }
}

const YEARS: [u16; 2] = [2023, 2024];

/// A business record: what a contribution, subsidy, settlement … system would store, with
/// the book that receives or pays each amount, its month and whether it is income or spending.
#[derive(Clone, Debug)]
enum Record {
    Opening {
        book: Book,
        amount: Money,
    },
    Contribution {
        book: Book,
        payer: Payer,
        amount: Money,
    },
    SplitContribution {
        pooled: Money,
        personal_account: Money,
    },
    SubsidyDue {
        book: Book,
        level: GovernmentLevel,
        amount: Money,
        collected: Month,
    },
    Settlement {
        paid: Vec<(Book, Money)>,
        reversed: Option<Month>,
    },
    FundTransfer {
        from: Book,
        to: Book,
        amount: Money,
    },
    Regional {
        book: Book,
        direction: TransferDirection,
        amount: Money,
    },
    Interest {
        book: Book,
        amount: Money,
    },
}

fn month(year: u16, m: u8) -> Month {
    Month::new(year, m).unwrap()
}

fn all_months() -> Vec<Month> {
    YEARS.iter().flat_map(|&y| (1..=12).map(move |m| month(y, m))).collect()
}

/// The region's two years of records, each with the month it happened in.
fn simulate() -> Vec<(Month, Record)> {
    let mut rng = SplitMix64(0x5EED_2024);
    let mut records = Vec::new();
    let first = month(2023, 1);
    for book in Book::ALL {
        records.push((
            first,
            Record::Opening {
                book,
                amount: rng.yuan(100_000, 2_000_000),
            },
        ));
    }
    for (y, &year) in YEARS.iter().enumerate() {
        // Later years grow: more contributions and more spending.
        let grow = |m: Money| Money::from_fen(m.fen() * (100 + 6 * y as i64) / 100);
        for m in 1..=12 {
            let at = month(year, m);
            for _ in 0..800 {
                records.push((
                    at,
                    Record::SplitContribution {
                        pooled: grow(rng.yuan(300, 900)),
                        personal_account: grow(rng.yuan(60, 180)),
                    },
                ));
            }
            for _ in 0..200 {
                let amount = rng.yuan(80, 150);
                records.push((
                    at,
                    Record::FundTransfer {
                        from: Book::EmployeePooled,
                        to: Book::PersonalAccount,
                        amount,
                    },
                ));
            }
            records.push((
                at,
                Record::Contribution {
                    book: Book::Maternity,
                    payer: Payer::Employer,
                    amount: grow(rng.yuan(20_000, 30_000)),
                },
            ));
            records.push((
                at,
                Record::Contribution {
                    book: Book::CivilServant,
                    payer: Payer::Employer,
                    amount: rng.yuan(10_000, 20_000),
                },
            ));
            for book in [Book::EmployeePooled, Book::ResidentPooled] {
                records.push((
                    at,
                    Record::Interest {
                        book,
                        amount: rng.yuan(100, 900),
                    },
                ));
            }
            if m % 3 == 0 {
                // The resident fund buys critical-illness cover quarterly.
                let amount = rng.yuan(30_000, 40_000);
                records.push((
                    at,
                    Record::FundTransfer {
                        from: Book::ResidentPooled,
                        to: Book::CriticalIllness,
                        amount,
                    },
                ));
            }
            if rng.below(3) == 0 {
                let direction = if rng.below(2) == 0 {
                    TransferDirection::In
                } else {
                    TransferDirection::Out
                };
                records.push((
                    at,
                    Record::Regional {
                        book: Book::PersonalAccount,
                        direction,
                        amount: rng.yuan(100, 3_000),
                    },
                ));
            }
            for _ in 0..250 {
                let employee = rng.below(3) == 0;
                let roll = rng.below(100);
                let mut paid = if employee {
                    vec![
                        (Book::EmployeePooled, grow(rng.yuan(20, 4_000))),
                        (Book::PersonalAccount, rng.yuan(0, 200)),
                    ]
                } else {
                    vec![(Book::ResidentPooled, grow(rng.yuan(10, 3_000)))]
                };
                let supplementary = match (employee, roll) {
                    (true, 0..=2) => Some((Book::LargeExpense, rng.yuan(1_000, 30_000))),
                    (true, 3..=4) => Some((Book::CivilServant, rng.yuan(100, 3_000))),
                    (true, 5..=6) => Some((Book::Maternity, rng.yuan(2_000, 8_000))),
                    (false, 0..=2) => Some((Book::CriticalIllness, rng.yuan(1_000, 40_000))),
                    (false, 3..=5) => Some((Book::MedicalAssistance, rng.yuan(100, 5_000))),
                    _ => None,
                };
                paid.extend(supplementary);
                // About 2% are reversed, in the same month or up to two months later (possibly
                // in the next year).
                let reversed = (rng.below(50) == 0).then(|| at.plus_months(rng.below(3) as i32));
                let reversed = reversed.filter(|r| r.year() <= 2024);
                records.push((at, Record::Settlement { paid, reversed }));
            }
        }
        // Residents pay once, early in the year; fiscal subsidies are due in March, paid in June.
        for _ in 0..2_000 {
            let at = month(year, 1 + rng.below(2) as u8);
            records.push((
                at,
                Record::Contribution {
                    book: Book::ResidentPooled,
                    payer: Payer::Individual,
                    amount: grow(Money::from_yuan(380)),
                },
            ));
        }
        for (level, per_person) in [
            (GovernmentLevel::Central, 400),
            (GovernmentLevel::Provincial, 150),
            (GovernmentLevel::County, 90),
        ] {
            records.push((
                month(year, 3),
                Record::SubsidyDue {
                    book: Book::ResidentPooled,
                    level,
                    amount: Money::from_yuan(2_000 * per_person),
                    collected: month(year, 6),
                },
            ));
        }
        records.push((
            month(year, 2),
            Record::SubsidyDue {
                book: Book::MedicalAssistance,
                level: GovernmentLevel::Municipal,
                amount: rng.yuan(200_000, 300_000),
                collected: month(year, 4),
            },
        ));
        for _ in 0..100 {
            // Medical assistance sponsors the enrolment of special groups (资助参保).
            records.push((
                month(year, 1),
                Record::FundTransfer {
                    from: Book::MedicalAssistance,
                    to: Book::ResidentPooled,
                    amount: Money::from_yuan(380),
                },
            ));
        }
        records.push((
            month(year, 1),
            Record::Contribution {
                book: Book::LargeExpense,
                payer: Payer::Individual,
                amount: rng.yuan(100_000, 120_000),
            },
        ));
    }
    records
}

/// Posts the records month by month, as the platform would with each business write, paying
/// institutions what is owed at each month's end and closing every month and then every year.
fn post(records: &[(Month, Record)]) -> Ledger {
    let mut ledger = Ledger::new();
    for at in all_months() {
        let mut postings = Vec::new();
        for (when, record) in records {
            match record {
                Record::SubsidyDue {
                    book,
                    level,
                    amount,
                    collected,
                } if *collected == at => {
                    postings.push(Posting::fiscal_subsidy_collected(*book, at, *level, *amount).unwrap());
                }
                Record::Settlement {
                    paid,
                    reversed: Some(r),
                } if *r == at => {
                    let original = Posting::settlement(*when, paid).unwrap();
                    postings.push(original.reversal(at).unwrap());
                }
                _ => {}
            }
            if *when != at {
                continue;
            }
            postings.push(
                match record {
                    Record::Opening { book, amount } => Posting::opening_balance(*book, at, *amount),
                    Record::Contribution { book, payer, amount } => Posting::contribution(*book, at, *payer, *amount),
                    Record::SplitContribution {
                        pooled,
                        personal_account,
                    } => Posting::contribution_split(
                        Book::EmployeePooled,
                        at,
                        Payer::Employer,
                        *pooled,
                        *personal_account,
                    ),
                    Record::SubsidyDue {
                        book, level, amount, ..
                    } => Posting::fiscal_subsidy(*book, at, *level, Receipt::Receivable, *amount),
                    Record::Settlement { paid, .. } => Posting::settlement(at, paid),
                    Record::FundTransfer { from, to, amount } => Posting::fund_transfer(*from, *to, at, *amount),
                    Record::Regional {
                        book,
                        direction,
                        amount,
                    } => Posting::regional_transfer(*book, at, *direction, 500100, *amount),
                    Record::Interest { book, amount } => Posting::interest(*book, at, *amount),
                }
                .unwrap(),
            );
        }
        // Reversals come after the settlement they undo when both fall in the same month.
        postings.sort_by_key(|p| p.is_reversal());
        for posting in postings {
            ledger.post(posting).unwrap();
        }
        for book in Book::ALL {
            let owed = ledger.balance(book, Account::PayableInstitution);
            // Institutions are paid what they are owed, except a tenth kept back (质量保证金).
            // A reversal after payment can leave them owing the fund: nothing is paid then, and
            // the amount is set off against later settlements.
            let pay = Money::from_fen((owed.fen() - owed.fen() / 10).max(0));
            ledger
                .post(Posting::institution_payment_cleared(book, at, pay).unwrap())
                .unwrap();
        }
        let closed = ledger.close(Period::Month(at)).unwrap();
        for trial in &closed.after {
            assert!(trial.is_balanced());
        }
        if at.month() == 12 {
            ledger.close(Period::Year(at.year())).unwrap();
        }
    }
    ledger
}

/// Income and expenditure per book and month, from the business records only.
#[derive(Default)]
struct Recomputed {
    income: std::collections::BTreeMap<(usize, Month), i64>,
    expenditure: std::collections::BTreeMap<(usize, Month), i64>,
    opening: [i64; BOOK_COUNT],
    settled: [i64; BOOK_COUNT],
}

fn recompute(records: &[(Month, Record)]) -> Recomputed {
    let mut r = Recomputed::default();
    let add = |map: &mut std::collections::BTreeMap<(usize, Month), i64>, book: Book, at: Month, fen: i64| {
        *map.entry((book.index(), at)).or_default() += fen;
    };
    for (at, record) in records {
        let at = *at;
        match record {
            Record::Opening { book, amount } => r.opening[book.index()] += amount.fen(),
            Record::Contribution { book, amount, .. } => add(&mut r.income, *book, at, amount.fen()),
            Record::SplitContribution {
                pooled,
                personal_account,
            } => {
                add(&mut r.income, Book::EmployeePooled, at, pooled.fen());
                add(&mut r.income, Book::PersonalAccount, at, personal_account.fen());
            }
            // Subsidy income is recognized when due; collection only moves it to the bank.
            Record::SubsidyDue { book, amount, .. } => add(&mut r.income, *book, at, amount.fen()),
            Record::Settlement { paid, reversed } => {
                for (book, amount) in paid {
                    add(&mut r.expenditure, *book, at, amount.fen());
                    if let Some(reversed_at) = reversed {
                        add(&mut r.expenditure, *book, *reversed_at, -amount.fen());
                    } else {
                        r.settled[book.index()] += amount.fen();
                    }
                }
            }
            Record::FundTransfer { from, to, amount } => {
                add(&mut r.expenditure, *from, at, amount.fen());
                add(&mut r.income, *to, at, amount.fen());
            }
            Record::Regional {
                book,
                direction,
                amount,
            } => match direction {
                TransferDirection::In => add(&mut r.income, *book, at, amount.fen()),
                TransferDirection::Out => add(&mut r.expenditure, *book, at, amount.fen()),
            },
            Record::Interest { book, amount } => add(&mut r.income, *book, at, amount.fen()),
        }
    }
    r
}

impl Recomputed {
    fn income(&self, book: Book, months: &[Month]) -> i64 {
        months
            .iter()
            .map(|m| self.income.get(&(book.index(), *m)).copied().unwrap_or(0))
            .sum()
    }
    fn expenditure(&self, book: Book, months: &[Month]) -> i64 {
        months
            .iter()
            .map(|m| self.expenditure.get(&(book.index(), *m)).copied().unwrap_or(0))
            .sum()
    }
    fn accumulated(&self, book: Book, through: Month) -> i64 {
        let months: Vec<Month> = all_months().into_iter().filter(|m| *m <= through).collect();
        self.opening[book.index()] + self.income(book, &months) - self.expenditure(book, &months)
    }
}

/// Half-up division, written out again so that the check does not reuse the crate's rounding.
fn half_up(numerator: i128, denominator: i128) -> i128 {
    assert!(denominator > 0);
    let twice = 2 * numerator.abs() + denominator;
    numerator.signum() * (twice / (2 * denominator))
}

fn period_months(period: Period) -> Vec<Month> {
    all_months().into_iter().filter(|m| period.contains(*m)).collect()
}

#[test]
fn the_books_agree_with_the_business_records() {
    let records = simulate();
    let ledger = post(&records);
    let expected = recompute(&records);
    let totals = ledger.totals();

    let mut periods: Vec<Period> = YEARS.iter().map(|&y| Period::Year(y)).collect();
    periods.extend(all_months().into_iter().map(Period::Month));
    let mut checked = 0;
    for period in periods {
        for book in Book::ALL {
            let months = period_months(period);
            let got = fund_indicators(&totals, book, period);
            let income = expected.income(book, &months);
            let expenditure = expected.expenditure(book, &months);
            let accumulated = expected.accumulated(book, period.last_month());
            let context = format!("{} {period}", book.code());
            assert_eq!(got.income.fen(), income, "income {context}");
            assert_eq!(got.expenditure.fen(), expenditure, "expenditure {context}");
            assert_eq!(got.current_balance.fen(), income - expenditure, "current {context}");
            assert_eq!(got.accumulated_balance.fen(), accumulated, "accumulated {context}");

            // Months of cover: the 12 months ending with the period, within the books' span.
            let last = period.last_month();
            let window: Vec<Month> = all_months()
                .into_iter()
                .filter(|m| *m <= last && m.index() > last.index() - 12)
                .collect();
            assert_eq!(got.cover_window, (window[0], last), "{context}");
            let window_spend = i128::from(expected.expenditure(book, &window));
            let cover = (window_spend > 0)
                .then(|| half_up(i128::from(accumulated) * 10 * window.len() as i128, window_spend) as i64);
            assert_eq!(got.months_of_cover.map(|m| m.tenths()), cover, "cover {context}");

            // Growth against the same period a year earlier, when the books cover it.
            let growth = |now: i64, then: i64| {
                (then > 0).then(|| half_up(i128::from(now - then) * 10_000, i128::from(then)) as i64)
            };
            let (income_growth, expenditure_growth) = match period.a_year_earlier() {
                Some(earlier) if earlier.last_month().year() >= YEARS[0] => {
                    let earlier_months = period_months(earlier);
                    (
                        growth(income, expected.income(book, &earlier_months)),
                        growth(expenditure, expected.expenditure(book, &earlier_months)),
                    )
                }
                _ => (None, None),
            };
            assert_eq!(
                got.income_growth.map(|p| p.hundredths()),
                income_growth,
                "income growth {context}"
            );
            assert_eq!(
                got.expenditure_growth.map(|p| p.hundredths()),
                expenditure_growth,
                "spend growth {context}"
            );
            checked += 1;
        }
    }
    assert_eq!(checked, BOOK_COUNT * 26);

    // At the end, after the annual close: the payable is what was settled and not yet paid,
    // income and expense accounts are empty, and fund balance holds the accumulated balance.
    let end = month(2024, 12);
    for book in Book::ALL {
        let trial = ledger.trial_balance(book, end);
        trial.assert_balanced();
        let accumulated = expected.accumulated(book, end);
        assert_eq!(
            trial.balance(Account::FundBalance).fen(),
            accumulated,
            "{}",
            book.code()
        );
        for row in trial
            .rows
            .iter()
            .filter(|r| matches!(r.account.class(), AccountClass::Income | AccountClass::Expense))
        {
            assert!(row.balance.is_zero(), "{} {} after close", book.code(), row.account);
        }
        let payable = trial.balance(Account::PayableInstitution).fen();
        let cleared: i64 = ledger
            .entries()
            .iter()
            .filter(|e| e.book == book && e.account == Account::PayableInstitution)
            .filter(|e| e.side == yibao_books::Side::Debit)
            .map(|e| e.amount.fen())
            .sum::<i64>();
        let reversed: i64 = records
            .iter()
            .filter_map(|(_, r)| match r {
                Record::Settlement {
                    paid,
                    reversed: Some(_),
                } => Some(
                    paid.iter()
                        .filter(|(b, _)| *b == book)
                        .map(|(_, a)| a.fen())
                        .sum::<i64>(),
                ),
                _ => None,
            })
            .sum();
        // Debits to payable are payments plus reversals; what remains owed is settled − paid.
        assert_eq!(
            payable,
            expected.settled[book.index()] - (cleared - reversed),
            "payable {}",
            book.code()
        );
        assert_eq!(
            trial.balance(Account::BankDeposit).fen() + trial.balance(Account::FiscalReceivable).fen() - payable,
            accumulated,
            "net assets {}",
            book.code()
        );
    }
    assert_eq!(ledger.closed_through(), Some(end));
}
