//! What real clients send that the spec does not: all of it must parse to the same values.

mod common;

use chrono::{NaiveDate, NaiveDateTime};
use serde_json::{json, Value};
use yibao_codes::{ChargeClass, MedicalType};
use yibao_fsi::read::Fields;
use yibao_fsi::{parse_envelope, Input2204, Input2206, Input2401, TransactionInput};
use yibao_money::{Money, Price, Quantity, Ratio};

fn at(y: i32, mo: u32, d: u32, h: u32, mi: u32, s: u32) -> Option<NaiveDateTime> {
    NaiveDate::from_ymd_opt(y, mo, d).and_then(|d| d.and_hms_opt(h, mi, s))
}

fn input_of(code: &str) -> Value {
    common::valid_inputs()
        .into_iter()
        .find(|(c, _)| *c == code)
        .map(|(_, v)| v)
        .unwrap()
}

#[test]
fn input_sent_as_a_json_string() {
    // YBHI's YbHttpClient serializes `input` a second time.
    let input = input_of("2206");
    let mut body = common::envelope("2206", Value::Null);
    body["input"] = Value::String(input.to_string());
    let env = parse_envelope(body.to_string().as_bytes(), None).unwrap();
    assert_eq!(env.input, input);
    let parsed = Input2206::parse(&env.input).unwrap();
    assert_eq!(parsed.medfee_sumamt, Money::from_yuan(100));
}

#[test]
fn numbers_as_strings_and_strings_as_numbers() {
    // Raw text: the json! macro would route number literals through f64.
    let as_numbers: Value = serde_json::from_str(
        r#"{"feedetail": [{
        "feedetl_sn": 1, "mdtrt_id": 778899, "psn_no": 131000202001001, "chrg_bchno": 1,
        "rx_circ_flag": 0, "fee_ocur_time": 20230901100000, "med_list_codg": "XB03ACY199B002010104718",
        "medins_list_codg": 10001, "det_item_fee_sumamt": 12.50, "cnt": 2.5000, "pric": 5.000000,
        "bilg_dept_codg": 1, "bilg_dept_name": "内科", "bilg_dr_codg": 7628, "bilg_dr_name": "王医生"}]}"#,
    )
    .unwrap();
    let as_strings = json!({"feedetail": [{
        "feedetl_sn": "1", "mdtrt_id": "778899", "psn_no": "131000202001001", "chrg_bchno": "1",
        "rx_circ_flag": "0", "fee_ocur_time": "2023-09-01 10:00:00", "med_list_codg": "XB03ACY199B002010104718",
        "medins_list_codg": "10001", "det_item_fee_sumamt": "12.5", "cnt": "2.5", "pric": "5",
        "bilg_dept_codg": "1", "bilg_dept_name": "内科", "bilg_dr_codg": "7628", "bilg_dr_name": "王医生"}]});
    let a = Input2204::parse(&as_numbers).unwrap();
    let b = Input2204::parse(&as_strings).unwrap();
    assert_eq!(a, b);
    let line = &a.feedetail[0];
    assert_eq!(line.psn_no, "131000202001001", "digits kept exactly, no float");
    assert_eq!(line.item.det_item_fee_sumamt, Money::from_fen(1250));
    assert_eq!(line.item.cnt, Quantity::from_ten_thousandths(25_000));
    assert_eq!(line.item.pric, Price::from_millionths(5_000_000));
}

