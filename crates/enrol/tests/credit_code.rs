//! Unified social credit codes: published codes validate, any single change is caught.

mod common;

use common::*;
use proptest::prelude::*;
use yibao_enrol::{CreditCode, Employer};

#[test]
fn published_codes_validate() {
    // (code, holder, division of the registering authority)
    let cases = [
        (HUAWEI, "华为技术有限公司", "440300"),
        (TENCENT, "深圳市腾讯计算机系统有限公司", "440300"),
        (ALIBABA, "阿里巴巴(中国)有限公司", "330100"),
        (BYD, "比亚迪股份有限公司", "440300"),
        (ICBC, "中国工商银行股份有限公司", "100000"),
    ];
    for (code, holder, division) in cases {
        let parsed = CreditCode::parse(code).unwrap_or_else(|e| panic!("{holder}: {e}"));
        assert_eq!(parsed.as_str(), code);
        assert_eq!(parsed.division(), division, "{holder}");
        assert_eq!(CreditCode::check_char(code.as_bytes()), Some(code.as_bytes()[17]));
    }
}

#[test]
fn refusals_name_the_rule() {
    let cases = [
        ("914403001922038217", "校验码错误"),
        ("91440300192203821", "应为18位字母或数字"),
        ("9144030019220382166", "应为18位字母或数字"),
        ("9144030O1922038216", "含有不允许的字符(不使用I、O、Z、S、V)"),
        ("91AB0300192203821X", "第3至8位应为行政区划码"),
        ("91440300192203821中", "应为18位字母或数字"),
    ];
    for (text, rule) in cases {
        let err = CreditCode::parse(text).unwrap_err();
        assert_eq!(err.rule, rule, "{text}");
        assert!(err.to_string().starts_with("统一社会信用代码"), "{err}");
    }
}

#[test]
fn lower_case_and_spaces_are_normalised() {
    assert_eq!(CreditCode::parse(" 9144030071526726xg ").unwrap().as_str(), TENCENT);
}

#[test]
fn employer_needs_a_valid_code_name_and_region() {
    let employer = Employer::new(HUAWEI, "华为技术有限公司", "440300").unwrap();
    assert_eq!(employer.credit_code.as_str(), HUAWEI);
    assert!(Employer::new(HUAWEI, "", "440300").is_err());
    assert!(Employer::new(HUAWEI, &"名".repeat(201), "440300").is_err());
    assert!(Employer::new(HUAWEI, "华为", "44030").is_err());
    assert!(Employer::new("914403001922038217", "华为", "440300").is_err());
}

#[test]
fn serde_round_trip_validates() {
    let code = CreditCode::parse(ICBC).unwrap();
    let json = serde_json::to_string(&code).unwrap();
    assert_eq!(json, format!("\"{ICBC}\""));
    assert_eq!(serde_json::from_str::<CreditCode>(&json).unwrap(), code);
    assert!(serde_json::from_str::<CreditCode>("\"91100000100003962A\"").is_err());
}

const CHARSET: &str = "0123456789ABCDEFGHJKLMNPQRTUWXY";

proptest! {
    #[test]
    fn any_body_with_its_check_char_validates(body in "[0-9A-HJ-NPQRTUWXY]{2}[0-9]{6}[0-9A-HJ-NPQRTUWXY]{9}") {
        let check = CreditCode::check_char(body.as_bytes()).unwrap() as char;
        let code = format!("{body}{check}");
        prop_assert!(CreditCode::parse(&code).is_ok());
        for other in CHARSET.chars().filter(|c| *c != check) {
            let wrong = format!("{body}{other}");
            prop_assert!(CreditCode::parse(&wrong).is_err());
        }
    }

    #[test]
    fn a_changed_character_is_caught(position in 0usize..17, replacement in 0usize..31) {
        let mut bytes = HUAWEI.as_bytes().to_vec();
        let new = CHARSET.as_bytes()[replacement];
        // A single substitution always changes the weighted sum modulo the prime 31.
        prop_assume!(bytes[position] != new);
        bytes[position] = new;
        let text = String::from_utf8(bytes).unwrap();
        prop_assert!(CreditCode::parse(&text).is_err());
    }

    #[test]
    fn arbitrary_text_never_panics(text in ".{0,40}") {
        let _ = CreditCode::parse(&text);
    }
}
