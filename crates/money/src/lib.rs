//! Exact money and ratios.
//!
//! An amount is an integer number of fen (分, 0.01 元) in an `i64`: exact, cheap to add, and
//! wide enough for any fund (±9.2×10¹⁶ 元). A ratio is an integer number of ten-thousandths, the
//! precision the national interface gives ratios (`5,4`). Every product or quotient that can fall
//! between two fen goes through a named [`Rounding`], so a reader can find each place where a fen
//! may be gained or lost.

use std::fmt;
use std::iter::Sum;
use std::ops::{Add, AddAssign, Neg, Sub, SubAssign};
use std::str::FromStr;

use rust_decimal::Decimal;

/// Ten-thousandths in one: ratios are stored as parts per 10,000.
pub const RATIO_SCALE: i64 = 10_000;

/// The largest amount accepted from outside: 10¹² 元, far above any single bill or annual fund of
/// one pooling region, and small enough that products with ratios never overflow an `i128`.
pub const AMOUNT_FEN_MAX: i64 = 100_000_000_000_000;

/// How a value that falls between two fen is brought to a fen.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum Rounding {
    /// Half away from zero (四舍五入), what bureaus and the national interface use: 4544.549→4544.55.
    #[default]
    HalfUp,
    /// Toward zero (舍去): never pays out a fen more than the exact product.
    Down,
    /// Away from zero (进一).
    Up,
}

impl Rounding {
    /// Divides `numerator` by the positive `denominator`, rounding the quotient by this rule.
    pub fn div(self, numerator: i128, denominator: i128) -> i128 {
        assert!(denominator > 0, "rounding divisor must be positive");
        let quotient = numerator / denominator;
        let remainder = numerator % denominator;
        if remainder == 0 {
            return quotient;
        }
        let away = match self {
            Rounding::HalfUp => 2 * remainder.abs() >= denominator,
            Rounding::Down => false,
            Rounding::Up => true,
        };
        if away {
            quotient + numerator.signum()
        } else {
            quotient
        }
    }

    /// The Chinese name a bureau uses for this rule.
    pub fn name_zh(self) -> &'static str {
        match self {
            Rounding::HalfUp => "四舍五入",
            Rounding::Down => "舍去",
            Rounding::Up => "进一",
        }
    }
}

/// An exact amount of money in fen.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Money(i64);

impl Money {
    pub const ZERO: Money = Money(0);

    pub const fn from_fen(fen: i64) -> Money {
        Money(fen)
    }

    /// Whole yuan, for literals in code and tests.
    pub const fn from_yuan(yuan: i64) -> Money {
        Money(yuan * 100)
    }

    pub const fn fen(self) -> i64 {
        self.0
    }

    pub fn is_zero(self) -> bool {
        self.0 == 0
    }

    pub fn is_negative(self) -> bool {
        self.0 < 0
    }

    pub fn min(self, other: Money) -> Money {
        Money(self.0.min(other.0))
    }

    pub fn max(self, other: Money) -> Money {
        Money(self.0.max(other.0))
    }

    /// `self - other`, but never below zero: what is left of a limit after spending.
    pub fn saturating_sub_to_zero(self, other: Money) -> Money {
        Money((self.0 - other.0).max(0))
    }

    /// `self × ratio`, rounded to the fen by `rounding`.
    pub fn times(self, ratio: Ratio, rounding: Rounding) -> Money {
        let product = i128::from(self.0) * i128::from(ratio.0);
        Money(narrow(rounding.div(product, i128::from(RATIO_SCALE))))
    }

    /// `self ÷ ratio`, rounded to the fen: the spending that a fund amount corresponds to at a
    /// payment ratio (e.g. a cap of 65000 at 91% is consumed by 65000÷91%=71428.57 of spending).
    pub fn divided_by(self, ratio: Ratio, rounding: Rounding) -> Money {
        assert!(ratio.0 > 0, "cannot divide money by a zero ratio");
        let numerator = i128::from(self.0) * i128::from(RATIO_SCALE);
        Money(narrow(rounding.div(numerator, i128::from(ratio.0))))
    }

