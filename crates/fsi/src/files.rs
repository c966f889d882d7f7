//! The files institutions and the platform exchange through 9101 文件上传 and 9102 文件下载:
//! tab-separated text, usually inside a ZIP.
//!
//! - 表200, the institution's settlement lines for 3202 对明细账 ([`read_detail_file`]):
//!   `setl_id, mdtrt_id, psn_no, medfee_sumamt, fund_pay_sumamt, acct_pay, refd_setl_flag`,
//!   further columns ignored. A refund row (`refd_setl_flag` = 1) carries the reversed amounts,
//!   negative as the reference's clients write them; positive ones are read as the same amounts.
//! - 表201, the platform's answer ([`result_file`]): `psn_no, mdtrt_id, setl_id, msgid, stmt_rslt,
//!   refd_setl_flag, memo, medfee_sumamt, fund_pay_sumamt, acct_pay`, empty values as `null`.
//!
//! In memory only: bytes in, bytes out; the caller stores them.

use std::io::{Cursor, Read, Write};

use yibao_money::Money;

use crate::error::FsiError;

/// The largest file a client may upload (as stored, zipped or not).
pub const FILE_BYTES_MAX: usize = 2 * 1024 * 1024;
/// The largest text a zipped upload may unpack to: a ZIP that inflates beyond it is refused
/// rather than read (a few hundred bytes can inflate to gigabytes).
pub const FILE_TEXT_BYTES_MAX: usize = 32 * 1024 * 1024;
/// The most rows a 表200 file may hold.
pub const DETAIL_ROWS_MAX: usize = 100_000;

/// Where file errors are reported: the file is named by the field that named it.
const FILE_FIELD: &str = "input.data.file_qury_no";

/// One settlement line of an institution's 表200 file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DetailRow {
    pub setl_id: String,
    pub mdtrt_id: String,
    pub psn_no: String,
    pub medfee_sumamt: Money,
    pub fund_pay_sumamt: Money,
    pub acct_pay: Money,
    /// A refund (the reversal of `setl_id`).
    pub refd_setl_flag: bool,
}

/// 对账结果 of one 表201 row. The codes follow the reconciliation page option list the reference
/// cites (0 平, 1 中心多, 2 医药机构多, 3 数据不一致); the reference marks the official codes as
/// unresolved.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DetailResult {
    Balanced,
    OnlyCentre,
    OnlyInstitution,
    Differs,
}

impl DetailResult {
    pub fn code(self) -> &'static str {
        match self {
            DetailResult::Balanced => "0",
            DetailResult::OnlyCentre => "1",
            DetailResult::OnlyInstitution => "2",
            DetailResult::Differs => "3",
        }
    }
}

/// One row of the 表201 answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResultRow {
    pub psn_no: String,
    pub mdtrt_id: String,
    pub setl_id: String,
    pub msgid: Option<String>,
    pub stmt_rslt: DetailResult,
    pub refd_setl_flag: bool,
    pub memo: Option<String>,
    pub medfee_sumamt: Money,
    pub fund_pay_sumamt: Money,
    pub acct_pay: Money,
}

/// The text of an uploaded file: the first file inside a ZIP, or the bytes themselves when they
/// are not a ZIP. UTF-8, with or without a byte-order mark.
pub fn file_text(bytes: &[u8]) -> Result<String, FsiError> {
    let raw = if bytes.starts_with(b"PK\x03\x04") {
        unzip_first(bytes, FILE_TEXT_BYTES_MAX)?
    } else {
        bytes.to_vec()
    };
    let text = String::from_utf8(raw).map_err(|e| {
        FsiError::new(
            FILE_FIELD,
            format!("文件第{}字节起不是UTF-8文本", e.utf8_error().valid_up_to()),
        )
    })?;
    Ok(text.strip_prefix('\u{feff}').map(str::to_owned).unwrap_or(text))
}

