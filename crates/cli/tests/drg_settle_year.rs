//! `yibao drg settle-year` from a case file, priced with a real city table (北京2022, from
//! the repo's data/) and the Chongqing payment policy file; every figure is worked by
//! hand in the comments.

use std::path::PathBuf;
use std::process::Command;

fn data(path: &str) -> String {
    format!("{}/../../data/{path}", env!("CARGO_MANIFEST_DIR"))
}

fn policy() -> String {
    format!(
        "{}/../../policies/chongqing/payment/2024.toml",
        env!("CARGO_MANIFEST_DIR")
    )
}

struct Run {
    ok: bool,
    stdout: String,
    stderr: String,
    statements: String,
    lines: String,
    dir: PathBuf,
}

fn settle(cases: &str, out_name: &str) -> Run {
    let dir = std::env::temp_dir().join(format!("yibao-settle-year-{}-{out_name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let input = dir.join("cases.csv");
    std::fs::write(&input, cases).unwrap();
    let out = dir.join(out_name);
    let case_out = dir.join("lines.csv");
    let result = Command::new(env!("CARGO_BIN_EXE_yibao"))
        .args(["drg", "settle-year", "--policy", &policy()])
        .args(["--table", &data("drg-payment-tables/北京2022.csv"), "--cases"])
        .arg(&input)
        .arg("--out")
        .arg(&out)
        .arg("--case-out")
        .arg(&case_out)
        .output()
        .unwrap();
    Run {
        ok: result.status.success(),
        stdout: String::from_utf8_lossy(&result.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&result.stderr).into_owned(),
        statements: std::fs::read_to_string(&out).unwrap_or_default(),
        lines: std::fs::read_to_string(&case_out).unwrap_or_default(),
        dir,
    }
}

const HEADER: &str = "case_id,hospital,level,scheme,drg,cost,fund_paid\n";

#[test]
fn a_year_with_low_normal_high_and_ungrouped_cases() {
    // 北京2022: FM19 支付标准 59483. Policy: 低倍率 ≤ 0.4× = 23793.20, 高倍率 ≥ 3× = 178449.00,
    // the excess above it paid in full; 超支 shared 50% within 10% of P; 结余 kept 50% within 10%.
    //
    // H1: c1 20000 (low: min(20000, 59483) = 20000), c2 60000 (normal: 59483),
    //     c3 200000 (high: 59483 + 200000 − 178449 = 81034); c4 ungrouped (0000), paid by item.
    //     P = 160517, C = 280000: 超支 119483, band 16051.70, shared 8025.85, recognised 168542.85.
    //     Fund paid 70%: 14000 + 42000 + 140000 = 196000, burden 84000, DRG fund due 84542.85;
    //     c4: fund 700 of 1000. Due 85242.85, paid 196700, 差额 −111457.15 (扣回).
    // H2: c5 50000 (normal: 59483): 结余 9483, cap 5948.30, kept 2974.15, recognised 52974.15;
    //     burden 15000, due 37974.15, paid 35000 → 差额 +2974.15 (补付).
    let cases = format!(
        "{HEADER}\
         c1,H1,3,310,FM19,20000,14000\n\
         c2,H1,3,310,FM19,60000,42000\n\
         c3,H1,3,310,FM19,200000,140000\n\
         c4,H1,3,310,0000,1000,700\n\
         c5,H2,2,390,FM19,50000.00,35000\n"
    );
    let run = settle(&cases, "statements.csv");
    assert!(run.ok, "{}", run.stderr);
    let rows: Vec<Vec<String>> = run
        .statements
        .trim_start_matches('\u{feff}')
        .lines()
        .map(split_csv)
        .collect();
    assert_eq!(rows[0][0], "机构编码");
    let figures = |row: &[String]| row[..16].join(",");
    assert_eq!(
        figures(&rows[1]),
        "H1,4,3,1,1,1,280000.00,160517.00,-119483.00,8025.85,168542.85,84000.00,700.00,85242.85,196700.00,-111457.15"
    );
    assert_eq!(
        figures(&rows[2]),
        "H2,1,1,0,0,0,50000.00,59483.00,9483.00,2974.15,52974.15,15000.00,0.00,37974.15,35000.00,2974.15"
    );
    assert_eq!(rows.len(), 3);
    assert!(
        rows[1][16].starts_with("500000 2024"),
        "the policy version is on the statement: {}",
        rows[1][16]
    );
    assert!(
        rows[1][17].contains(
            "超支C−P=119483.00，分担基数min(119483.00, P×10%=16051.70)=16051.70，基金分担16051.70×50%=8025.85"
        ),
        "{}",
        rows[1][17]
    );
    assert!(
        run.stdout.contains("2 家机构、5 例病例已清算；清算差额合计 -108483.00"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("政策文件假设: [drg] 低倍率0.4"), "{}", run.stdout);

    // One line per case, with the case's arithmetic.
    let lines: Vec<Vec<String>> = run
        .lines
        .trim_start_matches('\u{feff}')
        .lines()
        .map(split_csv)
        .collect();
    assert_eq!(lines.len(), 6);
    assert_eq!(lines[1][..6].join(","), "c1,H1,FM19,低倍率病例,59483.00,20000.00");
    assert_eq!(lines[3][..6].join(","), "c3,H1,FM19,高倍率病例,59483.00,81034.00");
    assert_eq!(lines[4][..6].join(","), "c4,H1,0000,按项目付费,,1000.00");
    assert_eq!(lines[4][6], "0000未入组, 按项目付费");
    let _ = std::fs::remove_dir_all(&run.dir);

    // The same statements as xlsx.
    let xlsx = settle(&cases, "statements.xlsx");
    assert!(xlsx.ok, "{}", xlsx.stderr);
    let bytes = std::fs::read(xlsx.dir.join("statements.xlsx")).unwrap();
    assert_eq!(&bytes[..2], b"PK");
    let _ = std::fs::remove_dir_all(&xlsx.dir);
}

#[test]
fn bad_rows_are_refused_with_their_line() {
    let run = settle(&format!("{HEADER}c1,H1,4,310,FM19,100,70\n"), "bad-level.csv");
    assert!(!run.ok);
    assert!(
        run.stderr.contains("cases.csv:2: level: “4”应为1、2或3"),
        "{}",
        run.stderr
    );
    let _ = std::fs::remove_dir_all(&run.dir);

    let run = settle(&format!("{HEADER}c1,H1,3,310,FM19,100,170\n"), "bad-amounts.csv");
    assert!(!run.ok);
    assert!(
        run.stderr.contains("病例c1: 医疗总费用100.00与基金支付170.00不合理"),
        "{}",
        run.stderr
    );
    let _ = std::fs::remove_dir_all(&run.dir);

    let run = settle("case_id,hospital\n", "bad-header.csv");
    assert!(!run.ok);
    assert!(
        run.stderr
            .contains("cases.csv:1: 表头应为 case_id,hospital,level,scheme,drg,cost,fund_paid"),
        "{}",
        run.stderr
    );
    let _ = std::fs::remove_dir_all(&run.dir);
}

/// Splits one CSV line (fields may be quoted, with "" for a quote).
fn split_csv(line: &str) -> Vec<String> {
    let mut fields = vec![String::new()];
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                chars.next();
                fields.last_mut().unwrap().push('"');
            }
            ('"', _) => quoted = !quoted,
            (',', false) => fields.push(String::new()),
            (c, _) => fields.last_mut().unwrap().push(c),
        }
    }
    fields
}
