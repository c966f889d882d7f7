//! 9101 文件上传 and 9102 文件下载.

use base64::Engine;
use serde_json::Value;

use super::root;
use crate::error::FsiError;
use crate::files::FILE_BYTES_MAX;
use crate::limits::{FILENAME_CHARS, ID_CHARS};

/// 9101 文件上传, node `input.fsUploadIn`: `in` (文件数据, the bytes), `filename` (200) and
/// `fixmedins_code` (30). Answered with `output` = `{file_qury_no, filename, fixmedins_code,
/// dld_endtime}`.
///
/// `in` arrives in the forms clients serialise a byte array to: a Base64 string (Jackson,
/// Newtonsoft), or an array of numbers, unsigned 0–255 or Java's signed −128–127 (Gson). The
/// multipart form (`jsonStr` and a `file` part) is decoded at the HTTP edge into the same input.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Input9101 {
    pub bytes: Vec<u8>,
    pub filename: String,
    pub fixmedins_code: Option<String>,
}

impl Input9101 {
    pub fn parse(input: &Value) -> Result<Input9101, FsiError> {
        let node = root(input)?.child("fsUploadIn")?;
        let path = node.field_path("in");
        let bytes = match node.value("in") {
            None => return Err(FsiError::missing(path)),
            Some(value) => decode_bytes(value, &path)?,
        };
        Input9101::new(
            bytes,
            &node.req_text("filename", FILENAME_CHARS)?,
            node.text("fixmedins_code", ID_CHARS)?,
            &node.field_path("filename"),
        )
    }

    /// The input from its parts (the multipart form), with the same checks.
    pub fn new(
        bytes: Vec<u8>,
        filename: &str,
        fixmedins_code: Option<String>,
        filename_path: &str,
    ) -> Result<Input9101, FsiError> {
        if bytes.is_empty() {
            return Err(FsiError::new("input.fsUploadIn.in", "文件内容为空"));
        }
        if bytes.len() > FILE_BYTES_MAX {
            return Err(FsiError::new(
                "input.fsUploadIn.in",
                format!("文件{}字节,超过上限{FILE_BYTES_MAX}字节", bytes.len()),
            ));
        }
        check_filename(filename, filename_path)?;
        Ok(Input9101 {
            bytes,
            filename: filename.to_owned(),
            fixmedins_code,
        })
    }
}

/// 9102 文件下载, node `input.fsDownloadIn`: `file_qury_no` (required), `filename` and
/// `fixmedins_code`. The answer is the file itself (`application/octet-stream`); a refusal is a
/// JSON answer like any other.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Input9102 {
    pub file_qury_no: String,
    pub filename: Option<String>,
    pub fixmedins_code: Option<String>,
}

impl Input9102 {
    pub fn parse(input: &Value) -> Result<Input9102, FsiError> {
        let node = root(input)?.child("fsDownloadIn")?;
        let filename = node.text("filename", FILENAME_CHARS)?;
        if let Some(name) = &filename {
            check_filename(name, &node.field_path("filename"))?;
        }
        Ok(Input9102 {
            file_qury_no: node.req_text("file_qury_no", ID_CHARS)?,
            filename,
            fixmedins_code: node.text("fixmedins_code", ID_CHARS)?,
        })
    }
}

/// A file name is a name, not a path: it is echoed in `Content-Disposition` and in answers.
fn check_filename(name: &str, path: &str) -> Result<(), FsiError> {
    if name.trim().is_empty() {
        return Err(FsiError::new(path, "文件名不能为空"));
    }
    if name.chars().any(|c| c.is_control() || matches!(c, '/' | '\\' | '"')) {
        return Err(FsiError::new(path, "文件名不能含路径分隔符、引号或控制字符"));
    }
    if name.chars().count() > FILENAME_CHARS {
        return Err(FsiError::new(path, format!("长度超过{FILENAME_CHARS}个字符")));
    }
    Ok(())
}

