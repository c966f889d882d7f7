//! `setlinfo`, `setldetail` and `result[]` rows built from real settlements: every §5.1 field is
//! there, amounts have exactly two decimals, and the accounting identities hold.

use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use serde_json::Value;
use yibao_catalog::Catalog;
use yibao_codes::{HospitalLevel, MedicalType, PersonType, Sex};
use yibao_fsi::{fee_result_row, setldetail, setlinfo, settlement_output, Input2301, SetlAmounts, SetlContext};
use yibao_money::Money;
use yibao_policy::{load_policy, Policy};
use yibao_settle::{pre_settle, Person, SettleInput, Settlement, Visit, YearToDate};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn policy(file: &str) -> Policy {
    let path = repo().join("policies").join(file);
    let text = std::fs::read_to_string(&path).unwrap();
    load_policy(&path.display().to_string(), &text).unwrap_or_else(|e| panic!("{file}: {e:?}"))
}

fn catalog() -> Catalog {
    let text = std::fs::read_to_string(repo().join("crates/settle/tests/cases/catalog.csv")).unwrap();
    Catalog::from_csv(&text).unwrap()
}

/// Every field of spec §5.1 (rows 1–41) plus `hifdm_pay`.
const SETLINFO_FIELDS: &[&str] = &[
    "mdtrt_id",
    "setl_id",
    "psn_no",
    "psn_name",
    "psn_cert_type",
    "certno",
    "gend",
    "naty",
    "brdy",
    "age",
    "insutype",
    "psn_type",
    "cvlserv_flag",
    "setl_time",
    "mdtrt_cert_type",
    "med_type",
    "medfee_sumamt",
    "fulamt_ownpay_amt",
    "overlmt_selfpay",
    "preselfpay_amt",
    "inscp_scp_amt",
    "act_pay_dedc",
    "hifp_pay",
    "pool_prop_selfpay",
    "cvlserv_pay",
    "hifes_pay",
    "hifmi_pay",
    "hifob_pay",
    "maf_pay",
    "hosp_part_amt",
    "oth_pay",
    "fund_pay_sumamt",
    "psn_part_amt",
    "acct_pay",
    "psn_cash_pay",
    "balc",
    "acct_mulaid_pay",
    "medins_setl_id",
    "clr_optins",
    "clr_way",
    "clr_type",
    "hifdm_pay",
];

const AMOUNT_FIELDS: &[&str] = &[
    "medfee_sumamt",
    "fulamt_ownpay_amt",
    "overlmt_selfpay",
    "preselfpay_amt",
    "inscp_scp_amt",
    "act_pay_dedc",
    "hifp_pay",
    "cvlserv_pay",
    "hifes_pay",
    "hifmi_pay",
    "hifob_pay",
    "maf_pay",
    "hosp_part_amt",
    "oth_pay",
    "fund_pay_sumamt",
    "psn_part_amt",
    "acct_pay",
    "psn_cash_pay",
    "balc",
    "acct_mulaid_pay",
    "hifdm_pay",
];

/// An amount field: a JSON number with exactly two decimals, read back exactly.
fn amount(v: &Value, key: &str) -> Money {
    let number = v[key]
        .as_number()
        .unwrap_or_else(|| panic!("{key} is not a number: {}", v[key]));
    let text = number.to_string();
    let decimals = text.split_once('.').map(|(_, d)| d.len());
    assert_eq!(decimals, Some(2), "{key} = {text} must have exactly two decimals");
    Money::parse_yuan(&text).unwrap()
}

fn context(person: &Person, visit: &Visit) -> SetlContext {
    SetlContext {
        mdtrt_id: visit.visit_id.clone(),
        setl_id: "S330200202309120001".into(),
        psn_no: person.person_no.clone(),
        psn_name: "赵大伯".into(),
        psn_cert_type: "01".into(),
        certno: "330203196405010012".into(),
        gend: person.sex,
        naty: "01".into(),
        brdy: person.birth_date,
        age: person.age_years_on(visit.begin_date),
        insutype: person.insurance,
        psn_type: person.person_type,
        cvlserv_flag: person.civil_servant,
        setl_time: NaiveDate::from_ymd_opt(2023, 9, 12)
            .and_then(|d| d.and_hms_opt(10, 30, 0))
            .unwrap(),
        mdtrt_cert_type: "02".into(),
        med_type: visit.medical_type,
        medins_setl_id: "H33020000001202309121030001234".into(),
        clr_optins: "330200".into(),
        clr_way: "01".into(),
        clr_type: "21".into(),
    }
}