    /// The most spending, up to `base_max`, whose fund share (`spending × ratio`, rounded) stays
    /// within `limit`: the spending a fund-money cap is consumed by. The plain quotient
    /// `limit ÷ ratio` rounded can fall a fen short of spending that was fully paid for, which
    /// would make a fen more of cost pay a fen less; taking the largest such spending keeps fund
    /// pay monotone in cost.
    pub fn largest_base_within(limit: Money, ratio: Ratio, rounding: Rounding, base_max: Money) -> Money {
        assert!(
            !ratio.is_zero(),
            "a zero ratio pays nothing, so every base is within any limit"
        );
        if base_max.times(ratio, rounding) <= limit {
            return base_max;
        }
        // Invariant: share(low) <= limit < share(high).
        let (mut low, mut high) = (Money::ZERO.fen(), base_max.fen());
        if Money::ZERO.times(ratio, rounding) > limit {
            return Money::ZERO;
        }
        while high - low > 1 {
            let middle = low + (high - low) / 2;
            if Money::from_fen(middle).times(ratio, rounding) <= limit {
                low = middle;
            } else {
                high = middle;
            }
        }
        Money::from_fen(low)
    }

    /// `price × quantity` for a fee line, where the price has 6 decimals and the quantity 4
    /// (the interface's `16,6` and `16,4`), rounded to the fen.
    pub fn from_price_quantity(price: Price, quantity: Quantity, rounding: Rounding) -> Money {
        let product = i128::from(price.0) * i128::from(quantity.0);
        // price in 10⁻⁶ 元 × quantity in 10⁻⁴ = 10⁻¹⁰ 元; a fen is 10⁻² 元.
        Money(narrow(rounding.div(product, 100_000_000)))
    }

    /// Parses a decimal amount in yuan with at most two decimals ("34790", "4544.55").
    pub fn parse_yuan(text: &str) -> Result<Money, ParseError> {
        let scaled = parse_scaled(text, 2)?;
        if scaled.abs() > AMOUNT_FEN_MAX {
            return Err(ParseError::OutOfRange);
        }
        Ok(Money(scaled))
    }

    /// The amount as a `Decimal` in yuan, for edges that speak decimals (JSON, databases).
    pub fn to_decimal(self) -> Decimal {
        Decimal::new(self.0, 2)
    }
}

fn narrow(value: i128) -> i64 {
    i64::try_from(value).expect("money amount out of i64 range: inputs are bounded by AMOUNT_FEN_MAX")
}

/// The one decimal-text parser: `text` as an integer scaled by 10^`scale` (amounts 2, ratios 4,
/// prices 6), refusing more decimals than `scale` (a price with 7 decimals is an error, not
/// silently rounded). Trailing zeros do not count (`0.50000` is 0.5).
pub fn parse_decimal_scaled(text: &str, scale: u32) -> Result<i64, ParseError> {
    parse_scaled(text, scale)
}

fn parse_scaled(text: &str, scale: u32) -> Result<i64, ParseError> {
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return Err(ParseError::Empty);
    }
    if trimmed.len() > 40 {
        return Err(ParseError::OutOfRange);
    }
    let decimal = Decimal::from_str_exact(trimmed).map_err(|_| ParseError::NotANumber)?;
    let decimal = decimal.normalize();
    if decimal.scale() > scale {
        return Err(ParseError::TooManyDecimals { max: scale });
    }
    let mut scaled = decimal;
    scaled.rescale(scale);
    let mantissa = scaled.mantissa();
    i64::try_from(mantissa).map_err(|_| ParseError::OutOfRange)
}

impl fmt::Display for Money {
    /// Yuan with exactly two decimals: `34790.00`, `-0.05`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.0 < 0 { "-" } else { "" };
        let abs = self.0.unsigned_abs();
        // `pad` honours width and alignment, so tables can right-align amounts.
        f.pad(&format!("{sign}{}.{:02}", abs / 100, abs % 100))
    }
}

impl FromStr for Money {
    type Err = ParseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Money::parse_yuan(s)
    }
}

impl Add for Money {
    type Output = Money;
    fn add(self, rhs: Money) -> Money {
        Money(self.0.checked_add(rhs.0).expect("money overflow"))
    }
}

impl Sub for Money {
    type Output = Money;
    fn sub(self, rhs: Money) -> Money {
        Money(self.0.checked_sub(rhs.0).expect("money overflow"))
    }
}

impl AddAssign for Money {
    fn add_assign(&mut self, rhs: Money) {
        *self = *self + rhs;
    }
}

impl SubAssign for Money {
    fn sub_assign(&mut self, rhs: Money) {
        *self = *self - rhs;
    }
}

impl Neg for Money {
    type Output = Money;
    fn neg(self) -> Money {
        Money(-self.0)
    }
}

impl Sum for Money {
    fn sum<I: Iterator<Item = Money>>(iter: I) -> Money {
        iter.fold(Money::ZERO, Add::add)
    }
}

