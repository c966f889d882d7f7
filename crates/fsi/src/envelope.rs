//! The request envelope (交易输入报文, spec §3.1) and its lenient parser.

use chrono::NaiveDateTime;
use serde_json::Value;

use crate::error::FsiError;
use crate::limits::{ADMDVS_CHARS, ID_CHARS, INFNO_CHARS_MAX, INFNO_CHARS_MIN};
use crate::read::{echo, is_absent, Fields};

/// The largest request body accepted, in bytes (4 MiB), checked before anything else is read.
/// A full 2204 upload of [`crate::FEEDETAIL_MAX`] lines is well under 2 MiB.
pub const ENVELOPE_BYTES_MAX: usize = 4 * 1024 * 1024;

/// The longest `msgid`, in characters: fixmedins_code(12) + yyyyMMddHHmmss(14) + sequence(4).
pub const MSGID_CHARS_MAX: usize = 30;

/// The digits after the institution code in a msgid: `yyyyMMddHHmmss`(14) + a serial(4).
const MSGID_SUFFIX_DIGITS: usize = 18;

/// Checks the national msgid layout, `fixmedins_code` + `yyyyMMddHHmmss` + a 4-digit serial,
/// for a request that changes state. Why: the msgid is the key under which an answer is kept and
/// replayed. With the institution's own code in front, no institution can pick a msgid that
/// another institution uses, so a reuse never tells one institution anything about another's
/// messages. (Read-only requests are not stored, and the spec's own 1101 example does not follow
/// the layout, so they are not held to it.)
pub fn check_msgid_layout(msgid: &str, fixmedins_code: &str) -> Result<(), FsiError> {
    let suffix = msgid.strip_prefix(fixmedins_code);
    let good = suffix.is_some_and(|s| s.len() == MSGID_SUFFIX_DIGITS && s.bytes().all(|b| b.is_ascii_digit()));
    if good {
        return Ok(());
    }
    Err(FsiError::new(
        "msgid",
        format!(
            "报文ID应为定点医药机构编号{fixmedins_code}加14位时间(yyyyMMddHHmmss)和4位顺序号,如{fixmedins_code}202601011230450001"
        ),
    ))
}

/// The digest that names a request for msgid replay: SHA-256 over the transaction code, the
/// `input` node as parsed (re-serialized, so the same input always gives the same bytes) and the
/// bytes of a file sent beside the envelope (a multipart 9101; empty otherwise). The envelope's
/// other fields (`inf_time`, `sign_no`, …) are not part of it: a client retrying a message may
/// rebuild them, and they decide nothing.
pub fn request_digest(infno: &str, input: &Value, attached: &[u8]) -> [u8; 32] {
    use sha2::{Digest, Sha256};
    let mut hasher = Sha256::new();
    // Lengths first, so that no two different triples hash the same bytes.
    let input_text = input.to_string();
    for part in [infno.as_bytes(), input_text.as_bytes(), attached] {
        hasher.update((part.len() as u64).to_le_bytes());
        hasher.update(part);
    }
    hasher.finalize().into()
}

/// The request envelope. Every field but `infno`, `msgid`, `fixmedins_code` and `input` may be
/// absent: the spec marks more of them required, but real clients omit `infver`, `opter_name`,
/// `recer_sys_code` and others, and nothing the platform computes depends on them. Whether
/// `insuplc_admdvs` is present when `input` carries a `psn_no` is for the service to decide.
#[derive(Clone, Debug, PartialEq)]
pub struct Envelope {
    /// 交易编号, upper-cased ("2203a" → "2203A"); from the body or the URL path.
    pub infno: String,
    /// 发送方报文ID, at most [`MSGID_CHARS_MAX`] characters. Its layout is not checked: the
    /// spec's own example does not follow it.
    pub msgid: String,
    /// 就医地医保区划 (6).
    pub mdtrtarea_admvs: Option<String>,
    /// 参保地医保区划 (6).
    pub insuplc_admdvs: Option<String>,
    /// 接收方系统代码 (10).
    pub recer_sys_code: Option<String>,
    /// 设备编号 (100).
    pub dev_no: Option<String>,
    /// 设备安全信息 (2000).
    pub dev_safe_info: Option<String>,
    /// 数字签名信息 (1024); verified outside this crate.
    pub cainfo: Option<String>,
    /// 签名类型 (10).
    pub signtype: Option<String>,
    /// 接口版本号 (6).
    pub infver: Option<String>,
    /// 经办人类别 (3): 1 经办人, 2 自助终端, 3 移动终端; kept as sent.
    pub opter_type: Option<String>,
    /// 经办人 (30).
    pub opter: Option<String>,
    /// 经办人姓名 (50).
    pub opter_name: Option<String>,
    /// 交易时间, sent as `yyyy-MM-dd HH:mm:ss` or `yyyyMMddHHmmss`.
    pub inf_time: Option<NaiveDateTime>,
    /// 定点医药机构编号 (spec 12; up to 30 accepted, as some provinces use longer codes).
    pub fixmedins_code: String,
    /// 定点医药机构名称 (spec 20; up to 200 accepted: real names are longer than 20).
    pub fixmedins_name: Option<String>,
    /// 交易签到流水号 (spec 30; up to 64 accepted: the spec's own example is 32 long).
    pub sign_no: Option<String>,
    /// 加密类型 ("SM4" or empty).
    pub enc_type: Option<String>,
    /// 交易输入: always a JSON object here, whether it came as an object or as a string holding
    /// one. Pass it to the transaction's `parse`.
    pub input: Value,
}