/// The identities, checked on the emitted JSON itself.
fn check_identities(info: &Value, settlement: &Settlement) {
    for key in SETLINFO_FIELDS {
        assert!(info.get(key).is_some(), "setlinfo lacks {key}");
    }
    assert_eq!(
        info.as_object().unwrap().len(),
        SETLINFO_FIELDS.len(),
        "no field beyond §5.1"
    );
    let a = |k: &str| amount(info, k);
    let funds = [
        "hifp_pay",
        "cvlserv_pay",
        "hifes_pay",
        "hifmi_pay",
        "hifob_pay",
        "maf_pay",
        "hifdm_pay",
        "oth_pay",
    ];
    assert_eq!(
        a("fund_pay_sumamt"),
        funds.iter().map(|k| a(k)).sum::<Money>(),
        "fund_pay_sumamt = Σ funds"
    );
    assert_eq!(
        a("psn_part_amt"),
        a("acct_pay") + a("psn_cash_pay"),
        "psn_part_amt = acct + cash"
    );
    assert_eq!(
        a("medfee_sumamt"),
        a("fund_pay_sumamt") + a("psn_part_amt") + a("hosp_part_amt")
    );
    assert_eq!(
        a("inscp_scp_amt"),
        a("medfee_sumamt") - a("fulamt_ownpay_amt") - a("overlmt_selfpay") - a("preselfpay_amt"),
        "inscp_scp_amt = medfee − self-paid parts"
    );
    // And they agree with the engine's own figures.
    assert_eq!(a("medfee_sumamt"), settlement.total);
    assert_eq!(a("fund_pay_sumamt"), settlement.fund_total);
    assert_eq!(a("psn_part_amt"), settlement.personal);
    for key in AMOUNT_FIELDS {
        assert!(!a(key).is_negative(), "{key} is negative");
    }
    let ratio = info["pool_prop_selfpay"].as_number().unwrap().to_string();
    assert_eq!(
        ratio.split_once('.').map(|(_, d)| d.len()),
        Some(4),
        "pool_prop_selfpay = {ratio}"
    );

    let detail = setldetail(settlement);
    assert_eq!(detail.len(), settlement.funds.len());
    let detail_total: Money = detail.iter().map(|row| amount(row, "fund_payamt")).sum();
    assert_eq!(
        detail_total,
        a("fund_pay_sumamt"),
        "setldetail rows add up to fund_pay_sumamt"
    );
    for row in &detail {
        let proc_info: Value = serde_json::from_str(row["setl_proc_info"].as_str().unwrap()).unwrap();
        assert!(proc_info.is_array());
        assert!(amount(row, "fund_payamt") <= amount(row, "inscp_scp_amt"));
        let _ = amount(row, "crt_payb_lmt_amt");
    }
}

