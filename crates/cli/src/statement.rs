//! Hospital statements and other tables written as CSV or xlsx, chosen by the file extension.
//!
//! Bureaus send annual settlement statements to hospitals as spreadsheets; the CSV form is for
//! machines and diffs. Both carry the same cells. In CSV every amount is its exact decimal text
//! (`15240.07`). The xlsx format can only store numbers as IEEE doubles, so an amount is written
//! as the double nearest its exact value with the number format `0.00`: a fen amount below 2^53
//! fen round-trips exactly through its shortest decimal text, which is what Excel shows and what
//! a reader parses back.

use std::path::Path;

use yibao_money::Money;

/// The most rows one statement may hold (an xlsx sheet holds 1,048,576 rows, one is the header).
pub const STATEMENT_ROWS_MAX: usize = 1_048_575;

/// One cell of a table.
#[derive(Clone, Debug, PartialEq)]
pub enum Cell {
    Text(String),
    Int(i64),
    Money(Money),
    /// An exact decimal in its text form (points, point values, weights); written as a number in
    /// xlsx when it parses as one, else as text.
    Decimal(String),
}

impl Cell {
    /// The exact text of the cell, as CSV carries it.
    pub fn text(&self) -> String {
        match self {
            Cell::Text(s) | Cell::Decimal(s) => s.clone(),
            Cell::Int(n) => n.to_string(),
            Cell::Money(m) => m.to_string(),
        }
    }
}

/// Writes `headers` and `rows` to `path`: xlsx if it ends in `.xlsx` (one sheet named
/// `sheet_name`), else CSV (UTF-8 with a BOM, so that Excel opens Chinese text correctly).
pub fn write_table(path: &Path, sheet_name: &str, headers: &[&str], rows: &[Vec<Cell>]) -> Result<(), String> {
    if rows.len() > STATEMENT_ROWS_MAX {
        return Err(format!(
            "{} rows exceed the {STATEMENT_ROWS_MAX} a statement may hold",
            rows.len()
        ));
    }
    if let Some(bad) = rows.iter().position(|r| r.len() != headers.len()) {
        // A programming error in the caller, reported rather than written as a ragged table.
        return Err(format!(
            "row {} has {} cells, the header {}",
            bad + 1,
            rows[bad].len(),
            headers.len()
        ));
    }
    let is_xlsx = path.extension().is_some_and(|e| e.eq_ignore_ascii_case("xlsx"));
    if is_xlsx {
        write_xlsx(path, sheet_name, headers, rows)
    } else {
        write_csv(path, headers, rows)
    }
    .map_err(|e| format!("{}: {e}", path.display()))
}

fn write_csv(path: &Path, headers: &[&str], rows: &[Vec<Cell>]) -> Result<(), String> {
    let mut out = Vec::with_capacity(64 * (rows.len() + 1));
    out.extend_from_slice("\u{feff}".as_bytes());
    {
        let mut writer = csv::Writer::from_writer(&mut out);
        writer.write_record(headers).map_err(|e| e.to_string())?;
        for row in rows {
            writer
                .write_record(row.iter().map(Cell::text))
                .map_err(|e| e.to_string())?;
        }
        writer.flush().map_err(|e| e.to_string())?;
    }
    std::fs::write(path, out).map_err(|e| e.to_string())
}

fn write_xlsx(path: &Path, sheet_name: &str, headers: &[&str], rows: &[Vec<Cell>]) -> Result<(), String> {
    use rust_xlsxwriter::{Format, Workbook};
    let err = |e: rust_xlsxwriter::XlsxError| e.to_string();
    let mut workbook = Workbook::new();
    let sheet = workbook.add_worksheet();
    sheet.set_name(sheet_name).map_err(err)?;
    let bold = Format::new().set_bold();
    let money_format = Format::new().set_num_format("0.00");
    for (col, header) in headers.iter().enumerate() {
        let col = u16::try_from(col).map_err(|_| "too many columns".to_string())?;
        sheet.write_string_with_format(0, col, *header, &bold).map_err(err)?;
        sheet.set_column_width(col, 14).map_err(err)?;
    }
    for (i, row) in rows.iter().enumerate() {
        let r = u32::try_from(i + 1).map_err(|_| "too many rows".to_string())?;
        for (col, cell) in row.iter().enumerate() {
            let col = col as u16; // bounded by the header check above
            match cell {
                Cell::Text(s) => sheet.write_string(r, col, s).map(|_| ()),
                Cell::Int(n) => sheet.write_number(r, col, *n as f64).map(|_| ()),
                // A money amount's text is always a number; as text if it ever were not.
                Cell::Money(m) => match m.to_string().parse::<f64>() {
                    Ok(value) => sheet.write_number_with_format(r, col, value, &money_format).map(|_| ()),
                    Err(_) => sheet.write_string(r, col, m.to_string()).map(|_| ()),
                },
                Cell::Decimal(s) => match s.parse::<f64>() {
                    Ok(value) if value.is_finite() => sheet.write_number(r, col, value).map(|_| ()),
                    _ => sheet.write_string(r, col, s).map(|_| ()),
                },
            }
            .map_err(err)?;
        }
    }
    workbook.save(path).map_err(err)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_carries_exact_text_and_a_bom() {
        let dir = std::env::temp_dir().join(format!("yibao-statement-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("s.csv");
        let rows = vec![vec![
            Cell::Text("医院A".into()),
            Cell::Int(3),
            Cell::Money(Money::from_fen(1_524_007)),
            Cell::Decimal("1234.5678".into()),
        ]];
        write_table(&path, "清算", &["机构", "病例数", "金额", "点数"], &rows).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(text, "\u{feff}机构,病例数,金额,点数\n医院A,3,15240.07,1234.5678\n");
        let xlsx = dir.join("s.xlsx");
        write_table(&xlsx, "清算", &["机构", "病例数", "金额", "点数"], &rows).unwrap();
        let bytes = std::fs::read(&xlsx).unwrap();
        assert_eq!(&bytes[..2], b"PK", "an xlsx file is a zip archive");
        let ragged = vec![vec![Cell::Int(1)]];
        let e = write_table(&path, "清算", &["a", "b"], &ragged).unwrap_err();
        assert!(e.contains("row 1 has 1 cells"), "{e}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
