//! `yibao drg group` on the official CHS-DRG 1.1 tables (the repo's data/): a CSV of
//! cases in, the grouped CSV out, bad rows refused with their line.

use std::process::Command;

fn data(dir: &str) -> String {
    format!("{}/../../data/{dir}", env!("CARGO_MANIFEST_DIR"))
}

fn run(cases: &str) -> (bool, String, String) {
    let dir = std::env::temp_dir().join(format!("yibao-drg-cli-{}-{}", std::process::id(), cases.len()));
    std::fs::create_dir_all(&dir).unwrap();
    let input = dir.join("cases.csv");
    let output = dir.join("grouped.csv");
    std::fs::write(&input, cases).unwrap();
    let result = Command::new(env!("CARGO_BIN_EXE_yibao"))
        .args(["drg", "group", "--rules", &data("chs-drg-1.1"), "--cases"])
        .arg(&input)
        .arg("--out")
        .arg(&output)
        .output()
        .unwrap();
    let grouped = std::fs::read_to_string(&output).unwrap_or_default();
    let _ = std::fs::remove_dir_all(&dir);
    (
        result.status.success(),
        grouped,
        String::from_utf8_lossy(&result.stderr).into_owned(),
    )
}

const HEADER: &str = "case_id,sex,age_years,age_days,birth_weight_g,los_days,discharge_method,diagnoses,procedures\n";

#[test]
fn groups_a_file_of_cases() {
    let cases = format!(
        "{HEADER}\
         pneumonia-with-cc,1,50,,,3,1,J18.900|I10.x00,\n\
         unknown-principal,1,70,,,30,1,Z99.999,\n\
         no-diagnosis,2,40,,,5,1,,\n"
    );
    let (ok, grouped, stderr) = run(&cases);
    assert!(ok, "{stderr}");
    assert_eq!(
        grouped,
        "case_id,mdc,adrg,drg,reason\n\
         pneumonia-with-cc,MDCE,ES3,ES35,分组成功\n\
         unknown-principal,,,0000,主要诊断不在医保版ICD-10 2.0中，无法入组\n\
         no-diagnosis,,,0000,无主要诊断，无法入组\n"
    );
}

#[test]
fn a_bad_row_is_refused_with_its_line() {
    let (ok, _, stderr) = run(&format!("{HEADER}a,1,50,,,3,1,J18.900,\nb,3,50,,,3,1,J18.900,\n"));
    assert!(!ok);
    assert!(stderr.contains(":3: sex: “3”应为1(男)或2(女)"), "{stderr}");
    let (ok, _, stderr) = run("id,sex\n1,1\n");
    assert!(!ok);
    assert!(stderr.contains(":1: 表头应为 case_id,sex,"), "{stderr}");
}
