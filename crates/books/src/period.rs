//! Accounting periods. Entries carry a calendar month (the smallest period a bureau closes);
//! reports ask for a month or a calendar year. Insurance years here are calendar years.

use std::fmt;

use crate::error::BooksError;

/// A calendar month, packed into four bytes so that entries stay small.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Month {
    year: u16,
    month: u8,
}

impl Month {
    /// Earliest and latest years accepted: wide enough for any fund's history, narrow enough that
    /// month indexes never overflow.
    pub const YEAR_MIN: u16 = 1900;
    pub const YEAR_MAX: u16 = 9999;

    /// `month` in 1..=12, `year` in 1900..=9999.
    pub fn new(year: u16, month: u8) -> Result<Month, BooksError> {
        if (1..=12).contains(&month) && (Month::YEAR_MIN..=Month::YEAR_MAX).contains(&year) {
            Ok(Month { year, month })
        } else {
            Err(BooksError::InvalidMonth { year, month })
        }
    }

    pub const fn year(self) -> u16 {
        self.year
    }

    /// 1..=12.
    pub const fn month(self) -> u8 {
        self.month
    }

    /// Months since January of year 0: consecutive months have consecutive indexes.
    #[inline]
    pub const fn index(self) -> i32 {
        self.year as i32 * 12 + self.month as i32 - 1
    }

    /// The month with this [`Month::index`]; panics outside the accepted years.
    pub fn from_index(index: i32) -> Month {
        let year = u16::try_from(index.div_euclid(12)).expect("month index within u16 years");
        let month = u8::try_from(index.rem_euclid(12) + 1).expect("month within 1..=12");
        Month::new(year, month).expect("month index within the accepted years")
    }

    /// The month `count` months later (earlier when negative).
    pub fn plus_months(self, count: i32) -> Month {
        Month::from_index(self.index() + count)
    }

    pub fn label_zh(self) -> String {
        format!("{}年{}月", self.year, self.month)
    }
}

impl fmt::Display for Month {
    /// `2024-03`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}", self.year, self.month)
    }
}

/// A reporting or closing period: one month or one calendar year.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Period {
    Month(Month),
    Year(u16),
}

impl Period {
    pub fn first_month(self) -> Month {
        match self {
            Period::Month(month) => month,
            Period::Year(year) => Month::new(year, 1).expect("year within the accepted years"),
        }
    }

    pub fn last_month(self) -> Month {
        match self {
            Period::Month(month) => month,
            Period::Year(year) => Month::new(year, 12).expect("year within the accepted years"),
        }
    }

    pub fn contains(self, month: Month) -> bool {
        (self.first_month()..=self.last_month()).contains(&month)
    }

    /// The same period one year earlier, for year-on-year growth; `None` before 1900.
    pub fn a_year_earlier(self) -> Option<Period> {
        match self {
            Period::Month(month) => Month::new(month.year().checked_sub(1)?, month.month())
                .ok()
                .map(Period::Month),
            Period::Year(year) => {
                let earlier = year.checked_sub(1)?;
                (earlier >= Month::YEAR_MIN).then_some(Period::Year(earlier))
            }
        }
    }

    pub fn label_zh(self) -> String {
        match self {
            Period::Month(month) => month.label_zh(),
            Period::Year(year) => format!("{year}年"),
        }
    }
}

impl fmt::Display for Period {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Period::Month(month) => write!(f, "{month}"),
            Period::Year(year) => write!(f, "{year:04}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn month_indexes_are_consecutive() {
        let dec = Month::new(2023, 12).unwrap();
        let jan = Month::new(2024, 1).unwrap();
        assert_eq!(dec.index() + 1, jan.index());
        assert_eq!(Month::from_index(jan.index()), jan);
        assert_eq!(jan.plus_months(-1), dec);
        assert!(Month::new(2024, 13).is_err() && Month::new(2024, 0).is_err());
        assert_eq!(Period::Year(2024).a_year_earlier(), Some(Period::Year(2023)));
        assert!(Period::Year(2024).contains(jan) && !Period::Year(2024).contains(dec));
    }
}
