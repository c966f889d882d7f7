//! `yibao monitor`: import the national 两库 knowledge points into the platform's database.

use std::path::{Path, PathBuf};

use clap::Subcommand;
use yibao_monitor::KnowledgeBase;

use crate::files::read_text;

/// The largest sheet read (the largest published sheet is about 400 KB).
const SHEET_BYTES_MAX: usize = 16 << 20;

#[derive(Subcommand)]
pub enum MonitorCommand {
    /// Import the national 两库 knowledge points (智能监管规则库、知识库): every CSV sheet of the
    /// directory, named as NHSA published them (【第一批】药品规则库(限定性别对象)-Sheet1.csv …).
    /// All rows or none: any malformed row is reported with its file and line and nothing is
    /// written. The service runs the region's rules against the newest import.
    Import {
        /// The directory of sheets (the repository ships them in data/liangku).
        #[arg(long)]
        dir: PathBuf,
        /// The import's version name.
        #[arg(long, default_value = "第1-8批")]
        version: String,
        #[arg(long, default_value = "sqlite://yibao.db")]
        database: String,
    },
    /// After-the-fact screening (事后筛查): check the settlements made from FROM to TO
    /// (inclusive) with every rule the region's rule file lists, and with the rules over a
    /// person's visits (分解住院, 重叠住院, 住院期间门诊, 挂床住院, 跨次重复收费), and record the
    /// suspicions (疑点). Screening a period again records only what is new. Prints a summary per
    /// rule as JSON.
    Screen {
        #[command(flatten)]
        region: crate::serve_cmd::RegionArgs,
        /// First day (YYYY-MM-DD) of the settlements screened.
        #[arg(long)]
        from: chrono::NaiveDate,
        /// Last day (YYYY-MM-DD).
        #[arg(long)]
        to: chrono::NaiveDate,
    },
}

pub fn run(command: &MonitorCommand) -> Result<(), String> {
    match command {
        MonitorCommand::Import { dir, version, database } => import(dir, version, database),
        MonitorCommand::Screen { region, from, to } => {
            let answer =
                crate::enrol_cmd::run_admin(region, yibao_platform::AdminRequest::Screen { from: *from, to: *to })?;
            outln!("{}", serde_json::to_string_pretty(&answer).map_err(|e| e.to_string())?);
            Ok(())
        }
    }
}

/// Reads every `.csv` of `dir`, in name order.
pub fn read_sheets(dir: &Path) -> Result<Vec<(String, String)>, String> {
    let entries = std::fs::read_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let mut files = Vec::new();
    for entry in entries {
        let path = entry.map_err(|e| format!("{}: {e}", dir.display()))?.path();
        if path.extension().is_some_and(|e| e.eq_ignore_ascii_case("csv")) {
            let name = path
                .file_name()
                .and_then(|n| n.to_str())
                .ok_or_else(|| format!("{}: 文件名不是UTF-8", path.display()))?
                .to_owned();
            files.push((name, read_text(&path, SHEET_BYTES_MAX)?));
        }
        if files.len() > yibao_monitor::knowledge::FILES_MAX {
            return Err(format!(
                "{}: CSV文件超过{}个",
                dir.display(),
                yibao_monitor::knowledge::FILES_MAX
            ));
        }
    }
    if files.is_empty() {
        return Err(format!("{}: 没有CSV文件", dir.display()));
    }
    files.sort();
    Ok(files)
}

fn import(dir: &Path, version: &str, database: &str) -> Result<(), String> {
    if version.is_empty() || version.chars().count() > 50 {
        return Err("--version: 应为1到50个字符".into());
    }
    let files = read_sheets(dir)?;
    // Reading checks every row before anything is written.
    let kb = KnowledgeBase::read(&files).map_err(|errors| {
        let mut lines: Vec<String> = errors.iter().map(ToString::to_string).collect();
        lines.push(format!("两库导入未完成: {}处错误, 未写入任何数据", errors.len()));
        lines.join("\n")
    })?;
    let by_name: std::collections::BTreeMap<&str, &str> = files.iter().map(|(n, t)| (n.as_str(), t.as_str())).collect();
    let files_json = serde_json::to_string(&by_name).map_err(|e| e.to_string())?;
    let mut store = yibao_store::open(database).map_err(|e| e.to_string())?;
    store
        .lock_writer()
        .map_err(|e| format!("数据库正被另一进程写入(服务运行中?): {e}"))?;
    store.migrate().map_err(|e| e.to_string())?;
    let record = yibao_store::ReferenceTableRecord {
        kind: yibao_platform::MONITOR_REFERENCE_KIND.to_owned(),
        version: version.to_owned(),
        imported_at: chrono::Local::now().naive_local(),
        files_json,
    };
    store
        .commit(&yibao_store::WriteBatch {
            ops: vec![yibao_store::WriteOp::UpsertReferenceTable(record)],
        })
        .map_err(|e| e.to_string())?;
    let mut files_counted = kb.files.clone();
    files_counted.sort_by(|a, b| (a.batch, &a.file).cmp(&(b.batch, &b.file)));
    for f in &files_counted {
        outln!(
            "第{}批 {:<28} {:>6}{}  {}",
            f.batch,
            f.library,
            f.rows,
            if f.rows_are_codes { "条编码" } else { "条" },
            f.file
        );
    }
    for batch in 1..=8u8 {
        let codes = kb.code_rows_in_batch(batch);
        if codes > 0 {
            outln!("第{batch}批编码合计 {codes} 条");
        }
    }
    outln!(
        "已导入两库{version}: {}个文件, {}个编码带知识点, {}对重复收费项目；服务重启后用于智能监控",
        kb.files.len(),
        kb.code_count(),
        kb.pairs().len()
    );
    Ok(())
}