/// Case C01 (宁波, resident inpatient, 22000.00), with its fee lines arriving over the wire as a
/// 2301 upload: parse → pre-settle → answer.
#[test]
fn ningbo_inpatient_from_wire_lines_to_setlinfo() {
    let upload: Value = serde_json::from_str(
        r#"{"feedetail": [
        {"feedetl_sn": "1", "mdtrt_id": "ZY20230901", "psn_no": "33020000000000000001", "med_type": "21",
         "fee_ocur_time": "2023-09-02 09:00:00", "med_list_codg": "C02040205800005113250000023",
         "medins_list_codg": "HC001", "det_item_fee_sumamt": 1500.00, "cnt": 1, "pric": 1500,
         "bilg_dept_codg": "D03", "bilg_dept_name": "心内科", "bilg_dr_codg": "D330200000001", "bilg_dr_name": "王医生"},
        {"feedetl_sn": "2", "mdtrt_id": "ZY20230901", "psn_no": "33020000000000000001", "med_type": "21",
         "fee_ocur_time": "20230903090000", "med_list_codg": "XB03ACY199B002010104718",
         "medins_list_codg": "YP001", "det_item_fee_sumamt": "5000.00", "cnt": "100", "pric": "50.000000",
         "bilg_dept_codg": "D03", "bilg_dept_name": "心内科", "bilg_dr_codg": "D330200000001", "bilg_dr_name": "王医生"},
        {"feedetl_sn": "3", "mdtrt_id": "ZY20230901", "psn_no": "33020000000000000001", "med_type": "21",
         "fee_ocur_time": "2023-09-04 09:00:00", "med_list_codg": "003401000230600",
         "medins_list_codg": "FW001", "det_item_fee_sumamt": 15500, "cnt": 100.0, "pric": "155",
         "bilg_dept_codg": "D03", "bilg_dept_name": "心内科", "bilg_dr_codg": "D330200000001", "bilg_dr_name": "王医生"}
        ]}"#,
    )
    .unwrap();
    let parsed = Input2301::parse(&upload).unwrap();
    let person = Person {
        person_no: "33020000000000000001".into(),
        insurance: yibao_codes::InsuranceType::ResidentBasic,
        person_type: PersonType::parse("1501").unwrap(),
        sex: Sex::Male,
        birth_date: NaiveDate::from_ymd_opt(1964, 5, 1).unwrap(),
        tier: Some(yibao_codes::Tier::One),
        groups: Vec::new(),
        civil_servant: false,
        chronic_diseases: Vec::new(),
        benefits_from: None,
    };
    let visit = Visit {
        visit_id: "ZY20230901".into(),
        medical_type: MedicalType::GeneralInpatient,
        level: HospitalLevel::parse("02").unwrap(),
        begin_date: NaiveDate::from_ymd_opt(2023, 9, 1).unwrap(),
        end_date: NaiveDate::from_ymd_opt(2023, 9, 12),
        in_county: false,
        referred: true,
        use_account: true,
        lines: parsed.feedetail.iter().map(|d| d.to_fee_line()).collect(),
    };
    let policy = policy("ningbo/2023.toml");
    let catalog = catalog();
    let ytd = YearToDate::new(policy.insurance_year(visit.begin_date));
    let settlement = pre_settle(&SettleInput {
        policy: &policy,
        catalog: &catalog,
        person: &person,
        ytd: &ytd,
        account_balance: Money::ZERO,
        family_account_balance: Money::ZERO,
        visit: &visit,
    })
    .unwrap();
    let ctx = context(&person, &visit);
    let info = setlinfo(&settlement, &ctx);
    check_identities(&info, &settlement);

    // The published figures, as the HIS reads them.
    let text = |k: &str| info[k].to_string();
    assert_eq!(text("medfee_sumamt"), "22000.00");
    assert_eq!(text("fulamt_ownpay_amt"), "1500.00");
    assert_eq!(text("preselfpay_amt"), "500.00");
    assert_eq!(text("inscp_scp_amt"), "20000.00");
    assert_eq!(text("act_pay_dedc"), "1200.00");
    assert_eq!(text("hifp_pay"), "13160.00");
    assert_eq!(text("pool_prop_selfpay"), "0.7000");
    assert_eq!(text("fund_pay_sumamt"), "13160.00");
    assert_eq!(text("psn_part_amt"), "8840.00");
    assert_eq!(text("psn_cash_pay"), "8840.00");
    assert_eq!(text("acct_pay"), "0.00");
    assert_eq!(info["insutype"], "390");
    assert_eq!(info["psn_type"], "1501");
    assert_eq!(info["med_type"], "21");
    assert_eq!(info["gend"], "1");
    assert_eq!(info["brdy"], "1964-05-01");
    assert_eq!(text("age"), "59");
    assert_eq!(info["setl_time"], "2023-09-12 10:30:00");
    assert_eq!(info["cvlserv_flag"], "0");
    assert_eq!(info["medins_setl_id"], "H33020000001202309121030001234");

    let detail = setldetail(&settlement);
    assert_eq!(detail.len(), 1);
    assert_eq!(detail[0]["fund_pay_type"], "390100");
    assert_eq!(detail[0]["fund_pay_type_name"], "城乡居民基本医疗保险基金");
    assert_eq!(detail[0]["fund_payamt"].to_string(), "13160.00");
    assert_eq!(detail[0]["setl_proc_info"], r#"[{"polItemCode":"basic"}]"#);

    let output = settlement_output(&settlement, &ctx);
    assert_eq!(output["setlinfo"], info);
    assert_eq!(output["setldetail"], Value::Array(detail));

    // The 2301 answer's result[] rows.
    for (line, result) in visit.lines.iter().zip(&settlement.lines) {
        let item = catalog.get(&line.code).unwrap();
        let row = fee_result_row(&line.sn, line, &result.split, item);
        let parts = amount(&row, "fulamt_ownpay_amt")
            + amount(&row, "overlmt_amt")
            + amount(&row, "preselfpay_amt")
            + amount(&row, "inscp_scp_amt");
        assert_eq!(
            parts,
            amount(&row, "det_item_fee_sumamt"),
            "row {} conserves its amount",
            line.sn
        );
        assert_eq!(row["feedetl_sn"], line.sn.as_str());
        match line.sn.as_str() {
            "1" => {
                assert_eq!(row["chrgitm_lv"], "03");
                assert_eq!(row["selfpay_prop"].to_string(), "1.0000");
                assert_eq!(row["memo"], "丙类项目,全自费");
                assert_eq!(row["med_chrgitm_type"], "08");
            }
            "2" => {
                assert_eq!(row["chrgitm_lv"], "02");
                assert_eq!(row["selfpay_prop"].to_string(), "0.1000");
                assert_eq!(row["preselfpay_amt"].to_string(), "500.00");
                assert_eq!(row["cnt"].to_string(), "100.0000");
                assert_eq!(row["pric"].to_string(), "50.000000");
                assert!(row["pric_uplmt_amt"].is_null());
                assert_eq!(row["med_chrgitm_type"], "09");
            }
            _ => {
                assert_eq!(row["chrgitm_lv"], "01");
                assert_eq!(row["inscp_scp_amt"].to_string(), "15500.00");
                assert_eq!(row["lmt_used_flag"], "0");
                assert_eq!(row["memo"], "");
            }
        }
    }
}

