//! `yibao dip build` and `yibao dip settle-year` on files: the small region whose catalog and
//! statements `crates/dip/tests` compute by hand, then a generated region on the Chongqing
//! payment-policy file.

use std::path::{Path, PathBuf};
use std::process::Command;

struct Dir(PathBuf);

impl Dir {
    fn new(name: &str) -> Dir {
        let dir = std::env::temp_dir().join(format!("yibao-dip-cli-{}-{name}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        Dir(dir)
    }

    fn write(&self, name: &str, text: &str) -> PathBuf {
        let path = self.0.join(name);
        std::fs::write(&path, text).unwrap();
        path
    }

    fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn yibao(args: &[&dyn AsRef<std::ffi::OsStr>]) -> (bool, String, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_yibao"))
        .args(args.iter().map(|a| a.as_ref()))
        .output()
        .unwrap();
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

fn read(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap();
    text.strip_prefix('\u{feff}').unwrap_or(&text).to_owned()
}

/// A payment-policy file with a `[dip]` table.
const POLICY: &str = r#"
region = "500100"
version = "test"
effective_from = 2024-01-01

[dip]
core_case_count_min = 3
year_weights = [1, 2, 7]
low_multiple = 0.5
high_multiple = 2
review_multiple = 5
reimbursement_ratio = 0.7
level_coefficients = { level_1 = 0.8, level_2 = 0.9, level_3 = 1 }
"#;

const HISTORY: &str = "\u{feff}case_id,year,hospital_id,hospital_level,principal_diagnosis,procedures,total_cost
a1,2021,H3,3,I21.001,36.0601,20000
a2,2022,H3,3,I21.002,36.0601,25000
a3,2022,H2,2,I21.001,36.0601|36.0601,27000
a4,2023,H3,三级,I21.001,36.0601,30000.00
a5,2023,H3,3,I21.003,36.0601,32000
a6,2023,H2,2,I21.001,36.0601,22000
b1,2022,H2,2,J18.900,,6000
b2,2023,H3,3,J18.900,,8000
b3,2023,H1,1,J18.901,,7000
b4,2023,H2,2,J18.900,,9000
k1,2023,H3,3,K80.101,51.2301,15000
k2,2023,H3,3,K80.102,51.2301,17000
k3,2023,H2,2,K80.201,51.2301,13000
d1,2023,H2,2,K80.301,45.1301,4000
c1,2021,H1,1,K80.001,,5000
";

const KINDS: &str = "code,kind\n45.1301,诊断性操作\n51.2301,surgery\n";

const YEAR: &str =
    "case_id,hospital_id,hospital_level,principal_diagnosis,procedures,total_cost,self_paid,item_fund_paid
s1,H1,3,I21.001,36.0601,31000,3000,20000
s2,H1,3,I21.001,36.0601,15499.99,3000,20000
s3,H1,3,I21.001,36.0601,15500,3000,20000
s4,H1,3,I21.001,36.0601,62000,3000,20000
s5,H1,3,I21.001,36.0601,62000.01,3000,20000
t1,H2,1,J18.900,,8000,1000,6000
t2,H2,1,K80.101,51.2301,40000,5000,30000
t3,H2,1,Z99.999,,1200,200,1000
";

#[test]
fn builds_the_catalog_and_settles_the_year() {
    let dir = Dir::new("small");
    let policy = dir.write("payment.toml", POLICY);
    let history = dir.write("history.csv", HISTORY);
    let kinds = dir.write("kinds.csv", KINDS);
    let catalog = dir.path("catalog.csv");
    let (ok, stdout, stderr) = yibao(&[
        &"dip",
        &"build",
        &"--policy",
        &policy,
        &"--cases",
        &history,
        &"--procedure-kinds",
        &kinds,
        &"--out",
        &catalog,
    ]);
    assert!(ok, "{stderr}");
    assert!(
        stdout.contains("目录年度2021、2022、2023(权重1:2:7)，病例15例；核心病种2个，综合病种3个(含5例)"),
        "{stdout}"
    );
    assert!(stdout.contains("全部病例加权次均费用M=16106.67元"), "{stdout}");
    assert!(stdout.contains("预算点值=16.389819元/分"), "{stdout}");
    assert_eq!(
        read(&catalog),
        "group_code,kind,diagnosis,procedures,treatment,case_count,year_case_counts,year_average_costs,weighted_average_cost,score,level_1_average_cost,level_2_average_cost,level_3_average_cost
I21.0:36.0601,core,I21.0,36.0601,,6,1|2|3,20000.00|26000.00|28000.00,26800.00,1663.9069,,22000.00,31000.00
J18.9,core,J18.9,,,4,0|1|3,|6000.00|8000.00,7555.56,469.0951,7000.00,9000.00,8000.00
K80:综合:保守治疗,comprehensive,K80,,conservative,1,1|0|0,5000.00||,5000.00,310.4304,,,
K80:综合:诊断性操作,comprehensive,K80,,diagnostic,1,0|0|1,||4000.00,4000.00,248.3443,,4000.00,
K80:综合:相关手术,comprehensive,K80,,surgery,3,0|0|3,||15000.00,15000.00,931.2912,,13000.00,16000.00
"
    );

    let year = dir.write("year.csv", YEAR);
    let statements = dir.path("statements.csv");
    let cases_out = dir.path("cases.csv");
    let (ok, stdout, stderr) = yibao(&[
        &"dip",
        &"settle-year",
        &"--policy",
        &policy,
        &"--catalog",
        &catalog,
        &"--cases",
        &year,
        &"--procedure-kinds",
        &kinds,
        &"--budget",
        &"100000",
        &"--out",
        &statements,
        &"--case-out",
        &cases_out,
    ]);
    assert!(ok, "{stderr}");
    assert!(
        stdout.contains("结算点值=(DIP基金预算100000.00÷报销比例70%)÷总分值9104.5787分=15.690692元/分(舍去到6位小数)"),
        "{stdout}"
    );
    assert!(stdout.contains("H2: 入组2例，总分值1616.9977，DIP基金支付19371.81，按项目已拨付36000.00，应追回16628.19"));

    let text = read(&statements);
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let headers = reader.headers().unwrap().clone();
    assert_eq!(&headers[0], "医院编码");
    assert_eq!(&headers[15], "清算差额");
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 2);
    let fields = |r: &csv::StringRecord| r.iter().take(16).map(str::to_owned).collect::<Vec<_>>().join(",");
    assert_eq!(
        fields(&rows[0]),
        "H1,三级,1,5,1,1,0,0,0.00,7487.5810,15.690692,117485.33,15000.00,102485.33,100000.00,2485.33"
    );
    assert_eq!(
        fields(&rows[1]),
        "H2,一级,0.8,2,0,1,0,1,1000.00,1616.9977,15.690692,25371.81,6000.00,19371.81,36000.00,-16628.19"
    );
    assert!(
        rows[0][16].contains("7487.5810分×15.690692元/分=117485.33"),
        "{}",
        &rows[0][16]
    );

    let cases = read(&cases_out);
    assert!(
        cases.contains("s2,H1,I21.0:36.0601,核心病种,费用超低病例,831.9529,"),
        "{cases}"
    );
    assert!(
        cases.contains("t2,H2,K80:综合:相关手术,综合病种,费用超高病例,1241.7216,"),
        "{cases}"
    );
    assert!(cases.contains("t3,H2,,未入组,,,无匹配的核心病种"), "{cases}");

    // The same statements as a spreadsheet; the year's ratio can be given on the command line.
    let xlsx = dir.path("statements.xlsx");
    let (ok, stdout, stderr) = yibao(&[
        &"dip",
        &"settle-year",
        &"--policy",
        &policy,
        &"--catalog",
        &catalog,
        &"--cases",
        &year,
        &"--procedure-kinds",
        &kinds,
        &"--budget",
        &"100000",
        &"--ratio",
        &"0.8",
        &"--out",
        &xlsx,
    ]);
    assert!(ok, "{stderr}");
    assert!(stdout.contains("÷报销比例80%)"), "{stdout}");
    assert!(std::fs::read(&xlsx).unwrap().starts_with(b"PK"));
}

#[test]
fn bad_files_are_refused_with_file_and_line() {
    let dir = Dir::new("bad");
    let policy = dir.write("payment.toml", POLICY);
    let out = dir.path("catalog.csv");
    let run = |history: &Path| {
        yibao(&[
            &"dip",
            &"build",
            &"--policy",
            &policy,
            &"--cases",
            &history,
            &"--out",
            &out,
        ])
    };

    let bad_cost = dir.write(
        "h1.csv",
        &HISTORY.replace("b2,2023,H3,3,J18.900,,8000", "b2,2023,H3,3,J18.900,,8000.001"),
    );
    let (ok, _, stderr) = run(&bad_cost);
    assert!(!ok);
    assert!(
        stderr.contains("h1.csv:9: total_cost: “8000.001”小数位数超过2位"),
        "{stderr}"
    );

    let bad_header = dir.write("h2.csv", "id,year\n1,2023\n");
    let (ok, _, stderr) = run(&bad_header);
    assert!(!ok);
    assert!(stderr.contains(":1: 表头应为 case_id,year,hospital_id,"), "{stderr}");

    let no_dip = dir.write("nodip.toml", &POLICY[..POLICY.find("[dip]").unwrap()]);
    let history = dir.write("h3.csv", HISTORY);
    let (ok, _, stderr) = yibao(&[
        &"dip",
        &"build",
        &"--policy",
        &no_dip,
        &"--cases",
        &history,
        &"--out",
        &out,
    ]);
    assert!(!ok);
    assert!(stderr.contains("缺少[dip]表"), "{stderr}");

    let typo = dir.write("typo.toml", &POLICY.replace("low_multiple", "low_multipel"));
    let (ok, _, stderr) = yibao(&[
        &"dip",
        &"build",
        &"--policy",
        &typo,
        &"--cases",
        &history,
        &"--out",
        &out,
    ]);
    assert!(!ok);
    assert!(stderr.contains("low_multipel"), "{stderr}");

    // Four years in the file for three weights.
    let four = dir.write("h4.csv", &format!("{HISTORY}z1,2020,H1,1,A01.001,,100\n"));
    let (ok, _, stderr) = run(&four);
    assert!(!ok);
    assert!(stderr.contains("年度数4与 year_weights 的权重数3不一致"), "{stderr}");
}

/// SplitMix64, for a deterministic generated region.
fn next(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

#[test]
fn a_generated_region_on_the_chongqing_policy() {
    let dir = Dir::new("generated");
    let policy = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../policies/chongqing/payment/2024.toml");
    let mut state = 7;
    let mut history =
        String::from("case_id,year,hospital_id,hospital_level,principal_diagnosis,procedures,total_cost\n");
    for i in 0..20_000 {
        let dx = next(&mut state) % 60;
        let px = match next(&mut state) % 3 {
            0 => String::new(),
            n => format!("36.060{}", n + dx % 2),
        };
        let hospital = next(&mut state) % 9;
        let year = 2021 + next(&mut state) % 3;
        let cost_fen = 100_000 + next(&mut state) % 5_000_000;
        history.push_str(&format!(
            "g{i},{year},H{hospital},{},{}{:02}.{}01,{px},{}.{:02}\n",
            hospital % 3 + 1,
            char::from(b'A' + (dx % 20) as u8),
            dx,
            dx % 7,
            cost_fen / 100,
            cost_fen % 100
        ));
    }
    let history = dir.write("history.csv", &history);
    let catalog = dir.path("catalog.csv");
    let (ok, stdout, stderr) = yibao(&[
        &"dip",
        &"build",
        &"--policy",
        &policy,
        &"--cases",
        &history,
        &"--out",
        &catalog,
    ]);
    assert!(ok, "{stderr}");
    assert!(stdout.contains("病例20000例"), "{stdout}");

    let mut year = String::from(
        "case_id,hospital_id,hospital_level,principal_diagnosis,procedures,total_cost,self_paid,item_fund_paid\n",
    );
    for i in 0..5_000 {
        let dx = next(&mut state) % 70; // some diagnoses were never seen: unmatched
        let hospital = next(&mut state) % 9;
        let cost = 1_000 + next(&mut state) % 60_000;
        year.push_str(&format!(
            "y{i},H{hospital},{},{}{:02}.{}01,,{cost},{},{}\n",
            hospital % 3 + 1,
            char::from(b'A' + (dx % 20) as u8),
            dx,
            dx % 7,
            cost / 5,
            cost / 2
        ));
    }
    let year = dir.write("year.csv", &year);
    let statements = dir.path("statements.csv");
    let (ok, _, stderr) = yibao(&[
        &"dip",
        &"settle-year",
        &"--policy",
        &policy,
        &"--catalog",
        &catalog,
        &"--cases",
        &year,
        &"--budget",
        &"70000000",
        &"--out",
        &statements,
    ]);
    assert!(ok, "{stderr}");
    let text = read(&statements);
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 9);
    // The hospitals' amounts add up to the pool 70000000 ÷ 0.7 = 100000000.00, short of it by less
    // than the point value's truncation (Σ points × 0.000001) plus half a fen per hospital.
    let fen = |s: &str| -> i64 {
        let (y, f) = s.split_once('.').unwrap();
        y.parse::<i64>().unwrap() * 100 + f.parse::<i64>().unwrap()
    };
    let total: i64 = rows.iter().map(|r| fen(&r[11])).sum();
    let pool = 10_000_000_000;
    assert!(total <= pool + 5 && pool - total < 10_000, "{total}");
}