#[test]
fn large_amounts_never_pass_through_floating_point() {
    // 0.1 + 0.2 style traps: a float would turn these into neighbours.
    let data = |amount: &str| -> Value {
        serde_json::from_str(&format!(
            r#"{{"data": {{"psn_no": "1", "mdtrt_cert_type": "02", "mdtrt_cert_no": "x", "med_type": "11",
            "medfee_sumamt": {amount}, "psn_setlway": "01", "mdtrt_id": "m", "chrg_bchno": "b",
            "acct_used_flag": "0", "insutype": "310"}}}}"#
        ))
        .unwrap()
    };
    let input = data("9007199254740993.01");
    let err = Input2206::parse(&input).unwrap_err();
    assert_eq!(err.to_string(), "input.data.medfee_sumamt: 医疗费总额数值超出允许范围");
    let input = data("999999999999.99");
    assert_eq!(
        Input2206::parse(&input).unwrap().medfee_sumamt,
        Money::from_fen(99_999_999_999_999)
    );
    // 2⁵³+1 millionths: no f64 holds it, so only an exact reader gets it back.
    let node: Value = serde_json::from_str(r#"{"pric": 9007199254.740993, "cnt": 0.0001}"#).unwrap();
    let f = Fields::object(&node, "x").unwrap();
    assert_eq!(
        f.price("pric", "单价").unwrap(),
        Some(Price::from_millionths(9_007_199_254_740_993))
    );
    assert_eq!(
        f.quantity("cnt", "数量").unwrap(),
        Some(Quantity::from_ten_thousandths(1))
    );
}

#[test]
fn null_empty_and_literal_null_are_absent() {
    let body = json!({
        "infno": "2202", "msgid": "M1", "fixmedins_code": "H1", "insuplc_admdvs": "null",
        "mdtrtarea_admvs": "NULL", "dev_no": null, "cainfo": "", "signtype": "   ", "opter_name": "null",
        "inf_time": "null", "sign_no": null,
        "input": {"data": {"psn_no": "P", "mdtrt_id": "M", "ipt_otp_no": "I"}}
    });
    let env = parse_envelope(body.to_string().as_bytes(), None).unwrap();
    assert_eq!(env.insuplc_admdvs, None);
    assert_eq!(env.mdtrtarea_admvs, None);
    assert_eq!(
        (env.dev_no, env.cainfo, env.signtype, env.opter_name),
        (None, None, None, None)
    );
    assert_eq!((env.inf_time, env.sign_no), (None, None));
    // A required field sent as "null" is missing, not the text "null".
    let err = yibao_fsi::Input2202::parse(&json!({"data": {"psn_no": "null", "mdtrt_id": "M", "ipt_otp_no": "I"}}))
        .unwrap_err();
    assert_eq!(err.to_string(), "input.data.psn_no: 必填字段缺失");
}

#[test]
fn text_plain_bodies_are_just_bytes_with_or_without_a_bom() {
    let body = common::envelope("2404", json!({"data": {"mdtrt_id": "M", "psn_no": "P"}})).to_string();
    let plain = parse_envelope(body.as_bytes(), None).unwrap();
    let mut with_bom = b"\xEF\xBB\xBF".to_vec();
    with_bom.extend_from_slice(body.as_bytes());
    assert_eq!(parse_envelope(&with_bom, None).unwrap(), plain);
    // Pretty-printed with CRLF line ends, as a Windows client might post it.
    let pretty = serde_json::to_string_pretty(&serde_json::from_str::<Value>(&body).unwrap()).unwrap();
    let crlf = pretty.replace('\n', "\r\n");
    assert_eq!(parse_envelope(crlf.as_bytes(), None).unwrap(), plain);
}

#[test]
fn inf_time_in_both_forms() {
    let mut body = common::envelope("2404", json!({"data": {"mdtrt_id": "M", "psn_no": "P"}}));
    body["inf_time"] = json!("20230901120000");
    let compact = parse_envelope(body.to_string().as_bytes(), None).unwrap();
    body["inf_time"] = json!("2023-09-01 12:00:00");
    let spec = parse_envelope(body.to_string().as_bytes(), None).unwrap();
    assert_eq!(compact.inf_time, at(2023, 9, 1, 12, 0, 0));
    assert_eq!(compact, spec);
    body["inf_time"] = json!(20230901120000u64);
    assert_eq!(
        parse_envelope(body.to_string().as_bytes(), None).unwrap().inf_time,
        at(2023, 9, 1, 12, 0, 0)
    );
}

