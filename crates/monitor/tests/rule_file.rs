//! A region's rule file: read with every error at its line, nothing accepted that would be
//! silently ignored.

use yibao_monitor::{Action, MonitorPolicy, RuleId};

const HEAD: &str = "[monitor]\nregion = \"500000\"\nname = \"测试\"\nversion = \"1\"\neffective_from = 2026-01-01\n";

fn errors(body: &str) -> Vec<String> {
    MonitorPolicy::parse("m.toml", &format!("{HEAD}{body}"))
        .expect_err("refused")
        .iter()
        .map(ToString::to_string)
        .collect()
}

#[test]
fn the_demo_region_file_reads() {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../policies/chongqing/monitor/2026.toml"
    ))
    .expect("file");
    let policy = MonitorPolicy::parse("2026.toml", &text).unwrap_or_else(|e| panic!("{e:?}"));
    assert_eq!(policy.id(), "500000/2026.1");
    assert_eq!(policy.action(RuleId::DrugSex), Some(Action::Refuse));
    assert_eq!(policy.action(RuleId::ItemCycle), Some(Action::Warn));
    assert_eq!(policy.thresholds.child_age_years_max, Some(17));
    let credit = policy.credit.expect("the demo region rates institutions");
    assert_eq!(credit.rate(5), (95, "A"));
    assert_eq!(credit.rate(20), (80, "B"));
    assert_eq!(credit.rate(45), (55, "D"));
    assert_eq!(credit.rate(500), (0, "D"));
}

#[test]
fn a_credit_scale_runs_from_high_to_zero() {
    let body = "[rules.drug_sex]\naction = \"refuse\"\n[credit]\nscore_start = 100\ngrades = [{ grade = \"A\", score_min = 60 }, { grade = \"B\", score_min = 80 }]\n";
    let got = errors(body);
    assert_eq!(got.len(), 1, "{got:?}");
    assert!(
        got[0].contains("[credit] grades须从高到低排列, score_min递减, 最后一级为0"),
        "{got:?}"
    );
}

#[test]
fn errors_name_the_line() {
    let cases: &[(&str, &str)] = &[
        (
            "[rules.drug_sexx]\naction = \"refuse\"\n",
            "m.toml:6:1: 未知的规则编号“drug_sexx”",
        ),
        (
            "[rules.drug_sex]\naction = \"block\"\n",
            "m.toml:7:10: unknown variant `block`",
        ),
        (
            "[rules.drug_sex]\naction = \"refuse\"\nchild_age_years_max = 17\n",
            "m.toml:8:23: 规则drug_sex没有参数child_age_years_max(可用: 无参数)",
        ),
        (
            "[rules.drug_age]\naction = \"refuse\"\n",
            "m.toml:6:1: 规则drug_age须给出参数child_age_years_max",
        ),
        (
            "[rules.same_incision]\naction = \"refuse\"\nsecondary_price_ratio = \"1.5\"\n",
            "m.toml:8:25: secondary_price_ratio应为0与1之间的小数文本,如\"0.5\"",
        ),
        (
            "[rules.drug_sex]\naction = \"refuse\"\nthreshold = 3\n",
            "m.toml:8:1: unknown field `threshold`",
        ),
    ];
    for (body, expected) in cases {
        let got = errors(body);
        assert!(
            got.len() == 1 && got[0].starts_with(expected),
            "for\n{body}\nexpected {expected}\ngot {got:?}"
        );
    }
    assert_eq!(errors(""), ["m.toml:0:0: [rules] 至少须列出一条规则"]);
}
