//! Lenient field readers over `serde_json::Value`, shared by the envelope and every transaction.
//!
//! What "lenient" means here, once for all fields:
//!
//! - **absent** = the key is missing, or its value is `null`, `""`, whitespace, or the literal
//!   string `"null"` (any case). Surrounding whitespace is trimmed from every text value.
//! - **text** may arrive as a JSON string or a JSON number (`"psn_no": 131000202001001`); a number
//!   keeps its original digits (the workspace builds serde_json with `arbitrary_precision`).
//! - **decimals** (amounts, prices, quantities, ratios) may arrive as a string or a number and
//!   are parsed exactly from their digits, never through `f64`; more decimals than the field
//!   allows is an error, never a silent rounding.
//! - **dates** are `yyyy-MM-dd` or `yyyyMMdd` (`/` also accepted as separator); **date-times**
//!   are `yyyy-MM-dd HH:mm:ss`, `yyyy-MM-ddTHH:mm:ss` or `yyyyMMddHHmmss`, optionally with
//!   fractional seconds, or a bare date meaning midnight. A date field also accepts a date-time
//!   and keeps its day.
//! - **codes** go through the `yibao-codes` parsers; a one-digit code is retried with a leading
//!   zero ("1" for "01").
//! - **flags** are `0`/`1` as string or number, or JSON `true`/`false`.
//!
//! Every reader checks a length or range before it does anything costly with a value, and none
//! of them recurses into values, so hostile input costs linear time and constant stack.

use std::borrow::Cow;
use std::collections::HashSet;

use chrono::{NaiveDate, NaiveDateTime, NaiveTime};
use serde_json::{Map, Value};
use yibao_codes::CodeError;
use yibao_money::{Money, ParseError, Price, Quantity, Ratio};

use crate::error::FsiError;

/// The deepest JSON nesting accepted in a free-form field (`exp_content`) that is re-serialized:
/// serde_json's own parser stops at 128 levels, so values from the wire never get here deeper.
pub const JSON_DEPTH_MAX: usize = 128;

/// The longest text a date or date-time field may hold before it is refused unparsed, in bytes.
const DATETIME_TEXT_BYTES_MAX: usize = 32;

/// The longest text an integer field may hold, in bytes.
const INTEGER_TEXT_BYTES_MAX: usize = 24;

/// Is this text a way of saying "nothing"?
fn is_absent_text(text: &str) -> bool {
    text.is_empty() || text.eq_ignore_ascii_case("null")
}

/// The text of a scalar: `None` when absent, the trimmed string, or a number's digits.
pub fn scalar_text<'v>(value: &'v Value, field: &str) -> Result<Option<Cow<'v, str>>, FsiError> {
    match value {
        Value::Null => Ok(None),
        Value::String(s) => {
            let trimmed = s.trim();
            Ok((!is_absent_text(trimmed)).then_some(Cow::Borrowed(trimmed)))
        }
        Value::Number(n) => Ok(Some(Cow::Owned(n.to_string()))),
        Value::Bool(_) | Value::Array(_) | Value::Object(_) => Err(FsiError::new(field, "应为字符串或数字")),
    }
}

/// Is this value "absent" in the lenient sense (for nodes and lists as well as scalars)?
pub fn is_absent(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::String(s) => is_absent_text(s.trim()),
        _ => false,
    }
}

/// Refuses text longer than `max_chars` characters (Unicode scalar values, so a Chinese name of
/// 50 characters fits a 50-character field).
pub fn check_chars(text: &str, max_chars: usize, field: &str) -> Result<(), FsiError> {
    // A UTF-8 character is at least one byte: short byte lengths need no count.
    if text.len() > max_chars && text.chars().count() > max_chars {
        return Err(FsiError::new(field, format!("长度超过{max_chars}个字符")));
    }
    Ok(())
}

/// Parses a date: `yyyy-MM-dd`, `yyyy/MM/dd` or `yyyyMMdd`, or any date-time form (its day).
pub fn parse_date_text(text: &str) -> Option<NaiveDate> {
    parse_datetime_text(text).map(|t| t.date())
}