impl serde::Serialize for Money {
    /// Serialized as a decimal string in yuan ("34790.00"): exact in every JSON reader.
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for Money {
    /// Accepts a string ("12.50") or a JSON number (12.5): HIS clients send both.
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Money, D::Error> {
        let text = deserialize_decimal_text(deserializer)?;
        Money::parse_yuan(&text).map_err(serde::de::Error::custom)
    }
}

/// The one way a decimal is read from a document: as its text. A string ("0.08") or an integer
/// is taken as written; a JSON number arrives as its original digits (serde_json's
/// `arbitrary_precision`); a TOML float, which serde hands over as a binary float, is taken as its
/// shortest round-trip text (`0.70` → "0.7"), which is the literal as written for every number of
/// up to fifteen significant digits. The text is then parsed exactly ([`parse_decimal_scaled`]):
/// no value is ever computed in floating point. (The benefit policy language reads the literal
/// from the source itself, which is exact for any length.)
pub fn deserialize_decimal_text<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<String, D::Error> {
    struct Visitor;
    impl<'de> serde::de::Visitor<'de> for Visitor {
        type Value = String;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("a decimal number or a string holding one")
        }
        fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<String, E> {
            Ok(v.to_owned())
        }
        fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<String, E> {
            Ok(v.to_string())
        }
        fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<String, E> {
            Ok(v.to_string())
        }
        fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<String, E> {
            if v.is_finite() {
                Ok(format!("{v}"))
            } else {
                Err(E::custom("数值必须是有限数"))
            }
        }
        fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<String, A::Error> {
            // serde_json's arbitrary_precision hands numbers over as a one-entry map.
            let key: Option<String> = map.next_key()?;
            match key {
                Some(_) => map.next_value::<String>(),
                None => Err(serde::de::Error::custom("empty number")),
            }
        }
    }
    deserializer.deserialize_any(Visitor)
}

/// A payment or self-pay ratio, in ten-thousandths (0.7000 = 7000). Always within 0..=1.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Ratio(i64);

impl Ratio {
    pub const ZERO: Ratio = Ratio(0);
    pub const ONE: Ratio = Ratio(RATIO_SCALE);

    /// A ratio from ten-thousandths; `None` outside 0..=1.
    pub fn from_ten_thousandths(value: i64) -> Option<Ratio> {
        (0..=RATIO_SCALE).contains(&value).then_some(Ratio(value))
    }

    /// A ratio from whole percent, for literals: `Ratio::percent(70)`.
    pub fn percent(value: i64) -> Ratio {
        Ratio::from_ten_thousandths(value * 100).expect("percent within 0..=100")
    }

    pub fn ten_thousandths(self) -> i64 {
        self.0
    }

    pub fn is_zero(self) -> bool {
        self.0 == 0
    }

    /// `1 - self`: the personal share left by a payment ratio.
    pub fn complement(self) -> Ratio {
        Ratio(RATIO_SCALE - self.0)
    }

    /// Adds percentage points, clamped to 0..=1 (a +10pp tilt on 95% pays 100%, not 105%).
    pub fn plus_points(self, points: RatioPoints) -> Ratio {
        Ratio((self.0 + points.0).clamp(0, RATIO_SCALE))
    }

    /// Parses "0.7", "0.0500"; at most four decimals, within 0..=1.
    pub fn parse(text: &str) -> Result<Ratio, ParseError> {
        let scaled = parse_scaled(text, 4)?;
        Ratio::from_ten_thousandths(scaled).ok_or(ParseError::RatioOutOfRange)
    }

    /// As a decimal (0.7000) for edges.
    pub fn to_decimal(self) -> Decimal {
        Decimal::new(self.0, 4)
    }
}

impl fmt::Display for Ratio {
    /// As a bureau writes it: `70%`, `92.5%`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let whole = self.0 / 100;
        let frac = self.0 % 100;
        if frac == 0 {
            write!(f, "{whole}%")
        } else if frac % 10 == 0 {
            write!(f, "{whole}.{}%", frac / 10)
        } else {
            write!(f, "{whole}.{frac:02}%")
        }
    }
}

impl serde::Serialize for Ratio {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(&self.to_decimal())
    }
}

/// A signed change to a ratio in ten-thousandths: "+10 percentage points" is 1000.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct RatioPoints(i64);

impl RatioPoints {
    pub const ZERO: RatioPoints = RatioPoints(0);

    pub fn from_ten_thousandths(value: i64) -> RatioPoints {
        RatioPoints(value)
    }

    pub fn ten_thousandths(self) -> i64 {
        self.0
    }

