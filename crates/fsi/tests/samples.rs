//! The verbatim samples of the reference (§3.3), and one valid request per transaction.

mod common;

use chrono::NaiveDate;
use yibao_codes::{InsuranceType, MedicalType};
use yibao_fsi::{
    parse_envelope, Input1101, Input2204, Input2301, Input2504, PersonLookup, TransactionInput, SUPPORTED_INFNOS,
};
use yibao_money::{Money, Price, Quantity};

/// Production log, Putian: a request Fujian sends as 3103, carrying a patient rather than the
/// national 3103 feedback (`warn_type`, `warns`). The envelope must parse.
const PUTIAN_3103: &str = r#"{"insuplc_admdvs":"350303","dev_no":"","inf_time":"2026-06-12 09:22:37",
 "msgid":"H35030200090202606120922374767","infver":"V1.0","signtype":"","opter":"18454",
 "input":{"data":{"adm_time":"20260612084935","fixmedins_code":"H35030200090","gend":"2",
   "mdtrt_cert_type":"03","patn_name":"…","mdtrt_cert_no":"","fixmedins_name":"莆田市第一医院",
   "dept_name":"神经内科","dr_name":"…","brdy":"1949-09-29"}},
 "fixmedins_code":"H35030200090","cainfo":"","opter_name":"…","dev_safe_info":"","infno":"3103",
 "mdtrtarea_admvs":"350302","opter_type":"1","fixmedins_name":"莆田市第一医院","sign_no":"25483790",
 "recer_sys_code":"MBS_LOCAL"}"#;

/// The spec-style 1101 example.
const SPEC_1101: &str = r#"{"infno":"1101","msgid":"H00000000001202001041235391234","insuplc_admdvs":"100000",
 "mdtrtarea_admvs":"100000","recer_sys_code":"MBS_LOCAL","dev_no":"","dev_safe_info":"","cainfo":"",
 "infver":"V1.0","opter_type":"1","opter":"01","opter_name":"张三","inf_time":"2020-01-04 12:35:39",
 "fixmedins_code":"100001","fixmedins_name":"第一人民医院","sign_no":"79faf82271944fe38c4f1d99be71bc9c",
 "input":{"data":{"psn_cert_type":"2","certno":"510000202001010000","psn_name":"李四","begntime":"2020-01-01"}}}"#;

#[test]
fn putian_3103_envelope_parses() {
    let env = parse_envelope(PUTIAN_3103.as_bytes(), None).unwrap();
    assert_eq!(env.infno, "3103");
    assert_eq!(env.msgid, "H35030200090202606120922374767");
    assert_eq!(env.fixmedins_code, "H35030200090");
    assert_eq!(env.fixmedins_name.as_deref(), Some("莆田市第一医院"));
    assert_eq!(env.insuplc_admdvs.as_deref(), Some("350303"));
    assert_eq!(env.mdtrtarea_admvs.as_deref(), Some("350302"));
    assert_eq!(env.recer_sys_code.as_deref(), Some("MBS_LOCAL"));
    assert_eq!(env.sign_no.as_deref(), Some("25483790"));
    assert_eq!(
        env.inf_time,
        NaiveDate::from_ymd_opt(2026, 6, 12).and_then(|d| d.and_hms_opt(9, 22, 37))
    );
    // Empty strings are absent.
    assert_eq!((env.dev_no, env.cainfo, env.signtype), (None, None, None));
    assert_eq!(env.input["data"]["dept_name"], "神经内科");
    // And its input is refused for the first field the national 3103 needs.
    let err = TransactionInput::parse(&env.infno, &env.input).unwrap_err();
    assert_eq!(err.to_string(), "input.data.warn_type: 必填字段缺失");
}

#[test]
fn spec_1101_example_parses_to_input_1101() {
    let env = parse_envelope(SPEC_1101.as_bytes(), None).unwrap();
    assert_eq!(env.infno, "1101");
    assert_eq!(
        env.sign_no.as_deref(),
        Some("79faf82271944fe38c4f1d99be71bc9c"),
        "32 characters, as the spec shows"
    );
    let input = Input1101::parse(&env.input).unwrap();
    assert_eq!(input.psn_cert_type.as_deref(), Some("02"), "\"2\" is read as \"02\"");
    assert_eq!(input.certno.as_deref(), Some("510000202001010000"));
    assert_eq!(input.psn_name.as_deref(), Some("李四"));
    assert_eq!(
        input.begntime,
        NaiveDate::from_ymd_opt(2020, 1, 1).and_then(|d| d.and_hms_opt(0, 0, 0))
    );
    assert_eq!(
        input.lookup(),
        PersonLookup::Certificate {
            psn_cert_type: Some("02"),
            certno: "510000202001010000"
        }
    );
    assert!(matches!(
        TransactionInput::parse("1101", &env.input),
        Ok(TransactionInput::PersonInfo(_))
    ));
}

