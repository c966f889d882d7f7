//! SQL literals for the PostgreSQL batch scripts.
//!
//! A batch is sent as one script of literal SQL (one network round trip), so every value is
//! written into the text here. Strings go through [`push_text`], the only function that quotes
//! text: it doubles single quotes and refuses NUL. That is complete for PostgreSQL with
//! `standard_conforming_strings = on` (the default since 9.1, and set and checked at connect by
//! [`crate::PostgresStore`]): in a plain `'…'` literal a backslash is an ordinary character and a
//! quote is the only character with a meaning. Numbers, booleans, dates and times are written by
//! us from typed values and never contain a quote.

use chrono::{Datelike, NaiveDate, NaiveDateTime};
use std::fmt::Write;

use crate::common::{date_text, time_text};
use crate::{Result, StoreError};

/// Writes `text` as a string literal: `'` + text with each `'` doubled + `'`. Refuses NUL, which
/// PostgreSQL cannot store in text.
pub(crate) fn push_text(out: &mut String, text: &str) -> Result<()> {
    if text.contains('\0') {
        return Err(StoreError::Rejected("文本含有 NUL 字符, PostgreSQL 无法保存".into()));
    }
    out.reserve(text.len() + 2);
    out.push('\'');
    for (i, part) in text.split('\'').enumerate() {
        if i > 0 {
            out.push_str("''");
        }
        out.push_str(part);
    }
    out.push('\'');
    Ok(())
}

pub(crate) fn push_int(out: &mut String, value: i64) {
    if value == i64::MIN {
        // The literal 9223372036854775808 would be numeric, not bigint.
        out.push_str("(-9223372036854775807 - 1)");
    } else {
        let _ = write!(out, "{value}");
    }
}

fn check_year(year: i32) -> Result<()> {
    if !(1..=9999).contains(&year) {
        return Err(StoreError::Rejected(format!("年份 {year} 超出 0001–9999")));
    }
    Ok(())
}

pub(crate) fn push_date(out: &mut String, date: NaiveDate) -> Result<()> {
    check_year(date.year())?;
    let _ = write!(out, "DATE '{}'", date_text(date));
    Ok(())
}

/// A `timestamp` literal, to the microsecond (see [`crate::common::norm_time`]).
pub(crate) fn push_time(out: &mut String, time: NaiveDateTime) -> Result<()> {
    check_year(time.year())?;
    let _ = write!(out, "TIMESTAMP '{}'", time_text(time));
    Ok(())
}

/// One parenthesised row of a `VALUES` list, written value by value.
pub(crate) struct Row<'a> {
    out: &'a mut String,
    first: bool,
}

