//! The answer envelope (交易输出报文, spec §3.2).

use chrono::{NaiveDateTime, Timelike};
use serde::Serialize;
use serde_json::Value;

/// `infcode` of a successful answer.
pub const INFCODE_SUCCESS: i32 = 0;
/// `infcode` of a refused or failed request.
pub const INFCODE_FAILURE: i32 = -1;
/// The longest `err_msg`, in characters (spec: str 200); longer messages are cut with "…".
pub const ERR_MSG_CHARS_MAX: usize = 200;
/// The length of `inf_refmsgid`, in characters: admdvs(6) + yyyyMMddHHmmss(14) + serial(10).
pub const INF_REFMSGID_CHARS: usize = 30;
/// The digits of the serial in `inf_refmsgid`: serials count modulo 10¹⁰.
const SERIAL_MODULUS: u64 = 10_000_000_000;

/// An answer in spec form. Serialized with `infcode` as a JSON number (0 / -1), as the
/// production sample has it; `output` is an object of named nodes, or `null` on failure.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Response {
    pub infcode: i32,
    /// 接收方报文ID: see [`inf_refmsgid`].
    pub inf_refmsgid: String,
    /// When the request arrived, `yyyyMMddHHmmssSSS`.
    pub refmsg_time: String,
    /// When the answer was made, `yyyyMMddHHmmssSSS`.
    pub respond_time: String,
    /// Empty on success, as in the spec's example.
    pub err_msg: String,
    pub output: Option<Value>,
    pub warn_msg: Option<String>,
    pub cainfo: Option<String>,
    pub signtype: Option<String>,
}

impl Response {
    /// A successful answer. `output` is the object of output nodes (`{"setlinfo": …}`), or
    /// `None` for transactions without output (serialized as `null`).
    pub fn ok(inf_refmsgid: String, received_at: NaiveDateTime, now: NaiveDateTime, output: Option<Value>) -> Response {
        Response {
            infcode: INFCODE_SUCCESS,
            inf_refmsgid,
            refmsg_time: millis_text(received_at),
            respond_time: millis_text(now),
            err_msg: String::new(),
            output,
            warn_msg: None,
            cainfo: None,
            signtype: None,
        }
    }

    /// A failure answer carrying `err_msg` (cut to [`ERR_MSG_CHARS_MAX`] characters). Pass a
    /// [`crate::FsiError`]'s `to_string()` for refused requests.
    pub fn error(inf_refmsgid: String, received_at: NaiveDateTime, now: NaiveDateTime, err_msg: &str) -> Response {
        Response {
            infcode: INFCODE_FAILURE,
            err_msg: cut(err_msg, ERR_MSG_CHARS_MAX),
            output: None,
            ..Response::ok(inf_refmsgid, received_at, now, None)
        }
    }

    /// Adds a warning (`warn_msg`), e.g. an audit hint that did not block the settlement.
    pub fn with_warning(self, warn_msg: impl Into<String>) -> Response {
        Response {
            warn_msg: Some(warn_msg.into()),
            ..self
        }
    }

    /// Adds a signature computed by the caller over this answer.
    pub fn with_signature(self, cainfo: impl Into<String>, signtype: impl Into<String>) -> Response {
        Response {
            cainfo: Some(cainfo.into()),
            signtype: Some(signtype.into()),
            ..self
        }
    }

    pub fn is_ok(&self) -> bool {
        self.infcode == INFCODE_SUCCESS
    }

    /// The answer as UTF-8 JSON, ready for the HTTP body.
    pub fn to_json_bytes(&self) -> Vec<u8> {
        // Serializing strings and `Value`s cannot fail; should it ever, answer with a fixed
        // failure rather than nothing.
        serde_json::to_vec(self).unwrap_or_else(|_| {
            r#"{"infcode":-1,"inf_refmsgid":"","refmsg_time":"","respond_time":"","err_msg":"应答序列化失败","output":null,"warn_msg":null,"cainfo":null,"signtype":null}"#
                .as_bytes()
                .to_vec()
        })
    }
}

/// The receiver's message id: the platform's 6-digit division code, `now` as `yyyyMMddHHmmss`
/// and `serial` as 10 digits (modulo 10¹⁰) — always [`INF_REFMSGID_CHARS`] characters.
///
/// `admdvs` is configuration, not client input, but the layout is kept whatever it holds: its
/// digits are used, cut or right-padded with zeros to six.
pub fn inf_refmsgid(admdvs: &str, now: NaiveDateTime, serial: u64) -> String {
    let mut division: String = admdvs.chars().filter(char::is_ascii_digit).take(6).collect();
    while division.len() < 6 {
        division.push('0');
    }
    format!(
        "{division}{}{:010}",
        now.format("%Y%m%d%H%M%S"),
        serial % SERIAL_MODULUS
    )
}

/// `yyyyMMddHHmmssSSS`, the answer's time format.
pub fn millis_text(t: NaiveDateTime) -> String {
    // A leap second carries nanoseconds ≥ 10⁹; keep the field 17 characters long.
    let millis = (t.nanosecond() / 1_000_000).min(999);
    format!("{}{millis:03}", t.format("%Y%m%d%H%M%S"))
}

fn cut(text: &str, max_chars: usize) -> String {
    if text.chars().count() <= max_chars {
        return text.to_owned();
    }
    let mut out: String = text.chars().take(max_chars.saturating_sub(1)).collect();
    out.push('…');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    fn at(h: u32, m: u32, s: u32, ms: u32) -> NaiveDateTime {
        NaiveDate::from_ymd_opt(2026, 6, 12)
            .and_then(|d| d.and_hms_milli_opt(h, m, s, ms))
            .unwrap()
    }

    #[test]
    fn refmsgid_layout() {
        let id = inf_refmsgid("350302", at(9, 22, 36, 0), 42);
        assert_eq!(id, "350302202606120922360000000042");
        assert_eq!(id.len(), INF_REFMSGID_CHARS);
        assert_eq!(
            inf_refmsgid("35", at(9, 22, 36, 0), 12_345_678_901).len(),
            INF_REFMSGID_CHARS
        );
        assert_eq!(&inf_refmsgid("35", at(9, 22, 36, 0), 12_345_678_901)[..6], "350000");
    }

    #[test]
    fn answer_form() {
        let r = Response::error(String::new(), at(9, 22, 36, 352), at(9, 22, 36, 356), &"错".repeat(300));
        assert_eq!(r.refmsg_time, "20260612092236352");
        assert_eq!(r.respond_time, "20260612092236356");
        assert_eq!(r.err_msg.chars().count(), ERR_MSG_CHARS_MAX);
        let json: Value = serde_json::from_slice(&r.to_json_bytes()).unwrap();
        assert_eq!(json["infcode"].to_string(), "-1");
        assert!(json["output"].is_null());
        let ok = Response::ok(
            "x".into(),
            at(0, 0, 0, 0),
            at(0, 0, 0, 1),
            Some(serde_json::json!({"a": 1})),
        );
        let json: Value = serde_json::from_slice(&ok.to_json_bytes()).unwrap();
        assert_eq!(json["infcode"].to_string(), "0");
        assert_eq!(json["err_msg"], "");
        assert_eq!(json["output"]["a"].to_string(), "1");
    }
}
