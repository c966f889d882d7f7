//! Exact figures of the indicators that are not money: months of cover in tenths of a month and
//! growth rates in hundredths of a percent. Both are integers, rounded once by a named rule
//! ([`yibao_money::Rounding`]), and read from policy files without passing through binary floats
//! as stored values.

use std::fmt;

use rust_decimal::Decimal;

/// A number of months, in tenths (4.2 months = 42): the precision bureaus publish months of cover
/// in (累计结存可支付月数, one decimal).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Months(i64);

impl Months {
    pub const fn from_tenths(tenths: i64) -> Months {
        Months(tenths)
    }

    pub const fn whole(months: i64) -> Months {
        Months(months * 10)
    }

    pub const fn tenths(self) -> i64 {
        self.0
    }

    /// Parses "6", "4.5"; at most one decimal.
    pub fn parse(text: &str) -> Result<Months, String> {
        parse_scaled(text, 1).map(Months)
    }
}

impl fmt::Display for Months {
    /// `4.2`, `6` (no trailing zero).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", Decimal::new(self.0, 1).normalize())
    }
}

/// A percentage (or percentage points), in hundredths of a percent (12.34% = 1234). Signed:
/// growth can be negative, and can exceed 100%.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Percent(i64);

impl Percent {
    pub const ZERO: Percent = Percent(0);

    pub const fn from_hundredths(hundredths: i64) -> Percent {
        Percent(hundredths)
    }

    pub const fn whole(percent: i64) -> Percent {
        Percent(percent * 100)
    }

    pub const fn hundredths(self) -> i64 {
        self.0
    }

    /// The number without the sign `%`, for "高出9.2个百分点".
    pub fn number(self) -> String {
        Decimal::new(self.0, 2).normalize().to_string()
    }

    /// Parses "5", "-3.25"; at most two decimals.
    pub fn parse(text: &str) -> Result<Percent, String> {
        parse_scaled(text, 2).map(Percent)
    }
}

impl std::ops::Sub for Percent {
    type Output = Percent;
    fn sub(self, rhs: Percent) -> Percent {
        Percent(self.0 - rhs.0)
    }
}

impl fmt::Display for Percent {
    /// `12.3%`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}%", self.number())
    }
}

/// The one decimal reader (`yibao_money::parse_decimal_scaled`), with this crate's messages.
fn parse_scaled(text: &str, scale: u32) -> Result<i64, String> {
    let text = text.trim();
    if text.len() > 30 {
        return Err(format!("“{}”不是合法的数值", text.chars().take(30).collect::<String>()));
    }
    yibao_money::parse_decimal_scaled(text, scale).map_err(|e| match e {
        yibao_money::ParseError::TooManyDecimals { .. } => format!("“{text}”小数位数超过{scale}位"),
        yibao_money::ParseError::OutOfRange => format!("“{text}”超出允许范围"),
        _ => format!("“{text}”不是合法的数值"),
    })
}

/// Reads a threshold's text by the one decimal rule (`yibao_money::deserialize_decimal_text`):
/// a string, an integer, or a TOML float by its shortest round-trip text.
fn deserialize_scaled_text<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<String, D::Error> {
    yibao_money::deserialize_decimal_text(deserializer)
}

impl<'de> serde::Deserialize<'de> for Months {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Months, D::Error> {
        let text = deserialize_scaled_text(deserializer)?;
        Months::parse(&text).map_err(serde::de::Error::custom)
    }
}

impl<'de> serde::Deserialize<'de> for Percent {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Percent, D::Error> {
        let text = deserialize_scaled_text(deserializer)?;
        Percent::parse(&text).map_err(serde::de::Error::custom)
    }
}

impl serde::Serialize for Months {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl serde::Serialize for Percent {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(&self.number())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn figures_print_as_bureaus_write_them() {
        assert_eq!(Months::from_tenths(42).to_string(), "4.2");
        assert_eq!(Months::whole(6).to_string(), "6");
        assert_eq!(Months::from_tenths(-5).to_string(), "-0.5");
        assert_eq!(Percent::from_hundredths(1230).to_string(), "12.3%");
        assert_eq!(Percent::from_hundredths(-5).number(), "-0.05");
    }

    #[test]
    fn parsing_is_exact_and_refuses_extra_decimals() {
        assert_eq!(Months::parse("4.5"), Ok(Months::from_tenths(45)));
        assert_eq!(Months::parse("6"), Ok(Months::whole(6)));
        assert!(Months::parse("4.55").is_err());
        assert_eq!(Percent::parse("-3.25"), Ok(Percent::from_hundredths(-325)));
        assert!(Percent::parse("abc").is_err());
    }
}
