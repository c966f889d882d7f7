//! Fund early warnings (基金运行预警) from a region's thresholds.
//!
//! The thresholds are data: a region's policy file holds them in a `[fund_warning]` table, read
//! into [`WarningThresholds`] (unknown keys refused, so a misspelt threshold is an error rather
//! than a warning silently switched off). A threshold that is absent is not checked.

use std::fmt;

use yibao_money::Money;

use crate::book::Book;
use crate::indicators::FundIndicators;
use crate::numbers::{Months, Percent};
use crate::period::Period;

/// The `[fund_warning]` table of a region policy, e.g.
///
/// ```toml
/// [fund_warning]
/// months_of_cover_min = 6
/// months_of_cover_max = 24
/// spending_growth_over_income_growth_max_pct = 5
/// current_deficit = true
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WarningThresholds {
    /// Warn when months of cover fall below this (结存不足).
    #[serde(default)]
    pub months_of_cover_min: Option<Months>,
    /// Warn when months of cover exceed this (结存过多).
    #[serde(default)]
    pub months_of_cover_max: Option<Months>,
    /// Warn when expenditure growth exceeds income growth by more than this many percentage
    /// points, year on year.
    #[serde(default)]
    pub spending_growth_over_income_growth_max_pct: Option<Percent>,
    /// Warn when the period's expenditure exceeds its income (当期收不抵支).
    #[serde(default)]
    pub current_deficit: bool,
}

impl WarningThresholds {
    /// Checks that the thresholds make sense together; the message is for the policy's author.
    pub fn validate(&self) -> Result<(), String> {
        if let (Some(min), Some(max)) = (self.months_of_cover_min, self.months_of_cover_max) {
            if min > max {
                return Err(format!("可支付月数下限{min}个月不能高于上限{max}个月"));
            }
        }
        if self.months_of_cover_min.is_some_and(|m| m.tenths() < 0) {
            return Err("可支付月数下限不能为负数".to_owned());
        }
        if self
            .spending_growth_over_income_growth_max_pct
            .is_some_and(|p| p.hundredths() < 0)
        {
            return Err("支出增幅高出收入增幅的警戒值不能为负数".to_owned());
        }
        Ok(())
    }
}

/// What a warning is about, with its figures.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WarningKind {
    CoverBelowMinimum {
        months: Months,
        minimum: Months,
    },
    CoverAboveMaximum {
        months: Months,
        maximum: Months,
    },
    SpendingOutgrowsIncome {
        expenditure_growth: Percent,
        income_growth: Percent,
        gap_max: Percent,
    },
    CurrentDeficit {
        deficit: Money,
    },
}

/// One warning for one fund and period. `Display` gives the Chinese message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Warning {
    pub book: Book,
    pub period: Period,
    pub kind: WarningKind,
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let fund = self.book.short_name_zh();
        match self.kind {
            WarningKind::CoverBelowMinimum { months, minimum } => {
                write!(f, "{fund}累计结存可支付月数{months}个月，低于{minimum}个月警戒线")
            }
            WarningKind::CoverAboveMaximum { months, maximum } => {
                write!(f, "{fund}累计结存可支付月数{months}个月，高于{maximum}个月警戒线")
            }
            WarningKind::SpendingOutgrowsIncome {
                expenditure_growth,
                income_growth,
                gap_max,
            } => write!(
                f,
                "{fund}支出同比增长{expenditure_growth}，收入同比增长{income_growth}，支出增幅高出收入增幅{}个百分点，超过{}个百分点警戒线",
                (expenditure_growth - income_growth).number(),
                gap_max.number()
            ),
            WarningKind::CurrentDeficit { deficit } => {
                write!(f, "{fund}当期收不抵支，赤字{deficit}元")
            }
        }
    }
}

impl FundIndicators {
    /// The warnings these indicators raise under `thresholds`, in a fixed order: cover, growth,
    /// deficit.
    pub fn warnings(&self, thresholds: &WarningThresholds) -> Vec<Warning> {
        let mut kinds = Vec::new();
        if let Some(months) = self.months_of_cover {
            if let Some(minimum) = thresholds.months_of_cover_min.filter(|&min| months < min) {
                kinds.push(WarningKind::CoverBelowMinimum { months, minimum });
            }
            if let Some(maximum) = thresholds.months_of_cover_max.filter(|&max| months > max) {
                kinds.push(WarningKind::CoverAboveMaximum { months, maximum });
            }
        }
        if let (Some(gap_max), Some(expenditure_growth), Some(income_growth)) = (
            thresholds.spending_growth_over_income_growth_max_pct,
            self.expenditure_growth,
            self.income_growth,
        ) {
            if expenditure_growth - income_growth > gap_max {
                kinds.push(WarningKind::SpendingOutgrowsIncome {
                    expenditure_growth,
                    income_growth,
                    gap_max,
                });
            }
        }
        if thresholds.current_deficit && self.current_balance.is_negative() {
            kinds.push(WarningKind::CurrentDeficit {
                deficit: -self.current_balance,
            });
        }
        kinds
            .into_iter()
            .map(|kind| Warning {
                book: self.book,
                period: self.period,
                kind,
            })
            .collect()
    }
}