    /// Parses "0.10" (+10pp) or "-0.05"; at most four decimals, within -1..=1.
    pub fn parse(text: &str) -> Result<RatioPoints, ParseError> {
        let scaled = parse_scaled(text, 4)?;
        if scaled.abs() > RATIO_SCALE {
            return Err(ParseError::RatioOutOfRange);
        }
        Ok(RatioPoints(scaled))
    }
}

impl Add for RatioPoints {
    type Output = RatioPoints;
    fn add(self, rhs: RatioPoints) -> RatioPoints {
        RatioPoints(self.0 + rhs.0)
    }
}

impl fmt::Display for RatioPoints {
    /// `+10个百分点`-style text is built by callers; this prints `+10pp`-free `10`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.0 < 0 { "-" } else { "+" };
        let ratio = Ratio(self.0.abs());
        let text = ratio.to_string();
        write!(f, "{sign}{}", text.trim_end_matches('%'))
    }
}

/// A unit price with six decimals (`pric`, 16,6), in millionths of a yuan.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Price(i64);

impl Price {
    pub fn from_millionths(value: i64) -> Price {
        Price(value)
    }
    pub fn millionths(self) -> i64 {
        self.0
    }
    pub fn parse(text: &str) -> Result<Price, ParseError> {
        let scaled = parse_scaled(text, 6)?;
        if scaled.abs() > AMOUNT_FEN_MAX * 10_000 {
            return Err(ParseError::OutOfRange);
        }
        Ok(Price(scaled))
    }
    /// A whole-fen money amount as a price.
    pub fn from_money(money: Money) -> Price {
        Price(money.fen() * 10_000)
    }
}

impl fmt::Display for Price {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", Decimal::new(self.0, 6).normalize())
    }
}

/// A quantity with four decimals (`cnt`, 16,4), in ten-thousandths; negative for refunds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Quantity(i64);

impl Quantity {
    /// The largest quantity accepted on one line.
    pub const MAX_TEN_THOUSANDTHS: i64 = 1_000_000 * 10_000;

    pub fn from_ten_thousandths(value: i64) -> Quantity {
        Quantity(value)
    }
    pub fn whole(value: i64) -> Quantity {
        Quantity(value * 10_000)
    }
    pub fn ten_thousandths(self) -> i64 {
        self.0
    }
    pub fn parse(text: &str) -> Result<Quantity, ParseError> {
        let scaled = parse_scaled(text, 4)?;
        if scaled.abs() > Self::MAX_TEN_THOUSANDTHS {
            return Err(ParseError::OutOfRange);
        }
        Ok(Quantity(scaled))
    }
}

impl fmt::Display for Quantity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", Decimal::new(self.0, 4).normalize())
    }
}

macro_rules! decimal_serde {
    ($ty:ident) => {
        impl serde::Serialize for $ty {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.collect_str(self)
            }
        }

        impl<'de> serde::Deserialize<'de> for $ty {
            /// A string or an exact JSON number.
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<$ty, D::Error> {
                let text = deserialize_decimal_text(deserializer)?;
                $ty::parse(&text).map_err(serde::de::Error::custom)
            }
        }
    };
}

decimal_serde!(Price);
decimal_serde!(Quantity);

