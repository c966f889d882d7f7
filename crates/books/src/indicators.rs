//! Fund-operation indicators (基金运行指标) per fund and period, read from [`MonthlyTotals`].
//!
//! Definitions, so that a figure can be recomputed by hand:
//!
//! - income: net credit of the income accounts in the period (contributions, fiscal subsidies,
//!   interest, transfers in, less reversals); expenditure: net debit of the expense accounts
//!   (benefits, transfers out, less reversals); closing entries are not counted;
//! - current balance (当期结余) = income − expenditure;
//! - accumulated balance (累计结存) = the fund's net assets at the end of the period (every entry
//!   since the books began, opening balance included);
//! - months of cover (累计结存可支付月数) = accumulated balance ÷ average monthly expenditure, where
//!   the average is taken over the [`COVER_WINDOW_MONTHS`] calendar months ending with the
//!   period's last month (for a year, that year), shortened to the months since the books'
//!   first month when they began later; computed from the exact quotient and rounded once, half
//!   up, to 0.1 month; absent when that expenditure is not positive;
//! - growth (同比增长) = (this period − the same period a year earlier) ÷ the earlier figure,
//!   rounded half up to 0.01%; absent when the earlier figure is not positive or precedes the
//!   books.

use yibao_money::{Money, Rounding};

use crate::book::Book;
use crate::numbers::{Months, Percent};
use crate::period::{Month, Period};
use crate::totals::MonthlyTotals;

/// Months whose expenditure is averaged for months of cover.
pub const COVER_WINDOW_MONTHS: i32 = 12;

/// One fund's indicators for one period.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FundIndicators {
    pub book: Book,
    pub period: Period,
    pub income: Money,
    pub expenditure: Money,
    /// income − expenditure.
    pub current_balance: Money,
    /// Net assets at the end of the period.
    pub accumulated_balance: Money,
    /// First and last month of the expenditure averaged for months of cover.
    pub cover_window: (Month, Month),
    /// Expenditure over the cover window ÷ its months, rounded half up to the fen (reported; the
    /// months of cover use the exact quotient).
    pub average_monthly_expenditure: Money,
    pub months_of_cover: Option<Months>,
    /// Year-on-year growth of income.
    pub income_growth: Option<Percent>,
    /// Year-on-year growth of expenditure.
    pub expenditure_growth: Option<Percent>,
}

/// The indicators of `book` for `period`.
pub fn fund_indicators(totals: &MonthlyTotals, book: Book, period: Period) -> FundIndicators {
    let income = totals.income(book, period);
    let expenditure = totals.expenditure(book, period);
    let last = period.last_month();
    let accumulated_balance = totals.accumulated_balance(book, last);

    let books_begin = totals.first_month().unwrap_or(last).min(last);
    let window_first = last.plus_months(1 - COVER_WINDOW_MONTHS).max(books_begin);
    let window_months = i128::from(last.index() - window_first.index() + 1);
    let window_expenditure_fen: i128 = (window_first.index()..=last.index())
        .map(|i| i128::from(totals.expenditure(book, Period::Month(Month::from_index(i))).fen()))
        .sum();
    let average_monthly_expenditure = to_money(Rounding::HalfUp.div(window_expenditure_fen, window_months));
    let months_of_cover = (window_expenditure_fen > 0).then(|| {
        let tenths = Rounding::HalfUp.div(
            i128::from(accumulated_balance.fen()) * 10 * window_months,
            window_expenditure_fen,
        );
        Months::from_tenths(i64::try_from(tenths).expect("months of cover fit in i64"))
    });

    let earlier = period
        .a_year_earlier()
        .filter(|p| totals.first_month().is_some_and(|first| p.last_month() >= first));
    let growth = |now: Money, then: Option<Money>| {
        let then = then?;
        (then.fen() > 0).then(|| {
            let hundredths = Rounding::HalfUp.div(
                (i128::from(now.fen()) - i128::from(then.fen())) * 10_000,
                i128::from(then.fen()),
            );
            Percent::from_hundredths(i64::try_from(hundredths).expect("growth fits in i64"))
        })
    };
    let income_growth = growth(income, earlier.map(|p| totals.income(book, p)));
    let expenditure_growth = growth(expenditure, earlier.map(|p| totals.expenditure(book, p)));

    FundIndicators {
        book,
        period,
        income,
        expenditure,
        current_balance: income - expenditure,
        accumulated_balance,
        cover_window: (window_first, last),
        average_monthly_expenditure,
        months_of_cover,
        income_growth,
        expenditure_growth,
    }
}

/// Every book's indicators for `period`, in [`Book::ALL`] order.
pub fn all_fund_indicators(totals: &MonthlyTotals, period: Period) -> Vec<FundIndicators> {
    Book::ALL
        .into_iter()
        .map(|book| fund_indicators(totals, book, period))
        .collect()
}

fn to_money(fen: i128) -> Money {
    Money::from_fen(i64::try_from(fen).expect("a fund figure fits in i64 fen"))
}
