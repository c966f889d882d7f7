//! Unified social credit codes (统一社会信用代码, GB 32100-2015), the one identifier of an employer.
//!
//! Employers are keyed by this code because it is what tax, market regulation and social
//! insurance all share; a mistyped code would attach contributions to another employer, so the
//! check character is verified on every code that enters the system.

use std::fmt;

use crate::ids::REGION_CODE_LEN;

/// The 31 characters a code may use: digits and capitals without I, O, Z, S, V (GB 32100 §4.2).
const CHARSET: &[u8; 31] = b"0123456789ABCDEFGHJKLMNPQRTUWXY";
/// Weights of positions 1–17: 3^(i-1) mod 31 (GB 32100 §5).
const WEIGHTS: [u32; 17] = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28];

/// A validated 18-character unified social credit code.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CreditCode([u8; 18]);

/// Why a credit code was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("统一社会信用代码“{value}”格式不正确:{rule}")]
pub struct CreditCodeError {
    /// The offending text, cut to 40 characters (it comes from outside).
    pub value: String,
    pub rule: &'static str,
}

fn char_value(byte: u8) -> Option<u32> {
    CHARSET.iter().position(|&c| c == byte).map(|p| p as u32)
}

impl CreditCode {
    pub fn parse(text: &str) -> Result<CreditCode, CreditCodeError> {
        let text = text.trim();
        let fail = |rule| CreditCodeError {
            value: text.chars().take(40).collect(),
            rule,
        };
        if text.len() != 18 || !text.is_ascii() {
            return Err(fail("应为18位字母或数字"));
        }
        let mut code = [0u8; 18];
        code.copy_from_slice(text.as_bytes());
        code.iter_mut().for_each(|b| *b = b.to_ascii_uppercase());
        if code.iter().any(|&b| char_value(b).is_none()) {
            return Err(fail("含有不允许的字符(不使用I、O、Z、S、V)"));
        }
        if !code[2..2 + REGION_CODE_LEN].iter().all(u8::is_ascii_digit) {
            return Err(fail("第3至8位应为行政区划码"));
        }
        if CreditCode::check_char(&code[..17]) != Some(code[17]) {
            return Err(fail("校验码错误"));
        }
        Ok(CreditCode(code))
    }

    /// The check character for the first 17 characters, or `None` if one is outside the charset.
    pub fn check_char(first17: &[u8]) -> Option<u8> {
        if first17.len() < 17 {
            return None;
        }
        let mut sum = 0u32;
        for (byte, weight) in first17[..17].iter().zip(WEIGHTS) {
            sum += char_value(byte.to_ascii_uppercase())? * weight;
        }
        let check = (31 - sum % 31) % 31;
        Some(CHARSET[check as usize])
    }

    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.0).expect("ascii by construction")
    }

    /// The administrative division of the registering authority (positions 3–8).
    pub fn division(&self) -> &str {
        &self.as_str()[2..2 + REGION_CODE_LEN]
    }
}

impl fmt::Debug for CreditCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CreditCode({})", self.as_str())
    }
}

impl fmt::Display for CreditCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl serde::Serialize for CreditCode {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> serde::Deserialize<'de> for CreditCode {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<CreditCode, D::Error> {
        let text = String::deserialize(d)?;
        CreditCode::parse(&text).map_err(serde::de::Error::custom)
    }
}