#[test]
fn infno_from_the_path_the_body_or_both() {
    let mut body = common::envelope("2404", json!({"data": {"mdtrt_id": "M", "psn_no": "P"}}));
    assert_eq!(
        parse_envelope(body.to_string().as_bytes(), Some("2404")).unwrap().infno,
        "2404"
    );
    body.as_object_mut().unwrap().remove("infno");
    assert_eq!(
        parse_envelope(body.to_string().as_bytes(), Some("2404")).unwrap().infno,
        "2404"
    );
    body["infno"] = json!(2404);
    assert_eq!(parse_envelope(body.to_string().as_bytes(), None).unwrap().infno, "2404");
    body["infno"] = json!("2203a");
    assert_eq!(
        parse_envelope(body.to_string().as_bytes(), Some("2203A"))
            .unwrap()
            .infno,
        "2203A"
    );
}

#[test]
fn codes_and_flags_in_their_lenient_spellings() {
    let node: Value = serde_json::from_str(
        r#"{"a": "1", "b": 1, "c": "甲类", "d": true, "e": "是", "f": 0, "g": "21", "h": 21,
        "i": "普通住院", "r": 0.1, "s": "0.10"}"#,
    )
    .unwrap();
    let f = Fields::object(&node, "input.data").unwrap();
    assert_eq!(f.code("a", ChargeClass::parse).unwrap(), Some(ChargeClass::A));
    assert_eq!(f.code("b", ChargeClass::parse).unwrap(), Some(ChargeClass::A));
    assert_eq!(f.code("c", ChargeClass::parse).unwrap(), Some(ChargeClass::A));
    assert_eq!(f.flag("d").unwrap(), Some(true));
    assert_eq!(f.flag("e").unwrap(), Some(true));
    assert_eq!(f.flag("f").unwrap(), Some(false));
    for key in ["g", "h", "i"] {
        assert_eq!(
            f.code(key, MedicalType::parse).unwrap(),
            Some(MedicalType::GeneralInpatient)
        );
    }
    assert_eq!(f.ratio("r", "比例").unwrap(), Ratio::parse("0.1").ok());
    assert_eq!(f.ratio("s", "比例").unwrap(), Ratio::parse("0.1").ok());
    assert_eq!(f.dict_code("a", 3).unwrap().as_deref(), Some("01"));
    assert_eq!(f.code("zz", MedicalType::parse).unwrap(), None);
}

#[test]
fn dates_in_compact_form_and_datetimes_for_dates() {
    let input = json!({"data": {"psn_no": "P", "insutype": "310", "opsp_dise_code": "M01600",
        "opsp_dise_name": "高血压", "begndate": "20230101", "enddate": "2023-12-31 00:00:00"}});
    let parsed = yibao_fsi::Input2503::parse(&input).unwrap();
    assert_eq!(parsed.begndate, NaiveDate::from_ymd_opt(2023, 1, 1).unwrap());
    assert_eq!(parsed.enddate, NaiveDate::from_ymd_opt(2023, 12, 31));
}

#[test]
fn whitespace_is_trimmed_and_unknown_fields_ignored() {
    let mut input = input_of("2401");
    input["mdtrtinfo"]["psn_no"] = json!("  33020000000000000001 ");
    input["mdtrtinfo"]["some_future_field"] = json!({"nested": [1, 2, 3]});
    input["drug_trac_info"] = json!([{"a": 1}]);
    let parsed = Input2401::parse(&input).unwrap();
    assert_eq!(parsed.mdtrtinfo.psn_no, common::PSN_NO);
}

#[test]
fn a_single_object_is_a_list_of_one_for_lists() {
    let line = common::fee_line_2204("1");
    let as_object = Input2204::parse(&json!({"feedetail": line.clone()})).unwrap();
    let as_list = Input2204::parse(&json!({"feedetail": [line]})).unwrap();
    assert_eq!(as_object, as_list);
    let revoke = json!({"data": {"feedetl_sn": "7", "mdtrt_id": "M", "psn_no": "P"}});
    assert!(
        matches!(TransactionInput::parse("2302", &revoke), Ok(TransactionInput::InpatientFeesCancel(r)) if r.data.len() == 1)
    );
}