impl<'a> Row<'a> {
    pub(crate) fn open(out: &'a mut String) -> Row<'a> {
        out.push('(');
        Row { out, first: true }
    }

    fn sep(&mut self) -> &mut String {
        if !self.first {
            self.out.push_str(", ");
        }
        self.first = false;
        self.out
    }

    pub(crate) fn text(&mut self, v: &str) -> Result<&mut Self> {
        push_text(self.sep(), v)?;
        Ok(self)
    }

    /// Bytes as a `bytea` hex literal: `'\x0a1b…'::bytea`. Only hex digits are written, so no
    /// quoting is involved.
    pub(crate) fn bytes(&mut self, v: &[u8]) -> Result<&mut Self> {
        let out = self.sep();
        out.reserve(2 * v.len() + 12);
        out.push_str("'\\x");
        for b in v {
            let _ = write!(out, "{b:02x}");
        }
        out.push_str("'::bytea");
        Ok(self)
    }

    /// NULLs are written typed (`NULL::text` …) so that a `VALUES` list whose rows are all NULL
    /// in a column still gives that column its type.
    pub(crate) fn opt_text(&mut self, v: Option<&str>) -> Result<&mut Self> {
        match v {
            Some(v) => self.text(v),
            None => {
                self.sep().push_str("NULL::text");
                Ok(self)
            }
        }
    }

    pub(crate) fn int(&mut self, v: i64) -> Result<&mut Self> {
        push_int(self.sep(), v);
        Ok(self)
    }

    pub(crate) fn opt_int(&mut self, v: Option<i64>) -> Result<&mut Self> {
        match v {
            Some(v) => self.int(v),
            None => {
                self.sep().push_str("NULL::bigint");
                Ok(self)
            }
        }
    }

    pub(crate) fn boolean(&mut self, v: bool) -> Result<&mut Self> {
        self.sep().push_str(if v { "TRUE" } else { "FALSE" });
        Ok(self)
    }

    pub(crate) fn date(&mut self, v: NaiveDate) -> Result<&mut Self> {
        push_date(self.sep(), v)?;
        Ok(self)
    }

    pub(crate) fn opt_date(&mut self, v: Option<NaiveDate>) -> Result<&mut Self> {
        match v {
            Some(v) => self.date(v),
            None => {
                self.sep().push_str("NULL::date");
                Ok(self)
            }
        }
    }

    pub(crate) fn time(&mut self, v: NaiveDateTime) -> Result<&mut Self> {
        push_time(self.sep(), v)?;
        Ok(self)
    }

    pub(crate) fn opt_time(&mut self, v: Option<NaiveDateTime>) -> Result<&mut Self> {
        match v {
            Some(v) => self.time(v),
            None => {
                self.sep().push_str("NULL::timestamp");
                Ok(self)
            }
        }
    }

    pub(crate) fn close(self) {
        self.out.push(')');
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(s: &str) -> String {
        let mut out = String::new();
        push_text(&mut out, s).unwrap();
        out
    }

    #[test]
    fn quotes_are_doubled_and_nothing_else_changes() {
        assert_eq!(text(""), "''");
        assert_eq!(text("abc"), "'abc'");
        assert_eq!(text("'"), "''''");
        assert_eq!(text("O'Brien"), "'O''Brien'");
        assert_eq!(text("''"), "''''''");
        assert_eq!(text("a'"), "'a'''");
        assert_eq!(text("'a"), "'''a'");
        assert_eq!(text(r"C:\path\n"), r"'C:\path\n'");
        assert_eq!(text(r"\'"), r"'\'''");
        assert_eq!(text("'); DROP TABLE persons; --"), "'''); DROP TABLE persons; --'");
        assert_eq!(text("$$ $1 ? :x E'\\x00'"), "'$$ $1 ? :x E''\\x00'''");
        assert_eq!(text("张三·医保 😷\n\t\r"), "'张三·医保 😷\n\t\r'");
    }

    #[test]
    fn literal_has_balanced_quotes_and_inner_quotes_come_in_pairs() {
        for s in ["'", "''", "a'b'c", "'''", "x'; SELECT 1; '", "\\'\\''"] {
            let lit = text(s);
            assert!(lit.starts_with('\'') && lit.ends_with('\''));
            let inner = &lit[1..lit.len() - 1];
            // Inside, quotes appear only in pairs: the literal cannot end early.
            assert!(!inner.replace("''", "").contains('\''), "{lit}");
            assert_eq!(inner.replace("''", "'"), s);
        }
    }

    #[test]
    fn nul_is_refused() {
        let mut out = String::new();
        assert!(matches!(push_text(&mut out, "a\0b"), Err(StoreError::Rejected(_))));
    }

    #[test]
    fn numbers_dates_and_times() {
        let mut out = String::new();
        push_int(&mut out, -42);
        out.push(' ');
        push_int(&mut out, i64::MIN);
        out.push(' ');
        push_int(&mut out, i64::MAX);
        assert_eq!(out, "-42 (-9223372036854775807 - 1) 9223372036854775807");

        let d = NaiveDate::from_ymd_opt(2024, 2, 29).unwrap();
        let mut out = String::new();
        push_date(&mut out, d).unwrap();
        out.push(' ');
        push_time(&mut out, d.and_hms_nano_opt(1, 2, 3, 4_005_006).unwrap()).unwrap();
        assert_eq!(out, "DATE '2024-02-29' TIMESTAMP '2024-02-29 01:02:03.004005'");

        let far = NaiveDate::from_ymd_opt(10000, 1, 1).unwrap();
        assert!(push_date(&mut out, far).is_err());
    }

    #[test]
    fn rows_separate_values() {
        let mut out = String::new();
        let mut row = Row::open(&mut out);
        row.text("a")
            .unwrap()
            .opt_text(None)
            .unwrap()
            .int(1)
            .unwrap()
            .boolean(true)
            .unwrap();
        row.opt_time(None)
            .unwrap()
            .opt_date(None)
            .unwrap()
            .opt_int(None)
            .unwrap();
        row.close();
        assert_eq!(
            out,
            "('a', NULL::text, 1, TRUE, NULL::timestamp, NULL::date, NULL::bigint)"
        );
    }
}