/// Every published case (crates/settle/tests/cases), including those paying critical-illness,
/// large-expense, civil-servant and assistance funds and the personal account: the identities
/// hold on what is emitted.
#[test]
fn identities_hold_for_every_published_case() {
    let dir = repo().join("crates/settle/tests/cases");
    let catalog = catalog();
    let mut seen = 0;
    let mut fields_paid = std::collections::BTreeSet::new();
    let mut entries: Vec<_> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path()).collect();
    entries.sort();
    for path in entries
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
    {
        let case: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        let policy = policy(case["policy"].as_str().unwrap());
        let person: Person = serde_json::from_value(case["person"].clone()).unwrap();
        let visit: Visit = serde_json::from_value(case["visit"].clone()).unwrap();
        let ytd: YearToDate = match case.get("ytd") {
            Some(v) => serde_json::from_value(v.clone()).unwrap(),
            None => YearToDate::new(policy.insurance_year(visit.begin_date)),
        };
        let balance = Money::parse_yuan(case["account_balance"].as_str().unwrap()).unwrap();
        let settlement = pre_settle(&SettleInput {
            policy: &policy,
            catalog: &catalog,
            person: &person,
            ytd: &ytd,
            account_balance: balance,
            family_account_balance: Money::ZERO,
            visit: &visit,
        })
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let info = setlinfo(&settlement, &context(&person, &visit));
        check_identities(&info, &settlement);
        let a = SetlAmounts::of(&settlement);
        for (name, value) in [
            ("hifp_pay", a.hifp_pay),
            ("hifmi_pay", a.hifmi_pay),
            ("hifob_pay", a.hifob_pay),
            ("cvlserv_pay", a.cvlserv_pay),
            ("maf_pay", a.maf_pay),
            ("acct_pay", a.acct_pay),
        ] {
            if !value.is_zero() {
                fields_paid.insert(name);
            }
        }
        seen += 1;
    }
    assert!(seen >= 10, "only {seen} cases found");
    // The cases do reach beyond the pooled fund, so the mapping is exercised.
    for field in ["hifp_pay", "hifmi_pay", "maf_pay", "acct_pay"] {
        assert!(fields_paid.contains(field), "no case pays {field}: {fields_paid:?}");
    }
}