#[test]
fn every_supported_transaction_has_a_valid_request_that_parses() {
    let inputs = common::valid_inputs();
    for infno in SUPPORTED_INFNOS {
        let found = inputs.iter().any(|(code, _)| code == infno)
            || (infno.starts_with("13") && *infno != "1312" && inputs.iter().any(|(c, _)| *c == "1301"));
        assert!(found, "no fixture for {infno}");
    }
    for (infno, input) in inputs {
        let body = serde_json::to_vec(&common::envelope(infno, input)).unwrap();
        let env = parse_envelope(&body, Some(infno)).unwrap_or_else(|e| panic!("{infno}: {e}"));
        TransactionInput::parse(&env.infno, &env.input).unwrap_or_else(|e| panic!("{infno}: {e}"));
    }
}

#[test]
fn fee_lines_parse_exactly() {
    let input = common::valid_inputs()
        .into_iter()
        .find(|(c, _)| *c == "2204")
        .unwrap()
        .1;
    let parsed = Input2204::parse(&input).unwrap();
    let line = &parsed.feedetail[0];
    assert_eq!(line.item.pric, Price::parse("50").unwrap());
    assert_eq!(line.item.cnt, Quantity::whole(1));
    assert_eq!(line.item.det_item_fee_sumamt, Money::from_yuan(50));
    assert_eq!(line.item.exp_content.as_deref(), Some(r#"{"er_flag":"0"}"#));
    assert!(!line.rx_circ_flag);
    let fee = line.to_fee_line();
    assert_eq!((fee.sn.as_str(), fee.code.as_str()), ("1", "XB03ACY199B002010104718"));
    assert_eq!(fee.date, NaiveDate::from_ymd_opt(2023, 9, 1));

    let input = common::valid_inputs()
        .into_iter()
        .find(|(c, _)| *c == "2301")
        .unwrap()
        .1;
    let parsed = Input2301::parse(&input).unwrap();
    assert_eq!(parsed.feedetail[0].item.pric, Price::parse("30.5").unwrap());
    assert_eq!(parsed.feedetail[0].med_type, MedicalType::GeneralInpatient);
    assert!(parsed.feedetail[1].is_refund());
    assert_eq!(parsed.feedetail[1].item.det_item_fee_sumamt, Money::from_fen(-3050));
    assert_eq!(parsed.feedetail[1].init_feedetl_sn.as_deref(), Some("1"));
}

#[test]
fn dispatcher_and_aliases() {
    let inputs = common::valid_inputs();
    let get = |code: &str| inputs.iter().find(|(c, _)| *c == code).map(|(_, v)| v.clone()).unwrap();
    match TransactionInput::parse("2207", &get("2207")).unwrap() {
        TransactionInput::OutpatientSettle(s) => {
            assert_eq!(s.insutype, InsuranceType::EmployeeBasic, "310 sent as a number");
            assert_eq!(s.psn_setlway, "01");
            assert!(!s.acct_used_flag);
            assert_eq!(s.medfee_sumamt, Money::from_yuan(100));
            assert_eq!(s.preselfpay_amt, Some(Money::from_yuan(5)));
        }
        other => panic!("{other:?}"),
    }
    match TransactionInput::parse("2304", &get("2304")).unwrap() {
        TransactionInput::InpatientSettle(s) => {
            assert!(s.mid_setl_flag);
            assert_eq!(s.mdtrt_cert_type, "02");
        }
        other => panic!("{other:?}"),
    }
    match TransactionInput::parse("2303", &get("2303")).unwrap() {
        TransactionInput::InpatientPreSettle(s) => {
            assert!(!s.mid_setl_flag);
            assert_eq!(
                s.dscg_time,
                NaiveDate::from_ymd_opt(2023, 9, 12).and_then(|d| d.and_hms_opt(10, 0, 0))
            );
        }
        other => panic!("{other:?}"),
    }
    match TransactionInput::parse("2203A", &get("2203A")).unwrap() {
        TransactionInput::OutpatientVisit(v) => {
            assert_eq!(v.diseinfo.len(), 1, "a single diseinfo object is a list of one");
            assert_eq!(v.mdtrtinfo.geso_val, Some(12));
        }
        other => panic!("{other:?}"),
    }
    match TransactionInput::parse("2205", &get("2205")).unwrap() {
        TransactionInput::OutpatientFeesCancel(c) => assert!(c.all_batches()),
        other => panic!("{other:?}"),
    }
    match TransactionInput::parse("2302", &get("2302")).unwrap() {
        TransactionInput::InpatientFeesCancel(c) => assert!(c.data[0].revokes_all()),
        other => panic!("{other:?}"),
    }
    match TransactionInput::parse("5206", &get("5206")).unwrap() {
        TransactionInput::CumulativeQuery(q) => {
            assert_eq!(q.cum_ym, NaiveDate::from_ymd_opt(2023, 9, 1))
        }
        other => panic!("{other:?}"),
    }
    let by_disease = serde_json::json!({"data": {"psn_no": "1", "opsp_dise_code": "M01600"}});
    assert_eq!(
        Input2504::parse(&by_disease).unwrap().target(),
        yibao_fsi::FilingTarget::Disease("M01600")
    );
    let both = serde_json::json!({"data": {"psn_no": "1", "opsp_dise_code": "M01600", "trt_dcla_detl_sn": "T1"}});
    assert_eq!(
        Input2504::parse(&both).unwrap().target(),
        yibao_fsi::FilingTarget::Serial("T1")
    );
}
