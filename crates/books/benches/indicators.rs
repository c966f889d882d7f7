//! Indicators for a year of a 1,000,000-person region (target: under 5 s).
//!
//! The region's year is generated once, outside the timed loop, through the real posting
//! constructors and [`Ledger::post`]: 300,000 in-service employees contributing monthly (split
//! into pooled and personal-account parts), 100,000 retirees whose personal accounts the pooled
//! fund credits monthly (a fund transfer), 600,000 residents contributing once, fiscal subsidies by
//! government level, 20 settlements per person (employees: pooled + personal account, sometimes
//! large-expense and civil-servant; residents: pooled, sometimes critical illness and assistance),
//! 1% reversed, and monthly payments to institutions. The timed part is what a bureau runs: one
//! pass over every entry, then every fund's indicators for the year and each month, and their
//! warnings.
//!
//! Run: `cargo bench -p yibao-books -- --sample-size 10`.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use yibao_books::{
    all_fund_indicators, Book, Entry, GovernmentLevel, Ledger, Month, MonthlyTotals, Payer, Period, Posting, Receipt,
    WarningThresholds,
};
use yibao_money::Money;

const YEAR: u16 = 2024;
const EMPLOYEES: u64 = 300_000;
const RETIREES: u64 = 100_000;
const RESIDENTS: u64 = 600_000;
const SETTLEMENTS_PER_PERSON: u64 = 20;

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

    fn fen(&mut self, low_yuan: i64, high_yuan: i64) -> Money {
        let span = (high_yuan - low_yuan) * 100;
        Money::from_fen(low_yuan * 100 + self.below(span as u64) as i64)
    }
}

fn month(m: u8) -> Month {
    Month::new(YEAR, m).unwrap()
}

fn region_year() -> Vec<Entry> {
    let mut rng = SplitMix64(20240101);
    let mut ledger = Ledger::new();
    let post = |ledger: &mut Ledger, posting: Posting| ledger.post(posting).unwrap();
    for m in 1..=12 {
        for _ in 0..EMPLOYEES {
            let pooled = rng.fen(400, 1200);
            let account = rng.fen(80, 240);
            post(
                &mut ledger,
                Posting::contribution_split(Book::EmployeePooled, month(m), Payer::Employer, pooled, account).unwrap(),
            );
        }
        for _ in 0..RETIREES {
            let credit = rng.fen(80, 150);
            post(
                &mut ledger,
                Posting::fund_transfer(Book::EmployeePooled, Book::PersonalAccount, month(m), credit).unwrap(),
            );
        }
        for level in [
            GovernmentLevel::Central,
            GovernmentLevel::Provincial,
            GovernmentLevel::County,
        ] {
            let amount = Money::from_yuan(RESIDENTS as i64 * 55);
            post(
                &mut ledger,
                Posting::fiscal_subsidy(Book::ResidentPooled, month(m), level, Receipt::Received, amount).unwrap(),
            );
        }
    }
    for _ in 0..RESIDENTS {
        let m = 1 + rng.below(2) as u8;
        post(
            &mut ledger,
            Posting::contribution(Book::ResidentPooled, month(m), Payer::Individual, Money::from_yuan(380)).unwrap(),
        );
    }
    let mut payable = [Money::ZERO; 8];
    for person in 0..EMPLOYEES + RETIREES + RESIDENTS {
        let employee = person < EMPLOYEES + RETIREES;
        for _ in 0..SETTLEMENTS_PER_PERSON {
            let m = 1 + rng.below(12) as u8;
            let roll = rng.below(100);
            let paid: Vec<(Book, Money)> = if employee {
                let mut paid = vec![
                    (Book::EmployeePooled, rng.fen(20, 900)),
                    (Book::PersonalAccount, rng.fen(5, 100)),
                ];
                if roll < 3 {
                    paid.push((Book::LargeExpense, rng.fen(500, 20_000)));
                }
                if roll < 5 {
                    paid.push((Book::CivilServant, rng.fen(50, 2_000)));
                }
                paid
            } else {
                let mut paid = vec![(Book::ResidentPooled, rng.fen(10, 600))];
                if roll < 2 {
                    paid.push((Book::CriticalIllness, rng.fen(500, 30_000)));
                }
                if roll < 4 {
                    paid.push((Book::MedicalAssistance, rng.fen(50, 3_000)));
                }
                paid
            };
            let settlement = Posting::settlement(month(m), &paid).unwrap();
            if rng.below(100) == 0 {
                let later = month((m + 1).min(12));
                let reversal = settlement.reversal(later).unwrap();
                post(&mut ledger, settlement);
                post(&mut ledger, reversal);
            } else {
                for (book, amount) in paid {
                    payable[book.index()] += amount;
                }
                post(&mut ledger, settlement);
            }
        }
    }
    for book in Book::ALL {
        post(
            &mut ledger,
            Posting::institution_payment_cleared(book, month(12), payable[book.index()]).unwrap(),
        );
    }
    ledger.entries().to_vec()
}

fn thresholds() -> WarningThresholds {
    toml::from_str(
        "months_of_cover_min = 6\nmonths_of_cover_max = 24\nspending_growth_over_income_growth_max_pct = 5\ncurrent_deficit = true\n",
    )
    .unwrap()
}

fn indicators_for_year(entries: &[Entry], thresholds: &WarningThresholds) -> usize {
    let totals = MonthlyTotals::from_entries(entries);
    report(&totals, thresholds)
}

fn report(totals: &MonthlyTotals, thresholds: &WarningThresholds) -> usize {
    let mut warnings = 0;
    let periods = std::iter::once(Period::Year(YEAR)).chain((1..=12).map(|m| Period::Month(month(m))));
    for period in periods {
        for indicators in all_fund_indicators(totals, period) {
            warnings += indicators.warnings(thresholds).len();
        }
    }
    warnings
}

/// The same pass split over two threads and merged: what a multi-core report server does.
fn indicators_for_year_parallel(entries: &[Entry], thresholds: &WarningThresholds) -> usize {
    let (left, right) = entries.split_at(entries.len() / 2);
    let (mut totals, other) = std::thread::scope(|scope| {
        let handle = scope.spawn(|| MonthlyTotals::from_entries(right));
        (MonthlyTotals::from_entries(left), handle.join().unwrap())
    });
    totals.merge(&other);
    report(&totals, thresholds)
}

fn bench(c: &mut Criterion) {
    let entries = region_year();
    let thresholds = thresholds();
    eprintln!(
        "region year: {} entries, {} MB",
        entries.len(),
        entries.len() * std::mem::size_of::<Entry>() / 1_000_000
    );
    let mut group = c.benchmark_group("indicators");
    group.throughput(Throughput::Elements(entries.len() as u64));
    group.bench_function("year_1m_persons_one_pass", |b| {
        b.iter(|| indicators_for_year(black_box(&entries), &thresholds))
    });
    group.bench_function("year_1m_persons_two_threads", |b| {
        b.iter(|| indicators_for_year_parallel(black_box(&entries), &thresholds))
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