/// Envelope text fields and their spec lengths in characters (§3.1), widened where real traffic
/// exceeds the spec (noted on [`Envelope`]).
mod len {
    pub const RECER_SYS_CODE: usize = 10;
    pub const DEV_NO: usize = 100;
    pub const DEV_SAFE_INFO: usize = 2000;
    pub const CAINFO: usize = 1024;
    pub const SIGNTYPE: usize = 10;
    pub const INFVER: usize = 6;
    pub const OPTER_TYPE: usize = 3;
    pub const OPTER: usize = 30;
    pub const OPTER_NAME: usize = 50;
    pub const FIXMEDINS_CODE: usize = 30;
    pub const FIXMEDINS_NAME: usize = 200;
    pub const SIGN_NO: usize = 64;
    pub const ENC_TYPE: usize = 10;
}

/// Parses a request body into an [`Envelope`], leniently (see the crate documentation).
///
/// `path_infno` is the transaction code from the URL (`…/callService/2207`), if the client used
/// that form; when the body carries `infno` too, the two must agree.
pub fn parse_envelope(body: &[u8], path_infno: Option<&str>) -> Result<Envelope, FsiError> {
    if body.len() > ENVELOPE_BYTES_MAX {
        return Err(FsiError::new(
            "body",
            format!("报文长度{}字节,超过上限{ENVELOPE_BYTES_MAX}字节", body.len()),
        ));
    }
    // Windows clients often prefix a byte-order mark.
    let body = body.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(body);
    let text = std::str::from_utf8(body).map_err(|_| FsiError::new("body", "报文不是合法的UTF-8文本"))?;
    if text.trim().is_empty() {
        return Err(FsiError::new("body", "报文为空"));
    }
    let mut root: Value = serde_json::from_str(text).map_err(|e| {
        // serde_json stops at its recursion limit (128, the same as JSON_DEPTH_MAX) with a
        // syntax error; its text is the only sign. Named as what it is, not as a bad column.
        if e.to_string().starts_with("recursion limit exceeded") {
            return FsiError::new(
                "body",
                format!(
                    "报文JSON嵌套层数超过上限{}层(第{}行第{}列)",
                    crate::read::JSON_DEPTH_MAX,
                    e.line(),
                    e.column()
                ),
            );
        }
        FsiError::new(
            "body",
            format!("报文不是合法的JSON(第{}行第{}列)", e.line(), e.column()),
        )
    })?;
    let top = Fields::object(&root, "")?;

    let infno = read_infno(&top, path_infno)?;
    let msgid = top.req_text("msgid", MSGID_CHARS_MAX)?;
    let fixmedins_code = top.req_text("fixmedins_code", len::FIXMEDINS_CODE)?;
    let envelope = Envelope {
        infno,
        msgid,
        mdtrtarea_admvs: top.text("mdtrtarea_admvs", ADMDVS_CHARS)?,
        insuplc_admdvs: top.text("insuplc_admdvs", ADMDVS_CHARS)?,
        recer_sys_code: top.text("recer_sys_code", len::RECER_SYS_CODE)?,
        dev_no: top.text("dev_no", len::DEV_NO)?,
        dev_safe_info: top.text("dev_safe_info", len::DEV_SAFE_INFO)?,
        cainfo: top.text("cainfo", len::CAINFO)?,
        signtype: top.text("signtype", len::SIGNTYPE)?,
        infver: top.text("infver", len::INFVER)?,
        opter_type: top.text("opter_type", len::OPTER_TYPE)?,
        opter: top.text("opter", len::OPTER)?,
        opter_name: top.text("opter_name", len::OPTER_NAME)?,
        inf_time: top.datetime("inf_time")?,
        fixmedins_code,
        fixmedins_name: top.text("fixmedins_name", len::FIXMEDINS_NAME)?,
        sign_no: top.text("sign_no", len::SIGN_NO)?,
        enc_type: top.text("enc_type", len::ENC_TYPE)?,
        input: Value::Null,
    };
    // Take `input` out of the parsed body rather than copying it: it can be megabytes.
    let input = root.as_object_mut().and_then(|map| map.remove("input"));
    let input = read_input(input, envelope.enc_type.as_deref())?;
    Ok(Envelope { input, ..envelope })
}

