//! Fixed-point numbers for DIP: scores (分值) with 4 decimals, point values (点值, 元/分) with 6
//! decimals, and parameters (multiples, coefficients) with 4 decimals.
//!
//! Why not `yibao_drg::payment::ExactDecimal`: its scale varies per value, which suits numbers read
//! from tables once, but DIP adds up millions of case points; a fixed scale makes a sum of scores
//! an integer sum with nothing to align and nothing lost. Amounts stay [`Money`] (fen), and every
//! quotient goes through a named [`Rounding`] of `yibao_money`.

use std::fmt;

use yibao_money::{Money, Rounding};

/// Ten-thousandths in one: the scale of scores and parameters.
pub const SCORE_SCALE: i64 = 10_000;
/// Millionths of a yuan in one yuan: the scale of point values.
pub const POINT_VALUE_SCALE: i64 = 1_000_000;

/// A score (分值) or a number of points, in ten-thousandths of a point: `1234.5678分` is
/// `Score(12_345_678)`. Scores are rounded to 4 decimals, as DIP catalogs publish them and as RWs
/// are normally rounded (reference §1.6).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Score(i64);

impl Score {
    pub const ZERO: Score = Score(0);

    pub const fn from_ten_thousandths(value: i64) -> Score {
        Score(value)
    }

    pub const fn ten_thousandths(self) -> i64 {
        self.0
    }

    /// Parses a non-negative decimal with at most 4 decimals ("1234.5678", "1000").
    pub fn parse(text: &str) -> Option<Score> {
        parse_fixed(text, 4).map(Score)
    }
}

impl fmt::Display for Score {
    /// Always 4 decimals: `1234.5678`, `1000.0000`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(&format_fixed(i128::from(self.0), 4))
    }
}

/// A point value (点值) in millionths of a yuan per point: `12.345678元/分`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct PointValue(i64);

impl PointValue {
    pub const fn from_millionths(value: i64) -> PointValue {
        PointValue(value)
    }

    pub const fn millionths(self) -> i64 {
        self.0
    }

    /// Parses a non-negative decimal with at most 6 decimals.
    pub fn parse(text: &str) -> Option<PointValue> {
        parse_fixed(text, 6).map(PointValue)
    }

    /// `points × self`, rounded to the fen by `rounding`; `None` if the amount exceeds `i64` fen.
    ///
    /// Points are 10⁻⁴, the point value 10⁻⁶ 元, so the product is in 10⁻¹⁰ 元 = 10⁻⁸ fen.
    pub fn times_points(self, points_ten_thousandths: i128, rounding: Rounding) -> Option<Money> {
        let product = points_ten_thousandths.checked_mul(i128::from(self.0))?;
        let fen = rounding.div(product, 100_000_000);
        i64::try_from(fen).ok().map(Money::from_fen)
    }
}

impl fmt::Display for PointValue {
    /// Always 6 decimals: `12.345678`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(&format_fixed(i128::from(self.0), 6))
    }
}

/// A non-negative parameter with at most 4 decimals: a multiple (0.5, 2), a coefficient (1.05), a
/// year weight. Read from the policy file as a string ("0.5"), an integer (2) or a TOML float
/// (0.5): a float's shortest round-trip text (Rust's `Display`) gives back the literal exactly for
/// any literal of at most 15 significant digits, and that text is then parsed as a decimal, so no
/// binary fraction ever reaches a computation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Decimal4(i64);

/// The largest parameter accepted: far above any multiple or coefficient in use, small enough that
/// products with scores and amounts stay inside `i128`.
pub const DECIMAL4_MAX_TEN_THOUSANDTHS: i64 = 1_000 * SCORE_SCALE;

impl Decimal4 {
    pub const ONE: Decimal4 = Decimal4(SCORE_SCALE);

    /// `None` if negative or above [`DECIMAL4_MAX_TEN_THOUSANDTHS`].
    pub fn from_ten_thousandths(value: i64) -> Option<Decimal4> {
        (0..=DECIMAL4_MAX_TEN_THOUSANDTHS)
            .contains(&value)
            .then_some(Decimal4(value))
    }

    pub const fn ten_thousandths(self) -> i64 {
        self.0
    }

    /// Parses "0.5", "2", "1.0500"; at most 4 decimals, within 0..=1000.
    pub fn parse(text: &str) -> Option<Decimal4> {
        parse_fixed(text, 4).and_then(Decimal4::from_ten_thousandths)
    }
}

impl fmt::Display for Decimal4 {
    /// Without trailing zeros: `0.5`, `2`, `1.05`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = format_fixed(i128::from(self.0), 4);
        let text = text.trim_end_matches('0').trim_end_matches('.');
        f.pad(text)
    }
}

impl<'de> serde::Deserialize<'de> for Decimal4 {
    /// By the one decimal rule (`yibao_money::deserialize_decimal_text`): a string, an integer or
    /// a TOML float by its shortest round-trip text, then parsed exactly.
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Decimal4, D::Error> {
        let v = yibao_money::deserialize_decimal_text(deserializer)?;
        Decimal4::parse(&v).ok_or_else(|| {
            serde::de::Error::custom(format!(
                "“{}”应为0到1000之间、最多4位小数的数",
                v.chars().take(40).collect::<String>()
            ))
        })
    }
}

/// A non-negative decimal with at most `scale` decimals as an integer scaled by 10^scale, by the
/// one decimal reader (`yibao_money::parse_decimal_scaled`); no sign is accepted.
fn parse_fixed(text: &str, scale: u32) -> Option<i64> {
    let t = text.trim();
    // Digits only, as the policy files write them: no sign, no bare point ("1.").
    if t.starts_with(['-', '+', '.']) || t.ends_with('.') {
        return None;
    }
    yibao_money::parse_decimal_scaled(t, scale).ok().filter(|v| *v >= 0)
}

/// `value × 10^-scale` with exactly `scale` decimals.
pub(crate) fn format_fixed(value: i128, scale: u32) -> String {
    let sign = if value < 0 { "-" } else { "" };
    let abs = value.unsigned_abs();
    let divisor = 10_u128.pow(scale);
    format!(
        "{sign}{}.{:0width$}",
        abs / divisor,
        abs % divisor,
        width = scale as usize
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_and_display() {
        assert_eq!(Score::parse("1234.5678"), Some(Score(12_345_678)));
        assert_eq!(Score::parse("1000").unwrap().to_string(), "1000.0000");
        assert_eq!(Score::parse("1.23456"), None);
        assert_eq!(Score::parse("-1"), None);
        assert_eq!(Score::parse("1."), None);
        assert_eq!(PointValue::parse("12.345678").unwrap().to_string(), "12.345678");
        assert_eq!(Decimal4::parse("0.5").unwrap().to_string(), "0.5");
        assert_eq!(Decimal4::parse("2").unwrap().ten_thousandths(), 20_000);
        assert_eq!(Decimal4::parse("1001"), None);
        assert_eq!(Decimal4::parse("99999999999999999999"), None);
    }

    #[test]
    fn points_times_point_value_rounds_to_the_fen() {
        let pv = PointValue::parse("12.345678").unwrap();
        let points = Score::parse("1234.5678").unwrap();
        // 1234.5678 × 12.345678 = 15241.5765279684 → 15241.58
        let amount = pv
            .times_points(i128::from(points.ten_thousandths()), Rounding::HalfUp)
            .unwrap();
        assert_eq!(amount.to_string(), "15241.58");
    }
}
