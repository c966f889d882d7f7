//! Refusals name the field exactly: the whole `err_msg` is asserted.

mod common;

use serde_json::{json, Value};
use yibao_fsi::{
    parse_envelope, FsiError, Input1101, Input2202, Input2203, Input2204, Input2206, Input2301, Input2503, Input2601,
    Input3201, Response, TransactionInput, ENVELOPE_BYTES_MAX, FEEDETAIL_MAX,
};

fn input_of(code: &str) -> Value {
    common::valid_inputs()
        .into_iter()
        .find(|(c, _)| *c == code)
        .map(|(_, v)| v)
        .unwrap()
}

fn envelope_err(body: &[u8], path: Option<&str>) -> String {
    parse_envelope(body, path).unwrap_err().to_string()
}

fn body_with(edit: impl FnOnce(&mut Value)) -> Vec<u8> {
    let mut body = common::envelope("2404", json!({"data": {"mdtrt_id": "M", "psn_no": "P"}}));
    edit(&mut body);
    body.to_string().into_bytes()
}

/// A 2204 input whose line `i` is edited.
fn fees_2204(lines: usize, edit: impl FnOnce(&mut Vec<Value>)) -> Value {
    let mut list: Vec<Value> = (0..lines)
        .map(|i| common::fee_line_2204(&(i + 1).to_string()))
        .collect();
    edit(&mut list);
    json!({ "feedetail": list })
}

fn err(result: Result<impl std::fmt::Debug, FsiError>) -> String {
    result.unwrap_err().to_string()
}

// ---- the body and the envelope ----

#[test]
fn oversized_body() {
    let body = vec![b' '; ENVELOPE_BYTES_MAX + 1];
    assert_eq!(
        envelope_err(&body, None),
        "body: 报文长度4194305字节,超过上限4194304字节"
    );
}

#[test]
fn body_not_utf8_not_json_not_an_object_or_empty() {
    assert_eq!(
        envelope_err(b"{\"infno\":\"\xFF\"}", None),
        "body: 报文不是合法的UTF-8文本"
    );
    assert_eq!(
        envelope_err(b"{infno: 1101}", None),
        "body: 报文不是合法的JSON(第1行第2列)"
    );
    assert_eq!(envelope_err(b"[1, 2]", None), "body: 应为JSON对象");
    assert_eq!(envelope_err(b"\"1101\"", None), "body: 应为JSON对象");
    assert_eq!(envelope_err(b" \r\n", None), "body: 报文为空");
    assert_eq!(
        envelope_err(&[b'['; 200], None),
        "body: 报文JSON嵌套层数超过上限128层(第1行第128列)"
    );
}

#[test]
fn infno_missing_malformed_or_disagreeing_with_the_path() {
    let no_infno = body_with(|b| {
        b.as_object_mut().unwrap().remove("infno");
    });
    assert_eq!(envelope_err(&no_infno, None), "infno: 必填字段缺失");
    assert_eq!(envelope_err(&no_infno, Some("")), "infno: 必填字段缺失");
    let mismatch = body_with(|b| b["infno"] = json!("2207"));
    assert_eq!(
        envelope_err(&mismatch, Some("2206")),
        "infno: 报文中的交易编号“2207”与请求地址中的交易编号“2206”不一致"
    );
    let malformed = body_with(|b| b["infno"] = json!("11;01"));
    assert_eq!(
        envelope_err(&malformed, None),
        "infno: 交易编号“11;01”格式不正确,应为4至6位字母或数字"
    );
    assert_eq!(
        envelope_err(&no_infno, Some("../etc")),
        "infno: 交易编号“../etc”格式不正确,应为4至6位字母或数字"
    );
}

#[test]
fn msgid_too_long_or_missing() {
    let long = body_with(|b| b["msgid"] = json!("H330200000012023090112000012345"));
    assert_eq!(envelope_err(&long, None), "msgid: 长度超过30个字符");
    let missing = body_with(|b| b["msgid"] = json!("null"));
    assert_eq!(envelope_err(&missing, None), "msgid: 必填字段缺失");
}

#[test]
fn envelope_field_limits_and_forms() {
    let long_name = body_with(|b| b["fixmedins_name"] = json!("医".repeat(201)));
    assert_eq!(envelope_err(&long_name, None), "fixmedins_name: 长度超过200个字符");
    let bad_time = body_with(|b| b["inf_time"] = json!("2023/9/1 12:00"));
    assert_eq!(
        envelope_err(&bad_time, None),
        "inf_time: 时间格式应为yyyy-MM-dd HH:mm:ss或yyyyMMddHHmmss"
    );
    let object = body_with(|b| b["opter"] = json!({"id": 1}));
    assert_eq!(envelope_err(&object, None), "opter: 应为字符串或数字");
    let no_code = body_with(|b| b["fixmedins_code"] = json!(""));
    assert_eq!(envelope_err(&no_code, None), "fixmedins_code: 必填字段缺失");
}

