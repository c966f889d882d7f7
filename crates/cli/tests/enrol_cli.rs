//! The enrolment batch commands end to end on a SQLite file: demo files written, employers and
//! people imported, a monthly run, indicators; a bad file refused whole with its lines; a second
//! run refused.

use std::process::Command;

fn yibao(args: &[&str]) -> (bool, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_yibao")).args(args).output().unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

#[test]
fn import_run_and_indicators() {
    let dir = std::env::temp_dir().join(format!("yibao-enrol-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = |name: &str| dir.join(name).to_str().unwrap().to_owned();
    let db = format!("sqlite://{}", path("e.db"));
    let (ok, text) = yibao(&[
        "demo",
        "enrolment",
        "--persons",
        "60",
        "--only",
        "310",
        "--employers-out",
        &path("employers.csv"),
        "--persons-out",
        &path("persons.csv"),
    ]);
    assert!(ok, "{text}");

    // A file with a bad citizen ID and a duplicate row is refused whole, every bad line named.
    let good = std::fs::read_to_string(path("persons.csv")).unwrap();
    let mut lines: Vec<&str> = good.lines().collect();
    let duplicate = lines[2].to_owned();
    let bad_id = lines[3].replacen(&lines[3][..18], "500100199001011234", 1);
    lines.push(&duplicate);
    lines.push(&bad_id);
    std::fs::write(path("bad.csv"), lines.join("\n")).unwrap();
    let (ok, text) = yibao(&[
        "enrol",
        "employers",
        "--demo",
        "--database",
        &db,
        &path("employers.csv"),
    ]);
    assert!(ok && text.contains("已登记参保单位 2000 个"), "{text}");
    let (ok, text) = yibao(&["enrol", "import", "--demo", "--database", &db, &path("bad.csv")]);
    assert!(!ok);
    assert!(text.contains("第62行: 证件号码与第3行重复(重复参保)"), "{text}");
    assert!(text.contains("第63行: "), "{text}");
    assert!(text.contains("全部未导入"), "{text}");

    let (ok, text) = yibao(&["enrol", "import", "--demo", "--database", &db, &path("persons.csv")]);
    assert!(ok && text.contains("已导入 60 人"), "{text}");
    let (ok, text) = yibao(&["contribution", "run", "--demo", "--database", &db, "--month", "2026-11"]);
    assert!(ok, "{text}");
    let run: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(run["employees"], 60);
    let (ok, text) = yibao(&["contribution", "run", "--demo", "--database", &db, "--month", "2026-11"]);
    assert!(
        !ok && text.contains("2026-11职工医保缴费已核定, 不能重复核定"),
        "{text}"
    );
    let (ok, text) = yibao(&["fund", "indicators", "--demo", "--database", &db, "--year", "2026"]);
    assert!(ok, "{text}");
    let indicators: serde_json::Value = serde_json::from_str(&text).unwrap();
    let pooled = indicators["funds"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["book"] == "310100")
        .unwrap();
    // The pooled fund's income is the run's pooled income (the account part goes to 310200).
    assert_eq!(pooled["income"], run["pooled_income"], "{indicators}");

    // Everyone was charged for November: the December check suspends no one.
    let (ok, text) = yibao(&[
        "contribution",
        "arrears-check",
        "--demo",
        "--database",
        &db,
        "--month",
        "2026-12",
    ]);
    assert!(ok, "{text}");
    let check: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(
        (check["grace_months"].as_u64(), &check["suspended"]),
        (Some(3), &serde_json::json!([]))
    );
    // October has ended and holds nothing yet: it closes with no entries, once.
    let (ok, text) = yibao(&["fund", "close", "--demo", "--database", &db, "--period", "2025-10"]);
    assert!(ok, "{text}");
    let closed: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(closed["closing_entries"], 0, "{closed}");
    let (ok, text) = yibao(&["fund", "close", "--demo", "--database", &db, "--period", "2025-10"]);
    assert!(!ok && text.contains("会计期间2025-10已结账"), "{text}");
    let _ = std::fs::remove_dir_all(&dir);
}