/// Parses a date-time in any of the forms the module documents.
pub fn parse_datetime_text(text: &str) -> Option<NaiveDateTime> {
    let bytes = text.as_bytes();
    if bytes.len() > DATETIME_TEXT_BYTES_MAX {
        return None;
    }
    let separated = matches!(bytes.get(4), Some(b'-' | b'/'));
    let (date, rest) = if separated {
        let sep = bytes.get(4)?;
        if bytes.get(7) != Some(sep) {
            return None;
        }
        let date = ymd(bytes.get(0..4)?, bytes.get(5..7)?, bytes.get(8..10)?)?;
        (date, bytes.get(10..)?)
    } else {
        let date = ymd(bytes.get(0..4)?, bytes.get(4..6)?, bytes.get(6..8)?)?;
        (date, bytes.get(8..)?)
    };
    if rest.is_empty() {
        return Some(date.and_time(NaiveTime::MIN));
    }
    let time = if separated {
        // " HH:mm:ss" or "THH:mm:ss", then an optional ".fraction".
        if !matches!(rest.first(), Some(b' ' | b'T')) || rest.get(3) != Some(&b':') || rest.get(6) != Some(&b':') {
            return None;
        }
        let nanos = fraction_nanos(rest.get(9..)?)?;
        hms(rest.get(1..3)?, rest.get(4..6)?, rest.get(7..9)?, nanos)?
    } else {
        // "HHmmss", optionally followed by three digits of milliseconds ("yyyyMMddHHmmssSSS").
        let nanos = match rest.len() {
            6 => 0,
            9 => digits(rest.get(6..9)?)? * 1_000_000,
            _ => return None,
        };
        hms(rest.get(0..2)?, rest.get(2..4)?, rest.get(4..6)?, nanos)?
    };
    Some(date.and_time(time))
}

fn digits(bytes: &[u8]) -> Option<u32> {
    if bytes.is_empty() || bytes.len() > 9 || !bytes.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(bytes.iter().fold(0, |n, b| n * 10 + u32::from(b - b'0')))
}

/// For text shaped like a date (or date-time) whose day does not exist (`2026-02-30`,
/// `20261301`): says so, so that the caller is told "no such day" rather than "wrong format".
pub fn impossible_day(text: &str) -> Option<String> {
    let b = text.as_bytes();
    let (year, month, day) = if matches!(b.get(4), Some(b'-' | b'/')) {
        (b.get(0..4)?, b.get(5..7)?, b.get(8..10)?)
    } else {
        (b.get(0..4)?, b.get(4..6)?, b.get(6..8)?)
    };
    let (year, month, day) = (digits(year)?, digits(month)?, digits(day)?);
    let exists = i32::try_from(year)
        .ok()
        .and_then(|y| NaiveDate::from_ymd_opt(y, month, day))
        .is_some();
    (!exists).then(|| format!("日期{year:04}-{month:02}-{day:02}不存在"))
}

/// The refusal for a date or date-time that did not parse: the impossible day when it is one,
/// else the forms accepted.
fn bad_date(text: &str, forms: &str) -> String {
    impossible_day(text).unwrap_or_else(|| forms.to_owned())
}

fn ymd(year: &[u8], month: &[u8], day: &[u8]) -> Option<NaiveDate> {
    let year = i32::try_from(digits(year)?).ok()?;
    NaiveDate::from_ymd_opt(year, digits(month)?, digits(day)?)
}

fn hms(hour: &[u8], minute: &[u8], second: &[u8], nanos: u32) -> Option<NaiveTime> {
    NaiveTime::from_hms_nano_opt(digits(hour)?, digits(minute)?, digits(second)?, nanos)
}

/// ".123" → 123_000_000 nanoseconds; "" → 0; anything else → `None`.
fn fraction_nanos(rest: &[u8]) -> Option<u32> {
    match rest.split_first() {
        None => Some(0),
        Some((b'.', frac)) if (1..=9).contains(&frac.len()) => {
            let value = digits(frac)?;
            let missing = 9 - u32::try_from(frac.len()).ok()?;
            Some(value * 10u32.pow(missing))
        }
        Some(_) => None,
    }
}

/// Parses an integer, accepting a zero fraction ("2", "2.0", "2.00") since some clients send every
/// number as a decimal.
fn parse_integer_text(text: &str) -> Option<i64> {
    if text.len() > INTEGER_TEXT_BYTES_MAX {
        return None;
    }
    let whole = match text.split_once('.') {
        Some((whole, frac)) if !frac.is_empty() && frac.bytes().all(|b| b == b'0') => whole,
        Some(_) => return None,
        None => text,
    };
    let digits = whole.strip_prefix(['-', '+']).unwrap_or(whole);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    whole.parse().ok()
}

