//! `yibao policy check` reads each kind of policy file by the directory it sits in: benefit
//! policies, `contribution/` and `payment/` files; errors name the file and line.

use std::process::Command;

fn repo(path: &str) -> String {
    format!("{}/../../{path}", env!("CARGO_MANIFEST_DIR"))
}

fn check(paths: &[&str]) -> (bool, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_yibao"))
        .args(["policy", "check"])
        .args(paths)
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

#[test]
fn every_kind_of_policy_file_is_checked() {
    let (ok, text) = check(&[
        &repo("policies/chongqing"),
        &repo("policies/chongqing/contribution"),
        &repo("policies/chongqing/payment"),
        &repo("policies/guangxi-unconfirmed/contribution"),
    ]);
    assert!(ok, "{text}");
    assert!(
        text.contains("contribution/2026.toml: 通过 — 缴费政策 重庆市基本医疗保险筹资 500000 版本2026.1"),
        "{text}"
    );
    assert!(
        text.contains("payment/2024.toml: 通过 — 支付方式政策 500000 2024 (自2024-01-01起) (DRG、DIP)"),
        "{text}"
    );
    assert!(
        text.contains("guangxi-unconfirmed/contribution/2022.toml: 通过"),
        "{text}"
    );
}

#[test]
fn errors_name_the_file_and_line() {
    let dir = std::env::temp_dir().join(format!("yibao-policy-check-{}", std::process::id()));
    for kind in ["contribution", "payment"] {
        std::fs::create_dir_all(dir.join(kind)).unwrap();
    }
    let contribution = std::fs::read_to_string(repo("policies/chongqing/contribution/2026.toml"))
        .unwrap()
        .replace("[employee]\n", "[employee]\nemployer_rat = \"0.09\"\n");
    std::fs::write(dir.join("contribution/2026.toml"), contribution).unwrap();
    let payment = std::fs::read_to_string(repo("policies/chongqing/payment/2024.toml"))
        .unwrap()
        .replace("low_multiple = \"0.4\"", "low_multiple = \"4\"");
    std::fs::write(dir.join("payment/2024.toml"), payment).unwrap();

    let (ok, text) = check(&[
        dir.join("contribution").to_str().unwrap(),
        dir.join("payment").to_str().unwrap(),
    ]);
    assert!(!ok);
    assert!(
        text.contains("contribution/2026.toml:") && text.contains("employer_rat"),
        "{text}"
    );
    assert!(
        text.contains("drg.low_multiple“4”与drg.high_multiple“3”: 低倍率须小于高倍率"),
        "{text}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
