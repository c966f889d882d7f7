//! Reading the files the commands are given, with a size limit on each.

use std::path::{Path, PathBuf};

/// Visit, person and year-to-date files: a visit at the line limit is a few megabytes.
pub const INPUT_FILE_BYTES_MAX: usize = 16 << 20;
/// Catalog tables: the national lists are a few hundred thousand rows.
pub const CATALOG_FILE_BYTES_MAX: usize = 512 << 20;

/// Reads a UTF-8 file, refusing one larger than `max_bytes` before reading it.
pub fn read_text(path: &Path, max_bytes: usize) -> Result<String, String> {
    let meta = std::fs::metadata(path).map_err(|e| format!("{}: 无法读取: {e}", path.display()))?;
    if meta.len() > max_bytes as u64 {
        return Err(format!(
            "{}: 文件大小{}字节,超过上限{max_bytes}字节",
            path.display(),
            meta.len()
        ));
    }
    let bytes = std::fs::read(path).map_err(|e| format!("{}: 无法读取: {e}", path.display()))?;
    String::from_utf8(bytes).map_err(|_| format!("{}: 不是UTF-8文本", path.display()))
}

/// The policy files named: files as given, directories searched one level deep for `*.toml`.
pub fn policy_files(paths: &[PathBuf]) -> Result<Vec<PathBuf>, String> {
    let mut out = Vec::new();
    for path in paths {
        if path.is_dir() {
            let entries = std::fs::read_dir(path).map_err(|e| format!("{}: {e}", path.display()))?;
            let mut found: Vec<PathBuf> = entries
                .filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|x| x == "toml"))
                .collect();
            found.sort();
            if found.is_empty() {
                return Err(format!("{}: 目录中没有 .toml 政策文件", path.display()));
            }
            out.extend(found);
        } else {
            out.push(path.clone());
        }
    }
    Ok(out)
}

/// Checks a CSV file's header row against `expected` (a leading BOM is ignored); the error names
/// the file's first line and the header wanted.
pub fn check_csv_header(path: &Path, found: &csv::StringRecord, expected: &[&str]) -> Result<(), String> {
    let found: Vec<&str> = found
        .iter()
        .enumerate()
        .map(|(i, h)| if i == 0 { h.trim_start_matches('\u{feff}') } else { h })
        .collect();
    if found != expected {
        return Err(format!("{}:1: 表头应为 {}", path.display(), expected.join(",")));
    }
    Ok(())
}

/// Reads a CSV file whose header must be exactly `headers`, calling `row` for each record; an
/// error names the file and line.
pub fn for_each_row(
    path: &Path,
    headers: &[&str],
    mut row: impl FnMut(u64, &csv::StringRecord) -> Result<(), String>,
) -> Result<(), String> {
    let file = path.display();
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_path(path)
        .map_err(|e| format!("{file}: {e}"))?;
    let found = reader.headers().map_err(|e| format!("{file}: {e}"))?.clone();
    check_csv_header(path, &found, headers)?;
    for record in reader.records() {
        let record = record.map_err(|e| format!("{file}: {e}"))?;
        let line = record.position().map_or(0, |p| p.line());
        row(line, &record).map_err(|e| format!("{file}:{line}: {e}"))?;
    }
    Ok(())
}