/// Parses a flag: `0`/`1`, plus the spellings clients use for them.
fn parse_flag_text(text: &str) -> Option<bool> {
    match text {
        "0" | "0.0" | "N" | "n" | "否" | "false" | "FALSE" | "False" => Some(false),
        "1" | "1.0" | "Y" | "y" | "是" | "true" | "TRUE" | "True" => Some(true),
        _ => None,
    }
}

/// Is there a nesting deeper than `max` in `value`? Iterative: constant stack on any input.
pub fn deeper_than(value: &Value, max: usize) -> bool {
    let mut stack: Vec<(&Value, usize)> = vec![(value, 1)];
    while let Some((v, depth)) = stack.pop() {
        let children: Vec<&Value> = match v {
            Value::Array(items) => items.iter().collect(),
            Value::Object(map) => map.values().collect(),
            _ => continue,
        };
        if depth > max {
            return true;
        }
        stack.extend(children.into_iter().map(|c| (c, depth + 1)));
    }
    false
}

/// The fields of one JSON object (a node like `input.data`, or one element of a list), with the
/// path its errors are reported under.
#[derive(Clone, Debug)]
pub struct Fields<'a> {
    path: String,
    map: &'a Map<String, Value>,
}

impl<'a> Fields<'a> {
    /// Reads `value` as an object reported under `path` (`""` for the envelope's top level).
    pub fn object(value: &'a Value, path: impl Into<String>) -> Result<Fields<'a>, FsiError> {
        let path = path.into();
        match value {
            Value::Object(map) => Ok(Fields { path, map }),
            _ => Err(FsiError::new(
                if path.is_empty() { "body".to_owned() } else { path },
                "应为JSON对象",
            )),
        }
    }

    /// The path of this object (`input.data`).
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The underlying map, for callers that need a field no reader covers.
    pub fn map(&self) -> &'a Map<String, Value> {
        self.map
    }

    /// The path of one of this object's fields (`input.data.psn_no`).
    pub fn field_path(&self, name: &str) -> String {
        if self.path.is_empty() {
            name.to_owned()
        } else {
            format!("{}.{name}", self.path)
        }
    }