#[test]
fn input_missing_not_an_object_or_encrypted() {
    let missing = body_with(|b| b["input"] = Value::Null);
    assert_eq!(envelope_err(&missing, None), "input: 必填字段缺失");
    let array = body_with(|b| b["input"] = json!([1]));
    assert_eq!(
        envelope_err(&array, None),
        "input: 交易输入应为JSON对象,或包含JSON对象的字符串"
    );
    let string_array = body_with(|b| b["input"] = json!("[1]"));
    assert_eq!(
        envelope_err(&string_array, None),
        "input: 交易输入应为JSON对象,或包含JSON对象的字符串"
    );
    let encrypted = body_with(|b| {
        b["enc_type"] = json!("SM4");
        b["input"] = json!("q1w2e3r4t5y6u7i8o9p0==");
    });
    assert_eq!(
        envelope_err(&encrypted, None),
        "input: 交易输入已加密(enc_type=SM4),本接口只接受解密后的报文"
    );
}

// ---- transaction inputs ----

#[test]
fn missing_psn_no() {
    let input = json!({"data": {"mdtrt_id": "M", "ipt_otp_no": "I"}});
    assert_eq!(err(Input2202::parse(&input)), "input.data.psn_no: 必填字段缺失");
    assert_eq!(err(Input2202::parse(&json!({}))), "input.data: 必填字段缺失");
    assert_eq!(err(Input2202::parse(&json!({"data": "x"}))), "input.data: 应为JSON对象");
    assert_eq!(
        err(Input2202::parse(&json!({"data": {"psn_no": ["P"]}}))),
        "input.data.psn_no: 应为字符串或数字"
    );
}

#[test]
fn price_with_seven_decimals() {
    let input = fees_2204(5, |lines| lines[3]["pric"] = json!("50.0000001"));
    assert_eq!(
        err(Input2204::parse(&input)),
        "input.feedetail[3].pric: 单价小数位数超过6位"
    );
}

#[test]
fn count_not_a_number() {
    let input = fees_2204(1, |lines| lines[0]["cnt"] = json!("两盒"));
    assert_eq!(
        err(Input2204::parse(&input)),
        "input.feedetail[0].cnt: 数量不是合法的十进制数"
    );
    let input = fees_2204(1, |lines| lines[0]["cnt"] = json!(true));
    assert_eq!(
        err(Input2204::parse(&input)),
        "input.feedetail[0].cnt: 应为字符串或数字"
    );
    let input = fees_2204(1, |lines| lines[0]["cnt"] = json!("0"));
    assert_eq!(
        err(Input2204::parse(&input)),
        "input.feedetail[0].cnt: 数量必须大于0(门诊退费请先撤销明细)"
    );
}

#[test]
fn too_many_or_no_fee_lines() {
    let input = fees_2204(FEEDETAIL_MAX + 1, |_| {});
    assert_eq!(
        err(Input2204::parse(&input)),
        "input.feedetail: 费用明细1001条,超过每次上限1000条"
    );
    assert!(Input2204::parse(&fees_2204(FEEDETAIL_MAX, |_| {})).is_ok());
    assert_eq!(
        err(Input2204::parse(&json!({"feedetail": []}))),
        "input.feedetail: 至少需要1条费用明细"
    );
    assert_eq!(
        err(Input2204::parse(&json!({"feedetail": [1]}))),
        "input.feedetail[0]: 应为JSON对象"
    );
}

#[test]
fn duplicate_or_mixed_lines() {
    let dup = fees_2204(3, |lines| lines[2]["feedetl_sn"] = json!("1"));
    assert_eq!(
        err(Input2204::parse(&dup)),
        "input.feedetail[2].feedetl_sn: 费用明细流水号“1”在本次上传中重复"
    );
    let mixed = fees_2204(2, |lines| lines[1]["mdtrt_id"] = json!("OTHER"));
    assert_eq!(
        err(Input2204::parse(&mixed)),
        "input.feedetail[1].mdtrt_id: 就诊ID“OTHER”与第1条的“MD202309010001”不一致"
    );
}

#[test]
fn inpatient_refunds_need_the_original_line() {
    let mut input = input_of("2301");
    input["feedetail"][1]["init_feedetl_sn"] = json!("");
    assert_eq!(
        err(Input2301::parse(&input)),
        "input.feedetail[1].init_feedetl_sn: 必填字段缺失:退费明细(数量为负)须填写原费用流水号"
    );
    let mut input = input_of("2301");
    input["feedetail"][1]["det_item_fee_sumamt"] = json!("30.50");
    assert_eq!(
        err(Input2301::parse(&input)),
        "input.feedetail[1].det_item_fee_sumamt: 明细项目费用总额的正负应与数量一致"
    );
}