/// Checks a transaction code's shape: 4 to 6 ASCII letters or digits ("1101", "2203A", "13203").
/// Returns it upper-cased.
pub fn check_infno(text: &str, field: &str) -> Result<String, FsiError> {
    let chars = text.chars().count();
    if !(INFNO_CHARS_MIN..=INFNO_CHARS_MAX).contains(&chars) || !text.chars().all(|c| c.is_ascii_alphanumeric()) {
        return Err(FsiError::new(
            field,
            format!(
                "交易编号“{}”格式不正确,应为{INFNO_CHARS_MIN}至{INFNO_CHARS_MAX}位字母或数字",
                echo(text)
            ),
        ));
    }
    Ok(text.to_ascii_uppercase())
}

fn read_infno(top: &Fields, path_infno: Option<&str>) -> Result<String, FsiError> {
    let body = top
        .text("infno", ID_CHARS)?
        .map(|t| check_infno(&t, "infno"))
        .transpose()?;
    let path = path_infno
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(|t| check_infno(t, "infno"))
        .transpose()?;
    match (body, path) {
        (Some(body), Some(path)) if body != path => Err(FsiError::new(
            "infno",
            format!("报文中的交易编号“{body}”与请求地址中的交易编号“{path}”不一致"),
        )),
        (Some(infno), _) | (None, Some(infno)) => Ok(infno),
        (None, None) => Err(FsiError::missing("infno")),
    }
}

fn read_input(input: Option<Value>, enc_type: Option<&str>) -> Result<Value, FsiError> {
    let not_object = || FsiError::new("input", "交易输入应为JSON对象,或包含JSON对象的字符串");
    match input {
        None => Err(FsiError::missing("input")),
        Some(v) if is_absent(&v) => Err(FsiError::missing("input")),
        Some(object @ Value::Object(_)) => Ok(object),
        Some(Value::String(text)) => match serde_json::from_str::<Value>(&text) {
            Ok(inner @ Value::Object(_)) => Ok(inner),
            _ if enc_type.is_some() => Err(FsiError::new(
                "input",
                format!(
                    "交易输入已加密(enc_type={}),本接口只接受解密后的报文",
                    echo(enc_type.unwrap_or_default())
                ),
            )),
            _ => Err(not_object()),
        },
        Some(_) => Err(not_object()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn msgid_layout_is_the_institution_code_then_eighteen_digits() {
        assert!(check_msgid_layout("H50010100001202612071230450001", "H50010100001").is_ok());
        for bad in [
            // Another institution's code in front.
            "H50010100002202612071230450001",
            // One digit short, one too many, a letter among the digits.
            "H5001010000120261207123045000",
            "H500101000012026120712304500011",
            "H5001010000120261207123045000A",
            // A shorter code that is a prefix of the caller's cannot borrow its msgids.
            "H5001010000",
        ] {
            let e = check_msgid_layout(bad, "H50010100001").unwrap_err();
            assert_eq!(e.field, "msgid", "{bad}");
        }
        // A code that is a prefix of another's: the lengths differ, so the msgids never meet.
        assert!(check_msgid_layout("H50010100001202612071230450001", "H5001010000").is_err());
    }

    #[test]
    fn deep_json_is_refused_naming_the_depth_limit() {
        let deep = format!(
            r#"{{"infno":"1101","msgid":"M","fixmedins_code":"H1","input":{}{}}}"#,
            "[".repeat(200),
            "]".repeat(200)
        );
        let e = parse_envelope(deep.as_bytes(), None).unwrap_err();
        assert!(e.message.starts_with("报文JSON嵌套层数超过上限128层"), "{e}");
    }

    #[test]
    fn request_digest_tells_requests_apart() {
        let a = serde_json::json!({ "data": { "psn_no": "P1", "acct_used_flag": "1" } });
        let b = serde_json::json!({ "data": { "psn_no": "P1", "acct_used_flag": "0" } });
        assert_eq!(request_digest("2207", &a, b""), request_digest("2207", &a.clone(), b""));
        assert_ne!(request_digest("2207", &a, b""), request_digest("2207", &b, b""));
        assert_ne!(request_digest("2207", &a, b""), request_digest("2206", &a, b""));
        assert_ne!(request_digest("9101", &a, b"x"), request_digest("9101", &a, b"y"));
    }
}