fn unzip_first(bytes: &[u8], text_bytes_max: usize) -> Result<Vec<u8>, FsiError> {
    let broken = |_| FsiError::new(FILE_FIELD, "ZIP文件无法读取");
    let mut archive = zip::ZipArchive::new(Cursor::new(bytes)).map_err(broken)?;
    for index in 0..archive.len() {
        let entry = archive.by_index(index).map_err(broken)?;
        if !entry.is_file() {
            continue;
        }
        let mut text = Vec::new();
        entry
            .take(text_bytes_max as u64 + 1)
            .read_to_end(&mut text)
            .map_err(|_| FsiError::new(FILE_FIELD, "ZIP文件内容无法解压"))?;
        if text.len() > text_bytes_max {
            return Err(FsiError::new(
                FILE_FIELD,
                format!("ZIP解压后超过上限{text_bytes_max}字节"),
            ));
        }
        return Ok(text);
    }
    Err(FsiError::new(FILE_FIELD, "ZIP文件中没有文件"))
}

/// Reads an institution's 表200 file (zipped or plain). Blank lines are skipped, and so is a
/// first line that names the columns (`setl_id…`).
pub fn read_detail_file(bytes: &[u8]) -> Result<Vec<DetailRow>, FsiError> {
    const COLUMNS: [&str; 7] = [
        "setl_id",
        "mdtrt_id",
        "psn_no",
        "medfee_sumamt",
        "fund_pay_sumamt",
        "acct_pay",
        "refd_setl_flag",
    ];
    let text = file_text(bytes)?;
    let mut rows = Vec::new();
    for (index, line) in text.lines().enumerate() {
        let line_no = index + 1;
        let line = line.trim_end_matches('\r');
        if line.trim().is_empty() || (line_no == 1 && line.starts_with("setl_id")) {
            continue;
        }
        if rows.len() == DETAIL_ROWS_MAX {
            return Err(FsiError::new(FILE_FIELD, format!("文件超过{DETAIL_ROWS_MAX}行")));
        }
        let cells: Vec<&str> = line.split('\t').map(str::trim).collect();
        let at = |column: usize| format!("{FILE_FIELD}(第{line_no}行{})", COLUMNS[column]);
        if cells.len() < COLUMNS.len() {
            return Err(FsiError::new(
                format!("{FILE_FIELD}(第{line_no}行)"),
                format!("应有{}列(制表符分隔),只有{}列", COLUMNS.len(), cells.len()),
            ));
        }
        let text = |column: usize| -> Result<String, FsiError> {
            let cell = cells[column];
            if cell.is_empty() || cell == "null" {
                return Err(FsiError::missing(at(column)));
            }
            // The cell is echoed into the 表201, a tab- and line-separated file.
            if cell.chars().any(char::is_control) {
                return Err(FsiError::new(at(column), "不能含控制字符"));
            }
            if cell.chars().count() > crate::limits::ID_CHARS {
                return Err(FsiError::new(
                    at(column),
                    format!("长度超过{}", crate::limits::ID_CHARS),
                ));
            }
            Ok(cell.to_owned())
        };
        let amount = |column: usize| -> Result<Money, FsiError> {
            Money::parse_yuan(cells[column]).map_err(|_| FsiError::new(at(column), "应为金额(元,至多2位小数)"))
        };
        let refd_setl_flag = match cells[6] {
            "0" | "" | "null" => false,
            "1" => true,
            _ => return Err(FsiError::new(at(6), "应为0或1")),
        };
        rows.push(DetailRow {
            setl_id: text(0)?,
            mdtrt_id: text(1)?,
            psn_no: text(2)?,
            medfee_sumamt: amount(3)?,
            fund_pay_sumamt: amount(4)?,
            acct_pay: amount(5)?,
            refd_setl_flag,
        });
    }
    Ok(rows)
}

/// The 表201 answer as a ZIP holding `entry_name`.
pub fn result_file(entry_name: &str, rows: &[ResultRow]) -> Result<Vec<u8>, FsiError> {
    let mut text = String::with_capacity(rows.len() * 128);
    for r in rows {
        let cells = [
            r.psn_no.as_str(),
            r.mdtrt_id.as_str(),
            r.setl_id.as_str(),
            r.msgid.as_deref().unwrap_or("null"),
            r.stmt_rslt.code(),
            if r.refd_setl_flag { "1" } else { "0" },
            r.memo.as_deref().unwrap_or("null"),
        ];
        text.push_str(&cells.join("\t"));
        for amount in [r.medfee_sumamt, r.fund_pay_sumamt, r.acct_pay] {
            text.push('\t');
            text.push_str(&amount.to_string());
        }
        text.push_str("\r\n");
    }
    zip_text(entry_name, &text)
}