    /// The raw value of a field, `None` when absent in the lenient sense.
    pub fn value(&self, name: &str) -> Option<&'a Value> {
        self.map.get(name).filter(|v| !is_absent(v))
    }

    /// Whether a field is present (in the lenient sense).
    pub fn has(&self, name: &str) -> bool {
        self.value(name).is_some()
    }

    fn require<T>(&self, name: &str, value: Option<T>) -> Result<T, FsiError> {
        value.ok_or_else(|| FsiError::missing(self.field_path(name)))
    }

    fn scalar(&self, name: &str) -> Result<Option<Cow<'a, str>>, FsiError> {
        match self.map.get(name) {
            None => Ok(None),
            Some(value) => scalar_text(value, &self.field_path(name)),
        }
    }

    // ---- nodes and lists ----

    /// A child object that may be absent.
    pub fn opt_child(&self, name: &str) -> Result<Option<Fields<'a>>, FsiError> {
        self.value(name)
            .map(|v| Fields::object(v, self.field_path(name)))
            .transpose()
    }

    /// A required child object (`input.data`).
    pub fn child(&self, name: &str) -> Result<Fields<'a>, FsiError> {
        let child = self.opt_child(name)?;
        self.require(name, child)
    }

    /// A list of objects that may be absent (then empty). A single object stands for a list of
    /// one, as some clients send `diseinfo` that way. More than `max` elements is an error;
    /// `label` names the elements in messages (费用明细, 诊断信息).
    pub fn opt_list(&self, name: &str, max: usize, label: &str) -> Result<Vec<Fields<'a>>, FsiError> {
        let path = self.field_path(name);
        match self.value(name) {
            None => Ok(Vec::new()),
            Some(single @ Value::Object(_)) => Ok(vec![Fields::object(single, path)?]),
            Some(Value::Array(items)) => {
                if items.len() > max {
                    return Err(FsiError::new(
                        path,
                        format!("{label}{}条,超过每次上限{max}条", items.len()),
                    ));
                }
                items
                    .iter()
                    .enumerate()
                    .map(|(i, item)| Fields::object(item, format!("{path}[{i}]")))
                    .collect()
            }
            Some(_) => Err(FsiError::new(path, "应为JSON数组或对象")),
        }
    }

    /// A required list of at least one object.
    pub fn list(&self, name: &str, max: usize, label: &str) -> Result<Vec<Fields<'a>>, FsiError> {
        if !self.has(name) {
            return Err(FsiError::missing(self.field_path(name)));
        }
        let items = self.opt_list(name, max, label)?;
        if items.is_empty() {
            return Err(FsiError::new(self.field_path(name), format!("至少需要1条{label}")));
        }
        Ok(items)
    }

    // ---- text ----

    /// Text of at most `max_chars` characters.
    pub fn text(&self, name: &str, max_chars: usize) -> Result<Option<String>, FsiError> {
        let Some(text) = self.scalar(name)? else {
            return Ok(None);
        };
        check_chars(&text, max_chars, &self.field_path(name))?;
        Ok(Some(text.into_owned()))
    }

    /// Required text of at most `max_chars` characters.
    pub fn req_text(&self, name: &str, max_chars: usize) -> Result<String, FsiError> {
        let text = self.text(name, max_chars)?;
        self.require(name, text)
    }

    /// A two-digit dictionary code kept as text (`mdtrt_cert_type`, `psn_cert_type`,
    /// `psn_setlway`): a lone digit gets its leading zero back ("2" → "02").
    pub fn dict_code(&self, name: &str, max_chars: usize) -> Result<Option<String>, FsiError> {
        Ok(self.text(name, max_chars)?.map(|code| {
            if code.len() == 1 && code.bytes().all(|b| b.is_ascii_digit()) {
                format!("0{code}")
            } else {
                code
            }
        }))
    }

    /// Required [`Fields::dict_code`].
    pub fn req_dict_code(&self, name: &str, max_chars: usize) -> Result<String, FsiError> {
        let code = self.dict_code(name, max_chars)?;
        self.require(name, code)
    }

    /// Free-form JSON text (`exp_content`): a string, or an object or array that is kept as its
    /// compact JSON text; at most `max_chars` characters either way.
    pub fn json_text(&self, name: &str, max_chars: usize) -> Result<Option<String>, FsiError> {
        let path = self.field_path(name);
        match self.value(name) {
            None => Ok(None),
            Some(v @ (Value::Object(_) | Value::Array(_))) => {
                if deeper_than(v, JSON_DEPTH_MAX) {
                    return Err(FsiError::new(path, format!("嵌套层数超过{JSON_DEPTH_MAX}层")));
                }
                let text = serde_json::to_string(v).map_err(|_| FsiError::new(&path, "不是合法的JSON"))?;
                check_chars(&text, max_chars, &path)?;
                Ok(Some(text))
            }
            Some(_) => self.text(name, max_chars),
        }
    }

    // ---- decimals ----

    fn decimal<T>(
        &self,
        name: &str,
        label: &str,
        parse: impl FnOnce(&str) -> Result<T, ParseError>,
    ) -> Result<Option<T>, FsiError> {
        let Some(text) = self.scalar(name)? else {
            return Ok(None);
        };
        parse(&text)
            .map(Some)
            .map_err(|e| FsiError::new(self.field_path(name), format!("{label}{e}")))
    }

    /// An amount in yuan with at most 2 decimals (`16,2`).
    pub fn money(&self, name: &str, label: &str) -> Result<Option<Money>, FsiError> {
        self.decimal(name, label, Money::parse_yuan)
    }

    pub fn req_money(&self, name: &str, label: &str) -> Result<Money, FsiError> {
        let value = self.money(name, label)?;
        self.require(name, value)
    }

    /// A unit price with at most 6 decimals (`16,6`).
    pub fn price(&self, name: &str, label: &str) -> Result<Option<Price>, FsiError> {
        self.decimal(name, label, Price::parse)
    }

    pub fn req_price(&self, name: &str, label: &str) -> Result<Price, FsiError> {
        let value = self.price(name, label)?;
        self.require(name, value)
    }

    /// A quantity with at most 4 decimals (`16,4`), possibly negative.
    pub fn quantity(&self, name: &str, label: &str) -> Result<Option<Quantity>, FsiError> {
        self.decimal(name, label, Quantity::parse)
    }

    pub fn req_quantity(&self, name: &str, label: &str) -> Result<Quantity, FsiError> {
        let value = self.quantity(name, label)?;
        self.require(name, value)
    }

    /// A ratio within 0..=1 with at most 4 decimals (`5,4`).
    pub fn ratio(&self, name: &str, label: &str) -> Result<Option<Ratio>, FsiError> {
        self.decimal(name, label, Ratio::parse)
    }

    // ---- integers, dates, codes, flags ----

    /// An integer within `min..=max`; `label` names it in messages.
    pub fn integer(&self, name: &str, label: &str, min: i64, max: i64) -> Result<Option<i64>, FsiError> {
        let Some(text) = self.scalar(name)? else {
            return Ok(None);
        };
        match parse_integer_text(&text) {
            Some(n) if (min..=max).contains(&n) => Ok(Some(n)),
            _ => Err(FsiError::new(
                self.field_path(name),
                format!("{label}应为{min}到{max}之间的整数"),
            )),
        }
    }

    pub fn req_integer(&self, name: &str, label: &str, min: i64, max: i64) -> Result<i64, FsiError> {
        let value = self.integer(name, label, min, max)?;
        self.require(name, value)
    }

    /// A date (`yyyy-MM-dd`, also `yyyyMMdd`).
    pub fn date(&self, name: &str) -> Result<Option<NaiveDate>, FsiError> {
        let Some(text) = self.scalar(name)? else {
            return Ok(None);
        };
        parse_date_text(&text).map(Some).ok_or_else(|| {
            FsiError::new(
                self.field_path(name),
                bad_date(&text, "日期格式应为yyyy-MM-dd或yyyyMMdd"),
            )
        })
    }

    pub fn req_date(&self, name: &str) -> Result<NaiveDate, FsiError> {
        let value = self.date(name)?;
        self.require(name, value)
    }

    /// A date-time (`yyyy-MM-dd HH:mm:ss`, also `yyyyMMddHHmmss`).
    pub fn datetime(&self, name: &str) -> Result<Option<NaiveDateTime>, FsiError> {
        let Some(text) = self.scalar(name)? else {
            return Ok(None);
        };
        parse_datetime_text(&text).map(Some).ok_or_else(|| {
            FsiError::new(
                self.field_path(name),
                bad_date(&text, "时间格式应为yyyy-MM-dd HH:mm:ss或yyyyMMddHHmmss"),
            )
        })
    }

    pub fn req_datetime(&self, name: &str) -> Result<NaiveDateTime, FsiError> {
        let value = self.datetime(name)?;
        self.require(name, value)
    }

    /// A code parsed by one of the `yibao-codes` parsers (`MedicalType::parse`); a lone digit is
    /// retried with a leading zero.
    pub fn code<T>(&self, name: &str, parse: impl Fn(&str) -> Result<T, CodeError>) -> Result<Option<T>, FsiError> {
        let Some(text) = self.scalar(name)? else {
            return Ok(None);
        };
        match parse(&text) {
            Ok(code) => Ok(Some(code)),
            Err(error) => {
                if text.len() == 1 && text.bytes().all(|b| b.is_ascii_digit()) {
                    if let Ok(code) = parse(&format!("0{text}")) {
                        return Ok(Some(code));
                    }
                }
                Err(FsiError::new(self.field_path(name), error.to_string()))
            }
        }
    }

    pub fn req_code<T>(&self, name: &str, parse: impl Fn(&str) -> Result<T, CodeError>) -> Result<T, FsiError> {
        let value = self.code(name, parse)?;
        self.require(name, value)
    }

    /// A 0/1 flag.
    pub fn flag(&self, name: &str) -> Result<Option<bool>, FsiError> {
        match self.map.get(name) {
            Some(Value::Bool(b)) => Ok(Some(*b)),
            _ => {
                let Some(text) = self.scalar(name)? else {
                    return Ok(None);
                };
                parse_flag_text(&text)
                    .map(Some)
                    .ok_or_else(|| FsiError::new(self.field_path(name), "标志应为0或1"))
            }
        }
    }

    pub fn req_flag(&self, name: &str) -> Result<bool, FsiError> {
        let value = self.flag(name)?;
        self.require(name, value)
    }
}

