mod common;

#[test]
fn published_counts() {
    let t = common::tables();
    assert_eq!(t.mdc_count(), 26);
    assert_eq!(t.adrg_count(), 376);
    assert_eq!(t.drg_count(), 628);
    assert_eq!(t.mdcz_regions().len(), 9);
}

#[test]
fn errors_name_file_and_line() {
    let texts = common::texts();
    let mut view = texts.view();
    let broken = format!("{}\nNOT-AN-ADRG 坏行\n", view.adrg.trim_end());
    view.adrg = &broken;
    let e = yibao_drg::Tables::load(&view).unwrap_err();
    assert_eq!(e.file, "2_ADRG.txt");
    assert_eq!(e.line, 377);
    assert!(e.to_string().starts_with("2_ADRG.txt:377: "), "{e}");

    let mut view = texts.view();
    let broken = view
        .adrg_detail
        .replacen("包含以下主要手术或操作：", "包含以下奇怪的东西：", 1);
    view.adrg_detail = &broken;
    let e = yibao_drg::Tables::load(&view).unwrap_err();
    assert_eq!((e.file, e.line), ("4_ADRG_DETAIL.txt", 3), "{e}");
}

#[test]
fn code_lists_and_exclusions() {
    let t = common::tables();
    assert!(t.is_known_diagnosis("I21.001"));
    assert!(t.is_known_procedure("36.0601"));
    assert!(t.is_grey_procedure("00.0100"));
    assert_eq!(t.mcc_exclusion_table("I21.000"), Some("7-93"));
    assert!(t.is_operating_room_procedure("51.2300"));
    assert_eq!(t.mdc_name(b'F'), Some("循环系统疾病及功能障碍"));
    assert_eq!(
        t.drg_name(yibao_drg::GroupCode::new("FM19").unwrap()),
        Some("经皮冠状动脉支架植入")
    );
}

/// The MDC principal tables are read from 4_ADRG_DETAIL.txt; they must agree with MDC/*.dat.
#[test]
fn mdc_principal_tables_match_the_mdc_files() {
    let t = common::tables();
    let dir = format!("{}/chs-drg-1.1/MDC", common::DATA);
    let mut checked = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let letter = name.as_bytes()[3];
        let text = std::fs::read_to_string(&path).unwrap();
        let mut from_file: Vec<&str> = text
            .lines()
            .filter_map(|l| l.split_whitespace().next())
            .filter(|c| c.len() >= 5 && c.as_bytes()[3] == b'.')
            .collect();
        let mut loaded = t.mdc_principal_diagnoses(letter);
        from_file.sort_unstable();
        from_file.dedup();
        loaded.sort_unstable();
        assert_eq!(loaded, from_file, "{name}");
        checked += 1;
    }
    assert_eq!(checked, 26);
}
