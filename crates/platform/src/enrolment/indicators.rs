//! The funds' indicators for a year (months of cover, growth) and their warnings.

use super::*;

/// Indicators of every fund for `year` from the per-month ledger totals, with the warnings of
/// the region's thresholds.
pub(super) fn indicators(state: &mut State, ctx: &AdminCtx, year: i32) -> Result<Value, PlatformError> {
    if !(1900..=9998).contains(&year) {
        return Err(PlatformError::field("year", "年度应在1900到9998之间".into()));
    }
    let rows = state.store.ledger_totals(0, year * 100 + 12).map_err(db)?;
    // Business entries only: closing entries are kept apart, so a closed year still reports
    // its income and expenditure.
    let (entries, unknown_books) = crate::close::business_entries(&rows)?;
    let mut totals = yibao_books::MonthlyTotals::new();
    for entry in &entries {
        totals.add(entry);
    }
    // The thresholds of the version in force at the end of the year (or the latest before it).
    let bad_year = || PlatformError::field("year", format!("年度{year}无效"));
    let year_end = NaiveDate::from_ymd_opt(year, 12, 31).ok_or_else(bad_year)?;
    let thresholds = match ctx
        .region
        .contribution
        .iter()
        .rev()
        .find(|p| p.policy.effective_from <= year_end)
    {
        Some(p) => Some(warning_thresholds(p)?),
        None => None,
    };
    let year_u16 = u16::try_from(year).map_err(|_| bad_year())?;
    let funds: Vec<Value> = yibao_books::all_fund_indicators(&totals, Period::Year(year_u16))
        .into_iter()
        .map(|f| {
            let warnings: Vec<String> = thresholds
                .as_ref()
                .map(|t| f.warnings(t).iter().map(ToString::to_string).collect())
                .unwrap_or_default();
            json!({
                "book": f.book.code(),
                "name": f.book.name_zh(),
                "income": f.income,
                "expenditure": f.expenditure,
                "current_balance": f.current_balance,
                "accumulated_balance": f.accumulated_balance,
                "average_monthly_expenditure": f.average_monthly_expenditure,
                "months_of_cover": f.months_of_cover.map(|m| m.to_string()),
                "income_growth_pct": f.income_growth.map(|p| p.to_string()),
                "expenditure_growth_pct": f.expenditure_growth.map(|p| p.to_string()),
                "warnings": warnings,
            })
        })
        .collect();
    Ok(json!({ "year": year, "funds": funds, "books_not_reported": unknown_books }))
}

pub(super) fn warning_thresholds(policy: &ContributionPolicy) -> Result<yibao_books::WarningThresholds, PlatformError> {
    let w = &policy.fund_warning;
    let t = yibao_books::WarningThresholds {
        months_of_cover_min: Some(yibao_books::Months::whole(i64::from(w.months_of_cover_min))),
        months_of_cover_max: Some(yibao_books::Months::whole(i64::from(w.months_of_cover_max))),
        // A ratio of 0.02 is 2 percentage points = 200 hundredths of a percent.
        spending_growth_over_income_growth_max_pct: Some(yibao_books::Percent::from_hundredths(
            w.spending_growth_over_income_max.ten_thousandths(),
        )),
        current_deficit: true,
    };
    t.validate().map_err(PlatformError::internal)?;
    Ok(t)
}