/// Refuses a second element carrying the same key (`feedetl_sn` within one upload).
/// `path_of(i)` is the path of element `i`'s key field; `label` names the key in the message.
pub(crate) fn check_unique<'k>(
    keys: impl IntoIterator<Item = &'k str>,
    path_of: impl Fn(usize) -> String,
    label: &str,
) -> Result<(), FsiError> {
    let mut seen: HashSet<&str> = HashSet::new();
    for (i, key) in keys.into_iter().enumerate() {
        if !seen.insert(key) {
            return Err(FsiError::new(
                path_of(i),
                format!("{label}“{}”在本次上传中重复", echo(key)),
            ));
        }
    }
    Ok(())
}

/// Refuses an element whose value differs from the first element's (all lines of one upload
/// belong to one visit and one person). `path_of(i)` is the path of element `i`'s field.
pub(crate) fn check_same<'k>(
    values: impl IntoIterator<Item = &'k str>,
    path_of: impl Fn(usize) -> String,
    label: &str,
) -> Result<(), FsiError> {
    let mut values = values.into_iter().enumerate();
    let Some((_, first)) = values.next() else {
        return Ok(());
    };
    match values.find(|(_, value)| *value != first) {
        Some((i, value)) => Err(FsiError::new(
            path_of(i),
            format!("{label}“{}”与第1条的“{}”不一致", echo(value), echo(first)),
        )),
        None => Ok(()),
    }
}