#[test]
fn bad_medical_type_and_insurance_type() {
    let mut input = input_of("2203");
    input["mdtrtinfo"]["med_type"] = json!("99");
    assert_eq!(
        err(Input2203::parse(&input)),
        "input.mdtrtinfo.med_type: 代码“99”不是有效的医疗类别"
    );
    let mut input = input_of("2206");
    input["data"]["insutype"] = json!(999);
    assert_eq!(
        err(Input2206::parse(&input)),
        "input.data.insutype: 代码“999”不是有效的险种类型"
    );
}

#[test]
fn amounts_flags_integers_and_dates() {
    let mut input = input_of("2206");
    input["data"]["medfee_sumamt"] = json!("100.001");
    assert_eq!(
        err(Input2206::parse(&input)),
        "input.data.medfee_sumamt: 医疗费总额小数位数超过2位"
    );
    let mut input = input_of("2206");
    input["data"]["medfee_sumamt"] = json!("-1.00");
    assert_eq!(
        err(Input2206::parse(&input)),
        "input.data.medfee_sumamt: 医疗费总额不能为负"
    );
    let mut input = input_of("2206");
    input["data"]["acct_used_flag"] = json!("2");
    assert_eq!(err(Input2206::parse(&input)), "input.data.acct_used_flag: 标志应为0或1");
    let mut input = input_of("2203");
    input["diseinfo"][0]["diag_srt_no"] = json!("1.5");
    assert_eq!(
        err(Input2203::parse(&input)),
        "input.diseinfo[0].diag_srt_no: 诊断排序号应为0到99之间的整数"
    );
    let mut input = input_of("2503");
    input["data"]["begndate"] = json!("2023-13-01");
    assert_eq!(
        err(Input2503::parse(&input)),
        "input.data.begndate: 日期2023-13-01不存在"
    );
    input["data"]["begndate"] = json!("2023-1-01");
    assert_eq!(
        err(Input2503::parse(&input)),
        "input.data.begndate: 日期格式应为yyyy-MM-dd或yyyyMMdd"
    );
    input["data"]["begndate"] = json!("2026-02-30");
    assert_eq!(
        err(Input2503::parse(&input)),
        "input.data.begndate: 日期2026-02-30不存在"
    );
    let mut input = input_of("3201");
    input["data"]["stmt_enddate"] = json!("2023-08-31");
    assert_eq!(
        err(Input3201::parse(&input)),
        "input.data.stmt_enddate: 对账结束日期早于开始日期"
    );
}

#[test]
fn person_lookup_needs_an_identification() {
    let input = json!({"data": {"psn_name": "李四"}});
    assert_eq!(
        err(Input1101::parse(&input)),
        "input.data.mdtrt_cert_no: 必填字段缺失:应提供就诊凭证类型与编号(mdtrt_cert_type、mdtrt_cert_no)或证件号码(certno)"
    );
    let input = json!({"data": {"mdtrt_cert_type": "03"}});
    assert_eq!(err(Input1101::parse(&input)), "input.data.mdtrt_cert_no: 必填字段缺失");
}

#[test]
fn reversal_names_a_well_formed_transaction() {
    let input = json!({"data": {"psn_no": "P", "omsgid": "M", "oinfno": "22;7"}});
    assert_eq!(
        err(Input2601::parse(&input)),
        "input.data.oinfno: 交易编号“22;7”格式不正确,应为4至6位字母或数字"
    );
}

#[test]
fn unknown_transaction_and_long_values_are_echoed_short() {
    let long = "9".repeat(100);
    let result = TransactionInput::parse(&long, &json!({}));
    assert_eq!(err(result), format!("infno: 不支持的交易编号“{}…”", "9".repeat(40)));
}

#[test]
fn an_error_becomes_a_failure_answer() {
    let error = parse_envelope(b"[]", None).unwrap_err();
    let t = chrono::NaiveDate::from_ymd_opt(2026, 6, 12)
        .and_then(|d| d.and_hms_milli_opt(9, 22, 36, 352))
        .unwrap();
    let answer = Response::error(String::new(), t, t, &error.to_string());
    let json: Value = serde_json::from_slice(&answer.to_json_bytes()).unwrap();
    assert_eq!(
        json,
        json!({"infcode": -1, "inf_refmsgid": "", "refmsg_time": "20260612092236352",
            "respond_time": "20260612092236352", "err_msg": "body: 应为JSON对象", "output": null,
            "warn_msg": null, "cainfo": null, "signtype": null})
    );
}
