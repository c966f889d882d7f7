//! The 两库 as published: every batch and sheet read, counts as NHSA announced them, and
//! malformed rows refused with their file and line (an import is all rows or none).

use std::path::Path;

use yibao_monitor::{Constraint, KnowledgeBase};

fn published() -> Vec<(String, String)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data/liangku");
    let mut files = Vec::new();
    for entry in std::fs::read_dir(&dir).expect("data/liangku") {
        let path = entry.expect("entry").path();
        if path.extension().is_some_and(|e| e == "csv") {
            let name = path.file_name().and_then(|n| n.to_str()).expect("name").to_owned();
            files.push((name, std::fs::read_to_string(&path).expect("read")));
        }
    }
    files.sort();
    files
}

#[test]
fn every_sheet_is_read_with_the_announced_counts() {
    let kb = KnowledgeBase::read(&published()).unwrap_or_else(|e| panic!("{e:?}"));
    let mut counts: Vec<String> = kb
        .files
        .iter()
        .map(|f| format!("{} {} {}", f.batch, f.library, f.rows))
        .collect();
    counts.sort();
    assert_eq!(
        counts,
        [
            "1 药品规则库(限定年龄对象) 知识点 282",
            "1 药品规则库(限定年龄对象) 编码 4398",
            "1 药品规则库(限定性别对象) 知识点 481",
            "1 药品规则库(限定性别对象) 编码 6472",
            "1 项目规则库(限定年龄对象) 30",
            "1 项目规则库(限定性别对象) 390",
            "2 项目规则库(限定主次操作) 378",
            "3 药品规则库(限定保险类型) 知识点 12",
            "3 药品规则库(限定保险类型) 编码 112",
            "4 药品规则库(限定就医方式) 知识点 35",
            "4 药品规则库(限定就医方式) 编码 736",
            "5 药品规则库(限定机构等级) 知识点 61",
            "5 药品规则库(限定机构等级) 编码 962",
            "6 药品规则库(限定支付疗程) 知识点 30",
            "6 药品规则库(限定支付疗程) 编码 1147",
            "7 项目规则库(重复收费) 900",
            "8 项目规则库(限定周期) 14",
            "8 项目规则库(限定年龄) 1",
            "8 项目规则库(限定疗程) 11",
            "8 项目规则库(限定频次) 67",
        ]
    );
    // NHSA announced 11,290 code rows for batch 1 (6,472 + 4,398 + 390 + 30).
    assert_eq!(kb.code_rows_in_batch(1), 11_290);
    assert_eq!(kb.pairs().len(), 900);
    let freq = kb
        .points("001102000050000")
        .iter()
        .find(|p| matches!(p.constraint, Constraint::Frequency { .. }))
        .map(|p| p.source.name.to_string());
    assert_eq!(freq.as_deref(), Some("住院诊查费"));
}

fn with_replaced(file_word: &str, from: &str, to: &str) -> Vec<(String, String)> {
    let mut files = published();
    let file = files.iter_mut().find(|(n, _)| n.contains(file_word)).expect("file");
    assert!(file.1.contains(from), "{from} in {}", file.0);
    file.1 = file.1.replacen(from, to, 1);
    files
}

#[test]
fn malformed_rows_are_refused_with_file_and_line_and_nothing_is_imported() {
    let cases = [
        (
            "限定性别对象)-Sheet1",
            "阿帕他胺片,限转移性激素敏感性前列腺癌(mHSPC)患者。,限定性别对象,男",
            "阿帕他胺片,限转移性激素敏感性前列腺癌(mHSPC)患者。,限定性别对象,未知",
            "【第一批】药品规则库(限定性别对象)-Sheet1.csv:2: 限定对象: 应为男或女,而非“未知”",
        ),
        (
            "限定性别对象)-Sheet2",
            "阿帕他胺片,1,XL02BBA326A001010102180",
            "阿帕他胺片,1,XL02BBA326A0010101021",
            "【第一批】药品规则库(限定性别对象)-Sheet2.csv:2: 药品代码: 编码“XL02BBA326A0010101021”应为20或23位字母或数字",
        ),
        (
            "限定性别对象)-Sheet2",
            "阿帕他胺片,1,XL02BBA326A001010102180",
            "阿帕他胺胶囊,1,XL02BBA326A001010102180",
            "【第一批】药品规则库(限定性别对象)-Sheet2.csv:2: 药品通用名: 药品“阿帕他胺胶囊”不在知识点表(Sheet1)中",
        ),
        (
            "重复收费",
            "1,单日,急诊监护费",
            "1,两日,急诊监护费",
            "【第七批】项目规则库（重复收费）.csv:2: 频度: 应为单日、单次就诊、同一小时或N小时,而非“两日”",
        ),
        (
            "限定频次",
            "2,住院诊查费,1,日",
            "2,住院诊查费,0,日",
            "【第八批-1】项目规则库（限定频次）.csv:3: 限制数量: 应为正整数(小时至多24),而非“0”",
        ),
        (
            "限定疗程）",
            "支付不超过30天。",
            "按需支付。",
            "【第八批-3】项目规则库（限定疗程）.csv:5: 备注: 未能读出支付天数(应含“不超过N天”或“不超过一年”),而是“按需支付。”",
        ),
        (
            "限定周期",
            "序号,项目名称,频次上限",
            "序号,项目,频次上限",
            "【第八批-4】项目规则库（限定周期）.csv:1: 表头第2列应为“项目名称”,而非“项目”",
        ),
    ];
    for (file, from, to, expected) in cases {
        let errors = KnowledgeBase::read(&with_replaced(file, from, to)).expect_err(expected);
        let shown: Vec<String> = errors.iter().map(ToString::to_string).collect();
        assert_eq!(shown, [expected], "{file}");
    }
}

#[test]
fn a_library_with_one_of_its_sheets_or_an_unknown_file_is_refused() {
    let mut files = published();
    files.retain(|(n, _)| !n.contains("限定机构等级）-Sheet2"));
    files.push(("药品目录.csv".into(), "编码\n".into()));
    let errors: Vec<String> = KnowledgeBase::read(&files)
        .expect_err("refused")
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(errors, [
        "药品目录.csv: 不是已知的两库规则库文件(文件名须含批次与规则库名称,如【第一批】药品规则库(限定性别对象)-Sheet1.csv)",
        "【第五批】药品规则库（限定机构等级）-Sheet1.csv: 缺少同批的药品编码表(Sheet2)",
    ]);
}