/// A value from outside, cut short for quoting in a message.
pub(crate) fn echo(text: &str) -> String {
    const ECHO_CHARS_MAX: usize = 40;
    let mut out: String = text.chars().take(ECHO_CHARS_MAX).collect();
    if text.chars().nth(ECHO_CHARS_MAX).is_some() {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dt(text: &str) -> Option<String> {
        parse_datetime_text(text).map(|t| t.format("%Y-%m-%d %H:%M:%S%.3f").to_string())
    }

    #[test]
    fn datetime_forms() {
        assert_eq!(dt("2020-01-04 12:35:39").as_deref(), Some("2020-01-04 12:35:39.000"));
        assert_eq!(dt("20200104123539").as_deref(), Some("2020-01-04 12:35:39.000"));
        assert_eq!(dt("20200104123539123").as_deref(), Some("2020-01-04 12:35:39.123"));
        assert_eq!(dt("2020-01-04T12:35:39.5").as_deref(), Some("2020-01-04 12:35:39.500"));
        assert_eq!(dt("2020/01/04 12:35:39").as_deref(), Some("2020-01-04 12:35:39.000"));
        assert_eq!(dt("2020-01-01").as_deref(), Some("2020-01-01 00:00:00.000"));
        assert_eq!(dt("20200101").as_deref(), Some("2020-01-01 00:00:00.000"));
        for bad in [
            "2020-1-4 12:35:39",
            "2020-01-04 25:00:00",
            "2020-02-30",
            "2020-01-04 12:35",
            "2020-01-04 12:35:39.",
            "2020-01-04 12:35:39.1234567890",
            "2020-01/04",
            "+020-01-04",
            "2020010412353",
            "二〇二〇年",
            "",
        ] {
            assert_eq!(dt(bad), None, "{bad}");
        }
    }

    #[test]
    fn impossible_days_are_named() {
        assert_eq!(impossible_day("2026-02-30").as_deref(), Some("日期2026-02-30不存在"));
        assert_eq!(
            impossible_day("2026-02-30 10:00:00").as_deref(),
            Some("日期2026-02-30不存在")
        );
        assert_eq!(impossible_day("20261301").as_deref(), Some("日期2026-13-01不存在"));
        assert_eq!(impossible_day("2024-02-29"), None, "a leap day exists");
        assert_eq!(
            impossible_day("2026-1-4"),
            None,
            "not a date's shape: the format is at fault"
        );
        assert_eq!(impossible_day("二〇二〇年"), None);
    }

    #[test]
    fn integers_allow_a_zero_fraction_only() {
        assert_eq!(parse_integer_text("2"), Some(2));
        assert_eq!(parse_integer_text("2.00"), Some(2));
        assert_eq!(parse_integer_text("-3"), Some(-3));
        assert_eq!(parse_integer_text("2.5"), None);
        assert_eq!(parse_integer_text("2."), None);
        assert_eq!(parse_integer_text("1e3"), None);
        assert_eq!(parse_integer_text("99999999999999999999"), None);
    }

    #[test]
    fn depth_is_measured_without_recursion() {
        let mut v = Value::Null;
        for _ in 0..10_000 {
            v = Value::Array(vec![v]);
        }
        assert!(deeper_than(&v, JSON_DEPTH_MAX));
        assert!(!deeper_than(&serde_json::json!({"a": [1, {"b": 2}]}), 3));
        assert!(deeper_than(&serde_json::json!({"a": [1, {"b": [2]}]}), 3));
        // Dropping a 10,000-deep value recurses in serde_json's drop glue; unwind it by hand.
        let mut cur = v;
        while let Value::Array(mut items) = cur {
            cur = items.pop().unwrap_or(Value::Null);
        }
    }
}