/// `text` as a one-file ZIP (deflated).
pub fn zip_text(entry_name: &str, text: &str) -> Result<Vec<u8>, FsiError> {
    let failed = |_| FsiError::new("output", "文件压缩失败");
    let mut writer = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    writer.start_file(entry_name, options).map_err(failed)?;
    writer
        .write_all(text.as_bytes())
        .map_err(|_| FsiError::new("output", "文件压缩失败"))?;
    Ok(writer.finish().map_err(failed)?.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn yuan(text: &str) -> Money {
        Money::parse_yuan(text).unwrap()
    }

    #[test]
    fn a_zipped_detail_file_reads_back_its_rows_refunds_included() {
        let text = "setl_id\tmdtrt_id\tpsn_no\tmedfee_sumamt\tfund_pay_sumamt\tacct_pay\trefd_setl_flag\n\
                    S1\tM1\tP1\t100.50\t60.00\t10\t0\textra\r\n\
                    \n\
                    S1\tM1\tP1\t-100.50\t-60.00\t-10\t1\n";
        let rows = read_detail_file(&zip_text("200.txt", text).unwrap()).unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].medfee_sumamt, yuan("100.50"));
        assert!(!rows[0].refd_setl_flag);
        assert_eq!(rows[1].acct_pay, yuan("-10"));
        assert!(rows[1].refd_setl_flag);
        // The same text unzipped reads the same.
        assert_eq!(read_detail_file(text.as_bytes()).unwrap(), rows);
    }

    #[test]
    fn bad_rows_are_refused_naming_line_and_column() {
        let cases = [
            (
                "S1\tM1\tP1\t1.234\t0\t0\t0",
                "input.data.file_qury_no(第1行medfee_sumamt): 应为金额(元,至多2位小数)",
            ),
            (
                "S1\tM1\tP1\t1\t0\t0",
                "input.data.file_qury_no(第1行): 应有7列(制表符分隔),只有6列",
            ),
            (
                "S1\t\tP1\t1\t0\t0\t0",
                "input.data.file_qury_no(第1行mdtrt_id): 必填字段缺失",
            ),
            (
                "S1\tM1\tP1\t1\t0\t0\t2",
                "input.data.file_qury_no(第1行refd_setl_flag): 应为0或1",
            ),
            (
                "S1\u{7}X\tM1\tP1\t1\t0\t0\t0",
                "input.data.file_qury_no(第1行setl_id): 不能含控制字符",
            ),
        ];
        for (text, expected) in cases {
            assert_eq!(read_detail_file(text.as_bytes()).unwrap_err().to_string(), expected);
        }
        let error = read_detail_file(b"PK\x03\x04 not really a zip").unwrap_err();
        assert_eq!(error.to_string(), "input.data.file_qury_no: ZIP文件无法读取");
        let error = read_detail_file(&[0xff, 0xfe, 0x00]).unwrap_err();
        assert_eq!(error.to_string(), "input.data.file_qury_no: 文件第0字节起不是UTF-8文本");
    }

    #[test]
    fn a_zip_that_inflates_past_the_limit_is_refused() {
        // The real limit is 32 MiB; the rule is the same at any limit, and a small one keeps
        // the test fast.
        let bomb = zip_text("big.txt", &"0".repeat(100_001)).unwrap();
        assert!(bomb.len() < 1_000, "deflate makes it small: {}", bomb.len());
        let error = unzip_first(&bomb, 100_000).unwrap_err();
        assert_eq!(
            error.to_string(),
            "input.data.file_qury_no: ZIP解压后超过上限100000字节"
        );
        assert_eq!(unzip_first(&bomb, 100_001).unwrap().len(), 100_001);
    }

    #[test]
    fn the_result_file_is_tab_separated_with_null_for_empty_values() {
        let row = ResultRow {
            psn_no: "P1".into(),
            mdtrt_id: "M1".into(),
            setl_id: "S1".into(),
            msgid: None,
            stmt_rslt: DetailResult::OnlyInstitution,
            refd_setl_flag: false,
            memo: Some("中心无此结算".into()),
            medfee_sumamt: yuan("100.5"),
            fund_pay_sumamt: yuan("60"),
            acct_pay: yuan("0"),
        };
        let zipped = result_file("201.txt", &[row]).unwrap();
        assert_eq!(
            file_text(&zipped).unwrap(),
            "P1\tM1\tS1\tnull\t2\t0\t中心无此结算\t100.50\t60.00\t0.00\r\n"
        );
    }
}