fn decode_bytes(value: &Value, path: &str) -> Result<Vec<u8>, FsiError> {
    match value {
        Value::String(text) => {
            // MIME Base64 wraps lines: the breaks do not count. Base64 grows 4/3, so what is
            // longer could not fit anyway and is refused before decoding.
            let compact: String = text.chars().filter(|c| !c.is_ascii_whitespace()).collect();
            if compact.len() > FILE_BYTES_MAX.div_ceil(3) * 4 {
                return Err(FsiError::new(path, format!("文件超过上限{FILE_BYTES_MAX}字节")));
            }
            base64::engine::general_purpose::STANDARD
                .decode(compact.as_bytes())
                .map_err(|_| FsiError::new(path, "应为Base64编码的文件内容或字节数组"))
        }
        Value::Array(items) => {
            if items.len() > FILE_BYTES_MAX {
                return Err(FsiError::new(
                    path,
                    format!("文件{}字节,超过上限{FILE_BYTES_MAX}字节", items.len()),
                ));
            }
            items
                .iter()
                .enumerate()
                .map(|(i, item)| {
                    let n = item.as_i64().filter(|n| (-128..=255).contains(n));
                    // Java's bytes are signed: -1 is 0xFF.
                    n.map(|n| (n & 0xFF) as u8)
                        .ok_or_else(|| FsiError::new(format!("{path}[{i}]"), "应为-128至255的整数"))
                })
                .collect()
        }
        _ => Err(FsiError::new(path, "应为Base64编码的文件内容或字节数组")),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn bytes_arrive_as_base64_or_as_signed_or_unsigned_arrays() {
        let b64 = json!({"fsUploadIn": {"in": "UEsDBA==", "filename": "a.zip", "fixmedins_code": "H1"}});
        assert_eq!(Input9101::parse(&b64).unwrap().bytes, b"PK\x03\x04");
        let unsigned = json!({"fsUploadIn": {"in": [80, 75, 255], "filename": "a.zip"}});
        assert_eq!(Input9101::parse(&unsigned).unwrap().bytes, vec![80, 75, 255]);
        let signed = json!({"fsUploadIn": {"in": [80, 75, -1], "filename": "a.zip"}});
        assert_eq!(Input9101::parse(&signed).unwrap().bytes, vec![80, 75, 255]);
    }

    #[test]
    fn wrapped_base64_counts_without_its_line_breaks() {
        use base64::Engine;
        let file = vec![7u8; FILE_BYTES_MAX];
        let encoded = base64::engine::general_purpose::STANDARD.encode(&file);
        // MIME wraps at 76 columns with CRLF: longer than the limit's Base64, the same bytes.
        let wrapped: String = encoded
            .as_bytes()
            .chunks(76)
            .map(|line| format!("{}\r\n", std::str::from_utf8(line).unwrap()))
            .collect();
        let input = json!({"fsUploadIn": {"in": wrapped, "filename": "a.zip"}});
        assert_eq!(Input9101::parse(&input).unwrap().bytes.len(), FILE_BYTES_MAX);
        let over = base64::engine::general_purpose::STANDARD.encode(vec![7u8; FILE_BYTES_MAX + 1]);
        let error = Input9101::parse(&json!({"fsUploadIn": {"in": over, "filename": "a.zip"}})).unwrap_err();
        assert!(error.to_string().contains("超过上限"), "{error}");
    }

    #[test]
    fn refusals_name_the_field() {
        let cases = [
            (
                json!({"fsUploadIn": {"filename": "a.zip"}}),
                "input.fsUploadIn.in: 必填字段缺失",
            ),
            (
                json!({"fsUploadIn": {"in": "%%%", "filename": "a.zip"}}),
                "input.fsUploadIn.in: 应为Base64编码的文件内容或字节数组",
            ),
            (
                json!({"fsUploadIn": {"in": [1, 300], "filename": "a.zip"}}),
                "input.fsUploadIn.in[1]: 应为-128至255的整数",
            ),
            (
                json!({"fsUploadIn": {"in": "", "filename": "a.zip"}}),
                "input.fsUploadIn.in: 必填字段缺失",
            ),
            (
                json!({"fsUploadIn": {"in": "UEsDBA==", "filename": "../etc/passwd"}}),
                "input.fsUploadIn.filename: 文件名不能含路径分隔符、引号或控制字符",
            ),
            (
                json!({"fsUploadIn": {"in": "UEsDBA=="}}),
                "input.fsUploadIn.filename: 必填字段缺失",
            ),
        ];
        for (input, expected) in cases {
            let error = Input9101::parse(&input).unwrap_err().to_string();
            assert!(error.starts_with(expected), "{error} should start with {expected}");
        }
        let too_big = vec![json!(1); FILE_BYTES_MAX + 1];
        let error = Input9101::parse(&json!({"fsUploadIn": {"in": too_big, "filename": "a"}})).unwrap_err();
        assert!(error.to_string().contains("超过上限"), "{error}");
        let error = Input9102::parse(&json!({"fsDownloadIn": {"filename": "a"}})).unwrap_err();
        assert!(
            error.to_string().starts_with("input.fsDownloadIn.file_qury_no"),
            "{error}"
        );
    }
}