/// Why a decimal text was refused; the messages are Chinese because they reach bureau staff and
/// HIS engineers unchanged.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    #[error("不能为空")]
    Empty,
    #[error("不是合法的十进制数")]
    NotANumber,
    #[error("小数位数超过{max}位")]
    TooManyDecimals { max: u32 },
    #[error("数值超出允许范围")]
    OutOfRange,
    #[error("比例必须在0到1之间")]
    RatioOutOfRange,
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn half_up_rounds_the_published_taian_case() {
        // 4994.01 × 91% = 4544.5491 → 4544.55 (泰安 settlement slip).
        let amount = Money::parse_yuan("4994.01").unwrap();
        assert_eq!(
            amount.times(Ratio::percent(91), Rounding::HalfUp).to_string(),
            "4544.55"
        );
        assert_eq!(amount.times(Ratio::percent(91), Rounding::Down).to_string(), "4544.54");
    }

    #[test]
    fn half_up_goes_away_from_zero_for_negatives() {
        assert_eq!(Rounding::HalfUp.div(-15, 10), -2);
        assert_eq!(Rounding::HalfUp.div(15, 10), 2);
        assert_eq!(Rounding::HalfUp.div(-14, 10), -1);
        assert_eq!(Rounding::Down.div(-19, 10), -1);
        assert_eq!(Rounding::Up.div(11, 10), 2);
    }

    #[test]
    fn cap_converts_to_spending() {
        // 清远: a basic cap of 65000 at 91% is consumed by 71428.57 of spending.
        let spending = Money::from_yuan(65000).divided_by(Ratio::percent(91), Rounding::HalfUp);
        assert_eq!(spending.to_string(), "71428.57");
    }

    #[test]
    fn the_spending_a_cap_allows_is_the_largest_within_it() {
        // 334 × 30% = 100.2 → 100: 3.34 of spending is fully within a 1.00 cap, 3.35 is not.
        let limit = Money::from_fen(100);
        let base = Money::largest_base_within(limit, Ratio::percent(30), Rounding::HalfUp, Money::from_fen(1_000));
        assert_eq!(base, Money::from_fen(334));
        let spending = Money::largest_base_within(
            Money::from_yuan(65000),
            Ratio::percent(91),
            Rounding::HalfUp,
            Money::from_yuan(1_000_000),
        );
        assert_eq!(spending.to_string(), "71428.57");
        assert_eq!(
            Money::largest_base_within(limit, Ratio::percent(30), Rounding::HalfUp, Money::from_fen(50)),
            Money::from_fen(50)
        );
    }

    #[test]
    fn parsing_refuses_excess_decimals() {
        assert_eq!(Money::parse_yuan("1.005"), Err(ParseError::TooManyDecimals { max: 2 }));
        assert_eq!(Money::parse_yuan("1.500").unwrap().fen(), 150);
        assert_eq!(Price::parse("1.1234567"), Err(ParseError::TooManyDecimals { max: 6 }));
        assert_eq!(Price::parse("1.123456").unwrap().millionths(), 1_123_456);
        assert_eq!(Ratio::parse("1.01"), Err(ParseError::RatioOutOfRange));
        assert_eq!(Money::parse_yuan("abc"), Err(ParseError::NotANumber));
        assert_eq!(Money::parse_yuan(""), Err(ParseError::Empty));
        assert_eq!(Money::parse_yuan("1e400"), Err(ParseError::NotANumber));
    }

    #[test]
    fn line_amount_from_price_and_quantity() {
        let price = Price::parse("3.333333").unwrap();
        let quantity = Quantity::parse("3").unwrap();
        assert_eq!(
            Money::from_price_quantity(price, quantity, Rounding::HalfUp).to_string(),
            "10.00"
        );
        let refund = Quantity::parse("-2.5").unwrap();
        assert_eq!(
            Money::from_price_quantity(price, refund, Rounding::HalfUp).to_string(),
            "-8.33"
        );
    }

    #[test]
    fn ratio_display_is_a_bureau_percentage() {
        assert_eq!(Ratio::percent(70).to_string(), "70%");
        assert_eq!(Ratio::parse("0.925").unwrap().to_string(), "92.5%");
        assert_eq!(Ratio::parse("0.0125").unwrap().to_string(), "1.25%");
        assert_eq!(
            Ratio::percent(95).plus_points(RatioPoints::parse("0.1").unwrap()),
            Ratio::ONE
        );
    }

    #[test]
    fn json_amounts_are_exact_from_strings_and_numbers() {
        let from_number: Money = serde_json::from_str("4544.55").unwrap();
        let from_string: Money = serde_json::from_str("\"4544.55\"").unwrap();
        assert_eq!(from_number, from_string);
        assert_eq!(serde_json::to_string(&from_number).unwrap(), "\"4544.55\"");
    }

    proptest! {
        #[test]
        fn display_then_parse_round_trips(fen in -AMOUNT_FEN_MAX..AMOUNT_FEN_MAX) {
            let money = Money::from_fen(fen);
            prop_assert_eq!(Money::parse_yuan(&money.to_string()).unwrap(), money);
        }

        #[test]
        fn product_and_complement_conserve(fen in 0i64..10_000_000_000, ratio in 0i64..=RATIO_SCALE) {
            // Whatever the fund's rounded share, the personal share is the exact rest.
            let amount = Money::from_fen(fen);
            let ratio = Ratio::from_ten_thousandths(ratio).unwrap();
            let fund = amount.times(ratio, Rounding::HalfUp);
            prop_assert!(fund <= amount && !fund.is_negative());
            let exact_times_scale = i128::from(fen) * i128::from(ratio.ten_thousandths());
            let error = (i128::from(fund.fen()) * 10_000 - exact_times_scale).abs();
            prop_assert!(error * 2 <= 10_000);
        }
    }
}
